//! What `sitecensus monitor` keeps between restarts: each site's jobs and when they are next due
//! (claimed with a lease, so that two monitors — or a monitor killed mid-job — neither double
//! nor lose one), the alerts open and resolved, and an outbox of the messages each channel is to
//! send, written in the same transaction as the alert they tell of, so a crash between the two
//! can neither lose a message nor invent one.

use crate::db::p;
use crate::{Store, StoreError};

/// A job of one site: its kind (`probe`, `scan`) and the site's URL as given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// The site's URL, as the site list gives it.
    pub site: String,
    /// `probe` or `scan`.
    pub kind: String,
}

/// An alert to open (or keep open), keyed by site, check and target.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAlert<'a> {
    /// The site's URL as given.
    pub site: &'a str,
    /// What raised it: `probe` or `scan` (a scan resolves only what scans raise).
    pub source: &'a str,
    /// The check id.
    pub check: &'a str,
    /// The address it is about (a page, a link, a column), empty for the site as a whole.
    pub target: &'a str,
    /// `veto`, `deduct`, `warn` or `info`.
    pub severity: &'a str,
    /// The evidence in English.
    pub evidence: &'a str,
    /// The evidence in Chinese.
    pub evidence_zh: Option<&'a str>,
    /// Where the web app shows it.
    pub link: Option<&'a str>,
    /// The page it was seen on: a scan that did not read that page does not resolve it.
    pub page: Option<&'a str>,
}

/// A message waiting in a channel's outbox, with the alert it tells of.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    /// The outbox row.
    pub id: i64,
    /// `fire` or `resolve`.
    pub event: String,
    /// The alert.
    pub alert: AlertRow,
}

/// What an answer said of itself, to ask next time whether it changed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Validators {
    /// Its ETag.
    pub etag: Option<String>,
    /// Its Last-Modified.
    pub last_modified: Option<String>,
    /// A digest of its body, for a server that sends neither.
    pub digest: Option<String>,
}

/// What the monitor last saw of a homepage: the page it takes for the homepage, and what has
/// stood in its place in the looks since, if anything did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HomepageLook {
    /// The print (JSON) of the page taken for the homepage.
    pub baseline: String,
    /// The print (JSON) of the page that stood in its place at the last look, if one did.
    pub candidate: Option<String>,
    /// A digest of the body of the last look, to skip reading an unchanged page again.
    pub digest: String,
    /// Looks in a row that found the homepage replaced.
    pub replaced: i64,
}

/// A site as its latest finished scoring holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct LatestSite {
    /// The scoring.
    pub scoring_id: i64,
    /// The site's id in it.
    pub site_id: i64,
    /// Its columns as judged.
    pub columns: Vec<sitecensus_core::column::Column>,
    /// The checks' `freshness` figure, if stored.
    pub freshness: Option<serde_json::Value>,
}

/// An alert as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertRow {
    /// Its id.
    pub id: i64,
    /// The site's URL as given.
    pub site: String,
    /// The check id.
    pub check: String,
    /// The address it is about; empty for the site as a whole.
    pub target: String,
    /// Its severity.
    pub severity: String,
    /// The evidence in English.
    pub evidence: String,
    /// The evidence in Chinese.
    pub evidence_zh: Option<String>,
    /// Where the web app shows it.
    pub link: Option<String>,
    /// When it was raised.
    pub opened_at: String,
    /// When it cleared.
    pub resolved_at: Option<String>,
}

const ALERT_COLUMNS: &str =
    "a.id, a.site, a.check_id, a.target, a.severity, a.evidence, a.evidence_zh, a.link, a.opened_at, a.resolved_at";

fn alert_row(r: &crate::db::Row, at: usize) -> Result<AlertRow, crate::DbError> {
    Ok(AlertRow {
        id: r.get(at)?,
        site: r.get(at + 1)?,
        check: r.get(at + 2)?,
        target: r.get(at + 3)?,
        severity: r.get(at + 4)?,
        evidence: r.get(at + 5)?,
        evidence_zh: r.get(at + 6)?,
        link: r.get(at + 7)?,
        opened_at: r.get(at + 8)?,
        resolved_at: r.get(at + 9)?,
    })
}

impl Store {
    /// Now by the database's clock, in whole seconds: every monitor sharing a store agrees.
    fn monitor_clock(&self) -> String {
        format!("({} / 1000)", crate::census::clock_ms(self.is_postgres()))
    }

