//! The parse budget: what one page may cost to read. The HTML tree builder is quadratic in the
//! depth of open elements (25,000 nested `<div>` take seconds, 100,000 half a minute), and its
//! memory grows with the elements and text of a page, so a page is surveyed before it is parsed:
//! one pass over its tags (script, style and comment contents skipped), counting elements and
//! the depth of open containers. A page nested deeper than [`MAX_DEPTH`] is not parsed at all
//! (no real page comes near; a hostile one can stop a census); a page of more than
//! [`MAX_ELEMENTS`] elements is read up to that element, as a body past the size cap is.
//!
//! The survey cannot see what the tree builder adds on its own: formatting elements it
//! re-opens after every block (a 46 KB page of misnested `<b>` makes three million elements),
//! or end tags it matches against the whole stack. So the parse itself is bounded too
//! ([`parse`]): past [`MAX_CREATED`] elements or [`MAX_PARSE_TIME`] it stops, and the page is
//! read as far as it got.

use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::rc::Rc;
use std::time::{Duration, Instant};

use html5ever::tendril::{StrTendril, TendrilSink};
use html5ever::tree_builder::{ElementFlags, NodeOrText, QuirksMode, TreeSink};
use html5ever::{Attribute, QualName};
use memchr::memchr_iter;
use scraper::{Html, HtmlTreeSink};

/// Open containers a page may nest (real government pages stay under 100).
pub const MAX_DEPTH: usize = 2048;
/// Elements a page is read to (a 10 MB page of dense table cells has about this many).
pub const MAX_ELEMENTS: usize = 300_000;

/// Elements the tree builder may create for one page: the surveyed elements, doubled for the
/// ones it re-creates itself.
pub const MAX_CREATED: usize = 2 * MAX_ELEMENTS;
/// Time one page may take to parse (a 10 MB page of real markup takes well under a second).
pub const MAX_PARSE_TIME: Duration = Duration::from_secs(5);

/// Why a parse stopped before the end of the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stopped {
    /// The tree builder made [`MAX_CREATED`] elements.
    Elements,
    /// The parse ran [`MAX_PARSE_TIME`].
    Time,
}

impl Stopped {
    /// Why, in words for the page's `parse_note`.
    #[must_use]
    pub fn describe(self) -> String {
        match self {
            Stopped::Elements => format!(
                "read until the parser had made {MAX_CREATED} elements (the parse budget; the markup makes \
                 the parser re-create elements over and over)"
            ),
            Stopped::Time => {
                format!("read for {} s, then stopped (the parse budget)", MAX_PARSE_TIME.as_secs())
            }
        }
    }
}

/// Parses a document within the budget: the tree as far as the parser got, and why it stopped
/// early if it did.
#[must_use]
pub fn parse(src: &str) -> (Html, Option<Stopped>) {
    parse_within(src, MAX_CREATED, MAX_PARSE_TIME)
}

/// [`parse`] with the limits given.
fn parse_within(src: &str, max_created: usize, max_time: Duration) -> (Html, Option<Stopped>) {
    let tree = Rc::new(HtmlTreeSink::new(Html::new_document()));
    let sink = Budgeted {
        inner: tree.clone(),
        created: Cell::new(0),
        ticks: Cell::new(0),
        max_created,
        max_time,
        started: Instant::now(),
    };
    // html5ever cannot be told to stop from its sink, so the sink unwinds out of it (without the
    // panic hook: this is control flow, not an error) and the tree built so far is kept.
    let stopped =
        match catch_unwind(AssertUnwindSafe(|| html5ever::driver::parse_document(sink, Default::default()).one(src))) {
            Ok(()) => None,
            Err(payload) => match payload.downcast::<Stopped>() {
                Ok(why) => Some(*why),
                Err(other) => resume_unwind(other),
            },
        };
    let html = Rc::try_unwrap(tree).map_or_else(|_| Html::new_document(), |t| t.0.into_inner());
    (html, stopped)
}

/// scraper's tree sink, counting what the tree builder makes and how long it takes.
struct Budgeted {
    inner: Rc<HtmlTreeSink>,
    created: Cell<usize>,
    ticks: Cell<u32>,
    max_created: usize,
    max_time: Duration,
    started: Instant,
}

impl Budgeted {
    /// One unit of tree-builder work; the clock is read every 256.
    fn tick(&self) {
        let t = self.ticks.get().wrapping_add(1);
        self.ticks.set(t);
        if t.is_multiple_of(256) && self.started.elapsed() > self.max_time {
            resume_unwind(Box::new(Stopped::Time));
        }
    }

    fn create(&self) {
        let n = self.created.get() + 1;
        self.created.set(n);
        if n > self.max_created {
            resume_unwind(Box::new(Stopped::Elements));
        }
        self.tick();
    }
}

impl TreeSink for Budgeted {
    type Output = ();
    type Handle = <HtmlTreeSink as TreeSink>::Handle;
    type ElemName<'a> = <HtmlTreeSink as TreeSink>::ElemName<'a>;

