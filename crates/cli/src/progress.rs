//! Progress while a scan works: a bar of sites and a line of pages per second on standard
//! error, and each site's scorecard as it finishes.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use sitecensus_core::SiteSpec;
use sitecensus_report::{SiteResult, terminal};
use sitecensus_scan::Progress;

/// Progress bars plus scorecards.
pub struct Bars {
    multi: MultiProgress,
    sites: ProgressBar,
    pages: ProgressBar,
    fetched: AtomicU64,
    failed: AtomicU64,
    cards_to_stderr: bool,
    quiet: bool,
    lang: sitecensus_report::Lang,
}

impl Bars {
    /// Bars for `sites` sites; scorecards go to stderr when stdout carries JSON.
    pub fn new(sites: usize, cards_to_stderr: bool, quiet: bool, lang: sitecensus_report::Lang) -> Self {
        let multi = MultiProgress::with_draw_target(if quiet {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        });
        let bar = multi.add(ProgressBar::new(sites as u64));
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner:.green} sites {pos}/{len} [{bar:30.cyan/blue}] {elapsed_precise} {msg}",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        let pages = multi.add(ProgressBar::new_spinner());
        pages.set_style(ProgressStyle::with_template("  {msg}").expect("valid template"));
        pages.enable_steady_tick(Duration::from_millis(200));
        Bars {
            multi,
            sites: bar,
            pages,
            fetched: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            cards_to_stderr,
            quiet,
            lang,
        }
    }

    /// Ends the bars.
    pub fn finish(&self) {
        self.pages.finish_and_clear();
        self.sites.finish_and_clear();
    }
}

impl Progress for Bars {
    fn site_started(&self, site: &SiteSpec) {
        self.sites.set_message(sitecensus_core::text::visible(&site.given).into_owned());
    }

    fn page_fetched(&self, _site: &SiteSpec, url: &str, ok: bool) {
        let n = self.fetched.fetch_add(1, Ordering::Relaxed) + 1;
        if !ok {
            self.failed.fetch_add(1, Ordering::Relaxed);
        }
        let secs = self.sites.elapsed().as_secs_f64().max(0.001);
        self.pages.set_message(format!(
            "{n} pages ({} failed), {:.0} pages/s — {}",
            self.failed.load(Ordering::Relaxed),
            n as f64 / secs,
            sitecensus_core::finding::clip(url, 80)
        ));
    }

    fn site_finished(&self, result: &SiteResult) {
        self.sites.inc(1);
        if self.quiet {
            return;
        }
        let card = terminal::scorecard(result, self.lang);
        self.multi.suspend(|| crate::output::say(self.cards_to_stderr, card.trim_end()));
    }

    fn message(&self, text: &str) {
        let text = format!("note: {text}");
        self.multi.suspend(|| crate::output::say(true, &text));
    }
}
