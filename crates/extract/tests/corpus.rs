//! The page model over real pages from `tests/corpus`, checked against their hand labels:
//! dated items of government homepages and column lists, article dates, titles and encodings of
//! GBK pages, and the link sets that lychee's and LinkChecker's own fixtures expect.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde_json::Value;
use sitecensus_extract::{Options, Page, PageKind, extract};
use url::Url;

fn corpus() -> PathBuf {
    let dir = std::env::var_os("SITECENSUS_CORPUS")
        .map_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/corpus"), PathBuf::from);
    assert!(
        dir.join("SOURCES.md").exists(),
        "the corpus is not at {} (tests/corpus, or SITECENSUS_CORPUS)",
        dir.display()
    );
    dir
}

fn read(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn page(path: &Path, url: &str, as_of: &str, homepage: Option<bool>) -> Page {
    let as_of = NaiveDate::parse_from_str(as_of, "%Y-%m-%d").unwrap();
    extract(&read(path), None, &Url::parse(url).unwrap(), &Options { as_of, homepage })
}

struct Score {
    labelled: usize,
    found: usize,
    wrong_date: Vec<String>,
    missing: Vec<String>,
}

/// Compares our items with labelled (href, date) pairs; both resolved against `base`.
fn compare(p: &Page, labels: &[(String, Option<String>)], base: &Url) -> Score {
    let ours: BTreeMap<String, Option<String>> = p.items.iter().map(|i| (i.url.clone(), i.date.clone())).collect();
    let mut s = Score { labelled: 0, found: 0, wrong_date: vec![], missing: vec![] };
    for (href, date) in labels {
        let Some(date) = date else { continue };
        let Ok(u) = sitecensus_core::urlnorm::resolve(base, href) else {
            continue;
        };
        s.labelled += 1;
        match ours.get(u.as_str()) {
            Some(Some(d)) if d == date => s.found += 1,
            Some(d) => s.wrong_date.push(format!("{u} ours {d:?} label {date}")),
            None => s.missing.push(format!("{u} {date}")),
        }
    }
    s
}

fn strip_comments(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(i) = rest.find("<!--") {
        out.push_str(&rest[..i]);
        match rest[i..].find("-->") {
            Some(j) => rest = &rest[i + j + 3..],
            None => return out,
        }
    }
    out.push_str(rest);
    out
}

#[test]
fn column_list_pages_give_their_labelled_items() {
    let dir = corpus().join("gov-pages/list");
    let mut total = (0, 0);
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if !path.to_string_lossy().ends_with(".labels.json") {
            continue;
        }
        let html = PathBuf::from(path.to_string_lossy().replace(".labels.json", ".html"));
        let labels: Value = serde_json::from_slice(&read(&path)).unwrap();
        let name = html.file_name().unwrap().to_string_lossy().to_string();
        let as_of = name.rsplit('_').next().unwrap().trim_end_matches(".html").to_owned();
        let base = Url::parse("http://www.example.gov.cn/col/list/index.html").unwrap();
        let p = page(&html, base.as_str(), &as_of, Some(false));
        let pairs: Vec<(String, Option<String>)> = labels["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| (i["href"].as_str().unwrap().to_owned(), i["date"].as_str().map(str::to_owned)))
            .collect();
        let s = compare(&p, &pairs, &base);
        eprintln!(
            "{name}: {}/{} kind={:?} missing={:?} wrong={:?}",
            s.found, s.labelled, p.page_kind, s.missing, s.wrong_date
        );
        assert!(s.found * 10 >= s.labelled * 9, "{name}: only {}/{} labelled items read", s.found, s.labelled);
        assert_eq!(p.page_kind, PageKind::List, "{name}");
        // The label's title ends with the trail a person reads: "(首页 > 政务公开 > 政务要闻)".
        let title = labels["title"].as_str().unwrap();
        if let Some(trail) = title.rsplit_once('(').map(|(_, t)| t.trim_end_matches(')')).filter(|t| t.contains('>')) {
            let want: Vec<&str> = trail.split('>').map(str::trim).filter(|s| !s.is_empty()).collect();
            let ours: Vec<&str> = p.breadcrumb.iter().map(|c| c.text.as_str()).collect();
            assert!(ours.ends_with(&want), "{name}: breadcrumb {ours:?}, a person reads {want:?}");
        }
        total.0 += s.found;
        total.1 += s.labelled;
    }
    eprintln!("lists: {}/{}", total.0, total.1);
    assert!(total.1 >= 150);
}

#[test]
fn government_homepages_give_their_labelled_dated_items() {
    let dir = corpus().join("gov-pages/homepage");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if !path.to_string_lossy().ends_with(".labels.json") {
            continue;
        }
        let html = PathBuf::from(path.to_string_lossy().replace(".labels.json", ".html"));
        let labels: Value = serde_json::from_slice(&read(&path)).unwrap();
        let name = html.file_name().unwrap().to_string_lossy().to_string();
        let (base, as_of) = match labels["domain"].as_str() {
            Some(d) => (Url::parse(&format!("http://www.{d}/")).unwrap(), "2018-03-22".to_owned()),
            None => (Url::parse("http://www.cnta.gov.cn/zdgz/").unwrap(), "2017-10-15".to_owned()),
        };
        let p = page(&html, base.as_str(), &as_of, Some(true));
        let items = labels.get("dated_items").or_else(|| labels.get("items")).and_then(Value::as_array).unwrap();
        // Entries inside HTML comments are not on the page a visitor sees; the labels kept some.
        let visible_source = strip_comments(&String::from_utf8_lossy(&read(&html)));
        // Years that only the record ids or id order reveal are beyond a page reader; the rest must match.
        let pairs: Vec<(String, Option<String>)> = items
            .iter()
            .filter(|i| !matches!(i["year_basis"].as_str(), Some("record-id-timestamp" | "article-id-ordering")))
            .filter(|i| visible_source.contains(i["href"].as_str().unwrap_or("")))
            .map(|i| (i["href"].as_str().unwrap().to_owned(), i["date"].as_str().map(str::to_owned)))
            .collect();
        let s = compare(&p, &pairs, &base);
        let labelled_urls: HashSet<String> = items
            .iter()
            .filter_map(|i| sitecensus_core::urlnorm::resolve(&base, i["href"].as_str()?).ok().map(|u| u.to_string()))
            .collect();
        let extra: Vec<&str> = p
            .items
            .iter()
            .filter(|i| {
                i.date.is_some()
                    && i.date_source != Some(sitecensus_extract::DateSource::Url)
                    && !labelled_urls.contains(&i.url)
            })
            .map(|i| i.url.as_str())
            .collect();
        eprintln!(
            "{name}: {}/{} dated items, {} extra dated, newest ours {:?} label {:?}\n   missing={:?}\n   wrong={:?}\n   extra={:?}",
            s.found,
            s.labelled,
            extra.len(),
            p.newest_item_date(),
            labels.get("newest_date"),
            s.missing,
            s.wrong_date,
            extra
        );
        assert!(s.found * 10 >= s.labelled * 9, "{name}: only {}/{} labelled dated items read", s.found, s.labelled);
        // Dates a reader does not take for items' publication dates are not items' dates (a date
        // only the address carries counts as undated, the official rule).
        assert!(extra.is_empty(), "{name}: dated items a person does not read as dated: {extra:?}");
        match labels.get("newest_date") {
            Some(Value::String(newest)) => {
                assert_eq!(p.newest_item_date(), Some(newest.as_str()), "{name}: newest date")
            }
            Some(Value::Null) => assert_eq!(p.newest_item_date(), None, "{name}: the page shows no dated item"),
            _ => {}
        }
    }
}

