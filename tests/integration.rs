//! The one integration test binary (one link step for the whole suite, as ripgrep does).
//! Each module drives the real `graphd` binary; `support` holds the shared pieces.

// clippy's allow-unwrap-in-tests covers #[test] functions only, not the helpers they share.
#![allow(clippy::unwrap_used)]

mod support;

mod architecture;
mod assertion;
mod cert;
mod demo;
mod emulator;
mod gen_cert;
mod hardening;
mod leaks;
mod matrix;
mod token;
mod users;
