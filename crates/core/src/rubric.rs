//! The rubric as data: which checks run with which thresholds, what each finding costs, which
//! conditions veto a site, and the pass mark. Rubric files are TOML; `gov-2019` (the national
//! indicators of 国办秘函〔2019〕19号) is the default and `census-2015` (国办发〔2015〕15号 附件2) ships too.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::finding::{Finding, Severity};

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
    /// The check.
    pub id: crate::CheckId,
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
    /// Where the check's table is written (file, line), for errors about its parameters.
    pub at: (String, usize),
    /// Where each parameter is written (file, line): in the rubric itself, or in the one it
    /// extends.
    pub written_at: BTreeMap<String, (String, usize)>,
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
    pub check: crate::CheckId,
    /// How many matching findings trigger the veto.
    #[serde(default = "one")]
    pub min_count: usize,
    /// The same as a condition, as offices write it: `count > 5`, `count >= 5` (overrides
    /// `min_count`).
    #[serde(default, skip_serializing)]
    pub condition: Option<String>,
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

/// The smallest count that meets a condition written `count > N`, `count >= N` (or `≥`), or
/// `count = N`.
fn condition_min_count(c: &str) -> Option<usize> {
    let rest = c.trim().strip_prefix("count")?.trim_start();
    let (op, n) = [">=", "≥", "==", ">", "="].iter().find_map(|op| rest.strip_prefix(op).map(|n| (*op, n)))?;
    let n: usize = n.trim().parse().ok()?;
    Some(if op == ">" { n + 1 } else { n })
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
    pub checks: BTreeMap<crate::CheckId, CheckRule>,
    /// Veto conditions.
    pub vetoes: Vec<VetoRule>,
    /// The most points one rubric item (shared by several checks) can take, by item.
    pub item_caps: BTreeMap<String, f64>,
    /// The dictionary that gives a column its kind from its title.
    pub column_kinds: ColumnKinds,
    /// How letter pages and letter lists name the parts of a letter.
    pub letters: LetterLabels,
}

/// The labels that letter pages and letter lists give each part of a letter (each a list of
/// synonyms, matched exactly against a field's label or a table header), the status texts, and
/// the columns whose messages are not enquiries (在线访谈, 征集调查, 信访, 纪检举报).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LetterLabels {
    /// Who wrote (来信人).
    #[serde(default)]
    pub asker: Vec<String>,
    /// When it was written (来信时间).
    #[serde(default)]
    pub asked: Vec<String>,
    /// Its title (信件标题).
    #[serde(default)]
    pub title: Vec<String>,
    /// What it says (来信内容).
    #[serde(default)]
    pub content: Vec<String>,
    /// Who replied (回复单位).
    #[serde(default)]
    pub reply_unit: Vec<String>,
    /// When the reply came (回复时间).
    #[serde(default)]
    pub replied: Vec<String>,
    /// The reply (回复内容).
    #[serde(default)]
    pub reply: Vec<String>,
    /// Its status (办理状态).
    #[serde(default)]
    pub status: Vec<String>,
    /// Status texts that mean answered (已回复).
    #[serde(default)]
    pub answered: Vec<String>,
    /// Status texts that mean not yet answered (办理中).
    #[serde(default)]
    pub pending: Vec<String>,
    /// Words in a column's title (or a page's breadcrumb) whose messages the rules do not judge.
    #[serde(default)]
    pub not_enquiries: Vec<String>,
}

/// The kind of a column (栏目), which decides its freshness window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnKind {
    /// 动态、要闻.
    News,
    /// 通知公告.
    Notice,
    /// 政策文件.
    Policy,
    /// 人事.
    Personnel,
    /// 规划计划.
    Planning,
    /// 互动交流.
    Interaction,
    /// 办事服务.
    Service,
    /// Anything else.
    Other,
}

impl ColumnKind {
    /// The kind as the results and rubrics write it (`news`).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            ColumnKind::News => "news",
            ColumnKind::Notice => "notice",
            ColumnKind::Policy => "policy",
            ColumnKind::Personnel => "personnel",
            ColumnKind::Planning => "planning",
            ColumnKind::Interaction => "interaction",
            ColumnKind::Service => "service",
            ColumnKind::Other => "other",
        }
    }

    /// The kind a stored word names (`as_str`'s inverse).
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        [
            ColumnKind::News,
            ColumnKind::Notice,
            ColumnKind::Policy,
            ColumnKind::Personnel,
            ColumnKind::Planning,
            ColumnKind::Interaction,
            ColumnKind::Service,
            ColumnKind::Other,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }

    /// The kind's name in Chinese, for reports in Chinese (通知公告).
    #[must_use]
    pub fn name_zh(self) -> &'static str {
        match self {
            ColumnKind::News => "动态要闻",
            ColumnKind::Notice => "通知公告",
            ColumnKind::Policy => "政策文件",
            ColumnKind::Personnel => "人事信息",
            ColumnKind::Planning => "规划计划",
            ColumnKind::Interaction => "互动交流",
            ColumnKind::Service => "办事服务",
            ColumnKind::Other => "其他",
        }
    }
}

