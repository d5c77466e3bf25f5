//! The attributes of a PKCS#11 URI (RFC 7512 §2.3): which names graphd knows, in the path or
//! in the query, and what each value may hold once percent-decoded (§2.1 escapes only; text
//! as UTF-8, `id` as bytes, `slot-id` and `library-version` as numbers, `pin-source` as a
//! local file).
//!
//! It refuses an unknown attribute rather than ignoring it, refuses `pin-value` and
//! `pin-source` commands, and never repeats a value in an error: only a short, plain
//! attribute name.

use std::path::PathBuf;

use percent_encoding::percent_decode_str;

use super::{ObjectType, Uri};
use crate::error::UriProblem;

impl Uri {
    pub(super) fn set_path_attr(&mut self, name: &str, value: &str) -> Result<(), UriProblem> {
        let text = || decode_text(name, value);
        match name {
            "token" => self.token = Some(text()?),
            "manufacturer" => self.manufacturer = Some(text()?),
            "serial" => self.serial = Some(text()?),
            "model" => self.model = Some(text()?),
            "library-manufacturer" => self.library_manufacturer = Some(text()?),
            "library-description" => self.library_description = Some(text()?),
            "library-version" => self.library_version = Some(version(&text()?)?),
            "slot-description" => self.slot_description = Some(text()?),
            "slot-manufacturer" => self.slot_manufacturer = Some(text()?),
            "slot-id" => {
                let t = text()?;
                if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(UriProblem::BadValue("slot-id", "a decimal number"));
                }
                self.slot_id = Some(
                    t.parse()
                        .map_err(|_| UriProblem::BadValue("slot-id", "a decimal number"))?,
                );
            }
            "object" => self.object = Some(text()?),
            "id" => self.id = Some(decode_bytes(name, value)?),
            "type" => {
                self.kind = Some(match text()?.as_str() {
                    "public" => ObjectType::Public,
                    "private" => ObjectType::Private,
                    "cert" => ObjectType::Cert,
                    "secret-key" => ObjectType::SecretKey,
                    "data" => ObjectType::Data,
                    _ => {
                        return Err(UriProblem::BadValue(
                            "type",
                            "public, private, cert, secret-key or data",
                        ));
                    }
                });
            }
            "pin-source" | "module-path" | "module-name" => {
                return Err(UriProblem::QueryInPath(name.to_string()));
            }
            other => return Err(UriProblem::Unknown(printable_name(other))),
        }
        Ok(())
    }

    pub(super) fn set_query_attr(&mut self, name: &str, value: &str) -> Result<(), UriProblem> {
        match name {
            "pin-value" => return Err(UriProblem::PinValue),
            "pin-source" => self.pin_source = Some(pin_source(&decode_text(name, value)?)?),
            "module-path" => {
                let path = decode_text(name, value)?;
                if path.is_empty() {
                    return Err(UriProblem::BadValue("module-path", "a file path"));
                }
                self.module_path = Some(PathBuf::from(path));
            }
            "module-name" => return Err(UriProblem::ModuleName),
            other => return Err(UriProblem::Unknown(printable_name(other))),
        }
        Ok(())
    }
}

pub(super) fn split_attr(attr: &str) -> Result<(&str, &str), UriProblem> {
    let (name, value) = attr
        .split_once('=')
        .ok_or_else(|| UriProblem::NotNameValue(printable_name(attr)))?;
    if name.is_empty() {
        return Err(UriProblem::NotNameValue(String::new()));
    }
    Ok((name, value))
}

/// An attribute name worth repeating in a message: short and plain, else nothing (it might be
/// a value typed in the wrong place).
fn printable_name(name: &str) -> String {
    if name.len() <= 32
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        name.to_string()
    } else {
        String::new()
    }
}

fn decode_bytes(name: &str, value: &str) -> Result<Vec<u8>, UriProblem> {
    // Every `%` must start a two-digit escape (RFC 3986 §2.1).
    let bytes = value.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let ok = bytes.len() > i + 2
                && bytes[i + 1].is_ascii_hexdigit()
                && bytes[i + 2].is_ascii_hexdigit();
            if !ok {
                return Err(UriProblem::BadEscape(printable_name(name)));
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    Ok(percent_decode_str(value).collect())
}

fn decode_text(name: &str, value: &str) -> Result<String, UriProblem> {
    String::from_utf8(decode_bytes(name, value)?)
        .map_err(|_| UriProblem::NotUtf8(printable_name(name)))
}

fn version(text: &str) -> Result<(u8, u8), UriProblem> {
    let bad = || UriProblem::BadValue("library-version", "MAJOR or MAJOR.MINOR");
    let (major, minor) = text.split_once('.').unwrap_or((text, "0"));
    Ok((
        major.parse().map_err(|_| bad())?,
        minor.parse().map_err(|_| bad())?,
    ))
}

/// `pin-source`: a `file:` URI (`file:///etc/pin`, `file:/etc/pin`) or a plain file path.
/// Commands (`|/usr/bin/getpin`) and other schemes are refused.
fn pin_source(text: &str) -> Result<PathBuf, UriProblem> {
    let bad = UriProblem::BadValue("pin-source", "a file: URI or a file path");
    let path = match text.strip_prefix("file:") {
        Some(rest) => match rest.strip_prefix("//") {
            // file://host/path: only the local host.
            Some(authority_and_path) => {
                let slash = authority_and_path.find('/').ok_or(bad.clone())?;
                let host = &authority_and_path[..slash];
                if !(host.is_empty() || host.eq_ignore_ascii_case("localhost")) {
                    return Err(bad);
                }
                &authority_and_path[slash..]
            }
            None => rest,
        },
        None => {
            if text.starts_with('|') || text.contains("://") {
                return Err(bad);
            }
            text
        }
    };
    if path.is_empty() {
        return Err(bad);
    }
    Ok(PathBuf::from(path))
}
