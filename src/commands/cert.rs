//! `graphd cert`: inspect a credential file.
//!
//! The report is printed even for a file graphd would refuse (expired, mismatched, weak), so
//! the user sees what is wrong; the refusal then follows on stderr with exit code 3.

use crate::cli::CertArgs;
use crate::credential::{self, Credential, report::CertReport};
use crate::error::Result;
use crate::settings::KeySource;
use crate::{messages, output, settings};

pub fn run(args: &CertArgs) -> Result<()> {
    let mut credential_args = args.credential.clone();
    if let Some(file) = &args.file {
        credential_args.cert = Some(file.clone());
    }
    let (source, mut passwords) =
        match settings::key_source_only(&credential_args, args.config.as_deref())? {
            KeySource::Files { source, passwords } => (source, passwords),
            KeySource::Pkcs11(spec) => return super::cert_token::run(*spec, args.json),
        };
    let material = credential::read_material(&source, &mut passwords)?;
    let report = CertReport::new(&material, &source.cert.display().to_string())?;
    match &report {
        Some(r) if args.json => output::json(r)?,
        Some(r) => output::text(&r.to_text())?,
        None => {}
    }
    let credential = Credential::from_material(material, &source)?;
    for w in credential.warnings() {
        messages::warn(w);
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
    }
    Ok(())
}
