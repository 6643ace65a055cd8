//! The only way to change what is stored: a [`Writer`], handed out for a [`Permit`] that only
//! the operations layer (`crate::ops`) can make. So no handler writes behind its back.
//!
//! [`Store::begin`] serialises: one writer at a time holds the write lock (on a shared database,
//! a transaction), so writes that span records cannot interleave. [`Store::single_writes`]
//! does not: it is for single-record compare-and-swap writes that phones cause at a high rate.

use std::ops::Deref;

use super::backend::{Backend, Writes};
use super::{Result, Store};
use crate::domain::{Extension, Mac};
use crate::model::{DeviceRecord, GuardRecord, SourceRecord, UserRecord};
use crate::ops::Permit;

/// Writes to the store; with the write lock when it came from [`Store::begin`].
pub struct Writer<'a> {
    store: &'a Store,
    /// Released before the local lock (fields drop in order).
    _lease: Option<super::backend::WriteLease>,
    _serial: Option<tokio::sync::MutexGuard<'a, ()>>,
}

impl Store {
    /// A writer holding the write lock: the one place it is taken. On a shared database the
    /// lock spans the nodes; should it not be had (the database unreachable), the writes that
    /// follow fail on their own, so the writer goes on with this node's lock alone.
    pub async fn begin(&self, _: Permit) -> Writer<'_> {
        self.count_writer();
        let serial = self.serial.lock().await;
        let lease = match self.backend.lease_writes().await {
            Ok(lease) => lease,
            Err(e) => {
                tracing::warn!(error = %e, "the site-wide write lock could not be taken");
                None
            }
        };
        Writer {
            store: self,
            _lease: lease,
            _serial: Some(serial),
        }
    }

    /// A writer for single-record compare-and-swap writes, without the write lock.
    pub fn single_writes(&self, _: Permit) -> Writer<'_> {
        self.count_writer();
        Writer {
            store: self,
            _lease: None,
            _serial: None,
        }
    }
}

/// A writer reads and writes; its reads see its own writes.
impl Deref for Writer<'_> {
    type Target = dyn Backend;

    fn deref(&self) -> &(dyn Backend + 'static) {
        &*self.store.backend
    }
}

/// `change` returning a value, on a backend that takes a change returning nothing. The change
/// may run more than once (a retried compare-and-swap): the value is that of its last run.
macro_rules! returning {
    ($name:ident, $record:ty, $key:ty, $updated:ty, $wrap:expr) => {
        pub async fn $name<T: Send>(
            &self,
            key: $key,
            mut change: impl FnMut(&mut $record) -> T + Send,
        ) -> Result<$updated> {
            let mut outcome = None;
            let mut apply = |r: &mut $record| {
                outcome = Some(change(r));
            };
            let update = Writes::$name(&**self, key, &mut apply);
            let updated = self.store.timings.update.time(update).await?;
            Ok($wrap(updated, outcome))
        }
    };
}

fn with<R, T>(updated: Option<R>, outcome: Option<T>) -> Option<(R, T)> {
    updated.map(|r| (r, outcome.expect("a change ran on the record it updated")))
}

fn always<R, T>(updated: R, outcome: Option<T>) -> (R, T) {
    (
        updated,
        outcome.expect("a change ran on the record it upserted"),
    )
}

/// The updates as the operations call them: with what the change answered.
impl Writer<'_> {
    /// Makes the writes so far durable, timed; called in place of [`Writes::flush`], which it
    /// shadows.
    pub async fn flush(&self) -> Result<()> {
        self.store
            .timings
            .flush
            .time(self.store.backend.flush())
            .await
    }

    /// The writer's reads, for code that only reads.
    pub fn reads(&self) -> &dyn super::Reads {
        &*self.store.backend
    }

    returning!(
        update_device,
        DeviceRecord,
        Mac,
        Option<(DeviceRecord, T)>,
        with
    );
    returning!(
        update_user,
        UserRecord,
        &Extension,
        Option<(UserRecord, T)>,
        with
    );
    returning!(update_guard, GuardRecord, &str, (GuardRecord, T), always);
    returning!(update_source, SourceRecord, &str, (SourceRecord, T), always);
}
