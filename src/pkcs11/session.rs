//! One token, one session, at most one login per process.
//!
//! [`Token::open`] picks the token an RFC 7512 URI names (label, serial, model, manufacturer,
//! slot, library) and opens one session on it; every later operation reuses that session.
//! [`Token::login`] logs in once, with the PIN read from its source at that moment and dropped
//! right after `C_Login`; a wrong PIN is never tried again (tokens lock after a few), and the
//! error says what the token's PIN flags report. Dropping the token logs out and closes the
//! session; the module is finalized when its last user goes (`module`).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use cryptoki::error::{Error as CkError, RvError};
use cryptoki::session::{Session, SessionState, UserType};
use cryptoki::slot::{Slot, TokenInfo};
use cryptoki::types::RawAuthPin;

use super::module::{Module, error_name};
use super::pin::PinSource;
use super::uri::Uri;
use crate::error::{Error, PinFlags, Pkcs11Problem, Result};
use crate::messages;

static LOGINS: AtomicU64 = AtomicU64::new(0);

/// How many times this process called `C_Login` (right PIN or wrong): the promise is one.
pub fn logins() -> u64 {
    LOGINS.load(Ordering::Relaxed)
}

/// What identifies a token, read once when it is opened.
#[derive(Debug, Clone)]
pub struct TokenFacts {
    pub label: String,
    pub manufacturer: String,
    pub model: String,
    pub serial: String,
    pub slot_id: u64,
    pub slot_description: String,
}

impl TokenFacts {
    /// `'graphd'`, as messages name a token.
    pub fn name(&self) -> String {
        format!("'{}'", self.label)
    }

    /// `'graphd' (SoftHSM v2, serial 4fd4..., slot 3)`, for lists of tokens.
    fn listed(&self) -> String {
        format!(
            "'{}' ({}, serial {}, slot {})",
            self.label, self.model, self.serial, self.slot_id
        )
    }
}

/// An open session on one token. Fields drop in order: the session closes before the module
/// it belongs to is released.
#[derive(Debug)]
pub struct Token {
    session: Mutex<Session>,
    facts: TokenFacts,
    slot: Slot,
    logged_in: AtomicBool,
    module: Module,
}

impl Token {
    /// Opens a session on the one token `uri` names; read-write only when objects are created.
    pub fn open(module: Module, uri: &Uri, read_write: bool) -> Result<Token> {
        let ctx = module.ctx();
        let failed = |during, e: CkError| {
            Error::Pkcs11(Pkcs11Problem::ModuleFailed {
                path: module.path().to_path_buf(),
                during,
                rv: error_name(&e),
            })
        };
        let library = ctx
            .get_library_info()
            .map_err(|e| failed("to describe itself (C_GetInfo)", e))?;
        let library_matches = uri
            .library_manufacturer
            .as_ref()
            .is_none_or(|m| m == library.manufacturer_id())
            && uri
                .library_description
                .as_ref()
                .is_none_or(|d| d == library.library_description())
            && uri.library_version.is_none_or(|(major, minor)| {
                let v = library.library_version();
                v.major() == major && v.minor() == minor
            });
        let slots = ctx
            .get_slots_with_token()
            .map_err(|e| failed("to list its slots (C_GetSlotList)", e))?;
        let mut present = Vec::new();
        let mut matching = Vec::new();
        for slot in slots {
            let (Ok(info), Ok(slot_info)) = (ctx.get_token_info(slot), ctx.get_slot_info(slot))
            else {
                continue;
            };
            let facts = TokenFacts {
                label: info.label().to_string(),
                manufacturer: info.manufacturer_id().to_string(),
                model: info.model().to_string(),
                serial: info.serial_number().to_string(),
                slot_id: slot.id(),
                slot_description: slot_info.slot_description().to_string(),
            };
            let eq = |want: &Option<String>, have: &str| want.as_ref().is_none_or(|w| w == have);
            let matches = library_matches
                && info.token_initialized()
                && eq(&uri.token, &facts.label)
                && eq(&uri.manufacturer, &facts.manufacturer)
                && eq(&uri.model, &facts.model)
                && eq(&uri.serial, &facts.serial)
                && eq(&uri.slot_description, &facts.slot_description)
                && eq(&uri.slot_manufacturer, slot_info.manufacturer_id())
                && uri.slot_id.is_none_or(|id| id == facts.slot_id);
            if info.token_initialized() {
                present.push(facts.listed());
            }
            if matches {
                matching.push((slot, facts));
            }
        }
        let wanted = uri.to_string();
        let (slot, facts) = match matching.len() {
            1 => matching.remove(0),
            0 => {
                return Err(Error::Pkcs11(Pkcs11Problem::TokenNotFound {
                    wanted,
                    present,
                }));
            }
            _ => {
                return Err(Error::Pkcs11(Pkcs11Problem::SeveralTokens {
                    wanted,
                    matching: matching.iter().map(|(_, f)| f.listed()).collect(),
                }));
            }
        };
        let session = if read_write {
            ctx.open_rw_session(slot)
        } else {
            ctx.open_ro_session(slot)
        }
        .map_err(|e| token_error(&facts, "opening a session", &e))?;
        messages::trace(&format!(
            "pkcs11: opened a session on token {}",
            facts.listed()
        ));
        Ok(Token {
            session: Mutex::new(session),
            facts,
            slot,
            logged_in: AtomicBool::new(false),
            module,
        })
    }

