//! Columns read off real government pages from `tests/corpus`, as a person reads them there.

use sitecensus_core::CheckId;
use std::path::{Path, PathBuf};

use serde_json::Value;
use sitecensus_checks::{Checks, HomepageFetch, PageEntry, SiteModel};
use sitecensus_core::{AsOf, Outcome, Rubric, SiteSpec};
use sitecensus_extract::{Options, extract};
use url::Url;

/// A finding's severity as `score` gives it under the default rubric (the rubric's, within the
/// limit the check set): what a user sees.
fn sev(f: &sitecensus_core::Finding) -> sitecensus_core::Severity {
    static RUBRIC: std::sync::LazyLock<Rubric> = std::sync::LazyLock::new(Rubric::default_rubric);
    RUBRIC.rule(f.check).map_or(f.severity, |r| f.weighed(r.severity))
}

/// The speech the specification ships: in `tests/corpus/spec`, or beside a shared corpus.
fn seed() -> PathBuf {
    let inside = corpus().join("spec/000_f4f639abe7c9dd52.txt");
    if inside.exists() { inside } else { corpus().join("../spec/000_f4f639abe7c9dd52.txt") }
}

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

fn entry(file: &str, url: &str, as_of: &str, depth: u32, homepage: bool) -> PageEntry {
    let bytes = std::fs::read(corpus().join(file)).unwrap();
    let as_of = chrono::NaiveDate::parse_from_str(as_of, "%Y-%m-%d").unwrap();
    let page = extract(&bytes, None, &Url::parse(url).unwrap(), &Options { as_of, homepage: Some(homepage) });
    PageEntry { url: url.into(), final_url: url.into(), depth, outcome: Outcome::Ok { status: 200 }, page: Some(page) }
}

fn site(home: Option<&str>, as_of: &str, pages: Vec<PageEntry>) -> SiteModel {
    let url = home.unwrap_or("http://www.example.gov.cn/");
    SiteModel {
        spec: SiteSpec::from_url(url).unwrap(),
        as_of: AsOf::parse(as_of).unwrap(),
        homepage: home.map(|h| HomepageFetch {
            url: h.into(),
            final_url: h.into(),
            outcome: Outcome::Ok { status: 200 },
            elapsed_ms: 1,
            attempts: vec![],
            content_type: None,
            bytes: 0,
        }),
        pages,
        links: vec![],
        probes: vec![],
        https: None,
    }
}

fn labelled_newest(file: &str) -> String {
    let v: Value = serde_json::from_slice(&std::fs::read(corpus().join(file)).unwrap()).unwrap();
    v["items"].as_array().unwrap().iter().filter_map(|i| i["date"].as_str()).max().unwrap().to_owned()
}

#[test]
fn the_columns_of_a_city_portal_are_its_two_news_lists() {
    let as_of = "2017-10-19";
    let pages = vec![
        entry(
            "gov-pages/list/yytb_yichun-city_zwyw-list_2017-10-14.html",
            "http://www.yichun.gov.cn/zwgk/zwdt/zwyw/",
            as_of,
            2,
            false,
        ),
        entry(
            "gov-pages/list/yytb_yichun-city_xsqdt-list_2017-10-19.html",
            "http://www.yichun.gov.cn/zwgk/zwdt/xsqdt/",
            as_of,
            2,
            false,
        ),
    ];
    let cols = Checks::new(&Rubric::default_rubric(), scan_day()).unwrap().site(&site(None, as_of, pages)).columns;
    let got: Vec<(&str, &str, usize)> = cols.iter().map(|c| (c.title.as_str(), c.kind.as_str(), c.items)).collect();
    // Not on a homepage: listed by address (…/xsqdt/ before …/zwyw/).
    assert_eq!(got, [("县市区动态", "news", 20), ("政务要闻", "news", 20)]);
    assert_eq!(
        cols[0].latest.as_deref(),
        Some(labelled_newest("gov-pages/list/yytb_yichun-city_xsqdt-list_2017-10-19.labels.json").as_str())
    );
    assert_eq!(
        cols[1].latest.as_deref(),
        Some(labelled_newest("gov-pages/list/yytb_yichun-city_zwyw-list_2017-10-14.labels.json").as_str())
    );
    // Five days after the newest item: fresh; three weeks later it is not.
    assert!(cols.iter().all(|c| !c.stale));
    let pages = vec![entry(
        "gov-pages/list/yytb_yichun-city_zwyw-list_2017-10-14.html",
        "http://www.yichun.gov.cn/zwgk/zwdt/zwyw/",
        "2017-11-10",
        2,
        false,
    )];
    let cols =
        Checks::new(&Rubric::default_rubric(), scan_day()).unwrap().site(&site(None, "2017-11-10", pages)).columns;
    assert!(cols[0].stale, "{cols:?}");
}

