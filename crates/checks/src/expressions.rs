//! Expressions (不准确): known wrong expressions (wrong official names, misspelt names of the Party
//! and the state, outdated names of bodies), inappropriate text (moods, jokes, test text,
//! template placeholders left on a page) and common typos — from dictionaries shipped with the
//! rubric, matched in one pass each (Aho-Corasick), reported with the text around them.

use sitecensus_core::CheckId;
use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use chrono::NaiveDate;
use regex::Regex;
use serde::Deserialize;
use sitecensus_core::{Finding, Severity, dict};
use sitecensus_extract::Page;

use crate::{ParamError, Rule};

/// `accuracy.wrong_expression`.
pub const WRONG: CheckId = CheckId::AccuracyWrongExpression;
/// `accuracy.inappropriate_expression`.
pub const INAPPROPRIATE: CheckId = CheckId::AccuracyInappropriateExpression;
/// `accuracy.typo`.
pub const TYPO: CheckId = CheckId::AccuracyTypo;

/// Parameters of the three expression checks: their dictionaries.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Dictionaries (rubrics/dict names or paths).
    pub dictionaries: Vec<String>,
    /// More entries, inline, in the dictionaries' own line format.
    #[serde(default)]
    pub extra: Vec<String>,
    /// Whether unreplaced template variables (`${title}`, `{{title}}`, `[!--title--]`) count.
    #[serde(default)]
    pub template_syntax: bool,
}

/// One dictionary entry.
#[derive(Debug, Clone)]
struct Entry {
    wrong: String,
    right: Option<String>,
    serious: bool,
    since: Option<NaiveDate>,
    /// A correct phrase containing a wrong entry: matched first, it passes.
    allowed: bool,
}

/// A dictionary made ready to match.
#[derive(Debug, Clone)]
pub struct Dictionary {
    entries: Vec<Entry>,
    automaton: Option<AhoCorasick>,
    template_syntax: bool,
}

impl Dictionary {
    /// Reads the dictionaries (`wrong⇥right⇥serious|minor⇥since` lines, or plain terms).
    ///
    /// # Errors
    /// When a dictionary cannot be read.
    pub fn new(id: CheckId, p: &Params) -> Result<Self, ParamError> {
        let lines = dict::gather(&p.dictionaries, &p.extra).map_err(|e| ParamError(format!("{id}: {e}")))?;
        let entries: Vec<Entry> = lines
            .iter()
            .filter_map(|l| {
                let cols: Vec<&str> = l.split('\t').map(str::trim).collect();
                let wrong = cols.first().filter(|w| !w.is_empty())?.to_string();
                let right = cols.get(1).filter(|r| !r.is_empty() && **r != "-").map(|r| (*r).to_owned());
                Some(Entry {
                    allowed: right.as_deref() == Some("="),
                    right: right.filter(|r| r != "="),
                    serious: cols.get(2).is_some_and(|s| *s == "serious"),
                    since: cols.get(3).and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()),
                    wrong,
                })
            })
            .collect();
        let automaton = if entries.is_empty() {
            None
        } else {
            Some(
                AhoCorasick::builder()
                    .ascii_case_insensitive(true)
                    .match_kind(MatchKind::LeftmostLongest)
                    // A DFA: the dictionaries are small and every page's whole text runs through them.
                    .kind(Some(AhoCorasickKind::DFA))
                    .build(entries.iter().map(|e| e.wrong.as_str()))
                    .map_err(|e| ParamError(format!("{id}: {e}")))?,
            )
        };
        Ok(Dictionary { entries, automaton, template_syntax: p.template_syntax })
    }
}

static TEMPLATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"\$\{\s*[A-Za-z_][\w.]*\s*\}|\{\{\s*[A-Za-z_][\w.]*\s*\}\}|\[!--[\w.]+--\]|\{dede:\w+|<%=|\{\$[A-Za-z_]\w*\}",
    )
    .expect("valid regex")
});

/// The text around `[start, end)` in `text`, at most `n` characters each side.
fn around(text: &str, start: usize, end: usize, n: usize) -> String {
    let before: String = text[..start].chars().rev().take(n).collect::<Vec<_>>().into_iter().rev().collect();
    let after: String = text[end..].chars().take(n).collect();
    format!("…{before}【{}】{after}…", &text[start..end]).replace('\n', " ")
}

/// The texts the expression checks read: the title and what a visitor sees (read where they
/// are, not copied together).
fn reading(page: &Page) -> [&str; 2] {
    [page.title.as_str(), if page.text.is_empty() { page.main_text.as_str() } else { page.text.as_str() }]
}

/// When the page was current: its publication date, else (homepages, lists) its newest item's.
fn published(page: &Page) -> Option<NaiveDate> {
    page.published.as_deref().or(page.newest_item_date()).and_then(crate::model::day)
}

/// Opening and closing quotation marks of Chinese and Western text.
const OPENING_QUOTES: &[char] = &['“', '「', '『', '‘'];
const CLOSING_QUOTES: &[char] = &['”', '」', '』', '’'];
/// How far (in characters) a quotation is looked for around a term, and the sentence around it.
const QUOTE_REACH: usize = 40;
/// Chinese characters of its own that a sentence needs outside the quotation to be one that
/// reports it (滚动着“…”的文字, 被网友调侃为“…”).
const REPORTING_CHARS: usize = 4;

