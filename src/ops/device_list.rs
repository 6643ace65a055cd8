//! Reading devices as the lists show them: the filter the API's `GET /devices` and the
//! console's device list share, a filtered page in MAC order read through the store's cursor,
//! and a device's config as the phone gets it with every secret masked.

use crate::app::App;
use crate::domain::Mac;
use crate::model::DeviceRecord;
use crate::settings::{AllLayers, Key};
use crate::store::{Needle, StoreError};

/// Longest search text; a longer one is cut, not refused.
pub const MAX_SEARCH_CHARS: usize = 64;
/// What a masked secret reads as in a preview.
pub const MASK: &str = "********";

/// Which devices a list shows; every property given must hold, `None` leaves it open.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceFilter {
    /// Lower-case text found in the MAC, label, location, model or a line's extension.
    search: String,
    pub unassigned: Option<bool>,
    pub hotdesk: Option<bool>,
    pub auto_registered: Option<bool>,
    /// Not seen for at least this many days, or never.
    pub not_seen_days: Option<u32>,
    pub never_seen: Option<bool>,
    pub model: Option<String>,
    pub profile: Option<String>,
    /// Text the location contains (any case).
    pub location: Option<String>,
    pub firmware_outdated: Option<bool>,
    pub claim_contested: Option<bool>,
    /// The phone reported another model than the one on record.
    pub mismatch: Option<bool>,
}

impl DeviceFilter {
    pub fn with_search(mut self, text: &str) -> DeviceFilter {
        let cut: String = text.trim().chars().take(MAX_SEARCH_CHARS).collect();
        self.search = cut.to_lowercase();
        self
    }

    pub fn search(&self) -> &str {
        &self.search
    }

    /// Whether the filter needs every device's effective settings.
    pub fn needs_settings(&self) -> bool {
        self.firmware_outdated.is_some()
    }

    /// Text that one of the fields of every device the filter keeps holds exactly, for the
    /// store to skip the others undecoded: the model in its stored, upper-case form
    /// ([`crate::domain::ModelId::parse`]), or the profile's name.
    pub fn held_text(&self) -> Option<String> {
        let model = self.model.as_deref().map(str::to_ascii_uppercase);
        model.or_else(|| self.profile.clone())
    }

    /// `layers` resolve a device's settings; given when [`DeviceFilter::needs_settings`].
    pub fn keeps(&self, d: &DeviceRecord, now: i64, layers: Option<&AllLayers>) -> bool {
        let wanted = |want: Option<bool>, has: bool| want.is_none_or(|w| w == has);
        let outdated =
            || layers.is_some_and(|l| l.of_device(d).firmware_outdated(d.firmware.as_deref()));
        let assigned = !d.lines.is_empty() || !d.sessions.is_empty();
        let unseen_since = |days: u32| now - i64::from(days) * 86_400;
        wanted(self.unassigned, !assigned)
            && wanted(self.hotdesk, d.hotdesk)
            && wanted(self.auto_registered, d.adopted)
            && wanted(self.never_seen, d.last_seen.is_none())
            && wanted(self.claim_contested, d.claim_contested.is_some())
            && wanted(self.mismatch, d.model_mismatch.is_some())
            && self
                .not_seen_days
                .is_none_or(|days| d.last_seen.is_none_or(|seen| seen < unseen_since(days)))
            && self.model.as_deref().is_none_or(|m| {
                d.model
                    .as_ref()
                    .is_some_and(|dm| dm.as_str().eq_ignore_ascii_case(m))
            })
            && self
                .profile
                .as_deref()
                .is_none_or(|p| d.profile.as_ref().is_some_and(|dp| dp.as_str() == p))
            && self.location.as_deref().is_none_or(|l| {
                d.location
                    .as_ref()
                    .is_some_and(|dl| dl.as_str().to_lowercase().contains(&l.to_lowercase()))
            })
            && self.firmware_outdated.is_none_or(|o| o == outdated())
            && (self.search.is_empty() || self.found_in(d))
    }

