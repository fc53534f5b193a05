//! The writer thread: hot-path writes arrive as messages and are committed in batches (one
//! transaction per batch), so a scan stores 1,000s of pages a second on one SQLite file (or one
//! PostgreSQL connection).

use sitecensus_core::Finding;
use tokio::sync::{mpsc, oneshot};

use crate::StoreError;
use crate::db::{Conn, DbError, Pipeline, p};

/// Most messages committed in one transaction.
const BATCH: usize = 512;
/// Messages queued before senders wait.
const QUEUE: usize = 4096;

/// A fetched page, as stored.
#[derive(Debug, Clone)]
pub struct PageRow {
    /// The URL asked for.
    pub url: String,
    /// Where redirects ended.
    pub final_url: String,
    /// Link depth.
    pub depth: u32,
    /// HTTP status, if any.
    pub status: Option<u16>,
    /// Outcome JSON.
    pub outcome: String,
    /// Content-Type.
    pub content_type: Option<String>,
    /// Encoding used to read it.
    pub encoding: Option<String>,
    /// Body size.
    pub size: usize,
    /// Whether the body was cut.
    pub truncated: bool,
    /// Fetch time.
    pub elapsed_ms: u64,
    /// Hex hash of the body.
    pub content_hash: Option<String>,
    /// When fetched.
    pub fetched_at: String,
    /// Title.
    pub title: Option<String>,
    /// Page kind.
    pub kind: Option<String>,
    /// Publication date.
    pub published: Option<String>,
    /// Page model JSON.
    pub model: Option<String>,
    /// Whether the model was read from the page as a browser drew it.
    pub rendered: bool,
}

/// A link seen on a page.
#[derive(Debug, Clone)]
pub struct LinkAdd {
    /// Target URL.
    pub url: String,
    /// Its kind.
    pub kind: &'static str,
    /// Whether it is inside the site.
    pub internal: bool,
    /// Whether this is the first time the target is seen (insert the target row).
    pub new_target: bool,
    /// The page it is on, when this source should be stored.
    pub source: Option<(String, String, bool)>,
}

/// One write.
#[derive(Debug)]
pub enum Op {
    /// URLs added to a site's frontier (state queued).
    Frontier {
        /// The site.
        site_id: i64,
        /// (URL, depth) pairs.
        urls: Vec<(String, u32)>,
    },
    /// Frontier URLs that will not be fetched, and why.
    Skip {
        /// The site.
        site_id: i64,
        /// (URL, reason) pairs.
        urls: Vec<(String, String)>,
    },
    /// A page fetched and read: stored with everything it brought, atomically.
    PageDone {
        /// The site.
        site_id: i64,
        /// The page.
        page: Box<PageRow>,
        /// New frontier URLs found on it.
        frontier: Vec<(String, u32)>,
        /// Links on it.
        links: Vec<LinkAdd>,
        /// Page-level findings.
        findings: Vec<Finding>,
    },
    /// A link target checked.
    LinkChecked {
        /// The site.
        site_id: i64,
        /// Target URL.
        url: String,
        /// Outcome JSON.
        outcome: String,
        /// HTTP status.
        status: Option<u16>,
        /// Time taken.
        elapsed_ms: u64,
        /// Where redirects ended.
        final_url: String,
    },
    /// Page-level findings about a URL that is not a crawled page (an attachment).
    Findings {
        /// The site.
        site_id: i64,
        /// The URL they concern.
        page_url: String,
        /// The findings.
        findings: Vec<Finding>,
    },
    /// Final source counts of a site's link targets.
    SourceCounts {
        /// The site.
        site_id: i64,
        /// (URL, count) pairs.
        counts: Vec<(String, u32)>,
    },
    /// A site's site-level findings, replacing those stored before.
    SiteFindings {
        /// The site.
        site_id: i64,
        /// The findings.
        findings: Vec<Finding>,
    },
    /// A site's boilerplate and article bands (for twins across sites), replacing those before.
    TwinIndex {
        /// The site.
        site_id: i64,
        /// Boilerplate lines' hashes.
        boilerplate: Vec<u64>,
        /// (page URL, band hashes) of its articles.
        articles: Vec<(String, Vec<u64>)>,
    },
    /// Answered once everything sent before is committed.
    Flush(oneshot::Sender<Result<(), String>>),
}

/// The handle to the writer thread.
#[derive(Clone)]
pub struct Writer {
    tx: mpsc::Sender<Op>,
    path: String,
    /// Why the writer stopped, once a batch failed (a full disk, say).
    failed: std::sync::Arc<std::sync::Mutex<Option<String>>>,
}

