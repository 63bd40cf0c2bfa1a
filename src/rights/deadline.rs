//! When an answer is due: the policy's time limit for the right, or the
//! regulator's default, counted on the home region's calendar.

use chrono::{DateTime, FixedOffset, NaiveDate};

use crate::calendar::{Assumption, BeyondData, DueDate, WorkingCalendar};
use crate::policy::{Policy, Right, TimeLimit};

/// Where the default time limit comes from (docs/rights.md, "The
/// deadline").
const DEFAULT_SOURCE: &str = "App 认定方法 2019 §6";

/// The default time limit when the policy states none: 15 working days.
const DEFAULT_LIMIT: TimeLimit = TimeLimit::WorkingDays(15);

/// The deadline of an answer to a request for `right` received at
/// `received`, or why it could not be computed, in words.
pub(crate) fn answer_due(
    policy: &Policy,
    right: Right,
    received: DateTime<FixedOffset>,
    calendar: &dyn WorkingCalendar,
    beyond: BeyondData,
) -> Result<DueDate, String> {
    let stated = time_limit(policy, right);
    let start = local_date(policy, received).ok_or_else(|| "the request's date is out of range".to_owned())?;
    let deadline = stated.unwrap_or(DEFAULT_LIMIT).deadline();
    let mut due = deadline.due(start, calendar, beyond).map_err(|e| e.to_string())?;
    if stated.is_none() {
        due.assumptions.push(Assumption::DefaultTimeLimit { source: DEFAULT_SOURCE.to_owned() });
    }
    Ok(due)
}

/// The time limit of the first channel of the policy's offer of `right`
/// that states one, if any.
fn time_limit(policy: &Policy, right: Right) -> Option<TimeLimit> {
    policy.rights.iter().filter(|o| o.right == right).flat_map(|o| &o.channels).find_map(|c| c.time_limit)
}

/// The date of `at` in the policy's time zone.
pub(crate) fn local_date(policy: &Policy, at: DateTime<FixedOffset>) -> Option<NaiveDate> {
    let tz = FixedOffset::east_opt(policy.settings.utc_offset_seconds)?;
    Some(at.naive_utc().checked_add_offset(tz)?.date())
}
