//! Whether a request proves to be a device, decided once for all of the phone listener's files:
//! the access decision with its side effects (the claim and its grace, the source's counts
//! towards a ban, contests, the device's guessing throttle, Digest replays), the one refusal,
//! and a banned source's way back in for a device that proves itself.

use std::sync::Arc;

use base64::Engine;
use http::header::{AUTHORIZATION, HeaderValue, WWW_AUTHENTICATE};
use http::{Request, StatusCode};

use super::{Peer, not_found};
use crate::access::{self, Credentials, Denial, Grant, Requester};
use crate::app::App;
use crate::audit::{Event, Kind};
use crate::device_events::EventKind;
use crate::digest::DigestResponse;
use crate::domain::Mac;
use crate::identify::Identification;
use crate::respond::{self, HttpResponse};
use crate::store::{DeviceSnapshot, StoreError};

/// Decides whether the request may have the device's own files; a granted request records
/// what it tells about the device (`ops::phone::note_proven`), a refused one nothing.
/// `may_claim`: a first request in the claim window may take the claim (config files), or only
/// an existing claim or credentials count (stored files).
#[allow(clippy::too_many_arguments)]
pub(super) async fn authorize<B>(
    app: &App,
    request: &Request<B>,
    mac: Mac,
    identification: &Identification,
    peer: Peer,
    now: i64,
    may_claim: bool,
) -> Result<Result<Arc<DeviceSnapshot>, HttpResponse>, StoreError> {
    let device = app.store.device_snapshot(mac).await?;
    let credentials = match presented_credentials(app, request, now) {
        Some(_)
            if guessing_throttled(app, mac, proven_here(device.as_deref(), peer), now).await? =>
        {
            // Unchecked, but still a guess as far as the source's ban goes.
            crate::ops::bans::note_failed_credentials(app, peer.address, now).await?;
            None
        }
        presented => presented,
    };
    let user_agent = identification.user_agent.as_ref();
    let requester = Requester {
        user_agent,
        credentials: credentials.as_ref(),
        client_cert_mac: peer.client_cert.mac(),
        address: peer.address,
    };
    // A phone known to be of a vendor deskprov does not provision (from an earlier User-Agent)
    // gets what its User-Agent gets it, even when a request without one names another
    // vendor's file: the one refusal, and its claim stays open.
    if let Some(d) = &device
        && d.record
            .vendor
            .as_deref()
            .is_some_and(|vendor| !crate::vendors::provisions(vendor))
    {
        return Ok(Err(missing(app, request, peer, now).await?));
    }
    let mut decision = access::device_config(
        &app.config.provisioning,
        device.as_ref().map(|d| &d.record),
        &requester,
        now,
    );
    if decision == Ok(Grant::Credentials) && !not_replayed(app, credentials.as_ref(), now).await? {
        decision = Err(Denial::ReplayedDigest);
    }
    if let Err(denial) = decision {
        crate::ops::bans::note_refused_mac(app, peer.address, mac, now).await?;
        note_contest(app, device.as_deref(), &requester, denial, now).await?;
    }
    let wrong_credentials = match decision {
        Err(Denial::WrongCredentials | Denial::ReplayedDigest) => true,
        // Counted as a registered device's would be, or the ban would tell the MAC unknown.
        Err(Denial::UnknownDevice) => access::would_check_credentials(mac, &requester),
        _ => false,
    };
    if wrong_credentials {
        note_wrong_credentials(app, Some(mac), peer, now).await?;
    }
    let refuse = async |denial| Err(denied(app, mac, peer, denial, now).await);
    use crate::ops::phone::Proof;
    let (device, proof) = match decision {
        Ok(Grant::Claim) if may_claim => {
            match crate::ops::phone::claim(app, mac, peer.address, user_agent, now).await? {
                Some(_) => match app.store.device_snapshot(mac).await? {
                    Some(device) => (device, Proof::Claim),
                    None => return Ok(refuse(Denial::UnknownDevice).await),
                },
                None => return Ok(refuse(Denial::NoCredentials).await),
            }
        }
        Ok(Grant::Claim) => return Ok(refuse(Denial::NoCredentials).await),
        Ok(Grant::Credentials | Grant::Certificate) => (
            device.expect("a grant implies a device"),
            Proof::Credentials,
        ),
        Ok(Grant::ClaimGrace) => {
            let device = device.expect("a grant implies a device");
            if !crate::ops::phone::use_claim_grace(app, &device.record).await? {
                return Ok(refuse(Denial::NoCredentials).await);
            }
            (device, Proof::Claim)
        }
        Err(denial) => return Ok(refuse(denial).await),
    };
    let device =
        crate::ops::phone::note_proven(app, device, identification, peer.address, proof, now)
            .await?;
    Ok(Ok(device))
}

