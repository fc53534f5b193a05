//! `sitecensus monitor`: watching sites between rounds. Each site has jobs in the store — an
//! availability probe of its homepage (every 30 minutes by default), a daily pass over its
//! homepage and column pages with conditional requests, and a full scan (weekly) —
//! claimed with a lease when due, so a restart loses none and two monitors double none. What a
//! job finds becomes alerts, once per (site, check, target) until resolved; each alert queues a
//! message for every channel routed to the site, in the same transaction, and the channels send
//! what is queued (a message per event, or a digest), within their rate limits.

pub mod channels;
pub mod config;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use sitecensus_core::column::Column;
use sitecensus_core::{AsOf, CheckId, Outcome, Severity, SiteSpec};
use sitecensus_fetch::politeness::Limits;
use sitecensus_fetch::{FetchConfig, Fetcher};
use sitecensus_report::SiteResult;
use sitecensus_scan::ScanOptions;
use sitecensus_store::Store;
use sitecensus_store::monitor::{HomepageLook, Job, NewAlert};

pub use channels::{Message, Sender, SiteInfo};
pub use config::MonitorConfig;

/// Why the monitor cannot go on (a job that fails is reported in its round, not here).
#[derive(Debug, thiserror::Error)]
pub enum MonitorError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] sitecensus_store::StoreError),
    /// The probes' HTTP client could not be built.
    #[error(transparent)]
    Fetch(#[from] sitecensus_fetch::client::BuildError),
    /// The channels' HTTP client could not be built.
    #[error(transparent)]
    Send(#[from] channels::SendError),
    /// The rubric's parameters of a check the monitor runs do not fit.
    #[error(transparent)]
    Rubric(#[from] sitecensus_checks::ParamError),
}

/// What one round of due jobs did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Round {
    /// Probes taken, and how many of them failed.
    pub probes: usize,
    /// Of which failed.
    pub probes_failed: usize,
    /// Sites scanned.
    pub scanned: usize,
    /// Pages asked whether they changed (the daily pass).
    pub pages: usize,
    /// Sites whose pages changed, their scan brought forward.
    pub changed: usize,
    /// Alerts raised.
    pub raised: usize,
    /// Alerts resolved.
    pub resolved: usize,
    /// Messages sent (a digest counts each event in it).
    pub sent: usize,
    /// What went wrong, one line each (the jobs are tried again when next due).
    pub errors: Vec<String>,
}

impl Round {
    fn add(&mut self, o: Round) {
        self.probes += o.probes;
        self.probes_failed += o.probes_failed;
        self.scanned += o.scanned;
        self.pages += o.pages;
        self.changed += o.changed;
        self.raised += o.raised;
        self.resolved += o.resolved;
        self.sent += o.sent;
        self.errors.extend(o.errors);
    }

    /// Whether the round did anything worth a line.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        *self == Round::default()
    }
}

/// The check an unreachable homepage alerts under.
const DOWN: CheckId = CheckId::AvailabilityUnreachable;
/// The check a replaced homepage alerts under.
const DEFACED: CheckId = sitecensus_checks::defacement::ID;
/// How long a claimed probe is its monitor's before another may take it, beside the time its
/// batch takes at worst (every probe in it timing out).
const PROBE_LEASE_SECS: i64 = 120;
/// Probes in flight at once.
const PROBES_AT_ONCE: usize = 64;
/// How long a claimed scan is its monitor's.
const SCAN_LEASE_SECS: i64 = 12 * 3600;
/// Most probes claimed at once.
const PROBE_BATCH: usize = 2000;
/// Most sites scanned in one run.
const SCAN_BATCH: usize = 500;
/// How long a channel's delivery is its monitor's: a round sends at most 20 messages (the rate
/// limit), each within the sender's timeout.
const DELIVER_LEASE_SECS: i64 = 900;
/// Most messages a digest holds.
const DIGEST_MAX: usize = 500;
/// Most column pages a daily pass asks after, beside the homepage.
const PAGES_PER_SITE: usize = 40;
/// Most of a page's body read to tell whether it changed.
const PAGE_BYTES: usize = 4 << 20;

