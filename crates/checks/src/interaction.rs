//! Responsiveness (不回应): whether the site offers a working channel for enquiries
//! (`interaction.missing`), and what its published letters show — letters left unanswered past
//! the window (`interaction.unanswered`), replies that answer nothing (`interaction.boilerplate_reply`)
//! and slow replies in working days (`interaction.slow_reply`). The letter figures are reported
//! for every site, failing or not.

use sitecensus_core::CheckId;
use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sitecensus_core::rubric::LetterLabels;
use sitecensus_core::{Finding, Severity, WorkCalendar};
use sitecensus_extract::{Page, PageKind, dates};

use crate::Rule;
use crate::columns::ColumnInfo;
use crate::model::SiteModel;

/// `interaction.missing`.
pub const MISSING: CheckId = CheckId::InteractionMissing;
/// `interaction.unanswered`.
pub const UNANSWERED: CheckId = CheckId::InteractionUnanswered;
/// `interaction.boilerplate_reply`.
pub const BOILERPLATE: CheckId = CheckId::InteractionBoilerplateReply;
/// `interaction.slow_reply`.
pub const SLOW: CheckId = CheckId::InteractionSlowReply;

/// Most example letters a finding names.
const EXAMPLES: usize = 5;

/// Parameters of `interaction.missing`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MissingParams {
    /// Words of an entry point's text or image alt text.
    pub channels: Vec<String>,
    /// Words of an entry point's link or image file name.
    pub file_names: Vec<String>,
    /// Channels the rule does not count (信访, 纪检).
    pub excluded: Vec<String>,
    /// Longest text of an entry point: "县长信箱", "我要咨询", not an article's title.
    pub max_entry_chars: usize,
}

/// Parameters of `interaction.unanswered`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnansweredParams {
    /// Letters written within this many days before as-of are judged.
    pub window_days: i64,
    /// Days without a reply that fail a letter.
    pub max_days: i64,
    /// Days without a reply from which a letter is an early warning (not yet failed); none in
    /// a rubric that gives no warning line.
    #[serde(default)]
    pub warn_days: Option<i64>,
}

/// Parameters of `interaction.boilerplate_reply`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BoilerplateParams {
    /// Fewer replies than this are not judged.
    pub min_replies: usize,
    /// Share of stock replies at which the site is reported.
    pub max_share: f64,
    /// A reply with more of its own characters than this answers something.
    pub max_chars: usize,
    /// A short reply given word for word to this many letters is a stock reply.
    pub min_repeats: usize,
    /// Phrases of replies that answer nothing.
    pub stock_phrases: Vec<String>,
}

/// Parameters of `interaction.slow_reply`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlowParams {
    /// Median reply time, in working days, beyond which replies are slow.
    pub max_median_working_days: f64,
    /// Fewer dated replies than this are not judged.
    pub min_replies: usize,
    /// The working-day calendar: a shipped one by name or a file by path.
    pub calendar: String,
}

/// Where a letter stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// It has a reply, a reply date, or a status that says so.
    Answered,
    /// Its status says it is waiting (办理中, 未回复).
    Pending,
    /// Nothing says either way.
    Unknown,
}

/// A published letter (信件) and its reply, as read from the site's letter pages and lists.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Letter {
    /// Its page (or the list page it sits on, when it has none).
    pub url: String,
    /// Its title.
    pub title: String,
    /// When it was written.
    pub asked: Option<NaiveDate>,
    /// When the reply came.
    pub replied: Option<NaiveDate>,
    /// The reply's text.
    pub reply: Option<String>,
    /// Who replied.
    pub reply_unit: Option<String>,
    /// Where it stands.
    pub status: Status,
}

