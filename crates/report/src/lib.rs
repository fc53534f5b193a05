//! Reports of sitecensus, one module per format: [`results`] (the JSON contract), [`terminal`]
//! (the scorecard printed per site) and [`html`] (one self-contained page that escapes every
//! string taken from a crawled page).

pub mod html;
pub mod results;
pub mod terminal;

pub use results::{RESULTS_SCHEMA, Results, RubricRef, RunInfo, SiteResult};
