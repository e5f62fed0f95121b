//! Parsing of the record's two time formats: `start_time` (unix milliseconds in a string) and the
//! telephony timestamps (ISO 8601). Malformed values are errors, never panics: they come from the wire.

/// A time field that does not hold what the document says it holds.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    /// Not an integer number of milliseconds.
    #[error("{field} is not unix milliseconds: {value:?}")]
    NotUnixMillis { field: &'static str, value: String },
    /// Not an ISO 8601 / RFC 3339 date-time.
    #[error("{field} is not an ISO 8601 date-time: {value:?} ({reason})")]
    NotIso8601 {
        field: &'static str,
        value: String,
        reason: String,
    },
    /// A number outside the range of representable instants.
    #[error("{field} is out of range: {value}")]
    OutOfRange { field: &'static str, value: String },
}

pub(crate) fn parse_unix_millis(field: &'static str, s: &str) -> Result<i64, TimeError> {
    s.trim()
        .parse::<i64>()
        .map_err(|_| TimeError::NotUnixMillis {
            field,
            value: s.to_owned(),
        })
}

pub(crate) fn parse_iso8601(
    field: &'static str,
    s: &str,
) -> Result<chrono::DateTime<chrono::FixedOffset>, TimeError> {
    chrono::DateTime::parse_from_rfc3339(s).map_err(|e| TimeError::NotIso8601 {
        field,
        value: s.to_owned(),
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn millis_with_letters_is_an_error_not_a_panic() {
        assert!(matches!(
            parse_unix_millis("start_time", "17600x"),
            Err(TimeError::NotUnixMillis { .. })
        ));
    }

    #[test]
    fn iso_timestamp_with_microseconds_and_offset_parses() {
        let t = parse_iso8601("telephony_start", "2025-10-09T14:03:21.512000+00:00").unwrap();
        assert_eq!(t.timestamp_millis(), 1_760_018_601_512);
    }

    #[test]
    fn iso_timestamp_without_zone_is_an_error() {
        assert!(parse_iso8601("telephony_end", "2025-10-09 14:03").is_err());
    }
}