/// The letter figures of a site, reported whether or not a check fails.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LetterFigures {
    /// Letters read.
    pub letters: usize,
    /// Letters answered.
    pub replied: usize,
    /// Letters within the window still unanswered after `max_days`.
    pub unanswered: usize,
    /// Letters within the window unanswered past the warning line, not yet past `max_days`.
    #[serde(default)]
    pub unanswered_soon: usize,
    /// Letters whose page shows neither a status nor a reply part.
    pub status_unknown: usize,
    /// Median reply time in working days, over letters with both dates.
    pub median_working_days: Option<f64>,
    /// 90th-percentile reply time in working days.
    pub p90_working_days: Option<f64>,
    /// Share of replies that are stock replies.
    pub boilerplate_share: Option<f64>,
    /// Entry points to enquiry channels seen, and how many of them work.
    pub channels: usize,
    /// Entry points that work.
    pub channels_working: usize,
}

fn label_is(label: &str, names: &[String]) -> bool {
    names.iter().any(|n| n == label)
}

fn date_of(text: &str) -> Option<NaiveDate> {
    dates::first_full_date(text).map(|f| f.date)
}

/// Where a letter stands by its status text.
fn status_of(text: &str, labels: &LetterLabels) -> Status {
    // "未回复" contains "回复": the waiting words are tried first.
    if labels.pending.iter().any(|p| text.contains(p.as_str())) {
        Status::Pending
    } else if labels.answered.iter().any(|a| text.contains(a.as_str())) {
        Status::Answered
    } else {
        Status::Unknown
    }
}

/// A letter from a page's labelled values, when they describe one: who or when it was asked, and
/// its content, reply or status.
#[must_use]
pub fn letter_of_page(page: &Page, labels: &LetterLabels) -> Option<Letter> {
    let (mut asker, mut content, mut answered_part, mut reply_pending) = (false, false, false, false);
    let mut l = Letter {
        url: page.url.clone(),
        title: crate::columns::clean_title(&page.title),
        asked: None,
        replied: None,
        reply: None,
        reply_unit: None,
        status: Status::Unknown,
    };
    let mut status_text = None;
    for f in &page.fields {
        let v = f.value.trim();
        if label_is(&f.label, &labels.asker) {
            asker = true;
        } else if label_is(&f.label, &labels.asked) {
            l.asked = l.asked.or_else(|| date_of(v));
        } else if label_is(&f.label, &labels.title) {
            l.title = v.lines().next().unwrap_or(v).to_owned();
        } else if label_is(&f.label, &labels.content) {
            content = true;
        } else if label_is(&f.label, &labels.reply_unit) {
            l.reply_unit = Some(v.to_owned());
            answered_part = true;
        } else if label_is(&f.label, &labels.replied) {
            l.replied = l.replied.or_else(|| date_of(v));
            answered_part = true;
        } else if label_is(&f.label, &labels.reply) {
            if status_of(v, labels) == Status::Pending {
                reply_pending = true;
            } else if !v.is_empty() {
                l.reply = Some(v.to_owned());
            }
            answered_part = true;
        } else if label_is(&f.label, &labels.status) {
            status_text = Some(v.to_owned());
        }
    }
    let is_letter = (asker || l.asked.is_some()) && (content || answered_part || status_text.is_some());
    if !is_letter {
        return None;
    }
    // A reply written as a plain paragraph after 回复单位/回复时间 is the reply all the same.
    if answered_part && l.reply.is_none() && !reply_pending {
        l.reply = reply_after(&page.main_text, labels);
    }
    l.status = match status_text.as_deref().map(|s| status_of(s, labels)) {
        Some(Status::Pending) if l.reply.is_none() => Status::Pending,
        _ if l.reply.is_some() || l.replied.is_some() => Status::Answered,
        _ if reply_pending => Status::Pending,
        Some(s) => s,
        None => Status::Unknown,
    };
    Some(l)
}

/// Lines that end a letter's reply: the page's tools and footer.
const AFTER_REPLY: &[&str] = &[
    "打印",
    "关闭",
    "返回",
    "上一篇",
    "下一篇",
    "分享",
    "扫一扫",
    "主办",
    "承办",
    "网站标识码",
    "版权所有",
    "ICP",
    "技术支持",
    "我要写信",
    "相关链接",
];
/// Most characters of a reply read from its block.
const MAX_REPLY_CHARS: usize = 2000;

