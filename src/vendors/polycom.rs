//! Poly (Polycom) VVX and Edge E desk phones.
//!
//! A phone asks for its master file `{mac}.cfg` (else `000000000000.cfg`), which lists the
//! config files to load: deskprov lists `{mac}-deskprov.cfg` (the device's own config, first,
//! because the first occurrence of a parameter wins) and `polycom-common.cfg`. The master file
//! holds no secret and is the same for every MAC. Phones also upload logs and override files
//! with PUT (`{mac}-boot.log`, `{mac}-app.log`, `{mac}-phone.cfg`, ...) and read overrides back.
//! The User-Agent carries model and version but no MAC: the MAC comes from the path.
//! `Type/Updater` requests come from the boot updater, whose version is not the application's.

use serde_json::json;

use super::{
    FileRequest, HotdeskScreens, NameHints, TemplateFacts, UaInfo, Vendor, clean_firmware,
};
use crate::domain::{Mac, ModelId};
use crate::keys::effective::KeyCapacity;
use crate::keys::{Key, KeyType};
use crate::locale::DstChange;
use crate::models::ModelRow;
use crate::templates::Format;

pub struct Polycom;

const VENDOR: &str = "polycom";
const DESK: &str = "polycom/device.cfg";
const MASTER: &str = "polycom/master.cfg";
const COMMON: &str = "polycom/common.cfg";
const HOTDESK: &str = "polycom/hotdesk.xhtml";
const COMMON_NAME: &str = "polycom-common.cfg";
const DIRECTORY: &str = "polycom/directory.xml";
/// The stored name of `{mac}-directory.xml`, the local directory the phone fetches itself.
const DIRECTORY_NAME: &str = "directory.xml";
const DEVICE_SUFFIX: &str = "-deskprov.cfg";
/// Files the phone uploads and may read back; anything else with a MAC prefix is not ours.
const STORED_SUFFIXES: &[&str] = &[
    "-boot.log",
    "-app.log",
    "-phone.cfg",
    "-web.cfg",
    "-directory.xml",
    "-calls.xml",
];

/// Registrations per model from Poly's data sheets. Line keys per model as
/// wazo-provd-plugins' `wazo_polycom/common/common.py` counts them (`_NB_FKEY`); the VVX 600's
/// 16 and its three expansion modules of 84 keys ("VVX 600 + 3 LCD EMs = 16 + 252") from Poly's
/// VVX Expansion Module addendum, which names no other model's count. The Edge E models have
/// no key source yet.
static MODELS: &[ModelRow] = &[
    ModelRow::desk(VENDOR, "VVX101", 1, DESK).keys(KeyCapacity::keys(2, 1)),
    ModelRow::desk(VENDOR, "VVX150", 2, DESK).keys(KeyCapacity::keys(2, 1)),
    ModelRow::desk(VENDOR, "VVX201", 2, DESK).keys(KeyCapacity::keys(2, 1)),
    ModelRow::desk(VENDOR, "VVX250", 4, DESK).keys(KeyCapacity::keys(4, 1)),
    ModelRow::desk(VENDOR, "VVX300", 6, DESK).keys(KeyCapacity::keys(6, 1)),
    ModelRow::desk(VENDOR, "VVX310", 6, DESK).keys(KeyCapacity::keys(6, 1)),
    ModelRow::desk(VENDOR, "VVX301", 6, DESK).keys(KeyCapacity::keys(6, 1)),
    ModelRow::desk(VENDOR, "VVX311", 6, DESK).keys(KeyCapacity::keys(6, 1)),
    ModelRow::desk(VENDOR, "VVX350", 6, DESK).keys(KeyCapacity::keys(6, 1)),
    ModelRow::desk(VENDOR, "VVX400", 12, DESK).keys(KeyCapacity::keys(12, 1)),
    ModelRow::desk(VENDOR, "VVX410", 12, DESK).keys(KeyCapacity::keys(12, 1)),
    ModelRow::desk(VENDOR, "VVX401", 12, DESK).keys(KeyCapacity::keys(12, 1)),
    ModelRow::desk(VENDOR, "VVX411", 12, DESK).keys(KeyCapacity::keys(12, 1)),
    ModelRow::desk(VENDOR, "VVX450", 12, DESK).keys(KeyCapacity::keys(12, 1)),
    ModelRow::desk(VENDOR, "VVX500", 12, DESK).keys(KeyCapacity::keys(12, 1)),
    ModelRow::desk(VENDOR, "VVX501", 12, DESK).keys(KeyCapacity::keys(12, 1)),
    ModelRow::desk(VENDOR, "VVX600", 16, DESK).keys(KeyCapacity::keys(16, 1).modules(3, 84)),
    ModelRow::desk(VENDOR, "VVX601", 16, DESK).keys(KeyCapacity::keys(16, 1).modules(3, 84)),
    ModelRow::desk(VENDOR, "VVX1500", 6, DESK).keys(KeyCapacity::keys(6, 1)),
    ModelRow::desk(VENDOR, "E100", 2, DESK),
    ModelRow::desk(VENDOR, "E220", 4, DESK),
    ModelRow::desk(VENDOR, "E300", 8, DESK),
    ModelRow::desk(VENDOR, "E320", 8, DESK),
    ModelRow::desk(VENDOR, "E350", 8, DESK),
    ModelRow::desk(VENDOR, "E400", 16, DESK),
    ModelRow::desk(VENDOR, "E450", 16, DESK),
    ModelRow::desk(VENDOR, "E500", 24, DESK),
    ModelRow::desk(VENDOR, "E550", 24, DESK),
];

