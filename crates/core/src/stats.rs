//! A site's crawl statistics (`stats` in the results and the store): what the crawl counted, typed,
//! and the checks' figures by family beside them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::HttpsReport;

/// What the crawl of a site counted and found, as the scan writes it and reports read it. Every
/// field has a default, so statistics stored by an earlier sitecensus still read.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CrawlStats {
    /// Pages fetched (the homepage included).
    pub pages_fetched: u64,
    /// Pages whose fetch failed.
    pub pages_failed: u64,
    /// Links checked.
    pub links_checked: u64,
    /// Links found broken.
    pub links_broken: u64,
    /// How long the crawl took.
    pub duration_ms: u64,
    /// Bytes of bodies read.
    pub bytes: u64,
    /// Pages cut at the body size cap.
    pub pages_truncated: u64,
    /// Addresses robots.txt kept the crawler out of.
    pub robots_excluded: u64,
    /// The robots.txt that applied, by scope (scheme, host and port).
    pub robots: BTreeMap<String, RobotsSeen>,
    /// Addresses left out, by the guard that cut them (a trap, a budget, the depth limit).
    pub urls_cut: BTreeMap<String, u64>,
    /// Addresses the sitemaps named.
    pub sitemap_urls: u64,
    /// Answers that were not HTML pages.
    pub non_html_pages: u64,
    /// Attachments read for personal data.
    pub attachments_read: u64,
    /// Attachments that could not be read.
    pub attachments_unreadable: u64,
    /// A few of those, with why.
    pub attachments_unreadable_examples: Vec<UnreadableAttachment>,
    /// Pages read through the TLS 1.0/1.1 fallback.
    pub pages_via_old_tls: u64,
    /// Pages drawn by the browser.
    pub pages_rendered: u64,
    /// Drawings that failed.
    pub render_failures: u64,
    /// Whether the site's answer for a surely-missing address was read (to tell soft 404s).
    pub soft404_probe: bool,
    /// The hosts the crawl kept to.
    pub scope: Vec<String>,
    /// Whether the crawl went on from an interrupted one.
    pub resumed: bool,
    /// How the site answered on HTTPS; null where it was not probed.
    pub https: Option<HttpsReport>,
    /// The checks' figures by family (`interaction`, `guides`, `identity`, `cms`), and any key a
    /// newer sitecensus wrote, kept as they are.
    #[serde(flatten)]
    pub figures: Map<String, Value>,
}

/// The robots.txt of one scope, as the crawl read it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RobotsSeen {
    /// What happened when it was fetched (`200`, `404: no robots.txt`, `ignored (--ignore-robots)`).
    pub status: String,
    /// The Disallow lines of the group that applies to sitecensus, as written.
    pub rules: Vec<String>,
    /// Its Crawl-delay for sitecensus, in seconds.
    pub crawl_delay: Option<f64>,
}

/// An attachment that could not be read, and why.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct UnreadableAttachment {
    /// Its address.
    pub url: String,
    /// Why it could not be read.
    pub error: String,
}

impl CrawlStats {
    /// A figure of a group (`interaction`, `guides`, `identity`, or the typed `https`) as reports
    /// show it: numbers as they are, shares as percentages, "—" where it is missing or null.
    #[must_use]
    pub fn figure(&self, group: &str, key: &str) -> String {
        let https = (group == "https").then(|| serde_json::to_value(&self.https).unwrap_or_default());
        let value = match &https {
            Some(h) => h.get(key),
            None => self.figures.get(group).and_then(|g| g.get(key)),
        };
        match value {
            None | Some(Value::Null) => "—".into(),
            Some(Value::Number(n)) if key.ends_with("share") => format!("{:.0} %", n.as_f64().unwrap_or(0.0) * 100.0),
            Some(Value::Number(n)) => n.to_string(),
            Some(Value::String(s)) => s.clone(),
            Some(Value::Bool(b)) => if *b { "yes" } else { "no" }.into(),
            Some(v) => v.to_string(),
        }
    }

    /// Whether the statistics carry the group (`interaction`, `guides`, `identity`, `https`).
    #[must_use]
    pub fn has(&self, group: &str) -> bool {
        match group {
            "https" => self.https.is_some(),
            _ => self.figures.get(group).is_some_and(Value::is_object),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statistics_of_an_earlier_version_read_and_unknown_keys_stay() {
        let old = serde_json::json!({"pages_fetched": 12, "duration_ms": 900, "interaction": {"letters": 8},
                                     "from_the_future": [1, 2]});
        let s: CrawlStats = serde_json::from_value(old).unwrap();
        assert_eq!((s.pages_fetched, s.duration_ms, s.links_checked), (12, 900, 0));
        assert!(s.has("interaction") && !s.has("https"));
        assert_eq!(s.figure("interaction", "letters"), "8");
        let back = serde_json::to_value(&s).unwrap();
        assert_eq!(back["from_the_future"], serde_json::json!([1, 2]), "a key it does not know is kept");
        assert_eq!(back["https"], Value::Null, "present as null, as every optional key");
        assert_eq!(serde_json::from_value::<CrawlStats>(back).unwrap(), s);
    }
}
