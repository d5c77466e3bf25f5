//! `graphd rotate`: the application replaces its own certificate through Graph's `addKey` and
//! `removeKey` (docs/protocol.md#certificate-self-rotation), safe at every step.
//!
//! 0. local checks: the credential files (or the key's objects in its PKCS#11 token), the
//!    password, the new subject and key size;
//! 1. the application's object id and key credentials;
//! 2. a new key and self-signed certificate (gen-cert's engine), staged next to the files, or
//!    generated inside the same token under temporary names (`token`);
//! 3. the proof of possession, signed with the current key;
//! 4. `addKey` with the new certificate;
//! 5. a token with the new key, waiting out propagation (AADSTS700027);
//! 6. the previous files kept as `NAME.previous-DATE`, the new ones put in place; in a token,
//!    the objects swap names (the old ones kept as `LABEL.previous-DATE`);
//! 7. with `--remove-old`, `removeKey` for the old certificate, proof signed with the new key.
//!
//! Every step says what it did on stderr. Until step 6 the current key, files and token
//! objects are untouched; a failure after step 4 removes the new key again (proof signed with
//! the old key) and a new key made in a token is destroyed, so a failed rotation leaves the
//! application as it was. The error names the step, what was done and what is left to do.
//! Nothing here prints a key, a PIN, a proof or a token.

mod actions;
mod application;
mod files;
mod made;
mod plan;
pub mod proof;
mod prove;
mod token;

use std::time::Duration;

use openssl::x509::X509Ref;

use self::application::KeyCredential;
use self::files::CredentialFiles;
pub use self::files::Layout;
pub use self::plan::{Holder, Plan, TokenPlan};
use crate::client::Client;
use crate::clock;
use crate::credential::{CredentialSource, Thumbprints};
use crate::error::{
    ConfigProblem, Error, GraphFailure, NewPasswordProblem, Result, RotateCause, RotateFailure,
    RotateProblem, RotateStep as Step,
};
use crate::gen_cert::{KEY_SIZES, Subject};
use crate::graph::Graph;
use crate::identity::{CertificateProof, Identity, Proof};
use crate::jws::Alg;
use crate::messages;
use crate::password::PasswordSource;
use crate::pkcs11::KeySpec;
use crate::secret::Password;

mod steps;

/// What the command line asked for.
#[derive(Debug, Clone)]
pub struct Options {
    pub object_id: Option<String>,
    pub old_key_id: Option<String>,
    pub remove_old: bool,
    pub dry_run: bool,
    pub propagation_timeout: Duration,
    /// The proof's `aud` ([`proof::AUDIENCE`] unless overridden).
    pub audience: String,
    /// `None`: the current certificate's subject.
    pub subject: Option<Subject>,
    pub days: u32,
    /// `None`: the current key's size (2048 if it is not one gen-cert offers).
    pub key_size: Option<u32>,
}

/// The current credential as the settings described it, before the client took them.
#[derive(Debug)]
pub struct Current {
    pub key: CurrentKey,
    pub alg: Option<Alg>,
    pub send_x5c: bool,
}

/// Where the current key is.
#[derive(Debug)]
pub enum CurrentKey {
    Files {
        source: CredentialSource,
        /// The same password source again, for the new file; `None` when it was stdin.
        passwords: Option<PasswordSource>,
    },
    /// In a PKCS#11 token: the URI, the certificate's source, the module, the PIN source.
    Token(Box<KeySpec>),
}

/// How a rotation ended.
#[derive(Debug)]
pub struct Outcome {
    /// The new certificate as PEM; `None` after `--dry-run`.
    pub cert_pem: Option<Vec<u8>>,
    /// A failure of step 7 (removeKey) after the rotation itself succeeded.
    pub late_failure: Option<Error>,
}

/// What has been done so far, for the error of a later step.
#[derive(Debug, Default)]
struct Journal {
    done: Vec<String>,
}

impl Journal {
    fn did(&mut self, what: String) {
        self.done.push(what);
    }

    fn fail(&self, step: Step, cause: impl Into<RotateCause>, todo: Option<String>) -> Error {
        Error::Rotate(Box::new(RotateFailure {
            step,
            cause: cause.into(),
            done: self.done.clone(),
            todo,
        }))
    }
}

/// A progress line on stderr: `rotate N/7 LABEL: TEXT`.
fn progress(step: Step, label: &str, text: &str) {
    messages::info(&format!("rotate {}/7 {label}: {text}", step.number()));
}

