//! Politeness: per host a request rate (a direct governor limiter, not a keyed one: a keyed
//! limiter shares one quota across keys) and a connection cap (a semaphore), plus one global cap
//! on requests in flight. The same shape as lychee's per-host rate limiting. Workers of a census
//! share each host's pace through a [`SharedPace`] (the store), except on the hosts whose sites
//! they hold a lease on: no other worker crawls those.

use std::collections::{HashMap, HashSet};
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Settings of politeness.
#[derive(Debug, Clone, Copy)]
pub struct Politeness {
    /// Requests per second per host; 0 lifts the limit.
    pub per_host_rps: f64,
    /// Connections (requests in flight) per host.
    pub per_host_connections: usize,
    /// Requests in flight over all hosts.
    pub concurrency: usize,
}

/// The default rate per host: 2 requests per second (the anchors use from 1 per 5 s to 10 connections).
pub const DEFAULT_PER_HOST_RPS: f64 = 2.0;
/// The default connections per host.
pub const DEFAULT_PER_HOST_CONNECTIONS: usize = 2;
/// The default number of requests in flight over all hosts.
pub const DEFAULT_CONCURRENCY: usize = 64;
/// The longest robots.txt Crawl-delay honoured, in seconds.
pub const MAX_CRAWL_DELAY_SECS: f64 = 10.0;

impl Default for Politeness {
    fn default() -> Self {
        Politeness {
            per_host_rps: DEFAULT_PER_HOST_RPS,
            per_host_connections: DEFAULT_PER_HOST_CONNECTIONS,
            concurrency: DEFAULT_CONCURRENCY,
        }
    }
}

/// A pace kept where every worker of a census sees it: the time each host may next be asked.
pub trait SharedPace: Send + Sync {
    /// Reserves the next request to `host` (host:port), `period` after the last one any worker
    /// reserved; returns how long to wait before sending it.
    ///
    /// # Errors
    /// When the shared place cannot be reached (the request then keeps this process's pace).
    fn reserve(&self, host: &str, period: Duration) -> Result<Duration, String>;
}

/// The longest a request waits for its shared turn, and how far ahead turns are booked (a clock
/// far off on another worker, or a burst of requests, must not stop this one).
pub const MAX_SHARED_WAIT: Duration = Duration::from_secs(60);

struct HostSlot {
    /// The rate limiter and the period between requests it keeps.
    limiter: Mutex<Option<(Arc<DefaultDirectRateLimiter>, Duration)>>,
    connections: Arc<Semaphore>,
}

/// Pacing shared with other workers, and the hosts this one holds alone.
struct Shared {
    pace: Arc<dyn SharedPace>,
    own: Mutex<HashSet<String>>,
    warned: std::sync::atomic::AtomicBool,
}

/// The permits held while one request is in flight.
pub struct Permit {
    _host: OwnedSemaphorePermit,
    _global: OwnedSemaphorePermit,
}

/// Per-host and global limits for all requests of a run.
pub struct Limits {
    settings: Politeness,
    global: Arc<Semaphore>,
    hosts: Mutex<HashMap<String, Arc<HostSlot>>>,
    shared: std::sync::OnceLock<Shared>,
}

impl std::fmt::Debug for Limits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limits").field("settings", &self.settings).field("hosts", &self.host_count()).finish()
    }
}

fn limiter_for(rps: f64) -> Option<(Arc<DefaultDirectRateLimiter>, Duration)> {
    if rps <= 0.0 || !rps.is_finite() {
        return None;
    }
    let quota = if rps >= 1.0 {
        Quota::per_second(NonZeroU32::new(rps.round() as u32).unwrap_or(NonZeroU32::MIN))
    } else {
        Quota::with_period(Duration::from_secs_f64(1.0 / rps))?
    };
    Some((Arc::new(RateLimiter::direct(quota.allow_burst(NonZeroU32::MIN))), quota.replenish_interval()))
}

