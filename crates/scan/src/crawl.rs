//! Crawling one site: homepage first (its redirects widen the scope), robots.txt, a soft-404
//! probe and the sitemap, then breadth-first through the site's pages within the page and
//! depth limits, every link target checked once. The frontier lives in the store, so a killed
//! crawl resumes where it stopped without fetching again what it already has.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use chrono::Datelike;

use futures::stream::{FuturesUnordered, StreamExt};
use rustc_hash::{FxHashMap, FxHashSet};
use sitecensus_checks::{AttemptRecord, Checks, HomepageFetch};
use sitecensus_core::stats::{RobotsSeen, UnreadableAttachment};
use sitecensus_core::{CrawlStats, Finding, LinkKind, Outcome, SiteSpec, hash64};
use sitecensus_extract::{Page, PageKind};
use sitecensus_fetch::{Fetched, Fetcher, Robots};
use sitecensus_store::{LinkAdd, Op, PageRow, SiteRow, Store, StoreError, Writer};
use tokio::sync::Semaphore;
use url::Url;

use crate::frontier::{Scope, scope_key, trap};
use crate::{Progress, ScanOptions};

/// Pages that link to a target, stored per target (the count is kept in full).
const SOURCES_KEPT: u32 = 5;
/// Link checks in flight per site.
const LINK_CHECKS_IN_FLIGHT: usize = 16;
/// Homepage redirects by meta refresh or script followed before giving up.
const HOMEPAGE_HOPS: usize = 3;
/// A homepage with less visible text than this that redirects by meta refresh or script is a stub.
const STUB_TEXT_CHARS: usize = 200;
/// Bytes of a stylesheet or image archived for replay (a larger one is archived cut, and says so).
const ASSET_LIMIT: usize = 4 * 1024 * 1024;
/// URLs taken from sitemaps.
const SITEMAP_URLS: usize = 50_000;

/// What every site crawl of a run shares.
pub(crate) struct Ctx {
    pub fetcher: Arc<Fetcher>,
    pub writer: Writer,
    pub store: Arc<Store>,
    pub checks: Arc<Checks>,
    pub opts: Arc<ScanOptions>,
    pub cpu: Arc<ParseSlots>,
    pub progress: Arc<dyn Progress>,
    /// The browser of the run, unless rendering is off.
    pub renderer: Option<Arc<sitecensus_render::Renderer>>,
    /// The scoring each site's result is stored in as it is scored.
    pub scoring: i64,
}

struct LinkState {
    checked: bool,
    sources: u32,
    kind: LinkKind,
}

/// The signature of what the site answers for a surely-missing URL with status 200.
pub(crate) struct MissingPage {
    hash: u64,
    title: String,
    text_chars: usize,
}

struct PageDone {
    url: Url,
    depth: u32,
    homepage: bool,
    fetched: Fetched,
    page: Option<Page>,
    findings: Vec<Finding>,
    /// Whether a browser was asked to draw the page, and whether it did.
    render: Option<bool>,
}

enum Work {
    Page(Box<PageDone>),
    /// A link target checked: its fetch, findings about its content, and, for an attachment
    /// that was read, whether its text could be read (the reason when not).
    Link(Url, Box<Fetched>, Vec<Finding>, Option<Result<(), String>>),
}

/// Unreadable attachments named in a site's statistics (the rest are counted).
const UNREADABLE_NAMED: usize = 20;

/// One site's crawl.
pub(crate) struct SiteCrawl<'a> {
    ctx: &'a Ctx,
    site: &'a SiteRow,
    scope: Scope,
    /// Keyed by the address's xxh3 hash: already spread, so hashed again cheaply.
    seen: FxHashSet<u64>,
    queue: VecDeque<(Url, u32)>,
    homepage_queue: VecDeque<Url>,
    link_queue: VecDeque<Url>,
    links: FxHashMap<u64, LinkState>,
    /// The robots.txt rules read so far, by scope; shared with the browser's drawing of pages
    /// (copied on write only while a drawing holds it).
    robots: Arc<HashMap<String, Arc<Robots>>>,
    missing: Option<Arc<MissingPage>>,
    homepage: Option<HomepageFetch>,
    homepage_hops: usize,
    pages_fetched: usize,
    links_queued: usize,
    /// What the crawl counts as it goes; the rest is filled in when it ends.
    stats: CrawlStats,
    /// Outcomes of links cut by a guard, sent once their target rows exist.
    pending_outcomes: Vec<(Url, Outcome)>,
    /// Targets linked from more pages than the sources kept: their full counts.
    overflow: FxHashMap<u64, (String, u32)>,
    /// Pages the browser may still draw for this site.
    render_left: Arc<AtomicUsize>,
}

fn outcome_json(o: &Outcome) -> String {
    serde_json::to_string(o).expect("outcomes serialise")
}

fn now() -> String {
    sitecensus_store::now()
}

