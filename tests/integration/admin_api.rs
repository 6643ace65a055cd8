//! The admin API: registration in every MAC notation, users, lines, refusals that change nothing.

use http::{Method, StatusCode};
use serde_json::json;

use crate::api::{AdminApi, Body, NewDevice, NewUser};
use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn devices_register_in_any_notation_once() {
    let server = TestServer::start().await;
    let api = server.admin_api();
    for (i, notation) in [
        "00:15:65:AA:BB:01",
        "00-15-65-aa-bb-02",
        "001565aabb03",
        "0015.65aa.bb04",
    ]
    .iter()
    .enumerate()
    {
        let device = api.create_device(NewDevice::new(notation)).ok().await;
        assert_eq!(device["mac"], format!("001565aabb0{}", i + 1));
        // The Yealink prefix is a vendor hint; the model waits for the phone or the admin.
        assert_eq!(device["vendor"], "yealink");
        assert_eq!(device["model"], serde_json::Value::Null);
        assert_eq!(device["model_source"], serde_json::Value::Null);
        for field in ["firmware", "first_seen", "last_seen", "lines"] {
            assert!(device.get(field).is_some(), "{field} missing");
        }
    }
    let again = api.create_device(NewDevice::new("00:15:65:aa:bb:01")).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(
        again.json()["error"]
            .as_str()
            .unwrap()
            .contains("already registered")
    );

    for bad in [
        "00:15:65:aa:bb",
        "00:15-65:aa:bb:01",
        "+0+565aabb01",
        "zz1565aabb01",
        "",
    ] {
        let r = api.create_device(json!({"mac": bad})).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(
            r.json()["error"].as_str().unwrap().contains("MAC"),
            "{}",
            r.text()
        );
    }
    let list = api.list_devices().ok().await;
    assert_eq!(list.as_array().unwrap().len(), 4);

    let shown = api.show_device("00-15-65-AA-BB-03").ok().await;
    assert_eq!(shown["mac"], "001565aabb03");
    let missing = api.show_device("001565ffffff").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn models_come_from_the_table() {
    let server = TestServer::start().await;
    let api = server.admin_api();
    let d = api
        .create_device(NewDevice::new(W70B_MAC).model("w70b").label("Warehouse"))
        .ok()
        .await;
    assert_eq!(d["model"], "W70B");
    assert_eq!(d["vendor"], "yealink");
    assert_eq!(d["model_source"], "admin");
    assert_eq!(d["line_count"], 10);
    let r = api
        .create_device(json!({"mac": T46S_MAC, "model": "T99Z"}))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.json()["error"]
            .as_str()
            .unwrap()
            .contains("unknown model")
    );
    assert_eq!(
        api.show_device(T46S_MAC).await.status,
        StatusCode::NOT_FOUND
    );

    let models = api.list_models().ok().await;
    let w70b = models
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["model"] == "W70B")
        .unwrap();
    assert_eq!(w70b["kind"], "dect_base");
    assert_eq!(w70b["handsets"], 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_get_strong_generated_passwords_shown_once() {
    let server = TestServer::start().await;
    let api = server.admin_api();
    let created = api.create_user(NewUser::new("1001", "Alice")).ok().await;
    let password = created["sip_password"].as_str().unwrap().to_string();
    assert!(
        password.len() >= 16 && password.chars().all(|c| c.is_ascii_alphanumeric()),
        "{password}"
    );
    assert_eq!(created["sip_user"], "1001");

    let other = api.create_user(NewUser::new("1002", "Bob")).ok().await;
    assert_ne!(other["sip_password"], created["sip_password"]);

    let shown = api.show_user("1001").ok().await;
    assert!(
        shown.get("sip_password").is_none(),
        "GET must not show the password"
    );
    let listed = api.list_users().ok().await;
    assert!(!listed.to_string().contains(&password));
    let revealed = api.sip_password("1001").ok().await;
    assert_eq!(revealed["sip_password"], password);

    let carol = NewUser::new("1003", "Carol")
        .sip_user("carol.1003")
        .sip_password("Given-Passw0rd!");
    let given = api.create_user(carol).ok().await;
    assert_eq!(given["sip_password"], "Given-Passw0rd!");
    assert_eq!(given["sip_user"], "carol.1003");

    let dup = api.create_user(NewUser::new("1001", "Mallory")).await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
    assert_eq!(api.show_user("1001").ok().await["display_name"], "Alice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_and_changes_nothing() {
    let server = TestServer::start().await;
    server.seed_desk_phone().await;
    let api = server.admin_api();
    let before_users = api.list_users().ok().await;
    let before_devices = api.list_devices().ok().await;
    let cases = [
        (
            api.create_user(json!({"extension": "12a", "display_name": "X"})),
            "extension",
        ),
        (
            api.create_user(json!({"extension": "2000", "display_name": "A\r\naccount.1.sip_server.1.address = evil"})),
            "display_name",
        ),
        (
            api.create_user(json!({"extension": "2000", "display_name": "nul\u{0}"})),
            "display_name",
        ),
        (
            api.create_user(json!({"extension": "2000", "display_name": "x".repeat(10_000)})),
            "display_name",
        ),
        (
            api.create_user(
                json!({"extension": "2000", "display_name": "Ok", "sip_password": "short"}),
            ),
            "sip_password",
        ),
        (
            api.create_user(json!({"extension": "2000", "display_name": "Ok", "sip_user": "a b"})),
            "sip_user",
        ),
        (
            api.create_user(json!({"extension": "2000", "display_name": "Ok", "extra": 1})),
            "unknown field",
        ),
        (
            api.patch_user(
                "1001",
                json!({"display_name": "B\nstatic.auto_provision.server.url=http://evil"}),
            ),
            "display_name",
        ),
        (
            api.patch_user("1001", json!({"sip_password": "has space inside"})),
            "sip_password",
        ),
        (
            api.patch_device(T46S_MAC, json!({"label": "x\ny"})),
            "label",
        ),
        (
            api.patch_device(T46S_MAC, json!({"model": "NOPE"})),
            "unknown model",
        ),
        (api.assign(T46S_MAC, 17, "1002"), "line"),
        (api.assign(T46S_MAC, 0, "1002"), "line"),
        (api.assign(T46S_MAC, 2, "9999"), "no user"),
        (
            api.patch_settings(json!({"sip_server": "evil\nhost"})),
            "sip_server",
        ),
        (
            api.patch_settings(json!({"sip_transport": "carrier-pigeon"})),
            "sip_transport",
        ),
    ];
    for (call, expected) in cases {
        let shown = call.to_string();
        let r = call.await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{shown}: {}", r.text());
        let message = r.json()["error"].as_str().unwrap_or_default().to_string();
        assert!(
            message.contains(expected),
            "{shown}: {message:?} should mention {expected}"
        );
    }
    let malformed = api.create_user(Body::raw("{not json")).await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);

    // A model with fewer lines than the device uses is refused.
    api.assign(T46S_MAC, 5, "1002").ok().await;
    let shrink = api.patch_device(T46S_MAC, json!({"model": "T31"})).await;
    assert_eq!(shrink.status, StatusCode::CONFLICT, "{}", shrink.text());
    api.unassign(T46S_MAC, 5).ok().await;

    assert_eq!(api.list_users().ok().await, before_users);
    assert_eq!(api.list_devices().ok().await, before_devices);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lines_and_dect_handset_slots() {
    let server = TestServer::start().await;
    server.seed_desk_phone().await;
    let api = server.admin_api();
    api.create_device(NewDevice::new(W70B_MAC).model("W70B"))
        .ok()
        .await;
    let d = api.assign(W70B_MAC, 10, "1002").ok().await;
    assert_eq!(d["lines"], json!([{"line": 10, "user": "1002"}]));
    let over = api.assign(W70B_MAC, 11, "1002").await;
    assert_eq!(over.status, StatusCode::BAD_REQUEST);

    // Deleting a user frees their lines everywhere.
    api.assign(W70B_MAC, 1, "1001").ok().await;
    let deleted = api.delete_user("1001").ok().await;
    assert_eq!(deleted["freed_lines_on"].as_array().unwrap().len(), 2);
    assert_eq!(api.show_device(T46S_MAC).ok().await["lines"], json!([]));
    assert_eq!(
        api.show_device(W70B_MAC).ok().await["lines"],
        json!([{"line": 10, "user": "1002"}])
    );

    let unassign = api.unassign(W70B_MAC, 10).ok().await;
    assert_eq!(unassign["lines"], json!([]));
    let again = api.unassign(W70B_MAC, 10).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_api_needs_the_token_and_its_own_listener() {
    let server = TestServer::start().await;
    let api = server.admin_api();
    let anonymous = api.clone().without_authorization();
    for caller in [
        anonymous.clone(),
        api.clone().with_authorization("Bearer wrong-token"),
        api.clone().with_authorization("Basic YWRtaW46YWRtaW4="),
    ] {
        let r = caller.list_devices().await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert!(r.json()["error"].as_str().unwrap().contains("token"));
    }
    let r = anonymous
        .create_device(Body::raw(r#"{"mac":"001565000001"}"#))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(api.list_devices().ok().await, json!([]));

    // The phones' listener has no admin routes, even with the token: it answers as for any
    // file that is not the requester's.
    let on_phone = AdminApi::new(&server.phone, &server.token)
        .list_devices()
        .await;
    assert_eq!(on_phone.status, StatusCode::UNAUTHORIZED);
    assert_eq!(on_phone.text(), "authentication required\n");

    // Routing: paths that name no endpoint, or an endpoint by another method, as written.
    let r = api
        .request(Method::GET, "/api/v1/nothing", Body::None)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = api.request(Method::PUT, "/api/v1/users", Body::None).await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_bodies_are_refused() {
    let server = TestServer::start_with(|c| c.limits.max_admin_body_bytes = 1024).await;
    let api = server.admin_api();
    let mut big = br#"{"extension": "1001", "display_name": ""#.to_vec();
    big.extend(std::iter::repeat_n(b'x', 4096));
    big.extend(br#""}"#);
    let r = api.create_user(Body::Raw(big)).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(r.json()["error"].as_str().unwrap().contains("1024"));
    assert_eq!(api.list_users().ok().await, json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_file_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let server = TestServer::start().await;
    let meta = std::fs::metadata(server.dir.path().join("data/admin.token")).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    assert!(server.token.len() >= 32);
}
