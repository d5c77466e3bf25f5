//! `graphd cert [FILE]`: inspect a credential file.
//!
//! The report is printed even for a file graphd would refuse (expired, mismatched, weak), so
//! the user sees what is wrong; the refusal then follows on stderr with exit code 3. A file of
//! certificates only (the upload file, a CA bundle) is a normal thing to inspect: it is
//! reported and accepted when the certificate itself is one Entra ID would take.
//!
//! With a federated credential there is no certificate: the report says so and shows the
//! token's source and claims (never the token).
//!
//! `--expires-within DAYS` turns it into a monitor: exit 7 when the (valid) certificate
//! expires within DAYS, exit 3 when it has expired, exit 0 otherwise.

use std::path::Path;

use serde_json::json;

use crate::cli::CertArgs;
use crate::credential::{self, Credential, report::CertReport};
use crate::error::{CredentialProblem, Error, Result, rounded_span};
use crate::identity;
use crate::settings::{Inspect, KeySource, PendingSource};
use crate::{clock, messages, output, settings};

pub fn run(args: &CertArgs) -> Result<()> {
    let (source, mut passwords) = match settings::inspect_target(
        &args.credential,
        &args.federated,
        args.config.as_deref(),
    )? {
        Inspect::Certificate(KeySource::Files { source, passwords }) => (source, passwords),
        Inspect::Certificate(KeySource::Pkcs11(spec)) => {
            return super::cert_token::run(*spec, args.json);
        }
        Inspect::Federated(pending) => return federated(args, &pending),
    };
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
    if certificates_only && let Some(leaf) = credential::report::likely_leaf(&material.certs) {
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

/// "no certificate: federated credential from ..." and what the token says.
fn federated(args: &CertArgs, pending: &PendingSource) -> Result<()> {
    let origin = pending.origin();
    let read = match pending {
        PendingSource::File { path, from_env } => identity::read_file(path, *from_env)?,
        PendingSource::Env(name) => identity::read_env(name)?,
        PendingSource::GitHub => {
            let note = "GitHub Actions: a new ID token is requested for every token request \
                        (see it with `graphd assertion --github-oidc --claims`)";
            return if args.json {
                output::json(&json!({"certificate": null, "federated": {"source": note}}))
            } else {
                output::line(&format!("no certificate: federated credential from {note}"))
            };
        }
    };
    let (header, payload) =
        identity::federated_decode(read.token.expose_secret()).map_err(|why| {
            Error::Federated(Box::new(crate::error::FederatedProblem::NotAJwt {
                origin: origin.clone(),
                why,
            }))
        })?;
    let c = identity::federated_facts(&header, &payload);
    let now = clock::now_unix();
    let when = |t: Option<i64>| t.map(clock::rfc3339);
    if args.json {
        output::json(&json!({
            "certificate": null,
            "federated": {
                "source": origin.to_string(),
                "alg": c.alg, "kid": c.kid, "iss": c.iss, "sub": c.sub, "aud": c.aud,
                "exp": c.exp, "expires": when(c.exp), "iat": c.iat, "nbf": c.nbf,
                "file_written": when(read.written_at),
            },
        }))?;
    } else {
        let relative = |t: i64| {
            if t > now {
                format!("in {}", rounded_span(t - now))
            } else {
                format!("{} ago", rounded_span(now - t))
            }
        };
        let line = |name: &str, v: Option<String>| {
            format!("{name:<14}{}\n", v.unwrap_or_else(|| "(none)".into()))
        };
        let mut text = format!("no certificate: federated credential from the {origin}\n");
        text += &line("issuer:", c.iss.clone());
        text += &line("subject:", c.sub.clone());
        text += &line("audience:", (!c.aud.is_empty()).then(|| c.aud.join(", ")));
        text += &line(
            "expires:",
            c.exp
                .map(|e| format!("{} ({})", clock::rfc3339(e), relative(e))),
        );
        text += &line(
            "issued:",
            c.iat
                .map(|i| format!("{} ({})", clock::rfc3339(i), relative(i))),
        );
        if let Some(w) = read.written_at {
            text += &line(
                "file written:",
                Some(format!("{} ({})", clock::rfc3339(w), relative(w))),
            );
        }
        text += &line("signed:", c.alg.clone());
        output::text(&text)?;
    }
    // As for an expired certificate: the report first, then the refusal (exit 3).
    let check = identity::federated_check_now(read.token.expose_secret(), &origin, read.written_at);
    check.map(|_| ())
}
