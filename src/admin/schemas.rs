//! The types the admin API reads and answers, as the OpenAPI document describes them: the
//! domain's text types as string schemas (their patterns never refuse what the server takes),
//! the settings as the key table names them, and the small answers that have no home of their
//! own. The request and view types live with their handlers and are re-exported here.

use std::borrow::Cow;

use serde::Serialize;
use serde_json::Value;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, Schema, SchemaType, Type};
use utoipa::{PartialSchema, ToSchema};

use crate::domain::{
    DisplayName, Email, Extension, Label, Location, Mac, ModelId, PersonName, Pin, ProfileName,
    SipPassword, SipUser,
};
use crate::settings::Key;

pub use super::accounts::{
    AccountPatch, AccountView, AccountWithPassword, DeletedAccount, NewAccount,
};
pub use super::contacts::{ContactPatch, NewContact};
pub use super::devices::{
    Adoption, DeviceEventLog, DevicePatch, DeviceView, LineAssignment, NewDevice, NewDevices,
    UnregisteredView,
};
pub use super::mail::{ExtensionList, MailView, MailsQueued, TestMail};
pub use super::profiles::{NewProfile, ProfilePatch, ProfileView};
pub use super::token::{NewToken, TokenView};
pub use super::totp::{AccountTotpView, TotpRequirement};
pub use super::users::{BulkAction, NewUser, PortalPassword, UserPatch, UserView};
pub use crate::ops::bans::SourceView as BanView;
pub use crate::ops::csv_io::ImportJob;

pub const MAC_PATTERN: &str = "^([0-9A-Fa-f]{12}|[0-9A-Fa-f]{2}([:-][0-9A-Fa-f]{2}){5}|[0-9A-Fa-f]{4}([.][0-9A-Fa-f]{4}){2})$";
pub const PROFILE_NAME_PATTERN: &str = "^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$";

/// A string schema with its bounds; `pattern` only where the server's rule is one.
fn text(description: &str, min: usize, max: usize, pattern: Option<&str>) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
        .min_length(Some(min))
        .max_length(Some(max))
        .pattern(pattern)
        .into()
}

macro_rules! text_schema {
    ($type:ty, $name:literal, $description:literal, $min:expr, $max:expr, $pattern:expr) => {
        impl PartialSchema for $type {
            fn schema() -> RefOr<Schema> {
                text($description, $min, $max, $pattern)
            }
        }
        impl ToSchema for $type {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed($name)
            }
        }
    };
}

text_schema!(
    Mac,
    "Mac",
    "A MAC address: 12 hex digits, optionally in pairs separated by : or -, or in groups of four separated by dots. Answers give the 12 lower-case digits.",
    12,
    17,
    Some(MAC_PATTERN)
);
text_schema!(
    Extension,
    "Extension",
    "What the user dials and types at a hot-desk phone: 1 to 15 digits.",
    1,
    15,
    Some("^[0-9]{1,15}$")
);
text_schema!(
    ProfileName,
    "ProfileName",
    "Letters, digits, - _ and ., not starting with a dot.",
    1,
    64,
    Some(PROFILE_NAME_PATTERN)
);
text_schema!(
    ModelId,
    "ModelId",
    "A phone model as the vendor names it (T46S, W70B); answers give it in upper case.",
    1,
    32,
    Some("^[A-Za-z0-9_-]{1,32}$")
);
text_schema!(
    SipUser,
    "SipUser",
    "A SIP authentication user: letters, digits and - _ . ! ~ * ' ( ) +.",
    1,
    64,
    Some("^[A-Za-z0-9._!~*'()+-]{1,64}$")
);
text_schema!(
    SipPassword,
    "SipPassword",
    "Printable ASCII without spaces.",
    8,
    128,
    Some("^[!-~]{8,128}$")
);
text_schema!(
    Pin,
    "Pin",
    "Digits only; the PIN policy (hotdesk.pin_*) decides which are accepted.",
    1,
    crate::domain::MAX_PIN_DIGITS,
    Some("^[0-9]+$")
);
text_schema!(
    Email,
    "Email",
    "An e-mail address like name@example.com.",
    3,
    254,
    Some("^[^@]+@[^@]+$")
);
text_schema!(
    DisplayName,
    "DisplayName",
    "The name a phone shows: no control characters, no white space at either end.",
    1,
    64,
    None
);
text_schema!(
    Label,
    "Label",
    "Free text: no control characters, no white space at either end.",
    1,
    64,
    None
);
text_schema!(
    PersonName,
    "PersonName",
    "A first or last name: no control characters, no white space at either end.",
    1,
    64,
    None
);
text_schema!(
    Location,
    "Location",
    "Where a device stands: no control characters, no white space at either end.",
    1,
    128,
    None
);

