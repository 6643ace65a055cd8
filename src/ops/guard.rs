//! Brute-force limits on hot-desk logins, counted per extension at a phone, per extension, per
//! phone and over all phones, and kept in the database so a restart does not reset an
//! attacker's budget.
//!
//! - Extension at a phone: `user_max_failures` wrong PINs in a row for one extension at one
//!   phone lock that extension at that phone; each further lockout there doubles, up to
//!   `user_lockout_max_secs`. Attempts during a lockout are refused without checking or
//!   counting, so nobody can stretch a victim's lockout (Cisco Unity Express does the same).
//!   A guesser at one phone thus never locks the user out at the other phones.
//!   Extensions that do not exist are counted the same way, so the answers do not tell them apart.
//! - Extension: once it got locked at `user_max_phones` different phones since its last
//!   successful login, it is locked at every phone (the same doubling): guessing one PIN from
//!   many phones stops there.
//! - Phone: `device_max_failures` within `device_window_secs`, whatever the extensions, throttle
//!   it; this is what stops a spray of one PIN across all extensions from one phone.
//! - Site: `global_max_throttled_phones` phones throttled within `global_window_secs` pause
//!   logins for `global_pause_secs`, except at phones where someone logged in successfully in
//!   the last day (their users go on working during an attack). The pause counts phones, not
//!   wrong PINs: a handful of phones guessing until each is throttled (the red team's 10 x 10)
//!   costs them their own phones, not everyone's logins. A spray that keeps every phone just
//!   under its throttle is held by the per-phone limit alone.
//!
//! Every lockout, throttle and pause is an audit event (`login_lockout`, logged as a warning),
//! which is how an admin hears of it.

use crate::audit::{Event, Kind};

use super::write::single_writes;
use crate::app::App;
use crate::config::HotdeskConfig;
use crate::domain::Mac;
use crate::model::GuardRecord;
use crate::store::{StoreError, Writer};

/// Counters are dropped a day after they last mattered (by the housekeeping task).
const PRUNE_AFTER_SECS: i64 = 24 * 3600;

/// Drops failed-login and failed-token counters with nothing left to remember.
pub async fn prune(app: &App, now: i64) -> Result<usize, StoreError> {
    single_writes(app).prune_guards(now, PRUNE_AFTER_SECS).await
}

fn credentials_key(mac: Mac) -> String {
    format!("credentials:{mac}")
}

/// Whether wrong credentials for the device came so often lately that new ones are not checked
/// (except from the device's last proven address, decided by the caller).
pub async fn credentials_throttled(app: &App, mac: Mac, now: i64) -> Result<bool, StoreError> {
    Ok(app.store.guard(&credentials_key(mac)).await?.locked_until > now)
}

/// Counts wrong credentials for the device; returns when its throttle ends if this set it.
/// The throttle does not lock the device out: it ends after `device_credentials_throttle_secs`
/// whatever is tried meanwhile (unchecked attempts are not counted), and the device's own
/// last proven address is checked throughout.
pub async fn count_failed_credentials(
    app: &App,
    mac: Mac,
    now: i64,
) -> Result<Option<i64>, StoreError> {
    let policy = &app.config.security;
    let (guard, throttled) = single_writes(app)
        .update_guard(&credentials_key(mac), |g| {
            count_in_window(
                g,
                now,
                policy.device_max_failed_credentials,
                policy.refused_mac_window_secs,
                policy.device_credentials_throttle_secs,
            )
        })
        .await?;
    Ok(throttled.then_some(guard.locked_until))
}

fn nonce_key(nonce: &str) -> String {
    format!("nonce:{nonce}")
}

