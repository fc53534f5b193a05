//! The checks of sitecensus. Each check is a small, pure function from the page or site model
//! to findings; its thresholds and dictionaries come from the rubric (parsed once into typed
//! parameters), never from literals in the code. Adding a check touches its family's file, the
//! registry below, and its rubric entry.
//!
//! One file per check family: [`availability`], [`links`], [`freshness`], [`spam`],
//! [`expressions`], [`privacy`], [`i18n`], [`twins`], [`interaction`], [`services`],
//! [`identity`]; [`columns`] finds the columns the freshness family judges.

pub mod availability;
pub mod columns;
pub mod defacement;
pub mod expressions;
pub mod freshness;
pub mod history;
pub mod i18n;
pub mod identity;
pub mod interaction;
pub mod links;
pub mod model;
pub mod privacy;
pub mod services;
pub mod spam;
pub mod twins;

use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use sitecensus_core::rubric::{ColumnKinds, LetterLabels};
use sitecensus_core::{CheckId, Finding, Rubric, Severity, WorkCalendar};
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

/// The rule of check `id` in `rubric`, its parameters typed; None when the rubric does not run it.
///
/// # Errors
/// When its parameters do not fit `P`.
pub fn rule<P: DeserializeOwned>(rubric: &Rubric, id: CheckId) -> Result<Option<Rule<P>>, ParamError> {
    match rubric.rule(id) {
        None => Ok(None),
        Some(r) => Ok(Some(Rule {
            severity: r.severity,
            params: rubric.params::<P>(id).map_err(ParamError)?,
            veto_at: rubric.vetoes.iter().filter(|v| v.check == id && v.filter.is_empty()).map(|v| v.min_count).min(),
        })),
    }
}

/// Page-level checks whose same finding on many pages is one problem of the site's template.
const TEMPLATE_WIDE: &[CheckId] = &[expressions::WRONG, expressions::INAPPROPRIATE, expressions::TYPO, spam::ID];

/// Folds page findings that repeat across pages (the same term in a banner on every page, the
/// same injected block in every page of a hacked template) into one, with how many pages and a
/// few of them; other findings pass unchanged.
#[must_use]
pub fn collapse_repeats(findings: Vec<Finding>) -> Vec<Finding> {
    let mut out: Vec<Finding> = Vec::with_capacity(findings.len());
    let mut index: std::collections::HashMap<(CheckId, String), usize> = std::collections::HashMap::new();
    for f in findings {
        if !TEMPLATE_WIDE.contains(&f.check) {
            out.push(f);
            continue;
        }
        let key = f.detail.get("term").and_then(|t| t.as_str()).map_or_else(|| f.evidence.clone(), str::to_owned);
        match index.get(&(f.check, key.clone())) {
            Some(&i) => {
                let first = &mut out[i];
                let n = first.detail.get("pages_count").and_then(serde_json::Value::as_u64).unwrap_or(1) + 1;
                first.detail.insert("pages_count".into(), n.into());
                let others = first.detail.entry("other_pages").or_insert_with(|| serde_json::Value::Array(Vec::new()));
                if let (Some(list), Some(p)) = (others.as_array_mut(), f.page)
                    && list.len() < 5
                {
                    list.push(p.into());
                }
            }
            None => {
                index.insert((f.check, key), out.len());
                out.push(f);
            }
        }
    }
    out
}

/// A line's label, as the extractor reads labels ("回复时间：" → "回复时间").
pub(crate) fn fields_label(line: &str) -> Option<&str> {
    sitecensus_extract::fields::as_label(line)
}

/// The CMS family most of a site's pages carry the fingerprints of (`stats.cms`), with the
/// pages that say so and the fingerprints seen; null where none was recognised.
fn cms_figure(site: &SiteModel) -> Value {
    let mut counts: std::collections::BTreeMap<&str, (usize, Vec<String>)> = std::collections::BTreeMap::new();
    let mut read = 0usize;
    for p in site.pages.iter().filter_map(|e| e.page.as_ref()) {
        read += 1;
        if let Some(m) = &p.cms {
            let e = counts.entry(m.id.as_str()).or_default();
            e.0 += 1;
            for s in &m.signals {
                if e.1.len() < 8 && !e.1.contains(s) {
                    e.1.push(s.clone());
                }
            }
        }
    }
    let Some((id, (pages, signals))) = counts.into_iter().max_by_key(|(id, (n, _))| (*n, std::cmp::Reverse(*id)))
    else {
        return Value::Null;
    };
    let family = sitecensus_extract::cms::family(id);
    json!({
        "id": id,
        "name": family.map(|f| f.name.as_str()),
        "vendor": family.map(|f| f.vendor.as_str()),
        "pages": pages,
        "pages_read": read,
        "signals": signals,
    })
}

