//! The results file (`scan --json`, `report --json`): field names are a contract — fields are
//! added, never renamed or removed.

use serde::{Deserialize, Serialize};
use sitecensus_checks::Column;
use sitecensus_core::Finding;
use sitecensus_core::site::RowError;
use sitecensus_score::{Deduction, Scorecard, VetoHit};

/// The schema id of the results file.
pub const RESULTS_SCHEMA: &str = "sitecensus.results/1";

/// The schema id of a site's line in JSON Lines output (`--jsonl`).
pub const SITE_LINE_SCHEMA: &str = "sitecensus.site/1";
/// The schema id of an unassessed site's line in JSON Lines output.
pub const UNASSESSED_LINE_SCHEMA: &str = "sitecensus.unassessed/1";

/// One line of JSON Lines output: a record with its schema id and the run's context, so that
/// each line stands alone.
#[derive(Serialize)]
struct Line<'a, T> {
    schema: &'static str,
    as_of: &'a str,
    rubric: &'a str,
    run: Option<i64>,
    #[serde(flatten)]
    record: &'a T,
}

/// Writes the results as JSON Lines: one line per site (`sitecensus.site/1`: the site's object
/// of the results file, with `as_of`, `rubric` (its id) and `run` (its id)), then one per site
/// a census round could not assess (`sitecensus.unassessed/1`).
///
/// # Errors
/// When the writer fails.
pub fn write_jsonl(results: &Results, w: &mut dyn std::io::Write) -> std::io::Result<()> {
    let (as_of, rubric, run) = (results.as_of.as_str(), results.rubric.id.as_str(), results.run.as_ref().map(|r| r.id));
    for site in &results.sites {
        serde_json::to_writer(&mut *w, &Line { schema: SITE_LINE_SCHEMA, as_of, rubric, run, record: site })?;
        w.write_all(b"\n")?;
    }
    for site in &results.unassessed {
        serde_json::to_writer(&mut *w, &Line { schema: UNASSESSED_LINE_SCHEMA, as_of, rubric, run, record: site })?;
        w.write_all(b"\n")?;
    }
    Ok(())
}

/// The rubric a run was scored under.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RubricRef {
    /// Its id.
    pub id: String,
    /// Its title.
    pub title: String,
}

/// Which stored run the results come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    /// Run id in the store.
    pub id: i64,
    /// When the crawl started.
    pub started_at: String,
    /// When it finished.
    pub finished_at: Option<String>,
}

/// One site's results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SiteResult {
    /// The URL exactly as given.
    pub url: String,
    /// The site's name, where the list gives one.
    pub name: Option<String>,
    /// Administrative level.
    pub level: Option<String>,
    /// Region.
    pub region: Option<String>,
    /// `pass` or `fail`.
    pub verdict: sitecensus_score::Verdict,
    /// The score under the rubric.
    pub score: f64,
    /// The checks of the vetoes met.
    pub vetoes: Vec<sitecensus_core::CheckId>,
    /// Crawl statistics (pages_fetched, pages_failed, links_checked, duration_ms, …) and the
    /// checks' figures.
    pub stats: sitecensus_core::CrawlStats,
    /// Columns found.
    pub columns: Vec<Column>,
    /// Findings, veto first.
    pub findings: Vec<Finding>,
    /// Where the homepage ended up after redirects.
    #[serde(default)]
    pub final_url: Option<String>,
    /// The veto conditions met, with the official wording.
    #[serde(default)]
    pub veto_items: Vec<VetoHit>,
    /// Points taken per check.
    #[serde(default)]
    pub deductions: Vec<Deduction>,
    /// The name of the site's region (`江西省南昌市东湖区`), where its code is known.
    #[serde(default)]
    pub region_name: Option<String>,
    /// The homepage's title (the site's own name for itself), where it has one.
    #[serde(default)]
    pub title: Option<String>,
}

