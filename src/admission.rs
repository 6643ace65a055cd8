//! Which connections a listener takes, so that a flood of idle connections shuts nobody out.
//!
//! Every open connection holds a slot. A source (an IPv4 address or an IPv6 /64) holds at most
//! its own share of them. Connections still in their TLS handshake may hold only part of the
//! listener's cap; when that part (or the whole cap) is full, one of them is shed to make room:
//! the oldest of the source with the most handshakes open. So a flooder's idle connections go
//! first, and a real client's handshake, which takes milliseconds, gets through. Sources outside loopback may leave a reserve of slots unused
//! (the admin listener keeps one for the server's own machine).
//!
//! The tables hold only open connections: at most `cap` entries each, emptied as they close.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::oneshot;

/// How one listener admits connections.
#[derive(Debug, Clone)]
pub struct Policy {
    pub cap: usize,
    /// Connections before the end of their TLS handshake hold at most this many slots.
    pub pre_handshake_cap: usize,
    pub per_source: usize,
    /// The per-source share of sources in `allowed_networks`.
    pub per_allowed_source: usize,
    pub allowed_networks: Vec<ipnet::IpNet>,
    /// Slots only loopback sources may take.
    pub loopback_reserve: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// The source already holds its share.
    SourceFull,
    /// The listener is full of connections that finished their handshake.
    ListenerFull,
}

/// The key a source's connections are counted under: the address, or its IPv6 /64.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct SourceKey(IpAddr);

impl SourceKey {
    fn of(address: IpAddr) -> SourceKey {
        match address.to_canonical() {
            IpAddr::V6(v6) => {
                let s = v6.segments();
                SourceKey(IpAddr::V6(Ipv6Addr::new(
                    s[0], s[1], s[2], s[3], 0, 0, 0, 0,
                )))
            }
            v4 => SourceKey(v4),
        }
    }
}

#[derive(Default)]
struct SourceSlots {
    open: usize,
    /// Its connections still in their handshake, oldest first; dropping a sender sheds one.
    in_handshake: BTreeMap<u64, oneshot::Sender<()>>,
}

#[derive(Default)]
struct State {
    next_id: u64,
    /// Every open connection's source.
    open: HashMap<u64, SourceKey>,
    sources: HashMap<SourceKey, SourceSlots>,
    /// Sources with connections in their handshake, by how many: the last is shed from first.
    by_handshakes: BTreeSet<(usize, SourceKey)>,
    in_handshake: usize,
}

pub struct Admission {
    policy: Policy,
    state: Mutex<State>,
}

/// One admitted connection's slot, given back when dropped.
pub struct Slot {
    admission: Arc<Admission>,
    id: u64,
    shed: Option<oneshot::Receiver<()>>,
}

impl Admission {
    pub fn new(policy: Policy) -> Arc<Admission> {
        Arc::new(Admission {
            policy,
            state: Mutex::new(State::default()),
        })
    }

    /// A slot for a new connection from `address`, shedding the oldest handshake if needed.
    pub fn admit(self: &Arc<Self>, address: IpAddr) -> Result<Slot, Refused> {
        let source = SourceKey::of(address);
        let mut state = self.lock();
        if state.held_by(source) >= self.source_share(address) {
            return Err(Refused::SourceFull);
        }
        if !self.room_for(&state, address, 0) {
            if state.in_handshake == 0 || !self.room_for(&state, address, 1) {
                return Err(Refused::ListenerFull);
            }
            state.shed_one();
        }
        let (id, shed) = state.insert(source);
        Ok(Slot {
            admission: self.clone(),
            id,
            shed: Some(shed),
        })
    }

    /// Open connections.
    pub fn open(&self) -> usize {
        self.lock().open.len()
    }

    /// Sources with open connections (the per-source table's size).
    pub fn sources(&self) -> usize {
        self.lock().sources.len()
    }

