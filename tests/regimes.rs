//! Policy features for rule sets that are not PIPL's defaults: each one is
//! off by default (existing policies decide as before) and changes the
//! decision once a policy turns it on. The peer benchmark's rules
//! (`examples/policies/peer-bench.json`) use them all.
//!
//! Each test builds a small policy, sets the feature, and checks the
//! decision with and without it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, missing_docs)]

use chrono::{DateTime, FixedOffset};
use privacy_engine::{
    Action, CategoryKey, CompactLedger, ConsentChange, ConsentEvent, ConsentQualities, Decision, DiagnosticCode,
    Effect, Engine, InMemoryLedger, Obligation, Policy, Request, Scope, Subject, Unmet,
};
use serde_json::{Value, json};

/// A small policy: a core and an optional purpose, recipients of several
/// kinds at home and abroad, and a rule for every action the tests use.
fn base() -> Value {
    let all = json!(["user"]);
    let purposes = json!(["orders", "ads"]);
    let recipient = |id: &str, kind: &str, region: &str| {
        json!({"id": id, "kind": kind, "region": region, "categories": all, "purposes": purposes,
               "data_state": "identifiable"})
    };
    json!({
        "schema": 1, "id": "regimes", "version": "1", "effective": "2024-01-01T00:00:00+08:00", "language": "en",
        "notes": ["test policy"],
        "purposes": [
            {"id": "orders", "basis": "core", "categories": ["user.contact.address", "user.financial.payment_account"]},
            {"id": "ads", "basis": "optional", "categories": ["user.behavior.browsing_history", "user.device.device_id"]}
        ],
        "recipients": [
            recipient("self", "controller", "CN"),
            recipient("proc", "processor", "CN"),
            recipient("adv", "advertiser", "CN"),
            recipient("sdk", "sdk", "CN"),
            recipient("proc.eu", "processor", "EU")
        ],
        "actions": [
            {"id": "r.collect", "action": "collect"},
            {"id": "r.use", "action": "use"},
            {"id": "r.share", "action": "share", "consent": ["affirmative"], "core_purposes": true},
            {"id": "r.cross_border", "action": "cross_border", "consent": ["affirmative", "explicit", "separate"],
             "recipient_requires": ["transfer_mechanism"]},
            {"id": "r.disclose", "action": "disclose", "consent": ["affirmative", "explicit", "separate"]},
            {"id": "r.delete", "action": "delete"}
        ]
    })
}

fn load(v: &Value) -> Result<Policy, privacy_engine::Error> {
    Policy::from_json(&serde_json::to_string(v).unwrap())
}

fn engine(v: &Value) -> Engine {
    Engine::new(load(v).unwrap()).unwrap()
}

/// The error codes and paths a document fails with.
fn errors(v: &Value) -> Vec<(DiagnosticCode, String)> {
    let err = load(v).unwrap_err();
    err.diagnostics().iter().map(|d| (d.code, d.path.clone())).collect()
}

fn t(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).unwrap()
}

const AT: &str = "2024-05-20T10:00:00+08:00";

fn req(action: Action, cat: &str, purpose: &str, age: u8) -> Request {
    Request::new(action, Subject::new("u").age(age), vec![CategoryKey::new(cat).unwrap()], t(AT)).purpose(purpose)
}

fn grant(n: u128, purpose: &str, cat: &str, qualities: ConsentQualities) -> ConsentEvent {
    let scope = Scope::new(vec![purpose.into()], vec![CategoryKey::new(cat).unwrap()]);
    let change = ConsentChange::Grant { qualities, scope, expires: None };
    ConsentEvent::new(uuid::Uuid::from_u128(n), t("2024-01-01T00:00:00+08:00"), "u", "regimes", "1", change)
}

/// Both ledgers with the same events.
fn ledgers(events: &[ConsentEvent]) -> (InMemoryLedger, CompactLedger) {
    let mut a = InMemoryLedger::new();
    a.extend(events.iter().cloned()).unwrap();
    let mut b = CompactLedger::new();
    b.extend(events.iter().cloned()).unwrap();
    (a, b)
}

/// Decides with both ledgers, checks they agree, and gives the decision.
fn decide(engine: &Engine, request: &Request, events: &[ConsentEvent]) -> Decision {
    let (a, b) = ledgers(events);
    let d = engine.evaluate(request, &a);
    assert_eq!(d, engine.evaluate(request, &b), "the ledgers disagree");
    d
}

fn denied_by(d: &Decision) -> Vec<&str> {
    d.reasons.iter().filter(|r| r.effect == Effect::Deny).map(|r| r.rule.as_str()).collect()
}

// --- The controller as a recipient -----------------------------------------