impl Writer {
    pub(crate) fn start(conn: Conn, reconnect: Reconnect, path: String) -> Self {
        let (tx, rx) = mpsc::channel(QUEUE);
        let p = path.clone();
        let failed = std::sync::Arc::new(std::sync::Mutex::new(None));
        let f = failed.clone();
        std::thread::Builder::new()
            .name("store-writer".into())
            .spawn(move || write_loop(conn, &reconnect, rx, &p, &f))
            .expect("spawn the store writer");
        Writer { tx, path, failed }
    }

    /// Why the writer is gone: the failure that stopped it, where one did.
    fn gone(&self) -> StoreError {
        match self.failed.lock().expect("writer state").clone() {
            Some(message) => StoreError::WriteFailed { path: self.path.clone(), message },
            None => StoreError::WriterGone,
        }
    }

    /// Queues a write.
    ///
    /// # Errors
    /// When the writer has stopped (a write failed: the run stops there).
    pub async fn send(&self, op: Op) -> Result<(), StoreError> {
        self.tx.send(op).await.map_err(|_| self.gone())
    }

    /// Queues a write from a blocking thread (`spawn_blocking`, not an async task).
    ///
    /// # Errors
    /// When the writer has stopped.
    pub fn send_blocking(&self, op: Op) -> Result<(), StoreError> {
        self.tx.blocking_send(op).map_err(|_| self.gone())
    }

    /// Waits until everything sent so far is committed.
    ///
    /// # Errors
    /// When a write failed or the writer has stopped.
    pub async fn flush(&self) -> Result<(), StoreError> {
        let (tx, rx) = oneshot::channel();
        self.send(Op::Flush(tx)).await?;
        rx.await
            .map_err(|_| self.gone())?
            .map_err(|message| StoreError::WriteFailed { path: self.path.clone(), message })
    }
}

/// Commits batches until the channel closes, or until one fails: a store that cannot be written
/// (a full disk) stops the run there, cleanly — what was committed stays, and a later run
/// resumes from it — instead of failing batch after batch while the crawl goes on.
fn write_loop(
    mut conn: Conn,
    reconnect: &Reconnect,
    mut rx: mpsc::Receiver<Op>,
    path: &str,
    failed: &std::sync::Mutex<Option<String>>,
) {
    let mut failure: Option<String> = None;
    while let Some(first) = rx.blocking_recv() {
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match rx.try_recv() {
                Ok(op) => batch.push(op),
                Err(_) => break,
            }
        }
        let (flush_ops, batch): (Vec<Op>, Vec<Op>) = batch.into_iter().partition(|op| matches!(op, Op::Flush(_)));
        let flushes = flush_ops.into_iter().filter_map(|op| if let Op::Flush(f) = op { Some(f) } else { None });
        let result = apply_again(&mut conn, reconnect, &batch, path);
        if let Err(e) = result {
            tracing::error!("store {path}: writing failed, the run stops here: {e}");
            failure = Some(e.to_string());
            *failed.lock().expect("writer state") = failure.clone();
        }
        for f in flushes {
            let _ = f.send(failure.clone().map_or(Ok(()), Err));
        }
        if failure.is_some() {
            // Closing the channel tells every sender at once.
            rx.close();
            while let Ok(op) = rx.try_recv() {
                if let Op::Flush(f) = op {
                    let _ = f.send(failure.clone().map_or(Ok(()), Err));
                }
            }
            return;
        }
    }
}

/// Connects the writer again (after PostgreSQL restarted).
pub(crate) type Reconnect = Box<dyn Fn() -> Result<Conn, DbError> + Send>;

/// Commits a batch; when the connection to the server is lost, connects again and commits the
/// batch again (the server rolled the cut-off transaction back), for up to
/// [`crate::RECONNECT_FOR`].
fn apply_again(conn: &mut Conn, reconnect: &Reconnect, batch: &[Op], path: &str) -> Result<(), DbError> {
    crate::db::again_when_lost(
        path,
        crate::RECONNECT_FOR,
        conn,
        |c| apply(c, batch),
        |c| {
            if let Ok(new) = reconnect() {
                *c = new;
            }
        },
    )
}

fn apply(conn: &mut Conn, batch: &[Op]) -> Result<(), DbError> {
    conn.transaction(|c| {
        c.pipeline(|pipe| {
            for op in batch {
                apply_one(pipe, op)?;
            }
            Ok(())
        })
    })
}

