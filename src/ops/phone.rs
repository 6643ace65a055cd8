//! What a phone's request records: the facts it tells about the phone (auto-fill of the model,
//! firmware, last seen), the seen-unregistered list, the claim, and the files it uploads.
//! Single-record compare-and-swap writes, without the write lock: phones ask far more often
//! than admins write.

use std::net::IpAddr;
use std::sync::Arc;

use tracing::info;

use super::write::single_writes;
use crate::access;
use crate::app::App;
use crate::audit::{Event, Kind};
use crate::domain::Mac;
use crate::identify::Identification;
use crate::model::{ClaimContest, DeviceRecord, ModelMismatch, ModelSource, UnregisteredRecord};
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
    device: &DeviceRecord,
    address: IpAddr,
    now: i64,
) -> Result<(), StoreError> {
    // Every proven fetch comes here: compared without allocating, written only on a change.
    let known = device
        .proven_address
        .as_deref()
        .and_then(|a| a.parse::<IpAddr>().ok());
    let contested_from_here = |d: &DeviceRecord| {
        d.claim_contested
            .as_ref()
            .is_some_and(|c| c.address.parse::<IpAddr>().ok() == Some(address))
    };
    if device.claimed_at.is_some()
        && device.claimer.is_none()
        && known == Some(address)
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

/// Keeps what we know of the requesting MAC current: auto-fill and last seen for registered
/// devices, the seen-unregistered list for others. Writes only what changed. Returns the
/// device as it is now, if registered.
pub async fn note_sighting(
    app: &App,
    mac: Mac,
    identification: &Identification,
    address: IpAddr,
    now: i64,
) -> Result<Option<Arc<DeviceSnapshot>>, StoreError> {
    if let Some(snapshot) = app.store.device_snapshot(mac).await?
        && !sighting_is_news(&snapshot.record, identification, address, now)
    {
        return Ok(Some(snapshot));
    }
    let address = address.to_string();
    let updated = single_writes(app)
        .update_device(mac, |device| {
            update_device_facts(device, identification, &address, now)
        })
        .await?;
    match updated {
        Some((device, event)) => {
            if let Some(event) = event {
                log_fact_event(app, &device, event).await;
            }
            app.store.device_snapshot(mac).await
        }
        None => {
            note_unregistered(app, mac, identification, address, now).await?;
            Ok(None)
        }
    }
}

/// Whether the request tells something the record lacks, so that [`update_device_facts`]
/// would write. A phone polling its config tells nothing new, and this answers without the
/// encode-and-compare of an update. Errs towards yes: a model differing from the record
/// always takes the full way.
fn sighting_is_news(
    device: &DeviceRecord,
    identification: &Identification,
    address: IpAddr,
    now: i64,
) -> bool {
    let seen_lately = device.first_seen.is_some()
        && device
            .last_seen
            .is_some_and(|seen| now - seen < LAST_SEEN_RESOLUTION_SECS);
    let same_address = device
        .last_address
        .as_deref()
        .and_then(|a| a.parse::<IpAddr>().ok())
        == Some(address);
    let firmware_known = identification
        .firmware()
        .is_none_or(|f| device.firmware.as_deref() == Some(f));
    let model_known = identification
        .model()
        .is_none_or(|reported| device.model.as_ref() == Some(reported));
    !(seen_lately && same_address && firmware_known && model_known)
}

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

async fn log_fact_event(app: &App, device: &DeviceRecord, event: FactEvent) {
    let model = device
        .model
        .as_ref()
        .map(|m| m.to_string())
        .unwrap_or_default();
    match event {
        FactEvent::AutoFilled => {
            info!(mac = %device.mac, model, vendor = device.vendor.as_deref().unwrap_or(""), "model filled in from the phone's request")
        }
        FactEvent::ModelMismatch => {
            let reported = device
                .model_mismatch
                .as_ref()
                .map(|m| m.reported_model.as_str())
                .unwrap_or("");
            let mut event = Event::phone(
                Kind::ModelMismatch,
                format!("phone reports model {reported}; {model} is on record"),
            )
            .subject(device.mac);
            if let Some(address) = device.last_address.as_deref().and_then(|a| a.parse().ok()) {
                event = event.source(address);
            }
            crate::ops::audit::record(app, event).await
        }
    }
}

async fn note_unregistered(
    app: &App,
    mac: Mac,
    identification: &Identification,
    address: String,
    now: i64,
) -> Result<(), StoreError> {
    let vendor = identification.vendor().map(str::to_string);
    let model = identification.model().cloned();
    let firmware = identification.firmware().map(str::to_string);
    let refreshed = single_writes(app)
        .update_unregistered(mac, |seen| {
            if now - seen.last_seen >= LAST_SEEN_RESOLUTION_SECS {
                seen.last_seen = now;
                seen.requests += 1;
            }
            seen.last_address = Some(address.clone());
            if vendor.is_some() {
                seen.vendor.clone_from(&vendor);
            }
            if model.is_some() {
                seen.model.clone_from(&model);
            }
            if firmware.is_some() {
                seen.firmware.clone_from(&firmware);
            }
        })
        .await?;
    if refreshed.is_none() {
        info!(%mac, vendor = vendor.as_deref().unwrap_or(""), model = model.as_ref().map(|m| m.as_str()).unwrap_or(""), %address, "unregistered phone seen");
        let record = UnregisteredRecord {
            mac,
            vendor,
            model,
            firmware,
            first_seen: now,
            last_seen: now,
            last_address: Some(address),
            requests: 1,
        };
        single_writes(app)
            .insert_unregistered(&record, app.config.provisioning.max_unregistered)
            .await?;
    }
    Ok(())
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
                sighting_is_news(device, identification, address, now),
                changed,
                "case {i}"
            );
            skipped += usize::from(!changed);
        }
        assert_eq!(skipped, 2, "the polling cases take the shortcut");
    }
}
