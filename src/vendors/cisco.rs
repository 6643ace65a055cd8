//! Cisco multiplatform (MPP/3PCC) desk phones: 68xx, 78xx, 88xx.
//!
//! A factory phone asks for `/$PSN.xml`: `8851-3PCC.xml` (some guides show `7861.xml`). deskprov
//! answers that name with a bootstrap profile, without secrets, that sets `Profile_Rule_B` to the
//! device's own file `cisco-$MA.xml`; the phone evaluates rule B right after the bootstrap in the
//! same resync. The device's file then sets rule B again, with its provisioning credentials
//! (`[--uid u --pwd p]`). A phone that falls back to `/Cisco/CP-<model>-3PCC/<mac>.cfg` gets the
//! device file under that name too. The User-Agent is `Cisco-CP-7832-3PCC/11.0.1 (00562b043615)`,
//! but admins can change it (`HTTP_User_Agent_Name`), so the file name identifies as well.

use serde_json::json;

use super::{
    FileRequest, HotdeskScreens, NameHints, TemplateFacts, UaInfo, Vendor, clean_firmware, mac_in,
};
use crate::domain::{Mac, ModelId};
use crate::keys::effective::KeyCapacity;
use crate::keys::{Key, KeyType};
use crate::locale::DstChange;
use crate::models::ModelRow;
use crate::templates::Format;

pub struct Cisco;

const VENDOR: &str = "cisco";
const DESK: &str = "cisco/device.xml";
const BOOTSTRAP: &str = "cisco/bootstrap.xml";
const HOTDESK: &str = "cisco/hotdesk.xml";
const DEVICE_PREFIX: &str = "cisco-";
const PHONEBOOK: &str = "cisco/phonebook.xml";
/// `DirectoryEntry` items one `CiscoIPPhoneDirectory` holds: Cisco's XML object limit, which
/// the cipxml library enforces too (docs/vendors/cisco.md, Phonebook).
const PHONEBOOK_PAGE: usize = 32;

/// Lines (extensions) per model from Cisco's MPP data sheets. Line keys and key expansion
/// modules (32 keys each, `Unit_N_Key_M_`) as wazo-provd-plugins counts them
/// (`plugins/wazo_cisco_sip/v12_0_1/common.py`, `_NB_FKEY` and `_add_fkeys`: 8811 and 8841 10
/// keys and 1 module, 8851 2, 8861 3); a model it does not list has no key data yet.
static MODELS: &[ModelRow] = &[
    ModelRow::desk(VENDOR, "CP-6821-3PCC", 2, DESK),
    ModelRow::desk(VENDOR, "CP-6841-3PCC", 4, DESK),
    ModelRow::desk(VENDOR, "CP-6851-3PCC", 4, DESK),
    ModelRow::desk(VENDOR, "CP-6861-3PCC", 4, DESK),
    ModelRow::desk(VENDOR, "CP-6871-3PCC", 6, DESK),
    ModelRow::desk(VENDOR, "CP-7811-3PCC", 1, DESK),
    ModelRow::desk(VENDOR, "CP-7821-3PCC", 2, DESK),
    ModelRow::desk(VENDOR, "CP-7832-3PCC", 1, DESK),
    ModelRow::desk(VENDOR, "CP-7841-3PCC", 4, DESK),
    ModelRow::desk(VENDOR, "CP-7861-3PCC", 16, DESK),
    ModelRow::desk(VENDOR, "CP-8811-3PCC", 10, DESK).keys(KeyCapacity::keys(10, 1).modules(1, 32)),
    ModelRow::desk(VENDOR, "CP-8832-3PCC", 1, DESK),
    ModelRow::desk(VENDOR, "CP-8841-3PCC", 10, DESK).keys(KeyCapacity::keys(10, 1).modules(1, 32)),
    ModelRow::desk(VENDOR, "CP-8845-3PCC", 10, DESK),
    ModelRow::desk(VENDOR, "CP-8851-3PCC", 10, DESK).keys(KeyCapacity::keys(10, 1).modules(2, 32)),
    ModelRow::desk(VENDOR, "CP-8861-3PCC", 10, DESK).keys(KeyCapacity::keys(10, 1).modules(3, 32)),
    ModelRow::desk(VENDOR, "CP-8865-3PCC", 10, DESK),
];

