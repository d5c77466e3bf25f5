//! The emulator's client assertion validator (`emulator::AssertionChecker`), against one
//! registered certificate and one expected audience, fed two ways:
//!
//! - first byte even: the rest is the assertion text as sent (structure, base64, JSON,
//!   headers; a valid signature is out of a mutator's reach, so this stops at the key);
//! - first byte odd: the rest is `header JSON \n payload JSON`, which the target signs with
//!   the registered key (PS256 or RS256 by the second byte) after replacing placeholders, so
//!   the thumbprint headers, `x5c` and every claim rule are reached.
//!
//! Placeholders: `$S256` `$SHA1` (the certificate's `x5t#S256` and `x5t`), `$X5C` (its DER in
//! base64), `$AUD`, `$CID`, `$NOW`, `$EXP` (now + 600).
//!
//! Oracle: an accepted signed assertion really names the audience, the client as `iss` and
//! `sub`, an `exp` after now, and the algorithm it was signed with.
#![no_main]

use std::sync::OnceLock;

use graphd::credential::Thumbprints;
use graphd::emulator::{AppRegistration, AssertionChecker};
use graphd::gen_cert::{Request, Subject, generate};
use graphd::jws::{self, Alg};
use libfuzzer_sys::fuzz_target;
use openssl::pkey::{PKey, Private};
use serde_json::Value;

const CLIENT_ID: &str = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";
const AUDIENCE: &str = "http://127.0.0.1:1/e7a1d0c5-0b5e-4d2a-9c3f-677261706864/oauth2/v2.0/token";

struct Fixture {
    checker: AssertionChecker,
    key: PKey<Private>,
    now: i64,
    /// (placeholder, value)
    values: Vec<(&'static [u8], Vec<u8>)>,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let subject = Subject::parse("CN=graphd fuzz").expect("a fixed subject");
        let made = generate(&Request {
            subject: &subject,
            days: 365,
            key_bits: 2048,
        })
        .expect("a key and certificate");
        let key =
            PKey::private_key_from_pem(&made.key_pem(None).expect("PEM")).expect("its own PEM");
        let cert = made.certificate().to_owned();
        let thumbprints = Thumbprints::of_cert(&cert).expect("digests");
        let now = graphd::clock::now_unix();
        let der = cert.to_der().expect("DER");
        let values = vec![
            (
                &b"$S256"[..],
                thumbprints.x5t_s256().expect("has SHA-256").into_bytes(),
            ),
            (&b"$SHA1"[..], thumbprints.x5t().into_bytes()),
            (
                &b"$X5C"[..],
                openssl::base64::encode_block(&der).into_bytes(),
            ),
            (&b"$AUD"[..], AUDIENCE.as_bytes().to_vec()),
            (&b"$CID"[..], CLIENT_ID.as_bytes().to_vec()),
            (&b"$NOW"[..], now.to_string().into_bytes()),
            (&b"$EXP"[..], (now + 600).to_string().into_bytes()),
        ];
        let checker = AssertionChecker::new(
            AppRegistration {
                client_id: CLIENT_ID.to_string(),
                certificates: vec![cert],
                roles: Vec::new(),
            },
            AUDIENCE,
        );
        Fixture {
            checker,
            key,
            now,
            values,
        }
    })
}

fn substitute(mut text: Vec<u8>, values: &[(&[u8], Vec<u8>)]) -> Vec<u8> {
    for (from, to) in values {
        let mut out = Vec::with_capacity(text.len());
        let mut rest = &text[..];
        while let Some(i) = rest.windows(from.len()).position(|w| w == *from) {
            out.extend_from_slice(&rest[..i]);
            out.extend_from_slice(to);
            rest = &rest[i + from.len()..];
        }
        out.extend_from_slice(rest);
        text = out;
    }
    text
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let f = fixture();
    if mode & 1 == 0 {
        if let Ok(text) = std::str::from_utf8(rest) {
            let _ = f.checker.check(text, f.now);
        }
        return;
    }
    let Some((&alg_byte, rest)) = rest.split_first() else {
        return;
    };
    let alg = if alg_byte & 1 == 0 {
        Alg::PS256
    } else {
        Alg::RS256
    };
    let (header, payload) = match rest.iter().position(|&b| b == b'\n') {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, &b""[..]),
    };
    let header = substitute(header.to_vec(), &f.values);
    let payload = substitute(payload.to_vec(), &f.values);
    let mut text = format!("{}.{}", jws::b64url(&header), jws::b64url(&payload));
    let signature = jws::sign(alg, &f.key, text.as_bytes()).expect("signing works");
    text.push('.');
    text.push_str(&jws::b64url(&signature));
    if f.checker.check(&text, f.now).is_ok() {
        let header: Value = serde_json::from_slice(&header).expect("accepted: a JSON header");
        assert_eq!(header["alg"], alg.as_str(), "accepted under another alg");
        let claims: Value = serde_json::from_slice(&payload).expect("accepted: JSON claims");
        let text = |name: &str| claims[name].as_str().map(str::to_ascii_lowercase);
        assert_eq!(text("aud").as_deref(), Some(AUDIENCE));
        assert_eq!(text("iss").as_deref(), Some(CLIENT_ID));
        assert_eq!(claims["sub"], claims["iss"]);
        let exp = match &claims["exp"] {
            Value::Number(n) => n.as_f64().unwrap_or(f64::NAN),
            Value::String(s) => s.trim().parse().unwrap_or(f64::NAN),
            _ => f64::NAN,
        };
        assert!(exp > f.now as f64, "accepted an exp of {exp} at {}", f.now);
    }
});
