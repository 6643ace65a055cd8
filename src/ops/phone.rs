//! What a phone's request records: the facts a request that proved to be the phone tells
//! about it (auto-fill of the model, firmware, last seen), the names of MACs that did not
//! prove themselves (towards the source's ban, and the seen-unregistered list, written off the
//! request path), the claim, and the files it uploads.
//! Single-record compare-and-swap writes, without the write lock: phones ask far more often
//! than admins write.

use std::net::IpAddr;
use std::sync::Arc;

use tracing::{debug, warn};

use super::write::single_writes;
use crate::access;
use crate::app::App;
use crate::audit::{Event, Kind};
use crate::device_events::EventKind;
use crate::domain::Mac;
use crate::identify::Identification;
use crate::model::{
    ClaimContest, DeviceRecord, ModelMismatch, ModelSource, UnregisteredLimits, UnregisteredRecord,
    stored_address_is,
};
use crate::store::{DeviceSnapshot, StoreError};
use crate::vendors::UaInfo;

/// last_seen is kept to this resolution so that a phone polling often does not write each time.
const LAST_SEEN_RESOLUTION_SECS: i64 = 60;

/// Stores a file the phone uploaded (a log, a contact list), within the device's budget.
pub async fn store_upload(
    app: &App,
    mac: Mac,
    name: &str,
    content: &[u8],
    now: i64,
) -> Result<(), StoreError> {
    single_writes(app)
        .put_upload(
            mac,
            name,
            content,
            now,
            app.config.limits.max_uploads_per_device_bytes,
        )
        .await
}

/// Takes the claim atomically: of two racing first requests only one gets the config.
/// `user_agent` names the phone that claims: the claim grace serves only that phone.
pub async fn claim(
    app: &App,
    mac: Mac,
    address: IpAddr,
    user_agent: Option<&UaInfo>,
    now: i64,
) -> Result<Option<DeviceRecord>, StoreError> {
    let writer = single_writes(app);
    let outcome = writer
        .update_device(mac, |d| access::take_claim(d, address, user_agent, now))
        .await?;
    Ok(match outcome {
        Some((device, true)) => {
            // On disk before the config with its secrets goes out: a claim lost in a crash
            // would hand the same config to a second party.
            writer.flush().await?;
            let from = format!("from {address}");
            app.device_events
                .record(mac, now, EventKind::Claimed, &from);
            crate::ops::audit::record(
                app,
                Event::phone(
                    Kind::DeviceClaimed,
                    "device took its config in the claim window",
                )
                .source(address)
                .subject(mac),
            )
            .await;
            Some(device)
        }
        _ => None,
    })
}

/// Counts a request the claim grace serves, in the device's record: the budget is the
/// claim's, so every node and a restart see the same count, and it costs at most
/// `claim_grace_requests` writes per claim. `false`: the grace was used up meanwhile.
pub async fn use_claim_grace(app: &App, device: &DeviceRecord) -> Result<bool, StoreError> {
    let Some(claimed_at) = device.claimed_at else {
        return Ok(false);
    };
    let limit = app.config.provisioning.claim_grace_requests;
    let outcome = single_writes(app)
        .update_device(device.mac, |d| {
            access::use_claim_grace(d, claimed_at, limit)
        })
        .await?;
    Ok(matches!(outcome, Some((_, true))))
}

