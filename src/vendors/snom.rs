//! Snom D-series desk phones and M-series DECT bases (M300, M400, M700, M900).
//!
//! A phone pointed at a settings URL without a file name fetches `snom{model}.htm`, then
//! `snom{model}-{MAC}.htm` (phones.md §1.4): deskprov serves settings XML under both names, the
//! first without secrets, the second with the device's accounts. User-Agents:
//! `Mozilla/4.0 (compatible; snomD785-SIP 10.1.33.33 2010.12-00004-g9ba52f5 000413922D24 SXM:0 UXM:0)`
//! (old firmware without the MAC), and `Mozilla/4.0 (compatible; Snom M900 05.20.0001 000413b60680)`.
//! On M-series bases accounts are bound to handset slots by `subscr_sip_hs_idx`.

use serde_json::json;

use super::{
    FileRequest, HotdeskScreens, NameHints, TemplateFacts, UaInfo, Vendor, after_keyword,
    clean_firmware, mac_in,
};
use crate::domain::{Mac, ModelId};
use crate::keys::effective::KeyCapacity;
use crate::keys::{Key, KeyType};
use crate::locale::DstChange;
use crate::models::{HotdeskSupport, ModelRow};
use crate::templates::Format;

pub struct Snom;

const VENDOR: &str = "snom";
const DESK: &str = "snom/desk.xml";
const DECT: &str = "snom/dect-base.xml";
const COMMON: &str = "snom/common.xml";
const HOTDESK: &str = "snom/hotdesk.xml";
/// The firmware settings file, `snom-firmware-{image}.xml`: the device file names it in
/// `firmware_status`, and it names the image (service.snom.com/x/u733DQ).
const FIRMWARE: &str = "snom/firmware.xml";
const PHONEBOOK: &str = "snom/phonebook.xml";
const FIRMWARE_FILE_PREFIX: &str = "snom-firmware-";
/// The model in the file name of a device whose model is not known, one of the table's.
const FILE_NAME_MODEL: &str = "D785";

/// Identities per desk model and handset accounts per base, from Snom's data sheets. Function
/// keys of the D7xx desk phones and their D7 expansion modules as Tancredi counts them
/// (`data/scopes/snom-D7xx.ini`: `cap_linekey_count`, `cap_expkey_count` keys on each of
/// `cap_expmodule_count` modules; the D715, D745 and D765 scopes list no module); the keys are
/// counted as one run (`pages` 1) because Snom numbers them so (`fkey idx`). Other models have
/// no key data yet; the M-series bases program no keys (their handsets take none from here).
static MODELS: &[ModelRow] = &[
    ModelRow::desk(VENDOR, "D120", 1, DESK).family("D"),
    ModelRow::desk(VENDOR, "D305", 2, DESK).family("D"),
    ModelRow::desk(VENDOR, "D315", 4, DESK).family("D"),
    ModelRow::desk(VENDOR, "D335", 12, DESK).family("D"),
    ModelRow::desk(VENDOR, "D345", 12, DESK).family("D"),
    ModelRow::desk(VENDOR, "D375", 12, DESK).family("D"),
    ModelRow::desk(VENDOR, "D385", 12, DESK).family("D"),
    ModelRow::desk(VENDOR, "D712", 4, DESK)
        .family("D")
        .keys(KeyCapacity::keys(5, 1).modules(3, 18)),
    ModelRow::desk(VENDOR, "D713", 4, DESK)
        .family("D")
        .keys(KeyCapacity::keys(4, 1).modules(3, 18)),
    ModelRow::desk(VENDOR, "D715", 4, DESK)
        .family("D")
        .keys(KeyCapacity::keys(5, 1)),
    ModelRow::desk(VENDOR, "D717", 6, DESK)
        .family("D")
        .keys(KeyCapacity::keys(3, 1).modules(3, 18)),
    ModelRow::desk(VENDOR, "D725", 12, DESK)
        .family("D")
        .keys(KeyCapacity::keys(18, 1).modules(3, 18)),
    ModelRow::desk(VENDOR, "D735", 12, DESK)
        .family("D")
        .keys(KeyCapacity::keys(32, 1).modules(3, 18)),
    ModelRow::desk(VENDOR, "D745", 12, DESK)
        .family("D")
        .keys(KeyCapacity::keys(32, 1)),
    ModelRow::desk(VENDOR, "D765", 12, DESK)
        .family("D")
        .keys(KeyCapacity::keys(16, 1)),
    ModelRow::desk(VENDOR, "D785", 12, DESK)
        .family("D")
        .keys(KeyCapacity::keys(24, 1).modules(4, 18)),
    ModelRow::desk(VENDOR, "D812", 12, DESK).family("D"),
    ModelRow::desk(VENDOR, "D815", 12, DESK).family("D"),
    ModelRow::desk(VENDOR, "D862", 12, DESK).family("D"),
    ModelRow::desk(VENDOR, "D865", 12, DESK).family("D"),
    ModelRow::dect_base(VENDOR, "M300", 20, DECT).family("M"),
    ModelRow::dect_base(VENDOR, "M400", 20, DECT).family("M"),
    ModelRow::dect_base(VENDOR, "M700", 30, DECT).family("M"),
    // The M900's minibrowser appends `IDX`, the handset's index, to every request
    // (service.snom.com, M900 firmware 510 and later).
    ModelRow::dect_base(VENDOR, "M900", 30, DECT)
        .family("M")
        .hotdesk(HotdeskSupport::Handsets { param: "IDX" }),
];

