//! sitemap.xml and sitemap index files: the URLs they list.

use quick_xml::Reader;
use quick_xml::events::Event;

/// What a sitemap file holds.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Sitemap {
    /// Page URLs (`<urlset><url><loc>`).
    pub urls: Vec<String>,
    /// Further sitemaps (`<sitemapindex><sitemap><loc>`).
    pub sitemaps: Vec<String>,
}

/// Reads a sitemap or sitemap index; at most `limit` URLs are kept.
///
/// # Errors
/// When the text is not a sitemap (no `urlset` or `sitemapindex` root), with the reason.
pub fn parse(xml: &str, limit: usize) -> Result<Sitemap, String> {
    let mut reader = Reader::from_str(xml);
    reader.config_mut().trim_text(true);
    let mut out = Sitemap::default();
    let mut root: Option<String> = None;
    let mut loc: Option<String> = None;
    let mut parent_is_sitemap = false;
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                let name = e.local_name().as_ref().to_ascii_lowercase();
                if root.is_none() {
                    if name != "urlset" && name != "sitemapindex" {
                        return Err(format!("not a sitemap: the root element is <{name}>"));
                    }
                    root = Some(name.clone());
                }
                match name.as_str() {
                    "sitemap" => parent_is_sitemap = true,
                    "url" => parent_is_sitemap = false,
                    "loc" => loc = Some(String::new()),
                    _ => {}
                }
            }
            Ok(Event::End(e)) if e.local_name().as_ref().eq_ignore_ascii_case("loc") => {
                let l = loc.take().unwrap_or_default();
                let l = l.trim();
                if !l.is_empty() && out.urls.len() + out.sitemaps.len() < limit {
                    if parent_is_sitemap { out.sitemaps.push(l.to_owned()) } else { out.urls.push(l.to_owned()) }
                }
            }
            Ok(Event::Text(t)) => {
                if let Some(l) = loc.as_mut() {
                    l.push_str(&t.xml10_content());
                }
            }
            Ok(Event::CData(t)) => {
                if let Some(l) = loc.as_mut() {
                    l.push_str(t.as_ref());
                }
            }
            Ok(Event::GeneralRef(r)) => {
                if let Some(l) = loc.as_mut() {
                    match r.resolve_char_ref() {
                        Ok(Some(c)) => l.push(c),
                        _ => l.push_str(match r.as_ref() {
                            "amp" => "&",
                            "lt" => "<",
                            "gt" => ">",
                            "quot" => "\"",
                            "apos" => "'",
                            _ => "",
                        }),
                    }
                }
            }
            Ok(Event::Eof) => break,
            Err(e) => {
                if root.is_none() {
                    return Err(format!("not a sitemap: {e}"));
                }
                break;
            }
            _ => {}
        }
    }
    if root.is_none() {
        return Err("not a sitemap: no urlset or sitemapindex element".to_owned());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urlset_and_index() {
        let s = parse(
            r#"<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
            <url><loc> http://a.gov.cn/1.html </loc><lastmod>2024-07-01</lastmod></url>
            <url><loc><![CDATA[http://a.gov.cn/2.html]]></loc></url>
            <url><loc>http://a.gov.cn/list.jsp?a=1&amp;b=2</loc></url></urlset>"#,
            100,
        )
        .unwrap();
        assert_eq!(s.urls, ["http://a.gov.cn/1.html", "http://a.gov.cn/2.html", "http://a.gov.cn/list.jsp?a=1&b=2"]);
        let i =
            parse("<sitemapindex><sitemap><loc>http://a.gov.cn/s1.xml</loc></sitemap></sitemapindex>", 100).unwrap();
        assert_eq!(i.sitemaps, ["http://a.gov.cn/s1.xml"]);
        assert!(parse("<html><body>hi</body></html>", 100).is_err());
        assert!(parse("not xml at all", 100).is_err());
    }
}
