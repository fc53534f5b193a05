//! Sites to inspect: one URL from the command line, or the rows of a `--sites` CSV file.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use url::Url;

/// The administrative level of the body that runs a site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// 国家级 (State Council and its departments).
    National,
    /// 省级.
    Provincial,
    /// 市级.
    City,
    /// 县级.
    County,
    /// 乡镇级.
    Township,
}

impl Level {
    /// Parses a level as written in a site list, in English or Chinese.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.trim().to_ascii_lowercase().as_str() {
            "national" | "国家" | "国家级" | "中央" | "部委" => Level::National,
            "provincial" | "province" | "省" | "省级" => Level::Provincial,
            "city" | "municipal" | "市" | "市级" | "地市" | "地市级" => Level::City,
            "county" | "district" | "县" | "县级" | "区县" | "县区" => Level::County,
            "township" | "town" | "乡镇" | "乡镇级" | "街道" => Level::Township,
            _ => return None,
        })
    }

    /// The lowercase English name used in JSON.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Level::National => "national",
            Level::Provincial => "provincial",
            Level::City => "city",
            Level::County => "county",
            Level::Township => "township",
        }
    }

    /// The level's name in Chinese (县级), for reports in Chinese.
    #[must_use]
    pub fn name_zh(self) -> &'static str {
        match self {
            Level::National => "国家级",
            Level::Provincial => "省级",
            Level::City => "市级",
            Level::County => "县级",
            Level::Township => "乡镇级",
        }
    }
}

/// One site to inspect.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SiteSpec {
    /// The URL exactly as the user gave it; results are reported under it.
    pub given: String,
    /// The parsed start URL.
    pub url: Url,
    /// The site's name, where the list gives one.
    pub name: Option<String>,
    /// Administrative level, where given.
    pub level: Option<Level>,
    /// Region (a 6-digit administrative division code or a name), where given.
    pub region: Option<String>,
    /// Whether subdomains of the start host belong to the site.
    pub include_subdomains: bool,
    /// Every other column of the site list, kept as metadata.
    pub meta: BTreeMap<String, String>,
}

impl SiteSpec {
    /// A site from a bare URL; `www.example.gov.cn` gets `http://` put in front.
    ///
    /// # Errors
    /// When the text is not an http(s) URL with a host.
    pub fn from_url(given: &str) -> Result<Self, String> {
        let url = parse_site_url(given)?;
        Ok(SiteSpec {
            given: without_credentials(given),
            url,
            name: None,
            level: None,
            region: None,
            include_subdomains: false,
            meta: BTreeMap::new(),
        })
    }

    /// The host of the start URL.
    #[must_use]
    pub fn host(&self) -> &str {
        self.url.host_str().unwrap_or_default()
    }
}

/// Parses a site URL as a user writes it.
///
/// # Errors
/// When the text is not an http(s) URL with a host.
pub fn parse_site_url(given: &str) -> Result<Url, String> {
    let t = given.trim();
    if t.is_empty() {
        return Err("empty URL".to_owned());
    }
    let with_scheme = if t.contains("://") { t.to_owned() } else { format!("http://{t}") };
    let url = Url::parse(&with_scheme).map_err(|e| format!("not a URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("scheme {} is not http or https", url.scheme()));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("no host".to_owned());
    }
    // Credentials in an address would be copied into every result, report and log: not kept.
    let mut url = url;
    let _ = url.set_username("");
    let _ = url.set_password(None);
    Ok(url)
}

/// The address as given, without credentials (`http://user:pass@x/` → `http://x/`).
fn without_credentials(given: &str) -> String {
    let t = given.trim();
    let Some((scheme, rest)) = t.split_once("://") else {
        return match t.split_once('@') {
            Some((userinfo, host)) if !userinfo.contains('/') => host.to_owned(),
            _ => t.to_owned(),
        };
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://{}", &rest[at + 1..]),
        None => t.to_owned(),
    }
}

/// A row of a site list that could not be used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowError {
    /// 1-based line number in the file.
    pub line: u64,
    /// What is wrong with the row.
    pub reason: String,
}

/// A parsed site list: the usable sites in order, and the rows that were not usable.
#[derive(Debug, Clone, Default)]
pub struct SiteList {
    /// Sites in the order of the file.
    pub sites: Vec<SiteSpec>,
    /// Broken rows, each with its line and reason; never silently dropped.
    pub errors: Vec<RowError>,
}

