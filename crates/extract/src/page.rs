//! Building the page model: decode, parse once, walk the flat DOM once, then the regions.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use scraper::Html;
use sitecensus_core::LinkKind;
use sitecensus_core::finding::clip;
use sitecensus_core::urlnorm::{self, HrefError};
use url::Url;

use crate::decode::{self, Decoded};
use crate::dom::{Dom, Kind, push_folded};
use crate::embedded::{self, ScriptList};
use crate::fields;
use crate::items::{self, AnchorInfo};
use crate::model::{Form, FormField, Image, InvalidLink, Link, Page, PageKind, Via};
use crate::{budget, cms, dates, regions, script};

/// The national page-design meta tags (网页设计规范), by their canonical spelling.
pub const NATIONAL_META: &[&str] = &[
    "SiteName",
    "SiteDomain",
    "SiteIDCode",
    "ColumnName",
    "ColumnDescription",
    "ColumnKeywords",
    "ColumnType",
    "ArticleTitle",
    "PubDate",
    "ContentSource",
    "Keywords",
    "Author",
    "Description",
    "Image",
    "Url",
];

/// Meta names other CMSs use for an article's publication date.
const PUBDATE_META: &[&str] = &[
    "pubdate",
    "publishdate",
    "publish_date",
    "publishtime",
    "article:published_time",
    "firstpublishedtime",
    "og:release_date",
    "dc.date",
    "dcterms.created",
];

/// Extensions of files a citizen downloads rather than reads as a page.
pub const DOWNLOAD_EXTENSIONS: &[&str] = &[
    "doc", "docx", "xls", "xlsx", "et", "pdf", "wps", "ofd", "zip", "rar", "7z", "ppt", "pptx", "dps", "txt", "csv",
    "ceb", "caj", "tif", "tiff", "mp3", "mp4", "avi", "flv", "wmv", "swf", "apk", "exe", "gz", "xml",
];

const IMAGE_EXTENSIONS: &[&str] = &["jpg", "jpeg", "png", "gif", "bmp", "webp", "svg", "ico"];

/// Pages of a list that a pager script names, taken at most.
const MAX_PAGER_PAGES: usize = 200;

/// Texts of the links that page through a list.
const PAGER_TEXTS: &[&str] = &[
    "下一页",
    "下页",
    "上一页",
    "上页",
    "尾页",
    "末页",
    "最后一页",
    "后页",
    "前页",
    "首页",
    "next",
    "下一页>",
    ">",
    ">>",
    "»",
    "›",
];

/// Whether an anchor pages through the list it sits under: a pager word, or a bare page number
/// inside an element named like a pager.
fn is_pager_link(dom: &Dom, anchor: u32, text: &str) -> bool {
    let t = text.trim();
    if t.is_empty() || t.chars().count() > 6 {
        return false;
    }
    let in_pager = || {
        dom.ancestors(anchor)
            .take(3)
            .any(|a| items::id_class_has(&dom.nodes[a as usize], &["page", "pag", "fenye", "fy", "pager"]))
    };
    if t == "首页" {
        // "首页" is the homepage link far more often than the first page of a list.
        return in_pager();
    }
    PAGER_TEXTS.iter().any(|p| t.eq_ignore_ascii_case(p)) || (t.chars().all(|c| c.is_ascii_digit()) && in_pager())
}

/// Longest link text kept in the model.
const LINK_TEXT_CHARS: usize = 200;

/// Settings of one extraction.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// "Today", for dates written without a year.
    pub as_of: NaiveDate,
    /// Whether the page is the site's homepage; None lets the URL decide.
    pub homepage: Option<bool>,
}

/// Extracts the page model from response bytes.
#[must_use]
pub fn extract(bytes: &[u8], content_type: Option<&str>, url: &Url, opts: &Options) -> Page {
    analyze(bytes, content_type, url, opts, |_, _| ()).0
}

