//! `security.spam_injection` (暗链/黑链): spam injected into a hacked page — gambling,
//! pornography, lottery and drug terms in the title and meta tags, in blocks a visitor cannot see
//! (display:none, off-screen, zero size, text the colour of its background, a 1-pixel marquee,
//! <noscript>, comments), in links to unrelated outside domains, stuffed into the text, or written
//! by scripts that show search engines one page and visitors another. A page that discusses
//! gambling to fight it (打击赌博 news) and a hidden menu of the site's own links are not spam.

use sitecensus_core::CheckId;
use std::collections::{BTreeSet, HashSet};

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use serde::Deserialize;
use sitecensus_core::finding::clip;
use sitecensus_core::{Finding, Severity, dict};
use sitecensus_extract::Page;
use sitecensus_extract::dom::{Dom, Kind, NONE};

use crate::{ParamError, Rule};

/// `security.spam_injection`.
pub const ID: CheckId = CheckId::SecuritySpamInjection;

/// Parameters of the check: the dictionaries it reads and its thresholds.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Dictionaries of terms no government page uses in its title, hidden blocks or outbound links.
    pub strong: Vec<String>,
    /// Dictionaries of terms that count only where hidden or in outbound links.
    pub weak: Vec<String>,
    /// Dictionaries of words of a legitimate text about those subjects.
    pub context: Vec<String>,
    /// Dictionaries of domains of illegal sites.
    pub domains: Vec<String>,
    /// More strong terms, inline.
    #[serde(default)]
    pub extra_terms: Vec<String>,
    /// Names of search engines and crawlers a cloaking script looks for.
    pub search_engines: Vec<String>,
    /// Distinct strong terms in a page's visible text (with no legitimate context) that make it stuffed.
    pub min_visible_terms: usize,
    /// Brand names inserted into the page's own sentences (each sentence ordinary prose with no
    /// word of a legitimate text about them) that make it stuffed: the commonest hack of all.
    #[serde(default = "two")]
    pub min_stuffed_occurrences: usize,
}

fn two() -> usize {
    2
}

/// The matchers built from the dictionaries, once per scan.
#[derive(Debug, Clone)]
pub struct Matcher {
    strong: AhoCorasick,
    strong_terms: Vec<String>,
    weak: AhoCorasick,
    weak_terms: Vec<String>,
    context: AhoCorasick,
    domains: HashSet<String>,
    engines: Vec<String>,
    min_visible_terms: usize,
    min_stuffed: usize,
}

fn automaton(terms: &[String]) -> Result<AhoCorasick, ParamError> {
    AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .match_kind(MatchKind::LeftmostLongest)
        // A DFA: the dictionaries are small and every page's whole text runs through them.
        .kind(Some(AhoCorasickKind::DFA))
        .build(terms)
        .map_err(|e| ParamError(format!("{ID}: {e}")))
}

impl Matcher {
    /// Builds the matchers.
    ///
    /// # Errors
    /// When a dictionary cannot be read.
    pub fn new(p: &Params) -> Result<Self, ParamError> {
        let gather = |names: &[String], inline: &[String]| {
            dict::gather(names, inline).map_err(|e| ParamError(format!("{ID}: {e}")))
        };
        let strong_terms = gather(&p.strong, &p.extra_terms)?;
        let weak_terms = gather(&p.weak, &[])?;
        let context_terms = gather(&p.context, &[])?;
        // A government or school domain is never an illegal site here, whatever a list says
        // (the shipped list names a county portal by mistake).
        let domains = gather(&p.domains, &[])?
            .into_iter()
            .map(|d| d.trim().to_ascii_lowercase())
            .filter(|d| !["gov.cn", "edu.cn", "mil.cn", "政务"].iter().any(|s| d.ends_with(s)))
            .collect();
        Ok(Matcher {
            strong: automaton(&strong_terms)?,
            strong_terms,
            weak: automaton(&weak_terms)?,
            weak_terms,
            context: automaton(&context_terms)?,
            domains,
            engines: p.search_engines.iter().map(|e| e.to_ascii_lowercase()).collect(),
            min_visible_terms: p.min_visible_terms,
            min_stuffed: p.min_stuffed_occurrences.max(1),
        })
    }

    fn strong_in(&self, text: &str) -> BTreeSet<String> {
        self.strong.find_iter(text).map(|m| self.strong_terms[m.pattern().as_usize()].clone()).collect()
    }

    fn any_in(&self, text: &str) -> BTreeSet<String> {
        let mut t = self.strong_in(text);
        t.extend(self.weak.find_iter(text).map(|m| self.weak_terms[m.pattern().as_usize()].clone()));
        t
    }

