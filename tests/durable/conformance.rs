//! The [`DurableLog`], [`CaseStore`] and [`LifecycleStore`] contracts, as functions every
//! backend runs.
//!
//! Each function takes `open`, which opens a new handle on one store made
//! fresh for that test (for a database: a new file or schema; every call a
//! new connection to it). A backend runs them all with
//! [`conformance_tests!`](crate::conformance_tests), or calls the ones it
//! needs. [`InMemoryLog`](privacy_engine::InMemoryLog) is the reference:
//! it passes every one of them.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};
use privacy_engine::{
    AnswerOutcome, CONSENT_HORIZON, CONSENT_SKEW, CaseEvent, CaseId, CaseState, CaseStore, ConsentEvent, DurableLog,
    ErasureReason, ErrorKind, LifecycleChange, LifecycleEvent, LifecycleStore, LogEntry, LogRecord, NaiveDate, Replica,
    RightsCase, RightsRequestKind, SubjectId,
};
use serde_json::json;

pub use crate::export::full_export;

/// Runs every conformance function as a `#[test]` in a module `$name`,
/// each on a store `$store` makes (an expression giving the `open`
/// function).
#[macro_export]
macro_rules! conformance_tests {
    ($name:ident, $store:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            $crate::conformance_tests!(@each $store;
                ids_unique_across_subjects, retry_is_idempotent, conflicting_retry_writes_nothing,
                bad_append_writes_nothing, read_after_in_order_without_gaps, subjects_listed,
                subject_records_in_order, erasure_removes_and_keeps_ids, snapshot_round_trip,
                records_survive_reopening, replica_reads_its_writes, replica_catches_up_with_another_handle,
                replica_sees_erasure, replica_opens_from_its_checkpoint,
                case_steps_follow_the_rules, cases_listed_by_subject_and_deadline, cases_outlive_erasure,
                lifecycle_follows_the_rules, lifecycle_listed_in_time_order, lifecycle_outlives_erasure,
                full_export);
        }
    };
    (@each $store:expr; $($f:ident),*) => {
        $(
            #[test]
            fn $f() {
                $crate::conformance::$f($store);
            }
        )*
    };
}

/// When the test events are recorded.
pub fn recorded() -> DateTime<Utc> {
    "2024-05-01T02:00:00Z".parse().unwrap()
}

/// A refusal of `marketing` × `user.contact`, id `n`, by `subject`, dated
/// `n` seconds before [`recorded`].
pub fn event(n: u128, subject: &str) -> ConsentEvent {
    event_at(n, subject, recorded() - TimeDelta::seconds(n as i64))
}

/// A grant of `marketing` × `user.contact`, id `n`, by `subject`, at `at`.
pub fn event_at(n: u128, subject: &str, at: DateTime<Utc>) -> ConsentEvent {
    serde_json::from_value(json!({
        "id": uuid::Uuid::from_u128(n),
        "at": at.fixed_offset().to_rfc3339(),
        "subject": subject,
        "policy_id": "seed-004",
        "policy_version": "2021-08-20",
        "change": {"type": "grant", "qualities": ["affirmative", "explicit"],
            "scope": {"purposes": ["marketing"], "categories": ["user.contact"]}}
    }))
    .unwrap()
}

/// Every record of `log`, read in batches of 7.
pub fn all_records(log: &mut impl DurableLog) -> Vec<LogEntry> {
    let mut out: Vec<LogEntry> = Vec::new();
    loop {
        let batch = log.read_after(out.last().map_or(0, |e| e.seq), 7).unwrap();
        if batch.is_empty() {
            return out;
        }
        out.extend(batch);
    }
}

