//! The Excel workbook inspection offices exchange: a summary sheet (the run, pass rates by level,
//! region and province, errors found on many sites), the ranking, one row per finding, one row
//! per column, and the rectification when the run was compared — headers in Chinese unless
//! `--lang en`. Cells are written as strings or numbers, never formulas, so a crawled text that
//! begins with "=" stays text.

use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};
use sitecensus_core::finding::clip;

use crate::lang::{Label, Lang};
use crate::summary::Group;
use crate::{Results, SiteResult};

/// Most characters of a cell taken from a page (Excel holds 32,767).
const MAX_CELL: usize = 2000;

/// A sheet being filled row by row.
struct Sheet<'a> {
    ws: &'a mut Worksheet,
    row: u32,
    bold: Format,
}

/// A cell: text or a number.
enum Cell<'a> {
    Text(&'a str),
    Owned(String),
    Num(f64),
}

impl Sheet<'_> {
    fn header(&mut self, cells: &[&str]) -> Result<(), XlsxError> {
        for (c, h) in cells.iter().enumerate() {
            self.ws.write_string_with_format(self.row, c as u16, *h, &self.bold)?;
        }
        self.row += 1;
        Ok(())
    }

    fn line(&mut self, cells: &[Cell<'_>]) -> Result<(), XlsxError> {
        for (c, v) in cells.iter().enumerate() {
            let c = c as u16;
            match v {
                Cell::Text(t) => self.ws.write_string(self.row, c, clip(t, MAX_CELL))?,
                Cell::Owned(t) => self.ws.write_string(self.row, c, clip(t, MAX_CELL))?,
                Cell::Num(n) => self.ws.write_number(self.row, c, *n)?,
            };
        }
        self.row += 1;
        Ok(())
    }
}

fn sheet<'a>(wb: &'a mut Workbook, name: &str, widths: &[f64]) -> Result<Sheet<'a>, XlsxError> {
    let ws = wb.add_worksheet();
    ws.set_name(name)?;
    for (c, w) in widths.iter().enumerate() {
        ws.set_column_width(c as u16, *w)?;
    }
    Ok(Sheet { ws, row: 0, bold: Format::new().set_bold() })
}

fn groups(s: &mut Sheet<'_>, title: &str, groups: &[Group], lang: Lang) -> Result<(), XlsxError> {
    if groups.is_empty() {
        return Ok(());
    }
    s.row += 1;
    s.header(&[title])?;
    s.header(&[
        lang.t(Label::Group),
        lang.t(Label::Sites),
        lang.t(Label::Pass),
        lang.t(Label::PassRate),
        lang.t(Label::MeanScore),
        lang.t(Label::Vetoes),
    ])?;
    for g in groups {
        let vetoes: Vec<String> = g.vetoes.iter().map(|(k, v)| format!("{k} {v}")).collect();
        s.line(&[
            Cell::Text(&g.key),
            Cell::Num(g.sites as f64),
            Cell::Num(g.pass as f64),
            Cell::Num(g.pass_rate),
            Cell::Num(g.mean_score),
            Cell::Owned(vetoes.join("; ")),
        ])?;
    }
    Ok(())
}

fn site_name(s: &SiteResult) -> &str {
    s.name.as_deref().unwrap_or(&s.url)
}

fn verdict(s: &str, lang: Lang) -> &'static str {
    if s == "pass" { lang.t(Label::Pass) } else { lang.t(Label::Fail) }
}

/// The rubric item a check belongs to, as the site's scorecard names it.
fn item_of<'a>(s: &'a SiteResult, check: &str) -> &'a str {
    s.veto_items
        .iter()
        .find(|v| v.check == check)
        .map(|v| v.item.as_str())
        .or_else(|| s.deductions.iter().find(|d| d.check == check).map(|d| d.item.as_str()))
        .unwrap_or("")
}

