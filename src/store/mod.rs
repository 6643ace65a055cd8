//! Storage: the records behind an interface ([`backend::Reads`] and [`backend::Writes`]) that
//! the embedded sled backend implements, and an in-memory one for tests; a shared database
//! implements the same. [`Store`] gives everyone reads; writes go only through a [`Writer`],
//! which needs a permit that only the operations layer can make (`write.rs`).

pub mod backend;
mod codec;
pub mod memory;
pub mod postgres;
pub mod sled;
mod write;

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

use crate::model::DeviceRecord;

pub use backend::{
    Backend, ImportReads, ImportWrites, OutboxReads, OutboxWrites, Reads, SHARED_FILE_CHUNK,
    SharedFile, TrimRank, Writes,
};
pub use codec::Needle;
pub use write::Writer;

/// The version of the records' layout; a store written by a newer deskprov is refused.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(String),
    #[error("database record {key}: {source}")]
    Decode {
        key: String,
        source: serde_json::Error,
    },
    #[error(
        "database schema version {found} is newer than this deskprov supports ({SCHEMA_VERSION}); \
         upgrade deskprov"
    )]
    SchemaTooNew { found: u32 },
    #[error(
        "the PostgreSQL schema is at version {found}, newer than this deskprov knows ({known}); \
         upgrade deskprov on this node"
    )]
    DatabaseSchemaTooNew { found: i32, known: i32 },
    /// The database cannot be reached now: answer 503 and let the caller try again.
    #[error("database unavailable: {0}")]
    Unavailable(String),
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// A device record as stored, decoded once: phones ask far more often than records change.
pub struct DeviceSnapshot {
    pub record: DeviceRecord,
    /// [`DeviceRecord::render_fingerprint`], computed once per stored version.
    pub fingerprint: u64,
    /// The record's `proven_address` and `last_address` parsed, for the phone path's
    /// comparisons with the peer on every request.
    pub proven_address: Option<IpAddr>,
    pub last_address: Option<IpAddr>,
}

impl DeviceSnapshot {
    pub fn of(record: DeviceRecord) -> DeviceSnapshot {
        let parsed = |text: &Option<String>| text.as_deref().and_then(|t| t.parse().ok());
        DeviceSnapshot {
            fingerprint: record.render_fingerprint(),
            proven_address: parsed(&record.proven_address),
            last_address: parsed(&record.last_address),
            record,
        }
    }
}

#[derive(Clone)]
pub struct Store {
    backend: Arc<dyn Backend>,
    /// Held by a [`Writer`] from [`Store::begin`].
    serial: Arc<tokio::sync::Mutex<()>>,
    /// Set by tests: [`Store::probe`] fails, as a database that stopped answering would.
    probes_fail: Arc<std::sync::atomic::AtomicBool>,
    /// Writers handed out, whether or not they then write: what tests count around a request.
    writers: Arc<std::sync::atomic::AtomicU64>,
    /// How long the phone path's read, updates and flushes take, for the metrics.
    timings: Arc<crate::metrics::StoreTimings>,
}

impl Store {
    /// The embedded store in `dir`, created when absent.
    pub fn open(dir: &Path) -> Result<Store> {
        Ok(Store::on(sled::SledBackend::open(dir)?))
    }

    /// As [`Store::open`], with the embedded store's page cache at most `cache_bytes`.
    pub fn open_with_cache(dir: &Path, cache_bytes: u64) -> Result<Store> {
        Ok(Store::on(sled::SledBackend::open_with_cache(
            dir,
            cache_bytes,
        )?))
    }

    /// The shared store on PostgreSQL at `url`: connected, its schema upgraded.
    pub async fn connect(url: &postgres::DatabaseUrl) -> Result<Store> {
        Ok(Store::on(postgres::PgBackend::connect(url).await?))
    }

    /// The reads, for code that takes any reader (a store or a writer's own reads).
    pub fn reads(&self) -> &dyn Reads {
        &*self.backend
    }

    /// A store on `backend`.
    pub fn on(backend: impl Backend + 'static) -> Store {
        Store {
            backend: Arc::new(backend),
            serial: Arc::default(),
            probes_fail: Arc::default(),
            writers: Arc::default(),
            timings: Arc::default(),
        }
    }

    pub fn timings(&self) -> &crate::metrics::StoreTimings {
        &self.timings
    }

    /// The phone path's device read, timed; on a `Store` it is called in place of
    /// [`Reads::device_snapshot`], which it shadows.
    pub async fn device_snapshot(
        &self,
        mac: crate::domain::Mac,
    ) -> Result<Option<Arc<DeviceSnapshot>>> {
        self.timings
            .device_read
            .time(self.backend.device_snapshot(mac))
            .await
    }

    /// Whether the store answers a read: what readiness (`/readyz`) asks.
    pub async fn probe(&self) -> Result<()> {
        if self.probes_fail.load(std::sync::atomic::Ordering::Relaxed) {
            return Err(StoreError::Database("store probes made to fail".into()));
        }
        self.backend.probe().await
    }

    /// Writers handed out since start-up ([`Store::begin`], [`Store::single_writes`]), whether
    /// or not they then write: a test reads it around a request to see whether the request took
    /// one, which a debug build's timings are too coarse to tell.
    #[doc(hidden)]
    pub fn writers_handed_out(&self) -> u64 {
        self.writers.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn count_writer(&self) {
        self.writers
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// Makes [`Store::probe`] fail (or answer again): an embedded database cannot be made to
    /// stop answering on demand, and readiness must be seen to turn false and back.
    #[doc(hidden)]
    pub fn fail_probes(&self, fail: bool) {
        self.probes_fail
            .store(fail, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Everyone may read.
impl std::ops::Deref for Store {
    type Target = dyn Reads;

    fn deref(&self) -> &(dyn Reads + 'static) {
        &*self.backend
    }
}
