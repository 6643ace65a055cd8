//! What a request that has not proven to be a device may change (nothing about a device), what
//! it costs (the same for every MAC it names), and how such requests count towards the ban of
//! their source (issue 19, findings #1, #4, #12, #14).

use std::net::IpAddr;
use std::time::{Duration, Instant};

use deskprov::client::{Client, Reply};
use http::StatusCode;
use serde_json::Value;

use crate::api::{AuditFilter, NewDevice};
use crate::helpers::*;
use crate::timing::{Side, WritesBySide, assert_alike_in_time};

const CISCO_SPOOF_UA: &str = "Cisco-CP-8851-3PCC/11.3.7 (001565aabbcc)";
/// What a request may only learn by proving to be the device.
const FACTS: [&str; 7] = [
    "vendor",
    "model",
    "firmware",
    "first_seen",
    "last_seen",
    "last_address",
    "model_source",
];

fn from(server: &TestServer, address: [u8; 4]) -> Client {
    server.phone.clone().from_source(IpAddr::from(address))
}

async fn get(client: &Client, path: &str, headers: &[(&str, &str)]) -> Reply {
    client.get(path, headers).await.unwrap()
}

fn facts(device: &Value) -> Vec<(&'static str, Value)> {
    FACTS.iter().map(|f| (*f, device[*f].clone())).collect()
}

/// Finding #4: a spoofed Cisco User-Agent naming a Yealink device's MAC, answered 401, turned it
/// into a Cisco device that was then served a Cisco file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spoofed_user_agent_changes_nothing_about_a_device_and_the_claim_fills_in_its_model() {
    let server = TestServer::start().await;
    let api = server.admin_api();
    api.create_device(NewDevice::new(T46S_MAC)).ok().await;
    let before = api.show_device(T46S_MAC).ok().await;
    assert_eq!(before["model"], Value::Null);

    let spoofer = from(&server, [127, 0, 0, 70]);
    let reply = get(
        &spoofer,
        "/CP-8851-3PCC.xml",
        &[("user-agent", CISCO_SPOOF_UA)],
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    let after = api.show_device(T46S_MAC).ok().await;
    assert_eq!(
        facts(&after),
        facts(&before),
        "an unauthenticated request changed the device"
    );

    // The real phone claims its file: a Yealink file, and the model filled in, audited.
    let phone = from(&server, [127, 0, 0, 10]);
    let own = get(
        &phone,
        &format!("/{T46S_MAC}.cfg"),
        &[("user-agent", T46S_UA)],
    )
    .await;
    assert_eq!(own.status, StatusCode::OK);
    assert!(
        own.text().starts_with("#!version:1.0.0.1"),
        "{}",
        own.text()
    );
    let claimed = api.show_device(T46S_MAC).ok().await;
    assert_eq!(claimed["vendor"], "yealink");
    assert_eq!(claimed["model"], "T46S");
    assert_eq!(claimed["model_source"], "auto");
    assert_eq!(claimed["firmware"], "66.86.0.15");
    assert_eq!(claimed["last_address"], "127.0.0.10");
    let filled = api
        .list_audit(AuditFilter::kind("model_filled_in").subject(T46S_MAC))
        .ok()
        .await;
    let filled = filled.as_array().unwrap();
    assert_eq!(filled.len(), 1, "{filled:?}");
    assert_eq!(filled[0]["source"], "127.0.0.10");
    assert!(
        filled[0]["detail"].as_str().unwrap().contains("T46S"),
        "{filled:?}"
    );
}

