//! `sitecensus page`: the page model of one page, for "why did you say that?".

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result, bail};
use clap::Args;
use serde::Serialize;
use sitecensus_checks::Checks;
use sitecensus_checks::interaction::Letter;
use sitecensus_checks::services::Guide;
use sitecensus_core::{AsOf, Finding, Outcome};
use sitecensus_extract::{Options, Page};
use sitecensus_fetch::{FetchConfig, Fetcher};
use url::Url;

use crate::output::{load_rubric, parse_as_of, write_file};

/// The schema id of `page --json`.
pub const PAGE_SCHEMA: &str = "sitecensus.page/1";

/// Arguments of `page`.
#[derive(Args, Debug)]
pub struct PageArgs {
    /// A saved page (file) or a live URL.
    #[arg(value_name = "FILE|URL")]
    target: String,
    /// The address of a saved page (its links resolve against it).
    #[arg(long, value_name = "BASE")]
    url: Option<String>,
    /// "Today", for dates written without a year.
    #[arg(long, value_name = "DATE")]
    as_of: Option<String>,
    /// Write the page model as JSON here (`-` for standard output).
    #[arg(long, value_name = "FILE|-")]
    json: Option<String>,
    /// Rubric whose page-level checks run.
    #[arg(long, value_name = "NAME|FILE", default_value = sitecensus_core::rubric::DEFAULT_RUBRIC)]
    rubric: String,
    /// Treat the page as the site's homepage (default: decided from its URL).
    #[arg(long)]
    homepage: bool,
    /// Seconds a live fetch may take.
    #[arg(long, value_name = "SECS", default_value_t = 15.0)]
    timeout: f64,
    /// Do not draw a live page in a browser, even where the static reading could not read it.
    #[arg(long)]
    no_render: bool,
    /// The browser to draw pages with (default: Debian's chromium on PATH).
    #[arg(long, value_name = "PATH")]
    chromium: Option<std::path::PathBuf>,
    /// Follow a live page's redirects into loopback, private and link-local addresses too.
    #[arg(long)]
    allow_private: bool,
    /// Fetch a live page through this proxy (default: the environment's, as curl).
    #[arg(long, value_name = "URL")]
    proxy: Option<String>,
    /// A header the live page's request carries, `Name: value` (again for more).
    #[arg(long, value_name = "NAME: VALUE")]
    header: Vec<String>,
}

#[derive(Serialize)]
struct PageReport<'a> {
    schema: &'static str,
    #[serde(flatten)]
    page: &'a Page,
    findings: &'a [Finding],
    /// What the site-level readers make of the page: a letter, letters listed, a service guide.
    #[serde(flatten)]
    reading: &'a Reading,
}

/// What the letter and guide readers of the rubric make of one page.
#[derive(Serialize, Default)]
struct Reading {
    letter: Option<Letter>,
    letters_listed: Vec<Letter>,
    guide: Option<Guide>,
}

fn reading(page: &Page, rubric: &sitecensus_core::Rubric) -> Reading {
    let guide = rubric
        .params::<sitecensus_checks::services::GuideParams>(sitecensus_checks::services::INCOMPLETE_GUIDE)
        .ok()
        .and_then(|p| sitecensus_checks::services::guide_of(page, &p));
    Reading {
        letter: sitecensus_checks::interaction::letter_of_page(page, &rubric.letters),
        letters_listed: sitecensus_checks::interaction::letters_of_list(page, &rubric.letters),
        guide,
    }
}

fn is_url(s: &str) -> bool {
    let l = s.to_ascii_lowercase();
    l.starts_with("http://") || l.starts_with("https://")
}

