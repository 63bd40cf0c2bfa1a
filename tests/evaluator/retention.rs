//! Retention: the 3-year transaction minimum (E-Commerce Law, seed 004 §4.1)
//! counted on the policy's calendar (UTC+8, last day included, month ends
//! clamped), legal holds, account cancellation (§5.3, §10), face data kept
//! for no time (§1.2.2), and the retention planner.
//!
//! Boundaries are computed by hand: a period starting on local date D ends
//! with the last day D + period (clamped to the month's end), and deletion is
//! permitted from 00:00 UTC+8 of the next day.

use privacy_engine::{
    Action, EndAction, LegalHold, Obligation, Request, RetentionPlanner, RetentionRecord, Trigger, Unmet, Verdict,
};
use privacy_engine::{Effect, Subject};

use crate::{adult, assert_no_reason, assert_reason, assert_verdict, engine, eval0, key, keys, t};

const TRANSACTION: &str = "user.financial.transaction";
const PHONE: &str = "user.contact.phone_number";
const FACE: &str = "user.biometric.face";

fn delete_transaction(completed: &str, at: &str) -> Request {
    let mut r = Request::new(Action::Delete, adult("alice"), keys(&[TRANSACTION]), t(at));
    r.events.transaction_completed = Some(t(completed));
    r
}

#[track_caller]
fn assert_not_before(completed: &str, at: &str, boundary: &str) {
    let d = eval0(&delete_transaction(completed, at));
    assert_verdict(&d, Verdict::Deny);
    assert_reason(&d, "004.retention.transaction", Effect::Deny);
    assert_eq!(d.unmet, vec![Unmet::NotBefore { at: t(boundary) }], "{d}");
}

#[track_caller]
fn assert_deletable(completed: &str, at: &str) {
    let d = eval0(&delete_transaction(completed, at));
    assert_verdict(&d, Verdict::Permit);
    assert_reason(&d, "004.retention.transaction", Effect::Permit);
    // §5.1: backups are purged at the next backup cycle.
    assert!(d.obligations.contains(&Obligation::PurgeBackupsAtNextCycle), "{d}");
    assert!(d.unmet.is_empty());
}

#[test]
fn transaction_completed_on_28_february_2021() {
    // 2021-02-28 + 3 years = 2024-02-28 (a leap year, but the 28th exists);
    // the last day is inside the period: deletable from 2024-02-29 00:00.
    let done = "2021-02-28T15:00:00+08:00";
    let boundary = "2024-02-29T00:00:00+08:00";
    assert_not_before(done, "2023-02-28T10:00:00+08:00", boundary);
    assert_not_before(done, "2024-02-28T23:59:59+08:00", boundary);
    assert_deletable(done, "2024-02-29T00:00:00+08:00");
    // The same instant in UTC.
    assert_deletable(done, "2024-02-28T16:00:00Z");
    assert_not_before(done, "2024-02-28T15:59:59Z", boundary);
    assert_deletable(done, "2024-02-29T00:00:01+08:00");
    assert_deletable(done, "2025-01-01T00:00:00+08:00");
}

#[test]
fn transaction_completed_on_the_leap_day_2020() {
    // 2020-02-29 + 3 years: 2023 has no 29 February, clamped to the 28th;
    // deletable from 2023-03-01 00:00.
    let done = "2020-02-29T12:00:00+08:00";
    let boundary = "2023-03-01T00:00:00+08:00";
    assert_not_before(done, "2023-02-28T23:59:59+08:00", boundary);
    assert_deletable(done, "2023-03-01T00:00:00+08:00");
    assert_deletable(done, "2023-03-01T08:00:00+08:00");
}

#[test]
fn transaction_completed_on_31_january_2021() {
    let done = "2021-01-31T23:00:00+08:00";
    let boundary = "2024-02-01T00:00:00+08:00";
    assert_not_before(done, "2024-01-31T23:59:59+08:00", boundary);
    assert_deletable(done, "2024-02-01T00:00:00+08:00");
}

