//! The site-level checks of issue 2 over hand-built site models: what fires, what does not.

use sitecensus_checks::{AttemptRecord, Checks, HomepageFetch, LinkSource, LinkTarget, Probe, SiteModel};
use sitecensus_core::CheckId;
use sitecensus_core::{AsOf, Finding, LinkKind, Outcome, Rubric, Severity, SiteSpec};

/// A finding's severity as `score` gives it under the default rubric (the rubric's, within the
/// limit the check set): what a user sees.
fn sev(f: &sitecensus_core::Finding) -> sitecensus_core::Severity {
    static RUBRIC: std::sync::LazyLock<Rubric> = std::sync::LazyLock::new(Rubric::default_rubric);
    RUBRIC.rule(f.check).map_or(f.severity, |r| f.weighed(r.severity))
}

fn site() -> SiteModel {
    SiteModel {
        spec: SiteSpec::from_url("http://www.a.gov.cn/").unwrap(),
        as_of: AsOf::parse("2024-07-10").unwrap(),
        homepage: Some(HomepageFetch {
            url: "http://www.a.gov.cn/".into(),
            final_url: "http://www.a.gov.cn/index.html".into(),
            outcome: Outcome::Ok { status: 200 },
            elapsed_ms: 300,
            attempts: vec![],
            content_type: None,
            bytes: 0,
        }),
        pages: vec![],
        links: vec![],
        probes: vec![],
        https: None,
    }
}

fn target(url: &str, kind: LinkKind, outcome: Outcome, from: &str) -> LinkTarget {
    LinkTarget {
        url: url.into(),
        kind,
        internal: true,
        outcome: Some(outcome),
        sources: vec![LinkSource { page: from.into(), text: "办事指南".into(), hidden: false }],
        total_sources: 1,
    }
}

fn checks() -> Checks {
    Checks::new(&Rubric::default_rubric(), scan_day()).unwrap()
}

fn of<'a>(fs: &'a [Finding], id: &str) -> Vec<&'a Finding> {
    fs.iter().filter(|f| f.check == id).collect()
}

#[test]
fn broken_links_and_downloads_are_reported_once_each_with_where_they_were_seen() {
    let mut s = site();
    s.links = vec![
        target(
            "http://www.a.gov.cn/gone.html",
            LinkKind::Page,
            Outcome::HttpError { status: 404 },
            "http://www.a.gov.cn/index.html",
        ),
        target(
            "http://www.a.gov.cn/form.doc",
            LinkKind::Download,
            Outcome::HttpError { status: 500 },
            "http://www.a.gov.cn/col/1.html",
        ),
        target(
            "http://www.a.gov.cn/soft.html",
            LinkKind::Page,
            Outcome::SoftNotFound { status: 200, reason: "the page says \"页面不存在\"".into() },
            "http://www.a.gov.cn/col/1.html",
        ),
        target(
            "http://www.a.gov.cn/ok.html",
            LinkKind::Page,
            Outcome::Ok { status: 200 },
            "http://www.a.gov.cn/index.html",
        ),
        target("http://www.a.gov.cn/admin/", LinkKind::Page, Outcome::Robots, "http://www.a.gov.cn/index.html"),
        target(
            "http://10.0.0.1/",
            LinkKind::Page,
            Outcome::Blocked { reason: "private".into() },
            "http://www.a.gov.cn/index.html",
        ),
    ];
    let fs = checks().site(&s).findings;
    // The link into a private address was refused, not found broken: said for information.
    let refused: Vec<_> = of(&fs, "links.broken").into_iter().filter(|f| f.detail.contains_key("refused")).collect();
    assert_eq!(refused.len(), 1);
    assert_eq!(sev(refused[0]), Severity::Info);
    assert_eq!(refused[0].target.as_deref(), Some("http://10.0.0.1/"));
    let broken: Vec<_> = of(&fs, "links.broken").into_iter().filter(|f| !f.detail.contains_key("refused")).collect();
    assert_eq!(broken.len(), 2, "{broken:#?}");
    let home = broken.iter().find(|f| f.target.as_deref() == Some("http://www.a.gov.cn/gone.html")).unwrap();
    assert_eq!(home.detail["on_homepage"], true);
    assert_eq!(home.page.as_deref(), Some("http://www.a.gov.cn/index.html"));
    assert!(home.evidence.contains("HTTP 404") && home.evidence.contains("办事指南"), "{}", home.evidence);
    let soft = broken.iter().find(|f| f.target.as_deref() == Some("http://www.a.gov.cn/soft.html")).unwrap();
    assert_eq!(soft.detail["on_homepage"], false);
    assert!(soft.detail["soft404"].as_str().unwrap().contains("页面不存在"));
    let dl = of(&fs, "service.broken_download");
    assert_eq!(dl.len(), 1);
    assert_eq!(dl[0].target.as_deref(), Some("http://www.a.gov.cn/form.doc"));
}

