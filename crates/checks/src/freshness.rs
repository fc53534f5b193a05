//! Timeliness (不及时): a homepage not updated within the window, columns older than the window
//! for their kind, and empty columns (开天窗) — with the official veto lines and early warnings
//! before them. An item with no visible date counts as not updated (the official rule).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sitecensus_core::CheckId;
use sitecensus_core::rubric::ColumnKind;
use sitecensus_core::{Finding, Severity};
use sitecensus_extract::DateSource;

use crate::Rule;
use crate::columns::ColumnInfo;
use crate::model::SiteModel;

/// `freshness.homepage_stale`.
pub const HOMEPAGE_STALE: CheckId = CheckId::FreshnessHomepageStale;
/// `freshness.column_stale`.
pub const COLUMN_STALE: CheckId = CheckId::FreshnessColumnStale;
/// `content.empty_column`.
pub const EMPTY_COLUMN: CheckId = CheckId::ContentEmptyColumn;
/// `freshness.unreadable`.
pub const UNREADABLE: CheckId = CheckId::FreshnessUnreadable;

/// Parameters of `freshness.unreadable`: none; it is never a veto.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnreadableParams {}

/// Thresholds of `freshness.homepage_stale`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HomepageParams {
    /// Days without an update that fail the homepage.
    pub window_days: i64,
    /// Days without an update that warn.
    pub warn_days: i64,
}

/// Thresholds of `freshness.column_stale`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnParams {
    /// Window of news columns (动态、要闻).
    pub news_days: i64,
    /// Window of notice columns (通知公告).
    pub notice_days: i64,
    /// Window of policy columns (政策文件).
    pub policy_days: i64,
    /// Window of personnel columns (人事).
    pub personnel_days: i64,
    /// Window of planning columns (规划计划).
    pub planning_days: i64,
    /// Stale columns that raise an early warning.
    pub warn_count: usize,
    /// Whether only first-level notice and policy columns count toward the first veto line (2019: yes; 2015: no).
    #[serde(default = "yes")]
    pub first_level_only: bool,
}

fn yes() -> bool {
    true
}

impl ColumnParams {
    /// The window of a kind of column; None for kinds that have none (interaction, service, other).
    #[must_use]
    pub fn window(&self, kind: sitecensus_core::rubric::ColumnKind) -> Option<i64> {
        use sitecensus_core::rubric::ColumnKind;
        match kind {
            ColumnKind::News => Some(self.news_days),
            ColumnKind::Notice => Some(self.notice_days),
            ColumnKind::Policy => Some(self.policy_days),
            ColumnKind::Personnel => Some(self.personnel_days),
            ColumnKind::Planning => Some(self.planning_days),
            ColumnKind::Interaction | ColumnKind::Service | ColumnKind::Other => None,
        }
    }
}

/// Parameters of `content.empty_column`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmptyParams {
    /// Empty columns that raise an early warning.
    pub warn_count: usize,
    /// Texts that stand in for content ("暂无信息", "正在建设中", …).
    pub placeholders: Vec<String>,
}

fn host(url: &str) -> Option<String> {
    url::Url::parse(url).ok().and_then(|u| u.host_str().map(str::to_owned))
}

fn days(as_of: NaiveDate, d: NaiveDate) -> i64 {
    (as_of - d).num_days()
}

/// What a homepage showed of its updates: the newest of its own dated items (or, where it shows
/// none, of its second-level pages') and where. Kept in the site's figures (`freshness.homepage`)
/// so that its window can be measured again on a later day without a crawl (the monitor's daily
/// pass, while the homepage has not changed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HomepageNewest {
    /// The homepage (where the crawl ended up).
    pub url: String,
    /// The newest date shown, if any.
    pub newest: Option<NaiveDate>,
    /// The item (its address) that shows it.
    pub at: Option<String>,
    /// `homepage`, or `second_level_pages` where the homepage shows no dated item.
    pub rule: String,
    /// Whether scripts may draw the homepage's items and no browser drew them.
    pub unread: bool,
}