/// The consent events of every subject, by time, as the records of `log`
/// leave them.
pub fn log_state(log: &mut impl DurableLog) -> BTreeMap<SubjectId, Vec<ConsentEvent>> {
    let mut state: BTreeMap<SubjectId, Vec<ConsentEvent>> = BTreeMap::new();
    for entry in all_records(log) {
        match entry.record {
            LogRecord::Consent { event, .. } => state.entry(event.subject.clone()).or_default().push(event),
            LogRecord::Erasure { subject, .. } => {
                state.remove(&subject);
            }
            _ => {}
        }
    }
    state.values_mut().for_each(|events| events.sort_by_key(|e| (e.at, e.id)));
    state
}

/// The consent events of every subject in `replica`'s ledger, by time.
pub fn replica_state<L: DurableLog>(replica: &Replica<L>) -> BTreeMap<SubjectId, Vec<ConsentEvent>> {
    use privacy_engine::ConsentHistory;
    let ledger = replica.ledger();
    let mut state: BTreeMap<_, _> = ledger
        .subjects()
        .map(|s| (s.clone(), ledger.events(&s).collect::<Vec<_>>()))
        .filter(|(_, e)| !e.is_empty())
        .collect();
    state.values_mut().for_each(|events: &mut Vec<ConsentEvent>| events.sort_by_key(|e| (e.at, e.id)));
    state
}

fn seqs(entries: &[LogEntry]) -> Vec<u64> {
    entries.iter().map(|e| e.seq).collect()
}

/// One event id, one event: the same id for another subject is refused.
pub fn ids_unique_across_subjects<L: DurableLog>(mut open: impl FnMut() -> L) {
    let mut log = open();
    log.append(&[event(1, "alice")], recorded()).unwrap();
    let err = log.append(&[event(1, "bob")], recorded()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Store, "{err}");
    assert!(err.to_string().contains("00000000-0000-0000-0000-000000000001"), "{err}");
    assert_eq!(all_records(&mut open()).len(), 1);
}

/// A retried append is acknowledged with the first seq and writes nothing.
pub fn retry_is_idempotent<L: DurableLog>(mut open: impl FnMut() -> L) {
    let mut log = open();
    let first = log.append(&[event(1, "alice"), event(2, "bob")], recorded()).unwrap();
    assert!(first.iter().all(|a| a.fresh));
    assert_eq!(first.iter().map(|a| a.seq).collect::<Vec<_>>(), [1, 2]);
    let later = recorded() + TimeDelta::seconds(30);
    let again = log.append(&[event(2, "bob"), event(3, "carol")], later).unwrap();
    assert_eq!((again[0].seq, again[0].fresh), (2, false));
    assert_eq!((again[1].seq, again[1].fresh), (3, true));
    let mut other = open();
    let third = other.append(&[event(1, "alice")], later).unwrap();
    assert_eq!((third[0].seq, third[0].fresh), (1, false));
    assert_eq!(seqs(&all_records(&mut open())), [1, 2, 3]);
}

/// A retry whose id the log holds with other content refuses the whole
/// append.
pub fn conflicting_retry_writes_nothing<L: DurableLog>(mut open: impl FnMut() -> L) {
    let mut log = open();
    log.append(&[event(1, "alice")], recorded()).unwrap();
    let mut changed = event(1, "alice");
    changed.at -= TimeDelta::seconds(1);
    let err = log.append(&[event(2, "bob"), changed], recorded()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Store, "{err}");
    assert_eq!(seqs(&all_records(&mut open())), [1]);
    // The refused batch's own new event was not kept either.
    assert!(log.append(&[event(2, "bob")], recorded()).unwrap()[0].fresh);
}

