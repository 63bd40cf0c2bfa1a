//! Retention: deadlines from retention rules and event times, for retain,
//! delete and anonymise decisions and for the retention planner.

use chrono::{DateTime, Days, FixedOffset, NaiveTime, Utc};
use serde::{Deserialize, Serialize};

use super::Engine;
use super::draft::{Arg, CatDraft, Msg, Need, Ob, Small};
use super::evaluate::Ctx;
use crate::consent::ConsentStore;
use crate::decision::Obligation;
use crate::ids::{PurposeId, RuleId, SubjectId};
use crate::policy::{Action, EndAction, Period, RetentionRule, Trigger};
use crate::request::RecordEvents;
use crate::taxonomy::CategoryKey;

/// Where a rule's periods end for one record.
#[derive(Clone, Copy, Debug)]
struct Bounds<'a> {
    rule: &'a RetentionRule,
    /// From this instant the minimum has passed (deletion is permitted).
    /// `Err(())` when the trigger event has not happened yet.
    minimum_ends: Option<Result<DateTime<FixedOffset>, ()>>,
    /// From this instant keeping the data is no longer permitted.
    maximum_ends: Option<DateTime<FixedOffset>>,
}

impl Engine {
    /// The instant from which a period that starts at `from` has run out, in
    /// the policy's time zone and calendar conventions.
    fn period_end(&self, from: DateTime<FixedOffset>, period: Period) -> Option<DateTime<FixedOffset>> {
        let s = &self.policy.settings;
        let tz = FixedOffset::east_opt(s.utc_offset_seconds)?;
        // Checked: `with_timezone(..).date_naive()` panics when the local time
        // falls outside chrono's range.
        let start = from.naive_utc().checked_add_offset(tz)?.date();
        let mut last = period.after(start, s.month_end)?;
        if s.last_day_included {
            last = last.checked_add_days(Days::new(1))?;
        }
        last.and_time(NaiveTime::MIN).and_local_timezone(tz).single()
    }

    fn bounds<'a>(
        &'a self,
        c: usize,
        purpose: Option<usize>,
        events: &RecordEvents,
        at: DateTime<Utc>,
    ) -> Small<Bounds<'a>, 2> {
        self.retention_by_cat
            .get(c)
            .map_or(&[][..], Vec::as_slice)
            .iter()
            .filter_map(|&i| Some((self.retention.get(i)?, self.policy.retention.get(i)?)))
            .filter(|(cr, _)| cr.purposes.as_ref().is_none_or(|s| purpose.is_none_or(|p| s.contains(p))))
            .map(|(_, rule)| {
                let start = start_of(events, rule.trigger, at);
                Bounds {
                    rule,
                    minimum_ends: rule.minimum.map(|m| start.and_then(|t| self.period_end(t, m)).ok_or(())),
                    maximum_ends: rule.maximum.and_then(|m| start.and_then(|t| self.period_end(t, m))),
                }
            })
            .collect()
    }
}

/// When a trigger happened. Cancelling the account (by `at`) ends every
/// purpose, so it counts as the purpose being fulfilled if that came no
/// earlier.
fn start_of(events: &RecordEvents, trigger: Trigger, at: DateTime<Utc>) -> Option<DateTime<FixedOffset>> {
    let t = events.time_of(trigger);
    match (trigger, cancelled_by(events, at)) {
        (Trigger::PurposeFulfilled, Some(c)) => Some(t.map_or(c, |t| t.min(c))),
        _ => t,
    }
}

/// When the account was cancelled, if it was by `at`.
fn cancelled_by(events: &RecordEvents, at: DateTime<Utc>) -> Option<DateTime<FixedOffset>> {
    events.account_cancelled.filter(|c| c.to_utc() <= at)
}

/// The deadline set outside the policy, if it has not passed by `at`.
fn retained_until(events: &RecordEvents, at: DateTime<Utc>) -> Option<DateTime<FixedOffset>> {
    events.retain_until.filter(|u| at < u.to_utc())
}

fn hold_active(events: &RecordEvents, at: DateTime<Utc>) -> bool {
    events
        .legal_hold
        .as_ref()
        .is_some_and(|h| h.since.with_timezone(&Utc) <= at && h.until.is_none_or(|u| at < u.with_timezone(&Utc)))
}

