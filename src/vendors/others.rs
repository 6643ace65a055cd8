//! Phones deskprov recognises but does not provision, so that the admin sees what knocked
//! (in the seen-unregistered list and on devices). Each entry: a vendor id, the keyword its
//! User-Agents start with, and how the rest reads.

use super::{UaInfo, after_keyword, clean_firmware, mac_in};
use crate::domain::ModelId;

struct Known {
    vendor: &'static str,
    keyword: &'static str,
    parse: fn(&str) -> (Option<&str>, Option<&str>),
}

/// (model, firmware) from the text after the keyword.
static KNOWN: &[Known] = &[
    // Aastra6757i MAC:00-08-5D-23-73-01 V:3.2.2.1136-SIP
    Known {
        vendor: "aastra",
        keyword: "Aastra",
        parse: model_then_v_colon,
    },
    Known {
        vendor: "mitel",
        keyword: "Mitel",
        parse: model_then_v_colon,
    },
    // Panasonic_KX-UT670/01.133 (0080f0c8c381)
    Known {
        vendor: "panasonic",
        keyword: "Panasonic",
        parse: model_slash_version,
    },
    // AUDC-IPPhone/2.2.8.61 (440HD-Rev1; 00908F4E6D5C)
    Known {
        vendor: "audiocodes",
        keyword: "AUDC-IPPhone",
        parse: audiocodes,
    },
    // Avaya J179 IP Phone/4.0.3.0.4 ..., AVAYA/J179-4.0.10.3.2
    Known {
        vendor: "avaya",
        keyword: "Avaya",
        parse: model_then_version,
    },
    // Alcatel-Lucent 8028s Premium DeskPhone/...
    Known {
        vendor: "alcatel-lucent",
        keyword: "Alcatel-Lucent",
        parse: model_then_version,
    },
    Known {
        vendor: "alcatel-lucent",
        keyword: "ALE",
        parse: model_then_version,
    },
    // Htek UC926 2.0.4.4.46 001fc1123456
    Known {
        vendor: "htek",
        keyword: "Htek",
        parse: model_then_version,
    },
    // Cisco/SPA508G-7.4.4 (0002FDFF2103)(CBT141400UK), Linksys/SPA-942-6.1.5(a) (88019FA42805)
    Known {
        vendor: "cisco",
        keyword: "Cisco/",
        parse: model_dash_version,
    },
    Known {
        vendor: "linksys",
        keyword: "Linksys/",
        parse: model_dash_version,
    },
];

pub fn parse_user_agent(user_agent: &str) -> Option<UaInfo> {
    KNOWN.iter().find_map(|known| {
        let rest = after_keyword(user_agent, known.keyword)?;
        let (model, firmware) = (known.parse)(rest);
        Some(UaInfo {
            vendor: known.vendor,
            model: model.and_then(|m| ModelId::parse(m).ok()),
            firmware: firmware.and_then(clean_firmware),
            mac: mac_in(rest),
        })
    })
}

fn trim_separators(rest: &str) -> &str {
    rest.trim_start_matches(['-', '_', '/', ' '])
}

fn model_then_v_colon(rest: &str) -> (Option<&str>, Option<&str>) {
    let model = rest.split_whitespace().next();
    let firmware = rest.split_whitespace().find_map(|t| t.strip_prefix("V:"));
    (model, firmware.map(|f| f.trim_end_matches("-SIP")))
}

fn model_slash_version(rest: &str) -> (Option<&str>, Option<&str>) {
    let rest = trim_separators(rest);
    let token = rest.split_whitespace().next().unwrap_or_default();
    match token.split_once('/') {
        Some((model, version)) => (Some(model), Some(version)),
        None => (Some(token), None),
    }
}

fn model_then_version(rest: &str) -> (Option<&str>, Option<&str>) {
    let rest = trim_separators(rest);
    let mut tokens = rest.split(|c: char| c.is_whitespace() || c == '/');
    let model = tokens.next().map(|m| m.split('-').next().unwrap_or(m));
    let version = rest
        .split(|c: char| c.is_whitespace() || c == '/' || c == '-')
        .skip(1)
        .find(|t| t.starts_with(|c: char| c.is_ascii_digit()) && t.contains('.'));
    (model.filter(|m| !m.is_empty()), version)
}

fn model_dash_version(rest: &str) -> (Option<&str>, Option<&str>) {
    let token = rest.split_whitespace().next().unwrap_or_default();
    // The version starts after the last '-' that is followed by a digit.
    let split = token
        .char_indices()
        .rfind(|(i, c)| *c == '-' && token[i + 1..].starts_with(|d: char| d.is_ascii_digit()));
    match split {
        Some((i, _)) => (Some(&token[..i]), Some(&token[i + 1..])),
        None => (Some(token), None),
    }
}

fn audiocodes(rest: &str) -> (Option<&str>, Option<&str>) {
    let version = rest
        .strip_prefix('/')
        .and_then(|r| r.split_whitespace().next());
    let model = rest
        .split_once('(')
        .and_then(|(_, inner)| inner.split(['-', ';', ')']).next());
    (model, version)
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
            "cisco",
            "SPA508G",
            Some("7.4.4"),
            Some("0002fdff2103"),
        );
        check(
            "Linksys/SPA-942-6.1.5(a) (88019FA42805)",
            "linksys",
            "SPA-942",
            Some("6.1.5(a)"),
            Some("88019fa42805"),
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
}
