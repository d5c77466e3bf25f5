//! `graphd rotate`'s failures: which step failed, why, what had already been done by then,
//! and what to run to finish or undo it. The wording lives here; `rotate` only fills in the
//! facts (step, key ids, file names, commands).

use std::fmt;
use std::path::PathBuf;

use super::{Error, exit, printable};

/// The steps of a rotation, in order (docs/protocol.md#certificate-self-rotation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Local checks: the credential files (or token objects), the password, where the new
    /// key goes.
    Check,
    /// Find the application's object id and its key credentials.
    Application,
    /// Generate the new key and certificate and stage the new files.
    Generate,
    /// Sign the proof of possession with the current key.
    Proof,
    /// `POST /applications/{id}/addKey`.
    AddKey,
    /// Get a token with the new key.
    Prove,
    /// Keep the previous file and put the new one in place (in a token: swap the names).
    Replace,
    /// `POST /applications/{id}/removeKey` for the old key.
    RemoveOld,
}

impl Step {
    /// `n/7` as printed in progress lines (the local checks are step 0).
    pub fn number(self) -> u8 {
        match self {
            Step::Check => 0,
            Step::Application => 1,
            Step::Generate => 2,
            Step::Proof => 3,
            Step::AddKey => 4,
            Step::Prove => 5,
            Step::Replace => 6,
            Step::RemoveOld => 7,
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Step::Check => "check the current credential",
            Step::Application => "find the application",
            Step::Generate => "generate the new key and certificate",
            Step::Proof => "sign the proof of possession",
            Step::AddKey => "add the new certificate with addKey",
            Step::Prove => "prove the new key with a token",
            Step::Replace => "put the new key in place",
            Step::RemoveOld => "remove the old certificate with removeKey",
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "step {}/7 ({})", self.number(), self.describe())
    }
}

/// Problems that only rotation has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RotateProblem {
    /// The credential cannot be rewritten by graphd (a key file with only a thumbprint, a
    /// key that lives elsewhere, ...).
    UnsupportedCredential { why: String },
    /// The password came from stdin, which cannot be read a second time for the new file.
    PasswordFromStdin,
    /// `--object-id` names an application whose appId is another app's.
    ObjectIdOfAnotherApp { object_id: String, app_id: String },
    /// With `--remove-old`: no key credential of the application is the current certificate.
    OldKeyNotRegistered { thumbprint: String },
    /// With `--remove-old` and no way to read the application's key credentials.
    OldKeyUnknown,
    /// `--old-key-id` names no key credential of the application.
    NoSuchKey { key_id: String },
    /// Graph answered addKey with something that is not a key credential.
    AddKeyAnswer { why: String },
    /// The new key was still refused (AADSTS700027) when `--propagation-timeout` ran out.
    NotPropagated { waited_secs: u64, attempts: u32 },
    /// The credential file changed on disk while the rotation ran.
    FileChanged { path: PathBuf },
    /// A `pkcs11:` URI (`--key` or `--cert`) selects its object by neither `object=` nor
    /// `id=`: once the new key is in the token, it would name both.
    UnnamedObject { setting: &'static str, uri: String },
    /// An object of the current key says it cannot be changed (`CKA_MODIFIABLE` false), so
    /// the new key could never take its names.
    NotRenamable { token: String, object: String },
    /// The token refused to rename an object (step 6); `error` is the token's answer.
    RenameRefused { what: String, error: String },
    /// After renaming, the user's URI did not name the new key alone.
    SwapNotSeen { uri: String },
}

