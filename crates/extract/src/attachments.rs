//! The text of attachments — spreadsheets (xls, xlsx, et), CSV and plain text, Word documents
//! (docx), PDF — so that checks can read the lists governments attach to notices, where most leaks
//! of personal data sit.

use std::io::{Cursor, Read};

use calamine::Reader;

/// Why an attachment's text could not be read.
#[derive(Debug, thiserror::Error)]
pub enum AttachmentError {
    /// The format is not one read here.
    #[error("attachments of type {0:?} are not read")]
    Unsupported(String),
    /// The file is damaged or not what its name says.
    #[error("unreadable {kind} file: {message}")]
    Unreadable {
        /// The format expected.
        kind: &'static str,
        /// What went wrong.
        message: String,
    },
}

/// Longest text kept from one attachment (characters), so a huge sheet cannot exhaust memory.
const MAX_TEXT: usize = 4 * 1024 * 1024;

/// The text of an attachment, by its file extension (lowercase, no dot).
///
/// # Errors
/// When the type is not read here or the file cannot be read.
pub fn text_of(bytes: &[u8], ext: &str) -> Result<String, AttachmentError> {
    match ext {
        "xls" | "xlsx" | "xlsm" | "et" | "ods" => spreadsheet(bytes),
        "csv" | "txt" => Ok(crate::decode::decode(bytes, None).text.chars().take(MAX_TEXT).collect()),
        "docx" | "wps" if bytes.starts_with(b"PK") => docx(bytes),
        "pdf" => pdf(bytes),
        other => Err(AttachmentError::Unsupported(other.to_owned())),
    }
}

fn spreadsheet(bytes: &[u8]) -> Result<String, AttachmentError> {
    let mut book = calamine::open_workbook_auto_from_rs(Cursor::new(bytes.to_vec()))
        .map_err(|e| AttachmentError::Unreadable { kind: "spreadsheet", message: e.to_string() })?;
    let mut out = String::new();
    for (_, range) in book.worksheets() {
        for row in range.rows() {
            let cells: Vec<String> = row.iter().map(ToString::to_string).collect();
            out.push_str(&cells.join("\t"));
            out.push('\n');
            if out.len() > MAX_TEXT {
                return Ok(out);
            }
        }
    }
    Ok(out)
}

fn pdf(bytes: &[u8]) -> Result<String, AttachmentError> {
    let bad = |message: String| AttachmentError::Unreadable { kind: "pdf", message };
    if !bytes.starts_with(b"%PDF") {
        return Err(bad("no %PDF header".into()));
    }
    // pdf-extract panics on some malformed files; a hostile attachment must not stop the scan.
    let text = std::panic::catch_unwind(|| pdf_extract::extract_text_from_mem(bytes))
        .map_err(|_| bad("the PDF reader gave up on this file".into()))?
        .map_err(|e| bad(e.to_string()))?;
    Ok(text.chars().take(MAX_TEXT).collect())
}

fn docx(bytes: &[u8]) -> Result<String, AttachmentError> {
    let bad = |e: &dyn std::fmt::Display| AttachmentError::Unreadable { kind: "docx", message: e.to_string() };
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| bad(&e))?;
    let mut xml = String::new();
    zip.by_name("word/document.xml")
        .map_err(|e| bad(&e))?
        .take(64 * 1024 * 1024)
        .read_to_string(&mut xml)
        .map_err(|e| bad(&e))?;
    let mut reader = quick_xml::Reader::from_str(&xml);
    let mut out = String::new();
    let mut in_text = false;
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Start(e)) if e.local_name().as_ref() == "t" => in_text = true,
            Ok(quick_xml::events::Event::End(e)) => match e.local_name().as_ref() {
                "t" => in_text = false,
                "p" | "tc" => out.push('\n'),
                _ => {}
            },
            Ok(quick_xml::events::Event::Text(t)) if in_text => out.push_str(&t.xml10_content()),
            Ok(quick_xml::events::Event::Eof) => break,
            Err(e) => return Err(bad(&e)),
            _ => {}
        }
        if out.len() > MAX_TEXT {
            break;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// A minimal docx: a zip holding word/document.xml.
    fn docx_with(paragraphs: &[&str]) -> Vec<u8> {
        let mut buf = Cursor::new(Vec::new());
        let mut zip = zip::ZipWriter::new(&mut buf);
        zip.start_file("word/document.xml", zip::write::SimpleFileOptions::default()).unwrap();
        let body: String = paragraphs.iter().map(|p| format!("<w:p><w:r><w:t>{p}</w:t></w:r></w:p>")).collect();
        write!(zip, r#"<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>{body}</w:body></w:document>"#).unwrap();
        zip.finish().unwrap();
        buf.into_inner()
    }

    #[test]
    fn docx_and_csv_text() {
        let t = text_of(&docx_with(&["低保名单", "张三 13812345678"]), "docx").unwrap();
        assert_eq!(t, "低保名单\n张三 13812345678\n");
        let (gbk, _, _) = encoding_rs::GBK.encode("姓名,身份证号\n张三,360922199001011234\n");
        assert!(text_of(&gbk, "csv").unwrap().contains("张三"));
        assert!(matches!(text_of(b"not a sheet", "xlsx"), Err(AttachmentError::Unreadable { .. })));
        assert!(matches!(text_of(b"PK\x03\x04", "zip"), Err(AttachmentError::Unsupported(_))));
    }

    #[test]
    fn pdf_text_and_damaged_pdfs() {
        let pdf = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/fixtures/sites/accuracy/files/mingdan.pdf"
        ))
        .unwrap();
        let t = text_of(&pdf, "pdf").unwrap();
        assert!(t.contains("360102196503121232") && t.contains("Wang Fang"), "{t}");
        // Truncated, or not a PDF at all: an error, never a panic.
        assert!(matches!(text_of(&pdf[..pdf.len() / 2], "pdf"), Err(AttachmentError::Unreadable { .. })));
        assert!(matches!(text_of(b"%PDF-1.4 garbage", "pdf"), Err(AttachmentError::Unreadable { .. })));
        assert!(matches!(text_of(b"<html>", "pdf"), Err(AttachmentError::Unreadable { .. })));
    }
}
