//! The page model: everything sitecensus reads off one page — encoding, title, kind of page,
//! publication date, national meta tags, dated list items and the blocks they sit in, links
//! (with kind and whether hidden), images, forms, breadcrumb, main text and footer text.
//!
//! This is the hot path of a scan: one parse per page, one pass over the DOM, no per-node
//! allocation beyond the strings the model keeps.

pub mod attachments;
pub mod budget;
pub mod cms;
pub mod css;
pub mod dates;
pub mod decode;
pub mod dom;
pub mod embedded;
pub mod fields;
pub mod items;
pub mod jsvalue;
pub mod model;
pub mod page;
pub mod regions;
pub mod script;
pub mod sitemap;

pub use dom::Dom;
pub use model::{
    Block, Crumb, DateSource, Field, Form, Image, InvalidLink, Item, Link, Page, PageKind, Table, TableRow, Via,
};
pub use page::{Options, analyze, analyze_rendered, extract};