#[test]
fn the_start_day_is_the_policys_local_date() {
    // 2021-02-28T20:00Z is 2021-03-01 04:00 in UTC+8: the period starts on
    // 1 March, ends with 2024-03-01, deletable from 2024-03-02 00:00 +08:00.
    let done = "2021-02-28T20:00:00Z";
    let boundary = "2024-03-02T00:00:00+08:00";
    assert_not_before(done, "2024-03-01T23:59:59+08:00", boundary);
    assert_deletable(done, "2024-03-01T16:00:00Z");
}

#[test]
fn anonymising_follows_the_same_minimum() {
    let mut r = delete_transaction("2021-02-28T15:00:00+08:00", "2024-02-28T23:59:59+08:00");
    r.action = Action::Anonymise;
    let d = eval0(&r);
    assert_verdict(&d, Verdict::Deny);
    assert_reason(&d, "004.retention.transaction", Effect::Deny);
    r.at = t("2024-02-29T00:00:00+08:00");
    assert_verdict(&eval0(&r), Verdict::Permit);
}

#[test]
fn deleting_with_an_unknown_transaction_time_is_denied() {
    let r = Request::new(Action::Delete, adult("alice"), keys(&[TRANSACTION]), t(crate::AT));
    let d = eval0(&r);
    assert_verdict(&d, Verdict::Deny);
    assert_reason(&d, "004.retention.transaction", Effect::Deny);
    assert_eq!(d.unmet, vec![Unmet::EventTime { trigger: Trigger::TransactionCompleted }]);
}

fn held(mut r: Request, since: &str, until: Option<&str>) -> Request {
    r.events.legal_hold = Some(LegalHold::new(t(since), until.map(t)));
    r
}

#[test]
fn deleting_under_a_legal_hold_is_denied_and_restricted() {
    let r = held(
        delete_transaction("2020-01-10T12:00:00+08:00", "2024-05-20T10:00:00+08:00"),
        "2024-04-01T00:00:00+08:00",
        None,
    );
    let d = eval0(&r);
    assert_verdict(&d, Verdict::Deny);
    assert_reason(&d, "builtin.legal_hold", Effect::Deny);
    assert_eq!(d.obligations, vec![Obligation::RestrictToStorageAndSecurity]);

    // A hold with an end: the app may delete from then.
    let r = held(
        delete_transaction("2020-01-10T12:00:00+08:00", "2024-05-20T10:00:00+08:00"),
        "2024-04-01T00:00:00+08:00",
        Some("2024-07-01T00:00:00+08:00"),
    );
    let d = eval0(&r);
    assert_verdict(&d, Verdict::Deny);
    assert_eq!(d.unmet, vec![Unmet::NotBefore { at: t("2024-07-01T00:00:00+08:00") }]);
}

#[test]
fn a_hold_that_has_ended_or_not_yet_started_does_not_block_deletion() {
    let ended = held(
        delete_transaction("2020-01-10T12:00:00+08:00", "2024-05-20T10:00:00+08:00"),
        "2024-01-01T00:00:00+08:00",
        Some("2024-05-20T10:00:00+08:00"),
    );
    let d = eval0(&ended);
    assert_verdict(&d, Verdict::Permit);
    assert_no_reason(&d, "builtin.legal_hold");
    let later = held(
        delete_transaction("2020-01-10T12:00:00+08:00", "2024-05-20T10:00:00+08:00"),
        "2024-05-20T10:00:01+08:00",
        None,
    );
    assert_verdict(&eval0(&later), Verdict::Permit);
}

fn retain(cat: &str, at: &str) -> Request {
    Request::new(Action::Retain, adult("alice"), keys(&[cat]), t(at))
}

