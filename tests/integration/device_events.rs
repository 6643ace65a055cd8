//! The per-device event log (`GET /api/v1/devices/{mac}/events`, `deskprov devices events`):
//! what a phone's requests leave there, its bounds under a flood, and the CLI's output.

use http::StatusCode;
use serde_json::Value;

use crate::helpers::*;

async fn events(server: &TestServer, mac: &str) -> Value {
    server.admin_api().device_events(mac).ok().await
}

fn kinds(log: &Value) -> Vec<(String, u64)> {
    log["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap().to_string(),
                e["count"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn fetches_and_refusals_appear_newest_first() {
    let server = TestServer::start().await;
    server.seed_desk_phone().await;
    let (user, password) = server.credentials(T46S_MAC).await;
    let good = basic(&user, &password);
    let path = format!("/{T46S_MAC}.cfg");
    fn with(authorization: &str) -> [(&str, &str); 2] {
        [("user-agent", T46S_UA), ("authorization", authorization)]
    }
    for _ in 0..2 {
        let reply = server.phone_get_with(&path, &with(&good)).await;
        assert_eq!(reply.status, StatusCode::OK);
    }
    let etag = server.phone_get_with(&path, &with(&good)).await.headers["etag"]
        .to_str()
        .unwrap()
        .to_string();
    let [ua, auth] = with(&good);
    let reply = server
        .phone_get_with(&path, &[ua, auth, ("if-none-match", &etag)])
        .await;
    assert_eq!(reply.status, StatusCode::NOT_MODIFIED);
    let wrong = basic(&user, "not-the-password");
    let reply = server.phone_get_with(&path, &with(&wrong)).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);

    let log = events(&server, "00:15:65:AA:BB:CC").await;
    assert_eq!(log["mac"], T46S_MAC);
    assert_eq!(log["registered"], true);
    assert_eq!(
        kinds(&log),
        [
            ("refused".to_string(), 1),
            ("not_modified".to_string(), 1),
            // Three fetches of the same file in a row are one event counted three times.
            ("served".to_string(), 3),
            ("firmware_changed".to_string(), 1),
        ]
    );
    let newest = &log["events"][0];
    assert_eq!(newest["detail"], "wrong provisioning credentials");
    assert_eq!(log["events"][2]["detail"], format!("{T46S_MAC}.cfg"));
    assert_eq!(log["events"][3]["detail"], "66.86.0.15 (first report)");
    assert!(log["events"][2]["first_at"].is_string());
    assert!(!log.to_string().contains(&password), "never a secret");

    // A MAC this node has no events of: an empty list, and whether it is registered.
    let unknown = events(&server, "001565000042").await;
    assert_eq!(unknown["registered"], false);
    assert_eq!(unknown["events"], Value::Array(vec![]));
    let bad = server
        .admin_api()
        .device_events("nonsense")
        .fails(StatusCode::BAD_REQUEST)
        .await;
    assert!(bad["error"].as_str().unwrap().contains("MAC"), "{bad}");
}

#[tokio::test]
async fn a_flood_of_refusals_for_many_macs_stays_within_the_bounds() {
    const DEVICES: usize = 32;
    const PER_DEVICE: usize = 3;
    let server = TestServer::start_with(|c| {
        c.limits.event_log_devices = DEVICES;
        c.limits.events_per_device = PER_DEVICE;
        // Never banned, so every request of the flood gets as far as its refusal.
        c.security.allow_networks = vec!["127.0.0.0/8".parse().unwrap()];
    })
    .await;
    server.seed_desk_phone().await;
    let (user, password) = server.credentials(T46S_MAC).await;
    let good = basic(&user, &password);
    let path = format!("/{T46S_MAC}.cfg");
    // Alternating events for one device: kept to its last PER_DEVICE.
    for round in 0..5 {
        let reply = server
            .phone_get_with(&path, &[("user-agent", T46S_UA), ("authorization", &good)])
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{round}");
        let wrong = basic(&user, &format!("wrong-{round}"));
        let reply = server
            .phone_get_with(&path, &[("user-agent", T46S_UA), ("authorization", &wrong)])
            .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        events(&server, T46S_MAC).await["events"]
            .as_array()
            .unwrap()
            .len(),
        PER_DEVICE
    );

    let flood: Vec<String> = (0..400u32).map(|n| format!("0015650{n:05x}")).collect();
    for mac in &flood {
        let reply = server
            .phone_get(&format!("/{mac}.cfg"), "Yealink SIP-T46S 66.86.0.15")
            .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{mac}");
    }
    let mut tracked = 0;
    for mac in &flood {
        let log = events(&server, mac).await;
        let kept = log["events"].as_array().unwrap();
        assert!(kept.len() <= 1, "{mac}: {log}");
        if let [event] = kept.as_slice() {
            assert_eq!(event["kind"], "refused");
            assert_eq!(event["detail"], "unknown device");
            tracked += 1;
        }
    }
    // As many as fit, the most recently active: the flood's last MAC among them.
    assert_eq!(tracked, DEVICES);
    assert_eq!(
        events(&server, flood.last().unwrap()).await["events"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // The phone before the flood was the least recently active of its shard: evicted.
    assert!(
        events(&server, T46S_MAC).await["events"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_shows_a_devices_events() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let server = BinaryServer::start(d, &[]);
    let admin = server.admin_addr;
    let (code, _, err) = cli(d, admin, &["devices", "add", "00:15:65:aa:bb:cc"]);
    assert_eq!(code, 0, "{err}");
    let phone = deskprov::client::Client::trusting_file(
        server.phone_addr,
        "localhost",
        &d.join("certs/server.crt"),
    )
    .unwrap();
    let fetched = phone
        .get("/001565aabbcc.cfg", &[("user-agent", T46S_UA)])
        .await
        .unwrap();
    assert_eq!(fetched.status, StatusCode::OK, "claimed in the window");

    let (code, out, err) = cli(d, admin, &["devices", "events", "001565aabbcc"]);
    assert_eq!(code, 0, "{err}");
    let mut lines = out.lines();
    let header = lines.next().unwrap();
    assert!(
        header.starts_with("001565aabbcc (registered): events on this node since "),
        "{out}"
    );
    let columns: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(columns, ["AT", "KIND", "COUNT", "DETAIL"], "{out}");
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split_whitespace().collect()).collect();
    let kinds: Vec<&str> = rows.iter().map(|r| r[1]).collect();
    assert_eq!(
        kinds,
        ["served", "model_reported", "firmware_changed", "claimed"],
        "{out}"
    );
    assert_eq!(rows[0][3], "001565aabbcc.cfg");
    assert_eq!(rows[1][3..], ["yealink", "T46S"]);

    let (code, out, _) = cli(d, admin, &["--json", "devices", "events", "001565aabbcc"]);
    assert_eq!(code, 0);
    let json: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["events"].as_array().unwrap().len(), 4);

    let (code, out, _) = cli(d, admin, &["devices", "events", "00-15-65-00-00-42"]);
    assert_eq!(code, 0);
    assert!(
        out.starts_with("001565000042 (not registered): no events on this node since "),
        "{out}"
    );
    let (code, _, err) = cli(d, admin, &["devices", "events", "00:15:65"]);
    assert_ne!(code, 0);
    assert!(err.contains("invalid MAC address"), "{err}");
}
