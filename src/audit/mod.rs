//! The audit log: an append-only, hash-chained record of decisions and
//! consent events, with verification that says which entry broke the
//! chain, and replay of recorded decisions.
//!
//! The core does no I/O and reads no clock: the caller passes each entry's
//! id and time, and storage arrives through the [`AuditStore`] trait
//! ([`InMemoryAuditStore`], or [`FileAuditStore`], the one type of the
//! crate that touches the file system).

mod answer;
mod chain;
mod digest;
mod entry;
mod file;
mod key;
mod replay;
mod store;

use std::ops::ControlFlow;

use chrono::{DateTime, FixedOffset};
use uuid::Uuid;

use crate::calendar::WorkingCalendar;
use crate::consent::{ConsentEvent, ConsentStore};
use crate::decision::Decision;
use crate::engine::Engine;
use crate::error::Error;
use crate::pseudonym::{KeyId, Pseudonymiser};
use crate::request::Request;
use crate::rights::{Holding, RightsAnswer, RightsRequest};

pub use answer::{AnswerItemRecord, AnswerRecord, AnswerReplay, ItemOutcomeKind, RightsAnswerRecord, replay_answer};
pub use chain::{BreakKind, ChainBreak, ChainHead, Verification, verify_records, verify_store};
use chain::{Keys, Verifier};
pub use digest::{Digest, PolicyRef, policy_digest};
pub(crate) use digest::{hex_decode, hex_encode};
pub use entry::{
    AuditEntry, AuditEvent, AuditedRequest, AuditedSubject, ChainKeyRotation, ConsentRecord, DecisionRecord,
};
pub use file::FileAuditStore;
use key::entry_hash;
pub use key::{ChainKey, ChainKeys};
pub use replay::{Replay, ReplaySubject, replay};
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub(crate) use store::load_by_scan;
pub use store::{AuditStore, InMemoryAuditStore, StoredRecords, Tail, TornRecord};

/// The key `id` names in `keys`; none for a plain chain.
fn chain_key<'k>(keys: Option<&'k ChainKeys>, id: Option<&KeyId>) -> Result<Option<&'k ChainKey>, Error> {
    let (Some(keys), Some(id)) = (keys, id) else {
        return Ok(None);
    };
    keys.get(id).map(Some).ok_or_else(|| {
        Error::key(format!("the audit log continues under chain key `{id}`, which the ring does not hold"))
    })
}

/// An append-only audit log over a store.
///
/// Each entry records a decision (with the request, its identifiers
/// pseudonymised, the verdict, the deciding rule ids, the obligations and
/// the policy's id, version and digest) or a consent event, and is chained
/// to the one before by its hash (see [`AuditEntry`] for the canonical
/// form). [`verify`](Self::verify) detects any modified, removed,
/// reordered or inserted entry and, given a recorded [`ChainHead`],
/// truncation; opening verifies the whole log the same way.
///
/// The chain is keyed (HMAC-SHA256) by default, under a key derived from
/// the pseudonym key ([`open`](Self::open)) or one the caller gives
/// ([`open_keyed`](Self::open_keyed)). **A plain chain**
/// ([`open_plain`](Self::open_plain)) **can be extended by anyone who can
/// write the log**: entries forged and appended after a recorded head
/// verify, and an older copy of the log put back in place verifies unless
/// its current head is stored elsewhere. A key closes both to whoever does
/// not hold it (see [`ChainKey`]).
///
/// # Example
///
/// ```
/// use privacy_engine::*;
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let policy = Policy::from_json(include_str!("../../examples/policies/seed-004.json"))?;
/// let policy_ref = PolicyRef::of(&policy);
/// let engine = Engine::new(policy)?;
/// let ledger = InMemoryLedger::new();
/// let pseudonyms = Pseudonymiser::new(PseudonymKey::from_bytes("k1", &[7; 32])?);
/// let mut log = AuditLog::open(InMemoryAuditStore::new(), pseudonyms)?;
///
/// let request = Request::new(
///     Action::Collect,
///     Subject::new("user-42").age(30),
///     vec![CategoryKey::new("user.contact.phone_number")?],
///     "2024-05-01T10:00:00+08:00".parse()?,
/// )
/// .purpose("registration_login");
/// let decision = engine.evaluate(&request, &ledger);
/// let at = "2024-05-01T10:00:01+08:00".parse()?;
/// let entry = log.record_decision(Uuid::from_u128(1), at, &request, &decision, &policy_ref)?;
/// assert!(!entry.to_json()?.windows(7).any(|w| w == b"user-42"));
///
/// let head = log.verify(None)?.into_result()?;
/// assert_eq!(head.len, 1);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct AuditLog<S> {
    store: S,
    pseudonyms: Pseudonymiser,
    /// The chain keys; none for a plain chain.
    keys: Option<ChainKeys>,
    /// The id of the key the next entry goes under.
    key: Option<KeyId>,
    head: ChainHead,
}