/// An append with one bad event (malformed, out of the horizon, an id twice,
/// none at all) is refused whole.
pub fn bad_append_writes_nothing<L: DurableLog>(mut open: impl FnMut() -> L) {
    let mut log = open();
    let mut malformed = event(2, "bob");
    if let privacy_engine::ConsentChange::Grant { scope, .. } = &mut malformed.change {
        scope.purposes.clear();
    }
    let too_old = event_at(3, "bob", recorded() - CONSENT_HORIZON - TimeDelta::seconds(1));
    let too_new = event_at(4, "bob", recorded() + CONSENT_SKEW + TimeDelta::seconds(1));
    for bad in [vec![event(1, "alice"), malformed], vec![event(1, "alice"), too_old], vec![event(1, "alice"), too_new]]
    {
        let err = log.append(&bad, recorded()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Ledger, "{err}");
    }
    let err = log.append(&[event(1, "alice"), event(5, "bob"), event(1, "alice")], recorded()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Ledger, "{err}");
    assert_eq!(log.append(&[], recorded()).unwrap_err().kind(), ErrorKind::Ledger);
    assert!(all_records(&mut open()).is_empty());
    // At the edges of the horizon an event is accepted.
    let oldest = event_at(6, "bob", recorded() - CONSENT_HORIZON);
    let newest = event_at(7, "bob", recorded() + CONSENT_SKEW);
    log.append(&[oldest, newest], recorded()).unwrap();
}

/// Records come back in seq order, numbered 1, 2, 3, … without gaps, at
/// most `limit` at a time.
pub fn read_after_in_order_without_gaps<L: DurableLog>(mut open: impl FnMut() -> L) {
    let mut log = open();
    for chunk in (1..=25u128).collect::<Vec<_>>().chunks(6) {
        let events: Vec<_> = chunk.iter().map(|&n| event(n, &format!("s{}", n % 4))).collect();
        log.append(&events, recorded()).unwrap();
    }
    let mut reader = open();
    assert_eq!(seqs(&reader.read_after(0, 10).unwrap()), (1..=10).collect::<Vec<_>>());
    assert_eq!(seqs(&reader.read_after(10, 100).unwrap()), (11..=25).collect::<Vec<_>>());
    assert!(reader.read_after(25, 10).unwrap().is_empty());
    assert!(reader.read_after(1_000, 10).unwrap().is_empty());
    assert_eq!(reader.read_after(0, usize::MAX).unwrap().len(), 25);
    let all = all_records(&mut reader);
    for (entry, n) in all.iter().zip(1u128..) {
        match &entry.record {
            LogRecord::Consent { event: e, recorded: r } => {
                assert_eq!(e, &event(n, &format!("s{}", n % 4)));
                assert_eq!(*r, recorded());
            }
            other => panic!("record {} is {other:?}", entry.seq),
        }
    }
}

/// Every subject with consent events, once.
pub fn subjects_listed<L: DurableLog>(mut open: impl FnMut() -> L) {
    let mut log = open();
    assert!(log.subjects().unwrap().is_empty());
    log.append(&[event(1, "bob"), event(2, "alice"), event(3, "bob")], recorded()).unwrap();
    log.append(&[event(4, "carol")], recorded()).unwrap();
    let mut subjects = open().subjects().unwrap();
    subjects.sort();
    assert_eq!(subjects, ["alice", "bob", "carol"].map(SubjectId::from));
    log.erase_subject(&SubjectId::from("bob"), recorded(), ErasureReason::Request).unwrap();
    let mut subjects = open().subjects().unwrap();
    subjects.sort();
    assert_eq!(subjects, ["alice", "carol"].map(SubjectId::from));
}

/// A subject's records, in order, and no one else's.
pub fn subject_records_in_order<L: DurableLog>(mut open: impl FnMut() -> L) {
    let mut log = open();
    log.append(&[event(1, "bob"), event(2, "alice"), event(3, "bob")], recorded()).unwrap();
    log.append(&[event(4, "alice"), event(5, "bob")], recorded()).unwrap();
    let bob = open().subject_records(&SubjectId::from("bob")).unwrap();
    assert_eq!(seqs(&bob), [1, 3, 5]);
    for (entry, n) in bob.iter().zip([1, 3, 5]) {
        assert_eq!(entry.record, LogRecord::Consent { event: event(n, "bob"), recorded: recorded() });
    }
    assert!(open().subject_records(&SubjectId::from("dave")).unwrap().is_empty());
}

