//! Where the password of an encrypted key or PFX comes from, read only when a file needs one.
//!
//! Sources, most specific first: `--password-file`, `--password-stdin`, the
//! `AZURE_CLIENT_CERTIFICATE_PASSWORD` environment variable, then a no-echo prompt when stdin
//! is a terminal. Never argv: every user of the machine can read a process's arguments.

use std::fs::OpenOptions;
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::error::{
    ConfigProblem, CredentialProblem, Encrypted, Error, FileProblem, NewPasswordProblem, Result,
};
use crate::fileio;
use crate::secret::Password;

/// The environment variable the Azure SDKs read the certificate password from.
pub const PASSWORD_ENV: &str = "AZURE_CLIENT_CERTIFICATE_PASSWORD";

const MAX_PASSWORD_FILE: u64 = 64 * 1024;

#[derive(Debug)]
enum Origin {
    File(PathBuf),
    Stdin,
    Env,
    Prompt,
    Nothing,
}

/// A lazily read password, asked for at most once per process.
#[derive(Debug)]
pub struct PasswordSource {
    origin: Origin,
    value: Option<Password>,
    /// The password file and its mode, when other users can read it: warned about once the
    /// password was accepted (an unusable one is an error, not also a warning).
    exposed: Option<(PathBuf, u32)>,
}

impl PasswordSource {
    /// Picks the source from the flags and the environment; reads nothing yet.
    pub fn new(file: Option<PathBuf>, stdin: bool) -> Self {
        let origin = if let Some(path) = file {
            Origin::File(path)
        } else if stdin {
            Origin::Stdin
        } else if std::env::var_os(PASSWORD_ENV).is_some() {
            Origin::Env
        } else if std::io::stdin().is_terminal() {
            Origin::Prompt
        } else {
            Origin::Nothing
        };
        PasswordSource {
            origin,
            value: None,
            exposed: None,
        }
    }

    /// A source that holds this password (the emulator, tests, gen-cert's second use).
    pub fn fixed(password: Password) -> Self {
        PasswordSource {
            origin: Origin::Nothing,
            value: Some(password),
            exposed: None,
        }
    }

    /// No password at all: encrypted files fail with "no password was given".
    pub fn none() -> Self {
        PasswordSource {
            origin: Origin::Nothing,
            value: None,
            exposed: None,
        }
    }

    /// The same source once more, for a second file under the same password (`graphd rotate`
    /// encrypts the new key with the old key's password): the file is read again, the
    /// environment too, a terminal is asked again. `None` for stdin, which cannot be read
    /// twice, unless it has been read already.
    pub fn reopen(&self) -> Option<PasswordSource> {
        let origin = match &self.origin {
            Origin::File(path) => Origin::File(path.clone()),
            Origin::Stdin if self.value.is_none() => return None,
            Origin::Stdin | Origin::Nothing => Origin::Nothing,
            Origin::Env => Origin::Env,
            Origin::Prompt => Origin::Prompt,
        };
        Some(PasswordSource {
            origin,
            value: self.value.clone(),
            // Warned about once already, when it was first read.
            exposed: None,
        })
    }

    /// Whether a password was supplied without prompting (file, stdin, environment).
    pub fn supplied(&self) -> bool {
        self.value.is_some() || matches!(self.origin, Origin::File(_) | Origin::Stdin | Origin::Env)
    }

    /// The password for `what` in `path`, reading or prompting for it on first use;
    /// `None` when there is no way to get one.
    pub fn get(&mut self, what: Encrypted, path: &Path) -> Result<Option<Password>> {
        self.obtain(|| prompt(&format!("Password for the {what} {}: ", path.display())))
    }

    /// Says the password opened what it was asked for: the moment to warn (once) that the
    /// password file can be read by other users. (A password that fails gets its error
    /// alone.)
    pub fn accepted(&mut self) {
        self.warn_if_exposed();
    }

    /// Warns (once) that the password file can be read by other users.
    fn warn_if_exposed(&mut self) {
        if let Some((path, mode)) = self.exposed.take() {
            warn_readable_by_others(&path, mode);
        }
    }

    /// A password for files graphd is about to encrypt (`gen-cert`), named by `target` in the
    /// prompt: as [`get`](Self::get), but a prompt asks twice to catch a typo, and an empty
    /// password is refused.
    pub fn get_new(&mut self, target: &str) -> Result<Option<Password>> {
        let value = self.obtain(|| {
            let first = prompt(&format!("New password for {target}: "))?;
            let again = prompt(&format!("Repeat the password for {target}: "))?;
            if first.expose_secret() != again.expose_secret() {
                return Err(Error::Config(ConfigProblem::NewPassword(
                    NewPasswordProblem::Differ,
                )));
            }
            Ok(first)
        })?;
        if value.as_ref().is_some_and(|p| p.expose_secret().is_empty()) {
            return Err(Error::Config(ConfigProblem::NewPassword(
                NewPasswordProblem::Empty,
            )));
        }
        self.warn_if_exposed();
        Ok(value)
    }

