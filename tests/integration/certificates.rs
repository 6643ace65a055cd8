//! The server certificate: issued by a local CA created once in certs/, valid at most 398 days,
//! issued again before it ends while phones that trust the CA keep trusting it; a certificate
//! the admin supplied is never replaced, and is warned about when it comes due.

use std::path::Path;

use deskprov::client::Client;
use deskprov::clock::Clock;
use deskprov::local_ca;
use deskprov::startup::{self, Running};
use http::StatusCode;
use rustls_pki_types::{CertificateDer, ServerName};
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::helpers::{T46S_UA, test_config};

const DAY: i64 = 24 * 3600;

fn real_now() -> i64 {
    Clock::System.now()
}

async fn start(dir: &Path, clock: &Clock) -> Running {
    crate::logs::init();
    startup::start(test_config(dir), clock.clone())
        .await
        .expect("server starts")
}

fn trusting_local_ca(dir: &Path, address: std::net::SocketAddr) -> Client {
    Client::trusting_file(
        address,
        "localhost",
        &dir.join("certs").join(local_ca::CA_CERT_FILE),
    )
    .unwrap()
}

/// The certificate chain a handshake with `address` presents, verified against `trust`.
async fn presented_chain(
    address: std::net::SocketAddr,
    trust: &[CertificateDer<'static>],
) -> Vec<CertificateDer<'static>> {
    let config = deskprov::tls::client_config(trust).unwrap();
    let tcp = tokio::net::TcpStream::connect(address).await.unwrap();
    let tls = tokio_rustls::TlsConnector::from(config)
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .expect("the handshake verifies against the trusted CA");
    tls.get_ref().1.peer_certificates().unwrap().to_vec()
}

fn validity(der: &CertificateDer<'_>) -> (i64, i64) {
    let (_, cert) = X509Certificate::from_der(der).unwrap();
    (
        cert.validity().not_before.timestamp(),
        cert.validity().not_after.timestamp(),
    )
}

fn local_ca_der(dir: &Path) -> Vec<CertificateDer<'static>> {
    deskprov::tls::load_certs(&dir.join("certs").join(local_ca::CA_CERT_FILE)).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_server_issues_its_certificate_from_a_local_ca_that_phones_are_told_to_trust() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Clock::manual(real_now());
    let running = start(dir.path(), &clock).await;
    let certs = dir.path().join("certs");
    let key_mode = std::fs::metadata(certs.join(local_ca::CA_KEY_FILE))
        .unwrap()
        .permissions();
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&key_mode) & 0o777,
        0o600
    );
    let ca = local_ca_der(dir.path());
    let (_, parsed_ca) = X509Certificate::from_der(&ca[0]).unwrap();
    assert!(parsed_ca.is_ca(), "local-ca.crt is a CA certificate");
    let (_, ca_not_after) = validity(&ca[0]);
    assert!(
        ca_not_after - real_now() > 19 * 365 * DAY,
        "the CA is long-lived"
    );

    // Both listeners present a server certificate of at most 398 days that chains to the CA.
    for address in [running.phone_addr, running.admin_addr] {
        let chain = presented_chain(address, &ca).await;
        let (not_before, not_after) = validity(&chain[0]);
        assert!(
            not_after - not_before <= 398 * DAY,
            "valid {} days",
            (not_after - not_before) / DAY
        );
        assert_ne!(chain[0], ca[0], "the server certificate is not the CA");
    }

    // The site CA install serves the local CA, and the phones' configs point to it.
    let phones = trusting_local_ca(dir.path(), running.phone_addr);
    let pem = phones.get("/site-ca.pem", &[]).await.unwrap();
    assert_eq!(pem.status, StatusCode::OK);
    let served = deskprov::tls::load_certs_from_pem(&pem.body).unwrap();
    assert_eq!(served, ca, "/site-ca.pem is the local CA");
    let der = phones.get("/site-ca.der", &[]).await.unwrap();
    assert_eq!(der.body, ca[0].as_ref());
    let common = phones
        .get("/y000000000066.cfg", &[("user-agent", T46S_UA)])
        .await
        .unwrap();
    let text = String::from_utf8(common.body.to_vec()).unwrap();
    // Yealink's Auto Provisioning guide: static.trusted_certificates.url installs a CA.
    let keys = crate::kv::parse(&text).unwrap();
    let url = keys
        .get("static.trusted_certificates.url")
        .expect("the Yealink common file installs the site CA");
    assert!(url.ends_with("/site-ca.pem"), "{url}");

    // The CLI's client trusts the file it reads, which holds the chain.
    let admin = Client::trusting_file(
        running.admin_addr,
        "localhost",
        &certs.join(deskprov::tls::CERT_FILE),
    )
    .unwrap();
    let token = std::fs::read_to_string(dir.path().join("data/admin.token")).unwrap();
    crate::logs::remember_secret(token.trim());
    let status = admin
        .get(
            "/api/v1/status",
            &[("authorization", &format!("Bearer {}", token.trim()))],
        )
        .await
        .unwrap();
    assert_eq!(status.status, StatusCode::OK);
    let status: serde_json::Value = serde_json::from_slice(&status.body).unwrap();
    assert_eq!(status["warnings"], serde_json::json!([]));
    assert_eq!(status["certificates"][0]["origin"], "local_ca");
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_coming_due_is_issued_again_and_phones_trusting_the_ca_keep_trusting_it() {
    let dir = tempfile::tempdir().unwrap();
    let certs = dir.path().join("certs");
    // Issued 380 days ago: 16 days left, which is due in real time, but not yet on the
    // server's clock, which starts 30 days back.
    local_ca::issue_server_certificate(&certs, real_now() - 380 * DAY).unwrap();
    let clock = Clock::manual(real_now() - 30 * DAY);
    let running = start(dir.path(), &clock).await;
    let ca = local_ca_der(dir.path());
    let before = presented_chain(running.phone_addr, &ca).await;
    let (_, old_end) = validity(&before[0]);
    assert!(
        old_end - real_now() < 17 * DAY,
        "the old certificate is still in use"
    );

    // The housekeeping pass on the day it comes due issues a new one, without a restart; a
    // phone that was told to trust the CA before trusts the new certificate too.
    // (The housekeeping task may run the same pass first: either way one new certificate.)
    clock.advance(30 * DAY);
    running.app.certificates.renew_if_due(clock.now()).unwrap();
    let after = presented_chain(running.phone_addr, &ca).await;
    let (not_before, new_end) = validity(&after[0]);
    assert_ne!(after[0], before[0]);
    assert!(new_end - real_now() > 390 * DAY);
    assert!(new_end - not_before <= 398 * DAY);
    assert_eq!(local_ca_der(dir.path()), ca, "the CA stays the same");
    assert!(
        !running.app.certificates.renew_if_due(clock.now()).unwrap(),
        "a fresh certificate is not issued again"
    );
    running.stop().await;

    // A restart keeps the renewed pair.
    let running = start(dir.path(), &Clock::manual(real_now())).await;
    assert_eq!(presented_chain(running.phone_addr, &ca).await[0], after[0]);
    running.stop().await;
}

