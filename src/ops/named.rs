//! MACs that requests named (in the User-Agent, or as a file's MAC) without proving to be them,
//! per source, in memory. A phone names its MAC on the common file before it fetches its own
//! file, so a name cannot count towards the source's ban at once (an office of phones behind
//! one address would be banned at boot). It counts once `grace` passes without the MAC proving
//! itself (claim, credentials or certificate) from that source. A MAC that proved itself from
//! a source is not counted again for `window`. Nothing here reads the store: a registered MAC
//! and an unknown one take exactly the same way, so neither the answer, nor its time, nor the
//! moment of the ban tells them apart.
//!
//! Bounded: at most `MAX_PER_SOURCE` pending names per source (beyond, the stalest counts at
//! once) and `MAX_ENTRIES` names and proofs in all (beyond, a new name counts at once). Proofs
//! do not count towards a source's bound: an office of thousands of phones behind one address
//! proves them all, and its phones booting at once must not push each other's names out.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;

use super::bans::source_key;

use crate::domain::Mac;

const MAX_PER_SOURCE: usize = 1024;
const MAX_ENTRIES: usize = 100_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Pending { since: i64 },
    Proven { at: i64 },
}

struct SourceNames {
    /// An address of the source, for its ban's audit record.
    address: IpAddr,
    states: HashMap<Mac, State>,
    /// Pending names in the order they were made; an entry whose MAC has since proven itself or
    /// been counted is skipped when it comes up.
    pending: VecDeque<(Mac, i64)>,
    /// Proofs in order, to forget them after the window.
    proven: VecDeque<(Mac, i64)>,
    /// Of `states`, the pending ones.
    pending_count: usize,
}

impl SourceNames {
    fn new(address: IpAddr) -> SourceNames {
        SourceNames {
            address,
            states: HashMap::new(),
            pending: VecDeque::new(),
            proven: VecDeque::new(),
            pending_count: 0,
        }
    }

    /// Sets `mac`'s state; the one it replaces.
    fn set(&mut self, mac: Mac, state: State) -> Option<State> {
        let old = self.states.insert(mac, state);
        self.pending_count += usize::from(matches!(state, State::Pending { .. }));
        self.pending_count -= usize::from(matches!(old, Some(State::Pending { .. })));
        old
    }

    fn forget(&mut self, mac: Mac) {
        let old = self.states.remove(&mac);
        self.pending_count -= usize::from(matches!(old, Some(State::Pending { .. })));
    }

    fn is_pending_since(&self, mac: Mac, since: i64) -> bool {
        self.states.get(&mac) == Some(&State::Pending { since })
    }

    /// Pending names older than `grace`, taken out; proofs older than `window`, forgotten.
    fn settle(&mut self, now: i64, grace: i64, window: i64) -> Vec<Mac> {
        let mut due = Vec::new();
        while let Some(&(mac, since)) = self.pending.front() {
            if now - since < grace {
                break;
            }
            self.pending.pop_front();
            if self.is_pending_since(mac, since) {
                self.forget(mac);
                due.push(mac);
            }
        }
        while let Some(&(mac, at)) = self.proven.front() {
            if now - at < window {
                break;
            }
            self.proven.pop_front();
            if self.states.get(&mac) == Some(&State::Proven { at }) {
                self.forget(mac);
            }
        }
        due
    }

    /// The stalest pending name, taken out to make room.
    fn take_stalest_pending(&mut self) -> Option<Mac> {
        while let Some((mac, since)) = self.pending.pop_front() {
            if self.is_pending_since(mac, since) {
                self.forget(mac);
                return Some(mac);
            }
        }
        None
    }

    fn is_empty(&self) -> bool {
        self.states.is_empty()
    }
}

#[derive(Default)]
struct Names {
    sources: HashMap<String, SourceNames>,
    entries: usize,
}

/// The unproven names of every source; see the module documentation.
pub struct NamedMacs {
    names: Mutex<Names>,
    grace: i64,
    window: i64,
}

impl NamedMacs {
    pub fn new(grace_secs: u64, window_secs: u64) -> NamedMacs {
        NamedMacs {
            names: Mutex::default(),
            grace: grace_secs as i64,
            window: window_secs as i64,
        }
    }

