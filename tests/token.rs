//! Tests for `graphd token`.
