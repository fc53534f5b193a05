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
    Report { r: results, pass, fail: results.sites.len() - pass }.render().expect("the report template renders")
}

mod filters {
    #[askama::filter_fn]
    pub fn linkable(url: &str, _: &dyn askama::Values) -> askama::Result<bool> {
        Ok(super::linkable(url))
    }
}
