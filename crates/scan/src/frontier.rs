//! Which URLs a crawl follows: the site's scope, and the guards against crawler traps (endless
//! calendars, repeating paths, overlong URLs). Pure functions, so every guard is tested alone.

use url::Url;

/// The default cap on URL length.
pub const DEFAULT_MAX_URL_LEN: usize = 1024;
/// Paths deeper than this many segments are traps or junk.
const MAX_PATH_SEGMENTS: usize = 20;
/// A path segment seen this often in one URL marks a relative-link loop (/a/b/a/b/a/b/).
const REPEATED_SEGMENT: usize = 3;
/// Calendars are followed this many years back from as-of (freshness never looks further).
const CALENDAR_YEARS_BACK: i32 = 5;

/// The key a host is scoped by: the host, plus the port where it is not the scheme's default
/// (so that two test sites on 127.0.0.1 stay apart, while http and https of one site do not).
#[must_use]
pub fn scope_key(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host,
    }
}

/// The hosts that make up a site.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    keys: Vec<String>,
    subdomains_of: Option<String>,
}

impl Scope {
    /// The scope of a site starting at `start`; with `subdomains`, every subdomain of its
    /// domain (the start host without `www.`) belongs too.
    #[must_use]
    pub fn new(start: &Url, subdomains: bool) -> Self {
        let host = start.host_str().unwrap_or_default().to_ascii_lowercase();
        let root = host.strip_prefix("www.").unwrap_or(&host).to_owned();
        Scope { keys: vec![scope_key(start)], subdomains_of: subdomains.then_some(root) }
    }

    /// Adds the host of `url` (the homepage redirected there).
    pub fn add(&mut self, url: &Url) {
        let k = scope_key(url);
        if !self.keys.contains(&k) {
            self.keys.push(k);
        }
    }

    /// Whether `url` belongs to the site.
    #[must_use]
    pub fn contains(&self, url: &Url) -> bool {
        let k = scope_key(url);
        if self.keys.contains(&k) {
            return true;
        }
        match (&self.subdomains_of, url.host_str()) {
            (Some(root), Some(host)) => {
                url.port().is_none() && sitecensus_core::urlnorm::host_in_scope(host, root, true)
            }
            _ => false,
        }
    }

    /// The scope keys, for the report.
    #[must_use]
    pub fn keys(&self) -> &[String] {
        &self.keys
    }
}

/// Why a URL is a crawler trap, if it is.
#[must_use]
pub fn trap(url: &Url, max_url_len: usize, as_of_year: i32) -> Option<&'static str> {
    if url.as_str().len() > max_url_len {
        return Some("URL longer than the cap");
    }
    let segments: Vec<&str> = url.path_segments().map(|s| s.filter(|x| !x.is_empty()).collect()).unwrap_or_default();
    if segments.len() > MAX_PATH_SEGMENTS {
        return Some("path deeper than 20 segments");
    }
    for (i, s) in segments.iter().enumerate() {
        if segments[i..].iter().filter(|x| *x == s).count() >= REPEATED_SEGMENT {
            return Some("repeating path segments");
        }
    }
    let (lo, hi) = (as_of_year - CALENDAR_YEARS_BACK, as_of_year + 1);
    let out_of_range = |v: &str| year_of(v).is_some_and(|y| y < lo || y > hi);
    let calendar_key = |k: &str| {
        let k = k.to_ascii_lowercase();
        [
            "y", "year", "yy", "yyyy", "nian", "date", "day", "ym", "ymd", "month", "riqi", "cal", "calendar", "time",
            "d", "m",
        ]
        .contains(&k.as_str())
    };
    if url.query_pairs().any(|(k, v)| calendar_key(&k) && out_of_range(&v)) {
        return Some("calendar beyond the years that matter");
    }
    let path_lower = url.path().to_ascii_lowercase();
    if ["calendar", "rili", "event", "date"].iter().any(|w| path_lower.contains(w))
        && segments.iter().any(|s| out_of_range(s))
    {
        return Some("calendar beyond the years that matter");
    }
    None
}

/// The year a calendar value names (`2024`, `2024-07`, `202407`, `2024-07-10`).
fn year_of(v: &str) -> Option<i32> {
    let digits: String = v.chars().take_while(char::is_ascii_digit).collect();
    if digits.len() < 4 || !matches!(digits.len(), 4 | 6 | 8) && !v[digits.len()..].starts_with('-') {
        return None;
    }
    digits[..4].parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn scope_by_host_and_non_default_port() {
        let mut s = Scope::new(&u("http://www.a.gov.cn/"), false);
        assert!(s.contains(&u("https://www.a.gov.cn/x")));
        assert!(!s.contains(&u("http://zwgk.a.gov.cn/")));
        s.add(&u("http://www.shanghai.gov.cn/"));
        assert!(s.contains(&u("http://www.shanghai.gov.cn/a")));
        let local = Scope::new(&u("http://127.0.0.1:5000/"), false);
        assert!(local.contains(&u("http://127.0.0.1:5000/a")));
        assert!(!local.contains(&u("http://127.0.0.1:5001/a")));
        let sub = Scope::new(&u("http://www.a.gov.cn/"), true);
        assert!(sub.contains(&u("http://zwgk.a.gov.cn/x")));
        assert!(!sub.contains(&u("http://a.gov.cn.evil.com/")));
    }

    #[test]
    fn traps_are_cut() {
        assert_eq!(trap(&u("http://a/a/b/a/b/a/b/x.html"), 1024, 2024), Some("repeating path segments"));
        assert_eq!(trap(&u("http://a/cal.php?y=2031&m=1"), 1024, 2024), Some("calendar beyond the years that matter"));
        assert_eq!(
            trap(&u("http://a/cal.php?year=2012&month=1"), 1024, 2024),
            Some("calendar beyond the years that matter")
        );
        assert_eq!(trap(&u("http://a/cal.php?y=2024&m=12"), 1024, 2024), None);
        assert_eq!(trap(&u("http://a/calendar/2099/07/"), 1024, 2024), Some("calendar beyond the years that matter"));
        assert_eq!(trap(&u(&format!("http://a/{}", "x".repeat(2000))), 1024, 2024), Some("URL longer than the cap"));
        assert_eq!(trap(&u("http://a/art/2018/3/17/art_1.html"), 1024, 2024), None, "old articles are not calendars");
        assert_eq!(trap(&u("http://a/list.jsp?page=300&id=20170101"), 1024, 2024), None);
    }
}
