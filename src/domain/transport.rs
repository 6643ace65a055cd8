//! The SIP transport a phone registers over.

use serde::{Deserialize, Serialize};

use super::InvalidInput;

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

    pub fn parse(field: &'static str, value: &str) -> Result<Transport, InvalidInput> {
        match value.to_ascii_lowercase().as_str() {
            "udp" => Ok(Transport::Udp),
            "tcp" => Ok(Transport::Tcp),
            "tls" => Ok(Transport::Tls),
            _ => Err(InvalidInput::new(field, "must be udp, tcp or tls")),
        }
    }
}