impl fmt::Display for RotateProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RotateProblem::UnsupportedCredential { why } => {
                write!(f, "graphd cannot rotate this credential: {why}")
            }
            RotateProblem::PasswordFromStdin => f.write_str(
                "the key's password came from --password-stdin, which cannot be read again to encrypt the new key",
            ),
            RotateProblem::ObjectIdOfAnotherApp { object_id, app_id } => write!(
                f,
                "the application with object id {} has appId {}, not this client id",
                printable(object_id, 80),
                printable(app_id, 80)
            ),
            RotateProblem::OldKeyNotRegistered { thumbprint } => write!(
                f,
                "no key credential of the application is the current certificate (thumbprint {thumbprint})"
            ),
            RotateProblem::NoSuchKey { key_id } => write!(
                f,
                "the application has no key credential with keyId {}",
                printable(key_id, 80)
            ),
            RotateProblem::OldKeyUnknown => f.write_str(
                "--remove-old needs the old certificate's keyId, and the application's key credentials could not be read",
            ),
            RotateProblem::AddKeyAnswer { why } => {
                write!(f, "Graph's answer to addKey is not a key credential: {why}")
            }
            RotateProblem::NotPropagated {
                waited_secs,
                attempts,
            } => write!(
                f,
                "the token service still did not know the new key after {waited_secs} s ({attempts} attempts, AADSTS700027)"
            ),
            RotateProblem::FileChanged { path } => write!(
                f,
                "{} changed on disk while graphd was rotating it",
                path.display()
            ),
            RotateProblem::UnnamedObject { setting, uri } => write!(
                f,
                "{setting} {uri} names its object by neither object= nor id=, so once the new key is in the token it would name both keys"
            ),
            RotateProblem::NotRenamable { token, object } => write!(
                f,
                "token {token} does not let {object} be renamed (CKA_MODIFIABLE is false), so a new key could never take its place"
            ),
            RotateProblem::RenameRefused { what, error } => {
                write!(f, "the token refused to change {what}: {error}")
            }
            RotateProblem::SwapNotSeen { uri } => write!(
                f,
                "after renaming, {uri} did not name the new key alone, so graphd put the names back"
            ),
        }
    }
}

impl RotateProblem {
    pub fn exit_code(&self) -> u8 {
        match self {
            RotateProblem::PasswordFromStdin => exit::USAGE,
            RotateProblem::UnsupportedCredential { .. }
            | RotateProblem::FileChanged { .. }
            | RotateProblem::UnnamedObject { .. }
            | RotateProblem::NotRenamable { .. }
            | RotateProblem::RenameRefused { .. }
            | RotateProblem::SwapNotSeen { .. } => exit::CREDENTIAL,
            RotateProblem::NotPropagated { .. } => exit::TOKEN,
            RotateProblem::ObjectIdOfAnotherApp { .. }
            | RotateProblem::OldKeyNotRegistered { .. }
            | RotateProblem::OldKeyUnknown
            | RotateProblem::NoSuchKey { .. }
            | RotateProblem::AddKeyAnswer { .. } => exit::GRAPH,
        }
    }

    pub fn hint(&self) -> Option<String> {
        Some(match self {
            RotateProblem::UnsupportedCredential { .. } => {
                "rotate works on a PEM (key and certificate, as gen-cert writes key.pem), a \
                 --cert/--key pair of PEM files, a PFX, or a key in a PKCS#11 token that can be \
                 written to; otherwise make a new credential with graphd gen-cert and upload it"
                    .into()
            }
            RotateProblem::PasswordFromStdin => {
                "give the password with --password-file or AZURE_CLIENT_CERTIFICATE_PASSWORD: the \
                 new key is encrypted with the same password"
                    .into()
            }
            RotateProblem::ObjectIdOfAnotherApp { .. } => {
                "--object-id takes the Object ID shown on this app registration's Overview page"
                    .into()
            }
            RotateProblem::OldKeyNotRegistered { .. } => {
                "pass the old certificate's keyId with --old-key-id (the portal's \"Certificate ID\"), \
                 or rotate without --remove-old"
                    .into()
            }
            RotateProblem::NoSuchKey { .. } => {
                "--old-key-id takes the keyId (the portal's \"Certificate ID\") of one of the \
                 application's certificates"
                    .into()
            }
            RotateProblem::OldKeyUnknown => {
                "pass --old-key-id (the portal's \"Certificate ID\" under Certificates & secrets), \
                 or grant the app Application.Read.All so graphd can find it by thumbprint"
                    .into()
            }
            RotateProblem::AddKeyAnswer { .. } => {
                "is --graph (GRAPHD_GRAPH_ENDPOINT) Microsoft Graph? check the app's certificates \
                 in the portal: the new one may have been added"
                    .into()
            }
            RotateProblem::NotPropagated { .. } => {
                "new keys can take minutes to reach every token service node: raise \
                 --propagation-timeout and run graphd rotate again"
                    .into()
            }
            RotateProblem::FileChanged { .. } => {
                "another process changed the credential file; check it, then run graphd rotate again"
                    .into()
            }
            RotateProblem::UnnamedObject { .. } => {
                "add object=LABEL (or id=...) to the URI, as graphd cert 'pkcs11:...' lists the \
                 token's keys"
                    .into()
            }
            RotateProblem::NotRenamable { .. } => {
                "make a new key with graphd gen-cert --key 'pkcs11:...;object=NEW-LABEL', upload \
                 its certificate and switch to that URI; graphd rotate needs a token that lets it \
                 rename objects"
                    .into()
            }
            RotateProblem::RenameRefused { .. } | RotateProblem::SwapNotSeen { .. } => {
                "graphd rotate renames the current and the new objects in place; where a token \
                 does not allow it, switch to the new key's URI instead"
                    .into()
            }
        })
    }
}

