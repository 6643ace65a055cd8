//! The commit of a CSV import: every planned row written in one change, or none when a record
//! changed since it was planned. Rows are planned (checked) against the same rules as the API's
//! operations, by `csv_io::plan`.
//!
//! Each job has a record in the store: written as running (flushed) before the import is
//! acknowledged, then as it ended; a done import's record is written in the same transaction
//! as its rows, so "applied" and "the record says done" cannot disagree. A job still running
//! when the server stopped is marked interrupted at the next start (nothing of it was written).

use super::contacts::MAX_CONTACTS;
use super::keys::{self, KeyOwner};
use super::write::single_writes;
use super::{Actor, OpError, WriteTx, devices, sessions, users};
use crate::app::App;
use crate::keys::KeyLayer;
use crate::model::{ContactRecord, DeviceRecord, ImportRecord, ImportState, UserRecord};
use crate::store::{Reads, StoreError};

/// Job records kept in the store; the oldest go.
pub const KEPT_RECORDS: usize = 100;

/// Stores the job's record as it is now, durably.
pub async fn record_job(app: &App, job: &ImportRecord) -> Result<(), StoreError> {
    let store = single_writes(app);
    store.put_import_job(job, KEPT_RECORDS).await?;
    store.flush().await?;
    match job.state {
        ImportState::Running => app.metrics.import_started(),
        ended => app.metrics.import_ended(ended),
    }
    Ok(())
}

/// At start-up: jobs the last run left running are marked interrupted. Returns the newest
/// job's id (0 without any), after which new jobs are numbered.
pub async fn recover_after_restart(app: &App) -> Result<u64, StoreError> {
    let (records, _) = app.store.import_jobs(None, KEPT_RECORDS).await?;
    let now = app.clock.now();
    let store = single_writes(app);
    let mut marked = 0;
    for record in records.iter().filter(|r| r.state == ImportState::Running) {
        let interrupted = ImportRecord {
            state: ImportState::Interrupted,
            finished_at: Some(now),
            ..record.clone()
        };
        store.put_import_job(&interrupted, KEPT_RECORDS).await?;
        app.metrics.import_ended(ImportState::Interrupted);
        marked += 1;
    }
    if marked > 0 {
        store.flush().await?;
        tracing::warn!(
            jobs = marked,
            "imports were running when the server stopped; they are listed as interrupted and changed nothing"
        );
    }
    Ok(records.first().map_or(0, |r| r.id))
}

/// The records to write, each with the record it replaces as planned (`None`: a new one), side
/// by side: the records go to the store as they are, without a copy of a large import. A
/// replaced record is boxed: most rows of a large import create one, and an empty slot then
/// takes a pointer, not a whole record.
pub struct Planned<R> {
    pub records: Vec<R>,
    pub replaced: Vec<Option<Box<R>>>,
}

impl<R> Planned<R> {
    fn each(&self) -> impl Iterator<Item = (&R, Option<&R>)> {
        self.records
            .iter()
            .zip(self.replaced.iter().map(Option::as_deref))
    }
}

/// A record changed since it was planned fails the whole import.
fn unchanged_since_planned<R: PartialEq>(
    current: Option<R>,
    planned: Option<&R>,
    key: &str,
) -> Result<(), OpError> {
    if current.as_ref() != planned {
        return Err(OpError::conflict(format!(
            "{key} was changed while the import was being checked; nothing was changed, import again"
        )));
    }
    Ok(())
}

fn outcome<R>(planned: Option<&R>) -> &'static str {
    if planned.is_some() {
        "updated by import"
    } else {
        "created by import"
    }
}

/// Writes the users with the job's final record (`job`, state done).
pub async fn commit_users(
    app: &App,
    by: &Actor,
    writes: Planned<UserRecord>,
    job: &ImportRecord,
) -> Result<(), OpError> {
    let mut tx = WriteTx::begin(app, by).await;
    for (record, planned) in writes.each() {
        let key = record.extension.as_str();
        unchanged_since_planned(tx.user(&record.extension).await?, planned, key)?;
    }
    tx.put_users_imported(&writes.records, job, KEPT_RECORDS)
        .await?;
    for (record, planned) in writes.each() {
        tx.changed_one_of(&record.extension, outcome(planned));
        if let Some(left) = users::leave_if_barred(&tx, record).await? {
            tx.reload(left);
        }
    }
    tx.commit().await?;
    app.metrics.import_ended(ImportState::Done);
    Ok(())
}

