//! Lifecycle requests answered by `Engine::lifecycle` (docs/lifecycle.md):
//! cancellation, the controller's termination, inactivity and reactivation,
//! with each seed's reading of its cancellation contradiction.
//! Expectations come from the seeds' clauses and docs/lifecycle.md, not
//! from what the engine returns.

use privacy_engine::{
    Action, ConsentQualities, Disposal, EndAction, Engine, Holding, LifecycleAnswer, LifecycleChange, LifecycleDuty,
    LifecycleEvent, LifecycleOutcome, LifecycleRequest, NaiveDate, Policy, Request, Uuid,
};
use serde_json::{Value, json};

use super::{Ledger, adult, engine, engine_from, key, seed_value, t};

const SEED_001: &str = include_str!("../../examples/policies/seed-001.json");
const SEED_003: &str = include_str!("../../examples/policies/seed-003.json");
const REACTIVATION: &str = include_str!("../data/lifecycle/seed-004-reactivation.json");

fn engine_of(json: &str) -> Engine {
    Engine::new(Policy::from_json(json).unwrap()).unwrap()
}

fn request(v: Value) -> LifecycleRequest {
    serde_json::from_value(v).unwrap()
}

fn holdings(v: Value) -> Vec<Holding> {
    serde_json::from_value(v).unwrap()
}

fn date(s: &str) -> Option<NaiveDate> {
    Some(s.parse().unwrap())
}

/// (category, rule, action, due, restricted) of a disposal.
type Row = (String, Option<String>, EndAction, Option<NaiveDate>, bool);

/// Each disposal's [`Row`].
fn summary(a: &LifecycleAnswer) -> Vec<Row> {
    a.categories
        .iter()
        .map(|d: &Disposal| {
            (
                d.category.as_str().to_owned(),
                d.rule.as_ref().map(|r| r.as_str().to_owned()),
                d.action,
                d.due,
                d.restricted,
            )
        })
        .collect()
}

fn cancel(day_time: &str) -> LifecycleRequest {
    request(json!({"lifecycle": "cancel", "subject": "alice", "at": day_time, "identity": "verified"}))
}

fn row(c: &str, rule: Option<&str>, action: EndAction, due: &str, restricted: bool) -> Row {
    (c.to_owned(), rule.map(str::to_owned), action, date(due), restricted)
}

/// 004 §10 / §4.1: the account ends at once, account data is due at the
/// cancellation, transaction data is restricted until its 3 years from
/// completion end; the grants in force on optional purposes end.
#[test]
fn cancellation_under_004_defers_transactions() {
    let mut ledger = Ledger::new();
    ledger.grant(
        "alice",
        "2024-01-01T09:00:00+08:00",
        ConsentQualities::separate(),
        "face_verification",
        &["user.biometric.face"],
        None,
    );
    let held = holdings(json!([
        {"category": "user.financial.transaction", "origin": "provided",
         "events": {"transaction_completed": "2023-01-31T12:00:00+08:00"}},
        {"category": "user.contact.phone_number", "origin": "provided"},
        {"category": "user.location.precise", "origin": "observed"},
    ]));
    let a = engine().lifecycle(&cancel("2024-05-01T10:00:00+08:00"), &held, &[], &ledger.ledger);
    assert_eq!(a.outcome, LifecycleOutcome::Accepted);
    assert_eq!(a.before, vec![LifecycleDuty::WarnIrreversible]);
    assert_eq!(
        a.immediate,
        vec![
            LifecycleDuty::DisableAccount,
            LifecycleDuty::StopCollection,
            LifecycleDuty::StopUse,
            LifecycleDuty::EndConsents,
            LifecycleDuty::BackupsAtNextCycle,
        ]
    );
    assert_eq!(a.end_consents, vec!["face_verification".into()]);
    let dd = EndAction::DeleteOrAnonymise;
    assert_eq!(
        summary(&a),
        vec![
            row("user.contact.phone_number", Some("004.retention.account"), dd, "2024-05-01", false),
            row("user.financial.transaction", Some("004.retention.transaction"), dd, "2026-02-01", true),
            row("user.location.precise", Some("004.retention.purpose"), dd, "2024-05-01", false),
        ]
    );
    assert_eq!(a.cites[0], "004 §10; 004 §5.3");
    assert_eq!(a.policy_version, "2021-08-20");
}

