//! The backup file, version 1: a gzip stream of JSON lines.
//!
//! ```text
//! {"format":"deskprov-backup","version":1,"schema_version":1,"revision":…,"last_audit_id":…,"created_at":…,"deskprov":"0.1.0","counts":{"device":…}}
//! {"kind":"settings","record":{…}}
//! {"kind":"device","record":{…}}           one line a record (backup::Entry)
//! {"end":{"records":…,"sha256":"…"}}       SHA-256 of every byte before this line
//! ```
//!
//! [`decode`] checks all of it (format, version, every line, the counts, the checksum, nothing
//! after the end) before it answers: a truncated or altered file yields an error, not records.

use std::collections::BTreeMap;
use std::io::{Read, Write};

use serde::{Deserialize, Serialize};

use super::{Entry, Snapshot};

pub const FORMAT: &str = "deskprov-backup";
/// The newest format version this deskprov writes and reads.
pub const VERSION: u32 = 1;
/// The most a backup may hold uncompressed: a bound on what a hostile file can make us keep.
pub const MAX_PLAIN_BYTES: u64 = 8 << 30;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    pub format: String,
    pub version: u32,
    /// The store's record layout ([`crate::store::SCHEMA_VERSION`]) the records have.
    pub schema_version: u32,
    /// The store's revision when the backup was taken (counted within one server process).
    pub revision: u64,
    /// The newest audit record in the backup: every admin change recorded up to it is in it,
    /// none after it.
    pub last_audit_id: Option<u64>,
    /// Unix seconds.
    pub created_at: i64,
    /// The deskprov version that wrote it.
    pub deskprov: String,
    /// Records of each kind.
    pub counts: BTreeMap<String, usize>,
}

#[derive(Serialize, Deserialize)]
struct Trailer {
    end: End,
}

#[derive(Serialize, Deserialize)]
struct End {
    records: usize,
    sha256: String,
}

/// A backup as read back, checked whole.
pub struct Backup {
    pub header: Header,
    pub entries: Vec<Entry>,
}

#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    #[error("not a deskprov backup: {0}")]
    NotABackup(String),
    #[error(
        "the backup is of format version {found}, newer than this deskprov reads ({VERSION}); \
         restore it with a newer deskprov"
    )]
    TooNew { found: u32 },
    #[error(
        "the backup's records are of schema version {found}, newer than this deskprov's \
         ({}); restore it with a newer deskprov",
        crate::store::SCHEMA_VERSION
    )]
    SchemaTooNew { found: u32 },
    #[error("the backup is truncated: {0}; nothing was restored from it")]
    Truncated(String),
    #[error("the backup is damaged or was altered: {0}; nothing was restored from it")]
    Damaged(String),
}

/// The snapshot as a backup file (gzip).
pub fn encode(snapshot: &Snapshot, created_at: i64) -> Vec<u8> {
    let header = Header {
        format: FORMAT.into(),
        version: VERSION,
        schema_version: crate::store::SCHEMA_VERSION,
        revision: snapshot.revision,
        last_audit_id: snapshot.last_audit_id(),
        created_at,
        deskprov: env!("CARGO_PKG_VERSION").into(),
        counts: snapshot.counts(),
    };
    let mut out = Lines::new();
    out.line(&header);
    for entry in &snapshot.entries {
        out.line(entry);
    }
    out.finish(snapshot.entries.len())
}

/// JSON lines through a hasher into gzip.
struct Lines {
    hasher: ring::digest::Context,
    gzip: flate2::write::GzEncoder<Vec<u8>>,
}

impl Lines {
    fn new() -> Lines {
        Lines {
            hasher: ring::digest::Context::new(&ring::digest::SHA256),
            gzip: flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default()),
        }
    }

    fn line<T: Serialize>(&mut self, value: &T) {
        let mut line = serde_json::to_vec(value).expect("records serialise to JSON");
        line.push(b'\n');
        self.hasher.update(&line);
        self.write(&line);
    }

    fn write(&mut self, bytes: &[u8]) {
        self.gzip
            .write_all(bytes)
            .expect("writing to memory does not fail");
    }

    fn finish(mut self, records: usize) -> Vec<u8> {
        let sha256 = super::hex(self.hasher.clone().finish().as_ref());
        let trailer = Trailer {
            end: End { records, sha256 },
        };
        let mut line = serde_json::to_vec(&trailer).expect("the trailer serialises");
        line.push(b'\n');
        self.write(&line);
        self.gzip.finish().expect("writing to memory does not fail")
    }
}

/// Reads a backup file and checks every part of it.
pub fn decode(file: &[u8]) -> Result<Backup, FormatError> {
    let plain = gunzip(file)?;
    let mut lines = split_lines(&plain)?;
    let (header_line, _) = lines.next().ok_or_else(|| truncated("it is empty"))?;
    let header = parse_header(header_line)?;
    let mut entries = Vec::new();
    for (line, start) in lines {
        if let Ok(trailer) = serde_json::from_slice::<Trailer>(line) {
            let after = start + line.len() + 1;
            check_end(&plain, start, after, &trailer.end, &entries)?;
            return check_counts(header, entries);
        }
        let entry = serde_json::from_slice(line).map_err(|e| {
            FormatError::Damaged(format!("record {} is not readable: {e}", entries.len() + 1))
        })?;
        entries.push(entry);
    }
    Err(truncated("its end record is missing"))
}

fn truncated(why: &str) -> FormatError {
    FormatError::Truncated(why.into())
}

