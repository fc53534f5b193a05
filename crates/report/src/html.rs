//! The HTML report: one self-contained file (inline CSS, no scripts, no outside requests) — or,
//! for a census, an index and one such file per region or per site. Every string that came from
//! a crawled page is escaped by the template engine, and only http(s) URLs become links.

use std::collections::HashMap;
use std::path::Path;

use askama::Template;

use crate::summary::Rank;
use crate::{Lang, Results, SiteResult};

#[derive(Template)]
#[template(path = "report.html")]
struct Report<'a> {
    r: &'a Results,
    /// Sites that pass and fail, of the page's sites.
    pass: usize,
    fail: usize,
    /// Each site's 1-based place in the results (its section's anchor), by the URL it was given as.
    places: HashMap<&'a str, usize>,
    /// Where each site's section is, by the URL it was given as (`#site-3`, `360102.html#site-3`).
    hrefs: &'a HashMap<&'a str, String>,
    /// The sites whose sections this page holds, each with its place.
    sections: Vec<(usize, &'a SiteResult)>,
    /// The ranking this page lists: every site, a part's, or none (a split report's index lists
    /// its parts instead).
    ranking: Vec<&'a Rank>,
    /// A split report's parts, on its index.
    parts: &'a [Part],
    /// On a part's page, its title (the census summary is then on the index).
    part: Option<String>,
    /// The folder the report is written to: screenshots are linked relative to it.
    base: Option<std::path::PathBuf>,
    /// The language of the findings' evidence and of check, severity, kind and level names (the
    /// headings carry both languages).
    lang: Lang,
}

impl Report<'_> {
    /// The summary's groupings with their titles.
    fn groups(&self) -> [(&'static str, &[crate::summary::Group]); 3] {
        let s = &self.r.summary;
        [("按级别 By level", &s.by_level), ("按地区 By region", &s.by_region), ("按省份 By province", &s.by_province)]
    }

    /// A severity in the report's language (单项否决, 扣分, 预警, 提示).
    fn severity(&self, s: &sitecensus_core::Severity) -> &'static str {
        self.lang.severity(*s)
    }

    /// A verdict in the report's language (合格 / PASS).
    fn verdict(&self, v: &sitecensus_score::Verdict) -> &'static str {
        match v {
            sitecensus_score::Verdict::Pass => self.lang.t(crate::Label::Pass),
            sitecensus_score::Verdict::Fail => self.lang.t(crate::Label::Fail),
        }
    }

    /// A check in the report's language: its Chinese name, or its id.
    fn check(&self, c: &sitecensus_core::CheckId) -> &'static str {
        self.lang.check(*c)
    }

    /// Whether the report is in Chinese (check ids are then shown beside the names).
    fn zh(&self) -> bool {
        self.lang == Lang::Zh
    }

    /// A finding's evidence in the report's language.
    fn evidence<'f>(&self, f: &'f sitecensus_core::Finding) -> &'f str {
        self.lang.evidence(f)
    }

    /// A column kind in the report's language.
    fn kind(&self, k: &sitecensus_core::rubric::ColumnKind) -> &'static str {
        self.lang.kind(*k)
    }

    /// A level in the report's language.
    fn level<'l>(&self, level: &'l str) -> &'l str {
        self.lang.level(level)
    }

    /// A group's key as people read it, in the report's language.
    fn group_label(&self, g: &crate::summary::Group) -> String {
        g.label_in(self.lang)
    }

    /// The crawl's figures of a site as rows of a table: a label in the report's language and
    /// the value as people read it (robots.txt per scope, the addresses cut by which guard).
    fn crawl(&self, site: &crate::SiteResult) -> Vec<(&'static str, String)> {
        let st = &site.stats;
        let zh = self.zh();
        let label = |zh_label: &'static str, en: &'static str| if zh { zh_label } else { en };
        let mut rows = vec![
            (label("抓取页面", "pages fetched"), st.pages_fetched.to_string()),
            (label("抓取失败", "pages failed"), st.pages_failed.to_string()),
            (label("检查链接", "links checked"), st.links_checked.to_string()),
            (label("不可用链接", "links broken"), st.links_broken.to_string()),
            (label("用时", "duration"), format!("{:.1} s", st.duration_ms as f64 / 1000.0)),
            (label("读取字节", "bytes read"), st.bytes.to_string()),
        ];
        let counts = [
            (label("超过大小上限的页面", "pages cut at the size cap"), st.pages_truncated),
            (label("robots.txt 排除的地址", "addresses robots.txt kept out"), st.robots_excluded),
            (label("站点地图中的地址", "sitemap addresses"), st.sitemap_urls),
            (label("非网页的响应", "answers that are not pages"), st.non_html_pages),
            (label("检查个人信息的附件", "attachments read for personal data"), st.attachments_read),
            (label("无法读取的附件", "attachments that could not be read"), st.attachments_unreadable),
            (label("经 TLS 1.0/1.1 读取的页面", "pages read over TLS 1.0/1.1"), st.pages_via_old_tls),
            (label("浏览器渲染的页面", "pages drawn by the browser"), st.pages_rendered),
            (label("渲染失败", "drawings that failed"), st.render_failures),
        ];
        rows.extend(counts.into_iter().filter(|(_, n)| *n > 0).map(|(l, n)| (l, n.to_string())));
        for (scope, r) in &st.robots {
            let rules = if r.rules.is_empty() {
                label("无禁止规则", "no Disallow rules").to_owned()
            } else {
                r.rules.join(" · ")
            };
            let delay = r.crawl_delay.map(|d| format!(" · Crawl-delay {d} s")).unwrap_or_default();
            rows.push(("robots.txt", format!("{scope}: {} — {rules}{delay}", r.status)));
        }
        if !st.urls_cut.is_empty() {
            let cut: Vec<String> = st.urls_cut.iter().map(|(why, n)| format!("{why}: {n}")).collect();
            rows.push((label("未抓取的地址（按原因）", "addresses left out, by guard"), cut.join(" · ")));
        }
        if !st.scope.is_empty() {
            rows.push((label("抓取范围", "scope"), st.scope.join(" · ")));
        }
        for a in &st.attachments_unreadable_examples {
            rows.push((label("无法读取的附件", "attachment not read"), format!("{} — {}", a.url, a.error)));
        }
        if st.resumed {
            rows.push((
                label("续抓", "resumed"),
                label("是（接续中断的抓取）", "yes (an interrupted crawl went on)").to_owned(),
            ));
        }
        rows
    }

    /// The 1-based place of the site given as `url` in the results (its section's anchor).
    fn index_of(&self, url: &str) -> Option<usize> {
        self.places.get(url).copied()
    }

    /// Where the section of the site given as `url` is.
    fn href(&self, url: &str) -> Option<&str> {
        self.hrefs.get(url).map(String::as_str)
    }

    /// The link to a finding's screenshot (`detail.screenshot`): relative to the report's folder
    /// where it can be, else a `file:` address.
    fn screenshot(&self, f: &sitecensus_core::Finding) -> Option<String> {
        let path = std::path::Path::new(f.detail.get("screenshot")?.as_str()?);
        if let Some(rel) = self.base.as_deref().and_then(|b| pathdiff::diff_paths(path, b)) {
            return Some(rel.to_string_lossy().replace('\\', "/"));
        }
        url::Url::from_file_path(path).ok().map(|u| u.to_string())
    }
}

