//! Reading stored scorings for the web app: a census's figures, a page of its site list under
//! filters, and one site's scorecard — always within what the reader may see (a region-code
//! prefix, or a list of sites).

use serde::Serialize;
use sitecensus_core::column::Column;
use sitecensus_core::rubric::ColumnKind;

use crate::db::{Param, ToParam, p};
use crate::{Store, StoreError};

/// What a reader may see of a scoring.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Scope {
    /// Every site (the national office, an administrator, an auditor).
    #[default]
    All,
    /// Sites whose region code starts with this prefix (`36` a province, `3601` a city).
    Region(String),
    /// These sites, by the URL they were given as (a site's own web team).
    Sites(Vec<String>),
}

/// Filters, order and page of the site list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SiteQuery {
    /// Text the name or the URL contains.
    pub text: Option<String>,
    /// The level as stored (`county`).
    pub level: Option<String>,
    /// A region-code prefix, within the scope.
    pub region: Option<String>,
    /// `pass` or `fail`.
    pub verdict: Option<String>,
    /// A veto item, in the rubric's wording.
    pub veto_item: Option<String>,
    /// A check the site has a finding of.
    pub check: Option<String>,
    /// The order.
    pub sort: SiteSort,
    /// The page, from 0.
    pub page: u32,
    /// Sites per page.
    pub per_page: u32,
}

/// How the site list is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SiteSort {
    /// Passing sites first, then by score, best first (the ranking).
    #[default]
    Rank,
    /// Lowest score first.
    ScoreAsc,
    /// By region code, then name.
    Region,
    /// By name.
    Name,
}

impl SiteSort {
    /// The order by its name in a URL (`rank`, `score`, `region`, `name`).
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "rank" => SiteSort::Rank,
            "score" => SiteSort::ScoreAsc,
            "region" => SiteSort::Region,
            "name" => SiteSort::Name,
            _ => return None,
        })
    }

    /// Its name in a URL.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            SiteSort::Rank => "rank",
            SiteSort::ScoreAsc => "score",
            SiteSort::Region => "region",
            SiteSort::Name => "name",
        }
    }

    fn order_by(self) -> &'static str {
        match self {
            // `pass` sorts after `fail`: descending puts passing sites first. Each order is an
            // index's (site_scores_rank, site_scores_score), so that a deep page is not a sort.
            SiteSort::Rank => "s.verdict DESC, s.score DESC, s.site_id DESC",
            SiteSort::ScoreAsc => "s.score, s.site_id",
            SiteSort::Region => "s.region, s.name, s.url",
            SiteSort::Name => "s.name, s.url",
        }
    }
}

/// A finished scoring, as the app offers it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScoringInfo {
    /// Its id.
    pub id: i64,
    /// The run it scored.
    pub run_id: i64,
    /// The run's name (a census round's), where it has one.
    pub run_name: Option<String>,
    /// The rubric's id and title.
    pub rubric: String,
    /// The rubric's title.
    pub rubric_title: String,
    /// "Today" of the scoring.
    pub as_of: String,
    /// When it finished.
    pub finished_at: String,
}

/// A site's line in a scoring.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SiteLine {
    /// The site's id.
    pub site_id: i64,
    /// The URL it was given as.
    pub url: String,
    /// Its name.
    pub name: Option<String>,
    /// Its level.
    pub level: Option<String>,
    /// Its region code.
    pub region: Option<String>,
    /// `pass` or `fail`.
    pub verdict: String,
    /// Its score.
    pub score: f64,
    /// How many veto items it met.
    pub vetoes: i64,
}

/// A census's figures within a scope.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Overview {
    /// Sites.
    pub sites: i64,
    /// Sites that pass.
    pub pass: i64,
    /// Their mean score.
    pub mean_score: f64,
    /// Sites failed by each veto item, most first.
    pub vetoes: Vec<(String, i64)>,
    /// Per region code: sites, passing sites, mean score.
    pub regions: Vec<(String, i64, i64, f64)>,
    /// Sites per score band (`<60`, `60–69`, …, `90–100`).
    pub bands: Vec<(String, i64)>,
    /// Per level (`county`; empty when the list gives none): sites, passing sites, mean score.
    pub levels: Vec<(String, i64, i64, f64)>,
    /// The problems most sites share: per check, how many sites have a finding of it, most first.
    pub checks: Vec<(String, i64)>,
    /// The same error on many sites: a check and the address it names (a dead link a shared
    /// template carries), on two sites or more, most first (the first twenty).
    pub shared: Vec<(String, String, i64)>,
    /// The scope's trend across rounds: each finished scoring (oldest first) with its sites,
    /// passing sites and mean score.
    pub trend: Vec<TrendPoint>,
}

