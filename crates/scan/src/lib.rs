//! The scan pipeline of sitecensus: sites → fetch → extract → page checks → store, then per site
//! the site checks and the score. Thousands of sites crawl at once in one process; memory per
//! site is bounded by its page and link budgets (URLs are kept as 64-bit hashes), bodies by the
//! fetcher's caps, parsing by one CPU slot per core.

mod assess;
mod crawl;
pub mod frontier;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use serde::Serialize;
use sitecensus_checks::{Checks, ParamError};
use sitecensus_core::{AsOf, Rubric, SiteSpec, hash64};
use sitecensus_fetch::{FetchConfig, Fetcher, WarcWriter};
use sitecensus_render::{RenderConfig, Renderer};
use sitecensus_report::{Results, RubricRef, RunInfo, SiteResult};
use sitecensus_store::{RunRow, SiteRow, SiteStatus, Store, StoreError};
use tokio::sync::Semaphore;

pub use assess::{Sink, assess, cross_site_twins, site_model};

/// The default page budget per site.
pub const DEFAULT_MAX_PAGES: usize = 5000;
/// The default depth limit (links from the homepage).
pub const DEFAULT_MAX_DEPTH: u32 = 10;
/// The default budget of link checks per site.
pub const DEFAULT_MAX_LINKS: usize = 20_000;

/// Settings of a scan.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// "Today" for every window.
    pub as_of: AsOf,
    /// Whether the user gave `--as-of` (else a resumed run keeps its own).
    pub as_of_given: bool,
    /// The rubric.
    pub rubric: Rubric,
    /// The fetcher's settings.
    pub fetch: FetchConfig,
    /// Page budget per site.
    pub max_pages: usize,
    /// Depth limit.
    pub max_depth: u32,
    /// Link-check budget per site.
    pub max_links: usize,
    /// Whether robots.txt is ignored (as an inspection office may).
    pub ignore_robots: bool,
    /// Where to archive responses as WARC.
    pub warc: Option<PathBuf>,
    /// Object storage the WARC files and screenshots are put on once written (`--archive`);
    /// without `warc`, they are written to a spool folder first and removed once put.
    pub archive: Option<sitecensus_fetch::Archive>,
    /// Sites crawled at once.
    pub sites_in_flight: usize,
    /// Whether links to other sites are checked.
    pub check_external: bool,
    /// URL length cap.
    pub max_url_len: usize,
    /// Whether each site's HTTPS is probed once (its certificate and dates kept in `stats.https`).
    pub https_check: bool,
    /// The port HTTPS is probed on for sites given as `http://` (443 unless set).
    pub https_port: Option<u16>,
    /// Rendering of pages the static reading could not read (None: off, `--no-render`).
    pub render: Option<RenderOptions>,
    /// Each host's pace and connections, shared with other requests of this process to the same
    /// hosts (the monitor's probes and passes); None: the scan's own, from `fetch.politeness`.
    pub limits: Option<Arc<sitecensus_fetch::politeness::Limits>>,
}

/// How pages drawn by scripts are rendered, and vetoes' evidence pages photographed.
#[derive(Debug, Clone)]
pub struct RenderOptions {
    /// Pages rendered per site at most (`--render-budget`).
    pub budget: usize,
    /// The browser to run; None looks for Debian's `chromium` on `PATH`.
    pub executable: Option<PathBuf>,
    /// Pages rendered at once over the run.
    pub tabs: usize,
    /// Screenshots of each veto's evidence page, kept with the run.
    pub screenshots: bool,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            budget: sitecensus_render::DEFAULT_BUDGET,
            executable: None,
            tabs: sitecensus_render::DEFAULT_TABS,
            screenshots: true,
        }
    }
}

/// Screenshots taken per site at most (one per distinct evidence page of a veto).
const SCREENSHOTS_PER_SITE: usize = 5;

impl ScanOptions {
    /// Options with every default, for `rubric` and `as_of`.
    #[must_use]
    pub fn new(rubric: Rubric, as_of: AsOf) -> Self {
        ScanOptions {
            as_of,
            as_of_given: false,
            rubric,
            fetch: FetchConfig::default(),
            max_pages: DEFAULT_MAX_PAGES,
            max_depth: DEFAULT_MAX_DEPTH,
            max_links: DEFAULT_MAX_LINKS,
            ignore_robots: false,
            warc: None,
            archive: None,
            sites_in_flight: 32,
            check_external: true,
            max_url_len: frontier::DEFAULT_MAX_URL_LEN,
            https_check: true,
            https_port: None,
            render: Some(RenderOptions::default()),
            limits: None,
        }
    }
}

/// Where a scan tells the user how it goes.
pub trait Progress: Send + Sync {
    /// A site's crawl starts.
    fn site_started(&self, site: &SiteSpec);
    /// A page was fetched.
    fn page_fetched(&self, site: &SiteSpec, url: &str, ok: bool);
    /// A site is done and assessed.
    fn site_finished(&self, result: &SiteResult);
    /// Something the user should know that is not a finding (an unreadable sitemap, say).
    fn message(&self, text: &str);
}

