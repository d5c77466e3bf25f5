//! Federated identity credentials of the emulator's apps (docs/protocol.md#workload-identity-federation):
//! what they are, the limits Entra and Graph put on them (docs/protocol.md#federated-credential-limits),
//! the keys of the issuers they trust, and the log of federated tokens accepted.
//!
//! The emulator fetches nothing from the network: an issuer's keys are the built-in OIDC
//! issuer's (`oidc`) or come from a JWKS file given for that issuer. A credential that trusts
//! any other issuer fails as Entra fails when it cannot fetch the issuer's metadata.

use std::collections::HashMap;
use std::sync::Mutex;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openssl::bn::BigNum;
use openssl::pkey::{PKey, Public};
use openssl::rsa::Rsa;
use serde_json::Value;

/// At most this many federated credentials per app (docs/protocol.md#federated-credential-limits).
pub const MAX_PER_APP: usize = 20;
/// Issuer, subject and audience are at most this many characters.
pub const MAX_FIELD: usize = 600;
/// The keyword that names the built-in issuer where an issuer URL is expected.
pub const BUILTIN: &str = "emulator";

/// Which issuer a federated credential trusts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IssuerRef {
    /// The emulator's own OIDC issuer (`{authority}/oidc`), whose URL is known once it listens.
    Builtin,
    /// Any other issuer, by its exact `iss`.
    Url(String),
}

/// A federated identity credential, as Graph's `federatedIdentityCredential` holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FederatedCredential {
    pub client_id: String,
    /// 3-120 characters: letters, digits, `-`, `_`, starting with a letter or digit.
    pub name: String,
    pub issuer: IssuerRef,
    pub subject: String,
    /// Exactly one audience (Graph refuses more).
    pub audience: String,
}

/// The JWKS (RFC 7517) of an issuer the emulator cannot fetch.
#[derive(Debug, Clone)]
pub struct IssuerKeys {
    pub issuer: String,
    pub jwks: Value,
}

/// The audience federated credentials expect (docs/protocol.md#workload-identity-federation).
pub const DEFAULT_AUDIENCE: &str = "api://AzureADTokenExchange";

impl FederatedCredential {
    /// A credential for `client_id`, named after its subject plus a short digest of issuer
    /// and subject (names must be unique per app; `name` may be set afterwards).
    pub fn new(client_id: &str, issuer: IssuerRef, subject: &str, audience: &str) -> Self {
        let slug: String = subject
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .take(100)
            .collect();
        let issuer_text = match &issuer {
            IssuerRef::Builtin => BUILTIN,
            IssuerRef::Url(u) => u.as_str(),
        };
        let digest = openssl::hash::hash(
            openssl::hash::MessageDigest::sha256(),
            format!("{issuer_text}\n{subject}").as_bytes(),
        )
        .map(|d| {
            d.iter()
                .take(3)
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        })
        .unwrap_or_default();
        FederatedCredential {
            client_id: client_id.to_ascii_lowercase(),
            name: format!("fic-{}-{digest}", slug.trim_matches('-')),
            issuer,
            subject: subject.to_string(),
            audience: audience.to_string(),
        }
    }

    /// `CLIENT_ID=ISSUER,SUBJECT[,AUDIENCE]` (`graphd emulator --federated`); ISSUER is a URL
    /// or `emulator` for the built-in issuer. Errors never repeat the value.
    pub fn parse(spec: &str) -> Result<Self, String> {
        let usage = "write CLIENT_ID=ISSUER,SUBJECT[,AUDIENCE] (ISSUER: a URL, or `emulator` for the built-in issuer)";
        let (id, rest) = spec.split_once('=').ok_or_else(|| usage.to_string())?;
        let client_id = crate::cloud::check_client_id(id)?;
        let mut parts = rest.splitn(3, ',');
        let issuer = parts.next().unwrap_or("").trim();
        let subject = parts.next().unwrap_or("").trim();
        let audience = parts.next().map_or(DEFAULT_AUDIENCE, str::trim);
        if issuer.is_empty() || subject.is_empty() || audience.is_empty() {
            return Err(usage.to_string());
        }
        let issuer = if issuer.eq_ignore_ascii_case(BUILTIN) {
            IssuerRef::Builtin
        } else {
            IssuerRef::Url(issuer.to_string())
        };
        Ok(FederatedCredential::new(
            &client_id, issuer, subject, audience,
        ))
    }
}

