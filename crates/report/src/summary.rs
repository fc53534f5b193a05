//! The census view over many sites: pass rates, mean scores and vetoes by level and by region, the
//! ranking, and the same error found on many sites (one typo on a hundred sites, one article
//! copied by several) listed once with every site it is on.

use sitecensus_core::CheckId;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::SiteResult;

/// Checks whose findings name a term that can repeat across sites.
const TERM_CHECKS: &[CheckId] = &[
    CheckId::AccuracyWrongExpression,
    CheckId::AccuracyInappropriateExpression,
    CheckId::AccuracyTypo,
    CheckId::SecuritySpamInjection,
];

/// Most sites named in a repeated error's list beyond its count.
const MAX_SITES_NAMED: usize = 200;

/// Figures of a group of sites (all of them, a level, a region).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Group {
    /// What the group is (`county`, `360000`, `all`).
    pub key: String,
    /// Sites in it.
    pub sites: usize,
    /// Sites that pass.
    pub pass: usize,
    /// `pass / sites`.
    pub pass_rate: f64,
    /// Mean score.
    pub mean_score: f64,
    /// Sites failed by each veto check.
    pub vetoes: BTreeMap<CheckId, usize>,
    /// Sites failed by each veto item, in the rubric's official wording (reports show these).
    #[serde(default)]
    pub veto_items: BTreeMap<String, usize>,
    /// The division's name when the key is a region code (`江西省南昌市东湖区`).
    #[serde(default)]
    pub name: Option<String>,
}

impl Group {
    /// The key as people read it: a region code with its name.
    #[must_use]
    pub fn label(&self) -> String {
        match &self.name {
            Some(n) => format!("{} {n}", self.key),
            None => self.key.clone(),
        }
    }

    /// [`label`](Self::label) in `lang`: a level by its name in that language (县级), every site
    /// together as 全部 / all.
    #[must_use]
    pub fn label_in(&self, lang: crate::Lang) -> String {
        match (self.key.as_str(), lang) {
            ("all", crate::Lang::Zh) => "全部".to_owned(),
            (key, _) if lang.level(key) != key => lang.level(key).to_owned(),
            _ => self.label(),
        }
    }
}

/// A site's place in the ranking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rank {
    /// 1 for the best.
    pub rank: usize,
    /// The site as given.
    pub url: String,
    /// Its name.
    pub name: Option<String>,
    /// Its score.
    pub score: f64,
    /// pass or fail.
    pub verdict: sitecensus_score::Verdict,
}

/// One error found on several sites.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Repeated {
    /// The check.
    pub check: CheckId,
    /// What repeats: the term, or the copied article's address.
    pub what: String,
    /// How many sites.
    pub count: usize,
    /// The sites (as given), the first 200.
    pub sites: Vec<String>,
}

/// The census summary of a run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Every site together.
    pub all: Group,
    /// By administrative level.
    pub by_level: Vec<Group>,
    /// By region as the site list gives it.
    pub by_region: Vec<Group>,
    /// By province (the first two digits of a 6-digit region code, as `360000`).
    pub by_province: Vec<Group>,
    /// Passing sites first, then by score, best first.
    pub ranking: Vec<Rank>,
    /// Errors found on two or more sites.
    pub repeated: Vec<Repeated>,
}

fn group<'a>(key: &str, sites: impl Iterator<Item = &'a SiteResult>) -> Group {
    let mut g = Group { key: key.to_owned(), name: sitecensus_core::region::name(key), ..Group::default() };
    let mut total = 0.0;
    for s in sites {
        g.sites += 1;
        g.pass += usize::from(s.verdict == "pass");
        total += s.score;
        for v in &s.vetoes {
            *g.vetoes.entry(*v).or_default() += 1;
        }
        let mut items: Vec<&str> = s.veto_items.iter().map(|v| v.item.as_str()).collect();
        items.sort_unstable();
        items.dedup();
        for item in items {
            *g.veto_items.entry(item.to_owned()).or_default() += 1;
        }
    }
    if g.sites > 0 {
        g.pass_rate = round3(g.pass as f64 / g.sites as f64);
        g.mean_score = round3(total / g.sites as f64);
    }
    g
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn groups_by(sites: &[SiteResult], key: impl Fn(&SiteResult) -> Option<String>) -> Vec<Group> {
    let mut keys: BTreeMap<String, Vec<&SiteResult>> = BTreeMap::new();
    for s in sites {
        if let Some(k) = key(s) {
            keys.entry(k).or_default().push(s);
        }
    }
    keys.into_iter().map(|(k, v)| group(&k, v.into_iter())).collect()
}

/// The province of a 6-digit division code (`360922` → `360000`).
#[must_use]
pub fn province(region: &str) -> Option<String> {
    let r = region.trim();
    (r.len() == 6 && r.bytes().all(|b| b.is_ascii_digit())).then(|| format!("{}0000", &r[..2]))
}

impl Summary {
    /// The summary of these sites.
    #[must_use]
    pub fn of(sites: &[SiteResult]) -> Self {
        let mut order: Vec<&SiteResult> = sites.iter().collect();
        order.sort_by(|a, b| {
            (b.verdict == "pass").cmp(&(a.verdict == "pass")).then(b.score.total_cmp(&a.score)).then(a.url.cmp(&b.url))
        });
        let ranking = order
            .iter()
            .enumerate()
            .map(|(i, s)| Rank {
                rank: i + 1,
                url: s.url.clone(),
                name: s.name.clone(),
                score: s.score,
                verdict: s.verdict,
            })
            .collect();
        Summary {
            all: group("all", sites.iter()),
            by_level: groups_by(sites, |s| s.level.clone()),
            by_region: groups_by(sites, |s| s.region.clone()),
            by_province: groups_by(sites, |s| s.region.as_deref().and_then(province)),
            ranking,
            repeated: repeated(sites),
        }
    }
}

/// Errors on two or more sites: the same term of a dictionary check, the same article copied.
fn repeated(sites: &[SiteResult]) -> Vec<Repeated> {
    let mut seen: BTreeMap<(CheckId, String), Vec<String>> = BTreeMap::new();
    for s in sites {
        for f in &s.findings {
            let what = if TERM_CHECKS.contains(&f.check) {
                f.detail.get("term").and_then(|t| t.as_str()).map(str::to_owned)
            } else if f.detail.get("cross_site").is_some_and(|c| c == true) {
                // The copied original (its title and address) names the group; its own site is on
                // the list too.
                let title = f.detail.get("titles").and_then(|t| t.get(0)).and_then(|t| t.as_str()).unwrap_or("");
                let original = f.detail.get("twin").and_then(|t| t.as_str()).map(|u| format!("{title} {u}"));
                if let (Some(o), Some(site)) = (&original, f.detail.get("twin_site").and_then(|t| t.as_str())) {
                    let list = seen.entry((f.check, o.clone())).or_default();
                    if !list.iter().any(|x| x == site) {
                        list.push(site.to_owned());
                    }
                }
                original
            } else {
                None
            };
            if let Some(w) = what {
                let list = seen.entry((f.check, w)).or_default();
                if !list.contains(&s.url) {
                    list.push(s.url.clone());
                }
            }
        }
    }
    let mut out: Vec<Repeated> = seen
        .into_iter()
        .filter(|(_, v)| v.len() >= 2)
        .map(|((check, what), mut v)| {
            let count = v.len();
            v.truncate(MAX_SITES_NAMED);
            Repeated { check, what, count, sites: v }
        })
        .collect();
    out.sort_by(|a, b| b.count.cmp(&a.count).then(a.check.cmp(&b.check)).then(a.what.cmp(&b.what)));
    out
}
