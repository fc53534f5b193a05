//! Checks that need two runs: one fixture site scanned twice from the same address, changed in
//! between — an item backdated into a column, and a homepage that restamps the same items.

use std::sync::Arc;
use std::time::Duration;

use sitecensus_core::{AsOf, Rubric, SiteSpec};
use sitecensus_fixtures::{RequestLog, serve_on, site_router_with};
use sitecensus_scan::{Silent, scan};

mod common;
use common::{of, pages};

/// Serves the `history` fixture with `vars` on `port` (0: any), retrying while the port frees.
async fn serve_history(port: u16, vars: &[(&str, &str)]) -> sitecensus_fixtures::Server {
    let router = site_router_with("history", vars, RequestLog::default()).unwrap();
    for _ in 0..50 {
        if let Ok(l) = tokio::net::TcpListener::bind(("127.0.0.1", port)).await {
            return serve_on(l, router);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("port {port} did not free");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backdated_item_and_a_restamped_homepage_are_found_against_the_earlier_run() {
    let (_dir, store) = common::store();
    let first = serve_history(0, &[("d", "2024-07-01"), ("new", ""), ("backdated", ""), ("old", "")]).await;
    let port = first.port();
    let url = first.url("/");
    let mut o = common::options();
    o.as_of = AsOf::parse("2024-07-01").unwrap();
    let run1 = scan(store.clone(), vec![SiteSpec::from_url(&url).unwrap()], o.clone(), Arc::new(Silent)).await.unwrap();
    let s1 = &run1.results.sites[0];
    assert!(
        of(s1, "accuracy.backdated").is_empty() && of(s1, "freshness.homepage_stale").is_empty(),
        "{:?}",
        s1.findings
    );
    drop(first);

    let li =
        |path: &str, title: &str, date: &str| format!("<li><a href=\"{path}\">{title}</a><span>{date}</span></li>");
    let new = li("/tzgg/n5.html", "关于开展暑期安全检查的通知", "2024-07-10");
    let backdated = li("/tzgg/n4.html", "关于2024年防汛值班安排的通知", "2024-06-15");
    let old = li("/tzgg/n0.html", "关于春季植树活动的通知", "2024-04-01");
    let _second = serve_history(
        port,
        &[("d", "2024-07-19"), ("new", new.as_str()), ("backdated", backdated.as_str()), ("old", old.as_str())],
    )
    .await;
    o.as_of = AsOf::parse("2024-07-20").unwrap();
    let run2 = scan(store.clone(), vec![SiteSpec::from_url(&url).unwrap()], o, Arc::new(Silent)).await.unwrap();
    assert_ne!(run1.run.id, run2.run.id);
    let s2 = &run2.results.sites[0];
    let base = url.trim_end_matches('/');
    // The item dated 15 June that the list did not show on 1 July — not the new item of 10 July,
    // not the April item older than anything the list showed then.
    let back = of(s2, "accuracy.backdated");
    assert_eq!(pages(&back, base), ["/tzgg/index.html"], "{:#?}", s2.findings);
    assert!(back[0].target.as_deref().unwrap().ends_with("/tzgg/n4.html"));
    assert_eq!(back[0].detail["claimed_date"], "2024-06-15");
    assert_eq!(back[0].detail["earlier_run"], run1.run.id);
    // The homepage shows fresh dates, but the same three items as nineteen days before.
    let stale = of(s2, "freshness.homepage_stale");
    assert_eq!(stale.len(), 1, "{:#?}", s2.findings);
    assert_eq!(stale[0].detail["rule"], "unchanged");
    assert_eq!(stale[0].detail["days"], 19);
    assert_eq!(s2.vetoes, ["freshness.homepage_stale", "accuracy.backdated"]);
    // Rescoring the later run finds the same; the earlier run has no earlier run of its own.
    let again = sitecensus_scan::report(&store, Some(run2.run.id), &Rubric::default_rubric(), None).unwrap();
    assert_eq!(of(&again.sites[0], "accuracy.backdated").len(), 1);
    let first_again = sitecensus_scan::report(&store, Some(run1.run.id), &Rubric::default_rubric(), None).unwrap();
    assert!(of(&first_again.sites[0], "accuracy.backdated").is_empty());
}