#[test]
fn a_channel_front_page_names_its_blocks_as_a_person_reads_them() {
    let as_of = "2017-10-15";
    let home = "http://www.cnta.gov.cn/zdgz/";
    let front = entry("gov-pages/homepage/yytb_cnta-central_zdgz-channel-front_2017-10-15.html", home, as_of, 0, true);
    let labels: Value = serde_json::from_slice(
        &std::fs::read(corpus().join("gov-pages/homepage/yytb_cnta-central_zdgz-channel-front_2017-10-15.labels.json"))
            .unwrap(),
    )
    .unwrap();
    let page = front.page.as_ref().unwrap();
    let base = Url::parse(home).unwrap();
    let mut checked = 0;
    for item in labels["items"].as_array().unwrap() {
        let url = base.join(item["href"].as_str().unwrap()).unwrap().to_string();
        let ours = page.items.iter().find(|i| i.url == url).unwrap_or_else(|| panic!("{url} not read"));
        assert_eq!(page.blocks[ours.block].title.as_deref(), item["block"].as_str(), "{url}");
        checked += 1;
    }
    assert_eq!(checked, 108);
    // The lists two of its blocks lead to are columns, named by their blocks.
    let pages = vec![
        front,
        entry(
            "gov-pages/list/yytb_cnta-central_sctg-list_2017-10-15.html",
            "http://www.cnta.gov.cn/zdgz/sctg/",
            as_of,
            1,
            false,
        ),
        entry(
            "gov-pages/list/yytb_cnta-central_lyrc-list_2017-10-12.html",
            "http://www.cnta.gov.cn/zdgz/lyrc/",
            as_of,
            1,
            false,
        ),
    ];
    let cols =
        Checks::new(&Rubric::default_rubric(), scan_day()).unwrap().site(&site(Some(home), as_of, pages)).columns;
    let got: Vec<(&str, usize)> = cols.iter().map(|c| (c.title.as_str(), c.items)).collect();
    assert_eq!(got, [("旅游人才", 20), ("市场推广", 20)]);
}

/// The page-level findings of one corpus file.
fn page_findings(file: &str, url: &str) -> Vec<sitecensus_core::Finding> {
    let bytes = std::fs::read(corpus().join(file)).unwrap();
    let checks = Checks::new(&Rubric::default_rubric(), scan_day()).unwrap();
    let opts = Options { as_of: chrono::NaiveDate::from_ymd_opt(2024, 7, 10).unwrap(), homepage: None };
    sitecensus_extract::analyze(&bytes, None, &Url::parse(url).unwrap(), &opts, |p, dom| checks.page(p, dom)).1
}

/// The corpus's real pages that nobody hacked: government pages, GBK portals, list pages, US
/// government pages (paths relative to the corpus).
fn clean_pages() -> Vec<String> {
    let mut out = Vec::new();
    for folder in [
        "gov-pages/homepage",
        "gov-pages/article",
        "gov-pages/list",
        "encoding/gbk-pages-with-gold-labels",
        "list-pages-nongov",
        "english-gov",
    ] {
        for e in std::fs::read_dir(corpus().join(folder)).unwrap() {
            let path = e.unwrap().path();
            if path.extension().is_some_and(|x| x == "html") {
                out.push(path.strip_prefix(corpus()).unwrap().to_string_lossy().to_string());
            }
        }
    }
    out.sort();
    out
}

fn spam_of(file: &str) -> Option<sitecensus_core::Finding> {
    page_findings(file, "http://www.example.gov.cn/index.html")
        .into_iter()
        .find(|f| f.check == "security.spam_injection")
}

#[test]
fn hacked_pages_and_dark_link_samples_are_spam() {
    for file in [
        "spam-injection/real/hacked-page_pg-gambling-title-cloak.html",
        "spam-injection/real/jxnn-cn_county-news-site_hijacked-gambling-seo.html",
        "spam-injection/synthetic-third-party/pqgc_darklink-techniques-testpage.html",
        "spam-injection/synthetic-third-party/pqgc_school-page-fragment_with-darklink-samples.html",
        "spam-injection/synthetic-third-party/yuanzhao_test_dark_link.html",
    ] {
        let f = spam_of(file).unwrap_or_else(|| panic!("{file}: no spam found"));
        eprintln!("{file}: {} | {:?} {:?}", f.evidence, f.detail["terms"], f.detail["domains"]);
        assert_eq!(sev(&f), sitecensus_core::Severity::Veto, "{file}: {}", f.evidence);
    }
}

/// The speech as a government site publishes an article: template, title, date line, paragraphs.
fn seed_article() -> String {
    let text = std::fs::read_to_string(seed()).unwrap();
    let mut lines = text.lines();
    let title = lines.next().unwrap_or("").trim();
    let paragraphs: String = lines
        .filter(|l| !l.trim().is_empty() && !l.starts_with("发布时间"))
        .map(|l| format!("<p>{}</p>\n", l.trim()))
        .collect();
    format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{title}_中国政府网</title>\
         <meta name=\"ArticleTitle\" content=\"{title}\"><meta name=\"PubDate\" content=\"2024-07-10 09:20\"></head>\
         <body><div class=\"header\"><ul class=\"nav\"><li><a href=\"/\">首页</a></li><li><a href=\"/zhengce/\">政策</a></li>\
         <li><a href=\"/xinwen/\">新闻</a></li></ul></div><div class=\"crumb\">当前位置：<a href=\"/\">首页</a> &gt; <a href=\"/xinwen/\">新闻</a></div>\
         <div class=\"article\"><h1>{title}</h1><div class=\"info\">发布时间：2024-07-10 09:20 来源：中国政府网</div>\
         <div id=\"zoom\">{paragraphs}</div></div><div class=\"footer\">主办单位：国务院办公厅 网站标识码bm01000001</div></body></html>"
    )
}

/// The findings of the page checks over a page's bytes.
fn findings_of(bytes: &[u8], url: &str) -> Vec<sitecensus_core::Finding> {
    let checks = Checks::new(&Rubric::default_rubric(), scan_day()).unwrap();
    let opts = Options { as_of: chrono::NaiveDate::from_ymd_opt(2024, 7, 10).unwrap(), homepage: Some(false) };
    sitecensus_extract::analyze(bytes, None, &Url::parse(url).unwrap(), &opts, |p, d| checks.page(p, d)).1
}

