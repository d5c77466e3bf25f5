//! Tests for `graphd cert`.
