//! The channels alerts go out by: webhooks (the alert as signed JSON, or a chat robot's
//! markdown or text message with its signature) and mail over SMTP (lettre).

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use sitecensus_store::monitor::Delivery;

use crate::config::{ChannelConfig, ChannelKind, SmtpSecurity, WebhookFormat};

/// Why a message could not be sent (it stays in the outbox, to be tried again).
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The webhook did not answer, or answered with an error.
    #[error("webhook: {0}")]
    Webhook(String),
    /// The mail server refused or could not be reached.
    #[error("mail: {0}")]
    Mail(String),
}

/// What a message needs to know of a site beyond the alert: its name and region.
#[derive(Debug, Clone, Default)]
pub struct SiteInfo {
    /// The site list's name for it.
    pub name: Option<String>,
    /// Its region code.
    pub region: Option<String>,
}

/// One event as a message says it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Event<'a> {
    /// The message's number in the outbox: a receiver that sees one twice can drop it.
    pub id: i64,
    /// The alert's number.
    pub alert: i64,
    /// `fire` or `resolve`.
    pub event: &'a str,
    /// The site's URL as given.
    pub site: &'a str,
    /// Its name.
    pub name: Option<&'a str>,
    /// Its region code.
    pub region: Option<&'a str>,
    /// The check id.
    pub check: &'a str,
    /// The check's name in Chinese.
    pub check_zh: &'a str,
    /// The address it is about.
    pub target: &'a str,
    /// Its severity.
    pub severity: &'a str,
    /// The evidence in English.
    pub evidence: &'a str,
    /// The evidence in Chinese.
    pub evidence_zh: Option<&'a str>,
    /// Where the web app shows it.
    pub link: Option<&'a str>,
    /// When it was raised.
    pub opened_at: &'a str,
    /// When it cleared.
    pub resolved_at: Option<&'a str>,
}

impl<'a> Event<'a> {
    /// The event a delivery tells of.
    #[must_use]
    pub fn of(d: &'a Delivery, site: &'a SiteInfo) -> Self {
        let a = &d.alert;
        Event {
            id: d.id,
            alert: a.id,
            event: &d.event,
            site: &a.site,
            name: site.name.as_deref(),
            region: site.region.as_deref(),
            check: &a.check,
            check_zh: sitecensus_core::CheckId::parse(&a.check).map_or(a.check.as_str(), |c| c.name_zh()),
            target: &a.target,
            severity: &a.severity,
            evidence: &a.evidence,
            evidence_zh: a.evidence_zh.as_deref(),
            link: a.link.as_deref(),
            opened_at: &a.opened_at,
            resolved_at: a.resolved_at.as_deref(),
        }
    }

    /// A one-line title: 【预警】东湖区人民政府：首页不更新.
    #[must_use]
    pub fn title(&self, en: bool) -> String {
        let who = self.name.unwrap_or(self.site);
        match (self.event == "resolve", en) {
            (false, false) => format!("【预警】{who}：{}", self.check_zh),
            (true, false) => format!("【已恢复】{who}：{}", self.check_zh),
            (false, true) => format!("[alert] {who}: {}", self.check),
            (true, true) => format!("[resolved] {who}: {}", self.check),
        }
    }

    /// The message's lines, as plain text (a mail, a JSON body) or for a chat robot's markdown
    /// (`md`): there what crawled pages wrote — the evidence, the address — is made inert, so a
    /// defacer's `[领奖](http://…)` is shown, not linked, and an image is not loaded.
    #[must_use]
    pub fn lines(&self, en: bool, md: bool) -> Vec<String> {
        let text = |s: &str| if md { inert_markdown(s) } else { s.to_owned() };
        let url = |s: &str| if md { inert_url(s) } else { s.to_owned() };
        let mut l = Vec::new();
        let evidence = text(if en { self.evidence } else { self.evidence_zh.unwrap_or(self.evidence) });
        let name = text(self.name.unwrap_or(""));
        let site = url(self.site);
        if en {
            l.push(format!("site: {name} {site}"));
            if self.event == "resolve" {
                l.push(format!("no longer found (raised {})", self.opened_at));
            } else {
                l.push(format!("check: {} ({})", self.check, self.severity));
                l.push(format!("evidence: {evidence}"));
            }
            if !self.target.is_empty() {
                l.push(format!("address: {}", url(self.target)));
            }
            if let Some(link) = self.link {
                l.push(format!("details: {}", url(link)));
            }
        } else {
            l.push(format!("网站：{name} {site}"));
            if self.event == "resolve" {
                l.push(format!("已不再发现（{} 起预警）", self.opened_at));
            } else {
                l.push(format!("检查项：{}（{}）", self.check_zh, self.check));
                l.push(format!("证据：{evidence}"));
            }
            if !self.target.is_empty() {
                l.push(format!("地址：{}", url(self.target)));
            }
            if let Some(link) = self.link {
                l.push(format!("查看：{}", url(link)));
            }
        }
        l
    }
}

