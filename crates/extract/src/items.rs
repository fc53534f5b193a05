//! Dated list items and the blocks they sit in: the entries of a column list or a homepage block,
//! each with the date shown beside it (or in its tooltip, or in its URL).

use chrono::{Datelike, NaiveDate};
use url::Url;

use crate::dates;
use crate::dom::{Dom, Kind, NONE};
use crate::model::{Block, DateSource, Item};

/// Anchor text that names a "more" link, not an entry.
const MORE_TEXTS: &[&str] =
    &["更多", "更多>>", "更多>", "more", "more>>", "more+", "查看更多", "更多+", ">>", "》》", "more>"];

/// Entries shorter than this (in characters) are menu items, not list entries.
const MIN_TITLE_CHARS: usize = 4;

/// How much text beyond its link an entry's container may hold before it is a block, not an entry.
const MAX_CONTAINER_EXTRA_CHARS: u32 = 80;

struct Candidate {
    anchor: u32,
    container: u32,
    title: String,
    url: String,
    date: Option<(NaiveDate, DateSource)>,
}

/// A link that heads an entry: its node, text and resolved URL.
pub(crate) struct AnchorInfo {
    pub node: u32,
    pub text: String,
    pub url: Url,
}

fn is_more(text: &str) -> bool {
    if text.len() > 24 {
        return false;
    }
    let t: String = text.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_lowercase();
    MORE_TEXTS.contains(&t.as_str()) || t.starts_with("更多") || t == "more"
}

/// Finds list items and their blocks among the page's anchors (in document order).
/// `main` is the page's main-text element: small or undated lists inside it are still lists
/// (a column with two undated entries is a column).
pub(crate) fn extract(
    dom: &Dom,
    anchors: &[AnchorInfo],
    as_of: NaiveDate,
    main: Option<u32>,
) -> (Vec<Item>, Vec<Block>) {
    let content: Vec<&AnchorInfo> =
        anchors.iter().filter(|a| a.text.chars().count() >= MIN_TITLE_CHARS && !is_more(&a.text)).collect();
    let content_nodes: Vec<u32> = content.iter().map(|a| a.node).collect();
    let content_in = |i: u32| -> usize {
        let end = dom.nodes[i as usize].end;
        content_nodes.partition_point(|&n| n < end) - content_nodes.partition_point(|&n| n < i)
    };

    let mut candidates = Vec::with_capacity(content.len());
    for a in &content {
        let anchor_chars = dom.chars(a.node);
        let mut container = a.node;
        loop {
            let p = dom.nodes[container as usize].parent;
            if p == NONE || matches!(dom.nodes[p as usize].tag(), "body" | "html" | "") {
                break;
            }
            if content_in(p) > 1 || dom.chars(p) > anchor_chars + MAX_CONTAINER_EXTRA_CHARS {
                break;
            }
            container = p;
        }
        let (title, date) = find_date(dom, a, container, as_of);
        candidates.push(Candidate { anchor: a.node, container, title, url: a.url.to_string(), date });
    }

    // Group by the element holding the entries (the parent of each entry's container).
    let mut groups: Vec<(u32, Vec<usize>)> = Vec::new();
    for (ci, c) in candidates.iter().enumerate() {
        let key = dom.nodes[c.container as usize].parent;
        match groups.iter_mut().rev().find(|(k, _)| *k == key) {
            Some((_, members)) => members.push(ci),
            None => groups.push((key, vec![ci])),
        }
    }

    let mut items = Vec::new();
    let mut blocks = Vec::new();
    for (key, members) in groups {
        let n = members.len();
        let dated = members.iter().filter(|&&m| candidates[m].date.is_some()).count();
        let avg_title = members.iter().map(|&m| candidates[m].title.chars().count()).sum::<usize>() / n.max(1);
        let shown = members
            .iter()
            .filter(|&&m| matches!(candidates[m].date, Some((_, DateSource::Shown | DateSource::ShownNoYear))))
            .count();
        let in_main = main.is_some_and(|m| key != NONE && key >= m && key < dom.nodes[m as usize].end);
        let accept = (dated >= 1 && (dated * 2 >= n || dated >= 3))
            || (n >= 5 && avg_title >= 10 && !in_chrome(dom, key))
            || (in_main && avg_title >= 6 && !in_chrome(dom, key));
        // A menu whose links happen to carry dates in their URLs is still a menu, and one or two
        // URL-dated links outside the main text are no list.
        if !accept || (shown == 0 && (avg_title < 6 || (dated < 3 && !in_main))) {
            continue;
        }
        let block_idx = blocks.len();
        let (title, url) =
            heading(dom, key, &members.iter().map(|&m| candidates[m].anchor).collect::<Vec<_>>(), anchors);
        let mut count = 0;
        for &m in &members {
            let c = &candidates[m];
            if items.iter().any(|i: &Item| i.block == block_idx && i.url == c.url) {
                continue;
            }
            count += 1;
            items.push(Item {
                title: c.title.clone(),
                url: c.url.clone(),
                date: c.date.map(|(d, _)| d.format("%Y-%m-%d").to_string()),
                date_source: c.date.map(|(_, s)| s),
                hidden: dom.nodes[c.anchor as usize].hidden,
                block: block_idx,
            });
        }
        blocks.push(Block { title, url, items: count });
    }
    (items, blocks)
}

