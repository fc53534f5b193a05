//! A census round of twenty sites — every fixture site and generated county sites, with levels
//! and regions — scanned once and scored under both shipped rubrics from the store.

use sitecensus_core::CheckId;
use std::sync::Arc;

use sitecensus_core::{Level, Rubric, SiteSpec};
use sitecensus_fixtures::{Server, serve_bench, serve_site, serve_site_with};
use sitecensus_report::{Lang, Results, SiteResult, html, xlsx};
use sitecensus_scan::{Silent, scan};

mod common;
use common::of;

fn spec(url: String, name: &str, level: Level, region: &str) -> SiteSpec {
    let mut s = SiteSpec::from_url(&url).unwrap();
    s.name = Some(name.into());
    s.level = Some(level);
    s.region = Some(region.into());
    s
}

fn named<'a>(r: &'a Results, name: &str) -> &'a SiteResult {
    r.sites.iter().find(|s| s.name.as_deref() == Some(name)).unwrap()
}

/// The rubric's own arithmetic, from the site's scorecard: the score is the full score less the
/// deductions, and the site fails on a veto or under the pass mark.
fn consistent(r: &Results, rubric: &Rubric) {
    for s in &r.sites {
        let taken: f64 = s.deductions.iter().map(|d| d.points).sum();
        assert!(
            (rubric.full_score - taken - s.score).abs() < 1e-6,
            "{}: {} − {taken} ≠ {}",
            s.url,
            rubric.full_score,
            s.score
        );
        let fails = !s.vetoes.is_empty() || s.score < rubric.pass_mark;
        assert_eq!(s.verdict == "fail", fails, "{}", s.url);
        for f in &s.findings {
            assert!(rubric.rule(f.check).is_some(), "{}: {} is not in {}", s.url, f.check, rubric.id);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_stored_census_scored_under_both_shipped_rubrics() {
    let (ext, _) = serve_site_with("external", &[]).await;
    let e = ext.url("");
    let (county, _) = serve_site_with("county-table", &[("external", e.as_str())]).await;
    let (history, _) =
        serve_site_with("history", &[("d", "2024-07-08"), ("new", ""), ("backdated", ""), ("old", "")]).await;
    let mut servers: Vec<Server> = Vec::new();
    let mut sites = vec![
        spec(county.url("/"), "丰安县", Level::County, "360922"),
        spec(history.url("/"), "南岭镇", Level::Township, "360922"),
    ];
    let fixtures = [
        ("city-gbk", "宜安市", Level::City, "360900"),
        ("soft404", "清河乡", Level::Township, "360922"),
        ("stub-home", "西林县人社局", Level::County, "360923"),
        ("hostile", "陷阱站", Level::County, "360924"),
        ("columns", "长宁县", Level::County, "511524"),
        ("zombie", "荒废镇", Level::Township, "511524"),
        ("accuracy", "东湖区", Level::County, "360102"),
        ("accuracy-copy", "西岭县", Level::County, "360123"),
        ("interaction", "和平区", Level::County, "210102"),
        ("fake-mailbox", "东山乡", Level::Township, "360926"),
        ("hub", "青山区", Level::County, "511524"),
        ("meta-home", "东河镇", Level::Township, "360922"),
        ("soft404-home", "白沙镇", Level::Township, "360922"),
    ];
    for (site, name, level, region) in fixtures {
        let s = serve_site(site).await;
        sites.push(spec(s.url("/"), name, level, region));
        servers.push(s);
    }
    for seed in 1..=5u64 {
        let s = serve_bench(60, seed).await;
        sites.push(spec(s.url("/"), &format!("示例县{seed}"), Level::County, &format!("3609{seed:02}")));
        servers.push(s);
    }
    assert!(sites.len() >= 20, "{}", sites.len());
    let (_dir, store) = common::store();
    let out = scan(store.clone(), sites.clone(), common::options(), Arc::new(Silent)).await.unwrap();
    let run = out.run.id;
    let gov = Rubric::load("gov-2019").unwrap();
    let census = Rubric::load("census-2015").unwrap();
    let r19 = sitecensus_scan::report(&store, Some(run), &gov, None).unwrap();
    let r15 = sitecensus_scan::report(&store, Some(run), &census, None).unwrap();
    assert_eq!(r19.sites.len(), sites.len());
    // A rescored report equals the fresh scan's.
    for (fresh, again) in out.results.sites.iter().zip(&r19.sites) {
        assert_eq!(fresh.findings, again.findings, "{}", fresh.url);
        assert_eq!(fresh.score, again.score, "{}", fresh.url);
    }
    assert_eq!(out.results.summary, r19.summary);
    consistent(&r19, &gov);
    consistent(&r15, &census);
    // What each rubric implies. The 2019 indicators veto a site with no enquiry channel and no
    // services; the 2015 census had neither item, so the picture mailbox township passes it.
    let (a, b) = (named(&r19, "东山乡"), named(&r15, "东山乡"));
    assert_eq!(a.vetoes, ["interaction.missing", "service.missing"]);
    assert!(b.vetoes.is_empty() && b.verdict == "pass", "{:?}", b.vetoes);
    assert!(of(b, "identity.missing_filing").is_empty(), "census-2015 has no filing item");
    // Both rubrics veto a letter unanswered for more than three months.
    assert!(named(&r19, "和平区").vetoes.contains(&CheckId::InteractionUnanswered));
    assert!(named(&r15, "和平区").vetoes.contains(&CheckId::InteractionUnanswered));
    // The site identifier code is a deduction in 2019 and a note in 2015.
    let code19 = of(named(&r19, "陷阱站"), "identity.missing_site_code");
    let code15 = of(named(&r15, "陷阱站"), "identity.missing_site_code");
    assert_eq!(code19[0].severity, sitecensus_core::Severity::Deduct);
    assert_eq!(code15[0].severity, sitecensus_core::Severity::Info);
    // The census view: every site in one level group, vetoes counted by item, the ranking.
    for r in [&r19, &r15] {
        let sm = &r.summary;
        assert_eq!(sm.all.sites, sites.len());
        assert_eq!(sm.by_level.iter().map(|g| g.sites).sum::<usize>(), sites.len());
        assert_eq!(sm.by_province.iter().map(|g| g.key.as_str()).collect::<Vec<_>>(), ["210000", "360000", "510000"]);
        assert_eq!(sm.ranking.len(), sites.len());
        let passing = r.sites.iter().filter(|s| s.verdict == "pass").count();
        assert!(sm.ranking[..passing].iter().all(|k| k.verdict == "pass"));
        assert!(sm.ranking.windows(2).all(|w| w[0].verdict != w[1].verdict || w[0].score >= w[1].score));
    }
    assert!(r15.summary.all.pass > r19.summary.all.pass, "{} vs {}", r15.summary.all.pass, r19.summary.all.pass);
    assert_eq!(
        r19.summary.all.vetoes[&CheckId::InteractionMissing],
        r19.sites.iter().filter(|s| s.vetoes.contains(&CheckId::InteractionMissing)).count()
    );
    // The copied article is listed once, with both sites.
    let copy = r19.summary.repeated.iter().find(|x| x.check == "accuracy.twin_articles").unwrap();
    assert_eq!(copy.count, 2);
    // The reports: the workbook has a row per finding; the page title with a script is escaped.
    let bytes = xlsx::render(&r19, Lang::Zh).unwrap();
    let mut wb = <calamine::Xlsx<_> as calamine::Reader<_>>::new(std::io::Cursor::new(bytes)).unwrap();
    let rows = calamine::Reader::worksheet_range(&mut wb, "问题清单").unwrap().rows().count();
    assert_eq!(rows, 1 + r19.sites.iter().map(|s| s.findings.len()).sum::<usize>());
    let page = html::render(&r19);
    assert!(named(&r19, "陷阱站").title.as_deref().unwrap().contains("<script>"));
    assert!(!page.contains("<script"), "a page title's script is escaped");
    assert!(page.contains("&#60;script&#62;alert") || page.contains("&lt;script&gt;alert"));
}
