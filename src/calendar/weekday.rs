//! Weekdays only: the calendar of last resort, an explicit assumption.

use chrono::NaiveDate;

use super::{WorkingCalendar, is_weekday};

/// Monday to Friday are working and business days, with no holidays: for a
/// region the library has no data for. Covers every date; its
/// [`version`](WorkingCalendar::version) says that it knows no holidays, so
/// a date computed on it is never mistaken for one on an official
/// calendar.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct WeekdayCalendar;

impl WeekdayCalendar {
    /// The calendar.
    pub const fn new() -> Self {
        Self
    }
}

impl WorkingCalendar for WeekdayCalendar {
    fn version(&self) -> &str {
        "weekdays Monday to Friday, no holidays"
    }

    fn is_working_day(&self, date: NaiveDate) -> Option<bool> {
        Some(is_weekday(date))
    }

    fn is_business_day(&self, date: NaiveDate) -> Option<bool> {
        Some(is_weekday(date))
    }
}
