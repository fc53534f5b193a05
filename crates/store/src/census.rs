//! A census round shared by workers: sites are leased one at a time (`FOR UPDATE SKIP LOCKED`
//! on PostgreSQL; SQLite's single writer makes the same statement atomic), a lease is renewed
//! while its worker crawls, and a lease that runs out goes to another worker, which resumes the
//! site's crawl from its stored frontier. A site taken too often fails with the error.

use crate::db::{Conn, DbError, p};
use crate::{RunRow, SiteRow, Store, StoreError, now, run_row};

/// A site leased to a worker.
#[derive(Debug, Clone)]
pub struct Lease {
    /// The site, as stored.
    pub site: SiteRow,
    /// Which time this is that a worker takes it (1 for the first).
    pub attempt: u32,
}

/// Where a round stands.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CensusCounts {
    /// Sites no worker has taken yet (or given back after an error, to be tried again).
    pub queued: u64,
    /// Sites a worker holds a lease on.
    pub leased: u64,
    /// Sites crawled and scored.
    pub done: u64,
    /// Sites that failed every attempt.
    pub failed: u64,
    /// Pages stored.
    pub pages: u64,
    /// Pages stored in the last minute.
    pub pages_last_minute: u64,
}

/// Sites looked at per query when choosing the next one to lease.
const LEASE_BATCH: i64 = 64;

/// The next site of a round to lease: a lapsed lease first (its crawl resumes), then a queued
/// site in list order — one whose host no live lease holds (one site per host at a time over all
/// workers). Walked in list order a batch at a time by index, whatever the planner's statistics
/// say (a single query with the host test planned a join over every queued site: 0.3 s a lease
/// on a 10,000-site round).
fn next_free_site(c: &mut Conn, run_id: i64, now_s: i64, pg: bool) -> Result<Option<i64>, DbError> {
    let busy: std::collections::HashSet<String> = c
        .query(
            "SELECT DISTINCT host FROM sites
             WHERE run_id = ?1 AND status = 'crawling' AND lease_until >= ?2 AND host IS NOT NULL",
            p![run_id, now_s],
        )?
        .iter()
        .map(|r| r.get(0))
        .collect::<Result<_, _>>()?;
    let lock = if pg { " FOR UPDATE SKIP LOCKED" } else { "" };
    let lapsed = format!(
        "SELECT id, host, ordinal FROM sites WHERE run_id = ?1 AND status = 'crawling' AND lease_until < ?2
           AND ordinal > ?3 ORDER BY ordinal LIMIT ?4{lock}"
    );
    let queued = format!(
        "SELECT id, host, ordinal FROM sites WHERE run_id = ?1 AND status = 'pending' AND ordinal > ?2
         ORDER BY ordinal LIMIT ?3{lock}"
    );
    for lapsed_first in [true, false] {
        let mut after = -1_i64;
        loop {
            let rows = if lapsed_first {
                c.query(&lapsed, p![run_id, now_s, after, LEASE_BATCH])?
            } else {
                c.query(&queued, p![run_id, after, LEASE_BATCH])?
            };
            for r in &rows {
                let host: Option<String> = r.get(1)?;
                if host.is_none_or(|h| !busy.contains(&h)) {
                    return Ok(Some(r.get(0)?));
                }
            }
            match rows.last() {
                Some(last) if rows.len() as i64 == LEASE_BATCH => after = last.get(2)?,
                _ => break,
            }
        }
    }
    Ok(None)
}

/// The transaction lock a PostgreSQL lease is taken under (one lease at a time).
const LEASE_LOCK: i64 = 7_010_127_407;

/// The database's clock, in milliseconds since 1970, as SQL (constant within one statement).
/// Leases and host turns are set and compared in it, never in a worker's own clock: workers on
/// machines whose clocks disagree must still agree on when a lease runs out. SQLite's clock is
/// the machine's that holds the file (every worker of a SQLite store runs there).
pub(crate) fn clock_ms(pg: bool) -> &'static str {
    if pg {
        "CAST(EXTRACT(EPOCH FROM statement_timestamp()) * 1000 AS BIGINT)"
    } else {
        "CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)"
    }
}

