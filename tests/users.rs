//! Tests for `graphd users`.
