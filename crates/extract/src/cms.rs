//! The content-management systems government sites run (TRS WCM, Hanweb JCMS, …), recognised by
//! the fingerprints in `cms.toml`, and the list protocols of those families that a crawler must
//! speak to read a column whole: Hanweb's jpage groups, asked from `dataproxy.jsp` by POST.

use std::sync::LazyLock;

use aho_corasick::AhoCorasick;
use regex::{Regex, RegexSet};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::jsvalue::{self, JsValue};

/// The shipped catalogue of families.
const CATALOGUE: &str = include_str!("../cms.toml");

/// A CMS family as the catalogue describes it.
#[derive(Debug, Clone, Deserialize)]
pub struct Family {
    /// Short id (`hanweb`, `trs`, …), as `stats.cms` names it.
    pub id: String,
    /// The product's name.
    pub name: String,
    /// Who makes it.
    #[serde(default)]
    pub vendor: String,
    /// Words of its generator or author meta tag.
    #[serde(default)]
    pub generator: Vec<String>,
    /// Strings of its published markup.
    #[serde(default)]
    pub markup: Vec<String>,
    /// Parts of its script and stylesheet addresses.
    #[serde(default)]
    pub scripts: Vec<String>,
    /// Regular expressions of its page addresses.
    #[serde(default)]
    pub urls: Vec<String>,
    /// How its lists are written, for the reader of a report.
    #[serde(default)]
    pub lists: String,
}

#[derive(Debug, Deserialize)]
struct Libraries {
    scripts: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct File {
    family: Vec<Family>,
    libraries: Libraries,
}

struct Catalogue {
    families: Vec<Family>,
    /// Each family's generator words and script parts, lowercase.
    generator_lower: Vec<Vec<String>>,
    scripts_lower: Vec<Vec<String>>,
    /// Every family's markup strings; the pattern's family in `markup_owner`.
    markup: AhoCorasick,
    markup_owner: Vec<(usize, String)>,
    /// Every family's URL shapes; the pattern's family in `url_owner`.
    urls: RegexSet,
    url_owner: Vec<(usize, String)>,
    libraries: Vec<String>,
}

static CAT: LazyLock<Catalogue> = LazyLock::new(|| {
    let file: File = toml::from_str(CATALOGUE).expect("the shipped cms.toml is valid");
    let mut markup = Vec::new();
    let mut markup_owner = Vec::new();
    let mut urls = Vec::new();
    let mut url_owner = Vec::new();
    for (i, f) in file.family.iter().enumerate() {
        for m in &f.markup {
            markup.push(m.clone());
            markup_owner.push((i, m.clone()));
        }
        for u in &f.urls {
            urls.push(u.clone());
            url_owner.push((i, u.clone()));
        }
    }
    Catalogue {
        // Exact case, as the CMS writes it: a case-sensitive search keeps its fast prefilter, and
        // this runs over every page's whole source.
        markup: AhoCorasick::builder().build(&markup).expect("valid markup patterns"),
        markup_owner,
        urls: RegexSet::new(&urls).expect("valid URL patterns"),
        url_owner,
        libraries: file.libraries.scripts.iter().map(|s| s.to_ascii_lowercase()).collect(),
        generator_lower: file.family.iter().map(|f| f.generator.iter().map(|g| g.to_lowercase()).collect()).collect(),
        scripts_lower: file.family.iter().map(|f| f.scripts.iter().map(|g| g.to_ascii_lowercase()).collect()).collect(),
        families: file.family,
    }
});

/// Every family of the catalogue.
#[must_use]
pub fn families() -> &'static [Family] {
    &CAT.families
}

/// The family with this id.
#[must_use]
pub fn family(id: &str) -> Option<&'static Family> {
    CAT.families.iter().find(|f| f.id == id)
}

/// Whether a script address names a library that draws no content (jQuery, analytics, the
/// 党政机关 mark's loader).
#[must_use]
pub fn is_library(src: &str) -> bool {
    let s = src.to_ascii_lowercase();
    CAT.libraries.iter().any(|l| s.contains(l.as_str()))
}

/// The family a page was taken for, and the fingerprints that said so.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CmsMatch {
    /// The family's id.
    pub id: String,
    /// The fingerprints seen ("generator: 大汉版通", "markup: <datastore>", …).
    pub signals: Vec<String>,
}

/// Weight at which a page is taken for a family.
const MIN_WEIGHT: u32 = 3;
/// Links of a page matched against the families' URL shapes (its own address first).
const URLS_TRIED: usize = 30;

/// What a page shows of its CMS: its generator and author meta contents, its script and
/// stylesheet addresses, its own address and its links' addresses, and its source.
pub struct Evidence<'a> {
    /// The contents of `<meta name="generator">` and `<meta name="author">`.
    pub generator: &'a [String],
    /// Script and stylesheet addresses.
    pub scripts: &'a [String],
    /// The page's address and its links' addresses.
    pub urls: &'a mut dyn Iterator<Item = &'a str>,
    /// The page source.
    pub source: &'a str,
}

