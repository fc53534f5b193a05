//! `sitecensus monitor`: watches sites between rounds — probes, scans, alerts — until stopped,
//! or runs every due job once (`--once`, for cron).

use std::sync::Arc;

use anyhow::{Context, Result};
use clap::Args;
use sitecensus_monitor::{Monitor, MonitorConfig, Round};

use crate::output::open_store;
use crate::scan::{ScanArgs, options, read_sites};

/// Arguments of `monitor`: the configuration, and the settings of `scan` (what each scheduled
/// scan uses; `--as-of` fixes the day scans are judged as of, else each scan is judged as of now).
#[derive(Args, Debug)]
pub struct MonitorArgs {
    /// The monitor's configuration: schedules, alert rules, channels (see the README).
    #[arg(long, value_name = "FILE")]
    config: Option<std::path::PathBuf>,
    /// Run every due job once, send what is queued, and exit (for cron, and tests).
    #[arg(long)]
    once: bool,
    /// Take what now stands in the place of this site's homepage (as the list gives its URL) for
    /// its homepage — a redesign, not a defacement — resolve its alert, and exit. Repeatable.
    #[arg(long, value_name = "URL")]
    accept: Vec<String>,
    #[command(flatten)]
    scan: ScanArgs,
}

/// One line for a round.
fn line(r: &Round) -> String {
    let mut s = format!(
        "{} probe(s) ({} failed), {} site(s) scanned, {} alert(s) raised, {} resolved, {} message(s) sent",
        r.probes, r.probes_failed, r.scanned, r.raised, r.resolved, r.sent
    );
    for e in &r.errors {
        s.push_str(&format!("\n  error: {e}"));
    }
    s
}

/// Runs `monitor`.
pub async fn run(a: MonitorArgs) -> Result<()> {
    let config = match &a.config {
        Some(p) => {
            let text = std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?;
            MonitorConfig::parse(&text).with_context(|| format!("{}", p.display()))?
        }
        None => MonitorConfig::default(),
    };
    let (sites, row_errors) = read_sites(&a.scan.urls, a.scan.sites.as_ref())?;
    for e in &row_errors {
        eprintln!("warning: site list line {}: {}", e.line, e.reason);
    }
    let opts = options(&a.scan)?;
    let as_of = opts.as_of_given.then_some(opts.as_of);
    let store = Arc::new(open_store(&a.scan.db)?);
    let channels = config.channels.len();
    let monitor = Monitor::new(store, config, sites, opts, as_of)?;
    if !a.accept.is_empty() {
        for site in &a.accept {
            if monitor.accept_homepage(site)? {
                eprintln!("monitor: {site}: the page now in place is its homepage; its alert is resolved");
            } else {
                anyhow::bail!("{site}: no page stands in the place of its homepage (nothing to accept)");
            }
        }
        return Ok(());
    }
    let added = monitor.sync_jobs(a.once)?;
    eprintln!("monitor: {added} new job(s); {channels} channel(s); store {}", a.scan.db);
    if a.once {
        let r = monitor.run_once().await?;
        eprintln!("monitor: {}", line(&r));
        return Ok(());
    }
    let stop = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    monitor.run(stop, |r| eprintln!("monitor: {}", line(r))).await?;
    eprintln!("monitor: stopped");
    Ok(())
}
