//! One interface over the two databases a store can live in: an embedded SQLite file (the
//! default) and a PostgreSQL server (for a census shared by many machines). Every query of the
//! store is written once, in the SQL both understand, with `?N` placeholders; the PostgreSQL side
//! numbers them `$N` and prepares each statement once per connection.
//!
//! PostgreSQL is reached through `tokio-postgres` on the store's own small runtime, and waited
//! for with a plain executor: the store is called from blocking threads and from async tasks
//! alike (as SQLite's calls are), and a runtime cannot be entered from inside another one — the
//! reason the blocking `postgres` crate, which does exactly that, does not fit here.

use std::collections::HashMap;
use std::fmt;

use tokio_postgres::types::{FromSql, IsNull, ToSql, Type, to_sql_checked};

/// A database error, from either backend.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// SQLite refused an operation.
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    /// PostgreSQL refused an operation, or the connection to it failed.
    #[error("{}", pg_message(.0))]
    Postgres(#[from] tokio_postgres::Error),
    /// A stored value is not of the type the store expects.
    #[error("column {column}: {message}")]
    Type {
        /// Column position in the result.
        column: usize,
        /// What did not fit.
        message: String,
    },
    /// The store's database runtime is gone.
    #[error("the connection to PostgreSQL was lost")]
    Gone,
}

/// PostgreSQL's own message (with its detail), not only "db error".
fn pg_message(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => match db.detail() {
            Some(detail) => format!("{}: {} ({detail})", db.severity(), db.message()),
            None => format!("{}: {}", db.severity(), db.message()),
        },
        None => {
            let mut s = e.to_string();
            let mut source = std::error::Error::source(e);
            while let Some(inner) = source {
                s.push_str(": ");
                s.push_str(&inner.to_string());
                source = inner.source();
            }
            s
        }
    }
}

impl DbError {
    /// Whether the connection to the server was lost or could not be made (a server that
    /// restarts, or shuts down): worth connecting again; never for SQLite.
    #[must_use]
    pub fn is_connection_lost(&self) -> bool {
        match self {
            DbError::Gone => true,
            DbError::Postgres(e) => {
                e.is_closed()
                    || e.code().is_some_and(|c| c.code().starts_with("08") || c.code().starts_with("57P"))
                    || (e.as_db_error().is_none()
                        && std::error::Error::source(e).is_some_and(|s| s.is::<std::io::Error>()))
            }
            DbError::Sqlite(_) | DbError::Type { .. } => false,
        }
    }

    /// Whether the database is full (SQLite's "database or disk is full", PostgreSQL's
    /// disk-full class).
    #[must_use]
    pub fn is_full(&self) -> bool {
        match self {
            DbError::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => e.code == rusqlite::ErrorCode::DiskFull,
            DbError::Postgres(e) => e.code().is_some_and(|c| c.code().starts_with("53")),
            _ => false,
        }
    }
}

/// Runs `run` on `state`, and again after `reconnect` when the connection to the server was lost
/// (a PostgreSQL restart), waiting longer each time, for up to `for_at_most`. `what` names the
/// store in the warning each loss logs.
pub fn again_when_lost<S, T>(
    what: &str,
    for_at_most: std::time::Duration,
    state: &mut S,
    mut run: impl FnMut(&mut S) -> Result<T, DbError>,
    mut reconnect: impl FnMut(&mut S),
) -> Result<T, DbError> {
    let deadline = std::time::Instant::now() + for_at_most;
    let mut wait = std::time::Duration::from_millis(200);
    loop {
        match run(state) {
            Err(e) if e.is_connection_lost() && std::time::Instant::now() < deadline => {
                tracing::warn!("store {what}: {e}; connecting again");
                std::thread::sleep(wait);
                wait = (wait * 2).min(std::time::Duration::from_secs(5));
                reconnect(state);
            }
            out => return out,
        }
    }
}