impl Vendor for Snom {
    /// `SnomIPPhoneDirectory` of the XML minibrowser (service.snom.com "XML Minibrowser"), opened
    /// by the directory key.
    fn phonebook_template(&self) -> Option<&'static str> {
        Some(PHONEBOOK)
    }

    /// The key's `<fkey>` text: its keyword, then the key's value where the keyword takes one;
    /// `table` picks its `idx` in `fkey_idx` (0 the phone, else the module). `null` for a type
    /// no source gives a Snom keyword for: the template writes no key there.
    fn key_values(&self, key: &Key) -> serde_json::Value {
        let Some((keyword, takes_value)) = fkey_keyword(key) else {
            return serde_json::Value::Null;
        };
        json!({
            "table": key.at.module.unwrap_or(0),
            "keyword": keyword,
            "takes_value": takes_value,
        })
    }

    fn id(&self) -> &'static str {
        VENDOR
    }

    fn format(&self) -> Format {
        Format::Xml
    }

    fn mac_prefixes(&self) -> &'static [&'static str] {
        &["000413", "00087B"]
    }

    fn models(&self) -> &'static [ModelRow] {
        MODELS
    }

    fn parse_user_agent(&self, user_agent: &str) -> Option<UaInfo> {
        let rest = after_keyword(user_agent, "snom")?;
        // "D785-SIP 10.1..." (desk), " M900 05.20..." (DECT), "M700/03.23.0005 (MAC=...)" (PnP),
        // "-m3-SIP/02.11//18-Aug-10" (m3), " lid 3605" (6.5 firmware, no model).
        let rest = rest.trim_start().trim_start_matches('-');
        let (model_token, after) = rest.split_once([' ', '/']).unwrap_or((rest, ""));
        let model = snom_model(model_token);
        // "6.5.20; snom320 jffs2 v3.36": the version ends at ';' (and at '/' on the m3); a
        // number after no model ("lid 3605") is not known to be one.
        let firmware = after
            .split_whitespace()
            .next()
            .and_then(|t| t.split([';', '/']).next())
            .filter(|t| model.is_some() && t.starts_with(|c: char| c.is_ascii_digit()))
            .and_then(clean_firmware);
        Some(UaInfo {
            vendor: self.id(),
            model,
            firmware,
            mac: mac_in(after),
        })
    }

    fn classify_file(&self, file_name: &str) -> Option<FileRequest> {
        if let Some(image) = firmware_image_in(file_name) {
            let hints = NameHints {
                file: Some(image.to_string()),
                ..NameHints::default()
            };
            return Some(FileRequest::Common {
                template: FIRMWARE,
                hints,
            });
        }
        let stem = file_name.strip_prefix("snom")?.strip_suffix(".htm")?;
        if let Some((_, mac)) = stem.rsplit_once('-')
            && let Ok(mac) = Mac::parse(mac)
        {
            return Some(FileRequest::Device { mac });
        }
        if !stem.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return None;
        }
        let model = ModelId::parse(stem).ok()?;
        let hints = NameHints {
            model: Some(model),
            ..NameHints::default()
        };
        Some(FileRequest::Common {
            template: COMMON,
            hints,
        })
    }

    fn device_file_name(&self, mac: Mac, model: Option<&ModelId>) -> String {
        let model = model.map(ModelId::as_str).unwrap_or(FILE_NAME_MODEL);
        format!("snom{model}-{}.htm", mac.to_hex_upper())
    }

    fn common_templates(&self) -> &'static [&'static str] {
        &[COMMON, FIRMWARE]
    }

    fn default_device_template(&self) -> &'static str {
        DESK
    }

    fn template_values(&self, facts: &TemplateFacts<'_>) -> serde_json::Value {
        // The vendor's codes for UDP, TCP and TLS.
        let transport = facts.settings.sip_transport.pick("udp", "tcp", "tls");
        let zone = facts.settings.time_zone();
        // `dst`: the saving in seconds, then start and end as `MM.WW.DD HH:MM:SS` (week 5 the
        // last, Monday 1 to Sunday 7).
        let dst = zone
            .and_then(|z| crate::locale::dst_changes(z.posix))
            .and_then(|(start, end)| {
                Some(format!(
                    "3600 {} {}",
                    snom_dst_change(start)?,
                    snom_dst_change(end)?
                ))
            });
        let identities = facts
            .model
            .map_or(crate::models::MAX_LINES_UNKNOWN_MODEL, ModelRow::lines);
        let capacity = facts.model.map_or(KeyCapacity::NONE, |row| row.keys);
        let login_idx = facts.login_key_at.map(|at| idx_of(capacity, at));
        json!({
            "transport": transport,
            "utc_offset": zone.map(|z| format!("{:+}", i32::from(z.offset_minutes) * 60)),
            "dst": dst,
            "language": facts.language.and_then(|l| snom_language(l.code)),
            "function_keys": function_keys(identities, login_idx),
            "fkey_idx": facts
                .writes_keys
                .then(|| fkey_idx(capacity, identities, login_idx)),
            "firmware_file_prefix": FIRMWARE_FILE_PREFIX,
            "firmware_directory": crate::firmware::URL_DIRECTORY,
        })
    }

    /// M-series: the 4-digit access code a handset registers to its slot with.
    fn line_values(&self, index: u16, model: Option<&ModelRow>) -> serde_json::Value {
        match model {
            Some(row) if row.is_dect() => json!({ "access_code": format!("{index:04}") }),
            _ => serde_json::Value::Null,
        }
    }

    /// SnomIPPhoneInput has one input, so extension and PIN are asked in two screens.
    fn hotdesk_screens(&self) -> Option<HotdeskScreens> {
        Some(HotdeskScreens {
            template: HOTDESK,
            content_type: "application/xml",
            one_field_per_screen: true,
        })
    }

    fn notify_event(&self) -> &'static str {
        "check-sync;reboot=false"
    }

    // Snom wiki "SIP NOTIFY check-sync": reboot=true restarts the phone.
    fn reboot_event(&self) -> Option<&'static str> {
        Some("check-sync;reboot=true")
    }
}

