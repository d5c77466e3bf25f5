//! Deterministic synthetic users, made from their index: the same index is the same user in
//! every run, and a million users cost no memory. JSON is written straight into the page
//! buffer, without per-user allocations.
//!
//! Ids are GUID-shaped and invertible (the first 60 bits are a bijection of the index), and
//! UPNs end with the index, so `GET /users/{id-or-upn}` is a constant-time lookup.
//!
//! A user changed since the emulator started carries its [`Revisions`]: each changed
//! property gets a new value derived from the index and its revision, still without storage.

use std::io::Write;

pub use super::props::{DEFAULT, MUTABLE, Prop, Revisions, SINGLE_ONLY};
use Prop::*;

use super::names::{DEPARTMENTS, FIRST, JOBS, LANGUAGES, LAST, PLACES};

const MASK60: u64 = (1 << 60) - 1;
const K1: u64 = 0x9E37_79B9_7F4A_7C15;
const K2: u64 = 0xBF58_476D_1CE4_E5B9;
/// XORed in after mixing, so user 0 does not get the all-zero id.
const SPREAD: u64 = 0x05A5_1D3C_9B7E_4F21 & MASK60;

/// A bijection on 60-bit values (multiply by odd constants, xor-shift).
fn mix(i: u64) -> u64 {
    let mut x = i & MASK60;
    x = x.wrapping_mul(K1) & MASK60;
    x ^= x >> 31;
    x = x.wrapping_mul(K2) & MASK60;
    x ^= x >> 29;
    x ^ SPREAD
}

const fn inverse(a: u64) -> u64 {
    // Newton's iteration for the inverse of an odd number modulo 2^64.
    let mut x = a;
    let mut i = 0;
    while i < 6 {
        x = x.wrapping_mul(2u64.wrapping_sub(a.wrapping_mul(x)));
        i += 1;
    }
    x
}

fn unxorshift(y: u64, s: u32) -> u64 {
    let mut x = y;
    for _ in 0..(60 / s + 1) {
        x = y ^ (x >> s);
    }
    x
}

fn unmix(y: u64) -> u64 {
    let mut x = unxorshift((y ^ SPREAD) & MASK60, 29);
    x = x.wrapping_mul(inverse(K2)) & MASK60;
    x = unxorshift(x, 31);
    x.wrapping_mul(inverse(K1)) & MASK60
}

/// A well-spread hash of the index, for picking attributes.
fn h(i: u64, salt: u64) -> u64 {
    let mut x = i ^ salt.wrapping_mul(0x94D0_49BB_1331_11EB);
    x = (x ^ (x >> 30)).wrapping_mul(K2);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

fn pick<T: Copy>(list: &[T], i: u64, salt: u64) -> T {
    list[(h(i, salt) % list.len() as u64) as usize]
}

/// `pick`, moved on by `rev` places: each revision differs from the one before.
fn shift<T: Copy>(list: &[T], i: u64, salt: u64, rev: u16) -> T {
    list[((h(i, salt) + u64::from(rev)) % list.len() as u64) as usize]
}

/// One synthetic user.
pub struct User<'d> {
    pub index: u64,
    first: &'static str,
    last: &'static str,
    domain: &'d str,
    seed: u64,
    revs: Revisions,
}

impl<'d> User<'d> {
    pub fn new(index: u64, domain: &'d str) -> Self {
        User {
            index,
            first: pick(FIRST, index, 1),
            last: pick(LAST, index, 2),
            domain,
            seed: h(index, 3),
            revs: Revisions::default(),
        }
    }

    /// The same user after the updates `revs` counts.
    pub fn revised(mut self, revs: Revisions) -> Self {
        self.revs = revs;
        self
    }

    /// The user's id, by index, without allocating.
    fn write_id(&self, out: &mut impl Write) {
        let a = mix(self.index);
        let b = h(self.index, 4);
        let _ = write!(
            out,
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 28,
            (a >> 12) & 0xffff,
            a & 0xfff,
            0x8000 | (b >> 48) & 0x3fff,
            b & 0xffff_ffff_ffff
        );
    }

    fn write_upn(&self, out: &mut impl Write) {
        let _ = write!(
            out,
            "{}.{}{}@{}",
            self.first, self.last, self.index, self.domain
        );
    }

    fn flag(&self, bit: u32) -> bool {
        self.seed >> bit & 1 == 1
    }

