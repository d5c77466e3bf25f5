//! The AADSTS codes the emulator answers with: Entra's `error` value, HTTP status and text.
//!
//! Status rule (docs/protocol.md#token-errors): `invalid_client` failures (the assertion or
//! credential) come back as 401, everything else as 400. Texts follow the messages quoted in
//! docs/protocol.md#aadsts-codes where it has one; where it has none the wording is the emulator's
//! own and marked "unconfirmed" below. Clients must branch on `error`, never on text
//! (docs/protocol.md#token-errors).

/// One AADSTS code.
#[derive(Debug, Clone, Copy)]
pub struct Code {
    pub code: u32,
    pub error: &'static str,
    pub status: u16,
    /// The text used when the code is injected as a fault (no request-specific details).
    pub generic: &'static str,
}

const fn c(code: u32, error: &'static str, status: u16, generic: &'static str) -> Code {
    Code {
        code,
        error,
        status,
        generic,
    }
}

const INVALID_CLIENT: &str = "invalid_client";
const INVALID_REQUEST: &str = "invalid_request";
const INVALID_SCOPE: &str = "invalid_scope";

/// The link Entra appends to assertion errors.
pub const CERT_DOC: &str = "Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials .";

static CODES: &[Code] = &[
    c(
        900_561,
        INVALID_REQUEST,
        400,
        "The endpoint only accepts POST requests.",
    ),
    c(
        9_001_023,
        INVALID_REQUEST,
        400,
        "The grant type is not supported over the /common or /consumers endpoints. Use a tenant-specific endpoint.",
    ),
    c(
        90_002,
        INVALID_REQUEST,
        400,
        "Tenant not found. Check that you have the correct tenant ID and are signing into the correct cloud.",
    ),
    c(
        900_023,
        INVALID_REQUEST,
        400,
        "Specified tenant identifier is neither a valid DNS name, nor a valid external domain.",
    ),
    c(
        900_144,
        INVALID_REQUEST,
        400,
        "The request body must contain the following parameter: 'grant_type'.",
    ),
    // Unconfirmed (not in docs/protocol.md); the emulator's reading of a repeated form field.
    c(
        9_000_411,
        INVALID_REQUEST,
        400,
        "The request is not properly formatted. A parameter is duplicated.",
    ),
    c(
        70_003,
        "unsupported_grant_type",
        400,
        "The app requested an unsupported grant type.",
    ),
    c(
        700_016,
        "unauthorized_client",
        400,
        "Application with the given identifier was not found in the directory. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.",
    ),
    c(
        7_000_112,
        "unauthorized_client",
        400,
        "Application is disabled.",
    ),
    c(
        7_000_215,
        INVALID_CLIENT,
        401,
        "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.",
    ),
    c(
        7_000_222,
        INVALID_CLIENT,
        401,
        "The provided client secret keys for the app are expired. Create new keys for your app, or consider using certificate credentials for added security: https://aka.ms/certCreds",
    ),
    c(
        7_000_218,
        INVALID_CLIENT,
        401,
        "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
    ),
    // Unconfirmed: the code Entra uses for a wrong client_assertion_type is not known
    // (docs/protocol.md#aadsts-codes); 50012 is its generic client-authentication failure.
    c(50_012, INVALID_CLIENT, 401, "Authentication failed."),
    c(
        50_027,
        INVALID_CLIENT,
        401,
        "JWT token is invalid or malformed.",
    ),
    c(
        700_027,
        INVALID_CLIENT,
        401,
        "Client assertion failed signature validation.",
    ),
    c(
        700_024,
        INVALID_CLIENT,
        401,
        "Client assertion is not within its valid time range.",
    ),
    c(
        700_023,
        INVALID_CLIENT,
        401,
        "Client assertion audience claim does not match Realm issuer.",
    ),
    c(
        50_032,
        INVALID_CLIENT,
        401,
        "WeakRsaKey - RSA key size is less than the minimum required 2048 bits.",
    ),
    c(
        50_048,
        INVALID_CLIENT,
        401,
        "Subject mismatches Issuer claim in the client assertion.",
    ),
    // Unconfirmed text (docs/protocol.md#aadsts-codes lists none for 700021).
    c(
        700_021,
        INVALID_CLIENT,
        401,
        "Client assertion application identifier doesn't match 'client_id' parameter.",
    ),
    // Federation (docs/protocol.md#federation-errors). 70021 was seen as invalid_request / 400;
    // the others' `error` values as invalid_client. 700212's text, and the status and
    // `error` of 5002738 and 50166, are unconfirmed.
    c(
        70_021,
        INVALID_REQUEST,
        400,
        "No matching federated identity record found for presented assertion.",
    ),
    c(
        700_211,
        INVALID_CLIENT,
        401,
        "No matching federated identity record found for presented assertion issuer.",
    ),
    c(
        700_212,
        INVALID_CLIENT,
        401,
        "No matching federated identity record found for presented assertion audience.",
    ),
    c(
        700_213,
        INVALID_CLIENT,
        401,
        "No matching federated identity record found for presented assertion subject.",
    ),
    c(
        7_002_138,
        INVALID_CLIENT,
        401,
        "No matching federated identity record found for presented assertion subject. The subject matches with case-insensitive comparison, but not with case-sensitive comparison.",
    ),
    c(
        7_000_272,
        INVALID_CLIENT,
        401,
        "The certificate used to sign the federated credential could not be found in the metadata of the identity provider.",
    ),
    c(
        50_166,
        INVALID_REQUEST,
        400,
        "Request to External OIDC endpoint failed.",
    ),
    c(
        5_002_738,
        INVALID_REQUEST,
        400,
        "Invalid JWT token. The signature algorithm is not supported.",
    ),
    c(
        1_002_012,
        INVALID_SCOPE,
        400,
        "The provided value for scope is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).",
    ),
    c(
        70_011,
        INVALID_SCOPE,
        400,
        "The provided value for the input parameter 'scope' is not valid.",
    ),
    c(
        700_022,
        INVALID_SCOPE,
        400,
        "The provided value for the input parameter scope is not valid because it contains more than one resource.",
    ),
    c(
        500_011,
        "invalid_resource",
        400,
        "The resource principal was not found in the tenant. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.",
    ),
    c(
        50_196,
        INVALID_REQUEST,
        400,
        "The server terminated an operation because it encountered a client request loop.",
    ),
    // Statuses 429 / 503 for the two service-side codes are the emulator's choice (unconfirmed).
    c(
        90_055,
        "temporarily_unavailable",
        429,
        "There are too many incoming requests for this tenant. Retry later.",
    ),
    c(
        90_033,
        "temporarily_unavailable",
        503,
        "A transient error has occurred. Please try again.",
    ),
];

