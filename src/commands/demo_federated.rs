//! `graphd demo --federated`: the secretless flow end to end, on the real code paths. An
//! in-process emulator whose app has no certificate, only a federated credential trusting the
//! emulator's GitHub Actions-shaped issuer; the ID token requested as `--github-oidc` requests
//! it, exchanged for an app-only token; the first users. Nothing secret is printed.

use std::time::Instant;

use super::demo::{roles_of, show_users};
use crate::cli::DemoArgs;
use crate::client::Client;
use crate::cloud::Cloud;
use crate::emulator::{
    AppRegistration, DEFAULT_AUDIENCE, Emulator, EmulatorConfig, FederatedCredential, IssuerRef,
    OidcConfig,
};
use crate::error::Result;
use crate::secret::GithubRequestToken;
use crate::settings::{
    App, FederatedSource, FederatedSpec, GithubEndpoint, ProofSpec, Settings, github_url,
};
use crate::{clock, http, identity, output};

/// The subject a push to `main` of `graphd-demo/app` has in GitHub Actions.
const SUBJECT: &str = "repo:graphd-demo/app:ref:refs/heads/main";

pub fn run(args: &DemoArgs) -> Result<()> {
    let started = Instant::now();

    // 1. An app with a federated credential and no certificate or secret at all.
    let client_id = uuid::Uuid::new_v4().to_string();
    let emulator = Emulator::start(EmulatorConfig {
        users: args.users,
        apps: vec![AppRegistration {
            client_id: client_id.clone(),
            certificates: Vec::new(),
            roles: vec!["User.Read.All".into()],
        }],
        federated: vec![FederatedCredential::new(
            &client_id,
            IssuerRef::Builtin,
            SUBJECT,
            DEFAULT_AUDIENCE,
        )],
        oidc: OidcConfig {
            subject: SUBJECT.into(),
            ..OidcConfig::default()
        },
        ..EmulatorConfig::default()
    })?;
    output::line(&format!(
        "1. credential   app {client_id} has no certificate and no secret, only a federated credential:\n\
         \x20               issuer {}, subject {SUBJECT}, audience {DEFAULT_AUDIENCE}",
        emulator.oidc_issuer()
    ))?;

    // What `--github-oidc` reads from ACTIONS_ID_TOKEN_REQUEST_URL / _TOKEN in a job.
    let client = Client::new(Settings {
        app: App {
            tenant: emulator.tenant().to_string(),
            client_id: client_id.clone(),
            cloud: Cloud::Public,
            authority: emulator.authority_host(),
        },
        proof: ProofSpec::Federated(FederatedSpec {
            source: FederatedSource::GitHub(GithubEndpoint {
                url: github_url(&emulator.github_request_url())?,
                request_token: GithubRequestToken::new(emulator.github_request_token()),
            }),
            audience: DEFAULT_AUDIENCE.into(),
            audience_explicit: false,
        }),
        net: super::demo::emulator_net(&emulator),
    })?;

    // 2 and 3. The ID token and the exchange, with the same code `graphd token` runs.
    let rt = http::runtime()?;
    let token = rt.block_on(client.token(false))?;
    let seen = client
        .identity
        .hints()
        .federated
        .and_then(|f| f.claims)
        .map(|c| identity::describe_claims(&c, clock::now_unix()))
        .unwrap_or_default();
    output::line(&format!(
        "2. ID token     from the emulator's GitHub Actions-shaped endpoint, as a job with\n\
         \x20               `permissions: id-token: write` gets it: {seen}"
    ))?;
    output::line(&format!(
        "3. token        the ID token, sent as the client assertion, exchanged for an app-only token:\n\
         \x20               expires in {} s, roles {}",
        token.expires_in,
        roles_of(token.access_token.expose_secret())
    ))?;

    // 4. The first users.
    show_users(&rt, &client, args)?;
    emulator.shutdown();

    output::line(&format!(
        "\ndone in {} ms. The same in GitHub Actions, with no secret stored anywhere:\n\
         \x20 az ad app federated-credential create --id <app id> --parameters \
         '{{\"name\":\"main\",\"issuer\":\"https://token.actions.githubusercontent.com\",\
         \"subject\":\"repo:<owner>/<repo>:ref:refs/heads/main\",\"audiences\":[\"api://AzureADTokenExchange\"]}}'\n\
         \x20 # in the workflow job: permissions: {{id-token: write}}, env AZURE_TENANT_ID and AZURE_CLIENT_ID, then\n\
         \x20 graphd list-users --github-oidc --output table",
        started.elapsed().as_millis()
    ))
}
