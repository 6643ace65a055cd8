//! Who may fetch a device's own config, decided in this one place.
//!
//! Policy: common files carry no secrets and go to anyone (not decided here). A registered
//! device's own config goes (a) to the first request within the claim window after the admin
//! registered the device or reset its claim, then to the same address for a short grace while
//! the phone applies what it got, or (b) to a request presenting the device's provisioning
//! credentials, which the first config handed it, or (c) to a connection whose factory client
//! certificate chains to a vendor CA and names the device's MAC. A MAC is printed on the box,
//! so naming it proves nothing. A device marked `certificate_required` takes only (c).

use std::net::IpAddr;

use subtle::ConstantTimeEq;

use crate::config::ProvisioningConfig;
use crate::digest::DigestResponse;
use crate::domain::{Mac, Secret};
use crate::model::DeviceRecord;

/// HTTP credentials as the request presented them.
pub enum Credentials {
    Basic {
        user: String,
        password: String,
    },
    /// Already checked for our realm, the requested URI and a fresh nonce.
    Digest(DigestResponse),
}

impl Credentials {
    pub fn user(&self) -> &str {
        match self {
            Credentials::Basic { user, .. } => user,
            Credentials::Digest(digest) => &digest.username,
        }
    }

    fn proves(&self, password: &Secret) -> bool {
        match self {
            Credentials::Basic {
                password: presented,
                ..
            } => password.matches(presented),
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
    /// The MAC in the phone's User-Agent, if it sent one.
    pub user_agent_mac: Option<Mac>,
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
    /// The claimer's address, shortly after its claim.
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
        .user_agent_mac
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
    match claimable(policy, device, requester.address, now) {
        Some(grant) => Ok(grant),
        None if presented.is_some() => Err(Denial::WrongCredentials),
        None => Err(Denial::NoCredentials),
    }
}

fn claimable(
    policy: &ProvisioningConfig,
    device: &DeviceRecord,
    address: IpAddr,
    now: i64,
) -> Option<Grant> {
    match device.claimed_at {
        None => {
            (now < device.claim_opened_at + policy.claim_window_secs as i64).then_some(Grant::Claim)
        }
        Some(at) => {
            let same_address = device.claimed_from.as_deref() == Some(address.to_string().as_str());
            (same_address && now < at + policy.claim_grace_secs as i64).then_some(Grant::ClaimGrace)
        }
    }
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

/// Closes an open claim window without granting anyone the claim grace: the phone proved
/// itself by credentials or certificate, so nobody may now claim its config.
pub fn close_claim(device: &mut DeviceRecord, now: i64) {
    if device.claimed_at.is_none() {
        device.claimed_at = Some(now);
        device.claimed_from = None;
    }
}

/// Whether a registered device with this MAC would have checked the requester's credentials
/// (and so refused them as wrong): credentials presented, no certificate or User-Agent naming
/// another MAC. An unknown MAC's refusal counts as that, so that counting does not tell it
/// from a registered one.
pub fn would_check_credentials(mac: Mac, requester: &Requester<'_>) -> bool {
    requester.credentials.is_some()
        && requester.client_cert_mac.is_none_or(|m| m == mac)
        && requester.user_agent_mac.is_none_or(|m| m == mac)
}

/// Records the claim if nobody has claimed since the decision; `false` if someone did.
pub fn take_claim(device: &mut DeviceRecord, address: IpAddr, now: i64) -> bool {
    if device.claimed_at.is_some() {
        return false;
    }
    device.claimed_at = Some(now);
    device.claimed_from = Some(address.to_string());
    device.proven_address = Some(address.to_string());
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device() -> DeviceRecord {
        DeviceRecord::blank(
            Mac::parse("001565aabbcc").unwrap(),
            1000,
            Secret::from_trusted("p4ssw0rdp4ssw0rd".into()),
        )
    }

    fn requester<'a>(credentials: Option<&'a Credentials>) -> Requester<'a> {
        Requester {
            user_agent_mac: None,
            credentials,
            client_cert_mac: None,
            address: "192.0.2.10".parse().unwrap(),
        }
    }

    #[test]
    fn claim_window_then_credentials() {
        let policy = ProvisioningConfig::default();
        let mut d = device();
        assert_eq!(
            device_config(&policy, Some(&d), &requester(None), 1500),
            Ok(Grant::Claim)
        );
        assert_eq!(
            device_config(&policy, Some(&d), &requester(None), 1000 + 3600),
            Err(Denial::NoCredentials)
        );

        assert!(take_claim(&mut d, "192.0.2.10".parse().unwrap(), 1500));
        assert!(!take_claim(&mut d, "192.0.2.11".parse().unwrap(), 1501));
        assert_eq!(
            device_config(&policy, Some(&d), &requester(None), 1600),
            Ok(Grant::ClaimGrace)
        );
        let mut other = requester(None);
        other.address = "192.0.2.99".parse().unwrap();
        assert_eq!(
            device_config(&policy, Some(&d), &other, 1600),
            Err(Denial::NoCredentials)
        );
        assert_eq!(
            device_config(&policy, Some(&d), &requester(None), 1500 + 300),
            Err(Denial::NoCredentials)
        );

        let good = Credentials::Basic {
            user: "001565aabbcc".into(),
            password: "p4ssw0rdp4ssw0rd".into(),
        };
        let bad = Credentials::Basic {
            user: "001565aabbcc".into(),
            password: "p4ssw0rdp4ssw0rX".into(),
        };
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
    fn unknown_and_foreign_requesters() {
        let policy = ProvisioningConfig::default();
        let d = device();
        assert_eq!(
            device_config(&policy, None, &requester(None), 1500),
            Err(Denial::UnknownDevice)
        );
        let mut r = requester(None);
        r.user_agent_mac = Some(Mac::parse("001565000000").unwrap());
        assert_eq!(
            device_config(&policy, Some(&d), &r, 1500),
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
        let good = Credentials::Basic {
            user: "001565aabbcc".into(),
            password: "p4ssw0rdp4ssw0rd".into(),
        };
        // Neither the claim window nor the right credentials suffice.
        assert_eq!(
            device_config(&policy, Some(&d), &requester(None), 1500),
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
