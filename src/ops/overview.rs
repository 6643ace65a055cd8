//! What the console's dashboard shows: the site at a glance, read in one pass.

use crate::app::App;
use crate::audit::Kind;
use crate::model::AuditRecord;
use crate::settings::AllLayers;
use crate::store::StoreError;

/// How many security events the dashboard lists.
pub const LATEST_EVENTS: usize = 10;
const DAY_SECS: i64 = 86_400;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Overview {
    pub devices: usize,
    pub never_seen: usize,
    pub seen_last_day: usize,
    pub claimed: usize,
    pub model_mismatches: usize,
    pub firmware_outdated: usize,
    pub unregistered: usize,
    pub users: usize,
    pub users_locked: usize,
    pub users_with_pin: usize,
    pub users_logged_in: usize,
}

/// Counts over every device and user. It reads the whole store, as the dashboard is opened
/// now and then, not on every request of a phone.
pub async fn overview(app: &App) -> Result<Overview, StoreError> {
    let store = app.store.reads();
    let now = app.clock.now();
    let layers = AllLayers::load(store).await?;
    let mut o = Overview::default();
    for d in store.devices().await? {
        o.devices += 1;
        o.never_seen += usize::from(d.last_seen.is_none());
        o.seen_last_day += usize::from(d.last_seen.is_some_and(|at| now - at < DAY_SECS));
        o.claimed += usize::from(d.claimed_at.is_some());
        o.model_mismatches += usize::from(d.model_mismatch.is_some());
        o.firmware_outdated += usize::from(
            layers
                .of_device(&d)
                .firmware_outdated(d.firmware.as_deref()),
        );
    }
    o.unregistered = store.unregistered().await?.len();
    for u in store.users().await? {
        o.users += 1;
        o.users_locked += usize::from(u.locked);
        o.users_with_pin += usize::from(u.pin_hash.is_some());
        o.users_logged_in += usize::from(u.hotdesk_at.is_some());
    }
    Ok(o)
}

/// The latest events an admin may need to act on, newest first.
pub async fn security_events(app: &App) -> Result<Vec<AuditRecord>, StoreError> {
    let keep = |r: &AuditRecord| Kind::parse(&r.kind).is_some_and(Kind::is_warning);
    let (records, _) = app.store.reads().audit(None, LATEST_EVENTS, &keep).await?;
    Ok(records)
}
