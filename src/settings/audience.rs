//! Which host may receive a token for the resolved scope: a Microsoft Graph token goes only to
//! that cloud's Graph host, or to a loopback host (the emulator), unless `--scope` was given
//! on the command line.
//!
//! Without this, a `--graph`, `GRAPHD_GRAPH_ENDPOINT` or a committed `parameters.json`
//! `endpoint` naming any HTTPS host would receive a real Graph token (with whatever
//! application permissions the app holds, `User.Read.All` at least) on the first request. A
//! scope from the config file does not count as given: the file is the thing that may be
//! hostile. This module decides; it reads nothing and never shows the scope's value beyond the
//! Graph resource it names.

use url::Url;

use crate::cloud::{self, Cloud};
use crate::error::{ConfigProblem, Error, Result};

/// Microsoft Graph's application ID, the same in every cloud: a scope may name the resource by
/// it (`00000003-0000-0000-c000-000000000000/.default`), see
/// <https://learn.microsoft.com/troubleshoot/entra/entra-id/governance/verify-first-party-apps-sign-in>.
const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";

/// The Graph origin (`https://graph.microsoft.com`) whose token `scope` asks for, if any.
pub fn graph_resource(scope: &str, cloud: Cloud) -> Option<Url> {
    let resource = scope.trim();
    let resource = resource.split_whitespace().next().unwrap_or(resource);
    if resource
        .get(..GRAPH_APP_ID.len())
        .is_some_and(|id| id.eq_ignore_ascii_case(GRAPH_APP_ID))
    {
        return Url::parse(cloud.graph()).ok();
    }
    let url = Url::parse(resource).ok()?;
    [Cloud::Public, Cloud::Usgov, Cloud::UsgovDod, Cloud::China]
        .into_iter()
        .filter_map(|c| Url::parse(c.graph()).ok())
        .find(|graph| same_origin(graph, &url))
}

fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str()
            .zip(b.host_str())
            .is_some_and(|(x, y)| x.eq_ignore_ascii_case(y))
        && a.port_or_known_default() == b.port_or_known_default()
}

/// Refuses a `graph` endpoint that would receive a Graph token it is not entitled to: `scope`
/// names a cloud's Graph, `graph` is neither that Graph nor a loopback host, and the scope was
/// not given explicitly with `--scope`.
pub fn check(graph: &Url, scope: &str, explicit_scope: bool, cloud: Cloud) -> Result<()> {
    if explicit_scope || cloud::is_loopback(graph) {
        return Ok(());
    }
    match graph_resource(scope, cloud) {
        Some(resource) if !same_origin(&resource, graph) => {
            Err(Error::Config(ConfigProblem::GraphTokenElsewhere {
                resource: cloud::base_str(&resource),
                endpoint: graph.origin().ascii_serialization(),
            }))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        cloud::parse_endpoint(s).unwrap()
    }

    const GRAPH_SCOPE: &str = "https://graph.microsoft.com/.default";

    #[test]
    fn a_graph_token_goes_to_that_graph_or_loopback_only() {
        let public = Cloud::Public;
        for ok in [
            "https://graph.microsoft.com",
            "https://GRAPH.microsoft.com:443/beta",
            "http://127.0.0.1:4000",
            "http://localhost:4000",
            "http://[::1]:4000",
        ] {
            assert!(check(&url(ok), GRAPH_SCOPE, false, public).is_ok(), "{ok}");
        }
        for bad in [
            "https://evil.example",
            "https://graph.microsoft.com.evil.example",
            "https://graph.microsoft.com:8443",
            "https://graph.microsoft.us",
        ] {
            let e = check(&url(bad), GRAPH_SCOPE, false, public).unwrap_err();
            assert_eq!(e.exit_code(), 3, "{bad}");
            assert!(e.to_string().contains("graph.microsoft.com"), "{e}");
            assert!(e.hint().unwrap().contains("--scope"), "{e}");
            // An explicit --scope is the user's statement that the host may have it.
            assert!(check(&url(bad), GRAPH_SCOPE, true, public).is_ok(), "{bad}");
        }
    }

    #[test]
    fn every_spelling_of_graph_counts() {
        let evil = url("https://evil.example");
        for scope in [
            "https://graph.microsoft.com/.default",
            "https://graph.microsoft.com//.default",
            "https://graph.microsoft.com/User.Read.All",
            "HTTPS://Graph.Microsoft.com/.default",
            "00000003-0000-0000-c000-000000000000/.default",
            "00000003-0000-0000-C000-000000000000",
            "https://graph.microsoft.us/.default",
            "https://dod-graph.microsoft.us/.default",
            "https://microsoftgraph.chinacloudapi.cn/.default",
        ] {
            assert!(
                check(&evil, scope, false, Cloud::Public).is_err(),
                "{scope}"
            );
        }
        // A national cloud's Graph goes to that cloud's Graph host, by URL or by app ID.
        let us = url("https://graph.microsoft.us");
        assert!(
            check(
                &us,
                "https://graph.microsoft.us/.default",
                false,
                Cloud::Usgov
            )
            .is_ok()
        );
        assert!(
            check(
                &us,
                "00000003-0000-0000-c000-000000000000/.default",
                false,
                Cloud::Usgov
            )
            .is_ok()
        );
        // Other resources are the user's business.
        for scope in [
            "api://my-api/.default",
            "https://management.azure.com/.default",
            "",
        ] {
            assert!(check(&evil, scope, false, Cloud::Public).is_ok(), "{scope}");
        }
    }
}
