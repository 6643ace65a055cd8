//! Vendor plugins. Everything about one vendor lives in its module: how to recognise its
//! User-Agent and file names, its model table, the template of each file it asks for, and how
//! lines and handsets map to accounts in its config. Adding a vendor is one module here, one
//! entry in [`ALL`] and its templates under `phone-templates/<id>/`.

pub mod cisco;
pub mod fanvil;
pub mod gigaset;
pub mod grandstream;
pub mod others;
pub mod polycom;
pub mod snom;
pub mod yealink;

use crate::domain::{Mac, ModelId};
use crate::locale::Language;
use crate::models::{HotdeskSupport, ModelRow};
use crate::settings::Settings;
use crate::templates::Format;

pub use cisco::Cisco;
pub use fanvil::Fanvil;
pub use gigaset::Gigaset;
pub use grandstream::Grandstream;
pub use polycom::Polycom;
pub use snom::Snom;
pub use yealink::Yealink;

/// All vendor plugins, in the order identification tries them.
pub static ALL: &[&dyn Vendor] = &[
    &Yealink,
    &Polycom,
    &Cisco,
    &Snom,
    &Grandstream,
    &Gigaset,
    &Fanvil,
];

pub fn by_id(id: &str) -> Option<&'static dyn Vendor> {
    ALL.iter().copied().find(|vendor| vendor.id() == id)
}

/// What a vendor's template values may depend on.
pub struct TemplateFacts<'a> {
    pub settings: &'a Settings,
    pub family: Option<&'a str>,
    pub model: Option<&'a ModelRow>,
    /// The phone's language: the settings', or that of the user on its first line.
    pub language: Option<&'static Language>,
    /// The firmware the phone last reported (device files) or reports now (common files).
    pub firmware: Option<&'a str>,
    /// The device's MAC, where the file is one device's.
    pub mac: Option<Mac>,
    /// Where the device file's key list carries the hot-desk login key, if it does.
    pub login_key_at: Option<crate::keys::KeyPosition>,
    /// Whether the device file writes keys at all: the per-slot tables a vendor's template
    /// looks keys up in are built only then.
    pub writes_keys: bool,
}

impl<'a> TemplateFacts<'a> {
    pub fn new(
        settings: &'a Settings,
        family: Option<&'a str>,
        model: Option<&'a ModelRow>,
    ) -> TemplateFacts<'a> {
        TemplateFacts {
            settings,
            family,
            model,
            language: settings.language(),
            firmware: None,
            mac: None,
            login_key_at: None,
            writes_keys: false,
        }
    }
}

/// What a User-Agent told us about the phone that sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UaInfo {
    pub vendor: &'static str,
    pub model: Option<ModelId>,
    pub firmware: Option<String>,
    pub mac: Option<Mac>,
}

/// What the name of a common file tells about the phone asking for it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NameHints {
    /// A model family (Yealink's firmware family in `y0000000000XX.cfg`).
    pub family: Option<String>,
    /// A model (`snomD785.htm`, `cfggxp2135.xml`).
    pub model: Option<ModelId>,
    /// A MAC (Poly's master file `{mac}.cfg`, Yealink's `{mac}.boot`).
    pub mac: Option<Mac>,
    /// A file the name refers to (the image in Snom's firmware settings file
    /// `snom-firmware-{image}.xml`).
    pub file: Option<String>,
}

/// Which of the vendor's files a request path names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileRequest {
    /// A file without secrets that any phone of the vendor may fetch, rendered from `template`.
    Common {
        template: &'static str,
        hints: NameHints,
    },
    /// The device's own config, which carries its SIP passwords.
    Device { mac: Mac },
    /// A file the phone uploads and reads back (Poly logs and override files): kept per
    /// device, bounded, and given to no one but the device.
    Stored { mac: Mac, name: String },
}

impl FileRequest {
    /// The MAC the file name carries, if any.
    pub fn mac(&self) -> Option<Mac> {
        match self {
            FileRequest::Common { hints, .. } => hints.mac,
            FileRequest::Device { mac } | FileRequest::Stored { mac, .. } => Some(*mac),
        }
    }
}

/// How a vendor's phones show hot-desk screens in their XML browser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HotdeskScreens {
    /// One template renders every screen: an input form, a message, a menu.
    pub template: &'static str,
    pub content_type: &'static str,
    /// The browser shows one input per screen (Snom), so extension and PIN are asked in turn.
    pub one_field_per_screen: bool,
}