/// Takes the nonce count of a Digest answer that proved the device's credentials: `false` if
/// this nonce was already used with this count or a higher one (a replay).
///
/// Kept in the store, not in the process, so that a header replayed to another node sharing
/// the store is refused too. Only answers made with the right password get here, so the table
/// grows with the phones' own requests, not with an attacker's, and the housekeeping task
/// drops each entry a day after its last use (a nonce expires within minutes).
pub async fn take_nonce_count(
    app: &App,
    nonce: &str,
    count: u32,
    now: i64,
) -> Result<bool, StoreError> {
    let (_, fresh) = single_writes(app)
        .update_guard(&nonce_key(nonce), |g| {
            // `failures` holds the highest count seen; 0 for a nonce never used.
            let fresh = count > g.failures;
            if fresh {
                g.failures = count;
                g.window_start = now;
            }
            fresh
        })
        .await?;
    Ok(fresh)
}

/// Why a login is not even checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Blocked {
    Extension { until: i64 },
    Phone { until: i64 },
    Everyone { until: i64 },
}

/// What a wrong PIN led to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    TriesLeft(u32),
    ExtensionLocked { until: i64 },
    PhoneThrottled { until: i64 },
}

fn user_key(extension: &str) -> String {
    format!("user:{extension}")
}

fn pairs_prefix(extension: &str) -> String {
    format!("pair:{extension}:")
}

/// The extension at one phone.
fn pair_key(extension: &str, mac: Mac) -> String {
    format!("{}{mac}", pairs_prefix(extension))
}

fn device_key(mac: Mac) -> String {
    format!("device:{mac}")
}

/// The phone's last successful login, in `window_start` (dropped a day after it).
fn login_key(mac: Mac) -> String {
    format!("login:{mac}")
}

const GLOBAL_KEY: &str = "global";

/// How long a successful login exempts its phone from the site-wide pause.
const LOGIN_EXEMPTS_SECS: i64 = 24 * 3600;

/// Refuses before any PIN is checked: the whole site first (unless the phone had a successful
/// login lately), then the phone, then the extension everywhere, then at this phone.
pub async fn blocked(
    app: &App,
    extension: &str,
    mac: Mac,
    now: i64,
) -> Result<Option<Blocked>, StoreError> {
    let store = &app.store;
    let global = store.guard(GLOBAL_KEY).await?;
    if global.locked_until > now && !logged_in_lately(app, mac, now).await? {
        return Ok(Some(Blocked::Everyone {
            until: global.locked_until,
        }));
    }
    let device = store.guard(&device_key(mac)).await?;
    if device.locked_until > now {
        return Ok(Some(Blocked::Phone {
            until: device.locked_until,
        }));
    }
    for key in [user_key(extension), pair_key(extension, mac)] {
        let lock = store.guard(&key).await?;
        if lock.locked_until > now {
            return Ok(Some(Blocked::Extension {
                until: lock.locked_until,
            }));
        }
    }
    Ok(None)
}

async fn logged_in_lately(app: &App, mac: Mac, now: i64) -> Result<bool, StoreError> {
    let login = app.store.guard(&login_key(mac)).await?;
    Ok(login.window_start > 0 && now - login.window_start < LOGIN_EXEMPTS_SECS)
}

/// Records a successful login at the phone, which exempts it from the site-wide pause for a day.
pub async fn note_login(app: &App, mac: Mac, now: i64) -> Result<(), StoreError> {
    single_writes(app)
        .update_guard(&login_key(mac), |g| g.window_start = now)
        .await?;
    Ok(())
}

/// An attempt charged before its PIN is checked, so that concurrent guesses cannot all pass
/// [`blocked`] before any of them is counted. A correct PIN gets the charge back ([`refund`]).
#[derive(Debug, Clone, Copy)]
pub struct Charge {
    /// What the attempt leads to if the PIN is wrong.
    pub if_wrong: Failure,
    /// The extension got locked at every phone by this attempt.
    locked_everywhere: bool,
    throttled_phone: bool,
    paused_everyone: bool,
}