impl Vendor for Polycom {
    /// The local contact directory (`directory`/`item_list`/`item` with `fn`, `ln`, `ct`),
    /// which the phone fetches as `{mac}-directory.xml` (phones.md §1.2).
    fn phonebook_template(&self) -> Option<&'static str> {
        Some(DIRECTORY)
    }

    fn phonebook_stored_name(&self) -> Option<&'static str> {
        Some(DIRECTORY_NAME)
    }

    fn id(&self) -> &'static str {
        VENDOR
    }

    fn format(&self) -> Format {
        Format::Xml
    }

    fn mac_prefixes(&self) -> &'static [&'static str] {
        &["0004F2", "64167F", "482567", "00907A"]
    }

    fn models(&self) -> &'static [ModelRow] {
        MODELS
    }

    /// Flexible line key assignment (`lineKey.x.category` and `.index`, Poly's VVX Expansion
    /// Module addendum for UC Software 4.1.6, "Line Key Parameters"; the FreePBX polycomphones
    /// module and GS5 write the same): a line key takes its registration, a BLF key index 0,
    /// the phone then giving the BLF keys the attendant resource list in order. A speed dial
    /// takes the speed-dial index of its entry in the local directory (`<sd>`, which deskprov
    /// writes into `{mac}-directory.xml`: the n-th speed-dial key is entry n, as polycomphones
    /// numbers its favourites). Other types have no category: not written.
    fn key_values(&self, key: &Key) -> serde_json::Value {
        match key.kind {
            KeyType::Line => json!({ "category": "Line", "index": key.line }),
            KeyType::Blf => json!({ "category": "BLF", "index": 0, "blf": true }),
            KeyType::SpeedDial => json!({ "category": "SpeedDial", "speed_dial": true }),
            _ => serde_json::Value::Null,
        }
    }

    /// `FileTransport PolycomVVX-VVX_400-UA/4.1.4.7430 Type/Application`
    fn parse_user_agent(&self, user_agent: &str) -> Option<UaInfo> {
        let rest = user_agent
            .trim_start()
            .strip_prefix("FileTransport ")?
            .trim_start();
        if !rest.get(..4)?.eq_ignore_ascii_case("poly") {
            return None;
        }
        let (product, version) = rest.split_once("-UA/")?;
        let model = product
            .split_once('-')
            .and_then(|(_, model)| model_id(model));
        let mut tokens = version.split_whitespace();
        let version = tokens.next().and_then(clean_firmware);
        let updater = tokens.any(|t| t.eq_ignore_ascii_case("Type/Updater"));
        let firmware = if updater { None } else { version };
        Some(UaInfo {
            vendor: self.id(),
            model,
            firmware,
            mac: None,
        })
    }

    fn classify_file(&self, file_name: &str) -> Option<FileRequest> {
        if file_name == COMMON_NAME {
            return Some(FileRequest::Common {
                template: COMMON,
                hints: NameHints::default(),
            });
        }
        if file_name == "000000000000.cfg" {
            return Some(FileRequest::Common {
                template: MASTER,
                hints: NameHints::default(),
            });
        }
        let mac = Mac::parse(file_name.get(..12)?)
            .ok()
            .filter(|m| m.octets() != [0; 6])?;
        match &file_name[12..] {
            ".cfg" => Some(FileRequest::Common {
                template: MASTER,
                hints: NameHints {
                    mac: Some(mac),
                    ..Default::default()
                },
            }),
            DEVICE_SUFFIX => Some(FileRequest::Device { mac }),
            suffix if STORED_SUFFIXES.contains(&suffix) => Some(FileRequest::Stored {
                mac,
                name: suffix.trim_start_matches('-').to_string(),
            }),
            _ => None,
        }
    }

    fn device_file_name(&self, mac: Mac, _model: Option<&ModelId>) -> String {
        format!("{}{DEVICE_SUFFIX}", mac.to_hex())
    }

    fn common_templates(&self) -> &'static [&'static str] {
        &[MASTER, COMMON]
    }

    fn default_device_template(&self) -> &'static str {
        DESK
    }

    fn template_values(&self, facts: &TemplateFacts<'_>) -> serde_json::Value {
        // The vendor's codes for UDP, TCP and TLS.
        let transport = facts
            .settings
            .sip_transport
            .pick("UDPOnly", "TCPOnly", "TLS");
        let zone = facts.settings.time_zone();
        let dst = zone
            .and_then(|z| crate::locale::dst_changes(z.posix))
            .and_then(|(start, stop)| {
                Some(json!({ "start": poly_dst_change(start)?, "stop": poly_dst_change(stop)? }))
            });
        json!({
            "transport": transport,
            "device_file_suffix": DEVICE_SUFFIX,
            "common_file": COMMON_NAME,
            "ca_pem_lines": facts.settings.ca_certificate.as_deref().map(|pem| pem.lines().collect::<Vec<_>>()),
            "gmt_offset": zone.map(|z| i32::from(z.offset_minutes) * 60),
            "dst": dst,
            "language": facts.language.and_then(|l| poly_language(l.code)),
            "ldap": ldap_attributes(facts.settings),
        })
    }

    /// The microbrowser renders XHTML forms.
    fn hotdesk_screens(&self) -> Option<HotdeskScreens> {
        Some(HotdeskScreens {
            template: HOTDESK,
            content_type: "application/xhtml+xml",
            one_field_per_screen: false,
        })
    }
}

