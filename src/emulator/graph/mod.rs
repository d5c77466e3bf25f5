//! The Graph-shaped side: bearer checks against the tokens this emulator issued, then
//! `GET /v1.0/users` (paged), `/users/$count`, `/users/{id-or-upn}` and `/users/delta` over
//! synthetic users and the changes made to them since, and the registered apps' application
//! objects with `addKey` / `removeKey` (`applications`), with Graph's error shape everywhere
//! (docs/protocol.md#graph-errors). The emulator-only admin endpoint (`/_emulator/`) shares
//! the port.

mod admin;
pub mod applications;
mod bearer;
mod changes;
pub use admin::is_admin_path;
mod delta;
mod delta_query;
mod delta_token;
mod names;
mod possession;
mod props;
pub mod query;
pub mod tenant;
pub mod users;

use std::io::Write;

use hyper::{HeaderMap, Method};

use self::bearer::authenticate;
use self::changes::View;
use self::query::{Fail, Filter, Query, fail};
use self::users::{Prop, User};
use super::keys::GRAPH_APP_ID;
use super::respond::{self, Ctx, Resp};

pub use self::bearer::Caller;

/// Application permissions that allow reading users (docs/protocol.md#listing-users).
pub const READ_USERS_ROLES: &[&str] = &[
    "User.Read.All",
    "User.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
];

/// Most users examined for one filtered page; Graph pages may hold fewer items than `$top`,
/// even none (docs/protocol.md#paging), and a filtered scan over a million users stops here per page.
const SCAN_CAP: u64 = 50_000;

/// Routes a Graph request (`body`: a POST's body, else empty). `next_link` replaces the
/// page's `@odata.nextLink` (a fault).
pub fn handle(
    method: &Method,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    body: &[u8],
    ctx: &Ctx,
    next_link: Option<&str>,
) -> Resp {
    if admin::is_admin_path(path) {
        return admin::handle(method, path, query, ctx);
    }
    match route(method, path, query, headers, body, ctx, next_link) {
        Ok(r) => r,
        Err(f) => error(&f, ctx),
    }
}

/// Graph's error body (docs/protocol.md#graph-errors), with a 401's `WWW-Authenticate`.
pub fn error(f: &Fail, ctx: &Ctx) -> Resp {
    let date = crate::clock::rfc3339(ctx.now);
    let q = |s: &str| serde_json::to_string(s).unwrap_or_default();
    // Written by hand to keep Graph's member order: code, message, innerError.
    let body = format!(
        "{{\"error\":{{\"code\":{},\"message\":{},\"innerError\":{{\"date\":{},\"request-id\":{},\"client-request-id\":{}}}}}}}",
        q(f.code),
        q(&f.message),
        q(date.trim_end_matches('Z')),
        q(&ctx.request_id),
        q(ctx.correlation_id())
    );
    let mut r = respond::json(f.status, body);
    if f.status == 401 {
        let challenge = format!(
            "Bearer realm=\"\", authorization_uri=\"{}/common/oauth2/authorize\", client_id=\"{GRAPH_APP_ID}\"",
            ctx.shared.token_origin
        );
        respond::set_header(&mut r, "www-authenticate", &challenge);
    }
    r
}

