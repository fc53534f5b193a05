//! The page model: the types `sitecensus page --json` prints and every check reads.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sitecensus_core::LinkKind;

/// What kind of page this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PageKind {
    /// The site's homepage.
    Homepage,
    /// A list (column) page: dated items, usually paginated.
    List,
    /// An article: one piece of content with a publication date.
    Article,
    /// Anything else (forms, navigation hubs, redirect stubs).
    Other,
}

impl PageKind {
    /// The lowercase name used in JSON and the store.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            PageKind::Homepage => "homepage",
            PageKind::List => "list",
            PageKind::Article => "article",
            PageKind::Other => "other",
        }
    }
}

/// Where an item's date was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DateSource {
    /// Printed beside the item with its year.
    Shown,
    /// Printed without a year (`[07-10]`); the year came from the URL or the as-of rule.
    ShownNoYear,
    /// Only in the link's title tooltip.
    Tooltip,
    /// Only in the link's URL (`/art/2024/7/10/…`).
    Url,
}

/// One entry of a list: a link with (usually) a date beside it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    /// The entry's title as shown.
    pub title: String,
    /// The absolute URL it links to.
    pub url: String,
    /// `YYYY-MM-DD`, or null when no date is shown (which counts as not updated).
    pub date: Option<String>,
    /// Where the date was read.
    pub date_source: Option<DateSource>,
    /// Whether the entry sits in a hidden element (an inactive tab, say).
    pub hidden: bool,
    /// Index into the page's `blocks`.
    pub block: usize,
}

/// A group of items with the heading it sits under (a homepage block, a column's list).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Block {
    /// The heading text, where one was found.
    pub title: Option<String>,
    /// Where the heading or its "更多" link leads (the column the block shows), if anywhere.
    pub url: Option<String>,
    /// How many items the block holds.
    pub items: usize,
}

/// How a link was found, where it was not a plain attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Via {
    /// `<meta http-equiv="refresh">`.
    Refresh,
    /// A `window.location = '…'` style script.
    Script,
}

/// One link of the page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Link {
    /// Absolute, normalised URL.
    pub url: String,
    /// Anchor text (or image alt, or title), shortened.
    pub text: String,
    /// What it points at.
    pub kind: LinkKind,
    /// Whether it sits in an element a visitor cannot see.
    pub hidden: bool,
    /// Whether it sits in navigation (nav element, or an id/class naming a nav or menu).
    #[serde(default)]
    pub nav: bool,
    /// Set for redirects written as meta refresh or script.
    #[serde(default)]
    pub via: Option<Via>,
}

/// A link whose URL cannot work (`https;//…`, a malformed host).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InvalidLink {
    /// The href as written.
    pub href: String,
    /// Its anchor text.
    pub text: String,
    /// What is wrong with it.
    pub reason: String,
}

/// An image of the page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Image {
    /// Absolute URL of the image.
    pub src: String,
    /// The alt text; None when the attribute is missing.
    pub alt: Option<String>,
    /// The link the image sits in, if any.
    pub link: Option<String>,
    /// Whether it is hidden.
    pub hidden: bool,
}

/// One step of a breadcrumb trail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Crumb {
    /// The step's text.
    pub text: String,
    /// Where it links, if it does.
    pub url: Option<String>,
}

/// A form field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FormField {
    /// The field's name attribute.
    pub name: String,
    /// input type, or `textarea` / `select`.
    #[serde(rename = "type")]
    pub kind: String,
}

/// A form of the page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Form {
    /// Absolute action URL (the page itself when empty).
    pub action: String,
    /// GET or POST.
    pub method: String,
    /// Its fields.
    pub fields: Vec<FormField>,
    /// Whether it is hidden.
    pub hidden: bool,
}

/// A labelled value of the page ("来信人：张三", a table row, a `<dt>`/`<dd>` pair, a heading and
/// its section).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Field {
    /// The label, without brackets or colon.
    pub label: String,
    /// The text it labels, shortened.
    pub value: String,
}

/// A data row of a [`Table`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableRow {
    /// Each cell's text, shortened.
    pub cells: Vec<String>,
    /// The row's first link, absolute.
    pub link: Option<String>,
}

/// A table with a header row of labels (a letter list: 标题 | 来信时间 | 办理状态).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Table {
    /// The header labels.
    pub headers: Vec<String>,
    /// The data rows with as many cells as the header.
    pub rows: Vec<TableRow>,
}

