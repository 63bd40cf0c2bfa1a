//! Keyed pseudonyms: HMAC-SHA256 of an identifier under a secret key,
//! derived separately for each recipient or purpose.
//!
//! This is the tool behind the [`Obligation::DeIdentifyFirst`](crate::Obligation::DeIdentifyFirst)
//! obligation, and what the audit log and consent receipts put in place of a
//! subject's id.
//!
//! **Pseudonymised data is still personal data.** Whoever holds the key
//! can re-link a pseudonym to the person (by computing the pseudonym of a
//! known id), and the other attributes that travel with a pseudonym (an age,
//! a region, timestamps) may single a person out on their own. It is
//! *de-identified* (PIPL art. 73(3), GDPR art. 4(5)), not *anonymised*:
//! every rule for personal data still applies to it.
//!
//! Why a key: a plain SHA-256 of a phone number is reversed by hashing every
//! possible number, in minutes. Without the key, a pseudonym reveals
//! nothing, and guessing the key (at least 32 bytes) is out of reach.
//!
//! Why per domain: each recipient (or purpose) gets pseudonyms under its own
//! derived key, so two recipients cannot join their data sets on the
//! pseudonym. They may still join on other attributes (a birth date and a
//! postcode), which minimisation must remove.
//!
//! Rotation: every pseudonym names the key it was made under
//! (`k2024:…`). [`Pseudonymiser::rotate`] makes a new key current and keeps
//! the old ones, so pseudonyms made before still verify under their key id.

use std::fmt;
use std::str::FromStr;

use ring::hmac;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use zeroize::Zeroizing;

use crate::audit::{Digest, hex_decode, hex_encode};
use crate::error::Error;
use crate::ids::{PurposeId, RecipientId};

/// The shortest secret a key accepts, in bytes.
const MIN_SECRET: usize = 32;
/// The longest key id.
const MAX_KEY_ID: usize = 64;

/// Names a key: 1 to 64 characters among ASCII letters, digits, `.`, `_`
/// and `-`, e.g. `k2024-05`.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyId(String);

impl KeyId {
    /// Checks and wraps a key id.
    ///
    /// # Errors
    ///
    /// An error of kind [`Key`](crate::ErrorKind::Key) for an empty or too
    /// long id, or one with another character.
    ///
    /// # Example
    ///
    /// ```
    /// use privacy_engine::KeyId;
    /// assert!(KeyId::new("k2024-05").is_ok());
    /// assert!(KeyId::new("k:1").is_err());
    /// ```
    pub fn new(id: impl Into<String>) -> Result<Self, Error> {
        let id = id.into();
        let ok = !id.is_empty()
            && id.len() <= MAX_KEY_ID
            && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        if ok {
            Ok(Self(id))
        } else {
            Err(Error::key(format!("a key id must be 1 to {MAX_KEY_ID} ASCII letters, digits, `.`, `_` or `-`")))
        }
    }

    /// An id made of `prefix` (valid id characters) and the hex of `bytes`:
    /// a fingerprint of a key that names it without revealing it.
    pub(crate) fn fingerprint(prefix: &str, bytes: &[u8]) -> Self {
        Self(format!("{prefix}{}", hex_encode(bytes)))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({:?})", self.0)
    }
}

impl Serialize for KeyId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for KeyId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        KeyId::new(s).map_err(serde::de::Error::custom)
    }
}

/// Whom pseudonyms are made for. Each domain derives its own key from the
/// secret, so pseudonyms of one domain cannot be joined with another's.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PseudonymDomain {
    /// The controller's own records: the audit log and consent receipts.
    Records,
    /// Data provided to one recipient.
    Recipient(RecipientId),
    /// Data processed for one purpose (e.g. an analytics data set).
    Purpose(PurposeId),
}

