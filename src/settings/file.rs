//! The `--config` file: the MSAL Python quickstart's `parameters.json` plus graphd's own
//! names, read strictly (unknown fields, a client secret, malformed values are refused) and
//! without ever echoing a value into an error.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use url::Url;

use crate::cloud::{self, Cloud};
use crate::error::{ConfigFileProblem, ConfigProblem, Error, Result};
use crate::fileio;

const MAX_CONFIG_FILE: u64 = 1024 * 1024;

/// The `--config` file: the MSAL Python quickstart's `parameters.json` fields plus graphd's.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    // The quickstart's names.
    /// `https://login.microsoftonline.com/{tenant}`.
    pub authority: Option<String>,
    pub client_id: Option<String>,
    /// A string or the quickstart's one-element array.
    pub scope: Option<OneOrMany>,
    /// The quickstart's Graph URL (`https://graph.microsoft.com/v1.0/users`): its origin is used.
    pub endpoint: Option<String>,
    /// The certificate variant's SHA-1 thumbprint (hex).
    pub thumbprint: Option<String>,
    /// The certificate variant's key file (relative to the config file).
    pub private_key_file: Option<PathBuf>,
    /// The secret variant's client secret: refused.
    pub secret: Option<serde_json::Value>,
    // graphd's names.
    pub tenant: Option<String>,
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    pub password_file: Option<PathBuf>,
    pub cloud: Option<String>,
    pub authority_host: Option<String>,
    pub graph: Option<String>,
    pub alg: Option<String>,
    pub send_x5c: Option<bool>,
    pub ca_file: Option<PathBuf>,
    pub timeout: Option<u64>,
    pub max_retries: Option<u32>,
    pub token_cache: Option<PathBuf>,
    /// The PKCS#11 module for a `pkcs11:` cert or key (relative to the config file).
    pub pkcs11_module: Option<PathBuf>,
    /// A file holding the token's user PIN (relative to the config file).
    pub pin_file: Option<PathBuf>,
    #[serde(skip)]
    dir: PathBuf,
    #[serde(skip)]
    path: PathBuf,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl ConfigFile {
    /// Reads and checks a config file; `None` path gives an empty config.
    pub fn load(path: Option<&Path>) -> Result<Self> {
        let Some(path) = path else {
            return Ok(ConfigFile::default());
        };
        let fail = |problem| {
            Error::Config(ConfigProblem::ConfigFile {
                path: path.to_path_buf(),
                problem,
            })
        };
        let bytes = fileio::read_bounded(path, MAX_CONFIG_FILE)
            .map_err(|p| fail(ConfigFileProblem::File(p)))?;
        let value: serde_json::Value = serde_json::from_slice(&bytes)
            .map_err(|e| fail(ConfigFileProblem::NotJson(unquoted(&e.to_string()))))?;
        // Checked before the fields, so a secret is refused (with its hint) whatever else is there.
        if value.get("secret").is_some() {
            return Err(fail(ConfigFileProblem::HoldsSecret));
        }
        let mut cfg = ConfigFile::deserialize(&value).map_err(|e| {
            // serde names no field for a wrong type: find it by trying each field alone.
            let field = value.as_object().and_then(|fields| {
                fields.iter().find_map(|(name, v)| {
                    let alone = serde_json::json!({ name: v });
                    ConfigFile::deserialize(&alone)
                        .is_err()
                        .then(|| name.clone())
                })
            });
            let at = field.map(|f| format!("{f}: ")).unwrap_or_default();
            fail(ConfigFileProblem::Shape(format!(
                "{at}{}",
                unquoted(&e.to_string())
            )))
        })?;
        cfg.dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        cfg.path = path.to_path_buf();
        Ok(cfg)
    }

    /// This file's `problem`, as an error (exit 3).
    pub(super) fn problem(&self, problem: ConfigFileProblem) -> Error {
        Error::Config(ConfigProblem::ConfigFile {
            path: self.path.clone(),
            problem,
        })
    }

    /// A path from the file, relative to the file's directory.
    pub(super) fn relative(&self, p: &Path) -> PathBuf {
        // A `pkcs11:` URI names a key in a token, not a file.
        if p.is_absolute() || crate::pkcs11::uri::is_uri_path(p) {
            p.to_path_buf()
        } else {
            self.dir.join(p)
        }
    }

    /// `authority` split into host and tenant.
    pub(super) fn authority_parts(&self) -> Result<Option<(Url, String)>> {
        let Some(a) = &self.authority else {
            return Ok(None);
        };
        let mut url = cloud::parse_endpoint(a).map_err(|e| self.bad("authority", e))?;
        let path = url.path().trim_matches('/').to_string();
        let (prefix, tenant) = match path.rsplit_once('/') {
            Some((p, t)) => (format!("/{p}"), t.to_string()),
            None => (String::new(), path),
        };
        if tenant.is_empty() {
            return Err(self.bad(
                "authority",
                "has no tenant (https://login.microsoftonline.com/<tenant>)",
            ));
        }
        url.set_path(&prefix);
        Ok(Some((url, tenant)))
    }

    pub(super) fn cloud(&self) -> Result<Option<Cloud>> {
        match &self.cloud {
            None => Ok(None),
            Some(c) => <Cloud as clap::ValueEnum>::from_str(c, true)
                .map(Some)
                .map_err(|_| self.bad("cloud", "must be public, usgov, usgov-dod or china")),
        }
    }
}

/// serde's message without the quoted values it echoes (`invalid type: string "..."`): a
/// value in the wrong field may be a secret, and errors end up in CI logs.
fn unquoted(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut chars = message.chars();
    while let Some(c) = chars.next() {
        if c != '"' {
            out.push(c);
            continue;
        }
        let mut escaped = false;
        for q in chars.by_ref() {
            match q {
                '\\' if !escaped => escaped = true,
                '"' if !escaped => break,
                _ => escaped = false,
            }
        }
        if out.ends_with(' ') {
            out.pop();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(json: &str) -> Result<ConfigFile> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("parameters.json");
        std::fs::write(&p, json).unwrap();
        ConfigFile::load(Some(&p))
    }

    #[test]
    fn serde_messages_lose_their_quoted_values() {
        assert_eq!(
            unquoted(r#"invalid type: string "hunter2 \" x", expected u64 at line 3 column 41"#),
            "invalid type: string, expected u64 at line 3 column 41"
        );
        assert_eq!(
            unquoted("unknown field `tennant`, expected one of `a`"),
            "unknown field `tennant`, expected one of `a`"
        );
        let e = cfg(r#"{"tenant": "contoso.com", "send_x5c": "hunter2"}"#)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("send_x5c: invalid type: string, expected a boolean"),
            "{e}"
        );
        assert!(!e.contains("hunter2"), "{e}");
    }
}
