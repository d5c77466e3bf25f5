//! The emulator's application objects and its `addKey` / `removeKey`, driven by hand so each
//! request breaks exactly one rule of the proof of possession
//! (docs/protocol.md#certificate-self-rotation): Graph answers every defect with 401
//! `Authentication_MissingOrMalformed`, and nothing changes.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
use graphd::jws::{self, Alg};
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use serde_json::{Value, json};

use super::*;
use crate::emulator::{
    Answer, Jwt, client, fixture, graph_get, now, post_assertion, self_signed, send, sha1, sha256,
};

const AUDIENCE: &str = "00000002-0000-0000-c000-000000000000";
const OTHER_APP: &str = "99999999-8888-4777-8666-555555555555";

fn new_key() -> PKey<Private> {
    PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap()
}

/// The emulator with the shared app (the fixture certificate and an expired one) and a token.
struct Setup {
    emu: crate::support::emulator::TestEmulator,
    token: String,
    object_id: String,
    expired: (PKey<Private>, X509),
}

async fn setup(roles: &[&str], propagation_ms: u64) -> Setup {
    let key = new_key();
    let cert = self_signed(&key, 7, now() - 86_400 * 30, now() - 86_400);
    let emu = crate::emulator::start_with(EmulatorConfig {
        apps: vec![AppRegistration {
            client_id: CLIENT_ID.into(),
            certificates: vec![fixture().cert.clone(), cert.clone()],
            roles: roles.iter().map(|r| r.to_string()).collect(),
        }],
        key_propagation_ms: propagation_ms,
        ..EmulatorConfig::default()
    });
    let token = crate::emulator::token(&emu).await;
    let object_id = emu.object_id(CLIENT_ID).unwrap();
    Setup {
        emu,
        token,
        object_id,
        expired: (key, cert),
    }
}

/// The header Microsoft's sample sends (RS256, `x5t`, `kid`) for `cert`.
fn header(cert: &X509) -> Value {
    let hex: String = sha1(cert).iter().map(|b| format!("{b:02X}")).collect();
    json!({"alg": "RS256", "typ": "JWT", "x5t": URL_SAFE_NO_PAD.encode(sha1(cert)), "kid": hex})
}

fn claims(s: &Setup) -> Value {
    let t = now();
    json!({"aud": AUDIENCE, "iss": s.object_id, "nbf": t, "exp": t + 600, "iat": t})
}

fn sign(key: &PKey<Private>, header: &Value, claims: &Value) -> String {
    jws::encode(Alg::RS256, key, header, claims)
        .unwrap()
        .to_string()
}

/// A valid proof, signed with the fixture key.
fn valid(s: &Setup) -> String {
    sign(&fixture().key, &header(&fixture().cert), &claims(s))
}

/// The same JWS with every segment in padded base64url (the payload made to need padding).
fn padded(s: &Setup) -> String {
    let h = serde_json::to_vec(&header(&fixture().cert)).unwrap();
    let mut c = claims(s);
    let mut filler = String::new();
    let p = loop {
        c["x"] = json!(filler);
        let p = serde_json::to_vec(&c).unwrap();
        if !p.len().is_multiple_of(3) {
            break p;
        }
        filler.push('x');
    };
    let input = format!("{}.{}", URL_SAFE.encode(&h), URL_SAFE.encode(&p));
    let sig = jws::sign(Alg::RS256, &fixture().key, input.as_bytes()).unwrap();
    let jwt = format!("{input}.{}", URL_SAFE.encode(sig));
    assert!(jwt.contains('='), "{jwt}");
    jwt
}

fn action_url(s: &Setup, action: &str) -> String {
    format!(
        "{}/v1.0/applications/{}/{action}",
        graphd::cloud::base_str(&s.emu.graph_endpoint()),
        s.object_id
    )
}

async fn post(s: &Setup, action: &str, body: &Value, token: &str) -> Answer {
    send(
        client()
            .post(action_url(s, action))
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(body.to_string()),
    )
    .await
}

fn add_body(cert: &X509, proof: Option<&str>) -> Value {
    let mut b = json!({
        "keyCredential": {"type": "AsymmetricX509Cert", "usage": "Verify", "key": STANDARD.encode(cert.to_der().unwrap())},
        "passwordCredential": null,
    });
    if let Some(p) = proof {
        b["proof"] = json!(p);
    }
    b
}

fn new_cert() -> (PKey<Private>, X509) {
    let key = new_key();
    let cert = self_signed(&key, 11, now() - 60, now() + 86_400 * 30);
    (key, cert)
}

