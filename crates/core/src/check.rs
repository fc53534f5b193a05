//! Check ids (checks.md) as a type: every stage names a check by a [`CheckId`], never by a string
//! written again; JSON, the store and rubric files carry its text (`links.broken`).

use serde::{Deserialize, Deserializer, Serialize, Serializer};

macro_rules! check_ids {
    ($($(#[$doc:meta])* $variant:ident => $id:literal,)*) => {
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
        }
    };
}

check_ids! {
    /// The homepage cannot be opened.
    AvailabilityUnreachable => "availability.unreachable",
    /// The homepage opens slowly.
    AvailabilitySlow => "availability.slow",
    /// A page could not be parsed, or only in part.
    PageUnparsable => "page.unparsable",
    /// A link that does not work.
    LinksBroken => "links.broken",
    /// A download of a service that does not work.
    ServiceBrokenDownload => "service.broken_download",
    /// The homepage is not updated.
    FreshnessHomepageStale => "freshness.homepage_stale",
    /// A column is not updated.
    FreshnessColumnStale => "freshness.column_stale",
    /// A column holds nothing.
    ContentEmptyColumn => "content.empty_column",
    /// A page or column could not be read (drawn by scripts, refused, timed out).
    FreshnessUnreadable => "freshness.unreadable",
    /// Articles reposted with only the date changed.
    AccuracyTwinArticles => "accuracy.twin_articles",
    /// A wrong expression (a leader's title, a state name).
    AccuracyWrongExpression => "accuracy.wrong_expression",
    /// An inappropriate expression.
    AccuracyInappropriateExpression => "accuracy.inappropriate_expression",
    /// A typo.
    AccuracyTypo => "accuracy.typo",
    /// Spam injected into the site's pages.
    SecuritySpamInjection => "security.spam_injection",
    /// An article dated before it was first seen.
    AccuracyBackdated => "accuracy.backdated",
    /// Personal data published by mistake.
    PrivacyPersonalData => "privacy.personal_data",
    /// A foreign-language version left untranslated.
    I18nUntranslated => "i18n.untranslated",
    /// No working enquiry channel.
    InteractionMissing => "interaction.missing",
    /// Letters left unanswered.
    InteractionUnanswered => "interaction.unanswered",
    /// Letters answered with the same sentence.
    InteractionBoilerplateReply => "interaction.boilerplate_reply",
    /// Letters answered late.
    InteractionSlowReply => "interaction.slow_reply",
    /// A service guide lacking elements.
    ServiceIncompleteGuide => "service.incomplete_guide",
    /// Policy documents without interpretations.
    PolicyNoInterpretation => "policy.no_interpretation",
    /// No site identifier code.
    IdentityMissingSiteCode => "identity.missing_site_code",
    /// No ICP or police filing.
    IdentityMissingFiling => "identity.missing_filing",
    /// No 党政机关 mark.
    IdentityMissingMark => "identity.missing_mark",
    /// No HTTPS.
    SecurityNoHttps => "security.no_https",
    /// National page-design meta tags missing.
    IdentityMissingMeta => "identity.missing_meta",
    /// No service offering.
    ServiceMissing => "service.missing",
    /// Not adapted to mobile screens.
    MobileNotAdapted => "mobile.not_adapted",
    /// Images without alternative text.
    AccessibilityMissingAlt => "accessibility.missing_alt",
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
        assert_eq!(CheckId::ALL.len(), 31);
        assert!(serde_json::from_str::<CheckId>("\"links.brokn\"").is_err());
        assert!(CheckId::LinksBroken == "links.broken");
        assert_eq!(format!("[{:<14}]", CheckId::LinksBroken), "[links.broken  ]");
    }
}