/// The speech this tool answers, scraped from a page whose text a hack polluted with gambling
/// brand names ("k8凯发", "凯时网站" slipped into its sentences), and which reports another site's
/// "今天心情非常的不好！" in quotation marks.
#[test]
fn the_seed_yields_stuffing_with_both_brand_names_and_no_inappropriate_expression() {
    let raw = std::fs::read(seed()).unwrap();
    for (what, bytes) in [("served as an article page", seed_article().into_bytes()), ("read as it is", raw)] {
        let fs = findings_of(&bytes, "http://www.example.gov.cn/xinwen/2024-07/10/content_1.htm");
        let spam =
            fs.iter().find(|f| f.check == "security.spam_injection").unwrap_or_else(|| panic!("{what}: no spam found"));
        eprintln!("{what}: {} {:?}", spam.evidence, spam.detail);
        assert_eq!(sev(spam), sitecensus_core::Severity::Veto, "{what}");
        assert_eq!(spam.detail["kind"], "stuffing", "{what}");
        let terms: Vec<&str> = spam.detail["terms"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
        for brand in ["k8凯发", "凯时网站"] {
            assert!(terms.contains(&brand), "{what}: {brand} not in {terms:?}");
            assert!(spam.evidence.contains(brand), "{what}: the evidence names {brand}: {}", spam.evidence);
        }
        for f in fs.iter().filter(|f| f.check == "accuracy.inappropriate_expression") {
            assert_eq!(sev(f), sitecensus_core::Severity::Info, "{what}: {}", f.evidence);
            assert_eq!(f.detail["reported_speech"], true, "{what}: {}", f.evidence);
        }
    }
}

/// Hard negatives of the brand rule: news of a crackdown that names the crime and even a brand,
/// and a warning list of the dictionary's own words.
#[test]
fn crackdown_news_and_warning_lists_are_not_stuffing() {
    let page = |body: &str| {
        format!(
            "<html><head><title>通知</title></head><body><div class=\"article\"><h1>标题</h1>\
             <div class=\"info\">发布时间：2024-07-01</div><div id=\"zoom\">{body}</div></div></body></html>"
        )
    };
    let crackdown = page(
        "<p>近日，县公安局开展打击跨境赌博专项行动，依法查处一批网络赌博案件，抓获犯罪嫌疑人12名。</p>\
         <p>经查，犯罪嫌疑人通过“凯发娱乐”“太阳城娱乐”等境外赌博网站组织网络赌博，涉案金额巨大。</p>\
         <p>警方提醒广大群众，远离网络赌博，发现线索及时举报。打击赌博、跨境赌博是当前的重点工作。</p>",
    );
    let strong =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../core/rubrics/dict/spam-strong.txt"))
            .unwrap();
    let words: Vec<&str> = strong.lines().filter(|l| !l.is_empty() && !l.starts_with('#')).collect();
    let warning = page(&format!(
        "<p>以下为公安机关通报的非法赌博、色情网站及违规词语，请各单位在信息发布时严格审核，谨防被植入：</p><ol>{}</ol>",
        words.iter().map(|w| format!("<li>{w}</li>")).collect::<String>()
    ));
    let inline = page(&format!("<p>禁止发布含有以下词语的信息：{}。</p>", words.join("、")));
    let company = page(
        "<p>天津凯发电气股份有限公司在我市投资建设的轨道交通装备项目今日开工，凯发电气负责人介绍了项目进展情况。</p>",
    );
    for (what, html) in
        [("crackdown news", crackdown), ("warning list", warning), ("inline warning", inline), ("a company", company)]
    {
        let fs = findings_of(html.as_bytes(), "http://www.example.gov.cn/tzgg/1.html");
        let spam = fs.iter().find(|f| f.check == "security.spam_injection");
        assert!(
            spam.is_none_or(|f| f.severity != sitecensus_core::Severity::Veto),
            "{what}: {:?}",
            spam.map(|f| (&f.evidence, &f.detail))
        );
    }
}

/// A site's own banner that says 今天心情非常的不好 is its own wording; a quotation of it in a
/// sentence that reports it is not.
#[test]
fn a_quoted_expression_is_at_most_info_and_the_sites_own_is_not() {
    let own = "<html><body><marquee>今天心情非常的不好！</marquee><p>欢迎访问本站。</p></body></html>";
    let fs = findings_of(own.as_bytes(), "http://www.example.gov.cn/a.html");
    let f = fs.iter().find(|f| f.check == "accuracy.inappropriate_expression").expect("the banner is found");
    assert_eq!(sev(f), sitecensus_core::Severity::Deduct);
    let both = "<html><body><p>某县网站首页滚动着“今天心情非常的不好！”的文字，引发热议。</p>\
                <p>今天心情非常的不好</p></body></html>";
    let fs = findings_of(both.as_bytes(), "http://www.example.gov.cn/a.html");
    let f: Vec<_> = fs.iter().filter(|f| f.check == "accuracy.inappropriate_expression").collect();
    assert_eq!(f.len(), 1);
    assert_eq!(sev(f[0]), sitecensus_core::Severity::Deduct, "the page's own wording counts: {}", f[0].evidence);
}

#[test]
fn clean_government_pages_are_not_spam() {
    let pages = clean_pages();
    for rel in &pages {
        if let Some(f) = spam_of(rel) {
            assert_ne!(sev(&f), sitecensus_core::Severity::Veto, "{rel}: {} {:?}", f.evidence, f.detail["signals"]);
            eprintln!("{rel}: not spam, noted: {}", f.evidence);
        }
    }
    assert!(pages.len() >= 40, "{}", pages.len());
}

#[test]
fn clean_government_pages_raise_no_false_alarms() {
    let pages = clean_pages();
    for rel in &pages {
        for f in page_findings(rel, "http://www.example.gov.cn/index.html") {
            eprintln!("{rel}: {} {} {}", f.severity.as_str(), f.check, f.evidence);
            match f.check.as_str() {
                "privacy.personal_data" | "accuracy.inappropriate_expression" => panic!("{rel}: {}", f.evidence),
                "accuracy.wrong_expression" => assert_ne!(f.detail["serious"], true, "{rel}: {}", f.evidence),
                _ => {}
            }
        }
    }
    assert!(pages.len() >= 40);
}

/// Every real article of the corpus as one site's pages (each at its own address).
fn real_articles() -> Vec<PageEntry> {
    let mut out = Vec::new();
    for folder in ["gov-pages/article", "encoding/gbk-pages-with-gold-labels"] {
        let mut files: Vec<PathBuf> = std::fs::read_dir(corpus().join(folder))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "html" || x == "htm"))
            .collect();
        files.sort();
        for (i, path) in files.iter().enumerate() {
            let rel = path.strip_prefix(corpus()).unwrap().to_string_lossy().to_string();
            let url = format!("http://www.example.gov.cn/{}/art{i}.html", folder.replace('/', "-"));
            out.push(entry(&rel, &url, "2024-07-10", 2, false));
        }
    }
    out
}