/// A refusal that contests the device's claim (`access::contests_claim`): the device is
/// flagged for the admin and a `claim_contested` event recorded, once per claim (the phone
/// retrying, or anyone repeating it, adds nothing until an admin re-keys the device).
pub async fn contest_claim(
    app: &App,
    device: &DeviceRecord,
    address: IpAddr,
    now: i64,
) -> Result<(), StoreError> {
    if device.claim_contested.is_some() {
        return Ok(());
    }
    let contest = ClaimContest {
        at: now,
        address: address.to_string(),
    };
    let writer = single_writes(app);
    let outcome = writer
        .update_device(device.mac, |d| {
            let first = d.claim_contested.is_none() && d.claimed_at == device.claimed_at;
            if first {
                d.claim_contested = Some(contest.clone());
            }
            first
        })
        .await?;
    if let Some((flagged, true)) = outcome {
        writer.flush().await?;
        let from = format!("from {address}");
        app.device_events
            .record(device.mac, now, EventKind::ClaimContested, &from);
        let claimed_from = flagged
            .claimed_from
            .as_deref()
            .unwrap_or("an unknown address");
        let claimed_at = flagged
            .claimed_at
            .map(crate::clock::rfc3339)
            .unwrap_or_default();
        let detail = format!(
            "config refused to a phone without credentials after the device was claimed from {claimed_from} at {claimed_at}; if that was not the phone, re-key the device"
        );
        let event = Event::phone(Kind::ClaimContested, detail)
            .source(address)
            .subject(device.mac);
        crate::ops::audit::record(app, event).await;
    }
    Ok(())
}

/// The phone proved itself by credentials or certificate from `address`: an open claim
/// window closes, the claim grace ends, and NOTIFYs go to this address from now on. A contest
/// from this address is withdrawn: it was the phone, asking first without its credentials
/// (as phones do until challenged) from a new address. Writes only what changed.
pub async fn note_proof(
    app: &App,
    snapshot: &DeviceSnapshot,
    address: IpAddr,
    now: i64,
) -> Result<(), StoreError> {
    // Every proven fetch comes here: compared without allocating, written only on a change.
    let contested_from_here = |d: &DeviceRecord| {
        d.claim_contested
            .as_ref()
            .is_some_and(|c| stored_address_is(Some(&c.address), address))
    };
    let device = &snapshot.record;
    if device.claimed_at.is_some()
        && device.claimer.is_none()
        && snapshot.proven_address == Some(address)
        && !contested_from_here(device)
    {
        return Ok(());
    }
    let proven = address.to_string();
    single_writes(app)
        .update_device(device.mac, |d| {
            access::close_claim(d, now);
            d.proven_address = Some(proven.clone());
            if contested_from_here(d) {
                d.claim_contested = None;
            }
        })
        .await?;
    Ok(())
}

/// A device whose vendor's phones keep keys the config stops naming (Cisco MPP) is marked
/// before its file is rendered, the first time a layer's keys reach it: from then on its file
/// writes every key position, so that keys cleared later are cleared on the phone too. A device
/// no layer's keys ever reached renders as it always did. One write per device, ever.
pub async fn note_keys_reached(
    app: &App,
    vendor: &dyn crate::vendors::Vendor,
    device: Arc<DeviceSnapshot>,
) -> Result<Arc<DeviceSnapshot>, StoreError> {
    if device.record.keys_reached || !vendor.keeps_unwritten_keys() {
        return Ok(device);
    }
    let resolved =
        crate::keys::load::of_device(app.store.reads(), &device.record, app.clock.now()).await?;
    let set_by_a_layer = resolved
        .keys
        .iter()
        .chain(&resolved.beyond_capacity)
        .any(|k| k.origin != crate::keys::effective::KeyOrigin::Default);
    if !set_by_a_layer {
        return Ok(device);
    }
    single_writes(app)
        .update_device(device.record.mac, |d| d.keys_reached = true)
        .await?;
    Ok(app
        .store
        .device_snapshot(device.record.mac)
        .await?
        .unwrap_or(device))
}

/// A hot-desk device proven by its request gets its login token before its file is rendered,
/// if its record has none (one written before tokens were issued at registration).
pub async fn issue_missing_login_token(
    app: &App,
    device: Arc<DeviceSnapshot>,
) -> Result<Arc<DeviceSnapshot>, StoreError> {
    if !device.record.hotdesk || device.record.login_token.is_some() {
        return Ok(device);
    }
    super::sessions::ensure_login_token(app, &device.record).await?;
    Ok(app
        .store
        .device_snapshot(device.record.mac)
        .await?
        .unwrap_or(device))
}

