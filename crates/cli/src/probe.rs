//! `sitecensus probe`: homepage availability on a schedule (the official rule: a week, more than
//! 20 probes a day, a probe that has not opened the homepage within 15 s fails). Every probe is
//! stored as it happens, so a restart loses nothing; the next `scan` or `report` reads the window.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Result;
use clap::Args;
use sitecensus_fetch::{FetchConfig, Fetcher, Politeness};

use crate::output::{load_rubric, open_store};
use crate::scan::read_sites;

/// Arguments of `probe`.
#[derive(Args, Debug)]
pub struct ProbeArgs {
    /// Homepages to probe.
    #[arg(value_name = "URL")]
    urls: Vec<String>,
    /// A CSV site list (as for `scan`).
    #[arg(long, value_name = "FILE")]
    sites: Option<std::path::PathBuf>,
    /// Time between probes: `30m`, `1h`, `45s`, `500ms` or plain seconds.
    #[arg(long, value_name = "DURATION", default_value = "30m")]
    every: String,
    /// How long to go on: `7d`, `12h`, or plain seconds.
    #[arg(long = "for", value_name = "DURATION", default_value = "7d")]
    duration: String,
    /// The store: an SQLite file, or a PostgreSQL database (postgres://user@host:port/dbname).
    #[arg(long, value_name = "PATH|URL", default_value = sitecensus_store::DEFAULT_DB)]
    db: String,
    /// Rubric whose probe timeout applies (a probe that takes longer fails).
    #[arg(long, value_name = "NAME|FILE", default_value = sitecensus_core::rubric::DEFAULT_RUBRIC)]
    rubric: String,
}

/// Parses `30m`, `7d`, `1h`, `45s`, `500ms` or plain seconds.
pub fn parse_duration(s: &str) -> Result<Duration> {
    Ok(sitecensus_monitor::config::parse_duration(s)?)
}

/// Runs `probe`.
pub async fn run(a: ProbeArgs) -> Result<()> {
    let (sites, _) = read_sites(&a.urls, a.sites.as_ref())?;
    let every = parse_duration(&a.every)?;
    let total = parse_duration(&a.duration)?;
    let rubric = load_rubric(&a.rubric)?;
    let timeout = sitecensus_monitor::probe_timeout(&rubric);
    let timeout_secs = timeout.as_secs();
    let store = Arc::new(open_store(&a.db)?);
    let cfg = FetchConfig {
        politeness: Politeness { per_host_rps: 0.0, per_host_connections: 1, concurrency: 64 },
        timeout,
        retries: 0,
        ..FetchConfig::default()
    };
    let fetcher = Arc::new(Fetcher::new(cfg, None)?);
    for s in &sites {
        fetcher.guard().allow_host(s.host());
    }
    let start = Instant::now();
    let deadline = start + total;
    eprintln!(
        "probing {} homepage(s) every {:?} for {:?}; timeout {timeout_secs} s; store {}",
        sites.len(),
        every,
        total,
        a.db
    );
    // Each homepage keeps its own schedule, spread over the interval: a hanging one delays no
    // other, and thousands of sites do not fire at once. Probing stops when the time is up.
    let up = Arc::new(AtomicU64::new(0));
    let down = Arc::new(AtomicU64::new(0));
    let n = sites.len().max(1) as u32;
    let mut tasks = Vec::new();
    for (i, s) in sites.iter().enumerate() {
        let (fetcher, store, url) = (fetcher.clone(), store.clone(), s.url.clone());
        let (up, down) = (up.clone(), down.clone());
        let offset = every * u32::try_from(i).unwrap_or(u32::MAX) / n;
        tasks.push(tokio::spawn(async move {
            let mut k = 0u32;
            loop {
                let at_time = start + offset + every * k;
                if at_time >= deadline {
                    return;
                }
                tokio::time::sleep_until(tokio::time::Instant::from_std(at_time)).await;
                let at = sitecensus_store::now();
                let f = fetcher.get(&url).await;
                let row = sitecensus_monitor::probe_row(&url, at, &f, timeout);
                match store.add_probe(&row) {
                    Ok(()) if row.ok => up.fetch_add(1, Ordering::Relaxed),
                    Ok(()) => down.fetch_add(1, Ordering::Relaxed),
                    Err(e) => {
                        eprintln!("error: cannot store a probe: {e}");
                        0
                    }
                };
                // A probe that took longer than the interval does not leave a burst of
                // probes behind it: of the slots it overran, only the latest is kept.
                let behind = start.elapsed().saturating_sub(offset).as_secs_f64() / every.as_secs_f64();
                k = (k + 1).max(behind.floor() as u32);
            }
        }));
    }
    // What the probes say so far, once an interval.
    let report = {
        let (up, down) = (up.clone(), down.clone());
        tokio::spawn(async move {
            let mut tick = tokio::time::interval_at(tokio::time::Instant::from_std(start + every), every);
            loop {
                tick.tick().await;
                if Instant::now() >= deadline {
                    return;
                }
                eprintln!(
                    "{:.0} s: {} probes up, {} down",
                    start.elapsed().as_secs_f64(),
                    up.load(Ordering::Relaxed),
                    down.load(Ordering::Relaxed)
                );
            }
        })
    };
    for t in tasks {
        t.await?;
    }
    report.abort();
    eprintln!("done: {} probes up, {} down", up.load(Ordering::Relaxed), down.load(Ordering::Relaxed));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30m").unwrap(), Duration::from_secs(1800));
        assert_eq!(parse_duration("7d").unwrap(), Duration::from_secs(604_800));
        assert_eq!(parse_duration("2").unwrap(), Duration::from_secs(2));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("3w").is_err());
    }
}