    /// Reads the password from its source on first use; `ask` runs only for a prompt.
    fn obtain(&mut self, ask: impl FnOnce() -> Result<Password>) -> Result<Option<Password>> {
        if let Some(v) = &self.value {
            return Ok(Some(v.clone()));
        }
        let value = match &self.origin {
            Origin::Nothing => return Ok(None),
            Origin::File(file) => match fileio::read_bounded_file(file, MAX_PASSWORD_FILE) {
                Ok(read) => {
                    if read.readable_by_others() {
                        self.exposed = Some((file.clone(), read.mode));
                    }
                    Some(to_password(&read.bytes, Some(file))?)
                }
                // `: > pw.txt` is how one writes down an empty password.
                Err(FileProblem::Empty) => Some(Password::new(String::new())),
                // Said as a password-file problem, so the hint names --password-file.
                Err(problem) => {
                    return Err(Error::credential(
                        Some(file),
                        CredentialProblem::PasswordFile(problem),
                    ));
                }
            },
            Origin::Stdin => {
                // Full capacity up front: growing would leave unwiped copies of the password.
                let mut bytes = Zeroizing::new(Vec::with_capacity(MAX_PASSWORD_FILE as usize + 1));
                std::io::stdin()
                    .take(MAX_PASSWORD_FILE)
                    .read_to_end(&mut bytes)
                    .map_err(|e| {
                        Error::Config(ConfigProblem::PasswordInput {
                            from: "stdin",
                            reason: crate::error::io_reason(&e),
                        })
                    })?;
                Some(to_password(&bytes, None)?)
            }
            Origin::Env => {
                let v = std::env::var_os(PASSWORD_ENV).unwrap_or_default();
                let bytes = Zeroizing::new(v.into_encoded_bytes());
                Some(to_password(&bytes, None)?)
            }
            Origin::Prompt => Some(ask()?),
        };
        self.value = value.clone();
        Ok(value)
    }
}

/// Warns that the password file `path` can be read by other users (`mode`, from the file
/// read): the password protects nothing from them then.
fn warn_readable_by_others(path: &Path, mode: u32) {
    crate::messages::warn_once(&format!(
        "password file {} can be read by other users (mode {mode:04o}), and so can the key it \
         protects: chmod 600 {}",
        path.display(),
        crate::safe_text::shell_word(&path.display().to_string())
    ));
}

/// Asks on the terminal without echo.
fn prompt(text: &str) -> Result<Password> {
    let typed = prompt_on_tty(text).map_err(|e| {
        Error::Config(ConfigProblem::PasswordInput {
            from: "the terminal",
            reason: crate::error::io_reason(&e),
        })
    })?;
    to_password(&typed, None)
}

/// Asks for a password on the controlling terminal, turning echo off *before* the prompt
/// is shown, as OpenSSH's readpassphrase does: whatever is typed once the prompt is visible
/// is never echoed. (rpassword shows the prompt first, then turns echo off, which leaves a
/// window in which a fast typist's or a script's input is echoed.)
pub(crate) fn prompt_on_tty(prompt: &str) -> std::io::Result<Zeroizing<Vec<u8>>> {
    use rustix::termios::{self, LocalModes, OptionalActions};
    let mut tty = OpenOptions::new().read(true).write(true).open("/dev/tty")?;
    let original = termios::tcgetattr(&tty)?;
    let mut quiet = original.clone();
    quiet.local_modes.remove(LocalModes::ECHO);
    // The user's Enter still moves to the next line.
    quiet.local_modes.insert(LocalModes::ECHONL);
    termios::tcsetattr(&tty, OptionalActions::Now, &quiet)?;
    let typed = tty
        .write_all(prompt.as_bytes())
        .and_then(|()| tty.flush())
        .and_then(|()| read_line(&mut tty));
    // Restore echo whatever happened while reading.
    let restored = termios::tcsetattr(&tty, OptionalActions::Now, &original);
    let typed = typed?;
    restored?;
    Ok(typed)
}

/// One line, without its line ending, into memory that never reallocates (each
/// reallocation would leave an unwiped copy of the password).
fn read_line(input: &mut impl Read) -> std::io::Result<Zeroizing<Vec<u8>>> {
    let mut line = Zeroizing::new(Vec::with_capacity(MAX_PASSWORD_FILE as usize));
    let mut byte = Zeroizing::new([0u8; 1]);
    while input.read(&mut *byte)? == 1 && byte[0] != b'\n' {
        if line.len() == line.capacity() {
            return Err(std::io::Error::other("the password is too long"));
        }
        line.push(byte[0]);
    }
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    Ok(line)
}