/// One round in a census's trend.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrendPoint {
    /// The scoring.
    pub scoring_id: i64,
    /// Its run's name, where it has one.
    pub run_name: Option<String>,
    /// Its run.
    pub run_id: i64,
    /// Its rubric's id.
    pub rubric: String,
    /// "Today" of the scoring.
    pub as_of: String,
    /// Sites in scope.
    pub sites: i64,
    /// Of which pass.
    pub pass: i64,
    /// Their mean score.
    pub mean_score: f64,
}

/// The most addresses "the same error on many sites" lists.
const SHARED_SHOWN: i64 = 20;

/// One site's scorecard in a scoring.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SiteCard {
    /// Its line.
    pub line: SiteLine,
    /// Where its homepage ended up.
    pub final_url: Option<String>,
    /// Its homepage's title.
    pub title: Option<String>,
    /// Veto items met: (check, item, count).
    pub vetoes: Vec<(String, String, i64)>,
    /// Deductions: (check, item, count, points, capped).
    pub deductions: Vec<(String, String, i64, f64, bool)>,
    /// Findings at their final severity.
    pub findings: Vec<ScoredFinding>,
    /// Its columns with their freshness, as the scoring judged them.
    pub columns: Vec<Column>,
}

/// A site's result in one scoring, for its history across rounds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryLine {
    /// The scoring.
    pub scoring_id: i64,
    /// Its run.
    pub run_id: i64,
    /// The run's name (a census round's).
    pub run_name: Option<String>,
    /// The rubric it was scored under.
    pub rubric: String,
    /// "Today" of the scoring.
    pub as_of: String,
    /// The site's id in that run.
    pub site_id: i64,
    /// `pass` or `fail`.
    pub verdict: String,
    /// Its score.
    pub score: f64,
    /// Veto items met.
    pub vetoes: i64,
}

/// A finding as a scoring stored it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScoredFinding {
    /// Its check.
    pub check: String,
    /// Its severity.
    pub severity: String,
    /// The page it was seen on.
    pub page: Option<String>,
    /// What it concerns.
    pub target: Option<String>,
    /// Its evidence in English.
    pub evidence: String,
    /// Its evidence in Chinese.
    pub evidence_zh: Option<String>,
    /// The screenshot of its page the run kept (a veto's evidence page), where there is one.
    pub screenshot: Option<String>,
    /// The words the evidence quotes from its page (a term found, a link's text), for showing
    /// them marked in the archived page.
    pub quote: Option<String>,
}

/// A scoring (or a region's part of it) published for everyone to see.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Publication {
    /// Its id (the public pages' address).
    pub id: i64,
    /// The scoring.
    pub scoring: ScoringInfo,
    /// The region-code prefix published; null for every site.
    pub region: Option<String>,
    /// Who published it.
    pub published_by: String,
    /// When.
    pub published_at: String,
}

impl Publication {
    /// What the public may see of the scoring.
    #[must_use]
    pub fn scope(&self) -> Scope {
        self.region.clone().map_or(Scope::All, Scope::Region)
    }
}

impl ScoredFinding {
    /// Takes the screenshot and the quoted words from the finding's stored detail (its `term`,
    /// else the first of its `terms`, else its link `text`, else the first 「…」 of its evidence).
    fn with_detail(mut self, detail: &str) -> Self {
        let d: serde_json::Value = serde_json::from_str(detail).unwrap_or_default();
        let text =
            |v: Option<&serde_json::Value>| v.and_then(|v| v.as_str()).filter(|s| !s.is_empty()).map(str::to_owned);
        self.screenshot = text(d.get("screenshot"));
        self.quote = text(d.get("term"))
            .or_else(|| text(d.get("terms").and_then(|t| t.get(0))))
            .or_else(|| text(d.get("text")))
            .or_else(|| {
                let e = self.evidence_zh.as_deref().unwrap_or(&self.evidence);
                let start = e.find('「')? + '「'.len_utf8();
                let len = e[start..].find('」')?;
                Some(e[start..start + len].to_owned()).filter(|q| !q.is_empty())
            });
        self
    }
}

