//! Counting a [`Deadline`] on a [`WorkingCalendar`]: where a span from a
//! start date ends, with its extensions, and what the count assumed beyond
//! the calendar's data.

use chrono::{Days, Months, NaiveDate};

use super::{Assumption, BeyondData, Deadline, DueDate, Span, WorkingCalendar, is_weekday};
use crate::error::Error;

/// The longest span in days (or working or business days) a deadline may
/// run: about ten years. Longer ones are refused rather than counted.
const MAX_SPAN_DAYS: u32 = 3_660;

/// The longest span in months a deadline may run: ten years.
const MAX_SPAN_MONTHS: u32 = 120;

/// How many days one count may look at before it gives up: a calendar with
/// (almost) no working days would otherwise be scanned without end.
const MAX_SCAN_DAYS: u32 = 4 * MAX_SPAN_DAYS;

impl Deadline {
    /// Where the deadline ends when it runs from `start` on `calendar`.
    ///
    /// Calendar days and months run from `start` (`start` + 1 month ends
    /// on the same day of the next month, or that month's last day when it
    /// has none: January 31 + 1 month is February 28 or 29); with
    /// [`roll_to_working_day`](Deadline::roll_to_working_day) a period that
    /// ends on a non-working day ends on the next working day (EU Regulation
    /// 1182/71 art. 3(4)). Working and business days are counted from the
    /// day after `start`: the deadline is the Nth working (business) day
    /// after it.
    ///
    /// A day outside the calendar's data is refused or assumed, as `beyond`
    /// says; an assumption is listed in [`DueDate::assumptions`].
    ///
    /// # Errors
    ///
    /// An error of kind [`Calendar`](crate::ErrorKind::Calendar): a day
    /// the count needs is beyond the calendar's data and `beyond` is
    /// [`BeyondData::Refuse`] (the message names the day and the
    /// calendar's last day), or is before the data; a span longer than
    /// 3,660 days (120 months); a calendar with no working day within
    /// 14,640 days; a date past the dates chrono represents.
    ///
    /// ```
    /// # use privacy_engine::*;
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let day = |m, d| NaiveDate::from_ymd_opt(2025, m, d).unwrap();
    /// let reply = Deadline::new(Span::WorkingDays(15));
    /// let due = reply.due(day(9, 25), &ChinaCalendar::new(), BeyondData::Refuse)?;
    /// assert_eq!(due.date, day(10, 22)); // over the National Day holiday
    /// assert_eq!(due.calendar, "CN chinese_holiday 2026.0.1");
    /// # Ok(()) }
    /// ```
    pub fn due(&self, start: NaiveDate, calendar: &dyn WorkingCalendar, beyond: BeyondData) -> Result<DueDate, Error> {
        self.extended(start, 0, calendar, beyond)
    }

    /// Where the deadline ends when its [`extension`](Deadline::extension)
    /// has been taken `times` times: each extension runs from the end of the
    /// period before it (GDPR art. 12(3): two further months from the end
    /// of the first; CCPA §1798.130: 45 further days). `times` 0 is
    /// [`due`](Deadline::due).
    ///
    /// # Errors
    ///
    /// As [`due`](Deadline::due), and an error of kind
    /// [`Calendar`](crate::ErrorKind::Calendar) when `times` is more than
    /// the extension allows (or the deadline has none).
    pub fn extended(
        &self,
        start: NaiveDate,
        times: u8,
        calendar: &dyn WorkingCalendar,
        beyond: BeyondData,
    ) -> Result<DueDate, Error> {
        let allowed = self.extension.map_or(0, |e| e.times);
        if times > allowed {
            return Err(Error::calendar(format!("the deadline allows {allowed} extensions, not {times}")));
        }
        let mut count = Count { calendar, beyond, assumed: None };
        let mut end = count.after(start, self.span, self.roll_to_working_day)?;
        if let Some(extension) = self.extension {
            for _ in 0..times {
                end = count.after(end, extension.span, self.roll_to_working_day)?;
            }
        }
        let assumptions = count.assumed.map(|data_ends| Assumption::WeekdaysBeyondData { data_ends });
        Ok(DueDate {
            date: end,
            calendar: calendar.version().to_owned(),
            assumptions: assumptions.into_iter().collect(),
        })
    }
}

