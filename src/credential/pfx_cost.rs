//! How much key derivation a PFX asks for, read from its structure before OpenSSL derives a
//! single key: the MAC's iteration count, and that of every password-based encryption in
//! sight (the encrypted parts of the authenticated safe, each shrouded key bag), whatever
//! their scheme (PKCS#12 PBE, PBES1, PBES2 with PBKDF2, PBMAC1).
//!
//! OpenSSL has no knob for this: `PKCS12_parse` runs whatever count the file holds, and a PFX
//! patched to 2^31 iterations burns ten minutes of CPU per open. The limits:
//!
//! - [`MAX_EACH`], 1,000,000 per derivation: ten times the largest count a common tool writes
//!   by default (Java keytool's former MAC default, 100,000; keytool now writes 10,000,
//!   OpenSSL's `pkcs12 -export` 2,048, Windows' export a few thousand) and above .NET's own
//!   loader limit of 300,000 (`Pkcs12LoaderLimits`), so whatever .NET opens, graphd opens;
//!   Java itself refuses more than 5,000,000.
//! - [`MAX_TOTAL`], 2,000,000 summed over the file (.NET: 1,000,000): about a second of
//!   PBKDF2 on a small machine, where 2^31 is ten minutes.
//!
//! The reader is bounded: BER as OpenSSL accepts it (indefinite lengths and constructed
//! OCTET STRINGs included, as NSS writes them), at most [`MAX_DEPTH`] levels, never more
//! bytes than the file has. It walks only the structure around the counts and decrypts
//! nothing: a key bag inside an encrypted part is out of its sight (SECURITY.md says so).
//! Whatever it cannot read is refused as a corrupt PFX; it never holds or shows file
//! contents.

use zeroize::Zeroizing;

use crate::error::CredentialProblem;

/// The most iterations one key derivation (or the MAC) may ask for.
pub const MAX_EACH: u64 = 1_000_000;
/// The most iterations all of a file's derivations may ask for together.
pub const MAX_TOTAL: u64 = 2_000_000;
/// Nesting deeper than any real PFX (OpenSSL's own ASN.1 limit is 30).
const MAX_DEPTH: usize = 24;

const SEQUENCE: u8 = 0x30;
const INTEGER: u8 = 0x02;
const OID: u8 = 0x06;
const OCTETS: u8 = 0x04;
const OCTETS_CONSTRUCTED: u8 = 0x24;
/// `[0]` constructed: an EXPLICIT content.
const CONTEXT_0: u8 = 0xa0;

// Object identifiers, as their DER contents bytes.
/// id-data, 1.2.840.113549.1.7.1 (RFC 2315).
const ID_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01];
/// id-encryptedData, 1.2.840.113549.1.7.6.
const ID_ENCRYPTED_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x06];
/// pkcs-12 bag types, 1.2.840.113549.1.12.10.1.x (RFC 7292 §4.2): 2 shrouded key, 6 nested.
const BAG_PREFIX: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x0c, 0x0a, 0x01];
/// pkcs-12 PBE ids, 1.2.840.113549.1.12.1.x (RFC 7292 Appendix C).
const PKCS12_PBE_PREFIX: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x0c, 0x01];
/// PKCS #5 ids, 1.2.840.113549.1.5.x (RFC 8018 Appendix A).
const PKCS5_PREFIX: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05];
const PBKDF2: u8 = 12;
const PBES2: u8 = 13;
const PBMAC1: u8 = 14;
/// PBES1 schemes (pbeWithMD2AndDES-CBC ... pbeWithSHA1AndRC2-CBC).
const PBES1: [u8; 6] = [1, 3, 4, 6, 10, 11];

/// The iteration counts a PFX asks for: the largest one and their sum.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cost {
    pub largest: u64,
    pub total: u64,
}

impl Cost {
    fn add(&mut self, iterations: u64) {
        self.largest = self.largest.max(iterations);
        self.total = self.total.saturating_add(iterations);
    }
}

