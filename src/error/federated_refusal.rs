//! Hints for the token service's refusals of a federated token (docs/protocol.md#federation-errors):
//! they name the token's actual `iss`, `sub` and `aud` (not secret) and give the exact
//! federated credential that would match, as an `az ad app federated-credential create`
//! command, so the user does not have to decode the token to find the difference.

use super::RefusalContext;
use super::federated::{ExternalClaims, FederatedFacts, TokenOrigin, shown, shown_list, span};
use crate::clock;

/// GitHub's issuer (docs/protocol.md#github-actions-oidc): no trailing slash.
const GITHUB_ISSUER: &str = "https://token.actions.githubusercontent.com";

/// The hint for `code` when the proof was a federated token; `None` leaves it to the
/// general hints.
pub(super) fn hint(code: u64, f: &FederatedFacts, c: &RefusalContext) -> Option<String> {
    let empty = ExternalClaims::default();
    let claims = f.claims.as_ref().unwrap_or(&empty);
    let iss = claims.iss.as_deref().unwrap_or("");
    let sub = claims.sub.as_deref().unwrap_or("");
    let seen = format!(
        "the token from the {} has iss {}, sub {}, aud {}",
        f.origin,
        shown(iss),
        shown(sub),
        shown_list(&claims.aud)
    );
    let create = create_command(&c.client_id, claims, &f.audience);
    Some(match code {
        700_211 => format!(
            "{seen}; app {} has no federated credential whose issuer is exactly {}{}. Create one: {create}",
            c.client_id,
            shown(iss),
            issuer_note(iss)
        ),
        700_213 => format!(
            "{seen}; no federated credential of app {} with that issuer has this subject (compared exactly, \
             case included){}. Create one: {create}",
            c.client_id,
            subject_note(&f.origin, iss)
        ),
        7_002_138 => format!(
            "{seen}; a federated credential's subject differs from {} only in upper/lower case, and Entra ID \
             compares subjects case-sensitively: make the credential's subject exactly the token's \
             (GitHub keeps the case of owner, repository and environment names): {create}",
            shown(sub)
        ),
        700_212 => format!(
            "{seen}; the federated credential with this issuer and subject expects another audience: \
             {}or create a credential for this one: {create}",
            audience_note(&f.origin, &f.audience)
        ),
        70_021 => format!(
            "{seen}; no federated credential of app {} matches all three. A credential added in the last \
             few minutes may still be propagating: retry shortly. Otherwise create one: {create}",
            c.client_id
        ),
        700_024 => expired(f, claims, c),
        7_000_272 => format!(
            "{seen}; the issuer does not publish the key that signed it (kid {}): Entra ID reads the keys \
             from {}/.well-known/openid-configuration and its jwks_uri",
            shown(claims.kid.as_deref().unwrap_or("")),
            iss.trim_end_matches('/')
        ),
        50_166 | 90_061 => format!(
            "Entra ID could not fetch {}/.well-known/openid-configuration or its JWKS: a federated issuer \
             must publish both over https, reachable from the internet",
            iss.trim_end_matches('/')
        ),
        5_002_738 => format!(
            "the token is signed with {}; Entra ID accepts federated tokens signed with RS256: configure \
             the issuer to sign with RS256",
            shown(claims.alg.as_deref().unwrap_or("?"))
        ),
        7_000_215 | 7_000_216 | 7_000_218 => {
            "the service expected or received a client secret, but graphd sends only the federated token as \
             the client assertion: check that --authority-host (AZURE_AUTHORITY_HOST) is the Entra token \
             service and that no proxy rewrites the request"
                .to_string()
        }
        700_027 => format!(
            "{seen}; its signature does not verify with the keys the issuer publishes: is the token \
             from that issuer, and unaltered?"
        ),
        _ => return None,
    })
}

/// The `az` command that creates the federated credential this token would match.
fn create_command(client_id: &str, claims: &ExternalClaims, asked: &str) -> String {
    let iss = claims.iss.as_deref().unwrap_or("ISSUER");
    let sub = claims.sub.as_deref().unwrap_or("SUBJECT");
    let aud = match claims.aud.as_slice() {
        [one] => one.as_str(),
        many if many.iter().any(|a| a == asked) => asked,
        [first, ..] => first.as_str(),
        [] => asked,
    };
    let parameters = serde_json::json!({
        "name": credential_name(sub),
        "issuer": iss,
        "subject": sub,
        "audiences": [aud],
    });
    format!(
        "az ad app federated-credential create --id {client_id} --parameters {}",
        crate::safe_text::shell_word(&super::printable(&parameters.to_string(), 2_000))
    )
}

/// A credential name Entra accepts (3-120 characters: letters, digits, `-`, `_`, starting
/// with a letter or digit; docs/protocol.md#federated-credential-limits) made from the subject.
fn credential_name(subject: &str) -> String {
    let mut name: String = subject
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    name = name.trim_matches('-').to_string();
    while name.contains("--") {
        name = name.replace("--", "-");
    }
    let mut name = format!("graphd-{name}");
    name.truncate(120);
    name.trim_end_matches('-').to_string()
}

fn issuer_note(iss: &str) -> &'static str {
    if iss == GITHUB_ISSUER {
        " (GitHub's issuer has no trailing '/'; one in the credential is a mismatch)"
    } else if iss.ends_with('/') {
        " (it ends with '/': the credential's issuer must too)"
    } else {
        " (compared character for character: a trailing '/' or another case in the credential is a mismatch)"
    }
}

