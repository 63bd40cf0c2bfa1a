//! Bad input: malformed requests are refused with an error of kind
//! `Request` that repeats no value from the request; requests that parse but
//! make no sense are denied with a reason. Nothing panics.

use chrono::{DateTime, NaiveDate, Utc};
use privacy_engine::{Action, Effect, ErrorKind, Request, Subject, Verdict};

use crate::{adult, assert_reason, assert_verdict, eval0, keys, t};

const BIRTH: &str = "1987-11-23";
const PHONE_VALUE: &str = "13912345678";

fn request_json(subject: &str, extra: &str) -> String {
    format!(
        r#"{{"action": "collect", "subject": {subject}, "categories": ["user.contact.phone_number"], "purpose": "registration_login", "at": "2024-05-20T10:00:00+08:00"{extra}}}"#
    )
}

#[track_caller]
fn assert_refused(json: &str) {
    let err = Request::from_json(json).expect_err(json);
    assert_eq!(err.kind(), ErrorKind::Request, "{err}");
    let shown = format!("{err} {err:?}");
    for secret in [BIRTH, PHONE_VALUE, "2031-02-30", "1987", "13912"] {
        assert!(!shown.contains(secret), "error repeats `{secret}`: {shown}");
    }
}

#[test]
fn a_valid_request_parses() {
    let r = Request::from_json(&request_json(&format!(r#"{{"id": "u-1", "birth_date": "{BIRTH}"}}"#), "")).unwrap();
    assert_eq!(r.subject.birth_date, Some(BIRTH.parse().unwrap()));
    assert_verdict(&eval0(&r), Verdict::Permit);
}

#[test]
fn malformed_json_is_refused() {
    assert_refused("{");
    assert_refused("");
    assert_refused("[]");
    assert_refused(&format!(r#"{{"action": "collect", "subject": {{"id": "u", "birth_date": "{BIRTH}"}}"#));
}

#[test]
fn unknown_fields_are_refused_without_echoing_values() {
    assert_refused(&request_json(
        &format!(r#"{{"id": "u-1", "birth_date": "{BIRTH}"}}"#),
        &format!(r#", "phone": "{PHONE_VALUE}""#),
    ));
    assert_refused(&request_json(
        &format!(r#"{{"id": "u-1", "phone": "{PHONE_VALUE}", "birth_date": "{BIRTH}"}}"#),
        "",
    ));
    let err = Request::from_json(&request_json(r#"{"id": "u-1"}"#, r#", "colour": 1"#)).unwrap_err();
    assert!(err.to_string().contains("colour"), "{err}");
}

#[test]
fn values_of_the_wrong_shape_are_refused_without_echoing_them() {
    // A phone number where a category key belongs; a birth date that is no
    // date; an impossible date; an age that is not a number.
    assert_refused(&format!(
        r#"{{"action": "collect", "subject": {{"id": "u-1"}}, "categories": ["{PHONE_VALUE}+"], "purpose": "registration_login", "at": "2024-05-20T10:00:00+08:00"}}"#
    ));
    assert_refused(&request_json(&format!(r#"{{"id": "u-1", "birth_date": "{PHONE_VALUE}"}}"#), ""));
    assert_refused(&request_json(r#"{"id": "u-1", "birth_date": "2031-02-30"}"#, ""));
    assert_refused(&request_json(&format!(r#"{{"id": "u-1", "age": "{PHONE_VALUE}"}}"#), ""));
    assert_refused(&request_json(r#"{"id": "u-1", "age": -3}"#, ""));
    assert_refused(&request_json(r#"{"id": "u-1", "age": 1987}"#, ""));
    assert_refused(
        r#"{"action": "collect", "subject": {"id": "u"}, "categories": [], "at": "1987-13-45T99:00:00+08:00"}"#,
    );
    assert_refused(r#"{"action": "fax", "subject": {"id": "u"}, "categories": [], "at": "2024-05-20T10:00:00+08:00"}"#);
}

#[test]
fn an_absurd_age_in_json_is_denied_like_a_typed_one() {
    // The age cap is checked once, when deciding: the JSON path parses the
    // age and the decision denies it, as on the typed path.
    let request = Request::from_json(&request_json(r#"{"id": "u-1", "age": 200}"#, "")).unwrap();
    let d = eval0(&request);
    assert_verdict(&d, Verdict::Deny);
    assert_reason(&d, "builtin.invalid_age", Effect::Deny);
    assert!(!d.to_json().contains("200"), "{d}");
    // 150 is the oldest that is not denied for its age.
    let request = Request::from_json(&request_json(r#"{"id": "u-1", "age": 150}"#, "")).unwrap();
    assert!(eval0(&request).reasons.iter().all(|r| r.rule.as_str() != "builtin.invalid_age"));
}

#[test]
fn an_absurd_age_built_in_rust_is_denied_with_a_reason() {
    let r =
        Request::new(Action::Collect, Subject::new("u-1").age(200), keys(&["user.contact.phone_number"]), t(crate::AT))
            .purpose("registration_login");
    let d = eval0(&r);
    assert_verdict(&d, Verdict::Deny);
    assert_reason(&d, "builtin.invalid_age", Effect::Deny);
    assert!(!d.to_json().contains("200"), "{d}");
}

fn born(date: NaiveDate) -> Request {
    Request::new(
        Action::Collect,
        Subject::new("u-1").birth_date(date),
        keys(&["user.contact.phone_number"]),
        t(crate::AT),
    )
    .purpose("registration_login")
}

#[test]
fn a_birth_date_after_the_request_is_denied_without_echoing_it() {
    let d = eval0(&born("2024-05-21".parse().unwrap()));
    assert_verdict(&d, Verdict::Deny);
    assert_reason(&d, "builtin.invalid_birth_date", Effect::Deny);
    assert!(!d.to_json().contains("2024-05-21"), "{d}");
    // Born on the day of the request: age 0, a child, not an error.
    let d = eval0(&born("2024-05-20".parse().unwrap()));
    assert_verdict(&d, Verdict::Deny);
    assert_reason(&d, "004.minors", Effect::Deny);
}

#[test]
fn absurd_birth_dates_are_denied() {
    for date in [NaiveDate::MIN, "1000-01-01".parse().unwrap(), NaiveDate::MAX] {
        let d = eval0(&born(date));
        assert_verdict(&d, Verdict::Deny);
        assert!(
            d.reasons.iter().any(|r| r.effect == Effect::Deny
                && (r.rule.as_str() == "builtin.invalid_age" || r.rule.as_str() == "builtin.invalid_birth_date")),
            "{d}"
        );
    }
}

#[test]
fn extreme_times_do_not_panic() {
    let extremes = [DateTime::<Utc>::MIN_UTC.fixed_offset(), DateTime::<Utc>::MAX_UTC.fixed_offset()];
    for at in extremes {
        for event in extremes {
            let mut r = Request::new(
                Action::Delete,
                adult("u-1"),
                keys(&["user.financial.transaction", "user.contact.phone_number"]),
                at,
            );
            r.events.transaction_completed = Some(event);
            r.events.account_cancelled = Some(event);
            let _ = eval0(&r);
            r.action = Action::Retain;
            let _ = eval0(&r);
            let mut b = born(NaiveDate::MIN);
            b.at = at;
            let _ = eval0(&b);
        }
    }
    // A transaction completing at the end of time: outside the years a
    // decision can write back, so the request is denied, with a reason.
    let mut r = Request::new(Action::Delete, adult("u-1"), keys(&["user.financial.transaction"]), t(crate::AT));
    r.events.transaction_completed = Some(DateTime::<Utc>::MAX_UTC.fixed_offset());
    let d = eval0(&r);
    assert_verdict(&d, Verdict::Deny);
    assert_reason(&d, "builtin.invalid_time", Effect::Deny);
    // The last representable year still decides on the retention rule.
    r.events.transaction_completed = Some(t("9999-06-01T00:00:00+08:00"));
    let d = eval0(&r);
    assert_verdict(&d, Verdict::Deny);
    assert_reason(&d, "004.retention.transaction", Effect::Deny);
}
