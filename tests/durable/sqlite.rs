//! The SQLite store: the conformance suite, plain and sealed, and what only
//! it promises (schema versions, seals, retention, the shared audit chain).

use chrono::TimeDelta;
use privacy_engine::{
    AuditLog, DurableLog, ErasureReason, ErrorKind, PseudonymDomain, PseudonymKey, Pseudonymiser, Replica,
    SQLITE_SCHEMA_VERSION, SqliteAuditStore, SqliteLog, SqliteOptions, SubjectId, SubjectSeal, Uuid,
};

use crate::TempDir;
use crate::conformance::{event, log_state, recorded};

/// The pseudonym key of the tests.
pub(crate) fn key() -> PseudonymKey {
    PseudonymKey::from_bytes("k1", &[7; 32]).unwrap()
}

/// A seal under [`key`].
pub(crate) fn seal() -> SubjectSeal {
    SubjectSeal::new(key()).unwrap()
}

/// A fresh SQLite store in a temporary directory (kept as long as the
/// returned function lives), every call a new connection.
pub(crate) fn sqlite_store() -> impl FnMut() -> SqliteLog {
    let dir = TempDir::new("conformance");
    move || SqliteLog::open(dir.join("log.db")).unwrap()
}

/// A fresh sealed SQLite store.
pub(crate) fn sealed_store() -> impl FnMut() -> SqliteLog {
    let dir = TempDir::new("sealed");
    move || SqliteLog::open_with(dir.join("log.db"), SqliteOptions::new().seal(seal())).unwrap()
}

crate::conformance_tests!(sqlite_plain, crate::sqlite::sqlite_store());

mod sqlite_sealed {
    use super::*;
    macro_rules! each {
        ($($f:ident),*) => { $( #[test] fn $f() { crate::conformance::$f(sealed_store()); } )* };
    }
    // Every function but the snapshot round trip: a sealed store keeps no
    // snapshot (see `sealed_store_keeps_no_snapshot`).
    each!(
        ids_unique_across_subjects,
        retry_is_idempotent,
        conflicting_retry_writes_nothing,
        bad_append_writes_nothing,
        read_after_in_order_without_gaps,
        subjects_listed,
        subject_records_in_order,
        erasure_removes_and_keeps_ids,
        records_survive_reopening,
        replica_reads_its_writes,
        replica_catches_up_with_another_handle,
        replica_sees_erasure,
        case_steps_follow_the_rules,
        cases_listed_by_subject_and_deadline,
        cases_outlive_erasure,
        lifecycle_follows_the_rules,
        lifecycle_listed_in_time_order,
        lifecycle_outlives_erasure,
        full_export
    );
}

#[test]
fn sealed_store_keeps_no_snapshot() {
    let mut log = sealed_store()();
    log.append(&[event(1, "alice")], recorded()).unwrap();
    assert_eq!(log.save_snapshot(1, b"ids in clear").unwrap_err().kind(), ErrorKind::Store);
}

/// Every byte of the store's files.
fn file_bytes(dir: &TempDir) -> Vec<u8> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        out.extend(std::fs::read(entry.unwrap().path()).unwrap());
    }
    out
}

