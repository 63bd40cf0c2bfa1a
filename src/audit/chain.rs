//! The chain's head a caller records, and verification that says which
//! entry broke the chain, reading one record at a time.

use std::fmt;
use std::ops::ControlFlow;

use serde::{Deserialize, Serialize};

use super::digest::Digest;
use super::entry::{AuditEntry, AuditEvent};
use super::key::{ChainKey, ChainKeys, entry_hash};
use super::store::{AuditStore, StoredRecords, TornRecord};
use crate::error::Error;
use crate::pseudonym::KeyId;

/// How long a log is and the hash of its last entry.
///
/// Record a head somewhere the log's writer cannot change (a ticket, a
/// second system, a signed report): verifying against it detects a
/// truncated log, a log rewritten up to that point, and an older copy of
/// the log put back in place. It does not detect entries appended after
/// it: in a plain chain anyone who can write the log can append entries
/// that verify; in a keyed chain only a holder of the key can.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainHead {
    /// The number of entries.
    pub len: u64,
    /// The hash of the last entry; [`Digest::ZERO`] for an empty log.
    pub hash: Digest,
}

impl ChainHead {
    /// The head of an empty log.
    pub const EMPTY: ChainHead = ChainHead { len: 0, hash: Digest::ZERO };
}

/// What broke the chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BreakKind {
    /// The record is not an entry in canonical form: altered bytes, or not
    /// an entry at all.
    Malformed,
    /// The entry's position differs from its place in the log: an entry was
    /// removed, reordered or inserted before it.
    OutOfSequence {
        /// The position the entry states.
        found: u64,
    },
    /// The entry does not link to the previous entry's hash: the previous
    /// entry was altered, removed or replaced.
    Link,
    /// The entry's content does not match its hash: it was altered (or the
    /// log was written under another chain key).
    Altered,
    /// The last record was only partly written (a crash during a write).
    Torn,
    /// The log is shorter than the recorded head: entries were removed from
    /// the end.
    Truncated {
        /// The recorded length.
        expected: u64,
    },
    /// The entry at the recorded head's position is not the recorded one:
    /// the log was rewritten.
    HeadMismatch,
    /// The entry names a chain key the verifier does not hold, or names a
    /// key in a plain chain.
    UnknownKey,
    /// The entry is under another key than the entry before it, with no
    /// rotation between them.
    KeyChange,
}

/// Where and how a log's chain broke.
///
/// Every entry before [`index`](Self::index) verified: they form the
/// [`intact`](Self::intact) prefix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainBreak {
    index: u64,
    kind: BreakKind,
    intact: ChainHead,
}

impl ChainBreak {
    /// The position of the first entry that failed (for [`BreakKind::Torn`]
    /// and [`BreakKind::Truncated`], the position after the last entry).
    pub fn index(&self) -> u64 {
        self.index
    }

    /// What failed.
    pub fn kind(&self) -> BreakKind {
        self.kind
    }

    /// The head of the verified prefix before the break.
    pub fn intact(&self) -> ChainHead {
        self.intact
    }
}

impl fmt::Display for ChainBreak {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = self.index;
        match self.kind {
            BreakKind::Malformed => write!(f, "audit entry {i} is not a well-formed entry"),
            BreakKind::OutOfSequence { found } => {
                write!(f, "audit entry {i} states position {found}: an entry was removed, reordered or inserted")
            }
            BreakKind::Link => write!(f, "audit entry {i} does not link to the entry before it"),
            BreakKind::Altered => write!(f, "audit entry {i} does not match its hash: it was altered"),
            BreakKind::Torn => write!(f, "audit record {i} is torn: only part of it was written"),
            BreakKind::Truncated { expected } => {
                write!(f, "audit log has {i} entries, fewer than the {expected} of the recorded head")
            }
            BreakKind::HeadMismatch => write!(f, "audit entry {i} is not the entry of the recorded head"),
            BreakKind::UnknownKey => write!(f, "audit entry {i} names a chain key that the verifier does not hold"),
            BreakKind::KeyChange => {
                write!(f, "audit entry {i} is under another chain key than the entry before it, without a rotation")
            }
        }
    }
}

