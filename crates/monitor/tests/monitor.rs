//! The monitor against real servers on loopback: a fixture site that goes down and comes back,
//! a column that nears its window as the as-of advances, gambling links injected into its homepage
//! between two passes; a webhook receiver and an SMTP sink, both started here, say exactly which messages
//! arrive on each channel.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use hmac::Mac;
use sitecensus_core::{AsOf, Rubric, SiteSpec};
use sitecensus_monitor::{Monitor, MonitorConfig};
use sitecensus_store::Store;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// What the fixture site does: answer or not, whether an article carries injected links, and
/// what stands at its homepage.
#[derive(Default)]
struct SiteState {
    down: bool,
    hacked: bool,
    /// Gambling links in an article (`/news/1.html`) rather than the homepage.
    hacked_article: bool,
    homepage: Homepage,
    /// Conditional requests answered 304.
    not_modified: usize,
}

/// What the fixture site's homepage shows.
#[derive(Default, Clone, Copy, PartialEq)]
enum Homepage {
    /// Its own.
    #[default]
    Own,
    /// Its own, a day later: its news items replaced by newer ones.
    Updated,
    /// A defacer's page.
    Defaced,
    /// A new design: other addresses, other texts.
    Redesigned,
}

const DEFACED: &str = "<html><head><title>Hacked by Sh3ll_Team</title></head><body bgcolor=black><center>\
    <h1>Hacked By Sh3ll_Team</h1><p>Your security is low</p><a href=\"https://t.me/sh3ll\">contact</a></center></body></html>";

const REDESIGNED: &str = "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>青云谱区人民政府门户网站</title></head><body>\
    <nav><a href=\"/v2/\">网站首页</a> <a href=\"/v2/zwgk/\">政务公开</a> <a href=\"/v2/zwfw/\">政务服务</a> <a href=\"/v2/hdjl/\">互动交流</a></nav>\
    <ul><li><a href=\"/v2/zwgk/a1.html\">青云谱区政府常务会议召开</a> 2024-07-12</li><li><a href=\"/v2/zwgk/a2.html\">全区防汛工作部署会召开</a> 2024-07-11</li>\
    <li><a href=\"/v2/zwgk/a3.html\">区领导督导夏季安全生产</a> 2024-07-10</li></ul>\
    <footer>主办：青云谱区人民政府办公室</footer></body></html>";

const SPAM: &str = r#"<div style="position:absolute;left:-9999px;top:-9999px"><a href="http://www.pgdz-casino.com/">PG电子官网</a> <a href="http://www.xpj-yule.net/">澳门新葡京娱乐</a></div>"#;

/// The `monitor` fixture site behind a switch: down (503 for everything), or hacked (gambling
/// links in its homepage); every page with an ETag, and 304 to a request that names it.
async fn site(state: Arc<Mutex<SiteState>>) -> sitecensus_fixtures::Server {
    async fn switch(
        axum::extract::State(state): axum::extract::State<Arc<Mutex<SiteState>>>,
        req: Request<Body>,
        next: axum::middleware::Next,
    ) -> Response {
        let (down, hacked, hacked_article, homepage) = {
            let s = state.lock().unwrap();
            (s.down, s.hacked, s.hacked_article, s.homepage)
        };
        if down {
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
        let path = req.uri().path().to_owned();
        let asked = req.headers().get("if-none-match").cloned();
        let r = next.run(req).await;
        let (mut parts, body) = r.into_parts();
        let mut html = String::from_utf8_lossy(&axum::body::to_bytes(body, 1 << 20).await.unwrap()).into_owned();
        if (hacked && path == "/") || (hacked_article && path == "/news/1.html") {
            html = html.replace("</body>", &format!("{SPAM}</body>"));
        }
        if path == "/" {
            match homepage {
                Homepage::Own => {}
                Homepage::Updated => {
                    html = html
                        .replace(
                            "/news/1.html\">青云谱区召开老旧小区改造工作推进会",
                            "/news/4.html\">青云谱区举行防汛应急演练",
                        )
                        .replace(
                            "/news/2.html\">青云谱区开展安全生产大检查",
                            "/news/5.html\">青云谱区召开招商引资推进会",
                        );
                }
                Homepage::Defaced => html = DEFACED.to_owned(),
                Homepage::Redesigned => html = REDESIGNED.to_owned(),
            }
        }
        let tag = format!("\"{:x}\"", html.bytes().fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b))));
        if asked.is_some_and(|a| a == tag.as_str()) {
            state.lock().unwrap().not_modified += 1;
            return StatusCode::NOT_MODIFIED.into_response();
        }
        parts.headers.remove(axum::http::header::CONTENT_LENGTH);
        parts.headers.insert(axum::http::header::ETAG, tag.parse().unwrap());
        Response::from_parts(parts, Body::from(html))
    }
    let inner = sitecensus_fixtures::site_router("monitor").expect("the monitor fixture site");
    sitecensus_fixtures::serve(inner.layer(axum::middleware::from_fn_with_state(state, switch))).await
}