/// Progress that tells nobody.
pub struct Silent;

impl Progress for Silent {
    fn site_started(&self, _: &SiteSpec) {}
    fn page_fetched(&self, _: &SiteSpec, _: &str, _: bool) {}
    fn site_finished(&self, _: &SiteResult) {}
    fn message(&self, _: &str) {}
}

/// Why a scan could not run (a failed fetch is never one of these: it is a finding).
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The rubric's parameters do not fit its checks.
    #[error("rubric {rubric}: {source}")]
    Rubric {
        /// The rubric.
        rubric: String,
        /// What is wrong.
        #[source]
        source: ParamError,
    },
    /// The HTTP client could not be built.
    #[error(transparent)]
    Fetch(#[from] sitecensus_fetch::client::BuildError),
    /// The WARC archive could not be written.
    #[error("WARC archive {path}: {source}")]
    Warc {
        /// Its folder.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// No run to report on.
    #[error("{0}")]
    NoRun(String),
}

/// What a scan produced.
pub struct ScanOutcome {
    /// The stored run.
    pub run: RunRow,
    /// Whether an interrupted run was resumed.
    pub resumed: bool,
    /// The results, in site-list order.
    pub results: Results,
    /// WARC files written.
    pub warc_files: Vec<PathBuf>,
    /// What went to object storage, and what could not (kept on local disk).
    pub archived: Archived,
}

#[derive(Serialize)]
struct Identity<'a> {
    sites: Vec<(&'a str, &'a str, bool)>,
    max_pages: usize,
    max_depth: u32,
    ignore_robots: bool,
}

/// The identity of a scan for resuming: the same site list and crawl limits.
#[must_use]
pub fn spec_hash(sites: &[SiteSpec], opts: &ScanOptions) -> String {
    let id = Identity {
        sites: sites.iter().map(|s| (s.given.as_str(), s.url.as_str(), s.include_subdomains)).collect(),
        max_pages: opts.max_pages,
        max_depth: opts.max_depth,
        ignore_robots: opts.ignore_robots,
    };
    format!("{:016x}", hash64(serde_json::to_string(&id).expect("identity serialises").as_bytes()))
}

fn rubric_ref(r: &Rubric) -> RubricRef {
    RubricRef { id: r.id.clone(), title: r.title.clone() }
}

fn run_info(run: &RunRow) -> RunInfo {
    RunInfo { id: run.id, started_at: run.started_at.clone(), finished_at: run.finished_at.clone() }
}