/// A request from `address` named `mac` and did not prove to be it: what it reported is
/// offered to the seen-unregistered list, written off the request path
/// ([`write_sightings`]). Nothing is read or written here, so a registered MAC and an unknown
/// one cost the same.
pub fn offer_sighting(
    app: &App,
    mac: Mac,
    identification: &Identification,
    address: IpAddr,
    now: i64,
) {
    app.sightings.offer(Noted::Sighting(Sighting {
        mac,
        vendor: identification.vendor().map(str::to_string),
        model: identification.model().cloned(),
        firmware: identification.firmware().map(str::to_string),
        address,
        at: now,
    }));
}

/// How a request proved to be the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proof {
    /// It took the claim, or is the claimer's address within the claim's grace.
    Claim,
    /// Its credentials or its certificate.
    Credentials,
}

/// The request proved to be the device: what it tells about the phone becomes the record's
/// (first and last seen, address, firmware; the model, filled in if unknown and audited, or a
/// mismatch recorded), and with credentials or a certificate an open claim window closes and
/// NOTIFYs go to this address. Writes only what changed. Returns the device as it is now.
pub async fn note_proven(
    app: &App,
    device: Arc<DeviceSnapshot>,
    identification: &Identification,
    address: IpAddr,
    proof: Proof,
    now: i64,
) -> Result<Arc<DeviceSnapshot>, StoreError> {
    let mac = device.record.mac;
    super::bans::note_proven_mac(app, address, mac, now);
    if proof == Proof::Credentials {
        note_proof(app, &device, address, now).await?;
    }
    if !sighting_is_news(&device, identification, address, now) {
        return Ok(device);
    }
    let address_text = address.to_string();
    let updated = single_writes(app)
        .update_device(mac, |device| {
            update_device_facts(device, identification, &address_text, now)
        })
        .await?;
    note_firmware(app, &device.record, identification, now);
    if let Some((device, Some(event))) = &updated {
        log_fact_event(app, device, *event, address, now).await;
    }
    Ok(app.store.device_snapshot(mac).await?.unwrap_or(device))
}

/// Whether the request tells something the record lacks, so that [`update_device_facts`]
/// would write. A phone polling its config tells nothing new, and this answers without the
/// encode-and-compare of an update. Errs towards yes: a model differing from the record
/// always takes the full way.
fn sighting_is_news(
    snapshot: &DeviceSnapshot,
    identification: &Identification,
    address: IpAddr,
    now: i64,
) -> bool {
    let device = &snapshot.record;
    let seen_lately = device.first_seen.is_some()
        && device
            .last_seen
            .is_some_and(|seen| now - seen < LAST_SEEN_RESOLUTION_SECS);
    let same_address = snapshot.last_address == Some(address);
    let firmware_known = identification
        .firmware()
        .is_none_or(|f| device.firmware.as_deref() == Some(f));
    let model_known = identification
        .model()
        .is_none_or(|reported| device.model.as_ref() == Some(reported));
    !(seen_lately && same_address && firmware_known && model_known)
}

#[derive(Debug, Clone, Copy)]
enum FactEvent {
    AutoFilled,
    ModelMismatch,
}

fn update_device_facts(
    device: &mut DeviceRecord,
    identification: &Identification,
    address: &str,
    now: i64,
) -> Option<FactEvent> {
    device.first_seen.get_or_insert(now);
    if device
        .last_seen
        .is_none_or(|seen| now - seen >= LAST_SEEN_RESOLUTION_SECS)
    {
        device.last_seen = Some(now);
    }
    if device.last_address.as_deref() != Some(address) {
        device.last_address = Some(address.to_string());
    }
    if let Some(firmware) = identification.firmware()
        && device.firmware.as_deref() != Some(firmware)
    {
        device.firmware = Some(firmware.to_string());
    }
    let reported = identification.model()?;
    match &device.model {
        None => {
            device.model = Some(reported.clone());
            device.vendor = identification.vendor().map(str::to_string);
            device.model_source = Some(ModelSource::Auto);
            Some(FactEvent::AutoFilled)
        }
        Some(recorded) if recorded != reported => {
            let already = device
                .model_mismatch
                .as_ref()
                .is_some_and(|m| m.reported_model == reported.as_str());
            device.model_mismatch = Some(ModelMismatch {
                reported_vendor: identification.vendor().map(str::to_string),
                reported_model: reported.to_string(),
                at: if already {
                    device.model_mismatch.as_ref().map_or(now, |m| m.at)
                } else {
                    now
                },
                address: Some(address.to_string()),
            });
            (!already).then_some(FactEvent::ModelMismatch)
        }
        Some(_) => None,
    }
}

