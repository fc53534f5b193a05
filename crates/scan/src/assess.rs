//! Assessment: a stored site becomes a site model, the site-level checks run over it, the rubric
//! scores all its findings, and the results take the contract's shape. `scan` does this as each
//! site finishes; `report` does it again over a stored run under another rubric or date.

use std::collections::HashMap;

use chrono::Duration;
use serde_json::{Map, Value};
use sitecensus_checks::{Checks, HomepageFetch, LinkSource, LinkTarget, PageEntry, Probe, SiteModel};
use sitecensus_core::{AsOf, LinkKind, Outcome, Rubric};
use sitecensus_report::SiteResult;
use sitecensus_store::{SiteRow, Store, StoreError};

/// Reads a stored site back as the model the site-level checks take.
///
/// # Errors
/// On store errors or unreadable stored data.
pub fn site_model(
    store: &Store,
    site: &SiteRow,
    as_of: AsOf,
    probe_window_days: Option<u32>,
) -> Result<SiteModel, StoreError> {
    let corrupt =
        |e: serde_json::Error| StoreError::Corrupt { path: store.path().display().to_string(), message: e.to_string() };
    let homepage: Option<HomepageFetch> =
        site.homepage.clone().map(serde_json::from_value).transpose().map_err(corrupt)?;
    let mut pages = Vec::new();
    for p in store.pages(site.id)? {
        pages.push(PageEntry {
            url: p.url,
            final_url: p.final_url,
            depth: p.depth,
            outcome: serde_json::from_str(&p.outcome).map_err(corrupt)?,
            page: p.model.as_deref().map(serde_json::from_str).transpose().map_err(corrupt)?,
        });
    }
    let mut sources: HashMap<String, Vec<LinkSource>> = HashMap::new();
    for s in store.link_sources(site.id)? {
        sources.entry(s.url).or_default().push(LinkSource {
            page: s.page,
            text: s.text.unwrap_or_default(),
            hidden: s.hidden,
        });
    }
    let mut links = Vec::new();
    for l in store.links(site.id)? {
        let srcs = sources.remove(&l.url).unwrap_or_default();
        links.push(LinkTarget {
            kind: LinkKind::parse(&l.kind).unwrap_or(LinkKind::Page),
            internal: l.internal,
            outcome: l.outcome.as_deref().map(serde_json::from_str::<Outcome>).transpose().map_err(corrupt)?,
            total_sources: u32::try_from(l.sources).unwrap_or(0).max(srcs.len() as u32),
            sources: srcs,
            url: l.url,
        });
    }
    links.sort_by(|a, b| a.url.cmp(&b.url));
    let probes = match probe_window_days {
        Some(days) => {
            let from = (as_of.0 - Duration::days(i64::from(days))).to_rfc3339();
            store
                .probes(site.spec.url.as_str(), &from, &as_of.to_rfc3339())?
                .into_iter()
                .map(|p| Probe { at: p.at, ok: p.ok, elapsed_ms: p.elapsed_ms, error: p.error })
                .collect()
        }
        None => Vec::new(),
    };
    Ok(SiteModel { spec: site.spec.clone(), as_of, homepage, pages, links, probes })
}

/// Runs the site-level checks over a stored site, stores their findings, scores everything under
/// `rubric` and returns the site's results.
///
/// # Errors
/// On store errors.
pub fn assess(
    store: &Store,
    site: &SiteRow,
    checks: &Checks,
    rubric: &Rubric,
    as_of: AsOf,
) -> Result<SiteResult, StoreError> {
    let model = site_model(store, site, as_of, checks.unreachable_params().map(|p| p.probe_window_days))?;
    let sitecensus_checks::SiteAssessment { findings: site_findings, columns } = checks.site(&model);
    store.replace_site_findings(site.id, &site_findings)?;
    let mut page_findings = store.findings(site.id, "page")?;
    // In address order, so that the page a repeated finding is reported on does not depend on
    // the order the crawl happened to fetch pages in.
    page_findings.sort_by(|a, b| (&a.page, &a.check, &a.evidence).cmp(&(&b.page, &b.check, &b.evidence)));
    let mut findings = sitecensus_checks::collapse_repeats(page_findings);
    // Page findings were stored with the severity of the rubric in force at scan time.
    for f in &mut findings {
        if let Some(rule) = rubric.rule(&f.check)
            && f.severity != sitecensus_core::Severity::Warn
            && f.severity != sitecensus_core::Severity::Info
        {
            f.severity = rule.severity;
        }
    }
    findings.retain(|f| rubric.rule(&f.check).is_some());
    findings.extend(site_findings);
    let card = sitecensus_score::score(&mut findings, rubric);
    let mut stats: Map<String, Value> = match &site.stats {
        Some(Value::Object(m)) => m.clone(),
        _ => Map::new(),
    };
    let checked = model.links.iter().filter(|l| l.outcome.is_some()).count();
    let broken = model.links.iter().filter(|l| l.outcome.as_ref().is_some_and(Outcome::is_broken)).count();
    stats.insert("pages_fetched".into(), Value::from(model.pages.len()));
    stats.insert("pages_failed".into(), Value::from(model.pages.iter().filter(|p| p.outcome.is_failure()).count()));
    stats.insert("links_checked".into(), Value::from(checked));
    stats.insert("links_broken".into(), Value::from(broken));
    stats.entry("duration_ms").or_insert(Value::from(0));
    let final_url = model.homepage.as_ref().map(|h| h.final_url.clone());
    Ok(SiteResult::new(&site.spec, card, stats, columns, findings, final_url))
}
