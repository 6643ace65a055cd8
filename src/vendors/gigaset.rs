//! Gigaset DECT systems: N670/N870/N870E IP PRO (and N610) in the Nx70 `<provisioning>`
//! format, the N510 IP PRO in the older `<ProviderFrame>` format.
//!
//! The base fetches the URL it was given (Gigaset redirect service or DHCP), by convention
//! `{mac}.xml`. Nx70: a `<provisioning>` document of `nvm` params; provider ids start at 0;
//! handset slot N and its SIP account share the key `0000N` (5 digits). N510: `SYMB_ITEM`s
//! per account, account N at array index N-1 and with the suffix `_N` (none for account 1).
//! Gigaset accepts only HTTP Digest for provisioning and takes its credentials from the
//! redirect URL (`https://user:password@host/`), not from the config: the admin puts
//! `deskprov devices credentials MAC` there. Sources: WZ `wazo_gigaset/Nx70_83_v2_65_0`
//! (`templates/base.tpl`, `common.py`) and `wazo_gigaset/N510/templates/base.tpl`,
//! `wazo_gigaset/common/common.py`; see docs/vendors/gigaset.md. User-Agent:
//! `Gigaset N870 IP PRO/83.V2.43.0+build.5f0a106;7C2F80XXXXXX;Handset=250`.

use serde_json::json;

use super::{FileRequest, TemplateFacts, UaInfo, Vendor, clean_firmware, mac_in};
use crate::domain::{Mac, ModelId};
use crate::locale::TimeZone;
use crate::models::ModelRow;
use crate::templates::Format;

const PHONEBOOK: &str = "gigaset/phonebook.xml";

pub struct Gigaset;

const VENDOR: &str = "gigaset";
const NX70: &str = "gigaset/base.xml";
const N510: &str = "gigaset/n510.xml";

/// Handsets per system from Gigaset's data sheets (N870 multicell: up to 250; 100 kept here).
static MODELS: &[ModelRow] = &[
    ModelRow::dect_base(VENDOR, "N510", 6, N510),
    ModelRow::dect_base(VENDOR, "N610", 20, NX70),
    ModelRow::dect_base(VENDOR, "N670", 20, NX70),
    ModelRow::dect_base(VENDOR, "N870", 100, NX70),
    ModelRow::dect_base(VENDOR, "N870E", 100, NX70),
];

/// The only values an Nx70 base takes in `DmGlobal.0.TimeZone` (WZ
/// `wazo_gigaset/Nx70_83_v2_65_0/common.py` `_VALID_TZ_GIGASET`).
const GIGASET_ZONES: &[&str] = &[
    "Pacific/Honolulu",
    "America/Anchorage",
    "America/Los_Angeles",
    "America/Denver",
    "America/Chicago",
    "America/New_York",
    "America/Caracas",
    "America/Sao_Paulo",
    "Europe/Belfast",
    "Europe/Dublin",
    "Europe/Guernsey",
    "Europe/Isle_of_Man",
    "Europe/Jersey",
    "Europe/Lisbon",
    "Europe/London",
    "Greenwich",
    "Europe/Amsterdam",
    "Europe/Andorra",
    "Europe/Belgrade",
    "Europe/Berlin",
    "Europe/Bratislava",
    "Europe/Brussels",
    "Europe/Budapest",
    "Europe/Busingen",
    "Europe/Copenhagen",
    "Europe/Gibraltar",
    "Europe/Ljubljana",
    "Europe/Luxembourg",
    "Europe/Madrid",
    "Europe/Malta",
    "Europe/Monaco",
    "Europe/Oslo",
    "Europe/Paris",
    "Europe/Podgorica",
    "Europe/Prague",
    "Europe/Rome",
    "Europe/San_Marino",
    "Europe/Sarajevo",
    "Europe/Skopje",
    "Europe/Stockholm",
    "Europe/Tirane",
    "Europe/Vaduz",
    "Europe/Vatican",
    "Europe/Vienna",
    "Europe/Warsaw",
    "Europe/Zagreb",
    "Europe/Zurich",
    "Africa/Cairo",
    "Europe/Athens",
    "Europe/Bucharest",
    "Europe/Chisinau",
    "Europe/Helsinki",
    "Europe/Kaliningrad",
    "Europe/Kiev",
    "Europe/Mariehamn",
    "Europe/Nicosia",
    "Europe/Riga",
    "Europe/Sofia",
    "Europe/Tallinn",
    "Europe/Tiraspol",
    "Europe/Uzhgorod",
    "Europe/Vilnius",
    "Europe/Zaporozhye",
    "Europe/Istanbul",
    "Europe/Kirov",
    "Europe/Minsk",
    "Europe/Moscow",
    "Europe/Simferopol",
    "Europe/Volgograd",
    "Asia/Dubai",
    "Europe/Astrakhan",
    "Europe/Samara",
    "Europe/Ulyanovsk",
    "Asia/Karachi",
    "Asia/Dhaka",
    "Asia/Hong_Kong",
    "Asia/Tokyo",
    "Australia/Adelaide",
    "Australia/Darwin",
    "Australia/Brisbane",
    "Australia/Sydney",
    "Pacific/Noumea",
];

