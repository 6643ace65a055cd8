//! Fanvil X-series desk phones.
//!
//! A phone fetches a model common file (`F0V00X300000.cfg`, `f0X4hw1.100.cfg`,
//! `fanvil_x210_v2_hwv2_0.txt`; newer models have none) and its own `{mac}.cfg`. Current
//! firmware reads the `<sysConf>` XML format; the X4, and the X3S/X5S/X6 on older firmware,
//! read the older `<VOIP_CONFIG_FILE>` format, so the file's format follows the firmware the
//! phone reported (`OLD_FORMAT`). Provisioning credentials: `<ap><DefaultUsername>` (sysConf),
//! `<AUTOUPDATE_CONFIG_MODULE><Download_Username>` (old). Sources: WZ
//! `wazo_fanvil/common/templates/{base,base-new}.tpl`, `wazo_fanvil/serie_x/entry.py`, FP
//! `fanvil/{x4,x4u}/{$mac}.cfg`, TC `fanvil-X5.tmpl`; see docs/vendors/fanvil.md.
//! User-Agent: `Fanvil X4 2.10.2.6887 0c383e07e16c`, `Fanvil X6U Pro 0.0.10 0c383e2cd782`.

use serde_json::json;

use super::{FileRequest, NameHints, TemplateFacts, UaInfo, Vendor, clean_firmware, mac_in};
use crate::domain::LdapTls;
use crate::domain::{Mac, ModelId};
use crate::keys::effective::KeyCapacity;
use crate::keys::{Key, KeyType};
use crate::locale::{DstChange, Language};
use crate::models::ModelRow;
use crate::templates::Format;

pub struct Fanvil;

const VENDOR: &str = "fanvil";
const DESK: &str = "fanvil/desk.xml";
const OLD_FORMAT_DESK: &str = "fanvil/desk-old.xml";
const COMMON: &str = "fanvil/common.xml";
const PHONEBOOK: &str = "fanvil/phonebook.xml";

/// SIP lines per model from Fanvil's data sheets. Keys: Tancredi's `cap_linekey_count`
/// (`data/scopes/fanvil-<model>.ini`), laid out as wazo-provd-plugins lays them out
/// (`wazo_fanvil/serie_x/entry.py` `TOP_FUNCTION_KEYS` beside the display, then pages of
/// `FUNCTION_KEYS_PER_PAGE`; `common.py` maps `X6U-Pro` and `X5U-V2` to `X6U` and `X5U`):
/// the two agree (X4U 3 + 5 × 6 = 33, X5U 4 + 5 × 6 = 34, X6U 5 + 5 × 12 = 65, X210 10 + 3 ×
/// 32 = 106). X4 (old format only): 30 keys `Fkey1…Fkey30` (TC `fanvil-X4.ini`, WZ
/// `base.tpl` `Function_Key_Entry`). Models neither source counts (and the X6, whose
/// `<sysConf>` layout no source gives) have no key data; Fanvil's expansion modules have no
/// confirmed per-key parameters, so no model takes one.
static MODELS: &[ModelRow] = &[
    ModelRow::desk(VENDOR, "X1S", 2, DESK),
    ModelRow::desk(VENDOR, "X1SP", 2, DESK),
    ModelRow::desk(VENDOR, "X210", 20, DESK).keys(sysconf_capacity(&X210)),
    ModelRow::desk(VENDOR, "X3S", 2, DESK),
    ModelRow::desk(VENDOR, "X3SG", 2, DESK),
    ModelRow::desk(VENDOR, "X3U", 6, DESK),
    ModelRow::desk(VENDOR, "X4", 6, DESK).keys(KeyCapacity::keys(30, 1)),
    ModelRow::desk(VENDOR, "X4U", 12, DESK).keys(sysconf_capacity(&X4U)),
    ModelRow::desk(VENDOR, "X5S", 6, DESK),
    ModelRow::desk(VENDOR, "X5U", 16, DESK).keys(sysconf_capacity(&X5U)),
    ModelRow::desk(VENDOR, "X6", 6, DESK),
    ModelRow::desk(VENDOR, "X6U", 20, DESK).keys(sysconf_capacity(&X6U)),
    ModelRow::desk(VENDOR, "X6U-PRO", 20, DESK).keys(sysconf_capacity(&X6U)),
    ModelRow::desk(VENDOR, "X5U-V2", 16, DESK).keys(sysconf_capacity(&X5U)),
    ModelRow::desk(VENDOR, "X7", 20, DESK),
    ModelRow::desk(VENDOR, "X7C", 20, DESK),
];

