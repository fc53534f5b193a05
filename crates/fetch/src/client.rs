//! The fetcher: one pooled HTTP client for a whole run, with politeness, the private-address
//! guard, manual redirects (every hop guarded, loops detected), retries with back-off, a body cap
//! applied after decompression (a gzip bomb stops at the cap), and an optional WARC archive.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use chrono::{DateTime, FixedOffset, Utc};
pub use reqwest::Method;
use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap, HeaderValue};
use sitecensus_core::time::china_offset;
use sitecensus_core::{Outcome, USER_AGENT};
use tokio::sync::Semaphore;
use url::Url;

use crate::guard::{Blocked, Guard, GuardedResolver};
use crate::legacy::Legacy;
use crate::politeness::{Limits, Politeness};
use crate::warc::{Exchange, WarcHandle};
use sitecensus_core::outcome::is_old_tls;

/// The default per-request timeout: the rubric's 15 s.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15);
/// The default number of retries of a transient failure.
pub const DEFAULT_RETRIES: u32 = 2;
/// The default redirect limit.
pub const DEFAULT_MAX_REDIRECTS: u32 = 10;
/// Bodies are cut at this size (after decompression), and the cut is noted.
pub const DEFAULT_MAX_BODY: usize = 10 * 1024 * 1024;
/// Bodies beyond this size need one of a few "large body" slots, so that many huge pages at once
/// cannot exhaust memory.
const LARGE_BODY: usize = 1024 * 1024;
/// How many large bodies may be read at once.
const LARGE_BODY_SLOTS: usize = 4;
/// How much of a body a GET that stands in for a refused HEAD reads.
pub const CHECK_BODY_LIMIT: usize = 256 * 1024;
/// The longest Retry-After honoured.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);

/// Settings of the fetcher.
#[derive(Debug, Clone)]
pub struct FetchConfig {
    /// Politeness limits.
    pub politeness: Politeness,
    /// Per-request timeout (connect to end of body).
    pub timeout: Duration,
    /// Retries of transient failures (timeouts, connection errors, 429, 5xx).
    pub retries: u32,
    /// Redirects followed before giving up.
    pub max_redirects: u32,
    /// Body cap in bytes, after decompression.
    pub max_body: usize,
    /// Whether links into internal addresses may be fetched.
    pub allow_private: bool,
    /// `--resolve HOST:PORT:ADDR` overrides.
    pub resolve: Vec<(String, u16, IpAddr)>,
    /// Base back-off between retries (doubled each time, with jitter).
    pub backoff: Duration,
    /// Roots trusted besides the system's (DER) by the TLS 1.0/1.1 fallback: a private CA, tests.
    pub extra_roots: Vec<Vec<u8>>,
    /// The User-Agent every request carries (`--user-agent`; robots.txt rules for `sitecensus`
    /// apply whatever it says).
    pub user_agent: String,
    /// The proxy every request goes through (`--proxy`); None takes the environment's
    /// (`HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY`, with `NO_PROXY`), as curl does.
    pub proxy: Option<String>,
    /// Headers every request carries besides the usual ones (`--header "Name: value"`).
    pub headers: Vec<(String, String)>,
}

impl Default for FetchConfig {
    fn default() -> Self {
        FetchConfig {
            politeness: Politeness::default(),
            timeout: DEFAULT_TIMEOUT,
            retries: DEFAULT_RETRIES,
            max_redirects: DEFAULT_MAX_REDIRECTS,
            max_body: DEFAULT_MAX_BODY,
            allow_private: false,
            resolve: Vec::new(),
            backoff: Duration::from_millis(500),
            extra_roots: Vec::new(),
            user_agent: USER_AGENT.to_owned(),
            proxy: None,
            headers: Vec::new(),
        }
    }
}

/// Parses `Name: value` as curl's `--header` takes it.
///
/// # Errors
/// When the text is not a header line HTTP allows.
pub fn parse_header(s: &str) -> Result<(String, String), String> {
    let (name, value) = s.split_once(':').ok_or_else(|| format!("{s:?} is not `Name: value`"))?;
    let (name, value) = (name.trim(), value.trim());
    header::HeaderName::from_bytes(name.as_bytes()).map_err(|_| format!("{name:?} is not a header name"))?;
    HeaderValue::from_str(value).map_err(|_| format!("the value of {name} holds characters a header cannot"))?;
    Ok((name.to_owned(), value.to_owned()))
}

