//! Availability (可用性): is the homepage reachable — in this scan, and over a probe window
//! (the official rule: a week of probes, failures ≥ 5 % → veto) — and how slow is it.

use chrono::DateTime;
use serde::Deserialize;
use serde_json::json;
use sitecensus_core::CheckId;
use sitecensus_core::{Finding, Severity};

use crate::Rule;
use crate::model::SiteModel;

/// `availability.unreachable`.
pub const UNREACHABLE: CheckId = CheckId::AvailabilityUnreachable;
/// `availability.slow`.
pub const SLOW: CheckId = CheckId::AvailabilitySlow;
/// `page.unparsable`.
pub const UNPARSABLE: CheckId = CheckId::PageUnparsable;

/// Parameters of `page.unparsable`: none (the budget is the extractor's).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnparsableParams {}

/// `page.unparsable` for a page whose body was cut at the size cap: read in part.
#[must_use]
pub fn truncated(url: &str, bytes: usize, rule: &Rule<UnparsableParams>) -> Finding {
    Finding::new(
        UNPARSABLE,
        rule.severity,
        format!("the page is larger than the {} MB body cap: read up to it", bytes / (1024 * 1024)),
    )
    .zh(format!("页面超过 {} MB 的读取上限：只读取了上限以内的部分", bytes / (1024 * 1024)))
    .page(url.to_owned())
    .detail("read_in_part", true)
    .detail("truncated_at_bytes", bytes)
}

/// `page.unparsable`: a page past the parse budget, not read (or read in part), with why.
#[must_use]
pub fn unparsable(page: &sitecensus_extract::Page, rule: &Rule<UnparsableParams>) -> Option<Finding> {
    let (why, read_in_part) = match (&page.unparsable, &page.parse_note) {
        (Some(why), _) => (why, false),
        (None, Some(note)) => (note, true),
        (None, None) => return None,
    };
    Some(
        Finding::new(UNPARSABLE, rule.severity, format!("the page {}", why))
            .zh(if read_in_part {
                format!("页面超出解析预算，只读取了一部分（{why}）")
            } else {
                format!("页面超出解析预算，未解析（{why}）")
            })
            .page(page.url.clone())
            .detail("read_in_part", read_in_part),
    )
}

/// Thresholds of `availability.unreachable`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnreachableParams {
    /// Days of probes judged.
    pub probe_window_days: u32,
    /// Probes a day the official rule asks for.
    pub min_probes_per_day: u32,
    /// A probe that has not opened the homepage within this many seconds fails.
    pub probe_timeout_secs: u64,
    /// Failure share that vetoes.
    pub failure_ratio: f64,
    /// Failure share that warns.
    pub warn_ratio: f64,
    /// Share of the window (days and probes) stored probes must cover before the probe rule
    /// decides; below it they only warn and the scan's own fetch decides.
    pub window_share: f64,
}

/// Thresholds of `availability.slow`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlowParams {
    /// Seconds beyond which the homepage is slow.
    pub limit_secs: f64,
}

/// Most failed attempts quoted in a finding.
const MAX_QUOTED: usize = 50;

/// The homepage could not be fetched: by the probe window where one is stored, else by this scan.
#[must_use]
pub fn unreachable(site: &SiteModel, rule: &Rule<UnreachableParams>) -> Vec<Finding> {
    let p = &rule.params;
    let url = site.spec.url.as_str();
    if !site.probes.is_empty() {
        let timeout_ms = p.probe_timeout_secs * 1000;
        let failed: Vec<_> = site.probes.iter().filter(|pr| !pr.ok || pr.elapsed_ms >= timeout_ms).collect();
        let total = site.probes.len();
        let ratio = failed.len() as f64 / total as f64;
        let days = probe_days(&site.probes);
        let expected = u64::from(p.probe_window_days) * u64::from(p.min_probes_per_day);
        // The official rule judges a week of probes: a shorter window warns, and this scan's
        // own fetch of the homepage judges as it would without probes.
        let complete =
            days >= f64::from(p.probe_window_days) * p.window_share && total as f64 >= expected as f64 * p.window_share;
        let warning_only = if ratio >= p.failure_ratio && complete {
            false
        } else if ratio >= p.warn_ratio {
            true
        } else if complete {
            return Vec::new();
        } else {
            return scan_rule(site, rule);
        };
        let (window, window_zh) = if complete {
            (String::new(), String::new())
        } else {
            (
                format!(
                    " — the probes cover {days:.1} of the {} days the rule judges, so this is no veto",
                    p.probe_window_days
                ),
                format!("——监测只覆盖了规则要求的 {} 天中的 {days:.1} 天，不作单项否决", p.probe_window_days),
            )
        };
        let quoted: Vec<_> = failed
            .iter()
            .take(MAX_QUOTED)
            .map(|f| json!({"at": f.at, "error": f.error, "elapsed_ms": f.elapsed_ms}))
            .collect();
        let mut out = vec![
            Finding::new(
                UNREACHABLE,
                rule.severity,
                format!(
                    "{} of {total} probes failed ({:.1} %) over {days:.1} days{window}",
                    failed.len(),
                    ratio * 100.0
                ),
            )
            .zh(format!("{days:.1} 天内共监测 {total} 次，{} 次失败（{:.1}%）{window_zh}", failed.len(), ratio * 100.0))
            .at_most_if(warning_only, Severity::Warn)
            .page(url)
            .detail("rule", "probes")
            .detail("probes", total)
            .detail("failures", failed.len())
            .detail("ratio", ratio)
            .detail("window_complete", complete)
            .detail("failed", quoted),
        ];
        if !complete {
            out.extend(scan_rule(site, rule));
        }
        return out;
    }
    scan_rule(site, rule)
}