/// The key a host's limits are kept under: `host:port`, so that two sites on one server keep one
/// pace and two ports of one name keep their own.
#[must_use]
pub fn host_key(url: &url::Url) -> String {
    format!("{}:{}", url.host_str().unwrap_or_default(), url.port_or_known_default().unwrap_or(0))
}

/// The host name of a host:port key.
fn host_of(key: &str) -> &str {
    key.rsplit_once(':').map_or(key, |(h, _)| h)
}

impl Limits {
    /// Limits with these settings.
    #[must_use]
    pub fn new(settings: Politeness) -> Self {
        Limits {
            settings,
            global: Arc::new(Semaphore::new(settings.concurrency.max(1))),
            hosts: Mutex::new(HashMap::new()),
            shared: std::sync::OnceLock::new(),
        }
    }

    /// Keeps each host's pace shared with other workers through `pace` from now on (a census
    /// worker's store); once per run.
    pub fn share_pace(&self, pace: Arc<dyn SharedPace>) {
        let _ = self.shared.set(Shared {
            pace,
            own: Mutex::new(HashSet::new()),
            warned: std::sync::atomic::AtomicBool::new(false),
        });
    }

    /// Marks `host` (a name, any port) as held by this worker alone, or no longer: its requests
    /// keep this process's pace without asking the shared one.
    pub fn hold_host(&self, host: &str, held: bool) {
        if let Some(s) = self.shared.get() {
            let mut own = s.own.lock().expect("own hosts lock");
            if held {
                own.insert(host.to_owned());
            } else {
                own.remove(host);
            }
        }
    }

    fn slot(&self, host: &str) -> Arc<HostSlot> {
        let mut hosts = self.hosts.lock().expect("limits lock");
        hosts
            .entry(host.to_owned())
            .or_insert_with(|| {
                Arc::new(HostSlot {
                    limiter: Mutex::new(limiter_for(self.settings.per_host_rps)),
                    connections: Arc::new(Semaphore::new(self.settings.per_host_connections.max(1))),
                })
            })
            .clone()
    }

    /// Slows a host down to one request per `delay` (robots.txt Crawl-delay, capped), where that
    /// is slower than the configured rate.
    pub fn set_crawl_delay(&self, host: &str, delay_secs: f64) {
        let delay = delay_secs.clamp(0.0, MAX_CRAWL_DELAY_SECS);
        if delay <= 0.0 {
            return;
        }
        let rps = 1.0 / delay;
        let configured = self.settings.per_host_rps;
        if configured > 0.0 && configured <= rps {
            return;
        }
        *self.slot(host).limiter.lock().expect("limiter lock") = limiter_for(rps);
    }

    /// Waits for a connection to `host`, its rate, and a global slot, in that order (so that no
    /// global slot is held while waiting on one slow host).
    pub async fn acquire(&self, host: &str) -> Permit {
        let slot = self.slot(host);
        let host_permit = slot.connections.clone().acquire_owned().await.expect("semaphore never closed");
        let limiter = slot.limiter.lock().expect("limiter lock").clone();
        if let Some((l, period)) = limiter {
            l.until_ready().await;
            self.shared_turn(host, period).await;
        }
        let global = self.global.clone().acquire_owned().await.expect("semaphore never closed");
        Permit { _host: host_permit, _global: global }
    }

