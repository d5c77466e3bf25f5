//! Why a `pkcs11:` URI (RFC 7512) is refused, in words that name attributes, never their
//! values: a value may be a PIN typed where it does not belong.

use std::fmt;

/// Why a `pkcs11:` URI is refused (RFC 7512). Names attributes, never their values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UriProblem {
    NotPkcs11,
    Fragment,
    Duplicate(String),
    /// `pin-value=`: the PIN would be on the command line.
    PinValue,
    /// A query attribute (`module-path`, `pin-source`) written in the path.
    QueryInPath(String),
    /// An attribute graphd does not understand (empty when not worth repeating).
    Unknown(String),
    ModuleName,
    BadEscape(String),
    NotUtf8(String),
    NotNameValue(String),
    /// The attribute, and what its value must be.
    BadValue(&'static str, &'static str),
}

impl fmt::Display for UriProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = |n: &str| {
            if n.is_empty() {
                "an attribute".to_string()
            } else {
                format!("the attribute {n}")
            }
        };
        match self {
            UriProblem::NotPkcs11 => f.write_str("not a pkcs11: URI"),
            UriProblem::Fragment => {
                f.write_str("a PKCS#11 URI has no #fragment (write a # in a value as %23)")
            }
            UriProblem::Duplicate(n) => {
                write!(f, "{} appears twice (RFC 7512 allows each once)", name(n))
            }
            UriProblem::PinValue => f.write_str(
                "the URI holds pin-value=, which puts the token's PIN on the command line, where \
                 every user of this machine can read it (ps); graphd refuses it: give the PIN with \
                 --pin-file, --pin-stdin, GRAPHD_PKCS11_PIN or ?pin-source=file:PATH, and change \
                 the PIN, which has been exposed",
            ),
            UriProblem::QueryInPath(n) => write!(
                f,
                "{n} is a query attribute: write it after a ?, as pkcs11:...?{n}=..."
            ),
            UriProblem::Unknown(n) => write!(
                f,
                "{} is not one graphd understands (token, manufacturer, serial, model, slot-id, \
                 slot-description, slot-manufacturer, library-manufacturer, library-description, \
                 library-version, object, id, type; ?module-path=, ?pin-source=)",
                name(n)
            ),
            UriProblem::ModuleName => f.write_str(
                "module-name= is not supported: name the library file with module-path= or --pkcs11-module",
            ),
            UriProblem::BadEscape(n) => write!(
                f,
                "{} holds a % that does not start a two-digit escape such as %01",
                name(n)
            ),
            UriProblem::NotUtf8(n) => write!(f, "{} is not UTF-8 text once decoded", name(n)),
            UriProblem::NotNameValue(n) => write!(f, "{} is not NAME=VALUE", name(n)),
            UriProblem::BadValue(n, want) => write!(f, "{n} must be {want}"),
        }
    }
}
