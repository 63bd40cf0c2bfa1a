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