#[test]
fn a_sealed_file_names_no_subject() {
    let dir = TempDir::new("reveal");
    let path = dir.join("log.db");
    let subject = "subject-id-e5c1";
    {
        let mut log = SqliteLog::open_with(&path, SqliteOptions::new().seal(seal())).unwrap();
        log.append(&[event(1, subject), event(2, subject)], recorded()).unwrap();
        log.erase_subject(&SubjectId::from("erased-id-77ab"), recorded(), ErasureReason::Request).unwrap();
        assert_eq!(log.subjects().unwrap(), [SubjectId::from(subject)]);
    }
    let bytes = file_bytes(&dir);
    for id in [subject, "erased-id-77ab"] {
        assert!(!bytes.windows(id.len()).any(|w| w == id.as_bytes()), "`{id}` is in the file");
    }
    // The events themselves are there; the pseudonym finds the rows.
    assert!(bytes.windows(9).any(|w| w == b"marketing"));
    assert!(bytes.windows(3).any(|w| w == seal().lookup(&SubjectId::from(subject)).as_bytes().get(..3).unwrap()));
    // Without the seal (or under another key) the file is refused.
    let err = SqliteLog::open(&path).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Store);
    assert!(err.to_string().contains("sealed under key `k1`"), "{err}");
    let other = SubjectSeal::new(PseudonymKey::from_bytes("k2", &[8; 32]).unwrap()).unwrap();
    assert!(SqliteLog::open_with(&path, SqliteOptions::new().seal(other)).is_err());
    let plain = dir.join("plain.db");
    drop(SqliteLog::open(&plain).unwrap());
    assert!(SqliteLog::open_with(&plain, SqliteOptions::new().seal(seal())).is_err());
}

#[test]
fn an_erased_subject_leaves_no_byte_in_the_file() {
    let dir = TempDir::new("erase-bytes");
    let subject = "gone-subject-4f1d";
    let mut log = SqliteLog::open(dir.join("log.db")).unwrap();
    log.append(&[event(1, subject), event(2, "kept")], recorded()).unwrap();
    log.erase_subject(&SubjectId::from(subject), recorded(), ErasureReason::Request).unwrap();
    let bytes = file_bytes(&dir);
    // Only the erasure record names the subject: its row and its index
    // entry. The event's row, its index entry and the WAL's copies are gone.
    let count = bytes.windows(subject.len()).filter(|w| *w == subject.as_bytes()).count();
    assert_eq!(count, 2, "the subject id is in the files {count} times");
}

#[test]
fn a_newer_schema_is_refused() {
    let dir = TempDir::new("schema");
    let path = dir.join("log.db");
    drop(SqliteLog::open(&path).unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    let version: u32 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
    assert_eq!(version, SQLITE_SCHEMA_VERSION);
    conn.pragma_update(None, "user_version", SQLITE_SCHEMA_VERSION + 1).unwrap();
    drop(conn);
    let err = SqliteLog::open(&path).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Store);
    assert!(err.to_string().contains("newer"), "{err}");
    assert!(err.to_string().contains("log.db"), "{err}");
}

#[test]
fn records_past_their_retention_are_purged_unless_held() {
    let dir = TempDir::new("purge");
    let mut log = SqliteLog::open(dir.join("log.db")).unwrap();
    let old = recorded();
    log.append(&[event(1, "old"), event(2, "held"), event(3, "recent")], old).unwrap();
    log.append(&[event(4, "recent")], old + TimeDelta::days(300)).unwrap();
    let now = old + TimeDelta::days(400);
    let purged = log.purge_records(now, TimeDelta::days(365), &[SubjectId::from("held")]).unwrap();
    assert_eq!(purged, [SubjectId::from("old")]);
    let state = log_state(&mut log);
    assert_eq!(state.keys().map(SubjectId::as_str).collect::<Vec<_>>(), ["held", "recent"]);
    let erasure = log.subject_records(&SubjectId::from("old")).unwrap();
    assert!(matches!(
        &erasure[..],
        [e] if e.record == privacy_engine::LogRecord::Erasure {
            subject: SubjectId::from("old"), at: now, reason: ErasureReason::Retention
        }
    ));
}

pub(crate) fn pseudonyms() -> Pseudonymiser {
    Pseudonymiser::new(key())
}

