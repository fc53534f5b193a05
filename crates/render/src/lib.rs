//! Rendering pages as a browser draws them: Debian's headless Chromium, driven over the DevTools
//! protocol (chromiumoxide), for exactly the pages the static reading could not read — lists and
//! channel blocks drawn by scripts, lists fetched as JSON after load — and for screenshots of the
//! pages that carry a veto's evidence.
//!
//! Every request the page makes, its own navigation included, is paused and held to the
//! address guard of the crawl: a page cannot steer the browser into loopback, private or
//! link-local addresses the user did not name. One browser serves a whole run, launched when
//! first needed, with a fresh profile; a few tabs at once. Where no Chromium is installed the
//! renderer says so once and every render fails with [`RenderError::Unavailable`].

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chromiumoxide::cdp::browser_protocol::fetch::{
    ContinueRequestParams, EventRequestPaused, FailRequestParams, RequestId,
};
use chromiumoxide::cdp::browser_protocol::network::{ErrorReason, Headers, SetExtraHttpHeadersParams};
use chromiumoxide::cdp::browser_protocol::page::CaptureScreenshotFormat;
use chromiumoxide::handler::viewport::Viewport;
use chromiumoxide::page::ScreenshotParams;
use chromiumoxide::{Browser, BrowserConfig, Page};
use futures::StreamExt;
use sitecensus_fetch::guard::{Guard, internal_reason};
use tokio::sync::{Mutex, Semaphore};
use tokio::task::JoinHandle;
use url::Url;

/// Pages rendered at once by default.
pub const DEFAULT_TABS: usize = 2;
/// Pages rendered per site by default (`--render-budget`).
pub const DEFAULT_BUDGET: usize = 30;
/// The browser window's width and height.
const VIEWPORT: (u32, u32) = (1280, 900);
/// The tallest screenshot taken, in pixels: evidence at the top of a page, not a 40 m scroll.
const MAX_SHOT_HEIGHT: f64 = 6000.0;
/// How often a drawn page is looked at while it settles: it has settled when its document has
/// not changed for two looks.
const SETTLE_POLL: Duration = Duration::from_millis(100);
/// Run in every page before its own scripts: the ways out of the page that request
/// interception cannot hold to the guard are removed.
const NO_SIDE_CHANNELS: &str = "(() => { for (const k of ['WebSocket', 'WebTransport', 'RTCPeerConnection', \
    'webkitRTCPeerConnection', 'Worker', 'SharedWorker']) { try { Object.defineProperty(window, k, \
    { value: undefined, writable: false, configurable: false }); } catch (e) {} } \
    try { Object.defineProperty(navigator, 'serviceWorker', { value: undefined }); } catch (e) {} })();";

/// Names Chromium goes by on the systems sitecensus runs on.
const EXECUTABLES: &[&str] = &["chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome"];

/// Settings of the renderer.
#[derive(Debug, Clone)]
pub struct RenderConfig {
    /// The browser to run; None looks for `chromium` (and its other names) on `PATH`.
    pub executable: Option<PathBuf>,
    /// Most time one page may take, load and drawing included.
    pub timeout: Duration,
    /// Most time a loaded page is given to finish drawing (lists fetched after load).
    pub settle: Duration,
    /// Pages rendered at once.
    pub tabs: usize,
    /// The user agent the browser sends.
    pub user_agent: String,
    /// The crawl's address guard.
    pub guard: Guard,
    /// `--resolve` overrides (host, port, address), given to the browser as resolver rules.
    pub resolve: Vec<(String, u16, IpAddr)>,
    /// The proxy pages are drawn through (the crawl's), with `NO_PROXY`'s hosts going direct;
    /// None: no proxy.
    pub proxy: Option<String>,
    /// Headers every request of a drawn page carries besides the browser's (`--header`).
    pub headers: Vec<(String, String)>,
}

impl RenderConfig {
    /// Settings with defaults, the crawl's `guard` and `user_agent`.
    #[must_use]
    pub fn new(guard: Guard, user_agent: &str) -> Self {
        RenderConfig {
            executable: None,
            timeout: Duration::from_secs(20),
            settle: Duration::from_secs(3),
            tabs: DEFAULT_TABS,
            user_agent: user_agent.to_owned(),
            guard,
            resolve: Vec::new(),
            proxy: None,
            headers: Vec::new(),
        }
    }
}

/// Whether robots.txt lets the browser ask for an address (the crawl's rules for the site).
pub type RobotsGate = Arc<dyn Fn(&Url) -> bool + Send + Sync>;

