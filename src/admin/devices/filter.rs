//! Which devices a list shows (`?unassigned=true&model=T46S&...`): the query's words for the
//! filter the console's list shares (`ops::device_list`).

use crate::error::ApiError;
use crate::ops::device_list::DeviceFilter;

pub(super) const KEYS: &[&str] = &[
    "q",
    "unassigned",
    "hotdesk",
    "auto_registered",
    "not_seen_days",
    "never_seen",
    "model",
    "profile",
    "location",
    "firmware_outdated",
    "claim_contested",
    "model_mismatch",
];

pub(super) fn from_pairs(pairs: Vec<(String, String)>) -> Result<DeviceFilter, ApiError> {
    let mut filter = DeviceFilter::default();
    let flag = |key: &str, value: &str| match value {
        "true" => Ok(Some(true)),
        "false" => Ok(Some(false)),
        _ => Err(ApiError::BadRequest(format!(
            "{key}: must be true or false"
        ))),
    };
    for (key, value) in pairs {
        match key.as_str() {
            "q" => filter = filter.with_search(&value),
            "unassigned" => filter.unassigned = flag(&key, &value)?,
            "hotdesk" => filter.hotdesk = flag(&key, &value)?,
            "auto_registered" => filter.auto_registered = flag(&key, &value)?,
            "never_seen" => filter.never_seen = flag(&key, &value)?,
            "not_seen_days" => {
                filter.not_seen_days = Some(value.parse().map_err(|_| {
                    ApiError::BadRequest("not_seen_days: must be a number of days".into())
                })?)
            }
            "model" => filter.model = Some(value),
            "profile" => filter.profile = Some(value),
            "firmware_outdated" => filter.firmware_outdated = flag(&key, &value)?,
            "claim_contested" => filter.claim_contested = flag(&key, &value)?,
            "model_mismatch" => filter.mismatch = flag(&key, &value)?,
            _ => filter.location = Some(value),
        }
    }
    Ok(filter)
}
