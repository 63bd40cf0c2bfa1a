//! A caller's own calendar, read from a JSON table and validated.

use std::collections::BTreeSet;

use chrono::{Months, NaiveDate};
use serde::Deserialize;

use super::{WorkingCalendar, is_weekday};
use crate::error::Error;
use crate::limits::{MAX_ID_BYTES, MAX_LINE_BYTES, oversized};

/// The longest range a table may cover, in months: a hundred years.
const MAX_RANGE_MONTHS: u32 = 1_200;

/// A working calendar from a table the caller supplies: a company's own,
/// or a region the library has no data for.
///
/// Working days are Monday to Friday except the listed `holidays`, plus the
/// listed `working_days` (weekend days worked, as China's 调休); business
/// days are Monday to Friday except the holidays. The table covers `first`
/// to `last`; a date outside is `None`.
///
/// ```
/// # use privacy_engine::*;
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let table = TableCalendar::from_json(r#"{
///     "name": "ACME", "version": "2026.1",
///     "first": "2026-01-01", "last": "2026-12-31",
///     "holidays": ["2026-12-24"], "working_days": ["2026-12-19"]
/// }"#)?;
/// assert_eq!(table.version(), "ACME 2026.1");
/// let day = |m, d| NaiveDate::from_ymd_opt(2026, m, d).unwrap();
/// assert_eq!(table.is_working_day(day(12, 24)), Some(false));
/// assert_eq!(table.is_working_day(day(12, 19)), Some(true)); // a Saturday worked
/// assert_eq!(table.is_business_day(day(12, 19)), Some(false));
/// assert_eq!(table.is_working_day(day(12, 31).succ_opt().unwrap()), None);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableCalendar {
    /// `name version`, as [`WorkingCalendar::version`] gives it.
    label: String,
    first: NaiveDate,
    last: NaiveDate,
    holidays: BTreeSet<NaiveDate>,
    working_days: BTreeSet<NaiveDate>,
}

/// The JSON form of a table.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Table {
    name: String,
    version: String,
    first: NaiveDate,
    last: NaiveDate,
    #[serde(default)]
    holidays: Vec<NaiveDate>,
    #[serde(default)]
    working_days: Vec<NaiveDate>,
}

impl TableCalendar {
    /// Reads a table `{"name", "version", "first", "last", "holidays":
    /// [dates], "working_days": [dates]}` (dates `YYYY-MM-DD`; the two
    /// lists optional) and validates it as [`new`](TableCalendar::new)
    /// does.
    ///
    /// # Errors
    ///
    /// An error of kind [`Calendar`](crate::ErrorKind::Calendar) with the
    /// JSON pointer of the field at fault in [`Error::path`]: not JSON, an
    /// unknown or missing field, a date that does not parse, a text longer
    /// than [`MAX_LINE_BYTES`], or a rule of [`new`](TableCalendar::new)
    /// broken.
    pub fn from_json(json: &str) -> Result<Self, Error> {
        if let Some(message) = oversized("calendar table", json.len(), MAX_LINE_BYTES) {
            return Err(Error::calendar(message));
        }
        let de = &mut serde_json::Deserializer::from_str(json);
        let table: Table = serde_path_to_error::deserialize(&mut *de)
            .map_err(|e| Error::calendar_format(crate::policy::pointer(e.path()), e.into_inner()))?;
        de.end().map_err(|e| Error::calendar_format(String::new(), e))?;
        Self::new(&table.name, &table.version, table.first, table.last, table.holidays, table.working_days)
    }

    /// A table covering `first` to `last`, named `name` at `version`.
    ///
    /// # Errors
    ///
    /// An error of kind [`Calendar`](crate::ErrorKind::Calendar) with the
    /// path of the field at fault (`/first`, `/holidays/3`, ...): a name or
    /// version empty, longer than [`MAX_ID_BYTES`](crate::MAX_ID_BYTES) or
    /// with a control character; `first` after `last`; a range over a
    /// hundred years; a listed date outside the range or listed twice; a
    /// working day that is not a Saturday or Sunday, or is also a holiday.
    pub fn new(
        name: &str,
        version: &str,
        first: NaiveDate,
        last: NaiveDate,
        holidays: impl IntoIterator<Item = NaiveDate>,
        working_days: impl IntoIterator<Item = NaiveDate>,
    ) -> Result<Self, Error> {
        check_label("/name", name)?;
        check_label("/version", version)?;
        if first > last {
            return Err(Error::calendar_at(
                "/first",
                format!("the table starts on `{first}`, after its last day `{last}`"),
            ));
        }
        if first.checked_add_months(Months::new(MAX_RANGE_MONTHS)).is_none_or(|limit| last > limit) {
            return Err(Error::calendar_at("/last", "the table covers more than a hundred years".to_owned()));
        }
        let in_range = |list: &str, dates: &mut dyn Iterator<Item = NaiveDate>| -> Result<BTreeSet<NaiveDate>, Error> {
            let mut set = BTreeSet::new();
            for (i, date) in dates.enumerate() {
                let path = format!("/{list}/{i}");
                if !(first..=last).contains(&date) {
                    return Err(Error::calendar_at(&path, format!("`{date}` is outside the table's range")));
                }
                if !set.insert(date) {
                    return Err(Error::calendar_at(&path, format!("`{date}` is listed twice")));
                }
            }
            Ok(set)
        };
        let holidays = in_range("holidays", &mut holidays.into_iter())?;
        let working_days = in_range("working_days", &mut working_days.into_iter())?;
        for (i, date) in working_days.iter().enumerate() {
            let path = format!("/working_days/{i}");
            if is_weekday(*date) {
                return Err(Error::calendar_at(&path, format!("`{date}` is a weekday, not a weekend day worked")));
            }
            if holidays.contains(date) {
                return Err(Error::calendar_at(&path, format!("`{date}` is both a holiday and a working day")));
            }
        }
        Ok(Self { label: format!("{name} {version}"), first, last, holidays, working_days })
    }

    fn covers(&self, date: NaiveDate) -> bool {
        (self.first..=self.last).contains(&date)
    }
}

/// Refuses an empty, overlong or control-bearing name or version.
fn check_label(path: &str, text: &str) -> Result<(), Error> {
    let what = path.trim_start_matches('/');
    if text.trim().is_empty() || text.chars().any(char::is_control) {
        return Err(Error::calendar_at(path, format!("the {what} must not be empty or hold a control character")));
    }
    if text.len() > MAX_ID_BYTES {
        return Err(Error::calendar_at(path, format!("the {what} is longer than the limit of {MAX_ID_BYTES} bytes")));
    }
    Ok(())
}

impl WorkingCalendar for TableCalendar {
    fn version(&self) -> &str {
        &self.label
    }

    fn is_working_day(&self, date: NaiveDate) -> Option<bool> {
        self.covers(date)
            .then(|| self.working_days.contains(&date) || (is_weekday(date) && !self.holidays.contains(&date)))
    }

    fn is_business_day(&self, date: NaiveDate) -> Option<bool> {
        self.covers(date).then(|| is_weekday(date) && !self.holidays.contains(&date))
    }

    fn data_ends(&self) -> Option<NaiveDate> {
        Some(self.last)
    }
}
