//! Several deskprov nodes on one PostgreSQL (a real server, postgres.rs), spoken to over HTTPS
//! as phones and admins: what one node writes the other serves byte for byte; a claim, a
//! hot-desk login and a Digest nonce count once across the nodes; the phone path sends no
//! statement for a cached file, nor a device read for an unknown MAC or a registered one it has
//! not served yet (a sweeper would time it); and a stopped database is survived.

use std::sync::Arc;
use std::time::Duration;

use http::StatusCode;
use serde_json::{Value, json};

use crate::api::NewDevice;
use crate::helpers::*;
use crate::postgres::Postgres;

/// The file as the phone fetches it once the node needs no statement for it: after the first
/// fetches, what they wrote (last seen, the proven address) comes back as notifications that
/// drop the node's decoded record once more. Fails when every fetch keeps sending statements.
async fn settled_fetch(node: &TestServer, path: &str, auth: &str) -> deskprov::client::Reply {
    let statements = || {
        node.running()
            .app
            .store
            .reads()
            .round_trips()
            .expect("a database")
    };
    for _ in 0..40 {
        let before = statements();
        let reply = node
            .phone_get_with(path, &[("user-agent", T46S_UA), ("authorization", auth)])
            .await;
        assert_eq!(reply.status, StatusCode::OK);
        if statements() == before {
            return reply;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("every fetch of {path} sent statements to the database");
}

/// Waits until each of `nodes` knows of `mac`, registered through another node: a node learns
/// new MACs from the notifications, as it learns every change of a device.
async fn heard_of(nodes: &[&TestServer], mac: &str) {
    let mac = deskprov::domain::Mac::parse(mac).unwrap();
    for node in nodes {
        let store = &node.running().app.store;
        let mut known = false;
        for _ in 0..100 {
            known = store.device_snapshot(mac).await.unwrap().is_some();
            if known {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(known, "a node heard of {mac} within 2 s");
    }
}

/// Two nodes of one site on a fresh database of the run's PostgreSQL.
async fn two_nodes() -> (TestServer, TestServer) {
    let url = Postgres::shared().database().await;
    nodes_on(&url).await
}

async fn nodes_on(url: &str) -> (TestServer, TestServer) {
    let on = |url: String| move |c: &mut deskprov::config::Config| c.database.url = Some(url);
    let a = TestServer::start_with(on(url.to_string())).await;
    let b = TestServer::start_beside(&a, on(url.to_string())).await;
    (a, b)
}

async fn fetch_with_credentials(
    node: &TestServer,
    mac: &str,
    path: &str,
) -> deskprov::client::Reply {
    let (user, password) = node.credentials(mac).await;
    let auth = basic(&user, &password);
    node.phone_get_with(path, &[("user-agent", T46S_UA), ("authorization", &auth)])
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_through_one_node_is_served_by_the_other_byte_for_byte() {
    let (a, b) = two_nodes().await;
    a.seed_desk_phone().await;
    heard_of(&[&b], T46S_MAC).await;
    let path = format!("/{T46S_MAC}.cfg");
    let from_a = fetch_with_credentials(&a, T46S_MAC, &path).await;
    let from_b = fetch_with_credentials(&b, T46S_MAC, &path).await;
    assert_eq!(from_a.status, StatusCode::OK);
    assert_eq!(from_b.status, StatusCode::OK);
    assert_eq!(from_a.body, from_b.body, "the same file from both nodes");
    assert!(from_b.text().contains("alice-secret-0001"));

    // B has the file cached now; A's change of what it depends on reaches it.
    a.admin_api()
        .patch_settings(json!({"sip_server": "pbx2.example.com"}))
        .ok()
        .await;
    let mut changed = None;
    for _ in 0..100 {
        let reply = fetch_with_credentials(&b, T46S_MAC, &path).await;
        if reply.text().contains("pbx2.example.com") {
            changed = Some(reply);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let changed = changed.expect("B serves A's change within 5 s");
    let from_a = fetch_with_credentials(&a, T46S_MAC, &path).await;
    assert_eq!(
        changed.body, from_a.body,
        "the same new file from both nodes"
    );

    // A device change (a label) written through B is served by A.
    b.admin_api()
        .patch_device(T46S_MAC, json!({"label": "Reception desk"}))
        .ok()
        .await;
    let device = a.admin_api().show_device(T46S_MAC).ok().await;
    assert_eq!(device["label"], "Reception desk");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_claims_spread_over_two_nodes_give_one_config() {
    let (a, b) = two_nodes().await;
    a.seed_desk_phone().await;
    heard_of(&[&b], T46S_MAC).await;
    let (a, b) = (Arc::new(a), Arc::new(b));
    let claims = (0..50u8).map(|i| {
        let node = if i % 2 == 0 { a.clone() } else { b.clone() };
        tokio::spawn(async move {
            let source = format!("127.0.0.{}", 10 + i).parse().unwrap();
            let phone = node.phone.clone().from_source(source);
            let path = format!("/{T46S_MAC}.cfg");
            phone.get(&path, &[("user-agent", T46S_UA)]).await.unwrap()
        })
    });
    let mut given = 0;
    for claim in claims {
        let reply = claim.await.unwrap();
        if reply.status == StatusCode::OK {
            assert!(reply.text().contains("alice-secret-0001"));
            given += 1;
        }
    }
    assert_eq!(given, 1, "exactly one of 50 racing claims got the config");
    let device = b.admin_api().show_device(T46S_MAC).ok().await;
    assert_eq!(device["claimed"], true, "{device}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_digest_nonce_from_one_node_is_accepted_by_the_other_once() {
    let (a, b) = two_nodes().await;
    a.seed_desk_phone().await;
    let (mac, uri) = ("7c2f80aabb09", "/7c2f80aabb09.xml");
    let ua = "Gigaset N870 IP PRO/83.V2.43.0+build.5f0a106;7C2F80AABB09;Handset=250";
    let api = a.admin_api();
    api.create_device(NewDevice::new(mac)).ok().await;
    api.assign(mac, 1, "1001").ok().await;
    heard_of(&[&b], mac).await;
    assert_eq!(
        a.phone_get(uri, ua).await.status,
        StatusCode::OK,
        "the claim"
    );
    a.clock.advance(3601);
    let challenged = a.phone_get(uri, ua).await;
    assert_eq!(challenged.status, StatusCode::UNAUTHORIZED);
    let challenge = deskprov::digest::Challenge::parse(challenged.challenges()[0]).unwrap();
    let (user, password) = a.credentials(mac).await;
    let answer = challenge.answer("GET", uri, &user, &password);
    crate::logs::remember_authorization(&answer);
    let headers = [("user-agent", ua), ("authorization", answer.as_str())];
    let on_b = b.phone_get_with(uri, &headers).await;
    assert_eq!(on_b.status, StatusCode::OK, "A's nonce is good on B");
    let replayed = a.phone_get_with(uri, &headers).await;
    assert_eq!(
        replayed.status,
        StatusCode::UNAUTHORIZED,
        "the same nonce count again, on A, is a replay"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_logins_of_one_user_over_two_nodes_leave_one_binding() {
    use crate::hotdesk::{ALICE_PIN, Desk, YEALINK, add_desk, browse, config, hotdesk_key, page};
    let url = Postgres::shared().database().await;
    let on = |url: String| move |c: &mut deskprov::config::Config| c.database.url = Some(url);
    let a = Arc::new(crate::hotdesk::site(on(url.clone())).await);
    let b = Arc::new(TestServer::start_beside(&a, on(url)).await);
    let mut desks = Vec::new();
    for i in 0..100u8 {
        let mac: &'static str = Box::leak(format!("001565ac{i:04x}").into_boxed_str());
        let ua: &'static str =
            Box::leak(format!("Yealink SIP-T54W 96.86.0.100 {mac}").into_boxed_str());
        let cfg: &'static str = Box::leak(format!("/{mac}.cfg").into_boxed_str());
        let desk = Desk {
            user_agent: ua,
            mac,
            config: cfg,
            ..YEALINK
        };
        add_desk(&a, desk).await;
        desks.push((desk, hotdesk_key(desk, &config(&a, desk).await)));
    }
    let last = desks.last().unwrap().0.mac;
    heard_of(&[&b], last).await;
    let logins = desks.into_iter().enumerate().map(|(i, (desk, key))| {
        let node = if i % 2 == 0 { a.clone() } else { b.clone() };
        tokio::spawn(async move {
            let query = format!("ext=1001&pin={ALICE_PIN}");
            browse(&node, desk, &key, &query).await.text()
        })
    });
    let mut welcomed = 0;
    for login in logins {
        if page(&login.await.unwrap()).text.starts_with("Welcome") {
            welcomed += 1;
        }
    }
    assert!(welcomed >= 1);
    let devices = b.admin_api().list_devices().ok().await;
    let bound: Vec<&Value> = devices
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| !d["logged_in"].as_array().unwrap().is_empty())
        .collect();
    assert_eq!(bound.len(), 1, "exactly one phone of either node has her");
    let user = a.admin_api().show_user("1001").ok().await;
    assert_eq!(user["logged_in_at"]["mac"], bound[0]["mac"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cached_file_is_served_without_a_statement_to_the_database() {
    let (a, b) = two_nodes().await;
    a.seed_desk_phone().await;
    heard_of(&[&b], T46S_MAC).await;
    let path = format!("/{T46S_MAC}.cfg");
    let first = fetch_with_credentials(&b, T46S_MAC, &path).await;
    assert_eq!(first.status, StatusCode::OK);
    let etag = first.header("etag").expect("an ETag").to_string();
    let (user, password) = b.credentials(T46S_MAC).await;
    let auth = basic(&user, &password);
    // Counted on B while A does the site's housekeeping (B's own background work would send
    // statements of its own).
    let mut a_keeps_house = false;
    for _ in 0..100 {
        a_keeps_house = a.running().app.store.runs_housekeeping();
        if a_keeps_house {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(a_keeps_house, "the first node took the housekeeping lease");
    assert!(
        !b.running().app.store.runs_housekeeping(),
        "one node keeps house"
    );
    let statements = || {
        b.running()
            .app
            .store
            .reads()
            .round_trips()
            .expect("a database")
    };
    let again = settled_fetch(&b, &path, &auth).await;
    assert_eq!(again.body, first.body);
    let before = statements();
    let unchanged = b
        .phone_get_with(
            &path,
            &[
                ("user-agent", T46S_UA),
                ("authorization", &auth),
                ("if-none-match", &etag),
            ],
        )
        .await;
    assert_eq!(unchanged.status, StatusCode::NOT_MODIFIED);
    assert_eq!(
        statements(),
        before,
        "a cached 200 and a 304 sent no statement"
    );
    drop(a);
}

fn t46s_user_agent(mac: &str) -> String {
    let octets: Vec<&str> = (0..6).map(|i| &mac[2 * i..2 * i + 2]).collect();
    format!("Yealink SIP-T46S 66.86.0.15 {}", octets.join(":"))
}

fn device_reads_sent(node: &TestServer) -> u64 {
    node.running()
        .app
        .store
        .reads()
        .device_reads_sent()
        .expect("a database")
}

/// A MAC asked of `node` as a sweeper asks: its own file without credentials, and the common
/// file with the MAC in the User-Agent. The two statuses, and the device reads sent meanwhile.
async fn asked(node: &TestServer, mac: &str) -> (StatusCode, StatusCode, u64) {
    let user_agent = t46s_user_agent(mac);
    let before = device_reads_sent(node);
    let own = node.phone_get(&format!("/{mac}.cfg"), "").await.status;
    let named = node
        .phone_get("/y000000000066.cfg", &user_agent)
        .await
        .status;
    (own, named, device_reads_sent(node) - before)
}

/// A sweeper timing the answers for MAC after MAC must not tell the registered ones: on a node
/// started after they were registered, neither an unknown MAC nor a registered phone it has not
/// served yet sends a device read to the database (the round trip a device decoded in memory
/// does not make), nor does an unknown MAC after a bulk write through the other node; a device
/// removed there costs one read, which is also what shows the reads are counted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sweep_of_macs_sends_no_device_read_to_the_database() {
    let url = Postgres::shared().database().await;
    let a = TestServer::start_with(|c| c.database.url = Some(url.clone())).await;
    a.seed_desk_phone().await;
    let b = TestServer::start_beside(&a, |c| {
        c.database.url = Some(url.clone());
        c.security.max_refused_macs = 1000;
    })
    .await;
    let reads = || device_reads_sent(&b);
    let unknown = |n: usize| format!("001565ee{n:04x}");
    // Until B has read the site's devices after it began listening, it asks the database.
    let mut n = 0;
    loop {
        let before = reads();
        let reply = b.phone_get(&format!("/{}.cfg", unknown(n)), "").await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        n += 1;
        if reads() == before {
            break;
        }
        assert!(n < 50, "B kept asking the database about unknown MACs");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let registered = asked(&b, T46S_MAC).await;
    assert_eq!(
        registered,
        (StatusCode::UNAUTHORIZED, StatusCode::OK, 0),
        "a registered phone B never served: refused without credentials, no device read"
    );
    for n in n..n + 5 {
        let mac = unknown(n);
        let answers = asked(&b, &mac).await;
        assert_eq!(
            answers,
            (StatusCode::UNAUTHORIZED, StatusCode::OK, 0),
            "an unknown MAC is answered as a registered one, without a device read: {mac}"
        );
    }

    // 70 devices in one transaction, named to B in one notification: B knows them and still
    // answers unknown MACs from memory.
    let bulk_mac = |i: usize| format!("001565ef{i:04x}");
    let bulk: Vec<Value> = (0..70)
        .map(|i| json!({"mac": bulk_mac(i), "model": "T46S"}))
        .collect();
    a.admin_api()
        .create_devices(json!({ "devices": bulk }))
        .ok()
        .await;
    let last = bulk_mac(69);
    heard_of(&[&b], &last).await;
    let (user, password) = b.credentials(&last).await;
    let served = b
        .phone_get_with(
            &format!("/{last}.cfg"),
            &[
                ("user-agent", &t46s_user_agent(&last)),
                ("authorization", &basic(&user, &password)),
            ],
        )
        .await;
    assert_eq!(
        served.status,
        StatusCode::OK,
        "B serves a device registered in bulk on A"
    );
    for n in n + 5..n + 10 {
        let mac = unknown(n);
        let answers = asked(&b, &mac).await;
        assert_eq!(
            answers,
            (StatusCode::UNAUTHORIZED, StatusCode::OK, 0),
            "after a bulk write, still no device read for an unknown MAC: {mac}"
        );
    }

    // A device removed through A: B reads the database once for it, then knows it is gone.
    let removed = bulk_mac(3);
    a.admin_api().delete_device(&removed).ok().await;
    assert_eq!(
        asked(&b, &removed).await,
        (StatusCode::UNAUTHORIZED, StatusCode::OK, 1),
        "a MAC B holds but has not decoded is read from the database"
    );
    assert_eq!(
        asked(&b, &removed).await,
        (StatusCode::UNAUTHORIZED, StatusCode::OK, 0),
        "a MAC found without a record is taken out of B's set"
    );
    drop(a);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_database_keeps_cached_files_refuses_writes_and_is_reconnected() {
    let postgres = Postgres::start();
    let url = postgres.database().await;
    let (a, _b) = nodes_on(&url).await;
    a.seed_desk_phone().await;
    let path = format!("/{T46S_MAC}.cfg");
    let cached = fetch_with_credentials(&a, T46S_MAC, &path).await;
    assert_eq!(cached.status, StatusCode::OK);
    let (user, password) = a.credentials(T46S_MAC).await;
    let auth = basic(&user, &password);
    settled_fetch(&a, &path, &auth).await;

    postgres.down();
    let served = a
        .phone_get_with(&path, &[("user-agent", T46S_UA), ("authorization", &auth)])
        .await;
    assert_eq!(
        served.status,
        StatusCode::OK,
        "a proven phone keeps its cached file"
    );
    assert_eq!(served.body, cached.body);
    let write = a
        .admin_api()
        .patch_settings(json!({"sip_server": "pbx3.example.com"}))
        .send()
        .await;
    assert_eq!(
        write.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        write.text()
    );
    assert!(write.header("retry-after").is_some());
    a.admin_api()
        .create_device(NewDevice::new("001565aabbdd").model("T46S"))
        .fails(StatusCode::SERVICE_UNAVAILABLE)
        .await;
    let unknown = a.phone_get("/001565aabbdd.cfg", T46S_UA).await;
    assert_eq!(
        unknown.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "never a wrong answer"
    );
    assert!(unknown.header("retry-after").is_some());

    postgres.up();
    let mut recovered = false;
    for _ in 0..100 {
        let write = a
            .admin_api()
            .patch_settings(json!({"sip_server": "pbx3.example.com"}))
            .send()
            .await;
        if write.status == StatusCode::OK {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        recovered,
        "writes succeed again without a restart of deskprov"
    );
    let settings = a.admin_api().settings().ok().await;
    assert_eq!(settings["sip_server"], "pbx3.example.com");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_serve_only_with_the_sites_templates() {
    let url = Postgres::shared().database().await;
    let site_templates = tempfile::tempdir().unwrap();
    override_template(site_templates.path(), "site set one");
    let with = |url: String, templates: std::path::PathBuf| {
        move |c: &mut deskprov::config::Config| {
            c.database.url = Some(url);
            c.server.templates_dir = Some(templates);
        }
    };
    let a = TestServer::start_with(with(url.clone(), site_templates.path().into())).await;
    a.seed_desk_phone().await;

    // A node with other templates is refused at start, saying why.
    let other_templates = tempfile::tempdir().unwrap();
    override_template(other_templates.path(), "another set");
    let dir = tempfile::tempdir().unwrap();
    write_test_certificates(&dir.path().join("certs"));
    let mut config = test_config(dir.path());
    with(url.clone(), other_templates.path().into())(&mut config);
    let refused = deskprov::startup::start(config, a.clock.clone()).await;
    let error = refused
        .err()
        .expect("a node with other templates does not start");
    assert!(
        error
            .to_string()
            .contains("differ from those the site's other nodes use"),
        "{error}"
    );

    // Same templates: B starts and serves A's bytes. Then A reloads a changed set: B stops
    // serving phones until it has the same set and reloads too.
    let b = TestServer::start_beside(&a, with(url, site_templates.path().into())).await;
    let path = format!("/{T46S_MAC}.cfg");
    let before = fetch_with_credentials(&b, T46S_MAC, &path).await;
    assert!(before.text().contains("## site set one"));
    override_template(site_templates.path(), "site set two");
    a.admin_api().reload_templates().ok().await;
    let mut refused = false;
    for _ in 0..100 {
        if fetch_with_credentials(&b, T46S_MAC, &path).await.status
            == StatusCode::SERVICE_UNAVAILABLE
        {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        refused,
        "B answers 503 while its templates differ from the site's"
    );
    b.admin_api().reload_templates().ok().await;
    let after = fetch_with_credentials(&b, T46S_MAC, &path).await;
    assert_eq!(after.status, StatusCode::OK);
    assert!(after.text().contains("## site set two"));
    assert_eq!(
        after.body,
        fetch_with_credentials(&a, T46S_MAC, &path).await.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn firmware_uploaded_through_one_node_is_served_by_the_other() {
    let (a, b) = two_nodes().await;
    // Three parts and a bit: the parts are put back together in order.
    let image: Vec<u8> = (0..(3 * 1024 * 1024 + 1000))
        .map(|i| (i % 251) as u8)
        .collect();
    a.admin_api()
        .upload_firmware("t46s-66.86.0.160.rom", &image)
        .ok()
        .await;
    let listed = b.admin_api().list_firmware().ok().await;
    assert_eq!(listed[0]["name"], "t46s-66.86.0.160.rom", "{listed}");
    assert_eq!(listed[0]["bytes"], image.len());
    let path = "/firmware/t46s-66.86.0.160.rom";
    let served = b.phone_get(path, T46S_UA).await;
    assert_eq!(served.status, StatusCode::OK);
    assert!(served.body == image, "B serves A's upload byte for byte");

    // A new content of the name replaces it on B; removed through B, A serves it no more.
    let newer: Vec<u8> = image.iter().rev().copied().collect();
    a.admin_api()
        .upload_firmware("t46s-66.86.0.160.rom", &newer)
        .ok()
        .await;
    assert!(b.phone_get(path, T46S_UA).await.body == newer);
    assert!(a.phone_get(path, T46S_UA).await.body == newer);
    b.admin_api()
        .delete_firmware("t46s-66.86.0.160.rom")
        .ok()
        .await;
    assert_eq!(
        a.phone_get(path, T46S_UA).await.status,
        StatusCode::NOT_FOUND
    );
    assert!(
        a.admin_api()
            .list_firmware()
            .ok()
            .await
            .as_array()
            .unwrap()
            .is_empty()
    );
}

/// Three nodes of a hot-desk site on one database, each with its own data directory.
async fn three_hotdesk_nodes(
    adjust: impl Fn(&mut deskprov::config::Config) + Clone,
) -> Vec<TestServer> {
    let url = Postgres::shared().database().await;
    let on = |url: String, adjust: Box<dyn Fn(&mut deskprov::config::Config)>| {
        move |c: &mut deskprov::config::Config| {
            c.database.url = Some(url);
            adjust(c);
        }
    };
    let a = crate::hotdesk::site(on(url.clone(), Box::new(adjust.clone()))).await;
    let b = TestServer::start_beside(&a, on(url.clone(), Box::new(adjust.clone()))).await;
    let c = TestServer::start_beside(&a, on(url, Box::new(adjust))).await;
    vec![a, b, c]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pin_spray_over_three_nodes_is_stopped_within_one_nodes_limits() {
    use crate::hotdesk::{
        ALICE_PIN, BOB_PIN, add_desk, config, hotdesk_key, try_login, yealink_desk,
    };
    let nodes = three_hotdesk_nodes(|_| {}).await;
    let desks: Vec<_> = (1..=5).map(yealink_desk).collect();
    let mut keys = Vec::new();
    for desk in &desks {
        add_desk(&nodes[0], *desk).await;
        keys.push(hotdesk_key(*desk, &config(&nodes[0], *desk).await));
    }
    heard_of(&[&nodes[1], &nodes[2]], desks[4].mac).await;
    // Five wrong PINs for Alice at one phone, each through another node than the last: locked
    // at that phone after the fifth, as on one node.
    for i in 0..4 {
        let text = try_login(&nodes[i % 3], desks[0], &keys[0], "1001", "111222").await;
        assert!(text.starts_with("Wrong PIN"), "try {i}: {text}");
    }
    let text = try_login(&nodes[1], desks[0], &keys[0], "1001", "111222").await;
    assert_eq!(text, "Wrong PIN. Locked for 15 minutes.");
    let text = try_login(&nodes[2], desks[0], &keys[0], "1001", ALICE_PIN).await;
    assert_eq!(text, "Locked for 15 minutes.", "locked on every node");

    // Bob's PIN guessed at three phones, one per node: Bob is locked out everywhere.
    for (n, (desk, key)) in desks.iter().zip(&keys).skip(2).take(3).enumerate() {
        for _ in 0..5 {
            try_login(&nodes[n], *desk, key, "1002", "111222").await;
        }
    }
    let text = try_login(&nodes[0], desks[1], &keys[1], "1002", BOB_PIN).await;
    assert_eq!(
        text, "Locked for 15 minutes.",
        "Bob at a fourth phone, on the first node"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sweeper_of_one_node_logs_an_expired_login_out_once() {
    use crate::hotdesk::{ALICE_PIN, ALICE_SECRET, YEALINK, add_desk, config, login};
    let nodes = three_hotdesk_nodes(|c| c.hotdesk.sweep_interval_secs = 1).await;
    let api = nodes[1].admin_api();
    api.patch_settings(json!({"hotdesk_max_login_minutes": 60}))
        .ok()
        .await;
    add_desk(&nodes[0], YEALINK).await;
    heard_of(&[&nodes[1], &nodes[2]], YEALINK.mac).await;
    login(&nodes[2], YEALINK, "1001", ALICE_PIN).await;
    assert!(config(&nodes[1], YEALINK).await.contains(ALICE_SECRET));
    let keepers = nodes
        .iter()
        .filter(|n| n.running().app.store.runs_housekeeping())
        .count();
    assert_eq!(keepers, 1, "one node of three keeps house");
    nodes[0].clock.advance(61 * 60);
    let swept = |records: &Value| {
        records
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| {
                r["actor"] == "hot-desk expiry"
                    && r["detail"]
                        .as_str()
                        .is_some_and(|d| d.starts_with("1001: "))
            })
            .count()
    };
    let logouts = || {
        api.list_audit(crate::api::AuditFilter::kind("hotdesk_logout"))
            .ok()
    };
    let mut seen = 0;
    for _ in 0..100 {
        seen = swept(&logouts().await);
        if seen > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(seen, 1, "the expired login was swept");
    // Three more sweeps' time: still one logout.
    tokio::time::sleep(Duration::from_millis(3000)).await;
    assert_eq!(
        swept(&logouts().await),
        1,
        "logged out once, not once per node"
    );
    let user = api.show_user("1001").ok().await;
    assert!(user["logged_in_at"].is_null(), "{user}");
}

/// Three nodes started at once on an empty database: one admin token, one owner account.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_starting_together_make_one_token_and_one_owner() {
    crate::logs::init();
    let url = Postgres::shared().database().await;
    let dirs: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let clock = deskprov::clock::Clock::manual(START);
    let starts = dirs.iter().map(|dir| {
        write_test_certificates(&dir.path().join("certs"));
        let mut config = test_config(dir.path());
        config.database.url = Some(url.clone());
        deskprov::startup::start(config, clock.clone())
    });
    let running = futures_util::future::join_all(starts).await;
    let running: Vec<_> = running
        .into_iter()
        .map(|r| r.expect("every node starts"))
        .collect();
    let client = crate::postgres::client(&url).await;
    let count = |tree: &'static str| {
        let client = &client;
        async move {
            let row = client
                .query_one("SELECT count(*) FROM records WHERE tree = $1", &[&tree])
                .await
                .unwrap();
            row.get::<_, i64>(0)
        }
    };
    assert_eq!(count("tokens").await, 1, "one initial admin token");
    assert_eq!(count("accounts").await, 1, "one owner account");
    let written = |file: &str| {
        dirs.iter()
            .filter(|d| d.path().join("data").join(file).exists())
            .count()
    };
    assert_eq!(written("admin.token"), 1, "one node wrote the token file");
    assert_eq!(
        written("admin.password"),
        1,
        "one node wrote the owner's password file"
    );
    for dir in &dirs {
        for file in ["admin.token", "admin.password"] {
            if let Ok(secret) = std::fs::read_to_string(dir.path().join("data").join(file)) {
                crate::logs::remember_secret(secret.trim());
            }
        }
    }
    for node in running {
        node.stop().await;
    }
}

/// A node started while the database is down waits for it, then starts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_started_before_its_database_waits_for_it() {
    let postgres = Postgres::start();
    let url = postgres.database().await;
    postgres.down();
    let starting =
        tokio::spawn(
            async move { TestServer::start_with(move |c| c.database.url = Some(url)).await },
        );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(!starting.is_finished(), "the node waits for its database");
    postgres.up();
    let node = tokio::time::timeout(Duration::from_secs(30), starting)
        .await
        .expect("the node starts once the database is up")
        .unwrap();
    node.admin_api().settings().ok().await;
}

/// `sslmode=require` with the CA in `[database] ca_file`: the node works on a database that
/// takes TLS connections only. A CA that did not sign the database's certificate, or none
/// (the public web CAs), is refused at once with an error that names the certificate.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_reaches_its_database_over_tls_and_refuses_a_certificate_it_cannot_verify() {
    use deskprov::store::postgres::{DatabaseUrl, PgBackend};
    let postgres = Postgres::start_tls();
    let plain = tokio_postgres::connect(&postgres.admin_url(), tokio_postgres::NoTls).await;
    assert!(plain.is_err(), "the test server takes TLS connections only");
    let url = format!("{}?sslmode=require", postgres.admin_url());
    let files = tempfile::tempdir().unwrap();
    let site_ca = files.path().join("database-ca.pem");
    std::fs::write(&site_ca, &test_ca().pem).unwrap();

    let node = {
        let (url, site_ca) = (url.clone(), site_ca.clone());
        TestServer::start_with(move |c| {
            c.database.url = Some(url);
            c.database.ca_file = Some(site_ca);
        })
        .await
    };
    node.seed_desk_phone().await;
    let config = fetch_with_credentials(&node, T46S_MAC, &format!("/{T46S_MAC}.cfg")).await;
    assert_eq!(config.status, StatusCode::OK);
    assert!(config.text().contains("alice-secret-0001"));

    let other_ca = files.path().join("other-ca.pem");
    std::fs::write(&other_ca, another_ca_pem()).unwrap();
    for ca_file in [Some(other_ca), None] {
        let parsed = DatabaseUrl::parse(&url, None, ca_file.clone()).unwrap();
        let refused = tokio::time::timeout(Duration::from_secs(20), PgBackend::connect(&parsed))
            .await
            .expect("a certificate that cannot be verified fails at once, without retries");
        let error = refused.err().expect("an unverified database is refused");
        assert!(
            error.to_string().contains("certificate"),
            "{ca_file:?}: {error}"
        );
    }
}

/// A CA of its own that signed nothing the tests use.
fn another_ca_pem() -> String {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "another CA");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params
        .self_signed(&KeyPair::generate().unwrap())
        .unwrap()
        .pem()
}

/// PostgreSQL restarted while phones and admins keep both nodes busy: every config served is
/// whole, every refusal is a 503 with Retry-After, and once the database is back both nodes
/// write and follow each other without a restart, with every acknowledged write kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_restarted_under_load_gives_503s_then_recovers() {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicBool, Ordering};
    let postgres = Postgres::start();
    let url = postgres.database().await;
    let (a, b) = nodes_on(&url).await;
    a.seed_desk_phone().await;
    heard_of(&[&b], T46S_MAC).await;
    let path = format!("/{T46S_MAC}.cfg");
    let (user, password) = a.credentials(T46S_MAC).await;
    let auth = basic(&user, &password);
    let config = settled_fetch(&a, &path, &auth).await.body;
    let nodes = [Arc::new(a), Arc::new(b)];
    let stop = Arc::new(AtomicBool::new(false));
    let phones_refused = Arc::new(Mutex::new(0u32));
    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let writes_refused = Arc::new(Mutex::new(0u32));

    let mut load = Vec::new();
    for worker in 0..4usize {
        let node = nodes[worker % 2].clone();
        let (stop, refused, auth, path, config) = (
            stop.clone(),
            phones_refused.clone(),
            auth.clone(),
            path.clone(),
            config.clone(),
        );
        load.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let reply = node
                    .phone_get_with(&path, &[("user-agent", T46S_UA), ("authorization", &auth)])
                    .await;
                match reply.status {
                    StatusCode::OK => assert_eq!(reply.body, config, "a whole config or none"),
                    StatusCode::SERVICE_UNAVAILABLE => {
                        assert!(reply.header("retry-after").is_some());
                        *refused.lock().unwrap() += 1;
                    }
                    other => panic!("a phone got {other} while the database restarted"),
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }));
    }
    for (writer, node) in nodes.iter().enumerate() {
        let node = node.clone();
        let (stop, acknowledged, refused) =
            (stop.clone(), acknowledged.clone(), writes_refused.clone());
        load.push(tokio::spawn(async move {
            for i in 0.. {
                if stop.load(Ordering::Relaxed) {
                    return;
                }
                let extension = format!("{}{i:04}", writer + 5);
                let user = crate::api::NewUser::new(&extension, "Load Test");
                let reply = node.admin_api().create_user(user).send().await;
                match reply.status {
                    StatusCode::CREATED => acknowledged.lock().unwrap().push(extension),
                    StatusCode::SERVICE_UNAVAILABLE => {
                        assert!(reply.header("retry-after").is_some());
                        *refused.lock().unwrap() += 1;
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                    other => panic!("an admin write got {other}: {}", reply.text()),
                }
            }
        }));
    }

    tokio::time::sleep(Duration::from_millis(800)).await;
    postgres.down();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    postgres.up();
    let before = acknowledged.lock().unwrap().len();
    let mut recovered = false;
    for _ in 0..150 {
        let both_write = {
            let since = &acknowledged.lock().unwrap()[before..];
            since.iter().any(|e| e.starts_with('5')) && since.iter().any(|e| e.starts_with('6'))
        };
        if both_write {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    stop.store(true, Ordering::Relaxed);
    for task in load {
        task.await.unwrap();
    }
    assert!(recovered, "both nodes write again without a restart");
    assert!(
        *writes_refused.lock().unwrap() > 0,
        "writes were refused while the database was down"
    );

    let [a, b] = nodes;
    a.admin_api()
        .patch_settings(json!({"sip_server": "pbx9.example.com"}))
        .ok()
        .await;
    let mut followed = false;
    for _ in 0..100 {
        let reply = b
            .phone_get_with(&path, &[("user-agent", T46S_UA), ("authorization", &auth)])
            .await;
        if reply.status == StatusCode::OK && reply.text().contains("pbx9.example.com") {
            followed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(followed, "B serves A's write after the restart");
    let users = b.admin_api().list_users().ok().await;
    let stored: std::collections::HashSet<&str> = users
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|u| u["extension"].as_str())
        .collect();
    let acknowledged = acknowledged.lock().unwrap();
    let lost: Vec<&String> = acknowledged
        .iter()
        .filter(|e| !stored.contains(e.as_str()))
        .collect();
    assert!(lost.is_empty(), "acknowledged writes lost: {lost:?}");
    eprintln!(
        "restart under load: {} writes acknowledged, {} refused, {} phone fetches refused",
        acknowledged.len(),
        writes_refused.lock().unwrap(),
        phones_refused.lock().unwrap()
    );
}
