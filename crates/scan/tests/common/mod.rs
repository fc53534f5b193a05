//! What the scan tests share: options for loopback fixture sites, and a fresh store.

use std::sync::Arc;
use std::time::Duration;

use sitecensus_core::{AsOf, Finding, Rubric, SiteSpec};
use sitecensus_fetch::{FetchConfig, Politeness};
use sitecensus_report::SiteResult;
use sitecensus_scan::{ScanOptions, Silent, scan};
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

/// Serves the fixture site `name` and scans it with `o`: its results, and the address the site's
/// paths are under.
#[allow(dead_code, reason = "not every test file scans one fixture alone")]
pub async fn scan_fixture(name: &str, o: ScanOptions) -> (SiteResult, String) {
    let site = sitecensus_fixtures::serve_site(name).await;
    let (_dir, store) = store();
    let out = scan(store, vec![SiteSpec::from_url(&site.url("/")).unwrap()], o, Arc::new(Silent)).await.unwrap();
    (out.results.sites.into_iter().next().unwrap(), site.url(""))
}

/// The findings of one check.
#[allow(dead_code, reason = "not every test file looks findings up by check")]
pub fn of<'a>(s: &'a SiteResult, check: &str) -> Vec<&'a Finding> {
    s.findings.iter().filter(|f| f.check == check).collect()
}

/// The pages of findings, as paths under `base`, sorted.
#[allow(dead_code, reason = "not every test file compares finding pages")]
pub fn pages(fs: &[&Finding], base: &str) -> Vec<String> {
    let mut v: Vec<String> = fs.iter().filter_map(|f| f.page.as_deref()).map(|p| p.replace(base, "")).collect();
    v.sort();
    v
}
