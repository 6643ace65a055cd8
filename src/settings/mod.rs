//! Settings every phone config uses (SIP server, transport, NTP, time zone, ...), kept in the
//! database and edited through the admin API, so a change reaches phones at their next fetch.
//!
//! A device's settings are inherited: the site-wide defaults, then its settings profile, then
//! its model's, then its own. Every layer but the defaults is a partial map of `Key` to a
//! validated value, so one table of keys (`keys.rs`, one row per setting) declares the
//! `Settings` fields and validates all four layers, and `Effective` can say where each value
//! came from. Two keys are site-wide only (the hot-desk login limit and the UTC offset).

mod effective;
mod keys;
mod layer;

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::domain::{InvalidInput, split_host_port};
use crate::locale::{self, Language, TimeZone};

pub use effective::{AllLayers, Effective, Origin, effective_for, of_device};
pub use keys::{KEYS, Key, KeyDef, Presence, Scope, Settings, Shown, ValueKind};
pub use layer::{Layer, SettingsPatch, patch_layer, redacted_layer};

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

    /// Whether a phone that reports `reported` runs other firmware than its target
    /// (`firmware_version`). False while either is unknown; a report that holds the target as
    /// a whole (`T46S-66.86.0.15` for `66.86.0.15`, not `8.11.40` for `8.11.4`) is the target.
    pub fn firmware_outdated(&self, reported: Option<&str>) -> bool {
        match (self.firmware_version.as_deref(), reported) {
            (Some(target), Some(reported)) => !holds_whole(reported, target),
            _ => false,
        }
    }

    pub fn time_zone(&self) -> Option<&'static TimeZone> {
        self.time_zone.as_deref().and_then(locale::time_zone)
    }

    pub fn language(&self) -> Option<&'static Language> {
        self.language.as_deref().and_then(locale::language)
    }

    /// The outbound proxy split into host and port (the SIP port when none is given).
    pub fn outbound_proxy(&self) -> Option<(&str, u16)> {
        let proxy = self.outbound_proxy.as_deref()?;
        Some(split_host_port(proxy).unwrap_or((proxy, self.sip_port)))
    }

    pub(crate) fn to_map(&self) -> Map<String, Value> {
        match serde_json::to_value(self).expect("settings serialise") {
            Value::Object(map) => map,
            _ => unreachable!("settings are an object"),
        }
    }

    fn from_map(map: Map<String, Value>) -> Settings {
        serde_json::from_value(Value::Object(map)).expect("normalised values deserialise")
    }

    /// The settings after `patch`, or why it is refused (nothing applied then). `null` clears an
    /// optional value and resets a required one (port, transport, offset) to its default.
    pub fn patched(&self, patch: &SettingsPatch) -> Result<Settings, InvalidInput> {
        let mut map = self.to_map();
        let defaults = Settings::default().to_map();
        for (name, value) in &patch.0 {
            let key = Key::from_name(name)?;
            let value = match value {
                Value::Null if key.required() => defaults[key.name()].clone(),
                Value::Null => Value::Null,
                given => key.normalize(given)?,
            };
            map.insert(key.name().to_string(), value);
        }
        Ok(Settings::from_map(map))
    }

    /// The settings as the API shows them: secrets only as "[set]".
    pub fn redacted(&self) -> Value {
        let mut map = self.to_map();
        for key in Key::ALL.iter().filter(|k| k.is_secret()) {
            if let Some(v) = map.get_mut(key.name()).filter(|v| !v.is_null()) {
                *v = Value::String(SET.into());
            }
        }
        Value::Object(map)
    }
}

/// How a secret value is shown.
pub const SET: &str = "[set]";

/// Tells a missing field (`None`) from an explicit `null` (`Some(None)`).
/// `text` contains `part` (any case) with neither a letter, a digit nor a '.' just before or
/// after it.
fn holds_whole(text: &str, part: &str) -> bool {
    let (text, part) = (text.to_ascii_lowercase(), part.to_ascii_lowercase());
    let joins = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '.');
    text.match_indices(&part).any(|(at, _)| {
        !joins(text[..at].chars().next_back()) && !joins(text[at + part.len()..].chars().next())
    })
}

pub fn double_option<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_firmware_report_holds_its_target_only_as_a_whole() {
        let target = |v: &str| super::Settings {
            firmware_version: Some(v.into()),
            ..Default::default()
        };
        let outdated = |t: &str, r: &str| target(t).firmware_outdated(Some(r));
        assert!(!outdated("66.86.0.15", "66.86.0.15"));
        assert!(!outdated("66.86.0.15", "T46S-66.86.0.15"));
        assert!(!outdated("sip88xx.12-0-1MPP-1", "sip88xx.12-0-1MPP-1"));
        assert!(outdated("8.11.4", "8.11.40"));
        assert!(outdated("1.0.1", "11.0.1"));
        assert!(outdated("66.86.0.15", "66.86.0.16"));
        assert!(!target("1").firmware_outdated(None));
        assert!(!super::Settings::default().firmware_outdated(Some("1")));
    }

    use super::*;
    use crate::domain::Transport;

    #[test]
    fn patch_validates_and_clears() {
        let patch: SettingsPatch =
            serde_json::from_str(r#"{"sip_server":"PBX.example.com","sip_transport":"tls"}"#)
                .unwrap();
        let s = Settings::default().patched(&patch).unwrap();
        assert_eq!(s.sip_server.as_deref(), Some("pbx.example.com"));
        assert_eq!(s.sip_transport, Transport::Tls);

        let clear: SettingsPatch = serde_json::from_str(r#"{"sip_server":null}"#).unwrap();
        assert_eq!(s.patched(&clear).unwrap().sip_server, None);

        for bad in [
            r#"{"sip_server":"a b\nc"}"#,
            r#"{"sip_srv":"x"}"#,
            r#"{"sip_port":0}"#,
            r#"{"sip_port":"5060"}"#,
            r#"{"time_zone":"Mars/Olympus"}"#,
            r#"{"language":"xx"}"#,
            r#"{"firmware_url":"ftp://x/"}"#,
            r#"{"firmware_url":"https://x/a b"}"#,
            r#"{"outbound_proxy":"proxy:0"}"#,
            r#"{"phone_admin_password":"short"}"#,
        ] {
            let patch: SettingsPatch = serde_json::from_str(bad).unwrap();
            assert!(s.patched(&patch).is_err(), "{bad}");
        }
        let reset: SettingsPatch = serde_json::from_str(r#"{"sip_transport":null}"#).unwrap();
        assert_eq!(s.patched(&reset).unwrap().sip_transport, Transport::Udp);
        let no_limit: SettingsPatch =
            serde_json::from_str(r#"{"hotdesk_max_login_minutes":null}"#).unwrap();
        assert_eq!(
            s.patched(&no_limit).unwrap().hotdesk_max_login_minutes,
            None
        );
    }

    #[test]
    fn hotdesk_logins_end_at_the_earlier_of_duration_and_daily_time() {
        let patch: SettingsPatch = serde_json::from_str(
            r#"{"hotdesk_max_login_minutes":600,"hotdesk_logout_time":"03:00","utc_offset":"+01:00"}"#,
        )
        .unwrap();
        let s = Settings::default().patched(&patch).unwrap();
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
            assert!(Settings::default().patched(&patch).is_err(), "{bad}");
        }
    }
}
