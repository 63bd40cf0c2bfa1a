//! Minors: guardian consent below 14 (PIPL art. 31) and below 18 (seed 004
//! §6.1), no transactions once a real-name check shows the person is under
//! 18 (§1.2.2), guidance below 14, and the unknown-age default.

use chrono::NaiveDate;
use privacy_engine::{Action, ConsentFrom, ConsentQualities, Effect, Obligation, Request, Subject, Unmet, Verdict};

use crate::{AT, Ledger, aged, assert_no_reason, assert_reason, assert_verdict, eval, eval0, keys, rules, t};

const PHONE: &str = "user.contact.phone_number";
const REG: &str = "registration_login";

fn guardian_separate() -> ConsentQualities {
    ConsentQualities::separate() | ConsentQualities::GUARDIAN
}

fn register(subject: Subject) -> Request {
    Request::new(Action::Collect, subject, keys(&[PHONE]), t(AT)).purpose(REG)
}

fn child_unmet(rule_ids: &[&str]) -> Unmet {
    Unmet::Consent {
        purpose: REG.into(),
        categories: keys(&[PHONE]),
        qualities: guardian_separate(),
        from: ConsentFrom::Guardian,
        recipient: None,
        rules: rules(rule_ids),
    }
}

#[test]
fn under_14_without_a_guardian_is_denied() {
    let d = eval0(&register(aged("bob", 12)));
    assert_verdict(&d, Verdict::Deny);
    assert_reason(&d, "004.minors", Effect::Deny);
    assert_reason(&d, "004.minors.guardian_consent", Effect::Deny);
    assert_no_reason(&d, "registration_login");
    assert_eq!(d.unmet, vec![child_unmet(&["004.minors", "004.minors.guardian_consent"])]);
}

#[test]
fn under_14_with_a_guardians_non_separate_consent_is_denied() {
    let mut l = Ledger::new();
    l.grant(
        "bob",
        "2024-05-01T09:00:00+08:00",
        ConsentQualities::explicit() | ConsentQualities::GUARDIAN,
        REG,
        &[PHONE],
        None,
    );
    let d = eval(&register(aged("bob", 12)), &l);
    assert_verdict(&d, Verdict::Deny);
    match d.unmet.as_slice() {
        [Unmet::Consent { from, qualities, .. }] => {
            assert_eq!(*from, ConsentFrom::Guardian);
            assert!(qualities.contains(ConsentQualities::SEPARATE | ConsentQualities::GUARDIAN));
        }
        other => panic!("unexpected unmet {other:?}"),
    }
    assert_eq!(d.unmet, vec![child_unmet(&["004.minors", "004.minors.guardian_consent"])]);
}

#[test]
fn under_14_with_the_childs_own_separate_consent_is_denied() {
    let mut l = Ledger::new();
    l.grant("bob", "2024-05-01T09:00:00+08:00", ConsentQualities::separate(), REG, &[PHONE], None);
    let d = eval(&register(aged("bob", 12)), &l);
    assert_verdict(&d, Verdict::Deny);
    assert_eq!(d.unmet, vec![child_unmet(&["004.minors", "004.minors.guardian_consent"])]);
}

#[test]
fn under_14_with_a_guardians_separate_consent_is_permitted() {
    let mut l = Ledger::new();
    l.grant("bob", "2024-05-01T09:00:00+08:00", guardian_separate(), REG, &[PHONE], None);
    let d = eval(&register(aged("bob", 12)), &l);
    assert_verdict(&d, Verdict::Permit);
    assert_reason(&d, "004.minors", Effect::Permit);
    assert_reason(&d, "004.minors.guardian_consent", Effect::Permit);
    assert_reason(&d, "004.minors.child_guidance", Effect::Note);
    assert!(d.unmet.is_empty());
    // A child's personal data is sensitive (PIPL art. 28): encrypted, with a
    // notice of necessity and impact; guardians guide (§6.4 2)).
    assert!(d.obligations.contains(&Obligation::GuardianGuidance), "{d}");
    assert!(d.obligations.contains(&Obligation::Encrypt), "{d}");
}

#[test]
fn from_14_to_17_a_guardians_consent_is_needed_under_the_policy() {
    let d = eval0(&register(aged("carol", 16)));
    assert_verdict(&d, Verdict::Deny);
    assert_reason(&d, "004.minors.guardian_consent", Effect::Deny);
    // 14 and over: not the PIPL child rule, no guidance.
    assert_no_reason(&d, "004.minors");
    assert_no_reason(&d, "004.minors.child_guidance");
    assert_eq!(d.unmet, vec![child_unmet(&["004.minors.guardian_consent"])]);

    let mut l = Ledger::new();
    l.grant("carol", "2024-05-01T09:00:00+08:00", guardian_separate(), REG, &[PHONE], None);
    let d = eval(&register(aged("carol", 16)), &l);
    assert_verdict(&d, Verdict::Permit);
    assert!(!d.obligations.contains(&Obligation::GuardianGuidance));
    // 16: personal data stays personal, no sensitive-data obligations.
    assert!(!d.obligations.contains(&Obligation::Encrypt), "{d}");
}