/// Checks the credentials against Graph's limits: what Graph would refuse to create is
/// refused at start, with the reason.
pub fn check(credentials: &[FederatedCredential]) -> Result<(), String> {
    let mut per_app: HashMap<&str, Vec<&FederatedCredential>> = HashMap::new();
    for c in credentials {
        let valid_name = c.name.len() >= 3
            && c.name.len() <= 120
            && c.name.starts_with(|ch: char| ch.is_ascii_alphanumeric())
            && c.name
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_');
        if !valid_name {
            return Err(format!(
                "app {}: a federated credential's name must be 3-120 letters, digits, - or _, starting with a letter or digit",
                c.client_id
            ));
        }
        let issuer = match &c.issuer {
            IssuerRef::Builtin => BUILTIN,
            IssuerRef::Url(u) => u.as_str(),
        };
        for (what, value) in [
            ("issuer", issuer),
            ("subject", c.subject.as_str()),
            ("audience", c.audience.as_str()),
        ] {
            if value.is_empty() || value.chars().count() > MAX_FIELD {
                return Err(format!(
                    "app {}: a federated credential's {what} must be 1 to {MAX_FIELD} characters",
                    c.client_id
                ));
            }
            if value.contains('*') {
                return Err(format!(
                    "app {}: wildcards are not supported in a federated credential's {what}",
                    c.client_id
                ));
            }
        }
        let app = per_app.entry(c.client_id.as_str()).or_default();
        if app
            .iter()
            .any(|o| o.issuer == c.issuer && o.subject == c.subject)
        {
            return Err(format!(
                "app {}: the issuer and subject combination already exists",
                c.client_id
            ));
        }
        if app.iter().any(|o| o.name == c.name) {
            return Err(format!(
                "app {}: two federated credentials are named {}",
                c.client_id, c.name
            ));
        }
        app.push(c);
        if app.len() > MAX_PER_APP {
            return Err(format!(
                "app {}: at most {MAX_PER_APP} federated credentials per app",
                c.client_id
            ));
        }
    }
    Ok(())
}

/// One key of an issuer's JWKS.
pub struct IssuerKey {
    pub kid: Option<String>,
    pub x5t: Option<String>,
    /// `None` for a key that is not RSA (an EC key): nothing it signed is accepted.
    pub rsa: Option<PKey<Public>>,
}

/// The keys in a JWKS document; an unusable RSA key is an error, other key types are kept
/// without a usable key.
pub fn parse_jwks(jwks: &Value) -> Result<Vec<IssuerKey>, String> {
    let keys = jwks
        .get("keys")
        .and_then(Value::as_array)
        .ok_or("a JWKS is {\"keys\": [...]}")?;
    keys.iter()
        .map(|k| {
            let text = |name: &str| k.get(name).and_then(Value::as_str).map(str::to_string);
            let rsa = match text("kty").as_deref() {
                Some("RSA") => Some(
                    rsa_key(text("n"), text("e")).ok_or("an RSA key's n or e is not base64url")?,
                ),
                _ => None,
            };
            Ok(IssuerKey {
                kid: text("kid"),
                x5t: text("x5t"),
                rsa,
            })
        })
        .collect()
}

fn rsa_key(n: Option<String>, e: Option<String>) -> Option<PKey<Public>> {
    let n = BigNum::from_slice(&URL_SAFE_NO_PAD.decode(n?.trim_end_matches('=')).ok()?).ok()?;
    let e = BigNum::from_slice(&URL_SAFE_NO_PAD.decode(e?.trim_end_matches('=')).ok()?).ok()?;
    PKey::from_rsa(Rsa::from_public_components(n, e).ok()?).ok()
}

/// A federated token the token endpoint accepted (no token, only what identifies it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FederatedUse {
    pub client_id: String,
    /// The name of the credential that matched.
    pub credential: String,
    pub issuer: String,
    pub subject: String,
    pub jti: Option<String>,
    pub exp: i64,
}

/// The running emulator's federated credentials, issuer keys and accepted-token log.
pub struct Registry {
    /// By lowercased client id; issuers resolved to URLs.
    credentials: HashMap<String, Vec<FederatedCredential>>,
    keys: HashMap<String, Vec<IssuerKey>>,
    /// The built-in issuer's URL.
    pub builtin: String,
    uses: Mutex<Vec<FederatedUse>>,
}

impl Registry {
    /// The registry for `credentials` and `issuer_keys`, with `builtin` the built-in issuer's URL.
    pub fn new(
        credentials: &[FederatedCredential],
        issuer_keys: &[IssuerKeys],
        builtin: &str,
    ) -> Result<Self, String> {
        let mut by_app: HashMap<String, Vec<FederatedCredential>> = HashMap::new();
        for c in credentials {
            let mut c = c.clone();
            if c.issuer == IssuerRef::Builtin {
                c.issuer = IssuerRef::Url(builtin.to_string());
            }
            by_app
                .entry(c.client_id.to_ascii_lowercase())
                .or_default()
                .push(c);
        }
        let mut keys = HashMap::new();
        for k in issuer_keys {
            let parsed = parse_jwks(&k.jwks).map_err(|e| format!("issuer {}: {e}", k.issuer))?;
            keys.insert(k.issuer.clone(), parsed);
        }
        Ok(Registry {
            credentials: by_app,
            keys,
            builtin: builtin.to_string(),
            uses: Mutex::new(Vec::new()),
        })
    }