/// Function key indexes on a desk phone: P1..Pn (`idx` 0..n-1) stay the identities' line keys,
/// as FP assigns them (`<fkey idx="{line-1}">line</fkey>`, FP snom/D785 l.97-101); the hot-desk
/// Login and PIN keys take the next two. Where the key list carries the login key (at
/// `login_idx`), only the PIN key is placed here: at n+1, or at n when the login key took n+1.
fn function_keys(identities: u16, login_idx: Option<u16>) -> serde_json::Value {
    json!({
        "lines": (0..identities).collect::<Vec<_>>(),
        "login": identities,
        "pin": pin_idx(identities, login_idx),
    })
}

fn pin_idx(identities: u16, login_idx: Option<u16>) -> u16 {
    match login_idx {
        Some(login) if login == identities + 1 => identities,
        _ => identities + 1,
    }
}

/// The `fkey idx` of a key position (see [`fkey_idx`]).
fn idx_of(capacity: KeyCapacity, at: crate::keys::KeyPosition) -> u16 {
    let before = match at.module {
        None => 0,
        Some(module) => capacity.line_keys + (u16::from(module) - 1) * capacity.keys_per_module,
    };
    before + at.position - 1
}

/// Snom's `<fkey>` keyword of a key type, and whether the key's value follows it. From FusionPBX
/// `app/devices/resources/classes/snom.php` (the keyword list), wazo-provd-plugins
/// `plugins/wazo_snom/common_v10/common.py` (`_add_fkeys`: `speed`, `orbit`, `blf`) and
/// Tancredi `data/templates/snom.tmpl` (`keyevent F_DND`). A hot-desk key is a `url` key opening
/// the login screen. UNCONFIRMED, so not written: directed and group pickup (Tancredi
/// blacklists `direct_pickup` for every D7xx), transfer and forward without a target, park without
/// a slot, voicemail without a number (with one it is a speed dial to it).
fn fkey_keyword(key: &Key) -> Option<(&'static str, bool)> {
    let has_value = key.value.is_some();
    Some(match key.kind {
        KeyType::Line => ("line", false),
        KeyType::Blf => ("blf", true),
        KeyType::SpeedDial => ("speed", true),
        KeyType::Dtmf => ("dtmf", true),
        KeyType::Intercom => ("icom", true),
        KeyType::Conference => ("conference", false),
        KeyType::Dnd => ("keyevent F_DND", false),
        KeyType::Url | KeyType::Hotdesk => ("url", true),
        KeyType::Park if has_value => ("orbit", true),
        KeyType::Transfer if has_value => ("transfer", true),
        KeyType::Forward if has_value => ("redirect", true),
        KeyType::Voicemail if has_value => ("speed", true),
        KeyType::Park
        | KeyType::Transfer
        | KeyType::Forward
        | KeyType::Voicemail
        | KeyType::Pickup
        | KeyType::GroupPickup
        | KeyType::None => return None,
    })
}

