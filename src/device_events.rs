//! The per-device event log: the last things that happened to each device on this node (files
//! served, refusals and why, the claim, what the phone reported, NOTIFYs sent, hot-desk logins),
//! so an admin can tell why a phone does not get its config without reading the server's logs.
//!
//! In memory only, per node: no database write per phone request, and lost on restart. Bounded
//! twice: `limits.events_per_device` per device (the oldest go), and `limits.event_log_devices`
//! devices in all (the least recently active device goes). MACs that are not registered are
//! logged as well: a refused phone is often one nobody registered. The same event repeating
//! (a phone polling its config) is counted on the last entry instead of filling the ring.
//!
//! Sharded by MAC, each shard behind its own lock held for a few hundred nanoseconds: a phone
//! request takes one shard's lock once.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Mutex;

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
    events: VecDeque<DeviceEvent>,
    /// The shard's tick of the last event: the key in `by_activity`.
    active: u64,
}

#[derive(Default)]
struct Shard {
    devices: HashMap<Mac, DeviceLog>,
    /// Devices by their last activity, least recent first.
    by_activity: BTreeMap<u64, Mac>,
    tick: u64,
}

pub struct DeviceEvents {
    shards: Box<[Mutex<Shard>]>,
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
        let mut shard = self.shard(mac).lock().expect("event log lock");
        let shard = &mut *shard;
        shard.tick += 1;
        let tick = shard.tick;
        if !shard.devices.contains_key(&mac) && shard.devices.len() >= self.per_shard {
            shard.evict_least_active();
        }
        let log = shard.devices.entry(mac).or_insert_with(|| DeviceLog {
            events: VecDeque::new(),
            active: tick,
        });
        shard.by_activity.remove(&log.active);
        log.active = tick;
        shard.by_activity.insert(tick, mac);
        if let Some(last) = log.events.back_mut()
            && last.kind == kind
            && *last.detail == *detail
        {
            last.at = now;
            last.count += 1;
            return;
        }
        if log.events.len() >= self.per_device {
            log.events.pop_front();
        }
        log.events.push_back(DeviceEvent {
            at: now,
            first_at: now,
            kind,
            detail: detail.into(),
            count: 1,
        });
    }

    /// The device's events, oldest first; empty when this node has none for it.
    pub fn of(&self, mac: Mac) -> Vec<DeviceEvent> {
        let shard = self.shard(mac).lock().expect("event log lock");
        shard
            .devices
            .get(&mac)
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

impl Shard {
    fn evict_least_active(&mut self) {
        if let Some((_, mac)) = self.by_activity.pop_first() {
            self.devices.remove(&mac);
        }
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
    fn the_least_recently_active_device_goes_first() {
        let log = DeviceEvents::new(5, 2 * SHARDS, 0);
        // Same shard: the last two bytes XOR alike.
        let (a, b, c) = (mac(0x0101), mac(0x0202), mac(0x0303));
        assert_eq!(a.octets()[4] ^ a.octets()[5], b.octets()[4] ^ b.octets()[5]);
        log.record(a, 1, EventKind::Served, "x");
        log.record(b, 2, EventKind::Served, "x");
        log.record(a, 3, EventKind::Refused, "y");
        log.record(c, 4, EventKind::Served, "x");
        assert!(log.of(b).is_empty(), "b was the least recently active");
        assert_eq!(log.of(a).len(), 2);
        assert_eq!(log.of(c).len(), 1);
        assert_eq!(log.devices(), 2);
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
