//! Rights requests answered by `Engine::answer` (docs/rights.md): each
//! right, each ground and limit, the duties, the answer as a whole and the
//! deadline on the Chinese calendar. Expectations come from the seeds'
//! clauses and the law, as docs/rights.md reads them.

use privacy_engine::{
    AnswerItem, AnswerOutcome, Assumption, BeyondData, ChinaCalendar, ConsentQualities, Engine, Holding, ItemOutcome,
    LimitGround, NaiveDate, Policy, PolicyHistory, RightsAnswer, RightsDuty, RightsRequest, Source,
};
use serde_json::{Value, json};

use super::{Ledger, engine};

const SEED_001: &str = include_str!("../../examples/policies/seed-001.json");
const SEED_003: &str = include_str!("../../examples/policies/seed-003.json");
const SEED_004_V2: &str = include_str!("../../examples/policies/seed-004-v2.json");

fn engine_of(json: &str) -> Engine {
    Engine::new(Policy::from_json(json).unwrap()).unwrap()
}

/// A request for `right` received and answered on `day` (YYYY-MM-DD, at 10
/// and 11 o'clock Beijing time), identity verified unless `identity` says.
fn request(right: Value, day: &str, extra: Value) -> RightsRequest {
    let mut r = json!({
        "case": "00000000-0000-4000-8000-000000000001",
        "subject": "alice",
        "right": right,
        "received": format!("{day}T10:00:00+08:00"),
        "at": format!("{day}T11:00:00+08:00"),
        "identity": "verified",
    });
    if let (Some(r), Some(extra)) = (r.as_object_mut(), extra.as_object()) {
        r.extend(extra.clone());
    }
    serde_json::from_value(r).unwrap()
}

fn holdings(v: Value) -> Vec<Holding> {
    serde_json::from_value(v).unwrap()
}

fn date(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// Answers on seed 004 with an empty ledger, on the Chinese calendar.
fn answer_004(r: &RightsRequest, held: &[Holding]) -> RightsAnswer {
    engine().answer(r, held, &Ledger::new().ledger, &ChinaCalendar::new(), BeyondData::Refuse)
}

fn answer_on(e: &Engine, r: &RightsRequest, held: &[Holding]) -> RightsAnswer {
    e.answer(r, held, &Ledger::new().ledger, &ChinaCalendar::new(), BeyondData::Refuse)
}

/// (category, outcome, ground) of each item, in order.
fn summary(a: &RightsAnswer) -> Vec<(String, ItemOutcome, Option<LimitGround>)> {
    a.items.iter().map(|i| (i.category.as_str().to_owned(), i.outcome, i.ground)).collect()
}

fn item<'a>(a: &'a RightsAnswer, category: &str) -> &'a AnswerItem {
    a.items.iter().find(|i| i.category.as_str() == category).unwrap()
}

fn phone_and_chat() -> Vec<Holding> {
    holdings(json!([
        {"category": "user.contact.phone_number", "origin": "provided", "purposes": ["registration_login"],
         "recipients": ["sdk.one_click_login"]},
        {"category": "user.content.communications", "origin": "provided", "purposes": ["customer_service"],
         "others_data": true},
        {"category": "user.device.model", "origin": "observed", "purposes": ["device_information"]}
    ]))
}

#[test]
fn access_lists_purposes_and_recipients_and_keeps_others_data_back() {
    let a = answer_004(&request(json!({"kind": "access"}), "2024-05-20", json!({})), &phone_and_chat());
    assert_eq!(a.outcome, AnswerOutcome::PartlyAccepted);
    let phone = item(&a, "user.contact.phone_number");
    assert_eq!(phone.outcome, ItemOutcome::Accepted);
    assert_eq!(phone.source, Source::Holdings);
    assert_eq!(phone.cites.as_deref(), Some("004 §5.1"));
    assert_eq!(phone.purposes[0].as_str(), "registration_login");
    assert_eq!(phone.recipients[0].as_str(), "sdk.one_click_login");
    let chat = item(&a, "user.content.communications");
    assert_eq!((chat.outcome, chat.ground), (ItemOutcome::Refused, Some(LimitGround::RightsOfOthers)));
    assert_eq!(a.duties, vec![RightsDuty::GiveReasons]);
    assert_eq!(a.policy_version, "2021-08-20");
    assert!(a.cites.contains(&"004 §5.1".to_owned()));
}