/// A webhook receiver: every POST, by path, as (headers, body).
type Posts = Arc<Mutex<Vec<(String, axum::http::HeaderMap, String)>>>;

async fn receiver() -> (sitecensus_fixtures::Server, Posts) {
    let posts: Posts = Arc::default();
    let seen = posts.clone();
    let router = Router::new().fallback(move |req: Request<Body>| {
        let seen = seen.clone();
        async move {
            let path = req.uri().path().to_owned();
            let headers = req.headers().clone();
            let body = axum::body::to_bytes(req.into_body(), 1 << 20).await.unwrap();
            seen.lock().unwrap().push((path, headers, String::from_utf8_lossy(&body).into_owned()));
            "ok"
        }
    });
    (sitecensus_fixtures::serve(router).await, posts)
}

/// An SMTP sink: it speaks just enough of the protocol to take mail, and keeps each message.
async fn smtp_sink() -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let mails: Arc<Mutex<Vec<String>>> = Arc::default();
    let kept = mails.clone();
    tokio::spawn(async move {
        loop {
            let (socket, _) = listener.accept().await.unwrap();
            let kept = kept.clone();
            tokio::spawn(async move {
                let (r, mut w) = socket.into_split();
                let mut lines = BufReader::new(r).lines();
                w.write_all(b"220 sink ESMTP\r\n").await.unwrap();
                while let Ok(Some(line)) = lines.next_line().await {
                    let verb = line.split(' ').next().unwrap_or("").to_ascii_uppercase();
                    let answer: &[u8] = match verb.as_str() {
                        "EHLO" | "HELO" => b"250 sink\r\n",
                        "DATA" => {
                            w.write_all(b"354 go on\r\n").await.unwrap();
                            let mut mail = String::new();
                            while let Ok(Some(l)) = lines.next_line().await {
                                if l == "." {
                                    break;
                                }
                                mail.push_str(&l);
                                mail.push('\n');
                            }
                            kept.lock().unwrap().push(mail);
                            b"250 queued\r\n"
                        }
                        "QUIT" => {
                            let _ = w.write_all(b"221 bye\r\n").await;
                            return;
                        }
                        _ => b"250 ok\r\n",
                    };
                    w.write_all(answer).await.unwrap();
                }
            });
        }
    });
    (port, mails)
}

/// The events a channel's messages carried, as (event, check), in order.
fn events(posts: &Posts, path: &str) -> Vec<(String, String)> {
    posts
        .lock()
        .unwrap()
        .iter()
        .filter(|(p, ..)| p == path)
        .flat_map(|(_, _, body)| {
            let v: serde_json::Value = serde_json::from_str(body).unwrap();
            v["events"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| (e["event"].as_str().unwrap().to_owned(), e["check"].as_str().unwrap().to_owned()))
                .collect::<Vec<_>>()
        })
        .collect()
}

fn pair(event: &str, check: &str) -> (String, String) {
    (event.to_owned(), check.to_owned())
}

