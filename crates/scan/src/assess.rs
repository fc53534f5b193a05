//! Assessment: a stored site becomes a site model, the site-level checks run over it, the rubric
//! scores all its findings, and the results take the contract's shape. `scan` does this as each
//! site finishes; `report` does it again over a stored run under another rubric or date.

use std::collections::HashMap;

use chrono::Duration;
use sitecensus_checks::twins::{self, Article, Boilerplate};
use sitecensus_checks::{Checks, HomepageFetch, LinkSource, LinkTarget, PageEntry, Probe, SiteModel};
use sitecensus_core::Finding;
use sitecensus_core::{AsOf, LinkKind, Outcome, Rubric};
use sitecensus_report::SiteResult;
use sitecensus_store::{CandidatePage, Op, SiteRow, Store, StoreError, Writer};

/// Most candidate pairs of articles examined across the sites of a run.
const CROSS_SITE_CANDIDATES: usize = 100_000;

/// Twin articles across the sites of a run: for each site, the findings about its articles that
/// copy an earlier article of another site without crediting it. `names` gives each site's names
/// (list name, homepage title, host) that a credit line may use.
///
/// # Errors
/// On store errors or unreadable stored data.
pub fn cross_site_twins(
    store: &Store,
    run_id: i64,
    checks: &Checks,
    sites: &[SiteRow],
    names: &HashMap<i64, Vec<String>>,
) -> Result<HashMap<i64, Vec<Finding>>, StoreError> {
    let given: HashMap<i64, &str> = sites.iter().map(|s| (s.id, s.spec.given.as_str())).collect();
    let mut boilerplates: HashMap<i64, Boilerplate> = HashMap::new();
    let mut out: HashMap<i64, Vec<Finding>> = HashMap::new();
    let none = Vec::new();
    for (a, b) in store.cross_site_candidates(run_id, CROSS_SITE_CANDIDATES)? {
        let (a, b) = (store.candidate_page(a)?, store.candidate_page(b)?);
        let (Some(art_a), Some(art_b)) =
            (article(store, &a, &mut boilerplates)?, article(store, &b, &mut boilerplates)?)
        else {
            continue;
        };
        let (a_names, b_names) = (names.get(&a.site_id).unwrap_or(&none), names.get(&b.site_id).unwrap_or(&none));
        let Some(f) = checks.cross_site_twin(&art_a, a_names, &art_b, b_names) else { continue };
        let (copy, original) = if f.page.as_deref() == Some(art_a.url.as_str()) { (&a, &b) } else { (&b, &a) };
        let f = f.detail("twin_site", given.get(&original.site_id).copied().unwrap_or_default());
        out.entry(copy.site_id).or_default().push(f);
    }
    Ok(out)
}

/// A stored candidate page as the twin check reads it (its own text without its site's
/// boilerplate); None when it has no page model.
fn article(
    store: &Store,
    c: &CandidatePage,
    boilerplates: &mut HashMap<i64, Boilerplate>,
) -> Result<Option<Article>, StoreError> {
    let Some(model) = &c.model else { return Ok(None) };
    let page: sitecensus_extract::Page = serde_json::from_str(model)
        .map_err(|e| StoreError::Corrupt { path: store.path().display().to_string(), message: e.to_string() })?;
    let boilerplate = match boilerplates.entry(c.site_id) {
        std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
        std::collections::hash_map::Entry::Vacant(e) => {
            e.insert(Boilerplate::from_hashes(store.site_boilerplate(c.site_id)?))
        }
    };
    Ok(Some(twins::article(&page, boilerplate)))
}

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
    // The scan's HTTPS probe is kept with its statistics.
    let https = site.stats.as_ref().and_then(|s| s.https.clone());
    Ok(SiteModel { spec: site.spec.clone(), as_of, homepage, pages, links, probes, https })
}

/// Where an assessment's own writes (site-level findings, the twin index) go.
#[derive(Clone, Copy)]
pub enum Sink<'a> {
    /// Straight into the store (rescoring, or when nothing else is writing).
    Store,
    /// Through the scan's writer thread, queued behind the crawl's writes instead of waiting for
    /// SQLite's write lock. From a blocking thread only.
    Writer(&'a Writer),
}