    /// The text of a string property, or `None` for null. `scratch` is reused by callers.
    pub fn text<'s>(&self, prop: Prop, scratch: &'s mut Vec<u8>) -> Option<&'s str> {
        scratch.clear();
        let place = pick(PLACES, self.index, 5);
        let rev = self.revs.of(prop);
        let s: &str = match prop {
            // A revised name gains a middle initial, as after a name change.
            DisplayName if rev > 0 => {
                let initial = char::from(b'A' + ((h(self.index, 8) + u64::from(rev)) % 26) as u8);
                let _ = write!(scratch, "{} {initial}. {}", self.first, self.last);
                return std::str::from_utf8(scratch).ok();
            }
            DisplayName => {
                let _ = write!(scratch, "{} {}", self.first, self.last);
                return std::str::from_utf8(scratch).ok();
            }
            GivenName => self.first,
            Surname => self.last,
            Id => {
                self.write_id(scratch);
                return std::str::from_utf8(scratch).ok();
            }
            UserPrincipalName | Mail => {
                self.write_upn(scratch);
                return std::str::from_utf8(scratch).ok();
            }
            MailNickname => {
                let _ = write!(scratch, "{}.{}{}", self.first, self.last, self.index);
                return std::str::from_utf8(scratch).ok();
            }
            JobTitle if rev == 0 && self.flag(7) && self.flag(8) => return None,
            JobTitle => shift(JOBS, self.index, 6, rev),
            Department => shift(DEPARTMENTS, self.index, 6, rev),
            MobilePhone if rev == 0 && !self.flag(9) => return None,
            MobilePhone => {
                let n = (self.seed + 1237 * u64::from(rev)) % 10_000;
                let _ = write!(scratch, "+1 425 555 {n:04}");
                return std::str::from_utf8(scratch).ok();
            }
            OfficeLocation if rev == 0 && self.flag(10) && self.flag(11) => return None,
            OfficeLocation => {
                let _ = write!(
                    scratch,
                    "{}/{}",
                    10 + (self.seed + u64::from(rev)) % 30,
                    1000 + (self.seed >> 16) % 3000
                );
                return std::str::from_utf8(scratch).ok();
            }
            PreferredLanguage if self.flag(12) && self.flag(13) => return None,
            PreferredLanguage => pick(LANGUAGES, self.index, 7),
            City => place.0,
            State => place.1,
            Country => place.2,
            UsageLocation => place.3,
            CompanyName => "Contoso",
            EmployeeId => {
                let _ = write!(scratch, "E{:07}", self.index);
                return std::str::from_utf8(scratch).ok();
            }
            UserType => "Member",
            BusinessPhones | AccountEnabled | CreatedDateTime => return None,
        };
        scratch.extend_from_slice(s.as_bytes());
        std::str::from_utf8(scratch).ok()
    }

    /// `accountEnabled`: one user in 17 is disabled; each update of it flips it.
    pub fn enabled(&self) -> bool {
        (self.index % 17 != 5) ^ (self.revs.of(AccountEnabled) % 2 == 1)
    }

    /// Writes `"name":value` for each property, comma-separated, into `out`.
    pub fn write_json(&self, props: &[Prop], out: &mut Vec<u8>, scratch: &mut Vec<u8>) {
        out.push(b'{');
        for (n, &p) in props.iter().enumerate() {
            if n > 0 {
                out.push(b',');
            }
            out.push(b'"');
            out.extend_from_slice(p.name().as_bytes());
            out.extend_from_slice(b"\":");
            match p {
                BusinessPhones => {
                    if self.flag(14) {
                        let _ = write!(out, "[\"+1 425 555 {:04}\"]", 100 + self.seed % 900);
                    } else {
                        out.extend_from_slice(b"[]");
                    }
                }
                AccountEnabled => {
                    out.extend_from_slice(if self.enabled() { b"true" } else { b"false" })
                }
                CreatedDateTime => {
                    let created = 1_420_070_400 + (self.seed % 300_000_000) as i64;
                    let _ = write!(out, "\"{}\"", crate::clock::rfc3339(created));
                }
                _ => match self.text(p, scratch) {
                    Some(s) => write_str(out, s),
                    None => out.extend_from_slice(b"null"),
                },
            }
        }
        out.push(b'}');
    }
}

/// A JSON string literal.
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    for &b in s.as_bytes() {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            0..=0x1f => {
                let _ = write!(out, "\\u{b:04x}");
            }
            _ => out.push(b),
        }
    }
    out.push(b'"');
}

