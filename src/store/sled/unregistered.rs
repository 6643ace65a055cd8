//! The seen-unregistered list in sled: the records by MAC, and two indexes that find the entry
//! to evict without a scan: by (last seen, MAC), and by (source, last seen, MAC). Writes to the
//! three trees are serialised by the backend's `unregistered_writes` lock (one process is the
//! only node of a sled site), and the indexes are rebuilt at open when they disagree with the
//! records (a store written before they existed).

use std::sync::atomic::Ordering;

use super::{SledBackend, decode, encode};
use crate::domain::Mac;
use crate::model::{UnregisteredLimits, UnregisteredRecord};
use crate::store::Result;
use crate::store::backend::Change;

fn seen_key(record: &UnregisteredRecord) -> Vec<u8> {
    let mut key = record.last_seen.to_be_bytes().to_vec();
    key.extend_from_slice(&record.mac.octets());
    key
}

fn source_prefix(source: &str) -> Vec<u8> {
    let mut key = source.as_bytes().to_vec();
    // Source keys are addresses and /64s: no NUL inside one.
    key.push(0);
    key
}

fn source_key(record: &UnregisteredRecord) -> Vec<u8> {
    let mut key = source_prefix(record.source.as_deref().unwrap_or_default());
    key.extend_from_slice(&seen_key(record));
    key
}

fn mac_of_index_key(key: &[u8]) -> Option<Mac> {
    let octets: [u8; 6] = key.get(key.len().checked_sub(6)?..)?.try_into().ok()?;
    Some(Mac::from_octets(octets))
}

impl SledBackend {
    /// Rebuilds the indexes if they do not hold one entry per record.
    pub(super) fn check_unregistered_index(&self) -> Result<()> {
        let records = self.unregistered.len();
        if self.unregistered_by_seen.len() != records
            || self.unregistered_by_source.len() != records
        {
            self.unregistered_by_seen.clear()?;
            self.unregistered_by_source.clear()?;
            for entry in self.unregistered.iter() {
                let (key, bytes) = entry?;
                let record: UnregisteredRecord = decode(&key, &bytes)?;
                self.index_unregistered(&record)?;
            }
        }
        self.unregistered_len.store(records, Ordering::SeqCst);
        Ok(())
    }

    fn index_unregistered(&self, record: &UnregisteredRecord) -> Result<()> {
        self.unregistered_by_seen.insert(seen_key(record), &[])?;
        self.unregistered_by_source
            .insert(source_key(record), &[])?;
        Ok(())
    }

    pub(super) fn take_unregistered(&self, mac: Mac) -> Result<Option<UnregisteredRecord>> {
        let Some(bytes) = self.unregistered.remove(mac.octets())? else {
            return Ok(None);
        };
        let record: UnregisteredRecord = decode(&mac.octets(), &bytes)?;
        self.unregistered_by_seen.remove(seen_key(&record))?;
        self.unregistered_by_source.remove(source_key(&record))?;
        self.unregistered_len.fetch_sub(1, Ordering::SeqCst);
        Ok(Some(record))
    }

    fn put_unregistered(&self, record: &UnregisteredRecord) -> Result<()> {
        self.unregistered
            .insert(record.mac.octets(), encode(record))?;
        self.index_unregistered(record)?;
        self.unregistered_len.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    pub(super) fn note_unregistered_now(
        &self,
        fresh: &UnregisteredRecord,
        change: Change<'_, UnregisteredRecord>,
        limits: UnregisteredLimits,
    ) -> Result<()> {
        let _serial = self.unregistered_writes.lock().expect("unregistered lock");
        let record = match self.take_unregistered(fresh.mac)? {
            Some(mut seen) => {
                change(&mut seen);
                seen.source.clone_from(&fresh.source);
                seen
            }
            None => fresh.clone(),
        };
        self.put_unregistered(&record)?;
        let prefix = source_prefix(record.source.as_deref().unwrap_or_default());
        let own: Vec<Mac> = self
            .unregistered_by_source
            .scan_prefix(&prefix)
            .keys()
            .take(limits.per_source.saturating_add(1))
            .filter_map(|key| key.ok().and_then(|k| mac_of_index_key(&k)))
            .filter(|mac| *mac != record.mac)
            .collect();
        // `own` leaves out the entry just noted: the source holds one more than it lists.
        for stale in own
            .iter()
            .take((own.len() + 1).saturating_sub(limits.per_source))
        {
            self.take_unregistered(*stale)?;
        }
        while self.unregistered_len.load(Ordering::SeqCst) > limits.total {
            let stalest = self
                .unregistered_by_seen
                .iter()
                .keys()
                .filter_map(|key| key.ok().and_then(|k| mac_of_index_key(&k)))
                .find(|mac| *mac != record.mac);
            match stalest {
                Some(mac) => self.take_unregistered(mac)?,
                None => break,
            };
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::backend::{Reads, Writes};

    fn seen(last: u8, at: i64) -> UnregisteredRecord {
        UnregisteredRecord {
            mac: Mac::from_octets([0, 0x15, 0x65, 0, 2, last]),
            vendor: None,
            model: None,
            firmware: None,
            first_seen: at,
            last_seen: at,
            last_address: None,
            requests: 1,
            source: None,
        }
    }

    /// A store written before the indexes (records only) gets them at open, and evicts by them.
    #[tokio::test]
    async fn indexes_are_rebuilt_for_a_store_written_without_them() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = SledBackend::open(dir.path()).unwrap();
            for (last, at) in [(1, 30), (2, 10), (3, 20)] {
                let record = seen(last, at);
                store
                    .unregistered
                    .insert(record.mac.octets(), encode(&record))
                    .unwrap();
            }
            store.db.flush().unwrap();
        }
        let store = super::super::reopen(dir.path());
        let limits = UnregisteredLimits {
            total: 3,
            per_source: 10,
        };
        let newer = seen(4, 40);
        store
            .note_unregistered(&newer, &mut |_| {}, limits)
            .await
            .unwrap();
        let mut kept: Vec<u8> = store
            .unregistered()
            .await
            .unwrap()
            .iter()
            .map(|r| r.mac.octets()[5])
            .collect();
        kept.sort();
        assert_eq!(kept, vec![1, 3, 4], "the stalest (seen at 10) went");
    }
}
