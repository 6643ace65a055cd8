//! `[mail]`: the SMTP server the outbox sender uses. Absent: no mail is ever queued and every
//! mail action answers that mail is not configured.

use std::net::IpAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::config::ConfigError;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MailConfig {
    /// `smtps://host:port` (implicit TLS) or `smtp://host:port` (STARTTLS required).
    pub smtp_url: String,
    /// Only for a server on a loopback address (tests, a local relay): `smtp://` without TLS.
    /// Credentials are refused with it: they are never sent without TLS.
    pub allow_plaintext_loopback: bool,
    pub username: Option<String>,
    /// A file holding the SMTP password (read at start; never logged).
    pub password_file: Option<PathBuf>,
    /// The sender address, e.g. `Provisioning <prov@example.com>`.
    pub from: String,
    pub reply_to: Option<String>,
    /// Mails sent per second at most.
    pub rate_per_second: u32,
    /// After this long without success a mail is given up (state failed).
    pub give_up_after_secs: u64,
    /// Sent and failed mails are kept this many days (for their state on the user's page and
    /// in the API), then removed; queued ones stay until they are sent or given up.
    pub keep_days: u32,
}

impl Default for MailConfig {
    fn default() -> Self {
        MailConfig {
            smtp_url: String::new(),
            allow_plaintext_loopback: false,
            username: None,
            password_file: None,
            from: String::new(),
            reply_to: None,
            rate_per_second: 5,
            give_up_after_secs: 24 * 3600,
            keep_days: 30,
        }
    }
}

/// How the sender reaches the server, as the URL and flags decide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Security {
    ImplicitTls,
    StartTls,
    /// Loopback only, explicitly allowed, without credentials.
    Plaintext,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub host: String,
    pub port: u16,
    pub security: Security,
}

fn invalid(what: impl Into<String>) -> ConfigError {
    ConfigError::Invalid(format!("mail: {}", what.into()))
}

impl MailConfig {
    /// The server's host, port and TLS mode; refuses every combination that could send
    /// credentials or mail in clear to anything but this machine.
    pub fn endpoint(&self) -> Result<Endpoint, ConfigError> {
        let (scheme, rest) = self
            .smtp_url
            .split_once("://")
            .ok_or_else(|| invalid("smtp_url must be smtp://host:port or smtps://host:port"))?;
        let (host, port) = rest
            .trim_end_matches('/')
            .rsplit_once(':')
            .ok_or_else(|| invalid("smtp_url needs a port (smtp://host:587)"))?;
        let port: u16 = port
            .parse()
            .map_err(|_| invalid(format!("smtp_url: bad port {port:?}")))?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() || host.contains(['/', '@', '?', '#']) {
            return Err(invalid("smtp_url: bad host (no user or path in the URL)"));
        }
        let security = match (scheme, self.allow_plaintext_loopback) {
            ("smtps", _) => Security::ImplicitTls,
            ("smtp", false) => Security::StartTls,
            ("smtp", true) => {
                let loopback = host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
                if !loopback {
                    return Err(invalid(
                        "allow_plaintext_loopback needs a loopback address (127.0.0.1, ::1)",
                    ));
                }
                if self.username.is_some() || self.password_file.is_some() {
                    return Err(invalid("credentials are never sent without TLS"));
                }
                Security::Plaintext
            }
            _ => return Err(invalid("smtp_url scheme must be smtp or smtps")),
        };
        Ok(Endpoint {
            host: host.to_string(),
            port,
            security,
        })
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        self.endpoint()?;
        if self.from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(invalid("from must be a mail address"));
        }
        if let Some(reply_to) = &self.reply_to
            && reply_to.parse::<lettre::message::Mailbox>().is_err()
        {
            return Err(invalid("reply_to must be a mail address"));
        }
        if self.username.is_some() != self.password_file.is_some() {
            return Err(invalid("username and password_file go together"));
        }
        if self.rate_per_second == 0 || self.give_up_after_secs == 0 {
            return Err(invalid(
                "rate_per_second and give_up_after_secs must be at least 1",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(url: &str, plain: bool) -> MailConfig {
        MailConfig {
            smtp_url: url.into(),
            allow_plaintext_loopback: plain,
            from: "prov@example.com".into(),
            ..MailConfig::default()
        }
    }

    #[test]
    fn tls_modes_follow_the_url_and_plaintext_is_loopback_only() {
        let tls = with("smtps://mail.example.com:465", false)
            .endpoint()
            .unwrap();
        assert_eq!(tls.security, Security::ImplicitTls);
        assert_eq!(tls.port, 465);
        let start = with("smtp://mail.example.com:587", false)
            .endpoint()
            .unwrap();
        assert_eq!(start.security, Security::StartTls);
        let plain = with("smtp://127.0.0.1:2525", true).endpoint().unwrap();
        assert_eq!(plain.security, Security::Plaintext);
        assert!(with("smtp://mail.example.com:25", true).endpoint().is_err());
        assert!(
            with("http://mail.example.com:25", false)
                .endpoint()
                .is_err()
        );
        assert!(with("smtp://mail.example.com", false).endpoint().is_err());
    }

    #[test]
    fn credentials_are_never_configured_for_plaintext() {
        let mut config = with("smtp://127.0.0.1:2525", true);
        config.username = Some("prov".into());
        config.password_file = Some("/etc/deskprov/smtp".into());
        assert!(config.endpoint().is_err());
        config.allow_plaintext_loopback = false;
        assert!(config.validate().is_ok());
        config.from = "not an address".into();
        assert!(config.validate().is_err());
    }
}