/// Whether a string may be used as a link target (http or https only).
#[must_use]
pub fn linkable(url: &str) -> bool {
    let l = url.trim_start().to_ascii_lowercase();
    l.starts_with("http://") || l.starts_with("https://")
}

/// Renders the report in Chinese (screenshots linked by their `file:` addresses).
#[must_use]
pub fn render(results: &Results) -> String {
    render_at(results, None, Lang::Zh)
}

/// Renders the report in `lang` to be written in `folder` (screenshots linked relative to it).
#[must_use]
pub fn render_at(results: &Results, folder: Option<&Path>, lang: Lang) -> String {
    let hrefs = results.sites.iter().enumerate().map(|(i, s)| (s.url.as_str(), format!("#site-{}", i + 1))).collect();
    let sections: Vec<(usize, &SiteResult)> = results.sites.iter().enumerate().map(|(i, s)| (i + 1, s)).collect();
    let ranking = results.summary.ranking.iter().collect();
    page(results, folder, lang, &hrefs, sections, ranking, &[], None)
}

/// How a census report is split into files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    /// One file per region as the site list gives it (`360102.html`; sites with none in `no-region.html`).
    Region,
    /// One file per site (`site-1.html`, in the order of the results).
    Site,
}

/// One file of a split report, as its index lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct Part {
    /// What it holds: a region's code and name, or a site's name.
    pub label: String,
    /// Its file name, beside the index.
    pub file: String,
    /// Sites in it.
    pub sites: usize,
    /// Sites that pass.
    pub pass: usize,
    /// Their mean score.
    pub mean_score: f64,
}

impl Part {
    /// `pass / sites`.
    #[must_use]
    pub fn pass_rate(&self) -> f64 {
        if self.sites == 0 { 0.0 } else { self.pass as f64 / self.sites as f64 }
    }
}

