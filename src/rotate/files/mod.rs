//! The credential files `graphd rotate` replaces, and how: never losing what the user has.
//!
//! The current files are read once at the start (their bytes become the backup, and tell
//! whether the file changed meanwhile). The new files are staged under temporary names in the
//! same directories before anything is sent to Graph, so a directory that cannot be written
//! is found while nothing has changed yet. Only after the new key has been proven are they
//! put in place: each current file is first copied to `NAME.previous-YYYY-MM-DD` (mode 0600,
//! never over an existing file), then the staged file is renamed over it atomically. A
//! symbolic link stays a link: its target is what gets replaced.
//!
//! This module never prints or logs file contents.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::credential::{CredentialSource, MAX_CREDENTIAL_FILE};
use crate::error::{
    CertFile, CredentialProblem, Encrypted, Error, Result, RotateCause, RotateProblem,
};
use crate::fileio::{self, Staged, dir_and_name};

mod replace;

/// How the current credential is laid out on disk; the new one is written the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// One PEM holding the key and its certificate (gen-cert's `key.pem`).
    Combined,
    /// `--cert CERT.pem` (certificates) and `--key KEY.pem`.
    Pair,
    /// One PKCS#12 file.
    Pfx,
    /// `--cert CERT.pem` alone: the key is in a PKCS#11 token.
    Certificate,
}

/// One current file: as the user named it, where it really is, what it holds.
struct OnDisk {
    shown: PathBuf,
    real: PathBuf,
    bytes: Zeroizing<Vec<u8>>,
    mode: u32,
    /// Whether it holds the private key (written 0600).
    private: bool,
}

/// The current credential files, read.
pub struct CredentialFiles {
    layout: Layout,
    /// Combined and Pfx: the one file; Pair: the certificate file, then the key file.
    files: Vec<OnDisk>,
    encrypted: bool,
}

/// The bytes of the new files, in the order of [`CredentialFiles`]'s files.
pub struct NewContents<'a> {
    pub files: Vec<&'a [u8]>,
}

/// The new files, staged next to the current ones.
pub struct StagedFiles {
    staged: Vec<Staged>,
    layout: Layout,
}

/// What [`StagedFiles::commit`] did: each replaced file and where its previous content is.
#[derive(Debug, Clone)]
pub struct Replaced {
    pub backups: Vec<(PathBuf, PathBuf)>,
}

fn unsupported(why: &str) -> RotateCause {
    RotateCause::Problem(RotateProblem::UnsupportedCredential { why: why.into() })
}

impl CredentialFiles {
    /// Reads the files `source` names; `kind` is what the `--cert` file was found to hold.
    pub fn read(source: &CredentialSource, kind: CertFile) -> Result<Self, RotateCause> {
        if source.thumbprint.is_some() {
            return Err(unsupported(
                "the configuration names the certificate by thumbprint only, so graphd has no certificate file to replace",
            ));
        }
        let key = source.key.as_ref().filter(|k| **k != source.cert);
        let (layout, paths) = match (kind, key) {
            (CertFile::PemWithKey, None) => (Layout::Combined, vec![(&source.cert, true)]),
            (CertFile::Pfx, None) => (Layout::Pfx, vec![(&source.cert, true)]),
            (CertFile::Certificates, Some(key)) => {
                (Layout::Pair, vec![(&source.cert, false), (key, true)])
            }
            (CertFile::Pfx, Some(_)) => {
                return Err(unsupported("a PFX given together with --key"));
            }
            (CertFile::PemWithKey, Some(_)) => {
                return Err(unsupported(
                    "--cert holds a private key and --key names another file",
                ));
            }
            (CertFile::Certificates, None) => {
                return Err(unsupported("the file holds no private key"));
            }
        };
        let mut files = Vec::with_capacity(paths.len());
        for (path, private) in paths {
            let file = OnDisk::read(path, private)?;
            // A directory that cannot take the new file is found before anything is sent.
            let (dir, name) = dir_and_name(&file.real);
            fileio::stage(dir, &name, b"", 0o600)
                .map_err(|e| RotateCause::Error(write_failed(path, "write next to", e)))?;
            files.push(file);
        }
        let encrypted = match layout {
            Layout::Pfx => true,
            Layout::Certificate => false,
            Layout::Combined | Layout::Pair => files
                .iter()
                .filter(|f| f.private)
                .any(|f| is_encrypted_pem(&f.bytes)),
        };
        Ok(CredentialFiles {
            layout,
            files,
            encrypted,
        })
    }

    /// Reads the certificate file of a key that lives in a token (`--cert FILE`).
    pub fn read_certificate(path: &Path) -> Result<Self, RotateCause> {
        let file = OnDisk::read(path, false)?;
        let (dir, name) = dir_and_name(&file.real);
        fileio::stage(dir, &name, b"", 0o600)
            .map_err(|e| RotateCause::Error(write_failed(path, "write next to", e)))?;
        Ok(CredentialFiles {
            layout: Layout::Certificate,
            files: vec![file],
            encrypted: false,
        })
    }

    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// The password the new file needs, if any: the same kind as the current one's.
    pub fn encryption(&self) -> Option<Encrypted> {
        match (self.layout, self.encrypted) {
            (Layout::Certificate, _) => None,
            (Layout::Pfx, _) => Some(Encrypted::Pfx),
            (_, true) => Some(Encrypted::Key),
            (_, false) => None,
        }
    }

