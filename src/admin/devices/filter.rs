//! Which devices a list shows (`?unassigned=true&model=T46S&...`), and the MAC cursor of a page.

use crate::error::ApiError;
use crate::model::DeviceRecord;
use crate::settings::AllLayers;

/// Which devices a list shows; every filter given must hold.
#[derive(Debug, Default)]
pub(super) struct Filter {
    unassigned: Option<bool>,
    hotdesk: Option<bool>,
    auto_registered: Option<bool>,
    not_seen_days: Option<u32>,
    model: Option<String>,
    profile: Option<String>,
    location: Option<String>,
    firmware_outdated: Option<bool>,
    claim_contested: Option<bool>,
}

impl Filter {
    pub(super) const KEYS: &[&str] = &[
        "unassigned",
        "hotdesk",
        "auto_registered",
        "not_seen_days",
        "model",
        "profile",
        "location",
        "firmware_outdated",
        "claim_contested",
    ];

    pub(super) fn from_pairs(pairs: Vec<(String, String)>) -> Result<Filter, ApiError> {
        let mut filter = Filter::default();
        let flag = |key: &str, value: &str| match value {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(ApiError::BadRequest(format!(
                "{key}: must be true or false"
            ))),
        };
        for (key, value) in pairs {
            match key.as_str() {
                "unassigned" => filter.unassigned = Some(flag(&key, &value)?),
                "hotdesk" => filter.hotdesk = Some(flag(&key, &value)?),
                "auto_registered" => filter.auto_registered = Some(flag(&key, &value)?),
                "not_seen_days" => {
                    filter.not_seen_days = Some(value.parse().map_err(|_| {
                        ApiError::BadRequest("not_seen_days: must be a number of days".into())
                    })?)
                }
                "model" => filter.model = Some(value),
                "profile" => filter.profile = Some(value),
                "firmware_outdated" => filter.firmware_outdated = Some(flag(&key, &value)?),
                "claim_contested" => filter.claim_contested = Some(flag(&key, &value)?),
                _ => filter.location = Some(value),
            }
        }
        Ok(filter)
    }

    /// Whether the filter needs every device's effective settings.
    pub(super) fn needs_settings(&self) -> bool {
        self.firmware_outdated.is_some()
    }

    /// `layers` resolve a device's settings; given when [`Filter::needs_settings`].
    pub(super) fn matches(&self, d: &DeviceRecord, now: i64, layers: Option<&AllLayers>) -> bool {
        let outdated =
            || layers.is_some_and(|l| l.of_device(d).firmware_outdated(d.firmware.as_deref()));
        let assigned = !d.lines.is_empty() || !d.sessions.is_empty();
        let unseen_since = |days: u32| now - i64::from(days) * 86_400;
        self.unassigned.is_none_or(|u| u != assigned)
            && self.hotdesk.is_none_or(|h| h == d.hotdesk)
            && self.auto_registered.is_none_or(|a| a == d.adopted)
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
            && self
                .claim_contested
                .is_none_or(|c| c == d.claim_contested.is_some())
    }
}
