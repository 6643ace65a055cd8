//! The table of settings: one row per setting declares its `Settings` field, type and default,
//! its `Key`, what kind of value it takes, and whether it is inheritable, required and secret.
//!
//! A new setting is a new row. Besides it, a setting the templates use needs its line in
//! `render`'s template context (templates see only what is put there), a new kind of value needs
//! its `ValueKind` with an arm in [`ValueKind::normalize`], and `make openapi` regenerates
//! `docs/openapi.json`, whose settings schemas name every key. Rows are in the order the API
//! lists the settings (`GET /settings/choices`); `Key`'s order is that of stored layers.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::domain::{
    Extension, InvalidInput, LdapTls, SipPassword, TimeOfDay, Transport, UtcOffset, parse_dn,
    parse_feature_code, parse_host, parse_ldap_attributes, parse_ldap_filter, parse_ldap_text,
    parse_proxy, parse_url,
};
use crate::locale;

/// What a row says about its setting besides its field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyDef {
    pub key: Key,
    /// The field's name: how the API, the CLI and CSV files name the setting.
    pub name: &'static str,
    pub kind: ValueKind,
    pub scope: Scope,
    pub presence: Presence,
    pub shown: Shown,
}

/// What a setting accepts, and so how a given value is checked and stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    /// A host name or IP address, stored lower-cased.
    Host,
    Port,
    Transport,
    /// `host`, `host:port` or `[v6]:port`.
    Proxy,
    TimeZone,
    Language,
    /// A password a phone is given (the phone admin password).
    Password,
    /// An http(s) URL.
    Url,
    TimeOfDay,
    Extension,
    UtcOffset,
    /// A duration of 1 minute to a week.
    Minutes,
    /// One X.509 certificate in PEM form (`-----BEGIN CERTIFICATE-----`).
    Certificate,
    /// The name of a file in the firmware directory: letters, digits, `.`, `_`, `-`.
    FileName,
    /// A firmware version as phones report it: printable ASCII, at most 48 characters.
    Version,
    /// `none`, `starttls` or `ldaps`.
    LdapTls,
    /// A distinguished name (`ou=people,dc=example,dc=com`).
    Dn,
    /// An LDAP search filter holding `%`, where the phone puts what is typed.
    LdapFilter,
    /// LDAP attribute names separated by spaces.
    LdapAttributes,
    /// Free text of at most 128 characters without control characters (an LDAP bind user or
    /// password, a display pattern).
    LdapText,
    /// A PBX feature code: digits, `*` and `#`.
    FeatureCode,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// A profile, a model or a device may override the site-wide value.
    Inheritable,
    SiteWide,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    /// Always has a value: `null` resets it to its default.
    Required,
    /// `null` clears it.
    Optional,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shown {
    Plain,
    /// Answers show it only as "[set]".
    Secret,
}

/// Declares `Settings` (with its `Default`), `Key`, `Key::ALL` and `KEYS` from the same rows,
/// in the same order: `KEYS[key as usize]` is the row of `key`.
macro_rules! settings_table {
    ($(
        $(#[doc = $doc:literal])*
        $key:ident $field:ident: $type:ty = $default:expr
            => $kind:ident, $scope:ident, $presence:ident, $shown:ident;
    )*) => {
        /// The site-wide settings: every phone's, unless a layer overrides an inheritable one.
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(default)]
        pub struct Settings {
            $( $(#[doc = $doc])* pub $field: $type, )*
        }

        impl Default for Settings {
            fn default() -> Self {
                Settings { $( $field: $default, )* }
            }
        }

        /// Every setting, by the name the API, the CLI and CSV files use.
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
        )]
        #[serde(rename_all = "snake_case")]
        pub enum Key {
            $( $key, )*
        }

        impl Key {
            pub const ALL: &'static [Key] = &[$( Key::$key, )*];
        }

        /// One row per setting, in `Key` order.
        pub static KEYS: &[KeyDef] = &[$(
            KeyDef {
                key: Key::$key,
                name: stringify!($field),
                kind: ValueKind::$kind,
                scope: Scope::$scope,
                presence: Presence::$presence,
                shown: Shown::$shown,
            },
        )*];
    };
}

