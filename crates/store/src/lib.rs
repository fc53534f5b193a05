//! The store of sitecensus: an embedded SQLite database (`./sitecensus.db` by default) holding
//! runs, their sites, the crawl frontier, pages, link targets and where they were seen,
//! findings, and availability probes. Everything a report needs is here, so a run can be scored
//! again under another rubric or date without fetching anything, and a killed scan resumes.
//!
//! Writes on the hot path go through one writer thread that commits in batches; each message is
//! applied atomically, so a killed process leaves whole pages or none.

mod schema;
mod scoring;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use sitecensus_core::{Finding, Severity, SiteSpec};

pub use scoring::{ScoringRow, SiteScore};
pub use writer::{LinkAdd, Op, PageRow, Writer};

/// What can go wrong with the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database refused an operation.
    #[error("database {path}: {source}")]
    Sqlite {
        /// The database file.
        path: String,
        /// The SQLite error.
        #[source]
        source: rusqlite::Error,
    },
    /// The schema could not be brought up to date.
    #[error("database {path}: migration failed: {message}")]
    Migration {
        /// The database file.
        path: String,
        /// What failed.
        message: String,
    },
    /// Stored JSON could not be read back.
    #[error("database {path}: stored data is unreadable: {message}")]
    Corrupt {
        /// The database file.
        path: String,
        /// What failed.
        message: String,
    },
    /// The writer thread is gone.
    #[error("the store's writer has stopped")]
    WriterGone,
    /// Writing to the store failed (a full disk, say); the run stopped there and resumes later.
    #[error(
        "cannot write to the store {path}: {message}; the run stopped here, and running the same command again resumes it"
    )]
    WriteFailed {
        /// The database file.
        path: String,
        /// What failed.
        message: String,
    },
    /// Another scan is writing to the store.
    #[error("the store {path} is busy: {by}; wait for it to end, or give another store with --db")]
    Busy {
        /// The database file.
        path: String,
        /// Who holds it (process and run).
        by: String,
    },
    /// A file beside the database (a lock, a screenshot) could not be used.
    #[error("{path}: {source}")]
    File {
        /// The file.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

/// The right to scan into a store, held while a scan runs: one scan at a time per store.
#[derive(Debug)]
pub struct ScanLock {
    file: std::fs::File,
}

impl ScanLock {
    /// Records which run the lock is held for (shown to a scan that finds the store busy).
    pub fn note_run(&mut self, run: i64) {
        use std::io::{Seek, Write};
        let _ = self.file.set_len(0);
        let _ = self.file.seek(std::io::SeekFrom::Start(0));
        let _ = write!(self.file, "process {} scanning run {run} since {}", std::process::id(), now());
    }
}

/// A run as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunRow {
    /// Run id.
    pub id: i64,
    /// When it started (RFC 3339).
    pub started_at: String,
    /// When it finished, if it did.
    pub finished_at: Option<String>,
    /// `running` or `done`.
    pub status: String,
    /// The as-of of the scan (RFC 3339).
    pub as_of: String,
    /// The rubric it was scanned under.
    pub rubric: String,
    /// Identity of the site list and crawl settings, for resuming.
    pub spec_hash: String,
    /// The scan options as JSON.
    pub options: String,
}

/// A site of a run as stored.
#[derive(Debug, Clone)]
pub struct SiteRow {
    /// Site id (unique across runs).
    pub id: i64,
    /// Position in the site list.
    pub ordinal: i64,
    /// The site as the user gave it.
    pub spec: SiteSpec,
    /// `pending`, `crawling` or `done`.
    pub status: String,
    /// Crawl statistics (JSON object), once done.
    pub stats: Option<serde_json::Value>,
    /// The homepage fetch evidence (JSON), once fetched.
    pub homepage: Option<serde_json::Value>,
}

/// A frontier entry: a URL of the site to be fetched (state 0), fetched (1) or skipped (2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrontierRow {
    /// The URL.
    pub url: String,
    /// Link depth from the homepage.
    pub depth: u32,
    /// 0 queued, 1 fetched, 2 skipped.
    pub state: u8,
    /// Why it was skipped.
    pub note: Option<String>,
}

/// A link target of a site and the result of checking it.
#[derive(Debug, Clone)]
pub struct LinkRow {
    /// The target URL.
    pub url: String,
    /// Kind (page, image, …).
    pub kind: String,
    /// Whether it is inside the site's scope.
    pub internal: bool,
    /// The outcome JSON, once checked.
    pub outcome: Option<String>,
    /// How many pages link to it.
    pub sources: i64,
    /// Milliseconds the check took.
    pub elapsed_ms: Option<i64>,
}