async fn watch(store: Arc<Store>, backend: &str) {
    let state = Arc::new(Mutex::new(SiteState::default()));
    let site = site(state.clone()).await;
    let (hooks, posts) = receiver().await;
    let (smtp, mails) = smtp_sink().await;
    let config = MonitorConfig::parse(&format!(
        r#"
        app_url = "https://census.example.gov.cn/"
        [defaults]
        probe_every = "1s"
        pages_every = "1s"
        scan_every = "7d"
        down_after = 2
        up_after = 2
        [alerts]
        only = ["security.spam_injection", "freshness.column_stale", "availability.unreachable"]
        [[channel]]
        name = "office"
        kind = "webhook"
        url = "{office}"
        secret = "s3cret"
        regions = ["36"]
        [[channel]]
        name = "team"
        kind = "email"
        smtp = "127.0.0.1:{smtp}"
        security = "none"
        from = "sitecensus@example.gov.cn"
        to = ["web@qyp.gov.cn"]
        sites = ["{site}"]
        [[channel]]
        name = "daily"
        kind = "webhook"
        url = "{daily}"
        digest = "1d"
        [[channel]]
        name = "slow"
        kind = "webhook"
        url = "{slow}"
        max_per_minute = 1
        [[channel]]
        name = "guangdong"
        kind = "webhook"
        url = "{gd}"
        regions = ["44"]
        "#,
        office = hooks.url("/office"),
        daily = hooks.url("/daily"),
        slow = hooks.url("/slow"),
        gd = hooks.url("/gd"),
        site = site.url("/"),
    ))
    .unwrap();
    let mut spec = SiteSpec::from_url(&site.url("/")).unwrap();
    spec.region = Some("360104".into());
    spec.name = Some("青云谱区人民政府".into());
    let monitor = |as_of: &str| {
        let as_of = AsOf::parse(as_of).unwrap();
        let mut o = sitecensus_scan::ScanOptions::new(Rubric::default_rubric(), as_of);
        o.https_check = false;
        o.check_external = false;
        o.render = None;
        o.fetch.politeness =
            sitecensus_fetch::Politeness { per_host_rps: 0.0, per_host_connections: 4, concurrency: 16 };
        Monitor::new(store.clone(), config.clone(), vec![spec.clone()], o, Some(as_of)).unwrap()
    };
    let m = monitor("2024-07-08");
    assert_eq!(m.sync_jobs(true).unwrap(), 3, "{backend}: a probe, a daily pass and a scan");
    let set = |down: bool, hacked: bool| {
        let mut s = state.lock().unwrap();
        (s.down, s.hacked) = (down, hacked);
    };
    let next = || tokio::time::sleep(Duration::from_millis(1100));

    // Up and clean: probed, its homepage noted, scanned; nothing to say (the news column has 6
    // days left).
    let r = m.run_once().await.unwrap();
    assert_eq!((r.probes, r.probes_failed, r.pages, r.scanned, r.raised), (1, 0, 1, 1, 0), "{backend}: {r:?}");
    // Down once: not yet an alert; the daily pass sees no change in a page that does not answer.
    set(true, false);
    next().await;
    let r = m.run_once().await.unwrap();
    assert_eq!((r.probes_failed, r.raised, r.resolved, r.changed, r.scanned), (1, 0, 0, 0, 0), "{backend}: {r:?}");
    // Down twice in a row: the alert.
    next().await;
    let r = m.run_once().await.unwrap();
    assert_eq!((r.raised, r.sent), (1, 4), "{backend}: office, team, the digest's first, slow: {r:?}");
    // Back up once: a flapping site is not yet back; up twice: the recovery. The daily pass asks
    // the homepage and the columns the scan found, the homepage unchanged (304), no scan.
    set(false, false);
    next().await;
    let r = m.run_once().await.unwrap();
    assert_eq!((r.resolved, r.pages, r.changed, r.scanned), (0, 3, 0, 0), "{backend}: debounced: {r:?}");
    next().await;
    let r = m.run_once().await.unwrap();
    assert_eq!((r.resolved, r.changed), (1, 0), "{backend}: {r:?}");
    assert!(state.lock().unwrap().not_modified >= 4, "{backend}: conditional requests answered 304");
    // Three days later the news column nears its 14-day window (told by the daily pass, from what
    // the last scan read), and the homepage is hacked: it changed, so the scan comes forward.
    let m = monitor("2024-07-11");
    set(false, true);
    next().await;
    let r = m.run_once().await.unwrap();
    assert_eq!((r.changed, r.scanned, r.raised), (1, 1, 2), "{backend}: the column and the spam: {r:?}");
    // The spam goes: its alert resolves; the column's stays open, and says nothing again.
    set(false, false);
    next().await;
    let r = m.run_once().await.unwrap();
    assert_eq!((r.changed, r.raised, r.resolved), (1, 0, 1), "{backend}: {r:?}");
    // Past its window the column's alert stays open (nothing sent again), its evidence up to date.
    let m = monitor("2024-07-20");
    next().await;
    let r = m.run_once().await.unwrap();
    assert_eq!((r.raised, r.resolved, r.sent), (0, 0, 0), "{backend}: {r:?}");

    let office = events(&posts, "/office");
    assert_eq!(
        office,
        [
            pair("fire", "availability.unreachable"),
            pair("resolve", "availability.unreachable"),
            pair("fire", "freshness.column_stale"),
            pair("fire", "security.spam_injection"),
            pair("resolve", "security.spam_injection"),
        ],
        "{backend}: exactly these, once each"
    );
    // Each message is signed: HMAC-SHA256 of "timestamp.body" under the channel's secret.
    for (path, headers, body) in posts.lock().unwrap().iter().filter(|(p, ..)| p == "/office") {
        let ts = headers["x-sitecensus-timestamp"].to_str().unwrap();
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(b"s3cret").unwrap();
        mac.update(format!("{ts}.{body}").as_bytes());
        let hex: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(headers["x-sitecensus-signature"], format!("sha256={hex}"), "{backend} {path}");
    }
    let all = posts.lock().unwrap().clone();
    let bodies: Vec<&str> = all.iter().filter(|(p, ..)| p == "/office").map(|(_, _, b)| b.as_str()).collect();
    assert!(bodies[0].contains("首页连续 2 次探测无法访问") && bodies[0].contains("503"), "{backend}: {}", bodies[0]);
    assert!(bodies[2].contains("还剩 3 天"), "{backend}: the days left: {}", bodies[2]);
    assert!(bodies[2].contains("https://census.example.gov.cn/sites/"), "{backend}: a link to the finding");
    assert!(bodies[2].contains("#columns") && bodies[3].contains("#findings"), "{backend}: to the part that shows it");
    assert!(bodies[3].contains("被植入违法有害信息") && bodies[3].contains("澳门新葡京"), "{backend}: {}", bodies[3]);
    // The digest sent once (its day is not over), the rate-limited channel once (its minute is
    // not), the other province's nothing.
    assert_eq!(events(&posts, "/daily"), [pair("fire", "availability.unreachable")], "{backend}");
    assert_eq!(events(&posts, "/slow"), [pair("fire", "availability.unreachable")], "{backend}");
    assert!(events(&posts, "/gd").is_empty(), "{backend}");
    // The site's team got the same five, by mail.
    let mails = mails.lock().unwrap().clone();
    assert_eq!(mails.len(), 5, "{backend}: {mails:?}");
    assert!(mails.iter().all(|m| m.contains("To: web@qyp.gov.cn")), "{backend}");
    let subjects: Vec<String> = mails
        .iter()
        .map(|m| {
            // The header as written, its folded lines joined.
            let mut lines = m.lines().skip_while(|l| !l.starts_with("Subject: "));
            let mut s = lines.next().unwrap().trim_start_matches("Subject: ").to_owned();
            for l in lines.take_while(|l| l.starts_with([' ', '\t'])) {
                s.push(' ');
                s.push_str(l.trim());
            }
            decode_subject(&s)
        })
        .collect();
    assert_eq!(subjects[0], "【预警】青云谱区人民政府：站点无法访问", "{backend}");
    assert_eq!(subjects[1], "【已恢复】青云谱区人民政府：站点无法访问", "{backend}");
    // What stays open: the column.
    let open = store.open_alerts().unwrap();
    assert_eq!(open.len(), 1, "{backend}: {open:?}");
    assert!(open[0].check == "freshness.column_stale" && open[0].target.ends_with("/news/"), "{backend}: {open:?}");
    assert!(
        open[0].evidence_zh.as_deref().is_some_and(|e| e.contains("已超过 14 天更新期限 6 天")),
        "{backend}: {open:?}"
    );
}

