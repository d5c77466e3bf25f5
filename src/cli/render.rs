//! clap's parse errors in graphd's shape: `graphd: error: ...` plus a `hint:` line, exit 2.
//!
//! Rendered from clap's structured context (`ErrorKind` and `ContextKind`), never by reading
//! its English text, so a clap upgrade cannot silently change what users see.
//!
//! A rejected value is never repeated: a misplaced password (`graphd token hunter2`,
//! `--password=hunter2`, `--cloud hunter2`) or a URL with `user:password@` would otherwise
//! reach stderr and CI logs. Flags are named without their values; graphd's own value checks
//! explain themselves (they redact), and any copy of the value in their words is removed.

use clap::error::{ContextKind, ContextValue, ErrorKind};

use crate::error::exit;

/// Prints `e` (help and version to stdout as clap renders them; everything else as graphd's
/// error line and hint on stderr) and returns the exit code.
pub fn report(e: &clap::Error, argv: &[String]) -> u8 {
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = e.print();
            exit::OK
        }
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = e.print();
            exit::USAGE
        }
        _ => {
            let (message, hint) = render(e, argv);
            eprintln!("graphd: error: {message}");
            eprintln!("hint: {hint}");
            exit::USAGE
        }
    }
}

/// The error line and the hint for a parse error. `argv` (without the program name) only
/// tells which subcommand was meant, for the `--help` pointer.
pub fn render(e: &clap::Error, argv: &[String]) -> (String, String) {
    let help = match subcommand(argv) {
        Some(sub) => format!("see `graphd {sub} --help`"),
        None => "see `graphd --help`".to_string(),
    };
    let arg = string(e, ContextKind::InvalidArg).map(flag_only);
    let arg_name = arg.clone().unwrap_or_else(|| "an argument".into());
    match e.kind() {
        ErrorKind::UnknownArgument => unknown_argument(e, arg.as_deref(), help),
        ErrorKind::InvalidValue => {
            let valid = strings(e, ContextKind::ValidValue);
            let message = if string(e, ContextKind::InvalidValue).is_some_and(|v| v.is_empty()) {
                format!("{arg_name} needs a value")
            } else {
                format!("invalid value for {arg_name} (not repeated here: it may be a secret)")
            };
            let hint = match (string(e, ContextKind::SuggestedValue), valid.is_empty()) {
                (Some(s), _) => format!("did you mean '{s}'? use one of: {}", valid.join(", ")),
                (None, false) => format!("use one of: {}", valid.join(", ")),
                (None, true) => help,
            };
            (message, hint)
        }
        ErrorKind::ValueValidation => {
            // graphd's validators never repeat what they refuse (a test below tries every
            // option); clap's number parsers name only numbers.
            let why = std::error::Error::source(e)
                .map(ToString::to_string)
                .unwrap_or_else(|| "the value is not valid".into());
            (format!("invalid {arg_name}: {why}"), help)
        }
        ErrorKind::MissingRequiredArgument => {
            let missing = strings(e, ContextKind::InvalidArg);
            (
                format!("missing required argument: {}", missing.join(", ")),
                help,
            )
        }
        ErrorKind::ArgumentConflict => {
            let others = strings(e, ContextKind::PriorArg);
            let message = match (arg, others.is_empty()) {
                (Some(a), false) => format!("{a} cannot be used with {}", others.join(", ")),
                (Some(a), true) => format!("{a} cannot be used with one of the other arguments"),
                (None, _) => "two arguments that cannot be used together".into(),
            };
            (message, format!("pass one of them; {help}"))
        }
        ErrorKind::InvalidSubcommand => {
            let suggested = strings(e, ContextKind::SuggestedSubcommand);
            let hint = match suggested.first() {
                Some(s) => format!("did you mean `graphd {s}`? {help}"),
                None => "see `graphd --help` for the commands".into(),
            };
            (
                "unknown command (not repeated here: it may be a secret)".into(),
                hint,
            )
        }
        ErrorKind::MissingSubcommand => {
            let valid = strings(e, ContextKind::ValidSubcommand);
            (
                "a command is needed".into(),
                format!("use one of: {}", valid.join(", ")),
            )
        }
        ErrorKind::NoEquals => (format!("{arg_name} needs `=` before its value"), help),
        ErrorKind::TooManyValues => (format!("{arg_name} was given too many values"), help),
        ErrorKind::TooFewValues | ErrorKind::WrongNumberOfValues => {
            let expected = number(e, ContextKind::ExpectedNumValues)
                .or_else(|| number(e, ContextKind::MinValues));
            let message = match expected {
                Some(n) => format!("{arg_name} takes {n} value(s)"),
                None => format!("{arg_name} was given the wrong number of values"),
            };
            (message, help)
        }
        ErrorKind::InvalidUtf8 => ("an argument is not valid UTF-8".into(), help),
        _ => ("invalid command line".into(), help),
    }
}

/// An unexpected argument may be a secret typed in the wrong place (`graphd token hunter2`,
/// `--password=hunter2`): name a flag without its value, never a bare word.
fn unknown_argument(e: &clap::Error, arg: Option<&str>, help: String) -> (String, String) {
    let message = match arg.filter(|a| a.starts_with('-')) {
        Some(flag) => format!("unexpected argument '{flag}'"),
        None => "unexpected argument (not repeated here: it may be a secret)".to_string(),
    };
    let suggested = string(e, ContextKind::SuggestedArg).filter(|s| s.starts_with('-'));
    let raw = string(e, ContextKind::InvalidArg).unwrap_or_default();
    let hint = if let Some(s) = suggested {
        format!("did you mean '{s}'? {help}")
    } else if raw.to_ascii_lowercase().contains("pass") || !raw.starts_with('-') {
        format!(
            "passwords are never arguments: use --password-file, --password-stdin or \
             AZURE_CLIENT_CERTIFICATE_PASSWORD; {help}"
        )
    } else {
        help
    };
    (message, hint)
}