#[test]
fn the_controller_is_a_recipient_kind() {
    let mut v = base();
    v["actions"][2]["recipient_requires"] = json!(["confidentiality"]);
    let e = engine(&v);
    // It signs no agreement with itself: the confidentiality requirement is
    // asked of the processor, not of the controller.
    let to_self = req(Action::Share, "user.contact.address", "orders", 30).recipient("self");
    assert!(decide(&e, &to_self, &[]).is_permit());
    let to_processor = req(Action::Share, "user.contact.address", "orders", 30).recipient("proc");
    let d = decide(&e, &to_processor, &[]);
    assert!(!d.is_permit());
    assert!(d.unmet.contains(&Unmet::Agreement {
        recipient: "proc".into(),
        requirement: privacy_engine::RecipientRequirement::Confidentiality
    }));
}

#[test]
fn the_controller_is_never_told_to_delete() {
    let mut v = base();
    v["retention"] = json!([{"id": "keep", "trigger": "collected", "end_action": "delete", "notify_recipients": true}]);
    let e = engine(&v);
    let mut delete = req(Action::Delete, "user.contact.address", "orders", 30);
    delete.events.collected = Some(t("2024-01-01T00:00:00+08:00"));
    let d = decide(&e, &delete, &[]);
    assert!(d.is_permit());
    let told: Vec<_> = d
        .obligations
        .iter()
        .find_map(|o| match o {
            Obligation::NotifyRecipients { recipients } => {
                Some(recipients.iter().map(|r| r.as_str()).collect::<Vec<_>>())
            }
            _ => None,
        })
        .unwrap();
    assert_eq!(told, vec!["adv", "proc", "proc.eu", "sdk"]);
}

// --- A deadline set outside the policy -------------------------------------

#[test]
fn deleting_before_retain_until_is_denied_to_the_second() {
    let e = engine(&base());
    let mut delete = req(Action::Delete, "user.contact.address", "orders", 30);
    assert!(decide(&e, &delete, &[]).is_permit());
    // One second after the request: denied until then.
    delete.events.retain_until = Some(t("2024-05-20T10:00:01+08:00"));
    let d = decide(&e, &delete, &[]);
    assert!(!d.is_permit());
    assert_eq!(denied_by(&d), vec!["builtin.retain_until"]);
    assert_eq!(d.unmet, vec![Unmet::NotBefore { at: t("2024-05-20T10:00:01+08:00") }]);
    // At the deadline itself: permitted.
    delete.events.retain_until = Some(t(AT));
    assert!(decide(&e, &delete, &[]).is_permit());
    let mut anonymise = req(Action::Anonymise, "user.contact.address", "orders", 30);
    anonymise.events.retain_until = Some(t("2025-01-01T00:00:00+08:00"));
    let mut v = base();
    v["actions"].as_array_mut().unwrap().push(json!({"id": "r.anonymise", "action": "anonymise"}));
    assert_eq!(denied_by(&decide(&engine(&v), &anonymise, &[])), vec!["builtin.retain_until"]);
}

#[test]
fn the_planner_skips_records_kept_until_a_deadline() {
    let mut v = base();
    v["retention"] = json!([{"id": "max", "trigger": "collected", "maximum": "P30D", "end_action": "delete"}]);
    let e = engine(&v);
    let mut record = privacy_engine::RetentionRecord::new("u", CategoryKey::new("user.contact.address").unwrap());
    record.events.collected = Some(t("2024-01-01T00:00:00+08:00"));
    let planner = privacy_engine::RetentionPlanner::new(&e);
    assert_eq!(planner.due(std::slice::from_ref(&record), t(AT)).len(), 1);
    record.events.retain_until = Some(t("2024-06-01T00:00:00+08:00"));
    assert!(planner.due(std::slice::from_ref(&record), t(AT)).is_empty());
}

// --- Actions the purpose table does not limit -------------------------------

#[test]
fn an_action_may_go_beyond_the_purposes_categories() {
    // `user.location.precise` is not among the categories of `orders`.
    let disclose = req(Action::Disclose, "user.location.precise", "orders", 30);
    let separate = [grant(1, "orders", "user.location.precise", ConsentQualities::separate())];
    let d = decide(&engine(&base()), &disclose, &separate);
    assert_eq!(denied_by(&d), vec!["builtin.category_not_in_purpose"]);
    let mut v = base();
    v["actions"][4]["within_purpose"] = json!(false);
    let e = engine(&v);
    assert!(decide(&e, &disclose, &separate).is_permit());
    // Consent is still needed.
    assert_eq!(denied_by(&decide(&e, &disclose, &[])), vec!["r.disclose"]);
    // Other actions keep the limit.
    let collect = req(Action::Collect, "user.location.precise", "orders", 30);
    assert_eq!(denied_by(&decide(&e, &collect, &[])), vec!["builtin.category_not_in_purpose"]);
    // Written out, the default is left out.
    let text = serde_json::to_string(&load(&base()).unwrap()).unwrap();
    assert!(!text.contains("within_purpose"));
}