/// The database's clock, in seconds since 1970 (see [`clock_ms`]).
fn db_now_s(c: &mut Conn) -> Result<i64, DbError> {
    c.query_one(&format!("SELECT {} / 1000", clock_ms(c.is_postgres())), p![])?.get(0)
}

impl Store {
    /// Registers a census round: its run (kind `census`) with its sites, and the scoring its
    /// workers store each site's result in. A round with the same identity still running is
    /// refused: two `census start` on one list never make a mixed round.
    ///
    /// # Errors
    /// [`StoreError::Busy`] when such a round is running; on database errors.
    pub fn create_census(
        &self,
        name: Option<&str>,
        as_of: &str,
        rubric: (&str, &str),
        spec_hash: &str,
        options: &str,
        sites: &[sitecensus_core::SiteSpec],
    ) -> Result<RunRow, StoreError> {
        let run = self.transaction(|c| {
            // One round per identity at a time, whichever process asks first.
            if c.is_postgres() {
                c.batch("LOCK TABLE runs IN SHARE ROW EXCLUSIVE MODE")?;
            }
            if let Some(r) = c.query_opt(
                "SELECT id, started_at, finished_at, status, as_of, rubric, spec_hash, options, kind, name FROM runs
                 WHERE spec_hash = ?1 AND kind = 'census' AND status <> 'done' ORDER BY id DESC LIMIT 1",
                p![spec_hash],
            )? {
                return Ok(Err(run_row(&r)?));
            }
            let r = c.query_one(
                "INSERT INTO runs (started_at, status, as_of, rubric, spec_hash, options, kind, name)
                 VALUES (?1, 'running', ?2, ?3, ?4, ?5, 'census', ?6)
                 RETURNING id, started_at, finished_at, status, as_of, rubric, spec_hash, options, kind, name",
                p![now(), as_of, rubric.0, spec_hash, options, name],
            )?;
            let run = run_row(&r)?;
            for (i, s) in sites.iter().enumerate() {
                c.execute(
                    "INSERT INTO sites (run_id, ordinal, spec, given, host) VALUES (?1, ?2, ?3, ?4, ?5)",
                    p![run.id, i, serde_json::to_string(s).expect("specs serialise"), s.given, s.host()],
                )?;
            }
            c.execute(
                "INSERT INTO scorings (run_id, rubric, rubric_title, as_of, source, started_at) VALUES (?1, ?2, ?3, ?4, 'census', ?5)",
                p![run.id, rubric.0, rubric.1, as_of, now()],
            )?;
            Ok(Ok(run))
        })?;
        run.map_err(|r| StoreError::Busy {
            path: self.path().display().to_string(),
            by: format!(
                "round {}{} with this site list and settings is still {} (`census status`)",
                r.id,
                r.name.map(|n| format!(" ({n})")).unwrap_or_default(),
                r.status
            ),
        })
    }

    /// The census rounds not finished, oldest first.
    ///
    /// # Errors
    /// On database errors.
    pub fn open_censuses(&self) -> Result<Vec<RunRow>, StoreError> {
        self.with(|c| {
            c.query(
                "SELECT id, started_at, finished_at, status, as_of, rubric, spec_hash, options, kind, name FROM runs
                 WHERE kind = 'census' AND status <> 'done' ORDER BY id",
                p![],
            )?
            .iter()
            .map(run_row)
            .collect()
        })
    }

    /// The scoring a round's workers store site results in (the newest unfinished one).
    ///
    /// # Errors
    /// On database errors, or when the round has none.
    pub fn census_scoring(&self, run_id: i64) -> Result<i64, StoreError> {
        self.with(|c| {
            c.query_one(
                "SELECT id FROM scorings WHERE run_id = ?1 AND finished_at IS NULL ORDER BY id DESC LIMIT 1",
                p![run_id],
            )?
            .get(0)
        })
    }