/// A firmware the device did not report before, in its event log.
fn note_firmware(app: &App, before: &DeviceRecord, identification: &Identification, now: i64) {
    let Some(reported) = identification.firmware() else {
        return;
    };
    let detail = match before.firmware.as_deref() {
        Some(known) if known == reported => return,
        Some(known) => format!("{known} → {reported}"),
        None => format!("{reported} (first report)"),
    };
    app.device_events
        .record(before.mac, now, EventKind::FirmwareChanged, &detail);
}

async fn log_fact_event(
    app: &App,
    device: &DeviceRecord,
    event: FactEvent,
    address: IpAddr,
    now: i64,
) {
    let model = device
        .model
        .as_ref()
        .map(|m| m.to_string())
        .unwrap_or_default();
    let (kind, detail) = match event {
        FactEvent::AutoFilled => (
            EventKind::ModelReported,
            format!("{} {model}", device.vendor.as_deref().unwrap_or("")),
        ),
        FactEvent::ModelMismatch => (
            EventKind::ModelMismatch,
            format!(
                "reports {}, {model} on record",
                device
                    .model_mismatch
                    .as_ref()
                    .map_or("", |m| m.reported_model.as_str())
            ),
        ),
    };
    app.device_events.record(device.mac, now, kind, &detail);
    let event = match event {
        FactEvent::AutoFilled => Event::phone(
            Kind::ModelFilledIn,
            format!(
                "model filled in from the phone's request: {} {model}",
                device.vendor.as_deref().unwrap_or("")
            ),
        ),
        FactEvent::ModelMismatch => {
            let reported = device
                .model_mismatch
                .as_ref()
                .map(|m| m.reported_model.as_str())
                .unwrap_or("");
            Event::phone(
                Kind::ModelMismatch,
                format!("phone reports model {reported}; {model} is on record"),
            )
        }
    };
    crate::ops::audit::record(app, event.source(address).subject(device.mac)).await
}

/// What a request named, on its way to the seen-unregistered list.
#[derive(Debug)]
pub struct Sighting {
    mac: Mac,
    vendor: Option<String>,
    model: Option<crate::domain::ModelId>,
    firmware: Option<String>,
    address: IpAddr,
    at: i64,
}

/// A refused request for a MAC's files, on its way to the audit trail when the MAC is
/// registered (`kind` is then set).
#[derive(Debug)]
pub struct Refusal {
    mac: Mac,
    kind: Option<Kind>,
    detail: &'static str,
    address: IpAddr,
}

/// What the phone path hands to [`write_sightings`].
#[derive(Debug)]
pub enum Noted {
    Sighting(Sighting),
    Refusal(Refusal),
}

/// The bounded queue between the phone path and [`write_sightings`]. Offering never waits: when
/// the queue is full an entry is dropped and counted (a phone that keeps asking is seen at its
/// next request; dropped refusals are recorded as a count).
pub struct Sightings {
    queue: tokio::sync::mpsc::Sender<Noted>,
    dropped: std::sync::atomic::AtomicU64,
    dropped_refusals: std::sync::atomic::AtomicU64,
    /// Queued and not yet written.
    unwritten: std::sync::atomic::AtomicUsize,
}

pub type SightingReceiver = tokio::sync::mpsc::Receiver<Noted>;