// --- Where the data comes from ----------------------------------------------

fn from_region(region: &str) -> Request {
    let mut r = req(Action::Share, "user.contact.address", "orders", 30).recipient("proc.eu");
    r.subject.region = Some(region.to_owned());
    r
}

#[test]
fn with_subject_region_origin_only_exports_from_home_are_cross_border() {
    let e = engine(&base());
    // By default every destination abroad is cross-border, whoever the subject.
    assert_eq!(denied_by(&decide(&e, &from_region("EU"), &[])), vec!["builtin.cross_border_required"]);
    let mut v = base();
    v["settings"] = json!({"cross_border_origin": "subject_region"});
    let e = engine(&v);
    // A subject in the EU whose data goes to the EU: no export from CN.
    assert!(decide(&e, &from_region("EU"), &[]).is_permit());
    assert!(decide(&e, &from_region("US"), &[]).is_permit());
    // A subject in CN, or one who states no region: an export.
    assert_eq!(denied_by(&decide(&e, &from_region("CN"), &[])), vec!["builtin.cross_border_required"]);
    let mut unstated = from_region("CN");
    unstated.subject.region = None;
    assert_eq!(denied_by(&decide(&e, &unstated, &[]))[0], "builtin.cross_border_required");
    // A cross-border request for a subject elsewhere is not one.
    let mut transfer = from_region("EU");
    transfer.action = Action::CrossBorder;
    assert!(denied_by(&decide(&e, &transfer, &[])).contains(&"builtin.not_cross_border"));
}

#[test]
fn a_cross_border_rule_may_permit_a_transfer_that_stays_at_home() {
    let mut home = req(Action::CrossBorder, "user.contact.address", "orders", 30).recipient("proc");
    let d = decide(&engine(&base()), &home, &[]);
    assert!(denied_by(&d).contains(&"builtin.not_cross_border"));
    let mut v = base();
    v["actions"][3]["domestic"] = json!("permit");
    let e = engine(&v);
    // At home: permitted without consent or transfer mechanism.
    let d = decide(&e, &home, &[]);
    assert!(d.is_permit(), "{d}");
    assert!(!d.obligations.iter().any(|o| matches!(o, Obligation::TransferMechanism { .. })));
    // Abroad: the rule's consent and mechanism are still needed.
    home.recipient = Some("proc.eu".into());
    let d = decide(&e, &home, &[]);
    assert_eq!(denied_by(&d), vec!["r.cross_border", "r.cross_border"]);
}

#[test]
fn a_domestic_cross_border_denial_lists_a_minors_deny_rule_too() {
    let mut v = base();
    v["actions"][3]["domestic"] = json!("permit");
    v["actions"][3]["recipient_requires"] = json!(["transfer_mechanism", "confidentiality"]);
    v["minors"] = json!({"id": "minors", "guardian_consent_below": 1, "guardian_qualities": [],
                         "rules": [{"id": "minors.no_transfers", "below_age": 18, "effect": "deny"}]});
    let e = engine(&v);
    // At home, to a processor without a confidentiality agreement, for a
    // 16-year-old: both the agreement and the minors rule deny, and the
    // decision says so, as it does for a transfer abroad.
    let at_home = req(Action::CrossBorder, "user.contact.address", "orders", 16).recipient("proc");
    let d = decide(&e, &at_home, &[]);
    assert_eq!(denied_by(&d), vec!["minors.no_transfers", "r.cross_border"]);
    assert!(d.not_liftable && d.unmet.is_empty(), "{d}");
    let mut abroad = at_home.clone();
    abroad.recipient = Some("proc.eu".into());
    let d = decide(&e, &abroad, &[]);
    assert!(denied_by(&d).contains(&"minors.no_transfers"));
    assert!(d.not_liftable && d.unmet.is_empty(), "{d}");
}

// --- Which recipients must have the agreements -----------------------------