/// The family whose fingerprints the page carries most (at the catalogue's weight), if any.
#[must_use]
pub fn detect(e: Evidence<'_>) -> Option<CmsMatch> {
    let cat = &*CAT;
    let n = cat.families.len();
    let mut weight = vec![0u32; n];
    let mut signals: Vec<Vec<String>> = vec![Vec::new(); n];
    let mut note = |i: usize, w: u32, s: String, weight: &mut Vec<u32>| {
        if !signals[i].contains(&s) {
            weight[i] += w;
            signals[i].push(s);
        }
    };
    let generators: Vec<String> = e.generator.iter().map(|g| g.to_lowercase()).collect();
    let scripts: Vec<String> = e.scripts.iter().map(|s| s.to_ascii_lowercase()).collect();
    for i in 0..n {
        for g in &generators {
            if let Some(word) = cat.generator_lower[i].iter().find(|w| g.contains(w.as_str())) {
                note(i, 3, format!("generator: {word}"), &mut weight);
            }
        }
        for s in &scripts {
            if let Some(part) = cat.scripts_lower[i].iter().find(|p| s.contains(p.as_str())) {
                note(i, 2, format!("script: {part}"), &mut weight);
            }
        }
    }
    for m in cat.markup.find_iter(e.source) {
        let (i, text) = &cat.markup_owner[m.pattern().as_usize()];
        note(*i, 2, format!("markup: {text}"), &mut weight);
    }
    for u in e.urls.take(URLS_TRIED) {
        for p in cat.urls.matches(u) {
            let (i, shape) = &cat.url_owner[p];
            note(*i, 1, format!("address: {shape}"), &mut weight);
        }
    }
    let (best, w) = weight.iter().enumerate().max_by_key(|(i, w)| (**w, std::cmp::Reverse(*i)))?;
    (*w >= MIN_WEIGHT).then(|| CmsMatch { id: cat.families[best].id.clone(), signals: signals[best].clone() })
}

/// The path of Hanweb's list proxy.
pub const HANWEB_PROXY: &str = "/module/web/jpage/dataproxy.jsp";
/// The query parameters of a jpage group request; the rest of a group URL goes in the POST body.
const GROUP_PARAMS: &[&str] = &["startrecord", "endrecord", "perpage"];

static JPAGE_NUM: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"\b(perPage|totalRecord|groupSize)\s*:\s*['"]?(\d+)"#).expect("valid regex"));
static JPAGE_PROXY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"\bproxyUrl\s*:\s*['"]([^'"]+)['"]"#).expect("valid regex"));
static JPAGE_PARAM: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\bajaxParam\s*:\s*(\{[^{}]*\})").expect("valid regex"));
static PROXY_QUERY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"dataproxy\.jsp\?([^'"<>\s\]]+)"#).expect("valid regex"));

/// The jpage groups after the first that a Hanweb column page (or a `dataproxy.jsp` answer at
/// `url`) leads to, as addresses that carry the POST body in their query (see [`post_form`]);
/// at most `cap`. `records` is how many records the page itself holds.
#[must_use]
pub fn hanweb_groups(source: &str, url: &Url, records: usize, total: Option<usize>, cap: usize) -> Vec<String> {
    let num =
        |name: &str| JPAGE_NUM.captures_iter(source).find(|c| &c[1] == name).and_then(|c| c[2].parse::<usize>().ok());
    let answer = url.path().ends_with(HANWEB_PROXY);
    let total = total.or_else(|| num("totalRecord"));
    let per_page = num("perPage");
    let group = match (per_page, num("groupSize")) {
        (Some(p), Some(g)) if p > 0 && g > 0 => p * g,
        _ if answer => {
            let q = |k: &str| url.query_pairs().find(|(n, _)| n == k).and_then(|(_, v)| v.parse::<usize>().ok());
            match (q("startrecord"), q("endrecord")) {
                (Some(s), Some(e)) if e >= s => e - s + 1,
                _ => records,
            }
        }
        _ => records,
    };
    // A first group that is not full is the whole list.
    if group == 0 || records < group {
        return Vec::new();
    }
    let per_page = per_page.unwrap_or(group.min(15)).max(1);
    // Where the groups are asked, and what the column's own parameters are.
    let (proxy, params): (Url, Vec<(String, String)>) = if answer {
        let mut base = url.clone();
        base.set_query(None);
        let params = url
            .query_pairs()
            .filter(|(k, _)| !GROUP_PARAMS.contains(&k.as_ref()))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        (base, params)
    } else {
        let Some(proxy) = JPAGE_PROXY
            .captures(source)
            .map(|c| c[1].to_owned())
            .or_else(|| source.contains(HANWEB_PROXY).then(|| HANWEB_PROXY.to_owned()))
            .and_then(|p| url.join(&p).ok())
        else {
            return Vec::new();
        };
        let mut params: Vec<(String, String)> = JPAGE_PARAM
            .captures(source)
            .and_then(|c| jsvalue::parse(&c[1]))
            .map(|v| match v {
                JsValue::Obj(fields) => fields
                    .into_iter()
                    .filter_map(|(k, v)| match v {
                        JsValue::Str(s) | JsValue::Num(s) => Some((k, s)),
                        _ => None,
                    })
                    .collect(),
                _ => Vec::new(),
            })
            .unwrap_or_default();
        if params.is_empty()
            && let Some(q) = PROXY_QUERY.captures(source)
        {
            let q = q[1].replace("&amp;", "&");
            params = url::form_urlencoded::parse(q.as_bytes())
                .filter(|(k, _)| k != "page" && !GROUP_PARAMS.contains(&k.as_ref()))
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
        }
        let mut proxy = proxy;
        proxy.set_query(None);
        (proxy, params)
    };
    let start_after = if answer {
        url.query_pairs().find(|(k, _)| k == "endrecord").and_then(|(_, v)| v.parse::<usize>().ok()).unwrap_or(group)
    } else {
        group
    };
    let mut out = Vec::new();
    let mut start = start_after + 1;
    // Without a total, one more group is asked; its answer says how many there are.
    let last = total.unwrap_or(start_after + group);
    while start <= last && out.len() < cap {
        let end = start + group - 1;
        let mut u = proxy.clone();
        {
            let mut q = u.query_pairs_mut();
            q.append_pair("startrecord", &start.to_string());
            q.append_pair("endrecord", &end.to_string());
            q.append_pair("perpage", &per_page.to_string());
            for (k, v) in &params {
                q.append_pair(k, v);
            }
        }
        out.push(u.to_string());
        start = end + 1;
    }
    out
}

