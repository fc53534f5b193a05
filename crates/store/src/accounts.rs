//! The web app's accounts: users with a role and what they may see, their sessions, failed
//! logins (for rate limiting) and the audit log (全程留痕). Passwords arrive hashed and session
//! tokens as their digests: the store never holds a secret a reader of it could use.

use serde::Serialize;

use crate::db::p;
use crate::{Store, StoreError, now};

stored_words! {
    /// What a user may do and see.
    Role {
        /// Everything, and manages users.
        Admin => "admin",
        /// The national office: every site.
        National => "national",
        /// A provincial office: the sites of its region-code prefix.
        Province => "province",
        /// A city's office: the sites of its region-code prefix.
        City => "city",
        /// A site's own web team: its sites.
        SiteTeam => "site_team",
        /// Reads everything, changes nothing.
        Auditor => "auditor",
    }
}

/// A user as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct User {
    /// Its id.
    pub id: i64,
    /// The login name.
    pub name: String,
    /// The password's hash (PHC string).
    #[serde(skip)]
    pub password_hash: String,
    /// Its role.
    pub role: Role,
    /// The region-code prefix an office sees (`36`, `3601`).
    pub region: Option<String>,
    /// The sites (as given) a site team sees.
    pub sites: Vec<String>,
    /// Whether it may no longer log in.
    pub disabled: bool,
}

/// A session as stored, with its user.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    /// Its user.
    pub user: User,
    /// The token forms carry against cross-site requests.
    pub csrf: String,
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditLine {
    /// When.
    pub at: String,
    /// Who (null for a failed login under an unknown name, or the command line).
    pub user: Option<String>,
    /// What (`login`, `login_failed`, `logout`, `user_add`, …).
    pub action: String,
    /// On what, and how.
    pub detail: String,
}

const USER_COLUMNS: &str = "id, name, password_hash, role, region, disabled";

impl Store {
    /// The database's clock in seconds since 1970, as SQL: sessions and failed logins are timed
    /// by it, as leases are.
    fn clock_s(&self) -> String {
        format!("({} / 1000)", crate::census::clock_ms(self.is_postgres()))
    }

    fn user_from(&self, r: &crate::db::Row) -> Result<User, crate::DbError> {
        let id: i64 = r.get(0)?;
        Ok(User {
            id,
            name: r.get(1)?,
            password_hash: r.get(2)?,
            role: crate::word(r, 3, Role::parse)?,
            region: r.get(4)?,
            sites: Vec::new(),
            disabled: r.get(5)?,
        })
    }

    fn with_sites(&self, mut u: User) -> Result<User, StoreError> {
        u.sites = self.with(|c| {
            c.query("SELECT url FROM user_sites WHERE user_id = ?1 ORDER BY url", p![u.id])?
                .iter()
                .map(|r| r.get(0))
                .collect()
        })?;
        Ok(u)
    }

    /// Adds a user; an existing name is refused.
    ///
    /// # Errors
    /// On database errors, or when the name is taken.
    pub fn add_user(
        &self,
        name: &str,
        password_hash: &str,
        role: Role,
        region: Option<&str>,
        sites: &[String],
    ) -> Result<i64, StoreError> {
        if self.user(name)?.is_some() {
            return Err(self.corrupt(format!("a user named {name:?} exists already")));
        }
        self.transaction(|c| {
            let id: i64 = c
                .query_one(
                    "INSERT INTO users (name, password_hash, role, region, disabled, created_at) VALUES (?1, ?2, ?3, ?4, 0, ?5) RETURNING id",
                    p![name, password_hash, role.as_str(), region, now()],
                )?
                .get(0)?;
            for url in sites {
                c.execute("INSERT INTO user_sites (user_id, url) VALUES (?1, ?2) ON CONFLICT DO NOTHING", p![id, url])?;
            }
            Ok(id)
        })
    }

    /// The user of a name.
    ///
    /// # Errors
    /// On database errors.
    pub fn user(&self, name: &str) -> Result<Option<User>, StoreError> {
        let u = self.with(|c| {
            c.query_opt(&format!("SELECT {USER_COLUMNS} FROM users WHERE name = ?1"), p![name])?
                .map(|r| self.user_from(&r))
                .transpose()
        })?;
        u.map(|u| self.with_sites(u)).transpose()
    }

    /// Every user, by name.
    ///
    /// # Errors
    /// On database errors.
    pub fn users(&self) -> Result<Vec<User>, StoreError> {
        let users = self.with(|c| {
            c.query(&format!("SELECT {USER_COLUMNS} FROM users ORDER BY name"), p![])?
                .iter()
                .map(|r| self.user_from(r))
                .collect::<Result<Vec<_>, _>>()
        })?;
        users.into_iter().map(|u| self.with_sites(u)).collect()
    }

