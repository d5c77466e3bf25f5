//! The only module that writes to stdout: results, never diagnostics.
//!
//! A closed pipe (`graphd list-users | head -3`) surfaces as `Error::Output` with
//! `BrokenPipe`, which main turns into a quiet exit 0.

mod cells;
mod items;
mod json_text;
mod layout;
mod terminal;

use std::io::{self, Write};

use crate::error::{Error, Result};

pub use items::ItemWriter;
pub use terminal::stdout_is_terminal;

/// Output formats for Graph collections (`--output`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum OutputFormat {
    /// One JSON array, written as pages arrive.
    #[default]
    Json,
    /// One JSON object per line.
    Ndjson,
    /// Aligned columns: fitted to a terminal (the id never cut), whole in a pipe.
    Table,
    /// RFC 4180 CSV with a header row; a cell that would run as a spreadsheet formula gets a
    /// leading ' (see --csv-raw).
    Csv,
}

/// Writes `text` and a newline to stdout, flushed.
pub fn line(text: &str) -> Result<()> {
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.flush())
        .map_err(Error::Output)
}

/// Writes a secret (`graphd token`, `graphd assertion`) and a newline straight to the stdout
/// file descriptor, past the standard library's stdout buffer: that buffer is never wiped,
/// and a secret shorter than it (1 KiB) would stay there. Anything buffered before is
/// flushed first, so the order of output holds.
pub fn secret_line(secret: &str) -> Result<()> {
    use std::os::fd::AsFd;
    let mut out = io::stdout().lock();
    out.flush().map_err(Error::Output)?;
    for part in [secret.as_bytes(), b"\n"] {
        let mut rest = part;
        while !rest.is_empty() {
            match rustix::io::write(out.as_fd(), rest) {
                Ok(0) => return Err(Error::Output(io::ErrorKind::WriteZero.into())),
                Ok(n) => rest = &rest[n..],
                Err(rustix::io::Errno::INTR) => {}
                Err(e) => return Err(Error::Output(e.into())),
            }
        }
    }
    Ok(())
}

/// Writes `text` as is to stdout, flushed.
pub fn text(text: &str) -> Result<()> {
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(Error::Output)
}

/// A response body as received: text gets a final newline if it lacks one, anything else
/// (a photo, a file) is written byte for byte, never altered by a lossy conversion.
pub fn body(bytes: &[u8]) -> Result<()> {
    let mut out = io::stdout().lock();
    let newline = std::str::from_utf8(bytes).is_ok_and(|t| !t.is_empty() && !t.ends_with('\n'));
    out.write_all(bytes)
        .and_then(|()| {
            if newline {
                out.write_all(b"\n")
            } else {
                Ok(())
            }
        })
        .and_then(|()| out.flush())
        .map_err(Error::Output)
}

/// How `graphd get` lays out a JSON answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyLayout {
    /// Indented on a terminal, as received anywhere else.
    Auto,
    /// One line (`--compact`).
    Compact,
    /// Indented with two spaces (`--pretty`).
    Pretty,
}

/// A Graph answer laid out as asked when it is a JSON object or array; anything else (and
/// JSON under `Auto` when stdout is not a terminal) exactly as [`body`] writes it.
/// On a terminal, JSON is shown with DEL, C1 and bidi controls escaped
/// (`json_text::escape_for_terminal`: the same JSON value).
pub fn graph_body(bytes: &[u8], layout: BodyLayout) -> Result<()> {
    let terminal = terminal::stdout_is_terminal();
    let layout = match layout {
        BodyLayout::Auto if terminal => json_text::Layout::Pretty,
        BodyLayout::Auto => return body(bytes),
        BodyLayout::Compact => json_text::Layout::Compact,
        BodyLayout::Pretty => json_text::Layout::Pretty,
    };
    match json_text::relayout(bytes, layout) {
        Some(text) if terminal => body(&json_text::escape_for_terminal(&text)),
        Some(text) => body(&text),
        None => body(bytes),
    }
}

/// Points stdout at `/dev/null` once the result is written, while the process goes on
/// (`graphd serve`): a reader waiting for end of file, such as `. fifo` or `$(...)`, gets it
/// then. Nothing written afterwards reaches anyone.
pub fn close_stdout() -> Result<()> {
    io::stdout().lock().flush().map_err(Error::Output)?;
    let null = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/null")
        .map_err(Error::Output)?;
    rustix::stdio::dup2_stdout(&null).map_err(|e| Error::Output(e.into()))
}

/// Pretty JSON and a newline; escaped for a terminal as [`graph_body`] does.
pub fn json(value: &impl serde::Serialize) -> Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(|e| Error::Internal(e.to_string()))?;
    if terminal::stdout_is_terminal() {
        let shown = json_text::escape_for_terminal(text.as_bytes());
        line(&String::from_utf8_lossy(&shown))
    } else {
        line(&text)
    }
}
