//! The PFX cost reader against files OpenSSL writes (modern and legacy), files with their
//! counts patched, BER as NSS writes it, and malformed input. (Files without a MAC or without
//! encryption come from the openssl CLI in the integration tests' fixtures.)

use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkcs12::Pkcs12;
use openssl::pkey::PKey;
use openssl::rsa::Rsa;
use openssl::x509::{X509, X509NameBuilder};

use super::*;

fn credential() -> (PKey<openssl::pkey::Private>, X509) {
    let key = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
    let mut name = X509NameBuilder::new().unwrap();
    name.append_entry_by_text("CN", "pfx cost").unwrap();
    let name = name.build();
    let mut b = X509::builder().unwrap();
    b.set_version(2).unwrap();
    b.set_subject_name(&name).unwrap();
    b.set_issuer_name(&name).unwrap();
    b.set_pubkey(&key).unwrap();
    b.sign(&key, MessageDigest::sha256()).unwrap();
    (key, b.build())
}

/// A PFX written by OpenSSL with `iter` for the key, the certificates and the MAC.
fn pfx(iter: u32, legacy: bool) -> Vec<u8> {
    let (key, cert) = credential();
    let mut b = Pkcs12::builder();
    b.name("pfx cost")
        .pkey(&key)
        .cert(&cert)
        .key_iter(iter)
        .mac_iter(iter);
    if legacy {
        assert!(
            crate::credential::ensure_legacy_provider(),
            "RC2 needs the legacy provider"
        );
        b.key_algorithm(Nid::PBE_WITHSHA1AND3_KEY_TRIPLEDES_CBC)
            .cert_algorithm(Nid::PBE_WITHSHA1AND40BITRC2_CBC)
            .mac_md(MessageDigest::sha1());
    }
    b.build2("pw").unwrap().to_der().unwrap()
}

/// `der` with every INTEGER whose encoding is `from` (same length) replaced by `to`.
fn patched(der: &[u8], from: &[u8], to: &[u8]) -> (Vec<u8>, usize) {
    assert_eq!(from.len(), to.len());
    let mut out = der.to_vec();
    let mut n = 0;
    let mut i = 0;
    while i + from.len() <= out.len() {
        if out[i..i + from.len()] == *from {
            out[i..i + from.len()].copy_from_slice(to);
            n += 1;
            i += from.len();
        } else {
            i += 1;
        }
    }
    (out, n)
}

#[test]
fn reads_every_count_openssl_writes() {
    // 0x010002 = 65538: one MAC, the certificates' encryption, the key's encryption.
    for legacy in [false, true] {
        let der = pfx(65_538, legacy);
        assert_eq!(
            check(&der).unwrap(),
            Cost {
                largest: 65_538,
                total: 3 * 65_538
            },
            "legacy: {legacy}"
        );
    }
    // OpenSSL's default count.
    assert_eq!(check(&pfx(2048, false)).unwrap().largest, 2048);
}

#[test]
fn refuses_an_absurd_count_wherever_it_is() {
    let der = pfx(65_538, false);
    let (_, n) = patched(
        &der,
        &[0x02, 0x03, 0x01, 0x00, 0x02],
        &[0x02, 0x03, 0x01, 0x00, 0x02],
    );
    assert_eq!(n, 3, "the MAC, the certificates' and the key's counts");
    // Patch each occurrence alone to 8,388,607: each one is read and refused.
    let positions: Vec<usize> = der
        .windows(5)
        .enumerate()
        .filter(|(_, w)| *w == [0x02, 0x03, 0x01, 0x00, 0x02])
        .map(|(i, _)| i)
        .collect();
    for at in positions {
        let mut one = der.clone();
        one[at + 2..at + 5].copy_from_slice(&[0x7f, 0xff, 0xff]);
        assert_eq!(
            check(&one),
            Err(CredentialProblem::PfxTooCostly {
                iterations: 8_388_607,
                total: false
            }),
            "patched at {at}"
        );
    }
    // Each within bounds, the sum not: 3 x 999,999 > 2,000,000.
    let (many, _) = patched(
        &der,
        &[0x02, 0x03, 0x01, 0x00, 0x02],
        &[0x02, 0x03, 0x0f, 0x42, 0x3f],
    );
    assert_eq!(
        check(&many),
        Err(CredentialProblem::PfxTooCostly {
            iterations: 2_999_997,
            total: true
        })
    );
}