    fn names(&self) -> std::sync::MutexGuard<'_, Names> {
        self.names.lock().expect("named MACs lock")
    }

    /// `source` named `mac` without proving it; the MACs that count as refused now (only
    /// when a bound is reached).
    pub fn named(&self, address: IpAddr, mac: Mac, now: i64) -> Vec<Mac> {
        let source = source_key(address);
        let mut names = self.names();
        let known = names
            .sources
            .get(&source)
            .and_then(|s| s.states.get(&mac))
            .copied();
        match known {
            Some(State::Pending { .. }) => return Vec::new(),
            Some(State::Proven { at }) if now - at < self.window => return Vec::new(),
            _ => {}
        }
        let is_new = known.is_none();
        if is_new && names.entries >= MAX_ENTRIES {
            return vec![mac];
        }
        names.entries += usize::from(is_new);
        let entry = names
            .sources
            .entry(source)
            .or_insert_with(|| SourceNames::new(address));
        let mut due = Vec::new();
        if entry.pending_count >= MAX_PER_SOURCE
            && let Some(stalest) = entry.take_stalest_pending()
        {
            due.push(stalest);
        }
        entry.set(mac, State::Pending { since: now });
        entry.pending.push_back((mac, now));
        if entry.pending.len() > 2 * MAX_PER_SOURCE {
            // Only skipped entries can make it this long: drop them.
            let states = &entry.states;
            entry
                .pending
                .retain(|(mac, since)| states.get(mac) == Some(&State::Pending { since: *since }));
        }
        names.entries -= due.len();
        due
    }

    /// `mac` proved itself from `source`: its names there do not count.
    pub fn proven(&self, address: IpAddr, mac: Mac, now: i64) {
        let source = source_key(address);
        let mut names = self.names();
        let window = self.window;
        let Some(entry) = names.sources.get_mut(&source) else {
            if names.entries < MAX_ENTRIES {
                names.entries += 1;
                let entry = names
                    .sources
                    .entry(source)
                    .or_insert_with(|| SourceNames::new(address));
                entry.set(mac, State::Proven { at: now });
                entry.proven.push_back((mac, now));
            }
            return;
        };
        // A phone proves itself at every poll: renewed at most twice a window.
        if let Some(State::Proven { at }) = entry.states.get(&mac)
            && now - at < window / 2
        {
            return;
        }
        let is_new = entry.set(mac, State::Proven { at: now }).is_none();
        entry.proven.push_back((mac, now));
        // Only superseded entries make it twice as long as the proofs it holds: drop them.
        if entry.proven.len() > 2 * MAX_PER_SOURCE.max(entry.states.len()) {
            let states = &entry.states;
            entry
                .proven
                .retain(|(mac, at)| states.get(mac) == Some(&State::Proven { at: *at }));
        }
        names.entries += usize::from(is_new);
    }

    /// `mac` was counted for `source` by another way (its own file refused): not again.
    pub fn counted(&self, address: IpAddr, mac: Mac) {
        let source = source_key(address);
        let mut names = self.names();
        let Some(entry) = names.sources.get_mut(&source) else {
            return;
        };
        if matches!(entry.states.get(&mac), Some(State::Pending { .. })) {
            entry.forget(mac);
            names.entries -= 1;
        }
    }

    /// The names of `source` whose grace has passed, taken out: they count as refused now.
    pub fn settle(&self, address: IpAddr, now: i64) -> Vec<Mac> {
        self.settle_source(&source_key(address), now)
    }

    fn settle_source(&self, source: &str, now: i64) -> Vec<Mac> {
        let mut names = self.names();
        let Some(entry) = names.sources.get_mut(source) else {
            return Vec::new();
        };
        let before = entry.states.len();
        let due = entry.settle(now, self.grace, self.window);
        let after = entry.states.len();
        if entry.is_empty() {
            names.sources.remove(source);
        }
        names.entries -= before - after;
        due
    }

    /// Every source with names whose grace has passed, and those names.
    pub fn settle_all(&self, now: i64) -> Vec<(IpAddr, Vec<Mac>)> {
        let sources: Vec<(String, IpAddr)> = self
            .names()
            .sources
            .iter()
            .map(|(key, names)| (key.clone(), names.address))
            .collect();
        sources
            .into_iter()
            .map(|(source, address)| (address, self.settle_source(&source, now)))
            .filter(|(_, due)| !due.is_empty())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(n: u8) -> IpAddr {
        IpAddr::from([192, 0, 2, n])
    }

    fn mac(n: u32) -> Mac {
        let b = n.to_be_bytes();
        Mac::from_octets([0x00, 0x15, 0x65, b[1], b[2], b[3]])
    }

    #[test]
    fn a_name_counts_only_once_its_grace_passed_unproven() {
        let names = NamedMacs::new(60, 300);
        assert!(names.named(a(1), mac(1), 1000).is_empty());
        assert!(names.named(a(1), mac(2), 1000).is_empty());
        names.proven(a(1), mac(2), 1001);
        assert!(names.settle(a(1), 1059).is_empty());
        assert_eq!(names.settle(a(1), 1060), vec![mac(1)]);
        // Named again within the window after its proof: still not counted.
        assert!(names.named(a(1), mac(2), 1100).is_empty());
        assert!(names.settle(a(1), 1200).is_empty());
        // Another source naming the proven MAC is not covered by its proof.
        names.named(a(2), mac(2), 1200);
        assert_eq!(names.settle(a(2), 1260), vec![mac(2)]);
    }

    #[test]
    fn a_counted_name_is_not_counted_again_and_memory_is_returned() {
        let names = NamedMacs::new(60, 300);
        names.named(a(1), mac(1), 1000);
        names.counted(a(1), mac(1));
        assert!(names.settle(a(1), 2000).is_empty());
        names.proven(a(1), mac(2), 1000);
        names.settle(a(1), 2000);
        assert_eq!(names.names().entries, 0);
        assert!(names.names().sources.is_empty());
    }

    /// An office of thousands of phones behind one address, all proven, booting again at once:
    /// the names its phones make while their neighbours prove themselves never count.
    #[test]
    fn proofs_do_not_push_a_sources_pending_names_out() {
        let names = NamedMacs::new(60, 300);
        for n in 0..5000 {
            assert!(names.named(a(1), mac(n), 1000).is_empty());
            names.proven(a(1), mac(n), 1000);
        }
        for n in 5000..5064 {
            assert!(names.named(a(1), mac(n), 1001).is_empty());
        }
        for n in 5000..5064 {
            names.proven(a(1), mac(n), 1002);
        }
        assert!(names.settle(a(1), 1100).is_empty());
        assert_eq!(names.names().sources[&source_key(a(1))].pending_count, 0);
    }

    #[test]
    fn a_source_naming_more_than_its_bound_has_its_stalest_counted_at_once() {
        let names = NamedMacs::new(60, 300);
        let mut due = Vec::new();
        for n in 0..(MAX_PER_SOURCE as u32 + 10) {
            due.extend(names.named(a(1), mac(n), 1000));
        }
        assert_eq!(due.len(), 10);
        assert_eq!(due[0], mac(0));
        assert!(names.names().entries <= MAX_PER_SOURCE);
    }
}