/// A query parameter, borrowed from the caller (page models are large: no copy is made).
#[derive(Debug, Clone, Copy)]
pub enum Param<'a> {
    /// SQL NULL.
    Null,
    /// An integer (booleans are 0 and 1 in both backends).
    Int(i64),
    /// A float.
    Real(f64),
    /// Text.
    Text(&'a str),
    /// Bytes.
    Blob(&'a [u8]),
}

/// A value that can be bound as a [`Param`].
pub trait ToParam {
    /// The parameter, borrowing from `self`.
    fn param(&self) -> Param<'_>;
}

macro_rules! int_param {
    ($($t:ty),*) => {$(
        impl ToParam for $t {
            fn param(&self) -> Param<'_> {
                Param::Int(i64::try_from(*self).unwrap_or(i64::MAX))
            }
        }
    )*};
}
int_param!(i64, i32, u8, u16, u32, u64, usize);

impl ToParam for bool {
    fn param(&self) -> Param<'_> {
        Param::Int(i64::from(*self))
    }
}
impl ToParam for f64 {
    fn param(&self) -> Param<'_> {
        Param::Real(*self)
    }
}
impl ToParam for str {
    fn param(&self) -> Param<'_> {
        Param::Text(self)
    }
}
impl ToParam for sitecensus_core::CheckId {
    fn param(&self) -> Param<'_> {
        Param::Text(self.as_str())
    }
}

impl ToParam for String {
    fn param(&self) -> Param<'_> {
        Param::Text(self)
    }
}
impl ToParam for [u8] {
    fn param(&self) -> Param<'_> {
        Param::Blob(self)
    }
}
impl ToParam for Vec<u8> {
    fn param(&self) -> Param<'_> {
        Param::Blob(self)
    }
}
impl<T: ToParam + ?Sized> ToParam for &T {
    fn param(&self) -> Param<'_> {
        (**self).param()
    }
}
impl<T: ToParam> ToParam for Option<T> {
    fn param(&self) -> Param<'_> {
        self.as_ref().map_or(Param::Null, ToParam::param)
    }
}

/// Query parameters: `p![a, b, c]` binds `?1`, `?2`, `?3`.
macro_rules! p {
    ($($x:expr),* $(,)?) => {
        &[$($crate::db::ToParam::param(&$x)),*][..]
    };
}
pub(crate) use p;

impl rusqlite::ToSql for Param<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match *self {
            Param::Null => ValueRef::Null,
            Param::Int(i) => ValueRef::Integer(i),
            Param::Real(f) => ValueRef::Real(f),
            Param::Text(s) => ValueRef::Text(s.as_bytes()),
            Param::Blob(b) => ValueRef::Blob(b),
        }))
    }
}

impl ToSql for Param<'_> {
    fn to_sql(&self, ty: &Type, out: &mut bytes::BytesMut) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match *self {
            Param::Null => Ok(IsNull::Yes),
            Param::Int(i) => match *ty {
                Type::INT8 => i.to_sql(ty, out),
                Type::INT4 => i32::try_from(i)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(i)?.to_sql(ty, out),
                Type::BOOL => (i != 0).to_sql(ty, out),
                Type::FLOAT8 => (i as f64).to_sql(ty, out),
                _ => Err(format!("an integer cannot be stored as {ty}").into()),
            },
            Param::Real(f) => match *ty {
                Type::FLOAT8 => f.to_sql(ty, out),
                Type::FLOAT4 => (f as f32).to_sql(ty, out),
                _ => Err(format!("a number cannot be stored as {ty}").into()),
            },
            // PostgreSQL text cannot hold NUL; crawled text can (hostile pages): it becomes
            // U+FFFD, as an HTML parser reads it.
            Param::Text(s) if s.contains('\0') => s.replace('\0', "\u{FFFD}").as_str().to_sql(ty, out),
            Param::Text(s) => s.to_sql(ty, out),
            Param::Blob(b) => b.to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

/// A query parameter owned (kept for a pipelined statement until it is sent).
#[derive(Debug, Clone)]
enum OwnedParam {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

impl OwnedParam {
    fn of(p: &Param<'_>) -> Self {
        match *p {
            Param::Null => OwnedParam::Null,
            Param::Int(i) => OwnedParam::Int(i),
            Param::Real(f) => OwnedParam::Real(f),
            Param::Text(t) => OwnedParam::Text(t.to_owned()),
            Param::Blob(b) => OwnedParam::Blob(b.to_vec()),
        }
    }

    fn param(&self) -> Param<'_> {
        match self {
            OwnedParam::Null => Param::Null,
            OwnedParam::Int(i) => Param::Int(*i),
            OwnedParam::Real(f) => Param::Real(*f),
            OwnedParam::Text(t) => Param::Text(t),
            OwnedParam::Blob(b) => Param::Blob(b),
        }
    }
}

/// Writes of one transaction that need no answer: on SQLite each runs at once; on PostgreSQL
/// they are sent together when the pipeline ends (one round trip for the batch instead of one
/// per statement — what makes a shared store keep up with a crawl).
pub struct Pipeline<'c> {
    conn: &'c mut Conn,
    pending: Vec<(String, Vec<OwnedParam>)>,
}

