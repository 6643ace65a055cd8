//! What a phone in the field needs besides its config: firmware served with validators and
//! ranges, the site's private CA, resync and reboot by SIP NOTIFY (to a SIP peer on loopback
//! that answers as the vendor's phone does), and a dead phone replaced by another.

use std::net::SocketAddr;
use std::time::Duration;

use http::StatusCode;
use serde_json::json;
use tokio::net::UdpSocket;

use crate::api::{DeviceFilter, NewDevice, NewUser};
use crate::helpers::*;

const CISCO_MAC: &str = "d0ec35aabbcc";
const CISCO_UA: &str = "Cisco-CP-8851-3PCC/11.3.1 (d0ec35aabbcc)";
const SITE_CA: &str = include_str!("../../fixtures/tls/site-ca.crt");

/// A file whose every byte tells its offset apart from its neighbours'.
fn firmware_image(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

fn sha256_hex(bytes: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, bytes);
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn firmware_is_uploaded_then_served_with_validators_and_ranges() {
    let server = TestServer::start().await;
    let api = server.admin_api();
    let image = firmware_image(300 * 1024);
    let stored = api.upload_firmware("66.86.0.15.rom", &image).ok().await;
    assert_eq!(stored["bytes"], image.len());
    assert_eq!(stored["sha256"], sha256_hex(&image));
    assert_eq!(stored["path"], "/firmware/66.86.0.15.rom");
    let listed = api.list_firmware().ok().await;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["name"], "66.86.0.15.rom");

    // Any phone may fetch it, whole...
    let whole = server.phone_get("/firmware/66.86.0.15.rom", T46S_UA).await;
    assert_eq!(whole.status, StatusCode::OK);
    assert_eq!(whole.body.as_ref(), image.as_slice());
    assert_eq!(whole.header("accept-ranges"), Some("bytes"));
    let etag = whole.header("etag").unwrap().to_string();
    // ... not again while it is unchanged ...
    let again = server
        .phone_get_with("/firmware/66.86.0.15.rom", &[("if-none-match", &etag)])
        .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert!(again.body.is_empty());
    let weakened = format!("W/{etag}");
    let through_proxy = server
        .phone_get_with("/firmware/66.86.0.15.rom", &[("if-none-match", &weakened)])
        .await;
    assert_eq!(through_proxy.status, StatusCode::NOT_MODIFIED);
    // ... or from where its download broke off (RFC 9110 §14).
    let part = server
        .phone_get_with("/firmware/66.86.0.15.rom", &[("range", "bytes=1000-1999")])
        .await;
    assert_eq!(part.status, StatusCode::PARTIAL_CONTENT);
    let total = image.len();
    assert_eq!(
        part.header("content-range"),
        Some(format!("bytes 1000-1999/{total}").as_str())
    );
    assert_eq!(part.body.as_ref(), &image[1000..2000]);
    let tail = server
        .phone_get_with(
            "/firmware/66.86.0.15.rom",
            &[("range", "bytes=-10"), ("if-range", &etag)],
        )
        .await;
    assert_eq!(tail.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(tail.body.as_ref(), &image[total - 10..]);
    // A range under a validator that no longer matches gets the whole (new) file.
    let stale = server
        .phone_get_with(
            "/firmware/66.86.0.15.rom",
            &[("range", "bytes=0-9"), ("if-range", "\"old\"")],
        )
        .await;
    assert_eq!(stale.status, StatusCode::OK);
    assert_eq!(stale.body.len(), total);
    let beyond = server
        .phone_get_with(
            "/firmware/66.86.0.15.rom",
            &[("range", &format!("bytes={total}-"))],
        )
        .await;
    assert_eq!(beyond.status, StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(
        beyond.header("content-range"),
        Some(format!("bytes */{total}").as_str())
    );

    let missing = server.phone_get("/firmware/nothing.rom", T46S_UA).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    api.delete_firmware("66.86.0.15.rom").ok().await;
    let gone = server.phone_get("/firmware/66.86.0.15.rom", T46S_UA).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert_eq!(
        api.delete_firmware("66.86.0.15.rom").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_firmware_upload_over_its_limit_or_badly_named_leaves_nothing() {
    let server = TestServer::start_with(|c| c.limits.max_firmware_bytes = 64 * 1024).await;
    let api = server.admin_api();
    let too_large = api.upload_firmware("big.bin", &firmware_image(100 * 1024));
    refused_by_http(too_large.try_send().await, StatusCode::PAYLOAD_TOO_LARGE);
    for name in [".hidden", "a b.bin", "..", "x%2Fy.bin"] {
        let reply = api.upload_firmware(name, b"firmware").await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{name}: {}",
            reply.text()
        );
    }
    assert_eq!(api.list_firmware().ok().await, json!([]));
    // No half-written upload is left behind either.
    let dir = server.running().app.config.firmware_dir();
    let left: Vec<_> = std::fs::read_dir(&dir)
        .map(|entries| entries.map(|e| e.unwrap().file_name()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "{left:?}");
}

#[tokio::test]
async fn a_url_with_credentials_is_refused_as_it_would_reach_common_files() {
    let server = TestServer::start().await;
    let reply = server
        .admin_api()
        .patch_settings(json!({"firmware_url": "https://fw:secret@fw.example.com/"}))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.text().contains("credentials"), "{}", reply.text());
    assert_eq!(
        server.admin_api().settings().ok().await["firmware_url"],
        json!(null)
    );
}

#[tokio::test]
async fn a_device_reporting_other_firmware_than_its_target_is_flagged() {
    let server = TestServer::start().await;
    server.seed_desk_phone().await;
    let api = server.admin_api();
    api.patch_model_settings(
        "T46S",
        json!({"firmware_file": "66.86.0.99.rom", "firmware_version": "66.86.0.99"}),
    )
    .ok()
    .await;
    // The phone reports 66.86.0.15 as it takes its file.
    let own = server.phone_get(&format!("/{T46S_MAC}.cfg"), T46S_UA).await;
    assert_eq!(own.status, StatusCode::OK);
    let device = api.show_device(T46S_MAC).ok().await;
    assert_eq!(device["firmware"], "66.86.0.15");
    assert_eq!(device["firmware_target"], "66.86.0.99");
    assert_eq!(device["firmware_outdated"], true);
    let outdated = api
        .list_devices_where(DeviceFilter::default().firmware_outdated(true))
        .ok()
        .await;
    assert_eq!(outdated.as_array().unwrap().len(), 1);
    let current = api
        .list_devices_where(DeviceFilter::default().firmware_outdated(false))
        .ok()
        .await;
    assert_eq!(current, json!([]));
    api.patch_model_settings("T46S", json!({"firmware_version": "66.86.0.15"}))
        .ok()
        .await;
    assert_eq!(
        api.show_device(T46S_MAC).ok().await["firmware_outdated"],
        false
    );
    // The device file points the phone at the file deskprov serves.
    let config = api.render(T46S_MAC).send().await.text();
    assert!(
        config.contains("/firmware/66.86.0.99.rom"),
        "the config names the target file:\n{config}"
    );
}

#[tokio::test]
async fn the_site_ca_is_validated_then_served_as_pem_and_der() {
    let server = TestServer::start().await;
    let api = server.admin_api();
    assert_eq!(
        server.phone_get("/site-ca.pem", T46S_UA).await.status,
        StatusCode::NOT_FOUND
    );
    let key = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF\n-----END PRIVATE KEY-----\n";
    let leaf = std::fs::read_to_string(fixtures().join("tls/rsa-localhost.crt")).unwrap();
    let two = format!("{SITE_CA}{SITE_CA}");
    for (bad, why) in [
        ("not a certificate", "PEM"),
        (key, "CERTIFICATE"),
        (leaf.as_str(), "CA"),
        (two.as_str(), "exactly one"),
    ] {
        let reply = api.patch_settings(json!({"ca_certificate": bad})).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{why}");
        assert!(reply.text().contains(why), "{why}: {}", reply.text());
    }
    assert_eq!(api.settings().ok().await["ca_certificate"], json!(null));

    // Given with Windows line ends and blank lines around, stored in one canonical form.
    let messy = format!("\r\n{}\r\n", SITE_CA.replace('\n', "\r\n"));
    api.patch_settings(json!({"ca_certificate": messy}))
        .ok()
        .await;
    let pem = server.phone_get("/site-ca.pem", T46S_UA).await;
    assert_eq!(pem.status, StatusCode::OK);
    assert_eq!(pem.text(), SITE_CA);
    let der = server.phone_get("/site-ca.der", T46S_UA).await;
    let (_, cert) = x509_parser::parse_x509_certificate(&der.body).unwrap();
    assert!(cert.is_ca());
    assert!(
        cert.subject()
            .to_string()
            .contains("Example PBX Private CA")
    );
}

/// A phone's SIP stack on loopback, as far as NOTIFY goes.
struct SipPeer {
    socket: UdpSocket,
    /// Challenges a NOTIFY without credentials as Cisco MPP does (`Auth_Resync-Reboot`),
    /// and accepts only a Digest answer made with these.
    challenge_with: Option<(&'static str, &'static str)>,
}

/// What the peer saw of one NOTIFY.
#[derive(Debug)]
struct Seen {
    event: String,
    authorization: Option<String>,
}

impl SipPeer {
    async fn bind(challenge_with: Option<(&'static str, &'static str)>) -> SipPeer {
        SipPeer {
            socket: UdpSocket::bind("127.0.0.1:0").await.unwrap(),
            challenge_with,
        }
    }

    fn port(&self) -> u16 {
        self.socket.local_addr().unwrap().port()
    }

    /// Answers NOTIFYs until none comes for a moment; what each carried.
    async fn answer_all(&self) -> Vec<Seen> {
        let mut seen = Vec::new();
        let mut buffer = vec![0u8; 8192];
        while let Ok(Ok((length, from))) = tokio::time::timeout(
            Duration::from_millis(2500),
            self.socket.recv_from(&mut buffer),
        )
        .await
        {
            let text = String::from_utf8_lossy(&buffer[..length]).into_owned();
            let request = Seen {
                event: header(&text, "Event").unwrap_or_default(),
                authorization: header(&text, "Authorization"),
            };
            let status = self.status_for(&request);
            self.reply(&text, from, status).await;
            seen.push(request);
            if status.starts_with("200") || status.starts_with("403") {
                break;
            }
        }
        seen
    }

    fn status_for(&self, request: &Seen) -> &'static str {
        let Some((user, password)) = self.challenge_with else {
            return "200 OK";
        };
        match &request.authorization {
            None => "401 Unauthorized",
            Some(answer) if digest_matches(answer, user, password) => "200 OK",
            Some(_) => "403 Forbidden",
        }
    }

    async fn reply(&self, request: &str, to: SocketAddr, status: &str) {
        let copy =
            |name: &str| format!("{name}: {}\r\n", header(request, name).unwrap_or_default());
        let challenge = if status.starts_with("401") {
            "WWW-Authenticate: Digest realm=\"cisco-phone\", nonce=\"4f2b1c\", qop=\"auth\", algorithm=MD5\r\n"
        } else {
            ""
        };
        let answer = format!(
            "SIP/2.0 {status}\r\n{}{}{}{}{}{challenge}Content-Length: 0\r\n\r\n",
            copy("Via"),
            copy("From"),
            copy("To"),
            copy("Call-ID"),
            copy("CSeq"),
        );
        self.socket.send_to(answer.as_bytes(), to).await.unwrap();
    }
}

fn header(message: &str, name: &str) -> Option<String> {
    message.split("\r\n").find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.eq_ignore_ascii_case(name)
            .then(|| value.trim().to_string())
    })
}

