//! The store of sitecensus: an embedded SQLite database (`./sitecensus.db` by default) holding
//! runs, their sites, the crawl frontier, pages, link targets and where they were seen,
//! findings, and availability probes. Everything a report needs is here, so a run can be scored
//! again under another rubric or date without fetching anything, and a killed scan resumes.
//!
//! Writes on the hot path go through one writer thread that commits in batches; each message is
//! applied atomically, so a killed process leaves whole pages or none.

mod census;
mod db;
mod schema;
mod scoring;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use sitecensus_core::{Finding, Severity, SiteSpec};

pub use census::{CensusCounts, Lease};
pub use db::DbError;
use db::{Conn, PgConn, Pipeline, Row, p};
pub use scoring::{ScoredSite, ScoringRow, SiteScore};
pub use writer::{LinkAdd, Op, PageRow, Writer};

/// What can go wrong with the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database refused an operation.
    #[error("database {path}: {source}")]
    Database {
        /// The database file, or the PostgreSQL URL without its password.
        path: String,
        /// The database's error.
        #[source]
        source: DbError,
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
    held: Held,
}

/// How a scan lock is held: a locked file beside an SQLite database, or a PostgreSQL session
/// holding an advisory lock.
#[derive(Debug)]
enum Held {
    File(std::fs::File),
    Postgres(Box<Conn>),
}

impl ScanLock {
    /// Records which run the lock is held for (shown to a scan that finds the store busy).
    pub fn note_run(&mut self, run: i64) {
        self.note(&format!("process {} on {} scanning run {run} since {}", std::process::id(), host_name(), now()));
    }

    /// Records who holds the lock.
    fn note(&mut self, holder: &str) {
        match &mut self.held {
            Held::File(file) => {
                use std::io::{Seek, Write};
                let _ = file.set_len(0);
                let _ = file.seek(std::io::SeekFrom::Start(0));
                let _ = file.write_all(holder.as_bytes());
            }
            Held::Postgres(conn) => {
                let _ = conn.transaction(|c| {
                    c.execute("DELETE FROM sitecensus_scan_lock", p![])?;
                    c.execute("INSERT INTO sitecensus_scan_lock (holder) VALUES (?1)", p![holder])
                });
            }
        }
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
    /// Where it stands.
    pub status: RunStatus,
    /// The as-of of the scan (RFC 3339).
    pub as_of: String,
    /// The rubric it was scanned under.
    pub rubric: String,
    /// Identity of the site list and crawl settings, for resuming.
    pub spec_hash: String,
    /// The scan options as JSON.
    pub options: String,
    /// A scan, or a census round that workers share.
    pub kind: RunKind,
    /// A census round's name ("2026年第4季度普查").
    pub name: Option<String>,
}

/// A status or kind the store writes as a word: the enum, its words, and reading them back (JSON
/// writes the same words: each is its variant's name in snake case).
macro_rules! stored_words {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident => $word:literal,)* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vdoc])* $variant,)*
        }

        impl $name {
            /// The word the store writes.
            #[must_use]
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $word,)*
                }
            }

            /// The value the store wrote as `s`.
            #[must_use]
            pub fn parse(s: &str) -> Option<Self> {
                match s {
                    $($word => Some($name::$variant),)*
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.pad(self.as_str())
            }
        }
    };
}

pub mod accounts;
pub mod browse;
pub mod monitor;
pub mod notices;

stored_words! {
    /// Where a site of a run stands.
    SiteStatus {
        /// Not crawled yet.
        Pending => "pending",
        /// Being crawled (in a census, under a worker's lease).
        Crawling => "crawling",
        /// Crawled.
        Done => "done",
        /// Given up (a census site every worker that took it died or timed out on).
        Failed => "failed",
    }
}

stored_words! {
    /// Where a run stands.
    RunStatus {
        /// Its sites are being crawled.
        Running => "running",
        /// A census round whose sites are crawled, being scored by one worker.
        Scoring => "scoring",
        /// Crawled and scored.
        Done => "done",
    }
}

stored_words! {
    /// What a run is.
    RunKind {
        /// One `scan` (or `demo`) of its sites.
        Scan => "scan",
        /// A census round that `worker`s share.
        Census => "census",
    }
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
    /// Where it stands.
    pub status: SiteStatus,
    /// Crawl statistics, once done.
    pub stats: Option<sitecensus_core::CrawlStats>,
    /// The homepage fetch evidence (JSON), once fetched.
    pub homepage: Option<serde_json::Value>,
    /// Times a census worker took the site.
    pub attempts: u32,
    /// Why the site failed (`status` is `failed`): what stopped the workers that crawled it.
    pub error: Option<String>,
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

/// Where a store lives.
enum Location {
    /// An SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL database: its URL, the URL as shown (no password), and the folder for files.
    Postgres { url: String, shown: PathBuf, files: PathBuf },
}

/// The database.
pub struct Store {
    location: Location,
    /// Idle connections. Callers on many threads (assessing sites while others crawl) each take
    /// their own, so reads do not queue behind one another; SQLite's WAL lets them run at once.
    /// Hand-written: a pool crate would pin its own rusqlite version for these few lines.
    idle: Mutex<Vec<Conn>>,
    /// Pages the scan writer may grow the database to, where bounded.
    max_pages: Mutex<Option<u64>>,
    /// Site scores stored by this process, for refreshing PostgreSQL's statistics as a scoring
    /// grows (see [`Store::put_site_score`]).
    pub(crate) scored: std::sync::atomic::AtomicUsize,
}

/// Idle connections kept open.
const IDLE_CONNECTIONS: usize = 8;

/// How long the store tries to reach PostgreSQL again after losing it (a server restart).
pub const RECONNECT_FOR: std::time::Duration = std::time::Duration::from_secs(120);

/// The default database file.
pub const DEFAULT_DB: &str = "sitecensus.db";

/// The advisory lock a PostgreSQL store's scan holds (SQLite's is a file beside the database).
const SCAN_LOCK: i64 = 7_010_127_406;

fn open_conn(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(30))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(conn)
}

/// The runtime that drives every PostgreSQL connection of the process: one worker thread, kept
/// for the life of the process (a runtime cannot be dropped inside another one's tasks).
fn pg_runtime() -> &'static tokio::runtime::Handle {
    static RUNTIME: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name("store-postgres")
                .enable_all()
                .build()
                .expect("start the PostgreSQL runtime")
        })
        .handle()
}

/// Whether `db` names a PostgreSQL database rather than an SQLite file.
#[must_use]
pub fn is_postgres_url(db: &str) -> bool {
    db.starts_with("postgres://") || db.starts_with("postgresql://")
}