#[test]
fn retaining_transactions_after_cancellation_within_3_years_is_restricted() {
    // PIPL art. 47 para. 2: when the account is cancelled (§10) the purpose
    // ends, but where a statutory period has not run out the controller
    // keeps the data only for storage and security, and deletes it (§4.1:
    // deleted or anonymised) when the minimum ends: 2023-01-10 + 3 years =
    // 2026-01-10, deletable from 2026-01-11 00:00 +08:00.
    let mut r = retain(TRANSACTION, "2024-05-20T10:00:00+08:00");
    r.events.transaction_completed = Some(t("2023-01-10T12:00:00+08:00"));
    r.events.account_cancelled = Some(t("2024-03-01T12:00:00+08:00"));
    let d = eval0(&r);
    assert_verdict(&d, Verdict::Permit);
    assert_reason(&d, "004.retention.transaction", Effect::Permit);
    assert!(d.obligations.contains(&Obligation::RestrictToStorageAndSecurity), "{d}");
    assert!(
        d.obligations
            .contains(&Obligation::DeleteBy { by: t("2026-01-11T00:00:00+08:00"), end: EndAction::DeleteOrAnonymise }),
        "{d}"
    );
}

#[test]
fn retaining_transactions_within_3_years_is_permitted_until_the_minimum() {
    let mut r = retain(TRANSACTION, "2024-05-20T10:00:00+08:00");
    r.events.transaction_completed = Some(t("2023-01-10T12:00:00+08:00"));
    let d = eval0(&r);
    assert_verdict(&d, Verdict::Permit);
    assert_reason(&d, "004.retention.transaction", Effect::Permit);
    assert!(d.obligations.contains(&Obligation::RetainUntil { until: t("2026-01-11T00:00:00+08:00") }), "{d}");
}

#[test]
fn retaining_account_data_after_cancellation_is_denied_with_a_deadline() {
    // Maximum P0D from cancellation on 2024-03-01 12:00: a maximum of zero
    // keeps nothing past its trigger (004 §5.3, §10: cancellation takes
    // effect at once; issue 14), so the data was due at the cancellation.
    let mut r = retain(PHONE, "2024-05-20T10:00:00+08:00");
    r.events.account_cancelled = Some(t("2024-03-01T12:00:00+08:00"));
    let d = eval0(&r);
    assert_verdict(&d, Verdict::Deny);
    assert_reason(&d, "004.retention.account", Effect::Deny);
    assert!(
        d.obligations
            .contains(&Obligation::DeleteBy { by: t("2024-03-01T12:00:00+08:00"), end: EndAction::DeleteOrAnonymise }),
        "{d}"
    );
    assert!(d.obligations.contains(&Obligation::PurgeBackupsAtNextCycle), "{d}");

    // Deleting it is permitted.
    let mut r = Request::new(Action::Delete, adult("alice"), keys(&[PHONE]), t("2024-05-20T10:00:00+08:00"));
    r.events.account_cancelled = Some(t("2024-03-01T12:00:00+08:00"));
    let d = eval0(&r);
    assert_verdict(&d, Verdict::Permit);
    assert_reason(&d, "004.retention.account", Effect::Permit);
}

#[test]
fn account_data_of_a_live_account_may_be_kept() {
    let d = eval0(&retain(PHONE, "2024-05-20T10:00:00+08:00"));
    assert_verdict(&d, Verdict::Permit);
    assert_reason(&d, "004.retention.account", Effect::Permit);
    assert!(!d.obligations.iter().any(|o| matches!(o, Obligation::DeleteBy { .. })), "{d}");
}

#[test]
fn account_data_and_transactions_together_after_cancellation() {
    // Multi-category retain: the phone number must go, the transaction
    // stays under its minimum; the request as a whole is denied.
    let mut r =
        Request::new(Action::Retain, adult("alice"), keys(&[PHONE, TRANSACTION]), t("2024-05-20T10:00:00+08:00"));
    r.events.account_cancelled = Some(t("2024-03-01T12:00:00+08:00"));
    r.events.transaction_completed = Some(t("2023-01-10T12:00:00+08:00"));
    let d = eval0(&r);
    assert_verdict(&d, Verdict::Deny);
    assert_eq!(
        crate::outcomes(&d),
        vec![(PHONE.to_owned(), Verdict::Deny), (TRANSACTION.to_owned(), Verdict::Permit),]
    );
}

