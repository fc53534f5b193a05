//! The regions of a page that checks read: the main text (the article's own words), the footer
//! (site code, filing numbers, sponsor) and the breadcrumb.

use crate::dom::{Dom, Kind};
use crate::items::id_class_has;
use crate::model::Crumb;

/// Class/id words of containers that hold an article's text on Chinese government CMSs
/// (TRS_Editor and Custom_UnionStyle are TRS; zoom, zw, nr are common hand-made names).
const CONTENT_HINTS: &[&str] = &[
    "content",
    "article",
    "trs_editor",
    "custom_unionstyle",
    "zoom",
    "detail",
    "zw",
    "text",
    "main",
    "body",
    "nr",
    "wzy",
    "pages_content",
];

/// Class/id words of containers that are page chrome, not content.
const CHROME_HINTS: &[&str] =
    &["foot", "bottom", "nav", "menu", "side", "copyright", "header", "top", "link", "share", "comment"];

/// The element whose text is the page's main text, and that text.
#[must_use]
pub fn main_text(dom: &Dom) -> Option<(u32, String)> {
    let mut best: Option<(f64, u32)> = None;
    for i in 0..dom.nodes.len() as u32 {
        let n = &dom.nodes[i as usize];
        let Kind::Element(e) = n.kind else { continue };
        if n.skip || n.hidden {
            continue;
        }
        if !matches!(
            e.name(),
            "div"
                | "td"
                | "article"
                | "section"
                | "main"
                | "body"
                | "span"
                | "font"
                | "center"
                | "p"
                | "table"
                | "tbody"
        ) {
            continue;
        }
        let t = f64::from(dom.visible_chars(i));
        if t < 2.0 {
            continue;
        }
        let l = f64::from(dom.visible_link_chars(i));
        let link_density = l / t;
        let mut score = (t - l) * (1.0 - link_density).powi(2) * (2.0 + f64::from(dom.punctuation(i))).ln();
        if id_class_has(n, CONTENT_HINTS) {
            score *= 1.5;
        }
        if id_class_has(n, CHROME_HINTS) {
            score *= 0.3;
        }
        if best.is_none_or(|(s, _)| score > s) {
            best = Some((score, i));
        }
    }
    let (_, mut node) = best?;
    // Tighten: while one child element holds nearly all of the text, that child is the text.
    loop {
        let own = dom.visible_chars(node) - dom.visible_link_chars(node);
        let child = dom.children(node).find(|&c| {
            dom.nodes[c as usize].element().is_some()
                && f64::from(dom.visible_chars(c) - dom.visible_link_chars(c)) >= 0.9 * f64::from(own)
        });
        match child {
            Some(c) => node = c,
            None => break,
        }
    }
    // A page whose "main text" is its footer or menu has no text of its own.
    if crate::items::in_chrome(dom, node) {
        return None;
    }
    Some((node, dom.text(node, false)))
}

/// Text that marks a footer.
const FOOTER_MARKERS: &[&str] = &[
    "版权所有",
    "主办",
    "承办",
    "备案",
    "ICP",
    "icp",
    "标识码",
    "公网安备",
    "Copyright",
    "copyright",
    "©",
    "技术支持",
    "联系电话",
    "地址",
    "邮编",
    "维护",
];

/// The footer markers in one automaton (at most 32: a block's markers are bits of a `u32`).
static MARKERS: std::sync::LazyLock<aho_corasick::AhoCorasick> =
    std::sync::LazyLock::new(|| aho_corasick::AhoCorasick::new(FOOTER_MARKERS).expect("valid patterns"));

/// Which footer markers the text carries, as bits, in one pass.
fn markers_in(text: &str) -> u32 {
    let mut seen = 0u32;
    for m in MARKERS.find_overlapping_iter(text) {
        seen |= 1 << m.pattern().as_usize();
    }
    seen
}

/// The footer's visible text: the last footer-like container carrying footer markers.
#[must_use]
pub fn footer(dom: &Dom) -> String {
    let mut best: Option<(usize, u32)> = None;
    let mut masks: Vec<u32> = Vec::new();
    for i in 0..dom.nodes.len() as u32 {
        let n = &dom.nodes[i as usize];
        if n.skip || n.element().is_none() {
            continue;
        }
        let named = n.tag() == "footer" || id_class_has(n, &["foot", "bottom", "copyright", "banquan", "copy"]);
        if !named {
            continue;
        }
        let chars = dom.visible_chars(i);
        if chars == 0 || chars > 2000 {
            continue;
        }
        // Footer-like blocks nest (footer > nav > items): each visible text node's markers are
        // looked for once, and a block's are those of its text nodes.
        if masks.is_empty() {
            masks = vec![u32::MAX; dom.nodes.len()];
        }
        let mut seen = 0u32;
        for j in i..n.end {
            let t = &dom.nodes[j as usize];
            if let Kind::Text(text) = t.kind
                && !t.skip
                && !t.hidden
            {
                if masks[j as usize] == u32::MAX {
                    masks[j as usize] = markers_in(text);
                }
                seen |= masks[j as usize];
            }
        }
        let m = seen.count_ones() as usize;
        // Later and richer wins; nested containers are judged on their own text.
        if m > 0 && best.is_none_or(|(bm, bi)| m >= bm || i >= dom.nodes[bi as usize].end) {
            best = Some((m, i));
        }
    }
    if let Some((_, i)) = best {
        return dom.text(i, false);
    }
    // No named footer: climb from the last text that carries a strong marker.
    let last = (0..dom.nodes.len() as u32).rev().find(|&i| {
        let n = &dom.nodes[i as usize];
        matches!(n.kind, Kind::Text(t) if !n.skip && !n.hidden && ["版权所有", "ICP", "标识码", "公网安备", "主办"].iter().any(|m| t.contains(m)))
    });
    let Some(mut node) = last else {
        return String::new();
    };
    for _ in 0..4 {
        let p = dom.nodes[node as usize].parent;
        if p == crate::dom::NONE
            || matches!(dom.nodes[p as usize].tag(), "body" | "html")
            || dom.visible_chars(p) > 1500
        {
            break;
        }
        node = p;
    }
    dom.text(node, false)
}

