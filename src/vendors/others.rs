//! Phones deskprov recognises but does not provision, so that the admin sees what knocked
//! (in the seen-unregistered list and on devices). Their vendor ids are none of
//! [`super::ALL`]'s: no file of theirs is classified, so they get the one refusal and never
//! take a device's claim. Each entry: a vendor id, how its User-Agents start, and how the rest
//! reads. Sources: WZ = wazo-provd-plugins `plugins/wazo-<vendor>/.../common.py`
//! (`_extract_from_ua` and its comments), FP = FusionPBX `app/provision/index.php` and
//! `resources/classes/device.php` (`get_vendor_by_agent`).

use super::{UaInfo, after_keyword, clean_firmware, mac_in};
use crate::domain::{Mac, ModelId};

/// Where a vendor's User-Agent starts.
enum Marker {
    /// A word anywhere (case-insensitive, at a word start); the rest follows it.
    Keyword(&'static str),
    /// A test of the whole User-Agent, which is then the rest.
    Start(fn(&str) -> bool),
}

struct Known {
    vendor: &'static str,
    marker: Marker,
    /// (model, firmware) from the rest.
    parse: fn(&str) -> (Option<String>, Option<&str>),
    /// The MAC in the rest.
    mac: fn(&str) -> Option<Mac>,
}

impl Known {
    const fn keyword(
        vendor: &'static str,
        keyword: &'static str,
        parse: fn(&str) -> (Option<String>, Option<&str>),
    ) -> Known {
        Known {
            vendor,
            marker: Marker::Keyword(keyword),
            parse,
            mac: mac_in,
        }
    }

    const fn mac(self, mac: fn(&str) -> Option<Mac>) -> Known {
        Known { mac, ..self }
    }

    fn rest<'a>(&self, user_agent: &'a str) -> Option<&'a str> {
        match self.marker {
            Marker::Keyword(keyword) => after_keyword(user_agent, keyword),
            Marker::Start(test) => test(user_agent).then_some(user_agent),
        }
    }
}

static KNOWN: &[Known] = &[
    // Aastra6757i MAC:00-08-5D-23-73-01 V:3.2.2.1136-SIP; Aastra55i ... (WZ aastra)
    Known::keyword("aastra", "Aastra", aastra),
    // Mitel6940 MAC:14-00-E9-29-4C-6B V:6.4.0.4006-SIP (FP index.php)
    Known::keyword("mitel", "Mitel", aastra),
    // Panasonic_KX-UT670/01.133 (0080f0c8c381) (WZ panasonic)
    Known::keyword("panasonic", "Panasonic", model_slash_version),
    // AUDC-IPPhone/2.2.8.61 (440HD-Rev1; 00908F4E6D5C) (FP index.php)
    Known::keyword("audiocodes", "AUDC-IPPhone", audiocodes),
    // Avaya J179 IP Phone/4.0.3.0.4 ..., AVAYA/J179-4.0.10.3.2
    Known::keyword("avaya", "Avaya", model_then_version),
    // Alcatel-Lucent 8028s Premium DeskPhone/...
    Known::keyword("alcatel-lucent", "Alcatel-Lucent", model_then_version),
    // ALE M3-CE 2.11.01.1604 3c28a620089e (WZ alcatel)
    Known::keyword("alcatel-lucent", "ALE", model_then_version),
    // Htek UC903 2.0.4.2 00:1f:c1:1c:22:a9 (WZ htek)
    Known::keyword("htek", "Htek", model_then_version),
    // Cisco/SPA508G-7.4.4 (0002FDFF2103)(CBT141400UK): small-business phones (WZ cisco-spa);
    // MPP phones (`Cisco-CP-...`) are the provisioned vendor `cisco`.
    Known::keyword("cisco-spa", "Cisco/", spa_model_dash_version).mac(spa_mac),
    // Linksys/SPA-942-6.1.5(a) (88019FA42805): the one group is the serial (WZ cisco-spa)
    Known::keyword("linksys", "Linksys/", spa_model_dash_version).mac(spa_mac),
    // THOMSON ST2030 hw5 fw2.74 00-14-7F-E1-47-B3, Thomson TB30 hw1 fw1.74.0 ... (WZ technicolor)
    Known::keyword("technicolor", "Thomson", technicolor),
    // SmartNode (Model:SN4112/JS/EUI; Serial:00A0BA08933C; Software Version:R6.2 ...) (WZ patton)
    Known::keyword("patton", "SmartNode", smartnode).mac(smartnode_serial),
    // Flyingvoice FIP13G V0.6.24 00:21:F2:22:AE:F1 (FP index.php)
    Known::keyword("flyingvoice", "Flyingvoice", model_then_version),
    // Digium D60 2_7_0 (FP device.php recognises "digium")
    Known::keyword("digium", "Digium", digium),
    // ES320VN2 v4.0 ... (FP device.php: `^es\d\d\d`, the vendor Escene)
    Known {
        vendor: "escene",
        marker: Marker::Start(starts_like_escene),
        parse: first_word_model,
        mac: mac_in,
    },
];

