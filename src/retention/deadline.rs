//! Where a retention rule's periods end for one record, from the record's
//! event times, in the policy's time zone and calendar conventions.

use chrono::{DateTime, Days, FixedOffset, NaiveTime, Utc};

use crate::policy::{EndAction, Period, RetentionRule, Settings, Trigger};
use crate::request::RecordEvents;

/// Where a rule's periods end for one record.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Bounds<'a> {
    pub(crate) rule: &'a RetentionRule,
    /// From this instant the minimum has passed (deletion is permitted).
    /// `Err(())` when the trigger event has not happened yet.
    pub(crate) minimum_ends: Option<Result<DateTime<FixedOffset>, ()>>,
    /// From this instant keeping the data is no longer permitted.
    pub(crate) maximum_ends: Option<DateTime<FixedOffset>>,
}

impl Bounds<'_> {
    /// Whether the minimum still runs at `at`.
    pub(crate) fn minimum_pending(&self, at: DateTime<Utc>) -> bool {
        matches!(self.minimum_ends, Some(Ok(end)) if at < end.to_utc())
    }

    /// When the maximum ended, if it has by `at`.
    pub(crate) fn maximum_passed(&self, at: DateTime<Utc>) -> Option<DateTime<FixedOffset>> {
        self.maximum_ends.filter(|m| at >= m.to_utc())
    }
}

/// The bounds of each of `rules` for a record with these events at `at`.
pub(crate) fn bounds<'a>(
    rules: impl Iterator<Item = &'a RetentionRule>,
    settings: &'a Settings,
    events: &'a RecordEvents,
    at: DateTime<Utc>,
) -> impl Iterator<Item = Bounds<'a>> {
    rules.map(move |rule| {
        let start = start_of(events, rule.trigger, at);
        Bounds {
            rule,
            minimum_ends: rule.minimum.map(|m| start.and_then(|t| period_end(settings, t, m)).ok_or(())),
            // A maximum of zero keeps nothing past its start (the
            // collection, the cancellation, the purpose's end): it ends at
            // that instant, not at the end of its day.
            maximum_ends: rule
                .maximum
                .and_then(|m| start.and_then(|t| if m.is_zero() { Some(t) } else { period_end(settings, t, m) })),
        }
    })
}

/// The instant from which a period that starts at `from` has run out, in
/// the policy's time zone and calendar conventions.
fn period_end(s: &Settings, from: DateTime<FixedOffset>, period: Period) -> Option<DateTime<FixedOffset>> {
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

/// When the account was cancelled, if it was by `at`: the one check of a
/// cancelled account, for decisions and the planner alike.
pub(crate) fn cancelled_by(events: &RecordEvents, at: DateTime<Utc>) -> Option<DateTime<FixedOffset>> {
    events.account_cancelled.filter(|c| c.to_utc() <= at)
}

/// The deadline set outside the policy, if it has not passed by `at`.
pub(crate) fn retained_until(events: &RecordEvents, at: DateTime<Utc>) -> Option<DateTime<FixedOffset>> {
    events.retain_until.filter(|u| at < u.to_utc())
}

/// Whether a legal hold is in force at `at`.
pub(crate) fn hold_active(events: &RecordEvents, at: DateTime<Utc>) -> bool {
    events
        .legal_hold
        .as_ref()
        .is_some_and(|h| h.since.with_timezone(&Utc) <= at && h.until.is_none_or(|u| at < u.with_timezone(&Utc)))
}

/// What ends the data under these rules: their common end action, or
/// either when they differ.
pub(crate) fn end_action<'r>(rules: impl IntoIterator<Item = &'r RetentionRule>) -> EndAction {
    let mut actions = rules.into_iter().map(|r| r.end_action);
    match actions.next() {
        Some(first) if actions.all(|a| a == first) => first,
        _ => EndAction::DeleteOrAnonymise,
    }
}