/// The table entry for `code`.
pub fn lookup(code: u32) -> Option<&'static Code> {
    CODES.iter().find(|c| c.code == code)
}

/// The codes, for error messages.
pub fn known_codes() -> String {
    CODES
        .iter()
        .map(|c| c.code.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A refusal: the code and the request-specific text (without the `AADSTSnnn: ` prefix and
/// without the trace lines, which [`body`] adds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: u32,
    pub text: String,
}

impl Refusal {
    pub fn new(code: u32, text: impl Into<String>) -> Self {
        Refusal {
            code,
            text: text.into(),
        }
    }

    /// The code with its generic text.
    pub fn generic(code: u32) -> Self {
        Refusal {
            code,
            text: lookup(code)
                .map(|c| c.generic)
                .unwrap_or("Error.")
                .to_string(),
        }
    }

    pub fn status(&self) -> u16 {
        lookup(self.code).map_or(400, |c| c.status)
    }

    pub fn error(&self) -> &'static str {
        lookup(self.code).map_or(INVALID_REQUEST, |c| c.error)
    }
}

/// Entra's error JSON (docs/protocol.md#token-errors): `error`, `error_description` (`AADSTSnnn: text` then the
/// Trace ID, Correlation ID and Timestamp lines, `\r\n`-separated), `error_codes`,
/// `timestamp` (`YYYY-MM-DD HH:MM:SSZ`), `trace_id`, `correlation_id`, `error_uri`.
pub fn body(refusal: &Refusal, now: i64, trace_id: &str, correlation_id: &str) -> Vec<u8> {
    let timestamp = crate::clock::rfc3339(now).replace('T', " ");
    let description = format!(
        "AADSTS{}: {}\r\nTrace ID: {trace_id}\r\nCorrelation ID: {correlation_id}\r\nTimestamp: {timestamp}",
        refusal.code, refusal.text
    );
    let q = |s: &str| serde_json::to_string(s).unwrap_or_default();
    // Written by hand to keep Entra's member order.
    format!(
        "{{\"error\":{},\"error_description\":{},\"error_codes\":[{}],\"timestamp\":{},\"trace_id\":{},\"correlation_id\":{},\"error_uri\":{}}}",
        q(refusal.error()),
        q(&description),
        refusal.code,
        q(&timestamp),
        q(trace_id),
        q(correlation_id),
        q(&format!("https://login.microsoftonline.com/error?code={}", refusal.code)),
    )
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_has_entras_shape() {
        let r = Refusal::new(700_027, "Client assertion failed signature validation.");
        let v: serde_json::Value =
            serde_json::from_slice(&body(&r, 1_700_000_000, "trace-1", "corr-1")).unwrap();
        assert_eq!(v["error"], "invalid_client");
        assert_eq!(v["error_codes"][0], 700_027);
        assert_eq!(v["timestamp"], "2023-11-14 22:13:20Z");
        assert_eq!(v["trace_id"], "trace-1");
        assert_eq!(v["correlation_id"], "corr-1");
        assert_eq!(
            v["error_uri"],
            "https://login.microsoftonline.com/error?code=700027"
        );
        let d = v["error_description"].as_str().unwrap();
        assert!(d.starts_with("AADSTS700027: Client assertion"), "{d}");
        assert!(
            d.ends_with(
                "\r\nTrace ID: trace-1\r\nCorrelation ID: corr-1\r\nTimestamp: 2023-11-14 22:13:20Z"
            ),
            "{d}"
        );
        assert_eq!(r.status(), 401);
        // graphd's own parser reads it back.
        let e: crate::error::EntraError = serde_json::from_value(v).unwrap();
        assert_eq!(e.code(), Some(700_027));
        assert_eq!(e.summary(), "Client assertion failed signature validation.");
    }

    #[test]
    fn statuses_follow_the_error_value() {
        for code in CODES {
            match code.error {
                INVALID_CLIENT => assert_eq!(code.status, 401, "AADSTS{}", code.code),
                "temporarily_unavailable" => assert!(code.status >= 429, "AADSTS{}", code.code),
                _ => assert_eq!(code.status, 400, "AADSTS{}", code.code),
            }
        }
        assert_eq!(Refusal::generic(900_144).status(), 400);
        assert_eq!(Refusal::generic(700_016).error(), "unauthorized_client");
    }
}
