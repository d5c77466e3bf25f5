//! What real clients send and Entra accepts must pass (docs/protocol.md#what-peers-send): each variant alone.

use base64::engine::general_purpose::URL_SAFE;
use graphd::emulator::NBF_SKEW_SECS;
use graphd::jws::Alg;
use serde_json::json;

use super::*;
use crate::support::{CLIENT_ID, TENANT};

async fn accepted(emu: &Emulator, assertion: &str, case: &str) -> Value {
    let a = post_assertion(emu, assertion).await;
    assert_eq!(
        a.status,
        200,
        "{case}: {}",
        String::from_utf8_lossy(&a.body)
    );
    a.json()
}

fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("payload");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("b64")).expect("json")
}

#[tokio::test]
async fn ps256_with_x5t_s256_gets_an_app_only_graph_token() {
    let emu = start();
    let v = accepted(&emu, &Jwt::valid(&emu).sign(), "PS256 + x5t#S256").await;
    assert_eq!(v["token_type"], "Bearer");
    assert_eq!(v["expires_in"], 3599);
    assert_eq!(v["ext_expires_in"], 3599);
    let c = claims_of(v["access_token"].as_str().unwrap());
    assert_eq!(c["aud"], "https://graph.microsoft.com");
    assert_eq!(c["iss"], format!("https://sts.windows.net/{TENANT}/"));
    assert_eq!(c["tid"], TENANT);
    assert_eq!(c["appid"], CLIENT_ID);
    assert_eq!(c["idtyp"], "app");
    assert_eq!(c["appidacr"], "2");
    assert_eq!(c["ver"], "1.0");
    assert_eq!(c["roles"], json!(["User.Read.All"]));
    assert_eq!(c["oid"], c["sub"]);
    let (iat, exp) = (c["iat"].as_i64().unwrap(), c["exp"].as_i64().unwrap());
    assert_eq!(exp - iat, 3599);
    assert_eq!(emu.counters().tokens_issued, 1);
}

#[tokio::test]
async fn rs256_with_x5t() {
    let emu = start();
    accepted(&emu, &Jwt::rs256(&emu).sign(), "RS256 + x5t").await;
}

#[tokio::test]
async fn thumbprint_encodings_of_every_client() {
    // A certificate over the shared key whose standard-base64 thumbprints hold '+' or '/',
    // so the standard form really differs from base64url.
    let key = &fixture().key;
    let cert = (1..500)
        .map(|serial| self_signed(key, serial, now() - 60, now() + 86_400))
        .find(|c| {
            std_b64(&sha1(c)).contains(['+', '/']) && std_b64(&sha256(c)).contains(['+', '/'])
        })
        .expect("some serial gives such thumbprints");
    let emu = start_with(EmulatorConfig {
        apps: vec![AppRegistration {
            client_id: CLIENT_ID.into(),
            certificates: vec![cert.clone()],
            roles: vec![],
        }],
        ..Default::default()
    });
    let (s1, s256) = (sha1(&cert), sha256(&cert));
    for (case, header) in [
        (
            "x5t#S256 base64url padded (MSAL Python pfx)",
            json!({"alg": "PS256", "typ": "JWT", "x5t#S256": URL_SAFE.encode(&s256)}),
        ),
        (
            "x5t#S256 standard base64 padded (MSAL Go)",
            json!({"alg": "PS256", "typ": "JWT", "x5t#S256": std_b64(&s256)}),
        ),
        (
            "x5t base64url padded (MSAL Python pem)",
            json!({"alg": "RS256", "typ": "JWT", "x5t": URL_SAFE.encode(&s1)}),
        ),
        (
            "x5t standard base64 (Rust azure_identity)",
            json!({"alg": "RS256", "typ": "JWT", "x5t": std_b64(&s1)}),
        ),
        (
            "x5t standard base64 unpadded",
            json!({"alg": "RS256", "typ": "JWT", "x5t": std_b64(&s1).trim_end_matches('=')}),
        ),
    ] {
        let mut j = Jwt::valid(&emu);
        j.alg = if header["alg"] == "RS256" {
            Alg::RS256
        } else {
            Alg::PS256
        };
        j.header = header;
        accepted(&emu, &j.sign(), case).await;
    }
}

#[tokio::test]
async fn x5c_as_string_array_or_pem_text() {
    let emu = start();
    let der = fixture().cert.to_der().unwrap();
    let pem = fixture().cert.to_pem().unwrap();
    for (case, x5c) in [
        ("string (MSAL.NET)", json!(std_b64(&der))),
        ("array (MSAL Go)", json!([std_b64(&der)])),
        (
            "array of base64 PEM text (Rust SDK)",
            json!([std_b64(&pem)]),
        ),
    ] {
        let mut j = Jwt::valid(&emu);
        j.header["x5c"] = x5c;
        accepted(&emu, &j.sign(), case).await;
    }
    let mut only_x5c = Jwt::valid(&emu);
    only_x5c.header = json!({"alg": "PS256", "typ": "JWT", "x5c": [std_b64(&der)]});
    accepted(&emu, &only_x5c.sign(), "x5c without a thumbprint").await;
}

