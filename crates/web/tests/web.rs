//! The web app over HTTP on loopback, on both stores: logins and sessions, CSRF, rate limiting,
//! what each role may see (every route tried out of scope), filters, escaping, the audit log.

use std::sync::Arc;

use sitecensus_core::column::Column;
use sitecensus_core::rubric::ColumnKind;
use sitecensus_core::{CheckId, Finding, Severity, SiteSpec};
use sitecensus_score::{Deduction, VetoHit};
use sitecensus_store::SiteScore;
use sitecensus_store::Store;
use sitecensus_store::accounts::Role;
use sitecensus_web::auth::hash_password;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// An answer: status, headers (lowercase names), body.
#[derive(Debug)]
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// The value a Set-Cookie header gives `name`.
    fn cookie(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .filter(|(k, _)| k == "set-cookie")
            .filter_map(|(_, v)| v.split(';').next()?.split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_owned())
    }

    /// The CSRF token a page's form carries.
    fn csrf(&self) -> String {
        let at = self.body.find("name=\"csrf\" value=\"").expect("a form with a CSRF token") + 19;
        self.body[at..at + 64].to_owned()
    }
}

/// One HTTP/1.1 request over a new connection, read to its end: the test's client is as plain as
/// the protocol, so that nothing it does hides what the server does.
async fn request(addr: std::net::SocketAddr, method: &str, path: &str, cookie: &str, form: Option<&str>) -> Answer {
    let cookie = [("Cookie", cookie)];
    request_with(addr, method, path, if cookie[0].1.is_empty() { &[] } else { &cookie }, form).await
}

