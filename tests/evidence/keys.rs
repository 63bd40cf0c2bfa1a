//! Keyed chains: keyed by default, verified on open, key ids, rotation
//! with a key ring, and logs written before keys had ids.

use privacy_engine::{
    AuditEntry, AuditEvent, AuditLog, BreakKind, ChainKey, ChainKeys, Digest, ErrorKind, InMemoryAuditStore,
    PseudonymKey, StoredRecords, Verification, verify_records, verify_store,
};
use uuid::Uuid;

use crate::{chain_key, fill, pseudonyms, t};

/// A chain key.
fn k(n: u8) -> ChainKey {
    ChainKey::from_bytes(&[n; 32]).unwrap()
}

/// A ring of `k(1)` then `k(2)`.
fn ring12() -> ChainKeys {
    let mut ring = ChainKeys::new(k(1));
    ring.push(k(2)).unwrap();
    ring
}

fn broken_at(v: &Verification) -> (u64, BreakKind) {
    match v {
        Verification::Broken(b) => (b.index(), b.kind()),
        Verification::Intact(h) => panic!("expected a break, the chain is intact up to {h:?}"),
    }
}

/// The records of a default log of 7 entries.
fn default_records() -> Vec<Vec<u8>> {
    let mut log = AuditLog::open(InMemoryAuditStore::new(), pseudonyms()).unwrap();
    fill(&mut log, "user-42");
    log.into_store().records().to_vec()
}

/// What an entry's hash is computed over, as the documented canonical form
/// says: the prefix, then the entry without its hash.
fn hash_input(e: &AuditEntry) -> Vec<u8> {
    #[derive(serde::Serialize)]
    struct Body<'a> {
        seq: u64,
        id: &'a Uuid,
        at: &'a chrono::DateTime<chrono::FixedOffset>,
        prev: &'a Digest,
        #[serde(skip_serializing_if = "Option::is_none")]
        key: Option<&'a privacy_engine::KeyId>,
        event: &'a AuditEvent,
    }
    let body = Body { seq: e.seq, id: &e.id, at: &e.at, prev: &e.prev, key: e.key.as_ref(), event: &e.event };
    let mut input = b"privacy-engine audit v1\n".to_vec();
    input.extend(serde_json::to_vec(&body).unwrap());
    input
}

/// An entry appended by someone who can write the log but holds no key:
/// a copy of the last entry moved one position on, hashed plain.
fn forged_after(records: &[Vec<u8>]) -> Vec<u8> {
    let mut e = AuditEntry::from_json(records.last().unwrap()).unwrap();
    e.prev = e.hash;
    e.seq += 1;
    e.key = None;
    e.hash = Digest::sha256(&hash_input(&e));
    e.to_json().unwrap()
}

#[test]
fn a_log_is_keyed_by_default_with_a_key_derived_from_the_pseudonym_key() {
    let records = default_records();
    let derived = ChainKey::derived_from(&PseudonymKey::from_bytes("k1", &[7; 32]).unwrap());
    for r in &records {
        let e = AuditEntry::from_json(r).unwrap();
        assert_eq!(e.key.as_ref(), Some(derived.id()));
    }
    let stored = StoredRecords::new(records.clone(), None);
    assert!(verify_records(&stored, Some(&derived), None).is_intact());
    assert_eq!(broken_at(&verify_records(&stored, None, None)), (0, BreakKind::UnknownKey));
}

/// Issue 13 item 8: in a plain chain, an entry forged and appended after a
/// recorded head verifies; in the default keyed chain it does not.
#[test]
fn a_forged_entry_appended_after_the_head_is_caught_only_in_a_keyed_chain() {
    let mut plain = AuditLog::open_plain(InMemoryAuditStore::new(), pseudonyms()).unwrap();
    fill(&mut plain, "user-42");
    let head = plain.head();
    let mut records = plain.into_store().records().to_vec();
    records.push(forged_after(&records));
    let stored = StoredRecords::new(records.clone(), None);
    assert!(verify_records(&stored, None, Some(&head)).is_intact(), "the documented limit of a plain chain");
    assert!(AuditLog::open_plain(InMemoryAuditStore::from_records(records), pseudonyms()).is_ok());

    let mut records = default_records();
    records.push(forged_after(&records));
    let err = AuditLog::open(InMemoryAuditStore::from_records(records), pseudonyms()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Audit);
    assert!(err.to_string().contains("audit entry 7"), "{err}");
}

/// Issue 13 item 8: a log with an altered entry in the middle is refused
/// on open, so nothing is appended after it.
#[test]
fn opening_refuses_a_log_altered_in_the_middle() {
    for keyed in [false, true] {
        let mut log = if keyed {
            AuditLog::open(InMemoryAuditStore::new(), pseudonyms()).unwrap()
        } else {
            AuditLog::open_plain(InMemoryAuditStore::new(), pseudonyms()).unwrap()
        };
        fill(&mut log, "user-42");
        let mut records = log.into_store().records().to_vec();
        let text = String::from_utf8(records[3].clone()).unwrap();
        let edited = text.replacen("\"verdict\":\"permit\"", "\"verdict\":\"deny\"", 1);
        assert_ne!(text, edited);
        records[3] = edited.into_bytes();
        let store = InMemoryAuditStore::from_records(records);
        let opened =
            if keyed { AuditLog::open(store, pseudonyms()) } else { AuditLog::open_plain(store, pseudonyms()) };
        let err = opened.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Audit);
        assert!(err.to_string().contains("audit entry 3 does not match its hash"), "{err}");
    }
}

