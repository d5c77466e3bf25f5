//! Resolving a key in a PKCS#11 token: which `--key` / `--cert` (or config `key` / `cert`) is a
//! `pkcs11:` URI, where its certificate is, which module loads it and where the PIN comes
//! from. Nothing is opened here.

use std::path::PathBuf;

use super::{ConfigFile, KeySource, resolve_credential};
use crate::cli::CredentialArgs;
use crate::error::{Error, Pkcs11Problem, Result, UsageProblem};
use crate::pkcs11::uri::is_uri_path;
use crate::pkcs11::{CertFrom, KeySpec, PinSource, Uri};

/// Files, or a key in a PKCS#11 token when `--key` or `--cert` (or the config's `key` /
/// `cert`) is a `pkcs11:` URI.
pub(super) fn resolve_key_source(args: &CredentialArgs, cfg: &ConfigFile) -> Result<KeySource> {
    // As for files: the config's cert and key are one unit that a flag's --cert replaces.
    let cert = args
        .cert
        .clone()
        .or_else(|| cfg.cert.as_deref().map(|c| cfg.relative(c)));
    let key = args.key.clone().or_else(|| match args.cert {
        Some(_) => None,
        None => cfg.key.as_deref().map(|k| cfg.relative(k)),
    });
    let uri_of =
        |p: &Option<PathBuf>, from_flag: bool, field: &'static str| -> Result<Option<Uri>> {
            let Some(p) = p.as_ref().filter(|p| is_uri_path(p)) else {
                return Ok(None);
            };
            Uri::parse(&p.to_string_lossy()).map(Some).map_err(|e| {
                if from_flag {
                    Error::Usage(UsageProblem::Invalid {
                        flag: if field == "key" { "--key" } else { "--cert" },
                        why: e.to_string(),
                    })
                } else {
                    cfg.bad(field, e)
                }
            })
        };
    let key_uri = uri_of(&key, args.key.is_some(), "key")?;
    let cert_uri = uri_of(&cert, args.cert.is_some(), "cert")?;
    if key_uri.is_none() && cert_uri.is_none() {
        let (source, passwords) = resolve_credential(args, cfg)?;
        return Ok(KeySource::Files { source, passwords });
    }
    let (key_uri, cert_from) = match (key_uri, cert_uri, cert) {
        (Some(k), Some(c), _) => (k, CertFrom::Token(Box::new(c))),
        (Some(k), None, Some(file)) => (k, CertFrom::File(file)),
        (Some(k), None, None) => (k, CertFrom::NextToKey),
        (None, Some(_), _) if key.is_some() => {
            return Err(Error::Usage(UsageProblem::Invalid {
                flag: "--key",
                why: "with a certificate in a token, the key must be in the token too: pass \
                      --key as a pkcs11: URI, or leave it out to use the key next to the certificate"
                    .into(),
            }));
        }
        // `--cert pkcs11:...` alone: the key and the certificate the URI names.
        (None, Some(c), _) => (c.with_kind(None), CertFrom::NextToKey),
        (None, None, _) => unreachable!("one of them is a URI"),
    };
    let uri_module = key_uri.module_path.clone().or_else(|| match &cert_from {
        CertFrom::Token(c) => c.module_path.clone(),
        _ => None,
    });
    let flag_module = args.pkcs11.pkcs11_module.clone();
    let module = match (uri_module, flag_module) {
        (Some(u), Some(f)) if u != f => {
            return Err(Error::Pkcs11(Pkcs11Problem::ModuleConflict {
                flag: f,
                uri: u,
            }));
        }
        (Some(m), _) | (None, Some(m)) => m,
        (None, None) => match &cfg.pkcs11_module {
            Some(m) => cfg.relative(m),
            None => return Err(Error::Pkcs11(Pkcs11Problem::NoModule)),
        },
    };
    let pin = PinSource::choose(
        args.pkcs11.pin_file.clone(),
        args.pkcs11.pin_stdin,
        key_uri.pin_source.clone(),
        cfg.pin_file.as_deref().map(|p| cfg.relative(p)),
    );
    Ok(KeySource::Pkcs11(Box::new(KeySpec {
        key: key_uri,
        cert: cert_from,
        module,
        pin,
    })))
}
