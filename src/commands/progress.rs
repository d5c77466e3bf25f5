//! Progress on stderr while paging: only when stderr is a terminal and not `--quiet`.

use std::io::{IsTerminal, Write};
use std::time::Instant;

pub struct Progress {
    enabled: bool,
    started: Instant,
    items: u64,
    pages: u64,
}

impl Progress {
    pub fn new(quiet: bool) -> Self {
        Progress {
            enabled: !quiet && std::io::stderr().is_terminal(),
            started: Instant::now(),
            items: 0,
            pages: 0,
        }
    }

    pub fn pages(&self) -> u64 {
        self.pages
    }

    pub fn page(&mut self, items: u64) {
        self.items += items;
        self.pages += 1;
        if self.enabled {
            let secs = self.started.elapsed().as_secs_f64().max(1e-3);
            let mut err = std::io::stderr().lock();
            let _ = write!(
                err,
                "\r{} items, {} pages, {:.0}/s ",
                self.items,
                self.pages,
                self.items as f64 / secs
            );
            let _ = err.flush();
        }
    }

    pub fn finish(&self) {
        if self.enabled && self.pages > 0 {
            eprintln!();
        }
    }
}
