//! Tests for `graphd emulator`.
