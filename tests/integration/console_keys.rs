//! The console's key pages: a layer's keys set and removed one position at a time, checked
//! against the model's capacity, and reaching the phone's file; a device's page showing what
//! its phone gets and which layer each key comes from; refusals in the page's language that
//! change nothing; labels rendered escaped; the pages in Chromium with axe in both languages.

use http::StatusCode;
use serde_json::{Value, json};

use crate::browser::page;
use crate::console::Browser;
use crate::console_browser::both_languages_with;
use crate::console_users::{PASSWORD, seed_account};
use crate::helpers::{TestServer, basic};

use crate::keys::DESK;

/// The keys tests' office (users 1001 and 1002, a T46S in profile "sales" with 1001 on line 1)
/// and an admin account.
async fn office() -> TestServer {
    let server = crate::keys::office().await;
    seed_account(&server, "kim", "admin").await;
    server
}

/// Posts the key form of `path` as the page sends it.
async fn set_key(
    browser: &mut Browser<'_>,
    path: &str,
    fields: &[(&str, &str)],
) -> deskprov::client::Reply {
    let csrf = browser.csrf(path).await;
    let mut all = vec![("csrf", csrf.as_str())];
    for name in ["module", "position", "type", "value", "label", "line"] {
        let value = fields
            .iter()
            .find(|(n, _)| *n == name)
            .map_or("", |(_, v)| *v);
        all.push((name, value));
    }
    browser.post(path, &all).await
}

