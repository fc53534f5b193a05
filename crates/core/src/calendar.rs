//! Working days: Monday to Friday, minus public holidays, plus the weekend days that are worked
//! instead (调休), from a calendar file shipped with the rubrics that a user can replace.

use std::collections::{BTreeMap, HashSet};

use chrono::{Datelike, Duration, NaiveDate, Weekday};
use serde::Deserialize;

/// The shipped calendar of the People's Republic of China.
pub const SHIPPED: &[(&str, &str)] = &[("cn-workdays", include_str!("../rubrics/calendar/cn-workdays.toml"))];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct YearEntry {
    #[serde(default)]
    holidays: Vec<String>,
    #[serde(default)]
    workdays: Vec<String>,
}

/// A working-day calendar.
#[derive(Debug, Clone, Default)]
pub struct WorkCalendar {
    holidays: HashSet<NaiveDate>,
    workdays: HashSet<NaiveDate>,
    years: Vec<i32>,
}

fn days(spec: &str) -> Result<Vec<NaiveDate>, String> {
    let parse =
        |s: &str| NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|e| format!("{s:?} is not a date: {e}"));
    match spec.split_once("..") {
        None => Ok(vec![parse(spec)?]),
        Some((a, b)) => {
            let (a, b) = (parse(a)?, parse(b)?);
            if b < a || (b - a).num_days() > 31 {
                return Err(format!("{spec:?} is not a range of at most a month"));
            }
            Ok(a.iter_days().take_while(|d| *d <= b).collect())
        }
    }
}

impl WorkCalendar {
    /// Reads calendar text: one table per year with `holidays` and `workdays` lists of dates or
    /// `first..last` ranges.
    ///
    /// # Errors
    /// When the text is not such a calendar.
    pub fn parse(text: &str) -> Result<Self, String> {
        let years: BTreeMap<String, YearEntry> = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut cal = WorkCalendar::default();
        for (year, entry) in years {
            cal.years.push(year.parse().map_err(|_| format!("[{year}] is not a year"))?);
            for d in &entry.holidays {
                cal.holidays.extend(days(d)?);
            }
            for d in &entry.workdays {
                cal.workdays.extend(days(d)?);
            }
        }
        Ok(cal)
    }

    /// A shipped calendar by name, or a calendar file by path.
    ///
    /// # Errors
    /// When it is neither, or the file is not a calendar.
    pub fn load(name: &str) -> Result<Self, String> {
        let text = match SHIPPED.iter().find(|(n, _)| *n == name) {
            Some((_, t)) => (*t).to_owned(),
            None => std::fs::read_to_string(name).map_err(|e| {
                format!("calendar {name:?}: not a shipped one (cn-workdays) and not a readable file ({e})")
            })?,
        };
        Self::parse(&text).map_err(|e| format!("calendar {name:?}: {e}"))
    }

    /// Whether the calendar lists the holidays of `year` (else only weekends are known).
    #[must_use]
    pub fn covers(&self, year: i32) -> bool {
        self.years.contains(&year)
    }

    /// Whether `d` is a working day.
    #[must_use]
    pub fn is_workday(&self, d: NaiveDate) -> bool {
        if self.workdays.contains(&d) {
            return true;
        }
        !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) && !self.holidays.contains(&d)
    }

    /// Working days after `from` up to and including `to` (0 when `to` is not later): a reply
    /// on the next working day took one working day.
    #[must_use]
    pub fn working_days(&self, from: NaiveDate, to: NaiveDate) -> i64 {
        let mut n = 0;
        let mut d = from + Duration::days(1);
        while d <= to {
            n += i64::from(self.is_workday(d));
            d += Duration::days(1);
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn national_day_week_and_its_make_up_saturday() {
        let cal = WorkCalendar::load("cn-workdays").unwrap();
        assert!(cal.covers(2019) && cal.covers(2026) && !cal.covers(2018));
        assert!(!cal.is_workday(d("2024-10-01")), "National Day");
        assert!(cal.is_workday(d("2024-10-12")), "a Saturday worked instead");
        assert!(cal.is_workday(d("2024-09-29")), "a Sunday worked instead");
        assert!(!cal.is_workday(d("2024-10-13")), "an ordinary Sunday");
        // Asked on Monday 30 September, answered on Tuesday 8 October: the holiday week does
        // not count, the Sunday before it (worked) is before the letter.
        assert_eq!(cal.working_days(d("2024-09-30"), d("2024-10-08")), 1);
        // A plain week: Monday to the next Monday is five working days; with the Dragon Boat
        // Festival on that Monday, four.
        assert_eq!(cal.working_days(d("2024-06-17"), d("2024-06-24")), 5);
        assert_eq!(cal.working_days(d("2024-06-03"), d("2024-06-10")), 4);
        assert_eq!(cal.working_days(d("2024-06-10"), d("2024-06-03")), 0);
        // Spring Festival 2025: asked Friday 24 January, answered Wednesday 5 February.
        // Working days after it: Sun 26 Jan (worked), Mon 27 Jan, Wed 5 Feb.
        assert_eq!(cal.working_days(d("2025-01-24"), d("2025-02-05")), 3);
    }

    #[test]
    fn a_broken_calendar_is_refused_with_the_reason() {
        assert!(WorkCalendar::parse("[2024]\nholidays = [\"2024-13-01\"]").unwrap_err().contains("2024-13-01"));
        assert!(WorkCalendar::parse("[2024]\nholidays = [\"2024-10-07..2024-10-01\"]").is_err());
        assert!(WorkCalendar::parse("[year]\n").unwrap_err().contains("not a year"));
        assert!(WorkCalendar::load("no-such-calendar").unwrap_err().contains("cn-workdays"));
    }
}
