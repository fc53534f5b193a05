//! robots.txt: fetched once per host of a site, honoured unless the user asks to inspect as an
//! office may (`--ignore-robots`); what it kept out is counted and reported.

use texting_robots::Robot;
use url::Url;

use crate::client::Fetcher;
use sitecensus_core::{Outcome, ROBOTS_AGENT};

/// Largest robots.txt read.
const MAX_ROBOTS_BYTES: usize = 512 * 1024;

/// The rules of one host.
pub struct Robots {
    robot: Option<Robot>,
    /// What happened when robots.txt was fetched (for the report).
    pub status: String,
    /// The Disallow lines of the group that applies to sitecensus, as written.
    pub rules: Vec<String>,
    /// Sitemaps it names.
    pub sitemaps: Vec<String>,
    /// Its Crawl-delay for sitecensus, in seconds.
    pub crawl_delay: Option<f64>,
}

impl Robots {
    /// Rules that allow everything (no robots.txt, or robots ignored).
    #[must_use]
    pub fn allow_all(status: &str) -> Self {
        Robots { robot: None, status: status.to_owned(), rules: Vec::new(), sitemaps: Vec::new(), crawl_delay: None }
    }

    /// Parses robots.txt text.
    #[must_use]
    pub fn parse(body: &[u8], status: &str) -> Self {
        match Robot::new(ROBOTS_AGENT, body) {
            Ok(robot) => {
                let rules = disallow_lines(&String::from_utf8_lossy(body));
                let sitemaps = robot.sitemaps.clone();
                let crawl_delay = robot.delay.map(f64::from);
                Robots { robot: Some(robot), status: status.to_owned(), rules, sitemaps, crawl_delay }
            }
            Err(e) => Self::allow_all(&format!("{status}, unreadable ({e}): everything allowed")),
        }
    }

    /// Fetches and parses the robots.txt of `origin` (scheme, host and port of a site URL).
    /// A 4xx means no rules; a 5xx or network failure is reported and treated as no rules, so
    /// that a broken robots.txt does not hide a site from its inspection.
    pub async fn fetch(fetcher: &Fetcher, origin: &Url) -> Self {
        let Ok(url) = origin.join("/robots.txt") else {
            return Self::allow_all("no robots.txt URL");
        };
        let f = fetcher.fetch(&url, reqwest::Method::GET, MAX_ROBOTS_BYTES).await;
        match &f.outcome {
            // A robots.txt past the cap is read to its last whole line, and says so (RFC 9309
            // asks crawlers to read 500 KiB at least).
            Outcome::Ok { status } if f.truncated => {
                let whole = f.body.iter().rposition(|b| *b == b'\n').map_or(&f.body[..0], |i| &f.body[..=i]);
                Self::parse(
                    whole,
                    &format!(
                        "HTTP {status}, larger than {} KB: read to its last whole line there",
                        MAX_ROBOTS_BYTES / 1024
                    ),
                )
            }
            Outcome::Ok { status } => Self::parse(&f.body, &format!("HTTP {status}")),
            o => Self::allow_all(&format!("{}: everything allowed", o.describe())),
        }
    }

    /// Whether sitecensus may fetch `url`.
    #[must_use]
    pub fn allowed(&self, url: &Url) -> bool {
        self.robot.as_ref().is_none_or(|r| r.allowed(url.as_str()))
    }
}

/// The Disallow lines of groups naming sitecensus or `*`.
fn disallow_lines(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut applies = false;
    let mut in_agents = false;
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        let (k, v) = (k.trim().to_ascii_lowercase(), v.trim());
        if k == "user-agent" {
            let names = v.to_ascii_lowercase();
            let matches = names == "*" || names.contains(ROBOTS_AGENT);
            applies = if in_agents { applies || matches } else { matches };
            in_agents = true;
        } else {
            in_agents = false;
            if applies && k == "disallow" && !v.is_empty() {
                out.push(format!("Disallow: {v}"));
            }
        }
    }
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_for_us_and_for_everyone() {
        let r = Robots::parse(b"User-agent: *\nDisallow: /admin/\nCrawl-delay: 2\nSitemap: http://a.gov.cn/sitemap.xml\n\nUser-agent: Baiduspider\nDisallow: /\n", "HTTP 200");
        assert!(!r.allowed(&Url::parse("http://a.gov.cn/admin/x").unwrap()));
        assert!(r.allowed(&Url::parse("http://a.gov.cn/col/x").unwrap()));
        assert_eq!(r.rules, ["Disallow: /admin/"]);
        assert_eq!(r.sitemaps, ["http://a.gov.cn/sitemap.xml"]);
        assert_eq!(r.crawl_delay, Some(2.0));
    }
}
