//! `sitecensus bench`: a full scan (every check, stored) of a generated site on loopback with
//! politeness off — the yardstick is `wget -r --spider` over the same site.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::Args;
use sitecensus_core::{AsOf, Rubric, SiteSpec};
use sitecensus_fetch::{FetchConfig, Politeness};
use sitecensus_scan::{ScanOptions, Silent};

use crate::output::open_store;

/// Arguments of `bench`.
#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Pages of the generated site (of each site, with --sites).
    #[arg(long, default_value_t = 20_000)]
    pages: usize,
    /// Generated sites crawled at once, each on its own server (a census in miniature).
    #[arg(long, default_value_t = 1)]
    sites: usize,
    /// Connections to the site.
    #[arg(long, default_value_t = 16)]
    connections: usize,
    /// The store (default: a fresh file in the temporary folder, removed afterwards).
    #[arg(long, value_name = "PATH")]
    db: Option<PathBuf>,
    /// Instead of a crawl: twin detection over this many generated articles of one site.
    #[arg(long, value_name = "ARTICLES", conflicts_with_all = ["serve_only", "dictionaries"])]
    twins: Option<usize>,
    /// Instead of a crawl: every page-level dictionary check over this many megabytes of page text.
    #[arg(long, value_name = "MB", conflicts_with = "serve_only")]
    dictionaries: Option<usize>,
    /// Only serve the generated site (on this port) for other tools (wget) to crawl; Ctrl-C stops.
    #[arg(long, value_name = "PORT")]
    serve_only: Option<u16>,
    /// Instead of a crawl: draw this many list pages that fetch their entries as JSON after load
    /// in headless Chromium (rendered pages per second, the browser's memory).
    #[arg(long, value_name = "PAGES", conflicts_with_all = ["serve_only", "twins", "dictionaries"])]
    render: Option<usize>,
    /// Instead of a crawl of generated sites: a census of every hostile site sitecensus must
    /// survive beside healthy ones (peak memory; each healthy site's verdict against its verdict alone).
    #[arg(long, conflicts_with_all = ["serve_only", "twins", "dictionaries", "render"])]
    hostile: bool,
    /// Wrap every generated page in a real provincial portal's template (about 100 KB and 400
    /// links a page) and serve it in GBK: the yardstick's realistic site.
    #[arg(long)]
    realistic: bool,
    /// Instead of one site: a census round in miniature of this many generated sites (of
    /// --pages pages each; name-based virtual hosts on 4 ports, mapped with --resolve), crawled
    /// by --workers worker processes through the store --db (default: a fresh SQLite file):
    /// sites per hour, pages per second, memory per worker, store size per 1,000 sites.
    #[arg(long, value_name = "SITES", conflicts_with_all = ["serve_only", "twins", "dictionaries", "render", "hostile"])]
    census: Option<usize>,
    /// Worker processes, with --census.
    #[arg(long, default_value_t = 2)]
    workers: usize,
    /// Sites each worker crawls at once, with --census (memory per site in flight: compare two).
    #[arg(long, default_value_t = 32)]
    sites_in_flight: usize,
    /// Instead of a crawl: read and check this many pages of the generated site (the work a scan
    /// does on its CPU pool, without network or store) on 1, 2, … threads up to the machine's
    /// cores: pages per second for each, and how it scales.
    #[arg(long, value_name = "PAGES", conflicts_with_all = ["serve_only", "twins", "dictionaries", "render", "hostile", "census"])]
    pipeline: Option<usize>,
    /// Instead of a crawl: the web app over a synthetic census of this many scored sites (spread
    /// over every county), its pages timed over HTTP as the national and a provincial office.
    #[arg(long, value_name = "SITES", conflicts_with_all = ["serve_only", "twins", "dictionaries", "render", "hostile", "census", "pipeline"])]
    web: Option<usize>,
    /// Pages drawn at once, with --render.
    #[arg(long, default_value_t = sitecensus_render::DEFAULT_TABS)]
    tabs: usize,
}

/// Memory of the browser's processes (those running with sitecensus's profile), in MB: the sum
/// of their proportional set sizes (memory shared between them counted once in all).
fn browser_rss_mb() -> f64 {
    let Ok(dir) = std::fs::read_dir("/proc") else { return 0.0 };
    let mut kb = 0.0;
    for e in dir.flatten() {
        let p = e.path();
        let Ok(cmd) = std::fs::read(p.join("cmdline")) else { continue };
        if !String::from_utf8_lossy(&cmd).contains("sitecensus-chromium-") {
            continue;
        }
        if let Ok(status) = std::fs::read_to_string(p.join("smaps_rollup"))
            && let Some(v) = status.lines().find(|l| l.starts_with("Pss:")).and_then(|l| l.split_whitespace().nth(1))
        {
            kb += v.parse::<f64>().unwrap_or(0.0);
        }
    }
    kb / 1024.0
}