/// Erasure removes a subject's events, keeps their places and ids, and
/// records itself; an erased id cannot come back.
pub fn erasure_removes_and_keeps_ids<L: DurableLog>(mut open: impl FnMut() -> L) {
    let mut log = open();
    log.append(&[event(1, "bob"), event(2, "alice"), event(3, "bob")], recorded()).unwrap();
    let bob = SubjectId::from("bob");
    let at = recorded() + TimeDelta::hours(1);
    let (seq, removed) = log.erase_subject(&bob, at, ErasureReason::Request).unwrap();
    assert_eq!((seq, removed), (4, 2));
    let all = all_records(&mut open());
    assert_eq!(seqs(&all), [1, 2, 3, 4]);
    assert_eq!(all[0].record, LogRecord::Removed);
    assert_eq!(all[2].record, LogRecord::Removed);
    assert_eq!(all[3].record, LogRecord::Erasure { subject: bob.clone(), at, reason: ErasureReason::Request });
    assert_eq!(open().subject_records(&bob).unwrap(), [all[3].clone()]);
    for retry in [event(1, "bob"), event(3, "carol")] {
        let err = open().append(&[retry], recorded()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Store, "{err}");
    }
    assert_eq!(all_records(&mut open()).len(), 4);
    // The subject may consent again, with new ids.
    assert_eq!(log.append(&[event(6, "bob")], recorded()).unwrap()[0].seq, 5);
    let (again, none) = log.erase_subject(&SubjectId::from("nobody"), at, ErasureReason::Retention).unwrap();
    assert_eq!((again, none), (6, 0));
}

/// The newest snapshot comes back as saved; an erasure removes it.
pub fn snapshot_round_trip<L: DurableLog>(mut open: impl FnMut() -> L) {
    let mut log = open();
    assert_eq!(log.snapshot().unwrap(), None);
    log.append(&[event(1, "bob"), event(2, "alice")], recorded()).unwrap();
    log.save_snapshot(1, b"one").unwrap();
    log.save_snapshot(2, b"two").unwrap();
    assert_eq!(open().snapshot().unwrap(), Some((2, b"two".to_vec())));
    assert_eq!(log.save_snapshot(3, b"past the end").unwrap_err().kind(), ErrorKind::Store);
    log.erase_subject(&SubjectId::from("bob"), recorded(), ErasureReason::Request).unwrap();
    assert_eq!(open().snapshot().unwrap(), None);
    // A snapshot taken before the erasure holds the erased events.
    assert_eq!(log.save_snapshot(2, b"stale").unwrap_err().kind(), ErrorKind::Store);
    log.save_snapshot(3, b"three").unwrap();
    assert_eq!(open().snapshot().unwrap(), Some((3, b"three".to_vec())));
}

/// What one handle wrote, another opened later reads.
pub fn records_survive_reopening<L: DurableLog>(mut open: impl FnMut() -> L) {
    let written = {
        let mut log = open();
        log.append(&[event(1, "bob"), event(2, "alice")], recorded()).unwrap();
        log.append(&[event(3, "bob")], recorded()).unwrap();
        all_records(&mut log)
    };
    assert_eq!(all_records(&mut open()), written);
    assert_eq!(log_state(&mut open()).len(), 2);
}

/// A replica has applied its own append when the append returns.
pub fn replica_reads_its_writes<L: DurableLog>(mut open: impl FnMut() -> L) {
    let mut replica = Replica::open(open()).unwrap();
    let appended = replica.append(event(1, "bob"), recorded()).unwrap();
    assert_eq!((appended.seq, replica.seen()), (1, 1));
    assert_eq!(replica.ledger().events(&SubjectId::from("bob")).collect::<Vec<_>>(), [event(1, "bob")]);
    replica.append_all(&[event(2, "alice"), event(3, "bob")], recorded()).unwrap();
    assert_eq!(replica_state(&replica), log_state(&mut open()));
}