/// Character-bigram F1 between two texts (spaces ignored): how much of the gold main text we kept.
fn bigram_f1(ours: &str, gold: &str) -> f64 {
    fn grams(s: &str) -> std::collections::HashMap<(char, char), usize> {
        let cs: Vec<char> = s.chars().filter(|c| !c.is_whitespace()).collect();
        let mut m = std::collections::HashMap::new();
        for w in cs.windows(2) {
            *m.entry((w[0], w[1])).or_insert(0) += 1;
        }
        m
    }
    let (a, b) = (grams(ours), grams(gold));
    let common: usize = a.iter().map(|(k, n)| (*n).min(*b.get(k).unwrap_or(&0))).sum();
    let (na, nb) = (a.values().sum::<usize>(), b.values().sum::<usize>());
    if na == 0 || nb == 0 {
        return 0.0;
    }
    let (p, r) = (common as f64 / na as f64, common as f64 / nb as f64);
    if p + r == 0.0 { 0.0 } else { 2.0 * p * r / (p + r) }
}

/// (page, gold date, gold main text) for every page of a folder that has gold labels.
fn gold_pages(folder: &str) -> Vec<(PathBuf, Option<String>, Option<String>)> {
    let dir = corpus().join(folder);
    let mut out = Vec::new();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for path in entries {
        if path.extension().is_none_or(|e| e != "html") {
            continue;
        }
        let stem = path.to_string_lossy().trim_end_matches(".html").to_owned();
        let date = std::fs::read_to_string(format!("{stem}.gold-date.txt")).ok().map(|s| s.trim().to_owned());
        let text = std::fs::read_to_string(format!("{stem}.gold-cleaned.txt")).ok();
        out.push((path, date, text));
    }
    out
}