    /// Waits for this request's turn at `host` among all workers, unless this worker holds the
    /// host alone. When the shared pace cannot be reached, this process's pace is kept (said once).
    async fn shared_turn(&self, host: &str, period: Duration) {
        let Some(s) = self.shared.get() else { return };
        if s.own.lock().expect("own hosts lock").contains(host_of(host)) {
            return;
        }
        let (pace, key) = (s.pace.clone(), host.to_owned());
        match tokio::task::spawn_blocking(move || pace.reserve(&key, period)).await {
            Ok(Ok(wait)) if !wait.is_zero() => tokio::time::sleep(wait.min(MAX_SHARED_WAIT)).await,
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                if !s.warned.swap(true, std::sync::atomic::Ordering::Relaxed) {
                    tracing::warn!(
                        "the pace shared with other workers could not be read ({e}): keeping this worker's own"
                    );
                }
            }
            Err(e) => tracing::warn!("reserving a shared turn failed: {e}"),
        }
    }

    /// How many hosts have been seen (for memory accounting and tests).
    #[must_use]
    pub fn host_count(&self) -> usize {
        self.hosts.lock().expect("limits lock").len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[tokio::test]
    async fn rate_per_host_is_kept_and_hosts_do_not_share_a_quota() {
        let limits = Limits::new(Politeness { per_host_rps: 10.0, per_host_connections: 4, concurrency: 16 });
        let start = Instant::now();
        for _ in 0..6 {
            drop(limits.acquire("a.gov.cn").await);
        }
        let a = start.elapsed();
        assert!(a >= Duration::from_millis(450), "6 requests at 10/s took {a:?}");
        let start = Instant::now();
        drop(limits.acquire("b.gov.cn").await);
        assert!(start.elapsed() < Duration::from_millis(50), "another host has its own quota");
    }

    #[tokio::test]
    async fn zero_rps_lifts_the_rate() {
        let limits = Limits::new(Politeness { per_host_rps: 0.0, per_host_connections: 1, concurrency: 1 });
        let start = Instant::now();
        for _ in 0..100 {
            drop(limits.acquire("a.gov.cn").await);
        }
        assert!(start.elapsed() < Duration::from_millis(100));
    }

    #[tokio::test]
    async fn crawl_delay_slows_a_host() {
        let limits = Limits::new(Politeness { per_host_rps: 0.0, per_host_connections: 1, concurrency: 1 });
        limits.set_crawl_delay("a.gov.cn", 0.2);
        let start = Instant::now();
        for _ in 0..3 {
            drop(limits.acquire("a.gov.cn").await);
        }
        assert!(start.elapsed() >= Duration::from_millis(350));
    }

    /// A pace two processes share: the next free time per host, as the store keeps it.
    #[derive(Default)]
    struct Board(Mutex<HashMap<String, Instant>>);

    impl SharedPace for Board {
        fn reserve(&self, host: &str, period: Duration) -> Result<Duration, String> {
            let now = Instant::now();
            let mut next = self.0.lock().unwrap();
            let at = next.get(host).copied().filter(|t| *t > now).unwrap_or(now);
            next.insert(host.to_owned(), at + period);
            Ok(at - now)
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn workers_share_a_host_pace_except_on_hosts_they_hold() {
        let settings = Politeness { per_host_rps: 10.0, per_host_connections: 4, concurrency: 16 };
        let board: Arc<dyn SharedPace> = Arc::new(Board::default());
        let (one, two) = (Limits::new(settings), Limits::new(settings));
        one.share_pace(board.clone());
        two.share_pace(board);
        // Each worker alone would send its 3 at 0, 100 and 200 ms; together they take turns.
        let start = Instant::now();
        async fn three(l: &Limits) {
            for _ in 0..3 {
                drop(l.acquire("ext.gov.cn:80").await);
            }
        }
        tokio::join!(three(&one), three(&two));
        let both = start.elapsed();
        assert!(both >= Duration::from_millis(450), "6 turns at 10/s across two workers took {both:?}");
        // A host a worker holds alone (its leased site's) keeps only that worker's pace.
        one.hold_host("site.gov.cn", true);
        two.hold_host("site.gov.cn", true);
        let start = Instant::now();
        tokio::join!(async { drop(one.acquire("site.gov.cn:80").await) }, async {
            drop(two.acquire("site.gov.cn:443").await)
        });
        assert!(start.elapsed() < Duration::from_millis(50));
    }
}
