//! Settings every phone config uses (SIP server, transport, NTP, time zone, ...), kept in the
//! database and edited through the admin API, so a change reaches phones at their next fetch.
//!
//! A device's settings are inherited: the site-wide defaults, then its settings profile, then
//! its model's, then its own. Every layer but the defaults is a partial map of `Key` to a
//! validated value, so one table of keys validates all four and `Effective` can say where each
//! value came from. Two keys are site-wide only (the hot-desk login limit and the UTC offset).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::domain::{Extension, InvalidInput, SipPassword};
use crate::locale::{self, Language, TimeZone};
use crate::model::DeviceRecord;
use crate::store::{Reads, StoreError};

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
    /// `host` or `host:port` (`[v6]:port`) every SIP request goes through.
    pub outbound_proxy: Option<String>,
    pub ntp_server: Option<String>,
    /// An IANA name from `locale::TIME_ZONES`.
    pub time_zone: Option<String>,
    /// An ISO 639-1 code from `locale::LANGUAGES`: the phone's menu language.
    pub language: Option<String>,
    /// The phone's own web and menu admin password (a secret: in device files only).
    pub phone_admin_password: Option<String>,
    /// Where phones fetch firmware; they upgrade when it names another version.
    pub firmware_url: Option<String>,
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
            outbound_proxy: None,
            ntp_server: None,
            time_zone: None,
            language: None,
            phone_admin_password: None,
            firmware_url: None,
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

    fn to_map(&self) -> Map<String, Value> {
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

/// Every setting, by the name the API, the CLI and CSV files use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Key {
    SipServer,
    SipPort,
    SipTransport,
    OutboundProxy,
    NtpServer,
    TimeZone,
    Language,
    PhoneAdminPassword,
    FirmwareUrl,
    HotdeskLogoutTime,
    LobbyExtension,
    HotdeskMaxLoginMinutes,
    UtcOffset,
}

impl Key {
    pub const ALL: [Key; 13] = [
        Key::SipServer,
        Key::SipPort,
        Key::SipTransport,
        Key::OutboundProxy,
        Key::NtpServer,
        Key::TimeZone,
        Key::Language,
        Key::PhoneAdminPassword,
        Key::FirmwareUrl,
        Key::HotdeskLogoutTime,
        Key::LobbyExtension,
        Key::HotdeskMaxLoginMinutes,
        Key::UtcOffset,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Key::SipServer => "sip_server",
            Key::SipPort => "sip_port",
            Key::SipTransport => "sip_transport",
            Key::OutboundProxy => "outbound_proxy",
            Key::NtpServer => "ntp_server",
            Key::TimeZone => "time_zone",
            Key::Language => "language",
            Key::PhoneAdminPassword => "phone_admin_password",
            Key::FirmwareUrl => "firmware_url",
            Key::HotdeskLogoutTime => "hotdesk_logout_time",
            Key::LobbyExtension => "lobby_extension",
            Key::HotdeskMaxLoginMinutes => "hotdesk_max_login_minutes",
            Key::UtcOffset => "utc_offset",
        }
    }

    pub fn from_name(name: &str) -> Result<Key, InvalidInput> {
        Key::ALL
            .into_iter()
            .find(|k| k.name() == name)
            .ok_or_else(|| {
                InvalidInput::new(
                    "settings",
                    format!(
                        "unknown setting {name:?}; the settings are {}",
                        Key::ALL.map(Key::name).join(", ")
                    ),
                )
            })
    }

    /// A setting that always has a value: `null` resets it to its default.
    pub fn required(self) -> bool {
        matches!(self, Key::SipPort | Key::SipTransport | Key::UtcOffset)
    }

    /// Whether a profile, a model or a device may set it; the rest are site-wide.
    pub fn inheritable(self) -> bool {
        !matches!(self, Key::HotdeskMaxLoginMinutes | Key::UtcOffset)
    }

    pub fn is_secret(self) -> bool {
        self == Key::PhoneAdminPassword
    }

    /// The value in its stored form, or why it is refused.
    pub fn normalize(self, value: &Value) -> Result<Value, InvalidInput> {
        let field = self.name();
        let text = || {
            value
                .as_str()
                .ok_or_else(|| InvalidInput::new(field, "must be a string"))
        };
        let normalized = match self {
            Key::SipServer | Key::NtpServer => parse_host(field, text()?)?,
            Key::SipPort => {
                let port = value.as_u64().filter(|p| (1..=65535).contains(p));
                return port
                    .map(Value::from)
                    .ok_or_else(|| InvalidInput::new(field, "must be a port number, 1 to 65535"));
            }
            Key::HotdeskMaxLoginMinutes => {
                let minutes = value.as_u64().filter(|m| (1..=7 * 24 * 60).contains(m));
                return minutes.map(Value::from).ok_or_else(|| {
                    InvalidInput::new(
                        field,
                        "must be 1 to 10080 (a week), or null for no limit",
                    )
                });
            }
            Key::SipTransport => serialize(Transport::parse(text()?)?),
            Key::OutboundProxy => parse_proxy(text()?)?,
            Key::TimeZone => locale::time_zone(text()?)
                .ok_or_else(|| {
                    InvalidInput::new(
                        field,
                        "must be a time zone name such as Europe/Berlin; GET /api/v1/settings/choices lists them",
                    )
                })?
                .name
                .to_string(),
            Key::Language => locale::language(text()?)
                .ok_or_else(|| {
                    InvalidInput::new(
                        field,
                        "must be a language code such as de; GET /api/v1/settings/choices lists them",
                    )
                })?
                .code
                .to_string(),
            Key::PhoneAdminPassword => SipPassword::parse(text()?)
                .map_err(|e| InvalidInput::new(field, e.reason))?
                .expose()
                .to_string(),
            Key::FirmwareUrl => parse_url(field, text()?)?,
            Key::HotdeskLogoutTime => TimeOfDay::parse(field, text()?)?.to_string(),
            Key::LobbyExtension => Extension::parse(text()?)
                .map_err(|e| InvalidInput::new(field, e.reason))?
                .to_string(),
            Key::UtcOffset => UtcOffset::parse(text()?)?.to_string(),
        };
        Ok(Value::String(normalized))
    }
}

