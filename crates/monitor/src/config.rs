//! The monitor's configuration (`monitor.toml`): schedules per group of sites, what raises an
//! alert, and the channels that carry alerts, each routed to a region or to sites.

use std::time::Duration;

use serde::Deserialize;

/// Why a configuration could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Not TOML, or not the monitor's.
    #[error("{0}")]
    Toml(#[from] toml::de::Error),
    /// A value that does not make sense.
    #[error("{0}")]
    Invalid(String),
}

/// The whole configuration.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MonitorConfig {
    /// The web app's address (`https://census.example.gov.cn`): alerts link to the finding there.
    #[serde(default)]
    pub app_url: Option<String>,
    /// Schedules for every site, unless its group says otherwise.
    #[serde(default)]
    pub defaults: Schedule,
    /// Groups of sites (by region-code prefix or by URL) with schedules of their own; a site takes
    /// the first group it is in.
    #[serde(default, rename = "group")]
    pub groups: Vec<Group>,
    /// What raises an alert beyond the defaults.
    #[serde(default)]
    pub alerts: AlertRules,
    /// Where alerts go.
    #[serde(default, rename = "channel")]
    pub channels: Vec<ChannelConfig>,
}

/// How often each job runs, and when a site counts as down or back up.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Schedule {
    /// Between availability probes of the homepage (default `30m`: the official probing).
    pub probe_every: Option<String>,
    /// Between full scans (default `7d`).
    pub scan_every: Option<String>,
    /// Between daily passes over the homepage and the column pages (default `1d`): conditional
    /// requests; a page that changed brings the site's scan forward.
    pub pages_every: Option<String>,
    /// Failed probes in a row that make the site down (default 3).
    pub down_after: Option<u32>,
    /// Successful probes in a row that bring it back (default 2): a flapping site is not
    /// reported at every flap.
    pub up_after: Option<u32>,
    /// Looks in a row (probes) that find the homepage replaced before it is told as defaced
    /// (default 2): a page put up for a moment — a firewall's challenge, a failed deploy — is not.
    pub defaced_after: Option<u32>,
}

/// A group of sites with its own schedule.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Group {
    /// Its name, for messages and logs.
    pub name: String,
    /// Sites whose region code starts with this prefix.
    #[serde(default)]
    pub region: Option<String>,
    /// Sites by the URL the list gives.
    #[serde(default)]
    pub sites: Vec<String>,
    /// Its schedule (what it leaves out comes from `[defaults]`).
    #[serde(flatten)]
    pub schedule: Schedule,
}

/// What raises an alert: every finding at veto or warning severity (the rubric's early
/// warnings), plus findings of `checks` at any severity; minus `ignore`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertRules {
    /// Checks whose every finding alerts.
    #[serde(default = "default_checks")]
    pub checks: Vec<String>,
    /// Checks that never alert.
    #[serde(default)]
    pub ignore: Vec<String>,
    /// When given, only these checks alert (scans' findings; a site that is down always does).
    #[serde(default)]
    pub only: Option<Vec<String>>,
    /// A column this many days or fewer from the end of its freshness window alerts (default:
    /// the rubric's homepage warning lead, `window_days − warn_days`).
    #[serde(default)]
    pub column_warn_days: Option<i64>,
}

impl Default for AlertRules {
    fn default() -> Self {
        AlertRules { checks: default_checks(), ignore: Vec::new(), only: None, column_warn_days: None }
    }
}

fn default_checks() -> Vec<String> {
    ["security.spam_injection", "privacy.personal_data", "accuracy.twin_articles", "interaction.unanswered"]
        .map(str::to_owned)
        .to_vec()
}

impl AlertRules {
    /// Whether findings of `check` may alert at all.
    #[must_use]
    pub fn allows(&self, check: &str) -> bool {
        !self.ignore.iter().any(|c| c == check) && self.only.as_ref().is_none_or(|o| o.iter().any(|c| c == check))
    }
}

/// A channel's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChannelKind {
    /// An HTTP POST of each message.
    Webhook,
    /// Mail over SMTP.
    Email,
}

/// The body a webhook posts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WebhookFormat {
    /// The alert as JSON, signed in `X-Sitecensus-Signature` (HMAC-SHA256 of the body).
    #[default]
    Json,
    /// A chat robot taking `{"msgtype":"markdown",…}` signed by `timestamp` and `sign` query
    /// parameters (HMAC-SHA256 of `timestamp\nsecret`), as DingTalk's robots do.
    Dingtalk,
    /// A chat robot taking `{"msgtype":"markdown","markdown":{"content":…}}`, its key in the
    /// URL, as WeCom's group robots do.
    Wecom,
    /// A chat robot taking `{"msg_type":"text",…}` with `timestamp` and `sign` in the body, as
    /// Feishu's custom robots do.
    Feishu,
}

