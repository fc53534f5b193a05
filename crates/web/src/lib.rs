//! The inspection office's web app (`sitecensus serve`): a census's results by region and role,
//! behind logins. Server-rendered (axum and askama; no script at all), Chinese first with English
//! beside it. Every page but the login asks for a session; every form carries the session's CSRF
//! token; every crawled string is escaped by the templates; an office sees only its region's
//! sites and a site's team only its sites — a site out of scope is "not found", as one that is
//! not there.

pub mod archive;
pub mod auth;

use std::sync::{Arc, LazyLock};

use askama::Template;
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Json, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;
use sitecensus_core::{CheckId, Level};
use sitecensus_store::Store;
use sitecensus_store::accounts::{Role, Session};
use sitecensus_store::browse::{Scope, ScoringInfo, SiteQuery, SiteSort};

/// The language cookie's name (`zh` or `en`).
const LANG_COOKIE: &str = "sc_lang";
/// The session cookie's name.
const SESSION_COOKIE: &str = "sc_session";
/// The login form's CSRF cookie (before there is a session).
const LOGIN_COOKIE: &str = "sc_login";
/// How long a session lasts (8 hours: a working day).
const SESSION_SECS: i64 = 8 * 3600;
/// Failed logins under one name within [`FAILURE_WINDOW_SECS`] after which logins under it are
/// refused until the window has passed.
const MAX_FAILURES: i64 = 5;
/// Failed logins from one address within [`FAILURE_WINDOW_SECS`] after which logins from it are
/// refused, whatever the name: one guesser trying many names (an office behind one NAT has room).
const MAX_ADDRESS_FAILURES: i64 = 20;
/// The window failed logins are counted over (15 minutes).
const FAILURE_WINDOW_SECS: i64 = 15 * 60;
/// Sites per page of the site list.
const PER_PAGE: u32 = 50;
/// What every page may load: nothing from outside, no script at all, its own inline styles.
const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Overviews drawn, by scoring, scope and the number of finished scorings (a finished scoring's
/// figures never change; its trend does when another finishes).
type OverviewCache =
    std::sync::Mutex<std::collections::HashMap<(i64, String, usize), sitecensus_store::browse::Overview>>;

/// Most overviews kept; past it the cache starts afresh.
const OVERVIEWS_KEPT: usize = 256;

/// What the handlers share.
#[derive(Clone)]
struct App {
    store: Arc<Store>,
    /// Overviews already drawn: a national one reads every finding of the round.
    overviews: Arc<OverviewCache>,
    /// Whether cookies are marked `Secure` (the app is served over HTTPS, or behind a proxy that is).
    secure_cookies: bool,
}

/// The app's routes over a store. `secure_cookies` marks the cookies `Secure`: set it when the
/// app is reached over HTTPS.
pub fn router(store: Arc<Store>, secure_cookies: bool) -> Router {
    Router::new()
        .route("/", get(overview))
        .route("/login", get(login_form).post(login))
        .route("/lang/{lang}", get(set_lang))
        .route("/logout", axum::routing::post(logout))
        .route("/sites", get(sites))
        .route("/sites/{id}", get(site))
        .route("/audit", get(audit))
        .route("/publish", axum::routing::post(publish))
        .route("/sites/{id}/notice", axum::routing::post(issue_notice))
        .route("/notices", get(notices))
        .route("/notices/{id}", get(notice))
        .route("/notices/{id}/items/{item}/fixed", axum::routing::post(mark_fixed))
        .route("/archive/{scoring}/{site}", get(archived))
        .route("/screenshot/{scoring}/{site}/{n}", get(screenshot))
        .route("/public", get(public_list))
        .route("/public/{p}", get(public_overview))
        .route("/public/{p}/sites", get(public_sites))
        .route("/public/{p}/sites/{id}", get(public_site))
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/scorings", get(api_scorings))
        .route("/api/v1/overview", get(api_overview))
        .route("/api/v1/sites", get(api_sites))
        .route("/api/v1/sites/{id}", get(api_site))
        .layer(axum::middleware::map_response(security_headers))
        .layer(axum::middleware::from_fn(in_language))
        .with_state(App { store, secure_cookies, overviews: Arc::default() })
}

/// Serves the app on `listener` until the process ends.
///
/// # Errors
/// When the listener fails.
pub async fn serve(store: Arc<Store>, listener: tokio::net::TcpListener, secure_cookies: bool) -> std::io::Result<()> {
    let app = router(store, secure_cookies).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app).await
}

tokio::task_local! {
    /// Whether the request being answered is in English (the language cookie), for what is
    /// drawn without the request at hand: messages and the navigation bar.
    static ENGLISH: bool;
}

/// Answers the request in the language its cookie asks for.
async fn in_language(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let en = english(req.headers());
    ENGLISH.scope(en, next.run(req)).await
}

/// Whether the request being answered is in English.
fn in_english() -> bool {
    ENGLISH.try_with(|en| *en).unwrap_or(false)
}

/// A text in Chinese and in English: (中文, English).
type Words<'a> = (&'a str, &'a str);

/// The half of `w` in the request's language.
fn say(w: Words<'_>) -> &str {
    if in_english() { w.1 } else { w.0 }
}

async fn security_headers(mut r: Response) -> Response {
    let h = r.headers_mut();
    // An archived page carries its own, stricter policy.
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    }
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// Runs blocking store work off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, sitecensus_store::StoreError> + Send + 'static,
) -> Result<T, Response> {
    match tokio::task::spawn_blocking(f).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => {
            tracing::error!("store: {e}");
            Err(message(
                StatusCode::INTERNAL_SERVER_ERROR,
                ERROR,
                ("数据库出错，请稍后再试。", "The store failed; try again later."),
            ))
        }
        Err(e) => {
            tracing::error!("store task: {e}");
            Err(message(StatusCode::INTERNAL_SERVER_ERROR, ERROR, FAILED))
        }
    }
}

#[derive(Template)]
#[template(path = "message.html")]
struct Message<'a> {
    title: &'a str,
    message: &'a str,
}

impl Labels for Message<'_> {}

/// A message's title when something failed.
const ERROR: Words = ("出错了", "Error");
/// A message's text when a request failed.
const FAILED: Words = ("请求未能完成，请稍后再试。", "The request failed; try again later.");

/// A page saying `text` under `title`, in the request's language.
fn message(status: StatusCode, title: Words<'_>, text: Words<'_>) -> Response {
    let m = Message { title: say(title), message: say(text) };
    (status, Html(m.render().unwrap_or_default())).into_response()
}

fn not_found() -> Response {
    message(
        StatusCode::NOT_FOUND,
        ("未找到", "Not found"),
        ("没有这个页面，或您无权查看。", "There is no such page, or it is not yours to see."),
    )
}