/// The newest update a site's homepage shows, as of the site's as-of (later dates are typos or
/// events, not updates); None without a homepage.
#[must_use]
pub fn homepage_newest(site: &SiteModel) -> Option<HomepageNewest> {
    let home = site.homepage_page()?;
    let limit = site.as_of.date() + chrono::Days::new(1);
    let parse = |d: &str| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok().filter(|d| *d <= limit);
    let homepage_url = site.homepage.as_ref().map_or_else(|| site.spec.url.to_string(), |h| h.final_url.clone());
    // What a reader takes for the site's own updates: items of its own domain (not a ticker of
    // another site's news) with a date shown (not one only its address carries).
    let own: Vec<String> = [site.spec.url.host_str().map(str::to_owned), host(&homepage_url)]
        .into_iter()
        .flatten()
        .map(|h| crate::spam::registrable(&h))
        .collect();
    let updates = |i: &&sitecensus_extract::Item| {
        i.date_source != Some(DateSource::Url)
            && host(&i.url).is_some_and(|h| own.contains(&crate::spam::registrable(&h)))
    };
    let mut newest = home
        .items
        .iter()
        .filter(updates)
        .filter_map(|i| i.date.as_deref().and_then(parse).map(|d| (d, i.url.clone())))
        .max();
    let mut rule_used = "homepage";
    // A homepage whose dated items scripts draw, and no browser drew: judged by its second-level
    // pages where they show an update; otherwise it could not be read (freshness.unreadable).
    let unread = crate::columns::Unreadable::of(home).is_some();
    if newest.is_none() {
        rule_used = "second_level_pages";
        newest = site
            .pages
            .iter()
            .filter(|p| p.depth == 1)
            .filter_map(|p| p.page.as_ref().map(|pg| (p, pg)))
            .flat_map(|(p, pg)| {
                pg.items
                    .iter()
                    .filter(updates)
                    .filter_map(move |i| i.date.as_deref().and_then(parse).map(|d| (d, p.final_url.clone())))
            })
            .max();
    }
    let (newest, at) = newest.map_or((None, None), |(d, at)| (Some(d), Some(at)));
    Some(HomepageNewest { url: homepage_url, newest, at, rule: rule_used.to_owned(), unread })
}

/// The homepage shows no item dated within the window as of `as_of` (a warning from the
/// rubric's `warn_days`). Where the homepage shows no dated item at all (a navigation hub), its
/// second-level pages are judged together.
#[must_use]
pub fn homepage_stale(h: &HomepageNewest, as_of: NaiveDate, rule: &Rule<HomepageParams>) -> Vec<Finding> {
    let p = &rule.params;
    if h.unread && h.newest.is_none_or(|d| days(as_of, d) > p.warn_days) {
        return Vec::new();
    }
    let (Some(date), Some(at)) = (h.newest, h.at.clone()) else {
        return vec![Finding::new(
            HOMEPAGE_STALE,
            rule.severity,
            "no item on the homepage or its second-level pages shows a date (an undated item counts as not updated)",
        )
        .zh("首页及其二级页面上没有任何带日期的信息（未标日期的信息视为未更新）")
        .page(h.url.clone())
        .detail("rule", h.rule.clone())
        .detail("newest", serde_json::Value::Null)];
    };
    let age = days(as_of, date);
    if age <= p.warn_days {
        return Vec::new();
    }
    let warning_only = age <= p.window_days;
    let w = p.window_days;
    let (evidence, evidence_zh) = match h.rule.as_str() {
        "homepage" => (
            format!("newest homepage item {date}, {age} days before as-of (window {w} days)"),
            format!("首页最新信息发布于 {date}，距检查基准日 {age} 天（时限 {w} 天）"),
        ),
        _ => (
            format!(
                "the homepage shows no dated item; the newest on its second-level pages is {date}, {age} days before as-of (window {w} days)"
            ),
            format!("首页没有带日期的信息；其二级页面最新信息发布于 {date}，距检查基准日 {age} 天（时限 {w} 天）"),
        ),
    };
    vec![
        Finding::new(HOMEPAGE_STALE, rule.severity, evidence)
            .zh(evidence_zh)
            .at_most_if(warning_only, Severity::Warn)
            .page(h.url.clone())
            .target(at)
            .detail("rule", h.rule.clone())
            .detail("newest", date.to_string())
            .detail("days", age)
            .detail("window_days", p.window_days),
    ]
}

/// Whether a column is older than its kind's window (undated columns are). An empty column is
/// reported as empty, once; a column that could not be read is neither.
#[must_use]
pub fn is_stale(c: &ColumnInfo, p: &ColumnParams, as_of: NaiveDate) -> bool {
    if c.empty || c.unreadable.is_some() {
        return false;
    }
    let Some(window) = p.window(c.kind) else { return false };
    match c.latest {
        None => true,
        Some(d) => days(as_of, d) > window,
    }
}