/// An object whose properties are the settings' names, each any JSON value.
fn settings_object(description: &str, nullable_values: bool) -> RefOr<Schema> {
    let mut object = ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some(description))
        .additional_properties(Some(AdditionalProperties::FreeForm(false)));
    for key in Key::ALL {
        let what = if key.is_secret() {
            "A secret: answers show it as \"[set]\"."
        } else if nullable_values {
            "null removes it."
        } else {
            "See GET /settings/choices."
        };
        let value = ObjectBuilder::new()
            .schema_type(SchemaType::AnyValue)
            .description(Some(what));
        object = object.property(key.name(), value);
    }
    object.into()
}

/// Setting name → value; `null` clears it.
pub struct SettingsPatch;

impl PartialSchema for SettingsPatch {
    fn schema() -> RefOr<Schema> {
        settings_object("Setting name → value; null clears it.", true)
    }
}

impl ToSchema for SettingsPatch {}

/// The site-wide settings, secrets as "[set]".
pub struct SettingsView;

impl PartialSchema for SettingsView {
    fn schema() -> RefOr<Schema> {
        settings_object("The site-wide settings; secrets as \"[set]\".", false)
    }
}

impl ToSchema for SettingsView {}

/// Settings of one layer (a profile's, a model's, a device's own), secrets as "[set]".
pub struct SettingsLayer;

impl PartialSchema for SettingsLayer {
    fn schema() -> RefOr<Schema> {
        settings_object("The settings this layer sets; secrets as \"[set]\".", false)
    }
}

impl ToSchema for SettingsLayer {}

#[derive(Serialize, ToSchema)]
pub struct Deleted {
    pub deleted: Mac,
}

#[derive(Serialize, ToSchema)]
pub struct DeletedContact {
    pub deleted: String,
}

/// MACs of devices to act on.
#[derive(Debug, serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MacList {
    #[schema(value_type = Vec<Mac>, min_items = 1, max_items = 10000)]
    pub macs: Vec<String>,
}

/// MACs of phones to tell (resync, reboot): their answers come within the request.
#[derive(Debug, serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MacsToTell {
    #[schema(value_type = Vec<Mac>, min_items = 1, max_items = 500)]
    pub macs: Vec<String>,
}

/// What a phone answered a resync or reboot NOTIFY.
#[derive(Serialize, ToSchema)]
pub struct NotifyResult {
    pub mac: Mac,
    pub action: crate::notify::Action,
    /// accepted, accepted_with_credentials (the phone challenged the NOTIFY and took the
    /// answer made with line 1's credentials), refused, no_answer, never_seen (no address
    /// known yet), unsupported (the vendor has no such NOTIFY), send_failed.
    pub outcome: crate::notify::Outcome,
}

/// The phone that takes a dead one's place.
#[derive(Debug, serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Replacement {
    #[schema(value_type = Mac)]
    pub new_mac: String,
    /// Its model, when it differs from the old one's (otherwise kept, or filled in at its
    /// first request).
    pub model: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct DeletedDevices {
    pub deleted: Vec<Mac>,
}

#[derive(Serialize, ToSchema)]
pub struct ClaimsReset {
    /// Each device given: its claim window open again, its provisioning password new.
    pub reset: Vec<Mac>,
}

#[derive(Serialize, ToSchema)]
pub struct DevicesLoggedOut {
    /// The devices where someone was logged out.
    pub logged_out: Vec<Mac>,
}

#[derive(Serialize, ToSchema)]
pub struct DeletedUser {
    pub deleted: Extension,
    /// The devices whose lines were freed.
    pub freed_lines_on: Vec<Mac>,
}

#[derive(Serialize, ToSchema)]
pub struct DeletedProfile {
    pub deleted: ProfileName,
}

