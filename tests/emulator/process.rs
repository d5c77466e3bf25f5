//! The `graphd emulator` process: what it prints, that it serves, that SIGTERM stops it
//! cleanly; TLS with the CA it writes; and its refusals of bad arguments.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};

use super::*;
use crate::support::emulator::spawnable;
use crate::support::{CLIENT_ID, graphd};

/// Kills the child if a test fails before it is stopped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

fn spawn(args: &[&str]) -> Running {
    let mut cmd = spawnable(&graphd());
    cmd.arg("emulator")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    Running(cmd.spawn().expect("graphd starts"))
}

/// Reads `export NAME=value` lines until `last` has been seen.
fn read_env(child: &mut Running, last: &str) -> Vec<(String, String)> {
    let stdout = child.0.stdout.take().expect("piped stdout");
    let mut reader = BufReader::new(stdout);
    let mut vars = Vec::new();
    loop {
        let mut line = String::new();
        let n = reader.read_line(&mut line).expect("read stdout");
        if n == 0 {
            let mut err = String::new();
            if let Some(mut e) = child.0.stderr.take() {
                let _ = std::io::Read::read_to_string(&mut e, &mut err);
            }
            panic!("graphd emulator ended early: {err}");
        }
        let rest = line
            .trim_end()
            .strip_prefix("export ")
            .unwrap_or_else(|| panic!("not an export line: {line:?}"));
        let (k, v) = rest.split_once('=').expect("NAME=value");
        vars.push((k.to_string(), v.trim_matches('\'').to_string()));
        if k == last {
            return vars;
        }
    }
}

fn var<'a>(vars: &'a [(String, String)], name: &str) -> &'a str {
    vars.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("{name} not printed"))
}

fn terminate(mut child: Running) {
    let pid = rustix::process::Pid::from_raw(child.0.id() as i32).expect("a pid");
    rustix::process::kill_process(pid, rustix::process::Signal::TERM).expect("SIGTERM sent");
    let status = child.0.wait().expect("graphd exits");
    assert!(status.success(), "exit after SIGTERM: {status:?}");
    // What the in-process guard checks, for the process: no request handler panicked.
    let mut err = String::new();
    if let Some(mut e) = child.0.stderr.take() {
        std::io::Read::read_to_string(&mut e, &mut err).expect("read stderr");
    }
    assert!(
        !err.contains("panicked"),
        "the emulator process panicked: {err}"
    );
}

#[tokio::test]
async fn print_env_serve_and_stop_on_sigterm() {
    let cert = crate::support::Pair::shared()
        .combined
        .display()
        .to_string();
    let app = format!("{CLIENT_ID}={cert}:User.Read.All");
    let mut child = spawn(&[
        "--print-env",
        "--port",
        "0",
        "--app",
        &app,
        "--users",
        "42",
        "--fault",
        "graph:503,retry-after=0",
    ]);
    let vars = read_env(&mut child, "AZURE_CLIENT_ID");
    let names: Vec<&str> = vars.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        names,
        [
            "AZURE_AUTHORITY_HOST",
            "GRAPHD_GRAPH_ENDPOINT",
            "AZURE_TENANT_ID",
            "AZURE_CLIENT_ID"
        ]
    );
    assert_eq!(var(&vars, "AZURE_CLIENT_ID"), CLIENT_ID);
    assert_eq!(
        var(&vars, "AZURE_TENANT_ID"),
        graphd::emulator::DEFAULT_TENANT
    );
    let authority = var(&vars, "AZURE_AUTHORITY_HOST");
    let graph = var(&vars, "GRAPHD_GRAPH_ENDPOINT");
    assert!(
        authority.starts_with("http://127.0.0.1:")
            && graph.starts_with("http://127.0.0.1:")
            && authority != graph
    );

    let endpoint = format!(
        "{authority}/{}/oauth2/v2.0/token",
        graphd::emulator::DEFAULT_TENANT
    );
    let mut j = Jwt::valid_for(&endpoint);
    j.claims["aud"] = serde_json::json!(endpoint);
    let a = post_form_to(&endpoint, &form(&j.sign())).await;
    assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
    let token = a.json()["access_token"].as_str().unwrap().to_string();
    let users = format!("{graph}/v1.0/users?$top=999");
    assert_eq!(
        send(client().get(&users).bearer_auth(&token)).await.status,
        503,
        "the --fault plan applies"
    );
    let page = send(client().get(&users).bearer_auth(&token)).await.json();
    assert_eq!(page["value"].as_array().unwrap().len(), 42);
    terminate(child);
}

