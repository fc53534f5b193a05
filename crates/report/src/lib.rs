//! Reports of sitecensus, one module per format: [`results`] (the JSON contract), [`terminal`]
//! (the scorecard printed per site), [`html`] (one self-contained page that escapes every string
//! taken from a crawled page) and [`xlsx`] (the workbook inspection offices exchange); with the
//! census [`summary`] and the rectification [`compare`]ison they all show.

pub mod compare;
pub mod html;
pub mod lang;
pub mod results;
pub mod summary;
pub mod terminal;
pub mod xlsx;

pub use lang::{Label, Lang};
pub use results::{RESULTS_SCHEMA, Results, RubricRef, RunInfo, SiteResult, Unassessed};