#[test]
fn copy_refused_on_the_rights_of_others() {
    let held = &phone_and_chat()[1..2];
    let a = answer_004(&request(json!({"kind": "copy"}), "2024-05-20", json!({})), held);
    assert_eq!(a.outcome, AnswerOutcome::Refused);
    assert_eq!(
        summary(&a),
        vec![("user.content.communications".to_owned(), ItemOutcome::Refused, Some(LimitGround::RightsOfOthers))]
    );
    assert_eq!(a.duties, vec![RightsDuty::GiveReasons]);
}

#[test]
fn portability_covers_only_what_the_person_provided() {
    let a = answer_004(&request(json!({"kind": "portability"}), "2024-05-20", json!({})), &phone_and_chat());
    assert_eq!(
        summary(&a),
        vec![
            ("user.contact.phone_number".to_owned(), ItemOutcome::Accepted, None),
            ("user.content.communications".to_owned(), ItemOutcome::Refused, Some(LimitGround::RightsOfOthers)),
            ("user.device.model".to_owned(), ItemOutcome::Refused, Some(LimitGround::NotProvidedByPerson)),
        ]
    );
}

#[test]
fn rights_of_others_do_not_limit_correction_or_deletion() {
    let held = &phone_and_chat()[1..2];
    let a = answer_004(&request(json!({"kind": "correction"}), "2024-05-20", json!({})), held);
    assert_eq!(a.outcome, AnswerOutcome::Accepted);
    let d = request(json!({"kind": "deletion", "grounds": ["unlawful"]}), "2024-05-20", json!({}));
    assert_eq!(answer_004(&d, held).outcome, AnswerOutcome::Accepted);
}

#[test]
fn a_request_awaiting_identity_is_suspended_and_its_deadline_runs() {
    let r = request(json!({"kind": "access"}), "2024-05-20", json!({"identity": "unverified"}));
    let a = answer_004(&r, &phone_and_chat());
    assert_eq!(a.outcome, AnswerOutcome::Suspended);
    assert!(a.items.iter().all(|i| i.outcome == ItemOutcome::Refused
        && i.ground == Some(LimitGround::IdentityNotVerified)
        && i.purposes.is_empty()));
    assert_eq!(a.duties, vec![RightsDuty::VerifyIdentity]);
    // 004 §9: 15 working days from 2024-05-20 (a Monday), over the Dragon
    // Boat Festival (2024-06-10).
    assert_eq!(a.deadline.unwrap().date, date("2024-06-11"));
}

#[test]
fn deletion_under_a_statutory_minimum_is_partly_accepted() {
    let held = holdings(json!([
        {"category": "user.contact.address", "origin": "provided", "purposes": ["payment_delivery"],
         "recipients": ["partner.logistics"], "events": {"account_cancelled": "2026-03-01T09:00:00+08:00"}},
        {"category": "user.financial.transaction", "origin": "provided", "purposes": ["order_management"],
         "recipients": ["partner.payment_institutions"],
         "events": {"transaction_completed": "2025-06-10T15:00:00+08:00", "account_cancelled": "2026-03-01T09:00:00+08:00"}}
    ]));
    let r = request(json!({"kind": "deletion", "grounds": ["account_cancelled"]}), "2026-03-02", json!({}));
    let a = answer_004(&r, &held);
    assert_eq!(a.outcome, AnswerOutcome::PartlyAccepted);
    // 004 §4.1: three years from completion, the last day counted: due the
    // day after 2028-06-10.
    let tx = item(&a, "user.financial.transaction");
    assert_eq!(tx.outcome, ItemOutcome::Restricted { delete_on: Some(date("2028-06-11")) });
    assert_eq!((tx.ground, tx.source), (Some(LimitGround::StatutoryRetention), Source::Retention));
    assert_eq!(tx.cites.as_deref(), Some("004 §4.1; 004 §5.1"));
    assert_eq!(item(&a, "user.contact.address").outcome, ItemOutcome::Accepted);
    let due = a.deadline.as_ref().unwrap().date;
    assert_eq!(due, date("2026-03-23"));
    assert_eq!(
        a.duties,
        vec![
            RightsDuty::RestrictToStorage,
            RightsDuty::StopProcessing { purposes: vec!["payment_delivery".into()] },
            RightsDuty::NotifyRecipients {
                recipients: vec!["partner.logistics".into(), "partner.payment_institutions".into()]
            },
            RightsDuty::DeleteBy { date: due },
            RightsDuty::DeleteBy { date: date("2028-06-11") },
            RightsDuty::PurgeBackups,
            RightsDuty::GiveReasons,
        ]
    );
}

