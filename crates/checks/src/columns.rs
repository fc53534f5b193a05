//! Finding a site's columns (栏目): the sections it presents — in its navigation, as homepage
//! blocks (a heading whose link leads to a dated list) and in its breadcrumbs — each with its
//! pages (the list and the pages its pager leads to), its items, its newest date and its kind.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use sitecensus_core::rubric::{ColumnKind, ColumnKinds};
use sitecensus_extract::{Page, PageKind};

use crate::model::{PageEntry, SiteModel};

/// Where a column was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Source {
    /// A homepage block's heading or "更多" link.
    Block,
    /// The homepage's navigation.
    Nav,
    /// A breadcrumb step.
    Breadcrumb,
    /// A list page that names itself a column (ColumnName meta) or is a list in its own right.
    List,
}

/// A column as the freshness checks read it.
#[derive(Debug, Clone)]
pub struct ColumnInfo {
    /// The column's first list page.
    pub url: String,
    /// Its title.
    pub title: String,
    /// Its kind.
    pub kind: sitecensus_core::rubric::ColumnKind,
    /// Where it was found first.
    pub source: Source,
    /// Whether it is a first-level column (in the homepage's navigation or blocks, or one step
    /// below the homepage in breadcrumbs).
    pub first_level: bool,
    /// Items over all its pages.
    pub items: usize,
    /// The newest date of an item (from the list, else from the newest articles' own pages).
    pub latest: Option<NaiveDate>,
    /// Items without a visible date.
    pub undated: usize,
    /// The pages of its list.
    pub pages: Vec<String>,
    /// The placeholder it shows instead of content ("暂无信息"), if any.
    pub placeholder: Option<String>,
    /// Whether it shows nothing (no items, no content, or only a placeholder).
    pub empty: bool,
    /// Why its items could not be read (scripts that draw them, and why rendering did not
    /// help): such a column is neither empty nor stale, it is unread.
    pub unreadable: Option<Unreadable>,
}

/// A page whose dated items could not be read.
#[derive(Debug, Clone, PartialEq)]
pub struct Unreadable {
    /// The scripts that may draw them.
    pub scripts: Vec<String>,
    /// Why rendering did not help.
    pub note: String,
}

impl Unreadable {
    /// Whether `page` could not be read: it shows no dated item, its scripts may draw them, and
    /// no browser drew it.
    #[must_use]
    pub fn of(page: &Page) -> Option<Self> {
        (!page.rendered && !page.drawn_by.is_empty() && !page.has_dated_items()).then(|| Unreadable {
            scripts: page.drawn_by.clone(),
            note: page.render_note.clone().unwrap_or_else(|| "it was not rendered".to_owned()),
        })
    }
}

/// The key two spellings of one column share: the URL without `index.html`-like file names.
fn column_key(url: &str) -> String {
    let u = url.split('#').next().unwrap_or(url);
    for f in [
        "index.html",
        "index.htm",
        "index.shtml",
        "index.jsp",
        "index.aspx",
        "index.php",
        "default.html",
        "default.htm",
        "default.aspx",
    ] {
        if let Some(stem) = u.strip_suffix(f) {
            return stem.to_owned();
        }
    }
    u.to_owned()
}

/// A title as a person reads it: "通知公告_丰安县人民政府" → "通知公告".
pub(crate) fn clean_title(t: &str) -> String {
    let first = t.split(['_', '|', '－', '—']).next().unwrap_or(t);
    let mut first = first.split(" - ").next().unwrap_or(first);
    // "标题-西岭县人民政府网": a bare hyphen is a separator only before a site's name
    // ("2023-2024学年" keeps its hyphen).
    if let Some((head, site)) = first.rsplit_once('-')
        && !head.trim().is_empty()
        && ["网", "网站", "政府", "门户"].iter().any(|s| site.trim_end().ends_with(s))
    {
        first = head;
    }
    first.trim().to_owned()
}

struct Candidate {
    url: String,
    title: Option<String>,
    source: Source,
    first_level: bool,
}

/// Dates after as-of plus this many days are not taken as the newest (events announced ahead).
const FUTURE_DAYS: u64 = 1;
/// Newest articles read where a list shows no dates.
const ARTICLES_READ: usize = 5;
/// Entries an article page must list to be taken for a column's list all the same.
const MIN_LIST_ITEMS: usize = 5;
/// A page with an empty list is an empty column only while it has little text of its own (a
/// page of text with an empty decorative list is a page of text).
const MAX_EMPTY_LIST_PAGE_CHARS: usize = 200;

