//! `sitecensus bench --twins N` and `--dictionaries MB`: the accuracy checks at census scale —
//! twin detection over N generated articles of one site, and every page-level dictionary check
//! (spam terms, wrong and inappropriate expressions, typos, personal data, foreign versions) over
//! MB megabytes of page text.

use std::fmt::Write;
use std::time::Instant;

use anyhow::{Result, anyhow};
use sitecensus_checks::Checks;
use sitecensus_checks::twins::{Article, Boilerplate};
use sitecensus_core::Rubric;
use sitecensus_extract::{Options, analyze};
use sitecensus_fixtures::Prose;
use url::Url;

use crate::bench::peak_rss_mb;
use crate::output::say;

/// One in this many generated articles is a planted twin (a copy with its date and a name
/// changed); as many again are hard negatives (one notice template, different substance).
const PLANT_EVERY: usize = 100;

fn date(i: usize) -> String {
    format!("20{:02}-{:02}-{:02}", 14 + i % 10, 1 + i % 12, 1 + i % 28)
}

/// Generates `n` articles: own prose for most, planted twins and template notices among them.
/// Returns the articles and the planted (original, copy) pairs.
fn articles(n: usize) -> (Vec<Article>, Vec<(usize, usize)>) {
    let mut out: Vec<Article> = Vec::with_capacity(n);
    let mut planted = Vec::new();
    let mut prose = Prose::new(2024);
    let footer = "本网站所有信息仅供参考，转载请注明出处。主办单位：示例县人民政府办公室";
    while out.len() < n {
        let i = out.len();
        let text = if i % PLANT_EVERY == PLANT_EVERY - 1 && i > PLANT_EVERY {
            // A twin of an earlier article: the same report with its dates and figures changed.
            let mut original = prose.below(i - 1);
            if original % PLANT_EVERY == PLANT_EVERY - 1 {
                original -= 1; // copies are made of originals only
            }
            planted.push((original, i));
            let copied: String = out[original]
                .text
                .chars()
                .map(|c| c.to_digit(10).and_then(|d| char::from_digit((d + 1) % 10, 10)).unwrap_or(c))
                .collect();
            out.push(Article {
                url: format!("/art/{i}.html"),
                title: prose.title(),
                published: Some(date(i)),
                text: copied,
            });
            continue;
        } else if i % PLANT_EVERY == PLANT_EVERY / 2 {
            // A notice on the shared template, its substance its own.
            let (who, place) = (prose.name(), prose.place());
            format!(
                "根据《城乡居民最低生活保障办法》有关规定，经本人申请、{place}入户调查、民主评议，拟将{who}等{}户家庭纳入城乡低保范围，现予以公示。\n{}\n公示期为五个工作日。如有异议，请在公示期内向县民政局反映。",
                prose.below(40) + 2,
                prose.paragraph(4)
            )
        } else {
            let paragraphs = 3 + prose.below(4);
            let mut t = String::new();
            for _ in 0..paragraphs {
                let sentences = 2 + prose.below(3);
                let p = prose.paragraph(sentences);
                let _ = writeln!(t, "{p}");
            }
            t
        };
        out.push(Article {
            url: format!("/art/{i}.html"),
            title: prose.title(),
            published: Some(date(i)),
            text: format!("{text}\n{footer}"),
        });
    }
    (out, planted)
}