/// Extracts the page model and runs `f` over the model and the DOM while the DOM is alive
/// (page-level checks need both: hidden elements need ancestors).
pub fn analyze<R>(
    bytes: &[u8],
    content_type: Option<&str>,
    url: &Url,
    opts: &Options,
    f: impl FnOnce(&Page, &Dom) -> R,
) -> (Page, R) {
    let mut decoded = decode::decode_for(bytes, content_type, url.host_str());
    // NUL characters are dropped by the tree builder anyway; a page of them costs a lot on the way.
    if memchr::memchr(0, decoded.text.as_bytes()).is_some() {
        decoded.text.retain(|c| c != '\0');
    }
    let parse_note = match budget::survey(&decoded.text) {
        budget::Survey::Fits => None,
        budget::Survey::CutAt(at) => {
            decoded.text.truncate(at);
            Some(format!("read up to its {}th element (the parse budget)", budget::MAX_ELEMENTS))
        }
        budget::Survey::TooDeep => return unparsable(&decoded, url, opts, f),
    };
    // Lists carried by scripts are put back where a browser shows them; a Hanweb datastore
    // answer is read as the list it is.
    let (source, lists) = if embedded::is_datastore_document(&decoded.text) {
        let (html, lists) = embedded::datastore_page(&decoded.text);
        (std::borrow::Cow::Owned(html), lists)
    } else {
        match embedded::restore(&decoded.text) {
            Some((html, lists)) => (std::borrow::Cow::Owned(html), lists),
            None => (std::borrow::Cow::Borrowed(decoded.text.as_str()), Vec::new()),
        }
    };
    let (html, stopped) = budget::parse(&source);
    let dom = Dom::build(&html);
    let mut page = build(&dom, &decoded, &source, lists, url, opts);
    page.parse_note = stopped.map(budget::Stopped::describe).or(parse_note);
    let r = f(&page, &dom);
    (page, r)
}

/// The model of a page nested past the parse budget: nothing read off it but why.
fn unparsable<R>(decoded: &Decoded, url: &Url, opts: &Options, f: impl FnOnce(&Page, &Dom) -> R) -> (Page, R) {
    let html = Html::parse_document("");
    let dom = Dom::build(&html);
    let mut page = build(&dom, decoded, "", Vec::new(), url, opts);
    page.unparsable = Some(format!(
        "its elements are nested more than {} deep: not parsed (the parse budget; no real page comes near)",
        budget::MAX_DEPTH
    ));
    let r = f(&page, &dom);
    (page, r)
}

/// Extracts the page model from a page as a browser drew it (headless Chromium's document):
/// its scripts have run, so nothing is put back, and the model is marked `rendered`. The
/// encoding reported is the one the page was served in.
pub fn analyze_rendered<R>(
    html: &str,
    served_encoding: &str,
    url: &Url,
    opts: &Options,
    f: impl FnOnce(&Page, &Dom) -> R,
) -> (Page, R) {
    let decoded = Decoded {
        text: String::new(),
        encoding: encoding_rs::Encoding::for_label(served_encoding.as_bytes()).unwrap_or(encoding_rs::UTF_8),
        source: decode::EncodingSource::Meta,
        declared: None,
        had_errors: false,
    };
    if budget::survey(html) != budget::Survey::Fits {
        let (mut page, r) = unparsable(&decoded, url, opts, f);
        page.rendered = true;
        return (page, r);
    }
    let (parsed, stopped) = budget::parse(html);
    let dom = Dom::build(&parsed);
    let mut page = build(&dom, &decoded, html, Vec::new(), url, opts);
    page.rendered = true;
    page.parse_note = stopped.map(budget::Stopped::describe);
    let r = f(&page, &dom);
    (page, r)
}

fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len().min(256));
    push_folded(&mut out, s);
    out.trim().to_owned()
}

/// XML namespace names: they look like links in markup but nobody follows them.
const NAMESPACE_URLS: &[&str] = &[
    "http://www.w3.org/2000/svg",
    "http://www.w3.org/1999/xhtml",
    "http://www.w3.org/1999/xlink",
    "http://www.w3.org/XML/1998/namespace",
];

struct LinkSet<'e> {
    links: Vec<Link>,
    /// Indices into `links`, hashed by (address, kind, hidden): a page's 400 links are told apart
    /// without a second copy of each address.
    seen: hashbrown::HashTable<u32>,
    invalid: Vec<InvalidLink>,
    encoder: Option<urlnorm::QueryEncoder<'e>>,
}

/// The hash a link is told apart by in [`LinkSet::seen`].
fn link_hash(url: &str, kind: LinkKind, hidden: bool) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = rustc_hash::FxHasher::default();
    url.hash(&mut h);
    (kind as u8).hash(&mut h);
    hidden.hash(&mut h);
    h.finish()
}

