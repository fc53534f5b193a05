//! Scoring: under a rubric, findings become veto items, deductions capped per item, a score and a
//! verdict. Pure and fast, so a stored run can be scored again under any rubric.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sitecensus_core::rubric::matches_filter;
use sitecensus_core::{CheckId, Finding, Rubric, Severity};

/// Pass or fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// No veto and a score at or above the pass mark.
    Pass,
    /// A veto, or a score under the pass mark.
    Fail,
}

impl Verdict {
    /// `pass` or `fail`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
        }
    }

    /// The verdict written `pass` or `fail`.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pass" => Some(Verdict::Pass),
            "fail" => Some(Verdict::Fail),
            _ => None,
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

impl PartialEq<&str> for Verdict {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<str> for Verdict {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

/// A veto condition that a site met.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VetoHit {
    /// The check whose findings met it.
    pub check: CheckId,
    /// The official wording of the veto item.
    pub item: String,
    /// How many findings counted.
    pub count: usize,
    /// How many it takes.
    pub min_count: usize,
}

/// Points one check took.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Deduction {
    /// The check.
    pub check: CheckId,
    /// The rubric item it belongs to.
    pub item: String,
    /// Findings that cost points.
    pub count: usize,
    /// Points taken (after the cap).
    pub points: f64,
    /// Whether the cap applied.
    pub capped: bool,
}

/// A site's score under a rubric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scorecard {
    /// Pass or fail.
    pub verdict: Verdict,
    /// Full score minus deductions (reported even when a veto fails the site).
    pub score: f64,
    /// The checks of the vetoes met, in rubric order.
    pub vetoes: Vec<CheckId>,
    /// The veto conditions met.
    pub veto_items: Vec<VetoHit>,
    /// Points taken per check.
    pub deductions: Vec<Deduction>,
}

/// Gives each finding of a check the rubric names the rubric's severity, within the limit its
/// check set: nothing else decides a finding's weight (a stored finding carries no decision of
/// the rubric it was found under). `score` starts with it; a single page's findings use it alone.
pub fn weigh(findings: &mut [Finding], rubric: &Rubric) {
    for f in findings.iter_mut() {
        if let Some(rule) = rubric.rule(f.check) {
            f.severity = f.weighed(rule.severity);
        }
    }
}