#[test]
fn an_unreachable_homepage_is_a_veto_with_every_attempt() {
    let mut s = site();
    s.homepage = Some(HomepageFetch {
        url: "http://www.a.gov.cn/".into(),
        final_url: "http://www.a.gov.cn/".into(),
        outcome: Outcome::Timeout { after_ms: 15000 },
        elapsed_ms: 15000,
        attempts: (0..3)
            .map(|i| AttemptRecord {
                at: format!("2024-07-10T00:00:0{i}+08:00"),
                outcome: Outcome::Timeout { after_ms: 15000 },
                elapsed_ms: 15000,
            })
            .collect(),
        content_type: None,
        bytes: 0,
    });
    let fs = checks().site(&s).findings;
    let u = of(&fs, "availability.unreachable");
    assert_eq!(u.len(), 1);
    assert_eq!(sev(u[0]), Severity::Veto);
    assert_eq!(u[0].detail["attempts"].as_array().unwrap().len(), 3);
    assert!(of(&checks().site(&site()).findings, "availability.unreachable").is_empty());
}

/// `total` probes spread over the week the rule judges (every 50 minutes from 2024-07-03),
/// the first `failed` of them failed.
fn probes(total: usize, failed: usize) -> Vec<Probe> {
    probes_every(total, failed, 50)
}

fn probes_every(total: usize, failed: usize, minutes: i64) -> Vec<Probe> {
    let start = chrono::DateTime::parse_from_rfc3339("2024-07-03T00:00:00+08:00").unwrap();
    (0..total)
        .map(|i| Probe {
            at: (start + chrono::Duration::minutes(minutes * i as i64)).to_rfc3339(),
            ok: i >= failed,
            elapsed_ms: 100,
            error: (i < failed).then(|| "timed out".to_owned()),
        })
        .collect()
}

#[test]
fn the_probe_window_decides_by_the_official_five_percent() {
    let mut s = site();
    s.probes = probes(200, 20);
    let u = checks().site(&s).findings;
    let u = of(&u, "availability.unreachable");
    assert_eq!(u.len(), 1, "10 % fails");
    assert_eq!(sev(u[0]), Severity::Veto);
    assert_eq!(u[0].detail["failures"], 20);
    s.probes = probes(200, 2);
    assert!(of(&checks().site(&s).findings, "availability.unreachable").is_empty(), "1 % passes");
    s.probes = probes(200, 7);
    let w = checks().site(&s).findings;
    assert_eq!(sev(of(&w, "availability.unreachable")[0]), Severity::Warn, "3.5 % warns");
    // With probes stored, a failed homepage in this one scan does not override the window.
    s.probes = probes(200, 0);
    s.homepage.as_mut().unwrap().outcome = Outcome::Connect { message: "refused".into() };
    assert!(of(&checks().site(&s).findings, "availability.unreachable").is_empty());
}