/// Monitors made in this process, to tell their claims apart.
static MONITORS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// The monitor over a store, a site list and a configuration.
pub struct Monitor {
    store: Arc<Store>,
    config: MonitorConfig,
    sites: Vec<SiteSpec>,
    info: HashMap<String, SiteInfo>,
    scan: ScanOptions,
    as_of: Option<AsOf>,
    holder: String,
    fetcher: Arc<Fetcher>,
    probe_timeout: Duration,
    /// The rubric's rule of `security.defacement`, when it runs it.
    defacement: Option<sitecensus_checks::Rule<sitecensus_checks::defacement::DefacementParams>>,
    /// The rubric's rule of `freshness.homepage_stale`, when it runs it.
    homepage_rule: Option<sitecensus_checks::Rule<sitecensus_checks::freshness::HomepageParams>>,
    sender: Sender,
    /// The daily pass's client: conditional requests, no redirect followed (an address a page
    /// names is asked only on the site's own host).
    pages_http: reqwest::Client,
    /// Each host's pace and connections, shared by the probes, the daily passes and the scans.
    limits: Arc<Limits>,
}

/// The rubric's probe timeout: a probe that has not opened the homepage within it fails.
#[must_use]
pub fn probe_timeout(rubric: &sitecensus_core::Rubric) -> Duration {
    let secs =
        rubric.params::<sitecensus_checks::availability::UnreachableParams>(DOWN).map_or(15, |p| p.probe_timeout_secs);
    Duration::from_secs(secs)
}

/// A homepage probe as stored, from what fetching `url` at `at` gave: it succeeds when the page
/// opened within `timeout`.
#[must_use]
pub fn probe_row(
    url: &url::Url,
    at: String,
    f: &sitecensus_fetch::Fetched,
    timeout: Duration,
) -> sitecensus_store::ProbeRow {
    let ok = matches!(f.outcome, Outcome::Ok { .. }) && u128::from(f.elapsed_ms) < timeout.as_millis();
    sitecensus_store::ProbeRow {
        url: url.to_string(),
        at,
        ok,
        status: f.outcome.status(),
        elapsed_ms: f.elapsed_ms,
        error: (!ok).then(|| f.outcome.describe()),
    }
}

/// A number from a text, the same on every run: spreads sites over an interval.
fn spread(text: &str, over: u64) -> u64 {
    let h = text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    if over == 0 { 0 } else { h % over }
}

/// The interval of `every` seconds with a site's jitter: up to a tenth of it, at most 5 minutes.
fn next_in(site: &str, every: Duration) -> i64 {
    let secs = every.as_secs().max(1);
    i64::try_from(secs + spread(site, (secs / 10).min(300))).unwrap_or(i64::MAX)
}

