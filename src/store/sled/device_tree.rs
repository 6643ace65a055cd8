//! The devices tree and the decoded copies of its records: every write to the tree goes
//! through this type, which marks the written records' copies stale, so a phone's request
//! takes its device from the decoded copy without reading sled at all.
//!
//! A copy is stamped with the generation of its record's stripe, read before the record was;
//! a write bumps the stripe after it reached the tree. A copy whose stamp is the stripe's
//! current generation was therefore read after every write acknowledged so far.
//!
//! The type also knows which devices someone is logged in at ([`WithSessions`]), so that the
//! hot-desk sweeper reads those and not the whole tree every half minute: on a site of 100,000
//! devices each such read pulled the tree into sled's page cache and held 50 MiB more.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::domain::Mac;
use crate::model::DeviceRecord;
use crate::store::{DeviceSnapshot, Needle, Result, StoreError};

/// Memory for decoded device records.
const DECODED_DEVICES_BYTES: u64 = 16 * 1024 * 1024;

/// A field of every stored session (`Session::since`), so of every device that has one.
const SESSION_FIELD: &str = "since";

/// Stripes of write generations; a power of two. A write makes the copies of the other
/// records of its stripe miss once.
const STRIPES: usize = 1024;

/// A decoded record, stamped with its stripe's generation when it was read.
struct Decoded {
    generation: u64,
    snapshot: Arc<DeviceSnapshot>,
    stored_bytes: u32,
}

#[derive(Clone)]
struct DecodedWeight;

impl quick_cache::Weighter<Mac, Arc<Decoded>> for DecodedWeight {
    /// About twice the stored bytes decoded, and the bookkeeping.
    fn weight(&self, _: &Mac, decoded: &Arc<Decoded>) -> u64 {
        u64::from(decoded.stored_bytes) * 2 + 128
    }
}

pub(super) struct DeviceTree {
    tree: sled::Tree,
    generations: Box<[AtomicU64]>,
    decoded: quick_cache::sync::Cache<Mac, Arc<Decoded>, DecodedWeight>,
    with_sessions: Arc<WithSessions>,
}

/// The devices that may have hot-desk sessions: every device that has one, once the tree has
/// been read through after opening, and perhaps some that no longer do. A write that leaves a
/// device with sessions adds it; only the sweeper's read takes a device out, when it finds no
/// session and no write reached the device's stripe meanwhile. So a logout racing a login can
/// leave a device here for one more read, never leave one out. A merge (an import) keeps the
/// stored sessions, so it adds only the records it writes as given.
#[derive(Default)]
struct WithSessions {
    macs: Mutex<BTreeSet<Mac>>,
    read_through: AtomicBool,
}

impl WithSessions {
    fn note<'a>(&self, written: impl IntoIterator<Item = &'a DeviceRecord>) {
        let mut with_sessions = written.into_iter().filter(|d| !d.sessions.is_empty());
        let Some(first) = with_sessions.next() else {
            return;
        };
        let mut macs = self.macs.lock().expect("sessions index lock");
        macs.insert(first.mac);
        macs.extend(with_sessions.map(|d| d.mac));
    }

    /// Adds every device of `tree` with sessions (a record without a session's `since` in its
    /// bytes is passed over undecoded); writes meanwhile add theirs as always.
    fn read_through(&self, tree: &sled::Tree) -> Result<()> {
        let needle = Needle::new(SESSION_FIELD);
        for entry in tree.iter() {
            let (key, bytes) = entry?;
            if !Needle::may_be_in(needle.as_ref(), &bytes) {
                continue;
            }
            let record: DeviceRecord = super::decode(&key, &bytes)?;
            self.note([&record]);
        }
        self.read_through.store(true, Ordering::SeqCst);
        Ok(())
    }
}

impl DeviceTree {
    pub(super) fn new(tree: sled::Tree) -> DeviceTree {
        DeviceTree {
            tree,
            generations: (0..STRIPES).map(|_| AtomicU64::new(0)).collect(),
            decoded: quick_cache::sync::Cache::with_weighter(
                (DECODED_DEVICES_BYTES / 1024) as usize,
                DECODED_DEVICES_BYTES,
                DecodedWeight,
            ),
            with_sessions: Arc::default(),
        }
    }