impl Pipeline<'_> {
    /// Runs a statement (SQLite) or queues it (PostgreSQL); returns the rows changed on SQLite,
    /// 0 on PostgreSQL — callers that need the count ask [`Pipeline::is_postgres`] first.
    ///
    /// # Errors
    /// When SQLite refuses it.
    pub fn execute(&mut self, sql: &str, params: &[Param<'_>]) -> Result<u64, DbError> {
        if self.conn.is_postgres() {
            self.pending.push((sql.to_owned(), params.iter().map(OwnedParam::of).collect()));
            Ok(0)
        } else {
            self.conn.execute(sql, params)
        }
    }

    /// Whether statements are queued (PostgreSQL) rather than run at once.
    #[must_use]
    pub fn is_postgres(&self) -> bool {
        self.conn.is_postgres()
    }

    /// Sends what is queued, in order, and waits for every answer.
    fn finish(self) -> Result<(), DbError> {
        let Conn::Postgres(pg) = self.conn else { return Ok(()) };
        if self.pending.is_empty() {
            return Ok(());
        }
        let mut statements = Vec::with_capacity(self.pending.len());
        for (sql, _) in &self.pending {
            statements.push(pg.statement(sql)?);
        }
        let params: Vec<Vec<Param<'_>>> =
            self.pending.iter().map(|(_, ps)| ps.iter().map(OwnedParam::param).collect()).collect();
        let refs: Vec<Vec<&(dyn ToSql + Sync)>> = params.iter().map(|ps| pg_params(ps)).collect();
        let client = &pg.client;
        let sent = statements.iter().zip(&refs).map(|(st, ps)| client.execute(st, ps.as_slice()));
        // Polled together, the statements go out back to back on the one connection.
        wait(futures::future::try_join_all(sent))?;
        Ok(())
    }
}

/// A value read back.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// SQL NULL.
    Null,
    /// An integer (or boolean).
    Int(i64),
    /// A float.
    Real(f64),
    /// Text.
    Text(String),
    /// Bytes.
    Blob(Vec<u8>),
}

impl<'a> FromSql<'a> for Cell {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(match *ty {
            Type::INT8 => Cell::Int(i64::from_sql(ty, raw)?),
            Type::INT4 => Cell::Int(i32::from_sql(ty, raw)?.into()),
            Type::INT2 => Cell::Int(i16::from_sql(ty, raw)?.into()),
            Type::BOOL => Cell::Int(bool::from_sql(ty, raw)?.into()),
            Type::FLOAT8 => Cell::Real(f64::from_sql(ty, raw)?),
            Type::FLOAT4 => Cell::Real(f32::from_sql(ty, raw)?.into()),
            Type::BYTEA => Cell::Blob(Vec::from_sql(ty, raw)?),
            _ => Cell::Text(String::from_sql(ty, raw)?),
        })
    }

    fn from_sql_null(_: &Type) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Cell::Null)
    }

    fn accepts(ty: &Type) -> bool {
        matches!(
            *ty,
            Type::INT8
                | Type::INT4
                | Type::INT2
                | Type::BOOL
                | Type::FLOAT8
                | Type::FLOAT4
                | Type::BYTEA
                | Type::TEXT
                | Type::VARCHAR
                | Type::BPCHAR
                | Type::NAME
                | Type::UNKNOWN
        )
    }
}

