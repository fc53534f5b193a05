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
    for path in ["/_t/parse/pflood", "/_t/parse/linkflood", "/_t/parse/reopen", "/_t/parse/endtags"] {
        let f = find(path).unwrap_or_else(|| panic!("{path} is not reported: {unparsable:?}"));
        assert_eq!(f.detail["read_in_part"], true, "{path}");
    }
    // What the survey cannot see, the parse itself stops at: elements re-created without end,
    // and end tags that keep the parser searching.
    assert!(find("/_t/parse/reopen").unwrap().evidence.contains("elements"), "{unparsable:?}");
    assert!(find("/_t/parse/endtags").unwrap().evidence.contains(" s, then stopped"), "{unparsable:?}");
    // NUL bytes are dropped, not fatal; the ordinary page is read as ever.
    assert!(find("/_t/parse/nul").is_none());
    assert!(s.stats.pages_fetched >= 6, "{:?}", s.stats);
    assert!(of(s, "links.broken").is_empty(), "{:?}", of(s, "links.broken"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_sites_cookies_never_reach_another_site() {
    let (monster, _) = sitecensus_fixtures::serve_site_with("cookie-monster", &[]).await;
    let (strict, strict_log) = sitecensus_fixtures::serve_site_with("strict", &[]).await;
    let (_dir, store) = common::store();
    let mut o = common::options();
    // The hostile site is crawled first; its cookies for "gov.cn" must not reach the next one.
    o.sites_in_flight = 1;
    let localhost: std::net::IpAddr = "127.0.0.1".parse().unwrap();
    o.fetch.resolve = vec![
        ("www.monster.gov.cn".into(), monster.port(), localhost),
        ("www.strict.gov.cn".into(), strict.port(), localhost),
    ];
    let sites = vec![
        SiteSpec::from_url(&format!("http://www.monster.gov.cn:{}/", monster.port())).unwrap(),
        SiteSpec::from_url(&format!("http://www.strict.gov.cn:{}/", strict.port())).unwrap(),
    ];
    let out = scan(store, sites, o, Arc::new(Silent)).await.unwrap();
    let healthy = &out.results.sites[1];
    let refused: Vec<String> = strict_log.all().into_iter().filter(|r| r.contains("refused")).collect();
    assert!(refused.is_empty(), "{refused:?}");
    assert!(of(healthy, "availability.unreachable").is_empty());
    assert!(healthy.vetoes.is_empty(), "{:?}", healthy.vetoes);
    // And what it gets alone, it gets in company.
    let (_dir2, store2) = common::store();
    let mut alone_opts = common::options();
    alone_opts.fetch.resolve = vec![("www.strict.gov.cn".into(), strict.port(), localhost)];
    let alone = scan(
        store2,
        vec![SiteSpec::from_url(&format!("http://www.strict.gov.cn:{}/", strict.port())).unwrap()],
        alone_opts,
        Arc::new(Silent),
    )
    .await
    .unwrap();
    assert_eq!(alone.results.sites[0].verdict, healthy.verdict);
    assert_eq!(alone.results.sites[0].score, healthy.score);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_homepage_that_cannot_be_read_is_a_finding_never_a_pass() {
    let site = sitecensus_fixtures::serve_site("hostile").await;
    for (path, why) in [("/_t/binary", "application/octet-stream"), ("/_t/to-private", "may not go")] {
        let (_dir, store) = common::store();
        let out = scan(store, vec![SiteSpec::from_url(&site.url(path)).unwrap()], common::options(), Arc::new(Silent))
            .await
            .unwrap();
        let s = &out.results.sites[0];
        assert_eq!(s.verdict, "fail", "{path}: {:?}", s.findings);
        let f = of(s, "availability.unreachable");
        assert_eq!(f.len(), 1, "{path}");
        assert_eq!(f[0].detail["rule"], "unreadable");
        assert!(f[0].evidence.contains(why), "{path}: {}", f[0].evidence);
    }
}

/// A site that hangs costs its homepage's attempts, not robots.txt, the soft-404 probe and the
/// sitemap retried in turn after it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_site_costs_only_its_homepage_attempts() {
    let (site, log) = sitecensus_fixtures::serve_site_with("hostile", &[]).await;
    let (_dir, store) = common::store();
    let mut o = common::options();
    o.fetch.timeout = Duration::from_millis(500);
    o.fetch.retries = 2;
    let out = scan(store, vec![SiteSpec::from_url(&site.url("/_t/hang")).unwrap()], o, Arc::new(Silent)).await.unwrap();
    let s = &out.results.sites[0];
    assert_eq!(of(s, "availability.unreachable").len(), 1);
    let asked = log.all();
    assert_eq!(asked.iter().filter(|r| r.contains("/_t/hang")).count(), 3, "{asked:?}");
    assert!(asked.iter().all(|r| r.contains("/_t/hang")), "nothing else was asked of a site that is down: {asked:?}");
}

/// A store that cannot take more (a full disk: SQLite's answer is the same) stops the run
/// cleanly and says so, instead of failing write after write while the crawl goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_store_stops_the_run_and_says_so() {
    let site = sitecensus_fixtures::serve_site("columns").await;
    let (_dir, store) = common::store();
    let size = std::fs::metadata(store.path()).unwrap().len();
    store.limit_size(size + 64 * 1024);
    let err =
        scan(store.clone(), vec![SiteSpec::from_url(&site.url("/")).unwrap()], common::options(), Arc::new(Silent))
            .await
            .err()
            .expect("the run stops");
    let text = err.to_string();
    assert!(text.contains("full"), "{text}");
    assert!(text.contains("resumes"), "{text}");
}

/// The census of issue 11: every hostile site in one list with healthy ones. It ends, each hostile
/// site's problem is reported on that site, and each healthy site gets what it gets alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_census_of_hostile_sites_ends_and_the_healthy_sites_get_their_verdicts_alone() {
    use sitecensus_fixtures::Expect;
    let census = sitecensus_fixtures::hostile_census().await;
    let mut o = common::options();
    o.fetch.resolve = census.resolve.iter().map(|r| sitecensus_fetch::parse_resolve(r).unwrap()).collect();
    let specs: Vec<SiteSpec> = census.sites.iter().map(|s| SiteSpec::from_url(&s.url).unwrap()).collect();
    let (_dir, store) = common::store();
    let out = tokio::time::timeout(Duration::from_secs(600), scan(store, specs.clone(), o.clone(), Arc::new(Silent)))
        .await
        .expect("the census ends")
        .unwrap();
    assert_eq!(out.results.sites.len(), census.sites.len());
    let ids = |s: &sitecensus_report::SiteResult| {
        let mut v: Vec<String> = s.findings.iter().map(|f| format!("{} {:?}", f.check, f.page)).collect();
        v.sort();
        v
    };
    let mut healthy = 0;
    for ((site, spec), got) in census.sites.iter().zip(&specs).zip(&out.results.sites) {
        assert_eq!(got.url, spec.given, "results keep the list's order");
        match site.expect {
            Expect::Finding(check) => assert!(!of(got, check).is_empty(), "{}: no {check}: {:?}", site.name, ids(got)),
            Expect::NoFinding(check) => {
                assert!(of(got, check).is_empty(), "{}: {check}: {:?}", site.name, of(got, check))
            }
            Expect::AsAlone => {
                healthy += 1;
                let (_dir, store) = common::store();
                let alone = scan(store, vec![spec.clone()], o.clone(), Arc::new(Silent)).await.unwrap();
                let alone = &alone.results.sites[0];
                assert_eq!((&alone.verdict, alone.score), (&got.verdict, got.score), "{}", site.name);
                assert_eq!(ids(alone), ids(got), "{}", site.name);
                assert!(of(got, "availability.unreachable").is_empty(), "{}", site.name);
            }
        }
    }
    assert!(healthy >= 3);
}
