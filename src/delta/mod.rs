//! What `list-users --delta` remembers between runs: the `@odata.deltaLink` that starts the
//! next round, and what that link is valid for (tenant, app, Graph endpoint, `$select`,
//! `$filter`), so that a state saved for one query is never used for another.
//!
//! The record is plain JSON, read, locked and replaced through `fileio` by the command. This
//! module does no I/O and never prints the link (its token is the sync position, kept out of
//! logs).

/// The largest state file graphd reads (a state is well under 4 KiB).
pub const MAX_STATE_FILE: u64 = 64 * 1024;

use serde::{Deserialize, Serialize};

/// The `format` value of a state file graphd wrote (name and version).
pub const FORMAT: &str = "graphd-users-delta/1";

/// What a state is valid for: the identity and the query of the rounds it continues.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub tenant: String,
    pub client_id: String,
    /// The Graph base URL, without a trailing slash.
    pub graph: String,
    /// `$select`, normalised (see [`Scope::normalise_select`]).
    pub select: Vec<String>,
    pub filter: Option<String>,
}

/// The state file's contents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    pub format: String,
    pub tenant: String,
    pub client_id: String,
    pub graph: String,
    pub select: Vec<String>,
    pub filter: Option<String>,
    /// Where the next round starts: Graph's `@odata.deltaLink`, verbatim.
    pub delta_link: String,
    /// When the round that produced it finished (RFC 3339, UTC).
    pub saved_at: String,
}

impl Scope {
    /// Property names as Graph compares them: case-insensitive, order and repeats
    /// irrelevant (`--select mail,id` and `--select ID,mail` track the same changes).
    pub fn normalise_select(select: &[String]) -> Vec<String> {
        let mut names: Vec<String> = select
            .iter()
            .map(|s| s.trim().to_ascii_lowercase())
            .filter(|s| !s.is_empty())
            .collect();
        names.sort();
        names.dedup();
        names
    }

    /// The first difference between this scope and a saved state's: (what, saved, now).
    pub fn mismatch(&self, state: &State) -> Option<(&'static str, String, String)> {
        let list = |l: &[String]| {
            if l.is_empty() {
                "no $select".to_string()
            } else {
                l.join(",")
            }
        };
        let filter = |f: &Option<String>| f.clone().unwrap_or_else(|| "no $filter".into());
        if !state.tenant.eq_ignore_ascii_case(&self.tenant) {
            Some(("tenant", state.tenant.clone(), self.tenant.clone()))
        } else if !state.client_id.eq_ignore_ascii_case(&self.client_id) {
            Some(("client id", state.client_id.clone(), self.client_id.clone()))
        } else if state.graph.trim_end_matches('/') != self.graph {
            Some(("Graph endpoint", state.graph.clone(), self.graph.clone()))
        } else if Scope::normalise_select(&state.select) != self.select {
            Some(("$select", list(&state.select), list(&self.select)))
        } else if state.filter != self.filter {
            Some(("$filter", filter(&state.filter), filter(&self.filter)))
        } else {
            None
        }
    }

    /// The state to save after a round that ended with `delta_link` at `saved_at`.
    pub fn state(&self, delta_link: String, saved_at: String) -> State {
        State {
            format: FORMAT.to_string(),
            tenant: self.tenant.clone(),
            client_id: self.client_id.clone(),
            graph: self.graph.clone(),
            select: self.select.clone(),
            filter: self.filter.clone(),
            delta_link,
            saved_at,
        }
    }
}

impl State {
    /// Reads a state file's bytes; `Err` says why they are not a graphd delta state.
    pub fn parse(bytes: &[u8]) -> Result<State, String> {
        #[derive(Deserialize)]
        struct Marker {
            format: Option<String>,
        }
        let marker: Marker =
            serde_json::from_slice(bytes).map_err(|_| "not a JSON object".to_string())?;
        match marker.format.as_deref() {
            Some(FORMAT) => {}
            Some(f) if f.starts_with("graphd-users-delta/") => {
                return Err(format!(
                    "written in format {}, which this graphd does not read",
                    crate::error::printable(f, 40)
                ));
            }
            _ => return Err("no \"format\": \"graphd-users-delta/1\" in it".into()),
        }
        serde_json::from_slice(bytes).map_err(|e| format!("damaged ({e})"))
    }

    /// The bytes written to the state file: pretty JSON, so people can read it.
    pub fn to_json(&self) -> Vec<u8> {
        let mut text = serde_json::to_vec_pretty(self).unwrap_or_default();
        text.push(b'\n');
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope() -> Scope {
        Scope {
            tenant: "contoso.onmicrosoft.com".into(),
            client_id: "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee".into(),
            graph: "https://graph.microsoft.com".into(),
            select: Scope::normalise_select(&["mail".into(), " ID".into(), "id".into()]),
            filter: None,
        }
    }

    #[test]
    fn states_round_trip_and_are_recognised() {
        let s = scope().state(
            "https://g/v1.0/users/delta?$deltatoken=x".into(),
            "t".into(),
        );
        assert_eq!(s.select, ["id", "mail"]);
        assert_eq!(State::parse(&s.to_json()).unwrap(), s);
        assert!(State::parse(b"#!/bin/sh\n").unwrap_err().contains("JSON"));
        assert!(State::parse(b"{\"a\":1}").unwrap_err().contains("format"));
        assert!(
            State::parse(b"{\"format\":\"graphd-users-delta/9\"}")
                .unwrap_err()
                .contains("does not read")
        );
        assert!(
            State::parse(b"{\"format\":\"graphd-users-delta/1\"}")
                .unwrap_err()
                .contains("damaged")
        );
    }

    #[test]
    fn a_state_is_valid_only_for_its_own_query() {
        let s = scope().state("l".into(), "t".into());
        assert_eq!(scope().mismatch(&s), None);
        let mut upper = s.clone();
        upper.tenant = "CONTOSO.onmicrosoft.com".into();
        upper.select = vec!["MAIL".into(), "id".into()];
        assert_eq!(scope().mismatch(&upper), None);
        let mut other = scope();
        other.select = vec!["displayname".into()];
        assert_eq!(other.mismatch(&s).unwrap().0, "$select");
        let mut other = scope();
        other.filter = Some("id eq 'x'".into());
        let (what, saved, now) = other.mismatch(&s).unwrap();
        assert_eq!(
            (what, saved.as_str(), now.as_str()),
            ("$filter", "no $filter", "id eq 'x'")
        );
        let mut other = scope();
        other.graph = "https://graph.microsoft.us".into();
        assert_eq!(other.mismatch(&s).unwrap().0, "Graph endpoint");
        let mut other = scope();
        other.client_id = "11111111-bbbb-cccc-dddd-eeeeeeeeeeee".into();
        assert_eq!(other.mismatch(&s).unwrap().0, "client id");
    }
}