impl From<rusqlite::types::ValueRef<'_>> for Cell {
    fn from(v: rusqlite::types::ValueRef<'_>) -> Self {
        use rusqlite::types::ValueRef;
        match v {
            ValueRef::Null => Cell::Null,
            ValueRef::Integer(i) => Cell::Int(i),
            ValueRef::Real(f) => Cell::Real(f),
            ValueRef::Text(t) => Cell::Text(String::from_utf8_lossy(t).into_owned()),
            ValueRef::Blob(b) => Cell::Blob(b.to_vec()),
        }
    }
}

/// One result row.
#[derive(Debug, Clone, PartialEq)]
pub struct Row(Vec<Cell>);

impl Row {
    /// Column `i`, as `T`.
    ///
    /// # Errors
    /// When the column is missing or of another type.
    pub fn get<T: FromCell>(&self, i: usize) -> Result<T, DbError> {
        let cell = self.0.get(i).ok_or(DbError::Type { column: i, message: "no such column".into() })?;
        T::from_cell(cell).map_err(|message| DbError::Type { column: i, message })
    }
}

/// A type a [`Cell`] can be read as.
pub trait FromCell: Sized {
    /// Reads the cell.
    ///
    /// # Errors
    /// When the cell holds another type.
    fn from_cell(c: &Cell) -> Result<Self, String>;
}

macro_rules! int_cell {
    ($($t:ty),*) => {$(
        impl FromCell for $t {
            fn from_cell(c: &Cell) -> Result<Self, String> {
                match c {
                    Cell::Int(i) => <$t>::try_from(*i).map_err(|e| e.to_string()),
                    other => Err(format!("expected an integer, found {other:?}")),
                }
            }
        }
    )*};
}
int_cell!(i64, u8, u16, u32, u64);

impl FromCell for bool {
    fn from_cell(c: &Cell) -> Result<Self, String> {
        i64::from_cell(c).map(|i| i != 0)
    }
}
impl FromCell for f64 {
    fn from_cell(c: &Cell) -> Result<Self, String> {
        match c {
            Cell::Real(f) => Ok(*f),
            Cell::Int(i) => Ok(*i as f64),
            other => Err(format!("expected a number, found {other:?}")),
        }
    }
}
impl FromCell for String {
    fn from_cell(c: &Cell) -> Result<Self, String> {
        match c {
            Cell::Text(s) => Ok(s.clone()),
            other => Err(format!("expected text, found {other:?}")),
        }
    }
}
impl FromCell for Vec<u8> {
    fn from_cell(c: &Cell) -> Result<Self, String> {
        match c {
            Cell::Blob(b) => Ok(b.clone()),
            Cell::Text(s) => Ok(s.as_bytes().to_vec()),
            other => Err(format!("expected bytes, found {other:?}")),
        }
    }
}
impl<T: FromCell> FromCell for Option<T> {
    fn from_cell(c: &Cell) -> Result<Self, String> {
        match c {
            Cell::Null => Ok(None),
            other => T::from_cell(other).map(Some),
        }
    }
}

/// A connection to either backend.
pub enum Conn {
    /// An SQLite connection.
    Sqlite(rusqlite::Connection),
    /// A PostgreSQL connection.
    Postgres(Box<PgConn>),
}

impl fmt::Debug for Conn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Conn::Sqlite(_) => "Conn::Sqlite",
            Conn::Postgres(_) => "Conn::Postgres",
        })
    }
}

/// A PostgreSQL connection, with the statements it has prepared.
pub struct PgConn {
    client: tokio_postgres::Client,
    statements: HashMap<String, tokio_postgres::Statement>,
}

