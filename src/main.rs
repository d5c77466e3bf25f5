//! The `graphd` binary: parse, run, report. All logic lives in the library.

use std::process::ExitCode;

use clap::Parser;
use graphd::cli::Cli;
use graphd::error::Error;

fn main() -> ExitCode {
    // First of all: no core dump may ever hold a key, a password or a token.
    let core_dumps = graphd::process::forbid_core_dumps();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let argv: Vec<String> = std::env::args_os()
                .skip(1)
                .map(|a| a.to_string_lossy().into_owned())
                .collect();
            return ExitCode::from(graphd::cli::render::report(&e, &argv));
        }
    };
    graphd::messages::init(cli.verbose);
    if let Err(why) = core_dumps {
        graphd::messages::warn(&why);
    }
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
