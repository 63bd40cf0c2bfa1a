//! Consent qualities (implied, explicit, separate) and the timing of grants,
//! withdrawals and expiries relative to the time of the request.

use privacy_engine::{
    Action, ConsentChange, ConsentFrom, ConsentQualities, Effect, NoticeField, Obligation, Permission, Unmet, Verdict,
};

use crate::{Ledger, assert_no_reason, assert_reason, assert_verdict, eval, key, keys, req, rules, scope};

const FACE: &str = "user.biometric.face";
const FACE_PURPOSE: &str = "face_verification";

/// The camera is on for alice (face_verification is gated on it).
fn with_camera() -> Ledger {
    let mut l = Ledger::new();
    l.permission_on("alice", "2024-01-01T00:00:00+08:00", Permission::Camera);
    l
}

fn face_unmet() -> Unmet {
    Unmet::Consent {
        purpose: FACE_PURPOSE.into(),
        categories: keys(&[FACE]),
        qualities: ConsentQualities::separate(),
        from: ConsentFrom::Subject,
        recipient: None,
        rules: rules(&["004.consent.face"]),
    }
}

#[test]
fn policy_acceptance_never_satisfies_separate_consent() {
    let mut l = with_camera();
    // Consent by use (seed preamble): a grant with no quality at all.
    l.grant("alice", "2024-01-01T00:00:00+08:00", ConsentQualities::IMPLIED, FACE_PURPOSE, &[FACE], None);
    let d = eval(&req(Action::Collect, &[FACE], FACE_PURPOSE), &l);
    assert_verdict(&d, Verdict::Deny);
    assert_reason(&d, "004.consent.face", Effect::Deny);
    assert_eq!(d.unmet, vec![face_unmet()]);
    assert!(d.obligations.is_empty(), "{d}");
}

#[test]
fn explicit_consent_is_not_enough_where_separate_is_required() {
    let mut l = with_camera();
    l.grant(
        "alice",
        "2024-01-01T00:00:00+08:00",
        ConsentQualities::explicit() | ConsentQualities::WRITTEN,
        FACE_PURPOSE,
        &[FACE],
        None,
    );
    let d = eval(&req(Action::Collect, &[FACE], FACE_PURPOSE), &l);
    assert_verdict(&d, Verdict::Deny);
    assert_eq!(d.unmet, vec![face_unmet()]);
}

#[test]
fn separate_consent_permits_face_collection_with_sensitive_data_obligations() {
    let mut l = with_camera();
    l.grant("alice", "2024-01-01T00:00:00+08:00", ConsentQualities::separate(), FACE_PURPOSE, &[FACE], None);
    let d = eval(&req(Action::Collect, &[FACE], FACE_PURPOSE), &l);
    assert_verdict(&d, Verdict::Permit);
    assert_reason(&d, "004.consent.face", Effect::Permit);
    assert!(d.unmet.is_empty());
    // Sensitive data (PIPL art. 29-30): encryption and a notice of necessity
    // and impact; the collect rule's minimise duty.
    assert!(d.obligations.contains(&Obligation::Encrypt), "{d}");
    assert!(
        d.obligations.contains(&Obligation::NotifySubject {
            fields: vec![NoticeField::Purpose, NoticeField::Necessity, NoticeField::Impact]
        }),
        "{d}"
    );
    assert!(d.obligations.contains(&Obligation::Minimise { categories: keys(&[FACE]) }), "{d}");
}

#[test]
fn collection_through_a_permission_needs_the_permission_on() {
    let mut l = Ledger::new();
    l.grant("alice", "2024-01-01T00:00:00+08:00", ConsentQualities::separate(), FACE_PURPOSE, &[FACE], None);
    let d = eval(&req(Action::Collect, &[FACE], FACE_PURPOSE), &l);
    assert_verdict(&d, Verdict::Deny);
    assert_reason(&d, "builtin.permission_off", Effect::Deny);
    assert_eq!(d.unmet, vec![Unmet::Permission { permission: Permission::Camera }]);
    // Seed 004 also stops using what was collected through a permission
    // that is off (§1.2 item 10; settings.permission_off_stops_use).
    let d = eval(&req(Action::Use, &[FACE], FACE_PURPOSE), &l);
    assert_verdict(&d, Verdict::Deny);
    assert_eq!(d.unmet, vec![Unmet::Permission { permission: Permission::Camera }]);
    let mut on = l.clone();
    on.push(
        "alice",
        "2024-01-02T00:00:00+08:00",
        privacy_engine::ConsentChange::PermissionOn { permission: Permission::Camera },
    );
    assert_verdict(&eval(&req(Action::Use, &[FACE], FACE_PURPOSE), &on), Verdict::Permit);
}

