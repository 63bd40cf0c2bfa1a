//! Properties of the engine's decisions.

use chrono::Duration;
use privacy_engine::{
    Action, CategoryKey, ConsentChange, ConsentEvent, ConsentFrom, ConsentQualities, Decision, Effect, Engine,
    InMemoryLedger, Policy, Request, Unmet, Verdict,
};
use proptest::prelude::*;
use serde_json::{Value, json};

use crate::differential::ledger_of;
use crate::generate::{self, SUBJECT, base_time, key};

fn has_reason(d: &Decision, rule: &str, effect: Effect) -> bool {
    d.reasons.iter().any(|r| r.rule.as_str() == rule && r.effect == effect)
}

/// The seven actions consent can permit.
const CONSENT_ACTIONS: [Action; 7] = [
    Action::Collect,
    Action::Use,
    Action::Share,
    Action::Entrust,
    Action::Transfer,
    Action::CrossBorder,
    Action::Disclose,
];

fn with_event(events: &[ConsentEvent], mut e: ConsentEvent) -> Vec<ConsentEvent> {
    e.id = uuid::Uuid::from_u128(1_000_000);
    let mut out = events.to_vec();
    out.push(e);
    out
}

/// A minimal policy: one purpose (`basis`: `core` or `optional`) on one
/// category, a collect rule, the given requirement and minors section.
fn small_policy(basis: &str, category: &str, required: Option<ConsentQualities>, minors: Option<Value>) -> Policy {
    let requirements: Vec<Value> =
        required.into_iter().map(|q| json!({"id": "req", "actions": ["collect"], "qualities": q})).collect();
    let mut doc = json!({
        "schema": 1,
        "id": "small",
        "version": "1",
        "effective": base_time() - Duration::days(3650),
        "language": "en",
        "purposes": [{"id": "p", "basis": basis, "categories": [category]}],
        "consent_requirements": requirements,
        "actions": [{"id": "collect", "action": "collect"}],
    });
    if let Some(m) = minors {
        doc["minors"] = m;
    }
    Policy::from_json(&doc.to_string()).unwrap()
}

fn collect(category: &str, age: Option<u8>) -> Request {
    let mut doc = json!({
        "action": "collect",
        "subject": {"id": SUBJECT},
        "categories": [category],
        "purpose": "p",
        "at": base_time(),
    });
    if let Some(age) = age {
        doc["subject"]["age"] = json!(age);
    }
    Request::from_json(&doc.to_string()).unwrap()
}

fn grant(qualities: ConsentQualities, category: &str) -> ConsentEvent {
    serde_json::from_value(json!({
        "id": uuid::Uuid::from_u128(7),
        "at": base_time() - Duration::days(1),
        "subject": SUBJECT,
        "policy_id": "small",
        "policy_version": "1",
        "change": {"type": "grant", "qualities": qualities, "scope": {"purposes": ["p"], "categories": [category]}},
    }))
    .unwrap()
}