/// The columns of a site, in the order a person meets them (homepage first). `single` says
/// which pages are single pages whatever they list (a service guide with its forms).
#[must_use]
pub fn discover(
    site: &SiteModel,
    kinds: &ColumnKinds,
    placeholders: &[String],
    single: &dyn Fn(&Page) -> bool,
) -> Vec<ColumnInfo> {
    let as_of = site.as_of.date();
    let by_url = site.entries_by_url();
    let by_key: HashMap<String, &PageEntry> = site.pages.iter().map(|p| (column_key(&p.final_url), p)).collect();
    let find = |url: &str| by_url.get(url).copied().or_else(|| by_key.get(&column_key(url)).copied());
    let home_urls: HashSet<&str> = site.homepage.iter().flat_map(|h| [h.url.as_str(), h.final_url.as_str()]).collect();

    let mut candidates: Vec<Candidate> = Vec::new();
    if let Some(home) = site.homepage_page() {
        for b in &home.blocks {
            if let Some(u) = &b.url {
                candidates.push(Candidate {
                    url: u.clone(),
                    title: b.title.clone(),
                    source: Source::Block,
                    first_level: true,
                });
            }
        }
        for l in home.links.iter().filter(|l| l.nav && l.kind.is_crawlable() && !l.text.is_empty()) {
            candidates.push(Candidate {
                url: l.url.clone(),
                title: Some(l.text.clone()),
                source: Source::Nav,
                first_level: true,
            });
        }
    }
    for p in &site.pages {
        let Some(page) = &p.page else { continue };
        let steps: Vec<_> = page.breadcrumb.iter().filter(|c| c.url.is_some()).collect();
        for (i, c) in steps.iter().enumerate() {
            let url = c.url.clone().expect("filtered");
            if home_urls.contains(url.as_str()) || i == 0 && ["首页", "网站首页", "主页"].contains(&c.text.as_str())
            {
                continue;
            }
            candidates.push(Candidate {
                url,
                title: Some(c.text.clone()),
                source: Source::Breadcrumb,
                first_level: i <= 1,
            });
        }
        if page.page_kind == PageKind::List && !home_urls.contains(p.url.as_str()) {
            let title = page.meta.get("ColumnName").cloned().or_else(|| page.breadcrumb.last().map(|c| c.text.clone()));
            candidates.push(Candidate { url: p.final_url.clone(), title, source: Source::List, first_level: false });
        }
    }

    // The pages a column's pager leads to belong to it, not to columns of their own.
    let mut pager_of: HashMap<String, String> = HashMap::new();
    let mut columns: Vec<ColumnInfo> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for c in candidates {
        let Some(entry) = find(&c.url) else { continue };
        if home_urls.contains(entry.url.as_str()) || home_urls.contains(entry.final_url.as_str()) {
            continue;
        }
        let Some(page) = &entry.page else { continue };
        // An article or a guide is a page of its own, even where the navigation names it.
        if (page.page_kind == PageKind::Article && page.items.len() < MIN_LIST_ITEMS) || single(page) {
            continue;
        }
        let key = column_key(&entry.final_url);
        if let Some(&i) = index.get(&key) {
            let col = &mut columns[i];
            col.first_level |= c.first_level;
            if col.title.is_empty() {
                col.title = c.title.unwrap_or_default();
            }
            continue;
        }
        if pager_of.get(&key).is_some_and(|owner| *owner != key) {
            continue;
        }
        let Some(mut col) = assemble(entry, page, &find, as_of, placeholders) else { continue };
        for p in &col.pages {
            pager_of.entry(column_key(p)).or_insert_with(|| key.clone());
        }
        col.title = c.title.filter(|t| !t.is_empty()).unwrap_or_else(|| clean_title(&page.title));
        col.source = c.source;
        col.first_level = c.first_level;
        col.kind = kind_of(kinds, &col.title, page);
        index.insert(key, columns.len());
        columns.push(col);
    }
    // A "column" found only as a later page of another column's pager was one of its pages.
    columns.retain(|c| pager_of.get(&column_key(&c.url)).is_none_or(|owner| *owner == column_key(&c.url)));
    // The homepage's columns in the order it shows them, then the rest by address: the same
    // site gives the same list whatever order the crawl happened to fetch it in.
    let first_seen: HashMap<String, usize> = columns.iter().enumerate().map(|(i, c)| (c.url.clone(), i)).collect();
    columns.sort_by(|a, b| {
        let home = |c: &ColumnInfo| matches!(c.source, Source::Block | Source::Nav);
        match (home(a), home(b)) {
            (true, true) => first_seen[&a.url].cmp(&first_seen[&b.url]),
            (true, false) => std::cmp::Ordering::Less,
            (false, true) => std::cmp::Ordering::Greater,
            (false, false) => a.url.cmp(&b.url),
        }
    });
    columns
}