#[test]
fn audit_chain_shared_by_two_logs_verifies_and_exports() {
    let dir = TempDir::new("audit");
    let path = dir.join("log.db");
    let mut consents = Replica::open(SqliteLog::open_with(&path, SqliteOptions::new().seal(seal())).unwrap()).unwrap();
    let mut one = AuditLog::open(SqliteAuditStore::open(&path).unwrap(), pseudonyms()).unwrap();
    let mut two = AuditLog::open(SqliteAuditStore::open(&path).unwrap(), pseudonyms()).unwrap();
    for n in 1..=6u128 {
        let subject = if n % 2 == 0 { "alice" } else { "bob" };
        let e = event(n, subject);
        consents.append(e.clone(), recorded()).unwrap();
        let log = if n % 3 == 0 { &mut one } else { &mut two };
        log.record_consent(Uuid::from_u128(100 + n), e.at, &e).unwrap();
    }
    let head = one.verify(None).unwrap().into_result().unwrap();
    assert_eq!(head.len, 6);
    // Reopening verifies the whole chain.
    let reopened = AuditLog::open(SqliteAuditStore::open(&path).unwrap(), pseudonyms()).unwrap();
    assert_eq!(reopened.head(), head);
    // A subject's entries, found by its pseudonym.
    let alice = SubjectId::from("alice");
    let pseudonym = pseudonyms().pseudonymise(&PseudonymDomain::Records, alice.as_str());
    assert_eq!(pseudonym.to_string(), seal().lookup(&alice));
    let exported = reopened.store().entries_of(&pseudonym).unwrap();
    assert_eq!(exported.len(), 3);
    // Erasing the subject leaves the chain as it was, and verifiable.
    consents.log_mut().erase_subject(&alice, recorded(), ErasureReason::Request).unwrap();
    assert_eq!(reopened.verify(Some(&head)).unwrap().into_result().unwrap(), head);
    assert_eq!(reopened.store().entries_of(&pseudonym).unwrap(), exported);
}

#[test]
fn wait_for_change_sees_another_connection() {
    let dir = TempDir::new("wait");
    let path = dir.join("log.db");
    let mut reader = Replica::open(SqliteLog::open(&path).unwrap()).unwrap();
    assert!(!reader.log_mut().wait_for_change(std::time::Duration::from_millis(5)).unwrap());
    let mut writer = SqliteLog::open(&path).unwrap();
    writer.append(&[event(1, "alice")], recorded()).unwrap();
    assert!(reader.log_mut().wait_for_change(std::time::Duration::from_secs(5)).unwrap());
    assert_eq!(reader.catch_up().unwrap(), 1);
}

#[test]
fn an_altered_row_is_named_by_seq_never_by_value() {
    let dir = TempDir::new("altered");
    let path = dir.join("log.db");
    SqliteLog::open(&path).unwrap().append(&[event(1, "alice"), event(2, "bob")], recorded()).unwrap();
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute("UPDATE records SET body = '{\"secret-value-9c2e\": 1}' WHERE seq = 1", []).unwrap();
    conn.execute("UPDATE records SET kind = 'lifecycle' WHERE seq = 2", []).unwrap();
    drop(conn);
    let mut log = SqliteLog::open(&path).unwrap();
    let err = log.read_after(0, 10).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Store);
    let text = err.to_string();
    assert!(text.contains("record 1") && text.contains("log.db"), "{text}");
    assert!(!text.contains("secret-value") && !text.contains("alice"), "{text}");
    let err = log.read_after(1, 10).unwrap_err();
    assert!(err.to_string().contains("record 2") && err.to_string().contains("kind"), "{err}");
    // A replica refuses to open past it, saying where.
    assert_eq!(Replica::open(log).unwrap_err().kind(), ErrorKind::Store);
}

#[test]
fn a_version_1_file_is_migrated_to_cases() {
    use crate::conformance::{case_id, may, received};
    use privacy_engine::CaseStore;
    let dir = TempDir::new("v1");
    let path = dir.join("log.db");
    // A version 1 file: the records, without the cases' tables.
    SqliteLog::open(&path).unwrap().append(&[event(1, "alice")], recorded()).unwrap();
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(
        "DROP TABLE lifecycle_events; DROP TABLE case_steps; DROP TABLE cases; PRAGMA user_version = 1;",
    )
    .unwrap();
    drop(conn);
    let mut log = SqliteLog::open(&path).unwrap();
    let conn = rusqlite::Connection::open(&path).unwrap();
    let version: u32 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
    assert_eq!((version, SQLITE_SCHEMA_VERSION), (3, 3));
    assert_eq!(log_state(&mut log).len(), 1);
    log.record_case(&received(1, "alice", 0, 22)).unwrap();
    assert_eq!(log.overdue(may(23), 10).unwrap()[0].id, case_id(1));
}