fn assert_malformed(a: &Answer, case: &str) {
    assert_eq!(
        a.status,
        401,
        "{case}: {}",
        String::from_utf8_lossy(&a.body)
    );
    let e = a.json();
    assert_eq!(
        e["error"]["code"], "Authentication_MissingOrMalformed",
        "{case}"
    );
    assert_eq!(
        e["error"]["message"], "Access Token missing or malformed.",
        "{case}"
    );
    assert!(e["error"]["innerError"]["request-id"].is_string(), "{case}");
}

#[tokio::test]
async fn each_proof_defect_is_refused_as_graph_does() {
    let s = setup(&[], 0).await;
    let before = registered(&s.emu);
    let (_, candidate) = new_cert();
    let fx = fixture();
    let with = |f: &dyn Fn(&mut Value)| {
        let mut c = claims(&s);
        f(&mut c);
        sign(&fx.key, &header(&fx.cert), &c)
    };
    let (stranger_key, stranger_cert) = new_cert();
    let (expired_key, expired_cert) = &s.expired;
    let cases: Vec<(&str, Option<String>)> = vec![
        (
            "aud is Microsoft Graph's app id",
            Some(with(&|c| {
                c["aud"] = json!("00000003-0000-0000-c000-000000000000")
            })),
        ),
        (
            "no aud",
            Some(with(&|c| {
                c.as_object_mut().unwrap().remove("aud");
            })),
        ),
        (
            "iss is the appId",
            Some(with(&|c| c["iss"] = json!(CLIENT_ID))),
        ),
        (
            "no iss",
            Some(with(&|c| {
                c.as_object_mut().unwrap().remove("iss");
            })),
        ),
        (
            "an 11-minute lifetime",
            Some(with(&|c| {
                c["exp"] = json!(c["nbf"].as_i64().unwrap() + 660)
            })),
        ),
        (
            "no nbf",
            Some(with(&|c| {
                c.as_object_mut().unwrap().remove("nbf");
            })),
        ),
        (
            "no exp",
            Some(with(&|c| {
                c.as_object_mut().unwrap().remove("exp");
            })),
        ),
        (
            "expired",
            Some(with(&|c| {
                c["nbf"] = json!(now() - 1200);
                c["exp"] = json!(now() - 600);
            })),
        ),
        (
            "nbf as a string",
            Some(with(&|c| c["nbf"] = json!(c["nbf"].to_string()))),
        ),
        ("padded base64", Some(padded(&s))),
        (
            "signed by an unregistered key",
            Some(sign(&stranger_key, &header(&stranger_cert), &claims(&s))),
        ),
        (
            "an unregistered key naming a registered certificate",
            Some(sign(&stranger_key, &header(&fx.cert), &claims(&s))),
        ),
        (
            "signed by an expired registered certificate",
            Some(sign(expired_key, &header(expired_cert), &claims(&s))),
        ),
        (
            "x5t and kid naming different certificates",
            Some({
                let mut h = header(&fx.cert);
                h["kid"] = header(expired_cert)["kid"].clone();
                sign(&fx.key, &h, &claims(&s))
            }),
        ),
        (
            "alg none",
            Some(format!(
                "{}.{}.",
                URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#),
                URL_SAFE_NO_PAD.encode(claims(&s).to_string())
            )),
        ),
        ("not a JWT", Some("not-a-jwt".into())),
        ("no proof", None),
    ];
    for (case, proof) in &cases {
        let a = post(
            &s,
            "addKey",
            &add_body(&candidate, proof.as_deref()),
            &s.token,
        )
        .await;
        assert_malformed(&a, case);
    }
    assert_eq!(registered(&s.emu), before, "nothing was added");
    // The same request with a valid proof is accepted: the refusals above are the proofs'.
    let a = post(
        &s,
        "addKey",
        &add_body(&candidate, Some(&valid(&s))),
        &s.token,
    )
    .await;
    assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
    assert_eq!(registered(&s.emu).len(), before.len() + 1);
}