pub(super) fn decide<'a, S: ConsentStore>(ctx: &Ctx<'a, S>, c: usize, d: &mut CatDraft<'a>) {
    let req = ctx.req;
    let at = ctx.at;
    let engine: &'a Engine = ctx.engine;
    let bounds = engine.bounds(c, ctx.purpose.map(|(i, _)| i), &req.events, ctx.at);
    let held = hold_active(&req.events, at);
    // The latest instant a statutory minimum still runs to, if one does.
    let mut pending_minimum: Option<DateTime<FixedOffset>> = None;
    let mut minimum_unknown: Small<&RetentionRule, 2> = Small::default();
    for b in bounds.iter() {
        match b.minimum_ends {
            Some(Ok(end)) if at < end.with_timezone(&Utc) => {
                pending_minimum = Some(pending_minimum.map_or(end, |p: DateTime<FixedOffset>| p.max(end)));
            }
            Some(Err(())) => minimum_unknown.push(b.rule),
            _ => {}
        }
    }
    let passed_max: Small<(&RetentionRule, DateTime<FixedOffset>), 2> = bounds
        .iter()
        .filter_map(|b| b.maximum_ends.filter(|m| at >= m.with_timezone(&Utc)).map(|m| (b.rule, m)))
        .collect();
    let hold = "a legal hold is in force: only storage and security are permitted";

    match req.action {
        Action::Delete | Action::Anonymise => {
            if let Some(until) = retained_until(&req.events, at) {
                d.deny(
                    builtin!("retain_until"),
                    None,
                    Msg::new(
                        &["the data must be kept until ", ", a deadline set outside the policy"],
                        [Arg::Time(until)],
                    ),
                );
                d.unmet.push(Need::NotBefore(until));
            }
            if held {
                d.deny(builtin!("legal_hold"), None, hold);
                d.obligations.push(Ob::RestrictToStorageAndSecurity);
                if let Some(until) = req.events.legal_hold.as_ref().and_then(|h| h.until) {
                    d.unmet.push(Need::NotBefore(until));
                }
                return;
            }
            for rule in minimum_unknown.iter() {
                d.deny(
                    &rule.id,
                    rule.cites.as_ref(),
                    Msg::new(
                        &["a statutory minimum runs from ", ", whose time is not known"],
                        [Arg::Trigger(rule.trigger)],
                    ),
                );
                d.unmet.push(Need::EventTime(rule.trigger));
            }
            if let Some(end) = pending_minimum {
                for b in bounds.iter().filter(|b| matches!(b.minimum_ends, Some(Ok(e)) if at < e.with_timezone(&Utc))) {
                    d.deny(
                        &b.rule.id,
                        b.rule.cites.as_ref(),
                        Msg::new(&["a statutory minimum runs until ", ""], [Arg::Time(end)]),
                    );
                }
                d.unmet.push(Need::NotBefore(end));
                if !passed_max.is_empty() {
                    d.obligations.push(Ob::RestrictToStorageAndSecurity);
                }
            }
            if !d.has_deny() {
                let action_rule = ctx.rule;
                d.permit(
                    &action_rule.id,
                    action_rule.cites.as_ref(),
                    "the policy permits it once no retention minimum holds",
                );
                for b in bounds.iter() {
                    let rule = b.rule;
                    d.permit(&rule.id, rule.cites.as_ref(), "no retention minimum is pending");
                    if rule.backups_at_next_cycle {
                        d.obligations.push(Ob::PurgeBackupsAtNextCycle);
                    }
                    if rule.isolate_backups {
                        d.obligations.push(Ob::IsolateBackups);
                    }
                    if rule.notify_recipients {
                        d.obligations.push(Ob::NotifyRecipients(d.key()));
                    }
                    if req.action == Action::Delete && rule.end_action == EndAction::Anonymise {
                        d.note(&rule.id, rule.cites.as_ref(), "the policy's end action is anonymisation");
                    }
                }
            }
        }
        Action::Retain => {
            if held {
                d.permit(builtin!("legal_hold"), None, hold);
                d.obligations.push(Ob::RestrictToStorageAndSecurity);
                return;
            }
            if bounds.is_empty() {
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
            let cancelled = cancelled_by(&req.events, at);
            let account_closed = cancelled.is_some();
            let minimum_rules: Small<(&RetentionRule, DateTime<FixedOffset>), 2> = bounds
                .iter()
                .filter_map(|b| match b.minimum_ends {
                    Some(Ok(end)) => Some((b.rule, end)),
                    _ => None,
                })
                .collect();
            // A maximum still running gives the data until then, cancelled or not.
            let maximum_pending = bounds.iter().any(|b| b.maximum_ends.is_some_and(|m| at < m.to_utc()));
            let cancelled = cancelled.filter(|_| !maximum_pending);
            match (pending_minimum, passed_max.is_empty(), cancelled) {
                (Some(end), false, _) | (Some(end), true, Some(_)) => {
                    // PIPL art. 47: the purpose is over but a statutory period
                    // still runs: keep it for storage and security only.
                    for (rule, _) in minimum_rules.iter().filter(|(_, e)| at < e.to_utc()) {
                        d.permit(
                            &rule.id,
                            rule.cites.as_ref(),
                            Msg::new(&["a statutory minimum requires keeping it until ", ""], [Arg::Time(end)]),
                        );
                    }
                    for (rule, _) in passed_max.iter() {
                        d.note(
                            &rule.id,
                            rule.cites.as_ref(),
                            "the retention maximum has passed, but a statutory minimum prevails",
                        );
                    }
                    if cancelled.is_some() {
                        d.note(
                            builtin!("account_cancelled"),
                            None,
                            "the account is cancelled: only storage and security until the minimum ends",
                        );
                    }
                    let ending = if passed_max.is_empty() { &minimum_rules } else { &passed_max };
                    d.obligations.push(Ob::RestrictToStorageAndSecurity);
                    d.obligations.push(Ob::DeleteBy(end, end_action(ending.iter().map(|(rule, _)| *rule))));
                }
                (None, false, _) => {
                    for (rule, by) in passed_max.iter() {
                        d.deny(
                            &rule.id,
                            rule.cites.as_ref(),
                            Msg::new(&["the retention period ended at ", ""], [Arg::Time(*by)]),
                        );
                        d.obligations.push(Ob::DeleteBy(*by, rule.end_action));
                        if rule.backups_at_next_cycle {
                            d.obligations.push(Ob::PurgeBackupsAtNextCycle);
                        }
                    }
                }
                (None, true, Some(cancelled_at)) => {
                    // The account is gone and no statutory period remains.
                    let by = minimum_rules.iter().map(|(_, e)| *e).fold(cancelled_at, DateTime::max);
                    d.deny(
                        builtin!("account_cancelled"),
                        None,
                        "the account is cancelled and no statutory retention remains",
                    );
                    for (rule, _) in minimum_rules.iter() {
                        d.deny(&rule.id, rule.cites.as_ref(), "its statutory minimum has passed");
                    }
                    d.obligations.push(Ob::DeleteBy(by, end_action(bounds.iter().map(|b| b.rule))));
                    if bounds.iter().any(|b| b.rule.backups_at_next_cycle) {
                        d.obligations.push(Ob::PurgeBackupsAtNextCycle);
                    }
                }
                (pending, true, None) => {
                    for b in bounds.iter() {
                        d.permit(&b.rule.id, b.rule.cites.as_ref(), "within the retention period");
                        if let Some(by) = b.maximum_ends {
                            d.obligations.push(Ob::DeleteBy(by, b.rule.end_action));
                        }
                    }
                    if let Some(until) = pending {
                        d.obligations.push(Ob::RetainUntil(until));
                    }
                    if account_closed {
                        // Every purpose ended with the account (PIPL art. 47).
                        d.note(
                            builtin!("account_cancelled"),
                            None,
                            "the account is cancelled: only storage and security until the data is deleted",
                        );
                        d.obligations.push(Ob::RestrictToStorageAndSecurity);
                    }
                }
            }
        }
        _ => {}
    }
}