#[test]
fn a_rotated_log_verifies_with_its_ring_and_continues_under_the_new_key() {
    let k1 = ChainKey::from_bytes(&[1; 32]).unwrap();
    let k2 = ChainKey::from_bytes(&[2; 32]).unwrap();
    assert_ne!(k1.id(), k2.id());
    let mut log = AuditLog::open_keyed(InMemoryAuditStore::new(), pseudonyms(), k(1)).unwrap();
    fill(&mut log, "user-1");
    let rotation = log.rotate_chain_key(Uuid::from_u128(9), t("2024-07-01T00:00:00Z"), k(2)).unwrap();
    assert_eq!(rotation.key.as_ref(), Some(k1.id()), "a rotation is under the old key");
    assert!(matches!(&rotation.event, AuditEvent::ChainKeyRotation(r) if &r.to == k2.id()));
    assert!(log.rotate_chain_key(Uuid::from_u128(10), t("2024-07-01T00:00:00Z"), k(2)).is_err());
    fill(&mut log, "user-2");
    let head = log.head();
    assert!(log.verify(Some(&head)).unwrap().is_intact());
    let records = log.into_store().records().to_vec();
    assert_eq!(AuditEntry::from_json(records.last().unwrap()).unwrap().key.as_ref(), Some(k2.id()));

    // Reopened with both keys, it verifies and goes on under the new key.
    let mut log =
        AuditLog::open_keyed(InMemoryAuditStore::from_records(records.clone()), pseudonyms(), ring12()).unwrap();
    assert_eq!(log.head(), head);
    let e = log.record_consent(Uuid::from_u128(11), t("2024-07-02T00:00:00Z"), &crate::face_events("u")[0]).unwrap();
    assert_eq!(e.key.as_ref(), Some(k2.id()));
    assert!(verify_store(log.store(), Some(&ring12()), Some(&head)).unwrap().is_intact());

    // Without the old key the entries before the rotation cannot be checked.
    let err = AuditLog::open_keyed(InMemoryAuditStore::from_records(records), pseudonyms(), k2).unwrap_err();
    assert!(err.to_string().contains("chain key that the verifier does not hold"), "{err}");
}

/// An entry under another key of the ring, without a rotation before it,
/// breaks the chain: holding an old key does not let one write after a
/// rotation, nor switch keys unannounced.
#[test]
fn a_key_change_without_a_rotation_is_detected() {
    let mut log = AuditLog::open_keyed(InMemoryAuditStore::new(), pseudonyms(), k(1)).unwrap();
    fill(&mut log, "user-1");
    let mut records = log.into_store().records().to_vec();
    // Append an entry under k2 that links correctly.
    let mut other = AuditLog::open_keyed(InMemoryAuditStore::new(), pseudonyms(), k(2)).unwrap();
    fill(&mut other, "user-1");
    let mut e = AuditEntry::from_json(&other.into_store().records()[0]).unwrap();
    let last = AuditEntry::from_json(records.last().unwrap()).unwrap();
    e.seq = last.seq + 1;
    e.prev = last.hash;
    records.push(e.to_json().unwrap());
    let v = verify_store(&InMemoryAuditStore::from_records(records), Some(&ring12()), None).unwrap();
    assert_eq!(broken_at(&v), (7, BreakKind::KeyChange));
}

#[test]
fn a_plain_chain_cannot_rotate_to_a_key() {
    let mut log = AuditLog::open_plain(InMemoryAuditStore::new(), pseudonyms()).unwrap();
    let err = log.rotate_chain_key(Uuid::nil(), t("2024-07-01T00:00:00Z"), chain_key()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Key);
    assert_eq!(log.head().len, 0);
}

/// A keyed log written before keys had ids (format 1: no `key` field)
/// verifies under the ring's first key, and opening it continues the chain
/// with entries that name the key.
#[test]
fn a_keyed_log_without_key_ids_still_verifies_and_continues() {
    let key = chain_key();
    let secret = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &[42; 32]);
    let mut log = AuditLog::open_keyed(InMemoryAuditStore::new(), pseudonyms(), chain_key()).unwrap();
    fill(&mut log, "user-42");
    // Rewrite every entry as format 1 wrote it: no key id, HMAC over the rest.
    let mut prev = Digest::ZERO;
    let mut old = Vec::new();
    for r in log.into_store().records() {
        let mut e = AuditEntry::from_json(r).unwrap();
        e.key = None;
        e.prev = prev;
        let tag = ring::hmac::sign(&secret, &hash_input(&e));
        e.hash = Digest::from_bytes(tag.as_ref().try_into().unwrap());
        prev = e.hash;
        let json = e.to_json().unwrap();
        assert!(!String::from_utf8_lossy(&json).contains("\"key\""));
        old.push(json);
    }
    let stored = StoredRecords::new(old.clone(), None);
    assert!(verify_records(&stored, Some(&key), None).is_intact());
    let mut log = AuditLog::open_keyed(InMemoryAuditStore::from_records(old), pseudonyms(), chain_key()).unwrap();
    fill(&mut log, "user-43");
    assert!(log.verify(None).unwrap().is_intact());
    let last = log.entries().unwrap().pop().unwrap();
    assert_eq!(last.key.as_ref(), Some(key.id()));
}

#[test]
fn key_ids_name_keys_without_showing_them() {
    let key = ChainKey::from_bytes(&[0xab; 32]).unwrap();
    let id = key.id().as_str().to_owned();
    assert_eq!(id.len(), 18);
    assert!(!id.contains("abab"));
    assert_eq!(ChainKey::from_bytes(&[0xab; 32]).unwrap().id().as_str(), id, "the id depends on the key only");
    for shown in [format!("{key:?}"), format!("{:?}", ChainKeys::new(chain_key()))] {
        assert!(!shown.contains("abab") && !shown.contains("171, 171"), "{shown}");
    }
}
