//! Shared types of sitecensus: what every stage of the pipeline (fetch → extract → checks →
//! score → store → report) passes to the next. Nothing here does I/O except reading a site list
//! or rubric text that the caller already has in memory.

pub mod calendar;
pub mod check;
pub mod column;
pub mod dict;
pub mod finding;
pub mod outcome;
pub mod region;
pub mod rubric;
pub mod site;
pub mod stats;
pub mod text;
pub mod time;
pub mod urlnorm;

pub use calendar::WorkCalendar;
pub use check::CheckId;
pub use finding::{Finding, Severity};
pub use outcome::{HttpsReport, LinkKind, Outcome};
pub use rubric::{Rubric, RubricError};
pub use site::{Level, SiteList, SiteSpec};
pub use stats::CrawlStats;
pub use time::AsOf;

/// The user agent every request carries; robots.txt rules for `sitecensus` apply to it.
pub const USER_AGENT: &str =
    concat!("Mozilla/5.0 (compatible; sitecensus/", env!("CARGO_PKG_VERSION"), "; government website inspection)");

/// The robots.txt product token sitecensus obeys.
pub const ROBOTS_AGENT: &str = "sitecensus";

/// A stable 64-bit hash of a string (xxh3), used for URL sets and content hashes.
#[must_use]
pub fn hash64(bytes: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(bytes)
}
