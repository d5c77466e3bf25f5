//! `graphd gen-cert`: a new key and certificate in `--out`, the certificate PEM on stdout
//! (`graphd gen-cert > upload.cer`), and on stderr what was written and what to do next.
//!
//! Order matters: every check that can refuse (files that exist, a missing password) runs
//! before the key is generated, and nothing is written until everything is ready.

use crate::cli::GenCertArgs;
use crate::error::{ConfigProblem, Error, NewPasswordProblem, Result};
use crate::gen_cert::{self, CERT_FILE, KEY_FILE, OutDir, OutFile, PFX_FILE, Request};
use crate::password::PasswordSource;
use crate::safe_text::shell_word;
use crate::secret::Password;
use crate::{clock, messages, output};

pub fn run(args: &GenCertArgs) -> Result<()> {
    let mut names = vec![KEY_FILE, CERT_FILE];
    if args.pfx {
        names.push(PFX_FILE);
    }
    let out = OutDir::check(&args.out, &names, args.force)?;
    let password = new_password(args, &out)?;
    let generated = gen_cert::generate(&Request {
        subject: &args.subject,
        days: args.days,
        key_bits: args.key_size,
    })?;
    let key_pem = generated.credential_pem(password.as_ref().filter(|_| args.encrypt_key))?;
    let cert_pem = generated.cert_pem()?;
    let pfx = match (&password, args.pfx) {
        (Some(p), true) => Some(generated.pfx(p)?),
        _ => None,
    };
    let mut files = vec![OutFile::key(&key_pem), OutFile::cert(&cert_pem)];
    if let Some(pfx) = &pfx {
        files.push(OutFile::pfx(pfx));
    }
    let created = out.will_create();
    out.write(&files)?;

    let thumbprints = generated.thumbprints()?;
    let summary = Summary {
        out: &out,
        created,
        encrypted_key: args.encrypt_key,
        pfx: args.pfx,
        subject: args.subject.to_string(),
        thumbprint: thumbprints.sha1_hex(),
        x5t_s256: thumbprints.x5t_s256().unwrap_or_default(),
        not_after: generated
            .not_after()
            .map(clock::rfc3339)
            .unwrap_or_default(),
        days: args.days,
        key_bits: generated.key_bits(),
        client_id: args.client_id.as_deref(),
    };
    messages::info(&summary.to_text());
    // PEM is ASCII; the certificate is the result, so it goes to stdout, last.
    output::text(&String::from_utf8_lossy(&cert_pem))
}

/// The password for `--encrypt-key` / `--pfx`, asked (twice on a terminal) only when needed.
fn new_password(args: &GenCertArgs, out: &OutDir) -> Result<Option<Password>> {
    let mut protected = Vec::new();
    if args.encrypt_key {
        protected.push(out.path(KEY_FILE));
    }
    if args.pfx {
        protected.push(out.path(PFX_FILE));
    }
    if protected.is_empty() {
        return Ok(None);
    }
    let target = protected
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(" and ");
    let mut source = PasswordSource::new(args.password_file.clone(), args.password_stdin);
    match source.get_new(&target)? {
        Some(p) => Ok(Some(p)),
        None => {
            let flags = match (args.encrypt_key, args.pfx) {
                (true, true) => "--encrypt-key and --pfx",
                (true, false) => "--encrypt-key",
                _ => "--pfx",
            };
            Err(Error::Config(ConfigProblem::NewPassword(
                NewPasswordProblem::Required(flags),
            )))
        }
    }
}

/// What gen-cert tells the user on stderr.
struct Summary<'a> {
    out: &'a OutDir,
    created: bool,
    encrypted_key: bool,
    pfx: bool,
    subject: String,
    thumbprint: String,
    x5t_s256: String,
    not_after: String,
    days: u32,
    key_bits: u32,
    client_id: Option<&'a str>,
}

impl Summary<'_> {
    fn to_text(&self) -> String {
        let key = self.out.path(KEY_FILE);
        let cert = self.out.path(CERT_FILE);
        let mut t = String::new();
        let key_note = if self.encrypted_key {
            "encrypted, mode 0600"
        } else {
            "mode 0600"
        };
        if self.created {
            t += &format!("created {} (mode 0700)\n", self.out.dir().display());
        }
        t += &format!(
            "wrote {} (private key and its certificate, {key_note}: the credential for --cert; \
             keep it secret, never commit it)\n",
            key.display()
        );
        t += &format!("wrote {} (certificate: upload this one)\n", cert.display());
        if self.pfx {
            t += &format!(
                "wrote {} (key and certificate, PKCS#12, password-protected, mode 0600)\n",
                self.out.path(PFX_FILE).display()
            );
        }
        t += "\n";
        t += &format!("subject:     {}\n", self.subject);
        t += &format!(
            "thumbprint:  {} (SHA-1, as the Azure portal shows it)\n",
            self.thumbprint
        );
        t += &format!("x5t#S256:    {}\n", self.x5t_s256);
        t += &format!("expires:     {} ({} days)\n", self.not_after, self.days);
        t += &format!("key:         RSA {} bits\n", self.key_bits);
        t += "\nNext steps:\n";
        let client = self.client_id.unwrap_or("<client-id>");
        let cert_arg = shell_word(&format!("@{}", cert.display()));
        t += &format!(
            "  1. Upload {} to the app registration, in the Azure portal or Entra admin center:\n     \
             App registrations > (your app) > Certificates & secrets > Certificates > Upload certificate\n     \
             or with the Azure CLI:\n       \
             az ad app credential reset --id {client} --cert {cert_arg} --append\n     \
             Keep --append: without it, az removes every existing secret and certificate of the app.\n",
            cert.display()
        );
        t += &format!(
            "  2. Grant the Microsoft Graph application permission User.Read.All (API permissions >\n     \
             Add a permission > Microsoft Graph > Application permissions), then admin consent;\n     \
             this prints the consent URL for an administrator:\n       \
             graphd consent-url --tenant <tenant> --client-id {client}\n"
        );
        let password = if self.encrypted_key {
            " --password-file <file>"
        } else {
            ""
        };
        let key_arg = shell_word(&key.display().to_string());
        t += &format!(
            "  3. Call Graph with the credential ({} holds the key and its certificate):\n       \
             export AZURE_TENANT_ID=<tenant> AZURE_CLIENT_ID={client}\n       \
             graphd list-users --cert {key_arg}{password} --output table\n       \
             graphd token --cert {key_arg}{password}",
            key.display()
        );
        t
    }
}
