//! The HTML report: one self-contained file (inline CSS, no scripts, no outside requests). Every
//! string that came from a crawled page is escaped by the template engine, and only http(s)
//! URLs become links.

use askama::Template;

use crate::{Lang, Results};

#[derive(Template)]
#[template(path = "report.html")]
struct Report<'a> {
    r: &'a Results,
    pass: usize,
    fail: usize,
    /// Each site's 1-based place in the results (its section's anchor), by the URL it was given as.
    places: std::collections::HashMap<&'a str, usize>,
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
pub fn render_at(results: &Results, folder: Option<&std::path::Path>, lang: Lang) -> String {
    let pass = results.sites.iter().filter(|s| s.verdict == "pass").count();
    let places = results.sites.iter().enumerate().map(|(i, s)| (s.url.as_str(), i + 1)).collect();
    let base = folder.map(|f| f.canonicalize().unwrap_or_else(|_| f.to_owned()));
    Report { r: results, pass, fail: results.sites.len() - pass, places, base, lang }
        .render()
        .expect("the report template renders")
}

mod filters {
    #[askama::filter_fn]
    pub fn linkable(url: &str, _: &dyn askama::Values) -> askama::Result<bool> {
        Ok(super::linkable(url))
    }
}