fn page(t: &impl Template) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!("template: {e}");
            message(StatusCode::INTERNAL_SERVER_ERROR, ERROR, ("页面未能生成。", "The page could not be drawn."))
        }
    }
}

/// A cookie's value from the request.
fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn set_cookie(app: &App, name: &str, value: &str, max_age: i64) -> HeaderValue {
    let secure = if app.secure_cookies { "; Secure" } else { "" };
    HeaderValue::from_str(&format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"))
        .expect("cookie values are hex")
}

/// The session of the request, or the way to the login page.
async fn session(app: &App, headers: &HeaderMap) -> Result<Session, Response> {
    session_or(app, headers, || Redirect::to("/login").into_response()).await
}

/// The session of the request, or `none()` when there is none.
async fn session_or(app: &App, headers: &HeaderMap, none: impl Fn() -> Response) -> Result<Session, Response> {
    let Some(token) = cookie(headers, SESSION_COOKIE).filter(|t| t.len() == 64) else {
        return Err(none());
    };
    let digest = auth::token_digest(token);
    let store = app.store.clone();
    match blocking(move || store.session(&digest)).await? {
        Some(s) => Ok(s),
        None => Err(none()),
    }
}

/// The session of a form's request, when its CSRF token is the session's and its user's role
/// may do what the form does (`refusal` says why not otherwise).
async fn form_session(
    app: &App,
    headers: &HeaderMap,
    csrf: &str,
    allowed: fn(Role) -> bool,
    refusal: Words<'_>,
) -> Result<Session, Response> {
    let s = session(app, headers).await?;
    if !csrf_ok(&s.csrf, csrf) {
        return Err(refused_csrf());
    }
    if !allowed(s.user.role) {
        return Err(message(StatusCode::FORBIDDEN, ("无权操作", "Not allowed"), refusal));
    }
    Ok(s)
}

/// Whether a form's CSRF token is the session's (compared in constant time).
fn csrf_ok(expected: &str, given: &str) -> bool {
    expected.len() == given.len() && expected.bytes().zip(given.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

fn refused_csrf() -> Response {
    message(
        StatusCode::FORBIDDEN,
        ("请求被拒绝", "Refused"),
        (
            "表单已过期或来源不明，请刷新页面后再试。",
            "The form's token is missing or wrong: reload the page and try again.",
        ),
    )
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    csrf: String,
    error: Option<&'static str>,
}

impl Labels for LoginPage {}

async fn login_form(State(app): State<App>) -> Response {
    login_page(&app, None, StatusCode::OK)
}

fn login_page(app: &App, error: Option<Words<'static>>, status: StatusCode) -> Response {
    let Ok(csrf) = auth::random_hex(32) else {
        return message(StatusCode::INTERNAL_SERVER_ERROR, ERROR, FAILED);
    };
    let mut r = page(&LoginPage { csrf: csrf.clone(), error: error.map(say) });
    *r.status_mut() = status;
    r.headers_mut().append(header::SET_COOKIE, set_cookie(app, LOGIN_COOKIE, &csrf, 3600));
    r
}

/// The login form.
#[derive(Deserialize)]
struct LoginForm {
    name: String,
    password: String,
    #[serde(default)]
    csrf: String,
}

/// The client's address: the connection's peer, or, when the peer is this machine (a reverse
/// proxy in front of the app), the last address the proxy added to `X-Forwarded-For`.
fn client_address(peer: std::net::SocketAddr, headers: &HeaderMap) -> String {
    if peer.ip().is_loopback()
        && let Some(forwarded) = headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|a| a.trim().parse::<std::net::IpAddr>().ok())
    {
        return forwarded.to_string();
    }
    peer.ip().to_string()
}

async fn login(
    State(app): State<App>,
    axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Response {
    if !cookie(&headers, LOGIN_COOKIE).is_some_and(|c| csrf_ok(c, &f.csrf)) {
        return refused_csrf();
    }
    let (Ok(token), Ok(csrf)) = (auth::random_hex(32), auth::random_hex(32)) else {
        return message(StatusCode::INTERNAL_SERVER_ERROR, ERROR, FAILED);
    };
    let store = app.store.clone();
    let name = f.name.trim().to_owned();
    let address = client_address(peer, &headers);
    let checked = blocking(move || {
        let (by_name, by_address) = store.failed_logins(&name, &address, FAILURE_WINDOW_SECS)?;
        if by_name >= MAX_FAILURES || by_address >= MAX_ADDRESS_FAILURES {
            let why = if by_name >= MAX_FAILURES { "under this name" } else { "from this address" };
            store.audit(Some(&name), "login_refused", &format!("too many failed logins {why} ({address})"))?;
            return Ok(Err(true));
        }
        let user = store.user(&name)?.filter(|u| !u.disabled);
        // An unknown name costs a hash too, so that timing does not tell which names exist.
        let hash = user.as_ref().map_or(DUMMY_HASH.as_str(), |u| u.password_hash.as_str());
        let right = auth::verify_password(&f.password, hash);
        if let Some(user) = user.filter(|_| right) {
            store.start_session(&auth::token_digest(&token), user.id, &csrf, SESSION_SECS)?;
            store.audit(Some(&user.name), "login", "")?;
            return Ok(Ok(token));
        }
        store.note_failed_login(&name, &address, FAILURE_WINDOW_SECS)?;
        store.audit(None, "login_failed", &format!("name {name:?} from {address}"))?;
        Ok(Err(false))
    })
    .await;
    match checked {
        Err(r) => r,
        Ok(Ok(token)) => {
            let mut r = Redirect::to("/").into_response();
            r.headers_mut().append(header::SET_COOKIE, set_cookie(&app, SESSION_COOKIE, &token, SESSION_SECS));
            r.headers_mut().append(header::SET_COOKIE, set_cookie(&app, LOGIN_COOKIE, "", 0));
            r
        }
        Ok(Err(true)) => login_page(
            &app,
            Some(("登录失败次数过多，请 15 分钟后再试。", "Too many failed logins: try again in 15 minutes.")),
            StatusCode::TOO_MANY_REQUESTS,
        ),
        Ok(Err(false)) => {
            login_page(&app, Some(("用户名或密码错误。", "Wrong name or password.")), StatusCode::UNAUTHORIZED)
        }
    }
}

/// A hash of a random password nobody has, checked against when the name is unknown.
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| auth::random_hex(16).and_then(|p| auth::hash_password(&p)).unwrap_or_default());

/// A form that carries only its CSRF token.
#[derive(Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

async fn logout(State(app): State<App>, headers: HeaderMap, Form(f): Form<CsrfForm>) -> Response {
    let s = match session(&app, &headers).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    if !csrf_ok(&s.csrf, &f.csrf) {
        return refused_csrf();
    }
    let digest = cookie(&headers, SESSION_COOKIE).map(auth::token_digest).unwrap_or_default();
    let store = app.store.clone();
    let name = s.user.name.clone();
    if let Err(r) = blocking(move || {
        store.end_session(&digest)?;
        store.audit(Some(&name), "logout", "")
    })
    .await
    {
        return r;
    }
    let mut r = Redirect::to("/login").into_response();
    r.headers_mut().append(header::SET_COOKIE, set_cookie(&app, SESSION_COOKIE, "", 0));
    r
}

/// The navigation bar's facts about the user.
struct Nav {
    user: String,
    role: &'static str,
    region: Option<String>,
    csrf: String,
    admin: bool,
}

fn nav(s: &Session) -> Option<Nav> {
    let role = match s.user.role {
        Role::Admin => ("管理员", "admin"),
        Role::National => ("国家", "national office"),
        Role::Province => ("省级", "provincial office"),
        Role::City => ("市级", "city office"),
        Role::SiteTeam => ("网站", "site team"),
        Role::Auditor => ("审计", "auditor"),
    };
    let role = say(role);
    Some(Nav {
        user: s.user.name.clone(),
        role,
        region: s.user.region.clone(),
        csrf: s.csrf.clone(),
        admin: s.user.role == Role::Admin,
    })
}

/// Whether a role may publish results (its region's, for an office).
fn may_publish(role: Role) -> bool {
    matches!(role, Role::Admin | Role::National | Role::Province | Role::City)
}

/// Labels shared by the pages.
trait Labels {
    /// Whether the page is in English: the request's language (see [`in_english`]).
    fn en(&self) -> bool {
        in_english()
    }
    /// `zh` on a page in Chinese, `en` on one in English: every heading and label.
    fn t<'a>(&self, zh: &'a str, en: &'a str) -> &'a str {
        if self.en() { en } else { zh }
    }
    fn verdict(&self, v: &str) -> &'static str {
        match (v == "pass", self.en()) {
            (true, false) => "合格",
            (false, false) => "不合格",
            (true, true) => "pass",
            (false, true) => "fail",
        }
    }
    fn kind(&self, k: &sitecensus_core::rubric::ColumnKind) -> &'static str {
        if self.en() { k.as_str() } else { k.name_zh() }
    }
    fn level(&self, l: &str) -> String {
        match Level::parse(l) {
            Some(level) if !self.en() => level.name_zh().to_owned(),
            _ => l.to_owned(),
        }
    }
    fn region_label(&self, code: &str) -> String {
        if code.is_empty() {
            return self.t("未注明", "none").to_owned();
        }
        sitecensus_core::region::label(code)
    }
    fn check_name<'a>(&self, id: &'a str) -> &'a str {
        if self.en() {
            return id;
        }
        CheckId::parse(id).map_or(id, |c| c.name_zh())
    }
    fn severity(&self, s: &str) -> &'static str {
        if self.en() {
            return match s {
                "veto" => "veto",
                "deduct" => "deduct",
                "warn" => "warn",
                _ => "info",
            };
        }
        match s {
            "veto" => "单项否决",
            "deduct" => "扣分",
            "warn" => "预警",
            _ => "提示",
        }
    }
    /// A round without a name: 第 3 批 / Run 3.
    fn round(&self, run_id: &i64) -> String {
        if self.en() { format!("Run {run_id}") } else { format!("第 {run_id} 批") }
    }
    fn linkable(&self, url: &str) -> bool {
        let l = url.trim_start().to_ascii_lowercase();
        l.starts_with("http://") || l.starts_with("https://")
    }
}

