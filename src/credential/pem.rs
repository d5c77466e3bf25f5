//! PEM files as users really have them: key and certificates in any order, chains, text
//! between blocks (`openssl pkcs12 -nodes` writes "Bag Attributes"), CRLF, a BOM, and the
//! key encodings PKCS#1, PKCS#8, encrypted PKCS#8 and OpenSSL's legacy `Proc-Type` encryption.
//!
//! Errors name the block and its line, never its contents.

use std::path::Path;

use base64::Engine;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::x509::X509;
use zeroize::Zeroizing;

use super::Material;
use crate::error::{CredentialProblem, Encrypted, Error, Result};
use crate::password::PasswordSource;

/// One `-----BEGIN label-----` ... `-----END label-----` block.
pub struct Block<'a> {
    pub label: String,
    /// 1-based line of the BEGIN line.
    pub line: usize,
    /// The whole block, BEGIN and END lines included (OpenSSL parses legacy encryption from it).
    pub text: &'a [u8],
    /// Whether it carries RFC 1421 headers (`Proc-Type: 4,ENCRYPTED`, `DEK-Info`).
    pub has_headers: bool,
    body: Vec<&'a [u8]>,
}

impl Block<'_> {
    /// The base64-decoded body.
    pub fn der(&self) -> Result<Zeroizing<Vec<u8>>, CredentialProblem> {
        let mut b64 = Zeroizing::new(Vec::with_capacity(self.text.len()));
        for line in &self.body {
            b64.extend(line.iter().filter(|b| !b.is_ascii_whitespace()));
        }
        let mut out = Zeroizing::new(Vec::with_capacity(b64.len() / 4 * 3 + 3));
        base64::engine::general_purpose::STANDARD
            .decode_vec(&*b64, &mut out)
            .map_err(|_| self.corrupt())?;
        if out.is_empty() {
            return Err(self.corrupt());
        }
        Ok(out)
    }

    fn corrupt(&self) -> CredentialProblem {
        CredentialProblem::CorruptPem {
            label: self.label.clone(),
            line: self.line,
        }
    }
}

/// Whether the bytes look like PEM at all.
pub fn looks_like_pem(data: &[u8]) -> bool {
    find(data, BEGIN, 0).is_some()
}

const BEGIN: &[u8] = b"-----BEGIN ";
const END: &[u8] = b"-----END ";
const DASHES: &[u8] = b"-----";
/// Longer than any real label ("SSH2 ENCRYPTED PRIVATE KEY" is 26).
const MAX_LABEL: usize = 64;

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    haystack
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|i| i + from)
}

/// The label starting at `at`, up to the next `-----`, if it is a plausible one: capitals,
/// digits and spaces only. Anything else is refused without being echoed, because a PEM file
/// flattened onto one line would otherwise put the base64 of the key into the "label".
fn label_at(data: &[u8], at: usize) -> Option<&[u8]> {
    let rest = data.get(at..)?;
    let len = find(&rest[..rest.len().min(MAX_LABEL + DASHES.len())], DASHES, 0)?;
    let label = &rest[..len];
    let plausible = !label.is_empty()
        && label
            .iter()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || *b == b' ');
    plausible.then_some(label)
}

/// Splits PEM text into blocks; text outside blocks is ignored.
///
/// Blocks are found by their markers, not by lines, so a PEM flattened onto one line (as CI
/// secret stores sometimes do) still parses; line numbers are those of the BEGIN markers.
pub fn blocks(data: &[u8]) -> Result<Vec<Block<'_>>, CredentialProblem> {
    let data = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
    let mut out = Vec::new();
    let (mut pos, mut counted, mut line) = (0, 0, 1);
    while let Some(begin) = find(data, BEGIN, pos) {
        line += data[counted..begin].iter().filter(|&&b| b == b'\n').count();
        counted = begin;
        let label =
            label_at(data, begin + BEGIN.len()).ok_or(CredentialProblem::MalformedPem { line })?;
        let label_text = String::from_utf8_lossy(label).into_owned();
        let truncated = || CredentialProblem::TruncatedPem {
            label: label_text.clone(),
            line,
        };
        let body_at = begin + BEGIN.len() + label.len() + DASHES.len();
        let end = find(data, END, body_at).ok_or_else(truncated)?;
        // A BEGIN before the END: this block was cut short.
        if find(&data[..end], BEGIN, body_at).is_some()
            || label_at(data, end + END.len()) != Some(label)
        {
            return Err(truncated());
        }
        let block_end = end + END.len() + label.len() + DASHES.len();
        let mut has_headers = false;
        let mut body = Vec::new();
        for raw in data[body_at..end].split(|&b| b == b'\n') {
            let l = raw.trim_ascii();
            if l.contains(&b':') {
                has_headers = true;
            } else if !l.is_empty() {
                body.push(l);
            }
        }
        out.push(Block {
            label: label_text,
            line,
            text: &data[begin..block_end],
            has_headers,
            body,
        });
        pos = block_end;
    }
    Ok(out)
}