    fn has_context(&self, text: &str) -> bool {
        self.context.is_match(text)
    }

    fn blocklisted(&self, host: &str) -> bool {
        let h = host.to_ascii_lowercase();
        let mut rest = h.as_str();
        loop {
            if self.domains.contains(rest) {
                return true;
            }
            match rest.split_once('.') {
                Some((_, r)) if r.contains('.') => rest = r,
                _ => return false,
            }
        }
    }
}

/// The registrable part of a host (`www.a.gov.cn` → `a.gov.cn`, `x.example.com` → `example.com`),
/// so that a site's own subdomains are not "outside".
#[must_use]
pub fn registrable(host: &str) -> String {
    let h = host.trim_end_matches('.').to_ascii_lowercase();
    let labels: Vec<&str> = h.split('.').collect();
    if h.parse::<std::net::IpAddr>().is_ok() || labels.len() <= 2 {
        return h;
    }
    let second = labels[labels.len() - 2];
    let take =
        if labels[labels.len() - 1].len() == 2 && ["gov", "com", "net", "org", "edu", "ac", "mil"].contains(&second) {
            3
        } else {
            2
        };
    labels[labels.len().saturating_sub(take)..].join(".")
}

fn host_of(url: &str) -> Option<String> {
    url::Url::parse(url).ok().and_then(|u| u.host_str().map(str::to_owned))
}

/// Words in a host name that mark a gambling or adult site.
const SUSPECT_HOST_WORDS: &[&str] = &[
    "casino", "bet", "game", "qipai", "slot", "poker", "lottery", "pk10", "caipiao", "bocai", "yule", "dafa", "macau",
    "porn", "sex", "av",
];

/// Whether an outside host is a government, school or other public body (never a spam target).
fn public_body(host: &str) -> bool {
    let h = host.to_ascii_lowercase();
    [
        "gov.cn",
        "edu.cn",
        ".gov",
        "政务",
        "cctv.com",
        "people.com.cn",
        "xinhuanet.com",
        "news.cn",
        "weixin.qq.com",
        "weibo.com",
        "conac.cn",
        "miit.gov.cn",
    ]
    .iter()
    .any(|s| h.ends_with(s))
}

/// Hiding techniques that no menu or tab uses: only content meant for crawlers is hidden so.
const TRICK_REASONS: &[&str] = &[
    "positioned off-screen",
    "positioned by a CSS expression",
    "text-indent off-screen",
    "zero size",
    "font-size:0",
    "text the colour of its background",
    "opacity:0",
];

/// One piece of evidence.
struct Signal {
    /// The family of the hack (`detail.kind`): hidden_links, hidden_text, offscreen, stuffing,
    /// meta, spam_links, script, noscript, comment.
    kind: &'static str,
    what: &'static str,
    quote: String,
    terms: BTreeSet<String>,
    domains: BTreeSet<String>,
    confirmed: bool,
}

/// A `<marquee>` that scrolls out of sight: 1-pixel high or wide, or impossibly fast.
fn invisible_marquee(dom: &Dom, i: u32) -> bool {
    let n = &dom.nodes[i as usize];
    if n.tag() != "marquee" {
        return false;
    }
    let small =
        |a: &str| n.attr(a).and_then(|v| v.trim_end_matches("px").trim().parse::<u32>().ok()).is_some_and(|v| v <= 2);
    let fast = n.attr("scrollamount").and_then(|v| v.trim().parse::<u32>().ok()).is_some_and(|v| v >= 500);
    small("height") || small("width") || fast
}