/// A query's arguments, owned while it is built.
pub(crate) enum Arg {
    Int(i64),
    Text(String),
}

impl ToParam for Arg {
    fn param(&self) -> Param<'_> {
        match self {
            Arg::Int(i) => Param::Int(*i),
            Arg::Text(s) => Param::Text(s),
        }
    }
}

/// A WHERE clause over `site_scores s` of one scoring, built with numbered placeholders.
pub(crate) struct Where {
    pub(crate) sql: String,
    pub(crate) args: Vec<Arg>,
}

impl Where {
    fn new(scoring_id: i64, scope: &Scope) -> Self {
        let mut w = Where { sql: "s.scoring_id = ?1".to_owned(), args: vec![Arg::Int(scoring_id)] };
        w.scope(scope);
        w
    }

    /// `scope` over `site_scores s` of any scoring.
    pub(crate) fn any_scoring(scope: &Scope) -> Self {
        let mut w = Where { sql: "1 = 1".to_owned(), args: Vec::new() };
        w.scope(scope);
        w
    }

    fn scope(&mut self, scope: &Scope) {
        let w = self;
        match scope {
            Scope::All => {}
            Scope::Region(prefix) => w.prefix("s.region", prefix),
            Scope::Sites(urls) if urls.is_empty() => w.sql.push_str(" AND 1 = 0"),
            Scope::Sites(urls) => {
                let marks: Vec<String> = urls.iter().map(|u| w.arg(Arg::Text(u.clone()))).collect();
                w.sql.push_str(&format!(" AND s.url IN ({})", marks.join(", ")));
            }
        }
    }

    pub(crate) fn arg(&mut self, a: Arg) -> String {
        self.args.push(a);
        format!("?{}", self.args.len())
    }

    fn eq(&mut self, column: &str, value: &str) {
        let m = self.arg(Arg::Text(value.to_owned()));
        self.sql.push_str(&format!(" AND {column} = {m}"));
    }

    /// `column` starts with `prefix`: a range of the column's index for a code of digits or
    /// letters (LIKE uses no index in SQLite), else LIKE with `%` and `_` taken literally.
    fn prefix(&mut self, column: &str, prefix: &str) {
        let last = prefix.bytes().last();
        if let Some(last) = last.filter(|_| prefix.bytes().all(|b| b.is_ascii_alphanumeric())) {
            let mut end = prefix.as_bytes().to_vec();
            *end.last_mut().expect("not empty") = last + 1;
            let (a, b) = (
                self.arg(Arg::Text(prefix.to_owned())),
                self.arg(Arg::Text(String::from_utf8_lossy(&end).into_owned())),
            );
            self.sql.push_str(&format!(" AND {column} >= {a} AND {column} < {b}"));
            return;
        }
        let m = self.arg(Arg::Text(format!("{}%", like_literal(prefix))));
        self.sql.push_str(&format!(" AND {column} LIKE {m} ESCAPE '\\'"));
    }