/// The corporate directory's attributes (`dir.corp.attribute.N.*`) when the phone is to search
/// an LDAP directory: the first name attribute as `last_name` (the phone lists by it), a second
/// as `first_name`, every number attribute as `phone_number`, the types peers write (freepbx-ldap
/// README, contacta `local-settings.xml.ftl`, a published `directory.cfg`). Only without TLS:
/// no source confirms how `dir.corp.transport` asks for LDAPS or StartTLS, so a directory that
/// needs either is not written rather than sent in clear.
fn ldap_attributes(settings: &crate::settings::Settings) -> Option<serde_json::Value> {
    settings.ldap_server.as_ref()?;
    if settings.ldap_tls != crate::domain::LdapTls::None {
        return None;
    }
    let names = settings.ldap_name_attr.split_whitespace().take(2);
    let names = names
        .zip([("last_name", "Last name"), ("first_name", "First name")])
        .map(|(name, (kind, label))| (name, kind, label.to_string()));
    let numbers = settings
        .ldap_number_attr
        .split_whitespace()
        .enumerate()
        .map(|(i, name)| {
            let label = match i {
                0 => "Phone".to_string(),
                n => format!("Phone {}", n + 1),
            };
            (name, "phone_number", label)
        });
    let attributes: Vec<serde_json::Value> = names
        .chain(numbers)
        .enumerate()
        .map(|(i, (name, kind, label))| {
            json!({ "index": i + 1, "name": name, "type": kind, "label": label })
        })
        .collect();
    Some(json!({ "attributes": attributes }))
}

