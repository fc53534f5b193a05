//! The pages behind findings, as the run archived them: the response record of an address in the
//! run's WARC files (read with the `warc` crate), its status, type and body as received.

/// A response as a run archived it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Archived {
    /// Its HTTP status.
    pub status: u16,
    /// Its Content-Type, as the server sent it.
    pub content_type: Option<String>,
    /// Its body (decoded from the transfer's compression, as the records say).
    pub body: Vec<u8>,
    /// When it was fetched (the record's WARC-Date).
    pub date: Option<String>,
}

/// Why an archive could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// A WARC file could not be opened or read.
    #[error("{path}: {message}")]
    Unreadable {
        /// The file.
        path: String,
        /// What went wrong.
        message: String,
    },
}

/// The last response record of `url` in `files` (the latest fetch of it), if any. A file with
/// an index beside it (`FILE.idx`, written by the scan) is looked up there and only the record
/// read; a file without one is read whole.
///
/// # Errors
/// When a file or its index cannot be opened or read.
pub fn find(files: &[String], url: &str) -> Result<Option<Archived>, ArchiveError> {
    let mut found = None;
    for path in files {
        let unreadable =
            |e: &dyn std::fmt::Display| ArchiveError::Unreadable { path: path.clone(), message: e.to_string() };
        let index = format!("{path}.idx");
        let reader: Box<dyn Iterator<Item = _>> = match std::fs::File::open(&index) {
            Ok(f) => match indexed(std::io::BufReader::new(f), url).map_err(|e| unreadable(&e))? {
                Some((offset, length)) => Box::new(member(path, offset, length).map_err(|e| unreadable(&e))?),
                None => continue,
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Box::new(warc::WarcReader::from_path_gzip(path).map_err(|e| unreadable(&e))?.iter_records())
            }
            Err(e) => return Err(unreadable(&e)),
        };
        for record in reader {
            let record = record.map_err(|e| unreadable(&e))?;
            let is_response = record.header(warc::WarcHeader::WarcType).is_some_and(|t| t == "response");
            if !is_response || record.header(warc::WarcHeader::TargetURI).is_none_or(|u| u != url) {
                continue;
            }
            let date = record.header(warc::WarcHeader::Date).map(|d| d.to_string());
            if let Some(mut a) = http_response(record.body()) {
                a.date = date;
                found = Some(a);
            }
        }
    }
    Ok(found)
}

/// The last entry of `url` in an index: its record's offset and length.
fn indexed(index: impl std::io::BufRead, url: &str) -> std::io::Result<Option<(u64, u64)>> {
    let mut last = None;
    for line in index.lines() {
        let line = line?;
        // From the right: the URL is whatever precedes the last two fields.
        let mut fields = line.rsplitn(3, '\t');
        let (Some(length), Some(offset), Some(u)) = (fields.next(), fields.next(), fields.next()) else { continue };
        if u == url
            && let (Ok(offset), Ok(length)) = (offset.parse(), length.parse())
        {
            last = Some((offset, length));
        }
    }
    Ok(last)
}

/// The records of the one gzip member at `offset` (`length` bytes) of a WARC file.
fn member(
    path: &str,
    offset: u64,
    length: u64,
) -> std::io::Result<impl Iterator<Item = Result<warc::Record<warc::BufferedBody>, warc::Error>>> {
    use std::io::{Read, Seek};
    let mut f = std::fs::File::open(path)?;
    f.seek(std::io::SeekFrom::Start(offset))?;
    let mut gz = Vec::new();
    f.take(length).read_to_end(&mut gz)?;
    let reader = std::io::BufReader::new(flate2::read::GzDecoder::new(std::io::Cursor::new(gz)));
    Ok(warc::WarcReader::new(reader).iter_records())
}

/// An HTTP response block: its status line, headers and body.
fn http_response(block: &[u8]) -> Option<Archived> {
    let split = block.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&block[..split]);
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let content_type = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-type"))
        .map(|(_, v)| v.trim().to_owned());
    Some(Archived { status, content_type, body: block[split + 4..].to_vec(), date: None })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_index_gives_the_last_record_of_an_address() {
        let index = "http://a/\t0\t10\nhttp://b/x\ty\t20\t30\nhttp://a/\t40\t50\nbroken line\n";
        assert_eq!(indexed(index.as_bytes(), "http://a/").unwrap(), Some((40, 50)));
        assert_eq!(indexed(index.as_bytes(), "http://b/x\ty").unwrap(), Some((20, 30)), "a tab in the address");
        assert_eq!(indexed(index.as_bytes(), "http://c/").unwrap(), None);
    }

    #[test]
    fn a_response_block_is_read_to_status_type_and_body() {
        let a = http_response(
            b"HTTP/1.1 404 Not Found\r\nServer: x\r\ncontent-type: text/html; charset=gbk\r\n\r\n<p>gone</p>",
        )
        .unwrap();
        assert_eq!((a.status, a.content_type.as_deref()), (404, Some("text/html; charset=gbk")));
        assert_eq!(a.body, b"<p>gone</p>");
        assert!(http_response(b"garbage").is_none());
    }
}