fn route(
    method: &Method,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    body: &[u8],
    ctx: &Ctx,
    next_link: Option<&str>,
) -> Result<Resp, Fail> {
    let caller = authenticate(headers, ctx)?;
    let roles = &caller.roles;
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let (version, rest) = match segments.split_first() {
        Some((v, rest)) if *v == "v1.0" || *v == "beta" => (*v, rest),
        Some((v, _)) => return Err(fail(400, "BadRequest", format!("Invalid version: {v}"))),
        None => return Err(fail(400, "BadRequest", "Invalid version: ")),
    };
    match rest.first() {
        Some(&"users") => {}
        Some(seg) if applications::is_applications(seg) => {
            let request = applications::Request {
                method,
                version,
                rest,
                query,
                headers,
                body,
            };
            return applications::route(&request, &caller, ctx);
        }
        Some(&"me") => {
            return Err(fail(
                400,
                "BadRequest",
                "/me request is only valid with delegated authentication flow.",
            ));
        }
        Some(other) => {
            return Err(fail(
                400,
                "BadRequest",
                format!("Resource not found for the segment '{other}'."),
            ));
        }
        None => {
            return Err(fail(
                400,
                "BadRequest",
                "Resource not found for the segment ''.",
            ));
        }
    }
    if method != Method::GET && method != Method::HEAD {
        return Err(fail(
            405,
            "Request_BadRequest",
            "Specified HTTP method is not allowed for the request target.",
        ));
    }
    if !roles.iter().any(|r| READ_USERS_ROLES.contains(&r.as_str())) {
        return Err(fail(
            403,
            "Authorization_RequestDenied",
            "Insufficient privileges to complete the operation.",
        ));
    }
    let advanced = headers
        .get("consistencylevel")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("eventual"));
    if let ["users", segment] = rest
        && delta::is_delta_segment(segment)
    {
        return delta::handle(ctx, version, query, headers, next_link);
    }
    let q = query::parse(query, advanced)?;
    match rest {
        ["users"] => list(ctx, version, &q, advanced, next_link),
        ["users", "$count"] => count(ctx, &q, advanced),
        ["users", key] => single(ctx, version, &q, key),
        [_, _, next, ..] => Err(fail(
            400,
            "BadRequest",
            format!("Resource not found for the segment '{next}'."),
        )),
        _ => Err(fail(400, "BadRequest", "Resource not found.")),
    }
}

fn context(ctx: &Ctx, version: &str, select: Option<&[Prop]>, entity: bool) -> String {
    let mut s = format!("{}/{version}/$metadata#users", ctx.origin);
    if let Some(props) = select {
        let names: Vec<&str> = props.iter().map(|p| p.name()).collect();
        s.push_str(&format!("({})", names.join(",")));
    }
    if entity {
        s.push_str("/$entity");
    }
    s
}

/// The candidate index range for a filter: one index for an exact id/UPN/mail match.
fn candidates(filter: Option<&Filter>, ctx: &Ctx, view: &View<'_>) -> (u64, u64) {
    let (n, domain) = (view.end(), ctx.shared.domain.as_str());
    let point = match filter {
        Some(Filter::Eq(Prop::Id, v)) => Some(users::index_of_id(v, n, domain)),
        Some(Filter::Eq(Prop::UserPrincipalName | Prop::Mail, v)) => {
            Some(users::index_of_upn(v, n, domain))
        }
        _ => None,
    };
    match point {
        Some(Some(i)) => (i, i + 1),
        Some(None) => (0, 0),
        None => (0, n),
    }
}

fn count_matches(q: &Query, ctx: &Ctx) -> u64 {
    let view = ctx.shared.directory.changes.view();
    let (start, end) = candidates(q.filter.as_ref(), ctx, &view);
    let Some(f) = &q.filter else {
        return view.live_count();
    };
    let mut scratch = Vec::with_capacity(64);
    (start..end)
        .filter_map(|i| {
            view.live(i)
                .map(|r| User::new(i, &ctx.shared.domain).revised(r))
        })
        .filter(|u| f.matches(u, &mut scratch))
        .count() as u64
}