/// The reply a letter page writes as plain text after its reply part (回复单位：… 回复时间：…,
/// 答复意见 …): the lines after the last line that names the reply part, its own value skipped,
/// up to the page's tools or footer or another label of the letter.
#[must_use]
pub fn reply_after(text: &str, labels: &LetterLabels) -> Option<String> {
    let lines: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    let starts = |l: &str, names: &[String]| names.iter().any(|n| l.starts_with(n.as_str()));
    let reply_part = |l: &str| starts(l, &labels.reply_unit) || starts(l, &labels.replied) || starts(l, &labels.reply);
    let other_label = |l: &str| {
        starts(l, &labels.asker) || starts(l, &labels.asked) || starts(l, &labels.content) || starts(l, &labels.status)
    };
    let last = lines.iter().rposition(|l| reply_part(l))?;
    let mut i = last + 1;
    // "回复时间" alone on its line (a table cell, a <dt>): the next line is its value.
    let own =
        crate::fields_label(lines[last]).filter(|label| lines[last].trim_end_matches(['：', ':']).trim() == *label);
    if own.is_some_and(|label| !label_is(label, &labels.reply)) {
        i += 1;
    }
    let mut out = String::new();
    for l in lines.iter().skip(i) {
        if reply_part(l) || other_label(l) || AFTER_REPLY.iter().any(|w| l.contains(w)) {
            break;
        }
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(l);
        if out.chars().count() >= MAX_REPLY_CHARS {
            break;
        }
    }
    let out: String = out.chars().take(MAX_REPLY_CHARS).collect();
    (!out.trim().is_empty()).then_some(out)
}

/// Letters listed in a page's tables whose header names at least a title or date and a status or
/// reply date (a 信件公开 list).
#[must_use]
pub fn letters_of_list(page: &Page, labels: &LetterLabels) -> Vec<Letter> {
    let mut out = Vec::new();
    for t in &page.tables {
        let col = |names: &[String]| t.headers.iter().position(|h| label_is(h, names));
        let (title, asked, replied, status) =
            (col(&labels.title), col(&labels.asked), col(&labels.replied), col(&labels.status));
        if (title.is_none() && asked.is_none()) || (replied.is_none() && status.is_none()) {
            continue;
        }
        for (i, r) in t.rows.iter().enumerate() {
            let cell = |c: Option<usize>| c.and_then(|c| r.cells.get(c)).map(String::as_str);
            let replied = cell(replied).and_then(date_of);
            let status = match cell(status).map(|s| status_of(s, labels)) {
                _ if replied.is_some() => Status::Answered,
                Some(s) => s,
                None => Status::Unknown,
            };
            out.push(Letter {
                url: r.link.clone().unwrap_or_else(|| format!("{}#row{}", page.url, i + 1)),
                title: cell(title).unwrap_or_default().to_owned(),
                asked: cell(asked).and_then(date_of),
                replied,
                reply: None,
                reply_unit: None,
                status,
            });
        }
    }
    out
}

/// Whether a page or column with this title or breadcrumb holds messages the rules do not judge
/// (在线访谈, 征集调查, 信访, 纪检举报).
fn not_enquiry(texts: &[&str], labels: &LetterLabels) -> bool {
    texts.iter().any(|t| labels.not_enquiries.iter().any(|w| t.contains(w.as_str())))
}