/// The scoring a page shows: the one asked for if it is finished, else the latest.
fn pick(scorings: &[ScoringInfo], asked: Option<i64>) -> Option<ScoringInfo> {
    asked.and_then(|id| scorings.iter().find(|s| s.id == id)).or_else(|| scorings.first()).cloned()
}

#[derive(Deserialize, Default)]
struct OverviewQuery {
    scoring: Option<i64>,
}

#[derive(Template)]
#[template(path = "overview.html")]
struct OverviewPage {
    nav: Option<Nav>,
    /// Where the page's links go: empty for a user's pages, `/public/3` for a publication's.
    base: String,
    /// The publication the page shows, on a public page.
    published: Option<sitecensus_store::browse::Publication>,
    /// Whether the user may publish these results.
    can_publish: bool,
    scoring: Option<ScoringInfo>,
    scorings: Vec<ScoringInfo>,
    o: sitecensus_store::browse::Overview,
}

impl Labels for OverviewPage {}

impl OverviewPage {
    fn pass_rate(&self) -> f64 {
        self.rate(&self.o.pass, &self.o.sites)
    }
    fn rate(&self, pass: &i64, n: &i64) -> f64 {
        if *n == 0 { 0.0 } else { *pass as f64 / *n as f64 }
    }
    /// A bar's width for `part` of `whole`.
    fn share(&self, part: &i64, whole: &i64) -> i64 {
        if *whole == 0 { 0 } else { part * 300 / whole }
    }
    fn bar(&self, n: &i64) -> i64 {
        self.share(n, &self.o.sites)
    }
}

async fn overview(State(app): State<App>, headers: HeaderMap, Query(q): Query<OverviewQuery>) -> Response {
    let s = match session(&app, &headers).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    match overview_of(&app, auth::scope_of(&s.user), q.scoring).await {
        Ok((scorings, scoring, o)) => page(&OverviewPage {
            nav: nav(&s),
            base: String::new(),
            published: None,
            can_publish: may_publish(s.user.role),
            scoring,
            scorings,
            o,
        }),
        Err(r) => r,
    }
}

/// The finished scorings, the one asked for (or the latest), and its figures within `scope`.
async fn overview_of(
    app: &App,
    scope: Scope,
    asked: Option<i64>,
) -> Result<(Vec<ScoringInfo>, Option<ScoringInfo>, sitecensus_store::browse::Overview), Response> {
    let (store, cache) = (app.store.clone(), app.overviews.clone());
    blocking(move || {
        let scorings = store.finished_scorings()?;
        let scoring = pick(&scorings, asked);
        let o = match &scoring {
            Some(g) => cached_overview(&store, &cache, g.id, &scope, scorings.len())?,
            None => sitecensus_store::browse::Overview::default(),
        };
        Ok((scorings, scoring, o))
    })
    .await
}

