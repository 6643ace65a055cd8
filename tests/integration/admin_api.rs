//! The admin API: registration in every MAC notation, users, lines, refusals that change nothing.

use http::{Method, StatusCode};
use serde_json::json;

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn devices_register_in_any_notation_once() {
    let server = TestServer::start().await;
    for (i, notation) in [
        "00:15:65:AA:BB:01",
        "00-15-65-aa-bb-02",
        "001565aabb03",
        "0015.65aa.bb04",
    ]
    .iter()
    .enumerate()
    {
        let device = server.add_device(json!({"mac": notation})).await;
        assert_eq!(device["mac"], format!("001565aabb0{}", i + 1));
        // The Yealink prefix is a vendor hint; the model waits for the phone or the admin.
        assert_eq!(device["vendor"], "yealink");
        assert_eq!(device["model"], serde_json::Value::Null);
        assert_eq!(device["model_source"], serde_json::Value::Null);
        for field in ["firmware", "first_seen", "last_seen", "lines"] {
            assert!(device.get(field).is_some(), "{field} missing");
        }
    }
    let again = server
        .api(
            Method::POST,
            "/api/v1/devices",
            Some(json!({"mac": "00:15:65:aa:bb:01"})),
        )
        .await;
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
        let r = server
            .api(Method::POST, "/api/v1/devices", Some(json!({"mac": bad})))
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(
            r.json()["error"].as_str().unwrap().contains("MAC"),
            "{}",
            r.text()
        );
    }
    let list = server.ok(Method::GET, "/api/v1/devices", None).await;
    assert_eq!(list.as_array().unwrap().len(), 4);

    let shown = server
        .ok(Method::GET, "/api/v1/devices/00-15-65-AA-BB-03", None)
        .await;
    assert_eq!(shown["mac"], "001565aabb03");
    let missing = server
        .api(Method::GET, "/api/v1/devices/001565ffffff", None)
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn models_come_from_the_table() {
    let server = TestServer::start().await;
    let d = server
        .add_device(json!({"mac": W70B_MAC, "model": "w70b", "label": "Warehouse"}))
        .await;
    assert_eq!(d["model"], "W70B");
    assert_eq!(d["vendor"], "yealink");
    assert_eq!(d["model_source"], "admin");
    assert_eq!(d["line_count"], 10);
    let r = server
        .api(
            Method::POST,
            "/api/v1/devices",
            Some(json!({"mac": T46S_MAC, "model": "T99Z"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.json()["error"]
            .as_str()
            .unwrap()
            .contains("unknown model")
    );
    assert_eq!(
        server
            .api(Method::GET, &format!("/api/v1/devices/{T46S_MAC}"), None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    let models = server.ok(Method::GET, "/api/v1/models", None).await;
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
    let created = server
        .ok(
            Method::POST,
            "/api/v1/users",
            Some(json!({"extension": "1001", "display_name": "Alice"})),
        )
        .await;
    let password = created["sip_password"].as_str().unwrap().to_string();
    assert!(
        password.len() >= 16 && password.chars().all(|c| c.is_ascii_alphanumeric()),
        "{password}"
    );
    assert_eq!(created["sip_user"], "1001");

    let other = server
        .ok(
            Method::POST,
            "/api/v1/users",
            Some(json!({"extension": "1002", "display_name": "Bob"})),
        )
        .await;
    assert_ne!(other["sip_password"], created["sip_password"]);

    let shown = server.ok(Method::GET, "/api/v1/users/1001", None).await;
    assert!(
        shown.get("sip_password").is_none(),
        "GET must not show the password"
    );
    let listed = server.ok(Method::GET, "/api/v1/users", None).await;
    assert!(!listed.to_string().contains(&password));
    let revealed = server
        .ok(Method::GET, "/api/v1/users/1001/sip-password", None)
        .await;
    assert_eq!(revealed["sip_password"], password);

    let given = server.ok(Method::POST, "/api/v1/users", Some(json!({"extension": "1003", "display_name": "Carol", "sip_user": "carol.1003", "sip_password": "Given-Passw0rd!"}))).await;
    assert_eq!(given["sip_password"], "Given-Passw0rd!");
    assert_eq!(given["sip_user"], "carol.1003");

    let dup = server
        .api(
            Method::POST,
            "/api/v1/users",
            Some(json!({"extension": "1001", "display_name": "Mallory"})),
        )
        .await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
    assert_eq!(
        server.ok(Method::GET, "/api/v1/users/1001", None).await["display_name"],
        "Alice"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_and_changes_nothing() {
    let server = TestServer::start().await;
    server.seed_desk_phone().await;
    let before_users = server.ok(Method::GET, "/api/v1/users", None).await;
    let before_devices = server.ok(Method::GET, "/api/v1/devices", None).await;
    let cases = [
        (
            Method::POST,
            "/api/v1/users".to_string(),
            json!({"extension": "12a", "display_name": "X"}),
            "extension",
        ),
        (
            Method::POST,
            "/api/v1/users".to_string(),
            json!({"extension": "2000", "display_name": "A\r\naccount.1.sip_server.1.address = evil"}),
            "display_name",
        ),
        (
            Method::POST,
            "/api/v1/users".to_string(),
            json!({"extension": "2000", "display_name": "nul\u{0}"}),
            "display_name",
        ),
        (
            Method::POST,
            "/api/v1/users".to_string(),
            json!({"extension": "2000", "display_name": "x".repeat(10_000)}),
            "display_name",
        ),
        (
            Method::POST,
            "/api/v1/users".to_string(),
            json!({"extension": "2000", "display_name": "Ok", "sip_password": "short"}),
            "sip_password",
        ),
        (
            Method::POST,
            "/api/v1/users".to_string(),
            json!({"extension": "2000", "display_name": "Ok", "sip_user": "a b"}),
            "sip_user",
        ),
        (
            Method::POST,
            "/api/v1/users".to_string(),
            json!({"extension": "2000", "display_name": "Ok", "extra": 1}),
            "unknown field",
        ),
        (
            Method::PATCH,
            "/api/v1/users/1001".to_string(),
            json!({"display_name": "B\nstatic.auto_provision.server.url=http://evil"}),
            "display_name",
        ),
        (
            Method::PATCH,
            "/api/v1/users/1001".to_string(),
            json!({"sip_password": "has space inside"}),
            "sip_password",
        ),
        (
            Method::PATCH,
            format!("/api/v1/devices/{T46S_MAC}"),
            json!({"label": "x\ny"}),
            "label",
        ),
        (
            Method::PATCH,
            format!("/api/v1/devices/{T46S_MAC}"),
            json!({"model": "NOPE"}),
            "unknown model",
        ),
        (
            Method::PUT,
            format!("/api/v1/devices/{T46S_MAC}/lines/17"),
            json!({"user": "1002"}),
            "line",
        ),
        (
            Method::PUT,
            format!("/api/v1/devices/{T46S_MAC}/lines/0"),
            json!({"user": "1002"}),
            "line",
        ),
        (
            Method::PUT,
            format!("/api/v1/devices/{T46S_MAC}/lines/2"),
            json!({"user": "9999"}),
            "no user",
        ),
        (
            Method::PATCH,
            "/api/v1/settings".to_string(),
            json!({"sip_server": "evil\nhost"}),
            "sip_server",
        ),
        (
            Method::PATCH,
            "/api/v1/settings".to_string(),
            json!({"sip_transport": "carrier-pigeon"}),
            "sip_transport",
        ),
    ];
    for (method, path, body, expected) in cases {
        let r = server.api(method.clone(), &path, Some(body)).await;
        assert_eq!(
            r.status,
            StatusCode::BAD_REQUEST,
            "{method} {path}: {}",
            r.text()
        );
        let message = r.json()["error"].as_str().unwrap_or_default().to_string();
        assert!(
            message.contains(expected),
            "{method} {path}: {message:?} should mention {expected}"
        );
    }
    let malformed = server
        .admin
        .send(
            Method::POST,
            "/api/v1/users",
            &[("authorization", &format!("Bearer {}", server.token))],
            Some(b"{not json".to_vec()),
        )
        .await
        .unwrap();
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);

    // A model with fewer lines than the device uses is refused.
    server.assign(T46S_MAC, 5, "1002").await;
    let shrink = server
        .api(
            Method::PATCH,
            &format!("/api/v1/devices/{T46S_MAC}"),
            Some(json!({"model": "T31"})),
        )
        .await;
    assert_eq!(shrink.status, StatusCode::CONFLICT, "{}", shrink.text());
    server
        .ok(
            Method::DELETE,
            &format!("/api/v1/devices/{T46S_MAC}/lines/5"),
            None,
        )
        .await;

    assert_eq!(
        server.ok(Method::GET, "/api/v1/users", None).await,
        before_users
    );
    assert_eq!(
        server.ok(Method::GET, "/api/v1/devices", None).await,
        before_devices
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lines_and_dect_handset_slots() {
    let server = TestServer::start().await;
    server.seed_desk_phone().await;
    server
        .add_device(json!({"mac": W70B_MAC, "model": "W70B"}))
        .await;
    let d = server.assign(W70B_MAC, 10, "1002").await;
    assert_eq!(d["lines"], json!([{"line": 10, "user": "1002"}]));
    let over = server
        .api(
            Method::PUT,
            &format!("/api/v1/devices/{W70B_MAC}/lines/11"),
            Some(json!({"user": "1002"})),
        )
        .await;
    assert_eq!(over.status, StatusCode::BAD_REQUEST);

    // Deleting a user frees their lines everywhere.
    server.assign(W70B_MAC, 1, "1001").await;
    let deleted = server.ok(Method::DELETE, "/api/v1/users/1001", None).await;
    assert_eq!(deleted["freed_lines_on"].as_array().unwrap().len(), 2);
    assert_eq!(
        server
            .ok(Method::GET, &format!("/api/v1/devices/{T46S_MAC}"), None)
            .await["lines"],
        json!([])
    );
    assert_eq!(
        server
            .ok(Method::GET, &format!("/api/v1/devices/{W70B_MAC}"), None)
            .await["lines"],
        json!([{"line": 10, "user": "1002"}])
    );

    let unassign = server
        .ok(
            Method::DELETE,
            &format!("/api/v1/devices/{W70B_MAC}/lines/10"),
            None,
        )
        .await;
    assert_eq!(unassign["lines"], json!([]));
    let again = server
        .api(
            Method::DELETE,
            &format!("/api/v1/devices/{W70B_MAC}/lines/10"),
            None,
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_api_needs_the_token_and_its_own_listener() {
    let server = TestServer::start().await;
    for auth in [
        None,
        Some("Bearer wrong-token"),
        Some("Basic YWRtaW46YWRtaW4="),
    ] {
        let headers: Vec<(&str, &str)> = auth.iter().map(|a| ("authorization", *a)).collect();
        let r = server
            .admin
            .send(Method::GET, "/api/v1/devices", &headers, None)
            .await
            .unwrap();
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert!(r.json()["error"].as_str().unwrap().contains("token"));
    }
    let r = server
        .admin
        .send(
            Method::POST,
            "/api/v1/devices",
            &[],
            Some(br#"{"mac":"001565000001"}"#.to_vec()),
        )
        .await
        .unwrap();
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        server.ok(Method::GET, "/api/v1/devices", None).await,
        json!([])
    );

    // The phones' listener has no admin routes, even with the token: it answers as for any
    // file that is not the requester's.
    let auth = format!("Bearer {}", server.token);
    let on_phone = server
        .phone
        .get("/api/v1/devices", &[("authorization", &auth)])
        .await
        .unwrap();
    assert_eq!(on_phone.status, StatusCode::UNAUTHORIZED);
    assert_eq!(on_phone.text(), "authentication required\n");

    let r = server.api(Method::GET, "/api/v1/nothing", None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = server.api(Method::PUT, "/api/v1/users", None).await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_bodies_are_refused() {
    let server = TestServer::start_with(|c| c.limits.max_admin_body_bytes = 1024).await;
    let mut big = br#"{"extension": "1001", "display_name": ""#.to_vec();
    big.extend(std::iter::repeat_n(b'x', 4096));
    big.extend(br#""}"#);
    let r = server.api_raw(Method::POST, "/api/v1/users", big).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(r.json()["error"].as_str().unwrap().contains("1024"));
    assert_eq!(
        server.ok(Method::GET, "/api/v1/users", None).await,
        json!([])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_file_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let server = TestServer::start().await;
    let meta = std::fs::metadata(server.dir.path().join("data/admin.token")).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    assert!(server.token.len() >= 32);
}