/// Each key position's `fkey idx`, by table (0 the phone, then each module) and position (index
/// 0 unused): the phone's keys from 0, each module's after the phone's and the modules before it
/// (Tancredi `snom.tmpl` writes module keys from `idx` = the phone's key count on). On a
/// hot-desk phone the Login and PIN keys keep their `idx` (`hotdesk_reserved`); where the key
/// list carries the login key (`login_idx`), only the PIN's `idx` is kept. Handlebars has no
/// arithmetic, so the template looks the numbers up here.
fn fkey_idx(capacity: KeyCapacity, identities: u16, login_idx: Option<u16>) -> serde_json::Value {
    let pin = pin_idx(identities, login_idx);
    let reserved = |idx: u16| idx == pin || (login_idx.is_none() && idx == identities);
    let table = |first: u16, count: u16| {
        let mut entries = vec![serde_json::Value::Null];
        entries.extend(
            (first..first + count)
                .map(|idx| json!({ "idx": idx, "hotdesk_reserved": reserved(idx) })),
        );
        serde_json::Value::Array(entries)
    };
    let modules = (0..u16::from(capacity.modules)).map(|m| {
        table(
            capacity.line_keys + m * capacity.keys_per_module,
            capacity.keys_per_module,
        )
    });
    serde_json::Value::Array(
        std::iter::once(table(0, capacity.line_keys))
            .chain(modules)
            .collect(),
    )
}

