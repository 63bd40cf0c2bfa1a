//! Chain keys: the secret that makes the chain an HMAC chain, its id, the
//! key ring that verifies a log across rotations, and how an entry is
//! hashed.

use std::fmt;

use super::digest::Digest;
use crate::error::Error;
use crate::pseudonym::{KeyId, PseudonymKey, Pseudonymiser};
use ring::hmac;

/// Separates entry hashes from every other use of the hash function.
const PREFIX: &[u8] = b"privacy-engine audit v1\n";

/// What a chain key's id is the HMAC of, under the key.
const ID_LABEL: &[u8] = b"privacy-engine audit chain key id v1";

/// What a chain key derived from a pseudonym key is the HMAC of, under it.
const DERIVE_LABEL: &[u8] = b"privacy-engine audit chain key v1";

/// The shortest chain key, in bytes.
const MIN_SECRET: usize = 32;

/// A secret key that makes the chain an HMAC-SHA256 chain: without it
/// nobody can append an entry, rewrite one, or rebuild the log from the
/// first entry on, and have it verify.
///
/// **Without a key** the chain is plain SHA-256 and anyone who can write
/// the log can extend it: entries forged and appended after a recorded
/// [`ChainHead`](crate::ChainHead) verify, since a head only proves that
/// the log still holds what it held when the head was taken; and an older
/// copy of the log put back in place (a replay) verifies too, unless its
/// current head is kept somewhere its writer cannot change. A key closes
/// both: [`AuditLog::open`](crate::AuditLog::open) derives one from the
/// log's pseudonym key, so a log is keyed unless opened with
/// [`open_plain`](crate::AuditLog::open_plain). A key does not stop
/// truncation or a replay by someone who holds the key: compare against a
/// recorded head for that.
///
/// Each key has an id, the first 8 bytes of the HMAC of a fixed label under
/// the key (`c-` and 16 hex digits): it names the key in every entry
/// without revealing it, and lets a [`ChainKeys`] ring find the key an
/// entry was written under.
///
/// The crate wipes the key bytes it copies (a derived key) when dropped;
/// the HMAC state that `ring` keeps for the key is not wiped by `ring` (see
/// DESIGN.md, "Why is key material wiped only in part?").
///
/// Its `Debug` output shows the id only, never key material. It is not
/// `Clone`: each copy would be one more copy of key state to leave in
/// memory.
///
/// # Example
///
/// ```
/// use privacy_engine::ChainKey;
/// let key = ChainKey::from_bytes(&[42; 32])?;
/// assert_eq!(format!("{key:?}"), format!("ChainKey({})", key.id()));
/// assert!(key.id().as_str().starts_with("c-"));
/// assert!(ChainKey::from_bytes(b"short").is_err());
/// # Ok::<(), privacy_engine::Error>(())
/// ```
pub struct ChainKey {
    id: KeyId,
    key: hmac::Key,
}

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
        Ok(Self::with_id(hmac::Key::new(hmac::HMAC_SHA256, secret)))
    }

    /// The chain key derived from a pseudonym key:
    /// `HMAC-SHA256(pseudonym secret, "privacy-engine audit chain key v1")`,
    /// so that a log needs no second secret to be keyed.
    ///
    /// # Example
    ///
    /// ```
    /// use privacy_engine::{ChainKey, PseudonymKey};
    /// let p = PseudonymKey::from_bytes("k1", &[7; 32])?;
    /// assert_eq!(ChainKey::derived_from(&p).id(), ChainKey::derived_from(&p).id());
    /// # Ok::<(), privacy_engine::Error>(())
    /// ```
    pub fn derived_from(key: &PseudonymKey) -> Self {
        let secret = key.derive(DERIVE_LABEL);
        Self::with_id(hmac::Key::new(hmac::HMAC_SHA256, secret.as_ref()))
    }

    fn with_id(key: hmac::Key) -> Self {
        let tag = hmac::sign(&key, ID_LABEL);
        let id = KeyId::fingerprint("c-", tag.as_ref().get(..8).unwrap_or_default());
        Self { id, key }
    }

    /// The key's id.
    pub fn id(&self) -> &KeyId {
        &self.id
    }
}

