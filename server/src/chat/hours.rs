//! The chat team's business hours, from `serve --chat-hours`.
//!
//! The format is one or more rules separated by `;`, then an optional UTC offset
//! that applies to all of them (UTC without one):
//!
//! ```text
//! sun-thu 09:00-18:00 +04:00
//! mon-fri 09:00-17:30; sat 10:00-14:00 +03:00
//! sun,tue,thu 08:00-12:00 Z
//! ```
//!
//! A rule is days, a space, and `HH:MM-HH:MM`. Days are `sun mon tue wed thu fri sat`
//! (full names work too), as a list with `,` and ranges with `-` (`fri-sun` wraps
//! around the week). A range of hours ends after it starts, on the same day (`24:00`
//! is the end of the day); write a night shift as two rules.

use std::fmt;
use std::sync::Arc;

use serde_json::{json, Value};
use time::{Date, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// The day names, Sunday first, as `Weekday::number_days_from_sunday` counts.
const DAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

/// An example for the error messages.
const EXAMPLE: &str = "such as \"sun-thu 09:00-18:00 +04:00\"";

/// When the team answers: windows of minutes per day of the week, in the shop's
/// UTC offset. Cheap to clone.
#[derive(Clone, PartialEq, Eq)]
pub struct Hours(Arc<Spec>);

#[derive(PartialEq, Eq)]
struct Spec {
    /// `(day from Sunday = 0, start, end)`, in minutes from midnight, end exclusive;
    /// in order.
    windows: Vec<(u8, u16, u16)>,
    offset: UtcOffset,
    text: String,
}

impl fmt::Debug for Hours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.text)
    }
}

impl fmt::Display for Hours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.text)
    }
}

/// Reads `--chat-hours` (see the module docs); the error names the part that is wrong.
pub fn parse(text: &str) -> Result<Hours, String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(format!(
            "the chat hours are empty; write days and hours, {EXAMPLE}"
        ));
    }
    let (rules, offset) = match trimmed.rsplit_once(char::is_whitespace) {
        Some((rest, last)) if is_offset(last) => (rest, parse_offset(last)?),
        _ => (trimmed, UtcOffset::UTC),
    };
    let mut windows = Vec::new();
    for rule in rules.split(';') {
        let rule = rule.trim();
        let (days, span) = rule
            .split_once(char::is_whitespace)
            .ok_or_else(|| format!("{rule:?} is not days and hours, {EXAMPLE}"))?;
        let span = span.trim();
        let (start, end) = span
            .split_once('-')
            .ok_or_else(|| format!("{span:?} is not HH:MM-HH:MM, such as 09:00-18:00"))?;
        let (start, end) = (minutes(start, span)?, minutes(end, span)?);
        if start >= end {
            return Err(format!(
                "{span:?} ends before it starts; hours stay within one day (24:00 is its end), so write a night shift as two rules"
            ));
        }
        if start == 24 * 60 {
            return Err(format!("{span:?} starts at 24:00; start at 00:00 instead"));
        }
        for day in day_list(days)? {
            windows.push((day, start, end));
        }
    }
    windows.sort_unstable();
    Ok(Hours(Arc::new(Spec {
        windows,
        offset,
        text: trimmed.to_owned(),
    })))
}

fn is_offset(token: &str) -> bool {
    token.starts_with(['+', '-'])
        || token.eq_ignore_ascii_case("z")
        || token.eq_ignore_ascii_case("utc")
}

fn parse_offset(token: &str) -> Result<UtcOffset, String> {
    if token.eq_ignore_ascii_case("z") || token.eq_ignore_ascii_case("utc") {
        return Ok(UtcOffset::UTC);
    }
    let bad = || format!("{token:?} is not a UTC offset such as +04:00 or -05:30");
    let (sign, rest) = token.split_at(1);
    let (hours, mins) = rest.split_once(':').ok_or_else(bad)?;
    let two = |s: &str| (s.len() == 2).then(|| s.parse::<i8>().ok()).flatten();
    let (hours, mins) = (two(hours).ok_or_else(bad)?, two(mins).ok_or_else(bad)?);
    if hours > 14 || mins > 59 {
        return Err(bad());
    }
    let sign = if sign == "-" { -1 } else { 1 };
    UtcOffset::from_hms(sign * hours, sign * mins, 0).map_err(|_| bad())
}

/// `HH:MM` as minutes from midnight, up to 24:00.
fn minutes(text: &str, span: &str) -> Result<u16, String> {
    let bad = || format!("{span:?} is not HH:MM-HH:MM, such as 09:00-18:00");
    let (hours, mins) = text.trim().split_once(':').ok_or_else(bad)?;
    if hours.len() != 2 || mins.len() != 2 {
        return Err(bad());
    }
    let (hours, mins): (u16, u16) = (
        hours.parse().map_err(|_| bad())?,
        mins.parse().map_err(|_| bad())?,
    );
    if mins > 59 || hours > 24 || (hours == 24 && mins > 0) {
        return Err(format!("{text:?} is not a time of day from 00:00 to 24:00"));
    }
    Ok(hours * 60 + mins)
}

fn day(text: &str) -> Result<u8, String> {
    let lower = text.trim().to_ascii_lowercase();
    let full = [
        "sunday",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
    ];
    DAYS.iter()
        .zip(full)
        .position(|(short, full)| lower == *short || lower == full)
        .map(|d| d as u8)
        .ok_or_else(|| {
            format!(
                "{text:?} is not a day; write {} (or the full names)",
                DAYS.join(", ")
            )
        })
}

