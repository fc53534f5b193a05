//! Reports from a hand-built results file: JSON contract fields, escaping, the scorecard.

use serde_json::{Map, json};
use sitecensus_checks::Column;
use sitecensus_core::{Finding, Severity, SiteSpec};
use sitecensus_report::{Results, RubricRef, SiteResult, html, terminal};
use sitecensus_score::{Scorecard, Verdict, VetoHit};

fn results() -> Results {
    let mut spec = SiteSpec::from_url("http://www.example.gov.cn/").unwrap();
    spec.name = Some("某县人民政府<script>alert(1)</script>".into());
    let card = Scorecard {
        verdict: Verdict::Fail,
        score: 86.5,
        vetoes: vec!["freshness.homepage_stale".into()],
        veto_items: vec![VetoHit {
            check: "freshness.homepage_stale".into(),
            item: "首页不更新".into(),
            count: 1,
            min_count: 1,
        }],
        deductions: vec![],
    };
    let mut stats = Map::new();
    stats.insert("pages_fetched".into(), json!(412));
    stats.insert("pages_failed".into(), json!(3));
    stats.insert("links_checked".into(), json!(2870));
    stats.insert("duration_ms".into(), json!(51234));
    stats.insert(
        "interaction".into(),
        json!({"letters": 8, "replied": 5, "unanswered": 1, "median_working_days": 16.0, "p90_working_days": 17.6,
               "boilerplate_share": 0.8, "channels": 3, "channels_working": 2}),
    );
    stats.insert("guides".into(), json!({"read": 3, "incomplete": 2}));
    stats.insert(
        "identity".into(),
        json!({"site_code": "3601020001", "icp": "赣ICP备05000102号<b>", "police_filing": null, "conac_mark": false}),
    );
    stats.insert(
        "https".into(),
        json!({"address": "www.example.gov.cn:443", "ok": false, "error": "invalid certificate: <expired>"}),
    );
    let findings = vec![
        Finding::new("links.broken", Severity::Deduct, "「<img src=x onerror=alert(1)>」 → HTTP 404")
            .page("http://www.example.gov.cn/")
            .target("javascript:alert(1)")
            .detail("on_homepage", true),
    ];
    let columns = vec![Column {
        url: "http://www.example.gov.cn/tzgg/".into(),
        title: "通知公告".into(),
        kind: "notice".into(),
        items: 20,
        latest: Some("2024-07-01".into()),
        stale: false,
        empty: false,
    }];
    let mut r =
        Results::new("2024-07-10T00:00:00+08:00".into(), RubricRef { id: "gov-2019".into(), title: "t".into() }, None);
    r.sites.push(SiteResult::new(&spec, card, stats, columns, findings, None));
    r
}

#[test]
fn json_carries_every_contract_field() {
    let v: serde_json::Value = serde_json::from_str(&results().to_json()).unwrap();
    assert_eq!(v["schema"], "sitecensus.results/1");
    for key in ["as_of", "rubric", "sites"] {
        assert!(v.get(key).is_some(), "{key}");
    }
    let site = &v["sites"][0];
    for key in ["url", "name", "level", "region", "verdict", "score", "vetoes", "stats", "columns", "findings"] {
        assert!(site.get(key).is_some(), "site.{key}");
    }
    for key in ["pages_fetched", "pages_failed", "links_checked", "duration_ms"] {
        assert!(site["stats"].get(key).is_some(), "stats.{key}");
    }
    for key in ["url", "title", "kind", "items", "latest", "stale", "empty"] {
        assert!(site["columns"][0].get(key).is_some(), "columns.{key}");
    }
    for key in ["check", "severity", "page", "target", "evidence", "detail"] {
        assert!(site["findings"][0].get(key).is_some(), "findings.{key}");
    }
    let back: Results = serde_json::from_value(v).unwrap();
    assert_eq!(back, results());
}

#[test]
fn html_escapes_everything_from_pages_and_links_only_http() {
    let page = html::render(&results());
    assert!(!page.contains("<script>alert(1)</script>"));
    assert!(page.contains("&#60;script&#62;alert(1)&#60;/script&#62;"), "the name is shown, escaped");
    assert!(!page.contains("<img src=x"));
    assert!(!page.contains("href=\"javascript:"), "only http(s) URLs become links");
    assert!(page.contains("href=\"http://www.example.gov.cn/\""));
    assert!(!page.contains("<script"), "the report carries no script at all");
}

#[test]
fn interaction_services_and_identity_figures_are_shown_and_escaped() {
    let r = results();
    let page = html::render(&r);
    assert!(page.contains("<td>8</td><td>5</td><td>1</td>"), "letters read, replied, unanswered");
    assert!(page.contains("<td>80 %</td>"), "the stock-reply share");
    assert!(page.contains("赣ICP备05000102号&#60;b&#62;") || page.contains("赣ICP备05000102号&lt;b&gt;"));
    assert!(!page.contains("<expired>"), "a crawled or remote string is escaped");
    let card = terminal::scorecard(&r.sites[0]);
    assert!(card.contains("letters: 8 read, 5 replied, 1 unanswered"), "{card}");
    assert!(card.contains("service guides: 3 read, 2 incomplete"), "{card}");
    assert!(card.contains("no valid HTTPS: invalid certificate"), "{card}");
}

#[test]
fn scorecard_shows_vetoes_first() {
    console::set_colors_enabled(false);
    insta::assert_snapshot!(terminal::scorecard(&results().sites[0]));
}
