//! The security suite: each attack from ../shared/reference/security.md §6 performed against
//! the running server, checking that nothing leaks and nothing acknowledged is lost.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use deskprov::client::{Client, Reply};
use http::{Method, StatusCode};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::api::{AdminApi, AuditFilter, Body, Call, NewDevice, NewUser};
use crate::helpers::*;
use crate::{kv, xmlflat};

const SECRET: &str = "sweep-target-secret-1";

fn local(n: u8) -> IpAddr {
    IpAddr::from([127, 0, 0, n])
}

/// The phone client of `server`, connecting from 127.0.0.`n`.
fn phone_from(server: &TestServer, n: u8) -> Client {
    server.phone.clone().from_source(local(n))
}

async fn get(client: &Client, path: &str, headers: &[(&str, &str)]) -> Option<Reply> {
    client.get(path, headers).await.ok()
}

/// User 1001, whose SIP password is [`SECRET`].
async fn add_alice(server: &TestServer) {
    let alice = NewUser::new("1001", "Alice").sip_password(SECRET);
    server.admin_api().create_user(alice).ok().await;
}

/// Registers these phones of `model`, each with user 1001 on line 1.
async fn add_phones_of_alice(server: &TestServer, model: &str, macs: &[&str]) {
    let api = server.admin_api();
    for mac in macs {
        api.create_device(NewDevice::new(mac).model(model))
            .ok()
            .await;
        api.assign(mac, 1, "1001").ok().await;
    }
}

/// A registered Yealink with a user whose SIP password is [`SECRET`], past its claim window.
async fn registered_yealinks(server: &TestServer, macs: &[&str]) {
    add_alice(server).await;
    add_phones_of_alice(server, "T46S", macs).await;
    server.clock.advance(2 * 3600);
}