    /// Leases the next site of a round to `owner` for `lease_secs`: a queued site, or one whose
    /// lease ran out (its worker died or hung). Sites whose lease ran out after `max_attempts`
    /// takes fail first, with the reason.
    ///
    /// # Errors
    /// On database errors.
    pub fn lease_site(
        &self,
        run_id: i64,
        owner: &str,
        lease_secs: i64,
        max_attempts: u32,
    ) -> Result<Option<Lease>, StoreError> {
        let leased: Option<(i64, u32)> = self.transaction(|c| {
            // One lease at a time: PostgreSQL by a transaction lock, SQLite by its writer lock
            // (the first statement writes), so two workers cannot both see a host free.
            let pg = c.is_postgres();
            if pg {
                c.batch(&format!("SELECT pg_advisory_xact_lock({LEASE_LOCK})"))?;
            }
            let now_s = db_now_s(c)?;
            c.execute(
                "UPDATE sites SET status = 'failed', lease_owner = NULL, lease_until = NULL, finished_at = ?5,
                   error = coalesce(error, ?3)
                 WHERE run_id = ?1 AND status = 'crawling' AND lease_until < ?2 AND attempts >= ?4",
                p![
                    run_id,
                    now_s,
                    format!("its crawl stopped {max_attempts} times: the workers crawling it died or hung"),
                    max_attempts,
                    now()
                ],
            )?;
            let Some(id) = next_free_site(c, run_id, now_s, pg)? else { return Ok(None) };
            let r = c.query_one(
                "UPDATE sites SET status = 'crawling', lease_owner = ?2, lease_until = ?3, attempts = attempts + 1,
                   started_at = coalesce(started_at, ?4)
                 WHERE id = ?1 RETURNING id, attempts",
                p![id, owner, now_s + lease_secs, now()],
            )?;
            Ok(Some((r.get(0)?, r.get(1)?)))
        })?;
        let Some((id, attempt)) = leased else { return Ok(None) };
        Ok(Some(Lease { site: self.sites_by_id(id)?, attempt }))
    }

    /// Extends `owner`'s lease on a site (while it crawls, and while it assesses the site after
    /// the crawl is marked done); false when the lease is no longer its own (it ran out and
    /// another worker took the site): the worker stops crawling it.
    ///
    /// # Errors
    /// On database errors.
    pub fn renew_lease(&self, site_id: i64, owner: &str, lease_secs: i64) -> Result<bool, StoreError> {
        self.with(|c| {
            let sql = format!(
                "UPDATE sites SET lease_until = {} / 1000 + ?3 WHERE id = ?1 AND lease_owner = ?2",
                clock_ms(c.is_postgres())
            );
            c.execute(&sql, p![site_id, owner, lease_secs]).map(|n| n == 1)
        })
    }

    /// Gives a leased site back: done (the lease is cleared), or after an error — queued again,
    /// or failed with the error once it was taken `max_attempts` times.
    ///
    /// # Errors
    /// On database errors.
    pub fn release_site(
        &self,
        site_id: i64,
        owner: &str,
        error: Option<&str>,
        max_attempts: u32,
    ) -> Result<(), StoreError> {
        self.with(|c| {
            match error {
                None => c.execute(
                    "UPDATE sites SET lease_owner = NULL, lease_until = NULL WHERE id = ?1 AND lease_owner = ?2",
                    p![site_id, owner],
                )?,
                Some(e) => c.execute(
                    "UPDATE sites SET status = CASE WHEN attempts >= ?4 THEN 'failed' ELSE 'pending' END,
                       finished_at = CASE WHEN attempts >= ?4 THEN ?5 ELSE NULL END,
                       error = ?3, lease_owner = NULL, lease_until = NULL
                     WHERE id = ?1 AND lease_owner = ?2",
                    p![site_id, owner, e, max_attempts, now()],
                )?,
            };
            Ok(())
        })
    }

