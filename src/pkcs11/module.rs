//! Loading a PKCS#11 module (the token vendor's shared library) at run time, once per process.
//!
//! graphd links no PKCS#11 library: the module is opened with `dlopen` (through `cryptoki`)
//! only when a `pkcs11:` key is used, so graphd builds and runs where none is installed.
//! `C_Initialize` and `C_Finalize` are process-wide for a module, so every user of one module
//! shares one loaded copy here, and the last one to let go finalizes it
//! (PKCS#11 v2.40 base §5.4). This module never logs in and never sees a PIN.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};

use super::ckr_name;
use crate::error::{Error, KNOWN_MODULES, Pkcs11Problem, Result};

/// The modules loaded in this process, with how many holders each has.
static LOADED: Mutex<Vec<Loaded>> = Mutex::new(Vec::new());

struct Loaded {
    path: PathBuf,
    ctx: Pkcs11,
    holders: usize,
    /// Whether graphd called `C_Initialize` (and so must call `C_Finalize`).
    initialized_here: bool,
}

/// One holder's handle on a loaded and initialized module; finalized after the last drops.
#[derive(Debug)]
pub struct Module {
    ctx: Pkcs11,
    /// As the user gave it, for messages.
    path: PathBuf,
    /// The key of `LOADED`.
    canonical: PathBuf,
}

impl Module {
    /// Loads and initializes the module at `path`, or joins the copy already loaded.
    pub fn open(path: &Path) -> Result<Module> {
        let problem = |p| Error::Pkcs11(p);
        // A path, never a bare name: dlopen would search the library path for one.
        let canonical = std::fs::canonicalize(path).map_err(|_| {
            problem(Pkcs11Problem::ModuleNotFound {
                path: path.to_path_buf(),
                found: installed_modules(),
            })
        })?;
        if !canonical.is_file() {
            return Err(problem(Pkcs11Problem::NotAModule {
                path: path.to_path_buf(),
                reason: "it is not a file".into(),
            }));
        }
        let mut loaded = LOADED
            .lock()
            .map_err(|_| Error::Internal("the PKCS#11 module list was poisoned".into()))?;
        if let Some(l) = loaded.iter_mut().find(|l| l.path == canonical) {
            l.holders += 1;
            return Ok(Module {
                ctx: l.ctx.clone(),
                path: path.to_path_buf(),
                canonical,
            });
        }
        let ctx = Pkcs11::new(&canonical).map_err(|e| {
            let reason = match e {
                CkError::LibraryLoading(e) => loader_reason(&e.to_string(), &canonical),
                CkError::MissingSymbol(s) => format!("it exports no {s}"),
                other => other.to_string(),
            };
            problem(Pkcs11Problem::NotAModule {
                path: path.to_path_buf(),
                reason,
            })
        })?;
        let initialized_here = initialize(&ctx).map_err(|rv| {
            problem(Pkcs11Problem::ModuleFailed {
                path: path.to_path_buf(),
                during: "to initialize (C_Initialize)",
                rv,
            })
        })?;
        crate::messages::trace(&format!(
            "pkcs11: loaded module {}{}",
            canonical.display(),
            ctx.get_library_info()
                .map(|i| format!(
                    " ({} {}, {})",
                    i.manufacturer_id(),
                    i.library_version(),
                    i.library_description()
                ))
                .unwrap_or_default()
        ));
        loaded.push(Loaded {
            path: canonical.clone(),
            ctx: ctx.clone(),
            holders: 1,
            initialized_here,
        });
        Ok(Module {
            ctx,
            path: path.to_path_buf(),
            canonical,
        })
    }

    /// Another holder of this loaded module (a second session on one of its tokens).
    pub fn share(&self) -> Result<Module> {
        let mut loaded = LOADED
            .lock()
            .map_err(|_| Error::Internal("the PKCS#11 module list was poisoned".into()))?;
        let l = loaded
            .iter_mut()
            .find(|l| l.path == self.canonical)
            .ok_or_else(|| Error::Internal("a held PKCS#11 module is not loaded".into()))?;
        l.holders += 1;
        Ok(Module {
            ctx: l.ctx.clone(),
            path: self.path.clone(),
            canonical: self.canonical.clone(),
        })
    }

    pub fn ctx(&self) -> &Pkcs11 {
        &self.ctx
    }

    /// The module file, as the user gave it.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Module {
    fn drop(&mut self) {
        let Ok(mut loaded) = LOADED.lock() else {
            return;
        };
        let Some(i) = loaded.iter().position(|l| l.path == self.canonical) else {
            return;
        };
        loaded[i].holders -= 1;
        if loaded[i].holders == 0 {
            let last = loaded.remove(i);
            if last.initialized_here {
                // Under the lock: a new holder cannot initialize the module meanwhile.
                let _ = last.ctx.finalize();
                crate::messages::trace(&format!(
                    "pkcs11: finalized module {}",
                    last.path.display()
                ));
            }
        }
    }
}

/// `C_Initialize` with OS locking (graphd may sign from several threads), or without when the
/// module cannot lock. `Ok(false)` when something else in this process initialized it.
fn initialize(ctx: &Pkcs11) -> std::result::Result<bool, String> {
    let attempt = |flags| ctx.initialize(CInitializeArgs::new(flags));
    match attempt(CInitializeFlags::OS_LOCKING_OK) {
        Ok(()) => Ok(true),
        Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => Ok(false),
        Err(CkError::Pkcs11(RvError::CantLock, _)) => match attempt(CInitializeFlags::empty()) {
            Ok(()) => Ok(true),
            Err(e) => Err(error_name(&e)),
        },
        Err(e) => Err(error_name(&e)),
    }
}

/// A `cryptoki` error as its `CKR_*` name, or its own words when it is not a return value.
pub fn error_name(e: &CkError) -> String {
    match e {
        CkError::Pkcs11(rv, _) => ckr_name(rv),
        other => other.to_string(),
    }
}

/// `dlopen`'s reason, without the path it repeats.
fn loader_reason(text: &str, path: &Path) -> String {
    let shown = path.display().to_string();
    let text = text.replace(&format!("{shown}: "), "");
    if text.contains("invalid ELF header") || text.contains("file too short") {
        "it is not a shared library".into()
    } else {
        text
    }
}

/// The usual modules that exist on this machine, for hints.
pub fn installed_modules() -> Vec<PathBuf> {
    KNOWN_MODULES
        .iter()
        .map(|(_, p)| PathBuf::from(p))
        .filter(|p| p.is_file())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_and_foreign_files_are_told_apart() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("libnothing.so");
        match Module::open(&missing) {
            Err(Error::Pkcs11(Pkcs11Problem::ModuleNotFound { path, .. })) => {
                assert_eq!(path, missing)
            }
            other => panic!("{other:?}"),
        }
        let text = dir.path().join("libtext.so");
        std::fs::write(&text, "not a library").unwrap();
        match Module::open(&text) {
            Err(Error::Pkcs11(Pkcs11Problem::NotAModule { reason, .. })) => {
                assert_eq!(reason, "it is not a shared library")
            }
            other => panic!("{other:?}"),
        }
        match Module::open(dir.path()) {
            Err(Error::Pkcs11(Pkcs11Problem::NotAModule { reason, .. })) => {
                assert_eq!(reason, "it is not a file")
            }
            other => panic!("{other:?}"),
        }
    }
}
