//! The HTML report: one self-contained file (inline CSS, no scripts, no outside requests). Every
//! string that came from a crawled page is escaped by the template engine, and only http(s)
//! URLs become links.

use askama::Template;

use crate::Results;

#[derive(Template)]
#[template(path = "report.html")]
struct Report<'a> {
    r: &'a Results,
    pass: usize,
    fail: usize,
    /// Each site's 1-based place in the results (its section's anchor), by the URL it was given as.
    places: std::collections::HashMap<&'a str, usize>,
}

impl Report<'_> {
    /// The summary's groupings with their titles.
    fn groups(&self) -> [(&'static str, &[crate::summary::Group]); 3] {
        let s = &self.r.summary;
        [("按级别 By level", &s.by_level), ("按地区 By region", &s.by_region), ("按省份 By province", &s.by_province)]
    }

    /// The 1-based place of the site given as `url` in the results (its section's anchor).
    fn index_of(&self, url: &str) -> Option<usize> {
        self.places.get(url).copied()
    }
}

/// Whether a string may be used as a link target (http or https only).
#[must_use]
pub fn linkable(url: &str) -> bool {
    let l = url.trim_start().to_ascii_lowercase();
    l.starts_with("http://") || l.starts_with("https://")
}

/// Renders the report.
#[must_use]
pub fn render(results: &Results) -> String {
    let pass = results.sites.iter().filter(|s| s.verdict == "pass").count();
    let places = results.sites.iter().enumerate().map(|(i, s)| (s.url.as_str(), i + 1)).collect();
    Report { r: results, pass, fail: results.sites.len() - pass, places }.render().expect("the report template renders")
}

mod filters {
    #[askama::filter_fn]
    pub fn linkable(url: &str, _: &dyn askama::Values) -> askama::Result<bool> {
        Ok(super::linkable(url))
    }
}