/// The index of the user with this id, if it is one of the first `count`.
pub fn index_of_id(id: &str, count: u64, domain: &str) -> Option<u64> {
    let parts: Vec<&str> = id.split('-').collect();
    let [g1, g2, g3, _, _] = parts.as_slice() else {
        return None;
    };
    let hex = |s: &str| u64::from_str_radix(s, 16).ok();
    let a = hex(g1)? << 28 | hex(g2)? << 12 | hex(g3)? & 0xfff;
    let i = unmix(a);
    let mut buf = Vec::with_capacity(36);
    let user = User::new(i, domain);
    user.write_id(&mut buf);
    (i < count && buf.eq_ignore_ascii_case(id.as_bytes())).then_some(i)
}

/// The index of the user with this UPN (or mail), if it is one of the first `count`.
pub fn index_of_upn(upn: &str, count: u64, domain: &str) -> Option<u64> {
    let (local, _) = upn.split_once('@')?;
    let digits = local.len() - local.bytes().rev().take_while(u8::is_ascii_digit).count();
    let i: u64 = local.get(digits..)?.parse().ok()?;
    let mut buf = Vec::new();
    User::new(i, domain).write_upn(&mut buf);
    (i < count && buf.eq_ignore_ascii_case(upn.as_bytes())).then_some(i)
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "contoso.example";

    #[test]
    fn mix_is_invertible() {
        for i in [0, 1, 2, 999, 1_000_000, 123_456_789_012, MASK60] {
            assert_eq!(unmix(mix(i)), i);
        }
    }

    #[test]
    fn users_are_deterministic_and_findable() {
        let mut scratch = Vec::new();
        for i in [0u64, 1, 41, 999_999] {
            let u = User::new(i, D);
            let id = u.text(Id, &mut scratch).unwrap().to_string();
            assert!(crate::cloud::is_guid(&id), "{id}");
            assert_eq!(index_of_id(&id, 1_000_000, D), Some(i));
            assert_eq!(index_of_id(&id.to_uppercase(), 1_000_000, D), Some(i));
            assert_eq!(index_of_id(&id, i, D), None);
            let upn = u.text(UserPrincipalName, &mut scratch).unwrap().to_string();
            assert_eq!(index_of_upn(&upn, 1_000_000, D), Some(i));
            assert_eq!(index_of_upn(&upn.to_uppercase(), 1_000_000, D), Some(i));
            let mut a = Vec::new();
            let mut b = Vec::new();
            User::new(i, D).write_json(DEFAULT, &mut a, &mut scratch);
            User::new(i, D).write_json(DEFAULT, &mut b, &mut scratch);
            assert_eq!(a, b);
            let v: serde_json::Value = serde_json::from_slice(&a).unwrap();
            assert_eq!(v["id"], id.as_str());
            assert_eq!(v.as_object().unwrap().len(), DEFAULT.len());
        }
        assert_eq!(
            index_of_id("00000000-0000-4000-8000-000000000000", 10, D),
            None
        );
        assert_eq!(index_of_upn("adele.vance007@contoso.example", 10, D), None);
        assert_eq!(index_of_upn("nobody", 10, D), None);
    }

    #[test]
    fn each_revision_changes_the_value() {
        let mut scratch = Vec::new();
        for i in [0u64, 5, 77, 123_456] {
            for &p in &MUTABLE {
                let mut before = Vec::new();
                let mut revs = Revisions::default();
                User::new(i, D).write_json(&[p], &mut before, &mut scratch);
                for _ in 0..3 {
                    revs.0[p.slot().unwrap()] += 1;
                    let mut after = Vec::new();
                    User::new(i, D)
                        .revised(revs)
                        .write_json(&[p], &mut after, &mut scratch);
                    assert_ne!(before, after, "{p:?} of user {i}");
                    before = after;
                }
            }
            // The id and UPN never change, so lookups keep working.
            let revised = User::new(i, D).revised(Revisions([1; MUTABLE.len()]));
            let id = revised.text(Id, &mut scratch).unwrap().to_string();
            assert_eq!(index_of_id(&id, i + 1, D), Some(i));
        }
    }

    #[test]
    fn ids_are_unique_over_a_range() {
        let mut seen = std::collections::HashSet::new();
        let mut scratch = Vec::new();
        for i in 0..20_000 {
            assert!(seen.insert(User::new(i, D).text(Id, &mut scratch).unwrap().to_string()));
        }
    }
}
