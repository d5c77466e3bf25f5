//! Table layout: how wide each column is and what a row looks like.
//!
//! Widths come from the header and a sample of rows (the first page, so one page is all that
//! is ever held). Where the table goes decides the rest:
//! - not a terminal (a pipe, a file): nothing is ever cut; a later cell longer than its
//!   column pushes the rest of its row right, and every value arrives whole;
//! - a terminal `width` columns wide: the table is fitted to it, long columns shrinking first
//!   (water-filling: the short ones keep their full width) but never below their header; a
//!   longer cell first uses the room the terminal has left, then ends in `…`. The `id`
//!   column is never cut, on any terminal: an identifier with a piece missing is worse than a
//!   wrapped line.
//!
//! Widths count characters, which is exact for the ASCII of identifiers and addresses.

use std::io::Write;

use crate::error::{Error, Result};

/// Two spaces between columns.
const GAP: usize = 2;
/// A column shrunk to fit a terminal keeps at least this many characters (or its header).
const MIN_WIDTH: usize = 6;

/// Columns whose values are never cut.
fn never_cut(column: &str) -> bool {
    column == "id"
}

/// The widths of a table, and where it goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    widths: Vec<usize>,
    uncut: Vec<bool>,
    /// The terminal's width; `None` when the table does not go to a terminal.
    fit: Option<usize>,
    /// What the terminal has left beyond the planned widths, for cells longer than planned.
    slack: usize,
}

impl Layout {
    /// Plans the columns from the header and `sample` rows; `fit` is the terminal's width, or
    /// `None` when stdout is not a terminal.
    pub fn plan(columns: &[String], sample: &[Vec<String>], fit: Option<usize>) -> Layout {
        let header: Vec<usize> = columns.iter().map(|c| len(c).max(1)).collect();
        let mut natural = header.clone();
        for row in sample {
            for (w, cell) in natural.iter_mut().zip(row) {
                *w = (*w).max(len(cell));
            }
        }
        let uncut: Vec<bool> = columns.iter().map(|c| never_cut(c)).collect();
        let gaps = GAP * columns.len().saturating_sub(1);
        let widths = match fit {
            Some(width) if natural.iter().sum::<usize>() + gaps > width => {
                let floors: Vec<usize> = natural
                    .iter()
                    .zip(&header)
                    .zip(&uncut)
                    .map(|((n, h), u)| {
                        if *u {
                            *n
                        } else {
                            (*n).min((*h).max(MIN_WIDTH))
                        }
                    })
                    .collect();
                shrink(&natural, &floors, width.saturating_sub(gaps))
            }
            _ => natural,
        };
        let slack = fit.map_or(0, |w| w.saturating_sub(widths.iter().sum::<usize>() + gaps));
        Layout {
            widths,
            uncut,
            fit,
            slack,
        }
    }

    /// The planned width of each column.
    #[cfg(test)]
    pub fn widths(&self) -> &[usize] {
        &self.widths
    }

    /// One row: cells padded to their columns, two spaces apart, cut as the module says.
    pub fn write_row(&self, out: &mut impl Write, cells: &[String]) -> Result<()> {
        let mut line = String::new();
        // How far this row already runs past the planned position of the next column.
        let mut over = 0usize;
        let last = cells.len().min(self.widths.len()).saturating_sub(1);
        for (i, (cell, &w)) in cells.iter().zip(&self.widths).enumerate() {
            let n = len(cell);
            // On a terminal, a longer cell is shown whole if the room left on the line holds
            // it, else cut at its column's width, so the columns stay aligned.
            let cut_at = match self.fit {
                Some(_) if !self.uncut[i] && n > w + self.slack.saturating_sub(over) => Some(w),
                _ => None,
            };
            let shown = match cut_at {
                Some(w) => cell
                    .chars()
                    .take(w.saturating_sub(1))
                    .chain(['…'])
                    .collect(),
                None => cell.clone(),
            };
            let shown_len = len(&shown);
            line.push_str(&shown);
            over += shown_len.saturating_sub(w);
            if i < last {
                // A short cell pads back towards the plan, taking back what an earlier
                // overflow took.
                let pad = (w.saturating_sub(shown_len) + GAP)
                    .saturating_sub(over)
                    .max(GAP);
                over = over.saturating_sub(w.saturating_sub(shown_len));
                line.extend(std::iter::repeat_n(' ', pad));
            }
        }
        line.push('\n');
        out.write_all(line.as_bytes()).map_err(Error::Output)
    }
}