impl Sightings {
    pub fn new(capacity: usize) -> (Sightings, SightingReceiver) {
        let (queue, receiver) = tokio::sync::mpsc::channel(capacity.max(1));
        let sightings = Sightings {
            queue,
            dropped: Default::default(),
            dropped_refusals: Default::default(),
            unwritten: Default::default(),
        };
        (sightings, receiver)
    }

    /// Whether everything queued so far is written (for tests and shutdown).
    pub fn is_idle(&self) -> bool {
        self.unwritten.load(std::sync::atomic::Ordering::SeqCst) == 0
    }

    fn offer(&self, noted: Noted) {
        use std::sync::atomic::Ordering::{Relaxed, SeqCst};
        self.unwritten.fetch_add(1, SeqCst);
        let Err(full) = self.queue.try_send(noted) else {
            return;
        };
        self.unwritten.fetch_sub(1, SeqCst);
        if let Noted::Refusal(Refusal { kind: Some(_), .. }) = full.into_inner() {
            self.dropped_refusals.fetch_add(1, Relaxed);
        }
        let dropped = self.dropped.fetch_add(1, Relaxed);
        if dropped.is_power_of_two() {
            warn!(
                dropped = dropped + 1,
                "sighting queue full: sightings and refusals dropped"
            );
        }
    }
}

/// A refused request for `mac`'s files: recorded in the audit trail as `kind` (only a
/// registered device's refusal has one), off the request path like the sightings, so that
/// the refusal of a registered MAC costs the request what an unknown one's does.
pub fn offer_refusal(
    app: &App,
    mac: Mac,
    kind: Option<Kind>,
    detail: &'static str,
    address: IpAddr,
) {
    app.sightings.offer(Noted::Refusal(Refusal {
        mac,
        kind,
        detail,
        address,
    }));
}

/// How often [`write_sightings`] takes what was queued: in batches on a clock, so its work
/// does not follow the request that caused it (the request after an unknown MAC's would be the
/// slower one).
const BATCH_EVERY: std::time::Duration = std::time::Duration::from_millis(250);

