//! Calendar periods for retention: `P3Y`, `P6M`, `P30D`.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, Days, Months, NaiveDate};
use serde::{Deserialize, Serialize};

use super::MonthEnd;
use crate::error::{Error, shown_name};

/// A calendar period, written as an ISO 8601 duration with years, months,
/// weeks and days only: `P3Y`, `P6M`, `P2W`, `P1Y6M`, `P0D`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Period {
    /// Whole months (years count twelve).
    pub months: u32,
    /// Days (weeks count seven).
    pub days: u32,
}

impl Period {
    /// A period of years.
    pub fn years(n: u32) -> Self {
        Self { months: n.saturating_mul(12), days: 0 }
    }

    /// A period of months.
    pub fn months(n: u32) -> Self {
        Self { months: n, days: 0 }
    }

    /// A period of days.
    pub fn days(n: u32) -> Self {
        Self { months: 0, days: n }
    }

    /// Whether the period is empty (`P0D`).
    pub fn is_zero(self) -> bool {
        self.months == 0 && self.days == 0
    }

    /// The date `self` after `date`, with the month-end convention for
    /// months that are too short. `None` past the calendar's range.
    pub fn after(self, date: NaiveDate, month_end: MonthEnd) -> Option<NaiveDate> {
        let with_months = match month_end {
            MonthEnd::Clamp => date.checked_add_months(Months::new(self.months))?,
            MonthEnd::RollOver => {
                let first = date.with_day(1)?.checked_add_months(Months::new(self.months))?;
                first.checked_add_days(Days::new(u64::from(date.day() - 1)))?
            }
        };
        with_months.checked_add_days(Days::new(u64::from(self.days)))
    }
}

impl FromStr for Period {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || {
            Error::period(format!(
                "invalid period `{}`: expected an ISO 8601 duration of years, months, weeks and days such as `P3Y` or `P30D`",
                shown_name(s)
            ))
        };
        let rest = s.strip_prefix('P').ok_or_else(bad)?;
        if rest.is_empty() {
            return Err(bad());
        }
        let (mut months, mut days) = (0u32, 0u32);
        let mut num = String::new();
        let mut last_unit = 0;
        for c in rest.chars() {
            if c.is_ascii_digit() {
                num.push(c);
                continue;
            }
            let n: u32 = num.parse().map_err(|_| bad())?;
            num.clear();
            let (rank, m, d) = match c {
                'Y' => (1, n.checked_mul(12).ok_or_else(bad)?, 0),
                'M' => (2, n, 0),
                'W' => (3, 0, n.checked_mul(7).ok_or_else(bad)?),
                'D' => (4, 0, n),
                _ => return Err(bad()),
            };
            if rank <= last_unit {
                return Err(bad());
            }
            last_unit = rank;
            months = months.checked_add(m).ok_or_else(bad)?;
            days = days.checked_add(d).ok_or_else(bad)?;
        }
        if !num.is_empty() || !within_limit(months, days) {
            return Err(bad());
        }
        Ok(Self { months, days })
    }
}

/// Whether a period is at most 1000 years long, its months (12,000 at
/// most) and its days (366,000 at most) counted together: a month counts
/// for 30.5 days, so `P1000Y` and `P366000D` are the longest periods of one
/// unit, and `P1000Y1D` is too long.
fn within_limit(months: u32, days: u32) -> bool {
    u64::from(months) * 61 + u64::from(days) * 2 <= 732_000
}

impl TryFrom<String> for Period {
    type Error = Error;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Period> for String {
    fn from(p: Period) -> String {
        p.to_string()
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("P")?;
        let (y, m) = (self.months / 12, self.months % 12);
        if y > 0 {
            write!(f, "{y}Y")?;
        }
        if m > 0 {
            write!(f, "{m}M")?;
        }
        if self.days > 0 || self.months == 0 {
            write!(f, "{}D", self.days)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        for (s, canon) in
            [("P3Y", "P3Y"), ("P6M", "P6M"), ("P2W", "P14D"), ("P1Y6M", "P1Y6M"), ("P0D", "P0D"), ("P12M", "P1Y")]
        {
            assert_eq!(s.parse::<Period>().unwrap().to_string(), canon);
        }
        for bad in ["", "P", "3Y", "P3", "PY", "P3D2M", "P1H", "P99999999999Y", "P-1D", "P1000Y366000D", "P1000Y1D"] {
            assert!(bad.parse::<Period>().is_err(), "{bad}");
        }
    }

    #[test]
    fn at_most_a_thousand_years() {
        for ok in ["P1000Y", "P366000D", "P500Y183000D", "P999Y11M"] {
            assert!(ok.parse::<Period>().is_ok(), "{ok}");
        }
        for long in ["P1001Y", "P366001D", "P1000Y366000D", "P1000Y1D", "P999Y12M1D", "P52287W"] {
            assert!(long.parse::<Period>().is_err(), "{long}");
        }
    }

    #[test]
    fn month_end_conventions() {
        let jan31 = NaiveDate::from_ymd_opt(2024, 1, 31).unwrap();
        assert_eq!(Period::months(1).after(jan31, MonthEnd::Clamp), NaiveDate::from_ymd_opt(2024, 2, 29));
        assert_eq!(Period::months(1).after(jan31, MonthEnd::RollOver), NaiveDate::from_ymd_opt(2024, 3, 2));
        let feb29 = NaiveDate::from_ymd_opt(2024, 2, 29).unwrap();
        assert_eq!(Period::years(3).after(feb29, MonthEnd::Clamp), NaiveDate::from_ymd_opt(2027, 2, 28));
        assert_eq!(Period::years(3).after(feb29, MonthEnd::RollOver), NaiveDate::from_ymd_opt(2027, 3, 1));
    }
}