/// deskprov zones missing from Gigaset's list, each with a listed zone that keeps its rules
/// (standard offset and DST rule): (deskprov zone, Gigaset zone, that zone's POSIX rule).
/// WZ's `_fix_timezone` falls back by offset alone, which for example sends Lagos (UTC+1, no
/// DST) to London; deskprov refuses a zone rather than change its rules.
const EQUIVALENT_ZONES: &[(&str, &str, &str)] = &[
    ("UTC", "Greenwich", "GMT0"),
    ("Europe/Kyiv", "Europe/Kiev", "EET-2EEST,M3.5.0/3,M10.5.0/4"),
    ("Africa/Johannesburg", "Europe/Kaliningrad", "EET-2"),
    ("Africa/Nairobi", "Europe/Moscow", "MSK-3"),
    ("Asia/Singapore", "Asia/Hong_Kong", "HKT-8"),
    ("Asia/Shanghai", "Asia/Hong_Kong", "HKT-8"),
    ("Australia/Perth", "Asia/Hong_Kong", "HKT-8"),
    ("Asia/Seoul", "Asia/Tokyo", "JST-9"),
    (
        "Australia/Melbourne",
        "Australia/Sydney",
        "AEST-10AEDT,M10.1.0,M4.1.0/3",
    ),
    (
        "America/Toronto",
        "America/New_York",
        "EST5EDT,M3.2.0,M11.1.0",
    ),
    (
        "America/Vancouver",
        "America/Los_Angeles",
        "PST8PDT,M3.2.0,M11.1.0",
    ),
    (
        "America/Argentina/Buenos_Aires",
        "America/Sao_Paulo",
        "<-03>3",
    ),
];

/// The N510's `uiI_TIME_TIMEZONE` codes by standard offset in minutes (WZ
/// `wazo_gigaset/common/common.py` `_TZ_GIGASET`; the comment in WZ's N510 template lists
/// partly other codes).
const N510_ZONE_CODES: &[(i16, u8)] = &[
    (-720, 0x00),
    (-660, 0x01),
    (-600, 0x02),
    (-540, 0x03),
    (-480, 0x04),
    (-420, 0x07),
    (-360, 0x09),
    (-300, 0x0D),
    (-240, 0x10),
    (-180, 0x12),
    (-120, 0x16),
    (-60, 0x18),
    (0, 0x1A),
    (60, 0x1B),
    (120, 0x20),
    (180, 0x28),
    (240, 0x2C),
    (270, 0x2D),
    (300, 0x2F),
    (330, 0x30),
    (345, 0x31),
    (360, 0x33),
    (390, 0x35),
    (420, 0x36),
    (480, 0x38),
    (540, 0x3D),
    (570, 0x40),
    (600, 0x43),
    (660, 0x47),
    (720, 0x48),
    (780, 0x50),
];

