//! The accuracy checks over a fixture site that has each problem once, beside its hard negative.

use sitecensus_core::CheckId;
use std::sync::Arc;

use sitecensus_core::{Finding, Rubric, Severity, SiteSpec};
use sitecensus_fixtures::serve_site;
use sitecensus_report::SiteResult;
use sitecensus_scan::{Silent, scan};

mod common;

use common::{of, pages};

async fn scan_accuracy() -> (SiteResult, String) {
    common::scan_fixture("accuracy", common::options()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_accuracy_problem_is_found_and_no_hard_negative_is() {
    let (s, base) = scan_accuracy().await;
    for f in &s.findings {
        eprintln!("{} {} {} {}", f.severity.as_str(), f.check, f.page.as_deref().unwrap_or(""), f.evidence);
    }
    // Spam: the hacked article only — not the crackdown news, not the hidden mobile menu.
    let spam = of(&s, "security.spam_injection");
    let confirmed: Vec<&Finding> = spam.iter().copied().filter(|f| f.detail["confirmed"] == true).collect();
    assert_eq!(pages(&confirmed, &base), ["/news/hacked.html"]);
    assert!(confirmed[0].detail["domains"].as_array().unwrap().iter().any(|d| d == "www.pgdz-casino.com"));
    assert!(s.vetoes.contains(&CheckId::SecuritySpamInjection));

    // Twins: the reposted report, once, with the changed name and date; not the template notices.
    let twins = of(&s, "accuracy.twin_articles");
    assert_eq!(twins.len(), 1, "{twins:#?}");
    assert_eq!(twins[0].page.as_deref().map(|p| p.replace(&base, "")), Some("/news/twin-b.html".to_owned()));
    assert_eq!(twins[0].detail["twin"].as_str().map(|p| p.replace(&base, "")), Some("/news/twin-a.html".to_owned()));
    assert!(twins[0].evidence.contains("王明 → 李强"), "{}", twins[0].evidence);

    // Wrong expressions: the serious misspelling is a veto; the outdated name only on a page
    // published after the change; a correct phrase containing a wrong one passes.
    let wrong = of(&s, "accuracy.wrong_expression");
    let terms: Vec<(&str, String)> = wrong
        .iter()
        .map(|f| (f.detail["term"].as_str().unwrap(), f.page.as_deref().unwrap().replace(&base, "")))
        .collect();
    assert!(terms.contains(&("中华人名共和国", "/news/wrong.html".to_owned())), "{terms:?}");
    assert!(terms.contains(&("国家工商行政管理总局", "/news/wrong.html".to_owned())));
    assert!(!terms.iter().any(|(_, p)| p == "/news/old.html"), "the 2016 page used the name of its day");
    assert!(!terms.iter().any(|(t, _)| *t == "农业部"), "农业部门 is no outdated name");
    assert!(s.vetoes.contains(&CheckId::AccuracyWrongExpression));
    let serious = wrong.iter().find(|f| f.detail["term"] == "中华人名共和国").unwrap();
    assert!(serious.evidence.contains("中华人民共和国") && serious.evidence.contains("宪法"), "{}", serious.evidence);

    // Inappropriate text: the mood in the homepage marquee and a template placeholder.
    let inap = of(&s, "accuracy.inappropriate_expression");
    assert!(inap.iter().any(|f| f.detail["term"] == "今天心情非常的不好"), "{inap:#?}");
    assert!(inap.iter().any(|f| f.detail["term"] == "${title}"));

    // A typo, for information.
    let typo = of(&s, "accuracy.typo");
    assert_eq!(typo.len(), 1);
    assert_eq!(typo[0].detail["suggestion"], "再接再厉");
    assert_eq!(typo[0].severity, Severity::Info);

    // Personal data: the list of people and both attachments; not the masked list, not the
    // contact line, not the document number.
    let privacy = of(&s, "privacy.personal_data");
    assert_eq!(
        pages(&privacy, &base),
        ["/files/jiating.docx", "/files/mingdan.csv", "/files/mingdan.pdf", "/gs/dibao.html"],
        "{privacy:#?}"
    );
    let dibao = privacy.iter().find(|f| f.page.as_deref().unwrap().ends_with("dibao.html")).unwrap();
    assert_eq!(dibao.detail["resident_ids"], 3);
    assert_eq!(dibao.detail["mobiles"], 3);
    assert!(!dibao.evidence.contains("1965031212"), "values are masked: {}", dibao.evidence);
    assert!(dibao.evidence.contains("360102********"));

    // Attachments read, and the damaged one reported rather than passed over in silence.
    assert_eq!(s.stats.attachments_read, 3, "{:?}", s.stats);
    assert_eq!(s.stats.attachments_unreadable, 1);
    let example = &s.stats.attachments_unreadable_examples[0];
    assert!(example.url.ends_with("/files/damaged.xlsx"), "{example:?}");
    assert!(example.error.contains("unreadable spreadsheet"), "{example:?}");

    // The English version: the page left in Chinese, not the English one.
    let i18n = of(&s, "i18n.untranslated");
    assert_eq!(pages(&i18n, &base), ["/en/news1.html"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_article_copied_from_another_site_of_the_run_is_a_twin_unless_credited() {
    let (original, copier) = (serve_site("accuracy").await, serve_site("accuracy-copy").await);
    let (_dir, store) = common::store();
    let o = common::options();
    let specs = vec![SiteSpec::from_url(&original.url("/")).unwrap(), SiteSpec::from_url(&copier.url("/")).unwrap()];
    let out = scan(store.clone(), specs, o, Arc::new(Silent)).await.unwrap();
    let check = |results: &sitecensus_report::Results| {
        let (a, b) = (&results.sites[0], &results.sites[1]);
        assert_eq!(a.title.as_deref(), Some("东湖区人民政府"));
        let across = |s: &SiteResult| -> Vec<Finding> {
            s.findings
                .iter()
                .filter(|f| {
                    f.check == "accuracy.twin_articles"
                        && f.detail.get("cross_site") == Some(&serde_json::Value::Bool(true))
                })
                .cloned()
                .collect()
        };
        assert!(across(a).is_empty(), "the original is no copy: {:#?}", across(a));
        let copies = across(b);
        // The wholesale copy only: not the repost that names its source, not the site's own
        // report on a like subject.
        assert_eq!(copies.len(), 1, "{copies:#?}");
        assert_eq!(copies[0].page.as_deref(), Some(copier.url("/xw/copy.html").as_str()));
        assert_eq!(copies[0].detail["twin"], original.url("/news/econ.html"));
        assert_eq!(copies[0].detail["twin_site"], original.url("/"));
        assert!(copies[0].detail["similarity"].as_f64().unwrap() >= 0.9);
        assert!(b.findings.iter().all(|f| f.check != "accuracy.twin_articles"
            || f.page.as_deref() != Some(copier.url("/xw/credited.html").as_str())));
    };
    check(&out.results);
    // Scoring the stored run again finds the same.
    let again = sitecensus_scan::report(&store, None, &Rubric::default_rubric(), None).unwrap();
    check(&again);
}

/// Only `score` decides severity: a stored run scored again under a rubric that makes typos
/// cost points gives what a fresh scan under that rubric gives, and each scoring is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stored_run_scored_under_another_rubric_equals_a_fresh_scan_under_it() {
    let strict = Rubric::parse(
        "extends = \"gov-2019\"\nid = \"typos-cost\"\n[checks.\"accuracy.typo\"]\nseverity = \"deduct\"\npoints = 2\n",
        "typos-cost.toml",
    )
    .unwrap();
    let site = sitecensus_fixtures::serve_site("accuracy").await;
    let spec = || vec![SiteSpec::from_url(&site.url("/")).unwrap()];
    let (_d1, store) = common::store();
    let first = scan(store.clone(), spec(), common::options(), Arc::new(Silent)).await.unwrap();
    assert_eq!(of(&first.results.sites[0], "accuracy.typo")[0].severity, Severity::Info);
    let again = sitecensus_scan::report(&store, None, &strict, None).unwrap();
    let (_d2, store2) = common::store();
    let mut o = common::options();
    o.rubric = strict;
    let fresh = scan(store2, spec(), o, Arc::new(Silent)).await.unwrap();
    let (a, f) = (&again.sites[0], &fresh.results.sites[0]);
    assert_eq!(of(a, "accuracy.typo")[0].severity, Severity::Deduct);
    assert_eq!(a.score, f.score);
    // (Screenshots lie in each store's own folder; the rest is the same.)
    type Weighed = (sitecensus_core::CheckId, Severity, Option<String>, Option<String>, String);
    let weighed = |r: &SiteResult| -> Vec<Weighed> {
        r.findings.iter().map(|f| (f.check, f.severity, f.page.clone(), f.target.clone(), f.evidence.clone())).collect()
    };
    assert_eq!(weighed(a), weighed(f));
    assert_eq!(a.deductions, f.deductions);
    // Both scorings are in the store, the rescoring beside the scan's.
    let latest = store.latest_scoring(first.run.id).unwrap().unwrap();
    assert_eq!((latest.rubric.as_str(), latest.source.as_str()), ("typos-cost", "report"));
    assert!(latest.id > 1);
}
