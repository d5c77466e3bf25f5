//! `graphd demo`: the whole flow with no set-up, on the real code paths: a throwaway
//! certificate written to a temp dir and loaded back like any user file, an in-process
//! emulator with that certificate registered, the token exchange, and the first users.

use std::time::Instant;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::cli::DemoArgs;
use crate::client::Client;
use crate::cloud::Cloud;
use crate::credential::CredentialSource;
use crate::emulator::{AppRegistration, Emulator, EmulatorConfig};
use crate::error::{Error, Result};
use crate::gen_cert::{self, CERT_FILE, KEY_FILE, OutDir, OutFile, Request, Subject};
use crate::graph::Graph;
use crate::http;
use crate::jws::Alg;
use crate::output::{self, ItemWriter, OutputFormat};
use crate::password::PasswordSource;
use crate::settings::{App, CertificateSpec, KeySource, Net, ProofSpec, Settings};

pub fn run(args: &DemoArgs) -> Result<()> {
    let started = Instant::now();
    let dir = tempfile::Builder::new()
        .prefix("graphd-demo-")
        .tempdir()
        .map_err(|e| Error::File {
            path: std::env::temp_dir(),
            action: "create a temporary directory in",
            source: e,
            hint: Some("set TMPDIR to a writable directory".into()),
        })?;

    // 1. A certificate, as `graphd gen-cert` makes it.
    let subject = Subject::parse("CN=graphd-demo").map_err(|e| Error::Internal(e.to_string()))?;
    let generated = gen_cert::generate(&Request {
        subject: &subject,
        days: 365, // as gen-cert makes it; 30 would sit on the expiry-warning line
        key_bits: 2048,
    })?;
    let out = OutDir::check(dir.path(), &[KEY_FILE, CERT_FILE], false)?;
    let key_pem = generated.credential_pem(None)?;
    let cert_pem = generated.cert_pem()?;
    out.write(&[OutFile::key(&key_pem), OutFile::cert(&cert_pem)])?;
    // key.pem alone, as `--cert certs/key.pem` loads it.
    let source = CredentialSource {
        cert: out.path(KEY_FILE),
        key: None,
        thumbprint: None,
    };

    // 2. The emulator, with the certificate registered on a new app.
    let client_id = uuid::Uuid::new_v4().to_string();
    let emulator = Emulator::start(EmulatorConfig {
        users: args.users,
        apps: vec![AppRegistration {
            client_id: client_id.clone(),
            certificates: vec![generated.certificate().to_owned()],
            roles: vec!["User.Read.All".into()],
        }],
        ..EmulatorConfig::default()
    })?;

    // The identity and client `graphd token` and `graphd list-users` build, from the files.
    let client = Client::new(Settings {
        app: App {
            tenant: emulator.tenant().to_string(),
            client_id: client_id.clone(),
            cloud: Cloud::Public,
            authority: emulator.authority_host(),
        },
        proof: ProofSpec::Certificate(CertificateSpec {
            key: KeySource::Files {
                source,
                passwords: PasswordSource::none(),
            },
            alg: Some(Alg::PS256),
            send_x5c: false,
        }),
        net: emulator_net(&emulator),
    })?;
    let hints = client.identity.hints();
    output::line(&format!(
        "1. certificate  CN=graphd-demo, RSA 2048, in {}\n                thumbprint {} (SHA-1, as the portal shows it), x5t#S256 {}",
        dir.path().display(),
        hints.thumbprint_hex.unwrap_or_default(),
        hints.x5t_s256.unwrap_or_default()
    ))?;
    output::line(&format!(
        "2. emulator     token endpoint {}\n                Graph {} with {} users; app {client_id} has the certificate and User.Read.All",
        emulator.token_endpoint(),
        emulator.graph_endpoint().as_str().trim_end_matches('/'),
        args.users
    ))?;

    // 3. The token exchange, with the same code `graphd token` runs.
    let rt = http::runtime()?;
    let token = rt.block_on(client.token(false))?;
    output::line(&format!(
        "3. token        PS256 assertion (x5t#S256) exchanged for an app-only token: expires in {} s, roles {}",
        token.expires_in,
        roles_of(token.access_token.expose_secret())
    ))?;

    // 4. The first users, with the same code `graphd list-users` runs.
    show_users(&rt, &client, args)?;
    emulator.shutdown();

    output::line(&format!(
        "\ndone in {} ms. The same against a real tenant:\n\
         \x20 graphd gen-cert --client-id <app id>              # certs/key.pem (key + certificate) and certs/cert.pem\n\
         \x20 az ad app credential reset --id <app id> --cert @certs/cert.pem --append\n\
         \x20 graphd consent-url --tenant <tenant id> --client-id <app id>   # an admin grants User.Read.All\n\
         \x20 export AZURE_TENANT_ID=<tenant id> AZURE_CLIENT_ID=<app id>\n\
         \x20 graphd list-users --cert certs/key.pem --output table",
        started.elapsed().as_millis()
    ))
}

/// The network settings of both demos: the emulator's Graph, a short timeout, one retry.
pub(super) fn emulator_net(emulator: &Emulator) -> Net {
    Net {
        graph: emulator.graph_endpoint(),
        scope: Cloud::Public.graph_scope(),
        ca_file: None,
        timeout: std::time::Duration::from_secs(10),
        max_retries: 1,
        token_cache: None,
    }
}

/// Step 4 of both demos: the first users, with the same code `graphd list-users` runs.
pub(super) fn show_users(
    rt: &tokio::runtime::Runtime,
    client: &Client,
    args: &DemoArgs,
) -> Result<()> {
    let mut graph = Graph::new(client);
    let mut url = graph.resolve("/v1.0/users")?;
    url.query_pairs_mut()
        .append_pair("$top", &args.show.clamp(1, 999).to_string())
        .append_pair("$select", "id,displayName,userPrincipalName,mail");
    output::line(&format!(
        "4. users        the first {} of {}:",
        args.show.min(args.users as usize),
        args.users
    ))?;
    let columns = ["id", "displayName", "userPrincipalName", "mail"]
        .map(String::from)
        .to_vec();
    let mut writer = ItemWriter::new(OutputFormat::Table, columns);
    let show = args.show;
    rt.block_on(graph.pages(url, false, |page| {
        let n = page
            .value
            .len()
            .min(show.saturating_sub(writer.written() as usize));
        writer.page(&page.value[..n])?;
        Ok(if writer.written() as usize >= show {
            std::ops::ControlFlow::Break(())
        } else {
            std::ops::ControlFlow::Continue(())
        })
    }))?;
    writer.finish()
}

/// The `roles` claim of an access token, for display (the emulator's tokens are JWTs; real
/// Graph tokens must be treated as opaque, docs/protocol.md#access-token, which is why graphd reads them nowhere else).
pub(super) fn roles_of(token: &str) -> String {
    let payload = token
        .split('.')
        .nth(1)
        .and_then(|p| URL_SAFE_NO_PAD.decode(p).ok());
    let roles = payload
        .and_then(|p| serde_json::from_slice::<serde_json::Value>(&p).ok())
        .and_then(|v| v.get("roles").cloned());
    match roles {
        Some(serde_json::Value::Array(r)) if !r.is_empty() => r
            .iter()
            .filter_map(|v| v.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        _ => "none".into(),
    }
}
