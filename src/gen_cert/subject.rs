//! The `--subject` of a new certificate: `CN=x,O=y` (the form az, PowerShell and the portal
//! show) or `/CN=x/O=y` (the form `openssl req -subj` takes), parsed strictly.
//!
//! The attributes are kept in the order written; `\` escapes the next character (`\,` in the
//! comma form, `\/` in the slash form). Everything OpenSSL would refuse later is refused here
//! with a reason, because clap turns the error into a usage error before anything runs.

use std::fmt;

use openssl::nid::Nid;
use openssl::x509::{X509Name, X509NameBuilder};

/// How a value of one attribute may be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Charset {
    /// UTF-8 text.
    Any,
    /// IA5String: ASCII.
    Ascii,
    /// PrintableString: letters, digits, space and `'()+,-./:=?`.
    Printable,
}

#[derive(Debug)]
struct Attr {
    label: &'static str,
    /// Other spellings accepted on input (compared case-insensitively, as is `label`).
    aliases: &'static [&'static str],
    nid: Nid,
    /// The X.520 / RFC 5280 upper bound, in characters (as OpenSSL's string table enforces).
    max: usize,
    charset: Charset,
}

const ATTRS: &[Attr] = &[
    Attr {
        label: "CN",
        aliases: &["commonName"],
        nid: Nid::COMMONNAME,
        max: 64,
        charset: Charset::Any,
    },
    Attr {
        label: "O",
        aliases: &["organizationName"],
        nid: Nid::ORGANIZATIONNAME,
        max: 64,
        charset: Charset::Any,
    },
    Attr {
        label: "OU",
        aliases: &["organizationalUnitName"],
        nid: Nid::ORGANIZATIONALUNITNAME,
        max: 64,
        charset: Charset::Any,
    },
    Attr {
        label: "L",
        aliases: &["localityName"],
        nid: Nid::LOCALITYNAME,
        max: 128,
        charset: Charset::Any,
    },
    Attr {
        label: "ST",
        aliases: &["S", "stateOrProvinceName"],
        nid: Nid::STATEORPROVINCENAME,
        max: 128,
        charset: Charset::Any,
    },
    Attr {
        label: "C",
        aliases: &["countryName"],
        nid: Nid::COUNTRYNAME,
        max: 2,
        charset: Charset::Printable,
    },
    Attr {
        label: "STREET",
        aliases: &["streetAddress"],
        nid: Nid::STREETADDRESS,
        max: 128,
        charset: Charset::Any,
    },
    Attr {
        label: "DC",
        aliases: &["domainComponent"],
        nid: Nid::DOMAINCOMPONENT,
        max: 63,
        charset: Charset::Ascii,
    },
    Attr {
        label: "emailAddress",
        aliases: &["E", "email"],
        nid: Nid::PKCS9_EMAILADDRESS,
        max: 128,
        charset: Charset::Ascii,
    },
    Attr {
        label: "serialNumber",
        aliases: &[],
        nid: Nid::SERIALNUMBER,
        max: 64,
        charset: Charset::Printable,
    },
    Attr {
        label: "title",
        aliases: &[],
        nid: Nid::TITLE,
        max: 64,
        charset: Charset::Any,
    },
];

const ACCEPTED: &str = "CN, O, OU, L, ST, C, STREET, DC, emailAddress, serialNumber or title";

/// A checked certificate subject, attributes in the order given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    /// Index into `ATTRS`, and the value.
    entries: Vec<(usize, String)>,
}

impl Subject {
    /// Parses `CN=x,O=y` or `/CN=x/O=y`; the error says what is wrong, for clap to print.
    pub fn parse(text: &str) -> Result<Self, String> {
        // Trailing blanks are trimmed per component, where an escaped one can be told apart.
        let text = text.trim_start();
        if text.trim_end().is_empty() {
            return Err("the subject is empty; write it as CN=name,O=org or /CN=name/O=org".into());
        }
        let (body, sep) = match text.strip_prefix('/') {
            Some(rest) => (rest, '/'),
            None => (text, ','),
        };
        let chars = unescape(body)?;
        let mut entries = Vec::new();
        for piece in chars.split(|&(c, escaped)| c == sep && !escaped) {
            entries.push(entry(piece, sep)?);
        }
        let subject = Subject { entries };
        // Whatever else OpenSSL refuses (it should be nothing after the checks above).
        subject
            .to_name()
            .map_err(|e| format!("OpenSSL refuses this subject: {e}"))?;
        Ok(subject)
    }