/// Waits for a PostgreSQL future on the calling thread. The connection itself is driven by the
/// store's runtime, so this works from any thread, async task or not.
fn wait<F: std::future::Future>(f: F) -> F::Output {
    futures::executor::block_on(f)
}

impl PgConn {
    /// Connects to `url`, the connection driven on `rt`.
    ///
    /// # Errors
    /// When the server cannot be reached or refuses.
    pub fn connect(rt: &tokio::runtime::Handle, url: &str) -> Result<Self, DbError> {
        let url = url.to_owned();
        let (tx, rx) = futures::channel::oneshot::channel();
        rt.spawn(async move {
            match tokio_postgres::connect(&url, tokio_postgres::NoTls).await {
                Ok((client, connection)) => {
                    let _ = tx.send(Ok(client));
                    if let Err(e) = connection.await {
                        tracing::debug!("PostgreSQL connection ended: {e}");
                    }
                }
                Err(e) => {
                    let _ = tx.send(Err(e));
                }
            }
        });
        let client = wait(rx).map_err(|_| DbError::Gone)??;
        Ok(PgConn { client, statements: HashMap::new() })
    }

    fn statement(&mut self, sql: &str) -> Result<tokio_postgres::Statement, DbError> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let s = wait(self.client.prepare(&numbered(sql)))?;
        self.statements.insert(sql.to_owned(), s.clone());
        Ok(s)
    }

    /// Whether the connection has closed (the server restarted, say): it is not kept.
    #[must_use]
    pub fn is_closed(&self) -> bool {
        self.client.is_closed()
    }
}

/// `?N` placeholders as PostgreSQL's `$N` (outside quoted text).
fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut quoted = false;
    for ch in sql.chars() {
        match ch {
            '\'' => quoted = !quoted,
            '?' if !quoted => {
                out.push('$');
                continue;
            }
            _ => {}
        }
        out.push(ch);
    }
    out
}

