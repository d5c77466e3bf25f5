//! The one integration test binary (one link step for the whole suite, as ripgrep does).
//! Each module drives the real `graphd` binary; `support` holds the shared pieces.

// clippy's allow-unwrap-in-tests covers #[test] functions only, not the helpers they share.
#![allow(clippy::unwrap_used)]

mod support;

mod architecture;
mod assertion;
mod cert;
mod delta;
mod demo;
mod emulator;
mod federated;
mod gen_cert;
mod hardening;
mod harness;
mod leaks;
mod matrix;
mod pkcs11;
mod rotate;
mod serve;
mod snapshots;
mod token;
mod users;