impl Vendor for Cisco {
    /// `CiscoIPPhoneDirectory`, listed by the MPP admin guide's "XML Services" among the
    /// objects the phones support; a page of 32 entries links to the next.
    fn phonebook_template(&self) -> Option<&'static str> {
        Some(PHONEBOOK)
    }

    fn phonebook_page_size(&self) -> Option<usize> {
        Some(PHONEBOOK_PAGE)
    }

    /// A key on the phone: `Extension_N_` (the line, or `Disabled` for a function key),
    /// `Short_Name_N_` and `Extended_Function_N_`; on a module: `Unit_X_Key_Y_` (Cisco MPP
    /// parameter reference, `Extended_Function_n_`, `Extension_n_` and the KEM parameters; the
    /// trailing underscore as its table prints it and wazo-provd-plugins writes it). `function`
    /// is the `fnc=` text before the label (`nme=`) and, for `xml` keys, before the URL. `null`
    /// where no source gives the key a function: the template writes nothing there.
    fn key_values(&self, key: &Key) -> serde_json::Value {
        let position = key.at.position;
        let element = key
            .at
            .module
            .map(|module| format!("Unit_{module}_Key_{position}_"));
        if key.kind == KeyType::Line {
            // A line key is `Extension_N_` = the line; a module key cannot be one here.
            return match element {
                None => json!({
                    "position": position,
                    "element": null,
                    "extension": key.line.to_string(),
                    "function": null,
                    "takes_url": false,
                }),
                Some(_) => serde_json::Value::Null,
            };
        }
        let Some((mut function, takes_url)) = extended_function(key) else {
            return serde_json::Value::Null;
        };
        // `vid=`: the extension (line) the key uses (the reference's `sd` and `prk` examples).
        if key.line != 1 {
            function.push_str(&format!(";vid={}", key.line));
        }
        json!({
            "position": position,
            "element": element,
            "extension": "Disabled",
            "function": function,
            "takes_url": takes_url,
        })
    }

    /// MPP has no overwrite mode: a key the file stops naming stays on the phone.
    fn keeps_unwritten_keys(&self) -> bool {
        true
    }

    fn id(&self) -> &'static str {
        VENDOR
    }

    fn format(&self) -> Format {
        Format::Xml
    }

    fn mac_prefixes(&self) -> &'static [&'static str] {
        &[
            "D0EC35", "00562B", "0021A0", "001873", "A44C11", "30E4DB", "68EFBD", "002155",
        ]
    }

    fn models(&self) -> &'static [ModelRow] {
        MODELS
    }

    fn parse_user_agent(&self, user_agent: &str) -> Option<UaInfo> {
        let rest = user_agent.trim_start().strip_prefix("Cisco-")?;
        let (product, after) = rest.split_once('/')?;
        if !product.starts_with("CP-") {
            return None;
        }
        let model = ModelId::parse(product).ok();
        let version = after.split_whitespace().next().unwrap_or_default();
        let (version, mac_after_version) = split_mac_suffix(version);
        Some(UaInfo {
            vendor: self.id(),
            model,
            firmware: clean_firmware(version),
            mac: mac_in(after).or(mac_after_version),
        })
    }

    fn classify_file(&self, file_name: &str) -> Option<FileRequest> {
        if let Some(stem) = file_name.strip_suffix(".xml") {
            if let Some(mac) = stem
                .strip_prefix(DEVICE_PREFIX)
                .and_then(|m| Mac::parse(m).ok())
            {
                return Some(FileRequest::Device { mac });
            }
            let series = stem.strip_suffix("-3PCC").unwrap_or(stem);
            if series.len() == 4 && series.bytes().all(|b| b.is_ascii_digit()) {
                let model = ModelId::parse(&format!("CP-{series}-3PCC")).ok();
                let hints = NameHints {
                    model,
                    ..NameHints::default()
                };
                return Some(FileRequest::Common {
                    template: BOOTSTRAP,
                    hints,
                });
            }
        }
        let stem = file_name.strip_suffix(".cfg")?;
        (stem.len() == 12)
            .then(|| Mac::parse(stem).ok())
            .flatten()
            .map(|mac| FileRequest::Device { mac })
    }

    fn device_file_name(&self, mac: Mac, _model: Option<&ModelId>) -> String {
        format!("{DEVICE_PREFIX}{}.xml", mac.to_hex())
    }

    fn common_templates(&self) -> &'static [&'static str] {
        &[BOOTSTRAP]
    }

    fn default_device_template(&self) -> &'static str {
        DESK
    }

    fn template_values(&self, facts: &TemplateFacts<'_>) -> serde_json::Value {
        // The vendor's codes for UDP, TCP and TLS.
        let transport = facts.settings.sip_transport.pick("UDP", "TCP", "TLS");
        let zone = facts.settings.time_zone();
        let dst_rule = zone
            .and_then(|z| crate::locale::dst_changes(z.posix))
            .and_then(|(start, end)| {
                Some(format!(
                    "start={};end={};save=1",
                    cisco_dst_change(start)?,
                    cisco_dst_change(end)?
                ))
            });
        json!({
            "transport": transport,
            "device_file": format!("{DEVICE_PREFIX}$MA.xml"),
            "time_zone": zone.map(|z| match z.offset_minutes {
                0 => "GMT".to_string(),
                _ => format!("GMT{}", z.offset()),
            }),
            "dst_rule": dst_rule,
            "ldap": ldap_values(facts.settings),
        })
    }

    fn hotdesk_screens(&self) -> Option<HotdeskScreens> {
        Some(HotdeskScreens {
            template: HOTDESK,
            content_type: "text/xml; charset=utf-8",
            one_field_per_screen: false,
        })
    }

    /// MPP phones resync on `resync` when `Resync_From_SIP` is Yes (the device file sets it).
    fn notify_event(&self) -> &'static str {
        "resync"
    }

    // Cisco MPP admin guide: Event: reboot (with Auth_Resync-Reboot).
    fn reboot_event(&self) -> Option<&'static str> {
        Some("reboot")
    }
}

