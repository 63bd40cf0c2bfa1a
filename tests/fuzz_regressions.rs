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

// ---------------------------------------------------------------------------
// The defects of issue 13 (found by an attack run, reproduced here) and the
// limits that bound them: each input is refused, or decided with bounded
// output.

fn seed_004() -> Engine {
    Engine::new(Policy::from_json(include_str!("../examples/policies/seed-004.json")).unwrap()).unwrap()
}

/// A bare request line for `u-1` at 2024-05-01 naming `categories`.
fn line_with(categories: &str) -> String {
    format!(
        r#"{{"action":"collect","subject":{{"id":"u-1","age":30}},"categories":[{categories}],"purpose":"registration_login","at":"2024-05-01T10:00:00+08:00"}}"#
    )
}

fn repeated(item: &str, n: usize) -> String {
    vec![item; n].join(",")
}

/// Issue 13 item 1: 16,000 repeated undeclared categories (a 160 KB line)
/// took 4.1 GB and 11 s to render. Over the limit, the line is refused at
/// `/categories`; at the limit it is decided with output linear in it.
#[test]
fn many_repeated_undeclared_categories_are_refused_or_decided_in_bounded_output() {
    use privacy_engine::{ErrorKind, MAX_CATEGORIES_PER_REQUEST, decide_line};
    let engine = seed_004();
    let err = decide_line(&engine, &line_with(&repeated(r#""user.x""#, 16_000))).unwrap_err();
    assert_eq!((err.kind(), err.path()), (ErrorKind::Request, Some("/categories")));
    let err = Request::from_json(&line_with(&repeated(r#""user.x""#, MAX_CATEGORIES_PER_REQUEST + 1))).unwrap_err();
    assert_eq!((err.kind(), err.path()), (ErrorKind::Request, Some("/categories")));
    let decision = decide_line(&engine, &line_with(&repeated(r#""user.x""#, MAX_CATEGORIES_PER_REQUEST))).unwrap();
    assert!(!decision.is_permit());
    assert!(decision.to_json().len() < 2_000 * MAX_CATEGORIES_PER_REQUEST, "output linear in the categories");
    let distinct: Vec<String> = (0..MAX_CATEGORIES_PER_REQUEST).map(|i| format!(r#""user.x{i}""#)).collect();
    let decision = decide_line(&engine, &line_with(&distinct.join(","))).unwrap();
    assert!(decision.to_json().len() < 2_000 * MAX_CATEGORIES_PER_REQUEST, "output linear in the categories");
}

/// The typed path cannot fail: a request built in code over a limit is
/// denied with `builtin.over_limit`, as the JSON path refuses it.
#[test]
fn a_typed_request_over_a_limit_is_denied_with_builtin_over_limit() {
    use privacy_engine::{MAX_CATEGORIES_PER_REQUEST, MAX_ID_BYTES};
    let engine = seed_004();
    let at = "2024-05-01T10:00:00+08:00".parse().unwrap();
    let phone = CategoryKey::new("user.contact.phone_number").unwrap();
    let over_limit = |request: &Request| {
        let decision = engine.evaluate(request, &InMemoryLedger::new());
        !decision.is_permit() && decision.to_json().contains("builtin.over_limit")
    };
    let ok = Request::new(Action::Collect, Subject::new("u-1").age(30), vec![phone.clone()], at)
        .purpose("registration_login");
    assert!(engine.evaluate(&ok, &InMemoryLedger::new()).is_permit());
    let mut many = ok.clone();
    many.categories = vec![phone.clone(); MAX_CATEGORIES_PER_REQUEST + 1];
    assert!(over_limit(&many));
    let long_subject =
        Request::new(Action::Collect, Subject::new("u".repeat(MAX_ID_BYTES + 1)).age(30), vec![phone], at)
            .purpose("registration_login");
    assert!(over_limit(&long_subject));
    assert!(over_limit(&ok.clone().purpose("p".repeat(MAX_ID_BYTES + 1))));
}

/// A line over `MAX_LINE_BYTES` is refused before it is read.
#[test]
fn a_line_over_the_size_limit_is_refused() {
    use privacy_engine::{ErrorKind, MAX_LINE_BYTES, decide_line};
    let line = format!("{}{}", line_with(r#""user.contact.phone_number""#), " ".repeat(MAX_LINE_BYTES));
    let err = decide_line(&seed_004(), &line).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Request);
    assert!(err.to_string().contains("limit"), "{err}");
    assert_eq!(Request::from_json(&line).unwrap_err().kind(), ErrorKind::Request);
}

/// More consent events in a line than `MAX_CONSENT_EVENTS_PER_LINE` are
/// refused at `/consents`; at the limit the line is decided.
#[test]
fn consent_events_over_the_limit_are_refused() {
    use privacy_engine::{ErrorKind, MAX_CONSENT_EVENTS_PER_LINE, decide_line};
    let engine = seed_004();
    let envelope = |n: usize| {
        let events: Vec<String> = (0..n)
            .map(|i| {
                format!(
                    r#"{{"id":"00000000-0000-0000-0000-{i:012}","at":"2024-05-01T09:00:00+08:00","subject":"u-1","policy_id":"seed-004","policy_version":"2021-08-20","change":{{"type":"permission_on","permission":"camera"}}}}"#
                )
            })
            .collect();
        format!(r#"{{"request":{},"consents":[{}]}}"#, line_with(r#""user.contact.phone_number""#), events.join(","))
    };
    let err = decide_line(&engine, &envelope(MAX_CONSENT_EVENTS_PER_LINE + 1)).unwrap_err();
    assert_eq!((err.kind(), err.path()), (ErrorKind::Request, Some("/consents")));
    assert!(decide_line(&engine, &envelope(MAX_CONSENT_EVENTS_PER_LINE)).unwrap().is_permit());
}

/// Issue 13 item 3: the JSON-lines path took the last of duplicate keys (a
/// collect decided as a delete). Refused, in a bare request and an
/// envelope.
#[test]
fn duplicate_keys_in_a_line_are_refused() {
    use privacy_engine::{ErrorKind, decide_line};
    let engine = seed_004();
    let bare = line_with(r#""user.contact.phone_number""#).replacen(
        r#""action":"collect""#,
        r#""action":"collect","action":"delete""#,
        1,
    );
    assert_eq!(decide_line(&engine, &bare).unwrap_err().kind(), ErrorKind::Request);
    let envelope = format!(r#"{{"request":{bare},"consents":[]}}"#);
    assert_eq!(decide_line(&engine, &envelope).unwrap_err().kind(), ErrorKind::Request);
}

/// Issue 13 item 4: a `+0800` offset, a year beyond 9999, a `:60` second,
/// an empty, blank or NUL subject id and one over `MAX_ID_BYTES` were
/// accepted. Each is refused.
#[test]
fn lenient_times_and_ids_are_refused() {
    use privacy_engine::{ErrorKind, MAX_ID_BYTES, decide_line};
    let engine = seed_004();
    let good = line_with(r#""user.contact.phone_number""#);
    assert!(decide_line(&engine, &good).unwrap().is_permit());
    let long_id = format!(r#""id":"{}""#, "u".repeat(MAX_ID_BYTES + 1));
    let long_purpose = "p".repeat(MAX_ID_BYTES + 1);
    let bad = [
        ("2024-05-01T10:00:00+08:00", "2024-05-01T10:00:00+0800"),
        ("2024-05-01T10:00:00+08:00", "10000-05-01T10:00:00+08:00"),
        ("2024-05-01T10:00:00+08:00", "2024-05-01T10:30:60+08:00"),
        (r#""id":"u-1""#, r#""id":"""#),
        (r#""id":"u-1""#, r#""id":"  ""#),
        (r#""id":"u-1""#, r#""id":"u\u0000""#),
        (r#""id":"u-1""#, long_id.as_str()),
        ("registration_login", long_purpose.as_str()),
    ];
    for (from, to) in bad {
        let line = good.replacen(from, to, 1);
        assert_eq!(decide_line(&engine, &line).unwrap_err().kind(), ErrorKind::Request, "{to}");
    }
}

/// Issue 13 item 5: an unknown field's name was echoed verbatim (a 100 MB
/// name came back, raw newlines included). The message is short and on one
/// line.
#[test]
fn an_overlong_unknown_field_name_is_cut_and_escaped() {
    use privacy_engine::decide_line;
    let name = format!("{}\nINJECTED{}", "a".repeat(10_000), "b".repeat(10_000));
    let line = line_with(r#""user.contact.phone_number""#).replacen('{', &format!(r#"{{"{name}":1,"#), 1);
    let err = decide_line(&seed_004(), &line).unwrap_err();
    let shown = format!("{err} {}", err.path().unwrap_or(""));
    assert!(shown.len() < 1_000, "{} bytes", shown.len());
    assert!(!shown.contains('\n'));
}

/// A policy document over `MAX_POLICY_BYTES` is refused before it is read,
/// and an id over `MAX_ID_BYTES` in a policy is an `id-too-long` error.
#[test]
fn a_policy_over_a_limit_is_refused() {
    use privacy_engine::{DiagnosticCode, ErrorKind, MAX_ID_BYTES, MAX_POLICY_BYTES};
    let huge = format!("{}{}", include_str!("../examples/policies/seed-004.json"), " ".repeat(MAX_POLICY_BYTES));
    let err = Policy::from_json(&huge).unwrap_err();
    assert_eq!((err.kind(), err.path()), (ErrorKind::Format, Some("/")));
    let mut doc: serde_json::Value = serde_json::from_str(include_str!("../examples/policies/seed-004.json")).unwrap();
    doc["purposes"][0]["id"] = serde_json::json!("p".repeat(MAX_ID_BYTES + 1));
    let err = Policy::from_json(&doc.to_string()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Invalid);
    assert!(err.diagnostics().iter().any(|d| d.code == DiagnosticCode::IdTooLong));
}
