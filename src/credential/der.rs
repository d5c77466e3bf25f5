//! Just enough DER to read a certificate's issuer, subject and validity without OpenSSL.
//!
//! The token cache lookup needs the certificate's thumbprint and whether it is valid now, and
//! nothing else; OpenSSL 3 spends more on initialising itself and on building a decoder for
//! the public key than the rest of a cache hit costs. This walks the outer structure of an
//! X.509 certificate (RFC 5280 §4.1) and returns slices of the input: it never allocates,
//! never recurses, and refuses anything that is not definite-length DER. Whatever it cannot
//! read, the full OpenSSL load reads (and explains).

/// The parts of a certificate the cache lookup needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CertInfo<'a> {
    /// The DER of the issuer `Name` (tag and length included), for chain order.
    pub issuer: &'a [u8],
    /// The DER of the subject `Name`.
    pub subject: &'a [u8],
    /// Unix seconds.
    pub not_before: i64,
    pub not_after: i64,
}

const SEQUENCE: u8 = 0x30;
const INTEGER: u8 = 0x02;
const UTC_TIME: u8 = 0x17;
const GENERALIZED_TIME: u8 = 0x18;
/// `[0] EXPLICIT` (constructed, context-specific 0): the version.
const VERSION: u8 = 0xa0;

/// One TLV: its tag, its contents, the whole encoding, and what follows it.
struct Tlv<'a> {
    tag: u8,
    contents: &'a [u8],
    whole: &'a [u8],
    rest: &'a [u8],
}

fn tlv(input: &[u8]) -> Option<Tlv<'_>> {
    let (&tag, after_tag) = input.split_first()?;
    if tag & 0x1f == 0x1f {
        return None; // high tag numbers never appear where we look
    }
    let (&first, mut after_len) = after_tag.split_first()?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return None; // indefinite length (BER) or absurd
        }
        let (bytes, rest) = (after_len.get(..n)?, after_len.get(n..)?);
        after_len = rest;
        bytes
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b))
    };
    let header = input.len() - after_len.len();
    let contents = after_len.get(..len)?;
    Some(Tlv {
        tag,
        contents,
        whole: input.get(..header + len)?,
        rest: after_len.get(len..)?,
    })
}

fn expect(input: &[u8], tag: u8) -> Option<Tlv<'_>> {
    tlv(input).filter(|t| t.tag == tag)
}

/// Reads issuer, subject and validity from a DER certificate.
pub fn cert_info(der: &[u8]) -> Option<CertInfo<'_>> {
    let cert = expect(der, SEQUENCE)?;
    let tbs = expect(cert.contents, SEQUENCE)?;
    let mut at = tbs.contents;
    if let Some(version) = expect(at, VERSION) {
        at = version.rest;
    }
    let serial = expect(at, INTEGER)?;
    let signature = expect(serial.rest, SEQUENCE)?;
    let issuer = expect(signature.rest, SEQUENCE)?;
    let validity = expect(issuer.rest, SEQUENCE)?;
    let subject = expect(validity.rest, SEQUENCE)?;
    let not_before = tlv(validity.contents)?;
    let not_after = tlv(not_before.rest)?;
    Some(CertInfo {
        issuer: issuer.whole,
        subject: subject.whole,
        not_before: time(not_before.tag, not_before.contents)?,
        not_after: time(not_after.tag, not_after.contents)?,
    })
}

/// An X.509 `Time`: UTCTime `YYMMDDHHMMSSZ` (years 1950-2049) or GeneralizedTime
/// `YYYYMMDDHHMMSSZ` (RFC 5280 §4.1.2.5), as unix seconds.
fn time(tag: u8, text: &[u8]) -> Option<i64> {
    let digits = |s: &[u8]| -> Option<i64> {
        s.iter().try_fold(0i64, |acc, c| {
            c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0'))
        })
    };
    let (year, rest) = match (tag, text.len()) {
        (UTC_TIME, 13) => {
            let yy = digits(&text[..2])?;
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, &text[2..])
        }
        (GENERALIZED_TIME, 15) => (digits(&text[..4])?, &text[4..]),
        _ => return None,
    };
    if rest.last() != Some(&b'Z') {
        return None;
    }
    let field = |i: usize| digits(&rest[i..i + 2]);
    let (month, day) = (field(0)?, field(2)?);
    let (hour, minute, second) = (field(4)?, field(6)?, field(8)?);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    let days = crate::clock::days_from_civil(year, month as u32, day as u32);
    Some(days * 86_400 + hour * 3600 + minute * 60 + second)
}

#[cfg(test)]
mod tests {
    use openssl::asn1::Asn1Time;
    use openssl::hash::MessageDigest;
    use openssl::pkey::PKey;
    use openssl::rsa::Rsa;
    use openssl::x509::{X509, X509NameBuilder};

    use super::*;

    fn cert(not_before: &Asn1Time, not_after: &Asn1Time) -> X509 {
        let key = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
        let mut name = X509NameBuilder::new().unwrap();
        name.append_entry_by_text("CN", "der test").unwrap();
        let name = name.build();
        let mut b = X509::builder().unwrap();
        b.set_version(2).unwrap();
        b.set_subject_name(&name).unwrap();
        b.set_issuer_name(&name).unwrap();
        b.set_pubkey(&key).unwrap();
        b.set_not_before(not_before).unwrap();
        b.set_not_after(not_after).unwrap();
        b.sign(&key, MessageDigest::sha256()).unwrap();
        b.build()
    }

    #[test]
    fn agrees_with_openssl() {
        // UTCTime before 2050, GeneralizedTime from 2050 on (RFC 5280's rule, as OpenSSL writes).
        for (nb, na) in [
            (1_700_000_000, 1_731_536_000),
            (0, 2_524_608_000),
            (946_684_799, 4_102_444_799),
        ] {
            let c = cert(
                &Asn1Time::from_unix(nb).unwrap(),
                &Asn1Time::from_unix(na).unwrap(),
            );
            let der = c.to_der().unwrap();
            let info = cert_info(&der).expect("readable");
            assert_eq!((info.not_before, info.not_after), (nb, na));
            assert_eq!(info.subject, c.subject_name().to_der().unwrap().as_slice());
            assert_eq!(info.issuer, info.subject, "self-signed");
        }
    }

    #[test]
    fn refuses_what_is_not_der() {
        let c = cert(
            &Asn1Time::days_from_now(0).unwrap(),
            &Asn1Time::days_from_now(1).unwrap(),
        );
        let der = c.to_der().unwrap();
        for cut in [0, 1, 2, 10, der.len() / 2, der.len() - 1] {
            // A truncated outer SEQUENCE is refused (its length runs past the end).
            assert!(cert_info(&der[..cut]).is_none(), "cut at {cut}");
        }
        assert!(
            cert_info(b"\x30\x80\x00\x00").is_none(),
            "indefinite length"
        );
        assert!(cert_info(b"").is_none());
        assert!(time(UTC_TIME, b"491231235959Z").is_some());
        assert!(time(UTC_TIME, b"4912312359Z").is_none());
        assert!(time(UTC_TIME, b"491331235959Z").is_none());
        assert_eq!(time(UTC_TIME, b"500101000000Z"), Some(-631_152_000));
    }
}