/// A mail subject as written (RFC 2047 encoded words, base64), decoded.
fn decode_subject(s: &str) -> String {
    s.split_whitespace()
        .map(|w| match w.strip_prefix("=?utf-8?b?").or_else(|| w.strip_prefix("=?UTF-8?B?")) {
            Some(rest) => {
                let b64 = rest.trim_end_matches("?=");
                String::from_utf8(base64::engine::general_purpose::STANDARD.decode(b64).unwrap()).unwrap()
            }
            None => w.to_owned(),
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_monitor_alerts_once_and_recovers_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    watch(Arc::new(Store::open(&dir.path().join("m.db")).unwrap()), "sqlite").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_monitor_alerts_once_and_recovers_on_postgres() {
    let db = sitecensus_fixtures::postgres::TempDb::new();
    watch(Arc::new(Store::open_postgres(db.url()).unwrap()), "postgres").await;
}

/// A monitor of the `monitor` fixture site (judged as of `as_of`) whose alerts in `only` go to
/// one JSON webhook at `hook`.
fn one_channel_monitor(store: &Arc<Store>, site: &str, hook: &str, only: &str, as_of: &str) -> Monitor {
    monitor_with(store, site, hook, only, as_of, |_| {})
}

/// As [`one_channel_monitor`], its scans' options changed by `edit`.
fn monitor_with(
    store: &Arc<Store>,
    site: &str,
    hook: &str,
    only: &str,
    as_of: &str,
    edit: impl FnOnce(&mut sitecensus_scan::ScanOptions),
) -> Monitor {
    let config = MonitorConfig::parse(&format!(
        r#"
        [defaults]
        probe_every = "1s"
        pages_every = "1s"
        scan_every = "7d"
        [alerts]
        only = [{only}]
        [[channel]]
        name = "office"
        kind = "webhook"
        url = "{hook}"
        "#
    ))
    .unwrap();
    let mut spec = SiteSpec::from_url(site).unwrap();
    spec.name = Some("青云谱区人民政府".into());
    let as_of = AsOf::parse(as_of).unwrap();
    let mut o = sitecensus_scan::ScanOptions::new(Rubric::default_rubric(), as_of);
    o.https_check = false;
    o.check_external = false;
    o.render = None;
    o.fetch.politeness = sitecensus_fetch::Politeness { per_host_rps: 0.0, per_host_connections: 4, concurrency: 16 };
    edit(&mut o);
    Monitor::new(store.clone(), config, vec![spec], o, Some(as_of)).unwrap()
}

/// A homepage replaced by a defacer's page is told after two looks in a row and resolved when
/// the homepage is back; a day's update is not told; a redesign is told, and a person takes it
/// for the homepage (`accept_homepage`), after which it is the page compared with.
#[tokio::test(flavor = "multi_thread")]
async fn a_defaced_homepage_is_told_and_an_updated_one_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(&dir.path().join("m.db")).unwrap());
    let state = Arc::new(Mutex::new(SiteState::default()));
    let site = site(state.clone()).await;
    let (hooks, posts) = receiver().await;
    let m = one_channel_monitor(&store, &site.url("/"), &hooks.url("/office"), "\"security.defacement\"", "2024-07-08");
    m.sync_jobs(true).unwrap();
    let show = |h: Homepage| state.lock().unwrap().homepage = h;
    let look = || async {
        tokio::time::sleep(Duration::from_millis(1100)).await;
        let r = m.run_once().await.unwrap();
        assert!(r.errors.is_empty(), "{r:?}");
        (r.raised, r.resolved)
    };
    assert_eq!(m.run_once().await.unwrap().raised, 0, "the first look: the homepage as it is");
    show(Homepage::Updated);
    assert_eq!(look().await, (0, 0), "a day's update");
    show(Homepage::Defaced);
    assert_eq!(look().await, (0, 0), "one look is not enough (a firewall's challenge, a failed deploy)");
    assert_eq!(look().await, (1, 0), "two looks in a row: told");
    assert_eq!(look().await, (0, 0), "told once");
    show(Homepage::Updated);
    assert_eq!(look().await, (0, 1), "the homepage is back");
    show(Homepage::Redesigned);
    assert_eq!(look().await, (0, 0));
    assert_eq!(look().await, (1, 0), "a redesign is told too: a person looks");
    assert!(m.accept_homepage(&site.url("/")).unwrap(), "taken for the homepage");
    assert!(!m.accept_homepage(&site.url("/")).unwrap(), "nothing more to take");
    assert_eq!(look().await, (0, 0), "the new design is the homepage now");
    assert_eq!(m.run_once().await.unwrap().sent, 0, "everything already sent");
    let events = events(&posts, "/office");
    assert_eq!(
        events,
        [
            pair("fire", "security.defacement"),
            pair("resolve", "security.defacement"),
            pair("fire", "security.defacement"),
            pair("resolve", "security.defacement"),
        ]
    );
    let first = posts.lock().unwrap()[0].2.clone();
    let v: serde_json::Value = serde_json::from_str(&first).unwrap();
    let e = &v["events"][0];
    assert_eq!(e["check_zh"], "首页疑似被篡改");
    let zh = e["evidence_zh"].as_str().unwrap();
    assert!(zh.contains("Hacked By Sh3ll_Team") && zh.contains("仅剩 0%"), "{zh}");
    assert!(zh.contains("标题「青云谱区人民政府」→「Hacked by Sh3ll_Team」"), "{zh}");
}

/// A letter nearing the end of its reply window is told before it passes it, once: the same
/// alert stays open when a later scan finds it past the window.
#[tokio::test(flavor = "multi_thread")]
async fn a_letter_is_told_before_it_passes_its_reply_window() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(&dir.path().join("m.db")).unwrap());
    let site = sitecensus_fixtures::serve_site("interaction").await;
    let (hooks, posts) = receiver().await;
    let url = site.url("/");
    // Letter 6 was written on 2024-02-05: 80 days on 25 April, 12 days before its 92. Letter 7,
    // of 2023-05-08, is long past them, and still within the year the rubric judges.
    let m = one_channel_monitor(&store, &url, &hooks.url("/office"), "\"interaction.unanswered\"", "2024-04-25");
    m.sync_jobs(true).unwrap();
    let r = m.run_once().await.unwrap();
    assert_eq!((r.scanned, r.raised, r.sent), (1, 2, 2), "{r:?}");
    let open = store.open_alerts().unwrap();
    let of = |open: &[sitecensus_store::monitor::AlertRow], page: &str| {
        open.iter().find(|a| a.target.ends_with(page)).cloned().unwrap_or_else(|| panic!("{page}: {open:?}"))
    };
    let six = of(&open, "/hdjl/xj/6.html");
    assert_eq!(six.severity, "warn", "an early warning: {six:?}");
    assert!(six.evidence_zh.as_deref().unwrap().contains("还剩 12 天"), "{six:?}");
    assert_eq!(of(&open, "/hdjl/xj/7.html").severity, "veto");
    // Judged on 10 May, letter 6 is past the window: the same alert, now a veto, not told again;
    // letter 7 has left the year judged.
    let m = one_channel_monitor(&store, &url, &hooks.url("/office"), "\"interaction.unanswered\"", "2024-05-10");
    store.job_due_now(&url, "scan").unwrap();
    let r = m.run_once().await.unwrap();
    assert_eq!((r.scanned, r.raised, r.resolved, r.sent), (1, 0, 1, 1), "{r:?}");
    let open = store.open_alerts().unwrap();
    assert_eq!(open.len(), 1, "{open:?}");
    let six = of(&open, "/hdjl/xj/6.html");
    assert!(six.severity == "veto" && six.evidence_zh.as_deref().unwrap().contains("仍未答复"), "{six:?}");
    let mut told = events(&posts, "/office");
    told.sort();
    assert_eq!(
        told,
        [
            pair("fire", "interaction.unanswered"),
            pair("fire", "interaction.unanswered"),
            pair("resolve", "interaction.unanswered")
        ]
    );
}

