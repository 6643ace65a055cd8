//! Yealink T4x/T5x desk phones and W-series DECT bases.
//!
//! Requests (../shared/reference/phones.md §1.1): a phone first asks for `{mac}.boot`, else the
//! common `y000000000000.boot`; a boot file lists the config files to load. Without boot files it
//! fetches the common `y0000000000XX.cfg`, where XX is its firmware family, then `{mac}.cfg`.
//! deskprov answers `{mac}.boot` for any MAC (it holds no secret, and answering only registered
//! MACs would tell which are) with the common file of the phone's family and `{mac}.cfg`, and
//! `overwrite_mode = 1`, so that a key deskprov stops sending reverts to its default. The User-Agent is
//! `Yealink SIP-T46G 28.72.0.1 00:15:65:4a:a9:37` and variants (`SIP VP-`, no colons, old
//! `Yealink-T46G ...` without a MAC).

use serde_json::json;

use super::{
    FileRequest, HotdeskScreens, NameHints, TemplateFacts, UaInfo, Vendor, clean_firmware,
};
use crate::domain::{LdapTls, Mac, ModelId};
use crate::keys::effective::KeyCapacity;
use crate::keys::{Key, KeyType};
use crate::locale::{DstChange, dst_changes};
use crate::models::ModelRow;
use crate::templates::Format;

pub struct Yealink;

const VENDOR: &str = "yealink";
const DESK: &str = "yealink/desk.cfg";
const DECT: &str = "yealink/dect-base.cfg";
const COMMON: &str = "yealink/common.cfg";
const BOOT: &str = "yealink/mac.boot";
const HOTDESK: &str = "yealink/hotdesk.xml";
const PHONEBOOK: &str = "yealink/phonebook.xml";

