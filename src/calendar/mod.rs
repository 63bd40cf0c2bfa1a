//! Working days and deadlines on real calendars.
//!
//! A [`WorkingCalendar`] says which days are working days in a region: for
//! China the State Council's official holidays and the adjusted working
//! days (调休) that make up for them (`ChinaCalendar`, compiled in from the
//! `chinese_holiday` data crate); a caller's own table (`TableCalendar`);
//! or weekdays only (`WeekdayCalendar`, an explicit assumption). A
//! [`Deadline`] counts calendar days, months, working days or business days
//! from a start date on such a calendar, with the extensions the law allows;
//! [`DueDate`] is where it ends, with the calendar data's version so that a
//! replay reproduces it. A date outside the calendar's data is an error or
//! an explicit [`Assumption`], never a silent guess.
//!
//! Pure: nothing here reads a file or a clock.
//!
//! The module's files: `china.rs` (the State Council's schedule),
//! `weekday.rs` (weekdays only), `table.rs` (a caller's table from JSON),
//! `count.rs` (counting a [`Deadline`] on a calendar).

mod china;
mod count;
mod table;
mod weekday;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

pub use china::ChinaCalendar;
pub use table::TableCalendar;
pub use weekday::WeekdayCalendar;

/// The calendar the library has data for in `region` (an ISO 3166-1
/// alpha-2 code, as a policy's `home_region`): `CN` is [`ChinaCalendar`];
/// `None` for every other region (supply a [`TableCalendar`], or count on
/// [`WeekdayCalendar`] and say so).
///
/// ```
/// # use privacy_engine::*;
/// let cn = calendar_for_region("CN").map(|c| c.version().to_owned());
/// assert_eq!(cn.as_deref(), Some("CN chinese_holiday 2026.0.1"));
/// assert!(calendar_for_region("FR").is_none());
/// ```
pub fn for_region(region: &str) -> Option<&'static dyn WorkingCalendar> {
    static CHINA: ChinaCalendar = ChinaCalendar::new();
    match region {
        "CN" => Some(&CHINA),
        _ => None,
    }
}

/// Which days are working days in a region.
///
/// Implement it to supply a calendar of your own (a company's, a region
/// the library has no data for); `TableCalendar` reads one from JSON.
pub trait WorkingCalendar {
    /// The calendar's name and the version of its data, e.g.
    /// `CN chinese_holiday 2026.0.1`: recorded with every date computed on
    /// it.
    fn version(&self) -> &str;

    /// Whether `date` is a working day: `None` when the date is outside the
    /// calendar's data (a year whose official schedule is not published).
    fn is_working_day(&self, date: NaiveDate) -> Option<bool>;

    /// Whether `date` is a business day: Monday to Friday and not a public
    /// holiday (CCPA's "business days"). `None` outside the data.
    fn is_business_day(&self, date: NaiveDate) -> Option<bool>;

    /// The last day the calendar's data covers, named in errors and in
    /// [`Assumption::WeekdaysBeyondData`]; `None` (the default) when the
    /// data does not end or the calendar does not say. Without it, a date
    /// beyond the data is taken to start where the first uncovered day met
    /// is.
    fn data_ends(&self) -> Option<NaiveDate> {
        None
    }
}

/// Whether `date` falls on Monday to Friday.
pub(crate) fn is_weekday(date: NaiveDate) -> bool {
    use chrono::Datelike;
    date.weekday().number_from_monday() <= 5
}

/// A length of time a deadline runs for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Span {
    /// So many calendar days.
    CalendarDays(u32),
    /// So many months, ending on the same day of the month (or the month's
    /// last day when it has none).
    Months(u32),
    /// So many working days of the region's calendar (with its holidays and
    /// adjusted working days).
    WorkingDays(u32),
    /// So many business days (Monday to Friday, not a public holiday).
    BusinessDays(u32),
}

/// An extension the law allows a deadline (GDPR art. 12(3): two further
/// months; CCPA §1798.130: 45 further days, once).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Extension {
    /// How long each extension adds.
    pub span: Span,
    /// How many times it may be taken.
    pub times: u8,
}

/// A deadline rule: a span from a start date, how a period that ends on a
/// non-working day is moved, and the extensions allowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Deadline {
    /// How long it runs.
    pub span: Span,
    /// Whether a period of calendar days or months that ends on a
    /// non-working day ends on the next working day instead (EU Regulation
    /// 1182/71 art. 3(4)).
    #[serde(default)]
    pub roll_to_working_day: bool,
    /// The extensions allowed, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension: Option<Extension>,
}

impl Extension {
    /// An extension of `span`, which may be taken `times` times.
    pub fn new(span: Span, times: u8) -> Self {
        Self { span, times }
    }
}

impl Deadline {
    /// A deadline of `span`, not moved off non-working days, with no
    /// extension.
    pub fn new(span: Span) -> Self {
        Self { span, roll_to_working_day: false, extension: None }
    }

    /// The same deadline, moved to the next working day when a period of
    /// calendar days or months ends on a non-working day (EU Regulation
    /// 1182/71 art. 3(4)).
    #[must_use]
    pub fn rolled_to_working_day(mut self) -> Self {
        self.roll_to_working_day = true;
        self
    }

    /// The same deadline with `extension` allowed.
    #[must_use]
    pub fn with_extension(mut self, extension: Extension) -> Self {
        self.extension = Some(extension);
        self
    }
}

/// What a date was computed on that the calendar's data did not cover.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
#[non_exhaustive]
pub enum Assumption {
    /// Days after `data_ends` were counted as weekdays working, weekends
    /// not: the official schedule for them was not known.
    WeekdaysBeyondData {
        /// The last day the calendar's data covers.
        data_ends: NaiveDate,
    },
    /// The policy states no time limit for the right; the deadline is the
    /// one named here (a regime's default or the regulator's practice).
    DefaultTimeLimit {
        /// Where the default comes from, e.g. `App 认定方法 2019 §6`.
        source: String,
    },
}

/// What to do when a deadline runs past the calendar's data.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum BeyondData {
    /// Refuse with an error of kind [`Calendar`](crate::ErrorKind::Calendar).
    #[default]
    Refuse,
    /// Count weekdays as working days and say so in
    /// [`DueDate::assumptions`].
    AssumeWeekdays,
}

/// Where a deadline ends.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct DueDate {
    /// The last day on which the duty may still be met (in the policy's
    /// time zone).
    pub date: NaiveDate,
    /// The calendar's [`version`](WorkingCalendar::version).
    pub calendar: String,
    /// What the date rests on beyond the calendar's data; empty when
    /// nothing.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assumptions: Vec<Assumption>,
}