/// A refusal that looks like the real phone arriving after someone else took its claim flags
/// the device for the admin.
async fn note_contest(
    app: &App,
    device: Option<&DeviceSnapshot>,
    requester: &Requester<'_>,
    denial: Denial,
    now: i64,
) -> Result<(), StoreError> {
    match device {
        Some(d)
            if access::contests_claim(
                &app.config.provisioning,
                &d.record,
                requester,
                denial,
                now,
            ) =>
        {
            crate::ops::phone::contest_claim(app, &d.record, requester.address, now).await
        }
        _ => Ok(()),
    }
}

/// A refused request for a device's files, recorded when the device exists, answered like every
/// other refusal.
async fn denied(app: &App, mac: Mac, peer: Peer, denial: Denial, now: i64) -> HttpResponse {
    let kind = match denial {
        Denial::UnknownDevice => None,
        Denial::CertificateMismatch => Some(Kind::CertificateMismatch),
        _ => Some(Kind::ConfigRefused),
    };
    // Recorded off the request path: a registered device's refusal must not take longer.
    crate::ops::phone::offer_refusal(app, mac, kind, denial.as_str(), peer.address);
    // Registered or not alike: an admin asks about a phone nobody registered too.
    app.metrics.refusal(denial);
    app.device_events
        .record(mac, now, EventKind::Refused, denial.as_str());
    refusal(app, now)
}

/// The one answer to whoever may not know whether a file exists: a fresh Digest challenge with
/// Basic offered beside it, so a phone holding credentials sends them.
fn refusal(app: &App, now: i64) -> HttpResponse {
    let mut r = respond::text(StatusCode::UNAUTHORIZED, "authentication required\n");
    let challenge =
        HeaderValue::from_str(&app.nonces.challenge(now)).expect("hex nonce is a valid header");
    r.headers_mut().append(WWW_AUTHENTICATE, challenge);
    r.headers_mut().append(
        WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"deskprov\""),
    );
    r
}

/// A file nobody serves. Only a requester that proved to be a device learns it is missing;
/// anyone else gets the [`refusal`], so unknown names and other phones' files look alike.
pub(super) async fn missing<B>(
    app: &App,
    request: &Request<B>,
    peer: Peer,
    now: i64,
) -> Result<HttpResponse, StoreError> {
    Ok(if proven_device(app, request, peer, now).await? {
        not_found()
    } else {
        refusal(app, now)
    })
}

async fn proven_device<B>(
    app: &App,
    request: &Request<B>,
    peer: Peer,
    now: i64,
) -> Result<bool, StoreError> {
    if let Some(mac) = peer.client_cert.mac() {
        crate::ops::bans::note_proven_mac(app, peer.address, mac, now);
        return Ok(true);
    }
    let Some(credentials) = presented_credentials(app, request, now) else {
        return Ok(false);
    };
    let Ok(mac) = Mac::parse(credentials.user()) else {
        note_wrong_credentials(app, None, peer, now).await?;
        return Ok(false);
    };
    let device = app.store.device(mac).await?;
    let proven_here = device.as_ref().is_some_and(|d| {
        crate::model::stored_address_is(d.proven_address.as_deref(), peer.address)
    });
    if guessing_throttled(app, mac, proven_here, now).await? {
        crate::ops::bans::note_failed_credentials(app, peer.address, now).await?;
        return Ok(false);
    }
    let matched = device
        .as_ref()
        .is_some_and(|device| access::credentials_match(device, &credentials));
    if matched && not_replayed(app, Some(&credentials), now).await? {
        crate::ops::bans::note_proven_mac(app, peer.address, mac, now);
        return Ok(true);
    }
    // The device's count too when it is unknown: the same work, the same throttle.
    note_wrong_credentials(app, Some(mac), peer, now).await?;
    Ok(false)
}

fn proven_here(device: Option<&DeviceSnapshot>, peer: Peer) -> bool {
    device.is_some_and(|d| d.proven_address == Some(peer.address))
}

