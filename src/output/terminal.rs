//! What stdout is: a terminal (and how wide), or a pipe or file. Output that is read by
//! people on a terminal is shaped for them (fitted tables, indented JSON); anything else gets
//! the data whole and as received, for the program reading it.

use std::io::IsTerminal;

/// The width assumed for a terminal that does not say (a pty nobody sized).
const FALLBACK_WIDTH: usize = 80;

/// Whether stdout is a terminal.
pub fn stdout_is_terminal() -> bool {
    std::io::stdout().is_terminal()
}

/// The width to fit tables to: `None` when stdout is not a terminal (nothing is cut then).
/// `COLUMNS` first, as `ls` and most tools read it, then the terminal's own size.
pub fn stdout_width() -> Option<usize> {
    if !stdout_is_terminal() {
        return None;
    }
    let size = rustix::termios::tcgetwinsize(std::io::stdout())
        .ok()
        .map(|w| w.ws_col);
    Some(width(std::env::var("COLUMNS").ok().as_deref(), size))
}

/// The terminal width from `COLUMNS` and the tty's column count, either possibly unusable.
fn width(columns: Option<&str>, tty_cols: Option<u16>) -> usize {
    columns
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|c| *c > 0)
        .or_else(|| tty_cols.map(usize::from).filter(|c| *c > 0))
        .unwrap_or(FALLBACK_WIDTH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_then_the_tty_then_80() {
        assert_eq!(width(Some("132"), Some(100)), 132);
        assert_eq!(width(Some(" 90 "), None), 90);
        assert_eq!(width(Some("wide"), Some(100)), 100);
        assert_eq!(width(Some("0"), Some(0)), 80);
        assert_eq!(width(None, Some(120)), 120);
        assert_eq!(width(None, None), 80);
    }
}
