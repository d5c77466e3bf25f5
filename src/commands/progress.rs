//! Progress on stderr while paging: only when stderr is a terminal and not `--quiet`, so CI
//! logs and pipes never see it.
//!
//! The line is redrawn in place (`\r`) at most ten times a second. When stdout is the same
//! terminal (a table on screen), the line is wiped before each page is printed and drawn
//! again after it, so it never lands in the middle of the results.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// The shortest time between two redraws.
const REDRAW: Duration = Duration::from_millis(100);

pub struct Progress {
    enabled: bool,
    /// Whether results share the terminal, so the line must be wiped before each page.
    shared: bool,
    noun: &'static str,
    started: Instant,
    drawn_at: Option<Instant>,
    /// Whether the line is on screen now.
    shown: bool,
    items: u64,
    pages: u64,
}

impl Progress {
    /// `noun` names the items ("users").
    pub fn new(quiet: bool, noun: &'static str) -> Self {
        let enabled = !quiet && std::io::stderr().is_terminal();
        Progress {
            enabled,
            shared: enabled && std::io::stdout().is_terminal(),
            noun,
            started: Instant::now(),
            drawn_at: None,
            shown: false,
            items: 0,
            pages: 0,
        }
    }

    /// Pages counted so far.
    pub fn pages(&self) -> u64 {
        self.pages
    }

    /// Call before writing a page of results: wipes the line if results share the terminal.
    pub fn before_output(&mut self) {
        if self.shared && self.shown {
            let mut err = std::io::stderr().lock();
            let _ = err.write_all(b"\r\x1b[K");
            let _ = err.flush();
            self.shown = false;
        }
    }

    /// Counts a page of `items` and redraws the line when it is due.
    pub fn page(&mut self, items: u64) {
        self.items += items;
        self.pages += 1;
        let due = self.drawn_at.is_none_or(|t| t.elapsed() >= REDRAW);
        if self.enabled && (due || (self.shared && !self.shown)) {
            self.draw();
        }
    }

    fn draw(&mut self) {
        let text = status(self.items, self.pages, self.noun, self.started.elapsed());
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r{text}\x1b[K");
        let _ = err.flush();
        self.drawn_at = Some(Instant::now());
        self.shown = true;
    }

    /// Leaves the final count on its own line (on success and on error alike).
    pub fn finish(&mut self) {
        if self.enabled && self.pages > 0 {
            self.draw();
            eprintln!();
            self.shown = false;
        }
    }
}

/// `1998 users, 2 pages, 10345/s`.
fn status(items: u64, pages: u64, noun: &str, elapsed: Duration) -> String {
    let secs = elapsed.as_secs_f64().max(1e-3);
    let rate = (items as f64 / secs).round();
    format!(
        "{items} {noun}, {pages} page{}, {rate:.0}/s",
        if pages == 1 { "" } else { "s" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_line() {
        assert_eq!(
            status(1998, 2, "users", Duration::from_millis(500)),
            "1998 users, 2 pages, 3996/s"
        );
        assert_eq!(
            status(0, 1, "items", Duration::ZERO),
            "0 items, 1 page, 0/s"
        );
    }

    #[test]
    fn silent_when_stderr_is_not_a_terminal() {
        // The test harness captures stderr through a pipe or file, never a terminal here.
        if !std::io::stderr().is_terminal() {
            let p = Progress::new(false, "users");
            assert!(!p.enabled && !p.shared);
        }
        let p = Progress::new(true, "users");
        assert!(!p.enabled);
    }
}
