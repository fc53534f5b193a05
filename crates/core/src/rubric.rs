//! The rubric as data: which checks run with which thresholds, what each finding costs, which
//! conditions veto a site, and the pass mark. Rubric files are TOML; `gov-2019` (the national
//! indicators of 国办秘函〔2019〕19号) is the default and `census-2015` (国办发〔2015〕15号 附件2) ships too.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::finding::{Finding, Severity};

/// Every check id of the contract (checks.md). A rubric naming any other id is refused.
pub const KNOWN_CHECKS: &[&str] = &[
    "availability.unreachable",
    "availability.slow",
    "links.broken",
    "service.broken_download",
    "freshness.homepage_stale",
    "freshness.column_stale",
    "content.empty_column",
    "accuracy.twin_articles",
    "accuracy.wrong_expression",
    "accuracy.inappropriate_expression",
    "accuracy.typo",
    "security.spam_injection",
    "accuracy.backdated",
    "privacy.personal_data",
    "i18n.untranslated",
    "interaction.missing",
    "interaction.unanswered",
    "interaction.boilerplate_reply",
    "interaction.slow_reply",
    "service.incomplete_guide",
    "policy.no_interpretation",
    "identity.missing_site_code",
    "identity.missing_filing",
    "security.no_https",
    "identity.missing_meta",
    "service.missing",
    "mobile.not_adapted",
    "accessibility.missing_alt",
];

/// Names of the rubrics shipped inside the binary, the default first.
pub const SHIPPED: &[(&str, &str)] = &[
    ("gov-2019", include_str!("../rubrics/gov-2019.toml")),
    ("census-2015", include_str!("../rubrics/census-2015.toml")),
];

/// The default rubric's name.
pub const DEFAULT_RUBRIC: &str = "gov-2019";

/// A rubric that cannot be used, with where and why.
#[derive(Debug, thiserror::Error)]
#[error("{file}:{line}: {reason}")]
pub struct RubricError {
    /// The file (or shipped rubric name).
    pub file: String,
    /// 1-based line of the problem (1 when it concerns the whole file).
    pub line: usize,
    /// What is wrong.
    pub reason: String,
}

/// Points taken per finding, for findings whose detail matches `where`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeductRule {
    /// Detail keys and the values they must have; empty matches every finding.
    #[serde(default, rename = "where")]
    pub filter: BTreeMap<String, Value>,
    /// Points per matching finding.
    pub points: f64,
}

/// How one check is scored, and its thresholds.
#[derive(Debug, Clone)]
pub struct CheckRule {
    /// The check id.
    pub id: String,
    /// The rubric item (indicator) it belongs to, as the official text names it.
    pub item: String,
    /// Severity of each finding of this check.
    pub severity: Severity,
    /// Points per finding; the first matching rule counts.
    pub deduct: Vec<DeductRule>,
    /// The most this check can take off in total.
    pub cap: Option<f64>,
    /// Thresholds, windows and dictionaries, read by the check itself.
    pub params: toml::Table,
}

impl CheckRule {
    /// Points one finding costs under this rule.
    #[must_use]
    pub fn points_for(&self, f: &Finding) -> f64 {
        self.deduct.iter().find(|r| matches_filter(&r.filter, f)).map_or(0.0, |r| r.points)
    }
}

/// A condition that fails a site outright (单项否决).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VetoRule {
    /// The check whose findings count.
    pub check: String,
    /// How many matching findings trigger the veto.
    #[serde(default = "one")]
    pub min_count: usize,
    /// Detail keys and values a finding must have to count.
    #[serde(default, rename = "where")]
    pub filter: BTreeMap<String, Value>,
    /// The official wording of the veto item.
    #[serde(default)]
    pub item: String,
}

fn one() -> usize {
    1
}

/// Whether every key of `filter` is in the finding's detail with an equal value.
#[must_use]
pub fn matches_filter(filter: &BTreeMap<String, Value>, f: &Finding) -> bool {
    filter.iter().all(|(k, v)| f.detail.get(k) == Some(v))
}