#[test]
fn a_version_2_file_is_migrated_to_lifecycle_events() {
    use crate::conformance::{case_id, life, received};
    use privacy_engine::{CaseStore, LifecycleChange, LifecycleStore};
    let dir = TempDir::new("v2");
    let path = dir.join("log.db");
    // A version 2 file: records and a case, without the lifecycle table.
    let mut log = SqliteLog::open(&path).unwrap();
    log.append(&[event(1, "alice")], recorded()).unwrap();
    log.record_case(&received(1, "alice", 0, 22)).unwrap();
    drop(log);
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch("DROP TABLE lifecycle_events; PRAGMA user_version = 2;").unwrap();
    drop(conn);
    let mut log = SqliteLog::open(&path).unwrap();
    let conn = rusqlite::Connection::open(&path).unwrap();
    let version: u32 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
    assert_eq!(version, 3);
    assert_eq!(log_state(&mut log).len(), 1);
    assert_eq!(log.case(case_id(1)).unwrap().unwrap().id, case_id(1));
    let cancel = life(1, "alice", LifecycleChange::Cancelled, 1);
    log.record_lifecycle(&cancel).unwrap();
    assert_eq!(SqliteLog::open(&path).unwrap().lifecycle_of(&SubjectId::from("alice")).unwrap(), [cancel]);
}

#[test]
fn a_sealed_file_names_no_subject_of_a_lifecycle_event() {
    use crate::conformance::life;
    use privacy_engine::{LifecycleChange, LifecycleStore};
    let dir = TempDir::new("sealed-life");
    let mut log = SqliteLog::open_with(dir.join("log.db"), SqliteOptions::new().seal(seal())).unwrap();
    log.record_lifecycle(&life(1, "life-subject-4d9f", LifecycleChange::Cancelled, 0)).unwrap();
    assert_eq!(log.lifecycle_of(&SubjectId::from("life-subject-4d9f")).unwrap().len(), 1);
    drop(log);
    let bytes = file_bytes(&dir);
    assert!(!bytes.windows(17).any(|w| w == b"life-subject-4d9f"));
}

#[test]
fn overdue_cases_are_a_range_scan_of_their_index() {
    let dir = TempDir::new("plan");
    let path = dir.join("log.db");
    drop(SqliteLog::open(&path).unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    let mut plan = conn
        .prepare(
            "EXPLAIN QUERY PLAN SELECT id, subject, sealed FROM cases \
             WHERE state <> 'answered' AND due < ?1 ORDER BY due, id LIMIT ?2",
        )
        .unwrap();
    let details: Vec<String> =
        plan.query_map(rusqlite::params!["2024-05-01", 10], |r| r.get(3)).unwrap().map(Result::unwrap).collect();
    let text = details.join("; ");
    assert!(
        text.contains("USING INDEX cases_overdue") || text.contains("USING COVERING INDEX cases_overdue"),
        "{text}"
    );
    assert!(!text.contains("TEMP B-TREE"), "{text}");
}

#[test]
fn a_sealed_file_names_no_subject_of_a_case() {
    use crate::conformance::received;
    use privacy_engine::CaseStore;
    let dir = TempDir::new("sealed-case");
    let mut log = SqliteLog::open_with(dir.join("log.db"), SqliteOptions::new().seal(seal())).unwrap();
    log.record_case(&received(1, "case-subject-1b7e", 0, 22)).unwrap();
    assert_eq!(log.cases_of(&SubjectId::from("case-subject-1b7e")).unwrap().len(), 1);
    drop(log);
    let bytes = file_bytes(&dir);
    assert!(!bytes.windows(17).any(|w| w == b"case-subject-1b7e"));
}
