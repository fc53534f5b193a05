//! Hostile sites must not stop a census or change another site's verdict (issue 11): pages
//! that cost a parser dear are surveyed first and read within the parse budget.

use std::sync::Arc;
use std::time::Duration;

use sitecensus_core::SiteSpec;
use sitecensus_scan::{Silent, scan};

mod common;
use common::of;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_that_cost_a_parser_dear_are_reported_and_the_crawl_goes_on() {
    let site = sitecensus_fixtures::serve_site("hostile-parse").await;
    let (_dir, store) = common::store();
    let mut o = common::options();
    o.fetch.timeout = Duration::from_secs(20);
    // Before the parse budget, the nested page alone took minutes and the census never ended.
    let out = tokio::time::timeout(
        Duration::from_secs(300),
        scan(store, vec![SiteSpec::from_url(&site.url("/")).unwrap()], o, Arc::new(Silent)),
    )
    .await
    .expect("the scan ends")
    .unwrap();
    let s = &out.results.sites[0];
    let unparsable = of(s, "page.unparsable");
    let find = |path: &str| unparsable.iter().find(|f| f.page.as_deref() == Some(site.url(path).as_str()));
    let deep = find("/_t/parse/deep").expect("the nested page is reported");
    assert_eq!(deep.detail["read_in_part"], false);
    assert!(deep.evidence.contains("nested"), "{}", deep.evidence);
    for path in ["/_t/parse/pflood", "/_t/parse/linkflood"] {
        let f = find(path).unwrap_or_else(|| panic!("{path} is not reported: {unparsable:?}"));
        assert_eq!(f.detail["read_in_part"], true, "{path}");
    }
    // NUL bytes are dropped, not fatal; the ordinary page is read as ever.
    assert!(find("/_t/parse/nul").is_none());
    assert!(s.stat("pages_fetched") >= 6, "{:?}", s.stats);
    assert!(of(s, "links.broken").is_empty(), "{:?}", of(s, "links.broken"));
}
