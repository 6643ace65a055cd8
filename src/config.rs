//! Server configuration: embedded defaults, then an optional TOML file, then command-line flags.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub server: ServerConfig,
    pub provisioning: ProvisioningConfig,
    pub hotdesk: HotdeskConfig,
    pub security: SecurityConfig,
    pub users: UsersConfig,
    pub limits: Limits,
    pub metrics: MetricsConfig,
    pub portal: PortalConfig,
    /// Absent: mail is not configured.
    pub mail: Option<crate::mail::MailConfig>,
    pub database: DatabaseConfig,
}

/// Where the records are: sled in the data directory (the default), or a PostgreSQL database
/// that several nodes share.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// `postgres://user@host:port/db` (`?sslmode=require` for TLS); also `--database-url` or
    /// DESKPROV_DATABASE_URL. Absent: sled in the data directory.
    pub url: Option<String>,
    /// The database password on this file's first line, so it is in neither the URL nor the
    /// config file.
    pub password_file: Option<PathBuf>,
    /// CA certificates (PEM) that sign the database server's certificate; absent: the public
    /// web CAs. The certificate is always checked against the URL's host.
    pub ca_file: Option<PathBuf>,
}

/// The users' self-service portal at `/me/` on the phone listener.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PortalConfig {
    /// `false`: `/me/` answers 404 like any other unknown path.
    pub enabled: bool,
    /// Addresses that may open it (`["10.0.0.0/8"]`); every address when empty.
    pub allow_networks: Vec<ipnet::IpNet>,
}

impl Default for PortalConfig {
    fn default() -> Self {
        PortalConfig {
            enabled: true,
            allow_networks: Vec::new(),
        }
    }
}

/// Who may scrape `/metrics` on the admin listener besides an admin token's holder.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// Addresses that may scrape without a token (`["10.0.5.0/24"]`); none by default.
    pub allow_networks: Vec<ipnet::IpNet>,
}

/// Users created without an extension get the lowest free one from these ranges, in order.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UsersConfig {
    /// `"FIRST-LAST"`, both extensions of the same number of digits: `["1000-1999"]`.
    pub extension_ranges: Vec<String>,
}

impl Default for UsersConfig {
    fn default() -> Self {
        UsersConfig {
            extension_ranges: vec!["1000-1999".into()],
        }
    }
}

/// A range of extensions of one length; `start` and `end` are inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExtensionRange {
    pub start: u64,
    pub end: u64,
    pub digits: usize,
}

impl ExtensionRange {
    pub fn parse(value: &str) -> Result<ExtensionRange, ConfigError> {
        let invalid = || {
            ConfigError::Invalid(format!(
                "users.extension_ranges: {value:?} must be FIRST-LAST of equally many digits, FIRST <= LAST, like 1000-1999"
            ))
        };
        let (first, last) = value.split_once('-').ok_or_else(invalid)?;
        let digits_ok =
            |s: &str| !s.is_empty() && s.len() <= 15 && s.bytes().all(|b| b.is_ascii_digit());
        if !digits_ok(first) || !digits_ok(last) || first.len() != last.len() {
            return Err(invalid());
        }
        let (start, end) = (
            first.parse().map_err(|_| invalid())?,
            last.parse().map_err(|_| invalid())?,
        );
        if start > end {
            return Err(invalid());
        }
        Ok(ExtensionRange {
            start,
            end,
            digits: first.len(),
        })
    }

    /// The extensions of the range in order, written with their leading zeros.
    pub fn extensions(self) -> impl Iterator<Item = String> {
        (self.start..=self.end).map(move |n| format!("{n:0width$}", width = self.digits))
    }
}

