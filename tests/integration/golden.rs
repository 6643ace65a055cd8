//! Golden files for rendered configs (fixtures/golden/). Each rendered file is parsed back with
//! the strict key = value parser and its full key set and values compared with the golden
//! file's, so an injected or lost key fails; then the bytes are compared too.
//! `UPDATE_GOLDEN=1 cargo test golden` rewrites the files after an intended change.

use http::Method;
use serde_json::json;

use crate::helpers::*;
use crate::kv;

const PASSWORD_PLACEHOLDER: &str = "<provisioning-password>";

async fn seeded() -> TestServer {
    let server = TestServer::start().await;
    server.ok(Method::PATCH, "/api/v1/settings", Some(json!({"sip_server": "pbx.example.com", "sip_port": 5061, "sip_transport": "tls", "ntp_server": "ntp.example.com"}))).await;
    // Legal but hostile names: characters that break XML or look like syntax stay in their value.
    let users = [
        ("1001", "Zoë O'Neil & <Co> \"Sales\""),
        ("1002", "a = b # {{not.a.template}}"),
    ];
    for (i, (extension, name)) in users.iter().enumerate() {
        server.ok(Method::POST, "/api/v1/users", Some(json!({"extension": extension, "display_name": name, "sip_password": format!("golden-secret-000{i}")}))).await;
    }
    server
        .add_device(json!({"mac": T46S_MAC, "model": "T46S", "label": "Reception"}))
        .await;
    server.assign(T46S_MAC, 1, "1001").await;
    server.assign(T46S_MAC, 2, "1002").await;
    server
        .add_device(json!({"mac": W70B_MAC, "model": "W70B"}))
        .await;
    server.assign(W70B_MAC, 1, "1001").await;
    server.assign(W70B_MAC, 2, "1002").await;
    server
}

/// Compares `actual` with the golden file, after putting the device's random provisioning
/// password in place of the placeholder.
fn check(name: &str, actual: &str, provisioning_password: Option<&str>) {
    let path = fixtures().join("golden").join(name);
    let normalised = match provisioning_password {
        Some(p) => actual.replace(p, PASSWORD_PLACEHOLDER),
        None => actual.to_string(),
    };
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &normalised).unwrap();
    }
    let expected =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let expected_keys = kv::parse(&expected).unwrap_or_else(|e| panic!("golden {name}: {e}"));
    let actual_keys = kv::parse(&normalised).unwrap_or_else(|e| panic!("rendered {name}: {e}"));
    assert_eq!(
        actual_keys, expected_keys,
        "{name}: key set or values differ"
    );
    assert_eq!(normalised, expected, "{name}: bytes differ");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn yealink_desk_and_dect_configs_match_golden_files() {
    let server = seeded().await;
    let t46s = server.phone_get(&format!("/{T46S_MAC}.cfg"), T46S_UA).await;
    let (_, t46s_password) = server.credentials(T46S_MAC).await;
    check(
        "yealink/001565aabbcc-t46s.cfg",
        &t46s.text(),
        Some(&t46s_password),
    );

    let w70b = server.phone_get(&format!("/{W70B_MAC}.cfg"), W70B_UA).await;
    let (_, w70b_password) = server.credentials(W70B_MAC).await;
    check(
        "yealink/805e0c1d654e-w70b.cfg",
        &w70b.text(),
        Some(&w70b_password),
    );

    check(
        "yealink/y000000000066.cfg",
        &server.phone_get("/y000000000066.cfg", T46S_UA).await.text(),
        None,
    );
    check(
        "yealink/y000000000146.cfg",
        &server.phone_get("/y000000000146.cfg", W70B_UA).await.text(),
        None,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_names_never_change_the_key_set() {
    let server = seeded().await;
    let baseline = kv::parse(
        &server
            .phone_get(&format!("/{T46S_MAC}.cfg"), T46S_UA)
            .await
            .text(),
    )
    .unwrap();
    let names = [
        "x\ny = 1",
        "x\r\naccount.1.sip_server.1.address = evil",
        "nul\u{0}byte",
        "sep\u{2028}arator",
        "tab\tbed",
    ];
    for name in names {
        let r = server
            .api(
                Method::PATCH,
                "/api/v1/users/1001",
                Some(json!({"display_name": name})),
            )
            .await;
        assert_eq!(r.status, http::StatusCode::BAD_REQUEST, "{name:?}");
    }
    let long = "y".repeat(10_000);
    assert_eq!(
        server
            .api(
                Method::PATCH,
                "/api/v1/users/1001",
                Some(json!({"display_name": long}))
            )
            .await
            .status,
        http::StatusCode::BAD_REQUEST
    );
    for name in [
        "<script>&amp;</script>",
        "\"'\"'",
        "= = =",
        "#!version:1.0.0.1",
        "%NULL%",
    ] {
        server
            .ok(
                Method::PATCH,
                "/api/v1/users/1001",
                Some(json!({"display_name": name})),
            )
            .await;
        let keys = kv::parse(
            &server
                .phone_get(&format!("/{T46S_MAC}.cfg"), T46S_UA)
                .await
                .text(),
        )
        .unwrap();
        assert_eq!(
            keys.keys().collect::<Vec<_>>(),
            baseline.keys().collect::<Vec<_>>(),
            "{name:?}"
        );
        assert_eq!(keys["account.1.display_name"], name);
    }
}