/// An unverified person is verified first (003 §7); a category no rule
/// covers is due at once, under no rule; a legal hold without end keeps
/// data with no due date.
#[test]
fn cancellation_verifies_identity_and_keeps_nothing_uncovered() {
    let r = request(json!({"lifecycle": "cancel", "subject": "alice", "at": "2024-05-01T10:00:00+08:00"}));
    let held = holdings(json!([
        {"category": "user.financial.bank_account", "origin": "provided"},
        {"category": "user.contact.email", "origin": "provided",
         "events": {"legal_hold": {"since": "2024-04-01T00:00:00+08:00"}}},
    ]));
    let a = engine().lifecycle(&r, &held, &[], &Ledger::new().ledger);
    assert_eq!(a.before, vec![LifecycleDuty::VerifyIdentity, LifecycleDuty::WarnIrreversible]);
    assert!(a.end_consents.is_empty());
    let [email, bank] = &a.categories[..] else { panic!("{a:?}") };
    assert_eq!(
        (bank.rule.as_ref(), bank.action, bank.due, bank.restricted),
        (None, EndAction::Delete, date("2024-05-01"), false)
    );
    assert_eq!((email.due, email.restricted), (None, true));
}

/// A second cancellation of a cancelled account is refused.
#[test]
fn a_cancelled_account_is_not_cancelled_again() {
    let earlier =
        LifecycleEvent::new(Uuid::from_u128(1), "alice", LifecycleChange::Cancelled, t("2024-04-01T10:00:00+08:00"));
    let a = engine().lifecycle(&cancel("2024-05-01T10:00:00+08:00"), &[], &[earlier], &Ledger::new().ledger);
    assert_eq!(a.outcome, LifecycleOutcome::Refused);
    assert!(a.immediate.is_empty() && a.categories.is_empty());
}

/// 003's reading: account data at once (§7), the rest within 6 months
/// (§5), logs kept 6 months from collection first (Cybersecurity Law art.
/// 21), restricted meanwhile.
#[test]
fn cancellation_under_003_reads_immediately_and_six_months() {
    let held = holdings(json!([
        {"category": "user.account", "origin": "provided"},
        {"category": "user.contact.email", "origin": "provided"},
        {"category": "user.behavior", "origin": "observed"},
        {"category": "user.log", "origin": "observed", "events": {"collected": "2024-04-20T08:00:00+08:00"}},
    ]));
    let a = engine_of(SEED_003).lifecycle(&cancel("2024-05-01T10:00:00+08:00"), &held, &[], &Ledger::new().ledger);
    let (d, dd) = (EndAction::Delete, EndAction::DeleteOrAnonymise);
    assert_eq!(
        summary(&a),
        vec![
            row("user.account", Some("003.retention.account"), d, "2024-05-01", false),
            row("user.behavior", Some("003.retention.after_cancellation"), dd, "2024-11-02", false),
            row("user.contact.email", Some("003.retention.account"), d, "2024-05-01", false),
            row("user.log", Some("003.retention.after_cancellation"), dd, "2024-11-02", true),
        ]
    );
    // 003 keeps no backups apart: no backup duty.
    assert!(!a.immediate.contains(&LifecycleDuty::BackupsAtNextCycle));
    assert_eq!(a.cites[0], "003 §5; 003 §7");
}

/// 001's reading: delete or anonymise (§4(3)), at the cancellation.
#[test]
fn cancellation_under_001_deletes_or_anonymises() {
    let held = holdings(json!([{"category": "user.contact.phone_number", "origin": "provided"}]));
    let a = engine_of(SEED_001).lifecycle(&cancel("2024-05-01T10:00:00+08:00"), &held, &[], &Ledger::new().ledger);
    assert_eq!(
        summary(&a),
        vec![row(
            "user.contact.phone_number",
            Some("001.retention.account"),
            EndAction::DeleteOrAnonymise,
            "2024-05-01",
            false
        )]
    );
}