/// Scans `sites`: resumes the unfinished run with the same identity if there is one, else
/// starts a new run; crawls each site not yet done, assesses it and reports its results.
///
/// # Errors
/// When the store, the rubric or the WARC folder fail; failures of sites are findings.
pub async fn scan(
    store: Arc<Store>,
    sites: Vec<SiteSpec>,
    mut opts: ScanOptions,
    progress: Arc<dyn Progress>,
) -> Result<ScanOutcome, ScanError> {
    let prepare = |opts: &ScanOptions| {
        Checks::new(&opts.rubric, opts.as_of.date())
            .map_err(|source| ScanError::Rubric { rubric: opts.rubric.id.clone(), source })
    };
    // Prepared before anything is stored, so that a bad rubric leaves no run behind.
    let mut checks = Arc::new(prepare(&opts)?);
    // One scan at a time per store: a second is told which run is busy.
    let mut lock = store.lock_scan()?;
    let hash = spec_hash(&sites, &opts);
    let (run, resumed) = match store.resumable_run(&hash)? {
        Some(run) => (run, true),
        None => {
            let options = serde_json::json!({
                "max_pages": opts.max_pages, "max_depth": opts.max_depth, "ignore_robots": opts.ignore_robots,
                "per_host_rps": opts.fetch.politeness.per_host_rps,
                "per_host_connections": opts.fetch.politeness.per_host_connections,
                "timeout_secs": opts.fetch.timeout.as_secs_f64(),
            });
            (store.create_run(&opts.as_of.to_rfc3339(), &opts.rubric.id, &hash, &options.to_string())?, false)
        }
    };
    lock.note_run(run.id);
    if resumed
        && !opts.as_of_given
        && let Ok(a) = AsOf::parse(&run.as_of)
    {
        opts.as_of = a;
        checks = Arc::new(prepare(&opts)?);
    }
    let site_rows = store.add_sites(run.id, &sites)?;
    let scoring =
        store.start_scoring(run.id, (&opts.rubric.id, &opts.rubric.title), &opts.as_of.to_rfc3339(), "scan")?;
    let env = Env::start(&store, &run, &opts, &checks, scoring, &format!("run{}", run.id), progress.clone())?;
    for s in &sites {
        env.fetcher.guard().allow_host(s.host());
    }
    // The store's rows carry the sites from here on.
    drop(sites);
    let ctx = env.ctx.clone();
    // A site's task is spawned when a slot is free, not before: a waiting task holds its whole
    // crawl state, and a list of 100,000 sites would hold gigabytes of them from the start.
    let slots = Arc::new(Semaphore::new(opts.sites_in_flight.max(1)));
    let mut running = tokio::task::JoinSet::new();
    let mut finished: Vec<Option<SiteResult>> = Vec::new();
    finished.resize_with(site_rows.len(), || None);
    let reap = |r: Result<(usize, Result<SiteResult, ScanError>), tokio::task::JoinError>,
                finished: &mut Vec<Option<SiteResult>>| {
        let (i, r) = r.map_err(|e| ScanError::NoRun(format!("a site task failed: {e}")))?;
        finished[i] = Some(r?);
        Ok::<_, ScanError>(())
    };
    for (i, row) in site_rows.into_iter().enumerate() {
        let slot = slots.clone().acquire_owned().await.expect("site slots never close");
        while let Some(r) = running.try_join_next() {
            reap(r, &mut finished)?;
        }
        let ctx = ctx.clone();
        running.spawn(async move {
            let _slot = slot;
            (i, site_task(&ctx, row).await)
        });
    }
    while let Some(r) = running.join_next().await {
        reap(r, &mut finished)?;
    }
    let mut results = Results::new(opts.as_of.to_rfc3339(), rubric_ref(&opts.rubric), Some(run_info(&run)));
    results.sites = finished.into_iter().flatten().collect();
    // The sites' twin indexes are queued writes: committed before they are looked up.
    ctx.writer.flush().await?;
    let started = std::time::Instant::now();
    let updated = apply_cross_site(&store, run.id, &checks, &opts.rubric, opts.as_of, &mut results)?;
    tracing::info!(sites = updated.len(), ms = started.elapsed().as_millis() as u64, "twin articles across sites");
    for (i, site_id, copies) in updated {
        let site = &results.sites[i];
        store.put_site_score(scoring, &assess::stored_score(site_id, site))?;
        progress.message(&format!(
            "{} copies {copies} article(s) of other sites in this run (accuracy.twin_articles); assessed again:",
            site.name.as_deref().unwrap_or(&site.url)
        ));
        progress.site_finished(site);
    }
    drop(ctx);
    let (warc_files, archived) = env.finish(&opts).await?;
    keep_warc_files(&store, run.id, &opts, &warc_files)?;
    store.finish_scoring(scoring)?;
    store.finish_run(run.id)?;
    drop(lock);
    let run = store.run(run.id)?.unwrap_or(run);
    results.run = Some(run_info(&run));
    results.summarize();
    Ok(ScanOutcome { run, resumed, results, warc_files, archived })
}

/// What a scan or a worker crawls with: the fetcher (and its WARC writer), the renderer, and the
/// shared context of every site task.
struct Env {
    ctx: Arc<crawl::Ctx>,
    fetcher: Arc<Fetcher>,
    renderer: Option<Arc<Renderer>>,
    warc_writer: Option<WarcWriter>,
    /// The folder WARC files wait in for object storage, when no `--warc` folder keeps them.
    spool: Option<PathBuf>,
    run_id: i64,
}

/// What a run put on object storage.
#[derive(Debug, Default)]
pub struct Archived {
    /// Where each file went (`s3://bucket/prefix/name`).
    pub put: Vec<String>,
    /// Files that could not be put, with the error; they stay where they are.
    pub failed: Vec<(PathBuf, String)>,
}