/// `snom-firmware-snomD785-10.1.159.12-r.bin.xml` → `snomD785-10.1.159.12-r.bin`: a file name
/// as the `firmware_file` setting allows one (letters, digits, '.', '_', '-'; no leading '.').
fn firmware_image_in(file_name: &str) -> Option<&str> {
    let image = file_name
        .strip_prefix(FIRMWARE_FILE_PREFIX)?
        .strip_suffix(".xml")?;
    let allowed = |b: u8| b.is_ascii_alphanumeric() || b"._-".contains(&b);
    (!image.is_empty()
        && image.len() <= 128
        && !image.starts_with('.')
        && image.bytes().all(allowed))
    .then_some(image)
}

/// "D785-SIP" → D785, "m3-SIP" → M3, "M900" → M900; every Snom model has a digit, so "lid" (the
/// 6.5 firmware's word) is none.
fn snom_model(token: &str) -> Option<ModelId> {
    let token = token.trim_end_matches("-SIP").trim_end_matches("-sip");
    token
        .bytes()
        .any(|b| b.is_ascii_digit())
        .then(|| ModelId::parse(token).ok())
        .flatten()
}

/// `language` and `web_language`: Snom names each language in itself, without accents.
fn snom_language(code: &str) -> Option<&'static str> {
    Some(match code {
        "en" => "English",
        "de" => "Deutsch",
        "fr" => "Francais",
        "es" => "Espanol",
        "it" => "Italiano",
        "nl" => "Nederlands",
        "pt" => "Portugues",
        "pl" => "Polski",
        "sv" => "Svenska",
        "da" => "Dansk",
        "nb" => "Norsk",
        "fi" => "Suomi",
        "cs" => "Cestina",
        "tr" => "Turkce",
        "ru" => "Russian",
        _ => return None,
    })
}