    fn filter(&mut self, q: &SiteQuery) {
        if let Some(t) = q.text.as_deref().filter(|t| !t.trim().is_empty()) {
            let m = self.arg(Arg::Text(format!("%{}%", like_literal(t.trim()))));
            // The matching sites found by one scan of the scoring, then walked in the list's
            // order by an index that holds the site id (no row fetched per index entry).
            self.sql.push_str(&format!(
                " AND s.site_id IN (SELECT t.site_id FROM site_scores t WHERE t.scoring_id = ?1
                   AND (t.name LIKE {m} ESCAPE '\\' OR t.url LIKE {m} ESCAPE '\\'))"
            ));
        }
        if let Some(l) = q.level.as_deref().filter(|v| !v.is_empty()) {
            self.eq("s.level", l);
        }
        if let Some(r) = q.region.as_deref().filter(|v| !v.is_empty()) {
            self.prefix("s.region", r);
        }
        if let Some(v) = q.verdict.as_deref().filter(|v| !v.is_empty()) {
            self.eq("s.verdict", v);
        }
        if let Some(item) = q.veto_item.as_deref().filter(|v| !v.is_empty()) {
            let m = self.arg(Arg::Text(item.to_owned()));
            // The sites of the item, looked up once (not a probe per site of the census).
            self.sql.push_str(&format!(
                " AND s.site_id IN (SELECT v.site_id FROM site_vetoes v WHERE v.scoring_id = ?1 AND v.item = {m})"
            ));
        }
        if let Some(check) = q.check.as_deref().filter(|v| !v.is_empty()) {
            let m = self.arg(Arg::Text(check.to_owned()));
            self.sql.push_str(&format!(
                " AND s.site_id IN (SELECT f.site_id FROM scored_findings f WHERE f.scoring_id = ?1 AND f.check_id = {m})"
            ));
        }
    }

    pub(crate) fn params(&self) -> Vec<Param<'_>> {
        self.args.iter().map(ToParam::param).collect()
    }
}

