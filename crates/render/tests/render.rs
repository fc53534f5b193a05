//! The renderer against real servers on loopback and Debian's Chromium (installed by `.ci/run`).

use std::path::PathBuf;

use sitecensus_fetch::guard::Guard;
use sitecensus_render::{RenderConfig, RenderError, Renderer, find_browser};
use url::Url;

fn renderer(allowed: &str) -> Renderer {
    let guard = Guard::new(false);
    guard.allow_host(allowed);
    assert!(find_browser().is_some(), "Chromium is not installed: .ci/run installs Debian's chromium package");
    Renderer::new(RenderConfig::new(guard, "sitecensus-test"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_list_fetched_after_load_is_drawn_and_private_addresses_are_refused() {
    // The inspector's own network, on another loopback address than the site's.
    let (secret, secret_log) = sitecensus_fixtures::serve_private("hub").await;
    let secret_url = format!("http://{}", secret.addr());
    let (site, log) = sitecensus_fixtures::serve_site_with("json-lists", &[("secret", &secret_url)]).await;
    let r = renderer("127.0.0.1");

    let drawn = r.render(&Url::parse(&site.url("/xwdt/index.html")).unwrap()).await.unwrap();
    assert!(drawn.html.contains("t20240709_401.html"), "the list drawn from /api/xwdt.json: {}", drawn.html);
    assert!(log.gets("/api/xwdt.json") >= 1);

    let guarded = r.render(&Url::parse(&site.url("/zwgk/index.html")).unwrap()).await.unwrap();
    assert!(guarded.html.contains("t20240630_431.html"), "the page is drawn all the same");
    assert!(secret_log.all().is_empty(), "the browser reached the private address: {:?}", secret_log.all());
    assert!(guarded.blocked.iter().any(|b| b.contains("127.0.0.2")), "{:?}", guarded.blocked);

    // A page may not send the browser there either.
    let refused = r.render(&Url::parse(&format!("{secret_url}/index.html")).unwrap()).await;
    assert!(matches!(refused, Err(RenderError::Blocked(_))), "{refused:?}");

    let png = r.screenshot(&Url::parse(&site.url("/")).unwrap()).await.unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 1000, "{} bytes", png.len());
    assert_eq!(r.counts().0, 2);
    r.shutdown().await;
}

/// The site's robots.txt binds what the browser asks of it: the data a list's script asks for
/// under a Disallowed path is not fetched, and the refusal is said.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drawn_pages_requests_obey_robots() {
    let (site, log) = sitecensus_fixtures::serve_site_with("json-lists", &[("secret", "http://127.0.0.2:9")]).await;
    let r = renderer("127.0.0.1");
    let robots: sitecensus_render::RobotsGate = std::sync::Arc::new(|u: &Url| !u.path().starts_with("/api/"));
    let drawn = r.render_obeying(&Url::parse(&site.url("/xwdt/index.html")).unwrap(), Some(robots)).await.unwrap();
    assert_eq!(log.gets("/api/xwdt.json"), 0, "the browser asked for a Disallowed path");
    assert!(!drawn.html.contains("t20240709_401.html"), "the list came from a Disallowed path");
    assert!(
        drawn.blocked.iter().any(|b| b.contains("/api/xwdt.json") && b.contains("robots.txt")),
        "{:?}",
        drawn.blocked
    );
    assert!(log.gets("/js/list.js") >= 1, "what robots.txt allows is fetched");
    r.shutdown().await;
}

#[tokio::test]
async fn without_a_browser_every_render_says_why_and_the_renderer_says_so_once() {
    let mut cfg = RenderConfig::new(Guard::new(true), "sitecensus-test");
    cfg.executable = Some(PathBuf::from("/nonexistent/chromium"));
    let r = Renderer::new(cfg);
    for _ in 0..2 {
        let e = r.render(&Url::parse("http://127.0.0.1:9/").unwrap()).await.unwrap_err();
        assert!(matches!(&e, RenderError::Unavailable(why) if why.contains("/nonexistent/chromium")), "{e}");
    }
    assert!(r.announce_unavailable().is_some());
    assert!(r.announce_unavailable().is_none(), "said once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_given_with_resolve_reach_the_browser() {
    let site = sitecensus_fixtures::serve_site("columns").await;
    let guard = Guard::new(false);
    guard.allow_host("www.named.gov.cn");
    let mut cfg = RenderConfig::new(guard, "sitecensus-test");
    cfg.resolve = vec![("www.named.gov.cn".into(), site.port(), "127.0.0.1".parse().unwrap())];
    let r = Renderer::new(cfg);
    let drawn = r.render(&Url::parse(&format!("http://www.named.gov.cn:{}/", site.port())).unwrap()).await;
    assert!(drawn.as_ref().is_ok_and(|d| d.html.contains("长宁县")), "{drawn:?}");
    r.shutdown().await;
}

/// Behind a proxy that asks for credentials (407), the browser gives the ones the proxy's address
/// names (Chromium takes none in `--proxy-server`), percent-decoded, and draws the page it
/// reaches through it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_browser_gives_the_proxy_its_credentials() {
    use axum::http::{Request, StatusCode, header};
    use axum::response::IntoResponse;
    let asked: std::sync::Arc<std::sync::Mutex<Vec<(String, bool)>>> = std::sync::Arc::default();
    let seen = asked.clone();
    let proxy = sitecensus_fixtures::serve(axum::Router::new().fallback(move |req: Request<axum::body::Body>| {
        let seen = seen.clone();
        async move {
            // "office:s3 cret", as the address names it percent-encoded.
            let ok = req.headers().get(header::PROXY_AUTHORIZATION).is_some_and(|v| v == "Basic b2ZmaWNlOnMzIGNyZXQ=");
            let host = req.uri().host().unwrap_or_default().to_owned();
            seen.lock().unwrap().push((host, ok));
            if !ok {
                return (StatusCode::PROXY_AUTHENTICATION_REQUIRED, [(header::PROXY_AUTHENTICATE, "Basic realm=\"office\"")], "")
                    .into_response();
            }
            let html = "<html><head><meta charset=utf-8><title>经代理</title></head><body><ul id=list></ul>\
                <script>document.getElementById('list').innerHTML='<li>drawn through the proxy</li>'</script></body></html>";
            ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response()
        }
    }))
    .await;
    assert!(find_browser().is_some(), "Chromium is not installed: .ci/run installs Debian's chromium package");
    let mut cfg = RenderConfig::new(Guard::new(false), "sitecensus-test");
    cfg.proxy = Some(format!("http://office:s3%20cret@127.0.0.1:{}", proxy.port()));
    let r = Renderer::new(cfg);
    let drawn = r.render(&Url::parse("http://www.proxied-render.gov.cn/").unwrap()).await.unwrap();
    assert!(drawn.html.contains("drawn through the proxy"), "{}", drawn.html);
    let asked = asked.lock().unwrap().clone();
    assert!(asked.iter().any(|(h, ok)| h == "www.proxied-render.gov.cn" && *ok), "{asked:?}");
    r.shutdown().await;
}
