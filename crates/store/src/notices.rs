//! Rectification (整改): an office's notice to a failing site, listing the findings to fix by a
//! deadline; the site's team marks each fixed with a note; the next scoring of the site verifies
//! each item (fixed, or still there) and names what is new. The verdict of an item is read from
//! the stored scorings whenever it is asked for, so a later run needs no step of its own.

use serde::Serialize;

use crate::browse::{Arg, Scope, Where};
use crate::db::p;
use crate::{Store, StoreError, now};

/// A notice as listed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NoticeLine {
    /// Its id.
    pub id: i64,
    /// The scoring it was issued on.
    pub scoring_id: i64,
    /// The site's id in that scoring's run.
    pub site_id: i64,
    /// The site, as given.
    pub url: String,
    /// Its name.
    pub name: Option<String>,
    /// Its region code.
    pub region: Option<String>,
    /// Who issued it.
    pub issued_by: String,
    /// When.
    pub issued_at: String,
    /// The day it must be rectified by (`2024-08-10`).
    pub deadline: String,
    /// Items to fix.
    pub items: i64,
    /// Items the site's team marked fixed.
    pub marked: i64,
}

/// One finding a notice asks to fix.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NoticeItem {
    /// Its id.
    pub id: i64,
    /// The check.
    pub check: String,
    /// Its severity when issued.
    pub severity: String,
    /// The page it was seen on.
    pub page: Option<String>,
    /// What it concerns.
    pub target: Option<String>,
    /// Its evidence (Chinese where there is, else English): the notice's own wording.
    pub evidence: String,
    /// Its evidence in English, for a reader of the English pages (None in notices issued before
    /// it was kept).
    pub evidence_en: Option<String>,
    /// The team's note when it marked the item fixed.
    pub fixed_note: Option<String>,
    /// Who marked it, and when.
    pub marked_by: Option<String>,
    /// When it was marked.
    pub marked_at: Option<String>,
}

/// What the next scoring of the site says of a notice.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verification {
    /// The scoring that verified it.
    pub scoring_id: i64,
    /// Its as-of.
    pub as_of: String,
    /// Per item (in the notice's order): still there?
    pub still_there: Vec<bool>,
    /// Findings (veto or deduct) of that scoring the notice did not name: (check, page, target).
    pub new: Vec<(String, Option<String>, Option<String>)>,
}

/// A site that failed more than one round.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RepeatOffender {
    /// The site, as given.
    pub url: String,
    /// Its name (in its latest round).
    pub name: Option<String>,
    /// Its region code.
    pub region: Option<String>,
    /// Rounds it failed.
    pub failed_rounds: i64,
    /// Rounds it was scored in.
    pub rounds: i64,
}

impl Store {
    /// The sites within `scope` that failed two finished rounds or more, the most failures first.
    ///
    /// # Errors
    /// On database errors.
    pub fn repeat_offenders(&self, scope: &Scope) -> Result<Vec<RepeatOffender>, StoreError> {
        let w = Where::any_scoring(scope);
        self.with(|c| {
            c.query(
                &format!(
                    "SELECT s.url, max(s.name), max(s.region),
                            sum(CASE WHEN s.verdict = 'fail' THEN 1 ELSE 0 END) AS failed, count(*)
                     FROM site_scores s JOIN scorings g ON g.id = s.scoring_id
                     WHERE g.finished_at IS NOT NULL AND {}
                     GROUP BY s.url HAVING sum(CASE WHEN s.verdict = 'fail' THEN 1 ELSE 0 END) >= 2
                     ORDER BY failed DESC, s.url LIMIT 500",
                    w.sql
                ),
                &w.params(),
            )?
            .iter()
            .map(|r| {
                Ok(RepeatOffender {
                    url: r.get(0)?,
                    name: r.get(1)?,
                    region: r.get(2)?,
                    failed_rounds: r.get(3)?,
                    rounds: r.get(4)?,
                })
            })
            .collect()
        })
    }

    /// Issues a notice for a site of a scoring: every finding of it that vetoes or takes points
    /// becomes an item. None when the site has no such finding (nothing to rectify).
    ///
    /// # Errors
    /// On database errors.
    pub fn issue_notice(
        &self,
        scoring_id: i64,
        site_id: i64,
        by: &str,
        deadline: &str,
    ) -> Result<Option<i64>, StoreError> {
        self.transaction(|c| {
            let items = c.query(
                "SELECT check_id, severity, page, target, coalesce(evidence_zh, evidence), evidence FROM scored_findings
                 WHERE scoring_id = ?1 AND site_id = ?2 AND severity IN ('veto', 'deduct') ORDER BY id",
                p![scoring_id, site_id],
            )?;
            if items.is_empty() {
                return Ok(None);
            }
            let id: i64 = c
                .query_one(
                    "INSERT INTO notices (scoring_id, site_id, issued_by, issued_at, deadline) VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id",
                    p![scoring_id, site_id, by, now(), deadline],
                )?
                .get(0)?;
            for r in &items {
                let (check, severity, page, target, evidence, evidence_en): (
                    String,
                    String,
                    Option<String>,
                    Option<String>,
                    String,
                    String,
                ) = (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?);
                c.execute(
                    "INSERT INTO notice_items (notice_id, check_id, severity, page, target, evidence, evidence_en)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    p![id, check, severity, page, target, evidence, evidence_en],
                )?;
            }
            Ok(Some(id))
        })
    }