#[test]
fn a_grant_for_another_purpose_does_not_count() {
    let mut l = with_camera();
    l.grant("alice", "2024-01-01T00:00:00+08:00", ConsentQualities::separate(), "legal_compliance", &[FACE], None);
    let d = eval(&req(Action::Collect, &[FACE], FACE_PURPOSE), &l);
    assert_verdict(&d, Verdict::Deny);
    assert_eq!(d.unmet, vec![face_unmet()]);
}

#[test]
fn a_grant_on_an_ancestor_category_covers_the_descendant() {
    let mut l = with_camera();
    l.grant(
        "alice",
        "2024-01-01T00:00:00+08:00",
        ConsentQualities::separate(),
        FACE_PURPOSE,
        &["user.biometric"],
        None,
    );
    let d = eval(&req(Action::Collect, &[FACE], FACE_PURPOSE), &l);
    assert_verdict(&d, Verdict::Permit);
}

#[test]
fn an_ancestor_grant_does_not_cover_a_more_sensitive_descendant() {
    // A separate grant on `user.location` (personal) covers the imprecise
    // location (personal) but not the precise one (sensitive), which needs a
    // grant of its own.
    let purpose = "legal_compliance";
    let mut l = Ledger::new();
    l.grant("alice", "2024-01-01T00:00:00+08:00", ConsentQualities::separate(), purpose, &["user.location"], None);
    let coarse = eval(&req(Action::Use, &["user.location.imprecise"], purpose), &l);
    assert_verdict(&coarse, Verdict::Permit);
    let precise = eval(&req(Action::Use, &["user.location.precise"], purpose), &l);
    assert_verdict(&precise, Verdict::Deny);
    l.grant(
        "alice",
        "2024-01-02T00:00:00+08:00",
        ConsentQualities::separate(),
        purpose,
        &["user.location.precise"],
        None,
    );
    assert_verdict(&eval(&req(Action::Use, &["user.location.precise"], purpose), &l), Verdict::Permit);
}

#[test]
fn implied_consent_does_not_satisfy_the_affirmative_consent_of_an_optional_purpose() {
    // Collecting for de_identified_analytics has no requirement of its own
    // (004.consent.de_identified_analytics is for use only): an optional
    // purpose still needs affirmative consent.
    let cat = "user.behavior.click_history";
    let purpose = "de_identified_analytics";
    let mut l = Ledger::new();
    l.grant("alice", "2024-01-01T00:00:00+08:00", ConsentQualities::IMPLIED, purpose, &[cat], None);
    let d = eval(&req(Action::Collect, &[cat], purpose), &l);
    assert_verdict(&d, Verdict::Deny);
    assert_eq!(
        d.unmet,
        vec![Unmet::Consent {
            purpose: purpose.into(),
            categories: keys(&[cat]),
            qualities: ConsentQualities::AFFIRMATIVE,
            from: ConsentFrom::Subject,
            recipient: None,
            rules: rules(&["builtin.optional_purpose_consent"]),
        }]
    );
    l.grant("alice", "2024-02-01T00:00:00+08:00", ConsentQualities::affirmative(), purpose, &[cat], None);
    let d = eval(&req(Action::Collect, &[cat], purpose), &l);
    assert_verdict(&d, Verdict::Permit);
    assert_reason(&d, "builtin.optional_purpose_consent", Effect::Permit);
}

#[test]
fn core_purposes_need_no_consent_beyond_the_policy() {
    let d = crate::eval0(&req(
        Action::Collect,
        &["user.contact.phone_number", "user.account.username"],
        "registration_login",
    ));
    assert_verdict(&d, Verdict::Permit);
    assert_reason(&d, "registration_login", Effect::Permit);
    assert!(d.unmet.is_empty());
}

fn granted_then_withdrawn() -> Ledger {
    let mut l = with_camera();
    l.grant("alice", "2024-05-01T09:00:00+08:00", ConsentQualities::separate(), FACE_PURPOSE, &[FACE], None);
    l.withdraw("alice", "2024-06-01T00:00:00+08:00", FACE_PURPOSE, &[FACE]);
    l
}

fn face_at(at: &str) -> privacy_engine::Request {
    let mut r = req(Action::Collect, &[FACE], FACE_PURPOSE);
    r.at = crate::t(at);
    r
}

