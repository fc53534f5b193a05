//! `sitecensus census start|status` and `sitecensus worker`: a census round shared by any number
//! of workers on any machines, through one store (PostgreSQL; SQLite works on one machine).

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use sitecensus_store::{RunRow, Store};

use crate::output::{open_existing_store, open_store, say};
use crate::progress::Bars;
use crate::scan::{ScanArgs, options, read_sites};

/// Arguments of `census`.
#[derive(Args, Debug)]
pub struct CensusArgs {
    #[command(subcommand)]
    command: CensusCommand,
}

#[derive(Subcommand, Debug)]
enum CensusCommand {
    /// Register a round: its sites and crawl settings go into the store, for workers to take.
    Start(Box<StartArgs>),
    /// Where the rounds stand: sites queued, leased, done and failed; pages per second; ETA.
    Status(StatusArgs),
}

/// Arguments of `census start`: a name, and the settings of `scan` (which every worker uses).
#[derive(Args, Debug, Clone)]
pub struct StartArgs {
    /// The round's name ("2026年第4季度普查").
    #[arg(long)]
    name: Option<String>,
    #[command(flatten)]
    scan: ScanArgs,
}

/// How a worker reads a round's stored settings back: the arguments `census start` was given.
#[derive(Parser, Debug)]
#[command(name = "census-start", args_override_self = true)]
struct Stored {
    #[command(flatten)]
    start: StartArgs,
}

/// Arguments of `census status`.
#[derive(Args, Debug)]
pub struct StatusArgs {
    /// The store: an SQLite file, or a PostgreSQL database (postgres://user@host:port/dbname).
    #[arg(long, value_name = "PATH|URL", default_value = sitecensus_store::DEFAULT_DB)]
    db: String,
    /// One round (default: every round not finished).
    #[arg(long, value_name = "N")]
    round: Option<i64>,
}

/// Arguments of `worker`.
#[derive(Args, Debug)]
pub struct WorkerArgs {
    /// The store the round is in.
    #[arg(long, value_name = "PATH|URL", default_value = sitecensus_store::DEFAULT_DB)]
    db: String,
    /// The round to work on (default: the oldest not finished).
    #[arg(long, value_name = "N")]
    round: Option<i64>,
    /// Seconds a site's lease lasts without renewal (renewed every third of it); a worker that
    /// dies loses its sites to others after this long.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    lease: u64,
    /// Takes of one site before it fails with the error.
    #[arg(long, value_name = "N", default_value_t = 3)]
    attempts: u32,
    /// Seconds one site's crawl may take before it is given back with an error.
    #[arg(long, value_name = "SECS", default_value_t = 4 * 3600)]
    site_timeout: u64,
    /// Sites crawled at once (default: the round's setting).
    #[arg(long, value_name = "N")]
    sites_in_flight: Option<usize>,
    /// Put this worker's WARC files and screenshots on S3-compatible storage (default: the
    /// round's setting).
    #[arg(long, value_name = "s3://BUCKET/PREFIX")]
    archive: Option<String>,
    /// Print only errors.
    #[arg(short, long)]
    quiet: bool,
}

/// Runs `census`.
pub fn run(a: CensusArgs) -> Result<()> {
    match a.command {
        CensusCommand::Start(s) => start(*s),
        CensusCommand::Status(s) => status(&s),
    }
}

/// The arguments after `census start`, as given (without the store, which each worker names).
fn start_arguments() -> Vec<String> {
    let args = crate::effective_args();
    let from = args.iter().position(|a| a == "census").map_or(args.len(), |i| i + 1);
    let from = args[from..].iter().position(|a| a == "start").map_or(args.len(), |i| from + i + 1);
    let mut out = Vec::new();
    let mut rest = args[from.min(args.len())..].iter();
    while let Some(a) = rest.next() {
        if a == "--db" {
            rest.next();
        } else if !a.starts_with("--db=") {
            out.push(a.clone());
        }
    }
    out
}

fn start(a: StartArgs) -> Result<()> {
    if a.scan.out.json.is_some()
        || a.scan.out.jsonl.is_some()
        || a.scan.out.report.is_some()
        || a.scan.out.xlsx.is_some()
    {
        bail!("census start writes no results: when the round is done, `sitecensus report --db … --run N` writes them");
    }
    let (sites, row_errors) = read_sites(&a.scan.urls, a.scan.sites.as_ref())?;
    if sites.is_empty() {
        bail!("no sites to inspect: give URLs or --sites FILE");
    }
    // Object storage is the workers' business (their credentials): not reached from here.
    let mut settings = a.scan.clone();
    settings.archive = None;
    let opts = options(&settings)?;
    let store = open_store(&a.scan.db)?;
    let hash = sitecensus_scan::spec_hash(&sites, &opts);
    let stored = serde_json::json!({ "census_args": start_arguments() });
    let run = store
        .create_census(
            a.name.as_deref(),
            &opts.as_of.to_rfc3339(),
            (&opts.rubric.id, &opts.rubric.title),
            &hash,
            &stored.to_string(),
            &sites,
        )
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    for e in &row_errors {
        say(false, &format!("site list line {}: {} (left out)", e.line, e.reason));
    }
    say(
        false,
        &format!(
            "round {}{}: {} sites registered in {}, as of {}; start workers with `sitecensus worker --db …`",
            run.id,
            run.name.as_deref().map(|n| format!(" ({})", n)).unwrap_or_default(),
            sites.len(),
            store.path().display(),
            run.as_of
        ),
    );
    Ok(())
}

