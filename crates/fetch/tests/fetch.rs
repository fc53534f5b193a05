//! The fetcher against a real HTTP server on loopback serving the hostile fixture site.

use std::time::Duration;

use sitecensus_core::Outcome;
use sitecensus_fetch::{FetchConfig, Fetcher, Politeness, WarcWriter};
use sitecensus_fixtures::serve_site;
use url::Url;

fn config() -> FetchConfig {
    FetchConfig {
        politeness: Politeness { per_host_rps: 0.0, per_host_connections: 8, concurrency: 16 },
        timeout: Duration::from_secs(2),
        retries: 1,
        backoff: Duration::from_millis(50),
        ..FetchConfig::default()
    }
}

fn fetcher(cfg: FetchConfig, host: &str) -> Fetcher {
    let f = Fetcher::new(cfg, None).unwrap();
    f.guard().allow_host(host);
    f
}

#[tokio::test(flavor = "multi_thread")]
async fn redirect_loops_and_chains_are_detected() {
    let s = serve_site("hostile").await;
    let f = fetcher(config(), "127.0.0.1");
    let r = f.get(&Url::parse(&s.url("/_t/loop/a")).unwrap()).await;
    match &r.outcome {
        Outcome::RedirectLoop { chain } => assert_eq!(chain.len(), 3, "{chain:?}"),
        o => panic!("expected a loop, got {o:?}"),
    }
    let r = f.get(&Url::parse(&s.url("/_t/redirect/15")).unwrap()).await;
    assert_eq!(r.outcome, Outcome::TooManyRedirects { limit: 10 });
    let r = f.get(&Url::parse(&s.url("/_t/redirect/3")).unwrap()).await;
    assert_eq!(r.outcome, Outcome::Ok { status: 200 });
    assert_eq!(r.redirects.len(), 3);
    assert!(r.final_url.path().ends_with("/_t/redirect/0"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_gzip_bomb_stops_at_the_cap() {
    let s = serve_site("hostile").await;
    let cfg = FetchConfig { max_body: 2 * 1024 * 1024, ..config() };
    let f = fetcher(cfg, "127.0.0.1");
    let r = f.get(&Url::parse(&s.url("/_t/bomb")).unwrap()).await;
    assert_eq!(r.outcome, Outcome::Ok { status: 200 });
    assert!(r.truncated);
    assert_eq!(r.body.len(), 2 * 1024 * 1024);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_20_mb_page_is_cut_at_10_mb() {
    let s = serve_site("hostile").await;
    let f = fetcher(FetchConfig { timeout: Duration::from_secs(20), ..config() }, "127.0.0.1");
    let r = f.get(&Url::parse(&s.url("/_t/big")).unwrap()).await;
    assert_eq!(r.outcome, Outcome::Ok { status: 200 });
    assert!(r.truncated);
    assert_eq!(r.body.len(), 10 * 1024 * 1024);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hanging_server_times_out_after_retries() {
    let s = serve_site("hostile").await;
    let f = fetcher(FetchConfig { timeout: Duration::from_millis(500), ..config() }, "127.0.0.1");
    for path in ["/_t/hang", "/_t/hang-body"] {
        let r = f.get(&Url::parse(&s.url(path)).unwrap()).await;
        assert!(matches!(r.outcome, Outcome::Timeout { .. } | Outcome::Body { .. }), "{path}: {:?}", r.outcome);
        assert_eq!(r.attempts.len(), 2, "{path}: one try and one retry");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn transient_failures_are_retried() {
    let s = serve_site("hostile").await;
    let f = fetcher(config(), "127.0.0.1");
    let r = f.get(&Url::parse(&s.url("/_t/flaky/retry-test")).unwrap()).await;
    assert_eq!(r.outcome, Outcome::Ok { status: 200 });
    assert_eq!(r.attempts.len(), 2);
    assert_eq!(r.attempts[0].outcome, Outcome::HttpError { status: 503 });
}

#[tokio::test(flavor = "multi_thread")]
async fn head_refused_falls_back_to_get() {
    let s = serve_site("hostile").await;
    let f = fetcher(config(), "127.0.0.1");
    let r = f.check(&Url::parse(&s.url("/_t/no-head")).unwrap()).await;
    assert_eq!(r.outcome, Outcome::Ok { status: 200 });
    let r = f.check(&Url::parse(&s.url("/_t/status/404")).unwrap()).await;
    assert_eq!(r.outcome, Outcome::HttpError { status: 404 });
}

#[tokio::test(flavor = "multi_thread")]
async fn internal_addresses_are_refused_unless_allowed() {
    let s = serve_site("hostile").await;
    // Nothing allowed: the literal 127.0.0.1 is refused.
    let f = Fetcher::new(config(), None).unwrap();
    let r = f.get(&Url::parse(&s.url("/ok.html")).unwrap()).await;
    assert!(matches!(&r.outcome, Outcome::Blocked { reason } if reason.contains("loopback")), "{:?}", r.outcome);
    // "localhost" resolves to loopback and is refused by the resolver even with 127.0.0.1 allowed.
    f.guard().allow_host("127.0.0.1");
    let r = f.get(&Url::parse(&format!("http://localhost:{}/ok.html", s.port())).unwrap()).await;
    assert!(matches!(&r.outcome, Outcome::Blocked { .. }), "{:?}", r.outcome);
    let r = f.get(&Url::parse(&s.url("/ok.html")).unwrap()).await;
    assert_eq!(r.outcome, Outcome::Ok { status: 200 });
    // --allow-private lifts the guard.
    let f = Fetcher::new(FetchConfig { allow_private: true, ..config() }, None).unwrap();
    let r = f.get(&Url::parse(&format!("http://localhost:{}/ok.html", s.port())).unwrap()).await;
    assert_eq!(r.outcome, Outcome::Ok { status: 200 });
}

#[tokio::test(flavor = "multi_thread")]
async fn resolve_overrides_work_like_curl() {
    let s = serve_site("hostile").await;
    let cfg = FetchConfig {
        resolve: vec![("www.example.gov.cn".into(), s.port(), "127.0.0.1".parse().unwrap())],
        ..config()
    };
    let f = Fetcher::new(cfg, None).unwrap();
    let r = f.get(&Url::parse(&format!("http://www.example.gov.cn:{}/ok.html", s.port())).unwrap()).await;
    assert_eq!(r.outcome, Outcome::Ok { status: 200 }, "{:?}", r.outcome);
    assert!(String::from_utf8_lossy(&r.body).contains("一切正常"));
}

#[tokio::test(flavor = "multi_thread")]
async fn resolve_maps_only_the_port_it_names() {
    let (named, other) = (serve_site("hostile").await, serve_site("hostile").await);
    let cfg = FetchConfig {
        resolve: vec![("www.site.invalid".into(), named.port(), "127.0.0.1".parse().unwrap())],
        ..config()
    };
    let f = Fetcher::new(cfg, None).unwrap();
    let r = f.get(&Url::parse(&format!("http://www.site.invalid:{}/ok.html", named.port())).unwrap()).await;
    assert_eq!(r.outcome, Outcome::Ok { status: 200 }, "{:?}", r.outcome);
    // Another port of the same host is looked up as usual (and ".invalid" never resolves), as
    // curl does; reqwest alone would send it to the mapped address.
    let r = f.get(&Url::parse(&format!("http://www.site.invalid:{}/ok.html", other.port())).unwrap()).await;
    assert!(matches!(r.outcome, Outcome::Dns { .. }), "{:?}", r.outcome);
}

#[tokio::test(flavor = "multi_thread")]
async fn tls_errors_and_refused_connections_are_outcomes() {
    let s = serve_site("hostile").await;
    let f = fetcher(config(), "127.0.0.1");
    // HTTPS to a plain HTTP port: the handshake fails.
    let r = f.get(&Url::parse(&format!("https://127.0.0.1:{}/ok.html", s.port())).unwrap()).await;
    assert!(matches!(r.outcome, Outcome::Tls { .. } | Outcome::Connect { .. }), "{:?}", r.outcome);
    assert!(r.outcome.is_broken());
    // A port nobody listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let r = f.get(&Url::parse(&format!("http://127.0.0.1:{closed}/")).unwrap()).await;
    assert!(matches!(r.outcome, Outcome::Connect { .. }), "{:?}", r.outcome);
    // A name that does not resolve.
    let r = f.get(&Url::parse("http://no-such-host.invalid/").unwrap()).await;
    assert!(matches!(r.outcome, Outcome::Dns { .. } | Outcome::Connect { .. }), "{:?}", r.outcome);
}

#[tokio::test(flavor = "multi_thread")]
async fn responses_are_archived_as_warc_that_a_reader_accepts() {
    let s = serve_site("hostile").await;
    let dir = tempfile::tempdir().unwrap();
    let (writer, handle) = WarcWriter::start(dir.path(), "test", vec![("sitecensus-run".into(), "7".into())]).unwrap();
    let f = Fetcher::new(config(), Some(handle)).unwrap();
    f.guard().allow_host("127.0.0.1");
    for p in ["/", "/ok.html", "/_t/status/404"] {
        f.get(&Url::parse(&s.url(p)).unwrap()).await;
    }
    drop(f);
    let files = writer.finish().unwrap();
    assert_eq!(files.len(), 1);
    assert!(files[0].file_name().unwrap().to_string_lossy().starts_with("test-"), "{files:?}");
    let reader = warc::WarcReader::from_path_gzip(&files[0]).unwrap();
    let mut types = Vec::new();
    let sha1 = |b: &[u8]| {
        use sha1::Digest;
        format!("sha1:{}", data_encoding::BASE32.encode(&sha1::Sha1::digest(b)))
    };
    let mut info_id = String::new();
    for rec in reader.iter_records() {
        let rec = rec.unwrap();
        types.push(rec.header(warc::WarcHeader::WarcType).unwrap().to_string());
        // Every record can be verified: its block digest is the SHA-1 of what it holds, and a
        // response's payload digest that of the body after the HTTP head.
        assert_eq!(rec.header(warc::WarcHeader::BlockDigest).unwrap(), sha1(rec.body()), "{types:?}");
        if types.last().unwrap() == "warcinfo" {
            info_id = rec.header(warc::WarcHeader::RecordID).unwrap().to_string();
            assert!(String::from_utf8_lossy(rec.body()).contains("sitecensus-run: 7\r\n"));
        } else {
            assert_eq!(rec.header(warc::WarcHeader::WarcInfoID).unwrap(), info_id.as_str());
        }
        if types.last().unwrap() == "response" {
            let body = rec.body();
            let at = body.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
            assert_eq!(rec.header(warc::WarcHeader::PayloadDigest).unwrap(), sha1(&body[at..]));
            // What came on the wire is said: the stored body is decoded.
            let head = String::from_utf8_lossy(&body[..at]).to_ascii_lowercase();
            assert!(head.contains("x-archive-orig-content-length:"), "{head}");
        }
        if types.last().unwrap() == "response" && rec.header(warc::WarcHeader::TargetURI).unwrap().ends_with("/ok.html")
        {
            let body = String::from_utf8_lossy(rec.body()).to_string();
            assert!(body.starts_with("HTTP/1.1 200"), "{body}");
            assert!(body.contains("一切正常"));
        }
    }
    assert_eq!(types, ["warcinfo", "response", "request", "response", "request", "response", "request"]);
}

/// Chinese servers send a redirect's Location as raw UTF-8 or GBK bytes: followed as curl -L
/// follows them, the bytes percent-encoded as they came.
#[tokio::test(flavor = "multi_thread")]
async fn redirects_with_raw_non_ascii_locations_are_followed() {
    let s = serve_site("hostile").await;
    let f = fetcher(config(), "127.0.0.1");
    for (path, landing) in [
        ("/_t/raw-location-utf8", "/_t/landing/%E4%B8%AD%E6%96%87%E9%A1%B5%E9%9D%A2"),
        ("/_t/raw-location-gbk", "/_t/landing/%D6%D0%CE%C4"),
    ] {
        let r = f.get(&Url::parse(&s.url(path)).unwrap()).await;
        assert_eq!(r.outcome, Outcome::Ok { status: 200 }, "{path}");
        assert_eq!(r.final_url.path(), landing, "{path}");
    }
}

#[test]
fn resolve_takes_internationalised_host_names_in_their_ascii_form() {
    let (host, port, addr) = sitecensus_fetch::parse_resolve("政府.政务:80:127.0.0.1").unwrap();
    assert_eq!(host, Url::parse("http://政府.政务/").unwrap().host_str().unwrap());
    assert!(host.starts_with("xn--"), "{host}");
    assert_eq!((port, addr.to_string().as_str()), (80, "127.0.0.1"));
    assert_eq!(sitecensus_fetch::parse_resolve("WWW.A.GOV.CN:443:10.0.0.1").unwrap().0, "www.a.gov.cn");
}

/// A robots.txt past 512 KB is read to its last whole line before the cap, and says so: a rule
/// cut in the middle ("Disallow: /pri") would keep out far more than the site asked.
#[tokio::test(flavor = "multi_thread")]
async fn a_robots_txt_past_the_cap_is_read_to_its_last_whole_line() {
    const CAP: usize = 512 * 1024;
    let mut body = String::from("User-agent: *\nDisallow: /early/\n");
    // The straddling rule starts 14 bytes before the cap, so the cap falls after "Disallow: /pri".
    let start = CAP - "Disallow: /pri".len();
    while body.len() + 101 <= start {
        body.push('#');
        body.push_str(&"x".repeat(99));
        body.push('\n');
    }
    if (start - body.len()) % 2 == 1 {
        body.push_str("#x\n");
    }
    while body.len() < start {
        body.push_str("#\n");
    }
    assert_eq!(body.len(), start);
    body.push_str("Disallow: /pricing-secret/\n");
    let router = axum::Router::new().route("/robots.txt", axum::routing::get(move || async move { body }));
    let s = sitecensus_fixtures::serve(router).await;
    let f = fetcher(config(), "127.0.0.1");
    let origin = Url::parse(&s.url("/")).unwrap();
    let robots = sitecensus_fetch::Robots::fetch(&f, &origin).await;
    assert!(robots.status.contains("larger than 512 KB"), "{}", robots.status);
    assert_eq!(robots.rules, vec!["Disallow: /early/".to_owned()]);
    assert!(!robots.allowed(&origin.join("/early/a.html").unwrap()));
    assert!(robots.allowed(&origin.join("/pricing.html").unwrap()), "a rule cut in half is not applied");
}

/// What a fetch took is the server's time: a request that waited for its host's turn (one a
/// second here), or for a connection two fetchers share through one set of limits, is not slow.
#[tokio::test(flavor = "multi_thread")]
async fn waiting_for_the_host_is_not_counted_as_the_servers_time() {
    let s = serve_site("hostile").await;
    let cfg = FetchConfig {
        politeness: Politeness { per_host_rps: 1.0, per_host_connections: 1, concurrency: 4 },
        ..config()
    };
    let limits = std::sync::Arc::new(sitecensus_fetch::politeness::Limits::new(cfg.politeness));
    let (a, b) = (
        Fetcher::with_limits(cfg.clone(), None, limits.clone()).unwrap(),
        Fetcher::with_limits(cfg, None, limits).unwrap(),
    );
    a.guard().allow_host("127.0.0.1");
    b.guard().allow_host("127.0.0.1");
    let url = Url::parse(&s.url("/")).unwrap();
    let started = std::time::Instant::now();
    let (x, y) = tokio::join!(a.get(&url), b.get(&url));
    assert!(started.elapsed() >= Duration::from_millis(900), "the two fetchers kept one pace: {:?}", started.elapsed());
    assert_eq!((x.outcome, y.outcome), (Outcome::Ok { status: 200 }, Outcome::Ok { status: 200 }));
    assert!(
        x.elapsed_ms < 500 && y.elapsed_ms < 500,
        "the wait is not the server's time: {} and {} ms",
        x.elapsed_ms,
        y.elapsed_ms
    );
}
