//! One function per subcommand: resolve settings, call the modules that do the work, hand
//! the result to `output`. No protocol logic lives here.

mod assertion;
mod cert;

use clap::CommandFactory;

use crate::cli::{AppArgs, Cli, Command, CredentialArgs, SigningArgs};
use crate::config::{self, AppSettings, ConfigFile};
use crate::credential::{self, Credential};
use crate::error::{Error, Result};
use crate::jws::Alg;
use crate::messages;

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Cert(args) => cert::run(&args),
        Command::Assertion(args) => assertion::run(&args),
        Command::Completions { shell } => {
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "graphd", &mut out);
            crate::output::text(&String::from_utf8_lossy(&out))
        }
        _ => Err(Error::Internal(
            "this command is not implemented yet".into(),
        )),
    }
}

/// What every command that signs needs: the app, the loaded credential and the algorithm.
pub(crate) struct Signer {
    pub app: AppSettings,
    pub credential: Credential,
    pub alg: Alg,
    pub send_x5c: bool,
    /// The `--config` file, for the settings later steps resolve (network, Graph).
    #[allow(
        dead_code,
        reason = "read by the token and Graph commands, built on other branches"
    )]
    pub config: ConfigFile,
}

impl Signer {
    /// Resolves settings (usage errors first, before any file is read), then loads the credential.
    pub fn prepare(cred: &CredentialArgs, app: &AppArgs, signing: &SigningArgs) -> Result<Self> {
        let config = ConfigFile::load(app.config.as_deref())?;
        let app = config::resolve_app(app, &config)?;
        let signing = config::resolve_signing(signing, &config)?;
        let (source, mut passwords) = config::resolve_credential(cred, &config)?;
        let credential = load_credential(&source, &mut passwords)?;
        let alg = choose_alg(signing.alg, &credential)?;
        Ok(Signer {
            app,
            credential,
            alg,
            send_x5c: signing.send_x5c,
            config,
        })
    }

    /// A fresh assertion for this app's token endpoint.
    pub fn assertion(&self) -> Result<crate::secret::ClientAssertion> {
        let audience = self.app.token_endpoint();
        crate::assertion::build(
            &self.credential,
            &crate::assertion::AssertionParams {
                audience: &audience,
                client_id: &self.app.client_id,
                alg: self.alg,
                send_x5c: self.send_x5c,
            },
        )
    }
}

/// Loads a credential and prints its warnings (an expiry within 30 days).
pub(crate) fn load_credential(
    source: &credential::CredentialSource,
    passwords: &mut crate::password::PasswordSource,
) -> Result<Credential> {
    let credential = credential::load(source, passwords)?;
    for w in credential.warnings() {
        messages::warn(w);
    }
    messages::trace(&format!("credential: {credential:?}"));
    Ok(credential)
}

/// PS256 unless RS256 was asked for, or only a SHA-1 thumbprint is known.
fn choose_alg(asked: Option<Alg>, credential: &Credential) -> Result<Alg> {
    let has_s256 = credential.thumbprints().sha256.is_some();
    match asked {
        Some(Alg::PS256) if !has_s256 => Err(Error::credential(
            Some(credential.path()),
            crate::error::CredentialProblem::NeedCertificateForPs256,
        )),
        Some(alg) => Ok(alg),
        None if has_s256 => Ok(Alg::PS256),
        None => {
            messages::trace("only a SHA-1 thumbprint is configured: signing with RS256 and x5t");
            Ok(Alg::RS256)
        }
    }
}
