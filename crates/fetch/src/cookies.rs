//! Cookies kept apart per site. One jar for a whole census let a hostile site set a
//! `Domain=gov.cn` cookie that every other government site then received, and grow the Cookie
//! header until servers refused it (a false "unreachable" veto caused by another site). Here each
//! registrable domain (by the public-suffix list) has its own jar; a cookie for a public suffix is
//! refused; a jar keeps a bounded number of cookies of bounded size, and the header sent stays
//! under what servers accept.
//!
//! Written here rather than taken from `cookie_store`: its jar is one for all hosts, and the
//! limits per site are the point.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use reqwest::header::HeaderValue;
use url::Url;

/// Cookies a site's jar keeps (the oldest go first).
pub const MAX_COOKIES_PER_SITE: usize = 50;
/// Bytes of one cookie's name and value kept at the most.
pub const MAX_COOKIE_BYTES: usize = 4096;
/// Bytes of the Cookie header sent at the most (nginx refuses a header line past 8 KB by default).
pub const MAX_HEADER_BYTES: usize = 4096;
/// Sites with jars at the most (a census of a hundred thousand sites keeps its recent ones).
const MAX_SITES: usize = 20_000;

#[derive(Debug, Clone)]
struct Stored {
    name: String,
    value: String,
    /// The host it was set by (host-only), or the domain it names.
    domain: String,
    host_only: bool,
    path: String,
    secure: bool,
    expires: Option<SystemTime>,
    /// Order of arrival, for eviction.
    seq: u64,
}

impl Stored {
    fn matches(&self, host: &str, path: &str, https: bool, now: SystemTime) -> bool {
        let host_ok = if self.host_only {
            host == self.domain
        } else {
            host == self.domain || host.strip_suffix(self.domain.as_str()).is_some_and(|p| p.ends_with('.'))
        };
        host_ok
            && (path == self.path
                || path.starts_with(&self.path)
                    && (self.path.ends_with('/') || path[self.path.len()..].starts_with('/')))
            && (!self.secure || https)
            && self.expires.is_none_or(|e| e > now)
    }
}

/// The jars of a run: one per registrable domain.
#[derive(Debug, Default)]
pub struct SiteCookies {
    jars: Mutex<HashMap<String, Vec<Stored>>>,
    seq: Mutex<u64>,
}

/// The jar a host belongs to: its registrable domain (`www.a.gov.cn` → `a.gov.cn`), or the host
/// itself for an address or a name the suffix list does not know.
#[must_use]
pub fn site_of(host: &str) -> String {
    let h = host.trim_end_matches('.').to_ascii_lowercase();
    if h.parse::<std::net::IpAddr>().is_ok() || h.starts_with('[') {
        return h;
    }
    psl::domain_str(&h).map_or(h.clone(), str::to_owned)
}

fn default_path(url: &Url) -> String {
    let p = url.path();
    match p.rfind('/') {
        Some(0) | None => "/".to_owned(),
        Some(i) => p[..i].to_owned(),
    }
}

impl SiteCookies {
    fn store(&self, header: &str, url: &Url, now: SystemTime) {
        let Some(host) = url.host_str().map(|h| h.trim_end_matches('.').to_ascii_lowercase()) else { return };
        let Ok(c) = cookie::Cookie::parse(header.to_owned()) else { return };
        if c.name().is_empty() || c.name().len() + c.value().len() > MAX_COOKIE_BYTES {
            return;
        }
        let (domain, host_only) = match c.domain().map(|d| d.trim_start_matches('.').to_ascii_lowercase()) {
            Some(d) if !d.is_empty() => {
                // A cookie for a public suffix (gov.cn, com.cn) would reach every site under it.
                let public = psl::suffix_str(&d).is_some_and(|s| s == d);
                let domain_matches = host == d || host.strip_suffix(d.as_str()).is_some_and(|p| p.ends_with('.'));
                if public || !domain_matches {
                    return;
                }
                (d, false)
            }
            _ => (host.clone(), true),
        };
        let expires = match (c.max_age(), c.expires_datetime()) {
            (Some(age), _) => {
                let secs = age.whole_seconds();
                Some(if secs <= 0 { SystemTime::UNIX_EPOCH } else { now + Duration::from_secs(secs as u64) })
            }
            (None, Some(t)) => Some(SystemTime::UNIX_EPOCH + Duration::from_secs(t.unix_timestamp().max(0) as u64)),
            (None, None) => None,
        };
        let path = c.path().filter(|p| p.starts_with('/')).map_or_else(|| default_path(url), str::to_owned);
        let seq = {
            let mut s = self.seq.lock().expect("cookie lock");
            *s += 1;
            *s
        };
        let site = site_of(&host);
        let mut jars = self.jars.lock().expect("cookie lock");
        if !jars.contains_key(&site) && jars.len() >= MAX_SITES {
            // A census moves on: the jar least recently written goes.
            if let Some(oldest) =
                jars.iter().min_by_key(|(_, v)| v.iter().map(|c| c.seq).max().unwrap_or(0)).map(|(k, _)| k.clone())
            {
                jars.remove(&oldest);
            }
        }
        let jar = jars.entry(site).or_default();
        jar.retain(|o| !(o.name == c.name() && o.domain == domain && o.path == path));
        jar.retain(|o| o.expires.is_none_or(|e| e > now));
        if expires.is_some_and(|e| e <= now) {
            return;
        }
        jar.push(Stored {
            name: c.name().to_owned(),
            value: c.value().to_owned(),
            domain,
            host_only,
            path,
            secure: c.secure().unwrap_or(false),
            expires,
            seq,
        });
        if jar.len() > MAX_COOKIES_PER_SITE {
            jar.sort_by_key(|o| std::cmp::Reverse(o.seq));
            jar.truncate(MAX_COOKIES_PER_SITE);
        }
    }

