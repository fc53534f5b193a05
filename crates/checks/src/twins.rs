//! `accuracy.twin_articles` (孪生报道): articles whose own text is nearly identical though their
//! dates or titles differ — a report reposted with only the date, a name or a post changed.
//!
//! An article's own text is its main text less the site's boilerplate (lines that recur across
//! many of its articles). Its character 3-gram shingles (digits folded, so a changed date does
//! not hide a copy) are summarised by a one-permutation MinHash signature; signatures go into a
//! banded LSH index, so that near-duplicates are found among 100,000 articles, or across the
//! sites of a census round, without comparing every pair. Candidates are then compared exactly.
//! Hand-written because the index must hold articles of many sites at once and explain what
//! differs; gaoya's MinHash-LSH is the reference it was checked against.

use std::collections::{HashMap, HashSet};

use serde::Deserialize;
use sitecensus_core::Finding;
use sitecensus_core::finding::clip;
use xxhash_rust::xxh3::xxh3_64;

use crate::Rule;
use crate::model::SiteModel;

/// `accuracy.twin_articles`.
pub const ID: &str = "accuracy.twin_articles";

/// Parameters of the check.
#[derive(Debug, Clone, Deserialize)]
pub struct Params {
    /// Jaccard similarity of the shingle sets at or above which two articles are twins.
    pub min_similarity: f64,
    /// Characters of own text each article needs to be judged.
    pub min_chars: usize,
    /// A line found on at least this share of a site's articles (and on three) is boilerplate.
    #[serde(default = "fifth")]
    pub boilerplate_share: f64,
}

fn fifth() -> f64 {
    0.2
}

/// Signature length (bins of the one-permutation MinHash).
pub const BINS: usize = 128;
/// LSH bands × rows = BINS; 16 × 8 finds pairs of similarity 0.9 with probability above 0.9999.
const BANDS: usize = 16;
const ROWS: usize = BINS / BANDS;

/// The characters that carry an article's words: CJK and letters; digits fold to `0`.
fn normalize(text: &str) -> Vec<char> {
    text.chars()
        .filter(|c| c.is_alphanumeric())
        .map(|c| if c.is_ascii_digit() { '0' } else { c.to_lowercase().next().unwrap_or(c) })
        .collect()
}

/// Hashes of the character 3-grams of a normalised text.
#[must_use]
pub fn shingles(text: &str) -> Vec<u64> {
    let chars = normalize(text);
    let mut buf = [0u8; 12];
    let mut out: Vec<u64> = chars
        .windows(3)
        .map(|w| {
            let mut n = 0;
            for c in w {
                n += c.encode_utf8(&mut buf[n..]).len();
            }
            xxh3_64(&buf[..n])
        })
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// A one-permutation MinHash signature with rotation densification (empty bins borrow from the
/// next filled one, shifted so that borrowed values differ from real ones).
#[must_use]
pub fn signature(shingles: &[u64]) -> [u64; BINS] {
    let mut sig = [u64::MAX; BINS];
    for &h in shingles {
        let bin = (h >> 57) as usize % BINS;
        let v = h & ((1u64 << 57) - 1);
        if v < sig[bin] {
            sig[bin] = v;
        }
    }
    if sig.iter().all(|&v| v == u64::MAX) {
        return sig;
    }
    let filled = sig;
    for i in 0..BINS {
        if filled[i] == u64::MAX {
            let mut j = (i + 1) % BINS;
            let mut dist = 1u64;
            while filled[j] == u64::MAX {
                j = (j + 1) % BINS;
                dist += 1;
            }
            sig[i] = filled[j].wrapping_add(dist << 57);
        }
    }
    sig
}

/// Jaccard similarity of two sorted, deduplicated shingle lists.
#[must_use]
pub fn jaccard(a: &[u64], b: &[u64]) -> f64 {
    let (mut i, mut j, mut common) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                common += 1;
                i += 1;
                j += 1;
            }
        }
    }
    let union = a.len() + b.len() - common;
    if union == 0 { 0.0 } else { common as f64 / union as f64 }
}

