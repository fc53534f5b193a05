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

use rustc_hash::FxHashMap;
use serde::Deserialize;
use sitecensus_core::CheckId;
use sitecensus_core::Finding;
use sitecensus_core::finding::clip;
use xxhash_rust::xxh3::xxh3_64;

use crate::Rule;
use crate::model::SiteModel;

/// `accuracy.twin_articles`.
pub const ID: CheckId = CheckId::AccuracyTwinArticles;

/// Parameters of the check.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
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

/// A character as the shingles see it: CJK and letters (lower-cased) stay, digits fold to `0`,
/// the rest goes. CJK and ASCII take a fast path: the Unicode tables cost more than the rest of
/// the check.
fn fold(c: char) -> Option<char> {
    match c {
        '0'..='9' => Some('0'),
        'a'..='z' | '\u{4E00}'..='\u{9FFF}' => Some(c),
        'A'..='Z' => Some(c.to_ascii_lowercase()),
        _ if c.is_ascii() => None,
        _ if c.is_numeric() => Some('0'),
        _ if c.is_alphanumeric() => Some(c.to_lowercase().next().unwrap_or(c)),
        _ => None,
    }
}

/// The characters that carry an article's words (see [`fold`]).
fn normalize(text: &str) -> Vec<char> {
    let mut out = Vec::with_capacity(text.len() / 3);
    out.extend(text.chars().filter_map(fold));
    out
}

/// How many characters of `text` carry words (what `min_chars` counts).
fn word_chars(text: &str) -> usize {
    text.chars().filter(|&c| fold(c).is_some()).count()
}

