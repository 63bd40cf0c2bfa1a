//! The audit log: an append-only, hash-chained record of decisions and
//! consent events, with verification that says which entry broke the
//! chain, and replay of recorded decisions.
//!
//! The core does no I/O and reads no clock: the caller passes each entry's
//! id and time, and storage arrives through the [`AuditStore`] trait
//! ([`InMemoryAuditStore`], or [`FileAuditStore`], the one type of the
//! crate that touches the file system).

mod chain;
mod digest;
mod entry;
mod file;
mod replay;
mod store;

use chrono::{DateTime, FixedOffset};
use uuid::Uuid;

use crate::consent::{ConsentEvent, ConsentStore};
use crate::decision::Decision;
use crate::engine::Engine;
use crate::error::Error;
use crate::pseudonym::Pseudonymiser;
use crate::request::Request;

pub use chain::{BreakKind, ChainBreak, ChainHead, ChainKey, Verification, verify_records};
pub use digest::{Digest, PolicyRef, policy_digest};
pub(crate) use digest::{hex_decode, hex_encode};
pub use entry::{AuditEntry, AuditEvent, AuditedRequest, AuditedSubject, ConsentRecord, DecisionRecord};
pub use file::FileAuditStore;
pub use replay::{Replay, ReplaySubject, replay};
pub use store::{AuditStore, InMemoryAuditStore, StoredRecords, TornRecord};

/// An append-only audit log over a store.
///
/// Each entry records a decision (with the request, its identifiers
/// pseudonymised, the verdict, the deciding rule ids, the obligations and
/// the policy's id, version and digest) or a consent event, and is chained
/// to the one before by its hash (see [`AuditEntry`] for the canonical
/// form). [`verify`](Self::verify) detects any modified, removed,
/// reordered or inserted entry and, given a recorded [`ChainHead`],
/// truncation.
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
    key: Option<ChainKey>,
    head: ChainHead,
}

impl<S: AuditStore> AuditLog<S> {
    /// Opens a log with a plain SHA-256 chain, continuing after the store's
    /// last record.
    ///
    /// Opening reads only the last record; call [`verify`](Self::verify)
    /// to check the whole chain.
    ///
    /// # Errors
    ///
    /// An error of kind [`Audit`](crate::ErrorKind::Audit) if the store
    /// cannot be read, ends in a torn record (repair it first), or its last
    /// record is not an entry at its position.
    pub fn open(store: S, pseudonyms: Pseudonymiser) -> Result<Self, Error> {
        Self::open_with(store, pseudonyms, None)
    }

    /// Opens a log with an HMAC-SHA256 chain under `key`.
    ///
    /// # Errors
    ///
    /// As [`open`](Self::open).
    pub fn open_keyed(store: S, pseudonyms: Pseudonymiser, key: ChainKey) -> Result<Self, Error> {
        Self::open_with(store, pseudonyms, Some(key))
    }

    fn open_with(store: S, pseudonyms: Pseudonymiser, key: Option<ChainKey>) -> Result<Self, Error> {
        let loaded = store.load()?;
        if loaded.torn().is_some() {
            return Err(Error::audit("the audit log ends in a torn record: repair it before appending".to_owned()));
        }
        let head = match loaded.records().last() {
            None => ChainHead::EMPTY,
            Some(raw) => {
                let last = AuditEntry::from_json(raw)?;
                let len = loaded.records().len() as u64;
                if last.seq.checked_add(1) != Some(len) {
                    return Err(Error::audit(format!(
                        "the last audit entry states position {}, not {}",
                        last.seq,
                        len.saturating_sub(1)
                    )));
                }
                ChainHead { len, hash: last.hash }
            }
        };
        Ok(Self { store, pseudonyms, key, head })
    }

    /// Records a decision on a request under a policy, at time `at`.
    ///
    /// The subject id and birth date are stored as pseudonyms in
    /// [`PseudonymDomain::Records`](crate::PseudonymDomain::Records).
    ///
    /// # Errors
    ///
    /// An error of kind [`Audit`](crate::ErrorKind::Audit) if the store
    /// refuses the record; the log's head is then unchanged.
    pub fn record_decision(
        &mut self,
        id: Uuid,
        at: DateTime<FixedOffset>,
        request: &Request,
        decision: &Decision,
        policy: &PolicyRef,
    ) -> Result<AuditEntry, Error> {
        let record = DecisionRecord::new(request, decision, policy, &self.pseudonyms);
        self.append(id, at, AuditEvent::Decision(Box::new(record)))
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

    fn append(&mut self, id: Uuid, at: DateTime<FixedOffset>, event: AuditEvent) -> Result<AuditEntry, Error> {
        let seq = self.head.len;
        let prev = self.head.hash;
        let body = AuditEntry::body_json(seq, &id, &at, &prev, &event)?;
        let hash = chain::entry_hash(self.key.as_ref(), &body);
        let entry = AuditEntry { seq, id, at, prev, event, hash };
        self.store.append(&entry.to_json()?)?;
        self.head = ChainHead { len: seq + 1, hash };
        Ok(entry)
    }

    /// The head after the last entry this log wrote or found: record it
    /// elsewhere to detect truncation later.
    pub fn head(&self) -> ChainHead {
        self.head
    }

    /// Verifies every stored entry (see [`verify_records`]), and against
    /// `expected` if given.
    ///
    /// # Errors
    ///
    /// An error of kind [`Audit`](crate::ErrorKind::Audit) only if the
    /// store cannot be read; a broken chain is a [`Verification::Broken`].
    pub fn verify(&self, expected: Option<&ChainHead>) -> Result<Verification, Error> {
        Ok(verify_records(&self.store.load()?, self.key.as_ref(), expected))
    }

    /// Every stored entry, in order. Does not verify the chain.
    ///
    /// # Errors
    ///
    /// An error of kind [`Audit`](crate::ErrorKind::Audit) if the store
    /// cannot be read or a record is not an entry.
    pub fn entries(&self) -> Result<Vec<AuditEntry>, Error> {
        self.store.load()?.records().iter().map(|r| AuditEntry::from_json(r)).collect()
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
