//! The loopback Entra token endpoint + Graph emulator (work in progress).

pub mod cli;
