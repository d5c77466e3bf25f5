//! Every client-assertion rule, each broken alone: the AADSTS code, `error` and HTTP
//! status must be Entra's (docs/protocol.md#inferred-rules).

use graphd::emulator::{EmulatorConfig, NBF_SKEW_SECS};
use graphd::jws::Alg;
use openssl::pkey::PKey;
use serde_json::json;

use super::*;
use crate::support::fixtures::fixtures;
use crate::support::{CLIENT_ID, TENANT};

#[tokio::test]
async fn malformed_assertions() {
    let emu = start();
    let valid = Jwt::valid(&emu).sign();
    let mut parts = valid.split('.');
    let (h, p) = (parts.next().unwrap(), parts.next().unwrap());
    let not_json = format!("{}.{p}.c2ln", URL_SAFE_NO_PAD.encode("not json"));
    for (case, assertion) in [
        ("two parts", format!("{h}.{p}")),
        ("four parts", format!("{valid}.x")),
        ("header not JSON", not_json),
        ("not base64", format!("{h}.{p}.***")),
    ] {
        assert_refused(
            &post_assertion(&emu, &assertion).await,
            401,
            50_027,
            "invalid_client",
            case,
        );
    }
    let mut crit = Jwt::valid(&emu);
    crit.header["crit"] = json!(["exp"]);
    assert_refused(
        &post_assertion(&emu, &crit.sign()).await,
        401,
        50_027,
        "invalid_client",
        "crit",
    );
    let mut aud_array = Jwt::valid(&emu);
    aud_array.claims["aud"] = json!([
        emu.token_endpoint(),
        "https://login.microsoftonline.com/x/v2.0"
    ]);
    assert_refused(
        &post_assertion(&emu, &aud_array.sign()).await,
        401,
        50_027,
        "invalid_client",
        "aud array",
    );
    let mut exp_text = Jwt::valid(&emu);
    exp_text.claims["exp"] = json!("tomorrow");
    assert_refused(
        &post_assertion(&emu, &exp_text.sign()).await,
        401,
        50_027,
        "invalid_client",
        "exp text",
    );
    let mut bad_x5c = Jwt::valid(&emu);
    bad_x5c.header["x5c"] = json!(["bm90IGEgY2VydGlmaWNhdGU="]);
    assert_refused(
        &post_assertion(&emu, &bad_x5c.sign()).await,
        401,
        50_027,
        "invalid_client",
        "x5c garbage",
    );
}

#[tokio::test]
async fn signature_and_key_rules() {
    let emu = start();
    let other_key = other_key();
    let forged = Jwt::valid(&emu).sign_with(&other_key);
    let a = post_assertion(&emu, &forged).await;
    assert_refused(&a, 401, 700_027, "invalid_client", "signed by another key");
    assert!(
        a.json()["error_description"]
            .as_str()
            .unwrap()
            .contains("Key was found, but use of the key to verify the signature failed")
    );

    let mut unknown = Jwt::valid(&emu);
    unknown.header["x5t#S256"] = json!(URL_SAFE_NO_PAD.encode([7u8; 32]));
    let a = post_assertion(&emu, &unknown.sign()).await;
    assert_refused(&a, 401, 700_027, "invalid_client", "unknown thumbprint");
    let d = a.json()["error_description"].as_str().unwrap().to_string();
    assert!(
        d.contains("The key was not found") && d.contains(&"07".repeat(32)),
        "{d}"
    );

    let mut hs = Jwt::valid(&emu);
    hs.header["alg"] = json!("HS256");
    assert_refused(
        &post_assertion(&emu, &hs.sign()).await,
        401,
        700_027,
        "invalid_client",
        "alg HS256",
    );

    // RS256 signature bytes under a PS256 label: the algorithm is enforced, not guessed.
    let mut mislabeled = Jwt::valid(&emu);
    mislabeled.alg = Alg::RS256;
    assert_refused(
        &post_assertion(&emu, &mislabeled.sign()).await,
        401,
        700_027,
        "invalid_client",
        "RS256 labelled PS256",
    );

    let mut both = Jwt::valid(&emu);
    both.header["x5t"] = json!(URL_SAFE_NO_PAD.encode([1u8; 20]));
    assert_refused(
        &post_assertion(&emu, &both.sign()).await,
        401,
        700_027,
        "invalid_client",
        "x5t and x5t#S256 disagree",
    );

    let mut none = Jwt::valid(&emu);
    none.header = json!({"alg": "PS256", "typ": "JWT"});
    assert_refused(
        &post_assertion(&emu, &none.sign()).await,
        401,
        700_027,
        "invalid_client",
        "no thumbprint",
    );

    let other_cert = self_signed(&other_key, 9, now() - 60, now() + 86_400);
    let mut wrong_leaf = Jwt::valid(&emu);
    wrong_leaf.header["x5c"] = json!([std_b64(&other_cert.to_der().unwrap())]);
    assert_refused(
        &post_assertion(&emu, &wrong_leaf.sign()).await,
        401,
        700_027,
        "invalid_client",
        "x5c leaf is another cert",
    );
}

