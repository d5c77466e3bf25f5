//! OpenID discovery (docs/protocol.md#token-request), JWKS and MSAL's instance discovery, so MSAL and
//! azure-identity find the token endpoint the way they do on login.microsoftonline.com.

use serde_json::json;

use super::{aadsts, is_multi_tenant_alias, tenant_refusal};
use crate::emulator::respond::{self, Ctx, Resp};

/// `GET /{tenant}/v2.0/.well-known/openid-configuration`.
pub fn openid_configuration(tenant: &str, ctx: &Ctx) -> Resp {
    let tid = if is_multi_tenant_alias(tenant) {
        // Entra's multi-tenant documents carry a placeholder instead of a tenant id.
        "{tenantid}".to_string()
    } else if let Some(refusal) = tenant_refusal(tenant, ctx) {
        // The discovery endpoint names the error `invalid_tenant` (docs/protocol.md#aadsts-codes, 90002).
        let body = aadsts::body(&refusal, ctx.now, &ctx.request_id, ctx.correlation_id());
        let mut value: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        value["error"] = json!("invalid_tenant");
        return respond::json(400, serde_json::to_vec(&value).unwrap_or_default());
    } else {
        ctx.shared.tenant_id.clone()
    };
    let a = &ctx.origin;
    let path_tenant = if is_multi_tenant_alias(tenant) {
        tenant.to_ascii_lowercase()
    } else {
        tid.clone()
    };
    let doc = json!({
        "token_endpoint": format!("{a}/{path_tenant}/oauth2/v2.0/token"),
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": format!("{a}/{path_tenant}/discovery/v2.0/keys"),
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": format!("{a}/{tid}/v2.0"),
        "request_uri_parameter_supported": false,
        "userinfo_endpoint": format!("{}/oidc/userinfo", ctx.shared.graph_origin),
        "authorization_endpoint": format!("{a}/{path_tenant}/oauth2/v2.0/authorize"),
        "device_authorization_endpoint": format!("{a}/{path_tenant}/oauth2/v2.0/devicecode"),
        "http_logout_supported": true,
        "frontchannel_logout_supported": true,
        "end_session_endpoint": format!("{a}/{path_tenant}/oauth2/v2.0/logout"),
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nbf", "tid", "oid", "roles"],
        "tenant_region_scope": "NA",
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": ctx.shared.graph_origin.split("://").nth(1).unwrap_or(""),
        "rbac_url": "https://pas.windows.net",
    });
    respond::json(200, serde_json::to_vec(&doc).unwrap_or_default())
}

/// `GET /{tenant}/discovery/v2.0/keys` (and the v1 `/discovery/keys`).
pub fn jwks(tenant: &str, ctx: &Ctx) -> Resp {
    if !is_multi_tenant_alias(tenant)
        && let Some(refusal) = tenant_refusal(tenant, ctx)
    {
        return super::refusal_response(&refusal, ctx);
    }
    let issuer = format!("{}/{}/v2.0", ctx.origin, ctx.shared.tenant_id);
    let doc = json!({ "keys": [ctx.shared.key.jwk(&issuer)] });
    respond::json(200, serde_json::to_vec(&doc).unwrap_or_default())
}

/// `GET /common/discovery/instance?api-version=1.1&authorization_endpoint=...`: MSAL's
/// instance discovery. The emulator is its own single, preferred alias.
pub fn instance(query: &str, ctx: &Ctx) -> Resp {
    let host = ctx.origin.split("://").nth(1).unwrap_or("").to_string();
    let tenant = url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "authorization_endpoint")
        .and_then(|(_, v)| url::Url::parse(&v).ok())
        .and_then(|u| {
            u.path_segments()
                .and_then(|mut s| s.next().map(str::to_string))
        })
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| "common".to_string());
    let doc = json!({
        "tenant_discovery_endpoint": format!("{}/{tenant}/v2.0/.well-known/openid-configuration", ctx.origin),
        "api-version": "1.1",
        "metadata": [{"preferred_network": host, "preferred_cache": host, "aliases": [host]}],
    });
    respond::json(200, serde_json::to_vec(&doc).unwrap_or_default())
}
