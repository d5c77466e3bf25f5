//! `GET /v1.0/users/delta`: Graph's delta query over the changing tenant.
//!
//! Shapes follow Microsoft's pages (api-reference/v1.0/api/user-delta.md,
//! concepts/delta-query-overview.md and concepts/delta-query-users.md in
//! microsoftgraph/microsoft-graph-docs-contrib):
//! - the first round returns every current user; every page but the last carries an
//!   `@odata.nextLink` with only a `$skiptoken`, the last an `@odata.deltaLink` with only a
//!   `$deltatoken`; the query options live inside the tokens;
//! - a later round (from a deltaLink) returns users created, restored or changed in a
//!   tracked property, and deleted ones as `{"id", "@removed": {"reason"}}` (`changed`:
//!   restorable, `deleted`: permanent); nothing changed is an empty page with a deltaLink;
//! - `$select` limits both what is returned and what is tracked (`id` is always returned);
//!   `$filter` only by object id (`id eq '...'` joined with `or`, at most 50);
//!   `$top`, which Graph ignores on user delta, is ignored; the page size is the
//!   `Prefer: odata.maxpagesize` preference, capped at 200 users (what Graph serves per page
//!   of users/delta per Microsoft Q&A; not in the API reference); `Prefer: return=minimal`
//!   returns only changed properties in later rounds;
//! - an expired or unknown token is HTTP 400 `syncStateNotFound`; a token from before a
//!   synchronization reset is HTTP 410 with a `Location` to start over.

use hyper::HeaderMap;

use super::changes::{Record, Removal, View};
use super::delta_query::{bad, filter_ids, options, preferences, selected};
use super::delta_token::{Cursor, StateToken, Unusable};
use super::query::{Fail, fail};
use super::tenant::Stale;
use super::users::{self, DEFAULT, Prop, User};
use super::{SCAN_CAP, context};
use crate::emulator::respond::{self, Ctx, Resp};

/// The `/users/...` segment that names the delta function (also its qualified name).
pub fn is_delta_segment(segment: &str) -> bool {
    segment == "delta" || segment == "microsoft.graph.delta"
}

/// Answers a delta request. `next_link` replaces the page's nextLink (a fault).
pub fn handle(
    ctx: &Ctx,
    version: &str,
    raw: &str,
    headers: &HeaderMap,
    next_link: Option<&str>,
) -> Result<Resp, Fail> {
    let o = options(raw)?;
    let (page_size, minimal) = preferences(headers);
    let tenant = &ctx.shared.directory;
    let salt = ctx.shared.salt;
    let view = tenant.changes.view();
    let fresh = |select: Option<String>, ids: Option<Vec<u64>>| StateToken {
        serial: 0,
        issued: ctx.now,
        since: 0,
        until: view.seq(),
        cursor: Cursor::Full {
            next: 0,
            end: view.end(),
        },
        select,
        ids,
    };
    let (state, initial) = match (&o.skiptoken, &o.deltatoken) {
        (Some(t), _) => match continuing(t, ctx, version, false)? {
            Ok(state) => (state, false),
            Err(gone) => return Ok(gone),
        },
        (None, Some(t)) if !t.is_empty() && t != "latest" => {
            let done = match continuing(t, ctx, version, true)? {
                Ok(done) => done,
                Err(gone) => return Ok(gone),
            };
            let state = StateToken {
                until: view.seq(),
                cursor: Cursor::Changes {
                    next: done.since + 1,
                },
                ..done
            };
            (state, false)
        }
        _ => {
            selected(o.select.as_deref())?;
            let ids = match &o.filter {
                Some(f) => Some(filter_ids(f, &ctx.shared.domain)?),
                None => None,
            };
            let mut state = fresh(o.select.clone(), ids);
            // "Sync from now": no users, a deltaLink for the current state.
            if o.deltatoken.as_deref() == Some("latest") {
                state.since = view.seq();
                state.cursor = Cursor::Done;
            }
            (state, true)
        }
    };
    let select = selected(state.select.as_deref())?;
    let mut props: Vec<Prop> = select.clone().unwrap_or_else(|| DEFAULT.to_vec());
    if !props.contains(&Prop::Id) {
        props.push(Prop::Id);
    }
    let page = Page {
        view: &view,
        domain: &ctx.shared.domain,
        props: &props,
        tracked: select.as_deref(),
        size: page_size,
        minimal,
    };
    let (value, cursor) = match state.cursor {
        Cursor::Full { next, end } => page.full(next, end, state.ids.as_deref()),
        Cursor::Changes { next } => {
            page.changes(state.since, next, state.until, state.ids.as_deref())
        }
        Cursor::Done => (Vec::new(), Cursor::Done),
    };
    let link_state = StateToken {
        serial: tenant.issue_serial(),
        issued: ctx.now,
        since: if cursor == Cursor::Done {
            state.until
        } else {
            state.since
        },
        cursor,
        ..state
    };
    let base = format!("{}/{version}/users/delta", ctx.origin);
    let link = match (next_link, cursor) {
        (Some(url), _) => ("@odata.nextLink", url.to_string()),
        (None, Cursor::Done) => (
            "@odata.deltaLink",
            format!("{base}?$deltatoken={}", link_state.encode(salt)),
        ),
        (None, _) => (
            "@odata.nextLink",
            format!("{base}?$skiptoken={}", link_state.encode(salt)),
        ),
    };
    let mut out = Vec::with_capacity(value.len() + 600);
    out.extend_from_slice(b"{\"@odata.context\":");
    let shown = if initial { select.as_deref() } else { None };
    users::write_str(&mut out, &context(ctx, version, shown, false));
    out.extend_from_slice(format!(",\"{}\":", link.0).as_bytes());
    users::write_str(&mut out, &link.1);
    out.extend_from_slice(b",\"value\":[");
    out.extend_from_slice(&value);
    out.extend_from_slice(b"]}");
    Ok(respond::json(200, out))
}

