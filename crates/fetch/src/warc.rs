//! WARC archive of every response (ISO 28500, WARC/1.1), one gzip member per record, written by
//! one thread fed through a channel so that fetch tasks never wait on the disk. Hand-written:
//! the `warc` crate reads well but its writer does not do per-record gzip members, which tools
//! that seek into archives (pywb, warcio indexers) rely on.
//!
//! Beside each file an index may be written (`FILE.idx`): a line per response record,
//! `URL<TAB>OFFSET<TAB>LENGTH`, the offset and length of the record's gzip member, so that a
//! reader replays one page without decompressing the whole file.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use bytes::Bytes;
use chrono::{DateTime, SecondsFormat, Utc};
use flate2::Compression;
use flate2::write::GzEncoder;
use sha1::{Digest, Sha1};

/// A file is closed and the next one started past this size.
const ROTATE_BYTES: u64 = 1 << 30;
/// Records queued before fetch tasks wait for the writer.
const QUEUE: usize = 1024;

/// One request and its response, as archived.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// The URL fetched.
    pub url: String,
    /// When the response came.
    pub date: DateTime<Utc>,
    /// The server's address.
    pub remote_ip: Option<IpAddr>,
    /// The HTTP request head (request line and headers, ending in a blank line).
    pub request_head: String,
    /// The request's body (a POSTed form; empty for GET).
    pub request_body: Bytes,
    /// The HTTP response head (status line and headers, ending in a blank line).
    pub response_head: String,
    /// The (decoded) body.
    pub body: Bytes,
    /// Whether the body was cut at the size cap.
    pub truncated: bool,
}

enum Msg {
    Record(Box<Exchange>),
    Close,
}

/// Where fetch tasks send exchanges to be archived.
#[derive(Clone, Debug)]
pub struct WarcHandle {
    tx: SyncSender<Msg>,
}

impl std::fmt::Debug for Msg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Msg")
    }
}

impl WarcHandle {
    /// Queues one exchange; silently dropped only if the archive has already been closed.
    pub fn record(&self, e: Exchange) {
        let _ = self.tx.send(Msg::Record(Box::new(e)));
    }
}

/// `sha1:BASE32` of the parts, as WARC-Block-Digest and WARC-Payload-Digest carry it.
fn digest(parts: &[&[u8]]) -> String {
    let mut h = Sha1::new();
    for p in parts {
        h.update(p);
    }
    format!("sha1:{}", data_encoding::BASE32.encode(&h.finalize()))
}

/// The writer thread; `finish` closes the archive and returns the files written.
pub struct WarcWriter {
    tx: SyncSender<Msg>,
    thread: JoinHandle<std::io::Result<Vec<PathBuf>>>,
}

impl WarcWriter {
    /// Starts writing `DIR/PREFIX-NNNNN.warc.gz` files (numbering continues after files already
    /// there); each file's warcinfo record names `info` (run, as-of, rubric, user agent, robots
    /// policy: `(field, value)` pairs) beside the software.
    ///
    /// # Errors
    /// When the folder cannot be created.
    pub fn start(dir: &Path, prefix: &str, info: Vec<(String, String)>) -> std::io::Result<(Self, WarcHandle)> {
        Self::start_indexed(dir, prefix, info, false)
    }

    /// As [`WarcWriter::start`], with an index beside each file when `index` is set (see the
    /// module's documentation).
    ///
    /// # Errors
    /// When the folder cannot be created.
    pub fn start_indexed(
        dir: &Path,
        prefix: &str,
        info: Vec<(String, String)>,
        index: bool,
    ) -> std::io::Result<(Self, WarcHandle)> {
        std::fs::create_dir_all(dir)?;
        let (tx, rx) = sync_channel(QUEUE);
        let dir = dir.to_owned();
        let prefix = prefix.to_owned();
        let thread = std::thread::Builder::new()
            .name("warc-writer".into())
            .spawn(move || write_loop(&dir, &prefix, &info, index, &rx))?;
        Ok((WarcWriter { tx: tx.clone(), thread }, WarcHandle { tx }))
    }

    /// Writes what is queued, closes the file and returns every file written.
    ///
    /// # Errors
    /// When writing failed.
    pub fn finish(self) -> std::io::Result<Vec<PathBuf>> {
        let _ = self.tx.send(Msg::Close);
        self.thread.join().map_err(|_| std::io::Error::other("the WARC writer thread panicked"))?
    }
}

struct Out {
    file: BufWriter<File>,
    /// The file's index, when one is kept.
    index: Option<BufWriter<File>>,
    path: PathBuf,
    written: u64,
    /// The record id of the file's warcinfo, named by every record after it.
    info_id: String,
}

fn next_path(dir: &Path, prefix: &str, seq: &mut u32) -> PathBuf {
    loop {
        let p = dir.join(format!("{prefix}-{:05}.warc.gz", *seq));
        *seq += 1;
        if !p.exists() {
            return p;
        }
    }
}

/// The index kept beside a WARC file.
#[must_use]
pub fn index_path(warc: &Path) -> PathBuf {
    let mut name = warc.as_os_str().to_owned();
    name.push(".idx");
    PathBuf::from(name)
}