/// Reads what `der` (a PFX that OpenSSL's outer parse accepted) asks for, and refuses what
/// is over the limits or cannot be read.
pub fn check(der: &[u8]) -> Result<Cost, CredentialProblem> {
    let cost = measure(der).ok_or(CredentialProblem::CorruptPfx)?;
    if cost.largest > MAX_EACH || cost.total > MAX_TOTAL {
        return Err(CredentialProblem::PfxTooCostly {
            iterations: if cost.largest > MAX_EACH {
                cost.largest
            } else {
                cost.total
            },
            total: cost.largest <= MAX_EACH,
        });
    }
    Ok(cost)
}

/// The counts, or `None` when the structure cannot be read.
fn measure(der: &[u8]) -> Option<Cost> {
    let mut cost = Cost::default();
    let pfx = expect(der, SEQUENCE, 0)?;
    let mut parts = children(&pfx, 0)?.into_iter();
    expect_tlv(parts.next()?, INTEGER)?;
    let auth_safe = expect_tlv(parts.next()?, SEQUENCE)?;
    if let Some(mac_data) = parts.next() {
        mac(&expect_tlv(mac_data, SEQUENCE)?, &mut cost)?;
    }
    authenticated_safe(&auth_safe, &mut cost)?;
    Some(cost)
}

/// MacData: `mac DigestInfo, macSalt OCTET STRING, iterations INTEGER DEFAULT 1` (RFC 7292
/// §4), the DigestInfo's algorithm possibly PBMAC1 with PBKDF2 inside (RFC 9579).
fn mac(mac_data: &Tlv<'_>, cost: &mut Cost) -> Option<()> {
    let fields = children(mac_data, 1)?;
    let digest_info = expect_tlv(fields.first()?.clone(), SEQUENCE)?;
    let algorithm = expect_tlv(children(&digest_info, 2)?.first()?.clone(), SEQUENCE)?;
    if let Some((oid, params)) = algorithm_parts(&algorithm, 3)?
        && pkcs5(oid) == Some(PBMAC1)
    {
        let kdf = expect_tlv(children(&params?, 4)?.first()?.clone(), SEQUENCE)?;
        key_derivation(&kdf, cost, 5)?;
    }
    let iterations = match fields.get(2) {
        Some(t) => integer(&expect_tlv(t.clone(), INTEGER)?),
        None => 1,
    };
    cost.add(iterations);
    Some(())
}

/// The authSafe ContentInfo: `id-data` holding an AuthenticatedSafe, a SEQUENCE OF
/// ContentInfo, each plain data (SafeContents) or encrypted data. Any other type (public-key
/// integrity or privacy mode) is one OpenSSL refuses before deriving anything.
fn authenticated_safe(content_info: &Tlv<'_>, cost: &mut Cost) -> Option<()> {
    let Some(safe) = data_content(content_info, 1)? else {
        return Some(());
    };
    let safe = expect(&safe, SEQUENCE, 2)?;
    for part in children(&safe, 2)? {
        let part = expect_tlv(part, SEQUENCE)?;
        let fields = children(&part, 3)?;
        let kind = expect_tlv(fields.first()?.clone(), OID)?;
        if kind.contents == ID_DATA {
            if let Some(contents) = data_content(&part, 3)? {
                safe_contents(&contents, cost, 4)?;
            }
        } else if kind.contents == ID_ENCRYPTED_DATA {
            // EncryptedData: version, EncryptedContentInfo { type, algorithm, [0] content }.
            let explicit = expect_tlv(fields.get(1)?.clone(), CONTEXT_0)?;
            let encrypted = expect_tlv(children(&explicit, 4)?.first()?.clone(), SEQUENCE)?;
            let info = expect_tlv(children(&encrypted, 5)?.get(1)?.clone(), SEQUENCE)?;
            let algorithm = expect_tlv(children(&info, 6)?.get(1)?.clone(), SEQUENCE)?;
            encryption(&algorithm, cost, 7)?;
        }
    }
    Some(())
}

/// The OCTET STRING content of an `id-data` ContentInfo; `None` inside when it is another type.
fn data_content(content_info: &Tlv<'_>, depth: usize) -> Option<Option<Zeroizing<Vec<u8>>>> {
    let fields = children(content_info, depth)?;
    let kind = expect_tlv(fields.first()?.clone(), OID)?;
    if kind.contents != ID_DATA {
        return Some(None);
    }
    let explicit = expect_tlv(fields.get(1)?.clone(), CONTEXT_0)?;
    let octets = children(&explicit, depth + 1)?.into_iter().next()?;
    Some(Some(octet_string(&octets, depth + 2)?))
}