fn twins_of(model: &SiteModel) -> Vec<sitecensus_core::Finding> {
    let checks = Checks::new(&Rubric::default_rubric(), scan_day()).unwrap();
    checks.site(model).findings.into_iter().filter(|f| f.check == "accuracy.twin_articles").collect()
}

#[test]
fn real_articles_are_no_twins_of_one_another_but_a_repost_in_another_template_is() {
    let pages = real_articles();
    let articles = pages
        .iter()
        .filter(|p| p.page.as_ref().is_some_and(|p| p.page_kind == sitecensus_extract::PageKind::Article))
        .count();
    assert!(articles >= 15, "{articles} of {} pages read as articles", pages.len());
    // Three statistical bulletins of one province share their phrasing and differ in figures and
    // places: the hardest negatives here.
    let model = site(None, "2024-07-10", pages.clone());
    let found = twins_of(&model);
    assert!(found.is_empty(), "{found:#?}");

    // The city's article reposted on another template, its date changed.
    let original = pages.iter().find(|p| p.url.contains("gov-pages-article/art0")).unwrap().clone();
    let text = &original.page.as_ref().unwrap().main_text;
    assert!(text.chars().count() > 400, "{text}");
    let body: String = text.lines().map(|l| format!("<p>{l}</p>")).collect();
    let html = format!(
        "<html><head><meta charset=utf-8><title>转发-西岭县人民政府网</title></head><body>\
         <table><tr><td id=logo>西岭县人民政府网</td></tr></table><ul id=menu><li><a href=/>首页</a></li></ul>\
         <div id=content><h1>巴彦淖尔市有关工作情况</h1><p class=meta>发布日期：2024-07-01</p><div id=zoom>{body}</div></div>\
         <div id=foot>西岭县人民政府办公室主办</div></body></html>"
    );
    let url = "http://www.example.gov.cn/xw/repost.html";
    let page = extract(
        html.as_bytes(),
        None,
        &Url::parse(url).unwrap(),
        &Options { as_of: chrono::NaiveDate::from_ymd_opt(2024, 7, 10).unwrap(), homepage: Some(false) },
    );
    let mut with_copy = pages;
    with_copy.push(PageEntry {
        url: url.into(),
        final_url: url.into(),
        depth: 2,
        outcome: Outcome::Ok { status: 200 },
        page: Some(page),
    });
    let found = twins_of(&site(None, "2024-07-10", with_copy));
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].page.as_deref(), Some(url));
    assert_eq!(found[0].detail["twin"], original.url.as_str());
}

/// The findings of one check over a text set as a page's body.
fn text_findings(text: &str, check: &str) -> Vec<sitecensus_core::Finding> {
    let checks = Checks::new(&Rubric::default_rubric(), scan_day()).unwrap();
    let html = format!("<html><head><meta charset=utf-8><title>测试页</title></head><body><p>{text}</p></body></html>");
    let opts = Options { as_of: chrono::NaiveDate::from_ymd_opt(2024, 7, 10).unwrap(), homepage: Some(false) };
    let url = Url::parse("http://www.example.gov.cn/a.html").unwrap();
    sitecensus_extract::analyze(html.as_bytes(), None, &url, &opts, |p, dom| checks.page(p, dom))
        .1
        .into_iter()
        .filter(|f| f.check == check)
        .collect()
}

#[test]
fn the_typo_dictionary_raises_nothing_on_corrected_sentences_of_real_typo_sets() {
    let (mut sentences, mut caught) = (0, 0);
    for file in [
        "wordlists/typo-confusion/pycorrector_ec_law_test.tsv",
        "wordlists/typo-confusion/pycorrector_sighan2015_test.tsv",
    ] {
        let text = std::fs::read_to_string(corpus().join(file)).unwrap();
        // One page per hundred pairs keeps the test fast; a hit names its term, so it is traced.
        let pairs: Vec<(&str, &str)> = text.lines().filter_map(|l| l.split_once('\t')).collect();
        for chunk in pairs.chunks(100) {
            let wrong: String = chunk.iter().map(|(w, _)| *w).collect::<Vec<_>>().join("</p><p>");
            let right: String = chunk.iter().map(|(_, r)| *r).collect::<Vec<_>>().join("</p><p>");
            let false_alarms = text_findings(&right, "accuracy.typo");
            assert!(
                false_alarms.is_empty(),
                "{file}: {:?}",
                false_alarms.iter().map(|f| &f.evidence).collect::<Vec<_>>()
            );
            caught += text_findings(&wrong, "accuracy.typo").len();
            sentences += chunk.len();
        }
    }
    assert!(sentences > 1000, "{sentences}");
    eprintln!("{caught} typo(s) of the dictionary found among {sentences} sentences with typos");
}

