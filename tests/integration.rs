//! The one integration test binary (one link step for the whole suite, as ripgrep does).
//! Each module drives the real `graphd` binary; `support` holds the shared pieces.

// Test code may unwrap: a panic is a test failure with a location.
#![allow(clippy::unwrap_used)]

mod support;

mod assertion;
mod cert;
mod demo;
mod emulator;
mod gen_cert;
mod token;
mod users;
