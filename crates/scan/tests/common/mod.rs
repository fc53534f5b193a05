//! What the scan tests share: options for loopback fixture sites, and a fresh store.

use std::sync::Arc;
use std::time::Duration;

use sitecensus_core::{AsOf, Rubric};
use sitecensus_fetch::{FetchConfig, Politeness};
use sitecensus_scan::ScanOptions;
use sitecensus_store::Store;

/// Scan options for fixture sites on loopback: as of 2024-07-10, no politeness, short timeouts,
/// no HTTPS probe (port 443 of the machine is not the fixture's).
pub fn options() -> ScanOptions {
    let mut o = ScanOptions::new(Rubric::default_rubric(), AsOf::parse("2024-07-10").unwrap());
    o.as_of_given = true;
    o.https_check = false;
    o.fetch = FetchConfig {
        politeness: Politeness { per_host_rps: 0.0, per_host_connections: 4, concurrency: 32 },
        timeout: Duration::from_secs(2),
        retries: 1,
        backoff: Duration::from_millis(20),
        ..FetchConfig::default()
    };
    o
}

/// A fresh store in a temporary folder (kept while the folder is).
pub fn store() -> (tempfile::TempDir, Arc<Store>) {
    let dir = tempfile::tempdir().unwrap();
    let s = Arc::new(Store::open(&dir.path().join("t.db")).unwrap());
    (dir, s)
}