/// Every letter of the site: letter pages merged with the rows of letter lists that link to
/// them, leaving out columns whose messages are not enquiries.
#[must_use]
pub fn read_letters(site: &SiteModel, columns: &[ColumnInfo], labels: &LetterLabels) -> Vec<Letter> {
    // Pages listed by a column that is not for enquiries are left out.
    let mut excluded_urls: HashSet<&str> = HashSet::new();
    let by_url = site.pages_by_url();
    for c in columns.iter().filter(|c| not_enquiry(&[&c.title], labels)) {
        for u in &c.pages {
            excluded_urls.insert(u.as_str());
            if let Some(p) = by_url.get(u.as_str()) {
                excluded_urls.extend(p.items.iter().map(|i| i.url.as_str()));
                excluded_urls.extend(p.tables.iter().flat_map(|t| t.rows.iter().filter_map(|r| r.link.as_deref())));
            }
        }
    }
    let mut letters: Vec<Letter> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut pages: Vec<&Page> = site.pages.iter().filter_map(|p| p.page.as_ref()).collect();
    pages.sort_by(|a, b| a.url.cmp(&b.url));
    for page in &pages {
        let crumbs: Vec<&str> = page.breadcrumb.iter().map(|c| c.text.as_str()).collect();
        if excluded_urls.contains(page.url.as_str()) || not_enquiry(&crumbs, labels) {
            continue;
        }
        if page.page_kind != PageKind::Homepage
            && let Some(l) = letter_of_page(page, labels)
        {
            index.insert(l.url.clone(), letters.len());
            letters.push(l);
        }
    }
    for page in &pages {
        let crumbs: Vec<&str> = page.breadcrumb.iter().map(|c| c.text.as_str()).collect();
        if excluded_urls.contains(page.url.as_str()) || not_enquiry(&crumbs, labels) {
            continue;
        }
        for row in letters_of_list(page, labels) {
            if excluded_urls.contains(row.url.as_str()) {
                continue;
            }
            match index.get(&row.url) {
                // The letter's own page says more; the list fills in what it leaves out.
                Some(&i) => {
                    let l = &mut letters[i];
                    l.asked = l.asked.or(row.asked);
                    l.replied = l.replied.or(row.replied);
                    if l.status == Status::Unknown {
                        l.status = row.status;
                    }
                }
                None => {
                    index.insert(row.url.clone(), letters.len());
                    letters.push(row);
                }
            }
        }
    }
    letters
}

/// Letters written within the window and still waiting after `max_days` — their status or
/// their reply says so — one finding each; letters waiting past `warn_days` but not yet past
/// `max_days` are early warnings (at most a warning), so that a letter is answered before it
/// fails. A letter that shows neither a status nor a reply part is of unknown status: a veto
/// needs evidence, so it is counted in the figures, not here.
#[must_use]
pub fn unanswered(letters: &[Letter], as_of: NaiveDate, rule: &Rule<UnansweredParams>) -> Vec<Finding> {
    let p = &rule.params;
    let from = p.warn_days.map_or(p.max_days, |w| w.min(p.max_days));
    letters
        .iter()
        .filter(|l| l.status == Status::Pending)
        .filter_map(|l| {
            let asked = l.asked?;
            let age = (as_of - asked).num_days();
            if age > p.window_days || age <= from || l.reply.is_some() || l.replied.is_some() {
                return None;
            }
            let late = age > p.max_days;
            let left = p.max_days - age;
            let (en, zh) = if late {
                (
                    format!("letter of {asked} still unanswered after {age} days: {}", l.title),
                    format!("{asked} 的来信 {age} 天仍未答复：{}", l.title),
                )
            } else {
                (
                    format!(
                        "letter of {asked} unanswered for {age} days, {left} day(s) before it passes the {}-day reply window: {}",
                        p.max_days, l.title
                    ),
                    format!("{asked} 的来信已 {age} 天未答复，距 {} 天答复期限还剩 {left} 天：{}", p.max_days, l.title),
                )
            };
            Some(
                Finding::new(UNANSWERED, rule.severity, en)
                    .zh(zh)
                    .at_most_if(!late, Severity::Warn)
                    .page(l.url.clone())
                    .detail("asked", asked.to_string())
                    .detail("days", age)
                    .detail("days_left", left)
                    .detail("status", serde_json::to_value(l.status).unwrap_or_default())
                    .detail("title", l.title.clone()),
            )
        })
        .collect()
}

