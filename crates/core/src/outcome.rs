//! What happened when a URL was fetched or checked. A failed fetch is data, not an error: it is
//! stored, reported and scored like any other result.

use serde::{Deserialize, Serialize};

/// What a link points at, as the page uses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkKind {
    /// An ordinary hyperlink to another page.
    Page,
    /// An image source.
    Image,
    /// An external script.
    Script,
    /// A stylesheet.
    Stylesheet,
    /// A frame or iframe source.
    Frame,
    /// A downloadable file (doc, xls, pdf, zip, …) or embedded media.
    Download,
}

impl LinkKind {
    /// The lowercase name used in JSON and the store.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            LinkKind::Page => "page",
            LinkKind::Image => "image",
            LinkKind::Script => "script",
            LinkKind::Stylesheet => "stylesheet",
            LinkKind::Frame => "frame",
            LinkKind::Download => "download",
        }
    }

    /// Parses the stored name of a kind.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "page" => LinkKind::Page,
            "image" => LinkKind::Image,
            "script" => LinkKind::Script,
            "stylesheet" => LinkKind::Stylesheet,
            "frame" => LinkKind::Frame,
            "download" => LinkKind::Download,
            _ => return None,
        })
    }

    /// Whether a crawler would fetch the target as a page to read further links from it.
    #[must_use]
    pub fn is_crawlable(self) -> bool {
        matches!(self, LinkKind::Page | LinkKind::Frame)
    }
}

/// The result of fetching or checking one URL (after redirects and retries).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// A 2xx (or 3xx without Location) answer.
    Ok {
        /// HTTP status.
        status: u16,
    },
    /// A 4xx or 5xx answer.
    HttpError {
        /// HTTP status.
        status: u16,
    },
    /// A 200 page that says the page does not exist, or that equals the site's answer for a
    /// surely-missing URL.
    SoftNotFound {
        /// HTTP status (usually 200).
        status: u16,
        /// The message matched, or why the page was taken for a missing page.
        reason: String,
    },
    /// The host name could not be resolved.
    Dns {
        /// The resolver's message.
        message: String,
    },
    /// The TCP connection failed.
    Connect {
        /// The error message.
        message: String,
    },
    /// The TLS handshake failed or the certificate was refused.
    Tls {
        /// The error message.
        message: String,
    },
    /// No complete answer within the timeout.
    Timeout {
        /// The time waited, in milliseconds.
        after_ms: u64,
    },
    /// Redirects came back to a URL already visited.
    RedirectLoop {
        /// The chain of URLs, first to the repeated one.
        chain: Vec<String>,
    },
    /// More redirects than the limit allows.
    TooManyRedirects {
        /// The limit.
        limit: u32,
    },
    /// The body could not be read to its end (connection reset, bad encoding of the transfer).
    Body {
        /// The error message.
        message: String,
    },
    /// Not fetched: it resolves to a loopback, private or link-local address.
    Blocked {
        /// Which address and why.
        reason: String,
    },
    /// Not fetched: robots.txt keeps it out.
    Robots,
    /// Not fetched: the URL cannot be parsed, or it is not http(s).
    InvalidUrl {
        /// What is wrong with it.
        message: String,
    },
    /// Not fetched: a crawler-trap guard or a limit cut it off.
    Skipped {
        /// Which guard or limit.
        reason: String,
    },
}

impl Outcome {
    /// Whether a citizen following the link would fail to get what it promises.
    #[must_use]
    pub fn is_broken(&self) -> bool {
        match self {
            Outcome::Ok { .. } | Outcome::Blocked { .. } | Outcome::Robots | Outcome::Skipped { .. } => false,
            // 429 means "slow down", not "gone"; it is no evidence against the link.
            Outcome::HttpError { status } => *status != 429,
            _ => true,
        }
    }

    /// Whether a fetch was attempted and failed (as opposed to not attempted at all).
    #[must_use]
    pub fn is_failure(&self) -> bool {
        self.is_broken() || matches!(self, Outcome::HttpError { status: 429 })
    }

