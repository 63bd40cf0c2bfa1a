//! Deciding a lifecycle request, as docs/lifecycle.md says: what must
//! happen before, what stops at once, and per held category what its
//! retention rule now does and when.

use chrono::{DateTime, FixedOffset, Utc};

use super::answer::{Disposal, LifecycleAnswer, LifecycleDuty, LifecycleOutcome, LifecycleReason};
use super::event::{LifecycleChange, LifecycleEvent};
use super::request::LifecycleRequest;
use crate::ids::{PurposeId, SubjectId};
use crate::policy::{EndAction, Policy, PurposeBasis, RetentionRule, Trigger};
use crate::retention::bounds;
use crate::rights::{Holding, Identity, LimitGround, cited, holding_rules, local_date, restriction_at};
use crate::taxonomy::CategoryKey;

/// The law's article on deletion: cited where the policy gives no clause.
const PIPL_47: &str = "PIPL art. 47";
/// Cited for a held category no retention rule covers: keeping it is not
/// permitted (retention limited to the shortest time necessary).
const PIPL_19: &str = "PIPL art. 19";

/// Whether the ledger has a grant in force at the request's time covering
/// the purpose and the category.
pub(crate) type Granted<'a> = dyn Fn(&PurposeId, &CategoryKey) -> bool + 'a;

/// What a lifecycle answer is decided from.
pub(crate) struct Inputs<'a> {
    /// The policy version in force at the request's `at`.
    pub(crate) policy: &'a Policy,
    pub(crate) request: &'a LifecycleRequest,
    pub(crate) held: &'a [Holding],
    pub(crate) events: &'a [LifecycleEvent],
    pub(crate) granted: &'a Granted<'a>,
}

/// Decides the request.
pub(crate) fn decide(inputs: &Inputs<'_>) -> LifecycleAnswer {
    match inputs.request {
        LifecycleRequest::Cancel { subject, at, identity } => cancel(inputs, subject, *at, *identity),
        LifecycleRequest::Terminate { notice, at } => terminate(inputs, *notice, *at),
        LifecycleRequest::Inactive { since, at, .. } => inactive(inputs, *since, *at),
        LifecycleRequest::Reactivate { subject, cancelled, at } => reactivate(inputs, subject, *cancelled, *at),
    }
}

/// An answer with the policy's version and its lifecycle clause (PIPL art.
/// 47 where it gives none).
fn answer(policy: &Policy, outcome: LifecycleOutcome) -> LifecycleAnswer {
    let mut a = LifecycleAnswer::new(outcome, policy.version.clone());
    a.cites.push(policy.lifecycle.cites.as_ref().map_or_else(|| PIPL_47.to_owned(), cited));
    a
}

/// A cancellation: refused when the service was terminated (`reason`
/// `terminated`: nothing comes after a termination) or the account already
/// is cancelled (and not reactivated since); otherwise the duties, the
/// consents that end and each held category's disposal from the
/// cancellation.
fn cancel(inputs: &Inputs<'_>, subject: &SubjectId, at: DateTime<FixedOffset>, identity: Identity) -> LifecycleAnswer {
    let policy = inputs.policy;
    match standing(inputs.events, subject, at) {
        Some(s) if s.terminated => {
            let mut a = answer(policy, LifecycleOutcome::Refused);
            a.reason = Some(LifecycleReason::Terminated);
            return a;
        }
        Some(s) if s.cancelled.is_some() => return answer(policy, LifecycleOutcome::Refused),
        _ => {}
    }
    let mut a = answer(policy, LifecycleOutcome::Accepted);
    if identity == Identity::Unverified {
        a.before.push(LifecycleDuty::VerifyIdentity);
    }
    a.before.push(LifecycleDuty::WarnIrreversible);
    a.immediate.extend([
        LifecycleDuty::DisableAccount,
        LifecycleDuty::StopCollection,
        LifecycleDuty::StopUse,
        LifecycleDuty::EndConsents,
    ]);
    if policy.retention.iter().any(|r| r.backups_at_next_cycle || r.isolate_backups) {
        a.immediate.push(LifecycleDuty::BackupsAtNextCycle);
    }
    a.end_consents = optional_purposes(policy)
        .filter(|p| p.categories.iter().any(|c| (inputs.granted)(&p.id, c)))
        .map(|p| p.id.clone())
        .collect();
    a.categories = disposals(inputs, |h| {
        let mut h = h.clone();
        h.events.account_cancelled = Some(h.events.account_cancelled.map_or(at, |c| c.min(at)));
        Some(from_bounds(policy, &h, at))
    });
    a
}