    /// The tree, to read: writing through it would leave decoded copies stale.
    pub(super) fn for_reading(&self) -> &sled::Tree {
        &self.tree
    }

    /// Runs `write` on the tree, then marks `mac`'s decoded copy stale, whatever the outcome
    /// (a failed write may have written).
    pub(super) fn write_one<T>(&self, mac: Mac, write: impl FnOnce(&sled::Tree) -> T) -> T {
        let outcome = write(&self.tree);
        self.stripe(mac).fetch_add(1, Ordering::SeqCst);
        outcome
    }

    /// Runs `write` of the `given` records (put as given, or merged into the stored ones) on
    /// the tree, then marks every decoded copy stale and notes the given records with sessions,
    /// whatever the outcome: a failed write leaves the index a superset, which it may be.
    pub(super) fn write_many<T>(
        &self,
        given: &[DeviceRecord],
        write: impl FnOnce(&sled::Tree) -> T,
    ) -> T {
        let outcome = write(&self.tree);
        for generation in self.generations.iter() {
            generation.fetch_add(1, Ordering::SeqCst);
        }
        self.note_sessions(given);
        outcome
    }

    /// The device as stored, from its decoded copy when no write reached it since, else read
    /// and decoded (and kept).
    pub(super) fn snapshot(&self, mac: Mac) -> Result<Option<Arc<DeviceSnapshot>>> {
        let generation = self.stripe(mac).load(Ordering::SeqCst);
        if let Some(decoded) = self.decoded.get(&mac)
            && decoded.generation == generation
        {
            return Ok(Some(decoded.snapshot.clone()));
        }
        let key = mac.octets();
        let Some(raw) = self.tree.get(key)? else {
            return Ok(None);
        };
        let snapshot = Arc::new(DeviceSnapshot::of(super::decode(&key, &raw)?));
        let decoded = Decoded {
            generation,
            snapshot: snapshot.clone(),
            stored_bytes: u32::try_from(raw.len()).unwrap_or(u32::MAX),
        };
        self.decoded.insert(mac, Arc::new(decoded));
        Ok(Some(snapshot))
    }

