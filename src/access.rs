//! Who may fetch a device's own files, decided in this one place.
//!
//! Policy: common files carry no secrets and go to anyone (not decided here). A registered
//! device's own files (its config, and the files it uploaded and reads back) go
//! (a) to the first request within the claim window after the admin registered the device or
//! reset its claim, if it comes from the claim networks with the User-Agent of a vendor
//! deskprov provisions (the registered vendor and model, where an admin set the model); then,
//! for a short grace while the phone applies what it got, to a few requests from the same
//! address whose User-Agent names the same phone; or (b) to a request presenting the device's
//! provisioning credentials, which the first config handed it; or (c) to a connection whose
//! factory client certificate chains to a vendor CA and names the device's MAC. A MAC is
//! printed on the box and a User-Agent is whatever the sender writes, so (a) only narrows who
//! can take a claim; a claim taken from elsewhere shows when the real phone is refused
//! ([`contests_claim`]). A device marked `certificate_required` takes only (c).

use std::net::IpAddr;

use subtle::ConstantTimeEq;

use crate::config::ProvisioningConfig;
use crate::digest::DigestResponse;
use crate::domain::{Mac, Secret};
use crate::model::{Claimer, DeviceRecord, ModelSource};
use crate::vendors::{self, UaInfo};

/// HTTP credentials as the request presented them.
pub enum Credentials {
    Basic(BasicCredentials),
    /// Already checked for our realm, the requested URI and a fresh nonce.
    Digest(DigestResponse),
}

/// `user:password` as decoded from the header, kept whole (one allocation per request);
/// private, so that `colon` is always where the user ends.
pub struct BasicCredentials {
    decoded: String,
    colon: usize,
}

impl Credentials {
    /// Basic credentials from their decoded `user:password`; `None` without the colon.
    pub fn basic(decoded: String) -> Option<Credentials> {
        let colon = decoded.find(':')?;
        Some(Credentials::Basic(BasicCredentials { decoded, colon }))
    }

    pub fn user(&self) -> &str {
        match self {
            Credentials::Basic(basic) => &basic.decoded[..basic.colon],
            Credentials::Digest(digest) => &digest.username,
        }
    }

    fn proves(&self, password: &Secret) -> bool {
        match self {
            Credentials::Basic(basic) => password.matches(&basic.decoded[basic.colon + 1..]),
            Credentials::Digest(digest) => digest.matches(password.expose()),
        }
    }
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credentials {{ user: {:?}, [redacted] }}", self.user())
    }
}

/// Everything known about who is asking.
pub struct Requester<'a> {
    /// What the User-Agent told (vendor, model, MAC), if a vendor recognised it.
    pub user_agent: Option<&'a UaInfo>,
    pub credentials: Option<&'a Credentials>,
    /// The MAC taken from a verified client certificate.
    pub client_cert_mac: Option<Mac>,
    pub address: IpAddr,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    Credentials,
    Certificate,
    /// The first fetch in the claim window: the caller must record the claim atomically.
    Claim,
    /// The claiming phone from its address, shortly after its claim: the caller must count
    /// it atomically ([`use_claim_grace`]).
    ClaimGrace,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denial {
    UnknownDevice,
    WrongCredentials,
    NoCredentials,
    MacMismatch,
    CertificateMismatch,
    CertificateRequired,
    /// Right Digest credentials, but a nonce count already used: a replayed header.
    ReplayedDigest,
    /// The claim is open, but the User-Agent is not of the registered vendor and model (or of
    /// no vendor deskprov provisions).
    ClaimUserAgent,
    /// The claim is open, but the request comes from outside `provisioning.claim_networks`.
    ClaimNetwork,
}