/// Hot-desk login on one model: its vendor's screens, and how a DECT base names the handset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HotdeskDialect {
    pub screens: HotdeskScreens,
    /// On a DECT base: the query parameter by which the base names the handset that asks.
    pub handset_param: Option<&'static str>,
}

impl std::fmt::Debug for dyn Vendor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Vendor({})", self.id())
    }
}

pub trait Vendor: Sync {
    /// Stable lower-case id: used in storage, the API and as the template directory.
    fn id(&self) -> &'static str;

    /// Output format of all of this vendor's templates, which gives their Content-Type.
    fn format(&self) -> Format;

    /// MAC prefixes (OUIs, six upper-case hex digits): a hint when nothing else identifies.
    fn mac_prefixes(&self) -> &'static [&'static str];

    fn models(&self) -> &'static [ModelRow];

    /// Recognises this vendor's User-Agent. Must never panic on arbitrary input.
    fn parse_user_agent(&self, user_agent: &str) -> Option<UaInfo>;

    /// Recognises one of this vendor's file names (the last path segment).
    fn classify_file(&self, file_name: &str) -> Option<FileRequest>;

    /// The name under which the device fetches its own config.
    fn device_file_name(&self, mac: Mac, model: Option<&ModelId>) -> String;

    /// Every template [`Vendor::classify_file`] can name for a common file.
    fn common_templates(&self) -> &'static [&'static str];

    /// Firmware families of DECT bases that have no row in the table, known only by the name of
    /// their common file.
    fn dect_families_without_row(&self) -> &'static [&'static str] {
        &[]
    }

    /// Whether the common file of this family is a DECT base's rather than a desk phone's.
    fn family_is_dect(&self, family: &str) -> bool {
        self.dect_families_without_row().contains(&family)
            || self
                .models()
                .iter()
                .any(|row| row.is_dect() && row.family == Some(family))
    }

    /// The per-device template for a device whose model is not in the table (or not known).
    fn default_device_template(&self) -> &'static str;

    /// The template of a device's own file: its row's, unless the vendor chooses by the
    /// firmware the phone reported (a format that changed between firmware generations). A
    /// vendor that overrides this keeps [`Vendor::template_for_unknown_model`] for devices
    /// without a row.
    fn device_template(&self, model: Option<&ModelRow>, firmware: Option<&str>) -> &'static str {
        model.map_or_else(
            || self.template_for_unknown_model(firmware),
            |row| row.template,
        )
    }

    /// The template of a device whose model is not in the table: that of a row of the family
    /// its firmware names (a DECT family without a row takes a DECT row's), else the vendor's
    /// default. So an unknown Yealink base on W-series firmware gets the DECT template.
    fn template_for_unknown_model(&self, firmware: Option<&str>) -> &'static str {
        let rows = self.models();
        let family = firmware.and_then(|f| self.family_of_firmware(f));
        let of_family = family.as_deref().and_then(|family| {
            rows.iter()
                .find(|row| row.family == Some(family))
                .or_else(|| {
                    self.family_is_dect(family)
                        .then(|| rows.iter().find(|row| row.is_dect()))
                        .flatten()
                })
        });
        of_family.map_or(self.default_device_template(), |row| row.template)
    }

    /// The model family a firmware version belongs to, where the vendor names files by it.
    fn family_of_firmware(&self, _firmware: &str) -> Option<String> {
        None
    }

    /// Values only this vendor's templates need (for example its numeric code for a SIP
    /// transport, or the name of a family's common file).
    fn template_values(&self, facts: &TemplateFacts<'_>) -> serde_json::Value;

    /// The template of the company phonebook in this vendor's remote-directory format, where
    /// deskprov serves one to its phones.
    fn phonebook_template(&self) -> Option<&'static str> {
        None
    }

    /// Rows (one per number) a page of the phonebook holds, where the vendor's directory object
    /// takes a bounded number and links to the next page; `None`: the whole phonebook at once.
    fn phonebook_page_size(&self) -> Option<usize> {
        None
    }

    /// The most entries the vendor's phones take in one phonebook document; beyond, the first
    /// ones by name are served and the cut is logged.
    fn phonebook_max_entries(&self) -> Option<usize> {
        None
    }

    /// The name of a stored file the phone reads as its local directory (Poly's
    /// `{mac}-directory.xml`): served the company phonebook while `phonebook_refresh_minutes`
    /// is set.
    fn phonebook_stored_name(&self) -> Option<&'static str> {
        None
    }

    /// A key's codes and names in this vendor's config (Yealink's `linekey.N` and type code);
    /// `null` where the vendor's templates program no keys.
    fn key_values(&self, _key: &crate::keys::Key) -> serde_json::Value {
        serde_json::Value::Null
    }

    /// Whether this vendor's phones keep a key the config stops naming (no overwrite mode):
    /// then every key position is written, an unused one empty, once keys reached the device.
    fn keeps_unwritten_keys(&self) -> bool {
        false
    }

    /// Values a template needs per line, such as Grandstream's numbered P-values.
    fn line_values(&self, _index: u16, _model: Option<&ModelRow>) -> serde_json::Value {
        serde_json::Value::Null
    }

    /// The screens of the XML browser deskprov drives for hot-desk login, if this vendor's
    /// phones have one.
    fn hotdesk_screens(&self) -> Option<HotdeskScreens> {
        None
    }

    /// Hot-desk login on `model` as its row's `hotdesk` column says; a model not in the table
    /// (or not known) counts as a desk phone.
    fn hotdesk(&self, model: Option<&ModelRow>) -> Option<HotdeskDialect> {
        let handset_param = match model.map_or(HotdeskSupport::Desk, |row| row.hotdesk) {
            HotdeskSupport::None => return None,
            HotdeskSupport::Desk => None,
            HotdeskSupport::Handsets { param } => Some(param),
        };
        Some(HotdeskDialect {
            screens: self.hotdesk_screens()?,
            handset_param,
        })
    }

    /// The SIP NOTIFY event that makes the phone fetch its config again.
    fn notify_event(&self) -> &'static str {
        "check-sync"
    }

    /// Why this vendor's phones cannot take a value of `layer`, a layer only they read (a
    /// model's or a device's): refused there with the reason. Site-wide and profile values
    /// reach phones of every vendor, so there a value this vendor cannot take is left out of
    /// its files instead (with the reason in the file).
    fn refuses(&self, _layer: &crate::settings::Layer) -> Option<String> {
        None
    }

    /// The SIP NOTIFY event that makes the phone reboot, where its vendor documents one.
    fn reboot_event(&self) -> Option<&'static str> {
        None
    }

    fn owns_mac_prefix(&self, mac: Mac) -> bool {
        let oui = mac.oui();
        self.mac_prefixes().iter().any(|prefix| *prefix == oui)
    }
}

