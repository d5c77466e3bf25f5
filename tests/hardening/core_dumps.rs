//! Finding 9: graphd turns core dumps off and marks itself not dumpable before it reads any
//! secret. Observed from outside, on the real binary waiting at its password prompt: its
//! `/proc/PID/limits` shows a core file size of 0, and the files in its `/proc/PID/` (its
//! environment, its memory) belong to root, which the kernel does for a process that is not
//! dumpable (proc(5)), not to the user it runs as.

use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};

use crate::support::fixtures::{PASSWORD, fixtures};

/// The user graphd runs as: this test's own, or `nobody` when the test runs as root (whose
/// `/proc/PID/` files are root's whether or not the process is dumpable).
fn run_as() -> Option<u32> {
    (rustix::process::geteuid().is_root()).then_some(65_534)
}

#[test]
fn finding_9_no_core_dump_while_a_secret_is_in_memory() {
    // A PFX everyone may read, in a directory everyone may enter, for `nobody`'s sake.
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let pfx = dir.path().join("app.pfx");
    std::fs::copy(fixtures().path("default.pfx"), &pfx).unwrap();
    std::fs::set_permissions(&pfx, std::fs::Permissions::from_mode(0o644)).unwrap();
    // `exec` keeps the shell's pid, printed first, for graphd.
    let command = format!(
        "echo \"pid=$$\"; exec '{}' cert --cert '{}'",
        env!("CARGO_BIN_EXE_graphd"),
        pfx.display()
    );
    let mut script = Command::new("script");
    script
        .args(["-qec", &command, "/dev/null"])
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("SHELL", "/bin/sh")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(uid) = run_as() {
        script.uid(uid).gid(uid);
    }
    let mut child = script
        .spawn()
        .expect("util-linux `script` is installed (it provides the terminal for this test)");
    let mut stdout = child.stdout.take().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 256];
    // Wait on the prompt: graphd is then alive, with the PFX's bytes in memory.
    while !String::from_utf8_lossy(&seen).contains("Password for the ") {
        let n = stdout.read(&mut buf).unwrap();
        assert!(n > 0, "no prompt: {}", String::from_utf8_lossy(&seen));
        seen.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&seen).into_owned();
    let pid: u32 = text
        .split("pid=")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no pid in {text:?}"));
    let proc_dir = format!("/proc/{pid}");
    let limits = std::fs::read_to_string(format!("{proc_dir}/limits")).unwrap();
    let owner = std::fs::metadata(format!("{proc_dir}/environ"))
        .unwrap()
        .uid();
    let exe = std::fs::read_link(format!("{proc_dir}/exe")).unwrap_or_default();
    let status = std::fs::read_to_string(format!("{proc_dir}/status")).unwrap_or_default();
    let _ = stdin.write_all(format!("{PASSWORD}\n").as_bytes());
    drop(stdin);
    stdout.read_to_end(&mut seen).unwrap();
    let exit = child.wait().unwrap();
    let shown = String::from_utf8_lossy(&seen).replace('\r', "");
    assert!(exe.ends_with("graphd"), "pid {pid} is {exe:?}");
    let uid_line = status.lines().find(|l| l.starts_with("Uid:")).unwrap_or("");
    let runs_as = run_as().unwrap_or_else(|| rustix::process::geteuid().as_raw());
    assert!(uid_line.contains(&runs_as.to_string()), "{uid_line}");
    let core = limits
        .lines()
        .find(|l| l.starts_with("Max core file size"))
        .unwrap_or_default();
    assert_eq!(
        core.split_whitespace().collect::<Vec<_>>(),
        ["Max", "core", "file", "size", "0", "0", "bytes"],
        "{limits}"
    );
    assert_eq!(
        owner, 0,
        "/proc/{pid}/environ belongs to uid {owner}: the process is dumpable"
    );
    assert_eq!(exit.code(), Some(0), "{shown}");
    assert!(shown.contains("key matches: yes"), "{shown}");
}
