//! Grandstream GXP/GRP desk phones and DP750/DP752 DECT bases.
//!
//! A phone asks for `cfg{mac}` (legacy binary, which deskprov does not write), `cfg{mac}.xml`
//! (its own config), `cfg{model}.xml`, then `cfg.xml` (common). Configs are `<gs_provision>`
//! documents of numbered P-values. Each desk family numbers its accounts in its own table
//! (`GXP16XX`, `GXP21XX`, `GRP26XX`): accounts 2-4 follow `P{N+2}xx`, but GXP21xx accounts 5/6
//! sit at P17xx/P18xx and GRP26xx account 5 at P7xx. DP75x accounts are P4060+n (user),
//! P4090+n (auth id), P4120+n (password), P4180+n (name), P4595+n (active), P4150+n (profile),
//! with n = account - 1, and P27080+n dedicates account n+1 to one handset; each handset's
//! first line sits in an irregular table (see `DP_HANDSET_FIRST_LINE`). Sources: FusionPBX
//! templates `grandstream/{gxp16xx,gxp21xx,gxp2170,grp26xx,grp2615,grp2616,dp750}/{$mac}.xml`,
//! WZ `wazo_grandstream/common/templates/base.tpl`; see docs/vendors/grandstream.md.
//! User-Agent: `Grandstream Model HW GXP2135 SW 1.0.7.97 DevId 000b828aa872`.

use serde_json::json;

mod keys;

use super::{
    FileRequest, NameHints, TemplateFacts, UaInfo, Vendor, after_keyword, clean_firmware, mac_in,
};
use crate::domain::{LdapTls, Mac, ModelId};
use crate::locale::Language;
use crate::models::ModelRow;
use crate::templates::Format;

pub struct Grandstream;

const VENDOR: &str = "grandstream";
const DESK: &str = "grandstream/desk.xml";
const DECT: &str = "grandstream/dect-base.xml";
const COMMON: &str = "grandstream/common.xml";
const PHONEBOOK: &str = "grandstream/phonebook.xml";
/// P332's highest value (Gemeinschaft's Grandstream provisioning: "between 0-720").
const PHONEBOOK_INTERVAL_MAX: u32 = 720;

/// The P-value of each DP75x handset's first line (handsets 1 to 5); not evenly spaced.
const DP_HANDSET_FIRST_LINE: [u32; 5] = [4300, 4310, 4320, 4250, 21328];

/// The P-values of one desk account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct AccountKeys {
    active: u32,
    server: u32,
    outbound_proxy: u32,
    user: u32,
    auth: u32,
    password: u32,
    name: u32,
    label: u32,
    /// The account's SIP transport (0 UDP, 1 TCP, 2 TLS); more than one where the sources
    /// disagree (GRP26xx account 5).
    transport: &'static [u32],
    /// "Allow SIP Reset": a SIP message may reset the phone to factory defaults; written 0.
    sip_reset: u32,
}

/// Account 1, whose P-values predate the numbering of the others.
const ACCOUNT_1: AccountKeys = AccountKeys {
    active: 271,
    server: 47,
    outbound_proxy: 48,
    user: 35,
    auth: 36,
    password: 34,
    name: 3,
    label: 270,
    transport: &[130],
    sip_reset: 26015,
};

/// Account `n` ≥ 2 whose general settings sit at `base` + 1 (active), 2 (server), 3 (outbound
/// proxy), 4 (user), 5 (auth id), 6 (password), 7 (name) and 17 (label). "Allow SIP Reset" is
/// P26{n-1}15 in every family (P26115 account 2 … P26515 account 6).
const fn account(n: u32, base: u32, transport: &'static [u32]) -> AccountKeys {
    AccountKeys {
        active: base + 1,
        server: base + 2,
        outbound_proxy: base + 3,
        user: base + 4,
        auth: base + 5,
        password: base + 6,
        name: base + 7,
        label: base + 17,
        transport,
        sip_reset: 26015 + (n - 1) * 100,
    }
}

/// GXP16xx (FP `grandstream/gxp16xx/{$mac}.xml`: account 2 P401…P417, transport P448).
static GXP16XX: [AccountKeys; 3] = [ACCOUNT_1, account(2, 400, &[448]), account(3, 500, &[548])];