pub fn parse_user_agent(user_agent: &str) -> Option<UaInfo> {
    KNOWN.iter().find_map(|known| {
        let rest = known.rest(user_agent)?;
        let (model, firmware) = (known.parse)(rest);
        Some(UaInfo {
            vendor: known.vendor,
            model: model.and_then(|m| ModelId::parse(&m).ok()),
            firmware: firmware.and_then(clean_firmware),
            mac: (known.mac)(rest),
        })
    })
}

fn trim_separators(rest: &str) -> &str {
    rest.trim_start_matches(['-', '_', '/', ' '])
}

/// `6757i MAC:... V:3.2.2.1136-SIP`. The 6700i phones of 2.x firmware call themselves `55i`,
/// `57iCT`, `39i`: their names are `6755i`, `6757iCT`, `6739i` (WZ aastra `_UA_MODELS_MAP`).
fn aastra(rest: &str) -> (Option<String>, Option<&str>) {
    let model = rest.split_whitespace().next().map(|model| {
        let short = model.len() >= 3
            && model.as_bytes()[..2].iter().all(u8::is_ascii_digit)
            && model.as_bytes()[2].eq_ignore_ascii_case(&b'i');
        if short {
            format!("67{model}")
        } else {
            model.to_string()
        }
    });
    let firmware = rest.split_whitespace().find_map(|t| t.strip_prefix("V:"));
    (model, firmware.map(|f| f.trim_end_matches("-SIP")))
}

fn model_slash_version(rest: &str) -> (Option<String>, Option<&str>) {
    let rest = trim_separators(rest);
    let token = rest.split_whitespace().next().unwrap_or_default();
    match token.split_once('/') {
        Some((model, version)) => (Some(model.to_string()), Some(version)),
        None => (Some(token.to_string()), None),
    }
}

/// A model, then the first word that reads as a version (`2.0.4.2`, `V0.6.24`).
fn model_then_version(rest: &str) -> (Option<String>, Option<&str>) {
    let rest = trim_separators(rest);
    let mut tokens = rest.split(|c: char| c.is_whitespace() || c == '/');
    let model = tokens.next().map(|m| m.split('-').next().unwrap_or(m));
    let version = rest
        .split(|c: char| c.is_whitespace() || c == '/' || c == '-')
        .skip(1)
        .map(|t| t.strip_prefix(['V', 'v']).unwrap_or(t))
        .find(|t| t.starts_with(|c: char| c.is_ascii_digit()) && t.contains('.'));
    (model.filter(|m| !m.is_empty()).map(str::to_string), version)
}

/// `SPA508G-7.4.4 (...)`, `SPA-942-6.1.5(a) (...)`: the version starts after the last '-'
/// followed by a digit. WZ names the models without '-' (SPA942).
fn spa_model_dash_version(rest: &str) -> (Option<String>, Option<&str>) {
    let token = rest.split_whitespace().next().unwrap_or_default();
    let split = token
        .char_indices()
        .rfind(|(i, c)| *c == '-' && token[i + 1..].starts_with(|d: char| d.is_ascii_digit()));
    let (model, version) = match split {
        Some((i, _)) => (&token[..i], Some(&token[i + 1..])),
        None => (token, None),
    };
    (Some(model.replace('-', "")), version)
}