/// SafeContents: SEQUENCE OF SafeBag `{ bagId, [0] bagValue, attributes }`; a shrouded key
/// bag's EncryptedPrivateKeyInfo names its encryption, a nested SafeContents bag recurses.
fn safe_contents(bytes: &[u8], cost: &mut Cost, depth: usize) -> Option<()> {
    let sequence = expect(bytes, SEQUENCE, depth)?;
    for bag in children(&sequence, depth)? {
        let bag = expect_tlv(bag, SEQUENCE)?;
        let fields = children(&bag, depth + 1)?;
        let id = expect_tlv(fields.first()?.clone(), OID)?;
        let Some(kind) = id.contents.strip_prefix(BAG_PREFIX) else {
            continue;
        };
        let value = || -> Option<Tlv<'_>> {
            let explicit = expect_tlv(fields.get(1)?.clone(), CONTEXT_0)?;
            children(&explicit, depth + 2)?.into_iter().next()
        };
        match kind {
            [2] => {
                let info = expect_tlv(value()?, SEQUENCE)?;
                let algorithm = expect_tlv(children(&info, depth + 3)?.first()?.clone(), SEQUENCE)?;
                encryption(&algorithm, cost, depth + 4)?;
            }
            [6] => safe_contents(value()?.whole, cost, depth + 3)?,
            _ => {}
        }
    }
    Some(())
}

/// A password-based encryption AlgorithmIdentifier: PKCS#12 PBE and PBES1 carry
/// `{ salt, iterations }`, PBES2 a key derivation (PBKDF2) and a cipher. Anything else is
/// no password-based scheme OpenSSL knows: it derives nothing for it.
fn encryption(algorithm: &Tlv<'_>, cost: &mut Cost, depth: usize) -> Option<()> {
    let Some((oid, params)) = algorithm_parts(algorithm, depth)? else {
        return Some(());
    };
    let pbes1 = pkcs5(oid).is_some_and(|n| PBES1.contains(&n));
    if oid.starts_with(PKCS12_PBE_PREFIX) || pbes1 {
        let params = params?;
        let fields = children(&params, depth + 1)?;
        cost.add(integer(&expect_tlv(fields.get(1)?.clone(), INTEGER)?));
    } else if pkcs5(oid) == Some(PBES2) {
        let params = params?;
        let kdf = expect_tlv(children(&params, depth + 1)?.first()?.clone(), SEQUENCE)?;
        key_derivation(&kdf, cost, depth + 2)?;
    }
    Some(())
}

/// PBES2's and PBMAC1's key derivation: PBKDF2 `{ salt, iterationCount, ... }` (RFC 8018
/// §A.2). Any other (scrypt) is not bounded here, so it is not read: `None`.
fn key_derivation(kdf: &Tlv<'_>, cost: &mut Cost, depth: usize) -> Option<()> {
    let (oid, params) = algorithm_parts(kdf, depth)??;
    if pkcs5(oid) != Some(PBKDF2) {
        return None;
    }
    let fields = children(&params?, depth + 1)?;
    cost.add(integer(&expect_tlv(fields.get(1)?.clone(), INTEGER)?));
    Some(())
}

/// An AlgorithmIdentifier's OID and parameters (if any); `Some(None)` when there is no OID.
fn algorithm_parts<'a>(
    algorithm: &Tlv<'a>,
    depth: usize,
) -> Option<Option<(&'a [u8], Option<Tlv<'a>>)>> {
    let mut fields = children(algorithm, depth)?.into_iter();
    let Some(oid) = fields.next() else {
        return Some(None);
    };
    let oid = expect_tlv(oid, OID)?;
    Some(Some((oid.contents, fields.next())))
}

/// The last arc of a PKCS #5 OID.
fn pkcs5(oid: &[u8]) -> Option<u8> {
    match oid.strip_prefix(PKCS5_PREFIX) {
        Some([n]) => Some(*n),
        _ => None,
    }
}

