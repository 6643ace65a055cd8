//! The server certificate deskprov makes when the admin supplies none.
//!
//! A local CA is created once in the certificates directory (`local-ca.crt`, and `local-ca.key`
//! with mode 0600), valid for twenty years. It issues the server certificate (`server.crt`,
//! followed by the CA so clients get the chain, and `server.key`) for 397 days: the CA/Browser
//! Forum's limit is 398, and testssl flags anything longer. The server certificate is issued
//! again 30 days before it ends, at start and from the housekeeping task, without a restart.
//! Phones that were told to trust the local CA (the site CA install serves it as
//! `/site-ca.pem` while no `ca_certificate` is set) keep trusting every renewed certificate.
//!
//! A pair deskprov did not issue is the admin's: it is never replaced, only warned about from
//! 30 days before it expires. The self-signed certificate earlier releases generated is replaced
//! by one from the local CA when it comes due, like a certificate of the local CA.

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls_pki_types::CertificateDer;
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::tls::{self, CERT_FILE, KEY_FILE, TlsError};

pub const CA_CERT_FILE: &str = "local-ca.crt";
pub const CA_KEY_FILE: &str = "local-ca.key";

const DAY: i64 = 24 * 3600;
/// How long the server certificates the local CA issues are valid.
pub const SERVER_DAYS: i64 = 397;
const CA_DAYS: i64 = 20 * 365;
/// A managed certificate is issued again, and a supplied one warned about, this close to its end.
pub const RENEW_BEFORE_DAYS: i64 = 30;
/// Issued certificates start a day early, so a phone whose clock lags still accepts them.
const BACKDATE_SECS: i64 = DAY;
/// The common name of the self-signed certificate earlier releases generated.
const LEGACY_SELF_SIGNED_CN: &str = "deskprov self-signed";
const CA_COMMON_NAME: &str = "deskprov local CA";

/// Who made a server certificate, and so who renews it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Issued by the local CA: renewed by deskprov.
    LocalCa,
    /// Generated self-signed by an earlier release: replaced by a local CA certificate when due.
    LegacySelfSigned,
    /// The admin's: warned about, never touched.
    Supplied,
}

impl Origin {
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::LocalCa => "local_ca",
            Origin::LegacySelfSigned => "self_signed",
            Origin::Supplied => "supplied",
        }
    }

    pub fn is_managed(self) -> bool {
        self != Origin::Supplied
    }
}

/// What start-up and the status answer need to know of a certificate file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateFacts {
    pub path: PathBuf,
    pub origin: Origin,
    pub subject: String,
    pub not_after: i64,
}

impl CertificateFacts {
    /// Whether a managed certificate should be issued again, or a supplied one warned about.
    pub fn is_due(&self, now: i64) -> bool {
        self.not_after - now < RENEW_BEFORE_DAYS * DAY
    }

    /// Days until it expires, negative once it has.
    pub fn days_left(&self, now: i64) -> i64 {
        (self.not_after - now).div_euclid(DAY)
    }
}

/// Reads the first certificate of `cert_path` and tells who made it.
pub fn inspect(certs_dir: &Path, cert_path: &Path) -> Result<CertificateFacts, TlsError> {
    let chain = tls::load_certs(cert_path)?;
    let leaf = parse(cert_path, &chain[0])?;
    let ca = match std::fs::read(certs_dir.join(CA_CERT_FILE)) {
        Ok(_) => Some(tls::load_certs(&certs_dir.join(CA_CERT_FILE))?),
        Err(_) => None,
    };
    let issued_by_local_ca = ca.as_ref().is_some_and(|ca| {
        parse(cert_path, &ca[0])
            .is_ok_and(|ca| ca.tbs_certificate.subject.as_raw() == leaf.issuer().as_raw())
    });
    let subject = common_name(&leaf).unwrap_or_else(|| leaf.subject().to_string());
    let self_signed = leaf.subject().as_raw() == leaf.issuer().as_raw();
    let origin = if issued_by_local_ca && cert_path.file_name() == Some(CERT_FILE.as_ref()) {
        Origin::LocalCa
    } else if self_signed
        && subject == LEGACY_SELF_SIGNED_CN
        && cert_path.file_name() == Some(CERT_FILE.as_ref())
    {
        Origin::LegacySelfSigned
    } else {
        Origin::Supplied
    };
    Ok(CertificateFacts {
        path: cert_path.to_path_buf(),
        origin,
        subject,
        not_after: leaf.validity().not_after.timestamp(),
    })
}

