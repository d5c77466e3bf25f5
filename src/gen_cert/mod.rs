//! `graphd gen-cert`'s engine: a new RSA key and a self-signed X.509 v3 certificate for an app
//! registration, and the bytes of the files that hold them.
//!
//! OpenSSL does the work (rcgen cannot generate RSA keys). The certificate is what Entra ID
//! accepts for a certificate credential (docs/protocol.md#registering-a-certificate: RSA, 2048+ bits, SHA-256) and what
//! a client certificate looks like: v3, basicConstraints critical CA:FALSE, keyUsage critical
//! digitalSignature, extendedKeyUsage clientAuth, a subject key identifier, and a random
//! positive 16-byte serial number.
//!
//! The private key never leaves this module except as the bytes of a file, in zeroizing
//! buffers; it is never formatted, logged or printed.

mod files;
mod resign;
mod subject;

use std::fmt;

use openssl::asn1::{Asn1Integer, Asn1Time};
use openssl::bn::BigNum;
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkcs12::Pkcs12;
use openssl::pkey::{HasPublic, PKey, PKeyRef, Private, Public};
use openssl::rsa::Rsa;
use openssl::symm::Cipher;
use openssl::x509::extension::{
    BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectKeyIdentifier,
};
use openssl::x509::{X509, X509Builder, X509Ref};
use zeroize::Zeroizing;

pub use files::{OutDir, OutFile};
pub use subject::Subject;

use crate::clock;
use crate::credential::Thumbprints;
use crate::error::{Error, Result, UsageProblem};
use crate::secret::Password;

/// The credential: the private key, PKCS#8 PEM (encrypted with `--encrypt-key`), followed by
/// its certificate, so that `--cert key.pem` alone is enough (cli.md; the Azure SDKs'
/// `AZURE_CLIENT_CERTIFICATE_PATH` takes the same one-file shape).
pub const KEY_FILE: &str = "key.pem";
/// The certificate alone, PEM: what is uploaded to the app registration.
pub const CERT_FILE: &str = "cert.pem";
/// Key and certificate in PKCS#12, with `--pfx`.
pub const PFX_FILE: &str = "graphd.pfx";

/// The RSA sizes offered: Entra's minimum (AADSTS50032) and the two common larger ones.
pub const KEY_SIZES: [u32; 3] = [2048, 3072, 4096];
/// The longest validity offered, in days (ten years).
pub const MAX_DAYS: u32 = 3650;

/// Bytes of INTEGER content in the serial number (RFC 5280 §4.1.2.2 allows up to 20).
const SERIAL_BYTES: usize = 16;
/// The friendly name of the PFX's key and certificate (Windows' certificate store shows it).
const PFX_NAME: &str = "graphd";

/// What to generate.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    pub subject: &'a Subject,
    /// Validity from now, 1 to [`MAX_DAYS`].
    pub days: u32,
    /// One of [`KEY_SIZES`].
    pub key_bits: u32,
}

/// A new key and its self-signed certificate.
pub struct Generated {
    key: PKey<Private>,
    cert: X509,
}

/// Generates an RSA key and a self-signed certificate valid from now for `days` days.
pub fn generate(req: &Request<'_>) -> Result<Generated> {
    // clap already refuses these; a library caller gets the same answer.
    if !KEY_SIZES.contains(&req.key_bits) {
        return Err(Error::Usage(UsageProblem::OutOfRange {
            flag: "--key-size",
            value: req.key_bits.to_string(),
            allowed: "one of 2048, 3072, 4096",
        }));
    }
    if !(1..=MAX_DAYS).contains(&req.days) {
        return Err(Error::Usage(UsageProblem::OutOfRange {
            flag: "--days",
            value: req.days.to_string(),
            allowed: "in 1..=3650",
        }));
    }
    let key =
        PKey::from_rsa(Rsa::generate(req.key_bits).map_err(openssl_bug)?).map_err(openssl_bug)?;
    let now = clock::now_unix();
    let cert = self_signed(&key, req.subject, now, now + i64::from(req.days) * 86_400)
        .map_err(openssl_bug)?;
    Ok(Generated { key, cert })
}

/// A self-signed certificate for `key`; see [`self_signed_for`] for a key held elsewhere.
fn self_signed(
    key: &PKey<Private>,
    subject: &Subject,
    not_before: i64,
    not_after: i64,
) -> std::result::Result<X509, openssl::error::ErrorStack> {
    certificate(key, key, subject, not_before, not_after)
}