fn subject_note(origin: &TokenOrigin, iss: &str) -> &'static str {
    match origin {
        TokenOrigin::GitHub { .. } => {
            "; GitHub's subject depends on how the job runs: repo:OWNER/REPO:environment:NAME when the job \
             has an environment, else :ref:refs/heads/BRANCH, :ref:refs/tags/TAG or :pull_request"
        }
        _ if iss == GITHUB_ISSUER => {
            "; GitHub's subject depends on how the job runs (environment, branch, tag, pull_request)"
        }
        TokenOrigin::File { .. } => {
            "; a Kubernetes service account's subject is system:serviceaccount:NAMESPACE:NAME"
        }
        TokenOrigin::Env { .. } => "",
    }
}

fn audience_note(origin: &TokenOrigin, asked: &str) -> String {
    match origin {
        TokenOrigin::GitHub { .. } => format!(
            "graphd asked GitHub for audience {} (--federated-audience changes it), ",
            shown(asked)
        ),
        _ => "get a token for the credential's audience (a Kubernetes projected token's audience is set \
              in the pod's volume), "
            .to_string(),
    }
}

/// 700024 for a federated token: its age and `exp`, and what refreshes it.
fn expired(f: &FederatedFacts, claims: &ExternalClaims, c: &RefusalContext) -> String {
    let now = clock::now_unix();
    if let Some(nbf) = claims.nbf.filter(|n| *n > now) {
        return format!(
            "the token from the {} is not valid before {} ({} from now by this machine's clock): \
             its issuer's clock runs ahead of the token service's, or the token is not meant for now",
            f.origin,
            clock::rfc3339(nbf),
            span(nbf - now)
        );
    }
    let mut said = format!("the token from the {}", f.origin);
    if let Some(iat) = claims.iat {
        said.push_str(&format!(" was issued {} ago", span(now - iat)));
    }
    match claims.exp {
        Some(exp) if exp <= now => said.push_str(&format!(
            " and expired at {} ({} ago)",
            clock::rfc3339(exp),
            span(now - exp)
        )),
        Some(exp) => said.push_str(&format!(
            " and expires at {} (in {} by this machine's clock)",
            clock::rfc3339(exp),
            span(exp - now)
        )),
        None => said.push_str(" and has no exp"),
    }
    if let (TokenOrigin::File { .. }, Some(w)) = (&f.origin, f.written_at) {
        said.push_str(&format!(
            "; the file was last written {} ago",
            span(now - w)
        ));
    }
    let advice = match &f.origin {
        TokenOrigin::File { .. } => {
            "is the file being refreshed? (the kubelet rewrites projected tokens at 80% of their lifetime)"
        }
        TokenOrigin::GitHub { .. } => "GitHub's ID tokens live about 5 minutes",
        TokenOrigin::Env { .. } => "a token in an environment variable is not refreshed",
    };
    let clocks = match c.skew_secs {
        Some(s) if s.abs() >= 60 => format!(
            "; this machine's clock is {} {} the token service's (local {}, server {})",
            span(s),
            if s > 0 { "behind" } else { "ahead of" },
            c.local_time.as_deref().unwrap_or("unknown"),
            c.server_time.as_deref().unwrap_or("unknown")
        ),
        _ => String::new(),
    };
    format!("{said}: {advice}{clocks}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(origin: TokenOrigin, iss: &str, sub: &str) -> FederatedFacts {
        FederatedFacts {
            origin,
            audience: "api://AzureADTokenExchange".into(),
            claims: Some(ExternalClaims {
                iss: Some(iss.into()),
                sub: Some(sub.into()),
                aud: vec!["api://AzureADTokenExchange".into()],
                ..Default::default()
            }),
            read_at: None,
            written_at: None,
        }
    }

    fn context() -> RefusalContext {
        RefusalContext {
            client_id: "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee".into(),
            ..Default::default()
        }
    }

    #[test]
    fn the_matching_credential_is_spelled_out() {
        let f = facts(
            TokenOrigin::GitHub {
                host: "pipelines.actions.githubusercontent.com".into(),
            },
            GITHUB_ISSUER,
            "repo:Octo-Org/app:environment:Prod",
        );
        let h = hint(700_213, &f, &context()).unwrap();
        assert!(
            h.contains("sub 'repo:Octo-Org/app:environment:Prod'"),
            "{h}"
        );
        assert!(h.contains(
            r#"az ad app federated-credential create --id aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee --parameters '{"audiences":["api://AzureADTokenExchange"],"issuer":"https://token.actions.githubusercontent.com","name":"graphd-repo-Octo-Org-app-environment-Prod","subject":"repo:Octo-Org/app:environment:Prod"}'"#
        ), "{h}");
        assert!(h.contains("environment:NAME"), "{h}");
        let h = hint(700_211, &f, &context()).unwrap();
        assert!(h.contains("no trailing '/'"), "{h}");
    }

    #[test]
    fn quotes_in_claims_stay_inside_one_shell_word() {
        let f = facts(
            TokenOrigin::Env { name: "T".into() },
            "https://issuer.example/",
            "it's",
        );
        let h = hint(70_021, &f, &context()).unwrap();
        assert!(h.contains(r#""subject":"it'\''s""#), "{h}");
        assert!(h.contains("propagating"), "{h}");
        assert!(
            hint(700_211, &f, &context())
                .unwrap()
                .contains("ends with '/'")
        );
        assert!(hint(50_000, &f, &context()).is_none());
    }

    #[test]
    fn names_follow_entras_rules() {
        assert_eq!(
            credential_name("system:serviceaccount:ns:sa"),
            "graphd-system-serviceaccount-ns-sa"
        );
        let long = credential_name(&"x".repeat(500));
        assert_eq!(long.len(), 120);
        assert_eq!(credential_name("::"), "graphd");
    }
}