settings_table! {
    /// Registrar host name or address; phones cannot register until it is set.
    SipServer sip_server: Option<String> = None
        => Host, Inheritable, Optional, Plain;
    SipPort sip_port: u16 = 5060
        => Port, Inheritable, Required, Plain;
    SipTransport sip_transport: Transport = Transport::Udp
        => Transport, Inheritable, Required, Plain;
    /// `host` or `host:port` (`[v6]:port`) every SIP request goes through.
    OutboundProxy outbound_proxy: Option<String> = None
        => Proxy, Inheritable, Optional, Plain;
    NtpServer ntp_server: Option<String> = None
        => Host, Inheritable, Optional, Plain;
    /// An IANA name from `locale::TIME_ZONES`.
    TimeZone time_zone: Option<String> = None
        => TimeZone, Inheritable, Optional, Plain;
    /// An ISO 639-1 code from `locale::LANGUAGES`: the phone's menu language.
    Language language: Option<String> = None
        => Language, Inheritable, Optional, Plain;
    /// The phone's own web and menu admin password (a secret: in device files only).
    PhoneAdminPassword phone_admin_password: Option<String> = None
        => Password, Inheritable, Optional, Secret;
    /// The directory firmware files are fetched from when it is not deskprov's own
    /// `/firmware/` (an http(s) URL without credentials: it goes into common files).
    FirmwareUrl firmware_url: Option<String> = None
        => Url, Inheritable, Optional, Plain;
    /// The firmware file phones of this profile or model should run (a file name in the
    /// firmware directory); phones upgrade when it names another version.
    FirmwareFile firmware_file: Option<String> = None
        => FileName, Inheritable, Optional, Plain;
    /// The version `firmware_file` holds, as the phone reports it: a device that reports
    /// another is flagged `firmware_outdated`.
    FirmwareVersion firmware_version: Option<String> = None
        => Version, Inheritable, Optional, Plain;
    /// How often phones fetch their config again, so changes reach them without a reboot;
    /// each device adds up to a tenth of it (by its MAC) so a site does not fetch at once.
    ResyncMinutes resync_minutes: u32 = 60
        => Minutes, Inheritable, Required, Plain;
    /// Points the phones at the company phonebook (users and contacts), which they fetch again
    /// this often; none by default.
    PhonebookRefreshMinutes phonebook_refresh_minutes: Option<u32> = None
        => Minutes, Inheritable, Optional, Plain;
    /// The CA certificate (PEM) of a PBX or server whose TLS certificate a private CA signed:
    /// served as `/site-ca.pem` and installed as trusted by every vendor's config.
    CaCertificate ca_certificate: Option<String> = None
        => Certificate, SiteWide, Optional, Plain;
    /// Every hot-desk login ends at this time of day (site time, see `utc_offset`).
    HotdeskLogoutTime hotdesk_logout_time: Option<TimeOfDay> = None
        => TimeOfDay, Inheritable, Optional, Plain;
    /// The account a hot-desk phone has while nobody is logged in (an emergency or lobby
    /// extension the PBX restricts); none by default.
    LobbyExtension lobby_extension: Option<Extension> = None
        => Extension, Inheritable, Optional, Plain;
    /// Hot-desk logins end after this long.
    HotdeskMaxLoginMinutes hotdesk_max_login_minutes: Option<u32> = Some(12 * 60)
        => Minutes, SiteWide, Optional, Plain;
    UtcOffset utc_offset: UtcOffset = UtcOffset::default()
        => UtcOffset, SiteWide, Required, Plain;
    /// The LDAP directory phones search themselves (host name or address). Device files carry
    /// the `ldap_*` settings only while it is set (defaults as Tancredi's `defaults.ini`).
    LdapServer ldap_server: Option<String> = None
        => Host, Inheritable, Optional, Plain;
    /// The directory's port; without one 389, or 636 when `ldap_tls` is `ldaps`.
    LdapPort ldap_port: Option<u16> = None
        => Port, Inheritable, Optional, Plain;
    /// `none`, `starttls` or `ldaps`; a vendor without the mode given gets no LDAP settings.
    LdapTls ldap_tls: LdapTls = LdapTls::None
        => LdapTls, Inheritable, Required, Plain;
    /// Where searches start (a DN).
    LdapBase ldap_base: Option<String> = None
        => Dn, Inheritable, Optional, Plain;
    /// The user phones bind as (a DN, or what the directory takes); anonymous without one.
    LdapUser ldap_user: Option<String> = None
        => LdapText, Inheritable, Optional, Plain;
    /// The bind password (a secret: in device files only).
    LdapPassword ldap_password: Option<String> = None
        => LdapText, Inheritable, Optional, Secret;
    /// The filter of a search by name; `%` is what the user typed.
    LdapNameFilter ldap_name_filter: String = "(|(cn=%)(o=%))".to_string()
        => LdapFilter, Inheritable, Required, Plain;
    /// The filter of a search by number (caller lookup); `%` is the number.
    LdapNumberFilter ldap_number_filter: String =
        "(|(telephoneNumber=%)(mobile=%)(homePhone=%))".to_string()
        => LdapFilter, Inheritable, Required, Plain;
    /// The attributes that hold a name.
    LdapNameAttr ldap_name_attr: String = "cn o".to_string()
        => LdapAttributes, Inheritable, Required, Plain;
    /// The attributes that hold a number.
    LdapNumberAttr ldap_number_attr: String = "telephoneNumber mobile homePhone".to_string()
        => LdapAttributes, Inheritable, Required, Plain;
    /// How a hit is shown: attributes as `%name`.
    LdapNameDisplay ldap_name_display: String = "%cn %o".to_string()
        => LdapText, Inheritable, Required, Plain;
    /// The PBX's directed pickup prefix (Asterisk `**`): BLF keys dial it with the watched
    /// extension to take its ringing call. Unset, phones keep their own.
    PickupDirectCode pickup_direct_code: Option<String> = None
        => FeatureCode, Inheritable, Optional, Plain;
    /// The PBX's group pickup code (Asterisk `*8`), which group pickup keys dial.
    PickupGroupCode pickup_group_code: Option<String> = None
        => FeatureCode, Inheritable, Optional, Plain;
    /// The PBX's code that parks the call in progress.
    ParkCode park_code: Option<String> = None
        => FeatureCode, Inheritable, Optional, Plain;
    /// The PBX's code that takes a parked call back.
    ParkRetrieveCode park_retrieve_code: Option<String> = None
        => FeatureCode, Inheritable, Optional, Plain;
}