/// Decodes every certificate and private key in a PEM file into `material`.
pub fn decode(
    data: &[u8],
    path: &Path,
    passwords: &mut PasswordSource,
    material: &mut Material,
) -> Result<()> {
    let fail = |problem| Error::credential(Some(path), problem);
    for block in blocks(data).map_err(fail)? {
        let unsupported = || {
            fail(CredentialProblem::UnsupportedPem {
                label: block.label.clone(),
                line: block.line,
            })
        };
        let corrupt = || fail(block.corrupt());
        match block.label.as_str() {
            "CERTIFICATE" | "X509 CERTIFICATE" => {
                let der = block.der().map_err(fail)?;
                material
                    .certs
                    .push(X509::from_der(&der).map_err(|_| corrupt())?);
            }
            "TRUSTED CERTIFICATE" => {
                material
                    .certs
                    .push(X509::from_pem(block.text).map_err(|_| corrupt())?);
            }
            "PRIVATE KEY" => {
                let der = block.der().map_err(fail)?;
                material
                    .keys
                    .push(PKey::private_key_from_pkcs8(&der).map_err(|_| corrupt())?);
            }
            "RSA PRIVATE KEY" if block.has_headers => {
                let (key, protected) = legacy_encrypted(&block, path, passwords)?;
                material.keys.push(key);
                material.protected_keys += usize::from(protected);
            }
            "RSA PRIVATE KEY" => {
                let der = block.der().map_err(fail)?;
                let rsa = Rsa::private_key_from_der(&der).map_err(|_| corrupt())?;
                material
                    .keys
                    .push(PKey::from_rsa(rsa).map_err(|_| corrupt())?);
            }
            "ENCRYPTED PRIVATE KEY" => {
                let der = block.der().map_err(fail)?;
                let (key, protected) = encrypted_pkcs8(&der, path, passwords)?;
                material.keys.push(key);
                material.protected_keys += usize::from(protected);
            }
            // Parsed (when not encrypted) only so that `graphd cert` can show what it is;
            // `check_key` refuses it afterwards.
            "EC PRIVATE KEY" | "DSA PRIVATE KEY" => {
                let kind = block
                    .label
                    .split(' ')
                    .next()
                    .unwrap_or_default()
                    .to_string();
                let key = match block.has_headers {
                    true => None,
                    false => block
                        .der()
                        .ok()
                        .and_then(|der| PKey::private_key_from_der(&der).ok()),
                };
                match key {
                    Some(k) => material.keys.push(k),
                    None => return Err(fail(CredentialProblem::NotRsa { kind })),
                }
            }
            "OPENSSH PRIVATE KEY" | "SSH2 ENCRYPTED PRIVATE KEY" => return Err(unsupported()),
            // Parameters, public keys, CSRs, CRLs: not needed, not harmful.
            _ => {}
        }
    }
    Ok(())
}

/// `BEGIN ENCRYPTED PRIVATE KEY` (PKCS#8 with PBES2 or PBES1).
fn encrypted_pkcs8(
    der: &[u8],
    path: &Path,
    passwords: &mut PasswordSource,
) -> Result<(PKey<Private>, bool)> {
    with_password(Encrypted::Key, path, passwords, |pw| {
        PKey::private_key_from_pkcs8_passphrase(der, pw.as_bytes()).ok()
    })
}

/// `BEGIN RSA PRIVATE KEY` with `Proc-Type: 4,ENCRYPTED` (OpenSSL 1.x `genrsa -aes256`).
fn legacy_encrypted(
    block: &Block<'_>,
    path: &Path,
    passwords: &mut PasswordSource,
) -> Result<(PKey<Private>, bool)> {
    with_password(Encrypted::Key, path, passwords, |pw| {
        PKey::private_key_from_pem_passphrase(block.text, pw.as_bytes()).ok()
    })
}