/// A page that links to a target.
#[derive(Debug, Clone)]
pub struct SourceRow {
    /// The target URL.
    pub url: String,
    /// The linking page.
    pub page: String,
    /// The link text there.
    pub text: Option<String>,
    /// Whether the link is hidden there.
    pub hidden: bool,
}

/// A stored availability probe.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ProbeRow {
    /// The homepage URL probed.
    pub url: String,
    /// When (RFC 3339).
    pub at: String,
    /// Whether it opened within the timeout.
    pub ok: bool,
    /// HTTP status, if any.
    pub status: Option<u16>,
    /// Time taken.
    pub elapsed_ms: u64,
    /// The error, if it failed.
    pub error: Option<String>,
}

/// The database.
pub struct Store {
    path: PathBuf,
    /// Idle connections. Callers on many threads (assessing sites while others crawl) each take
    /// their own, so reads do not queue behind one another; SQLite's WAL lets them run at once.
    /// Hand-written: a pool crate would pin its own rusqlite version for these few lines.
    idle: Mutex<Vec<Connection>>,
    /// Pages the scan writer may grow the database to, where bounded.
    max_pages: Mutex<Option<u64>>,
}

/// Idle connections kept open.
const IDLE_CONNECTIONS: usize = 8;

/// The default database file.
pub const DEFAULT_DB: &str = "sitecensus.db";

fn open_conn(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(30))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(conn)
}