#[test]
fn probes_that_do_not_cover_the_week_warn_and_the_scan_judges() {
    let mut s = site();
    // Fifty probes a minute apart, five failed: 10 %, over less than an hour.
    s.probes = probes_every(50, 5, 1);
    let fs = checks().site(&s).findings;
    let u = of(&fs, "availability.unreachable");
    assert_eq!(u.len(), 1);
    assert_eq!(sev(u[0]), Severity::Warn, "{}", u[0].evidence);
    assert_eq!(u[0].detail["window_complete"], false);
    assert!(u[0].evidence.contains("no veto"), "{}", u[0].evidence);
    // The scan's own failed fetch still decides as it would without probes.
    s.homepage.as_mut().unwrap().outcome = Outcome::Connect { message: "refused".into() };
    let fs = checks().site(&s).findings;
    assert!(of(&fs, "availability.unreachable").iter().any(|f| sev(f) == Severity::Veto));
}

#[test]
fn a_slow_homepage_warns() {
    let mut s = site();
    s.homepage.as_mut().unwrap().elapsed_ms = 7000;
    let fs = checks().site(&s).findings;
    assert_eq!(of(&fs, "availability.slow").len(), 1);
    assert_eq!(sev(of(&fs, "availability.slow")[0]), Severity::Warn);
}

#[test]
fn every_placeholder_of_the_rubric_makes_a_column_empty() {
    let rubric = Rubric::default_rubric();
    let placeholders: Vec<String> =
        rubric.params::<sitecensus_checks::freshness::EmptyParams>(CheckId::ContentEmptyColumn).unwrap().placeholders;
    assert!(placeholders.len() >= 10);
    let mut s = site();
    s.pages.clear();
    for (i, ph) in placeholders.iter().enumerate() {
        let url = format!("http://www.a.gov.cn/col{i}/");
        let html = format!(
            "<html><head><meta charset=utf-8><title>栏目{i}</title><meta name=ColumnName content=\"栏目{i}\"></head>\
             <body><div class=nav><a href=/>首页</a></div><div class=list><h2>栏目{i}</h2><p>{ph}</p></div></body></html>"
        );
        let page = sitecensus_extract::extract(
            html.as_bytes(),
            None,
            &url::Url::parse(&url).unwrap(),
            &sitecensus_extract::Options { as_of: s.as_of.date(), homepage: Some(false) },
        );
        s.pages.push(sitecensus_checks::PageEntry {
            url: url.clone(),
            final_url: url.clone(),
            depth: 1,
            outcome: Outcome::Ok { status: 200 },
            page: Some(page),
        });
        // The homepage links to each as a navigation entry.
    }
    let mut home = sitecensus_extract::extract(
        b"<html><body><div class=nav></div></body></html>",
        None,
        &url::Url::parse("http://www.a.gov.cn/index.html").unwrap(),
        &sitecensus_extract::Options { as_of: s.as_of.date(), homepage: Some(true) },
    );
    for i in 0..placeholders.len() {
        home.links.push(sitecensus_extract::Link {
            url: format!("http://www.a.gov.cn/col{i}/"),
            text: format!("栏目{i}"),
            kind: LinkKind::Page,
            hidden: false,
            nav: true,
            via: None,
        });
    }
    s.pages.push(sitecensus_checks::PageEntry {
        url: "http://www.a.gov.cn/index.html".into(),
        final_url: "http://www.a.gov.cn/index.html".into(),
        depth: 0,
        outcome: Outcome::Ok { status: 200 },
        page: Some(home),
    });
    let a = checks().site(&s);
    let found: Vec<&str> = a
        .findings
        .iter()
        .filter(|f| f.check == "content.empty_column" && !f.detail.contains_key("summary"))
        .filter_map(|f| f.detail["placeholder"].as_str())
        .collect();
    assert_eq!(found.len(), placeholders.len(), "{found:?}");
    for ph in &placeholders {
        assert!(found.contains(&ph.as_str()), "{ph} not recognised");
    }
}

