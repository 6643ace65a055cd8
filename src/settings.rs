//! Settings every phone config uses (SIP server, transport, NTP), kept in the database and
//! edited through the admin API, so a change reaches phones at their next fetch.

use serde::{Deserialize, Serialize};

use crate::domain::InvalidInput;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    #[default]
    Udp,
    Tcp,
    Tls,
}

impl Transport {
    /// The value standing for this transport among a vendor's three (UDP, TCP, TLS).
    pub fn pick<T>(self, udp: T, tcp: T, tls: T) -> T {
        match self {
            Transport::Udp => udp,
            Transport::Tcp => tcp,
            Transport::Tls => tls,
        }
    }

    pub fn parse(value: &str) -> Result<Transport, InvalidInput> {
        match value.to_ascii_lowercase().as_str() {
            "udp" => Ok(Transport::Udp),
            "tcp" => Ok(Transport::Tcp),
            "tls" => Ok(Transport::Tls),
            _ => Err(InvalidInput::new(
                "sip_transport",
                "must be udp, tcp or tls",
            )),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// Registrar host name or address; phones cannot register until it is set.
    pub sip_server: Option<String>,
    pub sip_port: u16,
    pub sip_transport: Transport,
    pub ntp_server: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            sip_server: None,
            sip_port: 5060,
            sip_transport: Transport::Udp,
            ntp_server: None,
        }
    }
}

/// A partial update from the admin API; `null` clears an optional value.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsPatch {
    #[serde(default, deserialize_with = "double_option")]
    pub sip_server: Option<Option<String>>,
    pub sip_port: Option<u16>,
    pub sip_transport: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    pub ntp_server: Option<Option<String>>,
}

impl SettingsPatch {
    /// The settings after the patch, or why the patch is refused (nothing applied then).
    pub fn apply(self, current: &Settings) -> Result<Settings, InvalidInput> {
        let mut next = current.clone();
        if let Some(server) = self.sip_server {
            next.sip_server = server.map(|s| parse_host("sip_server", &s)).transpose()?;
        }
        if let Some(port) = self.sip_port {
            if port == 0 {
                return Err(InvalidInput::new("sip_port", "must be 1 to 65535"));
            }
            next.sip_port = port;
        }
        if let Some(transport) = self.sip_transport {
            next.sip_transport = Transport::parse(&transport)?;
        }
        if let Some(ntp) = self.ntp_server {
            next.ntp_server = ntp.map(|s| parse_host("ntp_server", &s)).transpose()?;
        }
        Ok(next)
    }
}

/// A DNS name, IPv4 address or bracket-less IPv6 address: nothing that could end a config value.
pub fn parse_host(field: &'static str, value: &str) -> Result<String, InvalidInput> {
    let allowed = |b: u8| b.is_ascii_alphanumeric() || b"-.:_".contains(&b);
    if value.is_empty() || value.len() > 253 || !value.bytes().all(allowed) {
        return Err(InvalidInput::new(
            field,
            "must be a host name or IP address",
        ));
    }
    Ok(value.to_ascii_lowercase())
}

/// Tells a missing field (`None`) from an explicit `null` (`Some(None)`).
pub fn double_option<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patch_validates_and_clears() {
        let patch: SettingsPatch =
            serde_json::from_str(r#"{"sip_server":"PBX.example.com","sip_transport":"tls"}"#)
                .unwrap();
        let s = patch.apply(&Settings::default()).unwrap();
        assert_eq!(s.sip_server.as_deref(), Some("pbx.example.com"));
        assert_eq!(s.sip_transport, Transport::Tls);

        let clear: SettingsPatch = serde_json::from_str(r#"{"sip_server":null}"#).unwrap();
        assert_eq!(clear.apply(&s).unwrap().sip_server, None);

        let bad: SettingsPatch = serde_json::from_str(r#"{"sip_server":"a b\nc"}"#).unwrap();
        assert!(bad.apply(&s).is_err());
        assert!(serde_json::from_str::<SettingsPatch>(r#"{"sip_srv":"x"}"#).is_err());
    }
}