impl Key {
    pub fn def(self) -> &'static KeyDef {
        &KEYS[self as usize]
    }

    pub fn name(self) -> &'static str {
        self.def().name
    }

    pub fn from_name(name: &str) -> Result<Key, InvalidInput> {
        let known = KEYS.iter().find(|def| def.name == name);
        known.map(|def| def.key).ok_or_else(|| {
            let names: Vec<&str> = KEYS.iter().map(|def| def.name).collect();
            InvalidInput::new(
                "settings",
                format!(
                    "unknown setting {name:?}; the settings are {}",
                    names.join(", ")
                ),
            )
        })
    }

    /// A setting that always has a value: `null` resets it to its default.
    pub fn required(self) -> bool {
        self.def().presence == Presence::Required
    }

    /// Whether a profile, a model or a device may set it; the rest are site-wide.
    pub fn inheritable(self) -> bool {
        self.def().scope == Scope::Inheritable
    }

    pub fn is_secret(self) -> bool {
        self.def().shown == Shown::Secret
    }

    /// The value in its stored form, or why it is refused.
    pub fn normalize(self, value: &Value) -> Result<Value, InvalidInput> {
        self.def().kind.normalize(self.name(), value)
    }
}

impl ValueKind {
    /// `value` for the setting `field` in its stored form, or why it is refused.
    pub fn normalize(self, field: &'static str, value: &Value) -> Result<Value, InvalidInput> {
        let normalized = match self {
            ValueKind::Port => {
                return number(value, 1..=65535)
                    .ok_or_else(|| InvalidInput::new(field, "must be a port number, 1 to 65535"));
            }
            ValueKind::Minutes => {
                return number(value, 1..=7 * 24 * 60).ok_or_else(|| {
                    InvalidInput::new(field, "must be a number of minutes, 1 to 10080 (a week)")
                });
            }
            ValueKind::Host => parse_host(field, text(field, value)?)?,
            ValueKind::Transport => serialize(Transport::parse(field, text(field, value)?)?),
            ValueKind::Proxy => parse_proxy(field, text(field, value)?)?,
            ValueKind::TimeZone => time_zone(field, text(field, value)?)?,
            ValueKind::Language => language(field, text(field, value)?)?,
            ValueKind::Password => SipPassword::parse(text(field, value)?)
                .map_err(|e| InvalidInput::new(field, e.reason))?
                .expose()
                .to_string(),
            ValueKind::Url => parse_url(field, text(field, value)?)?,
            ValueKind::TimeOfDay => TimeOfDay::parse(field, text(field, value)?)?.to_string(),
            ValueKind::Extension => Extension::parse(text(field, value)?)
                .map_err(|e| InvalidInput::new(field, e.reason))?
                .to_string(),
            ValueKind::UtcOffset => UtcOffset::parse(field, text(field, value)?)?.to_string(),
            ValueKind::Certificate => certificate(field, text(field, value)?)?,
            ValueKind::FileName => file_name(field, text(field, value)?)?,
            ValueKind::Version => version(field, text(field, value)?)?,
            ValueKind::LdapTls => serialize(LdapTls::parse(field, text(field, value)?)?),
            ValueKind::Dn => parse_dn(field, text(field, value)?)?,
            ValueKind::LdapFilter => parse_ldap_filter(field, text(field, value)?)?,
            ValueKind::LdapAttributes => parse_ldap_attributes(field, text(field, value)?)?,
            ValueKind::LdapText => parse_ldap_text(field, text(field, value)?, 128)?,
            ValueKind::FeatureCode => parse_feature_code(field, text(field, value)?)?,
        };
        Ok(Value::String(normalized))
    }
}

