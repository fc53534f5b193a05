//! Check ids (checks.md) as a type: every stage names a check by a [`CheckId`], never by a string
//! written again; JSON, the store and rubric files carry its text (`links.broken`).

use serde::{Deserialize, Deserializer, Serialize, Serializer};

macro_rules! check_ids {
    ($($(#[$doc:meta])* $variant:ident => $id:literal, $zh:literal,)*) => {
        /// A check of checks.md. Ordered by its id's text, as lists of checks always were.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum CheckId {
            $($(#[$doc])* $variant,)*
        }

        impl CheckId {
            /// Every check, in the order of checks.md.
            pub const ALL: &'static [CheckId] = &[$(CheckId::$variant,)*];

            /// The id as checks.md, JSON, the store and rubrics write it.
            #[must_use]
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(CheckId::$variant => $id,)*
                }
            }

            /// The check's short name in Chinese, for reports in Chinese (the id stays beside it
            /// where a table is filtered by machine).
            #[must_use]
            pub const fn name_zh(self) -> &'static str {
                match self {
                    $(CheckId::$variant => $zh,)*
                }
            }
        }
    };
}

check_ids! {
    /// The homepage cannot be opened.
    AvailabilityUnreachable => "availability.unreachable", "站点无法访问",
    /// The homepage opens slowly.
    AvailabilitySlow => "availability.slow", "首页访问缓慢",
    /// A page could not be parsed, or only in part.
    PageUnparsable => "page.unparsable", "页面无法解析",
    /// A link that does not work.
    LinksBroken => "links.broken", "链接不可用",
    /// A download of a service that does not work.
    ServiceBrokenDownload => "service.broken_download", "附件无法下载",
    /// The homepage is not updated.
    FreshnessHomepageStale => "freshness.homepage_stale", "首页不更新",
    /// A column is not updated.
    FreshnessColumnStale => "freshness.column_stale", "栏目不更新",
    /// A column holds nothing.
    ContentEmptyColumn => "content.empty_column", "空白栏目",
    /// A page or column could not be read (drawn by scripts, refused, timed out).
    FreshnessUnreadable => "freshness.unreadable", "页面无法读取",
    /// Articles reposted with only the date changed.
    AccuracyTwinArticles => "accuracy.twin_articles", "重复发布（仅改日期）",
    /// A wrong expression (a leader's title, a state name).
    AccuracyWrongExpression => "accuracy.wrong_expression", "表述错误",
    /// An inappropriate expression.
    AccuracyInappropriateExpression => "accuracy.inappropriate_expression", "不当表述",
    /// A typo.
    AccuracyTypo => "accuracy.typo", "错别字",
    /// Spam injected into the site's pages.
    SecuritySpamInjection => "security.spam_injection", "被植入违法有害信息",
    /// A homepage whose content was replaced (defacement), between two looks.
    SecurityDefacement => "security.defacement", "首页疑似被篡改",
    /// An article dated before it was first seen.
    AccuracyBackdated => "accuracy.backdated", "伪造发稿日期",
    /// Personal data published by mistake.
    PrivacyPersonalData => "privacy.personal_data", "泄露个人信息",
    /// A foreign-language version left untranslated.
    I18nUntranslated => "i18n.untranslated", "外文版未翻译",
    /// No working enquiry channel.
    InteractionMissing => "interaction.missing", "无有效咨询建言渠道",
    /// Letters left unanswered.
    InteractionUnanswered => "interaction.unanswered", "留言超期未回应",
    /// Letters answered with the same sentence.
    InteractionBoilerplateReply => "interaction.boilerplate_reply", "答复内容雷同",
    /// Letters answered late.
    InteractionSlowReply => "interaction.slow_reply", "答复不及时",
    /// A service guide lacking elements.
    ServiceIncompleteGuide => "service.incomplete_guide", "办事指南要素缺失",
    /// Policy documents without interpretations.
    PolicyNoInterpretation => "policy.no_interpretation", "政策文件缺少解读",
    /// No site identifier code.
    IdentityMissingSiteCode => "identity.missing_site_code", "缺少网站标识码",
    /// No ICP or police filing.
    IdentityMissingFiling => "identity.missing_filing", "缺少备案编号",
    /// No 党政机关 mark.
    IdentityMissingMark => "identity.missing_mark", "缺少党政机关网站标识",
    /// No HTTPS.
    SecurityNoHttps => "security.no_https", "未启用HTTPS",
    /// National page-design meta tags missing.
    IdentityMissingMeta => "identity.missing_meta", "缺少网页元数据",
    /// No service offering.
    ServiceMissing => "service.missing", "未提供办事服务",
    /// Not adapted to mobile screens.
    MobileNotAdapted => "mobile.not_adapted", "未适配移动终端",
    /// Images without alternative text.
    AccessibilityMissingAlt => "accessibility.missing_alt", "图片缺少替代文本",
}

impl CheckId {
    /// The check of an id; None for an id checks.md does not have.
    #[must_use]
    pub fn parse(id: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|c| c.as_str() == id)
    }
}

impl Ord for CheckId {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl PartialOrd for CheckId {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl std::fmt::Display for CheckId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // `pad`, so that widths and alignment (`{:<28}`) apply as to the text.
        f.pad(self.as_str())
    }
}

impl std::str::FromStr for CheckId {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s).ok_or_else(|| format!("unknown check id `{s}` (see checks.md for the list)"))
    }
}

impl PartialEq<str> for CheckId {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for CheckId {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl Serialize for CheckId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for CheckId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<'de, str>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_text_and_json() {
        for c in CheckId::ALL {
            assert_eq!(CheckId::parse(c.as_str()), Some(*c));
            let json = serde_json::to_string(c).unwrap();
            assert_eq!(serde_json::from_str::<CheckId>(&json).unwrap(), *c);
        }
        assert_eq!(CheckId::ALL.len(), 32);
        assert!(serde_json::from_str::<CheckId>("\"links.brokn\"").is_err());
        assert!(CheckId::LinksBroken == "links.broken");
        assert_eq!(format!("[{:<14}]", CheckId::LinksBroken), "[links.broken  ]");
        let names: std::collections::HashSet<_> = CheckId::ALL.iter().map(|c| c.name_zh()).collect();
        assert_eq!(names.len(), CheckId::ALL.len(), "each check has its own Chinese name");
    }
}