/// What a subject's lifecycle events up to `at` leave standing.
struct Standing {
    /// The cancellation no reactivation has followed.
    cancelled: Option<DateTime<FixedOffset>>,
    /// Whether the service was terminated.
    terminated: bool,
}

/// The subject's account at `at` by its events in time order; `None` when
/// `events` holds none of the subject's (nothing to read).
fn standing(events: &[LifecycleEvent], subject: &SubjectId, at: DateTime<FixedOffset>) -> Option<Standing> {
    let mut own: Vec<&LifecycleEvent> = events.iter().filter(|e| &e.subject == subject).collect();
    if own.is_empty() {
        return None;
    }
    own.sort_by_key(|e| e.at);
    let mut s = Standing { cancelled: None, terminated: false };
    for e in own.into_iter().filter(|e| e.at <= at) {
        match e.change {
            LifecycleChange::Cancelled => s.cancelled = Some(e.at),
            LifecycleChange::Reactivated => s.cancelled = None,
            LifecycleChange::ServiceTerminated => s.terminated = true,
            LifecycleChange::Inactive => {}
        }
    }
    Some(s)
}

/// The policy's optional purposes, in its order.
fn optional_purposes(policy: &Policy) -> impl Iterator<Item = &crate::policy::Purpose> {
    policy.purposes.iter().filter(|p| p.basis == PurposeBasis::Optional)
}

/// One disposal per holding `each` answers for, in category order.
fn disposals(inputs: &Inputs<'_>, each: impl Fn(&Holding) -> Option<Disposal>) -> Vec<Disposal> {
    let mut out: Vec<Disposal> = inputs.held.iter().filter_map(each).collect();
    out.sort_by(|a, b| a.category.cmp(&b.category));
    out
}

/// A holding's disposal from its retention rules' bounds at `at`: due when
/// the earliest maximum ends (at `at` when no rule has a maximum), held
/// back by a running minimum or a legal hold.
fn from_bounds(policy: &Policy, holding: &Holding, at: DateTime<FixedOffset>) -> Disposal {
    let utc = at.to_utc();
    let all: Vec<&RetentionRule> = holding_rules(policy, holding).collect();
    let ends = bounds(all.iter().copied(), &policy.settings, &holding.events, utc);
    // The earliest maximum decides; of equal ends, a rule that runs from
    // the cancellation itself.
    let maximum = ends
        .filter_map(|b| Some((b.maximum_ends?, b.rule)))
        .min_by_key(|(end, rule)| (*end, rule.trigger != Trigger::AccountCancelled));
    let rule = maximum.map(|(_, r)| r).or_else(|| all.first().copied());
    let due_at = maximum.map_or(at, |(end, _)| end);
    let mut d = disposal(policy, holding, rule, due_at);
    restrict(policy, holding, utc, &mut d);
    d
}

/// A disposal under `rule` (or none), due at `due`.
fn disposal(policy: &Policy, holding: &Holding, rule: Option<&RetentionRule>, due: DateTime<FixedOffset>) -> Disposal {
    let cites = rule.map_or_else(|| PIPL_19.to_owned(), |r| r.cites.as_ref().map_or_else(|| PIPL_47.to_owned(), cited));
    let action = rule.map_or(EndAction::Delete, |r| r.end_action);
    let mut d = Disposal::new(holding.category.clone(), action, local_date(policy, due), cites);
    d.rule = rule.map(|r| r.id.clone());
    d
}

/// Holds the disposal back while a minimum runs or a legal hold lasts at
/// `at`: restricted, and due when they end if that is later (then under
/// the minimum's rule, or the hold's clause).
fn restrict(policy: &Policy, holding: &Holding, at: DateTime<Utc>, d: &mut Disposal) {
    let Some((until, ground, _, cites)) = restriction_at(policy, holding, at) else { return };
    d.restricted = true;
    if until.is_some() && until <= d.due {
        return;
    }
    d.due = until;
    d.cites = cites;
    if ground != LimitGround::StatutoryRetention {
        return;
    }
    let minimum = bounds(holding_rules(policy, holding), &policy.settings, &holding.events, at)
        .filter(|b| b.minimum_pending(at))
        .filter_map(|b| Some((b.minimum_ends?.ok()?, b.rule)))
        .max_by_key(|(end, _)| *end);
    if let Some((_, r)) = minimum {
        d.rule = Some(r.id.clone());
        d.action = r.end_action;
    }
}

