//! Site identity and hygiene: the footer's site identifier code, ICP and public-security filing
//! numbers and the 党政机关 mark; HTTPS and its certificate; the national page-design meta tags;
//! mobile adaptation; images without a text alternative.

use sitecensus_core::CheckId;
use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};
use sitecensus_core::finding::clip;
use sitecensus_core::{Finding, HttpsReport};
use sitecensus_extract::{Page, PageKind};

use crate::Rule;
use crate::model::SiteModel;

/// `identity.missing_site_code`.
pub const SITE_CODE: CheckId = CheckId::IdentityMissingSiteCode;
/// `identity.missing_filing`.
pub const FILING: CheckId = CheckId::IdentityMissingFiling;
/// `identity.missing_mark`.
pub const MARK: CheckId = CheckId::IdentityMissingMark;
/// `identity.missing_meta`.
pub const META: CheckId = CheckId::IdentityMissingMeta;
/// `security.no_https`.
pub const NO_HTTPS: CheckId = CheckId::SecurityNoHttps;
/// `mobile.not_adapted`.
pub const MOBILE: CheckId = CheckId::MobileNotAdapted;
/// `accessibility.missing_alt`.
pub const ALT: CheckId = CheckId::AccessibilityMissingAlt;

/// Most sample pages or images a finding names.
const SAMPLES: usize = 5;

/// Parameters of checks that need none.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoParams {}

/// Parameters of `identity.missing_mark`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarkParams {
    /// Address fragments of the mark's image, script or link.
    pub addresses: Vec<String>,
    /// Alt text of the mark's image.
    pub alt: Vec<String>,
}

/// Parameters of `security.no_https`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpsParams {
    /// A certificate ending within this many days is noted.
    pub expiry_warn_days: i64,
}

/// Parameters of `identity.missing_meta`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetaParams {
    /// Tags every page needs.
    pub site: Vec<String>,
    /// Tags column pages need.
    pub column: Vec<String>,
    /// Tags articles need.
    pub article: Vec<String>,
}

/// Parameters of `mobile.not_adapted`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MobileParams {
    /// Link text that leads to a mobile version.
    pub mobile_links: Vec<String>,
}

/// What the site's footer shows of its identity.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Footer {
    /// The site identifier code (网站标识码), 10 characters.
    pub site_code: Option<String>,
    /// The ICP filing number.
    pub icp: Option<String>,
    /// The public-security filing number (公网安备).
    pub police_filing: Option<String>,
    /// Whether the 党政机关 mark is shown.
    pub conac_mark: bool,
}

static SITE_CODE_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"标识码\s*[:：]?\s*([0-9A-Za-z]{10})\b").expect("valid"));
static ICP_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[\p{Han}]?\s*ICP\s*[备证]\s*[:：]?\s*\d{5,}\s*号?(?:\s*[-－]\s*\d+)?").expect("valid")
});
static POLICE_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[\p{Han}]?\s*公网安备\s*[:：]?\s*\d{8,}\s*号?").expect("valid"));

/// What a page's footer (and its marks) shows of the site's identity.
#[must_use]
pub fn footer_of(page: &Page, mark: Option<&MarkParams>) -> Footer {
    let text = &page.footer_text;
    let conac = mark.is_some_and(|m| {
        page.images.iter().any(|i| {
            m.addresses
                .iter()
                .any(|a| i.src.contains(a.as_str()) || i.link.as_deref().is_some_and(|l| l.contains(a.as_str())))
                || i.alt.as_deref().is_some_and(|alt| m.alt.iter().any(|x| alt.contains(x.as_str())))
        }) || page.links.iter().any(|l| m.addresses.iter().any(|a| l.url.contains(a.as_str())))
            || page.script_hosts.iter().any(|h| m.addresses.iter().any(|a| h.contains(a.as_str())))
    });
    Footer {
        site_code: SITE_CODE_RE.captures(text).map(|c| c[1].to_owned()),
        icp: ICP_RE.find(text).map(|m| m.as_str().trim().to_owned()),
        police_filing: POLICE_RE.find(text).map(|m| m.as_str().trim().to_owned()),
        conac_mark: conac,
    }
}