fn open(dir: &Path, prefix: &str, fields: &[(String, String)], index: bool, seq: &mut u32) -> std::io::Result<Out> {
    let path = next_path(dir, prefix, seq);
    let id = record_id();
    let index = if index { Some(BufWriter::new(File::create(index_path(&path))?)) } else { None };
    let mut out = Out { file: BufWriter::new(File::create(&path)?), index, path, written: 0, info_id: id.clone() };
    let mut info = format!(
        "software: sitecensus/{}\r\nformat: WARC File Format 1.1\r\nconformsTo: http://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/\r\n",
        env!("CARGO_PKG_VERSION")
    );
    for (k, v) in fields {
        // One line per field: a value cannot break the record.
        info.push_str(&format!("{k}: {}\r\n", v.replace(['\r', '\n'], " ")));
    }
    let file_name = out.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let head = format!(
        "WARC/1.1\r\nWARC-Type: warcinfo\r\nWARC-Record-ID: {id}\r\nWARC-Date: {}\r\nWARC-Filename: {file_name}\r\nWARC-Block-Digest: {}\r\nContent-Type: application/warc-fields\r\nContent-Length: {}\r\n\r\n",
        Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true),
        digest(&[info.as_bytes()]),
        info.len()
    );
    write_record(&mut out, &head, &[info.as_bytes()])?;
    Ok(out)
}

fn record_id() -> String {
    format!("<urn:uuid:{}>", uuid::Uuid::new_v4())
}

/// Writes one record as a gzip member; returns the member's length.
fn write_record(out: &mut Out, head: &str, block: &[&[u8]]) -> std::io::Result<u64> {
    let mut gz = GzEncoder::new(
        Vec::with_capacity(head.len() + block.iter().map(|b| b.len()).sum::<usize>() / 3 + 64),
        Compression::fast(),
    );
    gz.write_all(head.as_bytes())?;
    for b in block {
        gz.write_all(b)?;
    }
    gz.write_all(b"\r\n\r\n")?;
    let member = gz.finish()?;
    out.file.write_all(&member)?;
    out.written += member.len() as u64;
    Ok(member.len() as u64)
}

impl Out {
    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()?;
        if let Some(i) = &mut self.index {
            i.flush()?;
        }
        Ok(())
    }
}

fn write_loop(
    dir: &Path,
    prefix: &str,
    fields: &[(String, String)],
    index: bool,
    rx: &Receiver<Msg>,
) -> std::io::Result<Vec<PathBuf>> {
    let mut seq = 0;
    let mut out: Option<Out> = None;
    let mut files = Vec::new();
    while let Ok(msg) = rx.recv() {
        let e = match msg {
            Msg::Record(e) => e,
            Msg::Close => break,
        };
        if out.as_ref().is_none_or(|o| o.written > ROTATE_BYTES) {
            if let Some(mut o) = out.take() {
                o.flush()?;
            }
            let o = open(dir, prefix, fields, index, &mut seq)?;
            files.push(o.path.clone());
            out = Some(o);
        }
        let o = out.as_mut().expect("opened above");
        let date = e.date.to_rfc3339_opts(SecondsFormat::Secs, true);
        let ip = e.remote_ip.map(|ip| format!("WARC-IP-Address: {ip}\r\n")).unwrap_or_default();
        let response_id = record_id();
        let truncated = if e.truncated { "WARC-Truncated: length\r\n" } else { "" };
        let info_id = &o.info_id;
        let head = format!(
            "WARC/1.1\r\nWARC-Type: response\r\nWARC-Record-ID: {response_id}\r\nWARC-Date: {date}\r\nWARC-Target-URI: {}\r\nWARC-Warcinfo-ID: {info_id}\r\n{ip}{truncated}WARC-Block-Digest: {}\r\nWARC-Payload-Digest: {}\r\nContent-Type: application/http;msgtype=response\r\nContent-Length: {}\r\n\r\n",
            e.url,
            digest(&[e.response_head.as_bytes(), &e.body]),
            digest(&[&e.body]),
            e.response_head.len() + e.body.len()
        );
        let offset = o.written;
        let length = write_record(o, &head, &[e.response_head.as_bytes(), &e.body])?;
        if let Some(i) = &mut o.index {
            writeln!(i, "{}\t{offset}\t{length}", e.url)?;
        }
        let head = format!(
            "WARC/1.1\r\nWARC-Type: request\r\nWARC-Record-ID: {}\r\nWARC-Date: {date}\r\nWARC-Target-URI: {}\r\nWARC-Concurrent-To: {response_id}\r\nWARC-Warcinfo-ID: {}\r\n{ip}WARC-Block-Digest: {}\r\nContent-Type: application/http;msgtype=request\r\nContent-Length: {}\r\n\r\n",
            record_id(),
            e.url,
            o.info_id,
            digest(&[e.request_head.as_bytes(), &e.request_body]),
            e.request_head.len() + e.request_body.len()
        );
        write_record(o, &head, &[e.request_head.as_bytes(), &e.request_body])?;
    }
    if let Some(mut o) = out {
        o.flush()?;
    }
    Ok(files)
}