/// Checks a Digest answer (RFC 7616, qop=auth) for method NOTIFY as the phone would.
fn digest_matches(authorization: &str, user: &str, password: &str) -> bool {
    let field = |name: &str| {
        authorization.split(", ").find_map(|part| {
            let part = part.trim_start_matches("Digest ");
            let (key, value) = part.split_once('=')?;
            (key == name).then(|| value.trim_matches('"').to_string())
        })
    };
    let (Some(username), Some(uri), Some(nc), Some(cnonce), Some(response)) = (
        field("username"),
        field("uri"),
        field("nc"),
        field("cnonce"),
        field("response"),
    ) else {
        return false;
    };
    let md5 = deskprov::digest::md5_hex;
    let ha1 = md5(&format!("{username}:cisco-phone:{password}"));
    let ha2 = md5(&format!("NOTIFY:{uri}"));
    let expected = md5(&format!("{ha1}:4f2b1c:{nc}:{cnonce}:auth:{ha2}"));
    username == user && response == expected
}

/// A SIP peer as the phone, and a server whose NOTIFYs go to its port (`sip_notify`: also
/// after every change).
async fn phone_and_server(
    challenge_with: Option<(&'static str, &'static str)>,
    sip_notify: bool,
) -> (SipPeer, TestServer) {
    let phone = SipPeer::bind(challenge_with).await;
    let port = phone.port();
    let server = TestServer::start_with(|c| {
        c.hotdesk.sip_notify = sip_notify;
        c.hotdesk.sip_notify_port = port;
    })
    .await;
    (phone, server)
}