/// A scoring's overview within `scope`, drawn once per `finished` count of scorings.
fn cached_overview(
    store: &Store,
    cache: &OverviewCache,
    scoring: i64,
    scope: &Scope,
    finished: usize,
) -> Result<sitecensus_store::browse::Overview, sitecensus_store::StoreError> {
    let key = (scoring, format!("{scope:?}"), finished);
    if let Some(o) = cache.lock().expect("cache lock").get(&key) {
        return Ok(o.clone());
    }
    let o = store.overview(scoring, scope)?;
    let mut c = cache.lock().expect("cache lock");
    if c.len() >= OVERVIEWS_KEPT {
        c.clear();
    }
    c.insert(key, o.clone());
    Ok(o)
}

/// The site list's filters as the URL carries them.
#[derive(Deserialize, Default, Clone)]
struct SitesQuery {
    scoring: Option<i64>,
    #[serde(default)]
    q: String,
    #[serde(default)]
    level: String,
    #[serde(default)]
    region: String,
    #[serde(default)]
    verdict: String,
    #[serde(default)]
    veto: String,
    #[serde(default)]
    check: String,
    #[serde(default)]
    sort: String,
    #[serde(default)]
    page: u32,
}

/// A page of the site list of the scoring asked for (or the latest) within `scope`: the scoring,
/// the sites that match in all, and the page's; None when nothing is scored yet.
async fn site_lines(
    app: &App,
    scope: Scope,
    asked: Option<i64>,
    q: SiteQuery,
) -> Result<Option<(i64, i64, Vec<sitecensus_store::browse::SiteLine>)>, Response> {
    let store = app.store.clone();
    blocking(move || {
        let scorings = store.finished_scorings()?;
        let Some(scoring) = pick(&scorings, asked) else { return Ok(None) };
        let (total, lines) = store.site_lines(scoring.id, &scope, &q)?;
        Ok(Some((scoring.id, total, lines)))
    })
    .await
}

impl SitesQuery {
    /// The store's query for these filters.
    fn query(&self) -> SiteQuery {
        SiteQuery {
            text: Some(self.q.clone()),
            level: Some(self.level.clone()),
            region: Some(self.region.trim().to_owned()),
            verdict: Some(self.verdict.clone()),
            veto_item: Some(self.veto.clone()),
            check: Some(self.check.clone()),
            sort: SiteSort::parse(&self.sort).unwrap_or_default(),
            page: self.page,
            per_page: PER_PAGE,
        }
    }

    /// The list's address (under `base`) with these filters on page `page`.
    fn url(&self, base: &str, scoring: i64, page: u32) -> String {
        let enc = urlencode;
        format!(
            "{base}/sites?scoring={scoring}&q={}&level={}&region={}&verdict={}&veto={}&check={}&sort={}&page={page}",
            enc(&self.q),
            enc(&self.level),
            enc(&self.region),
            enc(&self.verdict),
            enc(&self.veto),
            enc(&self.check),
            enc(&self.sort)
        )
    }
}

#[derive(Template)]
#[template(path = "sites.html")]
struct SitesPage {
    nav: Option<Nav>,
    base: String,
    scoring_id: i64,
    f: SitesQuery,
    total: i64,
    lines: Vec<sitecensus_store::browse::SiteLine>,
    page: u32,
    pages: i64,
    prev: Option<String>,
    next: Option<String>,
    levels: Vec<(&'static str, &'static str)>,
    checks: Vec<(&'static str, &'static str)>,
    sorts: Vec<(&'static str, &'static str)>,
}

impl Labels for SitesPage {}

async fn sites(State(app): State<App>, headers: HeaderMap, Query(f): Query<SitesQuery>) -> Response {
    let s = match session(&app, &headers).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    sites_page(&app, nav(&s), String::new(), auth::scope_of(&s.user), f).await
}

/// The site list under `base`, within `scope`.
async fn sites_page(app: &App, nav: Option<Nav>, base: String, scope: Scope, f: SitesQuery) -> Response {
    let en = in_english();
    let loaded = site_lines(app, scope, f.scoring, f.query()).await;
    let (scoring_id, total, lines) = match loaded {
        Ok(Some(v)) => v,
        Ok(None) => return Redirect::to("/").into_response(),
        Err(r) => return r,
    };
    let pages = ((total + i64::from(PER_PAGE) - 1) / i64::from(PER_PAGE)).max(1);
    let prev = (f.page > 0).then(|| f.url(&base, scoring_id, f.page - 1));
    let next = (i64::from(f.page) + 1 < pages).then(|| f.url(&base, scoring_id, f.page + 1));
    let levels = [Level::National, Level::Provincial, Level::City, Level::County, Level::Township]
        .iter()
        .map(|l| (l.as_str(), if en { l.as_str() } else { l.name_zh() }))
        .collect();
    let checks = CheckId::ALL.iter().map(|c| (c.as_str(), if en { c.as_str() } else { c.name_zh() })).collect();
    let sorts = vec![
        ("rank", say(("排名", "rank"))),
        ("score", say(("得分从低到高", "lowest score"))),
        ("region", say(("地区", "region"))),
        ("name", say(("名称", "name"))),
    ];
    page(&SitesPage { nav, base, scoring_id, page: f.page, f, total, lines, pages, prev, next, levels, checks, sorts })
}

#[derive(Template)]
#[template(path = "site.html")]
struct SitePage {
    nav: Option<Nav>,
    c: sitecensus_store::browse::SiteCard,
    /// The site's results across rounds (not on public pages: only what is published shows there).
    history: Vec<sitecensus_store::browse::HistoryLine>,
    /// The scoring shown.
    scoring_id: i64,
    /// Whether the user may issue a rectification notice for the site.
    can_notify: bool,
}

impl Labels for SitePage {}

async fn site(
    State(app): State<App>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<OverviewQuery>,
) -> Response {
    let s = match session(&app, &headers).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let Ok(site_id) = id.parse::<i64>() else { return not_found() };
    let scope = auth::scope_of(&s.user);
    let (c, scoring_id) = match site_card(&app, scope.clone(), q.scoring, site_id).await {
        Ok(Some(c)) => c,
        Ok(None) => return not_found(),
        Err(r) => return r,
    };
    let store = app.store.clone();
    let url = c.line.url.clone();
    match blocking(move || store.site_history(&url, &scope)).await {
        Ok(history) => {
            let can_notify = may_notify(s.user.role);
            page(&SitePage { nav: nav(&s), c, history, scoring_id, can_notify })
        }
        Err(r) => r,
    }
}