/// The proxy the environment names for `scheme` (`https_proxy`, `http_proxy`, then `all_proxy`,
/// either case), as curl and reqwest read it.
#[must_use]
pub fn env_proxy(scheme: &str) -> Option<String> {
    let names = [format!("{scheme}_proxy"), "all_proxy".to_owned()];
    names.iter().find_map(|n| {
        [n.clone(), n.to_ascii_uppercase()]
            .into_iter()
            .find_map(|v| std::env::var(v).ok().filter(|p| !p.trim().is_empty()))
    })
}

/// Parses `HOST:PORT:ADDR` as curl's `--resolve` takes it (IPv6 addresses may be bracketed).
///
/// # Errors
/// When the text is not of that form.
pub fn parse_resolve(s: &str) -> Result<(String, u16, IpAddr), String> {
    let mut parts = s.splitn(3, ':');
    let (Some(host), Some(port), Some(addr)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(format!("{s:?} is not HOST:PORT:ADDR"));
    };
    let port: u16 = port.parse().map_err(|_| format!("{s:?}: port {port:?} is not a number"))?;
    let addr: IpAddr = addr
        .trim_matches(|c| c == '[' || c == ']')
        .parse()
        .map_err(|_| format!("{s:?}: {addr:?} is not an IP address"))?;
    if host.is_empty() {
        return Err(format!("{s:?}: empty host"));
    }
    // An internationalised name (政府.政务) is looked up as its ASCII form (xn--…), as URLs carry it.
    let host = match url::Host::parse(host) {
        Ok(url::Host::Domain(d)) => d,
        Ok(other) => other.to_string(),
        Err(e) => return Err(format!("{s:?}: {host:?} is not a host name ({e})")),
    };
    Ok((host.to_ascii_lowercase(), port, addr))
}

/// A `Location` header as an address to join: bytes past ASCII (raw UTF-8 or GBK, as Chinese
/// servers send them) are percent-encoded as they came, which is what the server understands.
fn location_text(value: &reqwest::header::HeaderValue) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(value.len());
    for &b in value.as_bytes() {
        if !(0x20..0x80).contains(&b) {
            let _ = write!(out, "%{b:02X}");
        } else {
            out.push(b as char);
        }
    }
    out
}

/// One try at a URL.
#[derive(Debug, Clone)]
pub struct Attempt {
    /// When it started.
    pub at: DateTime<FixedOffset>,
    /// What came of it.
    pub outcome: Outcome,
    /// How long it took.
    pub elapsed_ms: u64,
}

/// The result of fetching a URL, after redirects and retries.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The URL asked for.
    pub url: Url,
    /// Where the redirects ended.
    pub final_url: Url,
    /// Each redirect hop: the URL and the status that sent us on.
    pub redirects: Vec<(Url, u16)>,
    /// What came of it.
    pub outcome: Outcome,
    /// The final response's Content-Type.
    pub content_type: Option<String>,
    /// The body (empty for HEAD), cut at the cap.
    pub body: Bytes,
    /// Whether the body was cut.
    pub truncated: bool,
    /// Time of the last attempt, in milliseconds.
    pub elapsed_ms: u64,
    /// Every attempt, failed ones included (availability evidence).
    pub attempts: Vec<Attempt>,
    /// The address of the server that answered, where known.
    pub remote_addr: Option<SocketAddr>,
    /// Whether a hop was fetched through the TLS 1.0/1.1 fallback.
    pub legacy_tls: bool,
}

impl Fetched {
    /// Whether the body looks like HTML (by Content-Type, or by sniffing when there is none).
    #[must_use]
    pub fn is_html(&self) -> bool {
        match self.content_type.as_deref() {
            Some(ct) => {
                let ct = ct.to_ascii_lowercase();
                ct.contains("html") || (ct.starts_with("text/plain") && sniff_html(&self.body))
            }
            None => sniff_html(&self.body),
        }
    }
}