/// What a server saw: when each request arrived, and the most in flight at once.
#[derive(Default)]
struct Seen {
    arrivals: Vec<(std::time::Instant, String, bool)>,
    in_flight: usize,
    most: usize,
}

/// Three small sites on one host (`/a/`, `/b/`, `/c/`), each answering after 30 ms, that note
/// every request (and whether it was a conditional one).
async fn shared_host() -> (sitecensus_fixtures::Server, Arc<Mutex<Seen>>) {
    let seen: Arc<Mutex<Seen>> = Arc::default();
    let kept = seen.clone();
    let router = Router::new().fallback(move |req: Request<Body>| {
        let seen = kept.clone();
        async move {
            let path = req.uri().path().to_owned();
            let conditional = req.headers().contains_key("if-none-match") || req.headers().contains_key("if-modified-since");
            {
                let mut s = seen.lock().unwrap();
                s.arrivals.push((std::time::Instant::now(), path.clone(), conditional));
                s.in_flight += 1;
                s.most = s.most.max(s.in_flight);
            }
            tokio::time::sleep(Duration::from_millis(30)).await;
            seen.lock().unwrap().in_flight -= 1;
            let site = path.trim_start_matches('/').split('/').next().unwrap_or_default().to_owned();
            let html = if path.ends_with('/') && !site.is_empty() {
                format!(
                    "<html><head><meta charset=utf-8><title>{site}区人民政府</title></head><body>\
                     <ul><li><a href=\"/{site}/1.html\">{site}区召开工作会议</a> 2024-07-05</li>\
                     <li><a href=\"/{site}/2.html\">{site}区开展安全检查</a> 2024-07-01</li></ul></body></html>"
                )
            } else {
                format!("<html><head><meta charset=utf-8><title>{path}</title></head><body><p>2024-07-05 {site}区会议</p></body></html>")
            };
            (
                [
                    (axum::http::header::CONTENT_TYPE, "text/html; charset=utf-8"),
                    (axum::http::header::LAST_MODIFIED, "Fri, 05 Jul 2024 08:00:00 GMT"),
                ],
                html,
            )
        }
    });
    (sitecensus_fixtures::serve(router).await, seen)
}