impl PseudonymDomain {
    /// The derivation label: a fixed prefix, the kind and the id, separated
    /// by NUL bytes so that no two domains share a label.
    fn label(&self) -> Vec<u8> {
        let (kind, id) = match self {
            Self::Records => ("records", ""),
            Self::Recipient(r) => ("recipient", r.as_str()),
            Self::Purpose(p) => ("purpose", p.as_str()),
        };
        let mut label = b"privacy-engine pseudonym v1\0".to_vec();
        label.extend_from_slice(kind.as_bytes());
        label.push(0);
        label.extend_from_slice(id.as_bytes());
        label
    }
}

/// A secret key that makes pseudonyms, with its id.
///
/// Its `Debug` output shows the id only, never key material.
///
/// The crate keeps no copy of the secret bytes: it keeps `ring`'s HMAC key,
/// whose state (the SHA-256 state after the padded key) `ring` does not
/// wipe when dropped; the per-domain secrets it derives are wiped after use,
/// the HMAC state built from them is not. See DESIGN.md, "Why is key material wiped only in part?".
///
/// # Example
///
/// ```
/// use privacy_engine::{PseudonymDomain, PseudonymKey};
/// let key = PseudonymKey::from_bytes("k1", &[7; 32])?;
/// let a = key.pseudonym(&PseudonymDomain::Recipient("partner.a".into()), "user-42");
/// let b = key.pseudonym(&PseudonymDomain::Recipient("partner.b".into()), "user-42");
/// assert_ne!(a, b); // two recipients cannot join on the pseudonym
/// assert!(a.to_string().starts_with("k1:"));
/// assert!(!format!("{key:?}").contains("0707"));
/// # Ok::<(), privacy_engine::Error>(())
/// ```
pub struct PseudonymKey {
    id: KeyId,
    key: hmac::Key,
}

impl PseudonymKey {
    /// A key from secret bytes (at least 32, from a random source or a key
    /// management system).
    ///
    /// # Errors
    ///
    /// An error of kind [`Key`](crate::ErrorKind::Key) for an invalid id or
    /// a secret shorter than 32 bytes.
    ///
    /// # Example
    ///
    /// ```
    /// use privacy_engine::PseudonymKey;
    /// assert!(PseudonymKey::from_bytes("k1", &[1; 32]).is_ok());
    /// assert!(PseudonymKey::from_bytes("k1", b"short").is_err());
    /// ```
    pub fn from_bytes(id: &str, secret: &[u8]) -> Result<Self, Error> {
        let id = KeyId::new(id)?;
        if secret.len() < MIN_SECRET {
            return Err(Error::key(format!("the secret of key `{id}` is shorter than {MIN_SECRET} bytes")));
        }
        Ok(Self { id, key: hmac::Key::new(hmac::HMAC_SHA256, secret) })
    }

    /// The key's id.
    pub fn id(&self) -> &KeyId {
        &self.id
    }

    /// The pseudonym of `value` in `domain`:
    /// `HMAC-SHA256(HMAC-SHA256(secret, label(domain)), value)`.
    ///
    /// # Example
    ///
    /// ```
    /// use privacy_engine::{PseudonymDomain, PseudonymKey};
    /// let key = PseudonymKey::from_bytes("k1", &[7; 32])?;
    /// let d = PseudonymDomain::Records;
    /// assert_eq!(key.pseudonym(&d, "user-42"), key.pseudonym(&d, "user-42"));
    /// # Ok::<(), privacy_engine::Error>(())
    /// ```
    pub fn pseudonym(&self, domain: &PseudonymDomain, value: &str) -> Pseudonym {
        Pseudonym {
            key: self.id.clone(),
            mac: Digest::from_slice(hmac::sign(&self.domain_key(domain), value.as_bytes()).as_ref()),
        }
    }

    /// Whether `pseudonym` is `value`'s in `domain` under this key, compared
    /// in constant time. A pseudonym made under another key id never
    /// matches.
    pub fn verify(&self, domain: &PseudonymDomain, value: &str, pseudonym: &Pseudonym) -> bool {
        pseudonym.key == self.id
            && hmac::verify(&self.domain_key(domain), value.as_bytes(), pseudonym.mac.as_bytes()).is_ok()
    }