/// `--flag=value` or `--flag <VALUE>` as just `--flag`.
fn flag_only(arg: String) -> String {
    let name = arg.split(['=', ' ']).next().unwrap_or_default();
    if name.starts_with('-') {
        name.to_string()
    } else {
        // A positional's placeholder (`<PATH_OR_URL>`) is not a value; a bare word may be.
        arg.strip_prefix('<')
            .and_then(|a| a.strip_suffix('>'))
            .map_or_else(|| "an argument".into(), |a| format!("<{a}>"))
    }
}

/// The first subcommand name in argv, if any (`graphd -v token ...` -> `token`).
fn subcommand(argv: &[String]) -> Option<String> {
    use clap::CommandFactory;
    let cmd = super::Cli::command();
    argv.iter()
        .find(|a| cmd.get_subcommands().any(|s| s.get_name() == a.as_str()))
        .cloned()
}

fn string(e: &clap::Error, kind: ContextKind) -> Option<String> {
    match e.get(kind) {
        Some(ContextValue::String(s)) => Some(s.clone()),
        Some(ContextValue::Strings(v)) => v.first().cloned(),
        _ => None,
    }
}

fn strings(e: &clap::Error, kind: ContextKind) -> Vec<String> {
    match e.get(kind) {
        Some(ContextValue::Strings(v)) => v.clone(),
        Some(ContextValue::String(s)) => vec![s.clone()],
        _ => Vec::new(),
    }
}

fn number(e: &clap::Error, kind: ContextKind) -> Option<isize> {
    match e.get(kind) {
        Some(ContextValue::Number(n)) => Some(*n),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::Cli;

    fn rendered(args: &[&str]) -> (String, String) {
        let argv: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let e = Cli::try_parse_from(std::iter::once("graphd").chain(args.iter().copied()))
            .expect_err("the command line is refused");
        render(&e, &argv)
    }

    #[test]
    fn refused_values_are_never_repeated() {
        for args in [
            &["token", "--cloud", "hunter2"][..],
            &["token", "--cloud=hunter2"],
            &["token", "hunter2"],
            &["token", "--password=hunter2"],
            &["hunter2"],
            &["token", "--timeout", "hunter2"],
            &[
                "token",
                "--authority-host",
                "https://user:hunter2@example.com",
            ],
            &["token", "--tenant", "hunter2 x"],
        ] {
            let (message, hint) = rendered(args);
            assert!(
                !message.contains("hunter2") && !hint.contains("hunter2"),
                "{args:?}: {message} / {hint}"
            );
        }
    }

    /// Every option of every command, given a value that looks like a secret: the value is
    /// refused or accepted, never repeated.
    #[test]
    fn no_option_repeats_a_refused_value() {
        use clap::CommandFactory;
        let secret = "hunter2-SECRET-Zz9";
        let variants = [
            secret.to_string(),
            format!("https://user:{secret}@example.com"),
            format!("https://example.com/?sig={secret}"),
            format!("CN={secret}\\"),
        ];
        let root = Cli::command();
        for sub in root.get_subcommands() {
            for arg in sub.get_arguments() {
                let Some(long) = arg.get_long() else { continue };
                // A fault plan (`emulator --fault`) is test syntax, never a secret: its parser
                // names the part it does not understand.
                if !arg.get_action().takes_values() || long == "fault" {
                    continue;
                }
                for value in &variants {
                    let args = [sub.get_name(), &format!("--{long}"), value.as_str()];
                    let argv: Vec<String> = args.iter().map(|s| s.to_string()).collect();
                    let Err(e) = Cli::try_parse_from(std::iter::once("graphd").chain(args)) else {
                        continue;
                    };
                    let (message, hint) = render(&e, &argv);
                    assert!(
                        !message.contains("hunter2") && !hint.contains("hunter2"),
                        "{args:?}: {message} / {hint}"
                    );
                }
            }
        }
    }

    #[test]
    fn each_kind_says_what_to_do() {
        let (m, h) = rendered(&["token", "--cloud", "usgovv"]);
        assert_eq!(
            m,
            "invalid value for --cloud (not repeated here: it may be a secret)"
        );
        assert!(
            h.contains("use one of: public, usgov, usgov-dod, china"),
            "{h}"
        );
        let (m, h) = rendered(&["token", "--tenant-id", "x"]);
        assert_eq!(m, "unexpected argument '--tenant-id'");
        assert!(h.contains("did you mean '--tenant'"), "{h}");
        let (m, h) = rendered(&["tokne"]);
        assert!(m.starts_with("unknown command"), "{m}");
        assert!(h.contains("graphd token"), "{h}");
        let (m, _) = rendered(&["completions"]);
        assert_eq!(m, "missing required argument: <SHELL>");
        let (m, h) = rendered(&["token", "--timeout", "0"]);
        assert!(m.starts_with("invalid --timeout: "), "{m}");
        assert!(h.contains("graphd token --help"), "{h}");
        let (m, _) = rendered(&["token", "--password-file", "a", "--password-stdin"]);
        assert!(m.contains("cannot be used with"), "{m}");
    }
}
