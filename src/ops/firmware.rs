//! The firmware directory: files uploaded, listed and removed, each change audited.

use bytes::Bytes;

use super::{Actor, OpError, WriteTx};
use crate::app::App;
use crate::firmware::{self, FirmwareFile, UploadError};

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
    let file = staged.install(&dir, name).await?;
    let sha256 = file.sha256.as_deref().unwrap_or("");
    tx.changed(
        format!("firmware/{name}"),
        format!("uploaded, {} bytes, sha256 {sha256}", file.bytes),
    );
    tx.commit().await?;
    Ok(file)
}

pub async fn list(app: &App) -> Result<Vec<FirmwareFile>, OpError> {
    firmware::list(&app.config.firmware_dir())
        .await
        .map_err(|e| OpError::Internal(format!("reading the firmware directory: {e}")))
}

pub async fn remove(app: &App, by: &Actor, name: &str) -> Result<FirmwareFile, OpError> {
    let dir = app.config.firmware_dir();
    let disk = |e: std::io::Error| OpError::Internal(format!("firmware directory: {e}"));
    let mut tx = WriteTx::begin(app, by).await;
    let Some(file) = firmware::find(&dir, name).await.map_err(disk)? else {
        return Err(OpError::not_found(format!("no firmware file {name}")));
    };
    firmware::remove(&dir, name).await.map_err(disk)?;
    tx.changed(format!("firmware/{name}"), "removed");
    tx.commit().await?;
    Ok(file)
}
