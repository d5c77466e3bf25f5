//! The token service's refusals: Entra's error response (docs/protocol.md#token-errors), the context graphd adds,
//! the one-line message with the AADSTS code, its meaning and the request ids, and the hint
//! that says what to do. Server text is shown only after `printable` has made it safe.

use std::fmt;
use std::path::PathBuf;

/// An Entra ID error response (docs/protocol.md#token-errors), plus what graphd knows to make the hint useful.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct EntraError {
    #[serde(default)]
    pub error: String,
    #[serde(default)]
    pub error_description: String,
    #[serde(default)]
    pub error_codes: Vec<u64>,
    #[serde(default)]
    pub trace_id: Option<String>,
    #[serde(default)]
    pub correlation_id: Option<String>,
    #[serde(default)]
    pub timestamp: Option<String>,
}

impl EntraError {
    /// The AADSTS code: the first of `error_codes`, else parsed from the description.
    pub fn code(&self) -> Option<u64> {
        self.error_codes.first().copied().or_else(|| {
            let rest = self.error_description.strip_prefix("AADSTS")?;
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            digits.parse().ok()
        })
    }

    /// The first line of the description without the code prefix and the trailing
    /// `Trace ID: ... Correlation ID: ... Timestamp: ...` lines.
    pub fn summary(&self) -> String {
        let first = self.error_description.lines().next().unwrap_or("").trim();
        let first = match first.find(" Trace ID:") {
            Some(i) => &first[..i],
            None => first,
        };
        let first = match first.split_once(": ") {
            Some((code, rest)) if code.starts_with("AADSTS") => rest,
            _ => first,
        };
        first.trim().to_string()
    }
}

/// What the credential file named by `--cert` holds, for the upload command in hints.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CertFile {
    /// Certificates only (PEM or DER): upload it as it is.
    #[default]
    Certificates,
    /// PEM with the private key: only the certificate may be uploaded.
    PemWithKey,
    /// PKCS#12: the certificate must be exported first.
    Pfx,
}

/// Context gathered by the client so the hint for a refusal can name what to fix.
#[derive(Debug, Clone, Default)]
pub struct RefusalContext {
    pub host: String,
    /// The token endpoint called, which is also the assertion's `aud`.
    pub endpoint: String,
    pub tenant: String,
    pub client_id: String,
    /// SHA-1 thumbprint as hex, as the portal shows it.
    pub thumbprint_hex: Option<String>,
    pub x5t_s256: Option<String>,
    /// The certificate path, for the upload command.
    pub cert_path: Option<PathBuf>,
    pub cert_file: CertFile,
    /// Local clock and the server's `Date`, for time-window errors.
    pub local_time: Option<String>,
    pub server_time: Option<String>,
    /// Server clock minus local clock, in seconds, when the server sent a `Date`.
    pub skew_secs: Option<i64>,
    /// The external token's origin and claims, when the proof was a federated token.
    pub federated: Option<super::FederatedFacts>,
}

#[derive(Debug, Clone)]
pub struct TokenRefusal {
    pub status: u16,
    pub entra: EntraError,
    pub context: RefusalContext,
}

/// Server text as it may be shown: one line, no control characters and no bidi overrides (a
/// hostile or broken server must not drive the terminal or reorder the line), at most `max`
/// characters.
pub fn printable(text: &str, max: usize) -> String {
    let mut out: String = text
        .chars()
        .map(|c| {
            if crate::safe_text::is_unsafe(c) {
                ' '
            } else {
                c
            }
        })
        .take(max)
        .collect();
    if text.chars().nth(max).is_some() {
        out.push_str("...");
    }
    out.trim().to_string()
}

/// What an AADSTS code means, for answers whose description says nothing (docs/protocol.md#aadsts-codes).
fn meaning(code: u64) -> Option<&'static str> {
    Some(match code {
        700027 => {
            "the assertion's certificate is not registered on the app, or its signature failed validation"
        }
        700016 => "the application was not found in the tenant",
        90002 => "the tenant was not found",
        900023 => "the tenant identifier is neither a GUID nor a valid domain",
        700024 => "the client assertion is not within its valid time range",
        7000215 => "an invalid client secret was provided",
        7000222 => "the app's client credential has expired",
        50032 => "the RSA key is smaller than 2048 bits",
        700023 => "the client assertion's audience does not match the token endpoint",
        70011 => "the scope is not valid",
        1002012 => "the scope is not valid for client credentials: it must be <resource>/.default",
        700022 => "the scope names more than one resource",
        70021 => "no federated identity credential matches the presented token",
        700211 => "no federated identity credential has the token's issuer",
        700212 => "no federated identity credential has the token's audience",
        700213 => "no federated identity credential has the token's subject",
        7002138 => {
            "the token's subject matches a federated identity credential only when case is ignored"
        }
        7000272 => "the key that signed the federated token is not in its issuer's metadata",
        5002738 => "the federated token's signing algorithm is not supported",
        50166 | 90061 => "the token service could not reach the federated token's issuer",
        _ => return None,
    })
}