impl UsersConfig {
    pub fn ranges(&self) -> Vec<ExtensionRange> {
        self.extension_ranges
            .iter()
            .filter_map(|r| ExtensionRange::parse(r).ok())
            .collect()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// sled database and the admin token file.
    pub data_dir: PathBuf,
    /// server.crt and server.key; when none exists the local CA (created here) issues a pair.
    pub certs_dir: PathBuf,
    pub phone_listen: SocketAddr,
    /// The admin API: loopback by default, never the phones' listener.
    pub admin_listen: SocketAddr,
    /// The URL phones use to reach this server (`https://prov.example.com:8443/`). When set it
    /// is written into configs; when not, phones keep the URL they were given.
    pub public_url: Option<String>,
    /// Admin overrides of the shipped phone templates, by the same relative path.
    pub templates_dir: Option<PathBuf>,
    /// Log filter when RUST_LOG is not set (`info`, `deskprov=debug`, ...).
    pub log: String,
    /// `text` (the default) or `json`: one JSON object per line (README lists the fields).
    pub log_format: LogFormat,
    /// Load balancers in front of the phone listener: a connection from one of these networks
    /// must start with a PROXY protocol v2 header, whose source is then the phone's address
    /// (for bans, claims, the event log). Empty (the default): no PROXY header is read.
    pub proxy_protocol_from: Vec<ipnet::IpNet>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            data_dir: PathBuf::from("data"),
            certs_dir: PathBuf::from("certs"),
            phone_listen: "0.0.0.0:8443".parse().expect("valid address"),
            admin_listen: "127.0.0.1:8444".parse().expect("valid address"),
            public_url: None,
            templates_dir: None,
            proxy_protocol_from: Vec::new(),
            log: "info".into(),
            log_format: LogFormat::Text,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProvisioningConfig {
    /// After an admin registers a device (or resets its claim), its first request within this
    /// window gets its config without credentials, and the config hands it its credentials.
    pub claim_window_secs: u64,
    /// After that first fetch, the same phone (the claim's User-Agent: vendor, model and MAC)
    /// from the same address may fetch its own files without credentials for this long, while
    /// it is still applying what it got, ...
    pub claim_grace_secs: u64,
    /// ... and this many times at most.
    pub claim_grace_requests: u32,
    /// Where claims may come from (`["10.20.0.0/16"]`); empty: anywhere. Credentials and
    /// certificates work from everywhere.
    pub claim_networks: Vec<ipnet::IpNet>,
    /// How many seen-but-unregistered MACs are remembered; the longest unseen are dropped.
    pub max_unregistered: usize,
    /// How many of those one source may hold (at most all of them): a source naming more MACs
    /// replaces its own oldest entries, never another source's.
    pub max_unregistered_per_source: usize,
    /// Firmware files served at `/firmware/<file>`: uploaded through the API or dropped in.
    /// Default `<data_dir>/firmware`.
    pub firmware_dir: Option<PathBuf>,
}

impl Default for ProvisioningConfig {
    fn default() -> Self {
        ProvisioningConfig {
            claim_window_secs: 3600,
            claim_grace_secs: 300,
            claim_grace_requests: 10,
            claim_networks: Vec::new(),
            max_unregistered: 1000,
            max_unregistered_per_source: 50,
            firmware_dir: None,
        }
    }
}

/// What happens when a user logs in at a phone while logged in at another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MultipleLogins {
    /// The new login wins; the first phone is logged out and told to reload.
    Move,
    /// The new login is refused until the user logs out at the first phone.
    Refuse,
}

/// Hot-desking policy: PINs, brute-force limits, and how phones are told to reload.
/// Times of day and login durations are per-site settings (the admin API's settings).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HotdeskConfig {
    /// Shortest PIN accepted when one is set; 6 by default, 4 at the least.
    pub pin_min_digits: usize,
    pub multiple_logins: MultipleLogins,
    /// Wrong PINs in a row for one extension at one phone that lock the extension at that
    /// phone.
    pub user_max_failures: u32,
    /// Phones at which an extension got locked (since its last successful login) that lock
    /// it at every phone: the brake on guessing one PIN from many phones.
    pub user_max_phones: u32,
    /// The first lockout; each further lockout without a successful login doubles it.
    pub user_lockout_secs: u64,
    /// The longest lockout, however often it doubled.
    pub user_lockout_max_secs: u64,
    /// Failed logins from one phone within `device_window_secs` that throttle the phone.
    pub device_max_failures: u32,
    pub device_window_secs: u64,
    pub device_throttle_secs: u64,
    /// Phones throttled within `global_window_secs` that pause logins for `global_pause_secs`
    /// at every phone without a successful login in the last day: the brake on a PIN spray
    /// from more phones than the per-phone throttle can hold.
    pub global_max_throttled_phones: u32,
    pub global_window_secs: u64,
    pub global_pause_secs: u64,
    /// No longer used (the pause counts throttled phones, not failures); accepted so that an
    /// older configuration file still loads, and warned about at start-up.
    #[serde(skip_serializing)]
    pub global_max_failures: Option<u32>,
    /// PIN hashes computed at once; each takes 19 MiB and a core for ~40 ms. By default half
    /// the cores, at least one: a hash evicts the caches of the core it runs on, so while phones
    /// keep every core busy, the other half keeps serving configs from warm caches
    /// (BENCHMARKS.md, (d)).
    pub max_concurrent_hashes: usize,
    /// Send SIP NOTIFY (check-sync) to a phone's last address when its login changes.
    pub sip_notify: bool,
    pub sip_notify_port: u16,
    /// How often expired logins (maximum duration, daily logout) are logged out.
    pub sweep_interval_secs: u64,
}