#[test]
fn face_data_is_not_kept_past_the_day_of_collection() {
    let mut r = retain(FACE, "2024-05-21T00:00:00+08:00");
    r.events.collected = Some(t("2024-05-20T10:00:00+08:00"));
    let d = eval0(&r);
    assert_verdict(&d, Verdict::Deny);
    assert_reason(&d, "004.retention.face", Effect::Deny);
    assert!(
        d.obligations.contains(&Obligation::DeleteBy { by: t("2024-05-21T00:00:00+08:00"), end: EndAction::Delete }),
        "{d}"
    );
}

/// Issue 14: a maximum of zero keeps nothing (004 §1.2.2, "the platform
/// does not keep face data"): not with the collection time unknown, and not
/// until the end of the day it was collected; the delete is due at once.
#[test]
fn face_data_is_never_kept_whether_or_not_its_collection_time_is_known() {
    let at = "2024-05-20T10:00:00+08:00";
    let unknown = retain(FACE, at);
    let mut same_day = retain(FACE, at);
    same_day.events.collected = Some(t("2024-05-20T09:59:00+08:00"));
    for r in [unknown, same_day] {
        let d = eval0(&r);
        assert_verdict(&d, Verdict::Deny);
        assert_reason(&d, "004.retention.face", Effect::Deny);
        assert_eq!(d.obligations, vec![Obligation::DeleteBy { by: t(at), end: EndAction::Delete }], "{d}");
        // Whatever the consent: nothing the app can obtain lifts it.
        assert!(d.not_liftable && d.unmet.is_empty(), "{d}");
    }
}

#[test]
fn data_with_no_retention_rule_may_not_be_kept() {
    let d = eval0(&retain("user.name", crate::AT));
    assert_verdict(&d, Verdict::Deny);
    assert_reason(&d, "builtin.no_retention_rule", Effect::Deny);
}

#[test]
fn keeping_data_under_a_legal_hold_is_restricted() {
    let mut r = retain(PHONE, "2024-05-20T10:00:00+08:00");
    r.events.account_cancelled = Some(t("2024-03-01T12:00:00+08:00"));
    let r = held(r, "2024-03-01T13:00:00+08:00", None);
    let d = eval0(&r);
    assert_verdict(&d, Verdict::Permit);
    assert_reason(&d, "builtin.legal_hold", Effect::Permit);
    assert_eq!(d.obligations, vec![Obligation::RestrictToStorageAndSecurity]);
}

// ---------------------------------------------------------------------------
// The retention planner.

fn record(cat: &str) -> RetentionRecord {
    RetentionRecord::new("alice", key(cat))
}

fn records() -> Vec<RetentionRecord> {
    let mut face = record(FACE);
    face.purpose = Some("face_verification".into());
    face.events.collected = Some(t("2024-05-20T10:00:00+08:00"));

    let mut phone = record(PHONE);
    phone.events.account_cancelled = Some(t("2024-05-20T09:00:00+08:00"));

    let mut held_phone = phone.clone();
    held_phone.events.legal_hold = Some(LegalHold::new(t("2024-05-20T12:00:00+08:00"), None));

    let mut transaction = record(TRANSACTION);
    transaction.events.transaction_completed = Some(t("2021-06-01T12:00:00+08:00"));
    transaction.events.account_cancelled = Some(t("2024-05-20T09:00:00+08:00"));

    let unknown = record("user.contact.fax");
    let live_phone = record(PHONE);

    vec![face, phone, held_phone, transaction, unknown, live_phone]
}

