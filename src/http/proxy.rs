//! Proxies from the environment, read as curl and reqwest read them (`HTTPS_PROXY`,
//! `HTTP_PROXY`, `ALL_PROXY`, `NO_PROXY`, upper case first), with one difference: loopback
//! destinations never go through a proxy.
//!
//! Why: reqwest sends `http://127.0.0.1:...` through `HTTP_PROXY` unless `NO_PROXY` lists it,
//! so a CI runner with a corporate proxy configured would hand the emulator's traffic, client
//! assertion included, to that proxy, which cannot reach this machine's loopback anyway. Go's
//! net/http makes the same exception. Proxy URLs are never printed: they can hold a password.

use reqwest::{NoProxy, Proxy};

use crate::error::{Error, Result};
use crate::messages;

/// Destinations that are always reached directly (added to `NO_PROXY`).
pub const LOOPBACK: &str = "localhost,127.0.0.0/8,::1";

/// The proxies the environment asks for, each bypassed for `NO_PROXY` and loopback, with the
/// name of the variable that set it.
pub fn from_env() -> Result<Vec<(&'static str, Proxy)>> {
    from_lookup(|name| std::env::var(name).ok())
}

/// As [`from_env`], reading variables through `var` (for tests).
pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Result<Vec<(&'static str, Proxy)>> {
    let first = |names: [&'static str; 2]| {
        names
            .into_iter()
            .find_map(|n| var(n).map(|v| (n, v)))
            .filter(|(_, v)| !v.trim().is_empty())
    };
    let no_proxy = match first(["NO_PROXY", "no_proxy"]) {
        Some((_, list)) => format!("{},{LOOPBACK}", list.trim()),
        None => LOOPBACK.to_string(),
    };
    // Under CGI, HTTP_PROXY can be set by a request header ("httpoxy"): ignore it, as curl
    // and reqwest do.
    let cgi = var("REQUEST_METHOD").is_some();
    let mut proxies = Vec::new();
    type Make = fn(&str) -> reqwest::Result<Proxy>;
    let https: Make = |u| Proxy::https(u);
    let http: Make = |u| Proxy::http(u);
    let all: Make = |u| Proxy::all(u);
    let wanted = [
        (first(["HTTPS_PROXY", "https_proxy"]), https),
        (first(["HTTP_PROXY", "http_proxy"]).filter(|_| !cgi), http),
        (first(["ALL_PROXY", "all_proxy"]), all),
    ];
    for (found, make) in wanted {
        let Some((name, value)) = found else { continue };
        let proxy = make(value.trim())
            .map_err(|_| Error::Config(crate::error::ConfigProblem::Proxy { var: name }))?;
        messages::trace(&format!(
            "proxy: {name} is set (not used for NO_PROXY hosts and loopback)"
        ));
        proxies.push((name, proxy.no_proxy(NoProxy::from_string(&no_proxy))));
    }
    Ok(proxies)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn reads_each_variable_once_upper_case_first() {
        assert!(from_lookup(env(&[])).unwrap().is_empty());
        assert_eq!(
            from_lookup(env(&[
                ("HTTPS_PROXY", "http://proxy.example:3128"),
                ("https_proxy", "http://other.example:3128"),
                ("http_proxy", "proxy.example:8080"),
                ("ALL_PROXY", "  "),
            ]))
            .unwrap()
            .len(),
            2
        );
    }

    #[test]
    fn cgi_ignores_http_proxy() {
        let proxies = from_lookup(env(&[
            ("REQUEST_METHOD", "GET"),
            ("HTTP_PROXY", "http://attacker.example:80"),
        ]))
        .unwrap();
        assert!(proxies.is_empty());
    }

    #[test]
    fn a_bad_value_is_named_without_echoing_it() {
        let e = from_lookup(env(&[("HTTPS_PROXY", "http://user:secret@[::1")])).unwrap_err();
        assert_eq!(e.exit_code(), 3);
        assert!(e.to_string().contains("HTTPS_PROXY"));
        assert!(!e.to_string().contains("secret"));
        assert!(!e.hint().unwrap_or_default().contains("secret"));
    }
}