/// `lcl.ml.lang`: the language names in Poly's own dictionary list; none for a language Poly
/// does not list (Finnish, Czech, Turkish are not confirmed).
fn poly_language(code: &str) -> Option<&'static str> {
    Some(match code {
        "en" => "English_United_States",
        "de" => "German_Germany",
        "fr" => "French_France",
        "es" => "Spanish_Spain",
        "it" => "Italian_Italy",
        "nl" => "Dutch_Netherlands",
        "pt" => "Portuguese_Portugal",
        "pl" => "Polish_Poland",
        "sv" => "Swedish_Sweden",
        "da" => "Danish_Denmark",
        "nb" => "Norwegian_Norway",
        "ru" => "Russian_Russia",
        _ => return None,
    })
}

/// `tcpIpApp.sntp.daylightSavings.start.*`/`stop.*`: `date` is the first day of the month the
/// weekday may fall on (the second Sunday: on or after the 8th), `dayOfWeek` runs from Sunday
/// 1 to Saturday 7, `lastInMonth` stands for week 5. An hour past 23 moves the change to a
/// later day, which only a date can say.
fn poly_dst_change(change: DstChange) -> Option<serde_json::Value> {
    let days_later = change.hour.div_euclid(24);
    let time = change.hour.rem_euclid(24);
    let day_of_week = (i16::from(change.weekday) + days_later).rem_euclid(7) + 1;
    let (date, last_in_month) = match change.week {
        5 if days_later == 0 => (None, 1),
        5 => return None,
        week => {
            let date = (i16::from(week) - 1) * 7 + 1 + days_later;
            (Some((1..=28).contains(&date).then_some(date)?), 0)
        }
    };
    Some(json!({
        "month": change.month,
        "date": date,
        "time": time,
        "day_of_week": day_of_week,
        "last_in_month": last_in_month,
    }))
}