/// A rule together with what its parameters build (an automaton, a set).
fn with_matcher<P, M>(
    rule: Option<Rule<P>>,
    build: impl FnOnce(&P) -> Result<M, ParamError>,
) -> Result<Option<(Rule<P>, M)>, ParamError> {
    match rule {
        None => Ok(None),
        Some(r) => {
            let m = build(&r.params)?;
            Ok(Some((r, m)))
        }
    }
}

/// The checks a rubric runs, with their parameters parsed once.
#[derive(Debug, Clone)]
pub struct Checks {
    unreachable: Option<Rule<availability::UnreachableParams>>,
    slow: Option<Rule<availability::SlowParams>>,
    unparsable: Option<Rule<availability::UnparsableParams>>,
    broken: Option<Rule<links::BrokenParams>>,
    downloads: Option<Rule<links::DownloadParams>>,
    homepage_stale: Option<Rule<freshness::HomepageParams>>,
    column_stale: Option<Rule<freshness::ColumnParams>>,
    empty_column: Option<Rule<freshness::EmptyParams>>,
    unreadable: Option<Rule<freshness::UnreadableParams>>,
    spam: Option<(Rule<spam::Params>, spam::Matcher)>,
    wrong: Option<(Rule<expressions::Params>, expressions::Dictionary)>,
    inappropriate: Option<(Rule<expressions::Params>, expressions::Dictionary)>,
    typo: Option<(Rule<expressions::Params>, expressions::Dictionary)>,
    privacy: Option<Rule<privacy::Params>>,
    untranslated: Option<Rule<i18n::Params>>,
    twins: Option<Rule<twins::Params>>,
    backdated: Option<Rule<history::BackdatedParams>>,
    channels: Option<Rule<interaction::MissingParams>>,
    unanswered: Option<Rule<interaction::UnansweredParams>>,
    boilerplate: Option<Rule<interaction::BoilerplateParams>>,
    slow_reply: Option<Rule<interaction::SlowParams>>,
    /// The working-day calendar reply times are counted with (the slow-reply rule's, else the
    /// shipped one), loaded once.
    calendar: WorkCalendar,
    letters: LetterLabels,
    no_services: Option<Rule<services::MissingParams>>,
    guides: Option<Rule<services::GuideParams>>,
    interpretation: Option<Rule<services::InterpretationParams>>,
    site_code: Option<Rule<identity::NoParams>>,
    filing: Option<Rule<identity::NoParams>>,
    mark: Option<Rule<identity::MarkParams>>,
    https: Option<Rule<identity::HttpsParams>>,
    meta: Option<Rule<identity::MetaParams>>,
    mobile: Option<Rule<identity::MobileParams>>,
    alt: Option<Rule<identity::NoParams>>,
    kinds: ColumnKinds,
    /// Today, for birth dates in ID numbers (no one is born after it).
    today: chrono::NaiveDate,
}

/// What the site-level checks found: findings, and the columns they judged.
#[derive(Debug, Clone, Default)]
pub struct SiteAssessment {
    /// The findings.
    pub findings: Vec<Finding>,
    /// Every column, as the results list them.
    pub columns: Vec<Column>,
    /// What the store keeps for twins across sites.
    pub twin_index: twins::SiteIndex,
    /// Figures the site's `stats` carry whether or not a check fails: `interaction` (letters
    /// and channels), `identity` (what the footer shows), `guides`.
    pub figures: serde_json::Map<String, serde_json::Value>,
}