/// The rounds `--round` names, or every one not finished.
fn rounds(store: &Store, round: Option<i64>) -> Result<Vec<RunRow>> {
    match round {
        Some(id) => match store.run(id)? {
            Some(r) if r.kind == sitecensus_store::RunKind::Census => Ok(vec![r]),
            Some(_) => bail!("run {id} is a scan, not a census round"),
            None => bail!("there is no round {id} in {}", store.path().display()),
        },
        None => Ok(store.open_censuses()?),
    }
}

fn status(a: &StatusArgs) -> Result<()> {
    let store = open_existing_store(&a.db)?;
    let rounds = rounds(&store, a.round)?;
    if rounds.is_empty() {
        say(false, "no census round is running (`sitecensus census start` registers one)");
    }
    for r in rounds {
        let n = store.census_counts(r.id)?;
        let total = n.queued + n.leased + n.done + n.failed;
        let started = chrono::DateTime::parse_from_rfc3339(&r.started_at).ok();
        let elapsed = started.map_or(0.0, |s| (chrono::Utc::now() - s.to_utc()).num_seconds().max(1) as f64);
        let finished = n.done + n.failed;
        let eta = if r.status == sitecensus_store::RunStatus::Done {
            "finished".to_owned()
        } else if finished == 0 || elapsed <= 0.0 {
            "ETA unknown until a site is done".to_owned()
        } else {
            let secs = elapsed / finished as f64 * (total - finished) as f64;
            format!("ETA {}", humanize(secs))
        };
        say(
            false,
            &format!(
                "round {}{} ({}): {total} sites — {} queued, {} leased, {} done, {} failed; {} pages stored, {:.1} pages/s over the last minute; {eta}",
                r.id,
                r.name.as_deref().map(|n| format!(" {}", n)).unwrap_or_default(),
                r.status,
                n.queued,
                n.leased,
                n.done,
                n.failed,
                n.pages,
                n.pages_last_minute as f64 / 60.0
            ),
        );
    }
    Ok(())
}

/// Seconds as "3 h 20 min".
fn humanize(secs: f64) -> String {
    let m = (secs / 60.0).round() as u64;
    match m {
        0 => "under a minute".to_owned(),
        m if m < 60 => format!("{m} min"),
        m => format!("{} h {} min", m / 60, m % 60),
    }
}

/// This worker's name in the store: machine, process and a random part.
fn worker_id() -> String {
    format!("{}-{}-{:08x}", sitecensus_store::host_name(), std::process::id(), fastrand::u32(..))
}

/// Runs `worker`.
pub async fn worker(a: WorkerArgs) -> Result<()> {
    let store = Arc::new(open_existing_store(&a.db)?);
    let Some(run) = rounds(&store, a.round)?.into_iter().next() else {
        say(false, "no census round is running: nothing to do");
        return Ok(());
    };
    let stored: serde_json::Value =
        serde_json::from_str(&run.options).context("the round's settings are unreadable")?;
    let args: Vec<String> = stored["census_args"]
        .as_array()
        .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect())
        .context("the round has no stored settings: was it made by `census start`?")?;
    let mut start = Stored::try_parse_from(std::iter::once("census-start".to_owned()).chain(args))
        .context("the round's stored settings are not understood by this sitecensus")?
        .start;
    start.scan.db.clone_from(&a.db);
    if a.archive.is_some() {
        start.scan.archive.clone_from(&a.archive);
    }
    let mut opts = options(&start.scan)?;
    if let Some(n) = a.sites_in_flight {
        opts.sites_in_flight = n.max(1);
    }
    let total = store.sites(run.id)?.len();
    let lang = sitecensus_report::Lang::from_locale();
    let bars = Arc::new(Bars::new(total, false, a.quiet, lang));
    let w = sitecensus_scan::WorkerOptions {
        id: worker_id(),
        lease: Duration::from_secs(a.lease.max(3)),
        max_attempts: a.attempts.max(1),
        site_timeout: Duration::from_secs(a.site_timeout.max(1)),
    };
    if !a.quiet {
        say(false, &format!("worker {} on round {} in {}", w.id, run.id, store.path().display()));
    }
    let out = sitecensus_scan::work(store.clone(), run.clone(), opts, w, bars.clone()).await?;
    bars.finish();
    crate::output::say_archived(false, a.quiet, &out.archived);
    if !a.quiet {
        say(false, &format!("this worker: {} sites done, {} given back", out.done, out.given_back));
        for f in &out.warc_files {
            say(false, &format!("WARC: {}", f.display()));
        }
        if let Some(t) = &out.scored {
            say(
                false,
                &format!(
                    "round {}: {} sites: {} pass, {} fail, {} could not be assessed (rubric {}, as of {})",
                    run.id,
                    t.pass + t.fail + t.unassessed,
                    t.pass,
                    t.fail,
                    t.unassessed,
                    run.rubric,
                    run.as_of
                ),
            );
            say(false, &format!("the round is scored: `sitecensus report --db … --run {}` writes its results", run.id));
        }
    }
    Ok(())
}
