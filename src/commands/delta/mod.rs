//! `graphd list-users --delta STATE_FILE`: one round of Graph's delta query for users
//! (<https://learn.microsoft.com/graph/delta-query-users>), streamed like any listing.
//!
//! The order of things is the point: lock the state file (a second run exits 3 naming the
//! holder), check the saved state is for this tenant, app, endpoint and query, then follow
//! the round's nextLinks (same origin policy as every listing) writing each page, and only
//! when every item is out (and on disk, when stdout is a file) replace the state with the
//! round's deltaLink. Anything that stops the run earlier (a closed pipe, a signal, an error
//! after the retries) leaves the old state, so the next run repeats those changes rather
//! than losing them. This module never prints the delta link.

mod round;

use std::os::fd::AsFd;
use std::path::Path;

use url::Url;

use self::round::{CHANGE, Round};
use super::listing::USER_COLUMNS;
use super::progress::Progress;
use crate::cli::ListUsersArgs;
use crate::client::Client;
use crate::delta::{MAX_STATE_FILE, Scope, State};
use crate::error::{DeltaProblem, Error, Result};
use crate::fileio::{self, LockError, Replace, Untrusted};
use crate::graph::Graph;
use crate::output::{ItemWriter, OutputFormat};
use crate::settings::Settings;
use crate::{clock, http, messages, query};

pub fn run(args: &ListUsersArgs, path: &Path, settings: Settings) -> Result<()> {
    let client = Client::new(settings)?;
    let app = client.identity.app();
    let scope = Scope {
        tenant: app.tenant.clone(),
        client_id: app.client_id.clone(),
        graph: crate::cloud::base_str(&client.net.graph),
        select: Scope::normalise_select(&args.select),
        filter: args
            .filter
            .as_deref()
            .map(str::trim)
            .filter(|f| !f.is_empty())
            .map(str::to_string),
    };
    let _lock = fileio::lock_beside(path).map_err(|e| lock_error(path, e))?;
    let previous = load(path, &scope, args.delta_reset)?;
    let mut graph = Graph::new(&client);
    // $top is not supported on users/delta; the page size is a preference.
    graph.prefer(format!("odata.maxpagesize={}", args.top));
    let initial = initial_url(&graph, args)?;
    let start = match &previous {
        Some(state) => {
            messages::trace(&format!(
                "delta: continuing from the state saved at {}",
                state.saved_at
            ));
            saved_link(&graph, state, path)?
        }
        None => {
            messages::trace("delta: no usable state: a full round");
            initial.clone()
        }
    };
    let tabular = matches!(args.output, OutputFormat::Table | OutputFormat::Csv);
    let columns = if tabular {
        let shown: Vec<String> = if args.select.is_empty() {
            USER_COLUMNS.iter().map(|c| c.to_string()).collect()
        } else {
            args.select.iter().map(|s| s.trim().to_string()).collect()
        };
        std::iter::once(CHANGE.to_string()).chain(shown).collect()
    } else {
        Vec::new()
    };
    let mut round = Round {
        writer: ItemWriter::new(args.output, columns),
        progress: Progress::new(args.quiet, "users"),
        tabular,
        changed: 0,
        removed: 0,
    };
    let rt = http::runtime()?;
    let mut url = start;
    let mut full = previous.is_none();
    let outcome = loop {
        match round.fetch(&rt, &mut graph, url.clone()) {
            Err(e) if expired(&e) && args.delta_reset_on_expiry && !full => {
                messages::warn(
                    "Graph no longer accepts the saved sync state; starting over with a full round (--delta-reset-on-expiry)",
                );
                (url, full) = (initial.clone(), true);
            }
            Err(e) if expired(&e) && !full => {
                let Error::Graph(g) = &e else { break Err(e) };
                break Err(DeltaProblem::Expired {
                    path: path.to_path_buf(),
                    status: g.status,
                    code: g.code.clone(),
                    saved_at: previous.as_ref().map(|s| s.saved_at.clone()),
                }
                .into());
            }
            other => break other.map_err(|e| filter_refused(e, &scope, full)),
        }
    };
    round.progress.finish();
    let finished = if outcome.is_ok() || round.progress.pages() > 0 {
        round.writer.finish()
    } else {
        Ok(())
    };
    let link = match outcome.and_then(|link| finished.map(|()| link)) {
        Ok(link) => final_link(&graph, link)?,
        Err(e) => {
            if !args.quiet {
                messages::info(&format!(
                    "graphd: delta: {} was not updated; the next run starts from the same point",
                    path.display()
                ));
            }
            return Err(e);
        }
    };
    sync_stdout()?;
    let state = scope.state(link.to_string(), clock::rfc3339(clock::now_unix()));
    fileio::write_atomic(path, &state.to_json(), 0o600, Replace::Atomically).map_err(|e| {
        DeltaProblem::NotSaved {
            path: path.to_path_buf(),
            reason: crate::error::io_reason(&e),
        }
    })?;
    if !args.quiet {
        let since = match (&previous, full) {
            (Some(p), false) => format!("since {}", p.saved_at),
            _ => "full round".to_string(),
        };
        messages::info(&format!(
            "graphd: delta: {} changed, {} removed ({since}); state saved to {}",
            round.changed,
            round.removed,
            path.display()
        ));
    }
    Ok(())
}

