//! `security.defacement` (网页篡改): a homepage whose content was replaced — most of what it
//! showed (the addresses and texts of its links, its images, its title) gone at once. An update
//! changes some items and keeps the navigation, the columns and the footer; a defaced page, or any
//! page put in the homepage's place, keeps almost nothing. Judged between two looks at the same
//! homepage (the monitor's probes take them): one look alone cannot tell.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use sitecensus_core::{CheckId, Finding, Rubric};
use sitecensus_extract::Page;

use crate::{ParamError, Rule};

/// `security.defacement`.
pub const ID: CheckId = CheckId::SecurityDefacement;

/// Thresholds of `security.defacement`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DefacementParams {
    /// The share of the homepage's marks a later look must keep to be the same homepage.
    pub min_kept: f64,
    /// A homepage with fewer marks than this is not judged (a splash page with a few links).
    pub min_marks: usize,
}

/// The rule of `security.defacement` in `rubric`; None when the rubric does not run it.
///
/// # Errors
/// When its parameters do not fit.
pub fn rule(rubric: &Rubric) -> Result<Option<Rule<DefacementParams>>, ParamError> {
    crate::rule(rubric, ID)
}

/// How many of a homepage's marks its print keeps: the smallest hashes, a sample that stays the
/// same sample from look to look (so that what one look kept can be sought in the next).
const SAMPLE: usize = 128;

/// Characters of the page's text a print keeps to show what the homepage said.
const EXCERPT_CHARS: usize = 120;

/// A homepage as one look saw it: a sample of the hashes of its marks, and what to show of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Print {
    /// The smallest hashes of its marks, ascending.
    pub sample: Vec<u64>,
    /// How many distinct marks it had.
    pub marks: usize,
    /// Its title.
    pub title: String,
    /// Visible characters of text.
    pub text_chars: usize,
    /// The start of its text.
    pub excerpt: String,
}

/// A stable 64-bit hash (FNV-1a, then a SplitMix64 finish so that the smallest hashes are an
/// even sample): the same on every run and machine, which std's hasher is not.
fn hash(kind: u8, text: &str) -> u64 {
    let h = std::iter::once(kind)
        .chain(text.bytes())
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    let mut z = h.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// An address without its query, fragment and path parameters: a cache-busting `?t=…` or a
/// session id (`;jsessionid=…`) is not a change of the page.
fn address(url: &str) -> &str {
    url.split(['?', '#', ';']).next().unwrap_or(url)
}

/// What a page shows that stays from one update to the next: the addresses its links and images
/// point at, its links' texts, its title.
#[must_use]
pub fn marks(page: &Page) -> HashSet<u64> {
    let mut out = HashSet::with_capacity(page.links.len() * 2 + page.images.len() + 1);
    for l in &page.links {
        out.insert(hash(b'u', address(&l.url)));
        let text = l.text.trim();
        if !text.is_empty() {
            out.insert(hash(b't', text));
        }
    }
    for i in &page.images {
        out.insert(hash(b'i', address(&i.src)));
    }
    let title = page.title.trim();
    if !title.is_empty() {
        out.insert(hash(b'h', title));
    }
    out
}

impl Print {
    /// The print of a page whose marks are `marks`.
    #[must_use]
    pub fn of(page: &Page, marks: &HashSet<u64>) -> Print {
        let mut sample: Vec<u64> = marks.iter().copied().collect();
        sample.sort_unstable();
        sample.truncate(SAMPLE);
        let text = if page.main_text.trim().is_empty() {
            page.links.iter().map(|l| l.text.trim()).filter(|t| !t.is_empty()).collect::<Vec<_>>().join(" ")
        } else {
            page.main_text.split_whitespace().collect::<Vec<_>>().join(" ")
        };
        Print {
            sample,
            marks: marks.len(),
            title: page.title.trim().chars().take(EXCERPT_CHARS).collect(),
            text_chars: page.text_chars,
            excerpt: text.chars().take(EXCERPT_CHARS).collect(),
        }
    }

    /// The share of this print's sample found among `marks` (a later look's): an unbiased
    /// estimate of the share of this page's marks the later page kept.
    #[must_use]
    pub fn kept_in(&self, marks: &HashSet<u64>) -> f64 {
        if self.sample.is_empty() {
            return 1.0;
        }
        self.sample.iter().filter(|h| marks.contains(h)).count() as f64 / self.sample.len() as f64
    }
}

/// Whether the homepage `now` (with its `marks`) kept too little of what it showed `before`:
/// the share kept, when it is under the rubric's line and `before` had enough marks to judge.
#[must_use]
pub fn replaced(before: &Print, marks: &HashSet<u64>, rule: &Rule<DefacementParams>) -> Option<f64> {
    let kept = before.kept_in(marks);
    (before.marks >= rule.params.min_marks && kept < rule.params.min_kept).then_some(kept)
}

/// The finding of a homepage replaced: what it was and what it is now (`kept` is the share of
/// its marks left, from [`replaced`]).
#[must_use]
pub fn finding(homepage: &str, before: &Print, now: &Print, kept: f64, rule: &Rule<DefacementParams>) -> Finding {
    let pct = (kept * 100.0).round();
    let (was, is) = (&before.title, &now.title);
    Finding::new(
        ID,
        rule.severity,
        format!(
            "the homepage's content was replaced: {pct}% of what it showed is left ({} marks before, {} now); title 「{was}」 → 「{is}」; {} → {} characters of text; it now reads 「{}」",
            before.marks, now.marks, before.text_chars, now.text_chars, now.excerpt
        ),
    )
    .zh(format!(
        "首页内容被整体替换，疑似被篡改：原有链接、图片与文字仅剩 {pct}%（此前 {} 项，现 {} 项）；标题「{was}」→「{is}」；文字 {} → {} 字；现显示「{}」",
        before.marks, now.marks, before.text_chars, now.text_chars, now.excerpt
    ))
    .page(homepage)
    .detail("kept", (kept * 1000.0).round() / 1000.0)
    .detail("marks_before", before.marks)
    .detail("marks_now", now.marks)
    .detail("title_before", was.clone())
    .detail("title_now", is.clone())
    .detail("text_chars_before", before.text_chars)
    .detail("text_chars_now", now.text_chars)
    .detail("excerpt", now.excerpt.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_keeps_its_path_and_loses_its_query() {
        assert_eq!(address("http://a.gov.cn/list.jsp?t=1701#top"), "http://a.gov.cn/list.jsp");
        assert_eq!(address("http://a.gov.cn/list.jsp;jsessionid=9F2A?id=3"), "http://a.gov.cn/list.jsp");
        assert_ne!(hash(b'u', "x"), hash(b't', "x"), "a link's text is not its address");
    }
}
