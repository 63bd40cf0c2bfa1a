//! Replaying a recorded decision: same policy, same consents, same request,
//! same decision.

use chrono::NaiveDate;

use super::digest::{PolicyRef, policy_digest};
use super::entry::{AuditEntry, AuditEvent, birth_text};
use crate::consent::ConsentStore;
use crate::decision::Decision;
use crate::engine::Engine;
use crate::error::Error;
use crate::ids::SubjectId;
use crate::pseudonym::{Pseudonym, PseudonymDomain, Pseudonymiser};
use crate::request::{Request, Subject};

/// The real identifiers of the subject of a recorded decision, which the
/// log holds only as pseudonyms.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReplaySubject {
    /// The subject id.
    pub id: SubjectId,
    /// The birth date, needed if the request gave one.
    pub birth_date: Option<NaiveDate>,
}

impl ReplaySubject {
    /// A subject known by id (the request gave no birth date).
    pub fn new(id: impl Into<SubjectId>) -> Self {
        Self { id: id.into(), birth_date: None }
    }
}

/// A replayed decision.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Replay {
    /// The decision the engine gives now.
    pub decision: Decision,
    /// Whether it has the recorded action, verdict, rule ids and
    /// obligations.
    pub matches: bool,
}

/// Evaluates a recorded decision again.
///
/// The entry holds the request with its identifiers pseudonymised; the
/// caller supplies the real ones in `subject`, and each must have the
/// recorded pseudonym (under the key the pseudonym names, which
/// `pseudonyms` must still hold). The request is rebuilt from the entry
/// with those identifiers and evaluated by `engine` against `consents`.
/// The ledger is append-only and read as of the request's time, so events
/// added since do not change the answer. The decision is made under the
/// version of the policy the entry names, found among the engine's
/// [`versions`](Engine::versions), even if another is in force now.
///
/// # Errors
///
/// An error of kind [`Audit`](crate::ErrorKind::Audit) if the entry is not
/// a decision, if the engine has no version of the recorded policy id and
/// version, if that version's digest differs from the recorded one
/// (replaying under another policy proves nothing), or if an identifier in
/// `subject` does not have the recorded pseudonym.
///
/// # Example
///
/// See [`AuditLog::replay`](crate::AuditLog::replay).
pub fn replay(
    entry: &AuditEntry,
    engine: &Engine,
    subject: &ReplaySubject,
    consents: &impl ConsentStore,
    pseudonyms: &Pseudonymiser,
) -> Result<Replay, Error> {
    let AuditEvent::Decision(record) = &entry.event else {
        return Err(Error::audit(format!("audit entry {} is not a decision", entry.seq)));
    };
    // The version the decision was made under, even if another is in
    // force now.
    let engine = recorded_version(engine, &record.policy, entry.seq)?;
    let req = &record.request;
    check_subject(pseudonyms, subject.id.as_str(), &req.subject.id, entry.seq)?;
    let domain = PseudonymDomain::Records;
    match (&req.subject.birth_date, subject.birth_date) {
        (None, None) => {}
        (Some(p), Some(d)) if pseudonyms.verify(&domain, &birth_text(d), p) => {}
        _ => {
            return Err(Error::audit(format!(
                "the birth date does not match the pseudonym in audit entry {}",
                entry.seq
            )));
        }
    }
    let request = Request {
        action: req.action,
        subject: Subject {
            id: subject.id.clone(),
            age: req.subject.age,
            birth_date: subject.birth_date,
            region: req.subject.region.clone(),
            real_name_verified: req.subject.real_name_verified,
        },
        categories: req.categories.clone(),
        purpose: req.purpose.clone(),
        recipient: req.recipient.clone(),
        data_state: req.data_state,
        linked_to_identity: req.linked_to_identity,
        exception: req.exception.clone(),
        destination_region: req.destination_region.clone(),
        at: req.at,
        events: req.events.clone(),
    };
    let decision = engine.evaluate_here(&request, consents);
    let matches = decision.action == record.action
        && decision.verdict == record.verdict
        && decision.rule_ids().eq(record.rules.iter())
        && decision.obligations == record.obligations;
    Ok(Replay { decision, matches })
}

/// The engine's compiled version of the policy `recorded` names, with the
/// recorded digest: the version a record was made under, even if another
/// is in force now.
pub(crate) fn recorded_version<'e>(engine: &'e Engine, recorded: &PolicyRef, seq: u64) -> Result<&'e Engine, Error> {
    let Some(engine) = engine.version(&recorded.version).filter(|e| e.policy().id == recorded.id) else {
        return Err(Error::audit(format!(
            "the engine has no version `{}` of policy `{}`, which audit entry {seq} was made under",
            recorded.version, recorded.id
        )));
    };
    let policy = engine.policy();
    if policy_digest(policy) != recorded.digest {
        return Err(Error::audit(format!(
            "policy `{}` version `{}` does not have the digest recorded in audit entry {seq}",
            policy.id, policy.version
        )));
    }
    Ok(engine)
}

/// Refuses a subject id that does not have the pseudonym recorded in
/// audit entry `seq`.
pub(crate) fn check_subject(pseudonyms: &Pseudonymiser, id: &str, recorded: &Pseudonym, seq: u64) -> Result<(), Error> {
    if pseudonyms.verify(&PseudonymDomain::Records, id, recorded) {
        Ok(())
    } else {
        Err(Error::audit(format!("the subject id does not match the pseudonym in audit entry {seq}")))
    }
}
