//! What a rotation will do, decided before anything is sent: the files, the new certificate,
//! which keys are added and removed. `--dry-run` prints it with the proof's header and claims
//! (never a signature) and stops there.

use std::path::PathBuf;
use std::time::Duration;

use super::files::Layout;
use super::proof::{ProofClaims, ProofHeader};
use crate::gen_cert::Subject;
use crate::safe_text::shell_word;

/// Everything decided by the local checks (step 0).
#[derive(Debug, Clone)]
pub struct Plan {
    pub client_id: String,
    /// Known from `--object-id`; else looked up in step 1.
    pub object_id: Option<String>,
    pub layout: Layout,
    pub files: Vec<PathBuf>,
    pub encrypted: bool,
    pub current_thumbprint: String,
    pub current_subject: String,
    pub current_expires: String,
    pub subject: Subject,
    pub days: u32,
    pub key_bits: u32,
    pub remove_old: bool,
    pub old_key_id: Option<String>,
    pub propagation_timeout: Duration,
    pub graph: String,
}

impl Plan {
    /// The numbered steps, as `--dry-run` prints them.
    pub fn describe(&self, header: &ProofHeader, claims: &ProofClaims) -> String {
        let files: Vec<String> = self.files.iter().map(|p| p.display().to_string()).collect();
        let object = self.object_id.clone().unwrap_or_else(|| {
            format!(
                "looked up with GET {}/v1.0/applications(appId='{}')",
                self.graph, self.client_id
            )
        });
        let mut t = String::new();
        t += "rotate --dry-run: nothing will be sent and no file written. The plan:\n";
        t += &format!(
            "  0. current: {} ({}{}), certificate {}, thumbprint {}, expires {}\n",
            files.join(" and "),
            match self.layout {
                Layout::Combined => "PEM, key and certificate",
                Layout::Pair => "certificate and key PEM files",
                Layout::Pfx => "PKCS#12",
            },
            if self.encrypted {
                ", password-protected"
            } else {
                ""
            },
            self.current_subject,
            self.current_thumbprint,
            self.current_expires
        );
        t += &format!("  1. application: object id {object}\n");
        t += &format!(
            "  2. generate: RSA {} bits, subject {}, valid {} days; staged next to {}\n",
            self.key_bits,
            self.subject,
            self.days,
            files.join(" and ")
        );
        t += &format!(
            "  3. proof of possession signed with the current key: header {}, claims {}\n",
            serde_json::to_string(header).unwrap_or_default(),
            serde_json::to_string(claims).unwrap_or_default()
        );
        t += &format!(
            "  4. POST {}/v1.0/applications/{{object id}}/addKey with the new certificate\n",
            self.graph
        );
        t += &format!(
            "  5. get a token with the new key, waiting up to {} s while the token service answers AADSTS700027\n",
            self.propagation_timeout.as_secs()
        );
        t += &format!(
            "  6. replace {} (each previous file kept as NAME.previous-DATE, mode 0600)\n",
            files.join(" and ")
        );
        t += &if !self.remove_old {
            "  7. keep the old certificate registered (pass --remove-old to remove it)\n"
                .to_string()
        } else {
            match &self.old_key_id {
                Some(id) => format!(
                    "  7. POST .../removeKey for keyId {id}, proof signed with the new key\n"
                ),
                None => format!(
                    "  7. POST .../removeKey for the key credential with thumbprint {}, proof signed with the new key\n",
                    self.current_thumbprint
                ),
            }
        };
        t
    }

    /// The command that removes key credential `key_id` of this app, for a human with the
    /// rights to do so (az reads, then PATCHes the application's key credentials).
    pub fn remove_command(&self, key_id: &str) -> String {
        format!(
            "az ad app credential delete --id {} --key-id {}",
            shell_word(&self.client_id),
            shell_word(key_id)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rotate::proof;

    #[test]
    fn the_plan_shows_claims_and_never_a_signature() {
        let plan = Plan {
            client_id: "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee".into(),
            object_id: None,
            layout: Layout::Combined,
            files: vec!["certs/key.pem".into()],
            encrypted: false,
            current_thumbprint: "AB".repeat(20),
            current_subject: "CN=graphd".into(),
            current_expires: "2027-01-01T00:00:00Z".into(),
            subject: Subject::parse("CN=graphd").unwrap(),
            days: 365,
            key_bits: 2048,
            remove_old: true,
            old_key_id: None,
            propagation_timeout: Duration::from_secs(120),
            graph: "https://graph.microsoft.com".into(),
        };
        let t = crate::credential::Thumbprints::of_der(b"x");
        let text = plan.describe(
            &proof::header(&t),
            &proof::claims("<object id>", proof::AUDIENCE, 1_700_000_000),
        );
        assert!(
            text.contains("\"aud\":\"00000002-0000-0000-c000-000000000000\""),
            "{text}"
        );
        assert!(text.contains("\"exp\":1700000600"), "{text}");
        assert!(text.contains("applications(appId='aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee')"));
        assert!(text.contains(&format!("thumbprint {}", "AB".repeat(20))));
        assert!(!text.contains("eyJ"), "no JWS segment: {text}");
        assert_eq!(
            plan.remove_command("f0b0b335-1d71-4883-8f98-567911bfdca6"),
            "az ad app credential delete --id aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee --key-id f0b0b335-1d71-4883-8f98-567911bfdca6"
        );
    }
}
