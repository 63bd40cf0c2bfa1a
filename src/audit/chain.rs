//! The hash chain: how entries are hashed, the head a caller records, and
//! verification that says which entry broke the chain.

use std::fmt;

use ring::hmac;
use serde::{Deserialize, Serialize};

use super::digest::Digest;
use super::entry::AuditEntry;
use super::store::StoredRecords;
use crate::error::Error;

/// Separates entry hashes from every other use of the hash function.
const PREFIX: &[u8] = b"privacy-engine audit v1\n";

/// The shortest chain key, in bytes.
const MIN_SECRET: usize = 32;

/// A secret key that makes the chain an HMAC-SHA256 chain: without it
/// nobody can rewrite the log and recompute valid hashes, even from the
/// first entry on.
///
/// Without a key the chain is plain SHA-256: any edit is detected, but
/// someone with write access could recompute every hash after the edit;
/// compare against a head recorded elsewhere ([`ChainHead`]) to catch that.
///
/// Its `Debug` output shows no key material.
///
/// # Example
///
/// ```
/// use privacy_engine::ChainKey;
/// let key = ChainKey::from_bytes(&[42; 32])?;
/// assert_eq!(format!("{key:?}"), "ChainKey(..)");
/// assert!(ChainKey::from_bytes(b"short").is_err());
/// # Ok::<(), privacy_engine::Error>(())
/// ```
pub struct ChainKey(hmac::Key);

impl ChainKey {
    /// A key from secret bytes (at least 32).
    ///
    /// # Errors
    ///
    /// An error of kind [`Key`](crate::ErrorKind::Key) for a secret shorter
    /// than 32 bytes.
    pub fn from_bytes(secret: &[u8]) -> Result<Self, Error> {
        if secret.len() < MIN_SECRET {
            return Err(Error::key(format!("a chain key must be at least {MIN_SECRET} bytes")));
        }
        Ok(Self(hmac::Key::new(hmac::HMAC_SHA256, secret)))
    }
}

impl fmt::Debug for ChainKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ChainKey(..)")
    }
}

/// The hash of an entry's body.
pub(crate) fn entry_hash(key: Option<&ChainKey>, body: &[u8]) -> Digest {
    match key {
        Some(k) => {
            let mut ctx = hmac::Context::with_key(&k.0);
            ctx.update(PREFIX);
            ctx.update(body);
            Digest::from_slice(ctx.sign().as_ref())
        }
        None => {
            let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
            ctx.update(PREFIX);
            ctx.update(body);
            Digest::from_slice(ctx.finish().as_ref())
        }
    }
}

/// How long a log is and the hash of its last entry.
///
/// Record a head somewhere the log's writer cannot change (a ticket, a
/// second system, a signed report): verifying against it detects a
/// truncated log, and a log rewritten after that point.
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
/// position, linked to the one before and matching its hash (under `key`
/// if given); no record is torn; and, given a recorded head, the log
/// reaches it and holds the same entry there.
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
    let mut head = ChainHead::EMPTY;
    let mut hashes = Vec::with_capacity(records.records().len());
    let broken =
        |index: u64, kind: BreakKind, intact: ChainHead| Verification::Broken(ChainBreak { index, kind, intact });
    for (index, raw) in (0u64..).zip(records.records()) {
        let Ok(entry) = AuditEntry::from_json(raw) else {
            return broken(index, BreakKind::Malformed, head);
        };
        if entry.seq != index {
            return broken(index, BreakKind::OutOfSequence { found: entry.seq }, head);
        }
        if entry.prev != head.hash {
            return broken(index, BreakKind::Link, head);
        }
        let Ok(body) = AuditEntry::body_json(entry.seq, &entry.id, &entry.at, &entry.prev, &entry.event) else {
            return broken(index, BreakKind::Malformed, head);
        };
        if entry_hash(key, &body) != entry.hash {
            return broken(index, BreakKind::Altered, head);
        }
        hashes.push(entry.hash);
        head = ChainHead { len: index + 1, hash: entry.hash };
    }
    if records.torn().is_some() {
        return broken(head.len, BreakKind::Torn, head);
    }
    if let Some(expected) = expected {
        if head.len < expected.len {
            return broken(head.len, BreakKind::Truncated { expected: expected.len }, head);
        }
        if expected.len > 0 {
            let at = expected.len - 1;
            let found = usize::try_from(at).ok().and_then(|i| hashes.get(i));
            if found != Some(&expected.hash) {
                let intact = match at.checked_sub(1).and_then(|p| usize::try_from(p).ok()).and_then(|p| hashes.get(p)) {
                    Some(h) => ChainHead { len: at, hash: *h },
                    None => ChainHead::EMPTY,
                };
                return broken(at, BreakKind::HeadMismatch, intact);
            }
        }
    }
    Verification::Intact(head)
}
