//! Tests for the emulator: the library API in-process (token rules, accepted client
//! variants, Graph, faults) and the `graphd emulator` process.
//!
//! Assertions are built by hand here (header and claims as JSON, signed with `jws::encode`)
//! so each test can break exactly one rule. The certificate is the openssl-CLI-made
//! `Pair::shared()`.

mod accepted;
mod assertion_rules;
mod faults;
mod graph_api;
mod graph_auth;
mod guard;
mod process;
mod token_rules;

use std::sync::OnceLock;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use graphd::emulator::{AppRegistration, Emulator, EmulatorConfig};
use graphd::jws::{self, Alg};
use openssl::hash::{MessageDigest, hash};
use openssl::pkey::{PKey, Private};
use openssl::x509::X509;
use serde_json::{Value, json};

use crate::support::emulator::TestEmulator;
use crate::support::{CLIENT_ID, Pair};

pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
pub const GRAPH_SCOPE: &str = "https://graph.microsoft.com/.default";

/// The shared key and certificate, loaded once.
pub struct Fixture {
    pub key: PKey<Private>,
    pub cert: X509,
}

pub fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let pair = Pair::shared();
        let key = std::fs::read(&pair.key).expect("shared key file");
        let cert = std::fs::read(&pair.cert).expect("shared cert file");
        Fixture {
            key: PKey::private_key_from_pem(&key).expect("shared key parses"),
            cert: X509::from_pem(&cert).expect("shared cert parses"),
        }
    })
}

/// A second RSA key, registered nowhere: the `other.key` fixture.
pub fn other_key() -> PKey<Private> {
    PKey::private_key_from_pem(&crate::support::fixtures::fixtures().read("other.key"))
        .expect("other.key parses")
}

pub fn sha1(cert: &X509) -> Vec<u8> {
    hash(MessageDigest::sha1(), &cert.to_der().expect("der"))
        .expect("sha1")
        .to_vec()
}

pub fn sha256(cert: &X509) -> Vec<u8> {
    hash(MessageDigest::sha256(), &cert.to_der().expect("der"))
        .expect("sha256")
        .to_vec()
}

pub fn app(roles: &[&str]) -> AppRegistration {
    AppRegistration {
        client_id: CLIENT_ID.to_string(),
        certificates: vec![fixture().cert.clone()],
        roles: roles.iter().map(|r| r.to_string()).collect(),
    }
}

/// An emulator for `TENANT` with the shared app (User.Read.All) registered, guarded: the
/// test fails if one of its handlers panicked.
pub fn start() -> TestEmulator {
    start_with(EmulatorConfig::default())
}

/// As [`start`], with `config`'s tenant replaced by `TENANT` and its apps defaulting to the
/// shared app.
pub fn start_with(config: EmulatorConfig) -> TestEmulator {
    crate::support::emulator::start_with(config)
}

pub fn now() -> i64 {
    graphd::clock::now_unix()
}

/// A client assertion under construction: change one thing, then `sign`.
pub struct Jwt {
    pub alg: Alg,
    pub header: Value,
    pub claims: Value,
}

impl Jwt {
    /// PS256 with `x5t#S256`, claims as graphd sends them, for the emulator's token endpoint.
    pub fn valid(emu: &Emulator) -> Jwt {
        Jwt::valid_for(&emu.token_endpoint())
    }

    /// As [`Jwt::valid`], for a token endpoint given by URL.
    pub fn valid_for(token_endpoint: &str) -> Jwt {
        let t = now();
        Jwt {
            alg: Alg::PS256,
            header: json!({"alg": "PS256", "typ": "JWT", "x5t#S256": URL_SAFE_NO_PAD.encode(sha256(&fixture().cert))}),
            claims: json!({
                "aud": token_endpoint,
                "iss": CLIENT_ID,
                "sub": CLIENT_ID,
                "jti": uuid::Uuid::new_v4().to_string(),
                "nbf": t,
                "iat": t,
                "exp": t + 600,
            }),
        }
    }

    /// RS256 with `x5t` (SHA-1).
    pub fn rs256(emu: &Emulator) -> Jwt {
        let mut j = Jwt::valid(emu);
        j.alg = Alg::RS256;
        j.header = json!({"alg": "RS256", "typ": "JWT", "x5t": URL_SAFE_NO_PAD.encode(sha1(&fixture().cert))});
        j
    }

    pub fn sign(&self) -> String {
        self.sign_with(&fixture().key)
    }

