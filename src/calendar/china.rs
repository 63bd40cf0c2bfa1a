//! The Chinese calendar: the State Council's official holidays and the
//! adjusted working days (调休) that make up for them, from the
//! `chinese_holiday` data crate.

use chrono::{Datelike, NaiveDate};

use super::{WorkingCalendar, is_weekday};

/// The version of [`ChinaCalendar`]'s data: the data crate and its version
/// (which names the last year of the schedules it holds). A test checks it
/// against the dependency's version in `Cargo.toml`.
pub(crate) const CHINA_VERSION: &str = "CN chinese_holiday 2026.0.1";

/// The first day of the data (the 2004 schedule).
const FIRST: NaiveDate = date(2004, 1, 1);

/// The last day of the data: the data crate asserts outside it, so no
/// date after it (or before [`FIRST`]) is handed to it.
const LAST: NaiveDate = date(2026, 12, 25);

/// A date known to exist, in a constant.
const fn date(year: i32, month: u32, day: u32) -> NaiveDate {
    match NaiveDate::from_ymd_opt(year, month, day) {
        Some(d) => d,
        None => NaiveDate::MIN,
    }
}

/// Working days in mainland China: Monday to Friday, except the official
/// holidays of the State Council's yearly notice (国务院办公厅关于节假日安排的
/// 通知), plus the weekend days it declares working days (调休).
///
/// The data covers 2004-01-01 to 2026-12-25 and is compiled in (crate
/// `chinese_holiday` 2026.0.1); a date outside it is `None`, never a guess.
/// A business day is Monday to Friday and not a holiday: an adjusted
/// working day on a weekend is a working day but not a business day.
///
/// ```
/// # use privacy_engine::*;
/// let cn = ChinaCalendar::new();
/// let national_day = NaiveDate::from_ymd_opt(2025, 10, 1).unwrap();
/// let adjusted = NaiveDate::from_ymd_opt(2025, 9, 28).unwrap(); // a Sunday worked
/// assert_eq!(cn.is_working_day(national_day), Some(false));
/// assert_eq!(cn.is_working_day(adjusted), Some(true));
/// assert_eq!(cn.is_business_day(adjusted), Some(false));
/// assert_eq!(cn.is_working_day(NaiveDate::from_ymd_opt(2027, 1, 4).unwrap()), None);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ChinaCalendar;

impl ChinaCalendar {
    /// The calendar.
    pub const fn new() -> Self {
        Self
    }

    /// The data crate's kind of day, `None` outside its data.
    fn kind(date: NaiveDate) -> Option<chinese_holiday::DayKind> {
        if !(FIRST..=LAST).contains(&date) {
            return None;
        }
        let year = u16::try_from(date.year()).ok()?;
        let month = u8::try_from(date.month()).ok()?;
        let day = u8::try_from(date.day()).ok()?;
        Some(chinese_holiday::chinese_holiday(chinese_holiday::Ymd::new(year, month, day)))
    }
}

impl WorkingCalendar for ChinaCalendar {
    fn version(&self) -> &str {
        CHINA_VERSION
    }

    fn is_working_day(&self, date: NaiveDate) -> Option<bool> {
        Self::kind(date).map(|k| k.is_workday())
    }

    fn is_business_day(&self, date: NaiveDate) -> Option<bool> {
        Self::kind(date).map(|k| is_weekday(date) && !k.is_holiday())
    }

    fn data_ends(&self) -> Option<NaiveDate> {
        Some(LAST)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_version_names_the_dependency_in_cargo_toml() {
        let manifest = include_str!("../../Cargo.toml");
        let line = manifest.lines().find(|l| l.starts_with("chinese_holiday ")).unwrap_or_default();
        let version = line.split('"').nth(1).unwrap_or_default();
        assert_eq!(CHINA_VERSION, format!("CN chinese_holiday {version}"));
    }

    #[test]
    fn the_bounds_are_inside_the_data() {
        assert_eq!(FIRST, NaiveDate::from_ymd_opt(2004, 1, 1).unwrap_or(NaiveDate::MAX));
        assert_eq!(LAST, NaiveDate::from_ymd_opt(2026, 12, 25).unwrap_or(NaiveDate::MAX));
        assert!(ChinaCalendar.is_working_day(FIRST).is_some());
        assert!(ChinaCalendar.is_working_day(LAST).is_some());
        assert_eq!(ChinaCalendar.is_working_day(LAST.succ_opt().unwrap_or(LAST)), None);
        assert_eq!(ChinaCalendar.is_working_day(FIRST.pred_opt().unwrap_or(FIRST)), None);
    }
}