    /// The notices of the sites within `scope`, newest first.
    ///
    /// # Errors
    /// On database errors.
    pub fn notices(&self, scope: &Scope) -> Result<Vec<NoticeLine>, StoreError> {
        self.notice_lines(scope, None)
    }

    fn notice_lines(&self, scope: &Scope, id: Option<i64>) -> Result<Vec<NoticeLine>, StoreError> {
        let mut w = Where::any_scoring(scope);
        if let Some(id) = id {
            let m = w.arg(Arg::Int(id));
            w.sql.push_str(&format!(" AND n.id = {m}"));
        }
        self.with(|c| {
            c.query(
                &format!(
                    "SELECT n.id, n.scoring_id, n.site_id, s.url, s.name, s.region, n.issued_by, n.issued_at, n.deadline,
                            (SELECT count(*) FROM notice_items i WHERE i.notice_id = n.id),
                            (SELECT count(*) FROM notice_items i WHERE i.notice_id = n.id AND i.marked_at IS NOT NULL)
                     FROM notices n JOIN site_scores s ON s.scoring_id = n.scoring_id AND s.site_id = n.site_id
                     WHERE {} ORDER BY n.id DESC",
                    w.sql
                ),
                &w.params(),
            )?
            .iter()
            .map(|r| {
                Ok(NoticeLine {
                    id: r.get(0)?,
                    scoring_id: r.get(1)?,
                    site_id: r.get(2)?,
                    url: r.get(3)?,
                    name: r.get(4)?,
                    region: r.get(5)?,
                    issued_by: r.get(6)?,
                    issued_at: r.get(7)?,
                    deadline: r.get(8)?,
                    items: r.get(9)?,
                    marked: r.get(10)?,
                })
            })
            .collect()
        })
    }

    /// A notice within `scope`, with its items.
    ///
    /// # Errors
    /// On database errors.
    pub fn notice(&self, id: i64, scope: &Scope) -> Result<Option<(NoticeLine, Vec<NoticeItem>)>, StoreError> {
        let Some(line) = self.notice_lines(scope, Some(id))?.pop() else { return Ok(None) };
        Ok(Some((line, self.notice_items(id)?)))
    }

    /// The items of a notice, in order (the caller has the notice within its scope).
    ///
    /// # Errors
    /// On database errors.
    pub fn notice_items(&self, id: i64) -> Result<Vec<NoticeItem>, StoreError> {
        self.with(|c| {
            c.query(
                "SELECT id, check_id, severity, page, target, evidence, fixed_note, marked_by, marked_at, evidence_en
                 FROM notice_items WHERE notice_id = ?1 ORDER BY id",
                p![id],
            )?
            .iter()
            .map(|r| {
                Ok(NoticeItem {
                    id: r.get(0)?,
                    check: r.get(1)?,
                    severity: r.get(2)?,
                    page: r.get(3)?,
                    target: r.get(4)?,
                    evidence: r.get(5)?,
                    fixed_note: r.get(6)?,
                    marked_by: r.get(7)?,
                    marked_at: r.get(8)?,
                    evidence_en: r.get(9)?,
                })
            })
            .collect()
        })
    }

    /// Marks an item of a notice fixed, with the team's note; false when the item is not the
    /// notice's.
    ///
    /// # Errors
    /// On database errors.
    pub fn mark_fixed(&self, notice_id: i64, item_id: i64, note: &str, by: &str) -> Result<bool, StoreError> {
        self.with(|c| {
            let n = c.execute(
                "UPDATE notice_items SET fixed_note = ?3, marked_by = ?4, marked_at = ?5 WHERE id = ?2 AND notice_id = ?1",
                p![notice_id, item_id, note, by, now()],
            )?;
            Ok(n > 0)
        })
    }