/// A loaded, validated rubric.
#[derive(Debug, Clone)]
pub struct Rubric {
    /// Short id, e.g. `gov-2019`.
    pub id: String,
    /// Title (the document it encodes).
    pub title: String,
    /// Score below which a site fails.
    pub pass_mark: f64,
    /// The full score deductions start from.
    pub full_score: f64,
    /// Rules per check id; checks absent here do not run.
    pub checks: BTreeMap<String, CheckRule>,
    /// Veto conditions.
    pub vetoes: Vec<VetoRule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRubric {
    id: String,
    title: String,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    note: Option<String>,
    pass_mark: f64,
    #[serde(default = "hundred")]
    full_score: f64,
    #[serde(default)]
    checks: BTreeMap<String, toml::Table>,
    #[serde(default)]
    vetoes: Vec<VetoRule>,
}

fn hundred() -> f64 {
    100.0
}

impl Rubric {
    /// Loads a shipped rubric by name, or a rubric file by path.
    ///
    /// # Errors
    /// When neither exists, or the text is not a valid rubric.
    pub fn load(name_or_path: &str) -> Result<Self, RubricError> {
        if let Some((_, text)) = SHIPPED.iter().find(|(n, _)| *n == name_or_path) {
            return Self::parse(text, name_or_path);
        }
        let path = Path::new(name_or_path);
        let text = std::fs::read_to_string(path).map_err(|e| RubricError {
            file: name_or_path.to_owned(),
            line: 1,
            reason: format!(
                "cannot read it ({e}); the shipped rubrics are {}",
                SHIPPED.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
            ),
        })?;
        Self::parse(&text, name_or_path)
    }

    /// The default rubric (`gov-2019`).
    #[must_use]
    pub fn default_rubric() -> Self {
        Self::load(DEFAULT_RUBRIC).expect("the shipped default rubric is valid")
    }

    /// Parses rubric text; `file` names it in errors.
    ///
    /// # Errors
    /// Syntax errors, unknown keys, unknown check ids and bad severities, each with its line.
    pub fn parse(text: &str, file: &str) -> Result<Self, RubricError> {
        let err = |line: usize, reason: String| RubricError { file: file.to_owned(), line, reason };
        let raw: RawRubric = toml::from_str(text).map_err(|e| {
            let line = e.span().map_or(1, |s| line_of(text, s.start));
            err(line, e.message().to_owned())
        })?;
        let _ = (&raw.source, &raw.note);
        let mut checks = BTreeMap::new();
        for (id, mut table) in raw.checks {
            let line = find_line(text, &format!("checks.\"{id}\"")).or_else(|| find_line(text, &id)).unwrap_or(1);
            if !KNOWN_CHECKS.contains(&id.as_str()) {
                return Err(err(line, format!("unknown check id {id:?} (see checks.md for the list)")));
            }
            let severity = match table.remove("severity") {
                Some(toml::Value::String(s)) => Severity::parse(&s).ok_or_else(|| {
                    err(line, format!("check {id}: severity {s:?} is not veto, deduct, warn or info"))
                })?,
                Some(_) => return Err(err(line, format!("check {id}: severity must be a string"))),
                None => return Err(err(line, format!("check {id}: no severity"))),
            };
            let item = match table.remove("item") {
                Some(toml::Value::String(s)) => s,
                _ => id.clone(),
            };
            let cap = match table.remove("cap") {
                None => None,
                Some(v) => Some(
                    v.as_float()
                        .or_else(|| v.as_integer().map(|i| i as f64))
                        .ok_or_else(|| err(line, format!("check {id}: cap must be a number")))?,
                ),
            };
            let mut deduct: Vec<DeductRule> = match table.remove("deduct") {
                None => Vec::new(),
                Some(v) => v
                    .try_into()
                    .map_err(|e: toml::de::Error| err(line, format!("check {id}: deduct: {}", e.message())))?,
            };
            if let Some(p) = table.remove("points") {
                let points = p
                    .as_float()
                    .or_else(|| p.as_integer().map(|i| i as f64))
                    .ok_or_else(|| err(line, format!("check {id}: points must be a number")))?;
                deduct.push(DeductRule { filter: BTreeMap::new(), points });
            }
            checks.insert(id.clone(), CheckRule { id, item, severity, deduct, cap, params: table });
        }
        for v in &raw.vetoes {
            if !KNOWN_CHECKS.contains(&v.check.as_str()) {
                let line = find_line(text, &format!("\"{}\"", v.check)).unwrap_or(1);
                return Err(err(line, format!("veto names unknown check id {:?}", v.check)));
            }
        }
        if !(0.0..=raw.full_score).contains(&raw.pass_mark) {
            return Err(err(
                find_line(text, "pass_mark").unwrap_or(1),
                "pass_mark must lie between 0 and full_score".into(),
            ));
        }
        Ok(Rubric {
            id: raw.id,
            title: raw.title,
            pass_mark: raw.pass_mark,
            full_score: raw.full_score,
            checks,
            vetoes: raw.vetoes,
        })
    }