/// Whether `[start, end)` of `text` stands inside quotation marks in a sentence that reports it:
/// "某县住建局网站首页滚动着“今天心情非常的不好！”的文字" quotes another site's words; the site's
/// own banner saying 今天心情非常的不好 does not.
#[must_use]
pub fn reported_speech(text: &str, start: usize, end: usize) -> bool {
    let before: Vec<(usize, char)> = text[..start].char_indices().rev().take(QUOTE_REACH).collect();
    let mut open = None;
    let mut ascii_quotes = 0;
    for &(i, c) in &before {
        if c == '\n' || CLOSING_QUOTES.contains(&c) {
            break;
        }
        if c == '"' {
            ascii_quotes += 1;
            if open.is_none() {
                open = Some(i);
            }
        }
        if OPENING_QUOTES.contains(&c) {
            open = Some(i);
            break;
        }
    }
    let Some(open) = open else { return false };
    if text[open..].starts_with('"') && ascii_quotes % 2 == 0 {
        return false;
    }
    let close = text[end..]
        .char_indices()
        .take(QUOTE_REACH)
        .take_while(|(_, c)| *c != '\n')
        .find(|(_, c)| CLOSING_QUOTES.contains(c) || *c == '"')
        .map(|(i, c)| end + i + c.len_utf8());
    let Some(close) = close else { return false };
    let ends = |c: char| matches!(c, '。' | '！' | '？' | '\n');
    let lead = text[..open].chars().rev().take(QUOTE_REACH).take_while(|c| !ends(*c));
    let tail = text[close..].chars().take(QUOTE_REACH).take_while(|c| !ends(*c));
    lead.chain(tail).filter(|c| ('\u{4e00}'..='\u{9fff}').contains(c)).count() >= REPORTING_CHARS
}

/// Findings of one expression check over a page: one per distinct term. An entry that the page
/// only quotes in a sentence reporting it is at most `info`, and gives way to the same entry in
/// the page's own words.
#[must_use]
pub fn check(id: CheckId, page: &Page, d: &Dictionary, rule: &Rule<Params>) -> Vec<Finding> {
    let date = published(page);
    let mut out: Vec<Finding> = Vec::new();
    // Each term's finding, and whether it is only reported speech.
    let mut seen: Vec<(String, usize, bool)> = Vec::new();
    for text in reading(page) {
        if let Some(ac) = &d.automaton {
            for m in ac.find_iter(text) {
                let e = &d.entries[m.pattern().as_usize()];
                let reported = reported_speech(text, m.start(), m.end());
                let earlier = seen.iter().position(|(w, _, _)| *w == e.wrong);
                if e.allowed || earlier.is_some_and(|i| reported || !seen[i].2) {
                    continue;
                }
                // An outdated name is right on a page published before the change.
                if let (Some(since), Some(date)) = (e.since, date)
                    && date < since
                {
                    continue;
                }
                let quote = around(text, m.start(), m.end(), 15);
                let w = &e.wrong;
                let (evidence, evidence_zh) = match (&e.right, reported) {
                    (_, true) => (
                        format!("「{w}」 quoted in a sentence that reports it: {quote}"),
                        format!("「{w}」出现在转述它的句子中：{quote}"),
                    ),
                    (Some(r), false) => {
                        (format!("「{w}」 should be 「{r}」: {quote}"), format!("「{w}」应为「{r}」：{quote}"))
                    }
                    (None, false) => (format!("「{w}」: {quote}"), format!("「{w}」：{quote}")),
                };
                let mut f = Finding::new(id, rule.severity, evidence)
                    .zh(evidence_zh)
                    .at_most_if(reported, Severity::Info)
                    .page(page.url.clone())
                    .detail("term", e.wrong.clone())
                    .detail("context", quote)
                    .detail("serious", e.serious && !reported);
                if reported {
                    f = f.detail("reported_speech", true);
                }
                if let Some(r) = &e.right {
                    f = f.detail("suggestion", r.clone());
                }
                match earlier {
                    // The page's own use of a term it also quotes: the finding is about that.
                    Some(i) => {
                        let at = seen[i].1;
                        out[at] = f;
                        seen[i].2 = false;
                    }
                    None => {
                        seen.push((e.wrong.clone(), out.len(), reported));
                        out.push(f);
                    }
                }
            }
        }
        if d.template_syntax {
            for m in TEMPLATE.find_iter(text) {
                if seen.iter().any(|(w, _, _)| w == m.as_str()) {
                    continue;
                }
                seen.push((m.as_str().to_owned(), out.len(), false));
                let quote = around(text, m.start(), m.end(), 15);
                out.push(
                    Finding::new(
                        id,
                        rule.severity,
                        format!("template placeholder 「{}」 left on the page: {quote}", m.as_str()),
                    )
                    .zh(format!("页面上残留模板占位符「{}」：{quote}", m.as_str()))
                    .page(page.url.clone())
                    .detail("term", m.as_str())
                    .detail("context", quote)
                    .detail("serious", false),
                );
            }
        }
    }
    out
}
