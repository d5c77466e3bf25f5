//! graphd: call Microsoft Graph as an app with a certificate credential, and a strict
//! offline emulator of the Entra token endpoint and Graph to test against.
//!
//! The binary is a thin shell over [`commands::run`]; everything is here so that the test
//! suite and users' own Rust code can start the [`emulator`] in-process.

pub mod assertion;
pub mod cli;
pub mod client;
pub mod clock;
pub mod cloud;
pub mod commands;
pub mod consent;
pub mod credential;
pub mod delta;
pub mod dir_trust;
pub mod emulator;
pub mod error;
pub mod fileio;
pub mod gen_cert;
pub mod graph;
pub mod http;
pub mod identity;
pub mod jws;
pub mod messages;
pub mod output;
pub mod password;
pub mod pkcs11;
pub mod process;
pub mod query;
pub mod resource;
pub mod rotate;
pub mod safe_text;
pub mod secret;
pub mod serve;
pub mod settings;
pub mod token;
pub mod token_cache;