fn gunzip(file: &[u8]) -> Result<Vec<u8>, FormatError> {
    if !file.starts_with(&[0x1f, 0x8b]) {
        return Err(FormatError::NotABackup("it is not a gzip stream".into()));
    }
    let mut decoder = flate2::bufread::GzDecoder::new(file);
    let mut plain = Vec::new();
    (&mut decoder)
        .take(MAX_PLAIN_BYTES + 1)
        .read_to_end(&mut plain)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::UnexpectedEof => truncated("its compressed data ends early"),
            _ => FormatError::Damaged(format!("its compressed data is not readable ({e})")),
        })?;
    if plain.len() as u64 > MAX_PLAIN_BYTES {
        return Err(FormatError::NotABackup(format!(
            "it holds more than {} GiB",
            MAX_PLAIN_BYTES >> 30
        )));
    }
    if !decoder.into_inner().is_empty() {
        return Err(FormatError::Damaged(
            "bytes follow the compressed data".into(),
        ));
    }
    Ok(plain)
}

/// The lines (without their line feed) with where each starts; a last line without one means
/// the file was cut.
fn split_lines(plain: &[u8]) -> Result<impl Iterator<Item = (&[u8], usize)>, FormatError> {
    if !plain.is_empty() && !plain.ends_with(b"\n") {
        return Err(truncated("its last line is incomplete"));
    }
    let mut start = 0;
    Ok(plain.split(|b| *b == b'\n').filter_map(move |line| {
        let at = start;
        start += line.len() + 1;
        (at < plain.len()).then_some((line, at))
    }))
}

fn parse_header(line: &[u8]) -> Result<Header, FormatError> {
    #[derive(Deserialize)]
    struct Tag {
        format: String,
        version: u32,
    }
    let not_ours =
        || FormatError::NotABackup("its first line is not a deskprov backup header".into());
    let tag: Tag = serde_json::from_slice(line).map_err(|_| not_ours())?;
    if tag.format != FORMAT {
        return Err(not_ours());
    }
    if tag.version > VERSION {
        return Err(FormatError::TooNew { found: tag.version });
    }
    let header: Header = serde_json::from_slice(line)
        .map_err(|e| FormatError::Damaged(format!("its header is not readable: {e}")))?;
    if header.schema_version > crate::store::SCHEMA_VERSION {
        return Err(FormatError::SchemaTooNew {
            found: header.schema_version,
        });
    }
    Ok(header)
}

fn check_end(
    plain: &[u8],
    trailer_start: usize,
    after: usize,
    end: &End,
    entries: &[Entry],
) -> Result<(), FormatError> {
    if after != plain.len() {
        return Err(FormatError::Damaged("lines follow its end record".into()));
    }
    let digest = ring::digest::digest(&ring::digest::SHA256, &plain[..trailer_start]);
    let sum = super::hex(digest.as_ref());
    let same: bool = subtle::ConstantTimeEq::ct_eq(sum.as_bytes(), end.sha256.as_bytes()).into();
    if !same {
        return Err(FormatError::Damaged(
            "its SHA-256 checksum does not match its content".into(),
        ));
    }
    if end.records != entries.len() {
        return Err(FormatError::Damaged(format!(
            "its end record counts {} records, it holds {}",
            end.records,
            entries.len()
        )));
    }
    Ok(())
}

fn check_counts(header: Header, entries: Vec<Entry>) -> Result<Backup, FormatError> {
    let counted = Snapshot {
        revision: header.revision,
        entries,
    };
    if counted.counts() != header.counts {
        return Err(FormatError::Damaged(
            "its header's counts do not match its records".into(),
        ));
    }
    Ok(Backup {
        header,
        entries: counted.entries,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot() -> Snapshot {
        Snapshot {
            revision: 7,
            entries: vec![
                Entry::NonceKey("00".repeat(32)),
                Entry::upload(
                    crate::domain::Mac::parse("001565aabbcc").unwrap(),
                    "log.txt".into(),
                    5,
                    b"hello",
                ),
            ],
        }
    }

    #[test]
    fn a_backup_reads_back_as_written() {
        let file = encode(&snapshot(), 1_700_000_000);
        let backup = decode(&file).unwrap();
        assert_eq!(backup.header.revision, 7);
        assert_eq!(backup.header.version, VERSION);
        assert_eq!(backup.header.counts["upload"], 1);
        assert_eq!(backup.entries.len(), 2);
    }

    #[test]
    fn every_cut_is_refused() {
        let file = encode(&snapshot(), 1);
        for len in 0..file.len() {
            assert!(decode(&file[..len]).is_err(), "cut at {len} accepted");
        }
    }

    #[test]
    fn a_changed_record_fails_the_checksum() {
        let plain = String::from_utf8(gunzip(&encode(&snapshot(), 1)).unwrap()).unwrap();
        let changed = plain
            .replace("hello", "HELLO")
            .replace("aGVsbG8=", "SEVMTE8=");
        assert_ne!(plain, changed);
        let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gzip.write_all(changed.as_bytes()).unwrap();
        let error = decode(&gzip.finish().unwrap()).err().unwrap();
        assert!(error.to_string().contains("checksum"), "{error}");
    }

    #[test]
    fn a_newer_version_is_refused_by_name() {
        let plain = String::from_utf8(gunzip(&encode(&snapshot(), 1)).unwrap()).unwrap();
        let newer = plain.replacen("\"version\":1", "\"version\":2", 1);
        let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gzip.write_all(newer.as_bytes()).unwrap();
        let error = decode(&gzip.finish().unwrap()).err().unwrap();
        assert!(matches!(error, FormatError::TooNew { found: 2 }), "{error}");
    }
}