/// The kind from the title, else from the national ColumnType meta, else from the breadcrumb.
fn kind_of(kinds: &ColumnKinds, title: &str, page: &Page) -> ColumnKind {
    let by_title = kinds.classify(title);
    if by_title != ColumnKind::Other
        || kinds.words.get(&ColumnKind::Other).is_some_and(|w| w.iter().any(|w| title.contains(w.as_str())))
    {
        return by_title;
    }
    if let Some(t) = page.meta.get("ColumnType") {
        let k = kinds.classify(t);
        if k != ColumnKind::Other {
            return k;
        }
    }
    // "县市区动态" under 政务动态: the parent step of the trail decides.
    for c in page.breadcrumb.iter().rev().skip(1) {
        let k = kinds.classify(&c.text);
        if k != ColumnKind::Other {
            return k;
        }
    }
    ColumnKind::Other
}

/// Reads a column from its first page and the pages its pager leads to; None when the page is
/// not a column at all (a hub of links, or an ordinary page of text).
fn assemble<'a>(
    entry: &'a PageEntry,
    page: &'a Page,
    find: &dyn Fn(&str) -> Option<&'a PageEntry>,
    as_of: NaiveDate,
    placeholders: &[String],
) -> Option<ColumnInfo> {
    let limit = as_of + chrono::Days::new(FUTURE_DAYS);
    let mut pages = vec![entry.final_url.clone()];
    let mut seen: HashSet<String> = HashSet::from([column_key(&entry.final_url)]);
    // Items in list order (the newest first on nearly every government list).
    let mut items: Vec<(String, Option<NaiveDate>)> = Vec::new();
    let mut item_seen: HashSet<&str> = HashSet::new();
    let mut queue = vec![page];
    while let Some(p) = queue.pop() {
        // The column's list is the page's largest block.
        if let Some((block, _)) = p.blocks.iter().enumerate().max_by_key(|(_, b)| b.items) {
            for it in p.items.iter().filter(|it| it.block == block) {
                if item_seen.insert(it.url.as_str()) {
                    let d = it.date.as_deref().and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
                    items.push((it.url.clone(), d));
                }
            }
        }
        for next in &p.pagination {
            let k = column_key(next);
            if seen.insert(k)
                && let Some(e) = find(next)
                && let Some(np) = &e.page
            {
                pages.push(e.final_url.clone());
                queue.push(np);
            }
        }
    }
    let placeholder = placeholders
        .iter()
        .find(|ph| page.main_text.contains(ph.as_str()) || page.title.contains(ph.as_str()))
        .cloned();
    let main_chars = page.main_text.chars().filter(|c| !c.is_whitespace()).count();
    // A page with a form to fill in (a letter, a complaint) offers something: it is not empty.
    let has_form =
        page.forms.iter().any(|f| !f.hidden && (f.fields.iter().any(|x| x.kind == "textarea") || f.fields.len() >= 3));
    // A list drawn by scripts that no browser drew could not be read: not empty, not stale.
    let unreadable = if items.is_empty() { Unreadable::of(page) } else { None };
    // An empty list (<ul class="list"></ul>) is a list page with nothing in it: 开天窗.
    let empty = items.is_empty()
        && unreadable.is_none()
        && !has_form
        && (placeholder.is_some()
            || (page.empty_lists > 0 && main_chars < MAX_EMPTY_LIST_PAGE_CHARS)
            || (page.content_links == 0 && main_chars < 40));
    if items.is_empty() && !empty && unreadable.is_none() {
        return None;
    }
    let mut latest = items.iter().filter_map(|(_, d)| *d).filter(|d| *d <= limit).max();
    let undated = items.iter().filter(|(_, d)| d.is_none()).count();
    if latest.is_none() && !items.is_empty() {
        // The list shows no dates: the newest articles' own pages may.
        latest = items
            .iter()
            .take(ARTICLES_READ)
            .filter_map(|(u, _)| find(u).and_then(|e| e.page.as_ref()).and_then(|p| p.published.clone()))
            .filter_map(|d| crate::model::day(&d))
            .filter(|d| *d <= limit)
            .max();
    }
    Some(ColumnInfo {
        url: entry.final_url.clone(),
        title: String::new(),
        kind: ColumnKind::Other,
        source: Source::List,
        first_level: false,
        items: items.len(),
        latest,
        undated,
        pages,
        placeholder,
        empty,
        unreadable,
    })
}

#[cfg(test)]
mod tests {
    use super::clean_title;

    #[test]
    fn a_title_loses_the_site_name_but_keeps_its_own_hyphens() {
        assert_eq!(clean_title("东湖区上半年经济运行情况通报-西岭县人民政府网"), "东湖区上半年经济运行情况通报");
        assert_eq!(clean_title("政务要闻_东湖区人民政府"), "政务要闻");
        assert_eq!(clean_title("2023-2024学年校历"), "2023-2024学年校历");
        assert_eq!(clean_title("通知公告 - 宜安市人民政府"), "通知公告");
    }
}