impl fmt::Display for TokenRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let e = &self.entra;
        write!(
            f,
            "token service at {} refused (HTTP {}",
            self.context.host, self.status
        )?;
        if !e.error.is_empty() {
            write!(f, ", {}", printable(&e.error, 64))?;
        }
        f.write_str(")")?;
        match e.code() {
            Some(code) => write!(f, ": AADSTS{code}")?,
            None => f.write_str(":")?,
        }
        let summary = printable(&e.summary(), 600);
        if !summary.is_empty() {
            write!(f, " {summary}")?;
        } else if let Some(m) = e.code().and_then(meaning) {
            write!(f, " {m}")?;
        }
        let ids: Vec<String> = [
            ("trace_id", &e.trace_id),
            ("correlation_id", &e.correlation_id),
        ]
        .into_iter()
        .filter_map(|(name, v)| v.as_deref().map(|v| format!("{name} {}", printable(v, 64))))
        .collect();
        if !ids.is_empty() {
            write!(f, " [{}]", ids.join(", "))?;
        }
        Ok(())
    }
}

impl TokenRefusal {
    pub fn hint(&self) -> Option<String> {
        let c = &self.context;
        let code = self.entra.code()?;
        if let Some(f) = &c.federated
            && let Some(hint) = super::federated_refusal::hint(code, f, c)
        {
            return Some(hint);
        }
        let hint = match code {
            700027 => format!(
                "is this certificate uploaded to app {}? its thumbprint is {} (x5t#S256 {}); upload it with: {}",
                c.client_id,
                c.thumbprint_hex.as_deref().unwrap_or("unknown"),
                c.x5t_s256.as_deref().unwrap_or("unknown"),
                c.upload_command(),
            ),
            700016 => format!(
                "no application {} in tenant {}: check --client-id and --tenant, and that the app is registered (or consented) in that tenant",
                c.client_id, c.tenant
            ),
            90002 | 900023 => format!(
                "tenant {:?} was not found: use the directory (tenant) ID GUID or a verified domain, and the right --cloud",
                c.tenant
            ),
            700024 => {
                let skew = match c.skew_secs {
                    Some(s) if s > 0 => format!("; this machine is {s} s behind"),
                    Some(s) if s < 0 => format!("; this machine is {} s ahead", -s),
                    _ => String::new(),
                };
                format!(
                    "the clocks of this machine and the token service differ (local {}, server {}{skew}); sync the clock (NTP) and retry",
                    c.local_time.as_deref().unwrap_or("unknown"),
                    c.server_time.as_deref().unwrap_or("unknown")
                )
            }
            7000215 | 7000216 | 7000218 => {
                "the service expected or received a client secret, but graphd sends only a certificate assertion: \
                 check that --authority-host (AZURE_AUTHORITY_HOST) is the Entra token service and that no proxy rewrites the request"
                    .into()
            }
            7000222 => format!(
                "the credential registered on app {id} has expired: create a new certificate with \
                 `graphd gen-cert --client-id {id}` (it prints the upload command), upload it, and use it",
                id = c.client_id
            ),
            50032 => "create a 2048-bit or larger RSA key: graphd gen-cert --key-size 2048".into(),
            700023 | 50027 => format!(
                "graphd sent the audience {}, the endpoint it called, and the service expects its own token endpoint: \
                 check --cloud and --authority-host (AZURE_AUTHORITY_HOST), and that no proxy forwards the request elsewhere",
                c.endpoint
            ),
            70011 | 1002012 | 700022 => {
                "for app-only tokens --scope must be one resource's /.default, e.g. https://graph.microsoft.com/.default".into()
            }
            50048 => "the assertion's iss and sub must both be the client id".into(),
            9001023 => "use a tenant GUID or domain with --tenant, not common, organizations or consumers".into(),
            500011 | 650057 => {
                "the resource in --scope is not available to this app in this tenant: check --scope and the API permissions".into()
            }
            7000112 => "the application is disabled in this tenant; ask an admin to enable it".into(),
            50196 | 90055 => "too many token requests: reuse tokens (--token-cache DIR) and slow down".into(),
            _ => return None,
        };
        Some(hint)
    }
}