/// Whether credentials for this MAC go unchecked: too many wrong ones for it lately, and
/// the request does not come from where the device last proved itself. This slows guessing
/// from many sources without locking the device out: its own address is always checked, and
/// from elsewhere the right credentials work again once the throttle ends. An unknown MAC is
/// throttled alike, so the throttle does not tell it from a registered one.
/// `proven_here`: the device last proved itself from the request's address.
async fn guessing_throttled(
    app: &App,
    mac: Mac,
    proven_here: bool,
    now: i64,
) -> Result<bool, StoreError> {
    if proven_here {
        return Ok(false);
    }
    crate::ops::guard::credentials_throttled(app, mac, now).await
}

/// Wrong credentials count towards the source's ban and towards the MAC's guessing throttle
/// (registered or not, alike).
async fn note_wrong_credentials(
    app: &App,
    device: Option<Mac>,
    peer: Peer,
    now: i64,
) -> Result<(), StoreError> {
    crate::ops::bans::note_failed_credentials(app, peer.address, now).await?;
    let Some(mac) = device else {
        return Ok(());
    };
    if let Some(until) = crate::ops::guard::count_failed_credentials(app, mac, now).await? {
        let detail = format!(
            "too many wrong provisioning credentials; until {} they are checked only from the device's last proven address",
            crate::clock::rfc3339(until)
        );
        let event = Event::phone(Kind::ConfigRefused, detail)
            .source(peer.address)
            .subject(mac);
        crate::ops::audit::record(app, event).await;
    }
    Ok(())
}

/// A Digest answer that proved the credentials takes its nonce count; the same header sent
/// again (here or to another node) is refused. Basic has nothing to replay-check.
async fn not_replayed(
    app: &App,
    credentials: Option<&Credentials>,
    now: i64,
) -> Result<bool, StoreError> {
    match credentials {
        Some(Credentials::Digest(digest)) => {
            crate::ops::guard::take_nonce_count(app, digest.nonce(), digest.nonce_count(), now)
                .await
        }
        _ => Ok(true),
    }
}

/// The refusal for a banned source, unless the request proves to be a device (a trusted client
/// certificate, or the right credentials of a registered device): a NAT neighbour sweeping MACs
/// must not ban the office's phones off. While banned, a device's credentials are checked only
/// when its guessing throttle is not in force, not even from its proven address, so a banned
/// guesser gets at most `device_max_failed_credentials` answers per throttle period.
pub(super) async fn banned_unless_proven<B>(
    app: &App,
    request: &Request<B>,
    peer: Peer,
) -> Result<Option<HttpResponse>, StoreError> {
    let now = app.clock.now();
    let Some(until) = crate::ops::bans::banned_until(app, peer.address, now).await? else {
        return Ok(None);
    };
    if peer.client_cert.mac().is_some() {
        return Ok(None);
    }
    let Some(credentials) = presented_credentials(app, request, now) else {
        return Ok(Some(banned(until - now)));
    };
    let Ok(mac) = Mac::parse(credentials.user()) else {
        return Ok(Some(banned(until - now)));
    };
    // An unknown MAC takes the registered one's way: the same reads, the same counts.
    let device = app.store.device(mac).await?;
    if crate::ops::guard::credentials_throttled(app, mac, now).await? {
        return Ok(Some(banned(until - now)));
    }
    // The nonce count of a Digest answer is taken later, by the request's own decision.
    if device
        .as_ref()
        .is_some_and(|device| access::credentials_match(device, &credentials))
    {
        return Ok(None);
    }
    note_wrong_credentials(app, Some(mac), peer, now).await?;
    Ok(Some(banned(until - now)))
}

/// A banned source that did not prove to be a device.
fn banned(retry_after_secs: i64) -> HttpResponse {
    let mut r = respond::text(StatusCode::TOO_MANY_REQUESTS, "too many requests\n");
    let retry = HeaderValue::from_str(&retry_after_secs.max(1).to_string())
        .expect("digits are a valid header");
    r.headers_mut().insert("retry-after", retry);
    r.headers_mut()
        .insert("connection", HeaderValue::from_static("close"));
    r
}

/// Basic or Digest credentials; a Digest answer to a stale or foreign nonce counts as none, so
/// the phone gets a fresh challenge.
fn presented_credentials<B>(app: &App, request: &Request<B>, now: i64) -> Option<Credentials> {
    let value = request.headers().get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if scheme.eq_ignore_ascii_case("digest") {
        let uri = request
            .uri()
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/");
        let method = request.method().as_str();
        return DigestResponse::parse(value, method, uri, &app.nonces, now)
            .map(Credentials::Digest);
    }
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    Credentials::basic(String::from_utf8(decoded).ok()?)
}