/// What step 0 found and decided.
struct Prepared<'a> {
    plan: Plan,
    /// The current certificate proof (key loaded).
    proof: &'a CertificateProof,
    target: Target,
    old: Thumbprints,
    alg: Option<Alg>,
    send_x5c: bool,
}

/// Where the new key goes: files next to the current ones, or the current key's token.
enum Target {
    Files {
        files: CredentialFiles,
        /// The current files' password, for the new ones.
        new_password: Option<Password>,
    },
    Token(Box<token::InToken>),
}

/// Runs a rotation for `client`'s identity.
pub async fn run(client: &Client, current: Current, opts: &Options) -> Result<Outcome> {
    let journal = Journal::default();
    let prepared = check(client, current, opts).map_err(|c| journal.fail(Step::Check, c, None))?;
    if opts.dry_run {
        let object = prepared
            .plan
            .object_id
            .clone()
            .unwrap_or_else(|| "<object id>".into());
        let header = proof::header(&prepared.old);
        let claims = proof::claims(&object, &opts.audience, clock::now_unix());
        messages::info(&prepared.plan.describe(&header, &claims));
        return Ok(Outcome {
            cert_pem: None,
            late_failure: None,
        });
    }
    steps::run(client, prepared, opts, journal).await
}

/// Step 0: everything that can be checked without the network.
fn check<'a>(
    client: &'a Client,
    current: Current,
    opts: &Options,
) -> Result<Prepared<'a>, RotateCause> {
    // Other proof kinds (a federated token) have no key to rotate.
    #[allow(irrefutable_let_patterns)]
    let Proof::Certificate(proof) = client.identity.proof() else {
        return Err(RotateCause::Problem(RotateProblem::UnsupportedCredential {
            why: "the app proves itself without a certificate".into(),
        }));
    };
    let (target, holder) = match current.key {
        CurrentKey::Files { source, passwords } => check_files(proof, &source, passwords)?,
        CurrentKey::Token(spec) => {
            // Logs in (once) and finds the key: a key that cannot sign fails here.
            proof.signing_key()?;
            let leaf = leaf_of(proof)?;
            let (in_token, plan) = token::check(proof, *spec, leaf, &today())?;
            (Target::Token(Box::new(in_token)), Holder::Token(plan))
        }
    };
    let leaf = leaf_of(proof)?;
    let subject = match &opts.subject {
        Some(s) => s.clone(),
        None => Subject::from_name(leaf.subject_name()).unwrap_or_else(|| {
            messages::warn(
                "the current certificate's subject has attributes gen-cert does not write; the new one is CN=graphd (pass --subject to choose)",
            );
            Subject::parse("CN=graphd").expect("a valid built-in subject")
        }),
    };
    let current_bits = leaf.public_key().map(|k| k.bits()).unwrap_or(0);
    let key_bits = opts
        .key_size
        .unwrap_or(if KEY_SIZES.contains(&current_bits) {
            current_bits
        } else {
            2048
        });
    let old = *proof.thumbprints();
    let plan = Plan {
        client_id: client.identity.app().client_id.clone(),
        object_id: opts.object_id.clone(),
        holder,
        current_thumbprint: old.sha1_hex(),
        current_subject: crate::credential::report::name_to_string(leaf.subject_name()),
        current_expires: expires(leaf),
        subject,
        days: opts.days,
        key_bits,
        remove_old: opts.remove_old,
        old_key_id: opts.old_key_id.clone(),
        propagation_timeout: opts.propagation_timeout,
        graph: crate::cloud::base_str(&client.net.graph),
    };
    if !opts.dry_run {
        let what = match &plan.holder {
            Holder::Files { files, .. } => format!(
                "{} (certificate {}, thumbprint {}, expires {})",
                files
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(" and "),
                plan.current_subject,
                plan.current_thumbprint,
                plan.current_expires
            ),
            Holder::Token(t) => format!(
                "key {} in token {}; certificate {} ({}), thumbprint {}, expires {}",
                t.key,
                t.token,
                plan.current_subject,
                t.cert,
                plan.current_thumbprint,
                plan.current_expires
            ),
        };
        progress(Step::Check, "checked", &what);
    }
    Ok(Prepared {
        plan,
        proof,
        target,
        old,
        alg: current.alg,
        send_x5c: current.send_x5c,
    })
}

