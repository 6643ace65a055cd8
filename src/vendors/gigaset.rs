//! Gigaset N670/N870 IP PRO DECT systems.
//!
//! The base fetches the URL it was given (Gigaset redirect service or DHCP), by convention
//! `{mac}.xml`; the file is a `<provisioning>` document of `nvm` params. Provider ids start at 0;
//! handset slot N and its SIP account share the key `0000N` (5 digits). Gigaset accepts only
//! HTTP Digest for provisioning and takes its credentials from the redirect URL
//! (`https://user:password@host/`), not from the config: the admin puts
//! `deskprov devices credentials MAC` there. User-Agent:
//! `Gigaset N870 IP PRO/83.V2.43.0+build.5f0a106;7C2F80XXXXXX;Handset=250`.

use serde_json::json;

use super::{FileRequest, TemplateFacts, UaInfo, Vendor, clean_firmware, mac_in};
use crate::domain::{Mac, ModelId};
use crate::models::ModelRow;
use crate::templates::Format;

pub struct Gigaset;

const VENDOR: &str = "gigaset";
const DECT: &str = "gigaset/base.xml";

/// Handsets per system from Gigaset's data sheets (N870 multicell: up to 250; 100 kept here).
static MODELS: &[ModelRow] = &[
    ModelRow::dect_base(VENDOR, "N510", 6, DECT),
    ModelRow::dect_base(VENDOR, "N610", 20, DECT),
    ModelRow::dect_base(VENDOR, "N670", 20, DECT),
    ModelRow::dect_base(VENDOR, "N870", 100, DECT),
    ModelRow::dect_base(VENDOR, "N870E", 100, DECT),
];

impl Vendor for Gigaset {
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
        DECT
    }

    fn template_values(&self, facts: &TemplateFacts<'_>) -> serde_json::Value {
        // The vendor's codes for UDP, TCP and TLS.
        let transport = facts.settings.sip_transport.pick(1, 2, 3);
        json!({ "transport": transport })
    }

    fn line_values(&self, index: u16, _model: Option<&ModelRow>) -> serde_json::Value {
        json!({ "key": format!("{index:05}"), "access_code": format!("{index:04}") })
    }
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
