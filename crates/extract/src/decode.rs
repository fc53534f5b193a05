//! Turning response bytes into text without mojibake: BOM, then the HTTP header, then `<meta>`,
//! then detection (chardetng) — and a declared charset is overruled where the bytes plainly
//! contradict it (a page that declares GB2312 but is UTF-8, or declares UTF-8 but is GBK).

#[cfg(test)]
use encoding_rs::GBK;
use encoding_rs::{Encoding, UTF_8};
use serde::{Deserialize, Serialize};

/// Where the encoding used came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EncodingSource {
    /// A byte-order mark.
    Bom,
    /// The `charset` of the HTTP `Content-Type` header.
    Header,
    /// A `<meta charset>` or `<meta http-equiv=Content-Type>` in the page.
    Meta,
    /// Nothing declared; detected from the bytes.
    Detected,
    /// A declaration was present but the bytes contradicted it; detected instead.
    Overruled,
}

/// Decoded page text and how it was decoded.
#[derive(Debug, Clone)]
pub struct Decoded {
    /// The text.
    pub text: String,
    /// The encoding used.
    pub encoding: &'static Encoding,
    /// Where that encoding came from.
    pub source: EncodingSource,
    /// What the page or header declared, if anything (its label as written).
    pub declared: Option<String>,
    /// Whether some bytes were malformed for the encoding used (replaced by U+FFFD).
    pub had_errors: bool,
}

/// How many bytes of the page are searched for a `<meta>` charset declaration.
const META_PRESCAN_BYTES: usize = 4096;

/// Decodes `bytes` of an HTML (or text) response whose `Content-Type` header was `content_type`,
/// detecting (where nothing is declared) as for a page under `.cn`.
#[must_use]
pub fn decode(bytes: &[u8], content_type: Option<&str>) -> Decoded {
    decode_for(bytes, content_type, None)
}

/// The top-level domain that tells detection which legacy encoding to expect (`tw` and `hk` mean
/// Big5, `cn` GBK); IP addresses and local names say nothing, and Chinese is assumed.
#[must_use]
pub fn tld_of(host: &str) -> Option<&str> {
    let last = host.rsplit('.').next()?;
    (last.len() >= 2 && last.bytes().all(|b| b.is_ascii_alphabetic())).then_some(last)
}

/// [`decode`] for a page served by `host`, whose top-level domain guides detection.
#[must_use]
pub fn decode_for(bytes: &[u8], content_type: Option<&str>, host: Option<&str>) -> Decoded {
    if let Some((enc, bom_len)) = Encoding::for_bom(bytes) {
        let (text, had_errors) = enc.decode_without_bom_handling(&bytes[bom_len..]);
        return Decoded {
            text: text.into_owned(),
            encoding: enc,
            source: EncodingSource::Bom,
            declared: None,
            had_errors,
        };
    }
    let header = content_type.and_then(charset_param).map(|l| (l.to_owned(), EncodingSource::Header));
    let declared = header.or_else(|| meta_charset(bytes).map(|l| (l, EncodingSource::Meta)));
    let utf8_ok = std::str::from_utf8(bytes).is_ok();
    let non_ascii = bytes.iter().any(|b| !b.is_ascii());

    if let Some((label, source)) = &declared
        && let Some(enc) = Encoding::for_label(label.trim().as_bytes())
    {
        let enc = html_equivalent(enc);
        // Declared legacy, but the bytes are valid UTF-8 with real multi-byte text: UTF-8.
        if enc != UTF_8 && non_ascii && utf8_ok {
            return finish(bytes, UTF_8, EncodingSource::Overruled, Some(label.clone()));
        }
        let (text, had_errors) = enc.decode_without_bom_handling(bytes);
        if !had_errors || error_share(&text) < 0.01 {
            return Decoded {
                text: text.into_owned(),
                encoding: enc,
                source: *source,
                declared: Some(label.clone()),
                had_errors,
            };
        }
        // Too many malformed sequences for the declared encoding: detect instead.
        let guess = detect(bytes, host);
        if guess != enc {
            return finish(bytes, guess, EncodingSource::Overruled, Some(label.clone()));
        }
        return Decoded {
            text: text.into_owned(),
            encoding: enc,
            source: *source,
            declared: Some(label.clone()),
            had_errors,
        };
    }
    let enc = if utf8_ok { UTF_8 } else { detect(bytes, host) };
    finish(bytes, enc, EncodingSource::Detected, declared.map(|d| d.0))
}

fn finish(bytes: &[u8], enc: &'static Encoding, source: EncodingSource, declared: Option<String>) -> Decoded {
    let (text, had_errors) = enc.decode_without_bom_handling(bytes);
    Decoded { text: text.into_owned(), encoding: enc, source, declared, had_errors }
}

/// GB2312 pages are decoded as GBK (its superset; WHATWG maps the label so already), and GB18030
/// stays GB18030. UTF-16 labels in a page mean UTF-8 per the HTML standard.
fn html_equivalent(enc: &'static Encoding) -> &'static Encoding {
    if enc == encoding_rs::UTF_16LE || enc == encoding_rs::UTF_16BE { UTF_8 } else { enc }
}

fn error_share(text: &str) -> f64 {
    let total = text.chars().count().max(1);
    let bad = text.chars().filter(|&c| c == '\u{FFFD}').count();
    bad as f64 / total as f64
}

/// chardetng's guess, told the page's top-level domain (`cn` where it names none).
fn detect(bytes: &[u8], host: Option<&str>) -> &'static Encoding {
    let mut det = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    let sample = &bytes[..bytes.len().min(256 * 1024)];
    det.feed(sample, sample.len() == bytes.len());
    // Per the WHATWG Encoding Standard the GBK decoder is the GB18030 decoder, so a GBK guess
    // reads GB18030 pages correctly too.
    let tld = host.and_then(tld_of).map(str::to_ascii_lowercase).unwrap_or_else(|| "cn".to_owned());
    det.guess(Some(tld.as_bytes()), chardetng::Utf8Detection::Allow)
}