/// GXP21xx: accounts 5 and 6 ("GXP2160/2170 only") at P1701…P1717 and P1801…P1817, with
/// transports P1748/P1848 (FP `grandstream/gxp21xx/{$mac}.xml` l.1676-1777,
/// `grandstream/gxp2170/{$mac}.xml` for firmware 1.0.9.127, also P26415 there).
static GXP21XX: [AccountKeys; 6] = [
    ACCOUNT_1,
    account(2, 400, &[448]),
    account(3, 500, &[548]),
    account(4, 600, &[648]),
    account(5, 1700, &[1748]),
    account(6, 1800, &[1848]),
];

/// GRP26xx: account 5 at P701…P717 (FP `grandstream/{grp26xx,grp2615,grp2616}/{$mac}.xml`).
/// Its transport is P748 in FP grp26xx but P1748 in FP grp2615 and grp2616, which also move
/// its SIP timers to P17xx: the sources disagree, so both are written. Account 6 (GRP2616 and
/// the other six-account models) at P1801…P1817, transport P1848, P26515 (FP grp2616).
static GRP26XX: [AccountKeys; 6] = [
    ACCOUNT_1,
    account(2, 400, &[448]),
    account(3, 500, &[548]),
    account(4, 600, &[648]),
    account(5, 700, &[748, 1748]),
    account(6, 1800, &[1848]),
];

/// The account table of each desk family; a model row names its family.
static FAMILIES: &[(&str, &[AccountKeys])] = &[
    ("GXP16xx", &GXP16XX),
    ("GXP21xx", &GXP21XX),
    ("GRP26xx", &GRP26XX),
];

/// The table of a desk phone whose model or family is not known.
static DEFAULT_ACCOUNTS: &[AccountKeys] = &GXP21XX;

/// Grandstream's display-language codes (P1362) for deskprov's languages: its own where they
/// differ from ISO 639-1 (Czech `cz`, Swedish `se`). Danish, Norwegian and Finnish are not in
/// its list (FP grp26xx and gxp21xx, "Maintenance/Language"), so P1362 is not written for
/// them and the phone keeps its own choice.
const LANGUAGE_CODES: &[(&str, &str)] = &[
    ("en", "en"),
    ("de", "de"),
    ("fr", "fr"),
    ("es", "es"),
    ("it", "it"),
    ("nl", "nl"),
    ("pt", "pt"),
    ("pl", "pl"),
    ("sv", "se"),
    ("cs", "cz"),
    ("tr", "tr"),
    ("ru", "ru"),
];

/// P193 (check every N minutes) takes 60 to 86400 (FP grp26xx, gxp21xx).
const RESYNC_MINUTES_MIN: u32 = 60;

const GXP16: &str = "GXP16xx";
const GXP21: &str = "GXP21xx";
const GRP26: &str = "GRP26xx";