#[test]
fn real_english_pages_are_translated_and_a_chinese_page_under_en_is_not() {
    let checks = Checks::new(&Rubric::default_rubric(), scan_day()).unwrap();
    let opts = Options { as_of: chrono::NaiveDate::from_ymd_opt(2024, 7, 10).unwrap(), homepage: Some(false) };
    let run = |file: &str, url: &str| -> Vec<sitecensus_core::Finding> {
        let bytes = std::fs::read(corpus().join(file)).unwrap();
        sitecensus_extract::analyze(&bytes, None, &Url::parse(url).unwrap(), &opts, |p, dom| checks.page(p, dom))
            .1
            .into_iter()
            .filter(|f| f.check == "i18n.untranslated")
            .collect()
    };
    let mut checked = 0;
    for e in std::fs::read_dir(corpus().join("english-gov")).unwrap() {
        let path = e.unwrap().path();
        let rel = path.strip_prefix(corpus()).unwrap().to_string_lossy().to_string();
        assert!(run(&rel, "http://www.example.gov.cn/en/page.html").is_empty(), "{rel}");
        checked += 1;
    }
    assert_eq!(checked, 5);
    let chinese = run(
        "gov-pages/article/cwced_bynr-gov-cn_city_article_2022-02-11.html",
        "http://www.example.gov.cn/en/news1.html",
    );
    assert_eq!(chinese.len(), 1);
    // The same page in the Chinese version is what it should be.
    assert!(
        run("gov-pages/article/cwced_bynr-gov-cn_city_article_2022-02-11.html", "http://www.example.gov.cn/news1.html")
            .is_empty()
    );
}

/// A homepage of the corpus alone, with its links as the site's link targets (as a crawl that
/// checked none of them would have them).
fn homepage_site(file: &str, url: &str) -> SiteModel {
    let home = entry(file, url, "2018-03-22", 0, true);
    let page = home.page.clone().unwrap();
    let links = page
        .links
        .iter()
        .map(|l| sitecensus_checks::LinkTarget {
            url: l.url.clone(),
            kind: l.kind,
            internal: Url::parse(&l.url).is_ok_and(|u| u.host_str() == Url::parse(url).unwrap().host_str()),
            outcome: None,
            sources: vec![sitecensus_checks::LinkSource { page: url.into(), text: l.text.clone(), hidden: l.hidden }],
            total_sources: 1,
        })
        .collect();
    let mut s = site(Some(url), "2018-03-22", vec![home]);
    s.links = links;
    s
}

fn homepage_labels() -> Vec<(String, Value)> {
    let dir = corpus().join("gov-pages/homepage");
    let mut out: Vec<(String, Value)> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".labels.json"))
        .filter_map(|p| {
            let v: Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
            v.get("footer").is_some().then(|| (p.file_name().unwrap().to_string_lossy().replace(".labels.json", ""), v))
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn footers_of_real_homepages_read_as_labelled() {
    let rubric = Rubric::default_rubric();
    let mark: sitecensus_checks::identity::MarkParams = rubric.params(CheckId::IdentityMissingMark).unwrap();
    let labels = homepage_labels();
    assert!(labels.len() >= 9, "{}", labels.len());
    for (domain, v) in labels {
        let site = homepage_site(&format!("gov-pages/homepage/{domain}.html"), &format!("http://www.{domain}/"));
        let page = site.homepage_page().unwrap();
        let f = sitecensus_checks::identity::footer_of(page, Some(&mark));
        let l = &v["footer"];
        let digits = |s: Option<&str>| s.map(|s| s.chars().filter(char::is_ascii_digit).collect::<String>());
        // The code shown in the footer, or (as the labels also record) only in a script attribute.
        let code = f.site_code.clone().or_else(|| page.script_site_code.clone());
        assert_eq!(code.as_deref(), l["site_code"].as_str(), "{domain}: site code");
        assert_eq!(digits(f.icp.as_deref()), digits(l["icp"].as_str()), "{domain}: ICP");
        assert_eq!(digits(f.police_filing.as_deref()), digits(l["police_filing"].as_str()), "{domain}: 公网安备");
        assert_eq!(f.conac_mark, l["conac_mark"].as_bool().unwrap(), "{domain}: 党政机关 mark");
    }
}

#[test]
fn enquiry_channels_of_real_homepages() {
    let rubric = Rubric::default_rubric();
    let p: sitecensus_checks::interaction::MissingParams = rubric.params(CheckId::InteractionMissing).unwrap();
    for (domain, v) in homepage_labels() {
        let site = homepage_site(&format!("gov-pages/homepage/{domain}.html"), &format!("http://www.{domain}/"));
        let found = sitecensus_checks::interaction::channels(&site, &p);
        let entries = v["interaction_entries"].as_array().unwrap();
        eprintln!(
            "{domain}: {} labelled, found {:?}",
            entries.len(),
            found.iter().map(|c| (&c.text, &c.url, &c.problem)).collect::<Vec<_>>()
        );
        // Every labelled entry that really links to an enquiry channel (not a petition or
        // report channel) is found, by its text, alt text or address.
        for e in entries.iter().filter(|e| e["real_link"] == true) {
            let text = e["text"].as_str().unwrap();
            let href = e["href"].as_str().unwrap();
            let enquiry = ["信箱", "咨询", "留言", "征集", "mail", "postZX", "postNew"]
                .iter()
                .any(|w| text.contains(w) || href.contains(w))
                && !["信访", "举报", "热线"].iter().any(|w| text.contains(w));
            if enquiry {
                let abs = Url::parse(&format!("http://www.{domain}/")).unwrap().join(href.trim()).unwrap().to_string();
                assert!(
                    found.iter().any(|c| c.url.as_deref() == Some(abs.as_str())),
                    "{domain}: {text} → {abs} not found"
                );
            }
        }
        // Stubs and pages whose channels are written by scripts show none.
        if entries.is_empty() {
            assert!(found.is_empty(), "{domain}: {found:?}");
        }
    }
}

/// The 2,816 letters and replies of a real 网络问政 platform (泰迪杯 2020, 附件4).
fn mailbox_letters() -> Vec<sitecensus_checks::interaction::Letter> {
    let path = corpus().join("gov-pages/mailbox/tipdm2020c_fujian4_messages-with-replies.extracted.csv");
    let mut r = csv::Reader::from_path(path).unwrap();
    let date = |s: &str| sitecensus_extract::dates::first_full_date(s).map(|f| f.date);
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            sitecensus_checks::interaction::Letter {
                url: format!("letter:{}", &rec[0]),
                title: rec[2].to_owned(),
                asked: date(&rec[3]),
                replied: date(&rec[6]),
                reply: Some(rec[5].trim().to_owned()).filter(|s| !s.is_empty()),
                reply_unit: None,
                status: sitecensus_checks::interaction::Status::Answered,
            }
        })
        .collect()
}