/// BER as NSS writes it: indefinite lengths, constructed OCTET STRINGs split in pieces.
fn to_ber(der: &[u8]) -> Vec<u8> {
    fn convert(input: &[u8], out: &mut Vec<u8>) {
        let mut at = input;
        while !at.is_empty() {
            let (t, rest) = tlv(at, 0).unwrap();
            let constructed = t.tag & 0x20 != 0;
            if t.tag == OCTETS && t.contents.len() > 16 {
                // A primitive OCTET STRING becomes constructed, in two segments; its contents
                // (which may be DER themselves) are converted too when they parse.
                let mut inner = Vec::new();
                if tlv(t.contents, 0)
                    .is_some_and(|(x, r)| x.whole.len() == t.contents.len() && r.is_empty())
                {
                    convert(t.contents, &mut inner);
                } else {
                    inner.extend_from_slice(t.contents);
                }
                let half = inner.len() / 2;
                out.extend_from_slice(&[OCTETS_CONSTRUCTED, 0x80]);
                for piece in [&inner[..half], &inner[half..]] {
                    out.push(OCTETS);
                    push_len(out, piece.len());
                    out.extend_from_slice(piece);
                }
                out.extend_from_slice(&[0, 0]);
            } else if constructed {
                out.extend_from_slice(&[t.tag, 0x80]);
                convert(t.contents, out);
                out.extend_from_slice(&[0, 0]);
            } else {
                out.extend_from_slice(t.whole);
            }
            at = rest;
        }
    }
    fn push_len(out: &mut Vec<u8>, len: usize) {
        if len < 0x80 {
            out.push(len as u8);
        } else {
            let bytes = (len as u32).to_be_bytes();
            let skip = bytes.iter().position(|b| *b != 0).unwrap();
            out.push(0x80 | (4 - skip) as u8);
            out.extend_from_slice(&bytes[skip..]);
        }
    }
    let mut out = Vec::new();
    convert(der, &mut out);
    out
}

#[test]
fn reads_ber_as_nss_writes_it() {
    let der = pfx(65_538, false);
    let ber = to_ber(&der);
    assert_ne!(ber, der);
    assert_eq!(ber[..2], [SEQUENCE, 0x80], "indefinite length at the top");
    // OpenSSL reads it as well (its parser takes BER).
    assert!(Pkcs12::from_der(&ber).is_ok());
    assert_eq!(check(&ber).unwrap().total, 3 * 65_538);
    let mut one = ber.clone();
    let at = one
        .windows(5)
        .position(|w| w == [0x02, 0x03, 0x01, 0x00, 0x02])
        .unwrap();
    one[at + 2..at + 5].copy_from_slice(&[0x7f, 0xff, 0xff]);
    assert!(matches!(
        check(&one),
        Err(CredentialProblem::PfxTooCostly { .. })
    ));
}

#[test]
fn unreadable_structure_is_refused_not_skipped() {
    let der = pfx(2048, false);
    for cut in [1, 2, 10, der.len() / 2, der.len() - 1] {
        assert_eq!(
            check(&der[..cut]),
            Err(CredentialProblem::CorruptPfx),
            "cut {cut}"
        );
    }
    assert_eq!(check(b""), Err(CredentialProblem::CorruptPfx));
    // Nesting past the limit (indefinite-length SEQUENCEs inside each other).
    let mut deep = Vec::new();
    for _ in 0..100 {
        deep.extend_from_slice(&[SEQUENCE, 0x80]);
    }
    for _ in 0..100 {
        deep.extend_from_slice(&[0, 0]);
    }
    assert_eq!(check(&deep), Err(CredentialProblem::CorruptPfx));
    // An INTEGER too large for 64 bits counts as over any limit.
    let t = Tlv {
        tag: INTEGER,
        contents: &[0x01, 0, 0, 0, 0, 0, 0, 0, 0],
        whole: &[],
    };
    assert_eq!(integer(&t), u64::MAX);
    let negative = Tlv {
        tag: INTEGER,
        contents: &[0xff],
        whole: &[],
    };
    assert_eq!(integer(&negative), u64::MAX);
}