impl Store {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    ///
    /// # Errors
    /// When the file cannot be opened or migrated.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let p = path.display().to_string();
        // Two processes opening a new store at once would both migrate it: one at a time.
        let migrate_lock = Self::lock_file(path, "migrate.lock")?;
        migrate_lock.lock().map_err(|source| StoreError::File { path: format!("{p}.migrate.lock"), source })?;
        let mut conn = open_conn(path).map_err(|source| StoreError::Sqlite { path: p.clone(), source })?;
        schema::migrations()
            .to_latest(&mut conn)
            .map_err(|e| StoreError::Migration { path: p, message: e.to_string() })?;
        drop(migrate_lock);
        Ok(Store { path: path.to_owned(), idle: Mutex::new(vec![conn]), max_pages: Mutex::new(None) })
    }

    fn lock_file(path: &Path, suffix: &str) -> Result<std::fs::File, StoreError> {
        let name = format!("{}.{suffix}", path.display());
        std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&name)
            .map_err(|source| StoreError::File { path: name, source })
    }

    /// Takes the store for a scan; a store another scan holds is [`StoreError::Busy`], with who.
    ///
    /// # Errors
    /// When the store is busy, or its lock file cannot be made.
    pub fn lock_scan(&self) -> Result<ScanLock, StoreError> {
        let file = Self::lock_file(&self.path, "scan.lock")?;
        match file.try_lock() {
            Ok(()) => {
                let mut lock = ScanLock { file };
                let _ = lock.file.set_len(0);
                {
                    use std::io::Write;
                    let _ = write!(lock.file, "process {} starting a scan since {}", std::process::id(), now());
                }
                Ok(lock)
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                let by = std::fs::read_to_string(format!("{}.scan.lock", self.path.display()))
                    .unwrap_or_default()
                    .trim()
                    .to_owned();
                Err(StoreError::Busy {
                    path: self.path.display().to_string(),
                    by: if by.is_empty() { "another scan".to_owned() } else { by },
                })
            }
            Err(std::fs::TryLockError::Error(source)) => {
                Err(StoreError::File { path: format!("{}.scan.lock", self.path.display()), source })
            }
        }
    }

    /// The database file.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn err(&self, source: rusqlite::Error) -> StoreError {
        StoreError::Sqlite { path: self.path.display().to_string(), source }
    }

    fn corrupt(&self, message: impl std::fmt::Display) -> StoreError {
        StoreError::Corrupt { path: self.path.display().to_string(), message: message.to_string() }
    }

    fn with<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T, StoreError> {
        let taken = self.idle.lock().expect("store lock").pop();
        let conn = match taken {
            Some(c) => c,
            None => open_conn(&self.path).map_err(|e| self.err(e))?,
        };
        let out = f(&conn).map_err(|e| self.err(e));
        let mut idle = self.idle.lock().expect("store lock");
        if idle.len() < IDLE_CONNECTIONS {
            idle.push(conn);
        }
        out
    }

    /// Starts the writer thread for hot-path writes (its own connection).
    ///
    /// # Errors
    /// When the writer's connection cannot be opened.
    pub fn writer(&self) -> Result<Writer, StoreError> {
        let conn = open_conn(&self.path).map_err(|e| self.err(e))?;
        if let Some(pages) = *self.max_pages.lock().expect("store lock") {
            conn.pragma_update(None, "max_page_count", i64::try_from(pages).unwrap_or(i64::MAX))
                .map_err(|e| self.err(e))?;
        }
        Ok(Writer::start(conn, self.path.display().to_string()))
    }

    /// Bounds the size of the database the scan writer may grow it to (SQLite answers "database or
    /// disk is full" beyond it, as a full disk does): for an office that keeps stores small, and
    /// for the tests of a full disk.
    pub fn limit_size(&self, bytes: u64) {
        let page_size: i64 = self.with(|c| c.query_row("PRAGMA page_size", [], |r| r.get(0))).unwrap_or(4096);
        *self.max_pages.lock().expect("store lock") = Some(bytes / page_size.max(1).unsigned_abs());
    }

    /// The newest unfinished run with this identity, to resume.
    ///
    /// # Errors
    /// On database errors.
    pub fn resumable_run(&self, spec_hash: &str) -> Result<Option<RunRow>, StoreError> {
        self.with(|c| {
            c.query_row(
                "SELECT id, started_at, finished_at, status, as_of, rubric, spec_hash, options FROM runs
                 WHERE spec_hash = ?1 AND status = 'running' ORDER BY id DESC LIMIT 1",
                [spec_hash],
                run_row,
            )
            .optional()
        })
    }

    /// Creates a run and returns it.
    ///
    /// # Errors
    /// On database errors.
    pub fn create_run(&self, as_of: &str, rubric: &str, spec_hash: &str, options: &str) -> Result<RunRow, StoreError> {
        let now = now();
        let id = self.with(|c| {
            c.execute(
                "INSERT INTO runs (started_at, status, as_of, rubric, spec_hash, options) VALUES (?1, 'running', ?2, ?3, ?4, ?5)",
                params![now, as_of, rubric, spec_hash, options],
            )?;
            Ok(c.last_insert_rowid())
        })?;
        self.run(id)?.ok_or_else(|| self.corrupt("the run just created is missing"))
    }

    /// Marks a run finished.
    ///
    /// # Errors
    /// On database errors.
    pub fn finish_run(&self, id: i64) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute("UPDATE runs SET status = 'done', finished_at = ?2 WHERE id = ?1", params![id, now()]).map(|_| ())
        })
    }

    /// A run by id.
    ///
    /// # Errors
    /// On database errors.
    pub fn run(&self, id: i64) -> Result<Option<RunRow>, StoreError> {
        self.with(|c| {
            c.query_row(
                "SELECT id, started_at, finished_at, status, as_of, rubric, spec_hash, options FROM runs WHERE id = ?1",
                [id],
                run_row,
            )
            .optional()
        })
    }

    /// The latest run (the highest id), finished or not.
    ///
    /// # Errors
    /// On database errors.
    pub fn latest_run(&self) -> Result<Option<RunRow>, StoreError> {
        self.with(|c| {
            c.query_row(
                "SELECT id, started_at, finished_at, status, as_of, rubric, spec_hash, options FROM runs ORDER BY id DESC LIMIT 1",
                [],
                run_row,
            )
            .optional()
        })
    }

    /// The same site (given as the same URL) in the latest earlier run whose as-of is before this
    /// site's run's and whose crawl finished: its row and its run. History checks compare with it.
    ///
    /// # Errors
    /// On database errors or unreadable stored data.
    pub fn earlier_site(&self, site_id: i64) -> Result<Option<(SiteRow, RunRow)>, StoreError> {
        let found: Option<(i64, i64)> = self.with(|c| {
            c.query_row(
                "SELECT e.id, er.id FROM sites s
                   JOIN runs r ON r.id = s.run_id
                   JOIN sites e ON json_extract(e.spec, '$.given') = json_extract(s.spec, '$.given')
                   JOIN runs er ON er.id = e.run_id
                  WHERE s.id = ?1 AND er.id <> r.id AND er.as_of < r.as_of AND e.status = 'done'
                  ORDER BY er.as_of DESC, er.id DESC LIMIT 1",
                [site_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
        })?;
        let Some((site, run)) = found else { return Ok(None) };
        let Some(run) = self.run(run)? else { return Ok(None) };
        Ok(Some((self.sites_by_id(site)?, run)))
    }

    /// Adds the run's sites in order; on resume, returns those already there.
    ///
    /// # Errors
    /// On database errors.
    pub fn add_sites(&self, run_id: i64, sites: &[SiteSpec]) -> Result<Vec<SiteRow>, StoreError> {
        self.with(|c| {
            let tx = c.unchecked_transaction()?;
            {
                let mut st = tx.prepare("INSERT OR IGNORE INTO sites (run_id, ordinal, spec) VALUES (?1, ?2, ?3)")?;
                for (i, s) in sites.iter().enumerate() {
                    st.execute(params![run_id, i as i64, serde_json::to_string(s).expect("specs serialise")])?;
                }
            }
            tx.commit()
        })?;
        self.sites(run_id)
    }

    /// The sites of a run, in order.
    ///
    /// # Errors
    /// On database errors or unreadable stored data.
    pub fn sites(&self, run_id: i64) -> Result<Vec<SiteRow>, StoreError> {
        self.site_rows("WHERE run_id = ?1 ORDER BY ordinal", run_id)
    }

    /// One site by id (without reading the rest of its run).
    ///
    /// # Errors
    /// On database errors, or when there is no such site.
    pub fn sites_by_id(&self, site_id: i64) -> Result<SiteRow, StoreError> {
        self.site_rows("WHERE id = ?1", site_id)?.pop().ok_or_else(|| self.corrupt(format!("site {site_id} vanished")))
    }

    /// The site rows a `WHERE` clause with one parameter selects.
    fn site_rows(&self, filter: &str, key: i64) -> Result<Vec<SiteRow>, StoreError> {
        type Row = (i64, i64, String, String, Option<String>, Option<String>);
        let rows: Vec<Row> = self.with(|c| {
            let mut st =
                c.prepare_cached(&format!("SELECT id, ordinal, spec, status, stats, homepage FROM sites {filter}"))?;
            st.query_map([key], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)))?.collect()
        })?;
        rows.into_iter()
            .map(|(id, ordinal, spec, status, stats, homepage)| {
                Ok(SiteRow {
                    id,
                    ordinal,
                    spec: serde_json::from_str(&spec).map_err(|e| self.corrupt(e))?,
                    status,
                    stats: stats.map(|s| serde_json::from_str(&s)).transpose().map_err(|e| self.corrupt(e))?,
                    homepage: homepage.map(|s| serde_json::from_str(&s)).transpose().map_err(|e| self.corrupt(e))?,
                })
            })
            .collect()
    }

    /// Sets a site's status (and its stats, once done).
    ///
    /// # Errors
    /// On database errors.
    pub fn set_site_status(
        &self,
        site_id: i64,
        status: &str,
        stats: Option<&serde_json::Value>,
    ) -> Result<(), StoreError> {
        let stats = stats.map(serde_json::Value::to_string);
        self.with(|c| {
            match status {
                "crawling" => c.execute(
                    "UPDATE sites SET status = ?2, started_at = coalesce(started_at, ?3) WHERE id = ?1",
                    params![site_id, status, now()],
                )?,
                _ => c.execute(
                    "UPDATE sites SET status = ?2, finished_at = ?3, stats = coalesce(?4, stats) WHERE id = ?1",
                    params![site_id, status, now(), stats],
                )?,
            };
            Ok(())
        })
    }

    /// Stores the homepage fetch evidence of a site.
    ///
    /// # Errors
    /// On database errors.
    pub fn set_homepage(&self, site_id: i64, homepage: &serde_json::Value) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute("UPDATE sites SET homepage = ?2 WHERE id = ?1", params![site_id, homepage.to_string()])
                .map(|_| ())
        })
    }

    /// The frontier of a site.
    ///
    /// # Errors
    /// On database errors.
    pub fn frontier(&self, site_id: i64) -> Result<Vec<FrontierRow>, StoreError> {
        self.with(|c| {
            let mut st =
                c.prepare("SELECT url, depth, state, note FROM frontier WHERE site_id = ?1 ORDER BY depth, id")?;
            st.query_map([site_id], |r| {
                Ok(FrontierRow { url: r.get(0)?, depth: r.get(1)?, state: r.get(2)?, note: r.get(3)? })
            })?
            .collect()
        })
    }

    /// The stored pages of a site: (url, final url, depth, outcome JSON, model JSON).
    ///
    /// # Errors
    /// On database errors.
    pub fn pages(&self, site_id: i64) -> Result<Vec<StoredPage>, StoreError> {
        self.with(|c| {
            let mut st = c.prepare(
                "SELECT url, final_url, depth, outcome, model, content_hash, elapsed_ms, size, truncated FROM pages WHERE site_id = ?1 ORDER BY id",
            )?;
            st.query_map([site_id], |r| {
                Ok(StoredPage {
                    url: r.get(0)?,
                    final_url: r.get(1)?,
                    depth: r.get(2)?,
                    outcome: r.get(3)?,
                    model: r.get(4)?,
                    content_hash: r.get(5)?,
                    elapsed_ms: r.get(6)?,
                    size: r.get(7)?,
                    truncated: r.get(8)?,
                })
            })?
            .collect()
        })
    }

    /// How many pages of a site are stored.
    ///
    /// # Errors
    /// On database errors.
    pub fn page_count(&self, site_id: i64) -> Result<u64, StoreError> {
        self.with(|c| c.query_row("SELECT count(*) FROM pages WHERE site_id = ?1", [site_id], |r| r.get::<_, i64>(0)))
            .map(|n| n.max(0) as u64)
    }

    /// The link targets of a site.
    ///
    /// # Errors
    /// On database errors.
    pub fn links(&self, site_id: i64) -> Result<Vec<LinkRow>, StoreError> {
        self.with(|c| {
            let mut st =
                c.prepare("SELECT url, kind, internal, outcome, sources, elapsed_ms FROM links WHERE site_id = ?1")?;
            st.query_map([site_id], |r| {
                Ok(LinkRow {
                    url: r.get(0)?,
                    kind: r.get(1)?,
                    internal: r.get(2)?,
                    outcome: r.get(3)?,
                    sources: r.get(4)?,
                    elapsed_ms: r.get(5)?,
                })
            })?
            .collect()
        })
    }

    /// Where the site's link targets were seen (at most a few pages per target).
    ///
    /// # Errors
    /// On database errors.
    pub fn link_sources(&self, site_id: i64) -> Result<Vec<SourceRow>, StoreError> {
        self.with(|c| {
            let mut st = c.prepare("SELECT url, page, text, hidden FROM link_sources WHERE site_id = ?1")?;
            st.query_map([site_id], |r| {
                Ok(SourceRow { url: r.get(0)?, page: r.get(1)?, text: r.get(2)?, hidden: r.get(3)? })
            })?
            .collect()
        })
    }

    /// Findings of a site of one scope (`page` or `site`).
    ///
    /// # Errors
    /// On database errors or unreadable stored data.
    pub fn findings(&self, site_id: i64, scope: &str) -> Result<Vec<Finding>, StoreError> {
        type Row = (String, String, Option<String>, Option<String>, String, String, Option<String>);
        let rows: Vec<Row> = self.with(|c| {
            let mut st = c.prepare(
                "SELECT check_id, severity, page, target, evidence, detail, at_most FROM findings WHERE site_id = ?1 AND scope = ?2 ORDER BY id",
            )?;
            st.query_map(params![site_id, scope], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?))
            })?
            .collect()
        })?;
        let severity = |s: &str| Severity::parse(s).ok_or_else(|| self.corrupt(format!("severity {s:?}")));
        rows.into_iter()
            .map(|(check, found, page, target, evidence, detail, at_most)| {
                Ok(Finding {
                    check,
                    severity: severity(&found)?,
                    page,
                    target,
                    evidence,
                    detail: serde_json::from_str(&detail).map_err(|e| self.corrupt(e))?,
                    at_most: at_most.as_deref().map(severity).transpose()?,
                })
            })
            .collect()
    }

    /// Replaces the site-level findings of a site (they are recomputed whole).
    ///
    /// # Errors
    /// On database errors.
    pub fn replace_site_findings(&self, site_id: i64, findings: &[Finding]) -> Result<(), StoreError> {
        self.with(|c| {
            let tx = c.unchecked_transaction()?;
            write_site_findings(&tx, site_id, findings)?;
            tx.commit()
        })
    }

    /// Replaces what is kept of a site for twins across sites: its boilerplate lines' hashes and
    /// the LSH band hashes of its articles, by page URL.
    ///
    /// # Errors
    /// On database errors.
    pub fn replace_twin_index(
        &self,
        site_id: i64,
        boilerplate: &[u64],
        articles: &[(String, Vec<u64>)],
    ) -> Result<(), StoreError> {
        self.with(|c| {
            let tx = c.unchecked_transaction()?;
            write_twin_index(&tx, site_id, boilerplate, articles)?;
            tx.commit()
        })
    }

    /// A site's boilerplate lines' hashes, as [`Store::replace_twin_index`] kept them.
    ///
    /// # Errors
    /// On database errors.
    pub fn site_boilerplate(&self, site_id: i64) -> Result<Vec<u64>, StoreError> {
        let blob: Option<Vec<u8>> = self.with(|c| {
            c.query_row("SELECT lines FROM site_boilerplate WHERE site_id = ?1", [site_id], |r| r.get(0)).optional()
        })?;
        Ok(blob
            .unwrap_or_default()
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
            .collect())
    }

    /// Pairs of articles of different sites of a run that share an LSH bucket (at most `limit`).
    ///
    /// # Errors
    /// On database errors.
    pub fn cross_site_candidates(
        &self,
        run_id: i64,
        limit: usize,
    ) -> Result<Vec<(CandidatePage, CandidatePage)>, StoreError> {
        let ids: Vec<(i64, i64)> = self.with(|c| {
            let mut st = c.prepare(
                // Driven from one site's bands to the same buckets of the others (the written
                // order, kept by CROSS JOIN): index lookups only, however many articles.
                "SELECT DISTINCT b1.page_id, b2.page_id
                 FROM sites s1 CROSS JOIN pages p1 CROSS JOIN article_bands b1
                   CROSS JOIN article_bands b2 CROSS JOIN sites s2
                 WHERE s1.run_id = ?1 AND p1.site_id = s1.id AND b1.page_id = p1.id
                   AND b2.band = b1.band AND b2.hash = b1.hash
                   AND b2.page_id > b1.page_id AND b2.site_id <> b1.site_id
                   AND s2.id = b2.site_id AND s2.run_id = ?1
                 LIMIT ?2",
            )?;
            st.query_map(params![run_id, limit as i64], |r| Ok((r.get(0)?, r.get(1)?)))?.collect()
        })?;
        let load = |id: i64| -> Result<CandidatePage, StoreError> {
            self.with(|c| {
                c.query_row("SELECT site_id, url, model FROM pages WHERE id = ?1", [id], |r| {
                    Ok(CandidatePage { site_id: r.get(0)?, url: r.get(1)?, model: r.get(2)? })
                })
            })
        };
        ids.into_iter().map(|(a, b)| Ok((load(a)?, load(b)?))).collect()
    }

    /// The folder beside the database where files of its runs (screenshots) are kept:
    /// `sitecensus.db` → `sitecensus.files/`.
    #[must_use]
    pub fn files_dir(&self) -> std::path::PathBuf {
        let stem = self.path.file_stem().map_or_else(|| "sitecensus".into(), |s| s.to_string_lossy().into_owned());
        let parent = self.path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let parent = parent.canonicalize().unwrap_or_else(|_| parent.to_owned());
        parent.join(format!("{stem}.files"))
    }

    /// Keeps a PNG screenshot of a site's page: written under [`Store::files_dir`] and recorded;
    /// returns the file's path.
    ///
    /// # Errors
    /// When the file cannot be written, or on database errors.
    pub fn add_screenshot(&self, site_id: i64, page_url: &str, png: &[u8]) -> Result<std::path::PathBuf, StoreError> {
        let run: i64 = self.with(|c| c.query_row("SELECT run_id FROM sites WHERE id = ?1", [site_id], |r| r.get(0)))?;
        let rel =
            format!("run-{run}/screenshots/site-{site_id}-{:016x}.png", sitecensus_core::hash64(page_url.as_bytes()));
        let path = self.files_dir().join(&rel);
        let io = |e: std::io::Error| StoreError::Corrupt { path: path.display().to_string(), message: e.to_string() };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        std::fs::write(&path, png).map_err(io)?;
        self.with(|c| {
            c.execute(
                "INSERT OR REPLACE INTO screenshots (site_id, page_url, file, bytes, taken_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![site_id, page_url, rel, png.len() as i64, now()],
            )
            .map(|_| ())
        })?;
        Ok(path)
    }

    /// A site's screenshots: page URL → the file's path.
    ///
    /// # Errors
    /// On database errors.
    pub fn screenshots(
        &self,
        site_id: i64,
    ) -> Result<std::collections::BTreeMap<String, std::path::PathBuf>, StoreError> {
        let dir = self.files_dir();
        self.with(|c| {
            let mut st = c.prepare("SELECT page_url, file FROM screenshots WHERE site_id = ?1")?;
            st.query_map([site_id], |r| Ok((r.get::<_, String>(0)?, dir.join(r.get::<_, String>(1)?))))?.collect()
        })
    }

    /// Records one availability probe.
    ///
    /// # Errors
    /// On database errors.
    pub fn add_probe(&self, p: &ProbeRow) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "INSERT INTO probes (url, at, ok, status, elapsed_ms, error) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![p.url, p.at, p.ok, p.status, p.elapsed_ms as i64, p.error],
            )
            .map(|_| ())
        })
    }

    /// The probes of a homepage URL between two instants (RFC 3339, inclusive), oldest first.
    ///
    /// # Errors
    /// On database errors.
    pub fn probes(&self, url: &str, from: &str, to: &str) -> Result<Vec<ProbeRow>, StoreError> {
        self.with(|c| {
            let mut st = c.prepare(
                "SELECT url, at, ok, status, elapsed_ms, error FROM probes WHERE url = ?1 AND at >= ?2 AND at <= ?3 ORDER BY at",
            )?;
            st.query_map(params![url, from, to], |r| {
                Ok(ProbeRow { url: r.get(0)?, at: r.get(1)?, ok: r.get(2)?, status: r.get(3)?, elapsed_ms: r.get::<_, i64>(4)? as u64, error: r.get(5)? })
            })?
            .collect()
        })
    }
}

