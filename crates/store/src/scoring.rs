//! Scored results as data: each scoring of a run (run × rubric × as-of) with every site's
//! verdict, score, veto items, deductions and findings at their final severity, in tables an
//! analyst can query without unpacking JSON. `scan` writes one scoring as sites finish; each
//! `report` rescoring writes another beside it.

use sitecensus_core::Finding;
use sitecensus_core::column::Column;
use sitecensus_score::{Deduction, VetoHit};

use crate::db::p;
use crate::{Store, StoreError, now};

/// One site's scored result, as stored.
pub struct SiteScore<'a> {
    /// The stored site.
    pub site_id: i64,
    /// The URL exactly as given.
    pub url: &'a str,
    /// Its name, level and region, as the site list gives them.
    pub name: Option<&'a str>,
    /// Administrative level.
    pub level: Option<&'a str>,
    /// Region code.
    pub region: Option<&'a str>,
    /// `pass` or `fail`.
    pub verdict: &'a str,
    /// The score under the rubric.
    pub score: f64,
    /// Where the homepage ended up.
    pub final_url: Option<&'a str>,
    /// The homepage's title.
    pub title: Option<&'a str>,
    /// The veto conditions met.
    pub veto_items: &'a [VetoHit],
    /// Points taken per check.
    pub deductions: &'a [Deduction],
    /// Every finding, at its final severity.
    pub findings: &'a [Finding],
    /// Every column, with its freshness.
    pub columns: &'a [Column],
    /// The checks' `freshness` figure (the homepage's newest update as the crawl saw it), for
    /// measuring its window again later without a crawl.
    pub freshness: Option<&'a serde_json::Value>,
}

/// A site a scoring holds, in brief.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScoredSite {
    /// The stored site.
    pub site_id: i64,
    /// Its name in the site list.
    pub name: Option<String>,
    /// Its homepage's title.
    pub title: Option<String>,
    /// `pass` or `fail`.
    pub verdict: String,
}

/// A scoring of a run, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoringRow {
    /// Its id.
    pub id: i64,
    /// The run scored.
    pub run_id: i64,
    /// The rubric's id.
    pub rubric: String,
    /// "Today" for every time window.
    pub as_of: String,
    /// `scan` or `report`.
    pub source: String,
    /// When the last site was scored; none while sites are still being scored.
    pub finished_at: Option<String>,
}

impl Store {
    /// Starts a scoring of `run_id` under `rubric` (id and title) as of `as_of`; `source` says
    /// who scores (`scan`, `report`). Unfinished scorings of the run left by a killed scan go.
    ///
    /// # Errors
    /// On database errors.
    pub fn start_scoring(
        &self,
        run_id: i64,
        rubric: (&str, &str),
        as_of: &str,
        source: &str,
    ) -> Result<i64, StoreError> {
        self.transaction(|c| {
            let stale = c.query("SELECT id FROM scorings WHERE run_id = ?1 AND finished_at IS NULL", p![run_id])?;
            for row in stale {
                let id: i64 = row.get(0)?;
                for table in ["site_columns", "scored_findings", "site_deductions", "site_vetoes", "site_scores"] {
                    c.execute(&format!("DELETE FROM {table} WHERE scoring_id = ?1"), p![id])?;
                }
                c.execute("DELETE FROM scorings WHERE id = ?1", p![id])?;
            }
            c.query_one(
                "INSERT INTO scorings (run_id, rubric, rubric_title, as_of, source, started_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id",
                p![run_id, rubric.0, rubric.1, as_of, source, now()],
            )?
            .get(0)
        })
    }