/// Lines per model from Yealink's data sheets; firmware families where phones.md states them.
/// Keys (`linekey.N`, over 3 pages where a model has more keys than buttons) and expansion
/// modules (EXP40: 40 keys, up to 6; EXP50: 60 keys, up to 3) as wazo-provd-plugins counts
/// them (`plugins/wazo_yealink/v86/common.py`, `_NB_LINEKEY` and `_expmod_by_model`); a model
/// it does not list has no key data yet.
static MODELS: &[ModelRow] = &[
    ModelRow::desk(VENDOR, "T19P-E2", 1, DESK),
    ModelRow::desk(VENDOR, "T21P-E2", 2, DESK).keys(KeyCapacity::keys(2, 1)),
    ModelRow::desk(VENDOR, "T23G", 3, DESK).keys(KeyCapacity::keys(3, 1)),
    ModelRow::desk(VENDOR, "T27G", 6, DESK).keys(KeyCapacity::keys(21, 3).modules(6, 40)),
    ModelRow::desk(VENDOR, "T29G", 16, DESK),
    ModelRow::desk(VENDOR, "T30", 1, DESK),
    ModelRow::desk(VENDOR, "T31", 2, DESK).keys(KeyCapacity::keys(2, 1)),
    ModelRow::desk(VENDOR, "T31G", 2, DESK).keys(KeyCapacity::keys(2, 1)),
    ModelRow::desk(VENDOR, "T33G", 4, DESK).keys(KeyCapacity::keys(4, 1)),
    ModelRow::desk(VENDOR, "T40P", 3, DESK)
        .family("54")
        .keys(KeyCapacity::keys(3, 1)),
    ModelRow::desk(VENDOR, "T40G", 3, DESK).keys(KeyCapacity::keys(3, 1)),
    ModelRow::desk(VENDOR, "T41P", 6, DESK)
        .family("36")
        .keys(KeyCapacity::keys(15, 3)),
    ModelRow::desk(VENDOR, "T41S", 6, DESK).keys(KeyCapacity::keys(15, 3)),
    ModelRow::desk(VENDOR, "T42G", 12, DESK)
        .family("29")
        .keys(KeyCapacity::keys(15, 3)),
    ModelRow::desk(VENDOR, "T42S", 12, DESK).keys(KeyCapacity::keys(15, 3)),
    ModelRow::desk(VENDOR, "T43U", 12, DESK),
    ModelRow::desk(VENDOR, "T44U", 12, DESK),
    ModelRow::desk(VENDOR, "T46G", 16, DESK)
        .family("28")
        .keys(KeyCapacity::keys(27, 3).modules(6, 40)),
    ModelRow::desk(VENDOR, "T46S", 16, DESK)
        .family("66")
        .keys(KeyCapacity::keys(27, 3).modules(6, 40)),
    ModelRow::desk(VENDOR, "T46U", 16, DESK).keys(KeyCapacity::keys(27, 3)),
    ModelRow::desk(VENDOR, "T48G", 16, DESK)
        .family("35")
        .keys(KeyCapacity::keys(27, 3).modules(6, 40)),
    ModelRow::desk(VENDOR, "T48S", 16, DESK)
        .family("65")
        .keys(KeyCapacity::keys(29, 3).modules(6, 40)),
    ModelRow::desk(VENDOR, "T48U", 16, DESK).keys(KeyCapacity::keys(29, 3)),
    ModelRow::desk(VENDOR, "T52S", 12, DESK).keys(KeyCapacity::keys(21, 3).modules(3, 60)),
    ModelRow::desk(VENDOR, "T53", 12, DESK).keys(KeyCapacity::keys(21, 3).modules(3, 60)),
    ModelRow::desk(VENDOR, "T53W", 12, DESK).keys(KeyCapacity::keys(21, 3).modules(3, 60)),
    ModelRow::desk(VENDOR, "T54S", 16, DESK).keys(KeyCapacity::keys(27, 3).modules(3, 60)),
    ModelRow::desk(VENDOR, "T54W", 16, DESK)
        .family("96")
        .keys(KeyCapacity::keys(27, 3).modules(3, 60)),
    ModelRow::desk(VENDOR, "T56A", 16, DESK),
    ModelRow::desk(VENDOR, "T57W", 16, DESK).keys(KeyCapacity::keys(29, 3).modules(3, 60)),
    ModelRow::desk(VENDOR, "T58A", 16, DESK).keys(KeyCapacity::keys(27, 3).modules(3, 60)),
    ModelRow::desk(VENDOR, "T58W", 16, DESK).keys(KeyCapacity::keys(27, 3).modules(3, 60)),
    ModelRow::desk(VENDOR, "VP59", 16, DESK),
    ModelRow::desk(VENDOR, "VP-T49G", 16, DESK),
    // No hot-desk: the handsets of W-series bases have an XML browser too, but how a base
    // tells which handset asks is not known (phones.md §3.1).
    ModelRow::dect_base(VENDOR, "W52P", 5, DECT).family("25"),
    ModelRow::dect_base(VENDOR, "W60B", 8, DECT).family("77"),
    ModelRow::dect_base(VENDOR, "W70B", 10, DECT).family("146"),
    // In a W80 system the DECT manager holds the accounts and the W80B bases none (WZ
    // wazo_yealink/v87/common.py `_NB_SIP_ACCOUNTS`: W80B 0, W80DM 30); both run family 103.
    ModelRow::dect_base(VENDOR, "W80B", 0, DECT).family("103"),
    ModelRow::dect_base(VENDOR, "W80DM", 30, DECT).family("103"),
];

/// Yealink's `linekey.N.type` (and `expansion_module.X.key.Y.type`) code of each key type, as
/// FusionPBX (`app/devices/resources/classes/yealink.php`) and Tancredi
/// (`data/templates/yealink.macros`, `linekey_type`) both give them. A hot-desk key is an XML
/// browser key (27) opening the login screen; `none` is 0, N/A.
fn key_type_code(kind: KeyType) -> u8 {
    match kind {
        KeyType::None => 0,
        KeyType::Conference => 1,
        KeyType::Forward => 2,
        KeyType::Transfer => 3,
        KeyType::Dnd => 5,
        KeyType::Pickup => 9,
        KeyType::Park => 10,
        KeyType::Dtmf => 11,
        KeyType::Voicemail => 12,
        KeyType::SpeedDial => 13,
        KeyType::Intercom => 14,
        KeyType::Line => 15,
        KeyType::Blf => 16,
        KeyType::GroupPickup => 23,
        KeyType::Url | KeyType::Hotdesk => 27,
    }
}