    fn found_in(&self, d: &DeviceRecord) -> bool {
        let mac = d.mac.to_string();
        let texts = [
            Some(mac.as_str()),
            d.label.as_ref().map(|l| l.as_str()),
            d.location.as_ref().map(|l| l.as_str()),
            d.model.as_ref().map(|m| m.as_str()),
        ];
        let search = self.search.replace([':', '-', '.'], "");
        texts
            .into_iter()
            .flatten()
            .any(|t| t.to_lowercase().contains(&self.search))
            || (!search.is_empty() && mac.contains(&search))
            || d.lines.values().any(|e| e.as_str() == self.search)
    }
}

/// The devices after `after` that `filter` keeps, at most `limit`, read through the store's
/// cursor; and whether more remain.
pub async fn page(
    app: &App,
    filter: &DeviceFilter,
    after: Option<Mac>,
    limit: usize,
) -> Result<(Vec<DeviceRecord>, bool), StoreError> {
    let now = app.clock.now();
    let layers = match filter.needs_settings() {
        true => Some(AllLayers::load(app.store.reads()).await?),
        false => None,
    };
    let keep = |d: &DeviceRecord| filter.keeps(d, now, layers.as_ref());
    let held = filter.held_text();
    let needle = held.as_deref().and_then(Needle::new);
    app.store.devices_page(after, limit, needle, &keep).await
}

/// The names of the settings profiles, sorted: the choices of a device's profile.
pub async fn profile_names(app: &App) -> Result<Vec<String>, StoreError> {
    let mut names: Vec<String> = app
        .store
        .profiles()
        .await?
        .into_iter()
        .map(|p| p.name.to_string())
        .collect();
    names.sort();
    Ok(names)
}

/// The seen-unregistered devices after `after`, at most `limit`, and whether more remain.
pub async fn unregistered_page(
    app: &App,
    after: Option<Mac>,
    limit: usize,
) -> Result<(Vec<crate::model::UnregisteredRecord>, bool), StoreError> {
    app.store.unregistered_page(after, limit).await
}

/// The device with its effective settings, or why not.
pub async fn with_settings(
    app: &App,
    mac: Mac,
) -> Result<(DeviceRecord, crate::settings::Settings), super::OpError> {
    let device = super::devices::existing(app.store.reads(), mac).await?;
    let settings = crate::settings::of_device(app.store.reads(), &device).await?;
    Ok((device, settings))
}

/// A device's provisioning credentials and its phone's admin password.
pub struct Credentials {
    pub username: String,
    pub password: crate::domain::Secret,
    pub phone_admin_password: Option<String>,
}

/// The device's credentials, the read recorded in the audit trail as the API records it
/// (`what` names the page or endpoint).
pub async fn read_credentials(
    app: &App,
    by: &super::Actor,
    mac: Mac,
    what: &str,
) -> Result<Credentials, super::OpError> {
    let (device, settings) = with_settings(app, mac).await?;
    super::audit::secret_read(app, by, what, mac).await;
    Ok(Credentials {
        username: device.provisioning_user,
        password: device.provisioning_password,
        phone_admin_password: settings.phone_admin_password,
    })
}

/// The device's own config as the phone would get it (no claim, no last-seen), with every
/// secret it carries replaced by [`MASK`]: the provisioning password, the login token, its
/// users' SIP passwords and the secret settings. `None` while its vendor is not known.
pub async fn preview(app: &App, device: &DeviceRecord) -> Result<Option<String>, super::OpError> {
    let Some(vendor) = device.vendor.as_deref().and_then(crate::vendors::by_id) else {
        return Ok(None);
    };
    let base_url = match &app.config.server.public_url {
        Some(url) => url.clone(),
        None => format!(
            "https://localhost:{}/",
            app.config.server.phone_listen.port()
        ),
    };
    let rendered = crate::render::device_file(app, vendor, device, &base_url)
        .await
        .map_err(|e| super::OpError::conflict(e.to_string()))?;
    let inputs = crate::render::DeviceInputs::load(app, vendor, device).await?;
    let mut secrets: Vec<String> = vec![device.provisioning_password.expose().to_string()];
    secrets.extend(device.login_token.iter().map(|t| t.expose().to_string()));
    secrets.extend(
        inputs
            .users
            .values()
            .map(|u| u.sip_password.expose().to_string()),
    );
    let map = inputs.settings.to_map();
    for key in Key::ALL.iter().filter(|k| k.is_secret()) {
        if let Some(value) = map.get(key.name()).and_then(|v| v.as_str()) {
            secrets.push(value.to_string());
        }
    }
    Ok(Some(masked(
        &String::from_utf8_lossy(&rendered.body),
        secrets,
    )))
}