/// Runs `page`.
pub async fn run(a: PageArgs) -> Result<()> {
    let as_of = match &a.as_of {
        Some(s) => parse_as_of(s)?,
        None => AsOf::now(),
    };
    let rubric = load_rubric(&a.rubric)?;
    let checks = Checks::new(&rubric, as_of.date()).map_err(|e| anyhow::anyhow!("rubric {}: {e}", rubric.id))?;
    let mut fetcher = None;
    let (bytes, content_type, url) = if is_url(&a.target) {
        let url = Url::parse(&a.target).with_context(|| format!("{:?} is not a URL", a.target))?;
        let cfg = FetchConfig {
            timeout: std::time::Duration::from_secs_f64(a.timeout.max(0.1)),
            allow_private: a.allow_private,
            proxy: a.proxy.clone(),
            headers: crate::output::parse_headers(&a.header)?,
            ..FetchConfig::default()
        };
        let f = Fetcher::new(cfg, None)?;
        f.guard().allow_host(url.host_str().unwrap_or_default());
        let got = f.get(&url).await;
        if !matches!(got.outcome, Outcome::Ok { .. }) {
            bail!("{url}: {}", got.outcome.describe());
        }
        fetcher = Some(f);
        (got.body.to_vec(), got.content_type, got.final_url)
    } else {
        let path = Path::new(&a.target);
        // The crawler's cap applies to a file too (/dev/zero has no end).
        let cap = FetchConfig::default().max_body;
        let mut bytes = Vec::new();
        std::fs::File::open(path)
            .and_then(|f| std::io::Read::read_to_end(&mut std::io::Read::take(f, cap as u64 + 1), &mut bytes))
            .with_context(|| format!("cannot read {}", path.display()))?;
        if bytes.len() > cap {
            bytes.truncate(cap);
            eprintln!(
                "note: {} is larger than {} MB: read up to there, as the crawler reads a page",
                path.display(),
                cap / (1024 * 1024)
            );
        }
        let url = match &a.url {
            Some(u) => Url::parse(u).with_context(|| format!("--url {u:?} is not a URL"))?,
            None => {
                let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                eprintln!("note: no --url given; links resolve against http://localhost/{name}");
                Url::parse("http://localhost/")?.join(&name).unwrap_or(Url::parse("http://localhost/")?)
            }
        };
        (bytes, None, url)
    };
    let opts = Options { as_of: as_of.date(), homepage: a.homepage.then_some(true) };
    let (mut page, mut findings) =
        sitecensus_extract::analyze(&bytes, content_type.as_deref(), &url, &opts, |p, dom| checks.page(p, dom));
    // As the scan does: a page the static reading could not read is drawn by the browser.
    if checks.render_wanted(&page, page.page_kind == sitecensus_extract::PageKind::Homepage) {
        match (&fetcher, a.no_render) {
            (None, _) => page.render_note = Some("a saved file is not drawn: give the page's live URL".to_owned()),
            (Some(_), true) => page.render_note = Some("rendering is off (--no-render)".to_owned()),
            (Some(f), false) => {
                let mut cfg = sitecensus_render::RenderConfig::new(f.guard().clone(), sitecensus_core::USER_AGENT);
                cfg.executable = a.chromium.clone();
                cfg.proxy = f.proxy_server();
                cfg.headers = f.headers().to_vec();
                let r = sitecensus_render::Renderer::new(cfg);
                match r.render(&url).await {
                    Ok(d) => {
                        let (drawn, more) =
                            sitecensus_extract::analyze_rendered(&d.html, &page.encoding, &url, &opts, |p, dom| {
                                checks.page(p, dom)
                            });
                        for f in more {
                            if !findings.iter().any(|x| x.check == f.check) {
                                findings.push(f);
                            }
                        }
                        page = drawn;
                    }
                    Err(e) => page.render_note = Some(e.to_string()),
                }
                r.shutdown().await;
            }
        }
    }
    sitecensus_score::weigh(&mut findings, &rubric);
    let reading = reading(&page, &rubric);
    match &a.json {
        Some(dest) => {
            let text = serde_json::to_string_pretty(&PageReport {
                schema: PAGE_SCHEMA,
                page: &page,
                findings: &findings,
                reading: &reading,
            })?;
            if dest == "-" {
                let mut so = std::io::stdout().lock();
                so.write_all(text.as_bytes())?;
                so.write_all(b"\n")?;
            } else {
                write_file(Path::new(dest), text.as_bytes())?;
            }
        }
        None => print_summary(&page, &findings, &reading),
    }
    Ok(())
}