/// `ldap.tls_mode`: 0 plain, 1 StartTLS, 2 LDAPS (Tancredi `data/templates/yealink.tmpl`).
fn ldap_tls_mode(tls: LdapTls) -> u8 {
    match tls {
        LdapTls::None => 0,
        LdapTls::Starttls => 1,
        LdapTls::Ldaps => 2,
    }
}

impl Vendor for Yealink {
    /// `YealinkIPPhoneDirectory` (FusionPBX `resources/templates/provision/yealink/t46s/directory.xml`).
    fn phonebook_template(&self) -> Option<&'static str> {
        Some(PHONEBOOK)
    }

    /// `linekey.N` on the phone, `expansion_module.X.key.Y` on module X (wazo-provd-plugins
    /// `plugins/wazo_yealink/v86/common.py`, `BaseYealinkFunckeyPrefixIterator`).
    fn key_values(&self, key: &Key) -> serde_json::Value {
        let prefix = match key.at.module {
            None => format!("linekey.{}", key.at.position),
            Some(module) => format!("expansion_module.{module}.key.{}", key.at.position),
        };
        json!({ "prefix": prefix, "type": key_type_code(key.kind) })
    }

    fn id(&self) -> &'static str {
        VENDOR
    }

    fn format(&self) -> Format {
        Format::KeyValue
    }

    fn mac_prefixes(&self) -> &'static [&'static str] {
        &[
            "001565", "805EC0", "805E0C", "249AD8", "44DBD2", "644F56", "E434D7", "3497D7",
            "B061A9", "C4FC22", "EC1DA9", "F01653",
        ]
    }

    fn models(&self) -> &'static [ModelRow] {
        MODELS
    }

    fn parse_user_agent(&self, user_agent: &str) -> Option<UaInfo> {
        let rest = after_vendor_name(user_agent.trim_start())?;
        let mut tokens = rest.split_whitespace().peekable();
        let mut model_token = tokens.next();
        if model_token.is_some_and(|t| t.eq_ignore_ascii_case("SIP")) {
            model_token = tokens.next(); // "Yealink SIP VP-T49G ..."
        }
        let model = model_token.and_then(model_from_token);
        let firmware = tokens
            .next_if(|t| t.starts_with(|c: char| c.is_ascii_digit()))
            .and_then(clean_firmware);
        // The MAC is the last token that is a well-formed MAC; anything else (serials, an
        // 11-digit fragment) means the phone told us no MAC.
        let mac = tokens.filter_map(|t| Mac::parse(t).ok()).next_back();
        Some(UaInfo {
            vendor: self.id(),
            model,
            firmware,
            mac,
        })
    }

    fn classify_file(&self, file_name: &str) -> Option<FileRequest> {
        if let Some(stem) = file_name.strip_suffix(".boot") {
            let mac = device_mac(stem)?;
            let hints = NameHints {
                mac: Some(mac),
                ..NameHints::default()
            };
            return Some(FileRequest::Common {
                template: BOOT,
                hints,
            });
        }
        let stem = file_name.strip_suffix(".cfg")?;
        if let Some(digits) = stem.strip_prefix('y')
            && digits.len() == 12
            && digits.bytes().all(|b| b.is_ascii_digit())
        {
            let family = digits.trim_start_matches('0');
            let hints = NameHints {
                family: Some(family.to_string()),
                ..NameHints::default()
            };
            return (!family.is_empty()).then_some(FileRequest::Common {
                template: COMMON,
                hints,
            });
        }
        device_mac(stem).map(|mac| FileRequest::Device { mac })
    }

    fn device_file_name(&self, mac: Mac, _model: Option<&ModelId>) -> String {
        format!("{}.cfg", mac.to_hex())
    }

    fn common_templates(&self) -> &'static [&'static str] {
        &[COMMON, BOOT]
    }

    /// The W75DM runs family 175 and the W90 130 (WZ wazo_yealink/v87 firmware table).
    fn dect_families_without_row(&self) -> &'static [&'static str] {
        &["175", "130"]
    }

    fn default_device_template(&self) -> &'static str {
        DESK
    }

    fn family_of_firmware(&self, firmware: &str) -> Option<String> {
        firmware_family(firmware).map(str::to_string)
    }

    fn template_values(&self, facts: &TemplateFacts<'_>) -> serde_json::Value {
        // The vendor's codes for UDP, TCP and TLS.
        let transport = facts.settings.sip_transport.pick(0, 1, 2);
        let common_file = facts
            .family
            .and_then(|f| f.parse::<u16>().ok())
            .map(|f| format!("y{f:012}.cfg"));
        let zone = facts.settings.time_zone();
        // DST by week (`local_time.dst_time_type = 1`): Month/Week/Day/Hour, week 5 the last,
        // Monday 1 to Sunday 7; a rule outside that (an hour past 23) is left to the phone.
        let dst = zone
            .and_then(|z| dst_changes(z.posix))
            .and_then(|(start, end)| {
                Some(
                    json!({ "start": yealink_dst_change(start)?, "end": yealink_dst_change(end)? }),
                )
            });
        json!({
            "transport": transport,
            "common_file": common_file,
            "time_zone": zone.map(|z| yealink_offset(z.offset_minutes)),
            "dst": dst,
            "ldap_tls_mode": ldap_tls_mode(facts.settings.ldap_tls),
        })
    }

    fn hotdesk_screens(&self) -> Option<HotdeskScreens> {
        Some(HotdeskScreens {
            template: HOTDESK,
            content_type: "text/xml; charset=utf-8",
            one_field_per_screen: false,
        })
    }

    /// `reboot=false`: Yealink reboots on a bare check-sync unless `sip.notify_reboot_enable`
    /// says otherwise; the common file sets that to 0.
    fn notify_event(&self) -> &'static str {
        "check-sync;reboot=false"
    }

    // Yealink admin guide: sip.notify_reboot_enable = 0 reboots only on a check-sync NOTIFY carrying reboot=true.
    fn reboot_event(&self) -> Option<&'static str> {
        Some("check-sync;reboot=true")
    }
}