impl fmt::Debug for ChainKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ChainKey({})", self.id)
    }
}

/// The chain keys that verify a log: the key it started under and every
/// key it was rotated to since, oldest first. A log appends under the key
/// its last entry names (or its last rotation names); a new log starts
/// under the newest key of the ring.
///
/// Entries written before chain keys had ids (they name no key) verify
/// under the ring's first key.
///
/// # Example
///
/// ```
/// use privacy_engine::{ChainKey, ChainKeys};
/// let mut ring = ChainKeys::new(ChainKey::from_bytes(&[1; 32])?);
/// ring.push(ChainKey::from_bytes(&[2; 32])?)?;
/// assert!(ring.push(ChainKey::from_bytes(&[2; 32])?).is_err());
/// assert_eq!(ring.newest().id(), ChainKey::from_bytes(&[2; 32])?.id());
/// # Ok::<(), privacy_engine::Error>(())
/// ```
#[derive(Debug)]
pub struct ChainKeys {
    first: ChainKey,
    later: Vec<ChainKey>,
}

impl ChainKeys {
    /// A ring with one key.
    pub fn new(key: ChainKey) -> Self {
        Self { first: key, later: Vec::new() }
    }

    /// The keys derived from every key of a pseudonym key ring (see
    /// [`ChainKey::derived_from`]), the current one newest.
    pub fn derived_from(pseudonyms: &Pseudonymiser) -> Self {
        let mut ring = Self::new(ChainKey::derived_from(pseudonyms.oldest_key()));
        for key in pseudonyms.keys().skip(1).map(ChainKey::derived_from) {
            // Two pseudonym keys with one secret derive one chain key.
            if ring.get(key.id()).is_none() {
                ring.later.push(key);
            }
        }
        ring
    }

    /// Adds a later key, which becomes the newest.
    ///
    /// # Errors
    ///
    /// An error of kind [`Key`](crate::ErrorKind::Key) if the ring already
    /// holds a key with that id.
    pub fn push(&mut self, key: ChainKey) -> Result<(), Error> {
        if self.get(key.id()).is_some() {
            return Err(Error::key(format!("the chain key ring already holds key `{}`", key.id())));
        }
        self.later.push(key);
        Ok(())
    }

    /// The key with this id.
    pub fn get(&self, id: &KeyId) -> Option<&ChainKey> {
        self.iter().find(|k| k.id() == id)
    }

    /// The first key: the one entries without a key id verify under.
    pub fn first(&self) -> &ChainKey {
        &self.first
    }

    /// The newest key: the one a new log starts under.
    pub fn newest(&self) -> &ChainKey {
        self.later.last().unwrap_or(&self.first)
    }

    /// The keys, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &ChainKey> {
        std::iter::once(&self.first).chain(&self.later)
    }
}

impl From<ChainKey> for ChainKeys {
    fn from(key: ChainKey) -> Self {
        Self::new(key)
    }
}

/// The hash of an entry's body, given as consecutive parts: HMAC-SHA256
/// under `key`, or SHA-256.
pub(crate) fn entry_hash(key: Option<&ChainKey>, body: &[&[u8]]) -> Digest {
    match key {
        Some(k) => {
            let mut ctx = hmac::Context::with_key(&k.key);
            ctx.update(PREFIX);
            body.iter().for_each(|part| ctx.update(part));
            Digest::from_slice(ctx.sign().as_ref())
        }
        None => {
            let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
            ctx.update(PREFIX);
            body.iter().for_each(|part| ctx.update(part));
            Digest::from_slice(ctx.finish().as_ref())
        }
    }
}