impl Store {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    ///
    /// # Errors
    /// When the file cannot be opened or migrated.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let p = path.display().to_string();
        // Two processes opening a new store at once would both migrate it: one at a time.
        let migrate_lock = lock_file(path, "migrate.lock")?;
        migrate_lock.lock().map_err(|source| StoreError::File { path: format!("{p}.migrate.lock"), source })?;
        let mut conn =
            open_conn(path).map_err(|source| StoreError::Database { path: p.clone(), source: source.into() })?;
        schema::sqlite().to_latest(&mut conn).map_err(|e| StoreError::Migration { path: p, message: e.to_string() })?;
        drop(migrate_lock);
        Ok(Store {
            location: Location::Sqlite(path.to_owned()),
            idle: Mutex::new(vec![Conn::Sqlite(conn)]),
            max_pages: Mutex::new(None),
            scored: std::sync::atomic::AtomicUsize::new(0),
        })
    }

    /// Connects to the PostgreSQL database at `url` (`postgres://user@host:port/dbname`) and
    /// brings its schema up to date. Files (screenshots) go to `sitecensus-<dbname>.files/` in
    /// the current folder.
    ///
    /// # Errors
    /// When the server cannot be reached, refuses, or the schema cannot be migrated.
    pub fn open_postgres(url: &str) -> Result<Self, StoreError> {
        let shown = match url::Url::parse(url) {
            Ok(mut u) => {
                let _ = u.set_password(None);
                u.to_string()
            }
            Err(_) => "postgres://…".to_owned(),
        };
        let dbname = url
            .parse::<tokio_postgres::Config>()
            .ok()
            .and_then(|c| c.get_dbname().map(str::to_owned))
            .unwrap_or_else(|| "postgres".to_owned());
        let safe: String =
            dbname.chars().map(|c| if c.is_alphanumeric() || c == '_' || c == '-' { c } else { '_' }).collect();
        let files =
            std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")).join(format!("sitecensus-{safe}.files"));
        let mut conn = PgConn::connect(pg_runtime(), url)
            .map(|c| Conn::Postgres(Box::new(c)))
            .map_err(|source| StoreError::Database { path: shown.clone(), source })?;
        schema::migrate_postgres(&mut conn)
            .map_err(|e| StoreError::Migration { path: shown.clone(), message: e.to_string() })?;
        Ok(Store {
            location: Location::Postgres { url: url.to_owned(), shown: PathBuf::from(shown), files },
            idle: Mutex::new(vec![conn]),
            max_pages: Mutex::new(None),
            scored: std::sync::atomic::AtomicUsize::new(0),
        })
    }

    /// Opens the store `db` names: a PostgreSQL URL, or an SQLite file path.
    ///
    /// # Errors
    /// As [`Store::open`] and [`Store::open_postgres`].
    pub fn open_any(db: &str) -> Result<Self, StoreError> {
        if is_postgres_url(db) { Self::open_postgres(db) } else { Self::open(Path::new(db)) }
    }

    /// Keeps the store's files (screenshots) in `dir` instead: for a PostgreSQL store, whose
    /// default is a folder in the current one.
    #[must_use]
    pub fn with_files_dir(mut self, dir: PathBuf) -> Self {
        if let Location::Postgres { files, .. } = &mut self.location {
            *files = dir;
        }
        self
    }

    /// Whether the store is a PostgreSQL database.
    #[must_use]
    pub fn is_postgres(&self) -> bool {
        matches!(self.location, Location::Postgres { .. })
    }

    fn connect(&self) -> Result<Conn, StoreError> {
        self.connect_db().map_err(|e| self.err(e))
    }

    fn connect_db(&self) -> Result<Conn, DbError> {
        match &self.location {
            Location::Sqlite(path) => open_conn(path).map(Conn::Sqlite).map_err(DbError::from),
            Location::Postgres { url, .. } => PgConn::connect(pg_runtime(), url).map(|c| Conn::Postgres(Box::new(c))),
        }
    }

    /// Takes the store for a scan; a store another scan holds is [`StoreError::Busy`], with who.
    ///
    /// # Errors
    /// When the store is busy, or its lock cannot be taken.
    pub fn lock_scan(&self) -> Result<ScanLock, StoreError> {
        let Location::Sqlite(path) = &self.location else {
            return self.lock_scan_postgres();
        };
        let file = lock_file(path, "scan.lock")?;
        match file.try_lock() {
            Ok(()) => {
                let mut lock = ScanLock { held: Held::File(file) };
                lock.note(&format!("process {} starting a scan since {}", std::process::id(), now()));
                Ok(lock)
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                let by = std::fs::read_to_string(format!("{}.scan.lock", path.display()))
                    .unwrap_or_default()
                    .trim()
                    .to_owned();
                Err(StoreError::Busy {
                    path: path.display().to_string(),
                    by: if by.is_empty() { "another scan".to_owned() } else { by },
                })
            }
            Err(std::fs::TryLockError::Error(source)) => {
                Err(StoreError::File { path: format!("{}.scan.lock", path.display()), source })
            }
        }
    }

    /// A PostgreSQL store's scan lock: a session advisory lock on a connection of its own, so a
    /// process that dies releases it with its connection.
    fn lock_scan_postgres(&self) -> Result<ScanLock, StoreError> {
        let mut conn = self.connect()?;
        let got: bool = conn
            .query_one("SELECT pg_try_advisory_lock(?1)", p![SCAN_LOCK])
            .and_then(|r| r.get(0))
            .map_err(|e| self.err(e))?;
        if !got {
            let by: Option<String> = conn
                .query_opt("SELECT holder FROM sitecensus_scan_lock", p![])
                .and_then(|r| r.map(|r| r.get(0)).transpose())
                .map_err(|e| self.err(e))?;
            return Err(StoreError::Busy {
                path: self.path().display().to_string(),
                by: by.filter(|b| !b.is_empty()).unwrap_or_else(|| "another scan".to_owned()),
            });
        }
        let mut lock = ScanLock { held: Held::Postgres(Box::new(conn)) };
        lock.note(&format!("process {} on {} starting a scan since {}", std::process::id(), host_name(), now()));
        Ok(lock)
    }

    /// The database file, or for PostgreSQL its URL without the password.
    #[must_use]
    pub fn path(&self) -> &Path {
        match &self.location {
            Location::Sqlite(path) => path,
            Location::Postgres { shown, .. } => shown,
        }
    }

    fn err(&self, source: DbError) -> StoreError {
        StoreError::Database { path: self.path().display().to_string(), source }
    }

    fn corrupt(&self, message: impl std::fmt::Display) -> StoreError {
        StoreError::Corrupt { path: self.path().display().to_string(), message: message.to_string() }
    }

    /// Runs `f` on an idle connection (or a new one). When the connection to PostgreSQL is lost
    /// (the server restarted), `f` runs again on a new one, for up to [`RECONNECT_FOR`]: a census
    /// goes on through a database restart.
    fn with<T>(&self, f: impl Fn(&mut Conn) -> Result<T, DbError>) -> Result<T, StoreError> {
        let shown = self.path().display().to_string();
        let run = |(): &mut ()| {
            let taken = self.idle.lock().expect("store lock").pop();
            let mut conn = match taken {
                Some(c) if c.is_usable() => c,
                _ => self.connect_db()?,
            };
            let out = f(&mut conn);
            let mut idle = self.idle.lock().expect("store lock");
            if idle.len() < IDLE_CONNECTIONS && conn.is_usable() {
                idle.push(conn);
            }
            out
        };
        // Every idle connection went with the server.
        let forget = |(): &mut ()| self.idle.lock().expect("store lock").retain(Conn::is_usable);
        db::again_when_lost(&shown, RECONNECT_FOR, &mut (), run, forget).map_err(|e| self.err(e))
    }

    /// Brings the database's statistics up to date (PostgreSQL's `ANALYZE`; nothing on SQLite),
    /// for a bulk load on a server whose autovacuum is off: plans chosen when the tables were
    /// empty would scan them whole for every row after.
    ///
    /// # Errors
    /// On database errors.
    pub fn refresh_statistics(&self) -> Result<(), StoreError> {
        if !self.is_postgres() {
            return Ok(());
        }
        self.with(|c| c.execute("ANALYZE", p![]).map(|_| ()))
    }

    /// Runs `f` in a transaction on a connection of the store (again, whole, when the
    /// connection was lost: a transaction cut off is rolled back by the server).
    fn transaction<T>(&self, f: impl Fn(&mut Conn) -> Result<T, DbError>) -> Result<T, StoreError> {
        self.with(|c| c.transaction(&f))
    }

    /// Starts the writer thread for hot-path writes (its own connection).
    ///
    /// # Errors
    /// When the writer's connection cannot be opened.
    pub fn writer(&self) -> Result<Writer, StoreError> {
        let mut conn = self.connect()?;
        if let Some(pages) = *self.max_pages.lock().expect("store lock")
            && !conn.is_postgres()
        {
            conn.batch(&format!("PRAGMA max_page_count = {pages}")).map_err(|e| self.err(e))?;
        }
        let reconnect: writer::Reconnect = match &self.location {
            Location::Postgres { url, .. } => {
                let url = url.clone();
                Box::new(move || PgConn::connect(pg_runtime(), &url).map(|c| Conn::Postgres(Box::new(c))))
            }
            Location::Sqlite(_) => Box::new(|| Err(DbError::Gone)),
        };
        Ok(Writer::start(conn, reconnect, self.path().display().to_string()))
    }

    /// Bounds the size of the database the scan writer may grow it to (SQLite answers "database or
    /// disk is full" beyond it, as a full disk does): for an office that keeps stores small, and
    /// for the tests of a full disk. A PostgreSQL store's size is its server's to bound.
    pub fn limit_size(&self, bytes: u64) {
        if self.is_postgres() {
            return;
        }
        let page_size: i64 = self.with(|c| c.query_one("PRAGMA page_size", p![])?.get(0)).unwrap_or(4096);
        *self.max_pages.lock().expect("store lock") = Some(bytes / page_size.max(1).unsigned_abs());
    }

    /// The newest unfinished run with this identity, to resume.
    ///
    /// # Errors
    /// On database errors.
    pub fn resumable_run(&self, spec_hash: &str) -> Result<Option<RunRow>, StoreError> {
        self.with(|c| {
            c.query_opt(
                "SELECT id, started_at, finished_at, status, as_of, rubric, spec_hash, options, kind, name FROM runs
                 WHERE spec_hash = ?1 AND status = 'running' AND kind = 'scan' ORDER BY id DESC LIMIT 1",
                p![spec_hash],
            )?
            .map(|r| run_row(&r))
            .transpose()
        })
    }

    /// Creates a run and returns it.
    ///
    /// # Errors
    /// On database errors.
    pub fn create_run(&self, as_of: &str, rubric: &str, spec_hash: &str, options: &str) -> Result<RunRow, StoreError> {
        let id: i64 = self.with(|c| {
            c.query_one(
                "INSERT INTO runs (started_at, status, as_of, rubric, spec_hash, options) VALUES (?1, 'running', ?2, ?3, ?4, ?5) RETURNING id",
                p![now(), as_of, rubric, spec_hash, options],
            )?
            .get(0)
        })?;
        self.run(id)?.ok_or_else(|| self.corrupt("the run just created is missing"))
    }

    /// Marks a run finished.
    ///
    /// # Errors
    /// On database errors.
    pub fn finish_run(&self, id: i64) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute("UPDATE runs SET status = 'done', finished_at = ?2 WHERE id = ?1", p![id, now()]).map(|_| ())
        })
    }

    /// A run by id.
    ///
    /// # Errors
    /// On database errors.
    pub fn run(&self, id: i64) -> Result<Option<RunRow>, StoreError> {
        self.with(|c| {
            c.query_opt(
                "SELECT id, started_at, finished_at, status, as_of, rubric, spec_hash, options, kind, name FROM runs WHERE id = ?1",
                p![id],
            )?
            .map(|r| run_row(&r))
            .transpose()
        })
    }

    /// The latest run (the highest id), finished or not.
    ///
    /// # Errors
    /// On database errors.
    pub fn latest_run(&self) -> Result<Option<RunRow>, StoreError> {
        self.with(|c| {
            c.query_opt(
                "SELECT id, started_at, finished_at, status, as_of, rubric, spec_hash, options, kind, name FROM runs ORDER BY id DESC LIMIT 1",
                p![],
            )?
            .map(|r| run_row(&r))
            .transpose()
        })
    }

    /// The same site (given as the same URL) in the latest earlier run whose as-of is before this
    /// site's run's and whose crawl finished: its row and its run. History checks compare with it.
    ///
    /// # Errors
    /// On database errors or unreadable stored data.
    pub fn earlier_site(&self, site_id: i64) -> Result<Option<(SiteRow, RunRow)>, StoreError> {
        let found: Option<(i64, i64)> = self.with(|c| {
            c.query_opt(
                "SELECT e.id, er.id FROM sites s
                   JOIN runs r ON r.id = s.run_id
                   JOIN sites e ON e.given = s.given
                   JOIN runs er ON er.id = e.run_id
                  WHERE s.id = ?1 AND er.id <> r.id AND er.as_of < r.as_of AND e.status = 'done'
                  ORDER BY er.as_of DESC, er.id DESC LIMIT 1",
                p![site_id],
            )?
            .map(|r| Ok((r.get(0)?, r.get(1)?)))
            .transpose()
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
        self.transaction(|c| {
            for (i, s) in sites.iter().enumerate() {
                c.execute(
                    "INSERT INTO sites (run_id, ordinal, spec, given) VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
                    p![run_id, i, serde_json::to_string(s).expect("specs serialise"), s.given],
                )?;
            }
            Ok(())
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
        let rows = self.with(|c| {
            c.query(
                &format!("SELECT id, ordinal, spec, status, stats, homepage, attempts, error FROM sites {filter}"),
                p![key],
            )
        })?;
        rows.into_iter()
            .map(|r| {
                let db = |e| self.err(e);
                let stats: Option<String> = r.get(4).map_err(db)?;
                let homepage: Option<String> = r.get(5).map_err(db)?;
                Ok(SiteRow {
                    id: r.get(0).map_err(db)?,
                    ordinal: r.get(1).map_err(db)?,
                    spec: serde_json::from_str(&r.get::<String>(2).map_err(db)?).map_err(|e| self.corrupt(e))?,
                    status: {
                        let s: String = r.get(3).map_err(db)?;
                        SiteStatus::parse(&s).ok_or_else(|| self.corrupt(format!("site status {s:?}")))?
                    },
                    stats: stats.map(|s| serde_json::from_str(&s)).transpose().map_err(|e| self.corrupt(e))?,
                    homepage: homepage.map(|s| serde_json::from_str(&s)).transpose().map_err(|e| self.corrupt(e))?,
                    attempts: r.get(6).map_err(db)?,
                    error: r.get(7).map_err(db)?,
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
        status: SiteStatus,
        stats: Option<&sitecensus_core::CrawlStats>,
    ) -> Result<(), StoreError> {
        let stats = stats.map(|s| serde_json::to_string(s).expect("statistics serialise"));
        self.with(|c| {
            match status {
                SiteStatus::Pending | SiteStatus::Crawling => c.execute(
                    "UPDATE sites SET status = ?2, started_at = coalesce(started_at, ?3) WHERE id = ?1",
                    p![site_id, status.as_str(), now()],
                )?,
                SiteStatus::Done | SiteStatus::Failed => c.execute(
                    "UPDATE sites SET status = ?2, finished_at = ?3, stats = coalesce(?4, stats) WHERE id = ?1",
                    p![site_id, status.as_str(), now(), stats],
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
            c.execute("UPDATE sites SET homepage = ?2 WHERE id = ?1", p![site_id, homepage.to_string()]).map(|_| ())
        })
    }

    /// The frontier of a site.
    ///
    /// # Errors
    /// On database errors.
    pub fn frontier(&self, site_id: i64) -> Result<Vec<FrontierRow>, StoreError> {
        self.with(|c| {
            c.query("SELECT url, depth, state, note FROM frontier WHERE site_id = ?1 ORDER BY depth, id", p![site_id])?
                .iter()
                .map(|r| Ok(FrontierRow { url: r.get(0)?, depth: r.get(1)?, state: r.get(2)?, note: r.get(3)? }))
                .collect()
        })
    }

    /// The stored pages of a site: (url, final url, depth, outcome JSON, model JSON).
    ///
    /// # Errors
    /// On database errors.
    pub fn pages(&self, site_id: i64) -> Result<Vec<StoredPage>, StoreError> {
        self.with(|c| {
            c.query(
                "SELECT url, final_url, depth, outcome, model, content_hash, elapsed_ms, size, truncated FROM pages WHERE site_id = ?1 ORDER BY id",
                p![site_id],
            )?
            .iter()
            .map(|r| {
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
            })
            .collect()
        })
    }

    /// How many pages of a site are stored.
    ///
    /// # Errors
    /// On database errors.
    pub fn page_count(&self, site_id: i64) -> Result<u64, StoreError> {
        self.with(|c| c.query_one("SELECT count(*) FROM pages WHERE site_id = ?1", p![site_id])?.get::<i64>(0))
            .map(|n| n.max(0).unsigned_abs())
    }

    /// The link targets of a site.
    ///
    /// # Errors
    /// On database errors.
    pub fn links(&self, site_id: i64) -> Result<Vec<LinkRow>, StoreError> {
        self.with(|c| {
            c.query(
                "SELECT url, kind, internal, outcome, sources, elapsed_ms FROM links WHERE site_id = ?1",
                p![site_id],
            )?
            .iter()
            .map(|r| {
                Ok(LinkRow {
                    url: r.get(0)?,
                    kind: r.get(1)?,
                    internal: r.get(2)?,
                    outcome: r.get(3)?,
                    sources: r.get(4)?,
                    elapsed_ms: r.get(5)?,
                })
            })
            .collect()
        })
    }

    /// Where the site's link targets were seen (at most a few pages per target).
    ///
    /// # Errors
    /// On database errors.
    pub fn link_sources(&self, site_id: i64) -> Result<Vec<SourceRow>, StoreError> {
        self.with(|c| {
            c.query("SELECT url, page, text, hidden FROM link_sources WHERE site_id = ?1", p![site_id])?
                .iter()
                .map(|r| Ok(SourceRow { url: r.get(0)?, page: r.get(1)?, text: r.get(2)?, hidden: r.get(3)? }))
                .collect()
        })
    }

    /// Findings of a site of one scope (`page` or `site`).
    ///
    /// # Errors
    /// On database errors or unreadable stored data.
    pub fn findings(&self, site_id: i64, scope: &str) -> Result<Vec<Finding>, StoreError> {
        /// A stored finding's columns, as read.
        struct Row {
            check: String,
            severity: String,
            page: Option<String>,
            target: Option<String>,
            evidence: String,
            evidence_zh: Option<String>,
            detail: String,
            at_most: Option<String>,
        }
        let rows: Vec<Row> = self.with(|c| {
            c.query(
                "SELECT check_id, severity, page, target, evidence, evidence_zh, detail, at_most FROM findings WHERE site_id = ?1 AND scope = ?2 ORDER BY id",
                p![site_id, scope],
            )?
            .iter()
            .map(|r| {
                Ok(Row {
                    check: r.get(0)?,
                    severity: r.get(1)?,
                    page: r.get(2)?,
                    target: r.get(3)?,
                    evidence: r.get(4)?,
                    evidence_zh: r.get(5)?,
                    detail: r.get(6)?,
                    at_most: r.get(7)?,
                })
            })
            .collect()
        })?;
        let severity = |s: &str| Severity::parse(s).ok_or_else(|| self.corrupt(format!("severity {s:?}")));
        rows.into_iter()
            .map(|r| {
                Ok(Finding {
                    check: r.check.parse().map_err(|e: String| self.corrupt(e))?,
                    severity: severity(&r.severity)?,
                    page: r.page,
                    target: r.target,
                    evidence: r.evidence,
                    evidence_zh: r.evidence_zh,
                    detail: serde_json::from_str(&r.detail).map_err(|e| self.corrupt(e))?,
                    at_most: r.at_most.as_deref().map(severity).transpose()?,
                })
            })
            .collect()
    }

    /// Replaces the site-level findings of a site (they are recomputed whole).
    ///
    /// # Errors
    /// On database errors.
    pub fn replace_site_findings(&self, site_id: i64, findings: &[Finding]) -> Result<(), StoreError> {
        self.transaction(|c| c.pipeline(|p| write_site_findings(p, site_id, findings)))
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
        self.transaction(|c| c.pipeline(|p| write_twin_index(p, site_id, boilerplate, articles)))
    }

    /// A site's boilerplate lines' hashes, as [`Store::replace_twin_index`] kept them.
    ///
    /// # Errors
    /// On database errors.
    pub fn site_boilerplate(&self, site_id: i64) -> Result<Vec<u64>, StoreError> {
        let blob: Option<Vec<u8>> = self.with(|c| {
            c.query_opt("SELECT lines FROM site_boilerplate WHERE site_id = ?1", p![site_id])?
                .map(|r| r.get(0))
                .transpose()
        })?;
        Ok(blob
            .unwrap_or_default()
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
            .collect())
    }

    /// Pairs of articles of different sites of a run that share an LSH bucket (at most `limit`),
    /// as page ids: [`Store::candidate_page`] reads each when it is examined, so that 100,000
    /// pairs do not hold 200,000 page models at once.
    ///
    /// # Errors
    /// On database errors.
    pub fn cross_site_candidates(&self, run_id: i64, limit: usize) -> Result<Vec<(i64, i64)>, StoreError> {
        self.with(|c| {
            c.query(
                // Driven from one site's bands to the same buckets of the others (the written
                // order, kept by CROSS JOIN in SQLite): index lookups only, however many articles.
                "SELECT DISTINCT b1.page_id, b2.page_id
                 FROM sites s1 CROSS JOIN pages p1 CROSS JOIN article_bands b1
                   CROSS JOIN article_bands b2 CROSS JOIN sites s2
                 WHERE s1.run_id = ?1 AND p1.site_id = s1.id AND b1.page_id = p1.id
                   AND b2.band = b1.band AND b2.hash = b1.hash
                   AND b2.page_id > b1.page_id AND b2.site_id <> b1.site_id
                   AND s2.id = b2.site_id AND s2.run_id = ?1
                 LIMIT ?2",
                p![run_id, limit],
            )?
            .iter()
            .map(|r| Ok((r.get(0)?, r.get(1)?)))
            .collect()
        })
    }

    /// A candidate page of [`Store::cross_site_candidates`], read.
    ///
    /// # Errors
    /// On database errors, or when there is no such page.
    pub fn candidate_page(&self, page_id: i64) -> Result<CandidatePage, StoreError> {
        self.with(|c| {
            let r = c.query_one("SELECT site_id, url, model FROM pages WHERE id = ?1", p![page_id])?;
            Ok(CandidatePage { site_id: r.get(0)?, url: r.get(1)?, model: r.get(2)? })
        })
    }

    /// The folder where files of the store's runs (screenshots) are kept: beside an SQLite
    /// database (`sitecensus.db` → `sitecensus.files/`); for PostgreSQL,
    /// `sitecensus-<dbname>.files/` in the folder the store was opened from.
    #[must_use]
    pub fn files_dir(&self) -> std::path::PathBuf {
        let path = match &self.location {
            Location::Sqlite(path) => path,
            Location::Postgres { files, .. } => return files.clone(),
        };
        let stem = path.file_stem().map_or_else(|| "sitecensus".into(), |s| s.to_string_lossy().into_owned());
        let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let parent = parent.canonicalize().unwrap_or_else(|_| parent.to_owned());
        parent.join(format!("{stem}.files"))
    }

    /// Keeps a PNG screenshot of a site's page: written under [`Store::files_dir`] and recorded;
    /// returns the file's path.
    ///
    /// # Errors
    /// When the file cannot be written, or on database errors.
    pub fn add_screenshot(&self, site_id: i64, page_url: &str, png: &[u8]) -> Result<std::path::PathBuf, StoreError> {
        let run: i64 = self.with(|c| c.query_one("SELECT run_id FROM sites WHERE id = ?1", p![site_id])?.get(0))?;
        let rel =
            format!("run-{run}/screenshots/site-{site_id}-{:016x}.png", sitecensus_core::hash64(page_url.as_bytes()));
        let path = self.files_dir().join(&rel);
        let io = |e: std::io::Error| StoreError::Corrupt { path: path.display().to_string(), message: e.to_string() };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        std::fs::write(&path, png).map_err(io)?;
        self.transaction(|c| {
            c.execute("DELETE FROM screenshots WHERE site_id = ?1 AND page_url = ?2", p![site_id, page_url])?;
            c.execute(
                "INSERT INTO screenshots (site_id, page_url, file, bytes, taken_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                p![site_id, page_url, rel, png.len(), now()],
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
            c.query("SELECT page_url, file FROM screenshots WHERE site_id = ?1", p![site_id])?
                .iter()
                .map(|r| Ok((r.get::<String>(0)?, dir.join(r.get::<String>(1)?))))
                .collect()
        })
    }

    /// Records one availability probe.
    ///
    /// # Errors
    /// On database errors.
    pub fn add_probe(&self, pr: &ProbeRow) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "INSERT INTO probes (url, at, ok, status, elapsed_ms, error) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                p![pr.url, pr.at, pr.ok, pr.status, pr.elapsed_ms, pr.error],
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
            c.query(
                "SELECT url, at, ok, status, elapsed_ms, error FROM probes WHERE url = ?1 AND at >= ?2 AND at <= ?3 ORDER BY at, id",
                p![url, from, to],
            )?
            .iter()
            .map(|r| {
                Ok(ProbeRow {
                    url: r.get(0)?,
                    at: r.get(1)?,
                    ok: r.get(2)?,
                    status: r.get(3)?,
                    elapsed_ms: r.get(4)?,
                    error: r.get(5)?,
                })
            })
            .collect()
        })
    }

    /// Runs an SQL query an analyst wrote (the README's examples, say) and returns its rows,
    /// each value as text (NULL as `None`): the same question asked of either backend.
    ///
    /// # Errors
    /// When the database refuses the query.
    pub fn query_rows(&self, sql: &str) -> Result<Vec<Vec<Option<String>>>, StoreError> {
        self.with(|c| c.query_text(sql))
    }
}

/// Opens (creating) a lock file beside an SQLite database.
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

/// This machine's name, for the holder of a shared store's lock and a census worker's name.
#[must_use]
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|s| s.trim().to_owned())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "this machine".to_owned())
}

/// Replaces a site's site-level findings (inside the caller's transaction).
pub(crate) fn write_site_findings(c: &mut Pipeline<'_>, site_id: i64, findings: &[Finding]) -> Result<(), DbError> {
    c.execute("DELETE FROM findings WHERE site_id = ?1 AND scope = 'site'", p![site_id])?;
    for f in findings {
        insert_finding(c, site_id, "site", None, f)?;
    }
    Ok(())
}

/// Stores one finding of a site: `page` scope with the URL it concerns (stored once), or `site`.
pub(crate) fn insert_finding(
    c: &mut Pipeline<'_>,
    site_id: i64,
    scope: &str,
    page_url: Option<&str>,
    f: &Finding,
) -> Result<(), DbError> {
    c.execute(
        "INSERT INTO findings (site_id, scope, page_url, check_id, severity, page, target, evidence, detail, at_most, evidence_zh)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) ON CONFLICT DO NOTHING",
        p![
            site_id,
            scope,
            page_url,
            f.check,
            f.severity.as_str(),
            f.page,
            f.target,
            f.evidence,
            serde_json::to_string(&f.detail).expect("a JSON object serialises"),
            f.at_most.map(Severity::as_str),
            f.evidence_zh
        ],
    )?;
    Ok(())
}

/// Replaces a site's boilerplate and article bands (inside the caller's transaction).
pub(crate) fn write_twin_index(
    c: &mut Pipeline<'_>,
    site_id: i64,
    boilerplate: &[u64],
    articles: &[(String, Vec<u64>)],
) -> Result<(), DbError> {
    c.execute("DELETE FROM article_bands WHERE site_id = ?1", p![site_id])?;
    let blob: Vec<u8> = boilerplate.iter().flat_map(|h| h.to_le_bytes()).collect();
    c.execute(
        "INSERT INTO site_boilerplate (site_id, lines) VALUES (?1, ?2)
         ON CONFLICT (site_id) DO UPDATE SET lines = excluded.lines",
        p![site_id, blob],
    )?;
    for (url, bands) in articles {
        for (b, h) in bands.iter().enumerate() {
            // Both databases' integers are signed: the hash's bits are kept as they are.
            c.execute(
                "INSERT INTO article_bands (page_id, band, hash, site_id)
                 SELECT id, ?3, ?4, ?1 FROM pages WHERE site_id = ?1 AND url = ?2",
                p![site_id, url, b, i64::from_ne_bytes(h.to_ne_bytes())],
            )?;
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

/// A stored word (a status, a kind) read back as its type.
fn word<T>(r: &Row, column: usize, parse: fn(&str) -> Option<T>) -> Result<T, DbError> {
    let s: String = r.get(column)?;
    parse(&s).ok_or_else(|| DbError::Type { column, message: format!("{s:?} is not a value sitecensus writes") })
}

pub(crate) fn run_row(r: &Row) -> Result<RunRow, DbError> {
    Ok(RunRow {
        id: r.get(0)?,
        started_at: r.get(1)?,
        finished_at: r.get(2)?,
        status: word(r, 3, RunStatus::parse)?,
        as_of: r.get(4)?,
        rubric: r.get(5)?,
        spec_hash: r.get(6)?,
        options: r.get(7)?,
        kind: word(r, 8, RunKind::parse)?,
        name: r.get(9)?,
    })
}

/// `secs` seconds ago, as [`now`] writes instants.
#[must_use]
pub fn now_minus_secs(secs: i64) -> String {
    sitecensus_core::time::stamp(&(chrono::Utc::now() - chrono::Duration::seconds(secs)))
}

/// Now, RFC 3339 in UTC+8.
#[must_use]
pub fn now() -> String {
    sitecensus_core::time::stamp(&chrono::Utc::now())
}

#[cfg(test)]
mod tests {
    use super::*;
    use sitecensus_core::CheckId;
    use sitecensus_core::Severity;
    use sitecensus_fixtures::postgres::TempDb;

    /// What keeps a test store alive: its folder, and for PostgreSQL its database.
    struct Held {
        dir: tempfile::TempDir,
        _db: Option<TempDb>,
        url: Option<String>,
    }

    impl Held {
        /// Another handle on the same store (a second process would open it so).
        fn open(&self) -> Store {
            match &self.url {
                Some(url) => Store::open_postgres(url).unwrap().with_files_dir(self.dir.path().join("census.files")),
                None => Store::open(&self.dir.path().join("census.db")).unwrap(),
            }
        }
    }

    /// The same test on both backends: an SQLite file, and a fresh PostgreSQL database.
    fn backends() -> Vec<(&'static str, Store, Held)> {
        let sqlite = Held { dir: tempfile::tempdir().unwrap(), _db: None, url: None };
        let db = TempDb::new();
        let postgres = Held { dir: tempfile::tempdir().unwrap(), url: Some(db.url().to_owned()), _db: Some(db) };
        vec![("sqlite", sqlite.open(), sqlite), ("postgres", postgres.open(), postgres)]
    }

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
        for (backend, a, held) in backends() {
            let b = held.open();
            let mut lock = a.lock_scan().unwrap();
            lock.note_run(7);
            match b.lock_scan() {
                Err(StoreError::Busy { by, .. }) => assert!(by.contains("run 7"), "{backend}: {by}"),
                other => panic!("{backend}: expected busy, got {other:?}"),
            }
            drop(lock);
            assert!(b.lock_scan().is_ok(), "{backend}: free again once the first scan ends");
        }
    }

    #[test]
    fn screenshots_are_kept_in_the_files_folder() {
        for (backend, store, held) in backends() {
            let run = store.create_run("2024-07-10T00:00:00+08:00", "gov-2019", "h1", "{}").unwrap();
            let sites = store.add_sites(run.id, &[SiteSpec::from_url("http://a.gov.cn/").unwrap()]).unwrap();
            let path = store.add_screenshot(sites[0].id, "http://a.gov.cn/x.html", b"\x89PNG").unwrap();
            let dir = held.dir.path().canonicalize().unwrap().join("census.files");
            assert!(path.starts_with(&dir) || path.starts_with(held.dir.path()), "{backend}: {}", path.display());
            assert_eq!(std::fs::read(&path).unwrap(), b"\x89PNG");
            store.add_screenshot(sites[0].id, "http://a.gov.cn/x.html", b"\x89PNG").unwrap();
            let shots = store.screenshots(sites[0].id).unwrap();
            assert_eq!(shots.len(), 1, "{backend}: taken again, kept once");
            assert_eq!(shots.get("http://a.gov.cn/x.html"), Some(&path), "{backend}");
        }
    }

    #[tokio::test]
    async fn a_run_round_trips_and_a_page_is_stored_once() {
        for (backend, store, _held) in backends() {
            let run = store.create_run("2024-07-10T00:00:00+08:00", "gov-2019", "h1", "{}").unwrap();
            assert_eq!(store.resumable_run("h1").unwrap().unwrap().id, run.id);
            let spec = SiteSpec::from_url("http://a.gov.cn/").unwrap();
            let sites = store.add_sites(run.id, std::slice::from_ref(&spec)).unwrap();
            assert_eq!(store.add_sites(run.id, &[spec]).unwrap().len(), 1, "{backend}: adding again does not double");
            let sid = sites[0].id;
            let w = store.writer().unwrap();
            w.send(Op::Frontier { site_id: sid, urls: vec![("http://a.gov.cn/".into(), 0)] }).await.unwrap();
            // A hostile page's URL longer than any index entry, and text with NUL in it.
            let long = format!("http://a.gov.cn/{}", "x".repeat(10_000));
            w.send(Op::Skip { site_id: sid, urls: vec![(long.clone(), "overlong URL".into())] }).await.unwrap();
            let finding = Finding::new(CheckId::LinksBroken, Severity::Deduct, "HTTP 404").page("http://a.gov.cn/");
            for _ in 0..2 {
                w.send(Op::PageDone {
                    site_id: sid,
                    page: Box::new(page("http://a.gov.cn/")),
                    frontier: vec![("http://a.gov.cn/b.html".into(), 1)],
                    links: vec![
                        LinkAdd {
                            url: "http://a.gov.cn/b.html".into(),
                            kind: "page",
                            internal: true,
                            new_target: true,
                            source: Some(("http://a.gov.cn/".into(), "乙\0".into(), false)),
                        },
                        LinkAdd {
                            url: long.clone(),
                            kind: "page",
                            internal: true,
                            new_target: true,
                            source: Some(("http://a.gov.cn/".into(), "长".into(), false)),
                        },
                    ],
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
            assert_eq!(store.page_count(sid).unwrap(), 1, "{backend}");
            let f = store.frontier(sid).unwrap();
            assert_eq!(f.iter().map(|r| r.state).collect::<Vec<_>>(), [1, 2, 0], "{backend}");
            assert_eq!(f[1].note.as_deref(), Some("overlong URL"), "{backend}");
            assert_eq!(store.findings(sid, "page").unwrap(), [finding], "{backend}");
            let links = store.links(sid).unwrap();
            assert_eq!(links.len(), 2, "{backend}");
            let b = links.iter().find(|l| l.url.ends_with("b.html")).unwrap();
            assert!(b.outcome.as_deref().unwrap().contains("404"), "{backend}");
            assert_eq!(store.link_sources(sid).unwrap().len(), 2, "{backend}");
            store.finish_run(run.id).unwrap();
            assert!(store.resumable_run("h1").unwrap().is_none(), "{backend}");
            assert_eq!(store.latest_run().unwrap().unwrap().status, RunStatus::Done, "{backend}");
        }
    }

    #[test]
    fn the_same_site_is_found_in_an_earlier_run() {
        for (backend, store, _held) in backends() {
            let spec = SiteSpec::from_url("http://a.gov.cn/").unwrap();
            let old = store.create_run("2024-04-10T00:00:00+08:00", "gov-2019", "h1", "{}").unwrap();
            let old_site = store.add_sites(old.id, std::slice::from_ref(&spec)).unwrap().remove(0);
            let stats = sitecensus_core::CrawlStats { pages_fetched: 3, ..Default::default() };
            store.set_site_status(old_site.id, SiteStatus::Done, Some(&stats)).unwrap();
            let new = store.create_run("2024-07-10T00:00:00+08:00", "gov-2019", "h2", "{}").unwrap();
            let site = store.add_sites(new.id, &[spec]).unwrap().remove(0);
            let (earlier, run) = store.earlier_site(site.id).unwrap().expect(backend);
            assert_eq!((earlier.id, run.id), (old_site.id, old.id), "{backend}");
            assert_eq!(earlier.stats.unwrap().pages_fetched, 3, "{backend}");
            assert!(store.earlier_site(old_site.id).unwrap().is_none(), "{backend}: nothing before the first");
        }
    }

    #[test]
    fn twins_across_sites_share_a_bucket() {
        for (backend, store, _held) in backends() {
            let run = store.create_run("2024-07-10T00:00:00+08:00", "gov-2019", "h1", "{}").unwrap();
            let specs =
                [SiteSpec::from_url("http://a.gov.cn/").unwrap(), SiteSpec::from_url("http://b.gov.cn/").unwrap()];
            let sites = store.add_sites(run.id, &specs).unwrap();
            let w = store.writer().unwrap();
            for (s, url) in sites.iter().zip(["http://a.gov.cn/1.html", "http://b.gov.cn/1.html"]) {
                w.send_blocking(Op::PageDone {
                    site_id: s.id,
                    page: Box::new(page(url)),
                    frontier: vec![],
                    links: vec![],
                    findings: vec![],
                })
                .unwrap();
                // A hash with its top bit set stays the same bits.
                w.send_blocking(Op::TwinIndex {
                    site_id: s.id,
                    boilerplate: vec![u64::MAX, 7],
                    articles: vec![(url.into(), vec![u64::MAX - 1, 5])],
                })
                .unwrap();
            }
            futures::executor::block_on(w.flush()).unwrap();
            assert_eq!(store.site_boilerplate(sites[0].id).unwrap(), [u64::MAX, 7], "{backend}");
            let pairs = store.cross_site_candidates(run.id, 10).unwrap();
            assert_eq!(pairs.len(), 1, "{backend}");
            let (a, b) = (store.candidate_page(pairs[0].0).unwrap(), store.candidate_page(pairs[0].1).unwrap());
            assert_eq!((a.site_id, b.site_id), (sites[0].id, sites[1].id), "{backend}");
        }
    }

    #[test]
    fn probes_are_kept_in_order() {
        for (backend, store, _held) in backends() {
            for (at, ok) in [("2024-07-01T00:00:00+08:00", true), ("2024-07-01T00:30:00+08:00", false)] {
                store
                    .add_probe(&ProbeRow {
                        url: "http://a/".into(),
                        at: at.into(),
                        ok,
                        status: if ok { Some(200) } else { None },
                        elapsed_ms: 1,
                        error: (!ok).then(|| "timed out".to_owned()),
                    })
                    .unwrap();
            }
            let p = store.probes("http://a/", "2024-06-30T00:00:00+08:00", "2024-07-02T00:00:00+08:00").unwrap();
            assert_eq!(p.iter().map(|p| p.ok).collect::<Vec<_>>(), [true, false], "{backend}");
            assert_eq!(p[0].status, Some(200), "{backend}");
            assert_eq!(p[1].error.as_deref(), Some("timed out"), "{backend}");
        }
    }

    #[test]
    fn census_sites_are_leased_once_and_a_lapsed_lease_goes_to_another_worker() {
        for (backend, store, _held) in backends() {
            let specs: Vec<SiteSpec> =
                ["http://a.gov.cn/", "http://b.gov.cn/"].iter().map(|u| SiteSpec::from_url(u).unwrap()).collect();
            let run = store
                .create_census(Some("第4季度"), "2024-07-10T00:00:00+08:00", ("gov-2019", "t"), "h", "{}", &specs)
                .unwrap();
            assert_eq!(run.kind, RunKind::Census, "{backend}");
            match store.create_census(None, "2024-07-10T00:00:00+08:00", ("gov-2019", "t"), "h", "{}", &specs) {
                Err(StoreError::Busy { by, .. }) => {
                    assert!(by.contains(&format!("round {}", run.id)), "{backend}: {by}")
                }
                other => panic!("{backend}: a second start of the same round must be refused: {other:?}"),
            }
            assert!(store.census_scoring(run.id).is_ok(), "{backend}");
            let a = store.lease_site(run.id, "w1", 60, 2).unwrap().unwrap();
            let b = store.lease_site(run.id, "w2", 60, 2).unwrap().unwrap();
            assert_ne!(a.site.id, b.site.id, "{backend}: one site, one worker");
            assert!(store.lease_site(run.id, "w3", 60, 2).unwrap().is_none(), "{backend}");
            assert!(!store.renew_lease(a.site.id, "w2", 60).unwrap(), "{backend}: only the holder renews");
            assert!(!store.claim_round_scoring(run.id, "w1", 60).unwrap(), "{backend}: sites remain");
            // w1's lease lapses (it died): w3 takes the site, and w1 learns it lost it.
            store.renew_lease(a.site.id, "w1", -10).unwrap();
            let again = store.lease_site(run.id, "w3", -10, 2).unwrap().unwrap();
            assert_eq!((again.site.id, again.attempt), (a.site.id, 2), "{backend}");
            assert!(!store.renew_lease(a.site.id, "w1", 60).unwrap(), "{backend}");
            // Its second lease lapses too: the site fails with the reason, no third worker takes it.
            assert!(store.lease_site(run.id, "w4", 60, 2).unwrap().is_none(), "{backend}");
            let failed = store.sites_by_id(a.site.id).unwrap();
            assert_eq!(failed.status, SiteStatus::Failed, "{backend}");
            assert!(failed.error.unwrap().contains("stopped 2 times"), "{backend}");
            // b errs once and is queued again, then is done.
            store.release_site(b.site.id, "w2", Some("timed out"), 2).unwrap();
            assert_eq!(store.sites_by_id(b.site.id).unwrap().status, SiteStatus::Pending, "{backend}");
            let b2 = store.lease_site(run.id, "w2", 60, 2).unwrap().unwrap();
            store.set_site_status(b2.site.id, SiteStatus::Done, None).unwrap();
            assert!(store.renew_lease(b2.site.id, "w2", 60).unwrap(), "{backend}: still its own while it assesses");
            store.release_site(b2.site.id, "w2", None, 2).unwrap();
            let n = store.census_counts(run.id).unwrap();
            assert_eq!((n.queued, n.leased, n.done, n.failed), (0, 0, 1, 1), "{backend}");
            assert!(store.claim_round_scoring(run.id, "w2", 60).unwrap(), "{backend}");
            assert!(!store.claim_round_scoring(run.id, "w1", 60).unwrap(), "{backend}: scored once");
            assert!(
                store.claim_round_scoring(run.id, "w2", 60).unwrap(),
                "{backend}: a claim tried again (its answer lost with the connection) is still its own"
            );
        }
    }

    #[test]
    fn one_site_per_host_is_leased_and_hosts_are_paced_across_workers() {
        for (backend, store, _held) in backends() {
            let specs: Vec<SiteSpec> = ["http://a.gov.cn/", "http://a.gov.cn:8080/b/", "http://c.gov.cn/"]
                .iter()
                .map(|u| SiteSpec::from_url(u).unwrap())
                .collect();
            let run =
                store.create_census(None, "2024-07-10T00:00:00+08:00", ("gov-2019", "t"), "h", "{}", &specs).unwrap();
            let a = store.lease_site(run.id, "w1", 60, 2).unwrap().unwrap();
            let c = store.lease_site(run.id, "w2", 60, 2).unwrap().unwrap();
            assert_eq!((a.site.ordinal, c.site.ordinal), (0, 2), "{backend}: a.gov.cn is busy, c.gov.cn is not");
            assert!(store.lease_site(run.id, "w2", 60, 2).unwrap().is_none(), "{backend}: a.gov.cn stays busy");
            // Once a.gov.cn's site is given back, its other site may be taken.
            store.set_site_status(a.site.id, SiteStatus::Done, None).unwrap();
            store.release_site(a.site.id, "w1", None, 2).unwrap();
            let b = store.lease_site(run.id, "w1", 60, 2).unwrap().unwrap();
            assert_eq!(b.site.ordinal, 1, "{backend}");
            // A lapsed lease holds its host no more.
            store.renew_lease(b.site.id, "w1", -10).unwrap();
            store.release_site(c.site.id, "w2", Some("timed out"), 3).unwrap();
            assert!(store.lease_site(run.id, "w3", 60, 3).unwrap().is_some(), "{backend}");
            // Requests to one host from all workers are spaced by the period.
            let (period, horizon) = (std::time::Duration::from_millis(400), std::time::Duration::from_secs(60));
            let waits: Vec<u128> = (0..3)
                .map(|_| store.reserve_host_slot("ext.gov.cn:80", period, horizon).unwrap().as_millis())
                .collect();
            assert!(
                waits[0] < 50 && (330..=400).contains(&waits[1]) && (730..=800).contains(&waits[2]),
                "{backend}: {waits:?}"
            );
            assert!(store.reserve_host_slot("other.gov.cn:80", period, horizon).unwrap().as_millis() < 50, "{backend}");
            // Turns are booked no further than the horizon: a burst does not book the host for hours.
            let (slow, short) = (std::time::Duration::from_secs(30), std::time::Duration::from_secs(60));
            let waits: Vec<u128> =
                (0..6).map(|_| store.reserve_host_slot("busy.gov.cn:80", slow, short).unwrap().as_millis()).collect();
            // In milliseconds, the time the calls take aside: 0, 30 s, 60 s, then never past 60 s.
            let near = |w: u128, at: u128| (at.saturating_sub(500)..=at).contains(&w);
            assert!(near(waits[0], 0) && near(waits[1], 30_000) && near(waits[2], 60_000), "{backend}: {waits:?}");
            assert!(waits[3..].iter().all(|&w| near(w, 60_000)), "{backend}: {waits:?}");
        }
    }
}
