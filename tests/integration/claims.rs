//! The claim window against the red team's attacks (../shared/reference/attack-findings.md):
//! a claim is on disk before the config with its secrets goes out (#10), and only a GET that
//! receives the file takes it (#11); only a User-Agent of the registered model, from the claim
//! networks, takes it (#2); the grace after it serves only the same phone from the same address
//! a few times (#9); and a claim taken by someone else shows when the real phone comes (#2).

use deskprov::client::{Client, Reply};
use deskprov::config::Config;
use http::{Method, StatusCode};
use serde_json::json;

use crate::api::{AuditFilter, DeviceFilter, NewDevice};
use crate::helpers::*;

const PHONE_ADDRESS: &str = "127.0.0.10";
const THIEF_ADDRESS: &str = "127.0.0.66";
/// Requests the claim grace serves (the default of `provisioning.claim_grace_requests`).
const GRACE_REQUESTS: usize = 10;
const T54W_UA_OF_T46S_MAC: &str = "Yealink SIP-T54W 96.86.0.100 00:15:65:aa:bb:cc";
const POLY_MAC: &str = "0004f2aabbcc";
const POLY_UA: &str = "FileTransport PolycomVVX-VVX_400-UA/4.1.4.7430 Type/Application";

fn from(server: &TestServer, address: &str) -> Client {
    server.phone.clone().from_source(address.parse().unwrap())
}

async fn get(client: &Client, path: &str, user_agent: Option<&str>) -> Reply {
    let headers: Vec<(&str, &str)> = user_agent
        .map(|ua| ("user-agent", ua))
        .into_iter()
        .collect();
    client.get(path, &headers).await.unwrap()
}

/// The value of `key = value` in a Yealink config.
fn yealink_value(config: &Reply, key: &str) -> String {
    let text = config.text();
    let prefix = format!("{key} = ");
    text.lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no {key} in {text}"))
        .to_string()
}

/// `provisioning` keys set through the configuration file's names, as an admin writes them.
fn with_provisioning(keys: serde_json::Value) -> impl FnOnce(&mut Config) {
    move |config: &mut Config| {
        let mut provisioning = serde_json::to_value(&config.provisioning).unwrap();
        for (key, value) in keys.as_object().unwrap() {
            provisioning[key] = value.clone();
        }
        config.provisioning = serde_json::from_value(provisioning)
            .unwrap_or_else(|e| panic!("provisioning keys refused: {e}"));
    }
}

/// Finding #11: `curl -I` inside the window took the claim and the phone was refused.
#[tokio::test]
async fn a_head_request_does_not_take_the_claim() {
    let server = TestServer::start().await;
    server.seed_desk_phone().await;
    let scanner = server
        .phone
        .clone()
        .from_source("127.0.0.67".parse().unwrap());
    let head = scanner
        .send(http::Method::HEAD, "/001565aabbcc.cfg", &[], None)
        .await
        .unwrap();
    assert_eq!(head.status, StatusCode::UNAUTHORIZED);
    let device = server.admin_api().show_device(T46S_MAC).ok().await;
    assert_eq!(device["claimed"], false);
    let phone = server.phone_get("/001565aabbcc.cfg", T46S_UA).await;
    assert_eq!(phone.status, StatusCode::OK);
}

/// Finding #10: a kill -9 right after the 200 lost the claim, and a second party then got the
/// same config.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_survives_a_crash_right_after_the_config_went_out() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut server = BinaryServer::start(d, &[]);
    let (code, _, err) = cli(
        d,
        server.admin_addr,
        &["devices", "add", T46S_MAC, "--model", "T46S"],
    );
    assert_eq!(code, 0, "{err}");
    let phone =
        Client::trusting_file(server.phone_addr, "localhost", &d.join("certs/server.crt")).unwrap();
    let claimed = phone
        .get("/001565aabbcc.cfg", &[("user-agent", T46S_UA)])
        .await
        .unwrap();
    assert_eq!(claimed.status, StatusCode::OK);
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    let again = BinaryServer::start(d, &[]);
    let thief = Client::trusting_file(again.phone_addr, "localhost", &d.join("certs/server.crt"))
        .unwrap()
        .from_source("127.0.0.66".parse().unwrap());
    let stolen = thief.get("/001565aabbcc.cfg", &[]).await.unwrap();
    assert_eq!(
        stolen.status,
        StatusCode::UNAUTHORIZED,
        "the claim was lost in the crash"
    );
}

