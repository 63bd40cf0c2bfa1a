//! Integration tests of the evaluator through the public API only, against
//! the seed-004 policy (`examples/policies/seed-004.json`) and small variants
//! of it: consent qualities and withdrawal, minors, sharing, cross-border
//! transfer, authority requests, mergers, retention and the retention
//! planner, undeclared input, determinism and bad input, and a table that
//! exercises every rule of seed 004.
//!
//! Expectations come from the policy document (and its `notes`) read with
//! PIPL, not from what the engine happens to return.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod bad_input;
mod categories;
mod consent;
mod determinism;
mod incident;
mod lifecycle;
mod lines;
mod minors;
mod named;
mod reach;
mod retention;
mod rights;
mod seed004_rules;
mod sharing;
mod undeclared;
mod versions;

use std::sync::OnceLock;

use chrono::{DateTime, FixedOffset};
use privacy_engine::{
    Action, CategoryKey, ClaimedException, ConsentChange, ConsentEvent, ConsentQualities, Decision, Effect, Engine,
    Evidence, Ground, InMemoryLedger, Permission, Policy, Request, RuleId, Scope, Subject, Unmet, Verdict,
};

/// The seed-004 policy document.
pub(crate) const SEED_004: &str = include_str!("../../examples/policies/seed-004.json");

/// The seed-004 engine, built once.
pub(crate) fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| Engine::new(Policy::from_json(SEED_004).unwrap()).unwrap())
}

/// The seed-004 document as a JSON value, to build variants from.
pub(crate) fn seed_value() -> serde_json::Value {
    serde_json::from_str(SEED_004).unwrap()
}

/// An engine for a variant of the seed-004 document.
pub(crate) fn engine_from(value: &serde_json::Value) -> Engine {
    let text = serde_json::to_string(value).unwrap();
    Engine::new(Policy::from_json(&text).unwrap()).unwrap()
}

/// A time.
pub(crate) fn t(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).unwrap()
}

/// A category key.
pub(crate) fn key(s: &str) -> CategoryKey {
    CategoryKey::new(s).unwrap()
}

/// Category keys.
pub(crate) fn keys(s: &[&str]) -> Vec<CategoryKey> {
    s.iter().map(|k| key(k)).collect()
}

/// An adult (30) known by id.
pub(crate) fn adult(id: &str) -> Subject {
    Subject::new(id).age(30)
}

/// A subject of the given age.
pub(crate) fn aged(id: &str, age: u8) -> Subject {
    Subject::new(id).age(age)
}

/// The usual time of a request.
pub(crate) const AT: &str = "2024-05-20T10:00:00+08:00";

/// A request by an adult `alice` at [`AT`].
pub(crate) fn req(action: Action, cats: &[&str], purpose: &str) -> Request {
    Request::new(action, adult("alice"), keys(cats), t(AT)).purpose(purpose)
}

/// A request claiming an exception.
pub(crate) fn claiming(mut r: Request, ground: Ground, evidence: &[Evidence]) -> Request {
    r.exception = Some(ClaimedException::new(ground, evidence.to_vec()));
    r
}

/// A ledger with numbered events.
#[derive(Clone, Debug, Default)]
pub(crate) struct Ledger {
    pub(crate) ledger: InMemoryLedger,
    n: u128,
}

impl Ledger {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    pub(crate) fn push(&mut self, subject: &str, at: &str, change: ConsentChange) -> &mut Self {
        self.n += 1;
        self.ledger
            .append(ConsentEvent::new(uuid::Uuid::from_u128(self.n), t(at), subject, "seed-004", "2021-08-20", change))
            .unwrap();
        self
    }