    fn domain_key(&self, domain: &PseudonymDomain) -> hmac::Key {
        let derived = self.derive(&domain.label());
        hmac::Key::new(hmac::HMAC_SHA256, derived.as_ref())
    }

    /// A secret derived from this key for one use, named by `label`:
    /// `HMAC-SHA256(secret, label)`, wiped when dropped.
    pub(crate) fn derive(&self, label: &[u8]) -> Zeroizing<[u8; 32]> {
        let mut out = Zeroizing::new([0; 32]);
        for (o, b) in out.iter_mut().zip(hmac::sign(&self.key, label).as_ref()) {
            *o = *b;
        }
        out
    }
}

impl fmt::Debug for PseudonymKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PseudonymKey").field("id", &self.id).finish_non_exhaustive()
    }
}

/// A keyed pseudonym: the id of the key it was made under and the 32-byte
/// HMAC, written `<key id>:<64 lowercase hex digits>`.
///
/// It is de-identified personal data, not anonymous data (see the
/// notes on [`Pseudonymiser`]).
///
/// Equality compares the HMAC in constant time, so that comparing a
/// pseudonym someone submits against a stored one does not tell them, by
/// its timing, how many leading bytes they got right.
#[derive(Clone, PartialOrd, Ord)]
pub struct Pseudonym {
    key: KeyId,
    mac: Digest,
}

impl PartialEq for Pseudonym {
    fn eq(&self, other: &Self) -> bool {
        // `&` rather than `&&`: the HMAC is compared even when the key ids
        // differ.
        (self.key == other.key) & self.mac.ct_eq(&other.mac)
    }
}

impl Eq for Pseudonym {}

impl std::hash::Hash for Pseudonym {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.key.hash(state);
        self.mac.hash(state);
    }
}

impl Pseudonym {
    /// The id of the key it was made under.
    pub fn key_id(&self) -> &KeyId {
        &self.key
    }
}

impl fmt::Display for Pseudonym {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.key, hex_encode(self.mac.as_bytes()))
    }
}

impl fmt::Debug for Pseudonym {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pseudonym({self})")
    }
}

impl FromStr for Pseudonym {
    type Err = Error;

    /// Parses `<key id>:<64 lowercase hex digits>`.
    fn from_str(s: &str) -> Result<Self, Error> {
        let bad = || Error::key("a pseudonym must be `<key id>:<64 lowercase hex digits>`".to_owned());
        let (key, mac) = s.split_once(':').ok_or_else(bad)?;
        let key = KeyId::new(key).map_err(|_| bad())?;
        let bytes: [u8; 32] = hex_decode(mac).and_then(|b| b.try_into().ok()).ok_or_else(bad)?;
        Ok(Self { key, mac: Digest::from_bytes(bytes) })
    }
}

impl Serialize for Pseudonym {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Pseudonym {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A key ring for pseudonyms: one current key that makes new pseudonyms,
/// and the earlier keys, kept so that pseudonyms made under them still
/// verify.
///
/// **Pseudonymised data is still personal data.** Whoever holds the key
/// can re-link a pseudonym to the person (by computing the pseudonym of a
/// known id), and the attributes that travel with a pseudonym (an age, a
/// region, timestamps) may single a person out on their own. It is
/// *de-identified* (PIPL art. 73(3), GDPR art. 4(5)), not *anonymised*:
/// every rule for personal data still applies to it.
///
/// - **Why a key**: a plain SHA-256 of a phone number is reversed by
///   hashing every possible number. Without the key a pseudonym reveals
///   nothing, and a key of at least 32 bytes cannot be guessed.
/// - **Why per domain** ([`PseudonymDomain`]): each recipient or purpose
///   gets pseudonyms under its own derived key, so two recipients cannot
///   join their data sets on the pseudonym. They may still join on other
///   attributes (a birth date and a postcode), which minimisation must
///   remove.
/// - **Rotation**: every pseudonym names its key (`k2:…`);
///   [`rotate`](Self::rotate) makes a new key current and keeps the old
///   ones, so earlier pseudonyms still verify under their key id.
///
/// # Example
///
/// ```
/// use privacy_engine::{PseudonymDomain, PseudonymKey, Pseudonymiser};
/// let mut ring = Pseudonymiser::new(PseudonymKey::from_bytes("k1", &[1; 32])?);
/// let d = PseudonymDomain::Purpose("analytics".into());
/// let old = ring.pseudonymise(&d, "user-42");
/// ring.rotate(PseudonymKey::from_bytes("k2", &[2; 32])?)?;
/// let new = ring.pseudonymise(&d, "user-42");
/// assert_ne!(old, new);
/// assert_eq!(new.key_id().as_str(), "k2");
/// assert!(ring.verify(&d, "user-42", &old)); // still verifiable under `k1`
/// assert!(ring.verify(&d, "user-42", &new));
/// # Ok::<(), privacy_engine::Error>(())
/// ```
#[derive(Debug)]
pub struct Pseudonymiser {
    current: PseudonymKey,
    previous: Vec<PseudonymKey>,
}

impl Pseudonymiser {
    /// A key ring with one key.
    pub fn new(current: PseudonymKey) -> Self {
        Self { current, previous: Vec::new() }
    }