impl Denial {
    pub fn as_str(self) -> &'static str {
        match self {
            Denial::UnknownDevice => "unknown device",
            Denial::WrongCredentials => "wrong provisioning credentials",
            Denial::NoCredentials => "device already claimed and no credentials given",
            Denial::MacMismatch => "User-Agent MAC differs from the requested device",
            Denial::CertificateMismatch => "client certificate is for another MAC",
            Denial::ReplayedDigest => "Digest answer replayed (nonce count already used)",
            Denial::CertificateRequired => {
                "device requires its factory client certificate and none was presented"
            }
            Denial::ClaimUserAgent => {
                "claim refused: the User-Agent is not of the device's registered vendor and model, or of no vendor deskprov provisions"
            }
            Denial::ClaimNetwork => {
                "claim refused: the address is outside provisioning.claim_networks"
            }
        }
    }
}

pub fn device_config(
    policy: &ProvisioningConfig,
    device: Option<&DeviceRecord>,
    requester: &Requester<'_>,
    now: i64,
) -> Result<Grant, Denial> {
    let device = device.ok_or(Denial::UnknownDevice)?;
    if requester
        .client_cert_mac
        .is_some_and(|mac| mac != device.mac)
    {
        return Err(Denial::CertificateMismatch);
    }
    if requester
        .user_agent
        .and_then(|ua| ua.mac)
        .is_some_and(|mac| mac != device.mac)
    {
        return Err(Denial::MacMismatch);
    }
    if requester.client_cert_mac == Some(device.mac) {
        return Ok(Grant::Certificate);
    }
    if device.certificate_required {
        return Err(Denial::CertificateRequired);
    }
    let presented = requester.credentials;
    if presented.is_some_and(|c| credentials_match(device, c)) {
        return Ok(Grant::Credentials);
    }
    // Wrong credentials still fall through to the claim: a phone carrying stale credentials
    // from an earlier install must be able to take a claim the admin opened for it.
    match claim_or_grace(policy, device, requester, now) {
        Ok(grant) => Ok(grant),
        Err(_) if presented.is_some() => Err(Denial::WrongCredentials),
        Err(denial) => Err(denial),
    }
}

fn claim_or_grace(
    policy: &ProvisioningConfig,
    device: &DeviceRecord,
    requester: &Requester<'_>,
    now: i64,
) -> Result<Grant, Denial> {
    match device.claimed_at {
        None if now < device.claim_opened_at + policy.claim_window_secs as i64 => {
            match claim_refusal(policy, device, requester) {
                Some(denial) => Err(denial),
                None => Ok(Grant::Claim),
            }
        }
        Some(at) if in_claim_grace(policy, device, requester, at, now) => Ok(Grant::ClaimGrace),
        _ => Err(Denial::NoCredentials),
    }
}

/// Why `requester` may not take an open claim, if it may not: a claim comes from the claim
/// networks with the User-Agent of a vendor deskprov provisions, and names the registered
/// vendor and model where an admin set the model (else the phone's model fills in).
fn claim_refusal(
    policy: &ProvisioningConfig,
    device: &DeviceRecord,
    requester: &Requester<'_>,
) -> Option<Denial> {
    if !in_claim_networks(policy, requester.address) {
        return Some(Denial::ClaimNetwork);
    }
    let Some(ua) = requester
        .user_agent
        .filter(|ua| vendors::provisions(ua.vendor))
    else {
        return Some(Denial::ClaimUserAgent);
    };
    let model_set_by_admin = device.model_source == Some(ModelSource::Admin);
    (model_set_by_admin && !names_registered_model(device, ua)).then_some(Denial::ClaimUserAgent)
}

fn names_registered_model(device: &DeviceRecord, ua: &UaInfo) -> bool {
    let same_model = match (&device.model, &ua.model) {
        (Some(registered), Some(reported)) => {
            registered.as_str().eq_ignore_ascii_case(reported.as_str())
        }
        _ => false,
    };
    device.vendor.as_deref() == Some(ua.vendor) && same_model
}

fn in_claim_networks(policy: &ProvisioningConfig, address: IpAddr) -> bool {
    let address = address.to_canonical();
    policy.claim_networks.is_empty()
        || policy
            .claim_networks
            .iter()
            .any(|net| net.contains(&address))
}