/// `(MAC)(serial)` or `(serial)`: only a first group followed by another is the MAC (WZ
/// cisco-spa: "the last group of digit is the serial number; the first, if present, is the MAC").
fn spa_mac(rest: &str) -> Option<Mac> {
    let mut groups = rest.split('(').skip(1).filter_map(|g| g.split_once(')'));
    let first = groups.next()?;
    groups.next()?;
    Mac::parse(first.0).ok()
}

/// `ST2030 hw5 fw2.74 00-14-7F-E1-47-B3`
fn technicolor(rest: &str) -> (Option<String>, Option<&str>) {
    let mut tokens = rest.split_whitespace();
    let model = tokens.next().map(str::to_string);
    let firmware = tokens.find_map(|t| t.strip_prefix("fw"));
    (model, firmware)
}

/// ` (Model:SN4112/JS/EUI; Serial:...; Software Version:R6.2 2012-09-11 ...)`
fn smartnode(rest: &str) -> (Option<String>, Option<&str>) {
    let model = field(rest, "Model:").and_then(|m| m.split('/').next());
    let firmware = field(rest, "Software Version:")
        .and_then(|v| v.split_whitespace().next())
        .map(|v| v.strip_prefix('R').unwrap_or(v));
    (model.map(str::to_string), firmware)
}

/// A SmartNode's serial number is its MAC (Patton's OUI 00A0BA; WZ patton takes it so).
fn smartnode_serial(rest: &str) -> Option<Mac> {
    field(rest, "Serial:").and_then(|serial| Mac::parse(serial.trim()).ok())
}

/// The value of `name` in `(name value; name value)`.
fn field<'a>(rest: &'a str, name: &str) -> Option<&'a str> {
    let (_, after) = rest.split_once(name)?;
    after.split([';', ')']).next()
}

/// `D60 2_7_0`: Digium writes its versions with '_' (as in its DHCP class
/// `digium_D40_1_0_5_46476`, WZ digium); the version is kept as the phone writes it.
fn digium(rest: &str) -> (Option<String>, Option<&str>) {
    let mut tokens = rest.split_whitespace();
    let model = tokens.next().map(str::to_string);
    let firmware = tokens
        .next()
        .filter(|t| t.starts_with(|c: char| c.is_ascii_digit()));
    (model, firmware)
}

/// `ES` and three digits, as FP's `^es\d\d\d` (any case).
fn starts_like_escene(user_agent: &str) -> bool {
    let bytes = user_agent.trim_start().as_bytes();
    bytes.len() >= 5
        && bytes[..2].eq_ignore_ascii_case(b"ES")
        && bytes[2..5].iter().all(u8::is_ascii_digit)
}

/// The model only: what follows it is not known to be a version.
fn first_word_model(rest: &str) -> (Option<String>, Option<&str>) {
    (rest.split_whitespace().next().map(str::to_string), None)
}