/// Draws `n` list pages that fetch their entries after load, `tabs` at once.
async fn render_bench(n: usize, tabs: usize) -> Result<()> {
    let (site, _) = sitecensus_fixtures::serve_site_with("json-lists", &[("secret", "http://127.0.0.2:9")]).await;
    let guard = sitecensus_fetch::guard::Guard::new(false);
    guard.allow_host("127.0.0.1");
    let mut cfg = sitecensus_render::RenderConfig::new(guard, sitecensus_core::USER_AGENT);
    cfg.tabs = tabs.max(1);
    let r = Arc::new(sitecensus_render::Renderer::new(cfg));
    // The browser's start is paid once per run; measured apart.
    let started = Instant::now();
    r.render(&url::Url::parse(&site.url("/xwdt/index.html"))?).await?;
    let launch = started.elapsed();
    // Sampled every 200 ms (kilobytes, as an integer, so that it can be kept atomically).
    let peak = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let sampler = {
        let peak = peak.clone();
        tokio::spawn(async move {
            loop {
                peak.fetch_max((browser_rss_mb() * 1024.0) as u64, std::sync::atomic::Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        })
    };
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(n);
    for i in 0..n {
        let r = r.clone();
        let u = url::Url::parse(&site.url(&format!("/xwdt/index.html?n={i}")))?;
        tasks.push(tokio::spawn(async move { r.render(&u).await.map(|d| d.html.contains("t20240709_401.html")) }));
    }
    let mut drawn = 0;
    for t in tasks {
        if matches!(t.await, Ok(Ok(true))) {
            drawn += 1;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    sampler.abort();
    let browser = peak.load(std::sync::atomic::Ordering::Relaxed) as f64 / 1024.0;
    r.shutdown().await;
    crate::output::say(
        false,
        &format!(
            "bench: rendered {drawn}/{n} list pages (entries fetched as JSON after load) in {secs:.1} s with {tabs} tab(s): \
             {:.1} pages/s; browser start {:.1} s; browser memory peak {browser:.0} MB; sitecensus peak {:.0} MB",
            drawn as f64 / secs,
            launch.as_secs_f64(),
            peak_rss_mb().unwrap_or(f64::NAN)
        ),
    );
    Ok(())
}

/// Reads and checks `n` pages of the generated site on 1, 2, … threads up to the machine's
/// cores, alternating the thread counts three times (the machine's speed drifts): pages per
/// second for each (the best of three) and the speed-up over one thread.
fn pipeline_bench(n: usize, realistic: bool) -> Result<()> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let pages = sitecensus_fixtures::bench_pages(20_000, realistic, n);
    let as_of = AsOf::parse("2024-07-10").map_err(|e| anyhow::anyhow!(e))?.date();
    let checks = sitecensus_checks::Checks::new(&Rubric::default_rubric(), as_of)?;
    let urls = pages
        .iter()
        .map(|(path, _)| url::Url::parse(&format!("http://127.0.0.1:18081{path}")))
        .collect::<Result<Vec<_>, _>>()?;
    let bytes: usize = pages.iter().map(|(_, b)| b.len()).sum();
    // What a scan's CPU pool does with a fetched page: the page model, the page-level checks,
    // and the stored form of the model.
    let read = |threads: usize| -> (f64, usize) {
        let (next, found) = (AtomicUsize::new(0), AtomicUsize::new(0));
        let started = Instant::now();
        std::thread::scope(|scope| {
            for _ in 0..threads {
                scope.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some((path, body)) = pages.get(i) else { break };
                        let opts = sitecensus_extract::Options { as_of, homepage: Some(path == "/") };
                        let (page, findings) =
                            sitecensus_extract::analyze(body, Some("text/html"), &urls[i], &opts, |page, dom| {
                                checks.page(page, dom)
                            });
                        let stored = serde_json::to_string(&page).map_or(0, |s| s.len());
                        found.fetch_add(findings.len() + usize::from(stored > 0), Ordering::Relaxed);
                    }
                });
            }
        });
        (pages.len() as f64 / started.elapsed().as_secs_f64(), found.into_inner())
    };
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    read(1);
    let mut best = vec![0.0_f64; cores];
    for _ in 0..3 {
        for (k, b) in best.iter_mut().enumerate() {
            *b = b.max(read(k + 1).0);
        }
    }
    let one = best[0];
    let rates = best
        .iter()
        .enumerate()
        .map(|(k, r)| format!("{} thread(s) {r:.0} pages/s ({:.2}×)", k + 1, r / one))
        .collect::<Vec<_>>()
        .join(", ");
    crate::output::say(
        false,
        &format!(
            "bench pipeline: {} {}pages ({:.0} KB each) read and checked, no network or store: {rates}; peak memory {:.0} MB",
            pages.len(),
            if realistic { "realistic (GBK, real template) " } else { "" },
            bytes as f64 / pages.len().max(1) as f64 / 1024.0,
            peak_rss_mb().unwrap_or(f64::NAN)
        ),
    );
    Ok(())
}

