//! Server certificates and TLS configuration.
//!
//! `certs/server.crt` and `certs/server.key` are used when present; when neither exists the
//! local CA issues a pair (local_ca.rs), so that `make run` works on a fresh machine. A second and a
//! third pair, `server-ecdsa.*` and `server-rsa.*`, may sit beside it: each handshake gets an
//! ECDSA certificate when the phone supports one and an RSA certificate otherwise, so old
//! RSA-only phones and current ones share one server.
//!
//! TLS 1.2 and 1.3 only, with the Mozilla "intermediate" suites rustls has (all but DHE):
//! AES-GCM and ChaCha20-Poly1305 with ECDHE. HTTP/1.1 only, which keeps hyper's header timeout
//! armed (see rust-stack.md §2.4). The phones' listener asks for client certificates when
//! vendor CAs are configured (client_cert.rs); the admin listener never does.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use rustls::ServerConfig;
use rustls::crypto::ring as provider;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::local_ca;

pub const CERT_FILE: &str = "server.crt";
pub const KEY_FILE: &str = "server.key";
/// Optional further pairs, by the base name of their `.crt` and `.key` files.
const EXTRA_PAIRS: [&str; 2] = ["server-ecdsa", "server-rsa"];

/// The Mozilla "intermediate" cipher suites (2025), without the DHE ones rustls does not have.
pub const MOZILLA_INTERMEDIATE_SUITES: [rustls::CipherSuite; 9] = {
    use rustls::CipherSuite::*;
    [
        TLS13_AES_128_GCM_SHA256,
        TLS13_AES_256_GCM_SHA384,
        TLS13_CHACHA20_POLY1305_SHA256,
        TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    ]
};

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Pem { path: PathBuf, message: String },
    #[error("{0}")]
    Config(String),
    #[error("{dir} holds only one of {CERT_FILE} and {KEY_FILE}; provide both or neither")]
    HalfPair { dir: PathBuf },
}

#[derive(Debug)]
pub struct CertPaths {
    pub dir: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
    /// True when this call issued the pair (none existed).
    pub generated: bool,
    /// True when this call issued a managed pair again because it was coming due.
    pub renewed: bool,
    /// `server-ecdsa` and `server-rsa` pairs found beside the main one.
    pub extra: Vec<(PathBuf, PathBuf)>,
}

/// The certificate pair in `dir`: issued by the local CA when none exists, issued again when
/// it is the local CA's and comes due (local_ca.rs).
pub fn ensure_certificate(dir: &Path, now: i64) -> Result<CertPaths, TlsError> {
    let cert = dir.join(CERT_FILE);
    let key = dir.join(KEY_FILE);
    let extra = extra_pairs(dir)?;
    let mut paths = CertPaths {
        dir: dir.to_path_buf(),
        cert,
        key,
        generated: false,
        renewed: false,
        extra,
    };
    match (paths.cert.exists(), paths.key.exists()) {
        (true, true) => {
            let facts = local_ca::inspect(dir, &paths.cert)?;
            if facts.origin.is_managed()
                && (facts.is_due(now) || certified_key(&paths.cert, &paths.key).is_err())
            {
                local_ca::issue_server_certificate(dir, now)?;
                paths.renewed = true;
            }
        }
        (false, false) => {
            std::fs::create_dir_all(dir).map_err(|source| TlsError::Io {
                path: dir.to_path_buf(),
                source,
            })?;
            local_ca::issue_server_certificate(dir, now)?;
            paths.generated = true;
        }
        _ => {
            return Err(TlsError::HalfPair {
                dir: dir.to_path_buf(),
            });
        }
    }
    Ok(paths)
}

fn extra_pairs(dir: &Path) -> Result<Vec<(PathBuf, PathBuf)>, TlsError> {
    let mut pairs = Vec::new();
    for base in EXTRA_PAIRS {
        let cert = dir.join(format!("{base}.crt"));
        let key = dir.join(format!("{base}.key"));
        match (cert.exists(), key.exists()) {
            (true, true) => pairs.push((cert, key)),
            (false, false) => {}
            _ => {
                return Err(TlsError::Config(format!(
                    "{} holds only one of {base}.crt and {base}.key; provide both or neither",
                    dir.display()
                )));
            }
        }
    }
    Ok(pairs)
}

pub(crate) fn write_file(path: &Path, contents: &[u8], mode: u32) -> Result<(), TlsError> {
    let io = |source| TlsError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .map_err(io)?;
    file.write_all(contents).map_err(io)?;
    file.sync_all().map_err(io)
}

pub fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem_error = |message: String| TlsError::Pem {
        path: path.to_path_buf(),
        message,
    };
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| pem_error(e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pem_error(e.to_string()))?;
    if certs.is_empty() {
        return Err(pem_error("no certificate found".into()));
    }
    Ok(certs)
}