/// Twelve hex digits naming a phone (not Poly's all-zero default name).
fn device_mac(stem: &str) -> Option<Mac> {
    (stem.len() == 12 && stem != "000000000000")
        .then(|| Mac::parse(stem).ok())
        .flatten()
}

/// The firmware family a phone's firmware belongs to: the first field of its version.
pub fn firmware_family(firmware: &str) -> Option<&str> {
    let family = firmware.split('.').next()?;
    (!family.is_empty() && family.len() <= 4 && family.bytes().all(|b| b.is_ascii_digit()))
        .then_some(family)
}

/// `local_time.time_zone`: `+1`, `-5`, `+5:30`, `-3:30`, `0`.
fn yealink_offset(minutes: i16) -> String {
    let sign = if minutes < 0 { '-' } else { '+' };
    let (h, m) = (minutes.unsigned_abs() / 60, minutes.unsigned_abs() % 60);
    match (h, m) {
        (0, 0) => "0".to_string(),
        (h, 0) => format!("{sign}{h}"),
        (h, m) => format!("{sign}{h}:{m:02}"),
    }
}

/// `local_time.start_time`/`end_time` by week: `3/5/7/2` is the last Sunday of March at 2:00.
fn yealink_dst_change(change: DstChange) -> Option<String> {
    let hour = u8::try_from(change.hour).ok().filter(|h| *h < 24)?;
    let weekday = if change.weekday == 0 {
        7
    } else {
        change.weekday
    };
    Some(format!("{}/{}/{weekday}/{hour}", change.month, change.week))
}