fn print_summary(p: &Page, findings: &[Finding], r: &Reading) {
    use std::fmt::Write as _;
    // Written whole at the end, with what the page says shown, never sent to the terminal.
    let mut so = String::new();
    let _ = writeln!(
        so,
        "{}\n  title     {}\n  kind      {}\n  encoding  {} ({:?})",
        p.url,
        p.title,
        p.page_kind.as_str(),
        p.encoding,
        p.encoding_source
    );
    let _ = writeln!(so, "  published {}", p.published.as_deref().unwrap_or("—"));
    for (k, v) in &p.meta {
        let _ = writeln!(so, "  meta      {k} = {v}");
    }
    if !p.breadcrumb.is_empty() {
        let trail: Vec<&str> = p.breadcrumb.iter().map(|c| c.text.as_str()).collect();
        let _ = writeln!(so, "  crumb     {}", trail.join(" > "));
    }
    let _ = writeln!(
        so,
        "  links     {} ({} hidden, {} invalid)",
        p.links.len(),
        p.links.iter().filter(|l| l.hidden).count(),
        p.invalid_links.len()
    );
    for (i, b) in p.blocks.iter().enumerate() {
        let _ = writeln!(
            so,
            "  block     {} — {} items {}",
            b.title.as_deref().unwrap_or("(untitled)"),
            b.items,
            b.url.as_deref().unwrap_or("")
        );
        for it in p.items.iter().filter(|it| it.block == i).take(5) {
            let _ = writeln!(so, "              {}  {}", it.date.as_deref().unwrap_or("(no date) "), it.title);
        }
    }
    if !p.footer_text.is_empty() {
        let _ = writeln!(so, "  footer    {}", p.footer_text.replace('\n', " / "));
    }
    if let Some(cms) = &p.cms {
        let name = sitecensus_extract::cms::family(&cms.id).map_or(cms.id.as_str(), |f| f.name.as_str());
        let _ = writeln!(so, "  cms       {name} ({})", cms.signals.join("; "));
    }
    for l in &p.script_lists {
        let _ = writeln!(so, "  scripted  {} entries from {:?}", l.entries, l.source);
    }
    if p.rendered {
        let _ = writeln!(so, "  rendered  drawn by headless Chromium");
    } else if !p.drawn_by.is_empty() {
        let _ = writeln!(so, "  drawn by  {}", p.drawn_by.join(", "));
        if let Some(n) = &p.render_note {
            let _ = writeln!(so, "  not drawn {n}");
        }
    }
    let day = |d: Option<chrono::NaiveDate>| d.map_or_else(|| "—".to_owned(), |d| d.to_string());
    if let Some(l) = &r.letter {
        let _ = writeln!(
            so,
            "  letter    asked {} · replied {} · {:?}{}",
            day(l.asked),
            day(l.replied),
            l.status,
            l.reply_unit.as_deref().map(|u| format!(" · by {u}")).unwrap_or_default()
        );
    }
    if !r.letters_listed.is_empty() {
        let _ = writeln!(so, "  letters   {} listed", r.letters_listed.len());
    }
    if let Some(g) = &r.guide {
        let _ = writeln!(
            so,
            "  guide     shows {} · lacks {}",
            g.present.join("、"),
            if g.missing.is_empty() { "nothing".to_owned() } else { g.missing.join("、") }
        );
    }
    for f in findings {
        let _ = writeln!(so, "  finding   {} {}: {}", f.severity.as_str(), f.check, f.evidence);
    }
    let safe: Vec<std::borrow::Cow<'_, str>> = so.lines().map(sitecensus_core::text::visible).collect();
    let _ = std::io::stdout().lock().write_all(format!("{}\n", safe.join("\n")).as_bytes());
}