fn text<'a>(field: &'static str, value: &'a Value) -> Result<&'a str, InvalidInput> {
    value
        .as_str()
        .ok_or_else(|| InvalidInput::new(field, "must be a string"))
}

/// A JSON whole number within `range`.
fn number(value: &Value, range: std::ops::RangeInclusive<u64>) -> Option<Value> {
    value
        .as_u64()
        .filter(|n| range.contains(n))
        .map(Value::from)
}

fn time_zone(field: &'static str, name: &str) -> Result<String, InvalidInput> {
    let zone = locale::time_zone(name).ok_or_else(|| {
        InvalidInput::new(
            field,
            "must be a time zone name such as Europe/Berlin; GET /api/v1/settings/choices lists them",
        )
    })?;
    Ok(zone.name.to_string())
}

fn language(field: &'static str, code: &str) -> Result<String, InvalidInput> {
    let language = locale::language(code).ok_or_else(|| {
        InvalidInput::new(
            field,
            "must be a language code such as de; GET /api/v1/settings/choices lists them",
        )
    })?;
    Ok(language.code.to_string())
}

/// One PEM certificate that parses as X.509, re-encoded with `\n` line ends and nothing around
/// it, so every vendor's config gets the same text.
fn certificate(field: &'static str, pem: &str) -> Result<String, InvalidInput> {
    const MAX_PEM_BYTES: usize = 16 * 1024;
    let refuse = |why: &str| InvalidInput::new(field, why.to_string());
    if pem.len() > MAX_PEM_BYTES {
        return Err(refuse("must be one PEM certificate of at most 16 KiB"));
    }
    let (rest, block) = x509_parser::pem::parse_x509_pem(pem.trim().as_bytes())
        .map_err(|_| refuse("must be a PEM certificate (-----BEGIN CERTIFICATE----- ...)"))?;
    if block.label != "CERTIFICATE" {
        return Err(refuse(
            "must be a CERTIFICATE block, not a key or a request",
        ));
    }
    if !String::from_utf8_lossy(rest).trim().is_empty() {
        return Err(refuse(
            "must be exactly one certificate: the CA that signed the PBX's",
        ));
    }
    let cert = block
        .parse_x509()
        .map_err(|_| refuse("is not a valid X.509 certificate"))?;
    if !cert.is_ca() {
        return Err(refuse(
            "is not a CA certificate (basicConstraints CA:TRUE): give the CA that signed the PBX's certificate",
        ));
    }
    Ok(crate::tls::certificate_pem(&block.contents))
}

fn file_name(field: &'static str, name: &str) -> Result<String, InvalidInput> {
    crate::firmware::parse_name(field, name)
}

fn version(field: &'static str, version: &str) -> Result<String, InvalidInput> {
    if version.is_empty() || version.len() > 48 || !version.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(InvalidInput::new(
            field,
            "must be a firmware version as the phone reports it: 1 to 48 printable characters, no spaces",
        ));
    }
    Ok(version.to_string())
}

fn serialize<T: Serialize>(value: T) -> String {
    match serde_json::to_value(value).expect("serialises") {
        Value::String(s) => s,
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_row_is_its_keys_definition() {
        for (index, def) in KEYS.iter().enumerate() {
            assert_eq!(def.key as usize, index, "{}", def.name);
            assert_eq!(def.key.def(), def);
            assert_eq!(Key::from_name(def.name), Ok(def.key));
            assert_eq!(serde_json::to_value(def.key).unwrap(), def.name);
        }
        assert_eq!(Key::ALL.len(), KEYS.len());
    }

    /// A required setting's field cannot hold `null`; an optional one's can.
    #[test]
    fn presence_matches_the_field_type() {
        for def in KEYS {
            let mut map = Settings::default().to_map();
            map.insert(def.name.to_string(), Value::Null);
            let nullable = serde_json::from_value::<Settings>(Value::Object(map)).is_ok();
            assert_eq!(nullable, def.presence == Presence::Optional, "{}", def.name);
        }
    }

    #[test]
    fn defaults_are_values_their_kind_accepts() {
        let defaults = Settings::default().to_map();
        for def in KEYS {
            let default = &defaults[def.name];
            if !default.is_null() {
                assert_eq!(
                    def.key.normalize(default).as_ref(),
                    Ok(default),
                    "{}",
                    def.name
                );
            }
        }
    }
}