/// Where a `<sysConf>` model's keys sit: `side` keys beside the display (`<dssSide
/// index="1">`), then `pages` pages of `per_page` keys (`<internal index="page">`), each
/// `<Fkey index>` counted from 1 within its page (WZ `common/templates/base-new.tpl`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct DssLayout {
    side: u16,
    per_page: u16,
    pages: u8,
}

const X4U: DssLayout = DssLayout {
    side: 3,
    per_page: 6,
    pages: 5,
};
const X5U: DssLayout = DssLayout {
    side: 4,
    per_page: 6,
    pages: 5,
};
const X6U: DssLayout = DssLayout {
    side: 5,
    per_page: 12,
    pages: 5,
};
const X210: DssLayout = DssLayout {
    side: 10,
    per_page: 32,
    pages: 3,
};

static DSS_LAYOUTS: &[(&str, &DssLayout)] = &[
    ("X210", &X210),
    ("X4U", &X4U),
    ("X5U", &X5U),
    ("X5U-V2", &X5U),
    ("X6U", &X6U),
    ("X6U-PRO", &X6U),
];

const fn sysconf_capacity(layout: &DssLayout) -> KeyCapacity {
    KeyCapacity::keys(
        layout.side + layout.per_page * layout.pages as u16,
        layout.pages + 1,
    )
}

/// Models that read the old `<VOIP_CONFIG_FILE>` format, with the newest firmware a peer
/// provisions in it (a version prefix: `2.10.2` covers `2.10.2.6887`); newer firmware gets
/// `<sysConf>`. `None`: every firmware. A phone that has not reported a firmware yet gets the
/// old format. WZ `wazo_fanvil/serie_x/entry.py` `COMMON_FILES` with `X4.tpl`, `X3S.tpl`,
/// `X5S.tpl`, `X6.tpl` (all `base.tpl`); FP `fanvil/x4/{$mac}.cfg` (old) and
/// `fanvil/{x5s,x6}` (sysConf, "for newer firmware").
const OLD_FORMAT: &[(&str, Option<&str>)] = &[
    ("X4", None),
    ("X3S", Some("2.10.2")),
    ("X5S", Some("1.12.2")),
    ("X6", Some("1.12.2")),
];

/// `<sysConf>` display languages (WZ `wazo_fanvil/common/common.py`
/// `_NEW_SUPPORTED_LANGUAGES`: Czech is `cz`; no Swedish, Danish, Norwegian or Finnish).
const SYSCONF_LANGUAGES: &[(&str, &str)] = &[
    ("en", "en"),
    ("de", "de"),
    ("fr", "fr"),
    ("es", "es"),
    ("it", "it"),
    ("nl", "nl"),
    ("pt", "pt"),
    ("pl", "pl"),
    ("cs", "cz"),
    ("tr", "tr"),
    ("ru", "ru"),
];

/// The old format's numeric `<Language>` codes (WZ `wazo_fanvil/serie_x/entry.py` `_LOCALE`).
const OLD_FORMAT_LANGUAGES: &[(&str, &str)] = &[
    ("en", "0"),
    ("de", "16"),
    ("es", "10"),
    ("fr", "4"),
    ("it", "7"),
    ("nl", "3"),
];