/// A site's card in the scoring asked for (or the latest), if it is there and within `scope`,
/// with the scoring's id.
async fn site_card(
    app: &App,
    scope: Scope,
    asked: Option<i64>,
    site_id: i64,
) -> Result<Option<(sitecensus_store::browse::SiteCard, i64)>, Response> {
    let store = app.store.clone();
    blocking(move || {
        let scorings = store.finished_scorings()?;
        let Some(scoring) = pick(&scorings, asked) else { return Ok(None) };
        Ok(store.site_card(scoring.id, site_id, &scope)?.map(|c| (c, scoring.id)))
    })
    .await
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    nav: Option<Nav>,
    lines: Vec<sitecensus_store::accounts::AuditLine>,
}

impl Labels for AuditPage {}

async fn audit(State(app): State<App>, headers: HeaderMap) -> Response {
    let s = match session(&app, &headers).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    if s.user.role != Role::Admin {
        return not_found();
    }
    let store = app.store.clone();
    match blocking(move || store.audit_log(500)).await {
        Ok(lines) => page(&AuditPage { nav: nav(&s), lines }),
        Err(r) => r,
    }
}

/// What a scope lets a user see, said for the command line (`user list`).
#[must_use]
pub fn describe_scope(scope: &Scope) -> String {
    match scope {
        Scope::All => "all sites".to_owned(),
        Scope::Region(p) => format!("region codes {p}…"),
        Scope::Sites(s) => format!("{} site(s)", s.len()),
    }
}

/// The JSON API's answer when the request has no session.
fn api_unauthorized() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        Json(serde_json::json!({"error": "log in first: POST /login, then send the sc_session cookie"})),
    )
        .into_response()
}

fn api_not_found() -> Response {
    (StatusCode::NOT_FOUND, Json(serde_json::json!({"error": "no such site in this scoring, or not yours to see"})))
        .into_response()
}

/// The OpenAPI document of the JSON API.
async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], include_str!("../openapi.json")).into_response()
}

async fn api_scorings(State(app): State<App>, headers: HeaderMap) -> Response {
    if let Err(r) = session_or(&app, &headers, api_unauthorized).await {
        return r;
    }
    let store = app.store.clone();
    match blocking(move || store.finished_scorings()).await {
        Ok(list) => Json(serde_json::json!({"scorings": list})).into_response(),
        Err(r) => r,
    }
}

async fn api_overview(State(app): State<App>, headers: HeaderMap, Query(q): Query<OverviewQuery>) -> Response {
    let s = match session_or(&app, &headers, api_unauthorized).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    match overview_of(&app, auth::scope_of(&s.user), q.scoring).await {
        Ok((_, scoring, o)) => Json(serde_json::json!({"scoring": scoring, "overview": o})).into_response(),
        Err(r) => r,
    }
}

async fn api_sites(State(app): State<App>, headers: HeaderMap, Query(f): Query<SitesQuery>) -> Response {
    let s = match session_or(&app, &headers, api_unauthorized).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    match site_lines(&app, auth::scope_of(&s.user), f.scoring, f.query()).await {
        Ok(Some((scoring, total, sites))) => Json(serde_json::json!({
            "scoring": scoring, "total": total, "page": f.page, "per_page": PER_PAGE, "sites": sites
        }))
        .into_response(),
        Ok(None) => {
            Json(serde_json::json!({"scoring": null, "total": 0, "page": 0, "per_page": PER_PAGE, "sites": []}))
                .into_response()
        }
        Err(r) => r,
    }
}

async fn api_site(
    State(app): State<App>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<OverviewQuery>,
) -> Response {
    let s = match session_or(&app, &headers, api_unauthorized).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let Ok(site_id) = id.parse::<i64>() else { return api_not_found() };
    match site_card(&app, auth::scope_of(&s.user), q.scoring, site_id).await {
        Ok(Some((c, _))) => Json(c).into_response(),
        Ok(None) => api_not_found(),
        Err(r) => r,
    }
}

/// The publish form.
#[derive(Deserialize)]
struct PublishForm {
    #[serde(default)]
    csrf: String,
    scoring: i64,
    #[serde(default)]
    region: String,
}

/// Publishes a scoring: an office its region's part, the national office or an administrator
/// every site or a region's.
async fn publish(State(app): State<App>, headers: HeaderMap, Form(f): Form<PublishForm>) -> Response {
    let s = match form_session(
        &app,
        &headers,
        &f.csrf,
        may_publish,
        ("您的角色不能公开检查结果。", "Your role does not publish results."),
    )
    .await
    {
        Ok(s) => s,
        Err(r) => return r,
    };
    let region = match s.user.role {
        Role::Province | Role::City => s.user.region.clone(),
        _ => Some(auth::region_prefix(&f.region)).filter(|r| !r.is_empty()),
    };
    if region.as_deref().is_some_and(|r| !r.bytes().all(|b| b.is_ascii_digit())) {
        return message(
            StatusCode::BAD_REQUEST,
            ("地区代码有误", "Wrong region code"),
            ("地区代码应为数字（如 360000）。", "A region code is digits (360000)."),
        );
    }
    let store = app.store.clone();
    let name = s.user.name.clone();
    let published = blocking(move || {
        let id = store.publish(f.scoring, region.as_deref(), &name)?;
        store.audit(
            Some(&name),
            "publish",
            &format!("scoring {} region {}", f.scoring, region.as_deref().unwrap_or("all")),
        )?;
        Ok(id)
    })
    .await;
    match published {
        Ok(id) => Redirect::to(&format!("/public/{id}")).into_response(),
        Err(r) => r,
    }
}

#[derive(Template)]
#[template(path = "public.html")]
struct PublicList {
    nav: Option<Nav>,
    list: Vec<sitecensus_store::browse::Publication>,
}

impl Labels for PublicList {}

/// The user's navigation, where the request has a session (public pages need none).
async fn nav_if_any(app: &App, headers: &HeaderMap) -> Option<Nav> {
    session_or(app, headers, || StatusCode::OK.into_response()).await.ok().and_then(|s| nav(&s))
}

async fn public_list(State(app): State<App>, headers: HeaderMap) -> Response {
    let nav = nav_if_any(&app, &headers).await;
    let store = app.store.clone();
    match blocking(move || store.publications()).await {
        Ok(list) => page(&PublicList { nav, list }),
        Err(r) => r,
    }
}

/// The publication of an address, if there is one.
async fn publication(app: &App, id: &str) -> Result<sitecensus_store::browse::Publication, Response> {
    let Ok(id) = id.parse::<i64>() else { return Err(not_found()) };
    let store = app.store.clone();
    blocking(move || store.publications()).await?.into_iter().find(|p| p.id == id).ok_or_else(not_found)
}

