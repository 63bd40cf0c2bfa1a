//! When an answer is due: the policy's time limit for the right, or the
//! regulator's default, counted on the home region's calendar.

use chrono::{DateTime, Days, FixedOffset, NaiveDate};

use crate::calendar::{Assumption, BeyondData, Deadline, DueDate, Span, WorkingCalendar};
use crate::error::Error;
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
    let mut due =
        due(start, to_deadline(stated.unwrap_or(DEFAULT_LIMIT)), calendar, beyond).map_err(|e| e.to_string())?;
    if stated.is_none() {
        due.assumptions.push(Assumption::DefaultTimeLimit { source: DEFAULT_SOURCE.to_owned() });
    }
    Ok(due)
}

/// The shortest time limit a channel of the policy's offer of `right`
/// states, if any.
fn time_limit(policy: &Policy, right: Right) -> Option<TimeLimit> {
    policy
        .rights
        .iter()
        .filter(|o| o.right == right)
        .flat_map(|o| &o.channels)
        .filter_map(|c| c.time_limit)
        .min_by_key(|t| t.calendar_days())
}

/// A policy's time limit as a deadline rule.
fn to_deadline(limit: TimeLimit) -> Deadline {
    let span = match limit {
        TimeLimit::Days(d) => Span::CalendarDays(u32::from(d)),
        TimeLimit::WorkingDays(d) => Span::WorkingDays(u32::from(d)),
    };
    Deadline { span, roll_to_working_day: false, extension: None }
}

/// The date of `at` in the policy's time zone.
pub(crate) fn local_date(policy: &Policy, at: DateTime<FixedOffset>) -> Option<NaiveDate> {
    let tz = FixedOffset::east_opt(policy.settings.utc_offset_seconds)?;
    Some(at.naive_utc().checked_add_offset(tz)?.date())
}

/// Where `deadline` ends from `start`: the one call to the calendar's
/// deadline arithmetic.
fn due(
    start: NaiveDate,
    deadline: Deadline,
    calendar: &dyn WorkingCalendar,
    beyond: BeyondData,
) -> Result<DueDate, Error> {
    let mut due = DueDate { date: start, calendar: calendar.version().to_owned(), assumptions: Vec::new() };
    match deadline.span {
        Span::WorkingDays(n) => due.date = count_working(start, n, calendar, beyond, &mut due.assumptions)?,
        Span::CalendarDays(n) => {
            due.date = start
                .checked_add_days(Days::new(u64::from(n)))
                .ok_or_else(|| Error::calendar("the deadline is out of range".to_owned()))?;
        }
        _ => return Err(Error::calendar("this span is not counted here yet".to_owned())),
    }
    Ok(due)
}

/// The `n`th working day after `start`.
fn count_working(
    start: NaiveDate,
    n: u32,
    calendar: &dyn WorkingCalendar,
    beyond: BeyondData,
    assumptions: &mut Vec<Assumption>,
) -> Result<NaiveDate, Error> {
    let (mut day, mut left) = (start, n);
    while left > 0 {
        day = day.succ_opt().ok_or_else(|| Error::calendar("the deadline is out of range".to_owned()))?;
        let working = match (calendar.is_working_day(day), beyond) {
            (Some(w), _) => w,
            (None, BeyondData::AssumeWeekdays) => {
                let data_ends = day.pred_opt().unwrap_or(day);
                if !assumptions.iter().any(|a| matches!(a, Assumption::WeekdaysBeyondData { .. })) {
                    assumptions.push(Assumption::WeekdaysBeyondData { data_ends });
                }
                chrono::Datelike::weekday(&day).number_from_monday() <= 5
            }
            (None, _) => {
                return Err(Error::calendar(format!("calendar `{}` has no data for {day}", calendar.version())));
            }
        };
        if working {
            left -= 1;
        }
    }
    Ok(day)
}
