//! Deadlines on real calendars: the Chinese State Council schedules with
//! their adjusted working days (调休), month ends, EU Regulation 1182/71
//! art. 3(4), dates beyond the data, and callers' own tables.
//!
//! The expected dates are counted by hand from the State Council's notices
//! (国务院办公厅关于2025年/2026年部分节假日安排的通知), not from the engine.

use privacy_engine::*;
use proptest::prelude::*;

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

const CN: ChinaCalendar = ChinaCalendar::new();

fn due(span: Span, start: NaiveDate, calendar: &dyn WorkingCalendar) -> Result<DueDate, Error> {
    Deadline::new(span).due(start, calendar, BeyondData::Refuse)
}

/// 2025 notice, 七: National Day and Mid-Autumn, October 1 (Wednesday) to 8
/// (Wednesday) off; Sunday September 28 and Saturday October 11 worked.
/// From Thursday September 25, the working days after it: Sep 26 (1),
/// Sep 28 Sunday worked (2), Sep 29 (3), Sep 30 (4), Oct 1–8 off, Oct 9
/// (5), Oct 10 (6), Oct 11 Saturday worked (7), Oct 13–17 (8–12), Oct
/// 20–22 (13–15): the 15th is Wednesday October 22.
#[test]
fn fifteen_working_days_over_national_day_2025() {
    let due = due(Span::WorkingDays(15), day(2025, 9, 25), &CN).unwrap();
    assert_eq!(due.date, day(2025, 10, 22));
    assert_eq!(due.calendar, "CN chinese_holiday 2026.0.1");
    assert!(due.assumptions.is_empty());
    // Counting weekdays only would give Thursday October 16: the holiday
    // week counted as working, the two adjusted days not.
    assert_eq!(
        self::due(Span::WorkingDays(15), day(2025, 9, 25), &WeekdayCalendar::new()).unwrap().date,
        day(2025, 10, 16)
    );
}

/// Business days (Monday to Friday, not a holiday) skip the adjusted
/// weekend days: Sep 26 (1), Sep 29 (2), Sep 30 (3), Oct 9 (4), Oct 10
/// (5), Oct 13–17 (6–10), Oct 20–24 (11–15): Friday October 24.
#[test]
fn fifteen_business_days_over_national_day_2025() {
    assert_eq!(due(Span::BusinessDays(15), day(2025, 9, 25), &CN).unwrap().date, day(2025, 10, 24));
    let adjusted = day(2025, 9, 28);
    assert_eq!(CN.is_working_day(adjusted), Some(true));
    assert_eq!(CN.is_business_day(adjusted), Some(false));
    assert_eq!(CN.is_business_day(day(2025, 10, 8)), Some(false));
}

/// 2026 notice, 二: Spring Festival, February 15 (Sunday) to 23 (Monday)
/// off; Saturdays February 14 and 28 worked. From Monday February 9: Feb
/// 10–13 (1–4), Feb 14 Saturday worked (5), Feb 15–23 off, Feb 24–27
/// (6–9), Feb 28 Saturday worked (10), Mar 2–6 (11–15): Friday March 6.
#[test]
fn fifteen_working_days_over_spring_festival_2026() {
    assert_eq!(due(Span::WorkingDays(15), day(2026, 2, 9), &CN).unwrap().date, day(2026, 3, 6));
    // Starting on the holiday's first day: Feb 24–27 (1–4), Feb 28 (5),
    // Mar 2–6 (6–10), Mar 9–13 (11–15).
    assert_eq!(due(Span::WorkingDays(15), day(2026, 2, 15), &CN).unwrap().date, day(2026, 3, 13));
}

#[test]
fn the_time_limit_of_a_policy_channel_is_a_deadline() {
    assert_eq!(TimeLimit::WorkingDays(15).deadline(), Deadline::new(Span::WorkingDays(15)));
    assert_eq!(TimeLimit::Days(30).deadline(), Deadline::new(Span::CalendarDays(30)));
}

/// A month from January 31 ends on the last day of February; February 28,
/// 2026 is a Saturday but an adjusted working day in China, so the
/// 1182/71 roll leaves it there, and moves it to Monday March 2 on a
/// weekday calendar.
#[test]
fn month_ends_clamp_and_roll() {
    assert_eq!(due(Span::Months(1), day(2026, 1, 31), &CN).unwrap().date, day(2026, 2, 28));
    assert_eq!(due(Span::Months(1), day(2024, 1, 31), &CN).unwrap().date, day(2024, 2, 29));
    assert_eq!(due(Span::Months(3), day(2025, 11, 30), &CN).unwrap().date, day(2026, 2, 28));
    let rolled = Deadline::new(Span::Months(1)).rolled_to_working_day();
    assert_eq!(rolled.due(day(2026, 1, 31), &CN, BeyondData::Refuse).unwrap().date, day(2026, 2, 28));
    let weekdays = WeekdayCalendar::new();
    assert_eq!(rolled.due(day(2026, 1, 31), &weekdays, BeyondData::Refuse).unwrap().date, day(2026, 3, 2));
}

