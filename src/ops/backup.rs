//! Taking a backup while the server runs: every record read under the write lock, so the
//! backup is one revision (each admin change is in it whole or not at all), and recorded in
//! the audit trail with its counts. Phone-side single-record writes (last seen, counters,
//! claims, uploads) do not take the lock; each is in it as it was before or after.

use super::{Actor, OpError, WriteTx};
use crate::app::App;
use crate::audit::Kind;
use crate::backup::Snapshot;

/// The snapshot, and how long writes waited for it (milliseconds).
pub async fn take(app: &App, actor: &Actor) -> Result<(Snapshot, u128), OpError> {
    let mut tx = WriteTx::begin(app, actor).await;
    let started = std::time::Instant::now();
    let snapshot = crate::backup::collect(tx.reads()).await?;
    let counts: Vec<String> = snapshot
        .counts()
        .iter()
        .map(|(kind, n)| format!("{kind}={n}"))
        .collect();
    let held = started.elapsed().as_millis();
    tx.record(
        Kind::BackupTaken,
        "backup",
        format!("backup taken ({held} ms) {}", counts.join(" ")),
    );
    tx.commit().await?;
    Ok((snapshot, held))
}
