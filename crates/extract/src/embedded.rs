//! Lists a page carries inside its scripts rather than its markup, put back where a browser
//! shows them: Hanweb (大汉) column pages ship their records in `<script type="text/xml">
//! <datastore>…<record><![CDATA[<li>…</li>]]></record>`, older templates `document.write` their
//! entries, newer ones draw them from a data literal (`var listData = {articleList: [{title,
//! pubDate, urls}]}`). Each list becomes markup right after its script, and the page is read
//! as a browser would show it — the same extractor then finds its items, links and dates.
//!
//! Only pages that carry such scripts pay for it: the scan for script blocks is one pass of
//! substring search, and the page is copied only when something is put back.

use std::fmt::Write as _;

use aho_corasick::AhoCorasick;
use serde::{Deserialize, Serialize};

use crate::jsvalue::{self, JsValue};

/// Where a list put back into the page came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ListSource {
    /// Hanweb's `<datastore>` records (a column page, or a `dataproxy.jsp` answer).
    HanwebDatastore,
    /// Markup written by `document.write` with string literals.
    DocumentWrite,
    /// Entries of a JavaScript data literal with titles, addresses and dates.
    DataLiteral,
}

/// A list put back into the page: where from, and how many entries it had.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScriptList {
    /// What carried it.
    pub source: ListSource,
    /// Entries (records, written links, literal entries).
    pub entries: usize,
}

/// One script block of the source: its open tag's attributes, its body, and where it ends.
struct Block<'a> {
    attrs: &'a str,
    body: &'a str,
    /// Byte offset just past `</script>`.
    end: usize,
}

static MARKERS: std::sync::LazyLock<AhoCorasick> = std::sync::LazyLock::new(|| {
    AhoCorasick::builder().ascii_case_insensitive(true).build(["<script", "<!--"]).expect("valid patterns")
});

static SCRIPT_END: std::sync::LazyLock<AhoCorasick> = std::sync::LazyLock::new(|| {
    AhoCorasick::builder().ascii_case_insensitive(true).build(["</script"]).expect("valid pattern")
});

/// The script blocks of an HTML source, as the tokenizer sees them (comments skipped).
fn blocks(src: &str) -> Vec<Block<'_>> {
    let mut out = Vec::new();
    let mut pos = 0;
    while let Some(m) = MARKERS.find(&src[pos..]) {
        let start = pos + m.start();
        if m.pattern().as_usize() == 1 {
            pos = src[start + 4..].find("-->").map_or(src.len(), |i| start + 4 + i + 3);
            continue;
        }
        let after = start + 7;
        if !src[after..].starts_with(|c: char| c.is_ascii_whitespace() || c == '>' || c == '/') {
            pos = after;
            continue;
        }
        // The end of the open tag, quoted attribute values skipped.
        let mut quote = None;
        let mut open_end = None;
        for (i, c) in src[after..].char_indices() {
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '"' | '\'') => quote = Some(c),
                (None, '>') => {
                    open_end = Some(after + i + 1);
                    break;
                }
                _ => {}
            }
        }
        let Some(body_start) = open_end else { break };
        let Some(close) = SCRIPT_END.find(&src[body_start..]) else { break };
        let body_end = body_start + close.start();
        let end = src[body_end..].find('>').map_or(src.len(), |i| body_end + i + 1);
        out.push(Block { attrs: &src[after..body_start - 1], body: &src[body_start..body_end], end });
        pos = end;
    }
    out
}

/// Escapes text for markup.
fn escape(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
}

/// The records of a Hanweb datastore, as the markup each one holds.
pub fn datastore_records(xml: &str) -> Vec<&str> {
    // Read by hand, not with an XML parser: records hold HTML in CDATA sections, and a datastore
    // with one malformed record (an unescaped `&` outside CDATA) must still give the others.
    let mut out = Vec::new();
    let mut pos = 0;
    while let Some(i) = xml[pos..].find("<record") {
        let open = pos + i;
        let Some(gt) = xml[open..].find('>') else { break };
        let body_start = open + gt + 1;
        let Some(close) = xml[body_start..].find("</record>") else { break };
        let mut body = xml[body_start..body_start + close].trim();
        if let Some(inner) = body.strip_prefix("<![CDATA[") {
            body = inner.strip_suffix("]]>").unwrap_or(inner).trim();
        }
        out.push(body);
        pos = body_start + close + 9;
    }
    out
}