impl<'a> SiteCrawl<'a> {
    pub(crate) fn new(ctx: &'a Ctx, site: &'a SiteRow) -> Self {
        SiteCrawl {
            ctx,
            site,
            scope: Scope::new(&site.spec.url, site.spec.include_subdomains),
            seen: FxHashSet::default(),
            queue: VecDeque::new(),
            homepage_queue: VecDeque::new(),
            link_queue: VecDeque::new(),
            links: FxHashMap::default(),
            robots: Arc::new(HashMap::new()),
            missing: None,
            homepage: None,
            homepage_hops: 0,
            pages_fetched: 0,
            links_queued: 0,
            stats: CrawlStats::default(),
            pending_outcomes: Vec::new(),
            overflow: FxHashMap::default(),
            render_left: Arc::new(AtomicUsize::new(ctx.opts.render.as_ref().map_or(0, |r| r.budget))),
        }
    }

    fn spec(&self) -> &SiteSpec {
        &self.site.spec
    }

    async fn send(&self, op: Op) -> Result<(), StoreError> {
        self.ctx.writer.send(op).await
    }

    /// Loads what an earlier, interrupted crawl of this site stored.
    fn restore(&mut self) -> Result<bool, StoreError> {
        let frontier = self.ctx.store.frontier(self.site.id)?;
        if frontier.is_empty() {
            return Ok(false);
        }
        if let Some(h) = &self.site.homepage
            && let Ok(h) = serde_json::from_value::<HomepageFetch>(h.clone())
        {
            if let Ok(u) = Url::parse(&h.final_url) {
                self.scope.add(&u);
            }
            self.homepage = Some(h);
        }
        for row in frontier {
            let Ok(url) = Url::parse(&row.url) else {
                continue;
            };
            self.seen.insert(hash64(row.url.as_bytes()));
            if row.state == 0 {
                if row.depth == 0 && self.homepage.is_none() {
                    self.homepage_queue.push_back(url);
                } else {
                    self.queue.push_back((url, row.depth));
                }
            }
        }
        self.pages_fetched = self.ctx.store.page_count(self.site.id)? as usize;
        let mut counts: HashMap<String, u32> = HashMap::new();
        for s in self.ctx.store.link_sources(self.site.id)? {
            *counts.entry(s.url).or_default() += 1;
        }
        let queued: HashSet<u64> = self.queue.iter().map(|(u, _)| hash64(u.as_str().as_bytes())).collect();
        for l in self.ctx.store.links(self.site.id)? {
            let key = hash64(l.url.as_bytes());
            let checked = l.outcome.is_some();
            let kind = LinkKind::parse(&l.kind).unwrap_or(LinkKind::Page);
            self.links.insert(key, LinkState { checked, sources: counts.get(&l.url).copied().unwrap_or(0), kind });
            if !checked
                && !queued.contains(&key)
                && !self.seen.contains(&key)
                && let Ok(u) = Url::parse(&l.url)
            {
                self.link_queue.push_back(u);
                self.links_queued += 1;
            }
        }
        Ok(true)
    }