#[test]
fn real_replies_are_mostly_not_stock_and_their_times_are_counted_in_working_days() {
    let rubric = Rubric::default_rubric();
    let p: sitecensus_checks::interaction::BoilerplateParams =
        rubric.params(CheckId::InteractionBoilerplateReply).unwrap();
    let letters = mailbox_letters();
    assert_eq!(letters.len(), 2816);
    assert!(letters.iter().all(|l| l.replied.is_some() && l.reply.is_some()));
    // One letter's time is an Excel serial number (43563.359…), not a date: not read as one.
    assert_eq!(letters.iter().filter(|l| l.asked.is_none()).count(), 1);
    // Greetings that name the asker ("网友“UU008…”：您好！") do not make replies alike: most of
    // these replies answer the letter, so the platform is not reported.
    let (share, _, _) = sitecensus_checks::interaction::boilerplate_share(&letters, &p).unwrap();
    eprintln!("stock share {share}");
    assert!(share < p.max_share, "share {share}");
    assert!(share > 0.0, "some replies there are stock ones: {share}");
    // The same platform answering everything with its most common short reply is reported.
    let stock = "您好，您反映的问题已转交相关部门处理，感谢您的来信。";
    let mostly_stock: Vec<_> = letters
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let mut l = l.clone();
            if i % 4 != 0 {
                l.reply = Some(stock.into());
            }
            l
        })
        .collect();
    let (share, most, _) = sitecensus_checks::interaction::boilerplate_share(&mostly_stock, &p).unwrap();
    assert!(share >= 0.75, "{share}");
    assert_eq!(most, stock);
    // Reply times: counted from the letter's day, holidays of 2019 and 2020 left out.
    let cal = sitecensus_core::WorkCalendar::load("cn-workdays").unwrap();
    let times = sitecensus_checks::interaction::reply_times(&letters, &cal);
    assert_eq!(times.len(), 2815);
    let (median, p90) = sitecensus_checks::interaction::reply_time_figures(&times);
    let (median, p90) = (median.unwrap(), p90.unwrap());
    eprintln!("median {median} p90 {p90}, slowest {}", times[0].0);
    assert!(median >= 1.0 && median <= p90, "{median} {p90}");
    // A median of 8 working days is within the rubric's 10: not slow.
    let slow = sitecensus_checks::Rule {
        severity: sitecensus_core::Severity::Deduct,
        params: rubric.params::<sitecensus_checks::interaction::SlowParams>(CheckId::InteractionSlowReply).unwrap(),
        veto_at: None,
    };
    assert!(sitecensus_checks::interaction::slow(&times, "http://x/", &slow).is_empty());
    let late: Vec<(i64, &sitecensus_checks::interaction::Letter)> = times.iter().map(|(d, l)| (d + 5, *l)).collect();
    assert_eq!(sitecensus_checks::interaction::slow(&late, "http://x/", &slow).len(), 1, "five days later each, it is");
    // Calendar days are never fewer than working days.
    let calendar_days = |l: &sitecensus_checks::interaction::Letter| (l.replied.unwrap() - l.asked.unwrap()).num_days();
    assert!(times.iter().all(|(d, l)| *d <= calendar_days(l).max(0)));
}

