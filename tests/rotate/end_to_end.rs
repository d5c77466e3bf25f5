//! Rotations that succeed: the new key works, the old one is removed or kept as asked, the
//! previous file is kept, every credential layout is rewritten as it was, propagation is
//! waited out, and `--dry-run` sends nothing.

use std::os::unix::fs::PermissionsExt;

use super::*;

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn remove_old_leaves_only_the_new_key_working() {
    let cred = Cred::new(&["--subject", "CN=graphd-ci,O=Contoso"], None);
    let emu = emulator(&cred, &["Application.Read.All"], 0);
    let original = std::fs::read(&cred.key).unwrap();
    let upload = std::fs::read(&cred.cert).unwrap();
    let old_thumbprint = thumbprint_of(&upload);

    // With -v: the traces name every request, and still no secret.
    let out = run(rotate(&emu, &cred.key).args(["--remove-old", "-v"]));
    out.ok();
    assert!(out.stderr.contains("/addKey -> 200"), "{}", out.stderr);

    // stdout is exactly the new certificate, the one now in key.pem.
    let new_pem = std::fs::read(&cred.key).unwrap();
    assert!(
        out.stdout.starts_with("-----BEGIN CERTIFICATE-----"),
        "{}",
        out.stdout
    );
    assert_eq!(
        out.stdout.matches("-----BEGIN").count(),
        1,
        "{}",
        out.stdout
    );
    let printed = X509::from_pem(out.stdout.as_bytes()).unwrap();
    let key_pem_text = String::from_utf8(new_pem.clone()).unwrap();
    let cert_in_key = &key_pem_text[key_pem_text.find("-----BEGIN CERTIFICATE-----").unwrap()..];
    assert_eq!(
        thumbprint_of(out.stdout.as_bytes()),
        thumbprint_of(cert_in_key.as_bytes())
    );
    let new_thumbprint = thumbprint_of(cert_in_key.as_bytes());
    assert_ne!(new_thumbprint, old_thumbprint);
    // The subject is kept.
    assert_eq!(
        graphd::credential::report::name_to_string(printed.subject_name()),
        "CN=graphd-ci, O=Contoso"
    );

    // Every step said what it did.
    for n in 0..=7 {
        assert!(
            out.stderr.contains(&format!("rotate {n}/7 ")),
            "step {n}:\n{}",
            out.stderr
        );
    }
    // The previous file is kept, private, byte for byte; the upload file is not touched.
    let backup = cred.path(&format!("certs/key.pem.previous-{}", today()));
    assert_eq!(std::fs::read(&backup).unwrap(), original);
    assert_eq!((mode(&cred.key), mode(&backup)), (0o600, 0o600));
    assert_eq!(std::fs::read(&cred.cert).unwrap(), upload);
    assert_eq!(
        cred.listing(),
        [
            "cert.pem",
            "key.pem",
            &format!("key.pem.previous-{}", today())
        ]
    );

    // The application holds the new certificate only, named after today.
    let creds = credentials(&emu);
    assert_eq!(creds.len(), 1, "{creds:?}");
    assert_eq!(creds[0].thumbprint, new_thumbprint);
    assert_eq!(
        creds[0].display_name.as_deref(),
        Some(format!("graphd {}", today()).as_str())
    );
    // The calls Graph saw: read, add, remove; the proofs and bodies are nowhere in the log.
    let calls = graph_calls(&emu);
    let object_id = emu.object_id(CLIENT_ID).unwrap();
    assert_eq!(
        calls,
        [
            format!("GET /v1.0/applications(appId='{CLIENT_ID}') 200"),
            format!("POST /v1.0/applications/{object_id}/addKey 200"),
            format!("POST /v1.0/applications/{object_id}/removeKey 204"),
        ]
    );

    // The old key is refused, the new one works.
    let old = token(&emu, &backup, &[]);
    old.refused(4, None, "AADSTS700027");
    token(&emu, &cred.key, &[]).ok();

    no_secrets(
        &format!("{}{}", out.stdout, out.stderr),
        &[&original, &new_pem],
    );
}

#[test]
fn without_remove_old_both_keys_work() {
    // No Graph permission at all: the app cannot read itself, so --object-id says where it is.
    let cred = Cred::new(&[], None);
    let emu = emulator(&cred, &[], 0);
    let object_id = emu.object_id(CLIENT_ID).unwrap();
    let out = run(rotate(&emu, &cred.key).args(["--object-id", &object_id]));
    out.ok();
    assert!(out.stderr.contains("HTTP 403"), "{}", out.stderr);
    assert!(out.stderr.contains("rotate 7/7 kept"), "{}", out.stderr);
    assert_eq!(registered(&emu).len(), 2);
    let backup = cred.path(&format!("certs/key.pem.previous-{}", today()));
    token(&emu, &backup, &[]).ok();
    token(&emu, &cred.key, &[]).ok();
}