impl Default for HotdeskConfig {
    fn default() -> Self {
        HotdeskConfig {
            pin_min_digits: 6,
            multiple_logins: MultipleLogins::Move,
            user_max_failures: 5,
            user_max_phones: 3,
            user_lockout_secs: 15 * 60,
            user_lockout_max_secs: 24 * 3600,
            device_max_failures: 10,
            device_window_secs: 15 * 60,
            device_throttle_secs: 15 * 60,
            global_max_throttled_phones: 20,
            global_window_secs: 15 * 60,
            global_pause_secs: 15 * 60,
            global_max_failures: None,
            max_concurrent_hashes: half_the_cores(),
            sip_notify: false,
            sip_notify_port: 5060,
            sweep_interval_secs: 30,
        }
    }
}

/// Half of the cores this process may run on, at least one.
fn half_the_cores() -> usize {
    std::thread::available_parallelism().map_or(1, |cores| (cores.get() / 2).max(1))
}

impl HotdeskConfig {
    pub fn pin_policy(&self) -> crate::domain::PinPolicy {
        crate::domain::PinPolicy {
            min_digits: self.pin_min_digits,
        }
    }
}

/// Bans on MAC enumeration, the admin API's failed-token brake, and the audit trail.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SecurityConfig {
    /// A source (an IPv4 address or an IPv6 /64) refused the files of more distinct MACs than
    /// this within `refused_mac_window_secs` is banned. Granted requests and missing optional
    /// files never count, so an office of phones behind one NAT is safe.
    pub max_refused_macs: usize,
    pub refused_mac_window_secs: u64,
    /// A MAC a request names (in its User-Agent, on a common file) counts as refused unless
    /// it proves itself (claim, credentials, certificate) from that source within this time.
    pub unproven_mac_grace_secs: u64,
    /// A source that sent wrong provisioning credentials more than this many times within
    /// `refused_mac_window_secs` is banned like a sweeper.
    pub max_failed_credentials: usize,
    /// Wrong credentials for one device within `refused_mac_window_secs`, from any sources,
    /// after which credentials for it are not checked for `device_credentials_throttle_secs`,
    /// except from the address the device last proved itself from.
    pub device_max_failed_credentials: u32,
    pub device_credentials_throttle_secs: u64,
    /// The first ban; each further one doubles, up to `ban_max_secs`.
    pub ban_secs: u64,
    pub ban_max_secs: u64,
    /// Networks never banned: office NAT ranges with many unregistered phones (`"10.0.0.0/8"`).
    pub allow_networks: Vec<ipnet::IpNet>,
    /// Wrong admin tokens from one address within `admin_failure_window_secs` that block it for
    /// `admin_block_secs`.
    pub admin_max_failures: u32,
    pub admin_failure_window_secs: u64,
    pub admin_block_secs: u64,
    /// The audit trail keeps this many newest records.
    pub audit_max_records: usize,
    /// Sources (IPv4 addresses or IPv6 /64s) whose repeatable events the repeat filter
    /// remembers; beyond that the stalest source is forgotten.
    pub audit_repeat_sources: usize,
    /// Distinct repeatable events remembered per source and window; beyond that the source's
    /// further new events are counted and recorded as one `events_suppressed` summary.
    pub audit_repeat_keys_per_source: usize,
}