/// How a mail server is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    /// STARTTLS required (port 587).
    #[default]
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: a relay on the same machine or network only.
    None,
}

/// A channel: where it sends, what it sends, and for which sites.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelConfig {
    /// Its name (the outbox keys on it: renaming a channel starts it afresh).
    pub name: String,
    /// `webhook` or `email`.
    pub kind: ChannelKind,
    /// A webhook's address.
    #[serde(default)]
    pub url: Option<String>,
    /// A webhook's body.
    #[serde(default)]
    pub format: WebhookFormat,
    /// The signing secret (a webhook's), or the SMTP password.
    #[serde(default)]
    pub secret: Option<String>,
    /// The SMTP server, `host:port`.
    #[serde(default)]
    pub smtp: Option<String>,
    /// How the SMTP server is reached.
    #[serde(default)]
    pub security: SmtpSecurity,
    /// The SMTP user name (the password is `secret`).
    #[serde(default)]
    pub user: Option<String>,
    /// The mail's sender.
    #[serde(default)]
    pub from: Option<String>,
    /// The mail's recipients.
    #[serde(default)]
    pub to: Vec<String>,
    /// Only sites whose region code starts with one of these.
    #[serde(default)]
    pub regions: Vec<String>,
    /// Only these sites (by the URL the list gives). With neither, every site.
    #[serde(default)]
    pub sites: Vec<String>,
    /// One summary message this often (`1d`) instead of a message per event.
    #[serde(default)]
    pub digest: Option<String>,
    /// At most this many messages a minute (default 20, what chat robots accept); the rest
    /// wait for the next minute.
    #[serde(default)]
    pub max_per_minute: Option<u32>,
    /// `zh` (default) or `en`.
    #[serde(default)]
    pub lang: Option<String>,
}

impl ChannelConfig {
    /// Whether the channel carries a site's alerts.
    #[must_use]
    pub fn routes(&self, url: &str, region: Option<&str>) -> bool {
        if self.regions.is_empty() && self.sites.is_empty() {
            return true;
        }
        self.sites.iter().any(|s| s == url)
            || region.is_some_and(|r| self.regions.iter().any(|p| r.starts_with(p.as_str())))
    }

    /// Whether the channel writes in English.
    #[must_use]
    pub fn english(&self) -> bool {
        self.lang.as_deref() == Some("en")
    }
}

/// A site's schedule, every value decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// Between probes.
    pub probe_every: Duration,
    /// Between scans.
    pub scan_every: Duration,
    /// Between passes over the homepage and the column pages.
    pub pages_every: Duration,
    /// Failed probes in a row that make the site down.
    pub down_after: u32,
    /// Successful probes in a row that bring it back.
    pub up_after: u32,
    /// Looks in a row that find the homepage replaced before it is told.
    pub defaced_after: u32,
}

/// Parses `30m`, `7d`, `1h`, `45s`, `500ms` or plain seconds.
///
/// # Errors
/// When it is not a positive duration.
pub fn parse_duration(s: &str) -> Result<Duration, ConfigError> {
    let s = s.trim();
    let bad = || ConfigError::Invalid(format!("{s:?} is not a duration (30m, 7d, 1h, 45s, 500ms)"));
    let (num, unit) = s.find(|c: char| !(c.is_ascii_digit() || c == '.')).map_or((s, ""), |i| (&s[..i], &s[i..]));
    let n: f64 = num.parse().map_err(|_| bad())?;
    let secs = match unit.trim() {
        "" | "s" => n,
        "ms" => n / 1000.0,
        "m" | "min" => n * 60.0,
        "h" => n * 3600.0,
        "d" => n * 86_400.0,
        _ => return Err(bad()),
    };
    if !(secs > 0.0 && secs.is_finite()) {
        return Err(bad());
    }
    Ok(Duration::from_secs_f64(secs))
}