/// Why a step failed: an error from the layer below, or a problem of rotation itself.
#[derive(Debug)]
pub enum Cause {
    Error(Error),
    Problem(RotateProblem),
}

impl From<Error> for Cause {
    fn from(e: Error) -> Self {
        Cause::Error(e)
    }
}

impl From<RotateProblem> for Cause {
    fn from(p: RotateProblem) -> Self {
        Cause::Problem(p)
    }
}

/// A rotation that stopped: the step, the cause, what had been done (and undone), and the
/// command that finishes or undoes the rest.
#[derive(Debug)]
pub struct RotateFailure {
    pub step: Step,
    pub cause: Cause,
    /// What was done before the failure, and any rollback, in order, as sentences.
    pub done: Vec<String>,
    /// What the user still has to do, if anything (a command).
    pub todo: Option<String>,
}

impl RotateFailure {
    pub fn exit_code(&self) -> u8 {
        match &self.cause {
            Cause::Error(e) => e.exit_code(),
            Cause::Problem(p) => p.exit_code(),
        }
    }

    pub fn hint(&self) -> Option<String> {
        let mut parts = Vec::new();
        if self.done.is_empty() {
            parts.push("nothing was changed: the current key still works".to_string());
        } else {
            parts.push(format!("so far: {}", self.done.join("; ")));
        }
        if let Some(todo) = &self.todo {
            parts.push(todo.clone());
        }
        let cause_hint = match &self.cause {
            Cause::Error(e) => e.hint(),
            Cause::Problem(p) => p.hint(),
        };
        parts.extend(cause_hint);
        Some(parts.join(". "))
    }
}

impl fmt::Display for RotateFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "rotate {} failed: ", self.step)?;
        match &self.cause {
            Cause::Error(e) => write!(f, "{e}"),
            Cause::Problem(p) => write!(f, "{p}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::NetworkKind;

    #[test]
    fn the_message_names_the_step_and_the_hint_what_was_done() {
        let f = RotateFailure {
            step: Step::Prove,
            cause: Cause::Problem(RotateProblem::NotPropagated {
                waited_secs: 120,
                attempts: 9,
            }),
            done: vec![
                "added the new certificate (keyId k)".into(),
                "removed it again".into(),
            ],
            todo: None,
        };
        let text = f.to_string();
        assert!(
            text.starts_with("rotate step 5/7 (prove the new key with a token) failed"),
            "{text}"
        );
        assert_eq!(f.exit_code(), 4);
        let hint = f.hint().unwrap();
        assert!(
            hint.contains("keyId k") && hint.contains("removed it again"),
            "{hint}"
        );
        assert!(hint.contains("--propagation-timeout"), "{hint}");

        let nothing = RotateFailure {
            step: Step::AddKey,
            cause: Cause::Error(Error::Network {
                host: "graph".into(),
                kind: NetworkKind::Timeout,
                detail: "d".into(),
                attempts: 1,
            }),
            done: Vec::new(),
            todo: Some("check the app".into()),
        };
        assert_eq!(nothing.exit_code(), 6);
        assert!(nothing.hint().unwrap().starts_with("nothing was changed"));
    }

    #[test]
    fn exit_codes() {
        assert_eq!(RotateProblem::PasswordFromStdin.exit_code(), 2);
        assert_eq!(RotateProblem::OldKeyUnknown.exit_code(), 5);
        assert_eq!(
            RotateProblem::FileChanged { path: "k".into() }.exit_code(),
            3
        );
    }
}
