//! Retain, delete and anonymise decisions: the retention rules' deadlines
//! (computed by [`crate::retention`]) against the request's time, legal
//! hold and account state.

use chrono::{DateTime, FixedOffset, Utc};

use super::Engine;
use super::ctx::Ctx;
use super::draft::{Arg, CatDraft, Msg, ObligationRef, Small, UnmetRef};
use crate::consent::ConsentStore;
use crate::ids::PurposeId;
use crate::policy::{Action, EndAction, RetentionRule};
use crate::request::RecordEvents;
use crate::retention::{Bounds, bounds, cancelled_by, end_action, hold_active, retained_until};
use crate::taxonomy::CategoryKey;

const HOLD: &str = "a legal hold is in force: only storage and security are permitted";

impl Engine {
    /// The bounds of the retention rules that cover category `c` (and the
    /// purpose, if given) for a record with these events at `at`.
    pub(crate) fn retention_bounds<'a>(
        &'a self,
        c: usize,
        purpose: Option<usize>,
        events: &'a RecordEvents,
        at: DateTime<Utc>,
    ) -> impl Iterator<Item = Bounds<'a>> {
        let rules = self
            .retention_by_cat
            .get(c)
            .map_or(&[][..], Vec::as_slice)
            .iter()
            .filter_map(|&i| Some((self.retention.get(i)?, self.policy.retention.get(i)?)))
            .filter(move |(cr, _)| cr.purposes.as_ref().is_none_or(|s| purpose.is_none_or(|p| s.contains(p))))
            .map(|(_, rule)| rule);
        bounds(rules, &self.policy.settings, events, at)
    }

    /// A record's category and purpose as ids, `None` if the category is
    /// not declared (an undeclared purpose counts as none).
    pub(crate) fn record_ids(
        &self,
        category: &CategoryKey,
        purpose: Option<&PurposeId>,
    ) -> Option<(usize, Option<usize>)> {
        let c = *self.cat_index.get(category)?;
        Some((c, purpose.and_then(|p| self.purpose_index.get(p).copied())))
    }
}

/// What the retention rules say of one category at the request's time.
struct Facts<'a> {
    bounds: Small<Bounds<'a>, 2>,
    held: bool,
    /// The latest instant a statutory minimum still runs to, if one does.
    pending_minimum: Option<DateTime<FixedOffset>>,
    /// The rules whose minimum runs from an event of unknown time.
    minimum_unknown: Small<&'a RetentionRule, 2>,
    /// The rules whose maximum has passed, and when it did.
    passed_max: Small<(&'a RetentionRule, DateTime<FixedOffset>), 2>,
}

impl<'a> Facts<'a> {
    fn new<S: ConsentStore>(ctx: &Ctx<'a, S>, c: usize) -> Self {
        let at = ctx.at;
        let engine: &'a Engine = ctx.engine;
        let req = ctx.req;
        let bounds: Small<Bounds<'a>, 2> =
            engine.retention_bounds(c, ctx.purpose.map(|(i, _)| i), &req.events, at).collect();
        let mut pending_minimum: Option<DateTime<FixedOffset>> = None;
        let mut minimum_unknown = Small::default();
        for b in bounds.iter() {
            match b.minimum_ends {
                Some(Ok(end)) if at < end.to_utc() => {
                    pending_minimum = Some(pending_minimum.map_or(end, |p| p.max(end)));
                }
                Some(Err(())) => minimum_unknown.push(b.rule),
                _ => {}
            }
        }
        let passed_max = bounds.iter().filter_map(|b| b.maximum_passed(at).map(|m| (b.rule, m))).collect();
        Facts { held: hold_active(&req.events, at), bounds, pending_minimum, minimum_unknown, passed_max }
    }
}

/// Decides a retain, delete or anonymise request for one category.
pub(super) fn decide<'a, S: ConsentStore>(ctx: &Ctx<'a, S>, c: usize, d: &mut CatDraft<'a>) {
    let facts = Facts::new(ctx, c);
    match ctx.req.action {
        Action::Delete | Action::Anonymise => {
            let held = delete_blocked(ctx, d, &facts);
            if !held && !d.has_deny() {
                permit_delete(ctx, d, &facts);
            }
        }
        Action::Retain => retain(ctx, d, &facts),
        _ => {}
    }
}

