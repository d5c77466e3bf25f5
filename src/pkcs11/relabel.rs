//! Renaming objects in a token, all or nothing: `graphd rotate` gives the new key pair and
//! certificate the names the user's URI selects by (`CKA_LABEL`, and `CKA_ID` when the URI
//! names an id) and the old ones a `.previous-DATE` label, with `C_SetAttributeValue`
//! (PKCS#11 v2.40 base §5.7). The specification lets `CKA_LABEL` (§4.4, storage objects) and
//! `CKA_ID` (§4.6.3 certificates, §4.7 keys) change after creation, see
//! docs/protocol.md#pkcs11.
//!
//! A token may still refuse a change (`CKA_MODIFIABLE` false, a trusted certificate, a
//! vendor's policy, `CKR_ATTRIBUTE_READ_ONLY`): then every change already made is undone, last first, so the token is
//! left as it was; what could not be undone is said, never hidden. One attribute per call,
//! so a refusal is exact. This module changes labels and ids only and destroys nothing.

use cryptoki::object::{Attribute, ObjectHandle};

use super::session::Token;
use super::uri::id_text;
use crate::error::{Error, Result};

/// Which name of an object changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attr {
    Label,
    Id,
}

impl Attr {
    fn name(self) -> &'static str {
        match self {
            Attr::Label => "CKA_LABEL",
            Attr::Id => "CKA_ID",
        }
    }

    /// A value as messages show it: a label as text, an id as a URI writes it.
    fn show(self, value: &[u8]) -> String {
        match self {
            Attr::Label => format!("'{}'", String::from_utf8_lossy(value)),
            Attr::Id if value.is_empty() => "(none)".into(),
            Attr::Id => id_text(value),
        }
    }
}

/// One change: an object's label or id, from what it is to what it becomes.
#[derive(Debug, Clone)]
pub struct Rename<H> {
    pub handle: H,
    /// How messages name the object: `the private key object=app-key;id=%01`.
    pub object: String,
    pub attr: Attr,
    pub from: Vec<u8>,
    pub to: Vec<u8>,
}

impl<H> Rename<H> {
    fn describe(&self) -> String {
        format!(
            "the {} of {} ({} to {})",
            self.attr.name(),
            self.object,
            self.attr.show(&self.from),
            self.attr.show(&self.to)
        )
    }
}

/// A refused rename, and what of the changes before it could not be undone.
#[derive(Debug)]
pub struct Refused {
    /// The change the token refused, in words.
    pub what: String,
    pub error: Error,
    /// Changes made before and not undone, in words; empty when the token is as it was.
    pub stuck: Vec<String>,
}

/// Makes every change in order with `set`; if one is refused, undoes those made before it.
pub fn apply<H: Copy>(
    renames: &[Rename<H>],
    mut set: impl FnMut(H, Attr, &[u8]) -> Result<()>,
) -> Result<(), Box<Refused>> {
    for (i, r) in renames.iter().enumerate() {
        if r.from == r.to {
            continue;
        }
        if let Err(error) = set(r.handle, r.attr, &r.to) {
            let stuck = undo(&renames[..i], &mut set);
            return Err(Box::new(Refused {
                what: r.describe(),
                error,
                stuck,
            }));
        }
    }
    Ok(())
}

/// Undoes `renames` (all of them made), last first; returns, in words, those the token would
/// not undo.
pub fn undo<H: Copy>(
    renames: &[Rename<H>],
    mut set: impl FnMut(H, Attr, &[u8]) -> Result<()>,
) -> Vec<String> {
    renames
        .iter()
        .rev()
        .filter(|r| r.from != r.to)
        .filter(|r| set(r.handle, r.attr, &r.from).is_err())
        .map(|r| {
            format!(
                "the {} of {} is still {} (was {})",
                r.attr.name(),
                r.object,
                r.attr.show(&r.to),
                r.attr.show(&r.from)
            )
        })
        .collect()
}

/// The setter for objects of `token`, which must be a read-write session.
pub fn on(token: &Token) -> impl FnMut(ObjectHandle, Attr, &[u8]) -> Result<()> + '_ {
    move |handle, attr, value| {
        let (attribute, during) = match attr {
            Attr::Label => (
                Attribute::Label(value.to_vec()),
                "renaming an object (C_SetAttributeValue, CKA_LABEL)",
            ),
            Attr::Id => (
                Attribute::Id(value.to_vec()),
                "renaming an object (C_SetAttributeValue, CKA_ID)",
            ),
        };
        token
            .session()?
            .update_attributes(handle, &[attribute])
            .map_err(|e| token.error(during, &e))
    }
}

