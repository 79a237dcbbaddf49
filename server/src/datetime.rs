//! RFC 3339 date-times: what clients send, and the one UTC form the store keeps.

use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

/// Parses an RFC 3339 date-time (`2024-05-01T10:00:00Z`, `2024-05-01T12:00:00.250+02:00`)
/// into the stored form, [`utc_text`]. `None` if it is not one, or if it falls outside
/// the years 0000–9999 once moved to UTC.
pub fn normalize(text: &str) -> Option<String> {
    let parsed = OffsetDateTime::parse(text, &Rfc3339).ok()?;
    utc_text(parsed)
}

/// The current time in the stored form.
pub fn now() -> String {
    utc_text(OffsetDateTime::now_utc()).expect("the clock is within the years 0000-9999")
}

/// Milliseconds since the Unix epoch of an RFC 3339 date-time; `None` if it is not
/// one, or is before 1970.
pub fn to_ms(text: &str) -> Option<u64> {
    let parsed = OffsetDateTime::parse(text, &Rfc3339).ok()?;
    u64::try_from(parsed.unix_timestamp_nanos() / 1_000_000).ok()
}

/// The current time in milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    u64::try_from(OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000)
        .expect("the clock is after 1970")
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ` in UTC, truncated to milliseconds (what JavaScript's
/// `Date` carries). Every value has the same width, so text order is time order.
fn utc_text(t: OffsetDateTime) -> Option<String> {
    let t = t.checked_to_offset(UtcOffset::UTC)?;
    if !(0..=9999).contains(&t.year()) {
        return None;
    }
    Some(format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_and_fractions_become_utc_milliseconds() {
        assert_eq!(
            normalize("2024-05-01T10:00:00Z").as_deref(),
            Some("2024-05-01T10:00:00.000Z")
        );
        assert_eq!(
            normalize("2024-05-01T12:00:00.123456+02:00").as_deref(),
            Some("2024-05-01T10:00:00.123Z")
        );
        assert_eq!(
            normalize("2024-05-01t10:00:00.5z").as_deref(),
            Some("2024-05-01T10:00:00.500Z")
        );
        // RFC 3339 allows a space for the `T`.
        assert_eq!(
            normalize("2024-05-01 10:00:00Z").as_deref(),
            Some("2024-05-01T10:00:00.000Z")
        );
        assert_eq!(
            normalize("2024-12-31T23:30:00-01:00").as_deref(),
            Some("2025-01-01T00:30:00.000Z")
        );
    }

    #[test]
    fn what_is_not_rfc_3339_is_refused() {
        for bad in [
            "yesterday",
            "",
            "2024-05-01",
            "2024-05-01T10:00:00",
            "2024-13-01T10:00:00Z",
            "1714557600000",
            "0000-01-01T00:00:00+01:00",
            "9999-12-31T23:59:59-01:00",
        ] {
            assert_eq!(normalize(bad), None, "{bad}");
        }
    }

    #[test]
    fn milliseconds_since_the_epoch() {
        assert_eq!(to_ms("1970-01-01T00:00:01.5Z"), Some(1500));
        assert_eq!(to_ms("2024-05-01T12:00:00+02:00"), Some(1_714_557_600_000));
        assert_eq!(to_ms("1969-12-31T23:59:59Z"), None);
        assert_eq!(to_ms("soon"), None);
    }

    #[test]
    fn now_has_the_stored_shape() {
        let now = now();
        assert_eq!(now.len(), 24, "{now}");
        assert_eq!(normalize(&now).as_deref(), Some(now.as_str()));
    }
}