/// The number a datastore says it holds in all (`<totalrecord>1928</totalrecord>`).
pub fn datastore_total(xml: &str) -> Option<usize> {
    let i = xml.find("<totalrecord>")? + 13;
    let j = xml[i..].find('<')?;
    xml[i..i + j].trim().parse().ok()
}

/// Whether a source is a datastore document (a `dataproxy.jsp` answer) rather than a page.
#[must_use]
pub fn is_datastore_document(src: &str) -> bool {
    let head = src.trim_start_matches('\u{feff}').trim_start();
    let head = if head.starts_with("<?xml") { head[head.find("?>").map_or(0, |i| i + 2)..].trim_start() } else { head };
    head.starts_with("<datastore")
}

/// Whether response bytes are a datastore document (read without decoding the whole body).
#[must_use]
pub fn is_datastore_bytes(body: &[u8]) -> bool {
    is_datastore_document(&String::from_utf8_lossy(&body[..body.len().min(512)]))
}

/// A datastore document read as the page a browser shows of it: its records in a list.
#[must_use]
pub fn datastore_page(src: &str) -> (String, Vec<ScriptList>) {
    let records = datastore_records(src);
    let mut html = String::with_capacity(src.len() + 64);
    html.push_str("<html><head><meta charset=\"utf-8\"></head><body><div class=\"datastore\">");
    for r in &records {
        html.push_str(r);
        html.push('\n');
    }
    html.push_str("</div></body></html>");
    (html, vec![ScriptList { source: ListSource::HanwebDatastore, entries: records.len() }])
}

/// The literal strings `document.write` calls of a script write, joined; None when a call writes
/// anything but string literals (it cannot be known without running the script).
fn written(script: &str) -> Option<String> {
    let mut out = String::new();
    let mut pos = 0;
    let mut any = false;
    while let Some(i) = script[pos..].find("document.write") {
        let mut p = pos + i + "document.write".len();
        if script[p..].starts_with("ln") {
            p += 2;
        }
        let rest = script[p..].trim_start();
        let Some(args) = rest.strip_prefix('(') else {
            pos = p;
            continue;
        };
        let args_at = script.len() - args.len();
        let mut parts = String::new();
        let mut ok = false;
        let mut cursor = args_at;
        loop {
            let tail = script[cursor..].trim_start();
            cursor = script.len() - tail.len();
            let Some((s, next)) = jsvalue::string_at(script, cursor) else { break };
            parts.push_str(&s);
            cursor = next;
            let tail = script[cursor..].trim_start();
            cursor = script.len() - tail.len();
            if let Some(t) = tail.strip_prefix('+') {
                cursor = script.len() - t.len();
                continue;
            }
            ok = tail.starts_with(')');
            break;
        }
        pos = cursor.max(p);
        if ok {
            any = true;
            out.push_str(&parts);
        }
    }
    (any && out.contains('<')).then_some(out)
}

/// Keys that name an entry's title, date and address in data literals, lowercase.
const TITLE_KEYS: &[&str] =
    &["title", "name", "t", "at", "bt", "tit", "subject", "headline", "doctitle", "mc", "biaoti"];
const DATE_KEYS: &[&str] = &[
    "date",
    "time",
    "pubdate",
    "publishdate",
    "publish_date",
    "pubtime",
    "publishtime",
    "releasedate",
    "releasetime",
    "createtime",
    "createdate",
    "apd",
    "fbrq",
    "fbsj",
    "rq",
    "showtime",
    "docreltime",
    "docpubtime",
    "updatetime",
    "ctime",
    "pd",
];
const URL_KEYS: &[&str] = &["url", "urls", "href", "link", "au", "path", "docpuburl", "pc", "puburl", "detailurl"];

fn looks_like_address(s: &str) -> bool {
    let s = s.trim();
    !s.contains(char::is_whitespace)
        && (s.starts_with('/')
            || s.starts_with("http://")
            || s.starts_with("https://")
            || s.starts_with("./")
            || s.starts_with("../")
            || [".html", ".htm", ".shtml", ".jsp", ".php", ".aspx", ".asp"].iter().any(|e| s.contains(e)))
}