    /// A read-write session on this same token, for creating and renaming objects. PKCS#11
    /// login state belongs to the application, not the session (docs/protocol.md#pkcs11): once
    /// this token is logged in, so is the new session, and [`Token::login`] on it asks for no
    /// PIN.
    pub fn beside_read_write(&self) -> Result<Token> {
        let module = self.module.share()?;
        let session = module
            .ctx()
            .open_rw_session(self.slot)
            .map_err(|e| self.error("opening a read-write session", &e))?;
        Ok(Token {
            session: Mutex::new(session),
            facts: self.facts.clone(),
            slot: self.slot,
            logged_in: AtomicBool::new(false),
            module,
        })
    }

    /// Whether the token says it cannot be written to (`CKF_WRITE_PROTECTED`).
    pub fn write_protected(&self) -> Result<bool> {
        Ok(self.info()?.write_protected())
    }

    pub fn facts(&self) -> &TokenFacts {
        &self.facts
    }

    /// `'graphd'`.
    pub fn name(&self) -> String {
        self.facts.name()
    }

    /// The one session, for one operation at a time.
    pub fn session(&self) -> Result<MutexGuard<'_, Session>> {
        self.session
            .lock()
            .map_err(|_| Error::Internal("the PKCS#11 session was poisoned".into()))
    }

    pub fn module(&self) -> &Module {
        &self.module
    }

    pub fn slot(&self) -> Slot {
        self.slot
    }

    /// A failed call on this token, as an error.
    pub fn error(&self, during: &'static str, e: &CkError) -> Error {
        token_error(&self.facts, during, e)
    }

    fn info(&self) -> Result<TokenInfo> {
        self.module
            .ctx()
            .get_token_info(self.slot)
            .map_err(|e| self.error("describing itself (C_GetTokenInfo)", &e))
    }

    /// Logs the user in, once per process, if the token wants a login at all.
    pub fn login(&self, pins: &PinSource) -> Result<()> {
        if self.logged_in.load(Ordering::Acquire) {
            return Ok(());
        }
        let info = self.info()?;
        if !info.login_required() {
            return Ok(());
        }
        let token = self.name();
        // Login state belongs to the application, not the session: another session of this
        // process (a second identity on the same token) may have logged in already.
        let state = self
            .session()?
            .get_session_info()
            .map_err(|e| self.error("describing the session (C_GetSessionInfo)", &e))?
            .session_state();
        if matches!(state, SessionState::RoUser | SessionState::RwUser) {
            // Not ours to log out of, either.
            return Ok(());
        }
        if info.user_pin_locked() {
            return Err(Error::Pkcs11(Pkcs11Problem::PinLocked { token }));
        }
        let session = self.session()?;
        let result = if info.protected_authentication_path() {
            messages::info(&format!(
                "enter the PIN of token {token} on its reader's PIN pad"
            ));
            LOGINS.fetch_add(1, Ordering::Relaxed);
            session.login(UserType::User, None)
        } else {
            let Some(pin) = pins.read(&token)? else {
                return Err(Error::Pkcs11(Pkcs11Problem::PinMissing { token }));
            };
            let (min, max) = (info.min_pin_length(), info.max_pin_length());
            let len = pin.expose_secret().len();
            if min <= max && max > 0 && !(min..=max).contains(&len) {
                return Err(Error::Pkcs11(Pkcs11Problem::PinLength {
                    token,
                    from: pins.describe(),
                    len,
                    min,
                    max,
                }));
            }
            if info.user_pin_final_try() {
                messages::warn(&format!(
                    "token {token} reports that one more wrong PIN locks it (CKF_USER_PIN_FINAL_TRY)"
                ));
            }
            messages::trace(&format!(
                "pkcs11: logging in to token {token} with the PIN {}",
                pins.describe()
            ));
            // Copied once into the module's zeroizing box; both copies are wiped on drop,
            // right after C_Login.
            let raw = RawAuthPin::init_with_mut(|v: &mut Vec<u8>| {
                v.extend_from_slice(pin.expose_secret());
            });
            drop(pin);
            LOGINS.fetch_add(1, Ordering::Relaxed);
            session.login_with_raw(UserType::User, &raw)
        };
        drop(session);
        match result {
            Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => {
                self.logged_in.store(true, Ordering::Release);
                Ok(())
            }
            Err(CkError::Pkcs11(
                RvError::PinIncorrect | RvError::PinInvalid | RvError::PinLenRange,
                _,
            )) => {
                let flags = self.info().map(|i| pin_flags(&i)).unwrap_or_default();
                Err(Error::Pkcs11(Pkcs11Problem::WrongPin {
                    token,
                    from: pins.describe(),
                    flags,
                }))
            }
            Err(CkError::Pkcs11(RvError::PinLocked, _)) => {
                Err(Error::Pkcs11(Pkcs11Problem::PinLocked { token }))
            }
            Err(CkError::Pkcs11(RvError::PinExpired, _)) => {
                Err(Error::Pkcs11(Pkcs11Problem::PinExpired { token }))
            }
            Err(e) => Err(self.error("logging in", &e)),
        }
    }
}

impl Drop for Token {
    fn drop(&mut self) {
        if self.logged_in.load(Ordering::Acquire) {
            if let Ok(session) = self.session.lock() {
                let _ = session.logout();
            }
            messages::trace(&format!(
                "pkcs11: logged out of token {} ({} login(s) in this process)",
                self.name(),
                logins()
            ));
        }
    }
}

fn pin_flags(info: &TokenInfo) -> PinFlags {
    PinFlags {
        count_low: info.user_pin_count_low(),
        final_try: info.user_pin_final_try(),
        locked: info.user_pin_locked(),
    }
}

fn token_error(facts: &TokenFacts, during: &'static str, e: &CkError) -> Error {
    Error::Pkcs11(Pkcs11Problem::Token {
        token: facts.name(),
        during,
        rv: error_name(e),
    })
}