    /// Crawls the site to the end and returns its crawl statistics.
    pub(crate) async fn run(mut self) -> Result<CrawlStats, StoreError> {
        let started = Instant::now();
        let resumed = self.restore()?;
        let seed = self.spec().url.clone();
        // The HTTPS probe runs beside the crawl (behind an http:// proxy through its tunnel;
        // behind another kind it is not made, rather than failing for want of a route).
        let tunnel = self.ctx.fetcher.proxy_server().is_none_or(|p| p.starts_with("http://"));
        let https = (self.ctx.opts.https_check && tunnel).then(|| {
            let probe = self.https_probe(&seed);
            tokio::spawn(async move { sitecensus_fetch::tls::probe(&probe).await })
        });
        if !resumed {
            self.seen.insert(hash64(seed.as_str().as_bytes()));
            self.send(Op::Frontier { site_id: self.site.id, urls: vec![(seed.to_string(), 0)] }).await?;
            self.homepage_queue.push_back(seed.clone());
        }
        let mut sitemap_done = resumed;
        // robots.txt, the soft-404 probe and the sitemap wait for the homepage: a site that is
        // down costs its homepage's attempts, not four times as many.
        let mut setup_done = false;
        let mut in_flight: FuturesUnordered<futures::future::BoxFuture<'_, Work>> = FuturesUnordered::new();
        let (mut pages_in_flight, mut links_in_flight) = (0usize, 0usize);
        let page_parallelism = self.ctx.opts.fetch.politeness.per_host_connections.max(1) * 2;
        loop {
            // The homepage (and the stubs it redirects through) goes alone, before anything else.
            let homepage_pending = pages_in_flight > 0 && self.homepage.is_none();
            if !homepage_pending && let Some(url) = self.homepage_queue.pop_front() {
                pages_in_flight += 1;
                in_flight.push(Box::pin(self.fetch_page(url, 0, true)));
                continue;
            }
            if self.homepage.is_some() && !setup_done && self.homepage_queue.is_empty() && pages_in_flight == 0 {
                setup_done = true;
                if self.homepage.as_ref().is_some_and(|h| !h.outcome.is_failure()) {
                    self.ensure_robots(&seed).await;
                    self.probe_missing_page(&seed).await;
                    if !sitemap_done {
                        sitemap_done = true;
                        self.read_sitemaps(&seed).await?;
                    }
                }
            }
            while self.homepage.is_some() && pages_in_flight < page_parallelism {
                let Some((url, depth)) = self.queue.pop_front() else {
                    break;
                };
                if self.pages_fetched + pages_in_flight >= self.ctx.opts.max_pages {
                    // Out of page budget: the link still gets checked.
                    self.queue_link_check(url);
                    continue;
                }
                if !self.robots_allow(&url).await {
                    self.stats.robots_excluded += 1;
                    self.send(Op::Skip { site_id: self.site.id, urls: vec![(url.to_string(), "robots.txt".into())] })
                        .await?;
                    self.link_result(&url, &Outcome::Robots, 0, &url).await?;
                    continue;
                }
                pages_in_flight += 1;
                in_flight.push(Box::pin(self.fetch_page(url, depth, false)));
            }
            while links_in_flight < LINK_CHECKS_IN_FLIGHT {
                let Some(url) = self.link_queue.pop_front() else {
                    break;
                };
                // The site's own files, stylesheets and images obey its robots.txt as its pages
                // do: a spreadsheet under a Disallowed folder is not read.
                if self.scope.contains(&url) && !self.robots_allow(&url).await {
                    self.stats.robots_excluded += 1;
                    self.link_result(&url, &Outcome::Robots, 0, &url).await?;
                    continue;
                }
                links_in_flight += 1;
                let kind = self.links.get(&hash64(url.as_str().as_bytes())).map_or(LinkKind::Page, |l| l.kind);
                in_flight.push(Box::pin(self.check_link(url, kind)));
            }
            let Some(done) = in_flight.next().await else {
                break;
            };
            match done {
                Work::Page(p) => {
                    pages_in_flight -= 1;
                    self.page_done(*p).await?;
                }
                Work::Link(url, f, findings, attachment) => {
                    links_in_flight -= 1;
                    match attachment {
                        Some(Ok(())) => self.stats.attachments_read += 1,
                        Some(Err(why)) => {
                            tracing::warn!(site = %self.site.spec.given, %url, "attachment not read: {why}");
                            self.stats.attachments_unreadable += 1;
                            if self.stats.attachments_unreadable_examples.len() < UNREADABLE_NAMED {
                                let example = UnreadableAttachment { url: url.to_string(), error: why };
                                self.stats.attachments_unreadable_examples.push(example);
                            }
                        }
                        None => {}
                    }
                    self.link_result(&url, &f.outcome, f.elapsed_ms, &f.final_url).await?;
                    if !findings.is_empty() {
                        self.send(Op::Findings { site_id: self.site.id, page_url: url.to_string(), findings }).await?;
                    }
                }
            }
        }
        let counts: Vec<(String, u32)> = self.overflow.drain().map(|(_, v)| v).collect();
        if !counts.is_empty() {
            self.send(Op::SourceCounts { site_id: self.site.id, counts }).await?;
        }
        self.ctx.writer.flush().await?;
        let mut stats = self.finish_stats(started, resumed);
        if let Some(task) = https
            && let Ok(report) = task.await
        {
            stats.https = Some(report);
        }
        Ok(stats)
    }

    /// Where the site's HTTPS is probed: its own port when given as https://, else 443 (or the
    /// port the options name), through a `--resolve` override when one matches.
    fn https_probe(&self, seed: &Url) -> sitecensus_fetch::HttpsProbe {
        let host = seed.host_str().unwrap_or_default().trim_matches(['[', ']']).to_owned();
        let port = if seed.scheme() == "https" {
            seed.port_or_known_default().unwrap_or(443)
        } else {
            self.ctx.opts.https_port.unwrap_or(443)
        };
        let addr = self
            .ctx
            .opts
            .fetch
            .resolve
            .iter()
            .find(|(h, p, _)| h.eq_ignore_ascii_case(&host) && *p == port)
            .map(|(_, p, a)| std::net::SocketAddr::new(*a, *p))
            .or_else(|| host.parse::<std::net::IpAddr>().ok().map(|a| std::net::SocketAddr::new(a, port)));
        sitecensus_fetch::HttpsProbe {
            host,
            port,
            addr,
            timeout: self.ctx.opts.fetch.timeout,
            extra_roots: Vec::new(),
            proxy: self.ctx.fetcher.proxy_server(),
        }
    }

    /// The crawl's statistics once it has ended: what it counted, and how long it took, the
    /// robots.txt rules that applied and the scope it kept to.
    fn finish_stats(&mut self, started: Instant, resumed: bool) -> CrawlStats {
        let mut stats = std::mem::take(&mut self.stats);
        stats.duration_ms = started.elapsed().as_millis() as u64;
        stats.robots = self
            .robots
            .iter()
            .map(|(k, r)| {
                (k.clone(), RobotsSeen { status: r.status.clone(), rules: r.rules.clone(), crawl_delay: r.crawl_delay })
            })
            .collect();
        stats.soft404_probe = self.missing.is_some();
        stats.scope = self.scope.keys().to_vec();
        stats.resumed = resumed;
        stats
    }

    /// Counts an address left out by the guard `reason`.
    fn cut(&mut self, reason: &str) {
        match self.stats.urls_cut.get_mut(reason) {
            Some(n) => *n += 1,
            None => {
                self.stats.urls_cut.insert(reason.to_owned(), 1);
            }
        }
    }
    async fn ensure_robots(&mut self, url: &Url) {
        let key = scope_key(url);
        if self.robots.contains_key(&key) {
            return;
        }
        let robots = if self.ctx.opts.ignore_robots {
            Robots::allow_all("ignored (--ignore-robots)")
        } else {
            let r = Robots::fetch(&self.ctx.fetcher, url).await;
            if let Some(delay) = r.crawl_delay {
                self.ctx.fetcher.limits().set_crawl_delay(&sitecensus_fetch::politeness::host_key(url), delay);
            }
            if url.join("/").is_ok_and(|root| !r.allowed(&root)) {
                self.ctx.progress.message(&format!(
                    "{}: robots.txt keeps sitecensus out of {} ({}): only the homepage is read; \
                     --ignore-robots inspects it anyway",
                    self.spec().given,
                    key,
                    r.status
                ));
            }
            r
        };
        Arc::make_mut(&mut self.robots).insert(key, Arc::new(robots));
    }