/// The check over one page and its DOM.
#[must_use]
pub fn check(page: &Page, dom: &Dom, m: &Matcher, rule: &Rule<Params>) -> Vec<Finding> {
    let own = host_of(&page.url).map(|h| registrable(&h)).unwrap_or_default();
    let outside_host = |host: &str| registrable(host) != own;
    let mut signals: Vec<Signal> = Vec::new();

    // 1. The head: title, keywords, description.
    for (field, text) in [
        ("title", page.title.as_str()),
        ("keywords", page.meta.get("Keywords").map_or("", String::as_str)),
        ("description", page.meta.get("Description").map_or("", String::as_str)),
    ] {
        let terms = m.strong_in(text);
        if !terms.is_empty() && !m.has_context(text) {
            signals.push(Signal {
                // Brand names put into the title are stuffing as much as those in the text.
                kind: if field == "title" { "stuffing" } else { "meta" },
                what: field,
                quote: clip(text, 120),
                terms,
                domains: BTreeSet::new(),
                confirmed: true,
            });
        }
    }

    // 2. Blocks a visitor cannot see, and 3. links out.
    let mut i = 0u32;
    while (i as usize) < dom.nodes.len() {
        let n = &dom.nodes[i as usize];
        let root_hidden = n.element().is_some()
            && !n.skip
            && ((n.hidden && (n.parent == NONE || !dom.nodes[n.parent as usize].hidden)) || invisible_marquee(dom, i));
        if root_hidden {
            let text = dom.text(i, true);
            let terms = m.any_in(&text);
            // A tab or a menu hides with display:none; injected links hide with tricks.
            let trick = invisible_marquee(dom, i)
                || n.attr("style")
                    .and_then(sitecensus_extract::css::style_hides)
                    .is_some_and(|r| TRICK_REASONS.contains(&r));
            let mut domains = BTreeSet::new();
            let mut spam_links = false;
            for j in i..n.end {
                let a = &dom.nodes[j as usize];
                if a.tag() == "a"
                    && let Some(href) = a.attr("href").filter(|h| h.starts_with("http"))
                {
                    let host = host_of(href).unwrap_or_default();
                    if !host.is_empty() && outside_host(&host) && !public_body(&host) {
                        let lower = host.to_ascii_lowercase();
                        spam_links |= trick
                            || !m.any_in(&dom.text(j, true)).is_empty()
                            || m.blocklisted(&host)
                            || SUSPECT_HOST_WORDS.iter().any(|w| lower.contains(w));
                        domains.insert(host);
                    }
                }
            }
            let confirmed = !terms.is_empty() || spam_links;
            if confirmed || !domains.is_empty() {
                let what = if invisible_marquee(dom, i) { "invisible marquee" } else { "hidden block" };
                let kind = if trick {
                    "offscreen"
                } else if domains.is_empty() {
                    "hidden_text"
                } else {
                    "hidden_links"
                };
                signals.push(Signal { kind, what, quote: clip(&text, 160), terms, domains, confirmed });
            }
            i = n.end;
            continue;
        }
        match n.kind {
            Kind::Element(e) if e.name() == "a" => {
                // Only links out can be spam links: their text is read, the others' is not.
                if let Some(href) = e.attr("href").filter(|h| h.starts_with("http"))
                    && let Some(host) = host_of(href).filter(|h| outside_host(h))
                {
                    let text = dom.text(i, true);
                    let terms = m.strong_in(&text);
                    let blocked = m.blocklisted(&host);
                    if (!terms.is_empty() && !m.has_context(&text)) || blocked {
                        signals.push(Signal {
                            kind: "spam_links",
                            what: if blocked { "link to a blocklisted domain" } else { "outbound spam link" },
                            quote: clip(&text, 80),
                            terms,
                            domains: BTreeSet::from([host]),
                            confirmed: true,
                        });
                    }
                }
            }
            Kind::Element(e) if e.name() == "script" => {
                let code: String = dom
                    .children(i)
                    .filter_map(|c| match dom.nodes[c as usize].kind {
                        Kind::Text(t) => Some(t),
                        _ => None,
                    })
                    .collect();
                if let Some(s) = script_signal(&code, m) {
                    signals.push(s);
                }
            }
            Kind::Element(e) if e.name() == "noscript" => {
                let raw: String = dom
                    .children(i)
                    .filter_map(|c| match dom.nodes[c as usize].kind {
                        Kind::Text(t) => Some(t),
                        _ => None,
                    })
                    .collect();
                let frag = scraper::Html::parse_fragment(&raw);
                let text: String = frag.root_element().text().collect();
                let terms = m.any_in(&text);
                if !terms.is_empty() {
                    signals.push(Signal {
                        kind: "noscript",
                        what: "noscript block",
                        quote: clip(text.trim(), 160),
                        terms,
                        domains: BTreeSet::new(),
                        confirmed: true,
                    });
                }
            }
            Kind::Comment(c) => {
                let terms = m.strong_in(c);
                if !terms.is_empty() && !m.has_context(c) {
                    signals.push(Signal {
                        kind: "comment",
                        what: "comment",
                        quote: clip(c.trim(), 160),
                        terms,
                        domains: BTreeSet::new(),
                        confirmed: true,
                    });
                }
            }
            _ => {}
        }
        i += 1;
    }

    // 4. Brand names inserted into the page's own sentences, and terms stuffed into the visible
    //    text of a page that is not about fighting them.
    let text = if page.text.is_empty() { page.main_text.as_str() } else { page.text.as_str() };
    let stuffed = stuffed_sentences(text, m);
    let visible = m.strong_in(text);
    if stuffed.occurrences >= m.min_stuffed {
        signals.push(Signal {
            kind: "stuffing",
            what: "brand names inserted into the text",
            quote: stuffed.quotes.join(" "),
            terms: stuffed.terms,
            domains: BTreeSet::new(),
            confirmed: true,
        });
    } else if visible.len() >= m.min_visible_terms && !m.has_context(text) {
        signals.push(Signal {
            kind: "stuffing",
            what: "stuffed text",
            quote: String::new(),
            terms: visible,
            domains: BTreeSet::new(),
            confirmed: true,
        });
    }

    if signals.is_empty() {
        return Vec::new();
    }
    let confirmed = signals.iter().any(|s| s.confirmed);
    let mut terms = BTreeSet::new();
    let mut domains = BTreeSet::new();
    for s in &signals {
        terms.extend(s.terms.iter().cloned());
        domains.extend(s.domains.iter().cloned());
    }
    // The evidence quotes the most telling signal: injected links before stuffed words.
    let first = signals
        .iter()
        .filter(|s| s.confirmed)
        .min_by_key(|s| {
            (KIND_ORDER.iter().position(|o| *o == s.kind).unwrap_or(KIND_ORDER.len()), std::cmp::Reverse(s.terms.len()))
        })
        .unwrap_or(&signals[0]);
    let some_domains = domains.iter().take(3).cloned().collect::<Vec<_>>().join(", ");
    let (evidence, evidence_zh) = if confirmed {
        let quote = if first.quote.is_empty() {
            terms.iter().take(6).cloned().collect::<Vec<_>>().join("、")
        } else {
            first.quote.clone()
        };
        let to = if domains.is_empty() { String::new() } else { format!(" → {some_domains}") };
        (format!("{}: {quote}{to}", first.what), format!("{}：{quote}{to}", what_zh(first.what)))
    } else {
        (
            format!("hidden link(s) to other sites, with no spam terms: {some_domains}"),
            format!("隐藏的外站链接，未见违法有害词语：{some_domains}"),
        )
    };
    let detail_signals: Vec<serde_json::Value> = signals
        .iter()
        .map(|s| serde_json::json!({"signal": s.what, "kind": s.kind, "quote": s.quote, "terms": s.terms, "domains": s.domains, "confirmed": s.confirmed}))
        .collect();
    let mut kinds: Vec<&str> = Vec::new();
    for s in signals.iter().filter(|s| s.confirmed || !confirmed) {
        if !kinds.contains(&s.kind) {
            kinds.push(s.kind);
        }
    }
    kinds.sort_by_key(|k| KIND_ORDER.iter().position(|o| o == k).unwrap_or(KIND_ORDER.len()));
    vec![
        Finding::new(ID, rule.severity, evidence)
            .zh(evidence_zh)
            .at_most_if(!confirmed, Severity::Info)
            .page(page.url.clone())
            .detail("kind", kinds.first().copied().unwrap_or("hidden_links"))
            .detail("kinds", kinds)
            .detail("confirmed", confirmed)
            .detail("terms", terms.into_iter().collect::<Vec<_>>())
            .detail("domains", domains.into_iter().collect::<Vec<_>>())
            .detail("signals", detail_signals),
    ]
}