    /// Of the records just written, those with sessions go into the index ([`Self::write_many`]
    /// does it for its records; an insert and an update call it with what they wrote).
    pub(super) fn note_sessions<'a>(&self, written: impl IntoIterator<Item = &'a DeviceRecord>) {
        self.with_sessions.note(written);
    }

    /// Every device someone is logged in at, in MAC order: the devices of the index, read, after
    /// the tree has been read through once since opening.
    pub(super) async fn with_sessions(&self) -> Result<Vec<DeviceRecord>> {
        if !self.with_sessions.read_through.load(Ordering::SeqCst) {
            // Off the runtime: on a site of 100,000 devices it takes most of a second.
            let (tree, index) = (self.tree.clone(), self.with_sessions.clone());
            tokio::task::spawn_blocking(move || index.read_through(&tree))
                .await
                .map_err(|e| StoreError::Database(format!("reading the sessions: {e}")))??;
        }
        let candidates: Vec<Mac> = {
            let macs = self.with_sessions.macs.lock().expect("sessions index lock");
            macs.iter().copied().collect()
        };
        let mut found = Vec::new();
        for mac in candidates {
            let generation = self.stripe(mac).load(Ordering::SeqCst);
            match self.snapshot(mac)? {
                Some(s) if !s.record.sessions.is_empty() => found.push(s.record.clone()),
                _ => self.forget_unless_written(mac, generation),
            }
        }
        Ok(found)
    }

    /// Takes `mac` out of the index unless a write reached its stripe since `generation`: a
    /// login that came after the read either bumped the stripe already or adds it again after.
    fn forget_unless_written(&self, mac: Mac, generation: u64) {
        let mut macs = self.with_sessions.macs.lock().expect("sessions index lock");
        if self.stripe(mac).load(Ordering::SeqCst) == generation {
            macs.remove(&mac);
        }
    }

    fn stripe(&self, mac: Mac) -> &AtomicU64 {
        let bytes = mac.octets();
        // A site's phones share the vendor's prefix; the last bytes differ.
        let index = (usize::from(bytes[4]) << 8 | usize::from(bytes[5])) % STRIPES;
        &self.generations[index]
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::Ordering;

    use crate::domain::{Mac, Secret};
    use crate::model::DeviceRecord;
    use crate::store::backend::{Reads, Writes};
    use crate::store::sled::SledBackend;

    fn device(n: u8) -> DeviceRecord {
        let mac = Mac::parse(&format!("0015650000{n:02x}")).unwrap();
        DeviceRecord::blank(mac, 1, Secret::from_trusted("pw".into()))
    }

    fn labelled(record: &DeviceRecord, label: &str) -> DeviceRecord {
        let mut record = record.clone();
        record.firmware = Some(label.into());
        record
    }

    async fn firmware(store: &SledBackend, mac: Mac) -> Option<String> {
        let snapshot = store.device_snapshot(mac).await.unwrap()?;
        snapshot.record.firmware.clone()
    }

    #[tokio::test]
    async fn a_snapshot_is_decoded_once_and_every_kind_of_write_is_seen_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledBackend::open(dir.path()).unwrap();
        let (a, b) = (device(1), device(2));
        assert!(store.insert_device(&a).await.unwrap());
        assert!(store.insert_device(&b).await.unwrap());

        let first = store.device_snapshot(a.mac).await.unwrap().unwrap();
        let again = store.device_snapshot(a.mac).await.unwrap().unwrap();
        assert!(
            Arc::ptr_eq(&first, &again),
            "the second read is the decoded copy"
        );

        let mut change = |d: &mut DeviceRecord| d.firmware = Some("updated".into());
        store.update_device(a.mac, &mut change).await.unwrap();
        assert_eq!(firmware(&store, a.mac).await.as_deref(), Some("updated"));

        store
            .put_devices(&[labelled(&a, "batched"), labelled(&b, "batched")])
            .await
            .unwrap();
        assert_eq!(firmware(&store, a.mac).await.as_deref(), Some("batched"));
        assert_eq!(firmware(&store, b.mac).await.as_deref(), Some("batched"));

        let take_given = |stored: &mut DeviceRecord, given: &DeviceRecord| {
            stored.firmware = given.firmware.clone()
        };
        store
            .merge_devices(&[labelled(&b, "merged")], take_given)
            .await
            .unwrap();
        assert_eq!(firmware(&store, b.mac).await.as_deref(), Some("merged"));

        assert!(store.remove_device(b.mac).await.unwrap());
        assert!(store.device_snapshot(b.mac).await.unwrap().is_none());
        assert!(store.insert_device(&labelled(&b, "again")).await.unwrap());
        assert_eq!(firmware(&store, b.mac).await.as_deref(), Some("again"));
    }

    fn indexed(store: &SledBackend) -> Vec<Mac> {
        let macs = store.devices.with_sessions.macs.lock().unwrap();
        macs.iter().copied().collect()
    }

    #[tokio::test]
    async fn the_sweepers_read_forgets_a_logged_out_device_unless_a_write_came_between() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledBackend::open(dir.path()).unwrap();
        let mut a = device(1);
        let session = crate::model::Session {
            extension: crate::domain::Extension::parse("1001").unwrap(),
            since: 0,
        };
        a.sessions.insert(1, session);
        store.insert_device(&a).await.unwrap();
        assert_eq!(indexed(&store), [a.mac]);

        let mut logout = |d: &mut DeviceRecord| d.sessions.clear();
        store.update_device(a.mac, &mut logout).await.unwrap();
        assert_eq!(
            indexed(&store),
            [a.mac],
            "a logout leaves it to the sweeper"
        );
        assert!(store.devices.with_sessions().await.unwrap().is_empty());
        assert!(indexed(&store).is_empty(), "the sweeper's read forgot it");

        store.devices.note_sessions([&a]);
        let generation = store.devices.stripe(a.mac).load(Ordering::SeqCst);
        store.devices.write_one(a.mac, |_| ());
        store.devices.forget_unless_written(a.mac, generation);
        assert_eq!(indexed(&store), [a.mac], "a write since the read keeps it");
    }
}