    /// Whether a retry could help (timeouts, connection errors, 5xx, 429).
    #[must_use]
    pub fn is_transient(&self) -> bool {
        match self {
            Outcome::Timeout { .. } | Outcome::Connect { .. } | Outcome::Body { .. } => true,
            Outcome::HttpError { status } => matches!(status, 429 | 500 | 502 | 503 | 504),
            _ => false,
        }
    }

    /// The HTTP status, where an answer came.
    #[must_use]
    pub fn status(&self) -> Option<u16> {
        match self {
            Outcome::Ok { status } | Outcome::HttpError { status } | Outcome::SoftNotFound { status, .. } => {
                Some(*status)
            }
            _ => None,
        }
    }

    /// The short machine name of the outcome (the serde tag).
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            Outcome::Ok { .. } => "ok",
            Outcome::HttpError { .. } => "http_error",
            Outcome::SoftNotFound { .. } => "soft_not_found",
            Outcome::Dns { .. } => "dns",
            Outcome::Connect { .. } => "connect",
            Outcome::Tls { .. } => "tls",
            Outcome::Timeout { .. } => "timeout",
            Outcome::RedirectLoop { .. } => "redirect_loop",
            Outcome::TooManyRedirects { .. } => "too_many_redirects",
            Outcome::Body { .. } => "body",
            Outcome::Blocked { .. } => "blocked",
            Outcome::Robots => "robots",
            Outcome::InvalidUrl { .. } => "invalid_url",
            Outcome::Skipped { .. } => "skipped",
        }
    }

    /// A one-line human description, used as evidence.
    #[must_use]
    pub fn describe(&self) -> String {
        match self {
            Outcome::Ok { status } => format!("HTTP {status}"),
            Outcome::HttpError { status } => format!("HTTP {status}"),
            Outcome::SoftNotFound { status, reason } => {
                format!("HTTP {status}, soft 404: {reason}")
            }
            Outcome::Dns { message } => format!("DNS error: {message}"),
            Outcome::Connect { message } => format!("connection failed: {message}"),
            Outcome::Tls { message } => format!("TLS error: {message}"),
            Outcome::Timeout { after_ms } => format!("timed out after {after_ms} ms"),
            Outcome::RedirectLoop { chain } => format!("redirect loop: {}", chain.join(" → ")),
            Outcome::TooManyRedirects { limit } => format!("more than {limit} redirects"),
            Outcome::Body { message } => format!("body could not be read: {message}"),
            Outcome::Blocked { reason } => format!("not fetched: {reason}"),
            Outcome::Robots => "not fetched: disallowed by robots.txt".to_owned(),
            Outcome::InvalidUrl { message } => format!("invalid URL: {message}"),
            Outcome::Skipped { reason } => format!("not fetched: {reason}"),
        }
    }

    /// [`describe`](Self::describe) in Chinese, for reports in Chinese; the server's or the
    /// library's own message stays as it was written.
    #[must_use]
    pub fn describe_zh(&self) -> String {
        match self {
            Outcome::Ok { status } | Outcome::HttpError { status } => format!("HTTP {status}"),
            Outcome::SoftNotFound { status, reason } => {
                format!("HTTP {status}，实为“页面不存在”页面（软404）：{}", soft404_reason_zh(reason))
            }
            Outcome::Dns { message } => format!("域名解析失败：{message}"),
            Outcome::Connect { message } => format!("连接失败：{message}"),
            Outcome::Tls { message } => format!("TLS 错误：{message}"),
            Outcome::Timeout { after_ms } => format!("{after_ms} 毫秒后超时"),
            Outcome::RedirectLoop { chain } => format!("循环重定向：{}", chain.join(" → ")),
            Outcome::TooManyRedirects { limit } => format!("重定向超过 {limit} 次"),
            Outcome::Body { message } => format!("无法读取响应内容：{message}"),
            Outcome::Blocked { reason } => format!("未抓取：{reason}"),
            Outcome::Robots => "未抓取：robots.txt 禁止访问".to_owned(),
            Outcome::InvalidUrl { message } => format!("网址无效：{message}"),
            Outcome::Skipped { reason } => format!("未抓取：{reason}"),
        }
    }
}