/// A replica catching up applies what another handle appended, in order.
pub fn replica_catches_up_with_another_handle<L: DurableLog>(mut open: impl FnMut() -> L) {
    let mut mine = Replica::open(open()).unwrap();
    let mut theirs = Replica::open(open()).unwrap();
    theirs.append_all(&[event(1, "bob"), event(2, "alice")], recorded()).unwrap();
    assert!(mine.ledger().is_empty());
    assert_eq!(mine.catch_up().unwrap(), 2);
    mine.append(event(3, "bob"), recorded()).unwrap();
    theirs.append(event(4, "carol"), recorded()).unwrap();
    // An append catches up too: everything committed before it is applied.
    mine.append(event(5, "alice"), recorded()).unwrap();
    assert_eq!(mine.seen(), 5);
    theirs.catch_up().unwrap();
    assert_eq!(replica_state(&mine), replica_state(&theirs));
    assert_eq!(replica_state(&mine), log_state(&mut open()));
    assert_eq!(replica_state(&Replica::open(open()).unwrap()), replica_state(&mine));
}

/// An erasure through one handle reaches every replica, and a replica
/// opened after it never sees the erased events.
pub fn replica_sees_erasure<L: DurableLog>(mut open: impl FnMut() -> L) {
    let mut mine = Replica::open(open()).unwrap();
    let mut theirs = Replica::open(open()).unwrap();
    mine.append_all(&[event(1, "bob"), event(2, "alice"), event(3, "bob")], recorded()).unwrap();
    theirs.catch_up().unwrap();
    let bob = SubjectId::from("bob");
    theirs.log_mut().erase_subject(&bob, recorded(), ErasureReason::Request).unwrap();
    mine.catch_up().unwrap();
    theirs.catch_up().unwrap();
    for replica in [&mine, &theirs, &Replica::open(open()).unwrap()] {
        assert_eq!(replica.ledger().events(&bob).count(), 0);
        assert_eq!(replica.ledger().len(), 1);
        assert_eq!(replica.seen(), 4);
    }
    assert_eq!(replica_state(&mine), log_state(&mut open()));
}

/// A replica opened after a checkpoint starts from the snapshot and reads
/// only the records after it, to the same ledger; an erasure after the
/// checkpoint still reaches it.
pub fn replica_opens_from_its_checkpoint<L: DurableLog>(mut open: impl FnMut() -> L) {
    let mut replica = Replica::open(open()).unwrap();
    replica.append_all(&[event(1, "bob"), event(2, "alice"), event(3, "bob")], recorded()).unwrap();
    assert_eq!(replica.checkpoint().unwrap(), 3);
    assert_eq!(open().snapshot().unwrap().map(|(seq, _)| seq), Some(3));
    replica.append(event(4, "carol"), recorded()).unwrap();
    assert_eq!(replica_state(&Replica::open(open()).unwrap()), replica_state(&replica));
    replica.checkpoint().unwrap();
    replica.log_mut().erase_subject(&SubjectId::from("bob"), recorded(), ErasureReason::Request).unwrap();
    replica.catch_up().unwrap();
    let reopened = Replica::open(open()).unwrap();
    assert_eq!(reopened.seen(), 5);
    assert_eq!(replica_state(&reopened), replica_state(&replica));
    assert_eq!(replica_state(&reopened), log_state(&mut open()));
}

/// Case `n`.
pub fn case_id(n: u128) -> CaseId {
    CaseId(uuid::Uuid::from_u128(n))
}

/// A date of May 2024.
pub fn may(day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 5, day).unwrap()
}

/// Case `n` of `subject`: an access request received `hours` after
/// [`recorded`], due on May `due`.
pub fn received(n: u128, subject: &str, hours: i64, due: u32) -> CaseEvent {
    CaseEvent::received(case_id(n), subject, RightsRequestKind::Access, recorded() + TimeDelta::hours(hours), may(due))
        .calendar("CN 2024")
}