/// Labels that introduce a breadcrumb.
const CRUMB_LABELS: &[&str] =
    &["当前位置", "您的位置", "你的位置", "您现在的位置", "你现在的位置", "所在位置", "现在位置", "当前的位置"];

/// Separators between the steps of a breadcrumb.
const CRUMB_SEPARATORS: &[char] = &['>', '»', '＞', '›', '/', '\n', '→', '|', '>'];

/// The breadcrumb as its steps, e.g. 首页 › 政务公开 › 通知公告, each with its link where it has one.
/// `resolve` turns an href into an absolute URL.
#[must_use]
pub fn breadcrumb(dom: &Dom, resolve: &dyn Fn(&str) -> Option<String>) -> Vec<Crumb> {
    let mut start = None;
    for i in 0..dom.nodes.len() as u32 {
        let n = &dom.nodes[i as usize];
        if n.skip {
            continue;
        }
        match n.kind {
            Kind::Text(t) if CRUMB_LABELS.iter().any(|l| t.contains(l)) => {
                start = Some(i);
                break;
            }
            Kind::Element(_)
                if id_class_has(n, &["crumb", "position", "location", "dqwz", "weizhi", "curpos", "path"])
                    && dom.anchors(i) > 0
                    && dom.visible_chars(i) < 200 =>
            {
                start = Some(i);
                break;
            }
            _ => {}
        }
    }
    // No label and no telling class: a short run of links from the homepage, separated by ">".
    if start.is_none() {
        start = (0..dom.nodes.len() as u32).find(|&i| {
            let n = &dom.nodes[i as usize];
            let anchors = dom.anchors(i);
            if n.skip || n.element().is_none() || !(2..=6).contains(&anchors) || dom.visible_chars(i) > 120 {
                return false;
            }
            let text = dom.text(i, false);
            ["首页", "网站首页", "主页"].iter().any(|h| text.starts_with(h))
                && text.contains(['>', '»', '＞', '›', '→'])
                && dom.children(i).all(|c| dom.anchors(c) <= 1)
        });
    }
    let Some(mut node) = start else { return Vec::new() };
    // Climb to the element that holds the trail's links.
    for _ in 0..3 {
        if dom.anchors(node) > 0 && dom.nodes[node as usize].element().is_some() {
            break;
        }
        let p = dom.nodes[node as usize].parent;
        if p == crate::dom::NONE {
            break;
        }
        node = p;
    }
    if dom.visible_chars(node) > 300 {
        return Vec::new();
    }
    let mut crumbs = Vec::new();
    let mut seen_label = false;
    let end = dom.nodes[node as usize].end;
    let mut j = node;
    while j < end {
        let n = &dom.nodes[j as usize];
        if n.skip {
            j += 1;
            continue;
        }
        match n.kind {
            Kind::Element(e) if e.name() == "a" && e.attr("href").is_some() => {
                let text = fold_text(&dom.text(j, true));
                if !text.is_empty() {
                    crumbs.push(Crumb { url: e.attr("href").and_then(resolve), text });
                }
                j = n.end;
                continue;
            }
            Kind::Text(t) => {
                let mut t = t;
                for l in CRUMB_LABELS {
                    if let Some(i) = t.find(l) {
                        // "您现在的位置是：" — the label may run on into 是 and a colon.
                        t = t[i + l.len()..].trim_start_matches(['是', ':', '：', ' ']);
                        seen_label = true;
                        crumbs.clear();
                    }
                }
                for part in t.split(CRUMB_SEPARATORS) {
                    let part = part.trim_matches(|c: char| {
                        c.is_whitespace() || c == ':' || c == '：' || c == '-' || c == '\u{a0}'
                    });
                    if !part.is_empty() && part.chars().count() <= 30 {
                        crumbs.push(Crumb { text: part.to_owned(), url: None });
                    }
                }
            }
            _ => {}
        }
        j += 1;
    }
    let _ = seen_label;
    crumbs
}

fn fold_text(s: &str) -> String {
    let mut out = String::new();
    crate::dom::push_folded(&mut out, s);
    out.trim().to_owned()
}
