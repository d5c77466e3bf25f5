//! The registered apps' application objects: `GET /v1.0/applications/{id}` and
//! `/v1.0/applications(appId='{appId}')` (optionally `$select`), and the `addKey` and
//! `removeKey` actions (docs/protocol.md#certificate-self-rotation, #registering-a-certificate).
//!
//! Reading needs one of the roles Graph's permission table lists for application: get
//! (`Application.Read.All`, `Application.ReadWrite.OwnedBy`, `Application.ReadWrite.All`).
//! The actions need none to roll the app's own keys, an app-only token, and a proof of
//! possession checked by `possession` as strictly as Graph documents it. A key added here
//! reaches the token side after the emulator's key propagation delay; a removed key stops
//! working at once. Key credentials are shown as Graph shows them: `customKeyIdentifier` the
//! SHA-1 thumbprint as upper-case hex, `key` only with `$select` on one application.

use std::time::Instant;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hyper::header::CONTENT_TYPE;
use hyper::{HeaderMap, Method};
use openssl::x509::X509;
use serde_json::{Map, Value, json};

use super::Caller;
use super::possession;
use super::query::{Fail, fail};
use crate::emulator::respond::{self, Ctx, Resp};
use crate::emulator::state::{App, RegisteredCert};

/// Application permissions that allow reading an application (application: get).
pub const READ_ROLES: &[&str] = &[
    "Application.Read.All",
    "Application.ReadWrite.OwnedBy",
    "Application.ReadWrite.All",
];

/// The permission that allows changing another application's keys (the emulator has no
/// owners, so `Application.ReadWrite.OwnedBy` covers only the app itself).
const WRITE_ANY: &str = "Application.ReadWrite.All";

/// The properties an application has in the emulator, in Graph's order.
const PROPERTIES: &[&str] = &[
    "id",
    "appId",
    "displayName",
    "signInAudience",
    "keyCredentials",
    "passwordCredentials",
];

/// A request under `/{version}/applications...`.
pub struct Request<'a> {
    pub method: &'a Method,
    pub version: &'a str,
    /// The path segments after the version.
    pub rest: &'a [&'a str],
    pub query: &'a str,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

/// Whether a first path segment addresses applications.
pub fn is_applications(segment: &str) -> bool {
    segment == "applications" || segment.starts_with("applications(")
}

/// Routes a request under `/applications`.
pub fn route(req: &Request<'_>, caller: &Caller, ctx: &Ctx) -> Result<Resp, Fail> {
    let (app, tail) = match req.rest {
        ["applications"] => {
            return Err(fail(
                501,
                "NotImplemented",
                "The emulator serves single applications: /applications/{id} or /applications(appId='{appId}').",
            ));
        }
        ["applications", id, tail @ ..] => {
            (lookup(ctx, &crate::query::decode_segment(id), false), tail)
        }
        [segment, tail @ ..] => (by_app_id(segment, ctx)?, tail),
        [] => {
            return Err(fail(
                400,
                "BadRequest",
                "Resource not found for the segment ''.",
            ));
        }
    };
    match (req.method, tail) {
        (&Method::GET | &Method::HEAD, []) => {
            if !caller
                .roles
                .iter()
                .any(|r| READ_ROLES.contains(&r.as_str()))
            {
                return Err(denied());
            }
            get(&*app?, req, ctx)
        }
        (&Method::POST, ["addKey"]) => add_key(&*authorized(app?, caller)?, req, ctx),
        (&Method::POST, ["removeKey"]) => remove_key(&*authorized(app?, caller)?, req, ctx),
        (_, [] | ["addKey" | "removeKey"]) => Err(fail(
            405,
            "Request_BadRequest",
            "Specified HTTP method is not allowed for the request target.",
        )),
        (_, [next, ..]) => Err(fail(
            400,
            "BadRequest",
            format!("Resource not found for the segment '{next}'."),
        )),
    }
}

fn denied() -> Fail {
    fail(
        403,
        "Authorization_RequestDenied",
        "Insufficient privileges to complete the operation.",
    )
}

/// Graph's answer to a missing, malformed or invalid proof (and to users' other attempts:
/// microsoft-graph-docs#10686, #22076).
fn malformed() -> Fail {
    fail(
        401,
        "Authentication_MissingOrMalformed",
        "Access Token missing or malformed.",
    )
}