/// The `charset=` parameter of a Content-Type value.
#[must_use]
pub fn charset_param(content_type: &str) -> Option<&str> {
    content_type.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim().eq_ignore_ascii_case("charset").then(|| v.trim().trim_matches(|c| c == '"' || c == '\''))
    })
}

/// The charset a `<meta>` in the first bytes declares, per the HTML prescan (simplified).
#[must_use]
pub fn meta_charset(bytes: &[u8]) -> Option<String> {
    let head = &bytes[..bytes.len().min(META_PRESCAN_BYTES)];
    let lower: Vec<u8> = head.iter().map(u8::to_ascii_lowercase).collect();
    let mut pos = 0;
    while let Some(i) = memchr::memmem::find(&lower[pos..], b"<meta") {
        let start = pos + i;
        let end = lower[start..].iter().position(|&b| b == b'>').map_or(lower.len(), |e| start + e);
        let tag = &lower[start..end];
        if let Some(c) = memchr::memmem::find(tag, b"charset") {
            let rest = &tag[c + 7..];
            let rest = rest.iter().skip_while(|b| b.is_ascii_whitespace()).copied().collect::<Vec<u8>>();
            if let Some(after_eq) = rest.strip_prefix(b"=") {
                let v: Vec<u8> = after_eq
                    .iter()
                    .skip_while(|b| b.is_ascii_whitespace() || **b == b'"' || **b == b'\'')
                    .take_while(|b| !(b.is_ascii_whitespace() || matches!(**b, b'"' | b'\'' | b';' | b'/' | b'>')))
                    .copied()
                    .collect();
                if !v.is_empty() {
                    return Some(String::from_utf8_lossy(&v).into_owned());
                }
            }
        }
        pos = end.max(start + 5);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_wins_over_meta_and_gb2312_means_gbk() {
        let (bytes, _, _) = GBK.encode("<meta charset=utf-8><p>万载县人民政府</p>");
        let d = decode(&bytes, Some("text/html; charset=GB2312"));
        assert_eq!(d.encoding, GBK);
        assert_eq!(d.source, EncodingSource::Header);
        assert!(d.text.contains("万载县人民政府"));
    }

    #[test]
    fn undeclared_gbk_is_detected() {
        let (bytes, _, _) = GBK.encode(
            "<html><body><p>关于开展第一次全国政府网站普查的通知，各省、自治区、直辖市人民政府。</p></body></html>",
        );
        let d = decode(&bytes, Some("text/html"));
        assert!(d.text.contains("全国政府网站普查"), "{}", d.text);
        assert_eq!(d.source, EncodingSource::Detected);
    }

    #[test]
    fn declared_gb2312_but_utf8_bytes_is_overruled() {
        let html = "<meta http-equiv=\"Content-Type\" content=\"text/html; charset=gb2312\"><p>人民网</p>";
        let d = decode(html.as_bytes(), None);
        assert_eq!(d.encoding, UTF_8);
        assert_eq!(d.source, EncodingSource::Overruled);
        assert_eq!(d.declared.as_deref(), Some("gb2312"));
        assert!(d.text.contains("人民网"));
    }

    #[test]
    fn declared_utf8_but_gbk_bytes_is_overruled() {
        let (bytes, _, _) =
            GBK.encode("<meta charset=\"utf-8\"><p>县长信箱 来信选登 办理结果公开，欢迎社会各界监督。</p>");
        let d = decode(&bytes, None);
        assert!(d.text.contains("县长信箱"), "{}", d.text);
        assert_eq!(d.source, EncodingSource::Overruled);
    }

    #[test]
    fn bom_wins() {
        let mut b = vec![0xEF, 0xBB, 0xBF];
        b.extend_from_slice("<meta charset=gbk>政务".as_bytes());
        let d = decode(&b, Some("text/html; charset=gbk"));
        assert_eq!(d.source, EncodingSource::Bom);
        assert!(d.text.ends_with("政务"));
    }

    #[test]
    fn meta_prescan_variants() {
        assert_eq!(
            meta_charset(b"<META HTTP-EQUIV='Content-Type' CONTENT='text/html; charset=GB2312'>").as_deref(),
            Some("gb2312")
        );
        assert_eq!(meta_charset(b"<meta charset = \"big5\" />").as_deref(), Some("big5"));
        assert_eq!(meta_charset(b"<meta name=x content=y>"), None);
    }
}

#[cfg(test)]
mod more_encodings {
    use super::*;

    #[test]
    fn undeclared_big5_and_gb18030_are_read() {
        let text = "<html><body><p>臺灣地區政府網站普查，各縣市政府應於期限內完成網站檢查與改善。</p></body></html>";
        let (big5, _, _) = encoding_rs::BIG5.encode(text);
        let d = decode_for(&big5, None, Some("www.gov.tw"));
        assert_eq!(d.encoding, encoding_rs::BIG5, "{}", d.text);
        assert!(d.text.contains("政府網站普查"));
        // GB18030 four-byte characters (here 𠮷, outside GBK) survive a GB18030 declaration.
        let text = "<meta charset=gb18030><p>吉祥的𠮷字在政府网站上也要显示正确</p>";
        let (gb, _, _) = encoding_rs::GB18030.encode(text);
        let d = decode(&gb, None);
        assert!(d.text.contains('𠮷') && !d.had_errors, "{}", d.text);
    }
}