fn assert_refusal(reply: &Reply, what: &str) {
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{what}");
    assert_eq!(reply.text(), "authentication required\n", "{what}");
    assert_eq!(reply.challenges().len(), 2, "{what}");
    assert!(!reply.text().contains(SECRET));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sweep_of_a_thousand_macs_learns_nothing_and_is_banned_across_a_restart() {
    let mut server = TestServer::start().await;
    let registered = ["001565000000", "001565000003", "001565000006"];
    registered_yealinks(&server, &registered).await;
    let attacker = phone_from(&server, 2);

    let mut answered = Vec::new();
    let mut refused_connections = 0;
    for i in 0..1000u32 {
        let path = format!("/001565{i:06x}.cfg");
        match get(&attacker, &path, &[("user-agent", T46S_UA)]).await {
            Some(reply) if reply.status == StatusCode::TOO_MANY_REQUESTS => {
                refused_connections += 1
            }
            Some(reply) => answered.push((path, reply)),
            None => refused_connections += 1,
        }
    }
    // Registered or not, every answer is the same refusal, and every refused MAC counts (or the
    // moment of the ban would tell registered ones apart): the 11th bans.
    for (path, reply) in &answered {
        assert_refusal(reply, path);
    }
    assert_eq!(answered.len(), 11);
    assert_eq!(refused_connections, 989);

    let api = server.admin_api();
    wait_for_sightings(&server).await;
    let bans = api.list_bans().ok().await;
    assert_eq!(bans[0]["source"], "127.0.0.2");
    assert_eq!(bans[0]["banned"], true);
    let events = api
        .list_audit(AuditFilter::kind("source_banned"))
        .ok()
        .await;
    assert_eq!(events.as_array().unwrap().len(), 1);
    assert_eq!(events[0]["source"], "127.0.0.2");
    let refused = api
        .list_audit(AuditFilter::kind("config_refused"))
        .ok()
        .await;
    assert_eq!(refused.as_array().unwrap().len(), registered.len());

    // A real phone elsewhere is still served.
    let (user, password) = server.credentials(registered[0]).await;
    let auth = basic(&user, &password);
    let real_phone = phone_from(&server, 3);
    let own = get(
        &real_phone,
        "/001565000000.cfg",
        &[("authorization", &auth)],
    )
    .await
    .unwrap();
    assert_eq!(own.status, StatusCode::OK);
    assert!(own.text().contains(SECRET));

    // The ban survives a restart; the admin lifts it.
    let dir = server.dir.path().to_path_buf();
    server.stop().await;
    let restarted = deskprov::startup::start(test_config(&dir), server.clock.clone())
        .await
        .unwrap();
    let ca = std::slice::from_ref(&server.ca);
    let attacker = Client::new(restarted.phone_addr, "localhost", ca)
        .unwrap()
        .from_source(local(2));
    let still_banned = get(&attacker, "/y000000000066.cfg", &[]).await.unwrap();
    assert_eq!(still_banned.status, StatusCode::TOO_MANY_REQUESTS);
    let admin = Client::new(restarted.admin_addr, "localhost", ca).unwrap();
    let lifted = AdminApi::new(&admin, &server.token)
        .lift_ban("127.0.0.2")
        .await;
    assert_eq!(lifted.status, StatusCode::OK, "{}", lifted.text());
    let reply = get(&attacker, "/y000000000066.cfg", &[]).await.unwrap();
    assert_eq!(reply.status, StatusCode::OK);
    restarted.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_office_behind_one_address_booting_together_is_never_refused() {
    let server = TestServer::start_with(|c| {
        c.server.public_url = Some("https://prov.example.com/".into());
    })
    .await;
    add_alice(&server).await;
    let api = server.admin_api();
    let macs: Vec<String> = (0..200).map(|i| format!("0015651{i:05x}")).collect();
    for mac in &macs {
        api.create_device(NewDevice::new(mac).model("T46S"))
            .ok()
            .await;
    }
    // 200 phones behind one NAT boot together: each takes its config in the claim window and
    // asks for optional files that do not exist, some of them three times as Yealink does.
    let office = phone_from(&server, 4);
    let mut boots = tokio::task::JoinSet::new();
    for mac in macs.clone() {
        let office = office.clone();
        boots.spawn(async move {
            let ua = format!("Yealink SIP-T46S 66.86.0.15 {mac}");
            let headers = [("user-agent", ua.as_str())];
            let common = office.get("/y000000000066.cfg", &headers).await.unwrap();
            let own = office.get(&format!("/{mac}.cfg"), &headers).await.unwrap();
            let mut optional = Vec::new();
            for _ in 0..3 {
                for file in ["/y000000000066.boot", "/contacts.xml"] {
                    optional.push(office.get(file, &headers).await.unwrap().status);
                }
            }
            (common.status, own.status, optional)
        });
    }
    let mut booted = 0;
    while let Some(result) = boots.join_next().await {
        let (common, own, optional) = result.unwrap();
        assert_eq!(common, StatusCode::OK);
        assert_eq!(own, StatusCode::OK);
        assert!(optional.iter().all(|s| *s == StatusCode::UNAUTHORIZED));
        booted += 1;
    }
    assert_eq!(booted, 200);
    let bans = api.list_bans().ok().await;
    assert_eq!(bans, json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allow_listed_networks_are_never_banned() {
    let server = TestServer::start_with(|c| {
        c.security.allow_networks = vec!["127.0.0.8/29".parse().unwrap()];
    })
    .await;
    let staging = phone_from(&server, 9);
    for i in 0..30u32 {
        let reply = get(&staging, &format!("/001565{i:06x}.cfg"), &[])
            .await
            .expect("an allow-listed source is never cut off");
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(server.admin_api().list_bans().ok().await, json!([]));
}

// ---- client certificates ----

struct VendorCa {
    issuer: Issuer<'static, KeyPair>,
    pem: String,
}

fn vendor_ca(name: &str) -> VendorCa {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let key = KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    VendorCa {
        pem: cert.pem(),
        issuer: Issuer::new(params, key),
    }
}

/// A phone certificate with this subject and these DNS names, valid now or expired.
fn phone_cert(
    ca: &VendorCa,
    subject: &[(DnType, &str)],
    names: &[&str],
    expired: bool,
) -> (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>) {
    let mut params =
        CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
    for (kind, value) in subject {
        params.distinguished_name.push(kind.clone(), *value);
    }
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    if expired {
        params.not_before = time::OffsetDateTime::now_utc() - time::Duration::days(30);
        params.not_after = time::OffsetDateTime::now_utc() - time::Duration::days(1);
    }
    let key = KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, &ca.issuer).unwrap();
    (
        vec![cert.der().clone()],
        PrivateKeyDer::Pkcs8(key.serialize_der().into()),
    )
}

/// Cisco MPP's factory subject: model in OU, serial in L, MAC in S.
fn cisco_subject(mac: &str) -> Vec<(DnType, &str)> {
    vec![
        (DnType::OrganizationalUnitName, "CP-8851-3PCC"),
        (DnType::LocalityName, "88012BA01234"),
        (DnType::StateOrProvinceName, mac),
    ]
}

fn with_cert(
    server: &TestServer,
    (chain, key): (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>),
) -> Client {
    Client::with_identity(
        server.running().phone_addr,
        "localhost",
        std::slice::from_ref(&server.ca),
        chain,
        key,
    )
    .unwrap()
}

const CISCO_A: &str = "d0ec35000a0a";
const CISCO_B: &str = "d0ec35000b0b";
const CISCO_C: &str = "d0ec35000c0c";
const CISCO_UA: &str = "Cisco-CP-8851-3PCC/11.3.7";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn factory_certificates_identify_their_own_phone_only() {
    let cisco = vendor_ca("Cisco Manufacturing CA (test)");
    let cisco_pem = cisco.pem.clone();
    let server = TestServer::start_with(move |c| {
        let dir = c.server.certs_dir.join("vendor-ca");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("cisco.pem"), cisco_pem).unwrap();
    })
    .await;
    add_alice(&server).await;
    add_phones_of_alice(&server, "CP-8851-3PCC", &[CISCO_A, CISCO_B]).await;
    let api = server.admin_api();
    server.clock.advance(2 * 3600);
    let ua = [("user-agent", CISCO_UA)];
    let file_of = |mac: &str| format!("/cisco-{mac}.xml");

    // A's certificate gets A's config, and only A's.
    let phone_a = with_cert(
        &server,
        phone_cert(&cisco, &cisco_subject(CISCO_A), &[], false),
    );
    let own = get(&phone_a, &file_of(CISCO_A), &ua).await.unwrap();
    assert_eq!(own.status, StatusCode::OK, "{}", own.text());
    xmlflat::flatten(&own.text()).unwrap();
    assert!(own.text().contains(SECRET));
    let other = get(&phone_a, &file_of(CISCO_B), &ua).await.unwrap();
    assert_refusal(&other, "A's certificate asking for B");

    // Other notations and places of the MAC identify the phone too.
    let upper = CISCO_A.to_ascii_uppercase();
    let sep = format!("SEP{upper}");
    let dashed = "D0-EC-35-00-0A-0A";
    for (subject, names) in [
        (vec![(DnType::CommonName, sep.as_str())], vec![]),
        (
            vec![(DnType::CustomDnType(vec![2, 5, 4, 5]), dashed)],
            vec![],
        ),
        (
            vec![(DnType::CommonName, "Poly device")],
            vec!["d0ec35000a0a.phones.example.com"],
        ),
    ] {
        let phone = with_cert(&server, phone_cert(&cisco, &subject, &names, false));
        let reply = get(&phone, &file_of(CISCO_A), &ua).await.unwrap();
        assert_eq!(reply.status, StatusCode::OK, "{subject:?} {names:?}");
    }

    // A rogue CA, an expired certificate and a certificate without a MAC prove nothing.
    let rogue = vendor_ca("Rogue CA");
    for (what, identity) in [
        (
            "rogue",
            phone_cert(&rogue, &cisco_subject(CISCO_B), &[], false),
        ),
        (
            "expired",
            phone_cert(&cisco, &cisco_subject(CISCO_B), &[], true),
        ),
        (
            "generic",
            phone_cert(
                &cisco,
                &[(DnType::CommonName, "Yealink generic")],
                &[],
                false,
            ),
        ),
    ] {
        let phone = with_cert(&server, identity);
        let reply = get(&phone, &file_of(CISCO_B), &ua).await.unwrap();
        assert_refusal(&reply, what);
    }
    wait_for_sightings(&server).await;
    let events = api
        .list_audit(AuditFilter::kind("untrusted_certificate"))
        .ok()
        .await;
    assert!(!events.as_array().unwrap().is_empty());
    let mismatches = api
        .list_audit(AuditFilter::kind("certificate_mismatch").subject(CISCO_B))
        .ok()
        .await;
    assert_eq!(mismatches.as_array().unwrap().len(), 1);

    // Without a certificate, credentials still work, until the device requires its certificate.
    let (user, password) = server.credentials(CISCO_B).await;
    let auth = basic(&user, &password);
    let with_credentials = [("user-agent", CISCO_UA), ("authorization", auth.as_str())];
    let reply = server
        .phone
        .get(&file_of(CISCO_B), &with_credentials)
        .await
        .unwrap();
    assert_eq!(reply.status, StatusCode::OK);
    api.patch_device(CISCO_B, json!({"certificate_required": true}))
        .ok()
        .await;
    let reply = server
        .phone
        .get(&file_of(CISCO_B), &with_credentials)
        .await
        .unwrap();
    assert_refusal(&reply, "credentials for a certificate-required device");
    let phone_b = with_cert(
        &server,
        phone_cert(&cisco, &cisco_subject(CISCO_B), &[], false),
    );
    let reply = get(&phone_b, &file_of(CISCO_B), &ua).await.unwrap();
    assert_eq!(reply.status, StatusCode::OK);
    // A's certificate with B's credentials is still A.
    let with_b_credentials = [("user-agent", CISCO_UA), ("authorization", auth.as_str())];
    let reply = get(&phone_a, &file_of(CISCO_B), &with_b_credentials)
        .await
        .unwrap();
    assert_refusal(&reply, "A's certificate with B's credentials");

    // A phone that proves itself by certificate in its claim window closes the window.
    add_phones_of_alice(&server, "CP-8851-3PCC", &[CISCO_C]).await;
    let phone_c = with_cert(
        &server,
        phone_cert(&cisco, &cisco_subject(CISCO_C), &[], false),
    );
    let reply = get(&phone_c, &file_of(CISCO_C), &ua).await.unwrap();
    assert_eq!(reply.status, StatusCode::OK);
    let anonymous = phone_from(&server, 7);
    let reply = get(&anonymous, &file_of(CISCO_C), &ua).await.unwrap();
    assert_refusal(
        &reply,
        "anonymous request after the phone's certificate fetch",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requiring_a_certificate_needs_a_vendor_ca() {
    let server = TestServer::start().await;
    let api = server.admin_api();
    let reply = api
        .create_device(json!({"mac": CISCO_A, "certificate_required": true}))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(
        reply.json()["error"]
            .as_str()
            .unwrap()
            .contains("vendor-ca")
    );
    assert_eq!(api.list_devices().ok().await, json!([]));
}

// ---- transport ----

/// A TLS client that offers only the signature schemes `keep` accepts; returns the
/// certificate the server chose.
async fn certificate_offered_to(
    server: &TestServer,
    trust: &[CertificateDer<'static>],
    keep: fn(&rustls::SignatureScheme) -> bool,
) -> CertificateDer<'static> {
    let mut provider = rustls::crypto::ring::default_provider();
    let algorithms = provider.signature_verification_algorithms;
    let mapping: Vec<_> = algorithms
        .mapping
        .iter()
        .filter(|(scheme, _)| keep(scheme))
        .cloned()
        .collect();
    provider.signature_verification_algorithms = rustls::crypto::WebPkiSupportedAlgorithms {
        all: algorithms.all,
        mapping: Box::leak(mapping.into_boxed_slice()),
    };
    let versions = rustls::DEFAULT_VERSIONS;
    let tls = handshake(server, provider, versions, trust).await;
    tls.get_ref().1.peer_certificates().unwrap()[0].clone()
}

/// A TLS connection to the phone listener by a client of `provider` offering `versions`,
/// trusting `trust`.
async fn handshake(
    server: &TestServer,
    provider: rustls::crypto::CryptoProvider,
    versions: &[&'static rustls::SupportedProtocolVersion],
    trust: &[CertificateDer<'static>],
) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in trust {
        roots.add(cert.clone()).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(provider))
        .with_protocol_versions(versions)
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(server.running().phone_addr)
        .await
        .unwrap();
    connector
        .connect("localhost".try_into().unwrap(), tcp)
        .await
        .unwrap()
}

/// The suite a handshake settles on when the client offers `offered`, in that order, over
/// `version`.
async fn suite_chosen_for(
    server: &TestServer,
    offered: &[rustls::CipherSuite],
    version: &'static rustls::SupportedProtocolVersion,
    trust: &[CertificateDer<'static>],
) -> rustls::CipherSuite {
    let mut provider = rustls::crypto::ring::default_provider();
    let all = std::mem::take(&mut provider.cipher_suites);
    provider.cipher_suites = offered
        .iter()
        .map(|wanted| *all.iter().find(|s| s.suite() == *wanted).unwrap())
        .collect();
    let tls = handshake(server, provider, &[version], trust).await;
    tls.get_ref().1.negotiated_cipher_suite().unwrap().suite()
}

/// Of the Mozilla intermediate suites, a phone gets the one it lists first, as Mozilla's
/// configuration has it: a phone without AES instructions lists ChaCha20 first and gets it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_gets_the_suite_it_lists_first() {
    use rustls::CipherSuite::*;
    let server = TestServer::start().await;
    let (tls13, tls12) = (&rustls::version::TLS13, &rustls::version::TLS12);
    let cases = [
        (
            tls13,
            [
                TLS13_CHACHA20_POLY1305_SHA256,
                TLS13_AES_128_GCM_SHA256,
                TLS13_AES_256_GCM_SHA384,
            ],
        ),
        (
            tls13,
            [
                TLS13_AES_256_GCM_SHA384,
                TLS13_AES_128_GCM_SHA256,
                TLS13_CHACHA20_POLY1305_SHA256,
            ],
        ),
        (
            tls12,
            [
                TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
                TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
                TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
            ],
        ),
        (
            tls12,
            [
                TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
                TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
                TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
            ],
        ),
    ];
    let trust = std::slice::from_ref(&server.ca);
    for (version, offered) in cases {
        let chosen = suite_chosen_for(&server, &offered, version, trust).await;
        assert_eq!(chosen, offered[0], "{version:?} offering {offered:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ecdsa_and_rsa_certificates_are_served_side_by_side() {
    let server = TestServer::start_with(|c| {
        let fixtures = fixtures().join("tls");
        for ext in ["crt", "key"] {
            std::fs::copy(
                fixtures.join(format!("rsa-localhost.{ext}")),
                c.server.certs_dir.join(format!("server-rsa.{ext}")),
            )
            .unwrap();
        }
    })
    .await;
    let rsa = deskprov::tls::load_certs(&fixtures().join("tls/rsa-localhost.crt")).unwrap();
    let trust = [server.ca.clone(), rsa[0].clone()];
    let is_rsa = |s: &rustls::SignatureScheme| format!("{s:?}").starts_with("RSA");
    let is_ecdsa = |s: &rustls::SignatureScheme| format!("{s:?}").starts_with("ECDSA");
    let for_rsa_only = certificate_offered_to(&server, &trust, is_rsa).await;
    assert_eq!(for_rsa_only, rsa[0]);
    let for_modern = certificate_offered_to(&server, &trust, |_| true).await;
    let ecdsa = deskprov::tls::load_certs(&server.dir.path().join("certs/server.crt")).unwrap();
    assert_eq!(for_modern, ecdsa[0]);
    assert_eq!(
        certificate_offered_to(&server, &trust, is_ecdsa).await,
        ecdsa[0]
    );
    // A TLS 1.2 phone listing ECDSA signatures (its library's default) but only RSA suites gets
    // the RSA certificate: rustls shows the resolver only the schemes its suites can use.
    // One listing only ECDSA suites gets the ECDSA certificate.
    use rustls::CipherSuite::*;
    let tls12 = &rustls::version::TLS12;
    for only in [
        TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
        TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    ] {
        assert_eq!(
            suite_chosen_for(&server, &[only], tls12, &trust).await,
            only
        );
    }
}

// ---- the admin API ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_tokens_are_created_listed_revoked_and_guessing_is_braked() {
    let server = TestServer::start().await;
    let api = server.admin_api();
    crate::logs::remember_secret("audit-secret-77");
    let created = api.create_token("ci-bot").ok().await;
    let bot_token = created["token"].as_str().unwrap().to_string();
    let bot = AdminApi::new(&server.admin, &bot_token);
    let listed = api.list_tokens().ok().await;
    let names: Vec<_> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].clone())
        .collect();
    assert_eq!(names, vec![json!("ci-bot"), json!("initial")]);
    assert!(!listed.to_string().contains(&bot_token));

    // The new token works, and what it changes is recorded under its name.
    let alice = NewUser::new("1001", "Alice")
        .sip_password("audit-secret-77")
        .pin("739164");
    let r = bot.create_user(alice).await;
    assert_eq!(r.status, StatusCode::CREATED);
    let changes = api
        .list_audit(AuditFilter::kind("admin_change").subject("1001"))
        .ok()
        .await;
    assert_eq!(changes[0]["actor"], "ci-bot");
    assert_eq!(changes[0]["source"], "127.0.0.1");
    let detail = changes[0]["detail"].as_str().unwrap();
    assert!(detail.starts_with("created display_name=Alice"), "{detail}");
    assert_eq!(
        changes.as_array().unwrap().len(),
        1,
        "logged once: {changes}"
    );
    assert!(detail.contains("sip_password=[set]") && detail.contains("pin=[set]"));
    assert!(!changes.to_string().contains("audit-secret-77"));
    assert!(!changes.to_string().contains("739164"));

    // Revoked, it no longer works; the last token cannot be revoked.
    let id = created["id"].as_str().unwrap();
    api.revoke_token(id, false).ok().await;
    let r = bot.list_devices().await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = api.revoke_token("initial", false).await;
    assert_eq!(r.status, StatusCode::CONFLICT);

    // Ten wrong tokens block the address for wrong tokens (a guessing script is slowed), while
    // the admin's valid token still works; after the block, wrong tokens are checked again.
    let guesser = api.clone().with_authorization("Bearer wrong");
    let wrong = || guesser.list_devices();
    for _ in 0..9 {
        assert_eq!(wrong().await.status, StatusCode::UNAUTHORIZED);
    }
    let r = wrong().await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.header("retry-after"), Some("300"));
    assert_eq!(api.list_devices().await.status, StatusCode::OK);
    server.clock.advance(301);
    assert_eq!(wrong().await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(api.list_devices().await.status, StatusCode::OK);
    let blocked = api
        .list_audit(AuditFilter::kind("admin_blocked"))
        .ok()
        .await;
    assert_eq!(blocked.as_array().unwrap().len(), 1);
}

/// How the injection test sets a field (its name, the value) through the API.
type Change<'a> = dyn Fn(&str, &str) -> Call<'a> + 'a;
/// What shows the state a refused change must have left alone.
type Show<'a> = dyn Fn() -> Call<'a> + 'a;

/// Values that break `key = value` lines, XML, handlebars or the terminal.
const HOSTILE: [&str; 9] = [
    "Alice\r\naccount.1.password = stolen",
    "Alice\naccount.2.enable = 1",
    "</display_name><admin_password>x</admin_password>",
    "A & B <c> \"d\" 'e'",
    "{{#each this}}{{@key}}{{/each}}",
    "{{{raw}}}",
    "nul\u{0}byte",
    "\u{1b}[2Jterminal",
    "${jndi:ldap://x}",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn injection_through_admin_fields_is_refused_or_rendered_inert() {
    let server = TestServer::start().await;
    server.seed_desk_phone().await;
    let (user, password) = server.credentials(T46S_MAC).await;
    let auth = basic(&user, &password);
    let baseline = kv::parse(
        &server
            .phone_get_with(
                &format!("/{T46S_MAC}.cfg"),
                &[("user-agent", T46S_UA), ("authorization", &auth)],
            )
            .await
            .text(),
    )
    .unwrap();
    let mut sip_password = baseline["account.1.password"].clone();
    // Each field by what sets it, and what shows the state a refusal must leave alone.
    let api = server.admin_api();
    let user = |field: &str, value: &str| api.patch_user("1001", json!({ field: value }));
    let show_user = || api.show_user("1001");
    let device = |field: &str, value: &str| api.patch_device(T46S_MAC, json!({ field: value }));
    let show_device = || api.show_device(T46S_MAC);
    let settings = |field: &str, value: &str| api.patch_settings(json!({ field: value }));
    let show_settings = || api.settings();
    let token = |_: &str, name: &str| api.create_token(name);
    let list_tokens = || api.list_tokens();
    let fields: [(&str, &Change, &Show); 9] = [
        ("display_name", &user, &show_user),
        ("sip_user", &user, &show_user),
        ("sip_password", &user, &show_user),
        ("email", &user, &show_user),
        ("pin", &user, &show_user),
        ("label", &device, &show_device),
        ("sip_server", &settings, &show_settings),
        ("ntp_server", &settings, &show_settings),
        ("name", &token, &list_tokens),
    ];
    for (field, change, resource) in fields {
        for value in HOSTILE {
            let before = resource().ok().await;
            let reply = change(field, value).await;
            if reply.status.is_success() {
                // Accepted: it must come out of the rendered config as inert text.
                let config = server
                    .phone_get_with(
                        &format!("/{T46S_MAC}.cfg"),
                        &[("user-agent", T46S_UA), ("authorization", &auth)],
                    )
                    .await;
                let parsed = kv::parse(&config.text())
                    .unwrap_or_else(|e| panic!("{field}={value:?}: {e}\n{}", config.text()));
                let keys: Vec<&String> = parsed.keys().collect();
                assert_eq!(
                    keys,
                    baseline.keys().collect::<Vec<_>>(),
                    "{field}={value:?}"
                );
                if field == "sip_password" {
                    sip_password = value.to_string();
                }
                assert_eq!(
                    parsed["account.1.password"], sip_password,
                    "{field}={value:?}"
                );
            } else {
                assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{field}={value:?}");
                let error = reply.json()["error"].as_str().unwrap_or("").to_string();
                assert!(!error.is_empty(), "{field}={value:?}: no clear error");
                let after = resource().ok().await;
                assert_eq!(
                    after, before,
                    "{field}={value:?}: a refusal changed something"
                );
            }
        }
    }
    let malformed = api
        .create_user(Body::raw("{\"extension\": \"1002\", "))
        .await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    let dtd = api
        .create_user(Body::raw(
            r#"<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>"#,
        ))
        .await;
    assert_eq!(dtd.status, StatusCode::BAD_REQUEST);
    assert!(!dtd.text().contains("root:"));
}

// ---- paths ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traversal_in_every_encoding_never_reaches_a_file() {
    let server = TestServer::start().await;
    server.seed_desk_phone().await;
    // A canary beside the data: if any path were mapped to the file system, it would show.
    std::fs::write(server.dir.path().join("canary.cfg"), "CANARY-CONTENT").unwrap();
    let paths = [
        "/../canary.cfg",
        "/..%2fcanary.cfg",
        "/..%2Fcanary.cfg",
        "/%2e%2e/canary.cfg",
        "/%2e%2e%2fcanary.cfg",
        "/%252e%252e%252fcanary.cfg",
        "/..%5ccanary.cfg",
        "/..\\canary.cfg",
        "/..;/canary.cfg",
        "/canary.cfg%00.cfg",
        "/%c0%ae%c0%ae/canary.cfg",
        "/%e0%80%ae%e0%80%ae/canary.cfg",
        "/data/../canary.cfg",
        "/./canary.cfg",
        "/001565aabbcc.cfg/../../canary.cfg",
        "/00156%35aabbcc.cfg%2f..%2f..%2fcanary.cfg",
    ];
    for path in paths {
        let reply = match server.phone.get(path, &[("user-agent", T46S_UA)]).await {
            Ok(reply) => reply,
            // Not a request target at all: the client cannot even send it.
            Err(deskprov::client::ClientError::Request(_)) => continue,
            Err(e) => panic!("{path}: {e}"),
        };
        assert!(
            [StatusCode::BAD_REQUEST, StatusCode::UNAUTHORIZED].contains(&reply.status),
            "{path}: {}",
            reply.status
        );
        assert!(!reply.text().contains("CANARY"), "{path}");
        assert!(!reply.text().contains("alice"), "{path}");
    }
    let long = format!("/{}.cfg", "0".repeat(30_000));
    let result = server.phone.get(&long, &[]).await;
    crate::helpers::refused_by_http(result, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
}

// ---- hot-desk tokens ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_token_replayed_after_logout_changes_nothing() {
    const PIN: &str = "739164";
    let server = TestServer::start().await;
    let api = server.admin_api();
    let alice = NewUser::new("1001", "Alice").sip_password(SECRET).pin(PIN);
    api.create_user(alice).ok().await;
    let mac = "d0ec35aabb04";
    let desk = NewDevice::new(mac).model("CP-8851-3PCC").hotdesk();
    api.create_device(desk).ok().await;
    let (user, password) = server.credentials(mac).await;
    let auth = basic(&user, &password);
    let headers = [("user-agent", CISCO_UA), ("authorization", auth.as_str())];
    let config = || async {
        server
            .phone
            .get(&format!("/cisco-{mac}.xml"), &headers)
            .await
            .unwrap()
            .text()
    };
    let key_path = |config: &str| {
        let psk = xmlflat::flatten(config).unwrap()["flat-profile/PSK_1"].clone();
        let url = psk
            .split(';')
            .find_map(|p| p.strip_prefix("url="))
            .unwrap()
            .to_string();
        let start = url.find("/hotdesk/").unwrap();
        url[start..].to_string()
    };
    let login = key_path(&config().await);
    crate::logs::remember_path_token(&login);
    let phone = &server.phone;
    let answer = |path: String| async move {
        phone
            .get(&path, &[("user-agent", CISCO_UA)])
            .await
            .unwrap()
            .text()
    };
    let with_pin = format!("{login}?ext=1001&pin={PIN}");
    answer(with_pin.clone()).await;
    let logged_in = config().await;
    assert!(logged_in.contains(SECRET));
    let logout = key_path(&logged_in);
    crate::logs::remember_path_token(&logout);
    assert!(logout.ends_with("/logout"));
    answer(logout.clone()).await;
    assert!(!config().await.contains(SECRET));

    // Replaying the login (PIN included) or the logout changes nothing.
    let replayed = answer(with_pin).await;
    assert!(replayed.contains("out of date"), "{replayed}");
    answer(logout).await;
    assert!(!config().await.contains(SECRET));
    let events = api
        .list_audit(AuditFilter::kind("unknown_login_token"))
        .ok()
        .await;
    assert!(!events.as_array().unwrap().is_empty());
}

// ---- resource exhaustion ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_trickling_connections_are_cut_while_a_phone_is_served() {
    let _one_at_a_time = FLOODS.lock().await;
    allow_many_files();
    let server = TestServer::start_with(|c| {
        c.limits.header_read_timeout_secs = 2;
        c.limits.tls_handshake_timeout_secs = 5;
    })
    .await;
    server.seed_desk_phone().await;
    let address = server.running().phone_addr;
    let connector = tokio_rustls::TlsConnector::from(
        deskprov::tls::client_config(std::slice::from_ref(&server.ca)).unwrap(),
    );
    let mut trickles = tokio::task::JoinSet::new();
    for i in 0..1000 {
        let connector = connector.clone();
        // From four addresses, each within its connection share: the timeouts must cut them.
        let source = std::net::SocketAddr::from(([127, 0, 0, 40 + (i % 4) as u8], 0));
        trickles.spawn(async move {
            let socket = tokio::net::TcpSocket::new_v4().unwrap();
            socket.bind(source).unwrap();
            let tcp = socket.connect(address).await.unwrap();
            if i % 4 == 0 {
                // A quarter never finish the TLS handshake.
                return cut_within(tcp, GIVE_UP).await;
            }
            let Ok(mut tls) = connector
                .connect("localhost".try_into().unwrap(), tcp)
                .await
            else {
                return true; // cut during the handshake
            };
            let _ = tls
                .write_all(b"GET /y000000000066.cfg HTTP/1.1\r\nHost: x\r\n")
                .await;
            // One header line every 200 ms, never the blank line that ends the head.
            let give_up = tokio::time::Instant::now() + GIVE_UP;
            while tokio::time::Instant::now() < give_up {
                if tls.write_all(b"X-Slow: 1\r\n").await.is_err() || tls.flush().await.is_err() {
                    return true;
                }
                let mut buf = [0u8; 256];
                match tokio::time::timeout(Duration::from_millis(200), tls.read(&mut buf)).await {
                    Ok(Ok(0)) | Ok(Err(_)) => return true,
                    Ok(Ok(_)) => panic!("a request whose head never ended was answered"),
                    Err(_) => {}
                }
            }
            false
        });
    }
    // While they trickle, a real phone gets its config.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (user, password) = server.credentials(T46S_MAC).await;
    let reply = server
        .phone_get_with(
            &format!("/{T46S_MAC}.cfg"),
            &[
                ("user-agent", T46S_UA),
                ("authorization", &basic(&user, &password)),
            ],
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let mut cut = 0;
    while let Some(result) = trickles.join_next().await {
        if result.unwrap() {
            cut += 1;
        }
    }
    assert_eq!(cut, 1000, "every trickling connection is cut by the server");
}

/// How long a trickling client keeps going before deciding the server never cut it: far beyond
/// the timeouts, so a loaded machine cannot fail the test.
const GIVE_UP: Duration = Duration::from_secs(40);

/// True when the server closes the connection before `limit`.
async fn cut_within(mut tcp: tokio::net::TcpStream, limit: Duration) -> bool {
    let mut buf = [0u8; 64];
    loop {
        match tokio::time::timeout(limit, tcp.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
            Err(_) => return false,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_bodies_and_heads_are_refused_and_nothing_is_stored() {
    let server = TestServer::start().await;
    // An admin body far over the limit: read on and dropped, so the 413 reaches the client.
    let big = vec![b' '; 2 * 1024 * 1024];
    let api = server.admin_api();
    let r = api
        .create_user(Body::Raw(big))
        .try_send()
        .await
        .expect("the 413 reaches the client");
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(api.list_users().ok().await, json!([]));
    // Headers beyond the head limit, on both listeners.
    let huge = "h".repeat(64 * 1024);
    for client in [&server.phone, &server.admin] {
        let result = client
            .get("/y000000000066.cfg", &[("x-filler", &huge)])
            .await;
        crate::helpers::refused_by_http(result, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
    }
    // A Poly log upload beyond its limit: refused, and nothing stored.
    let mac = "64167f0000aa";
    api.create_device(NewDevice::new(mac).model("VVX400"))
        .ok()
        .await;
    let (user, password) = server.credentials(mac).await;
    let auth = basic(&user, &password);
    let headers = [
        (
            "user-agent",
            "FileTransport PolycomVVX-VVX_400-UA/6.4.6.2648 Type/Application",
        ),
        ("authorization", auth.as_str()),
    ];
    let log = format!("/{mac}-app.log");
    let upload = server
        .phone
        .send(
            Method::PUT,
            &log,
            &headers,
            Some(vec![b'x'; 4 * 1024 * 1024]),
        )
        .await;
    let reply = upload.expect("the 413 reaches the phone");
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    let stored = server.phone.get(&log, &headers).await.unwrap();
    assert_eq!(stored.status, StatusCode::NOT_FOUND);
    let small = server
        .phone
        .send(Method::PUT, &log, &headers, Some(b"boot ok".to_vec()))
        .await
        .unwrap();
    assert_eq!(small.status, StatusCode::NO_CONTENT);
    let stored = server.phone.get(&log, &headers).await.unwrap();
    assert_eq!(stored.body.as_ref(), b"boot ok");
}

/// A Digest answer to `challenge` for GET `uri`, with nonce count `nc` (RFC 7616), or in the
/// RFC 2069 form without qop when `nc` is `None`.
fn digest_for(challenge: &str, user: &str, password: &str, uri: &str, nc: Option<u32>) -> String {
    use deskprov::digest::md5_hex;
    let start = challenge.find("nonce=\"").unwrap() + 7;
    let nonce = challenge[start..].split('"').next().unwrap();
    let ha1 = md5_hex(&format!("{user}:deskprov:{password}"));
    let ha2 = md5_hex(&format!("GET:{uri}"));
    let head = format!(
        "Digest username=\"{user}\", realm=\"deskprov\", nonce=\"{nonce}\", uri=\"{uri}\", algorithm=MD5"
    );
    match nc {
        Some(nc) => {
            let response = md5_hex(&format!("{ha1}:{nonce}:{nc:08x}:0a4f113b:auth:{ha2}"));
            format!("{head}, qop=auth, nc={nc:08x}, cnonce=\"0a4f113b\", response=\"{response}\"")
        }
        None => format!(
            "{head}, response=\"{}\"",
            md5_hex(&format!("{ha1}:{nonce}:{ha2}"))
        ),
    }
}

/// Finding #17: the same Digest header three times, an RFC 2069 answer, and the schemes in
/// lower case.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replayed_digest_header_is_refused_and_scheme_names_ignore_case() {
    let server = TestServer::start().await;
    let mac = "001565000004";
    registered_yealinks(&server, &[mac]).await;
    let (user, password) = server.credentials(mac).await;
    let uri = format!("/{mac}.cfg");
    let challenge = server.phone_get(&uri, T46S_UA).await.challenges()[0].to_string();
    let fetch = async |authorization: &str| {
        server
            .phone_get_with(&uri, &[("authorization", authorization)])
            .await
    };

    let first = digest_for(&challenge, &user, &password, &uri, Some(1));
    let served = fetch(&first).await;
    assert_eq!(served.status, StatusCode::OK);
    assert!(served.text().contains(SECRET));
    for replay in ["#2", "#3"] {
        assert_refusal(&fetch(&first).await, &format!("replay {replay}"));
    }
    // The phone's next request on the same nonce counts up, and is served.
    let next = digest_for(&challenge, &user, &password, &uri, Some(2));
    assert_eq!(fetch(&next).await.status, StatusCode::OK);
    let rfc2069 = digest_for(&challenge, &user, &password, &uri, None);
    assert_refusal(&fetch(&rfc2069).await, "RFC 2069 Digest without qop");

    let lower =
        digest_for(&challenge, &user, &password, &uri, Some(3)).replacen("Digest", "digest", 1);
    assert_eq!(
        fetch(&lower).await.status,
        StatusCode::OK,
        "lowercase digest"
    );
    let basic = basic(&user, &password).replacen("Basic", "basic", 1);
    assert_eq!(
        fetch(&basic).await.status,
        StatusCode::OK,
        "lowercase basic"
    );
}

/// Sends up to `limit` requests for `path` with `authorization` from `client`; how many were
/// answered 401 before the source was refused (429 or no connection), or `None` if it never was.
async fn refusals_before_ban(
    client: &Client,
    path: &str,
    authorization: &str,
    limit: usize,
) -> Option<usize> {
    for sent in 0..limit {
        match get(client, path, &[("authorization", authorization)]).await {
            Some(reply) if reply.status == StatusCode::UNAUTHORIZED => assert_refusal(&reply, path),
            Some(reply) if reply.status != StatusCode::TOO_MANY_REQUESTS => {
                panic!("{path}: {}", reply.status)
            }
            _ => return Some(sent),
        }
    }
    None
}

/// Finding #16: 300 wrong Basic passwords for one MAC, to its config and to an unknown file
/// name, each from its own source.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guessing_a_devices_password_bans_the_source_and_slows_others_but_never_locks_the_phone_out()
 {
    let server = TestServer::start().await;
    let mac = "001565000004";
    registered_yealinks(&server, &[mac]).await;
    let (user, password) = server.credentials(mac).await;
    let (right, wrong) = (basic(&user, &password), basic(&user, "not-the-password"));
    let path = format!("/{mac}.cfg");
    let phone = phone_from(&server, 10);
    let fetch = async |client: &Client| get(client, &path, &[("authorization", &right)]).await;
    assert_eq!(fetch(&phone).await.unwrap().status, StatusCode::OK);

    let to_config = refusals_before_ban(&phone_from(&server, 71), &path, &wrong, 300).await;
    assert_eq!(to_config, Some(11), "the 11th wrong password bans");
    let to_unknown_name =
        refusals_before_ban(&phone_from(&server, 74), "/favicon.ico", &wrong, 300).await;
    assert_eq!(
        to_unknown_name,
        Some(11),
        "guesses at unknown names count too"
    );
    let bans = server.admin_api().list_bans().ok().await;
    let banned: Vec<_> = bans
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["banned"] == true)
        .map(|b| b["source"].as_str().unwrap())
        .collect();
    assert_eq!(banned, ["127.0.0.71", "127.0.0.74"]);

    // 22 wrong passwords for the device: from a new address its credentials go unchecked for a
    // while, from the phone's own address they work throughout, and later from anywhere.
    let phone_moved = phone_from(&server, 72);
    assert_refusal(&fetch(&phone_moved).await.unwrap(), "throttled elsewhere");
    let own = fetch(&phone).await.unwrap();
    assert_eq!(own.status, StatusCode::OK);
    assert!(own.text().contains(SECRET));
    server.clock.advance(301);
    assert_eq!(fetch(&phone_moved).await.unwrap().status, StatusCode::OK);
}

/// Finding #15: a NAT neighbour's 13 refused MACs ban the office address; the phone there,
/// with its credentials, is still served, and nothing else from that address is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_banned_address_still_serves_a_phone_that_proves_itself() {
    let server = TestServer::start().await;
    let mac = "001565000004";
    registered_yealinks(&server, &[mac]).await;
    let (user, password) = server.credentials(mac).await;
    let office = phone_from(&server, 90);
    for i in 0..13u32 {
        get(&office, &format!("/001565f0{i:04x}.cfg"), &[]).await;
    }
    let bans = server.admin_api().list_bans().ok().await;
    assert_eq!(bans[0]["source"], "127.0.0.90");
    assert_eq!(bans[0]["banned"], true);

    let path = format!("/{mac}.cfg");
    let right = basic(&user, &password);
    let served = get(&office, &path, &[("authorization", &right)])
        .await
        .expect("the phone behind the banned address gets a connection");
    assert_eq!(served.status, StatusCode::OK);
    assert!(served.text().contains(SECRET));
    // The ban still covers everything the phone does not prove itself for.
    let refused = |reply: Option<Reply>| reply.unwrap().status == StatusCode::TOO_MANY_REQUESTS;
    assert!(refused(get(&office, &path, &[]).await), "no credentials");
    let wrong = basic(&user, "not-the-password");
    assert!(refused(
        get(&office, &path, &[("authorization", &wrong)]).await
    ));
    assert!(refused(get(&office, "/y000000000066.cfg", &[]).await));
}

/// Always offers this certificate and key. rustls' own client refuses to load a certificate
/// webpki cannot parse, which is the point here.
#[derive(Debug)]
struct FixedIdentity(Arc<rustls::sign::CertifiedKey>);

impl rustls::client::ResolvesClientCert for FixedIdentity {
    fn resolve(
        &self,
        _: &[&[u8]],
        _: &[rustls::SignatureScheme],
    ) -> Option<Arc<rustls::sign::CertifiedKey>> {
        Some(self.0.clone())
    }

    fn has_certs(&self) -> bool {
        true
    }
}

/// One GET over a fresh TLS connection presenting `chain` and `key`; the raw response, or
/// `None` if the handshake or the exchange failed.
async fn get_with_raw_identity(
    server: &TestServer,
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    path: &str,
    authorization: &str,
    version: &'static rustls::SupportedProtocolVersion,
) -> Option<String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let signer = provider.key_provider.load_private_key(key).unwrap();
    let identity = rustls::sign::CertifiedKey::new(chain, signer);
    let mut roots = rustls::RootCertStore::empty();
    roots.add(server.ca.clone()).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[version])
        .unwrap()
        .with_root_certificates(roots)
        .with_client_cert_resolver(Arc::new(FixedIdentity(Arc::new(identity))));
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let exchange = async {
        let tcp = tokio::net::TcpStream::connect(server.running().phone_addr)
            .await
            .ok()?;
        let mut tls = connector
            .connect("localhost".try_into().unwrap(), tcp)
            .await
            .ok()?;
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: {authorization}\r\nConnection: close\r\n\r\n"
        );
        tls.write_all(request.as_bytes()).await.ok()?;
        let mut response = Vec::new();
        tls.read_to_end(&mut response).await.ok()?;
        String::from_utf8(response).ok()
    };
    tokio::time::timeout(Duration::from_secs(10), exchange)
        .await
        .ok()
        .flatten()
}

/// Finding #19: a phone offers an X.509 v1 certificate (fixtures/tls/v1-client) with its valid
/// Basic credentials, vendor CAs configured.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_v1_client_certificate_is_recorded_as_untrusted_and_credentials_still_work() {
    use rustls_pki_types::pem::PemObject;
    let fixture = fixtures().join("tls/v1-client");
    let ca = fixture.join("ca.crt");
    let server = TestServer::start_with(move |c| {
        let dir = c.server.certs_dir.join("vendor-ca");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::copy(ca, dir.join("vendor.pem")).unwrap();
    })
    .await;
    let mac = "001565880002";
    registered_yealinks(&server, &[mac]).await;
    let (user, password) = server.credentials(mac).await;
    let chain = vec![CertificateDer::from_pem_file(fixture.join("phone.crt")).unwrap()];
    let key = PrivateKeyDer::from_pem_file(fixture.join("phone.key")).unwrap();
    let auth = basic(&user, &password);
    let path = format!("/{mac}.cfg");
    for version in [&rustls::version::TLS13, &rustls::version::TLS12] {
        let (chain, key) = (chain.clone(), key.clone_key());
        let served = get_with_raw_identity(&server, chain, key, &path, &auth, version)
            .await
            .unwrap_or_else(|| panic!("the {version:?} handshake with a v1 certificate completes"));
        assert!(served.starts_with("HTTP/1.1 200"), "{served}");
        assert!(served.contains(SECRET));
    }
    let recorded = server
        .admin_api()
        .list_audit(AuditFilter::kind("untrusted_certificate"))
        .ok()
        .await;
    assert_eq!(recorded.as_array().unwrap().len(), 1, "{recorded}");
    assert_eq!(recorded[0]["source"], "127.0.0.1");
}
