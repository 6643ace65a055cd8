//! Phones' factory client certificates: which MAC a certificate proves.
//!
//! Cisco MPP and Poly phones carry a certificate unique to the device, signed by the vendor's
//! CA. Given those CAs (certs/vendor-ca/), deskprov asks phones for a certificate during the
//! TLS handshake, checks the chain after it, and takes the MAC from the certificate:
//! Cisco MPP puts it in the subject's `S` (stateOrProvinceName) as in
//! `OU=CP-8841-3PCC, L=88012BA01234, S=000e08abcdef`; other vendors use the common name, the
//! subject serialNumber or a subject alternative name, in any of the usual notations.
//!
//! The handshake itself accepts any certificate whose key the phone proves it holds: a phone
//! of a vendor whose CA is not configured, or one sending a generic certificate, must still
//! reach its config with credentials. Only a certificate that chains to a configured vendor CA
//! and names exactly one MAC identifies a device ([`CertificateCheck::identify`]).

use std::path::Path;
use std::sync::Arc;

use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::ring as provider;
use rustls::server::WebPkiClientVerifier;
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, RootCertStore, SignatureScheme};
use rustls_pki_types::{CertificateDer, UnixTime};
use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};

use crate::domain::Mac;
use crate::tls::TlsError;

/// What a connection's client certificate says about the phone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientCert {
    /// None presented (or no vendor CAs configured).
    Absent,
    /// Chains to a vendor CA and names this MAC.
    Verified(Mac),
    /// Presented but proves nothing: unknown CA, expired, or no single MAC in it.
    Untrusted(Untrusted),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Untrusted {
    Chain,
    NoMac,
}

impl ClientCert {
    pub fn mac(self) -> Option<Mac> {
        match self {
            ClientCert::Verified(mac) => Some(mac),
            _ => None,
        }
    }
}

/// The configured vendor CAs.
#[derive(Debug, Clone)]
pub struct CertificateCheck {
    verifier: Arc<dyn ClientCertVerifier>,
}

impl CertificateCheck {
    /// Loads every certificate (PEM or DER) in `dir`; `None` when there are none, in which
    /// case phones are not asked for certificates at all.
    pub fn load(dir: &Path) -> Result<Option<CertificateCheck>, TlsError> {
        let mut roots = RootCertStore::empty();
        for cert in vendor_certificates(dir)? {
            roots.add(cert).map_err(|e| TlsError::Pem {
                path: dir.to_path_buf(),
                message: format!("unusable CA certificate: {e}"),
            })?;
        }
        if roots.is_empty() {
            return Ok(None);
        }
        let verifier = WebPkiClientVerifier::builder_with_provider(
            Arc::new(roots),
            Arc::new(provider::default_provider()),
        )
        .allow_unauthenticated()
        .build()
        .map_err(|e| TlsError::Config(format!("vendor CAs: {e}")))?;
        Ok(Some(CertificateCheck { verifier }))
    }

    /// The TLS-level verifier: asks for a certificate, checks the phone holds its key.
    pub fn handshake_verifier(&self) -> Arc<dyn ClientCertVerifier> {
        Arc::new(ProofOfKey {
            inner: self.verifier.clone(),
        })
    }

    /// What the chain a phone presented proves.
    pub fn identify(&self, chain: &[CertificateDer<'_>]) -> ClientCert {
        let Some((end_entity, intermediates)) = chain.split_first() else {
            return ClientCert::Absent;
        };
        // Factory chains are a leaf and at most a couple of intermediates; a long chain is
        // only a way to make path building expensive.
        if chain.len() > MAX_CHAIN {
            return ClientCert::Untrusted(Untrusted::Chain);
        }
        if self
            .verifier
            .verify_client_cert(end_entity, intermediates, UnixTime::now())
            .is_err()
        {
            return ClientCert::Untrusted(Untrusted::Chain);
        }
        match mac_in_certificate(end_entity) {
            Some(mac) => ClientCert::Verified(mac),
            None => ClientCert::Untrusted(Untrusted::NoMac),
        }
    }
}

fn vendor_certificates(dir: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(TlsError::Io {
                path: dir.to_path_buf(),
                source,
            });
        }
    };
    let mut paths: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| ["pem", "crt", "cer", "der"].contains(&e))
        })
        .collect();
    paths.sort();
    let mut certs = Vec::new();
    for path in paths {
        let bytes = std::fs::read(&path).map_err(|source| TlsError::Io {
            path: path.clone(),
            source,
        })?;
        if bytes.starts_with(b"-----") {
            certs.extend(crate::tls::load_certs(&path)?);
        } else {
            certs.push(CertificateDer::from(bytes));
        }
    }
    Ok(certs)
}

const MAX_CHAIN: usize = 4;