#[test]
fn a_legal_hold_restricts_deletion_until_it_ends() {
    let held = |until: Value| {
        holdings(json!([{"category": "user.contact.address", "origin": "provided", "purposes": ["payment_delivery"],
            "events": {"legal_hold": {"since": "2024-01-01T00:00:00+08:00", "until": until}}}]))
    };
    let r = request(json!({"kind": "deletion", "grounds": ["unlawful"]}), "2024-05-20", json!({}));
    let a = answer_004(&r, &held(json!("2024-09-01T00:00:00+08:00")));
    let i = &a.items[0];
    assert_eq!(
        (i.outcome, i.ground),
        (ItemOutcome::Restricted { delete_on: Some(date("2024-09-01")) }, Some(LimitGround::LegalHold))
    );
    assert_eq!(a.outcome, AnswerOutcome::PartlyAccepted);
    assert_eq!(
        a.duties,
        vec![RightsDuty::RestrictToStorage, RightsDuty::DeleteBy { date: date("2024-09-01") }, RightsDuty::GiveReasons]
    );
    let a = answer_004(&r, &held(Value::Null));
    assert_eq!(a.items[0].outcome, ItemOutcome::Restricted { delete_on: None });
    assert_eq!(a.duties, vec![RightsDuty::RestrictToStorage, RightsDuty::GiveReasons]);
}

#[test]
fn a_minimum_and_a_hold_restrict_until_the_later_ends() {
    let held = holdings(json!([{"category": "user.financial.transaction", "origin": "provided",
        "events": {"transaction_completed": "2024-01-10T12:00:00+08:00",
                   "legal_hold": {"since": "2024-01-01T00:00:00+08:00", "until": "2025-01-01T00:00:00+08:00"}}}]));
    let r = request(json!({"kind": "deletion", "grounds": ["unlawful"]}), "2024-05-20", json!({}));
    let i = &answer_004(&r, &held).items[0];
    assert_eq!(
        (i.outcome, i.ground),
        (ItemOutcome::Restricted { delete_on: Some(date("2027-01-11")) }, Some(LimitGround::StatutoryRetention))
    );
}

#[test]
fn a_deadline_set_outside_the_policy_restricts_deletion() {
    let held = holdings(json!([{"category": "user.contact.address", "origin": "provided",
        "events": {"retain_until": "2024-07-01T00:00:00+08:00"}}]));
    let r = request(json!({"kind": "deletion", "grounds": ["unlawful"]}), "2024-05-20", json!({}));
    let i = &answer_004(&r, &held).items[0];
    assert_eq!(
        (i.outcome, i.ground),
        (ItemOutcome::Restricted { delete_on: Some(date("2024-07-01")) }, Some(LimitGround::StatutoryRetention))
    );
}

#[test]
fn consent_withdrawn_holds_only_once_no_grant_is_in_force() {
    let held = holdings(json!([
        {"category": "user.contacts.address_book", "origin": "provided", "purposes": ["contact_via_address_book"]},
        {"category": "user.contact.phone_number", "origin": "provided", "purposes": ["registration_login"]}
    ]));
    let r = request(json!({"kind": "deletion", "grounds": ["consent_withdrawn"]}), "2024-05-20", json!({}));
    let mut ledger = Ledger::new();
    let q = ConsentQualities::AFFIRMATIVE | ConsentQualities::EXPLICIT | ConsentQualities::SEPARATE;
    ledger.grant("alice", "2024-05-01T10:00:00+08:00", q, "contact_via_address_book", &["user.contacts"], None);
    let cal = ChinaCalendar::new();
    let a = engine().answer(&r, &held, &ledger.ledger, &cal, BeyondData::Refuse);
    assert_eq!(a.outcome, AnswerOutcome::Refused);
    assert!(a.items.iter().all(|i| i.ground == Some(LimitGround::NoDeletionGround)));
    ledger.withdraw("alice", "2024-05-10T10:00:00+08:00", "contact_via_address_book", &["user.contacts"]);
    let a = engine().answer(&r, &held, &ledger.ledger, &cal, BeyondData::Refuse);
    let book = item(&a, "user.contacts.address_book");
    assert_eq!((book.outcome, book.source), (ItemOutcome::Accepted, Source::ConsentLedger));
    // A core purpose rests on the contract: its data stays.
    let phone = item(&a, "user.contact.phone_number");
    assert_eq!(phone.ground, Some(LimitGround::NoDeletionGround));
    assert_eq!(a.outcome, AnswerOutcome::PartlyAccepted);
}

