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

/// seed-004 revised from 2022-01-01 with face verification widened to the
/// phone number, so that its grants under 2021-08-20 lapse (catalog §12).
fn revised() -> privacy_engine::Policy {
    let mut v: serde_json::Value = serde_json::to_value(policy()).unwrap();
    v["version"] = "2022-01-01".into();
    v["effective"] = "2022-01-01T00:00:00+08:00".into();
    let face = v["purposes"].as_array_mut().unwrap().iter_mut().find(|p| p["id"] == "face_verification").unwrap();
    face["categories"].as_array_mut().unwrap().push("user.contact.phone_number".into());
    privacy_engine::Policy::from_json(&v.to_string()).unwrap()
}

#[test]
fn a_decision_recorded_under_v1_replays_under_v1_while_v2_is_in_force() {
    // Recorded by the engine of 2021-08-20 alone; the face collection of
    // 2024-05-02 was permitted on the grant given under that version.
    let log = recorded();
    let entry = &log.entries().unwrap()[3];
    let AuditEvent::Decision(d) = &entry.event else { panic!("not a decision") };
    assert_eq!((d.policy.version.as_str(), d.verdict), ("2021-08-20", privacy_engine::Verdict::Permit));
    let history = privacy_engine::PolicyHistory::new(vec![policy(), revised()]).unwrap();
    let engine = Engine::from_history(history).unwrap();
    let r = log.replay(entry, &engine, &subject_for(entry), &ledger("user-42")).unwrap();
    assert!(r.matches, "{}", r.decision);
    assert_eq!(r.decision.policy_version.as_deref(), Some("2021-08-20"));
    // Decided now, the same request falls under 2022-01-01, which the
    // grant no longer covers.
    let request = &crate::requests("user-42")[1];
    let now = engine.evaluate(request, &ledger("user-42"));
    assert_eq!(now.policy_version.as_deref(), Some("2022-01-01"));
    assert_eq!(now.verdict, privacy_engine::Verdict::Deny);
}

#[test]
fn replay_needs_the_version_the_record_names() {
    let log = recorded();
    let entry = &log.entries().unwrap()[3];
    let engine = Engine::new(revised()).unwrap();
    let err = log.replay(entry, &engine, &subject_for(entry), &ledger("user-42")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Audit);
    assert!(err.to_string().contains("no version `2021-08-20`"), "{err}");
}

#[test]
fn a_decision_is_recorded_only_under_the_version_it_was_made_under() {
    let mut log = AuditLog::open(InMemoryAuditStore::new(), pseudonyms()).unwrap();
    let request = &crate::requests("user-42")[0];
    let decision = engine().evaluate(request, &ledger("user-42"));
    let other = privacy_engine::PolicyRef::of(&revised());
    let err = log.record_decision(uuid::Uuid::from_u128(9), request.at, request, &decision, &other).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Audit);
    assert!(log.entries().unwrap().is_empty());
}