impl Checks {
    /// Prepares the checks of `rubric` for a scan as of `today` (the `--as-of` date: checks never
    /// read the wall clock, so a stored run reads the same whenever it is scored).
    ///
    /// # Errors
    /// When a check's parameters are missing or of the wrong type, or the working-day calendar
    /// cannot be loaded.
    pub fn new(rubric: &Rubric, today: chrono::NaiveDate) -> Result<Self, ParamError> {
        Ok(Checks {
            unreachable: rule(rubric, availability::UNREACHABLE)?,
            slow: rule(rubric, availability::SLOW)?,
            unparsable: rule(rubric, availability::UNPARSABLE)?,
            broken: rule(rubric, links::BROKEN)?,
            downloads: rule(rubric, links::BROKEN_DOWNLOAD)?,
            homepage_stale: rule(rubric, freshness::HOMEPAGE_STALE)?,
            column_stale: rule(rubric, freshness::COLUMN_STALE)?,
            empty_column: rule(rubric, freshness::EMPTY_COLUMN)?,
            unreadable: rule(rubric, freshness::UNREADABLE)?,
            spam: with_matcher(rule(rubric, spam::ID)?, spam::Matcher::new)?,
            wrong: with_matcher(rule(rubric, expressions::WRONG)?, |p| {
                expressions::Dictionary::new(expressions::WRONG, p)
            })?,
            inappropriate: with_matcher(rule(rubric, expressions::INAPPROPRIATE)?, |p| {
                expressions::Dictionary::new(expressions::INAPPROPRIATE, p)
            })?,
            typo: with_matcher(rule(rubric, expressions::TYPO)?, |p| {
                expressions::Dictionary::new(expressions::TYPO, p)
            })?,
            privacy: rule(rubric, privacy::ID)?,
            untranslated: rule(rubric, i18n::ID)?,
            twins: rule(rubric, twins::ID)?,
            backdated: rule(rubric, history::BACKDATED)?,
            channels: rule(rubric, interaction::MISSING)?,
            unanswered: rule(rubric, interaction::UNANSWERED)?,
            boilerplate: rule(rubric, interaction::BOILERPLATE)?,
            calendar: match rubric.params::<interaction::SlowParams>(interaction::SLOW) {
                Ok(p) if rubric.rule(interaction::SLOW).is_some() => {
                    WorkCalendar::load(&p.calendar).map_err(ParamError)?
                }
                _ => WorkCalendar::load("cn-workdays").map_err(ParamError)?,
            },
            slow_reply: rule(rubric, interaction::SLOW)?,
            letters: rubric.letters.clone(),
            no_services: rule(rubric, services::MISSING)?,
            guides: rule(rubric, services::INCOMPLETE_GUIDE)?,
            interpretation: rule(rubric, services::NO_INTERPRETATION)?,
            site_code: rule(rubric, identity::SITE_CODE)?,
            filing: rule(rubric, identity::FILING)?,
            mark: rule(rubric, identity::MARK)?,
            https: rule(rubric, identity::NO_HTTPS)?,
            meta: rule(rubric, identity::META)?,
            mobile: rule(rubric, identity::MOBILE)?,
            alt: rule(rubric, identity::ALT)?,
            kinds: rubric.column_kinds.clone(),
            today,
        })
    }

    /// Checks that read one page (and its DOM while it is alive).
    #[must_use]
    pub fn page(&self, page: &Page, dom: &Dom) -> Vec<Finding> {
        let mut out = Vec::new();
        if let Some(r) = &self.unparsable {
            out.extend(availability::unparsable(page, r));
        }
        if let Some((r, m)) = &self.spam {
            out.extend(spam::check(page, dom, m, r));
        }
        for (id, d) in [
            (expressions::WRONG, &self.wrong),
            (expressions::INAPPROPRIATE, &self.inappropriate),
            (expressions::TYPO, &self.typo),
        ] {
            if let Some((r, dict)) = d {
                out.extend(expressions::check(id, page, dict, r));
            }
        }
        if let Some(r) = &self.privacy {
            out.extend(privacy::check_text(&page.url, &page.text, self.today, r));
        }
        if let Some(r) = &self.untranslated {
            out.extend(i18n::check(page, r));
        }
        out
    }

    /// The finding for a page whose body was cut at the size cap (`bytes`), where the rubric
    /// has the check.
    #[must_use]
    pub fn truncated_page(&self, url: &str, bytes: usize) -> Option<Finding> {
        self.unparsable.as_ref().map(|r| availability::truncated(url, bytes, r))
    }

    /// Twin findings among articles held outside a site model (the benchmark's generated ones):
    /// what the site-level twin check does once it has read a site's articles.
    #[must_use]
    pub fn twins_among(&self, articles: &[twins::Article]) -> Vec<Finding> {
        self.twins.as_ref().map(|r| twins::check_articles(articles, r)).unwrap_or_default()
    }