/// One certificate in the canonical PEM form: 64 base64 characters a line.
pub fn certificate_pem(der: &[u8]) -> String {
    use base64::Engine;
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let mut pem = String::from("-----BEGIN CERTIFICATE-----\n");
    for chunk in body.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(chunk).expect("base64 is ASCII"));
        pem.push('\n');
    }
    pem.push_str("-----END CERTIFICATE-----\n");
    pem
}

/// The certificates in PEM text (a file served by the phone listener, say).
pub fn load_certs_from_pem(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem_error = |message: String| TlsError::Pem {
        path: PathBuf::from("-"),
        message,
    };
    CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pem_error(e.to_string()))
}

/// The TLS configurations of the two listeners.
pub struct ServerConfigs {
    pub phone: Arc<ServerConfig>,
    pub admin: Arc<ServerConfig>,
}

pub fn server_configs(
    certificates: Arc<ServerCertificates>,
    vendor_cas: Option<&crate::client_cert::CertificateCheck>,
) -> Result<ServerConfigs, TlsError> {
    let build = |verifier: Option<Arc<dyn rustls::server::danger::ClientCertVerifier>>| {
        let builder = ServerConfig::builder_with_provider(Arc::new(mozilla_provider()))
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(|e| TlsError::Config(e.to_string()))?;
        let builder = match verifier {
            Some(v) => builder.with_client_cert_verifier(v),
            None => builder.with_no_client_auth(),
        };
        let mut config = builder.with_cert_resolver(certificates.clone());
        // Old phones offer only http/1.0; refusing it would fail their handshake.
        config.alpn_protocols = vec![b"http/1.1".to_vec(), b"http/1.0".to_vec()];
        Ok::<_, TlsError>(Arc::new(config))
    };
    Ok(ServerConfigs {
        phone: build(vendor_cas.map(|c| c.handshake_verifier()))?,
        admin: build(None)?,
    })
}

/// ring's provider restricted to [`MOZILLA_INTERMEDIATE_SUITES`], so that a future rustls
/// adding a suite does not widen what we offer unnoticed. Of these, a phone gets the one it
/// lists first (rustls's default, as in Mozilla's configuration): a phone without AES
/// instructions lists ChaCha20 first.
fn mozilla_provider() -> rustls::crypto::CryptoProvider {
    let mut provider = provider::default_provider();
    provider
        .cipher_suites
        .retain(|s| MOZILLA_INTERMEDIATE_SUITES.contains(&s.suite()));
    provider
}

/// The server's certificates, shared by both listeners: for each handshake the first whose key
/// can sign with a scheme the client offers, ECDSA before RSA. Swapped whole when the local CA
/// issues the main certificate again, while handshakes go on.
#[derive(Debug)]
pub struct ServerCertificates {
    paths: CertPaths,
    keys: RwLock<Vec<Arc<CertifiedKey>>>,
    /// The main certificate first, then the extra pairs.
    facts: RwLock<Vec<local_ca::CertificateFacts>>,
    /// The local CA, when it issued the main certificate: the site CA phones are told to trust.
    local_ca_pem: RwLock<Option<Arc<str>>>,
    /// When a supplied certificate coming due was last warned about.
    warned_at: Mutex<Option<i64>>,
    /// Held while a certificate is issued: the housekeeping task and a caller racing it must
    /// not write the same files at once.
    renewing: Mutex<()>,
}

/// A supplied certificate coming due is warned about at start and then once a day.
const WARN_EVERY_SECS: i64 = 24 * 3600;

impl ServerCertificates {
    pub fn load(paths: CertPaths) -> Result<ServerCertificates, TlsError> {
        let certificates = ServerCertificates {
            keys: RwLock::new(Vec::new()),
            facts: RwLock::new(Vec::new()),
            local_ca_pem: RwLock::new(None),
            warned_at: Mutex::new(None),
            renewing: Mutex::new(()),
            paths,
        };
        certificates.reload()?;
        Ok(certificates)
    }

    fn reload(&self) -> Result<(), TlsError> {
        let paths = &self.paths;
        let pairs = std::iter::once((&paths.cert, &paths.key))
            .chain(paths.extra.iter().map(|(c, k)| (c, k)));
        let mut keys = Vec::new();
        let mut facts = Vec::new();
        for (cert, key) in pairs {
            keys.push(Arc::new(certified_key(cert, key)?));
            facts.push(local_ca::inspect(&paths.dir, cert)?);
        }
        keys.sort_by_key(|k| k.key.algorithm() == rustls::SignatureAlgorithm::RSA);
        let local_ca_pem = (facts[0].origin == local_ca::Origin::LocalCa)
            .then(|| local_ca::ca_pem(&paths.dir))
            .flatten()
            .map(Arc::from);
        *write(&self.keys) = keys;
        *write(&self.facts) = facts;
        *write(&self.local_ca_pem) = local_ca_pem;
        Ok(())
    }

