//! Tests for `graphd gen_cert`.