impl Monitor {
    /// A monitor of `sites` as `config` says, scanning with `scan`'s options (its as-of is
    /// replaced at each scan by `as_of`, or by now when none is given).
    ///
    /// # Errors
    /// When the probes' or the channels' HTTP client cannot be built.
    pub fn new(
        store: Arc<Store>,
        config: MonitorConfig,
        sites: Vec<SiteSpec>,
        scan: ScanOptions,
        as_of: Option<AsOf>,
    ) -> Result<Self, MonitorError> {
        let probe_timeout = probe_timeout(&scan.rubric);
        let defacement = sitecensus_checks::defacement::rule(&scan.rubric)?;
        let homepage_rule = sitecensus_checks::rule(&scan.rubric, CheckId::FreshnessHomepageStale)?;
        // One pace per host for all the monitor's requests — probes, daily passes and scans —
        // as `scan` keeps it; on a shared store, kept with the workers and other monitors too.
        let mut scan = scan;
        let limits = scan.limits.clone().unwrap_or_else(|| Arc::new(Limits::new(scan.fetch.politeness)));
        if store.is_postgres() {
            limits.share_pace(Arc::new(sitecensus_scan::StorePace(store.clone())));
        }
        scan.limits = Some(limits.clone());
        let cfg = FetchConfig { timeout: probe_timeout, retries: 0, ..scan.fetch.clone() };
        let fetcher = Arc::new(Fetcher::with_limits(cfg, None, limits.clone())?);
        for s in &sites {
            fetcher.guard().allow_host(s.host());
        }
        let info = sites
            .iter()
            .map(|s| (s.given.clone(), SiteInfo { name: s.name.clone(), region: s.region.clone() }))
            .collect();
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "monitor".to_owned());
        let _ = rustls::crypto::ring::default_provider().install_default();
        let pages_http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .user_agent(scan.fetch.user_agent.clone())
            .build()
            .map_err(|e| channels::SendError::Webhook(e.to_string()))?;
        Ok(Monitor {
            store,
            config,
            sites,
            info,
            scan,
            as_of,
            holder: format!(
                "{host}-{}-{}",
                std::process::id(),
                MONITORS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            ),
            fetcher,
            probe_timeout,
            defacement,
            homepage_rule,
            sender: Sender::new()?,
            pages_http,
            limits,
        })
    }

    /// Stores each site's jobs that are not stored yet: due now when `now`, else spread over
    /// their first interval (at most an hour) so that thousands of sites do not fire at once;
    /// and each channel's delivery job. Returns how many site jobs were added.
    ///
    /// # Errors
    /// On store errors.
    pub fn sync_jobs(&self, now: bool) -> Result<usize, MonitorError> {
        let mut jobs = Vec::with_capacity(self.sites.len() * 2);
        for s in &self.sites {
            let plan = self.config.plan_for(&s.given, s.region.as_deref());
            for (kind, every) in [("probe", plan.probe_every), ("pages", plan.pages_every), ("scan", plan.scan_every)] {
                let first = if now { 0 } else { spread(&format!("{kind} {}", s.given), every.as_secs().min(3600)) };
                jobs.push((Job { site: s.given.clone(), kind: kind.to_owned() }, i64::try_from(first).unwrap_or(0)));
            }
        }
        jobs.extend(
            self.config.channels.iter().map(|c| (Job { site: channel_job(&c.name), kind: "deliver".to_owned() }, 0)),
        );
        let added = self.store.sync_monitor_jobs(&jobs)?;
        Ok(added.iter().filter(|j| j.kind != "deliver").count())
    }

    fn site(&self, url: &str) -> Option<&SiteSpec> {
        self.sites.iter().find(|s| s.given == url)
    }

    fn channels_for(&self, url: &str) -> Vec<String> {
        let region = self.info.get(url).and_then(|i| i.region.as_deref());
        self.config.channels_for(url, region)
    }

    /// Runs every due job once, then sends what the channels have queued.
    ///
    /// # Errors
    /// On store errors.
    pub async fn run_once(&self) -> Result<Round, MonitorError> {
        let mut round = self.probe_due().await?;
        round.add(self.pages_due().await?);
        round.add(self.scan_due().await?);
        round.add(self.deliver().await?);
        Ok(round)
    }

    /// Runs until `stop` completes: due probes and queued messages every second, scans as they
    /// fall due (beside the probes: a long scan holds up no probe). `report` hears each round that
    /// did something.
    ///
    /// # Errors
    /// On store errors.
    pub async fn run(
        &self,
        stop: impl std::future::Future<Output = ()>,
        report: impl Fn(&Round),
    ) -> Result<(), MonitorError> {
        let fast = async {
            loop {
                let mut r = self.probe_due().await?;
                r.add(self.pages_due().await?);
                r.add(self.deliver().await?);
                if !r.is_empty() {
                    report(&r);
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        };
        let slow = async {
            loop {
                let r = self.scan_due().await?;
                if !r.is_empty() {
                    report(&r);
                }
                tokio::time::sleep(Duration::from_secs(30)).await;
            }
        };
        tokio::select! {
            r = fast => r,
            r = slow => r,
            () = stop => Ok(()),
        }
    }

    /// Probes every homepage whose probe is due, and raises or resolves "down" alerts.
    async fn probe_due(&self) -> Result<Round, MonitorError> {
        // Long enough for the whole batch, so that another monitor does not take a probe still
        // waiting its turn here (it would be dropped, not doubled, but taken for nothing).
        let worst = i64::try_from(PROBE_BATCH.div_ceil(PROBES_AT_ONCE)).unwrap_or(i64::MAX)
            * i64::try_from(self.probe_timeout.as_secs()).unwrap_or(15);
        let jobs = self.store.claim_due_jobs("probe", &self.holder, PROBE_LEASE_SECS + worst, PROBE_BATCH)?;
        let rounds: Vec<Result<Round, MonitorError>> =
            futures::stream::iter(jobs).map(|job| self.probe(job)).buffer_unordered(PROBES_AT_ONCE).collect().await;
        let mut round = Round::default();
        for r in rounds {
            round.add(r?);
        }
        Ok(round)
    }

    async fn probe(&self, job: Job) -> Result<Round, MonitorError> {
        let mut round = Round { probes: 1, ..Round::default() };
        let Some(spec) = self.site(&job.site) else {
            self.store.finish_job(&job, &self.holder, 3600)?;
            return Ok(Round::default());
        };
        let plan = self.config.plan_for(&spec.given, spec.region.as_deref());
        let at = sitecensus_store::now();
        let f = self.fetcher.get(&spec.url).await;
        let row = probe_row(&spec.url, at, &f, self.probe_timeout);
        if !self.store.finish_probe(&job, &self.holder, &row, next_in(&job.site, plan.probe_every))? {
            // Its lease ran out while it waited: another monitor took the job and tells of it.
            return Ok(Round::default());
        }
        if !row.ok {
            round.probes_failed = 1;
        }
        let need = plan.down_after.max(plan.up_after) as usize;
        let latest = self.store.latest_probes(spec.url.as_str(), need)?;
        let channels = self.channels_for(&spec.given);
        let down = plan.down_after as usize;
        let up = plan.up_after as usize;
        if latest.len() >= down && latest[..down].iter().all(|(ok, _)| !ok) {
            let last = latest[0].1.clone().unwrap_or_default();
            let evidence = format!("the homepage failed {down} probes in a row; the last: {last}");
            let evidence_zh = format!("首页连续 {down} 次探测无法访问，最近一次：{last}");
            let link = self.site_link(&spec.given)?;
            let a = NewAlert {
                site: &spec.given,
                source: "probe",
                check: DOWN.as_str(),
                target: "",
                severity: Severity::Warn.as_str(),
                evidence: &evidence,
                evidence_zh: Some(&evidence_zh),
                link: link.as_deref(),
                page: None,
            };
            if self.store.open_alert(&a, &channels)?.is_some() {
                round.raised += 1;
            }
        } else if latest.len() >= up && latest[..up].iter().all(|(ok, _)| *ok) {
            round.resolved +=
                self.store.resolve_alerts(&spec.given, "probe", Some(&[DOWN.as_str()]), &[], &channels, None)?;
        }
        if row.ok && f.is_html() {
            let (raised, resolved) = self.look_at_homepage(spec, &f, plan.defaced_after, &channels).await?;
            round.raised += raised;
            round.resolved += resolved;
        }
        Ok(round)
    }

    /// Compares the homepage a probe read with the page last taken for it: an update keeps most
    /// of what it showed, a replacement (a defacement, or a redesign) almost nothing. Told once
    /// `after` looks in a row find it replaced; resolved at the first look that finds the
    /// homepage back (or when a person takes the new page for the homepage: `--accept`). An
    /// unchanged body is not read again. Returns (alerts raised, resolved).
    async fn look_at_homepage(
        &self,
        spec: &SiteSpec,
        f: &sitecensus_fetch::Fetched,
        after: u32,
        channels: &[String],
    ) -> Result<(usize, usize), MonitorError> {
        use sha2::Digest;
        use sitecensus_checks::defacement::{self, Print};
        let Some(rule) = &self.defacement else { return Ok((0, 0)) };
        if !self.config.alerts.allows(DEFACED.as_str()) {
            return Ok((0, 0));
        }
        let digest = hex(&sha2::Sha256::digest(&f.body));
        let old = self.store.homepage_look(&spec.given)?;
        let parse = |t: &str| serde_json::from_str::<Print>(t).ok();
        let baseline = old.as_ref().and_then(|o| parse(&o.baseline));
        // The same body as the last look, which found the homepage: nothing to read again (a
        // replacement that stays is read at each look, to count the looks and tell what it says).
        if old.as_ref().is_some_and(|o| o.digest == digest && o.replaced == 0) && baseline.is_some() {
            return Ok((0, 0));
        }
        let (body, ct, url) = (f.body.clone(), f.content_type.clone(), f.final_url.clone());
        let opts = sitecensus_extract::Options { as_of: opts_date(&self.as_of), homepage: Some(true) };
        let read = tokio::task::spawn_blocking(move || {
            let page = sitecensus_extract::extract(&body, ct.as_deref(), &url, &opts);
            let marks = defacement::marks(&page);
            (Print::of(&page, &marks), marks)
        })
        .await;
        let (now, marks) = match read {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(site = %spec.given, "reading the homepage failed: {e}");
                return Ok((0, 0));
            }
        };
        let json = |p: &Print| serde_json::to_string(p).unwrap_or_default();
        let prior = old.zip(baseline);
        let judged = prior.as_ref().and_then(|(o, b)| defacement::replaced(b, &marks, rule).map(|kept| (o, b, kept)));
        let Some((old, before, kept)) = judged else {
            // The first look, or the homepage (updated or not): the page to compare with from now on.
            let look = HomepageLook { baseline: json(&now), candidate: None, digest, replaced: 0 };
            self.store.put_homepage_look(&spec.given, &look)?;
            let resolved = match prior {
                Some(_) => {
                    self.store.resolve_alerts(&spec.given, "probe", Some(&[DEFACED.as_str()]), &[], channels, None)?
                }
                None => 0,
            };
            return Ok((0, resolved));
        };
        let replaced = old.replaced + 1;
        let look = HomepageLook { baseline: old.baseline.clone(), candidate: Some(json(&now)), digest, replaced };
        self.store.put_homepage_look(&spec.given, &look)?;
        if replaced < i64::from(after) {
            return Ok((0, 0));
        }
        let finding = defacement::finding(spec.url.as_str(), before, &now, kept, rule);
        let link = self.site_link(&spec.given)?;
        let a = NewAlert {
            site: &spec.given,
            source: "probe",
            check: DEFACED.as_str(),
            target: "",
            severity: finding.weighed(rule.severity).as_str(),
            evidence: &finding.evidence,
            evidence_zh: finding.evidence_zh.as_deref(),
            link: link.as_deref(),
            page: None,
        };
        Ok((usize::from(self.store.open_alert(&a, channels)?.is_some()), 0))
    }

    /// Takes what now stands in the place of a site's homepage for its homepage — a redesign a
    /// person has looked at, not a defacement — and resolves its alert (the message waits in the
    /// outbox for the monitor's next round). False when nothing stands in its place.
    ///
    /// # Errors
    /// On store errors.
    pub fn accept_homepage(&self, site: &str) -> Result<bool, MonitorError> {
        if !self.store.accept_homepage(site)? {
            return Ok(false);
        }
        let channels = self.channels_for(site);
        self.store.resolve_alerts(site, "probe", Some(&[DEFACED.as_str()]), &[], &channels, None)?;
        Ok(true)
    }

    /// Where the web app shows a site as its latest finished scoring judged it.
    fn site_link(&self, site: &str) -> Result<Option<String>, MonitorError> {
        if self.config.app_url.is_none() {
            return Ok(None);
        }
        Ok(self.store.latest_scored_site(site)?.and_then(|(scoring, id)| self.app_link(scoring, id)))
    }

    /// Where the web app shows site `site_id` of a scoring; None without `app_url`.
    fn app_link(&self, scoring: i64, site_id: i64) -> Option<String> {
        let app = self.config.app_url.as_ref()?;
        Some(format!("{}/sites/{site_id}?scoring={scoring}", app.trim_end_matches('/')))
    }

    /// The daily pass: asks each due site's homepage and column pages whether they changed.
    async fn pages_due(&self) -> Result<Round, MonitorError> {
        let jobs = self.store.claim_due_jobs("pages", &self.holder, PROBE_LEASE_SECS * 10, PROBE_BATCH)?;
        let rounds: Vec<Result<Round, MonitorError>> =
            futures::stream::iter(jobs).map(|job| self.pages(job)).buffer_unordered(16).collect().await;
        let mut round = Round::default();
        for r in rounds {
            round.add(r?);
        }
        Ok(round)
    }

    /// One site's pass: its homepage and the column pages its last scan found, asked with the
    /// validators of their last answer. A page that changed brings the site's scan forward (a
    /// page seen for the first time is only noted); the columns' windows, and the homepage's
    /// while it has not changed, are measured again as of today from what the last scan read, so
    /// that one nearing its window is told of without a scan.
    async fn pages(&self, job: Job) -> Result<Round, MonitorError> {
        let Some(spec) = self.site(&job.site) else {
            self.store.finish_job(&job, &self.holder, 3600)?;
            return Ok(Round::default());
        };
        let plan = self.config.plan_for(&spec.given, spec.region.as_deref());
        let stored = self.store.latest_site(&spec.given)?;
        let host = spec.url.host_str().unwrap_or_default().to_owned();
        let mut urls = vec![spec.url.to_string()];
        if let Some(s) = &stored {
            let own = |u: &str| url::Url::parse(u).is_ok_and(|u| u.host_str() == Some(host.as_str()));
            for c in s.columns.iter().filter(|c| own(&c.url)).take(PAGES_PER_SITE) {
                if !urls.contains(&c.url) {
                    urls.push(c.url.clone());
                }
            }
        }
        let mut round = Round::default();
        let (mut changed, mut home_changed) = (false, false);
        for (i, u) in urls.iter().enumerate() {
            round.pages += 1;
            let c = self.page_changed(u).await?;
            changed |= c;
            home_changed |= c && i == 0;
        }
        if changed {
            self.store.job_due_now(&spec.given, "scan")?;
            round.changed = 1;
        }
        if let Some(s) = &stored {
            let link = self.app_link(s.scoring_id, s.site_id);
            let today = opts_date(&self.as_of);
            let mut due: Vec<Due> = self.columns_near_window(&s.columns, today);
            // An unchanged homepage shows what the scan saw: its newest item, a day older each day.
            if let (false, Some(rule), Some(h)) = (home_changed, &self.homepage_rule, homepage_newest(s)) {
                due.extend(
                    sitecensus_checks::freshness::homepage_stale(&h, today, rule)
                        .iter()
                        .map(|f| Due::of(f, f.weighed(rule.severity))),
                );
            }
            let channels = self.channels_for(&spec.given);
            due.retain(|d| self.config.alerts.allows(d.check.as_str()));
            round.raised += self.open_alerts(&spec.given, &due, link.as_deref(), &channels)?;
        }
        self.store.finish_job(&job, &self.holder, next_in(&job.site, plan.pages_every))?;
        Ok(round)
    }

    /// Whether `url` answers differently from last time (by its validators: a 304 is "no"; by
    /// a digest of its body where the server sends none). A page that does not answer is not
    /// "changed": the probes tell of a site that is down.
    async fn page_changed(&self, url: &str) -> Result<bool, MonitorError> {
        use sha2::Digest;
        let old = self.store.validators(url)?;
        let mut req = self.pages_http.get(url);
        if let Some(v) = &old {
            if let Some(e) = &v.etag {
                req = req.header(reqwest::header::IF_NONE_MATCH, e);
            }
            if let Some(m) = &v.last_modified {
                req = req.header(reqwest::header::IF_MODIFIED_SINCE, m);
            }
        }
        let Ok(parsed) = url::Url::parse(url) else { return Ok(false) };
        let permit = self.limits.acquire(&sitecensus_fetch::politeness::host_key(&parsed)).await;
        let sent = req.send().await;
        let Ok(mut r) = sent else { return Ok(false) };
        if r.status() == reqwest::StatusCode::NOT_MODIFIED || !r.status().is_success() {
            return Ok(false);
        }
        let header =
            |name: reqwest::header::HeaderName| r.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let (etag, last_modified) = (header(reqwest::header::ETAG), header(reqwest::header::LAST_MODIFIED));
        let mut hash = sha2::Sha256::new();
        let mut read = 0;
        while let Ok(Some(chunk)) = r.chunk().await {
            read += chunk.len();
            hash.update(&chunk);
            if read >= PAGE_BYTES {
                break;
            }
        }
        drop(permit);
        let digest = hex(&hash.finalize());
        let changed = old.as_ref().is_some_and(|o| o.digest.as_deref() != Some(digest.as_str()));
        let new = sitecensus_store::monitor::Validators { etag, last_modified, digest: Some(digest) };
        self.store.put_validators(url, &new)?;
        Ok(changed)
    }

    /// Scans every site whose scan is due, in one run, and raises or resolves what it finds.
    async fn scan_due(&self) -> Result<Round, MonitorError> {
        let jobs = self.store.claim_due_jobs("scan", &self.holder, SCAN_LEASE_SECS, SCAN_BATCH)?;
        if jobs.is_empty() {
            return Ok(Round::default());
        }
        let specs: Vec<SiteSpec> = jobs.iter().filter_map(|j| self.site(&j.site).cloned()).collect();
        let mut opts = self.scan.clone();
        opts.as_of = self.as_of.unwrap_or_else(AsOf::now);
        opts.as_of_given = true;
        let mut round = Round::default();
        let out = match sitecensus_scan::scan(self.store.clone(), specs, opts, Arc::new(sitecensus_scan::Silent)).await
        {
            Ok(out) => out,
            Err(e) => {
                // Tried again in a while, not at once: a busy store stays busy for a time.
                for j in &jobs {
                    self.store.finish_job(j, &self.holder, 600)?;
                }
                round.errors.push(format!("scan of {} site(s): {e}", jobs.len()));
                return Ok(round);
            }
        };
        let scoring = self.store.latest_scoring(out.run.id)?.map(|s| s.id);
        for r in &out.results.sites {
            round.scanned += 1;
            let crawl = match scoring {
                Some(g) => self.store.scored_site_id(g, &r.url)?,
                None => None,
            };
            let link = scoring.zip(crawl).and_then(|(g, id)| self.app_link(g, id));
            let (raised, resolved) = self.alerts_of(r, opts_date(&self.as_of), link.as_deref(), crawl)?;
            round.raised += raised;
            round.resolved += resolved;
        }
        for j in &jobs {
            let plan = self.config.plan_for(&j.site, self.info.get(&j.site).and_then(|i| i.region.as_deref()));
            self.store.finish_job(j, &self.holder, next_in(&j.site, plan.scan_every))?;
        }
        Ok(round)
    }

    /// Raises an alert for each finding that calls for one and each column close to its
    /// window; resolves the scan's alerts no longer found, when the homepage was read (and the
    /// page each was seen on: `crawl`, the stored site the scan crawled).
    fn alerts_of(
        &self,
        r: &SiteResult,
        today: chrono::NaiveDate,
        link: Option<&str>,
        crawl: Option<i64>,
    ) -> Result<(usize, usize), MonitorError> {
        let rules = &self.config.alerts;
        let channels = self.channels_for(&r.url);
        let mut due: Vec<Due> = Vec::new();
        let mut add = |d: Due| {
            if rules.allows(d.check.as_str()) && !due.iter().any(|o| o.check == d.check && o.target == d.target) {
                due.push(d);
            }
        };
        for f in &r.findings {
            // A homepage that did not open is the probes' to tell, counted and debounced.
            let calls = matches!(f.severity, Severity::Veto | Severity::Warn)
                || rules.checks.iter().any(|c| c == f.check.as_str());
            if f.check != DOWN && calls {
                add(Due::of(f, f.severity));
            }
        }
        for d in self.columns_near_window(&r.columns, today) {
            add(d);
        }
        let raised = self.open_alerts(&r.url, &due, link, &channels)?;
        // What a scan that could not read the homepage did not find is not gone.
        let read = r.final_url.is_some() && !r.findings.iter().any(|f| f.check == DOWN && f.severity == Severity::Veto);
        let resolved = if read {
            let still: Vec<(String, String)> =
                due.into_iter().map(|d| (d.check.as_str().to_owned(), d.target)).collect();
            self.store.resolve_alerts(&r.url, "scan", None, &still, &channels, crawl)?
        } else {
            0
        };
        Ok((raised, resolved))
    }

    /// Opens (or keeps open, its evidence brought up to date) a scan's alert for each of `due`;
    /// returns how many are new.
    fn open_alerts(
        &self,
        site: &str,
        due: &[Due],
        link: Option<&str>,
        channels: &[String],
    ) -> Result<usize, MonitorError> {
        let mut raised = 0;
        for d in due {
            // Straight to the part of the site's page that shows it.
            let part = if d.check == CheckId::FreshnessColumnStale { "columns" } else { "findings" };
            let link = link.map(|l| format!("{l}#{part}"));
            let a = NewAlert {
                site,
                source: "scan",
                check: d.check.as_str(),
                target: &d.target,
                severity: d.severity.as_str(),
                evidence: &d.evidence,
                evidence_zh: d.evidence_zh.as_deref(),
                link: link.as_deref(),
                page: d.page.as_deref(),
            };
            if self.store.open_alert(&a, channels)?.is_some() {
                raised += 1;
            }
        }
        Ok(raised)
    }

    /// Columns with a window whose newest item leaves `column_warn_days` days or fewer of it, or
    /// is past it: (the column, the evidence in English and in Chinese).
    fn columns_near_window(&self, columns: &[Column], today: chrono::NaiveDate) -> Vec<Due> {
        let rubric = &self.scan.rubric;
        let Ok(windows) = rubric.params::<sitecensus_checks::freshness::ColumnParams>(CheckId::FreshnessColumnStale)
        else {
            return Vec::new();
        };
        let lead = self.config.alerts.column_warn_days.unwrap_or_else(|| {
            rubric
                .params::<sitecensus_checks::freshness::HomepageParams>(CheckId::FreshnessHomepageStale)
                .map_or(3, |h| h.window_days - h.warn_days)
        });
        let mut out = Vec::new();
        for c in columns {
            let (Some(window), Some(latest)) = (windows.window(c.kind), c.latest.as_deref()) else { continue };
            let Ok(day) = chrono::NaiveDate::parse_from_str(latest.get(..10).unwrap_or(latest), "%Y-%m-%d") else {
                continue;
            };
            let left = window - (today - day).num_days();
            // Past the window it stays an alert (the check's own finding may only take points).
            if c.unreadable || left > lead {
                continue;
            }
            let (en, zh) = if left >= 0 {
                (
                    format!("「{}」 was last updated {latest}: {left} day(s) left of its {window}-day window", c.title),
                    format!("「{}」最近更新于 {latest}，距 {window} 天更新期限还剩 {left} 天", c.title),
                )
            } else {
                (
                    format!("「{}」 was last updated {latest}: {} day(s) past its {window}-day window", c.title, -left),
                    format!("「{}」最近更新于 {latest}，已超过 {window} 天更新期限 {} 天", c.title, -left),
                )
            };
            out.push(Due {
                check: CheckId::FreshnessColumnStale,
                target: c.url.clone(),
                severity: Severity::Warn,
                evidence: en,
                evidence_zh: Some(zh),
                page: Some(c.url.clone()),
            });
        }
        out
    }

    /// Sends what each channel has queued: a message per event within its rate limit, or one
    /// digest when its digest is due. A channel is sent by one monitor at a time (its delivery is
    /// a job claimed with a lease), so two monitors on one store never send a message twice.
    async fn deliver(&self) -> Result<Round, MonitorError> {
        let mut round = Round::default();
        for ch in &self.config.channels {
            // Claimed only when there is something to send: an idle channel costs one read.
            if self.store.pending_deliveries(&ch.name, 1)?.is_empty() {
                continue;
            }
            let job = Job { site: channel_job(&ch.name), kind: "deliver".to_owned() };
            if !self.store.claim_job(&job, &self.holder, DELIVER_LEASE_SECS)? {
                continue;
            }
            let r = self.deliver_channel(ch).await;
            // Freed whatever happened: the next round tries again.
            self.store.finish_job(&job, &self.holder, 0)?;
            round.add(r?);
        }
        Ok(round)
    }

    /// Sends what one channel has queued.
    async fn deliver_channel(&self, ch: &config::ChannelConfig) -> Result<Round, MonitorError> {
        let mut round = Round::default();
        let (last_minute, last_sent) = self.store.channel_sends(&ch.name, 60)?;
        let pending = match &ch.digest {
            Some(d) => {
                let every = config::parse_duration(d).map(|d| d.as_secs()).unwrap_or(86_400);
                let now = self.store.clock_secs()?;
                if last_sent.is_some_and(|l| now - l < i64::try_from(every).unwrap_or(i64::MAX)) {
                    return Ok(round);
                }
                self.store.pending_deliveries(&ch.name, DIGEST_MAX)?
            }
            None => {
                let allowed = i64::from(ch.max_per_minute.unwrap_or(20)) - last_minute;
                if allowed <= 0 {
                    return Ok(round);
                }
                self.store.pending_deliveries(&ch.name, usize::try_from(allowed).unwrap_or(0))?
            }
        };
        let none = SiteInfo::default();
        let batches: Vec<Vec<&sitecensus_store::monitor::Delivery>> = if ch.digest.is_some() {
            if pending.is_empty() { Vec::new() } else { vec![pending.iter().collect()] }
        } else {
            pending.iter().map(|d| vec![d]).collect()
        };
        for batch in batches {
            let events: Vec<channels::Event<'_>> =
                batch.iter().map(|d| channels::Event::of(d, self.info.get(&d.alert.site).unwrap_or(&none))).collect();
            let ids: Vec<i64> = batch.iter().map(|d| d.id).collect();
            match self.sender.send(ch, &Message::new(&events, ch.english())).await {
                Ok(()) => {
                    self.store.mark_delivered(&ids)?;
                    round.sent += ids.len();
                }
                Err(e) => {
                    self.store.note_delivery_failure(&ids, &e.to_string())?;
                    round.errors.push(e.to_string());
                    // The channel is down: the rest wait for the next round.
                    break;
                }
            }
        }
        Ok(round)
    }
}