/// The homepage as this scan fetched it: failed after retries, too slow, or not readable.
fn scan_rule(site: &SiteModel, rule: &Rule<UnreachableParams>) -> Vec<Finding> {
    let p = &rule.params;
    let url = site.spec.url.as_str();
    let Some(h) = &site.homepage else {
        return vec![
            Finding::new(UNREACHABLE, rule.severity, "the homepage was never fetched")
                .zh("首页未能抓取")
                .page(url)
                .detail("rule", "scan"),
        ];
    };
    let too_slow = h.elapsed_ms >= p.probe_timeout_secs * 1000;
    // A site passes only on evidence: a homepage that answered but cannot be opened as a page (a
    // redirect into the inspector's own network, a binary answer, a page past the parse budget)
    // is a homepage no citizen can use either.
    if let Some((why, why_zh)) = unread_homepage(site, h) {
        return vec![
            Finding::new(UNREACHABLE, rule.severity, format!("the homepage answered but cannot be opened: {why}"))
                .zh(format!("首页有响应但无法打开：{why_zh}"))
                .page(url)
                .detail("rule", "unreadable")
                .detail("outcome", h.outcome.describe()),
        ];
    }
    if !h.outcome.is_failure() && !too_slow {
        return Vec::new();
    }
    let (evidence, evidence_zh) = if h.outcome.is_failure() {
        (
            format!("homepage failed after {} attempt(s): {}", h.attempts.len(), h.outcome.describe()),
            format!("首页尝试 {} 次均失败：{}", h.attempts.len(), h.outcome.describe_zh()),
        )
    } else {
        (
            format!("homepage took {} ms, beyond the {} s limit", h.elapsed_ms, p.probe_timeout_secs),
            format!("首页打开用时 {} 毫秒，超过 {} 秒的限值", h.elapsed_ms, p.probe_timeout_secs),
        )
    };
    let attempts: Vec<_> = h
        .attempts
        .iter()
        .map(|a| json!({"at": a.at, "error": a.outcome.describe(), "elapsed_ms": a.elapsed_ms}))
        .collect();
    // A server that offers only TLS 1.0/1.1: refused here as by every current browser, and said so.
    let old_tls = matches!(&h.outcome, sitecensus_core::Outcome::Tls { message } if sitecensus_core::outcome::is_old_tls(message));
    let (evidence, evidence_zh) = if old_tls {
        (
            format!("{evidence} — the server seems to offer only TLS 1.0/1.1, which current browsers refuse too"),
            format!("{evidence_zh}——服务器似乎只支持 TLS 1.0/1.1，当前的浏览器同样拒绝连接"),
        )
    } else {
        (evidence, evidence_zh)
    };
    vec![
        Finding::new(UNREACHABLE, rule.severity, evidence)
            .zh(evidence_zh)
            .page(url)
            .detail("rule", "scan")
            .detail("old_tls", old_tls)
            .detail("attempts", attempts),
    ]
}

/// Why a homepage that did not fail could not be read, if it could not (in English and Chinese).
fn unread_homepage(site: &SiteModel, h: &crate::model::HomepageFetch) -> Option<(String, String)> {
    match &h.outcome {
        sitecensus_core::Outcome::Blocked { reason } => {
            return Some((
                format!("it leads where sitecensus may not go ({reason})"),
                format!("它指向 sitecensus 不得访问的地址（{reason}）"),
            ));
        }
        o if o.is_failure() => return None,
        _ => {}
    }
    // The homepage's stored entry: fetched, but with no page read off it?
    let entry = site.pages.iter().find(|e| e.url == h.final_url || e.final_url == h.final_url || e.url == h.url)?;
    let content_type = h.content_type.as_deref().unwrap_or("no Content-Type");
    match &entry.page {
        None => Some((
            format!("it answers no page that can be read ({content_type}, {} bytes)", h.bytes),
            format!("返回的不是可读取的网页（{content_type}，{} 字节）", h.bytes),
        )),
        Some(p) => p.unparsable.clone().map(|why| (why.clone(), format!("页面超出解析预算，未解析（{why}）"))),
    }
}

fn probe_days(probes: &[crate::model::Probe]) -> f64 {
    let times: Vec<i64> =
        probes.iter().filter_map(|p| DateTime::parse_from_rfc3339(&p.at).ok()).map(|d| d.timestamp()).collect();
    match (times.iter().min(), times.iter().max()) {
        (Some(a), Some(b)) => (b - a) as f64 / 86_400.0,
        _ => 0.0,
    }
}

/// The homepage answered, but slowly.
#[must_use]
pub fn slow(site: &SiteModel, rule: &Rule<SlowParams>) -> Vec<Finding> {
    let Some(h) = &site.homepage else {
        return Vec::new();
    };
    let limit_ms = (rule.params.limit_secs * 1000.0) as u64;
    if h.outcome.is_failure() || h.elapsed_ms < limit_ms {
        return Vec::new();
    }
    vec![
        Finding::new(
            SLOW,
            rule.severity,
            format!("homepage answered in {} ms (limit {} s)", h.elapsed_ms, rule.params.limit_secs),
        )
        .zh(format!("首页响应用时 {} 毫秒（限值 {} 秒）", h.elapsed_ms, rule.params.limit_secs))
        .page(h.url.clone())
        .detail("elapsed_ms", h.elapsed_ms)
        .detail("timings", h.attempts.iter().map(|a| a.elapsed_ms).collect::<Vec<_>>()),
    ]
}