impl Default for SecurityConfig {
    fn default() -> Self {
        SecurityConfig {
            max_refused_macs: 10,
            refused_mac_window_secs: 300,
            unproven_mac_grace_secs: 60,
            max_failed_credentials: 10,
            device_max_failed_credentials: 10,
            device_credentials_throttle_secs: 300,
            ban_secs: 3600,
            ban_max_secs: 24 * 3600,
            allow_networks: Vec::new(),
            admin_max_failures: 10,
            admin_failure_window_secs: 300,
            admin_block_secs: 300,
            audit_max_records: 100_000,
            audit_repeat_sources: 4096,
            audit_repeat_keys_per_source: 32,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    pub max_phone_connections: usize,
    pub max_admin_connections: usize,
    /// Connections one source (an IPv4 address or an IPv6 /64) may hold on the phones'
    /// listener: room for an office of phones booting at once behind one NAT address.
    pub max_phone_connections_per_source: usize,
    /// The same for sources in `security.allow_networks`.
    pub max_allowed_network_connections_per_source: usize,
    pub max_admin_connections_per_source: usize,
    /// Admin connections only loopback sources may take, so a flood from elsewhere leaves
    /// the server's own machine (the CLI) a way in.
    pub admin_loopback_reserve: usize,
    /// The share of each listener's cap that connections still in their TLS handshake may
    /// hold; the rest is kept for connections that finished it.
    pub pre_handshake_percent: usize,
    pub tls_handshake_timeout_secs: u64,
    /// Time to send a request head, and the idle time allowed between keep-alive requests.
    pub header_read_timeout_secs: u64,
    /// A connection older than this is closed after its current request.
    pub max_connection_age_secs: u64,
    /// How long that current request may still take: a firmware download or upload in
    /// progress is not cut at the connection's age.
    pub max_transfer_secs: u64,
    pub max_admin_body_bytes: usize,
    /// A CSV file sent to /api/v1/import/.
    pub max_import_bytes: usize,
    /// Largest file a phone may upload (Poly logs and override files).
    pub max_upload_bytes: usize,
    /// All uploads of one device together; the oldest files go first.
    pub max_uploads_per_device_bytes: usize,
    /// A firmware file uploaded through `PUT /api/v1/firmware/{file}`; it is streamed to disk,
    /// so this bounds the disk used, not memory.
    pub max_firmware_bytes: u64,
    pub body_read_timeout_secs: u64,
    /// How long shutdown waits for open requests before closing them.
    pub shutdown_grace_secs: u64,
    /// Memory for rendered files kept between requests (render_cache.rs); 0 renders every
    /// request. The default holds every file of a 10,000-phone site (about 4 KiB each with
    /// what an entry allocates): at 32 MiB `make bench`'s keep-alive run over those files
    /// missed and rendered, and served a third fewer requests.
    pub render_cache_bytes: u64,
    /// Memory for the embedded store's pages (sled's cache); records beyond it are read from
    /// disk again.
    pub store_cache_bytes: u64,
    /// Events the per-device event log keeps of each device (device_events.rs); the oldest go.
    pub events_per_device: usize,
    /// Devices it keeps them of; one not active lately goes (second chance). 0 keeps no events.
    pub event_log_devices: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_phone_connections: 4096,
            max_admin_connections: 64,
            max_phone_connections_per_source: 512,
            max_allowed_network_connections_per_source: 2048,
            max_admin_connections_per_source: 16,
            admin_loopback_reserve: 16,
            pre_handshake_percent: 75,
            tls_handshake_timeout_secs: 10,
            header_read_timeout_secs: 10,
            max_connection_age_secs: 300,
            max_transfer_secs: 3600,
            max_admin_body_bytes: 64 * 1024,
            max_import_bytes: 16 * 1024 * 1024,
            max_upload_bytes: 512 * 1024,
            max_uploads_per_device_bytes: 2 * 1024 * 1024,
            max_firmware_bytes: 512 * 1024 * 1024,
            body_read_timeout_secs: 10,
            shutdown_grace_secs: 10,
            render_cache_bytes: 48 * 1024 * 1024,
            store_cache_bytes: crate::store::sled::DEFAULT_CACHE_BYTES,
            events_per_device: 50,
            event_log_devices: 5000,
        }
    }
}

impl Limits {
    pub fn max_transfer(&self) -> Duration {
        Duration::from_secs(self.max_transfer_secs)
    }

