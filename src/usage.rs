//! clap's parse errors in graphd's shape: `graphd: error: ...` plus a `hint:` line, exit 2.
//!
//! clap's own rendering repeats raw argument values; a misplaced password (`graphd token
//! hunter2`, `--password=hunter2`) or a URL with `user:password@` would reach stderr and CI
//! logs. This module names flags without their values and lets graphd's value checks, which
//! redact, speak instead.

use crate::error::exit;

/// Help and version go to stdout as clap prints them; every other parse error becomes the
/// usual `graphd: error:` line plus a hint, with exit code 2.
pub fn report(e: &clap::Error) -> u8 {
    use clap::error::ErrorKind;
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        let _ = e.print();
        return exit::OK;
    }
    if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
        let _ = e.print();
        return exit::USAGE;
    }
    if e.kind() == ErrorKind::UnknownArgument {
        return unknown_argument(e);
    }
    // graphd's own value checks explain the value themselves (redacting what must be);
    // clap's rendering would repeat the raw value first.
    if let (ErrorKind::ValueValidation, Some(source)) = (e.kind(), std::error::Error::source(e)) {
        let arg = match e.get(clap::error::ContextKind::InvalidArg) {
            Some(clap::error::ContextValue::String(a)) => a.clone(),
            _ => "a value".into(),
        };
        eprintln!("graphd: error: invalid {arg}: {source}");
        eprintln!("hint: see `graphd <command> --help`");
        return exit::USAGE;
    }
    let text = e.render().to_string();
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let first = lines.next().unwrap_or("invalid command line");
    let first = first.strip_prefix("error: ").unwrap_or(first);
    // "the following required arguments were not provided:" lists them on indented lines.
    let listed: Vec<&str> = if first.ends_with(':') {
        text.lines()
            .skip_while(|l| !l.ends_with(first))
            .skip(1)
            .take_while(|l| l.starts_with(' '))
            .map(str::trim)
            .collect()
    } else {
        Vec::new()
    };
    if listed.is_empty() {
        eprintln!("graphd: error: {first}");
    } else {
        eprintln!("graphd: error: {first} {}", listed.join(", "));
    }
    let possible = text.lines().find_map(|l| {
        l.trim()
            .strip_prefix("[possible values: ")
            .and_then(|v| v.strip_suffix(']'))
    });
    let tip = lines.find_map(|l| l.trim().strip_prefix("tip: "));
    match (possible, tip) {
        (Some(values), _) => eprintln!("hint: use one of: {values}"),
        (None, Some(tip)) => eprintln!("hint: {tip}"),
        (None, None) => eprintln!("hint: see `graphd --help`, or `graphd <command> --help`"),
    }
    exit::USAGE
}

/// An unexpected argument may be a secret typed in the wrong place (`graphd token hunter2`,
/// `--password=hunter2`): name a flag without its value, never a bare word.
fn unknown_argument(e: &clap::Error) -> u8 {
    use clap::error::{ContextKind, ContextValue};
    let arg = match e.get(ContextKind::InvalidArg) {
        Some(ContextValue::String(s)) => s.clone(),
        _ => String::new(),
    };
    match arg
        .strip_prefix('-')
        .map(|_| arg.split('=').next().unwrap_or_default())
    {
        Some(flag) => eprintln!("graphd: error: unexpected argument '{flag}'"),
        None => {
            eprintln!("graphd: error: unexpected argument (not repeated here: it may be a secret)")
        }
    }
    let suggested = match e.get(ContextKind::SuggestedArg) {
        Some(ContextValue::String(s)) if s.starts_with('-') => Some(s.clone()),
        _ => None,
    };
    if let Some(s) = suggested {
        eprintln!("hint: did you mean '{s}'? see `graphd <command> --help`");
    } else if arg.to_ascii_lowercase().contains("pass") || !arg.starts_with('-') {
        eprintln!(
            "hint: passwords are never arguments: use --password-file, --password-stdin or \
             AZURE_CLIENT_CERTIFICATE_PASSWORD; see `graphd <command> --help`"
        );
    } else {
        eprintln!("hint: see `graphd --help`, or `graphd <command> --help`");
    }
    exit::USAGE
}