impl Vendor for Gigaset {
    /// The Nx70's "Central phonebook" (Gigaset wiki, "Central phonebook", N610/N670/N870/N870E):
    /// one `<entry>` per name, downloaded daily.
    fn phonebook_template(&self) -> Option<&'static str> {
        Some(PHONEBOOK)
    }

    /// "2000 entries or 2MB file size" (same page).
    fn phonebook_max_entries(&self) -> Option<usize> {
        Some(2000)
    }

    fn refuses(&self, layer: &crate::settings::Layer) -> Option<String> {
        let name = layer.get(&crate::settings::Key::TimeZone)?.as_str()?;
        let zone = crate::locale::time_zone(name)?;
        gigaset_time_zone(zone)
            .err()
            .map(|why| format!("time_zone: {why}"))
    }

    fn id(&self) -> &'static str {
        VENDOR
    }

    fn format(&self) -> Format {
        Format::Xml
    }

    fn mac_prefixes(&self) -> &'static [&'static str] {
        &["7C2F80", "002104", "589EC6", "14B370"]
    }

    fn models(&self) -> &'static [ModelRow] {
        MODELS
    }

    fn parse_user_agent(&self, user_agent: &str) -> Option<UaInfo> {
        let text = user_agent.trim().trim_matches('"');
        let (product, after) = match text.strip_prefix("Gigaset ") {
            Some(rest) => rest.split_once('/')?,
            None => text
                .split_once('/')
                .filter(|(product, _)| names_a_gigaset_product(product))?,
        };
        let model = gigaset_model(product);
        let mut parts = after.split(';');
        // "83.V2.43.0+build.5f0a106": the version without its build suffix
        let firmware = parts
            .next()
            .map(|v| v.split('+').next().unwrap_or(v))
            .and_then(clean_firmware);
        let mac = parts.next().and_then(mac_in);
        Some(UaInfo {
            vendor: self.id(),
            model,
            firmware,
            mac,
        })
    }

    fn classify_file(&self, file_name: &str) -> Option<FileRequest> {
        let stem = file_name.strip_suffix(".xml")?;
        (stem.len() == 12)
            .then(|| Mac::parse(stem).ok())
            .flatten()
            .map(|mac| FileRequest::Device { mac })
    }

    fn device_file_name(&self, mac: Mac, _model: Option<&ModelId>) -> String {
        format!("{}.xml", mac.to_hex())
    }

    fn common_templates(&self) -> &'static [&'static str] {
        &[]
    }

    fn default_device_template(&self) -> &'static str {
        NX70
    }

    fn template_values(&self, facts: &TemplateFacts<'_>) -> serde_json::Value {
        // The vendor's codes for UDP, TCP and TLS.
        let transport = facts.settings.sip_transport.pick(1, 2, 3);
        let zone = facts.settings.time_zone().map(gigaset_time_zone);
        let proxy_port = facts.settings.outbound_proxy().map(|(_, port)| hex(port));
        json!({
            "transport": transport,
            "time_zone": zone.as_ref().and_then(|z| z.as_ref().ok()),
            "time_zone_refused": zone.and_then(Result::err),
            "phonebook_download_time": facts.mac.map(phonebook_download_time),
            "n510": {
                "port": hex(facts.settings.sip_port),
                "proxy_port": proxy_port,
                "time_zone": facts.settings.time_zone().and_then(n510_zone_code),
            },
        })
    }

    fn line_values(&self, index: u16, _model: Option<&ModelRow>) -> serde_json::Value {
        json!({
            "key": format!("{index:05}"),
            "access_code": format!("{index:04}"),
            // N510: account N is array index N-1; its keys end in `_N` (none for account 1).
            "account": index - 1,
            "suffix": if index == 1 { String::new() } else { format!("_{index}") },
            // The handset account sends and receives on SIP account N alone.
            "mask": format!("0x{:x}", 1u32 << (index - 1).min(31)),
        })
    }
}

/// `CentralBook.0.DownloadTime`, the base's daily refresh of the central phonebook (`HH:MM`):
/// between 01:00 and 04:59, spread by the MAC so a site's bases do not all ask at once.
fn phonebook_download_time(mac: Mac) -> String {
    let octets = mac.octets();
    let minute = (u16::from(octets[4]) << 8 | u16::from(octets[5])) % 240;
    format!("{:02}:{:02}", 1 + minute / 60, minute % 60)
}

/// The value of `DmGlobal.0.TimeZone` for `zone`: the zone itself when Gigaset lists it, else
/// a listed zone with the same rules, else why there is none.
pub fn gigaset_time_zone(zone: &TimeZone) -> Result<&'static str, String> {
    if let Some(listed) = GIGASET_ZONES.iter().find(|listed| **listed == zone.name) {
        return Ok(listed);
    }
    EQUIVALENT_ZONES
        .iter()
        .find(|(name, _, _)| *name == zone.name)
        .map(|(_, equivalent, _)| *equivalent)
        .ok_or_else(|| {
            format!(
                "time zone {} not written: Gigaset bases take only their own list of zones in DmGlobal.0.TimeZone and none of them keeps the rules of {} ({}); the base keeps the zone set on it",
                zone.name, zone.name, zone.posix
            )
        })
}