    fn header(&self, url: &Url, now: SystemTime) -> Option<String> {
        let host = url.host_str()?.trim_end_matches('.').to_ascii_lowercase();
        let jars = self.jars.lock().expect("cookie lock");
        let jar = jars.get(&site_of(&host))?;
        let mut matching: Vec<&Stored> =
            jar.iter().filter(|c| c.matches(&host, url.path(), url.scheme() == "https", now)).collect();
        // Longer paths first (RFC 6265), then the newest: what is cut is the least specific.
        matching.sort_by(|a, b| b.path.len().cmp(&a.path.len()).then(b.seq.cmp(&a.seq)));
        let mut out = String::new();
        for c in matching {
            let piece = c.name.len() + c.value.len() + 3;
            if out.len() + piece > MAX_HEADER_BYTES {
                break;
            }
            if !out.is_empty() {
                out.push_str("; ");
            }
            out.push_str(&c.name);
            out.push('=');
            out.push_str(&c.value);
        }
        (!out.is_empty()).then_some(out)
    }
}

impl reqwest::cookie::CookieStore for SiteCookies {
    fn set_cookies(&self, cookie_headers: &mut dyn Iterator<Item = &HeaderValue>, url: &Url) {
        let now = SystemTime::now();
        for h in cookie_headers {
            if let Ok(s) = h.to_str() {
                self.store(s, url, now);
            }
        }
    }

    fn cookies(&self, url: &Url) -> Option<HeaderValue> {
        self.header(url, SystemTime::now()).and_then(|h| HeaderValue::from_str(&h).ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(u: &str) -> Url {
        Url::parse(u).unwrap()
    }

    #[test]
    fn a_sites_cookies_stay_with_it() {
        let j = SiteCookies::default();
        let now = SystemTime::now();
        j.store("sid=1; Path=/", &url("http://www.a.gov.cn/x"), now);
        j.store("wide=1; Domain=a.gov.cn; Path=/", &url("http://www.a.gov.cn/x"), now);
        // A cookie for every government site, and one for another site, are refused.
        j.store("all=1; Domain=gov.cn; Path=/", &url("http://www.a.gov.cn/"), now);
        j.store("other=1; Domain=b.gov.cn; Path=/", &url("http://www.a.gov.cn/"), now);
        assert_eq!(j.header(&url("http://www.a.gov.cn/y"), now).as_deref(), Some("wide=1; sid=1"));
        assert_eq!(j.header(&url("http://zwgk.a.gov.cn/"), now).as_deref(), Some("wide=1"));
        assert_eq!(j.header(&url("http://www.b.gov.cn/"), now), None);
        assert_eq!(site_of("www.a.gov.cn"), "a.gov.cn");
        assert_eq!(site_of("127.0.0.1"), "127.0.0.1");
    }

    #[test]
    fn a_flood_of_cookies_is_bounded() {
        let j = SiteCookies::default();
        let now = SystemTime::now();
        let big = "v".repeat(4000);
        for i in 0..200 {
            j.store(&format!("c{i}={big}; Path=/"), &url("http://www.a.gov.cn/"), now);
        }
        j.store(&format!("huge={}", "v".repeat(MAX_COOKIE_BYTES + 1)), &url("http://www.a.gov.cn/"), now);
        let h = j.header(&url("http://www.a.gov.cn/"), now).unwrap();
        assert!(h.len() <= MAX_HEADER_BYTES, "{}", h.len());
        assert!(!h.contains("huge="));
        assert!(j.jars.lock().unwrap()["a.gov.cn"].len() <= MAX_COOKIES_PER_SITE);
    }

    #[test]
    fn expired_and_secure_cookies() {
        let j = SiteCookies::default();
        let now = SystemTime::now();
        j.store("a=1; Max-Age=0", &url("http://www.a.gov.cn/"), now);
        j.store("s=1; Secure", &url("https://www.a.gov.cn/"), now);
        assert_eq!(j.header(&url("http://www.a.gov.cn/"), now), None);
        assert_eq!(j.header(&url("https://www.a.gov.cn/"), now).as_deref(), Some("s=1"));
    }
}
