//! The only module that writes to stdout: results, never diagnostics.
//!
//! A closed pipe (`graphd list-users | head -3`) surfaces as `Error::Output` with
//! `BrokenPipe`, which main turns into a quiet exit 0.

use std::io::{self, Write};

use crate::error::{Error, Result};

/// Writes `text` and a newline to stdout, flushed.
pub fn line(text: &str) -> Result<()> {
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.flush())
        .map_err(Error::Output)
}

/// Writes `text` as is to stdout, flushed.
pub fn text(text: &str) -> Result<()> {
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(Error::Output)
}

/// Pretty JSON and a newline.
pub fn json(value: &impl serde::Serialize) -> Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(|e| Error::Internal(e.to_string()))?;
    line(&text)
}
