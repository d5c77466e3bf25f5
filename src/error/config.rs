//! Settings outside argv that cannot be used (exit 3): the `--config` file, a CA file, a
//! proxy variable, the token cache directory, a password that cannot be read or chosen, a port
//! that cannot be bound, the emulator's apps file. Never holds a value that could be a secret.

use std::fmt;
use std::path::PathBuf;

use super::{CredentialProblem, DirProblem, FileProblem};

/// What is wrong with the `--config` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigFileProblem {
    File(FileProblem),
    /// Not JSON at all (serde's position, without any quoted value).
    NotJson(String),
    /// It holds the quickstart's client `secret`.
    HoldsSecret,
    /// A field graphd does not know, or of the wrong type (serde's words, values removed).
    Shape(String),
    /// A known field with an unusable value.
    Field {
        field: &'static str,
        why: String,
    },
}

/// What is wrong with the `--ca-file`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaFileProblem {
    File(FileProblem),
    Pem(CredentialProblem),
    NoCertificate,
    Unusable,
}

/// Why a new password (gen-cert's `--encrypt-key` / `--pfx`) cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NewPasswordProblem {
    /// None given, for the named flags.
    Required(&'static str),
    Empty,
    Differ,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigProblem {
    ConfigFile {
        path: PathBuf,
        problem: ConfigFileProblem,
    },
    /// The quickstart's `thumbprint` is not a SHA-1 thumbprint.
    Thumbprint,
    CaFile {
        path: PathBuf,
        problem: CaFileProblem,
    },
    /// A proxy variable that is set but is not a proxy URL (the value is not repeated: it can
    /// hold a password).
    Proxy {
        var: &'static str,
    },
    /// The token cache directory is not a directory owned by this user and closed to others.
    TokenCacheDir {
        path: PathBuf,
    },
    /// The token cache directory or one of its ancestors lets someone else replace entries.
    TokenCacheUnsafe {
        path: PathBuf,
        problem: DirProblem,
    },
    /// The password could not be read from stdin or the terminal.
    PasswordInput {
        from: &'static str,
        reason: String,
    },
    NewPassword(NewPasswordProblem),
    /// A port the emulator cannot listen on.
    Listen {
        addr: String,
        reason: String,
    },
    /// The emulator's `--apps` file.
    AppsFile {
        path: PathBuf,
        detail: String,
    },
    /// The scope asks for a Graph token (`resource`, an origin) but the Graph endpoint
    /// (`endpoint`, an origin) is another host, and `--scope` did not say that is intended.
    GraphTokenElsewhere {
        resource: String,
        endpoint: String,
    },
}

impl fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use ConfigFileProblem as C;
        match self {
            ConfigProblem::ConfigFile { path, problem } => {
                let path = path.display();
                match problem {
                    C::File(p) => write!(f, "config file {path}: {p}"),
                    C::NotJson(why) => write!(f, "config file {path}: not JSON: {why}"),
                    C::HoldsSecret => write!(
                        f,
                        "config file {path} holds a client secret; graphd authenticates with a certificate only"
                    ),
                    C::Shape(why) => write!(f, "config file {path}: {why}"),
                    C::Field { field, why } => write!(f, "config file {path}: {field}: {why}"),
                }
            }
            ConfigProblem::Thumbprint => {
                f.write_str("the configured thumbprint is not 40 hex digits (a SHA-1 thumbprint)")
            }
            ConfigProblem::CaFile { path, problem } => {
                let path = path.display();
                match problem {
                    CaFileProblem::File(p) => write!(f, "CA file {path}: {p}"),
                    CaFileProblem::Pem(p) => write!(f, "CA file {path}: {p}"),
                    CaFileProblem::NoCertificate => {
                        write!(f, "CA file {path} holds no PEM certificate")
                    }
                    CaFileProblem::Unusable => {
                        write!(f, "CA file {path}: a certificate cannot be used")
                    }
                }
            }
            ConfigProblem::Proxy { var } => write!(f, "{var} is set but is not a proxy URL"),
            ConfigProblem::TokenCacheDir { path } => write!(
                f,
                "token cache {} is not a directory owned by you and closed to others",
                path.display()
            ),
            ConfigProblem::TokenCacheUnsafe { path, problem } => write!(
                f,
                "token cache {}: {problem}, who could then replace the cached tokens",
                path.display()
            ),
            ConfigProblem::PasswordInput { from, reason } => {
                write!(f, "cannot read the password from {from}: {reason}")
            }
            ConfigProblem::NewPassword(NewPasswordProblem::Required(flags)) => {
                write!(f, "{flags}: a password is needed and none was given")
            }
            ConfigProblem::NewPassword(NewPasswordProblem::Empty) => {
                f.write_str("the new password is empty")
            }
            ConfigProblem::NewPassword(NewPasswordProblem::Differ) => {
                f.write_str("the two passwords typed do not match")
            }
            ConfigProblem::Listen { addr, reason } => {
                write!(f, "cannot listen on {addr}: {reason}")
            }
            ConfigProblem::AppsFile { path, detail } => write!(f, "{}: {detail}", path.display()),
            ConfigProblem::GraphTokenElsewhere { resource, endpoint } => write!(
                f,
                "the Graph endpoint {endpoint} is not {resource}, yet the scope asks for a {resource} token: \
                 graphd does not send a Microsoft Graph token to another host"
            ),
        }
    }
}

