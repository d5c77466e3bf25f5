//! In-process hooks for tests and embedders: code of the host process run at a point of the
//! emulator's work, on the emulator's thread. A hook must not block for long; it never sees a
//! token.

use std::sync::{Arc, Mutex};

type TokenIssued = Arc<dyn Fn(u64) + Send + Sync>;

/// The hooks of one emulator.
#[derive(Default)]
pub struct Hooks {
    token_issued: Mutex<Option<TokenIssued>>,
}

impl Hooks {
    /// Runs the token-issued hook, if any, with the number of tokens issued so far.
    pub fn token_issued(&self, n: u64) {
        let hook = self.token_issued.lock().ok().and_then(|h| h.clone());
        if let Some(hook) = hook {
            hook(n);
        }
    }

    /// Sets (replaces) the token-issued hook.
    pub fn set_token_issued(&self, hook: TokenIssued) {
        if let Ok(mut h) = self.token_issued.lock() {
            *h = Some(hook);
        }
    }
}
