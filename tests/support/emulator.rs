//! The shipped emulator, started in the test process behind a guard, and the `graphd`
//! command pointed at it.
//!
//! [`TestEmulator`] fails the test when it is dropped if any of the emulator's request
//! handlers panicked (the client only saw a `500`, which a test expecting a refusal might
//! take for one), as xh's test server does (xh: tests/server/mod.rs).

use std::ops::Deref;

use assert_cmd::Command;
use graphd::emulator::{AppRegistration, Emulator, EmulatorConfig};
use openssl::x509::X509;

use super::{CLIENT_ID, Pair, TENANT, graphd};

/// The shared pair's certificate, as the emulator registers it.
pub fn shared_cert() -> X509 {
    X509::from_pem(&std::fs::read(&Pair::shared().cert).expect("shared cert"))
        .expect("shared cert parses")
}

/// The app `CLIENT_ID` with the shared certificate and these roles.
pub fn shared_app(roles: &[&str]) -> AppRegistration {
    AppRegistration {
        client_id: CLIENT_ID.to_string(),
        certificates: vec![shared_cert()],
        roles: roles.iter().map(|r| r.to_string()).collect(),
    }
}

/// An emulator for `TENANT` with `users` users and the shared app (User.Read.All).
pub fn start(users: u64) -> TestEmulator {
    start_with(EmulatorConfig {
        users,
        ..EmulatorConfig::default()
    })
}

/// As `start`, from a config whose tenant is replaced by `TENANT` and whose apps default to
/// the shared app.
pub fn start_with(config: EmulatorConfig) -> TestEmulator {
    let apps = if config.apps.is_empty() {
        vec![shared_app(&["User.Read.All"])]
    } else {
        config.apps.clone()
    };
    TestEmulator::new(
        Emulator::start(EmulatorConfig {
            tenant: TENANT.to_string(),
            apps,
            ..config
        })
        .expect("emulator starts"),
    )
}

/// A running emulator that fails the test on drop if one of its handlers panicked.
/// Derefs to [`Emulator`], so `&TestEmulator` goes wherever `&Emulator` does.
pub struct TestEmulator {
    /// `None` only once `shutdown` has taken it.
    emulator: Option<Emulator>,
}

impl TestEmulator {
    /// Guards an emulator started some other way.
    pub fn new(emulator: Emulator) -> TestEmulator {
        TestEmulator {
            emulator: Some(emulator),
        }
    }

    /// `graphd SUBCOMMAND` with the environment a CI job would set for this emulator and
    /// the shared credential (see [`graphd_at`]).
    pub fn graphd(&self, subcommand: &str) -> Command {
        let mut cmd = graphd_at(self);
        cmd.arg(subcommand);
        cmd
    }

    /// Checks the guard, then stops the emulator and waits for its thread.
    pub fn shutdown(mut self) {
        self.check();
        if let Some(emulator) = self.emulator.take() {
            emulator.shutdown();
        }
    }

    /// Panics naming every handler that panicked.
    fn check(&self) {
        let panics = self.panics();
        assert!(
            panics.is_empty(),
            "the emulator's request handlers panicked ({}), answering 500 instead:\n  {}",
            panics.len(),
            panics.join("\n  ")
        );
    }
}

impl Deref for TestEmulator {
    type Target = Emulator;

    fn deref(&self) -> &Emulator {
        self.emulator
            .as_ref()
            .expect("the emulator is running until shutdown")
    }
}

impl Drop for TestEmulator {
    fn drop(&mut self) {
        // A test that already fails keeps its own message; a second panic would abort.
        if self.emulator.is_some() && !std::thread::panicking() {
            self.check();
        }
    }
}

impl std::fmt::Debug for TestEmulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.emulator {
            Some(e) => e.fmt(f),
            None => f.write_str("TestEmulator (shut down)"),
        }
    }
}

/// `graphd` with the environment a CI job would set for this emulator and the shared
/// credential (combined PEM).
pub fn graphd_at(emu: &Emulator) -> Command {
    let mut cmd = graphd();
    cmd.env("AZURE_AUTHORITY_HOST", emu.authority_host().as_str())
        .env("GRAPHD_GRAPH_ENDPOINT", emu.graph_endpoint().as_str())
        .env("AZURE_TENANT_ID", emu.tenant())
        .env("AZURE_CLIENT_ID", CLIENT_ID)
        .env("AZURE_CLIENT_CERTIFICATE_PATH", &Pair::shared().combined);
    if let Some(ca) = emu.ca_file() {
        cmd.env("GRAPHD_CA_FILE", ca);
    }
    cmd
}

/// The same command as a `std::process::Command`, for tests that read graphd's stdout while
/// it runs (a closed pipe, a pipe left full): program, arguments and the scrubbed
/// environment carry over.
pub fn spawnable(cmd: &Command) -> std::process::Command {
    let mut std_cmd = std::process::Command::new(cmd.get_program());
    std_cmd.args(cmd.get_args()).env_clear();
    for (key, value) in cmd.get_envs() {
        if let Some(value) = value {
            std_cmd.env(key, value);
        }
    }
    std_cmd
}
