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
        let rest = text.strip_prefix("Gigaset ")?;
        let (product, after) = rest.split_once('/')?;
        let model = product
            .split_whitespace()
            .next()
            .and_then(|m| ModelId::parse(m).ok());
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
