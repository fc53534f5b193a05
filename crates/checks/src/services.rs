//! Practicality (不实用): a site that offers no services at all (`service.missing`), service guides
//! that leave out elements a citizen needs (`service.incomplete_guide`), and policy documents
//! published without an interpretation (`policy.no_interpretation`).

use sitecensus_core::CheckId;
use std::collections::HashSet;
use std::sync::LazyLock;

use regex::Regex;
use serde::Deserialize;
use sitecensus_core::Finding;
use sitecensus_extract::{Page, PageKind};

use crate::Rule;
use crate::columns::ColumnInfo;
use crate::model::SiteModel;

/// `service.missing`.
pub const MISSING: CheckId = CheckId::ServiceMissing;
/// `service.incomplete_guide`.
pub const INCOMPLETE_GUIDE: CheckId = CheckId::ServiceIncompleteGuide;
/// `policy.no_interpretation`.
pub const NO_INTERPRETATION: CheckId = CheckId::PolicyNoInterpretation;

/// Parameters of `service.missing`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MissingParams {
    /// Link text that shows a service offering.
    pub words: Vec<String>,
    /// The site list column that can exempt a site.
    pub exempt_column: String,
    /// Its values that do.
    pub exempt_values: Vec<String>,
}

/// One required element of a guide and the labels that name it.
#[derive(Debug, Clone, Deserialize)]
pub struct Element {
    /// The element's name in findings.
    pub name: String,
    /// Labels that mean it.
    pub labels: Vec<String>,
}

/// Parameters of `service.incomplete_guide`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuideParams {
    /// Words in a title, breadcrumb or heading that make a page a guide.
    pub markers: Vec<String>,
    /// Elements shown that make a page a guide even without a marker.
    pub min_elements: usize,
    /// Elements a page with a marker must show to be a guide (not a list of guides).
    pub min_marked_elements: usize,
    /// The required elements.
    pub elements: Vec<Element>,
}

/// Parameters of `policy.no_interpretation`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InterpretationParams {
    /// Documents published within this many days before as-of are judged.
    pub window_days: i64,
    /// Words that name an interpretation.
    pub words: Vec<String>,
    /// Whether only documents with a document number (〔2024〕12号) are judged.
    pub numbered_only: bool,
}

/// A service guide: its page and which elements it shows.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Guide {
    /// The guide's page.
    pub url: String,
    /// Its title.
    pub title: String,
    /// Elements it shows.
    pub present: Vec<String>,
    /// Elements it lacks.
    pub missing: Vec<String>,
}

/// The guide a page is, if it is one.
#[must_use]
pub fn guide_of(page: &Page, p: &GuideParams) -> Option<Guide> {
    if page.page_kind == PageKind::Homepage {
        return None;
    }
    let has = |e: &Element| {
        page.fields.iter().any(|f| !f.value.trim().is_empty() && e.labels.iter().any(|l| f.label.contains(l.as_str())))
    };
    let (present, missing): (Vec<&Element>, Vec<&Element>) = p.elements.iter().partition(|e| has(e));
    let marked = p.markers.iter().any(|m| {
        page.title.contains(m.as_str())
            || page.breadcrumb.iter().any(|c| c.text.contains(m.as_str()))
            || page.fields.iter().any(|f| f.label.contains(m.as_str()))
    });
    // A marker with a few elements, or enough elements without one. A page that reads as a list
    // (a guide with its forms to download, say) needs the elements themselves.
    let enough = present.len() >= p.min_elements.max(p.min_marked_elements);
    if !(enough || marked && present.len() >= p.min_marked_elements && page.page_kind != PageKind::List) {
        return None;
    }
    Some(Guide {
        url: page.url.clone(),
        title: page.title.clone(),
        present: present.iter().map(|e| e.name.clone()).collect(),
        missing: missing.iter().map(|e| e.name.clone()).collect(),
    })
}