    /// A twin finding for two articles of different sites: on the later one (on `b` when their
    /// dates are the same), unless it credits the earlier one's site, named by `a_names` or
    /// `b_names` (its name, homepage title, host).
    #[must_use]
    pub fn cross_site_twin(
        &self,
        a: &twins::Article,
        a_names: &[String],
        b: &twins::Article,
        b_names: &[String],
    ) -> Option<Finding> {
        let r = self.twins.as_ref()?;
        let sim = twins::compare_across(a, b, &r.params)?;
        let (copy, original_names) = if a.published <= b.published { (b, a_names) } else { (a, b_names) };
        if twins::credits(&copy.text, original_names) {
            return None;
        }
        Some(twins::finding(a, b, sim, r).detail("cross_site", true))
    }

    /// Checks that read an attachment's text (a spreadsheet, a document): personal data.
    #[must_use]
    pub fn attachment(&self, url: &str, text: &str) -> Vec<Finding> {
        self.privacy.as_ref().map(|r| privacy::check_text(url, text, self.today, r)).unwrap_or_default()
    }

    /// File extensions of attachments worth reading, and the most bytes read of one.
    #[must_use]
    pub fn attachment_policy(&self) -> Option<(&[String], usize)> {
        self.privacy.as_ref().map(|r| (&r.params.attachments[..], r.params.max_attachment_bytes))
    }

    /// The site's columns, found with the rubric's kind dictionary and placeholders (a service
    /// guide is a page of its own, not a column).
    #[must_use]
    pub fn columns(&self, site: &SiteModel) -> Vec<columns::ColumnInfo> {
        let placeholders = self.empty_column.as_ref().map_or(&[][..], |r| &r.params.placeholders[..]);
        let guide = |p: &Page| self.guides.as_ref().is_some_and(|r| services::guide_of(p, &r.params).is_some());
        columns::discover(site, &self.kinds, placeholders, &guide)
    }

    /// Whether a page the static reading could not read should be drawn by a browser: it shows
    /// something waits for scripts, and either no dated item, or (a homepage) no enquiry channel.
    #[must_use]
    pub fn render_wanted(&self, page: &Page, homepage: bool) -> bool {
        if page.rendered {
            return false;
        }
        if !page.drawn_by.is_empty()
            && !page.has_dated_items()
            && (homepage || page.page_kind != sitecensus_extract::PageKind::Article)
        {
            return true;
        }
        // A homepage that names no enquiry channel but runs scripts of its own: they may draw
        // the channel block (政民互动 filled by a script).
        homepage
            && self.channels.as_ref().is_some_and(|r| !interaction::names_a_channel(page, &r.params))
            && (!page.drawn_by.is_empty()
                || page.links.iter().any(|l| {
                    l.kind == sitecensus_core::LinkKind::Script && !sitecensus_extract::cms::is_library(&l.url)
                }))
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
                kind: c.kind,
                items: c.items,
                latest: c.latest.map(|d| d.to_string()),
                stale: self.column_stale.as_ref().is_some_and(|r| freshness::is_stale(c, &r.params, as_of)),
                empty: c.empty,
                unreadable: c.unreadable.is_some(),
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
        let homepage = freshness::homepage_newest(site);
        if let (Some(r), Some(h)) = (&self.homepage_stale, &homepage) {
            out.extend(freshness::homepage_stale(h, site.as_of.date(), r));
        }
        if let Some(r) = &self.column_stale {
            out.extend(freshness::column_stale(site, &cols, r));
        }
        if let Some(r) = &self.empty_column {
            out.extend(freshness::empty_column(site, &cols, r));
        }
        if let Some(r) = &self.unreadable {
            out.extend(freshness::unreadable(site, &cols, r));
        }
        let mut twin_index = twins::SiteIndex::default();
        if let Some(r) = &self.twins {
            let (findings, index) = twins::check(site, r);
            out.extend(findings);
            twin_index = index;
        }
        let mut figures = serde_json::Map::new();
        figures.insert("cms".into(), cms_figure(site));
        if let Some(h) = homepage {
            figures.insert("freshness".into(), json!({ "homepage": h }));
        }
        figures.insert("interaction".into(), self.responsiveness(site, &cols, &mut out));
        self.practicality(site, &cols, &mut out, &mut figures);
        let (footer, found) =
            identity::footer_checks(site, self.site_code.as_ref(), self.filing.as_ref(), self.mark.as_ref());
        out.extend(found);
        if let Some(f) = footer {
            figures.insert("identity".into(), json!(f));
        }
        if let Some(r) = &self.https {
            out.extend(identity::no_https(site, site.https.as_ref(), r));
        }
        if let Some(r) = &self.meta {
            out.extend(identity::missing_meta(site, r));
        }
        if let Some(r) = &self.mobile {
            out.extend(identity::not_adapted(site, r));
        }
        if let Some(r) = &self.alt {
            out.extend(identity::missing_alt(site, r));
        }
        SiteAssessment { findings: out, columns, twin_index, figures }
    }