impl LinkSet<'_> {
    fn resolve(&self, base: &Url, href: &str) -> Result<Url, HrefError> {
        urlnorm::resolve_encoded(base, href, self.encoder)
    }

    fn add(
        &mut self,
        base: &Url,
        href: &str,
        text: &str,
        kind: LinkKind,
        (hidden, nav): (bool, bool),
        via: Option<Via>,
    ) -> Option<Url> {
        match self.resolve(base, href) {
            Ok(u) if NAMESPACE_URLS.contains(&u.as_str().trim_end_matches('/')) => None,
            Ok(u) => {
                let kind = refine_kind(&u, kind);
                let LinkSet { links, seen, .. } = self;
                let hash = link_hash(u.as_str(), kind, hidden);
                let same = |i: &u32| {
                    let l = &links[*i as usize];
                    l.url == u.as_str() && l.kind == kind && l.hidden == hidden
                };
                if seen.find(hash, same).is_none() {
                    seen.insert_unique(hash, links.len() as u32, |i| {
                        let l = &links[*i as usize];
                        link_hash(&l.url, l.kind, l.hidden)
                    });
                    links.push(Link {
                        url: u.as_str().to_owned(),
                        text: clip(text, LINK_TEXT_CHARS),
                        kind,
                        hidden,
                        nav,
                        via,
                    });
                }
                Some(u)
            }
            Err(HrefError::Invalid(reason)) => {
                if self.invalid.len() < 1000 {
                    self.invalid.push(InvalidLink { href: clip(href, 300), text: clip(text, LINK_TEXT_CHARS), reason });
                }
                None
            }
            Err(_) => None,
        }
    }
}

/// A hyperlink to a .pdf is a download and to a .jpg an image, whatever element carries it.
fn refine_kind(url: &Url, kind: LinkKind) -> LinkKind {
    if kind != LinkKind::Page {
        return kind;
    }
    match urlnorm::extension_as_written(url) {
        Some(ext) if DOWNLOAD_EXTENSIONS.iter().any(|d| d.eq_ignore_ascii_case(ext)) => LinkKind::Download,
        Some(ext) if IMAGE_EXTENSIONS.iter().any(|d| d.eq_ignore_ascii_case(ext)) => LinkKind::Image,
        _ => kind,
    }
}

