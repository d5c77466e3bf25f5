//! What `graphd cert` reports about a credential file, computed without refusing anything,
//! so that even a file graphd will not use can be inspected.

use openssl::nid::Nid;
use openssl::x509::{X509, X509NameRef};
use serde::Serialize;

use super::{Material, Thumbprints, find_leaf, key_kind};
use crate::clock;
use crate::error::Result;
use crate::safe_text;

/// The facts about one credential, in the order they are printed.
#[derive(Debug, Serialize)]
pub struct CertReport {
    pub file: String,
    pub subject: String,
    pub issuer: String,
    pub serial: String,
    pub not_before: String,
    pub not_after: String,
    /// `valid`, `expired` or `not yet valid`, against this machine's clock.
    pub status: &'static str,
    pub days_left: i64,
    pub signature_algorithm: String,
    pub key_type: String,
    pub key_bits: u32,
    pub private_key: bool,
    /// The file the private key was read from (the inspected file itself, or `--key`'s);
    /// `null` when there is none: a file of certificates only, which is normal to inspect.
    pub private_key_file: Option<String>,
    /// Whether the private key matches this certificate; `null` without a private key.
    pub key_match: Option<bool>,
    /// SHA-1 thumbprint in uppercase hex, as the Azure portal shows it.
    pub thumbprint: String,
    pub x5t: String,
    #[serde(rename = "x5t#S256")]
    pub x5t_s256: String,
    pub chain_length: usize,
}

impl CertReport {
    /// Describes the leaf of `material` (the certificate matching the key, else the one that
    /// issued no other), or `None` when there is no certificate at all.
    pub fn new(material: &Material, file: &str) -> Result<Option<Self>> {
        let key = material.keys.first();
        let matched = key.and_then(|k| find_leaf(k, &material.certs));
        let Some(index) = matched.or_else(|| likely_leaf(&material.certs)) else {
            return Ok(None);
        };
        let cert = &material.certs[index];
        let thumbprints = Thumbprints::of_cert(cert)?;
        let now = clock::now_unix();
        let not_before = clock::asn1_to_unix(cert.not_before()).unwrap_or(i64::MIN);
        let not_after = clock::asn1_to_unix(cert.not_after()).unwrap_or(i64::MAX);
        let status = if now < not_before {
            "not yet valid"
        } else if now > not_after {
            "expired"
        } else {
            "valid"
        };
        let (key_type, key_bits) = match key {
            Some(k) => (key_kind(k.id()), k.bits()),
            None => cert
                .public_key()
                .map(|p| (key_kind(p.id()), p.bits()))
                .unwrap_or_else(|_| ("unknown".into(), 0)),
        };
        let serial = cert
            .serial_number()
            .to_bn()
            .ok()
            .and_then(|bn| bn.to_hex_str().ok().map(|h| h.to_string()))
            .unwrap_or_default();
        Ok(Some(CertReport {
            file: file.to_string(),
            subject: name_to_string(cert.subject_name()),
            issuer: name_to_string(cert.issuer_name()),
            serial,
            not_before: clock::rfc3339(not_before),
            not_after: clock::rfc3339(not_after),
            status,
            days_left: (not_after - now).div_euclid(86_400),
            signature_algorithm: cert
                .signature_algorithm()
                .object()
                .nid()
                .long_name()
                .unwrap_or("unknown")
                .to_string(),
            key_type,
            key_bits,
            private_key: key.is_some(),
            private_key_file: key
                .and(material.key_path.as_ref())
                .map(|p| p.display().to_string()),
            key_match: key.map(|_| matched.is_some()),
            thumbprint: thumbprints.sha1_hex(),
            x5t: thumbprints.x5t(),
            x5t_s256: thumbprints.x5t_s256().unwrap_or_default(),
            chain_length: material.certs.len(),
        }))
    }

    /// The human-readable form: aligned `name: value` lines. Every value is shown through
    /// `safe_text::escape`: a certificate's subject and issuer are whatever its maker wrote,
    /// escape sequences and bidi overrides included, and must not drive the terminal.
    pub fn to_text(&self) -> String {
        let key_match = match self.key_match {
            Some(true) => "yes",
            Some(false) => "NO: the private key belongs to another certificate",
            None => "n/a (no private key)",
        };
        let private_key = match &self.private_key_file {
            Some(f) if *f == self.file => "in this file".to_string(),
            Some(f) => format!("in {f}"),
            None => "not in this file".to_string(),
        };
        let validity = match self.status {
            "valid" => format!("valid, {} days left", self.days_left),
            other => other.to_string(),
        };
        let rows = [
            ("file", self.file.clone()),
            ("subject", self.subject.clone()),
            ("issuer", self.issuer.clone()),
            ("serial", self.serial.clone()),
            ("not before", self.not_before.clone()),
            ("not after", self.not_after.clone()),
            ("status", validity),
            ("signature", self.signature_algorithm.clone()),
            ("key", format!("{} {} bits", self.key_type, self.key_bits)),
            ("private key", private_key),
            ("key matches", key_match.to_string()),
            (
                "thumbprint",
                format!("{} (SHA-1, as the Azure portal shows it)", self.thumbprint),
            ),
            ("x5t", self.x5t.clone()),
            ("x5t#S256", self.x5t_s256.clone()),
            ("chain", format!("{} certificate(s)", self.chain_length)),
        ];
        let mut out = String::new();
        for (name, value) in rows {
            let value = safe_text::escape(&value);
            out.push_str(&format!("{:<12} {value}\n", format!("{name}:")));
        }
        out
    }
}

/// `CN=graphd, O=Contoso` in the certificate's own order.
pub fn name_to_string(name: &X509NameRef) -> String {
    name.entries()
        .map(|e| {
            let nid = e.object().nid();
            let label = match nid {
                Nid::COMMONNAME => "CN",
                Nid::ORGANIZATIONNAME => "O",
                Nid::ORGANIZATIONALUNITNAME => "OU",
                Nid::COUNTRYNAME => "C",
                Nid::STATEORPROVINCENAME => "ST",
                Nid::LOCALITYNAME => "L",
                _ => nid.short_name().unwrap_or("?"),
            };
            let value = e.data().to_string().unwrap_or_else(|_| "?".into());
            format!("{label}={value}")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Without a key to match: the certificate that is nobody's issuer.
pub fn likely_leaf(certs: &[X509]) -> Option<usize> {
    if certs.is_empty() {
        return None;
    }
    let issues_another = |i: usize| {
        certs.iter().enumerate().any(|(j, other)| {
            j != i
                && other
                    .issuer_name()
                    .try_cmp(certs[i].subject_name())
                    .is_ok_and(|o| o.is_eq())
        })
    };
    Some((0..certs.len()).find(|&i| !issues_another(i)).unwrap_or(0))
}