#[tokio::test]
async fn claim_variants_of_real_clients() {
    let emu = start();
    let t = now();
    let mut strings = Jwt::valid(&emu);
    strings.claims["nbf"] = json!(t.to_string());
    strings.claims["exp"] = json!((t + 600).to_string());
    strings.claims.as_object_mut().unwrap().remove("iat");
    accepted(&emu, &strings.sign(), "numeric strings, no iat (MSAL.NET)").await;
    let mut no_nbf = Jwt::valid(&emu);
    no_nbf.claims.as_object_mut().unwrap().remove("nbf");
    accepted(&emu, &no_nbf.sign(), "no nbf (MSAL Python)").await;
    let mut long = Jwt::valid(&emu);
    long.claims["exp"] = json!(t + 1800);
    accepted(&emu, &long.sign(), "30-minute lifetime (azure-identity)").await;
    let mut skewed = Jwt::valid(&emu);
    skewed.claims["nbf"] = json!(t + NBF_SKEW_SECS / 2);
    accepted(
        &emu,
        &skewed.sign(),
        "nbf slightly ahead (client clock fast)",
    )
    .await;
    let mut no_typ = Jwt::valid(&emu);
    no_typ.header.as_object_mut().unwrap().remove("typ");
    accepted(&emu, &no_typ.sign(), "no typ").await;
}

#[tokio::test]
async fn reused_jti_and_padded_segments() {
    let emu = start();
    let assertion = Jwt::valid(&emu).sign();
    accepted(&emu, &assertion, "first use").await;
    accepted(
        &emu,
        &assertion,
        "same assertion again (MSAL Python and Node reuse it)",
    )
    .await;
    // azure-identity's own builder pads JWS segments with '='.
    let j = Jwt::rs256(&emu);
    let input = format!(
        "{}.{}",
        URL_SAFE.encode(serde_json::to_vec(&j.header).unwrap()),
        URL_SAFE.encode(serde_json::to_vec(&j.claims).unwrap())
    );
    let sig = graphd::jws::sign(Alg::RS256, &fixture().key, input.as_bytes()).unwrap();
    accepted(
        &emu,
        &format!("{input}.{}", URL_SAFE.encode(sig)),
        "padded segments",
    )
    .await;
}

#[tokio::test]
async fn scope_forms_and_extra_parameters() {
    let emu = start();
    let graph_url = graphd::cloud::base_str(&emu.graph_endpoint());
    for (scope, aud) in [
        (
            "https://graph.microsoft.com/.default openid profile offline_access",
            "https://graph.microsoft.com",
        ),
        (
            "https://graph.microsoft.com//.default",
            "https://graph.microsoft.com",
        ),
        (
            "00000003-0000-0000-c000-000000000000/.default",
            "00000003-0000-0000-c000-000000000000",
        ),
        (
            &format!("{graph_url}/.default"),
            "https://graph.microsoft.com",
        ),
    ] {
        let mut f = form(&Jwt::valid(&emu).sign());
        f.retain(|(k, _)| k != "scope");
        f.push(("scope".into(), scope.to_string()));
        f.push(("client_info".into(), "1".into()));
        f.push((
            "claims".into(),
            r#"{"access_token":{"xms_cc":{"values":["CP1"]}}}"#.into(),
        ));
        let a = post_form(&emu, &f).await;
        assert_eq!(
            a.status,
            200,
            "{scope}: {}",
            String::from_utf8_lossy(&a.body)
        );
        assert_eq!(
            claims_of(a.json()["access_token"].as_str().unwrap())["aud"],
            aud,
            "{scope}"
        );
    }
}

#[tokio::test]
async fn localhost_origin_with_matching_audience() {
    let emu = start();
    let port = emu.authority_host().port().unwrap();
    let url = format!("http://localhost:{port}/{TENANT}/oauth2/v2.0/token");
    let mut j = Jwt::valid(&emu);
    j.claims["aud"] = json!(url);
    let a = post_form_to(&url, &form(&j.sign())).await;
    assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
}

#[tokio::test]
async fn discovery_documents_point_at_the_emulator() {
    let emu = start();
    let base = graphd::cloud::base_str(&emu.authority_host());
    let cfg = send(client().get(format!(
        "{base}/{TENANT}/v2.0/.well-known/openid-configuration"
    )))
    .await
    .json();
    assert_eq!(cfg["token_endpoint"], emu.token_endpoint());
    assert_eq!(cfg["issuer"], format!("{base}/{TENANT}/v2.0"));
    assert!(
        cfg["token_endpoint_auth_methods_supported"]
            .as_array()
            .unwrap()
            .contains(&json!("private_key_jwt"))
    );
    assert!(
        cfg["authorization_endpoint"]
            .as_str()
            .unwrap()
            .starts_with(&base)
    );
    let jwks = send(client().get(cfg["jwks_uri"].as_str().unwrap()))
        .await
        .json();
    let key = &jwks["keys"][0];
    assert_eq!(key["kty"], "RSA");
    for k in ["kid", "x5t", "n", "e"] {
        assert!(key[k].as_str().is_some_and(|v| !v.is_empty()), "{k}");
    }
    assert!(key["x5c"][0].as_str().is_some());
    // The issued token names that key.
    let t = token(&emu).await;
    let header: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(t.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(header["kid"], key["kid"]);
    assert_eq!(header["alg"], "RS256");
    let instance = send(client().get(format!(
        "{base}/common/discovery/instance?api-version=1.1&authorization_endpoint={base}/{TENANT}/oauth2/v2.0/authorize"
    )))
    .await
    .json();
    assert_eq!(
        instance["tenant_discovery_endpoint"],
        format!("{base}/{TENANT}/v2.0/.well-known/openid-configuration")
    );
    let unknown = send(client().get(format!(
        "{base}/99999999-8888-7777-6666-555555555555/v2.0/.well-known/openid-configuration"
    )))
    .await;
    assert_eq!(unknown.status, 400);
    assert_eq!(unknown.json()["error"], "invalid_tenant");
}
