//! A registered device: what the admin set, what the phone reported, its claim and its
//! hot-desk sessions; and a MAC that asked for files without being registered.

use std::collections::BTreeMap;
use std::hash::{BuildHasher, Hasher};
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

use crate::domain::{Extension, Label, Location, Mac, ModelId, ProfileName, Secret};
use crate::keys::KeyLayer;
use crate::settings::Layer;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelSource {
    /// Set by an admin: never overwritten by what a phone reports.
    Admin,
    /// Filled in from the phone's first request.
    Auto,
}

/// A phone reporting another model than the one on record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelMismatch {
    pub reported_vendor: Option<String>,
    pub reported_model: String,
    pub at: i64,
    pub address: Option<String>,
}

/// The phone that took the claim, as its User-Agent named it: the claim grace serves only
/// requests naming the same (a MAC only where the phone's User-Agent carries one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claimer {
    pub vendor: String,
    pub model: Option<ModelId>,
    pub mac: Option<Mac>,
}

/// A request refused for the device soon after its claim, from another address, without
/// credentials, that could have claimed it: most likely the real phone, after someone else
/// took its claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimContest {
    pub at: i64,
    pub address: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceRecord {
    pub mac: Mac,
    pub vendor: Option<String>,
    pub model: Option<ModelId>,
    pub model_source: Option<ModelSource>,
    pub firmware: Option<String>,
    pub label: Option<Label>,
    /// Line (or DECT handset slot) number → the user on it.
    pub lines: BTreeMap<u16, Extension>,
    pub registered_at: i64,
    pub first_seen: Option<i64>,
    pub last_seen: Option<i64>,
    pub last_address: Option<String>,
    pub model_mismatch: Option<ModelMismatch>,
    /// HTTP credentials the server writes into the device's config and then requires.
    pub provisioning_user: String,
    pub provisioning_password: Secret,
    /// When the claim window opened: at registration, or when an admin reset the claim.
    pub claim_opened_at: i64,
    /// The first successful unauthenticated fetch, and from where.
    pub claimed_at: Option<i64>,
    pub claimed_from: Option<String>,
    /// Who took the claim; `None` once the phone proved itself otherwise (the grace is over).
    #[serde(default)]
    pub claimer: Option<Claimer>,
    /// Requests the claim grace has served since the claim.
    #[serde(default)]
    pub claim_grace_used: u32,
    /// Set by the first contest of the claim, cleared when an admin re-keys the device.
    #[serde(default)]
    pub claim_contested: Option<ClaimContest>,
    /// Users log in at this phone with extension and PIN.
    #[serde(default)]
    pub hotdesk: bool,
    /// The secret in the phone's Login and Logout URLs; replaced at every login and logout.
    #[serde(default)]
    pub login_token: Option<Secret>,
    /// Hot-desk logins: line (or DECT handset slot) → who is logged in there.
    #[serde(default)]
    pub sessions: BTreeMap<u16, Session>,
    /// Served only to a connection presenting the device's factory client certificate.
    #[serde(default)]
    pub certificate_required: bool,
    #[serde(default)]
    pub location: Option<Location>,
    /// The settings profile it inherits from, between the defaults and its model's settings.
    #[serde(default)]
    pub profile: Option<ProfileName>,
    /// Settings of this device alone: the last layer of inheritance.
    #[serde(default)]
    pub settings: Layer,
    /// Registered by adopting it from the seen-unregistered list after it asked for its files.
    #[serde(default)]
    pub adopted: bool,
    /// Where the phone last fetched its own file from with proof (its claim, its credentials,
    /// its certificate): SIP NOTIFYs go there. `last_address` is any request's that named the
    /// MAC, which anyone can make, so it must not steer a NOTIFY and its Digest answer.
    #[serde(default)]
    pub proven_address: Option<String>,
    /// Keys of this device alone: the last layer of key inheritance before a logged-in user's.
    #[serde(default, skip_serializing_if = "KeyLayer::is_empty")]
    pub keys: KeyLayer,
    /// Expansion modules attached: keys beyond the phone's own go there.
    #[serde(default)]
    pub expansion_modules: u8,
    /// A layer's keys reached this device's file once: a vendor whose phones keep keys the
    /// config stops naming writes every key position from then on (`Vendor::keeps_unwritten_keys`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub keys_reached: bool,
}

/// Keyed per process, so nobody outside can aim records at a fingerprint collision.
static FINGERPRINT_KEYS: LazyLock<std::hash::RandomState> =
    LazyLock::new(std::hash::RandomState::new);

