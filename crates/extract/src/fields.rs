//! Labelled values of a page — "来信人：张三", a table row `申请材料 | …`, a `<dt>`/`<dd>` pair, a
//! section heading and the text under it — and tables with a header row (letter lists). Letter
//! pages and service guides are read from these; which labels mean what is the rubric's
//! business, not the extractor's.

use crate::dom::{Dom, Kind, is_block};
use crate::model::{Field, Table, TableRow};

/// Most fields kept per page.
const MAX_FIELDS: usize = 80;
/// Most characters of a field's value kept.
const MAX_VALUE_CHARS: usize = 1000;
/// Most tables kept per page, and rows per table.
const MAX_TABLES: usize = 4;
const MAX_ROWS: usize = 200;
/// Rows of a table searched for its header row.
const HEADER_ROWS: usize = 3;
/// Most characters of a table cell kept.
const MAX_CELL_CHARS: usize = 200;

/// Whether `text` reads as a label: 2 to 12 characters, at least one Chinese character, no
/// space and no sentence punctuation; brackets and a final colon are not part of it.
#[must_use]
pub fn as_label(text: &str) -> Option<&str> {
    let t = text.trim().trim_start_matches(['【', '[', '〔']).trim_end_matches(['：', ':', '】', ']', '〕']).trim();
    let n = t.chars().count();
    let ok = (2..=12).contains(&n)
        && t.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
        && !t.chars().any(|c| c.is_whitespace() || "，。；！？、,;!?：:\"“”《》（）()".contains(c));
    ok.then_some(t)
}

fn clip(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => s[..i].to_owned(),
        None => s.to_owned(),
    }
}