    async fn robots_allow(&mut self, url: &Url) -> bool {
        self.ensure_robots(url).await;
        self.robots.get(&scope_key(url)).is_none_or(|r| r.allowed(url))
    }

    /// Asks for a URL that surely does not exist; a site that answers it with 200 gets its
    /// answer remembered, so that links to pages matching it count as soft 404s.
    async fn probe_missing_page(&mut self, seed: &Url) {
        let Ok(probe) = seed.join(&format!("/sitecensus-missing-{:016x}.html", fastrand::u64(..))) else {
            return;
        };
        if !self.robots_allow(&probe).await {
            return;
        }
        let f = self.ctx.fetcher.get(&probe).await;
        if !matches!(f.outcome, Outcome::Ok { .. }) || !f.is_html() {
            return;
        }
        let opts = self.extract_options(false);
        let ct = f.content_type.clone();
        let body = f.body.clone();
        let page = sitecensus_extract::extract(&body, ct.as_deref(), &f.final_url, &opts);
        self.missing =
            Some(Arc::new(MissingPage { hash: hash64(&body), title: page.title, text_chars: page.text_chars }));
    }

    async fn read_sitemaps(&mut self, seed: &Url) -> Result<(), StoreError> {
        let mut sitemaps: Vec<String> = self.robots.values().flat_map(|r| r.sitemaps.clone()).collect();
        if sitemaps.is_empty()
            && let Ok(u) = seed.join("/sitemap.xml")
        {
            sitemaps.push(u.to_string());
        }
        let mut found = Vec::new();
        let mut fetched = 0;
        while let Some(sm) = sitemaps.pop() {
            fetched += 1;
            if fetched > 20 {
                break;
            }
            let Ok(url) = Url::parse(&sm) else { continue };
            if !self.scope.contains(&url) || !self.robots_allow(&url).await {
                continue;
            }
            let f = self.ctx.fetcher.get(&url).await;
            if !matches!(f.outcome, Outcome::Ok { .. }) {
                continue;
            }
            match sitecensus_extract::sitemap::parse(&String::from_utf8_lossy(&f.body), SITEMAP_URLS) {
                Ok(s) => {
                    sitemaps.extend(s.sitemaps);
                    found.extend(s.urls);
                }
                Err(e) => self.ctx.progress.message(&format!("{}: {sm}: {e}", self.spec().given)),
            }
        }
        let mut add = Vec::new();
        for loc in found {
            let Ok(url) = sitecensus_core::urlnorm::resolve(seed, &loc) else {
                continue;
            };
            if self.scope.contains(&url) && self.seen.insert(hash64(url.as_str().as_bytes())) {
                if let Some(reason) = trap(&url, self.ctx.opts.max_url_len, self.ctx.opts.as_of.date().year()) {
                    self.cut(reason);
                    continue;
                }
                self.stats.sitemap_urls += 1;
                add.push((url.to_string(), 1));
                self.queue.push_back((url, 1));
            }
        }
        if !add.is_empty() {
            self.send(Op::Frontier { site_id: self.site.id, urls: add }).await?;
        }
        Ok(())
    }

    fn extract_options(&self, homepage: bool) -> sitecensus_extract::Options {
        sitecensus_extract::Options { as_of: self.ctx.opts.as_of.date(), homepage: Some(homepage) }
    }