/// A Cisco 8851 with Alice on line 1 that has fetched its config from loopback.
async fn cisco_seen(server: &TestServer) {
    let api = server.admin_api();
    api.patch_settings(json!({"sip_server": "pbx.example.com"}))
        .ok()
        .await;
    let alice = NewUser::new("1001", "Alice Example").sip_password("alice-secret-0001");
    api.create_user(alice).ok().await;
    api.create_device(NewDevice::new(CISCO_MAC).model("CP-8851-3PCC"))
        .ok()
        .await;
    api.assign(CISCO_MAC, 1, "1001").ok().await;
    let config = server.phone_get("/cisco-d0ec35aabbcc.xml", CISCO_UA).await;
    assert_eq!(config.status, StatusCode::OK, "{}", config.text());
}

#[tokio::test]
async fn a_phone_that_challenges_the_notify_gets_it_with_line_ones_credentials() {
    let (phone, server) = phone_and_server(Some(("1001", "alice-secret-0001")), false).await;
    cisco_seen(&server).await;
    let api = server.admin_api();
    let (answer, seen) = tokio::join!(api.resync_device(CISCO_MAC).ok(), phone.answer_all());
    assert_eq!(answer["outcome"], "accepted_with_credentials", "{seen:?}");
    assert_eq!(seen.len(), 2, "{seen:?}");
    // Cisco MPP: "Event: resync" (and reboot) with Resync_From_SIP (Cisco MPP admin guide).
    assert_eq!(seen[0].event, "resync");
    assert!(seen[0].authorization.is_none());
    assert!(
        seen[1]
            .authorization
            .as_deref()
            .unwrap()
            .contains("username=\"1001\"")
    );

    let (answer, seen) = tokio::join!(api.reboot_device(CISCO_MAC).ok(), phone.answer_all());
    assert_eq!(answer["outcome"], "accepted_with_credentials");
    assert_eq!(seen[0].event, "reboot");
    let audit = api
        .list_audit(crate::api::AuditFilter::default().subject(CISCO_MAC))
        .ok()
        .await;
    let details: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["detail"].as_str())
        .collect();
    assert!(
        details.contains(&"reboot requested: accepted with credentials"),
        "{details:?}"
    );
}

