//! The application object as rotation sees it: where it is in Graph, its key credentials,
//! which of them is the current certificate, and the bodies of `addKey` and `removeKey`
//! (<https://learn.microsoft.com/graph/api/application-addkey>,
//! <https://learn.microsoft.com/graph/api/application-removekey>,
//! docs/protocol.md#certificate-self-rotation).
//!
//! Request bodies carry the proof of possession: they are built in zeroizing memory sized up
//! front and never logged. Only the fields rotation uses are deserialized.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use url::Url;
use zeroize::Zeroizing;

use super::proof::PossessionProof;
use crate::credential::Thumbprints;
use crate::error::{Result, RotateProblem};
use crate::graph::Graph;

/// What is read of the application: `key` of each credential comes only with `$select` on
/// a single application (keyCredential resource page).
pub const SELECT: &str = "id,appId,keyCredentials";

/// An application, as far as rotation needs it.
#[derive(Debug, Clone, Deserialize)]
pub struct Application {
    pub id: String,
    #[serde(rename = "appId", default)]
    pub app_id: Option<String>,
    #[serde(rename = "keyCredentials", default)]
    pub key_credentials: Vec<KeyCredential>,
}

/// One of the application's key credentials (Graph's keyCredential resource).
#[derive(Debug, Clone, Deserialize)]
pub struct KeyCredential {
    #[serde(rename = "keyId")]
    pub key_id: String,
    /// The certificate's SHA-1 thumbprint unless the uploader set something else: as hex
    /// when Graph or the portal filled it in, as base64 when PowerShell or az did.
    #[serde(rename = "customKeyIdentifier", default)]
    pub custom_key_identifier: Option<String>,
    /// Base64 of the certificate's DER (returned with `$select` on one application only).
    #[serde(default)]
    pub key: Option<String>,
}

impl KeyCredential {
    /// Whether this credential is the certificate with these thumbprints: by
    /// `customKeyIdentifier` (hex, any case, or base64 of the SHA-1), else by the SHA-1 of
    /// its `key`.
    pub fn is_certificate(&self, t: &Thumbprints) -> bool {
        let by_identifier = self.custom_key_identifier.as_deref().is_some_and(|id| {
            let id = id.trim();
            id.eq_ignore_ascii_case(&t.sha1_hex())
                || STANDARD
                    .decode(id)
                    .is_ok_and(|raw| raw.as_slice() == t.sha1.as_slice())
        });
        let by_key = self.key.as_deref().is_some_and(|k| {
            STANDARD
                .decode(k.trim())
                .is_ok_and(|der| Thumbprints::of_der(&der).sha1 == t.sha1)
        });
        by_identifier || by_key
    }
}

/// `/v1.0/applications(appId='{client id}')?$select=...`: the application by its client id.
pub fn by_app_id(graph: &Graph<'_>, client_id: &str) -> Result<Url> {
    graph.resolve(&format!(
        "/v1.0/applications(appId='{client_id}')?$select={SELECT}"
    ))
}

/// `/v1.0/applications/{object id}?$select=...`.
pub fn by_object_id(graph: &Graph<'_>, object_id: &str) -> Result<Url> {
    graph.resolve(&format!("/v1.0/applications/{object_id}?$select={SELECT}"))
}

/// `/v1.0/applications/{object id}/{action}` (`addKey`, `removeKey`).
pub fn action(graph: &Graph<'_>, object_id: &str, action: &str) -> Result<Url> {
    graph.resolve(&format!("/v1.0/applications/{object_id}/{action}"))
}

/// Parses a `GET` answer.
pub fn parse_application(body: &[u8]) -> Result<Application, String> {
    serde_json::from_slice(body).map_err(|e| format!("not an application ({e})"))
}

#[derive(Serialize)]
struct NewKeyCredential<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    usage: &'static str,
    key: &'a str,
    #[serde(rename = "displayName")]
    display_name: &'a str,
}

#[derive(Serialize)]
struct AddKey<'a> {
    #[serde(rename = "keyCredential")]
    key_credential: NewKeyCredential<'a>,
    /// `null` for an `AsymmetricX509Cert` (application: addKey).
    #[serde(rename = "passwordCredential")]
    password_credential: Option<()>,
    proof: &'a str,
}

#[derive(Serialize)]
struct RemoveKey<'a> {
    #[serde(rename = "keyId")]
    key_id: &'a str,
    proof: &'a str,
}

/// Serializes into zeroizing memory that is large enough from the start (a reallocation
/// would leave an unwiped copy of the proof behind).
fn to_body(value: &impl Serialize, capacity: usize) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::with_capacity(capacity));
    // Writing a struct of strings into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, value);
    out
}

/// The `addKey` body for a certificate (DER), named `display_name`.
pub fn add_key_body(
    cert_der: &[u8],
    display_name: &str,
    proof: &PossessionProof,
) -> Zeroizing<Vec<u8>> {
    let key = STANDARD.encode(cert_der);
    let body = AddKey {
        key_credential: NewKeyCredential {
            kind: "AsymmetricX509Cert",
            usage: "Verify",
            key: &key,
            display_name,
        },
        password_credential: None,
        proof: proof.expose_secret(),
    };
    to_body(
        &body,
        key.len() + display_name.len() * 6 + proof.expose_secret().len() + 256,
    )
}