/// A signal's name (`Signal::what`) in Chinese, for the evidence in Chinese.
fn what_zh(what: &str) -> &str {
    match what {
        "title" => "网页标题",
        "keywords" => "关键词（keywords）",
        "description" => "网页描述（description）",
        "link to a blocklisted domain" => "指向黑名单域名的链接",
        "outbound spam link" => "指向外站的垃圾链接",
        "noscript block" => "noscript 区块",
        "comment" => "网页注释",
        "brand names inserted into the text" => "正文中被插入的博彩等品牌名",
        "stuffed text" => "堆砌的违法有害词语",
        "cloaking script" => "伪装跳转脚本",
        "script-written spam" => "脚本写入的垃圾信息",
        "invisible marquee" => "不可见的滚动区块",
        "hidden block" => "隐藏区块",
        other => other,
    }
}

/// The kinds of injection in the order the evidence names them: what only an intruder does first.
const KIND_ORDER: &[&str] =
    &["hidden_links", "offscreen", "script", "spam_links", "stuffing", "hidden_text", "noscript", "meta", "comment"];

/// Words that often follow a brand name in stuffed text ("凯时网站", "凯发娱乐官网"): reported with
/// the brand, as the page shows it.
const BRAND_SUFFIXES: &[&str] = &[
    "网站", "官网", "官方", "娱乐", "平台", "国际", "集团", "体育", "棋牌", "登录", "注册", "网址", "入口", "下载",
    "app", "APP",
];

