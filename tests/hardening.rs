//! Issue 16, "Hardening round: what an outside security review found": regression tests for
//! each finding, named after it. Each fails on the main of when the issue was filed (commit
//! 696409e) and passes now; SECURITY.md's table of promises points here.

mod audience;
mod core_dumps;
mod docs;
mod emulator;
mod files;
mod output;
mod pfx;
mod tls;
mod tokens;
mod usage;