    fn finish(self) {}
    fn parse_error(&self, msg: std::borrow::Cow<'static, str>) {
        self.tick();
        self.inner.parse_error(msg);
    }
    fn get_document(&self) -> Self::Handle {
        self.inner.get_document()
    }
    fn elem_name<'a>(&'a self, target: &'a Self::Handle) -> Self::ElemName<'a> {
        self.inner.elem_name(target)
    }
    fn create_element(&self, name: QualName, attrs: Vec<Attribute>, flags: ElementFlags) -> Self::Handle {
        self.create();
        self.inner.create_element(name, attrs, flags)
    }
    fn create_comment(&self, text: StrTendril) -> Self::Handle {
        self.create();
        self.inner.create_comment(text)
    }
    fn create_pi(&self, target: StrTendril, data: StrTendril) -> Self::Handle {
        self.create();
        self.inner.create_pi(target, data)
    }
    fn append(&self, parent: &Self::Handle, child: NodeOrText<Self::Handle>) {
        self.tick();
        self.inner.append(parent, child);
    }
    fn append_based_on_parent_node(
        &self,
        element: &Self::Handle,
        prev_element: &Self::Handle,
        child: NodeOrText<Self::Handle>,
    ) {
        self.tick();
        self.inner.append_based_on_parent_node(element, prev_element, child);
    }
    fn append_doctype_to_document(&self, name: StrTendril, public_id: StrTendril, system_id: StrTendril) {
        self.inner.append_doctype_to_document(name, public_id, system_id);
    }
    fn mark_script_already_started(&self, node: &Self::Handle) {
        self.inner.mark_script_already_started(node);
    }
    fn pop(&self, node: &Self::Handle) {
        self.tick();
        self.inner.pop(node);
    }
    fn get_template_contents(&self, target: &Self::Handle) -> Self::Handle {
        self.inner.get_template_contents(target)
    }
    fn same_node(&self, x: &Self::Handle, y: &Self::Handle) -> bool {
        self.inner.same_node(x, y)
    }
    fn set_quirks_mode(&self, mode: QuirksMode) {
        self.inner.set_quirks_mode(mode);
    }
    fn append_before_sibling(&self, sibling: &Self::Handle, new_node: NodeOrText<Self::Handle>) {
        self.tick();
        self.inner.append_before_sibling(sibling, new_node);
    }
    fn add_attrs_if_missing(&self, target: &Self::Handle, attrs: Vec<Attribute>) {
        self.inner.add_attrs_if_missing(target, attrs);
    }
    fn associate_with_form(
        &self,
        target: &Self::Handle,
        form: &Self::Handle,
        nodes: (&Self::Handle, Option<&Self::Handle>),
    ) {
        self.inner.associate_with_form(target, form, nodes);
    }
    fn remove_from_parent(&self, target: &Self::Handle) {
        self.tick();
        self.inner.remove_from_parent(target);
    }
    fn reparent_children(&self, node: &Self::Handle, new_parent: &Self::Handle) {
        self.tick();
        self.inner.reparent_children(node, new_parent);
    }
    fn is_mathml_annotation_xml_integration_point(&self, handle: &Self::Handle) -> bool {
        self.inner.is_mathml_annotation_xml_integration_point(handle)
    }
}

/// What the survey found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Survey {
    /// Within the budget.
    Fits,
    /// More elements than the budget: read up to this byte offset (where element
    /// [`MAX_ELEMENTS`] begins).
    CutAt(usize),
    /// Nested deeper than the budget: not to be parsed.
    TooDeep,
}

/// Elements whose contents are text to the tokenizer (their tags inside are not tags).
const RAW_TEXT: &[&[u8]] = &[b"script", b"style", b"textarea", b"title", b"xmp", b"iframe", b"noembed", b"noframes"];

/// Elements that nest and stay open until closed: the ones a hostile page can stack.
const CONTAINERS: &[&[u8]] = &[
    b"div",
    b"span",
    b"table",
    b"section",
    b"article",
    b"font",
    b"b",
    b"i",
    b"u",
    b"a",
    b"em",
    b"strong",
    b"ul",
    b"ol",
    b"dl",
    b"blockquote",
    b"center",
    b"form",
    b"nav",
    b"header",
    b"footer",
    b"aside",
    b"main",
    b"small",
    b"big",
    b"sub",
    b"sup",
    b"s",
    b"strike",
    b"label",
    b"fieldset",
    b"object",
    b"tt",
    b"code",
    b"pre",
    b"q",
    b"abbr",
    b"cite",
    b"del",
    b"ins",
    b"mark",
    b"figure",
    b"details",
    b"summary",
    b"marquee",
    b"svg",
    b"math",
];

fn tag_name(rest: &[u8]) -> &[u8] {
    let end = rest.iter().position(|b| !(b.is_ascii_alphanumeric() || *b == b'-' || *b == b':')).unwrap_or(rest.len());
    &rest[..end]
}