/// Why a page could not be rendered.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RenderError {
    /// No browser can be run (none installed, or it does not start).
    #[error("no browser to render with: {0}")]
    Unavailable(String),
    /// The page did not load and settle in time.
    #[error("rendering timed out after {0} s")]
    Timeout(u64),
    /// The browser failed on the page.
    #[error("the browser failed: {0}")]
    Browser(String),
    /// The guard refused the page's own address.
    #[error("refused: {0}")]
    Blocked(String),
}

/// A page as the browser drew it.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// The document as drawn (`outerHTML` of the root element, with a doctype).
    pub html: String,
    /// Where the browser ended up.
    pub final_url: Url,
    /// Requests of the page that the guard refused (address and why).
    pub blocked: Vec<String>,
    /// Time taken.
    pub elapsed_ms: u64,
}

struct Live {
    browser: Browser,
    handler: JoinHandle<()>,
    _profile: tempfile::TempDir,
}

/// The renderer of a run: one browser, launched when first needed.
pub struct Renderer {
    cfg: RenderConfig,
    live: Mutex<Option<Arc<Live>>>,
    /// Why the browser cannot run, once that is known.
    unavailable: std::sync::Mutex<Option<String>>,
    tabs: Semaphore,
    announced: AtomicBool,
    rendered: AtomicU64,
    failed: AtomicU64,
}

impl std::fmt::Debug for Renderer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Renderer").field("cfg", &self.cfg).finish_non_exhaustive()
    }
}

/// The browser on `PATH`, if any.
#[must_use]
pub fn find_browser() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).flat_map(|dir| EXECUTABLES.iter().map(move |n| dir.join(n))).find(|p| p.is_file())
}

impl Renderer {
    /// A renderer with these settings (nothing is started yet).
    #[must_use]
    pub fn new(cfg: RenderConfig) -> Self {
        let tabs = Semaphore::new(cfg.tabs.max(1));
        Renderer {
            cfg,
            live: Mutex::new(None),
            unavailable: std::sync::Mutex::new(None),
            tabs,
            announced: AtomicBool::new(false),
            rendered: AtomicU64::new(0),
            failed: AtomicU64::new(0),
        }
    }

    /// Pages rendered so far, and renders that failed.
    #[must_use]
    pub fn counts(&self) -> (u64, u64) {
        (self.rendered.load(Ordering::Relaxed), self.failed.load(Ordering::Relaxed))
    }

    /// Why the browser cannot run, the first time this is asked after it is known (so that the
    /// caller says it once); None otherwise.
    #[must_use]
    pub fn announce_unavailable(&self) -> Option<String> {
        let why = self.unavailable.lock().expect("renderer lock").clone()?;
        (!self.announced.swap(true, Ordering::Relaxed)).then_some(why)
    }

    /// Whether the browser is known not to run.
    #[must_use]
    pub fn known_unavailable(&self) -> Option<String> {
        self.unavailable.lock().expect("renderer lock").clone()
    }

    async fn live(&self) -> Result<Arc<Live>, RenderError> {
        if let Some(why) = self.known_unavailable() {
            return Err(RenderError::Unavailable(why));
        }
        let mut slot = self.live.lock().await;
        if let Some(l) = slot.as_ref()
            && !l.handler.is_finished()
        {
            return Ok(l.clone());
        }
        match self.launch().await {
            Ok(l) => {
                let l = Arc::new(l);
                *slot = Some(l.clone());
                Ok(l)
            }
            Err(why) => {
                tracing::warn!("no browser to render with: {why}");
                *self.unavailable.lock().expect("renderer lock") = Some(why.clone());
                Err(RenderError::Unavailable(why))
            }
        }
    }