/// Scans the hostile census (every hostile site of issue 11 beside healthy ones) as a user would
/// (default timeouts and retries, politeness off), then each healthy site alone.
async fn hostile_bench() -> Result<()> {
    use sitecensus_fixtures::Expect;
    let census = sitecensus_fixtures::hostile_census().await;
    let mut opts =
        ScanOptions::new(Rubric::default_rubric(), AsOf::parse("2024-07-10").map_err(|e| anyhow::anyhow!(e))?);
    opts.as_of_given = true;
    opts.https_check = false;
    opts.fetch.politeness.per_host_rps = 0.0;
    opts.fetch.resolve = census
        .resolve
        .iter()
        .map(|r| sitecensus_fetch::parse_resolve(r).map_err(|e| anyhow::anyhow!(e)))
        .collect::<Result<_>>()?;
    let specs = census
        .sites
        .iter()
        .map(|s| SiteSpec::from_url(&s.url).map_err(|e| anyhow::anyhow!(e)))
        .collect::<Result<Vec<_>>>()?;
    let dir = std::env::temp_dir().join(format!("sitecensus-hostile-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let store = Arc::new(open_store(&dir.join("census.db").display().to_string())?);
    let started = Instant::now();
    let out = sitecensus_scan::scan(store, specs.clone(), opts.clone(), Arc::new(Silent)).await?;
    let secs = started.elapsed().as_secs_f64();
    let peak = peak_rss_mb().unwrap_or(f64::NAN);
    let mut held = 0;
    for (i, ((site, spec), got)) in census.sites.iter().zip(&specs).zip(&out.results.sites).enumerate() {
        let (ok, what) = match site.expect {
            Expect::Finding(check) => {
                let n = got.findings.iter().filter(|f| f.check == check).count();
                (n > 0, format!("{n} × {check}"))
            }
            Expect::NoFinding(check) => {
                let n = got.findings.iter().filter(|f| f.check == check).count();
                (n == 0, format!("no {check}"))
            }
            Expect::AsAlone => {
                let store = Arc::new(open_store(&dir.join(format!("alone-{i}.db")).display().to_string())?);
                let alone = sitecensus_scan::scan(store, vec![spec.clone()], opts.clone(), Arc::new(Silent)).await?;
                let alone = &alone.results.sites[0];
                (
                    alone.verdict == got.verdict && alone.score == got.score,
                    format!("{} {:.1}; alone {} {:.1}", got.verdict, got.score, alone.verdict, alone.score),
                )
            }
        };
        held += usize::from(ok);
        crate::output::say(
            false,
            &format!("  {} {:<14} {what:<44} {}", if ok { "ok  " } else { "FAIL" }, site.name, site.trick),
        );
    }
    crate::output::say(
        false,
        &format!(
            "bench: hostile census of {} sites in {secs:.1} s; {held}/{} held; peak memory {peak:.0} MB \
             (this process, the fixture servers and their 10 MB pages included; the browser's own processes not counted)",
            census.sites.len(),
            census.sites.len()
        ),
    );
    let _ = std::fs::remove_dir_all(&dir);
    if held < census.sites.len() {
        anyhow::bail!("{} site(s) of the hostile census did not get what they must", census.sites.len() - held);
    }
    Ok(())
}

/// A process's peak resident memory so far, in MB (Linux): `pid` is a number or `self`.
fn peak_rss_mb_of(pid: &str) -> Option<f64> {
    status_mb(pid, "VmHWM:")
}

/// A figure of a process's /proc status (`VmHWM:`, `VmRSS:`), in MB.
fn status_mb(pid: &str, key: &str) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb: f64 = status.lines().find(|l| l.starts_with(key))?.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// A census round in miniature: `n` generated sites on loopback, `census start`, then
/// `a.workers` worker processes until the round is scored.
async fn census_bench(n: usize, a: &BenchArgs) -> Result<()> {
    const PORTS: usize = 4;
    let mut servers = Vec::with_capacity(PORTS);
    for _ in 0..PORTS {
        servers.push(sitecensus_fixtures::serve(sitecensus_fixtures::census_router(a.pages)).await);
    }
    let dir = std::env::temp_dir().join(format!("sitecensus-census-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let mut list = String::from("url,name,level,region\n");
    let mut resolve = Vec::with_capacity(n);
    for i in 0..n {
        let port = servers[i % PORTS].port();
        let host = format!("s{i}.census.gov.cn");
        list.push_str(&format!("http://{host}:{port}/,示例站点{i},county,360922\n"));
        resolve.push(format!("{host}:{port}:127.0.0.1"));
    }
    let sites = dir.join("sites.csv");
    std::fs::write(&sites, list)?;
    let db = match &a.db {
        Some(p) => p.display().to_string(),
        None => dir.join("census.db").display().to_string(),
    };
    let exe = std::env::current_exe()?;
    let mut start = std::process::Command::new(&exe);
    start
        .args(["census", "start", "--sites"])
        .arg(&sites)
        .args(["--db", &db, "--as-of", "2024-07-10", "--per-host-rps", "0", "--no-render", "--no-https-check"])
        .args(["--max-pages", &(a.pages + 100).to_string(), "--timeout", "30"]);
    for r in &resolve {
        start.args(["--resolve", r]);
    }
    let status = start.stdout(std::process::Stdio::null()).status()?;
    anyhow::ensure!(status.success(), "census start failed");
    let started = Instant::now();
    let mut workers = Vec::with_capacity(a.workers.max(1));
    for _ in 0..a.workers.max(1) {
        workers.push(
            std::process::Command::new(&exe)
                .args(["worker", "--db", &db, "--quiet", "--sites-in-flight", &a.sites_in_flight.to_string()])
                .stdout(std::process::Stdio::null())
                .spawn()?,
        );
    }
    let store = open_store(&db)?;
    let round = store.open_censuses()?.last().map(|r| r.id).context("the round is not in the store")?;
    // Peak memory per worker, and its peak while sites were still being crawled (before the
    // round is scored): what sites in flight cost.
    let mut peaks = vec![0.0_f64; workers.len()];
    let mut crawl_peaks = vec![0.0_f64; workers.len()];
    let mut crawling = true;
    for tick in 0u64.. {
        if tick % 5 == 0 && crawling {
            // Sites only (counting the round's pages each second would load the store).
            let open = store.query_rows(&format!(
                "SELECT count(*) FROM sites WHERE run_id = {round} AND status IN ('pending', 'crawling')"
            ))?;
            crawling = open.first().and_then(|r| r[0].as_deref()) != Some("0");
        }
        let mut running = 0;
        for ((w, peak), crawl_peak) in workers.iter_mut().zip(&mut peaks).zip(&mut crawl_peaks) {
            let pid = w.id().to_string();
            if let Some(mb) = peak_rss_mb_of(&pid) {
                *peak = peak.max(mb);
            }
            if crawling && let Some(mb) = status_mb(&pid, "VmRSS:") {
                *crawl_peak = crawl_peak.max(mb);
            }
            if w.try_wait()?.is_none() {
                running += 1;
            }
        }
        if running == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let secs = started.elapsed().as_secs_f64();
    for w in &mut workers {
        anyhow::ensure!(w.wait()?.success(), "a worker failed");
    }
    let number = |sql: &str| -> Result<f64> {
        Ok(store.query_rows(sql)?.first().and_then(|r| r[0].as_deref()).and_then(|v| v.parse().ok()).unwrap_or(0.0))
    };
    let run = number("SELECT max(id) FROM runs WHERE kind = 'census'")?;
    let pages =
        number(&format!("SELECT count(*) FROM pages WHERE site_id IN (SELECT id FROM sites WHERE run_id = {run})"))?;
    let done = number(&format!("SELECT count(*) FROM sites WHERE run_id = {run} AND status = 'done'"))?;
    let bytes = if store.is_postgres() {
        number("SELECT pg_database_size(current_database())")?
    } else {
        ["", "-wal"].iter().filter_map(|s| std::fs::metadata(format!("{db}{s}")).ok()).map(|m| m.len() as f64).sum()
    };
    crate::output::say(
        false,
        &format!(
            "bench census: {done:.0}/{n} sites ({pages:.0} pages) by {} worker(s) in {secs:.1} s = {:.0} sites/hour, {:.0} pages/s; \
             peak memory per worker {} ({} while crawling, {} sites in flight each); store {:.1} MB = {:.1} MB per 1,000 sites ({})",
            workers.len(),
            done / secs * 3600.0,
            pages / secs,
            peaks.iter().map(|p| format!("{p:.0} MB")).collect::<Vec<_>>().join(", "),
            crawl_peaks.iter().map(|p| format!("{p:.0} MB")).collect::<Vec<_>>().join(", "),
            a.sites_in_flight,
            bytes / 1e6,
            bytes / 1e6 / (done.max(1.0) / 1000.0),
            if store.is_postgres() { "PostgreSQL" } else { "SQLite" }
        ),
    );
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
    anyhow::ensure!(done as usize == n, "{} site(s) were not done", n - done as usize);
    Ok(())
}

/// The process's peak resident memory so far, in MB (Linux).
pub fn peak_rss_mb() -> Option<f64> {
    peak_rss_mb_of("self")
}

/// Runs `bench`.
pub async fn run(a: BenchArgs) -> Result<()> {
    if let Some(n) = a.twins {
        return crate::bench_accuracy::twins(n);
    }
    if let Some(mb) = a.dictionaries {
        return crate::bench_accuracy::dictionaries(mb);
    }
    if let Some(n) = a.render {
        return render_bench(n, a.tabs).await;
    }
    if a.hostile {
        return hostile_bench().await;
    }
    if let Some(n) = a.census {
        return census_bench(n, &a).await;
    }
    if let Some(n) = a.web {
        return crate::bench_web::run(n, a.db.as_deref()).await;
    }
    if let Some(n) = a.pipeline {
        return tokio::task::block_in_place(|| pipeline_bench(n, a.realistic));
    }
    if let Some(port) = a.serve_only {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        let server =
            sitecensus_fixtures::serve_on(listener, sitecensus_fixtures::bench_router_with(a.pages, 0, a.realistic));
        eprintln!(
            "serving a generated {}site of {} pages at {}",
            if a.realistic { "realistic (GBK, real template) " } else { "" },
            a.pages,
            server.url("/")
        );
        tokio::signal::ctrl_c().await?;
        return Ok(());
    }
    let mut servers = Vec::with_capacity(a.sites.max(1));
    for seed in 0..a.sites.max(1) {
        servers.push(
            sitecensus_fixtures::serve(sitecensus_fixtures::bench_router_with(a.pages, seed as u64, a.realistic)).await,
        );
    }
    let (db, temporary) = match &a.db {
        Some(p) => (p.clone(), false),
        None => (std::env::temp_dir().join(format!("sitecensus-bench-{}.db", std::process::id())), true),
    };
    let store = Arc::new(open_store(&db.display().to_string())?);
    let mut opts =
        ScanOptions::new(Rubric::default_rubric(), AsOf::parse("2024-07-10").map_err(|e| anyhow::anyhow!(e))?);
    opts.as_of_given = true;
    opts.fetch = FetchConfig {
        politeness: Politeness {
            per_host_rps: 0.0,
            per_host_connections: a.connections,
            concurrency: a.connections * 2,
        },
        timeout: Duration::from_secs(30),
        ..FetchConfig::default()
    };
    opts.max_pages = a.pages + 1000;
    opts.max_depth = 100_000;
    opts.max_links = a.pages * 2;
    opts.check_external = false;
    // The generated sites are served over plain HTTP on loopback ports: port 443 of this
    // machine is not theirs.
    opts.https_check = false;
    opts.sites_in_flight = servers.len();
    let sites = servers
        .iter()
        .map(|s| SiteSpec::from_url(&s.url("/")).map_err(|e| anyhow::anyhow!(e)))
        .collect::<Result<Vec<_>>>()?;
    let started = Instant::now();
    let out = sitecensus_scan::scan(store, sites, opts, Arc::new(Silent)).await?;
    let secs = started.elapsed().as_secs_f64();
    let sum = |k: fn(&sitecensus_core::CrawlStats) -> u64| out.results.sites.iter().map(|s| k(&s.stats)).sum::<u64>();
    let pages = sum(|s| s.pages_fetched);
    crate::output::say(
        false,
        &format!(
            "bench: {} site(s), {pages} pages ({} links checked, {} findings) in {secs:.2} s = {:.0} pages/s; peak memory {:.0} MB",
            out.results.sites.len(),
            sum(|s| s.links_checked),
            out.results.sites.iter().map(|s| s.findings.len()).sum::<usize>(),
            pages as f64 / secs,
            peak_rss_mb().unwrap_or(f64::NAN)
        ),
    );
    if temporary {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
        }
    }
    Ok(())
}
