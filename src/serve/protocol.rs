//! The App Service managed identity protocol, version 2019-08-01, as `graphd serve` speaks it
//! (docs/protocol.md#app-service-managed-identity): the query of a token request, which
//! resources may be served, the success body and the error body.
//!
//! Pure functions over text: no I/O, no clock, no logging. It must never put a token into
//! anything but the success body, and never repeat the `X-IDENTITY-HEADER` value anywhere.

use url::form_urlencoded;
use zeroize::Zeroizing;

use crate::error::printable;
use crate::resource::{check_resource, normalized, without_default};
use crate::secret::AccessToken;

/// The one `api-version` served. The older 2017-09-01 takes a `secret` header and answers
/// `expires_on` as a date, and its clients are not what this endpoint is for.
pub const API_VERSION: &str = "2019-08-01";

/// The parameters that pick a user-assigned identity (App Service REST reference; MSAL
/// Python sends `object_id` for the principal id).
const IDENTITY_SELECTORS: [&str; 4] = ["client_id", "mi_res_id", "principal_id", "object_id"];

/// A request refused before any token is looked at: the HTTP status and what to tell the
/// client. The message never holds a token or the identity header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub status: u16,
    pub message: String,
}

impl Refusal {
    pub fn new(status: u16, message: impl Into<String>) -> Self {
        Refusal {
            status,
            message: message.into(),
        }
    }

    fn bad(message: impl Into<String>) -> Self {
        Refusal::new(400, message)
    }
}

/// A token request's query, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenQuery {
    /// `resource` as the client sent it, echoed in the answer.
    pub resource: String,
}

impl TokenQuery {
    /// Parses and checks a query: `api-version=2019-08-01`, one `resource`, and at most a
    /// `client_id` naming the one identity served (`client_id` is that app's id); `mi_res_id`,
    /// `principal_id` and `object_id` cannot be matched against it and are refused.
    pub fn parse(query: Option<&str>, client_id: &str) -> Result<TokenQuery, Refusal> {
        let mut api_version = None;
        let mut resource = None;
        let mut selector: Option<(String, String)> = None;
        for (key, value) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
            let slot = match key.as_ref() {
                "api-version" => &mut api_version,
                "resource" => &mut resource,
                k if IDENTITY_SELECTORS.contains(&k) => {
                    if selector.is_some() {
                        return Err(Refusal::bad(
                            "more than one of client_id, mi_res_id, principal_id, object_id",
                        ));
                    }
                    selector = Some((k.to_string(), value.into_owned()));
                    continue;
                }
                // Other parameters are ignored, as App Service does with what it does not know.
                _ => continue,
            };
            if slot.is_some() {
                return Err(Refusal::bad(format!("{key} is given more than once")));
            }
            *slot = Some(value.into_owned());
        }
        match api_version.as_deref() {
            Some(API_VERSION) => {}
            None => {
                return Err(Refusal::bad(format!(
                    "the api-version query parameter is missing; graphd serve speaks api-version={API_VERSION}"
                )));
            }
            Some(other) => {
                return Err(Refusal::bad(format!(
                    "api-version {:?} is not supported; graphd serve speaks api-version={API_VERSION}",
                    printable(other, 40)
                )));
            }
        }
        let resource = resource.unwrap_or_default();
        if resource.trim().is_empty() {
            return Err(Refusal::bad(
                "the resource query parameter is missing (e.g. resource=https://graph.microsoft.com)",
            ));
        }
        if let Err(why) = check_resource(&resource) {
            return Err(Refusal::bad(format!("resource: {why}")));
        }
        if let Some((name, value)) = selector {
            let ours = name == "client_id" && value.trim().eq_ignore_ascii_case(client_id);
            if !ours {
                return Err(Refusal::bad(format!(
                    "this endpoint serves one identity, app {client_id}; {name} names another \
                     (leave it out, or pass client_id={client_id})"
                )));
            }
        }
        Ok(TokenQuery { resource })
    }
}

/// The resources this endpoint serves, each as configured: the token is requested for that
/// spelling (`<resource>/.default`) whichever equivalent spelling a client asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allowed {
    /// (normalized, as configured)
    resources: Vec<(String, String)>,
}

impl Allowed {
    /// The default resource (from the token scope, the cloud's Graph unless `--scope` says
    /// otherwise) and the `--allow-resource` ones, without duplicates.
    pub fn new(default_scope: &str, extra: &[String]) -> Self {
        let mut resources: Vec<(String, String)> = Vec::new();
        for r in std::iter::once(without_default(default_scope))
            .chain(extra.iter().map(|s| without_default(s)))
        {
            let key = normalized(r);
            if !resources.iter().any(|(k, _)| *k == key) {
                resources.push((key, r.to_string()));
            }
        }
        Allowed { resources }
    }

    /// The configured spelling of the resource a request names, if it is served.
    pub fn find(&self, requested: &str) -> Option<&str> {
        let key = normalized(requested);
        self.resources
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, r)| r.as_str())
    }

    /// The served resources, as configured.
    pub fn list(&self) -> impl Iterator<Item = &str> {
        self.resources.iter().map(|(_, r)| r.as_str())
    }

    /// The 403 for a resource that is not served: it names the flag that would serve it.
    pub fn refuse(&self, requested: &str) -> Refusal {
        let shown = printable(without_default(requested), 200);
        Refusal::new(
            403,
            format!(
                "graphd serve does not hand out tokens for {shown}; it serves {}. Start it with \
                 --allow-resource {shown} to serve that resource too",
                self.list().collect::<Vec<_>>().join(", ")
            ),
        )
    }
}