/// Crawled text made inert in a chat robot's markdown: the characters markdown gives a meaning
/// become their full-width forms, line breaks spaces, and `://` is broken so that an address in
/// the text is not turned into a link.
fn inert_markdown(s: &str) -> String {
    s.replace("://", "：//")
        .chars()
        .map(|c| match c {
            '[' => '［',
            ']' => '］',
            '(' => '（',
            ')' => '）',
            '<' => '＜',
            '>' => '＞',
            '*' => '＊',
            '_' => '＿',
            '#' => '＃',
            '`' => '｀',
            '!' => '！',
            '|' => '｜',
            '~' => '～',
            '\\' => '＼',
            '\n' | '\r' => ' ',
            c => c,
        })
        .collect()
}

/// An address made inert in markdown: the characters that would end or open markup
/// percent-encoded (the same address to a browser).
fn inert_url(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '(' => out.push_str("%28"),
            ')' => out.push_str("%29"),
            '[' => out.push_str("%5B"),
            ']' => out.push_str("%5D"),
            '<' => out.push_str("%3C"),
            '>' => out.push_str("%3E"),
            '`' => out.push_str("%60"),
            '*' => out.push_str("%2A"),
            '_' => out.push_str("%5F"),
            ' ' => out.push_str("%20"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// A message for one or more events (a digest holds many).
#[derive(Debug, Clone)]
pub struct Message {
    /// Its title (a mail's subject).
    pub title: String,
    /// Its text.
    pub text: String,
    /// Its text as a chat robot's markdown, what crawled pages wrote made inert.
    pub markdown: String,
    /// The events, for a JSON body.
    pub events: serde_json::Value,
}

impl Message {
    /// The message for `events` in the channel's language.
    #[must_use]
    pub fn new(events: &[Event<'_>], en: bool) -> Self {
        let json = serde_json::to_value(events).unwrap_or_default();
        if let [e] = events {
            return Message {
                title: e.title(en),
                text: e.lines(en, false).join("\n"),
                markdown: markdown_lines(&e.lines(en, true).join("\n")),
                events: json,
            };
        }
        let fired = events.iter().filter(|e| e.event == "fire").count();
        let title = if en {
            format!("[sitecensus digest] {fired} new alert(s), {} resolved", events.len() - fired)
        } else {
            format!("【sitecensus 汇总】新预警 {fired} 条，已恢复 {} 条", events.len() - fired)
        };
        let body = |md: bool| {
            let each = |e: &Event<'_>| {
                let title = if md { inert_markdown(&e.title(en)) } else { e.title(en) };
                format!("{title}\n{}", e.lines(en, md).join("\n"))
            };
            events.iter().map(each).collect::<Vec<_>>().join("\n\n")
        };
        Message { title, text: body(false), markdown: markdown_lines(&body(true)), events: json }
    }
}

type HmacSha256 = Hmac<Sha256>;

fn hmac(key: &[u8], msg: &[u8]) -> Vec<u8> {
    let mut m = HmacSha256::new_from_slice(key).expect("HMAC takes a key of any length");
    m.update(msg);
    m.finalize().into_bytes().to_vec()
}

/// The request a webhook channel makes for a message at `now_ms`: its URL, headers and body.
#[must_use]
pub fn webhook_request(ch: &ChannelConfig, m: &Message, now_ms: i64) -> (String, Vec<(String, String)>, String) {
    let url = ch.url.clone().unwrap_or_default();
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let secret = ch.secret.as_deref();
    match ch.format {
        WebhookFormat::Json => {
            let body = serde_json::json!({"title": m.title, "text": m.text, "events": m.events}).to_string();
            let mut headers = vec![("content-type".to_owned(), "application/json".to_owned())];
            if let Some(s) = secret {
                let ts = now_ms / 1000;
                let sig = hmac(s.as_bytes(), format!("{ts}.{body}").as_bytes());
                let hex = crate::hex(&sig);
                headers.push(("x-sitecensus-timestamp".to_owned(), ts.to_string()));
                headers.push(("x-sitecensus-signature".to_owned(), format!("sha256={hex}")));
            }
            (url, headers, body)
        }
        WebhookFormat::Dingtalk => {
            let body = serde_json::json!({
                "msgtype": "markdown",
                "markdown": {"title": m.title, "text": format!("### {}\n\n{}", inert_markdown(&m.title), m.markdown)},
            })
            .to_string();
            let url = match secret {
                Some(s) => {
                    let sign = b64(&hmac(s.as_bytes(), format!("{now_ms}\n{s}").as_bytes()));
                    let sep = if url.contains('?') { '&' } else { '?' };
                    format!("{url}{sep}timestamp={now_ms}&sign={}", percent(&sign))
                }
                None => url,
            };
            (url, vec![("content-type".to_owned(), "application/json".to_owned())], body)
        }
        WebhookFormat::Wecom => {
            let body = serde_json::json!({
                "msgtype": "markdown",
                "markdown": {"content": format!("### {}\n{}", inert_markdown(&m.title), m.markdown)},
            })
            .to_string();
            (url, vec![("content-type".to_owned(), "application/json".to_owned())], body)
        }
        WebhookFormat::Feishu => {
            let mut body = serde_json::json!({
                "msg_type": "text",
                "content": {"text": format!("{}\n{}", m.title, m.text)},
            });
            if let Some(s) = secret {
                let ts = now_ms / 1000;
                body["timestamp"] = ts.to_string().into();
                body["sign"] = b64(&hmac(format!("{ts}\n{s}").as_bytes(), b"")).into();
            }
            (url, vec![("content-type".to_owned(), "application/json".to_owned())], body.to_string())
        }
    }
}

/// Text lines as markdown list lines (blank lines kept between a digest's events).
fn markdown_lines(text: &str) -> String {
    text.lines().map(|l| if l.is_empty() { String::new() } else { format!("- {l}") }).collect::<Vec<_>>().join("\n")
}

/// A query-string value, percent-encoded.
fn percent(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Sends messages by a channel.
pub struct Sender {
    http: reqwest::Client,
}

impl Sender {
    /// A sender (one HTTP client for every webhook).
    ///
    /// # Errors
    /// When the HTTP client cannot be built.
    pub fn new() -> Result<Self, SendError> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(20))
            .build()
            .map_err(|e| SendError::Webhook(e.to_string()))?;
        Ok(Sender { http })
    }

    /// Sends `m` by `ch`.
    ///
    /// # Errors
    /// When it could not be sent.
    pub async fn send(&self, ch: &ChannelConfig, m: &Message) -> Result<(), SendError> {
        match ch.kind {
            ChannelKind::Webhook => self.webhook(ch, m).await,
            ChannelKind::Email => mail(ch, m).await,
        }
    }

    async fn webhook(&self, ch: &ChannelConfig, m: &Message) -> Result<(), SendError> {
        let (url, headers, body) = webhook_request(ch, m, chrono::Utc::now().timestamp_millis());
        let mut req = self.http.post(&url).body(body);
        for (k, v) in headers {
            req = req.header(k, v);
        }
        let r = req.send().await.map_err(|e| SendError::Webhook(format!("{}: {e}", ch.name)))?;
        if !r.status().is_success() {
            return Err(SendError::Webhook(format!("{}: HTTP {}", ch.name, r.status())));
        }
        Ok(())
    }
}

async fn mail(ch: &ChannelConfig, m: &Message) -> Result<(), SendError> {
    use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
    let err = |e: &dyn std::fmt::Display| SendError::Mail(format!("{}: {e}", ch.name));
    let server = ch.smtp.as_deref().unwrap_or_default();
    let (host, port) = match server.rsplit_once(':') {
        Some((h, p)) => (h, p.parse::<u16>().map_err(|e| err(&e))?),
        None => (server, if ch.security == SmtpSecurity::Tls { 465 } else { 587 }),
    };
    let mut builder = match ch.security {
        SmtpSecurity::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host).map_err(|e| err(&e))?,
        SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host).map_err(|e| err(&e))?,
        SmtpSecurity::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
    }
    .port(port)
    .timeout(Some(std::time::Duration::from_secs(30)));
    if let (Some(user), Some(pass)) = (&ch.user, &ch.secret) {
        builder =
            builder.credentials(lettre::transport::smtp::authentication::Credentials::new(user.clone(), pass.clone()));
    }
    let mut email = lettre::Message::builder()
        .from(ch.from.as_deref().unwrap_or_default().parse().map_err(|e| err(&e))?)
        .subject(m.title.clone());
    for to in &ch.to {
        email = email.to(to.parse().map_err(|e| err(&e))?);
    }
    let email =
        email.header(lettre::message::header::ContentType::TEXT_PLAIN).body(m.text.clone()).map_err(|e| err(&e))?;
    builder.build().send(email).await.map_err(|e| err(&e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn channel(format: WebhookFormat) -> ChannelConfig {
        ChannelConfig {
            name: "robot".into(),
            kind: ChannelKind::Webhook,
            url: Some("http://robot.example/send?access_token=T".into()),
            format,
            secret: Some("SECRET".into()),
            smtp: None,
            security: SmtpSecurity::default(),
            user: None,
            from: None,
            to: Vec::new(),
            regions: Vec::new(),
            sites: Vec::new(),
            digest: None,
            max_per_minute: None,
            lang: None,
        }
    }

    #[test]
    fn robots_get_their_formats_and_signatures() {
        let m = Message {
            title: "【预警】东湖区：首页不更新".into(),
            text: "网站：东湖区\n证据：x".into(),
            markdown: markdown_lines("网站：东湖区\n证据：x"),
            events: serde_json::json!([]),
        };
        let (url, _, body) = webhook_request(&channel(WebhookFormat::Dingtalk), &m, 1_700_000_000_000);
        // HMAC-SHA256 of "1700000000000\nSECRET" under "SECRET", base64, percent-encoded.
        let sign = base64::engine::general_purpose::STANDARD.encode(hmac(b"SECRET", b"1700000000000\nSECRET"));
        assert_eq!(
            url,
            format!("http://robot.example/send?access_token=T&timestamp=1700000000000&sign={}", percent(&sign))
        );
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["msgtype"], "markdown");
        assert!(v["markdown"]["text"].as_str().unwrap().contains("- 证据：x"));
        let (_, _, body) = webhook_request(&channel(WebhookFormat::Feishu), &m, 1_700_000_000_000);
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["timestamp"], "1700000000");
        assert_eq!(v["sign"], base64::engine::general_purpose::STANDARD.encode(hmac(b"1700000000\nSECRET", b"")));
        let (_, headers, body) = webhook_request(&channel(WebhookFormat::Json), &m, 1_700_000_000_000);
        let sig = headers.iter().find(|(k, _)| k == "x-sitecensus-signature").unwrap();
        let expected: String =
            hmac(b"SECRET", format!("1700000000.{body}").as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(sig.1, format!("sha256={expected}"));
    }

    /// What a crawled page wrote reaches a chat robot inert: a defacer's link is shown, not
    /// linked, its image not loaded, its line breaks start no heading; mail and JSON keep it as
    /// it was written.
    #[test]
    fn crawled_text_is_inert_in_a_robots_markdown() {
        let d = Delivery {
            id: 1,
            event: "fire".into(),
            alert: sitecensus_store::monitor::AlertRow {
                id: 1,
                site: "http://www.a.gov.cn/".into(),
                check: "security.defacement".into(),
                target: "http://www.a.gov.cn/x(1).html".into(),
                severity: "warn".into(),
                evidence: "it now reads".into(),
                evidence_zh: Some(
                    "现显示「[领奖](http://evil.example/) ![](http://evil.example/t.gif)\n# 标题」".into(),
                ),
                link: Some("https://census.example.gov.cn/sites/3?scoring=1#findings".into()),
                opened_at: "2024-07-08T10:00:00+08:00".into(),
                resolved_at: None,
            },
        };
        let info = SiteInfo { name: Some("A区".into()), region: None };
        let m = Message::new(&[Event::of(&d, &info)], false);
        let (_, _, body) = webhook_request(&channel(WebhookFormat::Dingtalk), &m, 1_700_000_000_000);
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        let md = v["markdown"]["text"].as_str().unwrap();
        assert!(!md.contains("](") && !md.contains("![") && !md.contains("\n# "), "{md}");
        assert!(md.contains("［领奖］（http：//evil.example/）"), "shown as written, in full-width: {md}");
        assert!(md.contains("x%281%29.html") && md.contains("scoring=1#findings"), "addresses kept usable: {md}");
        assert!(m.text.contains("[领奖](http://evil.example/)"), "a mail shows it as written");
    }
}
