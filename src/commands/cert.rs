//! `graphd cert [FILE]`: inspect a credential file.
//!
//! The report is printed even for a file graphd would refuse (expired, mismatched, weak), so
//! the user sees what is wrong; the refusal then follows on stderr with exit code 3. A file of
//! certificates only (the upload file, a CA bundle) is a normal thing to inspect: it is
//! reported and accepted when the certificate itself is one Entra ID would take.
//!
//! `--expires-within DAYS` turns it into a monitor: exit 7 when the (valid) certificate
//! expires within DAYS, exit 3 when it has expired, exit 0 otherwise.

use std::path::Path;

use crate::cli::CertArgs;
use crate::credential::{self, Credential, report::CertReport};
use crate::error::{CredentialProblem, Error, Result};
use crate::{clock, messages, output, settings};

pub fn run(args: &CertArgs) -> Result<()> {
    let (source, mut passwords) =
        settings::credential_only(&args.credential, args.config.as_deref())?;
    let material = credential::read_material(&source, &mut passwords)?;
    let report = CertReport::new(&material, &source.cert.display().to_string())?;
    match &report {
        Some(r) if args.json => output::json(r)?,
        Some(r) => output::text(&r.to_text())?,
        None => {}
    }
    // No key anywhere and none asked for with --key: a certificate to describe, not a
    // credential to load. (A --key file without a key is a mistake, refused below.)
    let certificates_only = material.keys.is_empty() && source.key.is_none();
    if certificates_only {
        if let Some(leaf) = credential::report::likely_leaf(&material.certs) {
            let cert = &material.certs[leaf];
            let warnings = credential::check_certificate(cert, &source.cert)?;
            if args.expires_within.is_none() {
                for w in &warnings {
                    messages::warn(w);
                }
            }
            return expiry_check(
                args.expires_within,
                clock::asn1_to_unix(cert.not_after()),
                &source.cert,
            );
        }
    }
    let credential = Credential::from_material(material, &source)?;
    if args.expires_within.is_none() {
        for w in credential.warnings() {
            messages::warn(w);
        }
    }
    if report.is_none() {
        // A key file plus the quickstart's SHA-1 thumbprint: no certificate to describe.
        let t = credential.thumbprints();
        let facts = serde_json::json!({
            "file": source.cert.display().to_string(),
            "key_type": "RSA",
            "key_bits": credential.key().bits(),
            "private_key": true,
            "thumbprint": t.sha1_hex(),
            "x5t": t.x5t(),
            "certificate": null,
        });
        if args.json {
            output::json(&facts)?;
        } else {
            output::text(&format!(
                "file:        {}\nkey:         RSA {} bits\nthumbprint:  {} (from the config; no certificate)\nx5t:         {}\n",
                source.cert.display(),
                credential.key().bits(),
                t.sha1_hex(),
                t.x5t()
            ))?;
        }
        if args.expires_within.is_some() {
            // Only a thumbprint: there is no expiry to judge.
            return Err(Error::credential(
                Some(&source.cert),
                CredentialProblem::NoCertificate,
            ));
        }
    }
    expiry_check(args.expires_within, credential.not_after(), &source.cert)
}

/// `--expires-within DAYS`: exit 7 when a still valid certificate expires within DAYS
/// (an expired one was refused with exit 3 already).
fn expiry_check(within: Option<u32>, not_after: Option<i64>, path: &Path) -> Result<()> {
    let (Some(days), Some(not_after)) = (within, not_after) else {
        return Ok(());
    };
    let now = clock::now_unix();
    if not_after - now < i64::from(days) * 86_400 {
        return Err(Error::ExpiresWithin {
            path: path.to_path_buf(),
            not_after: clock::rfc3339(not_after),
            days_left: (not_after - now) / 86_400,
            within: days,
        });
    }
    messages::info(&format!(
        "the certificate expires on {}, in {} days: not within {days}",
        clock::rfc3339(not_after),
        (not_after - now) / 86_400
    ));
    Ok(())
}