/// A termination by the controller: the notice check, collection stops at
/// the effective date, and every held category is due then (held back by a
/// running minimum or a legal hold).
fn terminate(inputs: &Inputs<'_>, notice: DateTime<FixedOffset>, at: DateTime<FixedOffset>) -> LifecycleAnswer {
    let policy = inputs.policy;
    let mut a = answer(policy, LifecycleOutcome::Accepted);
    if let Some(period) = policy.lifecycle.termination_notice {
        let given = local_date(policy, notice);
        let least = given.and_then(|g| period.after(g, policy.settings.month_end));
        if let (Some(g), Some(l), Some(effective)) = (given, least, local_date(policy, at)) {
            let days = u32::try_from((l - g).num_days()).unwrap_or(u32::MAX);
            a.before.push(LifecycleDuty::NoticeBeforeTermination { days });
            a.notice_short_by_days = Some(u32::try_from((l - effective).num_days().max(0)).unwrap_or(u32::MAX));
        }
    }
    a.immediate.extend([LifecycleDuty::StopCollection, LifecycleDuty::StopUse]);
    a.categories = disposals(inputs, |h| {
        let rules: Vec<&RetentionRule> = holding_rules(policy, h).collect();
        let mut d = disposal(policy, h, rules.first().copied(), at);
        if !rules.is_empty() {
            d.action = crate::retention::end_action(rules.iter().copied());
        }
        restrict(policy, h, at.to_utc(), &mut d);
        Some(d)
    });
    a
}

/// Inactivity since the last use: collection and use stop, and each held
/// category a `last_used` rule covers is due when that rule's maximum ends.
fn inactive(inputs: &Inputs<'_>, since: DateTime<FixedOffset>, at: DateTime<FixedOffset>) -> LifecycleAnswer {
    let policy = inputs.policy;
    let mut a = answer(policy, LifecycleOutcome::Accepted);
    a.immediate.extend([LifecycleDuty::StopCollection, LifecycleDuty::StopUse]);
    a.categories = disposals(inputs, |h| {
        let mut h = h.clone();
        h.events.last_used = Some(since);
        let rules: Vec<&RetentionRule> = holding_rules(policy, &h).filter(|r| r.trigger == Trigger::LastUsed).collect();
        let (rule, end) = bounds(rules.into_iter(), &policy.settings, &h.events, at.to_utc())
            .filter_map(|b| Some((b.rule, b.maximum_ends?)))
            .min_by_key(|(_, end)| *end)?;
        let mut d = disposal(policy, &h, Some(rule), end);
        restrict(policy, &h, at.to_utc(), &mut d);
        Some(d)
    });
    for d in &a.categories {
        if !a.cites.contains(&d.cites) {
            a.cites.push(d.cites.clone());
        }
    }
    a
}

/// A reactivation: checked against the subject's events when `events` has
/// them (refused when they show no cancellation standing at `at` or the
/// service terminated; decided from their cancellation, and said so, when
/// it is not at `cancelled`), then refused unless the policy allows it;
/// when allowed, the consents the cancellation ended are not restored:
/// every optional purpose is asked anew.
fn reactivate(
    inputs: &Inputs<'_>,
    subject: &SubjectId,
    cancelled: DateTime<FixedOffset>,
    at: DateTime<FixedOffset>,
) -> LifecycleAnswer {
    let policy = inputs.policy;
    let mut reason = None;
    if let Some(s) = standing(inputs.events, subject, at) {
        let refused = match s.cancelled {
            _ if s.terminated => Some(LifecycleReason::Terminated),
            None => Some(LifecycleReason::NotCancelled),
            Some(when) if when != cancelled => {
                reason = Some(LifecycleReason::CancelledAtOtherTime);
                None
            }
            Some(_) => None,
        };
        if let Some(why) = refused {
            let mut a = answer(policy, LifecycleOutcome::Refused);
            a.reason = Some(why);
            return a;
        }
    }
    if !policy.lifecycle.reactivation {
        return answer(policy, LifecycleOutcome::Refused);
    }
    let mut a = answer(policy, LifecycleOutcome::Accepted);
    a.reason = reason;
    a.ask_again = optional_purposes(policy).map(|p| p.id.clone()).collect();
    a
}