fn list(
    ctx: &Ctx,
    version: &str,
    q: &Query,
    advanced: bool,
    next_link: Option<&str>,
) -> Result<Resp, Fail> {
    if let Some(p) = q.single_only.first() {
        return Err(fail(
            501,
            "NotImplemented",
            format!("The property '{p}' can be selected only when getting a single user."),
        ));
    }
    let top = q.top.unwrap_or(100);
    let view = ctx.shared.directory.changes.view();
    let (range_start, end) = candidates(q.filter.as_ref(), ctx, &view);
    let expired = || {
        fail(
            400,
            "Directory_ExpiredPageToken",
            "The specified page token value has expired and can no longer be included in your request.",
        )
    };
    let start = match &q.skiptoken {
        Some(t) => query::read_skiptoken(t, ctx.shared.salt, &q.filter_text)
            .filter(|s| *s <= view.end())
            .ok_or_else(expired)?,
        None => 0,
    };
    let domain = ctx.shared.domain.as_str();
    let props = q.select.as_deref().unwrap_or(users::DEFAULT);
    let mut out = Vec::with_capacity(200 + top as usize * 64 * (props.len() + 1));
    out.extend_from_slice(b"{\"@odata.context\":");
    users::write_str(&mut out, &context(ctx, version, q.select.as_deref(), false));
    // `@odata.count` on the first page only, and only with ConsistencyLevel (docs/protocol.md#paging).
    if q.count && advanced && q.skiptoken.is_none() {
        let _ = write!(out, ",\"@odata.count\":{}", count_matches(q, ctx));
    }
    let mut value = Vec::with_capacity(out.capacity());
    let mut scratch = Vec::with_capacity(64);
    let mut i = start.max(range_start);
    let scan_until = i.saturating_add(SCAN_CAP);
    let mut taken = 0;
    while i < end && taken < top && (q.filter.is_none() || i < scan_until) {
        i += 1;
        let Some(revs) = view.live(i - 1) else {
            continue;
        };
        let user = User::new(i - 1, domain).revised(revs);
        if q.filter
            .as_ref()
            .is_some_and(|f| !f.matches(&user, &mut scratch))
        {
            continue;
        }
        if taken > 0 {
            value.push(b',');
        }
        user.write_json(props, &mut value, &mut scratch);
        taken += 1;
    }
    let link = match next_link {
        Some(url) => Some(url.to_string()),
        None if i < end => {
            let mut link = format!("{}/{version}/users?", ctx.origin);
            for part in &q.passthrough {
                link.push_str(part);
                link.push('&');
            }
            link.push_str("$skiptoken=");
            link.push_str(&query::skiptoken(i, ctx.shared.salt, &q.filter_text));
            Some(link)
        }
        None => None,
    };
    if let Some(link) = link {
        out.extend_from_slice(b",\"@odata.nextLink\":");
        users::write_str(&mut out, &link);
    }
    out.extend_from_slice(b",\"value\":[");
    out.extend_from_slice(&value);
    out.extend_from_slice(b"]}");
    Ok(respond::json(200, out))
}

/// `/users/$count`: a text/plain number, only with `ConsistencyLevel: eventual` (docs/protocol.md#advanced-queries).
fn count(ctx: &Ctx, q: &Query, advanced: bool) -> Result<Resp, Fail> {
    if !advanced {
        return Err(fail(
            400,
            "Request_BadRequest",
            "$count is not currently supported.",
        ));
    }
    Ok(respond::with_body(
        200,
        respond::TEXT,
        count_matches(q, ctx).to_string(),
    ))
}

fn single(ctx: &Ctx, version: &str, q: &Query, key: &str) -> Result<Resp, Fail> {
    let key = crate::query::decode_segment(key);
    let view = ctx.shared.directory.changes.view();
    let (n, domain) = (view.end(), ctx.shared.domain.as_str());
    let index = if key.contains('@') {
        users::index_of_upn(&key, n, domain)
    } else {
        users::index_of_id(&key, n, domain)
    };
    let Some((i, revs)) = index.and_then(|i| Some((i, view.live(i)?))) else {
        return Err(fail(
            404,
            "Request_ResourceNotFound",
            format!(
                "Resource '{key}' does not exist or one of its queried reference-property objects are not present."
            ),
        ));
    };
    let props = q.select.as_deref().unwrap_or(users::DEFAULT);
    let mut user = Vec::with_capacity(600);
    let mut scratch = Vec::new();
    User::new(i, domain)
        .revised(revs)
        .write_json(props, &mut user, &mut scratch);
    let mut out = Vec::with_capacity(user.len() + 200);
    out.extend_from_slice(b"{\"@odata.context\":");
    users::write_str(&mut out, &context(ctx, version, q.select.as_deref(), true));
    if user.len() > 2 {
        out.push(b',');
        out.extend_from_slice(&user[1..user.len() - 1]);
    }
    // Single-user-only properties exist but are empty in the emulator.
    for p in &q.single_only {
        out.extend_from_slice(b",");
        users::write_str(&mut out, p);
        out.extend_from_slice(b":null");
    }
    out.push(b'}');
    Ok(respond::json(200, out))
}
