//! A subject's export over every store: the consent history and state,
//! the audit decisions, the holdings with their deadlines, the cases and
//! the receipts, with no internal id in the document.

use chrono::TimeDelta;
use privacy_engine::{
    Action, AnswerOutcome, AuditLog, BeyondData, CaseStore, CategoryKey, ChinaCalendar, ConsentChange, ConsentEvent,
    ConsentQualities, ConsentStatus, Controller, DurableLog, Engine, ErasureReason, Error, Holding, HoldingOrigin,
    Holdings, InMemoryAuditStore, ItemOutcomeKind, LimitGround, Permission, Policy, PolicyRef, PseudonymDomain,
    PseudonymKey, Pseudonymiser, ReceiptDetails, Replica, Request, RightsDuty, RightsRequest, Scope, Subject,
    SubjectId, Uuid, export,
};

use crate::conformance::{case_id, may, received, recorded, step};

/// The person's holdings: an order (kept three years from the
/// transaction) and a phone number shared with a courier.
struct Held;

impl Holdings for Held {
    fn held(&self, subject: &SubjectId) -> Result<Vec<Holding>, Error> {
        assert_eq!(subject.as_str(), "user-42");
        let mut order = Holding::new(CategoryKey::new("user.financial.transaction")?, HoldingOrigin::Provided);
        order.purposes = vec!["ordering".into()];
        order.events.transaction_completed = Some("2024-04-01T10:00:00+08:00".parse().unwrap());
        let mut phone = Holding::new(CategoryKey::new("user.contact.phone_number")?, HoldingOrigin::Provided);
        phone.purposes = vec!["payment_delivery".into()];
        phone.recipients = vec!["partner.logistics".into()];
        Ok(vec![order, phone])
    }
}

fn engine() -> Engine {
    Engine::new(Policy::from_json(include_str!("../../examples/policies/seed-004.json")).unwrap()).unwrap()
}

fn change(n: u128, hours: i64, change: ConsentChange) -> ConsentEvent {
    let at = (recorded() - TimeDelta::hours(48) + TimeDelta::hours(hours)).fixed_offset();
    ConsentEvent::new(Uuid::from_u128(0xE000 + n), at, "user-42", "seed-004", "2021-08-20", change)
}

fn face() -> Scope {
    Scope::new(vec!["face_verification".into()], vec![CategoryKey::new("user.biometric.face").unwrap()])
}

/// A deletion request of `user-42` (case 0xC2) after the account was
/// cancelled, received two hours after [`recorded`].
fn deletion() -> RightsRequest {
    serde_json::from_str(
        r#"{"case": "00000000-0000-0000-0000-0000000000c2", "subject": "user-42",
            "right": {"kind": "deletion", "grounds": ["account_cancelled"]},
            "received": "2024-05-01T12:00:00+08:00", "at": "2024-05-01T12:30:00+08:00",
            "identity": "verified"}"#,
    )
    .unwrap()
}

