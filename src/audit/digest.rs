//! SHA-256 digests, their lowercase hex form, and the digest of a policy.

use std::fmt;
use std::str::FromStr;

use ring::digest::{SHA256, digest};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::Error;
use crate::ids::PolicyId;
use crate::policy::Policy;

/// A 32-byte digest (SHA-256 or HMAC-SHA256), shown and serialised as 64
/// lowercase hex digits.
///
/// Parsing is strict: uppercase digits, a wrong length or any other
/// character are refused, so a digest has exactly one text form.
///
/// # Example
///
/// ```
/// use privacy_engine::Digest;
/// let d = Digest::sha256(b"abc");
/// assert_eq!(d.to_string(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
/// assert_eq!(d.to_string().parse::<Digest>()?, d);
/// assert!(d.to_string().to_uppercase().parse::<Digest>().is_err());
/// # Ok::<(), privacy_engine::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Digest([u8; 32]);

impl Digest {
    /// The all-zero digest: the `prev` of the first entry of a log.
    pub const ZERO: Digest = Digest([0; 32]);

    /// Wraps 32 bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The SHA-256 digest of `data`.
    pub fn sha256(data: &[u8]) -> Self {
        Self::from_slice(digest(&SHA256, data).as_ref())
    }

    /// The bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Whether the two digests are equal, compared in constant time: every
    /// byte is read whatever the first difference (`==` may stop at it).
    pub(crate) fn ct_eq(&self, other: &Digest) -> bool {
        let diff = self.0.iter().zip(&other.0).fold(0u8, |acc, (a, b)| acc | std::hint::black_box(a ^ b));
        std::hint::black_box(diff) == 0
    }

    /// Copies a ring digest or tag (always 32 bytes for SHA-256).
    pub(crate) fn from_slice(bytes: &[u8]) -> Self {
        let mut out = [0; 32];
        for (o, b) in out.iter_mut().zip(bytes) {
            *o = *b;
        }
        Self(out)
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex_encode(&self.0))
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({self})")
    }
}

impl FromStr for Digest {
    type Err = Error;

    /// Parses 64 lowercase hex digits.
    fn from_str(s: &str) -> Result<Self, Error> {
        let bytes = hex_decode(s).ok_or_else(|| Error::audit("a digest must be 64 lowercase hex digits".to_owned()))?;
        let arr: [u8; 32] =
            bytes.try_into().map_err(|_| Error::audit("a digest must be 64 lowercase hex digits".to_owned()))?;
        Ok(Self(arr))
    }
}

impl Serialize for Digest {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&hex_encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for Digest {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(|_| serde::de::Error::custom("a digest must be 64 lowercase hex digits"))
    }
}

/// The SHA-256 digest of a policy: of `serde_json::to_vec(policy)`, the
/// policy's compact JSON with the fields in declaration order.
///
/// Two policies with the same digest decide alike; the audit log records
/// the digest with every decision, and [`replay`](crate::replay) refuses a
/// policy whose digest differs. The digest depends on this crate's
/// serialisation of [`Policy`]: compare digests computed by the same crate
/// version.
///
/// # Example
///
/// ```
/// use privacy_engine::{Policy, policy_digest};
/// let policy = Policy::from_json(include_str!("../../examples/policies/seed-004.json"))?;
/// let mut changed = policy.clone();
/// changed.version.push_str("-draft");
/// assert_ne!(policy_digest(&policy), policy_digest(&changed));
/// # Ok::<(), privacy_engine::Error>(())
/// ```
pub fn policy_digest(policy: &Policy) -> Digest {
    // A policy holds no map and no custom serialiser that can fail, so
    // serialisation cannot fail; were it to, the empty input's digest
    // matches no real policy's.
    let json = serde_json::to_vec(policy).unwrap_or_default();
    Digest::sha256(&json)
}

/// The policy a decision was made under: its id, version and digest.
///
/// Compute it once per policy with [`PolicyRef::of`] and pass it with every
/// decision recorded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct PolicyRef {
    /// The policy's id.
    pub id: PolicyId,
    /// The policy's version.
    pub version: String,
    /// [`policy_digest`] of the policy.
    pub digest: Digest,
}

impl PolicyRef {
    /// The id, version and digest of a policy.
    ///
    /// # Example
    ///
    /// ```
    /// use privacy_engine::{Policy, PolicyRef, policy_digest};
    /// let policy = Policy::from_json(include_str!("../../examples/policies/seed-004.json"))?;
    /// let r = PolicyRef::of(&policy);
    /// assert_eq!(r.id, policy.id);
    /// assert_eq!(r.digest, policy_digest(&policy));
    /// # Ok::<(), privacy_engine::Error>(())
    /// ```
    pub fn of(policy: &Policy) -> Self {
        Self { id: policy.id.clone(), version: policy.version.clone(), digest: policy_digest(policy) }
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Lowercase hex.
pub(crate) fn hex_encode(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        for nibble in [b >> 4, b & 0x0f] {
            s.push(HEX.get(usize::from(nibble)).map_or('0', |&c| char::from(c)));
        }
    }
    s
}

/// Strict lowercase hex: `None` for an odd length or any other character.
pub(crate) fn hex_decode(s: &str) -> Option<Vec<u8>> {
    fn nibble(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        }
    }
    let bytes = s.as_bytes();
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    bytes.chunks_exact(2).map(|pair| Some(nibble(*pair.first()?)? << 4 | nibble(*pair.get(1)?)?)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips_and_is_strict() {
        let bytes = [0u8, 1, 0xab, 0xff];
        assert_eq!(hex_encode(&bytes), "0001abff");
        assert_eq!(hex_decode("0001abff"), Some(bytes.to_vec()));
        assert_eq!(hex_decode("0001ABFF"), None);
        assert_eq!(hex_decode("000"), None);
        assert_eq!(hex_decode("0g"), None);
    }
}