impl std::fmt::Display for ColumnKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

impl PartialEq<&str> for ColumnKind {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// The kinds of column (栏目) and the words that give a column its kind.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ColumnKinds {
    /// Kinds in the order they are tried; the first whose word appears in the title wins.
    #[serde(default)]
    pub order: Vec<ColumnKind>,
    /// Words per kind.
    #[serde(flatten)]
    pub words: BTreeMap<ColumnKind, Vec<String>>,
}

impl ColumnKinds {
    /// The kind of a column with this title (`other` when no word matches).
    #[must_use]
    pub fn classify(&self, title: &str) -> ColumnKind {
        for kind in &self.order {
            if self.words.get(kind).is_some_and(|ws| ws.iter().any(|w| title.contains(w.as_str()))) {
                return *kind;
            }
        }
        ColumnKind::Other
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRubric {
    #[serde(default)]
    extends: Option<String>,
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
    #[serde(default)]
    column_kinds: ColumnKinds,
    #[serde(default)]
    letters: LetterLabels,
    #[serde(default)]
    item_caps: BTreeMap<String, toml::Value>,
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
        Self::parse_depth(text, file, 0)
    }

    fn parse_depth(text: &str, file: &str, depth: usize) -> Result<Self, RubricError> {
        let err = |line: usize, reason: String| RubricError { file: file.to_owned(), line, reason };
        let syntax = |e: toml::de::Error| {
            let line = e.span().map_or(1, |s| line_of(text, s.start));
            err(line, e.message().to_owned())
        };
        let mut value: toml::Table = toml::from_str(text).map_err(syntax)?;
        let mut base_rubric: Option<Rubric> = None;
        // A rubric may extend another: its tables merge into the base's, its lists add to the
        // base's lists (vetoes and kind order replace them), its numbers and strings replace.
        if let Some(toml::Value::String(base)) = value.get("extends").cloned() {
            if depth > 4 {
                return Err(err(find_line(text, "extends").unwrap_or(1), "rubrics extend each other in a loop".into()));
            }
            let base_text = match SHIPPED.iter().find(|(n, _)| *n == base) {
                Some((_, t)) => (*t).to_owned(),
                None => std::fs::read_to_string(&base).map_err(|e| {
                    err(
                        find_line(text, "extends").unwrap_or(1),
                        format!("cannot read the rubric it extends, {base}: {e}"),
                    )
                })?,
            };
            base_rubric = Some(Self::parse_depth(&base_text, &base, depth + 1)?);
            let mut merged: toml::Table = toml::from_str(&base_text).map_err(syntax)?;
            value.remove("extends");
            merge(&mut merged, value);
            value = merged;
        }
        let raw: RawRubric = toml::Value::Table(value).try_into().map_err(|e: toml::de::Error| {
            let msg = e.message().to_owned();
            let key = msg.split('`').nth(1).unwrap_or("");
            err(if key.is_empty() { 1 } else { find_line(text, key).unwrap_or(1) }, msg)
        })?;
        let _ = (&raw.source, &raw.note, &raw.extends);
        let mut checks = BTreeMap::new();
        for (id, mut table) in raw.checks {
            let line = find_line(text, &format!("checks.\"{id}\"")).or_else(|| find_line(text, &id)).unwrap_or(1);
            let Some(check) = crate::CheckId::parse(&id) else {
                return Err(err(line, format!("unknown check id {id:?} (see checks.md for the list)")));
            };
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
            let base_rule = base_rubric.as_ref().and_then(|b| b.checks.get(&check));
            let written = |key: &str| -> Option<(String, usize)> {
                key_line(text, &id, key)
                    .map(|l| (file.to_owned(), l))
                    .or_else(|| base_rule.and_then(|r| r.written_at.get(key).cloned()))
            };
            let written_at = table.keys().filter_map(|k| Some((k.clone(), written(k)?))).collect();
            let at = match (table_line(text, &id), base_rule) {
                (Some(l), _) => (file.to_owned(), l),
                (None, Some(r)) => r.at.clone(),
                (None, None) => (file.to_owned(), line),
            };
            checks.insert(check, CheckRule { id: check, item, severity, deduct, cap, params: table, at, written_at });
        }
        let mut vetoes = raw.vetoes;
        for v in &mut vetoes {
            let line = find_line(text, &format!("\"{}\"", v.check)).unwrap_or(1);
            if let Some(c) = &v.condition {
                let line = find_line(text, c).unwrap_or(line);
                v.min_count = condition_min_count(c).ok_or_else(|| {
                    err(line, format!("veto condition {c:?} is not `count > N`, `count >= N` or `count = N`"))
                })?;
            }
        }
        let mut item_caps = BTreeMap::new();
        for (item, cap) in raw.item_caps {
            let line = find_line(text, &item).unwrap_or(1);
            let cap = cap
                .as_float()
                .or_else(|| cap.as_integer().map(|i| i as f64))
                .ok_or_else(|| err(line, format!("item cap of {item:?} must be a number")))?;
            item_caps.insert(item, cap);
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
            vetoes,
            item_caps,
            column_kinds: raw.column_kinds,
            letters: raw.letters,
        })
    }