    /// Every device permission switched on for `subject`, long before the
    /// requests (seed 004 stops use as well as collection when one is off).
    pub(crate) fn permissions_on(&mut self, subject: &str) -> &mut Self {
        use privacy_engine::Permission as P;
        for permission in [
            P::Camera,
            P::Photos,
            P::Storage,
            P::Location,
            P::Contacts,
            P::CallLogs,
            P::Phone,
            P::Microphone,
            P::Sensors,
            P::DeviceInfo,
        ] {
            self.push(subject, "2000-01-01T00:00:00+08:00", ConsentChange::PermissionOn { permission });
        }
        self
    }

    /// A grant by `subject` for one purpose on categories, to the
    /// controller itself (no recipient) or to one recipient.
    pub(crate) fn grant(
        &mut self,
        subject: &str,
        at: &str,
        qualities: ConsentQualities,
        purpose: &str,
        cats: &[&str],
        recipient: Option<&str>,
    ) -> &mut Self {
        self.push(
            subject,
            at,
            ConsentChange::Grant { qualities, scope: scope(purpose, cats, recipient), expires: None },
        )
    }

    pub(crate) fn withdraw(&mut self, subject: &str, at: &str, purpose: &str, cats: &[&str]) -> &mut Self {
        self.push(subject, at, ConsentChange::Withdraw { scope: scope(purpose, cats, None) })
    }

    pub(crate) fn permission_on(&mut self, subject: &str, at: &str, permission: Permission) -> &mut Self {
        self.push(subject, at, ConsentChange::PermissionOn { permission })
    }
}

/// A consent scope.
pub(crate) fn scope(purpose: &str, cats: &[&str], recipient: Option<&str>) -> Scope {
    let mut scope = Scope::new(vec![purpose.into()], keys(cats));
    scope.recipient = recipient.map(Into::into);
    scope
}

/// Evaluates against the seed-004 engine.
pub(crate) fn eval(r: &Request, l: &Ledger) -> Decision {
    engine().evaluate(r, &l.ledger)
}

/// Evaluates with an empty ledger.
pub(crate) fn eval0(r: &Request) -> Decision {
    engine().evaluate(r, &InMemoryLedger::new())
}

/// Asserts that `rule` is among the reasons with `effect`.
#[track_caller]
pub(crate) fn assert_reason(d: &Decision, rule: &str, effect: Effect) {
    assert!(
        d.reasons.iter().any(|r| r.rule.as_str() == rule && r.effect == effect),
        "expected reason [{rule}] with {effect:?} in\n{d}"
    );
}

/// Asserts that no reason has this rule id.
#[track_caller]
pub(crate) fn assert_no_reason(d: &Decision, rule: &str) {
    assert!(d.reasons.iter().all(|r| r.rule.as_str() != rule), "unexpected reason [{rule}] in\n{d}");
}

/// Asserts the verdict, printing the decision on failure.
#[track_caller]
pub(crate) fn assert_verdict(d: &Decision, v: Verdict) {
    assert_eq!(d.verdict, v, "verdict of\n{d}");
}

/// The per-category verdicts, as (key, verdict) in the decision's order.
pub(crate) fn outcomes(d: &Decision) -> Vec<(String, Verdict)> {
    d.categories.iter().map(|c| (c.category.as_str().to_owned(), c.verdict)).collect()
}

/// The rule ids that decided one category.
pub(crate) fn category_rules(d: &Decision, cat: &str) -> Vec<String> {
    d.categories
        .iter()
        .find(|c| c.category.as_str() == cat)
        .unwrap_or_else(|| panic!("no outcome for {cat} in\n{d}"))
        .rules
        .iter()
        .map(|r| r.as_str().to_owned())
        .collect()
}

/// Rule ids.
pub(crate) fn rules(ids: &[&str]) -> Vec<RuleId> {
    ids.iter().map(|i| RuleId::new(*i)).collect()
}

/// The consent requirements among the unmet ones.
pub(crate) fn unmet_consents(d: &Decision) -> Vec<&Unmet> {
    d.unmet.iter().filter(|u| matches!(u, Unmet::Consent { .. })).collect()
}