    /// Gives a user a new password hash (and ends its sessions); false when there is no such user.
    ///
    /// # Errors
    /// On database errors.
    pub fn set_password(&self, name: &str, password_hash: &str) -> Result<bool, StoreError> {
        self.transaction(|c| {
            let n = c.execute(
                "UPDATE users SET password_hash = ?2, disabled = 0 WHERE name = ?1",
                p![name, password_hash],
            )?;
            c.execute("DELETE FROM sessions WHERE user_id IN (SELECT id FROM users WHERE name = ?1)", p![name])?;
            Ok(n > 0)
        })
    }

    /// Disables a user (and ends its sessions); false when there is no such user.
    ///
    /// # Errors
    /// On database errors.
    pub fn disable_user(&self, name: &str) -> Result<bool, StoreError> {
        self.transaction(|c| {
            let n = c.execute("UPDATE users SET disabled = 1 WHERE name = ?1", p![name])?;
            c.execute("DELETE FROM sessions WHERE user_id IN (SELECT id FROM users WHERE name = ?1)", p![name])?;
            Ok(n > 0)
        })
    }

    /// Starts a session of `user_id` under the digest of its token, for `secs` seconds.
    ///
    /// # Errors
    /// On database errors.
    pub fn start_session(&self, token_digest: &str, user_id: i64, csrf: &str, secs: i64) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                &format!(
                    "INSERT INTO sessions (token_digest, user_id, csrf, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, {} + ?5)",
                    self.clock_s()
                ),
                p![token_digest, user_id, csrf, now(), secs],
            )
            .map(|_| ())
        })
    }

    /// The live session of a token's digest, with its user (not disabled).
    ///
    /// # Errors
    /// On database errors.
    pub fn session(&self, token_digest: &str) -> Result<Option<Session>, StoreError> {
        let found = self.with(|c| {
            c.query_opt(
                &format!(
                    "SELECT u.id, u.name, u.password_hash, u.role, u.region, u.disabled, s.csrf FROM sessions s
                     JOIN users u ON u.id = s.user_id
                     WHERE s.token_digest = ?1 AND s.expires_at > {} AND u.disabled = 0",
                    self.clock_s()
                ),
                p![token_digest],
            )?
            .map(|r| Ok((self.user_from(&r)?, r.get::<String>(6)?)))
            .transpose()
        })?;
        found.map(|(u, csrf)| Ok(Session { user: self.with_sites(u)?, csrf })).transpose()
    }

    /// Ends a session.
    ///
    /// # Errors
    /// On database errors.
    pub fn end_session(&self, token_digest: &str) -> Result<(), StoreError> {
        self.with(|c| c.execute("DELETE FROM sessions WHERE token_digest = ?1", p![token_digest]).map(|_| ()))
    }

    /// Notes a failed login under `name` from `address` (the client's IP address); failures
    /// older than `window_secs` seconds are forgotten.
    ///
    /// # Errors
    /// On database errors.
    pub fn note_failed_login(&self, name: &str, address: &str, window_secs: i64) -> Result<(), StoreError> {
        let clock = self.clock_s();
        self.with(|c| {
            c.execute(&format!("DELETE FROM login_failures WHERE at < {clock} - ?1"), p![window_secs])?;
            c.execute(
                &format!("INSERT INTO login_failures (name, address, at) VALUES (?1, ?2, {clock})"),
                p![name, address],
            )
            .map(|_| ())
        })
    }

    /// Failed logins in the last `window_secs` seconds: under `name`, and from `address`.
    ///
    /// # Errors
    /// On database errors.
    pub fn failed_logins(&self, name: &str, address: &str, window_secs: i64) -> Result<(i64, i64), StoreError> {
        let clock = self.clock_s();
        self.with(|c| {
            let mut count = |column: &str, value: &str| -> Result<i64, crate::DbError> {
                c.query_one(
                    &format!("SELECT count(*) FROM login_failures WHERE {column} = ?1 AND at >= {clock} - ?2"),
                    p![value, window_secs],
                )?
                .get(0)
            };
            Ok((count("name", name)?, count("address", address)?))
        })
    }

    /// Writes a line of the audit log.
    ///
    /// # Errors
    /// On database errors.
    pub fn audit(&self, user: Option<&str>, action: &str, detail: &str) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "INSERT INTO audit_log (at, user_name, action, detail) VALUES (?1, ?2, ?3, ?4)",
                p![now(), user, action, detail],
            )
            .map(|_| ())
        })
    }

    /// The audit log, newest first, at most `limit` lines.
    ///
    /// # Errors
    /// On database errors.
    pub fn audit_log(&self, limit: u32) -> Result<Vec<AuditLine>, StoreError> {
        self.with(|c| {
            c.query(
                &format!("SELECT at, user_name, action, detail FROM audit_log ORDER BY id DESC LIMIT {limit}"),
                p![],
            )?
            .iter()
            .map(|r| Ok(AuditLine { at: r.get(0)?, user: r.get(1)?, action: r.get(2)?, detail: r.get(3)? }))
            .collect()
        })
    }
}