/// The certificate of `public`, signed (sha256WithRSAEncryption) by `signer`.
fn certificate<T: HasPublic>(
    public: &PKeyRef<T>,
    signer: &PKeyRef<Private>,
    subject: &Subject,
    not_before: i64,
    not_after: i64,
) -> std::result::Result<X509, openssl::error::ErrorStack> {
    let mut b = X509Builder::new()?;
    b.set_version(2)?; // X.509 v3: the value is zero-based.
    let serial = random_serial()?;
    b.set_serial_number(&serial)?;
    let name = subject.to_name()?;
    b.set_subject_name(&name)?;
    b.set_issuer_name(&name)?;
    b.set_pubkey(public)?;
    let (not_before, not_after) = (
        Asn1Time::from_unix(not_before)?,
        Asn1Time::from_unix(not_after)?,
    );
    b.set_not_before(&not_before)?;
    b.set_not_after(&not_after)?;
    b.append_extension(BasicConstraints::new().critical().build()?)?;
    b.append_extension(KeyUsage::new().critical().digital_signature().build()?)?;
    b.append_extension(ExtendedKeyUsage::new().client_auth().build()?)?;
    let ski = SubjectKeyIdentifier::new().build(&b.x509v3_context(None, None))?;
    b.append_extension(ski)?;
    b.sign(signer, MessageDigest::sha256())?;
    Ok(b.build())
}

/// The same self-signed certificate as [`generate`] makes, for an RSA key held elsewhere (a
/// PKCS#11 token): `sign` returns the RS256 (PKCS#1 v1.5, SHA-256) signature of the bytes it
/// is given, the DER `TBSCertificate`. The result is checked against `public` before it is
/// returned.
pub fn self_signed_for(
    public: &PKeyRef<Public>,
    subject: &Subject,
    days: u32,
    sign: impl FnOnce(&[u8]) -> Result<Vec<u8>>,
) -> Result<X509> {
    if !(1..=MAX_DAYS).contains(&days) {
        return Err(Error::Usage(UsageProblem::OutOfRange {
            flag: "--days",
            value: days.to_string(),
            allowed: "in 1..=3650",
        }));
    }
    let now = clock::now_unix();
    resign::self_signed_for(
        public,
        |stand_in| {
            certificate(
                public,
                stand_in,
                subject,
                now,
                now + i64::from(days) * 86_400,
            )
        },
        sign,
    )
}

/// A random serial of exactly [`SERIAL_BYTES`] bytes of DER INTEGER content, positive.
fn random_serial() -> std::result::Result<Asn1Integer, openssl::error::ErrorStack> {
    let mut bytes = [0u8; SERIAL_BYTES];
    openssl::rand::rand_bytes(&mut bytes)?;
    BigNum::from_slice(&serial_shape(bytes))?.to_asn1_integer()
}

/// Clears the top bit (a set one would make the INTEGER negative, or need a 17th byte) and
/// makes the first byte non-zero (a zero one would be dropped by DER's minimal encoding).
fn serial_shape(mut bytes: [u8; SERIAL_BYTES]) -> [u8; SERIAL_BYTES] {
    bytes[0] = (bytes[0] & 0x7f) | 0x40;
    bytes
}

impl Generated {
    pub fn certificate(&self) -> &X509Ref {
        &self.cert
    }

    pub fn key_bits(&self) -> u32 {
        self.key.bits()
    }

    /// The certificate as PEM: `cert.pem` and gen-cert's stdout.
    pub fn cert_pem(&self) -> Result<Vec<u8>> {
        self.cert.to_pem().map_err(openssl_bug)
    }

    /// The private key as PKCS#8 PEM; with a password, encrypted (PBES2: PBKDF2 with
    /// HMAC-SHA-256, AES-256-CBC).
    pub fn key_pem(&self, password: Option<&Password>) -> Result<Zeroizing<Vec<u8>>> {
        let pem = match password {
            None => self.key.private_key_to_pem_pkcs8(),
            Some(p) => self.key.private_key_to_pem_pkcs8_passphrase(
                Cipher::aes_256_cbc(),
                p.expose_secret().as_bytes(),
            ),
        };
        pem.map(Zeroizing::new).map_err(openssl_bug)
    }

    /// The contents of [`KEY_FILE`]: [`Generated::key_pem`] then [`Generated::cert_pem`], in
    /// one zeroizing buffer sized up front (growing it would leave an unwiped copy of the key).
    pub fn credential_pem(&self, password: Option<&Password>) -> Result<Zeroizing<Vec<u8>>> {
        let key = self.key_pem(password)?;
        let cert = self.cert_pem()?;
        let mut both = Zeroizing::new(Vec::with_capacity(key.len() + cert.len()));
        both.extend_from_slice(&key);
        both.extend_from_slice(&cert);
        Ok(both)
    }

