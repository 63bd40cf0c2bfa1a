//! Every rule of seed 004 is exercised: a table of requests, one or more per
//! consent requirement, action rule, exception, minors rule and retention
//! rule, each asserting the rule's id among the decision's reasons with the
//! expected effect; and one request per purpose. The ids covered are then
//! compared with every id the policy declares.

use std::collections::BTreeSet;

use privacy_engine::{
    Action, ConsentQualities as Q, Effect, Engine, Evidence as Ev, Ground as G, InMemoryLedger, Request, Verdict,
};
use serde_json::json;

use crate::{Ledger, aged, claiming, engine, engine_from, keys, req, seed_value, t};

const PHONE: &str = "user.contact.phone_number";
const USERNAME: &str = "user.account.username";
const ADDRESS: &str = "user.contact.address";

/// One row of the table.
struct Case {
    rule: &'static str,
    effect: Effect,
    verdict: Verdict,
    request: Request,
    ledger: Ledger,
    /// Evaluate against seed 004 with a transfer mechanism for the overseas
    /// entity.
    mechanism: bool,
}

fn case(rule: &'static str, effect: Effect, verdict: Verdict, request: Request) -> Case {
    Case { rule, effect, verdict, request, ledger: Ledger::new(), mechanism: false }
}

fn permit(rule: &'static str, request: Request) -> Case {
    case(rule, Effect::Permit, Verdict::Permit, request)
}

impl Case {
    fn granting(mut self, q: Q, purpose: &str, cats: &[&str], recipient: Option<&str>) -> Self {
        let subject = self.request.subject.id.as_str().to_owned();
        self.ledger.grant(&subject, "2024-05-01T00:00:00+08:00", q, purpose, cats, recipient);
        self
    }

    fn abroad(mut self) -> Self {
        self.mechanism = true;
        self
    }
}

fn mechanism_engine() -> Engine {
    let mut v = seed_value();
    let r = v["recipients"].as_array_mut().unwrap().iter_mut().find(|r| r["id"] == "partner.overseas_entity").unwrap();
    r["agreements"].as_array_mut().unwrap().push(json!("cac_standard_contract"));
    engine_from(&v)
}

fn use_(cats: &[&str], purpose: &str) -> Request {
    req(Action::Use, cats, purpose)
}

/// The request with no purpose: processing on an exception ground alone.
fn on_ground(mut r: Request) -> Request {
    r.purpose = None;
    r
}

fn collect_phone() -> Request {
    req(Action::Collect, &[PHONE], "registration_login")
}

fn to_logistics() -> Request {
    req(Action::Share, &[PHONE], "payment_delivery").recipient("partner.logistics")
}

fn to_authority(action: Action) -> Request {
    let r = req(action, &[PHONE], "legal_compliance");
    match action {
        Action::Disclose => r.recipient("public.general"),
        _ => r.recipient("authority.law_enforcement"),
    }
}

fn to_acquirer() -> Request {
    req(Action::Transfer, &[USERNAME], "registration_login").recipient("acquirer.successor")
}

fn overseas() -> Request {
    req(Action::CrossBorder, &[ADDRESS], "ordering").recipient("partner.overseas_entity")
}

fn minor(age: u8, real_name: bool, cats: &[&str], purpose: &str) -> Request {
    Request::new(Action::Collect, aged("kid", age).real_name_verified(real_name), keys(cats), t(crate::AT))
        .purpose(purpose)
}

fn retention(action: Action, cat: &str, f: impl FnOnce(&mut Request)) -> Request {
    let mut r = Request::new(action, crate::adult("alice"), keys(&[cat]), t(crate::AT));
    f(&mut r);
    r
}

fn guardian() -> Q {
    Q::separate() | Q::GUARDIAN
}

