//! What a rotation will do, decided before anything is sent: the files or the token objects,
//! the new certificate, which keys are added and removed. `--dry-run` prints it with the
//! proof's header and claims (never a signature) and stops there.

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
    pub holder: Holder,
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

/// Where the current key is, and so what step 6 replaces.
#[derive(Debug, Clone)]
pub enum Holder {
    /// Credential files, rewritten in the same layout.
    Files {
        layout: Layout,
        files: Vec<PathBuf>,
        encrypted: bool,
    },
    /// A key in a PKCS#11 token: its objects are renamed.
    Token(TokenPlan),
}

/// What a rotation does inside a token.
#[derive(Debug, Clone)]
pub struct TokenPlan {
    /// `'graphd' (SoftHSM v2, serial 4fd4...)`.
    pub token: String,
    /// The URI the user runs with (its path: no module, no PIN source).
    pub key: String,
    /// Where the certificate is: `next to the key`, a URI, or a file.
    pub cert: String,
    /// `--cert FILE`, replaced as a file rotation replaces it.
    pub cert_file: Option<PathBuf>,
    /// The current objects: `the private key, the public key and the certificate
    /// object=app-key;id=%01`.
    pub objects: String,
    /// The new objects' label until step 6.
    pub next_label: String,
    /// The label the current objects get in step 6 (for the private key's).
    pub previous_label: String,
    /// Whether ids change hands too (the URI selects by `id=`).
    pub swap_ids: bool,
}

impl Plan {
    /// What holds the current key, as the user named it: a file or the key's URI.
    pub fn holds(&self) -> String {
        match &self.holder {
            Holder::Files { files, .. } => files
                .last()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            Holder::Token(t) => t.key.clone(),
        }
    }

    /// The numbered steps, as `--dry-run` prints them.
    pub fn describe(&self, header: &ProofHeader, claims: &ProofClaims) -> String {
        let object = self.object_id.clone().unwrap_or_else(|| {
            format!(
                "looked up with GET {}/v1.0/applications(appId='{}')",
                self.graph, self.client_id
            )
        });
        let mut t = String::new();
        let (current, generate, replace) = match &self.holder {
            Holder::Files {
                layout,
                files,
                encrypted,
            } => self.file_steps(*layout, files, *encrypted),
            Holder::Token(token) => self.token_steps(token),
        };
        t += &format!(
            "rotate --dry-run: nothing will be sent, {}. The plan:\n",
            match self.holder {
                Holder::Files { .. } => "no file written",
                Holder::Token(_) => "nothing created or changed in the token, no file written",
            }
        );
        t += &format!("  0. current: {current}\n");
        t += &format!("  1. application: object id {object}\n");
        t += &format!("  2. generate: {generate}\n");
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
        t += &format!("  6. {replace}\n");
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

    /// Steps 0, 2 and 6 for credential files.
    fn file_steps(
        &self,
        layout: Layout,
        files: &[PathBuf],
        encrypted: bool,
    ) -> (String, String, String) {
        let files = files
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(" and ");
        let current = format!(
            "{files} ({}{}), certificate {}, thumbprint {}, expires {}",
            match layout {
                Layout::Combined => "PEM, key and certificate",
                Layout::Pair => "certificate and key PEM files",
                Layout::Pfx => "PKCS#12",
                Layout::Certificate => "certificate PEM",
            },
            if encrypted {
                ", password-protected"
            } else {
                ""
            },
            self.current_subject,
            self.current_thumbprint,
            self.current_expires
        );
        let generate = format!(
            "RSA {} bits, subject {}, valid {} days; staged next to {files}",
            self.key_bits, self.subject, self.days
        );
        let replace =
            format!("replace {files} (each previous file kept as NAME.previous-DATE, mode 0600)");
        (current, generate, replace)
    }

    /// Steps 0, 2 and 6 for a key in a token.
    fn token_steps(&self, token: &TokenPlan) -> (String, String, String) {
        let current = format!(
            "key {} in token {}, certificate {} ({}), thumbprint {}, expires {}",
            token.key,
            token.token,
            self.current_subject,
            token.cert,
            self.current_thumbprint,
            self.current_expires
        );
        let mut generate = format!(
            "RSA {} bits inside token {}, sensitive and not extractable, as object={} with a fresh id; \
             a certificate for it, subject {}, valid {} days, signed through the token and stored next to it",
            self.key_bits, token.token, token.next_label, self.subject, self.days
        );
        if let Some(f) = &token.cert_file {
            generate += &format!("; staged next to {}", f.display());
        }
        let mut replace = format!(
            "rename in the token: {} become object={}, and the new key pair and certificate take \
             their label{} so that {} names the new key (nothing is destroyed)",
            token.objects,
            token.previous_label,
            if token.swap_ids { " and id" } else { "" },
            token.key
        );
        if let Some(f) = &token.cert_file {
            replace += &format!(
                "; replace {} (the previous file kept as NAME.previous-DATE)",
                f.display()
            );
        }
        (current, generate, replace)
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
            holder: Holder::Files {
                layout: Layout::Combined,
                files: vec!["certs/key.pem".into()],
                encrypted: false,
            },
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

    #[test]
    fn a_token_plan_says_what_is_made_and_renamed_and_that_nothing_is_destroyed() {
        let plan = Plan {
            client_id: "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee".into(),
            object_id: Some("3f2a1b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b".into()),
            holder: Holder::Token(TokenPlan {
                token: "'graphd' (SoftHSM v2, serial 1)".into(),
                key: "pkcs11:token=graphd;id=%01".into(),
                cert: "from certs/cert.pem".into(),
                cert_file: Some("certs/cert.pem".into()),
                objects: "the private key and the public key object=app-key;id=%01".into(),
                next_label: "app-key.next-2026-12-01".into(),
                previous_label: "app-key.previous-2026-12-01".into(),
                swap_ids: true,
            }),
            current_thumbprint: "AB".repeat(20),
            current_subject: "CN=graphd".into(),
            current_expires: "2027-01-01T00:00:00Z".into(),
            subject: Subject::parse("CN=graphd").unwrap(),
            days: 90,
            key_bits: 3072,
            remove_old: false,
            old_key_id: None,
            propagation_timeout: Duration::from_secs(120),
            graph: "https://graph.microsoft.com".into(),
        };
        let t = crate::credential::Thumbprints::of_der(b"x");
        let text = plan.describe(
            &proof::header(&t),
            &proof::claims(
                "3f2a1b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b",
                proof::AUDIENCE,
                1_700_000_000,
            ),
        );
        for part in [
            "nothing created or changed in the token",
            "0. current: key pkcs11:token=graphd;id=%01 in token 'graphd' (SoftHSM v2, serial 1)",
            "RSA 3072 bits inside token 'graphd' (SoftHSM v2, serial 1), sensitive and not extractable, as object=app-key.next-2026-12-01",
            "valid 90 days",
            "staged next to certs/cert.pem",
            "the private key and the public key object=app-key;id=%01 become object=app-key.previous-2026-12-01",
            "take their label and id so that pkcs11:token=graphd;id=%01 names the new key (nothing is destroyed)",
            "replace certs/cert.pem",
            "7. keep the old certificate registered",
        ] {
            assert!(text.contains(part), "{part}:\n{text}");
        }
        assert_eq!(plan.holds(), "pkcs11:token=graphd;id=%01");
        assert!(!text.contains("eyJ"), "no JWS segment: {text}");
    }
}