#[test]
fn national_meta_tags_of_real_articles() {
    let rubric = Rubric::default_rubric();
    let r = sitecensus_checks::Rule {
        severity: sitecensus_core::Severity::Info,
        params: rubric.params::<sitecensus_checks::identity::MetaParams>(CheckId::IdentityMissingMeta).unwrap(),
        veto_at: None,
    };
    let pages: Vec<PageEntry> = [
        ("gne_fgw-zj_provincial-dept_article_2016-11-22.html", "http://www.zjdpc.gov.cn/art/2016/11/22/art_1.html"),
        (
            "gne_shanxi-gov_provincial_article_2019-09-18.html",
            "http://www.shanxi.gov.cn/yw/sxyw/201909/t20190918_1.shtml",
        ),
        ("cwced_bynr-gov-cn_city_article_2022-02-11.html", "http://www.bynr.gov.cn/xw/2022/art_1.html"),
    ]
    .iter()
    .map(|(f, u)| entry(&format!("gov-pages/article/{f}"), u, "2022-03-01", 2, false))
    .collect();
    let found = sitecensus_checks::identity::missing_meta(&site(None, "2022-03-01", pages), &r);
    let f = &found[0];
    assert_eq!(f.detail["site"]["lacking"], 1, "{f:?}");
    assert_eq!(f.detail["article"]["checked"], 3);
    assert_eq!(f.detail["article"]["lacking"], 0, "all three carry ArticleTitle, PubDate and ContentSource");
    assert_eq!(f.detail["pubdate_malformed"], 0, "PubDate is YYYY-MM-DD HH:MM on all three");
    let samples = f.detail["site"]["samples"].as_array().unwrap();
    // The 浙江 page carries a SiteIDCode tag with nothing in it: a missing code, not a present one.
    assert!(
        samples.iter().any(|s| s.as_str().unwrap().contains("zjdpc") && s.as_str().unwrap().contains("SiteIDCode")),
        "{samples:?}"
    );
}

#[test]
fn a_channel_block_drawn_by_scripts_is_named_with_the_finding() {
    // 北京朝阳's 政民互动 block is filled by zmhd.bjchy.gov.cn scripts: a crawler that runs no
    // scripts sees no channel, and says which scripts may draw one.
    let site = homepage_site("gov-pages/homepage/bjchy.gov.cn.html", "http://www.bjchy.gov.cn/");
    let found = Checks::new(&Rubric::default_rubric(), scan_day()).unwrap().site(&site).findings;
    let f = found.iter().find(|f| f.check == "interaction.missing").unwrap();
    let scripts = f.detail["channel_scripts"].as_array().unwrap();
    assert!(scripts.iter().any(|s| s.as_str().unwrap().contains("zmhd.bjchy.gov.cn")), "{f:?}");
    assert!(f.evidence.contains("may draw one"));
    // Until a browser has looked, that is a warning that says it could not read, not a veto.
    assert_eq!(sev(f), sitecensus_core::Severity::Warn, "{}", f.evidence);
    assert_eq!(f.detail["unreadable"], true);
    // And the scan asks a browser to draw that homepage.
    let checks = Checks::new(&Rubric::default_rubric(), scan_day()).unwrap();
    assert!(checks.render_wanted(site.homepage_page().unwrap(), true));
}

/// 北京丰台's homepage fills every list with homelist4index(…) calls to its own scripts: the
/// static reading finds no dated item and could not read them — not a stale homepage.
#[test]
fn a_homepage_whose_lists_scripts_fill_could_not_be_read_and_is_not_stale() {
    let site = homepage_site("gov-pages/homepage/bjft.gov.cn.html", "http://www.bjft.gov.cn/");
    let home = site.homepage_page().unwrap();
    assert!(!home.has_dated_items());
    assert!(home.drawn_by.iter().any(|d| d.contains("homelist4index")), "{:?}", home.drawn_by);
    let checks = Checks::new(&Rubric::default_rubric(), scan_day()).unwrap();
    assert!(checks.render_wanted(home, true));
    let found = checks.site(&site).findings;
    assert!(found.iter().all(|f| f.check != "freshness.homepage_stale"), "{found:?}");
    let unread = found.iter().find(|f| f.check == "freshness.unreadable").expect("could not read");
    assert_eq!(sev(unread), sitecensus_core::Severity::Warn);
    assert_eq!(unread.detail["homepage"], true);
    // Real homepages that show their dated items are read as they are, drawn or not.
    for (file, url) in [
        ("gov-pages/homepage/bjda.gov.cn.html", "http://www.bjda.gov.cn/"),
        ("gov-pages/homepage/zj.gov.cn.html", "http://www.zj.gov.cn/"),
        ("gov-pages/homepage/alt.gov.cn.html", "http://www.alt.gov.cn/"),
    ] {
        let site = homepage_site(file, url);
        let found = checks.site(&site).findings;
        assert!(found.iter().all(|f| f.check != "freshness.unreadable"), "{file}: {found:?}");
    }
}

/// The CMS families of real government homepages and lists, by their fingerprints; pages of
/// other sites are taken for none (articles are not searched: their site's lists say it).
#[test]
fn cms_families_of_real_pages() {
    let cms = |file: &str, url: &str| entry(file, url, "2018-03-22", 1, false).page.unwrap().cms.map(|m| m.id);
    for (file, url, want) in [
        ("gov-pages/homepage/zj.gov.cn.html", "http://www.zj.gov.cn/", Some("hanweb")),
        (
            "gov-pages/homepage/yytb_cnta-central_zdgz-channel-front_2017-10-15.html",
            "http://www.cnta.gov.cn/zdgz/",
            Some("trs"),
        ),
        ("gov-pages/list/nhp_ordos-engebei_xxgknb-list_2020-09-03.html", "http://www.ordos.gov.cn/xxgk/", Some("trs")),
        (
            "gov-pages/list/yytb_yichun-city_zwyw-list_2017-10-14.html",
            "http://www.yichun.gov.cn/zwgk/zwdt/zwyw/",
            Some("trs"),
        ),
        ("list-pages-nongov/gerapy_rtfund_xxpl.html", "http://www.rtfund.com/xxpl/", None),
        (
            "encoding/gbk-pages-with-gold-labels/cwced_b26fbb82-9d98-42f0-af75-7439c1706bcd.html",
            "http://news.example.com/a.html",
            None,
        ),
    ] {
        assert_eq!(cms(file, url).as_deref(), want, "{file}");
    }
}