#[test]
fn a_withdrawal_after_the_request_time_does_not_affect_the_decision() {
    let l = granted_then_withdrawn();
    let d = eval(&face_at("2024-05-31T23:59:59+08:00"), &l);
    assert_verdict(&d, Verdict::Permit);
    // The same instant written in another offset.
    let d = eval(&face_at("2024-05-31T15:59:59Z"), &l);
    assert_verdict(&d, Verdict::Permit);
}

#[test]
fn a_withdrawal_at_exactly_the_request_time_counts() {
    let l = granted_then_withdrawn();
    let d = eval(&face_at("2024-06-01T00:00:00+08:00"), &l);
    assert_verdict(&d, Verdict::Deny);
    assert_eq!(d.unmet, vec![face_unmet()]);
    let d = eval(&face_at("2024-05-31T16:00:00Z"), &l);
    assert_verdict(&d, Verdict::Deny);
}

#[test]
fn a_withdrawal_before_the_request_time_denies() {
    let l = granted_then_withdrawn();
    let d = eval(&face_at("2024-07-01T10:00:00+08:00"), &l);
    assert_verdict(&d, Verdict::Deny);
    assert_reason(&d, "004.consent.face", Effect::Deny);
    assert_no_reason(&d, "builtin.default_deny");
}

#[test]
fn a_grant_at_exactly_the_request_time_counts_and_one_after_does_not() {
    let l = granted_then_withdrawn();
    assert_verdict(&eval(&face_at("2024-05-01T09:00:00+08:00"), &l), Verdict::Permit);
    assert_verdict(&eval(&face_at("2024-05-01T08:59:59+08:00"), &l), Verdict::Deny);
}

#[test]
fn withdrawing_an_ancestor_category_withdraws_the_grant() {
    let mut l = with_camera();
    l.grant("alice", "2024-05-01T09:00:00+08:00", ConsentQualities::separate(), FACE_PURPOSE, &[FACE], None);
    l.withdraw("alice", "2024-05-10T00:00:00+08:00", FACE_PURPOSE, &["user"]);
    assert_verdict(&eval(&face_at(crate::AT), &l), Verdict::Deny);
}

#[test]
fn a_withdrawal_for_another_purpose_leaves_the_grant_in_force() {
    let mut l = with_camera();
    l.grant("alice", "2024-05-01T09:00:00+08:00", ConsentQualities::separate(), FACE_PURPOSE, &[FACE], None);
    l.withdraw("alice", "2024-05-10T00:00:00+08:00", "legal_compliance", &[FACE]);
    assert_verdict(&eval(&face_at(crate::AT), &l), Verdict::Permit);
}

#[test]
fn consent_given_again_after_a_withdrawal_permits_again() {
    let mut l = granted_then_withdrawn();
    l.grant("alice", "2024-06-15T00:00:00+08:00", ConsentQualities::separate(), FACE_PURPOSE, &[FACE], None);
    assert_verdict(&eval(&face_at("2024-06-10T00:00:00+08:00"), &l), Verdict::Deny);
    assert_verdict(&eval(&face_at("2024-06-15T00:00:00+08:00"), &l), Verdict::Permit);
}

#[test]
fn an_expired_grant_no_longer_permits() {
    let mut l = with_camera();
    l.push(
        "alice",
        "2024-05-01T09:00:00+08:00",
        ConsentChange::Grant {
            qualities: ConsentQualities::separate(),
            scope: scope(FACE_PURPOSE, &[FACE], None),
            expires: Some(crate::t("2024-06-01T00:00:00+08:00")),
        },
    );
    assert_verdict(&eval(&face_at("2024-05-31T23:59:59+08:00"), &l), Verdict::Permit);
    assert_verdict(&eval(&face_at("2024-06-01T00:00:00+08:00"), &l), Verdict::Deny);
}

#[test]
fn another_subjects_consent_does_not_count() {
    let mut l = Ledger::new();
    l.permission_on("alice", "2024-01-01T00:00:00+08:00", Permission::Camera);
    l.grant("bob", "2024-01-01T00:00:00+08:00", ConsentQualities::separate(), FACE_PURPOSE, &[FACE], None);
    let d = eval(&req(Action::Collect, &[FACE], FACE_PURPOSE), &l);
    assert_verdict(&d, Verdict::Deny);
    assert_eq!(d.categories.len(), 1);
    assert_eq!(d.categories[0].category, key(FACE));
}