impl Vendor for Fanvil {
    /// `FanvilIPPhoneDirectory`, named by `<phone><xmlContact>` (old format `<Xml_PhoneBook>`).
    fn phonebook_template(&self) -> Option<&'static str> {
        Some(PHONEBOOK)
    }

    fn id(&self) -> &'static str {
        VENDOR
    }

    fn format(&self) -> Format {
        Format::Xml
    }

    fn mac_prefixes(&self) -> &'static [&'static str] {
        &["0C383E", "00A859"]
    }

    fn models(&self) -> &'static [ModelRow] {
        MODELS
    }

    fn parse_user_agent(&self, user_agent: &str) -> Option<UaInfo> {
        let rest = user_agent.trim_start().strip_prefix("Fanvil ")?;
        let mut tokens = rest.split_whitespace().peekable();
        let mut model = tokens.next()?.to_string();
        if tokens.next_if(|t| t.eq_ignore_ascii_case("Pro")).is_some() {
            model.push_str("-PRO");
        }
        let firmware = tokens
            .next_if(|t| t.starts_with(|c: char| c.is_ascii_digit()))
            .and_then(clean_firmware);
        Some(UaInfo {
            vendor: self.id(),
            model: ModelId::parse(&model).ok(),
            firmware,
            mac: mac_in(rest),
        })
    }

    fn classify_file(&self, file_name: &str) -> Option<FileRequest> {
        if is_common_name(file_name) {
            return Some(FileRequest::Common {
                template: COMMON,
                hints: NameHints {
                    model: model_of_common_name(file_name),
                    ..NameHints::default()
                },
            });
        }
        let stem = file_name.strip_suffix(".cfg")?;
        (stem.len() == 12 && stem != "000000000000")
            .then(|| Mac::parse(stem).ok())
            .flatten()
            .map(|mac| FileRequest::Device { mac })
    }

    fn device_file_name(&self, mac: Mac, _model: Option<&ModelId>) -> String {
        format!("{}.cfg", mac.to_hex())
    }

    fn common_templates(&self) -> &'static [&'static str] {
        &[COMMON]
    }

    fn default_device_template(&self) -> &'static str {
        DESK
    }

    fn device_template(&self, model: Option<&ModelRow>, firmware: Option<&str>) -> &'static str {
        if reads_old_format(model, firmware) {
            OLD_FORMAT_DESK
        } else {
            model.map_or(DESK, |row| row.template)
        }
    }

    // FusionPBX's event_notify reboots Fanvil phones with check-sync;reboot=true
    // (shared/reference/phones.md §4, FP app/event_notify/index.lua).
    fn reboot_event(&self) -> Option<&'static str> {
        Some("check-sync;reboot=true")
    }

    /// The DSS key's `Type` and, where it is not the key's own value, its `Value`; `null` for a
    /// type no source gives a Fanvil encoding for (see `dss_key`).
    fn key_values(&self, key: &Key) -> serde_json::Value {
        dss_key(key).map_or(
            serde_json::Value::Null,
            |(code, value)| json!({ "type": code, "value": value }),
        )
    }

    fn template_values(&self, facts: &TemplateFacts<'_>) -> serde_json::Value {
        let old_format = reads_old_format(facts.model, facts.firmware);
        // The vendor's codes for UDP, TCP and TLS: TLS is 3 in `<sysConf>` (WZ common.py
        // `_SIP_TRANSPORT`, FP x4u l.207-209) and 2 in the old format (FP fanvil/x4 l.337-339).
        let transport = facts
            .settings
            .sip_transport
            .pick(0, 1, if old_format { 2 } else { 3 });
        let languages = if old_format {
            OLD_FORMAT_LANGUAGES
        } else {
            SYSCONF_LANGUAGES
        };
        let zone = facts.settings.time_zone();
        let dst = zone
            .and_then(|z| crate::locale::dst_changes(z.posix))
            .and_then(|(start, end)| {
                Some(json!({ "start": fanvil_dst_change(start)?, "end": fanvil_dst_change(end)? }))
            });
        json!({
            "old_format": old_format,
            "transport": transport,
            "language": facts.language.and_then(|l| language_code(languages, l)),
            // `TimeZone` counts quarter hours east of UTC: 4 is UTC+1, -20 UTC-5.
            "time_zone": zone.map(|z| z.offset_minutes / 15),
            "dst": dst,
            "resync_hours": resync_hours(facts.settings.resync_minutes),
            "dss": (!old_format).then(|| facts.model.and_then(dss_layout)).flatten().map(dss_pages),
            "ldap": ldap_values(facts.settings, old_format),
        })
    }
}

