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
//!
//! Small: most sources are one phone, so a source keeps its names in a short list (an index
//! beside it only once it holds many), under a 16-byte key; about 130 bytes for a source of
//! one MAC, where maps and queues per source took 470 (100,000 sources booting at once).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use crate::domain::Mac;

const MAX_PER_SOURCE: usize = 1024;
const MAX_ENTRIES: usize = 100_000;
/// A source with more names than this looks them up in an index.
const INDEXED_FROM: usize = 32;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Pending { since: i64 },
    Proven { at: i64 },
}

/// A source as bans count it (an IPv4 address, an IPv6 /64), as one number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Source(u128);

impl Source {
    fn of(address: IpAddr) -> Source {
        let v6 = match address {
            IpAddr::V4(v4) => v4.to_ipv6_mapped(),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => v4.to_ipv6_mapped(),
                None => {
                    let s = v6.segments();
                    std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0)
                }
            },
        };
        Source(u128::from(v6))
    }
}

struct SourceNames {
    /// An address of the source, for its ban's audit record.
    address: IpAddr,
    /// Each MAC named or proven, in the order they came.
    names: Vec<(Mac, State)>,
    /// Where each MAC is in `names`, once the source has many.
    index: Option<HashMap<Mac, usize>>,
    /// Of `names`, the pending ones.
    pending_count: usize,
    /// No name is due, nor any proof to forget, before this time.
    next_due: i64,
}

impl SourceNames {
    fn new(address: IpAddr) -> SourceNames {
        SourceNames {
            address,
            names: Vec::with_capacity(1),
            index: None,
            pending_count: 0,
            next_due: i64::MAX,
        }
    }

    fn find(&self, mac: Mac) -> Option<usize> {
        match &self.index {
            Some(index) => index.get(&mac).copied(),
            None => self.names.iter().position(|(m, _)| *m == mac),
        }
    }

    fn get(&self, mac: Mac) -> Option<State> {
        self.find(mac).map(|at| self.names[at].1)
    }

    /// Sets `mac`'s state, when it falls due by `due_at`; the state it replaces.
    fn set(&mut self, mac: Mac, state: State, due_at: i64) -> Option<State> {
        self.next_due = self.next_due.min(due_at);
        self.pending_count += usize::from(matches!(state, State::Pending { .. }));
        let old = match self.find(mac) {
            Some(at) => Some(std::mem::replace(&mut self.names[at].1, state)),
            None => {
                self.names.push((mac, state));
                if let Some(index) = &mut self.index {
                    index.insert(mac, self.names.len() - 1);
                } else if self.names.len() > INDEXED_FROM {
                    self.index = Some(
                        self.names
                            .iter()
                            .enumerate()
                            .map(|(i, (m, _))| (*m, i))
                            .collect(),
                    );
                }
                None
            }
        };
        self.pending_count -= usize::from(matches!(old, Some(State::Pending { .. })));
        old
    }

    fn remove_at(&mut self, at: usize) -> (Mac, State) {
        let (mac, state) = self.names.swap_remove(at);
        if let Some(index) = &mut self.index {
            index.remove(&mac);
            if let Some((moved, _)) = self.names.get(at) {
                index.insert(*moved, at);
            }
        }
        self.pending_count -= usize::from(matches!(state, State::Pending { .. }));
        (mac, state)
    }

    fn forget_pending(&mut self, mac: Mac) -> bool {
        match self.find(mac) {
            Some(at) if matches!(self.names[at].1, State::Pending { .. }) => {
                self.remove_at(at);
                true
            }
            _ => false,
        }
    }

    /// Pending names older than `grace`, taken out; proofs older than `window`, forgotten.
    fn settle(&mut self, now: i64, grace: i64, window: i64) -> Vec<Mac> {
        let mut due = Vec::new();
        if now < self.next_due {
            return due;
        }
        let mut next_due = i64::MAX;
        let mut at = 0;
        while at < self.names.len() {
            let (mac, state) = self.names[at];
            let expires = match state {
                State::Pending { since } => since + grace,
                State::Proven { at } => at + window,
            };
            if now < expires {
                next_due = next_due.min(expires);
                at += 1;
                continue;
            }
            self.remove_at(at);
            if matches!(state, State::Pending { .. }) {
                due.push(mac);
            }
        }
        self.next_due = next_due;
        due
    }

    /// The stalest pending name, taken out to make room.
    fn take_stalest_pending(&mut self) -> Option<Mac> {
        let (at, _) = self
            .names
            .iter()
            .enumerate()
            .filter_map(|(i, (_, state))| match state {
                State::Pending { since } => Some((i, *since)),
                State::Proven { .. } => None,
            })
            .min_by_key(|(_, since)| *since)?;
        Some(self.remove_at(at).0)
    }

    fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    fn len(&self) -> usize {
        self.names.len()
    }
}

#[derive(Default)]
struct Names {
    sources: HashMap<Source, SourceNames>,
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
        let source = Source::of(address);
        let mut names = self.names();
        let known = names.sources.get(&source).and_then(|s| s.get(mac));
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
        entry.set(mac, State::Pending { since: now }, now + self.grace);
        names.entries -= due.len();
        due
    }

    /// `mac` proved itself from `source`: its names there do not count.
    pub fn proven(&self, address: IpAddr, mac: Mac, now: i64) {
        let source = Source::of(address);
        let mut names = self.names();
        let window = self.window;
        let Some(entry) = names.sources.get_mut(&source) else {
            if names.entries < MAX_ENTRIES {
                names.entries += 1;
                let entry = names
                    .sources
                    .entry(source)
                    .or_insert_with(|| SourceNames::new(address));
                entry.set(mac, State::Proven { at: now }, now + window);
            }
            return;
        };
        // A phone proves itself at every poll: renewed at most twice a window.
        if let Some(State::Proven { at }) = entry.get(mac)
            && now - at < window / 2
        {
            return;
        }
        let is_new = entry
            .set(mac, State::Proven { at: now }, now + window)
            .is_none();
        names.entries += usize::from(is_new);
    }

    /// `mac` was counted for `source` by another way (its own file refused): not again.
    pub fn counted(&self, address: IpAddr, mac: Mac) {
        let source = Source::of(address);
        let mut names = self.names();
        let Some(entry) = names.sources.get_mut(&source) else {
            return;
        };
        if entry.forget_pending(mac) {
            names.entries -= 1;
        }
    }

    /// The names of `source` whose grace has passed, taken out: they count as refused now.
    pub fn settle(&self, address: IpAddr, now: i64) -> Vec<Mac> {
        self.settle_source(Source::of(address), now)
    }

    fn settle_source(&self, source: Source, now: i64) -> Vec<Mac> {
        let mut names = self.names();
        let Some(entry) = names.sources.get_mut(&source) else {
            return Vec::new();
        };
        let before = entry.len();
        let due = entry.settle(now, self.grace, self.window);
        let after = entry.len();
        if entry.is_empty() {
            names.sources.remove(&source);
        }
        names.entries -= before - after;
        due
    }

    /// Every source with names whose grace has passed, and those names.
    pub fn settle_all(&self, now: i64) -> Vec<(IpAddr, Vec<Mac>)> {
        let sources: Vec<(Source, IpAddr)> = self
            .names()
            .sources
            .iter()
            .map(|(key, names)| (*key, names.address))
            .collect();
        sources
            .into_iter()
            .map(|(source, address)| (address, self.settle_source(source, now)))
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
        assert_eq!(names.names().sources[&Source::of(a(1))].pending_count, 0);
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