fn parse<'a>(path: &Path, der: &'a CertificateDer<'_>) -> Result<X509Certificate<'a>, TlsError> {
    X509Certificate::from_der(der)
        .map(|(_, cert)| cert)
        .map_err(|e| TlsError::Pem {
            path: path.to_path_buf(),
            message: format!("not an X.509 certificate: {e}"),
        })
}

fn common_name(cert: &X509Certificate<'_>) -> Option<String> {
    cert.subject()
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .map(str::to_string)
}

/// Issues a new server certificate from the local CA (created first if there is none) and
/// puts it in place of `server.crt` and `server.key`: both are written beside their final
/// names and renamed, the key first, so a crash leaves either pair whole or a pair whose key
/// does not match, which the next start issues again.
pub fn issue_server_certificate(certs_dir: &Path, now: i64) -> Result<(), TlsError> {
    let issuer = local_ca(certs_dir, now)?;
    let mut params = CertificateParams::new(server_names()).map_err(config_error)?;
    params
        .distinguished_name
        .push(DnType::CommonName, "deskprov server");
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.use_authority_key_identifier_extension = true;
    params.not_before = at(now - BACKDATE_SECS)?;
    params.not_after = at(now - BACKDATE_SECS + SERVER_DAYS * DAY)?;
    let key = KeyPair::generate().map_err(config_error)?;
    let cert = params
        .signed_by(&key, &issuer.issuer)
        .map_err(config_error)?;
    let chain = format!("{}{}", cert.pem(), issuer.pem);
    replace_file(
        &certs_dir.join(KEY_FILE),
        key.serialize_pem().as_bytes(),
        0o600,
    )?;
    replace_file(&certs_dir.join(CERT_FILE), chain.as_bytes(), 0o644)
}

/// The local CA's certificate in PEM, if the directory has one.
/// Only the certificate itself, in the canonical form the `ca_certificate` setting has.
pub fn ca_pem(certs_dir: &Path) -> Option<String> {
    let der = tls::load_certs(&certs_dir.join(CA_CERT_FILE)).ok()?;
    Some(tls::certificate_pem(&der[0]))
}

struct LocalCa {
    issuer: Issuer<'static, KeyPair>,
    pem: String,
}

/// The local CA of `certs_dir`, created on first use.
fn local_ca(certs_dir: &Path, now: i64) -> Result<LocalCa, TlsError> {
    let cert_path = certs_dir.join(CA_CERT_FILE);
    let key_path = certs_dir.join(CA_KEY_FILE);
    match (cert_path.exists(), key_path.exists()) {
        (true, true) => {
            let read = |path: &Path| {
                std::fs::read_to_string(path).map_err(|source| TlsError::Io {
                    path: path.to_path_buf(),
                    source,
                })
            };
            let pem = read(&cert_path)?;
            let key = KeyPair::from_pem(&read(&key_path)?).map_err(|e| TlsError::Pem {
                path: key_path.clone(),
                message: e.to_string(),
            })?;
            let issuer = Issuer::from_ca_cert_pem(&pem, key).map_err(|e| TlsError::Pem {
                path: cert_path.clone(),
                message: e.to_string(),
            })?;
            Ok(LocalCa { issuer, pem })
        }
        (false, false) => create_local_ca(certs_dir, now),
        _ => Err(TlsError::Config(format!(
            "{} holds only one of {CA_CERT_FILE} and {CA_KEY_FILE}; provide both or neither",
            certs_dir.display()
        ))),
    }
}