    /// Whether a new connection fits once `shed` handshaking ones are gone.
    fn room_for(&self, state: &State, address: IpAddr, shed: usize) -> bool {
        let limit = if address.to_canonical().is_loopback() {
            self.policy.cap
        } else {
            self.policy.cap.saturating_sub(self.policy.loopback_reserve)
        };
        state.in_handshake - shed < self.policy.pre_handshake_cap && state.open.len() - shed < limit
    }

    fn source_share(&self, address: IpAddr) -> usize {
        let address = address.to_canonical();
        if self
            .policy
            .allowed_networks
            .iter()
            .any(|net| net.contains(&address))
        {
            self.policy.per_allowed_source
        } else {
            self.policy.per_source
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Every update leaves the tables consistent, so a panic elsewhere poisons nothing real.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl State {
    fn held_by(&self, source: SourceKey) -> usize {
        self.sources.get(&source).map_or(0, |slots| slots.open)
    }

    fn insert(&mut self, source: SourceKey) -> (u64, oneshot::Receiver<()>) {
        let id = self.next_id;
        self.next_id += 1;
        let (sender, shed) = oneshot::channel();
        self.open.insert(id, source);
        let slots = self.sources.entry(source).or_default();
        slots.open += 1;
        slots.in_handshake.insert(id, sender);
        let handshakes = slots.in_handshake.len();
        self.reindex(source, handshakes - 1, handshakes);
        self.in_handshake += 1;
        (id, shed)
    }

    /// Sheds the oldest handshake of the source with the most.
    fn shed_one(&mut self) {
        let Some(&(_, source)) = self.by_handshakes.last() else {
            return;
        };
        let oldest = self.sources[&source].in_handshake.keys().next().copied();
        if let Some(id) = oldest {
            self.release(id);
        }
    }

    fn handshake_done(&mut self, id: u64) {
        if let Some(&source) = self.open.get(&id) {
            self.leave_handshake(source, id);
        }
    }

    fn release(&mut self, id: u64) {
        let Some(source) = self.open.remove(&id) else {
            return;
        };
        self.leave_handshake(source, id);
        if let Some(slots) = self.sources.get_mut(&source) {
            slots.open -= 1;
            if slots.open == 0 {
                self.sources.remove(&source);
            }
        }
    }

    fn leave_handshake(&mut self, source: SourceKey, id: u64) {
        let Some(slots) = self.sources.get_mut(&source) else {
            return;
        };
        if slots.in_handshake.remove(&id).is_none() {
            return;
        }
        let handshakes = slots.in_handshake.len();
        self.reindex(source, handshakes + 1, handshakes);
        self.in_handshake -= 1;
    }

    fn reindex(&mut self, source: SourceKey, before: usize, after: usize) {
        if before > 0 {
            self.by_handshakes.remove(&(before, source));
        }
        if after > 0 {
            self.by_handshakes.insert((after, source));
        }
    }
}

impl Slot {
    /// Resolves when the listener sheds this connection to make room for a newer one;
    /// never, once the handshake is done.
    pub async fn shed(&mut self) {
        match self.shed.as_mut() {
            Some(shed) => {
                let _ = shed.await;
                self.shed = None;
            }
            None => std::future::pending().await,
        }
    }

    /// The TLS handshake is done: the connection is no longer among the first to be shed.
    pub fn handshake_done(&mut self) {
        self.admission.lock().handshake_done(self.id);
        self.shed = None;
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.admission.lock().release(self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Policy {
        Policy {
            cap: 8,
            pre_handshake_cap: 6,
            per_source: 3,
            per_allowed_source: 5,
            allowed_networks: vec!["10.1.0.0/16".parse().unwrap()],
            loopback_reserve: 2,
        }
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn admit_all(admission: &Arc<Admission>, address: &str, n: usize) -> Vec<Slot> {
        (0..n)
            .map(|_| admission.admit(ip(address)).expect("admitted"))
            .collect()
    }

    #[test]
    fn a_source_holds_its_share_and_an_ipv6_64_counts_as_one() {
        let admission = Admission::new(policy());
        let _v4 = admit_all(&admission, "192.0.2.1", 3);
        assert_eq!(
            admission.admit(ip("192.0.2.1")).err(),
            Some(Refused::SourceFull)
        );
        let _v6 = admit_all(&admission, "2001:db8::1", 3);
        assert_eq!(
            admission.admit(ip("2001:db8::ffff:2")).err(),
            Some(Refused::SourceFull)
        );
        assert!(admission.admit(ip("2001:db8:0:1::1")).is_ok());
    }

    #[test]
    fn allowed_networks_get_their_own_share() {
        let admission = Admission::new(policy());
        let _slots = admit_all(&admission, "10.1.2.3", 5);
        assert_eq!(
            admission.admit(ip("10.1.2.3")).err(),
            Some(Refused::SourceFull)
        );
    }

    #[tokio::test]
    async fn the_oldest_handshake_is_shed_and_handshaken_connections_are_kept() {
        let admission = Admission::new(policy());
        let mut done = admit_all(&admission, "192.0.2.1", 2);
        done.iter_mut().for_each(Slot::handshake_done);
        let mut waiting = admit_all(&admission, "192.0.2.2", 3);
        waiting.extend(admit_all(&admission, "192.0.2.3", 1));
        // Cap 8 minus the loopback reserve: 6 slots for others, all taken.
        let _newest = admission.admit(ip("192.0.2.4")).expect("admitted");
        waiting[0].shed().await;
        assert_eq!(admission.open(), 6);
        // Only handshaken connections left to shed: a full listener refuses.
        let mut rest: Vec<Slot> = waiting.drain(1..).collect();
        rest.push(_newest);
        rest.iter_mut().for_each(Slot::handshake_done);
        assert_eq!(
            admission.admit(ip("192.0.2.5")).err(),
            Some(Refused::ListenerFull)
        );
    }

    #[test]
    fn the_source_with_most_handshakes_is_shed_from_first() {
        let admission = Admission::new(policy());
        let lone = admission.admit(ip("192.0.2.9")).unwrap();
        let heavy = admit_all(&admission, "192.0.2.8", 3);
        let _others = admit_all(&admission, "192.0.2.7", 2);
        let _newest = admission.admit(ip("192.0.2.6")).expect("admitted");
        let state = admission.lock();
        assert!(state.open.contains_key(&lone.id));
        assert!(!state.open.contains_key(&heavy[0].id));
        assert_eq!(state.sources[&SourceKey::of(ip("192.0.2.8"))].open, 2);
    }

    #[test]
    fn loopback_takes_the_reserve() {
        let admission = Admission::new(policy());
        let mut slots = admit_all(&admission, "192.0.2.1", 3);
        slots.extend(admit_all(&admission, "192.0.2.2", 3));
        slots.iter_mut().for_each(Slot::handshake_done);
        assert_eq!(
            admission.admit(ip("192.0.2.3")).err(),
            Some(Refused::ListenerFull)
        );
        let _local = admit_all(&admission, "127.0.0.1", 2);
        assert_eq!(admission.open(), 8);
    }

    #[test]
    fn tables_empty_as_connections_close() {
        let admission = Admission::new(Policy {
            cap: 10_000,
            pre_handshake_cap: 10_000,
            ..policy()
        });
        for i in 0..5_000u32 {
            let address = IpAddr::V4(std::net::Ipv4Addr::from(0xC000_0000 + i));
            let mut slot = admission.admit(address).unwrap();
            if i % 2 == 0 {
                slot.handshake_done();
            }
        }
        assert_eq!((admission.open(), admission.sources()), (0, 0));
        let state = admission.lock();
        assert!(state.by_handshakes.is_empty() && state.in_handshake == 0);
    }
}
