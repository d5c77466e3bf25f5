//! `graphd cert`'s arguments: the file to inspect is positional (`graphd cert key.pem`, as
//! `openssl x509 -in` users expect) or `--cert`, as for every other command.
//!
//! clap counts a value taken from the environment as given, so a plain `conflicts_with`
//! between FILE and `--cert` would refuse `graphd cert FILE` in every CI job that sets
//! `AZURE_CLIENT_CERTIFICATE_PATH`. The rule is applied here instead, from where clap says
//! `--cert` came from (`CredentialArgs::cert_from_env`): FILE and `--cert` on one command
//! line are a usage error (even when equal: one name for one file), and FILE beats the
//! environment as any flag does.
//! It never repeats either value in an error: a misplaced password must not reach a log.

use std::path::PathBuf;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{ArgMatches, Args, Command, FromArgMatches};

use super::{CredentialArgs, FederatedArgs};

/// What `graphd cert` runs with: `credential.cert` is FILE, else `--cert`, else
/// `AZURE_CLIENT_CERTIFICATE_PATH`.
#[derive(Debug)]
pub struct CertArgs {
    pub credential: CredentialArgs,
    pub federated: FederatedArgs,
    pub config: Option<PathBuf>,
    pub json: bool,
    /// `--expires-within DAYS`: exit 7 when the certificate expires within DAYS.
    pub expires_within: Option<u32>,
}

/// The command line as clap parses it, before FILE and `--cert` become one path.
#[derive(Debug, Args)]
#[command(
    after_help = "The file is FILE or --cert PATH, not both; with neither, \
AZURE_CLIENT_CERTIFICATE_PATH (or the --config file) names it. A file of certificates only is \
described and accepted (exit 0); a key that matches no certificate, an expired or weak \
certificate, an unreadable file are refused (exit 3) after the report. With --expires-within \
DAYS, a certificate that expires within DAYS exits 7 (after the report)."
)]
struct Parsed {
    /// The credential file to inspect: PEM (key and certificates, any order) or PFX/PKCS#12,
    /// or a pkcs11: URI (a key and certificate in a hardware or software token).
    #[arg(value_name = "FILE|URI", value_parser = super::pkcs11::path_or_pkcs11_uri())]
    file: Option<PathBuf>,

    #[command(flatten)]
    credential: CredentialArgs,

    #[command(flatten)]
    federated: FederatedArgs,

    /// JSON settings (the quickstart's private_key_file / thumbprint are used).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,

    /// Print the report as JSON.
    #[arg(long)]
    json: bool,

    /// Exit 7 if the certificate expires within DAYS (still valid), 3 if it has expired,
    /// 0 otherwise: for a monitoring job that rotates or alerts.
    #[arg(long, value_name = "DAYS", value_parser = clap::value_parser!(u32).range(0..=36500))]
    expires_within: Option<u32>,
}

impl CertArgs {
    fn from_parsed(p: Parsed) -> Result<Self, clap::Error> {
        let mut credential = p.credential;
        if let Some(file) = p.file {
            if credential.cert.is_some() && !credential.cert_from_env {
                let mut e = clap::Error::new(ErrorKind::ArgumentConflict);
                e.insert(
                    ContextKind::InvalidArg,
                    ContextValue::String("<FILE>".into()),
                );
                e.insert(
                    ContextKind::PriorArg,
                    ContextValue::String("--cert <PATH>".into()),
                );
                return Err(e);
            }
            credential.cert = Some(file);
            credential.cert_from_env = false;
        }
        Ok(CertArgs {
            credential,
            federated: p.federated,
            config: p.config,
            json: p.json,
            expires_within: p.expires_within,
        })
    }
}

impl FromArgMatches for CertArgs {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        CertArgs::from_parsed(Parsed::from_arg_matches(matches)?)
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        *self = CertArgs::from_arg_matches(matches)?;
        Ok(())
    }
}

impl Args for CertArgs {
    fn augment_args(cmd: Command) -> Command {
        Parsed::augment_args(cmd)
    }

    fn augment_args_for_update(cmd: Command) -> Command {
        Parsed::augment_args_for_update(cmd)
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use crate::cli::{Cli, Command};

    fn cert(args: &[&str]) -> Result<super::CertArgs, clap::Error> {
        let argv = ["graphd", "cert"].iter().chain(args);
        match Cli::try_parse_from(argv)?.command {
            Command::Cert(c) => Ok(c),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn file_is_positional_or_cert_but_not_both() {
        let c = cert(&["a.pem", "--json"]).unwrap();
        assert_eq!(c.credential.cert.unwrap().to_str(), Some("a.pem"));
        assert!(c.json);
        let c = cert(&["--cert", "b.pem", "--key", "k.pem"]).unwrap();
        assert_eq!(c.credential.cert.unwrap().to_str(), Some("b.pem"));
        assert_eq!(c.credential.key.unwrap().to_str(), Some("k.pem"));
        for twice in [
            &["a.pem", "--cert", "b.pem"][..],
            &["--cert", "a.pem", "a.pem"],
        ] {
            let e = cert(twice).unwrap_err();
            assert_eq!(e.kind(), clap::error::ErrorKind::ArgumentConflict, "{e}");
            let text = e.to_string();
            assert!(!text.contains("a.pem") && !text.contains("b.pem"), "{text}");
        }
        assert!(cert(&[]).unwrap().credential.cert.is_none());
        assert!(cert(&["a.pem", "b.pem"]).is_err(), "one file");
    }
}