/// SIP accounts per desk model and handsets per base, from Grandstream's data sheets. Key
/// capacity from Grandstream's config templates (see `keys`); GXP1610/1615 (no line keys on
/// their data sheets), the GRP260x and GRP2624-2670 (no template block of theirs found) and
/// the DP75x bases program no keys.
static MODELS: &[ModelRow] = &[
    ModelRow::desk(VENDOR, "GXP1610", 1, DESK).family(GXP16),
    ModelRow::desk(VENDOR, "GXP1615", 1, DESK).family(GXP16),
    ModelRow::desk(VENDOR, "GXP1620", 2, DESK)
        .family(GXP16)
        .keys(keys::GXP1620.capacity()),
    ModelRow::desk(VENDOR, "GXP1625", 2, DESK)
        .family(GXP16)
        .keys(keys::GXP1620.capacity()),
    ModelRow::desk(VENDOR, "GXP1628", 2, DESK)
        .family(GXP16)
        .keys(keys::GXP1628.capacity()),
    ModelRow::desk(VENDOR, "GXP1630", 3, DESK)
        .family(GXP16)
        .keys(keys::GXP1630.capacity()),
    ModelRow::desk(VENDOR, "GXP2130", 3, DESK)
        .family(GXP21)
        .keys(keys::GXP2130.capacity()),
    ModelRow::desk(VENDOR, "GXP2135", 4, DESK)
        .family(GXP21)
        .keys(keys::GXP2135.capacity()),
    ModelRow::desk(VENDOR, "GXP2140", 4, DESK)
        .family(GXP21)
        .keys(keys::GXP2140.capacity()),
    ModelRow::desk(VENDOR, "GXP2160", 6, DESK)
        .family(GXP21)
        .keys(keys::GXP2160.capacity()),
    ModelRow::desk(VENDOR, "GXP2170", 6, DESK)
        .family(GXP21)
        .keys(keys::GXP2170.capacity()),
    ModelRow::desk(VENDOR, "GRP2601", 2, DESK).family(GRP26),
    ModelRow::desk(VENDOR, "GRP2602", 4, DESK).family(GRP26),
    ModelRow::desk(VENDOR, "GRP2603", 6, DESK).family(GRP26),
    ModelRow::desk(VENDOR, "GRP2604", 6, DESK).family(GRP26),
    ModelRow::desk(VENDOR, "GRP2612", 2, DESK)
        .family(GRP26)
        .keys(keys::GRP2612.capacity()),
    ModelRow::desk(VENDOR, "GRP2613", 3, DESK)
        .family(GRP26)
        .keys(keys::GRP2613.capacity()),
    ModelRow::desk(VENDOR, "GRP2614", 4, DESK)
        .family(GRP26)
        .keys(keys::GRP2614.capacity()),
    ModelRow::desk(VENDOR, "GRP2615", 5, DESK)
        .family(GRP26)
        .keys(keys::GRP2615.capacity()),
    ModelRow::desk(VENDOR, "GRP2616", 6, DESK)
        .family(GRP26)
        .keys(keys::GRP2616.capacity()),
    ModelRow::desk(VENDOR, "GRP2624", 4, DESK).family(GRP26),
    ModelRow::desk(VENDOR, "GRP2634", 4, DESK).family(GRP26),
    ModelRow::desk(VENDOR, "GRP2636", 6, DESK).family(GRP26),
    ModelRow::desk(VENDOR, "GRP2650", 6, DESK).family(GRP26),
    ModelRow::desk(VENDOR, "GRP2670", 6, DESK).family(GRP26),
    ModelRow::dect_base(VENDOR, "DP750", 5, DECT),
    ModelRow::dect_base(VENDOR, "DP752", 5, DECT),
];

