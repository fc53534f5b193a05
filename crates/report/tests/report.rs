//! Reports from a hand-built results file: JSON contract fields, escaping, the scorecard.

use serde_json::{Map, json};
use sitecensus_checks::Column;
use sitecensus_core::CheckId;
use sitecensus_core::{Finding, Severity, SiteSpec};
use sitecensus_report::{Lang, Results, RubricRef, SiteResult, html, terminal, xlsx};
use sitecensus_score::{Scorecard, Verdict, VetoHit};

fn results() -> Results {
    let mut spec = SiteSpec::from_url("http://www.example.gov.cn/").unwrap();
    spec.name = Some("某县人民政府<script>alert(1)</script>".into());
    let card = Scorecard {
        verdict: Verdict::Fail,
        score: 86.5,
        vetoes: vec![CheckId::FreshnessHomepageStale],
        veto_items: vec![VetoHit {
            check: CheckId::FreshnessHomepageStale,
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
        Finding::new(CheckId::LinksBroken, Severity::Deduct, "「<img src=x onerror=alert(1)>」 → HTTP 404")
            .zh("「<img src=x onerror=alert(1)>」 → HTTP 404（链接失效）")
            .page("http://www.example.gov.cn/")
            .target("javascript:alert(1)")
            .detail("on_homepage", true),
    ];
    let columns = vec![Column {
        url: "http://www.example.gov.cn/tzgg/".into(),
        title: "通知公告".into(),
        kind: sitecensus_core::rubric::ColumnKind::Notice,
        items: 20,
        latest: Some("2024-07-01".into()),
        stale: false,
        empty: false,
        unreadable: false,
    }];
    let mut r =
        Results::new("2024-07-10T00:00:00+08:00".into(), RubricRef { id: "gov-2019".into(), title: "t".into() }, None);
    let stats = serde_json::from_value(serde_json::Value::Object(stats)).unwrap();
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
    for key in ["check", "severity", "page", "target", "evidence", "evidence_zh", "detail"] {
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
    let card = terminal::scorecard(&r.sites[0], Lang::En);
    assert!(card.contains("letters: 8 read, 5 replied, 1 unanswered"), "{card}");
    assert!(card.contains("service guides: 3 read, 2 incomplete"), "{card}");
    assert!(card.contains("no valid HTTPS: invalid certificate"), "{card}");
}

#[test]
fn scorecard_shows_vetoes_first() {
    console::set_colors_enabled(false);
    insta::assert_snapshot!(terminal::scorecard(&results().sites[0], Lang::En));
}

#[test]
fn scorecard_in_chinese() {
    console::set_colors_enabled(false);
    insta::assert_snapshot!(terminal::scorecard(&results().sites[0], Lang::Zh));
}

/// Reads every sheet of a workbook back with calamine: sheet name → rows of cell text.
fn read_back(bytes: Vec<u8>) -> std::collections::BTreeMap<String, Vec<Vec<String>>> {
    use calamine::Reader;
    let mut wb = calamine::Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
    let mut out = std::collections::BTreeMap::new();
    for name in wb.sheet_names() {
        let range = wb.worksheet_range(&name).unwrap();
        let rows = range.rows().map(|r| r.iter().map(|c| c.to_string()).collect()).collect();
        out.insert(name, rows);
    }
    out
}

#[test]
fn the_workbook_opens_with_a_row_per_finding_and_column_in_chinese_or_english() {
    let mut r = results();
    let mut second = r.sites[0].clone();
    second.url = "http://www.b.gov.cn/".into();
    second.name = Some("=HYPERLINK(\"http://evil\")".into());
    second.verdict = Verdict::Pass;
    second.score = 97.0;
    second.vetoes.clear();
    second.veto_items.clear();
    r.sites.push(second);
    r.summarize();
    let zh = read_back(xlsx::render(&r, Lang::Zh).unwrap());
    assert_eq!(zh.keys().cloned().collect::<Vec<_>>(), ["排名", "栏目", "汇总", "问题清单"]);
    let findings = &zh["问题清单"];
    assert_eq!(findings[0][..3], ["网站", "URL", "检查项"]);
    assert_eq!(findings.len(), 1 + 2, "a header and one row per finding of each site");
    assert_eq!(findings[1][2], "链接不可用", "the check by its Chinese name");
    assert_eq!(findings[1][4], "扣分");
    assert!(findings[1][5].contains("<img src=x onerror=alert(1)>"), "evidence kept as text: {:?}", findings[1]);
    assert!(findings[1][5].ends_with("（链接失效）"), "the evidence in Chinese: {:?}", findings[1]);
    assert_eq!(findings[1][8], "on_homepage: true", "the detail as lines a person reads, not raw JSON");
    assert_eq!(findings[0][9], "检查项编号");
    assert_eq!(findings[1][9], "links.broken", "the id beside it, for filters and scripts");
    assert!(
        zh["汇总"].iter().any(|row| row[0] == "全部" && row.last().is_some_and(|c| c == "首页不更新 1")),
        "vetoes counted by the rubric's official item: {:?}",
        zh["汇总"]
    );
    assert_eq!(zh["栏目"].len(), 1 + 2);
    assert_eq!(zh["栏目"][1][1], "通知公告");
    let ranking = &zh["排名"];
    assert_eq!(ranking[1][2], "http://www.b.gov.cn/", "the passing site ranks first");
    assert_eq!(ranking[1][1], "=HYPERLINK(\"http://evil\")", "a name that looks like a formula stays text");
    assert_eq!(ranking[1][5], "合格");
    assert!(zh["汇总"].iter().any(|row| row.first().is_some_and(|c| c == "总体")), "the summary's all-sites table");
    let en = read_back(xlsx::render(&r, Lang::En).unwrap());
    assert_eq!(en.keys().cloned().collect::<Vec<_>>(), ["Columns", "Findings", "Ranking", "Summary"]);
    assert_eq!(en["Findings"][0][..3], ["site", "URL", "check"]);
    assert_eq!(en["Findings"][1][2], "links.broken");
    assert_eq!(en["Findings"][1][5], "「<img src=x onerror=alert(1)>」 → HTTP 404", "the evidence in English");
}

#[test]
fn the_census_summary_groups_ranks_and_finds_the_same_error_on_many_sites() {
    let mut r = results();
    let typo = |url: &str| {
        let mut s = r.sites[0].clone();
        s.url = url.into();
        s.findings.push(Finding::new(CheckId::AccuracyTypo, Severity::Info, "再接再励").detail("term", "再接再励"));
        s
    };
    let (a, b) = (typo("http://a.gov.cn/"), typo("http://b.gov.cn/"));
    r.sites.push(a);
    r.sites.push(b);
    r.sites[2].verdict = Verdict::Pass;
    r.sites[2].score = 99.0;
    r.sites[2].vetoes.clear();
    r.sites[2].level = Some("township".into());
    r.sites[2].region = Some("360922".into());
    r.summarize();
    let sm = &r.summary;
    assert_eq!(sm.all.sites, 3);
    assert_eq!(sm.all.pass, 1);
    assert_eq!(sm.all.vetoes[&CheckId::FreshnessHomepageStale], 2);
    assert_eq!(sm.ranking[0].url, "http://b.gov.cn/");
    assert_eq!(sm.by_level.iter().find(|g| g.key == "township").unwrap().sites, 1);
    assert_eq!(sm.by_province[0].key, "360000");
    let rep = &sm.repeated[0];
    assert_eq!((rep.check.as_str(), rep.what.as_str(), rep.count), ("accuracy.typo", "再接再励", 2));
    let lines = terminal::census(&r, Lang::En);
    assert!(lines.contains("accuracy.typo 「再接再励」 2 sites"), "{lines}");
}

#[test]
fn rectification_tells_new_persisting_and_fixed_findings_apart() {
    let then = results();
    let mut now = results();
    let site = &mut now.sites[0];
    site.findings.push(
        Finding::new(CheckId::LinksBroken, Severity::Deduct, "x")
            .page("http://www.example.gov.cn/a.html")
            .target("http://www.example.gov.cn/gone"),
    );
    site.verdict = Verdict::Pass;
    site.vetoes.clear();
    let mut then2 = then.clone();
    then2.sites[0]
        .findings
        .push(Finding::new(CheckId::ContentEmptyColumn, Severity::Deduct, "y").page("http://www.example.gov.cn/kong/"));
    let c = sitecensus_report::compare::compare(&now, &then2);
    let s = &c.sites[0];
    assert_eq!((s.new, s.persisting, s.fixed), (1, 1, 1));
    assert!(s.rectified, "failed then, passes now");
    assert_eq!(c.totals.rectified, 1);
    assert_eq!(s.fixed_findings[0].check, "content.empty_column");
    now.comparison = Some(c);
    let page = html::render(&now);
    assert!(page.contains("整改"), "the HTML report shows the rectification");
    let wb = read_back(xlsx::render(&now, Lang::Zh).unwrap());
    assert_eq!(wb["整改"][0][3], "上轮得分");
    assert_eq!(wb["整改"][1][9], "是");
    let statuses: Vec<&str> = wb["整改明细"][1..].iter().map(|r| r[1].as_str()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == "已整改").count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == "新增").count(), 1, "{statuses:?}");
}

#[test]
fn a_census_report_splits_into_an_index_and_a_file_per_region_or_site() {
    let mut r = results();
    let mut second = r.sites[0].clone();
    second.url = "http://www.b.gov.cn/".into();
    second.region = Some("360102".into());
    second.region_name = Some("江西省南昌市东湖区".into());
    let mut third = second.clone();
    third.url = "http://www.c.gov.cn/".into();
    third.region = Some("../../etc/passwd".into());
    third.region_name = None;
    r.sites.push(second);
    r.sites.push(third);
    r.summarize();
    let dir = std::env::temp_dir();
    let mut files: Vec<(String, String)> = Vec::new();
    html::render_split(&r, &dir, Lang::Zh, html::Split::Region, |name, page| {
        files.push((name.to_owned(), page.to_owned()));
        Ok::<(), ()>(())
    })
    .unwrap();
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["index.html", "360102.html", "______etc_passwd.html", "no-region.html"],
        "a region is never a path"
    );
    let page = |name: &str| files.iter().find(|(n, _)| n == name).map(|(_, p)| p.as_str()).unwrap();
    let index = page("index.html");
    assert!(index.contains("<a href=\"360102.html\">360102 江西省南昌市东湖区</a>"), "the index lists its parts");
    assert!(index.contains("<a href=\"no-region.html\">未注明地区</a>"));
    assert!(!index.contains("<section id=\"site-"), "no site's section on the index");
    assert!(index.contains("Vetoes by item"), "the census summary is on the index");
    let region = page("360102.html");
    assert!(region.contains("<section id=\"site-2\">") && !region.contains("<section id=\"site-1\">"));
    assert!(region.contains("href=\"360102.html#site-2\""), "its ranking links to its own sections");
    assert!(region.contains("<a href=\"index.html\">"), "and back to the index");
    assert!(!region.contains("Vetoes by item"), "the summary is not repeated");
    for (name, p) in &files {
        assert!(!p.contains("<script"), "{name} carries no script");
        assert!(!p.contains("<img src=x"), "{name} escapes the crawled text");
    }
    let mut per_site = Vec::new();
    html::render_split(&r, &dir, Lang::En, html::Split::Site, |name, _| {
        per_site.push(name.to_owned());
        Ok::<(), ()>(())
    })
    .unwrap();
    assert_eq!(per_site, ["index.html", "site-1.html", "site-2.html", "site-3.html"]);
}