fn not_found(key: &str) -> Fail {
    fail(
        404,
        "Request_ResourceNotFound",
        format!(
            "Resource '{key}' does not exist or one of its queried reference-property objects are not present."
        ),
    )
}

/// The app whose object id (or, `by_app_id`, client id) is `key`.
fn lookup(ctx: &Ctx, key: &str, by_app_id: bool) -> Result<std::sync::Arc<App>, Fail> {
    let found = if by_app_id {
        ctx.shared.state.app(key)
    } else {
        ctx.shared.state.app_by_object_id(key)
    };
    found.ok_or_else(|| not_found(key))
}

/// `applications(appId='{appId}')`, percent-encoded or not.
fn by_app_id(segment: &str, ctx: &Ctx) -> Result<Result<std::sync::Arc<App>, Fail>, Fail> {
    let decoded = crate::query::decode_segment(segment);
    let app_id = decoded
        .strip_prefix("applications(appId='")
        .and_then(|s| s.strip_suffix("')"))
        .filter(|s| !s.is_empty() && !s.contains('\''))
        .ok_or_else(|| fail(400, "BadRequest", "Bad Request - Error in query syntax."))?;
    Ok(lookup(ctx, app_id, true))
}

/// The actions roll the caller's own keys, with an app-only token; changing another app's
/// keys needs `Application.ReadWrite.All`.
fn authorized(app: std::sync::Arc<App>, caller: &Caller) -> Result<std::sync::Arc<App>, Fail> {
    if caller.idtyp != "app" {
        return Err(malformed());
    }
    let own = caller.app_id.eq_ignore_ascii_case(&app.client_id);
    if !own && !caller.roles.iter().any(|r| r == WRITE_ANY) {
        return Err(denied());
    }
    Ok(app)
}

/// A key credential as Graph shows it (members in Graph's alphabetical order).
fn key_credential(c: &RegisteredCert, with_key: bool) -> Value {
    let time = |t: Option<i64>| t.map(crate::clock::rfc3339);
    json!({
        "customKeyIdentifier": c.custom_key_identifier,
        "displayName": c.display_name,
        "endDateTime": time(c.not_after),
        "key": with_key.then(|| STANDARD.encode(&c.der)),
        "keyId": c.key_id,
        "startDateTime": time(c.not_before),
        "type": "AsymmetricX509Cert",
        "usage": "Verify",
    })
}

fn get(app: &App, req: &Request<'_>, ctx: &Ctx) -> Result<Resp, Fail> {
    let mut select: Option<Vec<String>> = None;
    for (k, v) in url::form_urlencoded::parse(req.query.as_bytes()) {
        if k == "$select" {
            let names: Vec<String> = v.split(',').map(|p| p.trim().to_string()).collect();
            if let Some(unknown) = names.iter().find(|n| !PROPERTIES.contains(&n.as_str())) {
                return Err(fail(
                    400,
                    "Request_BadRequest",
                    format!(
                        "Could not find a property named '{unknown}' on type 'microsoft.graph.application'."
                    ),
                ));
            }
            select = Some(names);
        }
    }
    let shown = |p: &str| select.as_ref().is_none_or(|s| s.iter().any(|n| n == p));
    let mut context = format!("{}/{}/$metadata#applications", ctx.origin, req.version);
    if let Some(s) = &select {
        context.push_str(&format!("({})", s.join(",")));
    }
    context.push_str("/$entity");
    let mut out = Map::new();
    out.insert("@odata.context".into(), json!(context));
    let with_key = select.is_some();
    for p in PROPERTIES.iter().filter(|p| shown(p)) {
        let value = match *p {
            "id" => json!(app.object_id),
            "appId" => json!(app.client_id),
            "displayName" => json!("graphd emulator app"),
            "signInAudience" => json!("AzureADMyOrg"),
            "keyCredentials" => Value::Array(
                app.certs
                    .iter()
                    .map(|c| key_credential(c, with_key))
                    .collect(),
            ),
            _ => json!([]),
        };
        out.insert((*p).to_string(), value);
    }
    Ok(respond::json(200, Value::Object(out).to_string()))
}