impl std::error::Error for ChainBreak {}

/// The outcome of verifying a log.
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use]
pub enum Verification {
    /// Every entry verified; the log's head.
    Intact(ChainHead),
    /// The chain broke.
    Broken(ChainBreak),
}

impl Verification {
    /// Whether every entry verified.
    pub fn is_intact(&self) -> bool {
        matches!(self, Self::Intact(_))
    }

    /// The head if intact, the break otherwise; for `?`.
    ///
    /// # Errors
    ///
    /// The [`ChainBreak`] of a broken log.
    pub fn into_result(self) -> Result<ChainHead, ChainBreak> {
        match self {
            Self::Intact(h) => Ok(h),
            Self::Broken(b) => Err(b),
        }
    }
}

/// Verifies records read from a store: each is a canonical entry, at its
/// position, linked to the one before and matching its hash (an HMAC under
/// `key` if given, and then an entry naming another key is refused); no
/// record is torn; and, given a recorded head, the log reaches it and
/// holds the same entry there. To verify a log whose key was rotated, use
/// [`verify_store`] with every key.
///
/// Pure: it reads only its arguments.
///
/// # Example
///
/// ```
/// use privacy_engine::{ChainHead, InMemoryAuditStore, AuditStore, Verification, verify_records};
/// # fn main() -> Result<(), privacy_engine::Error> {
/// let store = InMemoryAuditStore::new();
/// let v = verify_records(&store.load()?, None, None);
/// assert_eq!(v, Verification::Intact(ChainHead::EMPTY));
/// # Ok(()) }
/// ```
pub fn verify_records(records: &StoredRecords, key: Option<&ChainKey>, expected: Option<&ChainHead>) -> Verification {
    let mut verifier = Verifier::new(key.map_or(Keys::Plain, Keys::One), expected);
    for raw in records.records() {
        if verifier.push(raw).is_break() {
            break;
        }
    }
    verifier.finish(records.torn())
}

/// Verifies a store's records as [`verify_records`] does, reading one
/// record at a time (memory bounded by the longest record, not the log),
/// under a ring of chain keys (`None` for a plain chain): each entry must
/// be under the key of the entry before it, or the key the rotation before
/// it names.
///
/// # Errors
///
/// An error of kind [`Audit`](crate::ErrorKind::Audit) only if the store
/// cannot be read; a broken chain is a [`Verification::Broken`].
///
/// # Example
///
/// ```
/// use privacy_engine::{ChainKey, ChainKeys, InMemoryAuditStore, verify_store};
/// # fn main() -> Result<(), privacy_engine::Error> {
/// let keys = ChainKeys::new(ChainKey::from_bytes(&[42; 32])?);
/// assert!(verify_store(&InMemoryAuditStore::new(), Some(&keys), None)?.is_intact());
/// # Ok(()) }
/// ```
pub fn verify_store<S: AuditStore + ?Sized>(
    store: &S,
    keys: Option<&ChainKeys>,
    expected: Option<&ChainHead>,
) -> Result<Verification, Error> {
    let mut verifier = Verifier::new(keys.map_or(Keys::Plain, Keys::Ring), expected);
    let torn = store.scan(&mut |raw| verifier.push(raw))?;
    Ok(verifier.finish(torn.as_ref()))
}

/// The keys a chain is verified under.
#[derive(Clone, Copy)]
pub(crate) enum Keys<'a> {
    /// A plain SHA-256 chain.
    Plain,
    /// One key.
    One(&'a ChainKey),
    /// A ring of keys.
    Ring(&'a ChainKeys),
}

impl<'a> Keys<'a> {
    /// The key entries without a key id are under; none for a plain chain.
    fn first(self) -> Option<&'a ChainKey> {
        match self {
            Self::Plain => None,
            Self::One(k) => Some(k),
            Self::Ring(r) => Some(r.first()),
        }
    }

    fn get(self, id: &KeyId) -> Option<&'a ChainKey> {
        match self {
            Self::Plain => None,
            Self::One(k) => (k.id() == id).then_some(k),
            Self::Ring(r) => r.get(id),
        }
    }
}