fn create_local_ca(certs_dir: &Path, now: i64) -> Result<LocalCa, TlsError> {
    let mut params = CertificateParams::new(Vec::<String>::new()).map_err(config_error)?;
    let name = match hostname() {
        Some(host) => format!("{CA_COMMON_NAME} ({host})"),
        None => CA_COMMON_NAME.to_string(),
    };
    params.distinguished_name.push(DnType::CommonName, name);
    params
        .distinguished_name
        .push(DnType::OrganizationName, "deskprov");
    // It signs server certificates only: no intermediate CA below it.
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.not_before = at(now - BACKDATE_SECS)?;
    params.not_after = at(now + CA_DAYS * DAY)?;
    let key = KeyPair::generate().map_err(config_error)?;
    let cert = params.self_signed(&key).map_err(config_error)?;
    std::fs::create_dir_all(certs_dir).map_err(|source| TlsError::Io {
        path: certs_dir.to_path_buf(),
        source,
    })?;
    replace_file(
        &certs_dir.join(CA_KEY_FILE),
        key.serialize_pem().as_bytes(),
        0o600,
    )?;
    replace_file(&certs_dir.join(CA_CERT_FILE), cert.pem().as_bytes(), 0o644)?;
    tracing::info!(path = %certs_dir.join(CA_CERT_FILE).display(), "created the local CA that issues the server certificate");
    Ok(LocalCa {
        pem: cert.pem(),
        issuer: Issuer::new(params, key),
    })
}

fn server_names() -> Vec<String> {
    let mut names = vec![
        "localhost".to_string(),
        "127.0.0.1".to_string(),
        "::1".to_string(),
    ];
    names.extend(hostname());
    names
}

fn hostname() -> Option<String> {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").ok()?;
    let host = host.trim();
    (!host.is_empty() && host != "localhost").then(|| host.to_string())
}

fn at(unix: i64) -> Result<time::OffsetDateTime, TlsError> {
    time::OffsetDateTime::from_unix_timestamp(unix).map_err(|e| TlsError::Config(e.to_string()))
}

fn config_error(e: rcgen::Error) -> TlsError {
    TlsError::Config(e.to_string())
}

/// Writes `contents` beside `path`, syncs it and renames it over `path`.
fn replace_file(path: &Path, contents: &[u8], mode: u32) -> Result<(), TlsError> {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".new");
    let staged = path.with_file_name(name);
    let _ = std::fs::remove_file(&staged);
    tls::write_file(&staged, contents, mode)?;
    std::fs::rename(&staged, path).map_err(|source| TlsError::Io {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_780_000_000;

    #[test]
    fn the_local_ca_issues_a_short_lived_server_certificate_and_renews_it_when_due() {
        let dir = tempfile::tempdir().unwrap();
        issue_server_certificate(dir.path(), NOW).unwrap();
        let server = dir.path().join(CERT_FILE);
        let facts = inspect(dir.path(), &server).unwrap();
        assert_eq!(facts.origin, Origin::LocalCa);
        assert!(facts.not_after - (NOW - BACKDATE_SECS) <= 398 * DAY);
        assert!(!facts.is_due(NOW));
        assert!(facts.is_due(facts.not_after - RENEW_BEFORE_DAYS * DAY + 1));
        let ca_before = std::fs::read(dir.path().join(CA_CERT_FILE)).unwrap();
        issue_server_certificate(dir.path(), NOW + 370 * DAY).unwrap();
        let renewed = inspect(dir.path(), &server).unwrap();
        assert_eq!(renewed.origin, Origin::LocalCa);
        assert!(renewed.not_after > facts.not_after);
        assert_eq!(
            std::fs::read(dir.path().join(CA_CERT_FILE)).unwrap(),
            ca_before,
            "the CA is created once"
        );
    }

    #[test]
    fn a_certificate_the_local_ca_did_not_issue_is_the_admins() {
        let dir = tempfile::tempdir().unwrap();
        issue_server_certificate(dir.path(), NOW).unwrap();
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(vec!["prov.example.com".into()]).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, "prov.example.com");
        let other = dir.path().join("server-rsa.crt");
        std::fs::write(&other, params.self_signed(&key).unwrap().pem()).unwrap();
        assert_eq!(
            inspect(dir.path(), &other).unwrap().origin,
            Origin::Supplied
        );
    }
}
