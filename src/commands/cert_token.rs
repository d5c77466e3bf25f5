//! `graphd cert 'pkcs11:...'`: the usual certificate report, plus the token and the key as the
//! token describes them (label, id, sensitive, extractable, the mechanisms graphd would use).
//!
//! As for files, the report is printed even when graphd would refuse the key (not RSA, too
//! small, another certificate's), and the refusal follows with exit code 3.

use serde::Serialize;

use crate::credential::Material;
use crate::credential::report::CertReport;
use crate::error::Result;
use crate::jws::Alg;
use crate::pkcs11::{Found, KeySpec, TokenCredential, Way};
use crate::{messages, output};

/// What the token says about itself and the key.
#[derive(Debug, Serialize)]
struct TokenReport {
    token: String,
    manufacturer: String,
    model: String,
    serial: String,
    slot: u64,
    slot_description: String,
    module: String,
    key: String,
    key_type: String,
    key_bits: u32,
    sensitive: Option<bool>,
    extractable: Option<bool>,
    always_sensitive: Option<bool>,
    never_extractable: Option<bool>,
    /// Generated inside the token (`CKA_LOCAL`).
    generated_in_token: Option<bool>,
    ps256: Option<&'static str>,
    rs256: Option<&'static str>,
}

pub fn run(spec: KeySpec, json: bool) -> Result<()> {
    let module = spec.module.display().to_string();
    let credential = TokenCredential::open(spec)?;
    let found = credential.find()?;
    let token = token_report(&credential, &found, module);
    let mut report = CertReport::new(
        &Material {
            certs: found.chain.clone(),
            ..Material::default()
        },
        &found.cert_name,
    )?;
    if let Some(r) = report.as_mut() {
        // The key is in the token: the chain was found by matching its public half.
        r.private_key = true;
        r.key_match = Some(true);
        r.key_type = found.key.key_type.clone();
        r.key_bits = found.key.bits;
    }
    if json {
        let mut value = match &report {
            Some(r) => serde_json::to_value(r).unwrap_or_default(),
            None => serde_json::json!({ "file": found.cert_name, "certificate": null }),
        };
        if let Some(object) = value.as_object_mut() {
            object.insert(
                "pkcs11".into(),
                serde_json::to_value(&token).unwrap_or_default(),
            );
        }
        output::json(&value)?;
    } else {
        let mut text = report.as_ref().map(|r| r.to_text()).unwrap_or_default();
        text.push_str(&token_text(&token));
        output::text(&text)?;
    }
    // Then every check a run would make, with its refusal.
    let alg = if found.ways.ps256.is_some() {
        Alg::PS256
    } else {
        Alg::RS256
    };
    let (_, _, warnings) = credential.load(alg)?;
    for w in warnings {
        messages::warn(&w);
    }
    Ok(())
}

fn token_report(credential: &TokenCredential, found: &Found, module: String) -> TokenReport {
    let facts = credential.token().facts();
    let key = &found.key;
    TokenReport {
        token: facts.label.clone(),
        manufacturer: facts.manufacturer.clone(),
        model: facts.model.clone(),
        serial: facts.serial.clone(),
        slot: facts.slot_id,
        slot_description: facts.slot_description.clone(),
        module,
        key: key.name(),
        key_type: key.key_type.clone(),
        key_bits: key.bits,
        sensitive: key.sensitive,
        extractable: key.extractable,
        always_sensitive: key.always_sensitive,
        never_extractable: key.never_extractable,
        generated_in_token: key.local,
        ps256: found.ways.ps256.map(Way::describe),
        rs256: found.ways.rs256.map(Way::describe),
    }
}

fn token_text(t: &TokenReport) -> String {
    let yes_no = |b: Option<bool>| match b {
        Some(true) => "yes",
        Some(false) => "no",
        None => "not reported",
    };
    let protection = match (t.sensitive, t.extractable) {
        (Some(true), Some(false)) => {
            "sensitive, not extractable: the private key cannot leave the token"
        }
        (_, Some(true)) => "EXTRACTABLE: the token lets the private key be exported (wrapped)",
        (Some(false), _) => "NOT SENSITIVE: the token may reveal the private key",
        _ => "not reported by the token",
    };
    let rows = [
        (
            "token",
            format!("'{}' ({}, {})", t.token, t.manufacturer, t.model),
        ),
        ("serial", t.serial.clone()),
        ("slot", format!("{} ({})", t.slot, t.slot_description)),
        ("module", t.module.clone()),
        ("key object", t.key.clone()),
        ("key", format!("{} {} bits", t.key_type, t.key_bits)),
        ("protection", protection.to_string()),
        ("always sensitive", yes_no(t.always_sensitive).to_string()),
        ("never extractable", yes_no(t.never_extractable).to_string()),
        ("made in token", yes_no(t.generated_in_token).to_string()),
        (
            "PS256",
            t.ps256
                .unwrap_or("not offered (use --alg RS256)")
                .to_string(),
        ),
        ("RS256", t.rs256.unwrap_or("not offered").to_string()),
    ];
    let mut out = String::from("\n");
    for (name, value) in rows {
        out.push_str(&format!("{:<18} {value}\n", format!("{name}:")));
    }
    out
}