    pub fn sign_with(&self, key: &PKey<Private>) -> String {
        jws::encode(self.alg, key, &self.header, &self.claims)
            .expect("signs")
            .to_string()
    }
}

/// The token request form for an assertion.
pub fn form(assertion: &str) -> Vec<(String, String)> {
    [
        ("grant_type", "client_credentials"),
        ("client_id", CLIENT_ID),
        ("scope", GRAPH_SCOPE),
        ("client_assertion_type", ASSERTION_TYPE),
        ("client_assertion", assertion),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

pub fn encode(form: &[(String, String)]) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in form {
        s.append_pair(k, v);
    }
    s.finish()
}

pub fn client() -> reqwest::Client {
    graphd::http::install_crypto_provider();
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("reqwest client")
}

/// What a request got back.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }

    /// The AADSTS code of an Entra error body.
    pub fn aadsts(&self) -> u64 {
        self.json()["error_codes"][0]
            .as_u64()
            .expect("error_codes[0]")
    }
}

pub async fn send(req: reqwest::RequestBuilder) -> Answer {
    let r = req.send().await.expect("the emulator answers");
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let body = r.bytes().await.expect("body").to_vec();
    Answer {
        status,
        headers,
        body,
    }
}

/// POSTs a form to the emulator's token endpoint.
pub async fn post_form(emu: &Emulator, form: &[(String, String)]) -> Answer {
    post_form_to(&emu.token_endpoint(), form).await
}

pub async fn post_form_to(url: &str, form: &[(String, String)]) -> Answer {
    send(
        client()
            .post(url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(encode(form)),
    )
    .await
}

/// Posts an assertion with an otherwise valid form.
pub async fn post_assertion(emu: &Emulator, assertion: &str) -> Answer {
    post_form(emu, &form(assertion)).await
}

/// Asserts an Entra refusal: status, AADSTS code, `error`, and that the description starts
/// with the code.
pub fn assert_refused(a: &Answer, status: u16, code: u64, error: &str, case: &str) {
    assert_eq!(
        a.status,
        status,
        "{case}: {}",
        String::from_utf8_lossy(&a.body)
    );
    let v = a.json();
    assert_eq!(a.aadsts(), code, "{case}: {v}");
    assert_eq!(v["error"], error, "{case}: {v}");
    let d = v["error_description"].as_str().unwrap_or("");
    assert!(d.starts_with(&format!("AADSTS{code}: ")), "{case}: {d}");
}

/// A valid access token from the emulator.
pub async fn token(emu: &Emulator) -> String {
    let a = post_assertion(emu, &Jwt::valid(emu).sign()).await;
    assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
    a.json()["access_token"]
        .as_str()
        .expect("access_token")
        .to_string()
}

/// GET on the Graph side with a bearer token.
pub async fn graph_get(emu: &Emulator, path_and_query: &str, token: &str) -> Answer {
    let url = format!(
        "{}{}",
        graphd::cloud::base_str(&emu.graph_endpoint()),
        path_and_query
    );
    send(client().get(url).bearer_auth(token)).await
}

/// A self-signed certificate over `key`, built with the openssl crate, for cases the CLI
/// fixtures cannot give (an expired validity window, a chosen thumbprint shape).
pub fn self_signed(key: &PKey<Private>, serial: u32, not_before: i64, not_after: i64) -> X509 {
    use openssl::asn1::Asn1Time;
    use openssl::bn::BigNum;
    use openssl::x509::X509NameBuilder;
    let mut name = X509NameBuilder::new().expect("name");
    name.append_entry_by_text("CN", "graphd emulator test")
        .expect("cn");
    let name = name.build();
    let mut b = X509::builder().expect("builder");
    b.set_version(2).expect("v3");
    b.set_serial_number(
        &BigNum::from_u32(serial)
            .expect("bn")
            .to_asn1_integer()
            .expect("int"),
    )
    .expect("serial");
    b.set_subject_name(&name).expect("subject");
    b.set_issuer_name(&name).expect("issuer");
    b.set_pubkey(key).expect("pubkey");
    b.set_not_before(&Asn1Time::from_unix(not_before).expect("time"))
        .expect("nb");
    b.set_not_after(&Asn1Time::from_unix(not_after).expect("time"))
        .expect("na");
    b.sign(key, MessageDigest::sha256()).expect("sign");
    b.build()
}

pub fn std_b64(data: &[u8]) -> String {
    STANDARD.encode(data)
}