/// The N510's code for the zone's standard offset; its DST rule is the base's own.
fn n510_zone_code(zone: &TimeZone) -> Option<String> {
    N510_ZONE_CODES
        .iter()
        .find(|(minutes, _)| *minutes == zone.offset_minutes)
        .map(|(_, code)| format!("0x{code:x}"))
}

/// Numbers in the N510's format: `0x13c5` for 5061.
fn hex(value: u16) -> String {
    format!("0x{value:x}")
}

/// Products whose User-Agent leaves "Gigaset" out (WZ gigaset common.py comment):
/// `N510 IP PRO`, `N720-DM-PRO`, `Maxwell 3 PRO`.
fn names_a_gigaset_product(product: &str) -> bool {
    let mut words = product.split([' ', '-']);
    let first = words.next().unwrap_or_default();
    let base_number = first.strip_prefix('N').is_some_and(|digits| {
        digits.len() >= 3 && digits.bytes().take(3).all(|b| b.is_ascii_digit())
    });
    (base_number && words.next_back() == Some("PRO")) || first == "Maxwell"
}

/// `N870 IP PRO` and `N720-DM-PRO` → the base's number (N870, N720), as the model table names
/// them; `Maxwell 3 PRO` → MAXWELL-3 (a desk phone; its words without the series' PRO).
fn gigaset_model(product: &str) -> Option<ModelId> {
    let mut words = product.split([' ', '-']).filter(|w| !w.is_empty());
    let first = words.next()?;
    if !first.eq_ignore_ascii_case("maxwell") {
        return ModelId::parse(first).ok();
    }
    let name: Vec<&str> = std::iter::once(first)
        .chain(words.filter(|w| *w != "PRO"))
        .collect();
    ModelId::parse(&name.join("-")).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_agents() {
        let n870 = Gigaset
            .parse_user_agent(
                "Gigaset N870 IP PRO/83.V2.43.0+build.5f0a106;7C2F80E0D605;Handset=250",
            )
            .unwrap();
        assert_eq!(n870.model.unwrap().as_str(), "N870");
        assert_eq!(n870.firmware.as_deref(), Some("83.V2.43.0"));
        assert_eq!(n870.mac.unwrap().to_hex(), "7c2f80e0d605");
        let n610 = Gigaset
            .parse_user_agent(
                "Gigaset N610 IP PRO/83.V2.64.0-160-g758db0bf;589EC67C2479;Handset=20",
            )
            .unwrap();
        assert_eq!(n610.firmware.as_deref(), Some("83.V2.64.0-160-g758db0bf"));
        let quoted = Gigaset
            .parse_user_agent("\"Gigaset N670 IP PRO/83.V2.11.0+build.a546b91;7C2F80E0D606\"")
            .unwrap();
        assert_eq!(quoted.mac.unwrap().to_hex(), "7c2f80e0d606");
        let no_mac = Gigaset
            .parse_user_agent("Gigaset N870E IP PRO/83.V2.11.0;")
            .unwrap();
        assert_eq!(no_mac.mac, None);
    }

    /// A POSIX rule without its zone names: `CET-1CEST,M3.5.0,M10.5.0/3` → `-1,M3.5.0,M10.5.0/3`.
    fn rules(posix: &str) -> String {
        let (head, tail) = posix.split_once(',').unwrap_or((posix, ""));
        let mut offsets = String::new();
        let mut in_angle = false;
        for c in head.chars() {
            match c {
                '<' => in_angle = true,
                '>' => in_angle = false,
                c if in_angle || c.is_ascii_alphabetic() => {}
                c => offsets.push(c),
            }
        }
        if tail.is_empty() {
            offsets
        } else {
            format!("{offsets},{tail}")
        }
    }

    /// Every deskprov zone gets a zone Gigaset lists with the same rules, or a clear refusal.
    #[test]
    fn every_zone_maps_to_a_listed_zone_with_its_rules_or_is_refused() {
        let mut refused = Vec::new();
        for zone in crate::locale::TIME_ZONES {
            match gigaset_time_zone(zone) {
                Ok(name) => {
                    assert!(GIGASET_ZONES.contains(&name), "{}: {name}", zone.name);
                    let target_rules = match crate::locale::time_zone(name) {
                        Some(listed) => listed.posix,
                        None => {
                            EQUIVALENT_ZONES
                                .iter()
                                .find(|(from, _, _)| *from == zone.name)
                                .unwrap_or_else(|| panic!("{name} has no rule"))
                                .2
                        }
                    };
                    assert_eq!(
                        rules(target_rules),
                        rules(zone.posix),
                        "{} → {name}",
                        zone.name
                    );
                }
                Err(why) => {
                    assert!(why.contains(zone.name) && why.contains(zone.posix), "{why}");
                    // It goes into an XML comment.
                    assert!(!why.contains("--"), "{why}");
                    refused.push(zone.name);
                }
            }
        }
        assert_eq!(
            refused,
            [
                "Africa/Lagos",
                "Asia/Jerusalem",
                "Asia/Kolkata",
                "Pacific/Auckland",
                "America/St_Johns",
                "America/Halifax",
                "America/Mexico_City",
                "America/Phoenix",
                "America/Bogota",
            ]
        );
        // An equivalent's own rule agrees with deskprov's wherever deskprov has that zone.
        for (_, to, posix) in EQUIVALENT_ZONES {
            if let Some(listed) = crate::locale::time_zone(to) {
                assert_eq!(listed.posix, *posix, "{to}");
            }
        }
        assert_eq!(rules("<+08>-8"), rules("HKT-8"));
        assert_ne!(rules("CET-1CEST,M3.5.0,M10.5.0/3"), rules("WAT-1"));
    }

    #[test]
    fn n510_values() {
        let zone = |name: &str| n510_zone_code(crate::locale::time_zone(name).unwrap());
        assert_eq!(zone("Europe/Berlin").as_deref(), Some("0x1b"));
        assert_eq!(zone("Asia/Kolkata").as_deref(), Some("0x30"));
        assert_eq!(zone("America/New_York").as_deref(), Some("0xd"));
        assert_eq!(zone("America/St_Johns"), None);
        assert_eq!(hex(5061), "0x13c5");
        assert_eq!(Gigaset.line_values(1, None)["suffix"], "");
        assert_eq!(Gigaset.line_values(3, None)["suffix"], "_3");
        assert_eq!(Gigaset.line_values(3, None)["account"], 2);
    }

    /// WZ gigaset common.py (_extract_from_ua comment): older bases leave "Gigaset" out.
    #[test]
    fn older_generations_and_maxwell() {
        let n510 = Gigaset
            .parse_user_agent("N510 IP PRO/42.245.00.000.000;7C2F804DF9A9")
            .unwrap();
        assert_eq!(n510.model.unwrap().as_str(), "N510");
        assert_eq!(n510.firmware.as_deref(), Some("42.245.00.000.000"));
        assert_eq!(n510.mac.unwrap().to_hex(), "7c2f804df9a9");
        let dashed = Gigaset
            .parse_user_agent("N720-DM-PRO/70.040.00.000.000")
            .unwrap();
        assert_eq!(dashed.model.unwrap().as_str(), "N720");
        assert_eq!(dashed.mac, None);
        let maxwell = Gigaset
            .parse_user_agent("Maxwell 3 PRO/82.2.18.4-release;7C2F80E61AF4")
            .unwrap();
        assert_eq!(maxwell.model.unwrap().as_str(), "MAXWELL-3");
        assert_eq!(maxwell.firmware.as_deref(), Some("82.2.18.4-release"));
        for other in [
            "N510/1.0",
            "Nx10 IP PRO/1",
            "T46S PRO/1",
            "PRO/1",
            "/",
            "N12 PRO/1",
        ] {
            assert_eq!(Gigaset.parse_user_agent(other), None, "{other}");
        }
    }

    #[test]
    fn file_names() {
        let mac = Mac::parse("7c2f80e0d605").unwrap();
        assert_eq!(
            Gigaset.classify_file("7C2F80E0D605.xml"),
            Some(FileRequest::Device { mac })
        );
        assert_eq!(Gigaset.classify_file("cisco-7c2f80e0d605.xml"), None);
    }
}
