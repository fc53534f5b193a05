//! Which elements a visitor cannot see: inline styles and `<style>` rules that hide (display:none,
//! visibility:hidden, off-screen positions, zero size, font-size 0, huge negative text-indent,
//! opacity 0) and the `hidden` attribute. Hand-written because no CSS crate answers "is this
//! element hidden" without a layout engine; this covers the forms that hacked pages and
//! templates actually use.

use std::collections::HashSet;

/// Why a style hides an element, if it does.
#[must_use]
pub fn style_hides(style: &str) -> Option<&'static str> {
    let s: String = style.chars().filter(|c| !c.is_whitespace()).map(|c| c.to_ascii_lowercase()).collect();
    let decls: Vec<(&str, &str)> =
        s.split(';').filter_map(|d| d.split_once(':')).map(|(k, v)| (k, v.trim_end_matches("!important"))).collect();
    let get = |name: &str| decls.iter().rev().find(|(k, _)| *k == name).map(|(_, v)| *v);
    if get("display") == Some("none") {
        return Some("display:none");
    }
    if matches!(get("visibility"), Some("hidden" | "collapse")) {
        return Some("visibility:hidden");
    }
    if get("opacity").and_then(|v| v.parse::<f32>().ok()).is_some_and(|o| o <= 0.01) {
        return Some("opacity:0");
    }
    if get("font-size").is_some_and(is_zero_length) {
        return Some("font-size:0");
    }
    if get("text-indent").and_then(px).is_some_and(|v| v <= -500.0) {
        return Some("text-indent off-screen");
    }
    if matches!(get("position"), Some("absolute" | "fixed")) && decls.iter().any(|(_, v)| v.contains("expression(")) {
        return Some("positioned by a CSS expression");
    }
    if matches!(get("position"), Some("absolute" | "fixed")) {
        let off = ["left", "top", "right", "margin-left", "margin-top"].iter().any(|k| {
            get(k).and_then(px).is_some_and(|v| v <= -500.0) || get(k).and_then(px).is_some_and(|v| v >= 5000.0)
        });
        if off {
            return Some("positioned off-screen");
        }
    }
    // Text the colour of its background.
    let color = get("color").map(normalize_color);
    let background = get("background-color").or_else(|| get("background")).map(normalize_color);
    if let (Some(c), Some(b)) = (color, background)
        && !c.is_empty()
        && c == b
    {
        return Some("text the colour of its background");
    }
    let zero_w = get("width").is_some_and(is_zero_length);
    let zero_h = get("height").is_some_and(is_zero_length);
    let clipped = get("overflow") == Some("hidden") || get("clip").is_some_and(|c| c.contains("rect(0"));
    if (zero_w && zero_h) || ((zero_w || zero_h) && clipped) {
        return Some("zero size");
    }
    None
}

/// `#FFF`, `#ffffff`, `white` and `rgb(255,255,255)` alike.
fn normalize_color(v: &str) -> String {
    let v = v.trim().trim_end_matches("!important").to_ascii_lowercase();
    let named = match v.as_str() {
        "white" => "#ffffff",
        "black" => "#000000",
        "red" => "#ff0000",
        _ => "",
    };
    if !named.is_empty() {
        return named.to_owned();
    }
    if let Some(hex) = v.strip_prefix('#') {
        if hex.len() == 3 {
            return format!("#{}", hex.chars().flat_map(|c| [c, c]).collect::<String>());
        }
        return format!("#{hex}");
    }
    if let Some(inner) = v.strip_prefix("rgb(").and_then(|r| r.strip_suffix(')')) {
        let parts: Vec<u8> = inner.split(',').filter_map(|p| p.trim().parse().ok()).collect();
        if parts.len() == 3 {
            return format!("#{:02x}{:02x}{:02x}", parts[0], parts[1], parts[2]);
        }
    }
    // A background with an image or gradient is not one colour.
    if v.contains(' ') || v.contains("url(") {
        return String::new();
    }
    v
}

fn is_zero_length(v: &str) -> bool {
    px(v).is_some_and(|p| p.abs() < 0.5)
}

/// A CSS length in px (em/rem/pt converted roughly); None when not a plain length.
fn px(v: &str) -> Option<f32> {
    let v = v.trim();
    let (num, factor) = if let Some(n) = v.strip_suffix("px") {
        (n, 1.0)
    } else if let Some(n) = v.strip_suffix("rem").or_else(|| v.strip_suffix("em")) {
        (n, 16.0)
    } else if let Some(n) = v.strip_suffix("pt") {
        (n, 1.33)
    } else if let Some(n) = v.strip_suffix('%') {
        (n, if n.trim() == "0" { 0.0 } else { return None })
    } else {
        (v, 1.0)
    };
    num.parse::<f32>().ok().map(|n| n * factor)
}

/// Class and id selectors that a page's `<style>` blocks hide.
#[derive(Debug, Default, Clone)]
pub struct HiddenRules {
    classes: HashSet<String>,
    ids: HashSet<String>,
}