/// `text` for a LIKE pattern with `ESCAPE '\'`: its `%`, `_` and `\` taken literally.
fn like_literal(text: &str) -> String {
    text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

/// A site's columns in a scoring, in the order the scoring listed them.
pub(crate) fn site_columns(
    c: &mut crate::db::Conn,
    scoring_id: i64,
    site_id: i64,
) -> Result<Vec<Column>, crate::DbError> {
    c.query(
        "SELECT url, title, kind, items, latest, stale, empty, unreadable FROM site_columns
         WHERE scoring_id = ?1 AND site_id = ?2 ORDER BY ordinal",
        p![scoring_id, site_id],
    )?
    .iter()
    .map(|r| {
        Ok(Column {
            url: r.get(0)?,
            title: r.get(1)?,
            kind: ColumnKind::parse(&r.get::<String>(2)?).unwrap_or(ColumnKind::Other),
            items: usize::try_from(r.get::<i64>(3)?).unwrap_or(0),
            latest: r.get(4)?,
            stale: r.get(5)?,
            empty: r.get(6)?,
            unreadable: r.get(7)?,
        })
    })
    .collect()
}

fn site_line(r: &crate::db::Row) -> Result<SiteLine, crate::DbError> {
    Ok(SiteLine {
        site_id: r.get(0)?,
        url: r.get(1)?,
        name: r.get(2)?,
        level: r.get(3)?,
        region: r.get(4)?,
        verdict: r.get(5)?,
        score: r.get(6)?,
        vetoes: r.get(7)?,
    })
}

const LINE_COLUMNS: &str = "s.site_id, s.url, s.name, s.level, s.region, s.verdict, s.score, s.vetoes";

impl Store {
    /// Publishes a finished scoring (or its part under a region-code prefix) for everyone to see.
    ///
    /// # Errors
    /// On database errors, or when the scoring is not a finished one.
    pub fn publish(&self, scoring_id: i64, region: Option<&str>, by: &str) -> Result<i64, StoreError> {
        if !self.finished_scorings()?.iter().any(|s| s.id == scoring_id) {
            return Err(self.corrupt(format!("scoring {scoring_id} is not a finished scoring")));
        }
        self.with(|c| {
            c.query_one(
                "INSERT INTO publications (scoring_id, region, published_by, published_at) VALUES (?1, ?2, ?3, ?4) RETURNING id",
                p![scoring_id, region, by, crate::now()],
            )?
            .get(0)
        })
    }

    /// Names files of a run kept on disk (`warc`: its WARC archives), once each.
    ///
    /// # Errors
    /// On database errors.
    pub fn add_run_files(&self, run_id: i64, kind: &str, paths: &[String]) -> Result<(), StoreError> {
        self.transaction(|c| {
            for path in paths {
                c.execute(
                    "INSERT INTO run_files (run_id, kind, path) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
                    p![run_id, kind, path],
                )?;
            }
            Ok(())
        })
    }

    /// The files of a kind a run kept on disk.
    ///
    /// # Errors
    /// On database errors.
    pub fn run_files(&self, run_id: i64, kind: &str) -> Result<Vec<String>, StoreError> {
        self.with(|c| {
            c.query("SELECT path FROM run_files WHERE run_id = ?1 AND kind = ?2 ORDER BY path", p![run_id, kind])?
                .iter()
                .map(|r| r.get(0))
                .collect()
        })
    }

    /// Everything published, newest first.
    ///
    /// # Errors
    /// On database errors.
    pub fn publications(&self) -> Result<Vec<Publication>, StoreError> {
        let scorings = self.finished_scorings()?;
        let rows: Vec<(i64, i64, Option<String>, String, String)> = self.with(|c| {
            c.query(
                "SELECT id, scoring_id, region, published_by, published_at FROM publications ORDER BY id DESC",
                p![],
            )?
            .iter()
            .map(|r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
            .collect()
        })?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, scoring_id, region, published_by, published_at)| {
                let scoring = scorings.iter().find(|s| s.id == scoring_id)?.clone();
                Some(Publication { id, scoring, region, published_by, published_at })
            })
            .collect())
    }

    /// The finished scorings, newest first.
    ///
    /// # Errors
    /// On database errors.
    pub fn finished_scorings(&self) -> Result<Vec<ScoringInfo>, StoreError> {
        self.with(|c| {
            c.query(
                "SELECT g.id, g.run_id, r.name, g.rubric, g.rubric_title, g.as_of, g.finished_at
                 FROM scorings g JOIN runs r ON r.id = g.run_id WHERE g.finished_at IS NOT NULL ORDER BY g.id DESC",
                p![],
            )?
            .iter()
            .map(|r| {
                Ok(ScoringInfo {
                    id: r.get(0)?,
                    run_id: r.get(1)?,
                    run_name: r.get(2)?,
                    rubric: r.get(3)?,
                    rubric_title: r.get(4)?,
                    as_of: r.get(5)?,
                    finished_at: r.get(6)?,
                })
            })
            .collect()
        })
    }

    /// A scoring's figures within `scope`.
    ///
    /// # Errors
    /// On database errors.
    pub fn overview(&self, scoring_id: i64, scope: &Scope) -> Result<Overview, StoreError> {
        let w = Where::new(scoring_id, scope);
        self.with(|c| {
            let params = w.params();
            let head = c.query_one(
                &format!(
                    "SELECT count(*), coalesce(sum(CASE WHEN s.verdict = 'pass' THEN 1 ELSE 0 END), 0), coalesce(avg(s.score), 0)
                     FROM site_scores s WHERE {}",
                    w.sql
                ),
                &params,
            )?;
            let vetoes = c
                .query(
                    &format!(
                        "SELECT v.item, count(DISTINCT v.site_id) AS n FROM site_vetoes v
                         JOIN site_scores s ON s.scoring_id = v.scoring_id AND s.site_id = v.site_id
                         WHERE {} GROUP BY v.item ORDER BY n DESC, v.item",
                        w.sql
                    ),
                    &params,
                )?
                .iter()
                .map(|r| Ok((r.get(0)?, r.get(1)?)))
                .collect::<Result<Vec<_>, crate::DbError>>()?;
            // Sites, passing sites and mean score per value of a column of the site list.
            let mut per = |column: &str| {
                c.query(
                    &format!(
                        "SELECT coalesce(s.{column}, ''), count(*), sum(CASE WHEN s.verdict = 'pass' THEN 1 ELSE 0 END), avg(s.score)
                         FROM site_scores s WHERE {} GROUP BY coalesce(s.{column}, '') ORDER BY 1",
                        w.sql
                    ),
                    &params,
                )?
                .iter()
                .map(|r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
                .collect::<Result<Vec<_>, crate::DbError>>()
            };
            let regions = per("region")?;
            let levels = per("level")?;
            let bands = c
                .query(
                    &format!(
                        "SELECT CASE WHEN s.score < 60 THEN 0 WHEN s.score < 70 THEN 1 WHEN s.score < 80 THEN 2
                                     WHEN s.score < 90 THEN 3 ELSE 4 END AS band, count(*)
                         FROM site_scores s WHERE {} GROUP BY 1 ORDER BY 1",
                        w.sql
                    ),
                    &params,
                )?
                .iter()
                .map(|r| {
                    let band: i64 = r.get(0)?;
                    let name = ["<60", "60–69", "70–79", "80–89", "90–100"][band.clamp(0, 4) as usize];
                    Ok((name.to_owned(), r.get(1)?))
                })
                .collect::<Result<Vec<_>, crate::DbError>>()?;
            // Every site's findings are read from their index alone; a scope's through its sites.
            let within = match scope {
                Scope::All => String::new(),
                _ => format!(" AND f.site_id IN (SELECT s.site_id FROM site_scores s WHERE {})", w.sql),
            };
            let checks = c
                .query(
                    &format!(
                        "SELECT f.check_id, count(DISTINCT f.site_id) AS n FROM scored_findings f
                         WHERE f.scoring_id = ?1{within} AND f.severity <> 'info' GROUP BY f.check_id ORDER BY n DESC, f.check_id"
                    ),
                    &params,
                )?
                .iter()
                .map(|r| Ok((r.get(0)?, r.get(1)?)))
                .collect::<Result<Vec<_>, crate::DbError>>()?;
            let shared = c
                .query(
                    &format!(
                        "SELECT f.check_id, f.target, count(DISTINCT f.site_id) AS n FROM scored_findings f
                         WHERE f.scoring_id = ?1{within} AND f.target IS NOT NULL AND f.severity <> 'info'
                         GROUP BY f.check_id, f.target HAVING count(DISTINCT f.site_id) > 1
                         ORDER BY n DESC, f.check_id, f.target LIMIT {SHARED_SHOWN}"
                    ),
                    &params,
                )?
                .iter()
                .map(|r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .collect::<Result<Vec<_>, crate::DbError>>()?;
            let any = Where::any_scoring(scope);
            let trend = c
                .query(
                    &format!(
                        "SELECT g.id, r.name, g.run_id, g.rubric, g.as_of, count(*),
                                sum(CASE WHEN s.verdict = 'pass' THEN 1 ELSE 0 END), avg(s.score)
                         FROM site_scores s JOIN scorings g ON g.id = s.scoring_id JOIN runs r ON r.id = g.run_id
                         WHERE {} AND g.finished_at IS NOT NULL
                         GROUP BY g.id, r.name, g.run_id, g.rubric, g.as_of ORDER BY g.as_of, g.id",
                        any.sql
                    ),
                    &any.params(),
                )?
                .iter()
                .map(|r| {
                    Ok(TrendPoint {
                        scoring_id: r.get(0)?,
                        run_name: r.get(1)?,
                        run_id: r.get(2)?,
                        rubric: r.get(3)?,
                        as_of: r.get(4)?,
                        sites: r.get(5)?,
                        pass: r.get(6)?,
                        mean_score: r.get(7)?,
                    })
                })
                .collect::<Result<Vec<_>, crate::DbError>>()?;
            Ok(Overview {
                sites: head.get(0)?,
                pass: head.get(1)?,
                mean_score: head.get(2)?,
                vetoes,
                regions,
                bands,
                levels,
                checks,
                shared,
                trend,
            })
        })
    }

    /// A page of a scoring's site list within `scope`, under `q`: the sites that match in all,
    /// and the page's.
    ///
    /// # Errors
    /// On database errors.
    pub fn site_lines(
        &self,
        scoring_id: i64,
        scope: &Scope,
        q: &SiteQuery,
    ) -> Result<(i64, Vec<SiteLine>), StoreError> {
        let mut w = Where::new(scoring_id, scope);
        w.filter(q);
        let per_page = q.per_page.clamp(1, 500);
        self.with(|c| {
            let params = w.params();
            let total: i64 =
                c.query_one(&format!("SELECT count(*) FROM site_scores s WHERE {}", w.sql), &params)?.get(0)?;
            let rows = c
                .query(
                    &format!(
                        "SELECT {LINE_COLUMNS} FROM site_scores s WHERE {} ORDER BY {} LIMIT {per_page} OFFSET {}",
                        w.sql,
                        q.sort.order_by(),
                        u64::from(q.page) * u64::from(per_page)
                    ),
                    &params,
                )?
                .iter()
                .map(site_line)
                .collect::<Result<Vec<_>, _>>()?;
            Ok((total, rows))
        })
    }

    /// The results of the site given as `url` in every finished scoring, oldest first, within
    /// `scope` (a site that moved out of a region is not followed there).
    ///
    /// # Errors
    /// On database errors.
    pub fn site_history(&self, url: &str, scope: &Scope) -> Result<Vec<HistoryLine>, StoreError> {
        let mut w = Where::any_scoring(scope);
        let m = w.arg(Arg::Text(url.to_owned()));
        w.sql.push_str(&format!(" AND g.finished_at IS NOT NULL AND s.url = {m}"));
        self.with(|c| {
            c.query(
                &format!(
                    "SELECT g.id, g.run_id, r.name, g.rubric, g.as_of, s.site_id, s.verdict, s.score, s.vetoes
                     FROM site_scores s JOIN scorings g ON g.id = s.scoring_id JOIN runs r ON r.id = g.run_id
                     WHERE {} ORDER BY g.as_of, g.id",
                    w.sql
                ),
                &w.params(),
            )?
            .iter()
            .map(|r| {
                Ok(HistoryLine {
                    scoring_id: r.get(0)?,
                    run_id: r.get(1)?,
                    run_name: r.get(2)?,
                    rubric: r.get(3)?,
                    as_of: r.get(4)?,
                    site_id: r.get(5)?,
                    verdict: r.get(6)?,
                    score: r.get(7)?,
                    vetoes: r.get(8)?,
                })
            })
            .collect()
        })
    }

    /// One site's scorecard in a scoring, if the site is in it and within `scope`.
    ///
    /// # Errors
    /// On database errors.
    pub fn site_card(&self, scoring_id: i64, site_id: i64, scope: &Scope) -> Result<Option<SiteCard>, StoreError> {
        let mut w = Where::new(scoring_id, scope);
        let m = w.arg(Arg::Int(site_id));
        w.sql.push_str(&format!(" AND s.site_id = {m}"));
        self.with(|c| {
            let Some(r) = c.query_opt(
                &format!("SELECT {LINE_COLUMNS}, s.final_url, s.title FROM site_scores s WHERE {}", w.sql),
                &w.params(),
            )?
            else {
                return Ok(None);
            };
            let line = site_line(&r)?;
            let (final_url, title) = (r.get(8)?, r.get(9)?);
            let vetoes = c
                .query(
                    "SELECT check_id, item, count FROM site_vetoes WHERE scoring_id = ?1 AND site_id = ?2 ORDER BY check_id, item",
                    p![scoring_id, site_id],
                )?
                .iter()
                .map(|r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .collect::<Result<Vec<_>, crate::DbError>>()?;
            let deductions = c
                .query(
                    "SELECT check_id, item, count, points, capped FROM site_deductions WHERE scoring_id = ?1 AND site_id = ?2 ORDER BY check_id",
                    p![scoring_id, site_id],
                )?
                .iter()
                .map(|r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
                .collect::<Result<Vec<_>, crate::DbError>>()?;
            let findings = c
                .query(
                    "SELECT check_id, severity, page, target, evidence, evidence_zh, detail FROM scored_findings
                     WHERE scoring_id = ?1 AND site_id = ?2 ORDER BY id",
                    p![scoring_id, site_id],
                )?
                .iter()
                .map(|r| {
                    Ok(ScoredFinding {
                        check: r.get(0)?,
                        severity: r.get(1)?,
                        page: r.get(2)?,
                        target: r.get(3)?,
                        evidence: r.get(4)?,
                        evidence_zh: r.get(5)?,
                        screenshot: None,
                        quote: None,
                    }
                    .with_detail(&r.get::<String>(6)?))
                })
                .collect::<Result<Vec<_>, crate::DbError>>()?;
            let columns = site_columns(c, scoring_id, site_id)?;
            Ok(Some(SiteCard { line, final_url, title, vetoes, deductions, findings, columns }))
        })
    }
}
