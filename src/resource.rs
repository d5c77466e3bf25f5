//! Resource identifiers: what an app-only token is for (an app ID URI such as
//! `https://graph.microsoft.com`, or an app id), alone or in the scope form
//! `<resource>/.default` (docs/protocol.md#token-request).
//!
//! Checks and spellings only; no I/O. A refused value is never repeated in the error: a
//! value typed in the wrong place may be a secret.

/// The longest resource identifier accepted (Entra's app ID URIs are far shorter).
pub const MAX_RESOURCE: usize = 512;

/// Why a resource identifier is unusable; the value itself is never repeated (a flag value in
/// the wrong place may be a secret).
pub fn check_resource(resource: &str) -> Result<(), &'static str> {
    if resource.len() > MAX_RESOURCE {
        return Err("longer than 512 characters");
    }
    if !resource.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("only printable ASCII without spaces is allowed (one resource, not a list)");
    }
    Ok(())
}

/// A resource identifier without the `/.default` of the scope form: `https://graph.microsoft.com`
/// and `https://graph.microsoft.com/.default` name the same resource.
pub fn without_default(resource: &str) -> &str {
    resource.strip_suffix("/.default").unwrap_or(resource)
}

/// The form two spellings of one resource share: ASCII lower case, no trailing `/`.
pub fn normalized(resource: &str) -> String {
    without_default(resource)
        .trim_end_matches('/')
        .to_ascii_lowercase()
}

/// Parses an `--allow-resource` value: a resource identifier (an app ID URI such as
/// `https://management.azure.com`, or an app id), or the same as a `.default` scope.
pub fn parse_resource(value: &str) -> Result<String, String> {
    let value = value.trim();
    check_resource(value).map_err(|why| format!("not a resource identifier: {why}"))?;
    let resource = without_default(value);
    if resource.trim_end_matches('/').is_empty() {
        return Err("not a resource identifier: it is empty".into());
    }
    if !has_scheme(resource) && !crate::cloud::is_guid(resource) {
        return Err(
            "not a resource identifier: use its app ID URI (such as https://management.azure.com) or its app id"
                .into(),
        );
    }
    Ok(resource.to_string())
}

/// Whether `s` starts with a URI scheme (RFC 3986 §3.1) and has something after it: app ID
/// URIs are `https://...`, `api://...` or `urn:...`.
fn has_scheme(s: &str) -> bool {
    s.split_once(':').is_some_and(|(scheme, rest)| {
        scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
            && !rest.trim_start_matches('/').is_empty()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";

    #[test]
    fn allow_resource_values() {
        assert_eq!(
            parse_resource("https://management.azure.com/.default").unwrap(),
            "https://management.azure.com"
        );
        assert_eq!(parse_resource(" api://my-api ").unwrap(), "api://my-api");
        assert_eq!(parse_resource(GRAPH_APP_ID).unwrap(), GRAPH_APP_ID);
        for bad in [
            "",
            "/.default",
            "hunter2-secret",
            "https://a b",
            "x".repeat(600).as_str(),
        ] {
            let e = parse_resource(bad).unwrap_err();
            assert!(!e.contains("hunter2"), "{e}");
        }
    }

    #[test]
    fn spellings_of_one_resource() {
        assert_eq!(
            normalized("HTTPS://Graph.Microsoft.com//.default"),
            "https://graph.microsoft.com"
        );
        assert_eq!(
            without_default("https://management.core.windows.net//.default"),
            "https://management.core.windows.net/"
        );
        assert!(check_resource("a b").is_err() && check_resource(&"a".repeat(513)).is_err());
    }
}