/// `sun-thu`, `sat`, `sun,tue,thu`, `fri-sun`: the days, Sunday = 0.
fn day_list(text: &str) -> Result<Vec<u8>, String> {
    let mut days = Vec::new();
    for part in text.split(',') {
        match part.split_once('-') {
            Some((from, to)) => {
                let (from, to) = (day(from)?, day(to)?);
                let mut d = from;
                loop {
                    days.push(d);
                    if d == to {
                        break;
                    }
                    d = (d + 1) % 7;
                }
            }
            None => days.push(day(part)?),
        }
    }
    Ok(days)
}

impl Hours {
    /// Whether the team is in at `now`.
    pub fn is_open(&self, now: OffsetDateTime) -> bool {
        self.spans(now)
            .iter()
            .any(|(start, end)| *start <= now && now < *end)
    }

    /// `{open, closesAt?, opensAt?, hours}`: whether the team is in at `now`, when it
    /// closes (open) or opens next (closed), as UTC date-times.
    pub fn status(&self, now: OffsetDateTime) -> Value {
        let spans = self.spans(now);
        let mut answer = json!({ "open": false, "hours": self.0.text });
        if let Some((_, end)) = spans
            .iter()
            .find(|(start, end)| *start <= now && now < *end)
        {
            answer["open"] = json!(true);
            answer["closesAt"] = json!(utc(*end));
        } else if let Some((start, _)) = spans.iter().find(|(start, _)| *start > now) {
            answer["opensAt"] = json!(utc(*start));
        }
        answer
    }

    /// The open spans from the start of `now`'s local day for eight days, joined
    /// where one ends as the next starts, in order.
    fn spans(&self, now: OffsetDateTime) -> Vec<(OffsetDateTime, OffsetDateTime)> {
        let today = now.to_offset(self.0.offset).date();
        let mut spans: Vec<(OffsetDateTime, OffsetDateTime)> = Vec::new();
        let mut date = Some(today);
        for _ in 0..8 {
            let Some(day) = date else { break };
            let weekday = day.weekday().number_days_from_sunday();
            for &(_, start, end) in self.0.windows.iter().filter(|w| w.0 == weekday) {
                let (Some(start), Some(end)) = (self.at(day, start), self.at(day, end)) else {
                    continue;
                };
                match spans.last_mut() {
                    Some(last) if last.1 >= start => last.1 = last.1.max(end),
                    _ => spans.push((start, end)),
                }
            }
            date = day.next_day();
        }
        spans
    }

    /// `minutes` after the local midnight of `day`.
    fn at(&self, day: Date, minutes: u16) -> Option<OffsetDateTime> {
        let midnight = PrimitiveDateTime::new(day, Time::MIDNIGHT).assume_offset(self.0.offset);
        midnight.checked_add(time::Duration::minutes(i64::from(minutes)))
    }
}

fn utc(t: OffsetDateTime) -> String {
    let ms = u64::try_from(t.unix_timestamp()).unwrap_or(0) * 1000;
    souk::core::time::iso8601(ms)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::format_description::well_known::Rfc3339;

    fn at(text: &str) -> OffsetDateTime {
        OffsetDateTime::parse(text, &Rfc3339).unwrap()
    }

    #[test]
    fn a_working_week_in_the_shops_offset() {
        let hours = parse("sun-thu 09:00-18:00 +04:00").unwrap();
        // Wednesday 2026-11-25, 10:00 in Dubai.
        let status = hours.status(at("2026-11-25T06:00:00Z"));
        assert_eq!(status["open"], true);
        assert_eq!(status["closesAt"], "2026-11-25T14:00:00.000Z");
        // Thursday 18:00 there: closed until Sunday 09:00.
        let status = hours.status(at("2026-11-26T14:00:00Z"));
        assert_eq!(status["open"], false);
        assert_eq!(status["opensAt"], "2026-11-29T05:00:00.000Z");
        // Wednesday 08:59 there: opens in a minute.
        let status = hours.status(at("2026-11-25T04:59:00Z"));
        assert_eq!(status["opensAt"], "2026-11-25T05:00:00.000Z");
        assert!(!hours.is_open(at("2026-11-27T08:00:00Z")), "Friday");
    }

    #[test]
    fn several_rules_lists_and_wrapping_ranges() {
        let hours = parse("mon-fri 09:00-17:30; sat 10:00-14:00").unwrap();
        assert!(hours.is_open(at("2026-11-28T13:59:00Z")), "Saturday");
        assert!(!hours.is_open(at("2026-11-29T12:00:00Z")), "Sunday");
        let wrap = parse("fri-sun 00:00-24:00; tue,thu 08:00-12:00 Z").unwrap();
        assert!(wrap.is_open(at("2026-11-29T23:59:00Z")), "Sunday night");
        assert!(!wrap.is_open(at("2026-11-30T00:00:00Z")), "Monday");
        // Friday to Sunday is one span: it closes Monday at midnight.
        assert_eq!(
            wrap.status(at("2026-11-27T10:00:00Z"))["closesAt"],
            "2026-11-30T00:00:00.000Z"
        );
    }

    #[test]
    fn mistakes_are_named() {
        for (text, expected) in [
            ("", "empty"),
            ("sun-thu", "is not days and hours"),
            ("sun-thu 9-18", "is not HH:MM-HH:MM"),
            ("sun-thu 18:00-09:00", "night shift"),
            ("sun-thu 09:00-25:00", "time of day"),
            ("sun-frx 09:00-18:00", "\"frx\" is not a day"),
            ("sun-thu 09:00-18:00 +4", "is not a UTC offset"),
            ("sun-thu 09:00-18:00 +15:00", "is not a UTC offset"),
        ] {
            let err = parse(text).unwrap_err();
            assert!(err.contains(expected), "{text:?}: {err}");
        }
    }
}