/// Scores `findings` under `rubric`: each finding of a check the rubric names takes the rubric's
/// severity (within the limit its check set, `Finding::at_most`); findings that meet a veto
/// condition are marked `veto`; the list is sorted veto first, then deductions, warnings and
/// information.
pub fn score(findings: &mut [Finding], rubric: &Rubric) -> Scorecard {
    weigh(findings, rubric);
    let mut veto_items = Vec::new();
    let mut vetoes: Vec<CheckId> = Vec::new();
    for rule in &rubric.vetoes {
        let counts = |f: &Finding| {
            f.check == rule.check
                && matches!(f.severity, Severity::Veto | Severity::Deduct)
                && matches_filter(&rule.filter, f)
        };
        let count = findings.iter().filter(|f| counts(f)).count();
        if count >= rule.min_count && count > 0 {
            for f in findings.iter_mut().filter(|f| counts(f)) {
                f.severity = Severity::Veto;
            }
            veto_items.push(VetoHit { check: rule.check, item: rule.item.clone(), count, min_count: rule.min_count });
            if !vetoes.contains(&rule.check) {
                vetoes.push(rule.check);
            }
        }
    }
    // A finding the rubric itself marks veto fails the site even without a counting rule.
    for f in findings.iter().filter(|f| f.severity == Severity::Veto) {
        if !vetoes.contains(&f.check) {
            vetoes.push(f.check);
            veto_items.push(VetoHit {
                check: f.check,
                item: rubric.rule(f.check).map_or_else(|| f.check.to_string(), |r| r.item.clone()),
                count: 1,
                min_count: 1,
            });
        }
    }

    let mut per_check: BTreeMap<CheckId, (usize, f64)> = BTreeMap::new();
    for f in findings.iter().filter(|f| matches!(f.severity, Severity::Deduct | Severity::Veto)) {
        if let Some(rule) = rubric.rule(f.check) {
            let pts = rule.points_for(f);
            if pts > 0.0 {
                let e = per_check.entry(rule.id).or_default();
                e.0 += 1;
                e.1 += pts;
            }
        }
    }
    let mut deductions = Vec::new();
    let mut total = 0.0;
    // What each rubric item (shared by several checks) has taken so far, against its cap.
    let mut item_taken: BTreeMap<&str, f64> = BTreeMap::new();
    for (check, (count, raw)) in per_check {
        let rule = rubric.rule(check).expect("counted only checks of the rubric");
        let mut points = rule.cap.map_or(raw, |c| raw.min(c));
        if let Some(cap) = rubric.item_caps.get(&rule.item) {
            let taken = item_taken.entry(rule.item.as_str()).or_default();
            points = points.min((cap - *taken).max(0.0));
            *taken += points;
        }
        total += points;
        deductions.push(Deduction {
            check,
            item: rule.item.clone(),
            count,
            points: round2(points),
            capped: points < raw,
        });
    }
    let score = round2((rubric.full_score - total).max(0.0));
    // Veto first, then deductions, warnings and information; within each, a fixed order, so that
    // the same findings always read the same whatever order the crawl found them in.
    findings.sort_by(|a, b| {
        (a.severity, &a.check, &a.page, &a.target, &a.evidence).cmp(&(
            b.severity,
            &b.check,
            &b.page,
            &b.target,
            &b.evidence,
        ))
    });
    let verdict = if vetoes.is_empty() && score >= rubric.pass_mark { Verdict::Pass } else { Verdict::Fail };
    Scorecard { verdict, score, vetoes, veto_items, deductions }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_item_shared_by_two_checks_is_capped_as_one() {
        let r = Rubric::parse(
            "id = \"t\"\ntitle = \"t\"\npass_mark = 60\n\
             [checks.\"identity.missing_site_code\"]\nseverity = \"deduct\"\nitem = \"网站标识\"\npoints = 1\n\
             [checks.\"identity.missing_filing\"]\nseverity = \"deduct\"\nitem = \"网站标识\"\npoints = 1\n\
             [checks.\"identity.missing_mark\"]\nseverity = \"deduct\"\nitem = \"网站标识\"\npoints = 1\n\
             [item_caps]\n\"网站标识\" = 1.5\n",
            "t.toml",
        )
        .unwrap();
        let mut f = vec![
            Finding::new(CheckId::IdentityMissingSiteCode, Severity::Deduct, "a"),
            Finding::new(CheckId::IdentityMissingFiling, Severity::Deduct, "b"),
            Finding::new(CheckId::IdentityMissingMark, Severity::Deduct, "c"),
        ];
        let card = score(&mut f, &r);
        assert_eq!(card.score, 98.5, "three points of one item capped at 1.5");
        assert_eq!(card.deductions.iter().map(|d| d.points).sum::<f64>(), 1.5);
        assert!(card.deductions.iter().any(|d| d.capped));
    }

    fn rubric() -> Rubric {
        Rubric::parse(
            r#"id = "t"
title = "t"
pass_mark = 60
[checks."links.broken"]
severity = "deduct"
deduct = [{ where = { on_homepage = true }, points = 1.0 }, { points = 0.5 }]
cap = 2
[checks."content.empty_column"]
severity = "deduct"
points = 1
[checks."availability.unreachable"]
severity = "veto"
[[vetoes]]
check = "content.empty_column"
min_count = 3
item = "空白栏目3个以上"
"#,
            "t",
        )
        .unwrap()
    }

    fn f(check: &str, sev: Severity) -> Finding {
        Finding::new(check.parse().expect("a check id"), sev, "x")
    }

    #[test]
    fn deductions_are_capped_and_homepage_links_cost_more() {
        let mut fs = vec![
            f("links.broken", Severity::Deduct).detail("on_homepage", true),
            f("links.broken", Severity::Deduct).detail("on_homepage", false),
        ];
        let s = score(&mut fs, &rubric());
        assert!((s.score - 98.5).abs() < 1e-9);
        assert_eq!(s.verdict, Verdict::Pass);
        let mut fs: Vec<Finding> = (0..10).map(|_| f("links.broken", Severity::Deduct)).collect();
        let s = score(&mut fs, &rubric());
        assert!((s.score - 98.0).abs() < 1e-9);
        assert!(s.deductions[0].capped);
    }

    #[test]
    fn counting_vetoes_mark_their_findings_and_sort_first() {
        let mut fs = vec![f("links.broken", Severity::Deduct)];
        fs.extend((0..3).map(|_| f("content.empty_column", Severity::Deduct)));
        let s = score(&mut fs, &rubric());
        assert_eq!(s.vetoes, ["content.empty_column"]);
        assert_eq!(s.verdict, Verdict::Fail);
        assert_eq!(fs[0].severity, Severity::Veto);
        assert_eq!(fs[3].check, "links.broken");
        let mut two: Vec<Finding> = (0..2).map(|_| f("content.empty_column", Severity::Deduct)).collect();
        assert!(score(&mut two, &rubric()).vetoes.is_empty());
    }

    #[test]
    fn a_veto_severity_finding_fails_the_site() {
        let mut fs = vec![f("availability.unreachable", Severity::Veto)];
        let s = score(&mut fs, &rubric());
        assert_eq!(s.vetoes, ["availability.unreachable"]);
        assert_eq!(s.verdict, Verdict::Fail);
        assert!((s.score - 100.0).abs() < 1e-9);
    }

    #[test]
    fn findings_their_checks_limit_to_warnings_cost_nothing() {
        let mut fs = vec![
            f("links.broken", Severity::Deduct).at_most_if(true, Severity::Warn),
            f("content.empty_column", Severity::Deduct).at_most_if(true, Severity::Info),
        ];
        fs.extend((0..3).map(|_| f("content.empty_column", Severity::Deduct).at_most_if(true, Severity::Warn)));
        let s = score(&mut fs, &rubric());
        assert!((s.score - 100.0).abs() < 1e-9);
        assert!(s.vetoes.is_empty(), "limited findings do not count towards a veto");
        assert_eq!(fs[0].severity, Severity::Warn);
    }

    /// Only the rubric decides: a finding stored under a rubric that weighed it lightly takes the
    /// weight of the rubric it is scored under now.
    #[test]
    fn the_rubric_scored_under_decides_not_the_one_found_under() {
        let mut fs = vec![f("links.broken", Severity::Info), f("availability.unreachable", Severity::Info)];
        let s = score(&mut fs, &rubric());
        assert_eq!(s.vetoes, ["availability.unreachable"]);
        assert!((s.score - 99.5).abs() < 1e-9, "{}", s.score);
        assert_eq!(fs[1].severity, Severity::Deduct);
    }
}