/// Everything read off one page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page {
    /// The page's address.
    pub url: String,
    /// Encoding used to read it (WHATWG name, e.g. `GBK`, `UTF-8`).
    pub encoding: String,
    /// Where the encoding came from.
    pub encoding_source: crate::decode::EncodingSource,
    /// The `<title>` (or ArticleTitle) text.
    pub title: String,
    /// Kind of page.
    pub page_kind: PageKind,
    /// An article's publication date (`YYYY-MM-DD` or `YYYY-MM-DD HH:MM`).
    pub published: Option<String>,
    /// National page-design meta tags found (SiteName, SiteIDCode, ColumnName, PubDate, …).
    pub meta: BTreeMap<String, String>,
    /// The viewport meta, if any.
    pub viewport: Option<String>,
    /// Dated (or list-like) items.
    pub items: Vec<Item>,
    /// The blocks those items sit in.
    pub blocks: Vec<Block>,
    /// Links, one per distinct URL, kind and visibility.
    pub links: Vec<Link>,
    /// Links that cannot work because the href is malformed.
    pub invalid_links: Vec<InvalidLink>,
    /// Images.
    pub images: Vec<Image>,
    /// Forms.
    pub forms: Vec<Form>,
    /// The breadcrumb trail ("当前位置：首页 > 政务公开 > 通知公告"), as its steps.
    pub breadcrumb: Vec<Crumb>,
    /// Other pages of the same list (下一页, 尾页, page numbers, pager scripts).
    #[serde(default)]
    pub pagination: Vec<String>,
    /// The page's own text, navigation and boilerplate excluded as far as structure tells.
    pub main_text: String,
    /// The footer's text (site code, filing numbers, sponsor).
    pub footer_text: String,
    /// A site identifier code given only as a script's `sitecode` attribute (the error-report
    /// widget that many sites carry), when the page has one.
    #[serde(default)]
    pub script_site_code: Option<String>,
    /// Hosts of the absolute addresses that inline scripts name or write (percent-escapes
    /// decoded): the 党政机关 mark's loader, analytics, injected spam loaders.
    #[serde(default)]
    pub script_hosts: Vec<String>,
    /// Labelled values (letter fields, service-guide elements); not read on homepages.
    #[serde(default)]
    pub fields: Vec<Field>,
    /// Tables with a header row of labels (letter lists).
    #[serde(default)]
    pub tables: Vec<Table>,
    /// Visible images with no `alt` attribute at all.
    #[serde(default)]
    pub images_missing_alt: usize,
    /// Whether the page's own styles adapt to the screen (`@media` rules).
    #[serde(default)]
    pub responsive: bool,
    /// Visible characters of text on the whole page.
    pub text_chars: usize,
    /// Visible links to pages outside navigation, header and footer (a page with none shows
    /// nothing but its template).
    #[serde(default)]
    pub content_links: usize,
    /// Lists the page carries in scripts, put back where a browser shows them (Hanweb
    /// datastore records, `document.write` markup, data literals).
    #[serde(default)]
    pub script_lists: Vec<crate::embedded::ScriptList>,
    /// Lists that hold nothing (`<ul class="list"></ul>`): an empty column, or one a script fills.
    #[serde(default)]
    pub empty_lists: usize,
    /// Scripts that may draw content the markup does not hold, where the page shows something
    /// waits for them (an empty list, an inline script asking for data or filling its block, a
    /// framework's template). A page with none of its dates in the markup and such scripts could
    /// not be read without running them.
    #[serde(default)]
    pub drawn_by: Vec<String>,
    /// Why rendering did not help, where the page needed it (rendering off, no browser, budget
    /// spent, the browser failed).
    #[serde(default)]
    pub render_note: Option<String>,
    /// Why the page was not parsed (nested past the parse budget), if it was not.
    #[serde(default)]
    pub unparsable: Option<String>,
    /// Where the page was read only in part (more elements than the parse budget).
    #[serde(default)]
    pub parse_note: Option<String>,
    /// The CMS family whose fingerprints the page carries.
    #[serde(default)]
    pub cms: Option<crate::cms::CmsMatch>,
    /// Whether the model was read from the page as a browser drew it (headless Chromium).
    #[serde(default)]
    pub rendered: bool,
    /// All visible text of the page, for checks that read text (not printed by `page --json`).
    #[serde(skip)]
    pub text: String,
}

impl Page {
    /// Whether some item shows a date.
    #[must_use]
    pub fn has_dated_items(&self) -> bool {
        self.items.iter().any(|i| i.date.is_some())
    }

    /// The newest item date of the page, if any item is dated.
    #[must_use]
    pub fn newest_item_date(&self) -> Option<&str> {
        self.items.iter().filter_map(|i| i.date.as_deref()).max()
    }

    /// Links a crawler would follow as pages (pages and frames, redirects included).
    pub fn crawlable_links(&self) -> impl Iterator<Item = &Link> {
        self.links.iter().filter(|l| l.kind.is_crawlable())
    }
}