fn pg_params<'a>(params: &'a [Param<'a>]) -> Vec<&'a (dyn ToSql + Sync)> {
    params.iter().map(|p| p as &(dyn ToSql + Sync)).collect()
}

impl Conn {
    /// Runs a statement; returns the rows it changed.
    ///
    /// # Errors
    /// When the database refuses it.
    pub fn execute(&mut self, sql: &str, params: &[Param<'_>]) -> Result<u64, DbError> {
        match self {
            Conn::Sqlite(c) => Ok(c.prepare_cached(sql)?.execute(rusqlite::params_from_iter(params))? as u64),
            Conn::Postgres(pg) => {
                let st = pg.statement(sql)?;
                Ok(wait(pg.client.execute(&st, &pg_params(params)))?)
            }
        }
    }

    /// Runs a query; returns every row.
    ///
    /// # Errors
    /// When the database refuses it.
    pub fn query(&mut self, sql: &str, params: &[Param<'_>]) -> Result<Vec<Row>, DbError> {
        match self {
            Conn::Sqlite(c) => {
                let mut st = c.prepare_cached(sql)?;
                let n = st.column_count();
                let mut rows = st.query(rusqlite::params_from_iter(params))?;
                let mut out = Vec::new();
                while let Some(r) = rows.next()? {
                    out.push(Row((0..n).map(|i| r.get_ref(i).map(Cell::from)).collect::<Result<_, _>>()?));
                }
                Ok(out)
            }
            Conn::Postgres(pg) => {
                let st = pg.statement(sql)?;
                let rows = wait(pg.client.query(&st, &pg_params(params)))?;
                rows.iter()
                    .map(|r| (0..r.len()).map(|i| r.try_get::<_, Cell>(i)).collect::<Result<Vec<_>, _>>().map(Row))
                    .collect::<Result<_, _>>()
                    .map_err(DbError::from)
            }
        }
    }

    /// The first row of a query, if any.
    ///
    /// # Errors
    /// When the database refuses it.
    pub fn query_opt(&mut self, sql: &str, params: &[Param<'_>]) -> Result<Option<Row>, DbError> {
        Ok(self.query(sql, params)?.into_iter().next())
    }

    /// The first row of a query, which must have one.
    ///
    /// # Errors
    /// When the database refuses it or it has no row.
    pub fn query_one(&mut self, sql: &str, params: &[Param<'_>]) -> Result<Row, DbError> {
        self.query_opt(sql, params)?.ok_or(DbError::Type { column: 0, message: "the query found no row".into() })
    }

    /// Runs a query without parameters and returns each value as text, as `sqlite3` and `psql`
    /// print it (NULL as `None`): for queries an analyst writes, whatever types they return.
    ///
    /// # Errors
    /// When the database refuses it.
    pub fn query_text(&mut self, sql: &str) -> Result<Vec<Vec<Option<String>>>, DbError> {
        match self {
            Conn::Sqlite(c) => {
                let mut st = c.prepare(sql)?;
                let n = st.column_count();
                let mut rows = st.query([])?;
                let mut out = Vec::new();
                while let Some(r) = rows.next()? {
                    let mut row = Vec::with_capacity(n);
                    for i in 0..n {
                        row.push(match Cell::from(r.get_ref(i)?) {
                            Cell::Null => None,
                            Cell::Int(i) => Some(i.to_string()),
                            Cell::Real(f) => Some(f.to_string()),
                            Cell::Text(t) => Some(t),
                            Cell::Blob(b) => Some(b.iter().map(|x| format!("{x:02x}")).collect()),
                        });
                    }
                    out.push(row);
                }
                Ok(out)
            }
            Conn::Postgres(pg) => Ok(wait(pg.client.simple_query(sql))?
                .into_iter()
                .filter_map(|m| match m {
                    tokio_postgres::SimpleQueryMessage::Row(r) => {
                        Some((0..r.len()).map(|i| r.get(i).map(str::to_owned)).collect())
                    }
                    _ => None,
                })
                .collect()),
        }
    }

    /// Runs statements without parameters (schema changes, transaction control).
    ///
    /// # Errors
    /// When the database refuses them.
    pub fn batch(&mut self, sql: &str) -> Result<(), DbError> {
        match self {
            Conn::Sqlite(c) => Ok(c.execute_batch(sql)?),
            Conn::Postgres(pg) => Ok(wait(pg.client.batch_execute(sql))?),
        }
    }

    /// Runs `f` in a transaction: committed when it returns `Ok`, rolled back otherwise.
    ///
    /// # Errors
    /// What `f` returns, or when the transaction cannot be committed.
    pub fn transaction<T>(&mut self, f: impl FnOnce(&mut Conn) -> Result<T, DbError>) -> Result<T, DbError> {
        self.batch("BEGIN")?;
        let out = f(self).and_then(|v| self.batch("COMMIT").map(|()| v));
        if out.is_err() {
            let _ = self.batch("ROLLBACK");
        }
        out
    }

    /// Runs `f`'s writes as a [`Pipeline`] (inside the caller's transaction).
    ///
    /// # Errors
    /// What `f` returns, or when a queued statement fails.
    pub fn pipeline<T>(&mut self, f: impl FnOnce(&mut Pipeline<'_>) -> Result<T, DbError>) -> Result<T, DbError> {
        let mut p = Pipeline { conn: self, pending: Vec::new() };
        let out = f(&mut p)?;
        p.finish()?;
        Ok(out)
    }

    /// Whether this is a PostgreSQL connection.
    #[must_use]
    pub fn is_postgres(&self) -> bool {
        matches!(self, Conn::Postgres(_))
    }

    /// Whether the connection can be used again.
    #[must_use]
    pub fn is_usable(&self) -> bool {
        match self {
            Conn::Sqlite(_) => true,
            Conn::Postgres(pg) => !pg.is_closed(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::numbered;

    #[test]
    fn placeholders_are_numbered_outside_quotes() {
        assert_eq!(
            numbered("SELECT a FROM t WHERE b = ?1 AND c = '?2' AND d = ?12"),
            "SELECT a FROM t WHERE b = $1 AND c = '?2' AND d = $12"
        );
    }
}