/// The monitor's probes, daily passes and scans of sites on one host keep one pace between them,
/// as `scan` keeps it: never two requests to the host at once, never closer than its rate allows
/// (the probes of three sites, their passes and their scans all running together).
#[tokio::test(flavor = "multi_thread")]
async fn probes_passes_and_scans_of_a_host_keep_one_pace() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(&dir.path().join("m.db")).unwrap());
    let (host, seen) = shared_host().await;
    let config = MonitorConfig::parse(
        "[defaults]\nprobe_every = \"1s\"\npages_every = \"1s\"\nscan_every = \"7d\"\n[alerts]\nonly = []\n",
    )
    .unwrap();
    let specs: Vec<SiteSpec> =
        ["/a/", "/b/", "/c/"].iter().map(|p| SiteSpec::from_url(&host.url(p)).unwrap()).collect();
    let as_of = AsOf::parse("2024-07-08").unwrap();
    let mut o = sitecensus_scan::ScanOptions::new(Rubric::default_rubric(), as_of);
    o.https_check = false;
    o.check_external = false;
    o.render = None;
    // 5 requests a second, one connection: at least 200 ms between two requests to the host.
    o.fetch.politeness = sitecensus_fetch::Politeness { per_host_rps: 5.0, per_host_connections: 1, concurrency: 16 };
    let m = Monitor::new(store.clone(), config, specs, o, Some(as_of)).unwrap();
    m.sync_jobs(true).unwrap();
    // A first pass notes the pages; then the monitor runs, its probes and passes beside its scans.
    m.run_once().await.unwrap();
    let start = seen.lock().unwrap().arrivals.len();
    store.job_due_now(&host.url("/a/"), "scan").unwrap();
    store.job_due_now(&host.url("/b/"), "scan").unwrap();
    m.run(tokio::time::sleep(Duration::from_secs(5)), |_| {}).await.unwrap();
    let s = seen.lock().unwrap();
    assert_eq!(s.most, 1, "never two requests to the host at once");
    let during = &s.arrivals[start..];
    let kinds = |f: &dyn Fn(&(std::time::Instant, String, bool)) -> bool| during.iter().filter(|a| f(a)).count();
    assert!(kinds(&|a| a.2) >= 3, "daily passes ran beside: {:?}", s.arrivals);
    assert!(kinds(&|a| a.1.ends_with(".html")) >= 2, "scans ran beside: {:?}", s.arrivals);
    let gaps: Vec<u128> = s.arrivals.windows(2).map(|w| (w[1].0 - w[0].0).as_millis()).collect();
    let least = gaps.iter().min().copied().unwrap_or_default();
    assert!(
        least >= 170,
        "requests no closer than the host's rate (200 ms, less the clock's slack): {least} ms, {gaps:?}"
    );
}