/// `text` with each secret, as written, as XML/HTML escapes it and percent-encoded (in a URL),
/// replaced by [`MASK`].
fn masked(text: &str, secrets: Vec<String>) -> String {
    let mut forms: Vec<String> = Vec::new();
    for secret in secrets.into_iter().filter(|s| !s.is_empty()) {
        let escaped = secret
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
            .replace('\'', "&apos;");
        let encoded =
            percent_encoding::utf8_percent_encode(&secret, percent_encoding::NON_ALPHANUMERIC)
                .to_string();
        forms.extend([secret, escaped, encoded]);
    }
    // The longest first, so a secret holding another is masked whole.
    forms.sort_by_key(|f| std::cmp::Reverse(f.len()));
    forms
        .iter()
        .fold(text.to_string(), |shown, form| shown.replace(form, MASK))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device(mac: &str) -> DeviceRecord {
        let json = serde_json::json!({
            "mac": mac,
            "vendor": "yealink",
            "model": "T46S",
            "model_source": "admin",
            "firmware": null,
            "label": "Empfang <b>",
            "lines": {"1": "1001"},
            "registered_at": 0,
            "first_seen": null,
            "last_seen": null,
            "last_address": null,
            "model_mismatch": null,
            "provisioning_user": mac,
            "provisioning_password": "secret-secret-1234",
            "claim_opened_at": 0,
            "claimed_at": null,
            "claimed_from": null,
        });
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn a_filter_keeps_what_matches_every_property_given() {
        let mut seen = device("001565aabbcc");
        seen.last_seen = Some(1_000_000);
        let never = device("001565000001");
        let all = DeviceFilter::default();
        assert!(all.keeps(&seen, 1_000_000, None) && all.keeps(&never, 0, None));
        let never_seen = DeviceFilter {
            never_seen: Some(true),
            ..DeviceFilter::default()
        };
        assert!(!never_seen.keeps(&seen, 0, None) && never_seen.keeps(&never, 0, None));
        let by_mac = DeviceFilter::default().with_search("00:15:65:AA");
        assert!(by_mac.keeps(&seen, 0, None) && !by_mac.keeps(&never, 0, None));
        let by_label = DeviceFilter::default().with_search("EMPFANG");
        assert!(by_label.keeps(&seen, 0, None));
        let by_extension = DeviceFilter::default().with_search("1001");
        assert!(by_extension.keeps(&never, 0, None));
        let mismatch = DeviceFilter {
            mismatch: Some(true),
            ..DeviceFilter::default()
        };
        assert!(!mismatch.keeps(&seen, 0, None));
        let unseen_30 = DeviceFilter {
            not_seen_days: Some(30),
            ..DeviceFilter::default()
        };
        assert!(!unseen_30.keeps(&seen, 1_000_000 + 86_400, None));
        assert!(unseen_30.keeps(&seen, 1_000_000 + 31 * 86_400, None));
        assert!(unseen_30.keeps(&never, 0, None));
    }

    #[test]
    fn a_preview_masks_each_secret_as_written_and_escaped() {
        let text = "user=a&amp;b pass=p4ss tok=p4ss-long url=https://x/?p=a%26b";
        let shown = masked(text, vec!["a&b".into(), "p4ss".into(), "p4ss-long".into()]);
        assert_eq!(
            shown,
            format!("user={MASK} pass={MASK} tok={MASK} url=https://x/?p={MASK}")
        );
    }
}
