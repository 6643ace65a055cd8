//! Bans on sources that sweep MACs.
//!
//! A MAC is printed on the box, so an attacker who knows a vendor's prefix walks through it
//! asking for config files. Answers already look the same for every refused or missing file
//! (provision.rs); this module makes walking slow. A source refused the files of more than
//! `max_refused_macs` distinct MACs within `refused_mac_window_secs` is refused everything for
//! `ban_secs`, doubling for each further ban.
//!
//! Registered and unknown MACs count alike, or the moment of the ban would tell which of the
//! MACs tried were registered. A source is an IPv4 address or an IPv6 /64, the block one
//! customer usually holds. Refusals count, and MACs a request names without proving them (a
//! User-Agent on a common file) once their grace passes unproven (named.rs): an office of
//! phones behind one NAT, booting together, getting their own configs and asking for optional
//! files that do not exist, never comes near a ban. Networks in
//! `allow_networks` are never banned. Counters and bans live in the database, so a restart
//! neither forgives an attacker nor forgets an admin's decision.

use std::net::IpAddr;

use serde::Serialize;

use super::write::single_writes;
use super::{Actor, OpError, WriteTx};
use crate::app::App;
use crate::audit::{Event, Kind};
use crate::clock::rfc3339;
use crate::domain::Mac;
use crate::model::SourceRecord;
use crate::store::StoreError;

/// The key a request source is counted and banned under.
pub fn source_key(address: IpAddr) -> String {
    match address {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                let prefix = std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0);
                format!("{prefix}/64")
            }
        },
    }
}

/// An address or a source key as an admin types it (`192.0.2.7`, `2001:db8::1`,
/// `2001:db8::/64`): the key it falls under.
pub fn parse_source(text: &str) -> Option<String> {
    let address = text.strip_suffix("/64").unwrap_or(text);
    let address: IpAddr = address.parse().ok()?;
    if text.ends_with("/64") && address.is_ipv4() {
        return None;
    }
    Some(source_key(address))
}

fn allowed(app: &App, address: IpAddr) -> bool {
    let address = match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
        v4 => v4,
    };
    app.config
        .security
        .allow_networks
        .iter()
        .any(|net| net.contains(&address))
}

/// When the source's ban ends, if it is banned now.
pub async fn banned_until(app: &App, address: IpAddr, now: i64) -> Result<Option<i64>, StoreError> {
    // Asked for every connection and request: without a ban in force, no read at all.
    if !app.store.any_ban_reaches(now) || allowed(app, address) {
        return Ok(None);
    }
    Ok(app
        .store
        .source(&source_key(address))
        .await?
        .map(|r| r.banned_until)
        .filter(|until| *until > now))
}

/// Counts a refused request for a MAC's files; bans the source when it crosses the limit.
/// Returns the end of a ban this request started.
pub async fn note_refused_mac(
    app: &App,
    address: IpAddr,
    mac: Mac,
    now: i64,
) -> Result<Option<i64>, StoreError> {
    app.named_macs.counted(address, mac);
    count_refused_macs(app, address, &[mac], now).await
}

/// A request from `address` named `mac` (in its User-Agent or file name) before proving to be
/// it: counted as a refused MAC unless it proves itself from there within the grace
/// (named.rs). The same for registered and unknown MACs, and no read of the store.
pub async fn note_named_mac(
    app: &App,
    address: IpAddr,
    mac: Mac,
    now: i64,
) -> Result<Option<i64>, StoreError> {
    if allowed(app, address) {
        return Ok(None);
    }
    let due = app.named_macs.named(address, mac, now);
    count_refused_macs(app, address, &due, now).await
}

/// The request from `address` proved to be `mac`: its names there do not count.
pub fn note_proven_mac(app: &App, address: IpAddr, mac: Mac, now: i64) {
    app.named_macs.proven(address, mac, now);
}

/// Counts the source's named MACs whose grace passed unproven; before its ban is looked at.
pub async fn settle_named_macs(
    app: &App,
    address: IpAddr,
    now: i64,
) -> Result<Option<i64>, StoreError> {
    let due = app.named_macs.settle(address, now);
    count_refused_macs(app, address, &due, now).await
}

/// [`settle_named_macs`] for every source; called by the housekeeping task, so a source that
/// went quiet is counted too.
pub async fn settle_all_named_macs(app: &App, now: i64) -> Result<(), StoreError> {
    for (address, due) in app.named_macs.settle_all(now) {
        count_refused_macs(app, address, &due, now).await?;
    }
    Ok(())
}

