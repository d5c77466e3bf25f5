//! One function per subcommand: resolve settings, call the modules that do the work, hand
//! the result to `output`. No protocol logic lives here.

mod assertion;
mod cert;
mod consent;
mod demo;
mod emulator;
mod gen_cert;
mod get;
mod list_users;
mod listing;
mod progress;
mod rotate;
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
        Command::GenCert(args) => gen_cert::run(&args),
        Command::ConsentUrl(args) => consent::run(&args),
        Command::Emulator(args) => emulator::run(&args),
        Command::Demo(args) => demo::run(&args),
        Command::Completions { shell } => {
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "graphd", &mut out);
            crate::output::text(&String::from_utf8_lossy(&out))
        }
    }
}