/// The MAC in a User-Agent: a token labelled `MAC=`/`MAC:` wins; otherwise the last unlabelled
/// token that is a well-formed MAC. Tokens with another label (`SER=`, `SN:`, `HW=`) are never
/// taken, however MAC-like: serial numbers often are 12 hex digits.
pub fn mac_in(text: &str) -> Option<Mac> {
    let mut unlabelled = None;
    let separator = |c: char| c.is_whitespace() || matches!(c, '(' | ')' | ';' | ',' | '[' | ']');
    for token in text.split(separator).filter(|t| !t.is_empty()) {
        match label(token) {
            Some((name, value)) if name.eq_ignore_ascii_case("MAC") => {
                return Mac::parse(value).ok();
            }
            Some(_) => {}
            None => unlabelled = Mac::parse(token).ok().or(unlabelled),
        }
    }
    unlabelled
}

/// `SER=abc` or `MAC:00-08-...` → (label, value); a label is letters only, so `00:15:...` is none.
fn label(token: &str) -> Option<(&str, &str)> {
    let at = token.find(['=', ':'])?;
    let name = &token[..at];
    (!name.is_empty() && name.bytes().all(|b| b.is_ascii_alphabetic()))
        .then(|| (name, &token[at + 1..]))
}

/// The text after `keyword` (ASCII, matched case-insensitively at a word start), if present.
/// Compares bytes in place: it runs for every vendor on every phone request.
pub fn after_keyword<'a>(text: &'a str, keyword: &str) -> Option<&'a str> {
    let (haystack, needle) = (text.as_bytes(), keyword.as_bytes());
    let first = *needle.first()?;
    let last_start = haystack.len().checked_sub(needle.len())?;
    // Only where the first letter is, in either case (memchr: many bytes at a time).
    memchr::memchr2_iter(
        first.to_ascii_lowercase(),
        first.to_ascii_uppercase(),
        &haystack[..=last_start],
    )
    .find_map(|at| {
        let starts_word = at == 0 || !haystack[at - 1].is_ascii_alphanumeric();
        (starts_word && haystack[at..at + needle.len()].eq_ignore_ascii_case(needle))
            .then(|| text.get(at + needle.len()..))
            .flatten()
    })
}