/// Charges an attempt as a failure; `Err` if a lock is in force (then nothing is counted).
pub async fn charge(
    app: &App,
    extension: &str,
    mac: Mac,
    now: i64,
) -> Result<Result<Charge, Blocked>, StoreError> {
    if let Some(blocked) = blocked(app, extension, mac, now).await? {
        return Ok(Err(blocked));
    }
    let policy = &app.config.hotdesk;
    let store = single_writes(app);
    let (pair, pair_outcome) = store
        .update_guard(&pair_key(extension, mac), |g| {
            if g.locked_until > now {
                return None;
            }
            Some(count_lockout(g, policy.user_max_failures, policy, now))
        })
        .await?;
    let Some(pair_locked) = pair_outcome else {
        return Ok(Err(Blocked::Extension {
            until: pair.locked_until,
        }));
    };
    // A phone counts towards the extension's lock once: at its first lockout there.
    let mut locked_everywhere = None;
    if pair_locked && pair.lockouts == 1 {
        let (user, locked) = store
            .update_guard(&user_key(extension), |g| {
                count_lockout(g, policy.user_max_phones, policy, now)
            })
            .await?;
        locked_everywhere = locked.then_some(user.locked_until);
    }
    let (_, throttled_phone) = store
        .update_guard(&device_key(mac), |g| {
            count_in_window(
                g,
                now,
                policy.device_max_failures,
                policy.device_window_secs,
                policy.device_throttle_secs,
            )
        })
        .await?;
    let mut paused_everyone = false;
    if throttled_phone {
        (_, paused_everyone) = store
            .update_guard(GLOBAL_KEY, |g| {
                count_in_window(
                    g,
                    now,
                    policy.global_max_throttled_phones,
                    policy.global_window_secs,
                    policy.global_pause_secs,
                )
            })
            .await?;
    }
    let if_wrong = if pair_locked {
        Failure::ExtensionLocked {
            until: locked_everywhere.unwrap_or(0).max(pair.locked_until),
        }
    } else if throttled_phone {
        Failure::PhoneThrottled {
            until: now + policy.device_throttle_secs as i64,
        }
    } else {
        Failure::TriesLeft(policy.user_max_failures.saturating_sub(pair.failures))
    };
    Ok(Ok(Charge {
        if_wrong,
        locked_everywhere: locked_everywhere.is_some(),
        throttled_phone,
        paused_everyone,
    }))
}

/// The PIN was wrong: the charge stands; records the locks it set. `who` names the extension
/// in the trail (not one that does not exist: that may be a PIN typed into the wrong field).
pub async fn confirm_failure(app: &App, who: &str, mac: Mac, charge: &Charge) {
    let lockout = |detail: String| {
        crate::ops::audit::record(app, Event::phone(Kind::LoginLockout, detail).subject(mac))
    };
    if let Failure::ExtensionLocked { until } = charge.if_wrong {
        let at = if charge.locked_everywhere {
            "at every phone, after lockouts at several phones"
        } else {
            "at this phone"
        };
        lockout(format!(
            "{who}: logins locked {at} until {} after repeated wrong PINs",
            crate::clock::rfc3339(until)
        ))
        .await;
    }
    if charge.throttled_phone {
        lockout("phone throttled: too many failed hot-desk logins from it".into()).await;
    }
    if charge.paused_everyone {
        lockout(
            "hot-desk logins paused at phones without a login today: many phones throttled (PIN spray?)"
                .into(),
        )
        .await;
    }
}

/// The PIN was right: the extension's records are cleared, and the phone's and the site's
/// counters get the attempt back, with any lock this very attempt set.
pub async fn refund(
    app: &App,
    extension: &str,
    mac: Mac,
    charge: &Charge,
) -> Result<(), StoreError> {
    let store = single_writes(app);
    store.remove_guard(&pair_key(extension, mac)).await?;
    store.remove_guard(&user_key(extension)).await?;
    let give_back = |g: &mut GuardRecord, set_lock: bool| {
        g.failures = g.failures.saturating_sub(1);
        if set_lock {
            g.locked_until = 0;
            g.lockouts = g.lockouts.saturating_sub(1);
        }
    };
    store
        .update_guard(&device_key(mac), |g| give_back(g, charge.throttled_phone))
        .await?;
    if charge.throttled_phone {
        store
            .update_guard(GLOBAL_KEY, |g| give_back(g, charge.paused_everyone))
            .await?;
    }
    Ok(())
}

