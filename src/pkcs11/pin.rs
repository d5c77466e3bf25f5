//! Where the token's user PIN comes from, read once, only when the token asks for a login.
//!
//! Sources, most specific first: `--pin-file`, `--pin-stdin`, the URI's `pin-source=file:`,
//! `GRAPHD_PKCS11_PIN`, the config file's `pin_file`, then a no-echo prompt on the terminal.
//! Never argv (`pin-value=` is refused when the URI is parsed). The PIN is read into zeroizing
//! memory, handed to `C_Login` and dropped; it is never kept, logged or put in an error.

use std::io::{IsTerminal, Read};
use std::path::PathBuf;

use zeroize::Zeroizing;

use crate::error::{Error, FileProblem, Pkcs11Problem, Result};
use crate::fileio;
use crate::secret::Pin;

/// The environment variable graphd reads a token's user PIN from.
pub const PIN_ENV: &str = "GRAPHD_PKCS11_PIN";

/// PINs are short; anything larger is not a PIN file.
const MAX_PIN_FILE: u64 = 4096;

/// Where the PIN will come from; nothing is read until [`PinSource::read`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PinSource {
    /// A file; `via` says who named it (`--pin-file`, `pin-source`, the config's `pin_file`).
    File {
        path: PathBuf,
        via: &'static str,
    },
    Stdin,
    Env,
    Prompt,
    /// No way to get one: a token that needs a login fails with a hint.
    Nothing,
}

impl PinSource {
    /// Picks the source: the flags, then the URI's `pin-source`, the environment, the config
    /// file, a terminal.
    pub fn choose(
        flag_file: Option<PathBuf>,
        stdin: bool,
        uri_file: Option<PathBuf>,
        config_file: Option<PathBuf>,
    ) -> PinSource {
        if let Some(path) = flag_file {
            PinSource::File {
                path,
                via: "--pin-file",
            }
        } else if stdin {
            PinSource::Stdin
        } else if let Some(path) = uri_file {
            PinSource::File {
                path,
                via: "pin-source",
            }
        } else if std::env::var_os(PIN_ENV).is_some() {
            PinSource::Env
        } else if let Some(path) = config_file {
            PinSource::File {
                path,
                via: "the config's pin_file",
            }
        } else if std::io::stdin().is_terminal() {
            PinSource::Prompt
        } else {
            PinSource::Nothing
        }
    }

    /// Where the PIN came from, for messages: `from --pin-file pin.txt`.
    pub fn describe(&self) -> String {
        match self {
            PinSource::File { path, via } => format!("from {via} {}", path.display()),
            PinSource::Stdin => "from stdin".into(),
            PinSource::Env => format!("from {PIN_ENV}"),
            PinSource::Prompt => "typed at the prompt".into(),
            PinSource::Nothing => "(none given)".into(),
        }
    }

    /// Reads the PIN for the token named `token`; `None` when there is no source.
    pub fn read(&self, token: &str) -> Result<Option<Pin>> {
        let input = |reason: String| {
            Error::Pkcs11(Pkcs11Problem::PinInput {
                from: self.describe(),
                reason,
            })
        };
        let bytes = match self {
            PinSource::Nothing => return Ok(None),
            PinSource::File { path, .. } => match fileio::read_bounded(path, MAX_PIN_FILE) {
                Ok(bytes) => bytes,
                Err(FileProblem::Empty) => Zeroizing::new(Vec::new()),
                Err(problem) => {
                    return Err(Error::Pkcs11(Pkcs11Problem::PinFile {
                        path: path.clone(),
                        problem,
                    }));
                }
            },
            PinSource::Stdin => {
                // Full capacity up front: growing would leave unwiped copies of the PIN.
                let mut bytes = Zeroizing::new(Vec::with_capacity(MAX_PIN_FILE as usize + 1));
                std::io::stdin()
                    .take(MAX_PIN_FILE)
                    .read_to_end(&mut bytes)
                    .map_err(|e| input(crate::error::io_reason(&e)))?;
                bytes
            }
            PinSource::Env => {
                let v = std::env::var_os(PIN_ENV).unwrap_or_default();
                Zeroizing::new(v.into_encoded_bytes())
            }
            PinSource::Prompt => {
                crate::password::prompt_on_tty(&format!("PIN for token {token}: "))
                    .map_err(|e| input(crate::error::io_reason(&e)))?
            }
        };
        Ok(Some(Pin::new(trimmed(bytes))))
    }
}

/// Without one trailing newline (files and `echo` add one), in zeroizing memory.
fn trimmed(bytes: Zeroizing<Vec<u8>>) -> Zeroizing<Vec<u8>> {
    let end = if bytes.ends_with(b"\r\n") {
        bytes.len() - 2
    } else if bytes.ends_with(b"\n") {
        bytes.len() - 1
    } else {
        return bytes;
    };
    // Sized once: the copy never reallocates; the original is wiped when dropped.
    let mut out = Zeroizing::new(Vec::with_capacity(end));
    out.extend_from_slice(&bytes[..end]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_trailing_newline_is_dropped() {
        let t = |b: &[u8]| trimmed(Zeroizing::new(b.to_vec())).to_vec();
        assert_eq!(t(b"1234\n"), b"1234");
        assert_eq!(t(b"1234\r\n"), b"1234");
        assert_eq!(t(b"1234\n\n"), b"1234\n");
        assert_eq!(t(b" 12 "), b" 12 ");
    }

    #[test]
    fn flags_come_first_and_files_are_read_once_asked() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("pin");
        std::fs::write(&f, "4321\n").unwrap();
        let uri = Some(dir.path().join("uri-pin"));
        let s = PinSource::choose(Some(f.clone()), true, uri.clone(), None);
        assert!(matches!(
            &s,
            PinSource::File {
                via: "--pin-file",
                ..
            }
        ));
        assert_eq!(s.read("'t'").unwrap().unwrap().expose_secret(), b"4321");
        assert_eq!(
            PinSource::choose(None, true, uri.clone(), None),
            PinSource::Stdin
        );
        let s = PinSource::choose(None, false, uri, None);
        assert!(s.describe().starts_with("from pin-source "));
        match s.read("'t'") {
            Err(Error::Pkcs11(Pkcs11Problem::PinFile { problem, .. })) => {
                assert_eq!(problem, FileProblem::NotFound)
            }
            other => panic!("{other:?}"),
        }
        assert!(PinSource::Nothing.read("'t'").unwrap().is_none());
    }
}