/// The LDAP directory's fields in `<sysConf>`'s `<phone><ldap index="1">` (FusionPBX
/// `resources/templates/provision/fanvil/x4u/{$mac}.cfg` and Tancredi
/// `data/templates/fanvil-X5.tmpl` name the same fields). `UseSSL` 0 plain, 1 LDAPS,
/// 2 StartTLS, and `Authenticate` 3 with a bind only over TLS, else 0, as Tancredi writes them:
/// without TLS no bind user or password is written, so it never goes out in clear. The number
/// attributes fill `TelAttr`, `MobileAttr` and `OtherAttr` in order; `Displayname` takes the
/// attributes without `%` (both sources).
///
/// The old XML format: `<PHONE_CONFIG_MODULE><LDAP_Config><LDAP_Config_Entry>` with `ID`
/// `LDAP1`, `Server`, `port`, `Base`, `Tel_Attr`, `Mobile_Attr`, `Other_Attr`, `Displayname`,
/// `Filter_Name`, `Filter_number` (FusionPBX `fanvil/x4/{$mac}.cfg`; Tancredi's text format
/// `fanvil-X3.tmpl` names the same fields). No source gives its TLS element, so a directory
/// that asks for TLS is not written there, and a plain one never with a bind.
fn ldap_values(
    settings: &crate::settings::Settings,
    old_format: bool,
) -> Option<serde_json::Value> {
    settings.ldap_server.as_ref()?;
    if old_format && settings.ldap_tls != LdapTls::None {
        return None;
    }
    let tls = settings.ldap_tls != LdapTls::None;
    let bind = tls && settings.ldap_user.is_some() && settings.ldap_password.is_some();
    let mut numbers = settings.ldap_number_attr.split_whitespace();
    Some(json!({
        "use_ssl": match settings.ldap_tls {
            LdapTls::None => 0,
            LdapTls::Ldaps => 1,
            LdapTls::Starttls => 2,
        },
        "authenticate": if bind { 3 } else { 0 },
        "bind": bind,
        "title": crate::phonebook::TITLE,
        "tel_attr": numbers.next().unwrap_or_default(),
        "mobile_attr": numbers.next().unwrap_or_default(),
        "other_attr": numbers.next().unwrap_or_default(),
        "sort_attr": settings.ldap_name_attr.split_whitespace().next().unwrap_or_default(),
        "display_name": settings.ldap_name_display.replace('%', ""),
    }))
}

/// A DSS key's `Type` code and `Value`, where a source gives them:
/// - line: 2, `SIP<line>` (WZ `base-new.tpl`, TC `fanvil.macros`);
/// - BLF: 1, `<ext>@<line>/ba` (WZ `common.py` `_format_funckey_blf`; TC writes `/b` plus a
///   transfer letter, `a` among them; type 1 since WZ PR #251);
/// - speed dial: 1, `<number>@<line>/f` (WZ `_format_funckey_speeddial`, TC);
/// - DTMF: 4, the digits (TC); URL and hot-desk: 7, the URL (TC, WZ `base.tpl` soft key);
/// - key events, type 3 (TC `linekey_type_map`): DND `F_DND`, a blind transfer without a
///   target `F_B_TRANSFER`, voicemail without a number `F_MWI`.
///
/// `None` (not written) for park (WZ writes `/c` but leaves type 2, so its type is
/// UNCONFIRMED), directed and group pickup (TC's `F_PICKUP` takes no extension, group pickup
/// needs a code deskprov's key has not), intercom, forward and conference (flags
/// UNCONFIRMED), and transfer or voicemail with a number.
fn dss_key(key: &Key) -> Option<(u8, Option<String>)> {
    let line = key.line;
    let at_line = |flags: &str| {
        key.value
            .as_ref()
            .map(|value| format!("{value}@{line}/{flags}"))
    };
    let event = |name: &str| Some((3, Some(name.to_string())));
    match (key.kind, key.value.is_some()) {
        (KeyType::Line, _) => Some((2, Some(format!("SIP{line}")))),
        (KeyType::Blf, _) => Some((1, at_line("ba"))),
        (KeyType::SpeedDial, _) => Some((1, at_line("f"))),
        (KeyType::Dtmf, _) => Some((4, None)),
        (KeyType::Url | KeyType::Hotdesk, _) => Some((7, None)),
        (KeyType::Dnd, _) => event("F_DND"),
        (KeyType::Transfer, false) => event("F_B_TRANSFER"),
        (KeyType::Voicemail, false) => event("F_MWI"),
        (KeyType::Transfer | KeyType::Voicemail, true)
        | (KeyType::Park, _)
        | (KeyType::Pickup, _)
        | (KeyType::GroupPickup, _)
        | (KeyType::Intercom, _)
        | (KeyType::Forward, _)
        | (KeyType::Conference, _)
        | (KeyType::None, _) => None,
    }
}

