//! The `graphd` binary: parse, run, report. All logic lives in the library.

use std::process::ExitCode;

use clap::Parser;
use graphd::cli::Cli;
use graphd::error::Error;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return ExitCode::from(graphd::usage::report(&e)),
    };
    graphd::messages::init(cli.verbose);
    match graphd::commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        // `graphd list-users | head -3`: the reader left; that is not a failure.
        Err(Error::Output(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("graphd: error: {e}");
            if let Some(hint) = e.hint() {
                eprintln!("hint: {hint}");
            }
            ExitCode::from(e.exit_code())
        }
    }
}
