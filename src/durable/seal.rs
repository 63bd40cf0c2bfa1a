//! Subject ids as a durable store keeps them when it is given a key: a
//! keyed pseudonym to find a subject's rows by, and the id itself sealed
//! (encrypted and authenticated) so that the replica can be loaded, while a
//! copy of the database alone names no one.

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};

use crate::error::Error;
use crate::ids::SubjectId;
use crate::pseudonym::{PseudonymDomain, PseudonymKey};

/// The label the sealing key is derived under from the pseudonym key.
const SEAL_LABEL: &[u8] = b"privacy-engine durable subject seal v1";

/// Seals and finds subject ids under a [`PseudonymKey`] kept outside the
/// database.
///
/// A subject's rows are found by its pseudonym in
/// [`PseudonymDomain::Records`], the same one the audit log stores, so an
/// export joins the two without the id. The id itself is stored sealed
/// with AES-256-GCM under a key derived from the pseudonym key (a random
/// 96-bit nonce per seal), bound to the pseudonym as associated data so a
/// sealed id moved to another subject's row does not open.
///
/// Rotating the pseudonym key means rewriting the store (not offered yet).
pub struct SubjectSeal {
    key: PseudonymKey,
    aead: LessSafeKey,
    rng: SystemRandom,
}

impl std::fmt::Debug for SubjectSeal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SubjectSeal").field("key", &self.key.id()).finish_non_exhaustive()
    }
}

impl SubjectSeal {
    /// A seal under `key`.
    ///
    /// # Errors
    ///
    /// An error of kind [`Key`](crate::ErrorKind::Key) if the sealing key
    /// cannot be made.
    pub fn new(key: PseudonymKey) -> Result<Self, Error> {
        let derived = key.derive(SEAL_LABEL);
        let unbound = UnboundKey::new(&AES_256_GCM, derived.as_ref())
            .map_err(|_| Error::key("cannot make the subject sealing key".to_owned()))?;
        Ok(Self { key, aead: LessSafeKey::new(unbound), rng: SystemRandom::new() })
    }

    /// The id of the key it seals under.
    #[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]
    pub(crate) fn key_id(&self) -> &crate::pseudonym::KeyId {
        self.key.id()
    }

    /// The pseudonym a store finds `subject`'s rows by:
    /// `<key id>:<hex HMAC>`, as the audit log writes it.
    pub fn lookup(&self, subject: &SubjectId) -> String {
        self.key.pseudonym(&PseudonymDomain::Records, subject.as_str()).to_string()
    }

    /// `subject` sealed: the nonce, then the ciphertext and its tag.
    ///
    /// # Errors
    ///
    /// An error of kind [`Key`](crate::ErrorKind::Key) if no random nonce
    /// can be drawn.
    pub fn seal(&self, subject: &SubjectId) -> Result<Vec<u8>, Error> {
        let mut nonce = [0u8; NONCE_LEN];
        self.rng.fill(&mut nonce).map_err(|_| Error::key("cannot draw a random nonce".to_owned()))?;
        let aad = self.lookup(subject);
        let mut out = subject.as_str().as_bytes().to_vec();
        self.aead
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(aad.as_bytes()), &mut out)
            .map_err(|_| Error::key("cannot seal a subject id".to_owned()))?;
        let mut sealed = nonce.to_vec();
        sealed.append(&mut out);
        Ok(sealed)
    }

    /// The subject id `sealed` holds, checked against the pseudonym of the
    /// row it was read from.
    ///
    /// # Errors
    ///
    /// An error of kind [`Store`](crate::ErrorKind::Store) if it does not
    /// open under this key with this pseudonym (another key, or altered).
    pub fn open(&self, sealed: &[u8], lookup: &str) -> Result<SubjectId, Error> {
        let refuse = || Error::store(format!("a sealed subject id does not open under key `{}`", self.key.id()));
        let (nonce, ciphertext) = sealed.split_at_checked(NONCE_LEN).ok_or_else(refuse)?;
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| refuse())?;
        let mut buf = ciphertext.to_vec();
        let plain = self.aead.open_in_place(nonce, Aad::from(lookup.as_bytes()), &mut buf).map_err(|_| refuse())?;
        let id = std::str::from_utf8(plain).map_err(|_| refuse())?;
        Ok(SubjectId::from(id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seal() -> SubjectSeal {
        let key = PseudonymKey::from_bytes("k1", &[7; 32]);
        SubjectSeal::new(key.unwrap_or_else(|e| unreachable!("{e}"))).unwrap_or_else(|e| unreachable!("{e}"))
    }

    #[test]
    fn a_sealed_id_opens_only_with_its_own_pseudonym() -> Result<(), Error> {
        let s = seal();
        let (a, b) = (SubjectId::from("user-42"), SubjectId::from("user-43"));
        let sealed = s.seal(&a)?;
        assert!(!sealed.windows(7).any(|w| w == b"user-42"));
        assert_eq!(s.open(&sealed, &s.lookup(&a))?, a);
        assert!(s.open(&sealed, &s.lookup(&b)).is_err());
        assert_ne!(s.seal(&a)?, sealed, "a fresh nonce per seal");
        let mut altered = sealed.clone();
        if let Some(last) = altered.last_mut() {
            *last ^= 1;
        }
        assert!(s.open(&altered, &s.lookup(&a)).is_err());
        assert!(s.open(&[1, 2, 3], &s.lookup(&a)).is_err());
        Ok(())
    }
}
