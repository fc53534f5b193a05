//! A flat, document-ordered view of a parsed page: every node's subtree is a contiguous index
//! range, so "how much text / how many links under this element" is two lookups in prefix sums
//! instead of a walk. Built once per page from the html5ever tree; analyzers share it.

use scraper::node::Element;
use scraper::{Html, Node};

use crate::css::{HiddenRules, style_hides};

/// Sentinel for "no node".
pub const NONE: u32 = u32::MAX;

/// What a node is.
#[derive(Debug, Clone, Copy)]
pub enum Kind<'a> {
    /// An element.
    Element(&'a Element),
    /// A text node.
    Text(&'a str),
    /// An HTML comment (invisible; spam is sometimes left in them).
    Comment(&'a str),
    /// Document, doctype, processing instruction.
    Other,
}

/// One node in document order.
#[derive(Debug, Clone, Copy)]
pub struct DNode<'a> {
    /// What it is.
    pub kind: Kind<'a>,
    /// Index of the parent, or [`NONE`].
    pub parent: u32,
    /// One past the last node of its subtree.
    pub end: u32,
    /// Whether a visitor cannot see it (itself or an ancestor is hidden).
    pub hidden: bool,
    /// Whether it sits in script, style, noscript, template, title or head: not page text.
    pub skip: bool,
    /// The enclosing `<a href>`, or [`NONE`].
    pub anchor: u32,
    /// Whether it sits in navigation, a header or a footer (by tag, id or class), itself included.
    pub chrome: bool,
    /// The element's `id` ("" when none): read once here, looked at by many analyzers.
    pub id: &'a str,
    /// The element's `class` attribute as written ("" when none).
    pub class: &'a str,
    /// The lowercase tag name ("" for non-elements), read once.
    name: &'a str,
}

impl<'a> DNode<'a> {
    /// The element, if this is one.
    #[must_use]
    pub fn element(&self) -> Option<&'a Element> {
        match self.kind {
            Kind::Element(e) => Some(e),
            _ => None,
        }
    }

    /// The lowercase tag name ("" for non-elements).
    #[must_use]
    pub fn tag(&self) -> &'a str {
        self.name
    }

    /// An attribute value.
    #[must_use]
    pub fn attr(&self, name: &str) -> Option<&'a str> {
        self.element().and_then(|e| e.attr(name))
    }
}

/// Counts kept as prefix sums over document order.
#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    /// Non-space text characters outside skipped elements (hidden text included).
    chars: u32,
    /// Non-space text characters a visitor sees.
    vis: u32,
    /// Visible characters inside links.
    vis_link: u32,
    /// Visible CJK sentence punctuation.
    punct: u32,
    /// `<a href>` elements.
    anchors: u32,
    /// Elements.
    elements: u32,
}

/// The flat DOM of one page.
pub struct Dom<'a> {
    /// Nodes in document order; node 0 is the document.
    pub nodes: Vec<DNode<'a>>,
    prefix: Vec<Counts>,
}

const SKIP_TAGS: &[&str] =
    &["script", "style", "noscript", "template", "title", "head", "iframe", "textarea", "select", "option"];

/// Elements whose boundaries separate words when text is joined.
pub fn is_block(tag: &str) -> bool {
    matches!(
        tag,
        "p" | "div"
            | "br"
            | "li"
            | "ul"
            | "ol"
            | "dl"
            | "dt"
            | "dd"
            | "tr"
            | "td"
            | "th"
            | "table"
            | "tbody"
            | "thead"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "section"
            | "article"
            | "header"
            | "footer"
            | "nav"
            | "aside"
            | "main"
            | "form"
            | "blockquote"
            | "pre"
            | "hr"
            | "center"
            | "body"
            | "html"
            | "address"
            | "figure"
            | "figcaption"
            | "option"
            | "caption"
    )
}

fn is_punct(c: char) -> bool {
    matches!(c, '，' | '。' | '；' | '：' | '！' | '？' | '、' | '“' | '”' | ',' | ';')
}

