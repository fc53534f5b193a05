//! What plain inline scripts say without running them: the `window.location = '…'` redirects many
//! government homepages use as their only redirect, and dates written by `document.write`.

use std::sync::LazyLock;

use regex::Regex;

static LOCATION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?x)
        (?:\b(?:window|top|self|parent|document)\s*\.\s*)?(?:(?:top|window|self|parent)\s*\.\s*)?
        location
        (?:
            (?:\s*\.\s*href)?\s*=\s*(?P<q1>["'])(?P<u1>[^"'\s]{1,2000})["']
          | \s*\.\s*(?:replace|assign)\s*\(\s*["'](?P<u2>[^"'\s]{1,2000})["']\s*\)
        )"#,
    )
    .expect("valid regex")
});

/// URLs that an inline script sends the visitor to with a plain string literal.
#[must_use]
pub fn location_targets(script: &str) -> Vec<&str> {
    if !script.contains("location") {
        return Vec::new();
    }
    LOCATION
        .captures_iter(script)
        .filter_map(|c| c.name("u1").or_else(|| c.name("u2")).map(|m| m.as_str()))
        .filter(|u| !u.starts_with("javascript:") && !u.starts_with('#'))
        .collect()
}

static CREATE_PAGE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"createPageHTML\(\s*(\d+)\s*,\s*(\d+)\s*,\s*["']([\w-]+)["']\s*,\s*["'](\w+)["']\s*\)"#)
        .expect("valid regex")
});

/// The list pages a TRS-style pager script writes: `createPageHTML(50, 0, "index", "html")`
/// means `index.html` (page 0) and `index_1.html` … `index_49.html`; at most `cap` are returned.
#[must_use]
pub fn pager_pages(script: &str, cap: usize) -> Vec<String> {
    let Some(c) = CREATE_PAGE.captures(script) else { return Vec::new() };
    let count: usize = c[1].parse().unwrap_or(0);
    let current: usize = c[2].parse().unwrap_or(0);
    let (name, ext) = (&c[3], &c[4]);
    (0..count.min(cap))
        .filter(|&i| i != current)
        .map(|i| if i == 0 { format!("{name}.{ext}") } else { format!("{name}_{i}.{ext}") })
        .collect()
}

/// Whether the script writes into the page (`document.write`, `innerHTML`), so that dates in its
/// string literals are dates a visitor sees.
#[must_use]
pub fn writes_text(script: &str) -> bool {
    script.contains("document.write") || script.contains("innerHTML")
}

static DRAWS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?x)
        \$\.(?:ajax|get|post|getJSON)\s*\( | fetch\s*\( | XMLHttpRequest | axios | \.load\s*\(\s*['"]
      | \.innerHTML\s*= | \.html\s*\( | \.append\s*\( | template\s*\( | laytpl | artTemplate | new\s+Vue
      | createApp\s*\( | Handlebars | juicer\s*\( | doT\. | \$\(\s*['"]\#[\w-]+['"]\s*\)\s*\.\s*jpage\s*\("#,
    )
    .expect("valid regex")
});

static REQUESTED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?:url\s*:\s*|\$\.(?:get|post|getJSON)\s*\(\s*|fetch\s*\(\s*|\.open\s*\(\s*['"]\w+['"]\s*,\s*)['"]([^'"\s]{1,200})['"]"#)
        .expect("valid regex")
});

/// What an inline script does that may draw the page's content (asks for data, writes markup
/// from a template), named for a reader: "inline script asking for /api/news.json". None for
/// scripts that do neither.
#[must_use]
pub fn draws(script: &str) -> Option<String> {
    let m = DRAWS.find(script)?;
    if let Some(c) = REQUESTED.captures(script) {
        return Some(format!("inline script asking for {}", &c[1]));
    }
    let around: String = script[m.start()..].chars().take(60).collect();
    Some(format!("inline script: {}", around.split_whitespace().collect::<Vec<_>>().join(" ")))
}

/// The target of a `<meta http-equiv="refresh" content="0; url=…">`.
#[must_use]
pub fn refresh_target(content: &str) -> Option<&str> {
    let lower = content.to_ascii_lowercase();
    let i = lower.find("url")?;
    let rest = content[i + 3..].trim_start();
    let rest = rest.strip_prefix('=')?.trim();
    let rest = rest.trim_matches(|c| c == '\'' || c == '"');
    (!rest.is_empty()).then_some(rest)
}

/// Most hosts kept from a page's inline scripts.
const MAX_SCRIPT_HOSTS: usize = 20;

static ABSOLUTE_URL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)(?:https?:)?//([a-z0-9][a-z0-9.-]*\.[a-z]{2,})").expect("valid"));

/// Adds to `out` the hosts of absolute addresses an inline script names or writes, its
/// percent-escapes (`unescape("%3Cscript src=…")`) decoded first.
pub fn hosts_named(script: &str, out: &mut Vec<String>) {
    if !script.contains("//") && !script.contains("%2F%2F") {
        return;
    }
    let decoded = percent_encoding::percent_decode_str(script).decode_utf8_lossy();
    for c in ABSOLUTE_URL.captures_iter(&decoded) {
        if out.len() >= MAX_SCRIPT_HOSTS {
            return;
        }
        let host = c[1].to_ascii_lowercase();
        if !out.contains(&host) {
            out.push(host);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_redirects() {
        assert_eq!(location_targets("window.location = '/index.shtml';"), ["/index.shtml"]);
        assert_eq!(
            location_targets("window.top.location.href='http://www.12333sh.gov.cn/201712333/index.shtml';"),
            ["http://www.12333sh.gov.cn/201712333/index.shtml"]
        );
        assert_eq!(location_targets("location.replace(\"m/index.html\")"), ["m/index.html"]);
        assert_eq!(location_targets("document.location.href=\"/a.html\""), ["/a.html"]);
        assert!(location_targets("var x = location.href; if (x) {}").is_empty());
        assert!(location_targets("location.href = base + '/x'").is_empty());
    }

    #[test]
    fn trs_pager() {
        assert_eq!(
            pager_pages("createPageHTML(4, 0, \"index\", \"html\");", 100),
            ["index_1.html", "index_2.html", "index_3.html"]
        );
        assert_eq!(pager_pages("createPageHTML(3, 1, 'index', 'shtml')", 100), ["index.shtml", "index_2.shtml"]);
        assert_eq!(
            pager_pages("createPageHTML(_nPageCount, _nCurrIndex, _sPageName, _sPageExt)", 100),
            Vec::<String>::new()
        );
        assert_eq!(pager_pages("createPageHTML(120, 0, \"index\", \"html\")", 10).len(), 9);
    }

    #[test]
    fn meta_refresh() {
        assert_eq!(refresh_target("0; url=http://www.a.gov.cn/"), Some("http://www.a.gov.cn/"));
        assert_eq!(refresh_target("0;URL='/index.htm'"), Some("/index.htm"));
        assert_eq!(refresh_target("300"), None);
    }
}
