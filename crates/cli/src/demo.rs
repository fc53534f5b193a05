//! `sitecensus demo`: the bundled sample sites, served on loopback and scanned like any other —
//! nothing to install, nothing fetched from outside.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;
use sitecensus_core::{AsOf, Level, Rubric, SiteSpec};
use sitecensus_fetch::{FetchConfig, Politeness};
use sitecensus_fixtures::serve_site_with;
use sitecensus_scan::ScanOptions;

use crate::OutputArgs;
use crate::output::{open_store, say, write_outputs};
use crate::progress::Bars;

/// The day the sample sites were frozen at: their dates read as on that day.
pub const DEMO_AS_OF: &str = "2024-07-10";

/// Arguments of `demo`.
#[derive(Args, Debug)]
pub struct DemoArgs {
    /// The store: an SQLite file, or a PostgreSQL database (postgres://user@host:port/dbname).
    #[arg(long, value_name = "PATH|URL", default_value = sitecensus_store::DEFAULT_DB)]
    db: String,
    /// Where demo-report.html and demo-results.json go.
    #[arg(long, value_name = "DIR", default_value = ".")]
    out_dir: PathBuf,
    /// Language of the scorecards, the workbook and the report: zh or en (default: the locale
    /// for the terminal, Chinese for the workbook and the report).
    #[arg(long, value_name = "zh|en", value_parser = crate::parse_lang)]
    lang: Option<sitecensus_report::Lang>,
    /// Then open the web app on the demo's store (until interrupted), with a demo login printed.
    #[arg(long)]
    serve: bool,
    /// Where `--serve` listens.
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:8080", requires = "serve")]
    listen: String,
}

fn site(url: String, name: &str, level: Level, region: &str) -> Result<SiteSpec> {
    let mut s = SiteSpec::from_url(&url).map_err(|e| anyhow::anyhow!(e))?;
    s.name = Some(name.to_owned());
    s.level = Some(level);
    s.region = Some(region.to_owned());
    Ok(s)
}

/// Runs `demo`.
pub async fn run(a: DemoArgs) -> Result<()> {
    let (external, _) = serve_site_with("external", &[]).await;
    let ext = external.url("");
    let (county, _) = serve_site_with("county-table", &[("external", ext.as_str())]).await;
    let (city, _) = serve_site_with("city-gbk", &[]).await;
    let (township, _) = serve_site_with("soft404", &[]).await;
    let (bureau, _) = serve_site_with("stub-home", &[]).await;
    let (hostile, _) = serve_site_with("hostile", &[]).await;
    let (columns, _) = serve_site_with("columns", &[]).await;
    let (zombie, _) = serve_site_with("zombie", &[]).await;
    let (accuracy, _) = serve_site_with("accuracy", &[]).await;
    let (copier, _) = serve_site_with("accuracy-copy", &[]).await;
    let (letters, _) = serve_site_with("interaction", &[]).await;
    let (picture, _) = serve_site_with("fake-mailbox", &[]).await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let sites = vec![
        site(county.url("/"), "丰安县人民政府（示例）", Level::County, "360922")?,
        site(columns.url("/"), "长宁县人民政府（示例，十六个栏目）", Level::County, "511524")?,
        site(zombie.url("/"), "荒废镇人民政府（示例，僵尸网站）", Level::Township, "511524")?,
        site(city.url("/"), "宜安市人民政府（示例，GBK）", Level::City, "360900")?,
        site(township.url("/"), "清河乡人民政府（示例，软404）", Level::Township, "360922")?,
        site(bureau.url("/"), "西林县人力资源和社会保障局（示例，脚本跳转）", Level::County, "360923")?,
        site(hostile.url("/"), "陷阱测试站（示例，恶意页面）", Level::County, "360924")?,
        site(accuracy.url("/"), "东湖区人民政府（示例，被挂暗链、泄露个人信息）", Level::County, "360102")?,
        site(copier.url("/"), "西岭县人民政府（示例，照搬他站文章）", Level::County, "360123")?,
        site(letters.url("/"), "和平区人民政府（示例，信件与办事指南）", Level::County, "210102")?,
        site(picture.url("/"), "东山乡人民政府（示例，信箱只是一张图片）", Level::Township, "360926")?,
        site(format!("http://127.0.0.1:{closed}/"), "无法访问的网站（示例）", Level::Township, "360925")?,
    ];
    let mut opts = ScanOptions::new(Rubric::default_rubric(), AsOf::parse(DEMO_AS_OF).map_err(|e| anyhow::anyhow!(e))?);
    opts.as_of_given = true;
    opts.fetch = FetchConfig {
        politeness: Politeness { per_host_rps: 0.0, per_host_connections: 4, concurrency: 32 },
        timeout: Duration::from_secs(3),
        retries: 1,
        backoff: Duration::from_millis(100),
        ..FetchConfig::default()
    };
    opts.max_depth = 30;
    // The sample sites are served over plain HTTP on loopback ports: port 443 of this machine
    // is not theirs, so their HTTPS is not probed.
    opts.https_check = false;
    let store = Arc::new(open_store(&a.db)?);
    say(
        false,
        &format!(
            "sitecensus demo: {} sample sites on loopback, judged as of {DEMO_AS_OF} (the day they were frozen at)",
            sites.len()
        ),
    );
    let lang = a.lang.unwrap_or_else(sitecensus_report::Lang::from_locale);
    let bars = Arc::new(Bars::new(sites.len(), false, false, lang));
    let shown = store.path().display().to_string();
    let outcome = sitecensus_scan::scan(store, sites, opts, bars.clone()).await?;
    bars.finish();
    std::fs::create_dir_all(&a.out_dir)?;
    let json = a.out_dir.join("demo-results.json");
    let report = a.out_dir.join("demo-report.html");
    let xlsx = a.out_dir.join("demo-results.xlsx");
    let out = OutputArgs {
        json: Some(json.display().to_string()),
        jsonl: None,
        report: Some(report.clone()),
        report_dir: None,
        report_split: crate::ReportSplit::Region,
        xlsx: Some(xlsx.clone()),
        lang: a.lang,
        fail_on: None,
    };
    write_outputs(&outcome.results, &out)?;
    say(false, &format!("run {}: {}", outcome.run.id, sitecensus_report::terminal::summary(&outcome.results, lang)));
    say(false, sitecensus_report::terminal::census(&outcome.results, lang).trim_end());
    say(false, &format!("wrote {}, {} and {}; store {}", report.display(), json.display(), xlsx.display(), shown));
    if a.serve {
        serve(store_of(&a.db)?, &a.listen).await?;
    }
    Ok(())
}

fn store_of(db: &str) -> Result<Arc<sitecensus_store::Store>> {
    Ok(Arc::new(open_store(db)?))
}

/// The web app on the demo's store, with a login `demo` (an administrator) whose password is
/// made now and printed; the sample sites stay served, so the findings' links open.
async fn serve(store: Arc<sitecensus_store::Store>, listen: &str) -> Result<()> {
    let password = sitecensus_web::auth::random_hex(8)?;
    let hash = sitecensus_web::auth::hash_password(&password)?;
    if !store.set_password("demo", &hash)? {
        store.add_user("demo", &hash, sitecensus_store::accounts::Role::Admin, None, &[])?;
    }
    let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("cannot listen on {listen}"))?;
    say(
        false,
        &format!(
            "the web app: http://{}/ — log in as demo, password {password} (Ctrl-C ends it)",
            listener.local_addr()?
        ),
    );
    sitecensus_web::serve(store, listener, false).await?;
    Ok(())
}