async fn public_overview(State(app): State<App>, headers: HeaderMap, Path(p): Path<String>) -> Response {
    let published = match publication(&app, &p).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let nav = nav_if_any(&app, &headers).await;
    let (scoring, scope) = (published.scoring.id, published.scope());
    let store = app.store.clone();
    let cache = app.overviews.clone();
    match blocking(move || {
        let finished = store.finished_scorings()?.len();
        cached_overview(&store, &cache, scoring, &scope, finished)
    })
    .await
    {
        Ok(mut o) => page(&OverviewPage {
            nav,
            base: format!("/public/{}", published.id),
            scoring: Some(published.scoring.clone()),
            published: Some(published),
            can_publish: false,
            scorings: Vec::new(),
            o: {
                // Other rounds are not published with this one.
                o.trend.clear();
                o
            },
        }),
        Err(r) => r,
    }
}

async fn public_sites(
    State(app): State<App>,
    headers: HeaderMap,
    Path(p): Path<String>,
    Query(mut f): Query<SitesQuery>,
) -> Response {
    let published = match publication(&app, &p).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    f.scoring = Some(published.scoring.id);
    let nav = nav_if_any(&app, &headers).await;
    sites_page(&app, nav, format!("/public/{}", published.id), published.scope(), f).await
}

async fn public_site(State(app): State<App>, headers: HeaderMap, Path((p, id)): Path<(String, String)>) -> Response {
    let published = match publication(&app, &p).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let Ok(site_id) = id.parse::<i64>() else { return not_found() };
    let nav = nav_if_any(&app, &headers).await;
    match site_card(&app, published.scope(), Some(published.scoring.id), site_id).await {
        Ok(Some((c, scoring_id))) => page(&SitePage { nav, c, history: Vec::new(), scoring_id, can_notify: false }),
        Ok(None) => not_found(),
        Err(r) => r,
    }
}

/// What an archived page may do in the browser: nothing. A sandbox (an origin of its own, no
/// script, no form, no cookie of the app's), no request anywhere, its own inline styles only.
const ARCHIVE_CSP: &str =
    "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'";

/// The archived page behind a finding.
#[derive(Deserialize)]
struct ArchiveQuery {
    url: String,
    /// The finding (its place on the scorecard) whose quote is marked in the text view.
    finding: Option<usize>,
    /// Serve the page itself (sandboxed) rather than its text with the quote marked.
    #[serde(default)]
    raw: bool,
}

#[derive(Template)]
#[template(path = "archive.html")]
struct ArchivePage {
    nav: Option<Nav>,
    url: String,
    status: u16,
    fetched_at: Option<String>,
    raw: String,
    evidence: Option<String>,
    quote: Option<String>,
    marks: usize,
    parts: Vec<(String, bool)>,
}

impl Labels for ArchivePage {}

/// Most characters of an archived page's text shown.
const TEXT_SHOWN: usize = 200_000;

/// `text` cut into runs, those equal to `quote` marked: how many were, and the runs.
fn mark(text: &str, quote: Option<&str>) -> (usize, Vec<(String, bool)>) {
    let Some(q) = quote.filter(|q| !q.is_empty()) else { return (0, vec![(text.to_owned(), false)]) };
    let mut parts = Vec::new();
    let mut rest = text;
    let mut marks = 0;
    while let Some(at) = rest.find(q) {
        parts.push((rest[..at].to_owned(), false));
        parts.push((q.to_owned(), true));
        marks += 1;
        rest = &rest[at + q.len()..];
    }
    parts.push((rest.to_owned(), false));
    (marks, parts)
}

/// A finding's page as the run archived it (its WARC record), for a user who may see the site:
/// only the addresses the site's findings and homepage name, served under [`ARCHIVE_CSP`].
async fn archived(
    State(app): State<App>,
    headers: HeaderMap,
    Path((scoring, site)): Path<(String, String)>,
    Query(q): Query<ArchiveQuery>,
) -> Response {
    let s = match session(&app, &headers).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let (Ok(scoring), Ok(site_id)) = (scoring.parse::<i64>(), site.parse::<i64>()) else { return not_found() };
    let (card, scoring) = match site_card(&app, auth::scope_of(&s.user), Some(scoring), site_id).await {
        Ok(Some((card, id))) if id == scoring => (card, id),
        Ok(_) => return not_found(),
        Err(r) => return r,
    };
    let named = card.line.url == q.url
        || card.final_url.as_deref() == Some(q.url.as_str())
        || card
            .findings
            .iter()
            .any(|f| f.page.as_deref() == Some(q.url.as_str()) || f.target.as_deref() == Some(q.url.as_str()));
    if !named {
        return not_found();
    }
    let store = app.store.clone();
    let url = q.url.clone();
    let found = blocking(move || {
        let run = store.finished_scorings()?.into_iter().find(|g| g.id == scoring).map(|g| (g.run_id, g.as_of));
        Ok(match run {
            Some((run, as_of)) => Some((store.run_files(run, "warc")?, as_of)),
            None => None,
        })
    })
    .await;
    let (files, as_of) = match found {
        Ok(Some((files, as_of))) if !files.is_empty() => (files, as_of),
        Ok(_) => {
            return message(
                StatusCode::NOT_FOUND,
                ("未存档", "Not archived"),
                (
                    "这次检查没有保存网页存档（扫描时未使用 --warc）。",
                    "This run kept no WARC archive (it was scanned without --warc).",
                ),
            );
        }
        Err(r) => return r,
    };
    let read = tokio::task::spawn_blocking(move || archive::find(&files, &url)).await;
    match read {
        Ok(Ok(Some(a))) if !q.raw => {
            let finding = q.finding.and_then(|n| card.findings.get(n));
            let page_url = url::Url::parse(&q.url).ok();
            let text = match page_url {
                Some(u) => {
                    let day = sitecensus_core::AsOf::parse(&as_of).map_or_else(|_| Default::default(), |a| a.date());
                    let opts = sitecensus_extract::Options { as_of: day, homepage: None };
                    sitecensus_extract::extract(&a.body, a.content_type.as_deref(), &u, &opts).text
                }
                None => String::new(),
            };
            let text: String = text.chars().take(TEXT_SHOWN).collect();
            let quote = finding.and_then(|f| f.quote.clone());
            let (marks, parts) = mark(&text, quote.as_deref());
            let en = in_english();
            page(&ArchivePage {
                nav: nav(&s),
                raw: format!("/archive/{scoring}/{site_id}?url={}&raw=true", urlencode(&q.url)),
                url: q.url.clone(),
                status: a.status,
                fetched_at: a.date,
                evidence: finding.map(|f| {
                    if en { f.evidence.clone() } else { f.evidence_zh.clone().unwrap_or_else(|| f.evidence.clone()) }
                }),
                quote,
                marks,
                parts,
            })
        }
        Ok(Ok(Some(a))) => {
            let mut r = (StatusCode::OK, a.body).into_response();
            let h = r.headers_mut();
            let kind = a.content_type.as_deref().and_then(|t| HeaderValue::from_str(t).ok());
            h.insert(header::CONTENT_TYPE, kind.unwrap_or(HeaderValue::from_static("application/octet-stream")));
            h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(ARCHIVE_CSP));
            h.insert("x-sitecensus-archived-status", HeaderValue::from(a.status));
            if let Some(date) = a.date.and_then(|d| HeaderValue::from_str(&d).ok()) {
                h.insert("x-sitecensus-archived-at", date);
            }
            r
        }
        Ok(Ok(None)) => message(
            StatusCode::NOT_FOUND,
            ("未存档", "Not archived"),
            ("这个地址不在这次检查的存档中。", "This address is not in the run's archive."),
        ),
        Ok(Err(e)) => {
            tracing::error!("archive: {e}");
            let e = e.to_string();
            message(StatusCode::INTERNAL_SERVER_ERROR, ("无法读取存档", "Could not read the archive"), (&e, &e))
        }
        Err(e) => {
            tracing::error!("archive task: {e}");
            message(StatusCode::INTERNAL_SERVER_ERROR, ERROR, FAILED)
        }
    }
}