fn build(dom: &Dom, decoded: &Decoded, source: &str, script_lists: Vec<ScriptList>, url: &Url, opts: &Options) -> Page {
    let base = dom
        .elements_named("base")
        .find_map(|i| dom.nodes[i as usize].attr("href"))
        .and_then(|h| url.join(h.trim()).ok())
        .unwrap_or_else(|| url.clone());

    let mut title = String::new();
    let mut meta = BTreeMap::new();
    let mut viewport = None;
    let mut pubdate_meta: Option<String> = None;
    let encoding = decoded.encoding;
    let encode = query_encoder(encoding);
    let legacy = encoding != encoding_rs::UTF_8;
    let mut set = LinkSet {
        links: Vec::new(),
        seen: hashbrown::HashTable::new(),
        invalid: Vec::new(),
        encoder: if legacy { Some(&encode) } else { None },
    };
    let mut anchors: Vec<AnchorInfo> = Vec::new();
    let mut images = Vec::new();
    let mut forms = Vec::new();
    let mut script_dates: Vec<dates::Found> = Vec::new();
    let mut pagination: Vec<String> = Vec::new();
    let mut nav_until = 0u32;
    let mut script_site_code = None;
    let mut script_hosts: Vec<String> = Vec::new();
    let mut responsive = false;
    let mut images_missing_alt = 0usize;
    // What tells the page's CMS, and which scripts may draw what the markup does not hold.
    let mut generator: Vec<String> = Vec::new();
    let mut script_srcs: Vec<String> = Vec::new();
    let mut assets: Vec<String> = Vec::new();
    let mut drawing: Vec<String> = Vec::new();
    // A framework's template (v-for="item in list"): looked for element by element only where the
    // source names one.
    let framework =
        ["v-for", "ng-repeat", "x-for"].iter().any(|w| memchr::memmem::find(source.as_bytes(), w.as_bytes()).is_some());
    let mut templated = false;
    let mut empty_lists = 0usize;

    for i in 0..dom.nodes.len() as u32 {
        let n = &dom.nodes[i as usize];
        let Kind::Element(e) = n.kind else { continue };
        let tag = n.tag();
        if i >= nav_until && (tag == "nav" || items::id_class_has(n, &["nav", "menu", "daohang"])) {
            nav_until = n.end;
        }
        let nav = i < nav_until;
        match tag {
            "title" if title.is_empty() => title = fold(&text_children(dom, i)),
            "meta" => {
                let name = e.attr("name").or_else(|| e.attr("property")).unwrap_or("");
                let content = e.attr("content").unwrap_or("").trim();
                if let Some(canon) = NATIONAL_META.iter().find(|m| m.eq_ignore_ascii_case(name)) {
                    meta.entry((*canon).to_owned()).or_insert_with(|| content.to_owned());
                }
                if name.eq_ignore_ascii_case("viewport") {
                    viewport = Some(content.to_owned());
                }
                if (name.eq_ignore_ascii_case("generator") || name.eq_ignore_ascii_case("author"))
                    && !content.is_empty()
                    && generator.len() < 4
                {
                    generator.push(clip(content, 80));
                }
                if pubdate_meta.is_none()
                    && PUBDATE_META.iter().any(|m| m.eq_ignore_ascii_case(name))
                    && !content.is_empty()
                {
                    pubdate_meta = Some(content.to_owned());
                }
                if let (Some(rel), Some(href)) = (e.attr("rel"), e.attr("href"))
                    && rel.to_ascii_lowercase().contains("icon")
                {
                    set.add(&base, href, "", LinkKind::Image, (false, false), None);
                }
                if e.attr("http-equiv").is_some_and(|h| h.eq_ignore_ascii_case("refresh"))
                    && let Some(t) = script::refresh_target(content)
                {
                    set.add(&base, t, "", LinkKind::Page, (false, false), Some(Via::Refresh));
                }
            }
            "a" | "area" => {
                let Some(href) = e.attr("href") else { continue };
                let mut text = if tag == "a" { dom.inline_text(i, true) } else { String::new() };
                if text.is_empty() {
                    text = (i + 1..n.end)
                        .find_map(|j| {
                            (dom.nodes[j as usize].tag() == "img").then(|| dom.nodes[j as usize].attr("alt")).flatten()
                        })
                        .or_else(|| e.attr("title"))
                        .or_else(|| e.attr("alt"))
                        .map(fold)
                        .unwrap_or_default();
                }
                if let Some(u) = set.add(&base, href, &text, LinkKind::Page, (n.hidden, nav), None)
                    && tag == "a"
                {
                    if is_pager_link(dom, i, &text) {
                        add_page(&mut pagination, &u);
                    }
                    anchors.push(AnchorInfo { node: i, text, url: u });
                }
            }
            "img" | "input" => {
                if tag == "input" && !e.attr("type").is_some_and(|t| t.eq_ignore_ascii_case("image")) {
                    continue;
                }
                let src = image_source(e);
                let Some(src) = src else { continue };
                let alt = e.attr("alt").map(fold);
                images_missing_alt += usize::from(alt.is_none() && !n.hidden && tag == "img");
                if let Some(u) =
                    set.add(&base, src, alt.as_deref().unwrap_or(""), LinkKind::Image, (n.hidden, nav), None)
                {
                    let link = (n.anchor != crate::dom::NONE)
                        .then(|| dom.nodes[n.anchor as usize].attr("href"))
                        .flatten()
                        .and_then(|h| set.resolve(&base, h).ok())
                        .map(|u| u.to_string());
                    images.push(Image { src: u.to_string(), alt, link, hidden: n.hidden });
                }
            }
            // Read in place: a page's style sheet can be large, and only one word matters.
            "style" => {
                responsive |= dom
                    .children(i)
                    .any(|c| matches!(dom.nodes[c as usize].kind, Kind::Text(t) if t.contains("@media")));
            }
            "script" => {
                if script_site_code.is_none()
                    && let Some(code) = e.attr("sitecode").map(str::trim).filter(|c| !c.is_empty())
                {
                    script_site_code = Some(code.to_owned());
                }
                if let Some(src) = e.attr("src") {
                    set.add(&base, src, "", LinkKind::Script, (n.hidden, false), None);
                    // Scripts a browser extension left in a saved page are not the site's.
                    let foreign = ["chrome-extension:", "moz-extension:", "data:", "about:", "javascript:"]
                        .iter()
                        .any(|p| src.trim_start().starts_with(p));
                    if !foreign && script_srcs.len() < MAX_SCRIPTS_NAMED * 4 {
                        script_srcs.push(clip(src.trim(), 200));
                    }
                } else {
                    let code = text_children(dom, i);
                    let data = e
                        .attr("type")
                        .is_some_and(|t| t.contains("xml") || t.contains("json") || t.contains("template"));
                    if drawing.len() < MAX_SCRIPTS_NAMED && !data {
                        if let Some(what) = script::draws(&code) {
                            drawing.push(what);
                        } else if fills_its_block(dom, i) && !cms::is_library(&code) {
                            // homelist4index(1,"FTXW/FTDT") alone in its block: the block's content.
                            let call: String = code.split_whitespace().collect::<Vec<_>>().join(" ");
                            drawing.push(format!("inline script filling an empty block: {}", clip(&call, 60)));
                        }
                    }
                    script::hosts_named(&code, &mut script_hosts);
                    for t in script::location_targets(&code) {
                        set.add(&base, t, "", LinkKind::Page, (false, false), Some(Via::Script));
                    }
                    if script::writes_text(&code) {
                        script_dates.extend(dates::full_dates(&code));
                    }
                    for p in script::pager_pages(&code, MAX_PAGER_PAGES) {
                        if let Some(u) = set.add(&base, &p, "", LinkKind::Page, (false, false), Some(Via::Script)) {
                            add_page(&mut pagination, &u);
                        }
                    }
                }
            }
            "link" => {
                let rel = e.attr("rel").unwrap_or("").to_ascii_lowercase();
                let Some(href) = e.attr("href") else { continue };
                responsive |= e.attr("media").is_some_and(|m| m.contains("width"));
                if rel.split_whitespace().any(|r| r == "stylesheet") {
                    set.add(&base, href, "", LinkKind::Stylesheet, (false, false), None);
                    if assets.len() < MAX_SCRIPTS_NAMED * 4 {
                        assets.push(clip(href.trim(), 200));
                    }
                } else if rel.contains("icon") {
                    set.add(&base, href, "", LinkKind::Image, (false, false), None);
                }
            }
            "frame" | "iframe" => {
                if let Some(src) = e.attr("src") {
                    set.add(
                        &base,
                        src,
                        e.attr("title").or_else(|| e.attr("name")).unwrap_or(""),
                        LinkKind::Frame,
                        (n.hidden, false),
                        None,
                    );
                }
            }
            "embed" | "source" | "video" | "audio" | "track" => {
                if let Some(src) = e.attr("src") {
                    set.add(&base, src, "", LinkKind::Download, (n.hidden, false), None);
                }
            }
            "object" => {
                if let Some(data) = e.attr("data") {
                    set.add(&base, data, "", LinkKind::Download, (n.hidden, false), None);
                }
            }
            "form" => {
                let action = e.attr("action").map(str::trim).filter(|a| !a.is_empty() && !a.starts_with("javascript:"));
                let action = action.and_then(|a| set.resolve(&base, a).ok()).unwrap_or_else(|| url.clone());
                let fields = (i + 1..n.end)
                    .filter_map(|j| {
                        let f = &dom.nodes[j as usize];
                        let kind = match f.tag() {
                            "input" => f.attr("type").unwrap_or("text").to_ascii_lowercase(),
                            "textarea" | "select" => f.tag().to_owned(),
                            _ => return None,
                        };
                        Some(FormField { name: f.attr("name").or_else(|| f.attr("id")).unwrap_or("").to_owned(), kind })
                    })
                    .collect();
                forms.push(Form {
                    action: action.to_string(),
                    method: e.attr("method").unwrap_or("get").to_ascii_uppercase(),
                    fields,
                    hidden: n.hidden,
                });
            }
            _ => {
                // Markup a script framework fills in (Vue, Angular, Alpine).
                templated |= framework
                    && !templated
                    && e.attrs().any(|(k, _)| {
                        k.starts_with("v-for") || k.starts_with("ng-repeat") || k.starts_with("x-for") || k == ":key"
                    });
                // A list with nothing in it (<ul class="list"></ul>): empty, or waiting for a script.
                if matches!(tag, "ul" | "ol" | "tbody" | "table" | "div" | "section" | "dl")
                    && !n.hidden
                    && dom.visible_chars(i) == 0
                    && dom.anchors(i) == 0
                    && items::id_class_has(n, LIST_WORDS)
                    && !items::in_chrome(dom, i)
                {
                    empty_lists += 1;
                }
            }
        }
    }

    let main = regions::main_text(dom);
    let (items, blocks) = items::extract(dom, &anchors, opts.as_of, main.as_ref().map(|(n, _)| *n));
    let main_text = main.as_ref().map(|(_, t)| t.clone()).unwrap_or_default();
    let footer_text = regions::footer(dom);
    let breadcrumb = regions::breadcrumb(dom, &|h: &str| set.resolve(&base, h).ok().map(|u| u.to_string()));
    if title.is_empty() {
        title = meta.get("ArticleTitle").cloned().unwrap_or_default();
    }
    if title.is_empty()
        && let Some(h) = dom.elements_named("h1").next()
    {
        title = dom.inline_text(h, false);
    }
    // Links to pages outside the template: not navigation, header, footer or the breadcrumb.
    let crumb_urls: Vec<&str> = breadcrumb.iter().filter_map(|c| c.url.as_deref()).collect();
    let content_links = anchors
        .iter()
        .filter(|a| {
            !dom.nodes[a.node as usize].hidden
                && a.text.chars().count() >= 2
                && !crumb_urls.contains(&a.url.as_str())
                && !items::in_chrome(dom, a.node)
        })
        .count();
    let body = dom.elements_named("body").next().unwrap_or(0);
    let text = dom.text(body, false);
    let text_chars = dom.visible_chars(body) as usize;

    let is_home = opts.homepage.unwrap_or_else(|| is_root_url(url));
    // Letters and guides are not on homepages; their labels are read everywhere else.
    let (fields, tables) = if is_home {
        (Vec::new(), Vec::new())
    } else {
        (
            fields::fields(dom, body, &text),
            fields::tables(dom, &|h: &str| set.resolve(&base, h).ok().map(|u| u.to_string())),
        )
    };
    // The further groups of a Hanweb list, asked from its proxy as a browser's jpage does.
    let records: usize =
        script_lists.iter().filter(|l| l.source == embedded::ListSource::HanwebDatastore).map(|l| l.entries).sum();
    if records > 0 {
        let total = embedded::datastore_total(&decoded.text);
        for g in cms::hanweb_groups(&decoded.text, url, records, total, MAX_PAGER_PAGES) {
            if let Some(u) = set.add(&base, &g, "", LinkKind::Page, (false, false), Some(Via::Script)) {
                add_page(&mut pagination, &u);
            }
        }
    }
    // Scripts that may draw what the markup does not hold: named where something shows it waits
    // for them (an empty list, an inline script that asks for data or fills its block, a
    // framework's template), with the page's other scripts that are not libraries.
    let drawn_by = if drawing.is_empty() && empty_lists == 0 && !templated {
        Vec::new()
    } else {
        let mut d = drawing;
        if templated {
            d.push("a template framework's markup (v-for, ng-repeat)".to_owned());
        }
        // An empty list with only libraries beside it names nothing: nothing would draw it.
        d.extend(script_srcs.iter().filter(|s| !cms::is_library(s)).cloned());
        d.truncate(MAX_SCRIPTS_NAMED);
        d
    };
    let main_chars = main_text.chars().filter(|c| !c.is_whitespace()).count();
    // The main text's own words, links left out: a list's "main text" is mostly its links.
    let main_own_chars =
        main.as_ref().map_or(0, |(n, _)| (dom.visible_chars(*n) - dom.visible_link_chars(*n)) as usize);
    let dated_items = items.iter().filter(|i| i.date.is_some()).count();
    let meta_date = pubdate_meta.as_deref().or(meta.get("PubDate").map(String::as_str));
    // A homepage has no publication date, and a list's dates are its items', not its own.
    let published = if is_home {
        None
    } else if dated_items >= 5 && !meta.contains_key("ArticleTitle") && main_own_chars < 300 {
        meta_date.and_then(dates::first_full_date).map(|f| f.to_text())
    } else {
        publication_date(dom, meta_date, &script_dates, main.as_ref().map(|(n, _)| *n), url, opts.as_of)
    };
    let page_kind = if is_home {
        PageKind::Homepage
    } else if meta.contains_key("ArticleTitle") || (published.is_some() && main_chars >= 300 && dated_items < 10) {
        PageKind::Article
    } else if dated_items >= 5 || (meta.contains_key("ColumnName") && !items.is_empty()) {
        PageKind::List
    } else if published.is_some() && main_chars >= 100 {
        PageKind::Article
    } else if items.len() >= 5 {
        PageKind::List
    } else {
        PageKind::Other
    };

    // The CMS is read off the homepage and the pages that are not articles (a site's articles,
    // most of its pages, say the same, and searching each whole source would cost the hot path).
    let cms = (page_kind != PageKind::Article).then(|| {
        // The address shapes are those of entries: the links outside navigation.
        let mut urls = std::iter::once(url.as_str())
            .chain(set.links.iter().filter(|l| !l.nav && l.kind == LinkKind::Page).map(|l| l.url.as_str()));
        assets.extend(script_srcs.iter().cloned());
        cms::detect(cms::Evidence { generator: &generator, scripts: &assets, urls: &mut urls, source })
    });
    Page {
        url: url.to_string(),
        encoding: decoded.encoding.name().to_owned(),
        encoding_source: decoded.source,
        title: clip(&title, 300),
        page_kind,
        published,
        meta,
        viewport,
        items,
        blocks,
        links: set.links,
        invalid_links: set.invalid,
        images,
        forms,
        breadcrumb,
        pagination,
        main_text,
        footer_text,
        script_site_code,
        script_hosts,
        fields,
        tables,
        images_missing_alt,
        responsive,
        text_chars,
        content_links,
        script_lists,
        empty_lists,
        drawn_by,
        render_note: None,
        unparsable: None,
        parse_note: None,
        cms: cms.flatten(),
        rendered: false,
        text,
    }
}

