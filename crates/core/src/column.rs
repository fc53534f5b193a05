//! A column (栏目) as the results list it: shared by the checks that judge it, the store that
//! keeps it per scoring and the reports and web app that show it.

use serde::{Deserialize, Serialize};

/// A column (栏目) as the results JSON lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Column {
    /// The column's list page.
    pub url: String,
    /// Its title.
    pub title: String,
    /// news, notice, policy, personnel, planning, interaction, service or other.
    pub kind: crate::rubric::ColumnKind,
    /// Items listed.
    pub items: usize,
    /// The newest item date (`YYYY-MM-DD`), if any item is dated.
    pub latest: Option<String>,
    /// Whether it is older than its kind's window.
    pub stale: bool,
    /// Whether it has no content.
    pub empty: bool,
    /// Whether its items could not be read (drawn by scripts no browser drew).
    #[serde(default)]
    pub unreadable: bool,
}
