//! "Today" for every time window: `--as-of`, in China Standard Time (UTC+8, no daylight saving).

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};

/// The offset of Asia/Shanghai. China has kept UTC+8 all year since 1992, so a fixed offset is exact
/// for every date a government website can carry.
#[must_use]
pub fn china_offset() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset")
}

/// A moment as every output writes it: RFC 3339 in whole seconds, in UTC+8
/// (`2026-12-06T22:47:42+08:00`), so that jq, spreadsheets and people read it alike.
#[must_use]
pub fn stamp<Tz: TimeZone>(t: &DateTime<Tz>) -> String {
    t.with_timezone(&china_offset()).to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

/// The moment a scan is judged at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AsOf(pub DateTime<FixedOffset>);

impl AsOf {
    /// Now, in UTC+8.
    #[must_use]
    pub fn now() -> Self {
        AsOf(Utc::now().with_timezone(&china_offset()))
    }

    /// Parses `YYYY-MM-DD` (start of that day, UTC+8) or an RFC 3339 date-time.
    ///
    /// # Errors
    /// When the text is neither.
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
            return Ok(Self::from_date(d));
        }
        DateTime::parse_from_rfc3339(s)
            .map(|d| AsOf(d.with_timezone(&china_offset())))
            .map_err(|_| format!("{s:?} is not a date (YYYY-MM-DD) or an RFC 3339 date-time"))
    }

    /// The start of `date` in UTC+8.
    #[must_use]
    pub fn from_date(date: NaiveDate) -> Self {
        let dt = date.and_time(NaiveTime::MIN);
        AsOf(china_offset().from_local_datetime(&dt).single().expect("fixed offsets are unambiguous"))
    }

    /// The calendar date of the as-of moment in UTC+8.
    #[must_use]
    pub fn date(&self) -> NaiveDate {
        self.0.date_naive()
    }

    /// RFC 3339 text, as written in the results JSON.
    #[must_use]
    pub fn to_rfc3339(&self) -> String {
        stamp(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_is_start_of_day_in_china() {
        let a = AsOf::parse("2024-07-10").unwrap();
        assert_eq!(a.to_rfc3339(), "2024-07-10T00:00:00+08:00");
        assert_eq!(a.date(), NaiveDate::from_ymd_opt(2024, 7, 10).unwrap());
        let b = AsOf::parse("2024-07-09T20:00:00Z").unwrap();
        assert_eq!(b.date(), NaiveDate::from_ymd_opt(2024, 7, 10).unwrap());
        assert!(AsOf::parse("yesterday").is_err());
    }
}