    /// Fetches a page and reads it on the CPU pool; a page the static reading could not read is
    /// drawn by the browser (within the site's budget) and read again as drawn.
    fn fetch_page(
        &self,
        url: Url,
        depth: u32,
        homepage: bool,
    ) -> impl std::future::Future<Output = Work> + Send + 'static {
        let fetcher = self.ctx.fetcher.clone();
        let cpu = self.ctx.cpu.clone();
        let checks = self.ctx.checks.clone();
        let opts = self.extract_options(homepage);
        let scope = self.scope.clone();
        let draw = Draw {
            renderer: self.ctx.renderer.clone(),
            left: self.render_left.clone(),
            budget: self.ctx.opts.render.as_ref().map_or(0, |r| r.budget),
            progress: self.ctx.progress.clone(),
            cpu: self.ctx.cpu.clone(),
            checks: self.ctx.checks.clone(),
            opts,
            robots: self.robots.clone(),
        };
        async move {
            // A list protocol that asks by POST (Hanweb's jpage groups) is asked as the page's
            // own script asks; the page keeps the address that names its group.
            let fetched = match sitecensus_extract::cms::post_form(&url) {
                Some((target, form)) => {
                    let mut f = fetcher.post_form(&target, &form).await;
                    if f.final_url == target {
                        f.final_url = url.clone();
                    }
                    f.url = url.clone();
                    f
                }
                None => fetcher.get(&url).await,
            };
            // The homepage is read wherever it redirects: where it lands decides the scope.
            let readable = matches!(fetched.outcome, Outcome::Ok { .. })
                && (fetched.is_html() || sitecensus_extract::embedded::is_datastore_bytes(&fetched.body))
                && (homepage || scope.contains(&fetched.final_url));
            let (page, findings) = if readable {
                let _slot = cpu.acquire(fetched.body.len()).await;
                let body = fetched.body.clone();
                let ct = fetched.content_type.clone();
                let final_url = fetched.final_url.clone();
                tokio::task::spawn_blocking(move || {
                    let (page, findings) =
                        sitecensus_extract::analyze(&body, ct.as_deref(), &final_url, &opts, |page, dom| {
                            checks.page(page, dom)
                        });
                    (Some(page), findings)
                })
                .await
                .unwrap_or((None, Vec::new()))
            } else {
                (None, Vec::new())
            };
            let (page, findings, render) = match page {
                Some(p) if draw.checks.render_wanted(&p, homepage) => draw.draw(p, findings, &fetched).await,
                p => (p, findings, None),
            };
            Work::Page(Box::new(PageDone { url, depth, homepage, fetched, page, findings, render }))
        }
    }

    /// Checks a link target. A download answered by an HTML page is read: a "page not found"
    /// page in place of a form is a broken download, whatever its status.
    ///
    /// With a WARC being written, the site's own stylesheets and images are fetched whole (up to
    /// [`ASSET_LIMIT`]) instead of asked for their head, so that the archive replays its pages
    /// as they looked.
    fn check_link(&self, url: Url, kind: LinkKind) -> impl std::future::Future<Output = Work> + Send + 'static {
        let download = kind == LinkKind::Download;
        let fetcher = self.ctx.fetcher.clone();
        let checks = self.ctx.checks.clone();
        let cpu = self.ctx.cpu.clone();
        let missing = self.missing.clone();
        let opts = self.extract_options(false);
        let in_scope = self.scope.contains(&url);
        // The site's own spreadsheets and documents are read, not only checked: most leaks of
        // personal data sit in the lists attached to notices.
        let ext = sitecensus_core::urlnorm::extension(&url).unwrap_or_default();
        let read = in_scope
            && download
            && checks.attachment_policy().and_then(|(exts, max)| exts.contains(&ext).then_some(max)).is_some();
        let max = checks.attachment_policy().map_or(0, |(_, m)| m);
        async move {
            if read {
                let f = fetcher.fetch(&url, reqwest_get(), max).await;
                let mut findings = Vec::new();
                if matches!(f.outcome, Outcome::Ok { .. }) && !f.is_html() {
                    let _slot = cpu.acquire(f.body.len()).await;
                    let (body, u) = (f.body.clone(), url.to_string());
                    let read = tokio::task::spawn_blocking(move || {
                        sitecensus_extract::attachments::text_of(&body, &ext)
                            .map(|text| checks.attachment(&u, &text))
                            .map_err(|e| e.to_string())
                    })
                    .await
                    .unwrap_or_else(|e| Err(format!("reading it failed: {e}")));
                    let status = match read {
                        Ok(found) => {
                            findings = found;
                            Ok(())
                        }
                        Err(why) => Err(why),
                    };
                    return Work::Link(url, Box::new(f), findings, Some(status));
                }
                if !matches!(f.outcome, Outcome::Ok { .. }) {
                    return Work::Link(url, Box::new(f), findings, None);
                }
            }
            let asset = in_scope && fetcher.archives() && matches!(kind, LinkKind::Stylesheet | LinkKind::Image);
            let mut f =
                if asset { fetcher.fetch(&url, reqwest_get(), ASSET_LIMIT).await } else { fetcher.check(&url).await };
            if download && in_scope && matches!(f.outcome, Outcome::Ok { .. }) && f.is_html() {
                let got = fetcher.fetch(&url, reqwest_get(), sitecensus_fetch::client::CHECK_BODY_LIMIT).await;
                if let Outcome::Ok { status } = got.outcome {
                    let page =
                        sitecensus_extract::extract(&got.body, got.content_type.as_deref(), &got.final_url, &opts);
                    if let Some(reason) = soft404(&checks, missing.as_deref(), &page, &got.body) {
                        f.outcome = Outcome::SoftNotFound { status, reason };
                    }
                }
            }
            Work::Link(url, Box::new(f), Vec::new(), None)
        }
    }

    fn queue_link_check(&mut self, url: Url) {
        let key = hash64(url.as_str().as_bytes());
        if self.links.get(&key).is_some_and(|l| l.checked) {
            return;
        }
        if self.links_queued >= self.ctx.opts.max_links {
            self.cut("link budget exhausted");
            return;
        }
        self.links_queued += 1;
        self.link_queue.push_back(url);
    }

    async fn link_result(
        &mut self,
        url: &Url,
        outcome: &Outcome,
        elapsed_ms: u64,
        final_url: &Url,
    ) -> Result<(), StoreError> {
        let key = hash64(url.as_str().as_bytes());
        if let Some(state) = self.links.get_mut(&key) {
            state.checked = true;
            self.ctx
                .writer
                .send(Op::LinkChecked {
                    site_id: self.site.id,
                    url: url.to_string(),
                    outcome: outcome_json(outcome),
                    status: outcome.status(),
                    elapsed_ms,
                    final_url: final_url.to_string(),
                })
                .await?;
        }
        Ok(())
    }

    async fn page_done(&mut self, mut p: PageDone) -> Result<(), StoreError> {
        let site_id = self.site.id;
        self.pages_fetched += 1;
        self.stats.bytes += p.fetched.body.len() as u64;
        self.stats.pages_via_old_tls += u64::from(p.fetched.legacy_tls);
        if p.fetched.truncated {
            self.stats.pages_truncated += 1;
            if p.page.is_some()
                && let Some(f) = self.ctx.checks.truncated_page(p.url.as_str(), p.fetched.body.len())
            {
                p.findings.push(f);
            }
        }
        match p.render {
            Some(true) => self.stats.pages_rendered += 1,
            Some(false) => self.stats.render_failures += 1,
            None => {}
        }
        let mut outcome = p.fetched.outcome.clone();
        if let (Some(page), Outcome::Ok { status }) = (&p.page, &outcome)
            && !p.homepage
            && let Some(reason) = soft404(&self.ctx.checks, self.missing.as_deref(), page, &p.fetched.body)
        {
            outcome = Outcome::SoftNotFound { status: *status, reason };
        }
        if p.page.is_none() && matches!(outcome, Outcome::Ok { .. }) && self.scope.contains(&p.fetched.final_url) {
            self.stats.non_html_pages += 1;
        }
        self.ctx.progress.page_fetched(self.spec(), p.url.as_str(), !outcome.is_failure());

        if p.homepage {
            self.homepage_fetched(&p, &outcome);
        }
        // The crawl of a page is the check of every link to it.
        self.link_result(&p.url, &outcome, p.fetched.elapsed_ms, &p.fetched.final_url).await?;

        let mut frontier = Vec::new();
        let mut links = Vec::new();
        if let Some(page) = &p.page {
            let page_url = p.url.to_string();
            let as_of_year = self.ctx.opts.as_of.date().year();
            for l in &page.links {
                let key = hash64(l.url.as_bytes());
                let state = self.links.entry(key).or_insert(LinkState { checked: false, sources: 0, kind: l.kind });
                let new_target = state.sources == 0 && !state.checked;
                state.sources += 1;
                let keep_source = state.sources <= SOURCES_KEPT;
                let checked = state.checked;
                if !keep_source {
                    self.overflow.entry(key).or_insert_with(|| (l.url.clone(), 0)).1 = state.sources;
                }
                // A template's links, on every page of the site, are counted and nothing more:
                // no need to read their address again.
                let follow = !checked && !self.seen.contains(&key);
                if !(new_target || keep_source || follow) {
                    continue;
                }
                let Ok(target) = Url::parse(&l.url) else {
                    continue;
                };
                let internal = self.scope.contains(&target);
                if new_target || keep_source {
                    links.push(LinkAdd {
                        url: l.url.clone(),
                        kind: l.kind.as_str(),
                        internal,
                        new_target,
                        source: keep_source.then(|| (page_url.clone(), l.text.clone(), l.hidden)),
                    });
                }
                if !follow {
                    continue;
                }
                self.seen.insert(key);
                if internal && l.kind.is_crawlable() {
                    if let Some(reason) = trap(&target, self.ctx.opts.max_url_len, as_of_year) {
                        self.cut(reason);
                        self.send(Op::Skip { site_id, urls: vec![(l.url.clone(), reason.to_owned())] }).await?;
                        self.pending_link_outcome(&target, Outcome::Skipped { reason: reason.to_owned() });
                        continue;
                    }
                    // A stub homepage that only redirects: its target is the real homepage.
                    if p.homepage
                        && l.via.is_some()
                        && page.text_chars < STUB_TEXT_CHARS
                        && self.homepage_hops < HOMEPAGE_HOPS
                    {
                        self.homepage_hops += 1;
                        frontier.push((l.url.clone(), 0));
                        self.homepage_queue.push_back(target);
                        continue;
                    }
                    if p.depth < self.ctx.opts.max_depth {
                        frontier.push((l.url.clone(), p.depth + 1));
                        self.queue.push_back((target, p.depth + 1));
                    } else {
                        self.cut("deeper than --max-depth");
                        self.queue_link_check(target);
                    }
                } else if internal || self.ctx.opts.check_external {
                    self.queue_link_check(target);
                }
            }
        }
        let model = p.page.as_mut().map(|page| {
            let keep_links = p.homepage || page.page_kind == PageKind::Homepage;
            compact(page, keep_links);
            serde_json::to_string(&*page).expect("page models serialise")
        });
        let row = PageRow {
            url: p.url.to_string(),
            final_url: p.fetched.final_url.to_string(),
            depth: p.depth,
            status: outcome.status(),
            outcome: outcome_json(&outcome),
            content_type: p.fetched.content_type.clone(),
            encoding: p.page.as_ref().map(|pg| pg.encoding.clone()),
            size: p.fetched.body.len(),
            truncated: p.fetched.truncated,
            elapsed_ms: p.fetched.elapsed_ms,
            content_hash: (!p.fetched.body.is_empty()).then(|| format!("{:016x}", hash64(&p.fetched.body))),
            fetched_at: now(),
            title: p.page.as_ref().map(|pg| pg.title.clone()),
            kind: p.page.as_ref().map(|pg| pg.page_kind.as_str().to_owned()),
            published: p.page.as_ref().and_then(|pg| pg.published.clone()),
            rendered: p.page.as_ref().is_some_and(|pg| pg.rendered),
            model,
        };
        self.send(Op::PageDone {
            site_id,
            page: Box::new(row),
            frontier,
            links,
            findings: std::mem::take(&mut p.findings),
        })
        .await?;
        // Links found after the trap guard cut them carry their outcome now that their row exists.
        for (url, outcome) in std::mem::take(&mut self.pending_outcomes) {
            self.link_result(&url, &outcome, 0, &url).await?;
        }
        Ok(())
    }

    fn pending_link_outcome(&mut self, url: &Url, outcome: Outcome) {
        self.pending_outcomes.push((url.clone(), outcome));
    }

    fn homepage_fetched(&mut self, p: &PageDone, outcome: &Outcome) {
        let final_url = p.fetched.final_url.to_string();
        let attempts: Vec<AttemptRecord> = p
            .fetched
            .attempts
            .iter()
            .map(|a| AttemptRecord {
                at: sitecensus_core::time::stamp(&a.at),
                outcome: a.outcome.clone(),
                elapsed_ms: a.elapsed_ms,
            })
            .collect();
        match &mut self.homepage {
            // A later hop of a stub homepage: the homepage is where it leads.
            Some(h) => {
                if !outcome.is_failure() {
                    h.final_url = final_url;
                    h.outcome = outcome.clone();
                    h.elapsed_ms += p.fetched.elapsed_ms;
                    h.content_type.clone_from(&p.fetched.content_type);
                    h.bytes = p.fetched.body.len() as u64;
                }
                h.attempts.extend(attempts);
            }
            None => {
                self.homepage = Some(HomepageFetch {
                    url: p.url.to_string(),
                    final_url,
                    outcome: outcome.clone(),
                    elapsed_ms: p.fetched.elapsed_ms,
                    attempts,
                    content_type: p.fetched.content_type.clone(),
                    bytes: p.fetched.body.len() as u64,
                });
            }
        }
        // The homepage redirected elsewhere (www.sh.gov.cn → www.shanghai.gov.cn): that host is the site too.
        if !outcome.is_failure() {
            self.scope.add(&p.fetched.final_url);
        }
        if let Some(h) = &self.homepage {
            let _ = self.ctx.store.set_homepage(self.site.id, &serde_json::to_value(h).expect("serialise"));
        }
    }
}