#[tokio::test]
async fn with_sip_notify_on_an_admin_change_tells_a_challenging_phone_too() {
    let (phone, server) = phone_and_server(Some(("1001", "alice-secret-0001")), true).await;
    cisco_seen(&server).await;
    let api = server.admin_api();
    api.patch_device(CISCO_MAC, json!({"label": "Lobby"}))
        .ok()
        .await;
    let seen = phone.answer_all().await;
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(seen[0].event, "resync");
    assert!(seen[1].authorization.is_some(), "{seen:?}");
}

/// security.md: whoever names a MAC in a request must not choose where that phone's NOTIFY,
/// and its Digest answer, go.
#[tokio::test]
async fn a_request_naming_the_mac_from_elsewhere_does_not_move_the_notify() {
    let (phone, server) = phone_and_server(Some(("1001", "alice-secret-0001")), false).await;
    cisco_seen(&server).await;
    let elsewhere = server
        .phone
        .clone()
        .from_source("127.0.0.2".parse().unwrap());
    let reply = elsewhere
        .get("/cisco-d0ec35aabbcc.xml", &[("user-agent", CISCO_UA)])
        .await
        .unwrap();
    assert_eq!(
        reply.status,
        StatusCode::UNAUTHORIZED,
        "its claim was taken"
    );
    // A refused request records nothing about the device.
    let api = server.admin_api();
    assert_eq!(
        api.show_device(CISCO_MAC).ok().await["last_address"],
        "127.0.0.1"
    );
    // The NOTIFY still goes to where the phone proved itself: the peer on 127.0.0.1 answers.
    let (answer, seen) = tokio::join!(api.resync_device(CISCO_MAC).ok(), phone.answer_all());
    assert_eq!(answer["outcome"], "accepted_with_credentials", "{seen:?}");
}