/// A request with these headers.
async fn request_with(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    form: Option<&str>,
) -> Answer {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let body = form.unwrap_or("");
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if form.is_some() {
        req.push_str(&format!("Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n", body.len()));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    // Bodies come whole or chunked: the chunk sizes do not matter to what the tests look for.
    Answer { status, headers, body: body.to_owned() }
}

fn enc(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

/// Logs in and gives the session cookie (or the failed answer).
async fn login(addr: std::net::SocketAddr, name: &str, password: &str) -> Result<String, Answer> {
    login_from(addr, name, password, None).await
}

/// Logs in through a proxy on this machine that says the client is `forwarded_for`.
async fn login_from(
    addr: std::net::SocketAddr,
    name: &str,
    password: &str,
    forwarded_for: Option<&str>,
) -> Result<String, Answer> {
    let form = request(addr, "GET", "/login", "", None).await;
    let csrf = form.csrf();
    let login_cookie = format!("sc_login={}", form.cookie("sc_login").unwrap());
    let body = format!("name={}&password={}&csrf={csrf}", enc(name), enc(password));
    let mut headers = vec![("Cookie", login_cookie.as_str())];
    headers.extend(forwarded_for.map(|a| ("X-Forwarded-For", a)));
    let a = request_with(addr, "POST", "/login", &headers, Some(&body)).await;
    match a.cookie("sc_session") {
        Some(token) if a.status == 303 => Ok(format!("sc_session={token}")),
        _ => Err(a),
    }
}

/// A round of one site (as given by `url`) scored `verdict` with `findings`, finished.
fn one_site_round(store: &Store, as_of: &str, url: &str, verdict: &str, score: f64, findings: &[Finding]) {
    let run = store.create_run(as_of, "gov-2019", &format!("round {as_of}"), "{}").unwrap();
    let row = store.add_sites(run.id, &[SiteSpec::from_url(url).unwrap()]).unwrap().remove(0);
    let g = store.start_scoring(run.id, ("gov-2019", "t"), as_of, "scan").unwrap();
    store
        .put_site_score(
            g,
            &SiteScore {
                site_id: row.id,
                url: &row.spec.given,
                name: Some("东湖区"),
                level: Some("county"),
                region: Some("360102"),
                verdict,
                score,
                final_url: None,
                title: None,
                veto_items: &[],
                deductions: &[],
                findings,
                columns: &[],
                freshness: None,
            },
        )
        .unwrap();
    store.finish_scoring(g).unwrap();
}

/// A dead link two provinces' sites share (a template's).
fn shared_dead_link() -> Finding {
    Finding::new(CheckId::LinksBroken, Severity::Deduct, "「中国政府网」 → HTTP 404")
        .target("http://www.gov.cn/gone.html")
}

/// A census of three sites — two in 江西 (36…), one in 广东 (44…) — and the app's users.
fn census(store: &Store) -> Vec<i64> {
    // An earlier round, in which the first site passed.
    one_site_round(store, "2024-04-10T00:00:00+08:00", "http://a.jx.gov.cn/", "pass", 96.5, &[]);
    let run = store.create_run("2024-07-10T00:00:00+08:00", "gov-2019", "h", "{}").unwrap();
    let specs: Vec<SiteSpec> = ["http://a.jx.gov.cn/", "http://b.jx.gov.cn/", "http://c.gd.gov.cn/"]
        .iter()
        .map(|u| SiteSpec::from_url(u).unwrap())
        .collect();
    let rows = store.add_sites(run.id, &specs).unwrap();
    let scoring = store
        .start_scoring(run.id, ("gov-2019", "政府网站与政务新媒体检查指标"), "2024-07-10T00:00:00+08:00", "scan")
        .unwrap();
    let veto =
        [VetoHit { check: CheckId::FreshnessHomepageStale, item: "首页不更新".into(), count: 1, min_count: 1 }];
    let deduction = [Deduction {
        check: CheckId::LinksBroken,
        item: "可用性（链接可用性）".into(),
        count: 1,
        points: 0.1,
        capped: false,
    }];
    let hostile = [
        Finding::new(CheckId::FreshnessHomepageStale, Severity::Veto, "newest homepage item 2024-05-20")
            .zh("首页最新信息发布于 2024-05-20<script>alert(1)</script>")
            .page("http://a.jx.gov.cn/"),
        Finding::new(CheckId::LinksBroken, Severity::Deduct, "「x」 → HTTP 404").target("javascript:alert(1)"),
        shared_dead_link(),
    ];
    let column = |title: &str, kind, latest: Option<&str>, stale, unreadable| Column {
        url: format!("http://a.jx.gov.cn/{}/", kind),
        title: title.to_owned(),
        kind,
        items: if unreadable { 0 } else { 20 },
        latest: latest.map(str::to_owned),
        stale,
        empty: false,
        unreadable,
    };
    let columns = [
        column("<script>alert(1)</script>通知公告", ColumnKind::Notice, Some("2024-03-02"), true, false),
        column("工作动态", ColumnKind::News, Some("2024-07-08"), false, false),
        column("政策文件", ColumnKind::Policy, None, false, true),
    ];
    let sites = [
        (
            "<img src=x onerror=alert(1)>东湖区",
            "360102",
            "fail",
            85.0,
            &veto[..],
            &deduction[..],
            &hostile[..],
            &columns[..],
        ),
        ("万载县人民政府", "360922", "pass", 99.0, &[][..], &[][..], &[][..], &[][..]),
        ("越秀区人民政府", "440104", "fail", 55.0, &[][..], &[][..], &[shared_dead_link()][..], &[][..]),
    ];
    for (row, (name, region, verdict, score, vetoes, deductions, findings, columns)) in rows.iter().zip(sites) {
        store
            .put_site_score(
                scoring,
                &SiteScore {
                    site_id: row.id,
                    url: &row.spec.given,
                    name: Some(name),
                    level: Some("county"),
                    region: Some(region),
                    verdict,
                    score,
                    final_url: None,
                    title: None,
                    veto_items: vetoes,
                    deductions,
                    findings,
                    columns,
                    freshness: None,
                },
            )
            .unwrap();
    }
    store.finish_scoring(scoring).unwrap();
    let add = |name: &str, role: Role, region: Option<&str>, sites: &[String]| {
        store.add_user(name, &hash_password(&format!("{name}-password")).unwrap(), role, region, sites).unwrap();
    };
    add("admin", Role::Admin, None, &[]);
    add("jx", Role::Province, Some("36"), &[]);
    add("gd", Role::Province, Some("44"), &[]);
    add("team", Role::SiteTeam, None, &["http://b.jx.gov.cn/".to_owned()]);
    add("team_a", Role::SiteTeam, None, &["http://a.jx.gov.cn/".to_owned()]);
    add("gone", Role::National, None, &[]);
    assert!(store.disable_user("gone").unwrap());
    rows.iter().map(|r| r.id).collect()
}

async fn serve(store: Arc<Store>) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(sitecensus_web::serve(store, listener, false));
    addr
}

async fn the_app_holds(store: Arc<Store>, backend: &str) {
    let ids = tokio::task::spawn_blocking({
        let store = store.clone();
        move || census(&store)
    })
    .await
    .unwrap();
    let (a, b, c) = (ids[0], ids[1], ids[2]);
    let addr = serve(store.clone()).await;

    // Without a session only the login page answers; everything else leads to it.
    for path in ["/", "/sites", &format!("/sites/{a}"), "/audit", "/sites?verdict=fail"] {
        let r = request(addr, "GET", path, "", None).await;
        assert_eq!((r.status, r.header("location")), (303, Some("/login")), "{backend} {path}");
    }
    let r =
        request(addr, "GET", "/", "sc_session=0000000000000000000000000000000000000000000000000000000000000000", None)
            .await;
    assert_eq!(r.status, 303, "{backend}: a made-up session is no session");
    let form = request(addr, "GET", "/login", "", None).await;
    assert_eq!(form.status, 200);
    let csp = form.header("content-security-policy").unwrap();
    assert!(csp.contains("default-src 'none'") && !csp.contains("script-src"), "{csp}");

    // CSRF: a login form posted without the token of its page is refused.
    let r = request(addr, "POST", "/login", "", Some("name=jx&password=jx-password&csrf=")).await;
    assert_eq!(r.status, 403, "{backend}: {}", r.body);
    let r = request(addr, "POST", "/login", "sc_login=abc", Some("name=jx&password=jx-password&csrf=abd")).await;
    assert_eq!(r.status, 403, "{backend}");

    // Wrong passwords, a disabled user, and the rate limit.
    assert_eq!(login(addr, "jx", "wrong").await.unwrap_err().status, 401, "{backend}");
    assert_eq!(login(addr, "gone", "gone-password").await.unwrap_err().status, 401, "{backend}: disabled");
    assert_eq!(login(addr, "nobody", "x").await.unwrap_err().status, 401, "{backend}");
    for _ in 0..5 {
        let _ = login(addr, "gd", "wrong").await;
    }
    let r = login(addr, "gd", "gd-password").await.unwrap_err();
    assert_eq!(r.status, 429, "{backend}: the right password is refused too after five failures");

    // A provincial office sees its province: its sites, and no other's, by any route.
    let jx = login(addr, "jx", "jx-password").await.unwrap();
    let home = request(addr, "GET", "/", &jx, None).await;
    assert_eq!(home.status, 200, "{backend}");
    assert!(home.body.contains("2 个网站"), "{backend}: only its two sites are counted: {}", home.body);
    assert!(home.body.contains("首页不更新"), "{backend}: vetoes by item");
    assert!(!home.body.contains("440104"), "{backend}: no other province's region");
    assert!(home.body.contains("按级别") && home.body.contains("县级"), "{backend}: by level");
    assert!(home.body.contains("常见问题") && home.body.contains("链接不可用"), "{backend}: problems many sites share");
    assert!(!home.body.contains("gone.html"), "{backend}: the other province's site does not make it shared");
    assert!(home.body.contains("历次检查趋势") && home.body.contains("2024-04-10"), "{backend}: the trend");
    assert!(!home.body.contains("Overview") && !home.body.contains("pass rate"), "{backend}: no English heading");
    let list = request(addr, "GET", "/sites", &jx, None).await;
    assert!(list.body.contains("a.jx.gov.cn") && list.body.contains("b.jx.gov.cn"), "{backend}");
    assert!(!list.body.contains("c.gd.gov.cn"), "{backend}: another province's site is not listed");
    let r = request(addr, "GET", "/sites?region=44", &jx, None).await;
    assert!(!r.body.contains("c.gd.gov.cn"), "{backend}: a filter cannot widen the scope");
    assert_eq!(request(addr, "GET", &format!("/sites/{c}"), &jx, None).await.status, 404, "{backend}");
    assert_eq!(request(addr, "GET", &format!("/sites/{a}"), &jx, None).await.status, 200, "{backend}");
    assert_eq!(request(addr, "GET", "/audit", &jx, None).await.status, 404, "{backend}: the audit log is the admin's");

    // Crawled text stays text: the name, the evidence and a javascript: target.
    let page = request(addr, "GET", &format!("/sites/{a}"), &jx, None).await;
    assert!(!page.body.contains("<img src=x") && !page.body.contains("<script>alert"), "{backend}");
    assert!(
        page.body.contains("&#60;img src=x onerror=alert(1)&#62;") || page.body.contains("&lt;img src=x"),
        "{backend}"
    );
    assert!(page.body.contains("首页最新信息发布于 2024-05-20"), "{backend}: the evidence in Chinese");
    assert!(!page.body.contains("href=\"javascript:"), "{backend}: only http(s) addresses are links");
    assert!(page.body.contains("链接不可用"), "{backend}: checks by name");
    assert!(page.body.contains("历次检查") && page.body.contains("96.5"), "{backend}: the earlier round");
    // Its columns, with their freshness: a stale one, a fresh one, one scripts drew.
    assert!(page.body.contains("栏目更新情况") && page.body.contains("超期未更新"), "{backend}");
    // The monitor's alerts link straight to these parts.
    assert!(page.body.contains(r#"<section id="columns">"#) && page.body.contains(r#"<section id="findings">"#));
    assert!(page.body.contains("2024-03-02") && page.body.contains("正常更新"), "{backend}");
    assert!(page.body.contains("无法读取"), "{backend}: a column scripts drew is not read as empty");
    assert!(page.body.contains("通知公告") && !page.body.contains("<script>alert(1)</script>通知公告"), "{backend}");
    for english in ["History across rounds", "Findings", "Evidence", "Columns and their freshness", "Log out"] {
        assert!(!page.body.contains(english), "{backend}: {english:?} on a page in Chinese");
    }
    assert!(page.body.contains("2024-04-10T00:00:00+08:00"), "{backend}");
    // English on request: the evidence, check names and verdicts follow the switch.
    let switch = request(addr, "GET", "/lang/en", "", None).await;
    assert_eq!(switch.cookie("sc_lang").as_deref(), Some("en"), "{backend}");
    let english = request(addr, "GET", &format!("/sites/{a}"), &format!("sc_lang=en; {jx}"), None).await;
    assert!(english.body.contains("newest homepage item 2024-05-20"), "{backend}: the English evidence");
    assert!(english.body.contains(">links.broken<") && !english.body.contains("首页最新信息发布于"), "{backend}");
    assert!(english.body.contains("<a href=\"/lang/zh\">中文</a>"), "{backend}: and the way back");
    assert!(english.body.contains("<html lang=\"en\">") && english.body.contains("History across rounds"), "{backend}");
    assert!(english.body.contains("not updated in its window") && english.body.contains("could not read"), "{backend}");
    for chinese in ["历次检查", "问题", "证据", "栏目更新情况", "退出", "不合格", "地区"] {
        assert!(!english.body.contains(chinese), "{backend}: {chinese:?} on a page in English");
    }
    let r = request(addr, "GET", "/sites/999999", &format!("sc_lang=en; {jx}"), None).await;
    assert!(r.status == 404 && r.body.contains("Not found") && !r.body.contains("未找到"), "{backend}: messages too");

    // A site's team sees its site only.
    let team = login(addr, "team", "team-password").await.unwrap();
    let list = request(addr, "GET", "/sites", &team, None).await;
    assert!(list.body.contains("b.jx.gov.cn") && !list.body.contains("a.jx.gov.cn"), "{backend}");
    assert_eq!(request(addr, "GET", &format!("/sites/{a}"), &team, None).await.status, 404, "{backend}");
    let own = request(addr, "GET", &format!("/sites/{b}"), &team, None).await;
    assert_eq!(own.status, 200, "{backend}");
    assert!(!own.body.contains("历次检查"), "{backend}: one round, no history");
    assert_eq!(request(addr, "GET", "/sites/not-a-number", &team, None).await.status, 404, "{backend}");

    // The national view, its filters and the audit log.
    let admin = login(addr, "admin", "admin-password").await.unwrap();
    let failing = request(addr, "GET", "/sites?verdict=fail&sort=score", &admin, None).await;
    let (at_a, at_c) = (failing.body.find("a.jx.gov.cn").unwrap(), failing.body.find("c.gd.gov.cn").unwrap());
    assert!(at_c < at_a, "{backend}: lowest score first");
    assert!(!failing.body.contains("b.jx.gov.cn"), "{backend}: the passing site is filtered out");
    let vetoed = request(addr, "GET", &format!("/sites?veto={}", enc("首页不更新")), &admin, None).await;
    assert!(vetoed.body.contains("a.jx.gov.cn") && !vetoed.body.contains("c.gd.gov.cn"), "{backend}");
    let by_check = request(addr, "GET", "/sites?check=links.broken", &admin, None).await;
    assert!(by_check.body.contains("a.jx.gov.cn") && !by_check.body.contains("b.jx.gov.cn"), "{backend}");
    let by_text = request(addr, "GET", &format!("/sites?q={}", enc("越秀")), &admin, None).await;
    assert!(by_text.body.contains("c.gd.gov.cn") && !by_text.body.contains("a.jx.gov.cn"), "{backend}");
    let odd = request(addr, "GET", &format!("/sites?q={}", enc("%_")), &admin, None).await;
    assert!(!odd.body.contains("gov.cn/"), "{backend}: % and _ are taken literally");
    let audit = request(addr, "GET", "/audit", &admin, None).await;
    assert_eq!(audit.status, 200, "{backend}");
    for action in ["login_failed", "login_refused", ">login<"] {
        assert!(audit.body.contains(action), "{backend}: {action} missing from the audit log");
    }

    // The JSON API: the same scopes, described by its OpenAPI document.
    let r = request(addr, "GET", "/api/v1/sites", "", None).await;
    assert_eq!(r.status, 401, "{backend}: the API asks for a session");
    assert!(r.header("content-type").is_some_and(|t| t.starts_with("application/json")), "{backend}");
    let json = |a: Answer| -> serde_json::Value {
        serde_json::from_str(&a.body).unwrap_or_else(|e| panic!("{e}: {}", a.body))
    };
    let listed = json(request(addr, "GET", "/api/v1/sites", &jx, None).await);
    assert_eq!(listed["total"], 2, "{backend}: {listed}");
    assert!(!listed.to_string().contains("c.gd.gov.cn"), "{backend}");
    assert_eq!(request(addr, "GET", &format!("/api/v1/sites/{c}"), &jx, None).await.status, 404, "{backend}");
    let card = json(request(addr, "GET", &format!("/api/v1/sites/{a}"), &jx, None).await);
    assert_eq!(card["line"]["verdict"], "fail", "{backend}");
    assert_eq!(card["vetoes"][0][1], "首页不更新", "{backend}");
    assert_eq!(json(request(addr, "GET", "/api/v1/overview", &jx, None).await)["overview"]["sites"], 2, "{backend}");
    assert_eq!(json(request(addr, "GET", "/api/v1/sites", &team, None).await)["total"], 1, "{backend}");
    let doc = json(request(addr, "GET", "/api/v1/openapi.json", "", None).await);
    assert_eq!(doc["openapi"], "3.1.0");
    for path in doc["paths"].as_object().unwrap().keys() {
        let path = path.replace("{id}", &a.to_string());
        let r = request(addr, "GET", &format!("/api/v1{path}"), &admin, None).await;
        assert_eq!(r.status, 200, "{backend}: {path} is described and answers");
        let _ = json(r);
    }

    // Published results: nothing until an office publishes, then its region's part only, to
    // everyone without a login.
    let r = request(addr, "GET", "/public", "", None).await;
    assert!(r.status == 200 && r.body.contains("尚无公开的检查结果"), "{backend}");
    assert_eq!(request(addr, "GET", "/public/1", "", None).await.status, 404, "{backend}");
    let scoring =
        json(request(addr, "GET", "/api/v1/scorings", &jx, None).await)["scorings"][0]["id"].as_i64().unwrap();
    let form = format!("scoring={scoring}&region=");
    assert_eq!(request(addr, "POST", "/publish", &jx, Some(&form)).await.status, 403, "{backend}: no CSRF token");
    let team_csrf = request(addr, "GET", "/", &team, None).await.csrf();
    let r = request(addr, "POST", "/publish", &team, Some(&format!("csrf={team_csrf}&{form}"))).await;
    assert_eq!(r.status, 403, "{backend}: a site team publishes nothing");
    let jx_csrf = request(addr, "GET", "/", &jx, None).await.csrf();
    let r =
        request(addr, "POST", "/publish", &jx, Some(&format!("csrf={jx_csrf}&scoring={scoring}&region=440000"))).await;
    assert_eq!(r.status, 303, "{backend}");
    let public = r.header("location").unwrap().to_owned();
    let page = request(addr, "GET", &public, "", None).await;
    assert_eq!(page.status, 200, "{backend}: published pages need no login");
    assert!(page.body.contains("2 个网站"), "{backend}: an office publishes its own region, whatever it asks");
    assert!(!page.body.contains("历次检查趋势"), "{backend}: other rounds are not published with this one");
    let list = request(addr, "GET", &format!("{public}/sites"), "", None).await;
    assert!(list.body.contains("a.jx.gov.cn") && !list.body.contains("c.gd.gov.cn"), "{backend}");
    assert!(list.body.contains(&format!("href=\"{public}/sites/{a}?")), "{backend}: its links stay public");
    assert_eq!(request(addr, "GET", &format!("{public}/sites/{c}"), "", None).await.status, 404, "{backend}");
    let card = request(addr, "GET", &format!("{public}/sites/{a}"), "", None).await;
    assert!(card.status == 200 && !card.body.contains("<script>alert"), "{backend}");
    let admin_csrf = request(addr, "GET", "/", &admin, None).await.csrf();
    let r =
        request(addr, "POST", "/publish", &admin, Some(&format!("csrf={admin_csrf}&scoring={scoring}&region=440000")))
            .await;
    let guangdong = r.header("location").unwrap().to_owned();
    let list = request(addr, "GET", &format!("{guangdong}/sites"), "", None).await;
    assert!(
        list.body.contains("c.gd.gov.cn") && !list.body.contains("jx.gov.cn"),
        "{backend}: the national office chose 广东"
    );
    let r = request(addr, "GET", "/public", "", None).await;
    assert!(
        r.body.contains(&format!("href=\"{public}\"")) && r.body.contains(&format!("href=\"{guangdong}\"")),
        "{backend}"
    );

    // Rectification: an office issues a notice on a failing site, its team marks items fixed, the
    // next round verifies them.
    let jx_csrf = request(addr, "GET", "/", &jx, None).await.csrf();
    let notice_form = |csrf: &str, deadline: &str| format!("csrf={csrf}&scoring={scoring}&deadline={deadline}");
    let r = request(addr, "POST", &format!("/sites/{a}/notice"), &jx, Some(&notice_form("", "2099-01-01"))).await;
    assert_eq!(r.status, 403, "{backend}: no CSRF token");
    let team_a = login(addr, "team_a", "team_a-password").await.unwrap();
    let team_a_csrf = request(addr, "GET", "/", &team_a, None).await.csrf();
    let r =
        request(addr, "POST", &format!("/sites/{a}/notice"), &team_a, Some(&notice_form(&team_a_csrf, "2099-01-01")))
            .await;
    assert_eq!(r.status, 403, "{backend}: a site team issues no notice");
    let r = request(addr, "POST", &format!("/sites/{c}/notice"), &jx, Some(&notice_form(&jx_csrf, "2099-01-01"))).await;
    assert_eq!(r.status, 404, "{backend}: not on another province's site");
    let r = request(addr, "POST", &format!("/sites/{a}/notice"), &jx, Some(&notice_form(&jx_csrf, "2099-01-01"))).await;
    assert_eq!(r.status, 303, "{backend}: {}", r.body);
    let open = r.header("location").unwrap().to_owned();
    let r = request(addr, "POST", &format!("/sites/{a}/notice"), &jx, Some(&notice_form(&jx_csrf, "2024-08-10"))).await;
    let late = r.header("location").unwrap().to_owned();
    let list = request(addr, "GET", "/notices", &jx, None).await;
    assert!(list.body.contains(">逾期<") && list.body.contains(">整改中<"), "{backend}: {}", list.body);
    assert!(list.body.find(">逾期<").unwrap() < list.body.find(">整改中<").unwrap(), "{backend}: overdue first");
    assert!(!request(addr, "GET", "/notices", &team, None).await.body.contains("a.jx.gov.cn"), "{backend}");
    assert_eq!(request(addr, "GET", &open, &team, None).await.status, 404, "{backend}: another site's team");
    let page = request(addr, "GET", &open, &team_a, None).await;
    assert!(page.body.contains("首页不更新") && page.body.contains("链接不可用"), "{backend}: its items");
    // The notice's wording is Chinese; a reader of the English pages gets the English evidence.
    assert!(page.body.contains("首页最新信息发布于"), "{backend}");
    let english = request(addr, "GET", &open, &format!("sc_lang=en; {team_a}"), None).await;
    assert!(
        english.body.contains("newest homepage item 2024-05-20") && !english.body.contains("首页最新信息发布于"),
        "{backend}: {}",
        english.body
    );
    let item = {
        let at = page.body.find("/items/").unwrap() + 7;
        page.body[at..].split('/').next().unwrap().to_owned()
    };
    let mark = format!("{open}/items/{item}/fixed");
    let r = request(addr, "POST", &mark, &jx, Some(&format!("csrf={jx_csrf}&note=x"))).await;
    assert_eq!(r.status, 403, "{backend}: the site's team marks, not the office");
    let r =
        request(addr, "POST", &mark, &team_a, Some(&format!("csrf={team_a_csrf}&note={}", enc("首页已更新")))).await;
    assert_eq!(r.status, 303, "{backend}");
    let page = request(addr, "GET", &open, &jx, None).await;
    assert!(page.body.contains("首页已更新") && page.body.contains("尚未复查"), "{backend}");
    // The next round: the homepage is updated, the dead link is still there, a new finding.
    let later = store.clone();
    tokio::task::spawn_blocking(move || {
        let findings = [
            Finding::new(CheckId::LinksBroken, Severity::Deduct, "「x」 → HTTP 404").target("javascript:alert(1)"),
            Finding::new(CheckId::AccuracyTypo, Severity::Deduct, "再接再励").page("http://a.jx.gov.cn/n.html"),
        ];
        one_site_round(&later, "2024-10-10T00:00:00+08:00", "http://a.jx.gov.cn/", "fail", 58.0, &findings);
    })
    .await
    .unwrap();
    let page = request(addr, "GET", &open, &jx, None).await;
    assert!(page.body.contains("复查未通过"), "{backend}: an item is still there: {}", page.body);
    assert!(page.body.contains(">仍存在<") && page.body.contains(">已整改<"), "{backend}");
    assert!(page.body.contains("复查新发现") && page.body.contains("错别字"), "{backend}: what is new");
    assert!(request(addr, "GET", &late, &jx, None).await.body.contains(">逾期<"), "{backend}");
    let list = request(addr, "GET", "/notices", &jx, None).await;
    assert!(
        list.body.contains("360102 江西省南昌市东湖区</td><td>2</td><td class=\"fail\">1</td>"),
        "{backend}: per region"
    );
    assert!(
        list.body.contains(">复查未通过<") && list.body.contains(">逾期<") && !list.body.contains(">整改中<"),
        "{backend}: the list verified by the next round as the notice's own page is: {}",
        list.body
    );
    let offenders = &list.body[list.body.find("屡查屡犯").unwrap()..];
    assert!(offenders.contains("a.jx.gov.cn") && offenders.contains("2 / 3"), "{backend}: failed two rounds of three");
    assert!(!offenders.contains("c.gd.gov.cn"), "{backend}: out of scope, and failed once");
    assert!(request(addr, "GET", "/audit", &admin, None).await.body.contains("mark_fixed"), "{backend}");

    // Logging out needs the form's token; then the session is gone.
    let r = request(addr, "POST", "/logout", &jx, Some("csrf=")).await;
    assert_eq!(r.status, 403, "{backend}");
    let csrf = request(addr, "GET", "/", &jx, None).await.csrf();
    let r = request(addr, "POST", "/logout", &jx, Some(&format!("csrf={csrf}"))).await;
    assert_eq!(r.status, 303, "{backend}");
    assert_eq!(request(addr, "GET", "/", &jx, None).await.status, 303, "{backend}: the session ended");

    // One address trying many names is refused whatever the name, the right password too; a
    // client elsewhere (behind a proxy on this machine, which names it) still logs in.
    for i in 0..20 {
        let r = login_from(addr, &format!("guess{i}"), "x", Some("203.0.113.9")).await.unwrap_err();
        assert_eq!(r.status, 401, "{backend}: failure {i}");
    }
    let r = login_from(addr, "admin", "admin-password", Some("203.0.113.9")).await.unwrap_err();
    assert_eq!(r.status, 429, "{backend}: the guessing address is refused");
    assert!(login_from(addr, "admin", "admin-password", Some("198.51.100.7")).await.is_ok(), "{backend}");
    let audit = request(addr, "GET", "/audit", &admin, None).await;
    assert!(audit.body.contains("from this address (203.0.113.9)"), "{backend}: the audit log says why");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_app_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(&dir.path().join("s.db")).unwrap());
    the_app_holds(store, "sqlite").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_app_on_postgres() {
    let db = sitecensus_fixtures::postgres::TempDb::new();
    let store = Arc::new(Store::open_postgres(db.url()).unwrap());
    the_app_holds(store, "postgres").await;
}

/// The page behind a finding, replayed from the run's WARC: only for a user who may see the site,
/// only the addresses its findings name, under a sandboxing policy.
#[tokio::test(flavor = "multi_thread")]
async fn a_findings_page_is_replayed_from_the_runs_archive() {
    let site = sitecensus_fixtures::serve_site("accuracy").await;
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(&dir.path().join("s.db")).unwrap());
    let mut o = sitecensus_scan::ScanOptions::new(
        sitecensus_core::Rubric::default_rubric(),
        sitecensus_core::AsOf::parse("2024-07-10").unwrap(),
    );
    o.as_of_given = true;
    o.https_check = false;
    o.fetch.politeness = sitecensus_fetch::Politeness { per_host_rps: 0.0, per_host_connections: 4, concurrency: 32 };
    o.warc = Some(dir.path().join("warc"));
    let mut spec = SiteSpec::from_url(&site.url("/")).unwrap();
    spec.region = Some("360102".into());
    let out = sitecensus_scan::scan(store.clone(), vec![spec], o, Arc::new(sitecensus_scan::Silent)).await.unwrap();
    let result = &out.results.sites[0];
    let spam = result.findings.iter().find(|f| f.check == CheckId::SecuritySpamInjection).expect("the hacked page");
    let page_url = spam.page.clone().unwrap();
    {
        let store = store.clone();
        tokio::task::spawn_blocking(move || {
            let hash = hash_password("office-password").unwrap();
            store.add_user("jx", &hash, Role::Province, Some("36"), &[]).unwrap();
            store.add_user("gd", &hash, Role::Province, Some("44"), &[]).unwrap();
        })
        .await
        .unwrap();
    }
    let addr = serve(store).await;
    let jx = login(addr, "jx", "office-password").await.unwrap();
    let scoring = {
        let a = request(addr, "GET", "/api/v1/scorings", &jx, None).await;
        serde_json::from_str::<serde_json::Value>(&a.body).unwrap()["scorings"][0]["id"].as_i64().unwrap()
    };
    let site_id = 1;
    let card = request(addr, "GET", &format!("/sites/{site_id}"), &jx, None).await;
    let link = format!("/archive/{scoring}/{site_id}?url={}&raw=true", enc(&page_url));
    assert!(card.body.contains("[存档]"), "the findings link to their archived pages");
    let index = std::fs::read_dir(dir.path().join("warc"))
        .unwrap()
        .filter_map(Result::ok)
        .find(|e| e.file_name().to_string_lossy().ends_with(".warc.gz.idx"))
        .expect("an index beside the WARC file");
    let index = std::fs::read_to_string(index.path()).unwrap();
    assert!(index.lines().any(|l| l.starts_with(&format!("{page_url}\t"))), "the spam page is indexed: {index}");
    // The text view marks the words the evidence quotes.
    let (n, wrong) = result
        .findings
        .iter()
        .enumerate()
        .find(|(_, f)| f.check == CheckId::AccuracyWrongExpression && f.evidence.contains("中华人名共和国"))
        .expect("the misspelt state name");
    let view = format!("/archive/{scoring}/{site_id}?url={}&finding={n}", enc(wrong.page.as_deref().unwrap()));
    let text = request(addr, "GET", &view, &jx, None).await;
    assert_eq!(text.status, 200, "{}", text.body);
    assert!(text.body.contains("<mark>中华人名共和国</mark>"), "the quote marked: {}", text.body);
    assert!(text.body.contains("raw=true"), "and a way to the page itself");
    let archived = request(addr, "GET", &link, &jx, None).await;
    assert_eq!(archived.status, 200, "{}", archived.body);
    let csp = archived.header("content-security-policy").unwrap();
    assert!(csp.starts_with("sandbox;") && csp.contains("default-src 'none'") && !csp.contains("script-src"), "{csp}");
    assert!(archived.header("content-type").unwrap().starts_with("text/html"));
    assert!(archived.header("set-cookie").is_none(), "no cookie from an archived page");
    assert!(
        archived.body.contains("澳门新葡京") || archived.body.contains("pgdz"),
        "the page as fetched, spam and all"
    );
    // The replay reads the record the index points at: an index that points elsewhere fails
    // loudly, and a file without an index is read whole.
    let index_path = std::fs::read_dir(dir.path().join("warc"))
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().ends_with(".idx"))
        .unwrap();
    std::fs::write(&index_path, format!("{page_url}\t3\t40\n")).unwrap();
    let r = request(addr, "GET", &link, &jx, None).await;
    assert_eq!(r.status, 500, "a wrong index is an error, not another page: {}", r.body);
    std::fs::remove_file(&index_path).unwrap();
    let r = request(addr, "GET", &link, &jx, None).await;
    assert!(r.status == 200 && r.body == archived.body, "read whole without an index");
    std::fs::write(&index_path, &index).unwrap();
    // In a browser: from the scorecard to the finding's text view, then to the page itself, which
    // runs sandboxed (an opaque origin: no cookie, no call to the app).
    let (m, _) = result.findings.iter().enumerate().find(|(_, f)| f.check == CheckId::SecuritySpamInjection).unwrap();
    let (browser, events, _profile) = browser().await;
    let tab = browser.new_page(format!("http://{addr}/login")).await.unwrap();
    let cookie = jx.trim_start_matches("sc_session=");
    tab.set_cookie(
        chromiumoxide::cdp::browser_protocol::network::CookieParam::builder()
            .name("sc_session")
            .value(cookie)
            .url(format!("http://{addr}/"))
            .build()
            .unwrap(),
    )
    .await
    .unwrap();
    tab.goto(format!("http://{addr}/sites/{site_id}")).await.unwrap();
    let html = click_and_wait(&tab, &format!("a[href$='&finding={m}']")).await;
    assert!(html.contains("存档网页") && html.contains("网页文字"), "the text view: {html}");
    let html = click_and_wait(&tab, "a[href*='raw=true']").await;
    assert!(html.contains("澳门新葡京") || html.contains("pgdz"), "the page itself: {html}");
    let origin = tab.evaluate("window.origin").await.unwrap().into_value::<String>().unwrap();
    assert_eq!(origin, "null", "the archived page runs in a sandbox");
    drop(tab);
    drop(browser);
    events.abort();
    // Out of scope, an address no finding names, or no session: nothing.
    let gd = login(addr, "gd", "office-password").await.unwrap();
    assert_eq!(request(addr, "GET", &link, &gd, None).await.status, 404, "another province's office");
    let elsewhere = format!("/archive/{scoring}/{site_id}?url={}", enc("http://127.0.0.1:1/secret"));
    assert_eq!(request(addr, "GET", &elsewhere, &jx, None).await.status, 404);
    assert_eq!(request(addr, "GET", &link, "", None).await.status, 303);
    // The veto's screenshot, as the run kept it.
    let at = card.body.find("/screenshot/").expect("the veto's evidence page was photographed");
    let shot = card.body[at..].split('"').next().unwrap().to_owned();
    let png = request(addr, "GET", &shot, &jx, None).await;
    assert_eq!(png.status, 200);
    assert_eq!(png.header("content-type"), Some("image/png"));
    assert_eq!(request(addr, "GET", &shot, &gd, None).await.status, 404, "another province's office");
    assert_eq!(request(addr, "GET", &format!("/screenshot/{scoring}/{site_id}/999"), &jx, None).await.status, 404);
}

/// A headless Chromium for the browser test (Debian's `chromium`; `.ci/run` installs it).
async fn browser() -> (chromiumoxide::Browser, tokio::task::JoinHandle<()>, tempfile::TempDir) {
    use futures::StreamExt;
    let profile = tempfile::tempdir().unwrap();
    let exe = ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|name| {
            std::env::var_os("PATH")?
                .to_str()?
                .split(':')
                .map(|d| std::path::Path::new(d).join(name))
                .find(|p| p.is_file())
        })
        .expect("Chromium is not installed: run .ci/run (the README's test command), or install Debian's chromium");
    let config = chromiumoxide::BrowserConfig::builder()
        .chrome_executable(exe)
        .no_sandbox()
        .user_data_dir(profile.path())
        .arg("headless")
        .arg("disable-gpu")
        .arg("no-first-run")
        .arg("disable-background-networking")
        .arg("disable-component-update")
        .arg("no-proxy-server")
        .build()
        .unwrap();
    let (browser, mut handler) = chromiumoxide::Browser::launch(config).await.unwrap();
    let events = tokio::spawn(async move { while handler.next().await.is_some() {} });
    (browser, events, profile)
}

