//! Step 6 for a key in a token: the current and the new objects swap names, all or nothing
//! (`pkcs11::relabel`): the new key pair and certificate take the labels (and, when the URI
//! selects by `id=`, the ids) the user's URIs select, the current ones get
//! `LABEL.previous-DATE` (and the new objects' fresh id). Then the URI is looked up again: it
//! must name the new key alone. Last, a certificate file (`--cert FILE`) is replaced as a
//! file rotation replaces it; if that fails, the names are put back.
//!
//! A failure leaves the token's objects and the file as they were (or says exactly what the
//! token would not undo); the new key stays under its temporary names, where it works.

use cryptoki::object::{ObjectClass, ObjectHandle};

use super::{InToken, Kind, Made, Object, base};
use crate::credential::openssl_bug;
use crate::error::{Result, RotateCause, RotateProblem};
use crate::pkcs11::objects;
use crate::pkcs11::relabel::{self, Attr, Rename};
use crate::pkcs11::{CertFrom, Uri};

/// What step 6 did, as progress lines (label, text).
#[derive(Debug)]
pub(in crate::rotate) struct Swapped {
    pub lines: Vec<(&'static str, String)>,
    /// The URI that names the previous key now.
    pub previous: Uri,
}

/// Why step 6 did not happen, with what is left as it was.
#[derive(Debug)]
pub(in crate::rotate) struct SwapFailed {
    pub cause: RotateCause,
    /// Renames the token would not undo, in words (empty: the token is as it was).
    pub stuck: Vec<String>,
    /// The URI that names the new key by its temporary names, to switch to.
    pub new_uri: Uri,
}

impl InToken {
    /// Renames the objects, checks the user's URI names the new key, replaces the
    /// certificate file if there is one.
    pub(in crate::rotate) fn swap(
        &self,
        made: Made,
        date: &str,
    ) -> Result<Swapped, Box<SwapFailed>> {
        let renames = self.renames(&made);
        let token = made.maker.token().clone();
        let new_uri = made.uri.clone();
        let failed = |cause: RotateCause, stuck| {
            Box::new(SwapFailed {
                cause,
                stuck,
                new_uri: new_uri.clone(),
            })
        };
        if let Err(refused) = relabel::apply(&renames, relabel::on(&token)) {
            let cause = RotateProblem::RenameRefused {
                what: refused.what,
                error: refused.error.to_string(),
            };
            return Err(failed(cause.into(), refused.stuck));
        }
        match self.names_new_key(&made) {
            Ok(true) => {}
            Ok(false) => {
                let stuck = relabel::undo(&renames, relabel::on(&token));
                let cause = RotateProblem::SwapNotSeen {
                    uri: self.spec.key.to_string(),
                };
                return Err(failed(cause.into(), stuck));
            }
            Err(e) => {
                let stuck = relabel::undo(&renames, relabel::on(&token));
                return Err(failed(e.into(), stuck));
            }
        }
        let key = &self.old[0];
        let previous = Uri {
            object: Some(format!("{}{}", base(&key.label), self.previous)),
            id: None,
            kind: None,
            ..self.spec.key.clone()
        };
        let mut lines = vec![(
            "swapped",
            format!(
                "token {}: {} now names the new key pair and certificate; the previous ones are kept as {previous} (nothing was destroyed)",
                token.name(),
                self.spec.key,
            ),
        )];
        let Made { staged, .. } = made;
        if let (Some(staged), Some(files)) = (staged, &self.cert_file) {
            match staged.commit(files, date) {
                Ok(replaced) => {
                    for (file, backup) in &replaced.backups {
                        lines.push((
                            "replaced",
                            format!(
                                "{} (the previous file is {}, mode 0600)",
                                file.display(),
                                backup.display()
                            ),
                        ));
                    }
                }
                Err(cause) => {
                    let stuck = relabel::undo(&renames, relabel::on(&token));
                    return Err(failed(cause, stuck));
                }
            }
        }
        Ok(Swapped { lines, previous })
    }

    /// Every change of step 6, the current objects first: while they are renamed, nothing is
    /// named twice.
    fn renames(&self, made: &Made) -> Vec<Rename<ObjectHandle>> {
        let new_id = made.maker.id().to_vec();
        let mut out = Vec::new();
        let mut rename = |o: &Object, label: String, id: &[u8], whose: &str| {
            let object = format!("{whose} {}", o.describe().trim_start_matches("the "));
            out.push(Rename {
                handle: o.handle,
                object: object.clone(),
                attr: Attr::Label,
                from: o.label.as_bytes().to_vec(),
                to: label.into_bytes(),
            });
            if self.swap_ids {
                out.push(Rename {
                    handle: o.handle,
                    object,
                    attr: Attr::Id,
                    from: o.id.clone(),
                    to: id.to_vec(),
                });
            }
        };
        for o in &self.old {
            let label = format!("{}{}", base(&o.label), self.previous);
            rename(o, label, &new_id, "the current");
        }
        let key = &self.old[0];
        let cert = self
            .old
            .iter()
            .find(|o| o.kind == Kind::Certificate)
            .unwrap_or(key);
        let kinds = [Kind::PrivateKey, Kind::PublicKey, Kind::Certificate];
        for (&handle, kind) in made.key.handles().iter().zip(kinds) {
            let takes = if kind == Kind::Certificate { cert } else { key };
            let new = Object {
                handle,
                kind,
                label: self.next_label.clone(),
                id: new_id.clone(),
            };
            rename(&new, takes.label.clone(), &takes.id, "the new");
        }
        out
    }

    /// Whether the user's URI now names the new private key alone, and the certificate
    /// objects it names (when the certificate is in the token) no longer hold the old one.
    fn names_new_key(&self, made: &Made) -> Result<bool> {
        let token = made.maker.token();
        let keys = objects::find(
            token,
            &objects::template(ObjectClass::PRIVATE_KEY, &self.spec.key),
        )?;
        if keys.as_slice() != &made.key.handles()[..1] {
            return Ok(false);
        }
        let cert_uri = match &self.spec.cert {
            CertFrom::Token(u) => u.as_ref().clone(),
            CertFrom::NextToKey => self.spec.key.clone(),
            CertFrom::File(_) => return Ok(true),
        };
        let old_der = self.old_leaf.to_der().map_err(openssl_bug)?;
        for c in objects::certificates(
            token,
            &objects::template(ObjectClass::CERTIFICATE, &cert_uri),
        )? {
            if c.cert.to_der().map_err(openssl_bug)? == old_der {
                return Ok(false);
            }
        }
        Ok(true)
    }
}
