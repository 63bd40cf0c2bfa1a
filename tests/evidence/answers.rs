//! Rights answers in the audit log: recorded with the subject pseudonymised
//! and the calendar data's version, chained, and replayed only on that
//! calendar data.

use privacy_engine::{
    AuditEntry, AuditEvent, AuditLog, BeyondData, ChinaCalendar, ErrorKind, Holding, HoldingOrigin, InMemoryAuditStore,
    InMemoryLedger, PolicyRef, RightsAnswer, RightsRequest, StoredRecords, TableCalendar, Verification,
    WorkingCalendar, verify_records,
};
use uuid::Uuid;

use crate::{engine, fill, key, pseudonyms};

const CN: ChinaCalendar = ChinaCalendar::new();

/// An access request by `user-42`, received before the 2024 National Day
/// holiday (with its adjusted working days).
fn request() -> RightsRequest {
    serde_json::from_str(
        r#"{"case": "6f9619ff-8b86-d011-b42d-00c04fc964ff", "subject": "user-42",
            "right": {"kind": "access"}, "categories": ["user.contact"],
            "received": "2024-09-25T10:00:00+08:00", "at": "2024-09-26T10:00:00+08:00",
            "identity": "verified"}"#,
    )
    .unwrap()
}

fn held() -> Vec<Holding> {
    vec![Holding::new(key("user.contact.phone_number"), HoldingOrigin::Provided)]
}

fn answer(calendar: &dyn WorkingCalendar) -> RightsAnswer {
    engine().answer(&request(), &held(), &InMemoryLedger::new(), calendar, BeyondData::Refuse)
}

fn recorded() -> (AuditLog<InMemoryAuditStore>, AuditEntry, RightsAnswer) {
    let mut log = AuditLog::open(InMemoryAuditStore::new(), pseudonyms()).unwrap();
    let answer = answer(&CN);
    let policy = PolicyRef::of(engine().policy());
    let entry = log.record_answer(Uuid::from_u128(7), request().at, &request(), &answer, &policy).unwrap();
    (log, entry, answer)
}

#[test]
fn a_recorded_answer_chains_and_keeps_the_calendar_version() {
    let (log, entry, answer) = recorded();
    assert!(matches!(log.verify(None).unwrap(), Verification::Intact(h) if h.len == 1));
    let AuditEvent::RightsAnswer(record) = &entry.event else { panic!("not a rights answer") };
    let due = answer.deadline.clone().unwrap();
    assert_eq!(record.answer.deadline.as_ref(), Some(&due));
    assert_eq!(record.calendar(), Some(CN.version()));
    assert!(record.reproduces(&answer));
    let json = entry.to_json().unwrap();
    assert!(!json.windows(7).any(|w| w == b"user-42"), "{}", String::from_utf8_lossy(&json));
    assert_eq!(AuditEntry::from_json(&json).unwrap(), entry);
}

#[test]
fn an_answer_under_another_policy_version_is_refused() {
    let mut log = AuditLog::open(InMemoryAuditStore::new(), pseudonyms()).unwrap();
    let mut answer = answer(&CN);
    answer.policy_version.push_str("-edited");
    let policy = PolicyRef::of(engine().policy());
    let err = log.record_answer(Uuid::nil(), request().at, &request(), &answer, &policy).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Audit);
    assert_eq!(log.head().len, 0);
}

#[test]
fn a_replay_on_the_same_calendar_reproduces_the_deadline() {
    let (log, entry, answer) = recorded();
    let replayed = log.replay_answer(&entry, engine(), &request(), &held(), &InMemoryLedger::new(), &CN).unwrap();
    assert!(replayed.matches);
    assert_eq!(replayed.answer.deadline, answer.deadline);
    let mut other = request();
    other.subject = "user-43".into();
    let err = log.replay_answer(&entry, engine(), &other, &held(), &InMemoryLedger::new(), &CN).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Audit);
}

#[test]
fn a_replay_on_other_calendar_data_is_refused() {
    let (log, entry, _) = recorded();
    let other = TableCalendar::from_json(
        r#"{"name":"CN","version":"other","first":"2024-01-01","last":"2024-12-31","holidays":[]}"#,
    )
    .unwrap();
    let err = log.replay_answer(&entry, engine(), &request(), &held(), &InMemoryLedger::new(), &other).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Audit);
    let text = err.to_string();
    assert!(text.contains(CN.version()) && text.contains("CN other"), "{text}");
}