fn end_action<'r>(rules: impl IntoIterator<Item = &'r RetentionRule>) -> EndAction {
    let mut actions = rules.into_iter().map(|r| r.end_action);
    match actions.next() {
        Some(first) if actions.all(|a| a == first) => first,
        _ => EndAction::DeleteOrAnonymise,
    }
}

/// A record the retention planner looks at.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct RetentionRecord {
    /// Whose data.
    pub subject: SubjectId,
    /// Which category.
    pub category: CategoryKey,
    /// For which purpose.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<PurposeId>,
    /// The record's event times and legal hold.
    #[serde(default)]
    pub events: RecordEvents,
}

impl RetentionRecord {
    /// A record of `subject`'s data in `category`, for no stated purpose,
    /// with no event times.
    pub fn new(subject: impl Into<SubjectId>, category: CategoryKey) -> Self {
        Self { subject: subject.into(), category, purpose: None, events: RecordEvents::default() }
    }

    /// Sets the purpose.
    pub fn purpose(mut self, purpose: impl Into<PurposeId>) -> Self {
        self.purpose = Some(purpose.into());
        self
    }
}

/// A record due for deletion or anonymisation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Due {
    /// The record's index in the planner's input.
    pub index: usize,
    /// Delete, anonymise, or either.
    pub end: EndAction,
    /// Since when it is due.
    pub since: DateTime<FixedOffset>,
    /// The retention rules that made it due.
    pub rules: Vec<RuleId>,
    /// What comes with the deletion (backup purge, telling recipients).
    pub obligations: Vec<Obligation>,
}

