//! The TOTP second factor in the run's real Chromium, walked as an account holder does: set it
//! up from the QR code's page (the key read off the page, the code computed as an app would),
//! log out, and log in through the second step, a wrong code first. axe-core on every page, a
//! screenshot of each, and the GET pages in both languages through the identical-text check.

use crate::browser::page;
use crate::console_browser::{both_languages, both_languages_with};
use crate::console_totp::code;
use crate::console_users::{PASSWORD, seed_account};
use crate::helpers::TestServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_sets_up_a_second_factor_and_logs_in_with_it_in_a_real_browser() {
    let server = TestServer::start().await;
    seed_account(&server, "greta", "admin").await;
    let base = format!("https://localhost:{}", server.running().admin_addr.port());
    let browser = page().await;
    browser.open(&format!("{base}/login")).await;
    browser.fill("username", "greta").await;
    browser.fill("password", PASSWORD).await;
    browser.click_button("Log in").await;

    both_languages(&browser, &format!("{base}/totp"), "totp-off").await;
    browser.click_button("Set up").await;
    assert!(browser.has("img.qr").await, "the QR code is shown");
    let shown = browser.text_of("#totp-secret").await;
    let secret: String = shown.chars().filter(|c| !c.is_whitespace()).collect();
    crate::logs::remember_secret(&secret);
    assert_eq!(secret.len(), 32, "{shown}");
    let data = [format!("Key: {shown}"), format!("Schlüssel: {shown}")];
    let data: Vec<&str> = data.iter().map(String::as_str).collect();
    both_languages_with(&browser, &format!("{base}/totp"), "totp-enrol", &data).await;
    browser.fill("password", PASSWORD).await;
    browser
        .fill("code", &code(&secret, server.clock.now()))
        .await;
    browser.click_button("Confirm").await;
    assert!(browser.text().await.contains("Second factor set up."));
    browser.axe("totp set up").await;
    browser.screenshot("console-totp-set-up").await;
    both_languages(&browser, &format!("{base}/totp"), "totp-on").await;

    browser.click_button("Log out").await;
    browser.fill("username", "greta").await;
    browser.fill("password", PASSWORD).await;
    browser.click_button("Log in").await;
    assert!(browser.url().await.ends_with("/login"), "no session yet");
    assert!(browser.has("input[name='code']").await);
    both_languages(&browser, &format!("{base}/login/code"), "login-code").await;
    browser.fill("code", "000000").await;
    browser.click_button("Log in").await;
    assert!(
        browser
            .text()
            .await
            .contains("The code is wrong or was used already.")
    );
    browser.axe("login code refused").await;
    server.clock.advance(30);
    browser
        .fill("code", &code(&secret, server.clock.now()))
        .await;
    browser.click_button("Log in").await;
    assert!(
        browser.url().await.ends_with('/'),
        "{}",
        browser.url().await
    );
    assert!(browser.text().await.contains("greta"));
}