impl<S: AuditStore> AuditLog<S> {
    /// Opens a log keyed with the chain keys derived from the pseudonym
    /// keys ([`ChainKeys::derived_from`]), and verifies it.
    ///
    /// Opening reads every record, one at a time, and refuses a log whose
    /// chain is broken anywhere: an altered entry in the middle of a log is
    /// found before anything is appended after it. The time is that of
    /// [`verify`](Self::verify), linear in the log's size; the memory is
    /// bounded by the longest record.
    ///
    /// # Errors
    ///
    /// An error of kind [`Audit`](crate::ErrorKind::Audit) if the store
    /// cannot be read, ends in a torn record (repair it first), or its
    /// chain does not verify under these keys (the message says where).
    pub fn open(store: S, pseudonyms: Pseudonymiser) -> Result<Self, Error> {
        let keys = ChainKeys::derived_from(&pseudonyms);
        Self::open_with(store, pseudonyms, Some(keys))
    }

    /// Opens and verifies a log keyed with `keys`: one [`ChainKey`], or a
    /// [`ChainKeys`] ring holding every key the log was rotated through.
    ///
    /// # Errors
    ///
    /// As [`open`](Self::open).
    pub fn open_keyed(store: S, pseudonyms: Pseudonymiser, keys: impl Into<ChainKeys>) -> Result<Self, Error> {
        Self::open_with(store, pseudonyms, Some(keys.into()))
    }

    /// Opens and verifies a log with a plain SHA-256 chain: anyone can
    /// verify it without a secret, and anyone who can write it can append
    /// entries that verify (see [`ChainKey`]). For logs written plain
    /// before logs were keyed by default, or that a party without any key
    /// must verify.
    ///
    /// # Errors
    ///
    /// As [`open`](Self::open).
    pub fn open_plain(store: S, pseudonyms: Pseudonymiser) -> Result<Self, Error> {
        Self::open_with(store, pseudonyms, None)
    }

    fn open_with(store: S, pseudonyms: Pseudonymiser, keys: Option<ChainKeys>) -> Result<Self, Error> {
        let mut verifier = Verifier::new(keys.as_ref().map_or(Keys::Plain, Keys::Ring), None);
        let torn = store.scan(&mut |raw| verifier.push(raw))?;
        if torn.is_some() {
            return Err(Error::audit("the audit log ends in a torn record: repair it before appending".to_owned()));
        }
        let next = verifier.next_key().cloned();
        let head = verifier
            .finish(None)
            .into_result()
            .map_err(|b| Error::audit(format!("the audit log does not verify: {b}")))?;
        let key = next.or_else(|| keys.as_ref().map(|k| k.newest().id().clone()));
        Ok(Self { store, pseudonyms, keys, key, head })
    }

    /// Records a decision on a request under a policy, at time `at`.
    ///
    /// The subject id and birth date are stored as pseudonyms in
    /// [`PseudonymDomain::Records`](crate::PseudonymDomain::Records).
    ///
    /// # Errors
    ///
    /// An error of kind [`Audit`](crate::ErrorKind::Audit) if the store
    /// refuses the record, or if the decision names a policy id or version
    /// ([`Decision::policy_version`]) other than `policy`'s: the record
    /// keeps the version the decision was made under. The log's head is
    /// then unchanged.
    pub fn record_decision(
        &mut self,
        id: Uuid,
        at: DateTime<FixedOffset>,
        request: &Request,
        decision: &Decision,
        policy: &PolicyRef,
    ) -> Result<AuditEntry, Error> {
        let other_id = decision.policy_id.as_ref().is_some_and(|p| *p != policy.id);
        let other_version = decision.policy_version.as_ref().is_some_and(|v| *v != policy.version);
        if other_id || other_version {
            return Err(Error::audit(format!(
                "the decision was not made under policy `{}` version `{}`",
                policy.id, policy.version
            )));
        }
        let record = DecisionRecord::new(request, decision, policy, &self.pseudonyms);
        self.append(id, at, AuditEvent::Decision(Box::new(record)))
    }