/// A reply's own words: names in quotes, digits, Latin letters, spaces and punctuation left out,
/// so that "网友“UU0081”：您好！" and "网友“UU0093”：您好！" are the same reply.
fn reply_core(reply: &str) -> String {
    let mut out = String::with_capacity(reply.len());
    let mut quoted = false;
    for c in reply.chars() {
        match c {
            '“' | '「' => quoted = true,
            '”' | '」' => quoted = false,
            _ if quoted => {}
            c if c.is_alphanumeric() && !c.is_ascii() => out.push(c),
            _ => {}
        }
    }
    out
}

/// The share of stock replies among the answered letters, the most frequent stock reply and the
/// letters that got one; None below `min_replies` replies.
#[must_use]
pub fn boilerplate_share(letters: &[Letter], p: &BoilerplateParams) -> Option<(f64, String, Vec<String>)> {
    let replies: Vec<(&Letter, String)> =
        letters.iter().filter_map(|l| l.reply.as_deref().map(|r| (l, reply_core(r)))).collect();
    if replies.len() < p.min_replies.max(1) {
        return None;
    }
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for (_, core) in &replies {
        *counts.entry(core.as_str()).or_default() += 1;
    }
    let stock: Vec<&(&Letter, String)> = replies
        .iter()
        .filter(|(_, core)| {
            let n = core.chars().count();
            n <= p.max_chars
                && (counts[core.as_str()] >= p.min_repeats || p.stock_phrases.iter().any(|s| core.contains(s.as_str())))
        })
        .collect();
    let share = stock.len() as f64 / replies.len() as f64;
    let most = stock
        .iter()
        .max_by_key(|(_, core)| (counts[core.as_str()], std::cmp::Reverse(core.as_str())))
        .and_then(|(l, _)| l.reply.clone())
        .unwrap_or_default();
    let examples = stock.iter().take(EXAMPLES).map(|(l, _)| l.url.clone()).collect();
    Some((share, most, examples))
}

/// `interaction.boilerplate_reply`: a finding when stock replies reach the share.
#[must_use]
pub fn boilerplate(letters: &[Letter], site_url: &str, rule: &Rule<BoilerplateParams>) -> (Option<f64>, Vec<Finding>) {
    let Some((share, most, examples)) = boilerplate_share(letters, &rule.params) else {
        return (None, Vec::new());
    };
    let replies = letters.iter().filter(|l| l.reply.is_some()).count();
    let findings = if share >= rule.params.max_share {
        vec![
            Finding::new(
                BOILERPLATE,
                rule.severity,
                format!(
                    "{:.0} % of {replies} replies answer nothing, e.g. “{}”",
                    share * 100.0,
                    sitecensus_core::finding::clip(&most, 80)
                ),
            )
            .zh(format!(
                "{replies} 条答复中 {:.0}% 答非所问或内容雷同，例如“{}”",
                share * 100.0,
                sitecensus_core::finding::clip(&most, 80)
            ))
            .page(site_url)
            .detail("share", (share * 1000.0).round() / 1000.0)
            .detail("replies", replies)
            .detail("stock_reply", most)
            .detail("examples", examples),
        ]
    } else {
        Vec::new()
    };
    (Some(share), findings)
}

/// Reply times in working days of the letters with both dates, with their letters, slowest first.
#[must_use]
pub fn reply_times<'a>(letters: &'a [Letter], calendar: &WorkCalendar) -> Vec<(i64, &'a Letter)> {
    let mut out: Vec<(i64, &Letter)> =
        letters.iter().filter_map(|l| Some((calendar.working_days(l.asked?, l.replied?), l))).collect();
    out.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.url.cmp(&b.1.url)));
    out
}