/// A token from a nextLink (`done` false) or a deltaLink (`done` true), checked; the inner
/// `Err` is the 410 answer of a synchronization reset.
fn continuing(
    text: &str,
    ctx: &Ctx,
    version: &str,
    done: bool,
) -> Result<Result<StateToken, Resp>, Fail> {
    let malformed = || bad("The state token is not valid.");
    let expired = || {
        fail(
            400,
            "syncStateNotFound",
            "The sync state of this delta token is unknown or has expired; synchronize again from the initial request.",
        )
    };
    let token = match StateToken::decode(text, ctx.shared.salt) {
        Ok(t) => t,
        Err(Unusable::Malformed) => return Err(malformed()),
        Err(Unusable::Unknown) => return Err(expired()),
    };
    if (token.cursor == Cursor::Done) != done {
        return Err(malformed());
    }
    match ctx.shared.directory.check(&token, ctx.now) {
        Ok(()) => Ok(Ok(token)),
        Err(Stale::Expired) => Err(expired()),
        Err(Stale::Reset) => Ok(Err(reset(ctx, version, &token))),
    }
}

/// The 410 of a synchronization reset, with the initial request (an empty `$deltatoken`
/// and the round's query options) in `Location`.
fn reset(ctx: &Ctx, version: &str, token: &StateToken) -> Resp {
    let mut location = format!("{}/{version}/users/delta?", ctx.origin);
    let enc = |s: &str| -> String {
        url::form_urlencoded::byte_serialize(s.as_bytes())
            .collect::<String>()
            .replace('+', "%20")
    };
    if let Some(s) = &token.select {
        location.push_str(&format!("$select={}&", enc(s)));
    }
    if let Some(ids) = &token.ids {
        let clauses: Vec<String> = ids
            .iter()
            .map(|i| format!("id eq '{}'", super::tenant::user_id(*i, &ctx.shared.domain)))
            .collect();
        location.push_str(&format!("$filter={}&", enc(&clauses.join(" or "))));
    }
    location.push_str("$deltatoken=");
    let gone = fail(
        410,
        "resyncRequired",
        "The delta token is no longer valid; synchronize again from the start.",
    );
    let mut r = super::error(&gone, ctx);
    respond::set_header(&mut r, "location", &location);
    r
}