/// How a page address is asked for when its CMS wants a POST: a jpage group request goes to
/// `dataproxy.jsp?startrecord=…&endrecord=…&perpage=…` with the column's parameters as a form
/// body. None for every other address (a plain GET).
#[must_use]
pub fn post_form(url: &Url) -> Option<(Url, String)> {
    if !url.path().ends_with(HANWEB_PROXY) || !url.query_pairs().any(|(k, _)| k == "startrecord") {
        return None;
    }
    let mut target = url.clone();
    target.set_query(None);
    let mut body = url::form_urlencoded::Serializer::new(String::new());
    {
        let mut q = target.query_pairs_mut();
        for (k, v) in url.query_pairs() {
            if GROUP_PARAMS.contains(&k.as_ref()) {
                q.append_pair(&k, &v);
            } else {
                body.append_pair(&k, &v);
            }
        }
    }
    Some((target, body.finish()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalogue_loads() {
        assert!(families().len() >= 6);
        assert!(family("hanweb").is_some() && family("trs").is_some());
        assert!(is_library("/module/jslib/jquery/jquery.js"));
        assert!(is_library("https://hm.baidu.com/hm.js?abc"));
        assert!(!is_library("/js/newslist.js"));
    }

    #[test]
    fn hanweb_groups_follow_the_jpage_settings() {
        let src = r#"<div id="303271"><script type="text/xml"><datastore><nextgroup><![CDATA[<a href="/module/web/jpage/dataproxy.jsp?page=1&appid=1&webid=67&path=/&columnid=77278&unitid=303271&permissiontype=0"></a>]]></nextgroup></datastore></script></div>
            <script>$('#303271').jpage({proxyUrl:'/module/web/jpage/dataproxy.jsp', perPage:15, totalRecord:100, groupSize:3,
            ajaxParam:{col:1,appid:1,webid:67,path:'/',columnid:77278,sourceContentType:1,unitid:'303271',webname:'人社厅',permissiontype:0}});</script>"#;
        let url = Url::parse("http://www.a.gov.cn/col/col77278/index.html").unwrap();
        let g = hanweb_groups(src, &url, 45, None, 100);
        assert_eq!(g.len(), 2, "{g:?}");
        assert!(g[0].starts_with(
            "http://www.a.gov.cn/module/web/jpage/dataproxy.jsp?startrecord=46&endrecord=90&perpage=15&col=1"
        ));
        let (target, body) = post_form(&Url::parse(&g[1]).unwrap()).unwrap();
        assert_eq!(
            target.as_str(),
            "http://www.a.gov.cn/module/web/jpage/dataproxy.jsp?startrecord=91&endrecord=135&perpage=15"
        );
        assert!(body.starts_with("col=1&appid=1&webid=67&path=%2F&columnid=77278"), "{body}");
        assert!(post_form(&url).is_none());
        // An answer leads to the group after it, up to its total.
        let answer = Url::parse(&g[0]).unwrap();
        let next = hanweb_groups("<datastore><totalrecord>100</totalrecord></datastore>", &answer, 45, Some(100), 100);
        assert_eq!(next.len(), 1);
        assert!(next[0].contains("startrecord=91&endrecord=135"));
    }
}