    /// Records the answer to a rights request under a policy, at time
    /// `at`: the subject as its pseudonym in
    /// [`PseudonymDomain::Records`](crate::PseudonymDomain::Records), the
    /// items, duties and deadline with the version of the calendar data it
    /// was counted on, so that [`replay_answer`](Self::replay_answer)
    /// reproduces it.
    ///
    /// # Errors
    ///
    /// An error of kind [`Audit`](crate::ErrorKind::Audit) if the store
    /// refuses the record, or if the answer names a policy version
    /// ([`RightsAnswer::policy_version`]) other than `policy`'s. The log's
    /// head is then unchanged.
    pub fn record_answer(
        &mut self,
        id: Uuid,
        at: DateTime<FixedOffset>,
        request: &RightsRequest,
        answer: &RightsAnswer,
        policy: &PolicyRef,
    ) -> Result<AuditEntry, Error> {
        answer::check_policy(answer, policy)?;
        let record = RightsAnswerRecord::new(request, answer, policy, &self.pseudonyms);
        self.append(id, at, AuditEvent::RightsAnswer(Box::new(record)))
    }

    /// Records a consent event, at time `at`.
    ///
    /// # Errors
    ///
    /// As [`record_decision`](Self::record_decision).
    pub fn record_consent(
        &mut self,
        id: Uuid,
        at: DateTime<FixedOffset>,
        event: &ConsentEvent,
    ) -> Result<AuditEntry, Error> {
        let record = ConsentRecord::new(event, &self.pseudonyms);
        self.append(id, at, AuditEvent::Consent(Box::new(record)))
    }

    /// Rotates the chain key: appends an entry, under the current key,
    /// naming `key`; the entries after it are under `key`. The old keys stay
    /// in the log's ring, so that their entries still verify.
    ///
    /// # Errors
    ///
    /// An error of kind [`Key`](crate::ErrorKind::Key) for a plain chain
    /// (start a keyed log instead) or a key the ring already holds; of kind
    /// [`Audit`](crate::ErrorKind::Audit) if the store refuses the entry,
    /// and then the key is unchanged.
    pub fn rotate_chain_key(
        &mut self,
        id: Uuid,
        at: DateTime<FixedOffset>,
        key: ChainKey,
    ) -> Result<AuditEntry, Error> {
        let Some(keys) = &self.keys else {
            return Err(Error::key("a plain audit chain has no key to rotate: start a keyed log".to_owned()));
        };
        if keys.get(key.id()).is_some() {
            return Err(Error::key(format!("the chain key ring already holds key `{}`", key.id())));
        }
        let to = key.id().clone();
        let entry = self.append(id, at, AuditEvent::ChainKeyRotation(ChainKeyRotation { to: to.clone() }))?;
        if let Some(keys) = &mut self.keys {
            keys.push(key)?;
        }
        self.key = Some(to);
        Ok(entry)
    }

    /// Appends an entry chained to the store's tail: the head this log
    /// knows for a store with one writer, else the last record the store
    /// reads in its transaction, under the key that record says comes next.
    fn append(&mut self, id: Uuid, at: DateTime<FixedOffset>, event: AuditEvent) -> Result<AuditEntry, Error> {
        let (own, keys, own_key) = (self.head, &self.keys, &self.key);
        let mut built = None;
        self.store.append_chained(&mut |tail| {
            let last = match tail {
                Tail::Last(raw) => Some(AuditEntry::from_json(raw)?),
                Tail::Unknown | Tail::Empty => None,
            };
            let head = match (tail, &last) {
                (Tail::Unknown, _) => own,
                (_, Some(e)) => e.head_after(),
                (_, None) => ChainHead::EMPTY,
            };
            let key_id = last.as_ref().map_or(own_key.as_ref(), |e| e.next_key());
            let key = chain_key(keys.as_ref(), key_id)?;
            let mut entry = AuditEntry {
                seq: head.len,
                id,
                at,
                prev: head.hash,
                key: key.map(|k| k.id().clone()),
                event: event.clone(),
                hash: Digest::ZERO,
            };
            entry.hash = entry_hash(key, &[&entry.body_json()?]);
            let json = entry.to_json()?;
            built = Some(entry);
            Ok(json)
        })?;
        let entry = built.ok_or_else(|| Error::audit("the store built no audit entry".to_owned()))?;
        self.head = entry.head_after();
        self.key = entry.next_key().cloned().or_else(|| self.key.clone());
        Ok(entry)
    }