    async fn launch(&self) -> Result<Live, String> {
        let exe = match &self.cfg.executable {
            Some(p) if p.is_file() => p.clone(),
            Some(p) => return Err(format!("{} does not exist", p.display())),
            None => find_browser().ok_or_else(|| {
                "Chromium is not installed (install Debian's chromium package, or name a browser with --chromium)"
                    .to_owned()
            })?,
        };
        let profile = tempfile::Builder::new()
            .prefix("sitecensus-chromium-")
            .tempdir()
            .map_err(|e| format!("cannot make a browser profile folder: {e}"))?;
        // chromiumoxide prefixes each argument with `--` itself and merges values of one key
        // (`disable-features` with its own), so switches go in as (key, value) without dashes.
        let mut switches: Vec<(&str, String)> = [
            "headless",
            "disable-gpu",
            "disable-quic",
            "disable-component-update",
            "disable-background-networking",
            "disable-sync",
            "no-first-run",
            "no-default-browser-check",
            "mute-audio",
            "hide-scrollbars",
            // Memory stays bounded by the tabs: one renderer per tab, no per-site isolation
            // processes, no spare renderer kept warm.
            "disable-site-isolation-trials",
        ]
        .iter()
        .map(|k| (*k, String::new()))
        .collect();
        switches.push((
            "disable-features",
            "site-per-process,SpareRendererForSitePerProcess,Translate,OptimizationHints,MediaRouter".to_owned(),
        ));
        switches.push(("renderer-process-limit", (self.cfg.tabs.max(1) + 1).to_string()));
        match &self.cfg.proxy {
            Some(p) => {
                switches.push(("proxy-server", proxy_parts(p).0));
                if let Some(bypass) = ["NO_PROXY", "no_proxy"].iter().find_map(|v| std::env::var(v).ok()) {
                    switches.push(("proxy-bypass-list", bypass.replace(',', ";")));
                }
            }
            None => switches.push(("no-proxy-server", String::new())),
        }
        if !self.cfg.resolve.is_empty() {
            let rules: Vec<String> = self
                .cfg
                .resolve
                .iter()
                .map(|(h, p, a)| match a {
                    IpAddr::V6(v6) => format!("MAP {h}:{p} [{v6}]:{p}"),
                    IpAddr::V4(v4) => format!("MAP {h}:{p} {v4}:{p}"),
                })
                .collect();
            switches.push(("host-resolver-rules", rules.join(",")));
        }
        let config = BrowserConfig::builder()
            .chrome_executable(&exe)
            .no_sandbox()
            .user_data_dir(profile.path())
            .window_size(VIEWPORT.0, VIEWPORT.1)
            .viewport(Viewport {
                width: VIEWPORT.0,
                height: VIEWPORT.1,
                device_scale_factor: Some(1.0),
                emulating_mobile: false,
                is_landscape: true,
                has_touch: false,
            })
            .request_timeout(self.cfg.timeout)
            .launch_timeout(Duration::from_secs(30))
            .enable_request_intercept();
        let config = switches
            .iter()
            .fold(config, |c, (k, v)| if v.is_empty() { c.arg(*k) } else { c.arg((*k, v.as_str())) })
            .build()
            .map_err(|e| format!("{}: {e}", exe.display()))?;
        let (browser, mut handler) =
            Browser::launch(config).await.map_err(|e| format!("{} does not start: {e}", exe.display()))?;
        let handler = tokio::spawn(async move {
            while let Some(event) = handler.next().await {
                if let Err(e) = event {
                    tracing::debug!("browser: {e}");
                }
            }
        });
        tracing::info!(browser = %exe.display(), "rendering with headless Chromium");
        if !has_chinese_font() {
            tracing::warn!(
                "no Chinese font is installed: screenshots will show boxes for Chinese text (install Debian's fonts-noto-cjk)"
            );
        }
        Ok(Live { browser, handler, _profile: profile })
    }

    /// Renders `url`: loads it, lets its scripts draw (lists fetched after load included) and
    /// returns the document as drawn.
    ///
    /// # Errors
    /// When no browser runs, the guard refuses the address, or the page fails or times out.
    pub async fn render(&self, url: &Url) -> Result<Rendered, RenderError> {
        self.render_obeying(url, None).await
    }

    /// As [`Renderer::render`], with the page's own requests (scripts, stylesheets, images, the
    /// data its scripts ask for) also refused where `robots` says no: a site's robots.txt binds
    /// what the browser asks of it as it binds the crawl.
    ///
    /// # Errors
    /// As [`Renderer::render`].
    pub async fn render_obeying(&self, url: &Url, robots: Option<RobotsGate>) -> Result<Rendered, RenderError> {
        let r = self
            .with_page(url, robots, |page, started, blocked| async move {
                let html = page.content().await.map_err(|e| RenderError::Browser(e.to_string()))?;
                let final_url = page
                    .url()
                    .await
                    .ok()
                    .flatten()
                    .and_then(|u| Url::parse(&u).ok())
                    .filter(|u| matches!(u.scheme(), "http" | "https"))
                    .unwrap_or_else(|| url.clone());
                Ok(Rendered {
                    html,
                    final_url,
                    blocked: blocked.lock().expect("blocked list").clone(),
                    elapsed_ms: started.elapsed().as_millis() as u64,
                })
            })
            .await;
        match &r {
            Ok(_) => self.rendered.fetch_add(1, Ordering::Relaxed),
            Err(_) => self.failed.fetch_add(1, Ordering::Relaxed),
        };
        r
    }

