//! The parts of a device's render context that only some sites use: the company phonebook,
//! the LDAP directory, the PBX's feature codes, the keys with the hot-desk login key, and the
//! hot-desk screens' URLs.

use super::*;

#[derive(Serialize)]
pub(super) struct PhonebookContext {
    url: String,
    /// The URL with the device's provisioning credentials in it, for phones that take them
    /// that way (Snom's `setting_server` precedent).
    url_with_credentials: String,
    /// `host[:port]/path/phonebook/<mac>` without scheme: the directory a phone fetches
    /// `phonebook.xml` from (Grandstream's "Phonebook XML Server Path").
    server_path: String,
    title: &'static str,
    refresh_minutes: u32,
    refresh_seconds: u32,
}

pub(super) fn phonebook(
    settings: &Settings,
    base_url: &str,
    device: &DeviceRecord,
) -> Option<PhonebookContext> {
    let minutes = settings.phonebook_refresh_minutes?;
    let file = format!(
        "{}{}.xml",
        crate::phonebook::URL_DIRECTORY,
        device.mac.to_hex()
    );
    let directory = format!("{}{}", crate::phonebook::URL_DIRECTORY, device.mac.to_hex());
    let with_credentials = with_credentials(
        base_url,
        &device.provisioning_user,
        device.provisioning_password.expose(),
    );
    let without_scheme = base_url
        .split_once("://")
        .map_or(base_url, |(_, rest)| rest);
    Some(PhonebookContext {
        url: format!("{base_url}{file}"),
        url_with_credentials: format!("{with_credentials}{file}"),
        server_path: format!("{without_scheme}{directory}"),
        title: crate::phonebook::TITLE,
        refresh_minutes: minutes,
        refresh_seconds: minutes * 60,
    })
}

/// The `ldap_*` settings, the port resolved (389, or 636 for LDAPS, when none is set).
#[derive(Serialize)]
pub(super) struct LdapContext<'a> {
    server: &'a str,
    port: u16,
    /// `none`, `starttls` or `ldaps`.
    tls: crate::domain::LdapTls,
    base: Option<&'a str>,
    user: Option<&'a str>,
    password: Option<&'a str>,
    name_filter: &'a str,
    number_filter: &'a str,
    name_attr: &'a str,
    number_attr: &'a str,
    name_display: &'a str,
}

pub(super) fn ldap(settings: &Settings) -> Option<LdapContext<'_>> {
    Some(LdapContext {
        server: settings.ldap_server.as_deref()?,
        port: settings
            .ldap_port
            .unwrap_or_else(|| settings.ldap_tls.default_port()),
        tls: settings.ldap_tls,
        base: settings.ldap_base.as_deref(),
        user: settings.ldap_user.as_deref(),
        password: settings.ldap_password.as_deref(),
        name_filter: &settings.ldap_name_filter,
        number_filter: &settings.ldap_number_filter,
        name_attr: &settings.ldap_name_attr,
        number_attr: &settings.ldap_number_attr,
        name_display: &settings.ldap_name_display,
    })
}

#[derive(Serialize)]
pub(super) struct FeatureCodes<'a> {
    pickup_direct: Option<&'a str>,
    pickup_group: Option<&'a str>,
    park: Option<&'a str>,
    park_retrieve: Option<&'a str>,
}

pub(super) fn feature_codes(settings: &Settings) -> FeatureCodes<'_> {
    FeatureCodes {
        pickup_direct: settings.pickup_direct_code.as_deref(),
        pickup_group: settings.pickup_group_code.as_deref(),
        park: settings.park_code.as_deref(),
        park_retrieve: settings.park_retrieve_code.as_deref(),
    }
}

/// One key as a template writes it; `vendor` holds the vendor's own codes and key names.
#[derive(Serialize)]
pub(super) struct KeyContext {
    /// 1-based, on the phone or on `module`.
    position: u16,
    module: Option<u8>,
    /// The key counted over the phone's own keys and then each module's (Poly's `lineKey.x`).
    number: u16,
    /// Which key of its type this is, in position order from 1 (Poly's BLF keys take the
    /// attendant resource list in this order).
    nth: usize,
    #[serde(rename = "type")]
    kind: &'static str,
    /// A hot-desk key's value is its login URL.
    value: Option<String>,
    /// The key's label, or the watched colleague's name, or a hot-desk key's Login/Logout.
    label: Option<String>,
    line: u16,
    vendor: serde_json::Value,
}

#[derive(Serialize)]
pub(super) struct HotdeskContext {
    /// The desk phone's login key: `Login` while nobody is on line 1, else `Logout` (DECT
    /// handsets use the menu instead).
    pub(super) key_label: &'static str,
    pub(super) key_url: String,
    pub(super) pin_url: String,
    /// Log in, or log out and change PIN, depending on who asks (DECT handsets).
    pub(super) menu_url: String,
    /// The menu URL split for phones that take a server and a path (Snom M900):
    /// `https://host:port` and `/hotdesk/{token}/menu`.
    pub(super) menu_location: String,
    pub(super) menu_path: String,
}