/// 003 §7: at least 30 days' notice, then delete or anonymise at the
/// effective date (a running minimum still holds logs back).
#[test]
fn termination_under_003_checks_the_notice() {
    let held = holdings(json!([
        {"category": "user.account", "origin": "provided"},
        {"category": "user.log", "origin": "observed", "events": {"collected": "2024-05-10T08:00:00+08:00"}},
    ]));
    let short = request(
        json!({"lifecycle": "terminate", "notice": "2024-05-01T10:00:00+08:00", "at": "2024-05-20T00:00:00+08:00"}),
    );
    let a = engine_of(SEED_003).lifecycle(&short, &held, &[], &Ledger::new().ledger);
    assert_eq!(a.outcome, LifecycleOutcome::Accepted);
    assert_eq!(a.before, vec![LifecycleDuty::NoticeBeforeTermination { days: 30 }]);
    assert_eq!(a.notice_short_by_days, Some(11));
    assert_eq!(a.immediate, vec![LifecycleDuty::StopCollection, LifecycleDuty::StopUse]);
    assert_eq!(
        summary(&a),
        vec![
            row("user.account", Some("003.retention.account"), EndAction::Delete, "2024-05-20", false),
            row("user.log", Some("003.retention.minimum"), EndAction::DeleteOrAnonymise, "2024-11-11", true),
        ]
    );
    let enough = request(
        json!({"lifecycle": "terminate", "notice": "2024-05-01T10:00:00+08:00", "at": "2024-05-31T00:00:00+08:00"}),
    );
    assert_eq!(engine_of(SEED_003).lifecycle(&enough, &[], &[], &Ledger::new().ledger).notice_short_by_days, Some(0));
}

/// A policy with no termination notice checks none, and says so by
/// leaving the field out.
#[test]
fn termination_without_a_notice_period_checks_none() {
    let r = request(
        json!({"lifecycle": "terminate", "notice": "2024-05-19T10:00:00+08:00", "at": "2024-05-20T00:00:00+08:00"}),
    );
    let a = engine().lifecycle(&r, &[], &[], &Ledger::new().ledger);
    assert_eq!(a.notice_short_by_days, None);
    assert!(a.before.is_empty());
    assert!(!serde_json::to_value(&a).unwrap().as_object().unwrap().contains_key("notice_short_by_days"));
}

/// 003 §5: collection and use stop; only `last_used` rules set dates.
#[test]
fn inactivity_runs_the_last_used_rules() {
    let mut doc = seed_value();
    doc["retention"].as_array_mut().unwrap().push(json!({
        "id": "test.inactive", "categories": ["user.behavior"], "trigger": "last_used",
        "maximum": "P1Y", "end_action": "anonymise", "cites": "test §1"
    }));
    let e = engine_from(&doc);
    let r = request(
        json!({"lifecycle": "inactive", "subject": "alice", "since": "2024-01-15T10:00:00+08:00", "at": "2024-05-01T10:00:00+08:00"}),
    );
    let held = holdings(json!([
        {"category": "user.behavior", "origin": "observed"},
        {"category": "user.contact.phone_number", "origin": "provided"},
    ]));
    let a = e.lifecycle(&r, &held, &[], &Ledger::new().ledger);
    assert_eq!(a.immediate, vec![LifecycleDuty::StopCollection, LifecycleDuty::StopUse]);
    assert_eq!(
        summary(&a),
        vec![row("user.behavior", Some("test.inactive"), EndAction::Anonymise, "2025-01-16", false)]
    );
    assert_eq!(a.cites, vec!["004 §10; 004 §5.3".to_owned(), "test §1".to_owned()]);
}

/// No seed allows reactivation (003 §7 irreversible; 004 §10): refused,
/// with the clause and nothing else.
#[test]
fn reactivation_is_refused_under_the_seeds() {
    let r = request(
        json!({"lifecycle": "reactivate", "subject": "alice", "cancelled": "2024-05-01T10:00:00+08:00", "at": "2024-05-10T10:00:00+08:00"}),
    );
    for (e, cites) in [(engine_of(SEED_003), "003 §5; 003 §7"), (engine_of(super::SEED_004), "004 §10; 004 §5.3")] {
        let a = e.lifecycle(&r, &[], &[], &Ledger::new().ledger);
        assert_eq!(
            serde_json::to_value(&a).unwrap(),
            json!({"outcome": "refused", "cites": [cites], "policy_version": e.policy().version})
        );
    }
    assert_eq!(engine_of(SEED_001).lifecycle(&r, &[], &[], &Ledger::new().ledger).outcome, LifecycleOutcome::Refused);
}

