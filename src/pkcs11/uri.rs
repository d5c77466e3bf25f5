//! RFC 7512 PKCS#11 URIs: `pkcs11:token=graphd;object=app-key;id=%01?module-path=...`.
//!
//! Parsed strictly (<https://www.rfc-editor.org/rfc/rfc7512>, docs/protocol.md#pkcs11): every
//! path attribute at most once (§2.3), values percent-decoded, `id` as raw bytes. An attribute
//! graphd does not understand is refused rather than ignored, since ignoring one could select
//! another key than the one meant. `pin-value` is refused: it puts the PIN in argv, where every
//! user of the machine can read it. Errors name attributes, never values. No I/O here.
//!
//! This module holds the URI's shape (scheme, path and query, each attribute once) and its
//! display; `attrs` what each attribute may hold.

mod attrs;

use std::fmt;
use std::path::{Path, PathBuf};

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_encode};

use crate::error::UriProblem;
use attrs::split_attr;

/// The scheme, compared case-insensitively (RFC 3986 §3.1).
const SCHEME: &str = "pkcs11:";

/// What a URI value keeps unencoded when graphd prints it: RFC 3986's unreserved characters
/// plus the RFC 7512 `pk11-res-avail` ones that are harmless in a shell word.
const SHOWN: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b':')
    .remove(b'@')
    .remove(b'+')
    .remove(b',');

/// The `type` attribute: which class of object the URI names (RFC 7512 §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectType {
    Public,
    Private,
    Cert,
    SecretKey,
    Data,
}

impl ObjectType {
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectType::Public => "public",
            ObjectType::Private => "private",
            ObjectType::Cert => "cert",
            ObjectType::SecretKey => "secret-key",
            ObjectType::Data => "data",
        }
    }
}

/// A parsed PKCS#11 URI. It never holds a PIN.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Uri {
    /// `token`: the token label.
    pub token: Option<String>,
    pub manufacturer: Option<String>,
    pub serial: Option<String>,
    pub model: Option<String>,
    pub library_manufacturer: Option<String>,
    pub library_description: Option<String>,
    /// `library-version`: major and minor.
    pub library_version: Option<(u8, u8)>,
    pub slot_description: Option<String>,
    pub slot_manufacturer: Option<String>,
    pub slot_id: Option<u64>,
    /// `object`: the object's label (`CKA_LABEL`).
    pub object: Option<String>,
    /// `id`: the object's `CKA_ID`, as bytes.
    pub id: Option<Vec<u8>>,
    pub kind: Option<ObjectType>,
    /// `module-path` (query).
    pub module_path: Option<PathBuf>,
    /// `pin-source` (query): a file holding the PIN.
    pub pin_source: Option<PathBuf>,
}

/// Whether `value` is meant as a PKCS#11 URI rather than a file name.
pub fn is_uri(value: &str) -> bool {
    value
        .get(..SCHEME.len())
        .is_some_and(|s| s.eq_ignore_ascii_case(SCHEME))
}

/// As [`is_uri`], for a path from the command line or a config file.
pub fn is_uri_path(path: &Path) -> bool {
    path.to_str().is_some_and(is_uri)
}

impl Uri {
    /// Parses a `pkcs11:` URI.
    pub fn parse(text: &str) -> Result<Uri, UriProblem> {
        if !is_uri(text) {
            return Err(UriProblem::NotPkcs11);
        }
        let rest = &text[SCHEME.len()..];
        if rest.contains('#') {
            return Err(UriProblem::Fragment);
        }
        let (path, query) = match rest.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (rest, None),
        };
        // Said before anything else: whatever else is wrong, the PIN is already on the
        // command line, and the user must hear that first.
        let names = path
            .split(';')
            .chain(query.into_iter().flat_map(|q| q.split('&')));
        if names
            .map(|a| a.split('=').next().unwrap_or_default())
            .any(|n| n == "pin-value")
        {
            return Err(UriProblem::PinValue);
        }
        let mut uri = Uri::default();
        let mut seen: Vec<String> = Vec::new();
        for attr in path.split(';').filter(|a| !a.is_empty()) {
            let (name, value) = split_attr(attr)?;
            if seen.iter().any(|s| s == name) {
                return Err(UriProblem::Duplicate(name.to_string()));
            }
            seen.push(name.to_string());
            uri.set_path_attr(name, value)?;
        }
        for attr in query.into_iter().flat_map(|q| q.split('&')) {
            if attr.is_empty() {
                continue;
            }
            let (name, value) = split_attr(attr)?;
            if seen.iter().any(|s| s == name) {
                return Err(UriProblem::Duplicate(name.to_string()));
            }
            seen.push(name.to_string());
            uri.set_query_attr(name, value)?;
        }
        Ok(uri)
    }

    /// Whether the URI names a token at all (any token, slot or library attribute).
    pub fn names_token(&self) -> bool {
        self.token.is_some()
            || self.manufacturer.is_some()
            || self.serial.is_some()
            || self.model.is_some()
            || self.slot_id.is_some()
            || self.slot_description.is_some()
            || self.slot_manufacturer.is_some()
    }

    /// The same URI naming an object of another class, for a certificate next to a key.
    pub fn with_kind(&self, kind: Option<ObjectType>) -> Uri {
        Uri {
            kind,
            ..self.clone()
        }
    }
}

