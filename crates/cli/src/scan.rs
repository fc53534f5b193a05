//! `sitecensus scan`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Args;
use sitecensus_core::{AsOf, SiteList, SiteSpec};
use sitecensus_fetch::client::{DEFAULT_MAX_REDIRECTS, DEFAULT_RETRIES};
use sitecensus_fetch::politeness::{DEFAULT_CONCURRENCY, DEFAULT_PER_HOST_CONNECTIONS, DEFAULT_PER_HOST_RPS};
use sitecensus_fetch::{FetchConfig, Politeness, parse_resolve};
use sitecensus_scan::{DEFAULT_MAX_DEPTH, DEFAULT_MAX_LINKS, DEFAULT_MAX_PAGES, ScanOptions};

use crate::OutputArgs;
use crate::output::{json_to_stdout, load_rubric, open_store, parse_as_of, say, write_outputs};
use crate::progress::Bars;

/// Arguments of `scan`.
#[derive(Args, Debug, Clone)]
pub struct ScanArgs {
    /// Sites to inspect (URLs; `www.x.gov.cn` works too).
    #[arg(value_name = "URL")]
    pub urls: Vec<String>,
    /// A CSV site list with a header: url,name,level,region (more columns are kept).
    #[arg(long, value_name = "FILE")]
    pub sites: Option<PathBuf>,
    /// "Today" for every time window (YYYY-MM-DD or RFC 3339); default: now in UTC+8.
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<String>,
    /// Rubric: a shipped one (gov-2019, census-2015) or a TOML file.
    #[arg(long, value_name = "NAME|FILE", default_value = sitecensus_core::rubric::DEFAULT_RUBRIC)]
    pub rubric: String,
    #[command(flatten)]
    pub out: OutputArgs,
    /// The store: an SQLite file, or a PostgreSQL database (postgres://user@host:port/dbname).
    #[arg(long, value_name = "PATH|URL", default_value = sitecensus_store::DEFAULT_DB)]
    pub db: String,
    /// Archive every response as WARC (gzip per record) in this folder.
    #[arg(long, value_name = "DIR")]
    pub warc: Option<PathBuf>,
    /// Put the WARC files and screenshots on S3-compatible storage (endpoint AWS_ENDPOINT_URL,
    /// credentials AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY); with --warc they are kept there
    /// too.
    #[arg(long, value_name = "s3://BUCKET/PREFIX")]
    pub archive: Option<String>,
    /// Pages fetched per site at most.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_PAGES)]
    pub max_pages: usize,
    /// Links followed from the homepage at most.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_DEPTH)]
    pub max_depth: u32,
    /// Link checks per site at most.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_LINKS)]
    pub max_links: usize,
    /// Requests in flight over all sites.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_CONCURRENCY)]
    pub concurrency: usize,
    /// Requests per second per host; 0 lifts the limit.
    #[arg(long, value_name = "R", default_value_t = DEFAULT_PER_HOST_RPS)]
    pub per_host_rps: f64,
    /// Connections per host.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_PER_HOST_CONNECTIONS)]
    pub per_host_connections: usize,
    /// Seconds a request may take, connection to last byte.
    #[arg(long, value_name = "SECS", default_value_t = 15.0)]
    pub timeout: f64,
    /// Retries of a request that failed in a way that may pass.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_RETRIES)]
    pub retries: u32,
    /// Use ADDR for HOST:PORT, like curl's --resolve.
    #[arg(long, value_name = "HOST:PORT:ADDR")]
    pub resolve: Vec<String>,
    /// Follow links into loopback, private and link-local addresses too.
    #[arg(long)]
    pub allow_private: bool,
    /// Crawl what robots.txt keeps out (as an inspection office may).
    #[arg(long)]
    pub ignore_robots: bool,
    /// The User-Agent every request carries (name your office and a contact address); robots.txt
    /// rules for `sitecensus` apply whatever it says.
    #[arg(long, value_name = "TEXT", default_value = sitecensus_core::USER_AGENT)]
    pub user_agent: String,
    /// Send every request through this proxy (`http://host:port`, `socks5://…`); by default
    /// the environment's HTTP_PROXY / HTTPS_PROXY / ALL_PROXY apply, with NO_PROXY, as in curl.
    #[arg(long, value_name = "URL")]
    pub proxy: Option<String>,
    /// A header every request carries, `Name: value` (again for more), as curl's -H.
    #[arg(long, value_name = "NAME: VALUE")]
    pub header: Vec<String>,
    /// Do not check links to other sites.
    #[arg(long)]
    pub no_external: bool,
    /// Do not probe each site's HTTPS (port 443, or the port of an https:// address).
    #[arg(long)]
    pub no_https_check: bool,
    /// Compare with this earlier run of the store (整改: findings new, persisting, fixed).
    #[arg(long, value_name = "RUN")]
    pub compare: Option<i64>,
    /// Probe HTTPS on this port for sites given as http:// (default 443).
    #[arg(long, value_name = "PORT")]
    pub https_port: Option<u16>,
    /// Sites crawled at once.
    #[arg(long, value_name = "N", default_value_t = 32)]
    pub sites_in_flight: usize,
    /// Do not draw any page in a browser (lists drawn by scripts are then reported as could
    /// not read), and take no screenshots.
    #[arg(long)]
    pub no_render: bool,
    /// Pages per site drawn in headless Chromium at most (those the static reading could not read).
    #[arg(long, value_name = "N", default_value_t = sitecensus_render::DEFAULT_BUDGET)]
    pub render_budget: usize,
    /// The browser to draw pages with (default: Debian's chromium on PATH).
    #[arg(long, value_name = "PATH")]
    pub chromium: Option<PathBuf>,
    /// Take no screenshots of vetoes' evidence pages.
    #[arg(long)]
    pub no_screenshots: bool,
    /// No progress bars or scorecards (errors and notes still go to stderr).
    #[arg(short, long)]
    pub quiet: bool,
}

