//! What step 0 looks for in the token: the objects that hold the current key pair and
//! certificate (as the user's URIs select them), and names no object has yet. Reads only.

use cryptoki::object::{Attribute, ObjectClass};
use openssl::x509::X509Ref;

use super::{Kind, Object};
use crate::credential::openssl_bug;
use crate::error::{Error, Result};
use crate::pkcs11::objects;
use crate::pkcs11::{Token, Uri};

/// The first of `""`, `.2`, `.3`... for which none of the labels `names(suffix)` is in use
/// in the token: a second rotation on the same day never reuses a name.
pub(super) fn first_free(token: &Token, names: impl Fn(&str) -> Vec<String>) -> Result<String> {
    for n in 1..1000 {
        let suffix = if n == 1 {
            String::new()
        } else {
            format!(".{n}")
        };
        let mut taken = false;
        for label in names(&suffix) {
            taken |= objects::label_in_use(token, &label)?;
        }
        if !taken {
            return Ok(suffix);
        }
    }
    Err(Error::Internal(
        "a thousand rotations of this key today already".into(),
    ))
}

/// The objects the user's URIs select that hold the current key pair and certificate: the
/// private key `key_uri` names, the public keys with its modulus, and the certificate objects
/// holding `leaf`, each named like the key (label or id) or as `cert_uri` names it.
pub(super) fn current_objects(
    token: &Token,
    key_uri: &Uri,
    cert_uri: Option<&Uri>,
    leaf: &X509Ref,
) -> Result<Vec<Object>> {
    let handles = objects::find(token, &objects::template(ObjectClass::PRIVATE_KEY, key_uri))?;
    let [handle] = handles[..] else {
        return Err(Error::Internal(
            "the current key is no longer the one object its URI names".into(),
        ));
    };
    let key = objects::key_object(token, handle)?;
    let modulus = key
        .public
        .as_ref()
        .and_then(|p| p.rsa().ok())
        .map(|r| r.n().to_vec());
    let labels = [
        Some(key.label.as_str()),
        cert_uri.and_then(|u| u.object.as_deref()),
    ];
    let ids = [
        Some(key.id.as_slice()),
        cert_uri.and_then(|u| u.id.as_deref()),
    ];
    let named = |label: &str, id: &[u8]| {
        (!label.is_empty() && labels.contains(&Some(label)))
            || (!id.is_empty() && ids.contains(&Some(id)))
    };
    let mut old = vec![Object {
        handle,
        kind: Kind::PrivateKey,
        label: key.label.clone(),
        id: key.id.clone(),
    }];
    for h in objects::find(token, &[Attribute::Class(ObjectClass::PUBLIC_KEY)])? {
        let (label, id) = objects::label_and_id(token, h)?;
        if named(&label, &id) && modulus.is_some() && objects::modulus(token, h)? == modulus {
            old.push(Object {
                handle: h,
                kind: Kind::PublicKey,
                label,
                id,
            });
        }
    }
    let leaf_der = leaf.to_der().map_err(openssl_bug)?;
    let certs = objects::certificates(token, &[Attribute::Class(ObjectClass::CERTIFICATE)])?;
    for c in certs {
        if named(&c.label, &c.id) && c.cert.to_der().map_err(openssl_bug)? == leaf_der {
            old.push(Object {
                handle: c.handle,
                kind: Kind::Certificate,
                label: c.label,
                id: c.id,
            });
        }
    }
    Ok(old)
}

/// `the private key, the public key and the certificate object=app-key;id=%01`: objects that
/// share a name (`kinds` and names, in order) are named once.
pub(super) fn describe_all(objects: &[(&str, String)]) -> String {
    let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
    for (kind, name) in objects {
        match groups.iter_mut().find(|(n, _)| n == name) {
            Some((_, kinds)) => kinds.push(kind),
            None => groups.push((name, vec![kind])),
        }
    }
    let group = |(name, kinds): &(&str, Vec<&str>)| {
        let kinds: Vec<String> = kinds.iter().map(|k| format!("the {k}")).collect();
        let kinds = match kinds.split_last() {
            Some((last, [])) => last.clone(),
            Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
            None => String::new(),
        };
        format!("{kinds} {name}")
    };
    groups.iter().map(group).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_that_share_a_name_are_named_once() {
        let o = |kind, name: &str| (kind, name.to_string());
        assert_eq!(
            describe_all(&[
                o("private key", "object=app-key;id=%01"),
                o("public key", "object=app-key;id=%01"),
                o("certificate", "object=app-key;id=%01"),
            ]),
            "the private key, the public key and the certificate object=app-key;id=%01"
        );
        assert_eq!(
            describe_all(&[
                o("private key", "object=k"),
                o("certificate", "object=c;id=%02"),
            ]),
            "the private key object=k, the certificate object=c;id=%02"
        );
        assert_eq!(super::super::base(""), "graphd");
        assert_eq!(super::super::base("app-key"), "app-key");
    }
}