/// A grant, a withdrawal and a grant of another purpose; a decision, a
/// consent and a rights answer in the audit log; two cases, one answered;
/// every section of the export is checked, and the JSON holds no UUID, seq
/// or pseudonym.
pub fn full_export<L: DurableLog + CaseStore>(mut open: impl FnMut() -> L) {
    let mut store = open();
    let grant = ConsentChange::Grant { qualities: ConsentQualities::explicit(), scope: face(), expires: None };
    let accounts = Scope::new(vec!["account_binding".into()], vec![CategoryKey::new("user.account.avatar").unwrap()]);
    let events = [
        change(1, 0, grant),
        change(2, 1, ConsentChange::Withdraw { scope: face() }),
        change(3, 2, ConsentChange::Grant { qualities: ConsentQualities::empty(), scope: accounts, expires: None }),
    ];
    store.append(&events, recorded()).unwrap();
    store.append(&[crate::conformance::event(77, "someone-else")], recorded()).unwrap();
    store.record_case(&received(0xC1, "user-42", 0, 22)).unwrap();
    store.record_case(&step(0xC1, "user-42", CaseState::Answered, 1).outcome(AnswerOutcome::Accepted)).unwrap();
    store.record_case(&received(0xC2, "user-42", 2, 24)).unwrap();

    let engine = engine();
    let pseudonyms = || Pseudonymiser::new(PseudonymKey::from_bytes("k1", &[7; 32]).unwrap());
    let mut audit = AuditLog::open(InMemoryAuditStore::new(), pseudonyms()).unwrap();
    let request = Request::new(
        Action::Collect,
        Subject::new("user-42").age(30),
        vec![CategoryKey::new("user.biometric.face").unwrap()],
        recorded().fixed_offset(),
    )
    .purpose("face_verification");
    let decision = engine.evaluate(&request, &privacy_engine::InMemoryLedger::new());
    let policy_ref = PolicyRef::of(engine.policy());
    audit.record_decision(Uuid::from_u128(0xA1), recorded().fixed_offset(), &request, &decision, &policy_ref).unwrap();
    audit.record_consent(Uuid::from_u128(0xA2), events[0].at, &events[0]).unwrap();
    // The account was cancelled just before the request (the ground it
    // invokes).
    let mut held = Held.held(&SubjectId::from("user-42")).unwrap();
    for h in &mut held {
        h.events.account_cancelled = Some("2024-05-01T11:00:00+08:00".parse().unwrap());
    }
    let ledger = privacy_engine::InMemoryLedger::new();
    let answer = engine.answer(&deletion(), &held, &ledger, &ChinaCalendar::new(), BeyondData::Refuse);
    audit.record_answer(Uuid::from_u128(0xA3), deletion().at, &deletion(), &answer, &policy_ref).unwrap();
    let entries = audit.entries().unwrap();

    let details = ReceiptDetails::new(
        Uuid::from_u128(0xD1),
        Controller::new("Example Co.", "privacy@example.com"),
        "Settings > Privacy",
    );
    let sources = privacy_engine::ExportSources::new(&engine, &Held).audit(&entries).receipts(&details);
    let at = (recorded() + TimeDelta::hours(3)).fixed_offset();
    let mut replica = Replica::open(open()).unwrap();
    let out = export(&mut open(), &SubjectId::from("user-42"), at, &sources).unwrap();
    assert_eq!(replica.export(&SubjectId::from("user-42"), at, &sources).unwrap(), out);

    assert_eq!((out.policy.id.as_str(), out.policy.version.as_str()), ("seed-004", "2021-08-20"));
    assert_eq!(out.consent_history.iter().map(|c| c.change).collect::<Vec<_>>(), ["grant", "withdraw", "grant"]);
    assert_eq!(out.consent_history[0].qualities, ConsentQualities::explicit());
    assert_eq!(out.consent_history[0].recorded, recorded());
    // One receipt per policy version, scope and consent type, with the
    // times of its events.
    assert_eq!(out.receipts.len(), 3);
    assert_eq!(out.receipts.iter().map(|r| r.events.clone()).collect::<Vec<_>>(), events.map(|e| vec![e.at]));
    let receipt = &out.receipts[0];
    assert_eq!(receipt.controller.name, "Example Co.");
    assert_eq!(receipt.consent_type.as_deref(), Some("dpv:ExplicitlyExpressedConsent"));
    assert_eq!(out.receipts[1].consent_type, None);
    assert_eq!(receipt.purposes[0].id.as_str(), "face_verification");
    assert!(receipt.retention.iter().any(|r| r.rule.as_str() == "004.retention.face"));
    let state: Vec<(&str, &str, ConsentStatus)> =
        out.consent_state.iter().map(|s| (s.purpose.as_str(), s.category.as_str(), s.status)).collect();
    assert_eq!(
        state,
        [
            ("account_binding", "user.account.avatar", ConsentStatus::Given),
            ("face_verification", "user.biometric.face", ConsentStatus::Withdrawn)
        ]
    );
    assert_eq!(out.decisions.len(), 1, "only decisions, not consent entries");
    assert_eq!(out.decisions[0].action, Action::Collect);
    assert_eq!(out.decisions[0].verdict, decision.verdict);
    assert_eq!(out.held_data.len(), 2);
    let order = &out.held_data[0];
    assert_eq!(order.retention[0].rule.as_str(), "004.retention.transaction");
    assert_eq!(order.retention[0].keep_until.unwrap().to_rfc3339(), "2027-04-02T00:00:00+08:00");
    assert_eq!(out.held_data[1].recipients[0].as_str(), "partner.logistics");
    assert_eq!(out.rights_requests.len(), 2);
    assert_eq!(out.rights_requests[0].state, CaseState::Answered);
    assert_eq!(out.rights_requests[1].due, Some(may(24)));
    assert!(out.erasures.is_empty());
    answer_exported(&out, &answer);

    let json = out.to_json().unwrap();
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    let fields =
        ["subject", "at", "policy", "consent_history", "consent_state", "decisions", "held_data", "rights_requests"];
    for field in fields.into_iter().chain(["answers"]) {
        assert!(value.get(field).is_some(), "{field} missing: {json}");
    }
    assert_eq!(value["rights_requests"][1]["history"][0]["due"], "2024-05-24");
    assert_eq!(value["consent_history"][0]["at"], "2024-04-29T02:00:00Z");
    let answers = &value["answers"][0];
    assert_eq!((&answers["right"]["kind"], &answers["outcome"]), (&"deletion".into(), &"partly_accepted".into()));
    assert_eq!(answers["received"], "2024-05-01T12:00:00+08:00");
    assert_eq!(answers["deadline"]["calendar"], privacy_engine::WorkingCalendar::version(&ChinaCalendar::new()));
    assert_eq!(answers["items"][1]["category"], "user.financial.transaction");
    assert_eq!(answers["items"][1]["outcome"], "restricted");
    assert_no_internal_id(&json, &pseudonyms());
    assert_eq!(case_id(0xC1).0.to_string().len(), 36);

    // After an erasure the export says so and holds no consent event; the
    // cases stay.
    store.erase_subject(&SubjectId::from("user-42"), recorded() + TimeDelta::hours(4), ErasureReason::Request).unwrap();
    let out = export(&mut open(), &SubjectId::from("user-42"), at, &sources).unwrap();
    assert!(out.consent_history.is_empty() && out.consent_state.is_empty());
    assert_eq!(out.erasures.len(), 1);
    assert_eq!(out.rights_requests.len(), 2);
    assert_eq!(out.answers.len(), 1, "the erasure of consent records keeps the audit's answers");
    assert_no_internal_id(&out.to_json().unwrap(), &pseudonyms());
    // The replica opened before the erasure catches up with it.
    assert_eq!(replica.export(&SubjectId::from("user-42"), at, &sources).unwrap(), out);

    later_events_export_alike(&mut store, &mut replica, &sources);
    // A replica opened from a checkpoint (a store that keeps none, a
    // sealed one, replays the log) exports alike too.
    let _ = replica.checkpoint();
    let mut reopened = Replica::open(open()).unwrap();
    let at = (recorded() + TimeDelta::hours(6)).fixed_offset();
    let out = export(&mut open(), &SubjectId::from("user-42"), at, &sources).unwrap();
    assert_eq!(reopened.export(&SubjectId::from("user-42"), at, &sources).unwrap(), out);
}