impl Vendor for Grandstream {
    /// `AddressBook` (fspbx `app/Services/Provisioning/Phonebook/Formatters/GrandstreamFormatter.php`).
    fn phonebook_template(&self) -> Option<&'static str> {
        Some(PHONEBOOK)
    }

    /// The key's mode on each kind of slot, its account and table (`keys::key_values`).
    fn key_values(&self, key: &crate::keys::Key) -> serde_json::Value {
        keys::key_values(key)
    }

    /// A P-value the config stops naming keeps its value on the phone, and a dynamic VPK
    /// skipped in the sequence "will remove everything after that VPK" (Grandstream's
    /// GXP21xx template): once keys reach a phone every slot is written.
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
        &["000B82", "C074AD", "EC74D7"]
    }

    fn models(&self) -> &'static [ModelRow] {
        MODELS
    }

    fn parse_user_agent(&self, user_agent: &str) -> Option<UaInfo> {
        let rest = after_keyword(user_agent, "grandstream")?;
        let mut tokens = rest.split_whitespace().peekable();
        let (model, firmware) = if tokens
            .peek()
            .is_some_and(|t| t.eq_ignore_ascii_case("Model"))
        {
            // "Model HW GXP2135 [V2.2A] SW 1.0.7.97 DevId 000b828aa872"
            let (mut hardware, mut software, mut previous) = (None, None, None);
            for word in tokens {
                match previous {
                    Some("HW") if hardware.is_none() => hardware = Some(word),
                    Some("SW") if software.is_none() => software = Some(word),
                    _ => {}
                }
                previous = Some(word);
            }
            (hardware, software)
        } else {
            // "GXP2000 (gxp2000e.bin:1.2.5.3/boot55e.bin:1.1.6.9) DevId 000b822726c8"
            let model = tokens.next();
            let firmware = tokens
                .next()
                .and_then(|t| t.split(':').nth(1))
                .and_then(|t| t.split('/').next());
            (model, firmware)
        };
        Some(UaInfo {
            vendor: self.id(),
            model: model.and_then(|m| ModelId::parse(m).ok()),
            firmware: firmware.and_then(clean_firmware),
            mac: after_keyword(rest, "DevId").and_then(mac_in),
        })
    }

    fn classify_file(&self, file_name: &str) -> Option<FileRequest> {
        let lower = file_name.to_ascii_lowercase();
        if lower == "cfg.xml" {
            return Some(FileRequest::Common {
                template: COMMON,
                hints: NameHints::default(),
            });
        }
        let stem = lower.strip_prefix("cfg")?.strip_suffix(".xml")?;
        if let Ok(mac) = Mac::parse(stem)
            && stem.len() == 12
        {
            return Some(FileRequest::Device { mac });
        }
        if !stem.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return None;
        }
        let hints = NameHints {
            model: ModelId::parse(stem).ok(),
            ..NameHints::default()
        };
        hints.model.is_some().then_some(FileRequest::Common {
            template: COMMON,
            hints,
        })
    }

    fn device_file_name(&self, mac: Mac, _model: Option<&ModelId>) -> String {
        format!("cfg{}.xml", mac.to_hex())
    }

    fn common_templates(&self) -> &'static [&'static str] {
        &[COMMON]
    }

    fn default_device_template(&self) -> &'static str {
        DESK
    }

    // FusionPBX's event_notify reboots Grandstream phones with check-sync;reboot=true
    // (shared/reference/phones.md §4, FP app/event_notify/index.lua).
    fn reboot_event(&self) -> Option<&'static str> {
        Some("check-sync;reboot=true")
    }

    fn template_values(&self, facts: &TemplateFacts<'_>) -> serde_json::Value {
        // The vendor's codes for UDP, TCP and TLS.
        let transport = facts.settings.sip_transport.pick(0, 1, 2);
        // Below P193's range the phone gets its minimum; otherwise the template takes the
        // context's (jittered) `resync.minutes`.
        let resync_floor =
            (facts.settings.resync_minutes < RESYNC_MINUTES_MIN).then_some(RESYNC_MINUTES_MIN);
        json!({
            "transport": transport,
            "language": facts.language.and_then(language_code),
            "resync_floor_minutes": resync_floor,
            "phonebook_interval_minutes": facts
                .settings
                .phonebook_refresh_minutes
                .map(|m| m.min(PHONEBOOK_INTERVAL_MAX)),
            "key_slots": facts
                .model
                .filter(|_| facts.writes_keys)
                .and_then(|row| keys::layout(row.model))
                .map(keys::Layout::slots),
            "ldap_protocol": ldap_protocol(facts.settings.ldap_tls),
            "ldap_protocol_key": ldap_protocol_key(facts.model),
        })
    }

    fn line_values(&self, index: u16, model: Option<&ModelRow>) -> serde_json::Value {
        if model.is_some_and(ModelRow::is_dect) {
            return dect_line(index);
        }
        desk_accounts(model)
            .get(usize::from(index).wrapping_sub(1))
            .map_or(serde_json::Value::Null, desk_line)
    }
}

/// "LDAP protocol. 0 - LDAP, 1 - LDAPS" (Grandstream's gxp16xx, gxp2130_40_60_70_35 and
/// grp261x config templates); there is no StartTLS, so a directory that asks for it is not
/// written.
fn ldap_protocol(tls: LdapTls) -> Option<&'static str> {
    match tls {
        LdapTls::None => Some("0"),
        LdapTls::Ldaps => Some("1"),
        LdapTls::Starttls => None,
    }
}

/// The LDAP protocol's P-value: P8370 on GXP16xx (`gxp16xx_config_1.0.7.3.txt`), P8037 on
/// GXP21xx and GRP26xx (`gxp2130_40_60_70_35_config_1.0.11.16.txt`,
/// `grp261x_config_1.0.5.15.txt`, where P8370 is "Show Network Warning Message").
fn ldap_protocol_key(model: Option<&ModelRow>) -> &'static str {
    match model.and_then(|row| row.family) {
        Some(GXP16) => "P8370",
        _ => "P8037",
    }
}

/// Grandstream's code for `language`, if its list has the language.
fn language_code(language: &Language) -> Option<&'static str> {
    LANGUAGE_CODES
        .iter()
        .find(|(iso, _)| *iso == language.code)
        .map(|(_, code)| *code)
}

/// The account table of a desk model's family.
fn desk_accounts(model: Option<&ModelRow>) -> &'static [AccountKeys] {
    model
        .and_then(|row| row.family)
        .and_then(|family| FAMILIES.iter().find(|(name, _)| *name == family))
        .map_or(DEFAULT_ACCOUNTS, |(_, accounts)| accounts)
}