/// A later step of case `n` of `subject`, `hours` after [`recorded`].
pub fn step(n: u128, subject: &str, state: CaseState, hours: i64) -> CaseEvent {
    CaseEvent::new(case_id(n), subject, state, recorded() + TimeDelta::hours(hours))
}

fn states(case: &RightsCase) -> Vec<CaseState> {
    case.history.iter().map(|s| s.state).collect()
}

/// A case goes received → identity verified → extended → answered, each
/// step recorded once however often it is retried; a step the rules refuse
/// writes nothing.
pub fn case_steps_follow_the_rules<L: DurableLog + CaseStore>(mut open: impl FnMut() -> L) {
    let mut store = open();
    let refused = |store: &mut L, e: CaseEvent| {
        let err = store.record_case(&e).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Rights, "{err}");
        assert!(!err.to_string().contains("alice"), "{err}");
    };
    refused(&mut store, step(1, "alice", CaseState::IdentityVerified, 1));
    let mut no_due = received(1, "alice", 0, 22);
    no_due.due = None;
    refused(&mut store, no_due);
    assert_eq!(open().case(case_id(1)).unwrap(), None);
    store.record_case(&received(1, "alice", 0, 22)).unwrap();
    store.record_case(&received(1, "alice", 0, 22)).unwrap();
    refused(&mut store, received(1, "alice", 0, 23));
    refused(&mut store, received(1, "alice", 1, 22));
    refused(&mut store, step(1, "bob", CaseState::IdentityVerified, 1));
    refused(&mut store, step(1, "alice", CaseState::Extended, 1));
    refused(&mut store, step(1, "alice", CaseState::Answered, 1));
    store.record_case(&step(1, "alice", CaseState::IdentityVerified, 2)).unwrap();
    refused(&mut store, step(1, "alice", CaseState::IdentityVerified, 3));
    refused(&mut store, step(1, "alice", CaseState::Extended, 1).due(may(30)));
    refused(&mut store, step(1, "alice", CaseState::Extended, 3).due(may(22)));
    store.record_case(&step(1, "alice", CaseState::Extended, 3).due(may(30))).unwrap();
    let mut other = open();
    let case = other.case(case_id(1)).unwrap().unwrap();
    assert_eq!(
        (case.state, case.due, case.right.clone()),
        (CaseState::Extended, Some(may(30)), RightsRequestKind::Access)
    );
    assert_eq!(states(&case), [CaseState::Received, CaseState::IdentityVerified, CaseState::Extended]);
    assert_eq!(case.history[0], received(1, "alice", 0, 22));
    let answered = step(1, "alice", CaseState::Answered, 4).outcome(AnswerOutcome::Accepted);
    other.record_case(&answered).unwrap();
    store.record_case(&answered).unwrap();
    refused(&mut store, step(1, "alice", CaseState::Answered, 4).outcome(AnswerOutcome::Refused));
    refused(&mut store, step(1, "alice", CaseState::Extended, 5).due(may(31)));
    let case = open().case(case_id(1)).unwrap().unwrap();
    assert_eq!((case.state, case.due, case.history.len()), (CaseState::Answered, Some(may(30)), 4));
    assert_eq!(case.history[3], answered);
    assert_eq!(case.subject, SubjectId::from("alice"));
}