#[test]
fn an_encrypted_pair_keeps_its_layout_and_password() {
    let cred = Cred::new(
        &["--encrypt-key", "--password-file", "pw"],
        Some("rotation pw"),
    );
    let emu = emulator(&cred, &["Application.Read.All"], 0);
    let pw = cred.path("pw");
    let mut cmd = rotate(&emu, &cred.cert);
    cmd.arg("--key")
        .arg(&cred.key)
        .arg("--password-file")
        .arg(&pw);
    run(&mut cmd).ok();
    // key.pem: still encrypted, still key + certificate; cert.pem: the new certificate.
    let key_pem = std::fs::read_to_string(&cred.key).unwrap();
    assert!(
        key_pem.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"),
        "{key_pem}"
    );
    let cert_in_key = &key_pem[key_pem.find("-----BEGIN CERTIFICATE-----").unwrap()..];
    let cert_pem = std::fs::read(&cred.cert).unwrap();
    assert_eq!(
        thumbprint_of(cert_in_key.as_bytes()),
        thumbprint_of(&cert_pem)
    );
    assert_eq!(registered(&emu).len(), 2);
    assert_eq!(registered(&emu)[1], thumbprint_of(&cert_pem));
    let mut names = cred.listing();
    names.retain(|n| n.contains(".previous-"));
    assert_eq!(names.len(), 2, "both files were kept: {names:?}");
    let pw_arg = pw.to_str().unwrap();
    token(&emu, &cred.key, &["--password-file", pw_arg]).ok();
    let key_arg = cred.key.to_str().unwrap();
    token(
        &emu,
        &cred.cert,
        &["--key", key_arg, "--password-file", pw_arg],
    )
    .ok();
    // The same password and nothing else opens it.
    std::fs::write(&pw, "another").unwrap();
    token(&emu, &cred.key, &["--password-file", pw_arg]).refused(
        3,
        Some(&cred.key),
        "wrong password",
    );
}

#[test]
fn a_pfx_is_rewritten_under_the_same_password() {
    let cred = Cred::new(&["--pfx", "--password-file", "pw"], Some("pfx pw"));
    let emu = emulator(&cred, &["Application.Read.All"], 0);
    let pfx = cred.path("certs/graphd.pfx");
    let mut cmd = rotate(&emu, &pfx);
    cmd.env("AZURE_CLIENT_CERTIFICATE_PASSWORD", "pfx pw");
    let out = run(cmd.arg("--remove-old"));
    out.ok();
    let backup = cred.path(&format!("certs/graphd.pfx.previous-{}", today()));
    assert!(backup.exists());
    let mut t = graphd_at(&emu);
    t.env("AZURE_CLIENT_CERTIFICATE_PATH", &pfx)
        .env("AZURE_CLIENT_CERTIFICATE_PASSWORD", "pfx pw")
        .arg("token");
    run(&mut t).ok();
    assert_eq!(registered(&emu), [thumbprint_of(out.stdout.as_bytes())]);
}

#[test]
fn a_propagation_delay_is_waited_out() {
    let cred = Cred::new(&[], None);
    // The new key reaches the token side 1.2 s after addKey: the first tries are refused.
    let emu = emulator(&cred, &["Application.Read.All"], 1_200);
    let out = run(rotate(&emu, &cred.key).arg("--remove-old"));
    out.ok();
    let statuses = token_statuses(&emu);
    // The old key's token for Graph, then the new key: refused at least once, then issued.
    assert_eq!(statuses.first(), Some(&200), "{statuses:?}");
    let proving = &statuses[1..];
    assert!(
        proving.len() >= 2,
        "the new key was tried more than once: {statuses:?}"
    );
    assert!(
        proving[..proving.len() - 1].iter().all(|s| *s == 401),
        "{statuses:?}"
    );
    assert_eq!(proving.last(), Some(&200), "{statuses:?}");
    assert!(out.stderr.contains("AADSTS700027"), "{}", out.stderr);
    token(&emu, &cred.key, &[]).ok();
}

#[test]
fn dry_run_sends_nothing_and_writes_nothing() {
    let cred = Cred::new(&[], None);
    let emu = emulator(&cred, &["Application.Read.All"], 0);
    let object_id = emu.object_id(CLIENT_ID).unwrap();
    let before = cred.listing();
    let original = std::fs::read(&cred.key).unwrap();
    let out =
        run(rotate(&emu, &cred.key).args(["--dry-run", "--remove-old", "--object-id", &object_id]));
    out.ok();
    assert_eq!(out.stdout, "", "no certificate: none was made");
    let counters = emu.counters();
    assert_eq!((counters.token.requests, counters.graph.requests), (0, 0));
    assert_eq!(cred.listing(), before);
    assert_eq!(std::fs::read(&cred.key).unwrap(), original);
    // The plan and the proof's claims, never a signature.
    for part in [
        "nothing will be sent",
        "\"aud\":\"00000002-0000-0000-c000-000000000000\"",
        &format!("\"iss\":\"{object_id}\""),
        "\"alg\":\"RS256\"",
        "removeKey",
    ] {
        assert!(out.stderr.contains(part), "{part}:\n{}", out.stderr);
    }
    no_secrets(&out.stderr, &[&original]);
}
