//! Strict reading of requests and JSON lines: one pass, duplicate keys
//! refused on every path, errors with a JSON pointer and field names shown
//! short and on one line.

use privacy_engine::{ErrorKind, Policy, Request, decide_line};

use crate::engine;

const REQUEST: &str = r#""subject":{"id":"u","age":30},"categories":["user.contact.phone_number"],"purpose":"registration_login","at":"2024-05-01T10:00:00+08:00""#;

const GRANT: &str = r#"{"id":"00000000-0000-0000-0000-000000000001","at":"2024-05-01T09:00:00+08:00","subject":"u","policy_id":"seed-004","policy_version":"2021-08-20","change":{"type":"permission_on","permission":"camera"}}"#;

#[track_caller]
fn refused(line: &str, path: Option<&str>) -> privacy_engine::Error {
    let err = decide_line(engine(), line).expect_err(line);
    assert_eq!(err.kind(), ErrorKind::Request, "{err}");
    assert_eq!(err.path(), path, "{err}");
    err
}

#[test]
fn a_bare_request_and_an_envelope_are_decided_alike() {
    let bare = format!(r#"{{"action":"collect",{REQUEST}}}"#);
    let wrapped = format!(r#"{{"id":7,"request":{bare},"consents":[{GRANT}]}}"#);
    let first_consents = format!(r#"{{"consents":[],"request":{bare}}}"#);
    let d = decide_line(engine(), &bare).unwrap();
    assert!(d.is_permit(), "{d}");
    assert_eq!(decide_line(engine(), &wrapped).unwrap(), d);
    assert_eq!(decide_line(engine(), &first_consents).unwrap(), d);
}

#[test]
fn duplicate_keys_are_refused_on_the_lines_path() {
    // Decided as a delete, and permitted, before: the last key won.
    let err = refused(&format!(r#"{{"action":"collect","action":"delete",{REQUEST}}}"#), Some("/action"));
    assert!(err.to_string().contains("duplicate field `action`"), "{err}");
    refused(&format!(r#"{{"request":{{"action":"collect","action":"delete",{REQUEST}}}}}"#), Some("/request/action"));
    refused(
        &format!(r#"{{"request":{{"action":"collect",{REQUEST}}},"request":{{"action":"delete",{REQUEST}}}}}"#),
        Some("/request"),
    );
    refused(&format!(r#"{{"action":"collect",{REQUEST},"subject":{{"id":"v"}}}}"#), Some("/subject"));
    let twice = GRANT.replacen(r#""subject":"u""#, r#""subject":"u","subject":"v""#, 1);
    refused(
        &format!(r#"{{"request":{{"action":"collect",{REQUEST}}},"consents":[{twice}]}}"#),
        Some("/consents/0/subject"),
    );
    // The same request through Request::from_json: the same refusal.
    let err = Request::from_json(&format!(r#"{{"action":"collect","action":"delete",{REQUEST}}}"#)).unwrap_err();
    assert_eq!(err.path(), Some("/action"));
}

#[test]
fn request_errors_carry_the_path_and_not_in_the_message() {
    let err =
        Request::from_json(&format!(r#"{{"action":"collect",{}}}"#, REQUEST.replace("30", r#""thirty""#))).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Request);
    assert_eq!(err.path(), Some("/subject/age"));
    assert_eq!(err.line(), Some(1));
    assert!(err.column().is_some());
    assert!(!err.to_string().contains("thirty"), "{err}");
    assert_eq!(err.to_string().matches("/subject/age").count(), 1, "{err}");
    // An age beyond the type's range is a format error; one above
    // `MAX_AGE` parses and is denied by the decision (`builtin.invalid_age`).
    let err = Request::from_json(&format!(r#"{{"action":"collect",{}}}"#, REQUEST.replace("30", "300"))).unwrap_err();
    assert_eq!(err.path(), Some("/subject/age"));
    refused(&format!(r#"{{"request":{{"action":"collect",{REQUEST}}},"colour":1}}"#), Some("/colour"));
    refused(
        &format!(r#"{{"request":{{"action":"collect",{}}}}}"#, REQUEST.replace("30", "-1")),
        Some("/request/subject/age"),
    );
}

#[test]
fn nothing_may_follow_the_value() {
    let line = format!(r#"{{"action":"collect",{REQUEST}}}"#);
    assert!(Request::from_json(&line).is_ok());
    assert!(Request::from_json(&format!("{line} {{}}")).is_err());
    refused(&format!("{line}x"), None);
}

#[test]
fn field_names_in_errors_are_cut_and_escaped() {
    let name = format!("line\nbreak`{}", "n".repeat(100_000));
    let escaped = serde_json::to_string(&name).unwrap();
    let check = |err: privacy_engine::Error| {
        let shown = err.to_string();
        assert!(shown.len() < 600, "{} bytes", shown.len());
        assert!(!shown.contains('\n'), "{shown}");
        assert!(shown.contains("line\\nbreak\\`"), "{shown}");
        assert!(shown.contains('…'), "{shown}");
    };
    check(Request::from_json(&format!(r#"{{"action":"collect",{REQUEST},{escaped}:1}}"#)).unwrap_err());
    check(refused(
        &format!(r#"{{"action":"collect",{REQUEST},{escaped}:1}}"#),
        Some(&*format!("/{}…", &name.replace('\n', "\\n").replace('`', "\\`")[..66])),
    ));
    let event = GRANT.replacen('{', &format!("{{{escaped}:1,"), 1);
    check(
        decide_line(engine(), &format!(r#"{{"request":{{"action":"collect",{REQUEST}}},"consents":[{event}]}}"#))
            .unwrap_err(),
    );
    check(Policy::from_json(&format!(r#"{{"schema":1,{escaped}:1}}"#)).unwrap_err());
}

/// A line whose request is `at` and whose one consent event has the fields
/// of [`GRANT`] with `event_at`, `subject` and a grant expiring at
/// `expires`. The change is an internally tagged enum, which serde reads
/// whole: an error in it has the path of the change.
fn line_with(at: &str, subject: &str, event_at: &str, expires: &str) -> String {
    let request = format!(
        r#"{{"action":"collect","subject":{{"id":{subject},"age":30}},"categories":["user.biometric.face"],"purpose":"face_verification","at":"{at}"}}"#
    );
    let event = format!(
        r#"{{"id":"00000000-0000-0000-0000-000000000002","at":"{event_at}","subject":{subject},"policy_id":"seed-004","policy_version":"2021-08-20","change":{{"type":"grant","qualities":["affirmative","explicit","separate"],"scope":{{"purposes":["face_verification"],"categories":["user.biometric.face"]}},"expires":"{expires}"}}}}"#
    );
    format!(r#"{{"request":{request},"consents":[{event}]}}"#)
}

const AT: &str = "2024-05-01T10:00:00+08:00";
const BEFORE: &str = "2024-05-01T09:00:00+08:00";
const LATER: &str = "2025-05-01T09:00:00+08:00";

#[test]
fn the_strict_line_is_read() {
    decide_line(engine(), &line_with(AT, r#""u""#, BEFORE, LATER)).unwrap();
}

#[test]
fn an_offset_without_its_colon_is_refused() {
    refused(&line_with("2024-05-01T10:00:00+0800", r#""u""#, BEFORE, LATER), Some("/request/at"));
    refused(&line_with(AT, r#""u""#, "2024-05-01T09:00:00+0800", LATER), Some("/consents/0/at"));
    refused(&line_with(AT, r#""u""#, BEFORE, "2025-05-01T09:00:00+0800"), Some("/consents/0/change"));
    let err =
        Request::from_json(&format!(r#"{{"action":"collect",{}}}"#, REQUEST.replace("+08:00", "+0800"))).unwrap_err();
    assert_eq!(err.path(), Some("/at"));
    let event = GRANT.replace("+08:00", "+0800");
    assert!(serde_json::from_str::<privacy_engine::ConsentEvent>(&event).is_err());
}

#[test]
fn years_beyond_9999_are_refused_in_consent_times_and_expiries() {
    refused(&line_with(AT, r#""u""#, "+10000-01-01T00:00:00Z", LATER), Some("/consents/0/at"));
    refused(&line_with(AT, r#""u""#, BEFORE, "+262143-12-31T23:59:59Z"), Some("/consents/0/change"));
    refused(&line_with(AT, r#""u""#, BEFORE, "-0001-01-01T00:00:00Z"), Some("/consents/0/change"));
    refused(&line_with("+10000-01-01T00:00:00Z", r#""u""#, BEFORE, LATER), Some("/request/at"));
}

#[test]
fn a_leap_second_is_read_only_at_the_end_of_a_utc_day() {
    refused(&line_with("2024-05-01T10:07:60+08:00", r#""u""#, BEFORE, LATER), Some("/request/at"));
    refused(&line_with(AT, r#""u""#, "2024-05-01T09:59:60+08:00", LATER), Some("/consents/0/at"));
    // 23:59:60 UTC is 07:59:60 in UTC+8.
    decide_line(engine(), &line_with(AT, r#""u""#, "2017-01-01T07:59:60+08:00", LATER)).unwrap();
}

#[test]
fn empty_blank_and_control_subject_ids_are_refused() {
    for id in [r#""""#, r#"" ""#, r#""\u0000""#, r#""u\u0000""#, r#""u\n""#] {
        refused(&line_with(AT, id, BEFORE, LATER), Some("/request/subject/id"));
        let line =
            line_with(AT, r#""u""#, BEFORE, LATER).replacen(r#""subject":"u""#, &format!(r#""subject":{id}"#), 1);
        refused(&line, Some("/consents/0/subject"));
        let err =
            Request::from_json(&format!(r#"{{"action":"collect",{}}}"#, REQUEST.replace(r#""u""#, id))).unwrap_err();
        assert_eq!(err.path(), Some("/subject/id"), "{id}");
    }
}

#[test]
fn a_policy_with_a_duplicate_key_is_refused() {
    let mut policy: serde_json::Value = serde_json::from_str(crate::SEED_004).unwrap();
    policy["settings"] = serde_json::json!({});
    let text = policy.to_string().replacen(r#""settings":{}"#, r#""settings":{},"settings":{}"#, 1);
    let err = Policy::from_json(&text).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Format, "{err}");
    assert_eq!(err.path(), Some("/settings"), "{err}");
}

/// A rights line (interface version 2): an access request received on
/// Thursday 2025-09-25, verified, about a phone number held.
fn rights_line(received: &str, extra: &str) -> String {
    format!(
        r#"{{"rights":{{"case":"6f9619ff-8b86-d011-b42d-00c04fc964ff","subject":"u","right":{{"kind":"access"}},"received":"{received}","at":"{received}","identity":"verified"}},"holdings":[{{"category":"user.contact.phone_number","origin":"provided","purposes":["registration_login"]}}]{extra}}}"#
    )
}

fn answered(line: &str) -> privacy_engine::RightsAnswer {
    match privacy_engine::answer_line(engine(), line).unwrap() {
        privacy_engine::LineOutput::Answer(answer) => *answer,
        other => panic!("not an answer: {other:?}"),
    }
}

#[test]
fn a_rights_line_is_answered_on_the_home_regions_calendar() {
    assert_eq!(privacy_engine::LINE_INTERFACE_VERSION, 3);
    let answer = answered(&rights_line("2025-09-25T10:00:00+08:00", ""));
    assert_eq!(answer.outcome, privacy_engine::AnswerOutcome::Accepted);
    let due = answer.deadline.unwrap();
    // 15 working days over the 2025 National Day holiday (see
    // tests/api/calendar.rs for the count).
    assert_eq!(due.date.to_string(), "2025-10-22");
    assert_eq!(due.calendar, "CN chinese_holiday 2026.0.1");
    // An id and consents are read as on a request line.
    let with_id = rights_line("2025-09-25T10:00:00+08:00", r#","id":3,"consents":[]"#);
    assert_eq!(answered(&with_id).deadline.unwrap().date, due.date);
}

#[test]
fn beyond_the_calendar_the_line_says_so_or_assumes_weekdays() {
    let answer = answered(&rights_line("2026-12-10T10:00:00+08:00", ""));
    assert_eq!(answer.deadline, None);
    assert!(answer.deadline_error.is_some());
    let answer = answered(&rights_line("2026-12-10T10:00:00+08:00", r#","assume_weekdays":true"#));
    let due = answer.deadline.unwrap();
    assert_eq!(due.date.to_string(), "2026-12-31");
    assert!(due.assumptions.iter().any(|a| matches!(a, privacy_engine::Assumption::WeekdaysBeyondData { .. })));
}

#[test]
fn a_region_without_a_calendar_counts_weekdays_and_says_so() {
    let mut policy = crate::seed_value();
    policy["settings"]["home_region"] = serde_json::json!("FR");
    let engine = crate::engine_from(&policy);
    let out = privacy_engine::answer_line(&engine, &rights_line("2025-09-25T10:00:00+08:00", "")).unwrap();
    let privacy_engine::LineOutput::Answer(answer) = out else { panic!("not an answer") };
    let due = answer.deadline.unwrap();
    // Weekdays only: the National Day week counts, so Thursday October 16.
    assert_eq!(due.date.to_string(), "2025-10-16");
    assert!(due.assumptions.contains(&privacy_engine::Assumption::NoCalendarForRegion { region: "FR".to_owned() }));
}

#[test]
fn version_1_lines_answer_as_they_decide() {
    let bare = format!(r#"{{"action":"collect",{REQUEST}}}"#);
    let wrapped = format!(r#"{{"request":{bare},"consents":[{GRANT}]}}"#);
    for line in [&bare, &wrapped] {
        let out = privacy_engine::answer_line(engine(), line).unwrap();
        assert_eq!(out, privacy_engine::LineOutput::Decision(decide_line(engine(), line).unwrap()));
        assert!(out.to_json().starts_with(r#"{"verdict":"permit""#), "{}", out.to_json());
    }
}

#[test]
fn malformed_rights_lines_are_refused_with_their_path() {
    // decide_line does not answer a rights line.
    refused(&rights_line("2025-09-25T10:00:00+08:00", ""), None);
    let refused_answer = |line: &str, path: Option<&str>| {
        let err = privacy_engine::answer_line(engine(), line).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Request, "{err}");
        assert_eq!(err.path(), path, "{line}: {err}");
        err
    };
    let both = rights_line("2025-09-25T10:00:00+08:00", &format!(r#","request":{{"action":"collect",{REQUEST}}}"#));
    let err = refused_answer(&both, None);
    assert!(err.to_string().contains("one of `request`, `rights`"), "{err}");
    let holdings_on_request = format!(r#"{{"request":{{"action":"collect",{REQUEST}}},"holdings":[]}}"#);
    refused_answer(&holdings_on_request, None);
    let twice = rights_line("2025-09-25T10:00:00+08:00", r#","holdings":[]"#);
    refused_answer(&twice, Some("/holdings"));
    let unknown = rights_line("2025-09-25T10:00:00+08:00", r#","calendar":"CN""#);
    refused_answer(&unknown, Some("/calendar"));
    let bad_origin = rights_line("2025-09-25T10:00:00+08:00", "").replace("provided", "guessed");
    refused_answer(&bad_origin, Some("/holdings/0/origin"));
    let bad_kind = rights_line("2025-09-25T10:00:00+08:00", "").replace(r#""kind":"access""#, r#""kind":"erase""#);
    let err = refused_answer(&bad_kind, Some("/rights/right/kind"));
    assert!(!err.to_string().contains("erase"), "{err}");
}

/// A lifecycle line (interface version 3): `request` a lifecycle request's
/// JSON, with a phone number and a transaction held and `extra` fields.
fn lifecycle_line(request: &str, extra: &str) -> String {
    format!(
        r#"{{"lifecycle":{request},"holdings":[{{"category":"user.contact.phone_number","origin":"provided","purposes":["registration_login"]}},{{"category":"user.financial.transaction","origin":"provided","purposes":["ordering"],"events":{{"transaction_completed":"2025-06-10T15:00:00+08:00"}}}}]{extra}}}"#
    )
}

const CANCEL: &str = r#"{"lifecycle":"cancel","subject":"u","at":"2025-09-25T10:00:00+08:00","identity":"verified"}"#;

const CANCELLED: &str = r#"{"id":"00000000-0000-0000-0000-0000000000c1","subject":"u","change":"cancelled","at":"2025-09-25T10:00:00+08:00"}"#;

#[test]
fn a_lifecycle_line_is_answered_by_the_engines_lifecycle() {
    use privacy_engine::{LifecycleDuty, LifecycleOutcome, LifecycleRequest, LineOutput};
    let line = lifecycle_line(CANCEL, r#","id":"c","consents":[],"events":[]"#);
    let out = privacy_engine::answer_line(engine(), &line).unwrap();
    let LineOutput::Lifecycle(answer) = &out else { panic!("not a lifecycle answer: {out:?}") };
    // 004 §10: the account ends at once.
    assert_eq!(answer.outcome, LifecycleOutcome::Accepted);
    assert!(answer.immediate.contains(&LifecycleDuty::DisableAccount), "{answer:?}");
    assert!(out.to_json().starts_with(r#"{"outcome":"accepted""#), "{}", out.to_json());
    // The same answer as the engine's, from the same inputs.
    let request: LifecycleRequest = serde_json::from_str(CANCEL).unwrap();
    let value: serde_json::Value = serde_json::from_str(&line).unwrap();
    let holdings: Vec<privacy_engine::Holding> = serde_json::from_value(value["holdings"].clone()).unwrap();
    let direct = engine().lifecycle(&request, &holdings, &[], &privacy_engine::InMemoryLedger::new());
    assert_eq!(**answer, direct);
    // decide_line does not answer it.
    refused(&line, None);
}

#[test]
fn a_lifecycle_line_reads_the_subjects_earlier_events() {
    use privacy_engine::{LifecycleOutcome, LineOutput};
    // A second cancellation, and a reactivation under seed-004 (§10: no
    // way back), are refused.
    let again = CANCEL.replace("2025-09-25", "2025-09-26");
    let reactivate = r#"{"lifecycle":"reactivate","subject":"u","cancelled":"2025-09-25T10:00:00+08:00","at":"2025-09-26T10:00:00+08:00"}"#;
    for request in [again.as_str(), reactivate] {
        let line = lifecycle_line(request, &format!(r#","events":[{CANCELLED}]"#));
        let LineOutput::Lifecycle(answer) = privacy_engine::answer_line(engine(), &line).unwrap() else {
            panic!("not a lifecycle answer")
        };
        assert_eq!(answer.outcome, LifecycleOutcome::Refused, "{request}");
    }
}

#[test]
fn an_incident_line_is_answered_under_pipl() {
    use privacy_engine::{Incident, IncidentDuty, IncidentRegime, LineOutput};
    let incident = r#"{"categories":["user.credentials.password"],"subjects":12000,"discovered":"2025-09-25T08:00:00+08:00","contained":true,"credentials":true}"#;
    let line = format!(r#"{{"incident":{incident},"at":"2025-09-25T10:00:00+08:00","id":1}}"#);
    let out = privacy_engine::answer_line(engine(), &line).unwrap();
    let LineOutput::Incident(answer) = &out else { panic!("not an incident answer: {out:?}") };
    // PIPL art. 57: the regulator is told; 003 §4.3 style reminder where
    // credentials leaked.
    assert!(answer.duties.iter().any(|d| matches!(d, IncidentDuty::NotifyRegulator { .. })), "{answer:?}");
    assert!(answer.duties.contains(&IncidentDuty::PasswordReminder), "{answer:?}");
    let incident: Incident = serde_json::from_str(incident).unwrap();
    let at = "2025-09-25T10:00:00+08:00".parse().unwrap();
    assert_eq!(**answer, engine().incident(&incident, at, &IncidentRegime::pipl()));
    assert!(out.to_json().starts_with(r#"{"duties":["#), "{}", out.to_json());
    refused(&line, None);
}

#[test]
fn malformed_lifecycle_and_incident_lines_are_refused() {
    let refused_answer = |line: &str, path: Option<&str>| {
        let err = privacy_engine::answer_line(engine(), line).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Request, "{line}: {err}");
        assert_eq!(err.path(), path, "{line}: {err}");
        err
    };
    let incident =
        r#"{"categories":["user.contact.phone_number"],"subjects":3,"discovered":"2025-09-25T08:00:00+08:00"}"#;
    // Two kinds of line at once, or another kind's fields.
    refused_answer(&lifecycle_line(CANCEL, &format!(r#","incident":{incident}"#)), None);
    refused_answer(&lifecycle_line(CANCEL, r#","assume_weekdays":true"#), None);
    refused_answer(&lifecycle_line(CANCEL, r#","at":"2025-09-25T10:00:00+08:00""#), None);
    refused_answer(&rights_line("2025-09-25T10:00:00+08:00", r#","events":[]"#), None);
    refused_answer(&format!(r#"{{"incident":{incident},"at":"2025-09-25T10:00:00+08:00","holdings":[]}}"#), None);
    // An incident line needs its time; fields are checked with their path.
    refused_answer(&format!(r#"{{"incident":{incident}}}"#), None);
    refused_answer(&format!(r#"{{"incident":{incident},"at":"yesterday"}}"#), Some("/at"));
    let bad = incident.replace("user.contact.phone_number", "Not A Category");
    refused_answer(
        &format!(r#"{{"incident":{bad},"at":"2025-09-25T10:00:00+08:00"}}"#),
        Some("/incident/categories/0"),
    );
    refused_answer(&lifecycle_line(&CANCEL.replace("cancel", "pause"), ""), Some("/lifecycle/lifecycle"));
    let bad_event = CANCELLED.replace("cancelled", "paused");
    refused_answer(&lifecycle_line(CANCEL, &format!(r#","events":[{bad_event}]"#)), Some("/events/0/change"));
    refused_answer(&lifecycle_line(CANCEL, r#","events":[],"events":[]"#), Some("/events"));
}