impl RefusalContext {
    /// The command that uploads the certificate: only the certificate ever leaves the
    /// machine, so a file that also holds the key is exported first.
    fn upload_command(&self) -> String {
        let path = self
            .cert_path
            .clone()
            .unwrap_or_else(|| PathBuf::from("cert.pem"));
        // The certificate alone, extracted next to the credential under a name of its own,
        // so no file the user has (a `cert.pem` in the current directory) is overwritten.
        let extracted = {
            let stem = path
                .file_stem()
                .map_or_else(|| "credential".into(), |s| s.to_string_lossy().into_owned());
            path.with_file_name(format!("{stem}.cert.pem"))
        };
        let (path, extracted) = (path.display(), extracted.display());
        let az = |file: &dyn fmt::Display| {
            format!(
                "az ad app credential reset --id {} --cert @{file} --append",
                self.client_id
            )
        };
        match self.cert_file {
            CertFile::Certificates => az(&path),
            CertFile::PemWithKey => format!(
                "openssl x509 -in {path} -out {extracted} && {} (the certificate only, never the key)",
                az(&extracted)
            ),
            CertFile::Pfx => format!(
                "openssl pkcs12 -in {path} -clcerts -nokeys -out {extracted} && {} (the certificate only, never the key)",
                az(&extracted)
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entra_error_code_and_summary() {
        let body = r#"{"error":"invalid_client","error_description":"AADSTS700027: Client assertion failed signature validation. Trace ID: abc Correlation ID: def Timestamp: 2024-01-01 00:00:00Z","error_codes":[700027],"trace_id":"abc","correlation_id":"def"}"#;
        let e: EntraError = serde_json::from_str(body).unwrap();
        assert_eq!(e.code(), Some(700027));
        assert_eq!(e.summary(), "Client assertion failed signature validation.");
        let r = TokenRefusal {
            status: 401,
            entra: e,
            context: RefusalContext {
                host: "login.microsoftonline.com".into(),
                client_id: "c".into(),
                thumbprint_hex: Some("AB12".into()),
                ..Default::default()
            },
        };
        let line = r.to_string();
        assert!(line.contains("AADSTS700027"), "{line}");
        assert!(line.contains("trace_id abc, correlation_id def"), "{line}");
        assert!(!line.contains('\n'));
        assert!(r.hint().unwrap().contains("AB12"));
    }

    #[test]
    fn code_from_description_when_codes_missing() {
        let e = EntraError {
            error_description: "AADSTS90002: Tenant 'x' not found.\r\nTrace ID: 1".into(),
            ..Default::default()
        };
        assert_eq!(e.code(), Some(90002));
        assert_eq!(e.summary(), "Tenant 'x' not found.");
    }

    fn refusal(body: &str, context: RefusalContext) -> TokenRefusal {
        TokenRefusal {
            status: 401,
            entra: serde_json::from_str(body).unwrap(),
            context,
        }
    }

    #[test]
    fn ids_are_shown_each_on_its_own() {
        let r = refusal(
            r#"{"error":"invalid_client","error_codes":[700027],"correlation_id":"c-1"}"#,
            RefusalContext::default(),
        );
        let line = r.to_string();
        assert!(line.ends_with("[correlation_id c-1]"), "{line}");
        assert!(line.contains("not registered on the app"), "{line}");
    }

    #[test]
    fn server_text_cannot_drive_the_terminal() {
        let r = refusal(
            "{\"error\":\"x\\u001b[2J\",\"error_description\":\"AADSTS90002: bad\\u001b]0;owned\\u0007 tenant\",\"trace_id\":\"t\\nforged line\"}",
            RefusalContext::default(),
        );
        let line = r.to_string();
        assert!(!line.chars().any(char::is_control), "{line:?}");
        assert!(line.contains("AADSTS90002"), "{line}");
        assert_eq!(printable(&"a".repeat(10), 4), "aaaa...");
    }

    #[test]
    fn the_upload_command_never_uploads_a_key() {
        let mut context = RefusalContext {
            client_id: "c".into(),
            cert_path: Some(PathBuf::from("certs/cert.pem")),
            ..Default::default()
        };
        assert_eq!(
            context.upload_command(),
            "az ad app credential reset --id c --cert @certs/cert.pem --append"
        );
        context.cert_file = CertFile::PemWithKey;
        assert!(
            context
                .upload_command()
                .starts_with("openssl x509 -in certs/cert.pem -out certs/cert.cert.pem && az ad app credential reset --id c --cert @certs/cert.cert.pem")
        );
        context.cert_file = CertFile::Pfx;
        assert!(context.upload_command().contains("-nokeys"));
    }

    #[test]
    fn clock_skew_is_measured() {
        let r = refusal(
            r#"{"error":"invalid_client","error_codes":[700024]}"#,
            RefusalContext {
                local_time: Some("L".into()),
                server_time: Some("S".into()),
                skew_secs: Some(3600),
                ..Default::default()
            },
        );
        let hint = r.hint().unwrap();
        assert!(
            hint.contains("local L, server S; this machine is 3600 s behind"),
            "{hint}"
        );
    }
}
