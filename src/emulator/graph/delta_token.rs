//! The emulator's opaque delta state tokens: the `$skiptoken` of a page inside a round and
//! the `$deltatoken` that starts the next round.
//!
//! Graph encodes the round's state and the initial query options (`$select`, `$filter`) in
//! these tokens, so clients copy the links verbatim and never repeat the options
//! (<https://learn.microsoft.com/graph/delta-query-overview>, "State tokens"). The emulator
//! does the same, self-contained: no server-side state per round, so a million rounds cost
//! nothing. A per-emulator salt makes tokens of another emulator (or a restarted one) unknown
//! sync states; this is tamper-evidence for a test server, not security.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

const MAGIC: &[u8; 4] = b"GDst";
/// The longest `$select` text a token carries (Graph's own tokens grow with the query too).
pub const MAX_SELECT: usize = 2048;
/// Graph's limit on objects in a delta `$filter` (api-reference user-delta.md).
pub const MAX_IDS: usize = 50;

/// Where a round stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cursor {
    /// The initial round: the next user index to serve and the end of the round's tenant.
    Full { next: u64, end: u64 },
    /// A later round: the next change (sequence number) to look at.
    Changes { next: u64 },
    /// A finished round: a `$deltatoken`. The next round reports changes after `since`.
    Done,
}

/// A decoded state token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateToken {
    /// Issue order, for expiring or resetting tokens issued before a point.
    pub serial: u64,
    /// When it was issued (the emulator's clock), for the token lifetime.
    pub issued: i64,
    /// Changes after this sequence number belong to the round.
    pub since: u64,
    /// ... up to and including this one (the tenant's state when the round began).
    pub until: u64,
    pub cursor: Cursor,
    /// The `$select` text of the initial request, if any.
    pub select: Option<String>,
    /// The user indices of an `id eq` `$filter`, if any.
    pub ids: Option<Vec<u64>>,
}

/// Why a token could not be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unusable {
    /// Not a token of this shape at all.
    Malformed,
    /// Well-formed, but not one this emulator issued (or altered since).
    Unknown,
}

impl StateToken {
    /// The token text, bound to `salt`.
    pub fn encode(&self, salt: u64) -> String {
        let mut b = Vec::with_capacity(64);
        b.extend_from_slice(MAGIC);
        let (kind, a, z) = match self.cursor {
            Cursor::Full { next, end } => (0u8, next, end),
            Cursor::Changes { next } => (1, next, 0),
            Cursor::Done => (2, 0, 0),
        };
        b.push(kind);
        for n in [
            self.serial,
            self.issued as u64,
            self.since,
            self.until,
            a,
            z,
        ] {
            b.extend_from_slice(&n.to_be_bytes());
        }
        let select = self.select.as_deref().unwrap_or("");
        let flags = u8::from(self.select.is_some()) | u8::from(self.ids.is_some()) << 1;
        b.push(flags);
        b.extend_from_slice(&(select.len() as u16).to_be_bytes());
        b.extend_from_slice(select.as_bytes());
        let ids = self.ids.as_deref().unwrap_or(&[]);
        b.push(ids.len() as u8);
        for id in ids {
            b.extend_from_slice(&id.to_be_bytes());
        }
        let mac = fingerprint(&b, salt);
        b.extend_from_slice(&mac.to_be_bytes());
        URL_SAFE_NO_PAD.encode(b)
    }

    /// Reads a token issued by the emulator with this `salt`.
    pub fn decode(text: &str, salt: u64) -> Result<StateToken, Unusable> {
        let b = URL_SAFE_NO_PAD
            .decode(text.trim())
            .map_err(|_| Unusable::Malformed)?;
        let mut r = Reader(&b);
        if r.take(4)? != MAGIC {
            return Err(Unusable::Malformed);
        }
        let kind = r.byte()?;
        let [serial, issued, since, until, a, z] = [(); 6].map(|()| r.u64());
        let flags = r.byte()?;
        let len = usize::from(u16::from_be_bytes([r.byte()?, r.byte()?]));
        if len > MAX_SELECT {
            return Err(Unusable::Malformed);
        }
        let select = std::str::from_utf8(r.take(len)?)
            .map_err(|_| Unusable::Malformed)?
            .to_string();
        let count = usize::from(r.byte()?);
        if count > MAX_IDS {
            return Err(Unusable::Malformed);
        }
        let ids: Vec<u64> = (0..count).map(|_| r.u64()).collect::<Result<_, _>>()?;
        let body_len = b.len() - r.0.len();
        let mac = r.u64()?;
        if !r.0.is_empty() {
            return Err(Unusable::Malformed);
        }
        let cursor = match kind {
            0 => Cursor::Full { next: a?, end: z? },
            1 => Cursor::Changes { next: a? },
            2 => Cursor::Done,
            _ => return Err(Unusable::Malformed),
        };
        if mac != fingerprint(&b[..body_len], salt) {
            return Err(Unusable::Unknown);
        }
        Ok(StateToken {
            serial: serial?,
            issued: issued? as i64,
            since: since?,
            until: until?,
            cursor,
            select: (flags & 1 != 0).then_some(select),
            ids: (flags & 2 != 0).then_some(ids),
        })
    }
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], Unusable> {
        if self.0.len() < n {
            return Err(Unusable::Malformed);
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn byte(&mut self) -> Result<u8, Unusable> {
        Ok(self.take(1)?[0])
    }

    fn u64(&mut self) -> Result<u64, Unusable> {
        let mut a = [0u8; 8];
        a.copy_from_slice(self.take(8)?);
        Ok(u64::from_be_bytes(a))
    }
}

/// FNV-1a over the body, keyed by the salt.
fn fingerprint(body: &[u8], salt: u64) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ salt;
    for b in body {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(cursor: Cursor) -> StateToken {
        StateToken {
            serial: 7,
            issued: 1_700_000_000,
            since: 3,
            until: 99,
            cursor,
            select: Some("displayName,id".into()),
            ids: Some(vec![1, 2, 1_000_000]),
        }
    }

    #[test]
    fn tokens_round_trip_and_are_bound_to_the_emulator() {
        for cursor in [
            Cursor::Full { next: 5, end: 10 },
            Cursor::Changes { next: 42 },
            Cursor::Done,
        ] {
            let t = sample(cursor);
            let text = t.encode(11);
            assert!(
                text.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b))
            );
            assert_eq!(StateToken::decode(&text, 11), Ok(t.clone()));
            assert_eq!(StateToken::decode(&text, 12), Err(Unusable::Unknown));
        }
        let plain = StateToken {
            select: None,
            ids: None,
            ..sample(Cursor::Done)
        };
        assert_eq!(StateToken::decode(&plain.encode(1), 1), Ok(plain));
        // An empty $select and no $select are different queries.
        let empty = StateToken {
            select: Some(String::new()),
            ..sample(Cursor::Done)
        };
        assert_eq!(
            StateToken::decode(&empty.encode(1), 1).unwrap().select,
            Some(String::new())
        );
    }

    #[test]
    fn altered_tokens_are_refused() {
        let text = sample(Cursor::Changes { next: 42 }).encode(11);
        let mut bytes = URL_SAFE_NO_PAD.decode(&text).unwrap();
        bytes[20] ^= 1;
        assert_eq!(
            StateToken::decode(&URL_SAFE_NO_PAD.encode(&bytes), 11),
            Err(Unusable::Unknown)
        );
        for bad in ["", "garbage!", "R0RzdA", &text[..text.len() - 4]] {
            assert_eq!(
                StateToken::decode(bad, 11),
                Err(Unusable::Malformed),
                "{bad}"
            );
        }
    }
}