/// The address an entry names: under an address key (`urls: {pc: …}` and JSON in a string
/// included), else any string that looks like one.
fn address_of(fields: &[(String, JsValue)]) -> Option<String> {
    let keyed = |k: &str| URL_KEYS.contains(&k.to_ascii_lowercase().as_str());
    for (_, v) in fields.iter().filter(|(k, _)| keyed(k)) {
        match v {
            JsValue::Str(s) if looks_like_address(s) => return Some(s.trim().to_owned()),
            JsValue::Str(s) if s.trim_start().starts_with('{') => {
                if let Some(JsValue::Obj(inner)) = jsvalue::parse(s)
                    && let Some(u) = address_of(&inner)
                {
                    return Some(u);
                }
            }
            JsValue::Obj(inner) => {
                if let Some(u) = address_of(inner) {
                    return Some(u);
                }
            }
            _ => {}
        }
    }
    fields.iter().find_map(|(_, v)| match v {
        JsValue::Str(s) if looks_like_address(s) && !s.starts_with("data:") => Some(s.trim().to_owned()),
        _ => None,
    })
}

fn strip_tags(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut tag = false;
    for c in s.chars() {
        match c {
            '<' => tag = true,
            '>' if tag => tag = false,
            _ if !tag => out.push(c),
            _ => {}
        }
    }
    out.trim().to_owned()
}