#[test]
fn retention_expired_purpose_achieved_and_no_ground() {
    let held = holdings(json!([
        {"category": "user.biometric.face", "origin": "provided", "purposes": ["face_verification"],
         "events": {"collected": "2024-05-01T10:00:00+08:00"}},
        {"category": "user.location.precise", "origin": "observed", "purposes": ["payment_location_service"],
         "events": {"purpose_fulfilled": "2024-05-19T10:00:00+08:00"}},
        {"category": "user.contact.phone_number", "origin": "provided", "purposes": ["registration_login"]}
    ]));
    let grounds = json!({"kind": "deletion", "grounds": ["retention_expired", "purpose_achieved"]});
    let a = answer_004(&request(grounds, "2024-05-20", json!({})), &held);
    // 004 §1.2.2: no face data kept (a maximum of zero from collection).
    let face = item(&a, "user.biometric.face");
    assert_eq!((face.outcome, face.source), (ItemOutcome::Accepted, Source::Retention));
    assert_eq!(item(&a, "user.location.precise").outcome, ItemOutcome::Accepted);
    assert_eq!(item(&a, "user.contact.phone_number").ground, Some(LimitGround::NoDeletionGround));
    assert_eq!(item(&a, "user.contact.phone_number").cites.as_deref(), Some("PIPL art. 47"));
}

#[test]
fn a_ground_the_policy_lists_cites_the_policy() {
    let e = engine_of(SEED_001);
    let held =
        holdings(json!([{"category": "user.contact.email", "origin": "provided", "purposes": ["member_service"],
        "events": {"account_cancelled": "2024-05-01T10:00:00+08:00",
                   "purpose_fulfilled": "2024-05-01T10:00:00+08:00"}}]));
    let listed = request(json!({"kind": "deletion", "grounds": ["account_cancelled"]}), "2024-05-20", json!({}));
    assert_eq!(answer_on(&e, &listed, &held).items[0].cites.as_deref(), Some("001 §4(2)"));
    // 001 §4(2) does not list it; PIPL art. 47 ¶1(1) does.
    let unlisted = request(json!({"kind": "deletion", "grounds": ["purpose_achieved"]}), "2024-05-20", json!({}));
    let a = answer_on(&e, &unlisted, &held);
    assert_eq!((a.items[0].outcome, a.items[0].cites.as_deref()), (ItemOutcome::Accepted, Some("PIPL art. 47")));
}

#[test]
fn objection_to_personalised_recommendations() {
    let e = engine_of(SEED_004_V2);
    let held = holdings(json!([
        {"category": "user.behavior.browsing_history", "origin": "observed",
         "purposes": ["personalised_recommendation", "service_logs"]},
        {"category": "user.log.service", "origin": "observed", "purposes": ["service_logs"]}
    ]));
    let r = request(json!({"kind": "objection", "target": "personalised_recommendations"}), "2024-05-20", json!({}));
    let a = answer_on(&e, &r, &held);
    assert_eq!(
        summary(&a),
        vec![
            ("user.behavior.browsing_history".to_owned(), ItemOutcome::Accepted, None),
            ("user.log.service".to_owned(), ItemOutcome::Refused, Some(LimitGround::NotBasedOnConsent)),
        ]
    );
    assert_eq!(a.outcome, AnswerOutcome::PartlyAccepted);
    assert_eq!(
        a.duties,
        vec![
            RightsDuty::StopProcessing { purposes: vec!["personalised_recommendation".into()] },
            RightsDuty::GiveReasons
        ]
    );
}

