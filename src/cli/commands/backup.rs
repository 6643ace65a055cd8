//! `deskprov backup FILE` (through the running server's API) and `deskprov restore FILE`
//! (offline, into an empty data directory).

use std::io::Write;
use std::path::{Path, PathBuf};

use http::Method;

use crate::backup::format::{self, Backup};
use crate::backup::seal;
use crate::cli::Failure;
use crate::cli::api::Api;
use crate::config::Config;
use crate::store::Store;

pub async fn take(api: &Api, file: &Path, passphrase_file: Option<&Path>) -> Result<(), Failure> {
    if file.symlink_metadata().is_ok() {
        return Err(format!(
            "{} exists; a backup never overwrites a file",
            file.display()
        )
        .into());
    }
    let passphrase = passphrase_file.map(read_passphrase).transpose()?;
    if let Some(passphrase) = &passphrase {
        seal::check_passphrase(passphrase).map_err(|e| e.to_string())?;
    }
    let reply = api.send(Method::GET, "/api/v1/backup", "", None).await?;
    let backup = format::decode(&reply.body).map_err(|e| format!("the server's answer: {e}"))?;
    let bytes = match &passphrase {
        Some(passphrase) => seal::seal(&reply.body, passphrase).map_err(|e| e.to_string())?,
        None => reply.body.to_vec(),
    };
    write_new_private(file, &bytes)?;
    eprintln!("{}: {}", file.display(), summary(&backup));
    Ok(())
}

/// "N records (… devices, … users), revision R".
fn summary(backup: &Backup) -> String {
    let counts = &backup.header.counts;
    let count = |kind: &str| counts.get(kind).copied().unwrap_or(0);
    let records: usize = counts.values().sum();
    format!(
        "{records} records ({} devices, {} users, {} audit records), store revision {}",
        count("device"),
        count("user"),
        count("audit"),
        backup.header.revision
    )
}

/// The passphrase: the file's first line without its line end. Never in argv or a log.
fn read_passphrase(path: &Path) -> Result<String, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("reading the passphrase from {}: {e}", path.display()))?;
    let line = text.lines().next().unwrap_or_default();
    Ok(line.to_string())
}

/// Writes a temporary file beside `path` (mode 0600, synced), then links it under `path`,
/// which fails if `path` appeared meanwhile: a reader never sees half a backup under its name.
fn write_new_private(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    use std::os::unix::fs::OpenOptionsExt;
    let temporary = sibling(path, "partial");
    let failed = |e: std::io::Error| Failure::Message(format!("{}: {e}", path.display()));
    let write = || -> std::io::Result<()> {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::hard_link(&temporary, path)
    };
    let result = write();
    let _ = std::fs::remove_file(&temporary);
    result.map_err(failed)
}

/// `DIR/.NAME.WHAT-PID`, beside `path`.
fn sibling(path: &Path, what: &str) -> PathBuf {
    let name = path
        .file_name()
        .map_or("backup".into(), |n| n.to_string_lossy());
    let hidden = format!(".{name}.{what}-{}", std::process::id());
    path.with_file_name(hidden)
}

pub async fn restore(
    config: &Config,
    file: &Path,
    passphrase_file: Option<&Path>,
) -> Result<(), Failure> {
    let backup = read_backup(file, passphrase_file)?;
    let target = config.db_dir();
    refuse_unless_empty(&target)?;
    let parent = target
        .parent()
        .expect("the store is inside the data directory");
    std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    let staging = sibling(&target, "restoring");
    let result = restore_into(&staging, &backup)
        .await
        .and_then(|()| rename_into_place(&staging, &target));
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&staging);
    }
    result?;
    eprintln!("restored into {}: {}", target.display(), summary(&backup));
    Ok(())
}

/// The file, decrypted if it is encrypted, checked whole.
fn read_backup(file: &Path, passphrase_file: Option<&Path>) -> Result<Backup, Failure> {
    let bytes = std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let plain = if seal::is_sealed(&bytes) {
        let Some(passphrase_file) = passphrase_file else {
            return Err(seal::SealError::NeedsPassphrase.to_string().into());
        };
        let passphrase = read_passphrase(passphrase_file)?;
        seal::open(&bytes, &passphrase).map_err(|e| format!("{}: {e}", file.display()))?
    } else {
        bytes
    };
    Ok(format::decode(&plain).map_err(|e| format!("{}: {e}", file.display()))?)
}

fn refuse_unless_empty(target: &Path) -> Result<(), Failure> {
    let empty = match std::fs::read_dir(target) {
        Ok(mut entries) => entries.next().is_none(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => true,
        Err(e) => return Err(format!("{}: {e}", target.display()).into()),
    };
    if !empty {
        return Err(format!(
            "{} holds a store already (is a server running on it?); restore only into an empty \
             data directory",
            target.display()
        )
        .into());
    }
    Ok(())
}

/// Restores into a new store at `staging`, through the storage interface.
async fn restore_into(staging: &Path, backup: &Backup) -> Result<(), Failure> {
    let failed = |e: crate::store::StoreError| Failure::Message(format!("restoring: {e}"));
    if staging.exists() {
        return Err(format!("{} exists: is another restore running?", staging.display()).into());
    }
    let store = Store::open(staging).map_err(failed)?;
    if !crate::backup::is_empty(store.reads())
        .await
        .map_err(failed)?
    {
        return Err(format!("{} is not an empty store", staging.display()).into());
    }
    crate::ops::restore::put_backup(&store, &backup.entries)
        .await
        .map_err(failed)?;
    Ok(())
}

/// Onto a missing or empty directory (rename replaces an empty one).
fn rename_into_place(staging: &Path, target: &Path) -> Result<(), Failure> {
    std::fs::rename(staging, target)
        .map_err(|e| format!("moving the restored store to {}: {e}", target.display()).into())
}