/// Why a 200 page is a soft 404: its bytes are the site's answer for a surely-missing URL.
pub const SOFT404_SAME_BYTES: &str = "identical to the site's answer for a missing page";
/// Why a 200 page is a soft 404: its title and length are those of that answer.
pub const SOFT404_SAME_PAGE: &str = "the same page the site gives for a missing URL";
/// How a soft 404 found by the page's own words starts its reason (then the words, quoted).
pub const SOFT404_SAYS: &str = "the page says ";

/// A soft 404's reason (one of the above) in Chinese.
fn soft404_reason_zh(reason: &str) -> String {
    if reason == SOFT404_SAME_BYTES {
        "与网站对不存在网址的响应完全相同".to_owned()
    } else if reason == SOFT404_SAME_PAGE {
        "与网站对不存在网址返回的页面相同".to_owned()
    } else if let Some(words) = reason.strip_prefix(SOFT404_SAYS) {
        format!("页面显示 {words}")
    } else {
        reason.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broken_and_transient_classes() {
        assert!(Outcome::HttpError { status: 404 }.is_broken());
        assert!(!Outcome::HttpError { status: 429 }.is_broken());
        assert!(Outcome::HttpError { status: 503 }.is_transient());
        assert!(!Outcome::HttpError { status: 404 }.is_transient());
        assert!(!Outcome::Robots.is_broken());
        assert!(Outcome::SoftNotFound { status: 200, reason: "页面不存在".into() }.is_broken());
    }

    #[test]
    fn outcomes_are_described_in_both_languages() {
        let o = Outcome::Timeout { after_ms: 15000 };
        assert_eq!(o.describe(), "timed out after 15000 ms");
        assert_eq!(o.describe_zh(), "15000 毫秒后超时");
        assert_eq!(Outcome::HttpError { status: 404 }.describe_zh(), "HTTP 404");
        let soft = Outcome::SoftNotFound { status: 200, reason: format!("{SOFT404_SAYS}\"页面不存在\"") };
        assert_eq!(soft.describe_zh(), "HTTP 200，实为“页面不存在”页面（软404）：页面显示 \"页面不存在\"");
    }

    #[test]
    fn outcome_round_trips_through_json() {
        let o = Outcome::RedirectLoop { chain: vec!["a".into(), "b".into(), "a".into()] };
        let s = serde_json::to_string(&o).unwrap();
        assert!(s.contains("\"outcome\":\"redirect_loop\""));
        assert_eq!(serde_json::from_str::<Outcome>(&s).unwrap(), o);
    }
}

/// How a site answered on HTTPS: probed once per scan, kept with the site's statistics.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpsReport {
    /// The address probed (host and port).
    pub address: String,
    /// Whether a TLS connection was made and the certificate is valid for the host today.
    pub ok: bool,
    /// Why not.
    #[serde(default)]
    pub error: Option<String>,
    /// The certificate's first day of validity (RFC 3339).
    #[serde(default)]
    pub not_before: Option<String>,
    /// The certificate's last day of validity (RFC 3339).
    #[serde(default)]
    pub not_after: Option<String>,
    /// Who issued the certificate.
    #[serde(default)]
    pub issuer: Option<String>,
}

/// What TLS libraries say when a server offers only protocol versions older than TLS 1.2.
const OLD_TLS_MARKERS: &[&str] =
    &["ProtocolVersion", "protocol version", "UnsupportedVersion", "unsupported protocol", "PeerIncompatible"];

/// Whether a TLS failure means the server offers only TLS 1.0/1.1, which rustls and every
/// current browser refuse.
#[must_use]
pub fn is_old_tls(message: &str) -> bool {
    OLD_TLS_MARKERS.iter().any(|m| message.contains(m))
}