/// Writes what the phone path queued, in batches, until the queue closes: a sighting of a MAC
/// that is registered is left alone, any other goes to the seen-unregistered list within its
/// source's quota; a registered device's refusal goes to the audit trail.
pub async fn write_sightings(app: Arc<App>, mut queue: SightingReceiver) {
    let mut ticks = tokio::time::interval(BATCH_EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut batch = Vec::new();
    loop {
        ticks.tick().await;
        let limit = queue.max_capacity();
        while batch.len() < limit
            && let Ok(noted) = queue.try_recv()
        {
            batch.push(noted);
        }
        if batch.is_empty() && queue.is_closed() {
            return;
        }
        for noted in batch.drain(..) {
            let written = match noted {
                Noted::Sighting(sighting) => write_sighting(&app, sighting).await,
                Noted::Refusal(refusal) => {
                    record_refusal(&app, refusal).await;
                    Ok(())
                }
            };
            if let Err(e) = written {
                tracing::error!(error = %e, "recording an unregistered phone failed");
            }
            app.sightings
                .unwritten
                .fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
        }
        record_dropped_refusals(&app).await;
    }
}

async fn record_refusal(app: &App, refusal: Refusal) {
    match refusal.kind {
        Some(kind) => {
            let event = Event::phone(kind, refusal.detail)
                .source(refusal.address)
                .subject(refusal.mac);
            crate::ops::audit::record(app, event).await
        }
        None => {
            debug!(mac = %refusal.mac, peer = %refusal.address, "config for an unregistered MAC refused")
        }
    }
}

async fn record_dropped_refusals(app: &App) {
    let dropped = app
        .sightings
        .dropped_refusals
        .swap(0, std::sync::atomic::Ordering::Relaxed);
    if dropped > 0 {
        let event = Event::by(
            Kind::EventsSuppressed,
            "deskprov",
            format!("{dropped} refusals of registered devices not recorded: the queue was full"),
        )
        .actor_kind(crate::model::ActorKind::System);
        crate::ops::audit::record(app, event).await
    }
}

async fn write_sighting(app: &App, sighting: Sighting) -> Result<(), StoreError> {
    // A node of a shared store learns of a device registered through another node only once
    // it hears of it: a MAC its memory does not know is asked of the database before it is
    // listed.
    if app.store.device_snapshot(sighting.mac).await?.is_some()
        || (app.store.is_shared() && app.store.device(sighting.mac).await?.is_some())
    {
        return Ok(());
    }
    let now = sighting.at;
    let address = sighting.address.to_string();
    let fresh = UnregisteredRecord {
        mac: sighting.mac,
        vendor: sighting.vendor.clone(),
        model: sighting.model.clone(),
        firmware: sighting.firmware.clone(),
        first_seen: now,
        last_seen: now,
        last_address: Some(address.clone()),
        requests: 1,
        source: Some(super::bans::source_key(sighting.address)),
    };
    let provisioning = &app.config.provisioning;
    let limits = UnregisteredLimits {
        total: provisioning.max_unregistered,
        per_source: provisioning
            .max_unregistered_per_source
            .min(provisioning.max_unregistered),
    };
    let mut refresh = |seen: &mut UnregisteredRecord| {
        if now - seen.last_seen >= LAST_SEEN_RESOLUTION_SECS {
            seen.last_seen = now;
            seen.requests += 1;
        }
        seen.last_address = Some(address.clone());
        if sighting.vendor.is_some() {
            seen.vendor.clone_from(&sighting.vendor);
        }
        if sighting.model.is_some() {
            seen.model.clone_from(&sighting.model);
        }
        if sighting.firmware.is_some() {
            seen.firmware.clone_from(&sighting.firmware);
        }
    };
    debug!(mac = %sighting.mac, %address, "unregistered phone seen");
    single_writes(app)
        .note_unregistered(&fresh, &mut refresh, limits)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identify::identify;

    /// The shortcut must never skip a write the full update would make.
    #[test]
    fn a_sighting_that_is_not_news_changes_nothing() {
        use crate::domain::Secret;
        let mac = Mac::parse("001565aabbcc").unwrap();
        let address: IpAddr = "192.0.2.10".parse().unwrap();
        let identify_as = |ua: &str| identify(ua.as_bytes(), "001565aabbcc.cfg");
        let t46s = identify_as("Yealink SIP-T46S 66.86.0.15 00:15:65:aa:bb:cc");
        let newer = identify_as("Yealink SIP-T46S 66.86.0.20 00:15:65:aa:bb:cc");
        let t54w = identify_as("Yealink SIP-T54W 96.86.0.100 00:15:65:aa:bb:cc");
        let anonymous = identify_as("");
        let mut known = DeviceRecord::blank(mac, 1000, Secret::generate(16));
        update_device_facts(&mut known, &t46s, &address.to_string(), 2000);
        let blank = DeviceRecord::blank(mac, 1000, Secret::generate(16));
        let elsewhere: IpAddr = "192.0.2.11".parse().unwrap();
        let cases = [
            (&known, &t46s, address, 2030),
            (&known, &t46s, address, 2060),
            (&known, &t46s, elsewhere, 2030),
            (&known, &newer, address, 2030),
            (&known, &t54w, address, 2030),
            (&known, &anonymous, address, 2030),
            (&blank, &t46s, address, 2030),
            (&blank, &anonymous, address, 2030),
        ];
        let mut skipped = 0;
        for (i, (device, identification, address, now)) in cases.into_iter().enumerate() {
            let mut updated = device.clone();
            update_device_facts(&mut updated, identification, &address.to_string(), now);
            let changed = updated != *device;
            assert_eq!(
                sighting_is_news(
                    &DeviceSnapshot::of(device.clone()),
                    identification,
                    address,
                    now
                ),
                changed,
                "case {i}"
            );
            skipped += usize::from(!changed);
        }
        assert_eq!(skipped, 2, "the polling cases take the shortcut");
    }
}
