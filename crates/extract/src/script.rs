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

/// Whether the script writes into the page (`document.write`, `innerHTML`), so that dates in its
/// string literals are dates a visitor sees.
#[must_use]
pub fn writes_text(script: &str) -> bool {
    script.contains("document.write") || script.contains("innerHTML")
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
    fn meta_refresh() {
        assert_eq!(refresh_target("0; url=http://www.a.gov.cn/"), Some("http://www.a.gov.cn/"));
        assert_eq!(refresh_target("0;URL='/index.htm'"), Some("/index.htm"));
        assert_eq!(refresh_target("300"), None);
    }
}