fn is_heading(tag: &str) -> bool {
    matches!(tag, "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "dt" | "th")
}

/// The labelled values of the page under `root`, in document order.
#[must_use]
pub fn fields(dom: &Dom, root: u32, text: &str) -> Vec<Field> {
    let mut out: Vec<Field> = Vec::new();
    let end = dom.nodes[root as usize].end;
    // Element layouts: a label element followed by its value element(s).
    let mut i = root;
    while i < end && out.len() < MAX_FIELDS {
        let n = &dom.nodes[i as usize];
        let Kind::Element(e) = n.kind else {
            i += 1;
            continue;
        };
        // Headers, navigation and footers label nothing of the page's own.
        if n.chrome {
            i = n.end;
            continue;
        }
        if n.skip || n.hidden || !is_block(e.name()) && !matches!(e.name(), "span" | "strong" | "b" | "label" | "font")
        {
            i += 1;
            continue;
        }
        let chars = dom.visible_chars(i);
        if !(2..=14).contains(&chars) {
            i += 1;
            continue;
        }
        let own = dom.text(i, false);
        let Some(label) = as_label(&own) else {
            i += 1;
            continue;
        };
        let parent = n.parent;
        if parent == crate::dom::NONE {
            i = n.end;
            continue;
        }
        // The siblings after it, up to the next label or heading, are its value.
        let mut value = String::new();
        let mut next = n.end;
        let pend = dom.nodes[parent as usize].end;
        while next < pend {
            let s = &dom.nodes[next as usize];
            if s.parent != parent {
                next += 1;
                continue;
            }
            if let Kind::Element(se) = s.kind {
                if is_heading(se.name()) && (e.name() != "dt" || se.name() != "dd") {
                    break;
                }
                if e.name() == "th" && se.name() == "th" {
                    break;
                }
                // A list of links (a menu after the site's name) is no value.
                if dom.anchors(next) > 1 && dom.visible_link_chars(next) * 5 >= dom.visible_chars(next) * 4 {
                    break;
                }
                let t = dom.text(next, false);
                // The next label of the same kind (another `div class="tit"`) starts a new field.
                let single = matches!(e.name(), "td" | "th" | "dt" | "span" | "strong" | "b" | "label" | "font");
                if !single && se.name() == e.name() && se.attr("class") == e.attr("class") && as_label(&t).is_some() {
                    break;
                }
                // So does a paragraph that opens with a label of its own ("来信人：…").
                if !single
                    && !value.is_empty()
                    && label_starts(t.lines().next().unwrap_or("")).first().is_some_and(|p| p.0 == 0)
                {
                    break;
                }
                if !t.is_empty() {
                    if !value.is_empty() {
                        value.push('\n');
                    }
                    value.push_str(&t);
                }
                // A table cell, a dd and a definition take one sibling; a heading takes its section.
                if single {
                    break;
                }
                if value.chars().count() > MAX_VALUE_CHARS {
                    break;
                }
            }
            next = s.end;
        }
        if !value.is_empty() {
            out.push(Field { label: label.to_owned(), value: clip(&value, MAX_VALUE_CHARS) });
        }
        i = n.end;
    }
    // Text layouts: "来信人：张三 来信时间：2024-07-01", "【回复内容】" on a line of its own.
    let lines: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    let mut k = 0;
    while k < lines.len() && out.len() < MAX_FIELDS {
        if !lines[k].contains(['：', ':', '】']) {
            k += 1;
            continue;
        }
        let parts = label_starts(lines[k]);
        if parts.is_empty() {
            k += 1;
            continue;
        }
        for (j, &(_, label, value_start)) in parts.iter().enumerate() {
            let value_end = parts.get(j + 1).map_or(lines[k].len(), |p| p.0);
            let mut value = lines[k][value_start..value_end].trim().to_owned();
            if value.is_empty() && j + 1 == parts.len() {
                // The value is on the lines below, up to the next label.
                let mut m = k + 1;
                while m < lines.len() && label_starts(lines[m]).first().is_none_or(|p| p.0 != 0) {
                    if !value.is_empty() {
                        value.push('\n');
                    }
                    value.push_str(lines[m]);
                    if value.chars().count() > MAX_VALUE_CHARS {
                        break;
                    }
                    m += 1;
                }
                k = m - 1;
            }
            if !value.is_empty() && !out.iter().any(|f| f.label == label && f.value == value) {
                out.push(Field { label: label.to_owned(), value: clip(&value, MAX_VALUE_CHARS) });
            }
        }
        k += 1;
    }
    out.truncate(MAX_FIELDS);
    out
}

/// Where labels start in a line: (byte offset of the label, the label, byte offset of its value).
/// A label opens the line or follows a space, and ends in a colon or a closing 】.
fn label_starts(line: &str) -> Vec<(usize, &str, usize)> {
    let mut out = Vec::new();
    let bytes = line.as_bytes();
    let mut start = 0;
    for (i, c) in line.char_indices() {
        if i > 0 && bytes[i - 1] == b' ' {
            start = i;
        }
        if c == ' ' {
            continue;
        }
        let after = i + c.len_utf8();
        let closing = matches!(c, '：' | ':' | '】');
        if !closing {
            continue;
        }
        let raw = &line[start..after];
        if raw.starts_with('【') != (c == '】') {
            continue;
        }
        if let Some(label) = as_label(raw) {
            // "【回复内容】：" — the colon after a bracket belongs to the same label.
            let mut value_start = after;
            if c == '】' && line[after..].starts_with(['：', ':']) {
                value_start += line[after..].chars().next().map_or(0, char::len_utf8);
            }
            out.push((start, label, value_start));
            start = value_start;
        }
    }
    out
}

/// Tables with a header row of at least three labels (a letter list: 标题 | 来信时间 | 状态),
/// each data row as its cells and its first link.
#[must_use]
pub fn tables(dom: &Dom, resolve: &dyn Fn(&str) -> Option<String>) -> Vec<Table> {
    let mut out = Vec::new();
    for t in dom.elements_named("table") {
        if out.len() >= MAX_TABLES {
            break;
        }
        let tn = &dom.nodes[t as usize];
        if tn.hidden {
            continue;
        }
        // Rows of this table, not of tables nested in it.
        let rows: Vec<u32> = (t + 1..tn.end)
            .filter(|&r| {
                dom.nodes[r as usize].tag() == "tr"
                    && dom.ancestors(r).find(|&a| dom.nodes[a as usize].tag() == "table") == Some(t)
            })
            .collect();
        let cells = |r: u32| -> Vec<u32> {
            dom.children(r).filter(|&c| matches!(dom.nodes[c as usize].tag(), "td" | "th")).collect()
        };
        // The header is among the first rows (a caption row may come before it).
        let Some(pos) = rows.iter().take(HEADER_ROWS).position(|&r| {
            let c = cells(r);
            c.len() >= 3 && c.iter().filter(|&&x| as_label(&dom.text(x, false)).is_some()).count() == c.len()
        }) else {
            continue;
        };
        let headers: Vec<String> =
            cells(rows[pos]).iter().map(|&c| as_label(&dom.text(c, false)).unwrap_or_default().to_owned()).collect();
        let mut data = Vec::new();
        for &r in &rows[pos + 1..] {
            let c = cells(r);
            if c.len() != headers.len() {
                continue;
            }
            let link = (r..dom.nodes[r as usize].end)
                .find(|&j| dom.nodes[j as usize].tag() == "a" && dom.nodes[j as usize].attr("href").is_some())
                .and_then(|j| dom.nodes[j as usize].attr("href"))
                .and_then(resolve);
            data.push(TableRow { cells: c.iter().map(|&x| clip(&dom.text(x, false), MAX_CELL_CHARS)).collect(), link });
            if data.len() >= MAX_ROWS {
                break;
            }
        }
        if !data.is_empty() {
            out.push(Table { headers, rows: data });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(html: &str) -> (Vec<Field>, Vec<Table>) {
        let doc = scraper::Html::parse_document(html);
        let dom = Dom::build(&doc);
        let body = dom.elements_named("body").next().unwrap();
        let text = dom.text(body, false);
        (fields(&dom, body, &text), tables(&dom, &|h| Some(format!("http://x.gov.cn/{h}"))))
    }

    fn get<'a>(f: &'a [Field], label: &str) -> Option<&'a str> {
        f.iter().find(|x| x.label == label).map(|x| x.value.as_str())
    }

    #[test]
    fn labels_are_short_chinese_and_without_sentence_punctuation() {
        assert_eq!(as_label("申请材料："), Some("申请材料"));
        assert_eq!(as_label("【回复内容】"), Some("回复内容"));
        assert_eq!(as_label("会议强调，要抓好落实"), None);
        assert_eq!(as_label("2024"), None);
        assert_eq!(as_label("一二三四五六七八九十一二三"), None);
    }

    #[test]
    fn table_definition_list_section_and_text_layouts() {
        let (f, _) = page(
            "<body><table><tr><td>事项名称</td><td>居民身份证换领</td><td>承诺时限</td><td>5个工作日</td></tr>\
             <tr><th>申请材料</th><td>1. 户口簿<br>2. 照片</td></tr></table>\
             <dl><dt>办理地点</dt><dd>区政务服务中心一楼</dd></dl>\
             <h3>办理流程</h3><p>受理</p><p>审核</p><h3>收费标准</h3><p>不收费</p>\
             <p>来信人：张三 来信时间：2024-07-01</p><p>【回复内容】</p><p>您好，已转交。</p><p>感谢来信。</p></body>",
        );
        assert_eq!(get(&f, "事项名称"), Some("居民身份证换领"));
        assert_eq!(get(&f, "承诺时限"), Some("5个工作日"));
        assert!(get(&f, "申请材料").unwrap().contains("户口簿"));
        assert_eq!(get(&f, "办理地点"), Some("区政务服务中心一楼"));
        assert_eq!(get(&f, "办理流程"), Some("受理\n审核"));
        assert_eq!(get(&f, "收费标准"), Some("不收费"));
        assert_eq!(get(&f, "来信人"), Some("张三"));
        assert_eq!(get(&f, "来信时间"), Some("2024-07-01"));
        assert_eq!(get(&f, "回复内容"), Some("您好，已转交。\n感谢来信。"));
    }

    #[test]
    fn a_letter_list_table_with_its_links() {
        let (_, t) = page(
            "<body><table><tr><th>序号</th><th>信件标题</th><th>来信时间</th><th>办理状态</th></tr>\
             <tr><td>1</td><td><a href=\"l/1.html\">路灯不亮</a></td><td>2024-06-01</td><td>已回复</td></tr>\
             <tr><td>2</td><td><a href=\"l/2.html\">噪音扰民</a></td><td>2024-06-03</td><td>办理中</td></tr></table></body>",
        );
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].headers, ["序号", "信件标题", "来信时间", "办理状态"]);
        assert_eq!(t[0].rows[1].cells[3], "办理中");
        assert_eq!(t[0].rows[0].link.as_deref(), Some("http://x.gov.cn/l/1.html"));
    }

    #[test]
    fn prose_with_colons_gives_no_labels_of_sentences() {
        let (f, t) = page("<body><p>会议强调，各部门要提高认识：切实抓好落实。</p><p>下一步：继续推进。</p></body>");
        assert!(f.iter().all(|x| x.label != "会议强调"), "{f:?}");
        assert!(t.is_empty());
    }
}