/// Verification fed one record at a time: constant memory whatever the
/// length of the log.
pub(crate) struct Verifier<'a> {
    keys: Keys<'a>,
    expected: Option<&'a ChainHead>,
    head: ChainHead,
    /// The id of the key the next entry must be under, once known.
    key: Option<KeyId>,
    broken: Option<ChainBreak>,
    /// A head mismatch, reported once the whole log verified.
    mismatch: Option<ChainBreak>,
}

impl<'a> Verifier<'a> {
    pub(crate) fn new(keys: Keys<'a>, expected: Option<&'a ChainHead>) -> Self {
        Self { keys, expected, head: ChainHead::EMPTY, key: None, broken: None, mismatch: None }
    }

    /// Verifies the next record; `Break` once the chain broke.
    pub(crate) fn push(&mut self, raw: &[u8]) -> ControlFlow<()> {
        let index = self.head.len;
        let checked =
            AuditEntry::from_json(raw).map_err(|_| BreakKind::Malformed).and_then(|e| self.check(index, e, raw));
        match checked {
            Ok((entry, next_key)) => {
                let before = self.head;
                self.head = ChainHead { len: index + 1, hash: entry.hash };
                self.key = next_key;
                if self.expected.is_some_and(|e| e.len == index + 1 && e.hash != entry.hash) {
                    self.mismatch = Some(ChainBreak { index, kind: BreakKind::HeadMismatch, intact: before });
                }
                ControlFlow::Continue(())
            }
            Err(kind) => {
                self.broken = Some(ChainBreak { index, kind, intact: self.head });
                ControlFlow::Break(())
            }
        }
    }

    /// Checks one entry at `index`, read from its canonical bytes `raw`; the
    /// id of the key the next entry must be under.
    fn check(&self, index: u64, entry: AuditEntry, raw: &[u8]) -> Result<(AuditEntry, Option<KeyId>), BreakKind> {
        if entry.seq != index {
            return Err(BreakKind::OutOfSequence { found: entry.seq });
        }
        if entry.prev != self.head.hash {
            return Err(BreakKind::Link);
        }
        let key = self.key_of(&entry)?;
        // The body is the canonical bytes without the hash field: hashed in
        // place rather than serialised again.
        let body = AuditEntry::body_of_canonical(raw).ok_or(BreakKind::Malformed)?;
        if !entry_hash(key, &[body, b"}"]).ct_eq(&entry.hash) {
            return Err(BreakKind::Altered);
        }
        let next = match &entry.event {
            AuditEvent::ChainKeyRotation(r) => Some(r.to.clone()),
            _ => key.map(|k| k.id().clone()),
        };
        Ok((entry, next))
    }

    /// The key an entry is under: none in a plain chain; the key it names,
    /// or the first key for an entry that names none.
    fn key_of(&self, entry: &AuditEntry) -> Result<Option<&'a ChainKey>, BreakKind> {
        let Some(first) = self.keys.first() else {
            return if entry.key.is_some() { Err(BreakKind::UnknownKey) } else { Ok(None) };
        };
        let key = match &entry.key {
            None => first,
            Some(id) => self.keys.get(id).ok_or(BreakKind::UnknownKey)?,
        };
        if self.key.as_ref().is_some_and(|want| want != key.id()) {
            return Err(BreakKind::KeyChange);
        }
        Ok(Some(key))
    }

    /// The id of the key the next entry goes under, if an entry named one.
    pub(crate) fn next_key(&self) -> Option<&KeyId> {
        self.key.as_ref()
    }

    /// The outcome, given the torn final record the store reported.
    pub(crate) fn finish(self, torn: Option<&TornRecord>) -> Verification {
        let head = self.head;
        let broken = |index: u64, kind: BreakKind| Verification::Broken(ChainBreak { index, kind, intact: head });
        if let Some(b) = self.broken {
            return Verification::Broken(b);
        }
        if torn.is_some() {
            return broken(head.len, BreakKind::Torn);
        }
        if let Some(expected) = self.expected.filter(|e| head.len < e.len) {
            return broken(head.len, BreakKind::Truncated { expected: expected.len });
        }
        match self.mismatch {
            Some(b) => Verification::Broken(b),
            None => Verification::Intact(head),
        }
    }
}
