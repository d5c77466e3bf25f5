//! Redacting newtypes for every secret graphd handles.
//!
//! A secret type has a Debug that prints a placeholder, no Display, no Serialize, zeroizes its
//! memory on drop, and exposes its value through exactly one method, `expose_secret`, so every
//! place that touches the plaintext is easy to find with grep. Never add Display or Serialize.

use std::fmt;

use zeroize::Zeroizing;

macro_rules! secret_string {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone)]
        pub struct $name(Zeroizing<String>);

        impl $name {
            /// Wraps a secret value.
            pub fn new(value: String) -> Self {
                Self(Zeroizing::new(value))
            }

            /// The plaintext secret.
            ///
            /// # Security
            ///
            /// Use only to send the value where it belongs (the wire, the user's stdout when
            /// they asked for it). Never log it, format it into an error or copy it into a
            /// type without zeroize-on-drop.
            pub fn expose_secret(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "([redacted])"))
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                String::deserialize(d).map(Self::new)
            }
        }
    };
}

secret_string!(
    /// An OAuth access token issued by the token service (or the emulator).
    AccessToken
);
secret_string!(
    /// A signed client assertion JWT: whoever holds it can get tokens until it expires.
    ClientAssertion
);
secret_string!(
    /// The password of an encrypted private key or a PFX file.
    Password
);
secret_string!(
    /// A JWT from another issuer (Kubernetes, GitHub Actions, any OIDC provider) that Entra
    /// accepts as the client assertion of an app with a matching federated credential: whoever
    /// holds it gets the app's tokens until it expires.
    FederatedToken
);
secret_string!(
    /// GitHub Actions' `ACTIONS_ID_TOKEN_REQUEST_TOKEN`: it buys ID tokens for the job's
    /// identity for as long as the job runs.
    GithubRequestToken
);
secret_string!(
    /// The `IDENTITY_HEADER` of `graphd serve`: whoever sends it to the endpoint gets tokens.
    IdentityHeader
);

/// The user PIN of a PKCS#11 token, as the bytes `C_Login` takes.
pub struct Pin(Zeroizing<Vec<u8>>);

impl Pin {
    /// Wraps a PIN read from a file, stdin, the environment or the terminal.
    pub fn new(bytes: Zeroizing<Vec<u8>>) -> Self {
        Self(bytes)
    }

    /// The plaintext PIN.
    ///
    /// # Security
    ///
    /// Use only to log in to the token, then drop the `Pin`. Never log it, format it into an
    /// error or copy it into a type without zeroize-on-drop.
    pub fn expose_secret(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pin([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_secret() {
        let token = AccessToken::new("eyJ0eXAi.secret-token".into());
        let assertion = ClientAssertion::new("eyJhbGci.secret-assertion".into());
        let password = Password::new("hunter2-password".into());
        let federated = FederatedToken::new("eyJhbGci.secret-federated".into());
        let request = GithubRequestToken::new("secret-request-token".into());
        let pin = Pin::new(Zeroizing::new(b"hunter2-pin".to_vec()));
        let all = format!(
            "{token:?} {assertion:?} {password:?} {federated:?} {request:?} {pin:?} {:#?}",
            Some(&token)
        );
        assert!(!all.contains("secret-federated"));
        assert!(!all.contains("secret-request-token"));
        assert!(!all.contains("secret-token"));
        assert!(!all.contains("secret-assertion"));
        assert!(!all.contains("hunter2"));
        assert!(all.contains("AccessToken([redacted])"));
        assert_eq!(token.expose_secret(), "eyJ0eXAi.secret-token");
    }

    #[test]
    fn deserializes_straight_into_the_wrapper() {
        #[derive(serde::Deserialize, Debug)]
        struct Response {
            access_token: AccessToken,
        }
        let r: Response = serde_json::from_str(r#"{"access_token":"abc.def"}"#).unwrap();
        assert_eq!(r.access_token.expose_secret(), "abc.def");
        assert!(!format!("{r:?}").contains("abc.def"));
    }
}