/// Replaces a site's site-level findings (inside the caller's transaction).
pub(crate) fn write_site_findings(c: &Connection, site_id: i64, findings: &[Finding]) -> rusqlite::Result<()> {
    c.execute("DELETE FROM findings WHERE site_id = ?1 AND scope = 'site'", [site_id])?;
    let mut st = c.prepare_cached(
        "INSERT INTO findings (site_id, scope, check_id, severity, page, target, evidence, detail, at_most) VALUES (?1, 'site', ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    for f in findings {
        st.execute(params![
            site_id,
            f.check,
            f.severity.as_str(),
            f.page,
            f.target,
            f.evidence,
            serde_json::Value::Object(f.detail.clone()).to_string(),
            f.at_most.map(Severity::as_str)
        ])?;
    }
    Ok(())
}

/// Replaces a site's boilerplate and article bands (inside the caller's transaction).
pub(crate) fn write_twin_index(
    c: &Connection,
    site_id: i64,
    boilerplate: &[u64],
    articles: &[(String, Vec<u64>)],
) -> rusqlite::Result<()> {
    c.execute("DELETE FROM article_bands WHERE page_id IN (SELECT id FROM pages WHERE site_id = ?1)", [site_id])?;
    let blob: Vec<u8> = boilerplate.iter().flat_map(|h| h.to_le_bytes()).collect();
    c.execute(
        "INSERT INTO site_boilerplate (site_id, lines) VALUES (?1, ?2)
         ON CONFLICT (site_id) DO UPDATE SET lines = excluded.lines",
        params![site_id, blob],
    )?;
    let mut page = c.prepare_cached("SELECT id FROM pages WHERE site_id = ?1 AND url = ?2")?;
    let mut band =
        c.prepare_cached("INSERT INTO article_bands (page_id, band, hash, site_id) VALUES (?1, ?2, ?3, ?4)")?;
    for (url, bands) in articles {
        let Some(id) = page.query_row(params![site_id, url], |r| r.get::<_, i64>(0)).optional()? else {
            continue;
        };
        for (b, h) in bands.iter().enumerate() {
            // SQLite integers are signed: the hash's bits are kept as they are.
            band.execute(params![id, b as i64, *h as i64, site_id])?;
        }
    }
    Ok(())
}

