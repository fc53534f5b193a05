//! The parse budget: what one page may cost to read. The HTML tree builder is quadratic in the
//! depth of open elements (25,000 nested `<div>` take seconds, 100,000 half a minute), and its
//! memory grows with the elements and text of a page, so a page is surveyed before it is parsed:
//! one pass over its tags (script, style and comment contents skipped), counting elements and
//! the depth of open containers. A page nested deeper than [`MAX_DEPTH`] is not parsed at all
//! (no real page comes near; a hostile one can stop a census); a page of more than
//! [`MAX_ELEMENTS`] elements is read up to that element, as a body past the size cap is.

use memchr::memchr_iter;

/// Open containers a page may nest (real government pages stay under 100).
pub const MAX_DEPTH: usize = 2048;
/// Elements a page is read to (a 10 MB page of dense table cells has about this many).
pub const MAX_ELEMENTS: usize = 300_000;

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