    /// What the first finished scoring after the notice's (a later as-of) that holds the site
    /// says of each item, if there is one yet.
    ///
    /// # Errors
    /// On database errors.
    pub fn verify_notice(&self, line: &NoticeLine, items: &[NoticeItem]) -> Result<Option<Verification>, StoreError> {
        let later: Option<(i64, i64, String)> = self.with(|c| {
            c.query_opt(
                "SELECT g.id, s.site_id, g.as_of FROM scorings g JOIN site_scores s ON s.scoring_id = g.id
                 WHERE s.url = ?1 AND g.finished_at IS NOT NULL
                   AND g.as_of > (SELECT as_of FROM scorings WHERE id = ?2)
                 ORDER BY g.as_of, g.id LIMIT 1",
                p![line.url, line.scoring_id],
            )?
            .map(|r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .transpose()
        })?;
        let Some((scoring_id, site_id, as_of)) = later else { return Ok(None) };
        let now_found: Vec<(String, Option<String>, Option<String>)> = self.with(|c| {
            c.query(
                "SELECT check_id, page, target FROM scored_findings
                 WHERE scoring_id = ?1 AND site_id = ?2 AND severity IN ('veto', 'deduct')",
                p![scoring_id, site_id],
            )?
            .iter()
            .map(|r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .collect()
        })?;
        let named: Vec<FindingKey> =
            items.iter().map(|i| (i.check.clone(), i.page.clone(), i.target.clone())).collect();
        Ok(Some(verification(scoring_id, as_of, &named, now_found)))
    }

    /// The notices of the sites within `scope`, newest first, each with what the next scoring
    /// of its site says of it: the same as [`Store::verify_notice`] per notice, read in a few
    /// queries for the whole list (one per later round), not a few per notice.
    ///
    /// # Errors
    /// On database errors.
    pub fn notices_verified(&self, scope: &Scope) -> Result<Vec<(NoticeLine, Option<Verification>)>, StoreError> {
        let lines = self.notice_lines(scope, None)?;
        let w = Where::any_scoring(scope);
        let (mut items, later) = self.with(|c| {
            let mut items: std::collections::HashMap<i64, Vec<FindingKey>> = std::collections::HashMap::new();
            for r in c
                .query(
                    &format!(
                        "SELECT i.notice_id, i.check_id, i.page, i.target FROM notice_items i
                         JOIN notices n ON n.id = i.notice_id
                         JOIN site_scores s ON s.scoring_id = n.scoring_id AND s.site_id = n.site_id
                         WHERE {} ORDER BY i.notice_id, i.id",
                        w.sql
                    ),
                    &w.params(),
                )?
                .iter()
            {
                items.entry(r.get(0)?).or_default().push((r.get(1)?, r.get(2)?, r.get(3)?));
            }
            // Each notice's first finished scoring of its site after its own (a later as-of).
            let mut later: std::collections::HashMap<i64, (i64, i64, String)> = std::collections::HashMap::new();
            for r in c
                .query(
                    &format!(
                        "SELECT n.id, g.id, s2.site_id, g.as_of FROM notices n
                         JOIN site_scores s ON s.scoring_id = n.scoring_id AND s.site_id = n.site_id
                         JOIN scorings g0 ON g0.id = n.scoring_id
                         JOIN site_scores s2 ON s2.url = s.url
                         JOIN scorings g ON g.id = s2.scoring_id
                         WHERE {} AND g.finished_at IS NOT NULL AND g.as_of > g0.as_of
                         ORDER BY n.id, g.as_of, g.id",
                        w.sql
                    ),
                    &w.params(),
                )?
                .iter()
            {
                later.entry(r.get(0)?).or_insert((r.get(1)?, r.get(2)?, r.get(3)?));
            }
            Ok((items, later))
        })?;
        // What each verifying scoring found of the sites concerned: a query per scoring.
        let mut sites_of: std::collections::BTreeMap<i64, Vec<i64>> = std::collections::BTreeMap::new();
        for (scoring, site, _) in later.values() {
            sites_of.entry(*scoring).or_default().push(*site);
        }
        let mut found: std::collections::HashMap<(i64, i64), Vec<FindingKey>> = std::collections::HashMap::new();
        for (scoring, sites) in &mut sites_of {
            sites.sort_unstable();
            sites.dedup();
            for chunk in sites.chunks(500) {
                let list = chunk.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
                let rows: Vec<(i64, FindingKey)> = self.with(|c| {
                    c.query(
                        &format!(
                            "SELECT site_id, check_id, page, target FROM scored_findings
                             WHERE scoring_id = ?1 AND site_id IN ({list}) AND severity IN ('veto', 'deduct') ORDER BY id"
                        ),
                        p![scoring],
                    )?
                    .iter()
                    .map(|r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?, r.get(3)?))))
                    .collect()
                })?;
                for (site, key) in rows {
                    found.entry((*scoring, site)).or_default().push(key);
                }
            }
        }
        Ok(lines
            .into_iter()
            .map(|line| {
                let v = later.get(&line.id).map(|(scoring, site, as_of)| {
                    let named = items.remove(&line.id).unwrap_or_default();
                    let now_found = found.get(&(*scoring, *site)).cloned().unwrap_or_default();
                    verification(*scoring, as_of.clone(), &named, now_found)
                });
                (line, v)
            })
            .collect())
    }
}

/// A finding as a notice's item and a later scoring name it: (check, page, target).
type FindingKey = (String, Option<String>, Option<String>);

/// A notice's items (`named`) against what a later scoring found.
fn verification(scoring_id: i64, as_of: String, named: &[FindingKey], now_found: Vec<FindingKey>) -> Verification {
    let still_there = named.iter().map(|k| now_found.contains(k)).collect();
    let new = now_found.into_iter().filter(|f| !named.contains(f)).collect();
    Verification { scoring_id, as_of, still_there, new }
}