#[test]
fn agreements_may_be_asked_of_some_kinds_only() {
    let mut v = base();
    v["actions"][2]["recipient_requires"] = json!(["confidentiality"]);
    let share = |to: &str| req(Action::Share, "user.contact.address", "orders", 30).recipient(to);
    let e = engine(&v);
    assert_eq!(denied_by(&decide(&e, &share("adv"), &[])), vec!["r.share"]);
    v["actions"][2]["recipient_requires_kinds"] = json!(["processor"]);
    let e = engine(&v);
    assert!(decide(&e, &share("adv"), &[]).is_permit());
    assert!(decide(&e, &share("sdk"), &[]).is_permit());
    assert_eq!(denied_by(&decide(&e, &share("proc"), &[])), vec!["r.share"]);
    // Listed, the controller is asked too.
    v["actions"][2]["recipient_requires_kinds"] = json!(["controller"]);
    assert_eq!(denied_by(&decide(&engine(&v), &share("self"), &[])), vec!["r.share"]);
}

// --- Data states an action asks for -----------------------------------------

#[test]
fn an_action_may_ask_for_de_identified_data_by_purpose_or_recipient_kind() {
    let mut v = base();
    v["actions"][2]["data_states"] = json!([
        {"recipient_kinds": ["advertiser"], "at_least": "de_identified", "cites": "to advertisers"},
        {"purposes": ["ads"], "at_least": "de_identified"}
    ]);
    v["actions"][2]["exceptions"] = json!([{"id": "r.share.law", "ground": "law"}]);
    let e = engine(&v);
    let share = |to: &str, purpose: &str| req(Action::Share, "user.device.device_id", purpose, 30).recipient(to);
    let consent = [grant(1, "ads", "user.device.device_id", ConsentQualities::affirmative())];
    // Identifiable data for ads, or to an advertiser: denied, even on a ground.
    let d = decide(&e, &share("proc", "ads"), &consent);
    assert_eq!(denied_by(&d), vec!["r.share"]);
    assert_eq!(d.unmet, vec![Unmet::DataState { at_least: privacy_engine::DataState::DeIdentified }]);
    // An entry without cites: the reason cites the rule's clause.
    assert_eq!(d.reasons.iter().find(|r| r.effect == Effect::Deny).unwrap().cites, None);
    let mut cited = v.clone();
    cited["actions"][2]["cites"] = json!("share clause");
    let d = decide(&engine(&cited), &share("proc", "ads"), &consent);
    assert_eq!(d.reasons.iter().find(|r| r.effect == Effect::Deny).unwrap().cites.as_deref(), Some("share clause"));
    let mut on_ground = share("adv", "orders");
    on_ground.categories = vec![CategoryKey::new("user.contact.address").unwrap()];
    on_ground.exception = Some(privacy_engine::ClaimedException::new(privacy_engine::Ground::Law, vec![]));
    let d = decide(&e, &on_ground, &[]);
    assert_eq!(denied_by(&d), vec!["r.share"]);
    assert_eq!(d.reasons.iter().find(|r| r.effect == Effect::Deny).unwrap().cites.as_deref(), Some("to advertisers"));
    // De-identified: permitted; other purposes and kinds: as before.
    let mut de_identified = share("proc", "ads");
    de_identified.data_state = privacy_engine::DataState::DeIdentified;
    assert!(decide(&e, &de_identified, &consent).is_permit());
    let mut orders = share("proc", "orders");
    orders.categories = vec![CategoryKey::new("user.contact.address").unwrap()];
    assert!(decide(&e, &orders, &[]).is_permit());
    // Without the entries the same share is permitted.
    assert!(decide(&engine(&base()), &share("proc", "ads"), &consent).is_permit());
}

#[test]
fn a_data_state_rule_names_declared_purposes() {
    let mut v = base();
    v["actions"][2]["data_states"] = json!([{"purposes": ["ads", "nope"], "at_least": "de_identified"}]);
    assert_eq!(errors(&v), vec![(DiagnosticCode::UnknownPurpose, "/actions/2/data_states/0/purposes/1".to_owned())]);
    v["actions"][2]["data_states"][0]["colour"] = json!("red");
    assert_eq!(load(&v).unwrap_err().path(), Some("/actions/2/data_states/0/colour"));
}

// --- Requirements for some recipient kinds ----------------------------------

#[test]
fn a_requirement_may_apply_to_some_recipient_kinds_only() {
    let mut v = base();
    v["consent_requirements"] = json!([{"id": "req.ads_sdk", "actions": ["share"], "recipient_kinds": ["advertiser", "sdk"],
                                        "qualities": ["affirmative"]}]);
    let e = engine(&v);
    let share = |to: &str| req(Action::Share, "user.contact.address", "orders", 30).recipient(to);
    let consent = [grant(1, "orders", "user.contact.address", ConsentQualities::affirmative())];
    // A core purpose: the processor needs no consent, the advertiser does.
    assert!(decide(&e, &share("proc"), &[]).is_permit());
    let d = decide(&e, &share("adv"), &[]);
    assert_eq!(denied_by(&d), vec!["req.ads_sdk"]);
    assert!(decide(&e, &share("adv"), &consent).is_permit());
    assert_eq!(denied_by(&decide(&e, &share("sdk"), &[])), vec!["req.ads_sdk"]);
    // A request without a recipient matches no kind.
    v["consent_requirements"][0]["actions"] = json!(["collect", "share"]);
    assert!(decide(&engine(&v), &req(Action::Collect, "user.contact.address", "orders", 30), &[]).is_permit());
}