/// The grace after a claim: from the claimer's address, with a User-Agent naming the phone
/// that claimed, within `claim_grace_secs`, and `claim_grace_requests` times at most.
fn in_claim_grace(
    policy: &ProvisioningConfig,
    device: &DeviceRecord,
    requester: &Requester<'_>,
    claimed_at: i64,
    now: i64,
) -> bool {
    let same_phone = device
        .claimer
        .as_ref()
        .zip(requester.user_agent)
        .is_some_and(|(claimer, ua)| *claimer == claimer_of(ua));
    claimed_from(device) == Some(requester.address)
        && now < claimed_at + policy.claim_grace_secs as i64
        && device.claim_grace_used < policy.claim_grace_requests
        && same_phone
}

fn claimed_from(device: &DeviceRecord) -> Option<IpAddr> {
    device.claimed_from.as_deref().and_then(|a| a.parse().ok())
}

fn claimer_of(ua: &UaInfo) -> Claimer {
    Claimer {
        vendor: ua.vendor.to_string(),
        model: ua.model.clone(),
        mac: ua.mac,
    }
}

/// Whether this refusal is the signature of a stolen claim: the device was claimed less than
/// a claim window ago from another address, and this request, without credentials, could
/// have taken the claim itself (claim networks, User-Agent). Most likely the real phone,
/// after someone else took its claim.
pub fn contests_claim(
    policy: &ProvisioningConfig,
    device: &DeviceRecord,
    requester: &Requester<'_>,
    denial: Denial,
    now: i64,
) -> bool {
    let recent_claim = device
        .claimed_at
        .is_some_and(|at| now < at + policy.claim_window_secs as i64);
    let claimed_elsewhere = claimed_from(device).is_some_and(|from| from != requester.address);
    denial == Denial::NoCredentials
        && requester.credentials.is_none()
        && requester.client_cert_mac.is_none()
        && recent_claim
        && claimed_elsewhere
        && claim_refusal(policy, device, requester).is_none()
}

pub fn credentials_match(device: &DeviceRecord, presented: &Credentials) -> bool {
    let user_ok: bool = device
        .provisioning_user
        .as_bytes()
        .ct_eq(presented.user().as_bytes())
        .into();
    let password_ok = presented.proves(&device.provisioning_password);
    user_ok & password_ok
}

/// Closes an open claim window, and ends the grace of a claim: the phone proved itself by
/// credentials or certificate, so nobody may now fetch its files without.
pub fn close_claim(device: &mut DeviceRecord, now: i64) {
    if device.claimed_at.is_none() {
        device.claimed_at = Some(now);
        device.claimed_from = None;
    }
    device.claimer = None;
}

/// Whether a registered device with this MAC would have checked the requester's credentials
/// (and so refused them as wrong): credentials presented, no certificate or User-Agent naming
/// another MAC. An unknown MAC's refusal counts as that, so that counting does not tell it
/// from a registered one.
pub fn would_check_credentials(mac: Mac, requester: &Requester<'_>) -> bool {
    requester.credentials.is_some()
        && requester.client_cert_mac.is_none_or(|m| m == mac)
        && requester
            .user_agent
            .and_then(|ua| ua.mac)
            .is_none_or(|m| m == mac)
}

/// Records the claim if nobody has claimed since the decision; `false` if someone did.
/// `user_agent` is the claimer's: the grace serves only requests naming the same phone.
pub fn take_claim(
    device: &mut DeviceRecord,
    address: IpAddr,
    user_agent: Option<&UaInfo>,
    now: i64,
) -> bool {
    if device.claimed_at.is_some() {
        return false;
    }
    device.claimed_at = Some(now);
    device.claimed_from = Some(address.to_string());
    device.claimer = user_agent.map(claimer_of);
    device.claim_grace_used = 0;
    device.proven_address = Some(address.to_string());
    true
}

/// Counts one request served by the grace of the claim taken at `claimed_at`; `false` if the
/// grace was used up (or the claim reset) since the decision.
pub fn use_claim_grace(device: &mut DeviceRecord, claimed_at: i64, limit: u32) -> bool {
    if device.claimed_at != Some(claimed_at)
        || device.claimer.is_none()
        || device.claim_grace_used >= limit
    {
        return false;
    }
    device.claim_grace_used += 1;
    true
}