#[tokio::test]
async fn a_challenge_the_credentials_do_not_answer_is_reported_refused() {
    let (phone, server) = phone_and_server(Some(("1001", "another-password")), false).await;
    cisco_seen(&server).await;
    let api = server.admin_api();
    let (answer, seen) = tokio::join!(api.resync_device(CISCO_MAC).ok(), phone.answer_all());
    assert_eq!(answer["outcome"], "refused", "{seen:?}");
}

#[tokio::test]
async fn a_snom_phone_listens_on_the_port_its_config_fixes_and_gets_the_notify_there() {
    let (phone, server) = phone_and_server(None, false).await;
    let port = phone.port();
    let api = server.admin_api();
    api.patch_settings(json!({"sip_server": "pbx.example.com"}))
        .ok()
        .await;
    let alice = NewUser::new("1001", "Alice Example").sip_password("alice-secret-0001");
    api.create_user(alice).ok().await;
    api.create_device(NewDevice::new("000413aabbcc").model("D785"))
        .ok()
        .await;
    api.assign("000413aabbcc", 1, "1001").ok().await;
    let ua = "Mozilla/4.0 (compatible; snomD785-SIP 10.1.159.12 1.1.5-IFX-26.11.09)";
    let config = server.phone_get("/snomD785-000413AABBCC.htm", ua).await;
    assert_eq!(config.status, StatusCode::OK, "{}", config.text());
    // Snom picks a random SIP port unless network_id_port fixes it (audit §4; Snom wiki
    // "network_id_port"); deskprov's NOTIFY goes to that port.
    let keys = crate::xmlflat::flatten(&config.text()).unwrap();
    let fixed = keys
        .iter()
        .find(|(k, _)| k.contains("network_id_port"))
        .map(|(_, v)| v.clone());
    assert_eq!(fixed, Some(port.to_string()), "{keys:?}");
    let (answer, seen) = tokio::join!(api.resync_device("000413aabbcc").ok(), phone.answer_all());
    assert_eq!(answer["outcome"], "accepted");
    assert_eq!(seen[0].event, "check-sync;reboot=false");
}