/// The path part, canonical and percent-encoded (`pkcs11:token=graphd;object=app-key;id=%01`).
/// The query (module path, PIN file) is left out: messages show it apart.
impl fmt::Display for Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts: Vec<String> = Vec::new();
        let mut text = |name: &str, v: &Option<String>| {
            if let Some(v) = v {
                parts.push(format!("{name}={}", percent_encode(v.as_bytes(), SHOWN)));
            }
        };
        text("token", &self.token);
        text("manufacturer", &self.manufacturer);
        text("serial", &self.serial);
        text("model", &self.model);
        text("library-manufacturer", &self.library_manufacturer);
        text("library-description", &self.library_description);
        text("slot-description", &self.slot_description);
        text("slot-manufacturer", &self.slot_manufacturer);
        text("object", &self.object);
        if let Some((major, minor)) = self.library_version {
            parts.push(format!("library-version={major}.{minor}"));
        }
        if let Some(s) = self.slot_id {
            parts.push(format!("slot-id={s}"));
        }
        if let Some(id) = &self.id {
            parts.push(format!("id={}", id_text(id)));
        }
        if let Some(k) = self.kind {
            parts.push(format!("type={}", k.as_str()));
        }
        write!(f, "pkcs11:{}", parts.join(";"))
    }
}