impl SiteList {
    /// Parses a CSV site list with a header row holding at least `url` (and usually `name`,
    /// `level`, `region`; `subdomains` = yes/true/1 widens the scope).
    ///
    /// # Errors
    /// When the header is missing or has no `url` column; row-level problems go to `errors`.
    pub fn parse_csv(text: &str) -> Result<Self, String> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let lines: Vec<&str> = text.split_inclusive('\n').collect();
        let header = lines.first().copied().unwrap_or("");
        let mut list = SiteList::default();
        let mut seen = std::collections::HashSet::new();
        let mut part = std::borrow::Cow::Borrowed(text);
        let mut offset = 0u64;
        // A row with an unclosed quote would take every later line into one field: the lines it
        // swallowed are read again on their own, after the header.
        while let Some(bad) = list.parse_part(&part, offset, &mut seen)? {
            let next = usize::try_from(bad).unwrap_or(usize::MAX);
            if next >= lines.len() {
                break;
            }
            let mut again = String::from(header);
            if !again.ends_with('\n') {
                again.push('\n');
            }
            again.push_str(&lines[next..].concat());
            part = std::borrow::Cow::Owned(again);
            // The part's second line is the file's line `bad + 1`.
            offset = bad - 1;
        }
        Ok(list)
    }

    /// Reads one stretch of the list: the header row, then rows, whose lines are the file's
    /// `offset` lines later. Returns the file line of a row whose unclosed quote swallowed the
    /// lines after it, where reading must start again.
    fn parse_part(
        &mut self,
        text: &str,
        offset: u64,
        seen: &mut std::collections::HashSet<String>,
    ) -> Result<Option<u64>, String> {
        let list = self;
        let mut rdr = csv::ReaderBuilder::new().flexible(true).trim(csv::Trim::All).from_reader(text.as_bytes());
        let headers: Vec<String> = rdr
            .headers()
            .map_err(|e| format!("cannot read the header row: {e}"))?
            .iter()
            .map(|h| h.to_ascii_lowercase())
            .collect();
        let col = |name: &str| headers.iter().position(|h| h == name);
        let url_col = col("url").ok_or("the header row has no `url` column")?;
        let (name_col, level_col, region_col, sub_col) = (col("name"), col("level"), col("region"), col("subdomains"));
        for rec in rdr.records() {
            let rec = match rec {
                Ok(r) => r,
                Err(e) => {
                    let line = e.position().map_or(0, csv::Position::line) + offset;
                    list.errors.push(RowError { line, reason: format!("unreadable row: {e}") });
                    continue;
                }
            };
            let line = rec.position().map_or(0, csv::Position::line) + offset;
            if rec.iter().all(str::is_empty) {
                continue;
            }
            // A field running over lines that look like rows of their own: an unclosed quote.
            if rec.iter().any(|f| f.lines().skip(1).any(|l| l.contains(',') && (l.contains("http") || l.contains('.'))))
            {
                list.errors.push(RowError {
                    line,
                    reason: "an unclosed quote runs this row over the lines after it; they are read on their own"
                        .to_owned(),
                });
                return Ok(Some(line));
            }
            let get = |c: Option<usize>| c.and_then(|i| rec.get(i)).filter(|s| !s.is_empty()).map(str::to_owned);
            let Some(given) = get(Some(url_col)) else {
                list.errors.push(RowError { line, reason: "no URL in the url column".to_owned() });
                continue;
            };
            let url = match parse_site_url(&given) {
                Ok(u) => u,
                Err(e) => {
                    list.errors
                        .push(RowError { line, reason: format!("bad URL {:?}: {e}", without_credentials(&given)) });
                    continue;
                }
            };
            let given = without_credentials(&given);
            let level = match get(level_col) {
                None => None,
                Some(l) => match Level::parse(&l) {
                    Some(l) => Some(l),
                    None => {
                        list.errors.push(RowError {
                            line,
                            reason: format!("unknown level {l:?} (national, provincial, city, county or township)"),
                        });
                        continue;
                    }
                },
            };
            if !seen.insert(given.clone()) {
                list.errors.push(RowError { line, reason: format!("duplicate of an earlier row: {given}") });
                continue;
            }
            let mut meta = BTreeMap::new();
            for (i, h) in headers.iter().enumerate() {
                if [Some(url_col), name_col, level_col, region_col, sub_col].contains(&Some(i)) {
                    continue;
                }
                if let Some(v) = rec.get(i).filter(|v| !v.is_empty()) {
                    meta.insert(h.clone(), v.to_owned());
                }
            }
            let include_subdomains = get(sub_col)
                .is_some_and(|v| matches!(v.to_ascii_lowercase().as_str(), "1" | "yes" | "true" | "y" | "是"));
            list.sites.push(SiteSpec {
                given,
                url,
                name: get(name_col),
                level,
                region: get(region_col),
                include_subdomains,
                meta,
            });
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_host_gets_http() {
        let s = SiteSpec::from_url("www.example.gov.cn").unwrap();
        assert_eq!(s.url.as_str(), "http://www.example.gov.cn/");
        assert_eq!(s.given, "www.example.gov.cn");
        assert!(SiteSpec::from_url("ftp://x.gov.cn").is_err());
        assert!(SiteSpec::from_url("  ").is_err());
    }

    #[test]
    fn broken_rows_are_reported_with_their_line() {
        let csv = "url,name,level,region,owner\n\
                   http://a.gov.cn/,甲县人民政府,county,360922,办公室\n\
                   ,没有网址,county,\n\
                   http://b.gov.cn/,乙市,galaxy,\n\
                   not a url at all,丙,city,\n\
                   http://a.gov.cn/,甲县重复,county,\n\
                   http://c.gov.cn/,丙市,市级,360900\n";
        let list = SiteList::parse_csv(csv).unwrap();
        assert_eq!(list.sites.len(), 2);
        assert_eq!(list.sites[0].meta.get("owner").map(String::as_str), Some("办公室"));
        assert_eq!(list.sites[1].level, Some(Level::City));
        let lines: Vec<u64> = list.errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![3, 4, 5, 6]);
        assert!(list.errors[1].reason.contains("galaxy"));
    }

    #[test]
    fn an_unclosed_quote_swallows_no_later_row() {
        let csv = "url,name,level\n\
                   http://a.gov.cn/,\"甲县人民政府,county\n\
                   http://b.gov.cn/,乙县人民政府,county\n\
                   http://c.gov.cn/,丙县人民政府,county\n";
        let list = SiteList::parse_csv(csv).unwrap();
        let urls: Vec<&str> = list.sites.iter().map(|s| s.given.as_str()).collect();
        assert_eq!(urls, ["http://b.gov.cn/", "http://c.gov.cn/"]);
        assert_eq!(list.errors.len(), 1, "{:?}", list.errors);
        assert_eq!(list.errors[0].line, 2);
        assert!(list.errors[0].reason.contains("unclosed quote"));
        // A quoted note over two lines is a note, not a swallowed row.
        let noted = "url,name,note\nhttp://a.gov.cn/,甲县,\"第一行\n第二行\"\nhttp://b.gov.cn/,乙县,\n";
        let list = SiteList::parse_csv(noted).unwrap();
        assert_eq!(list.sites.len(), 2);
        assert!(list.errors.is_empty());
        assert_eq!(list.sites[1].given, "http://b.gov.cn/");
    }

    #[test]
    fn credentials_are_not_kept() {
        let s = SiteSpec::from_url("http://admin:secret@www.a.gov.cn:8080/x?y=1").unwrap();
        assert_eq!(s.given, "http://www.a.gov.cn:8080/x?y=1");
        assert_eq!(s.url.as_str(), "http://www.a.gov.cn:8080/x?y=1");
        let s = SiteSpec::from_url("admin:secret@www.a.gov.cn").unwrap();
        assert_eq!(s.given, "www.a.gov.cn");
        assert!(!s.url.as_str().contains("secret"));
        let list = SiteList::parse_csv("url\nhttps://u:p@b.gov.cn/\n").unwrap();
        assert_eq!(list.sites[0].given, "https://b.gov.cn/");
    }

    #[test]
    fn header_without_url_is_refused() {
        assert!(SiteList::parse_csv("name,level\nx,city\n").is_err());
    }
}
