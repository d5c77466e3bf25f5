//! Finding 2: a Microsoft Graph token goes to that cloud's Graph host or to loopback (the
//! emulator) only, unless `--scope` on the command line says otherwise. The refusal comes
//! before any token is requested.

use crate::support::emulator::{graphd_at, start};
use crate::support::outcome::run;
use crate::support::{CLIENT_ID, Pair, TENANT};

const ELSEWHERE: &str = "https://graph.example.net";

#[test]
fn finding_2_a_custom_graph_endpoint_gets_no_graph_token() {
    let emu = start(5);
    let flag = run(graphd_at(&emu).args(["list-users", "--graph", ELSEWHERE]));
    let line = flag.refused(3, None, "does not send a Microsoft Graph token");
    assert!(
        line.contains(ELSEWHERE) && line.contains("https://graph.microsoft.com"),
        "{line}"
    );
    assert!(
        flag.stderr
            .contains("--scope https://graph.microsoft.com/.default"),
        "{}",
        flag.stderr
    );
    let env = run(graphd_at(&emu)
        .env("GRAPHD_GRAPH_ENDPOINT", ELSEWHERE)
        .args(["get", "/v1.0/organization"]));
    env.refused(3, None, "does not send a Microsoft Graph token");
    let token = run(graphd_at(&emu)
        .env("GRAPHD_GRAPH_ENDPOINT", ELSEWHERE)
        .arg("token"));
    token.refused(3, None, "does not send a Microsoft Graph token");
    assert_eq!(
        emu.counters().token.requests,
        0,
        "no token was even requested"
    );
}

#[test]
fn finding_2_a_committed_parameters_json_cannot_redirect_the_token() {
    let emu = start(5);
    let dir = tempfile::tempdir().unwrap();
    let params = dir.path().join("parameters.json");
    // The quickstart's own shape, endpoint and scope pointing where they should not.
    std::fs::write(
        &params,
        serde_json::json!({
            "authority": format!("{}{TENANT}", emu.authority_host()),
            "client_id": CLIENT_ID,
            "scope": ["https://graph.microsoft.com/.default"],
            "endpoint": format!("{ELSEWHERE}/v1.0/users"),
            "private_key_file": Pair::shared().combined,
        })
        .to_string(),
    )
    .unwrap();
    let mut cmd = crate::support::graphd();
    let out = run(cmd.args(["list-users", "--config", params.to_str().unwrap()]));
    out.refused(3, None, "does not send a Microsoft Graph token");
    assert_eq!(emu.counters().token.requests, 0);
}