/// `VVX_400` → VVX400, `Edge_E350` → E350, `SPIP_335` → SPIP335.
fn model_id(raw: &str) -> Option<ModelId> {
    let raw = raw.strip_prefix("Edge_").unwrap_or(raw);
    ModelId::parse(&raw.replace('_', "")).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_agents() {
        let ua = Polycom
            .parse_user_agent("FileTransport PolycomVVX-VVX_400-UA/4.1.4.7430 Type/Application")
            .unwrap();
        assert_eq!(ua.model.unwrap().as_str(), "VVX400");
        assert_eq!(ua.firmware.as_deref(), Some("4.1.4.7430"));
        assert_eq!(ua.mac, None);
        let updater = Polycom
            .parse_user_agent("FileTransport PolycomVVX-VVX_500-UA/5.9.7.47435 Type/Updater")
            .unwrap();
        assert_eq!(updater.model.unwrap().as_str(), "VVX500");
        assert_eq!(
            updater.firmware, None,
            "the updater's version is not the application's"
        );
        let old = Polycom
            .parse_user_agent("FileTransport PolycomSoundPointIP-SPIP_335-UA/3.2.1.0078")
            .unwrap();
        assert_eq!(old.model.unwrap().as_str(), "SPIP335");
        let edge = Polycom
            .parse_user_agent("FileTransport PolyEdge-Edge_E350-UA/8.0.0.1234")
            .unwrap();
        assert_eq!(edge.model.unwrap().as_str(), "E350");
        assert!(
            Polycom
                .parse_user_agent("Yealink SIP-T46S 66.86.0.15 001565aabbcc")
                .is_none()
        );
        assert!(Polycom.parse_user_agent("FileTransport Foo-UA/1").is_none());
    }

    fn values(settings: &crate::settings::Settings) -> serde_json::Value {
        Polycom.template_values(&TemplateFacts::new(settings, None, None))
    }

    #[test]
    fn time_zone_language_and_firmware() {
        let mut settings = crate::settings::Settings {
            time_zone: Some("Europe/Berlin".into()),
            ..Default::default()
        };
        let v = values(&settings);
        assert_eq!(v["gmt_offset"], 3600);
        assert_eq!(
            v["dst"]["start"],
            json!({"month": 3, "date": null, "time": 2, "day_of_week": 1, "last_in_month": 1})
        );
        assert_eq!(v["dst"]["stop"]["time"], 3);
        assert!(v["language"].is_null());
        settings.language = Some("de".into());
        assert_eq!(values(&settings)["language"], "German_Germany");
        settings.language = Some("fi".into());
        assert!(
            values(&settings)["language"].is_null(),
            "no Finnish on Poly"
        );
        settings.language = None;

        settings.time_zone = Some("America/New_York".into());
        let v = values(&settings);
        assert_eq!(v["gmt_offset"], -18000);
        assert_eq!(
            v["dst"]["start"],
            json!({"month": 3, "date": 8, "time": 2, "day_of_week": 1, "last_in_month": 0})
        );
        assert_eq!(v["dst"]["stop"]["date"], 1);

        // Friday before the last Sunday of March: Thursday of week 4 at 26:00 is Friday on or
        // after the 23rd at 2:00.
        settings.time_zone = Some("Asia/Jerusalem".into());
        let v = values(&settings);
        assert_eq!(
            v["dst"]["start"],
            json!({"month": 3, "date": 23, "time": 2, "day_of_week": 6, "last_in_month": 0})
        );

        settings.time_zone = Some("Asia/Tokyo".into());
        let v = values(&settings);
        assert_eq!(v["gmt_offset"], 32400);
        assert!(v["dst"].is_null());
    }

    /// Every deskprov zone gets an offset in seconds and, where it has DST, a start and stop
    /// Poly takes (a date on or after which the weekday falls, or the last in the month).
    #[test]
    fn every_zone_has_an_offset_and_its_dst_rule() {
        for zone in crate::locale::TIME_ZONES {
            let settings = crate::settings::Settings {
                time_zone: Some(zone.name.into()),
                ..Default::default()
            };
            let v = values(&settings);
            assert_eq!(
                v["gmt_offset"],
                i32::from(zone.offset_minutes) * 60,
                "{}",
                zone.name
            );
            assert_eq!(!v["dst"].is_null(), zone.has_dst(), "{}", zone.name);
        }
    }

    #[test]
    fn the_site_ca_as_pem_lines() {
        let pem = "-----BEGIN CERTIFICATE-----\nQUJD\nREVG\n-----END CERTIFICATE-----\n";
        let settings = crate::settings::Settings {
            ca_certificate: Some(pem.into()),
            ..Default::default()
        };
        assert_eq!(
            values(&settings)["ca_pem_lines"],
            json!([
                "-----BEGIN CERTIFICATE-----",
                "QUJD",
                "REVG",
                "-----END CERTIFICATE-----"
            ])
        );
        assert!(values(&crate::settings::Settings::default())["ca_pem_lines"].is_null());
    }

    #[test]
    fn file_names() {
        let mac = Mac::parse("0004f2aabbcc").unwrap();
        assert!(
            matches!(Polycom.classify_file("0004f2aabbcc.cfg"), Some(FileRequest::Common { template: MASTER, hints }) if hints.mac == Some(mac))
        );
        assert!(matches!(
            Polycom.classify_file("0004F2AABBCC.cfg"),
            Some(FileRequest::Common {
                template: MASTER,
                ..
            })
        ));
        assert!(matches!(
            Polycom.classify_file("000000000000.cfg"),
            Some(FileRequest::Common {
                template: MASTER,
                ..
            })
        ));
        assert_eq!(
            Polycom.classify_file("0004f2aabbcc-deskprov.cfg"),
            Some(FileRequest::Device { mac })
        );
        assert_eq!(
            Polycom.classify_file("0004f2aabbcc-app.log"),
            Some(FileRequest::Stored {
                mac,
                name: "app.log".into()
            })
        );
        for other in [
            "0004f2aabbcc-license.cfg",
            "000000000000-directory.xml",
            "sip.ld",
            "3111-48400-001.sip.ld",
            "0004f2aabbc.cfg",
        ] {
            assert_eq!(Polycom.classify_file(other), None, "{other}");
        }
    }
}
