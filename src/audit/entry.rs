//! What one audit-log entry holds, and its canonical serialisation.

use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::answer::RightsAnswerRecord;
use super::chain::ChainHead;
use super::digest::{Digest, PolicyRef};
use crate::consent::{ConsentChange, ConsentEvent, ConsentStatus};
use crate::decision::{Decision, Obligation, Verdict};
use crate::error::Error;
use crate::ids::{PolicyId, PurposeId, RecipientId, RuleId};
use crate::policy::{Action, DataState};
use crate::pseudonym::{KeyId, Pseudonym, PseudonymDomain, Pseudonymiser};
use crate::request::{ClaimedException, RecordEvents, Request};
use crate::taxonomy::CategoryKey;

/// One entry of the audit log.
///
/// # Canonical form
///
/// An entry is stored as the compact JSON that `serde_json` writes for it:
/// the fields in the order declared here (`seq`, `id`, `at`, `prev`,
/// `key` (left out when the entry names no key), `event`, `hash`), every field of every nested struct present in its
/// declared order, lists in the order the decision gave them (sorted), no
/// whitespace, digests and pseudonyms in lowercase hex. Reading an entry
/// back ([`AuditEntry::from_json`]) accepts only that exact byte form.
///
/// `hash` is SHA-256 (or HMAC-SHA256 under the [`ChainKey`](crate::ChainKey)
/// that `key` names) of the prefix `privacy-engine audit v1\n` followed by the canonical JSON
/// of the entry without its `hash` field. Since `prev` is the previous
/// entry's `hash`, each hash covers the whole log before it.
///
/// No field is an unkeyed hash of personal data: the subject id and a birth
/// date appear only as keyed [`Pseudonym`]s, and the chain hash covers the
/// keyed pseudonym, so it cannot be reversed by trying every id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct AuditEntry {
    /// The entry's position in the log, from 0.
    pub seq: u64,
    /// The entry's id, chosen by the caller.
    pub id: Uuid,
    /// When the entry was recorded, as the caller's clock says.
    pub at: DateTime<FixedOffset>,
    /// The hash of the previous entry; [`Digest::ZERO`] for the first.
    pub prev: Digest,
    /// The id of the [`ChainKey`](crate::ChainKey) the hash is an HMAC
    /// under; none in a plain chain, and in a keyed entry written before
    /// keys had ids (format version 1, which verifies under a ring's first
    /// key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<KeyId>,
    /// What happened.
    pub event: AuditEvent,
    /// The hash of this entry (see the canonical form above).
    pub hash: Digest,
}

/// What an entry records.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum AuditEvent {
    /// The engine decided a request.
    Decision(Box<DecisionRecord>),
    /// A consent event was appended to the ledger.
    Consent(Box<ConsentRecord>),
    /// The chain key changed: this entry is under the old key, the entries
    /// after it under the new one.
    ChainKeyRotation(ChainKeyRotation),
    /// The engine answered a rights request.
    RightsAnswer(Box<RightsAnswerRecord>),
}

/// A rotation of the chain key, itself an entry of the chain (under the
/// old key), so that nobody without the old key can switch a log to a key
/// of their own.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainKeyRotation {
    /// The id of the key the following entries are under.
    pub to: KeyId,
}

/// A decision as the audit log keeps it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct DecisionRecord {
    /// The action decided on.
    pub action: Action,
    /// The verdict.
    pub verdict: Verdict,
    /// The ids of the deciding rules, in the decision's order.
    pub rules: Vec<RuleId>,
    /// The obligations.
    pub obligations: Vec<Obligation>,
    /// The policy decided under.
    pub policy: PolicyRef,
    /// The request, its identifiers pseudonymised.
    pub request: AuditedRequest,
}