#[derive(Serialize, ToSchema)]
pub struct Credentials {
    /// The HTTP user the phone's config carries (its MAC).
    pub username: String,
    pub password: String,
    /// The admin password of the phone's own web interface, as its settings set it.
    pub phone_admin_password: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct SipPasswordView {
    pub sip_password: String,
}

#[derive(Serialize, ToSchema)]
pub struct NextExtension {
    pub extension: Extension,
}

#[derive(Serialize, ToSchema)]
pub struct BulkResult {
    /// lock, unlock or delete.
    pub action: String,
    pub extensions: Vec<Extension>,
}

#[derive(Serialize, ToSchema)]
pub struct DeviceSettings {
    pub mac: Mac,
    pub profile: Option<ProfileName>,
    pub model: Option<String>,
    /// The device's own layer.
    #[schema(value_type = SettingsLayer)]
    pub own: serde_json::Map<String, Value>,
    /// Each setting's effective value and where it came from: `{"value": ..., "from":
    /// {"level": "default" | "profile" | "model" | "device", "name": ...}}`.
    #[schema(value_type = Object)]
    pub effective: Value,
}

#[derive(Serialize, ToSchema)]
pub struct ModelSettings {
    pub vendor: String,
    pub model: String,
    #[schema(value_type = SettingsLayer)]
    pub settings: serde_json::Map<String, Value>,
}

/// One setting as GET /settings/choices lists it.
#[derive(Serialize, ToSchema)]
pub struct SettingChoice {
    pub name: String,
    /// Profiles, models and devices may set it (else only the site-wide settings).
    pub inheritable: bool,
    pub secret: bool,
}

#[derive(Serialize, ToSchema)]
pub struct SettingChoices {
    pub settings: Vec<SettingChoice>,
    pub sip_transports: Vec<String>,
    /// IANA names with their rules.
    #[schema(value_type = Vec<Object>)]
    pub time_zones: Value,
    #[schema(value_type = Vec<Object>)]
    pub languages: Value,
}

/// A model of the model table.
#[derive(Serialize, ToSchema)]
pub struct ModelView {
    pub vendor: String,
    pub model: String,
    pub family: Option<String>,
    /// desk or dect_base.
    pub kind: String,
    /// Lines of a desk phone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lines: Option<u16>,
    /// Handset slots of a DECT base.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handsets: Option<u16>,
    pub template: String,
}

/// One programmable key. `position` counts from 1 on the phone, or on expansion module
/// `module` (1 to 6) when given.
#[derive(Serialize, ToSchema)]
pub struct KeyView {
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 6)]
    pub module: Option<u8>,
    #[schema(minimum = 1, maximum = 128)]
    pub position: u16,
    /// line, blf, speed_dial, dtmf, park, pickup, group_pickup, intercom, transfer, voicemail,
    /// dnd, forward, conference, url, hotdesk, or none (clears the position).
    #[serde(rename = "type")]
    #[schema(value_type = KeyTypeName)]
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// With `effective=true` a BLF or speed dial on a user's extension shows the user's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[schema(minimum = 1, maximum = 64)]
    pub line: u16,
    /// With `effective=true`: the layer it came from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<KeyOriginView>,
    /// With `effective=true`: true for a key that fits neither the model nor its attached
    /// modules, which the phone does not get.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub beyond_capacity: Option<bool>,
}

impl KeyView {
    pub fn of(key: &crate::keys::Key, origin: Option<KeyOriginView>) -> KeyView {
        KeyView {
            module: key.at.module,
            position: key.at.position,
            kind: key.kind.as_str(),
            value: key.value.clone(),
            label: key.label.as_ref().map(|l| l.to_string()),
            line: key.line,
            origin,
            beyond_capacity: None,
        }
    }
}

/// default (the device's lines and a hot-desk phone's login key), site, profile, model,
/// device or user, with the profile's, model's or user's name.
#[derive(Serialize, ToSchema)]
pub struct KeyOriginView {
    pub layer: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl KeyOriginView {
    pub fn new(layer: &'static str, name: Option<&String>) -> KeyOriginView {
        KeyOriginView {
            layer,
            name: name.cloned(),
        }
    }
}

/// What a key does: one of the names of `keys::KeyType`.
pub struct KeyTypeName;

impl PartialSchema for KeyTypeName {
    fn schema() -> RefOr<Schema> {
        let names: Vec<&str> = crate::keys::KeyType::ALL
            .iter()
            .map(|t| t.as_str())
            .collect();
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some("What the key does; none clears the position."))
            .enum_values(Some(names))
            .into()
    }
}

impl ToSchema for KeyTypeName {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("KeyType")
    }
}

/// An admin token's role: one of the names of `domain::Role`.
pub struct RoleName;

