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
    /// The `IDENTITY_HEADER` of `graphd serve`: whoever sends it to the endpoint gets tokens.
    IdentityHeader
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_secret() {
        let token = AccessToken::new("eyJ0eXAi.secret-token".into());
        let assertion = ClientAssertion::new("eyJhbGci.secret-assertion".into());
        let password = Password::new("hunter2-password".into());
        let all = format!("{token:?} {assertion:?} {password:?} {:#?}", Some(&token));
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
