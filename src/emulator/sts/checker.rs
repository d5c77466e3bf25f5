//! The token endpoint's client assertion check without a running emulator: the same rules,
//! callable with any text against one registration and one audience (fuzzing, tests).

use super::assertion::{Expect, validate};
use crate::emulator::AppRegistration;
use crate::emulator::state::App;

/// An app registration and the token endpoint URL it is called at, ready to check client
/// assertions exactly as the emulator's token endpoint does: structure, algorithm, thumbprint
/// headers and `x5c`, the registered certificate's window, the signature, then the claims.
pub struct AssertionChecker {
    app: App,
    audience: String,
}

impl AssertionChecker {
    /// `audience` is the exact token endpoint URL the assertion must name in `aud`.
    pub fn new(registration: AppRegistration, audience: &str) -> Self {
        AssertionChecker {
            app: App::new(registration),
            audience: audience.to_string(),
        }
    }

    /// Checks `assertion` at unix time `now`, for the registration's own client id.
    /// `Ok` carries the assertion's `jti`; `Err` the AADSTS code and the text the emulator
    /// would send.
    pub fn check(&self, assertion: &str, now: i64) -> Result<Option<String>, (u32, String)> {
        let expect = Expect {
            client_id: &self.app.client_id,
            audience: &self.audience,
            now,
        };
        validate(assertion, &self.app, &expect)
            .map(|checked| checked.jti)
            .map_err(|refusal| (refusal.code, refusal.text))
    }
}

#[cfg(test)]
mod tests {
    use openssl::pkey::PKey;
    use serde_json::json;

    use super::*;
    use crate::credential::Thumbprints;
    use crate::gen_cert::{Request, Subject, generate};
    use crate::jws::{self, Alg};

    #[test]
    fn checks_as_the_token_endpoint_does() {
        let subject = Subject::parse("CN=checker").unwrap();
        let made = generate(&Request {
            subject: &subject,
            days: 30,
            key_bits: 2048,
        })
        .unwrap();
        let key = PKey::private_key_from_pem(&made.key_pem(None).unwrap()).unwrap();
        let s256 = Thumbprints::of_cert(made.certificate())
            .unwrap()
            .x5t_s256()
            .unwrap();
        let client_id = "11111111-2222-3333-4444-555555555555";
        let audience = "http://127.0.0.1:1/tenant/oauth2/v2.0/token";
        let checker = AssertionChecker::new(
            AppRegistration {
                client_id: client_id.to_string(),
                certificates: vec![made.certificate().to_owned()],
                roles: Vec::new(),
            },
            audience,
        );
        let now = crate::clock::now_unix();
        let sign = |aud: &str| {
            let header = json!({"alg": "PS256", "typ": "JWT", "x5t#S256": s256});
            let claims = json!({"aud": aud, "iss": client_id, "sub": client_id,
                "jti": "j-1", "nbf": now, "exp": now + 600});
            jws::encode(Alg::PS256, &key, &header, &claims).unwrap()
        };
        assert_eq!(checker.check(&sign(audience), now), Ok(Some("j-1".into())));
        assert_eq!(
            checker
                .check(&sign("https://elsewhere/token"), now)
                .unwrap_err()
                .0,
            700_023
        );
        assert_eq!(
            checker.check(&sign(audience), now + 601).unwrap_err().0,
            700_024
        );
        assert_eq!(checker.check("not.a.jwt", now).unwrap_err().0, 50_027);
    }
}
