//! Politeness: per host a request rate (a direct governor limiter, not a keyed one: a keyed
//! limiter shares one quota across keys) and a connection cap (a semaphore), plus one global cap
//! on requests in flight. The same shape as lychee's per-host rate limiting.

use std::collections::HashMap;
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

struct HostSlot {
    limiter: Mutex<Option<Arc<DefaultDirectRateLimiter>>>,
    connections: Arc<Semaphore>,
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
}

fn limiter_for(rps: f64) -> Option<Arc<DefaultDirectRateLimiter>> {
    if rps <= 0.0 || !rps.is_finite() {
        return None;
    }
    let quota = if rps >= 1.0 {
        Quota::per_second(NonZeroU32::new(rps.round() as u32).unwrap_or(NonZeroU32::MIN))
    } else {
        Quota::with_period(Duration::from_secs_f64(1.0 / rps))?
    };
    Some(Arc::new(RateLimiter::direct(quota.allow_burst(NonZeroU32::MIN))))
}

impl Limits {
    /// Limits with these settings.
    #[must_use]
    pub fn new(settings: Politeness) -> Self {
        Limits {
            settings,
            global: Arc::new(Semaphore::new(settings.concurrency.max(1))),
            hosts: Mutex::new(HashMap::new()),
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
        if let Some(l) = limiter {
            l.until_ready().await;
        }
        let global = self.global.clone().acquire_owned().await.expect("semaphore never closed");
        Permit { _host: host_permit, _global: global }
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
}