/// Megabytes all pages being read at once may take: a 10 MB page of links costs some 220 MB to
/// read, so on a machine of many cores the cores alone would not bound it.
pub(crate) const PARSE_MEMORY_MB: u32 = 768;
/// Megabytes of reading one megabyte of page costs at the most (a flood of links, measured).
const PARSE_COST_PER_MB: u32 = 24;

/// Who may read a page now: one slot per core, and a share of the memory budget by size.
pub(crate) struct ParseSlots {
    cpu: Arc<Semaphore>,
    memory: Arc<Semaphore>,
}

/// A slot to read one page in; freed when dropped.
pub(crate) struct ParseSlot {
    _cpu: tokio::sync::OwnedSemaphorePermit,
    _memory: tokio::sync::OwnedSemaphorePermit,
}

impl ParseSlots {
    /// Slots for `cores` pages at once within [`PARSE_MEMORY_MB`].
    pub(crate) fn new(cores: usize) -> Self {
        ParseSlots {
            cpu: Arc::new(Semaphore::new(cores.max(1))),
            memory: Arc::new(Semaphore::new(PARSE_MEMORY_MB as usize)),
        }
    }

    /// Waits for a slot to read `bytes` of page in.
    pub(crate) async fn acquire(&self, bytes: usize) -> ParseSlot {
        let mb = u32::try_from(bytes.div_ceil(1024 * 1024)).unwrap_or(u32::MAX).saturating_mul(PARSE_COST_PER_MB);
        let memory = self.memory.clone().acquire_many_owned(mb.clamp(1, PARSE_MEMORY_MB)).await.expect("never closed");
        let cpu = self.cpu.clone().acquire_owned().await.expect("never closed");
        ParseSlot { _cpu: cpu, _memory: memory }
    }
}