    /// The main certificate first, then the extra pairs.
    pub fn facts(&self) -> Vec<local_ca::CertificateFacts> {
        read(&self.facts).clone()
    }

    /// The local CA's certificate when it issued the server's: phones are told to trust it.
    /// The issuer (DER) of the main certificate: what phones that check it trust.
    pub fn main_issuer(&self) -> Option<Vec<u8>> {
        let keys = read(&self.keys);
        let cert = keys.first()?.cert.first()?;
        let (_, parsed) = x509_parser::parse_x509_certificate(cert.as_ref()).ok()?;
        Some(parsed.tbs_certificate.issuer.as_raw().to_vec())
    }

    pub fn local_ca_pem(&self) -> Option<Arc<str>> {
        read(&self.local_ca_pem).clone()
    }

    /// Issues the main certificate again when deskprov manages it and it comes due, and warns
    /// (at most once a day) about supplied ones coming due. Called at start and by the
    /// housekeeping task; returns whether it issued one.
    pub fn renew_if_due(&self, now: i64) -> Result<bool, TlsError> {
        let _renewing = self.renewing.lock().unwrap_or_else(|e| e.into_inner());
        let main = read(&self.facts)[0].clone();
        let renewed = main.origin.is_managed() && main.is_due(now);
        if renewed {
            local_ca::issue_server_certificate(&self.paths.dir, now)?;
            self.reload()?;
            tracing::info!(path = %main.path.display(), days = local_ca::SERVER_DAYS, "the local CA issued a new server certificate");
        }
        self.warn_about_supplied(now);
        Ok(renewed)
    }

    fn warn_about_supplied(&self, now: i64) {
        let mut warned_at = self.warned_at.lock().unwrap_or_else(|e| e.into_inner());
        if warned_at.is_some_and(|at| now - at < WARN_EVERY_SECS) {
            return;
        }
        let due: Vec<_> = self
            .facts()
            .into_iter()
            .filter(|f| !f.origin.is_managed() && f.is_due(now))
            .collect();
        for facts in &due {
            tracing::warn!(path = %facts.path.display(), subject = facts.subject, days_left = facts.days_left(now), "the server certificate expires soon; replace it (deskprov does not renew a certificate it did not issue)");
        }
        if !due.is_empty() {
            *warned_at = Some(now);
        }
    }
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|e| e.into_inner())
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(|e| e.into_inner())
}

impl ResolvesServerCert for ServerCertificates {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let offered = hello.signature_schemes();
        let keys = read(&self.keys);
        keys.iter()
            .find(|k| k.key.choose_scheme(offered).is_some())
            .or(keys.first())
            .cloned()
    }
}

fn certified_key(cert_path: &Path, key_path: &Path) -> Result<CertifiedKey, TlsError> {
    let certs = load_certs(cert_path)?;
    let key = PrivateKeyDer::from_pem_file(key_path).map_err(|e| TlsError::Pem {
        path: key_path.to_path_buf(),
        message: e.to_string(),
    })?;
    CertifiedKey::from_der(certs, key, &provider::default_provider())
        .map_err(|e| TlsError::Config(format!("{}: {e}", cert_path.display())))
}

/// A client configuration trusting exactly `roots` (the CLI pins the server's certificate).
pub fn client_config(
    roots: &[CertificateDer<'static>],
) -> Result<Arc<rustls::ClientConfig>, TlsError> {
    Ok(Arc::new(client_builder(roots)?.with_no_client_auth()))
}

/// [`client_config`] presenting a client certificate.
pub fn client_config_with_identity(
    roots: &[CertificateDer<'static>],
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<Arc<rustls::ClientConfig>, TlsError> {
    let config = client_builder(roots)?
        .with_client_auth_cert(chain, key)
        .map_err(|e| TlsError::Config(e.to_string()))?;
    Ok(Arc::new(config))
}

fn client_builder(
    roots: &[CertificateDer<'static>],
) -> Result<rustls::ConfigBuilder<rustls::ClientConfig, rustls::client::WantsClientCert>, TlsError>
{
    let mut store = rustls::RootCertStore::empty();
    for cert in roots {
        store
            .add(cert.clone())
            .map_err(|e| TlsError::Config(e.to_string()))?;
    }
    Ok(
        rustls::ClientConfig::builder_with_provider(Arc::new(provider::default_provider()))
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(|e| TlsError::Config(e.to_string()))?
            .with_root_certificates(store),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_mozilla_intermediate_suites_are_offered() {
        let offered: Vec<_> = mozilla_provider()
            .cipher_suites
            .iter()
            .map(|s| s.suite())
            .collect();
        assert_eq!(offered.len(), MOZILLA_INTERMEDIATE_SUITES.len());
        for suite in offered {
            assert!(MOZILLA_INTERMEDIATE_SUITES.contains(&suite), "{suite:?}");
        }
    }
}