/// Denies a deletion that a deadline, a hold or a running minimum forbids;
/// `true` if a legal hold ends the decision.
fn delete_blocked<'a, S: ConsentStore>(ctx: &Ctx<'a, S>, d: &mut CatDraft<'a>, facts: &Facts<'a>) -> bool {
    let (req, at) = (ctx.req, ctx.at);
    if let Some(until) = retained_until(&req.events, at) {
        d.deny(
            builtin!("retain_until"),
            None,
            Msg::new(&["the data must be kept until ", ", a deadline set outside the policy"], [Arg::Time(until)]),
        );
        d.unmet.push(UnmetRef::NotBefore(until));
    }
    if facts.held {
        d.deny(builtin!("legal_hold"), None, HOLD);
        d.obligations.push(ObligationRef::RestrictToStorageAndSecurity);
        if let Some(until) = req.events.legal_hold.as_ref().and_then(|h| h.until) {
            d.unmet.push(UnmetRef::NotBefore(until));
        }
        return true;
    }
    for rule in facts.minimum_unknown.iter() {
        d.deny(
            &rule.id,
            rule.cites.as_ref(),
            Msg::new(&["a statutory minimum runs from ", ", whose time is not known"], [Arg::Trigger(rule.trigger)]),
        );
        d.unmet.push(UnmetRef::EventTime(rule.trigger));
    }
    if let Some(end) = facts.pending_minimum {
        for b in facts.bounds.iter().filter(|b| b.minimum_pending(at)) {
            d.deny(
                &b.rule.id,
                b.rule.cites.as_ref(),
                Msg::new(&["a statutory minimum runs until ", ""], [Arg::Time(end)]),
            );
        }
        d.unmet.push(UnmetRef::NotBefore(end));
        if !facts.passed_max.is_empty() {
            d.obligations.push(ObligationRef::RestrictToStorageAndSecurity);
        }
    }
    false
}

/// Permits a deletion no minimum holds back, with the rules' obligations.
fn permit_delete<'a, S: ConsentStore>(ctx: &Ctx<'a, S>, d: &mut CatDraft<'a>, facts: &Facts<'a>) {
    let action_rule = ctx.rule;
    d.permit(&action_rule.id, action_rule.cites.as_ref(), "the policy permits it once no retention minimum holds");
    if facts.bounds.is_empty() {
        d.permit(builtin!("delete_permitted"), None, "no retention rule applies to keep the data");
    }
    for b in facts.bounds.iter() {
        let rule = b.rule;
        d.permit(&rule.id, rule.cites.as_ref(), "no retention minimum is pending");
        if rule.backups_at_next_cycle {
            d.obligations.push(ObligationRef::PurgeBackupsAtNextCycle);
        }
        if rule.isolate_backups {
            d.obligations.push(ObligationRef::IsolateBackups);
        }
        if rule.notify_recipients {
            d.obligations.push(ObligationRef::NotifyRecipients(d.key()));
        }
        if ctx.req.action == Action::Delete && rule.end_action == EndAction::Anonymise {
            d.note(&rule.id, rule.cites.as_ref(), "the policy's end action is anonymisation");
        }
    }
}

/// Decides a retain request: kept under a hold, within its periods, for
/// storage only while a statutory minimum outlives the purpose, or denied
/// once nothing keeps it.
fn retain<'a, S: ConsentStore>(ctx: &Ctx<'a, S>, d: &mut CatDraft<'a>, facts: &Facts<'a>) {
    let at = ctx.at;
    if facts.held {
        d.permit(builtin!("legal_hold"), None, HOLD);
        d.obligations.push(ObligationRef::RestrictToStorageAndSecurity);
        return;
    }
    if facts.bounds.is_empty() {
        d.deny(
            builtin!("no_retention_rule"),
            None,
            Msg::new(
                &["no retention rule covers `", "`: the policy's silence does not permit keeping it"],
                [Arg::Id(d.key().as_str())],
            ),
        );
        return;
    }
    if facts.pending_minimum.is_none() && facts.bounds.iter().any(|b| b.rule.keeps_nothing()) {
        not_kept(ctx, d, facts);
        return;
    }
    let cancelled = cancelled_by(&ctx.req.events, at);
    let account_closed = cancelled.is_some();
    // A maximum still running gives the data until then, cancelled or not.
    let maximum_pending = facts.bounds.iter().any(|b| b.maximum_ends.is_some_and(|m| at < m.to_utc()));
    let cancelled = cancelled.filter(|_| !maximum_pending);
    match (facts.pending_minimum, facts.passed_max.is_empty(), cancelled) {
        (Some(end), false, _) | (Some(end), true, Some(_)) => keep_for_minimum(ctx, d, facts, end, cancelled),
        (None, false, _) => past_maximum(d, facts),
        (None, true, Some(cancelled_at)) => cancelled_without_minimum(d, facts, cancelled_at),
        (pending, true, None) => within_period(d, facts, pending, account_closed),
    }
}