#[test]
fn a_term_on_every_page_is_one_finding_of_the_template() {
    let fs: Vec<Finding> = (0..12)
        .map(|i| {
            Finding::new(CheckId::AccuracyInappropriateExpression, Severity::Deduct, "「测试测试」 in the banner")
                .page(format!("http://www.a.gov.cn/{i}.html"))
                .detail("term", "测试测试")
        })
        .chain(std::iter::once(Finding::new(CheckId::LinksBroken, Severity::Deduct, "HTTP 404")))
        .collect();
    let out = sitecensus_checks::collapse_repeats(fs);
    assert_eq!(out.len(), 2);
    assert_eq!(out[0].detail["pages_count"], 12);
    assert_eq!(out[0].detail["other_pages"].as_array().unwrap().len(), 5);
}

#[test]
fn https_findings_say_why_and_note_a_certificate_about_to_end() {
    let report = |ok: bool, error: Option<&str>, not_after: &str| sitecensus_core::HttpsReport {
        address: "www.a.gov.cn:443".into(),
        ok,
        error: error.map(str::to_owned),
        not_before: Some("2024-01-01T00:00:00+00:00".into()),
        not_after: Some(not_after.into()),
        issuer: Some("CN=Test CA".into()),
    };
    let run = |r: Option<sitecensus_core::HttpsReport>| {
        let mut s = site();
        s.https = r;
        of(&checks().site(&s).findings, "security.no_https").into_iter().cloned().collect::<Vec<_>>()
    };
    assert!(run(None).is_empty(), "not probed: nothing said");
    assert!(run(Some(report(true, None, "2025-07-01T00:00:00+00:00"))).is_empty(), "valid for a year");
    let soon = run(Some(report(true, None, "2024-07-20T00:00:00+00:00")));
    assert_eq!(sev(&soon[0]), Severity::Warn, "ten days left: a warning, not a deduction");
    assert_eq!(soon[0].detail["expires_in_days"], 10);
    let expired =
        run(Some(report(false, Some("invalid certificate: certificate expired"), "2024-06-01T00:00:00+00:00")));
    assert_eq!(sev(&expired[0]), Severity::Deduct);
    assert!(expired[0].evidence.contains("expired"));
    assert_eq!(expired[0].detail["not_after"], "2024-06-01T00:00:00+00:00");
    assert_eq!(expired[0].detail["issuer"], "CN=Test CA");
}

#[test]
fn an_unread_homepage_is_not_judged_for_channels_services_or_footer() {
    let mut s = site();
    s.homepage.as_mut().unwrap().outcome = Outcome::Timeout { after_ms: 15_000 };
    let found = checks().site(&s).findings;
    for id in ["interaction.missing", "service.missing", "identity.missing_site_code", "mobile.not_adapted"] {
        assert!(of(&found, id).is_empty(), "{id}");
    }
}

#[test]
fn a_body_without_public_services_is_exempt_from_service_missing() {
    let mut s = site();
    let page: sitecensus_extract::Page = serde_json::from_value(serde_json::json!({
        "url": "http://www.a.gov.cn/index.html", "encoding": "UTF-8", "encoding_source": "meta",
        "title": "首页", "page_kind": "homepage", "published": null, "meta": {}, "viewport": null,
        "items": [], "blocks": [], "links": [], "invalid_links": [], "images": [], "forms": [],
        "breadcrumb": [], "main_text": "", "footer_text": "", "text_chars": 10
    }))
    .unwrap();
    s.pages.push(sitecensus_checks::PageEntry {
        url: "http://www.a.gov.cn/".into(),
        final_url: "http://www.a.gov.cn/index.html".into(),
        depth: 0,
        outcome: Outcome::Ok { status: 200 },
        page: Some(page),
    });
    assert_eq!(of(&checks().site(&s).findings, "service.missing").len(), 1, "a homepage that offers nothing");
    s.spec.meta.insert("services".into(), "否".into());
    assert!(of(&checks().site(&s).findings, "service.missing").is_empty(), "the site list says it has none to offer");
}

