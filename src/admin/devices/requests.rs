//! The bodies /api/v1/devices takes, and each as the operation's typed input.

use serde::Deserialize;
use utoipa::ToSchema;

use crate::domain::{Extension, Label, Location, Mac, ModelId, ProfileName};
use crate::error::ApiError;
use crate::ops::devices::{self, DeviceChange};
use crate::settings::double_option;

/// A device to register.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDevice {
    #[schema(value_type = Mac)]
    pub(crate) mac: String,
    /// Filled in from the phone's first request when not given.
    #[schema(value_type = Option<ModelId>)]
    pub(crate) model: Option<String>,
    #[schema(value_type = Option<Label>)]
    pub(crate) label: Option<String>,
    #[schema(value_type = Option<Location>)]
    pub(crate) location: Option<String>,
    /// The settings profile it inherits from.
    #[schema(value_type = Option<ProfileName>)]
    pub(crate) profile: Option<String>,
    /// Users log in at this phone with extension and PIN.
    #[serde(default)]
    pub(crate) hotdesk: bool,
    /// Served only to a connection presenting the phone's factory client certificate.
    #[serde(default)]
    pub(crate) certificate_required: bool,
    /// Expansion modules attached: keys beyond the phone's own go there.
    #[serde(default)]
    #[schema(maximum = 6)]
    pub(crate) expansion_modules: u8,
}

/// What to change; `null` clears a field.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DevicePatch {
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<ModelId>)]
    model: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Label>)]
    label: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Location>)]
    location: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<ProfileName>)]
    profile: Option<Option<String>>,
    hotdesk: Option<bool>,
    certificate_required: Option<bool>,
    #[schema(maximum = 6)]
    expansion_modules: Option<u8>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LineAssignment {
    /// The user's extension.
    #[schema(value_type = Extension)]
    pub(super) user: String,
    /// Replace the user the line has; without it a taken line is refused.
    #[serde(default)]
    pub(super) replace: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDevices {
    #[schema(min_items = 1, max_items = 10000)]
    pub(super) devices: Vec<NewDevice>,
}

fn clearable<T>(
    raw: &Option<Option<String>>,
    parse: impl Fn(&str) -> Result<T, crate::domain::InvalidInput>,
) -> Result<Option<Option<T>>, ApiError> {
    Ok(match raw {
        Some(Some(value)) => Some(Some(parse(value)?)),
        Some(None) => Some(None),
        None => None,
    })
}

impl NewDevice {
    /// The body as the operation's typed input; the first field that does not parse is the error.
    pub(crate) fn typed(&self) -> Result<devices::NewDevice, ApiError> {
        Ok(devices::NewDevice {
            mac: Some(Mac::parse(&self.mac)?),
            model: self.model.as_deref().map(ModelId::parse).transpose()?,
            label: self.label.as_deref().map(Label::parse).transpose()?,
            location: self.location.as_deref().map(Location::parse).transpose()?,
            profile: self
                .profile
                .as_deref()
                .map(ProfileName::parse)
                .transpose()?,
            hotdesk: self.hotdesk,
            certificate_required: self.certificate_required,
            expansion_modules: self.expansion_modules,
        })
    }
}

impl DevicePatch {
    pub(crate) fn typed(&self) -> Result<DeviceChange, ApiError> {
        Ok(DeviceChange {
            model: clearable(&self.model, ModelId::parse)?,
            label: clearable(&self.label, Label::parse)?,
            location: clearable(&self.location, Location::parse)?,
            profile: clearable(&self.profile, ProfileName::parse)?,
            hotdesk: self.hotdesk,
            certificate_required: self.certificate_required,
            expansion_modules: self.expansion_modules,
        })
    }
}