#[tokio::test]
async fn addkey_and_removekey_answer_as_graph_documents() {
    let s = setup(&[], 0).await;
    let (new_key, candidate) = new_cert();
    let body = add_body(&candidate, Some(&valid(&s)));
    let a = post(&s, "addKey", &body, &s.token).await;
    assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
    let k = a.json();
    let hex: String = sha1(&candidate)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect();
    assert_eq!(k["customKeyIdentifier"], hex.as_str());
    assert_eq!(
        (k["type"].as_str(), k["usage"].as_str()),
        (Some("AsymmetricX509Cert"), Some("Verify"))
    );
    assert!(k["key"].is_null());
    assert!(
        k["@odata.context"]
            .as_str()
            .unwrap()
            .ends_with("$metadata#microsoft.graph.keyCredential")
    );
    let key_id = k["keyId"].as_str().unwrap().to_string();
    assert!(graphd::cloud::is_guid(&key_id));
    // With no propagation delay, the new key gets tokens at once.
    let mut jwt = Jwt::valid(&s.emu);
    jwt.header["x5t#S256"] = json!(URL_SAFE_NO_PAD.encode(sha256(&candidate)));
    assert_eq!(
        post_assertion(&s.emu, &jwt.sign_with(&new_key))
            .await
            .status,
        200
    );

    // removeKey: a bad proof changes nothing; a good one answers 204 with no body.
    let mut wrong = claims(&s);
    wrong["iss"] = json!(CLIENT_ID);
    let bad = sign(&fixture().key, &header(&fixture().cert), &wrong);
    let a = post(
        &s,
        "removeKey",
        &json!({"keyId": key_id, "proof": bad}),
        &s.token,
    )
    .await;
    assert_malformed(&a, "removeKey with iss = appId");
    assert!(credentials(&s.emu).iter().any(|c| c.key_id == key_id));
    let a = post(
        &s,
        "removeKey",
        &json!({"keyId": key_id, "proof": valid(&s)}),
        &s.token,
    )
    .await;
    assert_eq!(a.status, 204, "{}", String::from_utf8_lossy(&a.body));
    assert!(a.body.is_empty());
    assert!(!credentials(&s.emu).iter().any(|c| c.key_id == key_id));
    // A removed key stops working at once.
    assert_eq!(
        post_assertion(&s.emu, &jwt.sign_with(&new_key))
            .await
            .aadsts(),
        700027
    );
    let a = post(
        &s,
        "removeKey",
        &json!({"keyId": key_id, "proof": valid(&s)}),
        &s.token,
    )
    .await;
    assert_eq!(a.status, 400, "an unknown keyId");
}

#[tokio::test]
async fn bodies_graph_cannot_use_are_refused_and_add_nothing() {
    let s = setup(&[], 0).await;
    let before = registered(&s.emu);
    let (_, candidate) = new_cert();
    let proof = valid(&s);
    let unreadable = send(
        client()
            .post(action_url(&s, "addKey"))
            .bearer_auth(&s.token)
            .body(add_body(&candidate, Some(&proof)).to_string()),
    )
    .await;
    assert_eq!(unreadable.status, 400, "no Content-Type");
    assert_eq!(unreadable.json()["error"]["code"], "BadRequest");
    let mut cases: Vec<(&str, Value, &str)> = Vec::new();
    let mut b = add_body(&candidate, Some(&proof));
    b["keyCredential"]["usage"] = json!("Bogus");
    cases.push(("usage Bogus", b, "Acceptable values are Sign, Verify."));
    let mut b = add_body(&candidate, Some(&proof));
    b["keyCredential"]["usage"] = json!("Sign");
    cases.push(("usage Sign", b, "'usage'"));
    let mut b = add_body(&candidate, Some(&proof));
    b["keyCredential"]["key"] = json!(STANDARD.encode(b"not a certificate"));
    cases.push(("not a certificate", b, "'key'"));
    let mut b = add_body(&candidate, Some(&proof));
    b["passwordCredential"] = json!({"secretText": "x"});
    cases.push(("a password", b, "'passwordCredential'"));
    for (case, body, says) in cases {
        let a = post(&s, "addKey", &body, &s.token).await;
        assert_eq!(
            a.status,
            400,
            "{case}: {}",
            String::from_utf8_lossy(&a.body)
        );
        let m = a.json()["error"]["message"].as_str().unwrap().to_string();
        assert!(m.contains(says), "{case}: {m}");
    }
    assert_eq!(registered(&s.emu), before);
}

#[tokio::test]
async fn only_the_app_itself_or_application_readwrite_all_rolls_keys() {
    let s = setup(&[], 0).await;
    let (other_key, other_cert) = new_cert();
    let other_token = |roles: &[&str]| {
        s.emu.register_app(AppRegistration {
            client_id: OTHER_APP.into(),
            certificates: vec![other_cert.clone()],
            roles: roles.iter().map(|r| r.to_string()).collect(),
        });
        let mut jwt = Jwt::valid(&s.emu);
        jwt.header["x5t#S256"] = json!(URL_SAFE_NO_PAD.encode(sha256(&other_cert)));
        jwt.claims["iss"] = json!(OTHER_APP);
        jwt.claims["sub"] = json!(OTHER_APP);
        jwt.sign_with(&other_key)
    };
    let (_, candidate) = new_cert();
    let assertion = other_token(&[]);
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", OTHER_APP),
        ("scope", crate::emulator::GRAPH_SCOPE),
        ("client_assertion_type", crate::emulator::ASSERTION_TYPE),
        ("client_assertion", assertion.as_str()),
    ]
    .map(|(k, v)| (k.to_string(), v.to_string()));
    let t = crate::emulator::post_form(&s.emu, &form).await.json()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let a = post(&s, "addKey", &add_body(&candidate, Some(&valid(&s))), &t).await;
    assert_eq!(a.status, 403, "{}", String::from_utf8_lossy(&a.body));
    assert_eq!(a.json()["error"]["code"], "Authorization_RequestDenied");
    let assertion = other_token(&["Application.ReadWrite.All"]);
    let mut form = form;
    form[4].1 = assertion;
    let t = crate::emulator::post_form(&s.emu, &form).await.json()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let a = post(&s, "addKey", &add_body(&candidate, Some(&valid(&s))), &t).await;
    assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
}