#[test]
fn a_tampered_answer_record_breaks_the_chain() {
    let mut log = AuditLog::open_plain(InMemoryAuditStore::new(), pseudonyms()).unwrap();
    let n = fill(&mut log, "user-42");
    let policy = PolicyRef::of(engine().policy());
    let entry = log.record_answer(Uuid::from_u128(7), request().at, &request(), &answer(&CN), &policy).unwrap();
    let mut records = log.into_store().records().to_vec();
    assert_eq!(records.len(), n + 1);
    let intact = verify_records(&StoredRecords::new(records.clone(), None), None, None);
    assert!(matches!(intact, Verification::Intact(h) if h.len == entry.seq + 1));
    let AuditEvent::RightsAnswer(record) = &entry.event else { panic!("not a rights answer") };
    let date = record.answer.deadline.as_ref().unwrap().date.to_string();
    let json = String::from_utf8(records.pop().unwrap()).unwrap();
    let tampered = json.replacen(&date, "2024-12-31", 1);
    assert_ne!(tampered, json);
    records.push(tampered.into_bytes());
    match verify_records(&StoredRecords::new(records, None), None, None) {
        Verification::Broken(b) => assert_eq!(b.index(), entry.seq),
        Verification::Intact(h) => panic!("a tampered deadline verifies: {h:?}"),
    }
}

#[test]
fn a_deadline_beyond_the_calendar_data_is_recorded_as_its_error_and_replays() {
    let mut request = request();
    request.received = crate::t("2026-12-20T10:00:00+08:00");
    request.at = request.received;
    let answer = engine().answer(&request, &held(), &InMemoryLedger::new(), &CN, BeyondData::Refuse);
    let error = answer.deadline_error.clone().unwrap();
    let mut log = AuditLog::open(InMemoryAuditStore::new(), pseudonyms()).unwrap();
    let policy = PolicyRef::of(engine().policy());
    let entry = log.record_answer(Uuid::from_u128(8), request.at, &request, &answer, &policy).unwrap();
    let AuditEvent::RightsAnswer(record) = &entry.event else { panic!("not a rights answer") };
    assert_eq!(record.answer.deadline_error.as_deref(), Some(error.as_str()));
    assert_eq!(record.calendar(), None);
    let replayed = log.replay_answer(&entry, engine(), &request, &held(), &InMemoryLedger::new(), &CN).unwrap();
    assert!(replayed.matches);
}

/// What the export's holdings source returns: the held phone number.
struct Held;

impl privacy_engine::Holdings for Held {
    fn held(&self, _: &privacy_engine::SubjectId) -> Result<Vec<Holding>, privacy_engine::Error> {
        Ok(held())
    }
}

#[test]
fn the_export_shows_the_recorded_answers_with_the_deadline_or_its_error() {
    let mut late = request();
    late.received = crate::t("2026-12-20T10:00:00+08:00");
    late.at = late.received;
    let unknown = engine().answer(&late, &held(), &InMemoryLedger::new(), &CN, BeyondData::Refuse);
    let (mut log, first, answer) = recorded();
    let policy = PolicyRef::of(engine().policy());
    let second = log.record_answer(Uuid::from_u128(8), late.at, &late, &unknown, &policy).unwrap();
    let entries = [first, second];
    let sources = privacy_engine::ExportSources::new(engine(), &Held).audit(&entries);
    let subject = privacy_engine::SubjectId::from("user-42");
    let out = privacy_engine::export(&mut privacy_engine::InMemoryLog::new(), &subject, late.at, &sources).unwrap();
    assert_eq!(out.answers.len(), 2);
    assert_eq!(out.answers[0].deadline, answer.deadline);
    assert_eq!((out.answers[0].received, out.answers[0].answered), (request().received, request().at));
    assert_eq!(out.answers[0].categories, request().categories);
    assert_eq!(out.answers[0].items.len(), answer.items.len());
    assert_eq!(out.answers[1].deadline, None);
    assert_eq!(out.answers[1].deadline_error, unknown.deadline_error);
    let json: serde_json::Value = serde_json::from_str(&out.to_json().unwrap()).unwrap();
    let [first, second] = [&json["answers"][0], &json["answers"][1]];
    assert_eq!(first["right"], serde_json::json!({"kind": "access"}));
    assert_eq!(first["received"], "2024-09-25T10:00:00+08:00");
    assert_eq!(first["deadline"]["calendar"], CN.version());
    assert_eq!(first["items"][0]["category"], "user.contact.phone_number");
    assert!(second.get("deadline").is_none() && second["deadline_error"].is_string(), "{second}");
    let text = json.to_string();
    assert!(!text.contains("6f9619ff") && !text.contains("\"case\"") && !text.contains("\"seq\""), "{text}");
    let pseudonym = crate::pseudonyms().pseudonymise(&privacy_engine::PseudonymDomain::Records, "user-42").to_string();
    assert!(!text.contains(pseudonym.split(':').next_back().unwrap()), "{text}");
}