/// The 200 body (App Service REST reference): `access_token`, `expires_on` as a string of
/// epoch seconds, `resource` as the request named it, `token_type`, and the app's `client_id`.
/// In zeroizing memory: it holds the token.
pub fn token_body(
    token: &AccessToken,
    expires_on: i64,
    resource: &str,
    client_id: &str,
) -> Zeroizing<Vec<u8>> {
    #[derive(serde::Serialize)]
    struct Body<'a> {
        access_token: &'a str,
        expires_on: String,
        resource: &'a str,
        token_type: &'static str,
        client_id: &'a str,
    }
    let body = Body {
        access_token: token.expose_secret(),
        expires_on: expires_on.to_string(),
        resource,
        token_type: "Bearer",
        client_id,
    };
    let mut out = Zeroizing::new(Vec::with_capacity(
        token.expose_secret().len() + resource.len() + 160,
    ));
    // Strings and a number into a Vec: serialization cannot fail.
    let _ = serde_json::to_writer(&mut *out, &body);
    out
}

/// An error body in App Service's shape, which the clients read: MSAL Python shows
/// `statusCode` and `message`, MSAL .NET and Java `message` and `correlationId`.
pub fn error_body(status: u16, message: &str, correlation_id: &str) -> Vec<u8> {
    #[derive(serde::Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Body<'a> {
        status_code: u16,
        message: &'a str,
        correlation_id: &'a str,
    }
    let body = Body {
        status_code: status,
        message,
        correlation_id,
    };
    // Strings and a number: serialization cannot fail.
    serde_json::to_vec(&body).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";

    fn parse(q: &str) -> Result<TokenQuery, Refusal> {
        TokenQuery::parse(Some(q), ID)
    }

    #[test]
    fn the_clients_queries_parse() {
        // MSAL Python and azure-identity (requests' encoding), and Microsoft's sample.
        for q in [
            "api-version=2019-08-01&resource=https%3A%2F%2Fgraph.microsoft.com",
            "resource=https://graph.microsoft.com&api-version=2019-08-01",
            "api-version=2019-08-01&resource=https%3A%2F%2Fgraph.microsoft.com&client_id=AAAAAAAA-bbbb-cccc-dddd-eeeeeeeeeeee",
        ] {
            assert_eq!(
                parse(q).unwrap().resource,
                "https://graph.microsoft.com",
                "{q}"
            );
        }
    }

    #[test]
    fn bad_queries_are_400_and_say_why() {
        for (q, says) in [
            (
                "resource=https://graph.microsoft.com",
                "api-version query parameter is missing",
            ),
            ("api-version=2017-09-01&resource=x", "not supported"),
            (
                "api-version=2019-08-01",
                "resource query parameter is missing",
            ),
            (
                "api-version=2019-08-01&resource=",
                "resource query parameter is missing",
            ),
            ("api-version=2019-08-01&resource=a%20b", "without spaces"),
            (
                "api-version=2019-08-01&resource=a&resource=b",
                "more than once",
            ),
            (
                "api-version=2019-08-01&resource=a&client_id=00000000-0000-0000-0000-000000000000",
                "serves one identity",
            ),
            (
                "api-version=2019-08-01&resource=a&mi_res_id=/subscriptions/x",
                "mi_res_id names another",
            ),
            (
                "api-version=2019-08-01&resource=a&object_id=1&client_id=2",
                "more than one",
            ),
        ] {
            let r = parse(q).unwrap_err();
            assert_eq!(r.status, 400, "{q}");
            assert!(r.message.contains(says), "{q}: {}", r.message);
        }
        let long = format!("api-version=2019-08-01&resource={}", "a".repeat(600));
        assert!(parse(&long).unwrap_err().message.contains("512"));
    }

    #[test]
    fn resources_match_in_either_form_and_keep_their_spelling() {
        let a = Allowed::new(
            "https://graph.microsoft.com/.default",
            &["https://management.core.windows.net/".into()],
        );
        for asked in [
            "https://graph.microsoft.com",
            "https://graph.microsoft.com/",
            "HTTPS://GRAPH.microsoft.com/.default",
        ] {
            assert_eq!(
                a.find(asked),
                Some("https://graph.microsoft.com"),
                "{asked}"
            );
        }
        // Azure CLI asks for ARM as https://management.core.windows.net/ and the token must be
        // requested with that spelling (scope https://management.core.windows.net//.default).
        assert_eq!(
            a.find("https://management.core.windows.net"),
            Some("https://management.core.windows.net/")
        );
        assert_eq!(a.find("https://vault.azure.net"), None);
        let r = a.refuse("https://vault.azure.net/.default");
        assert_eq!(r.status, 403);
        assert!(
            r.message
                .contains("--allow-resource https://vault.azure.net"),
            "{}",
            r.message
        );
        assert_eq!(
            Allowed::new(
                "https://graph.microsoft.com/.default",
                &["https://graph.microsoft.com/".into()]
            )
            .list()
            .count(),
            1
        );
    }

    #[test]
    fn bodies_have_the_documented_shapes() {
        let token = AccessToken::new("eyJ0.payload.sig".into());
        let body = token_body(&token, 1_586_984_735, "https://vault.azure.net", ID);
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["access_token"], "eyJ0.payload.sig");
        assert_eq!(
            v["expires_on"], "1586984735",
            "a string, as App Service sends it"
        );
        assert_eq!(v["resource"], "https://vault.azure.net");
        assert_eq!(v["token_type"], "Bearer");
        assert_eq!(v["client_id"], ID);
        let e: serde_json::Value =
            serde_json::from_slice(&error_body(401, "no \"header\"", "c-1")).unwrap();
        assert_eq!(e["statusCode"], 401);
        assert_eq!(e["message"], "no \"header\"");
        assert_eq!(e["correlationId"], "c-1");
    }
}
