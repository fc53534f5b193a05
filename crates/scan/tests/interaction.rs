//! Responsiveness, practicality and identity over two fixture sites: one that has every layout of
//! letters, guides and interpretations (with one problem of each kind beside its hard negative),
//! and one whose mailbox is only a picture.

use sitecensus_report::SiteResult;

mod common;
use common::{of, pages, scan_fixture as scan_with};

async fn scan_site(name: &str) -> (SiteResult, String) {
    scan_with(name, common::options()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn letters_guides_and_interpretations_in_every_layout() {
    let (s, base) = scan_site("interaction").await;
    for f in &s.findings {
        eprintln!("{} {} {} {}", f.severity.as_str(), f.check, f.page.as_deref().unwrap_or(""), f.evidence);
    }
    // Letters: eight in the list, read from definition-list, table and free-text pages; the
    // online-interview question is not an enquiry.
    let fig = &s.stats.figures["interaction"];
    assert_eq!(fig["letters"], 8, "{fig}");
    assert_eq!(fig["replied"], 5, "{fig}");
    assert_eq!(fig["unanswered"], 1, "{fig}");
    assert_eq!(fig["median_working_days"], 16.0, "the Labour Day make-up Saturday and Dragon Boat Festival counted");
    assert!((fig["p90_working_days"].as_f64().unwrap() - 17.6).abs() < 1e-9, "{fig}");
    assert_eq!(fig["boilerplate_share"], 0.8);
    assert!(fig["channels_working"].as_u64().unwrap() >= 2, "{fig}");
    // Unanswered: the February letter only — not the one older than a year, not the recent one.
    let un = of(&s, "interaction.unanswered");
    assert_eq!(pages(&un, &base), ["/hdjl/xj/6.html"]);
    assert_eq!(un[0].detail["asked"], "2024-02-05");
    assert_eq!(un[0].detail["status"], "pending");
    let stock = of(&s, "interaction.boilerplate_reply");
    assert_eq!(stock.len(), 1);
    assert!(stock[0].detail["stock_reply"].as_str().unwrap().contains("已转相关部门处理"));
    assert_eq!(stock[0].detail["replies"], 5);
    let slow = of(&s, "interaction.slow_reply");
    assert_eq!(slow.len(), 1);
    assert_eq!(slow[0].detail["slowest"][0]["working_days"], 18);
    assert!(of(&s, "interaction.missing").is_empty(), "the mailbox form and the letter list work");
    // Guides: the complete table guide passes; the definition-list and section guides lack elements.
    let guides = of(&s, "service.incomplete_guide");
    assert_eq!(pages(&guides, &base), ["/bsfw/zn2.html", "/bsfw/zn3.html"]);
    let zn2 = guides.iter().find(|f| f.page.as_deref().unwrap().ends_with("zn2.html")).unwrap();
    assert_eq!(zn2.detail["missing"], serde_json::json!(["办理时限", "收费标准"]));
    let zn3 = guides.iter().find(|f| f.page.as_deref().unwrap().ends_with("zn3.html")).unwrap();
    assert_eq!(zn3.detail["missing"], serde_json::json!(["办理材料"]));
    assert_eq!(s.stats.figures["guides"]["read"], 3);
    assert!(of(&s, "service.missing").is_empty());
    // Interpretations: linked from the document, named by the interpretation column, missing;
    // the unnumbered work plan is not judged.
    let interp = of(&s, "policy.no_interpretation");
    assert_eq!(pages(&interp, &base), ["/zcwj/3.html"]);
    assert_eq!(interp[0].detail["document_number"], "和政发〔2024〕8号");
    // Identity: a complete footer, a mark, a viewport.
    for id in [
        "identity.missing_site_code",
        "identity.missing_filing",
        "identity.missing_mark",
        "mobile.not_adapted",
        "accessibility.missing_alt",
    ] {
        assert!(of(&s, id).is_empty(), "{id}: {:?}", of(&s, id));
    }
    assert_eq!(s.stats.figures["identity"]["site_code"], "2101020001");
    assert_eq!(s.vetoes, ["interaction.unanswered"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mailbox_that_is_only_a_picture_is_no_channel() {
    let (s, _) = scan_site("fake-mailbox").await;
    for f in &s.findings {
        eprintln!("{} {} {} {}", f.severity.as_str(), f.check, f.page.as_deref().unwrap_or(""), f.evidence);
    }
    let missing = of(&s, "interaction.missing");
    assert_eq!(missing.len(), 1);
    let seen = missing[0].detail["seen"].as_array().unwrap();
    let problems: Vec<&str> = seen.iter().filter_map(|c| c["problem"].as_str()).collect();
    assert!(problems.iter().any(|p| p.contains("image with no link")), "{seen:?}");
    assert!(problems.iter().any(|p| p.contains("dead link")), "{seen:?}");
    assert!(
        seen.iter().all(|c| !c["text"].as_str().unwrap_or("").contains("信访")),
        "a petition channel is not an enquiry channel: {seen:?}"
    );
    assert_eq!(of(&s, "service.missing").len(), 1);
    assert_eq!(s.vetoes, ["interaction.missing", "service.missing"]);
    let filing = of(&s, "identity.missing_filing");
    assert_eq!(filing[0].detail["missing"], serde_json::json!(["police_filing"]), "the ICP number is there");
    assert_eq!(of(&s, "identity.missing_site_code").len(), 1);
    assert_eq!(of(&s, "identity.missing_mark").len(), 1);
    assert_eq!(of(&s, "mobile.not_adapted").len(), 1);
    let alt = of(&s, "accessibility.missing_alt");
    assert_eq!(alt[0].detail["images"], 1, "the banner; the mailbox picture has alt text");
    assert!(alt[0].detail["sample_images"][0].as_str().unwrap().ends_with("/img/banner.png"));
    assert_eq!(s.stats.figures["interaction"]["letters"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_site_without_https_is_reported_with_the_error() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut o = common::options();
    o.https_check = true;
    o.https_port = Some(closed);
    let (s, _) = scan_with("interaction", o).await;
    let https = s.stats.https.as_ref().unwrap();
    assert!(!https.ok, "{https:?}");
    assert_eq!(https.address, format!("127.0.0.1:{closed}"));
    let f = of(&s, "security.no_https");
    assert_eq!(f.len(), 1);
    assert!(f[0].evidence.contains("connection failed"), "{}", f[0].evidence);
    // Checked without the probe, the same site has no such finding.
    let (s, _) = scan_site("interaction").await;
    assert!(of(&s, "security.no_https").is_empty() && s.stats.https.is_none());
}

/// Replies written as plain paragraphs after 回复单位/回复时间 (a table, a reply block, a
/// definition list) are read: five of six say the same stock sentence.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unlabelled_replies_after_the_reply_part_are_read_and_the_stock_one_caught() {
    let (s, _) = scan_site("stock-replies").await;
    let fig = &s.stats.figures["interaction"];
    assert_eq!(fig["letters"], 6, "{fig}");
    assert_eq!(fig["replied"], 6, "{fig}");
    let stock = of(&s, "interaction.boilerplate_reply");
    assert_eq!(stock.len(), 1, "{:?}", s.findings);
    assert_eq!(stock[0].detail["stock_reply"], "您好，您的来信已收到，已转相关部门办理。");
    assert_eq!(stock[0].detail["replies"], 6);
    assert!((stock[0].detail["share"].as_f64().unwrap() - 0.833).abs() < 1e-9, "{:?}", stock[0].detail);
}
