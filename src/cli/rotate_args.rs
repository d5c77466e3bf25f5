//! `graphd rotate`'s arguments: the usual identity and network options, the new
//! certificate's (as gen-cert takes them), and what to do with the old one.

use clap::Args;

use super::{IdentityArgs, NetArgs, key_size};
use crate::cloud;

/// The proof audience Graph documents (docs/protocol.md#certificate-self-rotation).
const PROOF_AUDIENCE: &str = "00000002-0000-0000-c000-000000000000";

#[derive(Debug, Args)]
#[command(
    after_help = "Steps: find the application, generate a new key and certificate, sign a proof \
of possession with the current key, addKey, get a token with the new key (waiting while Entra \
answers AADSTS700027), replace the credential file (the previous one is kept as \
FILE.previous-DATE, mode 0600), and with --remove-old removeKey for the old certificate. Each \
step is reported on stderr; stdout is the new certificate (PEM). A failure leaves the current \
key working and on disk: a key added by a failed run is removed again.\n\
A key in a PKCS#11 token (--key 'pkcs11:...;object=LABEL'): the new key is generated in the same \
token, then the objects are renamed so the same URI names the new key; the old ones are kept as \
LABEL.previous-DATE.\n\
The app needs no Graph permission to roll its own keys; to find its object id by itself it \
needs Application.Read.All, else pass --object-id."
)]
pub struct RotateArgs {
    #[command(flatten)]
    pub identity: IdentityArgs,
    #[command(flatten)]
    pub net: NetArgs,

    /// The application's Object ID (app registration > Overview), when the app may not read
    /// its own registration.
    #[arg(long, value_name = "GUID", value_parser = object_id)]
    pub object_id: Option<String>,

    /// Remove the old certificate from the app once the new one works (removeKey).
    #[arg(long)]
    pub remove_old: bool,

    /// The old certificate's keyId (the portal's "Certificate ID"), when it cannot be found
    /// by thumbprint.
    #[arg(long, value_name = "GUID", value_parser = key_id, requires = "remove_old")]
    pub old_key_id: Option<String>,

    /// Print the plan and the proof's claims, send nothing, write nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Seconds to wait for the token service to accept the new key.
    #[arg(long, value_name = "SECS", default_value_t = 120, value_parser = clap::value_parser!(u64).range(0..=3600))]
    pub propagation_timeout: u64,

    /// The new certificate's subject [default: the current certificate's].
    #[arg(long, value_parser = crate::gen_cert::Subject::parse)]
    pub subject: Option<crate::gen_cert::Subject>,

    /// The new certificate's validity in days (1-3650).
    #[arg(long, default_value_t = 365, value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub days: u32,

    /// RSA key size: 2048, 3072 or 4096 [default: the current key's].
    #[arg(long, value_name = "BITS", value_parser = key_size)]
    pub key_size: Option<u32>,

    /// The proof's audience; Graph documents 00000002-0000-0000-c000-000000000000. Kept
    /// overridable until confirmed against a real tenant.
    #[arg(long, value_name = "AUD", default_value = PROOF_AUDIENCE, hide = true)]
    pub proof_audience: String,
}

/// An object id: a GUID (never repeated in the error: it may be something secret typed in the
/// wrong place).
fn object_id(s: &str) -> Result<String, String> {
    let t = s.trim();
    if cloud::is_guid(t) {
        Ok(t.to_ascii_lowercase())
    } else {
        Err("the object id is not a GUID; use the Object ID shown on the app registration's Overview page".into())
    }
}

/// A keyId: a GUID.
fn key_id(s: &str) -> Result<String, String> {
    let t = s.trim();
    if cloud::is_guid(t) {
        Ok(t.to_ascii_lowercase())
    } else {
        Err(
            "the keyId is not a GUID; use the certificate's \"Certificate ID\" in the portal"
                .into(),
        )
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use crate::cli::{Cli, Command};

    fn rotate(args: &[&str]) -> Result<super::RotateArgs, clap::Error> {
        let argv = ["graphd", "rotate"].iter().chain(args);
        match Cli::try_parse_from(argv)?.command {
            Command::Rotate(r) => Ok(r),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn defaults_and_checks() {
        let r = rotate(&[]).unwrap();
        assert_eq!(r.propagation_timeout, 120);
        assert_eq!(r.days, 365);
        assert_eq!(r.proof_audience, "00000002-0000-0000-c000-000000000000");
        assert!(!r.remove_old && !r.dry_run && r.key_size.is_none() && r.subject.is_none());
        let r = rotate(&[
            "--object-id",
            "3F2A1B4C-5D6E-4F70-8A9B-0C1D2E3F4A5B",
            "--remove-old",
            "--old-key-id",
            "f0b0b335-1d71-4883-8f98-567911bfdca6",
        ])
        .unwrap();
        assert_eq!(r.object_id.unwrap(), "3f2a1b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b");
        assert!(rotate(&["--object-id", "not-a-guid"]).is_err());
        let e = rotate(&["--old-key-id", "f0b0b335-1d71-4883-8f98-567911bfdca6"]).unwrap_err();
        assert_eq!(e.kind(), clap::error::ErrorKind::MissingRequiredArgument);
        assert!(rotate(&["--key-size", "1024"]).is_err());
        assert!(rotate(&["--propagation-timeout", "3601"]).is_err());
    }
}