async fn count_refused_macs(
    app: &App,
    address: IpAddr,
    macs: &[Mac],
    now: i64,
) -> Result<Option<i64>, StoreError> {
    if macs.is_empty() {
        return Ok(None);
    }
    let policy = &app.config.security;
    let reason = || {
        format!(
            "refused the files of more than {} MACs within {} s",
            policy.max_refused_macs, policy.refused_mac_window_secs
        )
    };
    count_towards_ban(app, address, reason, |record| {
        macs.iter().fold(None, |banned, mac| {
            banned.or(count_refused_mac(record, *mac, now, policy))
        })
    })
    .await
}

/// Counts wrong provisioning credentials (any device, any file name); bans the source when it
/// crosses `max_failed_credentials`. Returns the end of a ban this request started.
pub async fn note_failed_credentials(
    app: &App,
    address: IpAddr,
    now: i64,
) -> Result<Option<i64>, StoreError> {
    let policy = &app.config.security;
    let reason = || {
        format!(
            "sent wrong provisioning credentials more than {} times within {} s",
            policy.max_failed_credentials, policy.refused_mac_window_secs
        )
    };
    count_towards_ban(app, address, reason, |record| {
        count_failed_credentials(record, now, policy)
    })
    .await
}

/// One more of something a source's ban counts, by `count` (which answers the end of a ban it
/// starts); a ban is recorded with `reason`. Allowed networks are never counted.
async fn count_towards_ban(
    app: &App,
    address: IpAddr,
    reason: impl FnOnce() -> String,
    count: impl FnMut(&mut SourceRecord) -> Option<i64> + Send,
) -> Result<Option<i64>, StoreError> {
    if allowed(app, address) {
        return Ok(None);
    }
    let key = source_key(address);
    let (record, banned) = single_writes(app).update_source(&key, count).await?;
    if let Some(until) = banned {
        record_ban(app, address, &key, &record, until, &reason()).await;
    }
    Ok(banned)
}

async fn record_ban(
    app: &App,
    address: IpAddr,
    key: &str,
    record: &SourceRecord,
    until: i64,
    reason: &str,
) {
    let detail = format!(
        "{reason}; banned until {} (ban {})",
        rfc3339(until),
        record.bans
    );
    crate::ops::audit::record(
        app,
        Event::phone(Kind::SourceBanned, detail)
            .source(address)
            .subject(key),
    )
    .await;
}

fn count_failed_credentials(
    record: &mut SourceRecord,
    now: i64,
    policy: &crate::config::SecurityConfig,
) -> Option<i64> {
    let window = policy.refused_mac_window_secs as i64;
    record.failed_credentials.retain(|at| now - at < window);
    record.failed_credentials.push(now);
    if record.failed_credentials.len() <= policy.max_failed_credentials || record.banned_until > now
    {
        // Bounded while a ban is in force too: the oldest entries go first.
        let excess = record
            .failed_credentials
            .len()
            .saturating_sub(policy.max_failed_credentials + 1);
        record.failed_credentials.drain(..excess);
        return None;
    }
    Some(ban(record, now, policy))
}

fn count_refused_mac(
    record: &mut SourceRecord,
    mac: Mac,
    now: i64,
    policy: &crate::config::SecurityConfig,
) -> Option<i64> {
    let window = policy.refused_mac_window_secs as i64;
    record.refused_macs.retain(|(_, at)| now - at < window);
    if !record.refused_macs.iter().any(|(seen, _)| *seen == mac) {
        record.refused_macs.push((mac, now));
    }
    if record.refused_macs.len() <= policy.max_refused_macs || record.banned_until > now {
        return None;
    }
    Some(ban(record, now, policy))
}

/// Bans the source from `now`, doubling the last ban; when it ends.
fn ban(record: &mut SourceRecord, now: i64, policy: &crate::config::SecurityConfig) -> i64 {
    let doublings = record.bans.min(16);
    let length = policy
        .ban_secs
        .saturating_mul(1 << doublings)
        .min(policy.ban_max_secs);
    record.bans += 1;
    record.last_ban_at = now;
    record.banned_until = now + length as i64;
    record.refused_macs.clear();
    record.failed_credentials.clear();
    record.banned_until
}

/// A source as the admin API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SourceView {
    pub source: String,
    pub banned: bool,
    pub banned_until: Option<String>,
    pub bans: u32,
    pub refused_macs_in_window: usize,
}