/// Clicks `selector` and waits for the next document to have loaded (the old one is marked
/// first, so that a click whose navigation has not started yet is not taken for done).
async fn click_and_wait(page: &chromiumoxide::Page, selector: &str) -> String {
    page.evaluate("window.__before_click = true").await.unwrap();
    page.find_element(selector).await.unwrap().click().await.unwrap();
    for _ in 0..100 {
        let old = page.evaluate("window.__before_click === true").await.ok().and_then(|v| v.into_value::<bool>().ok());
        if old == Some(false) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    page.wait_for_navigation().await.unwrap();
    page.content().await.unwrap()
}

/// Types into a form's fields and submits it by clicking `button`; the page after it loads.
async fn fill_and_submit(page: &chromiumoxide::Page, fields: &[(&str, &str)], button: &str) -> String {
    for (selector, text) in fields {
        let field = page.find_element(*selector).await.unwrap();
        if text.is_ascii() {
            field.click().await.unwrap().type_str(*text).await.unwrap();
        } else {
            // Chinese comes through an input method, not keys: set as one would paste it.
            let js =
                format!("document.querySelector({}).value = {}", serde_json::json!(selector), serde_json::json!(text));
            page.evaluate(js).await.unwrap();
        }
    }
    click_and_wait(page, button).await
}

/// Logs `name` in on the login form the page shows.
async fn log_in(page: &chromiumoxide::Page, name: &str) -> String {
    let password = format!("{name}-password");
    fill_and_submit(page, &[("input[name=name]", name), ("input[name=password]", &password)], "button[type=submit]")
        .await
}

/// The main flows in a real browser: log in, filter the site list, open a site, issue a notice,
/// mark an item fixed as the site's team, publish, and read the published results logged out.
#[tokio::test(flavor = "multi_thread")]
async fn the_main_flows_work_in_a_browser() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(&dir.path().join("s.db")).unwrap());
    let ids = tokio::task::spawn_blocking({
        let store = store.clone();
        move || census(&store)
    })
    .await
    .unwrap();
    let a = ids[0];
    let addr = serve(store.clone()).await;
    let (browser, events, _profile) = browser().await;
    let page = browser.new_page(format!("http://{addr}/")).await.unwrap();
    let html = page.content().await.unwrap();
    assert!(html.contains("<h2>登录</h2>"), "the app asks for a login: {html}");
    let html = log_in(&page, "jx").await;
    assert!(html.contains("2 个网站"), "the provincial office's overview: {html}");
    // The site list, filtered by name.
    page.goto(format!("http://{addr}/sites")).await.unwrap();
    let html = fill_and_submit(&page, &[("input[name=q]", "东湖")], "form.filters button").await;
    assert!(html.contains("a.jx.gov.cn") && !html.contains("b.jx.gov.cn"), "filtered: {html}");
    // A site, and a notice on it.
    let html = click_and_wait(&page, &format!("a[href^='/sites/{a}?']")).await;
    assert!(html.contains("首页不更新") && html.contains("[存档]"), "the scorecard: {html}");
    page.evaluate("document.querySelector('input[name=deadline]').value = '2099-01-01'").await.unwrap();
    let html = click_and_wait(&page, "form[action$='/notice'] button").await;
    assert!(html.contains(">整改中<") && html.contains("链接不可用"), "the notice: {html}");
    let notice = page.url().await.unwrap().unwrap();
    // Published for everyone.
    page.goto(format!("http://{addr}/")).await.unwrap();
    click_and_wait(&page, "form[action='/publish'] button").await;
    let public = page.url().await.unwrap().unwrap();
    assert!(public.contains("/public/"), "{public}");
    click_and_wait(&page, "form[action='/logout'] button").await;
    // The site's team marks an item fixed.
    let html = log_in(&page, "team_a").await;
    assert!(html.contains("1 个网站"), "the team's overview: {html}");
    page.goto(notice.clone()).await.unwrap();
    let html = fill_and_submit(
        &page,
        &[("form[action*='/items/'] input[name=note]", "已更新首页")],
        "form[action*='/items/'] button",
    )
    .await;
    assert!(html.contains("已更新首页"), "marked fixed: {html}");
    // The next round finds nothing of the notice: it closes.
    tokio::task::spawn_blocking(move || {
        one_site_round(&store, "2024-10-10T00:00:00+08:00", "http://a.jx.gov.cn/", "pass", 100.0, &[]);
    })
    .await
    .unwrap();
    page.goto(notice.clone()).await.unwrap();
    let html = page.content().await.unwrap();
    assert!(html.contains(">整改完成<") && html.contains(">已整改<"), "verified by the next round: {html}");
    click_and_wait(&page, "form[action='/logout'] button").await;
    // Logged out, the published results are there, and nothing else.
    page.goto(public).await.unwrap();
    let html = page.content().await.unwrap();
    assert!(html.contains("2 个网站") && html.contains(">登录</a>"), "the public page, logged out: {html}");
    page.goto(notice).await.unwrap();
    assert!(page.content().await.unwrap().contains("<h2>登录</h2>"), "a notice is not public");
    drop(page);
    drop(browser);
    events.abort();
}