#[test]
fn a_letter_is_unanswered_only_on_evidence() {
    let labels = Rubric::default_rubric().letters;
    let letter = |fields: &[(&str, &str)]| {
        let page: sitecensus_extract::Page = serde_json::from_value(serde_json::json!({
            "url": "http://www.a.gov.cn/xj/1.html", "encoding": "UTF-8", "encoding_source": "meta",
            "title": "路灯不亮_某区", "page_kind": "article", "published": null, "meta": {}, "viewport": null,
            "items": [], "blocks": [], "links": [], "invalid_links": [], "images": [], "forms": [],
            "breadcrumb": [], "main_text": "", "footer_text": "", "text_chars": 10,
            "fields": fields.iter().map(|(l, v)| serde_json::json!({"label": l, "value": v})).collect::<Vec<_>>()
        }))
        .unwrap();
        sitecensus_checks::interaction::letter_of_page(&page, &labels)
    };
    use sitecensus_checks::interaction::Status;
    let asked = [("来信人", "王**"), ("来信时间", "2024-01-05"), ("来信内容", "路灯不亮")];
    assert_eq!(letter(&asked).unwrap().status, Status::Unknown, "no status and no reply part: unknown");
    let mut waiting = asked.to_vec();
    waiting.push(("回复内容", "正在办理中"));
    assert_eq!(letter(&waiting).unwrap().status, Status::Pending, "a reply part that says it is being handled");
    let mut answered = asked.to_vec();
    answered.push(("办理状态", "办理中"));
    answered.push(("答复意见", "已安排维修，现已恢复照明。"));
    assert_eq!(letter(&answered).unwrap().status, Status::Answered, "a reply outweighs a stale status");
    assert_eq!(letter(&[("来信内容", "没有来信人和时间")]), None, "not a letter");
    let rule = sitecensus_checks::Rule {
        severity: Severity::Veto,
        params: sitecensus_checks::interaction::UnansweredParams {
            window_days: 365,
            max_days: 92,
            warn_days: Some(78),
        },
        veto_at: Some(1),
    };
    let as_of = chrono::NaiveDate::from_ymd_opt(2024, 7, 10).unwrap();
    let found =
        sitecensus_checks::interaction::unanswered(&[letter(&asked).unwrap(), letter(&waiting).unwrap()], as_of, &rule);
    assert_eq!(found.len(), 1, "only the letter whose page says it waits");
    assert_eq!(found[0].weighed(Severity::Veto), Severity::Veto, "187 days: past the 92-day window");
    let day = |m, d| chrono::NaiveDate::from_ymd_opt(2024, m, d).unwrap();
    let waiting = [letter(&waiting).unwrap()];
    // Asked on 5 January: 78 days on 23 March, 92 on 6 April.
    assert!(sitecensus_checks::interaction::unanswered(&waiting, day(3, 23), &rule).is_empty(), "not yet at the line");
    let soon = sitecensus_checks::interaction::unanswered(&waiting, day(3, 24), &rule);
    assert_eq!(soon.len(), 1, "past the warning line");
    assert_eq!(soon[0].weighed(Severity::Veto), Severity::Warn, "an early warning, not a veto");
    assert_eq!(soon[0].detail["days_left"], 13);
    assert!(soon[0].evidence_zh.as_deref().unwrap().contains("还剩 13 天"), "{:?}", soon[0].evidence_zh);
    let last = sitecensus_checks::interaction::unanswered(&waiting, day(4, 6), &rule);
    assert_eq!(last[0].weighed(Severity::Veto), Severity::Warn, "92 days is not past 92");
    let late = sitecensus_checks::interaction::unanswered(&waiting, day(4, 7), &rule);
    assert_eq!(late[0].weighed(Severity::Veto), Severity::Veto, "93 days: failed");
}

#[test]
fn a_homepage_on_old_tls_is_unreachable_and_says_why() {
    let mut s = site();
    s.homepage.as_mut().unwrap().outcome = Outcome::Tls { message: "received fatal alert: ProtocolVersion".into() };
    let found = checks().site(&s).findings;
    let f = of(&found, "availability.unreachable");
    assert_eq!(f[0].detail["old_tls"], true);
    assert!(f[0].evidence.contains("TLS 1.0/1.1"), "{}", f[0].evidence);
    s.homepage.as_mut().unwrap().outcome = Outcome::Tls { message: "invalid peer certificate: UnknownIssuer".into() };
    let found = checks().site(&s).findings;
    assert_eq!(of(&found, "availability.unreachable")[0].detail["old_tls"], false);
}

