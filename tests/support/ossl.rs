//! What the `openssl` command-line tool says about a file: the independent reference every
//! value graphd prints or signs is compared against. Nothing here calls graphd's code.

use std::path::Path;
use std::process::Command;

/// Runs `openssl args` and returns its stdout, panicking with its stderr on failure.
pub fn stdout(args: &[&str]) -> String {
    let out = Command::new("openssl")
        .args(args)
        .output()
        .expect("the openssl command-line tool is installed");
    assert!(
        out.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("openssl prints UTF-8")
}

fn s(p: &Path) -> &str {
    p.to_str().expect("UTF-8 temp path")
}

/// The value after `name=` in openssl's `name=value` output.
fn field(text: &str, name: &str) -> String {
    text.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix('=')))
        .unwrap_or_else(|| panic!("openssl printed no {name}: {text}"))
        .trim()
        .to_string()
}

/// `openssl x509 -noout -fingerprint -sha1`, colons removed: the portal's thumbprint.
pub fn sha1_thumbprint(cert: &Path) -> String {
    field(
        &stdout(&["x509", "-in", s(cert), "-noout", "-fingerprint", "-sha1"]),
        "sha1 Fingerprint",
    )
    .replace(':', "")
}

/// `openssl x509 -noout -serial` (uppercase hex).
pub fn serial(cert: &Path) -> String {
    field(
        &stdout(&["x509", "-in", s(cert), "-noout", "-serial"]),
        "serial",
    )
}

/// `openssl x509 -noout -subject` as `CN=a, O=b` (openssl writes `CN = a, O = b`).
pub fn subject(cert: &Path) -> String {
    field(
        &stdout(&["x509", "-in", s(cert), "-noout", "-subject"]),
        "subject",
    )
    .replace(" = ", "=")
}

pub fn issuer(cert: &Path) -> String {
    field(
        &stdout(&["x509", "-in", s(cert), "-noout", "-issuer"]),
        "issuer",
    )
    .replace(" = ", "=")
}

/// notBefore and notAfter as RFC 3339 (`2024-01-02T03:04:05Z`), from `-dateopt iso_8601`.
pub fn dates(cert: &Path) -> (String, String) {
    let text = stdout(&[
        "x509",
        "-in",
        s(cert),
        "-noout",
        "-dates",
        "-dateopt",
        "iso_8601",
    ]);
    let iso = |name| field(&text, name).replace(' ', "T");
    (iso("notBefore"), iso("notAfter"))
}

/// The RSA modulus size, from `openssl x509 -noout -text` ("Public-Key: (2048 bit)").
pub fn key_bits(cert: &Path) -> u32 {
    let text = stdout(&["x509", "-in", s(cert), "-noout", "-text"]);
    let after = text
        .split("Public-Key: (")
        .nth(1)
        .expect("openssl prints the key size");
    after
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .expect("a bit count")
}

/// base64url without padding of a digest of a DER file, all computed by openssl
/// (`dgst -binary`, then `base64 -A`, then the URL alphabet).
pub fn der_digest_b64url(der: &Path, digest: &str, scratch: &Path) -> String {
    let bin = scratch.join(format!("digest-{digest}.bin"));
    stdout(&[
        "dgst",
        &format!("-{digest}"),
        "-binary",
        "-out",
        s(&bin),
        s(der),
    ]);
    let b64 = stdout(&["base64", "-A", "-in", s(&bin)]);
    b64.trim()
        .trim_end_matches('=')
        .replace('+', "-")
        .replace('/', "_")
}

/// The DER of a PEM certificate, written by openssl.
pub fn cert_der(cert_pem: &Path, out: &Path) {
    stdout(&[
        "x509",
        "-in",
        s(cert_pem),
        "-outform",
        "DER",
        "-out",
        s(out),
    ]);
}

/// `openssl dgst -sha256 -verify pub.pem -signature sig data`, with the PSS options for PS256.
/// Returns whether openssl accepted the signature.
pub fn verify(public_key: &Path, data: &Path, signature: &Path, pss: bool) -> bool {
    let mut args = vec![
        "dgst",
        "-sha256",
        "-verify",
        s(public_key),
        "-signature",
        s(signature),
    ];
    if pss {
        args.extend_from_slice(&[
            "-sigopt",
            "rsa_padding_mode:pss",
            "-sigopt",
            "rsa_pss_saltlen:32",
            "-sigopt",
            "rsa_mgf1_md:sha256",
        ]);
    }
    args.push(s(data));
    let out = Command::new("openssl")
        .args(&args)
        .output()
        .expect("openssl runs");
    let text = String::from_utf8_lossy(&out.stdout);
    match (out.status.success(), text.trim()) {
        (true, "Verified OK") => true,
        (false, "Verification failure") => false,
        _ => panic!(
            "openssl dgst -verify said: {text} / {}",
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}
