//! Reaching PostgreSQL: the URL with its password kept apart, the pool, TLS by rustls, and the
//! bounded wait for a database that is not up yet.

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio_postgres::config::{Host, SslMode};
use tokio_postgres_rustls::MakeRustlsConnect;
use tracing::warn;

use crate::store::{Result, StoreError};

/// Connections per node: the phone path reads through the caches, so few are busy at once.
const POOL_SIZE: usize = 16;
/// How long a statement waits for a free connection or a new one.
const POOL_WAIT: Duration = Duration::from_secs(5);
/// A node started while the database is down tries this long before it gives up.
const START_WAIT: Duration = Duration::from_secs(60);

/// Where the database is: a `postgres://` URL, its password (from the URL or a file) never
/// shown, and the CA that signs the database's certificate when TLS is asked for.
#[derive(Clone)]
pub struct DatabaseUrl {
    config: tokio_postgres::Config,
    ca_file: Option<PathBuf>,
}

impl DatabaseUrl {
    /// Parses the URL; a password in `password_file` (its first line) replaces one in the URL.
    pub fn parse(
        url: &str,
        password_file: Option<&std::path::Path>,
        ca_file: Option<PathBuf>,
    ) -> std::result::Result<DatabaseUrl, String> {
        if !url.starts_with("postgres://") && !url.starts_with("postgresql://") {
            return Err("the database URL must start with postgres://".into());
        }
        // tokio-postgres's own message may quote the URL, password and all.
        let mut config = tokio_postgres::Config::from_str(&with_libpq_verify_modes(url))
            .map_err(|_| "the database URL is not a valid postgres:// URL".to_string())?;
        if config.get_hosts().is_empty() {
            return Err("the database URL names no host".into());
        }
        if let Some(path) = password_file {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("database password file {}: {e}", path.display()))?;
            config.password(text.lines().next().unwrap_or_default());
        }
        config.application_name("deskprov");
        config.connect_timeout(Duration::from_secs(5));
        Ok(DatabaseUrl { config, ca_file })
    }

    /// The URL without its password, for the log.
    pub fn shown(&self) -> String {
        let host = match self.config.get_hosts().first() {
            Some(Host::Tcp(name)) => name.clone(),
            Some(Host::Unix(path)) => path.display().to_string(),
            None => String::new(),
        };
        let port = self.config.get_ports().first().copied().unwrap_or(5432);
        format!(
            "postgres://{}@{host}:{port}/{}",
            self.config.get_user().unwrap_or_default(),
            self.config.get_dbname().unwrap_or_default()
        )
    }

    pub(super) fn config(&self) -> &tokio_postgres::Config {
        &self.config
    }

    pub(super) fn tls(&self) -> Result<MakeRustlsConnect> {
        let mut roots = rustls::RootCertStore::empty();
        match &self.ca_file {
            Some(path) => {
                use rustls_pki_types::CertificateDer;
                use rustls_pki_types::pem::PemObject;
                let certs = CertificateDer::pem_file_iter(path).map_err(|e| {
                    StoreError::Database(format!("database CA file {}: {e}", path.display()))
                })?;
                for cert in certs {
                    let cert = cert.map_err(|e| {
                        StoreError::Database(format!("database CA file {}: {e}", path.display()))
                    })?;
                    roots.add(cert).map_err(|e| {
                        StoreError::Database(format!("database CA file {}: {e}", path.display()))
                    })?;
                }
            }
            None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
        }
        let config = rustls::ClientConfig::builder_with_provider(
            rustls::crypto::ring::default_provider().into(),
        )
        .with_safe_default_protocol_versions()
        .map_err(|e| StoreError::Database(format!("TLS to the database: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
        Ok(MakeRustlsConnect::new(config))
    }

    pub fn requires_tls(&self) -> bool {
        self.config.get_ssl_mode() == SslMode::Require
    }
}

/// libpq's `sslmode=verify-ca` and `verify-full`, which admins copy from other tools, as the
/// driver's `require`: rustls always checks the chain and the host name, so `require` here is
/// `verify-full` there.
fn with_libpq_verify_modes(url: &str) -> std::borrow::Cow<'_, str> {
    let Some((base, query)) = url.split_once('?') else {
        return url.into();
    };
    let query: Vec<&str> = query
        .split('&')
        .map(|pair| match pair {
            "sslmode=verify-ca" | "sslmode=verify-full" => "sslmode=require",
            other => other,
        })
        .collect();
    format!("{base}?{}", query.join("&")).into()
}

pub(super) fn pool(url: &DatabaseUrl) -> Result<Pool> {
    let manager = Manager::from_config(
        url.config().clone(),
        url.tls()?,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Pool::builder(manager)
        .max_size(POOL_SIZE)
        .runtime(Runtime::Tokio1)
        .wait_timeout(Some(POOL_WAIT))
        .create_timeout(Some(POOL_WAIT))
        .recycle_timeout(Some(POOL_WAIT))
        .build()
        .map_err(|e| StoreError::Database(format!("database pool: {e}")))
}

/// Waits for the database, trying again with a growing pause, for at most [`START_WAIT`].
pub(super) async fn wait_until_reachable(pool: &Pool, url: &DatabaseUrl) -> Result<()> {
    let started = tokio::time::Instant::now();
    let mut pause = Duration::from_millis(200);
    loop {
        let error = match pool.get().await {
            Ok(client) => match client.simple_query("SELECT 1").await {
                Ok(_) => return Ok(()),
                Err(e) => unavailable_or(e),
            },
            Err(e) => pool_error(e),
        };
        // Only a database that is not there yet is worth waiting for; a refusal stays one.
        if !matches!(error, StoreError::Unavailable(_)) {
            return Err(error);
        }
        if started.elapsed() + pause > START_WAIT {
            return Err(error);
        }
        warn!(database = %url.shown(), error = %error, retry_in_ms = pause.as_millis() as u64, "the database does not answer yet");
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(5));
    }
}

/// A database that cannot be reached is unavailable (callers answer 503 and try again); any
/// other failure is an error of its own.
pub(super) fn unavailable_or(e: tokio_postgres::Error) -> StoreError {
    // SQLSTATE classes 08 (connection), 53 (resources) and 57 (a shutting-down server).
    let transient = match e.as_db_error() {
        Some(db) => ["08", "53", "57"]
            .iter()
            .any(|class| db.code().code().starts_with(class)),
        None => true,
    };
    if tls_misconfigured(&e) {
        return StoreError::Database(format!(
            "{}; [database] ca_file names the CA that signs the database's certificate, and \
             the URL's sslmode whether TLS is required",
            describe(&e)
        ));
    }
    if transient || e.is_closed() {
        return StoreError::Unavailable(describe(&e));
    }
    StoreError::Database(describe(&e))
}

/// A TLS failure that trying again cannot mend: a certificate that does not verify, or a
/// server without TLS where the URL requires it.
fn tls_misconfigured(e: &tokio_postgres::Error) -> bool {
    let mut source = std::error::Error::source(e);
    while let Some(inner) = source {
        let rustls_inside = inner.is::<rustls::Error>()
            || inner
                .downcast_ref::<std::io::Error>()
                .and_then(std::io::Error::get_ref)
                .is_some_and(|io| io.is::<rustls::Error>());
        if rustls_inside || inner.to_string() == "server does not support TLS" {
            return true;
        }
        source = inner.source();
    }
    false
}

fn describe(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{}: {}", db.severity(), db.message()),
        None => {
            let mut text = e.to_string();
            let mut source = std::error::Error::source(e);
            while let Some(inner) = source {
                text = format!("{text}: {inner}");
                source = inner.source();
            }
            text
        }
    }
}

pub(super) fn pool_error(e: deadpool_postgres::PoolError) -> StoreError {
    match e {
        deadpool_postgres::PoolError::Backend(e) => unavailable_or(e),
        other => StoreError::Unavailable(format!("database connection: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libpq_verify_modes_require_tls_and_other_parameters_stay() {
        for mode in ["verify-full", "verify-ca", "require"] {
            let url = format!("postgres://u@db.example.com/site?application_name=x&sslmode={mode}");
            let parsed = DatabaseUrl::parse(&url, None, None).unwrap();
            assert!(parsed.requires_tls(), "{mode}");
            assert_eq!(parsed.shown(), "postgres://u@db.example.com:5432/site");
        }
        let plain = DatabaseUrl::parse("postgres://u@db.example.com/site", None, None).unwrap();
        assert!(!plain.requires_tls());
    }

    #[test]
    fn a_bad_url_is_refused_without_quoting_it() {
        let error =
            DatabaseUrl::parse("postgres://u:hunter2@db/site?sslmode=sometimes", None, None)
                .err()
                .unwrap();
        assert!(!error.contains("hunter2"), "{error}");
        assert!(DatabaseUrl::parse("mysql://u@db/site", None, None).is_err());
    }
}
