//! The scorecard printed for each site as it finishes: verdict and score, veto items first,
//! then deductions, then the most important findings.

use std::fmt::Write;

use console::style;
use sitecensus_core::{Finding, Severity};

use crate::SiteResult;
use crate::lang::{Label, Lang};

/// Findings listed per site on the terminal; the rest are in the JSON and HTML reports.
pub const FINDINGS_SHOWN: usize = 8;

/// A crawled string shortened for one terminal line, its control characters shown, not sent.
fn clip(s: &str, max: usize) -> String {
    sitecensus_core::text::visible(&sitecensus_core::finding::clip(s, max)).into_owned()
}

fn severity_label(s: Severity, lang: Lang) -> console::StyledObject<String> {
    // Chinese characters take two terminal columns each: 单项否决 takes eight.
    let text = if lang == Lang::Zh { pad_columns(lang.severity(s), 8) } else { format!("{:<6}", s.as_str()) };
    match s {
        Severity::Veto => style(text).red().bold(),
        Severity::Deduct => style(text).yellow(),
        Severity::Warn => style(text).cyan(),
        Severity::Info => style(text).dim(),
    }
}

fn finding_line(f: &Finding, lang: Lang) -> String {
    let at = f.target.as_deref().or(f.page.as_deref()).unwrap_or("");
    let check = check_column(f.check, lang);
    format!(
        "  {} {check} {}  {}",
        severity_label(f.severity, lang),
        clip(lang.evidence(f), 70),
        style(clip(at, 90)).dim()
    )
}

/// A check's name in `lang`, padded to its column of the scorecard.
fn check_column(c: sitecensus_core::CheckId, lang: Lang) -> String {
    pad_columns(lang.check(c), if lang == Lang::Zh { 22 } else { 26 })
}

/// `text` padded with spaces to `columns` terminal columns, a Chinese character counting two.
fn pad_columns(text: &str, columns: usize) -> String {
    let width = console::measure_text_width(text);
    format!("{text}{}", " ".repeat(columns.saturating_sub(width)))
}