/// A stored article page that may be a twin of one of another site.
#[derive(Debug, Clone, PartialEq)]
pub struct CandidatePage {
    /// The site it belongs to.
    pub site_id: i64,
    /// Its URL (as stored).
    pub url: String,
    /// Its page model (JSON).
    pub model: Option<String>,
}

/// A stored page, as the site-level checks read it back.
#[derive(Debug, Clone)]
pub struct StoredPage {
    /// The URL asked for.
    pub url: String,
    /// Where redirects ended.
    pub final_url: String,
    /// Link depth.
    pub depth: u32,
    /// Outcome JSON.
    pub outcome: String,
    /// The page model JSON (HTML pages that were read).
    pub model: Option<String>,
    /// Hash of the body.
    pub content_hash: Option<String>,
    /// Fetch time.
    pub elapsed_ms: i64,
    /// Body size in bytes.
    pub size: i64,
    /// Whether the body was cut.
    pub truncated: bool,
}

fn run_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RunRow> {
    Ok(RunRow {
        id: r.get(0)?,
        started_at: r.get(1)?,
        finished_at: r.get(2)?,
        status: r.get(3)?,
        as_of: r.get(4)?,
        rubric: r.get(5)?,
        spec_hash: r.get(6)?,
        options: r.get(7)?,
    })
}