/// Models whose old firmware leaves "Yealink" out of its User-Agent (`W52P 25.30.0.2 00:15:...`):
/// WZ yealink common.py matches `(VP530P?|W52P|W60B) <version> <mac>` without the vendor.
const MODELS_WITHOUT_VENDOR_NAME: &[&str] = &["W52P", "W60B", "VP530", "VP530P"];

/// The User-Agent after `Yealink` (`Yealink `, `Yealink-`, any case), or the whole of one that
/// starts with a model sent without it and ends with a MAC.
fn after_vendor_name(user_agent: &str) -> Option<&str> {
    if let Some(prefix) = user_agent.get(..7)
        && prefix.eq_ignore_ascii_case("yealink")
    {
        return Some(user_agent[7..].trim_start_matches(['-', ' ', '\t']));
    }
    let mut tokens = user_agent.split_whitespace();
    let first = tokens.next()?;
    (MODELS_WITHOUT_VENDOR_NAME.contains(&first)
        && tokens.next_back().is_some_and(|t| Mac::parse(t).is_ok()))
    .then_some(user_agent)
}

/// "SIP-T46G" → T46G, "VP-T49G" stays, "W70B" stays, "SIP-T21P_E2" → T21P-E2 (the table's
/// name; old firmware spells it with '_'); anything not model-like is no model.
fn model_from_token(token: &str) -> Option<ModelId> {
    let token = token
        .strip_prefix("SIP-")
        .or_else(|| token.strip_prefix("sip-"))
        .unwrap_or(token);
    ModelId::parse(&token.replace('_', "-")).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ua(s: &str) -> UaInfo {
        Yealink
            .parse_user_agent(s)
            .unwrap_or_else(|| panic!("not recognised: {s:?}"))
    }

    #[test]
    fn user_agents_from_the_field() {
        let t46g = ua("Yealink SIP-T46G 28.72.0.1 00:15:65:4a:a9:37");
        assert_eq!(t46g.model.unwrap().as_str(), "T46G");
        assert_eq!(t46g.firmware.as_deref(), Some("28.72.0.1"));
        assert_eq!(t46g.mac.unwrap().to_hex(), "0015654aa937");

        let t56a = ua("Yealink SIP-T56A 58.80.0.25 001565f429a4");
        assert_eq!(t56a.model.unwrap().as_str(), "T56A");
        assert_eq!(t56a.mac.unwrap().to_hex(), "001565f429a4");

        let vp = ua("Yealink SIP VP-T49G 51.80.0.10 00:15:65:9b:5a:44");
        assert_eq!(vp.model.unwrap().as_str(), "VP-T49G");

        let w70b = ua("Yealink W70B 146.87.0.15 80:5e:0c:1d:65:4e");
        assert_eq!(w70b.model.unwrap().as_str(), "W70B");
        assert_eq!(w70b.firmware.as_deref(), Some("146.87.0.15"));
    }

    #[test]
    fn odd_user_agents() {
        let double_space = ua("Yealink  SIP-T46S  66.86.0.15  00:15:65:AA:BB:CC");
        assert_eq!(double_space.model.unwrap().as_str(), "T46S");
        assert_eq!(double_space.mac.unwrap().to_hex(), "001565aabbcc");

        let old = ua("Yealink-T46G 28.71.0.81 28.1.0.128.0.0.0");
        assert_eq!(old.model.unwrap().as_str(), "T46G");
        assert_eq!(old.mac, None);

        let eleven = ua("Yealink SIP-T46S 66.86.0.15 001565aabbc");
        assert_eq!(eleven.mac, None, "11 hex digits are no MAC");

        let lower = ua("yealink SIP-T54W 96.86.0.100 00-15-65-aa-bb-cc");
        assert_eq!(lower.mac.unwrap().to_hex(), "001565aabbcc");

        let suffix = ua("Yealink SIP-T54W 96.86.0.100(a) 001565aabbcc");
        assert_eq!(suffix.firmware.as_deref(), Some("96.86.0.100(a)"));

        let non_ascii = ua("Yealink SIP-T46S \u{fffd}\u{fffd} 001565aabbcc");
        assert_eq!(non_ascii.model.unwrap().as_str(), "T46S");
        assert_eq!(non_ascii.firmware, None);
        assert_eq!(non_ascii.mac.unwrap().to_hex(), "001565aabbcc");
    }

    #[test]
    fn older_generations() {
        // WZ yealink common.py (_extract_from_ua comment).
        let e2 = ua("Yealink SIP-T21P_E2 52.80.0.3 00:15:65:4c:4c:26");
        assert_eq!(e2.model.unwrap().as_str(), "T21P-E2");
        assert!(crate::models::find(VENDOR, "T21P-E2").is_some());
        let bare = ua("W52P 25.30.0.2 00:15:65:44:b3:7c");
        assert_eq!(bare.model.unwrap().as_str(), "W52P");
        assert_eq!(bare.firmware.as_deref(), Some("25.30.0.2"));
        assert_eq!(bare.mac.unwrap().to_hex(), "00156544b37c");
        let vp530 = ua("VP530P 23.70.0.40 00:15:65:31:4b:c0");
        assert_eq!(vp530.model.unwrap().as_str(), "VP530P");
        let sip_w52p = ua("Yealink SIP-W52P 25.73.0.20 00:15:65:40:ae:35");
        assert_eq!(sip_w52p.model.unwrap().as_str(), "W52P");
        let no_mac = ua("Yealink VC800 63.345.0.40");
        assert_eq!(no_mac.model.unwrap().as_str(), "VC800");
        assert_eq!(no_mac.mac, None);
        // A bare model token without a MAC at the end is not enough.
        assert_eq!(Yealink.parse_user_agent("W52P 25.30.0.2"), None);
        assert_eq!(
            Yealink.parse_user_agent("T46S 66.86.0.15 001565aabbcc"),
            None
        );
    }

    #[test]
    fn other_vendors_and_garbage_are_not_yealink() {
        for s in [
            "",
            "Yeal",
            "Mozilla/5.0",
            "FileTransport PolycomVVX-VVX_400-UA/4.1.4.7430",
            "é",
            "W52P",
            "W60Bé 001565aabbcc",
        ] {
            assert_eq!(Yealink.parse_user_agent(s), None, "{s:?}");
        }
    }

    #[test]
    fn file_names() {
        let common = Yealink.classify_file("y000000000146.cfg").unwrap();
        assert!(
            matches!(common, FileRequest::Common { template: COMMON, hints } if hints.family.as_deref() == Some("146"))
        );
        let boot = Yealink.classify_file("805e0c1d654e.boot").unwrap();
        assert!(
            matches!(boot, FileRequest::Common { template: BOOT, hints } if hints.mac.unwrap().to_hex() == "805e0c1d654e")
        );
        let mac = Mac::parse("805e0c1d654e").unwrap();
        assert_eq!(
            Yealink.classify_file("805e0c1d654e.cfg"),
            Some(FileRequest::Device { mac })
        );
        assert_eq!(
            Yealink.classify_file("805E0C1D654E.cfg"),
            Some(FileRequest::Device { mac })
        );
        for other in [
            "y000000000000.cfg",
            "y000000000000.boot",
            "805e0c1d654e-local.cfg",
            "000000000000.cfg",
            "y00000000028.cfg",
            "805e0c1d654.cfg",
            "cfg",
        ] {
            assert_eq!(Yealink.classify_file(other), None, "{other}");
        }
    }

    #[test]
    fn posix_dst_rules() {
        let cet = dst_changes("CET-1CEST,M3.5.0,M10.5.0/3").unwrap();
        assert_eq!(
            cet,
            (
                DstChange {
                    month: 3,
                    week: 5,
                    weekday: 0,
                    hour: 2
                },
                DstChange {
                    month: 10,
                    week: 5,
                    weekday: 0,
                    hour: 3
                }
            )
        );
        let israel = dst_changes("IST-2IDT,M3.4.4/26,M10.5.0").unwrap();
        assert_eq!(israel.0.hour, 26);
        for none in [
            "UTC0",
            "<+03>-3",
            "MSK-3",
            "X0Y,J60,J300",
            "X0Y,M3.5.0",
            "X0Y,M13.1.0,M1.1.0",
        ] {
            assert_eq!(dst_changes(none), None, "{none}");
        }
        for zone in crate::locale::TIME_ZONES {
            assert_eq!(
                dst_changes(zone.posix).is_some(),
                zone.has_dst(),
                "{}",
                zone.name
            );
        }
    }

    #[test]
    fn time_zone_values() {
        assert_eq!(yealink_offset(60), "+1");
        assert_eq!(yealink_offset(0), "0");
        assert_eq!(yealink_offset(-300), "-5");
        assert_eq!(yealink_offset(330), "+5:30");
        assert_eq!(yealink_offset(-210), "-3:30");
        let (start, end) = dst_changes("CET-1CEST,M3.5.0,M10.5.0/3").unwrap();
        assert_eq!(yealink_dst_change(start).as_deref(), Some("3/5/7/2"));
        assert_eq!(yealink_dst_change(end).as_deref(), Some("10/5/7/3"));
        let (us_start, _) = dst_changes("EST5EDT,M3.2.0,M11.1.0").unwrap();
        assert_eq!(yealink_dst_change(us_start).as_deref(), Some("3/2/7/2"));
        let (israel, _) = dst_changes("IST-2IDT,M3.4.4/26,M10.5.0").unwrap();
        assert_eq!(
            yealink_dst_change(israel),
            None,
            "past 23: left to the phone"
        );
    }

    #[test]
    fn template_values_carry_the_zone() {
        let settings = crate::settings::Settings {
            time_zone: Some("Europe/Berlin".into()),
            ..Default::default()
        };
        let facts = TemplateFacts::new(&settings, None, None);
        let values = Yealink.template_values(&facts);
        assert_eq!(values["time_zone"], "+1");
        assert_eq!(values["dst"]["start"], "3/5/7/2");
        assert_eq!(values["dst"]["end"], "10/5/7/3");
        let none = crate::settings::Settings::default();
        let values = Yealink.template_values(&TemplateFacts::new(&none, None, None));
        assert!(values["time_zone"].is_null() && values["dst"].is_null());
    }

    /// Every deskprov zone gets an offset the phone takes (`+5:30` style) and either a DST rule
    /// by week or, for a rule no week expresses (Jerusalem's 26:00), the phone's own.
    #[test]
    fn every_zone_has_an_offset_and_a_dst_rule_or_the_phones_own() {
        for zone in crate::locale::TIME_ZONES {
            let settings = crate::settings::Settings {
                time_zone: Some(zone.name.into()),
                ..Default::default()
            };
            let values = Yealink.template_values(&TemplateFacts::new(&settings, None, None));
            let offset = values["time_zone"].as_str().unwrap();
            let (hours, minutes) = offset
                .trim_start_matches(['+', '-'])
                .split_once(':')
                .unwrap_or((offset.trim_start_matches(['+', '-']), "0"));
            let hours: i16 = hours.parse().unwrap();
            assert!((0..=14).contains(&hours), "{}: {offset}", zone.name);
            assert!(
                ["0", "30", "45"].contains(&minutes),
                "{}: {offset}",
                zone.name
            );
            let by_week = !values["dst"].is_null();
            let past_midnight = dst_changes(zone.posix)
                .is_some_and(|(start, end)| start.hour > 23 || end.hour > 23);
            assert_eq!(by_week, zone.has_dst() && !past_midnight, "{}", zone.name);
        }
    }

    #[test]
    fn w80_accounts_live_on_the_dect_manager() {
        let lines = |model| crate::models::find(VENDOR, model).unwrap().lines();
        assert_eq!((lines("W80B"), lines("W80DM")), (0, 30));
        assert!(Yealink.family_is_dect("103"));
    }

    #[test]
    fn dect_families() {
        assert!(Yealink.family_is_dect("146"));
        assert!(Yealink.family_is_dect("77"));
        assert!(Yealink.family_is_dect("175"));
        assert!(!Yealink.family_is_dect("66"));
    }
}