    /// The subject of an existing certificate (`graphd rotate` keeps it), when every attribute
    /// is one gen-cert writes and passes the same checks; `None` otherwise.
    pub fn from_name(name: &openssl::x509::X509NameRef) -> Option<Self> {
        let mut entries = Vec::new();
        for e in name.entries() {
            let nid = e.object().nid();
            let attr = ATTRS.iter().position(|a| a.nid == nid)?;
            let mut value = e.data().to_string().ok()?;
            check_value(&ATTRS[attr], &mut value).ok()?;
            entries.push((attr, value));
        }
        (!entries.is_empty()).then_some(Subject { entries })
    }

    /// The X.509 name, used as both subject and issuer of a self-signed certificate.
    pub fn to_name(&self) -> Result<X509Name, openssl::error::ErrorStack> {
        let mut name = X509NameBuilder::new()?;
        for (attr, value) in &self.entries {
            name.append_entry_by_nid(ATTRS[*attr].nid, value)?;
        }
        Ok(name.build())
    }
}

impl fmt::Display for Subject {
    /// `CN=graphd, O=Contoso`, as `graphd cert` prints names.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (attr, value)) in self.entries.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{}={value}", ATTRS[*attr].label)?;
        }
        Ok(())
    }
}

/// The characters of `text`, each marked whether it was escaped with `\`.
fn unescape(text: &str) -> Result<Vec<(char, bool)>, String> {
    let mut out = Vec::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some(next) => out.push((next, true)),
                None => return Err("the subject ends with a lone backslash".into()),
            }
        } else {
            out.push((c, false));
        }
    }
    Ok(out)
}

/// One `NAME=VALUE` component.
fn entry(piece: &[(char, bool)], sep: char) -> Result<(usize, String), String> {
    let shown: String = piece.iter().map(|&(c, _)| c).collect();
    let Some(eq) = piece.iter().position(|&(c, escaped)| c == '=' && !escaped) else {
        return Err(if shown.trim().is_empty() {
            format!("the subject has an empty component (two {sep:?} in a row, or one at the end)")
        } else {
            // Not repeated: a value typed in the wrong place may be a secret.
            format!("a component is not NAME=VALUE (write a {sep:?} inside a value as \\{sep})")
        });
    };
    let key: String = piece[..eq].iter().map(|&(c, _)| c).collect();
    let key = key.trim();
    let attr = ATTRS
        .iter()
        .position(|a| {
            a.label.eq_ignore_ascii_case(key)
                || a.aliases.iter().any(|x| x.eq_ignore_ascii_case(key))
        })
        .ok_or_else(|| {
            // An attribute name is short and plain; anything else is not repeated.
            if key.len() <= 24 && key.chars().all(|c| c.is_ascii_alphanumeric()) {
                format!("unknown attribute {key:?}; use {ACCEPTED}")
            } else {
                format!("unknown attribute; use {ACCEPTED}")
            }
        })?;
    let a = &ATTRS[attr];
    // Unescaped blanks around the value are layout ("CN=x, O=y"); escaped ones are kept.
    let mut value = &piece[eq + 1..];
    while let [(c, false), rest @ ..] = value {
        if !c.is_whitespace() {
            break;
        }
        value = rest;
    }
    while let [rest @ .., (c, false)] = value {
        if !c.is_whitespace() {
            break;
        }
        value = rest;
    }
    let mut value: String = value.iter().map(|&(c, _)| c).collect();
    check_value(a, &mut value)?;
    Ok((attr, value))
}

