//! Findings: what a check reports, with the evidence an inspector needs to verify it.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// How much a finding weighs, as set by the rubric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// 单项否决: the site fails whatever its score.
    Veto,
    /// Points off the score.
    Deduct,
    /// An early warning: nothing is taken yet.
    Warn,
    /// For information only.
    Info,
}

impl Severity {
    /// The lowercase name used in JSON and the rubric.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Veto => "veto",
            Severity::Deduct => "deduct",
            Severity::Warn => "warn",
            Severity::Info => "info",
        }
    }

    /// Parses the rubric/JSON name of a severity.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "veto" => Some(Severity::Veto),
            "deduct" => Some(Severity::Deduct),
            "warn" => Some(Severity::Warn),
            "info" => Some(Severity::Info),
            _ => None,
        }
    }
}

/// One thing a check found, exactly as it appears in the results JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// The check (written `links.broken` in JSON and the store).
    pub check: crate::CheckId,
    /// Severity under the rubric in force.
    pub severity: Severity,
    /// The page where it was seen, if any.
    pub page: Option<String>,
    /// The URL it concerns, if any.
    pub target: Option<String>,
    /// A short quote or status line that lets a person verify the finding (English).
    pub evidence: String,
    /// The same evidence in Chinese, for reports in Chinese; null where the check (or the
    /// sitecensus that stored it) wrote none, and reports fall back to `evidence`.
    #[serde(default)]
    pub evidence_zh: Option<String>,
    /// Check-specific structured evidence.
    #[serde(default)]
    pub detail: Map<String, Value>,
    /// The heaviest severity the check allows this finding whatever the rubric says (a list that
    /// could not be read is at most a warning: a veto needs evidence). Only `score` applies it.
    #[serde(default)]
    pub at_most: Option<Severity>,
}

impl Finding {
    /// Starts a finding of `check` with `severity` and `evidence`; page, target and detail empty.
    #[must_use]
    pub fn new(check: crate::CheckId, severity: Severity, evidence: impl Into<String>) -> Self {
        Finding {
            check,
            severity,
            page: None,
            target: None,
            evidence: evidence.into(),
            evidence_zh: None,
            detail: Map::new(),
            at_most: None,
        }
    }

    /// Sets the evidence in Chinese (`--lang zh` reports show it).
    #[must_use]
    pub fn zh(mut self, evidence: impl Into<String>) -> Self {
        self.evidence_zh = Some(evidence.into());
        self
    }

    /// The evidence in `chinese` or else English: the Chinese text where there is one.
    #[must_use]
    pub fn evidence_in(&self, chinese: bool) -> &str {
        match &self.evidence_zh {
            Some(zh) if chinese => zh,
            _ => &self.evidence,
        }
    }

    /// Limits the finding to `severity` at the heaviest, when `when` holds.
    #[must_use]
    pub fn at_most_if(mut self, when: bool, severity: Severity) -> Self {
        if when {
            self.at_most = Some(self.at_most.map_or(severity, |s| s.max(severity)));
        }
        self
    }

    /// The severity under a rubric that gives the check `rubric_severity`: the rubric's, within
    /// the limit the check set.
    #[must_use]
    pub fn weighed(&self, rubric_severity: Severity) -> Severity {
        // Severity orders from the heaviest (veto) to the lightest (info).
        self.at_most.map_or(rubric_severity, |limit| rubric_severity.max(limit))
    }

    /// Sets the page where the finding was seen.
    #[must_use]
    pub fn page(mut self, page: impl Into<String>) -> Self {
        self.page = Some(page.into());
        self
    }

    /// Sets the URL the finding concerns.
    #[must_use]
    pub fn target(mut self, target: impl Into<String>) -> Self {
        self.target = Some(target.into());
        self
    }

    /// Adds one key of structured detail.
    #[must_use]
    pub fn detail(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.detail.insert(key.to_owned(), value.into());
        self
    }
}

/// Cuts `text` to at most `max_chars` characters, adding "…" where it was cut; evidence stays short.
#[must_use]
pub fn clip(text: &str, max_chars: usize) -> String {
    // No more bytes than the limit: no more characters either (most texts are short).
    if text.len() <= max_chars {
        return text.to_owned();
    }
    match text.char_indices().nth(max_chars) {
        None => text.to_owned(),
        Some((i, _)) => {
            let mut s = text[..i].to_owned();
            s.push('…');
            s
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clip_counts_characters_not_bytes() {
        assert_eq!(clip("页面不存在", 3), "页面不…");
        assert_eq!(clip("abc", 3), "abc");
    }

    #[test]
    fn finding_serialises_with_every_contract_field() {
        let f = Finding::new(crate::CheckId::LinksBroken, Severity::Deduct, "HTTP 404")
            .page("http://a/")
            .detail("on_homepage", true);
        let v = serde_json::to_value(&f).unwrap();
        for key in ["check", "severity", "page", "target", "evidence", "detail"] {
            assert!(v.get(key).is_some(), "missing {key}");
        }
        assert_eq!(v["severity"], "deduct");
        assert_eq!(v["target"], Value::Null);
        assert_eq!(v.get("at_most"), Some(&Value::Null), "no limit: present as null, as every optional key");
    }

    #[test]
    fn a_limit_lightens_and_never_weighs_more() {
        let f = Finding::new(crate::CheckId::LinksBroken, Severity::Veto, "e").at_most_if(true, Severity::Warn);
        assert_eq!(f.weighed(Severity::Veto), Severity::Warn);
        assert_eq!(f.weighed(Severity::Info), Severity::Info);
        let f = f.at_most_if(true, Severity::Deduct);
        assert_eq!(f.at_most, Some(Severity::Warn), "the lighter limit stays");
        assert_eq!(
            Finding::new(crate::CheckId::LinksBroken, Severity::Info, "e")
                .at_most_if(false, Severity::Info)
                .weighed(Severity::Veto),
            Severity::Veto
        );
    }
}