/// A non-negative INTEGER's value; anything that does not fit (or is negative) counts as
/// more than any limit.
fn integer(tlv: &Tlv<'_>) -> u64 {
    let bytes = tlv.contents;
    if bytes.first().is_some_and(|b| b & 0x80 != 0) {
        return u64::MAX;
    }
    let bytes = match bytes.iter().position(|b| *b != 0) {
        Some(i) => &bytes[i..],
        None => return 0,
    };
    if bytes.len() > 8 {
        return u64::MAX;
    }
    bytes.iter().fold(0, |n, b| (n << 8) | u64::from(*b))
}

/// One BER TLV. For an indefinite length, `contents` runs up to (without) the end-of-contents
/// octets and `whole` includes them.
#[derive(Clone)]
struct Tlv<'a> {
    tag: u8,
    contents: &'a [u8],
    whole: &'a [u8],
}

/// The TLV at the start of `input`, and what follows it.
fn tlv(input: &[u8], depth: usize) -> Option<(Tlv<'_>, &[u8])> {
    if depth > MAX_DEPTH {
        return None;
    }
    let (&tag, after_tag) = input.split_first()?;
    if tag & 0x1f == 0x1f {
        return None; // high tag numbers appear nowhere in PKCS#12
    }
    let (&first, mut at) = after_tag.split_first()?;
    let header = |rest: &[u8]| input.len() - rest.len();
    if first == 0x80 {
        // Indefinite: constructed only; the contents are TLVs up to `00 00`.
        if tag & 0x20 == 0 {
            return None;
        }
        let start = header(at);
        loop {
            if at.starts_with(&[0, 0]) {
                let end = header(at);
                return Some((
                    Tlv {
                        tag,
                        contents: &input[start..end],
                        whole: &input[..end + 2],
                    },
                    &at[2..],
                ));
            }
            let (_, rest) = tlv(at, depth + 1)?;
            at = rest;
        }
    }
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let n = usize::from(first & 0x7f);
        if n > 4 {
            return None;
        }
        let (bytes, rest) = (at.get(..n)?, at.get(n..)?);
        at = rest;
        bytes
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b))
    };
    let start = header(at);
    let contents = at.get(..len)?;
    Some((
        Tlv {
            tag,
            contents,
            whole: &input[..start + len],
        },
        &at[len..],
    ))
}

/// The TLV at the start of `input` if its tag is `tag`.
fn expect(input: &[u8], tag: u8, depth: usize) -> Option<Tlv<'_>> {
    tlv(input, depth).map(|(t, _)| t).filter(|t| t.tag == tag)
}

fn expect_tlv(t: Tlv<'_>, tag: u8) -> Option<Tlv<'_>> {
    (t.tag == tag).then_some(t)
}

/// The TLVs inside a constructed TLV.
fn children<'a>(parent: &Tlv<'a>, depth: usize) -> Option<Vec<Tlv<'a>>> {
    if parent.tag & 0x20 == 0 {
        return None;
    }
    let mut out = Vec::new();
    let mut at = parent.contents;
    while !at.is_empty() {
        let (child, rest) = tlv(at, depth + 1)?;
        out.push(child);
        at = rest;
    }
    Some(out)
}

/// An OCTET STRING's bytes: primitive as is, constructed (BER) as its segments joined, in
/// zeroizing memory sized once (a plain key bag's key may be among them).
fn octet_string(t: &Tlv<'_>, depth: usize) -> Option<Zeroizing<Vec<u8>>> {
    let mut out = Zeroizing::new(Vec::with_capacity(t.contents.len()));
    append_octets(t, &mut out, depth)?;
    Some(out)
}

/// Appends the bytes of OCTET STRING `t` to `out`: the segments of a constructed one are no
/// longer together than its contents, so `out` never grows past its first allocation.
fn append_octets(t: &Tlv<'_>, out: &mut Vec<u8>, depth: usize) -> Option<()> {
    match t.tag {
        OCTETS => out.extend_from_slice(t.contents),
        OCTETS_CONSTRUCTED => {
            for part in children(t, depth)? {
                append_octets(&part, out, depth + 1)?;
            }
        }
        _ => return None,
    }
    Some(())
}

#[cfg(test)]
mod tests;
