//! One function per subcommand: resolve settings, call the modules that do the work, hand
//! the result to `output`. No protocol logic lives here.

mod assertion;
mod cert;
mod cert_token;
mod consent;
mod delta;
mod demo;
mod demo_federated;
mod emulator;
mod gen_cert;
mod gen_cert_token;
mod get;
mod list_users;
mod listing;
mod progress;
mod rotate;
mod serve;
mod token;

use clap::CommandFactory;

use crate::cli::{Cli, Command};
use crate::error::Result;
use crate::settings::Settings;

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Cert(args) => cert::run(&args),
        Command::Rotate(args) => rotate::run(&args, Settings::resolve(&args.identity, &args.net)?),
        Command::Assertion(args) => assertion::run(&args),
        Command::Token(args) => token::run(&args, Settings::resolve(&args.identity, &args.net)?),
        Command::ListUsers(args) => {
            list_users::run(&args, Settings::resolve(&args.identity, &args.net)?)
        }
        Command::Get(args) => get::run(&args, Settings::resolve(&args.identity, &args.net)?),
        Command::GenCert(args) => match &args.key {
            Some(uri) => gen_cert_token::run(&args, uri),
            None if args.pkcs11.pin_file.is_some() || args.pkcs11.pin_stdin => Err(
                crate::error::Error::Usage(crate::error::UsageProblem::Invalid {
                    flag: "--pin-file/--pin-stdin",
                    why: "a PIN is only for --key pkcs11:... (a key generated in a token)".into(),
                }),
            ),
            None => gen_cert::run(&args),
        },
        Command::ConsentUrl(args) => consent::run(&args),
        Command::Emulator(args) => emulator::run(&args),
        Command::Demo(args) if args.federated => demo_federated::run(&args),
        Command::Demo(args) => demo::run(&args),
        Command::Serve(args) => serve::run(&args, Settings::resolve(&args.identity, &args.net)?),
        Command::Completions { shell } => {
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "graphd", &mut out);
            crate::output::text(&String::from_utf8_lossy(&out))
        }
    }
}
