//! Servers: every refusal the token issue names, broken answers, throttling storms past
//! `--max-retries`, a server that never answers, untrusted TLS, and a cross-origin nextLink,
//! each from the shipped emulator (its natural behaviour where it has one, its fault
//! injection where it does not).

use graphd::emulator::{AppRegistration, EmulatorConfig, FaultAction, FaultRule, RetryAfter};
use openssl::x509::X509;

use super::{Case, check, workdir};
use crate::support::emulator::{graphd_at, shared_app, start_with};
use crate::support::fixtures::fixtures;
use crate::support::scripted::NobodyListening;
use crate::support::{CLIENT_ID, TENANT};

/// How many cases `cases()` builds (the size check must not start emulators).
pub const CASES: usize = 32;

/// A case and the emulator it runs against.
struct Scenario {
    config: EmulatorConfig,
    faults: Vec<FaultRule>,
    case: Case,
    /// Remove the CA file setting (an untrusted TLS server).
    untrusted: bool,
    /// Point the authority at a port nobody listens on.
    refused: bool,
}

fn token(name: &str, code: i32, says: &str) -> Scenario {
    Scenario {
        config: EmulatorConfig::default(),
        faults: Vec::new(),
        case: Case::new(name, code, says).args(["token", "--max-retries", "1"]),
        untrusted: false,
        refused: false,
    }
}

fn users(name: &str, code: i32, says: &str) -> Scenario {
    let mut s = token(name, code, says);
    s.case = Case::new(name, code, says).args(["list-users", "--top", "10", "--max-retries", "1"]);
    s.config.users = 25;
    s
}

impl Scenario {
    fn fault(mut self, rule: FaultRule) -> Self {
        self.faults.push(rule);
        self
    }

    fn args(mut self, extra: &[&str]) -> Self {
        self.case = self.case.args(extra.iter().copied());
        self
    }
}

fn entra(code: u32) -> FaultRule {
    FaultRule::token(FaultAction::Entra(code))
}

fn status(side: fn(FaultAction) -> FaultRule, code: u16) -> FaultRule {
    side(FaultAction::Status {
        status: code,
        retry_after: Some(RetryAfter::Fractional(0.05)),
    })
    .always()
}