/// Where a notice stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NoticeStatus {
    /// Within its deadline, not verified yet.
    Open,
    /// The next round found every item fixed.
    Closed,
    /// The next round found items still there, within the deadline.
    StillThere,
    /// Past its deadline and not closed.
    Overdue,
}

impl NoticeStatus {
    fn label(self) -> &'static str {
        say(match self {
            NoticeStatus::Open => ("整改中", "open"),
            NoticeStatus::Closed => ("整改完成", "closed"),
            NoticeStatus::StillThere => ("复查未通过", "items still there"),
            NoticeStatus::Overdue => ("逾期", "overdue"),
        })
    }

    fn class(self) -> &'static str {
        match self {
            NoticeStatus::Closed => "pass",
            NoticeStatus::Overdue | NoticeStatus::StillThere => "fail",
            NoticeStatus::Open => "warn",
        }
    }

    /// A notice's status from its verification (if the next round came) and today's date.
    fn of(deadline: &str, verification: Option<&sitecensus_store::notices::Verification>, today: &str) -> Self {
        match verification {
            Some(v) if v.still_there.iter().all(|s| !s) => NoticeStatus::Closed,
            _ if deadline < today => NoticeStatus::Overdue,
            Some(_) => NoticeStatus::StillThere,
            None => NoticeStatus::Open,
        }
    }
}

/// Today (the app's clock, UTC+8), as `2024-08-10`.
fn today() -> String {
    sitecensus_store::now().chars().take(10).collect()
}

/// Notices and overdue notices per region code, by code.
fn per_region(lines: &[(sitecensus_store::notices::NoticeLine, NoticeStatus)]) -> Vec<(String, usize, usize)> {
    let mut by: std::collections::BTreeMap<String, (usize, usize)> = std::collections::BTreeMap::new();
    for (l, st) in lines {
        let e = by.entry(l.region.clone().unwrap_or_default()).or_default();
        e.0 += 1;
        e.1 += usize::from(*st == NoticeStatus::Overdue);
    }
    by.into_iter().map(|(k, (n, late))| (k, n, late)).collect()
}

/// Whether a role may issue notices (offices within their scope, and the administrator).
fn may_notify(role: Role) -> bool {
    matches!(role, Role::Admin | Role::National | Role::Province | Role::City)
}

/// Whether a role may mark a notice's items fixed (the site's team, and the administrator).
fn may_mark(role: Role) -> bool {
    matches!(role, Role::Admin | Role::SiteTeam)
}

/// The notice form of a site's page.
#[derive(Deserialize)]
struct NoticeForm {
    #[serde(default)]
    csrf: String,
    scoring: i64,
    #[serde(default)]
    deadline: String,
}

/// A deadline as the date input sends it (`2024-08-10`).
fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10 && b.iter().enumerate().all(|(i, c)| if i == 4 || i == 7 { *c == b'-' } else { c.is_ascii_digit() })
}

async fn issue_notice(
    State(app): State<App>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<NoticeForm>,
) -> Response {
    let s = match form_session(
        &app,
        &headers,
        &f.csrf,
        may_notify,
        ("您的角色不能下达整改通知。", "Your role does not issue notices."),
    )
    .await
    {
        Ok(s) => s,
        Err(r) => return r,
    };
    if !is_date(&f.deadline) {
        return message(
            StatusCode::BAD_REQUEST,
            ("期限有误", "Wrong deadline"),
            ("整改期限应为日期（2024-08-10）。", "The deadline is a date (2024-08-10)."),
        );
    }
    let Ok(site_id) = id.parse::<i64>() else { return not_found() };
    // The site must be the user's to see in that scoring.
    match site_card(&app, auth::scope_of(&s.user), Some(f.scoring), site_id).await {
        Ok(Some((_, scoring))) if scoring == f.scoring => {}
        Ok(_) => return not_found(),
        Err(r) => return r,
    }
    let store = app.store.clone();
    let name = s.user.name.clone();
    let issued = blocking(move || {
        let id = store.issue_notice(f.scoring, site_id, &name, &f.deadline)?;
        if let Some(id) = id {
            store.audit(
                Some(&name),
                "notice",
                &format!("notice {id}: site {site_id} of scoring {}, by {}", f.scoring, f.deadline),
            )?;
        }
        Ok(id)
    })
    .await;
    match issued {
        Ok(Some(id)) => Redirect::to(&format!("/notices/{id}")).into_response(),
        Ok(None) => message(
            StatusCode::OK,
            ("无需整改", "Nothing to rectify"),
            ("这个网站没有单项否决或扣分问题。", "The site has no veto or deduction."),
        ),
        Err(r) => r,
    }
}

#[derive(Template)]
#[template(path = "notices.html")]
struct NoticesPage {
    nav: Option<Nav>,
    lines: Vec<(sitecensus_store::notices::NoticeLine, NoticeStatus)>,
    /// Per region code: notices, and how many are overdue.
    regions: Vec<(String, usize, usize)>,
    /// Sites that failed two rounds or more.
    offenders: Vec<sitecensus_store::notices::RepeatOffender>,
}

impl Labels for NoticesPage {}

