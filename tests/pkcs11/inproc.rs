//! Checks that need a token inside this test process: SoftHSM reads `SOFTHSM2_CONF` when its
//! module is initialized, and a test cannot set the environment of its own (threaded)
//! process, so each such check runs in a child: this test binary again, running one
//! `child_*` test with the variable set. The `child_*` tests are ignored in a normal run and
//! fail if started any other way; their parent tests are the ones that count.

use std::path::PathBuf;

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{Attribute, AttributeInfo, AttributeType, KeyType, ObjectClass};
use cryptoki::session::{Session, UserType};
use cryptoki::types::AuthPin;

use crate::support::outcome::{Outcome, run};
use crate::support::softhsm::{PIN, SoftHsm, module};
use crate::support::{CLIENT_ID, TENANT};

use super::generated;

const CHILD: &str = "GRAPHD_TEST_PKCS11_CHILD";

/// Runs the ignored test `pkcs11::inproc::{name}` in a child process with `hsm`'s config.
pub fn child(hsm: &SoftHsm, name: &str) -> Outcome {
    child_with(hsm, name, &[])
}

fn child_with(hsm: &SoftHsm, name: &str, env: &[(&str, PathBuf)]) -> Outcome {
    child_at(hsm, &format!("pkcs11::inproc::{name}"), env)
}

/// Runs the ignored test at `path` (`pkcs11::MODULE::child_NAME`) in a child process with
/// `hsm`'s config and `env`.
pub fn child_at(hsm: &SoftHsm, path: &str, env: &[(&str, PathBuf)]) -> Outcome {
    let mut cmd = assert_cmd::Command::new(std::env::current_exe().unwrap());
    cmd.args([
        path,
        "--exact",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ])
    .env("SOFTHSM2_CONF", hsm.conf())
    .env(CHILD, "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let o = run(&mut cmd);
    assert!(
        o.stdout.contains("1 passed"),
        "the child test ran:\n{}\n{}",
        o.stdout,
        o.stderr
    );
    o
}

/// A logged-in read-write session on the token `graphd`, straight through cryptoki.
pub fn session() -> (Pkcs11, Session) {
    session_as(UserType::User, PIN)
}

/// As [`session`], logged in as `user` with `pin`.
pub fn session_as(user: UserType, pin: &str) -> (Pkcs11, Session) {
    assert!(
        std::env::var_os(CHILD).is_some(),
        "this test runs only as a child of another (see the module docs)"
    );
    let ctx = Pkcs11::new(module()).unwrap();
    ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))
        .unwrap();
    let slot = ctx
        .get_slots_with_token()
        .unwrap()
        .into_iter()
        .find(|s| ctx.get_token_info(*s).unwrap().label() == "graphd")
        .unwrap();
    let session = ctx.open_rw_session(slot).unwrap();
    session.login(user, Some(&AuthPin::from(pin))).unwrap();
    (ctx, session)
}

#[test]
fn the_generated_key_cannot_be_read_or_wrapped() {
    let hsm = SoftHsm::with_token("graphd");
    generated(&hsm, "gen-key");
    child(&hsm, "child_not_extractable").ok();
}

#[test]
#[ignore = "run by the_generated_key_cannot_be_read_or_wrapped in a child process"]
fn child_not_extractable() {
    let (_ctx, session) = session();
    let keys = session
        .find_objects(&[
            Attribute::Class(ObjectClass::PRIVATE_KEY),
            Attribute::Label(b"gen-key".to_vec()),
        ])
        .unwrap();
    assert_eq!(keys.len(), 1);
    let key = keys[0];
    // The private components are refused (CKR_ATTRIBUTE_SENSITIVE), not merely absent.
    let info = session
        .get_attribute_info(
            key,
            &[
                AttributeType::PrivateExponent,
                AttributeType::Prime1,
                AttributeType::Prime2,
            ],
        )
        .unwrap();
    for i in &info {
        assert!(matches!(i, AttributeInfo::Sensitive), "{info:?}");
    }
    let values = session
        .get_attributes(key, &[AttributeType::PrivateExponent, AttributeType::Value])
        .unwrap();
    assert!(
        values.is_empty(),
        "no secret value is returned: {}",
        values.len()
    );
    let flags = session
        .get_attributes(
            key,
            &[
                AttributeType::Sensitive,
                AttributeType::Extractable,
                AttributeType::NeverExtractable,
                AttributeType::AlwaysSensitive,
                AttributeType::Local,
                AttributeType::Sign,
                AttributeType::Decrypt,
            ],
        )
        .unwrap();
    for want in [
        Attribute::Sensitive(true),
        Attribute::Extractable(false),
        Attribute::NeverExtractable(true),
        Attribute::AlwaysSensitive(true),
        Attribute::Local(true),
        Attribute::Sign(true),
        Attribute::Decrypt(false),
    ] {
        assert!(flags.contains(&want), "{want:?} in {flags:?}");
    }
    // Wrapping (exporting it encrypted) is refused too.
    let aes = session
        .generate_key(
            &Mechanism::AesKeyGen,
            &[
                Attribute::Token(false),
                Attribute::ValueLen(32.into()),
                Attribute::Wrap(true),
            ],
        )
        .unwrap();
    match session.wrap_key(&Mechanism::AesKeyWrapPad, aes, key) {
        Err(CkError::Pkcs11(RvError::KeyUnextractable, _)) => {}
        other => panic!("wrapping the key should be refused: {other:?}"),
    }
    session.logout().unwrap();
}

