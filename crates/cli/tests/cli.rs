//! The command line as users run it: a real binary against real servers on loopback.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use assert_cmd::cargo::CommandCargoExt;
use serde_json::Value;
use sitecensus_fixtures::serve_site_with;

/// The binary, in an English locale whatever the machine's (scorecards follow the locale).
fn bin() -> Command {
    let mut c = Command::cargo_bin("sitecensus").unwrap();
    c.env("LANG", "C.UTF-8").env_remove("LC_ALL").env_remove("LC_MESSAGES");
    c
}

fn run(args: &[&str], dir: &Path) -> (bool, String, String) {
    let out = bin().args(args).current_dir(dir).output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Checks `v` against a JSON Schema published in `schemas/` (the references between the files
/// resolved), naming every violation.
fn assert_schema(file: &str, v: &Value) {
    /// The schemas' own files stand for their `$id`s.
    struct Files;
    impl jsonschema::Retrieve for Files {
        fn retrieve(&self, uri: &jsonschema::Uri<String>) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
            let name = uri.as_str().strip_prefix("https://sitecensus.invalid/schemas/").ok_or("not ours")?;
            Ok(serde_json::from_str(&std::fs::read_to_string(schemas().join(name))?)?)
        }
    }
    fn schemas() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas")
    }
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(schemas().join(file)).unwrap()).unwrap();
    let validator = jsonschema::options()
        .with_retriever(Files)
        .build(&schema)
        .unwrap_or_else(|e| panic!("{file} is not a valid schema: {e}"));
    let errors: Vec<String> = validator.iter_errors(v).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    assert!(errors.is_empty(), "{file}: {}", errors.join("\n"));
}

/// A census round's settings in the tests: slow enough that a worker can be caught mid-site.
const CENSUS_PACE: &[&str] =
    &["--as-of", "2024-07-10", "--per-host-rps", "20", "--per-host-connections", "2", "--no-render"];

const FAST: &[&str] = &[
    "--as-of",
    "2024-07-10",
    "--per-host-rps",
    "0",
    "--per-host-connections",
    "4",
    "--timeout",
    "3",
    "--quiet",
    "--no-https-check",
];

#[test]
fn help_lists_the_contract_commands() {
    let (ok, out, _) = run(&["--help"], Path::new("."));
    assert!(ok);
    for c in ["scan", "page", "report", "probe", "demo", "census", "worker"] {
        assert!(out.contains(c), "{c} missing from --help");
    }
    let (ok, out, _) = run(&["census", "--help"], Path::new("."));
    assert!(ok && out.contains("start") && out.contains("status"), "{out}");
    let (ok, out, _) = run(&["scan", "--help"], Path::new("."));
    assert!(ok);
    for flag in [
        "--sites",
        "--as-of",
        "--rubric",
        "--json",
        "--report",
        "--xlsx",
        "--db",
        "--warc",
        "--max-pages",
        "--max-depth",
        "--concurrency",
        "--per-host-rps",
        "--per-host-connections",
        "--timeout",
        "--resolve",
        "--allow-private",
        "--ignore-robots",
    ] {
        assert!(out.contains(flag), "scan {flag} missing");
    }
}

