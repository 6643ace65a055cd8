//! The per-device event log: the last things that happened to each device on this node (files
//! served, refusals and why, the claim, what the phone reported, NOTIFYs sent, hot-desk logins),
//! so an admin can tell why a phone does not get its config without reading the server's logs.
//!
//! In memory only, per node: no database write per phone request, and lost on restart. Bounded
//! twice: `limits.events_per_device` per device (the oldest go), and `limits.event_log_devices`
//! devices in all (one not active lately goes, by second chance). MACs that are not registered
//! are logged as well: a refused phone is often one nobody registered. The same event repeating
//! (a phone polling its config) is counted on the last entry instead of filling the ring.
//!
//! Sharded by MAC, each shard behind its own lock held for a few hundred nanoseconds: a phone
//! request takes one shard's lock once.

use std::collections::VecDeque;
use std::hash::{BuildHasher, RandomState};
use std::sync::Mutex;

use hashbrown::HashTable;

use crate::domain::Mac;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// A file went to the phone; the detail names it.
    Served,
    /// The phone had the file already (304).
    NotModified,
    /// The device asked for a file that does not exist (404); the detail names it.
    NotFound,
    /// The server failed to answer (a template that does not render: see the server's log).
    Failed,
    /// A request for the device's files was refused; the detail says why.
    Refused,
    /// The device took its config in the claim window.
    Claimed,
    /// A phone without credentials asked after the device was claimed from elsewhere.
    ClaimContested,
    /// The phone reported its model, which filled in the record's.
    ModelReported,
    /// The phone reports another model than the one on record.
    ModelMismatch,
    /// The phone reports another firmware than before.
    FirmwareChanged,
    /// A SIP NOTIFY telling the phone to fetch its config; the detail is its answer.
    ResyncSent,
    /// A SIP NOTIFY telling the phone to reboot.
    RebootSent,
    /// A hot-desk login at the phone.
    Login,
    /// A hot-desk logout at the phone.
    Logout,
}

/// Longest detail kept; longer ones are cut (at a character boundary).
const MAX_DETAIL: usize = 120;

/// Shards of the log; a power of two.
const SHARDS: usize = 16;

/// One event of a device, as kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceEvent {
    /// When it last happened (Unix seconds).
    pub at: i64,
    /// When it first happened, if it repeated.
    pub first_at: i64,
    pub kind: EventKind,
    pub detail: Box<str>,
    /// How many times it happened in a row.
    pub count: u64,
}

struct DeviceLog {
    mac: Mac,
    /// The MAC's hash in its shard's table.
    hash: u64,
    events: VecDeque<DeviceEvent>,
    /// Active since the eviction sweep last passed it: spared once more.
    recent: bool,
}

/// The devices of one shard, evicted by second chance (CLOCK): the sweep takes devices in
/// the order they were logged, spares one that was active since it last passed (sending it to
/// the back) and drops the first that was not. Close to least-recently-active, but a request
/// of a logged device only sets a flag, where exact recency would reorder an index each time.
#[derive(Default)]
struct Shard {
    devices: HashTable<DeviceLog>,
    /// Each logged device once with its hash, in the sweep's order.
    sweep: VecDeque<(Mac, u64)>,
}

pub struct DeviceEvents {
    shards: Box<[Mutex<Shard>]>,
    /// Keyed per process: unregistered MACs, whoever sends them, are logged too.
    hasher: RandomState,
    per_device: usize,
    per_shard: usize,
    /// When the log began (the node started): nothing before it is known.
    since: i64,
}

impl DeviceEvents {
    /// A log of at most `per_device` events for each of at most `devices` devices (rounded up
    /// to a multiple of the shard count), begun at `now`; 0 for either keeps nothing.
    pub fn new(per_device: usize, devices: usize, now: i64) -> DeviceEvents {
        DeviceEvents {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            hasher: RandomState::new(),
            per_device,
            per_shard: devices.div_ceil(SHARDS),
            since: now,
        }
    }

    pub fn since(&self) -> i64 {
        self.since
    }

    /// The most devices the log holds.
    pub fn capacity(&self) -> usize {
        self.per_shard * SHARDS
    }

    fn shard(&self, mac: Mac) -> &Mutex<Shard> {
        let bytes = mac.octets();
        // The vendor's prefix is shared by a site's phones; the last bytes are not.
        let index = usize::from(bytes[5] ^ bytes[4]) % SHARDS;
        &self.shards[index]
    }

    /// Records that `kind` happened to `mac` at `now`, with a short detail (never a secret).
    pub fn record(&self, mac: Mac, now: i64, kind: EventKind, detail: &str) {
        if self.per_device == 0 || self.per_shard == 0 {
            return;
        }
        let detail = cut(detail);
        let hash = self.hasher.hash_one(mac);
        let mut shard = self.shard(mac).lock().expect("event log lock");
        let shard = &mut *shard;
        if let Some(log) = shard.devices.find_mut(hash, |log| log.mac == mac) {
            log.recent = true;
            log.note(now, kind, detail, self.per_device);
            return;
        }
        // When the shard is full, the evicted device's ring, emptied, holds the new one's events.
        let events = if shard.devices.len() >= self.per_shard {
            shard.evict().unwrap_or_default()
        } else {
            VecDeque::new()
        };
        let mut log = DeviceLog {
            mac,
            hash,
            events,
            recent: false,
        };
        log.note(now, kind, detail, self.per_device);
        shard.devices.insert_unique(hash, log, |log| log.hash);
        shard.sweep.push_back((mac, hash));
    }

