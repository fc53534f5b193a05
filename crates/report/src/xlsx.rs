//! The Excel workbook inspection offices exchange: a summary sheet (the run, pass rates by level,
//! region and province, errors found on many sites), the ranking, one row per finding, one row
//! per column, and the rectification when the run was compared — headers in Chinese unless
//! `--lang en`. Cells are written as strings or numbers, never formulas, so a crawled text that
//! begins with "=" stays text.

use rust_xlsxwriter::{ExcelDateTime, Format, Url, Workbook, Worksheet, XlsxError};
use sitecensus_core::finding::clip;

use crate::lang::{Label, Lang};
use crate::summary::Group;
use crate::{Results, SiteResult};

/// Most characters of a cell taken from a page (Excel holds 32,767).
const MAX_CELL: usize = 2000;
/// Hyperlinks a sheet holds at the most (Excel's limit is 65,530); later addresses are text.
const MAX_LINKS: u32 = 65_000;
/// Longest address Excel takes as a hyperlink.
const MAX_URL: usize = 2079;

/// Rows a sheet holds (Excel's limit): a table past it goes on in a sheet of its own, "… (2)".
const MAX_ROWS: u32 = 1_048_576;

/// A sheet being filled row by row; a table that outgrows it continues in a new sheet with the
/// same header.
struct Sheet<'a> {
    wb: &'a mut Workbook,
    /// The worksheet being written, by its index in the workbook.
    idx: usize,
    name: String,
    widths: Vec<f64>,
    /// The table's header, repeated at the top of each continuation sheet.
    columns: Vec<String>,
    /// Which sheet of the table this is (1, 2, …).
    part: u32,
    /// Rows a sheet may hold.
    max_rows: u32,
    row: u32,
    bold: Format,
    date: Format,
    percent: Format,
    links: u32,
    /// Columns of the table (for its filter).
    width: u16,
}