#[tokio::test]
async fn resync_answers_what_each_phone_could_be_told() {
    let (phone, server) = phone_and_server(None, false).await;
    server.seed_desk_phone().await;
    let api = server.admin_api();
    api.create_device(NewDevice::new("7c2f80aabbcc").model("N870"))
        .ok()
        .await;
    // Never seen: no address to send to.
    let answer = api.resync_devices(&[T46S_MAC, "7c2f80aabbcc"]).ok().await;
    assert_eq!(answer[0]["outcome"], "never_seen");
    assert_eq!(answer[1]["outcome"], "never_seen");
    // Only the phone's own file, fetched with proof (here its claim), gives it an address.
    server.phone_get("/y000000000066.cfg", T46S_UA).await;
    let answer = api.resync_devices(&[T46S_MAC]).ok().await;
    assert_eq!(answer[0]["outcome"], "never_seen");
    server.phone_get("/001565aabbcc.cfg", T46S_UA).await;
    let (answer, seen) = tokio::join!(
        api.reboot_devices(&[T46S_MAC, "7c2f80aabbcc"]).ok(),
        phone.answer_all()
    );
    // Yealink: check-sync;reboot=true reboots (sip.notify_reboot_enable = 0); Gigaset has
    // no reboot NOTIFY (CheckSyncRebootEnabled is opt-in on the base).
    assert_eq!(answer[0]["mac"], T46S_MAC);
    assert_eq!(answer[0]["outcome"], "accepted");
    assert_eq!(answer[1]["outcome"], "never_seen");
    assert_eq!(seen[0].event, "check-sync;reboot=true");
    let unknown = api.resync_devices(&[T46S_MAC, "0015650000ff"]).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert!(unknown.text().contains("0015650000ff"));
}