    /// The device's events, oldest first; empty when this node has none for it.
    pub fn of(&self, mac: Mac) -> Vec<DeviceEvent> {
        let hash = self.hasher.hash_one(mac);
        let shard = self.shard(mac).lock().expect("event log lock");
        shard
            .devices
            .find(hash, |log| log.mac == mac)
            .map(|log| log.events.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// How many devices the log holds events of now.
    pub fn devices(&self) -> usize {
        self.shards
            .iter()
            .map(|shard| shard.lock().expect("event log lock").devices.len())
            .sum()
    }
}

impl DeviceLog {
    /// Counts a repeat of the last event on it; else appends, the oldest going past `bound`.
    fn note(&mut self, now: i64, kind: EventKind, detail: &str, bound: usize) {
        if let Some(last) = self.events.back_mut()
            && last.kind == kind
            && *last.detail == *detail
        {
            last.at = now;
            last.count += 1;
            return;
        }
        if self.events.len() >= bound {
            self.events.pop_front();
        }
        self.events.push_back(DeviceEvent {
            at: now,
            first_at: now,
            kind,
            detail: detail.into(),
            count: 1,
        });
    }
}

impl Shard {
    /// Drops the first device the sweep does not spare, and gives back its emptied ring. Ends
    /// within one pass: every device it spares loses its flag.
    fn evict(&mut self) -> Option<VecDeque<DeviceEvent>> {
        while let Some((mac, hash)) = self.sweep.pop_front() {
            let Ok(mut entry) = self.devices.find_entry(hash, |log| log.mac == mac) else {
                continue;
            };
            if std::mem::take(&mut entry.get_mut().recent) {
                self.sweep.push_back((mac, hash));
                continue;
            }
            let (log, _) = entry.remove();
            let mut events = log.events;
            events.clear();
            return Some(events);
        }
        None
    }
}

fn cut(detail: &str) -> &str {
    if detail.len() <= MAX_DETAIL {
        return detail;
    }
    let mut end = MAX_DETAIL;
    while !detail.is_char_boundary(end) {
        end -= 1;
    }
    &detail[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mac(n: u32) -> Mac {
        Mac::parse(&format!("0015{n:08x}")).unwrap()
    }

    #[test]
    fn repeats_are_counted_and_each_device_keeps_its_last_events() {
        let log = DeviceEvents::new(3, 16, 0);
        for _ in 0..5 {
            log.record(mac(1), 100, EventKind::Served, "a.cfg");
        }
        let events = log.of(mac(1));
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].count, 5);
        for (i, file) in ["b", "c", "d"].iter().enumerate() {
            log.record(mac(1), 200 + i as i64, EventKind::Served, file);
        }
        let kept = log.of(mac(1));
        let details: Vec<&str> = kept.iter().map(|e| &*e.detail).collect();
        assert_eq!(details, ["b", "c", "d"]);
        assert!(log.of(mac(2)).is_empty());
    }

    #[test]
    fn a_device_active_since_it_was_logged_outlasts_one_that_was_not() {
        let log = DeviceEvents::new(5, 2 * SHARDS, 0);
        // Same shard: the last two bytes XOR alike.
        let (a, b, c) = (mac(0x0101), mac(0x0202), mac(0x0303));
        assert_eq!(a.octets()[4] ^ a.octets()[5], b.octets()[4] ^ b.octets()[5]);
        log.record(a, 1, EventKind::Served, "x");
        log.record(b, 2, EventKind::Served, "x");
        log.record(a, 3, EventKind::Refused, "y");
        log.record(c, 4, EventKind::Served, "x");
        assert!(log.of(b).is_empty(), "b was not active since it was logged");
        assert_eq!(log.of(a).len(), 2);
        assert_eq!(log.of(c).len(), 1);
        assert_eq!(log.devices(), 2);
    }

    #[test]
    fn when_every_device_was_active_the_sweep_still_evicts_one() {
        let log = DeviceEvents::new(5, 2 * SHARDS, 0);
        let (a, b, c) = (mac(0x0101), mac(0x0202), mac(0x0303));
        for at in 1..=2 {
            log.record(a, at, EventKind::Served, "x");
            log.record(b, at, EventKind::Served, "x");
        }
        log.record(c, 3, EventKind::Refused, "unknown");
        assert_eq!(log.devices(), 2);
        assert!(
            log.of(a).is_empty(),
            "a was logged first and lost its flag first"
        );
        assert_eq!(log.of(b)[0].count, 2);
        assert_eq!(log.of(c).len(), 1);
    }

    #[test]
    fn long_details_are_cut_at_a_character() {
        let long = "é".repeat(100);
        let log = DeviceEvents::new(1, 16, 0);
        log.record(mac(1), 1, EventKind::Refused, &long);
        let kept = &log.of(mac(1))[0].detail;
        assert!(kept.len() <= MAX_DETAIL && long.starts_with(&**kept));
    }
}