/// A finding per column older than the window for its kind, and an early warning past the
/// rubric's count.
#[must_use]
pub fn column_stale(site: &SiteModel, columns: &[ColumnInfo], rule: &Rule<ColumnParams>) -> Vec<Finding> {
    let as_of = site.as_of.date();
    let p = &rule.params;
    let mut out = Vec::new();
    for c in columns.iter().filter(|c| is_stale(c, p, as_of)) {
        let window = p.window(c.kind).unwrap_or_default();
        let counts_first = c.kind == ColumnKind::News
            || (matches!(c.kind, ColumnKind::Notice | ColumnKind::Policy) && (c.first_level || !p.first_level_only));
        let (title, kind, kind_zh) = (&c.title, c.kind, c.kind.name_zh());
        let (evidence, evidence_zh) = match c.latest {
            Some(d) => {
                let age = days(as_of, d);
                (
                    format!("「{title}」 ({kind}): newest item {d}, {age} days before as-of (window {window} days)"),
                    format!("「{title}」（{kind_zh}）：最新信息发布于 {d}，距检查基准日 {age} 天（时限 {window} 天）"),
                )
            }
            None => (
                format!("「{title}」 ({kind}): none of its {} items shows a date", c.items),
                format!("「{title}」（{kind_zh}）：{} 条信息均未标注日期", c.items),
            ),
        };
        out.push(
            Finding::new(COLUMN_STALE, rule.severity, evidence)
                .zh(evidence_zh)
                .page(c.url.clone())
                .detail("title", c.title.clone())
                .detail("kind", c.kind.as_str())
                .detail("newest", c.latest.map(|d| d.to_string()))
                .detail("days", c.latest.map(|d| days(as_of, d)))
                .detail("window_days", window)
                .detail("items", c.items)
                .detail("first_level", c.first_level)
                .detail("veto_group", if counts_first { "news_notice_policy" } else { "other" }),
        );
    }
    let n = out.len();
    if n >= p.warn_count && rule.veto_at.is_none_or(|v| n < v) {
        let line = rule.veto_at.map_or_else(String::new, |v| format!(" ({v} fail the site)"));
        let line_zh = rule.veto_at.map_or_else(String::new, |v| format!("（达到 {v} 个即不合格）"));
        out.push(
            Finding::new(
                COLUMN_STALE,
                rule.severity,
                format!("{n} columns are not updated within their windows{line}"),
            )
            .zh(format!("{n} 个栏目未在时限内更新{line_zh}"))
            .at_most_if(true, Severity::Warn)
            .page(site.spec.url.to_string())
            .detail("summary", true)
            .detail("stale_columns", n),
        );
    }
    out
}

/// `freshness.unreadable`: the homepage and the columns whose dated items could not be read —
/// the markup holds none, scripts may draw them, and no browser drew them (rendering off, no
/// Chromium, the budget spent, or the browser failed). Never a veto: "could not read" is not
/// "empty" or "stale".
#[must_use]
pub fn unreadable(site: &SiteModel, columns: &[ColumnInfo], rule: &Rule<UnreadableParams>) -> Vec<Finding> {
    let finding = |page: &str, (what, what_zh): (String, String), u: &crate::columns::Unreadable| {
        let scripts = u.scripts.iter().take(3).cloned().collect::<Vec<_>>().join(", ");
        Finding::new(
            UNREADABLE,
            rule.severity,
            format!("{what}: no dated item in its markup, and scripts may draw them ({scripts}); {}", u.note),
        )
        .zh(format!("{what_zh}：网页源码中没有带日期的信息，可能由脚本生成（{scripts}）；未渲染原因：{}", u.note))
        .page(page.to_owned())
        .detail("scripts", u.scripts.clone())
        .detail("why_not_rendered", u.note.clone())
    };
    let mut out = Vec::new();
    if let Some(home) = site.homepage_page()
        && let Some(u) = crate::columns::Unreadable::of(home)
    {
        let url = site.homepage.as_ref().map_or_else(|| site.spec.url.to_string(), |h| h.final_url.clone());
        let what = ("the homepage could not be read".to_owned(), "无法读取首页".to_owned());
        out.push(finding(&url, what, &u).detail("homepage", true));
    }
    for c in columns {
        if let Some(u) = &c.unreadable {
            let what = (
                format!("「{}」 ({}) could not be read", c.title, c.kind),
                format!("无法读取「{}」（{}）", c.title, c.kind.name_zh()),
            );
            out.push(finding(&c.url, what, u).detail("title", c.title.clone()).detail("kind", c.kind.as_str()));
        }
    }
    out
}

/// A finding per empty column (no items, a placeholder, or nothing but the template), and an
/// early warning past the rubric's count.
#[must_use]
pub fn empty_column(site: &SiteModel, columns: &[ColumnInfo], rule: &Rule<EmptyParams>) -> Vec<Finding> {
    let mut out: Vec<Finding> = columns
        .iter()
        .filter(|c| c.empty)
        .map(|c| {
            let (evidence, evidence_zh) = match &c.placeholder {
                Some(ph) => (
                    format!("「{}」 shows 「{ph}」 and no items", c.title),
                    format!("「{}」显示「{ph}」，没有任何信息", c.title),
                ),
                None => (
                    format!("「{}」 shows no items, only its template", c.title),
                    format!("「{}」只有页面模板，没有任何信息", c.title),
                ),
            };
            Finding::new(EMPTY_COLUMN, rule.severity, evidence)
                .zh(evidence_zh)
                .page(c.url.clone())
                .detail("title", c.title.clone())
                .detail("kind", c.kind.as_str())
                .detail("placeholder", c.placeholder.clone())
        })
        .collect();
    let n = out.len();
    if n >= rule.params.warn_count && rule.veto_at.is_none_or(|v| n < v) {
        let line = rule.veto_at.map_or_else(String::new, |v| format!(" ({v} fail the site)"));
        let line_zh = rule.veto_at.map_or_else(String::new, |v| format!("（达到 {v} 个即不合格）"));
        out.push(
            Finding::new(EMPTY_COLUMN, rule.severity, format!("{n} empty columns{line}"))
                .zh(format!("{n} 个空白栏目{line_zh}"))
                .at_most_if(true, Severity::Warn)
                .page(site.spec.url.to_string())
                .detail("summary", true)
                .detail("empty_columns", n),
        );
    }
    out
}
