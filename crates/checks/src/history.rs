//! Checks that need two runs of the same site: an item that appears in a column after the earlier
//! run but claims a date before it (`accuracy.backdated`, 伪造发稿日期), and a homepage whose item
//! list has not changed between runs the window apart (`freshness.homepage_stale`, its stored-scan
//! rule).

use sitecensus_core::CheckId;
use std::collections::HashSet;

use serde::Deserialize;
use sitecensus_core::Finding;
use sitecensus_extract::{Page, PageKind};

use crate::Rule;
use crate::freshness::{HOMEPAGE_STALE, HomepageParams};
use crate::model::SiteModel;

/// `accuracy.backdated`.
pub const BACKDATED: CheckId = CheckId::AccuracyBackdated;

/// Parameters of `accuracy.backdated` (none).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackdatedParams {}

/// The earlier run a site is compared with.
#[derive(Debug, Clone, Copy)]
pub struct Earlier<'a> {
    /// The site as that run stored it.
    pub site: &'a SiteModel,
    /// That run's id.
    pub run: i64,
}

fn read_pages(site: &SiteModel) -> impl Iterator<Item = (&str, &Page)> {
    site.pages.iter().filter_map(|e| e.page.as_ref().map(|p| (e.url.as_str(), p)))
}

/// `accuracy.backdated`: items of a list page that the earlier run also read, absent from the
/// whole site then, dated before that run and no older than the oldest item that list showed
/// then (so it would have been listed, had it existed).
#[must_use]
pub fn backdated(now: &SiteModel, then: Earlier<'_>, rule: &Rule<BackdatedParams>) -> Vec<Finding> {
    let then_day = then.site.as_of.date();
    let mut known: HashSet<&str> = HashSet::new();
    for (url, p) in read_pages(then.site) {
        known.insert(url);
        known.insert(p.url.as_str());
        known.extend(p.items.iter().map(|i| i.url.as_str()));
    }
    let then_lists: std::collections::HashMap<&str, &Page> =
        read_pages(then.site).filter(|(_, p)| !p.items.is_empty()).collect();
    let mut out = Vec::new();
    let mut reported: HashSet<&str> = HashSet::new();
    for (url, page) in read_pages(now) {
        let Some(before) = then_lists.get(url) else { continue };
        let Some(oldest) = before.items.iter().filter_map(|i| i.date.as_deref().and_then(crate::model::day)).min()
        else {
            continue;
        };
        for item in &page.items {
            let Some(claimed) = item.date.as_deref().and_then(crate::model::day) else { continue };
            if known.contains(item.url.as_str())
                || claimed >= then_day
                || claimed < oldest
                || !reported.insert(&item.url)
            {
                continue;
            }
            out.push(
                Finding::new(
                    BACKDATED,
                    rule.severity,
                    format!(
                        "「{}」 claims {claimed}, but the list did not show it at the scan of {then_day} (run {})",
                        item.title, then.run
                    ),
                )
                .zh(format!(
                    "「{}」标注日期为 {claimed}，但在 {then_day} 的检查（第 {} 轮）中列表并无此条",
                    item.title, then.run
                ))
                .page(url)
                .target(item.url.clone())
                .detail("claimed_date", claimed.to_string())
                .detail("earlier_run", then.run)
                .detail("earlier_as_of", then_day.to_string())
                .detail("title", item.title.clone()),
            );
        }
    }
    out
}

/// The homepage's item list as (title, address), dates left out: a CMS that stamps today's date
/// on the same items has not updated them.
fn homepage_items(site: &SiteModel) -> Option<Vec<(&str, &str)>> {
    let home = site.homepage_page()?;
    (home.page_kind == PageKind::Homepage || !home.items.is_empty())
        .then(|| home.items.iter().map(|i| (i.title.as_str(), i.url.as_str())).collect::<Vec<_>>())
        .filter(|v| !v.is_empty())
}

/// The stored-scan rule of `freshness.homepage_stale`: the same homepage items at two runs at
/// least the window apart.
#[must_use]
pub fn homepage_unchanged(now: &SiteModel, then: Earlier<'_>, rule: &Rule<HomepageParams>) -> Vec<Finding> {
    let days = (now.as_of.date() - then.site.as_of.date()).num_days();
    if days < rule.params.window_days {
        return Vec::new();
    }
    let (Some(a), Some(b)) = (homepage_items(now), homepage_items(then.site)) else { return Vec::new() };
    if a != b {
        return Vec::new();
    }
    vec![
        Finding::new(
            HOMEPAGE_STALE,
            rule.severity,
            format!(
                "the homepage lists the same {} items as at the scan of {} (run {}), {days} days earlier",
                a.len(),
                then.site.as_of.date(),
                then.run
            ),
        )
        .zh(format!(
            "首页列出的 {} 条信息与 {days} 天前 {} 的检查（第 {} 轮）完全相同",
            a.len(),
            then.site.as_of.date(),
            then.run
        ))
        .page(now.spec.url.to_string())
        .detail("rule", "unchanged")
        .detail("earlier_run", then.run)
        .detail("days", days),
    ]
}
