//! A certificate signed by a key OpenSSL does not hold (one inside a PKCS#11 token).
//!
//! OpenSSL builds the certificate exactly as for a key file (same subject encoding, serial,
//! extensions, validity), signed by a throwaway stand-in key; the `TBSCertificate` it produced
//! is then signed by the real key and the certificate reassembled around that signature:
//! `Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue BIT STRING }`
//! (RFC 5280 §4.1). The stand-in is RSA with SHA-256 too, so the algorithm named inside the
//! TBS and outside it (sha256WithRSAEncryption) is the real key's. Nothing is trusted unchecked:
//! the result must parse and verify with the real public key.

use openssl::error::ErrorStack;
use openssl::pkey::{PKey, PKeyRef, Private, Public};
use openssl::rsa::Rsa;
use openssl::x509::X509;

use super::openssl_bug;
use crate::error::{Error, Result};

/// Builds with `build` (given the stand-in signer), signs the TBS with `sign`, reassembles.
pub fn self_signed_for(
    public: &PKeyRef<Public>,
    build: impl FnOnce(&PKeyRef<Private>) -> std::result::Result<X509, ErrorStack>,
    sign: impl FnOnce(&[u8]) -> Result<Vec<u8>>,
) -> Result<X509> {
    // Only its algorithm matters: its signature is thrown away below.
    let stand_in =
        PKey::from_rsa(Rsa::generate(2048).map_err(openssl_bug)?).map_err(openssl_bug)?;
    let draft = build(&stand_in)
        .map_err(openssl_bug)?
        .to_der()
        .map_err(openssl_bug)?;
    let (tbs, algorithm) = split(&draft)
        .ok_or_else(|| Error::Internal("OpenSSL wrote a certificate graphd cannot split".into()))?;
    let signature = sign(tbs)?;
    let cert = X509::from_der(&assemble(tbs, algorithm, &signature)).map_err(openssl_bug)?;
    if !cert.verify(public).map_err(openssl_bug)? {
        return Err(Error::Internal(
            "the re-signed certificate does not verify with its own key".into(),
        ));
    }
    Ok(cert)
}

/// Header length and content length of the DER element at the start of `der`.
fn header(der: &[u8]) -> Option<(usize, usize)> {
    let first = *der.get(1)?;
    if first < 0x80 {
        return Some((2, usize::from(first)));
    }
    let n = usize::from(first & 0x7f);
    if n == 0 || n > 4 || der.len() < 2 + n {
        return None;
    }
    let len = der[2..2 + n]
        .iter()
        .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
    Some((2 + n, len))
}

/// The whole DER element at the start of `der`, if it is a SEQUENCE.
fn sequence(der: &[u8]) -> Option<&[u8]> {
    let (h, len) = header(der)?;
    (der.first() == Some(&0x30) && der.len() >= h + len).then(|| &der[..h + len])
}

/// The `tbsCertificate` and `signatureAlgorithm` elements of a DER certificate.
fn split(cert: &[u8]) -> Option<(&[u8], &[u8])> {
    let whole = sequence(cert)?;
    if whole.len() != cert.len() {
        return None;
    }
    let (h, _) = header(whole)?;
    let tbs = sequence(&whole[h..])?;
    let algorithm = sequence(&whole[h + tbs.len()..])?;
    Some((tbs, algorithm))
}

fn push_len(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
}

/// `SEQUENCE { tbs, algorithm, BIT STRING (0 unused bits) signature }`.
fn assemble(tbs: &[u8], algorithm: &[u8], signature: &[u8]) -> Vec<u8> {
    let mut bits = vec![0x03];
    push_len(&mut bits, signature.len() + 1);
    bits.push(0);
    bits.extend_from_slice(signature);
    let content_len = tbs.len() + algorithm.len() + bits.len();
    let mut out = Vec::with_capacity(content_len + 6);
    out.push(0x30);
    push_len(&mut out, content_len);
    out.extend_from_slice(tbs);
    out.extend_from_slice(algorithm);
    out.extend(bits);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use openssl::hash::MessageDigest;
    use openssl::sign::Signer;

    #[test]
    fn a_certificate_splits_and_reassembles_to_itself() {
        let key = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
        let subject = crate::gen_cert::Subject::parse("CN=resign").unwrap();
        let cert = super::super::certificate(&key, &key, &subject, 0, 86_400).unwrap();
        let der = cert.to_der().unwrap();
        let (tbs, alg) = split(&der).unwrap();
        let sig = cert.signature().as_slice().to_vec();
        assert_eq!(assemble(tbs, alg, &sig), der);
        assert!(split(&der[..der.len() - 1]).is_none());
        assert!(split(b"\x30\x85\x01").is_none());
    }

    #[test]
    fn the_real_key_signs_what_the_stand_in_built() {
        let real = PKey::from_rsa(Rsa::generate(3072).unwrap()).unwrap();
        let public = PKey::public_key_from_der(&real.public_key_to_der().unwrap()).unwrap();
        let subject = crate::gen_cert::Subject::parse("CN=remote,O=graphd tests").unwrap();
        let cert = self_signed_for(
            &public,
            |stand_in| super::super::certificate(&public, stand_in, &subject, 0, 86_400),
            |tbs| {
                let mut s = Signer::new(MessageDigest::sha256(), &real).unwrap();
                Ok(s.sign_oneshot_to_vec(tbs).unwrap())
            },
        )
        .unwrap();
        assert!(cert.verify(&real).unwrap());
        assert!(cert.public_key().unwrap().public_eq(&real));
        // A signer that signs something else is caught.
        let wrong = self_signed_for(
            &public,
            |stand_in| super::super::certificate(&public, stand_in, &subject, 0, 86_400),
            |_| {
                let mut s = Signer::new(MessageDigest::sha256(), &real).unwrap();
                Ok(s.sign_oneshot_to_vec(b"other").unwrap())
            },
        );
        assert!(wrong.is_err());
    }
}