#[tokio::test]
async fn pss_salt_must_be_32() {
    use openssl::hash::MessageDigest;
    use openssl::rsa::Padding;
    use openssl::sign::{RsaPssSaltlen, Signer};
    let emu = start();
    let j = Jwt::valid(&emu);
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&j.header).unwrap()),
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&j.claims).unwrap())
    );
    let mut signer = Signer::new(MessageDigest::sha256(), &fixture().key).unwrap();
    signer.set_rsa_padding(Padding::PKCS1_PSS).unwrap();
    signer
        .set_rsa_pss_saltlen(RsaPssSaltlen::custom(20))
        .unwrap();
    signer.set_rsa_mgf1_md(MessageDigest::sha256()).unwrap();
    let sig = signer.sign_oneshot_to_vec(input.as_bytes()).unwrap();
    let assertion = format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig));
    assert_refused(
        &post_assertion(&emu, &assertion).await,
        401,
        700_027,
        "invalid_client",
        "PSS salt 20",
    );
}

#[tokio::test]
async fn registered_certificate_rules() {
    let weak_cert = X509::from_pem(&fixtures().read("rsa1024.crt")).unwrap();
    let weak_key = PKey::private_key_from_pem(&fixtures().read("rsa1024.key")).unwrap();
    let emu = start_with(EmulatorConfig {
        apps: vec![AppRegistration {
            client_id: CLIENT_ID.into(),
            certificates: vec![weak_cert.clone()],
            roles: vec![],
        }],
        ..Default::default()
    });
    let mut j = Jwt::valid(&emu);
    j.header["x5t#S256"] = json!(URL_SAFE_NO_PAD.encode(sha256(&weak_cert)));
    let a = post_assertion(&emu, &j.sign_with(&weak_key)).await;
    assert_refused(&a, 401, 50_032, "invalid_client", "1024-bit certificate");
    assert!(
        a.json()["error_description"]
            .as_str()
            .unwrap()
            .contains("1024")
    );

    let expired = self_signed(&fixture().key, 77, now() - 86_400 * 30, now() - 86_400);
    emu.register_app(AppRegistration {
        client_id: CLIENT_ID.into(),
        certificates: vec![expired.clone()],
        roles: vec![],
    });
    let mut j = Jwt::valid(&emu);
    j.header["x5t#S256"] = json!(URL_SAFE_NO_PAD.encode(sha256(&expired)));
    let a = post_assertion(&emu, &j.sign()).await;
    assert_refused(
        &a,
        401,
        700_027,
        "invalid_client",
        "expired registered certificate",
    );
    assert!(
        a.json()["error_description"]
            .as_str()
            .unwrap()
            .contains("expired")
    );
}

#[tokio::test]
async fn audience_rules() {
    let emu = start();
    let port = emu.authority_host().port().unwrap();
    for aud in [
        format!("https://login.microsoftonline.com/{TENANT}/oauth2/v2.0/token"),
        format!("http://127.0.0.1:{port}/{TENANT}/oauth2/token"),
        format!("http://127.0.0.1:{port}/{TENANT}/v2.0"),
        format!("http://127.0.0.1:{port}/99999999-8888-7777-6666-555555555555/oauth2/v2.0/token"),
        format!("http://localhost:{port}/{TENANT}/oauth2/v2.0/token"),
    ] {
        let mut j = Jwt::valid(&emu);
        j.claims["aud"] = json!(aud);
        assert_refused(
            &post_assertion(&emu, &j.sign()).await,
            401,
            700_023,
            "invalid_client",
            &aud,
        );
    }
    let mut missing = Jwt::valid(&emu);
    missing.claims.as_object_mut().unwrap().remove("aud");
    assert_refused(
        &post_assertion(&emu, &missing.sign()).await,
        401,
        700_023,
        "invalid_client",
        "no aud",
    );
}