/// Now, RFC 3339 in UTC+8.
#[must_use]
pub fn now() -> String {
    sitecensus_core::time::stamp(&chrono::Utc::now())
}

#[cfg(test)]
mod tests {
    use super::*;
    use sitecensus_core::Severity;

    fn page(url: &str) -> PageRow {
        PageRow {
            url: url.into(),
            final_url: url.into(),
            depth: 1,
            status: Some(200),
            outcome: r#"{"outcome":"ok","status":200}"#.into(),
            content_type: Some("text/html".into()),
            encoding: Some("UTF-8".into()),
            size: 10,
            truncated: false,
            elapsed_ms: 3,
            content_hash: Some("ab".into()),
            fetched_at: now(),
            title: Some("t".into()),
            kind: Some("article".into()),
            published: None,
            model: Some("{}".into()),
            rendered: false,
        }
    }

    #[test]
    fn one_scan_at_a_time_and_the_second_is_told_which() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let a = Store::open(&path).unwrap();
        let b = Store::open(&path).unwrap();
        let mut held = a.lock_scan().unwrap();
        held.note_run(7);
        match b.lock_scan() {
            Err(StoreError::Busy { by, .. }) => assert!(by.contains("run 7"), "{by}"),
            other => panic!("expected busy, got {other:?}"),
        }
        drop(held);
        assert!(b.lock_scan().is_ok(), "free again once the first scan ends");
    }

    #[test]
    fn screenshots_are_kept_beside_the_database() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("census.db")).unwrap();
        let run = store.create_run("2024-07-10T00:00:00+08:00", "gov-2019", "h1", "{}").unwrap();
        let sites = store.add_sites(run.id, &[SiteSpec::from_url("http://a.gov.cn/").unwrap()]).unwrap();
        let path = store.add_screenshot(sites[0].id, "http://a.gov.cn/x.html", b"\x89PNG").unwrap();
        assert!(path.starts_with(dir.path().canonicalize().unwrap().join("census.files")), "{}", path.display());
        assert_eq!(std::fs::read(&path).unwrap(), b"\x89PNG");
        assert_eq!(store.screenshots(sites[0].id).unwrap().get("http://a.gov.cn/x.html"), Some(&path));
    }

    #[tokio::test]
    async fn a_run_round_trips_and_a_page_is_stored_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("t.db")).unwrap();
        let run = store.create_run("2024-07-10T00:00:00+08:00", "gov-2019", "h1", "{}").unwrap();
        assert_eq!(store.resumable_run("h1").unwrap().unwrap().id, run.id);
        let spec = SiteSpec::from_url("http://a.gov.cn/").unwrap();
        let sites = store.add_sites(run.id, std::slice::from_ref(&spec)).unwrap();
        assert_eq!(store.add_sites(run.id, &[spec]).unwrap().len(), 1, "adding again on resume does not double");
        let sid = sites[0].id;
        let w = store.writer().unwrap();
        w.send(Op::Frontier { site_id: sid, urls: vec![("http://a.gov.cn/".into(), 0)] }).await.unwrap();
        let finding = Finding::new("links.broken", Severity::Deduct, "HTTP 404").page("http://a.gov.cn/");
        for _ in 0..2 {
            w.send(Op::PageDone {
                site_id: sid,
                page: Box::new(page("http://a.gov.cn/")),
                frontier: vec![("http://a.gov.cn/b.html".into(), 1)],
                links: vec![LinkAdd {
                    url: "http://a.gov.cn/b.html".into(),
                    kind: "page",
                    internal: true,
                    new_target: true,
                    source: Some(("http://a.gov.cn/".into(), "乙".into(), false)),
                }],
                findings: vec![finding.clone()],
            })
            .await
            .unwrap();
        }
        w.send(Op::LinkChecked {
            site_id: sid,
            url: "http://a.gov.cn/b.html".into(),
            outcome: r#"{"outcome":"http_error","status":404}"#.into(),
            status: Some(404),
            elapsed_ms: 2,
            final_url: "http://a.gov.cn/b.html".into(),
        })
        .await
        .unwrap();
        w.flush().await.unwrap();
        assert_eq!(store.page_count(sid).unwrap(), 1);
        let f = store.frontier(sid).unwrap();
        assert_eq!(f.iter().map(|r| r.state).collect::<Vec<_>>(), [1, 0]);
        assert_eq!(store.findings(sid, "page").unwrap(), [finding]);
        let links = store.links(sid).unwrap();
        assert_eq!(links.len(), 1);
        assert!(links[0].outcome.as_deref().unwrap().contains("404"));
        assert_eq!(store.link_sources(sid).unwrap().len(), 1);
        store.finish_run(run.id).unwrap();
        assert!(store.resumable_run("h1").unwrap().is_none());
        assert_eq!(store.latest_run().unwrap().unwrap().status, "done");
    }

    #[test]
    fn probes_are_kept_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("t.db")).unwrap();
        for (at, ok) in [("2024-07-01T00:00:00+08:00", true), ("2024-07-01T00:30:00+08:00", false)] {
            store
                .add_probe(&ProbeRow {
                    url: "http://a/".into(),
                    at: at.into(),
                    ok,
                    status: None,
                    elapsed_ms: 1,
                    error: None,
                })
                .unwrap();
        }
        let p = store.probes("http://a/", "2024-06-30T00:00:00+08:00", "2024-07-02T00:00:00+08:00").unwrap();
        assert_eq!(p.iter().map(|p| p.ok).collect::<Vec<_>>(), [true, false]);
    }
}