/// Writes the contacts with the job's final record (`job`, state done); the phonebook's limit
/// holds for the contacts it has now.
pub async fn commit_contacts(
    app: &App,
    by: &Actor,
    writes: Planned<ContactRecord>,
    job: &ImportRecord,
) -> Result<(), OpError> {
    let mut tx = WriteTx::begin(app, by).await;
    for (record, planned) in writes.each() {
        unchanged_since_planned(tx.contact(&record.id).await?, planned, record.id.as_str())?;
    }
    let new = writes.replaced.iter().filter(|p| p.is_none()).count();
    if tx.contact_count().await? + new > MAX_CONTACTS {
        return Err(OpError::conflict(format!(
            "the phonebook holds at most {MAX_CONTACTS} contacts; nothing was changed"
        )));
    }
    tx.put_contacts_imported(&writes.records, job, KEPT_RECORDS)
        .await?;
    for (record, planned) in writes.each() {
        tx.changed_one_of(&record.id, outcome(planned));
    }
    tx.commit().await?;
    app.metrics.import_ended(ImportState::Done);
    Ok(())
}

/// Replaces the key layers the file names, all or none, each checked as
/// [`keys::set_layer`] checks it; the job's record is written under the same write lock.
pub async fn commit_key_layers(
    app: &App,
    by: &Actor,
    layers: &[(KeyOwner, KeyLayer)],
    job: &ImportRecord,
) -> Result<(), OpError> {
    let mut tx = WriteTx::begin(app, by).await;
    for (owner, layer) in layers {
        keys::check_layer(tx.reads(), owner, layer).await?;
    }
    for (owner, layer) in layers {
        keys::write_layer(&mut tx, owner, layer).await?;
    }
    tx.put_import_job(job, KEPT_RECORDS).await?;
    tx.commit().await?;
    app.metrics.import_ended(ImportState::Done);
    Ok(())
}

/// What an admin sets on a device (as `devices::copy_admin_fields` copies it), to compare.
fn admin_fields(d: &DeviceRecord) -> impl PartialEq + '_ {
    (
        (&d.vendor, &d.model, &d.model_source, &d.model_mismatch),
        (&d.label, &d.location, &d.profile, &d.lines),
        (d.hotdesk, d.certificate_required),
    )
}

/// Users on lines and profiles still exist (an admin may have deleted one while the file was
/// being checked).
async fn references_exist(store: &dyn Reads, d: &DeviceRecord) -> Result<(), OpError> {
    for extension in d.lines.values() {
        if store.user(extension).await?.is_none() {
            return Err(OpError::conflict(format!(
                "{}: user {extension} was deleted while the import was being checked; nothing was changed, import again",
                d.mac
            )));
        }
    }
    if let Some(profile) = &d.profile
        && store.profile(profile).await?.is_none()
    {
        return Err(OpError::conflict(format!(
            "{}: profile {profile} was deleted while the import was being checked; nothing was changed, import again",
            d.mac
        )));
    }
    Ok(())
}

/// Writes the devices with the job's final record (`job`, state done).
pub async fn commit_devices(
    app: &App,
    by: &Actor,
    mut writes: Planned<DeviceRecord>,
    job: &ImportRecord,
) -> Result<(), OpError> {
    let mut tx = WriteTx::begin(app, by).await;
    for (record, planned) in writes.each() {
        let current = tx.device(record.mac).await?;
        let changed = match (&current, planned) {
            (Some(now), Some(then)) => admin_fields(now) != admin_fields(then),
            (now, then) => now.is_some() != then.is_some(),
        };
        if changed {
            return Err(OpError::conflict(format!(
                "{} was changed while the import was being checked; nothing was changed, import again",
                record.mac
            )));
        }
        references_exist(tx.reads(), record).await?;
    }
    for record in &mut writes.records {
        sessions::issue_token_if_missing(&tx, record).await?;
    }
    devices::merge_imported(&tx, &writes.records, job, KEPT_RECORDS).await?;
    for (record, planned) in writes.each() {
        if planned.is_none() {
            tx.remove_unregistered(record.mac).await?;
        } else {
            // Changed configs: phones that listen for a check-sync fetch them now.
            tx.reload(record.clone());
        }
        tx.changed_one_of(record.mac, outcome(planned));
    }
    tx.commit().await?;
    app.metrics.import_ended(ImportState::Done);
    Ok(())
}
