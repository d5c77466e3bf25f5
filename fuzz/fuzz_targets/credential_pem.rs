//! Credential files as PEM: the block splitter, every block decoder (certificates, PKCS#1,
//! PKCS#8, encrypted PKCS#8, legacy `Proc-Type` keys), then Entra's rules over what was read;
//! and the emulator's certificate-only PEM reader.
#![no_main]

use std::path::Path;

use graphd::credential::{self, Credential, CredentialSource, Material};
use graphd::password::PasswordSource;
use graphd::secret::Password;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The DER/PFX side has its own target.
    if !data.windows(11).any(|w| w == b"-----BEGIN ") {
        return;
    }
    let _ = credential::certificates_from_pem(data);
    let path = Path::new("fuzz.pem");
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