/// Reads the sites of the command line and the site list; broken rows are reported, not dropped.
pub fn read_sites(
    urls: &[String],
    list: Option<&PathBuf>,
) -> Result<(Vec<SiteSpec>, Vec<sitecensus_core::site::RowError>)> {
    let mut sites = Vec::new();
    for u in urls {
        sites.push(SiteSpec::from_url(u).map_err(|e| anyhow::anyhow!("{u:?} is not a site URL: {e}"))?);
    }
    let mut errors = Vec::new();
    if let Some(path) = list {
        let bytes = std::fs::read(path).with_context(|| format!("cannot read the site list {}", path.display()))?;
        let text = String::from_utf8(bytes.clone()).unwrap_or_else(|_| encoding_fallback(&bytes));
        let parsed = SiteList::parse_csv(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        for e in &parsed.errors {
            eprintln!("{}:{}: skipped: {}", path.display(), e.line, e.reason);
        }
        sites.extend(parsed.sites);
        errors = parsed.errors;
    }
    if sites.is_empty() {
        bail!("no site to scan: give URLs or --sites FILE");
    }
    Ok((sites, errors))
}

/// Site lists saved by Excel in China are often GBK.
fn encoding_fallback(bytes: &[u8]) -> String {
    sitecensus_extract::decode::decode(bytes, Some("text/csv; charset=gbk")).text
}

/// Builds the scan options from the arguments.
pub fn options(a: &ScanArgs) -> Result<ScanOptions> {
    let rubric = load_rubric(&a.rubric)?;
    let (as_of, given) = match &a.as_of {
        Some(s) => (parse_as_of(s)?, true),
        None => (AsOf::now(), false),
    };
    if !(a.timeout > 0.0 && a.timeout.is_finite()) {
        bail!("--timeout must be a positive number of seconds");
    }
    let resolve = a
        .resolve
        .iter()
        .map(|r| parse_resolve(r).map_err(|e| anyhow::anyhow!("--resolve {e}")))
        .collect::<Result<Vec<_>>>()?;
    let mut o = ScanOptions::new(rubric, as_of);
    o.as_of_given = given;
    o.fetch = FetchConfig {
        politeness: Politeness {
            per_host_rps: a.per_host_rps.max(0.0),
            per_host_connections: a.per_host_connections.max(1),
            concurrency: a.concurrency.max(1),
        },
        timeout: Duration::from_secs_f64(a.timeout),
        retries: a.retries,
        max_redirects: DEFAULT_MAX_REDIRECTS,
        allow_private: a.allow_private,
        resolve,
        user_agent: a.user_agent.clone(),
        proxy: a.proxy.clone(),
        headers: crate::output::parse_headers(&a.header)?,
        ..FetchConfig::default()
    };
    o.max_pages = a.max_pages.max(1);
    o.max_depth = a.max_depth;
    o.max_links = a.max_links;
    o.ignore_robots = a.ignore_robots;
    o.warc = a.warc.clone();
    o.archive = a.archive.as_deref().map(sitecensus_fetch::Archive::from_env).transpose()?;
    o.sites_in_flight = a.sites_in_flight.max(1);
    o.check_external = !a.no_external;
    o.https_check = !a.no_https_check;
    o.https_port = a.https_port;
    o.render = (!a.no_render).then(|| sitecensus_scan::RenderOptions {
        budget: a.render_budget,
        executable: a.chromium.clone(),
        screenshots: !a.no_screenshots,
        ..sitecensus_scan::RenderOptions::default()
    });
    Ok(o)
}

/// Runs `scan`.
pub async fn run(a: ScanArgs) -> Result<()> {
    let (sites, row_errors) = read_sites(&a.urls, a.sites.as_ref())?;
    let opts = options(&a)?;
    let store = Arc::new(open_store(&a.db)?);
    let to_stderr = json_to_stdout(&a.out);
    let lang = a.out.terminal_lang();
    let bars = Arc::new(Bars::new(sites.len(), to_stderr, a.quiet, lang));
    let rubric = opts.rubric.clone();
    let outcome = sitecensus_scan::scan(store.clone(), sites, opts, bars.clone()).await?;
    bars.finish();
    let mut results = outcome.results;
    results.site_list_errors = row_errors;
    if let Some(earlier) = a.compare {
        compare_with(&store, &mut results, earlier, &rubric)?;
    }
    if !a.quiet {
        let resumed = if outcome.resumed { " (resumed)" } else { "" };
        say(
            to_stderr,
            &format!("run {}{resumed}: {}", outcome.run.id, sitecensus_report::terminal::summary(&results, lang)),
        );
        say(to_stderr, sitecensus_report::terminal::census(&results, lang).trim_end());
        for f in &outcome.warc_files {
            say(to_stderr, &format!("WARC: {}", f.display()));
        }
    }
    crate::output::say_archived(to_stderr, a.quiet, &outcome.archived);
    write_outputs(&results, &a.out)
}

/// Adds the comparison with an earlier run of the store, scored under the same rubric as of its
/// own day.
pub fn compare_with(
    store: &sitecensus_store::Store,
    results: &mut sitecensus_report::Results,
    earlier: i64,
    rubric: &sitecensus_core::Rubric,
) -> Result<()> {
    let then = sitecensus_scan::report(store, Some(earlier), rubric, None)
        .with_context(|| format!("cannot compare with run {earlier}"))?;
    results.comparison = Some(sitecensus_report::compare::compare(results, &then));
    Ok(())
}
