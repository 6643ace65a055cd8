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
    pub limits: Limits,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// sled database and the admin token file.
    pub data_dir: PathBuf,
    /// server.crt and server.key; a self-signed pair is generated here when none exists.
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
            log: "info".into(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProvisioningConfig {
    /// After an admin registers a device (or resets its claim), its first request within this
    /// window gets its config without credentials, and the config hands it its credentials.
    pub claim_window_secs: u64,
    /// After that first fetch, the same address may fetch its other files without credentials
    /// for this long, while the phone is still applying what it got.
    pub claim_grace_secs: u64,
    /// How many seen-but-unregistered MACs are remembered; the longest unseen are dropped.
    pub max_unregistered: usize,
}

impl Default for ProvisioningConfig {
    fn default() -> Self {
        ProvisioningConfig {
            claim_window_secs: 3600,
            claim_grace_secs: 300,
            max_unregistered: 1000,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    pub max_phone_connections: usize,
    pub max_admin_connections: usize,
    pub tls_handshake_timeout_secs: u64,
    /// Time to send a request head, and the idle time allowed between keep-alive requests.
    pub header_read_timeout_secs: u64,
    /// A connection older than this is closed after its current request.
    pub max_connection_age_secs: u64,
    pub max_admin_body_bytes: usize,
    /// Largest file a phone may upload (Poly logs and override files).
    pub max_upload_bytes: usize,
    /// All uploads of one device together; the oldest files go first.
    pub max_uploads_per_device_bytes: usize,
    pub body_read_timeout_secs: u64,
    /// How long shutdown waits for open requests before closing them.
    pub shutdown_grace_secs: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_phone_connections: 4096,
            max_admin_connections: 64,
            tls_handshake_timeout_secs: 10,
            header_read_timeout_secs: 10,
            max_connection_age_secs: 300,
            max_admin_body_bytes: 64 * 1024,
            max_upload_bytes: 512 * 1024,
            max_uploads_per_device_bytes: 2 * 1024 * 1024,
            body_read_timeout_secs: 10,
            shutdown_grace_secs: 10,
        }
    }
}

impl Limits {
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
        if self.limits.header_read_timeout_secs == 0 || self.limits.tls_handshake_timeout_secs == 0
        {
            return Err(ConfigError::Invalid(
                "limits: timeouts must be at least 1 second".into(),
            ));
        }
        Ok(())
    }

    pub fn db_dir(&self) -> PathBuf {
        self.server.data_dir.join("db")
    }

    pub fn token_file(&self) -> PathBuf {
        self.server.data_dir.join("admin.token")
    }
}

/// The public URL goes into configs verbatim, so it must be a plain http(s) URL ending in '/'.
fn validate_public_url(url: &str) -> Result<(), ConfigError> {
    let scheme_ok = url.starts_with("https://") || url.starts_with("http://");
    let chars_ok = url
        .bytes()
        .all(|b| b.is_ascii_graphic() && !b"\"'<>\\`{}|^".contains(&b));
    if !scheme_ok || !chars_ok || !url.ends_with('/') || url.len() > 256 {
        return Err(ConfigError::Invalid(format!(
            "server.public_url {url:?}: must be an http(s) URL ending in '/', like https://prov.example.com:8443/"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_overrides_defaults_and_typos_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("deskprov.toml");
        std::fs::write(
            &path,
            "[server]\nphone_listen = \"127.0.0.1:9443\"\n[provisioning]\nclaim_window_secs = 60\n",
        )
        .unwrap();
        let c = Config::from_file(&path).unwrap();
        assert_eq!(c.server.phone_listen.port(), 9443);
        assert_eq!(c.server.admin_listen.port(), 8444);
        assert_eq!(c.provisioning.claim_window_secs, 60);

        std::fs::write(&path, "[server]\nphone_lisen = \"127.0.0.1:9443\"\n").unwrap();
        assert!(
            Config::from_file(&path)
                .unwrap_err()
                .to_string()
                .contains("phone_lisen")
        );

        std::fs::write(&path, "[server]\npublic_url = \"https://x/\nfoo\"\n").unwrap();
        assert!(Config::from_file(&path).is_err());
    }
}