/// The item's title and date: a date node inside the link, then the entry's own text outside the
/// link, then the link's tooltip, then its URL.
fn find_date(dom: &Dom, a: &AnchorInfo, container: u32, as_of: NaiveDate) -> (String, Option<(NaiveDate, DateSource)>) {
    // The URL's year is read only when a date without a year turns up.
    let url_year = std::cell::OnceCell::new();
    let short_year = |m: u32| -> Option<i32> {
        let url_year = *url_year.get_or_init(|| dates::year_in_url(a.url.as_str()));
        url_year.map(|(y, um)| {
            if m + 6 < um {
                y + 1
            } else if um + 6 < m {
                y - 1
            } else {
                y
            }
        })
    };
    let max_date = as_of + chrono::Days::new(1);

    // 1. A text node inside the link that is only a date: <a><span>2017-10-14</span>标题</a>.
    let anchor_end = dom.nodes[a.node as usize].end;
    for j in a.node + 1..anchor_end {
        if let Kind::Text(t) = dom.nodes[j as usize].kind
            && let Some(d) = lone_date(t, &short_year, as_of)
        {
            let title = fold(&dom.text_except(a.node, j));
            return (if title.is_empty() { a.text.clone() } else { title }, Some(d));
        }
    }
    // 2. The entry's text outside the link, and dates its scripts write (document.write).
    if container != a.node {
        let end = dom.nodes[container as usize].end;
        for j in container..end {
            let n = &dom.nodes[j as usize];
            if n.tag() == "script" && n.attr("src").is_none() {
                let code: String = dom
                    .children(j)
                    .filter_map(|c| match dom.nodes[c as usize].kind {
                        Kind::Text(t) => Some(t),
                        _ => None,
                    })
                    .collect();
                if crate::script::writes_text(&code)
                    && let Some(f) = dates::first_full_date(&code).filter(|f| f.date <= max_date)
                {
                    return (a.text.clone(), Some((f.date, DateSource::Shown)));
                }
            }
        }
        let outside = dom.text_except(container, a.node);
        // Of the dates an entry shows, its publication date: not one a label calls something
        // else (活动时间, 成文日期, 报名截止 …), and of several, the latest that is not ahead of
        // as-of (a document is published after it is issued).
        let written: Vec<dates::Found> = dates::full_dates(&outside).collect();
        let shown: Vec<&dates::Found> = written.iter().filter(|f| !labelled_otherwise(&outside, f.start)).collect();
        let hidden = dom.nodes[container as usize].hidden;
        if let Some(f) = shown.iter().filter(|f| f.date <= max_date).max_by_key(|f| f.date).or(if hidden {
            shown.first()
        } else {
            None
        }) {
            return (a.text.clone(), Some((f.date, DateSource::Shown)));
        }
        if shown.is_empty() && !written.is_empty() {
            // Every date shown is labelled as something else: the entry is undated.
            return (a.text.clone(), None);
        }
        for piece in outside.split(['\n', ' ']) {
            if let Some(d) = lone_date(piece, &short_year, as_of) {
                return (a.text.clone(), Some(d));
            }
        }
        // Dates in a sibling that html splits into several text nodes ("[", "07-10", "]").
        if let Some(d) = lone_date(&outside, &short_year, as_of) {
            return (a.text.clone(), Some(d));
        }
    }
    // 3. The tooltip: title="发表时间：18年03月20日" / "更新时间：2018/3/20 15:20:11". A date inside the
    //    title's own words ("采暖延期至2018年3月20日") is not the item's date.
    if let Some(t) = dom.nodes[a.node as usize].attr("title") {
        for f in dates::full_dates(t) {
            let before: String = t[..f.start].chars().rev().take(8).collect::<String>().chars().rev().collect();
            if ["时间", "日期", "发布", "更新"].iter().any(|l| before.contains(l)) {
                return (a.text.clone(), Some((f.date, DateSource::Tooltip)));
            }
        }
    }
    // 4. The URL.
    if let Some(d) = dates::date_in_url(a.url.as_str())
        && d <= max_date
    {
        return (a.text.clone(), Some((d, DateSource::Url)));
    }
    (a.text.clone(), None)
}