/// Where a policy allows reactivation, the consents the cancellation ended
/// stay ended: the answer asks for every optional purpose anew and the
/// evaluator still denies the purpose until the person consents again.
#[test]
fn reactivation_allowed_restores_no_consent() {
    let e = engine_of(REACTIVATION);
    let mut ledger = Ledger::new();
    ledger.permissions_on("alice");
    ledger.grant(
        "alice",
        "2024-01-01T09:00:00+08:00",
        ConsentQualities::separate(),
        "face_verification",
        &["user.biometric.face"],
        None,
    );
    let collect = |at: &str| {
        Request::new(Action::Collect, adult("alice"), vec![key("user.biometric.face")], t(at))
            .purpose("face_verification")
    };
    assert!(e.evaluate(&collect("2024-04-01T10:00:00+08:00"), &ledger.ledger).is_permit());
    let cancelled = e.lifecycle(&cancel("2024-05-01T10:00:00+08:00"), &[], &[], &ledger.ledger);
    assert_eq!(cancelled.end_consents, vec!["face_verification".into()]);
    // The caller ends them, as the answer says.
    for p in &cancelled.end_consents {
        ledger.withdraw("alice", "2024-05-01T10:00:00+08:00", p.as_str(), &["user.biometric.face"]);
    }
    let r = request(
        json!({"lifecycle": "reactivate", "subject": "alice", "cancelled": "2024-05-01T10:00:00+08:00", "at": "2024-05-10T10:00:00+08:00"}),
    );
    let a = e.lifecycle(&r, &[], &[], &ledger.ledger);
    assert_eq!(a.outcome, LifecycleOutcome::Accepted);
    let optional: Vec<_> = e
        .policy()
        .purposes
        .iter()
        .filter(|p| p.basis == privacy_engine::PurposeBasis::Optional)
        .map(|p| p.id.clone())
        .collect();
    assert_eq!(a.ask_again, optional);
    assert!(a.ask_again.contains(&"face_verification".into()));
    assert!(!e.evaluate(&collect("2024-05-11T10:00:00+08:00"), &ledger.ledger).is_permit());
}

/// The JSON forms of docs/lifecycle.md round trip.
#[test]
fn requests_and_answers_have_the_documented_json_forms() {
    for v in [
        json!({"lifecycle": "cancel", "subject": "u", "at": "2024-05-01T10:00:00+08:00", "identity": "verified"}),
        json!({"lifecycle": "terminate", "notice": "2024-04-01T10:00:00+08:00", "at": "2024-05-01T10:00:00+08:00"}),
        json!({"lifecycle": "inactive", "subject": "u", "since": "2024-01-01T10:00:00+08:00", "at": "2024-05-01T10:00:00+08:00"}),
        json!({"lifecycle": "reactivate", "subject": "u", "cancelled": "2024-04-01T10:00:00+08:00", "at": "2024-05-01T10:00:00+08:00"}),
    ] {
        let r = request(v.clone());
        assert_eq!(serde_json::to_value(&r).unwrap(), v);
    }
    assert!(
        serde_json::from_value::<LifecycleRequest>(
            json!({"lifecycle": "cancel", "subject": "u", "at": "2024-05-01T10:00:00+08:00", "extra": 1})
        )
        .is_err()
    );
    let held = holdings(json!([{"category": "user.financial.transaction", "origin": "provided",
        "events": {"transaction_completed": "2023-01-31T12:00:00+08:00"}}]));
    let a = engine().lifecycle(&cancel("2024-05-01T10:00:00+08:00"), &held, &[], &Ledger::new().ledger);
    let v = serde_json::to_value(&a).unwrap();
    assert_eq!(
        v["categories"],
        json!([{"category": "user.financial.transaction", "rule": "004.retention.transaction",
                "action": "delete_or_anonymise", "due": "2026-02-01", "restricted": true, "cites": "004 §4.1; 004 §5.1"}])
    );
    assert_eq!(v["immediate"][0], json!({"duty": "disable_account"}));
    assert_eq!(serde_json::from_value::<LifecycleAnswer>(v).unwrap(), a);
}
