//! Clouds, endpoint URLs and the identifiers that go into them.
//!
//! One URL policy for every endpoint graphd talks to: `https://` always, plain `http://` only
//! for loopback hosts (the emulator). There is no switch to weaken it.

use std::net::IpAddr;

use url::Url;

/// The national clouds (docs/protocol.md#national-clouds). Each sets the authority host and Graph endpoint together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Cloud {
    #[default]
    Public,
    /// US Government (GCC High, L4).
    Usgov,
    /// US Government DoD (L5).
    UsgovDod,
    /// China, operated by 21Vianet.
    China,
}

impl Cloud {
    pub fn authority_host(self) -> &'static str {
        match self {
            Cloud::Public => "https://login.microsoftonline.com",
            Cloud::Usgov | Cloud::UsgovDod => "https://login.microsoftonline.us",
            // The Azure SDKs' constant; Entra's docs also name login.partner.microsoftonline.cn.
            Cloud::China => "https://login.chinacloudapi.cn",
        }
    }

    pub fn graph(self) -> &'static str {
        match self {
            Cloud::Public => "https://graph.microsoft.com",
            Cloud::Usgov => "https://graph.microsoft.us",
            Cloud::UsgovDod => "https://dod-graph.microsoft.us",
            Cloud::China => "https://microsoftgraph.chinacloudapi.cn",
        }
    }

    pub fn portal(self) -> &'static str {
        match self {
            Cloud::Public => "https://portal.azure.com",
            Cloud::Usgov | Cloud::UsgovDod => "https://portal.azure.us",
            Cloud::China => "https://portal.azure.cn",
        }
    }

    /// The default scope for app-only Graph tokens in this cloud.
    pub fn graph_scope(self) -> String {
        format!("{}/.default", self.graph())
    }
}

/// Whether a URL host is the local machine.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// Parses an endpoint base URL (authority host, Graph endpoint) under graphd's URL policy.
///
/// A bare host gets `https://` (as azure-identity accepts `AZURE_AUTHORITY_HOST`); trailing
/// slashes go; userinfo, query and fragment are refused.
pub fn parse_endpoint(text: &str) -> Result<Url, String> {
    let raw = text.trim();
    // Errors quote the value; a `user:password@` in it must not reach stderr.
    let shown = without_userinfo(raw);
    let text = shown.as_str();
    let with_scheme = if raw.contains("://") {
        raw.to_string()
    } else {
        format!("https://{raw}")
    };
    let mut url = Url::parse(&with_scheme).map_err(|e| format!("{text:?} is not a URL ({e})"))?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => {
            return Err(format!(
                "{text:?} uses plain http, which is allowed only for loopback hosts (the emulator); use https://"
            ));
        }
        other => {
            return Err(format!(
                "{text:?}: unsupported scheme {other:?}; use https://"
            ));
        }
    }
    if url.host().is_none() {
        return Err(format!("{text:?} has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!("{text:?} must not carry a user name or password"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!("{text:?} must not have a query or fragment"));
    }
    let path = url.path().trim_end_matches('/').to_string();
    url.set_path(&path);
    Ok(url)
}

/// `scheme://user:pass@host/path?query` as `scheme://***@host/path?...`: the parts of a URL
/// that can carry a secret (a password, a signature in the query) are never shown.
fn without_userinfo(text: &str) -> String {
    let (scheme, rest) = text.split_once("://").unwrap_or(("", text));
    let (rest, hidden) = match rest.find(['?', '#']) {
        Some(i) => (&rest[..i], "?..."),
        None => (rest, ""),
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let shown = match rest[..authority_end].rfind('@') {
        Some(at) => format!("***@{}", &rest[at + 1..]),
        None => rest.to_string(),
    };
    if scheme.is_empty() {
        format!("{shown}{hidden}")
    } else {
        format!("{scheme}://{shown}{hidden}")
    }
}

/// The URL as text without a trailing slash (`Url` keeps a `/` for an empty path).
pub fn base_str(url: &Url) -> String {
    url.as_str().trim_end_matches('/').to_string()
}

/// `{authority}/{tenant}/oauth2/v2.0/token`: where the request goes and the assertion's `aud`.
pub fn token_endpoint(authority: &Url, tenant: &str) -> String {
    format!("{}/{tenant}/oauth2/v2.0/token", base_str(authority))
}

/// Whether `s` is a GUID in the 8-4-4-4-12 hex form.
pub fn is_guid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(p, n)| p.len() == n && p.chars().all(|c| c.is_ascii_hexdigit()))
}