/// The value at quantile `q` (0..=1) of values sorted in descending order.
fn quantile(desc: &[i64], q: f64) -> Option<f64> {
    if desc.is_empty() {
        return None;
    }
    let mut asc: Vec<i64> = desc.to_vec();
    asc.reverse();
    let pos = q * (asc.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    Some(asc[lo] as f64 + (asc[hi] - asc[lo]) as f64 * (pos - lo as f64))
}

/// The median and 90th percentile of reply times.
#[must_use]
pub fn reply_time_figures(times: &[(i64, &Letter)]) -> (Option<f64>, Option<f64>) {
    let desc: Vec<i64> = times.iter().map(|t| t.0).collect();
    (quantile(&desc, 0.5), quantile(&desc, 0.9))
}

/// `interaction.slow_reply`: a finding when the median reply time exceeds the limit.
#[must_use]
pub fn slow(times: &[(i64, &Letter)], site_url: &str, rule: &Rule<SlowParams>) -> Vec<Finding> {
    let (Some(median), _) = reply_time_figures(times) else { return Vec::new() };
    if times.len() < rule.params.min_replies || median <= rule.params.max_median_working_days {
        return Vec::new();
    }
    let slowest: Vec<serde_json::Value> = times
        .iter()
        .take(EXAMPLES)
        .map(|(d, l)| serde_json::json!({"url": l.url, "title": l.title, "working_days": d}))
        .collect();
    vec![
        Finding::new(
            SLOW,
            rule.severity,
            format!("replies take a median of {median} working days (limit {})", rule.params.max_median_working_days),
        )
        .zh(format!("答复用时中位数为 {median} 个工作日（限值 {} 个）", rule.params.max_median_working_days))
        .page(site_url)
        .detail("median_working_days", median)
        .detail("replies", times.len())
        .detail("slowest", slowest),
    ]
}

/// An entry point to an enquiry channel.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Channel {
    /// What it says (link text, alt text, or the image file name).
    pub text: String,
    /// Where it leads; None for an image or text with no link.
    pub url: Option<String>,
    /// The page it is on.
    pub page: String,
    /// Why it does not work, if it does not.
    pub problem: Option<String>,
    /// The same in Chinese.
    pub problem_zh: Option<String>,
}

impl Channel {
    /// Marks the channel as not working, saying why in English and Chinese.
    fn fails(&mut self, why: String, why_zh: String) {
        self.problem = Some(why);
        self.problem_zh = Some(why_zh);
    }
}

fn names_channel(text: &str, p: &MissingParams) -> bool {
    text.chars().count() <= p.max_entry_chars
        && p.channels.iter().any(|w| text.contains(w.as_str()))
        && !p.excluded.iter().any(|w| text.contains(w.as_str()))
}

/// Whether a page shows any entry point that names an enquiry channel (a link's text, an image's
/// alt text or file name), working or not.
#[must_use]
pub fn names_a_channel(page: &Page, p: &MissingParams) -> bool {
    page.links.iter().any(|l| names_channel(&l.text, p) || (l.kind.is_crawlable() && file_named(&l.url, p)))
        || page.images.iter().any(|i| i.alt.as_deref().is_some_and(|a| names_channel(a, p)))
        || page.invalid_links.iter().any(|l| names_channel(&l.text, p))
}

/// The last non-empty step of an address's path ("…/jlhd/yjzj/" → "yjzj").
fn last_segment(url: &str) -> &str {
    url.split(['?', '#']).next().unwrap_or(url).rsplit('/').find(|s| !s.is_empty()).unwrap_or(url)
}

/// Whether a step of the address's path (its directories or file name) holds one of the
/// channel words; a number (12345) only where no other digit touches it ("201712333" is a date).
fn file_named(url: &str, p: &MissingParams) -> bool {
    let lower = url.to_ascii_lowercase();
    let path = lower.split_once("://").map_or(lower.as_str(), |(_, r)| r.split_once('/').map_or("", |(_, p)| p));
    let path = path.split(['?', '#']).next().unwrap_or(path);
    path.split('/').any(|seg| {
        p.file_names.iter().any(|w| {
            seg.match_indices(w.as_str()).any(|(i, m)| {
                let numeric = m.bytes().all(|b| b.is_ascii_digit());
                let before = seg[..i].bytes().next_back().is_some_and(|b| b.is_ascii_digit());
                let after = seg[i + m.len()..].bytes().next().is_some_and(|b| b.is_ascii_digit());
                !numeric || !(before || after)
            })
        })
    })
}