fn dss_layout(model: &ModelRow) -> Option<&'static DssLayout> {
    DSS_LAYOUTS
        .iter()
        .find(|(name, _)| *name == model.model)
        .map(|(_, layout)| *layout)
}

/// The `<sysConf>` pages a template loops over (`element`, `index`, the first and last key
/// position on it) and each position's `<Fkey index>` within its page (`fkey_index[p]`).
fn dss_pages(layout: &DssLayout) -> serde_json::Value {
    let mut pages = vec![json!({
        "element": "dssSide", "index": 1, "first": 1, "last": layout.side,
    })];
    let mut fkey_index: Vec<u16> = std::iter::once(0).chain(1..=layout.side).collect();
    for page in 1..=layout.pages {
        let first = layout.side + layout.per_page * u16::from(page - 1) + 1;
        pages.push(json!({
            "element": "internal", "index": page, "first": first, "last": first + layout.per_page - 1,
        }));
        fkey_index.extend(1..=layout.per_page);
    }
    json!({ "pages": pages, "page_count": layout.pages, "fkey_index": fkey_index })
}

/// Whether a phone of `model` on `firmware` reads the old `<VOIP_CONFIG_FILE>` format.
fn reads_old_format(model: Option<&ModelRow>, firmware: Option<&str>) -> bool {
    let Some((_, newest)) = model.and_then(|row| OLD_FORMAT.iter().find(|(m, _)| *m == row.model))
    else {
        return false;
    };
    match (newest, firmware.and_then(version_numbers)) {
        (None, _) | (_, None) => true,
        (Some(newest), Some(reported)) => {
            let newest = version_numbers(newest).unwrap_or_default();
            reported.iter().take(newest.len()).le(newest.iter())
        }
    }
}

/// `2.10.2.6887` → [2, 10, 2, 6887]; none unless every part is a number.
fn version_numbers(version: &str) -> Option<Vec<u32>> {
    version.split('.').map(|part| part.parse().ok()).collect()
}