#[test]
fn the_version_in_force_at_the_request_answers_it() {
    let versions = vec![Policy::from_json(super::SEED_004).unwrap(), Policy::from_json(SEED_004_V2).unwrap()];
    let e = Engine::from_history(PolicyHistory::new(versions).unwrap()).unwrap();
    let held = holdings(json!([{"category": "user.behavior.browsing_history", "origin": "observed",
        "purposes": ["personalised_recommendation"]}]));
    let object = json!({"kind": "objection", "target": "personalised_recommendations"});
    // Before 2022-03-01 the policy declares no such purpose: nothing to
    // object to.
    let a = answer_on(&e, &request(object.clone(), "2021-12-01", json!({})), &held);
    assert_eq!((a.outcome, a.policy_version.as_str()), (AnswerOutcome::Refused, "2021-08-20"));
    let a = answer_on(&e, &request(object, "2022-05-05", json!({})), &held);
    assert_eq!((a.outcome, a.policy_version.as_str()), (AnswerOutcome::Accepted, "2022-03-01"));
}

#[test]
fn objection_to_programmatic_advertising_and_to_profiling() {
    let e = engine_of(SEED_003);
    let held = holdings(json!([
        {"category": "user.derived.profile", "origin": "derived", "purposes": ["programmatic_advertising", "marketing"]},
        {"category": "user.behavior.click_history", "origin": "observed", "purposes": ["marketing"]}
    ]));
    let ads = request(json!({"kind": "objection", "target": "programmatic_advertising"}), "2024-05-20", json!({}));
    let a = answer_on(&e, &ads, &held);
    assert_eq!(item(&a, "user.derived.profile").outcome, ItemOutcome::Accepted);
    assert_eq!(item(&a, "user.derived.profile").cites.as_deref(), Some("003 §6.1(2)"));
    // Held for marketing, an optional purpose of another kind: refused with
    // no ground of its own.
    let click = item(&a, "user.behavior.click_history");
    assert_eq!((click.outcome, click.ground), (ItemOutcome::Refused, None));
    let marketing = request(json!({"kind": "objection", "target": "marketing"}), "2024-05-20", json!({}));
    let a = answer_on(&e, &marketing, &held);
    assert_eq!(a.outcome, AnswerOutcome::Accepted);
    assert_eq!(a.duties, vec![RightsDuty::StopProcessing { purposes: vec!["marketing".into()] }]);
    let any = request(json!({"kind": "objection", "target": "processing"}), "2024-05-20", json!({}));
    let a = answer_on(&e, &any, &held);
    assert_eq!(
        a.duties,
        vec![RightsDuty::StopProcessing { purposes: vec!["marketing".into(), "programmatic_advertising".into()] }]
    );
}

#[test]
fn withdrawal_stops_optional_purposes_from_its_time_and_refuses_core_ones() {
    let r = request(
        json!({"kind": "withdrawal", "purposes": ["registration_login", "contact_via_address_book"]}),
        "2024-05-20",
        json!({}),
    );
    let a = answer_004(&r, &[]);
    assert_eq!(a.outcome, AnswerOutcome::PartlyAccepted);
    assert_eq!(a.stops_from, Some(r.at));
    assert_eq!(a.unavailable, vec!["contact_via_address_book".into()]);
    let core: Vec<_> =
        a.items.iter().filter(|i| i.purpose.as_ref().unwrap().as_str() == "registration_login").collect();
    assert_eq!(core.len(), 2);
    assert!(core.iter().all(|i| i.ground == Some(LimitGround::NotBasedOnConsent) && i.source == Source::Policy));
    assert_eq!(
        a.duties,
        vec![
            RightsDuty::StopProcessing { purposes: vec!["contact_via_address_book".into()] },
            RightsDuty::RecordWithdrawal { purposes: vec!["contact_via_address_book".into()] },
            RightsDuty::GiveReasons,
        ]
    );
    // Items in category order, then purpose order.
    let order: Vec<_> = a.items.iter().map(|i| (i.category.clone(), i.purpose.clone())).collect();
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(order, sorted);
}