    /// Takes the scoring of a round whose sites are all done or failed, for `lease_secs` (so a
    /// worker that dies while scoring leaves it to another); false when sites remain, or another
    /// worker scores it. Taking it again is allowed (a claim whose answer was lost with the
    /// connection is tried again).
    ///
    /// # Errors
    /// On database errors.
    pub fn claim_round_scoring(&self, run_id: i64, owner: &str, lease_secs: i64) -> Result<bool, StoreError> {
        self.with(|c| {
            let now_s = db_now_s(c)?;
            c.execute(
                "UPDATE runs SET status = 'scoring', lease_owner = ?2, lease_until = ?3
                 WHERE id = ?1 AND (status = 'running' OR (status = 'scoring' AND (lease_until < ?4 OR lease_owner = ?2)))
                   AND NOT EXISTS (SELECT 1 FROM sites WHERE run_id = ?1 AND status IN ('pending', 'crawling'))",
                p![run_id, owner, now_s + lease_secs, now_s],
            )
            .map(|n| n == 1)
        })
    }

    /// Extends a worker's hold on a round's scoring.
    ///
    /// # Errors
    /// On database errors.
    pub fn renew_round_scoring(&self, run_id: i64, owner: &str, lease_secs: i64) -> Result<bool, StoreError> {
        self.with(|c| {
            let sql = format!(
                "UPDATE runs SET lease_until = {} / 1000 + ?3 WHERE id = ?1 AND lease_owner = ?2 AND status = 'scoring'",
                clock_ms(c.is_postgres())
            );
            c.execute(&sql, p![run_id, owner, lease_secs]).map(|n| n == 1)
        })
    }

    /// Reserves the next request to `host` for this worker, `period` after the last one any
    /// worker reserved (politeness shared by every worker of a census); returns how long to wait
    /// before sending it. Turns are booked at most `horizon` ahead: past it the request is told
    /// to wait the horizon without booking a turn, so that a burst of requests does not leave the
    /// host booked for hours after it.
    ///
    /// # Errors
    /// On database errors.
    pub fn reserve_host_slot(
        &self,
        host: &str,
        period: std::time::Duration,
        horizon: std::time::Duration,
    ) -> Result<std::time::Duration, StoreError> {
        let ms = |d: std::time::Duration| i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 4);
        let (period_ms, horizon_ms) = (ms(period), ms(horizon));
        let wait: i64 = self.with(|c| {
            let sql = format!(
                "INSERT INTO host_pace (host, next_at) VALUES (?1, {now} + ?2)
                 ON CONFLICT (host) DO UPDATE SET next_at =
                   CASE WHEN host_pace.next_at > {now} + ?3 THEN host_pace.next_at
                        WHEN host_pace.next_at > {now} THEN host_pace.next_at + ?2
                        ELSE {now} + ?2 END
                 RETURNING next_at - ?2 - {now}",
                now = clock_ms(c.is_postgres())
            );
            c.query_one(&sql, p![host, period_ms, horizon_ms])?.get(0)
        })?;
        Ok(std::time::Duration::from_millis(u64::try_from(wait).unwrap_or(0)))
    }

    /// Where a round stands: sites by state and pages stored.
    ///
    /// # Errors
    /// On database errors.
    pub fn census_counts(&self, run_id: i64) -> Result<CensusCounts, StoreError> {
        let minute_ago = crate::now_minus_secs(60);
        self.with(|c| {
            let mut n = CensusCounts::default();
            for r in c.query("SELECT status, count(*) FROM sites WHERE run_id = ?1 GROUP BY status", p![run_id])? {
                let count: u64 = r.get(1)?;
                match r.get::<String>(0)?.as_str() {
                    "pending" => n.queued += count,
                    "crawling" => n.leased += count,
                    "done" => n.done += count,
                    _ => n.failed += count,
                }
            }
            let pages = |c: &mut Conn, since: &str| -> Result<u64, DbError> {
                c.query_one(
                    "SELECT count(*) FROM pages WHERE fetched_at >= ?2 AND site_id IN (SELECT id FROM sites WHERE run_id = ?1)",
                    p![run_id, since],
                )?
                .get(0)
            };
            n.pages = pages(c, "")?;
            n.pages_last_minute = pages(c, &minute_ago)?;
            Ok(n)
        })
    }
}