    /// The rule of a check, if the rubric runs it.
    #[must_use]
    pub fn rule(&self, id: &str) -> Option<&CheckRule> {
        self.checks.get(id)
    }

    /// The typed parameters of a check.
    ///
    /// # Errors
    /// When the check is absent or its parameters do not fit `T`.
    pub fn params<T: DeserializeOwned>(&self, id: &str) -> Result<T, String> {
        let rule = self.rule(id).ok_or_else(|| format!("rubric {} does not run {id}", self.id))?;
        toml::Value::Table(rule.params.clone())
            .try_into()
            .map_err(|e: toml::de::Error| format!("rubric {}: check {id}: {}", self.id, e.message()))
    }
}

fn line_of(text: &str, byte: usize) -> usize {
    text[..byte.min(text.len())].matches('\n').count() + 1
}

fn find_line(text: &str, needle: &str) -> Option<usize> {
    text.find(needle).map(|i| line_of(text, i))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_rubrics_load() {
        for (name, _) in SHIPPED {
            let r = Rubric::load(name).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(&r.id, name);
            assert!(r.rule("links.broken").is_some());
        }
    }

    #[test]
    fn syntax_error_names_the_line() {
        let text = "id = \"x\"\ntitle = \"t\"\npass_mark = 60\n[checks.\"links.broken\"\nseverity = \"deduct\"\n";
        let e = Rubric::parse(text, "my.toml").unwrap_err();
        assert_eq!(e.file, "my.toml");
        assert_eq!(e.line, 4, "{e}");
    }

    #[test]
    fn unknown_check_id_is_refused_with_its_line() {
        let text = "id = \"x\"\ntitle = \"t\"\npass_mark = 60\n\n[checks.\"links.brokn\"]\nseverity = \"deduct\"\n";
        let e = Rubric::parse(text, "my.toml").unwrap_err();
        assert_eq!(e.line, 5);
        assert!(e.reason.contains("links.brokn"), "{e}");
    }

    #[test]
    fn deduction_rules_match_on_detail() {
        let text = "id = \"x\"\ntitle = \"t\"\npass_mark = 60\n[checks.\"links.broken\"]\nseverity = \"deduct\"\n\
                    deduct = [{ where = { on_homepage = true }, points = 1.0 }, { points = 0.1 }]\ncap = 5\n";
        let r = Rubric::parse(text, "t").unwrap();
        let rule = r.rule("links.broken").unwrap();
        let home = Finding::new("links.broken", Severity::Deduct, "").detail("on_homepage", true);
        let other = Finding::new("links.broken", Severity::Deduct, "").detail("on_homepage", false);
        assert!((rule.points_for(&home) - 1.0).abs() < 1e-9);
        assert!((rule.points_for(&other) - 0.1).abs() < 1e-9);
        assert_eq!(rule.cap, Some(5.0));
    }
}