/// Tries the supplied password (or the empty one when none is supplied, then a prompt).
/// Also says whether a password protected it: `false` when the empty password opened it,
/// which protects nothing.
pub(super) fn with_password<T>(
    what: Encrypted,
    path: &Path,
    passwords: &mut PasswordSource,
    mut attempt: impl FnMut(&str) -> Option<T>,
) -> Result<(T, bool)> {
    if !passwords.supplied()
        && let Some(v) = attempt("")
    {
        return Ok((v, false));
    }
    match passwords.get(what, path)? {
        None => Err(Error::credential(
            Some(path),
            CredentialProblem::PasswordRequired(what),
        )),
        // A password set for every job (the environment) may meet a file that has none.
        Some(pw) => attempt(pw.expose_secret())
            .map(|v| {
                passwords.accepted();
                (v, !pw.expose_secret().is_empty())
            })
            .or_else(|| {
                if pw.expose_secret().is_empty() {
                    None
                } else {
                    attempt("").map(|v| (v, false))
                }
            })
            .ok_or_else(|| Error::credential(Some(path), CredentialProblem::WrongPassword(what))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_blocks_between_noise() {
        let text = b"\xEF\xBB\xBFBag Attributes\r\n    localKeyID: 01 02\r\nsubject=CN = x\r\n-----BEGIN CERTIFICATE-----\r\nQUJD\r\n-----END CERTIFICATE-----\r\n\r\n  -----BEGIN PRIVATE KEY-----\nREVG\n-----END PRIVATE KEY-----\n";
        let b = blocks(text).unwrap();
        assert_eq!(b.len(), 2);
        assert_eq!((b[0].label.as_str(), b[0].line), ("CERTIFICATE", 4));
        assert_eq!(&*b[0].der().unwrap(), b"ABC");
        assert_eq!((b[1].label.as_str(), b[1].line), ("PRIVATE KEY", 8));
        assert_eq!(&*b[1].der().unwrap(), b"DEF");
        assert!(b[1].text.starts_with(b"-----BEGIN PRIVATE KEY-----"));
        assert!(b[1].text.ends_with(b"-----END PRIVATE KEY-----"));
    }

    #[test]
    fn truncated_and_corrupt_blocks_are_named() {
        let e = blocks(b"x\n-----BEGIN CERTIFICATE-----\nQUJD\n")
            .err()
            .unwrap();
        assert_eq!(
            e,
            CredentialProblem::TruncatedPem {
                label: "CERTIFICATE".into(),
                line: 2
            }
        );
        let e = blocks(b"-----BEGIN A-----\n-----BEGIN B-----\n-----END B-----\n")
            .err()
            .unwrap();
        assert_eq!(
            e,
            CredentialProblem::TruncatedPem {
                label: "A".into(),
                line: 1
            }
        );
        let b = blocks(b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----").unwrap();
        assert_eq!(
            b[0].der().err().unwrap(),
            CredentialProblem::CorruptPem {
                label: "CERTIFICATE".into(),
                line: 1
            }
        );
    }

    #[test]
    fn one_line_pem_parses() {
        // CI secret stores sometimes flatten a PEM file onto one line.
        let b = blocks(b"-----BEGIN PRIVATE KEY----- REVG -----END PRIVATE KEY----- -----BEGIN CERTIFICATE-----QUJD-----END CERTIFICATE-----").unwrap();
        assert_eq!(b.len(), 2);
        assert_eq!(
            (b[0].label.as_str(), b[0].der().unwrap().as_slice()),
            ("PRIVATE KEY", &b"DEF"[..])
        );
        assert_eq!(
            (b[1].label.as_str(), b[1].der().unwrap().as_slice()),
            ("CERTIFICATE", &b"ABC"[..])
        );
        assert_eq!(
            b[1].text,
            b"-----BEGIN CERTIFICATE-----QUJD-----END CERTIFICATE-----"
        );
    }

    #[test]
    fn a_malformed_label_is_never_echoed() {
        // Regression: the label used to run to the end of the line, so a flattened key whose
        // markers lost a dash put its base64 into the error message.
        for text in [
            &b"x\n-----BEGIN PRIVATE KEY---- MIIEvQIBADANBgkqhkiG9w0BAQEFAASC -----END PRIVATE KEY-----"[..],
            b"-----BEGIN private key-----\nMIIE\n-----END private key-----\n",
            b"-----BEGIN PRIVATE KEY MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQD-----",
        ] {
            let e = blocks(text).err().unwrap();
            assert!(matches!(e, CredentialProblem::MalformedPem { .. }), "{e:?}");
            assert!(!e.to_string().contains("MII"), "{e}");
        }
        assert_eq!(
            blocks(b"x\n-----BEGIN PRIVATE KEY---- MIIE").err().unwrap(),
            CredentialProblem::MalformedPem { line: 2 }
        );
        // An END marker whose label is not plausible does not close the block.
        let e = blocks(b"-----BEGIN CERTIFICATE-----\nQUJD\n-----END CERTIFICATE QUJD\n")
            .err()
            .unwrap();
        assert!(matches!(e, CredentialProblem::TruncatedPem { .. }), "{e:?}");
    }

    #[test]
    fn legacy_headers_are_noticed() {
        let b = blocks(b"-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,00\n\nQUJD\n-----END RSA PRIVATE KEY-----\n").unwrap();
        assert!(b[0].has_headers);
        assert_eq!(&*b[0].der().unwrap(), b"ABC");
    }

    #[test]
    fn fuzz_pem_label_with_control_characters() {
        // Found by fuzz/credential_pem: a label was echoed into a one-line error message.
        for bad in [&b"PRI\x7fVATE KEY"[..], b"\x1b[2J", b"A\rB", b"\xff\xfe"] {
            let mut text = b"-----BEGIN ".to_vec();
            text.extend_from_slice(bad);
            text.extend_from_slice(b"-----\nQUJD\n");
            if let Err(e) = blocks(&text) {
                assert!(!e.to_string().chars().any(char::is_control), "{e:?}");
            }
        }
    }
}