fn scenarios() -> Vec<Scenario> {
    let other_cert = X509::from_pem(&fixtures().read("other.crt")).unwrap();
    let mut unregistered = token("certificate not uploaded (700027)", 4, "AADSTS700027");
    unregistered.config.apps = vec![AppRegistration {
        client_id: CLIENT_ID.into(),
        certificates: vec![other_cert],
        roles: vec!["User.Read.All".into()],
    }];
    let mut skewed = token("clock skew (700024)", 4, "AADSTS700024");
    skewed.config.clock_offset_secs = 3600;
    let mut tls = token("TLS with an untrusted CA", 6, "TLS");
    tls.config.tls = true;
    tls.untrusted = true;
    let mut refused = token("connection refused", 6, "cannot connect");
    refused.refused = true;
    let mut no_roles = users(
        "Graph 403 without User.Read.All",
        5,
        "Authorization_RequestDenied",
    );
    no_roles.config.apps = vec![shared_app(&[])];
    let foreign = "https://graph.example.net/v1.0/users?$skiptoken=x";
    vec![
        unregistered,
        token("unknown app (700016)", 4, "AADSTS700016")
            .args(&["--client-id", "00000000-1111-2222-3333-444444444444"]),
        token("unknown tenant (90002)", 4, "AADSTS90002")
            .args(&["--tenant", "99999999-8888-7777-6666-555555555555"]),
        skewed,
        token("a secret was sent (7000215)", 4, "AADSTS7000215").fault(entra(7_000_215)),
        token("key too small (50032)", 4, "AADSTS50032").fault(entra(50_032)),
        token("audience mismatch (700023)", 4, "AADSTS700023").fault(entra(700_023)),
        token("invalid scope (70011)", 4, "AADSTS70011").fault(entra(70_011)),
        token("scope without /.default (1002012)", 4, "AADSTS1002012")
            .args(&["--scope", "https://graph.microsoft.com/User.Read"]),
        token("scope with two resources (700022)", 4, "AADSTS700022").args(&[
            "--scope",
            "https://graph.microsoft.com/.default https://example.org/.default",
        ]),
        token("expired credential (7000222)", 4, "AADSTS7000222").fault(entra(7_000_222)),
        token("HTML page instead of a token", 4, "HTML")
            .fault(FaultRule::token(FaultAction::Html(200))),
        token("HTML error page", 4, "HTML").fault(FaultRule::token(FaultAction::Html(404))),
        token("non-JSON body", 4, "not a JSON token response")
            .fault(FaultRule::token(FaultAction::NotJson(200))),
        token("truncated JSON", 4, "not a JSON token response")
            .fault(FaultRule::token(FaultAction::TruncatedJson)),
        token("10 MB token response", 4, "larger than 1 MiB")
            .fault(FaultRule::token(FaultAction::HugeBody(10 * 1024 * 1024))),
        token("429 storm past --max-retries", 6, "HTTP 429").fault(status(FaultRule::token, 429)),
        token("503 storm past --max-retries", 6, "HTTP 503").fault(status(FaultRule::token, 503)),
        token("500 storm past --max-retries", 6, "HTTP 500").fault(status(FaultRule::token, 500)),
        token("a server that never answers", 6, "timed out")
            .fault(FaultRule::token(FaultAction::Hang).always())
            .args(&["--timeout", "1"]),
        token("connection dropped", 6, "").fault(FaultRule::token(FaultAction::Drop).always()),
        tls,
        refused,
        users(
            "cross-origin nextLink",
            5,
            "refusing to send the token to https://graph.example.net",
        )
        .fault(FaultRule::graph(FaultAction::NextLink(foreign.into()))),
        no_roles,
        users("Graph 429 storm", 6, "HTTP 429").fault(status(FaultRule::graph, 429)),
        users("Graph 504 storm", 6, "HTTP 504").fault(status(FaultRule::graph, 504)),
        users("Graph truncated page", 5, "").fault(FaultRule::graph(FaultAction::TruncatedJson)),
        users("Graph HTML page", 5, "").fault(FaultRule::graph(FaultAction::Html(200))),
        users("Graph never answers", 6, "timed out")
            .fault(FaultRule::graph(FaultAction::Hang).always())
            .args(&["--timeout", "1"]),
        {
            let mut s = users("get of a foreign URL", 5, "refusing to send the token");
            s.case =
                Case::new(&s.case.name, 5, "refusing to send the token").args(["get", foreign]);
            s
        },
        {
            let mut s = users("unknown Graph path", 5, "HTTP 404");
            s.case =
                Case::new(&s.case.name, 5, "HTTP 404").args(["get", "/v1.0/users/no-such-user"]);
            s
        },
    ]
}

#[test]
fn server_cases() {
    let dir = workdir();
    let scenarios = scenarios();
    assert_eq!(scenarios.len(), CASES);
    let mut failures = Vec::new();
    for s in &scenarios {
        let emu = start_with(EmulatorConfig {
            tenant: TENANT.into(),
            ..s.config.clone()
        });
        emu.set_faults(s.faults.clone());
        let mut cmd = graphd_at(&emu);
        if s.untrusted {
            cmd.env_remove("GRAPHD_CA_FILE");
        }
        // Held until the case has run: nobody else may take the port meanwhile.
        let nobody = s.refused.then(NobodyListening::new);
        if let Some(nobody) = &nobody {
            cmd.env("AZURE_AUTHORITY_HOST", nobody.origin());
        }
        failures.extend(check(dir.path(), cmd, &s.case));
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        scenarios.len(),
        failures.join("\n")
    );
}