    /// Whether the separate key file (`Pair`) holds its certificate too (gen-cert's key.pem
    /// given as `--key`): the new one does as well.
    pub fn key_file_holds_certificate(&self) -> bool {
        let has = |b: &[u8], n: &[u8]| b.windows(n.len()).any(|w| w == n);
        self.layout == Layout::Pair
            && self
                .files
                .iter()
                .any(|f| f.private && has(&f.bytes, b"-----BEGIN CERTIFICATE-----"))
    }

    /// The file holding the private key, as the user named it.
    pub fn key_path(&self) -> &Path {
        self.files
            .iter()
            .find(|f| f.private)
            .map_or_else(|| Path::new(""), |f| &f.shown)
    }

    /// The files as the user named them, in order.
    pub fn shown(&self) -> Vec<&Path> {
        self.files.iter().map(|f| f.shown.as_path()).collect()
    }

    /// Stages `new` next to the current files (one content per file, in order).
    pub fn stage(&self, new: &NewContents<'_>) -> Result<StagedFiles> {
        if new.files.len() != self.files.len() {
            return Err(Error::Internal(
                "one new content per credential file".into(),
            ));
        }
        let mut staged = Vec::with_capacity(self.files.len());
        for (file, contents) in self.files.iter().zip(&new.files) {
            let (dir, name) = dir_and_name(&file.real);
            let mode = if file.private { 0o600 } else { file.mode };
            let s = fileio::stage(dir, &name, contents, mode)
                .map_err(|e| write_failed(&file.shown, "write next to", e))?;
            staged.push(s);
        }
        Ok(StagedFiles {
            staged,
            layout: self.layout,
        })
    }
}

impl OnDisk {
    fn read(shown: &Path, private: bool) -> Result<Self, RotateCause> {
        let fail =
            |p| RotateCause::Error(Error::credential(Some(shown), CredentialProblem::File(p)));
        let real = fs::canonicalize(shown).map_err(|e| fail(fileio::problem_of(&e)))?;
        let bytes = fileio::read_bounded(&real, MAX_CREDENTIAL_FILE).map_err(fail)?;
        let mode = fs::metadata(&real)
            .map_err(|e| fail(fileio::problem_of(&e)))?
            .permissions()
            .mode()
            & 0o777;
        Ok(OnDisk {
            shown: shown.to_path_buf(),
            real,
            bytes,
            mode,
            private,
        })
    }
}

impl StagedFiles {
    /// Where the staged credential can be loaded from, to prove the new key before it is
    /// put in place.
    pub fn source(&self) -> CredentialSource {
        let path = |i: usize| self.staged[i].path().to_path_buf();
        CredentialSource {
            cert: path(0),
            key: (self.layout == Layout::Pair).then(|| path(1)),
            thumbprint: None,
        }
    }
}

/// A file rotation could not write (exit 3), with what to do about it.
fn write_failed(path: &Path, action: &'static str, source: std::io::Error) -> Error {
    Error::File {
        path: path.to_path_buf(),
        action,
        source,
        hint: Some(
            "graphd rotate writes the new credential next to the current one and keeps the \
             previous one there: make that directory writable by this user, or rotate a copy \
             of the credential in a writable place"
                .into(),
        ),
    }
}

/// An encrypted PEM private key: PKCS#8 `ENCRYPTED PRIVATE KEY`, or the legacy
/// `Proc-Type: 4,ENCRYPTED` header (RFC 1421).
fn is_encrypted_pem(bytes: &[u8]) -> bool {
    let has = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    has(b"-----BEGIN ENCRYPTED PRIVATE KEY-----") || has(b"Proc-Type: 4,ENCRYPTED")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_and_encryption_are_recognised() {
        let tmp = tempfile::tempdir().unwrap();
        let cert = tmp.path().join("cert.pem");
        let key = tmp.path().join("k.pem");
        fs::write(&cert, b"-----BEGIN CERTIFICATE-----").unwrap();
        fs::set_permissions(&cert, fs::Permissions::from_mode(0o644)).unwrap();
        fs::write(&key, b"-----BEGIN ENCRYPTED PRIVATE KEY-----").unwrap();
        let pair = CredentialSource {
            cert: cert.clone(),
            key: Some(key.clone()),
            thumbprint: None,
        };
        let files = CredentialFiles::read(&pair, CertFile::Certificates).unwrap();
        assert_eq!(files.layout(), Layout::Pair);
        assert_eq!(files.encryption(), Some(Encrypted::Key));
        assert_eq!(files.key_path(), key.as_path());
        let staged = files
            .stage(&NewContents {
                files: vec![b"cert", b"key"],
            })
            .unwrap();
        let src = staged.source();
        assert_eq!(fs::read(&src.cert).unwrap(), b"cert");
        assert_eq!(fs::read(src.key.as_ref().unwrap()).unwrap(), b"key");
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&src.cert), 0o644, "the certificate keeps its mode");
        assert_eq!(mode(src.key.as_ref().unwrap()), 0o600);

        let legacy = b"-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n";
        assert!(is_encrypted_pem(legacy));
        assert!(!is_encrypted_pem(b"-----BEGIN PRIVATE KEY-----"));

        let thumb_only = CredentialSource {
            cert: key.clone(),
            key: None,
            thumbprint: Some("AB".into()),
        };
        assert!(CredentialFiles::read(&thumb_only, CertFile::PemWithKey).is_err());
        let missing = CredentialSource {
            cert: tmp.path().join("missing.pem"),
            key: None,
            thumbprint: None,
        };
        assert!(matches!(
            CredentialFiles::read(&missing, CertFile::PemWithKey),
            Err(RotateCause::Error(Error::Credential { .. }))
        ));
    }
}