fn has_cjk(s: &str) -> bool {
    s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

/// A date a value holds: a date string, or a timestamp in seconds or milliseconds.
fn date_of(v: &JsValue) -> Option<String> {
    match v {
        JsValue::Str(s) => crate::dates::first_full_date(s).filter(|f| f.start <= 2).map(|f| f.to_text()),
        JsValue::Num(n) => {
            let n: i64 = n.parse().ok()?;
            let secs = if n > 100_000_000_000 { n / 1000 } else { n };
            (900_000_000..4_000_000_000)
                .contains(&secs)
                .then(|| chrono::DateTime::from_timestamp(secs + 8 * 3600, 0))
                .flatten()
                .map(|d| d.format("%Y-%m-%d").to_string())
        }
        _ => None,
    }
}

/// An entry of a data literal: title, address and date, when it has a title and an address.
fn entry_of(fields: &[(String, JsValue)]) -> Option<(String, String, Option<String>)> {
    let key_is = |k: &str, keys: &[&str]| keys.contains(&k.to_ascii_lowercase().as_str());
    let title = fields
        .iter()
        .find_map(|(k, v)| match v {
            JsValue::Str(s) if key_is(k, TITLE_KEYS) && !strip_tags(s).is_empty() => Some(strip_tags(s)),
            _ => None,
        })
        .or_else(|| {
            fields
                .iter()
                .filter_map(|(_, v)| match v {
                    JsValue::Str(s) if has_cjk(s) && !looks_like_address(s) => Some(strip_tags(s)),
                    _ => None,
                })
                .filter(|s| s.chars().count() >= 4)
                .max_by_key(|s| s.chars().count())
        })?;
    let url = address_of(fields)?;
    let date = fields
        .iter()
        .filter(|(k, _)| key_is(k, DATE_KEYS))
        .find_map(|(_, v)| date_of(v))
        .or_else(|| fields.iter().find_map(|(_, v)| matches!(v, JsValue::Str(_)).then(|| date_of(v)).flatten()));
    Some((title, url, date))
}

/// The entries of a script's data literals: arrays of objects with a title and an address, at
/// least one of them dated.
fn literal_entries(script: &str) -> Vec<(String, String, Option<String>)> {
    let mut out = Vec::new();
    for arr in jsvalue::arrays(script) {
        collect_entries(&arr, &mut out, 0);
    }
    out
}

fn collect_entries(v: &JsValue, out: &mut Vec<(String, String, Option<String>)>, depth: usize) {
    if depth > 8 {
        return;
    }
    match v {
        JsValue::Arr(items) => {
            let entries: Vec<_> =
                items.iter().filter_map(|i| if let JsValue::Obj(f) = i { entry_of(f) } else { None }).collect();
            if entries.iter().any(|e| e.2.is_some()) {
                out.extend(entries);
            } else {
                for i in items {
                    collect_entries(i, out, depth + 1);
                }
            }
        }
        JsValue::Obj(fields) => {
            for (_, f) in fields {
                collect_entries(f, out, depth + 1);
            }
        }
        _ => {}
    }
}

/// A list's markup, as a browser shows a drawn list.
fn list_markup(entries: &[(String, String, Option<String>)]) -> String {
    let mut html = String::from("<ul class=\"sitecensus-script-list\">");
    for (title, url, date) in entries {
        html.push_str("<li><a href=\"");
        escape(url, &mut html);
        html.push_str("\">");
        escape(title, &mut html);
        html.push_str("</a>");
        if let Some(d) = date {
            let _ = write!(html, " <span>{d}</span>");
        }
        html.push_str("</li>");
    }
    html.push_str("</ul>");
    html
}

/// What to put back after one script, if anything.
fn list_of(block: &Block<'_>) -> Option<(String, ScriptList)> {
    let attrs = block.attrs.to_ascii_lowercase();
    if attrs.contains("src=") {
        return None;
    }
    let body = block.body;
    if attrs.contains("xml") || body.trim_start().starts_with("<datastore") {
        if !body.contains("<datastore") {
            return None;
        }
        let records = datastore_records(body);
        if records.is_empty() {
            return None;
        }
        let html: String = records.iter().flat_map(|r| [*r, "\n"]).collect();
        return Some((html, ScriptList { source: ListSource::HanwebDatastore, entries: records.len() }));
    }
    if body.contains("document.write")
        && let Some(html) = written(body)
    {
        let entries = html.matches("<a ").count() + html.matches("<A ").count();
        return Some((html, ScriptList { source: ListSource::DocumentWrite, entries }));
    }
    if body.contains("[{") || body.contains("[ {") || body.contains("[\n") {
        let entries = literal_entries(body);
        if !entries.is_empty() {
            return Some((
                list_markup(&entries),
                ScriptList { source: ListSource::DataLiteral, entries: entries.len() },
            ));
        }
    }
    None
}

/// Whether a source holds what a script that carries a list contains (a datastore, a
/// `document.write`, an array of objects); a page with none of these is not scanned.
fn may_carry(src: &str) -> bool {
    let b = src.as_bytes();
    if memchr::memmem::find(b, b"<datastore").is_some() || memchr::memmem::find(b, b"document.write").is_some() {
        return true;
    }
    memchr::memchr_iter(b'[', b).any(|i| b[i + 1..].iter().find(|c| !c.is_ascii_whitespace()) == Some(&b'{'))
}

/// The page source with its script-carried lists put back after their scripts, and what was put
/// back; None when the page carries none.
#[must_use]
pub fn restore(src: &str) -> Option<(String, Vec<ScriptList>)> {
    // The hot path: most pages carry no list in a script, and one search says so.
    if !may_carry(src) {
        return None;
    }
    let mut splices: Vec<(usize, String)> = Vec::new();
    let mut lists = Vec::new();
    for b in blocks(src) {
        if let Some((html, list)) = list_of(&b) {
            splices.push((b.end, html));
            // Written markup without links (a style, a banner) is put back but is no list.
            if list.entries > 0 {
                lists.push(list);
            }
        }
    }
    if splices.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(src.len() + splices.iter().map(|(_, h)| h.len()).sum::<usize>());
    let mut at = 0;
    for (end, html) in splices {
        out.push_str(&src[at..end]);
        out.push_str(&html);
        at = end;
    }
    out.push_str(&src[at..]);
    Some((out, lists))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_blocks_skip_comments_and_read_attributes() {
        let src = "<!-- <script>document.write('<a href=x>no</a>')</script> --><SCRIPT type=\"text/xml\" data-x='a>b'>\
                   <datastore></datastore></SCRIPT><p>x</p><script>var a=1;</script >";
        let b = blocks(src);
        assert_eq!(b.len(), 2);
        assert!(b[0].attrs.contains("text/xml"));
        assert_eq!(b[0].body, "<datastore></datastore>");
        assert_eq!(&src[b[0].end..b[0].end + 3], "<p>");
        assert_eq!(b[1].body, "var a=1;");
    }

    #[test]
    fn document_write_of_literals_only() {
        assert_eq!(
            written("document.write('<li><a href=\"/a.html\">' + \"标题\" + '</a></li>');").as_deref(),
            Some("<li><a href=\"/a.html\">标题</a></li>")
        );
        assert_eq!(written("document.write('<a href=\"' + url + '\">x</a>')"), None);
        assert_eq!(written("document.write('2024-07-10')"), None);
    }

    #[test]
    fn data_literal_entries() {
        let e = literal_entries(
            "var itemObj = [{aT:'关于开展2024年安全生产检查的通知', aPd:'2024-07-08 10:00:00', aU:'/zwgk/tzgg/202407/t20240708_9.html'},\
             {aT:'第二条', aPd:1720540800000, aU:'/zwgk/tzgg/202407/t20240709_8.html'}];",
        );
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].2.as_deref(), Some("2024-07-08 10:00"));
        assert_eq!(e[1].2.as_deref(), Some("2024-07-10"));
        // A menu of links with no dates is no list.
        assert!(literal_entries("var nav=[{name:'首页',url:'/'},{name:'政务公开',url:'/zwgk/'}];").is_empty());
    }
}