    /// Stores (or replaces) one site's scored result in a scoring.
    ///
    /// # Errors
    /// On database errors.
    pub fn put_site_score(&self, scoring_id: i64, s: &SiteScore<'_>) -> Result<(), StoreError> {
        // PostgreSQL plans these statements by its statistics; where autovacuum is off they stay
        // those of empty tables, and every DELETE below would scan a table whole (85,000 sites
        // had not been stored after 25 minutes; refreshed, 90 seconds). Refreshed as it grows.
        let n = self.scored.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        if n == 100 || n.is_multiple_of(2000) {
            self.refresh_statistics()?;
        }
        // Writes only: one pipeline on PostgreSQL.
        self.transaction(|conn| {
            conn.pipeline(|c| {
            for table in ["site_columns", "scored_findings", "site_deductions", "site_vetoes", "site_scores"] {
                c.execute(&format!("DELETE FROM {table} WHERE scoring_id = ?1 AND site_id = ?2"), p![scoring_id, s.site_id])?;
            }
            c.execute(
                "INSERT INTO site_scores (scoring_id, site_id, url, name, level, region, verdict, score, vetoes, final_url, title, freshness)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                p![
                    scoring_id,
                    s.site_id,
                    s.url,
                    s.name,
                    s.level,
                    s.region,
                    s.verdict,
                    s.score,
                    s.veto_items.len(),
                    s.final_url,
                    s.title,
                    s.freshness.map(serde_json::Value::to_string)
                ],
            )?;
            for v in s.veto_items {
                c.execute(
                    "INSERT INTO site_vetoes (scoring_id, site_id, check_id, item, count, min_count) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING",
                    p![scoring_id, s.site_id, v.check, v.item, v.count, v.min_count],
                )?;
            }
            for d in s.deductions {
                c.execute(
                    "INSERT INTO site_deductions (scoring_id, site_id, check_id, item, count, points, capped) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    p![scoring_id, s.site_id, d.check, d.item, d.count, d.points, d.capped],
                )?;
            }
            for f in s.findings {
                c.execute(
                    "INSERT INTO scored_findings (scoring_id, site_id, check_id, severity, page, target, evidence, detail, evidence_zh)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                    p![
                        scoring_id,
                        s.site_id,
                        f.check,
                        f.severity.as_str(),
                        f.page,
                        f.target,
                        f.evidence,
                        serde_json::Value::Object(f.detail.clone()).to_string(),
                        f.evidence_zh
                    ],
                )?;
            }
            for (i, col) in s.columns.iter().enumerate() {
                c.execute(
                    "INSERT INTO site_columns (scoring_id, site_id, ordinal, url, title, kind, items, latest, stale, empty, unreadable)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                    p![
                        scoring_id,
                        s.site_id,
                        i,
                        col.url,
                        col.title,
                        col.kind.as_str(),
                        col.items,
                        col.latest,
                        col.stale,
                        col.empty,
                        col.unreadable
                    ],
                )?;
            }
            Ok(())
            })
        })
    }

    /// The sites a scoring holds so far, with what a search for twins across sites needs of
    /// each: its id, list name, homepage title and verdict.
    ///
    /// # Errors
    /// On database errors.
    pub fn scored_sites(&self, scoring_id: i64) -> Result<Vec<ScoredSite>, StoreError> {
        self.with(|c| {
            c.query("SELECT site_id, name, title, verdict FROM site_scores WHERE scoring_id = ?1", p![scoring_id])?
                .iter()
                .map(|r| Ok(ScoredSite { site_id: r.get(0)?, name: r.get(1)?, title: r.get(2)?, verdict: r.get(3)? }))
                .collect()
        })
    }

    /// Marks a scoring finished: every site of its run is scored.
    ///
    /// # Errors
    /// On database errors.
    pub fn finish_scoring(&self, scoring_id: i64) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute("UPDATE scorings SET finished_at = ?2 WHERE id = ?1", p![scoring_id, now()]).map(|_| ())
        })
    }

    /// The latest finished scoring of a run.
    ///
    /// # Errors
    /// On database errors.
    pub fn latest_scoring(&self, run_id: i64) -> Result<Option<ScoringRow>, StoreError> {
        self.with(|c| {
            c.query_opt(
                "SELECT id, run_id, rubric, as_of, source, finished_at FROM scorings
                 WHERE run_id = ?1 AND finished_at IS NOT NULL ORDER BY id DESC LIMIT 1",
                p![run_id],
            )?
            .map(|r| {
                Ok(ScoringRow {
                    id: r.get(0)?,
                    run_id: r.get(1)?,
                    rubric: r.get(2)?,
                    as_of: r.get(3)?,
                    source: r.get(4)?,
                    finished_at: r.get(5)?,
                })
            })
            .transpose()
        })
    }
}