/// A cell: text, a number, a share shown as a percentage, a date, or an address.
enum Cell<'a> {
    Text(&'a str),
    Owned(String),
    Num(f64),
    Percent(f64),
    /// `YYYY-MM-DD…`: a real date a filter can use; other text stays text.
    Date(&'a str),
    /// An http(s) address becomes a hyperlink; anything else stays text.
    Link(&'a str),
}

impl Sheet<'_> {
    fn ws(&mut self) -> &mut Worksheet {
        self.wb.worksheet_from_index(self.idx).expect("the sheet being written is in the workbook")
    }

    fn header(&mut self, cells: &[&str]) -> Result<(), XlsxError> {
        let (row, bold) = (self.row, self.bold.clone());
        for (c, h) in cells.iter().enumerate() {
            self.ws().write_string_with_format(row, c as u16, *h, &bold)?;
        }
        self.row += 1;
        Ok(())
    }

    /// The header row of a table that fills the sheet: frozen, filtered, repeated on every
    /// printed page; the sheet prints landscape on A4, one page wide.
    fn table_header(&mut self, cells: &[&str]) -> Result<(), XlsxError> {
        self.header(cells)?;
        self.width = cells.len() as u16;
        self.columns = cells.iter().map(|c| (*c).to_owned()).collect();
        let ws = self.ws();
        ws.set_freeze_panes(1, 0)?;
        ws.set_repeat_rows(0, 0)?;
        ws.set_landscape();
        ws.set_paper_size(9);
        ws.set_print_fit_to_pages(1, 0);
        Ok(())
    }

    /// Closes a table: the filter covers every row written.
    fn finish_table(&mut self) -> Result<(), XlsxError> {
        if self.width > 0 {
            let (last, width) = (self.row.saturating_sub(1).max(1), self.width);
            self.ws().autofilter(0, 0, last, width - 1)?;
        }
        Ok(())
    }

    /// Closes a full sheet of the table and goes on in the next, under the same header.
    fn continue_table(&mut self) -> Result<(), XlsxError> {
        self.finish_table()?;
        self.part += 1;
        self.idx = new_worksheet(self.wb, &format!("{} ({})", self.name, self.part), &self.widths)?;
        self.row = 0;
        self.links = 0;
        let columns = std::mem::take(&mut self.columns);
        self.table_header(&columns.iter().map(String::as_str).collect::<Vec<_>>())
    }

    fn line(&mut self, cells: &[Cell<'_>]) -> Result<(), XlsxError> {
        if self.width > 0 && self.row >= self.max_rows {
            self.continue_table()?;
        }
        let ws = self.wb.worksheet_from_index(self.idx).expect("the sheet being written is in the workbook");
        for (c, v) in cells.iter().enumerate() {
            let c = c as u16;
            match v {
                Cell::Text(t) => ws.write_string(self.row, c, clip(t, MAX_CELL))?,
                Cell::Owned(t) => ws.write_string(self.row, c, clip(t, MAX_CELL))?,
                Cell::Num(n) => ws.write_number(self.row, c, *n)?,
                Cell::Percent(n) => ws.write_number_with_format(self.row, c, *n, &self.percent)?,
                Cell::Date(t) => match t.get(..10).and_then(|d| ExcelDateTime::parse_from_str(d).ok()) {
                    Some(d) => ws.write_datetime_with_format(self.row, c, &d, &self.date)?,
                    None => ws.write_string(self.row, c, clip(t, MAX_CELL))?,
                },
                Cell::Link(t) => {
                    let linkable = (t.starts_with("http://") || t.starts_with("https://"))
                        && t.len() <= MAX_URL
                        && self.links < MAX_LINKS;
                    if linkable {
                        self.links += 1;
                        ws.write_url(self.row, c, Url::new(*t))?
                    } else {
                        ws.write_string(self.row, c, clip(t, MAX_CELL))?
                    }
                }
            };
        }
        self.row += 1;
        Ok(())
    }
}

/// A severity in the workbook's language.
/// Adds a worksheet named `name` with its column widths; its index in the workbook.
fn new_worksheet(wb: &mut Workbook, name: &str, widths: &[f64]) -> Result<usize, XlsxError> {
    let ws = wb.add_worksheet();
    ws.set_name(name)?;
    for (c, w) in widths.iter().enumerate() {
        ws.set_column_width(c as u16, *w)?;
    }
    Ok(wb.worksheets().len() - 1)
}

fn sheet<'a>(wb: &'a mut Workbook, name: &str, widths: &[f64], max_rows: u32) -> Result<Sheet<'a>, XlsxError> {
    let idx = new_worksheet(wb, name, widths)?;
    Ok(Sheet {
        wb,
        idx,
        name: name.to_owned(),
        widths: widths.to_vec(),
        columns: Vec::new(),
        part: 1,
        max_rows,
        row: 0,
        bold: Format::new().set_bold(),
        date: Format::new().set_num_format("yyyy-mm-dd"),
        percent: Format::new().set_num_format("0.0%"),
        links: 0,
        width: 0,
    })
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
        let vetoes: Vec<String> = g.veto_items.iter().map(|(item, n)| format!("{item} {n}")).collect();
        s.line(&[
            Cell::Owned(g.label_in(lang)),
            Cell::Num(g.sites as f64),
            Cell::Num(g.pass as f64),
            Cell::Percent(g.pass_rate),
            Cell::Num(g.mean_score),
            Cell::Owned(vetoes.join("; ")),
        ])?;
    }
    Ok(())
}