/// The admin's unlock: failures and lockouts of the extension, at every phone, are forgotten;
/// what there was, summed up as [`extension_state`] shows it.
pub async fn unlock(store: &Writer<'_>, extension: &str) -> Result<GuardRecord, StoreError> {
    let pairs = store.guards(&pairs_prefix(extension)).await?;
    let before = summary(store.guard(&user_key(extension)).await?, &pairs);
    store.remove_guard(&user_key(extension)).await?;
    let prefix = pairs_prefix(extension);
    for (rest, _) in &pairs {
        store.remove_guard(&format!("{prefix}{rest}")).await?;
    }
    Ok(before)
}

/// The extension's counters as the admin API shows them: the worst run of wrong PINs at one
/// phone, the latest lock in force (at a phone or everywhere), and all lockouts.
pub async fn extension_state(app: &App, extension: &str) -> Result<GuardRecord, StoreError> {
    let pairs = app.store.guards(&pairs_prefix(extension)).await?;
    Ok(summary(
        app.store.guard(&user_key(extension)).await?,
        &pairs,
    ))
}

fn summary(everywhere: GuardRecord, pairs: &[(String, GuardRecord)]) -> GuardRecord {
    pairs.iter().fold(everywhere, |mut sum, (_, pair)| {
        sum.failures = sum.failures.max(pair.failures);
        sum.window_start = sum.window_start.max(pair.window_start);
        sum.locked_until = sum.locked_until.max(pair.locked_until);
        sum.lockouts += pair.lockouts;
        sum
    })
}

/// Counts one more towards a lock after `max`: `true` when this one set it. Each further
/// lockout doubles the last, up to `user_lockout_max_secs`.
pub(in crate::ops) fn count_lockout(
    g: &mut GuardRecord,
    max: u32,
    policy: &HotdeskConfig,
    now: i64,
) -> bool {
    g.failures += 1;
    g.window_start = now;
    if g.failures < max {
        return false;
    }
    let doubling = 1u64 << g.lockouts.min(20);
    let secs = policy
        .user_lockout_secs
        .saturating_mul(doubling)
        .min(policy.user_lockout_max_secs);
    g.lockouts += 1;
    g.failures = 0;
    g.locked_until = now + secs as i64;
    true
}

/// `true` when this failure reached `max` within the window and set a lock.
pub(in crate::ops) fn count_in_window(
    g: &mut GuardRecord,
    now: i64,
    max: u32,
    window_secs: u64,
    lock_secs: u64,
) -> bool {
    if now - g.window_start >= window_secs as i64 {
        g.window_start = now;
        g.failures = 0;
    }
    g.failures += 1;
    if g.failures < max {
        return false;
    }
    g.failures = 0;
    g.window_start = now;
    g.locked_until = now + lock_secs as i64;
    g.lockouts += 1;
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_lockouts_double_up_to_the_cap() {
        let policy = HotdeskConfig {
            user_lockout_secs: 100,
            user_lockout_max_secs: 350,
            ..HotdeskConfig::default()
        };
        let mut g = GuardRecord::default();
        let mut lock_lengths = Vec::new();
        let mut now = 0;
        for _ in 0..4 {
            assert!(!count_lockout(&mut g, 3, &policy, now));
            assert!(!count_lockout(&mut g, 3, &policy, now));
            assert!(count_lockout(&mut g, 3, &policy, now));
            lock_lengths.push(g.locked_until - now);
            now = g.locked_until;
        }
        assert_eq!(lock_lengths, vec![100, 200, 350, 350]);
    }

    #[test]
    fn windows_forget_old_failures() {
        let mut g = GuardRecord::default();
        assert!(!count_in_window(&mut g, 0, 3, 60, 600));
        assert!(!count_in_window(&mut g, 10, 3, 60, 600));
        // The window started at 0; by 70 it has passed, so counting starts over.
        assert!(!count_in_window(&mut g, 70, 3, 60, 600));
        assert!(!count_in_window(&mut g, 71, 3, 60, 600));
        assert!(count_in_window(&mut g, 72, 3, 60, 600));
        assert_eq!(g.locked_until, 672);
    }
}