/// The `fnc=` text of a function key, and whether the key's URL follows (`;url=`). Sources:
/// `blf+sd+cp;sub=` (BLF, dial, pick up; Cisco's KEM/BLF admin pages, wazo-provd-plugins
/// `_add_fkeys`, SARK), `sd;ext=` (wazo-provd-plugins, SARK, FreePBX-FS), `prk;sub=` (the
/// parameter reference, `$USER` for the line's own park), `blf+cp` (the reference's
/// combinations: pickup of the watched extension), `xml;url=` (the reference shows it on PSK and
/// KEM keys; on a line key UNCONFIRMED; the hot-desk key goes to PSK1). Voicemail with a number is a speed dial to it, as
/// peers write it. No Cisco source gives DTMF, group pickup, intercom, transfer, DND, forward or
/// conference on a key (`fnc=dnd` only in a peer's test): those are not written. A URL with
/// a `;` would end the field, so such a key is not written either.
fn extended_function(key: &Key) -> Option<(String, bool)> {
    let at_proxy = |v: &str| match v.contains('@') {
        true => v.to_string(),
        false => format!("{v}@$PROXY"),
    };
    let value = key.value.as_deref();
    Some(match (key.kind, value) {
        (KeyType::Blf, Some(v)) => (format!("blf+sd+cp;sub={}", at_proxy(v)), false),
        (KeyType::SpeedDial | KeyType::Voicemail, Some(v)) => {
            (format!("sd;ext={}", at_proxy(v)), false)
        }
        (KeyType::Park, Some(v)) => (format!("prk;sub={}", at_proxy(v)), false),
        (KeyType::Park, None) => ("prk;sub=$USER@$PROXY".to_string(), false),
        (KeyType::Pickup, Some(v)) => (format!("blf+cp;sub={}", at_proxy(v)), false),
        (KeyType::Url, Some(url)) if !url.contains(';') => ("xml".to_string(), true),
        // The login key is the programmable soft key PSK1 (`fnc=xml;url=`, the reference's PSK
        // example), not a line key: the template writes it there from the key list.
        _ => return None,
    })
}