/// Hashes of the character 3-grams of a normalised text, sorted and deduplicated.
fn shingles_of(chars: &[char]) -> Vec<u64> {
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

/// Hashes of the character 3-grams of a text (after [`normalize`]), sorted and deduplicated.
#[must_use]
pub fn shingles(text: &str) -> Vec<u64> {
    shingles_of(&normalize(text))
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

/// A banded LSH index of signatures; documents are numbered by the caller. Each band maps a
/// bucket to its latest member, and members chain to the one before them in their bucket: a
/// few bytes per document and band, where a vector per bucket cost ten times that.
#[derive(Debug, Default)]
pub struct Index {
    heads: Vec<FxHashMap<u64, u32>>,
    /// Per band: (document, position of the previous member of its bucket, or `u32::MAX`).
    chains: Vec<Vec<(u32, u32)>>,
}

impl Index {
    /// An empty index.
    #[must_use]
    pub fn new() -> Self {
        Index { heads: (0..BANDS).map(|_| FxHashMap::default()).collect(), chains: vec![Vec::new(); BANDS] }
    }

    /// Adds document `id` and returns earlier documents that share a band with it: of each
    /// band's bucket only the latest [`BUCKET_LOOKBACK`], so that a cluster of a thousand copies
    /// costs a thousand small lookups, not half a million comparisons.
    pub fn insert(&mut self, id: u32, bands: &Bands) -> Vec<u32> {
        let mut found: Vec<u32> = Vec::new();
        for ((heads, chain), &key) in self.heads.iter_mut().zip(&mut self.chains).zip(bands) {
            let pos = chain.len() as u32;
            let prev = heads.insert(key, pos).unwrap_or(u32::MAX);
            chain.push((id, prev));
            let mut at = prev;
            for _ in 0..BUCKET_LOOKBACK {
                let Some(&(doc, before)) = chain.get(at as usize) else { break };
                found.push(doc);
                at = before;
            }
        }
        found.sort_unstable();
        found.dedup();
        found
    }
}

/// Members of one LSH bucket examined for each new document (the latest ones).
pub const BUCKET_LOOKBACK: usize = 32;

/// The hash of band `b` of a signature.
fn band_key(sig: &[u64; BINS], b: usize) -> u64 {
    let mut key = [0u8; ROWS * 8];
    for (k, v) in sig[b * ROWS..(b + 1) * ROWS].iter().enumerate() {
        key[k * 8..k * 8 + 8].copy_from_slice(&v.to_le_bytes());
    }
    xxh3_64(&key)
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

/// A site's boilerplate: the lines that recur on at least `share` of its articles (and on three).
#[derive(Debug, Default)]
pub struct Boilerplate {
    lines: rustc_hash::FxHashSet<u64>,
}

impl Boilerplate {
    /// Learns the boilerplate of a site from all its articles' texts.
    #[must_use]
    pub fn learn<'a>(texts: impl IntoIterator<Item = &'a str>, share: f64) -> Self {
        let mut counts: FxHashMap<u64, usize> = FxHashMap::default();
        let mut seen: rustc_hash::FxHashSet<u64> = rustc_hash::FxHashSet::default();
        let mut n = 0usize;
        for t in texts {
            n += 1;
            seen.clear();
            seen.extend(t.lines().map(str::trim).filter(|l| !l.is_empty()).map(|l| xxh3_64(l.as_bytes())));
            for &h in &seen {
                *counts.entry(h).or_default() += 1;
            }
        }
        let limit = ((n as f64 * share).ceil() as usize).max(3);
        Boilerplate { lines: counts.into_iter().filter(|&(_, c)| c >= limit).map(|(h, _)| h).collect() }
    }

    /// The boilerplate as its lines' hashes (what the store keeps).
    #[must_use]
    pub fn hashes(&self) -> Vec<u64> {
        let mut v: Vec<u64> = self.lines.iter().copied().collect();
        v.sort_unstable();
        v
    }

    /// The boilerplate from its lines' hashes, as [`Boilerplate::hashes`] gave them.
    #[must_use]
    pub fn from_hashes(hashes: impl IntoIterator<Item = u64>) -> Self {
        Boilerplate { lines: hashes.into_iter().collect() }
    }

    /// `text` without its boilerplate lines (and without blank lines).
    #[must_use]
    pub fn strip(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        for l in text.lines().map(str::trim).filter(|l| !l.is_empty() && !self.lines.contains(&xxh3_64(l.as_bytes()))) {
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(l);
        }
        out
    }
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

/// The hashes of an article's LSH bands: what the index and the store (for twins across sites)
/// key it by.
pub type Bands = [u64; BANDS];

/// A twin pair: (earlier index, later index, similarity).
pub type Pair = (usize, usize, f64);

/// Twin pairs among `articles` — (earlier index, later index, similarity) — and each article's
/// bands (None for one too short to judge). Each article is paired with its most similar earlier
/// twin only, so a report posted ten times gives nine findings, not forty-five. Only band hashes
/// are kept; candidates are shingled again to be compared, so memory stays with the texts.
#[must_use]
pub fn pairs(articles: &[Article], p: &Params) -> (Vec<Pair>, Vec<Option<Bands>>) {
    let mut index = Index::new();
    let mut out = Vec::new();
    let mut all_bands = Vec::with_capacity(articles.len());
    for (i, a) in articles.iter().enumerate() {
        let chars = normalize(&a.text);
        if chars.len() < p.min_chars {
            all_bands.push(None);
            continue;
        }
        let own = shingles_of(&chars);
        let bands = band_hashes(&signature(&own));
        all_bands.push(Some(bands));
        let mut best: Option<(usize, f64)> = None;
        for j in index.insert(i as u32, &bands) {
            let j = j as usize;
            let other = &articles[j];
            // The same article reached at two addresses is not a reposted one.
            if other.title == a.title && other.published == a.published {
                continue;
            }
            let sim = jaccard(&own, &shingles(&other.text));
            if sim >= p.min_similarity && best.is_none_or(|(_, s)| sim > s) {
                best = Some((j, sim));
            }
        }
        if let Some((j, sim)) = best {
            out.push((j, i, sim));
        }
    }
    (out, all_bands)
}

/// The hashes of a signature's LSH bands.
#[must_use]
pub fn band_hashes(sig: &[u64; BINS]) -> Bands {
    std::array::from_fn(|b| band_key(sig, b))
}

/// A page as an article: its own text is its main text without the site's boilerplate.
#[must_use]
pub fn article(page: &sitecensus_extract::Page, boilerplate: &Boilerplate) -> Article {
    Article {
        url: page.url.clone(),
        title: page.title.clone(),
        published: page.published.clone(),
        text: boilerplate.strip(&page.main_text),
    }
}

/// A site's articles long enough to be judged, each with the index of its page in the site
/// model, and the site's boilerplate.
#[must_use]
pub fn articles(site: &SiteModel, p: &Params) -> (Vec<(usize, Article)>, Boilerplate) {
    let pages: Vec<(usize, &sitecensus_extract::Page)> = site
        .pages
        .iter()
        .enumerate()
        .filter_map(|(i, e)| Some((i, e.page.as_ref()?)))
        .filter(|(_, p)| p.page_kind == sitecensus_extract::PageKind::Article && !p.main_text.is_empty())
        .collect();
    let boilerplate = Boilerplate::learn(pages.iter().map(|(_, p)| p.main_text.as_str()), p.boilerplate_share);
    let arts = pages
        .into_iter()
        .map(|(i, page)| (i, article(page, &boilerplate)))
        .filter(|(_, a)| word_chars(&a.text) >= p.min_chars)
        .collect();
    (arts, boilerplate)
}

/// The finding for a pair: on the later-published article, naming the earlier one.
#[must_use]
pub fn finding(a: &Article, b: &Article, sim: f64, rule: &Rule<Params>) -> Finding {
    let (first, second) = if a.published <= b.published { (a, b) } else { (b, a) };
    let diffs = differences(&first.text, &second.text);
    let (later, earlier) =
        (clip(&crate::columns::clean_title(&second.title), 40), clip(&crate::columns::clean_title(&first.title), 40));
    let (at, earlier_at) = (second.published.as_deref(), first.published.as_deref());
    let pct = sim * 100.0;
    let evidence = format!(
        "「{later}」 ({}) repeats 「{earlier}」 ({}) at {pct:.0} % similarity; differs: {}",
        at.unwrap_or("undated"),
        earlier_at.unwrap_or("undated"),
        if diffs.is_empty() { "nothing but the title or date".to_owned() } else { diffs.join("; ") }
    );
    let evidence_zh = format!(
        "「{later}」（{}）与「{earlier}」（{}）相似度 {pct:.0}%；不同之处：{}",
        at.unwrap_or("未标日期"),
        earlier_at.unwrap_or("未标日期"),
        if diffs.is_empty() { "仅标题或日期不同".to_owned() } else { diffs.join("；") }
    );
    Finding::new(ID, rule.severity, evidence)
        .zh(evidence_zh)
        .page(second.url.clone())
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

/// The twin findings among a site's articles: one per copy, on the later-published article.
#[must_use]
pub fn check_articles(articles: &[Article], rule: &Rule<Params>) -> Vec<Finding> {
    let (pairs, _) = pairs(articles, &rule.params);
    pairs.into_iter().map(|(a, b, sim)| finding(&articles[a], &articles[b], sim, rule)).collect()
}

/// What the store keeps of a site for twins across sites: its boilerplate, and the LSH bands of
/// each article long enough to judge, by the index of its page in the site model.
#[derive(Debug, Clone, Default)]
pub struct SiteIndex {
    /// The site's boilerplate lines' hashes.
    pub boilerplate: Vec<u64>,
    /// (page index in the site model, bands).
    pub articles: Vec<(usize, Bands)>,
}

/// The twin findings of a site (one per copy, on the later-published article), and its index
/// for twins across sites.
#[must_use]
pub fn check(site: &SiteModel, rule: &Rule<Params>) -> (Vec<Finding>, SiteIndex) {
    let (indexed, boilerplate) = articles(site, &rule.params);
    let (pages, articles): (Vec<usize>, Vec<Article>) = indexed.into_iter().unzip();
    let (pairs, bands) = pairs(&articles, &rule.params);
    let findings = pairs.into_iter().map(|(a, b, sim)| finding(&articles[a], &articles[b], sim, rule)).collect();
    let articles = pages.into_iter().zip(bands).filter_map(|(i, b)| Some((i, b?))).collect();
    (findings, SiteIndex { boilerplate: boilerplate.hashes(), articles })
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
        let b = Boilerplate::learn(texts, 0.2);
        let own: Vec<String> = texts.iter().map(|t| b.strip(t)).collect();
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
    fn a_report_posted_ten_times_gives_nine_pairs_and_a_template_none() {
        let p = Params { min_similarity: 0.9, min_chars: 50, boilerplate_share: 0.2 };
        let body = "区政府召开常务会议，研究部署防汛抗旱、安全生产和项目建设等工作。会议强调，各级各部门要压实责任，强化值班值守，确保人民群众生命财产安全。".repeat(3);
        let mut arts: Vec<Article> = (0..10)
            .map(|i| Article {
                url: format!("/a{i}.html"),
                title: format!("区政府常务会议{i}"),
                published: Some(format!("2024-07-{:02}", i + 1)),
                text: body.clone(),
            })
            .collect();
        let (found, bands) = pairs(&arts, &p);
        assert!(bands.iter().all(Option::is_some));
        assert_eq!(found.len(), 9);
        assert!(found.iter().all(|&(a, b, sim)| a < b && sim > 0.99));
        // One notice template, two different substances: no pair.
        arts.truncate(0);
        for (i, what) in [
            "张三家庭申请城乡低保，经入户调查、民主评议，符合条件",
            "李四所在企业申报高新技术企业，经专家评审、实地核查，符合标准",
        ]
        .iter()
        .enumerate()
        {
            arts.push(Article {
                url: format!("/n{i}.html"),
                title: format!("公示{i}"),
                published: None,
                text: format!("根据有关规定，{what}，现予以公示。公示期为五个工作日。如有异议，请在公示期内向区民政局反映。联系电话：0791-12345678。{what}。"),
            });
        }
        assert!(pairs(&arts, &Params { min_chars: 20, ..p }).0.is_empty());
    }

    #[test]
    fn differences_name_what_changed() {
        let d = differences("张三副县长到城关镇调研", "李四副县长到城关镇调研");
        assert_eq!(d, ["张三 → 李四"]);
    }
}