    /// A PNG screenshot of `url` as drawn (its top, at most a few screens tall).
    ///
    /// # Errors
    /// As [`Renderer::render`].
    pub async fn screenshot(&self, url: &Url) -> Result<Vec<u8>, RenderError> {
        self.with_page(url, None, |page, _, _| async move {
            let height = page
                .evaluate(
                    "Math.max(document.documentElement.scrollHeight, document.body ? document.body.scrollHeight : 0)",
                )
                .await
                .ok()
                .and_then(|v| v.into_value::<f64>().ok())
                .unwrap_or(f64::from(VIEWPORT.1))
                .clamp(f64::from(VIEWPORT.1), MAX_SHOT_HEIGHT);
            let params = ScreenshotParams::builder()
                .format(CaptureScreenshotFormat::Png)
                .capture_beyond_viewport(true)
                .clip(chromiumoxide::cdp::browser_protocol::page::Viewport {
                    x: 0.0,
                    y: 0.0,
                    width: f64::from(VIEWPORT.0),
                    height,
                    scale: 1.0,
                })
                .build();
            page.screenshot(params).await.map_err(|e| RenderError::Browser(e.to_string()))
        })
        .await
    }

    /// Opens `url` in a fresh tab whose requests pass the guard, waits for it to settle, runs
    /// `f` over it and closes the tab, within the timeout.
    async fn with_page<T, F, Fut>(&self, url: &Url, robots: Option<RobotsGate>, f: F) -> Result<T, RenderError>
    where
        F: FnOnce(Page, Instant, Arc<std::sync::Mutex<Vec<String>>>) -> Fut,
        Fut: std::future::Future<Output = Result<T, RenderError>>,
    {
        if let Err(why) = self.allowed(url).await {
            return Err(RenderError::Blocked(why));
        }
        let _tab = self.tabs.acquire().await.map_err(|e| RenderError::Browser(e.to_string()))?;
        let live = self.live().await?;
        let started = Instant::now();
        let page = live.browser.new_page("about:blank").await.map_err(|e| RenderError::Browser(e.to_string()))?;
        // Given when the proxy asks for them (407), as Chromium takes none in --proxy-server.
        if let Some(credentials) = self.cfg.proxy.as_deref().and_then(|p| proxy_parts(p).1) {
            page.authenticate(credentials).await.map_err(|e| RenderError::Browser(e.to_string()))?;
        }
        let blocked = Arc::new(std::sync::Mutex::new(Vec::new()));
        let guard_task = {
            let mut events =
                page.event_listener::<EventRequestPaused>().await.map_err(|e| RenderError::Browser(e.to_string()))?;
            let page = page.clone();
            let blocked = blocked.clone();
            let this = GuardCheck { guard: self.cfg.guard.clone(), resolve: self.cfg.resolve.clone(), robots };
            tokio::spawn(async move {
                while let Some(ev) = events.next().await {
                    let id: RequestId = ev.request_id.clone();
                    match this.check(&ev.request.url).await {
                        Ok(()) => {
                            let _ = page.execute(ContinueRequestParams::new(id)).await;
                        }
                        Err(why) => {
                            if let Ok(mut b) = blocked.lock()
                                && b.len() < 50
                            {
                                b.push(format!("{} ({why})", ev.request.url));
                            }
                            let _ = page.execute(FailRequestParams::new(id, ErrorReason::BlockedByClient)).await;
                        }
                    }
                }
            })
        };
        let work = async {
            // Connections the request interception does not see (WebSocket, WebRTC) and workers
            // that could open them are taken away before the page's scripts run.
            page.evaluate_on_new_document(NO_SIDE_CHANNELS).await.map_err(|e| RenderError::Browser(e.to_string()))?;
            let _ = page.set_user_agent(self.cfg.user_agent.as_str()).await;
            if !self.cfg.headers.is_empty() {
                let map: serde_json::Map<String, serde_json::Value> =
                    self.cfg.headers.iter().map(|(n, v)| (n.clone(), serde_json::Value::String(v.clone()))).collect();
                page.execute(SetExtraHttpHeadersParams::new(Headers::new(map)))
                    .await
                    .map_err(|e| RenderError::Browser(e.to_string()))?;
            }
            page.goto(url.as_str()).await.map_err(|e| RenderError::Browser(e.to_string()))?;
            settle(&page, self.cfg.settle).await;
            f(page.clone(), started, blocked.clone()).await
        };
        let out = match tokio::time::timeout(self.cfg.timeout, work).await {
            Ok(r) => r,
            Err(_) => Err(RenderError::Timeout(self.cfg.timeout.as_secs())),
        };
        guard_task.abort();
        // The tab is closed whatever came of it: a tab left open keeps its memory.
        let _ = tokio::time::timeout(Duration::from_secs(5), page.close()).await;
        out
    }

