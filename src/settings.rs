//! Settings every phone config uses (SIP server, transport, NTP), kept in the database and
//! edited through the admin API, so a change reaches phones at their next fetch.

use serde::{Deserialize, Serialize};

use crate::domain::{Extension, InvalidInput};

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

/// A time of day, `HH:MM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeOfDay {
    minutes: u16,
}

impl TimeOfDay {
    pub fn parse(field: &'static str, value: &str) -> Result<TimeOfDay, InvalidInput> {
        let invalid = || InvalidInput::new(field, "must be a time of day HH:MM, like 03:00");
        let (h, m) = value.split_once(':').ok_or_else(invalid)?;
        if h.len() != 2 || m.len() != 2 {
            return Err(invalid());
        }
        let hours: u16 = h.parse().map_err(|_| invalid())?;
        let minutes: u16 = m.parse().map_err(|_| invalid())?;
        if hours > 23 || minutes > 59 {
            return Err(invalid());
        }
        Ok(TimeOfDay {
            minutes: hours * 60 + minutes,
        })
    }

    pub fn seconds_after_midnight(self) -> i64 {
        i64::from(self.minutes) * 60
    }
}

impl std::fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:02}:{:02}", self.minutes / 60, self.minutes % 60)
    }
}

/// The site's offset from UTC, `+HH:MM` or `-HH:MM`, for times of day such as the daily logout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UtcOffset {
    minutes: i16,
}

impl UtcOffset {
    pub fn parse(value: &str) -> Result<UtcOffset, InvalidInput> {
        let invalid = || InvalidInput::new("utc_offset", "must be +HH:MM or -HH:MM, like +01:00");
        let (sign, rest) = match value.as_bytes().first() {
            Some(b'+') => (1, &value[1..]),
            Some(b'-') => (-1, &value[1..]),
            _ => return Err(invalid()),
        };
        let time = TimeOfDay::parse("utc_offset", rest).map_err(|_| invalid())?;
        if time.minutes > 14 * 60 {
            return Err(invalid());
        }
        Ok(UtcOffset {
            minutes: sign * time.minutes as i16,
        })
    }

    pub fn seconds(self) -> i64 {
        i64::from(self.minutes) * 60
    }
}

impl std::fmt::Display for UtcOffset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sign = if self.minutes < 0 { '-' } else { '+' };
        let m = self.minutes.unsigned_abs();
        write!(f, "{sign}{:02}:{:02}", m / 60, m % 60)
    }
}

macro_rules! serde_as_text {
    ($name:ident, $parse:expr) => {
        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = String::deserialize(d)?;
                $parse(&text).map_err(serde::de::Error::custom)
            }
        }
    };
}

serde_as_text!(TimeOfDay, |t: &str| TimeOfDay::parse("time", t));
serde_as_text!(UtcOffset, UtcOffset::parse);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Registrar host name or address; phones cannot register until it is set.
    pub sip_server: Option<String>,
    pub sip_port: u16,
    pub sip_transport: Transport,
    pub ntp_server: Option<String>,
    /// The account a hot-desk phone has while nobody is logged in (an emergency or lobby
    /// extension the PBX restricts); none by default.
    pub lobby_extension: Option<Extension>,
    /// Hot-desk logins end after this long.
    pub hotdesk_max_login_minutes: Option<u32>,
    /// Every hot-desk login ends at this time of day (site time, see `utc_offset`).
    pub hotdesk_logout_time: Option<TimeOfDay>,
    pub utc_offset: UtcOffset,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            sip_server: None,
            sip_port: 5060,
            sip_transport: Transport::Udp,
            ntp_server: None,
            lobby_extension: None,
            hotdesk_max_login_minutes: Some(12 * 60),
            hotdesk_logout_time: None,
            utc_offset: UtcOffset::default(),
        }
    }
}

impl Settings {
    /// When a hot-desk login made at `since` ends: after the maximum duration or at the next
    /// daily logout time, whichever comes first; `None` if neither is set.
    pub fn hotdesk_login_ends(&self, since: i64) -> Option<i64> {
        let by_duration = self
            .hotdesk_max_login_minutes
            .map(|m| since + i64::from(m) * 60);
        let by_time_of_day = self.hotdesk_logout_time.map(|t| {
            let local = since + self.utc_offset.seconds();
            let midnight = local - local.rem_euclid(86_400);
            let mut at = midnight + t.seconds_after_midnight();
            if at <= local {
                at += 86_400;
            }
            at - self.utc_offset.seconds()
        });
        match (by_duration, by_time_of_day) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
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
    #[serde(default, deserialize_with = "double_option")]
    pub lobby_extension: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    pub hotdesk_max_login_minutes: Option<Option<u32>>,
    #[serde(default, deserialize_with = "double_option")]
    pub hotdesk_logout_time: Option<Option<String>>,
    pub utc_offset: Option<String>,
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
        if let Some(lobby) = self.lobby_extension {
            next.lobby_extension = lobby
                .map(|e| Extension::parse(&e))
                .transpose()
                .map_err(|e| InvalidInput::new("lobby_extension", e.reason))?;
        }
        if let Some(minutes) = self.hotdesk_max_login_minutes {
            if minutes.is_some_and(|m| m == 0 || m > 7 * 24 * 60) {
                return Err(InvalidInput::new(
                    "hotdesk_max_login_minutes",
                    "must be 1 to 10080 (a week), or null for no limit",
                ));
            }
            next.hotdesk_max_login_minutes = minutes;
        }
        if let Some(time) = self.hotdesk_logout_time {
            next.hotdesk_logout_time = time
                .map(|t| TimeOfDay::parse("hotdesk_logout_time", &t))
                .transpose()?;
        }
        if let Some(offset) = self.utc_offset {
            next.utc_offset = UtcOffset::parse(&offset)?;
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

    #[test]
    fn hotdesk_logins_end_at_the_earlier_of_duration_and_daily_time() {
        let patch: SettingsPatch = serde_json::from_str(
            r#"{"hotdesk_max_login_minutes":600,"hotdesk_logout_time":"03:00","utc_offset":"+01:00"}"#,
        )
        .unwrap();
        let s = patch.apply(&Settings::default()).unwrap();
        // 2026-11-22 08:00 UTC = 09:00 site time: ten hours later comes before 03:00.
        let morning = 1_795_305_600 + 8 * 3600;
        assert_eq!(s.hotdesk_login_ends(morning), Some(morning + 600 * 60));
        // 20:00 UTC = 21:00 site time: 03:00 site time is 02:00 UTC the next day.
        let evening = 1_795_305_600 + 20 * 3600;
        assert_eq!(
            s.hotdesk_login_ends(evening),
            Some(1_795_305_600 + 26 * 3600)
        );
        let none = Settings {
            hotdesk_max_login_minutes: None,
            ..Settings::default()
        };
        assert_eq!(none.hotdesk_login_ends(morning), None);

        for bad in [
            r#"{"hotdesk_logout_time":"3:00"}"#,
            r#"{"hotdesk_logout_time":"24:00"}"#,
            r#"{"utc_offset":"01:00"}"#,
            r#"{"hotdesk_max_login_minutes":0}"#,
            r#"{"lobby_extension":"12a"}"#,
        ] {
            let patch: SettingsPatch = serde_json::from_str(bad).unwrap();
            assert!(patch.apply(&Settings::default()).is_err(), "{bad}");
        }
    }
}
