//! Fanvil X-series desk phones.
//!
//! A phone fetches a model common file (`F0V00X300000.cfg`, `f0X4hw1.100.cfg`,
//! `fanvil_x210_v2_hwv2_0.txt`; newer models have none) and its own `{mac}.cfg`, both in the
//! `<sysConf>` XML format. Provisioning credentials: `<ap><DefaultUsername>`/`<DefaultPassword>`.
//! User-Agent: `Fanvil X4 2.10.2.6887 0c383e07e16c`, `Fanvil X6U Pro 0.0.10 0c383e2cd782`.

use serde_json::json;

use super::{FileRequest, NameHints, TemplateFacts, UaInfo, Vendor, clean_firmware, mac_in};
use crate::domain::{Mac, ModelId};
use crate::locale::DstChange;
use crate::models::ModelRow;
use crate::templates::Format;

pub struct Fanvil;

const VENDOR: &str = "fanvil";
const DESK: &str = "fanvil/desk.xml";
const COMMON: &str = "fanvil/common.xml";

/// SIP lines per model from Fanvil's data sheets.
static MODELS: &[ModelRow] = &[
    ModelRow::desk(VENDOR, "X1S", 2, DESK),
    ModelRow::desk(VENDOR, "X1SP", 2, DESK),
    ModelRow::desk(VENDOR, "X210", 20, DESK),
    ModelRow::desk(VENDOR, "X3S", 2, DESK),
    ModelRow::desk(VENDOR, "X3SG", 2, DESK),
    ModelRow::desk(VENDOR, "X3U", 6, DESK),
    ModelRow::desk(VENDOR, "X4", 6, DESK),
    ModelRow::desk(VENDOR, "X4U", 12, DESK),
    ModelRow::desk(VENDOR, "X5S", 6, DESK),
    ModelRow::desk(VENDOR, "X5U", 16, DESK),
    ModelRow::desk(VENDOR, "X6", 6, DESK),
    ModelRow::desk(VENDOR, "X6U", 20, DESK),
    ModelRow::desk(VENDOR, "X6U-PRO", 20, DESK),
    ModelRow::desk(VENDOR, "X5U-V2", 16, DESK),
    ModelRow::desk(VENDOR, "X7", 20, DESK),
    ModelRow::desk(VENDOR, "X7C", 20, DESK),
];

impl Vendor for Fanvil {
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
                hints: NameHints::default(),
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

    fn template_values(&self, facts: &TemplateFacts<'_>) -> serde_json::Value {
        // The vendor's codes for UDP, TCP and TLS.
        let transport = facts.settings.sip_transport.pick(0, 1, 3);
        let zone = facts.settings.time_zone();
        let dst = zone
            .and_then(|z| crate::locale::dst_changes(z.posix))
            .and_then(|(start, end)| {
                Some(json!({ "start": fanvil_dst_change(start)?, "end": fanvil_dst_change(end)? }))
            });
        json!({
            "transport": transport,
            // `TimeZone` counts quarter hours east of UTC: 4 is UTC+1, -20 UTC-5.
            "time_zone": zone.map(|z| z.offset_minutes / 15),
            "dst": dst,
        })
    }
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