#[test]
fn refusing_optional_data_keeps_the_rest_of_the_service() {
    let r = request(json!({"kind": "refuse_optional", "purposes": ["camera_listing"]}), "2024-05-20", json!({}));
    let a = answer_004(&r, &[]);
    assert_eq!(a.outcome, AnswerOutcome::Accepted);
    assert_eq!(a.unavailable, vec!["camera_listing".into()]);
    assert_eq!(a.stops_from, Some(r.at));
    assert_eq!(a.duties, vec![RightsDuty::StopProcessing { purposes: vec!["camera_listing".into()] }]);
    let core = request(json!({"kind": "refuse_optional", "purposes": ["ordering"]}), "2024-05-20", json!({}));
    let a = answer_004(&core, &[]);
    assert_eq!(a.outcome, AnswerOutcome::Refused);
    assert!(a.unavailable.is_empty());
}

#[test]
fn restriction_explanation_and_nothing_held() {
    let held = &phone_and_chat()[..1];
    let a = answer_004(&request(json!({"kind": "restriction"}), "2024-05-20", json!({})), held);
    assert_eq!((a.outcome, a.duties.clone()), (AnswerOutcome::Accepted, vec![RightsDuty::RestrictToStorage]));
    let why = json!({"kind": "explanation", "automated_decision": true});
    let a = answer_004(&request(why, "2024-05-20", json!({})), held);
    assert_eq!(a.outcome, AnswerOutcome::Accepted);
    assert!(a.cites.contains(&"PIPL art. 24 ¶3".to_owned()));
    // Nothing held: access is answered (nothing is held), deletion refused.
    assert_eq!(
        answer_004(&request(json!({"kind": "access"}), "2024-05-20", json!({})), &[]).outcome,
        AnswerOutcome::Accepted
    );
    let d = request(json!({"kind": "deletion", "grounds": ["unlawful"]}), "2024-05-20", json!({}));
    assert_eq!(answer_004(&d, &[]).outcome, AnswerOutcome::Refused);
    // A category asked about and not held.
    let r = request(json!({"kind": "access"}), "2024-05-20", json!({"categories": ["user.biometric"]}));
    let a = answer_004(&r, held);
    assert_eq!(summary(&a), vec![("user.biometric".to_owned(), ItemOutcome::Refused, Some(LimitGround::NotHeld))]);
}

#[test]
fn deadlines_on_the_chinese_calendar() {
    // 004 §9, 15 working days over the 2025 National Day holiday and its
    // adjusted working day (2025-09-28, a Sunday).
    let a = answer_004(&request(json!({"kind": "access"}), "2025-09-25", json!({})), &[]);
    let due = a.deadline.unwrap();
    assert_eq!(due.date, date("2025-10-22"));
    assert!(due.assumptions.is_empty());
    // 001 states no time limit: the default, said to be one.
    let a = answer_on(&engine_of(SEED_001), &request(json!({"kind": "access"}), "2025-09-25", json!({})), &[]);
    let due = a.deadline.unwrap();
    assert_eq!(due.date, date("2025-10-22"));
    assert!(matches!(due.assumptions[..], [Assumption::DefaultTimeLimit { .. }]));
    // Beyond the calendar's data: an error, or weekdays when asked.
    let late = request(json!({"kind": "access"}), "2026-12-20", json!({}));
    let a = answer_004(&late, &[]);
    assert!(a.deadline.is_none());
    assert!(a.deadline_error.unwrap().contains("2026-12"));
    let a = engine().answer(&late, &[], &Ledger::new().ledger, &ChinaCalendar::new(), BeyondData::AssumeWeekdays);
    let due = a.deadline.unwrap();
    assert!(matches!(due.assumptions[..], [Assumption::WeekdaysBeyondData { .. }]));
}

#[test]
fn answers_serialise_with_stable_names() {
    let r = request(json!({"kind": "withdrawal", "purposes": ["camera_listing"]}), "2024-05-20", json!({}));
    let v = serde_json::to_value(answer_004(&r, &[])).unwrap();
    assert_eq!(v["outcome"], "accepted");
    assert_eq!(v["items"][0]["outcome"], "accepted");
    assert_eq!(v["items"][0]["source"], "policy");
    assert_eq!(v["duties"][0]["duty"], "stop_processing");
    assert_eq!(v["stops_from"], "2024-05-20T11:00:00+08:00");
}
