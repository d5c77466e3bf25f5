//! `graphd cert FILE --expires-within DAYS`: 0 when valid for longer, 7 when it expires within
//! DAYS, 3 when it has expired, for a cron job or CI schedule that rotates or alerts.

use super::*;
use crate::support::fixtures::fixtures;

fn cert_check(path: &Path, days: &str) -> Outcome {
    let mut cmd = graphd();
    cmd.arg("cert").arg(path).args(["--expires-within", days]);
    run(&mut cmd)
}

#[test]
fn exit_codes_follow_the_expiry() {
    let cred = Cred::new(&["--days", "10"], None);
    // Expires in 10 days: within 30, not within 5 (nor 0).
    for file in [&cred.key, &cred.cert] {
        let soon = cert_check(file, "30");
        let (error, hint) = failed_expiry(&soon);
        assert!(
            error.contains("expires on") && error.contains("within 30"),
            "{error}"
        );
        assert!(hint.contains("graphd rotate"), "{hint}");
        // The report is still printed.
        assert!(soon.stdout.contains("thumbprint:"), "{}", soon.stdout);
        cert_check(file, "5").ok();
        cert_check(file, "0").ok();
    }
    // Expired: refused as before, exit 3.
    let expired = fixtures().path("expired.pem");
    let out = cert_check(&expired, "30");
    assert_eq!(out.code, Some(3), "{}", out.stderr);
    assert!(out.stderr.contains("expired"), "{}", out.stderr);
    // Not a number of days: usage.
    assert_eq!(cert_check(&cred.key, "soon").code, Some(2));
}

fn failed_expiry(out: &Outcome) -> (String, String) {
    assert_eq!(out.code, Some(7), "{}", out.stderr);
    let error = out
        .stderr
        .lines()
        .find(|l| l.starts_with("graphd: error:"))
        .expect("an error line")
        .to_string();
    let hint = out
        .stderr
        .lines()
        .find(|l| l.starts_with("hint: "))
        .expect("a hint line")
        .to_string();
    (error, hint)
}