/// Widths between `floors` and `natural` whose sum is at most `budget`, as close to natural as
/// can be: every shrinkable column is capped at one level `c`, the highest that fits, and
/// what is left goes one character each to the capped columns, left to right. When even the
/// floors do not fit, the floors (the terminal wraps the lines).
fn shrink(natural: &[usize], floors: &[usize], budget: usize) -> Vec<usize> {
    let at = |c: usize| -> Vec<usize> {
        natural
            .iter()
            .zip(floors)
            .map(|(n, f)| c.clamp(*f, (*n).max(*f)))
            .collect()
    };
    let top = natural.iter().copied().max().unwrap_or(0);
    let (mut lo, mut hi) = (0usize, top);
    // The highest c with sum(at(c)) <= budget; the sum grows with c.
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        if at(mid).iter().sum::<usize>() <= budget {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    let mut widths = at(lo);
    let mut left = budget.saturating_sub(widths.iter().sum());
    for (w, n) in widths.iter_mut().zip(natural) {
        if left > 0 && *w < *n {
            *w += 1;
            left -= 1;
        }
    }
    widths
}

fn len(s: &str) -> usize {
    s.chars().count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn render(layout: &Layout, rows: &[Vec<String>]) -> Vec<String> {
        rows.iter()
            .map(|r| {
                let mut out = Vec::new();
                layout.write_row(&mut out, r).unwrap();
                String::from_utf8(out)
                    .unwrap()
                    .trim_end_matches('\n')
                    .to_string()
            })
            .collect()
    }

    const ID: &str = "5a51d3c9-b7e4-4f21-bbac-51a958fa9d7c";

    fn users() -> (Vec<String>, Vec<Vec<String>>) {
        let columns = strings(&["id", "displayName", "userPrincipalName", "mail"]);
        let upn = "Patti.Torres1@graphd-emulator.onmicrosoft.com";
        let rows = vec![
            strings(&[
                ID,
                "Chen Gu",
                "Chen.Gu0@graphd-emulator.onmicrosoft.com",
                "",
            ]),
            strings(&[ID, "Patti Torres", upn, upn]),
        ];
        (columns, rows)
    }

    #[test]
    fn not_a_terminal_never_cuts() {
        let (columns, rows) = users();
        let layout = Layout::plan(&columns, &rows, None);
        assert_eq!(layout.widths(), [36, 12, 45, 45]);
        let lines = render(&layout, &rows);
        assert_eq!(
            lines[1],
            format!(
                "{ID}  Patti Torres  Patti.Torres1@graphd-emulator.onmicrosoft.com  Patti.Torres1@graphd-emulator.onmicrosoft.com"
            )
        );
        // A later, longer cell is printed whole; the rest of its row moves right.
        let long = strings(&[ID, "A much longer display name", "u@x", "m@x"]);
        let line = &render(&layout, &[long])[0];
        assert!(line.contains("A much longer display name  u@x"), "{line}");
        assert!(!line.contains('…'));
    }

    #[test]
    fn a_wide_terminal_shows_everything_and_lends_its_room() {
        let (columns, rows) = users();
        let layout = Layout::plan(&columns, &rows, Some(200));
        assert_eq!(layout.widths(), [36, 12, 45, 45]);
        assert_eq!(
            render(&layout, &rows),
            render(&Layout::plan(&columns, &rows, None), &rows)
        );
        // 200 - 138 - 6 = 56 columns to spare: a longer cell later takes them, uncut.
        let long = strings(&[ID, "Someone with a rather long name", "u@x", "m@x"]);
        let line = &render(&layout, &[long])[0];
        assert!(
            line.contains("Someone with a rather long name  u@x  "),
            "{line}"
        );
    }

    #[test]
    fn a_narrow_terminal_shrinks_long_columns_first_and_never_the_id() {
        let (columns, rows) = users();
        let layout = Layout::plan(&columns, &rows, Some(100));
        let w = layout.widths().to_vec();
        assert_eq!(w[0], 36, "id keeps its width");
        assert_eq!(w[1], 12, "a short column keeps its width");
        assert_eq!(w.iter().sum::<usize>() + 6, 100, "{w:?}");
        assert!(
            w[2] >= "userPrincipalName".len() && w[3] >= "mail".len(),
            "{w:?}"
        );
        let lines = render(&layout, &rows);
        for line in &lines {
            assert!(line.chars().count() <= 100, "{line}");
            assert!(line.starts_with(ID), "{line}");
        }
        assert!(
            lines[1].contains("  Patti.Torres1@graphd-e…  "),
            "{}",
            lines[1]
        );
        // The header is never cut.
        let header = &render(&layout, std::slice::from_ref(&columns))[0];
        assert!(header.contains("userPrincipalName"), "{header}");

        // Narrower than the id and the headers: the floors, the id whole (the line wraps).
        let layout = Layout::plan(&columns, &rows, Some(30));
        assert_eq!(layout.widths(), [36, 11, 17, 6]);
        let line = &render(&layout, &rows)[1];
        assert!(line.starts_with(&format!("{ID}  Patti Torr…  ")), "{line}");
        // A longer id later is still whole.
        let long_id = format!("{ID}-and-more");
        let line = &render(&layout, &[strings(&[&long_id, "x", "y", "z"])])[0];
        assert!(line.starts_with(&format!("{long_id}  x")), "{line}");
    }

    #[test]
    fn shrinking_caps_at_one_level() {
        assert_eq!(shrink(&[10, 50, 40], &[6, 6, 6], 60), [10, 25, 25]);
        assert_eq!(shrink(&[10, 50, 40], &[6, 6, 6], 61), [10, 26, 25]);
        assert_eq!(shrink(&[10, 50, 40], &[6, 30, 6], 60), [10, 30, 20]);
        assert_eq!(shrink(&[10, 50, 40], &[6, 6, 6], 5), [6, 6, 6]);
        assert_eq!(shrink(&[], &[], 5), Vec::<usize>::new());
    }
}
