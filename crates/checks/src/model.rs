//! The site model the site-level checks read: what a crawl of one site found, as stored.

use serde::{Deserialize, Serialize};
use sitecensus_core::{AsOf, LinkKind, Outcome, SiteSpec};
use sitecensus_extract::Page;

/// One try at the homepage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttemptRecord {
    /// When (RFC 3339).
    pub at: String,
    /// What came of it.
    pub outcome: Outcome,
    /// How long it took.
    pub elapsed_ms: u64,
}

/// How the homepage answered during the scan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HomepageFetch {
    /// The URL asked for.
    pub url: String,
    /// Where redirects (HTTP, meta refresh or script) ended.
    pub final_url: String,
    /// The final outcome.
    pub outcome: Outcome,
    /// Time of the last attempt.
    pub elapsed_ms: u64,
    /// Every attempt.
    pub attempts: Vec<AttemptRecord>,
    /// What the last answer said it was, and how many bytes it held (evidence where the homepage
    /// answers no page).
    #[serde(default)]
    pub content_type: Option<String>,
    /// Bytes of the last answer.
    #[serde(default)]
    pub bytes: u64,
}

/// A fetched page of the site.
#[derive(Debug, Clone)]
pub struct PageEntry {
    /// The URL asked for.
    pub url: String,
    /// Where redirects ended.
    pub final_url: String,
    /// Link depth from the homepage.
    pub depth: u32,
    /// What came of fetching it.
    pub outcome: Outcome,
    /// The page model, for HTML pages that were read (links and text left out except on the homepage).
    pub page: Option<Page>,
}

/// A page that links to a target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkSource {
    /// The linking page.
    pub page: String,
    /// The link text there.
    pub text: String,
    /// Whether the link is hidden there.
    pub hidden: bool,
}

/// A link target of the site and what checking it gave.
#[derive(Debug, Clone)]
pub struct LinkTarget {
    /// Target URL.
    pub url: String,
    /// What it points at.
    pub kind: LinkKind,
    /// Whether it is inside the site.
    pub internal: bool,
    /// The check's outcome (None when it was never checked, e.g. a scan cut short).
    pub outcome: Option<Outcome>,
    /// Some of the pages that link to it.
    pub sources: Vec<LinkSource>,
    /// How many pages link to it in all.
    pub total_sources: u32,
}

/// One availability probe of the homepage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Probe {
    /// When (RFC 3339).
    pub at: String,
    /// Whether the homepage opened.
    pub ok: bool,
    /// Time taken.
    pub elapsed_ms: u64,
    /// The error, if any.
    pub error: Option<String>,
}

/// Everything the site-level checks read about one site.
#[derive(Debug, Clone)]
pub struct SiteModel {
    /// The site as listed.
    pub spec: SiteSpec,
    /// "Today" for every window.
    pub as_of: AsOf,
    /// How the homepage answered (None when it was never fetched).
    pub homepage: Option<HomepageFetch>,
    /// The pages fetched.
    pub pages: Vec<PageEntry>,
    /// The link targets found.
    pub links: Vec<LinkTarget>,
    /// Availability probes of the homepage within the rubric's window.
    pub probes: Vec<Probe>,
    /// How the site answered on HTTPS, when the scan probed it.
    pub https: Option<sitecensus_core::HttpsReport>,
}

impl SiteModel {
    /// Whether `url` is the homepage (as asked for, or where it redirected).
    #[must_use]
    pub fn is_homepage(&self, url: &str) -> bool {
        self.homepage.as_ref().is_some_and(|h| h.url == url || h.final_url == url) || self.spec.url.as_str() == url
    }

    /// The fetched pages by address, as asked for and as redirected to.
    #[must_use]
    pub fn entries_by_url(&self) -> std::collections::HashMap<&str, &PageEntry> {
        self.pages.iter().flat_map(|e| [(e.url.as_str(), e), (e.final_url.as_str(), e)]).collect()
    }

    /// The page models that were read, by address (as asked for and as redirected to).
    #[must_use]
    pub fn pages_by_url(&self) -> std::collections::HashMap<&str, &Page> {
        self.pages
            .iter()
            .filter_map(|e| e.page.as_ref().map(|pg| [(e.url.as_str(), pg), (e.final_url.as_str(), pg)]))
            .flatten()
            .collect()
    }

    /// The homepage's page model, if it was read.
    #[must_use]
    pub fn homepage_page(&self) -> Option<&Page> {
        let h = self.homepage.as_ref()?;
        self.pages
            .iter()
            .find(|p| p.url == h.final_url || p.final_url == h.final_url)
            .or_else(|| self.pages.iter().find(|p| p.url == h.url))
            .and_then(|p| p.page.as_ref())
    }
}

pub use sitecensus_core::column::Column;

/// The day of a model date (`YYYY-MM-DD`, a time after it allowed).
#[must_use]
pub fn day(s: &str) -> Option<chrono::NaiveDate> {
    chrono::NaiveDate::parse_from_str(s.get(..10)?, "%Y-%m-%d").ok()
}