impl Env {
    /// Starts the fetcher, the WARC writer (files named `sitecensus-<store>-<name>-NNNNN`) and the
    /// renderer for a run; site results go to `scoring`.
    fn start(
        store: &Arc<Store>,
        run: &RunRow,
        opts: &ScanOptions,
        checks: &Arc<Checks>,
        scoring: i64,
        name: &str,
        progress: Arc<dyn Progress>,
    ) -> Result<Self, ScanError> {
        let spool = opts.archive.as_ref().filter(|_| opts.warc.is_none()).map(|_| {
            std::env::temp_dir().join(format!("sitecensus-spool-{}-{:08x}", std::process::id(), fastrand::u32(..)))
        });
        let (warc_writer, warc_handle) = match opts.warc.as_ref().or(spool.as_ref()) {
            Some(dir) => {
                // Files of two stores never share names: the prefix names this store (by its path's
                // hash) as well as the run.
                let store_path = std::fs::canonicalize(store.path()).unwrap_or_else(|_| store.path().to_owned());
                let tag = hash64(store_path.display().to_string().as_bytes()) as u32;
                let info = vec![
                    ("isPartOf".to_owned(), format!("sitecensus run {} of {}", run.id, store_path.display())),
                    ("sitecensus-run".to_owned(), run.id.to_string()),
                    ("sitecensus-as-of".to_owned(), opts.as_of.to_rfc3339()),
                    ("sitecensus-rubric".to_owned(), format!("{} ({})", opts.rubric.id, opts.rubric.title)),
                    ("http-header-user-agent".to_owned(), opts.fetch.user_agent.clone()),
                    (
                        "robots".to_owned(),
                        if opts.ignore_robots { "ignore (--ignore-robots)" } else { "obey (RFC 9309)" }.to_owned(),
                    ),
                    (
                        "description".to_owned(),
                        "bodies are stored decoded: X-Archive-Orig-Content-Encoding and X-Archive-Orig-Content-Length \
                     give what came on the wire"
                            .to_owned(),
                    ),
                ];
                // Files kept on disk get an index, for the web app's replay; spooled ones go.
                let (w, h) =
                    WarcWriter::start_indexed(dir, &format!("sitecensus-{tag:08x}-{name}"), info, opts.warc.is_some())
                        .map_err(|source| ScanError::Warc { path: dir.display().to_string(), source })?;
                (Some(w), Some(h))
            }
            None => (None, None),
        };
        let fetcher = Arc::new(match &opts.limits {
            Some(l) => Fetcher::with_limits(opts.fetch.clone(), warc_handle, l.clone())?,
            None => Fetcher::new(opts.fetch.clone(), warc_handle)?,
        });
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        let renderer = opts.render.as_ref().map(|r| {
            let mut cfg = RenderConfig::new(fetcher.guard().clone(), &opts.fetch.user_agent);
            cfg.executable = r.executable.clone();
            cfg.tabs = r.tabs;
            cfg.resolve = opts.fetch.resolve.clone();
            cfg.proxy = fetcher.proxy_server();
            cfg.headers = opts.fetch.headers.clone();
            cfg.timeout = opts.fetch.timeout + cfg.settle;
            Arc::new(Renderer::new(cfg))
        });
        let ctx = Arc::new(crawl::Ctx {
            renderer: renderer.clone(),
            fetcher: fetcher.clone(),
            writer: store.writer()?,
            store: store.clone(),
            checks: checks.clone(),
            opts: Arc::new(opts.clone()),
            cpu: Arc::new(crawl::ParseSlots::new(cores)),
            progress,
            scoring,
        });
        Ok(Env { ctx, fetcher, renderer, warc_writer, spool, run_id: run.id })
    }

    /// Stops the renderer and closes the WARC files; puts them and the run's screenshots on the
    /// object storage, if any; returns the WARC files and what was archived.
    async fn finish(self, opts: &ScanOptions) -> Result<(Vec<PathBuf>, Archived), ScanError> {
        let Env { ctx, fetcher, renderer, warc_writer, spool, run_id } = self;
        let screenshots = ctx.store.files_dir().join(format!("run-{run_id}/screenshots"));
        drop(ctx);
        if let Some(r) = &renderer {
            r.shutdown().await;
        }
        drop(fetcher);
        let files = match warc_writer {
            Some(w) => w.finish().map_err(|source| ScanError::Warc {
                path: opts.warc.as_ref().or(spool.as_ref()).map(|p| p.display().to_string()).unwrap_or_default(),
                source,
            })?,
            None => Vec::new(),
        };
        let Some(archive) = &opts.archive else { return Ok((files, Archived::default())) };
        let mut archived = Archived::default();
        let shots = std::fs::read_dir(&screenshots)
            .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect::<Vec<_>>())
            .unwrap_or_default();
        let named = files
            .iter()
            .map(|f| (f.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(), f.clone()))
            .chain(shots.into_iter().map(|f| {
                let name = f.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                (format!("run-{run_id}/screenshots/{name}"), f)
            }));
        for (name, path) in named {
            match archive.put_file(&name, &path).await {
                Ok(()) => {
                    archived.put.push(archive.location(&name));
                    if spool.as_ref().is_some_and(|s| path.starts_with(s)) {
                        let _ = std::fs::remove_file(&path);
                    }
                }
                Err(e) => archived.failed.push((path, e.to_string())),
            }
        }
        if let Some(s) = &spool {
            // Removed only when empty: files that could not be put stay.
            let _ = std::fs::remove_dir(s);
        }
        // A spooled file's local path is gone once it is put: the object is the file now.
        let files = if spool.is_some() { files.into_iter().filter(|f| f.exists()).collect() } else { files };
        Ok((files, archived))
    }
}