/// Which days a count counts.
#[derive(Clone, Copy)]
enum DayKind {
    Working,
    Business,
}

impl DayKind {
    fn name(self) -> &'static str {
        match self {
            Self::Working => "working",
            Self::Business => "business",
        }
    }
}

/// One count on a calendar: the rule beyond its data and what it assumed.
struct Count<'a> {
    calendar: &'a dyn WorkingCalendar,
    beyond: BeyondData,
    /// The calendar's last day, once a day beyond it was assumed.
    assumed: Option<NaiveDate>,
}

impl Count<'_> {
    /// Where `span` from `start` ends.
    fn after(&mut self, start: NaiveDate, span: Span, roll: bool) -> Result<NaiveDate, Error> {
        check_span(span)?;
        match span {
            Span::CalendarDays(n) => {
                self.rolled(start.checked_add_days(Days::new(n.into())).ok_or_else(unrepresentable)?, roll)
            }
            Span::Months(n) => self.rolled(start.checked_add_months(Months::new(n)).ok_or_else(unrepresentable)?, roll),
            Span::WorkingDays(n) => self.nth(start, n, DayKind::Working),
            Span::BusinessDays(n) => self.nth(start, n, DayKind::Business),
        }
    }

    /// `end`, or the first working day from it when `roll`.
    fn rolled(&mut self, end: NaiveDate, roll: bool) -> Result<NaiveDate, Error> {
        if !roll || self.is(end, DayKind::Working)? {
            return Ok(end);
        }
        self.nth(end, 1, DayKind::Working)
    }

    /// The `n`th day of `kind` after `start` (`start` itself for 0).
    fn nth(&mut self, start: NaiveDate, n: u32, kind: DayKind) -> Result<NaiveDate, Error> {
        let (mut date, mut counted) = (start, 0);
        for _ in 0..MAX_SCAN_DAYS {
            if counted == n {
                return Ok(date);
            }
            date = date.succ_opt().ok_or_else(unrepresentable)?;
            if self.is(date, kind)? {
                counted += 1;
            }
        }
        if counted == n {
            return Ok(date);
        }
        Err(Error::calendar(format!(
            "the calendar `{}` has fewer than {n} {} days in the {MAX_SCAN_DAYS} days after `{start}`",
            self.calendar.version(),
            kind.name()
        )))
    }

    /// Whether `date` is a day of `kind`: the calendar's answer, or beyond
    /// its data the weekday rule when assumed.
    fn is(&mut self, date: NaiveDate, kind: DayKind) -> Result<bool, Error> {
        let known = match kind {
            DayKind::Working => self.calendar.is_working_day(date),
            DayKind::Business => self.calendar.is_business_day(date),
        };
        if let Some(known) = known {
            return Ok(known);
        }
        let version = self.calendar.version();
        let data_ends = self.calendar.data_ends().unwrap_or_else(|| date.pred_opt().unwrap_or(date));
        if date <= data_ends {
            return Err(Error::calendar(format!("`{date}` is before the data of the calendar `{version}`")));
        }
        match self.beyond {
            BeyondData::Refuse => Err(Error::calendar(format!(
                "`{date}` is beyond the data of the calendar `{version}`, which ends on `{data_ends}`"
            ))),
            BeyondData::AssumeWeekdays => {
                self.assumed.get_or_insert(data_ends);
                Ok(is_weekday(date))
            }
        }
    }
}

/// Refuses a span longer than the limits.
fn check_span(span: Span) -> Result<(), Error> {
    let (n, max, unit) = match span {
        Span::CalendarDays(n) => (n, MAX_SPAN_DAYS, "days"),
        Span::Months(n) => (n, MAX_SPAN_MONTHS, "months"),
        Span::WorkingDays(n) => (n, MAX_SPAN_DAYS, "working days"),
        Span::BusinessDays(n) => (n, MAX_SPAN_DAYS, "business days"),
    };
    if n > max {
        return Err(Error::calendar(format!("a deadline of {n} {unit} is longer than the limit of {max} {unit}")));
    }
    Ok(())
}

/// The error for a date past chrono's range.
fn unrepresentable() -> Error {
    Error::calendar("the deadline falls past the last date that can be represented".to_owned())
}