/// What drawing a page needs: the browser, the site's budget, and the reader of drawn pages.
struct Draw {
    renderer: Option<Arc<sitecensus_render::Renderer>>,
    left: Arc<AtomicUsize>,
    budget: usize,
    progress: Arc<dyn Progress>,
    cpu: Arc<ParseSlots>,
    checks: Arc<Checks>,
    opts: sitecensus_extract::Options,
    /// The site's robots.txt rules read so far: the browser's requests obey them too (the
    /// homepage is drawn, where it must be, before robots.txt is read).
    robots: Arc<HashMap<String, Arc<sitecensus_fetch::robots::Robots>>>,
}

impl Draw {
    /// Has the browser draw a page the static reading could not read, and reads it as drawn;
    /// where it cannot, the page says why (`render_note`). Returns the page, its findings, and
    /// whether a render was tried and worked.
    async fn draw(
        self,
        mut page: Page,
        findings: Vec<Finding>,
        fetched: &Fetched,
    ) -> (Option<Page>, Vec<Finding>, Option<bool>) {
        let Some(r) = &self.renderer else {
            page.render_note = Some("rendering is off (--no-render)".to_owned());
            return (Some(page), findings, None);
        };
        if let Some(why) = r.known_unavailable() {
            page.render_note = Some(format!("no browser to render with: {why}"));
            return (Some(page), findings, None);
        }
        if self.left.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1)).is_err() {
            page.render_note =
                Some(format!("the site's render budget of {} pages was spent (--render-budget)", self.budget));
            return (Some(page), findings, None);
        }
        let rules = self.robots.clone();
        let gate: sitecensus_render::RobotsGate = Arc::new(move |u: &Url| {
            let key = scope_key(u);
            rules.get(&key).is_none_or(|r| r.allowed(u))
        });
        let rendered = match r.render_obeying(&fetched.final_url, Some(gate)).await {
            Ok(d) => d,
            Err(e) => {
                if let Some(why) = r.announce_unavailable() {
                    self.progress.message(&format!(
                        "no browser to render with ({why}): lists and channels drawn by scripts are reported as could not read (freshness.unreadable)"
                    ));
                }
                page.render_note = Some(e.to_string());
                return (Some(page), findings, Some(false));
            }
        };
        if !rendered.blocked.is_empty() {
            tracing::info!(page = %fetched.final_url, blocked = ?rendered.blocked, "the guard refused requests of a drawn page");
        }
        let refused: Vec<String> = rendered.blocked.iter().take(3).cloned().collect();
        let _slot = self.cpu.acquire(rendered.html.len()).await;
        let (checks, opts, url) = (self.checks.clone(), self.opts, fetched.final_url.clone());
        let served = page.encoding.clone();
        let drawn = tokio::task::spawn_blocking(move || {
            sitecensus_extract::analyze_rendered(&rendered.html, &served, &url, &opts, |p, dom| checks.page(p, dom))
        })
        .await;
        match drawn {
            // Drawn without what it asked for (robots.txt or the guard refused it) and still
            // showing nothing dated: the page could not be read, it is not empty.
            Ok((drawn, _))
                if !refused.is_empty()
                    && !drawn.has_dated_items()
                    && drawn.page_kind != sitecensus_extract::PageKind::Article =>
            {
                page.render_note =
                    Some(format!("drawn, but the browser was refused what the page asks for: {}", refused.join(", ")));
                (Some(page), findings, Some(false))
            }
            Ok((drawn, more)) => {
                // What the markup showed is kept; what only the drawn page shows is added.
                let mut findings = findings;
                for f in more {
                    if !findings.iter().any(|x| x.check == f.check) {
                        findings.push(f);
                    }
                }
                (Some(drawn), findings, Some(true))
            }
            Err(e) => {
                page.render_note = Some(format!("reading the drawn page failed: {e}"));
                (Some(page), findings, Some(false))
            }
        }
    }
}

