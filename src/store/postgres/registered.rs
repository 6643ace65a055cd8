//! Every MAC that may have a device record, kept in memory while the node listens, and the
//! decoded records read ahead when listening begins.
//!
//! Without them the phone path would answer a device decoded here from memory but an unknown
//! MAC after a round trip to the database, and a sweeper timing the answers would learn which
//! MACs are registered. With them, an unknown MAC is answered from memory as fast as a known
//! one. What is left: a registered device not in memory still costs a read, as on sled a record
//! outside the page cache does; that is one registered or changed since the node began listening
//! and not fetched through it since, or one beyond the 30,000 records read ahead.
//!
//! The set may hold more MACs than the table, never fewer while it is complete: every change of
//! a device adds its MAC before anyone knows whether the change created or removed it, and a
//! MAC is taken out only when a read found no record and no device changed meanwhile.

use std::collections::HashSet;
use std::sync::RwLock;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use futures_util::{StreamExt, pin_mut};

use super::{Shared, Tree, decode};
use crate::domain::Mac;
use crate::store::{DeviceSnapshot, Result};

#[derive(Default)]
pub(super) struct RegisteredMacs {
    macs: RwLock<HashSet<Mac>>,
    /// False until the table was read, and from a change of many devices (whose MACs are not
    /// named) until it is read again: meanwhile a MAC outside the set is asked of the database.
    complete: AtomicBool,
}

impl RegisteredMacs {
    /// Whether `mac` may have a record: false only when it certainly has none.
    pub(super) fn may_hold(&self, mac: Mac) -> bool {
        !self.complete.load(Ordering::SeqCst) || self.read().contains(&mac)
    }

    /// A device changed: it may exist now. Most changes are of devices the set holds, which
    /// take no write lock from the phone path's readers.
    pub(super) fn changed(&self, mac: Mac) {
        if !self.read().contains(&mac) {
            self.macs.write().expect("registered MACs lock").insert(mac);
        }
    }

    pub(super) fn many_changed(&self) {
        self.complete.store(false, Ordering::SeqCst);
    }

    /// A read found no record of `mac`: taken out unless a device changed since `drops` was
    /// read before it (the change may have created it after the read).
    pub(super) fn found_absent(&self, mac: Mac, drops_before: u64, drops: &AtomicU64) {
        let mut macs = self.macs.write().expect("registered MACs lock");
        if drops.load(Ordering::SeqCst) == drops_before {
            macs.remove(&mac);
        }
    }

    fn add_all(&self, read: HashSet<Mac>) {
        self.macs
            .write()
            .expect("registered MACs lock")
            .extend(read);
        self.complete.store(true, Ordering::SeqCst);
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashSet<Mac>> {
        self.macs.read().expect("registered MACs lock")
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.read().len()
    }
}

/// Records read ahead: below the 32,768 the memory for decoded records holds, as it is split
/// into shards that a MAC's hash picks, and a full one would evict some of them again.
const READ_AHEAD: i64 = 30_000;

/// Reads every device's MAC into the set, and makes it complete.
pub(super) async fn read_macs(client: &deadpool_postgres::Object, shared: &Shared) -> Result<()> {
    let started = std::time::Instant::now();
    let mut macs = HashSet::new();
    let keys = client
        .query_raw(
            "SELECT key FROM records WHERE tree = $1",
            [Tree::Devices.name()],
        )
        .await?;
    shared.round_trips.fetch_add(1, Ordering::Relaxed);
    pin_mut!(keys);
    while let Some(row) = keys.next().await {
        if let Some(mac) = mac_of(row?.get(0)) {
            macs.insert(mac);
        }
    }
    let devices = macs.len();
    shared.registered.add_all(macs);
    tracing::debug!(
        devices,
        took_ms = started.elapsed().as_millis() as u64,
        "read the site's MACs"
    );
    Ok(())
}

/// Decodes records into memory until it is full, stopping at the first change of a device
/// here (a record read before it may be older than the change). Called before the node trusts
/// its memory, while other nodes' notifications are queued: they are applied after it.
pub(super) async fn read_ahead(client: &deadpool_postgres::Object, shared: &Shared) -> Result<()> {
    let started = std::time::Instant::now();
    let drops = shared.device_drops.load(Ordering::SeqCst);
    let rows = client
        .query_raw(
            "SELECT key, value FROM records WHERE tree = $1 LIMIT $2",
            [
                &Tree::Devices.name() as &(dyn tokio_postgres::types::ToSql + Sync),
                &READ_AHEAD,
            ],
        )
        .await?;
    shared.round_trips.fetch_add(1, Ordering::Relaxed);
    pin_mut!(rows);
    let mut decoded = 0;
    while let Some(row) = rows.next().await {
        let row = row?;
        let key: &[u8] = row.get(0);
        if shared.device_drops.load(Ordering::SeqCst) != drops {
            break;
        }
        let Some(mac) = mac_of(key) else { continue };
        let Ok(record) = decode(key, row.get(1)) else {
            continue;
        };
        shared
            .decoded_devices
            .insert(mac, std::sync::Arc::new(DeviceSnapshot::of(record)));
        decoded += 1;
    }
    tracing::debug!(
        decoded,
        took_ms = started.elapsed().as_millis() as u64,
        "read devices ahead into memory"
    );
    Ok(())
}

fn mac_of(key: &[u8]) -> Option<Mac> {
    <[u8; 6]>::try_from(key).ok().map(Mac::from_octets)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mac(n: u8) -> Mac {
        Mac::from_octets([0, 0x15, 0x65, 0, 0, n])
    }

    #[test]
    fn an_incomplete_set_sends_every_mac_to_the_database() {
        let set = RegisteredMacs::default();
        assert!(set.may_hold(mac(1)));
        set.add_all([mac(1)].into());
        assert!(set.may_hold(mac(1)));
        assert!(!set.may_hold(mac(2)));
        set.many_changed();
        assert!(set.may_hold(mac(2)));
    }

    #[test]
    fn a_mac_found_absent_stays_when_a_device_changed_meanwhile() {
        let set = RegisteredMacs::default();
        let drops = AtomicU64::new(7);
        set.add_all([mac(1), mac(2)].into());
        set.found_absent(mac(1), 7, &drops);
        assert!(!set.may_hold(mac(1)));
        drops.fetch_add(1, Ordering::SeqCst);
        set.found_absent(mac(2), 7, &drops);
        assert!(set.may_hold(mac(2)));
        assert_eq!(set.len(), 1);
    }

    #[test]
    fn a_second_reading_keeps_what_changed_since_the_first() {
        let set = RegisteredMacs::default();
        set.add_all([mac(1)].into());
        set.changed(mac(3));
        set.add_all([mac(2)].into());
        for n in 1..=3 {
            assert!(set.may_hold(mac(n)));
        }
    }
}