    /// The database's clock, in seconds since 1970.
    ///
    /// # Errors
    /// On database errors.
    pub fn clock_secs(&self) -> Result<i64, StoreError> {
        let clock = self.monitor_clock();
        self.with(|c| c.query_one(&format!("SELECT CAST({clock} AS BIGINT)"), p![])?.get(0))
    }

    /// Adds the jobs not stored yet, each first due `first_due(job)` seconds from now; jobs of
    /// sites (and channels) no longer watched go. Returns the jobs added.
    ///
    /// # Errors
    /// On database errors.
    pub fn sync_monitor_jobs(&self, jobs: &[(Job, i64)]) -> Result<Vec<Job>, StoreError> {
        let clock = self.monitor_clock();
        let wanted: std::collections::HashSet<(&str, &str)> =
            jobs.iter().map(|(j, _)| (j.site.as_str(), j.kind.as_str())).collect();
        self.transaction(|c| {
            let stored: Vec<(String, String)> = c
                .query("SELECT site, kind FROM monitor_jobs", p![])?
                .iter()
                .map(|r| Ok((r.get(0)?, r.get(1)?)))
                .collect::<Result<_, crate::DbError>>()?;
            for (site, kind) in &stored {
                if !wanted.contains(&(site.as_str(), kind.as_str())) {
                    c.execute("DELETE FROM monitor_jobs WHERE site = ?1 AND kind = ?2", p![site, kind])?;
                }
            }
            // Only what is not stored yet is written (a restart over 85,000 sites writes nothing),
            // in one pipeline on PostgreSQL; a job another monitor adds meanwhile is kept as it is.
            let have: std::collections::HashSet<(&str, &str)> =
                stored.iter().map(|(s, k)| (s.as_str(), k.as_str())).collect();
            let missing: Vec<&(Job, i64)> =
                jobs.iter().filter(|(j, _)| !have.contains(&(j.site.as_str(), j.kind.as_str()))).collect();
            let sql = format!(
                "INSERT INTO monitor_jobs (site, kind, next_due) VALUES (?1, ?2, {clock} + ?3) ON CONFLICT DO NOTHING"
            );
            c.pipeline(|pl| {
                for (j, first_due) in &missing {
                    pl.execute(&sql, p![j.site, j.kind, first_due])?;
                }
                Ok(())
            })?;
            Ok(missing.into_iter().map(|(j, _)| j.clone()).collect())
        })
    }

    /// Claims up to `limit` due jobs of `kind` for `holder` for `lease_secs` seconds: a job
    /// claimed by another (whose lease has not run out) is left to it.
    ///
    /// # Errors
    /// On database errors.
    pub fn claim_due_jobs(
        &self,
        kind: &str,
        holder: &str,
        lease_secs: i64,
        limit: usize,
    ) -> Result<Vec<Job>, StoreError> {
        let clock = self.monitor_clock();
        self.with(|c| {
            let due: Vec<String> = c
                .query(
                    &format!(
                        "SELECT site FROM monitor_jobs WHERE kind = ?1 AND next_due <= {clock}
                           AND (claimed_until IS NULL OR claimed_until < {clock})
                         ORDER BY next_due, site LIMIT ?2"
                    ),
                    p![kind, limit],
                )?
                .iter()
                .map(|r| r.get(0))
                .collect::<Result<_, _>>()?;
            let mut claimed = Vec::new();
            for site in due {
                if claim(c, &clock, &site, kind, holder, lease_secs)? {
                    claimed.push(Job { site, kind: kind.to_owned() });
                }
            }
            Ok(claimed)
        })
    }

    /// Claims one job for `holder` for `lease_secs`, due or not, unless another holds it.
    ///
    /// # Errors
    /// On database errors.
    pub fn claim_job(&self, job: &Job, holder: &str, lease_secs: i64) -> Result<bool, StoreError> {
        let clock = self.monitor_clock();
        self.with(|c| claim(c, &clock, &job.site, &job.kind, holder, lease_secs))
    }

    /// A job `holder` claimed is done: next due `after_secs` seconds from now, and free. False
    /// when the job is no longer the holder's (its lease ran out and another monitor took it:
    /// that one reschedules it).
    ///
    /// # Errors
    /// On database errors.
    pub fn finish_job(&self, job: &Job, holder: &str, after_secs: i64) -> Result<bool, StoreError> {
        let sql = self.reschedule_sql();
        self.with(|c| c.execute(&sql, p![job.site, job.kind, after_secs, holder]).map(|n| n == 1))
    }

