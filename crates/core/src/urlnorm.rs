//! URL resolution and normalisation: one spelling per page, so that each is fetched once.

use url::Url;

/// Query parameters that carry a session id; dropped so one page is not crawled once per session.
const SESSION_PARAMS: &[&str] =
    &["jsessionid", "phpsessid", "sid", "sessionid", "session_id", "sessid", "cfid", "cftoken", "aspsessionid"];

/// Why an `href` did not give an http(s) URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HrefError {
    /// Empty, a bare fragment, or whitespace: not a link at all.
    Empty,
    /// Another scheme (mailto:, javascript:, tel:, data: …): not something to fetch.
    OtherScheme(String),
    /// Looks like a link but cannot be one (`https;//…`, a bad host).
    Invalid(String),
}

/// Encodes the query of a URL found on a page the way a browser does: in the page's encoding.
pub type QueryEncoder<'a> = &'a dyn Fn(&str) -> std::borrow::Cow<'_, [u8]>;

/// Resolves `href` against `base` and normalises it; see [`normalize`].
///
/// # Errors
/// [`HrefError`] when the href is empty, of another scheme, or malformed.
pub fn resolve(base: &Url, href: &str) -> Result<Url, HrefError> {
    resolve_encoded(base, href, None)
}

/// [`resolve`] for a link on a page in a legacy encoding: non-ASCII query text is
/// percent-encoded in that encoding (as browsers do for GBK pages), not in UTF-8.
///
/// # Errors
/// [`HrefError`] when the href is empty, of another scheme, or malformed.
pub fn resolve_encoded(base: &Url, href: &str, encoder: Option<QueryEncoder<'_>>) -> Result<Url, HrefError> {
    let h = href.trim_matches(|c: char| c.is_whitespace() || c == '\u{3000}');
    if h.is_empty() || h.starts_with('#') {
        return Err(HrefError::Empty);
    }
    if let Some(scheme) = leading_scheme(h) {
        let lower = scheme.to_ascii_lowercase();
        if lower != "http" && lower != "https" {
            return Err(HrefError::OtherScheme(lower));
        }
        // "http:/x" and "http:x" are relative links to a browser, but nobody writes them on purpose.
        if !h[scheme.len() + 1..].starts_with("//") {
            return Err(HrefError::Invalid(format!("malformed absolute URL {h:?}")));
        }
    } else if looks_like_mistyped_scheme(h) {
        return Err(HrefError::Invalid(format!("malformed scheme in {h:?}")));
    }
    let mut url = Url::options()
        .base_url(Some(base))
        .encoding_override(encoder)
        .parse(h)
        .map_err(|e| HrefError::Invalid(format!("{e} in {h:?}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(HrefError::OtherScheme(url.scheme().to_owned()));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(HrefError::Invalid(format!("no host in {h:?}")));
    }
    normalize(&mut url);
    Ok(url)
}

/// `scheme:` at the start of an href, per RFC 3986 (letters, digits, `+ - .`).
fn leading_scheme(h: &str) -> Option<&str> {
    let colon = h.find(':')?;
    let s = &h[..colon];
    let mut chars = s.chars();
    let first = chars.next()?;
    (first.is_ascii_alphabetic() && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
        .then_some(s)
}

/// `https;//x`, `http//x`, `http:\\x`-like typos that a browser would turn into a dead relative link.
fn looks_like_mistyped_scheme(h: &str) -> bool {
    let lower = h.get(..8).unwrap_or(h).to_ascii_lowercase();
    ["http;", "https;", "http//", "https//", "http.//", "https.//"].iter().any(|p| lower.starts_with(p))
}

/// Drops the fragment, session ids (`;jsessionid=…` path parameters and session query
/// parameters) and an empty query. Host case and default ports are already normalised by `url`.
pub fn normalize(url: &mut Url) {
    if url.fragment().is_some() {
        url.set_fragment(None);
    }
    // Tested without allocating: nearly every link has neither a session id nor an odd query.
    let path = url.path();
    if path.contains(';')
        && let Some(pos) = path.as_bytes().windows(12).position(|w| w.eq_ignore_ascii_case(b";jsessionid="))
    {
        let new_path = path[..pos].to_owned();
        url.set_path(&new_path);
    }
    if let Some(q) = url.query() {
        if q.is_empty() {
            url.set_query(None);
        } else if q.split('&').any(|pair| pair.is_empty() || is_session_pair(pair)) {
            let keep: Vec<&str> = q.split('&').filter(|pair| !pair.is_empty() && !is_session_pair(pair)).collect();
            if keep.is_empty() {
                url.set_query(None);
            } else {
                let joined = keep.join("&");
                url.set_query(Some(&joined));
            }
        }
    }
}

/// Whether a query pair's key names a session (`jsessionid=…`, `ASPSESSIONIDxxxx=…`).
fn is_session_pair(pair: &str) -> bool {
    let key = pair.split('=').next().unwrap_or("");
    SESSION_PARAMS.iter().any(|s| {
        key.eq_ignore_ascii_case(s)
            || (*s == "aspsessionid"
                && key.len() > s.len()
                && key.as_bytes()[..s.len()].eq_ignore_ascii_case(s.as_bytes()))
    })
}

/// Whether `host` is `scope` or (with `subdomains`) one of its subdomains.
#[must_use]
pub fn host_in_scope(host: &str, scope: &str, subdomains: bool) -> bool {
    host.eq_ignore_ascii_case(scope)
        || (subdomains
            && host.len() > scope.len()
            && host[host.len() - scope.len()..].eq_ignore_ascii_case(scope)
            && host.as_bytes()[host.len() - scope.len() - 1] == b'.')
}

/// The lowercase file extension of the URL's last path segment, if any.
#[must_use]
pub fn extension(url: &Url) -> Option<String> {
    extension_as_written(url).map(str::to_ascii_lowercase)
}

/// The file extension of the URL's last path segment as written (any case), without copying it.
#[must_use]
pub fn extension_as_written(url: &Url) -> Option<&str> {
    let last = url.path_segments()?.next_back()?;
    let dot = last.rfind('.')?;
    let ext = &last[dot + 1..];
    (!ext.is_empty() && ext.len() <= 6).then_some(ext)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("http://www.example.gov.cn/col/index.html").unwrap()
    }

    #[test]
    fn resolves_and_normalises() {
        let u = resolve(&base(), " ../art/2024/7/10/art_1.html#top ").unwrap();
        assert_eq!(u.as_str(), "http://www.example.gov.cn/art/2024/7/10/art_1.html");
        let u = resolve(&base(), "list.jsp;jsessionid=ABC123?page=2&sid=x9").unwrap();
        assert_eq!(u.as_str(), "http://www.example.gov.cn/col/list.jsp?page=2");
        let u = resolve(&base(), "HTTP://WWW.Example.GOV.cn:80/a?").unwrap();
        assert_eq!(u.as_str(), "http://www.example.gov.cn/a");
        let u = resolve(&base(), "/x.asp?ASPSESSIONIDQQ=1&id=7").unwrap();
        assert_eq!(u.as_str(), "http://www.example.gov.cn/x.asp?id=7");
    }

    #[test]
    fn rejects_what_is_not_a_fetchable_link() {
        assert_eq!(resolve(&base(), "#"), Err(HrefError::Empty));
        assert_eq!(resolve(&base(), "javascript:void(0)"), Err(HrefError::OtherScheme("javascript".into())));
        assert_eq!(resolve(&base(), "mailto:a@b.cn"), Err(HrefError::OtherScheme("mailto".into())));
        assert!(matches!(resolve(&base(), "https;//example.com/x"), Err(HrefError::Invalid(_))));
        assert!(matches!(resolve(&base(), "https://example]org/x"), Err(HrefError::Invalid(_))));
        assert!(matches!(resolve(&base(), "http:/www.example.com/"), Err(HrefError::Invalid(_))));
        assert!(matches!(resolve(&base(), "http:www.example.com/"), Err(HrefError::Invalid(_))));
        assert!(matches!(resolve(&base(), "http://"), Err(HrefError::Invalid(_))));
    }

    #[test]
    fn legacy_page_queries_use_the_page_encoding() {
        fn latin1(s: &str) -> std::borrow::Cow<'_, [u8]> {
            s.chars().map(|c| c as u32 as u8).collect::<Vec<u8>>().into()
        }
        let u = resolve_encoded(&base(), "/s?q=ü", Some(&latin1)).unwrap();
        assert_eq!(u.as_str(), "http://www.example.gov.cn/s?q=%FC");
        let u = resolve(&base(), "/s?q=ü").unwrap();
        assert_eq!(u.as_str(), "http://www.example.gov.cn/s?q=%C3%BC");
    }

    #[test]
    fn scope_and_extension() {
        assert!(host_in_scope("www.a.gov.cn", "www.a.gov.cn", false));
        assert!(host_in_scope("zwgk.a.gov.cn", "a.gov.cn", true));
        assert!(!host_in_scope("evila.gov.cn", "a.gov.cn", true));
        assert!(!host_in_scope("zwgk.a.gov.cn", "a.gov.cn", false));
        assert_eq!(extension(&Url::parse("http://a/b/表格.DOCX").unwrap()).as_deref(), Some("docx"));
        assert_eq!(extension(&Url::parse("http://a/b/").unwrap()), None);
    }
}