/// Labels of dates that are not an item's publication date.
const OTHER_DATE_LABELS: &[&str] = &[
    "活动时间",
    "活动日期",
    "会议时间",
    "举办时间",
    "举行时间",
    "开展时间",
    "开幕",
    "报名时间",
    "报名截止",
    "截止时间",
    "截止日期",
    "考试时间",
    "考试日期",
    "开考",
    "有效期",
    "成文日期",
    "成文时间",
    "印发日期",
    "发文日期",
    "实施日期",
    "施行日期",
    "生效日期",
    "开标时间",
    "开标日期",
    "公示期",
    "时间安排",
    "至",
];

/// Whether the date at `start` of `text` follows a label that calls it something other than a
/// publication date (on the same line, a few characters before).
fn labelled_otherwise(text: &str, start: usize) -> bool {
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let before: String = text[line_start..start].chars().rev().take(10).collect::<Vec<_>>().into_iter().rev().collect();
    let before = before.trim_end_matches(|c: char| c.is_whitespace() || "：:（(【[".contains(c));
    OTHER_DATE_LABELS.iter().any(|l| before.ends_with(l))
}

fn lone_date(t: &str, short_year: &dyn Fn(u32) -> Option<i32>, as_of: NaiveDate) -> Option<(NaiveDate, DateSource)> {
    if !t.bytes().any(|b| b.is_ascii_digit()) {
        return None;
    }
    let trimmed = t.trim_matches(|c: char| c.is_whitespace() || "[]()（）【】〔〕<>|·".contains(c) || c == '\u{a0}');
    if trimmed.is_empty() || trimmed.chars().count() > 24 {
        return None;
    }
    if let Some(f) = dates::first_full_date(trimmed) {
        let rest = format!("{}{}", &trimmed[..f.start], &trimmed[f.end..]);
        let rest = rest.trim_matches(|c: char| c.is_whitespace() || ":：".contains(c));
        if rest.is_empty() || ["发布时间", "发布日期", "更新时间", "日期", "时间"].contains(&rest) {
            return Some((f.date, DateSource::Shown));
        }
        return None;
    }
    // The month decides the year where the URL carries one; else the as-of rule.
    let probe = dates::short_date_alone(trimmed, None, as_of)?;
    let date = match short_year(probe.month()) {
        Some(y) => NaiveDate::from_ymd_opt(y, probe.month(), probe.day()).unwrap_or(probe),
        None => probe,
    };
    Some((date, DateSource::ShownNoYear))
}

fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    crate::dom::push_folded(&mut out, s);
    out.trim().to_owned()
}

/// Whether the node sits in navigation, header or footer chrome.
pub(crate) fn in_chrome(dom: &Dom, i: u32) -> bool {
    dom.nodes[i as usize].chrome
}

/// Whether the node's id or class contains one of `words` (lowercase ASCII), ignoring case.
pub(crate) fn id_class_has(node: &crate::dom::DNode, words: &[&str]) -> bool {
    crate::dom::id_class_has(node.id, node.class, words)
}