    /// The rule of a check, if the rubric runs it.
    #[must_use]
    pub fn rule(&self, id: crate::CheckId) -> Option<&CheckRule> {
        self.checks.get(&id)
    }

    /// The typed parameters of a check.
    ///
    /// # Errors
    /// When the check is absent or its parameters do not fit `T`.
    /// A parameter the check does not know (a misspelt key) is an error naming the file and line
    /// where it is written, never a silent fall back to the default.
    pub fn params<T: DeserializeOwned>(&self, id: crate::CheckId) -> Result<T, String> {
        let rule = self.rule(id).ok_or_else(|| format!("rubric {} does not run {id}", self.id))?;
        toml::Value::Table(rule.params.clone()).try_into().map_err(|e: toml::de::Error| {
            let message = e.message().trim_end();
            // serde names the key between backticks: "unknown field `max_dayz`, expected …".
            let key = message.split('`').nth(1).unwrap_or_default();
            let (file, line) = rule.written_at.get(key).unwrap_or(&rule.at);
            format!("{file}:{line}: check {id}: {message}")
        })
    }
}

/// Merges `over` into `base`: tables recursively, lists appended (deduplicated) except the lists
/// that are whole definitions (`vetoes`, `order`), other values replaced.
fn merge(base: &mut toml::Table, over: toml::Table) {
    for (k, v) in over {
        match (base.get_mut(&k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            (Some(toml::Value::Array(b)), toml::Value::Array(o)) if k != "vetoes" && k != "order" && k != "deduct" => {
                for item in o {
                    if !b.contains(&item) {
                        b.push(item);
                    }
                }
            }
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

fn line_of(text: &str, byte: usize) -> usize {
    text[..byte.min(text.len())].matches('\n').count() + 1
}

fn find_line(text: &str, needle: &str) -> Option<usize> {
    text.find(needle).map(|i| line_of(text, i))
}

/// Where check `id`'s table starts in `text`: its `[checks."id"]` header, or its line in a
/// `[checks]` table (`"id" = { … }`).
fn table_start(text: &str, id: &str) -> Option<usize> {
    text.find(&format!("checks.\"{id}\"")).or_else(|| text.find(&format!("\"{id}\" =")))
}

/// The line of check `id`'s table in `text`.
fn table_line(text: &str, id: &str) -> Option<usize> {
    table_start(text, id).map(|i| line_of(text, i))
}

/// The line where `key` of check `id`'s table is written in `text`: on the table's own line (an
/// inline table) or on a line after it, before the next table.
fn key_line(text: &str, id: &str, key: &str) -> Option<usize> {
    let start = table_start(text, id)?;
    let first = line_of(text, start);
    let assigns = |t: &str| t.strip_prefix(key).is_some_and(|rest| rest.trim_start().starts_with('='));
    for (n, l) in text[start..].lines().enumerate() {
        let t = l.trim_start();
        if n > 0 && t.starts_with('[') {
            break;
        }
        let inline = l.match_indices(key).any(|(i, _)| {
            let before = l[..i].trim_end();
            (before.ends_with('{') || before.ends_with(',')) && assigns(&l[i..])
        });
        if assigns(t) || inline {
            return Some(first + n);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_column_kind_is_refused_with_its_line() {
        let text =
            "extends = \"gov-2019\"\nid = \"x\"\ntitle = \"t\"\npass_mark = 60\n[column_kinds]\nnewz = [\"晨报\"]\n";
        let e = Rubric::parse(text, "k.toml").unwrap_err();
        assert_eq!(e.line, 6, "{e}");
        assert!(e.reason.contains("newz") && e.reason.contains("news"), "{e}");
        let ok =
            "extends = \"gov-2019\"\nid = \"x\"\ntitle = \"t\"\npass_mark = 60\n[column_kinds]\nnews = [\"晨报\"]\n";
        assert_eq!(Rubric::parse(ok, "k.toml").unwrap().column_kinds.classify("今日晨报"), ColumnKind::News);
    }

    #[test]
    fn shipped_rubrics_load() {
        for (name, _) in SHIPPED {
            let r = Rubric::load(name).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(&r.id, name);
            assert!(r.rule(crate::CheckId::LinksBroken).is_some());
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
    fn veto_conditions_and_item_caps() {
        let r = Rubric::parse(
            "id = \"x\"\ntitle = \"t\"\npass_mark = 60\n[checks.\"content.empty_column\"]\nseverity = \"deduct\"\n\
             item = \"栏目\"\n[item_caps]\n\"栏目\" = 3\n[[vetoes]]\ncheck = \"content.empty_column\"\ncondition = \"count > 5\"\n",
            "x.toml",
        )
        .unwrap();
        assert_eq!(r.vetoes[0].min_count, 6);
        assert_eq!(r.item_caps["栏目"], 3.0);
        assert_eq!(condition_min_count("count >= 5"), Some(5));
        assert_eq!(condition_min_count("count = 1"), Some(1));
        let e = Rubric::parse(
            "id = \"x\"\ntitle = \"t\"\npass_mark = 60\n[[vetoes]]\ncheck = \"content.empty_column\"\ncondition = \"lots\"\n",
            "x.toml",
        )
        .unwrap_err();
        assert_eq!(e.line, 6, "{e}");
        assert!(e.reason.contains("count > N"), "{e}");
    }

    #[test]
    fn unknown_check_id_is_refused_with_its_line() {
        let text = "id = \"x\"\ntitle = \"t\"\npass_mark = 60\n\n[checks.\"links.brokn\"]\nseverity = \"deduct\"\n";
        let e = Rubric::parse(text, "my.toml").unwrap_err();
        assert_eq!(e.line, 5);
        assert!(e.reason.contains("links.brokn"), "{e}");
    }

    #[test]
    fn a_rubric_extends_a_shipped_one() {
        let dir = std::env::temp_dir().join(format!("sitecensus-rubric-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("mine.toml");
        std::fs::write(
            &path,
            "extends = \"gov-2019\"\nid = \"mine\"\ntitle = \"本省检查指标\"\npass_mark = 70\n\
             [checks.\"links.broken\"]\nsoft404_messages = [\"此页已下线\"]\n[column_kinds]\nnews = [\"晨报\"]\n",
        )
        .unwrap();
        let r = Rubric::load(path.to_str().unwrap()).unwrap();
        assert_eq!(r.id, "mine");
        assert!((r.pass_mark - 70.0).abs() < 1e-9);
        let msgs = r.rule(crate::CheckId::LinksBroken).unwrap().params["soft404_messages"].as_array().unwrap().clone();
        assert!(
            msgs.iter().any(|m| m.as_str() == Some("此页已下线"))
                && msgs.iter().any(|m| m.as_str() == Some("页面不存在"))
        );
        assert_eq!(r.column_kinds.classify("今日晨报"), "news");
        assert_eq!(r.column_kinds.classify("通知公告"), "notice");
        assert!(!r.vetoes.is_empty(), "the base's vetoes stay");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn column_kinds_of_the_default_rubric() {
        let k = Rubric::default_rubric().column_kinds;
        for (title, kind) in [
            ("政务要闻", "news"),
            ("工作动态", "news"),
            ("乡镇动态", "news"),
            ("通知公告", "notice"),
            ("公示公告", "notice"),
            ("政策文件", "policy"),
            ("规范性文件", "policy"),
            ("政策解读", "other"),
            ("人事信息", "personnel"),
            ("规划计划", "planning"),
            ("县长信箱", "interaction"),
            ("在线访谈", "interaction"),
            ("办事指南", "service"),
            ("表格下载", "service"),
            ("机构职能", "other"),
            ("统计数据", "other"),
            ("专题专栏", "other"),
        ] {
            assert_eq!(k.classify(title), kind, "{title}");
        }
    }

    #[test]
    fn deduction_rules_match_on_detail() {
        let text = "id = \"x\"\ntitle = \"t\"\npass_mark = 60\n[checks.\"links.broken\"]\nseverity = \"deduct\"\n\
                    deduct = [{ where = { on_homepage = true }, points = 1.0 }, { points = 0.1 }]\ncap = 5\n";
        let r = Rubric::parse(text, "t").unwrap();
        let rule = r.rule(crate::CheckId::LinksBroken).unwrap();
        let home = Finding::new(crate::CheckId::LinksBroken, Severity::Deduct, "").detail("on_homepage", true);
        let other = Finding::new(crate::CheckId::LinksBroken, Severity::Deduct, "").detail("on_homepage", false);
        assert!((rule.points_for(&home) - 1.0).abs() < 1e-9);
        assert!((rule.points_for(&other) - 0.1).abs() < 1e-9);
        assert_eq!(rule.cap, Some(5.0));
    }
}
