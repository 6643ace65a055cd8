//! Vendor plugins. Everything about one vendor lives in its module: how to recognise its
//! User-Agent and file names, its model table, the template of each file it asks for, and how
//! lines and handsets map to accounts in its config. Adding a vendor is one module here, one
//! entry in [`ALL`] and its templates under `phone-templates/<id>/`.

pub mod yealink;

use crate::domain::{Mac, ModelId};
use crate::models::ModelRow;
use crate::settings::Settings;
use crate::templates::Format;

pub use yealink::Yealink;

/// All vendor plugins, in the order identification tries them.
pub static ALL: &[&dyn Vendor] = &[&Yealink];

pub fn by_id(id: &str) -> Option<&'static dyn Vendor> {
    ALL.iter().copied().find(|vendor| vendor.id() == id)
}

/// What a User-Agent told us about the phone that sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UaInfo {
    pub vendor: &'static str,
    pub model: Option<ModelId>,
    pub firmware: Option<String>,
    pub mac: Option<Mac>,
}

/// Which of the vendor's files a request path names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileRequest {
    /// A file without secrets that any phone of the vendor may fetch. `family` is the
    /// model family named in the file, if the vendor names one there.
    Common { family: Option<String> },
    /// The device's own config, which carries its SIP passwords.
    Device { mac: Mac },
}

impl std::fmt::Debug for dyn Vendor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Vendor({})", self.id())
    }
}

pub trait Vendor: Sync {
    /// Stable lower-case id: used in storage, the API and as the template directory.
    fn id(&self) -> &'static str;

    /// Output format of all of this vendor's templates.
    fn format(&self) -> Format;

    /// MAC prefixes (OUIs, six upper-case hex digits): a hint when nothing else identifies.
    fn mac_prefixes(&self) -> &'static [&'static str];

    fn models(&self) -> &'static [ModelRow];

    /// Recognises this vendor's User-Agent. Must never panic on arbitrary input.
    fn parse_user_agent(&self, user_agent: &str) -> Option<UaInfo>;

    /// Recognises one of this vendor's file names (the last path segment).
    fn classify_file(&self, file_name: &str) -> Option<FileRequest>;

    /// The name under which the device fetches its own config.
    fn device_file_name(&self, mac: Mac) -> String;

    /// The template for a common file, given the model of the requester when known.
    fn common_template(&self, family: Option<&str>, model: Option<&ModelRow>) -> &'static str;

    /// Whether the common file of this family is a DECT base's rather than a desk phone's.
    fn family_is_dect(&self, _family: &str) -> bool {
        false
    }

    /// The per-device template for a device whose model is not in the table (or not known).
    fn default_device_template(&self) -> &'static str;

    /// Values only this vendor's templates need, derived from the settings (for example the
    /// vendor's numeric code for a SIP transport).
    fn template_values(&self, settings: &Settings) -> serde_json::Value;

    fn content_type(&self) -> &'static str;

    fn owns_mac_prefix(&self, mac: Mac) -> bool {
        let oui = mac.oui();
        self.mac_prefixes().iter().any(|prefix| *prefix == oui)
    }
}

/// Firmware as reported, made safe to store and show: printable ASCII, bounded length.
pub fn clean_firmware(raw: &str) -> Option<String> {
    let cleaned: String = raw
        .chars()
        .filter(|c| c.is_ascii_graphic())
        .take(48)
        .collect();
    (!cleaned.is_empty()).then_some(cleaned)
}