/// A [`Request`] with every personal identifier replaced by a keyed
/// pseudonym in [`PseudonymDomain::Records`]: the subject id and the birth
/// date. Everything else is kept as it was, so that the decision can be
/// replayed (see [`replay`](crate::replay)).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct AuditedRequest {
    /// The action.
    pub action: Action,
    /// The subject, pseudonymised.
    pub subject: AuditedSubject,
    /// The categories.
    pub categories: Vec<CategoryKey>,
    /// The purpose.
    pub purpose: Option<PurposeId>,
    /// The recipient.
    pub recipient: Option<RecipientId>,
    /// The data's state.
    pub data_state: DataState,
    /// Whether non-personal data was linked to an identity.
    pub linked_to_identity: bool,
    /// The ground claimed, with its evidence.
    pub exception: Option<ClaimedException>,
    /// The destination region.
    pub destination_region: Option<String>,
    /// The time of the processing.
    pub at: DateTime<FixedOffset>,
    /// The retention events.
    pub events: RecordEvents,
}

/// A request's subject with its identifiers pseudonymised.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct AuditedSubject {
    /// The pseudonym of the subject id.
    pub id: Pseudonym,
    /// The stated age.
    pub age: Option<u8>,
    /// The pseudonym of the birth date (`YYYY-MM-DD`), if one was given.
    pub birth_date: Option<Pseudonym>,
    /// The region.
    pub region: Option<String>,
    /// Whether the age comes from a real-name verification.
    pub real_name_verified: bool,
}

/// A consent event as the audit log keeps it: the subject pseudonymised.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ConsentRecord {
    /// The ledger event's id.
    pub event: Uuid,
    /// When it happened.
    pub at: DateTime<FixedOffset>,
    /// The pseudonym of the subject.
    pub subject: Pseudonym,
    /// The policy it was given under.
    pub policy_id: PolicyId,
    /// The version of that policy.
    pub policy_version: String,
    /// The DPV consent status the change leads to (none for a permission
    /// switch).
    pub status: Option<ConsentStatus>,
    /// What happened.
    pub change: ConsentChange,
}

/// The part of an entry its hash covers: everything but the hash, in the
/// same order.
#[derive(Serialize)]
struct Body<'a> {
    seq: u64,
    id: &'a Uuid,
    at: &'a DateTime<FixedOffset>,
    prev: &'a Digest,
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<&'a KeyId>,
    event: &'a AuditEvent,
}

impl AuditEntry {
    /// The canonical JSON of the entry (see [the canonical form](Self)).
    ///
    /// # Errors
    ///
    /// An error of kind [`Audit`](crate::ErrorKind::Audit) if the entry
    /// cannot be serialised (it always can).
    pub fn to_json(&self) -> Result<Vec<u8>, Error> {
        serde_json::to_vec(self).map_err(|e| Error::audit(format!("cannot serialise audit entry: {e}")))
    }

    /// The head of a log whose last entry is this one.
    pub fn head_after(&self) -> ChainHead {
        ChainHead { len: self.seq + 1, hash: self.hash }
    }

    /// The chain key the entry after this one goes under: the key it names
    /// a rotation to, else its own (none on a plain chain).
    pub(crate) fn next_key(&self) -> Option<&KeyId> {
        match &self.event {
            AuditEvent::ChainKeyRotation(r) => Some(&r.to),
            _ => self.key.as_ref(),
        }
    }

    /// Reads an entry from its canonical JSON, refusing any other byte form
    /// of the same content.
    ///
    /// # Errors
    ///
    /// An error of kind [`Audit`](crate::ErrorKind::Audit) for bytes that
    /// are not an entry, or not in canonical form.
    pub fn from_json(bytes: &[u8]) -> Result<Self, Error> {
        let entry: AuditEntry =
            serde_json::from_slice(bytes).map_err(|e| Error::audit(format!("not an audit entry: {e}")))?;
        if entry.to_json()? != bytes {
            return Err(Error::audit("audit entry is not in canonical form".to_owned()));
        }
        Ok(entry)
    }