/// The rights answer of the audit log, as exported: the right, the times,
/// the outcome, each item, the duties and the deadline with its calendar.
fn answer_exported(out: &privacy_engine::Export, answer: &privacy_engine::RightsAnswer) {
    let [exported] = out.answers.as_slice() else { panic!("one answer expected: {:?}", out.answers) };
    assert_eq!(exported.right, deletion().right);
    assert_eq!((exported.received, exported.answered), (deletion().received, deletion().at));
    assert_eq!(exported.outcome, AnswerOutcome::PartlyAccepted);
    assert_eq!(exported.outcome, answer.outcome);
    let items: Vec<(&str, ItemOutcomeKind, Option<LimitGround>)> =
        exported.items.iter().map(|i| (i.category.as_str(), i.outcome, i.ground)).collect();
    assert_eq!(
        items,
        [
            ("user.contact.phone_number", ItemOutcomeKind::Accepted, None),
            ("user.financial.transaction", ItemOutcomeKind::Restricted, Some(LimitGround::StatutoryRetention))
        ]
    );
    assert!(exported.items[1].delete_on.is_some() && exported.items[0].delete_on.is_none());
    assert_eq!(exported.duties, answer.duties);
    assert!(exported.duties.contains(&RightsDuty::RestrictToStorage));
    assert_eq!(exported.deadline, answer.deadline);
    assert!(exported.deadline.is_some() && exported.deadline_error.is_none());
    assert_eq!(exported.policy_version, "2021-08-20");
}