async fn site_task(ctx: &crawl::Ctx, row: SiteRow) -> Result<SiteResult, ScanError> {
    if row.status != SiteStatus::Done {
        ctx.progress.site_started(&row.spec);
        ctx.store.set_site_status(row.id, SiteStatus::Crawling, None)?;
        let stats = crawl::SiteCrawl::new(ctx, &row).run().await?;
        ctx.store.set_site_status(row.id, SiteStatus::Done, Some(&stats))?;
    }
    let row = ctx.store.sites_by_id(row.id)?;
    let (site_id, given) = (row.id, row.spec.given.clone());
    let store = ctx.store.clone();
    let checks = ctx.checks.clone();
    let opts = ctx.opts.clone();
    let writer = ctx.writer.clone();
    let result = tokio::task::spawn_blocking(move || {
        let started = std::time::Instant::now();
        let r = assess(&store, &row, &checks, &opts.rubric, opts.as_of, &[], Sink::Writer(&writer));
        tracing::info!(site = %row.spec.given, ms = started.elapsed().as_millis() as u64, "assessed");
        r
    })
    .await
    .map_err(|e| ScanError::NoRun(format!("assessing a site failed: {e}")))??;
    let result = screenshot_vetoes(ctx, site_id, &given, result).await?;
    ctx.store.put_site_score(ctx.scoring, &assess::stored_score(site_id, &result))?;
    ctx.progress.site_finished(&result);
    Ok(result)
}

/// Photographs the evidence pages of a site's vetoes (as a browser draws them) and keeps the
/// PNGs with the run; the findings name them in `detail.screenshot`.
async fn screenshot_vetoes(
    ctx: &crawl::Ctx,
    site_id: i64,
    given: &str,
    mut result: SiteResult,
) -> Result<SiteResult, ScanError> {
    let (Some(r), Some(opts)) = (&ctx.renderer, &ctx.opts.render) else { return Ok(result) };
    if !opts.screenshots || r.known_unavailable().is_some() {
        return Ok(result);
    }
    let have = ctx.store.screenshots(site_id)?;
    // One evidence page for every vetoing check first, then the others, up to the cap.
    let vetoes: Vec<&sitecensus_core::Finding> = result
        .findings
        .iter()
        .filter(|f| {
            f.severity == sitecensus_core::Severity::Veto
                && f.check != sitecensus_core::CheckId::AvailabilityUnreachable
        })
        // A spreadsheet or document behind a veto is kept as fetched, not drawn.
        .filter(|f| {
            f.page.as_deref().and_then(|p| url::Url::parse(p).ok()).is_some_and(|u| {
                sitecensus_core::urlnorm::extension(&u)
                    .is_none_or(|e| !sitecensus_extract::page::DOWNLOAD_EXTENSIONS.contains(&e.as_str()))
            })
        })
        .collect();
    let mut wanted: Vec<String> = Vec::new();
    let mut covered: Vec<sitecensus_core::CheckId> = Vec::new();
    for first_pass in [true, false] {
        for f in &vetoes {
            let Some(p) = &f.page else { continue };
            if first_pass && covered.contains(&f.check) {
                continue;
            }
            covered.push(f.check);
            if !have.contains_key(p) && !wanted.contains(p) && wanted.len() < SCREENSHOTS_PER_SITE {
                wanted.push(p.clone());
            }
        }
    }
    if wanted.is_empty() {
        return Ok(result);
    }
    for page in wanted {
        let Ok(url) = url::Url::parse(&page) else { continue };
        match r.screenshot(&url).await {
            Ok(png) => {
                ctx.store.add_screenshot(site_id, &page, &png)?;
            }
            Err(e) => tracing::warn!(site = %given, %page, "no screenshot of a veto's page: {e}"),
        }
    }
    assess::attach_screenshots(&mut result, &ctx.store.screenshots(site_id)?);
    Ok(result)
}

/// Scores a stored run again (under `rubric` and `as_of`, or the run's own), fetching nothing.
///
/// # Errors
/// When there is no such run, or the store or rubric fail.
pub fn report(store: &Store, run_id: Option<i64>, rubric: &Rubric, as_of: Option<AsOf>) -> Result<Results, ScanError> {
    let run = match run_id {
        Some(id) => {
            store.run(id)?.ok_or_else(|| ScanError::NoRun(format!("no run {id} in {}", store.path().display())))?
        }
        None => store
            .latest_run()?
            .ok_or_else(|| ScanError::NoRun(format!("no run in {} yet: scan first", store.path().display())))?,
    };
    score_run(store, &run, rubric, as_of, "report")
}

