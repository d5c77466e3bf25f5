//! Streams the items of a Graph collection, page by page, in one of the `--output` formats.
//!
//! Memory holds one page at most: JSON and NDJSON items are copied as received (already
//! compact), table widths are planned from the first page (`layout`: fitted to a terminal,
//! never cut anywhere else), CSV goes through the csv crate (RFC 4180 quoting). The JSON array
//! is closed by `finish`, which callers run even after an error, so what was printed stays
//! one valid document.
//!
//! Graph's strings (values and keys) are server-controlled: a table shows control and bidi
//! characters as escapes wherever it goes, CSV does so on a terminal, and a CSV cell that a
//! spreadsheet would run as a formula gets a leading `'` unless `--csv-raw` asks for the data
//! exactly as received. JSON and NDJSON are the data as received, already escaped by JSON.

use std::io::{self, BufWriter, StdoutLock, Write};

use serde_json::value::RawValue;

use super::OutputFormat;
use super::cells::{cells, defuse_formula, first_fields, shown};
use super::json_text::escape_for_terminal;
use super::layout::Layout;
use super::terminal;
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
    /// Whether a person reads the output on a terminal: CSV then shows control characters as
    /// escapes, as a table always does.
    terminal: bool,
    /// `--csv-raw`: CSV cells exactly as received, formulas included.
    csv_raw: bool,
}

enum Sink<W: Write> {
    Json(BufWriter<W>),
    Ndjson(BufWriter<W>),
    Table {
        out: BufWriter<W>,
        /// The terminal's width, `None` when not writing to one.
        fit: Option<usize>,
        /// Planned with the first page.
        layout: Option<Layout>,
    },
    Csv(Box<csv::Writer<BufWriter<W>>>),
}

impl ItemWriter {
    /// A writer to stdout. `columns` picks the fields for table and CSV; empty means "the
    /// first item's fields". A table is fitted to stdout's terminal, if it is one.
    pub fn new(format: OutputFormat, columns: Vec<String>) -> Self {
        let width = terminal::stdout_width();
        let mut writer = ItemWriter::to(io::stdout().lock(), format, columns).fit_to(width);
        writer.terminal = width.is_some();
        writer
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
                fit: None,
                layout: None,
            },
            OutputFormat::Csv => Sink::Csv(Box::new(csv::Writer::from_writer(out))),
        };
        ItemWriter {
            sink,
            columns,
            written: 0,
            header: false,
            terminal: false,
            csv_raw: false,
        }
    }

    /// `--csv-raw`: CSV cells exactly as received. By default a cell a spreadsheet would run as
    /// a formula gets a leading `'` (`cells::defuse_formula`).
    pub fn csv_raw(mut self, raw: bool) -> Self {
        self.csv_raw = raw;
        self
    }

    /// A CSV row as written: escaped for a terminal, formulas defused unless `--csv-raw`.
    fn csv_row(&self, row: Vec<String>) -> Vec<String> {
        row.into_iter()
            .map(|cell| {
                let cell = if self.terminal { shown(cell) } else { cell };
                if self.csv_raw {
                    cell
                } else {
                    defuse_formula(cell)
                }
            })
            .collect()
    }

    /// Fits a table to a terminal `width` columns wide (`None`: not a terminal, the
    /// default for [`ItemWriter::to`]: nothing is cut).
    pub fn fit_to(mut self, width: Option<usize>) -> Self {
        if let Sink::Table { fit, .. } = &mut self.sink {
            *fit = width;
        }
        self
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
                    write_compact(out, item, self.terminal)?;
                }
            }
            Sink::Ndjson(out) => {
                for item in items {
                    write_compact(out, item, self.terminal)?;
                    out.write_all(b"\n").map_err(Error::Output)?;
                }
            }
            Sink::Table { out, fit, layout } => {
                // A table is for people, wherever it goes: values and headers (JSON keys,
                // server-chosen too) are escaped.
                let rows: Vec<Vec<String>> = items
                    .iter()
                    .map(|i| cells(i, &self.columns, true))
                    .collect();
                let header = table_header(&self.columns);
                let layout = layout.get_or_insert_with(|| Layout::plan(&header, &rows, *fit));
                if !self.header {
                    layout.write_row(out, &header)?;
                    self.header = true;
                }
                for row in &rows {
                    layout.write_row(out, row)?;
                }
            }
            Sink::Csv(_) => {
                let mut rows = Vec::with_capacity(items.len() + 1);
                if !self.header {
                    rows.push(self.csv_row(self.columns.clone()));
                    self.header = true;
                }
                for item in items {
                    rows.push(self.csv_row(cells(item, &self.columns, false)));
                }
                if let Sink::Csv(w) = &mut self.sink {
                    for row in rows {
                        w.write_record(row).map_err(csv_error)?;
                    }
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
        let csv_header = self.csv_row(self.columns.clone());
        let columns = &self.columns;
        match &mut self.sink {
            Sink::Json(out) => {
                let end: &[u8] = if self.written == 0 { b"[]\n" } else { b"\n]\n" };
                out.write_all(end).map_err(Error::Output)?;
            }
            Sink::Table { out, fit, .. } if !self.header && !columns.is_empty() => {
                let header = table_header(columns);
                Layout::plan(&header, &[], *fit).write_row(out, &header)?;
            }
            Sink::Csv(w) if !self.header && !columns.is_empty() => {
                w.write_record(csv_header).map_err(csv_error)?;
            }
            _ => {}
        }
        self.flush()
    }
}

/// The table's header row: the column names, escaped like the cells.
fn table_header(columns: &[String]) -> Vec<String> {
    columns.iter().map(|c| shown(c.clone())).collect()
}

