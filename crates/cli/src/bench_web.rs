//! `sitecensus bench --web SITES`: the web app over a synthetic census of SITES scored sites
//! (spread over every county of the division table): how long the pages a user opens take, as
//! the national office and as a provincial office, measured over HTTP on loopback.

use std::io::{Read, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use sitecensus_core::{CheckId, Finding, Severity, SiteSpec};
use sitecensus_score::{Deduction, VetoHit};
use sitecensus_store::accounts::Role;
use sitecensus_store::{SiteScore, Store};

/// Times each page is asked for; the median and the slowest are reported.
const ROUNDS: usize = 7;

/// The veto items the synthetic census spreads over its failing sites.
const VETO_ITEMS: [(CheckId, &str); 4] = [
    (CheckId::FreshnessHomepageStale, "首页不更新"),
    (CheckId::InteractionMissing, "互动回应差：未提供网上有效咨询建言渠道"),
    (CheckId::ServiceMissing, "服务不实用：未提供办事服务"),
    (CheckId::ContentEmptyColumn, "栏目不更新：空白栏目5个以上"),
];

/// Fills `store` with a scored census of `n` sites and two users (`nation`, `jiangxi`).
fn census(store: &Store, n: usize) -> Result<()> {
    let counties = sitecensus_core::region::county_codes();
    let levels = ["county", "township", "city", "county", "township"];
    let specs: Vec<SiteSpec> = (0..n)
        .map(|i| {
            let mut s =
                SiteSpec::from_url(&format!("http://www{i}.example.gov.cn/")).map_err(|e| anyhow::anyhow!(e))?;
            s.region = Some(counties[i % counties.len()].to_owned());
            s.name = Some(format!("第{i}号县人民政府"));
            Ok(s)
        })
        .collect::<Result<_>>()?;
    let run = store.create_run("2024-07-10T00:00:00+08:00", "gov-2019", "bench-web", "{}")?;
    let rows = store.add_sites(run.id, &specs)?;
    let scoring = store.start_scoring(
        run.id,
        ("gov-2019", "政府网站与政务新媒体检查指标"),
        "2024-07-10T00:00:00+08:00",
        "scan",
    )?;
    for (i, row) in rows.iter().enumerate() {
        let fail = i % 3 == 0;
        let (check, item) = VETO_ITEMS[i % VETO_ITEMS.len()];
        let vetoes =
            if fail { vec![VetoHit { check, item: item.to_owned(), count: 1, min_count: 1 }] } else { Vec::new() };
        let deductions = vec![Deduction {
            check: CheckId::LinksBroken,
            item: "可用性（链接可用性）".into(),
            count: 3,
            points: 0.3,
            capped: false,
        }];
        let mut findings: Vec<Finding> = (0..3)
            .map(|k| {
                // The first dead link is a shared template's: one address per province.
                let target = if k == 0 {
                    format!("http://www.gov.cn/{}/old.html", &row.spec.region.as_deref().unwrap_or("00")[..2])
                } else {
                    format!("http://www{i}.example.gov.cn/{k}.html")
                };
                Finding::new(CheckId::LinksBroken, Severity::Deduct, format!("「链接{k}」 → HTTP 404"))
                    .zh(format!("「链接{k}」 → HTTP 404"))
                    .target(target)
            })
            .collect();
        if fail {
            findings.push(Finding::new(check, Severity::Veto, "synthetic").zh("合成数据"));
        }
        store.put_site_score(
            scoring,
            &SiteScore {
                site_id: row.id,
                url: &row.spec.given,
                name: row.spec.name.as_deref(),
                level: Some(levels[i % levels.len()]),
                region: row.spec.region.as_deref(),
                verdict: if fail { "fail" } else { "pass" },
                score: 60.0 + (i * 37 % 400) as f64 / 10.0,
                final_url: None,
                title: None,
                veto_items: &vetoes,
                deductions: &deductions,
                findings: &findings,
                columns: &[],
                freshness: None,
            },
        )?;
    }
    store.finish_scoring(scoring)?;
    store.refresh_statistics()?;
    let hash = sitecensus_web::auth::hash_password("bench-password")?;
    store.add_user("nation", &hash, Role::National, None, &[])?;
    store.add_user("jiangxi", &hash, Role::Province, Some("36"), &[])?;
    Ok(())
}

/// One request over a new connection; the time to the whole answer, and its status line.
fn get(addr: &str, path: &str, cookie: &str) -> Result<(Duration, String)> {
    let started = Instant::now();
    let mut s = std::net::TcpStream::connect(addr)?;
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nCookie: {cookie}\r\n\r\n")?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    Ok((started.elapsed(), out.lines().next().unwrap_or_default().to_owned()))
}

fn login(addr: &str, name: &str) -> Result<String> {
    let mut s = std::net::TcpStream::connect(addr)?;
    write!(s, "GET /login HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n")?;
    let mut form = String::new();
    s.read_to_string(&mut form)?;
    let at = form.find("name=\"csrf\" value=\"").context("the login form")? + 19;
    let csrf = form[at..at + 64].to_owned();
    let body = format!("name={name}&password=bench-password&csrf={csrf}");
    let mut s = std::net::TcpStream::connect(addr)?;
    write!(
        s,
        "POST /login HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nCookie: sc_login={csrf}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )?;
    let mut answer = String::new();
    s.read_to_string(&mut answer)?;
    let token = answer.split("sc_session=").nth(1).context("logged in")?.split(';').next().unwrap_or_default();
    Ok(format!("sc_session={token}"))
}

/// Runs the benchmark.
pub async fn run(n: usize, db: Option<&std::path::Path>) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let path = db.map_or_else(|| dir.path().join("web.db"), std::path::Path::to_path_buf);
    // `--db postgres://…` measures PostgreSQL (an empty database: the census is added to it).
    let store = Arc::new(crate::output::open_store(&path.display().to_string())?);
    let started = Instant::now();
    tokio::task::block_in_place(|| census(&store, n))?;
    crate::output::say(
        false,
        &format!("bench --web: {n} scored sites stored in {:.1} s", started.elapsed().as_secs_f64()),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?.to_string();
    tokio::spawn(sitecensus_web::serve(store, listener, false));
    let last_page = n / 50;
    let pages: Vec<(&str, String)> = vec![
        ("overview", "/".to_owned()),
        ("site list, first page (ranking)", "/sites".to_owned()),
        ("site list, last page", format!("/sites?page={last_page}")),
        ("failing sites, lowest score first", "/sites?verdict=fail&sort=score".to_owned()),
        ("sites with a veto item", "/sites?veto=%E9%A6%96%E9%A1%B5%E4%B8%8D%E6%9B%B4%E6%96%B0".to_owned()),
        ("sites with a check's findings", "/sites?check=accuracy.typo".to_owned()),
        ("search by name", "/sites?q=%E7%AC%AC4242%E5%8F%B7".to_owned()),
        ("one site's scorecard", "/sites/4242".to_owned()),
    ];
    for user in ["nation", "jiangxi"] {
        let cookie = tokio::task::block_in_place(|| login(&addr, user))?;
        for (what, path) in &pages {
            let mut times = Vec::with_capacity(ROUNDS);
            let mut status = String::new();
            for _ in 0..ROUNDS {
                let (t, s) = tokio::task::block_in_place(|| get(&addr, path, &cookie))?;
                times.push(t);
                status = s;
            }
            times.sort();
            crate::output::say(
                false,
                &format!(
                    "  {user:<8} {what:<36} median {:>6.1} ms  slowest {:>6.1} ms  ({status})",
                    times[ROUNDS / 2].as_secs_f64() * 1000.0,
                    times[ROUNDS - 1].as_secs_f64() * 1000.0
                ),
            );
        }
    }
    Ok(())
}
