//! Server certificates and TLS configuration.
//!
//! `certs/server.crt` and `certs/server.key` are used when present; when neither exists a
//! self-signed pair is generated so that `make run` works on a fresh machine. A second and a
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
use std::sync::Arc;

use rustls::ServerConfig;
use rustls::crypto::ring as provider;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

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

pub struct CertPaths {
    pub cert: PathBuf,
    pub key: PathBuf,
    /// True when this call generated the pair.
    pub generated: bool,
    /// `server-ecdsa` and `server-rsa` pairs found beside the main one.
    pub extra: Vec<(PathBuf, PathBuf)>,
}

/// The certificate pair in `dir`, generated (self-signed) when none exists.
pub fn ensure_certificate(dir: &Path) -> Result<CertPaths, TlsError> {
    let cert = dir.join(CERT_FILE);
    let key = dir.join(KEY_FILE);
    let extra = extra_pairs(dir)?;
    match (cert.exists(), key.exists()) {
        (true, true) => {
            return Ok(CertPaths {
                cert,
                key,
                generated: false,
                extra,
            });
        }
        (false, false) => {}
        _ => {
            return Err(TlsError::HalfPair {
                dir: dir.to_path_buf(),
            });
        }
    }
    std::fs::create_dir_all(dir).map_err(|source| TlsError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let (cert_pem, key_pem) = self_signed()?;
    write_file(&key, key_pem.as_bytes(), 0o600)?;
    write_file(&cert, cert_pem.as_bytes(), 0o644)?;
    Ok(CertPaths {
        cert,
        key,
        generated: true,
        extra,
    })
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

fn self_signed() -> Result<(String, String), TlsError> {
    let mut names = vec![
        "localhost".to_string(),
        "127.0.0.1".to_string(),
        "::1".to_string(),
    ];
    if let Ok(host) = std::fs::read_to_string("/proc/sys/kernel/hostname") {
        let host = host.trim();
        if !host.is_empty() && host != "localhost" {
            names.push(host.to_string());
        }
    }
    let mut params =
        rcgen::CertificateParams::new(names).map_err(|e| TlsError::Config(e.to_string()))?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "deskprov self-signed");
    params.not_before = time::OffsetDateTime::now_utc() - time::Duration::days(1);
    params.not_after = time::OffsetDateTime::now_utc() + time::Duration::days(825);
    let key = rcgen::KeyPair::generate().map_err(|e| TlsError::Config(e.to_string()))?;
    let cert = params
        .self_signed(&key)
        .map_err(|e| TlsError::Config(e.to_string()))?;
    Ok((cert.pem(), key.serialize_pem()))
}

fn write_file(path: &Path, contents: &[u8], mode: u32) -> Result<(), TlsError> {
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

/// The TLS configurations of the two listeners.
pub struct ServerConfigs {
    pub phone: Arc<ServerConfig>,
    pub admin: Arc<ServerConfig>,
}

pub fn server_configs(
    paths: &CertPaths,
    vendor_cas: Option<&crate::client_cert::CertificateCheck>,
) -> Result<ServerConfigs, TlsError> {
    let resolver = Arc::new(ByClientSupport::load(paths)?);
    let build = |verifier: Option<Arc<dyn rustls::server::danger::ClientCertVerifier>>| {
        let builder = ServerConfig::builder_with_provider(Arc::new(mozilla_provider()))
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(|e| TlsError::Config(e.to_string()))?;
        let builder = match verifier {
            Some(v) => builder.with_client_cert_verifier(v),
            None => builder.with_no_client_auth(),
        };
        let mut config = builder.with_cert_resolver(resolver.clone());
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
/// adding a suite does not widen what we offer unnoticed.
fn mozilla_provider() -> rustls::crypto::CryptoProvider {
    let mut provider = provider::default_provider();
    provider
        .cipher_suites
        .retain(|s| MOZILLA_INTERMEDIATE_SUITES.contains(&s.suite()));
    provider
}

/// Picks, for each handshake, the first certificate whose key can sign with a scheme the
/// client offers: ECDSA before RSA.
#[derive(Debug)]
struct ByClientSupport {
    keys: Vec<Arc<CertifiedKey>>,
}

impl ByClientSupport {
    fn load(paths: &CertPaths) -> Result<ByClientSupport, TlsError> {
        let pairs = std::iter::once((&paths.cert, &paths.key))
            .chain(paths.extra.iter().map(|(c, k)| (c, k)));
        let mut keys = Vec::new();
        for (cert, key) in pairs {
            keys.push(Arc::new(certified_key(cert, key)?));
        }
        keys.sort_by_key(|k| k.key.algorithm() == rustls::SignatureAlgorithm::RSA);
        Ok(ByClientSupport { keys })
    }
}

impl ResolvesServerCert for ByClientSupport {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let offered = hello.signature_schemes();
        self.keys
            .iter()
            .find(|k| k.key.choose_scheme(offered).is_some())
            .or(self.keys.first())
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