/// `12.0.3_dcf719f39350_<uuid>` (firmware 12 in the field, SIP capture in a BroadWorks hoteling
/// trace) → the version and the MAC after it; a version whose `_` part is no MAC
/// (`11.3.7_MPP_0001`) stays whole.
fn split_mac_suffix(version: &str) -> (&str, Option<Mac>) {
    let mut parts = version.split('_');
    let head = parts.next().unwrap_or_default();
    match parts.next().map(Mac::parse) {
        Some(Ok(mac)) => (head, Some(mac)),
        _ => (version, None),
    }
}

/// One end of `Daylight_Saving_Time_Rule`: `month/day/weekday/hour`, where the change falls on
/// the weekday (Monday 1 to Sunday 7) on or after `day`, or on or before the month's end for
/// day -1. An hour past 23 moves the day along.
fn cisco_dst_change(change: DstChange) -> Option<String> {
    let days_later = change.hour.div_euclid(24);
    let hour = change.hour.rem_euclid(24);
    let weekday = match (i16::from(change.weekday) + days_later).rem_euclid(7) {
        0 => 7,
        d => d,
    };
    let day = match change.week {
        5 if days_later == 0 => -1,
        5 => return None,
        week => {
            let day = (i16::from(week) - 1) * 7 + 1 + days_later;
            (1..=28).contains(&day).then_some(day)?
        }
    };
    Some(format!("{}/{day}/{weekday}/{hour}", change.month))
}

/// The MPP phone's corporate directory (`LDAP_*`), as Cisco's "Parameters for LDAP Directory"
/// describe them (Cisco IP Conference Phone 7832 Multiplatform Phones Administration Guide
/// 11.3(1), chapter "Corporate and Personal Directory Setup"; the 78xx and 88xx MPP guides have
/// the same table; the template writes the server as `ldap://` or `ldaps://` URL from the
/// shared `ldap` context, StartTLS a flag of its own, and `Simple` bind with a client DN, else
/// `None`). What Cisco spells its own way is made here: filters take `$VALUE` where the phone
/// puts what is typed: deskprov's `%` is the typed prefix (Yealink's meaning), so `$VALUE*`.
/// Display attributes as `a=NAME;` each, the first number dialable (`t=p`; the guide: only one
/// number can be dialable).
fn ldap_values(settings: &crate::settings::Settings) -> Option<serde_json::Value> {
    settings.ldap_server.as_ref()?;
    let filter = settings.ldap_name_filter.replace('%', "$VALUE*");
    let first_name_attr = settings.ldap_name_attr.split_whitespace().next()?;
    Some(json!({
        "directory_name": crate::phonebook::TITLE,
        "name_filter": format!("{first_name_attr}:{filter}"),
        "display_attrs": display_attrs(&settings.ldap_name_attr, &settings.ldap_number_attr),
    }))
}