/// A sync state Graph no longer honours: HTTP 410, or `syncStateNotFound` /
/// `resyncRequired` (<https://learn.microsoft.com/graph/delta-query-overview>, "Token
/// duration" and "Synchronization reset"; <https://learn.microsoft.com/graph/errors>).
fn expired(e: &Error) -> bool {
    let Error::Graph(g) = e else { return false };
    g.status == 410
        || g.code.as_deref().is_some_and(|c| {
            c.eq_ignore_ascii_case("syncStateNotFound") || c.eq_ignore_ascii_case("resyncRequired")
        })
}

/// Graph refusing a `--filter` on the first request of a full round gets the delta hint.
fn filter_refused(mut e: Error, scope: &Scope, full: bool) -> Error {
    if let Error::Graph(g) = &mut e
        && full
        && g.status == 400
        && scope.filter.is_some()
    {
        g.hint = Some(DeltaProblem::filter_hint());
    }
    e
}

/// The saved state, if there is one to continue from; refuses a file that is not a graphd
/// state, or one saved for another query (unless `reset`).
fn load(path: &Path, scope: &Scope, reset: bool) -> Result<Option<State>> {
    let bytes = match fileio::read_own_private(path, MAX_STATE_FILE) {
        Ok(bytes) => bytes,
        Err(Untrusted::Missing) => return Ok(None),
        Err(why) => {
            return Err(DeltaProblem::Unusable {
                path: path.to_path_buf(),
                reason: format!("it is {why}"),
            }
            .into());
        }
    };
    let state = State::parse(&bytes).map_err(|reason| DeltaProblem::NotState {
        path: path.to_path_buf(),
        reason,
    })?;
    if reset {
        return Ok(None);
    }
    if let Some((what, saved, now)) = scope.mismatch(&state) {
        return Err(DeltaProblem::OtherQuery {
            path: path.to_path_buf(),
            what,
            saved,
            now,
        }
        .into());
    }
    Ok(Some(state))
}

fn lock_error(path: &Path, e: LockError) -> Error {
    match e {
        LockError::Held(pid) => DeltaProblem::Locked {
            path: path.to_path_buf(),
            pid,
        },
        LockError::Unusable(reason) => DeltaProblem::Unusable {
            path: path.to_path_buf(),
            reason,
        },
    }
    .into()
}