#[test]
#[ignore = "run by errors::a_key_the_token_limits_is_refused_with_the_way_out in a child process"]
fn child_make_limited_keys() {
    let (_ctx, session) = session();
    for (label, extra) in [
        (
            "rs256-only",
            Attribute::AllowedMechanisms(vec![MechanismType::SHA256_RSA_PKCS]),
        ),
        ("always", Attribute::AlwaysAuthenticate(true)),
    ] {
        let public = [
            Attribute::Token(true),
            Attribute::Label(label.as_bytes().to_vec()),
            Attribute::ModulusBits(2048.into()),
            Attribute::PublicExponent(vec![1, 0, 1]),
            Attribute::Verify(true),
        ];
        let private = [
            Attribute::Token(true),
            Attribute::Private(true),
            Attribute::Sensitive(true),
            Attribute::Sign(true),
            Attribute::KeyType(KeyType::RSA),
            Attribute::Label(label.as_bytes().to_vec()),
            extra,
        ];
        session
            .generate_key_pair(&Mechanism::RsaPkcsKeyPairGen, &public, &private)
            .unwrap();
    }
    session.logout().unwrap();
}

#[test]
fn two_hundred_tokens_in_one_process_use_one_login() {
    let hsm = SoftHsm::with_token("graphd");
    let cert = generated(&hsm, "gen-key");
    let o = child_with(
        &hsm,
        "child_two_hundred_tokens",
        &[
            ("GRAPHD_TEST_CERT", cert),
            ("GRAPHD_TEST_PIN_FILE", hsm.pin_file()),
        ],
    );
    o.ok();
    assert!(
        o.stderr.contains("200 tokens, 200 signatures, 1 login"),
        "{}",
        o.stderr
    );
}

#[test]
#[ignore = "run by two_hundred_tokens_in_one_process_use_one_login in a child process"]
fn child_two_hundred_tokens() {
    use clap::Parser;
    use graphd::cli::{Cli, Command};
    assert!(std::env::var_os(CHILD).is_some(), "runs only as a child");
    let cert = PathBuf::from(std::env::var_os("GRAPHD_TEST_CERT").unwrap());
    let pin_file = PathBuf::from(std::env::var_os("GRAPHD_TEST_PIN_FILE").unwrap());
    let emu = super::emulator_for(&cert);
    let module = module();
    let cli = Cli::try_parse_from([
        "graphd",
        "token",
        "--tenant",
        TENANT,
        "--client-id",
        CLIENT_ID,
        "--authority-host",
        emu.authority_host().as_str(),
        "--graph",
        emu.graph_endpoint().as_str(),
        "--key",
        "pkcs11:token=graphd;object=gen-key",
        "--pkcs11-module",
        module.to_str().unwrap(),
        "--pin-file",
        pin_file.to_str().unwrap(),
    ])
    .unwrap();
    let Command::Token(args) = cli.command else {
        panic!("parsed as token")
    };
    let settings = graphd::settings::Settings::resolve(&args.identity, &args.net).unwrap();
    let client = graphd::client::Client::new(settings).unwrap();
    let rt = graphd::http::runtime().unwrap();
    let mut seen = std::collections::HashSet::new();
    for _ in 0..200 {
        // Fresh every time: each request signs a new assertion inside the token.
        let token = rt.block_on(client.token(true)).unwrap();
        seen.insert(token.access_token.expose_secret().to_string());
    }
    let stats = graphd::pkcs11::stats();
    assert_eq!(emu.counters().tokens_issued, 200);
    assert_eq!(seen.len(), 200, "200 distinct tokens");
    assert_eq!(stats.signatures, 200);
    assert_eq!(stats.logins, 1, "one C_Login for the whole process");
    drop(client);
    eprintln!(
        "200 tokens, {} signatures, {} login",
        stats.signatures, stats.logins
    );
}