fn sniff_html(body: &[u8]) -> bool {
    let head = &body[..body.len().min(512)];
    let lower: Vec<u8> = head.iter().map(u8::to_ascii_lowercase).collect();
    [b"<html".as_slice(), b"<!doctype html", b"<head", b"<body", b"<meta", b"<script", b"<title"]
        .iter()
        .any(|p| lower.windows(p.len()).any(|w| w == *p))
}

/// The HTTP client of a run.
pub struct Fetcher {
    client: reqwest::Client,
    /// The client without `--resolve` overrides, for a host named there on another port:
    /// reqwest maps a host for every port, curl (whose option this is) only for the one given.
    unmapped: Option<reqwest::Client>,
    limits: Arc<Limits>,
    guard: Guard,
    cfg: FetchConfig,
    large_bodies: Arc<Semaphore>,
    warc: Option<WarcHandle>,
    /// The OpenSSL client for servers on TLS 1.0/1.1 (None when OpenSSL could not be set up).
    legacy: Option<Legacy>,
}

/// Why the fetcher could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// reqwest refused the configuration (no usable TLS roots, say).
    #[error("cannot build the HTTP client: {0}")]
    Client(#[from] reqwest::Error),
    /// A `--header` that HTTP does not allow.
    #[error("--header {0}")]
    Header(String),
    /// A `--proxy` that is not a proxy address.
    #[error("--proxy {0}")]
    Proxy(String),
}

impl Fetcher {
    /// Builds the fetcher; `warc` archives every GET response when given.
    ///
    /// # Errors
    /// When the HTTP client cannot be built.
    pub fn new(cfg: FetchConfig, warc: Option<WarcHandle>) -> Result<Self, BuildError> {
        let limits = Arc::new(Limits::new(cfg.politeness));
        Self::with_limits(cfg, warc, limits)
    }

    /// Builds the fetcher keeping `limits` (each host's pace and connections) shared with the
    /// other fetchers and requests that hold them (the monitor's probes, passes and scans), in
    /// place of limits of its own.
    ///
    /// # Errors
    /// When the HTTP client cannot be built.
    pub fn with_limits(cfg: FetchConfig, warc: Option<WarcHandle>, limits: Arc<Limits>) -> Result<Self, BuildError> {
        // rustls needs one process-wide crypto provider; ring builds without cmake.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let guard = Guard::new(cfg.allow_private);
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT,
            HeaderValue::from_static("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
        );
        headers.insert(header::ACCEPT_LANGUAGE, HeaderValue::from_static("zh-CN,zh;q=0.9,en;q=0.5"));
        // A --header replaces the usual header of its name; given twice, both are sent.
        let mut given = std::collections::HashSet::new();
        for (name, value) in &cfg.headers {
            let name = header::HeaderName::from_bytes(name.trim().as_bytes())
                .map_err(|_| BuildError::Header(format!("{name:?} is not a header name")))?;
            let value = HeaderValue::from_str(value.trim())
                .map_err(|_| BuildError::Header(format!("the value of {name} holds characters a header cannot")))?;
            if given.insert(name.clone()) {
                headers.insert(name, value);
            } else {
                headers.append(name, value);
            }
        }
        // Behind a proxy, the proxy resolves the sites' names: the guard still refuses private
        // address literals, and lets the proxy's own host through.
        let proxy = match &cfg.proxy {
            Some(p) => Some(
                reqwest::Proxy::all(p.as_str())
                    .map_err(|e| BuildError::Proxy(format!("{p}: {e}")))?
                    .no_proxy(reqwest::NoProxy::from_env()),
            ),
            None => None,
        };
        let proxies: Vec<String> =
            cfg.proxy.iter().cloned().chain(["http", "https"].iter().filter_map(|s| env_proxy(s))).collect();
        for p in &proxies {
            if let Some(host) = Url::parse(p).ok().and_then(|u| u.host_str().map(str::to_owned)) {
                guard.allow_host(host.trim_matches(['[', ']']));
            }
        }
        let cookies = Arc::new(crate::cookies::SiteCookies::default());
        let base = || {
            let b = reqwest::Client::builder()
                .user_agent(cfg.user_agent.clone())
                .default_headers(headers.clone())
                .redirect(reqwest::redirect::Policy::none())
                .cookie_provider(cookies.clone())
                .connect_timeout(cfg.timeout.min(Duration::from_secs(10)))
                .pool_idle_timeout(Duration::from_secs(30))
                .pool_max_idle_per_host(cfg.politeness.per_host_connections.max(1))
                .tcp_nodelay(true)
                .dns_resolver(Arc::new(GuardedResolver::new(guard.clone())));
            // Without --proxy, reqwest takes the environment's proxies (and NO_PROXY) itself.
            match &proxy {
                Some(p) => b.proxy(p.clone()),
                None => b,
            }
        };
        let unmapped = if cfg.resolve.is_empty() { None } else { Some(base().build()?) };
        let mut builder = base();
        for (host, port, addr) in &cfg.resolve {
            builder = builder.resolve(host, SocketAddr::new(*addr, *port));
            guard.allow_host(host);
        }
        // The TLS 1.0/1.1 fallback connects directly: behind a proxy it is not used, so that
        // nothing goes around the proxy an office requires.
        let legacy = if proxies.is_empty() {
            Legacy::new(guard.clone(), cfg.resolve.clone(), &cfg.extra_roots, cfg.user_agent.clone())
                .map_err(|e| tracing::warn!("no fallback for TLS 1.0/1.1 servers: {e}"))
                .ok()
        } else {
            None
        };
        Ok(Fetcher {
            legacy,
            client: builder.build()?,
            unmapped,
            limits,
            guard,
            cfg,
            large_bodies: Arc::new(Semaphore::new(LARGE_BODY_SLOTS)),
            warc,
        })
    }

