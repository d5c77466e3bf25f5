//! Tests for `graphd assertion`.