#[tokio::test]
async fn tls_with_the_ca_it_writes() {
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("emulator-ca.pem");
    let cert = crate::support::Pair::shared().cert.display().to_string();
    let app = format!("{CLIENT_ID}={cert}:User.Read.All");
    let mut child = spawn(&[
        "--print-env",
        "--tls",
        "--ca-out",
        ca.to_str().unwrap(),
        "--app",
        &app,
    ]);
    let vars = read_env(&mut child, "AZURE_CLIENT_ID");
    assert_eq!(var(&vars, "GRAPHD_CA_FILE"), ca.to_str().unwrap());
    let authority = var(&vars, "AZURE_AUTHORITY_HOST").to_string();
    assert!(authority.starts_with("https://127.0.0.1:"));
    let pem = std::fs::read(&ca).unwrap();
    graphd::http::install_crypto_provider();
    let trusting = reqwest::Client::builder()
        .no_proxy()
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
        .build()
        .unwrap();
    let cfg_url = format!(
        "{authority}/{}/v2.0/.well-known/openid-configuration",
        graphd::emulator::DEFAULT_TENANT
    );
    let cfg = trusting
        .get(&cfg_url)
        .send()
        .await
        .expect("TLS with the CA works");
    assert_eq!(cfg.status(), 200);
    let localhost = cfg_url.replace("127.0.0.1", "localhost");
    assert_eq!(
        trusting
            .get(&localhost)
            .send()
            .await
            .expect("localhost is in the SAN")
            .status(),
        200
    );
    let untrusting = client();
    assert!(
        untrusting.get(&cfg_url).send().await.is_err(),
        "without the CA the handshake fails"
    );
    terminate(child);
    // A second run may replace its own CA file, but never a file that holds anything else.
    let key_file = dir.path().join("not-a-ca.pem");
    std::fs::copy(&crate::support::Pair::shared().combined, &key_file).unwrap();
    graphd()
        .args(["emulator", "--tls", "--ca-out", key_file.to_str().unwrap()])
        .assert()
        .code(3);
    assert_eq!(
        std::fs::read(&key_file).unwrap(),
        std::fs::read(&crate::support::Pair::shared().combined).unwrap()
    );
}

#[test]
fn bad_arguments_are_refused_with_the_documented_codes() {
    let cert = crate::support::Pair::shared().cert.display().to_string();
    for (args, code) in [
        (
            vec!["emulator".to_string(), "--bind".into(), "0.0.0.0".into()],
            2,
        ),
        (
            vec![
                "emulator".into(),
                "--app".into(),
                format!("not-a-guid={cert}"),
            ],
            2,
        ),
        (
            vec!["emulator".into(), "--fault".into(), "graph:teapot".into()],
            2,
        ),
        (
            vec!["emulator".into(), "--tenant".into(), "common".into()],
            2,
        ),
        (
            vec!["emulator".into(), "--ca-out".into(), "ca.pem".into()],
            2,
        ),
        (
            vec![
                "emulator".into(),
                "--app".into(),
                format!("{CLIENT_ID}=/nonexistent/cert.pem"),
            ],
            3,
        ),
    ] {
        let out = graphd().args(&args).output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(code),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.starts_with("graphd: error: "), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}
