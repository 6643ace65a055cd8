//! Grandstream GXP/GRP desk phones and DP750/DP752 DECT bases.
//!
//! A phone asks for `cfg{mac}` (legacy binary, which deskprov does not write), `cfg{mac}.xml`
//! (its own config), `cfg{model}.xml`, then `cfg.xml` (common). Configs are `<gs_provision>`
//! documents of numbered P-values. Desk accounts: account 1 is P271 (active), P47 (server),
//! P35 (user), P36 (auth id), P34 (password), P3 (name), P270 (label); account N ≥ 2 uses the
//! same suffixes under `P{N+2}xx`. DP75x accounts are P4060+n (user), P4090+n (auth id),
//! P4120+n (password), P4180+n (name), P4595+n (active), P4150+n (profile), with n = account - 1,
//! and P27080+n dedicates account n+1 to one handset; each handset's first line sits in an
//! irregular table (see `DP_HANDSET_FIRST_LINE`). Sources: /tmp research of WZ and FusionPBX
//! templates, summarised in ../shared/reference/phones.md §2.5.
//! User-Agent: `Grandstream Model HW GXP2135 SW 1.0.7.97 DevId 000b828aa872`.

use serde_json::json;

use super::{
    FileRequest, NameHints, TemplateFacts, UaInfo, Vendor, after_keyword, clean_firmware, mac_in,
};
use crate::domain::{Mac, ModelId};
use crate::models::ModelRow;
use crate::templates::Format;

pub struct Grandstream;

const VENDOR: &str = "grandstream";
const DESK: &str = "grandstream/desk.xml";
const DECT: &str = "grandstream/dect-base.xml";
const COMMON: &str = "grandstream/common.xml";

/// The P-value of each DP75x handset's first line (handsets 1 to 5); not evenly spaced.
const DP_HANDSET_FIRST_LINE: [u32; 5] = [4300, 4310, 4320, 4250, 21328];

/// SIP accounts per desk model and handsets per base, from Grandstream's data sheets.
static MODELS: &[ModelRow] = &[
    ModelRow::desk(VENDOR, "GXP1610", 1, DESK),
    ModelRow::desk(VENDOR, "GXP1615", 1, DESK),
    ModelRow::desk(VENDOR, "GXP1620", 2, DESK),
    ModelRow::desk(VENDOR, "GXP1625", 2, DESK),
    ModelRow::desk(VENDOR, "GXP1628", 2, DESK),
    ModelRow::desk(VENDOR, "GXP1630", 3, DESK),
    ModelRow::desk(VENDOR, "GXP2130", 3, DESK),
    ModelRow::desk(VENDOR, "GXP2135", 4, DESK),
    ModelRow::desk(VENDOR, "GXP2140", 4, DESK),
    ModelRow::desk(VENDOR, "GXP2160", 6, DESK),
    ModelRow::desk(VENDOR, "GXP2170", 6, DESK),
    ModelRow::desk(VENDOR, "GRP2601", 2, DESK),
    ModelRow::desk(VENDOR, "GRP2602", 4, DESK),
    ModelRow::desk(VENDOR, "GRP2603", 6, DESK),
    ModelRow::desk(VENDOR, "GRP2604", 6, DESK),
    ModelRow::desk(VENDOR, "GRP2612", 2, DESK),
    ModelRow::desk(VENDOR, "GRP2613", 3, DESK),
    ModelRow::desk(VENDOR, "GRP2614", 4, DESK),
    ModelRow::desk(VENDOR, "GRP2615", 5, DESK),
    ModelRow::desk(VENDOR, "GRP2616", 6, DESK),
    ModelRow::desk(VENDOR, "GRP2624", 4, DESK),
    ModelRow::desk(VENDOR, "GRP2634", 4, DESK),
    ModelRow::desk(VENDOR, "GRP2636", 6, DESK),
    ModelRow::desk(VENDOR, "GRP2650", 6, DESK),
    ModelRow::desk(VENDOR, "GRP2670", 6, DESK),
    ModelRow::dect_base(VENDOR, "DP750", 5, DECT),
    ModelRow::dect_base(VENDOR, "DP752", 5, DECT),
];