/// Two monitors on one store, both running their rounds at once over a slow receiver: each
/// queued message is sent once between them.
async fn two_monitors_send_each_message_once(store: Arc<Store>, backend: &str) {
    let posts: Arc<Mutex<Vec<String>>> = Arc::default();
    let seen = posts.clone();
    let hooks = sitecensus_fixtures::serve(Router::new().fallback(move |body: String| {
        let seen = seen.clone();
        async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            seen.lock().unwrap().push(body);
            "ok"
        }
    }))
    .await;
    let config = MonitorConfig::parse(&format!(
        "[[channel]]\nname = \"office\"\nkind = \"webhook\"\nurl = \"{}\"\n",
        hooks.url("/")
    ))
    .unwrap();
    let as_of = AsOf::parse("2024-07-08").unwrap();
    let monitor = || {
        let o = sitecensus_scan::ScanOptions::new(Rubric::default_rubric(), as_of);
        Monitor::new(store.clone(), config.clone(), Vec::new(), o, Some(as_of)).unwrap()
    };
    let (a, b) = (monitor(), monitor());
    a.sync_jobs(true).unwrap();
    for site in ["http://www.a.gov.cn/", "http://www.b.gov.cn/"] {
        let alert = sitecensus_store::monitor::NewAlert {
            site,
            source: "probe",
            check: "availability.unreachable",
            target: "",
            severity: "warn",
            evidence: "the homepage failed 3 probes in a row",
            evidence_zh: None,
            link: None,
            page: None,
        };
        store.open_alert(&alert, &["office".to_owned()]).unwrap();
    }
    let (ra, rb) = tokio::join!(a.run_once(), b.run_once());
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    let (rc, rd) = tokio::join!(a.run_once(), b.run_once());
    let sent = ra.sent + rb.sent + rc.unwrap().sent + rd.unwrap().sent;
    assert_eq!(sent, 2, "{backend}: {ra:?} {rb:?}");
    assert_eq!(posts.lock().unwrap().len(), 2, "{backend}: each of the two alerts once");
}

