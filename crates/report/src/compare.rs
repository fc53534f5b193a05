//! Rectification (整改): a run compared with an earlier run of the same sites — which findings
//! are new, which persist and which were fixed, per site and in total, and which sites that
//! failed then pass now.

use std::collections::{BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use crate::{Results, SiteResult};

/// Most findings named per site in each of the new and fixed lists.
const NAMED: usize = 20;

/// A finding as the comparison tells findings apart: its check, page and target.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FindingKey {
    /// The check.
    pub check: sitecensus_core::CheckId,
    /// Where it was seen.
    pub page: Option<String>,
    /// What it concerns.
    pub target: Option<String>,
}

impl FindingKey {
    /// The key of a finding.
    #[must_use]
    pub fn of(f: &sitecensus_core::Finding) -> Self {
        FindingKey { check: f.check, page: f.page.clone(), target: f.target.clone() }
    }
}

/// How one site changed since the earlier run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SiteChange {
    /// The site as given.
    pub url: String,
    /// Its name.
    pub name: Option<String>,
    /// Its verdict then (None when the earlier run did not have it).
    pub previous_verdict: Option<sitecensus_score::Verdict>,
    /// Its score then.
    pub previous_score: Option<f64>,
    /// Its verdict now.
    pub verdict: sitecensus_score::Verdict,
    /// Its score now.
    pub score: f64,
    /// Findings that were not there then.
    pub new: usize,
    /// Findings there both times.
    pub persisting: usize,
    /// Findings there then and gone now.
    pub fixed: usize,
    /// Failed then, passes now.
    pub rectified: bool,
    /// The new findings, the first 20.
    pub new_findings: Vec<FindingKey>,
    /// The fixed findings, the first 20.
    pub fixed_findings: Vec<FindingKey>,
    /// Every new finding (the workbook's per-finding sheet; the JSON names the first few).
    #[serde(skip)]
    pub all_new: BTreeSet<FindingKey>,
    /// Every fixed finding.
    #[serde(skip)]
    pub all_fixed: Vec<FindingKey>,
}

/// Totals over every site compared.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Totals {
    /// Sites in both runs.
    pub sites_compared: usize,
    /// Sites of this run that the earlier one did not have.
    pub sites_new: usize,
    /// New findings.
    pub new: usize,
    /// Persisting findings.
    pub persisting: usize,
    /// Fixed findings.
    pub fixed: usize,
    /// Sites that failed then and pass now.
    pub rectified: usize,
    /// Sites that passed then and fail now.
    pub regressed: usize,
}

/// The comparison of a run with an earlier one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// The earlier run's id.
    pub against_run: Option<i64>,
    /// The earlier run's as-of.
    pub against_as_of: String,
    /// Totals.
    pub totals: Totals,
    /// Per site, in this run's order.
    pub sites: Vec<SiteChange>,
}

fn keys(s: &SiteResult) -> BTreeSet<FindingKey> {
    s.findings.iter().map(FindingKey::of).collect()
}

/// Compares `now` with `then` (both scored under the same rubric), matching sites by the URL
/// they were given as.
#[must_use]
pub fn compare(now: &Results, then: &Results) -> Comparison {
    let earlier: HashMap<&str, &SiteResult> = then.sites.iter().map(|s| (s.url.as_str(), s)).collect();
    let mut totals = Totals::default();
    let mut sites = Vec::with_capacity(now.sites.len());
    for s in &now.sites {
        let before = earlier.get(s.url.as_str()).copied();
        let (k_now, k_then) = (keys(s), before.map(keys).unwrap_or_default());
        let new: Vec<FindingKey> = k_now.difference(&k_then).cloned().collect();
        let fixed: Vec<FindingKey> = k_then.difference(&k_now).cloned().collect();
        let persisting = k_now.intersection(&k_then).count();
        let rectified = before.is_some_and(|b| b.verdict == "fail") && s.verdict == "pass";
        match before {
            Some(b) => {
                totals.sites_compared += 1;
                totals.new += new.len();
                totals.persisting += persisting;
                totals.fixed += fixed.len();
                totals.rectified += usize::from(rectified);
                totals.regressed += usize::from(b.verdict == "pass" && s.verdict == "fail");
            }
            None => totals.sites_new += 1,
        }
        sites.push(SiteChange {
            url: s.url.clone(),
            name: s.name.clone(),
            previous_verdict: before.map(|b| b.verdict),
            previous_score: before.map(|b| b.score),
            verdict: s.verdict,
            score: s.score,
            new: new.len(),
            persisting,
            fixed: fixed.len(),
            rectified,
            new_findings: new.iter().take(NAMED).cloned().collect(),
            fixed_findings: fixed.iter().take(NAMED).cloned().collect(),
            all_new: new.into_iter().collect(),
            all_fixed: fixed,
        });
    }
    Comparison { against_run: then.run.as_ref().map(|r| r.id), against_as_of: then.as_of.clone(), totals, sites }
}