// --- One grant per requirement ----------------------------------------------

/// `ads` with browsing history (sensitive): the optional purpose's consent
/// and the separate consent for sensitive data.
fn per_requirement() -> Engine {
    let mut v = base();
    v["settings"] = json!({"consent_grants": "per_requirement"});
    v["consent_requirements"] =
        json!([{"id": "req.ads", "actions": ["collect"], "purposes": ["ads"], "qualities": ["affirmative"]}]);
    engine(&v)
}

const HISTORY: &str = "user.behavior.browsing_history";

#[test]
fn a_separate_consent_alone_answers_only_the_separate_requirement() {
    let collect = req(Action::Collect, HISTORY, "ads", 30);
    let separate = [grant(1, "ads", HISTORY, ConsentQualities::separate())];
    let mut v = base();
    v["consent_requirements"] =
        json!([{"id": "req.ads", "actions": ["collect"], "purposes": ["ads"], "qualities": ["affirmative"]}]);
    // Combined (the default): the separate grant has every quality needed.
    assert!(decide(&engine(&v), &collect, &separate).is_permit());
    // Per requirement: the purpose consent needs a grant of its own.
    let e = per_requirement();
    let d = decide(&e, &collect, &separate);
    assert_eq!(denied_by(&d), vec!["req.ads"]);
    assert_eq!(
        d.unmet,
        vec![Unmet::Consent {
            purpose: "ads".into(),
            categories: vec![CategoryKey::new(HISTORY).unwrap()],
            qualities: ConsentQualities::affirmative(),
            from: privacy_engine::ConsentFrom::Subject,
            recipient: None,
            rules: vec!["req.ads".into()],
        }]
    );
    let both = [separate[0].clone(), grant(2, "ads", HISTORY, ConsentQualities::affirmative())];
    assert!(decide(&e, &collect, &both).is_permit());
    // An ordinary grant alone: the separate requirement is unmet.
    let ordinary = [grant(2, "ads", HISTORY, ConsentQualities::affirmative())];
    let d = decide(&e, &collect, &ordinary);
    assert_eq!(denied_by(&d), vec!["builtin.sensitive_separate_consent"]);
}