/// A raw item on one line: as received when it already is (the common, fast case); for a
/// terminal, with DEL, C1 and bidi controls as JSON escapes (`json_text`).
fn write_compact(out: &mut impl Write, item: &RawValue, terminal: bool) -> Result<()> {
    let text = item.get();
    // Two byte searches (memchr under the hood) beat one search for a set of chars.
    let bytes = text.as_bytes();
    let one_line;
    let bytes = if bytes.contains(&b'\n') || bytes.contains(&b'\r') {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| Error::Internal(e.to_string()))?;
        one_line = serde_json::to_vec(&value).map_err(|e| Error::Internal(e.to_string()))?;
        &one_line[..]
    } else {
        bytes
    };
    if terminal {
        out.write_all(&escape_for_terminal(bytes))
    } else {
        out.write_all(bytes)
    }
    .map_err(Error::Output)
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
        render_with(format, columns, pages, |w| w)
    }

    /// As `render`, with the writer adjusted by `setup` first.
    fn render_with(
        format: OutputFormat,
        columns: &[&str],
        pages: &[&str],
        setup: impl FnOnce(ItemWriter<&mut Vec<u8>>) -> ItemWriter<&mut Vec<u8>>,
    ) -> String {
        let mut buf = Vec::new();
        let mut w = setup(ItemWriter::to(
            &mut buf,
            format,
            columns.iter().map(|c| c.to_string()).collect(),
        ));
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
        write_compact(&mut out, &raw("{\n  \"a\": 1\n}"), false).unwrap();
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
        let text = render_with(
            OutputFormat::Csv,
            &["id", "displayName", "tags"],
            &[&page],
            |w| w.csv_raw(true),
        );
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

    /// Issue 16, finding 3: server-chosen keys and values cannot drive a terminal or run as
    /// a spreadsheet formula.
    #[test]
    fn hostile_keys_and_values_are_defused() {
        let page = r#"[{"id":"1","=cmd|' /C calc'!A0":"=HYPERLINK(\"http://x\",\"y\")","\u001b]0;owned\u0007":"a\u202eb","n":"-5"}]"#;
        let csv = render(OutputFormat::Csv, &[], &[page]);
        let mut reader = csv::Reader::from_reader(csv.as_bytes());
        let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
        assert_eq!(header[1], "'=cmd|' /C calc'!A0");
        assert_eq!(
            header[2], "\u{1b}]0;owned\u{7}",
            "a pipe gets the data itself"
        );
        let row = reader.records().next().unwrap().unwrap();
        assert_eq!(&row[1], "'=HYPERLINK(\"http://x\",\"y\")");
        assert_eq!(&row[2], "a\u{202e}b");
        assert_eq!(&row[3], "'-5");
        // --csv-raw: exactly as received.
        let raw = render_with(OutputFormat::Csv, &[], &[page], |w| w.csv_raw(true));
        assert!(
            raw.contains(",\"=HYPERLINK(") && raw.contains(",-5"),
            "{raw}"
        );
        // On a terminal, CSV shows controls as escapes too.
        let mut on_tty = render_with(OutputFormat::Csv, &[], &[page], |mut w| {
            w.terminal = true;
            w
        });
        assert!(
            on_tty.contains("\\u{1b}]0;owned\\u{7}") && on_tty.contains("a\\u{202e}b"),
            "{on_tty}"
        );
        on_tty.retain(|c| c != '\n');
        assert!(
            !on_tty.chars().any(crate::safe_text::is_unsafe),
            "{on_tty:?}"
        );
        // A table escapes keys and values wherever it goes.
        let table = render(OutputFormat::Table, &[], &[page]);
        assert!(
            table.contains("\\u{1b}]0;owned\\u{7}") && table.contains("a\\u{202e}b"),
            "{table}"
        );
        assert!(
            !table
                .replace('\n', "")
                .chars()
                .any(crate::safe_text::is_unsafe),
            "{table:?}"
        );
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
    fn table_columns_line_up_across_pages_and_nothing_is_cut() {
        let pages = [
            r#"[{"id":"1","n":"short"},{"id":"22","n":"a somewhat longer value"}]"#,
            r#"[{"id":"3","n":"x"}]"#,
            r#"[{"id":"4444","n":"y"}]"#,
        ];
        let text = render(OutputFormat::Table, &["id", "n"], &pages);
        let lines: Vec<Vec<char>> = text.lines().map(|l| l.chars().collect()).collect();
        assert_eq!(lines.len(), 5, "{text}");
        // The first page sets the widths; a later, longer cell is whole, not cut.
        for line in &lines[..4] {
            assert_eq!(line[2..4], [' ', ' '], "{text}");
            assert_ne!(line[4], ' ', "{text}");
        }
        assert_eq!(lines[4].iter().collect::<String>(), "4444  y");
        assert!(!text.contains('…'));
    }

    #[test]
    fn a_table_for_a_terminal_is_fitted_to_it() {
        let page = r#"[{"id":"0123456789","n":"a value of thirty characters.."}]"#;
        let items: Vec<Box<RawValue>> = serde_json::from_str(page).unwrap();
        let refs: Vec<&RawValue> = items.iter().map(|b| &**b).collect();
        let mut buf = Vec::new();
        let mut w = ItemWriter::to(&mut buf, OutputFormat::Table, vec!["id".into(), "n".into()])
            .fit_to(Some(24));
        w.page(&refs).unwrap();
        w.finish().unwrap();
        let text = String::from_utf8(buf).unwrap();
        assert_eq!(text, "id          n\n0123456789  a value of …\n");
    }
}