/// Strips one trailing newline (files and `echo` add one) and checks the text is usable.
fn to_password(bytes: &[u8], file: Option<&Path>) -> Result<Password> {
    let trimmed = bytes
        .strip_suffix(b"\r\n")
        .or_else(|| bytes.strip_suffix(b"\n"))
        .unwrap_or(bytes);
    // OpenSSL takes C strings: a NUL would truncate the password (and panic in the binding).
    if trimmed.contains(&0) {
        return Err(Error::credential(file, CredentialProblem::NotUtf8Password));
    }
    let text = std::str::from_utf8(trimmed)
        .map_err(|_| Error::credential(file, CredentialProblem::NotUtf8Password))?;
    Ok(Password::new(text.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_one_trailing_newline_only() {
        assert_eq!(to_password(b"pw\n", None).unwrap().expose_secret(), "pw");
        assert_eq!(to_password(b"pw\r\n", None).unwrap().expose_secret(), "pw");
        assert_eq!(
            to_password(b"pw\n\n", None).unwrap().expose_secret(),
            "pw\n"
        );
        assert_eq!(to_password(b" pw ", None).unwrap().expose_secret(), " pw ");
        assert!(to_password(b"p\0w", None).is_err());
        assert!(to_password(&[0xff, 0xfe], None).is_err());
    }

    #[test]
    fn password_file_problems_are_said_as_such() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing");
        let mut src = PasswordSource::new(Some(missing.clone()), false);
        let e = src.get(Encrypted::Pfx, Path::new("x.pfx")).unwrap_err();
        match &e {
            Error::Credential { path, problem } => {
                assert_eq!(path.as_deref(), Some(missing.as_path()));
                assert_eq!(
                    problem,
                    &CredentialProblem::PasswordFile(FileProblem::NotFound)
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(e.hint().unwrap().contains("--password-file"));
        let empty = dir.path().join("empty");
        std::fs::write(&empty, "").unwrap();
        let mut src = PasswordSource::new(Some(empty), false);
        let p = src
            .get(Encrypted::Pfx, Path::new("x.pfx"))
            .unwrap()
            .unwrap();
        assert_eq!(p.expose_secret(), "");
    }

    #[test]
    fn a_typed_line_ends_at_the_newline() {
        let mut input: &[u8] = b"p\xc3\xa4ss word\r\nnext line";
        assert_eq!(&*read_line(&mut input).unwrap(), "päss word".as_bytes());
        assert_eq!(input, b"next line", "nothing read past the line");
        let mut eof: &[u8] = b"no newline";
        assert_eq!(&*read_line(&mut eof).unwrap(), b"no newline");
        let long = vec![b'x'; MAX_PASSWORD_FILE as usize + 1];
        assert!(read_line(&mut long.as_slice()).is_err());
    }

    #[test]
    fn file_source_is_read_once() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("pw");
        std::fs::write(&f, "secret\n").unwrap();
        let mut src = PasswordSource::new(Some(f.clone()), false);
        assert!(src.supplied());
        let p = src
            .get(Encrypted::Pfx, Path::new("x.pfx"))
            .unwrap()
            .unwrap();
        assert_eq!(p.expose_secret(), "secret");
        std::fs::remove_file(&f).unwrap();
        assert!(
            src.get(Encrypted::Pfx, Path::new("x.pfx"))
                .unwrap()
                .is_some()
        );
    }

    #[test]
    fn a_reopened_source_gives_the_password_again_except_from_stdin() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("pw");
        std::fs::write(&f, "same\n").unwrap();
        let first = PasswordSource::new(Some(f.clone()), false);
        let mut again = first.reopen().unwrap();
        assert!(again.supplied());
        let p = again.get(Encrypted::Pfx, Path::new("new.pfx")).unwrap();
        assert_eq!(p.unwrap().expose_secret(), "same");
        assert!(PasswordSource::new(None, true).reopen().is_none());
        let fixed = PasswordSource::fixed(Password::new("kept".into()));
        let mut kept = fixed.reopen().unwrap();
        let p = kept.get(Encrypted::Pfx, Path::new("x.pfx")).unwrap();
        assert_eq!(p.unwrap().expose_secret(), "kept");
    }

    #[test]
    fn a_new_password_must_not_be_empty() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("pw");
        std::fs::write(&f, "\n").unwrap();
        let e = PasswordSource::new(Some(f.clone()), false)
            .get_new("key.pem")
            .unwrap_err();
        assert_eq!(e.exit_code(), 3);
        assert!(e.to_string().contains("empty"), "{e}");
        std::fs::write(&f, "new secret").unwrap();
        let p = PasswordSource::new(Some(f), false)
            .get_new("key.pem")
            .unwrap();
        assert_eq!(p.unwrap().expose_secret(), "new secret");
        assert!(PasswordSource::none().get_new("key.pem").unwrap().is_none());
    }
}