/// Lists the records due for deletion or anonymisation at a time.
#[derive(Debug)]
pub struct RetentionPlanner<'e> {
    engine: &'e Engine,
}

impl<'e> RetentionPlanner<'e> {
    /// A planner for the engine's policy.
    pub fn new(engine: &'e Engine) -> Self {
        Self { engine }
    }

    /// The records due at `at`: a retention maximum has passed, no
    /// statutory minimum is still running, no legal hold is in force, and
    /// no `retain_until` deadline lies ahead.
    /// Records of unknown categories are skipped (they cannot be decided).
    pub fn due(&self, records: &[RetentionRecord], at: DateTime<FixedOffset>) -> Vec<Due> {
        let at_utc = at.with_timezone(&Utc);
        let mut out = Vec::new();
        for (index, r) in records.iter().enumerate() {
            let Some(&c) = self.engine.cat_index.get(&r.category) else {
                continue;
            };
            if hold_active(&r.events, at_utc) || retained_until(&r.events, at_utc).is_some() {
                continue;
            }
            let purpose = r.purpose.as_ref().and_then(|p| self.engine.purpose_index.get(p).copied());
            let bounds = self.engine.bounds(c, purpose, &r.events, at_utc);
            let blocked = bounds.iter().any(|b| match b.minimum_ends {
                Some(Ok(end)) => at_utc < end.with_timezone(&Utc),
                Some(Err(())) => true,
                None => false,
            });
            if blocked {
                continue;
            }
            let passed: Vec<(&RetentionRule, DateTime<FixedOffset>)> = bounds
                .iter()
                .filter_map(|b| b.maximum_ends.filter(|m| at_utc >= m.with_timezone(&Utc)).map(|m| (b.rule, m)))
                .collect();
            let cancelled = cancelled_by(&r.events, at_utc);
            let since = match (passed.iter().map(|(_, m)| *m).min(), cancelled) {
                (Some(since), _) => since,
                (None, Some(c)) if !bounds.is_empty() && bounds.iter().all(|b| b.maximum_ends.is_none()) => {
                    bounds.iter().filter_map(|b| b.minimum_ends.and_then(Result::ok)).fold(c, DateTime::max)
                }
                _ => continue,
            };
            let passed = if passed.is_empty() { bounds.iter().map(|b| (b.rule, since)).collect() } else { passed };
            let mut obligations = Vec::new();
            if passed.iter().any(|(rule, _)| rule.backups_at_next_cycle) {
                obligations.push(Obligation::PurgeBackupsAtNextCycle);
            }
            if passed.iter().any(|(rule, _)| rule.isolate_backups) {
                obligations.push(Obligation::IsolateBackups);
            }
            let mut rules: Vec<RuleId> = passed.iter().map(|(rule, _)| rule.id.clone()).collect();
            rules.sort();
            rules.dedup();
            out.push(Due { index, end: end_action(passed.iter().map(|(rule, _)| *rule)), since, rules, obligations });
        }
        out
    }
}