/// The workbook of a run, as bytes.
///
/// # Errors
/// When the workbook cannot be assembled (it is written to memory, not to a file).
pub fn render(results: &Results, lang: Lang) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let sm = &results.summary;
    {
        let mut s = sheet(&mut wb, lang.t(Label::SheetSummary), &[28.0, 14.0, 12.0, 12.0, 12.0, 60.0])?;
        let (rubric, as_of) = if lang == Lang::Zh { ("评估指标", "评估日期") } else { ("rubric", "as of") };
        s.line(&[Cell::Text(rubric), Cell::Owned(format!("{} {}", results.rubric.id, results.rubric.title))])?;
        s.line(&[Cell::Text(as_of), Cell::Text(&results.as_of)])?;
        if let Some(r) = &results.run {
            s.line(&[Cell::Text(if lang == Lang::Zh { "批次" } else { "run" }), Cell::Num(r.id as f64)])?;
        }
        groups(&mut s, if lang == Lang::Zh { "总体" } else { "All sites" }, std::slice::from_ref(&sm.all), lang)?;
        groups(&mut s, lang.t(Label::Level), &sm.by_level, lang)?;
        groups(&mut s, lang.t(Label::Region), &sm.by_region, lang)?;
        groups(&mut s, if lang == Lang::Zh { "省份" } else { "province" }, &sm.by_province, lang)?;
        if !sm.repeated.is_empty() {
            s.row += 1;
            s.header(&[if lang == Lang::Zh { "多站同错" } else { "The same error on many sites" }])?;
            s.header(&[lang.t(Label::Check), lang.t(Label::Evidence), lang.t(Label::Sites), lang.t(Label::Site)])?;
            for r in &sm.repeated {
                s.line(&[
                    Cell::Text(&r.check),
                    Cell::Text(&r.what),
                    Cell::Num(r.count as f64),
                    Cell::Owned(r.sites.join("\n")),
                ])?;
            }
        }
    }
    {
        let mut s = sheet(&mut wb, lang.t(Label::SheetRanking), &[8.0, 30.0, 36.0, 10.0, 10.0, 10.0, 10.0, 50.0])?;
        s.header(&[
            lang.t(Label::Rank),
            lang.t(Label::Site),
            "URL",
            lang.t(Label::Level),
            lang.t(Label::Region),
            lang.t(Label::Verdict),
            lang.t(Label::Score),
            lang.t(Label::Vetoes),
        ])?;
        let by_url: std::collections::HashMap<&str, &SiteResult> =
            results.sites.iter().map(|s| (s.url.as_str(), s)).collect();
        for r in &sm.ranking {
            let site = by_url.get(r.url.as_str());
            s.line(&[
                Cell::Num(r.rank as f64),
                Cell::Text(r.name.as_deref().unwrap_or("")),
                Cell::Text(&r.url),
                Cell::Text(site.and_then(|x| x.level.as_deref()).unwrap_or("")),
                Cell::Text(site.and_then(|x| x.region.as_deref()).unwrap_or("")),
                Cell::Text(verdict(&r.verdict, lang)),
                Cell::Num(r.score),
                Cell::Owned(site.map(|x| x.vetoes.join(", ")).unwrap_or_default()),
            ])?;
        }
    }
    {
        let mut s =
            sheet(&mut wb, lang.t(Label::SheetFindings), &[30.0, 36.0, 28.0, 30.0, 10.0, 60.0, 40.0, 40.0, 40.0])?;
        s.header(&[
            lang.t(Label::Site),
            "URL",
            lang.t(Label::Check),
            lang.t(Label::Item),
            lang.t(Label::Severity),
            lang.t(Label::Evidence),
            lang.t(Label::Page),
            lang.t(Label::Target),
            "detail",
        ])?;
        for site in &results.sites {
            for f in &site.findings {
                s.line(&[
                    Cell::Text(site_name(site)),
                    Cell::Text(&site.url),
                    Cell::Text(&f.check),
                    Cell::Text(item_of(site, &f.check)),
                    Cell::Text(f.severity.as_str()),
                    Cell::Text(&f.evidence),
                    Cell::Text(f.page.as_deref().unwrap_or("")),
                    Cell::Text(f.target.as_deref().unwrap_or("")),
                    Cell::Owned(serde_json::to_string(&f.detail).unwrap_or_default()),
                ])?;
            }
        }
    }
    {
        let mut s = sheet(&mut wb, lang.t(Label::SheetColumns), &[30.0, 24.0, 40.0, 10.0, 8.0, 12.0, 8.0, 8.0, 10.0])?;
        s.header(&[
            lang.t(Label::Site),
            lang.t(Label::Column),
            "URL",
            lang.t(Label::Kind),
            lang.t(Label::Items),
            lang.t(Label::Latest),
            lang.t(Label::Stale),
            lang.t(Label::Empty),
            lang.t(Label::Unreadable),
        ])?;
        let yes_no = |b: bool| if b { lang.t(Label::Yes) } else { lang.t(Label::No) };
        for site in &results.sites {
            for c in &site.columns {
                s.line(&[
                    Cell::Text(site_name(site)),
                    Cell::Text(&c.title),
                    Cell::Text(&c.url),
                    Cell::Text(&c.kind),
                    Cell::Num(c.items as f64),
                    Cell::Text(c.latest.as_deref().unwrap_or("")),
                    Cell::Text(yes_no(c.stale)),
                    Cell::Text(yes_no(c.empty)),
                    Cell::Text(yes_no(c.unreadable)),
                ])?;
            }
        }
    }
    if let Some(cmp) = &results.comparison {
        let mut s = sheet(
            &mut wb,
            lang.t(Label::SheetRectification),
            &[30.0, 36.0, 12.0, 10.0, 10.0, 10.0, 8.0, 8.0, 8.0, 10.0],
        )?;
        s.header(&[
            lang.t(Label::Site),
            "URL",
            lang.t(Label::Previous),
            lang.t(Label::Verdict),
            lang.t(Label::Score),
            lang.t(Label::Fixed),
            lang.t(Label::New),
            lang.t(Label::Persisting),
            lang.t(Label::Rectified),
        ])?;
        for c in &cmp.sites {
            s.line(&[
                Cell::Text(c.name.as_deref().unwrap_or(&c.url)),
                Cell::Text(&c.url),
                Cell::Text(c.previous_verdict.as_deref().map_or("—", |v| verdict(v, lang))),
                Cell::Text(verdict(&c.verdict, lang)),
                Cell::Num(c.score),
                Cell::Num(c.fixed as f64),
                Cell::Num(c.new as f64),
                Cell::Num(c.persisting as f64),
                Cell::Text(if c.rectified { lang.t(Label::Yes) } else { lang.t(Label::No) }),
            ])?;
        }
    }
    wb.save_to_buffer()
}
