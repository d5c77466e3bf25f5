//! The Entra-shaped side: `POST /{tenant}/oauth2/v2.0/token` (client credentials with a
//! certificate assertion), OpenID discovery, JWKS and MSAL's instance discovery.
//!
//! Checks run in the order a client meets them: the tenant in the path, the form, the
//! client, its credential, the scope, then replay; each failure is one AADSTS code in
//! Entra's error shape (docs/protocol.md#token-errors).

pub mod aadsts;
pub mod assertion;
pub mod checker;
mod discovery;
pub mod federated;

use std::collections::HashMap;

use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::header::CONTENT_TYPE;
use hyper::{Method, Request};
use serde_json::json;

use self::aadsts::Refusal;
use super::keys::{self, GRAPH_APP_ID, GRAPH_RESOURCE};
use super::respond::{self, Ctx, Resp};

/// Largest token request body read (an assertion with a long x5c chain is a few KB).
const MAX_FORM: usize = 256 * 1024;

pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Whether a request is a token request (the one fault rules and Retry-After apply to).
pub fn is_token_path(path: &str) -> bool {
    path.ends_with("/oauth2/v2.0/token")
}

/// Routes a token-side request.
pub async fn handle(req: Request<Incoming>, ctx: &Ctx) -> Resp {
    let path = req.uri().path().to_string();
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match segments.as_slice() {
        [tenant, "oauth2", "v2.0", "token"] => {
            let tenant = (*tenant).to_string();
            match token(req, &tenant, ctx).await {
                Ok(r) => r,
                Err(refusal) => refusal_response(&refusal, ctx),
            }
        }
        [tenant, "v2.0", ".well-known", "openid-configuration"] => {
            discovery::openid_configuration(tenant, ctx)
        }
        [tenant, "discovery", "v2.0", "keys"] | [tenant, "discovery", "keys"] => {
            discovery::jwks(tenant, ctx)
        }
        [_, "discovery", "instance"] => discovery::instance(req.uri().query().unwrap_or(""), ctx),
        _ => respond::with_body(
            404,
            respond::TEXT,
            "Not found: the emulator serves /{tenant}/oauth2/v2.0/token and OpenID discovery.\n",
        ),
    }
}

/// Entra's error response for a refusal.
pub fn refusal_response(refusal: &Refusal, ctx: &Ctx) -> Resp {
    respond::json(
        refusal.status(),
        aadsts::body(refusal, ctx.now, &ctx.request_id, ctx.correlation_id()),
    )
}

/// Why a tenant path segment is not this emulator's tenant.
pub fn tenant_refusal(tenant: &str, ctx: &Ctx) -> Option<Refusal> {
    if ctx.shared.is_tenant(tenant) {
        return None;
    }
    if is_multi_tenant_alias(tenant) {
        return Some(Refusal::new(
            9_001_023,
            "The grant type isn't supported over the /common or /consumers endpoints. Please use the /organizations or tenant-specific endpoint.",
        ));
    }
    if crate::cloud::check_tenant(tenant).is_err() {
        return Some(Refusal::new(
            900_023,
            format!(
                "Specified tenant identifier '{tenant}' is neither a valid DNS name, nor a valid external domain."
            ),
        ));
    }
    Some(Refusal::new(
        90_002,
        format!(
            "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. This emulator serves tenant '{}'.",
            ctx.shared.tenant
        ),
    ))
}

pub fn is_multi_tenant_alias(tenant: &str) -> bool {
    ["common", "organizations", "consumers"]
        .iter()
        .any(|n| tenant.eq_ignore_ascii_case(n))
}

