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
    data.windows(11).any(|w| w == b"-----BEGIN ")
}

/// Splits PEM text into blocks; text outside blocks is ignored.
pub fn blocks(data: &[u8]) -> Result<Vec<Block<'_>>, CredentialProblem> {
    let data = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
    let mut out = Vec::new();
    // (label, BEGIN line number, byte offset of BEGIN, has headers, body lines)
    type Open<'a> = (String, usize, usize, bool, Vec<&'a [u8]>);
    let mut open: Option<Open<'_>> = None;
    let mut offset = 0;
    for (i, raw) in data.split(|&b| b == b'\n').enumerate() {
        let start = offset;
        offset += raw.len() + 1;
        let line = raw.trim_ascii();
        match &mut open {
            None => {
                if let Some(label) = delimited(line, b"-----BEGIN ") {
                    let indent = raw.iter().take_while(|b| b.is_ascii_whitespace()).count();
                    open = Some((label, i + 1, start + indent, false, Vec::new()));
                }
            }
            Some((label, begin_line, begin_at, headers, body)) => {
                if let Some(end) = delimited(line, b"-----END ") {
                    if end != *label {
                        return Err(CredentialProblem::TruncatedPem {
                            label: label.clone(),
                            line: *begin_line,
                        });
                    }
                    let end_at = (start + raw.len()).min(data.len());
                    out.push(Block {
                        label: std::mem::take(label),
                        line: *begin_line,
                        text: &data[*begin_at..end_at],
                        has_headers: *headers,
                        body: std::mem::take(body),
                    });
                    open = None;
                } else if line.starts_with(b"-----BEGIN ") {
                    return Err(CredentialProblem::TruncatedPem {
                        label: label.clone(),
                        line: *begin_line,
                    });
                } else if line.contains(&b':') {
                    *headers = true;
                } else if !line.is_empty() {
                    body.push(line);
                }
            }
        }
    }
    if let Some((label, line, ..)) = open {
        return Err(CredentialProblem::TruncatedPem { label, line });
    }
    Ok(out)
}

fn delimited(line: &[u8], prefix: &[u8]) -> Option<String> {
    let rest = line.strip_prefix(prefix)?.strip_suffix(b"-----")?;
    // A label is printable ASCII (RFC 7468 §3); a line with anything else is text, so a
    // control character never reaches an error message.
    if !rest.iter().all(|b| (b' '..=b'~').contains(b)) {
        return None;
    }
    String::from_utf8(rest.to_vec()).ok()
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
                material
                    .keys
                    .push(legacy_encrypted(&block, path, passwords)?);
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
                material.keys.push(encrypted_pkcs8(&der, path, passwords)?);
            }
            "EC PRIVATE KEY" => return Err(fail(CredentialProblem::NotRsa { kind: "EC".into() })),
            "DSA PRIVATE KEY" => {
                return Err(fail(CredentialProblem::NotRsa { kind: "DSA".into() }));
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
) -> Result<PKey<Private>> {
    with_password(Encrypted::Key, path, passwords, |pw| {
        PKey::private_key_from_pkcs8_passphrase(der, pw.as_bytes()).ok()
    })
}

/// `BEGIN RSA PRIVATE KEY` with `Proc-Type: 4,ENCRYPTED` (OpenSSL 1.x `genrsa -aes256`).
fn legacy_encrypted(
    block: &Block<'_>,
    path: &Path,
    passwords: &mut PasswordSource,
) -> Result<PKey<Private>> {
    with_password(Encrypted::Key, path, passwords, |pw| {
        PKey::private_key_from_pem_passphrase(block.text, pw.as_bytes()).ok()
    })
}

/// Tries the supplied password (or the empty one when none is supplied, then a prompt).
pub(super) fn with_password<T>(
    what: Encrypted,
    path: &Path,
    passwords: &mut PasswordSource,
    mut attempt: impl FnMut(&str) -> Option<T>,
) -> Result<T> {
    if !passwords.supplied() {
        if let Some(v) = attempt("") {
            return Ok(v);
        }
    }
    match passwords.get(what, path)? {
        None => Err(Error::credential(
            Some(path),
            CredentialProblem::PasswordRequired(what),
        )),
        // A password set for every job (the environment) may meet a file that has none.
        Some(pw) => attempt(pw.expose_secret())
            .or_else(|| {
                if pw.expose_secret().is_empty() {
                    None
                } else {
                    attempt("")
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
    fn fuzz_pem_label_with_control_characters() {
        // Found by fuzz/credential_pem: the label was echoed into a one-line error message.
        for bad in [&b"PRI\x7fVATE KEY"[..], b"\x1b[2J", b"A\rB", b"\xff\xfe"] {
            let mut text = b"-----BEGIN ".to_vec();
            text.extend_from_slice(bad);
            text.extend_from_slice(b"-----\nQUJD\n");
            assert!(blocks(&text).unwrap().is_empty(), "{bad:?}");
            text.extend_from_slice(
                b"-----BEGIN CERTIFICATE-----\nQUJD\n-----END CERTIFICATE-----\n",
            );
            let b = blocks(&text).unwrap();
            assert_eq!((b.len(), b[0].label.as_str()), (1, "CERTIFICATE"));
        }
    }

    #[test]
    fn legacy_headers_are_noticed() {
        let b = blocks(b"-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,00\n\nQUJD\n-----END RSA PRIVATE KEY-----\n").unwrap();
        assert!(b[0].has_headers);
        assert_eq!(&*b[0].der().unwrap(), b"ABC");
    }
}