    /// The client for a URL: the one with the `--resolve` overrides unless its host is named
    /// there only for other ports.
    fn client_for(&self, url: &Url) -> &reqwest::Client {
        if let (Some(unmapped), Some(host), Some(port)) = (&self.unmapped, url.host_str(), url.port_or_known_default())
        {
            let mut named = self.cfg.resolve.iter().filter(|(h, _, _)| h.eq_ignore_ascii_case(host)).peekable();
            if named.peek().is_some() && !named.any(|(_, p, _)| *p == port) {
                return unmapped;
            }
        }
        &self.client
    }

    /// The proxy the browser should draw pages through: `--proxy`, or the environment's.
    #[must_use]
    pub fn proxy_server(&self) -> Option<String> {
        self.cfg.proxy.clone().or_else(|| env_proxy("https")).or_else(|| env_proxy("http"))
    }

    /// The headers every request carries besides the usual ones (`--header`).
    #[must_use]
    pub fn headers(&self) -> &[(String, String)] {
        &self.cfg.headers
    }

    /// Whether GET responses are archived (a WARC is being written).
    #[must_use]
    pub fn archives(&self) -> bool {
        self.warc.is_some()
    }

    /// The private-address guard (to allow the sites the user named).
    #[must_use]
    pub fn guard(&self) -> &Guard {
        &self.guard
    }

    /// The politeness limits (to apply a robots.txt Crawl-delay, or to share them).
    #[must_use]
    pub fn limits(&self) -> &Arc<Limits> {
        &self.limits
    }

    /// The settings in force.
    #[must_use]
    pub fn config(&self) -> &FetchConfig {
        &self.cfg
    }

    /// GETs a URL, reading at most the configured body cap.
    pub async fn get(&self, url: &Url) -> Fetched {
        self.fetch(url, Method::GET, self.cfg.max_body).await
    }

    /// Checks a link: HEAD, and GET (reading a little) where the server refuses or mishandles
    /// HEAD, so that a server's HEAD quirk is not reported as a broken link.
    pub async fn check(&self, url: &Url) -> Fetched {
        let head = self.fetch(url, Method::HEAD, 0).await;
        match head.outcome {
            Outcome::HttpError { status } if status != 429 => {
                let mut get = self.fetch(url, Method::GET, CHECK_BODY_LIMIT.min(self.cfg.max_body)).await;
                get.attempts.splice(0..0, head.attempts);
                get
            }
            _ => head,
        }
    }