/// Events after the erasure, of every kind an export shows (a permission
/// switch, a grant with an expiry and a revocation, at an offset other
/// than UTC): the export over a replica (which reads them from its
/// ledger) is the export from the log, history, erasure and state.
fn later_events_export_alike<L: DurableLog + CaseStore>(
    store: &mut L,
    replica: &mut Replica<L>,
    sources: &privacy_engine::ExportSources<'_>,
) {
    let china = chrono::FixedOffset::east_opt(8 * 3600).unwrap();
    let later = |n: u128, minutes: i64, change: ConsentChange| {
        let at = (recorded() + TimeDelta::hours(4) + TimeDelta::minutes(minutes)).with_timezone(&china);
        ConsentEvent::new(Uuid::from_u128(0xE100 + n), at, "user-42", "seed-004", "2021-08-20", change)
    };
    let expires = Some((recorded() + TimeDelta::days(30)).with_timezone(&china));
    let events = [
        later(1, 1, ConsentChange::PermissionOn { permission: Permission::Camera }),
        later(2, 2, ConsentChange::Grant { qualities: ConsentQualities::explicit(), scope: face(), expires }),
        later(3, 3, ConsentChange::Revoke { scope: face() }),
        later(4, 4, ConsentChange::Grant { qualities: ConsentQualities::explicit(), scope: face(), expires: None }),
    ];
    store.append(&events, recorded() + TimeDelta::hours(5)).unwrap();
    let at = (recorded() + TimeDelta::hours(6)).fixed_offset();
    let subject = SubjectId::from("user-42");
    let out = export(store, &subject, at, sources).unwrap();
    assert_eq!(
        out.consent_history.iter().map(|c| c.change).collect::<Vec<_>>(),
        ["permission_on", "grant", "revoke", "grant"]
    );
    assert_eq!(out.consent_history[1].at.offset(), &china);
    assert_eq!(out.erasures.len(), 1);
    assert_eq!(out.consent_state.len(), 1);
    assert_eq!(replica.export(&subject, at, sources).unwrap(), out);
}

/// No UUID (event, case, audit entry, receipt), no `"seq"`, no pseudonym
/// in `json`.
fn assert_no_internal_id(json: &str, pseudonyms: &Pseudonymiser) {
    let bytes = json.as_bytes();
    let uuid_like = bytes.windows(36).any(|w| {
        w.iter().enumerate().all(|(i, b)| if [8, 13, 18, 23].contains(&i) { *b == b'-' } else { b.is_ascii_hexdigit() })
    });
    assert!(!uuid_like, "a UUID in the export: {json}");
    assert!(!json.contains("\"seq\"") && !json.contains("\"id\": \"0000"), "{json}");
    let pseudonym = pseudonyms.pseudonymise(&PseudonymDomain::Records, "user-42").to_string();
    assert!(!json.contains(&pseudonym), "{json}");
    let hex = pseudonym.split(':').next_back().unwrap();
    assert!(!json.contains(hex), "{json}");
    assert!(!json.contains("someone-else"), "{json}");
}

use privacy_engine::CaseState;
