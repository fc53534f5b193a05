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

    /// Rules that allow nothing: a robots.txt that cannot be read for a server or network error
    /// means complete disallow until it answers (RFC 9309, 2.3.1.4).
    #[must_use]
    pub fn disallow_all(status: &str) -> Self {
        let robot = Robot::new(ROBOTS_AGENT, b"User-agent: *\nDisallow: /\n").ok();
        Robots {
            robot,
            status: status.to_owned(),
            rules: vec!["Disallow: /".to_owned()],
            sitemaps: Vec::new(),
            crawl_delay: None,
        }
    }

    /// Parses robots.txt text (a UTF-8 byte order mark is skipped).
    #[must_use]
    pub fn parse(body: &[u8], status: &str) -> Self {
        let body = body.strip_prefix(b"\xef\xbb\xbf").unwrap_or(body);
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

    /// Fetches and parses the robots.txt of `origin` (scheme, host and port of a site URL), as
    /// RFC 9309 says: a 4xx means no rules; a 5xx or a network failure means complete disallow
    /// (said in `status`; `--ignore-robots` is the office's way past it).
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
            // A server or network error: the rules are unknown, so nothing is allowed.
            o @ (Outcome::HttpError { status: 500.. }
            | Outcome::Dns { .. }
            | Outcome::Connect { .. }
            | Outcome::Tls { .. }
            | Outcome::Timeout { .. }
            | Outcome::Body { .. }) => {
                Self::disallow_all(&format!("{}: complete disallow until robots.txt answers (RFC 9309)", o.describe()))
            }
            // 4xx, or no robots.txt at the end of its redirects: "unavailable", no rules.
            o => Self::allow_all(&format!("{}: no rules, everything allowed", o.describe())),
        }
    }

    /// Whether sitecensus may fetch `url`.
    #[must_use]
    pub fn allowed(&self, url: &Url) -> bool {
        self.robot.as_ref().is_none_or(|r| r.allowed(url.as_str()))
    }
}

/// The Disallow lines of the groups that apply to sitecensus (RFC 9309, 2.2.1): those naming
/// its product token if any group does, else those of `*`.
fn disallow_lines(text: &str) -> Vec<String> {
    // (names us, names `*`, its Disallow lines), one per group.
    let mut groups: Vec<(bool, bool, Vec<String>)> = Vec::new();
    let mut in_agents = false;
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        let (k, v) = (k.trim().to_ascii_lowercase(), v.trim());
        if k == "user-agent" {
            if !in_agents {
                groups.push((false, false, Vec::new()));
            }
            in_agents = true;
            let name = v.to_ascii_lowercase();
            let g = groups.last_mut().expect("a group was opened");
            g.0 |= name == ROBOTS_AGENT;
            g.1 |= name == "*";
        } else {
            in_agents = false;
            if k == "disallow"
                && !v.is_empty()
                && let Some(g) = groups.last_mut()
            {
                g.2.push(format!("Disallow: {v}"));
            }
        }
    }
    let ours = groups.iter().any(|g| g.0);
    let mut out: Vec<String> = groups.into_iter().filter(|g| if ours { g.0 } else { g.1 }).flat_map(|g| g.2).collect();
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

    #[test]
    fn a_group_naming_sitecensus_replaces_the_star_group_and_a_bom_changes_nothing() {
        let text = format!(
            "\u{feff}User-agent: *\nDisallow: /private/\n\nUser-agent: Baiduspider\nUser-agent: {ROBOTS_AGENT}\nDisallow: /files/\n"
        );
        let r = Robots::parse(text.as_bytes(), "HTTP 200");
        assert_eq!(r.rules, ["Disallow: /files/"]);
        assert!(!r.allowed(&Url::parse("http://a.gov.cn/files/a.xls").unwrap()));
        assert!(r.allowed(&Url::parse("http://a.gov.cn/private/x").unwrap()), "the * group does not apply to us");
        let star = Robots::parse(b"\xef\xbb\xbfUser-agent: *\nDisallow: /files/\n", "HTTP 200");
        assert_eq!(star.rules, ["Disallow: /files/"], "a BOM does not hide the rules");
        let none = Robots::disallow_all("HTTP 503");
        assert!(!none.allowed(&Url::parse("http://a.gov.cn/").unwrap()));
    }
}