/// The fields `--config` accepts, for the hint after a shape error.
const CONFIG_FIELDS: &str = "authority, client_id, scope, endpoint, thumbprint, private_key_file \
     (the quickstart's), tenant, cert, key, password_file, cloud, authority_host, graph, alg, \
     send_x5c, ca_file, timeout, max_retries, token_cache, pkcs11_module, pin_file";

impl ConfigProblem {
    pub fn hint(&self) -> Option<String> {
        use ConfigFileProblem as C;
        Some(match self {
            ConfigProblem::ConfigFile { path, problem } => match problem {
                C::File(_) => "pass a JSON file such as the quickstart's parameters.json".into(),
                C::NotJson(_) => {
                    "the file must be a JSON object such as the quickstart's parameters.json".into()
                }
                C::HoldsSecret => "remove \"secret\" and revoke it (it sat in a file), run `graphd gen-cert`, \
                     upload the certificate, and set \"private_key_file\" or pass --cert"
                    .into(),
                C::Shape(_) => format!("accepted fields: {CONFIG_FIELDS}"),
                C::Field { field, .. } => format!(
                    "fix \"{field}\" in {}, or override it with a flag",
                    path.display()
                ),
            },
            ConfigProblem::Thumbprint => {
                "copy the thumbprint shown in the portal (Certificates & secrets)".into()
            }
            ConfigProblem::CaFile { problem, .. } => match problem {
                CaFileProblem::NoCertificate => {
                    "--ca-file takes PEM (-----BEGIN CERTIFICATE-----) root certificates".into()
                }
                _ => "--ca-file (GRAPHD_CA_FILE) takes a PEM file of trusted root certificates"
                    .into(),
            },
            ConfigProblem::Proxy { var } => format!(
                "set {var} to http://HOST:PORT (or unset it); NO_PROXY lists hosts reached directly"
            ),
            ConfigProblem::TokenCacheDir { path } => format!(
                "use a private directory, e.g. `mkdir -m 700 {}`",
                path.display()
            ),
            ConfigProblem::TokenCacheUnsafe { problem, .. } => match problem {
                DirProblem::WritableByOthers { dir, .. } => format!(
                    "keep the cache where only you (and root) can write on the whole path, such as \
                     ~/.cache/graphd, or restrict the directory: chmod g-w,o-w {}",
                    crate::safe_text::shell_word(&dir.display().to_string())
                ),
                _ => "keep the cache where only you (and root) own and can write the whole path, \
                      such as ~/.cache/graphd"
                    .into(),
            },
            ConfigProblem::PasswordInput { .. } => {
                "give the password with --password-file FILE or AZURE_CLIENT_CERTIFICATE_PASSWORD instead"
                    .into()
            }
            ConfigProblem::NewPassword(NewPasswordProblem::Required(_)) => {
                "pass --password-file FILE or --password-stdin, or set AZURE_CLIENT_CERTIFICATE_PASSWORD \
                 (on a terminal graphd asks for it)"
                    .into()
            }
            ConfigProblem::NewPassword(NewPasswordProblem::Empty) => {
                "an encrypted key or PFX needs a non-empty password".into()
            }
            ConfigProblem::NewPassword(NewPasswordProblem::Differ) => {
                "run the command again and type the same password twice".into()
            }
            ConfigProblem::Listen { .. } => "choose another port, or 0 for any free one".into(),
            ConfigProblem::GraphTokenElsewhere { resource, endpoint } => format!(
                "check where the endpoint comes from (--graph, GRAPHD_GRAPH_ENDPOINT, the config file's \
                 \"endpoint\" or \"graph\"); if {endpoint} is your own gateway to Graph, say so with \
                 --scope {resource}/.default"
            ),
            ConfigProblem::AppsFile { .. } => "expected [{\"client_id\": \"GUID\", \"certificate\": \"cert.pem\", \
                 \"roles\": [\"User.Read.All\"]}]"
                .into(),
        })
    }
}
