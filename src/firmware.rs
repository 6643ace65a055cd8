//! Files deskprov serves to every phone besides configs: firmware images from the firmware
//! directory, and the site's private CA certificate. None of them is secret, so they are
//! served to any phone that passes the listener's source limits, like common files.
//!
//! Firmware is streamed from disk with a validator and byte ranges (RFC 9110 §14), so a phone
//! that lost its connection resumes instead of starting over, and a large image is never
//! whole in memory. Uploads stream to a temporary file that replaces the old one by rename
//! only once complete, so a phone never fetches half an upload.

use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

use base64::Engine;
use bytes::Bytes;
use http::header::{
    ACCEPT_RANGES, CACHE_CONTROL, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, ETAG, HeaderMap,
    HeaderValue, IF_RANGE, RANGE,
};
use http::{Response, StatusCode};
use http_body_util::BodyExt;
use serde::Serialize;
use tokio::io::{AsyncSeekExt, AsyncWriteExt};

use crate::domain::InvalidInput;
use crate::respond::{self, Body, FileBody, HttpResponse};
use crate::settings::Settings;

/// Where firmware files are served, below the provisioning base URL.
pub const URL_DIRECTORY: &str = "firmware/";
/// The site CA (the `ca_certificate` setting) in PEM and in DER form.
pub const CA_PEM_FILE: &str = "site-ca.pem";
pub const CA_DER_FILE: &str = "site-ca.der";

/// Most firmware files listed; a firmware directory holds a few dozen.
const MAX_LISTED: usize = 1000;

/// A file for every phone that a request path names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicFile {
    Firmware(String),
    CaPem,
    CaDer,
}

impl PublicFile {
    /// The file `path` names: `…/firmware/<file>`, `…/site-ca.pem`, `…/site-ca.der` (anywhere
    /// below a prefix, as a `public_url` may put the server under one).
    pub fn of_path(path: &str) -> Option<PublicFile> {
        let (directory, name) = path.rsplit_once('/')?;
        match name {
            CA_PEM_FILE => Some(PublicFile::CaPem),
            CA_DER_FILE => Some(PublicFile::CaDer),
            _ if directory.ends_with("/firmware") => Some(PublicFile::Firmware(name.to_string())),
            _ => None,
        }
    }
}

/// A firmware file name: letters, digits, `.`, `_`, `-`, not starting with `.` (so neither a
/// path nor a hidden or temporary file).
pub fn parse_name(field: &'static str, name: &str) -> Result<String, InvalidInput> {
    let allowed = |b: u8| b.is_ascii_alphanumeric() || b"._-".contains(&b);
    if name.is_empty() || name.len() > 128 || name.starts_with('.') || !name.bytes().all(allowed) {
        return Err(InvalidInput::new(
            field,
            "must be a file name in the firmware directory: at most 128 letters, digits, '.', '_' or '-', not starting with '.'",
        ));
    }
    Ok(name.to_string())
}

/// Answers a GET or HEAD for a public file.
pub async fn serve(
    file: &PublicFile,
    firmware_dir: &Path,
    settings: &Settings,
    head_only: bool,
    headers: &HeaderMap,
) -> HttpResponse {
    match file {
        PublicFile::CaPem | PublicFile::CaDer => ca_file(file, settings),
        PublicFile::Firmware(name) => match parse_name("file", name) {
            Ok(name) => firmware_file(&firmware_dir.join(name), head_only, headers).await,
            Err(_) => not_found(),
        },
    }
}