    /// Reschedules a job (site ?1, kind ?2) ?3 seconds from now and frees it, if its holder is
    /// still ?4.
    fn reschedule_sql(&self) -> String {
        let clock = self.monitor_clock();
        format!(
            "UPDATE monitor_jobs SET next_due = {clock} + ?3, last_done = {clock}, holder = NULL, claimed_until = NULL
             WHERE site = ?1 AND kind = ?2 AND holder = ?4"
        )
    }

    /// Stores a probe `holder` took and reschedules its job, in one transaction: a monitor
    /// killed between the two neither loses the probe nor takes it again. A probe whose job is no
    /// longer the holder's (its lease ran out and another monitor took the job) is not stored —
    /// that monitor stores its own — so no probe is counted twice; false then.
    ///
    /// # Errors
    /// On database errors.
    pub fn finish_probe(
        &self,
        job: &Job,
        holder: &str,
        probe: &crate::ProbeRow,
        after_secs: i64,
    ) -> Result<bool, StoreError> {
        let sql = self.reschedule_sql();
        self.transaction(|c| {
            if c.execute(&sql, p![job.site, job.kind, after_secs, holder])? != 1 {
                return Ok(false);
            }
            c.execute(
                "INSERT INTO probes (url, at, ok, status, elapsed_ms, error) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                p![probe.url, probe.at, probe.ok, probe.status, probe.elapsed_ms, probe.error],
            )?;
            Ok(true)
        })
    }

    /// The latest `n` probes of `url`, newest first: whether each succeeded, and its error.
    ///
    /// # Errors
    /// On database errors.
    pub fn latest_probes(&self, url: &str, n: usize) -> Result<Vec<(bool, Option<String>)>, StoreError> {
        self.with(|c| {
            c.query("SELECT ok, error FROM probes WHERE url = ?1 ORDER BY at DESC, id DESC LIMIT ?2", p![url, n])?
                .iter()
                .map(|r| Ok((r.get(0)?, r.get(1)?)))
                .collect()
        })
    }

    /// Opens an alert unless one is open for its site, check and target (then only its evidence
    /// is brought up to date), and queues a `fire` message for each of `channels`. Returns the new
    /// alert's id, or None when it was open already.
    ///
    /// # Errors
    /// On database errors.
    pub fn open_alert(&self, a: &NewAlert<'_>, channels: &[String]) -> Result<Option<i64>, StoreError> {
        let clock = self.monitor_clock();
        let at = crate::now();
        self.transaction(|c| {
            let open = c.query_opt(
                "SELECT id FROM monitor_alerts WHERE site = ?1 AND check_id = ?2 AND target = ?3 AND resolved_at IS NULL",
                p![a.site, a.check, a.target],
            )?;
            if let Some(r) = open {
                let id: i64 = r.get(0)?;
                c.execute(
                    "UPDATE monitor_alerts SET evidence = ?2, evidence_zh = ?3, link = coalesce(?4, link), severity = ?5,
                       page = coalesce(?6, page) WHERE id = ?1",
                    p![id, a.evidence, a.evidence_zh, a.link, a.severity, a.page],
                )?;
                return Ok(None);
            }
            let id: i64 = c
                .query_one(
                    "INSERT INTO monitor_alerts (site, source, check_id, target, severity, evidence, evidence_zh, link, opened_at, page)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) RETURNING id",
                    p![a.site, a.source, a.check, a.target, a.severity, a.evidence, a.evidence_zh, a.link, at, a.page],
                )?
                .get(0)?;
            for ch in channels {
                c.execute(
                    &format!("INSERT INTO monitor_outbox (alert_id, event, channel, created_at) VALUES (?1, 'fire', ?2, {clock})"),
                    p![id, ch],
                )?;
            }
            Ok(Some(id))
        })
    }