    pub fn handshake_timeout(&self) -> Duration {
        Duration::from_secs(self.tls_handshake_timeout_secs)
    }
    pub fn header_read_timeout(&self) -> Duration {
        Duration::from_secs(self.header_read_timeout_secs)
    }
    pub fn max_connection_age(&self) -> Duration {
        Duration::from_secs(self.max_connection_age_secs)
    }
    pub fn body_read_timeout(&self) -> Duration {
        Duration::from_secs(self.body_read_timeout_secs)
    }
    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace_secs)
    }
}

const MONTH_SECS: u64 = 30 * 24 * 3600;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path}: {source}")]
    Parse {
        path: PathBuf,
        source: Box<toml::de::Error>,
    },
    #[error("{0}")]
    Invalid(String),
}

impl Config {
    pub fn from_file(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let config: Config = toml::from_str(&text).map_err(|source| ConfigError::Parse {
            path: path.to_path_buf(),
            source: Box::new(source),
        })?;
        config.validate()?;
        Ok(config)
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        if let Some(url) = &self.server.public_url {
            validate_public_url(url)?;
        }
        if self.limits.max_phone_connections == 0 || self.limits.max_admin_connections == 0 {
            return Err(ConfigError::Invalid(
                "limits: connection caps must be at least 1".into(),
            ));
        }
        self.validate_connection_shares()?;
        let p = &self.provisioning;
        if p.max_unregistered_per_source == 0 {
            return Err(ConfigError::Invalid(
                "provisioning: max_unregistered_per_source must be at least 1".into(),
            ));
        }
        if self.limits.header_read_timeout_secs == 0 || self.limits.tls_handshake_timeout_secs == 0
        {
            return Err(ConfigError::Invalid(
                "limits: timeouts must be at least 1 second".into(),
            ));
        }
        self.validate_hotdesk()?;
        validate_networks(
            "provisioning.claim_networks",
            &self.provisioning.claim_networks,
        )?;
        validate_networks("metrics.allow_networks", &self.metrics.allow_networks)?;
        for range in &self.users.extension_ranges {
            ExtensionRange::parse(range)?;
        }
        if let Some(mail) = &self.mail {
            mail.validate()?;
        }
        self.database_url()?;
        self.validate_security()
    }

    /// The shared database, when one is configured.
    pub fn database_url(&self) -> Result<Option<crate::store::postgres::DatabaseUrl>, ConfigError> {
        let Some(url) = &self.database.url else {
            return Ok(None);
        };
        let database = &self.database;
        crate::store::postgres::DatabaseUrl::parse(
            url,
            database.password_file.as_deref(),
            database.ca_file.clone(),
        )
        .map(Some)
        .map_err(|e| ConfigError::Invalid(format!("database: {e}")))
    }

    fn validate_connection_shares(&self) -> Result<(), ConfigError> {
        let l = &self.limits;
        let per_source = [
            l.max_phone_connections_per_source,
            l.max_allowed_network_connections_per_source,
            l.max_admin_connections_per_source,
        ];
        if per_source.contains(&0) || !(1..=100).contains(&l.pre_handshake_percent) {
            return Err(ConfigError::Invalid(
                "limits: per-source caps must be at least 1, pre_handshake_percent 1 to 100".into(),
            ));
        }
        if l.admin_loopback_reserve >= l.max_admin_connections {
            return Err(ConfigError::Invalid(
                "limits: admin_loopback_reserve must be below max_admin_connections".into(),
            ));
        }
        Ok(())
    }

    fn validate_security(&self) -> Result<(), ConfigError> {
        let s = &self.security;
        let times = [
            s.refused_mac_window_secs,
            s.ban_secs,
            s.ban_max_secs,
            s.admin_failure_window_secs,
            s.admin_block_secs,
            s.device_credentials_throttle_secs,
            s.unproven_mac_grace_secs,
        ];
        let counts = [
            s.max_refused_macs,
            s.max_failed_credentials,
            s.admin_max_failures as usize,
            s.device_max_failed_credentials as usize,
        ];
        if counts.contains(&0) || times.contains(&0) {
            return Err(ConfigError::Invalid(
                "security: counts and times must be at least 1".into(),
            ));
        }
        if times.iter().any(|t| *t > MONTH_SECS)
            || s.max_refused_macs > 10_000
            || s.max_failed_credentials > 10_000
        {
            return Err(ConfigError::Invalid(
                "security: times must be at most 30 days, max_refused_macs and max_failed_credentials at most 10000".into(),
            ));
        }
        if s.ban_max_secs < s.ban_secs {
            return Err(ConfigError::Invalid(
                "security.ban_max_secs: must not be below ban_secs".into(),
            ));
        }
        if s.audit_max_records < 1000 {
            return Err(ConfigError::Invalid(
                "security.audit_max_records: must be at least 1000".into(),
            ));
        }
        if s.audit_repeat_sources == 0 || s.audit_repeat_keys_per_source == 0 {
            return Err(ConfigError::Invalid(
                "security.audit_repeat_sources and audit_repeat_keys_per_source: must be at least 1"
                    .into(),
            ));
        }
        Ok(())
    }