/// The day the checks are prepared for in these tests (a fixed day: checks never read the clock).
fn scan_day() -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2024, 7, 10).unwrap()
}

/// The checks take "today" from the scan's as-of date, never from the clock: an ID number of
/// someone born in 2025 is no ID number on a page judged as of 2024, and is one as of 2026.
#[test]
fn the_day_a_scan_is_for_decides_not_the_clock() {
    fn with_check(first17: &str) -> String {
        const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
        let sum: u32 = first17.bytes().zip(W).map(|(d, w)| u32::from(d - b'0') * w).sum();
        format!("{first17}{}", b"10X98765432"[(sum % 11) as usize] as char)
    }
    let ids: Vec<String> =
        ["36092220250301123", "36092220250302456", "36092220250303789"].iter().map(|s| with_check(s)).collect();
    let text = format!("姓名,身份证号\n张三,{}\n李四,{}\n王五,{}\n", ids[0], ids[1], ids[2]);
    let on = |y, m, d| {
        Checks::new(&Rubric::default_rubric(), chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap())
            .unwrap()
            .attachment("http://www.a.gov.cn/files/mingdan.csv", &text)
    };
    assert!(on(2024, 7, 10).is_empty());
    assert_eq!(on(2026, 1, 1).len(), 1);
}

/// A misspelt parameter is refused when the checks are prepared, naming the file and line where
/// it is written — in the rubric itself, inline, or in the rubric it extends — never silently
/// replaced by the default.
#[test]
fn a_misspelt_parameter_is_refused_with_its_file_and_line() {
    let today = chrono::NaiveDate::from_ymd_opt(2024, 7, 10).unwrap();
    let refused = |rubric: &Rubric| Checks::new(rubric, today).err().map(|e| e.to_string()).unwrap_or_default();
    let head = "extends = \"gov-2019\"\nid = \"mine\"\ntitle = \"t\"\npass_mark = 60\n\n";
    let text = format!("{head}[checks.\"freshness.homepage_stale\"]\nseverity = \"veto\"\nmax_dayz = 3\n");
    let err = refused(&Rubric::parse(&text, "mine.toml").unwrap());
    assert!(err.starts_with("mine.toml:8: check freshness.homepage_stale: unknown field `max_dayz`"), "{err}");
    let text = format!("{head}[checks]\n\"freshness.homepage_stale\" = {{ severity = \"veto\", max_dayz = 3 }}\n");
    let err = refused(&Rubric::parse(&text, "inline.toml").unwrap());
    assert!(err.starts_with("inline.toml:7:") && err.contains("max_dayz"), "{err}");
    // The misspelling sits in the base rubric; the child only changes another check.
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base.toml");
    let gov =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../core/rubrics/gov-2019.toml"))
            .unwrap()
            .replacen("soft404_messages", "soft404_mesages", 1);
    std::fs::write(&base, &gov).unwrap();
    let line = gov.lines().position(|l| l.starts_with("soft404_mesages")).unwrap() + 1;
    let child = format!(
        "extends = \"{}\"\nid = \"child\"\ntitle = \"t\"\npass_mark = 60\n\n[checks.\"availability.slow\"]\nseverity = \"warn\"\nlimit_secs = 9\n",
        base.display()
    );
    let err = refused(&Rubric::parse(&child, "child.toml").unwrap());
    assert!(
        err.starts_with(&format!("{}:{line}: check links.broken: unknown field `soft404_mesages`", base.display())),
        "{err}"
    );
    // Spelt right, the same rubrics prepare.
    assert!(
        Checks::new(
            &Rubric::parse(&format!("{head}[checks.\"freshness.homepage_stale\"]\nseverity = \"veto\"\n"), "ok.toml")
                .unwrap(),
            today
        )
        .is_ok()
    );
}