/// Finding #2: anyone asking first got the config, without a User-Agent at all.
#[tokio::test]
async fn a_claim_needs_the_user_agent_of_the_registered_model() {
    let server = TestServer::start().await;
    server.seed_desk_phone().await;
    let thief = from(&server, THIEF_ADDRESS);
    let path = "/001565aabbcc.cfg";
    for user_agent in [None, Some(T54W_UA_OF_T46S_MAC), Some("curl/8.5.0")] {
        let reply = get(&thief, path, user_agent).await;
        assert_eq!(
            reply.status,
            StatusCode::UNAUTHORIZED,
            "a claim of the T46S with User-Agent {user_agent:?} was granted"
        );
    }
    let device = server.admin_api().show_device(T46S_MAC).ok().await;
    assert_eq!(device["claimed"], false, "{device}");
    let phone = from(&server, PHONE_ADDRESS);
    assert_eq!(
        get(&phone, path, Some(T46S_UA)).await.status,
        StatusCode::OK
    );

    // Without a model on record, any User-Agent of a vendor deskprov provisions claims, and
    // the model fills in; none at all does not.
    let api = server.admin_api();
    api.create_device(NewDevice::new("001565000077")).ok().await;
    let path = "/001565000077.cfg";
    assert_eq!(
        get(&thief, path, None).await.status,
        StatusCode::UNAUTHORIZED
    );
    let t54w = "Yealink SIP-T54W 96.86.0.100 00:15:65:00:00:77";
    assert_eq!(get(&phone, path, Some(t54w)).await.status, StatusCode::OK);
    let device = api.show_device("001565000077").ok().await;
    assert_eq!(device["model"], "T54W", "{device}");
}

/// Finding #9: for 300 s after a claim, anything from the claimer's address got the config,
/// without a User-Agent, as often as it asked.
#[tokio::test]
async fn the_claim_grace_serves_only_the_claiming_phone_a_few_times() {
    let server = TestServer::start().await;
    server.seed_desk_phone().await;
    let phone = from(&server, PHONE_ADDRESS);
    let path = "/001565aabbcc.cfg";
    assert_eq!(
        get(&phone, path, Some(T46S_UA)).await.status,
        StatusCode::OK
    );
    let neighbour = [
        None,
        Some(T54W_UA_OF_T46S_MAC),
        // The phone's model, but not its MAC.
        Some("Yealink SIP-T46S 66.86.0.15"),
    ];
    for user_agent in neighbour {
        let reply = get(&phone, path, user_agent).await;
        assert_eq!(
            reply.status,
            StatusCode::UNAUTHORIZED,
            "the claim grace served a request from the claimer's address with User-Agent {user_agent:?}"
        );
    }
    let elsewhere = from(&server, "127.0.0.12");
    assert_eq!(
        get(&elsewhere, path, Some(T46S_UA)).await.status,
        StatusCode::UNAUTHORIZED
    );
    let mut served = 0;
    for _ in 0..GRACE_REQUESTS * 2 {
        if get(&phone, path, Some(T46S_UA)).await.status == StatusCode::OK {
            served += 1;
        }
    }
    assert_eq!(
        served,
        GRACE_REQUESTS,
        "the claim grace served this many of {} requests of the phone",
        GRACE_REQUESTS * 2
    );
}

/// Finding #9: a Poly override the phone had uploaded was read back from the same address with
/// no User-Agent and no credentials.
#[tokio::test]
async fn the_claim_grace_gives_a_polys_stored_files_only_to_that_phone() {
    let server = TestServer::start().await;
    let api = server.admin_api();
    api.create_device(NewDevice::new(POLY_MAC).model("VVX400"))
        .ok()
        .await;
    let phone = from(&server, PHONE_ADDRESS);
    let config = get(&phone, &format!("/{POLY_MAC}-deskprov.cfg"), Some(POLY_UA)).await;
    assert_eq!(config.status, StatusCode::OK);
    let web = format!("/{POLY_MAC}-web.cfg");
    let upload = phone
        .send(
            Method::PUT,
            &web,
            &[("user-agent", POLY_UA)],
            Some(b"<web override=\"1\"/>".to_vec()),
        )
        .await
        .unwrap();
    assert_eq!(upload.status, StatusCode::NO_CONTENT);
    assert_eq!(
        get(&phone, &web, None).await.status,
        StatusCode::UNAUTHORIZED,
        "the phone's stored override went to a request without its User-Agent"
    );
    let back = get(&phone, &web, Some(POLY_UA)).await;
    assert_eq!(back.status, StatusCode::OK);
}