/// A banded LSH index of signatures; documents are numbered by the caller.
#[derive(Debug, Default)]
pub struct Index {
    bands: Vec<HashMap<u64, Vec<u32>>>,
}

impl Index {
    /// An empty index.
    #[must_use]
    pub fn new() -> Self {
        Index { bands: (0..BANDS).map(|_| HashMap::new()).collect() }
    }

    /// Adds document `id` and returns the earlier documents that share a band with it.
    pub fn insert(&mut self, id: u32, sig: &[u64; BINS]) -> Vec<u32> {
        let mut found: HashSet<u32> = HashSet::new();
        for (b, band) in self.bands.iter_mut().enumerate() {
            let mut key = [0u8; ROWS * 8];
            for (k, v) in sig[b * ROWS..(b + 1) * ROWS].iter().enumerate() {
                key[k * 8..k * 8 + 8].copy_from_slice(&v.to_le_bytes());
            }
            let bucket = band.entry(xxh3_64(&key)).or_default();
            found.extend(bucket.iter().copied());
            bucket.push(id);
        }
        let mut v: Vec<u32> = found.into_iter().collect();
        v.sort_unstable();
        v
    }
}

/// An article as the twin check reads it.
#[derive(Debug, Clone)]
pub struct Article {
    /// Its URL.
    pub url: String,
    /// Its title.
    pub title: String,
    /// Its publication date, as written.
    pub published: Option<String>,
    /// Its own text (boilerplate removed).
    pub text: String,
}

