//! Keyed pseudonyms: stable per key and domain, different across keys and
//! domains, verifiable after rotation, and no key material in `Debug`.

use privacy_engine::{ChainKey, ErrorKind, KeyId, Pseudonym, PseudonymDomain, PseudonymKey, Pseudonymiser, ReceiptKey};
use proptest::prelude::*;

fn k(id: &str, byte: u8) -> PseudonymKey {
    PseudonymKey::from_bytes(id, &[byte; 32]).unwrap()
}

fn recipient(id: &str) -> PseudonymDomain {
    PseudonymDomain::Recipient(id.into())
}

#[test]
fn pseudonyms_name_their_key_and_are_64_hex_digits() {
    let p = k("k1", 1).pseudonym(&PseudonymDomain::Records, "user-42");
    let text = p.to_string();
    let (id, mac) = text.split_once(':').unwrap();
    assert_eq!(id, "k1");
    assert_eq!(mac.len(), 64);
    assert!(mac.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
    assert_eq!(text.parse::<Pseudonym>().unwrap(), p);
    assert_eq!(serde_json::from_str::<Pseudonym>(&serde_json::to_string(&p).unwrap()).unwrap(), p);
}

#[test]
fn two_recipients_cannot_join_on_the_pseudonym() {
    let key = k("k1", 1);
    let a = key.pseudonym(&recipient("partner.a"), "user-42");
    let b = key.pseudonym(&recipient("partner.b"), "user-42");
    assert_ne!(a, b);
    assert!(key.verify(&recipient("partner.a"), "user-42", &a));
    assert!(!key.verify(&recipient("partner.b"), "user-42", &a));
    let p = key.pseudonym(&PseudonymDomain::Purpose("analytics".into()), "user-42");
    assert_ne!(p, a);
    assert_ne!(p, key.pseudonym(&PseudonymDomain::Records, "user-42"));
}

#[test]
fn rotation_keeps_old_pseudonyms_verifiable() {
    let mut ring = Pseudonymiser::new(k("k1", 1));
    let d = recipient("partner.a");
    let old = ring.pseudonymise(&d, "user-42");
    ring.rotate(k("k2", 2)).unwrap();
    assert_eq!(ring.current_key_id().as_str(), "k2");
    let new = ring.pseudonymise(&d, "user-42");
    assert_ne!(old, new);
    assert_eq!(old.key_id().as_str(), "k1");
    assert!(ring.verify(&d, "user-42", &old));
    assert!(ring.verify(&d, "user-42", &new));
    assert!(!ring.verify(&d, "user-43", &old));
    assert!(ring.key(&KeyId::new("k1").unwrap()).is_some());
    assert_eq!(ring.rotate(k("k1", 3)).unwrap_err().kind(), ErrorKind::Key);

    // A ring that no longer holds `k1` cannot verify its pseudonyms.
    let other = Pseudonymiser::new(k("k2", 2));
    assert!(!other.verify(&d, "user-42", &old));
}

#[test]
fn keys_refuse_short_secrets_and_bad_ids() {
    assert_eq!(PseudonymKey::from_bytes("k1", &[1; 31]).unwrap_err().kind(), ErrorKind::Key);
    assert_eq!(PseudonymKey::from_bytes("", &[1; 32]).unwrap_err().kind(), ErrorKind::Key);
    assert_eq!(PseudonymKey::from_bytes("k:1", &[1; 32]).unwrap_err().kind(), ErrorKind::Key);
    assert_eq!(ChainKey::from_bytes(&[1; 16]).unwrap_err().kind(), ErrorKind::Key);
    assert_eq!(ReceiptKey::from_pkcs8("r1", b"not a key").unwrap_err().kind(), ErrorKind::Key);
    assert!("k1:ABCD".parse::<Pseudonym>().is_err());
}

#[test]
fn debug_output_holds_no_key_material() {
    let secret = [0xab; 32];
    let hex_secret = "abab";
    let pk = PseudonymKey::from_bytes("k1", &secret).unwrap();
    let ring = Pseudonymiser::new(PseudonymKey::from_bytes("k1", &secret).unwrap());
    let ck = ChainKey::from_bytes(&secret).unwrap();
    let derived = ChainKey::derived_from(&pk);
    let keys = privacy_engine::ChainKeys::new(ChainKey::from_bytes(&secret).unwrap());
    let log = privacy_engine::AuditLog::open_keyed(
        privacy_engine::InMemoryAuditStore::new(),
        ring,
        ChainKey::from_bytes(&secret).unwrap(),
    )
    .unwrap();
    let texts = [format!("{pk:?}"), format!("{log:?}"), format!("{ck:?}"), format!("{keys:?}"), format!("{derived:?}")];
    for text in texts {
        assert!(!text.contains(hex_secret) && !text.contains("171"), "{text}");
    }

    let pkcs8 = ReceiptKey::generate_pkcs8().unwrap();
    let rk = ReceiptKey::from_pkcs8("r1", &pkcs8).unwrap();
    let text = format!("{rk:?}");
    // The PKCS#8 v2 document holds the 32-byte seed at bytes 16..48.
    let seed: String = pkcs8[16..48].iter().map(|b| format!("{b:02x}")).collect();
    assert!(!text.contains(&seed), "{text}");
    assert!(text.contains("r1"));
}

proptest! {
    /// Stable per key, different across keys and across subjects.
    #[test]
    fn stable_per_key_and_different_across_keys(
        subject in "[a-z0-9-]{1,24}",
        other in "[a-z0-9-]{1,24}",
        a in any::<[u8; 32]>(),
        b in any::<[u8; 32]>(),
    ) {
        let ka = PseudonymKey::from_bytes("a", &a).unwrap();
        let ka2 = PseudonymKey::from_bytes("a", &a).unwrap();
        let d = PseudonymDomain::Records;
        prop_assert_eq!(ka.pseudonym(&d, &subject), ka2.pseudonym(&d, &subject));
        if a != b {
            let kb = PseudonymKey::from_bytes("a", &b).unwrap();
            prop_assert_ne!(ka.pseudonym(&d, &subject), kb.pseudonym(&d, &subject));
        }
        if subject != other {
            prop_assert_ne!(ka.pseudonym(&d, &subject), ka.pseudonym(&d, &other));
        }
    }
}

/// Equality of pseudonyms compares the key id and every byte of the HMAC
/// (in constant time): equal only when both match.
#[test]
fn pseudonym_equality_needs_the_key_id_and_the_whole_mac() {
    let p: Pseudonym = format!("k1:{}", "ab".repeat(32)).parse().unwrap();
    let same: Pseudonym = p.to_string().parse().unwrap();
    assert_eq!(p, same);
    let last_differs: Pseudonym = format!("k1:{}ac", "ab".repeat(31)).parse().unwrap();
    let first_differs: Pseudonym = format!("k1:ac{}", "ab".repeat(31)).parse().unwrap();
    let other_key: Pseudonym = format!("k2:{}", "ab".repeat(32)).parse().unwrap();
    for other in [last_differs, first_differs, other_key] {
        assert_ne!(p, other);
    }
    let set: std::collections::HashSet<Pseudonym> = [p.clone(), same].into_iter().collect();
    assert_eq!(set.len(), 1);
}
