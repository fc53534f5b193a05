//! `sitecensus report`: score a stored run again, fetching nothing.

use anyhow::Result;
use clap::Args;

use crate::OutputArgs;
use crate::output::{json_to_stdout, load_rubric, open_existing_store, parse_as_of, say, write_outputs};

/// Arguments of `report`.
#[derive(Args, Debug)]
pub struct ReportArgs {
    /// The store: an SQLite file, or a PostgreSQL database (postgres://user@host:port/dbname).
    #[arg(long, value_name = "PATH|URL", default_value = sitecensus_store::DEFAULT_DB)]
    db: String,
    /// The run to report on (default: the latest).
    #[arg(long, value_name = "N")]
    run: Option<i64>,
    /// Rubric to score under (default: gov-2019).
    #[arg(long, value_name = "NAME|FILE", default_value = sitecensus_core::rubric::DEFAULT_RUBRIC)]
    rubric: String,
    /// "Today" for every window (default: the run's own).
    #[arg(long, value_name = "DATE")]
    as_of: Option<String>,
    /// Compare with this earlier run (整改: findings new, persisting, fixed; sites rectified).
    #[arg(long, value_name = "RUN")]
    compare: Option<i64>,
    /// No scorecards or summary: only the outputs asked for.
    #[arg(short, long)]
    quiet: bool,
    #[command(flatten)]
    out: OutputArgs,
}

/// Runs `report`.
pub fn run(a: ReportArgs) -> Result<()> {
    let store = open_existing_store(&a.db)?;
    let rubric = load_rubric(&a.rubric)?;
    let as_of = a.as_of.as_deref().map(parse_as_of).transpose()?;
    let mut results = sitecensus_scan::report(&store, a.run, &rubric, as_of)?;
    if let Some(earlier) = a.compare {
        crate::scan::compare_with(&store, &mut results, earlier, &rubric)?;
    }
    let to_stderr = json_to_stdout(&a.out);
    let lang = a.out.terminal_lang();
    if !a.quiet {
        for s in &results.sites {
            say(to_stderr, sitecensus_report::terminal::scorecard(s, lang).trim_end());
        }
        say(to_stderr, &sitecensus_report::terminal::summary(&results, lang));
        say(to_stderr, sitecensus_report::terminal::census(&results, lang).trim_end());
    }
    write_outputs(&results, &a.out)
}
