//! The schema, created and upgraded by the versioned migrations embedded here (migrations/),
//! at every start and by `deskprov migrate`. All of one run is one transaction under an
//! advisory lock: nodes starting together apply each migration once, and a failed one leaves
//! the schema as it was. A database migrated by a newer deskprov is refused.

use deadpool_postgres::Pool;

use super::connect::pool_error;
use crate::store::{Result, StoreError};

/// Every migration, in order: its version and its SQL.
const MIGRATIONS: &[(i32, &str)] = &[
    (1, include_str!("migrations/0001_records.sql")),
    (2, include_str!("migrations/0002_device_sessions.sql")),
];

/// The schema version this deskprov writes.
pub const LATEST: i32 = MIGRATIONS[MIGRATIONS.len() - 1].0;

/// Advisory lock keys (any 64-bit numbers, the same on every node): the migrations, the write
/// lock of [`crate::store::Store::begin`], the housekeeping lease, and the writes of the
/// seen-unregistered list (its bounds span rows).
pub(super) const MIGRATION_LOCK: i64 = 0x6465_736b_0001;
pub(super) const WRITE_LOCK: i64 = 0x6465_736b_0002;
pub(super) const HOUSEKEEPING_LOCK: i64 = 0x6465_736b_0003;
pub(super) const UNREGISTERED_LOCK: i64 = 0x6465_736b_0004;

/// Applies the migrations the database lacks; the versions it applied.
pub async fn migrate(pool: &Pool) -> Result<Vec<i32>> {
    let mut client = pool.get().await.map_err(pool_error)?;
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version integer PRIMARY KEY,
             applied_at timestamptz NOT NULL DEFAULT now()
         )",
    )
    .await?;
    let found: Option<i32> = tx
        .query_one("SELECT max(version) FROM schema_migrations", &[])
        .await?
        .get(0);
    let found = found.unwrap_or(0);
    if found > LATEST {
        return Err(StoreError::DatabaseSchemaTooNew {
            found,
            known: LATEST,
        });
    }
    let mut applied = Vec::new();
    for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > found) {
        tx.batch_execute(sql).await?;
        tx.execute(
            "INSERT INTO schema_migrations (version) VALUES ($1)",
            &[version],
        )
        .await?;
        applied.push(*version);
    }
    tx.commit().await?;
    Ok(applied)
}