fn check_value(a: &Attr, value: &mut String) -> Result<(), String> {
    let label = a.label;
    if value.is_empty() {
        return Err(format!("{label} is empty"));
    }
    if value.chars().any(char::is_control) {
        return Err(format!("{label} holds a control character"));
    }
    if a.nid == Nid::COUNTRYNAME {
        if value.len() != 2 || !value.chars().all(|c| c.is_ascii_alphabetic()) {
            return Err(format!(
                "C must be a two-letter country code such as US, not {value:?}"
            ));
        }
        *value = value.to_ascii_uppercase();
    }
    let count = value.chars().count();
    if count > a.max {
        return Err(format!(
            "{label} has {count} characters; at most {} are allowed",
            a.max
        ));
    }
    match a.charset {
        Charset::Any => {}
        Charset::Ascii if !value.is_ascii() => return Err(format!("{label} must be ASCII")),
        Charset::Ascii => {}
        Charset::Printable => {
            let printable = |c: char| c.is_ascii_alphanumeric() || " '()+,-./:=?".contains(c);
            if !value.chars().all(printable) {
                return Err(format!(
                    "{label} may hold only letters, digits, spaces and '()+,-./:=? (an X.509 PrintableString)"
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credential::report::name_to_string;

    fn shown(text: &str) -> String {
        Subject::parse(text).unwrap().to_string()
    }

    #[test]
    fn a_certificates_subject_is_taken_over_as_it_is() {
        let s =
            Subject::parse("CN=graphd-ci, O=Contoso\\, Ltd, emailAddress=ops@contoso.com").unwrap();
        let name = s.to_name().unwrap();
        let back = Subject::from_name(&name).unwrap();
        assert_eq!(back, s);
        assert_eq!(
            name_to_string(&back.to_name().unwrap()),
            name_to_string(&name)
        );
        // An attribute gen-cert does not write: not taken over.
        let mut b = openssl::x509::X509NameBuilder::new().unwrap();
        b.append_entry_by_text("CN", "x").unwrap();
        b.append_entry_by_text("postalCode", "12345").unwrap();
        assert!(Subject::from_name(&b.build()).is_none());
    }

    #[test]
    fn both_forms_give_the_same_name_in_the_order_written() {
        assert_eq!(shown("CN=graphd"), "CN=graphd");
        assert_eq!(shown("CN=ci, O=Contoso,OU=Ops"), "CN=ci, O=Contoso, OU=Ops");
        assert_eq!(shown("/CN=ci/O=Contoso/OU=Ops"), "CN=ci, O=Contoso, OU=Ops");
        assert_eq!(shown("  cn = ci , o=Contoso  "), "CN=ci, O=Contoso");
        assert_eq!(
            shown("commonName=x,E=a@b.example,c=de"),
            "CN=x, emailAddress=a@b.example, C=DE"
        );
        let s = Subject::parse("/CN=ci/O=Contoso/DC=example/DC=com").unwrap();
        assert_eq!(
            name_to_string(&s.to_name().unwrap()),
            "CN=ci, O=Contoso, DC=example, DC=com"
        );
    }

    #[test]
    fn escapes_and_literal_separators() {
        assert_eq!(shown(r"CN=ci,O=Contoso\, Inc."), "CN=ci, O=Contoso, Inc.");
        assert_eq!(shown("/CN=ci/O=Contoso, Inc."), "CN=ci, O=Contoso, Inc.");
        assert_eq!(shown(r"/CN=a\/b"), "CN=a/b");
        assert_eq!(shown("CN=a/b"), "CN=a/b");
        assert_eq!(shown("CN=a=b"), "CN=a=b");
        assert_eq!(shown(r"CN=\ padded\ "), "CN= padded ");
        assert_eq!(shown("CN=Zoë Ünïcode"), "CN=Zoë Ünïcode");
    }

    #[test]
    fn malformed_subjects_are_refused_with_a_reason() {
        let cases = [
            ("", "empty"),
            ("   ", "empty"),
            ("/", "empty component"),
            ("CN=a,,O=b", "empty component"),
            ("CN=a,", "empty component"),
            ("/CN=a//O=b", "empty component"),
            ("graphd", "not NAME=VALUE"),
            ("CN=Contoso, Inc.", "not NAME=VALUE"),
            ("XX=a", "unknown attribute \"XX\""),
            ("=a", "unknown attribute \"\""),
            ("CN=", "CN is empty"),
            ("CN=  ", "CN is empty"),
            ("CN=a\\", "lone backslash"),
            ("CN=a\u{7}b", "control character"),
            ("C=USA", "two-letter"),
            ("C=1x", "two-letter"),
            ("DC=exämple", "ASCII"),
            ("serialNumber=a_b", "PrintableString"),
        ];
        for (text, why) in cases {
            let err = Subject::parse(text).unwrap_err();
            assert!(err.contains(why), "{text:?}: {err}");
        }
        let long = format!("CN={}", "x".repeat(65));
        assert!(Subject::parse(&long).unwrap_err().contains("at most 64"));
        assert!(Subject::parse(&format!("CN={}", "é".repeat(64))).is_ok());
    }
}