/// Checks a tenant: a GUID or a verified domain; never `common`, `organizations`, `consumers`.
pub fn check_tenant(s: &str) -> Result<String, String> {
    let t = s.trim();
    if let Some(alias) = ["common", "organizations", "consumers"]
        .iter()
        .find(|n| t.eq_ignore_ascii_case(n))
    {
        return Err(format!(
            "tenant {alias:?} names many tenants; app-only tokens need one: use the directory (tenant) ID or a verified domain"
        ));
    }
    if is_guid(t) || is_domain(t) {
        return Ok(t.to_ascii_lowercase());
    }
    if t.starts_with("Enter_the_") {
        return Err(format!(
            "{t:?} is the quickstart's placeholder: put the directory (tenant) ID or a verified domain there"
        ));
    }
    // The value is not repeated: whatever was typed in the wrong place may be a secret.
    Err("the tenant is neither a GUID nor a domain name (such as contoso.onmicrosoft.com)".into())
}

/// Checks a client id: the application (client) ID GUID from the app registration.
pub fn check_client_id(s: &str) -> Result<String, String> {
    let t = s.trim();
    if is_guid(t) {
        Ok(t.to_ascii_lowercase())
    } else {
        // The value is not repeated: whatever was typed in the wrong place may be a secret.
        Err("the client id is not a GUID; use the Application (client) ID shown on the app registration's Overview page".into())
    }
}

fn is_domain(s: &str) -> bool {
    s.len() <= 253
        && s.contains('.')
        && s.parse::<IpAddr>().is_err()
        && s.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_policy() {
        assert_eq!(
            parse_endpoint("login.microsoftonline.us").unwrap().as_str(),
            "https://login.microsoftonline.us/"
        );
        assert_eq!(
            base_str(&parse_endpoint("https://login.microsoftonline.com/").unwrap()),
            "https://login.microsoftonline.com"
        );
        assert_eq!(
            base_str(&parse_endpoint("http://127.0.0.1:8080").unwrap()),
            "http://127.0.0.1:8080"
        );
        assert!(parse_endpoint("http://[::1]:9").is_ok());
        assert!(parse_endpoint("http://localhost:9").is_ok());
        assert!(
            parse_endpoint("http://login.microsoftonline.com")
                .unwrap_err()
                .contains("plain http")
        );
        assert!(parse_endpoint("http://127.0.0.1.evil.com").is_err());
        assert!(parse_endpoint("ftp://x").is_err());
        let e = parse_endpoint("https://user:s3cret@host/x").unwrap_err();
        assert!(!e.contains("s3cret") && e.contains("***@host"), "{e}");
        assert!(
            !parse_endpoint("http://u:s3cret@example.com")
                .unwrap_err()
                .contains("s3cret")
        );
        assert!(parse_endpoint("https://host/?a=b").is_err());
        assert_eq!(
            base_str(&parse_endpoint("https://host/adfs/").unwrap()),
            "https://host/adfs"
        );
    }

    #[test]
    fn token_endpoint_is_the_audience() {
        let a = parse_endpoint("https://login.microsoftonline.com/").unwrap();
        assert_eq!(
            token_endpoint(&a, "contoso.onmicrosoft.com"),
            "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"
        );
    }

    #[test]
    fn tenants_and_client_ids() {
        assert!(check_tenant("72f988bf-86f1-41af-91ab-2d7cd011db47").is_ok());
        assert_eq!(
            check_tenant("Contoso.onmicrosoft.com").unwrap(),
            "contoso.onmicrosoft.com"
        );
        for bad in [
            "common",
            "Organizations",
            "consumers",
            "contoso",
            "",
            "a..b",
            "1.2.3.4",
            "Enter_the_Tenant_Name_Here",
        ] {
            assert!(check_tenant(bad).is_err(), "{bad}");
        }
        assert!(check_client_id("00000000-0000-0000-0000-000000000000").is_ok());
        assert!(check_client_id("not-a-guid").is_err());
        assert!(check_client_id("0000000-00000-0000-0000-000000000000").is_err());
    }
}