#[test]
fn each_unmet_requirement_is_listed_on_its_own() {
    let d = decide(&per_requirement(), &req(Action::Collect, HISTORY, "ads", 30), &[]);
    let unmet: Vec<(ConsentQualities, Vec<String>)> = d
        .unmet
        .iter()
        .map(|u| match u {
            Unmet::Consent { qualities, rules, .. } => {
                (*qualities, rules.iter().map(|r| r.as_str().to_owned()).collect())
            }
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        unmet,
        vec![
            (ConsentQualities::affirmative(), vec!["req.ads".to_owned()]),
            (ConsentQualities::separate(), vec!["builtin.sensitive_separate_consent".to_owned()]),
        ]
    );
}

#[test]
fn a_guardians_consent_answers_only_the_guardian_requirement() {
    let e = per_requirement();
    let cat = "user.device.device_id";
    let child = req(Action::Collect, cat, "ads", 10);
    let guardian = grant(1, "ads", cat, ConsentQualities::separate() | ConsentQualities::GUARDIAN);
    let ordinary = grant(2, "ads", cat, ConsentQualities::affirmative());
    // A child's data is sensitive: purpose, separate and guardian consent.
    let separate = grant(3, "ads", cat, ConsentQualities::separate());
    assert_eq!(
        denied_by(&decide(&e, &child, std::slice::from_ref(&guardian))),
        vec!["builtin.sensitive_separate_consent", "req.ads"]
    );
    assert!(decide(&e, &child, &[guardian.clone(), ordinary.clone(), separate.clone()]).is_permit());
    assert_eq!(denied_by(&decide(&e, &child, &[ordinary, separate])), vec!["builtin.pipl_guardian_consent"]);
}

// --- Children's data ---------------------------------------------------------

#[test]
fn a_policy_may_leave_a_childs_data_at_its_sensitivity() {
    let cat = "user.device.device_id";
    let child = req(Action::Collect, cat, "ads", 10);
    let consents = [
        grant(1, "ads", cat, ConsentQualities::explicit()),
        grant(2, "ads", cat, ConsentQualities::AFFIRMATIVE | ConsentQualities::GUARDIAN),
    ];
    let mut v = base();
    v["minors"] = json!({"id": "minors", "guardian_consent_below": 1, "guardian_qualities": [],
                         "rules": [{"id": "minors.guardian", "below_age": 14, "effect": "guardian_consent"}]});
    v["settings"] = json!({"consent_grants": "per_requirement"});
    // By default a child's data is sensitive: separate consent is needed.
    assert_eq!(denied_by(&decide(&engine(&v), &child, &consents)), vec!["builtin.sensitive_separate_consent"]);
    v["settings"]["child_data_sensitive"] = json!(false);
    let e = engine(&v);
    let d = decide(&e, &child, &consents);
    assert!(d.is_permit(), "{d}");
    assert!(!d.obligations.contains(&Obligation::Encrypt));
    // The guardian's consent is still needed.
    assert_eq!(denied_by(&decide(&e, &child, &consents[..1])), vec!["minors.guardian"]);
}

// --- A policy's own taxonomy -------------------------------------------------

fn declared() -> Value {
    let mut v = base();
    v["settings"] = json!({"taxonomy": "declared"});
    v["categories"] = json!([
        {"key": "user"},
        {"key": "user.financial"},
        {"key": "user.financial.payment_account"},
        {"key": "user.financial.bank_account", "sensitivity": "sensitive"},
        {"key": "device", "sensitivity": "non_personal"}
    ]);
    v["purposes"] = json!([{"id": "orders", "basis": "core", "categories": ["user.financial"]},
                           {"id": "ads", "basis": "optional", "categories": ["user.financial", "device"]}]);
    v
}

#[test]
fn a_declared_taxonomy_holds_only_the_policys_categories() {
    let mut v = declared();
    let policy = load(&v).unwrap();
    let tax = policy.taxonomy();
    let keys: Vec<&str> = tax.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        vec!["device", "user", "user.financial", "user.financial.bank_account", "user.financial.payment_account"]
    );
    let sensitivity = |k: &str| tax.get(&CategoryKey::new(k).unwrap()).unwrap().sensitivity;
    // Lower than the built-in table, inherited, and personal at a root.
    assert_eq!(sensitivity("user.financial.payment_account"), privacy_engine::Sensitivity::Personal);
    assert_eq!(sensitivity("user.financial.bank_account"), privacy_engine::Sensitivity::Sensitive);
    assert_eq!(sensitivity("user"), privacy_engine::Sensitivity::Personal);
    // A non-sensitive payment account needs the purpose consent only.
    let e = engine(&v);
    let ordinary = [grant(1, "ads", "user.financial.payment_account", ConsentQualities::affirmative())];
    assert!(decide(&e, &req(Action::Collect, "user.financial.payment_account", "ads", 30), &ordinary).is_permit());
    // Built-in keys do not exist.
    let d = decide(&e, &req(Action::Collect, "user.contact.address", "orders", 30), &[]);
    assert_eq!(denied_by(&d), vec!["builtin.undeclared_category"]);
    // A non-root key still needs its parent.
    v["categories"].as_array_mut().unwrap().push(json!({"key": "user.order.item"}));
    assert_eq!(errors(&v), vec![(DiagnosticCode::UnknownParent, "/categories/5/key".to_owned())]);
}

#[test]
fn the_builtin_taxonomy_keeps_its_sensitivities() {
    let mut v = base();
    v["categories"] = json!([{"key": "user.financial.payment_account", "sensitivity": "personal"}, {"key": "device"}]);
    assert_eq!(
        errors(&v),
        vec![
            (DiagnosticCode::UnknownParent, "/categories/1/key".to_owned()),
            (DiagnosticCode::LoweredSensitivity, "/categories/0/sensitivity".to_owned()),
        ]
    );
}

// --- Providing to a recipient abroad under the rule itself -------------------

#[test]
fn a_share_rule_may_take_recipients_abroad() {
    let share = req(Action::Share, "user.contact.address", "orders", 30).recipient("proc.eu");
    assert_eq!(denied_by(&decide(&engine(&base()), &share, &[])), vec!["builtin.cross_border_required"]);
    let mut v = base();
    v["actions"][2]["allow_abroad"] = json!(true);
    let e = engine(&v);
    assert!(decide(&e, &share, &[]).is_permit());
    // The rule still decides: an optional purpose needs its consent.
    let mut ads = req(Action::Share, "user.device.device_id", "ads", 30).recipient("proc.eu");
    assert_eq!(denied_by(&decide(&e, &ads, &[])), vec!["r.share"]);
    ads.recipient = Some("proc".into());
    assert_eq!(denied_by(&decide(&e, &ads, &[])), vec!["r.share"]);
}

