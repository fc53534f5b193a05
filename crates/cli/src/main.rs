//! `sitecensus`: the command line. All logic lives in the library crates; this binary parses
//! arguments, wires the stages together and talks to the user.

mod bench;
mod bench_accuracy;
mod bench_web;
mod census;
mod config;
mod demo;
mod monitor;
mod output;
mod page;
mod probe;
mod progress;
mod report;
mod scan;
mod serve;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

/// Inspects government websites the way a national inspection office does.
#[derive(Parser)]
#[command(
    name = "sitecensus",
    version,
    about,
    long_about = None,
    args_override_self = true,
    after_help = "Exit status: 0 the command ran (whatever the scores); 1 an error (a file, the store, \
                  the network setup); 2 a usage error (an unknown option or a missing argument); \
                  3 --fail-on was met."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Log more (repeat for more); RUST_LOG works too.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
}

#[derive(Subcommand)]
enum Command {
    /// Crawl and inspect sites, score them and write the results.
    Scan(Box<scan::ScanArgs>),
    /// Print the page model of one page (a saved file or a live URL): why did you say that?
    Page(page::PageArgs),
    /// Score a stored run again (another rubric or as-of date) without fetching anything.
    Report(report::ReportArgs),
    /// Record homepage availability on a schedule, for the official availability rule.
    Probe(probe::ProbeArgs),
    /// Watch sites between rounds: scheduled probes and scans, alerts by webhook and mail.
    Monitor(Box<monitor::MonitorArgs>),
    /// A census round shared by workers: `census start` registers it, `census status` follows it.
    Census(census::CensusArgs),
    /// Take sites of a census round from the store and crawl them, until none is left (run any
    /// number, on any machines); the last one scores the round.
    Worker(census::WorkerArgs),
    /// Serve the bundled sample sites on loopback and scan them (nothing to install).
    Demo(demo::DemoArgs),
    /// Serve the web app over a store: results by region and role, behind logins.
    Serve(serve::ServeArgs),
    /// The web app's users: `user add`, `user list`, `user disable`.
    User(serve::UserArgs),
    /// Benchmark a full scan of a generated site on loopback (pages per second, peak memory).
    Bench(bench::BenchArgs),
    /// Print a shell's completion script (bash, zsh, fish, elvish, powershell) to standard output.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff) to standard output: `sitecensus man > sitecensus.1`.
    Man,
}

/// Where results go, shared by `scan` and `report`.
#[derive(Args, Clone, Debug)]
struct OutputArgs {
    /// Write the results JSON here (`-` for standard output).
    #[arg(long, value_name = "FILE|-")]
    json: Option<String>,
    /// Write the results as JSON Lines here (`-` for standard output): one site a line
    /// (`sitecensus.site/1`, with the run's as-of, rubric and run id), then one line per site a
    /// census round could not assess (`sitecensus.unassessed/1`) — for census-size output.
    #[arg(long, value_name = "FILE|-")]
    jsonl: Option<String>,
    /// Write a self-contained HTML report here (evidence and names in `--lang`, Chinese by
    /// default; headings in both).
    #[arg(long, value_name = "FILE.html")]
    report: Option<PathBuf>,
    /// Write the HTML report split into files in this folder, for a census: `index.html` (the
    /// census summary and a table of the parts) and one self-contained file per region (or per
    /// site, `--report-split site`) with its sites' ranking and sections.
    #[arg(long, value_name = "DIR")]
    report_dir: Option<PathBuf>,
    /// How `--report-dir` splits the report: one file per region as the site list gives it, or
    /// one per site.
    #[arg(long, value_name = "region|site", default_value = "region", requires = "report_dir")]
    report_split: ReportSplit,
    /// Write an Excel workbook here (summary, ranking, findings, columns; Chinese headers unless
    /// `--lang en`).
    #[arg(long, value_name = "FILE.xlsx")]
    xlsx: Option<PathBuf>,
    /// Language of the scorecards, the workbook and the HTML report — labels, check names and
    /// the findings' evidence: zh or en (default: the locale for the terminal, Chinese for the
    /// workbook and the report). The JSON carries both (`evidence`, `evidence_zh`).
    #[arg(long, value_name = "zh|en", value_parser = parse_lang)]
    lang: Option<sitecensus_report::Lang>,
    /// Exit with status 3 (after writing every output) when a site has a veto (`veto`) or does
    /// not pass (`fail`): for CI jobs of a site's own web team.
    #[arg(long, value_name = "veto|fail")]
    fail_on: Option<FailOn>,
}

