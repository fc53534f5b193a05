//! Dead ends: `links.broken` (any link whose target fails — 4xx, 5xx, DNS, connect, timeout,
//! redirect loop, soft 404, malformed URL) and `service.broken_download` (a failing download:
//! a form a citizen cannot get). One finding per distinct target, with where it was seen.

use serde::Deserialize;
use sitecensus_core::CheckId;
use sitecensus_core::finding::clip;
use sitecensus_core::urlnorm;
use sitecensus_core::{Finding, LinkKind, Outcome};

use crate::Rule;
use crate::model::SiteModel;

/// `links.broken`.
pub const BROKEN: CheckId = CheckId::LinksBroken;
/// `service.broken_download`.
pub const BROKEN_DOWNLOAD: CheckId = CheckId::ServiceBrokenDownload;

/// Thresholds and dictionaries of `links.broken`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BrokenParams {
    /// Texts that make a 200 page a soft 404.
    pub soft404_messages: Vec<String>,
    /// Pages with more text than this are never soft 404s by their text alone.
    pub soft404_max_text_chars: usize,
}

/// Parameters of `service.broken_download`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DownloadParams {
    /// File extensions that are downloads.
    pub extensions: Vec<String>,
}

/// Most linking pages quoted in a finding.
const MAX_PAGES_QUOTED: usize = 5;

/// Broken links and broken downloads of a site. Without a `service.broken_download` rule,
/// downloads count as broken links.
#[must_use]
pub fn broken(site: &SiteModel, links: &Rule<BrokenParams>, downloads: Option<&Rule<DownloadParams>>) -> Vec<Finding> {
    let mut out = Vec::new();
    for t in &site.links {
        let Some(outcome) = &t.outcome else { continue };
        // A link into the inspector's own network is not broken for a citizen, and was not
        // followed: said, for information, so that nobody wonders where it went.
        let refused = matches!(outcome, Outcome::Blocked { .. });
        if !outcome.is_broken() && !refused {
            continue;
        }
        let on_homepage = t.sources.iter().any(|s| site.is_homepage(&s.page));
        let first = t.sources.iter().find(|s| site.is_homepage(&s.page)).or_else(|| t.sources.first());
        let is_download = t.kind == LinkKind::Download
            || downloads.is_some_and(|d| {
                url::Url::parse(&t.url)
                    .ok()
                    .and_then(|u| urlnorm::extension(&u))
                    .is_some_and(|e| d.params.extensions.contains(&e))
            });
        let (id, severity) = match (is_download, downloads) {
            (true, Some(d)) if !refused => (BROKEN_DOWNLOAD, d.severity),
            _ => (BROKEN, links.severity),
        };
        let text = first.map(|s| s.text.as_str()).unwrap_or("");
        let (evidence, evidence_zh) = if text.is_empty() {
            (outcome.describe(), outcome.describe_zh())
        } else {
            let text = clip(text, 40);
            (format!("「{text}」 → {}", outcome.describe()), format!("「{text}」 → {}", outcome.describe_zh()))
        };
        let mut f = Finding::new(id, severity, evidence)
            .zh(evidence_zh)
            .at_most_if(refused, sitecensus_core::Severity::Info)
            .target(t.url.clone())
            .detail("on_homepage", on_homepage)
            .detail("kind", t.kind.as_str())
            .detail("internal", t.internal)
            .detail("outcome", serde_json::to_value(outcome).unwrap_or_default())
            .detail("linked_from", t.total_sources.max(t.sources.len() as u32))
            .detail("pages", t.sources.iter().take(MAX_PAGES_QUOTED).map(|s| s.page.clone()).collect::<Vec<_>>())
            .detail("text", clip(text, 200));
        if let Outcome::SoftNotFound { reason, .. } = outcome {
            f = f.detail("soft404", reason.clone());
        }
        if refused {
            f = f.detail("refused", true);
        }
        if let Some(s) = first {
            f = f.page(s.page.clone());
        }
        out.push(f);
    }
    // Malformed hrefs never reach a server, but are just as dead for a visitor.
    for p in &site.pages {
        let Some(page) = &p.page else { continue };
        for inv in &page.invalid_links {
            out.push(
                Finding::new(
                    BROKEN,
                    links.severity,
                    format!("「{}」 → invalid URL: {}", clip(&inv.text, 40), inv.reason),
                )
                .zh(format!("「{}」 → 网址无效：{}", clip(&inv.text, 40), inv.reason))
                .page(p.final_url.clone())
                .target(inv.href.clone())
                .detail("on_homepage", site.is_homepage(&p.url) || site.is_homepage(&p.final_url))
                .detail("kind", "page")
                .detail("internal", true)
                .detail("outcome", serde_json::json!({"outcome": "invalid_url", "message": inv.reason}))
                .detail("text", clip(&inv.text, 200)),
            );
        }
    }
    out
}

/// Why a fetched 200 page is really a "page not found" page, judged by its own text.
#[must_use]
pub fn soft404_by_text(title: &str, text: &str, text_chars: usize, p: &BrokenParams) -> Option<String> {
    if text_chars > p.soft404_max_text_chars {
        return None;
    }
    p.soft404_messages
        .iter()
        .find(|m| title.contains(m.as_str()) || text.contains(m.as_str()))
        .map(|m| format!("{}{m:?}", sitecensus_core::outcome::SOFT404_SAYS))
}
