//! The CMS families and list shapes of real government sites, served faithfully on loopback:
//! Hanweb (datastore records, jpage groups by POST), TRS (pager script), lists written by
//! scripts (data literals, document.write), and lists fetched as JSON after load — read by a
//! browser where one is installed, reported as "could not read" where none is (as-of 2024-07-10).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use sitecensus_core::{Severity, SiteSpec};
use sitecensus_report::SiteResult;
use sitecensus_scan::{Progress, RenderOptions, ScanOptions, Silent, scan};

mod common;
use common::of;

/// title → (items, latest, stale, empty, unreadable)
type Cols = BTreeMap<String, (usize, Option<String>, bool, bool, bool)>;

fn columns(s: &SiteResult) -> Cols {
    s.columns.iter().map(|c| (c.title.clone(), (c.items, c.latest.clone(), c.stale, c.empty, c.unreadable))).collect()
}

fn col(
    items: usize,
    latest: Option<&str>,
    stale: bool,
    empty: bool,
    unreadable: bool,
) -> (usize, Option<String>, bool, bool, bool) {
    (items, latest.map(str::to_owned), stale, empty, unreadable)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hanweb_columns_are_read_whole_through_their_jpage_groups() {
    let (site, log) = sitecensus_fixtures::serve_site_with("hanweb", &[]).await;
    let (dir, store) = common::store();
    let mut o = common::options();
    o.warc = Some(dir.path().join("warc"));
    let out = scan(store, vec![SiteSpec::from_url(&site.url("/")).unwrap()], o, Arc::new(Silent)).await.unwrap();
    let s = &out.results.sites[0];
    let cols = columns(s);
    assert_eq!(cols.get("政务动态"), Some(&col(32, Some("2024-07-09"), false, false, false)), "{cols:?}");
    assert_eq!(cols.get("通知公告"), Some(&col(8, Some("2024-06-20"), false, false, false)), "{cols:?}");
    assert_eq!(cols.get("政策文件"), Some(&col(4, Some("2023-12-20"), true, false, false)), "{cols:?}");
    // The groups after the first were asked by POST, as jpage asks them, and never by GET.
    let asked: Vec<String> = log.all().into_iter().filter(|r| r.contains("dataproxy.jsp")).collect();
    for start in ["startrecord=16&endrecord=30&perpage=5", "startrecord=31&endrecord=45&perpage=5"] {
        assert!(
            asked.iter().any(|r| r.starts_with("POST ") && r.contains(start) && r.contains("columnid=1001")),
            "{start}: {asked:?}"
        );
    }
    assert!(asked.iter().all(|r| r.starts_with("POST ")), "{asked:?}");
    // The POSTed groups are evidence too: archived with their form and their answer.
    let reader = warc::WarcReader::from_path_gzip(&out.warc_files[0]).unwrap();
    let records: Vec<(String, String)> = reader
        .iter_records()
        .filter_map(Result::ok)
        .map(|r| {
            (
                r.header(warc::WarcHeader::WarcType).map(|t| t.to_string()).unwrap_or_default(),
                String::from_utf8_lossy(r.body()).into_owned(),
            )
        })
        .collect();
    assert!(
        records.iter().any(|(t, b)| t == "request"
            && b.starts_with("POST /module/web/jpage/dataproxy.jsp?startrecord=16")
            && b.contains("columnid=1001")),
        "no POST request record"
    );
    assert!(records.iter().any(|(t, b)| t == "response" && b.contains("<totalrecord>32</totalrecord>")));
    assert_eq!(s.stats.figures["cms"]["id"], "hanweb", "{}", s.stats.figures["cms"]);
    assert!(of(s, "freshness.unreadable").is_empty());
    assert!(of(s, "freshness.homepage_stale").is_empty(), "the homepage's datastore shows 2024-07-09");
    assert_eq!(s.stats.pages_rendered, 0, "nothing here needs a browser");
    assert!(s.vetoes.is_empty(), "{:?}", s.vetoes);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trs_columns_are_read_through_their_pager_script() {
    let (s, _) = common::scan_fixture("trs", common::options()).await;
    let cols = columns(&s);
    assert_eq!(cols.get("工作动态"), Some(&col(25, Some("2024-07-08"), false, false, false)), "{cols:?}");
    assert_eq!(cols.get("通知公告"), Some(&col(6, Some("2024-05-20"), false, false, false)), "{cols:?}");
    assert_eq!(s.stats.figures["cms"]["id"], "trs", "{}", s.stats.figures["cms"]);
    assert!(s.vetoes.is_empty(), "{:?}", s.vetoes);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_written_by_scripts_are_read_and_an_empty_list_is_one_empty_column() {
    let (s, base) = common::scan_fixture("script-lists", common::options()).await;
    let cols = columns(&s);
    assert_eq!(cols.get("政务动态"), Some(&col(12, Some("2024-07-09"), false, false, false)), "{cols:?}");
    assert_eq!(cols.get("通知公告"), Some(&col(7, Some("2024-06-28"), false, false, false)), "{cols:?}");
    assert_eq!(cols.get("工作动态"), Some(&col(8, Some("2024-07-08"), false, false, false)), "{cols:?}");
    // 开天窗: a column in the navigation whose list is simply empty, reported once.
    assert_eq!(cols.get("人事信息"), Some(&col(0, None, false, true, false)), "{cols:?}");
    let empty = of(&s, "content.empty_column");
    assert_eq!(common::pages(&empty, &base), ["/rsxx/index.html"]);
    assert!(
        of(&s, "freshness.column_stale").iter().all(|f| !f.page.as_deref().unwrap_or("").ends_with("/rsxx/index.html"))
    );
    // A single guide page in the navigation is a page, not a column; it is read as a guide.
    assert!(!cols.contains_key("办事指南"), "{cols:?}");
    // A page of text whose template has an empty list box is no empty column.
    assert!(cols.get("机构概况").is_none_or(|c| !c.3), "{cols:?}");
    assert_eq!(s.stats.figures["guides"]["read"], 1, "{}", s.stats.figures["guides"]);
    assert!(of(&s, "freshness.unreadable").is_empty());
    assert_eq!(s.stats.pages_rendered, 0, "read without a browser");
}

/// Options with the browser as `render` says, the rest as for every fixture.
fn with_render(render: Option<RenderOptions>) -> ScanOptions {
    let mut o = common::options();
    o.render = render;
    o
}

async fn scan_json_lists(
    render: Option<RenderOptions>,
    progress: Arc<dyn Progress>,
) -> (SiteResult, Arc<sitecensus_store::Store>, sitecensus_fixtures::RequestLog, tempfile::TempDir) {
    let (secret, secret_log) = sitecensus_fixtures::serve_private("hub").await;
    let secret_url = format!("http://{}", secret.addr());
    let (site, _) = sitecensus_fixtures::serve_site_with("json-lists", &[("secret", &secret_url)]).await;
    let (dir, store) = common::store();
    let out = scan(store.clone(), vec![SiteSpec::from_url(&site.url("/")).unwrap()], with_render(render), progress)
        .await
        .unwrap();
    drop(secret);
    (out.results.sites.into_iter().next().unwrap(), store, secret_log, dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_fetched_after_load_are_read_by_the_browser() {
    let (s, store, secret_log, _dir) = scan_json_lists(Some(RenderOptions::default()), Arc::new(Silent)).await;
    let cols = columns(&s);
    assert_eq!(cols.get("政务动态"), Some(&col(10, Some("2024-07-09"), false, false, false)), "{cols:?}");
    assert_eq!(cols.get("政务公开"), Some(&col(4, Some("2024-06-30"), false, false, false)), "{cols:?}");
    assert!(of(&s, "freshness.homepage_stale").is_empty(), "the drawn homepage shows 2024-07-09");
    assert!(of(&s, "freshness.unreadable").is_empty(), "{:?}", of(&s, "freshness.unreadable"));
    assert!(of(&s, "interaction.missing").is_empty(), "the channels the homepage's script writes are read");
    assert!(s.stats.pages_rendered >= 3, "{:?}", s.stats);
    assert!(s.vetoes.is_empty(), "{:?}", s.vetoes);
    // The drawn pages are marked in the store.
    let site = &store.sites(out_run(&store)).unwrap()[0];
    let rendered: Vec<String> = store
        .pages(site.id)
        .unwrap()
        .into_iter()
        .filter(|p| p.model.as_deref().is_some_and(|m| m.contains("\"rendered\":true")))
        .map(|p| p.url)
        .collect();
    assert!(rendered.iter().any(|u| u.ends_with("/xwdt/index.html")), "{rendered:?}");
    // A drawn page's requests into the inspector's own network were refused.
    assert!(secret_log.all().is_empty(), "{:?}", secret_log.all());
}

/// A site's robots.txt binds what the browser asks of it while drawing a page: the lists its
/// scripts fetch from a Disallowed folder are not fetched, and those columns could not be read
/// (never "empty").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drawn_pages_requests_obey_the_sites_robots_txt() {
    let (site, log) = sitecensus_fixtures::serve_site_with(
        "json-lists",
        &[("secret", "http://127.0.0.2:9"), ("robots", "Disallow: /api/xwdt.json")],
    )
    .await;
    let (_dir, store) = common::store();
    let out = scan(
        store,
        vec![SiteSpec::from_url(&site.url("/")).unwrap()],
        with_render(Some(RenderOptions::default())),
        Arc::new(Silent),
    )
    .await
    .unwrap();
    let s = &out.results.sites[0];
    assert_eq!(log.gets("/api/xwdt.json"), 0, "{:?}", log.all());
    assert!(log.gets("/api/zwgk.json") >= 1, "what robots.txt allows is fetched");
    let cols = columns(s);
    assert_eq!(cols.get("政务公开"), Some(&col(4, Some("2024-06-30"), false, false, false)), "{cols:?}");
    let unread: Vec<_> = of(s, "freshness.unreadable")
        .into_iter()
        .filter_map(|f| f.detail.get("title").and_then(|t| t.as_str()).map(str::to_owned))
        .collect();
    assert!(unread.contains(&"政务动态".to_owned()), "{unread:?} {cols:?}");
    assert!(of(s, "content.empty_column").is_empty(), "a column robots kept out is not empty");
    assert!(
        of(s, "freshness.unreadable").iter().any(|f| f.evidence.contains("/api/xwdt.json (robots.txt)")),
        "the evidence says what was refused: {:?}",
        of(s, "freshness.unreadable")
    );
}

fn out_run(store: &sitecensus_store::Store) -> i64 {
    store.latest_run().unwrap().unwrap().id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_browser_a_drawn_list_could_not_be_read_and_nothing_is_vetoed_for_it() {
    let (s, _store, _, _dir) = scan_json_lists(None, Arc::new(Silent)).await;
    let unread = of(&s, "freshness.unreadable");
    assert!(unread.iter().all(|f| f.severity == Severity::Warn));
    let mut what: Vec<String> = unread
        .iter()
        .map(|f| f.detail.get("title").and_then(|t| t.as_str()).unwrap_or("homepage").to_owned())
        .collect();
    what.sort();
    assert_eq!(what, ["homepage", "政务公开", "政务动态"], "{unread:?}");
    assert!(unread.iter().all(|f| f.evidence.contains("--no-render")), "{unread:?}");
    for check in ["freshness.homepage_stale", "freshness.column_stale", "content.empty_column"] {
        assert!(of(&s, check).is_empty(), "{check}: {:?}", of(&s, check));
    }
    let channels = of(&s, "interaction.missing");
    assert!(channels.iter().all(|f| f.severity == Severity::Warn && f.detail["unreadable"] == true), "{channels:?}");
    assert!(s.vetoes.is_empty(), "could not read is not a veto: {:?}", s.vetoes);
    assert!(
        s.columns.iter().filter(|c| c.title != "办事服务").all(|c| c.unreadable && !c.stale && !c.empty),
        "{:?}",
        s.columns
    );
}

#[derive(Default)]
struct Said(Mutex<Vec<String>>);

impl Progress for Said {
    fn site_started(&self, _: &SiteSpec) {}
    fn page_fetched(&self, _: &SiteSpec, _: &str, _: bool) {}
    fn site_finished(&self, _: &SiteResult) {}
    fn message(&self, text: &str) {
        self.0.lock().unwrap().push(text.to_owned());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_no_browser_installed_the_scan_says_so_once() {
    let said = Arc::new(Said::default());
    let render = RenderOptions { executable: Some("/nonexistent/chromium".into()), ..RenderOptions::default() };
    let (s, _store, _, _dir) = scan_json_lists(Some(render), said.clone()).await;
    let about_browser: Vec<String> = said.0.lock().unwrap().iter().filter(|m| m.contains("browser")).cloned().collect();
    assert_eq!(about_browser.len(), 1, "{about_browser:?}");
    assert!(about_browser[0].contains("/nonexistent/chromium"));
    let unread = of(&s, "freshness.unreadable");
    assert_eq!(unread.len(), 3, "{unread:?}");
    assert!(unread.iter().all(|f| f.detail["why_not_rendered"].as_str().unwrap().contains("browser")), "{unread:?}");
    assert!(s.vetoes.is_empty(), "{:?}", s.vetoes);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vetos_evidence_page_is_photographed_and_named_in_the_finding() {
    let site = sitecensus_fixtures::serve_site("zombie").await;
    let (dir, store) = common::store();
    let out = scan(store, vec![SiteSpec::from_url(&site.url("/")).unwrap()], common::options(), Arc::new(Silent))
        .await
        .unwrap();
    let s = &out.results.sites[0];
    let veto = s
        .findings
        .iter()
        .find(|f| f.check == "freshness.homepage_stale" && f.severity == Severity::Veto)
        .expect("the zombie's homepage is stale");
    let shot = veto.detail["screenshot"].as_str().unwrap_or_else(|| panic!("no screenshot: {:?}", veto.detail));
    assert!(std::path::Path::new(shot).starts_with(dir.path().canonicalize().unwrap()), "kept with the store: {shot}");
    let png = std::fs::read(shot).unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 1000, "{shot}: {} bytes", png.len());
    // The HTML report written beside the store links it relative to itself.
    let html = sitecensus_report::html::render_at(&out.results, Some(dir.path()), sitecensus_report::Lang::Zh);
    let rel = std::path::Path::new(shot).strip_prefix(dir.path().canonicalize().unwrap()).unwrap();
    assert!(html.contains(&format!("href=\"{}\"", rel.display())), "no link to {}", rel.display());
    // Every vetoing check with an evidence page has its photograph.
    for check in ["content.empty_column", "freshness.column_stale", "interaction.missing"] {
        assert!(
            s.findings.iter().any(|f| f.check == check && f.detail.contains_key("screenshot")),
            "{check} has no screenshot"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_render_budget_bounds_the_pages_drawn_and_the_rest_say_so() {
    let render = RenderOptions { budget: 1, ..RenderOptions::default() };
    let (s, _store, _, _dir) = scan_json_lists(Some(render), Arc::new(Silent)).await;
    assert_eq!(s.stats.pages_rendered, 1, "{:?}", s.stats);
    // The homepage comes first and is drawn; the columns wait for a budget that is spent.
    assert!(of(&s, "freshness.homepage_stale").is_empty());
    let unread = of(&s, "freshness.unreadable");
    assert_eq!(unread.len(), 2, "{unread:?}");
    assert!(unread.iter().all(|f| f.detail["why_not_rendered"].as_str().unwrap().contains("--render-budget")));
    assert!(s.vetoes.is_empty(), "{:?}", s.vetoes);
}