fn cases() -> Vec<Case> {
    use Effect::{Deny as D, Note as N};
    let face = "user.biometric.face";
    vec![
        // Consent requirements.
        permit("004.consent.face", use_(&[face], "face_verification")).granting(
            Q::separate(),
            "face_verification",
            &[face],
            None,
        ),
        permit("004.consent.contacts", use_(&["user.contacts.address_book"], "identity_confirmation_contacts"))
            .granting(Q::separate(), "identity_confirmation_contacts", &["user.contacts"], None),
        permit("004.consent.location", use_(&["user.location.precise"], "payment_location_service")).granting(
            Q::separate(),
            "payment_location_service",
            &["user.location.precise"],
            None,
        ),
        permit("004.consent.permissions", use_(&["user.content.media"], "camera_listing")).granting(
            Q::affirmative(),
            "camera_listing",
            &["user.content.media"],
            None,
        ),
        permit("004.consent.account_binding", use_(&["user.account.nickname"], "account_binding")).granting(
            Q::affirmative(),
            "account_binding",
            &["user.account"],
            None,
        ),
        permit(
            "004.consent.de_identified_analytics",
            use_(&["user.behavior.click_history"], "de_identified_analytics"),
        )
        .granting(Q::affirmative(), "de_identified_analytics", &["user.behavior.click_history"], None),
        permit("004.consent.statistics", use_(&["user.device.device_id"], "usage_statistics")).granting(
            Q::affirmative(),
            "usage_statistics",
            &["user.device"],
            None,
        ),
        permit("004.consent.legal_and_disclosure", use_(&[PHONE], "legal_compliance")).granting(
            Q::separate(),
            "legal_compliance",
            &[PHONE],
            None,
        ),
        permit(
            "004.consent.sensitive_share",
            req(Action::Share, &["user.financial.transaction"], "fraud_information_exchange")
                .recipient("partner.fraud_exchange"),
        )
        .granting(
            Q::separate(),
            "fraud_information_exchange",
            &["user.financial"],
            Some("partner.fraud_exchange"),
        ),
        // Action rules that appear among reasons.
        permit("004.share", to_logistics()),
        case(
            "004.share",
            D,
            Verdict::Deny,
            req(Action::Share, &[PHONE], "legal_compliance").recipient("public.general"),
        ),
        permit("004.entrust", {
            let mut r = req(Action::Entrust, &["user.behavior.click_history"], "de_identified_analytics")
                .recipient("processor.data_services");
            r.data_state = privacy_engine::DataState::DeIdentified;
            r
        })
        .granting(
            Q::explicit(),
            "de_identified_analytics",
            &["user.behavior"],
            Some("processor.data_services"),
        ),
        permit("004.transfer", to_acquirer()).granting(
            Q::explicit(),
            "registration_login",
            &[USERNAME],
            Some("acquirer.successor"),
        ),
        permit("004.cross_border", overseas())
            .granting(Q::separate(), "ordering", &[ADDRESS], Some("partner.overseas_entity"))
            .abroad(),
        case("004.cross_border", D, Verdict::Deny, overseas()),
        permit(
            "004.disclose",
            req(Action::Disclose, &[PHONE], "subject_requested_disclosure").recipient("public.general"),
        )
        .granting(Q::separate(), "subject_requested_disclosure", &[PHONE], None),
        // The duties of collect and use come from their action rules.
        case("004.collect", N, Verdict::Permit, collect_phone()),
        case("004.use", N, Verdict::Permit, use_(&[PHONE], "registration_login")),
        // Deleting or anonymising data no retention minimum holds.
        permit("004.delete", retention(Action::Delete, PHONE, |_| {})),
        permit("004.anonymise", retention(Action::Anonymise, PHONE, |_| {})),
        // Collection exceptions (§1.2 item 11).
        permit("004.collect.exc.1", claiming(collect_phone(), G::NationalSecurity, &[])),
        permit("004.collect.exc.2", claiming(collect_phone(), G::PublicInterest, &[Ev::MajorPublicInterest])),
        // 004 §1.2 item 11(2): public health is a ground of its own, and
        // the ground is the basis: no purpose is named.
        permit("004.collect.exc.2.health", claiming(on_ground(collect_phone()), G::PublicHealth, &[])),
        case(
            "004.collect.exc.2",
            N,
            Verdict::Permit,
            // Without the evidence the exception is only noted; the core
            // purpose still permits.
            claiming(collect_phone(), G::PublicInterest, &[]),
        ),
        permit("004.collect.exc.3", claiming(collect_phone(), G::CriminalProceedings, &[])),
        permit("004.collect.exc.4", claiming(collect_phone(), G::VitalInterests, &[Ev::ConsentHardToObtain])),
        permit("004.collect.exc.5", claiming(collect_phone(), G::SelfPublished, &[])),
        permit("004.collect.exc.6", claiming(collect_phone(), G::LawfullyPublicSource, &[])),
        permit("004.collect.exc.7", claiming(collect_phone(), G::Contract, &[Ev::SubjectRequested])),
        permit("004.collect.exc.8", claiming(collect_phone(), G::ServiceSecurity, &[])),
        permit("004.collect.exc.9", claiming(collect_phone(), G::NewsReporting, &[])),
        permit("004.collect.exc.10", claiming(collect_phone(), G::AcademicResearch, &[Ev::ResultsDeIdentified])),
        permit("004.collect.exc.11", claiming(collect_phone(), G::Law, &[])),
        // Use exception.
        permit("004.use.exc.law", claiming(use_(&[PHONE], "legal_compliance"), G::Law, &[])),
        // Sharing exceptions (§3.1).
        permit(
            "004.share.exc.2",
            claiming(
                req(Action::Share, &[PHONE], "registration_login").recipient("affiliate.group"),
                G::AffiliateNecessity,
                &[],
            ),
        ),
        permit("004.share.exc.4", claiming(to_logistics(), G::Agreement, &[])),
        permit(
            "004.share.exc.5",
            claiming(
                req(Action::Share, &[USERNAME], "fraud_information_exchange").recipient("partner.fraud_exchange"),
                G::ProtectRights,
                &[Ev::NotForProfit],
            ),
        ),
        permit("004.share.exc.5.law", claiming(to_logistics(), G::Law, &[])),
        permit("004.share.exc.6", claiming(to_logistics(), G::SubjectRequest, &[Ev::SubjectRequested])),
        permit("004.share.exc.7", claiming(to_logistics(), G::GuardianRequest, &[Ev::GuardianRequested])),
        // 004 §3.1 item 7: the guardian's own request, with the data going
        // to the guardian, on the ground alone (no purpose).
        permit(
            "004.share.exc.7",
            claiming(
                on_ground(req(Action::Share, &[PHONE], "")).recipient("subject.self_or_guardian"),
                G::GuardianRequest,
                &[Ev::GuardianRequested],
            ),
        ),
        permit("004.share.exc.9", claiming(to_logistics(), G::AcademicResearch, &[Ev::ResultsDeIdentified])),
        permit("004.share.exc.10", claiming(to_logistics(), G::PublicInterest, &[Ev::MajorPublicInterest])),
        permit(
            "004.share.exc.authority",
            claiming(to_authority(Action::Share), G::AuthorityRequest, &[Ev::LegalDocuments]),
        ),
        // Transfer exceptions (§3.2).
        permit("004.transfer.exc.2.law", claiming(to_acquirer(), G::Law, &[])),
        permit(
            "004.transfer.exc.2.authority",
            claiming(to_authority(Action::Transfer), G::AuthorityRequest, &[Ev::LegalDocuments]),
        ),
        permit("004.transfer.exc.3", claiming(to_acquirer(), G::Agreement, &[])),
        permit("004.transfer.exc.4", claiming(to_acquirer(), G::Merger, &[Ev::NewHolderBound])),
        // Cross-border exceptions (§4.2), with a mechanism in place.
        permit("004.cross_border.exc.1", claiming(overseas(), G::Law, &[])).abroad(),
        permit("004.cross_border.exc.3", claiming(overseas(), G::Contract, &[])).abroad(),
        // Disclosure exceptions (§3.3 item 2).
        permit(
            "004.disclose.exc.2.authority",
            claiming(to_authority(Action::Disclose), G::AuthorityRequest, &[Ev::LegalDocuments]),
        ),
        permit("004.disclose.exc.2.law", claiming(to_authority(Action::Disclose), G::Law, &[Ev::LegalDocuments])),
        case("004.disclose.exc.2.law", N, Verdict::Deny, claiming(to_authority(Action::Disclose), G::Law, &[])),
        // Minors (§6, §1.2.2).
        permit("004.minors", minor(12, false, &[PHONE], "registration_login")).granting(
            guardian(),
            "registration_login",
            &[PHONE],
            None,
        ),
        case("004.minors.child_guidance", N, Verdict::Permit, minor(12, false, &[PHONE], "registration_login"))
            .granting(guardian(), "registration_login", &[PHONE], None),
        permit("004.minors.guardian_consent", minor(16, false, &[PHONE], "registration_login")).granting(
            guardian(),
            "registration_login",
            &[PHONE],
            None,
        ),
        case(
            "004.minors.no_transactions",
            D,
            Verdict::Deny,
            minor(16, true, &["user.financial.transaction"], "ordering"),
        )
        .granting(guardian(), "ordering", &["user.financial.transaction"], None),
        // Retention (§4.1, §5.3, §1.2.2).
        permit(
            "004.retention.transaction",
            retention(Action::Delete, "user.financial.transaction", |r| {
                r.events.transaction_completed = Some(t("2021-05-19T10:00:00+08:00"));
            }),
        ),
        case(
            "004.retention.transaction",
            D,
            Verdict::Deny,
            retention(Action::Delete, "user.financial.transaction", |r| {
                r.events.transaction_completed = Some(t("2021-05-20T10:00:00+08:00"));
            }),
        ),
        case(
            "004.retention.face",
            D,
            Verdict::Deny,
            retention(Action::Retain, "user.biometric.face", |r| {
                r.events.collected = Some(t("2024-05-19T23:59:59+08:00"));
            }),
        ),
        // 004 §1.2.2: the platform keeps no face data, so not even until
        // the end of the day it was collected (issue 14), nor when the
        // collection time is not given.
        case(
            "004.retention.face",
            D,
            Verdict::Deny,
            retention(Action::Retain, "user.biometric.face", |r| {
                r.events.collected = Some(t("2024-05-20T00:00:00+08:00"));
            }),
        ),
        case("004.retention.face", D, Verdict::Deny, retention(Action::Retain, "user.biometric.face", |_| {})),
        case(
            "004.retention.account",
            D,
            Verdict::Deny,
            retention(Action::Retain, PHONE, |r| {
                r.events.account_cancelled = Some(t("2024-05-19T10:00:00+08:00"));
            }),
        ),
        case(
            "004.retention.purpose",
            D,
            Verdict::Deny,
            retention(Action::Retain, "user.device.device_id", |r| {
                r.events.purpose_fulfilled = Some(t("2024-05-01T10:00:00+08:00"));
            }),
        ),
        permit(
            "004.retention.purpose",
            retention(Action::Delete, "user.location.precise", |r| {
                r.events.purpose_fulfilled = Some(t("2024-05-01T10:00:00+08:00"));
            }),
        ),
    ]
}

