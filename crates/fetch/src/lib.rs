//! The fetch stage of sitecensus: one HTTP client for a whole run that is polite to every host,
//! never steered into internal networks by a hostile page, follows redirects one hop at a time,
//! retries what may pass, cuts bodies at a cap after decompression, honours robots.txt and can
//! archive everything as WARC. A failed fetch is an [`Outcome`](sitecensus_core::Outcome), not an error.

pub mod archive;
pub mod client;
pub mod cookies;
pub mod guard;
pub mod legacy;
pub mod politeness;
pub mod robots;
pub mod tls;
pub mod warc;

pub use archive::{Archive, ArchiveError};
pub use client::{Attempt, FetchConfig, Fetched, Fetcher, env_proxy, parse_header, parse_resolve};
pub use politeness::Politeness;
pub use robots::Robots;
pub use tls::HttpsProbe;
pub use warc::{WarcHandle, WarcWriter};
