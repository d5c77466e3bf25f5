//! The admin consent URL: where an administrator grants the app the application permissions
//! configured on its registration (docs/protocol.md#admin-consent). Used by `graphd consent-url` and by the hint
//! for a Graph 403.
//!
//! v2 (default): `{authority}/{tenant}/v2.0/adminconsent?client_id=..&scope={graph}/.default`;
//! application permissions can only be requested through `/.default`.
//! v1: `{authority}/{tenant}/adminconsent?client_id=..`.
//! Both may carry `redirect_uri`, which must be registered on the app.

use url::Url;

use crate::settings::App;

/// The admin consent URL for `app` in its cloud, percent-encoded by `url`'s query builder.
pub fn url(app: &App, v1: bool, redirect_uri: Option<&Url>) -> Url {
    let mut url = app.authority.clone();
    {
        let mut path = url
            .path_segments_mut()
            .expect("an authority URL is http(s), so it has a path (cloud::parse_endpoint)");
        path.pop_if_empty().push(&app.tenant);
        if !v1 {
            path.push("v2.0");
        }
        path.push("adminconsent");
    }
    {
        let mut query = url.query_pairs_mut();
        query.append_pair("client_id", &app.client_id);
        if !v1 {
            query.append_pair("scope", &app.cloud.graph_scope());
        }
        if let Some(redirect) = redirect_uri {
            query.append_pair("redirect_uri", redirect.as_str());
        }
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::{Cloud, parse_endpoint};

    const TENANT: &str = "11111111-2222-3333-4444-555555555555";
    const CLIENT: &str = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";

    fn app(cloud: Cloud, authority: &str) -> App {
        App {
            tenant: TENANT.into(),
            client_id: CLIENT.into(),
            cloud,
            authority: parse_endpoint(authority).unwrap(),
        }
    }

    #[test]
    fn v2_and_v1_forms() {
        let a = app(Cloud::Public, Cloud::Public.authority_host());
        assert_eq!(
            url(&a, false, None).as_str(),
            format!(
                "https://login.microsoftonline.com/{TENANT}/v2.0/adminconsent?client_id={CLIENT}\
                 &scope=https%3A%2F%2Fgraph.microsoft.com%2F.default"
            )
        );
        assert_eq!(
            url(&a, true, None).as_str(),
            format!("https://login.microsoftonline.com/{TENANT}/adminconsent?client_id={CLIENT}")
        );
    }

    #[test]
    fn follows_the_cloud_and_a_custom_authority_path() {
        let a = app(Cloud::UsgovDod, Cloud::UsgovDod.authority_host());
        let u = url(&a, false, None);
        assert_eq!(u.host_str(), Some("login.microsoftonline.us"));
        let scope = u
            .query_pairs()
            .find(|(k, _)| k == "scope")
            .unwrap()
            .1
            .into_owned();
        assert_eq!(scope, "https://dod-graph.microsoft.us/.default");
        let a = app(Cloud::Public, "http://127.0.0.1:8443/prefix/");
        assert_eq!(
            url(&a, true, None).path(),
            format!("/prefix/{TENANT}/adminconsent")
        );
    }

    #[test]
    fn redirect_uri_round_trips() {
        let a = app(Cloud::China, Cloud::China.authority_host());
        let redirect = Url::parse("https://app.example/cb?x=1&y=a b#frag").unwrap();
        let u = url(&a, false, Some(&redirect));
        assert!(!u.query().unwrap().contains("x=1&y"), "{u}");
        let pairs: Vec<(String, String)> = u.query_pairs().into_owned().collect();
        assert_eq!(
            pairs.last().unwrap(),
            &("redirect_uri".to_string(), redirect.to_string())
        );
        assert_eq!(
            pairs[1].1,
            "https://microsoftgraph.chinacloudapi.cn/.default"
        );
    }
}