/// The phone's file parsed back with the key=value parser.
async fn yealink_keys(server: &TestServer) -> std::collections::BTreeMap<String, String> {
    let (user, password) = server.credentials(DESK).await;
    let reply = server
        .phone_get_with(
            &format!("/{DESK}.cfg"),
            &[("authorization", &basic(&user, &password))],
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    crate::kv::parse(&reply.text()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_sets_and_removes_keys_in_the_console_and_the_phone_gets_them() {
    let server = office().await;
    let api = server.admin_api();
    let mut browser = Browser::new(&server);
    browser.log_in("kim", PASSWORD).await;
    let device_keys = format!("/devices/{DESK}/keys");

    // A profile's BLF and the device's own speed dial, set one position at a time.
    let saved = set_key(
        &mut browser,
        "/profiles/sales/keys",
        &[("position", "3"), ("type", "blf"), ("value", "1002")],
    )
    .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text());
    let fields = [
        ("position", "4"),
        ("type", "speed_dial"),
        ("value", "+4930123456"),
        ("label", "<b>Zentrale</b>"),
    ];
    let saved = set_key(&mut browser, &device_keys, &fields).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text());
    assert_eq!(
        api.keys("devices", Some(DESK)).ok().await,
        json!([{"position": 4, "type": "speed_dial", "value": "+4930123456", "label": "<b>Zentrale</b>", "line": 1}])
    );
    // Yealink codes: BLF 16, speed dial 13 (as tests/integration/keys.rs names the sources).
    let config = yealink_keys(&server).await;
    assert_eq!(config.get("linekey.3.type").map(String::as_str), Some("16"));
    assert_eq!(
        config.get("linekey.3.value").map(String::as_str),
        Some("1002")
    );
    assert_eq!(
        config.get("linekey.3.label").map(String::as_str),
        Some("Bob Example")
    );
    assert_eq!(config.get("linekey.4.type").map(String::as_str), Some("13"));

    // The device's page: its own keys beside what the phone gets and where each comes from.
    let page = browser.get(&device_keys).await.text();
    assert!(
        page.contains("<td class=\"origin\">Profile sales</td>"),
        "{page}"
    );
    assert!(page.contains("<td class=\"origin\">Device</td>"), "{page}");
    assert!(page.contains("Zentrale") && !page.contains("<b>Zentrale"));
    assert_eq!(
        page.matches("<tr id=\"key-").count(),
        27,
        "the T46S's 27 keys, no module"
    );
    let edit = browser
        .get(&format!("{device_keys}?module=&position=4"))
        .await
        .text();
    assert!(
        edit.contains("value=\"+4930123456\""),
        "the form shows the key to edit"
    );

    // Refusals in the page's language change nothing.
    browser.language = "de";
    let before = api.keys("devices", Some(DESK)).ok().await;
    for (fields, words) in [
        (
            vec![("position", "28"), ("type", "dnd")],
            "Diese Position hat das Modell nicht",
        ),
        (
            vec![("module", "1"), ("position", "1"), ("type", "dnd")],
            "Diese Position hat das Modell nicht",
        ),
        (
            vec![("position", "5"), ("type", "dnd"), ("value", "1002")],
            "Der Wert passt nicht",
        ),
        (
            vec![("position", "5"), ("type", "dtmf"), ("value", "12 34")],
            "Der Wert passt nicht",
        ),
        (
            vec![("position", "0"), ("type", "dnd")],
            "Die Position muss",
        ),
        (
            vec![("position", "5"), ("type", "rocket")],
            "Unbekannte Tastenart",
        ),
        (
            vec![("position", "5"), ("type", "dnd"), ("line", "65")],
            "Die Leitung muss",
        ),
    ] {
        let refused = set_key(&mut browser, &device_keys, &fields).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{fields:?}");
        assert!(
            refused.text().contains(words),
            "{fields:?}: {}",
            refused.text()
        );
    }
    assert_eq!(api.keys("devices", Some(DESK)).ok().await, before);
    // With an expansion module attached, its keys are offered and accepted.
    api.patch_device(DESK, json!({"expansion_modules": 1}))
        .ok()
        .await;
    let on_module = [("module", "1"), ("position", "1"), ("type", "dnd")];
    let saved = set_key(&mut browser, &device_keys, &on_module).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text());
    let page = browser.get(&device_keys).await.text();
    assert_eq!(
        page.matches("<tr id=\"key-").count(),
        67,
        "27 and one module of 40"
    );
    assert_eq!(
        yealink_keys(&server)
            .await
            .get("expansion_module.1.key.1.type")
            .map(String::as_str),
        Some("5")
    );

    // Removing a key leaves the others.
    let csrf = browser.csrf(&device_keys).await;
    let removed = browser
        .post(
            &format!("{device_keys}/remove"),
            &[("csrf", &csrf), ("module", ""), ("position", "4")],
        )
        .await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER);
    let left: Value = api.keys("devices", Some(DESK)).ok().await;
    assert_eq!(
        left,
        json!([{"module": 1, "position": 1, "type": "dnd", "line": 1}])
    );

    // A user's own keys and the site's keys have pages of their own.
    let user_keys = set_key(
        &mut browser,
        "/users/1001/keys",
        &[("position", "5"), ("type", "dnd")],
    )
    .await;
    assert_eq!(user_keys.status, StatusCode::SEE_OTHER);
    assert_eq!(api.keys("users", Some("1001")).ok().await[0]["type"], "dnd");
    let site = browser.get("/settings/keys").await;
    assert_eq!(site.status, StatusCode::OK);
    assert!(
        !site.text().contains("action=\"/settings/keys\""),
        "only the owner sets site keys"
    );
    assert_eq!(
        browser.get("/models/NOPE/keys").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_key_pages_in_a_real_browser() {
    let server = office().await;
    let api = server.admin_api();
    api.set_keys(
        "profiles",
        Some("sales"),
        json!([{"position": 3, "type": "blf", "value": "1002"}]),
    )
    .ok()
    .await;
    let base = format!("https://localhost:{}", server.running().admin_addr.port());
    let browser = page().await;
    browser.open(&format!("{base}/login")).await;
    browser.fill("username", "kim").await;
    browser.fill("password", PASSWORD).await;
    browser.click_button("Log in").await;
    browser.open(&format!("{base}/devices/{DESK}")).await;
    browser
        .click(&format!("a[href='/devices/{DESK}/keys']"))
        .await;
    browser.fill("position", "6").await;
    browser.select("type", "speed_dial").await;
    browser.fill("value", "0301234").await;
    browser.fill("label", "Empfang").await;
    browser.click_button("Save key").await;
    assert!(browser.text().await.contains("Key saved."));
    assert_eq!(browser.text_of("#key--6 td.type").await, "Speed dial");
    let data = ["Bob Example", "0301234", "Empfang", "1002", "3", "6"];
    both_languages_with(
        &browser,
        &format!("{base}/devices/{DESK}/keys"),
        "device-keys",
        &data,
    )
    .await;
    both_languages_with(
        &browser,
        &format!("{base}/profiles/sales/keys"),
        "profile-keys",
        &data,
    )
    .await;
    both_languages_with(
        &browser,
        &format!("{base}/models/T46S/keys"),
        "model-keys",
        &[],
    )
    .await;
}
