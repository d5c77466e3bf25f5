//! An app identity: which app it is ([`App`]: tenant, client id, authority) and how it proves
//! it ([`Proof`]). Built once per process from the resolved settings; token acquisition asks
//! it for a client assertion and never knows which kind of proof stands behind it.
//!
//! # The protocol every proof follows
//!
//! A token request calls [`Identity::proof_for_request`] once (the place for I/O a proof
//! needs per request: re-reading a federated token file, asking a CI system for a fresh ID
//! token), then [`RequestProof::assertion`] for each attempt of that request (a certificate
//! signs a new assertion with a new `jti` every time; a federated token is sent as it is).
//! [`Identity::cache_id`] says which tokens in the token cache belong to this identity
//! without loading a private key, and [`Identity::hints`] gives refusal hints what they need
//! without re-reading any file.
//!
//! # Adding a proof kind
//!
//! A proof kind slots in here and nowhere else, as the federated token did
//! (`federated.rs`: the token source, fetched again in `proof_for_request`) and a key inside a
//! PKCS#11 token can (another [`crate::jws::SigningKey`] behind the certificate proof):
//! 1. a `ProofSpec` variant in `settings` (what the command line chose), resolved there;
//! 2. a [`Proof`] variant with its module next to `certificate.rs`;
//! 3. the `match`es below.
//!
//! `token`, `token_cache`, `client` and `graph` need no change: they see an `Identity`.

mod certificate;
mod federated;

pub use certificate::CertificateProof;
pub use federated::{
    FederatedProof, MAX_TOKEN_FILE, Read, check_now as federated_check_now,
    decode as federated_decode, describe_claims, facts as federated_facts, github_request_url,
    read_env, read_file, read_local,
};

use crate::error::{CertFile, FederatedFacts, Result};
use crate::http::Http;
use crate::secret::ClientAssertion;
pub use crate::settings::App;
use crate::settings::ProofSpec;

/// The app and how it proves its identity.
#[derive(Debug)]
pub struct Identity {
    app: App,
    proof: Proof,
}

/// How the app proves its identity to the token service.
#[derive(Debug)]
pub enum Proof {
    /// A certificate credential: an RSA key signs an assertion naming the certificate.
    Certificate(CertificateProof),
    /// A token from another issuer, sent as it is (`federated.rs`).
    Federated(FederatedProof),
}

/// What refusal hints may say about the credential (never anything secret).
#[derive(Debug, Clone, Default)]
pub struct ProofHints {
    /// SHA-1 thumbprint as hex, as the portal shows it.
    pub thumbprint_hex: Option<String>,
    pub x5t_s256: Option<String>,
    /// The certificate file, for the upload command (none when only a thumbprint is known).
    pub cert_path: Option<std::path::PathBuf>,
    pub cert_file: CertFile,
    /// The external token's origin and claims, for a federated proof.
    pub federated: Option<FederatedFacts>,
}

/// The proof for one token request: a source of client assertions, one per attempt.
pub struct RequestProof<'a> {
    identity: &'a Identity,
    /// A federated proof's token, fetched once for the request and sent with every attempt.
    federated: Option<ClientAssertion>,
}

impl Identity {
    /// Prepares the proof `spec` describes for `app`. A certificate file is read here, but a
    /// private key only when it must be (see [`CertificateProof::new`]).
    pub fn new(app: App, spec: ProofSpec) -> Result<Self> {
        let proof = match spec {
            ProofSpec::Certificate(spec) => Proof::Certificate(CertificateProof::new(spec)?),
            ProofSpec::Federated(spec) => Proof::Federated(FederatedProof::new(spec)),
        };
        let identity = Identity { app, proof };
        if crate::messages::verbose() {
            crate::messages::trace(&format!("identity: {}", identity.describe()));
        }
        Ok(identity)
    }

    pub fn app(&self) -> &App {
        &self.app
    }

    pub fn proof(&self) -> &Proof {
        &self.proof
    }

    /// What tells this identity's tokens apart in the token cache (with authority, tenant,
    /// client id and scope): never a secret, and known without loading a private key.
    pub fn cache_id(&self) -> String {
        match &self.proof {
            Proof::Certificate(c) => c.thumbprints().sha1_hex(),
            Proof::Federated(f) => f.cache_id(),
        }
    }

    /// Readies the proof for one token request: a federated token is read (or asked for)
    /// here, once per request.
    pub async fn proof_for_request(&self, http: &Http) -> Result<RequestProof<'_>> {
        let federated = match &self.proof {
            Proof::Certificate(_) => None,
            Proof::Federated(f) => {
                let token = f.token(http).await?;
                Some(ClientAssertion::new(token.expose_secret().to_string()))
            }
        };
        Ok(RequestProof {
            identity: self,
            federated,
        })
    }

    /// What hints for a token refusal may name.
    pub fn hints(&self) -> ProofHints {
        match &self.proof {
            Proof::Certificate(c) => c.hints(),
            Proof::Federated(f) => ProofHints {
                federated: Some(f.hints()),
                ..ProofHints::default()
            },
        }
    }

    /// One line for `-v`: which proof, and of what.
    pub fn describe(&self) -> String {
        match &self.proof {
            Proof::Certificate(c) => c.describe(),
            Proof::Federated(f) => f.describe(),
        }
    }
}

impl RequestProof<'_> {
    /// The client assertion for one attempt of the token request.
    pub fn assertion(&self) -> Result<ClientAssertion> {
        let app = &self.identity.app;
        match (&self.identity.proof, &self.federated) {
            (Proof::Certificate(c), _) => c.assertion(&app.token_endpoint(), &app.client_id),
            (Proof::Federated(_), Some(token)) => Ok(token.clone()),
            (Proof::Federated(_), None) => Err(crate::error::Error::Internal(
                "a federated proof was used without its token".into(),
            )),
        }
    }
}
