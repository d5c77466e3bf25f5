//! `graphd emulator` arguments.

/// Emulator options.
#[derive(Debug, clap::Args)]
pub struct EmulatorArgs {}