fn audiocodes(rest: &str) -> (Option<String>, Option<&str>) {
    let version = rest
        .strip_prefix('/')
        .and_then(|r| r.split_whitespace().next());
    let model = rest
        .split_once('(')
        .and_then(|(_, inner)| inner.split(['-', ';', ')']).next());
    (model.map(str::to_string), version)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(ua: &str, vendor: &str, model: &str, firmware: Option<&str>, mac: Option<&str>) {
        let info = parse_user_agent(ua).unwrap_or_else(|| panic!("not recognised: {ua}"));
        assert_eq!(info.vendor, vendor, "{ua}");
        assert_eq!(
            info.model.map(|m| m.to_string()).as_deref(),
            Some(model),
            "{ua}"
        );
        assert_eq!(info.firmware.as_deref(), firmware, "{ua}");
        assert_eq!(info.mac.map(|m| m.to_hex()).as_deref(), mac, "{ua}");
    }

    #[test]
    fn other_vendors() {
        check(
            "Aastra6757i MAC:00-08-5D-23-73-01 V:3.2.2.1136-SIP",
            "aastra",
            "6757I",
            Some("3.2.2.1136"),
            Some("00085d237301"),
        );
        check(
            "Mitel6869i MAC:00-08-5D-AA-BB-CC V:5.1.0.2050-SIP",
            "mitel",
            "6869I",
            Some("5.1.0.2050"),
            Some("00085daabbcc"),
        );
        check(
            "Panasonic_KX-UT670/01.133 (0080f0c8c381)",
            "panasonic",
            "KX-UT670",
            Some("01.133"),
            Some("0080f0c8c381"),
        );
        check(
            "AUDC-IPPhone/2.2.8.61 (440HD-Rev1; 00908F4E6D5C)",
            "audiocodes",
            "440HD",
            Some("2.2.8.61"),
            Some("00908f4e6d5c"),
        );
        check(
            "Htek UC926 2.0.4.4.46 001fc1123456",
            "htek",
            "UC926",
            Some("2.0.4.4.46"),
            Some("001fc1123456"),
        );
        check(
            "Cisco/SPA508G-7.4.4 (0002FDFF2103)(CBT141400UK)",
            "cisco-spa",
            "SPA508G",
            Some("7.4.4"),
            Some("0002fdff2103"),
        );
        check(
            "Linksys/SPA-942-6.1.5(a) (88019FA42805)",
            "linksys",
            "SPA942",
            Some("6.1.5(a)"),
            None,
        );
        check(
            "Avaya J179 IP Phone/4.0.3.0.4",
            "avaya",
            "J179",
            Some("4.0.3.0.4"),
            None,
        );
        assert!(parse_user_agent("Mozilla/5.0").is_none());
    }

    #[test]
    fn canonical_aastra_names() {
        check(
            "Aastra55i MAC:00-08-5D-20-DA-5B V:2.6.0.1008-SIP",
            "aastra",
            "6755I",
            Some("2.6.0.1008"),
            Some("00085d20da5b"),
        );
        assert_eq!(aastra("57iCT MAC:x").0.as_deref(), Some("6757iCT"));
        assert_eq!(aastra("39i V:1").0.as_deref(), Some("6739i"));
        assert_eq!(aastra("9143i V:1").0.as_deref(), Some("9143i"));
        assert_eq!(aastra("5i V:1").0.as_deref(), Some("5i"));
    }

    #[test]
    fn vendors_of_peers() {
        check(
            "THOMSON ST2030 hw5 fw2.74 00-14-7F-E1-47-B3",
            "technicolor",
            "ST2030",
            Some("2.74"),
            Some("00147fe147b3"),
        );
        check(
            "SmartNode (Model:SN4316/JS; Serial:00A0BA0BA9A5; Software Version:R6.9 2016-07-05 H323 SIP FXS FXO; Hardware Version:2.3)",
            "patton",
            "SN4316",
            Some("6.9"),
            Some("00a0ba0ba9a5"),
        );
        check(
            "Flyingvoice FIP13G V0.6.24 00:21:F2:22:AE:F1",
            "flyingvoice",
            "FIP13G",
            Some("0.6.24"),
            Some("0021f222aef1"),
        );
        check("Digium D60 2_7_0", "digium", "D60", Some("2_7_0"), None);
        check("ES320VN2 v4.0", "escene", "ES320VN2", None, None);
        check(
            "ALE M3-CE 2.11.01.1604 3c28a620089e",
            "alcatel-lucent",
            "M3",
            Some("2.11.01.1604"),
            Some("3c28a620089e"),
        );
        for not_escene in ["ES32", "Yealink ES320", "ESx20", "é"] {
            assert!(parse_user_agent(not_escene).is_none(), "{not_escene}");
        }
    }

    #[test]
    fn a_spa_mac_is_the_first_of_two_groups() {
        assert_eq!(
            spa_mac(" (0002FDFF2103)(CBT141400UK)").unwrap().to_hex(),
            "0002fdff2103"
        );
        assert_eq!(spa_mac(" (CBT141900G7)"), None);
        assert_eq!(spa_mac(" (88019FA42805)"), None);
        assert_eq!(spa_mac("(a)(b"), None);
        assert_eq!(spa_mac(""), None);
    }

    /// Their files are never classified, so their phones never take a claim: an id shared
    /// with a provisioned vendor would hand them that vendor's configs.
    #[test]
    fn no_identify_only_vendor_is_provisioned() {
        for known in KNOWN {
            assert!(!super::super::provisions(known.vendor), "{}", known.vendor);
        }
    }
}
