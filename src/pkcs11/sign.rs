//! Signing inside the token: the JWS algorithms as PKCS#11 mechanisms, chosen from what the
//! token offers, and a [`TokenKey`] that is a [`jws::SigningKey`] whose private half never
//! leaves the token.
//!
//! PS256 (RSASSA-PSS, SHA-256, MGF1-SHA-256, salt 32: RFC 7518 §3.5) is `CKM_RSA_PKCS_PSS`
//! over a SHA-256 digest computed here (32 bytes cross to the token, not the whole
//! `header.payload`), else `CKM_SHA256_RSA_PKCS_PSS`. RS256 is `CKM_SHA256_RSA_PKCS`, else
//! `CKM_RSA_PKCS` over a DigestInfo (RFC 8017 §9.2). See PKCS#11 v2.40 current mechanisms
//! §2.1 and docs/protocol.md#pkcs11. Every signature is verified with the key's public half
//! before it is used, so a token that signs wrongly is caught here, not by Entra.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use cryptoki::mechanism::rsa::{PkcsMgfType, PkcsPssParams};
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::ObjectHandle;
use openssl::hash::{MessageDigest, hash};
use openssl::pkey::{PKey, Public};
use zeroize::Zeroizing;

use super::session::Token;
use crate::error::{Error, Pkcs11Problem, Result};
use crate::jws::{self, Alg, SigningKey};

/// DER of `DigestInfo { sha256, NULL }` before the 32 hash bytes (RFC 8017 §9.2, note 1).
const SHA256_DIGEST_INFO: [u8; 19] = [
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
    0x00, 0x04, 0x20,
];

/// PSS parameters of PS256: SHA-256, MGF1 with SHA-256, a 32-byte salt.
const PS256_PARAMS: PkcsPssParams = PkcsPssParams {
    hash_alg: MechanismType::SHA256,
    mgf: PkcsMgfType::MGF1_SHA256,
    s_len: cryptoki::types::Ulong::new(32),
};

static SIGNATURES: AtomicU64 = AtomicU64::new(0);

/// How many signatures tokens made in this process.
pub fn signatures() -> u64 {
    SIGNATURES.load(Ordering::Relaxed)
}

/// One way to make a JWS signature with a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Way {
    /// PS256: `CKM_RSA_PKCS_PSS` over a SHA-256 digest made here.
    PssOfDigest,
    /// PS256: `CKM_SHA256_RSA_PKCS_PSS`, the token hashes.
    Sha256Pss,
    /// RS256: `CKM_SHA256_RSA_PKCS`, the token hashes.
    Sha256Pkcs1,
    /// RS256: `CKM_RSA_PKCS` over a DigestInfo made here.
    Pkcs1OfDigestInfo,
}

impl Way {
    pub fn mechanism_type(self) -> MechanismType {
        match self {
            Way::PssOfDigest => MechanismType::RSA_PKCS_PSS,
            Way::Sha256Pss => MechanismType::SHA256_RSA_PKCS_PSS,
            Way::Sha256Pkcs1 => MechanismType::SHA256_RSA_PKCS,
            Way::Pkcs1OfDigestInfo => MechanismType::RSA_PKCS,
        }
    }

    /// For reports and `-v`.
    pub fn describe(self) -> &'static str {
        match self {
            Way::PssOfDigest => "CKM_RSA_PKCS_PSS over a SHA-256 digest",
            Way::Sha256Pss => "CKM_SHA256_RSA_PKCS_PSS",
            Way::Sha256Pkcs1 => "CKM_SHA256_RSA_PKCS",
            Way::Pkcs1OfDigestInfo => "CKM_RSA_PKCS over a SHA-256 DigestInfo",
        }
    }

    /// The mechanism and the bytes it signs, for `input` (the JWS signing input).
    fn prepare(self, input: &[u8]) -> Result<(Mechanism<'static>, Zeroizing<Vec<u8>>)> {
        let digest = || {
            hash(MessageDigest::sha256(), input)
                .map(|d| d.to_vec())
                .map_err(crate::credential::openssl_bug)
        };
        Ok(match self {
            Way::PssOfDigest => (
                Mechanism::RsaPkcsPss(PS256_PARAMS),
                Zeroizing::new(digest()?),
            ),
            Way::Sha256Pss => (
                Mechanism::Sha256RsaPkcsPss(PS256_PARAMS),
                Zeroizing::new(input.to_vec()),
            ),
            Way::Sha256Pkcs1 => (Mechanism::Sha256RsaPkcs, Zeroizing::new(input.to_vec())),
            Way::Pkcs1OfDigestInfo => {
                let mut data = Vec::with_capacity(SHA256_DIGEST_INFO.len() + 32);
                data.extend_from_slice(&SHA256_DIGEST_INFO);
                data.extend_from_slice(&digest()?);
                (Mechanism::RsaPkcs, Zeroizing::new(data))
            }
        })
    }
}

/// The way chosen for each algorithm, `None` where the token offers none.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ways {
    pub ps256: Option<Way>,
    pub rs256: Option<Way>,
}