    /// The head after the last entry this log wrote or found: record it
    /// elsewhere to detect truncation later.
    pub fn head(&self) -> ChainHead {
        self.head
    }

    /// Verifies every stored entry under the log's keys, one record at a
    /// time (see [`verify_store`]), and against `expected` if given.
    ///
    /// # Errors
    ///
    /// An error of kind [`Audit`](crate::ErrorKind::Audit) only if the
    /// store cannot be read; a broken chain is a [`Verification::Broken`].
    pub fn verify(&self, expected: Option<&ChainHead>) -> Result<Verification, Error> {
        verify_store(&self.store, self.keys.as_ref(), expected)
    }

    /// Every stored entry, in order. Does not verify the chain.
    ///
    /// # Errors
    ///
    /// An error of kind [`Audit`](crate::ErrorKind::Audit) if the store
    /// cannot be read or a record is not an entry.
    pub fn entries(&self) -> Result<Vec<AuditEntry>, Error> {
        let mut entries = Vec::new();
        let mut failed = None;
        self.store.scan(&mut |raw| match AuditEntry::from_json(raw) {
            Ok(e) => {
                entries.push(e);
                ControlFlow::Continue(())
            }
            Err(e) => {
                failed = Some(e);
                ControlFlow::Break(())
            }
        })?;
        failed.map_or(Ok(entries), Err)
    }

    /// Replays a recorded decision with this log's pseudonym keys (see
    /// [`replay`]).
    ///
    /// # Errors
    ///
    /// As [`replay`].
    ///
    /// # Example
    ///
    /// ```
    /// use privacy_engine::*;
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let policy = Policy::from_json(include_str!("../../examples/policies/seed-004.json"))?;
    /// let policy_ref = PolicyRef::of(&policy);
    /// let engine = Engine::new(policy.clone())?;
    /// let ledger = InMemoryLedger::new();
    /// let mut log = AuditLog::open(
    ///     InMemoryAuditStore::new(),
    ///     Pseudonymiser::new(PseudonymKey::from_bytes("k1", &[7; 32])?),
    /// )?;
    /// let request = Request::new(
    ///     Action::Collect,
    ///     Subject::new("user-42").age(30),
    ///     vec![CategoryKey::new("user.contact.phone_number")?],
    ///     "2024-05-01T10:00:00+08:00".parse()?,
    /// )
    /// .purpose("registration_login");
    /// let decision = engine.evaluate(&request, &ledger);
    /// let entry = log.record_decision(Uuid::nil(), request.at, &request, &decision, &policy_ref)?;
    ///
    /// let replayed = log.replay(&entry, &engine, &ReplaySubject::new("user-42"), &ledger)?;
    /// assert!(replayed.matches);
    /// assert!(log.replay(&entry, &engine, &ReplaySubject::new("user-43"), &ledger).is_err());
    ///
    /// let mut edited = policy;
    /// edited.version.push_str("-edited");
    /// let other = Engine::new(edited)?;
    /// assert!(log.replay(&entry, &other, &ReplaySubject::new("user-42"), &ledger).is_err());
    /// # Ok(()) }
    /// ```
    pub fn replay(
        &self,
        entry: &AuditEntry,
        engine: &Engine,
        subject: &ReplaySubject,
        consents: &impl ConsentStore,
    ) -> Result<Replay, Error> {
        replay(entry, engine, subject, consents, &self.pseudonyms)
    }

    /// Answers a recorded rights request again with this log's pseudonym
    /// keys (see [`replay_answer`]), on `calendar`, which must be the
    /// calendar data the answer was counted on.
    ///
    /// # Errors
    ///
    /// As [`replay_answer`].
    pub fn replay_answer(
        &self,
        entry: &AuditEntry,
        engine: &Engine,
        request: &RightsRequest,
        held: &[Holding],
        consents: &impl ConsentStore,
        calendar: &dyn WorkingCalendar,
    ) -> Result<AnswerReplay, Error> {
        replay_answer(entry, engine, request, held, consents, calendar, &self.pseudonyms)
    }

    /// The log's pseudonym keys.
    pub fn pseudonymiser(&self) -> &Pseudonymiser {
        &self.pseudonyms
    }

    /// The log's pseudonym keys, to rotate them.
    pub fn pseudonymiser_mut(&mut self) -> &mut Pseudonymiser {
        &mut self.pseudonyms
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The store, giving up the log.
    pub fn into_store(self) -> S {
        self.store
    }
}