/// `/v1.0/users/delta` with the query options; later requests carry them in the tokens.
fn initial_url(graph: &Graph<'_>, args: &ListUsersArgs) -> Result<Url> {
    let mut url = graph.resolve("/v1.0/users/delta")?;
    let select: Vec<&str> = args
        .select
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .collect();
    let mut query = Vec::new();
    if !select.is_empty() {
        query.push(query::pair("$select", &select.join(",")));
    }
    if let Some(filter) = args
        .filter
        .as_deref()
        .map(str::trim)
        .filter(|f| !f.is_empty())
    {
        query.push(query::pair("$filter", filter));
    }
    url.set_query((!query.is_empty()).then(|| query.join("&")).as_deref());
    Ok(url)
}

/// Whether a URL is the users delta function (plain or fully qualified name).
fn is_users_delta(url: &Url) -> bool {
    let path = url.path().trim_end_matches('/');
    path.ends_with("/users/delta") || path.ends_with("/users/microsoft.graph.delta")
}

/// The saved deltaLink, if it still points at users/delta on the Graph endpoint.
fn saved_link(graph: &Graph<'_>, state: &State, path: &Path) -> Result<Url> {
    let unusable = |reason: &str| DeltaProblem::Unusable {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    };
    let url = Url::parse(&state.delta_link).map_err(|_| unusable("its delta_link is not a URL"))?;
    if graph.check_origin(&url).is_err() {
        return Err(unusable("its delta_link is not on the Graph endpoint").into());
    }
    if !is_users_delta(&url) {
        return Err(unusable("its delta_link is not a users/delta link").into());
    }
    Ok(url)
}

/// The round's deltaLink, checked as carefully as a nextLink before it is saved.
fn final_link(graph: &Graph<'_>, link: Option<String>) -> Result<Url> {
    let missing = |reason: &str| DeltaProblem::NoDeltaLink {
        reason: reason.to_string(),
    };
    let link = link.ok_or_else(|| missing("an @odata.deltaLink on its last page"))?;
    let url = Url::parse(&link).map_err(|_| missing("a deltaLink that is a URL"))?;
    graph.check_origin(&url)?;
    if !is_users_delta(&url) {
        return Err(missing("a deltaLink to users/delta").into());
    }
    Ok(url)
}

/// When stdout is a file, its data reaches the disk before the state moves on, so a crash
/// cannot leave a saved state ahead of the saved output. Pipes and terminals need nothing.
fn sync_stdout() -> Result<()> {
    let stdout = std::io::stdout();
    let fd = stdout.as_fd();
    let regular = rustix::fs::fstat(fd).is_ok_and(|st| {
        rustix::fs::FileType::from_raw_mode(st.st_mode) == rustix::fs::FileType::RegularFile
    });
    if regular {
        rustix::fs::fsync(fd).map_err(|e| Error::Output(e.into()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_is_told_by_status_and_code() {
        let graph = |status, code: Option<&str>| {
            Error::Graph(Box::new(crate::error::GraphFailure {
                method: "GET",
                status,
                code: code.map(str::to_string),
                message: None,
                request_id: None,
                path: "/v1.0/users/delta".into(),
                hint: None,
            }))
        };
        assert!(expired(&graph(410, None)));
        assert!(expired(&graph(400, Some("syncStateNotFound"))));
        assert!(expired(&graph(400, Some("resyncRequired"))));
        assert!(!expired(&graph(400, Some("Request_BadRequest"))));
        assert!(!expired(&graph(503, None)));
    }

    #[test]
    fn only_users_delta_links_are_kept() {
        let ok = |u: &str| is_users_delta(&Url::parse(u).unwrap());
        assert!(ok(
            "https://graph.microsoft.com/v1.0/users/delta?$deltatoken=x"
        ));
        assert!(ok(
            "https://graph.microsoft.com/beta/users/microsoft.graph.delta?$deltatoken=x"
        ));
        assert!(!ok(
            "https://graph.microsoft.com/v1.0/groups/delta?$deltatoken=x"
        ));
        assert!(!ok("https://graph.microsoft.com/v1.0/users?$skiptoken=x"));
    }
}
