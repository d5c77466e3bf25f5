//! Steps 1 to 7 of a rotation, each reporting what it did; a step that fails after `addKey`
//! removes the added key again (`actions::rollback`), and one that fails before step 6
//! discards the new key (its staged files, or the objects made in the token).

use super::actions::{add_key, remove_key, rollback, sign};
use super::application::{self, Application};
use super::made::Made;
use super::token::SwapFailed;
use super::{
    Journal, Options, Outcome, Prepared, Target, certificate_of, expires, matching, progress,
    prove, read_application, today,
};
use crate::client::Client;
use crate::credential::openssl_bug;
use crate::error::{Error, Result, RotateCause, RotateProblem, RotateStep as Step};
use crate::graph::Graph;
use crate::messages;
use crate::safe_text::shell_word;

/// Steps 1 to 7, after the checks of step 0.
pub(super) async fn run(
    client: &Client,
    p: Prepared<'_>,
    opts: &Options,
    mut j: Journal,
) -> Result<Outcome> {
    let mut graph = Graph::new(client);

    // 1. The application.
    let app = read_application(&mut graph, &p.plan)
        .await
        .map_err(|c| j.fail(Step::Application, c, None))?;
    let (object_id, old_ids) = application_facts(&p, app.as_ref(), opts)
        .map_err(|c| j.fail(Step::Application, c, None))?;

    // 2. The new key and certificate: staged next to the current files, or made in the token.
    let made = Made::generate(&p).map_err(|e| j.fail(Step::Generate, e, None))?;
    let described = made.thumbprints().and_then(|t| {
        let der = made.certificate().to_der().map_err(openssl_bug)?;
        Ok((t, der))
    });
    let (new, cert_der) = match described {
        Ok(d) => d,
        Err(e) => return Err(discarded(made, &mut j, Step::Generate, e.into(), None)),
    };
    let new_expires = expires(made.certificate());
    progress(
        Step::Generate,
        "generated",
        &format!(
            "{}, subject {}, thumbprint {}, expires {}",
            made.whereabouts(),
            p.plan.subject,
            new.sha1_hex(),
            new_expires
        ),
    );

    // 3 and 4. The proof, signed with the current key, and addKey.
    let display_name = format!("graphd {}", today());
    let pop = match sign(p.proof, &object_id, opts) {
        Ok(pop) => pop,
        Err(e) => return Err(discarded(made, &mut j, Step::Proof, e.into(), None)),
    };
    progress(
        Step::Proof,
        "proof",
        &format!(
            "signed with the current key (kid {}), aud {}, iss {object_id}, valid 10 minutes",
            p.old.sha1_hex(),
            opts.audience
        ),
    );
    let body = application::add_key_body(&cert_der, &display_name, &pop);
    let added = match add_key(&mut graph, &object_id, &body, &new).await {
        Ok(added) => added,
        Err((c, todo)) => return Err(discarded(made, &mut j, Step::AddKey, c, todo)),
    };
    let key_id = added.key_id.clone();
    progress(
        Step::AddKey,
        "addKey",
        &format!("added keyId {key_id} (\"{display_name}\") to application {object_id}"),
    );
    j.did(format!(
        "the new certificate was added to the application (keyId {key_id}, thumbprint {})",
        new.sha1_hex()
    ));

    // 5. A token with the new key, loaded as it will be from now on.
    let proven = match made.identity(client, &p) {
        Ok(identity) => prove::prove(
            &client.http,
            &identity,
            &client.net.scope,
            opts.propagation_timeout,
        )
        .await
        .map(|proven| (identity, proven)),
        Err(e) => Err(e.into()),
    };
    let (identity, proven) = match proven {
        Ok(ok) => ok,
        Err(cause) => {
            let todo = rollback(&mut graph, &p, &object_id, &key_id, p.proof, opts, &mut j).await;
            return Err(discarded(made, &mut j, Step::Prove, cause, todo));
        }
    };
    progress(
        Step::Prove,
        "proven",
        &format!(
            "the token service issued a token for the new key ({} attempt{}, {:.1} s)",
            proven.attempts,
            if proven.attempts == 1 { "" } else { "s" },
            proven.waited.as_secs_f64()
        ),
    );

    // 6. The files, or the token's objects.
    let cert_pem = made.cert_pem()?;
    match (made, &p.target) {
        (Made::Files { staged, .. }, Target::Files { files, .. }) => {
            let replaced = match staged.commit(files, &today()) {
                Ok(r) => r,
                Err(cause) => {
                    let todo =
                        rollback(&mut graph, &p, &object_id, &key_id, p.proof, opts, &mut j).await;
                    return Err(j.fail(Step::Replace, cause, todo));
                }
            };
            for (file, backup) in &replaced.backups {
                progress(
                    Step::Replace,
                    "replaced",
                    &format!(
                        "{} (the previous file is {}, mode 0600)",
                        file.display(),
                        backup.display()
                    ),
                );
            }
            j.did(format!(
                "{} now holds the new key (previous: {})",
                p.plan.holds(),
                replaced
                    .backups
                    .iter()
                    .map(|(_, b)| b.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        (Made::Token(made), Target::Token(in_token)) => match in_token.swap(*made, &today()) {
            Ok(swapped) => {
                for (label, line) in &swapped.lines {
                    progress(Step::Replace, label, line);
                }
                j.did(format!(
                    "{} now names the new key (previous: {})",
                    p.plan.holds(),
                    swapped.previous
                ));
            }
            Err(failed) => {
                // The new key works where it is: keep it, and say how to use or undo it.
                let failure = swap_failed(&p, &mut j, *failed, &key_id, opts);
                return Ok(Outcome {
                    cert_pem: Some(cert_pem),
                    late_failure: Some(failure),
                });
            }
        },
        _ => {
            return Err(Error::Internal(
                "the new key is not kept where the current one is".into(),
            ));
        }
    }

    // 7. The old certificate.
    let late_failure = if !opts.remove_old {
        progress(
            Step::RemoveOld,
            "kept",
            &format!(
                "the old certificate (thumbprint {}) stays registered and works until {}; pass --remove-old to remove it",
                p.old.sha1_hex(),
                p.plan.current_expires
            ),
        );
        None
    } else {
        let signer = certificate_of(&identity)?;
        let mut failure = None;
        for old_id in &old_ids {
            match remove_key(&mut graph, &object_id, old_id, signer, opts).await {
                Ok(()) => {
                    progress(
                        Step::RemoveOld,
                        "removeKey",
                        &format!("removed the old certificate (keyId {old_id})"),
                    );
                    j.did(format!("the old certificate (keyId {old_id}) was removed"));
                }
                Err(e) => {
                    let todo = format!(
                        "the new key works and is in place; the old certificate (keyId {old_id}) is still registered and works until {}: remove it with graphd rotate's next run, in the portal, or with {}",
                        p.plan.current_expires,
                        p.plan.remove_command(old_id)
                    );
                    failure = Some(j.fail(Step::RemoveOld, e, Some(todo)));
                    break;
                }
            }
        }
        failure
    };
    if late_failure.is_none() {
        messages::info(&format!(
            "rotate: done: {} {} the new key (thumbprint {}, expires {}); the certificate follows on stdout",
            shell_word(&p.plan.holds()),
            match p.target {
                Target::Files { .. } => "holds",
                Target::Token(_) => "names",
            },
            new.sha1_hex(),
            new_expires
        ));
    }
    Ok(Outcome {
        cert_pem: Some(cert_pem),
        late_failure,
    })
}

/// The failure of `step` before step 6, after discarding the new key (staged files, or the
/// objects made in the token).
fn discarded(
    made: Made,
    j: &mut Journal,
    step: Step,
    cause: RotateCause,
    todo: Option<String>,
) -> Error {
    let left = made.discard();
    let todo = match (todo, left) {
        (Some(t), Some(l)) => Some(format!("{t}; {l}")),
        (t, l) => t.or(l),
    };
    j.fail(step, cause, todo)
}

/// Step 6 failed in the token: nothing was swapped (or the hint says what the token would not
/// undo); the new key is registered, proven and under its temporary names.
fn swap_failed(
    p: &Prepared<'_>,
    j: &mut Journal,
    failed: SwapFailed,
    key_id: &str,
    opts: &Options,
) -> Error {
    let cert_file = match &p.plan.holder {
        super::Holder::Token(t) => t.cert_file.clone(),
        super::Holder::Files { .. } => None,
    };
    let mut todo = if failed.stuck.is_empty() {
        format!(
            "the token's objects{} are as they were and the current key still works",
            cert_file
                .map(|f| format!(" and {}", f.display()))
                .unwrap_or_default()
        )
    } else {
        format!(
            "the token could not undo every rename ({}): put those names back with the token's own tool",
            failed.stuck.join("; ")
        )
    };
    todo += &format!(
        "; the new key is registered and works as {} (its certificate next to it): switch to that URI, \
         or undo the rotation with {} and destroy those objects with the token's own tool",
        shell_word(&failed.new_uri.to_string()),
        p.plan.remove_command(key_id)
    );
    if opts.remove_old {
        todo += "; the old certificate was not removed (--remove-old): it is still the one in use";
    }
    j.fail(Step::Replace, failed.cause, Some(todo))
}

/// The object id to use, and the old key ids to remove (with `--remove-old`).
fn application_facts(
    p: &Prepared<'_>,
    app: Option<&Application>,
    opts: &Options,
) -> Result<(String, Vec<String>), RotateCause> {
    let object_id = match (&p.plan.object_id, app) {
        (Some(id), _) => id.clone(),
        (None, Some(a)) => a.id.clone(),
        // read_application fails when it has neither.
        (None, None) => return Err(Error::Internal("no object id".into()).into()),
    };
    if let Some(a) = app {
        let path = "/v1.0/applications";
        if !crate::cloud::is_guid(&a.id) || !a.id.eq_ignore_ascii_case(&object_id) {
            return Err(super::unusable(
                path,
                "an application whose id is not the one asked for".into(),
            )
            .into());
        }
        if let Some(app_id) = a.app_id.as_deref()
            && !app_id.eq_ignore_ascii_case(&p.plan.client_id)
        {
            return Err(RotateProblem::ObjectIdOfAnotherApp {
                object_id,
                app_id: app_id.to_string(),
            }
            .into());
        }
    }
    let current = app.map(|a| matching(&a.key_credentials, &p.old));
    let old_ids = match (&opts.old_key_id, app) {
        (Some(id), Some(a))
            if !a
                .key_credentials
                .iter()
                .any(|c| c.key_id.eq_ignore_ascii_case(id)) =>
        {
            return Err(RotateProblem::NoSuchKey { key_id: id.clone() }.into());
        }
        (Some(id), _) => vec![id.clone()],
        (None, _) if !opts.remove_old => Vec::new(),
        (None, None) => return Err(RotateProblem::OldKeyUnknown.into()),
        (None, Some(_)) => {
            let ids: Vec<String> = current.iter().flatten().map(|c| c.key_id.clone()).collect();
            if ids.is_empty() {
                return Err(RotateProblem::OldKeyNotRegistered {
                    thumbprint: p.old.sha1_hex(),
                }
                .into());
            }
            ids
        }
    };
    let registered = match (&current, app) {
        (Some(found), Some(a)) => {
            if found.is_empty() {
                messages::warn(&format!(
                    "none of the application's {} key credentials is the current certificate (thumbprint {})",
                    a.key_credentials.len(),
                    p.old.sha1_hex()
                ));
            }
            format!(
                "{} key credential{}; the current certificate is {}",
                a.key_credentials.len(),
                if a.key_credentials.len() == 1 {
                    ""
                } else {
                    "s"
                },
                match found.as_slice() {
                    [] => "not among them".to_string(),
                    [one] => format!("keyId {}", one.key_id),
                    many => format!("{} of them (duplicates)", many.len()),
                }
            )
        }
        _ => "key credentials not read".into(),
    };
    progress(
        Step::Application,
        "application",
        &format!("object id {object_id}, {registered}"),
    );
    Ok((object_id, old_ids))
}