    async fn allowed(&self, url: &Url) -> Result<(), String> {
        GuardCheck { guard: self.cfg.guard.clone(), resolve: self.cfg.resolve.clone(), robots: None }
            .check(url.as_str())
            .await
    }

    /// Closes the browser.
    pub async fn shutdown(&self) {
        if let Some(live) = self.live.lock().await.take()
            && let Ok(mut live) = Arc::try_unwrap(live)
        {
            let _ = tokio::time::timeout(Duration::from_secs(5), live.browser.close()).await;
            let _ = tokio::time::timeout(Duration::from_secs(5), live.browser.wait()).await;
            live.handler.abort();
        }
    }
}

/// Whether fontconfig knows a font for Chinese (what Chromium draws Chinese text with).
fn has_chinese_font() -> bool {
    std::process::Command::new("fc-list")
        .arg(":lang=zh")
        .output()
        .is_ok_and(|o| o.status.success() && !o.stdout.is_empty())
}

/// Waits until the drawn document stops changing (or `max` passes): lists fetched after load
/// arrive a moment after the load event.
async fn settle(page: &Page, max: Duration) {
    let start = Instant::now();
    let mut last = None;
    let mut stable = 0;
    while start.elapsed() < max {
        let size = page
            .evaluate("document.documentElement ? document.documentElement.outerHTML.length : 0")
            .await
            .ok()
            .and_then(|v| v.into_value::<u64>().ok());
        if size.is_some() && size == last {
            stable += 1;
            if stable >= 2 {
                return;
            }
        } else {
            stable = 0;
        }
        last = size;
        tokio::time::sleep(SETTLE_POLL).await;
    }
}

/// The guard as the browser's requests meet it.
struct GuardCheck {
    guard: Guard,
    resolve: Vec<(String, u16, IpAddr)>,
    robots: Option<RobotsGate>,
}

/// A proxy's address as Chromium takes it (`scheme://host:port`), and the credentials it names,
/// percent-decoded, if any.
fn proxy_parts(proxy: &str) -> (String, Option<chromiumoxide::auth::Credentials>) {
    let Ok(u) = Url::parse(proxy) else { return (proxy.to_owned(), None) };
    if u.username().is_empty() {
        return (proxy.to_owned(), None);
    }
    let decode = |s: &str| percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned();
    let server = match (u.host_str(), u.port_or_known_default()) {
        (Some(h), Some(p)) => format!("{}://{h}:{p}", u.scheme()),
        _ => return (proxy.to_owned(), None),
    };
    let credentials = chromiumoxide::auth::Credentials {
        username: decode(u.username()),
        password: decode(u.password().unwrap_or_default()),
    };
    (server, Some(credentials))
}

impl GuardCheck {
    async fn check(&self, raw: &str) -> Result<(), String> {
        let Ok(url) = Url::parse(raw) else { return Err("not a valid address".into()) };
        match url.scheme() {
            "http" | "https" => {}
            "data" | "blob" | "about" => return Ok(()),
            other => return Err(format!("{other}: addresses are not fetched")),
        }
        if self.robots.as_ref().is_some_and(|allowed| !allowed(&url)) {
            return Err("robots.txt".into());
        }
        self.guard.check_literal(&url).map_err(|b| b.to_string())?;
        let Some(host) = url.host_str() else { return Err("no host".into()) };
        if self.guard.host_allowed(host) || url.host().is_some_and(|h| !matches!(h, url::Host::Domain(_))) {
            return Ok(());
        }
        let port = url.port_or_known_default().unwrap_or(80);
        let addrs: Vec<IpAddr> = match self.resolve.iter().find(|(h, p, _)| h.eq_ignore_ascii_case(host) && *p == port)
        {
            Some((_, _, a)) => vec![*a],
            None => match tokio::net::lookup_host((host, port)).await {
                Ok(a) => a.map(|s| s.ip()).collect(),
                // Chromium will fail on it the same way; nothing internal is reached.
                Err(_) => return Ok(()),
            },
        };
        match addrs.iter().find_map(|a| internal_reason(*a).map(|r| (a, r))) {
            Some((a, reason)) => Err(format!("{host} resolves to {a} ({reason})")),
            None => Ok(()),
        }
    }
}