/// The entry points to enquiry channels that the site shows, and whether each works: its link
/// answers, and (inside the site) leads to letters, a form, or a platform outside that answers.
#[must_use]
pub fn channels(site: &SiteModel, p: &MissingParams) -> Vec<Channel> {
    let targets: HashMap<&str, &crate::LinkTarget> = site.links.iter().map(|l| (l.url.as_str(), l)).collect();
    let pages = site.entries_by_url();
    let home = site.homepage_page();
    let home_url = home.map_or_else(|| site.spec.url.to_string(), |h| h.url.clone());
    // Pages that link to an outside platform that answered.
    let linking_out: HashSet<&str> = site
        .links
        .iter()
        .filter(|l| !l.internal && l.outcome.as_ref().is_some_and(|o| !o.is_broken()))
        .flat_map(|l| l.sources.iter().map(|s| s.page.as_str()))
        .collect();
    let mut out: Vec<Channel> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    let mut push = |c: Channel, out: &mut Vec<Channel>| {
        if seen.insert(format!("{}|{:?}", c.text, c.url)) {
            out.push(c);
        }
    };
    // Links, anywhere on the site, whose text or address names a channel.
    for t in &site.links {
        if !matches!(t.kind, sitecensus_core::LinkKind::Page | sitecensus_core::LinkKind::Frame) {
            continue;
        }
        let by_text = t.sources.iter().find(|s| !s.hidden && names_channel(&s.text, p));
        let by_name = file_named(&t.url, p) && !p.excluded.iter().any(|w| t.url.contains(w.as_str()));
        let Some(source) = by_text.or_else(|| if by_name { t.sources.iter().find(|s| !s.hidden) } else { None }) else {
            continue;
        };
        if p.excluded.iter().any(|w| source.text.contains(w.as_str())) {
            continue;
        }
        let text = if source.text.is_empty() { last_segment(&t.url).to_owned() } else { source.text.clone() };
        let c = Channel { text, url: Some(t.url.clone()), page: source.page.clone(), problem: None, problem_zh: None };
        push(c, &mut out);
    }
    if let Some(h) = home {
        // Images on the homepage that name a channel but link nowhere: a mailbox that is only a picture.
        for img in h.images.iter().filter(|i| !i.hidden && i.link.is_none()) {
            let alt = img.alt.as_deref().unwrap_or("");
            if names_channel(alt, p) || file_named(&img.src, p) {
                let text = if alt.is_empty() { last_segment(&img.src).to_owned() } else { alt.to_owned() };
                let mut c = Channel { text, url: None, page: home_url.clone(), problem: None, problem_zh: None };
                c.fails("an image with no link".into(), "只是一张图片，没有链接".into());
                push(c, &mut out);
            }
        }
        // Links that go nowhere ("#", javascript:) under a channel's name.
        for bad in &h.invalid_links {
            if names_channel(&bad.text, p) {
                let mut c = Channel {
                    text: bad.text.clone(),
                    url: None,
                    page: home_url.clone(),
                    problem: None,
                    problem_zh: None,
                };
                c.fails(format!("a link that cannot work ({})", bad.reason), format!("链接无法使用（{}）", bad.reason));
                push(c, &mut out);
            }
        }
    }
    for c in &mut out {
        if c.problem.is_some() {
            continue;
        }
        let Some(url) = c.url.as_deref() else { continue };
        let t = targets.get(url);
        if url.ends_with('#') || url.contains("javascript:") {
            c.fails("a link to nowhere".into(), "链接没有指向任何页面".into());
        } else if let Some(outcome) = t.and_then(|t| t.outcome.as_ref())
            && outcome.is_broken()
        {
            c.fails(
                format!("a dead link ({})", outcome.describe()),
                format!("链接已失效（{}）", outcome.describe_zh()),
            );
        } else if t.is_some_and(|t| t.internal)
            && let Some(entry) = pages.get(url)
            && let Some(page) = &entry.page
        {
            let leads_out = linking_out.contains(page.url.as_str()) || linking_out.contains(entry.url.as_str());
            let works = !page.items.is_empty()
                || page
                    .forms
                    .iter()
                    .any(|f| !f.hidden && f.fields.iter().any(|x| x.kind == "textarea" || x.kind == "text"))
                || !page.tables.is_empty()
                || !page.fields.is_empty()
                || leads_out
                || page.page_kind == PageKind::Homepage;
            if !works {
                c.fails(
                    "its page shows no letters, no form and no link to a platform".into(),
                    "其页面既无信件，也无留言表单或通往留言平台的链接".into(),
                );
            }
        }
    }
    out
}

