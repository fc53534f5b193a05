//! `i18n.untranslated`: a foreign-language version (English, or another language) whose pages are
//! mostly Chinese text — left untranslated, or machine-translation debris.

use serde::Deserialize;
use sitecensus_core::CheckId;
use sitecensus_core::Finding;
use sitecensus_extract::Page;

use crate::Rule;

/// `i18n.untranslated`.
pub const ID: CheckId = CheckId::I18nUntranslated;

/// Parameters of the check.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Share of Chinese characters beyond which a foreign-language page is untranslated.
    pub max_cjk_share: f64,
    /// Pages with fewer letters than this are not judged.
    pub min_chars: usize,
    /// Path segments and host prefixes that mark a foreign-language version.
    pub markers: Vec<String>,
}

/// Whether the page belongs to a foreign-language version of the site.
#[must_use]
pub fn is_foreign_version(url: &str, markers: &[String]) -> bool {
    let Ok(u) = url::Url::parse(url) else { return false };
    let host = u.host_str().unwrap_or_default().to_ascii_lowercase();
    let first = u.path_segments().and_then(|mut s| s.next()).unwrap_or("").to_ascii_lowercase();
    markers.iter().any(|m| first == *m || host.starts_with(&format!("{m}.")))
}

/// The share of Chinese characters among the letters of a text.
#[must_use]
pub fn cjk_share(text: &str) -> (f64, usize) {
    let (mut cjk, mut latin) = (0usize, 0usize);
    for c in text.chars() {
        if ('\u{4e00}'..='\u{9fff}').contains(&c) || ('\u{3400}'..='\u{4dbf}').contains(&c) {
            cjk += 1;
        } else if c.is_alphabetic() {
            latin += 1;
        }
    }
    let letters = cjk + latin;
    (if letters == 0 { 0.0 } else { cjk as f64 / letters as f64 }, letters)
}

/// The check over one page.
#[must_use]
pub fn check(page: &Page, rule: &Rule<Params>) -> Vec<Finding> {
    if !is_foreign_version(&page.url, &rule.params.markers) {
        return Vec::new();
    }
    let body = if page.main_text.is_empty() { &page.text } else { &page.main_text };
    let (share, letters) = cjk_share(&format!("{} {body}", page.title));
    if letters < rule.params.min_chars || share <= rule.params.max_cjk_share {
        return Vec::new();
    }
    vec![
        Finding::new(ID, rule.severity, format!("a foreign-language page that is {:.0} % Chinese text", share * 100.0))
            .zh(format!("外文版页面中 {:.0}% 的文字是中文", share * 100.0))
            .page(page.url.clone())
            .detail("cjk_share", (share * 1000.0).round() / 1000.0)
            .detail("title", page.title.clone()),
    ]
}