/// Twin detection over `n` generated articles: time, recall on the planted twins, false pairs.
pub fn twins(n: usize) -> Result<()> {
    let checks =
        Checks::new(&Rubric::default_rubric(), chrono::NaiveDate::from_ymd_opt(2024, 7, 10).unwrap_or_default())
            .map_err(|e| anyhow!("{e}"))?;
    let generated = Instant::now();
    let (mut arts, planted) = articles(n);
    let chars: usize = arts.iter().map(|a| a.text.chars().count()).sum();
    let bytes: usize = arts.iter().map(|a| a.text.len()).sum();
    say(
        false,
        &format!(
            "bench: {n} articles generated ({chars} characters, {:.0} MB) in {:.1} s; memory so far {:.0} MB",
            bytes as f64 / 1048576.0,
            generated.elapsed().as_secs_f64(),
            peak_rss_mb().unwrap_or(f64::NAN)
        ),
    );
    let started = Instant::now();
    let boilerplate = Boilerplate::learn(arts.iter().map(|a| a.text.as_str()), 0.2);
    for a in &mut arts {
        a.text = boilerplate.strip(&a.text);
    }
    let findings = checks.twins_among(&arts);
    let secs = started.elapsed().as_secs_f64();
    let index: std::collections::HashMap<&str, usize> =
        arts.iter().enumerate().map(|(i, a)| (a.url.as_str(), i)).collect();
    let mut found: Vec<(usize, usize)> = findings
        .iter()
        .filter_map(|f| {
            let a = *index.get(f.page.as_deref()?)?;
            let b = *index.get(f.detail.get("twin")?.as_str()?)?;
            Some((a.min(b), a.max(b)))
        })
        .collect();
    found.sort_unstable();
    let planted_found = planted.iter().filter(|(a, b)| found.binary_search(&(*a.min(b), *a.max(b))).is_ok()).count();
    say(
        false,
        &format!(
            "bench: twin detection over {n} articles in {secs:.2} s = {:.0} articles/s; {} pairs reported, {planted_found} of {} planted twins found, {} other pairs; peak memory {:.0} MB",
            n as f64 / secs,
            findings.len(),
            planted.len(),
            findings.len() - planted_found,
            peak_rss_mb().unwrap_or(f64::NAN)
        ),
    );
    Ok(())
}

/// A generated page of about 80 KB of text with one of each thing the dictionaries look for,
/// and the hard negatives beside them.
fn page_html(seed: u64) -> String {
    let mut prose = Prose::new(seed);
    let mut body = String::new();
    for k in 0..120 {
        let _ = write!(body, "<p>{}</p>", prose.paragraph(2));
        match k {
            10 => body.push_str("<p>县公安局开展打击网络赌博专项行动，查处利用“百家乐”组织赌博的案件。</p>"),
            30 => body.push_str("<p>活动现场发放《中华人名共和国宪法》读本，会议要求各单位再接再励。</p>"),
            50 => body.push_str(
                "<p>低保对象：张建国，身份证号360102196503121232，电话13912345678；李秀英，身份证号360102197809150049，电话13812345678；王芳，身份证号360102199001010026，电话13712345678。</p>",
            ),
            70 => body.push_str("<p>文号：赣府发〔2024〕12号，编号360102202401010001。</p>"),
            _ => {}
        }
    }
    format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{}_示例县人民政府</title></head><body>\
         <div class=\"nav\"><a href=\"/\">首页</a><a href=\"/xw/\">要闻</a></div>\
         <div class=\"article\"><h2>标题</h2><div class=\"info\">发布时间：2024-07-01</div><div class=\"content\">{body}</div></div>\
         <div class=\"footer\">主办：示例县人民政府办公室</div></body></html>",
        prose.title()
    )
}

/// Every page-level accuracy check over `mb` megabytes of page text.
pub fn dictionaries(mb: usize) -> Result<()> {
    let checks =
        Checks::new(&Rubric::default_rubric(), chrono::NaiveDate::from_ymd_opt(2024, 7, 10).unwrap_or_default())
            .map_err(|e| anyhow!("{e}"))?;
    let opts =
        Options { as_of: chrono::NaiveDate::from_ymd_opt(2024, 7, 10).unwrap_or_default(), homepage: Some(false) };
    let target = mb * 1024 * 1024;
    let (mut bytes, mut pages, mut findings) = (0usize, 0usize, 0usize);
    let mut secs = 0.0;
    let mut seed = 0u64;
    while bytes < target {
        // 64 distinct pages, checked over and over: matching costs the same on every pass.
        let html = page_html(seed % 64);
        let url = Url::parse(&format!("http://www.example.gov.cn/xw/{seed}.html"))?;
        seed += 1;
        let (page, (n, s)) = analyze(html.as_bytes(), Some("text/html; charset=utf-8"), &url, &opts, |p, dom| {
            let started = Instant::now();
            let mut n = 0;
            for _ in 0..16 {
                n += checks.page(p, dom).len();
            }
            (n, started.elapsed().as_secs_f64())
        });
        bytes += 16 * page.text.len();
        pages += 16;
        findings += n;
        secs += s;
    }
    let mbs = bytes as f64 / 1024.0 / 1024.0;
    say(
        false,
        &format!(
            "bench: page checks over {mbs:.0} MB of page text ({pages} pages, {findings} findings) in {secs:.2} s = {:.0} MB/s; peak memory {:.0} MB",
            mbs / secs,
            peak_rss_mb().unwrap_or(f64::NAN)
        ),
    );
    Ok(())
}