/// An alert a scan (or a daily pass, from what the last scan read) calls for.
struct Due {
    check: CheckId,
    /// What it is about: the finding's target, or its page.
    target: String,
    severity: Severity,
    evidence: String,
    evidence_zh: Option<String>,
    /// The page it was seen on.
    page: Option<String>,
}

impl Due {
    /// The alert of a finding, at `severity`.
    fn of(f: &sitecensus_core::Finding, severity: Severity) -> Self {
        Due {
            check: f.check,
            target: f.target.clone().or_else(|| f.page.clone()).unwrap_or_default(),
            severity,
            evidence: f.evidence.clone(),
            evidence_zh: f.evidence_zh.clone(),
            page: f.page.clone(),
        }
    }
}

/// The job under which a channel's messages are sent.
fn channel_job(name: &str) -> String {
    format!("channel {name}")
}

/// What the latest scan saw of a site's homepage's updates (its figures' `freshness.homepage`).
fn homepage_newest(s: &sitecensus_store::monitor::LatestSite) -> Option<sitecensus_checks::freshness::HomepageNewest> {
    serde_json::from_value(s.freshness.as_ref()?.get("homepage")?.clone()).ok()
}

/// Bytes as lowercase hexadecimal (digests, signatures).
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The day scans are judged as of.
fn opts_date(as_of: &Option<AsOf>) -> chrono::NaiveDate {
    as_of.unwrap_or_else(AsOf::now).date()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_within_a_tenth_and_five_minutes() {
        for site in ["http://a/", "http://b/", "http://www.gov.cn/"] {
            let n = next_in(site, Duration::from_secs(1800));
            assert!((1800..1980).contains(&n), "{n}");
            let n = next_in(site, Duration::from_secs(7 * 86_400));
            assert!((604_800..605_100).contains(&n), "{n}");
        }
        assert_ne!(spread("http://a/", 1000), spread("http://b/", 1000));
    }
}