/// Inserts a frontier row, or sets the state of the one there: on PostgreSQL an upsert on its
/// key (a digest of the URL, which SQLite has no function for), on SQLite an update, then an
/// insert where there was nothing to update.
fn set_frontier(
    c: &mut Pipeline<'_>,
    site_id: i64,
    url: &str,
    depth: u32,
    state: u8,
    note: Option<&str>,
) -> Result<(), DbError> {
    if c.is_postgres() {
        c.execute(
            "INSERT INTO frontier (site_id, url, depth, state, note) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (site_id, md5(url)) DO UPDATE SET state = excluded.state, note = coalesce(excluded.note, frontier.note)",
            p![site_id, url, depth, state, note],
        )?;
        return Ok(());
    }
    let changed = c.execute(
        "UPDATE frontier SET state = ?3, note = coalesce(?4, note) WHERE site_id = ?1 AND url = ?2",
        p![site_id, url, state, note],
    )?;
    if changed == 0 {
        c.execute(
            "INSERT INTO frontier (site_id, url, depth, state, note) VALUES (?1, ?2, ?3, ?4, ?5)",
            p![site_id, url, depth, state, note],
        )?;
    }
    Ok(())
}

/// Queues a frontier URL unless the site's frontier has it.
fn queue(c: &mut Pipeline<'_>, site_id: i64, url: &str, depth: u32) -> Result<(), DbError> {
    c.execute(
        "INSERT INTO frontier (site_id, url, depth, state) VALUES (?1, ?2, ?3, 0) ON CONFLICT DO NOTHING",
        p![site_id, url, depth],
    )
    .map(|_| ())
}

fn apply_one(c: &mut Pipeline<'_>, op: &Op) -> Result<(), DbError> {
    match op {
        Op::Flush(_) => {}
        &Op::Frontier { site_id, ref urls } => {
            for (u, d) in urls {
                queue(c, site_id, u, *d)?;
            }
        }
        &Op::Skip { site_id, ref urls } => {
            for (u, why) in urls {
                set_frontier(c, site_id, u, 0, 2, Some(why))?;
            }
        }
        &Op::PageDone { site_id, ref page, ref frontier, ref links, ref findings } => {
            let p = &**page;
            c.execute("DELETE FROM pages WHERE site_id = ?1 AND url = ?2", p![site_id, p.url])?;
            c.execute(
                "INSERT INTO pages (site_id, url, final_url, depth, status, outcome, content_type, encoding, size, truncated,
                 elapsed_ms, content_hash, fetched_at, title, kind, published, model, rendered)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)",
                p![
                    site_id,
                    p.url,
                    p.final_url,
                    p.depth,
                    p.status,
                    p.outcome,
                    p.content_type,
                    p.encoding,
                    p.size,
                    p.truncated,
                    p.elapsed_ms,
                    p.content_hash,
                    p.fetched_at,
                    p.title,
                    p.kind,
                    p.published,
                    p.model,
                    p.rendered
                ],
            )?;
            set_frontier(c, site_id, &p.url, p.depth, 1, None)?;
            for (u, d) in frontier {
                queue(c, site_id, u, *d)?;
            }
            for l in links {
                if l.new_target {
                    c.execute(
                        "INSERT INTO links (site_id, url, kind, internal) VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
                        p![site_id, l.url, l.kind, l.internal],
                    )?;
                }
                if let Some((page, text, hidden)) = &l.source {
                    c.execute(
                        "INSERT INTO link_sources (site_id, url, page, text, hidden) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
                        p![site_id, l.url, page, text, hidden],
                    )?;
                }
            }
            insert_page_findings(c, site_id, &p.url, findings)?;
        }
        Op::LinkChecked { site_id, url, outcome, status, elapsed_ms, final_url } => {
            c.execute(
                "UPDATE links SET outcome = ?3, status = ?4, elapsed_ms = ?5, final_url = ?6, checked_at = ?7 WHERE site_id = ?1 AND url = ?2",
                p![site_id, url, outcome, status, elapsed_ms, final_url, crate::now()],
            )?;
        }
        Op::Findings { site_id, page_url, findings } => insert_page_findings(c, *site_id, page_url, findings)?,
        Op::SiteFindings { site_id, findings } => crate::write_site_findings(c, *site_id, findings)?,
        Op::TwinIndex { site_id, boilerplate, articles } => {
            crate::write_twin_index(c, *site_id, boilerplate, articles)?;
        }
        Op::SourceCounts { site_id, counts } => {
            for (u, n) in counts {
                c.execute("UPDATE links SET sources = ?3 WHERE site_id = ?1 AND url = ?2", p![site_id, u, n])?;
            }
        }
    }
    Ok(())
}

/// Stores page-level findings about `page_url` (a crawled page or an attachment).
fn insert_page_findings(
    c: &mut Pipeline<'_>,
    site_id: i64,
    page_url: &str,
    findings: &[Finding],
) -> Result<(), DbError> {
    for f in findings {
        crate::insert_finding(c, site_id, "page", Some(page_url), f)?;
    }
    Ok(())
}