/// How `--report-dir` splits the report.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum ReportSplit {
    /// One file per region (`360102.html`; sites with no region in `no-region.html`).
    Region,
    /// One file per site (`site-1.html`, …).
    Site,
}

/// What `--fail-on` fails the command on.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum FailOn {
    /// Any site with a veto.
    Veto,
    /// Any site that does not pass.
    Fail,
}

/// The `--fail-on` condition was met: the command ran, and says so by its exit status.
#[derive(Debug)]
struct FailOnMet(String);

impl std::fmt::Display for FailOnMet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for FailOnMet {}

/// Exit status when `--fail-on` is met.
const EXIT_FAIL_ON: u8 = 3;

fn parse_lang(s: &str) -> Result<sitecensus_report::Lang, String> {
    sitecensus_report::Lang::parse(s).ok_or_else(|| format!("{s:?} is not a language sitecensus speaks: zh or en"))
}

impl OutputArgs {
    /// The language of terminal text: `--lang`, else the locale's.
    fn terminal_lang(&self) -> sitecensus_report::Lang {
        self.lang.unwrap_or_else(sitecensus_report::Lang::from_locale)
    }
}

/// The command line as parsed: the user's, after the config file's options for the command.
static ARGS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();

/// The arguments the command runs with (the config file's included), as text.
pub fn effective_args() -> Vec<String> {
    ARGS.get().cloned().unwrap_or_else(|| std::env::args().collect())
}

fn main() -> ExitCode {
    let (args, config) = match config::merged_args(std::env::args_os().collect(), config::from_env().as_deref()) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let _ = ARGS.set(args.iter().map(|a| a.to_string_lossy().into_owned()).collect());
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e) => {
            if let Some(file) = config.filter(|_| e.use_stderr()) {
                eprintln!("note: options from {} ({file}) came before those given", config::ENV);
            }
            e.exit()
        }
    };
    // The DevTools client logs every protocol event it does not model (newer Chromiums send
    // many): not the user's concern below -vv.
    let filter = match cli.verbose {
        0 => "warn,chromiumoxide=error",
        1 => "info,sitecensus=info,chromiumoxide=error",
        _ => "debug",
    };
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| filter.into()))
        .with_writer(std::io::stderr)
        // Colour only for a person at a terminal: a log file or a pipe gets plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()) && std::env::var_os("NO_COLOR").is_none())
        .init();
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = rt.block_on(async {
        match cli.command {
            Command::Scan(a) => scan::run(*a).await,
            Command::Page(a) => page::run(a).await,
            Command::Report(a) => report::run(a),
            Command::Probe(a) => probe::run(a).await,
            Command::Monitor(a) => monitor::run(*a).await,
            Command::Census(a) => census::run(a),
            Command::Worker(a) => census::worker(a).await,
            Command::Demo(a) => demo::run(a).await,
            Command::Serve(a) => serve::run(a).await,
            Command::User(a) => serve::user(a),
            Command::Bench(a) => bench::run(a).await,
            Command::Completions { shell } => {
                let mut cmd = <Cli as clap::CommandFactory>::command();
                clap_complete::generate(shell, &mut cmd, "sitecensus", &mut std::io::stdout());
                Ok(())
            }
            Command::Man => {
                let cmd = <Cli as clap::CommandFactory>::command();
                clap_mangen::Man::new(cmd).render(&mut std::io::stdout()).map_err(anyhow::Error::from)
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.is::<FailOnMet>() => {
            eprintln!("{e}");
            ExitCode::from(EXIT_FAIL_ON)
        }
        // The reader went away (`| head`): nothing more to say, as other tools end.
        Err(e)
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) =>
        {
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