// --- Fields an action never reads -------------------------------------------

fn without_effect(path: &str) -> Vec<(DiagnosticCode, String)> {
    vec![(DiagnosticCode::FieldWithoutEffect, path.to_owned())]
}

#[test]
fn domestic_is_an_error_outside_the_cross_border_rule() {
    let mut v = base();
    v["actions"][2]["domestic"] = json!("permit");
    assert_eq!(errors(&v), without_effect("/actions/2/domestic"));
    let err = load(&v).unwrap_err();
    let d = &err.diagnostics()[0];
    assert_eq!(d.severity, privacy_engine::Severity::Error);
    assert_eq!(d.code.as_str(), "field-without-effect");
    assert_eq!(
        d.message,
        "field `domestic` of rule `r.share` has no effect on action `share`: it applies only to `cross_border`"
    );
}

#[test]
fn allow_abroad_is_an_error_on_the_cross_border_rule() {
    let mut v = base();
    v["actions"][3]["allow_abroad"] = json!(true);
    assert_eq!(errors(&v), without_effect("/actions/3/allow_abroad"));
    let err = load(&v).unwrap_err();
    assert!(err.diagnostics()[0].message.ends_with("it applies only to `share`, `entrust`, `transfer` and `disclose`"));
}

#[test]
fn within_purpose_false_is_an_error_on_a_retention_action() {
    let mut v = base();
    v["actions"][5]["within_purpose"] = json!(false);
    assert_eq!(errors(&v), without_effect("/actions/5/within_purpose"));
}

#[test]
fn recipient_requires_kinds_is_an_error_without_recipient_requires() {
    let mut v = base();
    v["actions"][2]["recipient_requires_kinds"] = json!(["processor"]);
    assert_eq!(errors(&v), without_effect("/actions/2/recipient_requires_kinds"));
    v["actions"][2]["recipient_requires"] = json!([]);
    assert_eq!(errors(&v), without_effect("/actions/2/recipient_requires_kinds"));
}

#[test]
fn data_states_is_an_error_on_a_retention_action() {
    let mut v = base();
    v["actions"][5]["data_states"] = json!([{"at_least": "de_identified"}]);
    assert_eq!(errors(&v), without_effect("/actions/5/data_states"));
}

#[test]
fn consent_core_purposes_and_agreements_are_errors_outside_the_providing_actions() {
    let mut v = base();
    v["actions"][0]["consent"] = json!(["affirmative"]);
    assert_eq!(errors(&v), without_effect("/actions/0/consent"));
    let err = load(&v).unwrap_err();
    assert_eq!(
        err.diagnostics()[0].message,
        "field `consent` of rule `r.collect` has no effect on action `collect`: it applies only to the providing \
         actions: `share`, `entrust`, `transfer`, `cross_border` and `disclose`"
    );
    let mut v = base();
    v["actions"][1]["core_purposes"] = json!(true);
    assert_eq!(errors(&v), without_effect("/actions/1/core_purposes"));
    let mut v = base();
    v["actions"][5]["recipient_requires"] = json!(["confidentiality"]);
    assert_eq!(errors(&v), without_effect("/actions/5/recipient_requires"));
}

#[test]
fn the_same_fields_load_where_they_have_effect() {
    let mut v = base();
    v["actions"][1]["data_states"] = json!([{"at_least": "de_identified"}]);
    v["actions"][1]["within_purpose"] = json!(false);
    v["actions"][2]["allow_abroad"] = json!(true);
    v["actions"][2]["recipient_requires"] = json!(["confidentiality"]);
    v["actions"][2]["recipient_requires_kinds"] = json!(["processor"]);
    v["actions"][2]["data_states"] = json!([{"recipient_kinds": ["advertiser"], "at_least": "de_identified"}]);
    v["actions"][3]["domestic"] = json!("permit");
    v["actions"][3]["within_purpose"] = json!(false);
    v["actions"][4]["allow_abroad"] = json!(true);
    v["actions"][4]["within_purpose"] = json!(false);
    v["actions"][4]["core_purposes"] = json!(true);
    v["actions"][4]["recipient_requires"] = json!(["confidentiality"]);
    let policy = load(&v).unwrap();
    assert!(policy.diagnostics().iter().all(|d| d.code != DiagnosticCode::FieldWithoutEffect));
}