/// Scores a stored run (under `rubric`, as of `as_of` or the run's own) and stores the scoring,
/// `source` naming who scored it. Sites a census could not assess are listed, not scored.
fn score_run(
    store: &Store,
    run: &RunRow,
    rubric: &Rubric,
    as_of: Option<AsOf>,
    source: &str,
) -> Result<Results, ScanError> {
    let as_of = match as_of {
        Some(a) => a,
        None => AsOf::parse(&run.as_of).map_err(ScanError::NoRun)?,
    };
    let checks =
        Checks::new(rubric, as_of.date()).map_err(|source| ScanError::Rubric { rubric: rubric.id.clone(), source })?;
    let mut results = Results::new(as_of.to_rfc3339(), rubric_ref(rubric), Some(run_info(run)));
    // Each rescoring is stored beside the earlier ones.
    let scoring = store.start_scoring(run.id, (&rubric.id, &rubric.title), &as_of.to_rfc3339(), source)?;
    let (rows, failed): (Vec<SiteRow>, Vec<SiteRow>) =
        store.sites(run.id)?.into_iter().partition(|row| row.status != SiteStatus::Failed);
    results.unassessed = failed
        .into_iter()
        .map(|row| sitecensus_report::Unassessed {
            url: row.spec.given,
            name: row.spec.name,
            error: row.error.unwrap_or_else(|| "its crawl did not finish".to_owned()),
            attempts: row.attempts,
        })
        .collect();
    for row in &rows {
        results.sites.push(assess(store, row, &checks, rubric, as_of, &[], Sink::Store)?);
    }
    apply_cross_site(store, run.id, &checks, rubric, as_of, &mut results)?;
    for (row, r) in rows.iter().zip(&results.sites) {
        store.put_site_score(scoring, &assess::stored_score(row.id, r))?;
    }
    store.finish_scoring(scoring)?;
    results.summarize();
    Ok(results)
}

/// A scored census round in numbers (its results are in the store, for `report`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoundTally {
    /// Sites that pass.
    pub pass: usize,
    /// Sites that fail.
    pub fail: usize,
    /// Sites no worker could assess.
    pub unassessed: usize,
}

/// Scores a finished census round: its workers stored each site's scored result as the site
/// finished, in the round's scoring; what is left is the search for twin articles across sites
/// (each site's names and verdict are read back, not its results), assessing again the sites
/// that copy, and any site done without a stored score (its worker died in between). A round of
/// 85,000 sites is scored in the memory of a few.
fn score_round(store: &Store, run: &RunRow, rubric: &Rubric) -> Result<RoundTally, ScanError> {
    let as_of = AsOf::parse(&run.as_of).map_err(ScanError::NoRun)?;
    let checks =
        Checks::new(rubric, as_of.date()).map_err(|source| ScanError::Rubric { rubric: rubric.id.clone(), source })?;
    let scoring = store.census_scoring(run.id)?;
    let scored: HashMap<i64, sitecensus_store::ScoredSite> =
        store.scored_sites(scoring)?.into_iter().map(|s| (s.site_id, s)).collect();
    let rows = store.sites(run.id)?;
    let mut tally = RoundTally::default();
    let mut names: HashMap<i64, Vec<String>> = HashMap::new();
    let mut passes: HashMap<i64, bool> = HashMap::new();
    for row in &rows {
        if row.status == SiteStatus::Failed {
            tally.unassessed += 1;
            continue;
        }
        let (n, pass) = match scored.get(&row.id) {
            Some(s) => (site_names(row, s.name.as_deref(), s.title.as_deref()), s.verdict == "pass"),
            None => {
                let r = assess(store, row, &checks, rubric, as_of, &[], Sink::Store)?;
                store.put_site_score(scoring, &assess::stored_score(row.id, &r))?;
                (twin_names(row, Some(&r)), r.verdict == sitecensus_score::Verdict::Pass)
            }
        };
        names.insert(row.id, n);
        passes.insert(row.id, pass);
    }
    let extras = cross_site_twins(store, run.id, &checks, &rows, &names)?;
    for row in rows.iter().filter(|r| r.status != SiteStatus::Failed) {
        if let Some(extra) = extras.get(&row.id) {
            let r = assess(store, row, &checks, rubric, as_of, extra, Sink::Store)?;
            store.put_site_score(scoring, &assess::stored_score(row.id, &r))?;
            passes.insert(row.id, r.verdict == sitecensus_score::Verdict::Pass);
        }
    }
    store.finish_scoring(scoring)?;
    tally.pass = passes.values().filter(|p| **p).count();
    tally.fail = passes.len() - tally.pass;
    Ok(tally)
}

/// How a census worker takes sites.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// Its name in the store (host, process and a random part: unique across machines).
    pub id: String,
    /// How long a lease lasts without renewal; renewed every third of it.
    pub lease: std::time::Duration,
    /// Takes of one site before it fails.
    pub max_attempts: u32,
    /// Longest a worker crawls one site before giving it back with an error.
    pub site_timeout: std::time::Duration,
}

impl WorkerOptions {
    /// The lease in whole seconds, as the store keeps it.
    fn lease_secs(&self) -> i64 {
        i64::try_from(self.lease.as_secs()).unwrap_or(i64::MAX).max(1)
    }
}

/// What a worker did.
#[derive(Debug)]
pub struct WorkOutcome {
    /// Sites it crawled and scored.
    pub done: usize,
    /// Sites it gave back after an error, or lost to another worker.
    pub given_back: usize,
    /// The round's tally, when this worker scored the finished round.
    pub scored: Option<RoundTally>,
    /// WARC files written.
    pub warc_files: Vec<PathBuf>,
    /// What went to object storage, and what could not (kept on local disk).
    pub archived: Archived,
}