/// The page model as stored: links, images and full text are kept for the homepage only (the
/// columns are found from it); other pages keep what their checks read.
fn compact(page: &mut Page, keep_links: bool) {
    page.text = String::new();
    if !keep_links {
        page.links.retain(|l| l.via.is_some() || l.kind == LinkKind::Frame);
        page.images.clear();
        page.script_hosts.clear();
    }
}

/// Why a 200 page is a "page not found" page: by its own text, or by matching what the site
/// answers for a surely-missing URL.
fn soft404(checks: &Checks, missing: Option<&MissingPage>, page: &Page, body: &[u8]) -> Option<String> {
    if let Some(reason) = checks.soft404_by_text(page) {
        return Some(reason);
    }
    let m = missing?;
    if hash64(body) == m.hash {
        return Some(sitecensus_core::outcome::SOFT404_SAME_BYTES.into());
    }
    let close = page.text_chars.abs_diff(m.text_chars) <= (m.text_chars / 10).max(20);
    (page.title == m.title && close && !m.title.is_empty()).then(|| sitecensus_core::outcome::SOFT404_SAME_PAGE.into())
}

fn reqwest_get() -> sitecensus_fetch::client::Method {
    sitecensus_fetch::client::Method::GET
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// Pages are read one per core, and big pages by their share of the memory budget: on a
    /// machine of many cores, three 10 MB pages at once and not a fourth.
    #[tokio::test]
    async fn big_pages_wait_for_memory_small_pages_for_a_core() {
        let slots = ParseSlots::new(16);
        let ten_mb = 10 * 1024 * 1024;
        let mut held = Vec::new();
        for _ in 0..3 {
            held.push(slots.acquire(ten_mb).await);
        }
        let fourth = tokio::time::timeout(Duration::from_millis(100), slots.acquire(ten_mb)).await;
        assert!(fourth.is_err(), "a fourth 10 MB page would pass the memory budget");
        held.pop();
        let fourth = tokio::time::timeout(Duration::from_millis(100), slots.acquire(ten_mb)).await;
        assert!(fourth.is_ok(), "a freed share is taken again");
        drop((held, fourth));
        let two_cores = ParseSlots::new(2);
        let _a = two_cores.acquire(40 * 1024).await;
        let _b = two_cores.acquire(40 * 1024).await;
        assert!(tokio::time::timeout(Duration::from_millis(100), two_cores.acquire(40 * 1024)).await.is_err());
    }
}