/// The footer checks over the homepage: site code, filing numbers, the 党政机关 mark.
#[must_use]
pub fn footer_checks(
    site: &SiteModel,
    code: Option<&Rule<NoParams>>,
    filing: Option<&Rule<NoParams>>,
    mark: Option<&Rule<MarkParams>>,
) -> (Option<Footer>, Vec<Finding>) {
    let Some(home) = site.homepage_page() else { return (None, Vec::new()) };
    let footer = footer_of(home, mark.map(|r| &r.params));
    let seen =
        if home.footer_text.is_empty() { "(no footer text found)".to_owned() } else { clip(&home.footer_text, 200) };
    let seen_zh = if home.footer_text.is_empty() { "（未找到页脚文字）".to_owned() } else { seen.clone() };
    let mut out = Vec::new();
    if let Some(r) = code
        && footer.site_code.is_none()
    {
        let mut f = Finding::new(
            SITE_CODE,
            r.severity,
            format!("the footer shows no site identifier code (网站标识码): {seen}"),
        )
        .zh(format!("页脚未显示网站标识码：{seen_zh}"))
        .page(home.url.clone())
        .detail("footer", seen.clone());
        // Given only where a visitor does not see it: noted, still a finding.
        if let Some(c) = home.meta.get("SiteIDCode").filter(|c| !c.is_empty()).or(home.script_site_code.as_ref()) {
            f = f.detail("code_elsewhere", c.clone());
        }
        out.push(f);
    }
    if let Some(r) = filing {
        let missing: Vec<&str> = [("icp", footer.icp.is_none()), ("police_filing", footer.police_filing.is_none())]
            .into_iter()
            .filter_map(|(k, m)| m.then_some(k))
            .collect();
        if !missing.is_empty() {
            let names: Vec<&str> =
                missing.iter().map(|m| if *m == "icp" { "ICP备案编号" } else { "公网安备案号" }).collect();
            out.push(
                Finding::new(FILING, r.severity, format!("the footer shows no {}: {seen}", names.join(" or ")))
                    .zh(format!("页脚未显示{}：{seen_zh}", names.join("或")))
                    .page(home.url.clone())
                    .detail("missing", missing)
                    .detail("footer", seen.clone()),
            );
        }
    }
    if let Some(r) = mark
        && !footer.conac_mark
    {
        out.push(
            Finding::new(MARK, r.severity, "the homepage shows no 党政机关网站 mark (its image, script or link)")
                .zh("首页未显示党政机关网站标识（图片、脚本或链接）")
                .page(home.url.clone()),
        );
    }
    (Some(footer), out)
}

/// `security.no_https` from the scan's HTTPS probe.
#[must_use]
pub fn no_https(site: &SiteModel, report: Option<&HttpsReport>, rule: &Rule<HttpsParams>) -> Vec<Finding> {
    let Some(r) = report else { return Vec::new() };
    let ends_soon = r
        .not_after
        .as_deref()
        .and_then(|d| chrono::DateTime::parse_from_rfc3339(d).ok())
        .map(|end| (end - site.as_of.0).num_days());
    if r.ok {
        return match ends_soon {
            Some(days) if days <= rule.params.expiry_warn_days => vec![
                Finding::new(
                    NO_HTTPS,
                    rule.severity,
                    format!("the HTTPS certificate of {} ends in {days} days", r.address),
                )
                .zh(format!("{} 的 HTTPS 证书将在 {days} 天后到期", r.address))
                .at_most_if(true, sitecensus_core::Severity::Warn)
                .page(site.spec.url.to_string())
                .detail("not_after", r.not_after.clone())
                .detail("expires_in_days", days),
            ],
            _ => Vec::new(),
        };
    }
    let mut f = Finding::new(
        NO_HTTPS,
        rule.severity,
        format!("no valid HTTPS at {}: {}", r.address, r.error.as_deref().unwrap_or("no answer")),
    )
    .zh(format!("{} 没有有效的 HTTPS：{}", r.address, r.error.as_deref().unwrap_or("无响应")))
    .page(site.spec.url.to_string())
    .detail("error", r.error.clone())
    .detail("old_tls", r.error.as_deref().is_some_and(sitecensus_core::outcome::is_old_tls));
    for (k, v) in [("not_before", &r.not_before), ("not_after", &r.not_after), ("issuer", &r.issuer)] {
        if let Some(v) = v {
            f = f.detail(k, v.clone());
        }
    }
    vec![f]
}

/// Pages of one kind and the meta tags they lack.
struct MetaGroup<'a> {
    key: &'static str,
    name: &'static str,
    name_zh: &'static str,
    tags: &'a [String],
    checked: usize,
    lacking: usize,
    samples: Vec<String>,
}