fn desk_line(keys: &AccountKeys) -> serde_json::Value {
    let p = |value: u32| format!("P{value}");
    json!({
        "active": p(keys.active),
        "server": p(keys.server),
        "outbound_proxy": p(keys.outbound_proxy),
        "user": p(keys.user),
        "auth": p(keys.auth),
        "password": p(keys.password),
        "name": p(keys.name),
        "label": p(keys.label),
        "transport": keys.transport.iter().map(|t| p(*t)).collect::<Vec<_>>(),
        "sip_reset": p(keys.sip_reset),
    })
}

/// DP75x: account `index` dedicated to handset `index`, as that handset's first line.
fn dect_line(index: u16) -> serde_json::Value {
    let n = u32::from(index) - 1;
    let handset_line = DP_HANDSET_FIRST_LINE
        .get(n as usize)
        .map(|p| format!("P{p}"));
    json!({
        "user": format!("P{}", 4060 + n),
        "auth": format!("P{}", 4090 + n),
        "password": format!("P{}", 4120 + n),
        "profile": format!("P{}", 4150 + n),
        "name": format!("P{}", 4180 + n),
        "active": format!("P{}", 4595 + n),
        "handset_mode": format!("P{}", 27080 + n),
        // "HS1 … HS5 name": P27020 is handset 1 (FP grandstream/dp750/{$mac}.xml l.2211-2218).
        "handset_name": format!("P{}", 27020 + n),
        "handset_line": handset_line,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(model: &str, account: u16) -> serde_json::Value {
        let row = crate::models::find("grandstream", model).unwrap();
        Grandstream.line_values(account, Some(row))
    }

    #[test]
    fn every_desk_row_names_a_family_whose_table_covers_its_accounts() {
        for row in MODELS.iter().filter(|row| !row.is_dect()) {
            let family = row
                .family
                .unwrap_or_else(|| panic!("{} has no family", row.model));
            let (_, accounts) = FAMILIES
                .iter()
                .find(|(name, _)| *name == family)
                .unwrap_or_else(|| panic!("{}: no table for {family}", row.model));
            assert!(usize::from(row.lines()) <= accounts.len(), "{}", row.model);
        }
    }

    #[test]
    fn no_p_value_serves_two_accounts_of_a_family() {
        for (family, accounts) in FAMILIES {
            let mut seen = std::collections::BTreeSet::new();
            for keys in *accounts {
                let singles = [
                    keys.active,
                    keys.server,
                    keys.outbound_proxy,
                    keys.user,
                    keys.auth,
                    keys.password,
                    keys.name,
                    keys.label,
                    keys.sip_reset,
                ];
                for p in singles.iter().chain(keys.transport) {
                    assert!(seen.insert(*p), "{family}: P{p} twice");
                }
            }
        }
    }

    #[test]
    fn accounts_five_and_six_follow_their_family() {
        // FP grandstream/gxp2170/{$mac}.xml: "Account 5 - GXP2160/2170 only" at P17xx.
        assert_eq!(keys("GXP2170", 5)["server"], "P1702");
        assert_eq!(keys("GXP2170", 5)["transport"], json!(["P1748"]));
        assert_eq!(keys("GXP2170", 5)["sip_reset"], "P26415");
        assert_eq!(keys("GXP2170", 6)["user"], "P1804");
        assert_eq!(keys("GXP2170", 6)["transport"], json!(["P1848"]));
        // FP grandstream/grp2616/{$mac}.xml: account 5 at P70x, account 6 at P18xx.
        assert_eq!(keys("GRP2616", 5)["server"], "P702");
        assert_eq!(keys("GRP2616", 5)["label"], "P717");
        assert_eq!(keys("GRP2616", 5)["transport"], json!(["P748", "P1748"]));
        assert_eq!(keys("GRP2616", 6)["server"], "P1802");
        assert_eq!(keys("GRP2616", 6)["sip_reset"], "P26515");
        assert_eq!(keys("GXP1630", 3)["transport"], json!(["P548"]));
        assert_eq!(keys("GXP2135", 1)["transport"], json!(["P130"]));
        assert_eq!(keys("GXP2135", 1)["sip_reset"], "P26015");
        assert_eq!(keys("GXP2135", 2)["sip_reset"], "P26115");
        // Past the family's table there is no account to write.
        assert!(keys("GXP1630", 4).is_null());
        assert!(Grandstream.line_values(7, None).is_null());
        assert_eq!(Grandstream.line_values(6, None)["server"], "P1802");
    }

    #[test]
    fn every_language_has_grandstreams_code_or_none() {
        // FP grandstream/grp26xx/{$mac}.xml, "Display Language".
        const GRANDSTREAM: &[&str] = &[
            "ar", "cz", "de", "en", "es", "fr", "he", "hr", "hu", "it", "ja", "ko", "lv", "nl",
            "pl", "pt", "ru", "sl", "se", "tr", "zh-tw", "zh",
        ];
        for language in crate::locale::LANGUAGES {
            match language_code(language) {
                Some(code) => assert!(GRANDSTREAM.contains(&code), "{}", language.code),
                None => assert!(
                    ["da", "nb", "fi"].contains(&language.code),
                    "{}",
                    language.code
                ),
            }
        }
        assert_eq!(
            language_code(crate::locale::language("cs").unwrap()),
            Some("cz")
        );
        assert_eq!(
            language_code(crate::locale::language("sv").unwrap()),
            Some("se")
        );
    }

    #[test]
    fn resync_below_the_phones_minimum_is_raised_to_it() {
        let values = |minutes: u32| {
            let settings = crate::settings::Settings {
                resync_minutes: minutes,
                ..Default::default()
            };
            Grandstream.template_values(&TemplateFacts::new(&settings, None, None))
        };
        assert_eq!(values(5)["resync_floor_minutes"], 60);
        assert!(values(60)["resync_floor_minutes"].is_null());
    }

    #[test]
    fn user_agents() {
        let gxp = Grandstream
            .parse_user_agent("Grandstream Model HW GXP2135 SW 1.0.7.97 DevId 000b828aa872")
            .unwrap();
        assert_eq!(gxp.model.unwrap().as_str(), "GXP2135");
        assert_eq!(gxp.firmware.as_deref(), Some("1.0.7.97"));
        assert_eq!(gxp.mac.unwrap().to_hex(), "000b828aa872");
        let v = Grandstream
            .parse_user_agent("Grandstream Model HW GXP2200 V2.2A SW 1.0.1.33 DevId 000b82462d97")
            .unwrap();
        assert_eq!(v.model.unwrap().as_str(), "GXP2200");
        assert_eq!(v.firmware.as_deref(), Some("1.0.1.33"));
        let old = Grandstream
            .parse_user_agent(
                "Grandstream GXP2000 (gxp2000e.bin:1.2.5.3/boot55e.bin:1.1.6.9) DevId 000b822726c8",
            )
            .unwrap();
        assert_eq!(old.model.unwrap().as_str(), "GXP2000");
        assert_eq!(old.firmware.as_deref(), Some("1.2.5.3"));
        assert_eq!(old.mac.unwrap().to_hex(), "000b822726c8");
    }

    #[test]
    fn file_names_and_p_values() {
        let mac = Mac::parse("000b828aa872").unwrap();
        assert_eq!(
            Grandstream.classify_file("cfg000b828aa872.xml"),
            Some(FileRequest::Device { mac })
        );
        assert!(matches!(
            Grandstream.classify_file("cfg.xml"),
            Some(FileRequest::Common { .. })
        ));
        assert!(
            matches!(Grandstream.classify_file("cfggxp2135.xml"), Some(FileRequest::Common { hints, .. }) if hints.model.as_ref().unwrap().as_str() == "GXP2135")
        );
        for other in [
            "cfg000b828aa872",
            "cfg000b828aa872.bin",
            "cfg-x.xml",
            "000b828aa872.xml",
        ] {
            assert_eq!(Grandstream.classify_file(other), None, "{other}");
        }
        assert_eq!(Grandstream.line_values(2, None)["password"], "P406");
        assert_eq!(Grandstream.line_values(3, None)["label"], "P517");
        let dp = models_dp750();
        assert_eq!(
            Grandstream.line_values(1, Some(dp))["handset_line"],
            "P4300"
        );
        assert_eq!(
            Grandstream.line_values(4, Some(dp))["handset_line"],
            "P4250"
        );
        assert_eq!(Grandstream.line_values(5, Some(dp))["user"], "P4064");
        assert_eq!(
            Grandstream.line_values(1, Some(dp))["handset_name"],
            "P27020"
        );
        assert_eq!(
            Grandstream.line_values(5, Some(dp))["handset_name"],
            "P27024"
        );
    }

    #[test]
    fn notify_events() {
        assert_eq!(Grandstream.notify_event(), "check-sync");
        assert_eq!(Grandstream.reboot_event(), Some("check-sync;reboot=true"));
    }

    fn models_dp750() -> &'static ModelRow {
        MODELS.iter().find(|m| m.model == "DP750").unwrap()
    }
}