fn language_code(table: &[(&str, &'static str)], language: &Language) -> Option<&'static str> {
    table
        .iter()
        .find(|(iso, _)| *iso == language.code)
        .map(|(_, code)| *code)
}

/// The fetch interval in whole hours, the unit of `FlashInterval`/`Download_Interval` (TC
/// `fanvil.macros` `upgrade_wait_hours`), at least one.
fn resync_hours(minutes: u32) -> u32 {
    minutes.div_ceil(60).max(1)
}

/// `DSTStart*`/`DSTEnd*`: month, week (5 the last), weekday (0 Sunday) and hour, as in the
/// POSIX rule; an hour outside the day is not expressible.
fn fanvil_dst_change(change: DstChange) -> Option<serde_json::Value> {
    let hour = u8::try_from(change.hour).ok().filter(|h| *h < 24)?;
    Some(json!({
        "month": change.month,
        "week": change.week,
        "weekday": change.weekday,
        "hour": hour,
    }))
}

/// `F0V00X300000.cfg`, `F0000X600000.cfg`, `f0X4hw1.100.cfg`, `fanvil_x210_v2_hwv2_0.txt`.
fn is_common_name(name: &str) -> bool {
    let word = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_')
    };
    if let Some(stem) = name.strip_suffix(".cfg") {
        return (stem.starts_with("F0V00X")
            || stem.starts_with("F0000X")
            || (stem.starts_with("f0X") && stem.contains("hw")))
            && word(stem);
    }
    name.strip_prefix("fanvil_")
        .and_then(|s| s.strip_suffix("_hwv2_0.txt"))
        .is_some_and(word)
}

/// The model a common file is named after, where it is one in the table: `f0X4hw1.100.cfg`
/// is the X4's, `F0V00X5S0000.cfg` the X5S's (WZ `wazo_fanvil/serie_x/entry.py`
/// `COMMON_FILES`).
fn model_of_common_name(name: &str) -> Option<ModelId> {
    let stem = name.strip_suffix(".cfg")?;
    let model = match stem.strip_prefix("f0") {
        Some(rest) => rest.split("hw").next()?,
        // `F0000X600000.cfg` is the X6V2's, which has no row.
        None => stem.strip_prefix("F0V00")?.trim_end_matches('0'),
    };
    let row = MODELS
        .iter()
        .find(|row| row.model.eq_ignore_ascii_case(model))?;
    ModelId::parse(row.model).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_zones() {
        let values = |zone: &str| {
            let settings = crate::settings::Settings {
                time_zone: Some(zone.into()),
                ..Default::default()
            };
            Fanvil.template_values(&TemplateFacts::new(&settings, None, None))
        };
        let berlin = values("Europe/Berlin");
        assert_eq!(berlin["time_zone"], 4);
        assert_eq!(
            berlin["dst"],
            json!({
                "start": {"month": 3, "week": 5, "weekday": 0, "hour": 2},
                "end": {"month": 10, "week": 5, "weekday": 0, "hour": 3},
            })
        );
        assert_eq!(values("America/New_York")["time_zone"], -20);
        assert_eq!(values("Asia/Kolkata")["time_zone"], 22);
        assert_eq!(values("America/St_Johns")["time_zone"], -14);
        assert!(values("Asia/Tokyo")["dst"].is_null());
        assert!(values("Asia/Jerusalem")["dst"].is_null());
    }

    #[test]
    fn each_sysconf_layout_is_its_rows_capacity_and_numbers_every_position() {
        for (model, layout) in DSS_LAYOUTS {
            let row = row(model).unwrap();
            assert_eq!(row.keys, sysconf_capacity(layout), "{model}");
            let dss = dss_pages(layout);
            let index = dss["fkey_index"].as_array().unwrap();
            assert_eq!(index.len(), usize::from(row.keys.line_keys) + 1, "{model}");
            let pages = dss["pages"].as_array().unwrap();
            assert_eq!(pages.last().unwrap()["last"], row.keys.line_keys, "{model}");
        }
        let x4u = dss_pages(&X4U);
        assert_eq!(x4u["fkey_index"][3], 3);
        assert_eq!(x4u["fkey_index"][4], 1, "page 1 starts after the side keys");
        assert_eq!(
            x4u["pages"][2],
            json!({"element": "internal", "index": 2, "first": 10, "last": 15})
        );
    }

    fn row(model: &str) -> Option<&'static ModelRow> {
        crate::models::find("fanvil", model)
    }

    #[test]
    fn the_format_follows_model_and_firmware() {
        // X4: the old format on every firmware (WZ X4.tpl with 2.14.0, FP fanvil/x4).
        assert!(reads_old_format(row("X4"), Some("2.10.2.6887")));
        assert!(reads_old_format(row("X4"), Some("2.14.0.7386")));
        // X3S/X5S/X6: old up to the firmware the peers provision that way.
        assert!(reads_old_format(row("X3S"), Some("2.10.2.6887")));
        assert!(!reads_old_format(row("X3S"), Some("2.12.1")));
        assert!(reads_old_format(row("X5S"), Some("1.12.2.3144")));
        assert!(!reads_old_format(row("X5S"), Some("2.4.12")));
        assert!(!reads_old_format(row("X6"), Some("1.12.3")));
        // Before the phone reports a firmware, or with one that is not a version: old.
        assert!(reads_old_format(row("X6"), None));
        assert!(reads_old_format(row("X6"), Some("V2.x")));
        // Everything else reads <sysConf>.
        assert!(!reads_old_format(row("X4U"), None));
        assert!(!reads_old_format(None, Some("2.10.2.6887")));
        assert_eq!(Fanvil.device_template(row("X4"), None), OLD_FORMAT_DESK);
        assert_eq!(Fanvil.device_template(row("X4U"), None), DESK);
        assert_eq!(Fanvil.device_template(None, None), DESK);
        let templates = crate::templates::Templates::load(None).unwrap();
        assert!(templates.names().any(|name| name == OLD_FORMAT_DESK));
    }

    #[test]
    fn common_names_tell_the_model() {
        let model = |name: &str| model_of_common_name(name).map(|m| m.as_str().to_string());
        assert_eq!(model("f0X4hw1.100.cfg").as_deref(), Some("X4"));
        assert_eq!(model("f0X3shw1.100.cfg").as_deref(), Some("X3S"));
        assert_eq!(model("F0V00X5S0000.cfg").as_deref(), Some("X5S"));
        assert_eq!(model("F0V00X600000.cfg").as_deref(), Some("X6"));
        assert_eq!(model("F0V00X300000.cfg"), None, "the X3 has no row");
        assert_eq!(model("F0000X600000.cfg"), None, "the X6V2 has no row");
        assert_eq!(model("fanvil_x210_v2_hwv2_0.txt"), None);
    }

    #[test]
    fn languages_and_resync_interval() {
        let values = |code: &str, model: Option<&'static ModelRow>| {
            let settings = crate::settings::Settings::default();
            let mut facts = TemplateFacts::new(&settings, None, model);
            facts.language = crate::locale::language(code);
            Fanvil.template_values(&facts)["language"].clone()
        };
        assert_eq!(values("cs", row("X4U")), "cz");
        assert!(values("sv", row("X4U")).is_null());
        assert_eq!(values("de", row("X4")), "16");
        assert!(values("pl", row("X4")).is_null());
        for language in crate::locale::LANGUAGES {
            let code = values(language.code, row("X4U"));
            assert!(code.is_null() || code.as_str().is_some_and(|c| c.len() <= 3));
        }
        assert_eq!(resync_hours(1), 1);
        assert_eq!(resync_hours(60), 1);
        assert_eq!(resync_hours(61), 2);
        assert_eq!(resync_hours(120), 2);
    }

    #[test]
    fn user_agents() {
        let x4 = Fanvil
            .parse_user_agent("Fanvil X4 2.10.2.6887 0c383e07e16c")
            .unwrap();
        assert_eq!(x4.model.unwrap().as_str(), "X4");
        assert_eq!(x4.firmware.as_deref(), Some("2.10.2.6887"));
        assert_eq!(x4.mac.unwrap().to_hex(), "0c383e07e16c");
        let pro = Fanvil
            .parse_user_agent("Fanvil X6U Pro 0.0.10 0c383e2cd782")
            .unwrap();
        assert_eq!(pro.model.unwrap().as_str(), "X6U-PRO");
        let v2 = Fanvil
            .parse_user_agent("Fanvil X5U-V2 2.12.16.17 0c383e557eb1")
            .unwrap();
        assert_eq!(v2.model.unwrap().as_str(), "X5U-V2");
    }

    #[test]
    fn notify_events() {
        assert_eq!(Fanvil.notify_event(), "check-sync");
        assert_eq!(Fanvil.reboot_event(), Some("check-sync;reboot=true"));
    }

    #[test]
    fn file_names() {
        for common in [
            "F0V00X300000.cfg",
            "f0X4hw1.100.cfg",
            "F0000X600000.cfg",
            "fanvil_x210_v2_hwv2_0.txt",
        ] {
            assert!(
                matches!(
                    Fanvil.classify_file(common),
                    Some(FileRequest::Common { .. })
                ),
                "{common}"
            );
        }
        let mac = Mac::parse("0c383e07e16c").unwrap();
        assert_eq!(
            Fanvil.classify_file("0c383e07e16c.cfg"),
            Some(FileRequest::Device { mac })
        );
        for other in [
            "fanvil_../x_hwv2_0.txt",
            "F0V00X.cfg.bak",
            "000000000000.cfg",
        ] {
            assert_eq!(Fanvil.classify_file(other), None, "{other}");
        }
    }
}