/// `identity.missing_meta`: how many pages lack the national page-design tags, by page kind,
/// with sample pages; one finding for the site.
#[must_use]
pub fn missing_meta(site: &SiteModel, rule: &Rule<MetaParams>) -> Vec<Finding> {
    let p = &rule.params;
    let group = |key, (name, name_zh), tags| MetaGroup {
        key,
        name,
        name_zh,
        tags,
        checked: 0,
        lacking: 0,
        samples: Vec::new(),
    };
    let mut groups = [
        group("site", ("every page", "页面"), &p.site[..]),
        group("column", ("column pages", "栏目页"), &p.column[..]),
        group("article", ("articles", "文章页"), &p.article[..]),
    ];
    let mut bad_pubdate = 0usize;
    for page in site.pages.iter().filter_map(|e| e.page.as_ref()) {
        let kinds = [true, page.page_kind == PageKind::List, page.page_kind == PageKind::Article];
        for (g, applies) in groups.iter_mut().zip(kinds) {
            if !applies {
                continue;
            }
            g.checked += 1;
            let lacking: Vec<&str> = g
                .tags
                .iter()
                .filter(|t| page.meta.get(*t).is_none_or(|v| v.trim().is_empty()))
                .map(String::as_str)
                .collect();
            if !lacking.is_empty() {
                g.lacking += 1;
                // The first pages by address, not by the order the crawl met them: the same
                // site reads the same in every run.
                if g.samples.len() < SAMPLES || g.samples.last().is_some_and(|last| page.url.as_str() < last.as_str()) {
                    g.samples.push(format!("{} (no {})", page.url, lacking.join(", ")));
                    g.samples.sort();
                    g.samples.truncate(SAMPLES);
                }
            }
        }
        if let Some(d) = page.meta.get("PubDate")
            && !d.is_empty()
            && !is_pubdate(d)
        {
            bad_pubdate += 1;
        }
    }
    if groups.iter().all(|g| g.lacking == 0) && bad_pubdate == 0 {
        return Vec::new();
    }
    let summary: Vec<String> =
        groups.iter().filter(|g| g.lacking > 0).map(|g| format!("{} of {} {}", g.lacking, g.checked, g.name)).collect();
    let summary_zh: Vec<String> = groups
        .iter()
        .filter(|g| g.lacking > 0)
        .map(|g| format!("{} 个{}中有 {} 个", g.checked, g.name_zh, g.lacking))
        .collect();
    let mut f = Finding::new(META, rule.severity, format!("pages lack national meta tags: {}", summary.join("; ")))
        .zh(format!("页面缺少国家规范要求的元数据（meta 标签）：{}", summary_zh.join("；")))
        .page(site.spec.url.to_string())
        .detail("pubdate_malformed", bad_pubdate);
    for g in groups {
        f = f.detail(g.key, serde_json::json!({"checked": g.checked, "lacking": g.lacking, "samples": g.samples}));
    }
    vec![f]
}

/// Whether a PubDate reads `YYYY-MM-DD HH:MM` (seconds allowed).
fn is_pubdate(s: &str) -> bool {
    let b = s.trim().as_bytes();
    b.len() >= 16
        && b[..16].iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b' ',
            13 => *c == b':',
            _ => c.is_ascii_digit(),
        })
}

/// `mobile.not_adapted`: a homepage with no viewport meta, no `@media` styles and no link to a
/// mobile version.
#[must_use]
pub fn not_adapted(site: &SiteModel, rule: &Rule<MobileParams>) -> Vec<Finding> {
    let Some(home) = site.homepage_page() else { return Vec::new() };
    let mobile_link = home.links.iter().any(|l| {
        rule.params.mobile_links.iter().any(|w| l.text.to_lowercase().contains(&w.to_lowercase()))
            || url::Url::parse(&l.url).is_ok_and(|u| {
                let host = u.host_str().unwrap_or_default();
                host.starts_with("m.") || host.starts_with("wap.") || u.path() == "/m/" || u.path() == "/wap/"
            })
    });
    if home.viewport.is_some() || home.responsive || mobile_link {
        return Vec::new();
    }
    vec![
        Finding::new(
            MOBILE,
            rule.severity,
            "the homepage has no viewport meta, no responsive styles and no link to a mobile version",
        )
        .zh("首页没有 viewport 元数据、没有自适应样式，也没有指向移动版的链接")
        .page(home.url.clone()),
    ]
}

/// `accessibility.missing_alt`: images without a text alternative, counted over the site, with
/// sample images of the homepage and the pages that have most.
#[must_use]
pub fn missing_alt(site: &SiteModel, rule: &Rule<NoParams>) -> Vec<Finding> {
    let mut pages: Vec<(&str, usize)> = site
        .pages
        .iter()
        .filter_map(|e| e.page.as_ref())
        .filter(|p| p.images_missing_alt > 0)
        .map(|p| (p.url.as_str(), p.images_missing_alt))
        .collect();
    let total: usize = pages.iter().map(|p| p.1).sum();
    if total == 0 {
        return Vec::new();
    }
    pages.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let images: Vec<&str> = site
        .homepage_page()
        .map(|h| {
            h.images.iter().filter(|i| i.alt.is_none() && !i.hidden).take(SAMPLES).map(|i| i.src.as_str()).collect()
        })
        .unwrap_or_default();
    vec![
        Finding::new(
            ALT,
            rule.severity,
            format!("{total} images on {} pages have no text alternative (alt)", pages.len()),
        )
        .zh(format!("{} 个页面上的 {total} 张图片没有替代文本（alt）", pages.len()))
        .page(site.spec.url.to_string())
        .detail("images", total)
        .detail("pages", pages.len())
        .detail("sample_images", images)
        .detail(
            "sample_pages",
            pages.iter().take(SAMPLES).map(|(u, n)| serde_json::json!({"url": u, "images": n})).collect::<Vec<_>>(),
        ),
    ]
}
