//! `deskprov migrate` (the PostgreSQL schema) and `deskprov migrate-store` (a sled site moved
//! into PostgreSQL): both offline commands that speak to the database, not to a server.

use std::collections::BTreeMap;
use std::path::Path;

use crate::backup::{self, Entry};
use crate::cli::Failure;
use crate::config::Config;
use crate::store::Store;
use crate::store::postgres::{DatabaseUrl, PgBackend};

fn configured_url(config: &Config) -> Result<DatabaseUrl, Failure> {
    config
        .database_url()
        .map_err(|e| Failure::Message(e.to_string()))?
        .ok_or_else(|| {
            Failure::Message(
                "no database configured: give --database-url, DESKPROV_DATABASE_URL or [database] url"
                    .into(),
            )
        })
}

pub async fn migrate(config: &Config) -> Result<(), Failure> {
    let url = configured_url(config)?;
    let applied = PgBackend::migrate(&url)
        .await
        .map_err(|e| Failure::Message(format!("{}: {e}", url.shown())))?;
    let latest = crate::store::postgres::schema::LATEST;
    match applied.as_slice() {
        [] => eprintln!("{}: the schema is at version {latest} already", url.shown()),
        versions => eprintln!(
            "{}: applied {} {}; the schema is at version {latest}",
            url.shown(),
            if versions.len() == 1 {
                "migration"
            } else {
                "migrations"
            },
            versions
                .iter()
                .map(i32::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
    Ok(())
}

pub async fn migrate_store(config: &Config, from: &Path, to: &str) -> Result<(), Failure> {
    if !from.join("conf").is_file() {
        return Err(format!(
            "{} holds no sled store (give the data directory's db directory)",
            from.display()
        )
        .into());
    }
    let source = Store::open(from).map_err(|e| {
        format!(
            "opening {}: {e} (is a server running on it? stop it first)",
            from.display()
        )
    })?;
    let snapshot = backup::collect(source.reads())
        .await
        .map_err(|e| format!("reading {}: {e}", from.display()))?;
    let url = DatabaseUrl::parse(
        to,
        config.database.password_file.as_deref(),
        config.database.ca_file.clone(),
    )
    .map_err(|e| Failure::Message(format!("--to: {e}")))?;
    let target = PgBackend::connect(&url)
        .await
        .map_err(|e| format!("{}: {e}", url.shown()))?;
    let target = Store::on(target);
    let failed = |e: crate::store::StoreError| Failure::Message(format!("{}: {e}", url.shown()));
    if !backup::is_empty(target.reads()).await.map_err(failed)? {
        return Err(format!(
            "{} holds records already; migrate-store copies only into an empty database",
            url.shown()
        )
        .into());
    }
    let firmware_dir = config
        .provisioning
        .firmware_dir
        .clone()
        .unwrap_or_else(|| from.parent().unwrap_or(from).join("firmware"));
    let copied = match copy_and_verify(&target, &snapshot.entries).await {
        Ok(()) => copy_firmware(&target, &firmware_dir).await,
        Err(e) => Err(e),
    };
    if let Err(e) = &copied {
        let undone = PgBackend::clear(&url).await;
        return Err(match undone {
            Ok(()) => format!("{e}; the database is empty again"),
            Err(undo) => format!("{e}; emptying the database again failed too: {undo}"),
        }
        .into());
    }
    let counts: usize = snapshot.counts().values().sum();
    eprintln!(
        "copied {counts} records and {} firmware files from {} to {}, each read back identical",
        copied.unwrap_or_default(),
        from.display(),
        url.shown()
    );
    Ok(())
}

/// The site's firmware files into the database, each read back; how many.
async fn copy_firmware(target: &Store, dir: &Path) -> Result<usize, String> {
    let now = crate::clock::Clock::System.now();
    crate::ops::firmware::share_directory(target, dir, now).await
}

async fn copy_and_verify(target: &Store, entries: &[Entry]) -> Result<(), String> {
    crate::ops::restore::put_backup(target, entries)
        .await
        .map_err(|e| format!("copying: {e}"))?;
    let copied = backup::collect(target.reads())
        .await
        .map_err(|e| format!("reading back: {e}"))?;
    let (want, got) = (digests(entries), digests(&copied.entries));
    for kind in want.keys().chain(got.keys()) {
        let (w, g) = (want.get(kind), got.get(kind));
        let count = |d: Option<&Vec<[u8; 32]>>| d.map_or(0, Vec::len);
        if count(w) != count(g) {
            return Err(format!(
                "{kind}: {} records in the sled store, {} read back",
                count(w),
                count(g)
            ));
        }
        if w != g {
            return Err(format!(
                "{kind}: a record read back differs from the sled store's"
            ));
        }
    }
    Ok(())
}

/// Each record's SHA-256 (of its backup line), sorted, by kind.
fn digests(entries: &[Entry]) -> BTreeMap<&'static str, Vec<[u8; 32]>> {
    let mut by_kind: BTreeMap<&'static str, Vec<[u8; 32]>> = BTreeMap::new();
    for entry in entries {
        let line = serde_json::to_vec(entry).expect("entries serialise");
        let digest = ring::digest::digest(&ring::digest::SHA256, &line);
        let digest: [u8; 32] = digest.as_ref().try_into().expect("32 bytes");
        by_kind.entry(entry.kind()).or_default().push(digest);
    }
    for digests in by_kind.values_mut() {
        digests.sort();
    }
    by_kind
}