/// Works on a census round until no site is left to take: leases sites one at a time (as many
/// at once as `sites_in_flight`), crawls each from its stored frontier, stores its scored result
/// and gives it back; renews each lease while it crawls, and drops a site whose lease another
/// worker took. The worker that finds the round finished scores it (cross-site twins included)
/// and closes the run. The round's as-of holds, whatever `opts` says.
///
/// # Errors
/// When the store, the rubric or the WARC folder fail; a site's own failure is stored with it.
pub async fn work(
    store: Arc<Store>,
    run: RunRow,
    mut opts: ScanOptions,
    worker: WorkerOptions,
    progress: Arc<dyn Progress>,
) -> Result<WorkOutcome, ScanError> {
    opts.as_of = AsOf::parse(&run.as_of).map_err(ScanError::NoRun)?;
    let checks = Arc::new(
        Checks::new(&opts.rubric, opts.as_of.date())
            .map_err(|source| ScanError::Rubric { rubric: opts.rubric.id.clone(), source })?,
    );
    let scoring = store.census_scoring(run.id)?;
    let tag = format!("run{}-{}", run.id, worker.id.rsplit('-').next().unwrap_or("w"));
    let env = Env::start(&store, &run, &opts, &checks, scoring, &tag, progress.clone())?;
    // Hosts with a pace (the rate, or a robots.txt Crawl-delay) keep it over all workers.
    env.fetcher.limits().share_pace(Arc::new(StorePace(store.clone())));
    let lease_secs = worker.lease_secs();
    let slots = Arc::new(Semaphore::new(opts.sites_in_flight.max(1)));
    let mut running: tokio::task::JoinSet<(i64, Result<bool, ScanError>)> = tokio::task::JoinSet::new();
    // Sites this worker crawls: a lease of its own that ran out (the store was unreachable for
    // longer than the lease) can come back to it, and a site is crawled once.
    let mut in_flight: std::collections::HashSet<i64> = std::collections::HashSet::new();
    let (mut done, mut given_back) = (0, 0);
    let mut reap = |r: Result<(i64, Result<bool, ScanError>), tokio::task::JoinError>,
                    in_flight: &mut std::collections::HashSet<i64>| {
        let (id, r) = r.map_err(|e| ScanError::NoRun(format!("a site task failed: {e}")))?;
        in_flight.remove(&id);
        match r {
            Ok(true) => done += 1,
            Ok(false) => given_back += 1,
            Err(e) => return Err(e),
        }
        Ok::<_, ScanError>(())
    };
    loop {
        let slot = slots.clone().acquire_owned().await.expect("site slots never close");
        while let Some(r) = running.try_join_next() {
            reap(r, &mut in_flight)?;
        }
        if let Some(lease) = store.lease_site(run.id, &worker.id, lease_secs, worker.max_attempts)? {
            if !in_flight.insert(lease.site.id) {
                continue;
            }
            env.fetcher.guard().allow_host(lease.site.spec.host());
            // No other worker crawls this host while the lease holds: its pace is this worker's.
            let host = lease.site.spec.host().to_owned();
            env.fetcher.limits().hold_host(&host, true);
            let (ctx, store, worker, fetcher) = (env.ctx.clone(), store.clone(), worker.clone(), env.fetcher.clone());
            running.spawn(async move {
                let _slot = slot;
                let id = lease.site.id;
                let r = leased_site(&ctx, &store, lease, &worker).await;
                fetcher.limits().hold_host(&host, false);
                (id, r)
            });
            continue;
        }
        drop(slot);
        if let Some(r) = running.join_next().await {
            reap(r, &mut in_flight)?;
            continue;
        }
        // Nothing to take and nothing of ours running: the round is finished, or other workers
        // hold its last sites (a lease of a worker that died runs out and is taken here).
        let n = store.census_counts(run.id)?;
        if n.queued + n.leased == 0 {
            break;
        }
        tokio::time::sleep(worker.lease.min(std::time::Duration::from_secs(5)) / 2).await;
    }
    env.ctx.writer.flush().await?;
    let (warc_files, archived) = env.finish(&opts).await?;
    keep_warc_files(&store, run.id, &opts, &warc_files)?;
    let scored = if store.claim_round_scoring(run.id, &worker.id, lease_secs)? {
        progress.message(&format!("round {}: every site is done; scoring the round", run.id));
        let (s, r, rubric, w) = (store.clone(), run.clone(), opts.rubric.clone(), worker.clone());
        let mut scoring = tokio::task::spawn_blocking(move || score_round(&s, &r, &rubric));
        let results = loop {
            tokio::select! {
                r = &mut scoring => break r.map_err(|e| ScanError::NoRun(format!("scoring the round failed: {e}")))??,
                () = tokio::time::sleep(worker.lease / 3) => {
                    store.renew_round_scoring(run.id, &w.id, lease_secs)?;
                }
            }
        };
        store.finish_run(run.id)?;
        Some(results)
    } else {
        None
    };
    Ok(WorkOutcome { done, given_back, scored, warc_files, archived })
}