/// Adds a page of the list to its pagination, once.
fn add_page(pagination: &mut Vec<String>, u: &Url) {
    if !pagination.iter().any(|p| p == u.as_str()) {
        pagination.push(u.to_string());
    }
}

/// Most scripts a page model names as possibly drawing its content.
const MAX_SCRIPTS_NAMED: usize = 8;

/// Words of the id or class of an element that holds a list.
const LIST_WORDS: &[&str] = &["list", "lb", "liebiao", "news", "xwlb", "article", "items"];

/// Whether an inline script is the only thing in its block: what it draws is the block's content.
fn fills_its_block(dom: &Dom, script: u32) -> bool {
    let parent = dom.nodes[script as usize].parent;
    if parent == crate::dom::NONE {
        return false;
    }
    let p = &dom.nodes[parent as usize];
    !p.hidden
        && !matches!(p.tag(), "head" | "body" | "html" | "")
        && dom.visible_chars(parent) == 0
        && dom.anchors(parent) == 0
        && dom.elements(parent) <= 3
}

/// Percent-encodes query text in the page's own encoding, as browsers do.
fn query_encoder(enc: &'static encoding_rs::Encoding) -> impl for<'s> Fn(&'s str) -> std::borrow::Cow<'s, [u8]> {
    move |s| enc.encode(s).0
}

/// The source of an image, preferring a lazy-loading attribute when `src` is a placeholder.
fn image_source(e: &scraper::node::Element) -> Option<&str> {
    let src = e.attr("src").map(str::trim).filter(|s| !s.is_empty() && !s.starts_with("data:"));
    let lazy = ["data-original", "data-src", "lazy-src", "data-lazy-src", "original"].iter().find_map(|a| e.attr(a));
    match (src, lazy) {
        (Some(s), Some(l)) if s.contains("blank") || s.contains("loading") || s.contains("placeholder") => Some(l),
        (Some(s), _) => Some(s),
        (None, l) => l,
    }
}

/// The text of an element's direct text children (for title and script elements).
fn text_children(dom: &Dom, i: u32) -> String {
    dom.children(i)
        .filter_map(|c| match dom.nodes[c as usize].kind {
            Kind::Text(t) => Some(t),
            _ => None,
        })
        .collect()
}

/// Whether the URL is a site root (`/`, `/index.html`, `/default.aspx`, …).
#[must_use]
pub fn is_root_url(url: &Url) -> bool {
    let p = url.path().to_ascii_lowercase();
    p == "/"
        || p.strip_prefix('/').is_some_and(|f| {
            !f.contains('/') && ["index.", "default.", "home.", "main."].iter().any(|s| f.starts_with(s))
        })
}

/// Labels that introduce an article's publication date, found in one pass over each text node.
static DATE_LABELS: std::sync::LazyLock<aho_corasick::AhoCorasick> = std::sync::LazyLock::new(|| {
    aho_corasick::AhoCorasick::builder()
        .match_kind(aho_corasick::MatchKind::LeftmostLongest)
        .build([
            "发布时间",
            "发布日期",
            "发表时间",
            "发文日期",
            "成文日期",
            "印发日期",
            "更新时间",
            "更新日期",
            "发稿时间",
            "时间：",
            "时间:",
            "日期：",
            "日期:",
            "发布于",
        ])
        .expect("valid patterns")
});

/// How far before the main text (in nodes) a bare date is taken for the article's date.
const DATE_BEFORE_MAIN_NODES: u32 = 400;

fn publication_date(
    dom: &Dom,
    meta: Option<&str>,
    script_dates: &[dates::Found],
    main: Option<u32>,
    url: &Url,
    as_of: NaiveDate,
) -> Option<String> {
    let not_future = |f: &dates::Found| f.date <= as_of + chrono::Days::new(1);
    if let Some(f) = meta.and_then(dates::first_full_date) {
        return Some(f.to_text());
    }
    // A labelled date in the visible text ("发布时间：2024-07-10 09:30").
    for i in 0..dom.nodes.len() as u32 {
        let n = &dom.nodes[i as usize];
        let Kind::Text(t) = n.kind else { continue };
        if n.skip || n.hidden || n.anchor != crate::dom::NONE {
            continue;
        }
        let Some(label_pos) = DATE_LABELS.find(t).map(|m| m.end()) else {
            continue;
        };
        // The date may sit in the same text node or in the next few nodes ("发布时间：<span>…</span>").
        let mut window = t[label_pos..].to_owned();
        let mut j = i + 1;
        while window.chars().count() < 40 && (j as usize) < dom.nodes.len() && j < i + 8 {
            if let Kind::Text(next) = dom.nodes[j as usize].kind
                && !dom.nodes[j as usize].skip
            {
                window.push_str(next);
            }
            j += 1;
        }
        if let Some(f) = dates::first_full_date(&window).filter(not_future)
            && f.start <= 12
        {
            return Some(f.to_text());
        }
    }
    // A date an inline script writes into the page (document.write('2022-02-11')).
    if let Some(f) = script_dates.iter().find(|f| not_future(f)) {
        return Some(f.to_text());
    }
    // The nearest short line with a date just above the main text ("2005年03月21日 11:21 《理财周刊》").
    if let Some(m) = main {
        for i in (m.saturating_sub(DATE_BEFORE_MAIN_NODES)..m).rev() {
            let n = &dom.nodes[i as usize];
            let Kind::Text(t) = n.kind else { continue };
            if n.skip || n.hidden || n.anchor != crate::dom::NONE || t.chars().count() > 120 {
                continue;
            }
            if let Some(f) = dates::first_full_date(t).filter(not_future) {
                return Some(f.to_text());
            }
        }
    }
    // The "info line" under an article's title: 来源 / 作者 / 浏览 beside a date.
    for i in 0..dom.nodes.len() as u32 {
        let n = &dom.nodes[i as usize];
        if n.skip || n.hidden || n.element().is_none() {
            continue;
        }
        let chars = dom.chars(i);
        if !(8..=160).contains(&chars) || dom.anchors(i) > 2 {
            continue;
        }
        if !dom.children(i).any(|c| matches!(dom.nodes[c as usize].kind, Kind::Text(t) if !t.trim().is_empty())) {
            continue;
        }
        let text = dom.text(i, false);
        if ["来源", "作者", "浏览", "点击", "字号", "编辑", "责任编辑"].iter().any(|k| text.contains(k))
            && let Some(f) = dates::first_full_date(&text).filter(not_future)
        {
            return Some(f.to_text());
        }
    }
    dates::date_in_url(url.as_str()).map(|d| d.format("%Y-%m-%d").to_string())
}
