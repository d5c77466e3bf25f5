//! `Retry-After` values: delta-seconds (integer or fractional) or an HTTP-date, at any clock.
#![no_main]

use std::time::{Duration, UNIX_EPOCH};

use graphd::http::{self, MAX_RETRY_AFTER};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((clock, value)) = data.split_first_chunk::<8>() else {
        return;
    };
    // Any instant from 1970 to about year 36800 (past httpdate's year 9999).
    let secs = u64::from_le_bytes(*clock) % (1 << 40);
    let Some(now) = UNIX_EPOCH.checked_add(Duration::from_secs(secs)) else {
        return;
    };
    let Ok(value) = std::str::from_utf8(value) else {
        return;
    };
    if let Some(wait) = http::parse_retry_after(value, now) {
        assert!(wait <= MAX_RETRY_AFTER, "{value:?} gave {wait:?}");
    }
});