#[test]
fn gbk_pages_decode_and_give_their_labelled_dates_and_text() {
    let pages = gold_pages("encoding/gbk-pages-with-gold-labels");
    assert!(pages.len() >= 15, "expected the 15 labelled GBK pages");
    let (mut dates_ok, mut dated, mut f1_sum, mut texts) = (0, 0, 0.0, 0);
    for (path, date, text) in &pages {
        let p = page(path, "http://news.example.com.cn/a/2005/article.html", "2024-07-10", Some(false));
        let name = path.file_name().unwrap().to_string_lossy();
        assert!(["GBK", "gb18030"].contains(&p.encoding.as_str()), "{name}: read as {}", p.encoding);
        let replacement = p.text.chars().filter(|&c| c == '\u{FFFD}').count();
        assert!(replacement * 1000 <= p.text.chars().count().max(1), "{name}: {replacement} undecodable characters");
        assert!(
            !p.title.is_empty() && p.title.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
            "{name}: title {:?}",
            p.title
        );
        if let Some(d) = date.as_deref().filter(|d| *d != "UNKNOWN") {
            dated += 1;
            let ours = p.published.as_deref().unwrap_or("");
            let gold = NaiveDate::parse_from_str(d.split_whitespace().next().unwrap(), "%Y-%m-%d").unwrap();
            if ours.get(..10) == Some(gold.format("%Y-%m-%d").to_string().as_str()) {
                dates_ok += 1;
            } else {
                eprintln!("{name}: published ours {ours:?} gold {d:?}");
            }
        }
        if let Some(t) = text {
            let f1 = bigram_f1(&p.main_text, t);
            eprintln!(
                "{name}: main text F1 {f1:.2} (ours {} chars, gold {})",
                p.main_text.chars().count(),
                t.chars().count()
            );
            f1_sum += f1;
            texts += 1;
        }
    }
    eprintln!("GBK pages: dates {dates_ok}/{dated}, mean main-text F1 {:.2}", f1_sum / f64::from(texts));
    assert!(dates_ok * 10 >= dated * 8, "dates {dates_ok}/{dated}");
    assert!(f1_sum / f64::from(texts) >= 0.7, "main text F1 {:.2}", f1_sum / f64::from(texts));
}

#[test]
fn government_articles_give_their_dates_titles_and_text() {
    let pages = gold_pages("gov-pages/article");
    assert!(pages.len() >= 8);
    for (path, date, text) in &pages {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        // The file names carry the labelled publication date: …_article_2022-02-11.html.
        let from_name = name.split('_').find_map(|s| {
            let s = s.trim_end_matches(".html");
            (s.len() == 10 && NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok()).then(|| s.to_owned())
        });
        let p = page(path, "http://www.example.gov.cn/art/info.html", "2024-07-10", Some(false));
        let expected = date.clone().or(from_name);
        eprintln!(
            "{name}: kind {:?} title {:?} published {:?} expected {:?} meta {:?}",
            p.page_kind,
            p.title,
            p.published,
            expected,
            p.meta.get("PubDate")
        );
        assert_eq!(p.encoding, "UTF-8", "{name}");
        assert_eq!(p.page_kind, PageKind::Article, "{name}");
        if let Some(e) = expected {
            assert_eq!(p.published.as_deref().and_then(|d| d.get(..10)), Some(&e[..10]), "{name}");
        }
        if let Some(t) = text {
            let f1 = bigram_f1(&p.main_text, t);
            eprintln!("   main text F1 {f1:.2}");
            assert!(f1 >= 0.8, "{name}: main text F1 {f1:.2}");
        }
    }
}

fn links_of(path: &Path, base: &str) -> (Vec<String>, Page) {
    let p = page(path, base, "2024-07-10", Some(false));
    (p.links.iter().map(|l| l.url.clone()).collect(), p)
}