/// PIPL art. 47: the purpose is over but a statutory period still runs:
/// keep it for storage and security only, until `end`.
fn keep_for_minimum<'a, S: ConsentStore>(
    ctx: &Ctx<'a, S>,
    d: &mut CatDraft<'a>,
    facts: &Facts<'a>,
    end: DateTime<FixedOffset>,
    cancelled: Option<DateTime<FixedOffset>>,
) {
    let minimum_rules = minimum_rules(facts);
    for (rule, _) in minimum_rules.iter().filter(|(_, e)| ctx.at < e.to_utc()) {
        d.permit(
            &rule.id,
            rule.cites.as_ref(),
            Msg::new(&["a statutory minimum requires keeping it until ", ""], [Arg::Time(end)]),
        );
    }
    for (rule, _) in facts.passed_max.iter() {
        d.note(&rule.id, rule.cites.as_ref(), "the retention maximum has passed, but a statutory minimum prevails");
    }
    if cancelled.is_some() {
        d.note(
            builtin!("account_cancelled"),
            None,
            "the account is cancelled: only storage and security until the minimum ends",
        );
    }
    let ending = if facts.passed_max.is_empty() { &minimum_rules } else { &facts.passed_max };
    d.obligations.push(ObligationRef::RestrictToStorageAndSecurity);
    d.obligations.push(ObligationRef::DeleteBy(end, end_action(ending.iter().map(|(rule, _)| *rule))));
}

/// A maximum of zero from collection: the data is not kept at all, so
/// keeping it is denied and it is deleted now, whether or not the time of
/// collection is known. No consent, evidence or agreement lifts that.
fn not_kept<'a, S: ConsentStore>(ctx: &Ctx<'a, S>, d: &mut CatDraft<'a>, facts: &Facts<'a>) {
    d.not_liftable = true;
    for rule in facts.bounds.iter().map(|b| b.rule).filter(|r| r.keeps_nothing()) {
        d.deny(&rule.id, rule.cites.as_ref(), "the policy keeps none of this data: its retention maximum is zero");
        d.obligations.push(ObligationRef::DeleteBy(ctx.req.at, rule.end_action));
        if rule.backups_at_next_cycle {
            d.obligations.push(ObligationRef::PurgeBackupsAtNextCycle);
        }
    }
}

/// The retention period has ended and no minimum holds the data.
fn past_maximum<'a>(d: &mut CatDraft<'a>, facts: &Facts<'a>) {
    for (rule, by) in facts.passed_max.iter() {
        d.deny(&rule.id, rule.cites.as_ref(), Msg::new(&["the retention period ended at ", ""], [Arg::Time(*by)]));
        d.obligations.push(ObligationRef::DeleteBy(*by, rule.end_action));
        if rule.backups_at_next_cycle {
            d.obligations.push(ObligationRef::PurgeBackupsAtNextCycle);
        }
    }
}

/// The account is gone and no statutory period remains.
fn cancelled_without_minimum<'a>(d: &mut CatDraft<'a>, facts: &Facts<'a>, cancelled_at: DateTime<FixedOffset>) {
    let minimum_rules = minimum_rules(facts);
    let by = minimum_rules.iter().map(|(_, e)| *e).fold(cancelled_at, DateTime::max);
    d.deny(builtin!("account_cancelled"), None, "the account is cancelled and no statutory retention remains");
    for (rule, _) in minimum_rules.iter() {
        d.deny(&rule.id, rule.cites.as_ref(), "its statutory minimum has passed");
    }
    d.obligations.push(ObligationRef::DeleteBy(by, end_action(facts.bounds.iter().map(|b| b.rule))));
    if facts.bounds.iter().any(|b| b.rule.backups_at_next_cycle) {
        d.obligations.push(ObligationRef::PurgeBackupsAtNextCycle);
    }
}

/// Within the retention period: kept, with the deadlines that end it.
fn within_period<'a>(
    d: &mut CatDraft<'a>,
    facts: &Facts<'a>,
    pending: Option<DateTime<FixedOffset>>,
    account_closed: bool,
) {
    for b in facts.bounds.iter() {
        d.permit(&b.rule.id, b.rule.cites.as_ref(), "within the retention period");
        if let Some(by) = b.maximum_ends {
            d.obligations.push(ObligationRef::DeleteBy(by, b.rule.end_action));
        }
    }
    if let Some(until) = pending {
        d.obligations.push(ObligationRef::RetainUntil(until));
    }
    if account_closed {
        // Every purpose ended with the account (PIPL art. 47).
        d.note(
            builtin!("account_cancelled"),
            None,
            "the account is cancelled: only storage and security until the data is deleted",
        );
        d.obligations.push(ObligationRef::RestrictToStorageAndSecurity);
    }
}

/// The rules with a known minimum, and where it ends.
fn minimum_rules<'a>(facts: &Facts<'a>) -> Small<(&'a RetentionRule, DateTime<FixedOffset>), 2> {
    facts
        .bounds
        .iter()
        .filter_map(|b| match b.minimum_ends {
            Some(Ok(end)) => Some((b.rule, end)),
            _ => None,
        })
        .collect()
}
