//! The engine's answer to a prepared request, held as what it borrows from
//! the policy and the request, and rendered as a [`Decision`] when asked.

use std::borrow::Cow;
use std::fmt;

use super::Engine;
use super::draft::CatDraft;
use super::named::PolicyChange;
use super::outcome::{Outcome, default_deny, reported};
use crate::decision::{Decision, Effect, Reason, Verdict};
use crate::ids::RuleId;
use crate::request::Request;

/// A decision as [`Engine::decide`] makes it: the verdict, and for each
/// category its outcome, reasons, obligations and unmet requirements, all
/// held as references into the policy and the request, with no text built
/// and nothing allocated for a single-category request.
///
/// [`Ruling::to_decision`] renders it as the [`Decision`] that
/// [`Engine::evaluate`] returns: the same decision, with every list sorted.
///
/// # Example
///
/// ```
/// use privacy_engine::{Action, CategoryKey, Engine, InMemoryLedger, Policy, Request, Subject, Verdict};
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let engine = Engine::from_json(include_str!("../../examples/policies/seed-004.json"))?;
/// let request = Request::new(
///     Action::Collect,
///     Subject::new("u-1").age(30),
///     vec![CategoryKey::new("user.contact.phone_number")?],
///     "2024-05-01T10:00:00+08:00".parse()?,
/// )
/// .purpose("registration_login");
/// let ledger = InMemoryLedger::new();
/// let prepared = engine.prepare(&request);
/// let ruling = engine.decide(&prepared, &ledger);
/// assert_eq!(ruling.verdict(), Verdict::Permit);
/// assert!(ruling.rule_ids().any(|r| r.as_str() == "registration_login"));
/// assert_eq!(ruling.to_decision(), engine.evaluate(&request, &ledger));
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Ruling<'a> {
    engine: &'a Engine,
    req: &'a Request,
    /// Request-level reasons, from the prepared request.
    top: Cow<'a, [Reason]>,
    top_denied: bool,
    /// The undeclared names only a revised policy permits.
    policy_change: PolicyChange,
    /// Whether the engine's version was in force at the request's time.
    in_force: bool,
    /// The first category's draft, then the others'.
    first: Option<CatDraft<'a>>,
    rest: Vec<CatDraft<'a>>,
}

impl<'a> Ruling<'a> {
    #[inline]
    pub(super) fn new(
        engine: &'a Engine,
        req: &'a Request,
        (top, top_denied): (Cow<'a, [Reason]>, bool),
        policy_change: PolicyChange,
        in_force: bool,
    ) -> Self {
        Ruling { engine, req, top, top_denied, policy_change, in_force, first: None, rest: Vec::new() }
    }

    /// The version of the policy the decision was made under: the one in
    /// force at the request's time; `None` when none was.
    pub fn policy_version(&self) -> Option<&'a str> {
        let engine: &'a Engine = self.engine;
        self.in_force.then_some(engine.policy.version.as_str())
    }

    /// A new draft for the next category, in place.
    pub(super) fn draft(&mut self, key: &'a crate::taxonomy::CategoryKey) -> Option<&mut CatDraft<'a>> {
        if self.first.is_none() {
            return Some(self.first.insert(CatDraft::new(key)));
        }
        if self.rest.is_empty() {
            self.rest.reserve_exact(self.req.categories.len().saturating_sub(1));
        }
        self.rest.push(CatDraft::new(key));
        self.rest.last_mut()
    }

    fn drafts(&self) -> impl Iterator<Item = &CatDraft<'a>> {
        self.first.iter().chain(&self.rest)
    }

    /// Permit or deny.
    pub fn verdict(&self) -> Verdict {
        if self.is_permit() { Verdict::Permit } else { Verdict::Deny }
    }

    /// Whether the verdict is [`Verdict::Permit`].
    pub fn is_permit(&self) -> bool {
        !self.top_denied && self.first.is_some() && self.drafts().all(|d| d.permit)
    }

    /// The ids of the rules that decided, as [`Decision::rule_ids`] gives
    /// them, in the order they were found and possibly repeated.
    pub fn rule_ids(&self) -> impl Iterator<Item = &RuleId> {
        let permit = self.is_permit();
        // A permit reports every category; a denial, the denied ones.
        let kept = move |effect: Effect| reported(permit, effect);
        let from_top = self.top.iter().filter(move |r| kept(r.effect)).map(|r| &r.rule);
        let from_drafts = self
            .drafts()
            .filter(move |d| permit || !d.permit)
            .flat_map(|d| d.reasons.iter())
            .filter(move |w| kept(w.effect))
            .map(|w| w.rule);
        let mut all = from_top.chain(from_drafts).peekable();
        let none = all.peek().is_none();
        all.chain(none.then(|| default_deny().0))
    }

    /// The decision, rendered: ids and clauses copied out of the policy,
    /// messages written, lists sorted and merged.
    pub fn to_decision(&self) -> Decision {
        let mut out = Outcome::new(self.req, self.is_permit(), self.top.to_vec(), self.top_denied);
        out.policy_change(self.policy_change);
        for d in self.drafts() {
            out.add(d.render(self.engine));
        }
        let mut decision = out.finish();
        decision.policy_id = Some(self.engine.policy.id.clone());
        decision.policy_version = self.policy_version().map(str::to_owned);
        decision
    }
}

impl fmt::Debug for Ruling<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ruling").field("verdict", &self.verdict()).field("action", &self.req.action).finish()
    }
}

impl From<Ruling<'_>> for Decision {
    fn from(ruling: Ruling<'_>) -> Decision {
        ruling.to_decision()
    }
}