/// Sources that are banned or counting, banned ones first.
pub async fn list(app: &App, now: i64) -> Result<Vec<SourceView>, StoreError> {
    let window = app.config.security.refused_mac_window_secs as i64;
    let mut views: Vec<SourceView> = app
        .store
        .sources()
        .await?
        .into_iter()
        .map(|(source, r)| SourceView {
            source,
            banned: r.banned_until > now,
            banned_until: (r.banned_until > now).then(|| rfc3339(r.banned_until)),
            bans: r.bans,
            refused_macs_in_window: r
                .refused_macs
                .iter()
                .filter(|(_, at)| now - at < window)
                .count(),
        })
        .collect();
    views.sort_by(|a, b| b.banned.cmp(&a.banned).then(a.source.cmp(&b.source)));
    Ok(views)
}

/// Forgets everything about the source, lifting its ban.
pub async fn lift(app: &App, by: &Actor, key: &str) -> Result<(), OpError> {
    let mut tx = WriteTx::begin(app, by).await;
    if !tx.remove_source(key).await? {
        return Err(OpError::not_found(format!(
            "nothing is recorded about {key}"
        )));
    }
    tx.changed(key, "ban lifted");
    tx.commit().await?;
    Ok(())
}

/// Drops records with nothing left to remember; called by the housekeeping task. A source's
/// bans are remembered for twice the longest ban, so waiting one out does not reset the doubling.
pub async fn prune(app: &App, now: i64) -> Result<usize, StoreError> {
    let policy = &app.config.security;
    single_writes(app)
        .prune_sources(
            now,
            policy.refused_mac_window_secs as i64,
            2 * policy.ban_max_secs as i64,
        )
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SecurityConfig;

    fn mac(n: u32) -> Mac {
        let b = n.to_be_bytes();
        Mac::from_octets([0x00, 0x15, 0x65, b[1], b[2], b[3]])
    }

    #[test]
    fn ipv6_sources_are_counted_per_64() {
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff:1:2:3".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(source_key(a), "2001:db8:1:2::/64");
        assert_eq!(source_key(a), source_key(b));
        assert_ne!(source_key(a), source_key(c));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(source_key(mapped), "192.0.2.7");
        assert_eq!(
            parse_source("2001:db8:1:2::/64").as_deref(),
            Some("2001:db8:1:2::/64")
        );
        assert_eq!(
            parse_source("2001:db8:1:2::99").as_deref(),
            Some("2001:db8:1:2::/64")
        );
        assert_eq!(parse_source("192.0.2.7/64"), None);
        assert_eq!(parse_source("nonsense"), None);
    }

    #[test]
    fn the_eleventh_distinct_unknown_mac_bans_and_bans_double() {
        let policy = SecurityConfig::default();
        let mut record = SourceRecord::default();
        for n in 0..10 {
            assert_eq!(count_refused_mac(&mut record, mac(n), 1000, &policy), None);
            // The same MAC again does not count twice.
            assert_eq!(count_refused_mac(&mut record, mac(n), 1001, &policy), None);
        }
        assert_eq!(
            count_refused_mac(&mut record, mac(10), 1002, &policy),
            Some(1002 + 3600)
        );
        assert!(record.refused_macs.is_empty());
        let later = 1002 + 3600;
        for n in 20..30 {
            count_refused_mac(&mut record, mac(n), later, &policy);
        }
        assert_eq!(
            count_refused_mac(&mut record, mac(30), later, &policy),
            Some(later + 7200)
        );
    }

    #[test]
    fn the_eleventh_wrong_password_bans_and_the_record_stays_bounded() {
        let policy = SecurityConfig::default();
        let mut record = SourceRecord::default();
        for at in 0..10 {
            assert_eq!(
                count_failed_credentials(&mut record, 1000 + at, &policy),
                None
            );
        }
        assert_eq!(
            count_failed_credentials(&mut record, 1010, &policy),
            Some(1010 + 3600)
        );
        for at in 0..100 {
            count_failed_credentials(&mut record, 1011 + at, &policy);
        }
        assert!(record.failed_credentials.len() <= policy.max_failed_credentials + 1);
    }

    #[test]
    fn misses_spread_beyond_the_window_never_ban() {
        let policy = SecurityConfig::default();
        let mut record = SourceRecord::default();
        for n in 0..100 {
            let now = 1000 + i64::from(n) * 31;
            assert_eq!(count_refused_mac(&mut record, mac(n), now, &policy), None);
        }
        assert!(record.refused_macs.len() <= policy.max_refused_macs);
    }
}