/// Removes the lines that recur on many of a site's articles (its boilerplate).
#[must_use]
pub fn strip_boilerplate(texts: &[&str], share: f64) -> Vec<String> {
    let mut counts: HashMap<u64, usize> = HashMap::new();
    for t in texts {
        let lines: HashSet<u64> =
            t.lines().map(str::trim).filter(|l| !l.is_empty()).map(|l| xxh3_64(l.as_bytes())).collect();
        for h in lines {
            *counts.entry(h).or_default() += 1;
        }
    }
    let limit = ((texts.len() as f64 * share).ceil() as usize).max(3);
    texts
        .iter()
        .map(|t| {
            t.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && counts.get(&xxh3_64(l.as_bytes())).is_none_or(|&c| c < limit))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .collect()
}

/// What two texts differ in: up to six changed runs, "old → new".
#[must_use]
pub fn differences(a: &str, b: &str) -> Vec<String> {
    let diff = similar::TextDiff::from_chars(a, b);
    let mut out: Vec<String> = Vec::new();
    let (mut del, mut ins) = (String::new(), String::new());
    let flush = |del: &mut String, ins: &mut String, out: &mut Vec<String>| {
        let (d, i) = (del.trim(), ins.trim());
        let change = match (d.is_empty(), i.is_empty()) {
            (false, false) => format!("{} → {}", clip(d, 30), clip(i, 30)),
            (false, true) => format!("−{}", clip(d, 30)),
            (true, false) => format!("+{}", clip(i, 30)),
            (true, true) => String::new(),
        };
        if !change.is_empty() && !out.contains(&change) {
            out.push(change);
        }
        del.clear();
        ins.clear();
    };
    for change in diff.iter_all_changes() {
        match change.tag() {
            similar::ChangeTag::Delete => del.push_str(change.value()),
            similar::ChangeTag::Insert => ins.push_str(change.value()),
            similar::ChangeTag::Equal => {
                if change.value().trim().is_empty() && (!del.is_empty() || !ins.is_empty()) {
                    continue;
                }
                flush(&mut del, &mut ins, &mut out);
            }
        }
        if out.len() >= 6 {
            break;
        }
    }
    flush(&mut del, &mut ins, &mut out);
    out.truncate(6);
    out
}

/// Twin pairs among `articles`: (earlier index, later index, similarity).
#[must_use]
pub fn pairs(articles: &[Article], p: &Params) -> Vec<(usize, usize, f64)> {
    let mut index = Index::new();
    let shingled: Vec<Vec<u64>> = articles.iter().map(|a| shingles(&a.text)).collect();
    let mut out = Vec::new();
    for (i, a) in articles.iter().enumerate() {
        if a.text.chars().filter(|c| c.is_alphanumeric()).count() < p.min_chars {
            continue;
        }
        let sig = signature(&shingled[i]);
        for j in index.insert(i as u32, &sig) {
            let j = j as usize;
            let other = &articles[j];
            // The same article reached at two addresses is not a reposted one.
            if other.title == a.title && other.published == a.published {
                continue;
            }
            let sim = jaccard(&shingled[i], &shingled[j]);
            if sim >= p.min_similarity {
                out.push((j, i, sim));
            }
        }
    }
    out
}

/// The hashes of a signature's LSH bands (what the store indexes for twins across sites).
#[must_use]
pub fn band_hashes(sig: &[u64; BINS]) -> Vec<u64> {
    (0..BANDS)
        .map(|b| {
            let mut key = [0u8; ROWS * 8];
            for (k, v) in sig[b * ROWS..(b + 1) * ROWS].iter().enumerate() {
                key[k * 8..k * 8 + 8].copy_from_slice(&v.to_le_bytes());
            }
            xxh3_64(&key)
        })
        .collect()
}

/// A site's articles with their own text (boilerplate removed), long enough to be judged.
#[must_use]
pub fn articles(site: &SiteModel, p: &Params) -> Vec<Article> {
    let pages: Vec<&sitecensus_extract::Page> = site
        .pages
        .iter()
        .filter_map(|p| p.page.as_ref())
        .filter(|p| p.page_kind == sitecensus_extract::PageKind::Article && !p.main_text.is_empty())
        .collect();
    if pages.is_empty() {
        return Vec::new();
    }
    let texts: Vec<&str> = pages.iter().map(|p| p.main_text.as_str()).collect();
    let own = strip_boilerplate(&texts, p.boilerplate_share);
    pages
        .iter()
        .zip(own)
        .map(|(p, text)| Article { url: p.url.clone(), title: p.title.clone(), published: p.published.clone(), text })
        .filter(|a| a.text.chars().filter(|c| c.is_alphanumeric()).count() >= p.min_chars)
        .collect()
}

/// The finding for a pair: on the later-published article, naming the earlier one.
#[must_use]
pub fn finding(a: &Article, b: &Article, sim: f64, rule: &Rule<Params>) -> Finding {
    let (first, second) = if a.published <= b.published { (a, b) } else { (b, a) };
    let diffs = differences(&first.text, &second.text);
    let evidence = format!(
        "「{}」 ({}) repeats 「{}」 ({}) at {:.0} % similarity; differs: {}",
        clip(&crate::columns::clean_title(&second.title), 40),
        second.published.as_deref().unwrap_or("undated"),
        clip(&crate::columns::clean_title(&first.title), 40),
        first.published.as_deref().unwrap_or("undated"),
        sim * 100.0,
        if diffs.is_empty() { "nothing but the title or date".to_owned() } else { diffs.join("; ") }
    );
    Finding::new(ID, rule.severity, evidence)
        .page(second.url.clone())
        .target(first.url.clone())
        .detail("twin", first.url.clone())
        .detail("similarity", (sim * 1000.0).round() / 1000.0)
        .detail("titles", vec![first.title.clone(), second.title.clone()])
        .detail("dates", vec![first.published.clone(), second.published.clone()])
        .detail("differences", diffs)
}

/// Whether two articles are twins, and how similar: None when they are one article at two
/// addresses, or less similar than the rubric's line.
#[must_use]
pub fn compare(a: &Article, b: &Article, p: &Params) -> Option<f64> {
    if a.title == b.title && a.published == b.published {
        return None;
    }
    let sim = jaccard(&shingles(&a.text), &shingles(&b.text));
    (sim >= p.min_similarity).then_some(sim)
}

/// How similar two articles of different sites are, when they are alike enough to be a copy
/// (unlike [`compare`], the same title and date do not make them one article).
#[must_use]
pub fn compare_across(a: &Article, b: &Article, p: &Params) -> Option<f64> {
    let sim = jaccard(&shingles(&a.text), &shingles(&b.text));
    (sim >= p.min_similarity).then_some(sim)
}

/// The words a line uses to name where a reposted article comes from.
const CREDIT_WORDS: [&str; 6] = ["来源", "转自", "转载", "稿源", "出处", "source"];

/// Whether `text` names one of `names` (the original site's name, title or host) on a line that
/// credits a source (来源：…, 转自…): a credited repost, which is no copy.
#[must_use]
pub fn credits(text: &str, names: &[String]) -> bool {
    let cores: Vec<&str> = names.iter().flat_map(|n| name_cores(n)).collect();
    text.lines().any(|line| {
        let lower = line.to_lowercase();
        CREDIT_WORDS.iter().any(|w| lower.contains(w)) && cores.iter().any(|c| lower.contains(&c.to_lowercase()))
    })
}

/// A site name and the shorter forms a credit line uses: "东湖区人民政府网站" is credited as
/// itself, as "东湖区人民政府" or as "东湖区".
fn name_cores(name: &str) -> Vec<&str> {
    let name = name.trim();
    let mut out = vec![name];
    let mut short = name;
    for suffix in ["门户网站", "网站", "网"] {
        short = short.strip_suffix(suffix).unwrap_or(short);
    }
    out.push(short);
    for gov in ["人民政府", "政府"] {
        if let Some(i) = short.find(gov) {
            out.push(&short[..i]);
            break;
        }
    }
    // Too short a form ("中国") would credit anything.
    out.retain(|c| c.chars().count() >= 3);
    out
}

/// The twin findings of a site: one per pair, on the later-published article.
#[must_use]
pub fn check(site: &SiteModel, rule: &Rule<Params>) -> Vec<Finding> {
    let articles = articles(site, &rule.params);
    pairs(&articles, &rule.params)
        .into_iter()
        .map(|(a, b, sim)| finding(&articles[a], &articles[b], sim, rule))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_estimate_jaccard() {
        let a = shingles(&"长宁县召开全县经济运行分析会，会议要求各乡镇各部门切实抓好项目建设。".repeat(5));
        let b = shingles(&"长宁县召开全县经济运行分析会，会议要求各乡镇各部门切实抓好安全生产。".repeat(5));
        let (sa, sb) = (signature(&a), signature(&b));
        let est = sa.iter().zip(sb.iter()).filter(|(x, y)| x == y).count() as f64 / BINS as f64;
        let exact = jaccard(&a, &b);
        assert!((est - exact).abs() < 0.15, "estimate {est} exact {exact}");
        assert!(exact > 0.3 && exact < 1.0, "{exact}");
    }

    #[test]
    fn digits_fold_so_a_changed_date_is_no_disguise() {
        assert_eq!(shingles("2024年7月10日召开会议"), shingles("2023年6月11日召开会议"));
    }

    #[test]
    fn boilerplate_lines_go() {
        let texts = ["标题一\n正文甲\n本站声明", "标题二\n正文乙\n本站声明", "标题三\n正文丙\n本站声明"];
        let own = strip_boilerplate(&texts, 0.2);
        assert_eq!(own, ["标题一\n正文甲", "标题二\n正文乙", "标题三\n正文丙"]);
    }

    #[test]
    fn a_repost_credits_its_source_by_name_or_host() {
        let names = ["东湖区人民政府".to_owned(), "www.donghu.gov.cn".to_owned()];
        assert!(credits("正文\n来源：东湖区人民政府网站\n正文", &names));
        assert!(credits("转自东湖区政府办", &names));
        assert!(credits("信息来源：WWW.DONGHU.GOV.CN", &names));
        assert!(!credits("信息来源：西岭县政府办", &names), "its own office is no credit");
        assert!(!credits("东湖区人民政府召开会议", &names), "naming the body is no credit");
        assert!(!credits("来源：中国政府网", &["中国政府网".to_owned()][..0]));
    }

    #[test]
    fn differences_name_what_changed() {
        let d = differences("张三副县长到城关镇调研", "李四副县长到城关镇调研");
        assert_eq!(d, ["张三 → 李四"]);
    }
}