impl PartialSchema for RoleName {
    fn schema() -> RefOr<Schema> {
        let names: Vec<&str> = crate::domain::Role::ALL
            .iter()
            .map(|r| r.as_str())
            .collect();
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some("What its holder may do: README's role matrix."))
            .enum_values(Some(names))
            .into()
    }
}

impl ToSchema for RoleName {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Role")
    }
}

/// A key layer to store: the keys as `GET` shows them, without `origin` (`[]` clears it).
pub struct KeyList;

impl PartialSchema for KeyList {
    fn schema() -> RefOr<Schema> {
        utoipa::openapi::schema::ArrayBuilder::new()
            .items(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
                KeyInput::name(),
            )))
            .max_items(Some(crate::keys::MAX_KEYS_PER_LAYER))
            .description(Some(
                "One layer's keys, at most one per position; [] clears the layer.",
            ))
            .into()
    }
}

impl ToSchema for KeyList {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((KeyInput::name().into_owned(), KeyInput::schema()));
        KeyInput::schemas(schemas);
    }
}

/// One key to store.
#[derive(serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct KeyInput {
    #[schema(minimum = 1, maximum = 6)]
    module: Option<u8>,
    #[schema(minimum = 1, maximum = 128)]
    position: u16,
    #[serde(rename = "type")]
    #[schema(value_type = KeyTypeName)]
    kind: String,
    #[schema(max_length = 64)]
    value: Option<String>,
    #[schema(value_type = Option<Label>)]
    label: Option<String>,
    #[schema(minimum = 1, maximum = 64)]
    line: Option<u16>,
}

#[derive(Serialize, ToSchema)]
pub struct StatusView {
    pub version: &'static str,
    /// What needs an operator's attention; empty when nothing does.
    pub warnings: Vec<String>,
    /// The main certificate first, then the extra pairs.
    pub certificates: Vec<CertificateView>,
}

#[derive(Serialize, ToSchema)]
pub struct CertificateView {
    pub file: String,
    /// local_ca (issued and renewed by deskprov), self_signed (made by an earlier release,
    /// replaced when due) or supplied (the admin's).
    pub origin: &'static str,
    pub subject: String,
    pub not_after: String,
    /// Negative once it has expired.
    pub days_left: i64,
    /// When deskprov issues it again (managed certificates only).
    pub renews_at: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct TemplateView {
    pub name: String,
    /// key_value or xml.
    pub format: String,
    /// shipped or override.
    pub origin: String,
}

#[derive(Serialize, ToSchema)]
pub struct TemplatesReloaded {
    pub reloaded: usize,
    pub overrides: usize,
}

#[derive(Serialize, ToSchema)]
pub struct CreatedToken {
    #[serde(flatten)]
    pub view: crate::admin::token::TokenView,
    /// Shown this once; only its hash is stored.
    pub token: String,
}

#[derive(Serialize, ToSchema)]
pub struct AuditView {
    pub id: u64,
    pub at: String,
    pub kind: String,
    /// A console account's or an admin token's name, `phone`, or deskprov itself.
    pub actor: String,
    /// `account`, `token`, `phone` or `system`; absent on records written before it was kept.
    #[schema(value_type = Option<String>)]
    pub actor_kind: Option<&'static str>,
    /// The role an account or admin token acted in.
    #[schema(value_type = Option<RoleName>)]
    pub actor_role: Option<&'static str>,
    pub source: Option<String>,
    /// A MAC as 12 hex digits, an extension, a name.
    pub subject: Option<String>,
    pub detail: String,
}

#[derive(Serialize, ToSchema)]
pub struct TokenBlockView {
    pub source: String,
    pub blocked: bool,
    pub blocked_until: Option<String>,
    /// Wrong tokens in the current window.
    pub failures: u32,
    pub blocks: u32,
}

#[derive(Serialize, ToSchema)]
pub struct Lifted {
    pub lifted: String,
}

impl From<&crate::models::ModelRow> for ModelView {
    fn from(row: &crate::models::ModelRow) -> ModelView {
        use crate::models::DeviceKind;
        let (kind, lines, handsets) = match row.kind {
            DeviceKind::Desk { lines } => ("desk", Some(lines), None),
            DeviceKind::DectBase { handsets } => ("dect_base", None, Some(handsets)),
        };
        ModelView {
            vendor: row.vendor.to_string(),
            model: row.model.to_string(),
            family: row.family.map(str::to_string),
            kind: kind.to_string(),
            lines,
            handsets,
            template: row.template.to_string(),
        }
    }
}