/// The scorecard of one site as terminal text in `lang` (colours only where the terminal takes
/// them): veto items first, then deductions, then the figures and the main findings.
#[must_use]
pub fn scorecard(site: &SiteResult, lang: Lang) -> String {
    let mut out = String::new();
    let name = clip(site.name.as_deref().unwrap_or(""), 80);
    let url = clip(&site.url, 200);
    let region = site.region.as_deref().map(sitecensus_core::region::label);
    let level = site.level.as_deref().map(|l| lang.level(l));
    let where_ = clip(&[level, region.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(", "), 60);
    let _ = writeln!(
        out,
        "{} {} {}{}",
        style("━━").dim(),
        style(name).bold(),
        style(url).underlined(),
        if where_.is_empty() { String::new() } else { format!("  ({where_})") }
    );
    let verdict = if site.verdict == "pass" {
        style(lang.t(Label::Pass)).green().bold()
    } else {
        style(lang.t(Label::Fail)).red().bold()
    };
    let _ = writeln!(out, "   {verdict}  {} {:.1}", lang.t(Label::Score), site.score);
    for v in &site.veto_items {
        let found = match lang {
            Lang::Zh => format!("（{} {}）", v.count, lang.t(Label::Found)),
            Lang::En => format!("  ({}, {} {})", v.check, v.count, lang.t(Label::Found)),
        };
        let _ = writeln!(out, "   {} {}{found}", style(lang.t(Label::Veto)).red(), v.item);
    }
    for d in &site.deductions {
        let check = check_column(d.check, lang);
        let _ = writeln!(
            out,
            "   {} {check} ×{:<4} −{:.2}{}  {}",
            style(lang.t(Label::Deduct)).yellow(),
            d.count,
            d.points,
            if d.capped { lang.t(Label::Capped) } else { "" },
            d.item
        );
    }
    let _ = writeln!(
        out,
        "   {} {}, {} {} · {} {} ({} {}) · {:.1} s",
        site.stats.pages_fetched,
        lang.t(Label::PagesLine),
        site.stats.pages_failed,
        lang.t(Label::FailedLine),
        site.stats.links_checked,
        lang.t(Label::LinksLine),
        site.stats.links_broken,
        lang.t(Label::BrokenLine),
        site.stats.duration_ms as f64 / 1000.0
    );
    let (read, unreadable) = (site.stats.attachments_read, site.stats.attachments_unreadable);
    if read + unreadable > 0 {
        let (read_line, unread_line) = match lang {
            Lang::Zh => ("个附件已检查个人信息", "个无法读取（见 stats.attachments_unreadable_examples）"),
            Lang::En => (
                "attachment(s) read for personal data",
                "could not be read (see stats.attachments_unreadable_examples)",
            ),
        };
        let _ = write!(out, "   {read} {read_line}");
        if unreadable > 0 {
            let _ = write!(out, " · {unreadable} {unread_line}");
        }
        out.push('\n');
    }
    if site.has("interaction") {
        let fig = |k| site.figure("interaction", k);
        let template = if lang == Lang::Zh {
            "   信件：读取 {} 件，已回复 {}，超期未回复 {} · 回复用时中位数 {} / 90% {} 个工作日 · 万能回复 {} · 渠道 {}/{} 可用"
        } else {
            "   letters: {} read, {} replied, {} unanswered past the window · reply median {} / p90 {} working days · {} stock replies · channels {}/{} working"
        };
        let _ = writeln!(
            out,
            "{}",
            fill(
                template,
                &[
                    fig("letters"),
                    fig("replied"),
                    fig("unanswered"),
                    fig("median_working_days"),
                    fig("p90_working_days"),
                    fig("boilerplate_share"),
                    fig("channels_working"),
                    fig("channels"),
                ]
            )
        );
    }
    if site.has("guides") && site.figure("guides", "read") != "0" {
        let template = if lang == Lang::Zh {
            "   办事指南：读取 {} 篇，要素不全 {} 篇"
        } else {
            "   service guides: {} read, {} incomplete"
        };
        let _ =
            writeln!(out, "{}", fill(template, &[site.figure("guides", "read"), site.figure("guides", "incomplete")]));
    }
    if site.has("https") {
        let line = match (site.figure("https", "ok") == "yes", lang) {
            (true, Lang::Zh) => format!("HTTPS 证书有效期至 {}", site.figure("https", "not_after")),
            (true, Lang::En) => format!("HTTPS valid until {}", site.figure("https", "not_after")),
            (false, Lang::Zh) => format!("无有效 HTTPS：{}", clip(&site.figure("https", "error"), 80)),
            (false, Lang::En) => format!("no valid HTTPS: {}", clip(&site.figure("https", "error"), 80)),
        };
        let _ = writeln!(out, "   {line}");
    }
    if !site.columns.is_empty() {
        let names = |f: &dyn Fn(&sitecensus_checks::Column) -> bool| {
            site.columns.iter().filter(|c| f(c)).map(|c| c.title.as_str()).collect::<Vec<_>>()
        };
        let (stale, empty, unread) = (names(&|c| c.stale), names(&|c| c.empty), names(&|c| c.unreadable));
        let zh = lang == Lang::Zh;
        let mut line = format!("   {} {}", site.columns.len(), if zh { "个栏目" } else { "columns" });
        if !stale.is_empty() {
            let label = if zh { "未更新" } else { "stale" };
            line.push_str(&format!(" · {} {label}: {}", stale.len(), clip(&stale.join("、"), 60)));
        }
        if !empty.is_empty() {
            let label = if zh { "空白" } else { "empty" };
            line.push_str(&format!(" · {} {label}: {}", empty.len(), clip(&empty.join("、"), 60)));
        }
        if !unread.is_empty() {
            let label = if zh { "无法读取（脚本绘制）" } else { "could not read (drawn by scripts)" };
            line.push_str(&format!(" · {} {label}: {}", unread.len(), clip(&unread.join("、"), 60)));
        }
        let _ = writeln!(out, "{line}");
    }
    for f in site.findings.iter().take(FINDINGS_SHOWN) {
        let _ = writeln!(out, "{}", finding_line(f, lang));
    }
    if site.findings.len() > FINDINGS_SHOWN {
        let _ = writeln!(
            out,
            "  {}",
            style(format!("… +{} {}", site.findings.len() - FINDINGS_SHOWN, lang.t(Label::More))).dim()
        );
    }
    out
}

/// One line summing up a run, in `lang`.
#[must_use]
pub fn summary(results: &crate::Results, lang: Lang) -> String {
    let pass = results.sites.iter().filter(|s| s.verdict == "pass").count();
    let (n, id, as_of) = (results.sites.len(), &results.rubric.id, &results.as_of);
    match lang {
        Lang::Zh => format!("{n} 个网站：{pass} 个合格，{} 个不合格（评估指标 {id}，评估日期 {as_of}）", n - pass),
        Lang::En => format!("{n} sites: {pass} pass, {} fail (rubric {id}, as of {as_of})", n - pass),
    }
}

/// Most repeated errors listed on the terminal.
const REPEATED_SHOWN: usize = 5;

/// The census lines of a run of several sites (by level, vetoes by item, errors found on many
/// sites) and the rectification totals when the run was compared with an earlier one; empty for
/// a single site that was not compared.
#[must_use]
pub fn census(results: &crate::Results, lang: Lang) -> String {
    let mut out = String::new();
    let sm = &results.summary;
    let zh = lang == Lang::Zh;
    if results.sites.len() > 1 {
        let levels: Vec<String> = sm
            .by_level
            .iter()
            .map(|g| {
                let key = lang.level(&g.key);
                format!("{key} {}/{} ({:.0} %, {:.1})", g.pass, g.sites, g.pass_rate * 100.0, g.mean_score)
            })
            .collect();
        if !levels.is_empty() {
            let _ = writeln!(out, "{}: {}", if zh { "按级别" } else { "by level" }, levels.join(" · "));
        }
        let mut vetoes: Vec<(&String, &usize)> = sm.all.veto_items.iter().collect();
        vetoes.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        if !vetoes.is_empty() {
            let list: Vec<String> = vetoes.iter().map(|(item, n)| format!("{item} {n}")).collect();
            let _ = writeln!(out, "{}: {}", if zh { "单项否决（网站数）" } else { "vetoes (sites)" }, list.join(" · "));
        }
        for r in sm.repeated.iter().take(REPEATED_SHOWN) {
            let _ = writeln!(
                out,
                "{}: {} 「{}」 {} {}",
                if zh { "多站同错" } else { "on many sites" },
                lang.check(r.check),
                clip(&r.what, 60),
                r.count,
                if zh { "个网站" } else { "sites" }
            );
        }
    }
    if let Some(c) = &results.comparison {
        let t = &c.totals;
        let _ = writeln!(
            out,
            "{} {}: {} {} · {} {} · {} {} · {} {} · {} {}",
            if zh { "与上轮比较" } else { "compared with run" },
            c.against_run.map_or_else(|| c.against_as_of.clone(), |r| r.to_string()),
            t.fixed,
            lang.t(Label::Fixed),
            t.new,
            lang.t(Label::New),
            t.persisting,
            lang.t(Label::Persisting),
            t.rectified,
            lang.t(Label::Rectified),
            t.regressed,
            if zh { "新不合格" } else { "regressed" }
        );
    }
    out
}

/// Fills the `{}` of a template with `values` in order.
fn fill(template: &str, values: &[String]) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut parts = template.split("{}");
    out.push_str(parts.next().unwrap_or(""));
    for (part, v) in parts.zip(values.iter().map(String::as_str).chain(std::iter::repeat(""))) {
        out.push_str(v);
        out.push_str(part);
    }
    out
}