impl<'a> Dom<'a> {
    /// Flattens a parsed document, working out hidden and skipped regions on the way.
    #[must_use]
    pub fn build(html: &'a Html) -> Self {
        let mut rules = HiddenRules::default();
        for n in html.tree.nodes() {
            if let Node::Element(e) = n.value()
                && e.name() == "style"
            {
                let css: String = n.children().filter_map(|c| c.value().as_text().map(|t| &**t)).collect();
                rules.add_stylesheet(&css);
            }
        }
        let mut nodes: Vec<DNode<'a>> = Vec::with_capacity(html.tree.nodes().len());
        let mut stack: Vec<u32> = Vec::with_capacity(64);
        for edge in html.tree.root().traverse() {
            match edge {
                ego_tree::iter::Edge::Open(n) => {
                    let idx = nodes.len() as u32;
                    let parent = stack.last().copied().unwrap_or(NONE);
                    let (p_hidden, p_skip, p_anchor, p_chrome) = if parent == NONE {
                        (false, false, NONE, false)
                    } else {
                        let p = &nodes[parent as usize];
                        let anchor = if p.tag() == "a" && p.attr("href").is_some() { parent } else { p.anchor };
                        (p.hidden, p.skip, anchor, p.chrome)
                    };
                    let kind = match n.value() {
                        Node::Element(e) => Kind::Element(e),
                        Node::Text(t) => Kind::Text(t),
                        Node::Comment(c) => Kind::Comment(c),
                        _ => Kind::Other,
                    };
                    let (hidden, skip, chrome, id, class, name) = match kind {
                        Kind::Element(e) => {
                            // One walk over the attributes (each `attr` lookup interns the name).
                            let (mut id, mut class, mut own_hidden, mut input_type) = ("", "", false, None);
                            for (k, v) in e.attrs() {
                                match k {
                                    "id" => id = v,
                                    "class" => class = v,
                                    "hidden" => own_hidden = true,
                                    "style" => own_hidden |= style_hides(v).is_some(),
                                    "type" => input_type = Some(v),
                                    _ => {}
                                }
                            }
                            let name = e.name();
                            own_hidden = own_hidden
                                || (!rules.is_empty() && rules.hides(e.id(), e.classes()))
                                || (name == "input" && input_type.is_some_and(|t| t.eq_ignore_ascii_case("hidden")));
                            let chrome = p_chrome
                                || matches!(name, "nav" | "header" | "footer")
                                || id_class_has(id, class, CHROME_WORDS);
                            (p_hidden || own_hidden, p_skip || SKIP_TAGS.contains(&name), chrome, id, class, name)
                        }
                        _ => (p_hidden, p_skip, p_chrome, "", "", ""),
                    };
                    nodes.push(DNode {
                        kind,
                        parent,
                        end: idx + 1,
                        hidden,
                        skip,
                        anchor: p_anchor,
                        chrome,
                        id,
                        class,
                        name,
                    });
                    stack.push(idx);
                }
                ego_tree::iter::Edge::Close(_) => {
                    if let Some(idx) = stack.pop() {
                        nodes[idx as usize].end = nodes.len() as u32;
                    }
                }
            }
        }
        let mut prefix = Vec::with_capacity(nodes.len() + 1);
        let mut acc = Counts::default();
        prefix.push(acc);
        for n in &nodes {
            match n.kind {
                Kind::Text(t) if !n.skip => {
                    let mut chars = 0u32;
                    let mut punct = 0u32;
                    for c in t.chars() {
                        if !c.is_whitespace() {
                            chars += 1;
                            if is_punct(c) {
                                punct += 1;
                            }
                        }
                    }
                    acc.chars += chars;
                    if !n.hidden {
                        acc.vis += chars;
                        acc.punct += punct;
                        if n.anchor != NONE {
                            acc.vis_link += chars;
                        }
                    }
                }
                Kind::Element(e) => {
                    acc.elements += 1;
                    if n.name == "a" && e.attr("href").is_some() {
                        acc.anchors += 1;
                    }
                }
                _ => {}
            }
            prefix.push(acc);
        }
        Dom { nodes, prefix }
    }

    fn span(&self, i: u32) -> (Counts, Counts) {
        let n = &self.nodes[i as usize];
        (self.prefix[i as usize], self.prefix[n.end as usize])
    }

    /// Non-space text characters under node `i`, hidden text included.
    #[must_use]
    pub fn chars(&self, i: u32) -> u32 {
        let (a, b) = self.span(i);
        b.chars - a.chars
    }

    /// Visible non-space text characters under node `i`.
    #[must_use]
    pub fn visible_chars(&self, i: u32) -> u32 {
        let (a, b) = self.span(i);
        b.vis - a.vis
    }

    /// Visible characters inside links under node `i`.
    #[must_use]
    pub fn visible_link_chars(&self, i: u32) -> u32 {
        let (a, b) = self.span(i);
        b.vis_link - a.vis_link
    }

    /// Visible CJK punctuation marks under node `i`.
    #[must_use]
    pub fn punctuation(&self, i: u32) -> u32 {
        let (a, b) = self.span(i);
        b.punct - a.punct
    }

    /// `<a href>` elements under node `i` (itself included).
    #[must_use]
    pub fn anchors(&self, i: u32) -> u32 {
        let (a, b) = self.span(i);
        b.anchors - a.anchors
    }

