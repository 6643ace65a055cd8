//! Phones fetching their files: identification, claim window, credentials, auto-fill, ETags.

use http::{Method, StatusCode};
use serde_json::json;

use crate::api::NewDevice;
use crate::helpers::*;
use crate::kv;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn common_file_goes_to_anyone_without_secrets() {
    let server = TestServer::start().await;
    server.seed_desk_phone().await;
    for ua in [
        T46S_UA,
        "",
        "curl/8.0",
        "Yealink SIP-T46S 66.86.0.15 00:15:65:00:00:99",
    ] {
        let r = server.phone_get("/y000000000066.cfg", ua).await;
        assert_eq!(r.status, StatusCode::OK, "{ua}");
        assert_eq!(r.header("content-type"), Some("text/plain; charset=utf-8"));
        let keys = kv::parse(&r.text()).unwrap();
        assert!(
            keys.keys()
                .all(|k| !k.contains("password") && !k.starts_with("account.")),
            "{keys:?}"
        );
        assert!(!r.text().contains("alice-secret-0001"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claim_window_then_credentials_only() {
    let server = TestServer::start().await;
    server.seed_desk_phone().await;
    let path = format!("/{T46S_MAC}.cfg");

    // First request in the claim window: the config, with the device's credentials in it.
    let first = server.phone_get(&path, T46S_UA).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text());
    assert_eq!(first.header("cache-control"), Some("no-store"));
    let keys = kv::parse(&first.text()).unwrap();
    assert_eq!(keys["account.1.password"], "alice-secret-0001");
    let (user, password) = server.credentials(T46S_MAC).await;
    assert_eq!(keys["static.auto_provision.server.username"], user);
    assert_eq!(keys["static.auto_provision.server.password"], password);
    assert!(password.len() >= 16);
    assert_eq!(
        server.admin_api().show_device(T46S_MAC).ok().await["claimed"],
        true
    );

    // Shortly after, the same address still gets its files; later only with credentials.
    assert_eq!(
        server.phone_get(&path, T46S_UA).await.status,
        StatusCode::OK
    );
    server.clock.advance(301);
    let late = server.phone_get(&path, T46S_UA).await;
    assert_eq!(late.status, StatusCode::UNAUTHORIZED);
    let challenges = late.challenges();
    assert!(
        challenges[0].starts_with("Digest realm=\"deskprov\", qop=\"auth\""),
        "{challenges:?}"
    );
    assert_eq!(challenges[1], "Basic realm=\"deskprov\"");
    assert!(!late.text().contains("secret"));

    let auth = basic(&user, &password);
    let with = server
        .phone_get_with(&path, &[("user-agent", T46S_UA), ("authorization", &auth)])
        .await;
    assert_eq!(with.status, StatusCode::OK);
    assert_eq!(
        with.body, first.body,
        "byte-identical while nothing changed"
    );

    let wrong = basic(&user, "not-the-password");
    let r = server
        .phone_get_with(&path, &[("user-agent", T46S_UA), ("authorization", &wrong)])
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    // The credentials of one device open no other device.
    server
        .admin_api()
        .create_device(NewDevice::new("001565000002").model("T46S"))
        .ok()
        .await;
    server.clock.advance(3601);
    let foreign = server
        .phone_get_with("/001565000002.cfg", &[("authorization", &auth)])
        .await;
    assert_eq!(foreign.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_claim_window_and_reset() {
    let server = TestServer::start().await;
    server.seed_desk_phone().await;
    let path = format!("/{T46S_MAC}.cfg");
    server.clock.advance(3600);
    assert_eq!(
        server.phone_get(&path, T46S_UA).await.status,
        StatusCode::UNAUTHORIZED
    );
    let api = server.admin_api();
    let device = api.show_device(T46S_MAC).ok().await;
    assert_eq!(device["claimed"], false);
    assert_eq!(device["claim_open_until"], serde_json::Value::Null);

    let (_, old_password) = server.credentials(T46S_MAC).await;
    let reset = api.reset_claim(T46S_MAC).ok().await;
    assert!(reset["claim_open_until"].is_string());
    let (user, new_password) = server.credentials(T46S_MAC).await;
    assert_ne!(
        old_password, new_password,
        "a reset replaces the provisioning password"
    );
    let r = server.phone_get(&path, T46S_UA).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        kv::parse(&r.text()).unwrap()["static.auto_provision.server.password"],
        new_password
    );
    server.clock.advance(301);
    let old = basic(&user, &old_password);
    assert_eq!(
        server
            .phone_get_with(&path, &[("authorization", &old)])
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_cannot_fetch_another_phones_config() {
    let server = TestServer::start().await;
    server.seed_desk_phone().await;
    // Claim window open, but the User-Agent names another MAC than the file.
    let other_ua = "Yealink SIP-T46S 66.86.0.15 00:15:65:00:00:01";
    let r = server
        .phone_get(&format!("/{T46S_MAC}.cfg"), other_ua)
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        server.admin_api().show_device(T46S_MAC).ok().await["claimed"],
        false
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_macs_look_like_claimed_devices_and_are_remembered() {
    let server = TestServer::start_with(|c| {
        c.provisioning.max_unregistered = 5;
        // This test sweeps on purpose; security.rs tests the ban.
        c.security.max_refused_macs = 1000;
    })
    .await;
    server.seed_desk_phone().await;
    server.clock.advance(3600);
    let registered = server.phone_get(&format!("/{T46S_MAC}.cfg"), "").await;
    let unknown = server
        .phone_get(
            "/001565123456.cfg",
            "Yealink SIP-T54W 96.86.0.100 00:15:65:12:34:56",
        )
        .await;
    assert_eq!(unknown.status, registered.status);
    assert_eq!(unknown.body, registered.body);
    assert_eq!(unknown.challenges(), registered.challenges());

    let api = server.admin_api();
    wait_until_listed(&api, &["001565123456"]).await;
    let seen = api.list_unregistered().ok().await;
    let entry = seen
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["mac"] == "001565123456")
        .unwrap()
        .clone();
    assert_eq!(entry["vendor"], "yealink");
    assert_eq!(entry["model"], "T54W");
    assert_eq!(entry["firmware"], "96.86.0.100");

    // Bounded: a sweep of made-up MACs keeps only the most recent few.
    for i in 0..20 {
        server.clock.advance(1);
        server
            .phone_get(&format!("/0015650000{i:02x}.cfg"), "")
            .await;
    }
    wait_until_listed(&api, &["001565000013"]).await;
    let seen = api.list_unregistered().ok().await;
    assert_eq!(seen.as_array().unwrap().len(), 5);

    // Adopting a seen device registers it with what it reported.
    server
        .phone_get(
            "/y000000000096.cfg",
            "Yealink SIP-T54W 96.86.0.100 00:15:65:12:34:57",
        )
        .await;
    wait_until_listed(&api, &["001565123457"]).await;
    let adopted = api
        .adopt_with("001565123457", json!({"label": "Lobby"}))
        .ok()
        .await;
    assert_eq!(adopted["model"], "T54W");
    assert_eq!(adopted["model_source"], "auto");
    assert_eq!(adopted["firmware"], "96.86.0.100");
    assert_eq!(adopted["label"], "Lobby");
    let seen = api.list_unregistered().ok().await;
    assert!(
        seen.as_array()
            .unwrap()
            .iter()
            .all(|e| e["mac"] != "001565123457")
    );
    let twice = api.adopt("001565123457").await;
    assert_eq!(twice.status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn model_is_filled_in_once_and_admin_models_are_kept() {
    let server = TestServer::start().await;
    server.seed_desk_phone().await;
    let api = server.admin_api();
    api.create_device(NewDevice::new("00:15:65:00:00:10"))
        .ok()
        .await;

    // The phone's claim fills in its model (a request that proved nothing tells nothing).
    let claimed = server
        .phone_get(
            "/001565000010.cfg",
            "Yealink SIP-T46S 66.86.0.15 00:15:65:00:00:10",
        )
        .await;
    assert_eq!(claimed.status, StatusCode::OK);
    let d = api.show_device("001565000010").ok().await;
    assert_eq!(d["model"], "T46S");
    assert_eq!(d["vendor"], "yealink");
    assert_eq!(d["model_source"], "auto");
    assert_eq!(d["firmware"], "66.86.0.15");
    assert_eq!(d["line_count"], 16);
    assert_eq!(d["last_address"], "127.0.0.1");
    let first_seen = d["first_seen"].clone();
    assert!(first_seen.is_string());

    // Firmware stays current; the auto-filled model is not replaced by another report.
    server.clock.advance(120);
    let (user, password) = server.credentials("001565000010").await;
    let auth = basic(&user, &password);
    let again = server
        .phone_get_with(
            "/001565000010.cfg",
            &[
                (
                    "user-agent",
                    "Yealink SIP-T46S 66.86.0.20 00:15:65:00:00:10",
                ),
                ("authorization", &auth),
            ],
        )
        .await;
    assert_eq!(again.status, StatusCode::OK);
    let d = api.show_device("001565000010").ok().await;
    assert_eq!(d["firmware"], "66.86.0.20");
    assert_eq!(d["first_seen"], first_seen);
    assert_ne!(d["last_seen"], first_seen);

    // A phone of another model cannot claim an admin-set model's device: it gets the one
    // refusal. Proven by the device's credentials, its report is recorded as a mismatch and the
    // admin's model is kept.
    let t54w_ua = "Yealink SIP-T54W 96.86.0.100 00:15:65:aa:bb:cc";
    let claim = server.phone_get(&format!("/{T46S_MAC}.cfg"), t54w_ua).await;
    assert_eq!(claim.status, StatusCode::UNAUTHORIZED);
    let (user, password) = server.credentials(T46S_MAC).await;
    let proven = basic(&user, &password);
    let mismatched = server
        .phone_get_with(
            &format!("/{T46S_MAC}.cfg"),
            &[("user-agent", t54w_ua), ("authorization", &proven)],
        )
        .await;
    assert_eq!(mismatched.status, StatusCode::OK);
    let d = api.show_device(T46S_MAC).ok().await;
    assert_eq!(d["model"], "T46S");
    assert_eq!(d["model_source"], "admin");
    assert_eq!(d["model_mismatch"]["reported_model"], "T54W");
    assert_eq!(d["model_mismatch"]["reported_vendor"], "yealink");

    // The admin settles it by setting the model, which clears the mismatch.
    let d = api
        .patch_device(T46S_MAC, json!({"model": "T54W"}))
        .ok()
        .await;
    assert_eq!(d["model_mismatch"], serde_json::Value::Null);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn etag_and_not_modified() {
    let server = TestServer::start().await;
    server.seed_desk_phone().await;
    let (user, password) = server.credentials(T46S_MAC).await;
    let auth = basic(&user, &password);
    let path = format!("/{T46S_MAC}.cfg");
    let first = server
        .phone_get_with(&path, &[("authorization", &auth)])
        .await;
    let etag = first.header("etag").unwrap().to_string();
    let second = server
        .phone_get_with(&path, &[("authorization", &auth)])
        .await;
    assert_eq!(second.header("etag"), Some(etag.as_str()));
    assert_eq!(first.body, second.body);

    let cached = server
        .phone_get_with(&path, &[("authorization", &auth), ("if-none-match", &etag)])
        .await;
    assert_eq!(cached.status, StatusCode::NOT_MODIFIED);
    assert!(cached.body.is_empty());
    // Behind a compressing proxy the phone sends back the weakened tag (RFC 9110 §13.1.2).
    let weakened = format!("\"other\", W/{etag}");
    let through_proxy = server
        .phone_get_with(
            &path,
            &[("authorization", &auth), ("if-none-match", &weakened)],
        )
        .await;
    assert_eq!(through_proxy.status, StatusCode::NOT_MODIFIED);
    // Without credentials a matching ETag reveals nothing either.
    server.clock.advance(3601);
    let probing = server
        .phone_get_with(&path, &[("if-none-match", &etag)])
        .await;
    assert_eq!(probing.status, StatusCode::UNAUTHORIZED);

    // A change reaches the phone: new body, new ETag.
    server
        .admin_api()
        .patch_user("1001", json!({"display_name": "Alice Renamed"}))
        .ok()
        .await;
    let changed = server
        .phone_get_with(&path, &[("authorization", &auth), ("if-none-match", &etag)])
        .await;
    assert_eq!(changed.status, StatusCode::OK);
    assert_ne!(changed.header("etag"), Some(etag.as_str()));
    assert_eq!(
        kv::parse(&changed.text()).unwrap()["account.1.display_name"],
        "Alice Renamed"
    );

    let common = server.phone_get("/y000000000066.cfg", T46S_UA).await;
    let common_tag = common.header("etag").unwrap().to_string();
    let common_again = server
        .phone_get_with("/y000000000066.cfg", &[("if-none-match", &common_tag)])
        .await;
    assert_eq!(common_again.status, StatusCode::NOT_MODIFIED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_files_and_hostile_paths() {
    let server = TestServer::start().await;
    server.seed_desk_phone().await;
    let unknown_mac = server.phone_get("/001565999999.cfg", T46S_UA).await;
    assert_eq!(unknown_mac.status, StatusCode::UNAUTHORIZED);
    let (user, password) = server.credentials(T46S_MAC).await;
    let auth = basic(&user, &password);
    for path in [
        "/favicon.ico",
        "/y000000000000.boot",
        "/001565aabbcc-local.cfg",
        "/",
        "/y00000000066.cfg",
    ] {
        // To anyone, a missing file looks like a file that is not theirs...
        let r = server.phone_get(path, T46S_UA).await;
        assert_eq!(r.status, unknown_mac.status, "{path}");
        assert_eq!(r.body, unknown_mac.body, "{path}");
        assert_eq!(r.challenges().len(), unknown_mac.challenges().len());
        // ...and only a phone that proved itself learns it is missing.
        let r = server
            .phone_get_with(path, &[("user-agent", T46S_UA), ("authorization", &auth)])
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
    }
    for path in [
        "/..%2f..%2fetc%2fpasswd",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/a%5c..%5cb",
        "/001565aabbcc.cfg%00",
        "/%c0%ae%c0%ae/x",
    ] {
        let r = server.phone_get(path, T46S_UA).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{path}");
    }
    let long = format!("/{}.cfg", "a".repeat(5000));
    assert_eq!(
        server.phone_get(&long, "").await.status,
        StatusCode::NOT_FOUND
    );
    let post = server
        .phone
        .send(Method::POST, "/y000000000066.cfg", &[], Some(b"x".to_vec()))
        .await
        .unwrap();
    assert_eq!(post.status, StatusCode::METHOD_NOT_ALLOWED);
    let head = server
        .phone
        .send(Method::HEAD, "/y000000000066.cfg", &[], None)
        .await
        .unwrap();
    assert_eq!(head.status, StatusCode::OK);
    assert!(head.body.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boot_files_name_the_family_common_file_for_any_mac() {
    let server = TestServer::start().await;
    server.seed_desk_phone().await;
    let boot = server
        .phone_get(&format!("/{T46S_MAC}.boot"), T46S_UA)
        .await;
    assert_eq!(boot.status, StatusCode::OK);
    let lines: Vec<&str> = boot
        .body
        .split(|b| *b == b'\n')
        .map(|l| std::str::from_utf8(l).unwrap())
        .collect();
    assert!(
        lines.contains(&"include:config \"y000000000066.cfg\""),
        "{lines:?}"
    );
    assert!(
        lines.contains(&"include:config \"001565aabbcc.cfg\""),
        "{lines:?}"
    );
    assert!(lines.contains(&"overwrite_mode = 1"));
    assert!(!boot.text().contains("secret"));
    // Unknown MACs get the same kind of answer, so a boot file tells nothing about registration.
    let unknown = server
        .phone_get(
            "/001565999999.boot",
            "Yealink SIP-T46S 66.86.0.15 00:15:65:99:99:99",
        )
        .await;
    assert_eq!(unknown.status, StatusCode::OK);
    assert_eq!(
        unknown.text(),
        boot.text().replace(T46S_MAC, "001565999999")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dect_base_end_to_end() {
    let server = TestServer::start().await;
    server.seed_desk_phone().await;
    let api = server.admin_api();
    api.create_device(NewDevice::new("80:5E:0C:1D:65:4E"))
        .ok()
        .await;
    api.assign(W70B_MAC, 1, "1001").ok().await;
    api.assign(W70B_MAC, 3, "1002").ok().await;

    let common = server.phone_get("/y000000000146.cfg", W70B_UA).await;
    assert_eq!(common.status, StatusCode::OK);
    assert_eq!(
        kv::parse(&common.text()).unwrap()["static.auto_provision.handset_configured.enable"],
        "1"
    );

    let own = server.phone_get(&format!("/{W70B_MAC}.cfg"), W70B_UA).await;
    assert_eq!(own.status, StatusCode::OK);
    let keys = kv::parse(&own.text()).unwrap();
    assert_eq!(keys["account.3.user_name"], "1002");
    assert_eq!(keys["handset.3.incoming_lines"], "3");
    assert_eq!(keys["handset.3.dial_out_default_line"], "3");
    assert_eq!(keys["handset.1.name"], "Alice Example");
    assert_eq!(keys["account.2.enable"], "0");
    assert_eq!(keys["account.10.enable"], "0");
    assert!(!keys.contains_key("account.11.enable"));
    let d = api.show_device(W70B_MAC).ok().await;
    assert_eq!(d["model"], "W70B");
    assert_eq!(d["model_source"], "auto");
    assert_eq!(d["line_count"], 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn render_is_exactly_what_the_phone_gets() {
    let server = TestServer::start().await;
    server.seed_desk_phone().await;
    let api = server.admin_api();
    let rendered = api.render(T46S_MAC).await;
    assert_eq!(rendered.status, StatusCode::OK);
    // Rendering has no side effects: the claim is still open.
    assert_eq!(api.show_device(T46S_MAC).ok().await["claimed"], false);
    let fetched = server.phone_get(&format!("/{T46S_MAC}.cfg"), T46S_UA).await;
    assert_eq!(rendered.body, fetched.body);
    assert_eq!(rendered.header("etag"), fetched.header("etag"));

    let common = api.render_file(T46S_MAC, "y000000000066.cfg").await;
    assert_eq!(
        common.body,
        server.phone_get("/y000000000066.cfg", T46S_UA).await.body
    );
    let foreign = api.render_file(T46S_MAC, "001565000001.cfg").await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unassigning_removes_the_account_from_the_next_fetch() {
    let server = TestServer::start().await;
    server.seed_desk_phone().await;
    let (user, password) = server.credentials(T46S_MAC).await;
    let auth = basic(&user, &password);
    let path = format!("/{T46S_MAC}.cfg");
    assert!(
        server
            .phone_get_with(&path, &[("authorization", &auth)])
            .await
            .text()
            .contains("alice-secret-0001")
    );
    server.admin_api().unassign(T46S_MAC, 1).ok().await;
    let after = server
        .phone_get_with(&path, &[("authorization", &auth)])
        .await;
    assert!(!after.text().contains("alice-secret-0001"));
    let keys = kv::parse(&after.text()).unwrap();
    assert_eq!(keys["account.1.enable"], "0");
    assert_eq!(keys["account.1.password"], "%NULL%");
}