impl SiteResult {
    /// Assembles a site's results from its parts.
    #[must_use]
    pub fn new(
        spec: &sitecensus_core::SiteSpec,
        card: Scorecard,
        stats: sitecensus_core::CrawlStats,
        columns: Vec<Column>,
        findings: Vec<Finding>,
        final_url: Option<String>,
    ) -> Self {
        SiteResult {
            url: spec.given.clone(),
            name: spec.name.clone(),
            level: spec.level.map(|l| l.as_str().to_owned()),
            region: spec.region.clone(),
            region_name: spec.region.as_deref().and_then(sitecensus_core::region::name),
            verdict: card.verdict,
            score: card.score,
            vetoes: card.vetoes,
            stats,
            columns,
            findings,
            final_url,
            veto_items: card.veto_items,
            deductions: card.deductions,
            title: None,
        }
    }

    /// The veto items the site met, in the rubric's official wording, one each.
    #[must_use]
    pub fn veto_list(&self) -> String {
        let mut items: Vec<&str> = Vec::new();
        for v in &self.veto_items {
            if !items.contains(&v.item.as_str()) {
                items.push(&v.item);
            }
        }
        items.join("；")
    }

    /// A figure of a group of the site's stats (`interaction`, `guides`, `https`, `identity`)
    /// as shown in reports: numbers as they are, shares as percentages, "—" when absent.
    #[must_use]
    pub fn figure(&self, group: &str, key: &str) -> String {
        self.stats.figure(group, key)
    }

    /// Whether the site's stats carry the group (`interaction`, `guides`, `https`, `identity`).
    #[must_use]
    pub fn has(&self, group: &str) -> bool {
        self.stats.has(group)
    }
}

/// The whole results file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Results {
    /// Always [`RESULTS_SCHEMA`].
    pub schema: String,
    /// "Today" of the scoring (RFC 3339, UTC+8).
    pub as_of: String,
    /// The rubric.
    pub rubric: RubricRef,
    /// Sites in the order of the site list.
    pub sites: Vec<SiteResult>,
    /// The stored run.
    #[serde(default)]
    pub run: Option<RunInfo>,
    /// Rows of the site list that could not be used.
    #[serde(default)]
    pub site_list_errors: Vec<RowError>,
    /// The program that wrote it.
    #[serde(default)]
    pub generated_by: String,
    /// The census view: by level and region, the ranking, errors found on many sites.
    #[serde(default)]
    pub summary: crate::summary::Summary,
    /// The comparison with an earlier run of the same sites, when one was asked for.
    #[serde(default)]
    pub comparison: Option<crate::compare::Comparison>,
    /// Sites of a census round that could not be assessed (every worker that crawled one died
    /// or timed out on it): no verdict is given without evidence, so they are listed here, with
    /// the error, instead of in `sites`.
    #[serde(default)]
    pub unassessed: Vec<Unassessed>,
}

/// A site a census round could not assess.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unassessed {
    /// The URL exactly as given.
    pub url: String,
    /// Its name, where the list gives one.
    pub name: Option<String>,
    /// What stopped it.
    pub error: String,
    /// How many times workers took it.
    pub attempts: u32,
}

impl Results {
    /// An empty results file for a run.
    #[must_use]
    pub fn new(as_of: String, rubric: RubricRef, run: Option<RunInfo>) -> Self {
        Results {
            schema: RESULTS_SCHEMA.to_owned(),
            as_of,
            rubric,
            sites: Vec::new(),
            run,
            site_list_errors: Vec::new(),
            generated_by: concat!("sitecensus ", env!("CARGO_PKG_VERSION")).to_owned(),
            summary: crate::summary::Summary::default(),
            comparison: None,
            unassessed: Vec::new(),
        }
    }

    /// Computes the census summary once every site is in.
    pub fn summarize(&mut self) {
        self.summary = crate::summary::Summary::of(&self.sites);
    }

    /// Pretty JSON (for a census, prefer streaming with `serde_json::to_writer_pretty`).
    #[must_use]
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("results serialise")
    }
}