/// A new claim window, as for a device just registered; a contest of the old claim is cleared.
pub fn reopen_claim(device: &mut DeviceRecord, now: i64) {
    device.claim_opened_at = now;
    device.claimed_at = None;
    device.claimed_from = None;
    device.claimer = None;
    device.claim_grace_used = 0;
    device.claim_contested = None;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ModelId;

    const ADDRESS: &str = "192.0.2.10";

    fn device() -> DeviceRecord {
        DeviceRecord::blank(
            Mac::parse("001565aabbcc").unwrap(),
            1000,
            Secret::from_trusted("p4ssw0rdp4ssw0rd".into()),
        )
    }

    /// A T46S registered by an admin.
    fn t46s() -> DeviceRecord {
        let mut d = device();
        d.vendor = Some("yealink".into());
        d.model = Some(ModelId::parse("T46S").unwrap());
        d.model_source = Some(ModelSource::Admin);
        d
    }

    fn user_agent(vendor: &'static str, model: &str, mac: Option<&str>) -> UaInfo {
        UaInfo {
            vendor,
            model: Some(ModelId::parse(model).unwrap()),
            firmware: None,
            mac: mac.map(|m| Mac::parse(m).unwrap()),
        }
    }

    fn t46s_ua() -> UaInfo {
        user_agent("yealink", "T46S", Some("001565aabbcc"))
    }

    fn requester<'a>(credentials: Option<&'a Credentials>) -> Requester<'a> {
        Requester {
            user_agent: None,
            credentials,
            client_cert_mac: None,
            address: ADDRESS.parse().unwrap(),
        }
    }

    fn phone(ua: &UaInfo) -> Requester<'_> {
        Requester {
            user_agent: Some(ua),
            ..requester(None)
        }
    }

    fn claimed(mut d: DeviceRecord, ua: &UaInfo, at: i64) -> DeviceRecord {
        assert!(take_claim(&mut d, ADDRESS.parse().unwrap(), Some(ua), at));
        d
    }

    #[test]
    fn claim_window_then_credentials() {
        let policy = ProvisioningConfig::default();
        let ua = t46s_ua();
        let mut d = device();
        assert_eq!(
            device_config(&policy, Some(&d), &phone(&ua), 1500),
            Ok(Grant::Claim)
        );
        assert_eq!(
            device_config(&policy, Some(&d), &phone(&ua), 1000 + 3600),
            Err(Denial::NoCredentials)
        );

        assert!(take_claim(
            &mut d,
            ADDRESS.parse().unwrap(),
            Some(&ua),
            1500
        ));
        assert!(!take_claim(
            &mut d,
            "192.0.2.11".parse().unwrap(),
            Some(&ua),
            1501
        ));
        assert_eq!(
            device_config(&policy, Some(&d), &phone(&ua), 1600),
            Ok(Grant::ClaimGrace)
        );
        let mut other = phone(&ua);
        other.address = "192.0.2.99".parse().unwrap();
        assert_eq!(
            device_config(&policy, Some(&d), &other, 1600),
            Err(Denial::NoCredentials)
        );
        assert_eq!(
            device_config(&policy, Some(&d), &phone(&ua), 1500 + 300),
            Err(Denial::NoCredentials)
        );

        let good = Credentials::basic("001565aabbcc:p4ssw0rdp4ssw0rd".into()).unwrap();
        let bad = Credentials::basic("001565aabbcc:p4ssw0rdp4ssw0rX".into()).unwrap();
        assert_eq!(
            device_config(&policy, Some(&d), &requester(Some(&good)), 99_999),
            Ok(Grant::Credentials)
        );
        assert_eq!(
            device_config(&policy, Some(&d), &requester(Some(&bad)), 99_999),
            Err(Denial::WrongCredentials)
        );
    }

    #[test]
    fn a_claim_needs_a_provisioned_vendors_user_agent_and_the_registered_model() {
        let policy = ProvisioningConfig::default();
        let (t46s_ua, t54w_ua) = (
            t46s_ua(),
            user_agent("yealink", "T54W", Some("001565aabbcc")),
        );
        let linksys = user_agent("linksys", "SPA942", None);
        let decide = |d: &DeviceRecord, r: &Requester<'_>| device_config(&policy, Some(d), r, 1500);
        // Without a model on record: any vendor deskprov provisions, but a User-Agent it is.
        assert_eq!(
            decide(&device(), &requester(None)),
            Err(Denial::ClaimUserAgent)
        );
        assert_eq!(
            decide(&device(), &phone(&linksys)),
            Err(Denial::ClaimUserAgent)
        );
        assert_eq!(decide(&device(), &phone(&t54w_ua)), Ok(Grant::Claim));
        // A model an admin set: that vendor and model only.
        assert_eq!(
            decide(&t46s(), &phone(&t54w_ua)),
            Err(Denial::ClaimUserAgent)
        );
        let cisco = user_agent("cisco", "T46S", None);
        assert_eq!(decide(&t46s(), &phone(&cisco)), Err(Denial::ClaimUserAgent));
        assert_eq!(decide(&t46s(), &phone(&t46s_ua)), Ok(Grant::Claim));
        // A model the phone reported (auto) does not bind: another request may have set it.
        let mut auto = t46s();
        auto.model_source = Some(ModelSource::Auto);
        assert_eq!(decide(&auto, &phone(&t54w_ua)), Ok(Grant::Claim));
        // Stale credentials are still wrong credentials, not a claim.
        let stale = Credentials::basic("001565aabbcc:old".into()).unwrap();
        let with_stale = Requester {
            credentials: Some(&stale),
            ..phone(&t54w_ua)
        };
        assert_eq!(decide(&t46s(), &with_stale), Err(Denial::WrongCredentials));
    }

    #[test]
    fn claims_come_only_from_the_claim_networks() {
        let policy = ProvisioningConfig {
            claim_networks: vec![
                "192.0.2.0/28".parse().unwrap(),
                "2001:db8::/32".parse().unwrap(),
            ],
            ..ProvisioningConfig::default()
        };
        let ua = t46s_ua();
        let from = |address: &str| Requester {
            address: address.parse().unwrap(),
            ..phone(&ua)
        };
        let decide = |r: &Requester<'_>| device_config(&policy, Some(&t46s()), r, 1500);
        assert_eq!(decide(&from("192.0.2.10")), Ok(Grant::Claim));
        assert_eq!(decide(&from("::ffff:192.0.2.10")), Ok(Grant::Claim));
        assert_eq!(decide(&from("2001:db8::7")), Ok(Grant::Claim));
        assert_eq!(decide(&from("192.0.2.16")), Err(Denial::ClaimNetwork));
        assert_eq!(decide(&from("198.51.100.1")), Err(Denial::ClaimNetwork));
    }

    #[test]
    fn the_grace_serves_the_same_phone_from_its_address_a_few_times() {
        let policy = ProvisioningConfig::default();
        let ua = t46s_ua();
        let mut d = claimed(t46s(), &ua, 1500);
        let decide = |d: &DeviceRecord, r: &Requester<'_>| device_config(&policy, Some(d), r, 1600);
        assert_eq!(decide(&d, &requester(None)), Err(Denial::NoCredentials));
        let without_mac = user_agent("yealink", "T46S", None);
        assert_eq!(decide(&d, &phone(&without_mac)), Err(Denial::NoCredentials));
        let t54w = user_agent("yealink", "T54W", Some("001565aabbcc"));
        assert_eq!(decide(&d, &phone(&t54w)), Err(Denial::NoCredentials));
        for _ in 0..policy.claim_grace_requests {
            assert_eq!(decide(&d, &phone(&ua)), Ok(Grant::ClaimGrace));
            assert!(use_claim_grace(&mut d, 1500, policy.claim_grace_requests));
        }
        assert_eq!(decide(&d, &phone(&ua)), Err(Denial::NoCredentials));
        assert!(!use_claim_grace(&mut d, 1500, policy.claim_grace_requests));

        // A phone whose User-Agent carries no MAC (Poly) is the same phone without one.
        let poly = user_agent("polycom", "VVX400", None);
        let mut vvx = device();
        vvx.vendor = Some("polycom".into());
        let vvx = claimed(vvx, &poly, 1500);
        assert_eq!(decide(&vvx, &phone(&poly)), Ok(Grant::ClaimGrace));

        // Proof by credentials ends the grace; so does a reset claim.
        let mut proven = claimed(t46s(), &ua, 1500);
        close_claim(&mut proven, 1550);
        assert_eq!(decide(&proven, &phone(&ua)), Err(Denial::NoCredentials));
        let mut reset = claimed(t46s(), &ua, 1500);
        reopen_claim(&mut reset, 1550);
        assert!(!use_claim_grace(
            &mut reset,
            1500,
            policy.claim_grace_requests
        ));
    }

    #[test]
    fn a_refusal_contests_a_claim_taken_elsewhere_by_a_phone_that_could_have_claimed() {
        let policy = ProvisioningConfig::default();
        let ua = t46s_ua();
        let d = claimed(t46s(), &ua, 1500);
        fn elsewhere(ua: Option<&UaInfo>) -> Requester<'_> {
            Requester {
                user_agent: ua,
                address: "192.0.2.77".parse().unwrap(),
                ..requester(None)
            }
        }
        let contests = |r: &Requester<'_>, now: i64| {
            let denial = device_config(&policy, Some(&d), r, now).unwrap_err();
            contests_claim(&policy, &d, r, denial, now)
        };
        assert!(contests(&elsewhere(Some(&ua)), 1600));
        // Not from the claimer's own address, not a claim window after, not without a
        // User-Agent that could have claimed, not with credentials.
        assert!(!contests(&phone(&ua), 99_999));
        assert!(!contests(&elsewhere(Some(&ua)), 1500 + 3600));
        assert!(!contests(&elsewhere(None), 1600));
        let t54w = user_agent("yealink", "T54W", Some("001565aabbcc"));
        assert!(!contests(&elsewhere(Some(&t54w)), 1600));
        let wrong = Credentials::basic("001565aabbcc:guess".into()).unwrap();
        let guessing = Requester {
            credentials: Some(&wrong),
            ..elsewhere(Some(&ua))
        };
        assert!(!contests(&guessing, 1600));
        // A claim closed by credentials was nobody's claim to steal.
        let mut proven = t46s();
        close_claim(&mut proven, 1500);
        let r = elsewhere(Some(&ua));
        assert!(!contests_claim(
            &policy,
            &proven,
            &r,
            Denial::NoCredentials,
            1600
        ));
    }

    #[test]
    fn unknown_and_foreign_requesters() {
        let policy = ProvisioningConfig::default();
        let d = device();
        assert_eq!(
            device_config(&policy, None, &requester(None), 1500),
            Err(Denial::UnknownDevice)
        );
        let other_mac = user_agent("yealink", "T46S", Some("001565000000"));
        assert_eq!(
            device_config(&policy, Some(&d), &phone(&other_mac), 1500),
            Err(Denial::MacMismatch)
        );
        let mut r = requester(None);
        r.client_cert_mac = Some(Mac::parse("001565000000").unwrap());
        assert_eq!(
            device_config(&policy, Some(&d), &r, 1500),
            Err(Denial::CertificateMismatch)
        );
    }

    #[test]
    fn certificate_required_devices_take_only_their_certificate() {
        let policy = ProvisioningConfig::default();
        let mut d = device();
        d.certificate_required = true;
        let good = Credentials::basic("001565aabbcc:p4ssw0rdp4ssw0rd".into()).unwrap();
        let ua = t46s_ua();
        // Neither the claim window nor the right credentials suffice.
        assert_eq!(
            device_config(&policy, Some(&d), &phone(&ua), 1500),
            Err(Denial::CertificateRequired)
        );
        assert_eq!(
            device_config(&policy, Some(&d), &requester(Some(&good)), 1500),
            Err(Denial::CertificateRequired)
        );
        let mut r = requester(None);
        r.client_cert_mac = Some(d.mac);
        assert_eq!(
            device_config(&policy, Some(&d), &r, 99_999),
            Ok(Grant::Certificate)
        );
    }
}
