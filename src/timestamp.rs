//! The one reading of a time in a request, a retention record or a consent
//! event: an RFC 3339 timestamp and nothing looser.
//!
//! Accepted: `YYYY-MM-DDTHH:MM:SS`, an optional fraction of one to nine
//! digits, then `Z` or an offset `+HH:MM` / `-HH:MM` (`T` and `Z` may be
//! lowercase). So a year lies within 0000–9999; an offset without its colon
//! (`+0800`), a space for the `T`, a missing offset or a signed six-digit
//! year are refused. A leap second (`:60`) is accepted only where one can
//! occur, at 23:59:60 UTC.

use std::fmt;

use chrono::{DateTime, FixedOffset, Timelike};
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer};

/// What a refused time is told, without the value.
const EXPECTED: &str = "a time must be an RFC 3339 timestamp such as `2024-05-01T10:00:00+08:00`";

/// Parses an RFC 3339 timestamp.
pub(crate) fn parse(s: &str) -> Option<DateTime<FixedOffset>> {
    if !has_rfc3339_shape(s.as_bytes()) {
        return None;
    }
    let at = DateTime::parse_from_rfc3339(s).ok()?;
    let leap = at.nanosecond() >= 1_000_000_000;
    let utc = at.naive_utc().time();
    if leap && (utc.hour(), utc.minute()) != (23, 59) {
        return None;
    }
    Some(at)
}

/// Whether `s` is laid out as RFC 3339 section 5.6 lays out a date-time.
fn has_rfc3339_shape(s: &[u8]) -> bool {
    let digits = |range: std::ops::Range<usize>| s.get(range).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    let at = |i: usize, allowed: &[u8]| s.get(i).is_some_and(|b| allowed.contains(b));
    let date_time = digits(0..4)
        && at(4, b"-")
        && digits(5..7)
        && at(7, b"-")
        && digits(8..10)
        && at(10, b"Tt")
        && digits(11..13)
        && at(13, b":")
        && digits(14..16)
        && at(16, b":")
        && digits(17..19);
    if !date_time {
        return false;
    }
    let mut i = 19;
    if at(i, b".") {
        let n = s.get(i + 1..).map_or(0, |rest| rest.iter().take_while(|b| b.is_ascii_digit()).count());
        if !(1..=9).contains(&n) {
            return false;
        }
        i += 1 + n;
    }
    match s.get(i..) {
        Some([b'Z' | b'z']) => true,
        Some([b'+' | b'-', _, _, b':', _, _]) => digits(i + 1..i + 3) && digits(i + 4..i + 6),
        _ => false,
    }
}

/// Deserialises a time through [`parse`].
pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<FixedOffset>, D::Error> {
    d.deserialize_str(TimeVisitor)
}

/// Deserialises an optional time through [`parse`] (with
/// `#[serde(default)]`, for a field that may be absent).
pub(crate) fn deserialize_option<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<FixedOffset>>, D::Error> {
    Ok(Option::<Strict>::deserialize(d)?.map(|Strict(at)| at))
}

/// A time read through [`parse`].
struct Strict(DateTime<FixedOffset>);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        deserialize(d).map(Strict)
    }
}

struct TimeVisitor;

impl Visitor<'_> for TimeVisitor {
    type Value = DateTime<FixedOffset>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an RFC 3339 timestamp")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
        parse(text).ok_or_else(|| E::custom(EXPECTED))
    }
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn only_rfc_3339_is_read() {
        for good in [
            "2024-05-01T10:00:00+08:00",
            "2024-05-01T10:00:00Z",
            "2024-05-01t10:00:00z",
            "2024-05-01T10:00:00.123456789-05:00",
            "2016-12-31T23:59:60Z",
            "2017-01-01T07:59:60+08:00",
            "0000-01-01T00:00:00Z",
            "9999-12-31T23:59:59Z",
        ] {
            assert!(parse(good).is_some(), "{good}");
        }
        for bad in [
            "2024-05-01T10:00:00+0800",
            "2024-05-01T10:00:00",
            "2024-05-01 10:00:00Z",
            "+12345-05-01T10:00:00Z",
            "-0001-05-01T10:00:00Z",
            "2024-05-01T10:07:60Z",
            "2024-05-01T10:00:00.Z",
            "2024-05-01T10:00:00.1234567890Z",
            "2024-02-30T10:00:00Z",
            "2024-05-01T10:00:00+24:00",
            "2024-05-01T10:00:00+08:00 ",
            "",
        ] {
            assert!(parse(bad).is_none(), "{bad}");
        }
    }
}