    /// The subject pseudonym an entry is about (a decision's, a consent
    /// event's or a rights answer's subject), as a database store indexes
    /// it for a subject's export.
    #[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]
    pub(crate) fn subject(&self) -> Option<String> {
        match &self.event {
            AuditEvent::Decision(d) => Some(d.request.subject.id.to_string()),
            AuditEvent::Consent(c) => Some(c.subject.to_string()),
            AuditEvent::RightsAnswer(a) => Some(a.subject.to_string()),
            AuditEvent::ChainKeyRotation(_) => None,
        }
    }

    /// The canonical bytes of an entry up to its hash field, without the
    /// closing brace: followed by `}`, they are [`body_json`](Self::body_json).
    /// `raw` must be canonical (the hash is the last field, 64 hex digits).
    pub(crate) fn body_of_canonical(raw: &[u8]) -> Option<&[u8]> {
        const HASH_FIELD: &[u8] = b",\"hash\":\"";
        let cut = raw.len().checked_sub(HASH_FIELD.len() + 64 + 2)?;
        let (body, hash) = raw.split_at(cut);
        hash.starts_with(HASH_FIELD).then_some(body)
    }

    /// The canonical bytes the hash is computed over (without the prefix):
    /// the entry without its hash.
    pub(crate) fn body_json(&self) -> Result<Vec<u8>, Error> {
        let body = Body {
            seq: self.seq,
            id: &self.id,
            at: &self.at,
            prev: &self.prev,
            key: self.key.as_ref(),
            event: &self.event,
        };
        serde_json::to_vec(&body).map_err(|e| Error::audit(format!("cannot serialise audit entry: {e}")))
    }
}

impl DecisionRecord {
    /// The record of `decision` on `request` under `policy`, the request's
    /// identifiers pseudonymised with `pseudonyms`.
    pub(crate) fn new(request: &Request, decision: &Decision, policy: &PolicyRef, pseudonyms: &Pseudonymiser) -> Self {
        Self {
            action: decision.action,
            verdict: decision.verdict,
            rules: decision.rule_ids().cloned().collect(),
            obligations: decision.obligations.clone(),
            policy: policy.clone(),
            request: AuditedRequest::new(request, pseudonyms),
        }
    }
}

impl AuditedRequest {
    fn new(request: &Request, pseudonyms: &Pseudonymiser) -> Self {
        let s = &request.subject;
        Self {
            action: request.action,
            subject: AuditedSubject {
                id: records_pseudonym(s.id.as_str(), pseudonyms),
                age: s.age,
                birth_date: s.birth_date.map(|d| records_pseudonym(&birth_text(d), pseudonyms)),
                region: s.region.clone(),
                real_name_verified: s.real_name_verified,
            },
            categories: request.categories.clone(),
            purpose: request.purpose.clone(),
            recipient: request.recipient.clone(),
            data_state: request.data_state,
            linked_to_identity: request.linked_to_identity,
            exception: request.exception.clone(),
            destination_region: request.destination_region.clone(),
            at: request.at,
            events: request.events.clone(),
        }
    }
}

/// How every record keeps a personal identifier (a subject id, a birth
/// date): its pseudonym in [`PseudonymDomain::Records`].
pub(crate) fn records_pseudonym(text: &str, pseudonyms: &Pseudonymiser) -> Pseudonym {
    pseudonyms.pseudonymise(&PseudonymDomain::Records, text)
}

/// The text a birth date is pseudonymised from.
pub(crate) fn birth_text(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

impl ConsentRecord {
    pub(crate) fn new(event: &ConsentEvent, pseudonyms: &Pseudonymiser) -> Self {
        Self {
            event: event.id,
            at: event.at,
            subject: records_pseudonym(event.subject.as_str(), pseudonyms),
            policy_id: event.policy_id.clone(),
            policy_version: event.policy_version.clone(),
            status: event.change.status(),
            change: event.change.clone(),
        }
    }
}
