//! The firmware directory: files uploaded, listed and removed, each change audited. On a
//! shared database the files are the site's: an upload is stored in the database before it is
//! in place, and every node fetches a file it lacks (or has an older content of) from there
//! when a phone first asks for it, checked against its SHA-256.

use std::collections::HashMap;
use std::path::Path;

use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{Actor, OpError, Permit, WriteTx};
use crate::app::App;
use crate::firmware::{self, FirmwareFile, UploadError};
use crate::store::{SHARED_FILE_CHUNK, SharedFile, Store, StoreError, Writer};

/// The shared files this node holds a checked copy of: name → SHA-256.
#[derive(Default)]
pub struct LocalCopies(tokio::sync::Mutex<HashMap<String, String>>);

/// Stores an upload as `name`, replacing a file of that name once it is complete. Uploads of
/// the same name are put in place one at a time, each with its own audit record.
pub async fn upload<B>(
    app: &App,
    by: &Actor,
    name: &str,
    declared_length: Option<u64>,
    body: B,
) -> Result<FirmwareFile, UploadError>
where
    B: hyper::body::Body<Data = Bytes> + Send,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let limits = &app.config.limits;
    let dir = app.config.firmware_dir();
    let staged = firmware::receive(
        &dir,
        declared_length,
        body,
        limits.max_firmware_bytes,
        limits.body_read_timeout(),
    )
    .await?;
    let mut tx = WriteTx::begin(app, by).await;
    let mut copies = app.firmware_copies.0.lock().await;
    if app.store.is_shared() {
        let writer = app.store.single_writes(Permit::new());
        let staged_file = StagedFile {
            path: staged.path(),
            bytes: staged.bytes,
            sha256: &staged.sha256,
        };
        share(&writer, name, &staged_file, app.clock.now()).await?;
        copies.insert(name.to_string(), staged.sha256.clone());
    }
    let file = staged.install(&dir, name).await?;
    drop(copies);
    let sha256 = file.sha256.as_deref().unwrap_or("");
    tx.changed(
        format!("firmware/{name}"),
        format!("uploaded, {} bytes, sha256 {sha256}", file.bytes),
    );
    tx.commit().await?;
    Ok(file)
}

/// A complete file on this node's disk, measured.
struct StagedFile<'a> {
    path: &'a Path,
    bytes: u64,
    sha256: &'a str,
}

/// A file into the shared database as `name`: its parts, then its record.
async fn share(
    writer: &Writer<'_>,
    name: &str,
    staged: &StagedFile<'_>,
    now: i64,
) -> Result<(), UploadError> {
    let (bytes, sha256) = (staged.bytes, staged.sha256);
    let mut file = tokio::fs::File::open(staged.path).await?;
    let mut chunk = vec![0u8; SHARED_FILE_CHUNK];
    let mut index = 0u32;
    loop {
        let filled = fill(&mut file, &mut chunk).await?;
        if filled == 0 {
            break;
        }
        writer
            .put_shared_file_chunk(name, sha256, index, &chunk[..filled])
            .await?;
        index += 1;
    }
    let record = SharedFile {
        name: name.to_string(),
        bytes,
        sha256: sha256.to_string(),
        chunks: index,
        uploaded_at: now,
    };
    writer.commit_shared_file(&record).await?;
    Ok(())
}

/// Every file of a local firmware directory into the shared database of `store` (moving a
/// site, `deskprov migrate-store`), each read back from the database part by part and checked
/// against its size and SHA-256; how many.
pub async fn share_directory(store: &Store, dir: &Path, now: i64) -> Result<usize, String> {
    let files = match firmware::list(dir).await {
        Ok(files) => files,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(format!("{}: {e}", dir.display())),
    };
    let writer = store.single_writes(Permit::new());
    let mut measured = Vec::with_capacity(files.len());
    for file in &files {
        let path = dir.join(&file.name);
        let failed = |e: &dyn std::fmt::Display| format!("firmware {}: {e}", file.name);
        let (bytes, sha256) = measure(&path).await.map_err(|e| failed(&e))?;
        let staged = StagedFile {
            path: &path,
            bytes,
            sha256: &sha256,
        };
        share(&writer, &file.name, &staged, now)
            .await
            .map_err(|e| failed(&e))?;
        measured.push((file.name.as_str(), bytes, sha256));
    }
    let stored = store
        .reads()
        .shared_files()
        .await
        .map_err(|e| format!("reading the firmware back: {e}"))?;
    for (name, bytes, sha256) in measured {
        let site = stored
            .iter()
            .find(|site| site.name == name && site.bytes == bytes && site.sha256 == sha256)
            .ok_or_else(|| format!("firmware {name}: the copy read back differs"))?;
        stored_parts_match(store, site)
            .await
            .map_err(|e| format!("firmware {name}: {e}"))?;
    }
    Ok(files.len())
}

/// A file's length and SHA-256, read a part at a time.
async fn measure(path: &Path) -> std::io::Result<(u64, String)> {
    let mut file = tokio::fs::File::open(path).await?;
    let mut chunk = vec![0u8; SHARED_FILE_CHUNK];
    let mut digest = ring::digest::Context::new(&ring::digest::SHA256);
    let mut bytes = 0u64;
    loop {
        let filled = fill(&mut file, &mut chunk).await?;
        if filled == 0 {
            break;
        }
        digest.update(&chunk[..filled]);
        bytes += filled as u64;
    }
    Ok((bytes, crate::backup::hex(digest.finish().as_ref())))
}