    /// Elements under node `i` (itself included).
    #[must_use]
    pub fn elements(&self, i: u32) -> u32 {
        let (a, b) = self.span(i);
        b.elements - a.elements
    }

    /// The text under node `i`, with block boundaries as newlines and runs of space folded.
    /// `hidden` says whether hidden text is included.
    #[must_use]
    pub fn text(&self, i: u32, hidden: bool) -> String {
        self.text_range(i, self.nodes[i as usize].end, hidden, NONE, true)
    }

    /// The text under node `i` on one line: block boundaries are spaces too (a link's or a
    /// heading's text; the same as folding [`Dom::text`], in one pass).
    #[must_use]
    pub fn inline_text(&self, i: u32, hidden: bool) -> String {
        self.text_range(i, self.nodes[i as usize].end, hidden, NONE, false)
    }

    /// The text under node `i` leaving out the subtree of node `except`.
    #[must_use]
    pub fn text_except(&self, i: u32, except: u32) -> String {
        self.text_range(i, self.nodes[i as usize].end, true, except, true)
    }

    fn text_range(&self, start: u32, end: u32, hidden: bool, except: u32, lines: bool) -> String {
        let mut out = String::new();
        let mut block_ends: Vec<u32> = Vec::new();
        let newline = |out: &mut String| {
            if !lines {
                if !out.is_empty() && !out.ends_with(' ') {
                    out.push(' ');
                }
                return;
            }
            while out.ends_with(' ') {
                out.pop();
            }
            if !out.is_empty() && !out.ends_with('\n') {
                out.push('\n');
            }
        };
        let mut j = start;
        while j < end {
            while block_ends.last().is_some_and(|&e| e <= j) {
                block_ends.pop();
                newline(&mut out);
            }
            if j == except {
                j = self.nodes[j as usize].end;
                if !out.ends_with([' ', '\n']) && !out.is_empty() {
                    out.push(' ');
                }
                continue;
            }
            let n = &self.nodes[j as usize];
            match n.kind {
                Kind::Text(t) if !n.skip && (hidden || !n.hidden) => push_folded(&mut out, t),
                Kind::Element(_) if is_block(n.name) => {
                    newline(&mut out);
                    block_ends.push(n.end);
                }
                Kind::Element(_)
                    if matches!(n.name, "span" | "a" | "img") && !out.ends_with([' ', '\n']) && !out.is_empty() =>
                {
                    out.push(' ');
                }
                _ => {}
            }
            j += 1;
        }
        // Trimmed in place: no second copy of the text.
        out.truncate(out.trim_end().len());
        let lead = out.len() - out.trim_start().len();
        out.drain(..lead);
        out
    }

    /// Ancestors of node `i`, nearest first (the node itself excluded).
    pub fn ancestors(&self, i: u32) -> impl Iterator<Item = u32> + '_ {
        std::iter::successors(Some(self.nodes[i as usize].parent), move |&p| {
            (p != NONE).then(|| self.nodes[p as usize].parent)
        })
        .take_while(|&p| p != NONE)
    }

    /// Children of node `i` in order.
    pub fn children(&self, i: u32) -> impl Iterator<Item = u32> + '_ {
        let end = self.nodes[i as usize].end;
        let first = (i + 1 < end).then_some(i + 1);
        std::iter::successors(first, move |&c| {
            let next = self.nodes[c as usize].end;
            (next < end).then_some(next)
        })
    }

    /// Elements of the document with this tag name, in order.
    pub fn elements_named<'s>(&'s self, tag: &'s str) -> impl Iterator<Item = u32> + 's {
        (0..self.nodes.len() as u32).filter(move |&i| self.nodes[i as usize].tag() == tag)
    }
}

/// Words of an id or class that mark navigation, menus and footers.
const CHROME_WORDS: &[&str] = &["nav", "menu", "foot", "daohang"];

/// Whether an id or a class contains one of `words` (lowercase ASCII), ignoring case.
pub(crate) fn id_class_has(id: &str, class: &str, words: &[&str]) -> bool {
    let check = |s: &str| words.iter().any(|w| contains_ignore_case(s.as_bytes(), w.as_bytes()));
    check(id) || check(class)
}

/// Case-insensitive ASCII substring test without allocating (this runs for every element).
fn contains_ignore_case(hay: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || hay.windows(needle.len()).any(|w| w.eq_ignore_ascii_case(needle))
}