/// Whether deskprov provisions phones of this vendor id (identify-only vendors it does not).
pub fn provisions(vendor: &str) -> bool {
    by_id(vendor).is_some()
}

/// Firmware as reported, made safe to store and show: printable ASCII, bounded length.
pub fn clean_firmware(raw: &str) -> Option<String> {
    // What phones send: copied whole, where the filter would push it a character at a time.
    if raw.len() <= 48 && raw.bytes().all(|b| b.is_ascii_graphic()) {
        return (!raw.is_empty()).then(|| raw.to_string());
    }
    let cleaned: String = raw
        .chars()
        .filter(|c| c.is_ascii_graphic())
        .take(48)
        .collect();
    (!cleaned.is_empty()).then_some(cleaned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn handset_param(vendor: &str, model: Option<&str>) -> Option<Option<&'static str>> {
        let vendor = by_id(vendor).unwrap();
        let row = model.map(|m| crate::models::find(vendor.id(), m).unwrap());
        vendor.hotdesk(row).map(|dialect| dialect.handset_param)
    }

    #[test]
    fn hot_desk_follows_the_row_and_the_vendor_screens() {
        assert_eq!(handset_param("yealink", Some("T46S")), Some(None));
        assert_eq!(handset_param("yealink", Some("W60B")), None);
        assert_eq!(handset_param("yealink", None), Some(None));
        assert_eq!(handset_param("snom", Some("D785")), Some(None));
        assert_eq!(handset_param("snom", Some("M900")), Some(Some("IDX")));
        assert_eq!(handset_param("snom", Some("M700")), None);
        assert_eq!(handset_param("polycom", Some("VVX400")), Some(None));
        assert_eq!(handset_param("cisco", None), Some(None));
        assert_eq!(handset_param("grandstream", Some("GXP2135")), None);
        assert_eq!(handset_param("gigaset", Some("N870")), None);
        assert_eq!(handset_param("fanvil", None), None);
    }

    #[test]
    fn an_unknown_model_takes_the_template_of_its_firmware_family() {
        let yealink = by_id("yealink").unwrap();
        // W90 (family 130) has no row; W70B (146) has one; T46S is family 66.
        assert_eq!(
            yealink.device_template(None, Some("130.85.0.20")),
            "yealink/dect-base.cfg"
        );
        assert_eq!(
            yealink.device_template(None, Some("146.87.0.15")),
            "yealink/dect-base.cfg"
        );
        assert_eq!(
            yealink.device_template(None, Some("66.86.0.15")),
            "yealink/desk.cfg"
        );
        assert_eq!(
            yealink.device_template(None, Some("99.86.0.1")),
            yealink.default_device_template()
        );
        assert_eq!(
            yealink.device_template(None, None),
            yealink.default_device_template()
        );
        let w70b = crate::models::find("yealink", "W70B").unwrap();
        assert_eq!(
            yealink.device_template(Some(w70b), Some("66.86.0.15")),
            w70b.template,
            "a row decides over the firmware"
        );
        for vendor in ALL {
            assert_eq!(
                vendor.device_template(None, Some("1.2.3")),
                vendor.default_device_template(),
                "{}",
                vendor.id()
            );
        }
    }

    #[test]
    fn keywords_are_found_at_word_starts_in_any_case() {
        assert_eq!(
            after_keyword("Mozilla/4.0 (compatible; snomD785-SIP", "snom"),
            Some("D785-SIP")
        );
        assert_eq!(after_keyword("x SNOM M900", "snom"), Some(" M900"));
        assert_eq!(after_keyword("Yealink", "yealink"), Some(""));
        assert_eq!(after_keyword("notsnom 1", "snom"), None);
        assert_eq!(after_keyword("sno", "snom"), None);
        assert_eq!(after_keyword("é snom", "snom"), Some(""));
        assert_eq!(after_keyword("snomé", "snom"), Some("é"));
    }

    #[test]
    fn content_type_follows_the_format() {
        assert_eq!(Yealink.format().content_type(), "text/plain; charset=utf-8");
        for vendor in ALL.iter().filter(|v| v.id() != "yealink") {
            assert_eq!(vendor.format().content_type(), "application/xml");
        }
    }
}