impl HiddenRules {
    /// Reads the rules of one `<style>` block. Only rules whose last compound selector names a
    /// class or id (and has no pseudo-class such as `:hover`) are kept: they can be matched
    /// without layout, and they are what templates and injected spam use.
    pub fn add_stylesheet(&mut self, css: &str) {
        let css = strip_comments(css);
        let bytes = css.as_bytes();
        let mut prelude_start = 0;
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'{' => {
                    let prelude = css[prelude_start..i].trim();
                    let close = matching_brace(bytes, i);
                    // Rules inside @media and other at-rules apply only on some screens or
                    // never to the text; only unconditional rules decide what is hidden.
                    if !prelude.starts_with('@') {
                        self.add_rule(prelude, &css[i + 1..close.min(css.len())]);
                    }
                    i = close + 1;
                    prelude_start = i;
                }
                b'}' | b';' => {
                    i += 1;
                    prelude_start = i;
                }
                _ => i += 1,
            }
        }
    }

    fn add_rule(&mut self, selectors: &str, body: &str) {
        if style_hides(body).is_none() {
            return;
        }
        for sel in selectors.split(',') {
            let last = sel.split_whitespace().next_back().unwrap_or("");
            let last = last.rsplit('>').next().unwrap_or(last);
            if last.contains(':') || last.contains('[') {
                continue;
            }
            if let Some(id) = last.split('#').nth(1) {
                let id = id.split('.').next().unwrap_or(id);
                if !id.is_empty() {
                    self.ids.insert(id.to_owned());
                }
            } else if let Some(cls) = last.split('.').nth(1)
                && !cls.is_empty()
                && last.split('.').count() == 2
            {
                self.classes.insert(cls.to_owned());
            }
        }
    }

    /// Whether an element with this id and these classes is hidden by a stylesheet rule.
    #[must_use]
    pub fn hides<'c>(&self, id: Option<&str>, mut classes: impl Iterator<Item = &'c str>) -> bool {
        if self.classes.is_empty() && self.ids.is_empty() {
            return false;
        }
        id.is_some_and(|i| self.ids.contains(i)) || classes.any(|c| self.classes.contains(c))
    }

    /// Whether no rule hides anything.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.classes.is_empty() && self.ids.is_empty()
    }
}

/// Index of the `}` closing the `{` at `open` (or the end of the text).
fn matching_brace(bytes: &[u8], open: usize) -> usize {
    let mut depth = 0usize;
    for (j, &b) in bytes.iter().enumerate().skip(open) {
        match b {
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return j;
                }
            }
            _ => {}
        }
    }
    bytes.len()
}

fn strip_comments(css: &str) -> String {
    let mut out = String::with_capacity(css.len());
    let mut rest = css;
    while let Some(i) = rest.find("/*") {
        out.push_str(&rest[..i]);
        match rest[i + 2..].find("*/") {
            Some(j) => rest = &rest[i + 2 + j + 2..],
            None => return out,
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_styles_that_hide() {
        assert_eq!(style_hides("DISPLAY: none"), Some("display:none"));
        assert_eq!(style_hides("color:red;display:none !important"), Some("display:none"));
        assert_eq!(style_hides("visibility:hidden"), Some("visibility:hidden"));
        assert_eq!(style_hides("position:absolute; left:-9999px; top:0"), Some("positioned off-screen"));
        assert_eq!(style_hides("text-indent:-9999px"), Some("text-indent off-screen"));
        assert_eq!(style_hides("font-size:0px"), Some("font-size:0"));
        assert_eq!(style_hides("width:0;height:0"), Some("zero size"));
        assert_eq!(style_hides("height:0;overflow:hidden"), Some("zero size"));
        assert_eq!(style_hides("opacity:0"), Some("opacity:0"));
        assert_eq!(style_hides("position:relative;left:-10px;color:#333"), None);
        assert_eq!(style_hides("display:block;width:0"), None);
        assert_eq!(style_hides("display:none;display:block"), None);
        assert_eq!(style_hides("color:#fff;background-color:#FFFFFF"), Some("text the colour of its background"));
        assert_eq!(style_hides("color:white;background:rgb(255, 255, 255)"), Some("text the colour of its background"));
        assert_eq!(style_hides("color:#fff;background:#c00 url(a.png)"), None);
        assert_eq!(style_hides("color:#333;background:#fff"), None);
    }

    #[test]
    fn stylesheet_rules_by_class_and_id() {
        let mut r = HiddenRules::default();
        r.add_stylesheet(
            "/* x */ .hid{display:none} #spam, div.box .x{position:absolute;left:-3000px}\n\
             .menu li:hover ul{display:block} .menu ul{display:none} .a.b{display:none} .shown{color:red}\n\
             @media screen and (max-width:600px){ .mob{display:none} } @font-face{font-family:x} .after{visibility:hidden}",
        );
        assert!(r.hides(None, ["hid"].into_iter()));
        assert!(r.hides(Some("spam"), std::iter::empty()));
        assert!(r.hides(None, ["x"].into_iter()));
        assert!(!r.hides(None, ["shown"].into_iter()));
        assert!(!r.hides(None, ["menu"].into_iter()));
        assert!(!r.hides(None, ["mob"].into_iter()));
        assert!(r.hides(None, ["after"].into_iter()));
    }
}