/// A certificate for localhost signed by a CA of the admin's, ending `days` from now.
fn write_supplied_certificate(certs: &Path, days: i64) -> CertificateDer<'static> {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
    std::fs::create_dir_all(certs).unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.distinguished_name
        .push(DnType::CommonName, "Example Corp CA");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_key = KeyPair::generate().unwrap();
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, ca_key);
    let mut server = CertificateParams::new(vec!["localhost".into()]).unwrap();
    server
        .distinguished_name
        .push(DnType::CommonName, "prov.example.com");
    server.not_before = time::OffsetDateTime::now_utc() - time::Duration::days(300);
    server.not_after = time::OffsetDateTime::now_utc() + time::Duration::days(days);
    let key = KeyPair::generate().unwrap();
    let cert = server.signed_by(&key, &issuer).unwrap();
    std::fs::write(certs.join("server.crt"), cert.pem()).unwrap();
    std::fs::write(certs.join("server.key"), key.serialize_pem()).unwrap();
    ca_cert.der().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supplied_certificate_expiring_soon_is_warned_about_and_never_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let certs = dir.path().join("certs");
    let ca = write_supplied_certificate(&certs, 12);
    let original = std::fs::read(certs.join("server.crt")).unwrap();
    let running = start(dir.path(), &Clock::manual(real_now())).await;
    assert!(running.app.certificates.renew_if_due(real_now()).is_ok());
    assert_eq!(std::fs::read(certs.join("server.crt")).unwrap(), original);
    assert!(!certs.join(local_ca::CA_CERT_FILE).exists());
    let path = certs.join("server.crt").display().to_string();
    let warned = crate::logs::lines()
        .into_iter()
        .filter(|l| l.contains("WARN") && l.contains(&path) && l.contains("expires soon"))
        .count();
    assert_eq!(warned, 1, "warned once at start, not again the same day");

    let admin = Client::new(running.admin_addr, "localhost", std::slice::from_ref(&ca)).unwrap();
    let token = std::fs::read_to_string(dir.path().join("data/admin.token")).unwrap();
    crate::logs::remember_secret(token.trim());
    let auth = format!("Bearer {}", token.trim());
    let status = admin
        .get("/api/v1/status", &[("authorization", &auth)])
        .await
        .unwrap();
    let status: serde_json::Value = serde_json::from_slice(&status.body).unwrap();
    let warnings = status["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{status}");
    let warning = warnings[0].as_str().unwrap();
    assert!(
        warning.contains(&path) && warning.contains("expires in 1"),
        "{warning}"
    );
    assert_eq!(status["certificates"][0]["origin"], "supplied");
    assert_eq!(
        status["certificates"][0]["renews_at"],
        serde_json::Value::Null
    );
    // No local CA to install: the admin's certificate is not deskprov's to vouch for.
    let phones = Client::new(running.phone_addr, "localhost", &[ca]).unwrap();
    let pem = phones.get("/site-ca.pem", &[]).await.unwrap();
    assert_eq!(pem.status, StatusCode::NOT_FOUND);
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_self_signed_certificate_of_an_earlier_release_is_replaced_by_the_local_ca_when_due() {
    use rcgen::{CertificateParams, DnType, KeyPair};
    let dir = tempfile::tempdir().unwrap();
    let certs = dir.path().join("certs");
    std::fs::create_dir_all(&certs).unwrap();
    let mut params = CertificateParams::new(vec!["localhost".into()]).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "deskprov self-signed");
    params.not_before = time::OffsetDateTime::now_utc() - time::Duration::days(820);
    params.not_after = time::OffsetDateTime::now_utc() + time::Duration::days(5);
    let key = KeyPair::generate().unwrap();
    std::fs::write(
        certs.join("server.crt"),
        params.self_signed(&key).unwrap().pem(),
    )
    .unwrap();
    std::fs::write(certs.join("server.key"), key.serialize_pem()).unwrap();
    let running = start(dir.path(), &Clock::manual(real_now())).await;
    let ca = local_ca_der(dir.path());
    let chain = presented_chain(running.phone_addr, &ca).await;
    let (_, not_after) = validity(&chain[0]);
    assert!(not_after - real_now() > 390 * DAY);
    let facts = running.app.certificates.facts();
    assert_eq!(facts[0].origin, local_ca::Origin::LocalCa);
    running.stop().await;
}