#[test]
fn an_adult_needs_no_guardian() {
    let d = eval0(&register(aged("dave", 18)));
    assert_verdict(&d, Verdict::Permit);
    assert_no_reason(&d, "004.minors.guardian_consent");
}

fn order(subject: Subject) -> Request {
    Request::new(Action::Collect, subject, keys(&["user.financial.transaction"]), t(AT)).purpose("ordering")
}

fn guardian_for_ordering(subject: &str) -> Ledger {
    let mut l = Ledger::new();
    l.grant(
        subject,
        "2024-05-01T09:00:00+08:00",
        guardian_separate(),
        "ordering",
        &["user.financial.transaction"],
        None,
    );
    l
}

#[test]
fn a_real_name_verified_minor_may_not_transact_even_with_a_guardians_consent() {
    let l = guardian_for_ordering("carol");
    let d = eval(&order(aged("carol", 16).real_name_verified(true)), &l);
    assert_verdict(&d, Verdict::Deny);
    assert_reason(&d, "004.minors.no_transactions", Effect::Deny);
    // Nothing lifts it: no requirement is listed (004 §1.2.2).
    assert!(d.not_liftable && d.unmet.is_empty(), "{d}");
}

#[test]
fn a_stated_age_under_18_bars_transactions_even_without_a_real_name_check() {
    // The policy reads 004 §1.2.2 protectively: real-name verification is
    // required before transacting, so a known age under 18 is enough.
    let l = guardian_for_ordering("carol");
    let d = eval(&order(aged("carol", 16)), &l);
    assert_verdict(&d, Verdict::Deny);
    assert_reason(&d, "004.minors.no_transactions", Effect::Deny);
    // Nothing lifts it: no requirement is listed (004 §1.2.2).
    assert!(d.not_liftable && d.unmet.is_empty(), "{d}");
}

#[test]
fn no_transactions_rule_is_limited_to_transaction_purposes() {
    // Registration is not a transaction purpose: the real-name-verified
    // 16-year-old registers with a guardian's consent.
    let mut l = Ledger::new();
    l.grant("carol", "2024-05-01T09:00:00+08:00", guardian_separate(), REG, &[PHONE], None);
    let d = eval(&register(aged("carol", 16).real_name_verified(true)), &l);
    assert_verdict(&d, Verdict::Permit);
}

#[test]
fn deleting_a_childs_data_needs_no_guardian() {
    // §6.3: data of a minor registered without guardian consent is deleted
    // as soon as possible; the guardian rule does not apply to delete.
    let r = Request::new(Action::Delete, aged("bob", 12), keys(&[PHONE]), t(AT));
    let d = eval0(&r);
    assert_verdict(&d, Verdict::Permit);
    assert_no_reason(&d, "004.minors");
    assert_no_reason(&d, "004.minors.guardian_consent");
    assert_reason(&d, "004.retention.account", Effect::Permit);
}

#[test]
fn an_unknown_age_is_taken_as_a_child() {
    // settings.unknown_age = minor: the protective default.
    let d = eval0(&register(Subject::new("erin")));
    assert_verdict(&d, Verdict::Deny);
    assert_reason(&d, "builtin.unknown_age_assumed_minor", Effect::Note);
    assert_eq!(d.unmet, vec![child_unmet(&["004.minors", "004.minors.guardian_consent"])]);
}

fn born(date: &str) -> Subject {
    Subject::new("frank").birth_date(date.parse::<NaiveDate>().unwrap())
}

#[test]
fn a_birth_date_gives_the_age_on_the_policys_calendar() {
    // 14th birthday on 2024-05-20 in UTC+8. At 2024-05-19T20:00Z it is
    // already 2024-05-20 04:00 in China: 14, no longer a PIPL child.
    let mut r = register(born("2010-05-20"));
    r.at = t("2024-05-19T20:00:00Z");
    let d = eval0(&r);
    assert_verdict(&d, Verdict::Deny);
    assert_no_reason(&d, "004.minors");
    assert_reason(&d, "004.minors.guardian_consent", Effect::Deny);

    // One day younger: still 13.
    let mut r = register(born("2010-05-21"));
    r.at = t("2024-05-20T10:00:00+08:00");
    let d = eval0(&r);
    assert_reason(&d, "004.minors", Effect::Deny);
}

#[test]
fn a_birth_date_overrides_the_stated_age() {
    let subject = Subject::new("gina").age(30).birth_date("2012-01-01".parse().unwrap());
    let d = eval0(&register(subject));
    assert_verdict(&d, Verdict::Deny);
    assert_reason(&d, "004.minors", Effect::Deny);
}