/// A finding's structured detail as a person reads it in a cell: one `key: value` line per key,
/// text as it is, lists of plain values joined with 、, anything deeper as compact JSON.
fn detail_lines(detail: &serde_json::Map<String, serde_json::Value>) -> String {
    use serde_json::Value;
    let plain = |v: &Value| match v {
        Value::String(s) => s.clone(),
        Value::Null => "—".to_owned(),
        other => other.to_string(),
    };
    detail
        .iter()
        .map(|(k, v)| {
            let shown = match v {
                Value::Array(items) if items.iter().all(|i| !i.is_array() && !i.is_object()) => {
                    items.iter().map(plain).collect::<Vec<_>>().join("、")
                }
                other => plain(other),
            };
            format!("{k}: {shown}")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn site_name(s: &SiteResult) -> &str {
    s.name.as_deref().unwrap_or(&s.url)
}

fn verdict(v: sitecensus_score::Verdict, lang: Lang) -> &'static str {
    match v {
        sitecensus_score::Verdict::Pass => lang.t(Label::Pass),
        sitecensus_score::Verdict::Fail => lang.t(Label::Fail),
    }
}

/// The rubric item a check belongs to, as the site's scorecard names it.
fn item_of(s: &SiteResult, check: sitecensus_core::CheckId) -> &str {
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
    render_rows(results, lang, MAX_ROWS)
}

/// As [`render`], with sheets of at most `max_rows` rows.
fn render_rows(results: &Results, lang: Lang, max_rows: u32) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let sm = &results.summary;
    let by_url: std::collections::HashMap<&str, &SiteResult> =
        results.sites.iter().map(|s| (s.url.as_str(), s)).collect();
    {
        let mut s = sheet(&mut wb, lang.t(Label::SheetSummary), &[28.0, 14.0, 12.0, 12.0, 12.0, 60.0], max_rows)?;
        let (rubric, as_of) = if lang == Lang::Zh { ("评估指标", "评估日期") } else { ("rubric", "as of") };
        s.line(&[Cell::Text(rubric), Cell::Owned(format!("{} {}", results.rubric.id, results.rubric.title))])?;
        s.line(&[Cell::Text(as_of), Cell::Date(&results.as_of)])?;
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
                    Cell::Text(lang.check(r.check)),
                    Cell::Text(&r.what),
                    Cell::Num(r.count as f64),
                    Cell::Owned(r.sites.join("\n")),
                ])?;
            }
        }
    }
    {
        let mut s =
            sheet(&mut wb, lang.t(Label::SheetRanking), &[8.0, 30.0, 36.0, 10.0, 10.0, 10.0, 10.0, 50.0], max_rows)?;
        s.table_header(&[
            lang.t(Label::Rank),
            lang.t(Label::Site),
            "URL",
            lang.t(Label::Level),
            lang.t(Label::Region),
            lang.t(Label::Verdict),
            lang.t(Label::Score),
            lang.t(Label::Vetoes),
        ])?;
        for r in &sm.ranking {
            let site = by_url.get(r.url.as_str());
            s.line(&[
                Cell::Num(r.rank as f64),
                Cell::Text(r.name.as_deref().unwrap_or("")),
                Cell::Link(&r.url),
                Cell::Text(site.and_then(|x| x.level.as_deref()).map_or("", |l| lang.level(l))),
                Cell::Owned(
                    site.and_then(|x| x.region.as_deref()).map(sitecensus_core::region::label).unwrap_or_default(),
                ),
                Cell::Text(verdict(r.verdict, lang)),
                Cell::Num(r.score),
                Cell::Owned(site.map(|x| x.veto_list()).unwrap_or_default()),
            ])?;
        }
        s.finish_table()?;
    }
    {
        let mut s = sheet(
            &mut wb,
            lang.t(Label::SheetFindings),
            &[30.0, 36.0, 28.0, 30.0, 10.0, 60.0, 40.0, 40.0, 40.0, 28.0],
            max_rows,
        )?;
        s.table_header(&[
            lang.t(Label::Site),
            "URL",
            lang.t(Label::Check),
            lang.t(Label::Item),
            lang.t(Label::Severity),
            lang.t(Label::Evidence),
            lang.t(Label::Page),
            lang.t(Label::Target),
            if lang == Lang::Zh { "详细数据" } else { "detail" },
            if lang == Lang::Zh { "检查项编号" } else { "check id" },
        ])?;
        for site in &results.sites {
            for f in &site.findings {
                s.line(&[
                    Cell::Text(site_name(site)),
                    Cell::Link(&site.url),
                    Cell::Text(lang.check(f.check)),
                    Cell::Text(item_of(site, f.check)),
                    Cell::Text(lang.severity(f.severity)),
                    Cell::Text(lang.evidence(f)),
                    Cell::Link(f.page.as_deref().unwrap_or("")),
                    Cell::Link(f.target.as_deref().unwrap_or("")),
                    Cell::Owned(detail_lines(&f.detail)),
                    Cell::Text(f.check.as_str()),
                ])?;
            }
        }
        s.finish_table()?;
    }
    {
        let mut s = sheet(
            &mut wb,
            lang.t(Label::SheetColumns),
            &[30.0, 24.0, 40.0, 10.0, 8.0, 12.0, 8.0, 8.0, 10.0],
            max_rows,
        )?;
        s.table_header(&[
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
                    Cell::Link(&c.url),
                    Cell::Text(lang.kind(c.kind)),
                    Cell::Num(c.items as f64),
                    Cell::Date(c.latest.as_deref().unwrap_or("")),
                    Cell::Text(yes_no(c.stale)),
                    Cell::Text(yes_no(c.empty)),
                    Cell::Text(yes_no(c.unreadable)),
                ])?;
            }
        }
        s.finish_table()?;
    }
    if let Some(cmp) = &results.comparison {
        let mut s = sheet(
            &mut wb,
            lang.t(Label::SheetRectification),
            &[30.0, 36.0, 12.0, 10.0, 10.0, 10.0, 10.0, 8.0, 8.0, 8.0, 10.0],
            max_rows,
        )?;
        s.table_header(&[
            lang.t(Label::Site),
            "URL",
            lang.t(Label::Previous),
            if lang == Lang::Zh { "上轮得分" } else { "previous score" },
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
                Cell::Link(&c.url),
                Cell::Text(c.previous_verdict.map_or("—", |v| verdict(v, lang))),
                match c.previous_score {
                    Some(p) => Cell::Num(p),
                    None => Cell::Text("—"),
                },
                Cell::Text(verdict(c.verdict, lang)),
                Cell::Num(c.score),
                Cell::Num(c.fixed as f64),
                Cell::Num(c.new as f64),
                Cell::Num(c.persisting as f64),
                Cell::Text(if c.rectified { lang.t(Label::Yes) } else { lang.t(Label::No) }),
            ])?;
        }
        s.finish_table()?;
        drop(s);
        // Each finding with what became of it: new, still there, or fixed since the earlier run.
        let mut s = sheet(
            &mut wb,
            if lang == Lang::Zh { "整改明细" } else { "Rectification detail" },
            &[30.0, 10.0, 28.0, 10.0, 60.0, 40.0, 40.0],
            max_rows,
        )?;
        s.table_header(&[
            lang.t(Label::Site),
            if lang == Lang::Zh { "状态" } else { "status" },
            lang.t(Label::Check),
            lang.t(Label::Severity),
            lang.t(Label::Evidence),
            lang.t(Label::Page),
            lang.t(Label::Target),
        ])?;
        for c in &cmp.sites {
            let name = c.name.as_deref().unwrap_or(&c.url);
            if let Some(site) = by_url.get(c.url.as_str()) {
                for f in &site.findings {
                    let new = c.all_new.contains(&crate::compare::FindingKey::of(f));
                    s.line(&[
                        Cell::Text(name),
                        Cell::Text(if new { lang.t(Label::New) } else { lang.t(Label::Persisting) }),
                        Cell::Text(lang.check(f.check)),
                        Cell::Text(lang.severity(f.severity)),
                        Cell::Text(lang.evidence(f)),
                        Cell::Link(f.page.as_deref().unwrap_or("")),
                        Cell::Link(f.target.as_deref().unwrap_or("")),
                    ])?;
                }
            }
            for k in &c.all_fixed {
                s.line(&[
                    Cell::Text(name),
                    Cell::Text(lang.t(Label::Fixed)),
                    Cell::Text(lang.check(k.check)),
                    Cell::Text(""),
                    Cell::Text(""),
                    Cell::Link(k.page.as_deref().unwrap_or("")),
                    Cell::Link(k.target.as_deref().unwrap_or("")),
                ])?;
            }
        }
        s.finish_table()?;
    }
    wb.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use super::*;
    use calamine::Reader;

    #[test]
    fn a_table_past_the_row_limit_goes_on_in_a_sheet_of_its_own() {
        let findings: Vec<serde_json::Value> = (0..7)
            .map(|i| {
                serde_json::json!({"check": "links.broken", "severity": "deduct", "page": "http://a.gov.cn/",
                    "target": format!("http://a.gov.cn/{i}.html"), "evidence": format!("HTTP 404 #{i}"), "detail": {}})
            })
            .collect();
        let results: Results = serde_json::from_value(serde_json::json!({
            "schema": "sitecensus.results/1", "as_of": "2024-07-10T00:00:00+08:00",
            "rubric": {"id": "gov-2019", "title": "t"},
            "sites": [{"url": "http://a.gov.cn/", "name": "某县", "level": "county", "region": null,
                "verdict": "pass", "score": 99.3, "vetoes": [], "stats": {}, "columns": [], "findings": findings}]
        }))
        .unwrap();
        // Four rows a sheet: the header and three findings, then the next sheet.
        let bytes = render_rows(&results, Lang::En, 4).unwrap();
        let mut wb: calamine::Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
        let names = wb.sheet_names();
        assert!(
            names.starts_with(&[
                "Summary".into(),
                "Ranking".into(),
                "Findings".into(),
                "Findings (2)".into(),
                "Findings (3)".into()
            ]),
            "{names:?}"
        );
        let mut seen = Vec::new();
        for name in ["Findings", "Findings (2)", "Findings (3)"] {
            let range = wb.worksheet_range(name).unwrap();
            let rows: Vec<Vec<String>> = range.rows().map(|r| r.iter().map(ToString::to_string).collect()).collect();
            assert_eq!(rows[0][5], "evidence", "{name} starts with the header: {rows:?}");
            assert!(rows.len() <= 4, "{name}: {rows:?}");
            seen.extend(rows[1..].iter().map(|r| r[5].clone()));
        }
        let want: Vec<String> = (0..7).map(|i| format!("HTTP 404 #{i}")).collect();
        assert_eq!(seen, want, "every finding once, in order");
    }
}