fn serialize<T: Serialize>(value: T) -> String {
    match serde_json::to_value(value).expect("serialises") {
        Value::String(s) => s,
        other => other.to_string(),
    }
}

/// A partial update of the site-wide settings: setting name → value, `null` clears.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct SettingsPatch(pub Map<String, Value>);

impl SettingsPatch {
    /// `name=value ...` for the audit trail: secrets as "[set]", removals as `null`.
    pub fn summary(&self) -> String {
        self.0
            .iter()
            .map(|(name, value)| {
                let secret = Key::from_name(name).is_ok_and(Key::is_secret);
                match value {
                    Value::Null => format!("{name}=null"),
                    _ if secret => format!("{name}={SET}"),
                    Value::String(text) => format!("{name}={text}"),
                    other => format!("{name}={other}"),
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// What a profile, a model or a device sets, overriding what it inherits; values are stored in
/// their normalised form.
pub type Layer = BTreeMap<Key, Value>;

/// `layer` after `patch`: a value overrides, `null` removes the override.
pub fn patch_layer(layer: &Layer, patch: &SettingsPatch) -> Result<Layer, InvalidInput> {
    let mut next = layer.clone();
    for (name, value) in &patch.0 {
        let key = Key::from_name(name)?;
        if !key.inheritable() {
            return Err(InvalidInput::new(
                key.name(),
                "is a site-wide setting; set it with PATCH /api/v1/settings",
            ));
        }
        match value {
            Value::Null => {
                next.remove(&key);
            }
            given => {
                next.insert(key, key.normalize(given)?);
            }
        }
    }
    Ok(next)
}

/// A layer as the API shows it: secrets only as "[set]".
pub fn redacted_layer(layer: &Layer) -> Map<String, Value> {
    layer
        .iter()
        .map(|(k, v)| {
            let shown = if k.is_secret() {
                Value::String(SET.into())
            } else {
                v.clone()
            };
            (k.name().to_string(), shown)
        })
        .collect()
}

/// Where an effective value came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "level", content = "name", rename_all = "lowercase")]
pub enum Origin {
    Default,
    Profile(String),
    Model(String),
    Device,
}

/// A device's settings after inheritance, and where each value came from.
#[derive(Debug, Clone)]
pub struct Effective {
    pub settings: Settings,
    pub origins: BTreeMap<Key, Origin>,
}

impl Effective {
    /// The default settings overlaid by each layer in turn (profile, then model, then device).
    pub fn resolve(default: &Settings, layers: &[(Origin, &Layer)]) -> Effective {
        let mut map = default.to_map();
        let mut origins: BTreeMap<Key, Origin> =
            Key::ALL.iter().map(|k| (*k, Origin::Default)).collect();
        for (origin, layer) in layers {
            for (key, value) in layer.iter() {
                map.insert(key.name().to_string(), value.clone());
                origins.insert(*key, origin.clone());
            }
        }
        Effective {
            settings: Settings::from_map(map),
            origins,
        }
    }

    /// `{ "sip_server": { "value": ..., "from": { "level": "profile", "name": "branch" } } }`.
    pub fn view(&self) -> Value {
        let values = self.settings.redacted();
        let entries = Key::ALL.iter().map(|k| {
            let value = values.get(k.name()).cloned().unwrap_or(Value::Null);
            let from = serde_json::to_value(&self.origins[k]).expect("serialises");
            (
                k.name().to_string(),
                json!({ "value": value, "from": from }),
            )
        });
        Value::Object(entries.collect())
    }
}

/// The layers a device inherits from, in order: its profile, its model, itself.
pub async fn effective_for(
    store: &dyn Reads,
    device: &DeviceRecord,
) -> Result<Effective, StoreError> {
    let default = store.settings().await?;
    let profile = match &device.profile {
        Some(name) => store
            .profile(name)
            .await?
            .map(|p| (name.to_string(), p.settings)),
        None => None,
    };
    let model = match crate::models::of_device(device) {
        Some(row) => Some((
            row.model.to_string(),
            store.model_settings(row.model).await?,
        )),
        None => None,
    };
    let mut layers: Vec<(Origin, &Layer)> = Vec::with_capacity(3);
    if let Some((name, layer)) = &profile {
        layers.push((Origin::Profile(name.clone()), layer));
    }
    if let Some((name, layer)) = &model {
        layers.push((Origin::Model(name.clone()), layer));
    }
    layers.push((Origin::Device, &device.settings));
    Ok(Effective::resolve(&default, &layers))
}

/// The settings a device's config is rendered with.
pub async fn of_device(store: &dyn Reads, device: &DeviceRecord) -> Result<Settings, StoreError> {
    Ok(effective_for(store, device).await?.settings)
}

/// `host:port` or `[v6]:port` split; `None` when no port is given.
fn split_host_port(value: &str) -> Option<(&str, u16)> {
    if let Some(rest) = value.strip_prefix('[') {
        let (host, port) = rest.split_once("]:")?;
        return Some((host, port.parse().ok()?));
    }
    let (host, port) = value.split_once(':')?;
    if host.contains(':') || port.contains(':') {
        return None;
    }
    Some((host, port.parse().ok()?))
}

fn parse_proxy(value: &str) -> Result<String, InvalidInput> {
    let field = "outbound_proxy";
    let invalid = || InvalidInput::new(field, "must be host, host:port or [IPv6]:port");
    let has_port = value.starts_with('[') || value.matches(':').count() == 1;
    if !has_port {
        return parse_host(field, value);
    }
    let (host, port) = split_host_port(value).ok_or_else(invalid)?;
    if port == 0 {
        return Err(invalid());
    }
    let host = parse_host(field, host)?;
    Ok(if value.starts_with('[') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    })
}

/// An http(s) URL of URL characters only: nothing that could end a config value or a line.
pub fn parse_url(field: &'static str, value: &str) -> Result<String, InvalidInput> {
    let lower = value.to_ascii_lowercase();
    let scheme_ok = lower.starts_with("https://") || lower.starts_with("http://");
    let allowed = |b: u8| b.is_ascii_alphanumeric() || b"-._~:/?#[]@!$&()*+,;=%".contains(&b);
    if !scheme_ok || value.len() > 512 || !value.bytes().all(allowed) {
        return Err(InvalidInput::new(
            field,
            "must be an http:// or https:// URL of at most 512 URL characters",
        ));
    }
    let host = value.split("://").nth(1).unwrap_or("");
    if host.is_empty() || host.starts_with('/') {
        return Err(InvalidInput::new(field, "must name a host"));
    }
    Ok(value.to_string())
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

    fn layer(json: &str) -> Layer {
        patch_layer(&Layer::new(), &serde_json::from_str(json).unwrap()).unwrap()
    }

    #[test]
    fn layers_override_in_order_and_name_their_origin() {
        let default = Settings::default()
            .patched(
                &serde_json::from_str(
                    r#"{"sip_server":"pbx.example.com","ntp_server":"ntp.example.com"}"#,
                )
                .unwrap(),
            )
            .unwrap();
        let profile = layer(r#"{"sip_server":"branch.example.com","time_zone":"Europe/Berlin"}"#);
        let model = layer(r#"{"time_zone":"Europe/Paris","outbound_proxy":"[2001:db8::1]:5070"}"#);
        let device = layer(r#"{"phone_admin_password":"hunter2hunter2"}"#);
        let effective = Effective::resolve(
            &default,
            &[
                (Origin::Profile("branch".into()), &profile),
                (Origin::Model("T46S".into()), &model),
                (Origin::Device, &device),
            ],
        );
        let s = &effective.settings;
        assert_eq!(s.sip_server.as_deref(), Some("branch.example.com"));
        assert_eq!(s.ntp_server.as_deref(), Some("ntp.example.com"));
        assert_eq!(s.time_zone().unwrap().name, "Europe/Paris");
        assert_eq!(s.outbound_proxy(), Some(("2001:db8::1", 5070)));
        assert_eq!(
            effective.origins[&Key::SipServer],
            Origin::Profile("branch".into())
        );
        assert_eq!(effective.origins[&Key::NtpServer], Origin::Default);
        assert_eq!(
            effective.origins[&Key::TimeZone],
            Origin::Model("T46S".into())
        );
        let view = effective.view();
        assert_eq!(view["phone_admin_password"]["value"], SET);
        assert_eq!(view["phone_admin_password"]["from"]["level"], "device");
        assert_eq!(view["sip_server"]["from"]["name"], "branch");

        let site_wide: SettingsPatch = serde_json::from_str(r#"{"utc_offset":"+01:00"}"#).unwrap();
        assert!(patch_layer(&Layer::new(), &site_wide).is_err());
        let removed = patch_layer(
            &profile,
            &serde_json::from_str(r#"{"time_zone":null}"#).unwrap(),
        )
        .unwrap();
        assert_eq!(removed.len(), 1);
    }
}
