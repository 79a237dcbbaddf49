//! Timestamps on the wire: RFC 3339 in UTC, with milliseconds; and the calendar
//! arithmetic the loyalty rules need (UTC dates, whole months), in plain integers.

/// Milliseconds in a day.
pub const DAY_MS: u64 = 86_400_000;

/// `ms` since the Unix epoch as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn iso8601(ms: u64) -> String {
    let (days, ms_of_day) = (ms / DAY_MS, ms % DAY_MS);
    let (year, month, day) = civil_from_days(days as i64);
    let two = |n: u64| [b'0' + (n / 10) as u8, b'0' + (n % 10) as u8];
    let mut out = Vec::with_capacity(24);
    out.extend(super::json::integer(year).bytes());
    out.push(b'-');
    out.extend(two(month));
    out.push(b'-');
    out.extend(two(day));
    out.push(b'T');
    out.extend(two(ms_of_day / 3_600_000));
    out.push(b':');
    out.extend(two(ms_of_day / 60_000 % 60));
    out.push(b':');
    out.extend(two(ms_of_day / 1000 % 60));
    out.push(b'.');
    let millis = ms_of_day % 1000;
    out.extend([
        b'0' + (millis / 100) as u8,
        b'0' + (millis / 10 % 10) as u8,
        b'0' + (millis % 10) as u8,
    ]);
    out.push(b'Z');
    String::from_utf8(out).unwrap_or_default()
}

/// Milliseconds since the Unix epoch of an RFC 3339 date-time such as
/// `2026-11-25T09:30:00.123Z` or `2026-11-25T13:30:00+04:00`; `None` if it is not
/// one, or is before 1970.
pub fn parse_iso8601(text: &str) -> Option<u64> {
    let b = text.as_bytes();
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        let digits = b.get(range)?;
        digits.iter().try_fold(0i64, |n, d| {
            d.is_ascii_digit().then(|| n * 10 + i64::from(d - b'0'))
        })
    };
    let fixed = [(4, b'-'), (7, b'-'), (13, b':'), (16, b':')];
    if fixed.iter().any(|&(i, c)| b.get(i) != Some(&c))
        || !matches!(b.get(10), Some(b'T' | b't' | b' '))
    {
        return None;
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut at = 19;
    let mut millis = 0;
    if b.get(at) == Some(&b'.') {
        at += 1;
        let start = at;
        while b.get(at).is_some_and(u8::is_ascii_digit) {
            if at < start + 3 {
                millis = millis * 10 + i64::from(b[at] - b'0');
            }
            at += 1;
        }
        if at == start {
            return None;
        }
        millis *= 10i64.pow(3u32.saturating_sub((at - start) as u32));
    }
    let offset_minutes = match b.get(at)? {
        b'Z' | b'z' if at + 1 == b.len() => 0,
        sign @ (b'+' | b'-') if at + 6 == b.len() && b[at + 3] == b':' => {
            let minutes = num(at + 1..at + 3)? * 60 + num(at + 4..at + 6)?;
            if *sign == b'+' {
                minutes
            } else {
                -minutes
            }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month as u64, day as u64);
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
    u64::try_from(seconds * 1000 + millis).ok()
}

/// The UTC calendar date of `ms` since the Unix epoch: (year, month 1–12, day 1–31).
pub fn date(ms: u64) -> (i64, u64, u64) {
    civil_from_days((ms / DAY_MS) as i64)
}

/// `ms` moved `months` calendar months later, at the same time of day. A day the
/// later month lacks becomes its last day: 31 January plus one month is 28 (or 29)
/// February.
pub fn add_months(ms: u64, months: u32) -> u64 {
    let (days, ms_of_day) = (ms / DAY_MS, ms % DAY_MS);
    let (year, month, day) = civil_from_days(days as i64);
    let index = year * 12 + (month as i64 - 1) + i64::from(months);
    let (year, month) = (index.div_euclid(12), index.rem_euclid(12) as u64 + 1);
    let day = day.min(days_in_month(year, month));
    let days = days_from_civil(year, month, day).max(0) as u64;
    days.saturating_mul(DAY_MS).saturating_add(ms_of_day)
}

fn days_in_month(year: i64, month: u64) -> u64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Howard Hinnant's civil-to-days algorithm: (y, m, d) to days since 1970-01-01.
fn days_from_civil(year: i64, month: u64, day: u64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year.rem_euclid(400);
    let mp = ((month + 9) % 12) as i64;
    let doy = (153 * mp + 2) / 5 + day as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Howard Hinnant's days-to-civil algorithm: days since 1970-01-01 to (y, m, d).
fn civil_from_days(days: i64) -> (i64, u64, u64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u64;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u64;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_back_what_it_writes_and_rfc_3339_offsets() {
        for ms in [0, 1_764_000_000_123, 951_782_400_000] {
            assert_eq!(parse_iso8601(&iso8601(ms)), Some(ms));
        }
        let noon = parse_iso8601("2026-11-25T12:00:00Z").unwrap();
        assert_eq!(parse_iso8601("2026-11-25T16:00:00+04:00"), Some(noon));
        assert_eq!(parse_iso8601("2026-11-25T12:00:00.5Z"), Some(noon + 500));
        assert_eq!(
            parse_iso8601("2026-11-25T12:00:00.123456Z"),
            Some(noon + 123)
        );
        for bad in [
            "",
            "2026-11-25",
            "2026-13-01T00:00:00Z",
            "2026-11-25T12:00:00",
            "2026-11-25T12:00:00.Z",
            "1969-12-31T23:59:59Z",
            "2026-11-25T12:00:00+4:00",
            "２０２６-11-25T12:00:00Z",
        ] {
            assert_eq!(parse_iso8601(bad), None, "{bad}");
        }
    }

    #[test]
    fn formats_known_instants() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(iso8601(1_764_067_097_123), "2025-11-25T10:38:17.123Z");
        assert_eq!(iso8601(4_102_444_799_999), "2099-12-31T23:59:59.999Z");
    }

    #[test]
    fn dates_are_utc_calendar_days() {
        assert_eq!(date(0), (1970, 1, 1));
        assert_eq!(date(951_782_400_000), (2000, 2, 29));
        assert_eq!(
            date(1_735_689_599_999),
            (2024, 12, 31),
            "last ms of the year"
        );
        assert_eq!(date(1_735_689_600_000), (2025, 1, 1));
        for days in [0, 59, 365, 11_016, 20_000, 47_482] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days, "{y}-{m}-{d}");
        }
    }

    #[test]
    fn adding_months_keeps_the_day_and_time_or_takes_the_months_last_day() {
        let jan_15_noon = 1_736_942_400_000; // 2025-01-15T12:00:00Z
        assert_eq!(
            iso8601(add_months(jan_15_noon, 0)),
            "2025-01-15T12:00:00.000Z"
        );
        assert_eq!(
            iso8601(add_months(jan_15_noon, 12)),
            "2026-01-15T12:00:00.000Z"
        );
        assert_eq!(
            iso8601(add_months(jan_15_noon, 23)),
            "2026-12-15T12:00:00.000Z"
        );
        let jan_31 = 1_706_659_200_123; // 2024-01-31T00:00:00.123Z
        assert_eq!(iso8601(add_months(jan_31, 1)), "2024-02-29T00:00:00.123Z");
        assert_eq!(iso8601(add_months(jan_31, 13)), "2025-02-28T00:00:00.123Z");
        assert_eq!(iso8601(add_months(jan_31, 3)), "2024-04-30T00:00:00.123Z");
    }
}