    /// Key and certificate as PKCS#12: AES-256-CBC with PBKDF2 for both bags and a SHA-256
    /// MAC, set explicitly so that no older OpenSSL default (RC2, 3DES, SHA-1) can creep in.
    pub fn pfx(&self, password: &Password) -> Result<Zeroizing<Vec<u8>>> {
        let pfx: Pkcs12 = Pkcs12::builder()
            .name(PFX_NAME)
            .pkey(&self.key)
            .cert(&self.cert)
            .key_algorithm(Nid::AES_256_CBC)
            .cert_algorithm(Nid::AES_256_CBC)
            .mac_md(MessageDigest::sha256())
            .build2(password.expose_secret())
            .map_err(openssl_bug)?;
        pfx.to_der().map(Zeroizing::new).map_err(openssl_bug)
    }

    pub fn thumbprints(&self) -> Result<Thumbprints> {
        Thumbprints::of_cert(&self.cert)
    }

    /// Unix time the certificate expires.
    pub fn not_after(&self) -> Option<i64> {
        clock::asn1_to_unix(self.cert.not_after())
    }
}

impl fmt::Debug for Generated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let thumbprint = self.thumbprints().map(|t| t.sha1_hex()).unwrap_or_default();
        f.debug_struct("Generated")
            .field(
                "subject",
                &crate::credential::report::name_to_string(self.cert.subject_name()),
            )
            .field("thumbprint", &thumbprint)
            .finish_non_exhaustive()
    }
}

fn openssl_bug(e: openssl::error::ErrorStack) -> Error {
    Error::Internal(format!("OpenSSL: {e}"))
}

#[cfg(test)]
mod tests {
    use openssl::pkcs12::Pkcs12;
    use openssl::pkey::PKey;

    use super::*;
    use crate::credential::check_key;

    fn subject() -> Subject {
        Subject::parse("CN=unit,O=graphd tests").unwrap()
    }

    #[test]
    fn serials_are_positive_and_exactly_sixteen_bytes() {
        for first in [0x00, 0x01, 0x7f, 0x80, 0xff] {
            let mut bytes = [0xa5; SERIAL_BYTES];
            bytes[0] = first;
            let shaped = serial_shape(bytes);
            assert!(shaped[0] != 0 && shaped[0] & 0x80 == 0, "{first:#x}");
            let der = BigNum::from_slice(&shaped).unwrap().to_vec();
            assert_eq!(der.len(), SERIAL_BYTES);
        }
        let a = random_serial().unwrap().to_bn().unwrap();
        let b = random_serial().unwrap().to_bn().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.num_bytes(), SERIAL_BYTES as i32);
        assert!(!a.is_negative());
    }

    #[test]
    fn generates_a_usable_pair_and_refuses_odd_requests() {
        let s = subject();
        let g = generate(&Request {
            subject: &s,
            days: 30,
            key_bits: 2048,
        })
        .unwrap();
        assert!(check_key(&g.key).is_ok());
        assert!(
            g.certificate().verify(&g.key).unwrap(),
            "self-signed by its own key"
        );
        assert!(g.certificate().public_key().unwrap().public_eq(&g.key));
        let lifetime =
            g.not_after().unwrap() - clock::asn1_to_unix(g.certificate().not_before()).unwrap();
        assert_eq!(lifetime, 30 * 86_400);
        assert!(!format!("{g:?}").contains("PRIVATE"));

        let pw = Password::new("correct horse".into());
        let pem = g.key_pem(Some(&pw)).unwrap();
        assert!(pem.starts_with(b"-----BEGIN ENCRYPTED PRIVATE KEY-----"));
        assert!(PKey::private_key_from_pem_passphrase(&pem, b"wrong").is_err());
        let back = PKey::private_key_from_pem_passphrase(&pem, b"correct horse").unwrap();
        assert!(back.public_eq(&g.key));
        assert!(
            g.key_pem(None)
                .unwrap()
                .starts_with(b"-----BEGIN PRIVATE KEY-----")
        );
        let both = g.credential_pem(Some(&pw)).unwrap();
        let cert = g.cert_pem().unwrap();
        assert!(both.starts_with(b"-----BEGIN ENCRYPTED PRIVATE KEY-----"));
        assert!(both.ends_with(&cert), "the certificate follows the key");
        let key = PKey::private_key_from_pem_passphrase(&both, b"correct horse").unwrap();
        assert!(key.public_eq(&g.key));

        let pfx = Pkcs12::from_der(&g.pfx(&pw).unwrap()).unwrap();
        assert!(pfx.parse2("wrong").is_err());
        let parsed = pfx.parse2("correct horse").unwrap();
        assert!(parsed.pkey.unwrap().public_eq(&g.key));
        assert_eq!(
            parsed.cert.unwrap().to_der().unwrap(),
            g.certificate().to_der().unwrap()
        );

        for (days, bits) in [(0, 2048), (MAX_DAYS + 1, 2048), (365, 1024), (365, 2047)] {
            let e = generate(&Request {
                subject: &s,
                days,
                key_bits: bits,
            })
            .unwrap_err();
            assert_eq!(e.exit_code(), 2, "{days} {bits}: {e}");
        }
    }
}