/// `service.incomplete_guide` over the site's guides: a finding per guide that lacks elements.
#[must_use]
pub fn incomplete_guides(guides: &[Guide], rule: &Rule<GuideParams>) -> Vec<Finding> {
    guides
        .iter()
        .filter(|g| !g.missing.is_empty())
        .map(|g| {
            Finding::new(
                INCOMPLETE_GUIDE,
                rule.severity,
                format!("service guide “{}” lacks {}", g.title, g.missing.join("、")),
            )
            .zh(format!("办事指南“{}”缺少{}", g.title, g.missing.join("、")))
            .page(g.url.clone())
            .detail("missing", g.missing.clone())
            .detail("present", g.present.clone())
        })
        .collect()
}

/// `service.missing`: no column of services, no guide and no link that offers services.
#[must_use]
pub fn missing(site: &SiteModel, columns: &[ColumnInfo], guides: &[Guide], rule: &Rule<MissingParams>) -> Vec<Finding> {
    let p = &rule.params;
    let exempt = site
        .spec
        .meta
        .get(&p.exempt_column)
        .is_some_and(|v| p.exempt_values.iter().any(|x| x.eq_ignore_ascii_case(v.trim())));
    if exempt || site.homepage_page().is_none() {
        return Vec::new();
    }
    let column = columns.iter().any(|c| c.kind == sitecensus_core::rubric::ColumnKind::Service);
    let linked =
        site.links.iter().any(|t| t.sources.iter().any(|s| p.words.iter().any(|w| s.text.contains(w.as_str()))))
            || site.homepage_page().is_some_and(|h| {
                h.links.iter().any(|l| p.words.iter().any(|w| l.text.contains(w.as_str())))
                    || h.images
                        .iter()
                        .any(|i| i.alt.as_deref().is_some_and(|a| p.words.iter().any(|w| a.contains(w.as_str()))))
            });
    if column || linked || !guides.is_empty() {
        return Vec::new();
    }
    let words = p.words.iter().take(4).cloned().collect::<Vec<_>>().join("、");
    vec![
        Finding::new(
            MISSING,
            rule.severity,
            format!("no service column, no service guide and no link to services ({words}…)"),
        )
        .zh(format!("没有办事服务栏目、办事指南，也没有通往办事服务的链接（{words}等）"))
        .page(site.spec.url.to_string())
        .detail("looked_for", p.words.clone()),
    ]
}

static DOC_NUMBER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[\p{Han}]{1,10}[〔\[［（(【]\s*(?:19|20)\d{2}\s*[〕\]］）)】]\s*\d{1,4}\s*号").expect("valid")
});

/// A policy document's number (浙政办发〔2024〕12号), if its title or text opening gives one.
#[must_use]
pub fn document_number(page: &Page) -> Option<String> {
    let opening: String = page.main_text.chars().take(400).collect();
    DOC_NUMBER
        .find(&page.title)
        .or_else(|| DOC_NUMBER.find(&opening))
        .map(|m| m.as_str().chars().filter(|c| !c.is_whitespace()).collect())
}

/// The words of a document's title that an interpretation would repeat: 《》, 关于, 印发 and
/// 的通知 left out ("关于印发《东湖区城市更新实施办法》的通知" → "东湖区城市更新实施办法").
fn title_core(title: &str) -> String {
    if let (Some(a), Some(b)) = (title.find('《'), title.find('》'))
        && a < b
    {
        return title[a + '《'.len_utf8()..b].to_owned();
    }
    let t = title.split(['_', '|']).next().unwrap_or(title);
    // "东湖区人民政府办公室关于印发…": what follows the issuer's 关于.
    let t = t.split_once("关于").map_or(t, |(_, rest)| rest);
    let t = t.trim_start_matches("印发").trim_start_matches("转发");
    let t = ["的通知", "的意见", "的决定", "的批复", "的公告"].iter().fold(t, |t, s| t.trim_end_matches(s));
    t.trim().to_owned()
}