/// Runs the site-level checks over a stored site (plus `extra` findings found across sites), stores
/// their findings and the site's articles, scores everything under `rubric` and returns the site's
/// results.
///
/// # Errors
/// On store errors.
pub fn assess(
    store: &Store,
    site: &SiteRow,
    checks: &Checks,
    rubric: &Rubric,
    as_of: AsOf,
    extra: &[Finding],
    sink: Sink<'_>,
) -> Result<SiteResult, StoreError> {
    let model = site_model(store, site, as_of, checks.unreachable_params().map(|p| p.probe_window_days))?;
    let sitecensus_checks::SiteAssessment { findings: mut site_findings, columns, twin_index, figures } =
        checks.site(&model);
    // Checks against the same site's earlier run, where the store has one.
    if let Some((row, run)) = store.earlier_site(site.id)? {
        let then_as_of = AsOf::parse(&run.as_of)
            .map_err(|message| StoreError::Corrupt { path: store.path().display().to_string(), message })?;
        let then = site_model(store, &row, then_as_of, None)?;
        let found =
            checks.history(&model, sitecensus_checks::history::Earlier { site: &then, run: run.id }, &site_findings);
        site_findings.extend(found);
    }
    site_findings.extend_from_slice(extra);
    // The twin index does not change with findings from other sites: written once.
    let twin_index = extra.is_empty().then(|| {
        let articles: Vec<(String, Vec<u64>)> =
            twin_index.articles.iter().map(|(i, bands)| (model.pages[*i].url.clone(), bands.to_vec())).collect();
        (twin_index.boilerplate, articles)
    });
    match sink {
        Sink::Store => {
            store.replace_site_findings(site.id, &site_findings)?;
            if let Some((boilerplate, articles)) = &twin_index {
                store.replace_twin_index(site.id, boilerplate, articles)?;
            }
        }
        Sink::Writer(w) => {
            w.send_blocking(Op::SiteFindings { site_id: site.id, findings: site_findings.clone() })?;
            if let Some((boilerplate, articles)) = twin_index {
                w.send_blocking(Op::TwinIndex { site_id: site.id, boilerplate, articles })?;
            }
        }
    }
    let mut page_findings = store.findings(site.id, "page")?;
    // In address order, so that the page a repeated finding is reported on does not depend on
    // the order the crawl happened to fetch pages in.
    page_findings.sort_by(|a, b| (&a.page, &a.check, &a.evidence).cmp(&(&b.page, &b.check, &b.evidence)));
    let mut findings = sitecensus_checks::collapse_repeats(page_findings);
    // Only `score` weighs findings, under the rubric scored under now.
    findings.retain(|f| rubric.rule(f.check).is_some());
    findings.extend(site_findings);
    let card = sitecensus_score::score(&mut findings, rubric);
    let mut stats = site.stats.clone().unwrap_or_default();
    let count = |n: usize| n as u64;
    stats.pages_fetched = count(model.pages.len());
    stats.pages_failed = count(model.pages.iter().filter(|p| p.outcome.is_failure()).count());
    stats.links_checked = count(model.links.iter().filter(|l| l.outcome.is_some()).count());
    stats.links_broken =
        count(model.links.iter().filter(|l| l.outcome.as_ref().is_some_and(Outcome::is_broken)).count());
    stats.figures.extend(figures);
    let final_url = model.homepage.as_ref().map(|h| h.final_url.clone());
    let title = final_url
        .as_deref()
        .and_then(|u| model.pages.iter().find(|p| p.final_url == u || p.url == u))
        .and_then(|p| p.page.as_ref())
        .and_then(|p| site_title(&p.title));
    let mut result = SiteResult::new(&site.spec, card, stats, columns, findings, final_url);
    result.title = title;
    attach_screenshots(&mut result, &store.screenshots(site.id)?);
    Ok(result)
}

/// A site's result as the store keeps it in a scoring.
#[must_use]
pub fn stored_score(site_id: i64, r: &SiteResult) -> sitecensus_store::SiteScore<'_> {
    sitecensus_store::SiteScore {
        site_id,
        url: &r.url,
        name: r.name.as_deref(),
        level: r.level.as_deref(),
        region: r.region.as_deref(),
        verdict: r.verdict.as_str(),
        score: r.score,
        final_url: r.final_url.as_deref(),
        title: r.title.as_deref(),
        veto_items: &r.veto_items,
        deductions: &r.deductions,
        findings: &r.findings,
        columns: &r.columns,
        freshness: r.stats.figures.get("freshness"),
    }
}

/// Names, on each veto, the screenshot kept of its evidence page (`detail.screenshot`).
pub fn attach_screenshots(result: &mut SiteResult, shots: &std::collections::BTreeMap<String, std::path::PathBuf>) {
    if shots.is_empty() {
        return;
    }
    for f in &mut result.findings {
        if f.severity == sitecensus_core::Severity::Veto
            && let Some(p) = f.page.as_deref().and_then(|p| shots.get(p))
        {
            f.detail.insert("screenshot".into(), serde_json::Value::String(p.display().to_string()));
        }
    }
}

/// A site's name for itself from its homepage title: the last part that is not "首页"
/// ("首页_东湖区人民政府" → "东湖区人民政府").
fn site_title(title: &str) -> Option<String> {
    title
        .split(['_', '|', '-', '—', '–'])
        .map(str::trim)
        .rfind(|p| !p.is_empty() && !matches!(*p, "首页" | "网站首页" | "主页" | "Home" | "home"))
        .map(str::to_owned)
}
