//! Whole scans of fixture sites served by real HTTP servers on loopback.

use std::sync::Arc;
use std::time::Duration;

use sitecensus_core::{Severity, SiteSpec};
use sitecensus_fetch::Politeness;
use sitecensus_fixtures::{serve_site, serve_site_with};
use sitecensus_report::SiteResult;
use sitecensus_scan::{ScanOptions, Silent, scan};
use sitecensus_store::Store;

mod common;
use common::{options, store};

/// Scans one site with `opts` into a fresh store.
async fn scan_one(url: &str, opts: ScanOptions) -> (sitecensus_scan::ScanOutcome, Arc<Store>, tempfile::TempDir) {
    let (dir, st) = store();
    let out = scan(st.clone(), vec![SiteSpec::from_url(url).unwrap()], opts, Arc::new(Silent)).await.unwrap();
    (out, st, dir)
}

fn findings<'a>(s: &'a SiteResult, check: &str) -> Vec<&'a sitecensus_core::Finding> {
    s.findings.iter().filter(|f| f.check == check).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_county_site_is_crawled_checked_and_scored() {
    let (ext, ext_log) = serve_site_with("external", &[]).await;
    let ext_url = ext.url("");
    let (site, log) = serve_site_with("county-table", &[("external", ext_url.as_str())]).await;
    let (_d, st) = store();
    let spec = SiteSpec::from_url(&site.url("/")).unwrap();
    let out = scan(st.clone(), vec![spec], options(), Arc::new(Silent)).await.unwrap();
    assert!(!out.resumed);
    let s = &out.results.sites[0];
    assert_eq!(s.url, site.url("/"));
    // Every page of the site: home, hub, guide, orphan (from the sitemap only), 5 list pages,
    // 39 articles, services, interaction ×3 — and the dead link of the homepage.
    assert_eq!(s.stats.pages_fetched, 53, "{:?}", s.stats);
    assert_eq!(s.stats.pages_failed, 1);
    assert_eq!(log.gets("/zwgk/orphan.html"), 1, "the sitemap's page is crawled");
    assert_eq!(log.gets("/admin/login.html"), 0, "robots.txt keeps /admin/ out");
    assert_eq!(s.stats.robots_excluded, 1);
    for path in ["/", "/col/ywdt/index_1.html", "/art/2024/7/9/art_1001.html"] {
        assert_eq!(log.gets(path), 1, "{path} fetched exactly once");
    }
    // Outside links are checked, not crawled.
    assert!(ext_log.all().iter().any(|r| r == "HEAD /"), "{:?}", ext_log.all());
    assert_eq!(ext_log.gets("/deep/page.html"), 0);
    let (refused, broken): (Vec<_>, Vec<_>) =
        findings(s, "links.broken").into_iter().partition(|f| f.detail.contains_key("refused"));
    let targets: Vec<&str> = broken.iter().filter_map(|f| f.target.as_deref()).collect();
    assert!(targets.contains(&site.url("/col/ywdt/art_old.html").as_str()), "{targets:?}");
    assert!(targets.contains(&"http://old-partner.invalid/"), "{targets:?}");
    assert!(!targets.iter().any(|t| t.contains("10.0.0.1")), "a private address is refused, not broken");
    // …and said so, for information.
    assert!(refused.iter().all(|f| f.severity == sitecensus_core::Severity::Info));
    assert!(refused.iter().any(|f| f.target.as_deref().is_some_and(|t| t.contains("10.0.0.1"))), "{refused:?}");
    assert_eq!(broken.len(), 2, "{broken:#?}");
    let home_link = broken.iter().find(|f| f.target.as_deref().is_some_and(|t| t.ends_with("art_old.html"))).unwrap();
    assert_eq!(home_link.detail["on_homepage"], true);
    assert!(home_link.evidence.contains("HTTP 404") && home_link.evidence.contains("往期回顾"));
    let dl = findings(s, "service.broken_download");
    assert_eq!(dl.len(), 1);
    assert!(dl[0].target.as_deref().unwrap().ends_with("/files/biaoge.xls"));
    assert_eq!(dl[0].detail["linked_from"], 2);
    assert!(findings(s, "availability.unreachable").is_empty());
    assert_eq!(s.verdict, "pass");
    assert!(
        (s.score - 94.0).abs() < 0.01,
        "two homepage links −1 each, one download −0.5, the personnel column a year stale −1, five numbered \
         policy documents without an interpretation −0.5 each: {} {:#?}",
        s.score,
        s.findings.iter().map(|f| (&f.check, &f.evidence)).collect::<Vec<_>>()
    );
    assert_eq!(out.results.schema, "sitecensus.results/1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_scan_resumes_without_fetching_again() {
    let (ext, _) = serve_site_with("external", &[]).await;
    let ext_url = ext.url("");
    let (site, log) = serve_site_with("county-table", &[("external", ext_url.as_str())]).await;
    let (_d, st) = store();
    let spec = SiteSpec::from_url(&site.url("/")).unwrap();
    let mut slow = options();
    slow.fetch.politeness = Politeness { per_host_rps: 25.0, per_host_connections: 2, concurrency: 8 };
    // Cut the first scan off halfway, as a kill would.
    let first = tokio::time::timeout(
        Duration::from_millis(1200),
        scan(st.clone(), vec![spec.clone()], slow.clone(), Arc::new(Silent)),
    )
    .await;
    assert!(first.is_err(), "the first scan should have been cut off");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let run = st.latest_run().unwrap().unwrap();
    assert_eq!(run.status, sitecensus_store::RunStatus::Running);
    let site_id = st.sites(run.id).unwrap()[0].id;
    let stored: Vec<String> = st.pages(site_id).unwrap().into_iter().map(|p| p.url).collect();
    assert!(stored.len() > 3 && stored.len() < 53, "halfway: {} pages", stored.len());
    let out = scan(st.clone(), vec![spec], slow, Arc::new(Silent)).await.unwrap();
    assert!(out.resumed);
    assert_eq!(out.run.id, run.id, "the same run goes on");
    let s = &out.results.sites[0];
    assert_eq!(s.stats.pages_fetched, 53, "nothing lost");
    assert_eq!(st.pages(site_id).unwrap().len(), 53, "nothing doubled");
    for url in stored {
        let path = &url[site.url("").len()..];
        assert_eq!(log.gets(path), 1, "{path} was stored before the cut and must not be fetched again");
    }
    assert_eq!(findings(s, "links.broken").iter().filter(|f| !f.detail.contains_key("refused")).count(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gbk_site_behind_a_redirect_reads_without_mojibake() {
    let site = serve_site("city-gbk").await;
    let (_d, st) = store();
    let out =
        scan(st.clone(), vec![SiteSpec::from_url(&site.url("/")).unwrap()], options(), Arc::new(Silent)).await.unwrap();
    let s = &out.results.sites[0];
    assert_eq!(s.final_url.as_deref(), Some(site.url("/index.shtml").as_str()));
    let run = st.latest_run().unwrap().unwrap();
    let sid = st.sites(run.id).unwrap()[0].id;
    let pages = st.pages(sid).unwrap();
    assert!(pages.len() >= 9, "{}", pages.len());
    for p in &pages {
        let Some(model) = &p.model else { continue };
        let page: sitecensus_extract::Page = serde_json::from_str(model).unwrap();
        assert!(!page.title.contains('\u{FFFD}') && page.title.contains("宜安市"), "{}: {:?}", p.url, page.title);
        assert_eq!(page.encoding, "GBK", "{}", p.url);
    }
    let nocharset = pages.iter().find(|p| p.url.ends_with("t20240708_201.shtml")).unwrap();
    let page: sitecensus_extract::Page = serde_json::from_str(nocharset.model.as_ref().unwrap()).unwrap();
    assert_eq!(page.published.as_deref(), Some("2024-07-08"));
    let scripted = pages.iter().find(|p| p.url.ends_with("t20240705_202.shtml")).unwrap();
    let page: sitecensus_extract::Page = serde_json::from_str(scripted.model.as_ref().unwrap()).unwrap();
    assert_eq!(page.published.as_deref(), Some("2024-07-05"), "the date written by document.write");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soft_404s_are_broken_links() {
    let site = serve_site("soft404").await;
    let (out, _st, _d) = scan_one(&site.url("/"), options()).await;
    let s = &out.results.sites[0];
    let broken = findings(s, "links.broken");
    let targets: Vec<&str> = broken.iter().filter_map(|f| f.target.as_deref()).collect();
    assert!(targets.contains(&site.url("/news/2.html").as_str()), "{broken:#?}");
    assert!(targets.contains(&site.url("/news/3.html").as_str()));
    assert!(!targets.contains(&site.url("/news/1.html").as_str()));
    assert!(broken.iter().all(|f| f.detail.contains_key("soft404")));
    let dl = findings(s, "service.broken_download");
    assert_eq!(dl.len(), 1, "a 'page not found' page in place of a PDF is a broken download");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_script_redirect_homepage_is_followed() {
    let site = serve_site("stub-home").await;
    let (out, _st, _d) = scan_one(&site.url("/"), options()).await;
    let s = &out.results.sites[0];
    assert_eq!(s.final_url.as_deref(), Some(site.url("/portal/index.html").as_str()));
    assert!(s.stats.pages_fetched >= 5, "{:?}", s.stats);
    // Nothing wrong beyond notes (the fixture pages carry none of the national meta tags).
    assert!(s.findings.iter().all(|f| f.severity == Severity::Info), "{:#?}", s.findings);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_site_fails_on_the_veto_and_the_others_go_on() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let good = serve_site("stub-home").await;
    let (_d, st) = store();
    let sites = vec![
        SiteSpec::from_url(&format!("http://127.0.0.1:{closed}/")).unwrap(),
        SiteSpec::from_url(&good.url("/")).unwrap(),
    ];
    let out = scan(st, sites, options(), Arc::new(Silent)).await.unwrap();
    let down = &out.results.sites[0];
    assert_eq!(down.verdict, "fail");
    assert_eq!(down.vetoes, ["availability.unreachable"]);
    let f = findings(down, "availability.unreachable");
    assert_eq!(f[0].detail["attempts"].as_array().unwrap().len(), 2, "one try and one retry, each with its error");
    assert_eq!(out.results.sites[1].verdict, "pass");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crawler_traps_and_hostile_endpoints_do_not_stop_the_scan() {
    let site = serve_site("hostile").await;
    let (_d, st) = store();
    let mut o = options();
    o.fetch.timeout = Duration::from_millis(800);
    o.fetch.retries = 0;
    // Deep enough that only the trap guards, not the depth limit, stop the calendar.
    o.max_depth = 200;
    let started = std::time::Instant::now();
    let out = scan(st.clone(), vec![SiteSpec::from_url(&site.url("/")).unwrap()], o, Arc::new(Silent)).await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(60), "took {:?}", started.elapsed());
    let s = &out.results.sites[0];
    let cut = &s.stats.urls_cut;
    assert!(cut.contains_key("calendar beyond the years that matter"), "{cut:?}");
    assert!(cut.contains_key("repeating path segments"), "{cut:?}");
    let run = st.latest_run().unwrap().unwrap();
    let sid = st.sites(run.id).unwrap()[0].id;
    let pages = st.pages(sid).unwrap();
    let calendar = pages.iter().filter(|p| p.url.contains("calendar")).count();
    assert!((10..=100).contains(&calendar), "the calendar is followed only within the years that matter: {calendar}");
    let sessions = pages.iter().filter(|p| p.url.contains("/_t/sess")).count();
    assert_eq!(sessions, 6, "session ids are stripped, so each page is fetched once");
    let big = pages.iter().find(|p| p.url.ends_with("/_t/big")).unwrap();
    assert!(big.truncated && big.size == 10 * 1024 * 1024);
    let bomb = pages.iter().find(|p| p.url.ends_with("/_t/bomb")).unwrap();
    assert!(bomb.truncated);
    // A body cut at the cap is a finding on its page, not only a counter.
    let cut_pages: Vec<&str> = findings(s, "page.unparsable")
        .into_iter()
        .filter(|f| f.detail.contains_key("truncated_at_bytes"))
        .filter_map(|f| f.page.as_deref())
        .collect();
    assert!(cut_pages.iter().any(|p| p.ends_with("/_t/big")), "{cut_pages:?}");
    assert!(cut_pages.iter().any(|p| p.ends_with("/_t/bomb")), "{cut_pages:?}");
    let broken: Vec<String> = findings(s, "links.broken").iter().filter_map(|f| f.target.clone()).collect();
    for p in ["/_t/hang", "/_t/loop/a", "/_t/redirect/15"] {
        assert!(broken.iter().any(|b| b.ends_with(p)), "{p} should be a broken link: {broken:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_crawl_is_archived_as_warc() {
    let site = serve_site("stub-home").await;
    let (dir, st) = store();
    let mut o = options();
    o.warc = Some(dir.path().join("warc"));
    let out = scan(st, vec![SiteSpec::from_url(&site.url("/")).unwrap()], o, Arc::new(Silent)).await.unwrap();
    assert_eq!(out.warc_files.len(), 1);
    let reader = warc::WarcReader::from_path_gzip(&out.warc_files[0]).unwrap();
    let uris: Vec<String> = reader
        .iter_records()
        .filter_map(Result::ok)
        .filter(|r| r.header(warc::WarcHeader::WarcType).is_some_and(|t| t == "response"))
        .filter_map(|r| r.header(warc::WarcHeader::TargetURI).map(|u| u.to_string()))
        .collect();
    assert!(uris.contains(&site.url("/portal/index.html")), "{uris:?}");
    // What a replay of the page needs is archived too: the site's stylesheet and images.
    for asset in ["/portal/css/style.css", "/img/dzjg.png"] {
        assert!(uris.contains(&site.url(asset)), "{asset} not archived: {uris:?}");
    }
    // warcio, the reference reader, verifies every record's digests (the README's test command
    // installs it; a machine without it fails here rather than skipping).
    let check = std::process::Command::new("warcio")
        .args(["check", "-v"])
        .arg(&out.warc_files[0])
        .output()
        .expect("warcio is not installed: run .ci/run (the README's test command), or pip install warcio");
    let said = String::from_utf8_lossy(&check.stdout);
    assert!(check.status.success(), "{said}{}", String::from_utf8_lossy(&check.stderr));
    assert!(said.matches("digest pass").count() >= uris.len() * 2, "{said}");
    assert!(!said.contains("fail"), "{said}");
    // The file names its store and run; its warcinfo says how the crawl was made.
    let name = out.warc_files[0].file_name().unwrap().to_string_lossy().into_owned();
    assert!(name.starts_with("sitecensus-") && name.contains("-run1-"), "{name}");
    let info = warc::WarcReader::from_path_gzip(&out.warc_files[0]).unwrap().iter_records().next().unwrap().unwrap();
    let text = String::from_utf8_lossy(info.body()).into_owned();
    for field in [
        "sitecensus-run: 1",
        "sitecensus-as-of: 2024-07-10",
        "sitecensus-rubric: gov-2019",
        "robots: obey",
        "http-header-user-agent: Mozilla/5.0",
    ] {
        assert!(text.contains(field), "{field} missing: {text}");
    }
    // Another store's archive of its run 1 does not take the same file name.
    let (_dir2, st2) = store();
    let mut o = options();
    o.warc = Some(dir.path().join("warc"));
    let other = scan(st2, vec![SiteSpec::from_url(&site.url("/")).unwrap()], o, Arc::new(Silent)).await.unwrap();
    let other_name = other.warc_files[0].file_name().unwrap().to_string_lossy().into_owned();
    assert_ne!(other_name.split("-run").next(), name.split("-run").next(), "{other_name} {name}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_meta_refresh_homepage_and_its_iframe_are_followed() {
    let (site, log) = serve_site_with("meta-home", &[]).await;
    let (out, _st, _d) = scan_one(&site.url("/"), options()).await;
    let s = &out.results.sites[0];
    assert_eq!(s.final_url.as_deref(), Some(site.url("/cms/index.html").as_str()));
    assert_eq!(log.gets("/cms/frame/notice.html"), 1, "the iframe is crawled");
    assert_eq!(log.gets("/cms/tzgg/1.html"), 1, "and the pages it links to");
    // Nothing wrong beyond notes (the fixture pages carry none of the national meta tags).
    assert!(s.findings.iter().all(|f| f.severity == Severity::Info), "{:#?}", s.findings);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ignore_robots_crawls_what_robots_keeps_out() {
    let (ext, _) = serve_site_with("external", &[]).await;
    let e = ext.url("");
    let (site, log) = serve_site_with("county-table", &[("external", e.as_str())]).await;
    let (_d, st) = store();
    let mut o = options();
    o.ignore_robots = true;
    let out = scan(st, vec![SiteSpec::from_url(&site.url("/")).unwrap()], o, Arc::new(Silent)).await.unwrap();
    assert_eq!(log.gets("/admin/login.html"), 1);
    assert_eq!(log.gets("/robots.txt"), 0, "robots.txt is not even asked for");
    let s = &out.results.sites[0];
    assert_eq!(s.stats.robots_excluded, 0);
    assert!(
        findings(s, "links.broken")
            .iter()
            .any(|f| { f.target.as_deref().is_some_and(|t| t.ends_with("/admin/login.html")) })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_page_answered_with_the_homepage_is_caught_by_the_probe() {
    let site = serve_site("soft404-home").await;
    let (out, _st, _d) = scan_one(&site.url("/"), options()).await;
    let s = &out.results.sites[0];
    assert!(s.stats.soft404_probe);
    let broken = findings(s, "links.broken");
    assert_eq!(broken.len(), 1, "{broken:#?}");
    assert_eq!(broken[0].target.as_deref(), Some(site.url("/news/2.html").as_str()));
    assert!(broken[0].detail["soft404"].as_str().unwrap().contains("missing"), "{:?}", broken[0].detail);
}

/// A tiny site for robots.txt rules: a homepage linking to a page and to a spreadsheet of
/// personal data under `/files/`; `robots` answers robots.txt. Returns the server and the paths
/// asked for, each with the User-Agent it was asked with after a tab.
async fn robots_site(robots: (u16, &'static str)) -> (sitecensus_fixtures::Server, Arc<std::sync::Mutex<Vec<String>>>) {
    use axum::http::{StatusCode, Uri};
    let csv = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/sites/accuracy/files/mingdan.csv"),
    )
    .unwrap();
    let asked = Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = asked.clone();
    let router = axum::Router::new().fallback(move |uri: Uri, headers: axum::http::HeaderMap| {
        let (log, csv) = (log.clone(), csv.clone());
        async move {
            let agent = headers.get("user-agent").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
            log.lock().unwrap().push(format!("{}\t{agent}", uri.path()));
            let html = |body: &str| {
                (
                    StatusCode::OK,
                    [("content-type", "text/html; charset=utf-8")],
                    format!("<html><head><title>示例县人民政府</title></head><body>{body}</body></html>").into_bytes(),
                )
            };
            match uri.path() {
                "/robots.txt" => (
                    StatusCode::from_u16(robots.0).unwrap(),
                    [("content-type", "text/plain")],
                    robots.1.as_bytes().to_vec(),
                ),
                "/" => html("<a href=\"/a.html\">政务要闻</a> <a href=\"/files/mingdan.csv\">低保名单</a>"),
                "/a.html" => html("<p>2024-07-09 本县召开会议。</p>"),
                "/files/mingdan.csv" => (StatusCode::OK, [("content-type", "text/csv")], csv),
                _ => (StatusCode::NOT_FOUND, [("content-type", "text/plain")], b"404".to_vec()),
            }
        }
    });
    (sitecensus_fixtures::serve(router).await, asked)
}

fn paths_of(asked: &std::sync::Mutex<Vec<String>>) -> Vec<String> {
    asked.lock().unwrap().iter().map(|l| l.split('\t').next().unwrap_or_default().to_owned()).collect()
}

/// `--user-agent` names the office on every request; robots.txt rules for `sitecensus` still
/// apply to it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_user_agent_given_is_sent_and_robots_rules_for_sitecensus_still_apply() {
    let (site, asked) = robots_site((200, "User-agent: sitecensus\nDisallow: /a.html\n")).await;
    let mut o = options();
    o.fetch.user_agent = "Mozilla/5.0 (compatible; sitecensus/0.1; +mailto:jiancha@example.gov.cn)".to_owned();
    let (out, _st, _d) = scan_one(&site.url("/"), o).await;
    let lines = asked.lock().unwrap().clone();
    assert!(lines.iter().all(|l| l.ends_with("+mailto:jiancha@example.gov.cn)")), "{lines:?}");
    assert!(!paths_of(&asked).iter().any(|p| p == "/a.html"), "{lines:?}");
    assert_eq!(out.results.sites[0].stats.robots_excluded, 1);
}

/// RFC 9309 by default: the site's own files obey its robots.txt as its pages do (a spreadsheet
/// under a Disallowed folder is not read, so it cannot give a personal-data veto), and a
/// robots.txt that answers 5xx keeps everything but the homepage out until it answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn robots_txt_keeps_out_files_and_a_failing_robots_txt_keeps_out_everything() {
    let (site, asked) = robots_site((200, "User-agent: *\nDisallow: /files/\n")).await;
    let (out, _st, _d) = scan_one(&site.url("/"), options()).await;
    let s = &out.results.sites[0];
    let paths = paths_of(&asked);
    assert!(!paths.iter().any(|p| p.starts_with("/files/")), "{paths:?}");
    assert!(paths.iter().any(|p| p == "/a.html"), "{paths:?}");
    assert!(findings(s, "privacy.personal_data").is_empty());
    assert_eq!(s.stats.robots_excluded, 1);
    // The same site with --ignore-robots: the file is read, and its ID numbers are a veto.
    let mut o = options();
    o.ignore_robots = true;
    let (out, _st, _d) = scan_one(&site.url("/"), o).await;
    assert_eq!(findings(&out.results.sites[0], "privacy.personal_data").len(), 1);

    let (site, asked) = robots_site((503, "busy")).await;
    // (No browser: its screenshot of a veto's page would ask for the homepage again.)
    let mut o = options();
    o.render = None;
    let (out, _st, _d) = scan_one(&site.url("/"), o).await;
    let s = &out.results.sites[0];
    let paths = paths_of(&asked);
    assert_eq!(paths.iter().filter(|p| *p != "/robots.txt").collect::<Vec<_>>(), ["/"], "{paths:?}");
    let robots = s.stats.robots.values().next().unwrap();
    assert!(robots.status.contains("complete disallow"), "{robots:?}");
    assert!(s.stats.robots_excluded >= 1);
}