async fn token(req: Request<Incoming>, tenant: &str, ctx: &Ctx) -> Result<Resp, Refusal> {
    if req.method() != Method::POST {
        return Err(Refusal::new(
            900_561,
            format!(
                "The endpoint only accepts POST requests. Received a {} request.",
                req.method()
            ),
        ));
    }
    // /common and friends are judged after the grant type is known: the refusal is about it.
    let alias = is_multi_tenant_alias(tenant);
    if !alias && let Some(r) = tenant_refusal(tenant, ctx) {
        return Err(r);
    }
    let is_form = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|t| {
            t.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    let body = match Limited::new(req.into_body(), MAX_FORM).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            return Err(Refusal::new(
                900_144,
                "The request body is too large or was not received.",
            ));
        }
    };
    // Without the form content type Entra sees no parameters at all.
    let form = if is_form {
        parse_form(&body)?
    } else {
        HashMap::new()
    };
    let param = |name: &str| form.get(name).map(String::as_str).filter(|v| !v.is_empty());
    let missing = |name: &str| {
        Refusal::new(
            900_144,
            format!("The request body must contain the following parameter: '{name}'."),
        )
    };
    let grant = param("grant_type").ok_or_else(|| missing("grant_type"))?;
    if grant != "client_credentials" {
        return Err(Refusal::new(
            70_003,
            format!("The app requested an unsupported grant type '{grant}'."),
        ));
    }
    if alias && let Some(r) = tenant_refusal(tenant, ctx) {
        return Err(r);
    }
    let client_id = param("client_id").ok_or_else(|| missing("client_id"))?;
    let scope = param("scope").ok_or_else(|| missing("scope"))?;
    // Keys added through Graph's addKey count only once they have propagated.
    let app = ctx.shared.state.app_for_tokens(client_id, std::time::Instant::now()).ok_or_else(|| {
        Refusal::new(700_016, format!(
            "Application with identifier '{client_id}' was not found in the directory '{tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant."
        ))
    })?;
    if form.contains_key("client_secret") {
        // No app in the emulator has a secret: graphd is about certificates.
        return Err(Refusal::new(
            7_000_215,
            format!(
                "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{client_id}'."
            ),
        ));
    }
    let assertion = param("client_assertion").ok_or_else(|| {
        Refusal::new(7_000_218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
    })?;
    let assertion_type =
        param("client_assertion_type").ok_or_else(|| missing("client_assertion_type"))?;
    if assertion_type != ASSERTION_TYPE {
        return Err(Refusal::new(
            50_012,
            format!(
                "Client assertion type '{assertion_type}' is not supported. Use '{ASSERTION_TYPE}'."
            ),
        ));
    }
    if federated::is_federated(assertion, &app) {
        let used = federated::validate(assertion, &app, &ctx.shared.federation, ctx.now)?;
        let token_aud = resource(scope, ctx)?;
        ctx.shared.federation.record(used);
        return issue(&app, token_aud, ctx);
    }
    let audience = format!("{}/{tenant}/oauth2/v2.0/token", ctx.origin);
    let expect = assertion::Expect {
        client_id,
        audience: &audience,
        now: ctx.now,
    };
    let checked = assertion::validate(assertion, &app, &expect)?;
    let token_aud = resource(scope, ctx)?;
    if ctx.shared.strict_jti {
        let jti = checked.jti.as_deref().unwrap_or("");
        if jti.is_empty() || !ctx.shared.state.use_jti(jti, checked.exp, ctx.now) {
            return Err(Refusal::new(
                50_027,
                "JWT token is invalid or malformed. The assertion's 'jti' is missing or was already used (the emulator runs with --strict-jti).",
            ));
        }
    }
    issue(&app, token_aud, ctx)
}

/// The form fields; a field given twice is refused.
fn parse_form(body: &[u8]) -> Result<HashMap<String, String>, Refusal> {
    let mut form = HashMap::new();
    for (k, v) in url::form_urlencoded::parse(body) {
        if form.insert(k.to_string(), v.to_string()).is_some() {
            return Err(Refusal::new(
                9_000_411,
                format!(
                    "The request is not properly formatted. The parameter '{k}' is duplicated."
                ),
            ));
        }
    }
    Ok(form)
}