#[test]
fn lychee_fixtures_give_the_links_lychee_expects() {
    let dir = corpus().join("link-checker/lychee");
    let (links, _) = links_of(&dir.join("TEST_HTML5.html"), "https://example.com/");
    for u in [
        "https://example.com/body/a",
        "https://example.com/body/div_empty_a",
        "https://example.com/css/style_full_url.css",
        "https://example.com/css/style_relative_url.css",
        "https://example.com/images/icon.png",
    ] {
        assert!(links.contains(&u.to_owned()), "TEST_HTML5: {u} missing from {links:?}");
    }
    // Unlike lychee we keep scripts (a broken script is a broken page) and leave out rel=home.
    assert!(links.contains(&"https://example.com/js/script.js".to_owned()));

    let (links, _) = links_of(&dir.join("TEST_HTML5_LOWERCASE_DOCTYPE.html"), "https://example.com/");
    assert_eq!(links, ["https://example.com/body/a"]);

    let (links, _) = links_of(&dir.join("TEST_HTML5_MINIFIED.html"), "https://example.com/");
    for u in [
        "https://example.com/favicon.ico",
        "https://example.com/docs/",
        "https://example.com/",
        "https://example.com/forum",
    ] {
        assert!(links.contains(&u.to_owned()), "MINIFIED: {u} missing from {links:?}");
    }
    assert!(!links.iter().any(|l| l.contains("fonts.externalsite.com")), "preconnect is no link");

    let (links, p) = links_of(&dir.join("TEST_HTML5_MALFORMED_LINKS.html"), "https://example.com/");
    assert_eq!(links, ["https://example.com/valid"]);
    assert_eq!(p.invalid_links.len(), 2, "both malformed hrefs are reported as invalid: {:?}", p.invalid_links);

    let (links, _) = links_of(&dir.join("LINK_PERIOD.html"), "https://example.com/");
    assert_eq!(links, ["https://www.example.com/smth."]);

    let (links, _) = links_of(&dir.join("TEST_DATA_URIS.html"), "http://localhost/");
    assert_eq!(links, ["http://localhost/assets/img/bg-water.webp"]);

    // URLs written as text in pre/code/samp/kbd/var/script are not links; an anchor inside <pre>
    // is still a clickable link, so unlike lychee's default we keep that one.
    let (links, _) = links_of(&dir.join("TEST_VERBATIM.html"), "http://www.example.com/");
    assert_eq!(links, ["http://www.example.com/pre/a"]);

    for entry in std::fs::read_dir(dir.join("invalid_utf8")).unwrap() {
        let p = page(&entry.unwrap().path(), "http://localhost/", "2024-07-10", Some(false));
        assert!(!p.encoding.is_empty());
    }
    let sitemap = std::fs::read_to_string(dir.join("sitemap/sitemap.xml")).unwrap();
    assert_eq!(sitecensus_extract::sitemap::parse(&sitemap, 100).unwrap().urls.len(), 2);
    let not = std::fs::read_to_string(dir.join("sitemap/not-a-sitemap.xml")).unwrap();
    assert!(sitecensus_extract::sitemap::parse(&not, 100).is_err(), "not-a-sitemap.xml gives a warning, not URLs");
}

/// One link of a LinkChecker `.result` file: the URL as written, and its resolved form
/// (None where LinkChecker could not parse it).
fn linkchecker_expected(result: &str, base_dir: &str) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    let mut url = None;
    for line in result.lines() {
        if let Some(u) = line.strip_prefix("url ") {
            url = Some(u.replace("%%", "%"));
        } else if let Some(k) = line.strip_prefix("cache key ") {
            let key = (k != "None").then(|| {
                let k = k.replace("%%", "%");
                let k = k
                    .replace("file://%(curdir)s/%(datadir)s/", base_dir)
                    .replace("http://localhost:%(port)d/%(datadir)s/", base_dir)
                    .replace("http://localhost:%(port)d/tests/checker/data/", base_dir)
                    .replace("http://localhost:%(port)d/", "http://localhost:8080/");
                k.split('#').next().unwrap().to_owned()
            });
            out.push((url.take().unwrap_or_default(), key));
        }
    }
    // The first entry is the page itself.
    if !out.is_empty() {
        out.remove(0);
    }
    out
}

fn pct_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned()
}