    /// Makes `key` current; the current key becomes a previous one.
    ///
    /// # Errors
    ///
    /// An error of kind [`Key`](crate::ErrorKind::Key) if the ring already
    /// holds a key with that id.
    pub fn rotate(&mut self, key: PseudonymKey) -> Result<(), Error> {
        if self.key(key.id()).is_some() {
            return Err(Error::key(format!("the key ring already holds key `{}`", key.id())));
        }
        let old = std::mem::replace(&mut self.current, key);
        self.previous.push(old);
        Ok(())
    }

    /// The id of the current key.
    pub fn current_key_id(&self) -> &KeyId {
        self.current.id()
    }

    /// Every key, oldest first, the current one last.
    pub(crate) fn keys(&self) -> impl Iterator<Item = &PseudonymKey> {
        self.previous.iter().chain(std::iter::once(&self.current))
    }

    /// The first key of the ring.
    pub(crate) fn oldest_key(&self) -> &PseudonymKey {
        self.previous.first().unwrap_or(&self.current)
    }

    /// The key with this id, current or previous.
    pub fn key(&self, id: &KeyId) -> Option<&PseudonymKey> {
        std::iter::once(&self.current).chain(&self.previous).find(|k| k.id() == id)
    }

    /// The pseudonym of `value` in `domain` under the current key.
    pub fn pseudonymise(&self, domain: &PseudonymDomain, value: &str) -> Pseudonym {
        self.current.pseudonym(domain, value)
    }

    /// Whether `pseudonym` is `value`'s in `domain` under the key it names
    /// (current or previous). `false` for a key the ring does not hold.
    pub fn verify(&self, domain: &PseudonymDomain, value: &str, pseudonym: &Pseudonym) -> bool {
        self.key(pseudonym.key_id()).is_some_and(|k| k.verify(domain, value, pseudonym))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pseudonym_text_round_trips() -> Result<(), Error> {
        let key = PseudonymKey::from_bytes("k1", &[9; 32])?;
        let p = key.pseudonym(&PseudonymDomain::Records, "u");
        assert_eq!(p.to_string().parse::<Pseudonym>()?, p);
        assert!(p.to_string().to_uppercase().parse::<Pseudonym>().is_err());
        Ok(())
    }

    #[test]
    fn domains_have_distinct_labels() {
        let a = PseudonymDomain::Recipient(RecipientId::new("x")).label();
        let b = PseudonymDomain::Purpose(PurposeId::new("x")).label();
        assert_ne!(a, b);
    }

    #[test]
    fn rotate_refuses_a_duplicate_id() -> Result<(), Error> {
        let mut ring = Pseudonymiser::new(PseudonymKey::from_bytes("k1", &[1; 32])?);
        assert!(ring.rotate(PseudonymKey::from_bytes("k1", &[2; 32])?).is_err());
        Ok(())
    }
}