#[test]
fn no_real_article_or_list_is_taken_for_a_letter_or_a_service_guide() {
    let rubric = Rubric::default_rubric();
    let guides: sitecensus_checks::services::GuideParams = rubric.params(CheckId::ServiceIncompleteGuide).unwrap();
    let mut read = 0;
    for file in clean_pages().iter().filter(|f| !f.starts_with("gov-pages/homepage")) {
        let e = entry(file, "http://www.example.gov.cn/a/b.html", "2024-07-10", 2, false);
        let page = e.page.unwrap();
        read += 1;
        let letter = sitecensus_checks::interaction::letter_of_page(&page, &rubric.letters);
        assert!(letter.is_none(), "{file} read as a letter: {letter:?} from {:?}", page.fields);
        let guide = sitecensus_checks::services::guide_of(&page, &guides);
        assert!(guide.is_none(), "{file} read as a service guide: {guide:?}");
        assert!(page.fields.len() <= 80 && page.tables.len() <= 4);
    }
    assert!(read >= 30, "{read}");
}

/// The day the checks are prepared for in these tests (a fixed day: checks never read the clock).
fn scan_day() -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2024, 7, 10).unwrap()
}

/// `security.defacement` on the corpus's real homepages: a day's update — every dated item on
/// the homepage replaced by a newer one — keeps the homepage; a defacer's page, a maintenance
/// notice and another site's homepage in its place do not.
#[test]
fn a_replaced_homepage_is_told_from_an_updated_one() {
    use sitecensus_checks::defacement::{Print, marks, replaced, rule};
    let rubric = Rubric::default_rubric();
    let rule = rule(&rubric).unwrap().expect("gov-2019 runs security.defacement");
    let as_of = chrono::NaiveDate::from_ymd_opt(2024, 7, 10).unwrap();
    let read = |html: &[u8], url: &str| {
        extract(html, None, &Url::parse(url).unwrap(), &Options { as_of, homepage: Some(true) })
    };
    let mut homepages = Vec::new();
    for entry in std::fs::read_dir(corpus().join("gov-pages/homepage")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "html") {
            let host = path.file_stem().unwrap().to_string_lossy().into_owned();
            homepages.push((host.clone(), read(&std::fs::read(&path).unwrap(), &format!("http://www.{host}/"))));
        }
    }
    homepages.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(homepages.len() >= 10, "the corpus's homepages");
    let hacked = read(
        "<html><head><title>Hacked by Sh3ll_Team</title></head><body bgcolor=black><center><img src=\"/hacked.gif\">\
         <h1>Hacked By Sh3ll_Team</h1><p>Your security is low. Greetz: all members</p>\
         <a href=\"https://t.me/sh3ll_team\">contact</a></center></body></html>"
            .as_bytes(),
        "http://www.example.gov.cn/",
    );
    let maintenance = read(
        "<html><head><meta charset=utf-8><title>网站维护中</title></head><body><p>网站正在升级维护，暂停访问，敬请谅解。</p></body></html>"
            .as_bytes(),
        "http://www.example.gov.cn/",
    );
    let (mut least_kept, mut judged, mut updated) = (1.0_f64, 0, 0);
    for (i, (host, page)) in homepages.iter().enumerate() {
        let before = Print::of(page, &marks(page));
        if before.marks < rule.params.min_marks {
            // A stub that sends the visitor on by script (12333sh, sh.gov.cn): too little to judge.
            assert_eq!(replaced(&before, &marks(&hacked), &rule), None, "{host}: {} marks", before.marks);
            continue;
        }
        judged += 1;
        assert_eq!(before.kept_in(&marks(page)), 1.0, "{host}: the same page keeps everything");
        // The next day: every dated item replaced by a newer one, its address and its title.
        let mut next = page.clone();
        let items: std::collections::HashSet<&str> = page.items.iter().map(|it| it.url.as_str()).collect();
        updated += usize::from(!items.is_empty());
        for (n, l) in next.links.iter_mut().enumerate() {
            if items.contains(l.url.as_str()) {
                l.url = format!("http://www.{host}/art/2024/7/10/new_{n}.html");
                l.text = format!("{host} 今日新闻第{n}条");
            }
        }
        let kept = before.kept_in(&marks(&next));
        least_kept = least_kept.min(kept);
        assert_eq!(replaced(&before, &marks(&next), &rule), None, "{host}: an update, {kept:.2} kept");
        for (what, other) in [
            ("a defacer's page", &hacked),
            ("a maintenance notice", &maintenance),
            ("another site", &homepages[(i + 1) % homepages.len()].1),
        ] {
            let kept = replaced(&before, &marks(other), &rule);
            assert!(kept.is_some_and(|k| k < rule.params.min_kept / 2.0), "{host}: {what} in its place: {kept:?}");
        }
        let f = sitecensus_checks::defacement::finding(
            &format!("http://www.{host}/"),
            &before,
            &Print::of(&hacked, &marks(&hacked)),
            0.0,
            &rule,
        );
        assert!(f.evidence_zh.as_deref().unwrap().contains("Hacked By Sh3ll_Team"), "{:?}", f.evidence_zh);
        assert_eq!(f.detail["title_now"], "Hacked by Sh3ll_Team");
    }
    eprintln!("least kept by an update: {least_kept:.3}, {judged} homepages judged, {updated} with items");
    assert!(judged >= 8 && updated >= 6, "the corpus's full homepages are judged: {judged}, {updated} with items");
    assert!(least_kept >= 2.0 * rule.params.min_kept, "an update stays well above the line: {least_kept:.3}");
}