/// `interaction.missing`: no entry point works.
#[must_use]
pub fn missing(site: &SiteModel, channels: &[Channel], rule: &Rule<MissingParams>) -> Vec<Finding> {
    if site.homepage_page().is_none() || channels.iter().any(|c| c.problem.is_none()) {
        return Vec::new();
    }
    let seen: Vec<serde_json::Value> = channels
        .iter()
        .take(10)
        .map(|c| serde_json::json!({"text": c.text, "url": c.url, "page": c.page, "problem": c.problem}))
        .collect();
    let (mut evidence, mut evidence_zh) = if channels.is_empty() {
        let names = rule.params.channels.iter().take(4).cloned().collect::<Vec<_>>().join("、");
        (
            format!("no link or image of the site names an enquiry channel ({names}…)"),
            format!("网站没有任何链接或图片指向咨询建言渠道（{names}等）"),
        )
    } else {
        let c = &channels[0];
        (
            format!("no enquiry channel works: “{}”: {}", c.text, c.problem.as_deref().unwrap_or_default()),
            format!("没有可用的咨询建言渠道：“{}”{}", c.text, c.problem_zh.as_deref().unwrap_or_default()),
        )
    };
    // A block drawn by a script (政民互动 filled by zmhd/….js) is invisible to a crawler that runs
    // no scripts: named, so that an inspector can look in a browser before the veto stands.
    let drawn: Vec<&str> = site
        .homepage_page()
        .map(|h| {
            h.links
                .iter()
                .filter(|l| l.kind == sitecensus_core::LinkKind::Script && file_named(&l.url, &rule.params))
                .map(|l| l.url.as_str())
                .collect()
        })
        .unwrap_or_default();
    if !drawn.is_empty() {
        evidence.push_str(&format!("; the homepage loads scripts that may draw one: {}", drawn.join(", ")));
        evidence_zh.push_str(&format!("；首页加载的脚本可能生成渠道入口：{}", drawn.join(", ")));
    }
    // A homepage whose scripts may draw the channel block and that no browser drew could not be
    // read: a veto needs evidence, so this is a warning until a browser has looked.
    let unread = site.homepage_page().filter(|h| !h.rendered && (!h.drawn_by.is_empty() || !drawn.is_empty()));
    let unread_scripts = unread.map(|h| {
        let scripts: Vec<String> = drawn.iter().map(|s| (*s).to_owned()).chain(h.drawn_by.iter().cloned()).collect();
        let some = scripts.iter().take(3).cloned().collect::<Vec<_>>().join(", ");
        let note = h.render_note.as_deref().unwrap_or("it was not rendered");
        evidence.push_str(&format!("; could not read: its scripts may draw the channel block ({some}), and {note}"));
        evidence_zh.push_str(&format!("；无法读取：其脚本可能生成渠道区块（{some}），未渲染原因：{note}"));
        scripts
    });
    let mut f =
        Finding::new(MISSING, rule.severity, evidence).zh(evidence_zh).at_most_if(unread.is_some(), Severity::Warn);
    if let Some(scripts) = unread_scripts {
        f = f.detail("unreadable", true).detail("scripts", scripts);
    }
    vec![f.page(site.spec.url.to_string()).detail("seen", seen).detail("channel_scripts", drawn)]
}