/// A subject's cases, oldest first; the open cases due before a day,
/// earliest deadline first, at most as many as asked.
pub fn cases_listed_by_subject_and_deadline<L: DurableLog + CaseStore>(mut open: impl FnMut() -> L) {
    let mut store = open();
    for (n, subject, hours, due) in
        [(5, "alice", 5, 20), (2, "bob", 1, 10), (3, "alice", 2, 15), (4, "carol", 3, 15), (1, "alice", 4, 25)]
    {
        store.record_case(&received(n, subject, hours, due)).unwrap();
    }
    store.record_case(&step(4, "carol", CaseState::Answered, 6).outcome(AnswerOutcome::Refused)).unwrap();
    store.record_case(&step(2, "bob", CaseState::Extended, 6).due(may(18))).unwrap();
    let ids = |cases: Vec<RightsCase>| cases.into_iter().map(|c| c.id).collect::<Vec<_>>();
    let mut other = open();
    assert_eq!(ids(other.cases_of(&SubjectId::from("alice")).unwrap()), [3, 1, 5].map(case_id));
    assert!(other.cases_of(&SubjectId::from("dave")).unwrap().is_empty());
    // Due on the 15th is not overdue on the 15th; an answered case never is.
    assert_eq!(ids(other.overdue(may(15), 10).unwrap()), []);
    assert_eq!(ids(other.overdue(may(16), 10).unwrap()), [case_id(3)]);
    assert_eq!(ids(other.overdue(may(26), 10).unwrap()), [3, 2, 5, 1].map(case_id));
    assert_eq!(ids(other.overdue(may(26), 2).unwrap()), [3, 2].map(case_id));
    let bob = other.overdue(may(19), 10).unwrap().into_iter().find(|c| c.id == case_id(2)).unwrap();
    assert_eq!((bob.due, bob.state, bob.history.len()), (Some(may(18)), CaseState::Extended, 2));
    // Two cases due the same day come in id order.
    store.record_case(&received(9, "dave", 7, 15)).unwrap();
    store.record_case(&received(8, "dave", 8, 15)).unwrap();
    assert_eq!(ids(open().overdue(may(16), 10).unwrap()), [3, 8, 9].map(case_id));
}

/// Erasing a subject's consent records keeps their cases: the record that
/// the requests were handled.
pub fn cases_outlive_erasure<L: DurableLog + CaseStore>(mut open: impl FnMut() -> L) {
    let mut store = open();
    store.append(&[event(1, "alice")], recorded()).unwrap();
    store.record_case(&received(1, "alice", 0, 22)).unwrap();
    let deletion = RightsRequestKind::Deletion { grounds: vec![privacy_engine::DeletionGround::ConsentWithdrawn] };
    store.record_case(&CaseEvent::received(case_id(2), "alice", deletion.clone(), recorded(), may(22))).unwrap();
    store.record_case(&step(2, "alice", CaseState::Answered, 1).outcome(AnswerOutcome::PartlyAccepted)).unwrap();
    let before = open().cases_of(&SubjectId::from("alice")).unwrap();
    store.erase_subject(&SubjectId::from("alice"), recorded() + TimeDelta::hours(2), ErasureReason::Request).unwrap();
    let after = open().cases_of(&SubjectId::from("alice")).unwrap();
    assert_eq!(after, before);
    assert_eq!(after[1].right, deletion);
}

/// Lifecycle event `n`: `change` to `subject`'s account, `hours` after
/// [`recorded`], in UTC+8 (the offset is kept).
pub fn life(n: u128, subject: &str, change: LifecycleChange, hours: i64) -> LifecycleEvent {
    let at = (recorded() + TimeDelta::hours(hours)).with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap());
    LifecycleEvent::new(uuid::Uuid::from_u128(n), subject, change, at)
}

fn changes(events: &[LifecycleEvent]) -> Vec<LifecycleChange> {
    events.iter().map(|e| e.change).collect()
}

