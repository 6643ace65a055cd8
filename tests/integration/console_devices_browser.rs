//! The devices pages in the run's real Chromium, walked as an admin does: create a user with a
//! desk phone, let the phone fetch its config over HTTPS and see its model on the device page,
//! open the preview, the unregistered list and a bulk confirmation; then as the helpdesk, find
//! the secrets and the delete buttons absent and their URLs refused. axe-core on every page, a
//! screenshot of each, and the GET pages in both languages through the identical-text check.

use http::StatusCode;

use crate::browser::page;
use crate::console_browser::{both_languages, both_languages_with};
use crate::console_users::{PASSWORD, seed_account};
use crate::helpers::{TestServer, wait_until_listed};

const MAC: &str = "001565123456";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_sees_the_phone_name_its_model_and_the_helpdesk_finds_no_secrets() {
    let server = TestServer::start().await;
    seed_account(&server, "erika", "admin").await;
    seed_account(&server, "hans", "helpdesk").await;
    let base = format!("https://localhost:{}", server.running().admin_addr.port());
    let browser = page().await;
    browser.open(&format!("{base}/login")).await;
    browser.fill("username", "erika").await;
    browser.fill("password", PASSWORD).await;
    browser.click_button("Log in").await;

    // A user with a desk phone whose model is left to the phone.
    browser.open(&format!("{base}/users/new")).await;
    browser.fill("extension", "2001").await;
    browser.fill("first_name", "Jana").await;
    browser.fill("last_name", "Nowak").await;
    browser.fill("mac", "00:15:65:12:34:56").await;
    browser.click_button("Create").await;
    assert!(browser.text().await.contains("User created"));
    browser.open(&format!("{base}/devices/{MAC}")).await;
    assert_eq!(browser.text_of("#device-model").await, "");
    let fetched = server
        .phone_get(
            &format!("/{MAC}.cfg"),
            "Yealink SIP-T46S 66.86.0.15 00:15:65:12:34:56",
        )
        .await;
    assert_eq!(fetched.status, StatusCode::OK);
    let unknown = "/001565000077.cfg";
    server
        .phone_get(unknown, "Yealink SIP-T46S 66.86.0.15 00:15:65:00:00:77")
        .await;
    wait_until_listed(&server.admin_api(), &["001565000077"]).await;

    let device = server.admin_api().show_device(MAC).ok().await;
    let times = ["registered_at", "first_seen", "last_seen"]
        .map(|k| device[k].as_str().unwrap().to_string());
    let address = device["last_address"].as_str().unwrap().to_string();
    let mut data: Vec<&str> = vec![MAC, "T46S", "yealink", "66.86.0.15", "2001", &address];
    data.extend(times.iter().map(String::as_str));
    both_languages_with(&browser, &format!("{base}/devices/{MAC}"), "device", &data).await;
    assert_eq!(browser.text_of("#device-model").await, "T46S");
    both_languages_with(&browser, &format!("{base}/devices"), "devices", &data).await;
    both_languages(&browser, &format!("{base}/devices/new"), "device-new").await;
    both_languages_with(
        &browser,
        &format!("{base}/devices/{MAC}/edit"),
        "device-edit",
        &data,
    )
    .await;
    let preview = format!("{base}/devices/{MAC}/preview");
    browser.open(&preview).await;
    let config = browser.text_of("#config-preview").await;
    assert!(config.contains("********"), "{config}");
    browser.axe("device preview").await;
    browser.screenshot("console-device-preview").await;
    let seen = server.admin_api().list_unregistered().ok().await;
    let seen = &seen[0];
    let row = format!(
        "001565000077 yealink T46S 66.86.0.15 {} {} {address} {}",
        seen["first_seen"].as_str().unwrap(),
        seen["last_seen"].as_str().unwrap(),
        seen["requests"]
    );
    let unregistered = [row.as_str()];
    both_languages_with(
        &browser,
        &format!("{base}/unregistered"),
        "unregistered",
        &unregistered,
    )
    .await;

    browser.open(&format!("{base}/devices")).await;
    browser.click(&format!("#select-{MAC}")).await;
    browser.click_button("Reset claim").await;
    assert_eq!(browser.text_of("#confirm-count").await, "1");
    browser.axe("confirm reset claim").await;
    browser.screenshot("console-devices-confirm-en").await;
    browser.click_button("Yes, go ahead").await;
    assert!(browser.text().await.contains("Claim reset"));
    browser.click_button("Log out").await;

    // The helpdesk: no credentials, no delete, no edit; their URLs refused.
    browser.fill("username", "hans").await;
    browser.fill("password", PASSWORD).await;
    browser.click_button("Log in").await;
    browser.open(&format!("{base}/devices/{MAC}")).await;
    assert!(!browser.has("a[href$='/credentials']").await);
    assert!(!browser.has("a[href$='/edit']").await);
    assert!(!browser.has("button.danger").await);
    browser.axe("device (helpdesk)").await;
    browser.screenshot("console-device-helpdesk").await;
    browser.open(&format!("{base}/devices")).await;
    assert!(!browser.has("button.danger").await);
    assert!(browser.has(&format!("#select-{MAC}")).await);
    browser
        .open(&format!("{base}/devices/{MAC}/credentials"))
        .await;
    assert!(browser.text().await.contains("Your role may not do this."));
    browser.click_button("Log out").await;
}
