//! The emulator-only admin endpoint on the Graph port, under `/_emulator/`: change the
//! synthetic tenant between two delta rounds from a shell or another language's tests.
//!
//! It is not Graph and does not pretend to be: no bearer token (the emulator listens on
//! 127.0.0.1 only and its users are synthetic), no fault injection, no paging. It never
//! touches apps, certificates or tokens.
//!
//! ```text
//! GET  /_emulator/tenant                          users, changes, delta token lifetime
//! POST /_emulator/tenant/changes?create=3&update=5&delete=2
//!        update, delete, deletePermanently: a count (random users) or comma-separated ids
//!        restore: ids; props: what update changes (default displayName,jobTitle); churn: N
//! POST /_emulator/tenant/expire-delta-tokens     every token issued so far: syncStateNotFound
//! POST /_emulator/tenant/reset-delta-sync        every token issued so far: 410 Gone
//! ```

use hyper::Method;

use super::props::Prop;
use super::query::{Fail, fail};
use super::tenant::{ChangeRequest, Pick};
use crate::emulator::respond::{self, Ctx, Resp};

/// The path prefix no Graph resource has.
pub const PREFIX: &str = "/_emulator/";

/// Whether a Graph-port path belongs to the admin endpoint.
pub fn is_admin_path(path: &str) -> bool {
    path.starts_with(PREFIX)
}

/// Answers an admin request.
pub fn handle(method: &Method, path: &str, query: &str, ctx: &Ctx) -> Resp {
    match route(method, path, query, ctx) {
        Ok(r) => r,
        Err(f) => super::error(&f, ctx),
    }
}

fn route(method: &Method, path: &str, query: &str, ctx: &Ctx) -> Result<Resp, Fail> {
    let tenant = &ctx.shared.directory;
    let post = || {
        if method == Method::POST {
            Ok(())
        } else {
            Err(fail(405, "MethodNotAllowed", "Use POST."))
        }
    };
    match path.trim_end_matches('/') {
        "/_emulator/tenant" => {
            if method != Method::GET && method != Method::HEAD {
                return Err(fail(405, "MethodNotAllowed", "Use GET."));
            }
            let view = tenant.changes.view();
            let body = serde_json::json!({
                "users": view.live_count(),
                "changes": view.seq(),
                "deltaTokenLifetimeSeconds": tenant.token_lifetime,
            });
            Ok(respond::json(200, body.to_string()))
        }
        "/_emulator/tenant/changes" => {
            post()?;
            let req = request(query)?;
            let done = tenant
                .apply(&req, &ctx.shared.domain)
                .map_err(|m| fail(400, "BadRequest", m))?;
            let body = serde_json::to_string(&done)
                .map_err(|e| fail(500, "InternalServerError", e.to_string()))?;
            Ok(respond::json(200, body))
        }
        "/_emulator/tenant/expire-delta-tokens" => {
            post()?;
            tenant.expire_tokens();
            Ok(respond::with_body(204, respond::TEXT, ""))
        }
        "/_emulator/tenant/reset-delta-sync" => {
            post()?;
            tenant.reset_sync();
            Ok(respond::with_body(204, respond::TEXT, ""))
        }
        other => Err(fail(
            404,
            "NotFound",
            format!("No emulator admin resource at {other}."),
        )),
    }
}

/// The change request a query string describes.
fn request(query: &str) -> Result<ChangeRequest, Fail> {
    let mut req = ChangeRequest::default();
    let bad = |m: String| fail(400, "BadRequest", m);
    let count = |k: &str, v: &str| {
        v.trim()
            .parse::<u64>()
            .map_err(|_| bad(format!("{k}={v:?} is not a count")))
    };
    let pick = |k: &str, v: &str| -> Result<Pick, Fail> {
        if v.trim().bytes().all(|b| b.is_ascii_digit()) {
            count(k, v).map(Pick::Random)
        } else {
            Ok(Pick::Ids(list(v)))
        }
    };
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        match k.as_ref() {
            "create" => req.create = count(&k, &v)?,
            "update" => req.update = pick(&k, &v)?,
            "delete" => req.delete = pick(&k, &v)?,
            "deletePermanently" => req.delete_permanently = pick(&k, &v)?,
            "restore" => req.restore = list(&v),
            "churn" => req.churn = count(&k, &v)?,
            "props" => {
                for name in list(&v) {
                    let p = Prop::from_name(&name)
                        .filter(|p| p.slot().is_some())
                        .ok_or_else(|| {
                            bad(format!("{name:?} is not a property the emulator changes"))
                        })?;
                    req.props.push(p);
                }
            }
            other => {
                return Err(bad(format!(
                    "unknown parameter {other:?}: use create, update, delete, deletePermanently, restore, props, churn"
                )));
            }
        }
    }
    Ok(req)
}

fn list(v: &str) -> Vec<String> {
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn change_requests_from_queries() {
        let r = request("create=3&update=5&delete=a,b&props=jobTitle,DISPLAYNAME&churn=2").unwrap();
        assert_eq!(r.create, 3);
        assert_eq!(r.update, Pick::Random(5));
        assert_eq!(r.delete, Pick::Ids(vec!["a".into(), "b".into()]));
        assert_eq!(r.props, [Prop::JobTitle, Prop::DisplayName]);
        assert_eq!(r.churn, 2);
        assert!(request("create=x").is_err());
        assert!(request("props=id").is_err());
        assert!(request("bogus=1").is_err());
        assert!(is_admin_path("/_emulator/tenant"));
        assert!(!is_admin_path("/v1.0/users"));
    }
}