    /// The interaction checks (channels, letters), adding findings to `out`; returns the
    /// site's letter figures.
    fn responsiveness(&self, site: &SiteModel, cols: &[columns::ColumnInfo], out: &mut Vec<Finding>) -> Value {
        let as_of = site.as_of.date();
        let mut fig = interaction::LetterFigures::default();
        if let Some(r) = &self.channels {
            let channels = interaction::channels(site, &r.params);
            fig.channels = channels.len();
            fig.channels_working = channels.iter().filter(|c| c.problem.is_none()).count();
            out.extend(interaction::missing(site, &channels, r));
        }
        let letters = interaction::read_letters(site, cols, &self.letters);
        fig.letters = letters.len();
        fig.replied = letters.iter().filter(|l| l.status == interaction::Status::Answered).count();
        fig.status_unknown = letters.iter().filter(|l| l.status == interaction::Status::Unknown).count();
        if let Some(r) = &self.unanswered {
            let found = interaction::unanswered(&letters, as_of, r);
            fig.unanswered = found.iter().filter(|f| f.at_most.is_none()).count();
            fig.unanswered_soon = found.len() - fig.unanswered;
            out.extend(found);
        }
        if let Some(r) = &self.boilerplate {
            let (share, found) = interaction::boilerplate(&letters, site.spec.url.as_str(), r);
            fig.boilerplate_share = share.map(|s| (s * 1000.0).round() / 1000.0);
            out.extend(found);
        }
        let times = interaction::reply_times(&letters, &self.calendar);
        (fig.median_working_days, fig.p90_working_days) = interaction::reply_time_figures(&times);
        if let Some(r) = &self.slow_reply {
            out.extend(interaction::slow(&times, site.spec.url.as_str(), r));
        }
        json!(fig)
    }

    /// The practicality checks (services, guides, interpretations), adding findings to `out`
    /// and the guide figures to `figures`.
    fn practicality(
        &self,
        site: &SiteModel,
        cols: &[columns::ColumnInfo],
        out: &mut Vec<Finding>,
        figures: &mut serde_json::Map<String, Value>,
    ) {
        let guides: Vec<services::Guide> = match &self.guides {
            Some(r) => {
                let mut g: Vec<services::Guide> = site
                    .pages
                    .iter()
                    .filter_map(|e| e.page.as_ref())
                    .filter_map(|p| services::guide_of(p, &r.params))
                    .collect();
                g.sort_by(|a, b| a.url.cmp(&b.url));
                g.dedup_by(|a, b| a.url == b.url);
                out.extend(services::incomplete_guides(&g, r));
                figures.insert(
                    "guides".into(),
                    json!({"read": g.len(), "incomplete": g.iter().filter(|x| !x.missing.is_empty()).count()}),
                );
                g
            }
            None => Vec::new(),
        };
        if let Some(r) = &self.no_services {
            out.extend(services::missing(site, cols, &guides, r));
        }
        if let Some(r) = &self.interpretation {
            out.extend(services::no_interpretation(site, cols, r));
        }
    }

    /// Checks that compare the site with its earlier run: backdated items, and a homepage whose
    /// items have not changed (unless `found` already says the homepage is stale).
    #[must_use]
    pub fn history(&self, now: &SiteModel, then: history::Earlier<'_>, found: &[Finding]) -> Vec<Finding> {
        let mut out = Vec::new();
        if let Some(r) = &self.backdated {
            out.extend(history::backdated(now, then, r));
        }
        if let Some(r) = &self.homepage_stale
            && !found.iter().any(|f| f.check == freshness::HOMEPAGE_STALE)
        {
            out.extend(history::homepage_unchanged(now, then, r));
        }
        out
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