/// An account is cancelled once, then only reactivated; an id is
/// idempotent and unique across subjects; a refused event writes nothing
/// and its error names no subject.
pub fn lifecycle_follows_the_rules<L: LifecycleStore>(mut open: impl FnMut() -> L) {
    use LifecycleChange::*;
    let mut store = open();
    let alice = SubjectId::from("life-subject-7c2a");
    assert!(store.lifecycle_of(&alice).unwrap().is_empty());
    let cancel = life(1, alice.as_str(), Cancelled, 0);
    store.record_lifecycle(&cancel).unwrap();
    store.record_lifecycle(&cancel).unwrap();
    let refused = |store: &mut L, e: LifecycleEvent| {
        let err = store.record_lifecycle(&e).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Rights, "{err}");
        assert!(!err.to_string().contains("life-subject"), "{err}");
    };
    refused(&mut store, life(2, alice.as_str(), Cancelled, 1));
    refused(&mut store, life(2, alice.as_str(), Inactive, 1));
    refused(&mut store, life(1, alice.as_str(), Cancelled, 5));
    refused(&mut store, life(1, "bob", Cancelled, 0));
    refused(&mut store, life(3, "bob", Reactivated, 0));
    assert_eq!(open().lifecycle_of(&alice).unwrap(), std::slice::from_ref(&cancel));
    assert!(open().lifecycle_of(&SubjectId::from("bob")).unwrap().is_empty());
    let mut other = open();
    other.record_lifecycle(&life(4, alice.as_str(), Reactivated, 2)).unwrap();
    store.record_lifecycle(&life(5, alice.as_str(), Cancelled, 3)).unwrap();
    let events = open().lifecycle_of(&alice).unwrap();
    assert_eq!(changes(&events), [Cancelled, Reactivated, Cancelled]);
    assert_eq!(events[0], cancel, "the offset and every field come back");
    // The controller's termination reaches the cancelled account too; then
    // nothing follows.
    let mut end = life(6, alice.as_str(), ServiceTerminated, 24 * 40);
    end.notice = Some(life(0, alice.as_str(), Inactive, 24 * 5).at);
    store.record_lifecycle(&end).unwrap();
    refused(&mut store, life(7, alice.as_str(), Reactivated, 24 * 41));
    assert_eq!(changes(&open().lifecycle_of(&alice).unwrap()), [Cancelled, Reactivated, Cancelled, ServiceTerminated]);
}

/// A subject's events come by time, not by arrival; a termination keeps
/// its notice; nothing follows it.
pub fn lifecycle_listed_in_time_order<L: LifecycleStore>(mut open: impl FnMut() -> L) {
    use LifecycleChange::*;
    let mut store = open();
    let mut end = life(1, "carol", ServiceTerminated, 24 * 40);
    end.notice = Some(life(0, "carol", Inactive, 0).at);
    store.record_lifecycle(&end).unwrap();
    store.record_lifecycle(&life(2, "carol", Inactive, 24)).unwrap();
    store.record_lifecycle(&life(3, "carol", Inactive, 12)).unwrap();
    assert_eq!(store.record_lifecycle(&life(4, "carol", Cancelled, 24 * 41)).unwrap_err().kind(), ErrorKind::Rights);
    let events = open().lifecycle_of(&SubjectId::from("carol")).unwrap();
    let ids: Vec<u128> = events.iter().map(|e| e.id.as_u128()).collect();
    assert_eq!(ids, [3, 2, 1]);
    assert_eq!(events[2], end);
}

/// Erasing a subject's consent records keeps their lifecycle events: a
/// cancellation is what the retention of their other data runs from.
pub fn lifecycle_outlives_erasure<L: DurableLog + LifecycleStore>(mut open: impl FnMut() -> L) {
    let mut store = open();
    let alice = SubjectId::from("alice");
    store.append(&[event(1, "alice")], recorded()).unwrap();
    store.record_lifecycle(&life(1, "alice", LifecycleChange::Cancelled, 0)).unwrap();
    let before = open().lifecycle_of(&alice).unwrap();
    store.erase_subject(&alice, recorded() + TimeDelta::hours(2), ErasureReason::Request).unwrap();
    assert_eq!(open().lifecycle_of(&alice).unwrap(), before);
    assert_eq!(before.len(), 1);
}