/// `provisioning.claim_networks` keeps claims to where the phones are.
#[tokio::test]
async fn claims_come_only_from_the_claim_networks() {
    let server = TestServer::start_with(with_provisioning(
        json!({"claim_networks": ["127.0.0.8/29"]}),
    ))
    .await;
    server.seed_desk_phone().await;
    let path = "/001565aabbcc.cfg";
    let outside = from(&server, THIEF_ADDRESS);
    assert_eq!(
        get(&outside, path, Some(T46S_UA)).await.status,
        StatusCode::UNAUTHORIZED,
        "a claim from outside the claim networks was granted"
    );
    let device = server.admin_api().show_device(T46S_MAC).ok().await;
    assert_eq!(device["claimed"], false, "{device}");
    let phone = from(&server, PHONE_ADDRESS);
    assert_eq!(
        get(&phone, path, Some(T46S_UA)).await.status,
        StatusCode::OK
    );
}

/// Finding #2: the thief's claim left one `device_claimed` record, and the real phone was
/// refused for good. Now the phone's refusal flags the device, and one re-key gives it back.
#[tokio::test]
async fn a_stolen_claim_is_contested_and_the_device_rekeyed() {
    let server = TestServer::start().await;
    server.seed_desk_phone().await;
    let api = server.admin_api();
    let path = "/001565aabbcc.cfg";
    let thief = from(&server, THIEF_ADDRESS);
    let stolen = get(&thief, path, Some(T46S_UA)).await;
    assert_eq!(stolen.status, StatusCode::OK);
    let stolen_user = yealink_value(&stolen, "static.auto_provision.server.username");
    let stolen_password = yealink_value(&stolen, "static.auto_provision.server.password");
    crate::logs::remember_secret(&stolen_password);

    let phone = from(&server, PHONE_ADDRESS);
    server.clock.advance(600);
    for _ in 0..3 {
        assert_eq!(
            get(&phone, path, Some(T46S_UA)).await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    let contested = api
        .list_audit(AuditFilter::kind("claim_contested").subject(T46S_MAC))
        .ok()
        .await;
    let records = contested.as_array().unwrap();
    assert_eq!(records.len(), 1, "claim_contested records: {contested}");
    assert_eq!(records[0]["source"], PHONE_ADDRESS, "{contested}");
    let device = api.show_device(T46S_MAC).ok().await;
    assert_eq!(
        device["claim_contested"]["address"], PHONE_ADDRESS,
        "the device is not flagged: {device}"
    );
    assert!(device["claim_contested"]["at"].is_string(), "{device}");
    let flagged = api
        .list_devices_where(DeviceFilter::default().claim_contested(true))
        .ok()
        .await;
    let macs: Vec<&str> = flagged
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["mac"].as_str().unwrap())
        .collect();
    assert_eq!(macs, [T46S_MAC]);
    let unflagged = api
        .list_devices_where(DeviceFilter::default().claim_contested(false))
        .ok()
        .await;
    assert_eq!(unflagged, json!([]));

    let rekeyed = api.rekey(T46S_MAC).ok().await;
    assert_eq!(rekeyed["claimed"], false, "{rekeyed}");
    assert!(rekeyed["claim_contested"].is_null(), "{rekeyed}");
    assert!(rekeyed["claim_open_until"].is_string(), "{rekeyed}");
    // The taker's address proved nothing: no NOTIFY (with line 1's Digest answer) goes there.
    let told = api.resync_device(T46S_MAC).ok().await;
    assert_eq!(
        told["outcome"], "never_seen",
        "after the re-key a NOTIFY still went to the taker's address: {told}"
    );
    let config = get(&phone, path, Some(T46S_UA)).await;
    assert_eq!(config.status, StatusCode::OK);
    let password = yealink_value(&config, "static.auto_provision.server.password");
    assert_ne!(password, stolen_password, "the re-key kept the password");
    let (_, current) = server.credentials(T46S_MAC).await;
    assert_eq!(password, current);
    let old = basic(&stolen_user, &stolen_password);
    crate::logs::remember_authorization(&old);
    let refused = thief
        .get(path, &[("user-agent", T46S_UA), ("authorization", &old)])
        .await
        .unwrap();
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    let changes = api
        .list_audit(AuditFilter::kind("admin_change").subject(T46S_MAC))
        .ok()
        .await;
    assert!(
        changes.to_string().contains("re-keyed"),
        "no admin_change record of the re-key: {changes}"
    );
}

/// A phone that claimed, moved to another address and asks first without its credentials (as
/// phones do until challenged) looks like a contest; its credentials then show it was the
/// phone, and the flag goes.
#[tokio::test]
async fn a_contest_by_the_phone_that_holds_the_credentials_is_withdrawn() {
    let server = TestServer::start().await;
    server.seed_desk_phone().await;
    let path = "/001565aabbcc.cfg";
    let before = from(&server, PHONE_ADDRESS);
    assert_eq!(
        get(&before, path, Some(T46S_UA)).await.status,
        StatusCode::OK
    );
    let moved = from(&server, "127.0.0.11");
    assert_eq!(
        get(&moved, path, Some(T46S_UA)).await.status,
        StatusCode::UNAUTHORIZED
    );
    let api = server.admin_api();
    let device = api.show_device(T46S_MAC).ok().await;
    assert_eq!(
        device["claim_contested"]["address"], "127.0.0.11",
        "{device}"
    );
    let (user, password) = server.credentials(T46S_MAC).await;
    let authorization = basic(&user, &password);
    crate::logs::remember_authorization(&authorization);
    let proven = moved
        .get(
            path,
            &[("user-agent", T46S_UA), ("authorization", &authorization)],
        )
        .await
        .unwrap();
    assert_eq!(proven.status, StatusCode::OK);
    let device = api.show_device(T46S_MAC).ok().await;
    assert!(
        device["claim_contested"].is_null(),
        "the contest stayed after the contesting address proved itself: {device}"
    );
}

/// The taken config of a hot-desk phone also carries its login token: a re-key replaces it.
#[tokio::test]
async fn a_rekey_replaces_the_login_token_the_taker_got() {
    let server = TestServer::start().await;
    let mac = "001565000054";
    server
        .admin_api()
        .create_device(NewDevice::new(mac).model("T54W").hotdesk())
        .ok()
        .await;
    let thief = from(&server, THIEF_ADDRESS);
    let t54w = "Yealink SIP-T54W 96.86.0.100 00:15:65:00:00:54";
    let stolen = get(&thief, &format!("/{mac}.cfg"), Some(t54w)).await;
    assert_eq!(stolen.status, StatusCode::OK);
    let key = yealink_value(&stolen, "programablekey.1.value");
    let login = &key[key.find("/hotdesk/").expect("a hot-desk URL")..];
    crate::logs::remember_path_token(login);
    let out_of_date = "This key is out of date";
    let form = get(&thief, login, Some(t54w)).await;
    assert!(!form.text().contains(out_of_date), "{}", form.text());
    server.admin_api().rekey(mac).ok().await;
    let after = get(&thief, login, Some(t54w)).await;
    assert!(
        after.text().contains(out_of_date),
        "the taker's login token still works after the re-key: {}",
        after.text()
    );
}

/// `deskprov devices rekey MAC` is the same action from the command line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_rekeys_a_device() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let server = BinaryServer::start(d, &[]);
    let run = |args: &[&str]| {
        let (code, out, err) = cli(d, server.admin_addr, args);
        assert_eq!(code, 0, "deskprov {args:?} failed: {err}");
        serde_json::from_str::<serde_json::Value>(&out).unwrap()
    };
    run(&["--json", "devices", "add", T46S_MAC, "--model", "T46S"]);
    let before = run(&["--json", "devices", "credentials", T46S_MAC]);
    let rekeyed = run(&["--json", "devices", "rekey", T46S_MAC]);
    assert_eq!(rekeyed["mac"], T46S_MAC, "{rekeyed}");
    assert_eq!(rekeyed["claimed"], false, "{rekeyed}");
    let after = run(&["--json", "devices", "credentials", T46S_MAC]);
    assert_ne!(before["password"], after["password"]);
}