/// The current certificate (the key is loaded).
fn leaf_of(proof: &CertificateProof) -> Result<&X509Ref, RotateCause> {
    match proof.chain()?.first() {
        Some(leaf) => Ok(leaf),
        None => Err(RotateCause::Problem(RotateProblem::UnsupportedCredential {
            why: "no certificate is configured, only a thumbprint".into(),
        })),
    }
}

/// Step 0 for credential files: read them, load the key, find the password for the new ones.
fn check_files(
    proof: &CertificateProof,
    source: &CredentialSource,
    passwords: Option<PasswordSource>,
) -> Result<(Target, Holder), RotateCause> {
    let files = CredentialFiles::read(source, proof.hints().cert_file)?;
    // Loads the key (asking for its password if needed): a key that cannot sign fails here.
    proof.signing_key()?;
    leaf_of(proof)?;
    let new_password = match files.encryption() {
        None => None,
        Some(kind) => {
            let Some(mut source) = passwords else {
                return Err(RotateCause::Problem(RotateProblem::PasswordFromStdin));
            };
            let target = files.key_path().display().to_string();
            let password = if source.supplied() {
                source.get(kind, files.key_path())?
            } else {
                source.get_new(&target)?
            };
            match (password, kind) {
                (Some(p), _) => Some(p),
                // A PFX opened without a password gets none either.
                (None, crate::error::Encrypted::Pfx) => Some(Password::new(String::new())),
                (None, crate::error::Encrypted::Key) => {
                    return Err(Error::Config(ConfigProblem::NewPassword(
                        NewPasswordProblem::Required("the new key"),
                    ))
                    .into());
                }
            }
        }
    };
    let holder = Holder::Files {
        layout: files.layout(),
        files: files.shown().into_iter().map(|p| p.to_path_buf()).collect(),
        encrypted: files.encryption().is_some() && files.layout() != Layout::Pfx,
    };
    Ok((
        Target::Files {
            files,
            new_password,
        },
        holder,
    ))
}

/// A certificate's expiry as RFC 3339.
fn expires(cert: &X509Ref) -> String {
    clock::asn1_to_unix(cert.not_after())
        .map(clock::rfc3339)
        .unwrap_or_else(|| "(unknown)".into())
}

/// The certificate proof of the new key's identity.
fn certificate_of(identity: &Identity) -> Result<&CertificateProof> {
    #[allow(irrefutable_let_patterns)]
    let Proof::Certificate(c) = identity.proof() else {
        return Err(Error::Internal(
            "the new identity is not a certificate".into(),
        ));
    };
    Ok(c)
}

/// A 200 answer that is not what was asked for, as a Graph failure.
fn unusable(path: &str, why: String) -> Error {
    Error::Graph(Box::new(GraphFailure {
        method: "GET",
        status: 200,
        code: None,
        message: Some(why),
        request_id: None,
        path: path.to_string(),
        hint: Some("is --graph (GRAPHD_GRAPH_ENDPOINT) Microsoft Graph?".into()),
    }))
}

/// The key credentials of `app` that are the certificate `t`.
fn matching(creds: &[KeyCredential], t: &Thumbprints) -> Vec<KeyCredential> {
    creds
        .iter()
        .filter(|c| c.is_certificate(t))
        .cloned()
        .collect()
}

/// `YYYY-MM-DD` today (UTC), for backup names and the new key's display name.
fn today() -> String {
    clock::rfc3339(clock::now_unix())[..10].to_string()
}

/// Reads the application (step 1) with `graph`.
async fn read_application(
    graph: &mut Graph<'_>,
    plan: &Plan,
) -> Result<Option<application::Application>, RotateCause> {
    let url = match &plan.object_id {
        Some(id) => application::by_object_id(graph, id)?,
        None => application::by_app_id(graph, &plan.client_id)?,
    };
    match graph.get(&url, false).await {
        Ok(body) => application::parse_application(&body)
            .map(Some)
            .map_err(|why| RotateCause::Error(unusable(url.path(), why))),
        Err(Error::Graph(mut g)) if g.status == 403 => {
            if plan.object_id.is_some() {
                progress(
                    Step::Application,
                    "application",
                    "cannot read the application (HTTP 403); going on with --object-id",
                );
                return Ok(None);
            }
            g.hint = Some(format!(
                "reading the app registration needs Application.Read.All (or \
                 Application.ReadWrite.OwnedBy); without it, pass --object-id with the Object ID \
                 shown on the app registration's Overview page (client id {})",
                plan.client_id
            ));
            Err(RotateCause::Error(Error::Graph(g)))
        }
        Err(e) => Err(RotateCause::Error(e)),
    }
}