fn ca_file(file: &PublicFile, settings: &Settings) -> HttpResponse {
    let Some(pem) = settings.ca_certificate.as_deref() else {
        return not_found();
    };
    let (body, content_type) = match file {
        PublicFile::CaDer => match pem_to_der(pem) {
            Some(der) => (Bytes::from(der), "application/pkix-cert"),
            None => {
                tracing::error!(
                    "the stored ca_certificate does not decode; it was checked when set"
                );
                return respond::text(StatusCode::INTERNAL_SERVER_ERROR, "internal error\n");
            }
        },
        _ => (
            Bytes::copy_from_slice(pem.as_bytes()),
            "application/x-pem-file",
        ),
    };
    let mut response = Response::new(Body::from(body));
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// The base64 body of a PEM certificate, on one line.
pub fn pem_body(pem: &str) -> String {
    pem.lines().filter(|l| !l.starts_with("-----")).collect()
}

/// The DER bytes of the stored PEM (validated when it was set).
fn pem_to_der(pem: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD
        .decode(pem_body(pem))
        .ok()
}

/// `head_only`: a HEAD request, for which a Range means nothing (RFC 9110 §14.2).
async fn firmware_file(path: &Path, head_only: bool, headers: &HeaderMap) -> HttpResponse {
    let Ok(mut file) = tokio::fs::File::open(path).await else {
        return not_found();
    };
    let Ok(meta) = file.metadata().await else {
        return not_found();
    };
    if !meta.is_file() {
        return not_found();
    }
    let length = meta.len();
    let etag = validator(&meta);
    if respond::none_match(headers, etag.as_bytes()) {
        let mut unchanged = Response::new(Body::default());
        *unchanged.status_mut() = StatusCode::NOT_MODIFIED;
        return with_validator(unchanged, &etag);
    }
    let asked = match head_only {
        true => Ok(None),
        false => requested_range(headers, &etag, length),
    };
    let range = match asked {
        Ok(range) => range,
        Err(Unsatisfiable) => {
            let mut r = respond::text(StatusCode::RANGE_NOT_SATISFIABLE, "range not satisfiable\n");
            let total = HeaderValue::from_str(&format!("bytes */{length}")).expect("ASCII");
            r.headers_mut().insert(CONTENT_RANGE, total);
            return with_validator(r, &etag);
        }
    };
    let (start, end) = range.unwrap_or((0, length.saturating_sub(1)));
    let count = if length == 0 { 0 } else { end - start + 1 };
    if start > 0 && file.seek(std::io::SeekFrom::Start(start)).await.is_err() {
        return not_found();
    }
    let mut response = Response::new(Body::File(FileBody::new(file, count)));
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    headers.insert(CONTENT_LENGTH, HeaderValue::from(count));
    if range.is_some() {
        *response.status_mut() = StatusCode::PARTIAL_CONTENT;
        let value = format!("bytes {start}-{end}/{length}");
        let value = HeaderValue::from_str(&value).expect("ASCII");
        response.headers_mut().insert(CONTENT_RANGE, value);
    }
    with_validator(response, &etag)
}

fn with_validator(mut response: HttpResponse, etag: &str) -> HttpResponse {
    let headers = response.headers_mut();
    headers.insert(ETAG, HeaderValue::from_str(etag).expect("ASCII"));
    headers.insert(ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// A strong validator from the file's inode, length and change time: an upload replaces the
/// file by rename (a new inode), and a file copied in with its times kept (`cp -p`, `rsync
/// -t`) still gets a new inode and change time, so two images never share a validator and a
/// resumed download never joins parts of two.
fn validator(meta: &std::fs::Metadata) -> String {
    use std::os::unix::fs::MetadataExt;
    format!(
        "\"fw-{:x}-{:x}-{:x}.{:x}\"",
        meta.ino(),
        meta.len(),
        meta.ctime(),
        meta.ctime_nsec()
    )
}

struct Unsatisfiable;

/// The one byte range asked for, if any applies: `bytes=a-b`, `bytes=a-`, `bytes=-n`.
/// A Range under an `If-Range` that no longer matches, a multi-range or a malformed one is
/// ignored (the whole file is sent, RFC 9110 §14.2).
fn requested_range(
    headers: &HeaderMap,
    etag: &str,
    length: u64,
) -> Result<Option<(u64, u64)>, Unsatisfiable> {
    let Some(spec) = headers.get(RANGE).and_then(|v| v.to_str().ok()) else {
        return Ok(None);
    };
    if headers
        .get(IF_RANGE)
        .is_some_and(|v| v.as_bytes() != etag.as_bytes())
    {
        return Ok(None);
    }
    let spec = spec.trim();
    let Some(spec) = spec
        .get(..6)
        .filter(|unit| unit.eq_ignore_ascii_case("bytes="))
        .map(|_| &spec[6..])
    else {
        return Ok(None);
    };
    if length == 0 || spec.contains(',') {
        return Ok(None);
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return Ok(None);
    };
    let (first, last) = (first.trim(), last.trim());
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let range = if first.is_empty() {
        // `-N`: the last N bytes; an N past u64 asks for the whole file.
        if !digits(last) {
            return Ok(None);
        }
        match last.parse::<u64>() {
            Ok(0) => return Err(Unsatisfiable),
            Ok(suffix) => (length.saturating_sub(suffix), length - 1),
            Err(_) => (0, length - 1),
        }
    } else {
        if !digits(first) || !(last.is_empty() || digits(last)) {
            return Ok(None);
        }
        // A first position past u64 is past any file.
        let Ok(start) = first.parse::<u64>() else {
            return Err(Unsatisfiable);
        };
        let end = match last.parse::<u64>() {
            Ok(end) if end < start => return Ok(None),
            Ok(end) => end.min(length - 1),
            Err(_) => length - 1,
        };
        (start, end)
    };
    if range.0 >= length {
        return Err(Unsatisfiable);
    }
    Ok(Some(range))
}

fn not_found() -> HttpResponse {
    respond::text(StatusCode::NOT_FOUND, "not found\n")
}

/// A file in the firmware directory, as the API lists it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FirmwareFile {
    pub name: String,
    pub bytes: u64,
    /// RFC 3339.
    pub modified_at: String,
    /// Where phones fetch it, below the provisioning base URL.
    pub path: String,
    /// SHA-256 of the content, hex; given for an upload just received.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

impl FirmwareFile {
    fn of(name: &str, meta: &std::fs::Metadata) -> FirmwareFile {
        let modified_at = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs() as i64);
        FirmwareFile {
            name: name.to_string(),
            bytes: meta.len(),
            modified_at: crate::clock::rfc3339(modified_at),
            path: format!("/{URL_DIRECTORY}{name}"),
            sha256: None,
        }
    }
}

/// The firmware directory's files, by name; none when it does not exist yet.
pub async fn list(dir: &Path) -> std::io::Result<Vec<FirmwareFile>> {
    let mut entries = match tokio::fs::read_dir(dir).await {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut files = Vec::new();
    while let Some(entry) = entries.next_entry().await? {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Ok(meta) = entry.metadata().await else {
            continue;
        };
        if meta.is_file() && parse_name("file", &name).is_ok() {
            files.push(FirmwareFile::of(&name, &meta));
        }
        if files.len() >= MAX_LISTED {
            break;
        }
    }
    files.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(files)
}

/// The file `name`, if it is in the directory.
pub async fn find(dir: &Path, name: &str) -> std::io::Result<Option<FirmwareFile>> {
    match tokio::fs::metadata(dir.join(name)).await {
        Ok(meta) if meta.is_file() => Ok(Some(FirmwareFile::of(name, &meta))),
        Ok(_) => Ok(None),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Why an upload was not stored.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("firmware file larger than {0} bytes (limits.max_firmware_bytes)")]
    TooLarge(u64),
    #[error("the upload stalled: no data for {0} seconds")]
    Stalled(u64),
    #[error("reading the upload: {0}")]
    Broken(String),
    #[error("writing the firmware directory: {0}")]
    Disk(#[from] std::io::Error),
    /// The file is in place; its audit record could not be written.
    #[error("the firmware file is in place, but recording the upload failed: {0}")]
    Store(#[from] crate::store::StoreError),
}

/// An upload written and synced under a hidden name, not yet in place. Dropped before
/// [`Staged::install`] (an error, a client gone, the connection cut), its file is removed.
pub struct Staged {
    path: PathBuf,
    installed: bool,
    pub bytes: u64,
    pub sha256: String,
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.installed {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

impl Staged {
    /// Where the upload is staged.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Puts the upload in place as `dir/name` (replacing a file of that name at once: a
    /// phone mid-download keeps the old one), durably.
    pub async fn install(mut self, dir: &Path, name: &str) -> std::io::Result<FirmwareFile> {
        let meta = tokio::fs::metadata(&self.path).await?;
        tokio::fs::rename(&self.path, dir.join(name)).await?;
        self.installed = true;
        tokio::fs::File::open(dir).await?.sync_all().await?;
        let mut file = FirmwareFile::of(name, &meta);
        file.sha256 = Some(self.sha256.clone());
        Ok(file)
    }
}

/// Streams `body` to a hidden file in `dir`: at most `limit` bytes, `idle` the longest pause
/// between chunks.
pub async fn receive<B>(
    dir: &Path,
    declared: Option<u64>,
    body: B,
    limit: u64,
    idle: Duration,
) -> Result<Staged, UploadError>
where
    B: hyper::body::Body<Data = Bytes> + Send,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    if declared.is_some_and(|length| length > limit) {
        return Err(UploadError::TooLarge(limit));
    }
    tokio::fs::create_dir_all(dir).await?;
    let suffix: u64 = rand::random();
    let mut staged = Staged {
        path: dir.join(format!("{TEMPORARY_PREFIX}{suffix:016x}")),
        installed: false,
        bytes: 0,
        sha256: String::new(),
    };
    let (bytes, sha256) = write_upload(&staged.path, body, limit, idle).await?;
    staged.bytes = bytes;
    staged.sha256 = sha256;
    Ok(staged)
}

/// Hidden, so listings and phones never see an upload in progress.
pub const TEMPORARY_PREFIX: &str = ".upload-";

/// Removes uploads a crash or a cut connection left behind; at start-up.
pub fn remove_stale_uploads(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if entry
            .file_name()
            .to_string_lossy()
            .starts_with(TEMPORARY_PREFIX)
        {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Writes the body to `path`, synced; its length and SHA-256.
async fn write_upload<B>(
    path: &Path,
    body: B,
    limit: u64,
    idle: Duration,
) -> Result<(u64, String), UploadError>
where
    B: hyper::body::Body<Data = Bytes> + Send,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let mut file = tokio::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .await?;
    let mut digest = ring::digest::Context::new(&ring::digest::SHA256);
    let mut written = 0u64;
    let mut body = std::pin::pin!(body);
    loop {
        let frame = match tokio::time::timeout(idle, body.frame()).await {
            Err(_) => return Err(UploadError::Stalled(idle.as_secs())),
            Ok(None) => break,
            Ok(Some(Err(e))) => return Err(UploadError::Broken(e.to_string())),
            Ok(Some(Ok(frame))) => frame,
        };
        let Ok(data) = frame.into_data() else {
            continue;
        };
        written += data.len() as u64;
        if written > limit {
            return Err(UploadError::TooLarge(limit));
        }
        digest.update(&data);
        file.write_all(&data).await?;
    }
    // tokio's File writes in the background: flush surfaces the last write's error, which
    // sync_all alone would not.
    file.flush().await?;
    file.sync_all().await?;
    if file.metadata().await?.len() != written {
        return Err(UploadError::Disk(std::io::Error::other(
            "the file on disk is shorter than the upload",
        )));
    }
    let hex: String = digest
        .finish()
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok((written, hex))
}

/// Removes `name`; false when there was none.
pub async fn remove(dir: &Path, name: &str) -> std::io::Result<bool> {
    match tokio::fs::remove_file(dir.join(name)).await {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(spec: &str, if_range: Option<&str>, length: u64) -> Result<Option<(u64, u64)>, ()> {
        let mut headers = HeaderMap::new();
        headers.insert(RANGE, HeaderValue::from_str(spec).unwrap());
        if let Some(tag) = if_range {
            headers.insert(IF_RANGE, HeaderValue::from_str(tag).unwrap());
        }
        requested_range(&headers, "\"v1\"", length).map_err(|_| ())
    }

    #[test]
    fn byte_ranges_follow_rfc_9110() {
        assert_eq!(range("bytes=0-99", None, 1000), Ok(Some((0, 99))));
        assert_eq!(range("bytes=500-", None, 1000), Ok(Some((500, 999))));
        assert_eq!(range("bytes=-100", None, 1000), Ok(Some((900, 999))));
        assert_eq!(range("bytes=900-5000", None, 1000), Ok(Some((900, 999))));
        assert_eq!(range("bytes=-5000", None, 1000), Ok(Some((0, 999))));
        assert_eq!(range("bytes=1000-", None, 1000), Err(()));
        assert_eq!(range("bytes=-0", None, 1000), Err(()));
        // Ignored: the whole file is sent.
        assert_eq!(range("bytes=0-1,5-6", None, 1000), Ok(None));
        assert_eq!(range("items=0-1", None, 1000), Ok(None));
        assert_eq!(range("bytes=9-3", None, 1000), Ok(None));
        assert_eq!(range("bytes=0-99", Some("\"v0\""), 1000), Ok(None));
        assert_eq!(range("bytes=0-99", Some("\"v1\""), 1000), Ok(Some((0, 99))));
        assert_eq!(range("Bytes=0-9", None, 1000), Ok(Some((0, 9))));
        assert_eq!(range("bytes=-", None, 1000), Ok(None));
        assert_eq!(range("bytes=-x", None, 1000), Ok(None));
        assert_eq!(
            range("bytes=-99999999999999999999999", None, 1000),
            Ok(Some((0, 999)))
        );
        assert_eq!(range("bytes=99999999999999999999999-", None, 1000), Err(()));
        assert_eq!(
            range("bytes=0-99999999999999999999999", None, 1000),
            Ok(Some((0, 999)))
        );
    }

    #[test]
    fn public_paths() {
        let fw = |n: &str| Some(PublicFile::Firmware(n.to_string()));
        assert_eq!(
            PublicFile::of_path("/firmware/66.86.0.15.rom"),
            fw("66.86.0.15.rom")
        );
        assert_eq!(PublicFile::of_path("/prov/firmware/x.bin"), fw("x.bin"));
        assert_eq!(PublicFile::of_path("/site-ca.pem"), Some(PublicFile::CaPem));
        assert_eq!(
            PublicFile::of_path("/prov/site-ca.der"),
            Some(PublicFile::CaDer)
        );
        assert_eq!(PublicFile::of_path("/y000000000066.cfg"), None);
        assert_eq!(PublicFile::of_path("/notfirmware/x.bin"), None);
        for bad in ["", ".upload-1", "../x", "a/b", "a b"] {
            assert!(parse_name("file", bad).is_err(), "{bad:?}");
        }
    }
}