/// What a page is built from.
struct Page<'a> {
    view: &'a View<'a>,
    domain: &'a str,
    /// What a full item holds (the selection, or the default set; always `id`).
    props: &'a [Prop],
    /// What is tracked: the selection; `None` is every property.
    tracked: Option<&'a [Prop]>,
    size: u64,
    minimal: bool,
}

impl Page<'_> {
    /// A page of the initial round: current users from index `next`.
    fn full(&self, next: u64, end: u64, ids: Option<&[u64]>) -> (Vec<u8>, Cursor) {
        let mut out = Vec::with_capacity(self.size as usize * 64 * (self.props.len() + 1));
        let mut scratch = Vec::with_capacity(64);
        let mut candidates: Box<dyn Iterator<Item = u64>> = match ids {
            Some(ids) => Box::new(ids.iter().copied().filter(move |i| *i >= next && *i < end)),
            None => Box::new(next..end),
        };
        let (mut taken, mut scanned) = (0, 0);
        let mut resume = None;
        for i in candidates.by_ref() {
            if taken == self.size || scanned == SCAN_CAP {
                resume = Some(i);
                break;
            }
            scanned += 1;
            if let Some(revs) = self.view.live(i) {
                comma(&mut out, taken);
                User::new(i, self.domain).revised(revs).write_json(
                    self.props,
                    &mut out,
                    &mut scratch,
                );
                taken += 1;
            }
        }
        match resume {
            Some(next) => (out, Cursor::Full { next, end }),
            None => (out, Cursor::Done),
        }
    }

    /// A page of a later round: users whose latest change is in `next..=until`.
    fn changes(&self, since: u64, next: u64, until: u64, ids: Option<&[u64]>) -> (Vec<u8>, Cursor) {
        let mut out = Vec::new();
        let mut scratch = Vec::with_capacity(64);
        let (mut taken, mut scanned) = (0, 0);
        for (seq, i) in self.view.changed_between(next, until) {
            if taken == self.size || scanned == SCAN_CAP {
                return (out, Cursor::Changes { next: seq });
            }
            scanned += 1;
            if ids.is_some_and(|ids| ids.binary_search(&i).is_err()) {
                continue;
            }
            let Some(record) = self.view.record(i) else {
                continue;
            };
            let Some(item) = self.item(record, since) else {
                continue;
            };
            comma(&mut out, taken);
            let user = User::new(i, self.domain).revised(record.revs);
            match item {
                Item::Removed(how) => {
                    out.extend_from_slice(b"{\"id\":");
                    users::write_str(&mut out, user.text(Prop::Id, &mut scratch).unwrap_or(""));
                    out.extend_from_slice(b",\"@removed\":{\"reason\":\"");
                    out.extend_from_slice(how.reason().as_bytes());
                    out.extend_from_slice(b"\"}}");
                }
                Item::Whole => user.write_json(self.props, &mut out, &mut scratch),
                Item::Changed(changed) => user.write_json(&changed, &mut out, &mut scratch),
            }
            taken += 1;
        }
        (out, Cursor::Done)
    }

    /// How a changed user appears in a round that started after change `since`, if at all.
    fn item(&self, r: &Record, since: u64) -> Option<Item> {
        if let Some((at, how)) = r.removed {
            // Reported only to a client that could have seen the user.
            return (at > since && r.created <= since).then_some(Item::Removed(how));
        }
        if r.created > since || r.restored > since {
            return Some(Item::Whole);
        }
        let changed = |p: &Prop| p.slot().is_some_and(|s| r.changed_at[s] > since);
        let any = match self.tracked {
            Some(t) => t.iter().any(changed),
            None => users::MUTABLE.iter().any(changed),
        };
        if !any {
            return None;
        }
        if !self.minimal {
            return Some(Item::Whole);
        }
        let mut shown: Vec<Prop> = self.props.iter().copied().filter(changed).collect();
        shown.push(Prop::Id);
        Some(Item::Changed(shown))
    }
}

enum Item {
    Removed(Removal),
    Whole,
    /// `Prefer: return=minimal`: these properties (and `id`) only.
    Changed(Vec<Prop>),
}

fn comma(out: &mut Vec<u8>, taken: u64) {
    if taken > 0 {
        out.push(b',');
    }
}
