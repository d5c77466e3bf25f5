//! The only module that writes to stdout: results, never diagnostics.
//!
//! A closed pipe (`graphd list-users | head -3`) surfaces as `Error::Output` with
//! `BrokenPipe`, which main turns into a quiet exit 0.

use std::io::{self, BufWriter, StdoutLock, Write};

use serde_json::value::RawValue;

use crate::cli::OutputFormat;
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

/// Streams the items of a Graph collection to stdout, page by page, in one of the formats
/// of `--output`. Memory holds one page at most.
pub struct ItemWriter {
    sink: Sink,
    columns: Vec<String>,
    written: u64,
}

enum Sink {
    Json(BufWriter<StdoutLock<'static>>),
    Ndjson(BufWriter<StdoutLock<'static>>),
    Table {
        out: BufWriter<StdoutLock<'static>>,
        widths: Vec<usize>,
    },
    Csv(Box<csv::Writer<BufWriter<StdoutLock<'static>>>>),
}

/// Table cells longer than this are truncated with an ellipsis.
const MAX_CELL: usize = 40;

impl ItemWriter {
    /// `columns` picks the fields for table and CSV; empty means "the first item's fields".
    pub fn new(format: OutputFormat, columns: Vec<String>) -> Self {
        let out = BufWriter::with_capacity(64 * 1024, io::stdout().lock());
        let sink = match format {
            OutputFormat::Json => Sink::Json(out),
            OutputFormat::Ndjson => Sink::Ndjson(out),
            OutputFormat::Table => Sink::Table {
                out,
                widths: Vec::new(),
            },
            OutputFormat::Csv => Sink::Csv(Box::new(csv::Writer::from_writer(out))),
        };
        ItemWriter {
            sink,
            columns,
            written: 0,
        }
    }

    /// Items written so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Writes one page of items.
    pub fn page(&mut self, items: &[&RawValue]) -> Result<()> {
        if items.is_empty() {
            return Ok(());
        }
        if self.columns.is_empty() && matches!(self.sink, Sink::Table { .. } | Sink::Csv(_)) {
            self.columns = first_fields(items[0]);
        }
        let first = self.written == 0;
        match &mut self.sink {
            Sink::Json(out) => {
                for (i, item) in items.iter().enumerate() {
                    let sep: &[u8] = if first && i == 0 { b"[\n" } else { b",\n" };
                    out.write_all(sep).map_err(Error::Output)?;
                    write_compact(out, item)?;
                }
            }
            Sink::Ndjson(out) => {
                for item in items {
                    write_compact(out, item)?;
                    out.write_all(b"\n").map_err(Error::Output)?;
                }
            }
            Sink::Table { out, widths } => {
                let rows: Vec<Vec<String>> = items
                    .iter()
                    .map(|i| cells(i, &self.columns, true))
                    .collect();
                if first {
                    *widths = self
                        .columns
                        .iter()
                        .map(|c| c.chars().count().min(MAX_CELL))
                        .collect();
                    for row in &rows {
                        for (w, cell) in widths.iter_mut().zip(row) {
                            *w = (*w).max(cell.chars().count()).min(MAX_CELL);
                        }
                    }
                    write_row(out, &self.columns, widths)?;
                }
                for row in &rows {
                    write_row(out, row, widths)?;
                }
            }
            Sink::Csv(w) => {
                if first {
                    w.write_record(&self.columns).map_err(csv_error)?;
                }
                for item in items {
                    w.write_record(cells(item, &self.columns, false))
                        .map_err(csv_error)?;
                }
            }
        }
        self.written += items.len() as u64;
        self.flush()
    }

    fn flush(&mut self) -> Result<()> {
        match &mut self.sink {
            Sink::Json(out) | Sink::Ndjson(out) | Sink::Table { out, .. } => {
                out.flush().map_err(Error::Output)
            }
            Sink::Csv(w) => w.flush().map_err(Error::Output),
        }
    }

    /// Closes the JSON array (an empty collection prints `[]`) and flushes.
    pub fn finish(mut self) -> Result<()> {
        if let Sink::Json(out) = &mut self.sink {
            let end: &[u8] = if self.written == 0 { b"[]\n" } else { b"\n]\n" };
            out.write_all(end).map_err(Error::Output)?;
        }
        self.flush()
    }
}

/// A raw item on one line: as received when it already is (the common, fast case).
fn write_compact(out: &mut impl Write, item: &RawValue) -> Result<()> {
    let text = item.get();
    if text.contains(['\n', '\r']) {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| Error::Internal(e.to_string()))?;
        serde_json::to_writer(&mut *out, &value).map_err(|e| Error::Output(e.into()))
    } else {
        out.write_all(text.as_bytes()).map_err(Error::Output)
    }
}

fn first_fields(item: &RawValue) -> Vec<String> {
    match serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(item.get()) {
        Ok(map) => map
            .keys()
            .filter(|k| !k.starts_with("@odata"))
            .cloned()
            .collect(),
        Err(_) => vec!["value".into()],
    }
}

/// The item's values for `columns`: strings as is, arrays of scalars joined with "; ",
/// objects as JSON, missing and null as empty. For a terminal, control characters go.
fn cells(item: &RawValue, columns: &[String], for_terminal: bool) -> Vec<String> {
    use serde_json::Value;
    let map =
        serde_json::from_str::<serde_json::Map<String, Value>>(item.get()).unwrap_or_default();
    columns
        .iter()
        .map(|c| {
            let text = match map.get(c) {
                None | Some(Value::Null) => String::new(),
                Some(Value::String(s)) => s.clone(),
                Some(Value::Array(a)) if a.iter().all(|v| !v.is_object() && !v.is_array()) => a
                    .iter()
                    .map(|v| {
                        v.as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| v.to_string())
                    })
                    .collect::<Vec<_>>()
                    .join("; "),
                Some(other) => other.to_string(),
            };
            if for_terminal {
                text.chars()
                    .map(|ch| if ch.is_control() { ' ' } else { ch })
                    .collect()
            } else {
                text
            }
        })
        .collect()
}

fn write_row(out: &mut impl Write, cells: &[String], widths: &[usize]) -> Result<()> {
    let mut line = String::new();
    for (i, (cell, &w)) in cells.iter().zip(widths).enumerate() {
        let len = cell.chars().count();
        let shown: String = if len > w {
            cell.chars()
                .take(w.saturating_sub(1))
                .chain(['…'])
                .collect()
        } else {
            cell.clone()
        };
        line.push_str(&shown);
        if i + 1 < cells.len() {
            let pad = w.saturating_sub(shown.chars().count()) + 2;
            line.extend(std::iter::repeat_n(' ', pad));
        }
    }
    line.push('\n');
    out.write_all(line.as_bytes()).map_err(Error::Output)
}

fn csv_error(e: csv::Error) -> Error {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => Error::Output(io),
        other => Error::Internal(format!("CSV: {other:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(s: &str) -> Box<RawValue> {
        RawValue::from_string(s.to_string()).unwrap()
    }

    #[test]
    fn cells_flatten_values() {
        let item = raw(
            r#"{"id":"1","displayName":"A\tB","businessPhones":["1","2"],"mail":null,"n":3,"o":{"x":1}}"#,
        );
        let cols: Vec<String> = [
            "id",
            "displayName",
            "businessPhones",
            "mail",
            "n",
            "o",
            "missing",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(
            cells(&item, &cols, true),
            ["1", "A B", "1; 2", "", "3", r#"{"x":1}"#, ""]
        );
        assert_eq!(cells(&item, &cols, false)[1], "A\tB");
    }

    #[test]
    fn rows_are_aligned_and_truncated() {
        let mut out = Vec::new();
        write_row(&mut out, &["ab".into(), "x".repeat(50)], &[4, 10]).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            format!("ab    {}…\n", "x".repeat(9))
        );
    }

    #[test]
    fn pretty_items_become_one_line() {
        let mut out = Vec::new();
        write_compact(&mut out, &raw("{\n  \"a\": 1\n}")).unwrap();
        assert_eq!(out, b"{\"a\":1}");
    }
}
