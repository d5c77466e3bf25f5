//! `graphd gen-cert --key 'pkcs11:...'`: the key pair is generated inside the token and never
//! leaves it; the self-signed certificate is signed through the token, stored in the token
//! next to the key, written to `cert.pem` for upload and printed on stdout.
//!
//! Order matters, as for key files: every check that can refuse (cert.pem exists, objects
//! with that label or id exist, the PIN) runs before the key is generated; if a later step
//! fails, what was made in the token is destroyed again. `--force` replaces old objects only
//! once the new ones exist.

use crate::cli::GenCertArgs;
use crate::error::{Error, Pkcs11Problem, Result, UsageProblem};
use crate::gen_cert::{self, CERT_FILE, OutDir, OutFile};
use crate::jws::Alg;
use crate::pkcs11::keygen::KeyMaker;
use crate::pkcs11::{Module, ObjectType, PinSource, Uri};
use crate::{clock, credential, messages, output};

use crate::safe_text::shell_word;

pub fn run(args: &GenCertArgs, uri_text: &str) -> Result<()> {
    let uri = Uri::parse(uri_text).map_err(|e| {
        Error::Usage(UsageProblem::Invalid {
            flag: "--key",
            why: e.to_string(),
        })
    })?;
    if let Some(kind) = uri.kind.filter(|k| *k != ObjectType::Private) {
        return Err(Error::Pkcs11(Pkcs11Problem::WrongType {
            setting: "--key",
            kind: kind.as_str(),
        }));
    }
    let module = match (&uri.module_path, &args.pkcs11.pkcs11_module) {
        (Some(u), Some(f)) if u != f => {
            return Err(Error::Pkcs11(Pkcs11Problem::ModuleConflict {
                flag: f.clone(),
                uri: u.clone(),
            }));
        }
        (Some(m), _) | (None, Some(m)) => m.clone(),
        (None, None) => return Err(Error::Pkcs11(Pkcs11Problem::NoModule)),
    };
    let pins = PinSource::choose(
        args.pkcs11.pin_file.clone(),
        args.pkcs11.pin_stdin,
        uri.pin_source.clone(),
        None,
    );
    let out = OutDir::check(&args.out, &[CERT_FILE], args.force)?;
    let maker = KeyMaker::open(Module::open(&module)?, &uri, &pins)?;
    let token = maker.token().clone();
    let existing = maker.existing()?;
    if !existing.is_empty() && !args.force {
        return Err(Error::Pkcs11(Pkcs11Problem::ObjectExists {
            token: token.name(),
            objects: existing.iter().map(|(_, what)| what.clone()).collect(),
        }));
    }
    let mut new = maker.generate(args.key_size)?;
    let created = out.will_create();
    let made = (|| {
        let cert =
            gen_cert::self_signed_for(new.key.public_key(), &args.subject, args.days, |tbs| {
                new.key.sign(Alg::RS256, tbs)
            })?;
        maker.store_certificate(&mut new, &cert)?;
        let pem = cert.to_pem().map_err(credential::openssl_bug)?;
        out.write(&[OutFile::cert(&pem)])?;
        Ok((cert, pem))
    })();
    let (cert, pem) = match made {
        Ok(made) => made,
        Err(e) => {
            maker.undo(new);
            return Err(e);
        }
    };
    if !existing.is_empty() {
        let handles: Vec<_> = existing.iter().map(|(h, _)| *h).collect();
        maker.destroy(&handles);
    }

    let facts = token.facts();
    let thumbprints = credential::Thumbprints::of_cert(&cert)?;
    // The label is unique in the token now (checked above); the id names a key without one.
    let label = Some(maker.label().to_string()).filter(|l| !l.is_empty());
    let key_uri = Uri {
        token: Some(facts.label.clone()),
        id: label.is_none().then(|| maker.id().to_vec()),
        object: label,
        ..Uri::default()
    };
    let mut t = String::new();
    if created {
        t += &format!("created {} (mode 0700)\n", out.dir().display());
    }
    t += &format!(
        "generated an RSA {}-bit key inside token '{}' ({}, serial {}): {}\n  \
         sensitive and not extractable: the private key cannot leave the token\n",
        new.object.bits,
        facts.label,
        facts.model,
        facts.serial,
        new.object.name()
    );
    for (_, what) in &existing {
        t += &format!(
            "destroyed the old {} (--force)\n",
            what.trim_start_matches("a ")
        );
    }
    t += "stored the certificate in the token, next to the key\n";
    t += &format!(
        "wrote {} (certificate: upload this one)\n\n",
        out.path(CERT_FILE).display()
    );
    t += &format!("subject:     {}\n", args.subject);
    t += &format!(
        "thumbprint:  {} (SHA-1, as the Azure portal shows it)\n",
        thumbprints.sha1_hex()
    );
    t += &format!(
        "x5t#S256:    {}\n",
        thumbprints.x5t_s256().unwrap_or_default()
    );
    t += &format!(
        "expires:     {} ({} days)\n",
        clock::asn1_to_unix(cert.not_after())
            .map(clock::rfc3339)
            .unwrap_or_default(),
        args.days
    );
    let client = args.client_id.as_deref().unwrap_or("<client-id>");
    t += &format!(
        "\nNext steps:\n  1. Upload {} to the app registration (portal: Certificates & secrets >\n     \
         Upload certificate), or: az ad app credential reset --id {client} --cert {} --append\n  \
         2. Grant Microsoft Graph User.Read.All (application) and admin consent:\n       \
         graphd consent-url --tenant <tenant> --client-id {client}\n  \
         3. Get a token, signed inside the token:\n       \
         graphd token --tenant <tenant> --client-id {client} --key {} --pkcs11-module {}",
        out.path(CERT_FILE).display(),
        shell_word(&format!("@{}", out.path(CERT_FILE).display())),
        shell_word(&key_uri.to_string()),
        shell_word(&module.display().to_string()),
    );
    messages::info(&t);
    output::text(&String::from_utf8_lossy(&pem))
}