/// Where a sentence ends, for the brand-insertion rule (quotes do not end one).
const SENTENCE_ENDS: &[char] = &['。', '！', '？', '!', '?', '\n', '；', ';'];
/// A sentence with fewer Chinese characters of its own (brand names left out) is a list entry or
/// a heading, not prose a brand was slipped into.
const MIN_PROSE_CHARS: usize = 8;
/// A sentence naming this many spam terms is a list (a warning list, or a spam block the other
/// signals judge), not prose.
const LIST_TERMS: usize = 3;

/// Brand names slipped into a page's own sentences.
struct Stuffed {
    occurrences: usize,
    terms: BTreeSet<String>,
    quotes: Vec<String>,
}

fn is_cjk(c: char) -> bool {
    ('\u{4e00}'..='\u{9fff}').contains(&c)
}

/// Strong terms inside sentences of ordinary prose that say nothing about fighting them: "…重要指示
/// 精神k8凯发,围绕政府网站…". A sentence that names the crime to fight it (打击, 查处, 警惕 …), a short
/// line of a list, and a sentence made of the terms themselves do not count.
fn stuffed_sentences(text: &str, m: &Matcher) -> Stuffed {
    let mut out = Stuffed { occurrences: 0, terms: BTreeSet::new(), quotes: Vec::new() };
    for sentence in text.split(SENTENCE_ENDS) {
        if sentence.len() < 6 {
            continue;
        }
        let found: Vec<_> = m.strong.find_iter(sentence).collect();
        if found.is_empty() || found.len() >= LIST_TERMS || m.has_context(sentence) {
            continue;
        }
        let own: usize = sentence.chars().filter(|c| is_cjk(*c)).count()
            - found.iter().map(|f| sentence[f.start()..f.end()].chars().filter(|c| is_cjk(*c)).count()).sum::<usize>();
        if own < MIN_PROSE_CHARS {
            continue;
        }
        for f in found {
            let rest = &sentence[f.end()..];
            let suffix = BRAND_SUFFIXES.iter().find(|s| rest.starts_with(**s)).map_or(0, |s| s.len());
            let shown = &sentence[f.start()..f.end() + suffix];
            out.occurrences += 1;
            out.terms.insert(shown.to_owned());
            if out.quotes.len() < 3 {
                out.quotes.push(quote_around(sentence, f.start(), f.end() + suffix));
            }
        }
    }
    out
}

/// `…before【term】after…`, a dozen characters each side.
fn quote_around(text: &str, start: usize, end: usize) -> String {
    let before: String = text[..start].chars().rev().take(12).collect::<Vec<_>>().into_iter().rev().collect();
    let after: String = text[end..].chars().take(12).collect();
    format!("…{}【{}】{}…", before.trim_start(), &text[start..end], after.trim_end())
}

/// Scripts that show search engines one page and visitors another, or that write spam links.
fn script_signal(code: &str, m: &Matcher) -> Option<Signal> {
    let lower = code.to_ascii_lowercase();
    let reads_visitor = lower.contains("document.referrer") || lower.contains("navigator.useragent");
    let names_engine = m.engines.iter().any(|e| lower.contains(e.as_str()));
    let acts = lower.contains("location")
        || lower.contains("document.title")
        || lower.contains("document.write")
        || lower.contains("window.open");
    if reads_visitor && names_engine && acts {
        return Some(Signal {
            kind: "script",
            what: "cloaking script",
            quote: clip(code.trim(), 160),
            terms: m.strong_in(code),
            domains: BTreeSet::new(),
            confirmed: true,
        });
    }
    let writes = lower.contains("document.write") || lower.contains("innerhtml");
    let terms = m.strong_in(code);
    if writes && !terms.is_empty() {
        return Some(Signal {
            kind: "script",
            what: "script-written spam",
            quote: clip(code.trim(), 160),
            terms,
            domains: BTreeSet::new(),
            confirmed: true,
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registrable_domains() {
        assert_eq!(registrable("www.a.gov.cn"), "a.gov.cn");
        assert_eq!(registrable("zwgk.a.gov.cn"), "a.gov.cn");
        assert_eq!(registrable("www.gov.cn"), "www.gov.cn");
        assert_eq!(registrable("x.y.example.com"), "example.com");
        assert_eq!(registrable("127.0.0.1"), "127.0.0.1");
    }
}