proptest! {
    #![proptest_config(crate::property_config(module_path!()))]

    /// An undeclared category, purpose, recipient or action is denied, with
    /// its `builtin.undeclared_*` reason; an undeclared purpose or recipient
    /// with a `policy_change` requirement too. (A purpose or recipient that
    /// a `named_in_consent` rule lets a consent name is decided as one
    /// instead: the rule is noted.)
    #[test]
    fn deny_by_default((policy, events, requests) in generate::case(), what in 0..4u8) {
        let engine = Engine::new(policy.clone()).unwrap();
        let ledger = ledger_of(&events);
        for mut req in requests {
            let rule = match what {
                0 => {
                    req.categories.push(key("user.unknown"));
                    "builtin.undeclared_category"
                }
                1 => {
                    req.purpose = Some("purpose.undeclared".into());
                    "builtin.undeclared_purpose"
                }
                2 => {
                    req.recipient = Some("recipient.undeclared".into());
                    "builtin.undeclared_recipient"
                }
                _ => match Action::ALL.iter().find(|a| policy.action_rule(**a).is_none()) {
                    Some(a) => {
                        req.action = *a;
                        "builtin.undeclared_action"
                    }
                    None => continue,
                },
            };
            let d = engine.evaluate(&req, &ledger);
            let names = match what {
                1 => Some(privacy_engine::Names::Purpose),
                2 => Some(privacy_engine::Names::Recipient),
                _ => None,
            };
            // Retention actions take any rule that names purposes.
            let kept = req.action.is_retention() && names == Some(privacy_engine::Names::Purpose);
            let named = names.and_then(|n| {
                policy.named_in_consent.iter().find(|r| r.names == n && (kept || r.actions.contains(&req.action)))
            });
            if let Some(r) = named {
                prop_assert!(has_reason(&d, r.id.as_str(), Effect::Note), "{}", d.to_json());
                continue;
            }
            prop_assert_eq!(d.verdict, Verdict::Deny);
            prop_assert!(has_reason(&d, rule, Effect::Deny), "{}", d.to_json());
            if names.is_some() {
                let change = d.unmet.iter().any(|u| matches!(u, privacy_engine::Unmet::PolicyChange { .. }));
                prop_assert!(change, "{}", d.to_json());
            }
            prop_assert!(d.categories.iter().all(|c| c.verdict == Verdict::Deny));
        }
    }

    /// Adding a grant never turns a permit into a denial; adding a
    /// withdrawal (or a refusal, expiry or revocation) never turns a denial
    /// into a permit.
    #[test]
    fn consent_is_monotonic(
        (policy, events, requests) in generate::case(),
        extra in generate::event(),
        action in proptest::sample::select(CONSENT_ACTIONS.to_vec()),
    ) {
        let engine = Engine::new(policy).unwrap();
        let before = ledger_of(&events);
        let after = ledger_of(&with_event(&events, extra.clone()));
        for mut req in requests {
            req.action = action;
            let (b, a) = (engine.evaluate(&req, &before), engine.evaluate(&req, &after));
            match &extra.change {
                ConsentChange::Grant { .. } => prop_assert!(
                    !b.is_permit() || a.is_permit(),
                    "a grant turned a permit into a denial: {}", a.to_json()
                ),
                ConsentChange::Withdraw { .. }
                | ConsentChange::Refuse { .. }
                | ConsentChange::Expire { .. }
                | ConsentChange::Revoke { .. } => prop_assert!(
                    b.is_permit() || !a.is_permit(),
                    "an ending turned a denial into a permit: {}", a.to_json()
                ),
                _ => {}
            }
        }
    }

    /// A decision at T depends only on the events at or before T.
    #[test]
    fn no_time_travel(
        (policy, events, requests) in generate::case(),
        later in generate::history(4),
        secs in 1i64..100_000_000,
    ) {
        let engine = Engine::new(policy).unwrap();
        for req in requests {
            let mut all = events.clone();
            for (i, mut e) in later.clone().into_iter().enumerate() {
                e.id = uuid::Uuid::from_u128(2_000_000 + i as u128);
                e.at = req.at + Duration::seconds(secs);
                all.push(e);
            }
            let (a, b) = (engine.evaluate(&req, &ledger_of(&events)), engine.evaluate(&req, &ledger_of(&all)));
            prop_assert_eq!(a.to_json(), b.to_json());
        }
    }

    /// Determinism: the same inputs give byte-identical JSON, from the same
    /// engine and from a second engine built from the same policy.
    #[test]
    fn deterministic((policy, events, requests) in generate::case()) {
        let (e1, e2) = (Engine::new(policy.clone()).unwrap(), Engine::new(policy).unwrap());
        let (l1, l2) = (ledger_of(&events), ledger_of(&events));
        for req in requests {
            let first = e1.evaluate(&req, &l1).to_json();
            prop_assert_eq!(&first, &e1.evaluate(&req, &l1).to_json());
            prop_assert_eq!(&first, &e2.evaluate(&req, &l2).to_json());
        }
    }

    /// A requirement is satisfied only by a grant with all its qualities:
    /// policy acceptance (no quality) never satisfies separate consent.
    #[test]
    fn requirement_needs_every_quality(
        required in generate::required_qualities(),
        granted in generate::qualities(),
    ) {
        // An adult, an optional purpose, a personal (not sensitive) category.
        let policy = small_policy("optional", "user.contact.phone_number", Some(required), None);
        let engine = Engine::new(policy).unwrap();
        let ledger = ledger_of(&[grant(granted, "user.contact.phone_number")]);
        let d = engine.evaluate(&collect("user.contact.phone_number", Some(30)), &ledger);
        prop_assert_eq!(d.is_permit(), granted.contains(required), "{}", d.to_json());
        if required.contains(ConsentQualities::SEPARATE) {
            let implied = ledger_of(&[grant(ConsentQualities::IMPLIED, "user.contact.phone_number")]);
            prop_assert!(!engine.evaluate(&collect("user.contact.phone_number", Some(30)), &implied).is_permit());
        }
    }

    /// The guardian's consent is required exactly below the age threshold
    /// (the policy's, or 14 without a minors section), and at no other age;
    /// the guardian's grant with the required qualities then permits.
    #[test]
    fn guardian_consent_exactly_below_threshold(
        threshold in proptest::option::of(1u8..=25),
        guardian_qualities in generate::qualities(),
        age in prop_oneof![0u8..=30, Just(150u8)],
    ) {
        let minors = threshold.map(|t| {
            json!({"id": "minors", "guardian_consent_below": t, "guardian_qualities": guardian_qualities})
        });
        let below = age < threshold.unwrap_or(14);
        // A core purpose on a personal category: nothing else asks consent.
        let policy = small_policy("core", "user.device.device_id", None, minors);
        let engine = Engine::new(policy).unwrap();
        let d = engine.evaluate(&collect("user.device.device_id", Some(age)), &InMemoryLedger::new());
        let guardian = d.unmet.iter().find_map(|u| match u {
            Unmet::Consent { from: ConsentFrom::Guardian, qualities, .. } => Some(*qualities),
            _ => None,
        });
        prop_assert_eq!(guardian.is_some(), below, "{}", d.to_json());
        prop_assert_eq!(d.is_permit(), !below, "{}", d.to_json());
        if let Some(q) = guardian {
            let from_policy = if threshold.is_some() { guardian_qualities } else { ConsentQualities::empty() };
            prop_assert!(q.contains(ConsentQualities::GUARDIAN | ConsentQualities::SEPARATE | from_policy));
            let ledger = ledger_of(&[grant(q, "user.device.device_id")]);
            let d = engine.evaluate(&collect("user.device.device_id", Some(age)), &ledger);
            prop_assert!(d.is_permit(), "{}", d.to_json());
        }
    }
}

/// The one undeclared-input case the generators do not build: a category
/// key no policy can declare.
#[test]
fn unknown_category_is_denied_even_when_everything_else_permits() {
    let policy = small_policy("core", "user.device.device_id", None, None);
    let engine = Engine::new(policy).unwrap();
    let mut req = collect("user.device.device_id", Some(30));
    assert!(engine.evaluate(&req, &InMemoryLedger::new()).is_permit());
    req.categories.push(CategoryKey::new("user.device.device_id.made_up").unwrap());
    let d = engine.evaluate(&req, &InMemoryLedger::new());
    assert_eq!(d.verdict, Verdict::Deny);
    assert!(has_reason(&d, "builtin.undeclared_category", Effect::Deny));
}