/// `a=cn;a=sn;a=telephoneNumber,t=p;a=mobile;`: names, then numbers, the first one dialable.
fn display_attrs(names: &str, numbers: &str) -> String {
    let names = names.split_whitespace().map(|name| format!("a={name};"));
    let numbers = numbers
        .split_whitespace()
        .enumerate()
        .map(|(i, number)| match i {
            0 => format!("a={number},t=p;"),
            _ => format!("a={number};"),
        });
    names.chain(numbers).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_agents() {
        let ua = Cisco
            .parse_user_agent("Cisco-CP-7832-3PCC/11.0.1 (00562b043615)")
            .unwrap();
        assert_eq!(ua.model.unwrap().as_str(), "CP-7832-3PCC");
        assert_eq!(ua.firmware.as_deref(), Some("11.0.1"));
        assert_eq!(ua.mac.unwrap().to_hex(), "00562b043615");
        let mpp = Cisco
            .parse_user_agent("Cisco-CP-8851-3PCC/11-3-7MPP0001-272 (D0EC35AABBCC)")
            .unwrap();
        assert_eq!(mpp.firmware.as_deref(), Some("11-3-7MPP0001-272"));
        assert_eq!(mpp.mac.unwrap().to_hex(), "d0ec35aabbcc");
        assert!(
            Cisco
                .parse_user_agent("Cisco/SPA508G-7.4.4 (0002FDFF2103)(CBT141400UK)")
                .is_none()
        );
    }

    #[test]
    fn a_mac_glued_to_the_version() {
        let glued = Cisco
            .parse_user_agent("Cisco-CP-8865-3PCC/12.0.3_dcf719f39350_d4e6994b-60bc-4fba")
            .unwrap();
        assert_eq!(glued.firmware.as_deref(), Some("12.0.3"));
        assert_eq!(glued.mac.unwrap().to_hex(), "dcf719f39350");
        let suffix = Cisco
            .parse_user_agent("Cisco-CP-8851-3PCC/11.3.7_MPP_0001")
            .unwrap();
        assert_eq!(suffix.firmware.as_deref(), Some("11.3.7_MPP_0001"));
        assert_eq!(suffix.mac, None);
        let bare = Cisco.parse_user_agent("Cisco-CP-8841-3PCC/").unwrap();
        assert_eq!((bare.firmware, bare.mac), (None, None));
    }

    fn values(zone: &str, language: Option<&str>) -> serde_json::Value {
        // `language` goes through the settings, as the phone's own language would.
        let settings = crate::settings::Settings {
            time_zone: Some(zone.into()),
            language: language.map(Into::into),
            ..Default::default()
        };
        Cisco.template_values(&TemplateFacts::new(&settings, None, None))
    }

    #[test]
    fn time_zones_and_dst_rules() {
        let berlin = values("Europe/Berlin", None);
        assert_eq!(berlin["time_zone"], "GMT+01:00");
        assert_eq!(berlin["dst_rule"], "start=3/-1/7/2;end=10/-1/7/3;save=1");
        let new_york = values("America/New_York", None);
        assert_eq!(new_york["time_zone"], "GMT-05:00");
        assert_eq!(new_york["dst_rule"], "start=3/8/7/2;end=11/1/7/2;save=1");
        let st_johns = values("America/St_Johns", None);
        assert_eq!(st_johns["time_zone"], "GMT-03:30");
        // Friday before the last Sunday of March at 2:00.
        let jerusalem = values("Asia/Jerusalem", None);
        assert_eq!(jerusalem["dst_rule"], "start=3/23/5/2;end=10/-1/7/2;save=1");
        let utc = values("UTC", None);
        assert_eq!(utc["time_zone"], "GMT");
        assert!(utc["dst_rule"].is_null());
    }

    /// Every deskprov zone is one of the phone's `GMT±hh:mm` zones, with a DST rule where it
    /// has DST (Jerusalem's 26:00 moves to Friday 2:00).
    #[test]
    fn every_zone_has_a_time_zone_and_its_dst_rule() {
        for zone in crate::locale::TIME_ZONES {
            let v = values(zone.name, None);
            let name = v["time_zone"].as_str().unwrap();
            let offset = name.strip_prefix("GMT").unwrap();
            let well_formed = offset.is_empty()
                || (offset.len() == 6
                    && offset.starts_with(['+', '-'])
                    && offset[1..3].bytes().all(|b| b.is_ascii_digit())
                    && ["00", "30"].contains(&&offset[4..]));
            assert!(well_formed, "{}: {name}", zone.name);
            assert_eq!(!v["dst_rule"].is_null(), zone.has_dst(), "{}", zone.name);
        }
    }

    #[test]
    fn file_names() {
        for name in ["8851-3PCC.xml", "7861.xml"] {
            assert!(
                matches!(
                    Cisco.classify_file(name),
                    Some(FileRequest::Common {
                        template: BOOTSTRAP,
                        ..
                    })
                ),
                "{name}"
            );
        }
        let hints = match Cisco.classify_file("7841-3PCC.xml") {
            Some(FileRequest::Common { hints, .. }) => hints,
            other => panic!("{other:?}"),
        };
        assert_eq!(hints.model.unwrap().as_str(), "CP-7841-3PCC");
        let mac = Mac::parse("d0ec35aabbcc").unwrap();
        assert_eq!(
            Cisco.classify_file("cisco-d0ec35aabbcc.xml"),
            Some(FileRequest::Device { mac })
        );
        assert_eq!(
            Cisco.classify_file("d0ec35aabbcc.cfg"),
            Some(FileRequest::Device { mac })
        );
        for other in [
            "spa504G.cfg",
            "cp-phone.xml",
            "885-3PCC.xml",
            "d0ec35aabbcc.xml",
        ] {
            assert_eq!(Cisco.classify_file(other), None, "{other}");
        }
    }
}