#[test]
fn linkchecker_fixtures_give_the_links_linkchecker_expects() {
    let dir = corpus().join("link-checker/linkchecker");
    // Constructs LinkChecker follows that no visitor of a government site ever clicks or loads:
    // dns-prefetch hints, <applet>, the appcache manifest, formaction, url() inside style
    // attributes, <object codebase>, clsid: pseudo-URLs.
    let not_links: &[(&str, &str)] = &[
        ("http.html", "file.html"),
        ("http.html", "file.css"),
        ("http.html", "file.asc"),
        ("http.html", "file.txt"),
        ("http.html", "http://example.org/foo/ #a=1,2,3"),
        ("html5.html", "file.css"),
        ("html5.html", "file.php"),
    ];
    let mut checked = 0;
    for name in [
        "base1.html",
        "base2.html",
        "base4.html",
        "frames.html",
        "misc.html",
        "html5.html",
        "http.html",
        "http_slash.html",
        "http_lowercase.html",
        "http_quotes.html",
        "http_empty.html",
        "empty.html",
        "utf8.html",
        "http_utf8.html",
        "file.html",
        "charsets/cp1250.html",
        "charsets/iso8859-2.html",
        "charsets/utf8.html",
        "urlencoding_anchor.html",
    ] {
        let sub = name.rsplit_once('/').map_or("", |(d, _)| d);
        let base_dir = if sub.is_empty() {
            "http://localhost:8080/data/".to_owned()
        } else {
            format!("http://localhost:8080/data/{sub}/")
        };
        let result = std::fs::read_to_string(dir.join(format!("{name}.result"))).unwrap();
        let expected = linkchecker_expected(&result, "http://localhost:8080/data/");
        let leaf = name.rsplit('/').next().unwrap();
        let (links, p) = links_of(&dir.join(name), &format!("{base_dir}{leaf}"));
        for (raw, key) in expected {
            match key {
                Some(k) if k.starts_with("http") && !not_links.contains(&(name, raw.as_str())) => {
                    // LinkChecker escapes some characters browsers leave alone (& in a path); compare decoded.
                    let decoded: Vec<String> = links.iter().map(|l| pct_decode(l)).collect();
                    assert!(
                        decoded.contains(&pct_decode(&k)),
                        "{name}: expected link {k} (written {raw:?}) in {links:?}"
                    );
                    checked += 1;
                }
                None => {
                    assert!(!links.iter().any(|l| l == &raw), "{name}: unparseable {raw:?} taken as a link");
                    assert!(
                        p.invalid_links.iter().any(|i| i.href == raw),
                        "{name}: {raw:?} not reported invalid: {:?}",
                        p.invalid_links
                    );
                    checked += 1;
                }
                _ => {}
            }
        }
    }
    assert!(checked >= 30, "only {checked} expectations checked");
}

#[test]
fn pages_that_declare_gb2312_but_are_utf8_are_read_as_utf8() {
    for rel in
        ["encoding/gne_people-com-cn_meta-gb2312-but-utf8-bytes.html", "list-pages-nongov/gerapy_rtfund_xxpl.html"]
    {
        let p = page(&corpus().join(rel), "http://www.example.com.cn/a.html", "2024-07-10", Some(false));
        assert_eq!(p.encoding, "UTF-8", "{rel}");
        assert_eq!(p.encoding_source, sitecensus_extract::decode::EncodingSource::Overruled, "{rel}");
        assert!(!p.text.contains('\u{FFFD}'), "{rel}: mojibake");
    }
}

#[test]
fn announcement_lists_outside_government_give_their_newest_dates() {
    // Newest dates as SOURCES.md lists them for these pages.
    for (file, newest, as_of) in [
        ("gerapy_dfa66_announcement.html", "2020-07-02", "2020-07-10"),
        ("gerapy_hrfund_announcement.html", "2020-04-30", "2020-07-10"),
        ("gerapy_hsqhfunds_announcement.html", "2020-07-02", "2020-07-10"),
        ("gerapy_rtfund_xxpl.html", "2020-07-09", "2020-07-10"),
    ] {
        let p = page(
            &corpus().join("list-pages-nongov").join(file),
            "http://www.example.com.cn/gg/index.html",
            as_of,
            Some(false),
        );
        let dated = p.items.iter().filter(|i| i.date.is_some()).count();
        eprintln!("{file}: {dated} dated items, newest {:?}, kind {:?}", p.newest_item_date(), p.page_kind);
        assert!(dated >= 10, "{file}: {dated} dated items");
        assert_eq!(p.newest_item_date(), Some(newest), "{file}");
    }
}