/// Renders a census report split by `split` for `folder`: `index.html` (the census summary and
/// its parts) first, then each part's file (its sites' ranking and sections), each handed to
/// `write` as (file name, HTML) as soon as it is rendered, so a national round is never held whole.
///
/// # Errors
/// What `write` returns.
pub fn render_split<E>(
    results: &Results,
    folder: &Path,
    lang: Lang,
    split: Split,
    mut write: impl FnMut(&str, &str) -> Result<(), E>,
) -> Result<(), E> {
    // Each part's file and sites, in the order the parts are listed.
    let mut parts: Vec<(String, String, Vec<usize>)> = Vec::new();
    let mut part_of: HashMap<String, usize> = HashMap::new();
    for (i, s) in results.sites.iter().enumerate() {
        let (key, label) = match split {
            Split::Region => match s.region.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
                Some(r) => (
                    file_stem(r),
                    crate::summary::Group { key: r.to_owned(), name: s.region_name.clone(), ..Default::default() }
                        .label(),
                ),
                None => (
                    "no-region".to_owned(),
                    if lang == Lang::Zh { "未注明地区".to_owned() } else { "no region given".to_owned() },
                ),
            },
            Split::Site => (format!("site-{}", i + 1), s.name.clone().unwrap_or_else(|| s.url.clone())),
        };
        let at = *part_of.entry(key.clone()).or_insert_with(|| {
            parts.push((format!("{key}.html"), label, Vec::new()));
            parts.len() - 1
        });
        parts[at].2.push(i);
    }
    if split == Split::Region {
        parts.sort_by(|a, b| a.0.cmp(&b.0));
    }
    let hrefs: HashMap<&str, String> = parts
        .iter()
        .flat_map(|(file, _, sites)| {
            sites.iter().map(move |&i| (results.sites[i].url.as_str(), format!("{file}#site-{}", i + 1)))
        })
        .collect();
    let listed: Vec<Part> = parts
        .iter()
        .map(|(file, label, sites)| {
            let pass = sites.iter().filter(|&&i| results.sites[i].verdict == "pass").count();
            let total: f64 = sites.iter().map(|&i| results.sites[i].score).sum();
            Part {
                label: label.clone(),
                file: file.clone(),
                sites: sites.len(),
                pass,
                mean_score: if sites.is_empty() { 0.0 } else { (total / sites.len() as f64 * 10.0).round() / 10.0 },
            }
        })
        .collect();
    write("index.html", &page(results, Some(folder), lang, &hrefs, Vec::new(), Vec::new(), &listed, None))?;
    for (file, label, sites) in &parts {
        let urls: std::collections::HashSet<&str> = sites.iter().map(|&i| results.sites[i].url.as_str()).collect();
        let ranking = results.summary.ranking.iter().filter(|k| urls.contains(k.url.as_str())).collect();
        let sections = sites.iter().map(|&i| (i + 1, &results.sites[i])).collect();
        write(file, &page(results, Some(folder), lang, &hrefs, sections, ranking, &[], Some(label.clone())))?;
    }
    Ok(())
}

/// A region code as a file name: its letters, digits and dashes, the rest `_`.
fn file_stem(region: &str) -> String {
    region.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect()
}

/// Renders one page of a report.
#[allow(clippy::too_many_arguments, reason = "one page's parts, each named where it is called")]
fn page<'a>(
    results: &'a Results,
    folder: Option<&Path>,
    lang: Lang,
    hrefs: &'a HashMap<&'a str, String>,
    sections: Vec<(usize, &'a SiteResult)>,
    ranking: Vec<&'a Rank>,
    parts: &'a [Part],
    part: Option<String>,
) -> String {
    let pass = if part.is_some() {
        sections.iter().filter(|(_, s)| s.verdict == "pass").count()
    } else {
        results.sites.iter().filter(|s| s.verdict == "pass").count()
    };
    let of = if part.is_some() { sections.len() } else { results.sites.len() };
    let places = results.sites.iter().enumerate().map(|(i, s)| (s.url.as_str(), i + 1)).collect();
    let base = folder.map(|f| f.canonicalize().unwrap_or_else(|_| f.to_owned()));
    Report { r: results, pass, fail: of - pass, places, hrefs, sections, ranking, parts, part, base, lang }
        .render()
        .expect("the report template renders")
}

mod filters {
    #[askama::filter_fn]
    pub fn linkable(url: &str, _: &dyn askama::Values) -> askama::Result<bool> {
        Ok(super::linkable(url))
    }
}