/// Face data is due from its collection (004 §1.2.2: the platform keeps
/// none) and the cancelled account's data from the cancellation (004 §5.3,
/// §10): a maximum of zero keeps nothing past its trigger (issue 14).
#[test]
fn planner_finds_data_kept_for_zero_days_due_at_collection_or_cancellation() {
    let planner = RetentionPlanner::new(engine());
    assert!(planner.due(&records(), t("2024-05-20T08:59:59+08:00")).is_empty());
    // The held copy (2) is due too until its hold starts at 12:00.
    let due = planner.due(&records(), t("2024-05-20T09:59:59+08:00"));
    assert_eq!(due.iter().map(|d| d.index).collect::<Vec<_>>(), vec![1, 2]);
    assert_eq!(due[0].since, t("2024-05-20T09:00:00+08:00"));
    let due = planner.due(&records(), t("2024-05-20T10:00:00+08:00"));
    assert_eq!(due.iter().map(|d| d.index).collect::<Vec<_>>(), vec![0, 1, 2]);
    assert_eq!(due[0].since, t("2024-05-20T10:00:00+08:00"));
    let due = planner.due(&records(), t("2024-05-20T12:00:00+08:00"));
    assert_eq!(due.iter().map(|d| d.index).collect::<Vec<_>>(), vec![0, 1]);
}

#[test]
fn planner_lists_face_and_cancelled_account_data_the_next_day() {
    let planner = RetentionPlanner::new(engine());
    let due = planner.due(&records(), t("2024-05-21T00:00:00+08:00"));
    let indexes: Vec<usize> = due.iter().map(|d| d.index).collect();
    // Held (2), transaction under its minimum (3), unknown category (4) and
    // live account (5) are skipped.
    assert_eq!(indexes, vec![0, 1]);

    assert_eq!(due[0].end, EndAction::Delete);
    assert_eq!(due[0].since, t("2024-05-20T10:00:00+08:00"));
    assert_eq!(due[0].rules, crate::rules(&["004.retention.face"]));
    assert!(due[0].obligations.is_empty());

    assert_eq!(due[1].end, EndAction::DeleteOrAnonymise);
    assert_eq!(due[1].since, t("2024-05-20T09:00:00+08:00"));
    assert_eq!(due[1].rules, crate::rules(&["004.retention.account"]));
    assert_eq!(due[1].obligations, vec![Obligation::PurgeBackupsAtNextCycle]);
}

#[test]
fn planner_skips_transactions_before_3_years() {
    let planner = RetentionPlanner::new(engine());
    let mut transaction = record(TRANSACTION);
    transaction.events.transaction_completed = Some(t("2021-06-01T12:00:00+08:00"));
    transaction.events.account_cancelled = Some(t("2021-06-02T09:00:00+08:00"));
    for at in ["2021-06-03T00:00:00+08:00", "2024-06-01T23:59:59+08:00"] {
        assert!(planner.due(&[transaction.clone()], t(at)).is_empty(), "{at}");
    }
}

#[test]
fn planner_lists_a_held_record_once_the_hold_ends() {
    let planner = RetentionPlanner::new(engine());
    let mut phone = record(PHONE);
    phone.events.account_cancelled = Some(t("2024-05-20T09:00:00+08:00"));
    phone.events.legal_hold =
        Some(LegalHold::new(t("2024-05-20T12:00:00+08:00"), Some(t("2024-06-01T00:00:00+08:00"))));
    assert!(planner.due(&[phone.clone()], t("2024-05-31T23:59:59+08:00")).is_empty());
    assert_eq!(planner.due(&[phone], t("2024-06-01T00:00:00+08:00")).len(), 1);
}

#[test]
fn retention_decisions_do_not_need_a_guardian() {
    // Unknown age is taken as a child, but retain/delete are outside the
    // guardian rule (§6.3).
    let mut r = Request::new(Action::Delete, Subject::new("erin"), keys(&[PHONE]), t(crate::AT));
    r.events.account_cancelled = Some(t("2024-03-01T12:00:00+08:00"));
    assert_verdict(&eval0(&r), Verdict::Permit);
}