fn is(name: &[u8], list: &[&[u8]]) -> bool {
    list.iter().any(|l| name.eq_ignore_ascii_case(l))
}

/// Surveys an HTML source against the budget.
#[must_use]
pub fn survey(src: &str) -> Survey {
    let b = src.as_bytes();
    let mut elements = 0usize;
    let mut depth = 0usize;
    let mut skip_to = 0usize;
    for i in memchr_iter(b'<', b) {
        if i < skip_to {
            continue;
        }
        let rest = &b[i + 1..];
        if rest.starts_with(b"!--") {
            skip_to = memchr::memmem::find(&rest[3..], b"-->").map_or(b.len(), |j| i + 4 + j + 3);
            continue;
        }
        let (closing, name_at) = if rest.first() == Some(&b'/') { (true, &rest[1..]) } else { (false, rest) };
        let name = tag_name(name_at);
        if name.is_empty() || !name[0].is_ascii_alphabetic() {
            continue;
        }
        if closing {
            if is(name, CONTAINERS) {
                depth = depth.saturating_sub(1);
            }
            continue;
        }
        elements += 1;
        if elements > MAX_ELEMENTS {
            return Survey::CutAt(i);
        }
        if is(name, RAW_TEXT) {
            // Its contents run to its end tag.
            let mut end_tag = Vec::with_capacity(name.len() + 2);
            end_tag.extend_from_slice(b"</");
            end_tag.extend(name.iter().map(u8::to_ascii_lowercase));
            let lower_rest = &b[i..];
            skip_to = find_ignore_case(lower_rest, &end_tag).map_or(b.len(), |j| i + j);
            continue;
        }
        if is(name, CONTAINERS) {
            // A container closed in its own tag (<div/>) opens nothing in HTML, but stays open:
            // the tree builder ignores the slash, and so does the count.
            depth += 1;
            if depth > MAX_DEPTH {
                return Survey::TooDeep;
            }
        }
    }
    Survey::Fits
}

/// The first position of `needle` (lowercase ASCII) in `hay`, ignoring ASCII case.
fn find_ignore_case(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let first = needle[0];
    memchr_iter(first, hay)
        .find(|&i| hay.len() >= i + needle.len() && hay[i..i + needle.len()].eq_ignore_ascii_case(needle))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_parse_stops_at_its_budget_and_keeps_what_it_read() {
        // Real markup parses whole.
        let (html, stopped) = parse("<html><body><p>一</p><div><b>二</b></div></body></html>");
        assert_eq!(stopped, None);
        assert_eq!(html.root_element().text().collect::<String>(), "一二");
        // A thousand formatting elements re-opened after every block: the survey sees a small
        // page, the parser makes millions of elements. It stops at the budget.
        let bomb = format!(
            "<p>开头</p><div>{}</div>{}",
            (0..1000).map(|i| format!("<b id={i}>")).collect::<String>(),
            "<div>x</div>".repeat(3000)
        );
        assert_eq!(survey(&bomb), Survey::Fits);
        let (html, stopped) = parse(&bomb);
        assert_eq!(stopped, Some(Stopped::Elements));
        assert!(html.tree.nodes().filter(|n| n.value().is_element()).count() <= MAX_CREATED);
        assert!(html.root_element().text().collect::<String>().starts_with("开头"));
        // End tags matched against a deep stack of inline elements: slow, so stopped by time.
        let slow = format!("<p>开头</p>{}{}", "<span>".repeat(2000), "</x>".repeat(200_000));
        let (html, stopped) = parse_within(&slow, MAX_CREATED, Duration::from_millis(1));
        assert_eq!(stopped, Some(Stopped::Time));
        assert!(html.root_element().text().collect::<String>().starts_with("开头"));
    }

    #[test]
    fn real_markup_fits_and_hostile_nesting_does_not() {
        let page = "<html><body><div><table><tr><td><a href=x>一</a></td></tr></table><p>二<p>三</div></body></html>";
        assert_eq!(survey(page), Survey::Fits);
        let deep = "<div>".repeat(MAX_DEPTH + 1);
        assert_eq!(survey(&deep), Survey::TooDeep);
        // Closed as it goes, any number nests nothing.
        assert_eq!(survey(&"<div></div>".repeat(MAX_DEPTH * 2)), Survey::Fits);
        // Tags inside scripts, styles and comments are not tags.
        let scripted =
            format!("<script>document.write('{}')</script><!-- {} -->", "<div>".repeat(5000), "<b>".repeat(5000));
        assert_eq!(survey(&scripted), Survey::Fits);
        // Paragraphs close each other: a flood of them is elements, not depth.
        let flood = "<p>一".repeat(MAX_ELEMENTS + 10);
        assert!(matches!(survey(&flood), Survey::CutAt(at) if at == "<p>一".len() * MAX_ELEMENTS));
    }
}