/// Feeds serde's output straight into a hasher, without building the bytes.
struct HashWriter<'a>(&'a mut std::hash::DefaultHasher);

impl std::io::Write for HashWriter<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.write(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Whether an address a record keeps as text (`proven_address`, `last_address`, a contested
/// claim's) is `address`. Parsed rather than `address` formatted: the phone path asks this on
/// every request, and the text may be any spelling of the address.
pub fn stored_address_is(stored: Option<&str>, address: std::net::IpAddr) -> bool {
    stored.and_then(|text| text.parse::<std::net::IpAddr>().ok()) == Some(address)
}

impl DeviceRecord {
    /// Whether `self` and `other` differ at most in when and from where the phone was last
    /// seen: facts no node serves a phone by, so a shared backend need not tell the other
    /// nodes of such a change (their admin reads come from the database, not from memory).
    pub fn same_but_sightings(&self, other: &DeviceRecord) -> bool {
        let mut unseen = other.clone();
        unseen.first_seen = self.first_seen;
        unseen.last_seen = self.last_seen;
        unseen.last_address.clone_from(&self.last_address);
        *self == unseen
    }

    /// A hash of every field a rendered config can depend on (render_cache.rs). The facts
    /// phones report on each request (last seen, address, claim) are left out, so polling does
    /// not invalidate the device's cached file; the firmware is in, as a vendor may choose the
    /// file's format by it, and it changes only when the phone upgrades. Destructured field by field:
    /// a new field does not compile until someone decides whether configs depend on it.
    pub fn render_fingerprint(&self) -> u64 {
        let DeviceRecord {
            mac,
            vendor,
            model,
            model_source: _,
            firmware,
            label,
            lines,
            registered_at: _,
            first_seen: _,
            last_seen: _,
            last_address: _,
            model_mismatch: _,
            provisioning_user,
            provisioning_password,
            claim_opened_at: _,
            claimed_at: _,
            claimed_from: _,
            claimer: _,
            claim_grace_used: _,
            claim_contested: _,
            hotdesk,
            login_token,
            sessions,
            certificate_required: _,
            location: _,
            profile,
            settings,
            adopted: _,
            proven_address: _,
            keys,
            expansion_modules,
            keys_reached,
        } = self;
        let inputs = (
            mac,
            vendor,
            model,
            firmware,
            label,
            lines,
            provisioning_user,
            provisioning_password,
            hotdesk,
            login_token,
            sessions,
            profile,
            settings,
            keys,
            expansion_modules,
            keys_reached,
        );
        let mut hasher = FINGERPRINT_KEYS.build_hasher();
        serde_json::to_writer(HashWriter(&mut hasher), &inputs).expect("records serialize to JSON");
        hasher.finish()
    }

    /// A device just registered: nothing known of it but its MAC, its claim window open.
    pub fn blank(mac: Mac, now: i64, provisioning_password: Secret) -> DeviceRecord {
        DeviceRecord {
            mac,
            vendor: None,
            model: None,
            model_source: None,
            firmware: None,
            label: None,
            lines: BTreeMap::new(),
            registered_at: now,
            first_seen: None,
            last_seen: None,
            last_address: None,
            model_mismatch: None,
            provisioning_user: mac.to_hex(),
            provisioning_password,
            claim_opened_at: now,
            claimed_at: None,
            claimed_from: None,
            claimer: None,
            claim_grace_used: 0,
            claim_contested: None,
            hotdesk: false,
            certificate_required: false,
            login_token: None,
            sessions: BTreeMap::new(),
            location: None,
            profile: None,
            settings: Layer::new(),
            keys: KeyLayer::default(),
            expansion_modules: 0,
            keys_reached: false,
            adopted: false,
            proven_address: None,
        }
    }
}

/// A user logged in at a hot-desk phone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub extension: Extension,
    pub since: i64,
}

/// Where a user is logged in. The device's [`Session`] is the truth; this pointer lets a login
/// elsewhere find the old phone without scanning, and is checked against the device before use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRef {
    pub mac: Mac,
    pub slot: u16,
}

/// A MAC that asked for files but is not registered, with what its requests revealed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnregisteredRecord {
    pub mac: Mac,
    pub vendor: Option<String>,
    pub model: Option<ModelId>,
    pub firmware: Option<String>,
    pub first_seen: i64,
    pub last_seen: i64,
    pub last_address: Option<String>,
    pub requests: u64,
    /// The request source (`ops::bans::source_key`) whose quota the entry counts against: the
    /// last one that named it. Absent in records written before quotas.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// The bounds of the seen-unregistered list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnregisteredLimits {
    pub total: usize,
    pub per_source: usize,
}
