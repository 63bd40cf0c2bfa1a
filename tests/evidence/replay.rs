//! Replay: a recorded decision evaluated again gives the same decision;
//! a different policy, subject or birth date is refused.

use privacy_engine::{
    AuditEvent, AuditLog, Engine, ErrorKind, InMemoryAuditStore, PseudonymKey, ReplaySubject, replay,
};

use crate::{engine, fill, ledger, policy, pseudonyms};

fn recorded() -> AuditLog<InMemoryAuditStore> {
    let mut log = AuditLog::open(InMemoryAuditStore::new(), pseudonyms()).unwrap();
    fill(&mut log, "user-42");
    log
}

fn subject_for(entry: &privacy_engine::AuditEntry) -> ReplaySubject {
    let AuditEvent::Decision(d) = &entry.event else { panic!("not a decision") };
    let mut s = ReplaySubject::new("user-42");
    if d.request.subject.birth_date.is_some() {
        s.birth_date = Some("1990-02-03".parse().unwrap());
    }
    s
}

#[test]
fn every_recorded_decision_replays_to_the_same_decision() {
    let log = recorded();
    let ledger = ledger("user-42");
    let mut decisions = 0;
    let mut verdicts = Vec::new();
    for entry in log.entries().unwrap() {
        if let AuditEvent::Decision(d) = &entry.event {
            let r = log.replay(&entry, engine(), &subject_for(&entry), &ledger).unwrap();
            assert!(r.matches, "entry {}: {}", entry.seq, r.decision);
            assert_eq!(r.decision.verdict, d.verdict);
            verdicts.push(d.verdict);
            decisions += 1;
        }
    }
    assert_eq!(decisions, 4);
    assert!(verdicts.contains(&privacy_engine::Verdict::Permit));
    assert!(verdicts.contains(&privacy_engine::Verdict::Deny), "the face collection after withdrawal is denied");
}

#[test]
fn a_policy_with_another_digest_is_refused() {
    let log = recorded();
    let entry = &log.entries().unwrap()[2];
    let mut edited = policy();
    edited.notes.push("an edit after the fact".into());
    let other = Engine::new(edited).unwrap();
    let err = log.replay(entry, &other, &subject_for(entry), &ledger("user-42")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Audit);
    assert!(err.to_string().contains("digest"), "{err}");
}

#[test]
fn the_wrong_subject_or_birth_date_is_refused() {
    let log = recorded();
    let entries = log.entries().unwrap();
    let err = log.replay(&entries[2], engine(), &ReplaySubject::new("user-43"), &ledger("user-43")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Audit);
    assert!(!err.to_string().contains("user-43"), "no identifier echoed: {err}");

    // Entry 3 was a request with a birth date.
    let mut s = ReplaySubject::new("user-42");
    assert!(log.replay(&entries[3], engine(), &s, &ledger("user-42")).is_err());
    s.birth_date = Some("1990-02-04".parse().unwrap());
    assert!(log.replay(&entries[3], engine(), &s, &ledger("user-42")).is_err());
    s.birth_date = Some("1990-02-03".parse().unwrap());
    assert!(log.replay(&entries[3], engine(), &s, &ledger("user-42")).unwrap().matches);
}

#[test]
fn a_consent_entry_cannot_be_replayed() {
    let log = recorded();
    let entry = &log.entries().unwrap()[0];
    let err = replay(entry, engine(), &ReplaySubject::new("user-42"), &ledger("user-42"), &pseudonyms()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Audit);
}

#[test]
fn replay_works_after_pseudonym_key_rotation() {
    let mut log = recorded();
    log.pseudonymiser_mut().rotate(PseudonymKey::from_bytes("k2", &[8; 32]).unwrap()).unwrap();
    let entry = &log.entries().unwrap()[2];
    assert!(log.replay(entry, engine(), &subject_for(entry), &ledger("user-42")).unwrap().matches);
}

#[test]
fn a_doctored_record_does_not_match_its_replay() {
    let log = recorded();
    let mut entry = log.entries().unwrap()[2].clone();
    if let AuditEvent::Decision(d) = &mut entry.event {
        d.obligations.clear();
        d.rules.reverse();
        d.rules.push("made.up".into());
    }
    let r = log.replay(&entry, engine(), &subject_for(&entry), &ledger("user-42")).unwrap();
    assert!(!r.matches);
}