/// The `removeKey` body.
pub fn remove_key_body(key_id: &str, proof: &PossessionProof) -> Zeroizing<Vec<u8>> {
    let body = RemoveKey {
        key_id,
        proof: proof.expose_secret(),
    };
    to_body(&body, key_id.len() * 6 + proof.expose_secret().len() + 64)
}

/// The key credential `addKey` answered with; it must be the certificate that was sent.
pub fn parse_added(body: &[u8], sent: &Thumbprints) -> Result<KeyCredential, RotateProblem> {
    let bad = |why: String| RotateProblem::AddKeyAnswer { why };
    let added: KeyCredential =
        serde_json::from_slice(body).map_err(|e| bad(format!("no keyId ({e})")))?;
    if !crate::cloud::is_guid(added.key_id.trim()) {
        return Err(bad("its keyId is not a GUID".into()));
    }
    // Graph fills customKeyIdentifier with the thumbprint when none is sent (keyCredential
    // resource); an answer naming another certificate is not this one.
    if added.custom_key_identifier.is_some() && !added.is_certificate(sent) {
        return Err(bad("it names another certificate".into()));
    }
    Ok(added)
}

#[cfg(test)]
mod tests {
    use openssl::pkey::PKey;
    use openssl::rsa::Rsa;

    use super::*;
    use crate::rotate::proof;

    fn thumbprints() -> (Vec<u8>, Thumbprints) {
        let der = b"a certificate's DER, as far as digests care".to_vec();
        let t = Thumbprints::of_der(&der);
        (der, t)
    }

    #[test]
    fn the_current_certificate_is_found_in_every_form_graph_shows_it() {
        let (der, t) = thumbprints();
        let cred = |id: Option<String>, key: Option<String>| KeyCredential {
            key_id: "k".into(),
            custom_key_identifier: id,
            key,
        };
        assert!(cred(Some(t.sha1_hex()), None).is_certificate(&t));
        assert!(cred(Some(t.sha1_hex().to_ascii_lowercase()), None).is_certificate(&t));
        assert!(cred(Some(STANDARD.encode(t.sha1)), None).is_certificate(&t));
        assert!(cred(Some("custom".into()), Some(STANDARD.encode(&der))).is_certificate(&t));
        assert!(!cred(Some("custom".into()), None).is_certificate(&t));
        let other = Thumbprints::of_der(b"another");
        assert!(!cred(Some(other.sha1_hex()), None).is_certificate(&t));
        assert!(!cred(None, Some(STANDARD.encode(b"another"))).is_certificate(&t));
    }

    #[test]
    fn bodies_are_graphs_shapes() {
        let key = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
        let (der, t) = thumbprints();
        let pop = proof::sign(
            &key,
            &proof::header(&t),
            &proof::claims("0b0e9f8a-0000-4000-8000-000000000001", proof::AUDIENCE, 1),
        )
        .unwrap();
        let body = add_key_body(&der, "graphd 2026-12-01", &pop);
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["keyCredential"]["type"], "AsymmetricX509Cert");
        assert_eq!(v["keyCredential"]["usage"], "Verify");
        assert_eq!(v["keyCredential"]["key"], STANDARD.encode(&der));
        assert_eq!(v["keyCredential"]["displayName"], "graphd 2026-12-01");
        assert!(v["passwordCredential"].is_null() && v.get("passwordCredential").is_some());
        assert_eq!(v["proof"], pop.expose_secret());
        assert!(body.len() <= body.capacity());

        let body = remove_key_body("f0b0b335-1d71-4883-8f98-567911bfdca6", &pop);
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["keyId"], "f0b0b335-1d71-4883-8f98-567911bfdca6");
        assert_eq!(v["proof"], pop.expose_secret());
        assert_eq!(v.as_object().unwrap().len(), 2);
    }

    #[test]
    fn the_added_key_must_be_the_one_sent() {
        let (_, t) = thumbprints();
        let ok = format!(
            r#"{{"@odata.context":"x","keyId":"f0b0b335-1d71-4883-8f98-567911bfdca6","customKeyIdentifier":"{}","type":"AsymmetricX509Cert","usage":"Verify"}}"#,
            t.sha1_hex()
        );
        assert_eq!(
            parse_added(ok.as_bytes(), &t).unwrap().key_id,
            "f0b0b335-1d71-4883-8f98-567911bfdca6"
        );
        for bad in [
            r#"{"@odata.context":"x"}"#.to_string(),
            r#"{"keyId":"nope"}"#.to_string(),
            r#"{"keyId":"f0b0b335-1d71-4883-8f98-567911bfdca6","customKeyIdentifier":"AB"}"#
                .to_string(),
        ] {
            assert!(parse_added(bad.as_bytes(), &t).is_err(), "{bad}");
        }
    }
}
