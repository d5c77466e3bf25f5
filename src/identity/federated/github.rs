//! GitHub Actions' ID token request (docs/protocol.md#github-actions-oidc): `GET` the URL the
//! runner put in `ACTIONS_ID_TOKEN_REQUEST_URL` (it already has a query) with
//! `&audience=<audience>` appended and `Authorization: Bearer <ACTIONS_ID_TOKEN_REQUEST_TOKEN>`;
//! the answer is `{"value": "<jwt>"}`.
//!
//! It goes through the process's one HTTP client: timeouts, retries of transient failures,
//! no redirects (the request token must not travel). The request token is sent with
//! `bearer_auth` (a sensitive header) and is never logged or put into an error; `-v` shows
//! the host and path only, never the query.

use serde::Deserialize;
use url::Url;

use crate::error::{Error, FederatedProblem, Result};
use crate::http::{self, Http};
use crate::query;
use crate::secret::FederatedToken;
use crate::settings::GithubEndpoint;

/// The cap on the ID token answer: a GitHub ID token is about 1 KiB.
const MAX_ANSWER: usize = 64 * 1024;

#[derive(Deserialize)]
struct Answer {
    value: Option<FederatedToken>,
}

#[derive(Deserialize)]
struct Refusal {
    message: Option<String>,
}

/// The request URL: the runner's URL with `audience` appended to its query.
pub fn request_url(base: &Url, audience: &str) -> Url {
    let mut url = base.clone();
    let pair = query::pair("audience", audience);
    let q = match url.query() {
        Some(q) if !q.is_empty() => format!("{q}&{pair}"),
        _ => pair,
    };
    url.set_query(Some(&q));
    url
}

/// Asks GitHub for a new ID token for `audience`.
pub async fn id_token(
    http: &Http,
    endpoint: &GithubEndpoint,
    audience: &str,
) -> Result<FederatedToken> {
    let url = request_url(&endpoint.url, audience);
    let host = http::host_of(&url);
    let answer = http
        .fetch(
            &url,
            |client| {
                Ok(client
                    .get(url.clone())
                    .bearer_auth(endpoint.request_token.expose_secret())
                    .header("accept", "application/json"))
            },
            MAX_ANSWER,
        )
        .await?;
    let status = answer.status.as_u16();
    let bad = |problem: &str| {
        Error::Federated(Box::new(FederatedProblem::GithubAnswer {
            host: host.clone(),
            status,
            problem: problem.to_string(),
        }))
    };
    let Some(body) = &answer.body else {
        return Err(bad("a body larger than 64 KiB"));
    };
    if answer.status.is_redirection() {
        return Err(bad(
            "a redirect, which graphd does not follow with the request token",
        ));
    }
    if !answer.status.is_success() {
        let message = serde_json::from_slice::<Refusal>(body)
            .ok()
            .and_then(|r| r.message);
        return Err(Error::Federated(Box::new(
            FederatedProblem::GithubRefused {
                host,
                status,
                message,
            },
        )));
    }
    match serde_json::from_slice::<Answer>(body) {
        Ok(Answer { value: Some(token) }) => Ok(token),
        Ok(Answer { value: None }) => Err(bad("JSON without the token's \"value\"")),
        Err(_) => Err(bad("a body that is not the JSON {\"value\": ...}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_audience_joins_the_runners_query() {
        let base = Url::parse(
            "https://pipelines.actions.githubusercontent.com/abc/_apis/distributedtask/hubs/Actions/plans/p/jobs/j/idtoken?api-version=2.0",
        )
        .unwrap();
        assert_eq!(
            request_url(&base, "api://AzureADTokenExchange").query(),
            Some("api-version=2.0&audience=api%3A%2F%2FAzureADTokenExchange")
        );
        let bare = Url::parse("http://127.0.0.1:1/oidc/idtoken").unwrap();
        assert_eq!(request_url(&bare, "a b").query(), Some("audience=a%20b"));
    }
}