#[tokio::test(flavor = "multi_thread")]
async fn two_monitors_send_each_message_once_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    two_monitors_send_each_message_once(Arc::new(Store::open(&dir.path().join("m.db")).unwrap()), "sqlite").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn two_monitors_send_each_message_once_on_postgres() {
    let db = sitecensus_fixtures::postgres::TempDb::new();
    two_monitors_send_each_message_once(Arc::new(Store::open_postgres(db.url()).unwrap()), "postgres").await;
}

/// A homepage that shows nothing newer is told as it passes the rubric's warning line — by the
/// daily pass, from what the last scan read, without a scan — and stays one alert past its window.
#[tokio::test(flavor = "multi_thread")]
async fn an_unchanged_homepage_nears_its_window_without_a_scan() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(&dir.path().join("m.db")).unwrap());
    let state = Arc::new(Mutex::new(SiteState::default()));
    let site = site(state.clone()).await;
    let (hooks, posts) = receiver().await;
    let only = "\"freshness.homepage_stale\"";
    let monitor = |as_of: &str| one_channel_monitor(&store, &site.url("/"), &hooks.url("/office"), only, as_of);
    // Its newest item is of 2024-07-07.
    let m = monitor("2024-07-08");
    m.sync_jobs(true).unwrap();
    let r = m.run_once().await.unwrap();
    assert_eq!((r.scanned, r.raised), (1, 0), "{r:?}");
    // Ten days on: not yet past the 10-day warning line.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let r = monitor("2024-07-17").run_once().await.unwrap();
    assert_eq!((r.pages, r.changed, r.scanned, r.raised), (3, 0, 0, 0), "{r:?}");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let r = monitor("2024-07-18").run_once().await.unwrap();
    assert_eq!((r.changed, r.scanned, r.raised, r.sent), (0, 0, 1, 1), "eleven days: told, without a scan: {r:?}");
    let open = store.open_alerts().unwrap();
    assert_eq!(open[0].severity, "warn");
    assert!(open[0].evidence_zh.as_deref().unwrap().contains("2024-07-07，距检查基准日 11 天"), "{open:?}");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let r = monitor("2024-07-22").run_once().await.unwrap();
    assert_eq!((r.raised, r.sent), (0, 0), "past the window: the same alert: {r:?}");
    let open = store.open_alerts().unwrap();
    assert_eq!((open.len(), open[0].severity.as_str()), (1, "veto"), "{open:?}");
    assert_eq!(events(&posts, "/office"), [pair("fire", "freshness.homepage_stale")]);
}

/// A scan that did not read the page an alert was seen on resolves nothing: not found is not
/// fixed. A scan that read it and found it clean resolves it.
#[tokio::test(flavor = "multi_thread")]
async fn a_scan_that_did_not_read_the_page_resolves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(&dir.path().join("m.db")).unwrap());
    let state = Arc::new(Mutex::new(SiteState { hacked_article: true, ..SiteState::default() }));
    let site = site(state.clone()).await;
    let (hooks, posts) = receiver().await;
    let (url, hook, only) = (site.url("/"), hooks.url("/office"), "\"security.spam_injection\"");
    let m = one_channel_monitor(&store, &url, &hook, only, "2024-07-08");
    m.sync_jobs(true).unwrap();
    let r = m.run_once().await.unwrap();
    assert_eq!((r.scanned, r.raised), (1, 1), "{r:?}");
    assert!(store.open_alerts().unwrap()[0].target.ends_with("/news/1.html"));
    // Cleaned; a scan that reads only the homepage (its page budget spent) does not see the article.
    state.lock().unwrap().hacked_article = false;
    let short = monitor_with(&store, &url, &hook, only, "2024-07-08", |o| o.max_pages = 1);
    store.job_due_now(&url, "scan").unwrap();
    let r = short.run_once().await.unwrap();
    assert_eq!((r.scanned, r.resolved), (1, 0), "the article was not read: {r:?}");
    store.job_due_now(&url, "scan").unwrap();
    let r = m.run_once().await.unwrap();
    assert_eq!((r.scanned, r.resolved), (1, 1), "read, and clean: {r:?}");
    assert_eq!(
        events(&posts, "/office"),
        [pair("fire", "security.spam_injection"), pair("resolve", "security.spam_injection")]
    );
}