#[test]
fn default_values_are_not_flagged_where_they_have_no_effect() {
    let mut v = base();
    v["actions"][2]["domestic"] = json!("deny");
    v["actions"][2]["recipient_requires_kinds"] = json!([]);
    v["actions"][3]["allow_abroad"] = json!(false);
    v["actions"][5]["within_purpose"] = json!(true);
    v["actions"][5]["data_states"] = json!([]);
    v["actions"][5]["allow_abroad"] = json!(false);
    v["actions"][5]["domestic"] = json!("deny");
    v["actions"][0]["core_purposes"] = json!(false);
    v["actions"][5]["recipient_requires"] = json!([]);
    let policy = load(&v).unwrap();
    assert!(policy.diagnostics().iter().all(|d| d.code != DiagnosticCode::FieldWithoutEffect));
}

/// The unacknowledged warnings of a document that loads, as codes and paths.
fn warnings(v: &Value) -> Vec<(DiagnosticCode, String)> {
    load(v).unwrap().unacknowledged_warnings().iter().map(|d| (d.code, d.path.clone())).collect()
}

#[test]
fn settings_that_widen_what_is_permitted_warn_and_can_be_acknowledged() {
    // Issue 13: each of these loaded without a word.
    let base_warnings = warnings(&base());
    let widening = |f: &dyn Fn(&mut Value), code: DiagnosticCode, path: &str| {
        let mut v = base();
        f(&mut v);
        let found = warnings(&v);
        let new: Vec<_> = found.iter().filter(|w| !base_warnings.contains(w)).cloned().collect();
        assert_eq!(new, vec![(code, path.to_owned())], "{found:?}");
        let message = load(&v).unwrap().diagnostics().into_iter().find(|d| d.code == code).unwrap().message;
        assert!(message.contains("PIPL art."), "{message}");
        // Acknowledged in the file like any other warning.
        v["acknowledged_warnings"] = json!([{"code": code.as_str(), "path": path, "reason": "reviewed"}]);
        assert!(!warnings(&v).contains(&(code, path.to_owned())));
    };
    widening(
        &|v| v["purposes"][0]["categories"] = json!(["user"]),
        DiagnosticCode::CoreCoversSensitive,
        "/purposes/0/categories/0",
    );
    widening(
        &|v| v["settings"] = json!({"unknown_age": "adult"}),
        DiagnosticCode::UnknownAgeAdult,
        "/settings/unknown_age",
    );
    widening(
        &|v| v["settings"] = json!({"child_data_sensitive": false}),
        DiagnosticCode::ChildDataNotSensitive,
        "/settings/child_data_sensitive",
    );
    widening(
        &|v| v["minors"] = json!({"id": "m", "guardian_consent_below": 1, "guardian_qualities": ["affirmative"]}),
        DiagnosticCode::LowGuardianAge,
        "/minors/guardian_consent_below",
    );
    // The share rule of `base` permits core purposes to anyone; asking an
    // agreement of every recipient silences it, of processors alone does not.
    let share = (DiagnosticCode::CoreProvidingWithoutAgreement, "/actions/2/recipient_requires".to_owned());
    assert!(base_warnings.contains(&share), "{base_warnings:?}");
    let mut v = base();
    v["actions"][2]["recipient_requires"] = json!(["confidentiality"]);
    assert!(!warnings(&v).contains(&share));
    v["actions"][2]["recipient_requires_kinds"] = json!(["processor"]);
    assert!(warnings(&v).contains(&share));
    // PIPL's own readings stay silent.
    let mut v = base();
    v["minors"] = json!({"id": "m", "guardian_consent_below": 14, "guardian_qualities": ["affirmative"]});
    v["settings"] = json!({"unknown_age": "minor", "child_data_sensitive": true});
    assert!(
        warnings(&v).iter().all(|(c, _)| !matches!(
            c,
            DiagnosticCode::UnknownAgeAdult | DiagnosticCode::ChildDataNotSensitive | DiagnosticCode::LowGuardianAge
        )),
        "{:?}",
        warnings(&v)
    );
}

#[test]
fn a_category_declared_twice_is_a_duplicate() {
    let mut v = base();
    v["categories"] = json!([
        {"key": "user.contact.pager", "sensitivity": "sensitive"},
        {"key": "user.contact.pager", "sensitivity": "personal"}
    ]);
    assert_eq!(errors(&v), vec![(DiagnosticCode::DuplicateId, "/categories/1/key".to_owned())]);
    let err = load(&v).unwrap_err();
    assert_eq!(
        err.diagnostics()[0].message,
        "category `user.contact.pager` is declared twice, first at `/categories/0`"
    );
}

#[test]
fn the_peer_policy_acknowledges_what_it_widens() {
    let policy = Policy::from_json(include_str!("../examples/policies/peer-bench.json")).unwrap();
    assert_eq!(policy.unacknowledged_warnings(), vec![]);
}