/// EU Regulation 1182/71 art. 3(4): 30 days from September 1, 2025 end on
/// October 1, a holiday; the period ends on the next working day, Thursday
/// October 9 (October 1–8 off).
#[test]
fn a_period_ending_on_a_holiday_rolls_to_the_next_working_day() {
    let plain = Deadline::new(Span::CalendarDays(30));
    assert_eq!(plain.due(day(2025, 9, 1), &CN, BeyondData::Refuse).unwrap().date, day(2025, 10, 1));
    let rolled = plain.rolled_to_working_day();
    assert_eq!(rolled.due(day(2025, 9, 1), &CN, BeyondData::Refuse).unwrap().date, day(2025, 10, 9));
    // A period ending on a working day stays.
    assert_eq!(rolled.due(day(2025, 9, 10), &CN, BeyondData::Refuse).unwrap().date, day(2025, 10, 10));
}

/// The data ends on 2026-12-25. From Thursday December 10: Dec 11 (1),
/// Dec 14–18 (2–6), Dec 21–25 (7–11), then beyond the data. Refused, the
/// error names the first day beyond and the last day covered; assumed,
/// weekdays go on: Dec 28–31 (12–15).
#[test]
fn beyond_the_data_refuse_or_assume() {
    let deadline = Deadline::new(Span::WorkingDays(15));
    let err = deadline.due(day(2026, 12, 10), &CN, BeyondData::Refuse).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Calendar);
    assert!(err.to_string().contains("`2026-12-26`"), "{err}");
    assert!(err.to_string().contains("`2026-12-25`"), "{err}");
    let due = deadline.due(day(2026, 12, 10), &CN, BeyondData::AssumeWeekdays).unwrap();
    assert_eq!(due.date, day(2026, 12, 31));
    assert_eq!(due.assumptions, vec![Assumption::WeekdaysBeyondData { data_ends: day(2026, 12, 25) }]);
    // Calendar days need no calendar data.
    assert_eq!(self::due(Span::CalendarDays(30), day(2027, 3, 1), &CN).unwrap().date, day(2027, 3, 31));
    // Before the data is always an error: there is nothing to assume.
    let err = deadline.due(day(2003, 12, 1), &CN, BeyondData::AssumeWeekdays).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Calendar);
}

#[test]
fn absurd_spans_and_extensions_are_refused() {
    for span in [Span::CalendarDays(3_661), Span::WorkingDays(3_661), Span::BusinessDays(10_000), Span::Months(121)] {
        let err = due(span, day(2020, 1, 1), &WeekdayCalendar::new()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Calendar, "{span:?}");
    }
    assert!(due(Span::WorkingDays(3_660), day(2005, 1, 1), &CN).is_ok());
    let gdpr = Deadline::new(Span::Months(1)).with_extension(Extension::new(Span::Months(2), 1));
    let start = day(2026, 1, 15);
    assert_eq!(gdpr.extended(start, 1, &CN, BeyondData::Refuse).unwrap().date, day(2026, 4, 15));
    assert_eq!(
        gdpr.extended(start, 0, &CN, BeyondData::Refuse).unwrap(),
        gdpr.due(start, &CN, BeyondData::Refuse).unwrap()
    );
    assert_eq!(gdpr.extended(start, 2, &CN, BeyondData::Refuse).unwrap_err().kind(), ErrorKind::Calendar);
    let none = Deadline::new(Span::CalendarDays(45));
    assert_eq!(none.extended(start, 1, &CN, BeyondData::Refuse).unwrap_err().kind(), ErrorKind::Calendar);
}

#[test]
fn the_chinese_calendar_is_the_home_region_cn() {
    assert_eq!(calendar_for_region("CN").map(|c| c.version().to_owned()), Some(CN.version().to_owned()));
    assert!(calendar_for_region("cn").is_none());
    assert!(calendar_for_region("DE").is_none());
    assert!(WeekdayCalendar::new().version().contains("no holidays"));
}

fn table(json: &str) -> Result<TableCalendar, Error> {
    TableCalendar::from_json(json)
}