/// A 401 on the device's own file (wrong credentials, another model in the User-Agent) writes
/// nothing: not last_seen, not the NOTIFY target, not the firmware, no model mismatch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_request_for_a_devices_own_file_writes_nothing() {
    let server = TestServer::start().await;
    server.seed_desk_phone().await;
    server.clock.advance(2 * 3600);
    let api = server.admin_api();
    let before = api.show_device(T46S_MAC).ok().await;
    let (user, _) = server.credentials(T46S_MAC).await;
    let wrong = basic(&user, "not-the-password");
    crate::logs::remember_secret("not-the-password");

    let guesser = from(&server, [127, 0, 0, 71]);
    let path = format!("/{T46S_MAC}.cfg");
    let t54w = "Yealink SIP-T54W 96.86.0.100 00:15:65:aa:bb:cc";
    for (ua, auth) in [(T46S_UA, Some(wrong.as_str())), (t54w, None)] {
        let mut headers = vec![("user-agent", ua)];
        headers.extend(auth.map(|a| ("authorization", a)));
        assert_eq!(
            get(&guesser, &path, &headers).await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    let after = api.show_device(T46S_MAC).ok().await;
    assert_eq!(facts(&after), facts(&before), "a refused request wrote");
    assert_eq!(after["model_mismatch"], before["model_mismatch"]);

    // The phone with its credentials: now it is seen, from where it asked.
    let (user, password) = server.credentials(T46S_MAC).await;
    let right = basic(&user, &password);
    let phone = from(&server, [127, 0, 0, 12]);
    let served = get(
        &phone,
        &path,
        &[("user-agent", T46S_UA), ("authorization", &right)],
    )
    .await;
    assert_eq!(served.status, StatusCode::OK);
    let seen = api.show_device(T46S_MAC).ok().await;
    assert_eq!(seen["last_address"], "127.0.0.12");
    assert_eq!(seen["firmware"], "66.86.0.15");
    assert!(seen["last_seen"].is_string(), "{seen}");
}

/// Finding #1: naming MACs on common files cost nothing towards the ban. Now a source whose
/// named MACs do not prove themselves within the grace is banned like one refused their files.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn macs_named_on_common_files_that_never_prove_themselves_ban_their_source() {
    let server = TestServer::start().await;
    server.seed_desk_phone().await;
    server.clock.advance(2 * 3600);
    let prober = from(&server, [127, 0, 0, 72]);
    // The registered MAC and ten unknown ones: eleven distinct MACs, none proven.
    let mut macs = vec![T46S_MAC.to_string()];
    macs.extend((0..10).map(|i| format!("0015650f{i:04x}")));
    for mac in &macs {
        let ua = format!("Yealink SIP-T46S 66.86.0.15 {mac}");
        let reply = get(&prober, "/y000000000066.cfg", &[("user-agent", &ua)]).await;
        assert_eq!(reply.status, StatusCode::OK, "a common file is for anyone");
    }
    server.clock.advance(120);
    let next = prober
        .get("/y000000000066.cfg", &[("user-agent", T46S_UA)])
        .await;
    let banned = next.is_err() || next.as_ref().unwrap().status == StatusCode::TOO_MANY_REQUESTS;
    assert!(banned, "not banned: {:?}", next.map(|r| r.status));
    let bans = server.admin_api().list_bans().ok().await;
    assert_eq!(bans[0]["source"], "127.0.0.72", "{bans}");
    assert_eq!(bans[0]["banned"], true, "{bans}");
}

/// Finding #12: one source flooding the seen-unregistered list evicts only its own entries, and
/// holds no more than its quota.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_made_up_macs_from_one_source_does_not_evict_a_real_phone() {
    let server = TestServer::start_with(|c| {
        c.provisioning.max_unregistered = 20;
        c.provisioning.max_unregistered_per_source = 5;
        // The flood must reach the list; the ban is tested above.
        c.security.max_refused_macs = 10_000;
    })
    .await;
    let api = server.admin_api();
    let real = from(&server, [127, 0, 0, 20]);
    let real_ua = "Yealink SIP-T54W 96.86.0.100 00:15:65:12:34:56";
    get(&real, "/001565123456.cfg", &[("user-agent", real_ua)]).await;
    wait_until_listed(&api, &["001565123456"]).await;

    let flooder = from(&server, [127, 0, 0, 80]);
    for i in 0..200u32 {
        server.clock.advance(1);
        let ua = format!("Yealink SIP-T46S 66.86.0.15 d0d0d0{i:06x}");
        get(&flooder, "/y000000000066.cfg", &[("user-agent", &ua)]).await;
    }
    // The last of the flood is listed once the list has caught up.
    wait_until_listed(&api, &["d0d0d00000c7"]).await;
    let listed = unregistered_macs(&api).await;
    assert!(listed.contains(&"001565123456".to_string()), "{listed:?}");
    let flooded = listed.iter().filter(|m| m.starts_with("d0d0d0")).count();
    assert_eq!(flooded, 5, "{listed:?}");
}

