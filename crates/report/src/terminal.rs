//! The scorecard printed for each site as it finishes: verdict and score, veto items first,
//! then deductions, then the most important findings.

use std::fmt::Write;

use console::style;
use sitecensus_core::finding::clip;
use sitecensus_core::{Finding, Severity};

use crate::SiteResult;

/// Findings listed per site on the terminal; the rest are in the JSON and HTML reports.
pub const FINDINGS_SHOWN: usize = 8;

fn severity_label(s: Severity) -> console::StyledObject<&'static str> {
    match s {
        Severity::Veto => style("veto  ").red().bold(),
        Severity::Deduct => style("deduct").yellow(),
        Severity::Warn => style("warn  ").cyan(),
        Severity::Info => style("info  ").dim(),
    }
}

fn finding_line(f: &Finding) -> String {
    let at = f.target.as_deref().or(f.page.as_deref()).unwrap_or("");
    format!("  {} {:<26} {}  {}", severity_label(f.severity), f.check, clip(&f.evidence, 70), style(clip(at, 90)).dim())
}

/// The scorecard of one site as terminal text (colours only where the terminal takes them).
#[must_use]
pub fn scorecard(site: &SiteResult) -> String {
    let mut out = String::new();
    let name = site.name.as_deref().unwrap_or("");
    let where_ = [site.level.as_deref(), site.region.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(", ");
    let _ = writeln!(
        out,
        "{} {} {}{}",
        style("━━").dim(),
        style(name).bold(),
        style(&site.url).underlined(),
        if where_.is_empty() { String::new() } else { format!("  ({where_})") }
    );
    let verdict = if site.verdict == "pass" { style("PASS").green().bold() } else { style("FAIL").red().bold() };
    let _ = writeln!(out, "   {verdict}  score {:.1}", site.score);
    for v in &site.veto_items {
        let _ = writeln!(out, "   {} {}  ({}, {} found)", style("单项否决").red(), v.item, v.check, v.count);
    }
    for d in &site.deductions {
        let _ = writeln!(
            out,
            "   {} {:<26} ×{:<4} −{:.2}{}  {}",
            style("扣分").yellow(),
            d.check,
            d.count,
            d.points,
            if d.capped { " (capped)" } else { "" },
            d.item
        );
    }
    let _ = writeln!(
        out,
        "   {} pages fetched, {} failed · {} links checked ({} broken) · {:.1} s",
        site.stat("pages_fetched"),
        site.stat("pages_failed"),
        site.stat("links_checked"),
        site.stat("links_broken"),
        site.stat("duration_ms") as f64 / 1000.0
    );
    let (read, unreadable) = (site.stat("attachments_read"), site.stat("attachments_unreadable"));
    if read + unreadable > 0 {
        let _ = write!(out, "   {read} attachment(s) read for personal data");
        if unreadable > 0 {
            let _ = write!(out, " · {unreadable} could not be read (see stats.attachments_unreadable_examples)");
        }
        out.push('\n');
    }
    if site.has("interaction") {
        let fig = |k| site.figure("interaction", k);
        let _ = writeln!(
            out,
            "   letters: {} read, {} replied, {} unanswered past the window · reply median {} / p90 {} working days · {} stock replies · channels {}/{} working",
            fig("letters"),
            fig("replied"),
            fig("unanswered"),
            fig("median_working_days"),
            fig("p90_working_days"),
            fig("boilerplate_share"),
            fig("channels_working"),
            fig("channels"),
        );
    }
    if site.has("guides") && site.figure("guides", "read") != "0" {
        let _ = writeln!(
            out,
            "   service guides: {} read, {} incomplete",
            site.figure("guides", "read"),
            site.figure("guides", "incomplete")
        );
    }
    if site.has("https") {
        let line = if site.figure("https", "ok") == "yes" {
            format!("HTTPS valid until {}", site.figure("https", "not_after"))
        } else {
            format!("no valid HTTPS: {}", clip(&site.figure("https", "error"), 80))
        };
        let _ = writeln!(out, "   {line}");
    }
    if !site.columns.is_empty() {
        let names = |f: &dyn Fn(&sitecensus_checks::Column) -> bool| {
            site.columns.iter().filter(|c| f(c)).map(|c| c.title.as_str()).collect::<Vec<_>>()
        };
        let (stale, empty) = (names(&|c| c.stale), names(&|c| c.empty));
        let mut line = format!("   {} columns", site.columns.len());
        if !stale.is_empty() {
            line.push_str(&format!(" · {} stale: {}", stale.len(), clip(&stale.join("、"), 60)));
        }
        if !empty.is_empty() {
            line.push_str(&format!(" · {} empty: {}", empty.len(), clip(&empty.join("、"), 60)));
        }
        let _ = writeln!(out, "{line}");
    }
    for f in site.findings.iter().take(FINDINGS_SHOWN) {
        let _ = writeln!(out, "{}", finding_line(f));
    }
    if site.findings.len() > FINDINGS_SHOWN {
        let _ = writeln!(
            out,
            "  {}",
            style(format!("… and {} more findings in the reports", site.findings.len() - FINDINGS_SHOWN)).dim()
        );
    }
    out
}

/// One line summing up a run.
#[must_use]
pub fn summary(results: &crate::Results) -> String {
    let pass = results.sites.iter().filter(|s| s.verdict == "pass").count();
    format!(
        "{} sites: {} pass, {} fail (rubric {}, as of {})",
        results.sites.len(),
        pass,
        results.sites.len() - pass,
        results.rubric.id,
        results.as_of
    )
}