#[tokio::test]
async fn issuer_and_subject_rules() {
    let emu = start();
    let mut sub = Jwt::valid(&emu);
    sub.claims["sub"] = json!("99999999-9999-9999-9999-999999999999");
    assert_refused(
        &post_assertion(&emu, &sub.sign()).await,
        401,
        50_048,
        "invalid_client",
        "sub != iss",
    );
    let mut both = Jwt::valid(&emu);
    both.claims["iss"] = json!("99999999-9999-9999-9999-999999999999");
    both.claims["sub"] = json!("99999999-9999-9999-9999-999999999999");
    assert_refused(
        &post_assertion(&emu, &both.sign()).await,
        401,
        700_021,
        "invalid_client",
        "iss = sub != client_id",
    );
}

#[tokio::test]
async fn time_rules() {
    let emu = start();
    let t = now();
    let mut no_exp = Jwt::valid(&emu);
    no_exp.claims.as_object_mut().unwrap().remove("exp");
    assert_refused(
        &post_assertion(&emu, &no_exp.sign()).await,
        401,
        700_024,
        "invalid_client",
        "no exp",
    );
    let mut expired = Jwt::valid(&emu);
    expired.claims["exp"] = json!(t - 60);
    assert_refused(
        &post_assertion(&emu, &expired.sign()).await,
        401,
        700_024,
        "invalid_client",
        "expired",
    );
    let mut future = Jwt::valid(&emu);
    future.claims["nbf"] = json!(t + NBF_SKEW_SECS + 600);
    future.claims["exp"] = json!(t + NBF_SKEW_SECS + 1200);
    let a = post_assertion(&emu, &future.sign()).await;
    assert_refused(&a, 401, 700_024, "invalid_client", "nbf beyond the skew");
    let d = a.json()["error_description"].as_str().unwrap().to_string();
    let from = graphd::clock::rfc3339(t + NBF_SKEW_SECS + 600).replace('Z', ".0000000Z");
    assert!(
        d.contains("Current time: ") && d.contains(&format!("assertion valid from {from}")),
        "{d}"
    );
}

#[tokio::test]
async fn server_clock_ahead_makes_a_fresh_assertion_expired() {
    let emu = start_with(EmulatorConfig {
        clock_offset_secs: 3600,
        ..Default::default()
    });
    let a = post_assertion(&emu, &Jwt::valid(&emu).sign()).await;
    assert_refused(
        &a,
        401,
        700_024,
        "invalid_client",
        "emulator clock one hour ahead",
    );
    // The Date header shows the emulator's clock, which is how a client can explain it.
    let date = httpdate::parse_http_date(&a.header("date").unwrap()).unwrap();
    let ahead = date
        .duration_since(std::time::SystemTime::now())
        .map(|d| d.as_secs())
        .unwrap_or(0);
    assert!(ahead > 3000, "Date header {ahead}s ahead");
}

#[tokio::test]
async fn strict_jti_refuses_a_replay() {
    let emu = start_with(EmulatorConfig {
        strict_jti: true,
        ..Default::default()
    });
    let assertion = Jwt::valid(&emu).sign();
    assert_eq!(post_assertion(&emu, &assertion).await.status, 200);
    assert_refused(
        &post_assertion(&emu, &assertion).await,
        401,
        50_027,
        "invalid_client",
        "replayed jti",
    );
    let mut no_jti = Jwt::valid(&emu);
    no_jti.claims.as_object_mut().unwrap().remove("jti");
    assert_refused(
        &post_assertion(&emu, &no_jti.sign()).await,
        401,
        50_027,
        "invalid_client",
        "no jti",
    );
}