/// One end of the `dst` setting: `03.05.07 02:00:00` is the last Sunday of March at 2:00.
fn snom_dst_change(change: DstChange) -> Option<String> {
    let hour = u8::try_from(change.hour).ok().filter(|h| *h < 24)?;
    let weekday = if change.weekday == 0 {
        7
    } else {
        change.weekday
    };
    Some(format!(
        "{:02}.{:02}.{weekday:02} {hour:02}:00:00",
        change.month, change.week
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(zone: &str) -> serde_json::Value {
        let settings = crate::settings::Settings {
            time_zone: Some(zone.into()),
            ..Default::default()
        };
        Snom.template_values(&TemplateFacts::new(&settings, None, None))
    }

    #[test]
    fn time_zones() {
        let berlin = values("Europe/Berlin");
        assert_eq!(berlin["utc_offset"], "+3600");
        assert_eq!(berlin["dst"], "3600 03.05.07 02:00:00 10.05.07 03:00:00");
        let new_york = values("America/New_York");
        assert_eq!(new_york["utc_offset"], "-18000");
        assert_eq!(new_york["dst"], "3600 03.02.07 02:00:00 11.01.07 02:00:00");
        let utc = values("UTC");
        assert_eq!(utc["utc_offset"], "+0");
        assert!(utc["dst"].is_null());
        assert!(
            values("Asia/Jerusalem")["dst"].is_null(),
            "26:00 is no hour"
        );
    }

    /// Every deskprov zone gets its offset in seconds and its DST rule by week; the one rule no
    /// week expresses (Jerusalem: Thursday of week 4 at 26:00) gets none, so that phone keeps
    /// standard time (docs/vendors/snom.md).
    #[test]
    fn every_zone_has_an_offset_and_a_dst_rule_by_week() {
        for zone in crate::locale::TIME_ZONES {
            let v = values(zone.name);
            let expected = format!("{:+}", i32::from(zone.offset_minutes) * 60);
            assert_eq!(v["utc_offset"], expected, "{}", zone.name);
            let expressible = crate::locale::dst_changes(zone.posix)
                .is_some_and(|(start, end)| start.hour < 24 && end.hour < 24);
            assert_eq!(!v["dst"].is_null(), expressible, "{}", zone.name);
            if let Some(dst) = v["dst"].as_str() {
                let fields: Vec<&str> = dst.split(' ').collect();
                assert_eq!(fields.len(), 5, "{}: {dst}", zone.name);
                assert!(
                    fields[1].len() == 8 && fields[3].len() == 8,
                    "{}: {dst}",
                    zone.name
                );
            }
        }
        assert!(values("Asia/Jerusalem")["dst"].is_null());
    }

    #[test]
    fn every_language_has_an_ascii_name() {
        let settings = crate::settings::Settings::default();
        for language in crate::locale::LANGUAGES {
            let mut facts = TemplateFacts::new(&settings, None, None);
            facts.language = Some(language);
            let name = Snom.template_values(&facts)["language"].clone();
            assert!(
                name.as_str().is_some_and(str::is_ascii),
                "{}: {name}",
                language.code
            );
        }
        assert!(values("UTC")["language"].is_null());
    }

    #[test]
    fn user_agents() {
        let d785 = Snom
            .parse_user_agent("Mozilla/4.0 (compatible; snomD785-SIP 10.1.33.33 2010.12-00004-g9ba52f5 000413922D24 SXM:0 UXM:0)")
            .unwrap();
        assert_eq!(d785.model.unwrap().as_str(), "D785");
        assert_eq!(d785.firmware.as_deref(), Some("10.1.33.33"));
        assert_eq!(d785.mac.unwrap().to_hex(), "000413922d24");
        let old = Snom
            .parse_user_agent("Mozilla/4.0 (compatible; snom320-SIP 8.4.18 1.1.3-s)")
            .unwrap();
        assert_eq!(old.model.unwrap().as_str(), "320");
        assert_eq!(old.mac, None);
        let m900 = Snom
            .parse_user_agent("Mozilla/4.0 (compatible; Snom M900 05.20.0001 000413b60680)")
            .unwrap();
        assert_eq!(m900.model.unwrap().as_str(), "M900");
        assert_eq!(m900.firmware.as_deref(), Some("05.20.0001"));
        assert_eq!(m900.mac.unwrap().to_hex(), "000413b60680");
        let pnp = Snom
            .parse_user_agent("snomM700/03.23.0005 (MAC=000413612345; SER=abc; HW=255)")
            .unwrap();
        assert_eq!(pnp.model.unwrap().as_str(), "M700");
        assert_eq!(pnp.mac.unwrap().to_hex(), "000413612345");
        assert!(
            Snom.parse_user_agent("Mozilla/5.0 (X11; Linux x86_64)")
                .is_none()
        );
    }

    /// Forms of older firmware, from WZ snom common.py and FP app/provision/index.php.
    #[test]
    fn older_generations() {
        let semicolon = Snom
            .parse_user_agent("Mozilla/4.0 (compatible; snom320-SIP 6.5.20; snom320 jffs2 v3.36; snom320 linux 3.38)")
            .unwrap();
        assert_eq!(semicolon.model.unwrap().as_str(), "320");
        assert_eq!(semicolon.firmware.as_deref(), Some("6.5.20"));
        let lid = Snom
            .parse_user_agent("Mozilla/4.0 (compatible; snom lid 3605)")
            .unwrap();
        assert_eq!((lid.model, lid.firmware, lid.mac), (None, None, None));
        let m3 = Snom
            .parse_user_agent("snom-m3-SIP/02.11//18-Aug-10 15:36")
            .unwrap();
        assert_eq!(m3.model.unwrap().as_str(), "M3");
        assert_eq!(m3.firmware.as_deref(), Some("02.11"));
        let dated = Snom
            .parse_user_agent("Mozilla/4.0 (compatible; snomD785-SIP 10.1.169.16 2010.12-00001-gd311851f1 (Feb 25 2019 - 14:19:43) 00041396D9B4 SXM:0 UXM:0 UXMC:0)")
            .unwrap();
        assert_eq!(dated.firmware.as_deref(), Some("10.1.169.16"));
        assert_eq!(dated.mac.unwrap().to_hex(), "00041396d9b4");
        let pa1 = Snom
            .parse_user_agent("Mozilla/4.0 (compatible; snomPA1-SIP 8.4.35 1.1.3-s)")
            .unwrap();
        assert_eq!(pa1.model.unwrap().as_str(), "PA1");
    }

    #[test]
    fn file_names() {
        let hints = match Snom.classify_file("snomD785.htm") {
            Some(FileRequest::Common {
                template: COMMON,
                hints,
            }) => hints,
            other => panic!("{other:?}"),
        };
        assert_eq!(hints.model.unwrap().as_str(), "D785");
        let mac = Mac::parse("000413A11FA7").unwrap();
        assert_eq!(
            Snom.classify_file("snomD345-000413A11FA7.htm"),
            Some(FileRequest::Device { mac })
        );
        assert_eq!(
            Snom.classify_file("snomM700-000413A11FA7.htm"),
            Some(FileRequest::Device { mac })
        );
        for other in [
            "snomD785-firmware.htm",
            "snom.htm",
            "D785.htm",
            "snomD785.xml",
        ] {
            assert!(
                !matches!(Snom.classify_file(other), Some(FileRequest::Device { .. })),
                "{other}"
            );
        }
        assert_eq!(Snom.classify_file("snomD785-firmware.htm"), None);
    }

    #[test]
    fn firmware_settings_files_name_an_image() {
        let image = |name: &str| match Snom.classify_file(name) {
            Some(FileRequest::Common {
                template: FIRMWARE,
                hints,
            }) => hints.file,
            _ => None,
        };
        assert_eq!(
            image("snom-firmware-snomD785-10.1.159.12-r.bin.xml").as_deref(),
            Some("snomD785-10.1.159.12-r.bin")
        );
        for refused in [
            "snom-firmware-.xml",
            "snom-firmware-.hidden.xml",
            "snom-firmware-a b.xml",
            "snom-firmware-x.bin",
            "snom-firmware-a%2Fb.xml",
        ] {
            assert_eq!(image(refused), None, "{refused}");
        }
    }

    #[test]
    fn hot_desk_keys_come_after_the_identities() {
        let keys = function_keys(4, None);
        assert_eq!(keys["lines"], json!([0, 1, 2, 3]));
        assert_eq!(
            (keys["login"].clone(), keys["pin"].clone()),
            (json!(4), json!(5))
        );
        let row = crate::models::find(VENDOR, "D785").unwrap();
        let settings = crate::settings::Settings::default();
        let values = Snom.template_values(&TemplateFacts::new(&settings, None, Some(row)));
        assert_eq!(values["function_keys"]["login"], 12);
    }

    /// A D712 has 4 identities and 5 keys: its PIN key (idx 5) is the first module key's idx,
    /// so that key yields to it on a hot-desk phone.
    #[test]
    fn module_keys_follow_the_phones_and_yield_to_the_hot_desk_keys() {
        let row = crate::models::find(VENDOR, "D712").unwrap();
        let table = fkey_idx(row.keys, row.lines(), None);
        assert_eq!(table[0][5], json!({"idx": 4, "hotdesk_reserved": true}));
        assert_eq!(table[1][1], json!({"idx": 5, "hotdesk_reserved": true}));
        assert_eq!(table[1][2], json!({"idx": 6, "hotdesk_reserved": false}));
        assert_eq!(
            table[3][18],
            json!({"idx": 5 + 3 * 18 - 1, "hotdesk_reserved": false})
        );
        assert_eq!(
            table.as_array().unwrap().len(),
            4,
            "the phone and 3 modules"
        );
    }

    #[test]
    fn a_device_of_unknown_model_is_named_by_a_row() {
        assert!(crate::models::find(VENDOR, FILE_NAME_MODEL).is_some());
        let mac = Mac::parse("000413A11FA7").unwrap();
        assert_eq!(
            Snom.device_file_name(mac, None),
            "snomD785-000413A11FA7.htm"
        );
    }
}