/// An error for a test's token that refuses.
#[cfg(test)]
fn refused() -> Error {
    Error::Pkcs11(crate::error::Pkcs11Problem::Token {
        token: "'t'".into(),
        during: "renaming an object (C_SetAttributeValue, CKA_LABEL)",
        rv: "CKR_ATTRIBUTE_READ_ONLY".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A token of three objects (label, id) that refuses calls `refuse_from` to
    /// `refuse_until - 1` (counting from 1).
    struct Fake {
        objects: Vec<(Vec<u8>, Vec<u8>)>,
        calls: usize,
        refuse_from: usize,
        refuse_until: usize,
    }

    impl Fake {
        fn new(refuse_from: usize, refuse_until: usize) -> Fake {
            Fake {
                objects: vec![
                    (b"app-key".to_vec(), vec![1]),
                    (b"app-key".to_vec(), vec![1]),
                    (b"app-key.next".to_vec(), vec![9]),
                ],
                calls: 0,
                refuse_from,
                refuse_until,
            }
        }

        fn set(&mut self, h: usize, attr: Attr, value: &[u8]) -> Result<()> {
            self.calls += 1;
            if (self.refuse_from..self.refuse_until).contains(&self.calls) {
                return Err(refused());
            }
            let o = &mut self.objects[h];
            match attr {
                Attr::Label => o.0 = value.to_vec(),
                Attr::Id => o.1 = value.to_vec(),
            }
            Ok(())
        }
    }

    fn swap() -> Vec<Rename<usize>> {
        let r = |handle, attr, from: &[u8], to: &[u8]| Rename {
            handle,
            object: format!("object {handle}"),
            attr,
            from: from.to_vec(),
            to: to.to_vec(),
        };
        vec![
            r(0, Attr::Label, b"app-key", b"app-key.previous"),
            r(0, Attr::Id, &[1], &[9]),
            r(1, Attr::Label, b"app-key", b"app-key.previous"),
            r(1, Attr::Id, &[1], &[9]),
            r(2, Attr::Label, b"app-key.next", b"app-key"),
            r(2, Attr::Id, &[9], &[1]),
        ]
    }

    #[test]
    fn every_change_is_made_in_order() {
        let mut t = Fake::new(usize::MAX, usize::MAX);
        apply(&swap(), |h, a, v| t.set(h, a, v)).unwrap();
        assert_eq!(t.objects[0], (b"app-key.previous".to_vec(), vec![9]));
        assert_eq!(t.objects[2], (b"app-key".to_vec(), vec![1]));
        assert_eq!(t.calls, 6);
    }

    #[test]
    fn a_refusal_anywhere_leaves_the_token_as_it_was() {
        for refused_call in 1..=6 {
            let mut t = Fake::new(refused_call, refused_call + 1);
            let before = t.objects.clone();
            let e = apply(&swap(), |h, a, v| t.set(h, a, v)).unwrap_err();
            assert!(e.stuck.is_empty(), "{refused_call}: {:?}", e.stuck);
            assert_eq!(t.objects, before, "refused at call {refused_call}");
            // What was made is undone, one call each.
            assert_eq!(
                t.calls,
                2 * refused_call - 1,
                "refused at call {refused_call}"
            );
            assert!(e.what.starts_with("the CKA_"), "{}", e.what);
        }
        let mut t = Fake::new(4, 5);
        let e = apply(&swap(), |h, a, v| t.set(h, a, v)).unwrap_err();
        assert_eq!(
            e.what, "the CKA_ID of object 1 (%01 to %09)",
            "the refused change is named"
        );
    }

    #[test]
    fn what_cannot_be_undone_is_said() {
        // The third change is refused, and so are the undos of the two before it (calls 3 to
        // 5 fail).
        let mut t = Fake::new(3, 6);
        let e = apply(&swap(), |h, a, v| t.set(h, a, v)).unwrap_err();
        assert_eq!(
            e.stuck,
            [
                "the CKA_ID of object 0 is still %09 (was %01)",
                "the CKA_LABEL of object 0 is still 'app-key.previous' (was 'app-key')"
            ]
        );
        // A change to the same value is no change: never sent, never undone.
        let same = vec![Rename {
            handle: 0usize,
            object: "o".into(),
            attr: Attr::Id,
            from: vec![1],
            to: vec![1],
        }];
        let mut t = Fake::new(1, usize::MAX);
        apply(&same, |h, a, v| t.set(h, a, v)).unwrap();
        assert_eq!(t.calls, 0);
    }
}