/// Appends `t` to `out` folding whitespace runs (including U+3000 and NBSP) into one space.
pub fn push_folded(out: &mut String, t: &str) {
    // By bytes: only ASCII space and the lead bytes of Unicode's spaces (U+0085, U+00A0, U+1680,
    // U+2000–U+205F, U+3000) need a closer look, and runs of text are copied whole. This is the
    // hot loop of every page's text; a char-by-char search cost a tenth of extraction.
    let b = t.as_bytes();
    let mut run = 0;
    let mut i = 0;
    while i < b.len() {
        let space = match b[i] {
            b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c => 1,
            0xc2 | 0xe1 | 0xe2 | 0xe3 => t[i..].chars().next().filter(|c| c.is_whitespace()).map_or(0, char::len_utf8),
            _ => 0,
        };
        if space == 0 {
            i += 1;
            continue;
        }
        out.push_str(&t[run..i]);
        if !out.is_empty() && !out.ends_with([' ', '\n']) {
            out.push(' ');
        }
        i += space;
        run = i;
    }
    out.push_str(&t[run..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_and_counts() {
        let html = Html::parse_document(
            "<html><head><title>T</title><style>.h{display:none}</style></head><body>\
             <div id=a><p>第一段，文字。</p><a href=x>链接文字</a></div>\
             <div class=h><a href=y>隐藏</a></div><script>var x='不是文字';</script></body></html>",
        );
        let dom = Dom::build(&html);
        let a = (0..dom.nodes.len() as u32).find(|&i| dom.nodes[i as usize].attr("id") == Some("a")).unwrap();
        assert_eq!(dom.chars(a), 11);
        assert_eq!(dom.visible_link_chars(a), 4);
        assert_eq!(dom.anchors(a), 1);
        assert_eq!(dom.punctuation(a), 2);
        assert_eq!(dom.text(a, false), "第一段，文字。\n链接文字");
        let body = dom.elements_named("body").next().unwrap();
        assert_eq!(dom.anchors(body), 2);
        assert_eq!(dom.visible_chars(body), 11);
        assert_eq!(dom.chars(body), 13);
        let hidden_a = (0..dom.nodes.len() as u32).find(|&i| dom.nodes[i as usize].attr("href") == Some("y")).unwrap();
        assert!(dom.nodes[hidden_a as usize].hidden);
        assert!(!dom.text(body, true).contains("不是文字"));
    }

    #[test]
    fn inline_text_is_folded_text() {
        let html = Html::parse_document(
            "<div id=x> <p>第一段，\u{3000}文字。</p><div><a href=#>链接 <span>文字</span></a><br><img alt=a></div>\
             <ul><li> 一 </li><li>二</li></ul> 末尾 </div>",
        );
        let dom = Dom::build(&html);
        for i in 0..dom.nodes.len() as u32 {
            for hidden in [false, true] {
                let mut folded = String::new();
                push_folded(&mut folded, &dom.text(i, hidden));
                assert_eq!(dom.inline_text(i, hidden), folded.trim(), "node {i}");
            }
        }
    }

    #[test]
    fn folding_keeps_text_and_makes_one_space_of_each_run() {
        let mut out = String::new();
        push_folded(&mut out, "  第一\u{3000}\u{3000}段 \u{a0}text\t\n");
        assert_eq!(out, "第一 段 text ");
        push_folded(&mut out, " 后");
        assert_eq!(out, "第一 段 text 后");
        let mut out = String::from("行\n");
        push_folded(&mut out, " x");
        assert_eq!(out, "行\nx");
    }

    #[test]
    fn folding_by_bytes_knows_every_unicode_space_and_nothing_else() {
        // The definition: a run of `char::is_whitespace` is one space.
        fn by_chars(t: &str) -> String {
            let mut out = String::new();
            for c in t.chars() {
                if c.is_whitespace() {
                    if !out.is_empty() && !out.ends_with([' ', '\n']) {
                        out.push(' ');
                    }
                } else {
                    out.push(c);
                }
            }
            out
        }
        let spaces =
            ['\u{85}', '\u{a0}', '\u{1680}', '\u{2003}', '\u{200a}', '\u{2028}', '\u{202f}', '\u{205f}', '\u{3000}'];
        // Neighbours of the spaces' lead bytes that are text: ¢ (C2), ᚁ (E1), ‐ and — (E2), 、 and 。 (E3).
        let texts = ['¢', 'ᚁ', '\u{2010}', '—', '、', '。', '一', 'a', '\u{7f}', '\u{1c}'];
        let mut all: String = String::new();
        for (i, s) in spaces.iter().enumerate() {
            all.push(texts[i % texts.len()]);
            all.push(*s);
            all.push(*s);
            all.push(texts[(i + 3) % texts.len()]);
        }
        all.extend(texts);
        let mut out = String::new();
        push_folded(&mut out, &all);
        assert_eq!(out, by_chars(&all));
        assert!(out.contains("、") && out.contains("\u{1c}") && !out.contains('\u{3000}'));
    }
}