async fn notices(State(app): State<App>, headers: HeaderMap) -> Response {
    let s = match session(&app, &headers).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let scope = auth::scope_of(&s.user);
    let store = app.store.clone();
    let listed = blocking(move || {
        let today = today();
        let mut out = Vec::new();
        for (line, v) in store.notices_verified(&scope)? {
            let status = NoticeStatus::of(&line.deadline, v.as_ref(), &today);
            out.push((line, status));
        }
        // The overdue first: what an office chases.
        out.sort_by_key(|(l, st)| (*st != NoticeStatus::Overdue, std::cmp::Reverse(l.id)));
        let offenders = store.repeat_offenders(&scope)?;
        Ok((out, offenders))
    })
    .await;
    match listed {
        Ok((lines, offenders)) => page(&NoticesPage { regions: per_region(&lines), offenders, nav: nav(&s), lines }),
        Err(r) => r,
    }
}

#[derive(Template)]
#[template(path = "notice.html")]
struct NoticePage {
    nav: Option<Nav>,
    n: sitecensus_store::notices::NoticeLine,
    items: Vec<(sitecensus_store::notices::NoticeItem, Option<bool>)>,
    verification: Option<sitecensus_store::notices::Verification>,
    status: NoticeStatus,
    can_mark: bool,
    csrf: String,
}

impl Labels for NoticePage {}

async fn notice(State(app): State<App>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let s = match session(&app, &headers).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let Ok(id) = id.parse::<i64>() else { return not_found() };
    let scope = auth::scope_of(&s.user);
    let store = app.store.clone();
    let loaded = blocking(move || {
        let Some((n, items)) = store.notice(id, &scope)? else { return Ok(None) };
        let v = store.verify_notice(&n, &items)?;
        Ok(Some((n, items, v)))
    })
    .await;
    let (n, items, verification) = match loaded {
        Ok(Some(v)) => v,
        Ok(None) => return not_found(),
        Err(r) => return r,
    };
    let status = NoticeStatus::of(&n.deadline, verification.as_ref(), &today());
    let items = items
        .into_iter()
        .enumerate()
        .map(|(i, item)| (item, verification.as_ref().and_then(|v| v.still_there.get(i).copied())))
        .collect();
    page(&NoticePage {
        csrf: s.csrf.clone(),
        can_mark: may_mark(s.user.role),
        nav: nav(&s),
        n,
        items,
        verification,
        status,
    })
}

/// The form marking an item fixed.
#[derive(Deserialize)]
struct FixedForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    note: String,
}

async fn mark_fixed(
    State(app): State<App>,
    headers: HeaderMap,
    Path((id, item)): Path<(String, String)>,
    Form(f): Form<FixedForm>,
) -> Response {
    let s = match form_session(
        &app,
        &headers,
        &f.csrf,
        may_mark,
        ("整改由网站自己的团队标记。", "A site's own team marks its items fixed."),
    )
    .await
    {
        Ok(s) => s,
        Err(r) => return r,
    };
    let (Ok(id), Ok(item)) = (id.parse::<i64>(), item.parse::<i64>()) else { return not_found() };
    let note = f.note.trim().chars().take(2000).collect::<String>();
    if note.is_empty() {
        return message(
            StatusCode::BAD_REQUEST,
            ("请填写整改说明", "A note, please"),
            ("说明做了什么整改。", "Say what was done."),
        );
    }
    let scope = auth::scope_of(&s.user);
    let store = app.store.clone();
    let name = s.user.name.clone();
    let marked = blocking(move || {
        if store.notice(id, &scope)?.is_none() {
            return Ok(false);
        }
        let done = store.mark_fixed(id, item, &note, &name)?;
        if done {
            store.audit(Some(&name), "mark_fixed", &format!("notice {id} item {item}: {note}"))?;
        }
        Ok(done)
    })
    .await;
    match marked {
        Ok(true) => Redirect::to(&format!("/notices/{id}")).into_response(),
        Ok(false) => not_found(),
        Err(r) => r,
    }
}

/// The screenshot the run kept of a finding's page (the `n`th finding of the site's scorecard),
/// for a user who may see the site.
async fn screenshot(
    State(app): State<App>,
    headers: HeaderMap,
    Path((scoring, site, n)): Path<(String, String, String)>,
) -> Response {
    let s = match session(&app, &headers).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let (Ok(scoring), Ok(site_id), Ok(n)) = (scoring.parse::<i64>(), site.parse::<i64>(), n.parse::<usize>()) else {
        return not_found();
    };
    let card = match site_card(&app, auth::scope_of(&s.user), Some(scoring), site_id).await {
        Ok(Some((card, id))) if id == scoring => card,
        Ok(_) => return not_found(),
        Err(r) => return r,
    };
    let Some(path) = card.findings.get(n).and_then(|f| f.screenshot.clone()).filter(|p| p.ends_with(".png")) else {
        return not_found();
    };
    match tokio::fs::read(&path).await {
        Ok(bytes) => ([(header::CONTENT_TYPE, "image/png")], bytes).into_response(),
        Err(e) => {
            tracing::warn!("screenshot {path}: {e}");
            message(
                StatusCode::NOT_FOUND,
                ("截图不在", "Screenshot missing"),
                ("这张截图已不在服务器上。", "The screenshot is no longer on this server."),
            )
        }
    }
}

/// Whether the request asks for English (`/lang/en` set it); Chinese otherwise.
fn english(headers: &HeaderMap) -> bool {
    cookie(headers, LANG_COOKIE) == Some("en")
}

/// Switches the app's language (a cookie of a year) and goes back to the overview.
async fn set_lang(Path(lang): Path<String>) -> Response {
    let value = if lang == "en" { "en" } else { "zh" };
    let mut r = Redirect::to("/").into_response();
    let cookie = format!("{LANG_COOKIE}={value}; Path=/; SameSite=Lax; Max-Age=31536000");
    r.headers_mut().append(header::SET_COOKIE, HeaderValue::from_str(&cookie).expect("a plain cookie"));
    r
}

/// A query-string value, percent-encoded.
fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notice_is_closed_by_a_round_that_finds_every_item_fixed_even_late() {
        let v = |still: Vec<bool>| sitecensus_store::notices::Verification {
            scoring_id: 2,
            as_of: "2024-10-10".into(),
            still_there: still,
            new: Vec::new(),
        };
        let today = "2024-09-01";
        assert_eq!(NoticeStatus::of("2024-08-10", Some(&v(vec![false, false])), today), NoticeStatus::Closed);
        assert_eq!(NoticeStatus::of("2024-08-10", Some(&v(vec![false, true])), today), NoticeStatus::Overdue);
        assert_eq!(NoticeStatus::of("2024-12-10", Some(&v(vec![true])), today), NoticeStatus::StillThere);
        assert_eq!(NoticeStatus::of("2024-12-10", None, today), NoticeStatus::Open);
        assert_eq!(NoticeStatus::of("2024-08-31", None, today), NoticeStatus::Overdue);
        assert!(is_date("2024-08-10") && !is_date("2024-8-10") && !is_date("2024-08-10'"));
    }
}