/// The one MAC the certificate names, wherever vendors put it; `None` when none, or when its
/// places name different MACs (a 12-digit serial beside the MAC must not be taken for it).
pub fn mac_in_certificate(der: &CertificateDer<'_>) -> Option<Mac> {
    let (_, cert) = X509Certificate::from_der(der.as_ref()).ok()?;
    let subject = cert.subject();
    let serial_number = x509_parser::oid_registry::OID_X509_SERIALNUMBER;
    let attribute_texts = subject
        .iter_state_or_province()
        .chain(subject.iter_by_oid(&serial_number))
        .chain(subject.iter_common_name())
        .filter_map(|a| a.as_str().ok().map(str::to_string));
    let san_texts = cert
        .subject_alternative_name()
        .ok()
        .flatten()
        .map(|san| {
            san.value
                .general_names
                .iter()
                .filter_map(|name| match name {
                    GeneralName::DNSName(s) | GeneralName::URI(s) | GeneralName::RFC822Name(s) => {
                        Some(s.to_string())
                    }
                    _ => None,
                })
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    let mut found: Option<Mac> = None;
    for text in attribute_texts.chain(san_texts) {
        match (found, single_mac_in(&text)) {
            (Some(a), Some(b)) if a != b => return None,
            (None, Some(mac)) => found = Some(mac),
            _ => {}
        }
    }
    found
}

/// The one MAC written in `text` in any usual notation; `None` when there is none or several.
pub fn single_mac_in(text: &str) -> Option<Mac> {
    let mut found: Option<Mac> = None;
    let bytes = text.as_bytes();
    for start in 0..bytes.len() {
        if start > 0 && bytes[start - 1].is_ascii_hexdigit() {
            continue;
        }
        for length in [17, 14, 12] {
            let Some(candidate) = text.get(start..start + length) else {
                continue;
            };
            let followed_by_hex = bytes
                .get(start + length)
                .is_some_and(|b| b.is_ascii_hexdigit());
            if followed_by_hex {
                continue;
            }
            if let Ok(mac) = Mac::parse(candidate) {
                match found {
                    Some(other) if other != mac => return None,
                    _ => found = Some(mac),
                }
                break;
            }
        }
    }
    found
}

/// Accepts any client certificate whose private key the phone proves it holds; the chain is
/// judged after the handshake by [`CertificateCheck::identify`].
#[derive(Debug)]
struct ProofOfKey {
    inner: Arc<dyn ClientCertVerifier>,
}

impl ClientCertVerifier for ProofOfKey {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        false
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.inner.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner
            .verify_tls12_signature(message, cert, dss)
            .or_else(|e| proof_by_raw_key(message, cert, dss, false).ok_or(e))
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner
            .verify_tls13_signature(message, cert, dss)
            .or_else(|e| proof_by_raw_key(message, cert, dss, true).ok_or(e))
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// The proof of key for a certificate webpki will not parse (an X.509 v1 certificate, which
/// has no extensions): the signature is checked against the public key x509-parser reads from
/// it, so the handshake completes and the certificate is judged, and recorded as untrusted,
/// after it. `None` if the certificate is unreadable or the signature does not verify.
fn proof_by_raw_key(
    message: &[u8],
    cert: &CertificateDer<'_>,
    dss: &DigitallySignedStruct,
    tls13: bool,
) -> Option<HandshakeSignatureValid> {
    let (_, parsed) = X509Certificate::from_der(cert.as_ref()).ok()?;
    let algorithms = provider::default_provider().signature_verification_algorithms;
    if tls13 {
        let spki = rustls_pki_types::SubjectPublicKeyInfoDer::from(parsed.public_key().raw);
        return rustls::crypto::verify_tls13_signature_with_raw_key(
            message,
            &spki,
            dss,
            &algorithms,
        )
        .ok();
    }
    let public_key = parsed.public_key().subject_public_key.data.as_ref();
    let (_, candidates) = algorithms
        .mapping
        .iter()
        .find(|(scheme, _)| *scheme == dss.scheme)?;
    // TLS 1.2's ECDSA schemes leave the curve open: any candidate that verifies proves the key.
    candidates
        .iter()
        .any(|alg| {
            alg.verify_signature(public_key, message, dss.signature())
                .is_ok()
        })
        .then(HandshakeSignatureValid::assertion)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macs_are_found_in_any_notation_and_only_when_unambiguous() {
        let mac = Mac::parse("000e08abcdef").unwrap();
        for text in [
            "000e08abcdef",
            "000E08ABCDEF",
            "SEP000E08ABCDEF",
            "00:0e:08:ab:cd:ef",
            "00-0E-08-AB-CD-EF",
            "000e.08ab.cdef",
            "Polycom 000e08abcdef",
            "phone-00:0e:08:ab:cd:ef.example.com",
        ] {
            assert_eq!(single_mac_in(text), Some(mac), "{text}");
        }
        for text in [
            "",
            "generic",
            "000e08abcdef0",
            "a000e08abcdef",
            "000e08abcde",
            "000e08abcdef 001565aabbcc",
        ] {
            assert_eq!(single_mac_in(text), None, "{text}");
        }
        // The same MAC twice is still one MAC.
        assert_eq!(single_mac_in("000e08abcdef / 00:0e:08:ab:cd:ef"), Some(mac));
    }
}