/// Checks `scope` for the client credentials grant and returns the token audience.
///
/// One `<resource>/.default` (docs/protocol.md#token-request). `openid`, `profile`, `offline_access` are
/// tolerated because MSAL Go appends them to every request. Graph is accepted by its app ID
/// URI, its app id and the emulator's own Graph URL.
fn resource(scope: &str, ctx: &Ctx) -> Result<&'static str, Refusal> {
    let scopes: Vec<&str> = scope
        .split_whitespace()
        .filter(|s| !["openid", "profile", "offline_access"].contains(s))
        .collect();
    let mut resources: Vec<String> = Vec::new();
    for s in &scopes {
        let Some(resource) = s.strip_suffix("/.default") else {
            return Err(Refusal::new(
                1_002_012,
                format!(
                    "The provided value for scope {s} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."
                ),
            ));
        };
        let resource = resource.trim_end_matches('/').to_ascii_lowercase();
        if !resources.contains(&resource) {
            resources.push(resource);
        }
    }
    match resources.as_slice() {
        [] => Err(Refusal::new(
            70_011,
            format!(
                "The provided value for the input parameter 'scope' is not valid. The scope {scope} is not valid."
            ),
        )),
        [one] if one.is_empty() => Err(Refusal::new(
            70_011,
            format!(
                "The provided value for the input parameter 'scope' is not valid. The scope {scope} is not valid."
            ),
        )),
        [one] => {
            let graph_here = ctx
                .shared
                .graph_origins()
                .iter()
                .any(|o| o.eq_ignore_ascii_case(one));
            if one == GRAPH_RESOURCE || graph_here {
                Ok(GRAPH_RESOURCE)
            } else if one == GRAPH_APP_ID {
                // A v1 token's aud is the identifier that was asked for (docs/protocol.md#access-token).
                Ok(GRAPH_APP_ID)
            } else {
                Err(Refusal::new(
                    500_011,
                    format!(
                        "The resource principal named {one} was not found in the tenant named {}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.",
                        ctx.shared.tenant
                    ),
                ))
            }
        }
        _ => Err(Refusal::new(
            700_022,
            format!(
                "The provided value for the input parameter scope is not valid because it contains more than one resource. Scope {scope} is not valid."
            ),
        )),
    }
}

/// Signs an app-only access token shaped like Graph's (docs/protocol.md#access-token) and answers with it.
fn issue(app: &crate::emulator::state::App, aud: &str, ctx: &Ctx) -> Result<Resp, Refusal> {
    let shared = &ctx.shared;
    let seq = shared.state.issue_token();
    let lifetime = shared.token_lifetime;
    let issuer = shared.token_issuer();
    let oid = keys::derived_guid(&["sp", &shared.tenant_id, &app.client_id]);
    let mut claims = json!({
        "aud": aud,
        "iss": issuer,
        "iat": ctx.now,
        "nbf": ctx.now,
        "exp": ctx.now + lifetime,
        "app_displayname": "graphd emulator app",
        "appid": app.client_id,
        "appidacr": "2",
        "idp": issuer,
        "idtyp": "app",
        "oid": oid,
        "sub": oid,
        "tid": shared.tenant_id,
        "uti": keys::uti(seq),
        "ver": "1.0",
    });
    // No permission granted: no roles claim at all, and Graph answers 403 (docs/protocol.md#graph-errors).
    if !app.roles.is_empty() {
        claims["roles"] = json!(app.roles);
    }
    let token = shared
        .key
        .sign(&claims)
        .map_err(|_| Refusal::generic(90_033))?;
    let body = format!(
        "{{\"token_type\":\"Bearer\",\"expires_in\":{lifetime},\"ext_expires_in\":{lifetime},\"access_token\":\"{token}\"}}"
    );
    shared.hooks.token_issued(seq + 1);
    Ok(respond::json(200, body))
}
