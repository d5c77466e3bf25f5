//! Everything graphd says on stderr besides the final error: warnings, progress, `-v` traces.
//!
//! The verbosity is process-global (set once in main from `-v` and `GRAPHD_LOG`), like
//! ripgrep's messages module: threading a logger through every call would buy nothing here.
//! Callers pass text that is already free of secrets; `redact_url` helps with URLs.

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU8, Ordering};

static VERBOSITY: AtomicU8 = AtomicU8::new(0);

/// Sets the verbosity from `-v` count and the `GRAPHD_LOG` environment variable.
pub fn init(flag_count: u8) {
    let env = std::env::var("GRAPHD_LOG").unwrap_or_default();
    let from_env = match env.trim().to_ascii_lowercase().as_str() {
        "" | "0" | "off" | "error" | "warn" => 0,
        "2" | "trace" => 2,
        _ => 1,
    };
    VERBOSITY.store(flag_count.max(from_env), Ordering::Relaxed);
}

pub fn verbose() -> bool {
    VERBOSITY.load(Ordering::Relaxed) > 0
}

/// `graphd: warning: ...` on stderr.
pub fn warn(message: &str) {
    eprintln!("graphd: warning: {message}");
}

/// [`warn`], at most once per process for the same `message` (a file read twice, by the
/// certificate peek and the full load, is warned about once).
pub fn warn_once(message: &str) {
    static SAID: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());
    let first = SAID
        .lock()
        .map(|mut said| said.insert(message.to_string()))
        .unwrap_or(true);
    if first {
        warn(message);
    }
}

/// A plain line on stderr (progress, next steps).
pub fn info(message: &str) {
    eprintln!("{message}");
}

/// A `-v` diagnostic line on stderr.
pub fn trace(message: &str) {
    if verbose() {
        eprintln!("graphd: {message}");
    }
}

/// A URL as it may be logged: scheme, host, port and path; the query (which can carry a
/// `$skiptoken` or other request data) is replaced by `?...`.
pub fn redact_url(url: &url::Url) -> String {
    let mut out = format!("{}://{}", url.scheme(), url.host_str().unwrap_or(""));
    if let Some(port) = url.port() {
        out.push_str(&format!(":{port}"));
    }
    out.push_str(url.path());
    if url.query().is_some() {
        out.push_str("?...");
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn redacts_queries() {
        let u =
            url::Url::parse("https://graph.microsoft.com/v1.0/users?$skiptoken=SECRET").unwrap();
        assert_eq!(
            super::redact_url(&u),
            "https://graph.microsoft.com/v1.0/users?..."
        );
    }
}