    /// Fetches with retries of transient failures.
    pub async fn fetch(&self, url: &Url, method: Method, body_limit: usize) -> Fetched {
        self.fetch_with(url, method, None, body_limit).await
    }

    /// POSTs a form (`application/x-www-form-urlencoded`), as a page's own script asks a list
    /// proxy for the next group of a column; redirects are followed with GET, as browsers do.
    pub async fn post_form(&self, url: &Url, form: &str) -> Fetched {
        self.fetch_with(url, Method::POST, Some(form), self.cfg.max_body).await
    }

    async fn fetch_with(&self, url: &Url, method: Method, form: Option<&str>, body_limit: usize) -> Fetched {
        let mut attempts = Vec::new();
        let mut attempt = 0;
        loop {
            let at = Utc::now().with_timezone(&china_offset());
            let (mut fetched, retry_after) = self.fetch_once(url, &method, form, body_limit).await;
            attempts.push(Attempt { at, outcome: fetched.outcome.clone(), elapsed_ms: fetched.elapsed_ms });
            if !fetched.outcome.is_transient() || attempt >= self.cfg.retries {
                fetched.attempts = attempts;
                return fetched;
            }
            let base = self.cfg.backoff.saturating_mul(1 << attempt.min(6));
            let jitter = base.mul_f64(fastrand::f64() * 0.5);
            let wait = retry_after.map_or(base + jitter, |r| r.min(MAX_RETRY_AFTER).max(base));
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    async fn fetch_once(
        &self,
        url: &Url,
        method: &Method,
        form: Option<&str>,
        body_limit: usize,
    ) -> (Fetched, Option<Duration>) {
        let mut current = url.clone();
        let mut method = method.clone();
        let mut form = form;
        let mut redirects: Vec<(Url, u16)> = Vec::new();
        let mut visited = vec![current.clone()];
        // Moved on by the time spent waiting for the host's turn: what a fetch took is the
        // server's time, not this process's politeness (a probe that waited behind a scan of its
        // host is not slow).
        let mut start = Instant::now();
        let done = |current: Url, redirects: Vec<(Url, u16)>, outcome: Outcome, start: Instant| Fetched {
            url: url.clone(),
            final_url: current,
            redirects,
            outcome,
            content_type: None,
            body: Bytes::new(),
            truncated: false,
            elapsed_ms: start.elapsed().as_millis() as u64,
            attempts: Vec::new(),
            remote_addr: None,
            legacy_tls: false,
        };
        let mut legacy_tls = false;
        loop {
            if let Err(b) = self.guard.check_literal(&current) {
                return (done(current, redirects, Outcome::Blocked { reason: b.to_string() }, start), None);
            }
            let asked = Instant::now();
            let permit = self.limits.acquire(&crate::politeness::host_key(&current)).await;
            start += asked.elapsed();
            let sent = Instant::now();
            let mut request =
                self.client_for(&current).request(method.clone(), current.clone()).timeout(self.cfg.timeout);
            if let Some(f) = form {
                request = request
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded; charset=UTF-8")
                    .header("X-Requested-With", "XMLHttpRequest")
                    .body(f.to_owned());
            }
            let resp = match request.send().await {
                Ok(r) => Answer::Modern(r),
                Err(e) => match (classify(&e, sent.elapsed()), &self.legacy) {
                    // A server on TLS 1.0/1.1: asked again through the OpenSSL fallback.
                    (Outcome::Tls { message }, Some(l)) if current.scheme() == "https" && is_old_tls(&message) => {
                        let limit = if method == Method::HEAD { 0 } else { body_limit };
                        match l.send(&method, &current, self.cfg.timeout, limit).await {
                            Ok(r) => {
                                legacy_tls = true;
                                Answer::Legacy(r)
                            }
                            Err(o) => {
                                let o = Outcome::Tls {
                                    message: format!("{message} (TLS 1.0/1.1 fallback: {})", o.describe()),
                                };
                                return (done(current, redirects, o, start), None);
                            }
                        }
                    }
                    (o, _) => return (done(current, redirects, o, start), None),
                },
            };
            let status = resp.status();
            let remote_addr = resp.remote_addr();
            if status.is_redirection()
                && let Some(loc) = resp.headers().get(header::LOCATION).map(location_text)
            {
                drop(resp);
                drop(permit);
                let next = match current.join(loc.trim()) {
                    Ok(mut n) if matches!(n.scheme(), "http" | "https") => {
                        n.set_fragment(None);
                        n
                    }
                    _ => {
                        let o = Outcome::InvalidUrl { message: format!("redirect to {loc:?}") };
                        return (done(current, redirects, o, start), None);
                    }
                };
                redirects.push((current.clone(), status.as_u16()));
                // A POST redirected is followed with GET and no body, as browsers do (307/308
                // keep the method, and so do we).
                if method == Method::POST && !matches!(status.as_u16(), 307 | 308) {
                    method = Method::GET;
                    form = None;
                }
                if visited.contains(&next) {
                    let mut chain: Vec<String> = visited.iter().map(Url::to_string).collect();
                    chain.push(next.to_string());
                    return (done(next, redirects, Outcome::RedirectLoop { chain }, start), None);
                }
                if redirects.len() as u32 > self.cfg.max_redirects {
                    let o = Outcome::TooManyRedirects { limit: self.cfg.max_redirects };
                    return (done(next, redirects, o, start), None);
                }
                visited.push(next.clone());
                current = next;
                continue;
            }
            let retry_after = resp
                .headers()
                .get(header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            let content_type =
                resp.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
            let headers = resp.headers().clone();
            let version = resp.version();
            let (body, truncated, body_err) = match resp {
                _ if method == Method::HEAD || body_limit == 0 => (Bytes::new(), false, None),
                Answer::Legacy(r) => (r.body, r.truncated, None),
                Answer::Modern(r) => {
                    let (b, t, e) = self.read_body(r, body_limit).await;
                    (b, t, e.map(|e| classify(&e, sent.elapsed())))
                }
            };
            drop(permit);
            let outcome = match body_err {
                Some(o) => o,
                None if status.is_success() => Outcome::Ok { status: status.as_u16() },
                None => Outcome::HttpError { status: status.as_u16() },
            };
            // Pages and the list groups a page's script asks by POST are archived (link checks'
            // HEAD requests are not).
            if let (Some(w), true) = (&self.warc, method == Method::GET || method == Method::POST) {
                w.record(Exchange {
                    url: current.to_string(),
                    date: Utc::now(),
                    remote_ip: remote_addr.map(|a| a.ip()),
                    request_head: request_head(&method, &current, form.map(str::len), &self.cfg),
                    request_body: form.map(|f| Bytes::copy_from_slice(f.as_bytes())).unwrap_or_default(),
                    response_head: response_head(version, status, &headers, body.len()),
                    body: body.clone(),
                    truncated,
                });
            }
            let fetched = Fetched {
                url: url.clone(),
                final_url: current,
                redirects,
                outcome,
                content_type,
                body,
                truncated,
                elapsed_ms: start.elapsed().as_millis() as u64,
                attempts: Vec::new(),
                remote_addr,
                legacy_tls,
            };
            return (fetched, retry_after);
        }
    }

    /// Reads the body up to `limit` bytes (after decompression); a body beyond `LARGE_BODY`
    /// waits for one of a few large-body slots.
    async fn read_body(&self, mut resp: reqwest::Response, limit: usize) -> (Bytes, bool, Option<reqwest::Error>) {
        let mut buf =
            BytesMut::with_capacity(resp.content_length().map_or(16 * 1024, |l| (l as usize).min(LARGE_BODY)));
        let mut large = None;
        loop {
            match resp.chunk().await {
                Ok(Some(chunk)) => {
                    if buf.len() + chunk.len() > LARGE_BODY && large.is_none() {
                        large = Some(self.large_bodies.clone().acquire_owned().await.expect("semaphore never closed"));
                    }
                    if buf.len() + chunk.len() > limit {
                        let room = limit - buf.len();
                        buf.extend_from_slice(&chunk[..room]);
                        return (buf.freeze(), true, None);
                    }
                    buf.extend_from_slice(&chunk);
                }
                Ok(None) => return (buf.freeze(), false, None),
                Err(e) => return (buf.freeze(), false, Some(e)),
            }
        }
    }
}

fn request_head(method: &Method, url: &Url, form_len: Option<usize>, cfg: &FetchConfig) -> String {
    let path = &url[url::Position::BeforePath..url::Position::AfterQuery];
    let mut extra: String = cfg.headers.iter().map(|(n, v)| format!("{n}: {v}\r\n")).collect();
    if let Some(n) = form_len {
        extra.push_str(&format!(
            "Content-Type: application/x-www-form-urlencoded; charset=UTF-8\r\nContent-Length: {n}\r\n"
        ));
    }
    format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nUser-Agent: {}\r\nAccept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\nAccept-Language: zh-CN,zh;q=0.9,en;q=0.5\r\n{extra}\r\n",
        &url[url::Position::BeforeHost..url::Position::AfterPort],
        cfg.user_agent
    )
}

/// The response head as archived: the body is stored decoded, so Content-Encoding,
/// Transfer-Encoding and Content-Length are kept as `X-Archive-Orig-…` (what came on the wire,
/// as replay tools name rewritten headers) and Content-Length names the stored length.
fn response_head(version: reqwest::Version, status: StatusCode, headers: &HeaderMap, body_len: usize) -> String {
    let v = match version {
        reqwest::Version::HTTP_10 => "HTTP/1.0",
        _ => "HTTP/1.1",
    };
    let mut head = format!("{v} {} {}\r\n", status.as_u16(), status.canonical_reason().unwrap_or(""));
    for (name, value) in headers {
        if matches!(name.as_str(), "content-encoding" | "transfer-encoding" | "content-length") {
            head.push_str("X-Archive-Orig-");
        }
        head.push_str(name.as_str());
        head.push_str(": ");
        head.push_str(&String::from_utf8_lossy(value.as_bytes()));
        head.push_str("\r\n");
    }
    head.push_str(&format!("Content-Length: {body_len}\r\n\r\n"));
    head
}

/// A response from the modern client or from the TLS 1.0/1.1 fallback.
enum Answer {
    Modern(reqwest::Response),
    Legacy(crate::legacy::Response),
}

impl Answer {
    fn status(&self) -> StatusCode {
        match self {
            Answer::Modern(r) => r.status(),
            Answer::Legacy(r) => r.status,
        }
    }

    fn headers(&self) -> &HeaderMap {
        match self {
            Answer::Modern(r) => r.headers(),
            Answer::Legacy(r) => &r.headers,
        }
    }

    fn remote_addr(&self) -> Option<SocketAddr> {
        match self {
            Answer::Modern(r) => r.remote_addr(),
            Answer::Legacy(r) => Some(r.remote_addr),
        }
    }

    fn version(&self) -> reqwest::Version {
        match self {
            Answer::Modern(r) => r.version(),
            Answer::Legacy(_) => reqwest::Version::HTTP_11,
        }
    }
}

/// Turns a reqwest error into the outcome a report shows.
fn classify(e: &reqwest::Error, elapsed: Duration) -> Outcome {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    let mut innermost = e.to_string();
    let mut chain = String::new();
    while let Some(s) = source {
        if let Some(b) = s.downcast_ref::<Blocked>() {
            return Outcome::Blocked { reason: b.to_string() };
        }
        innermost = s.to_string();
        chain.push_str(&innermost.to_ascii_lowercase());
        chain.push_str(" | ");
        source = s.source();
    }
    if e.is_timeout() || chain.contains("timed out") {
        return Outcome::Timeout { after_ms: elapsed.as_millis() as u64 };
    }
    if chain.contains("dns error")
        || chain.contains("failed to lookup address")
        || chain.contains("name or service not known")
    {
        return Outcome::Dns { message: innermost };
    }
    if chain.contains("certificate")
        || chain.contains("tls")
        || chain.contains("handshake")
        || chain.contains("fatal alert")
        || is_old_tls(&innermost)
        || chain.contains("invalidcontenttype")
    {
        return Outcome::Tls { message: innermost };
    }
    if e.is_body() || e.is_decode() {
        return Outcome::Body { message: innermost };
    }
    Outcome::Connect { message: innermost }
}