impl MonitorConfig {
    /// Reads a configuration and checks every value in it.
    ///
    /// # Errors
    /// When it is not TOML, not the monitor's, or a value makes no sense.
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        let c: MonitorConfig = toml::from_str(text)?;
        c.plan(&c.defaults)?;
        for g in &c.groups {
            c.plan(&g.schedule).map_err(|e| ConfigError::Invalid(format!("group {:?}: {e}", g.name)))?;
        }
        let mut names = std::collections::HashSet::new();
        for ch in &c.channels {
            let bad = |what: &str| ConfigError::Invalid(format!("channel {:?}: {what}", ch.name));
            if !names.insert(ch.name.as_str()) {
                return Err(bad("a second channel of that name"));
            }
            match ch.kind {
                ChannelKind::Webhook if ch.url.is_none() => return Err(bad("a webhook needs `url`")),
                ChannelKind::Email if ch.smtp.is_none() || ch.from.is_none() || ch.to.is_empty() => {
                    return Err(bad("mail needs `smtp`, `from` and `to`"));
                }
                _ => {}
            }
            if let Some(d) = &ch.digest {
                parse_duration(d).map_err(|e| bad(&e.to_string()))?;
            }
            if ch.lang.as_deref().is_some_and(|l| l != "zh" && l != "en") {
                return Err(bad("`lang` is zh or en"));
            }
        }
        Ok(c)
    }

    /// The schedule `s` gives, its gaps filled from `[defaults]` and then the built-in values.
    fn plan(&self, s: &Schedule) -> Result<Plan, ConfigError> {
        let d = &self.defaults;
        let dur = |own: &Option<String>, default: &Option<String>, builtin: &str| {
            parse_duration(own.as_deref().or(default.as_deref()).unwrap_or(builtin))
        };
        Ok(Plan {
            probe_every: dur(&s.probe_every, &d.probe_every, "30m")?,
            scan_every: dur(&s.scan_every, &d.scan_every, "7d")?,
            pages_every: dur(&s.pages_every, &d.pages_every, "1d")?,
            down_after: s.down_after.or(d.down_after).unwrap_or(3).max(1),
            up_after: s.up_after.or(d.up_after).unwrap_or(2).max(1),
            defaced_after: s.defaced_after.or(d.defaced_after).unwrap_or(2).max(1),
        })
    }

    /// A site's schedule: its first group's, else the defaults.
    #[must_use]
    pub fn plan_for(&self, url: &str, region: Option<&str>) -> Plan {
        let group = self.groups.iter().find(|g| {
            g.sites.iter().any(|s| s == url)
                || g.region.as_deref().is_some_and(|p| region.is_some_and(|r| r.starts_with(p)))
        });
        // Checked when the configuration was read.
        self.plan(group.map_or(&self.defaults, |g| &g.schedule)).expect("a checked schedule")
    }

    /// The channels that carry a site's alerts, by name.
    #[must_use]
    pub fn channels_for(&self, url: &str, region: Option<&str>) -> Vec<String> {
        self.channels.iter().filter(|c| c.routes(url, region)).map(|c| c.name.clone()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_province_with_two_channels_reads_and_routes() {
        let c = MonitorConfig::parse(
            r#"
            app_url = "https://census.example.gov.cn"
            [defaults]
            scan_every = "1d"
            [[group]]
            name = "南昌"
            region = "3601"
            probe_every = "10m"
            [[channel]]
            name = "jx-office"
            kind = "webhook"
            format = "dingtalk"
            url = "https://robot.example/send?access_token=x"
            secret = "SEC1"
            regions = ["36"]
            digest = "1d"
            [[channel]]
            name = "donghu-team"
            kind = "email"
            smtp = "mail.example.gov.cn:587"
            from = "sitecensus@example.gov.cn"
            to = ["web@donghu.gov.cn"]
            sites = ["http://www.donghu.gov.cn/"]
            "#,
        )
        .unwrap();
        let p = c.plan_for("http://www.donghu.gov.cn/", Some("360102"));
        assert_eq!(
            (p.probe_every, p.scan_every, p.down_after),
            (Duration::from_secs(600), Duration::from_secs(86_400), 3)
        );
        assert_eq!(c.plan_for("http://x.gd.gov.cn/", Some("440104")).probe_every, Duration::from_secs(1800));
        assert_eq!(c.channels_for("http://www.donghu.gov.cn/", Some("360102")), ["jx-office", "donghu-team"]);
        assert_eq!(c.channels_for("http://x.gd.gov.cn/", Some("440104")), Vec::<String>::new());
        assert!(MonitorConfig::parse("[[channel]]\nname = \"a\"\nkind = \"webhook\"").is_err(), "no url");
        assert!(MonitorConfig::parse("[defaults]\nprobe_every = \"soon\"").is_err());
        assert!(MonitorConfig::parse("[defaults]\nprobe = \"1m\"").is_err(), "unknown keys are refused");
    }
}