impl Vendor for Grandstream {
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
            let words: Vec<&str> = tokens.collect();
            let value_after = |key: &str| {
                words
                    .iter()
                    .position(|w| *w == key)
                    .and_then(|i| words.get(i + 1))
                    .copied()
            };
            (value_after("HW"), value_after("SW"))
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

    fn template_values(&self, facts: &TemplateFacts<'_>) -> serde_json::Value {
        // The vendor's codes for UDP, TCP and TLS.
        let transport = facts.settings.sip_transport.pick(0, 1, 2);
        // Each desk account's outbound proxy P-value, by account index (0 unused), for the
        // template to look up: accounts are numbered in `line_values`, which stays as it is.
        let lines = facts
            .model
            .map(ModelRow::lines)
            .unwrap_or(crate::models::MAX_LINES_UNKNOWN_MODEL);
        let outbound_proxy_keys: Vec<String> = (0..=lines).map(outbound_proxy_key).collect();
        // P192 takes the firmware server without its scheme; P6767 says how to reach it.
        let firmware = facts.settings.firmware_url.as_deref().and_then(|url| {
            let (via, path) = match url.split_once("://") {
                Some(("https", path)) => (2, path),
                Some(("http", path)) => (1, path),
                _ => return None,
            };
            Some(json!({ "path": path, "via": via }))
        });
        json!({
            "transport": transport,
            "outbound_proxy_keys": outbound_proxy_keys,
            "firmware": firmware,
        })
    }

    fn line_values(&self, index: u16, model: Option<&ModelRow>) -> serde_json::Value {
        if model.is_some_and(ModelRow::is_dect) {
            return dect_line(index);
        }
        let p = |suffix: u32| format!("P{}", (u32::from(index) + 2) * 100 + suffix);
        if index == 1 {
            json!({ "active": "P271", "server": "P47", "user": "P35", "auth": "P36", "password": "P34", "name": "P3", "label": "P270" })
        } else {
            json!({ "active": p(1), "server": p(2), "user": p(4), "auth": p(5), "password": p(6), "name": p(7), "label": p(17) })
        }
    }
}

/// A desk account's outbound proxy: P48 for account 1, `P{N+2}03` for account N ≥ 2, beside
/// its server (P47, `P{N+2}02`); none for index 0.
fn outbound_proxy_key(index: u16) -> String {
    match index {
        0 => String::new(),
        1 => "P48".to_string(),
        n => format!("P{}", (u32::from(n) + 2) * 100 + 3),
    }
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
        "handset_name": format!("P{}", 27020 + index as u32),
        "handset_line": handset_line,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outbound_proxy_keys_follow_the_server_keys() {
        let row = crate::models::find("grandstream", "GXP2135");
        let settings = crate::settings::Settings {
            firmware_url: Some("https://fw.example.com/gs/".into()),
            ..Default::default()
        };
        let values = Grandstream.template_values(&TemplateFacts::new(&settings, None, row));
        let keys = values["outbound_proxy_keys"].as_array().unwrap();
        assert_eq!(keys.len(), usize::from(row.unwrap().lines()) + 1);
        for (index, key) in keys.iter().enumerate().skip(1) {
            let server = Grandstream.line_values(index as u16, row)["server"]
                .as_str()
                .unwrap()[1..]
                .parse::<u32>()
                .unwrap();
            assert_eq!(key.as_str().unwrap(), format!("P{}", server + 1), "{index}");
        }
        assert_eq!(
            values["firmware"],
            json!({"path": "fw.example.com/gs/", "via": 2})
        );
        let http = crate::settings::Settings {
            firmware_url: Some("http://fw.example.com/gs".into()),
            ..Default::default()
        };
        let values = Grandstream.template_values(&TemplateFacts::new(&http, None, None));
        assert_eq!(values["firmware"]["via"], 1);
        assert_eq!(
            values["outbound_proxy_keys"].as_array().unwrap().len(),
            usize::from(crate::models::MAX_LINES_UNKNOWN_MODEL) + 1
        );
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
    }

    fn models_dp750() -> &'static ModelRow {
        MODELS.iter().find(|m| m.model == "DP750").unwrap()
    }
}
