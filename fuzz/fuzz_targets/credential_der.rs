//! Credential files that are not PEM: PKCS#12 (PFX) with a password, DER certificates and DER
//! keys, as `read_into` tries them, then Entra's rules over what was read.
#![no_main]

use std::path::Path;

use graphd::credential::{self, Credential, CredentialSource, Material};
use graphd::password::PasswordSource;
use graphd::secret::Password;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The PEM side has its own target.
    if data.windows(11).any(|w| w == b"-----BEGIN ") {
        return;
    }
    let path = Path::new("fuzz.pfx");
    let mut passwords = PasswordSource::fixed(Password::new("fuzz-password".into()));
    let mut material = Material::default();
    match credential::read_bytes(data, path, &mut passwords, &mut material) {
        Ok(()) => {
            let source = CredentialSource {
                cert: path.to_path_buf(),
                ..CredentialSource::default()
            };
            if let Err(e) = Credential::from_material(material, &source) {
                check_message(&e);
            }
        }
        Err(e) => check_message(&e),
    }
});

/// The message is one line of text (README "Exit codes": `graphd: error: ...`), the hint never shows the
/// password either, and the exit code says failure.
fn check_message(e: &graphd::error::Error) {
    let message = e.to_string();
    assert!(
        !message.chars().any(char::is_control),
        "a control character in the message: {message:?}"
    );
    let text = format!("{message}\n{}", e.hint().unwrap_or_default());
    assert!(!text.contains("fuzz-password"), "the password leaked");
    assert_ne!(e.exit_code(), 0);
}
