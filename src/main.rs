//! The `graphd` binary: parse, run, report. All logic lives in the library.

use std::process::ExitCode;

use clap::Parser;
use graphd::cli::Cli;
use graphd::error::{Error, exit};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(&e),
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

/// Help and version go to stdout as clap prints them; every other parse error becomes the
/// usual `graphd: error:` line plus a hint, with exit code 2.
fn usage_error(e: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        let _ = e.print();
        return ExitCode::SUCCESS;
    }
    if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
        let _ = e.print();
        return ExitCode::from(exit::USAGE);
    }
    let text = e.render().to_string();
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let first = lines.next().unwrap_or("invalid command line");
    eprintln!(
        "graphd: error: {}",
        first.strip_prefix("error: ").unwrap_or(first)
    );
    let tip = lines.find_map(|l| l.trim().strip_prefix("tip: "));
    match tip {
        Some(tip) => eprintln!("hint: {tip}"),
        None => eprintln!("hint: see `graphd --help`, or `graphd <command> --help`"),
    }
    ExitCode::from(exit::USAGE)
}