/// An object id as a URI writes it: `%01%ab`.
pub fn id_text(id: &[u8]) -> String {
    id.iter().map(|b| format!("%{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_7512_examples_parse() {
        // RFC 7512 §3 examples (the ones graphd accepts).
        let u = Uri::parse("pkcs11:").unwrap();
        assert_eq!(u, Uri::default());
        let u = Uri::parse("pkcs11:object=my-pubkey;type=public").unwrap();
        assert_eq!(u.object.as_deref(), Some("my-pubkey"));
        assert_eq!(u.kind, Some(ObjectType::Public));
        let u = Uri::parse("pkcs11:object=my-key;type=private?pin-source=file:/etc/token").unwrap();
        assert_eq!(u.pin_source.as_deref(), Some(Path::new("/etc/token")));
        let u = Uri::parse(
            "pkcs11:token=The%20Software%20PKCS%2311%20Softtoken;manufacturer=Snake%20Oil,%20Inc.;model=1.0;object=my-certificate;type=cert;id=%69%95%3E%5C%F4%BE%2D%C1%8D%BA%A2%79%FD%0E%4E%C9%7A%5C%98%7B?pin-source=file:/etc/token_pin",
        )
        .unwrap();
        assert_eq!(u.token.as_deref(), Some("The Software PKCS#11 Softtoken"));
        assert_eq!(u.manufacturer.as_deref(), Some("Snake Oil, Inc."));
        assert_eq!(u.id.as_ref().unwrap().len(), 20);
        assert_eq!(u.id.as_ref().unwrap()[0], 0x69);
        let u = Uri::parse("pkcs11:slot-description=Sun%20Metaslot").unwrap();
        assert_eq!(u.slot_description.as_deref(), Some("Sun Metaslot"));
        let u = Uri::parse("pkcs11:library-manufacturer=Snake%20Oil,%20Inc.;library-description=Soft%20Token;library-version=1.23").unwrap();
        assert_eq!(u.library_version, Some((1, 23)));
        let u = Uri::parse(
            "pkcs11:token=A%20name%20with%20a%20substring%20%25%3B;object=my-certificate;type=cert",
        )
        .unwrap();
        assert_eq!(u.token.as_deref(), Some("A name with a substring %;"));
        let u = Uri::parse("PKCS11:slot-id=2?module-path=/usr/lib/softhsm/libsofthsm2.so").unwrap();
        assert_eq!(u.slot_id, Some(2));
        assert_eq!(
            u.module_path.as_deref(),
            Some(Path::new("/usr/lib/softhsm/libsofthsm2.so"))
        );
    }

    #[test]
    fn pin_sources() {
        for (text, path) in [
            ("pkcs11:?pin-source=file:///run/pin", "/run/pin"),
            ("pkcs11:?pin-source=file://localhost/run/pin", "/run/pin"),
            ("pkcs11:?pin-source=file:/run/pin", "/run/pin"),
            ("pkcs11:?pin-source=%2Frun%2Fmy%20pin", "/run/my pin"),
            ("pkcs11:?pin-source=pin.txt", "pin.txt"),
        ] {
            let u = Uri::parse(text).unwrap();
            assert_eq!(u.pin_source.as_deref(), Some(Path::new(path)), "{text}");
        }
        for text in [
            "pkcs11:?pin-source=|/usr/bin/getpin",
            "pkcs11:?pin-source=file://otherhost/pin",
            "pkcs11:?pin-source=https://x/pin",
            "pkcs11:?pin-source=",
        ] {
            assert!(
                matches!(Uri::parse(text), Err(UriProblem::BadValue("pin-source", _))),
                "{text}"
            );
        }
    }

    #[test]
    fn refusals_name_the_attribute_never_the_value() {
        let cases: &[(&str, UriProblem)] = &[
            ("token=x", UriProblem::NotPkcs11),
            (
                "pkcs11:token=a;token=b",
                UriProblem::Duplicate("token".into()),
            ),
            ("pkcs11:token=a?pin-value=123456", UriProblem::PinValue),
            (
                "pkcs11:token=a?pin-value=1&pin-source=f",
                UriProblem::PinValue,
            ),
            ("pkcs11:pin-value=1234", UriProblem::PinValue),
            ("pkcs11:tokn=a?pin-value=1234", UriProblem::PinValue),
            (
                "pkcs11:module-path=/m.so",
                UriProblem::QueryInPath("module-path".into()),
            ),
            ("pkcs11:x-vendor=1", UriProblem::Unknown("x-vendor".into())),
            ("pkcs11:tokn=a", UriProblem::Unknown("tokn".into())),
            ("pkcs11:?module-name=softhsm2", UriProblem::ModuleName),
            ("pkcs11:id=%0", UriProblem::BadEscape("id".into())),
            ("pkcs11:object=%ff", UriProblem::NotUtf8("object".into())),
            ("pkcs11:object", UriProblem::NotNameValue("object".into())),
            (
                "pkcs11:type=key",
                UriProblem::BadValue("type", "public, private, cert, secret-key or data"),
            ),
            (
                "pkcs11:slot-id=-1",
                UriProblem::BadValue("slot-id", "a decimal number"),
            ),
            ("pkcs11:object=a#frag", UriProblem::Fragment),
        ];
        for (text, want) in cases {
            assert_eq!(&Uri::parse(text).unwrap_err(), want, "{text}");
        }
        // A value typed where a name belongs is not repeated.
        let e = Uri::parse("pkcs11:s3cr3t%20pin=1").unwrap_err();
        assert_eq!(e, UriProblem::Unknown(String::new()));
        assert!(!e.to_string().contains("s3cr3t"));
        let e = Uri::parse("pkcs11:token=a?pin-value=hunter2").unwrap_err();
        assert!(!e.to_string().contains("hunter2"));
    }

    #[test]
    fn display_is_canonical_and_round_trips() {
        let text = "pkcs11:object=app%20key;token=graphd;id=%01%FF;type=private?module-path=/m.so";
        let u = Uri::parse(text).unwrap();
        let shown = u.to_string();
        assert_eq!(
            shown,
            "pkcs11:token=graphd;object=app%20key;id=%01%ff;type=private"
        );
        let back = Uri::parse(&shown).unwrap();
        assert_eq!(
            back,
            Uri {
                module_path: None,
                ..u
            }
        );
        assert!(is_uri("PkCs11:token=x"));
        assert!(!is_uri("pkcs11"));
        assert!(!is_uri("./pkcs11:x"));
    }
}