fn is_heading_like(dom: &Dom, i: u32) -> bool {
    let n = &dom.nodes[i as usize];
    matches!(n.tag(), "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "dt" | "th" | "caption" | "legend")
        || id_class_has(n, &["tit", "hd", "head", "bt", "lanmu", "column", "lm_", "name", "tab"])
}

/// The heading of a block: the last heading-like text before the list inside its nearest
/// ancestors, and the "更多" link or heading link that leads to the full column.
fn heading(dom: &Dom, group: u32, entry_anchors: &[u32], anchors: &[AnchorInfo]) -> (Option<String>, Option<String>) {
    if group == NONE {
        return (None, None);
    }
    let mut scope = group;
    for _ in 0..7 {
        // Climbing past the block into its neighbours would borrow their headings (a heading over
        // two side-by-side lists is still the lists' own).
        if dom.anchors(scope) as usize > 2 * entry_anchors.len() + 6 {
            break;
        }
        let start = scope;
        let end = dom.nodes[scope as usize].end;
        // A "more" link anywhere in the scope, outside the entries.
        let more =
            anchors.iter().filter(|a| a.node >= start && a.node < end && !entry_anchors.contains(&a.node)).find(|a| {
                is_more(&a.text)
                    || dom.nodes[a.node as usize].attr("title").is_some_and(is_more)
                    || has_more_image(dom, a.node)
                    || (a.text.is_empty() && id_class_has(&dom.nodes[a.node as usize], &["more"]))
            });
        // The last heading-like element before the first entry.
        let first_entry = entry_anchors.first().copied().unwrap_or(end);
        let mut title: Option<(String, Option<String>)> = None;
        for j in start..first_entry {
            if is_heading_like(dom, j) && dom.nodes[j as usize].end <= first_entry {
                let text = dom.inline_text(j, true);
                let chars = text.chars().count();
                if (2..=24).contains(&chars) && !is_more(&text) {
                    let link = anchors
                        .iter()
                        .find(|a| a.node >= j && a.node < dom.nodes[j as usize].end && !is_more(&a.text))
                        .map(|a| a.url.to_string());
                    title = Some((strip_more(&text), link));
                }
            }
        }
        // A block with a "more" link but no element named like a heading: its last short line
        // of text before the list is the heading (<div class="text">全域旅游</div>).
        if title.is_none() && more.is_some() {
            for j in start..first_entry {
                let n = &dom.nodes[j as usize];
                if n.element().is_some() && !n.hidden && !n.skip && dom.anchors(j) == 0 && n.end <= first_entry {
                    let text = dom.inline_text(j, true);
                    if (2..=12).contains(&text.chars().count())
                        && !is_more(&text)
                        && !text.chars().any(|c| c.is_ascii_digit())
                    {
                        title = Some((text, None));
                    }
                }
            }
        }
        if title.is_some() || more.is_some() {
            let (t, heading_link) = title.map_or((None, None), |(t, l)| (Some(t), l));
            return (t, more.map(|m| m.url.to_string()).or(heading_link));
        }
        let p = dom.nodes[scope as usize].parent;
        if p == NONE || matches!(dom.nodes[p as usize].tag(), "body" | "html") {
            break;
        }
        scope = p;
    }
    (None, None)
}

fn has_more_image(dom: &Dom, anchor: u32) -> bool {
    (anchor + 1..dom.nodes[anchor as usize].end).any(|j| {
        let n = &dom.nodes[j as usize];
        n.tag() == "img"
            && (n.attr("alt").is_some_and(is_more)
                || n.attr("src").is_some_and(|s| s.to_ascii_lowercase().contains("more")))
    })
}

fn strip_more(text: &str) -> String {
    let mut t = text.to_owned();
    for m in ["更多>>", "更多>", "更多+", "更多", "more>>", "MORE", "More", "more", ">>"] {
        t = t.replace(m, "");
    }
    t.trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::labelled_otherwise;

    #[test]
    fn dates_that_are_not_publication_dates() {
        for (text, date) in [
            ("活动时间：2024-08-01", "2024-08-01"),
            ("成文日期 2024-03-01 发布日期 2024-03-05", "2024-03-01"),
            ("2024-07-01至2024-07-31", "2024-07-31"),
            ("报名截止：2024-07-20", "2024-07-20"),
        ] {
            assert!(labelled_otherwise(text, text.find(date).unwrap()), "{text}");
        }
        for (text, date) in
            [("发布时间：2024-07-10", "2024-07-10"), ("2024-07-10", "2024-07-10"), ("[2024-07-10]", "2024-07-10")]
        {
            assert!(!labelled_otherwise(text, text.find(date).unwrap()), "{text}");
        }
    }
}