/// The keys a device file writes, from the effective keys.
pub(super) struct KeyPlan {
    /// The keys that fit and that the vendor writes, each with its vendor's codes.
    pub(super) keys: Vec<KeyContext>,
    /// The hot-desk login key where the key list does not carry it: while deskprov writes no
    /// keys (the phone keeps its own, so the vendor puts the login key on a soft key), or where
    /// the vendor writes a hot-desk key only there (`key_values` null for it).
    pub(super) login_key: Option<LoginKeyContext>,
    /// Where the key list carries the login key.
    pub(super) login_key_at: Option<KeyPosition>,
    /// Whether the file writes keys (some layer sets one, or a vendor clears unnamed ones).
    pub(super) written: bool,
    /// Positions within the model's keys (and its attached modules') that no key takes, for a
    /// vendor whose phones keep a key the config stops naming: written explicitly empty.
    pub(super) cleared: Vec<KeyPosition>,
}

impl KeyPlan {
    /// The speed-dial keys written, as entries of the phone's local directory: the n-th
    /// speed-dial key is entry n (Poly's `<sd>`), labelled as the key is.
    pub(super) fn speed_dials(&self) -> Vec<crate::phonebook::SpeedDial> {
        self.keys
            .iter()
            .filter(|k| k.kind == crate::keys::KeyType::SpeedDial.as_str())
            .filter_map(|k| {
                let number = k.value.clone()?;
                Some(crate::phonebook::SpeedDial {
                    index: k.nth,
                    label: k.label.clone().unwrap_or_else(|| number.clone()),
                    number,
                })
            })
            .collect()
    }
}

/// The hot-desk key as a template writes it outside the key list.
#[derive(Serialize)]
pub(super) struct LoginKeyContext {
    /// Login or Logout, or the label a layer gave the key.
    label: String,
    /// The login (or logout) screen.
    value: String,
}

/// A key's number counted over the phone's own keys and then each module's in turn.
fn counted_over_modules(capacity: crate::keys::effective::KeyCapacity, at: KeyPosition) -> u16 {
    match at.module {
        None => at.position,
        Some(module) => capacity
            .line_keys
            .saturating_add(u16::from(module - 1).saturating_mul(capacity.keys_per_module))
            .saturating_add(at.position),
    }
}

/// The effective keys as the vendor writes them. Keys are written while some layer sets one,
/// and by a vendor whose phones keep unnamed keys also once the device has had keys (so that
/// keys cleared later are cleared on the phone). Otherwise none: the phone keeps its own
/// defaults and a site that programs no keys gets the files it always got. A hot-desk key only
/// on a hot-desk phone, opening its login screen.
pub(super) fn key_plan(
    vendor: &dyn Vendor,
    device: &DeviceRecord,
    row: Option<&ModelRow>,
    keys: &crate::keys::effective::Resolved,
    hotdesk: Option<&HotdeskContext>,
) -> KeyPlan {
    let all = || keys.keys.iter().chain(&keys.beyond_capacity);
    let capacity = row.map_or(crate::keys::effective::KeyCapacity::NONE, |r| r.keys);
    let set_by_a_layer = all().any(|k| k.origin != crate::keys::effective::KeyOrigin::Default);
    let clears = vendor.keeps_unwritten_keys() && (set_by_a_layer || device.keys_reached);
    let login = |k: &crate::keys::effective::EffectiveKey, h: &HotdeskContext| LoginKeyContext {
        label: k.shown_label.clone().unwrap_or(h.key_label.to_string()),
        value: h.key_url.clone(),
    };
    let mut plan = KeyPlan {
        keys: Vec::new(),
        login_key: None,
        login_key_at: None,
        written: set_by_a_layer || clears,
        cleared: Vec::new(),
    };
    if plan.written {
        for k in &keys.keys {
            let is_login = k.key.kind == crate::keys::KeyType::Hotdesk;
            let value = match (is_login, hotdesk) {
                (true, None) => continue,
                (true, Some(h)) => Some(h.key_url.clone()),
                (false, _) => k.key.value.clone(),
            };
            let codes = vendor.key_values(&k.key);
            if codes.is_null() {
                continue;
            }
            if is_login {
                plan.login_key_at = Some(k.key.at);
            }
            let nth = 1 + plan
                .keys
                .iter()
                .filter(|p| p.kind == k.key.kind.as_str())
                .count();
            plan.keys.push(KeyContext {
                position: k.key.at.position,
                module: k.key.at.module,
                number: counted_over_modules(capacity, k.key.at),
                nth,
                kind: k.key.kind.as_str(),
                value,
                label: match (is_login, hotdesk) {
                    (true, Some(h)) => Some(login(k, h).label),
                    _ => k.shown_label.clone(),
                },
                line: k.key.line,
                vendor: codes,
            });
        }
    }
    if plan.login_key_at.is_none()
        && let Some(h) = hotdesk
    {
        plan.login_key = all()
            .find(|k| k.key.kind == crate::keys::KeyType::Hotdesk)
            .map(|k| login(k, h));
    }
    if clears {
        let taken: std::collections::BTreeSet<KeyPosition> = plan
            .keys
            .iter()
            .map(|k| KeyPosition {
                module: k.module,
                position: k.position,
            })
            .collect();
        plan.cleared = crate::keys::effective::positions(capacity, device.expansion_modules)
            .filter(|p| !taken.contains(p))
            .collect();
    }
    plan
}