    /// The app's credentials (issuers as URLs).
    pub fn of(&self, client_id: &str) -> &[FederatedCredential] {
        self.credentials
            .get(&client_id.to_ascii_lowercase())
            .map_or(&[], Vec::as_slice)
    }

    /// The keys of an issuer given by JWKS file (the built-in issuer's are `oidc`'s).
    pub fn keys(&self, issuer: &str) -> Option<&[IssuerKey]> {
        self.keys.get(issuer).map(Vec::as_slice)
    }

    /// Whether any credential trusts the built-in issuer.
    pub fn uses_builtin(&self) -> bool {
        self.credentials
            .values()
            .flatten()
            .any(|c| c.issuer == IssuerRef::Url(self.builtin.clone()))
    }

    pub fn record(&self, used: FederatedUse) {
        if let Ok(mut uses) = self.uses.lock() {
            uses.push(used);
        }
    }

    pub fn uses(&self) -> Vec<FederatedUse> {
        self.uses.lock().map(|u| u.clone()).unwrap_or_default()
    }
}

impl IssuerRef {
    /// The issuer as written on the command line or in the apps file.
    pub fn parse(text: &str) -> IssuerRef {
        if text.trim().eq_ignore_ascii_case(BUILTIN) {
            IssuerRef::Builtin
        } else {
            IssuerRef::Url(text.to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";

    #[test]
    fn command_line_credentials() {
        let c = FederatedCredential::parse(&format!(
            "{ID}=https://token.actions.githubusercontent.com,repo:o/r:ref:refs/heads/main"
        ))
        .unwrap();
        assert_eq!(c.audience, DEFAULT_AUDIENCE);
        assert!(
            c.name.starts_with("fic-repo-o-r-ref-refs-heads-main-"),
            "{}",
            c.name
        );
        let other = FederatedCredential::parse(&format!(
            "{ID}=https://other.example,repo:o/r:ref:refs/heads/main"
        ))
        .unwrap();
        assert_ne!(c.name, other.name);
        let b = FederatedCredential::parse(&format!("{ID}=emulator,sub,api://other")).unwrap();
        assert_eq!(
            (b.issuer, b.audience.as_str()),
            (IssuerRef::Builtin, "api://other")
        );
        for bad in [
            ID.to_string(),
            format!("{ID}=iss"),
            "x=iss,sub".into(),
            format!("{ID}=,sub"),
        ] {
            let e = FederatedCredential::parse(&bad).unwrap_err();
            assert!(!e.contains("iss,sub"), "{e}");
        }
    }

    #[test]
    fn graphs_limits_hold() {
        let many: Vec<FederatedCredential> = (0..=MAX_PER_APP)
            .map(|i| {
                FederatedCredential::new(ID, IssuerRef::Builtin, &format!("s{i}"), DEFAULT_AUDIENCE)
            })
            .collect();
        assert!(check(&many[..MAX_PER_APP]).is_ok());
        assert!(check(&many).unwrap_err().contains("at most 20"));
        let twice = [many[0].clone(), many[0].clone()];
        assert!(check(&twice).unwrap_err().contains("already exists"));
        let wild = [FederatedCredential::new(
            ID,
            IssuerRef::Builtin,
            "repo:o/*",
            DEFAULT_AUDIENCE,
        )];
        assert!(check(&wild).unwrap_err().contains("wildcards"));
        let long = [FederatedCredential::new(
            ID,
            IssuerRef::Builtin,
            &"s".repeat(601),
            DEFAULT_AUDIENCE,
        )];
        assert!(check(&long).unwrap_err().contains("600"));
    }

    #[test]
    fn jwks_keys_parse() {
        let rsa = Rsa::generate(2048).unwrap();
        let jwks = serde_json::json!({"keys": [
            {"kty": "RSA", "kid": "k1", "n": URL_SAFE_NO_PAD.encode(rsa.n().to_vec()), "e": "AQAB"},
            {"kty": "EC", "kid": "k2", "crv": "P-256", "x": "x", "y": "y"},
        ]});
        let keys = parse_jwks(&jwks).unwrap();
        assert!(keys[0].rsa.is_some() && keys[1].rsa.is_none());
        assert!(parse_jwks(&serde_json::json!({"nokeys": []})).is_err());
    }
}