/// Runs the table; returns the ids seen with their expected effect.
fn run_cases() -> BTreeSet<String> {
    let abroad = mechanism_engine();
    let mut covered = BTreeSet::new();
    let mut failures = Vec::new();
    for mut c in cases() {
        c.ledger.permissions_on("alice");
        let e: &Engine = if c.mechanism { &abroad } else { engine() };
        let d = e.evaluate(&c.request, &c.ledger.ledger);
        let found = d.reasons.iter().any(|r| r.rule.as_str() == c.rule && r.effect == c.effect);
        if found && d.verdict == c.verdict {
            covered.insert(c.rule.to_owned());
        } else {
            failures.push(format!("[{}] expected {:?} with verdict {:?}, got\n{d}", c.rule, c.effect, c.verdict));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    covered
}

/// Every rule id seed 004 declares (purposes apart).
fn declared_rule_ids() -> BTreeSet<String> {
    let p = engine().policy();
    let mut ids = BTreeSet::new();
    ids.extend(p.consent_requirements.iter().map(|r| r.id.to_string()));
    for a in &p.actions {
        ids.insert(a.id.to_string());
        ids.extend(a.exceptions.iter().map(|e| e.id.to_string()));
    }
    if let Some(m) = &p.minors {
        ids.insert(m.id.to_string());
        ids.extend(m.rules.iter().map(|r| r.id.to_string()));
    }
    ids.extend(p.retention.iter().map(|r| r.id.to_string()));
    ids
}

/// Action rules whose id never appears among a decision's reasons: retain
/// takes its reasons from the retention rules.
const ACTION_RULES_WITHOUT_REASONS: [&str; 1] = ["004.retain"];

#[test]
fn every_table_row_decides_as_expected() {
    run_cases();
}

#[test]
fn the_table_covers_every_rule_but_the_known_gaps() {
    let covered = run_cases();
    let declared = declared_rule_ids();
    let gaps: BTreeSet<String> = ACTION_RULES_WITHOUT_REASONS.iter().map(|s| (*s).to_owned()).collect();
    let missing: Vec<&String> = declared.iter().filter(|id| !covered.contains(*id) && !gaps.contains(*id)).collect();
    assert!(missing.is_empty(), "rules not exercised: {missing:?}");
    let stray: Vec<&String> = covered.iter().filter(|id| !declared.contains(*id)).collect();
    assert!(stray.is_empty(), "table names undeclared rules: {stray:?}");
    assert!(gaps.iter().all(|g| declared.contains(g)));
}

#[test]
fn every_rule_id_but_retain_appears_among_some_decisions_reasons() {
    let mut covered = run_cases();
    covered.insert("004.retain".to_owned());
    assert_eq!(covered, declared_rule_ids());
}

#[test]
fn action_rules_without_reasons_are_still_exercised() {
    // Each of those actions decides under its rule: a permit of the action,
    // carrying the rule's duties where it has some.
    let l = InMemoryLedger::new();
    let reqs = [
        collect_phone(),
        use_(&[PHONE], "registration_login"),
        retention(Action::Retain, PHONE, |_| {}),
        retention(Action::Delete, PHONE, |_| {}),
        retention(Action::Anonymise, PHONE, |_| {}),
    ];
    for r in reqs {
        let d = engine().evaluate(&r, &l);
        assert_eq!(d.action, r.action);
        assert!(d.is_permit(), "{d}");
        if matches!(r.action, Action::Collect | Action::Use) {
            // 004.collect and 004.use carry the minimise duty.
            assert!(d.obligations.iter().any(|o| matches!(o, privacy_engine::Obligation::Minimise { .. })), "{d}");
        }
    }
}

#[test]
fn items_4_and_8_of_the_sharing_list_are_one_agreement_exception() {
    let d = engine().evaluate(&claiming(to_logistics(), G::Agreement, &[]), &InMemoryLedger::new());
    assert!(d.is_permit(), "{d}");
    crate::assert_reason(&d, "004.share.exc.4", Effect::Permit);
    assert!(
        engine().policy().diagnostics().iter().all(|w| w.code != privacy_engine::DiagnosticCode::ShadowedException)
    );
}

/// Every purpose of seed 004, with a personal category it declares and
/// whether it is core (from the document).
const PURPOSES: [(&str, &str, bool); 34] = [
    ("registration_login", PHONE, true),
    ("one_click_login", "user.device.phone_state", false),
    ("account_binding", USERNAME, false),
    ("real_name_verification", "user.government_id", true),
    ("face_verification", "user.biometric.face", false),
    ("identity_determination", "user.government_id", false),
    ("service_logs", "user.log.access", true),
    ("device_information", "user.device.app_list", true),
    ("identity_confirmation_contacts", "user.contacts.address_book", false),
    ("identity_confirmation_call_logs", "user.contacts.call_log", false),
    ("contact_via_address_book", "user.contacts.address_book", false),
    ("ordering", PHONE, true),
    ("order_management", "user.financial.transaction", true),
    ("payment_delivery", "user.financial.payment_account", true),
    ("customer_service", "user.content.communications", true),
    ("security_risk_control", USERNAME, true),
    ("fraud_information_exchange", USERNAME, false),
    ("de_identified_analytics", "user.behavior.click_history", false),
    ("camera_listing", "user.content.media", false),
    ("storage_media", "user.account.avatar", false),
    ("payment_risk_control", "user.device.device_id", true),
    ("payment_location_service", "user.location.precise", false),
    ("payment_sdk_camera", "user.content.media", false),
    ("payment_sdk_photos", "user.content.media", false),
    ("payment_sdk_microphone", "user.content.audio", false),
    ("payment_sdk_contacts", "user.contacts.address_book", false),
    ("qq_login_share", "user.device.device_id.imei", false),
    ("usage_statistics", "user.device.ip_address", false),
    ("traffic_anti_fraud", "user.location.imprecise", true),
    ("flutter_runtime_statistics", "user.device.device_id.imei", false),
    ("cookies_remember_identity", "user.device.cookie_id", true),
    ("cookies_usage_analysis", "user.log.service", false),
    ("legal_compliance", PHONE, false),
    ("subject_requested_disclosure", PHONE, false),
];

#[test]
fn every_purpose_is_exercised() {
    let mut permissions = Ledger::new();
    permissions.permissions_on("alice");
    let mut seen = BTreeSet::new();
    for (purpose, cat, core) in PURPOSES {
        let r = use_(&[cat], purpose);
        let d = engine().evaluate(&r, &permissions.ledger);
        if core {
            // A core purpose rests on the contract: permitted without consent,
            // the purpose id the deciding rule.
            assert!(d.is_permit(), "{purpose}: {d}");
            crate::assert_reason(&d, purpose, Effect::Permit);
        } else {
            // An optional one needs consent; a separate grant is enough for
            // every requirement seed 004 states.
            assert!(!d.is_permit(), "{purpose}: {d}");
            assert!(!crate::unmet_consents(&d).is_empty(), "{purpose}: {d}");
            let mut l = Ledger::new();
            l.permissions_on("alice");
            l.grant("alice", "2024-05-01T00:00:00+08:00", Q::separate(), purpose, &[cat], None);
            let d = engine().evaluate(&r, &l.ledger);
            assert!(d.is_permit(), "{purpose}: {d}");
            crate::assert_no_reason(&d, purpose);
        }
        seen.insert(purpose.to_owned());
    }
    let declared: BTreeSet<String> = engine().policy().purposes.iter().map(|p| p.id.to_string()).collect();
    assert_eq!(seen, declared);
    // And the basis matches the document.
    for (purpose, _, core) in PURPOSES {
        let p = engine().policy().purpose(&purpose.into()).unwrap();
        assert_eq!(p.basis == privacy_engine::PurposeBasis::Core, core, "{purpose}");
    }
}