/// Each host's pace shared by the workers of a census (and the monitors beside them), kept in
/// their store.
pub struct StorePace(
    /// The store the pace is kept in.
    pub Arc<Store>,
);

impl sitecensus_fetch::politeness::SharedPace for StorePace {
    fn reserve(&self, host: &str, period: std::time::Duration) -> Result<std::time::Duration, String> {
        self.0.reserve_host_slot(host, period, sitecensus_fetch::politeness::MAX_SHARED_WAIT).map_err(|e| e.to_string())
    }
}

/// Crawls, assesses and stores one leased site, renewing the lease meanwhile; true when the site
/// is done, false when it was given back (an error, too long, or its lease lost).
async fn leased_site(
    ctx: &crawl::Ctx,
    store: &Store,
    lease: sitecensus_store::Lease,
    worker: &WorkerOptions,
) -> Result<bool, ScanError> {
    let id = lease.site.id;
    let lease_secs = worker.lease_secs();
    let heartbeat = async {
        loop {
            tokio::time::sleep(worker.lease / 3).await;
            match store.renew_lease(id, &worker.id, lease_secs) {
                Ok(true) => {}
                Ok(false) => return "its lease ran out and another worker took it".to_owned(),
                Err(e) => tracing::warn!(site = id, "renewing a lease failed: {e}"),
            }
        }
    };
    let outcome = tokio::select! {
        r = tokio::time::timeout(worker.site_timeout, site_task(ctx, lease.site)) => match r {
            Ok(Ok(_)) => None,
            Ok(Err(e)) => Some(e.to_string()),
            Err(_) => Some(format!("its crawl took longer than {} s", worker.site_timeout.as_secs())),
        },
        lost = heartbeat => {
            tracing::warn!(site = id, "{lost}: this worker stops crawling it");
            return Ok(false);
        }
    };
    store.release_site(id, &worker.id, outcome.as_deref(), worker.max_attempts)?;
    if let Some(e) = &outcome {
        tracing::warn!(site = id, attempt = lease.attempt, "given back: {e}");
    }
    Ok(outcome.is_none())
}

/// The names a credit line may give a site by (list name, homepage title, host), for twins
/// across sites.
fn twin_names(row: &SiteRow, result: Option<&SiteResult>) -> Vec<String> {
    site_names(row, result.and_then(|r| r.name.as_deref()), result.and_then(|r| r.title.as_deref()))
}

/// A site's list name, homepage title and host (without `www.`), for twins across sites.
fn site_names(row: &SiteRow, name: Option<&str>, title: Option<&str>) -> Vec<String> {
    let mut n: Vec<String> = name.into_iter().chain(title).map(str::to_owned).collect();
    n.extend(row.spec.url.host_str().map(|h| h.trim_start_matches("www.").to_owned()));
    n
}

/// Finds articles copied across the sites of a run and assesses the copying sites again with
/// those findings; returns, for each site assessed again, its place in `results`, its stored id
/// and how many of its articles are copies.
fn apply_cross_site(
    store: &Store,
    run_id: i64,
    checks: &Checks,
    rubric: &Rubric,
    as_of: AsOf,
    results: &mut Results,
) -> Result<Vec<(usize, i64, usize)>, ScanError> {
    let rows = store.sites(run_id)?;
    // Results are matched to stored sites by the URL as given, which is unique within a run.
    let slot: HashMap<String, usize> = results.sites.iter().enumerate().map(|(i, r)| (r.url.clone(), i)).collect();
    let names: HashMap<i64, Vec<String>> = rows
        .iter()
        .map(|row| (row.id, twin_names(row, slot.get(row.spec.given.as_str()).map(|&i| &results.sites[i]))))
        .collect();
    let extras = cross_site_twins(store, run_id, checks, &rows, &names)?;
    let mut updated = Vec::new();
    for row in &rows {
        if let (Some(extra), Some(&i)) = (extras.get(&row.id), slot.get(row.spec.given.as_str())) {
            results.sites[i] = assess(store, row, checks, rubric, as_of, extra, Sink::Store)?;
            updated.push((i, row.id, extra.len()));
        }
    }
    Ok(updated)
}

/// Names the run's WARC files in the store when they stay on disk (`--warc`), so that the web app
/// can replay the pages behind findings; files only spooled for object storage are not named.
fn keep_warc_files(store: &Store, run_id: i64, opts: &ScanOptions, files: &[PathBuf]) -> Result<(), ScanError> {
    if opts.warc.is_none() || files.is_empty() {
        return Ok(());
    }
    let paths: Vec<String> =
        files.iter().map(|f| std::fs::canonicalize(f).unwrap_or_else(|_| f.clone()).display().to_string()).collect();
    store.add_run_files(run_id, "warc", &paths)?;
    Ok(())
}
