//! The language of reports for people: Chinese or English (`--lang`, default from the locale).
//! Findings carry their evidence in English and Chinese (as each check wrote it); reports show
//! the one of their language, and name checks, severities, column kinds and levels in it too.

use sitecensus_core::rubric::ColumnKind;
use sitecensus_core::{CheckId, Finding, Level, Severity};

/// A report language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// 中文.
    Zh,
    /// English.
    #[default]
    En,
}

impl Lang {
    /// Parses `zh`/`cn`/`中文` or `en`/`english`.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "zh" | "zh-cn" | "zh_cn" | "cn" | "chinese" | "中文" => Some(Lang::Zh),
            "en" | "en-us" | "en_us" | "english" => Some(Lang::En),
            _ => None,
        }
    }

    /// The language of the locale (`LC_ALL`, `LC_MESSAGES`, `LANG`): Chinese for `zh_*`.
    #[must_use]
    pub fn from_locale() -> Self {
        let locale = ["LC_ALL", "LC_MESSAGES", "LANG"]
            .iter()
            .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
            .unwrap_or_default();
        if locale.to_ascii_lowercase().starts_with("zh") { Lang::Zh } else { Lang::En }
    }

    /// A severity as reports in this language name it (单项否决, 扣分, 预警, 提示 / veto, …).
    #[must_use]
    pub fn severity(self, s: Severity) -> &'static str {
        match (self, s) {
            (Lang::Zh, Severity::Veto) => "单项否决",
            (Lang::Zh, Severity::Deduct) => "扣分",
            (Lang::Zh, Severity::Warn) => "预警",
            (Lang::Zh, Severity::Info) => "提示",
            (Lang::En, s) => s.as_str(),
        }
    }

    /// A check as reports in this language name it: its Chinese name, or its id.
    #[must_use]
    pub fn check(self, c: CheckId) -> &'static str {
        match self {
            Lang::Zh => c.name_zh(),
            Lang::En => c.as_str(),
        }
    }

    /// A finding's evidence in this language (the English where no Chinese was written).
    #[must_use]
    pub fn evidence(self, f: &Finding) -> &str {
        f.evidence_in(self == Lang::Zh)
    }

    /// A column kind in this language (通知公告 / notice).
    #[must_use]
    pub fn kind(self, k: ColumnKind) -> &'static str {
        match self {
            Lang::Zh => k.name_zh(),
            Lang::En => k.as_str(),
        }
    }

    /// A site's level as the results write it (`county`), in this language (县级); a level
    /// sitecensus does not know stays as written.
    #[must_use]
    pub fn level(self, level: &str) -> &str {
        match (self, Level::parse(level)) {
            (Lang::Zh, Some(l)) => l.name_zh(),
            _ => level,
        }
    }

    /// A label in this language.
    #[must_use]
    pub fn t(self, key: Label) -> &'static str {
        let (zh, en) = match key {
            Label::Pass => ("合格", "PASS"),
            Label::Fail => ("不合格", "FAIL"),
            Label::Score => ("得分", "score"),
            Label::Veto => ("单项否决", "VETO"),
            Label::Deduct => ("扣分", "deduct"),
            Label::Capped => ("（封顶）", " (capped)"),
            Label::Found => ("处", "found"),
            Label::Site => ("网站", "site"),
            Label::Level => ("级别", "level"),
            Label::Region => ("地区", "region"),
            Label::Verdict => ("结论", "verdict"),
            Label::Vetoes => ("单项否决项", "vetoes"),
            Label::Rank => ("排名", "rank"),
            Label::Check => ("检查项", "check"),
            Label::Item => ("指标", "item"),
            Label::Severity => ("严重程度", "severity"),
            Label::Evidence => ("证据", "evidence"),
            Label::Page => ("页面", "page"),
            Label::Target => ("链接目标", "target"),
            Label::Points => ("扣分值", "points"),
            Label::Findings => ("问题数", "findings"),
            Label::Column => ("栏目", "column"),
            Label::Kind => ("类型", "kind"),
            Label::Items => ("条目数", "items"),
            Label::Latest => ("最新日期", "latest"),
            Label::Stale => ("未更新", "stale"),
            Label::Empty => ("空白", "empty"),
            Label::Unreadable => ("无法读取", "could not read"),
            Label::Sites => ("网站数", "sites"),
            Label::PassRate => ("合格率", "pass rate"),
            Label::MeanScore => ("平均分", "mean score"),
            Label::Group => ("分组", "group"),
            Label::Pages => ("抓取页面", "pages"),
            Label::Yes => ("是", "yes"),
            Label::No => ("否", "no"),
            Label::SheetSummary => ("汇总", "Summary"),
            Label::SheetRanking => ("排名", "Ranking"),
            Label::SheetFindings => ("问题清单", "Findings"),
            Label::SheetColumns => ("栏目", "Columns"),
            Label::SheetRectification => ("整改", "Rectification"),
            Label::New => ("新增", "new"),
            Label::Persisting => ("仍存在", "persisting"),
            Label::Fixed => ("已整改", "fixed"),
            Label::Rectified => ("整改合格", "rectified"),
            Label::Previous => ("上轮结论", "previous verdict"),
            Label::PagesLine => ("页面已抓取", "pages fetched"),
            Label::FailedLine => ("失败", "failed"),
            Label::LinksLine => ("链接已检查", "links checked"),
            Label::BrokenLine => ("不可用", "broken"),
            Label::More => ("其余问题见报告", "more findings in the reports"),
        };
        match self {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }
}

/// The labels reports use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs, reason = "each variant is the label its name says")]
pub enum Label {
    Pass,
    Fail,
    Score,
    Veto,
    Deduct,
    Capped,
    Found,
    Site,
    Level,
    Region,
    Verdict,
    Vetoes,
    Rank,
    Check,
    Item,
    Severity,
    Evidence,
    Page,
    Target,
    Points,
    Findings,
    Column,
    Kind,
    Items,
    Latest,
    Stale,
    Empty,
    Unreadable,
    Sites,
    PassRate,
    MeanScore,
    Group,
    Pages,
    Yes,
    No,
    SheetSummary,
    SheetRanking,
    SheetFindings,
    SheetColumns,
    SheetRectification,
    New,
    Persisting,
    Fixed,
    Rectified,
    Previous,
    PagesLine,
    FailedLine,
    LinksLine,
    BrokenLine,
    More,
}