#[tokio::test]
async fn the_application_is_readable_with_application_read_all_only() {
    let s = setup(&[], 0).await;
    let by_app_id = format!("/v1.0/applications(appId='{CLIENT_ID}')?$select=id,keyCredentials");
    let a = graph_get(&s.emu, &by_app_id, &s.token).await;
    assert_eq!(a.status, 403);
    assert_eq!(a.json()["error"]["code"], "Authorization_RequestDenied");

    let s = setup(&["Application.Read.All"], 0).await;
    let v = graph_get(&s.emu, &by_app_id, &s.token).await.json();
    assert_eq!(v["id"], s.object_id.as_str());
    assert!(
        v["@odata.context"]
            .as_str()
            .unwrap()
            .ends_with("$metadata#applications(id,keyCredentials)/$entity")
    );
    let first = &v["keyCredentials"][0];
    let hex: String = sha1(&fixture().cert)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect();
    assert_eq!(first["customKeyIdentifier"], hex.as_str());
    assert_eq!(
        first["key"],
        STANDARD.encode(fixture().cert.to_der().unwrap()).as_str()
    );
    assert!(graphd::cloud::is_guid(first["keyId"].as_str().unwrap()));
    assert_eq!(v["keyCredentials"].as_array().unwrap().len(), 2);
    // By object id, percent-encoded appId, without $select (no key then).
    let by_id = graph_get(
        &s.emu,
        &format!("/v1.0/applications/{}", s.object_id),
        &s.token,
    )
    .await
    .json();
    assert_eq!(by_id["appId"], CLIENT_ID);
    assert!(by_id["keyCredentials"][0]["key"].is_null());
    let encoded = format!("/v1.0/applications(appId=%27{CLIENT_ID}%27)");
    assert_eq!(
        graph_get(&s.emu, &encoded, &s.token).await.json()["id"],
        s.object_id.as_str()
    );
    for (path, status) in [
        (
            "/v1.0/applications/00000000-0000-4000-8000-000000000000".to_string(),
            404,
        ),
        (
            format!("/v1.0/applications/{}?$select=id,nonsense", s.object_id),
            400,
        ),
        ("/v1.0/applications".to_string(), 501),
        (format!("/v1.0/applications/{}/addKey", s.object_id), 405),
    ] {
        assert_eq!(
            graph_get(&s.emu, &path, &s.token).await.status,
            status,
            "{path}"
        );
    }
}

#[tokio::test]
async fn added_keys_propagate_to_the_token_side_removed_ones_stop_at_once() {
    let s = setup(&[], 3_600_000).await;
    let (new_key, candidate) = new_cert();
    let a = post(
        &s,
        "addKey",
        &add_body(&candidate, Some(&valid(&s))),
        &s.token,
    )
    .await;
    assert_eq!(a.status, 200);
    let mut jwt = Jwt::valid(&s.emu);
    jwt.header["x5t#S256"] = json!(URL_SAFE_NO_PAD.encode(sha256(&candidate)));
    assert_eq!(
        post_assertion(&s.emu, &jwt.sign_with(&new_key))
            .await
            .aadsts(),
        700027
    );
    let added = credentials(&s.emu).pop().unwrap();
    assert!(!added.usable_for_tokens);
    // Graph itself knows the key already: it signs a valid proof for removing the old one.
    let old_id = credentials(&s.emu)[0].key_id.clone();
    let mut c = claims(&s);
    c["iat"] = json!(now());
    let by_new = sign(&new_key, &header(&candidate), &c);
    let a = post(
        &s,
        "removeKey",
        &json!({"keyId": old_id, "proof": by_new}),
        &s.token,
    )
    .await;
    assert_eq!(a.status, 204, "{}", String::from_utf8_lossy(&a.body));
    let old = crate::emulator::Jwt::valid(&s.emu).sign();
    assert_eq!(
        post_assertion(&s.emu, &old).await.aadsts(),
        700027,
        "the old key stops at once"
    );
}