#[tokio::test]
async fn a_replaced_phone_hands_everything_to_its_successor_and_loses_its_credentials() {
    let server = TestServer::start().await;
    server.seed_desk_phone().await;
    let api = server.admin_api();
    api.create_profile(json!({"name": "branch"})).ok().await;
    api.patch_device(
        T46S_MAC,
        json!({"label": "Reception", "location": "Berlin 2.14", "profile": "branch"}),
    )
    .ok()
    .await;
    api.patch_device_settings(
        T46S_MAC,
        json!({"firmware_file": "66.86.0.15.rom", "language": "de"}),
    )
    .ok()
    .await;
    let (user, password) = server.credentials(T46S_MAC).await;
    let new_mac = "001565ddeeff";

    let new = api.replace_device(T46S_MAC, new_mac).ok().await;
    assert_eq!(new["mac"], new_mac);
    assert_eq!(new["model"], "T46S");
    assert_eq!(new["lines"], json!([{"line": 1, "user": "1001"}]));
    assert_eq!(new["label"], "Reception");
    assert_eq!(new["location"], "Berlin 2.14");
    assert_eq!(new["profile"], "branch");
    assert_eq!(new["settings"]["firmware_file"], "66.86.0.15.rom");
    assert!(new["claim_open_until"].is_string(), "{new}");
    assert_eq!(
        api.show_device(T46S_MAC).await.status,
        StatusCode::NOT_FOUND
    );

    // The old phone's credentials open nothing any more.
    let old = server
        .phone_get_with(
            "/001565aabbcc.cfg",
            &[
                ("user-agent", T46S_UA),
                ("authorization", &basic(&user, &password)),
            ],
        )
        .await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED);
    // The new one claims its config within its window: Alice's account is on it.
    let ua = "Yealink SIP-T46S 66.86.0.15 00:15:65:dd:ee:ff";
    let config = server.phone_get("/001565ddeeff.cfg", ua).await;
    assert_eq!(config.status, StatusCode::OK);
    assert!(config.text().contains("alice-secret-0001"));

    let audit = api
        .list_audit(crate::api::AuditFilter::default().subject(T46S_MAC))
        .ok()
        .await;
    assert!(
        audit.to_string().contains("replaced by 001565ddeeff"),
        "{audit}"
    );

    // Refused, changing nothing: a MAC already registered, an unknown one, itself.
    let taken = api.replace_device(new_mac, new_mac).await;
    assert_eq!(taken.status, StatusCode::BAD_REQUEST);
    api.create_device(NewDevice::new("001565000001")).ok().await;
    let conflict = api.replace_device(new_mac, "001565000001").await;
    assert_eq!(conflict.status, StatusCode::CONFLICT, "{}", conflict.text());
    assert_eq!(
        api.show_device(new_mac).ok().await["lines"],
        json!([{"line": 1, "user": "1001"}])
    );
    assert_eq!(
        api.replace_device("001565000099", "001565000098")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[test]
fn the_cli_uploads_firmware_and_replaces_and_resyncs_devices() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let server = BinaryServer::start(d, &[]);
    let admin = server.admin_addr;
    let run = |args: &[&str]| {
        let (code, out, err) = cli(d, admin, args);
        assert_eq!(code, 0, "deskprov {args:?} failed: {err}");
        out
    };
    let image = d.join("66.86.0.15.rom");
    std::fs::write(&image, firmware_image(4096)).unwrap();
    let uploaded = run(&["firmware", "upload", image.to_str().unwrap()]);
    assert!(
        uploaded.contains("66.86.0.15.rom") && uploaded.contains("4096"),
        "{uploaded}"
    );
    assert!(run(&["firmware", "list"]).contains("/firmware/66.86.0.15.rom"));
    run(&["users", "add", "1001", "--name", "Alice Example"]);
    run(&["devices", "add", T46S_MAC, "--model", "T46S"]);
    run(&["devices", "assign", T46S_MAC, "1", "1001"]);
    let told = run(&["devices", "resync", T46S_MAC]);
    assert!(told.contains("never_seen"), "{told}");
    run(&["devices", "replace", T46S_MAC, "00:15:65:dd:ee:ff"]);
    let moved = run(&["--json", "devices", "show", "001565ddeeff"]);
    let moved: serde_json::Value = serde_json::from_str(&moved).unwrap();
    assert_eq!(moved["lines"][0]["user"], "1001");
    run(&["firmware", "remove", "66.86.0.15.rom"]);
    assert!(!run(&["firmware", "list"]).contains("66.86.0.15.rom"));
}

#[tokio::test]
async fn a_common_file_asked_for_by_a_known_model_names_that_models_firmware() {
    let server = TestServer::start().await;
    let api = server.admin_api();
    api.patch_model_settings(
        "VVX400",
        json!({"firmware_file": "3111-46157-002.sip.ld", "firmware_version": "6.4.6.2442"}),
    )
    .ok()
    .await;
    let ua = "FileTransport PolycomVVX-VVX_400-UA/6.4.0.1234";
    let master = server.phone_get("/000000000000.cfg", ua).await;
    assert_eq!(master.status, StatusCode::OK, "{}", master.text());
    let keys = crate::xmlflat::flatten(&master.text()).unwrap();
    // Poly's master file: APP_FILE_PATH names the application image (phones.md §1.2).
    let path = &keys["APPLICATION@APP_FILE_PATH"];
    assert!(path.ends_with("/firmware/3111-46157-002.sip.ld"), "{path}");
    // Another model's phone asking for the same file does not get it.
    let other = server
        .phone_get(
            "/000000000000.cfg",
            "FileTransport PolycomVVX-VVX_500-UA/6.4.0.1234",
        )
        .await;
    let keys = crate::xmlflat::flatten(&other.text()).unwrap();
    assert_eq!(keys["APPLICATION@APP_FILE_PATH"], "sip.ld");
}