/// Finding #1's measurement, in the report's path: the seen-unregistered list at its cap, many
/// sources each under the ban budget, the common file with the MAC in the User-Agent. A request
/// naming an unknown MAC must cost what one naming a registered MAC costs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_common_file_costs_the_same_for_unknown_and_registered_macs() {
    let _one_at_a_time = FLOODS.lock().await;
    let server = TestServer::start().await;
    server.seed_desk_phone().await;
    let cap = 1000;
    // Fill the list to its cap: 10 MACs from each of 100 sources.
    for source in 0..(cap / 10) as u8 {
        let client = from(&server, [127, 0, 1, source + 1]);
        for i in 0..10u32 {
            let ua = format!("Yealink SIP-T46S 66.86.0.15 d0d0{source:02x}{i:06x}");
            get(&client, "/y000000000066.cfg", &[("user-agent", &ua)]).await;
        }
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while count_unregistered(&server).await < cap {
        assert!(Instant::now() < deadline, "the list did not fill");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Nine fresh unknown MACs and the registered one: ten names, within each source's budget.
    let mut client = None;
    let store = &server.running().app.store;
    let mut writes = WritesBySide::default();
    let what = "common file, unknown / registered MAC";
    assert_alike_in_time(what, 1.3, 34 * 9, async |side, pair| {
        let source = [127, 0, 2, (pair / 9) as u8 + 1];
        let opening = [("user-agent", T46S_UA)];
        let client = client_of(&mut client, &server, source, &opening).await;
        let fresh = format!("Yealink SIP-T46S 66.86.0.15 e0e0{pair:08x}");
        let ua = if side == Side::A {
            fresh.as_str()
        } else {
            T46S_UA
        };
        let started = Instant::now();
        let headers = [("user-agent", ua)];
        let request = get(client, "/y000000000066.cfg", &headers);
        let reply = writes.count(side, store, request).await;
        let took = started.elapsed().as_secs_f64();
        assert_eq!(reply.status, StatusCode::OK);
        took
    })
    .await;
    writes.assert_alike(what);
}

async fn count_unregistered(server: &TestServer) -> usize {
    server
        .running()
        .app
        .store
        .unregistered()
        .await
        .unwrap()
        .len()
}

/// The client of one source, its connection opened by a request that is not measured; a new
/// one when the source changes.
async fn client_of<'a>(
    slot: &'a mut Option<([u8; 4], Client)>,
    server: &TestServer,
    source: [u8; 4],
    opening: &[(&str, &str)],
) -> &'a Client {
    if slot.as_ref().is_none_or(|(held, _)| *held != source) {
        let client = from(server, source);
        get(&client, "/y000000000066.cfg", opening).await;
        *slot = Some((source, client));
    }
    &slot.as_ref().unwrap().1
}

/// Finding #14: a sweeper asks each MAC's own file once. A registered device's refusal was
/// recorded in the audit trail on the request path, an unknown MAC's was not: the first probe of
/// each registered MAC from a source did more work.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_own_file_costs_the_same_for_unknown_and_registered_macs() {
    let _one_at_a_time = FLOODS.lock().await;
    let server = TestServer::start().await;
    let api = server.admin_api();
    let registered: Vec<String> = (0..5).map(|i| format!("0015650a{i:04x}")).collect();
    for mac in &registered {
        api.create_device(NewDevice::new(mac).model("T46S"))
            .ok()
            .await;
    }
    server.clock.advance(2 * 3600);
    // Five registered and five unknown MACs from each source: within its budget of ten.
    let mut client = None;
    let store = &server.running().app.store;
    let mut writes = WritesBySide::default();
    let what = "refused own file, unknown / registered MAC";
    assert_alike_in_time(what, 1.3, 40 * 5, async |side, pair| {
        let source = [127, 0, 3, (pair / 5) as u8 + 1];
        let client = client_of(&mut client, &server, source, &[]).await;
        let unknown = format!("0015650b{pair:04x}");
        let mac = if side == Side::A {
            unknown.as_str()
        } else {
            registered[pair % 5].as_str()
        };
        let path = format!("/{mac}.cfg");
        let started = Instant::now();
        let request = get(client, &path, &[]);
        let reply = writes.count(side, store, request).await;
        let took = started.elapsed().as_secs_f64();
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        took
    })
    .await;
    // Finding #14's leak, an audit write on the request path, hides in a debug build's medians
    // (0.97 with it put back; the bench's (f) row, in release, shows 0.86); counted, it shows.
    writes.assert_alike(what);
}

/// Wrong credentials for an unknown MAC counted towards nothing, for a registered one towards
/// the source's ban: eleven guesses told which of two MACs is registered by the ban.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_credentials_count_alike_for_unknown_and_registered_macs() {
    let server = TestServer::start().await;
    server.seed_desk_phone().await;
    server.clock.advance(2 * 3600);
    crate::logs::remember_secret("guessed-password");
    let mut banned = Vec::new();
    for (n, mac) in [(90u8, T46S_MAC), (91, "0015650c0001")] {
        let guesser = from(&server, [127, 0, 0, n]);
        let auth = basic(mac, "guessed-password");
        let mut statuses = Vec::new();
        for _ in 0..12 {
            let reply = guesser
                .get(&format!("/{mac}.cfg"), &[("authorization", &auth)])
                .await;
            statuses.push(reply.map(|r| r.status).ok());
        }
        banned.push(statuses.last().copied().flatten() != Some(StatusCode::UNAUTHORIZED));
    }
    assert_eq!(
        banned[0], banned[1],
        "banned after wrong credentials: registered {}, unknown {}",
        banned[0], banned[1]
    );
}