/// `policy.no_interpretation`: policy documents (articles of policy columns, numbered where the
/// rubric says so, published within the window) that no interpretation names or links to.
#[must_use]
pub fn no_interpretation(site: &SiteModel, columns: &[ColumnInfo], rule: &Rule<InterpretationParams>) -> Vec<Finding> {
    let p = &rule.params;
    let as_of = site.as_of.date();
    let by_url = site.pages_by_url();
    let names_interp = |t: &str| p.words.iter().any(|w| t.contains(w.as_str()));
    // Documents listed by policy columns.
    let mut docs: Vec<&Page> = Vec::new();
    let mut seen: HashSet<&str> = HashSet::new();
    for c in columns.iter().filter(|c| c.kind == sitecensus_core::rubric::ColumnKind::Policy) {
        for list in c.pages.iter().filter_map(|u| by_url.get(u.as_str())) {
            for item in &list.items {
                if names_interp(&item.title) || !seen.insert(item.url.as_str()) {
                    continue;
                }
                if let Some(doc) = by_url.get(item.url.as_str())
                    && doc.page_kind == PageKind::Article
                {
                    docs.push(doc);
                }
            }
        }
    }
    // What interpretations say: titles of interpretation pages and items, their text, and the
    // link texts of every page that links to something with an interpretation's name.
    let mut interp_texts: Vec<&str> = Vec::new();
    for e in &site.pages {
        let Some(pg) = &e.page else { continue };
        if names_interp(&pg.title) {
            interp_texts.push(&pg.title);
            interp_texts.push(&pg.main_text);
        }
        interp_texts.extend(pg.items.iter().filter(|i| names_interp(&i.title)).map(|i| i.title.as_str()));
    }
    let linking_pages: HashSet<&str> = site
        .links
        .iter()
        .flat_map(|t| t.sources.iter())
        .filter(|s| names_interp(&s.text))
        .map(|s| s.page.as_str())
        .collect();
    let mut out = Vec::new();
    docs.sort_by(|a, b| a.url.cmp(&b.url));
    for doc in docs {
        let Some(published) = doc.published.as_deref().and_then(crate::model::day) else {
            continue;
        };
        if (as_of - published).num_days() > p.window_days || published > as_of {
            continue;
        }
        let number = document_number(doc);
        if p.numbered_only && number.is_none() {
            continue;
        }
        if linking_pages.contains(doc.url.as_str()) {
            continue;
        }
        let core = title_core(&doc.title);
        let named = interp_texts.iter().any(|t| {
            core.chars().count() >= 6 && t.contains(core.as_str()) || number.as_deref().is_some_and(|n| t.contains(n))
        });
        if named {
            continue;
        }
        let mut f = Finding::new(
            NO_INTERPRETATION,
            rule.severity,
            format!("policy document “{}” of {published} has no interpretation", doc.title),
        )
        .zh(format!("{published} 发布的政策文件“{}”没有解读", doc.title))
        .page(doc.url.clone())
        .detail("published", published.to_string());
        if let Some(n) = number {
            f = f.detail("document_number", n);
        }
        out.push(f);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_numbers_and_title_cores() {
        let mut page: Page = serde_json::from_value(serde_json::json!({
            "url": "http://x.gov.cn/zc/1.html", "encoding": "UTF-8", "encoding_source": "meta",
            "title": "东湖区人民政府关于印发《东湖区城市更新实施办法》的通知", "page_kind": "article",
            "published": "2024-06-01", "meta": {}, "viewport": null, "items": [], "blocks": [], "links": [],
            "invalid_links": [], "images": [], "forms": [], "breadcrumb": [],
            "main_text": "东政发〔2024〕12号\n各街道办事处……", "footer_text": "", "text_chars": 100
        }))
        .unwrap();
        assert_eq!(document_number(&page).as_deref(), Some("东政发〔2024〕12号"));
        assert_eq!(title_core(&page.title), "东湖区城市更新实施办法");
        assert_eq!(title_core("关于加强防汛工作的通知"), "加强防汛工作");
        assert_eq!(
            title_core("丰安县人民政府办公室关于印发丰安县防汛抗旱应急预案的通知_丰安县人民政府"),
            "丰安县防汛抗旱应急预案"
        );
        page.main_text = "电话 2024-12 号楼".into();
        assert_eq!(document_number(&page), None, "a date is not a document number");
    }
}
