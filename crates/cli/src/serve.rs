//! `sitecensus serve`: the web app over a store; `sitecensus user`: its accounts.

use std::io::BufRead;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use sitecensus_store::accounts::Role;

use crate::output::open_store;

/// Arguments of `serve`.
#[derive(Args, Debug)]
pub struct ServeArgs {
    /// The store: an SQLite file, or a PostgreSQL database (postgres://user@host:port/dbname).
    #[arg(long, value_name = "PATH|URL", default_value = sitecensus_store::DEFAULT_DB)]
    db: String,
    /// The address to listen on.
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:8080")]
    listen: String,
    /// Mark the cookies Secure: the app is reached over HTTPS (a reverse proxy in front of it).
    #[arg(long)]
    secure_cookies: bool,
}

/// Runs `serve`.
pub async fn run(a: ServeArgs) -> Result<()> {
    let store = Arc::new(open_store(&a.db)?);
    if store.users()?.is_empty() {
        crate::output::say(
            true,
            "no user yet: add one with `sitecensus user add NAME --role admin --password-stdin` on the same --db",
        );
    }
    let listener =
        tokio::net::TcpListener::bind(&a.listen).await.with_context(|| format!("cannot listen on {}", a.listen))?;
    crate::output::say(true, &format!("serving {} on http://{}/", store.path().display(), listener.local_addr()?));
    sitecensus_web::serve(store, listener, a.secure_cookies).await?;
    Ok(())
}

/// Arguments of `user`.
#[derive(Args, Debug)]
pub struct UserArgs {
    #[command(subcommand)]
    command: UserCommand,
    /// The store: an SQLite file, or a PostgreSQL database (postgres://user@host:port/dbname).
    #[arg(long, value_name = "PATH|URL", default_value = sitecensus_store::DEFAULT_DB, global = true)]
    db: String,
}

/// The roles `user add` takes.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum RoleArg {
    /// Everything, and the audit log.
    Admin,
    /// The national office: every site.
    National,
    /// A provincial office: its region (`--region 360000`).
    Province,
    /// A city's office: its region (`--region 360100`).
    City,
    /// A site's own web team: its sites (`--site URL`, again for more).
    SiteTeam,
    /// Reads everything, changes nothing.
    Auditor,
}

#[derive(Subcommand, Debug)]
enum UserCommand {
    /// Add a user; the password is read from standard input (`--password-stdin`) or from
    /// SITECENSUS_PASSWORD, never from the command line.
    Add {
        /// The login name.
        name: String,
        /// What the user may see and do.
        #[arg(long, value_enum)]
        role: RoleArg,
        /// The division code of a provincial or city office (GB/T 2260: 360000, 360100).
        #[arg(long, value_name = "CODE")]
        region: Option<String>,
        /// A site (the URL as the site list gives it) of a site team; again for more.
        #[arg(long = "site", value_name = "URL")]
        sites: Vec<String>,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List the users, their roles and what they see.
    List,
    /// Disable a user: it can no longer log in, and its sessions end.
    Disable {
        /// The login name.
        name: String,
    },
}

/// Runs `user`.
pub fn user(a: UserArgs) -> Result<()> {
    let store = open_store(&a.db)?;
    match a.command {
        UserCommand::Add { name, role, region, sites, password_stdin } => {
            let role = match role {
                RoleArg::Admin => Role::Admin,
                RoleArg::National => Role::National,
                RoleArg::Province => Role::Province,
                RoleArg::City => Role::City,
                RoleArg::SiteTeam => Role::SiteTeam,
                RoleArg::Auditor => Role::Auditor,
            };
            let region = match (role, region) {
                (Role::Province | Role::City, Some(code))
                    if code.trim().bytes().all(|b| b.is_ascii_digit()) && !code.trim().is_empty() =>
                {
                    Some(sitecensus_web::auth::region_prefix(&code))
                }
                (Role::Province | Role::City, Some(code)) => {
                    bail!("--region takes a division code of digits (360000), not {code:?}")
                }
                (Role::Province | Role::City, None) => {
                    bail!("a {} office needs --region CODE (its division code)", role.as_str())
                }
                (_, Some(_)) => bail!("--region is for provincial and city offices"),
                (_, None) => None,
            };
            if role == Role::SiteTeam && sites.is_empty() {
                bail!("a site team needs --site URL (the site's URL as the site list gives it), once per site");
            }
            if role != Role::SiteTeam && !sites.is_empty() {
                bail!("--site is for site teams");
            }
            let password = if password_stdin {
                let mut line = String::new();
                std::io::stdin().lock().read_line(&mut line).context("cannot read the password from standard input")?;
                line.trim_end_matches(['\r', '\n']).to_owned()
            } else if let Ok(p) = std::env::var("SITECENSUS_PASSWORD") {
                p
            } else {
                bail!("give the password on standard input (--password-stdin) or in SITECENSUS_PASSWORD");
            };
            if password.chars().count() < 10 {
                bail!("the password is too short: at least 10 characters");
            }
            let hash = sitecensus_web::auth::hash_password(&password)?;
            store.add_user(&name, &hash, role, region.as_deref(), &sites)?;
            store.audit(None, "user_add", &format!("{name} as {}", role.as_str()))?;
            crate::output::say(false, &format!("added {name} ({})", role.as_str()));
        }
        UserCommand::List => {
            let mut out = String::new();
            for u in store.users()? {
                let scope = sitecensus_web::describe_scope(&sitecensus_web::auth::scope_of(&u));
                let disabled = if u.disabled { "  (disabled)" } else { "" };
                out.push_str(&format!("{:<20} {:<10} {scope}{disabled}\n", u.name, u.role.as_str()));
            }
            crate::output::say(false, out.trim_end());
        }
        UserCommand::Disable { name } => {
            if !store.disable_user(&name)? {
                bail!("no user named {name:?}");
            }
            store.audit(None, "user_disable", &name)?;
            crate::output::say(false, &format!("disabled {name}"));
        }
    }
    Ok(())
}