#[test]
fn a_table_calendar_counts_its_own_days() {
    let t = table(r#"{"name":"ACME","version":"1","first":"2026-12-01","last":"2026-12-31","holidays":["2026-12-24","2026-12-25"],"working_days":["2026-12-19"]}"#).unwrap();
    assert_eq!(t.version(), "ACME 1");
    // From Friday December 18: Dec 19 Saturday worked (1), Dec 21–23
    // (2–4), Dec 24–25 off, Dec 28 (5).
    assert_eq!(due(Span::WorkingDays(5), day(2026, 12, 18), &t).unwrap().date, day(2026, 12, 28));
    assert_eq!(due(Span::BusinessDays(5), day(2026, 12, 18), &t).unwrap().date, day(2026, 12, 29));
    let err = due(Span::WorkingDays(5), day(2026, 12, 28), &t).unwrap_err();
    assert!(err.to_string().contains("`2026-12-31`") && err.to_string().contains("ACME 1"), "{err}");
}

#[test]
fn a_malformed_table_is_an_error_with_its_path() {
    let cases = [
        (r#"{"name":"A","version":"1","first":"2026-12-31","last":"2026-12-01"}"#, Some("/first")),
        (r#"{"name":"A","version":"1","first":"1990-01-01","last":"2091-01-01"}"#, Some("/last")),
        (
            r#"{"name":"A","version":"1","first":"2026-01-01","last":"2026-12-31","holidays":["2026-05-01","2027-01-01"]}"#,
            Some("/holidays/1"),
        ),
        (
            r#"{"name":"A","version":"1","first":"2026-01-01","last":"2026-12-31","holidays":["2026-05-01","2026-05-01"]}"#,
            Some("/holidays/1"),
        ),
        (
            r#"{"name":"A","version":"1","first":"2026-01-01","last":"2026-12-31","holidays":["2026-05-02"],"working_days":["2026-05-02"]}"#,
            Some("/working_days/0"),
        ),
        (
            r#"{"name":"A","version":"1","first":"2026-01-01","last":"2026-12-31","working_days":["2026-05-04"]}"#,
            Some("/working_days/0"),
        ),
        (r#"{"name":"","version":"1","first":"2026-01-01","last":"2026-12-31"}"#, Some("/name")),
        (r#"{"name":"A","version":"1","first":"2026-13-01","last":"2026-12-31"}"#, Some("/first")),
        (r#"{"name":"A","version":"1","first":"2026-01-01","last":"2026-12-31","extra":1}"#, Some("/extra")),
        (r#"{"name":"A","version":"1","first":"2026-01-01"}"#, None),
        (r#"{"name":"A""#, None),
    ];
    for (json, path) in cases {
        let err = table(json).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Calendar, "{json}: {err}");
        if path.is_some() {
            assert_eq!(err.path(), path, "{json}: {err}");
        }
        let text = err.to_string();
        assert!(!text.ends_with('.') && !text.contains('\n'), "{text}");
    }
}

/// The naive count: walk the days after `start`, keep the working ones,
/// take the nth.
fn naive_nth(start: NaiveDate, n: u32, calendar: &dyn WorkingCalendar) -> NaiveDate {
    let mut date = start;
    let mut left = n;
    while left > 0 {
        date = date.succ_opt().unwrap();
        if calendar.is_working_day(date).unwrap() {
            left -= 1;
        }
    }
    date
}

proptest! {
    #[test]
    fn due_counts_as_the_naive_walk(offset in 0u32..7_900, n in 0u32..120) {
        let start = day(2004, 1, 1) + chrono::Days::new(offset.into());
        let expected = naive_nth(start, n, &CN);
        prop_assume!(expected <= day(2026, 12, 25));
        let due = due(Span::WorkingDays(n), start, &CN).unwrap();
        prop_assert_eq!(due.date, expected);
    }

    #[test]
    fn a_rolled_period_ends_on_the_first_working_day_from_its_end(offset in 0u32..8_000, n in 0u32..60) {
        let start = day(2004, 1, 1) + chrono::Days::new(offset.into());
        let end = start + chrono::Days::new(n.into());
        prop_assume!(end <= day(2026, 12, 10));
        let due = Deadline::new(Span::CalendarDays(n)).rolled_to_working_day().due(start, &CN, BeyondData::Refuse).unwrap();
        let mut expected = end;
        while !CN.is_working_day(expected).unwrap() {
            expected = expected.succ_opt().unwrap();
        }
        prop_assert_eq!(due.date, expected);
    }
}
