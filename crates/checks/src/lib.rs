//! The checks of sitecensus. Each check is a small, pure function from the page or site model
//! to findings; its thresholds and dictionaries come from the rubric (parsed once into typed
//! parameters), never from literals in the code. Adding a check touches its family's file, the
//! registry below, and its rubric entry.
//!
//! One file per check family: [`availability`], [`links`], [`freshness`]; [`columns`] finds the
//! columns the freshness family judges.

pub mod availability;
pub mod columns;
pub mod freshness;
pub mod links;
pub mod model;

use serde::de::DeserializeOwned;
use sitecensus_core::rubric::ColumnKinds;
use sitecensus_core::{Finding, Rubric, Severity};
use sitecensus_extract::{Dom, Page};

pub use model::{AttemptRecord, Column, HomepageFetch, LinkSource, LinkTarget, PageEntry, Probe, SiteModel};

/// A check's rule under the rubric in force: its severity and typed parameters.
#[derive(Debug, Clone)]
pub struct Rule<P> {
    /// Severity of its findings.
    pub severity: Severity,
    /// Its thresholds and dictionaries.
    pub params: P,
    /// The smallest count of its findings that vetoes the site (from the rubric's unfiltered
    /// veto conditions), for early warnings that stop short of it.
    pub veto_at: Option<usize>,
}

/// A rubric whose parameters do not fit a check.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ParamError(pub String);

fn rule<P: DeserializeOwned>(rubric: &Rubric, id: &str) -> Result<Option<Rule<P>>, ParamError> {
    match rubric.rule(id) {
        None => Ok(None),
        Some(r) => Ok(Some(Rule {
            severity: r.severity,
            params: rubric.params::<P>(id).map_err(ParamError)?,
            veto_at: rubric.vetoes.iter().filter(|v| v.check == id && v.filter.is_empty()).map(|v| v.min_count).min(),
        })),
    }
}

/// The checks a rubric runs, with their parameters parsed once.
#[derive(Debug, Clone)]
pub struct Checks {
    unreachable: Option<Rule<availability::UnreachableParams>>,
    slow: Option<Rule<availability::SlowParams>>,
    broken: Option<Rule<links::BrokenParams>>,
    downloads: Option<Rule<links::DownloadParams>>,
    homepage_stale: Option<Rule<freshness::HomepageParams>>,
    column_stale: Option<Rule<freshness::ColumnParams>>,
    empty_column: Option<Rule<freshness::EmptyParams>>,
    kinds: ColumnKinds,
}

/// What the site-level checks found: findings, and the columns they judged.
#[derive(Debug, Clone, Default)]
pub struct SiteAssessment {
    /// The findings.
    pub findings: Vec<Finding>,
    /// Every column, as the results list them.
    pub columns: Vec<Column>,
}

impl Checks {
    /// Prepares the checks of `rubric`.
    ///
    /// # Errors
    /// When a check's parameters are missing or of the wrong type.
    pub fn new(rubric: &Rubric) -> Result<Self, ParamError> {
        Ok(Checks {
            unreachable: rule(rubric, availability::UNREACHABLE)?,
            slow: rule(rubric, availability::SLOW)?,
            broken: rule(rubric, links::BROKEN)?,
            downloads: rule(rubric, links::BROKEN_DOWNLOAD)?,
            homepage_stale: rule(rubric, freshness::HOMEPAGE_STALE)?,
            column_stale: rule(rubric, freshness::COLUMN_STALE)?,
            empty_column: rule(rubric, freshness::EMPTY_COLUMN)?,
            kinds: rubric.column_kinds.clone(),
        })
    }

    /// Checks that read one page (and its DOM while it is alive).
    #[must_use]
    pub fn page(&self, _page: &Page, _dom: &Dom) -> Vec<Finding> {
        Vec::new()
    }

    /// The site's columns, found with the rubric's kind dictionary and placeholders.
    #[must_use]
    pub fn columns(&self, site: &SiteModel) -> Vec<columns::ColumnInfo> {
        let placeholders = self.empty_column.as_ref().map_or(&[][..], |r| &r.params.placeholders[..]);
        columns::discover(site, &self.kinds, placeholders)
    }

    /// Checks that read the whole site.
    #[must_use]
    pub fn site(&self, site: &SiteModel) -> SiteAssessment {
        let cols = self.columns(site);
        let as_of = site.as_of.date();
        let columns = cols
            .iter()
            .map(|c| Column {
                url: c.url.clone(),
                title: c.title.clone(),
                kind: c.kind.clone(),
                items: c.items,
                latest: c.latest.map(|d| d.to_string()),
                stale: self.column_stale.as_ref().is_some_and(|r| freshness::is_stale(c, &r.params, as_of)),
                empty: c.empty,
            })
            .collect();
        let mut out = Vec::new();
        if let Some(r) = &self.unreachable {
            out.extend(availability::unreachable(site, r));
        }
        if let Some(r) = &self.slow {
            out.extend(availability::slow(site, r));
        }
        if let Some(r) = &self.broken {
            out.extend(links::broken(site, r, self.downloads.as_ref()));
        }
        if let Some(r) = &self.homepage_stale {
            out.extend(freshness::homepage_stale(site, r));
        }
        if let Some(r) = &self.column_stale {
            out.extend(freshness::column_stale(site, &cols, r));
        }
        if let Some(r) = &self.empty_column {
            out.extend(freshness::empty_column(site, &cols, r));
        }
        SiteAssessment { findings: out, columns }
    }

    /// Why a fetched 200 page is a "page not found" page by its text, if it is.
    #[must_use]
    pub fn soft404_by_text(&self, page: &Page) -> Option<String> {
        let r = self.broken.as_ref()?;
        links::soft404_by_text(&page.title, &page.text, page.text_chars, &r.params)
    }

    /// The availability rule's parameters (the probe window), if the rubric has the check.
    #[must_use]
    pub fn unreachable_params(&self) -> Option<&availability::UnreachableParams> {
        self.unreachable.as_ref().map(|r| &r.params)
    }
}
