//! Writing results: JSON to a file or standard output, the HTML report, the workbook; and the
//! store and rubric the commands open.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result, bail};
use sitecensus_core::Rubric;
use sitecensus_report::{Results, html};
use sitecensus_store::Store;

use crate::OutputArgs;

/// Whether human output must stay off standard output (the JSON goes there).
pub fn json_to_stdout(out: &OutputArgs) -> bool {
    out.json.as_deref() == Some("-") || out.jsonl.as_deref() == Some("-")
}

/// Prints a line for people: to standard output, or standard error when the JSON goes to stdout.
pub fn say(to_stderr: bool, text: &str) {
    // Text from crawled pages never writes on the inspector's terminal.
    let text = sitecensus_core::text::for_terminal(text);
    if to_stderr {
        let _ = writeln!(std::io::stderr(), "{text}");
    } else {
        let _ = writeln!(std::io::stdout(), "{text}");
    }
}

/// Says what went to object storage, and (even with `--quiet`) what could not and where it stays.
pub fn say_archived(to_stderr: bool, quiet: bool, archived: &sitecensus_scan::Archived) {
    if !quiet && !archived.put.is_empty() {
        say(to_stderr, &format!("archived {} file(s): {}", archived.put.len(), archived.put.join(", ")));
    }
    for (path, error) in &archived.failed {
        let _ = writeln!(
            std::io::stderr(),
            "{}",
            sitecensus_core::text::for_terminal(&format!("could not archive {} (kept there): {error}", path.display()))
        );
    }
}

/// Writes every output the user asked for.
pub fn write_outputs(results: &Results, out: &OutputArgs) -> Result<()> {
    if let Some(j) = &out.json {
        write_to(j, |w| {
            serde_json::to_writer_pretty(&mut *w, results)?;
            w.write_all(b"\n")?;
            Ok(())
        })?;
    }
    if let Some(j) = &out.jsonl {
        write_to(j, |w| sitecensus_report::results::write_jsonl(results, w).map_err(Into::into))?;
    }
    if let Some(p) = &out.report {
        let folder = p.parent().filter(|f| !f.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let lang = out.lang.unwrap_or(sitecensus_report::Lang::Zh);
        write_file(p, html::render_at(results, Some(folder), lang).as_bytes())?;
    }
    if let Some(dir) = &out.report_dir {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot make the folder {}", dir.display()))?;
        let split = match out.report_split {
            crate::ReportSplit::Region => html::Split::Region,
            crate::ReportSplit::Site => html::Split::Site,
        };
        let lang = out.lang.unwrap_or(sitecensus_report::Lang::Zh);
        html::render_split(results, dir, lang, split, |name, page| write_file(&dir.join(name), page.as_bytes()))?;
    }
    if let Some(p) = &out.xlsx {
        let bytes = sitecensus_report::xlsx::render(results, out.lang.unwrap_or(sitecensus_report::Lang::Zh))
            .with_context(|| format!("cannot assemble the workbook {}", p.display()))?;
        write_file(p, &bytes)?;
    }
    let failing: Vec<&str> = results
        .sites
        .iter()
        .filter(|s| match out.fail_on {
            Some(crate::FailOn::Veto) => !s.vetoes.is_empty(),
            Some(crate::FailOn::Fail) => s.verdict != sitecensus_score::Verdict::Pass,
            None => false,
        })
        .map(|s| s.url.as_str())
        .collect();
    if let (Some(on), false) = (out.fail_on, failing.is_empty()) {
        let what = match on {
            crate::FailOn::Veto => "have a veto",
            crate::FailOn::Fail => "do not pass",
        };
        return Err(crate::FailOnMet(format!(
            "{} site(s) {what} (--fail-on): {}",
            failing.len(),
            visible_list(&failing)
        ))
        .into());
    }
    Ok(())
}

/// Site addresses for one line of terminal text: escaped, at most five named.
fn visible_list(urls: &[&str]) -> String {
    let mut shown: Vec<String> = urls.iter().take(5).map(|u| sitecensus_core::text::visible(u).into_owned()).collect();
    if urls.len() > 5 {
        shown.push(format!("and {} more", urls.len() - 5));
    }
    shown.join(", ")
}

/// Streams an output to a file (`-`: standard output) through a buffer: a census's results are
/// never held a second time as one string.
fn write_to(target: &str, f: impl FnOnce(&mut dyn Write) -> Result<()>) -> Result<()> {
    if target == "-" {
        let mut so = std::io::BufWriter::new(std::io::stdout().lock());
        f(&mut so)?;
        so.flush()?;
        return Ok(());
    }
    let path = Path::new(target);
    let file = std::fs::File::create(path).with_context(|| format!("cannot write {}", path.display()))?;
    let mut w = std::io::BufWriter::new(file);
    f(&mut w).and_then(|()| w.flush().map_err(Into::into)).with_context(|| format!("cannot write {}", path.display()))
}

/// Writes a file whole, or says which file could not be written.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}

/// Opens the store named by `--db`.
pub fn open_store(db: &str) -> Result<Store> {
    if sitecensus_store::is_postgres_url(db) {
        return Store::open_postgres(db).map_err(|e| anyhow::anyhow!("cannot open the store: {e}"));
    }
    let path = Path::new(db);
    // A store that exists but cannot be written is named as such, not as "unable to open".
    if let Ok(meta) = std::fs::metadata(path)
        && meta.permissions().readonly()
    {
        bail!("the store {db} is read-only: give a store that can be written, or make it writable");
    }
    Store::open(path).with_context(|| format!("cannot open the store {db}"))
}

/// Opens an existing store to read from; a path with no store is an error, and none is left
/// behind.
pub fn open_existing_store(db: &str) -> Result<Store> {
    if !(sitecensus_store::is_postgres_url(db) || Path::new(db).exists()) {
        bail!("there is no store at {db}: scan first, or name the store with --db");
    }
    open_store(db)
}

/// Loads a shipped rubric by name or a rubric file.
pub fn load_rubric(name: &str) -> Result<Rubric> {
    let rubric = Rubric::load(name).map_err(|e| anyhow::anyhow!("rubric refused: {e}"))?;
    // Every check reads its parameters now: a misspelt key stops the command, with its file and
    // line, before anything is fetched or stored.
    sitecensus_checks::Checks::new(&rubric, sitecensus_core::AsOf::now().date())
        .map_err(|e| anyhow::anyhow!("rubric refused: {e}"))?;
    Ok(rubric)
}

/// Parses each `--header "Name: value"`.
pub fn parse_headers(given: &[String]) -> Result<Vec<(String, String)>> {
    given.iter().map(|h| sitecensus_fetch::parse_header(h).map_err(|e| anyhow::anyhow!("--header {e}"))).collect()
}

/// Parses `--as-of`.
pub fn parse_as_of(s: &str) -> Result<sitecensus_core::AsOf> {
    sitecensus_core::AsOf::parse(s).map_err(|e| anyhow::anyhow!("--as-of: {e}"))
}
