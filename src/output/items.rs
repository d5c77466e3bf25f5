//! Streams the items of a Graph collection, page by page, in one of the `--output` formats.
//!
//! Memory holds one page at most: JSON and NDJSON items are copied as received (already
//! compact), table widths are fixed by the first page, CSV goes through the csv crate
//! (RFC 4180 quoting). The JSON array is closed by `finish`, which callers run even after an
//! error, so what was printed stays one valid document.

use std::io::{self, BufWriter, StdoutLock, Write};

use serde_json::value::RawValue;

use super::OutputFormat;
use super::cells::{cells, first_fields, widths, write_row};
use crate::error::{Error, Result};

/// Output buffer: large enough that a page goes out in a few writes.
const BUFFER: usize = 64 * 1024;

/// Writes items to `W` (stdout unless a test says otherwise).
pub struct ItemWriter<W: Write = StdoutLock<'static>> {
    sink: Sink<W>,
    columns: Vec<String>,
    written: u64,
    /// Whether the table or CSV header is out.
    header: bool,
}

enum Sink<W: Write> {
    Json(BufWriter<W>),
    Ndjson(BufWriter<W>),
    Table {
        out: BufWriter<W>,
        widths: Vec<usize>,
    },
    Csv(Box<csv::Writer<BufWriter<W>>>),
}

impl ItemWriter {
    /// A writer to stdout. `columns` picks the fields for table and CSV; empty means "the
    /// first item's fields".
    pub fn new(format: OutputFormat, columns: Vec<String>) -> Self {
        ItemWriter::to(io::stdout().lock(), format, columns)
    }
}

impl<W: Write> ItemWriter<W> {
    /// A writer to `out`.
    pub fn to(out: W, format: OutputFormat, columns: Vec<String>) -> Self {
        let out = BufWriter::with_capacity(BUFFER, out);
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
            header: false,
        }
    }

    /// Items written so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Writes one page of items, then flushes, so each page reaches the reader as it comes.
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
            Sink::Table { out, widths: w } => {
                let rows: Vec<Vec<String>> = items
                    .iter()
                    .map(|i| cells(i, &self.columns, true))
                    .collect();
                if !self.header {
                    *w = widths(&self.columns, &rows);
                    write_row(out, &self.columns, w)?;
                    self.header = true;
                }
                for row in &rows {
                    write_row(out, row, w)?;
                }
            }
            Sink::Csv(w) => {
                if !self.header {
                    w.write_record(&self.columns).map_err(csv_error)?;
                    self.header = true;
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

    /// Closes the JSON array (an empty collection prints `[]`), writes the table or CSV
    /// header of an empty listing whose columns are known, and flushes.
    pub fn finish(mut self) -> Result<()> {
        let columns = &self.columns;
        match &mut self.sink {
            Sink::Json(out) => {
                let end: &[u8] = if self.written == 0 { b"[]\n" } else { b"\n]\n" };
                out.write_all(end).map_err(Error::Output)?;
            }
            Sink::Table { out, .. } if !self.header && !columns.is_empty() => {
                write_row(out, columns, &widths(columns, &[]))?;
            }
            Sink::Csv(w) if !self.header && !columns.is_empty() => {
                w.write_record(columns).map_err(csv_error)?;
            }
            _ => {}
        }
        self.flush()
    }
}

/// A raw item on one line: as received when it already is (the common, fast case).
fn write_compact(out: &mut impl Write, item: &RawValue) -> Result<()> {
    let text = item.get();
    // Two byte searches (memchr under the hood) beat one search for a set of chars.
    let bytes = text.as_bytes();
    if bytes.contains(&b'\n') || bytes.contains(&b'\r') {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| Error::Internal(e.to_string()))?;
        serde_json::to_writer(&mut *out, &value).map_err(|e| Error::Output(e.into()))
    } else {
        out.write_all(text.as_bytes()).map_err(Error::Output)
    }
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

    /// Writes `pages` (JSON arrays of items) through a writer; returns the output.
    fn render(format: OutputFormat, columns: &[&str], pages: &[&str]) -> String {
        let mut buf = Vec::new();
        let mut w = ItemWriter::to(
            &mut buf,
            format,
            columns.iter().map(|c| c.to_string()).collect(),
        );
        for page in pages {
            let items: Vec<Box<RawValue>> = serde_json::from_str(page).unwrap();
            let refs: Vec<&RawValue> = items.iter().map(|b| &**b).collect();
            w.page(&refs).unwrap();
        }
        w.finish().unwrap();
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn pretty_items_become_one_line() {
        let mut out = Vec::new();
        write_compact(&mut out, &raw("{\n  \"a\": 1\n}")).unwrap();
        assert_eq!(out, b"{\"a\":1}");
    }

    #[test]
    fn json_is_one_array_across_pages_and_empty_pages() {
        let pages = [r#"[{"a":1},{"a":2}]"#, "[]", r#"[{"a":3}]"#];
        let text = render(OutputFormat::Json, &[], &pages);
        let v: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
        assert_eq!(v.len(), 3);
        assert_eq!(v[2]["a"], 3);
        assert_eq!(render(OutputFormat::Json, &[], &[]), "[]\n");
        assert_eq!(render(OutputFormat::Ndjson, &[], &["[]"]), "");
    }

    #[test]
    fn csv_quotes_as_rfc_4180_and_reads_back() {
        let nasty = [
            "comma, inside",
            "quote \" inside",
            "line\nbreak",
            "crlf\r\nbreak",
            " padded ",
            "",
            "=1+1",
        ];
        let items: Vec<serde_json::Value> = nasty
            .iter()
            .enumerate()
            .map(|(i, s)| serde_json::json!({"id": i.to_string(), "displayName": s, "tags": [s, "x"]}))
            .collect();
        let page = serde_json::to_string(&items).unwrap();
        let text = render(OutputFormat::Csv, &["id", "displayName", "tags"], &[&page]);
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        assert_eq!(reader.headers().unwrap(), vec!["id", "displayName", "tags"]);
        let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
        assert_eq!(rows.len(), nasty.len());
        for (i, (row, s)) in rows.iter().zip(nasty).enumerate() {
            assert_eq!(row[0], i.to_string());
            assert_eq!(&row[1], s);
            assert_eq!(row[2], format!("{s}; x"));
        }
    }

    #[test]
    fn empty_listings_still_have_a_header() {
        let text = render(OutputFormat::Csv, &["id", "mail"], &["[]"]);
        assert_eq!(text, "id,mail\n");
        let text = render(OutputFormat::Table, &["id", "mail"], &[]);
        assert_eq!(text, "id  mail\n");
        assert_eq!(render(OutputFormat::Csv, &[], &[]), "");
    }

    #[test]
    fn table_columns_line_up_across_pages() {
        let pages = [
            r#"[{"id":"1","n":"short"},{"id":"22","n":"a somewhat longer value"}]"#,
            r#"[{"id":"333","n":"x"}]"#,
        ];
        let text = render(OutputFormat::Table, &["id", "n"], &pages);
        let lines: Vec<Vec<char>> = text.lines().map(|l| l.chars().collect()).collect();
        assert_eq!(lines.len(), 4, "{text}");
        // The first page sets the widths; a later, longer cell is cut to fit.
        for line in &lines {
            assert_eq!(line[2..4], [' ', ' '], "{text}");
            assert_ne!(line[4], ' ', "{text}");
        }
        assert_eq!(lines[3][..2], ['3', '…']);
    }
}