    /// Resolves the open alerts of `site` raised by `source` whose (check, target) is not in
    /// `still` (restricted to `checks` when given), queuing a `resolve` message for each of
    /// `channels`. With `crawl` (the stored site a scan crawled), an alert seen on a page that
    /// crawl did not read stays open: not found is not fixed. Returns how many were resolved.
    ///
    /// # Errors
    /// On database errors.
    pub fn resolve_alerts(
        &self,
        site: &str,
        source: &str,
        checks: Option<&[&str]>,
        still: &[(String, String)],
        channels: &[String],
        crawl: Option<i64>,
    ) -> Result<usize, StoreError> {
        let clock = self.monitor_clock();
        let at = crate::now();
        self.transaction(|c| {
            let open: Vec<(i64, String, String, Option<String>)> = c
                .query(
                    "SELECT id, check_id, target, page FROM monitor_alerts WHERE site = ?1 AND source = ?2 AND resolved_at IS NULL",
                    p![site, source],
                )?
                .iter()
                .map(|r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
                .collect::<Result<_, crate::DbError>>()?;
            let mut n = 0;
            for (id, check, target, page) in open {
                if checks.is_some_and(|cs| !cs.contains(&check.as_str()))
                    || still.iter().any(|(c2, t2)| *c2 == check && *t2 == target)
                {
                    continue;
                }
                if let (Some(crawl), Some(page)) = (crawl, &page) {
                    let read = c.query_opt(
                        "SELECT 1 FROM pages WHERE site_id = ?1 AND (url = ?2 OR final_url = ?2) AND outcome LIKE '{\"outcome\":\"ok\"%' LIMIT 1",
                        p![crawl, page],
                    )?;
                    if read.is_none() {
                        continue;
                    }
                }
                c.execute("UPDATE monitor_alerts SET resolved_at = ?2 WHERE id = ?1", p![id, at])?;
                for ch in channels {
                    c.execute(
                        &format!(
                            "INSERT INTO monitor_outbox (alert_id, event, channel, created_at) VALUES (?1, 'resolve', ?2, {clock})"
                        ),
                        p![id, ch],
                    )?;
                }
                n += 1;
            }
            Ok(n)
        })
    }

    /// The open alerts, oldest first.
    ///
    /// # Errors
    /// On database errors.
    pub fn open_alerts(&self) -> Result<Vec<AlertRow>, StoreError> {
        self.with(|c| {
            c.query(
                &format!("SELECT {ALERT_COLUMNS} FROM monitor_alerts a WHERE a.resolved_at IS NULL ORDER BY a.id"),
                p![],
            )?
            .iter()
            .map(|r| alert_row(r, 0))
            .collect()
        })
    }

    /// Up to `limit` messages waiting in `channel`'s outbox, oldest first.
    ///
    /// # Errors
    /// On database errors.
    pub fn pending_deliveries(&self, channel: &str, limit: usize) -> Result<Vec<Delivery>, StoreError> {
        self.with(|c| {
            c.query(
                &format!(
                    "SELECT o.id, o.event, {ALERT_COLUMNS} FROM monitor_outbox o JOIN monitor_alerts a ON a.id = o.alert_id
                     WHERE o.channel = ?1 AND o.sent_at IS NULL ORDER BY o.id LIMIT ?2"
                ),
                p![channel, limit],
            )?
            .iter()
            .map(|r| Ok(Delivery { id: r.get(0)?, event: r.get(1)?, alert: alert_row(r, 2)? }))
            .collect()
        })
    }

    /// Marks messages sent.
    ///
    /// # Errors
    /// On database errors.
    pub fn mark_delivered(&self, ids: &[i64]) -> Result<(), StoreError> {
        let clock = self.monitor_clock();
        self.transaction(|c| {
            for id in ids {
                c.execute(
                    &format!("UPDATE monitor_outbox SET sent_at = {clock}, attempts = attempts + 1, error = NULL WHERE id = ?1"),
                    p![id],
                )?;
            }
            Ok(())
        })
    }

    /// Notes a failed attempt at sending messages (they stay in the outbox).
    ///
    /// # Errors
    /// On database errors.
    pub fn note_delivery_failure(&self, ids: &[i64], error: &str) -> Result<(), StoreError> {
        self.transaction(|c| {
            for id in ids {
                c.execute(
                    "UPDATE monitor_outbox SET attempts = attempts + 1, error = ?2 WHERE id = ?1",
                    p![id, error],
                )?;
            }
            Ok(())
        })
    }

    /// Messages `channel` sent in the last `secs` seconds (its rate limit), and when it last sent
    /// anything (seconds since 1970; its digest's schedule).
    ///
    /// # Errors
    /// On database errors.
    pub fn channel_sends(&self, channel: &str, secs: i64) -> Result<(i64, Option<i64>), StoreError> {
        let clock = self.monitor_clock();
        self.with(|c| {
            let r = c.query_one(
                &format!(
                    "SELECT coalesce(sum(CASE WHEN sent_at >= {clock} - ?2 THEN 1 ELSE 0 END), 0), max(sent_at)
                     FROM monitor_outbox WHERE channel = ?1 AND sent_at IS NOT NULL"
                ),
                p![channel, secs],
            )?;
            Ok((r.get(0)?, r.get(1)?))
        })
    }

    /// Makes a site's job due now (a daily pass saw its pages change: the scan comes forward).
    ///
    /// # Errors
    /// On database errors.
    pub fn job_due_now(&self, site: &str, kind: &str) -> Result<(), StoreError> {
        let clock = self.monitor_clock();
        self.with(|c| {
            c.execute(
                &format!("UPDATE monitor_jobs SET next_due = {clock} WHERE site = ?1 AND kind = ?2"),
                p![site, kind],
            )
            .map(|_| ())
        })
    }

    /// What the last answer of `url` said of itself: (ETag, Last-Modified, digest of the body).
    ///
    /// # Errors
    /// On database errors.
    pub fn validators(&self, url: &str) -> Result<Option<Validators>, StoreError> {
        self.with(|c| {
            c.query_opt("SELECT etag, last_modified, digest FROM monitor_validators WHERE url = ?1", p![url])?
                .map(|r| Ok(Validators { etag: r.get(0)?, last_modified: r.get(1)?, digest: r.get(2)? }))
                .transpose()
        })
    }

    /// Keeps what the latest answer of `url` said of itself.
    ///
    /// # Errors
    /// On database errors.
    pub fn put_validators(&self, url: &str, v: &Validators) -> Result<(), StoreError> {
        let at = crate::now();
        self.with(|c| {
            c.execute(
                "INSERT INTO monitor_validators (url, etag, last_modified, digest, checked_at) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (url) DO UPDATE SET etag = excluded.etag, last_modified = excluded.last_modified,
                   digest = excluded.digest, checked_at = excluded.checked_at",
                p![url, v.etag, v.last_modified, v.digest, at],
            )
            .map(|_| ())
        })
    }

    /// The latest finished scoring that judged the site given as `url`, and the site's id in it.
    ///
    /// # Errors
    /// On database errors.
    pub fn latest_scored_site(&self, url: &str) -> Result<Option<(i64, i64)>, StoreError> {
        self.with(|c| latest_scored_site(c, url))
    }

    /// What the latest finished scoring of the site given as `url` holds of it: the scoring's
    /// and the site's ids, its columns as judged, and its homepage's freshness figure.
    ///
    /// # Errors
    /// On database errors.
    pub fn latest_site(&self, url: &str) -> Result<Option<LatestSite>, StoreError> {
        self.with(|c| {
            let Some((scoring, site)) = latest_scored_site(c, url)? else { return Ok(None) };
            let columns = crate::browse::site_columns(c, scoring, site)?;
            let text: Option<String> = c
                .query_opt(
                    "SELECT freshness FROM site_scores WHERE scoring_id = ?1 AND site_id = ?2",
                    p![scoring, site],
                )?
                .map(|r| r.get(0))
                .transpose()?
                .flatten();
            let freshness = text.and_then(|t| serde_json::from_str(&t).ok());
            Ok(Some(LatestSite { scoring_id: scoring, site_id: site, columns, freshness }))
        })
    }

    /// The stored site id of `url` in a scoring, for a link to the web app.
    ///
    /// # Errors
    /// On database errors.
    pub fn scored_site_id(&self, scoring_id: i64, url: &str) -> Result<Option<i64>, StoreError> {
        self.with(|c| {
            c.query_opt("SELECT site_id FROM site_scores WHERE scoring_id = ?1 AND url = ?2", p![scoring_id, url])?
                .map(|r| r.get(0))
                .transpose()
        })
    }

    /// What the monitor last saw of `site`'s homepage.
    ///
    /// # Errors
    /// On database errors.
    pub fn homepage_look(&self, site: &str) -> Result<Option<HomepageLook>, StoreError> {
        self.with(|c| {
            c.query_opt(
                "SELECT baseline, candidate, digest, replaced FROM monitor_homepages WHERE site = ?1",
                p![site],
            )?
            .map(|r| {
                Ok(HomepageLook { baseline: r.get(0)?, candidate: r.get(1)?, digest: r.get(2)?, replaced: r.get(3)? })
            })
            .transpose()
        })
    }

    /// Keeps what the monitor saw of `site`'s homepage.
    ///
    /// # Errors
    /// On database errors.
    pub fn put_homepage_look(&self, site: &str, look: &HomepageLook) -> Result<(), StoreError> {
        let at = crate::now();
        self.with(|c| {
            c.execute(
                "INSERT INTO monitor_homepages (site, baseline, candidate, digest, replaced, seen_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (site) DO UPDATE SET baseline = excluded.baseline, candidate = excluded.candidate,
                   digest = excluded.digest, replaced = excluded.replaced, seen_at = excluded.seen_at",
                p![site, look.baseline, look.candidate, look.digest, look.replaced, at],
            )
            .map(|_| ())
        })
    }

    /// Takes what now stands in the place of `site`'s homepage for its homepage (a redesign, not
    /// a defacement, as a person judged); false when nothing stands in its place.
    ///
    /// # Errors
    /// On database errors.
    pub fn accept_homepage(&self, site: &str) -> Result<bool, StoreError> {
        self.with(|c| {
            c.execute(
                "UPDATE monitor_homepages SET baseline = candidate, candidate = NULL, replaced = 0
                 WHERE site = ?1 AND candidate IS NOT NULL",
                p![site],
            )
            .map(|n| n > 0)
        })
    }
}

/// Claims a job unless another holder's lease on it runs.
fn claim(
    c: &mut crate::db::Conn,
    clock: &str,
    site: &str,
    kind: &str,
    holder: &str,
    lease_secs: i64,
) -> Result<bool, crate::DbError> {
    let n = c.execute(
        &format!(
            "UPDATE monitor_jobs SET holder = ?3, claimed_until = {clock} + ?4
             WHERE site = ?1 AND kind = ?2 AND (claimed_until IS NULL OR claimed_until < {clock})"
        ),
        p![site, kind, holder, lease_secs],
    )?;
    Ok(n == 1)
}

fn latest_scored_site(c: &mut crate::db::Conn, url: &str) -> Result<Option<(i64, i64)>, crate::DbError> {
    c.query_opt(
        "SELECT s.scoring_id, s.site_id FROM site_scores s JOIN scorings g ON g.id = s.scoring_id
         WHERE s.url = ?1 AND g.finished_at IS NOT NULL ORDER BY s.scoring_id DESC LIMIT 1",
        p![url],
    )?
    .map(|r| Ok((r.get(0)?, r.get(1)?)))
    .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two monitors on one store: a probe whose lease ran out while it waited is taken by the
    /// other, and only the one that holds the job stores its probe.
    fn a_probe_of_a_lost_lease_is_not_stored(store: &Store) {
        let site = "http://www.a.gov.cn/";
        let job = Job { site: site.into(), kind: "probe".into() };
        assert_eq!(store.sync_monitor_jobs(&[(job.clone(), 0)]).unwrap(), std::slice::from_ref(&job));
        assert!(store.sync_monitor_jobs(&[(job.clone(), 0)]).unwrap().is_empty(), "stored already: nothing written");
        // A's lease is over at once (as after a long wait for the host's turn); B takes the job.
        assert_eq!(store.claim_due_jobs("probe", "a", -1, 10).unwrap(), std::slice::from_ref(&job));
        assert_eq!(store.claim_due_jobs("probe", "b", 120, 10).unwrap(), std::slice::from_ref(&job));
        assert!(store.claim_due_jobs("probe", "a", 120, 10).unwrap().is_empty(), "B holds it");
        let row = |at: &str| crate::ProbeRow {
            url: site.into(),
            at: at.into(),
            ok: true,
            status: Some(200),
            elapsed_ms: 30,
            error: None,
        };
        assert!(!store.finish_probe(&job, "a", &row("2024-07-08T10:00:00+08:00"), 1800).unwrap(), "not A's any more");
        assert!(store.finish_probe(&job, "b", &row("2024-07-08T10:00:01+08:00"), 1800).unwrap());
        let probes = store.probes(site, "2024-07-08T00:00:00+08:00", "2024-07-09T00:00:00+08:00").unwrap();
        assert_eq!(probes.len(), 1, "one probe for the slot, not two: {probes:?}");
        assert!(!store.finish_job(&job, "b", 1800).unwrap(), "done already");
        assert!(store.claim_due_jobs("probe", "a", 120, 10).unwrap().is_empty(), "next due in half an hour");
    }

    #[test]
    fn a_probe_of_a_lost_lease_is_not_stored_on_sqlite() {
        let dir = tempfile::tempdir().unwrap();
        a_probe_of_a_lost_lease_is_not_stored(&Store::open(&dir.path().join("m.db")).unwrap());
    }

    #[test]
    fn a_probe_of_a_lost_lease_is_not_stored_on_postgres() {
        let db = sitecensus_fixtures::postgres::TempDb::new();
        a_probe_of_a_lost_lease_is_not_stored(&Store::open_postgres(db.url()).unwrap());
    }
}