/// Whether the parts the database holds of `site` hash to its SHA-256.
async fn stored_parts_match(store: &Store, site: &SharedFile) -> Result<(), StoreError> {
    let mut digest = ring::digest::Context::new(&ring::digest::SHA256);
    for index in 0..site.chunks {
        let chunk = store
            .shared_file_chunk(site, index)
            .await?
            .ok_or_else(|| StoreError::Database(format!("part {index} is missing")))?;
        digest.update(&chunk);
    }
    match crate::backup::hex(digest.finish().as_ref()) == site.sha256 {
        true => Ok(()),
        false => Err(StoreError::Database(
            "the stored parts do not match its SHA-256".into(),
        )),
    }
}

/// Reads until `buffer` is full or the file ends; how much it read.
async fn fill(file: &mut tokio::fs::File, buffer: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        let read = file.read(&mut buffer[filled..]).await?;
        if read == 0 {
            break;
        }
        filled += read;
    }
    Ok(filled)
}

pub async fn list(app: &App) -> Result<Vec<FirmwareFile>, OpError> {
    if app.store.is_shared() {
        let files = app.store.shared_files().await?;
        return Ok(files.iter().map(listed).collect());
    }
    firmware::list(&app.config.firmware_dir())
        .await
        .map_err(|e| OpError::Internal(format!("reading the firmware directory: {e}")))
}

fn listed(file: &SharedFile) -> FirmwareFile {
    FirmwareFile {
        name: file.name.clone(),
        bytes: file.bytes,
        modified_at: crate::clock::rfc3339(file.uploaded_at),
        path: format!("/{}{}", firmware::URL_DIRECTORY, file.name),
        sha256: Some(file.sha256.clone()),
    }
}

pub async fn remove(app: &App, by: &Actor, name: &str) -> Result<FirmwareFile, OpError> {
    let dir = app.config.firmware_dir();
    let disk = |e: std::io::Error| OpError::Internal(format!("firmware directory: {e}"));
    let mut tx = WriteTx::begin(app, by).await;
    let file = match app.store.is_shared() {
        true => app.store.shared_file(name).await?.as_ref().map(listed),
        false => firmware::find(&dir, name).await.map_err(disk)?,
    };
    let Some(file) = file else {
        return Err(OpError::not_found(format!("no firmware file {name}")));
    };
    if app.store.is_shared() {
        tx.remove_shared_file(name).await?;
        app.firmware_copies.0.lock().await.remove(name);
    }
    if firmware::find(&dir, name).await.map_err(disk)?.is_some() {
        firmware::remove(&dir, name).await.map_err(disk)?;
    }
    tx.changed(format!("firmware/{name}"), "removed");
    tx.commit().await?;
    Ok(file)
}

/// Before a phone is served the firmware file `name` on a shared database: the site's content
/// in this node's directory (fetched when it lacks it), or no file when the site has none.
pub async fn ensure_local(app: &App, name: &str) -> Result<(), StoreError> {
    // An invalid name is refused by the file server; it must never reach the directory here.
    if !app.store.is_shared() || firmware::parse_name("file", name).is_err() {
        return Ok(());
    }
    let dir = app.config.firmware_dir();
    let site = app.store.shared_file(name).await?;
    let mut copies = app.firmware_copies.0.lock().await;
    let Some(site) = site else {
        copies.remove(name);
        if let Err(e) = firmware::remove(&dir, name).await
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::error!(error = %e, file = name, "removing a firmware file the site no longer has failed");
        }
        return Ok(());
    };
    if copies.get(name) == Some(&site.sha256) {
        return Ok(());
    }
    fetch(app, &dir, &site).await?;
    copies.insert(name.to_string(), site.sha256.clone());
    tracing::info!(
        file = name,
        bytes = site.bytes,
        "fetched a firmware file from the shared database"
    );
    Ok(())
}

/// Writes the site's content to a hidden file, checks its SHA-256, and puts it in place.
async fn fetch(app: &App, dir: &Path, site: &SharedFile) -> Result<(), StoreError> {
    let failed = |what: String| StoreError::Database(format!("firmware {}: {what}", site.name));
    let disk = |e: std::io::Error| failed(e.to_string());
    tokio::fs::create_dir_all(dir).await.map_err(disk)?;
    // The uploads' prefix: one left by a crash is removed at the next start.
    let hidden = dir.join(format!(
        "{}fetch-{}-{}",
        firmware::TEMPORARY_PREFIX,
        std::process::id(),
        site.name
    ));
    let written = async {
        let mut out = tokio::fs::File::create(&hidden).await.map_err(disk)?;
        let mut digest = ring::digest::Context::new(&ring::digest::SHA256);
        for index in 0..site.chunks {
            let chunk = app
                .store
                .shared_file_chunk(site, index)
                .await?
                .ok_or_else(|| failed(format!("part {index} is missing")))?;
            digest.update(&chunk);
            out.write_all(&chunk).await.map_err(disk)?;
        }
        out.sync_all().await.map_err(disk)?;
        if crate::backup::hex(digest.finish().as_ref()) != site.sha256 {
            return Err(failed("the stored parts do not match its SHA-256".into()));
        }
        tokio::fs::rename(&hidden, dir.join(&site.name))
            .await
            .map_err(disk)
    }
    .await;
    if written.is_err() {
        let _ = tokio::fs::remove_file(&hidden).await;
    }
    written
}
