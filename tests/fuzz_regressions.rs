//! Regression tests for the crashes the fuzz targets (`fuzz/`) found, each
//! with its input inlined. A crash found by fuzzing is added here, then
//! fixed; see `fuzz/README.md`. A test marked `#[ignore]` is a crash not
//! yet fixed (`cargo test --test fuzz_regressions -- --ignored` runs it).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use chrono::{DateTime, FixedOffset, Utc};
use privacy_engine::{
    Action, AuditLog, CategoryKey, Engine, InMemoryAuditStore, InMemoryLedger, LegalHold, Policy, PseudonymKey,
    Pseudonymiser, Request, Subject,
};

/// Found by `audit_verify`: a stored log whose last record is a canonical
/// entry stating position `u64::MAX`. `AuditLog::open` computed
/// `last.seq + 1` unchecked: a panic (overflow) in debug builds, where it
/// must answer an error of kind `Audit`, as for any other position.
#[test]
fn audit_log_open_on_a_last_entry_at_position_u64_max_is_an_error() {
    let record = br#"{"seq":18446744073709551615,"id":"00000000-0000-0000-0000-000000000064","at":"2024-05-01T09:00:00+08:00","prev":"0000000000000000000000000000000000000000000000000000000000000000","event":{"type":"consent","event":"00000000-0000-0000-0000-000000000001","at":"2024-05-01T09:00:00+08:00","subject":"k:8b03396beeba9388663ea5aa90794cffd2dd41af0d6af0c8fd21a3ea59923ba4","policy_id":"seed-004","policy_version":"2021-08-20","status":"dpv:ConsentGiven","change":{"type":"grant","qualities":["affirmative","explicit","separate"],"scope":{"purposes":["face_verification"],"categories":["user.biometric.face"]},"expires":"2025-05-01T09:00:00+08:00"}},"hash":"0718e3dd1b44e7f80ec37714d9082bd483868731cd6253dcdf4ca897c51771ab"}"#;
    let store = InMemoryAuditStore::from_records(vec![record.to_vec()]);
    let pseudonyms = Pseudonymiser::new(PseudonymKey::from_bytes("k", &[7; 32]).unwrap());
    let err = AuditLog::open(store, pseudonyms).expect_err("a last entry at the wrong position is refused");
    assert_eq!(err.kind(), privacy_engine::ErrorKind::Audit);
}

/// Found by `structured_request`: a request built in code whose legal hold
/// ends at an instant near chrono's last one, in an offset that puts its
/// local time past `NaiveDateTime::MAX` (chrono builds such a value with
/// `with_timezone`, but cannot print it). The decision echoes the time as
/// `Unmet::NotBefore`, and `Decision::to_json` panicked inside chrono.
/// A request read from JSON cannot carry such a time.
#[test]
fn legal_hold_ending_past_chronos_local_range_does_not_panic() {
    let engine = Engine::new(Policy::from_json(include_str!("../examples/policies/seed-004.json")).unwrap()).unwrap();
    let mut request = Request::new(
        Action::Anonymise,
        Subject::new("u-1"),
        vec![CategoryKey::new("user.financial.transaction").unwrap()],
        "2024-05-01T00:00:00Z".parse().unwrap(),
    );
    let until: DateTime<FixedOffset> =
        DateTime::<Utc>::MAX_UTC.with_timezone(&FixedOffset::east_opt(8 * 3600).unwrap());
    request.events.legal_hold = Some(LegalHold::new("2024-05-01T00:00:00Z".parse().unwrap(), Some(until)));
    let decision = engine.evaluate(&request, &InMemoryLedger::new());
    let _ = decision.to_json();
    let _ = decision.to_string();
}

/// Found while checking `structured_request`'s round trip: chrono writes an
/// offset rounded to the minute, so a decision time in a policy offset with
/// seconds (`settings.utc_offset_seconds` = 3630, which validation accepts)
/// is written as another instant (`2024-02-01T00:00:00+01:01` for
/// `…+01:00:30`), and the JSON reads back as a different decision. Not a
/// crash: a wrong time in the JSON interface.
#[test]
fn decision_times_in_a_policy_offset_with_seconds_read_back_unchanged() {
    let mut doc: serde_json::Value = serde_json::from_str(include_str!("../examples/policies/seed-004.json")).unwrap();
    doc["settings"]["utc_offset_seconds"] = serde_json::json!(3630);
    // Either validation refuses the offset, or the decision's JSON is exact.
    let Ok(policy) = Policy::from_json(&doc.to_string()) else { return };
    let engine = Engine::new(policy).unwrap();
    let mut request = Request::new(
        Action::Delete,
        Subject::new("u").age(30),
        vec![CategoryKey::new("user.financial.transaction").unwrap()],
        "2023-05-01T10:00:00+08:00".parse().unwrap(),
    );
    request.events.transaction_completed = Some("2021-01-31T12:00:00+08:00".parse().unwrap());
    let decision = engine.evaluate(&request, &InMemoryLedger::new());
    let back: privacy_engine::Decision = serde_json::from_str(&decision.to_json()).unwrap();
    assert_eq!(back, decision);
}