impl Ways {
    /// The preferred way the token `offers` (signing mechanisms) and the key allows
    /// (`CKA_ALLOWED_MECHANISMS`, when the key has a non-empty one).
    pub fn choose(offers: &[MechanismType], allowed: Option<&[MechanismType]>) -> Ways {
        let usable = |w: &Way| {
            let m = w.mechanism_type();
            offers.contains(&m) && allowed.is_none_or(|a| a.is_empty() || a.contains(&m))
        };
        Ways {
            ps256: [Way::PssOfDigest, Way::Sha256Pss].into_iter().find(usable),
            rs256: [Way::Sha256Pkcs1, Way::Pkcs1OfDigestInfo]
                .into_iter()
                .find(usable),
        }
    }

    pub fn get(&self, alg: Alg) -> Option<Way> {
        match alg {
            Alg::PS256 => self.ps256,
            Alg::RS256 => self.rs256,
        }
    }
}

/// The mechanisms the token can sign with (`C_GetMechanismList`, then `CKF_SIGN`).
pub fn signing_mechanisms(token: &Token) -> Result<Vec<MechanismType>> {
    let ctx = token.module().ctx();
    let list = ctx
        .get_mechanism_list(token.slot())
        .map_err(|e| token.error("listing its mechanisms (C_GetMechanismList)", &e))?;
    Ok(list
        .into_iter()
        .filter(|m| {
            ctx.get_mechanism_info(token.slot(), *m)
                .is_ok_and(|i| i.sign())
        })
        .collect())
}

/// A private key inside a token, used through the process's one session.
#[derive(Debug)]
pub struct TokenKey {
    token: Arc<Token>,
    handle: ObjectHandle,
    public: PKey<Public>,
    ways: Ways,
}

impl TokenKey {
    pub fn new(token: Arc<Token>, handle: ObjectHandle, public: PKey<Public>, ways: Ways) -> Self {
        TokenKey {
            token,
            handle,
            public,
            ways,
        }
    }

    pub fn public_key(&self) -> &PKey<Public> {
        &self.public
    }

    pub fn ways(&self) -> Ways {
        self.ways
    }

    pub fn token(&self) -> &Arc<Token> {
        &self.token
    }

    /// Signs `input` with `alg` inside the token, and checks the signature before returning it.
    pub fn sign(&self, alg: Alg, input: &[u8]) -> Result<Vec<u8>> {
        let way = self.ways.get(alg).ok_or_else(|| {
            Error::Pkcs11(Pkcs11Problem::NoMechanism {
                token: self.token.name(),
                alg: alg.as_str(),
            })
        })?;
        let (mechanism, data) = way.prepare(input)?;
        let signature = {
            let session = self.token.session()?;
            session
                .sign(&mechanism, self.handle, &data)
                .map_err(|e| self.token.error("signing", &e))?
        };
        SIGNATURES.fetch_add(1, Ordering::Relaxed);
        if !jws::verify(alg, &self.public, input, &signature) {
            return Err(Error::Pkcs11(Pkcs11Problem::BadSignature {
                token: self.token.name(),
            }));
        }
        Ok(signature)
    }
}

impl SigningKey for TokenKey {
    fn sign_jws(&self, alg: Alg, input: &[u8]) -> Result<Vec<u8>> {
        self.sign(alg, input)
    }

    fn signature_len(&self) -> usize {
        self.public.size()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use openssl::rsa::{Padding, Rsa};

    #[test]
    fn preferences_follow_the_token_and_the_key() {
        use MechanismType as M;
        let all = [
            M::RSA_PKCS,
            M::RSA_PKCS_PSS,
            M::SHA256_RSA_PKCS,
            M::SHA256_RSA_PKCS_PSS,
        ];
        let w = Ways::choose(&all, None);
        assert_eq!(w.ps256, Some(Way::PssOfDigest));
        assert_eq!(w.rs256, Some(Way::Sha256Pkcs1));
        let w = Ways::choose(&[M::RSA_PKCS, M::SHA256_RSA_PKCS_PSS], None);
        assert_eq!(w.ps256, Some(Way::Sha256Pss));
        assert_eq!(w.rs256, Some(Way::Pkcs1OfDigestInfo));
        // A key limited to PKCS#1 v1.5 has no PS256, whatever the token offers.
        let w = Ways::choose(&all, Some(&[M::SHA256_RSA_PKCS]));
        assert_eq!(
            w,
            Ways {
                ps256: None,
                rs256: Some(Way::Sha256Pkcs1)
            }
        );
        // An empty CKA_ALLOWED_MECHANISMS means no restriction.
        assert_eq!(Ways::choose(&all, Some(&[])), Ways::choose(&all, None));
        assert_eq!(Ways::choose(&[M::SHA256], None), Ways::default());
    }

    #[test]
    fn the_digest_info_is_what_pkcs1_v15_signs() {
        // A raw RSA signature over our DigestInfo must equal OpenSSL's RS256 signature.
        let rsa = Rsa::generate(2048).unwrap();
        let key = PKey::from_rsa(rsa.clone()).unwrap();
        let (mechanism, data) = Way::Pkcs1OfDigestInfo.prepare(b"header.payload").unwrap();
        assert!(matches!(mechanism, Mechanism::RsaPkcs));
        let mut raw = vec![0u8; rsa.size() as usize];
        let n = rsa
            .private_encrypt(&data, &mut raw, Padding::PKCS1)
            .unwrap();
        raw.truncate(n);
        assert_eq!(raw, jws::sign(Alg::RS256, &key, b"header.payload").unwrap());
        let (_, digest) = Way::PssOfDigest.prepare(b"x").unwrap();
        assert_eq!(digest.len(), 32);
    }
}