    fn validate_hotdesk(&self) -> Result<(), ConfigError> {
        let h = &self.hotdesk;
        let min = crate::domain::MIN_PIN_DIGITS_ALLOWED;
        let max = crate::domain::MAX_PIN_DIGITS;
        if !(min..=max).contains(&h.pin_min_digits) {
            return Err(ConfigError::Invalid(format!(
                "hotdesk.pin_min_digits: must be {min} to {max}"
            )));
        }
        let counts = [
            h.user_max_failures,
            h.user_max_phones,
            h.device_max_failures,
            h.global_max_throttled_phones,
        ];
        let times = [
            h.user_lockout_secs,
            h.device_window_secs,
            h.device_throttle_secs,
            h.global_window_secs,
            h.global_pause_secs,
            h.sweep_interval_secs,
        ];
        if counts.contains(&0) || times.contains(&0) || h.max_concurrent_hashes == 0 {
            return Err(ConfigError::Invalid(
                "hotdesk: failure counts, times and max_concurrent_hashes must be at least 1"
                    .into(),
            ));
        }
        if times
            .iter()
            .chain([&h.user_lockout_max_secs])
            .any(|t| *t > MONTH_SECS)
        {
            return Err(ConfigError::Invalid(
                "hotdesk: lockout, window and pause times must be at most 30 days".into(),
            ));
        }
        if h.user_lockout_max_secs < h.user_lockout_secs {
            return Err(ConfigError::Invalid(
                "hotdesk.user_lockout_max_secs: must not be below user_lockout_secs".into(),
            ));
        }
        Ok(())
    }

    pub fn db_dir(&self) -> PathBuf {
        self.server.data_dir.join("db")
    }

    pub fn firmware_dir(&self) -> PathBuf {
        match &self.provisioning.firmware_dir {
            Some(dir) => dir.clone(),
            None => self.server.data_dir.join("firmware"),
        }
    }

    pub fn token_file(&self) -> PathBuf {
        self.server.data_dir.join("admin.token")
    }

    /// Where the first owner account's password is written (read it, log in, change it).
    pub fn owner_password_file(&self) -> PathBuf {
        self.server.data_dir.join("admin.password")
    }

    /// CA certificates of phone vendors; a client certificate they signed identifies its MAC.
    pub fn vendor_ca_dir(&self) -> PathBuf {
        self.server.certs_dir.join("vendor-ca")
    }
}

/// The public URL goes into configs verbatim, so it must be a plain http(s) URL ending in '/',
/// without credentials (common files carry it). Errors never repeat it: it may hold a password.
/// A network written with host bits (`10.0.0.1/8`) is refused: what was meant is unclear.
fn validate_networks(key: &str, networks: &[ipnet::IpNet]) -> Result<(), ConfigError> {
    match networks.iter().find(|net| net.trunc() != **net) {
        Some(net) => Err(ConfigError::Invalid(format!(
            "{key}: {net} has host bits set; the network is {}",
            net.trunc()
        ))),
        None => Ok(()),
    }
}

fn validate_public_url(url: &str) -> Result<(), ConfigError> {
    let invalid = |why: String| ConfigError::Invalid(format!("server.public_url: {why}"));
    crate::domain::parse_url("public_url", url).map_err(|e| invalid(e.reason))?;
    let chars_ok = url
        .bytes()
        .all(|b| b.is_ascii_graphic() && !b"\"'<>\\`{}|^".contains(&b));
    if !chars_ok || !url.ends_with('/') || url.len() > 256 {
        return Err(invalid(
            "must be an http(s) URL ending in '/', like https://prov.example.com:8443/".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