/// The JSON object of an action's body, as Graph reads it.
fn body_object(req: &Request<'_>) -> Result<Map<String, Value>, Fail> {
    let unreadable = || {
        fail(
            400,
            "BadRequest",
            "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.",
        )
    };
    let json_type = req
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"));
    if !json_type {
        return Err(unreadable());
    }
    match serde_json::from_slice(req.body) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(unreadable()),
    }
}

/// Checks the body's `proof` for `app`.
fn check_proof(body: &Map<String, Value>, app: &App, ctx: &Ctx) -> Result<(), Fail> {
    let proof = body
        .get("proof")
        .and_then(Value::as_str)
        .ok_or_else(malformed)?;
    possession::check(proof, app, ctx.now).map_err(|why| {
        crate::messages::trace(&format!("emulator: proof of possession refused: {why}"));
        malformed()
    })
}

fn invalid(property: &str, resource: &str) -> Fail {
    fail(
        400,
        "Request_BadRequest",
        format!("Invalid value specified for property '{property}' of resource '{resource}'."),
    )
}

fn add_key(app: &App, req: &Request<'_>, ctx: &Ctx) -> Result<Resp, Fail> {
    let body = body_object(req)?;
    check_proof(&body, app, ctx)?;
    let Some(Value::Object(kc)) = body.get("keyCredential") else {
        return Err(invalid("keyCredential", "application"));
    };
    let text = |name: &str| kc.get(name).and_then(Value::as_str);
    match text("type") {
        Some("AsymmetricX509Cert") => {}
        // X509CertAndPassword (usage Sign, with a password) exists in Graph; graphd and
        // the emulator's token side only use verification certificates.
        _ => return Err(invalid("type", "KeyCredential")),
    }
    match text("usage") {
        Some("Verify") => {}
        Some("Sign") => return Err(invalid("usage", "KeyCredential")),
        _ => {
            return Err(fail(
                400,
                "Request_BadRequest",
                "The value for the property \"usage\" in one of your credentials is invalid. Acceptable values are Sign, Verify.",
            ));
        }
    }
    if !matches!(body.get("passwordCredential"), None | Some(Value::Null)) {
        return Err(invalid("passwordCredential", "application"));
    }
    let cert = text("key")
        .and_then(|k| STANDARD.decode(k.trim()).ok())
        .and_then(|der| X509::from_der(&der).ok())
        .ok_or_else(|| invalid("key", "KeyCredential"))?;
    let usable_from = Instant::now() + ctx.shared.key_propagation;
    let added = RegisteredCert::added(
        &cert,
        text("displayName").map(str::to_string),
        text("customKeyIdentifier").map(str::to_string),
        usable_from,
    )
    .ok_or_else(|| invalid("key", "KeyCredential"))?;
    let mut answer = key_credential(&added, false);
    ctx.shared
        .state
        .change_app(&app.client_id, |a| a.certs.push(added))
        .ok_or_else(|| not_found(&app.object_id))?;
    answer["@odata.context"] = json!(format!(
        "{}/{}/$metadata#microsoft.graph.keyCredential",
        ctx.origin, req.version
    ));
    Ok(respond::json(200, answer.to_string()))
}

fn remove_key(app: &App, req: &Request<'_>, ctx: &Ctx) -> Result<Resp, Fail> {
    let body = body_object(req)?;
    check_proof(&body, app, ctx)?;
    let key_id = body
        .get("keyId")
        .and_then(Value::as_str)
        .filter(|k| crate::cloud::is_guid(k))
        .ok_or_else(|| invalid("keyId", "application"))?;
    let removed = ctx
        .shared
        .state
        .change_app(&app.client_id, |a| {
            let before = a.certs.len();
            a.certs.retain(|c| !c.key_id.eq_ignore_ascii_case(key_id));
            a.certs.len() < before
        })
        .ok_or_else(|| not_found(&app.object_id))?;
    if !removed {
        // Which status and code Graph gives an unknown keyId is unconfirmed.
        return Err(fail(
            400,
            "Request_BadRequest",
            format!("No key credential with keyId '{key_id}' exists on the application."),
        ));
    }
    let mut r = respond::json(204, bytes::Bytes::new());
    r.headers_mut().remove(CONTENT_TYPE);
    Ok(r)
}
