//! The Graph actions of a rotation: `addKey`, `removeKey` and the rollback that removes an
//! added key again, each with a proof of possession signed by the key that is current at that
//! point, and hints that say what Graph's refusals mean here.

use super::application;
use super::{Journal, Options, Prepared, proof};
use crate::credential::Thumbprints;
use crate::error::{Error, Result, RotateCause};
use crate::graph::Graph;
use crate::identity::CertificateProof;
use crate::messages;

/// A proof for application `object_id`, signed by `signer`'s key.
pub(super) fn sign(
    signer: &CertificateProof,
    object_id: &str,
    opts: &Options,
) -> Result<proof::PossessionProof> {
    let claims = proof::claims(object_id, &opts.audience, crate::clock::now_unix());
    proof::sign(
        signer.signing_key()?,
        &proof::header(signer.thumbprints()),
        &claims,
    )
}

/// The hint for Graph's refusal of an `addKey` / `removeKey` request.
fn action_hint(e: Error) -> Error {
    match e {
        Error::Graph(mut g) => {
            let hint = match (g.status, g.code.as_deref()) {
                (401, Some("Authentication_MissingOrMalformed")) => Some(
                    "Graph refused the proof of possession: its issuer must be the application's \
                     Object ID (not the client id: check --object-id if you passed it), and it must \
                     be signed by a certificate registered on the application and valid now",
                ),
                (403, _) => Some(
                    "an app may add and remove only its own keys, with an app-only token: check \
                     --object-id and the client id",
                ),
                (404, _) => Some("no application with this object id: check --object-id"),
                _ => None,
            };
            if let Some(h) = hint {
                g.hint = Some(h.into());
            }
            Error::Graph(g)
        }
        other => other,
    }
}

/// Step 4: addKey; on failure the cause, and what to check when the outcome is unknown.
pub(super) async fn add_key(
    graph: &mut Graph<'_>,
    object_id: &str,
    body: &[u8],
    new: &Thumbprints,
) -> Result<application::KeyCredential, (RotateCause, Option<String>)> {
    let url = application::action(graph, object_id, "addKey").map_err(|e| (e.into(), None))?;
    let unknown = || {
        Some(format!(
            "the new certificate (thumbprint {}) may have been added anyway: look for it among the \
             application's certificates and remove it (its key was not saved)",
            new.sha1_hex()
        ))
    };
    match graph.post_json(&url, body).await {
        Ok(answer) => application::parse_added(&answer, new).map_err(|p| (p.into(), unknown())),
        Err(e @ Error::Network { .. }) => Err((e.into(), unknown())),
        Err(e) => Err((action_hint(e).into(), None)),
    }
}

/// removeKey for `key_id`, the proof signed by `signer`.
pub(super) async fn remove_key(
    graph: &mut Graph<'_>,
    object_id: &str,
    key_id: &str,
    signer: &CertificateProof,
    opts: &Options,
) -> Result<()> {
    let pop = sign(signer, object_id, opts)?;
    let body = application::remove_key_body(key_id, &pop);
    let url = application::action(graph, object_id, "removeKey")?;
    graph
        .post_json(&url, &body)
        .await
        .map(drop)
        .map_err(action_hint)
}

/// Removes the added key `key_id` again (proof signed with the old key) after a later step
/// failed; returns what is left for the user when that fails too.
pub(super) async fn rollback(
    graph: &mut Graph<'_>,
    p: &Prepared<'_>,
    object_id: &str,
    key_id: &str,
    signer: &CertificateProof,
    opts: &Options,
    j: &mut Journal,
) -> Option<String> {
    match remove_key(graph, object_id, key_id, signer, opts).await {
        Ok(()) => {
            messages::info(&format!(
                "rotate: removed the new certificate (keyId {key_id}) again; the current key is unchanged"
            ));
            j.did(
                "it was removed again (removeKey), so the application is as it was and the current key is unchanged"
                    .to_string(),
            );
            None
        }
        Err(e) => {
            messages::warn(&format!("removing the new certificate again failed: {e}"));
            Some(format!(
                "the current key is unchanged and still works; the new certificate (keyId {key_id}) is still registered but its key was not kept: remove it with {}",
                p.plan.remove_command(key_id)
            ))
        }
    }
}