#[test]
fn page_prints_the_page_model_of_a_saved_page() {
    // The real pages of tests/corpus, where the other corpus tests find them too.
    let corpus = std::env::var_os("SITECENSUS_CORPUS")
        .map_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/corpus"), std::path::PathBuf::from)
        .join("gov-pages/article/gne_shanxi-gov_provincial_article_2019-09-18.html");
    let f = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/sites/county-table/index.html");
    for (file, url) in
        [(corpus.as_path(), "http://www.shanxi.gov.cn/a.html"), (f.as_path(), "http://www.fengan.gov.cn/")]
    {
        if !file.exists() {
            panic!("missing {}", file.display());
        }
        let (ok, out, err) = run(
            &["page", file.to_str().unwrap(), "--url", url, "--as-of", "2024-07-10", "--json", "-"],
            Path::new("."),
        );
        assert!(ok, "{err}");
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["schema"], "sitecensus.page/1");
        assert_schema("sitecensus.page-1.schema.json", &v);
        for key in ["url", "encoding", "title", "page_kind", "published", "meta", "items", "links", "forms", "findings"]
        {
            assert!(v.get(key).is_some(), "{key}");
        }
    }
    let (ok, out, _) = run(
        &["page", f.to_str().unwrap(), "--url", "http://www.fengan.gov.cn/", "--as-of", "2024-07-10"],
        Path::new("."),
    );
    assert!(ok);
    assert!(out.contains("丰安县人民政府") && out.contains("要闻动态"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scan_writes_the_contract_json_and_an_html_report() {
    let (ext, _) = serve_site_with("external", &[]).await;
    let e = ext.url("");
    let (site, _) = serve_site_with("county-table", &[("external", e.as_str())]).await;
    let dir = tempfile::tempdir().unwrap();
    let url = site.url("/");
    let mut args = vec!["scan", url.as_str(), "--json", "-", "--report", "r.html", "--db", "t.db"];
    args.extend_from_slice(FAST);
    let (ok, out, err) = run(&args, dir.path());
    assert!(ok, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {out}"));
    assert_eq!(v["schema"], "sitecensus.results/1");
    assert_schema("sitecensus.results-1.schema.json", &v);
    assert_eq!(v["as_of"], "2024-07-10T00:00:00+08:00");
    assert_eq!(v["rubric"]["id"], "gov-2019");
    assert_eq!(v["sites"][0]["url"], url);
    assert_eq!(v["sites"][0]["verdict"], "pass");
    assert_eq!(v["sites"][0]["stats"]["pages_fetched"], 53);
    let html = std::fs::read_to_string(dir.path().join("r.html")).unwrap();
    assert!(html.contains("丰安县") || html.contains(url.as_str()));
}

/// Requests go through the proxy `--proxy` names, or the environment's `HTTP_PROXY`, and carry
/// each `--header`. The fixture server stands for the proxy: it answers a proxy's absolute-form
/// requests by their path, and logs the host asked for.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_go_through_the_proxy_and_carry_the_headers_given() {
    let (proxy, log) = serve_site_with("stub-home", &[]).await;
    let dir = tempfile::tempdir().unwrap();
    // The name resolves nowhere: only through the proxy can the site be read.
    let site = "http://www.xilin-proxied.gov.cn/";
    let proxy_url = proxy.url("");
    let scan = |via_env: bool, db: &str| {
        let mut c = bin();
        c.args(["scan", site, "--json", "-", "--db", db, "--no-render", "--header", "X-Inspector: office-36"]);
        c.args(FAST);
        if via_env {
            c.env("HTTP_PROXY", &proxy_url);
        } else {
            c.args(["--proxy", &proxy_url]).env_remove("HTTP_PROXY").env_remove("http_proxy");
        }
        let out = c.current_dir(dir.path()).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        v["sites"][0]["stats"]["pages_fetched"].as_u64().unwrap()
    };
    for (via_env, db) in [(false, "flag.db"), (true, "env.db")] {
        let before = log.entries().len();
        let fetched = scan(via_env, db);
        assert!(fetched > 3, "the site was read through the proxy: {fetched} pages");
        let asked = &log.entries()[before..];
        assert!(asked.len() as u64 >= fetched);
        for r in asked {
            assert_eq!(r.host, "www.xilin-proxied.gov.cn", "{}", r.line);
            assert_eq!(r.headers.get("x-inspector").map(|v| v.as_bytes()), Some(&b"office-36"[..]), "{}", r.line);
        }
    }
    // A header HTTP does not allow is a usage error, said before anything is fetched.
    let (ok, _, err) = run(&["scan", site, "--header", "no colon here", "--db", "bad.db"], dir.path());
    assert!(!ok && err.contains("--header") && err.contains("Name: value"), "{err}");
}

/// The config file named by SITECENSUS_CONFIG gives a command the options an office always uses;
/// an option on the command line wins, and a misspelt one is a usage error that names the file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_config_file_gives_a_commands_options_and_the_command_line_wins() {
    let (site, log) = serve_site_with("stub-home", &[]).await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("office.toml");
    std::fs::write(
        &config,
        "[scan]\nheader = [\"X-Office: jx\"]\nmax-pages = 1\nno-render = true\n[report]\nlang = \"en\"\n",
    )
    .unwrap();
    let url = site.url("/");
    let scan = |db: &str, extra: &[&str]| -> (std::process::Output, u64) {
        let out = bin()
            .env("SITECENSUS_CONFIG", &config)
            .args(["scan", url.as_str(), "--json", "-", "--db", db])
            .args(FAST)
            .args(extra)
            .current_dir(dir.path())
            .output()
            .unwrap();
        let pages = serde_json::from_slice::<Value>(&out.stdout)
            .ok()
            .and_then(|v| v["sites"][0]["stats"]["pages_fetched"].as_u64())
            .unwrap_or(0);
        (out, pages)
    };
    let (out, pages) = scan("a.db", &[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(pages, 2, "max-pages from the config");
    assert!(log.entries().iter().all(|r| r.headers.get("x-office").is_some()), "the config's header on every request");
    let (out, pages) = scan("b.db", &["--max-pages", "50"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(pages > 2, "the command line wins: {pages}");
    std::fs::write(&config, "[scan]\nmax-pagez = 1\n").unwrap();
    let (out, _) = scan("c.db", &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("--max-pagez") && err.contains("SITECENSUS_CONFIG") && err.contains("office.toml"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scan_killed_halfway_resumes_and_loses_or_doubles_nothing() {
    let (ext, _) = serve_site_with("external", &[]).await;
    let e = ext.url("");
    let (site, log) = serve_site_with("county-table", &[("external", e.as_str())]).await;
    let dir = tempfile::tempdir().unwrap();
    let url = site.url("/");
    let args = [
        "scan",
        url.as_str(),
        "--db",
        "t.db",
        "--as-of",
        "2024-07-10",
        "--per-host-rps",
        "20",
        "--per-host-connections",
        "2",
        "--quiet",
    ];
    let mut child =
        bin().args(args).current_dir(dir.path()).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    // Killed once a few pages are stored (a fixed sleep killed it after one page on a loaded
    // machine): the site's 53 pages at 20 a second leave seconds to spare.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while stored_pages(&dir.path().join("t.db")) < 5 {
        assert!(std::time::Instant::now() < deadline, "the scan stored no 5 pages in a minute");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // SIGKILL: no chance to clean up.
    child.kill().unwrap();
    child.wait().unwrap();
    let before: Vec<String> = {
        let conn = sitecensus_store::Store::open(&dir.path().join("t.db")).unwrap();
        let run = conn.latest_run().unwrap().unwrap();
        assert_eq!(run.status, sitecensus_store::RunStatus::Running);
        let sid = conn.sites(run.id).unwrap()[0].id;
        conn.pages(sid).unwrap().into_iter().map(|p| p.url).collect()
    };
    assert!(before.len() > 3 && before.len() < 53, "killed halfway: {} pages stored", before.len());
    let mut again = args.to_vec();
    again.pop();
    again.extend_from_slice(&["--json", "-"]);
    let (ok, out, err) = run(&again, dir.path());
    assert!(ok, "{err}");
    assert!(err.contains("(resumed)"), "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["sites"][0]["stats"]["pages_fetched"], 53);
    assert_eq!(v["run"]["id"], 1);
    for u in before {
        let path = &u[url.len() - 1..];
        assert_eq!(log.gets(path), 1, "{path} was stored before the kill and fetched again");
    }
    let conn = sitecensus_store::Store::open(&dir.path().join("t.db")).unwrap();
    let sid = conn.sites(1).unwrap()[0].id;
    assert_eq!(conn.pages(sid).unwrap().len(), 53);
}

/// Pages of the latest run's first site in the store at `db` so far (0 while there is none).
fn stored_pages(db: &Path) -> usize {
    if !db.exists() {
        return 0;
    }
    let Ok(store) = sitecensus_store::Store::open(db) else { return 0 };
    let Ok(Some(run)) = store.latest_run() else { return 0 };
    let Some(site) = store.sites(run.id).ok().and_then(|s| s.into_iter().next()) else { return 0 };
    store.pages(site.id).map_or(0, |p| p.len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_site_list_with_a_broken_row_is_scanned_and_the_row_reported() {
    let (site, _) = serve_site_with("stub-home", &[]).await;
    let dir = tempfile::tempdir().unwrap();
    let csv = format!("url,name,level,region\n{},西林县人社局,county,360923\nnot a url,坏行,county,\n", site.url("/"));
    std::fs::write(dir.path().join("sites.csv"), csv).unwrap();
    let mut args = vec!["scan", "--sites", "sites.csv", "--json", "-", "--db", "t.db"];
    args.extend_from_slice(FAST);
    let (ok, out, err) = run(&args, dir.path());
    assert!(ok, "{err}");
    assert!(err.contains("sites.csv:3: skipped"), "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["sites"].as_array().unwrap().len(), 1);
    assert_eq!(v["sites"][0]["name"], "西林县人社局");
    assert_eq!(v["sites"][0]["level"], "county");
    assert_eq!(v["site_list_errors"][0]["line"], 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_rescores_a_stored_run_without_fetching() {
    let (ext, _) = serve_site_with("external", &[]).await;
    let e = ext.url("");
    let (site, log) = serve_site_with("county-table", &[("external", e.as_str())]).await;
    let dir = tempfile::tempdir().unwrap();
    let url = site.url("/");
    let mut args = vec!["scan", url.as_str(), "--json", "scan.json", "--db", "t.db"];
    args.extend_from_slice(FAST);
    let (ok, _, err) = run(&args, dir.path());
    assert!(ok, "{err}");
    let requests = log.all().len();
    let (ok, out, err) = run(&["report", "--db", "t.db", "--json", "-"], dir.path());
    assert!(ok, "{err}");
    assert_eq!(log.all().len(), requests, "report fetches nothing");
    let fresh: Value = serde_json::from_str(&std::fs::read_to_string(dir.path().join("scan.json")).unwrap()).unwrap();
    let again: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(fresh["sites"][0]["findings"], again["sites"][0]["findings"]);
    assert_eq!(fresh["sites"][0]["score"], again["sites"][0]["score"]);
    let (ok, out, err) = run(&["report", "--db", "t.db", "--rubric", "census-2015", "--json", "-"], dir.path());
    assert!(ok, "{err}");
    let census: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(census["rubric"]["id"], "census-2015");
    assert_schema("sitecensus.results-1.schema.json", &census);
    // JSON Lines: one site a line, each standing alone, equal to the site of the results file.
    let (ok, out, err) = run(&["report", "--db", "t.db", "--jsonl", "-", "--json", "all.json"], dir.path());
    assert!(ok, "{err}");
    let lines: Vec<Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 1, "{out}");
    assert_schema("sitecensus.lines-1.schema.json", &lines[0]);
    assert_eq!(lines[0]["schema"], "sitecensus.site/1");
    assert_eq!(lines[0]["as_of"], "2024-07-10T00:00:00+08:00");
    assert_eq!(lines[0]["rubric"], "gov-2019");
    let all: Value = serde_json::from_str(&std::fs::read_to_string(dir.path().join("all.json")).unwrap()).unwrap();
    assert_eq!(lines[0]["run"], all["run"]["id"]);
    let mut line = lines[0].clone();
    for k in ["schema", "as_of", "rubric", "run"] {
        line.as_object_mut().unwrap().remove(k);
    }
    assert_eq!(line, all["sites"][0]);
    // -q: the outputs only.
    let (ok, out, err) = run(&["report", "--db", "t.db", "-q", "--json", "-"], dir.path());
    assert!(ok, "{err}");
    assert!(err.trim().is_empty(), "{err}");
    assert!(serde_json::from_str::<Value>(&out).is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resolve_maps_a_host_name_like_curl() {
    let (site, log) = serve_site_with("stub-home", &[]).await;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("http://www.xilin.gov.cn:{}/", site.port());
    let resolve = format!("www.xilin.gov.cn:{}:127.0.0.1", site.port());
    let mut args = vec!["scan", url.as_str(), "--resolve", resolve.as_str(), "--json", "-", "--db", "t.db"];
    args.extend_from_slice(FAST);
    let (ok, out, err) = run(&args, dir.path());
    assert!(ok, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["sites"][0]["verdict"], "pass", "{out}");
    assert!(log.gets("/portal/index.html") == 1);
}

#[test]
fn bad_input_gets_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.toml"),
        "id = \"x\"\ntitle = \"t\"\npass_mark = 60\n[checks.\"links.brokn\"]\nseverity = \"deduct\"\n",
    )
    .unwrap();
    let (ok, _, err) = run(&["scan", "http://127.0.0.1:9/", "--rubric", "bad.toml", "--db", "t.db"], dir.path());
    assert!(!ok);
    assert!(err.contains("bad.toml:4") && err.contains("links.brokn"), "{err}");
    // A misspelt parameter stops the command before anything is stored: census start too.
    std::fs::write(
        dir.path().join("typo.toml"),
        "extends = \"gov-2019\"\nid = \"x\"\ntitle = \"t\"\npass_mark = 60\n[checks.\"freshness.homepage_stale\"]\nmax_dayz = 3\n",
    )
    .unwrap();
    for cmd in [&["scan", "http://127.0.0.1:9/"][..], &["census", "start", "http://127.0.0.1:9/"][..]] {
        let mut args = cmd.to_vec();
        args.extend_from_slice(&["--rubric", "typo.toml", "--db", "typo.db"]);
        let (ok, _, err) = run(&args, dir.path());
        assert!(!ok && err.contains("typo.toml:6: check freshness.homepage_stale: unknown field `max_dayz`"), "{err}");
        assert!(!dir.path().join("typo.db").exists(), "nothing stored: {err}");
    }
    let (ok, _, err) = run(&["scan", "--db", "t.db"], dir.path());
    assert!(!ok);
    assert!(err.contains("no site to scan"), "{err}");
    let (ok, _, err) = run(&["scan", "http://a.gov.cn/", "--resolve", "nonsense", "--db", "t.db"], dir.path());
    assert!(!ok);
    assert!(err.contains("HOST:PORT:ADDR"), "{err}");
    // A store that is not there is said to be missing, and none is left behind.
    let (ok, _, err) = run(&["report", "--db", "missing.db"], dir.path());
    assert!(!ok);
    assert!(err.contains("no store at missing.db"), "{err}");
    assert!(!dir.path().join("missing.db").exists());
    // A read-only store is named as such.
    let (ok, _, err) = run(
        &["scan", "http://127.0.0.1:9/", "--db", "t.db", "--timeout", "1", "--retries", "0", "-q", "--no-https-check"],
        dir.path(),
    );
    assert!(ok, "{err}");
    let ro = dir.path().join("t.db");
    let mut perms = std::fs::metadata(&ro).unwrap().permissions();
    perms.set_readonly(true);
    std::fs::set_permissions(&ro, perms).unwrap();
    let (ok, _, err) = run(&["scan", "http://127.0.0.1:9/", "--db", "t.db"], dir.path());
    assert!(!ok);
    assert!(err.contains("read-only"), "{err}");
}

/// `--fail-on` gives CI jobs an exit status: 3 when a site has a veto (or does not pass), after
/// every output is written; 2 for a usage error; 0 when the scan ran, whatever the scores.
#[test]
fn fail_on_sets_the_exit_status_after_writing_the_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let base =
        ["scan", "http://127.0.0.1:9/", "--db", "t.db", "--timeout", "1", "--retries", "0", "-q", "--no-https-check"];
    let status = |extra: &[&str]| {
        let mut args: Vec<&str> = base.to_vec();
        args.extend_from_slice(extra);
        bin().args(&args).current_dir(dir.path()).output().unwrap()
    };
    assert_eq!(status(&[]).status.code(), Some(0), "a down site is a result, not an error");
    let out = status(&["--fail-on", "veto", "--json", "r.json"]);
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 site(s) have a veto"));
    assert!(dir.path().join("r.json").exists(), "the outputs are written first");
    assert_eq!(status(&["--fail-on", "fail"]).status.code(), Some(3));
    assert_eq!(status(&["--fail-on", "sometimes"]).status.code(), Some(2), "a usage error");
}

/// A reader that goes away (`| head`) ends the command quietly, as other tools end.
#[test]
fn a_closed_pipe_ends_quietly() {
    let page = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/corpus/gov-pages/article/gne_shanxi-gov_provincial_article_2019-09-18.html");
    let mut child = bin()
        .args(["page", page.to_str().unwrap(), "--url", "http://www.shanxi.gov.cn/a.html", "--json", "-"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{:?} {err}", out.status);
    assert!(!err.contains("error") && !err.contains("panicked"), "{err}");
}

/// Shell completions and a manual page come from the same definitions as `--help`.
#[test]
fn completions_and_a_manual_page_are_generated() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, out, err) = run(&["completions", "bash"], dir.path());
    assert!(ok, "{err}");
    assert!(out.contains("_sitecensus") && out.contains("--fail-on") && out.contains("--user-agent"), "{out}");
    let (ok, out, err) = run(&["man"], dir.path());
    assert!(ok, "{err}");
    assert!(out.contains(".TH sitecensus 1") && out.contains("scan"), "{out}");
    let (ok, _, err) = run(&["completions", "cmd.exe"], dir.path());
    assert!(!ok && err.contains("possible values"), "{err}");
}

/// Log lines written to a file or a pipe carry no colour codes.
#[test]
fn logs_to_a_pipe_are_plain_text() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, _, err) = run(
        &[
            "scan",
            "http://127.0.0.1:9/",
            "--db",
            "t.db",
            "--timeout",
            "1",
            "--retries",
            "0",
            "-q",
            "--no-https-check",
            "-v",
        ],
        dir.path(),
    );
    assert!(ok, "{err}");
    assert!(err.contains("INFO"), "{err}");
    assert!(!err.contains('\x1b'), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probe_stores_every_attempt() {
    let (site, _) = serve_site_with("stub-home", &[]).await;
    let dir = tempfile::tempdir().unwrap();
    let url = site.url("/");
    let (ok, _, err) = run(&["probe", url.as_str(), "--every", "0.3", "--for", "1", "--db", "p.db"], dir.path());
    assert!(ok, "{err}");
    let store = sitecensus_store::Store::open(&dir.path().join("p.db")).unwrap();
    let probes = store.probes(&url, "2000-01-01T00:00:00+08:00", "2100-01-01T00:00:00+08:00").unwrap();
    assert_eq!(probes.len(), 4, "{probes:?}");
    assert!(probes.iter().all(|p| p.ok));
}

/// `--for` limits time, not rounds, and each homepage keeps its own schedule: a hanging one
/// delays no other and leaves no burst of probes behind it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_homepage_delays_no_other_probe_and_for_limits_time() {
    let (site, _) = serve_site_with("stub-home", &[]).await;
    let (hostile, _) = serve_site_with("hostile", &[]).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("fast.toml"),
        "extends = \"gov-2019\"\nid = \"fast\"\n[checks.\"availability.unreachable\"]\nprobe_timeout_secs = 1\n",
    )
    .unwrap();
    let (up, hang) = (site.url("/"), hostile.url("/_t/hang"));
    let started = std::time::Instant::now();
    let (ok, _, err) = run(
        &[
            "probe",
            up.as_str(),
            hang.as_str(),
            "--every",
            "0.3",
            "--for",
            "1.2",
            "--rubric",
            "fast.toml",
            "--db",
            "p.db",
        ],
        dir.path(),
    );
    assert!(ok, "{err}");
    assert!(started.elapsed() < Duration::from_secs(10), "took {:?}", started.elapsed());
    let store = sitecensus_store::Store::open(&dir.path().join("p.db")).unwrap();
    let window = ("2000-01-01T00:00:00+08:00", "2100-01-01T00:00:00+08:00");
    let healthy = store.probes(&up, window.0, window.1).unwrap();
    assert_eq!(healthy.len(), 4, "{healthy:?}");
    assert!(healthy.iter().all(|p| p.ok));
    // Its first probe hangs past the rubric's timeout; of the three slots it overran only the
    // latest is probed (late), not each in a burst, and then the time is up.
    let hanging = store.probes(&hang, window.0, window.1).unwrap();
    assert_eq!(hanging.len(), 2, "{hanging:?}");
    assert!(hanging.iter().all(|p| !p.ok));
}

/// `page` reads a file within the crawler's body cap: /dev/zero has no end.
#[test]
fn page_reads_a_file_within_the_cap() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, _, err) = run(&["page", "/dev/zero", "--url", "http://www.example.gov.cn/zero.html"], dir.path());
    assert!(ok, "{err}");
    assert!(err.contains("larger than 10 MB"), "{err}");
}

#[test]
fn demo_scans_the_bundled_sites_with_nothing_to_install() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, out, err) = run(&["demo"], dir.path());
    assert!(ok, "{err}");
    assert!(dir.path().join("sitecensus.db").exists());
    demo_results_hold(dir.path(), &out, &dir.path().join("sitecensus.db").display().to_string());
    // Scored again from the store, in Chinese: the finding lines and the evidence are Chinese,
    // read back from the store as the scan wrote them.
    let (ok, out, err) = run(&["report", "--lang", "zh", "--json", "again.json", "--report-dir", "split"], dir.path());
    assert!(ok, "{err}");
    // The census report split by region: an index, and a file per region with its sites.
    let split = dir.path().join("split");
    let index = std::fs::read_to_string(split.join("index.html")).unwrap();
    assert!(index.contains("<a href=\"360102.html\">360102 江西省南昌市东湖区</a>"), "the index lists the regions");
    let region = std::fs::read_to_string(split.join("360102.html")).unwrap();
    assert!(region.contains("东湖区人民政府") && !region.contains("西岭县人民政府"), "a region's file holds its sites");
    assert!(region.contains("出现严重表述错误"), "its vetoes in the rubric's wording");
    let files = std::fs::read_dir(&split).unwrap().count();
    assert_eq!(files, 1 + 10, "the index and one file per region of the demo's twelve sites");
    assert!(out.contains("单项否决 站点无法访问（1 处）"), "the veto item in the rubric's wording: {out}");
    assert!(out.contains("首页尝试 2 次均失败：连接失败"), "the evidence in Chinese: {out}");
    assert!(out.contains("个网站：3 个合格，9 个不合格"), "{out}");
    assert!(out.contains("(乡镇级, 360925 江西省宜春市靖安县)"), "the level in Chinese: {out}");
    assert!(!out.contains("homepage failed after"), "no English evidence: {out}");
    assert_eq!(
        evidence_in_chinese(&std::fs::read_to_string(dir.path().join("again.json")).unwrap()),
        evidence_in_chinese(&std::fs::read_to_string(dir.path().join("demo-results.json")).unwrap()),
        "the store keeps each finding's Chinese evidence"
    );
}

/// Each finding's Chinese evidence in a results JSON, in order.
fn evidence_in_chinese(results: &str) -> Vec<Value> {
    let v: Value = serde_json::from_str(results).unwrap();
    let mut out: Vec<Value> = v["sites"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["findings"].as_array().unwrap().iter().map(|f| f["evidence_zh"].clone()))
        .collect();
    out.sort_by_key(Value::to_string);
    out
}

#[test]
fn demo_on_postgres_gives_the_same_results() {
    let db = sitecensus_fixtures::postgres::TempDb::new();
    let dir = tempfile::tempdir().unwrap();
    let (ok, out, err) = run(&["demo", "--db", db.url()], dir.path());
    assert!(ok, "{err}");
    assert!(!dir.path().join("sitecensus.db").exists(), "no SQLite file is made");
    demo_results_hold(dir.path(), &out, db.url());
    // Scored again from the stored crawl: the same verdicts, and a second scoring stored.
    let (ok, _, err) = run(&["report", "--db", db.url(), "--json", "again.json"], dir.path());
    assert!(ok, "{err}");
    let read = |f: &str| std::fs::read_to_string(dir.path().join(f)).unwrap();
    assert_eq!(verdicts(&read("again.json")), verdicts(&read("demo-results.json")));
    assert_eq!(evidence_in_chinese(&read("again.json")), evidence_in_chinese(&read("demo-results.json")));
    let store = sitecensus_store::Store::open_postgres(db.url()).unwrap();
    assert_eq!(
        store.query_rows("SELECT count(*) FROM scorings WHERE finished_at IS NOT NULL").unwrap(),
        [[Some("2".to_owned())]]
    );
}

/// Each site's URL, verdict, score, vetoes and pages fetched in a results JSON.
fn verdicts(results: &str) -> Vec<(String, String, f64, Value, Value)> {
    let v: Value = serde_json::from_str(results).unwrap();
    v["sites"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["url"].as_str().unwrap().to_owned(),
                s["verdict"].as_str().unwrap().to_owned(),
                s["score"].as_f64().unwrap(),
                s["vetoes"].clone(),
                s["stats"]["pages_fetched"].clone(),
            )
        })
        .collect()
}

/// What the demo census must find, on whichever store it ran.
fn demo_results_hold(dir: &Path, out: &str, db: &str) {
    assert!(out.contains("12 sites"), "{out}");
    let v: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("demo-results.json")).unwrap()).unwrap();
    assert_schema("sitecensus.results-1.schema.json", &v);
    let sites = v["sites"].as_array().unwrap();
    assert_eq!(sites.len(), 12);
    assert!(dir.join("demo-report.html").exists());
    let named = |part: &str| sites.iter().find(|s| s["name"].as_str().is_some_and(|n| n.contains(part))).unwrap();
    assert_eq!(named("无法访问")["vetoes"], serde_json::json!(["availability.unreachable"]));
    assert_eq!(named("荒废镇")["verdict"], "fail");
    assert_eq!(named("长宁县")["columns"].as_array().unwrap().len(), 16);
    // Regions by name as well as code (GB/T 2260), in the JSON, the report and the terminal.
    assert_eq!(named("东湖区")["region_name"], "江西省南昌市东湖区");
    let html = std::fs::read_to_string(dir.join("demo-report.html")).unwrap();
    assert!(html.contains("360102 江西省南昌市东湖区"), "the report names the region");
    assert!(html.contains(">单项否决</td>"), "severities in Chinese");
    assert!(html.contains("首页尝试 2 次均失败"), "the evidence in Chinese in the Chinese report");
    assert!(
        html.contains("<td>站点无法访问<div class=\"small\">availability.unreachable</div></td>"),
        "checks by name"
    );
    // Every finding of every check the demo finds carries its evidence in Chinese, with no
    // sentence left in English (quotes of pages and servers' own messages aside).
    let findings: Vec<&Value> = sites.iter().flat_map(|s| s["findings"].as_array().unwrap()).collect();
    let checks: std::collections::BTreeSet<&str> = findings.iter().map(|f| f["check"].as_str().unwrap()).collect();
    assert!(checks.len() >= 25, "the demo exercises most checks: {checks:?}");
    for f in &findings {
        let zh = f["evidence_zh"].as_str().unwrap_or_else(|| panic!("no Chinese evidence: {f}"));
        let english = [" the ", " of ", " no ", " is ", " has ", " after ", " shows ", " lacks "];
        assert!(!english.iter().any(|w| zh.contains(w)), "English in the Chinese evidence: {zh}");
    }
    assert!(html.contains("@media print") && html.contains("size:A4"), "a print stylesheet");
    assert!(out.contains("(county, 360102 江西省南昌市东湖区)"), "the scorecard names the region: {out}");
    let vetoes = named("东湖区")["vetoes"].as_array().unwrap().clone();
    for v in ["security.spam_injection", "privacy.personal_data", "accuracy.wrong_expression"] {
        assert!(vetoes.iter().any(|x| x == v), "{v} missing from {vetoes:?}");
    }
    let copies =
        named("西岭县")["findings"].as_array().unwrap().iter().filter(|f| f["detail"]["cross_site"] == true).count();
    assert_eq!(copies, 1);
    assert_eq!(named("和平区")["vetoes"], serde_json::json!(["interaction.unanswered"]));
    assert_eq!(named("和平区")["stats"]["interaction"]["letters"], 8);
    assert_eq!(named("东山乡")["vetoes"], serde_json::json!(["interaction.missing", "service.missing"]));
    assert!(out.contains("letters: 8 read, 5 replied"), "{out}");
    // Personal data is masked in every output.
    assert!(!out.contains("1965031212"), "an ID number leaks into the terminal");
    for file in ["demo-results.json", "demo-report.html"] {
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        assert!(!text.contains("1965031212"), "an ID number leaks into {file}");
    }
    sql_answers_as_the_json_does(db, &v);
}

/// The README's example queries over the stored scoring give what the results JSON says.
fn sql_answers_as_the_json_does(db: &str, v: &Value) {
    use std::collections::BTreeMap;
    let store = sitecensus_store::Store::open_any(db).unwrap();
    let query = |sql: String| store.query_rows(&sql).unwrap();
    let text = |c: &Option<String>| c.clone().unwrap_or_default();
    let int = |c: &Option<String>| c.as_deref().unwrap().parse::<i64>().unwrap();
    let run = v["run"]["id"].as_i64().unwrap();
    let scoring =
        int(&query(format!("SELECT max(id) FROM scorings WHERE run_id = {run} AND finished_at IS NOT NULL"))[0][0]);
    let sites = v["sites"].as_array().unwrap();
    // Every site's verdict and score.
    let stored: BTreeMap<String, (String, f64)> =
        query(format!("SELECT url, verdict, score FROM site_scores WHERE scoring_id = {scoring}"))
            .iter()
            .map(|r| (text(&r[0]), (text(&r[1]), text(&r[2]).parse().unwrap())))
            .collect();
    let json: BTreeMap<String, (String, f64)> = sites
        .iter()
        .map(|s| {
            (
                s["url"].as_str().unwrap().to_owned(),
                (s["verdict"].as_str().unwrap().to_owned(), s["score"].as_f64().unwrap()),
            )
        })
        .collect();
    assert_eq!(stored, json);
    // The README's queries, word for word.
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
    let sql = readme.split("```sql").nth(1).unwrap().split("```").next().unwrap();
    let readme_queries: Vec<String> = sql
        .split(';')
        .map(|q| q.lines().filter(|l| !l.trim_start().starts_with("--")).collect::<Vec<_>>().join("\n"))
        .filter(|q| !q.trim().is_empty())
        .map(|q| q.replace(":s", &scoring.to_string()))
        .collect();
    assert_eq!(readme_queries.len(), 3, "{sql}");
    // Sites with vetoes, by item: the count rules' vetoes (empty columns, stale columns) included.
    let mut stored: Vec<(String, String)> =
        query(readme_queries[0].clone()).iter().map(|r| (text(&r[1]), text(&r[3]))).collect();
    let mut json: Vec<(String, String)> = sites
        .iter()
        .flat_map(|s| {
            s["veto_items"]
                .as_array()
                .unwrap()
                .iter()
                .map(move |i| (s["name"].as_str().unwrap().to_owned(), i["item"].as_str().unwrap().to_owned()))
        })
        .collect();
    stored.sort();
    json.sort();
    assert!(json.len() >= 10, "the demo has vetoes of many kinds: {json:?}");
    assert_eq!(stored, json);
    // Pass rate by level.
    let stored: BTreeMap<Option<String>, (i64, i64)> =
        query(readme_queries[1].clone()).iter().map(|r| (r[0].clone(), (int(&r[1]), int(&r[2])))).collect();
    let mut json: BTreeMap<Option<String>, (i64, i64)> = BTreeMap::new();
    for s in sites {
        let e = json.entry(s["level"].as_str().map(str::to_owned)).or_default();
        e.0 += 1;
        e.1 += i64::from(s["verdict"] == "pass");
    }
    assert_eq!(stored, json);
    // Findings that cost points, by check and final severity, and on how many sites.
    let stored: BTreeMap<(String, String), (i64, i64)> = query(readme_queries[2].clone())
        .iter()
        .map(|r| ((text(&r[0]), text(&r[1])), (int(&r[2]), int(&r[3]))))
        .collect();
    let mut json: BTreeMap<(String, String), (i64, std::collections::BTreeSet<String>)> = BTreeMap::new();
    for s in sites {
        for f in s["findings"].as_array().unwrap() {
            let severity = f["severity"].as_str().unwrap();
            if severity == "veto" || severity == "deduct" {
                let e = json.entry((f["check"].as_str().unwrap().to_owned(), severity.to_owned())).or_default();
                e.0 += 1;
                e.1.insert(s["url"].as_str().unwrap().to_owned());
            }
        }
    }
    let json: BTreeMap<(String, String), (i64, i64)> =
        json.into_iter().map(|(k, (n, sites))| (k, (n, sites.len() as i64))).collect();
    assert!(!json.is_empty());
    assert_eq!(stored, json);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn page_reads_a_live_url() {
    let (site, _) = serve_site_with("city-gbk", &[]).await;
    let url = site.url("/news/index.shtml");
    let (ok, out, err) = run(&["page", url.as_str(), "--as-of", "2024-07-10", "--json", "-"], Path::new("."));
    assert!(ok, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["encoding"], "GBK");
    assert_eq!(v["page_kind"], "list");
    assert_eq!(v["items"].as_array().unwrap().len(), 6);
    assert_eq!(v["items"][0]["date"], "2024-07-08");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn page_draws_a_live_list_page_that_scripts_fill() {
    let (site, _) = serve_site_with("json-lists", &[("secret", "http://127.0.0.2:9")]).await;
    let url = site.url("/xwdt/index.html");
    let (ok, out, err) = run(&["page", url.as_str(), "--as-of", "2024-07-10", "--json", "-"], Path::new("."));
    assert!(ok, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["rendered"], true);
    assert_eq!(v["items"].as_array().unwrap().len(), 10, "{out}");
    let (ok, out, err) =
        run(&["page", url.as_str(), "--as-of", "2024-07-10", "--no-render", "--json", "-"], Path::new("."));
    assert!(ok, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["rendered"], false);
    assert!(v["items"].as_array().unwrap().is_empty());
    assert_eq!(v["drawn_by"][0], "/js/list.js", "{out}");
    assert!(v["render_note"].as_str().unwrap().contains("--no-render"));
}

/// The speech of the specification as `page` reads it: the brand names slipped into its
/// sentences are spam, the mood it quotes from another site is not its own wording.
#[test]
fn page_finds_the_seeds_stuffed_brand_names() {
    let seed = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/corpus/spec/000_f4f639abe7c9dd52.txt");
    let (ok, out, err) = run(
        &[
            "page",
            seed.to_str().unwrap(),
            "--url",
            "http://www.example.gov.cn/a.html",
            "--as-of",
            "2024-07-10",
            "--json",
            "-",
        ],
        Path::new("."),
    );
    assert!(ok, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let findings = v["findings"].as_array().unwrap();
    let spam = findings.iter().find(|f| f["check"] == "security.spam_injection").expect("the injection is found");
    assert_eq!(spam["detail"]["kind"], "stuffing");
    assert!(
        findings.iter().all(|f| f["check"] != "accuracy.inappropriate_expression" || f["severity"] == "info"),
        "{out}"
    );
}

/// A hostile site writes escape sequences into its title, its link texts, its robots.txt and its
/// name in the site list: whatever sitecensus prints shows them escaped, `-q` or not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn escape_sequences_from_a_site_never_reach_the_terminal() {
    let (site, _) = serve_site_with("escapes", &[]).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("sites.csv"), format!("url,name\n{},恶意\x1b[2J\x1b]0;x\x07县\n", site.url("/")))
        .unwrap();
    for quiet in [false, true] {
        let mut args = vec!["scan", "--sites", "sites.csv", "--db", "t.db", "--no-render"];
        args.extend(FAST.iter().filter(|a| quiet || **a != "--quiet"));
        let (ok, out, err) = run(&args, dir.path());
        assert!(ok, "{err}");
        for text in [&out, &err] {
            assert!(
                !text.contains("\x1b]") && !text.contains("\x1b[2J") && !text.contains('\x07'),
                "raw escape: {text:?}"
            );
        }
        if !quiet {
            assert!(err.contains("\\x1b[2J") || out.contains("\\x1b[2J"), "shown escaped: {out} {err}");
        }
        assert!(err.contains("not a sitemap"), "the sitemap note is said: {err}");
    }
    let (ok, out, _) = run(&["page", site.url("/").as_str(), "--no-render"], dir.path());
    assert!(ok);
    assert!(!out.contains('\x1b') && out.contains("\\x1b]0;pwned"), "{out:?}");
}

/// Probes a homepage that fails one request in `every`, `rounds` times, then scans it: the
/// stored window decides availability by the official rule.
async fn probe_then_scan(every: u32, rounds: u32) -> Value {
    let (site, _) = serve_site_with("hostile", &[]).await;
    let dir = tempfile::tempdir().unwrap();
    let url = site.url(&format!("/_t/every/{every}"));
    let interval = format!("{}", 1.0 / f64::from(rounds));
    let (ok, _, err) =
        run(&["probe", url.as_str(), "--every", interval.as_str(), "--for", "1", "--db", "p.db"], dir.path());
    assert!(ok, "{err}");
    let store = sitecensus_store::Store::open(&dir.path().join("p.db")).unwrap();
    let probes = store.probes(&url, "2000-01-01T00:00:00+08:00", "2100-01-01T00:00:00+08:00").unwrap();
    assert_eq!(probes.len() as u32, rounds);
    assert_eq!(probes.iter().filter(|p| !p.ok).count() as u32, rounds / every, "the history survives in the store");
    let (ok, out, err) = run(
        &["scan", url.as_str(), "--db", "p.db", "--json", "-", "--per-host-rps", "0", "--quiet", "--max-pages", "1"],
        dir.path(),
    );
    assert!(ok, "{err}");
    serde_json::from_str(&out).unwrap()
}

/// Ten per cent of probes failed — but over a second, not the week the rule judges: a warning
/// that says so, not a veto (the week itself is tested over stored probes in the checks).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_probe_window_with_ten_percent_failures_warns_until_it_covers_the_week() {
    let v = probe_then_scan(10, 50).await;
    let site = &v["sites"][0];
    let f = site["findings"].as_array().unwrap().iter().find(|f| f["check"] == "availability.unreachable").unwrap();
    assert_eq!(f["severity"], "warn", "{f}");
    assert_eq!(f["detail"]["window_complete"], false);
    assert_eq!(f["detail"]["rule"], "probes");
    assert_eq!(f["detail"]["probes"], 50);
    assert_eq!(f["detail"]["failures"], 5);
    assert_eq!(f["detail"]["failed"].as_array().unwrap().len(), 5, "each failed probe with its time and error");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_probe_window_with_one_percent_failures_passes() {
    let v = probe_then_scan(100, 100).await;
    let site = &v["sites"][0];
    assert!(site["findings"].as_array().unwrap().iter().all(|f| f["check"] != "availability.unreachable"), "{site}");
    assert!(site["vetoes"].as_array().unwrap().iter().all(|c| c != "availability.unreachable"));
}

#[test]
fn the_accuracy_benchmarks_run_and_find_every_planted_twin() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, out, err) = run(&["bench", "--twins", "3000"], dir.path());
    assert!(ok, "{err}");
    assert!(out.contains("29 of 29 planted twins found, 0 other pairs"), "{out}");
    let (ok, out, err) = run(&["bench", "--dictionaries", "2"], dir.path());
    assert!(ok, "{err}");
    // Each generated page carries a wrong expression, a typo and a list of people: three findings.
    let pages: usize = out.split(" pages, ").next().unwrap().rsplit('(').next().unwrap().parse().unwrap();
    assert!(out.contains(&format!("{pages} pages, {} findings", pages * 3)), "{out}");
}

#[test]
fn the_pipeline_benchmark_reads_realistic_pages_on_every_core() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, out, err) = run(&["bench", "--pipeline", "10", "--realistic"], dir.path());
    assert!(ok, "{err}");
    assert!(out.contains("10 realistic (GBK, real template) pages"), "{out}");
    let cores = std::thread::available_parallelism().unwrap().get();
    assert!(out.contains(&format!("{cores} thread(s) ")), "one rate per thread count up to the cores: {out}");
    assert!(out.contains("1 thread(s) ") && out.contains("(1.00×)"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_round_is_compared_with_the_first_and_written_as_a_workbook() {
    let (site, _) = serve_site_with("fake-mailbox", &[]).await;
    let dir = tempfile::tempdir().unwrap();
    let url = site.url("/");
    let mut args = vec!["scan", url.as_str(), "--db", "t.db"];
    args.extend_from_slice(FAST);
    let (ok, _, err) = run(&args, dir.path());
    assert!(ok, "{err}");
    let mut args = vec![
        "scan",
        url.as_str(),
        "--db",
        "t.db",
        "--compare",
        "1",
        "--xlsx",
        "round2.xlsx",
        "--lang",
        "en",
        "--json",
        "r.json",
    ];
    args.extend_from_slice(&FAST[..FAST.len() - 2]);
    args.push("--no-https-check");
    let (ok, out, err) = run(&args, dir.path());
    assert!(ok, "{err}");
    assert!(out.contains("compared with run 1: 0 fixed · 0 new"), "{out}");
    assert!(out.contains("FAIL") && out.contains("VETO"), "an English scorecard: {out}");
    let v: Value = serde_json::from_str(&std::fs::read_to_string(dir.path().join("r.json")).unwrap()).unwrap();
    assert_schema("sitecensus.results-1.schema.json", &v);
    assert_eq!(v["comparison"]["against_run"], 1);
    assert!(v["comparison"]["totals"]["persisting"].as_u64().unwrap() > 0);
    use calamine::Reader;
    let mut wb: calamine::Xlsx<_> = calamine::open_workbook(dir.path().join("round2.xlsx")).unwrap();
    assert_eq!(
        wb.sheet_names(),
        ["Summary", "Ranking", "Findings", "Columns", "Rectification", "Rectification detail"]
    );
    let findings = wb.worksheet_range("Findings").unwrap();
    let n = v["sites"][0]["findings"].as_array().unwrap().len();
    assert_eq!(findings.rows().count(), 1 + n);
    // Each finding with what became of it since run 1, and the previous score beside the new one.
    let detail = wb.worksheet_range("Rectification detail").unwrap();
    let statuses: Vec<String> = detail.rows().skip(1).map(|r| r[1].to_string()).collect();
    let t = &v["comparison"]["totals"];
    let count = |s: &str| statuses.iter().filter(|x| *x == s).count() as u64;
    assert_eq!(count("persisting"), t["persisting"].as_u64().unwrap());
    assert_eq!(count("new"), t["new"].as_u64().unwrap());
    assert_eq!(count("fixed"), t["fixed"].as_u64().unwrap());
    let rect = wb.worksheet_range("Rectification").unwrap();
    assert_eq!(rect.get((0, 3)).map(ToString::to_string).as_deref(), Some("previous score"));
    assert!(matches!(rect.get((1, 3)), Some(calamine::Data::Float(_))), "{:?}", rect.get((1, 3)));
    // The same run reported again in Chinese, compared with itself: nothing new, nothing fixed.
    let (ok, out, err) =
        run(&["report", "--db", "t.db", "--compare", "2", "--lang", "zh", "--xlsx", "zh.xlsx"], dir.path());
    assert!(ok, "{err}");
    assert!(out.contains("不合格") && out.contains("单项否决"), "{out}");
    let mut wb: calamine::Xlsx<_> = calamine::open_workbook(dir.path().join("zh.xlsx")).unwrap();
    assert_eq!(wb.sheet_names(), ["汇总", "排名", "问题清单", "栏目", "整改", "整改明细"]);
    // As offices use it: Chinese severities, real dates a filter can use, the pass rate a
    // percentage; every table frozen at its header, filtered, printed landscape one page wide.
    let findings = wb.worksheet_range("问题清单").unwrap();
    let severities: Vec<String> = findings.rows().skip(1).map(|r| r[4].to_string()).collect();
    assert!(severities.iter().all(|s| ["单项否决", "扣分", "预警", "提示"].contains(&s.as_str())), "{severities:?}");
    let summary = wb.worksheet_range("汇总").unwrap();
    assert!(matches!(summary.get((1, 1)), Some(calamine::Data::DateTime(_))), "{:?}", summary.get((1, 1)));
    let zip_file = std::fs::File::open(dir.path().join("zh.xlsx")).unwrap();
    let mut zip = zip::ZipArchive::new(zip_file).unwrap();
    let mut xml = String::new();
    std::io::Read::read_to_string(&mut zip.by_name("xl/worksheets/sheet3.xml").unwrap(), &mut xml).unwrap();
    for part in ["state=\"frozen\"", "<autoFilter", "orientation=\"landscape\"", "fitToHeight=\"0\"", "<hyperlink "] {
        assert!(xml.contains(part), "{part} missing from the findings sheet");
    }
    let mut styles = String::new();
    std::io::Read::read_to_string(&mut zip.by_name("xl/styles.xml").unwrap(), &mut styles).unwrap();
    assert!(styles.contains("0.0%") && styles.contains("yyyy-mm-dd"), "{styles}");
    let (ok, _, err) = run(&["report", "--db", "t.db", "--lang", "fr"], dir.path());
    assert!(!ok && err.contains("zh or en"), "{err}");
}

#[test]
fn page_says_what_it_reads_as_a_letter_or_a_guide() {
    let fixture =
        |p: &str| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/sites/interaction").join(p);
    let letter = fixture("hdjl/xj/6.html");
    let (ok, out, err) = run(
        &["page", letter.to_str().unwrap(), "--url", "http://www.heping.gov.cn/hdjl/xj/6.html", "--json", "-"],
        Path::new("."),
    );
    assert!(ok, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["letter"]["asked"], "2024-02-05");
    assert_eq!(v["letter"]["status"], "pending");
    let list = fixture("hdjl/xjgk/index.html");
    let (ok, out, _) = run(
        &["page", list.to_str().unwrap(), "--url", "http://www.heping.gov.cn/hdjl/xjgk/index.html", "--json", "-"],
        Path::new("."),
    );
    assert!(ok);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["letters_listed"].as_array().unwrap().len(), 8);
    let guide = fixture("bsfw/zn3.html");
    let (ok, out, _) =
        run(&["page", guide.to_str().unwrap(), "--url", "http://www.heping.gov.cn/bsfw/zn3.html"], Path::new("."));
    assert!(ok);
    assert!(out.contains("lacks 办理材料"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_census_round_survives_a_killed_worker_and_scores_as_a_scan_does() {
    let db = sitecensus_fixtures::postgres::TempDb::new();
    census_round_survives_a_killed_worker(db.url()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_census_round_on_sqlite_survives_a_killed_worker() {
    let dir = tempfile::tempdir().unwrap();
    census_round_survives_a_killed_worker(&dir.path().join("census.db").display().to_string()).await;
}

/// A round of three sites on the store `db`: a worker killed in the middle of a site, another
/// that finishes the round, and results equal to one scan of the same sites.
async fn census_round_survives_a_killed_worker(db: &str) {
    let (ext, _) = serve_site_with("external", &[]).await;
    let e = ext.url("");
    let (county, log) = serve_site_with("county-table", &[("external", e.as_str())]).await;
    let (zombie, _) = serve_site_with("zombie", &[]).await;
    let (letters, _) = serve_site_with("interaction", &[]).await;
    let urls = [county.url("/"), zombie.url("/"), letters.url("/")];
    let dir = tempfile::tempdir().unwrap();
    let mut start = vec!["census", "start", "--name", "测试轮", "--db", db];
    start.extend(urls.iter().map(String::as_str));
    start.extend_from_slice(CENSUS_PACE);
    let (ok, out, err) = run(&start, dir.path());
    assert!(ok, "{err}");
    assert!(out.contains("round 1 (测试轮): 3 sites"), "{out}");
    let (ok, _, err) = run(&start, dir.path());
    assert!(
        !ok && err.contains("round 1 (测试轮)") && err.contains("still running"),
        "a second start is refused: {err}"
    );
    // A worker takes the first site and is killed (SIGKILL) in the middle of it.
    let mut first = bin()
        .args(["worker", "--db", db, "--lease", "3", "--sites-in-flight", "1", "--quiet"])
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    first.kill().unwrap();
    first.wait().unwrap();
    let store = sitecensus_store::Store::open_any(db).unwrap();
    let county_id = store.sites(1).unwrap()[0].id;
    let before: Vec<String> = store.pages(county_id).unwrap().into_iter().map(|p| p.url).collect();
    assert!(before.len() > 3 && before.len() < 53, "killed halfway: {} pages stored", before.len());
    let (ok, out, err) = run(&["census", "status", "--db", db], dir.path());
    assert!(ok, "{err}");
    assert!(out.contains("3 sites — 2 queued, 1 leased, 0 done, 0 failed"), "{out}");
    // Another worker does the rest, takes over the dead worker's site when its lease runs out,
    // and scores the round.
    let (ok, out, err) = run(&["worker", "--db", db, "--lease", "3"], dir.path());
    assert!(ok, "{err}");
    assert!(out.contains("3 sites done") && out.contains("the round is scored"), "{out}\n{err}");
    for u in &before {
        let path = &u[urls[0].len() - 1..];
        assert_eq!(log.gets(path), 1, "{path} was stored before the kill and fetched again");
    }
    assert_eq!(store.page_count(county_id).unwrap(), 53, "no page lost or stored twice");
    assert_eq!(store.sites_by_id(county_id).unwrap().attempts, 2);
    let (ok, out, _) = run(&["census", "status", "--db", db, "--round", "1"], dir.path());
    assert!(ok && out.contains("0 queued, 0 leased, 3 done, 0 failed") && out.contains("finished"), "{out}");
    // The round reads like any run, and scores as one scan of the same sites does.
    let (ok, round, err) = run(&["report", "--db", db, "--json", "-"], dir.path());
    assert!(ok, "{err}");
    let mut scan = vec!["scan", "--db", "t.db", "--json", "-"];
    scan.extend(urls.iter().map(String::as_str));
    scan.extend_from_slice(CENSUS_PACE);
    let (ok, alone, err) = run(&scan, dir.path());
    assert!(ok, "{err}");
    assert_eq!(verdicts(&round), verdicts(&alone));
    // The round's own scoring, stored by the worker that scored it, says the same.
    let stored = store
        .query_rows(
            "SELECT url, verdict, score FROM site_scores WHERE scoring_id =
               (SELECT max(id) FROM scorings WHERE source = 'census' AND finished_at IS NOT NULL) ORDER BY url",
        )
        .unwrap();
    let mut expected: Vec<Vec<Option<String>>> = verdicts(&alone)
        .into_iter()
        .map(|(url, verdict, score, _, _)| vec![Some(url), Some(verdict), Some(score.to_string())])
        .collect();
    expected.sort();
    let stored: Vec<Vec<Option<String>>> = stored
        .into_iter()
        .map(|r| vec![r[0].clone(), r[1].clone(), r[2].as_deref().map(|s| s.parse::<f64>().unwrap().to_string())])
        .collect();
    assert_eq!(stored, expected);
    // Once the round is done, the same list may start a new round.
    let (ok, out, err) = run(&start, dir.path());
    assert!(ok && out.contains("round 2"), "{out}\n{err}");
}

/// Workers on machines whose clocks disagree agree on leases: they are set and compared in the
/// database's clock. A worker an hour ahead (libfaketime) takes the free site, not the site
/// another worker is crawling under a live lease.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_whose_clock_runs_an_hour_ahead_takes_no_live_lease() {
    let db = sitecensus_fixtures::postgres::TempDb::new();
    let db = db.url();
    let (county, log) = serve_site_with("county-table", &[]).await;
    let (zombie, _) = serve_site_with("zombie", &[]).await;
    let dir = tempfile::tempdir().unwrap();
    let (county_url, zombie_url) = (county.url("/"), zombie.url("/"));
    let mut start = vec!["census", "start", "--db", db, county_url.as_str(), zombie_url.as_str()];
    start.extend_from_slice(CENSUS_PACE);
    let (ok, _, err) = run(&start, dir.path());
    assert!(ok, "{err}");
    let mut first = bin()
        .args(["worker", "--db", db, "--lease", "30", "--sites-in-flight", "1", "--quiet"])
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let store = sitecensus_store::Store::open_any(db).unwrap();
    let county_id = store.sites(1).unwrap()[0].id;
    for _ in 0..200 {
        if store.page_count(county_id).unwrap() > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(store.page_count(county_id).unwrap() > 0, "the first worker crawls the first site");
    let exe = assert_cmd::cargo::cargo_bin("sitecensus");
    let ahead = Command::new("faketime")
        .args(["-f", "+1h"])
        .arg(&exe)
        .args(["worker", "--db", db, "--lease", "30", "--sites-in-flight", "2"])
        .env("DONT_FAKE_MONOTONIC", "1")
        .env("LANG", "C.UTF-8")
        .current_dir(dir.path())
        .output()
        .expect("faketime (Debian's faketime package; the README's test command installs it)");
    let err = String::from_utf8_lossy(&ahead.stderr);
    assert!(ahead.status.success(), "{err}");
    assert!(first.wait().unwrap().success());
    for site in store.sites(1).unwrap() {
        assert_eq!(site.attempts, 1, "{} was leased once: {err}", site.spec.given);
    }
    let pages: Vec<String> = store.pages(county_id).unwrap().into_iter().map(|p| p.url).collect();
    let distinct: std::collections::HashSet<&String> = pages.iter().collect();
    assert_eq!(distinct.len(), pages.len(), "no page stored twice");
    assert_eq!(log.gets("/"), 1, "the homepage was fetched once");
}

/// A round's scoring keeps what each worker stored as its sites finished, and adds what only the
/// whole round shows: an article copied from another site of the round. A site marked done whose
/// worker died before storing its score is assessed when the round is scored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_census_round_finds_twins_across_its_sites_and_scores_what_a_dead_worker_left() {
    let (original, _) = serve_site_with("accuracy", &[]).await;
    let (copier, _) = serve_site_with("accuracy-copy", &[]).await;
    let urls = [original.url("/"), copier.url("/")];
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("round.db").display().to_string();
    let settings = ["--as-of", "2024-07-10", "--per-host-rps", "0", "--no-render", "--no-https-check"];
    let mut start = vec!["census", "start", "--db", db.as_str()];
    start.extend(urls.iter().map(String::as_str));
    start.extend_from_slice(&settings);
    let (ok, _, err) = run(&start, dir.path());
    assert!(ok, "{err}");
    let (ok, out, err) = run(&["worker", "--db", db.as_str()], dir.path());
    assert!(ok && out.contains("the round is scored"), "{out}\n{err}");
    let store = sitecensus_store::Store::open_any(&db).unwrap();
    let stored = |store: &sitecensus_store::Store| {
        store
            .query_rows(
                "SELECT s.url, s.verdict, s.score,
                   (SELECT count(*) FROM scored_findings f WHERE f.scoring_id = s.scoring_id AND f.site_id = s.site_id
                      AND f.check_id = 'accuracy.twin_articles' AND f.detail LIKE '%cross_site%')
                 FROM site_scores s WHERE s.scoring_id =
                   (SELECT max(id) FROM scorings WHERE source = 'census' AND finished_at IS NOT NULL)
                 ORDER BY s.url",
            )
            .unwrap()
    };
    let round = stored(&store);
    assert_eq!(round.len(), 2);
    let copies = |rows: &[Vec<Option<String>>], url: &str| {
        rows.iter().find(|r| r[0].as_deref() == Some(url)).unwrap()[3].clone().unwrap()
    };
    assert_eq!(copies(&round, &urls[0]), "0", "the original is no copy");
    assert_eq!(copies(&round, &urls[1]), "1", "the copy is found across the round's sites");
    // As one scan of the same sites scores them.
    let mut scan = vec!["scan", "--db", "alone.db", "--json", "-"];
    scan.extend(urls.iter().map(String::as_str));
    scan.extend_from_slice(&settings);
    let (ok, alone, err) = run(&scan, dir.path());
    assert!(ok, "{err}");
    let mut expected: Vec<(String, String, String)> =
        verdicts(&alone).into_iter().map(|(url, verdict, score, _, _)| (url, verdict, score.to_string())).collect();
    expected.sort();
    let got = |rows: &[Vec<Option<String>>]| -> Vec<(String, String, String)> {
        rows.iter()
            .map(|r| {
                let score = r[2].as_deref().unwrap().parse::<f64>().unwrap().to_string();
                (r[0].clone().unwrap(), r[1].clone().unwrap(), score)
            })
            .collect()
    };
    assert_eq!(got(&round), expected);
    // The copier's worker "died" after marking it done and before storing its score: the round
    // is open again, and the next worker scores it from the stored crawl.
    for sql in [
        "DELETE FROM scored_findings WHERE site_id = 2",
        "DELETE FROM site_deductions WHERE site_id = 2",
        "DELETE FROM site_vetoes WHERE site_id = 2",
        "DELETE FROM site_scores WHERE site_id = 2",
        "UPDATE scorings SET finished_at = NULL",
        "UPDATE runs SET status = 'running', lease_owner = NULL, lease_until = NULL",
    ] {
        store.query_rows(sql).unwrap();
    }
    let (ok, out, err) = run(&["worker", "--db", db.as_str()], dir.path());
    assert!(ok && out.contains("the round is scored"), "{out}\n{err}");
    let again = stored(&store);
    assert_eq!(got(&again), expected);
    assert_eq!(copies(&again, &urls[1]), "1");
}

/// Two workers on PostgreSQL: a host is crawled by one worker at a time (two sites on one host
/// name, at different ports, never at once), and a host both crawls link to is paced over both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_keep_politeness_together() {
    let db = sitecensus_fixtures::postgres::TempDb::new();
    let (ext, ext_log) = serve_site_with("external", &[]).await;
    let e = format!("http://ext.test:{}", ext.port());
    let (county, county_log) = serve_site_with("county-table", &[("external", e.as_str())]).await;
    let (zombie, zombie_log) = serve_site_with("zombie", &[]).await;
    let (p, r) = (county.port(), zombie.port());
    let urls = [format!("http://one.test:{p}/"), format!("http://two.test:{p}/"), format!("http://one.test:{r}/")];
    let resolve: Vec<String> = [("one.test", p), ("two.test", p), ("one.test", r), ("ext.test", ext.port())]
        .iter()
        .map(|(h, port)| format!("{h}:{port}:127.0.0.1"))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let mut start = vec!["census", "start", "--db", db.url()];
    start.extend(urls.iter().map(String::as_str));
    start.extend_from_slice(&["--as-of", "2024-07-10", "--per-host-rps", "5", "--no-render", "--no-https-check"]);
    for r in &resolve {
        start.extend_from_slice(&["--resolve", r]);
    }
    let (ok, _, err) = run(&start, dir.path());
    assert!(ok, "{err}");
    let workers: Vec<_> = (0..2)
        .map(|_| {
            bin()
                .args(["worker", "--db", db.url(), "--lease", "30", "--quiet"])
                .current_dir(dir.path())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for w in workers {
        let out = tokio::task::spawn_blocking(move || w.wait_with_output().unwrap()).await.unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let (ok, out, _) = run(&["census", "status", "--db", db.url(), "--round", "1"], dir.path());
    assert!(ok && out.contains("0 queued, 0 leased, 3 done, 0 failed"), "{out}");
    // one.test's two sites, one after the other, while two.test was crawled beside them.
    let span = |times: Vec<std::time::Instant>| (*times.iter().min().unwrap(), *times.iter().max().unwrap());
    let one_p =
        span(county_log.entries().into_iter().filter(|l| l.host.starts_with("one.test")).map(|l| l.at).collect());
    let two_p =
        span(county_log.entries().into_iter().filter(|l| l.host.starts_with("two.test")).map(|l| l.at).collect());
    let one_r = span(zombie_log.entries().into_iter().map(|l| l.at).collect());
    assert!(one_p.1 < one_r.0 || one_r.1 < one_p.0, "one.test was crawled by two workers at once");
    assert!(one_p.0 < two_p.1 && two_p.0 < one_p.1, "different hosts are crawled at once");
    // ext.test heard from both workers, at most 5 requests a second in all.
    let mut at: Vec<std::time::Instant> = ext_log.entries().into_iter().map(|l| l.at).collect();
    at.sort();
    assert!(at.len() >= 6, "{} requests to ext.test", at.len());
    for pair in at.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(gap >= Duration::from_millis(150), "two requests to ext.test {gap:?} apart: {:?}", ext_log.all());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_goes_on_through_a_database_restart() {
    let server = sitecensus_fixtures::postgres::PrivateServer::start();
    let db = server.url();
    let (ext, _) = serve_site_with("external", &[]).await;
    let e = ext.url("");
    let (county, _) = serve_site_with("county-table", &[("external", e.as_str())]).await;
    let (letters, _) = serve_site_with("interaction", &[]).await;
    let urls = [county.url("/"), letters.url("/")];
    let dir = tempfile::tempdir().unwrap();
    let mut start = vec!["census", "start", "--db", db.as_str()];
    start.extend(urls.iter().map(String::as_str));
    start.extend_from_slice(CENSUS_PACE);
    let (ok, _, err) = run(&start, dir.path());
    assert!(ok, "{err}");
    let worker = bin()
        .args(["worker", "--db", db.as_str(), "--lease", "30"])
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1200)).await;
    server.down();
    tokio::time::sleep(Duration::from_secs(3)).await;
    server.up();
    let out = tokio::task::spawn_blocking(move || worker.wait_with_output().unwrap()).await.unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stderr.contains("connect"), "the restart was noticed: {stderr}");
    assert!(stdout.contains("2 sites done") && stdout.contains("the round is scored"), "{stdout}\n{stderr}");
    let store = sitecensus_store::Store::open_postgres(&db).unwrap();
    let county_id = store.sites(1).unwrap()[0].id;
    assert_eq!(store.page_count(county_id).unwrap(), 53, "no page lost");
    let (ok, round, err) = run(&["report", "--db", db.as_str(), "--json", "-"], dir.path());
    assert!(ok, "{err}");
    let v: Value = serde_json::from_str(&round).unwrap();
    assert_eq!(v["sites"][0]["stats"]["pages_fetched"], 53);
    assert_eq!(v["sites"][1]["vetoes"], serde_json::json!(["interaction.unanswered"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn archives_go_to_object_storage_and_what_cannot_go_is_reported() {
    let mut s3 = sitecensus_fixtures::S3Server::start();
    let endpoint = s3.endpoint();
    let archive = sitecensus_fetch::Archive::new(
        "s3://warcs/round-1",
        Some(&endpoint),
        "us-east-1",
        ("test".into(), "test".into(), None),
    )
    .unwrap();
    archive.create_bucket().await.unwrap();
    let (site, _) = serve_site_with("county-table", &[("external", "http://127.0.0.1:9/")]).await;
    let url = site.url("/");
    let dir = tempfile::tempdir().unwrap();
    let scan = |db: &str, slow: bool| {
        let rps = if slow { "20" } else { "0" };
        let args = [
            "scan",
            url.as_str(),
            "--db",
            db,
            "--archive",
            "s3://warcs/round-1",
            "--no-render",
            "--no-https-check",
            "--as-of",
            "2024-07-10",
            "--per-host-rps",
            rps,
        ];
        let mut c = bin();
        c.args(args)
            .current_dir(dir.path())
            .env("AWS_ENDPOINT_URL", &endpoint)
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("TMPDIR", dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        c
    };
    let out = scan("a.db", false).output().unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{stderr}");
    let put = stdout.lines().find(|l| l.starts_with("archived 1 file(s): ")).unwrap_or_else(|| panic!("{stdout}"));
    let location = put.trim_start_matches("archived 1 file(s): ");
    let name = location.trim_start_matches("s3://warcs/round-1/");
    assert!(name.starts_with("sitecensus-") && name.ends_with(".warc.gz"), "{location}");
    let bytes = archive.get(name).await.unwrap();
    assert_eq!(&bytes[..2], b"\x1f\x8b", "the WARC file as written (gzip members)");
    assert!(bytes.len() > 10_000, "every response of the site is in it: {} bytes", bytes.len());
    let spooled = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(Result::ok)
        .any(|e| e.file_name().to_string_lossy().starts_with("sitecensus-spool-"));
    assert!(!spooled, "the spool folder goes once its files are put");
    // The storage dies in the middle of a run: the run ends, says what it could not archive, and
    // keeps the file.
    let child = scan("b.db", true).spawn().unwrap();
    tokio::time::sleep(Duration::from_millis(800)).await;
    s3.kill();
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap()).await.unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    let line = stderr.lines().find(|l| l.starts_with("could not archive ")).unwrap_or_else(|| panic!("{stderr}"));
    let kept = line.trim_start_matches("could not archive ").split(" (kept there)").next().unwrap();
    assert!(std::path::Path::new(kept).exists(), "{kept} is kept");
    assert!(stderr.matches("archiving failed").count() >= 4, "tried again before giving up: {stderr}");
}

/// One HTTP/1.1 request over a new connection, its whole answer as text.
fn http(addr: &str, request: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

#[test]
fn demo_serve_opens_the_web_app_with_a_demo_login() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("sitecensus"))
        .args(["demo", "--serve", "--listen", "127.0.0.1:0"])
        .current_dir(dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let line =
        lines.by_ref().map_while(Result::ok).find(|l| l.contains("the web app: http://")).expect("the app's address");
    let addr = line.split("http://").nth(1).unwrap().split('/').next().unwrap().to_owned();
    let password = line.split("password ").nth(1).unwrap().split(' ').next().unwrap().to_owned();
    let form = http(&addr, &format!("GET /login HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"));
    let at = form.find("name=\"csrf\" value=\"").unwrap() + 19;
    let csrf = &form[at..at + 64];
    let body = format!("name=demo&password={password}&csrf={csrf}");
    let answer = http(
        &addr,
        &format!(
            "POST /login HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nCookie: sc_login={csrf}\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ),
    );
    let token = answer.split("sc_session=").nth(1).expect("logged in").split(';').next().unwrap().to_owned();
    let home = http(
        &addr,
        &format!("GET / HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nCookie: sc_session={token}\r\n\r\n"),
    );
    child.kill().unwrap();
    let _ = child.wait();
    assert!(home.contains("12 个网站 ·"), "the demo census in the app: {home}");
    assert!(home.contains("首页不更新"), "its vetoes by item");
}

/// A monitor killed with SIGKILL and started again keeps every probe it took and sends nothing
/// it already sent: its schedule, history and outbox are in the store.
#[tokio::test(flavor = "multi_thread")]
async fn a_killed_monitor_loses_no_history_and_resends_nothing() {
    let posts = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let seen = posts.clone();
    let hooks = sitecensus_fixtures::serve(axum::Router::new().fallback(move |body: String| {
        let seen = seen.clone();
        async move {
            seen.lock().unwrap().push(body);
            "ok"
        }
    }))
    .await;
    let dir = tempfile::tempdir().unwrap();
    // A homepage nobody answers: every probe fails; no scan falls due within the test.
    let dead = "http://127.0.0.1:9/";
    std::fs::write(
        dir.path().join("monitor.toml"),
        format!(
            "[defaults]\nprobe_every = \"1s\"\nscan_every = \"30d\"\ndown_after = 2\n[[channel]]\nname = \"office\"\nkind = \"webhook\"\nurl = \"{}\"\n",
            hooks.url("/hook")
        ),
    )
    .unwrap();
    let start = || {
        bin()
            .args(["monitor", "--config", "monitor.toml", "--db", "m.db", "--no-render", dead])
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let probes = || {
        let store = sitecensus_store::Store::open(&dir.path().join("m.db")).unwrap();
        store.probes(dead, "2000-01-01T00:00:00+08:00", "2100-01-01T00:00:00+08:00").unwrap()
    };
    let mut first = start();
    for _ in 0..100 {
        if !posts.lock().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(posts.lock().unwrap().len(), 1, "the site is down: one alert");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // SIGKILL: no chance to clean up.
    first.kill().unwrap();
    first.wait().unwrap();
    let before = probes();
    assert!(before.len() >= 3, "{before:?}");
    let mut second = start();
    tokio::time::sleep(Duration::from_millis(3500)).await;
    second.kill().unwrap();
    let out = second.wait_with_output().unwrap();
    let after = probes();
    assert!(after.len() > before.len(), "the second monitor probes on: {} then {}", before.len(), after.len());
    assert_eq!(&after[..before.len()], &before[..], "every probe of the first is kept");
    assert_eq!(
        posts.lock().unwrap().len(),
        1,
        "the alert still open is not sent again: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let body: Value = serde_json::from_str(&posts.lock().unwrap()[0]).unwrap();
    assert_eq!(body["events"][0]["check"], "availability.unreachable");
    // Its homepage never answered: no page stands in its place to take for it.
    let out = bin()
        .args(["monitor", "--config", "monitor.toml", "--db", "m.db", "--no-render", "--accept", dead, dead])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("nothing to accept"), "{err}");
}
