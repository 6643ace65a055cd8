//! The users pages in the run's real Chromium, walked as an admin does: create a user with a
//! desk phone and a generated PIN, open the user, tick three users and lock them behind the
//! confirmation. axe-core on every page, a screenshot of each, and the GET pages in both
//! languages through the identical-text check.

use crate::api::NewUser;
use crate::browser::page;
use crate::console_browser::{both_languages, both_languages_with};
use crate::console_users::{PASSWORD, seed_account};
use crate::helpers::TestServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_creates_a_user_with_a_phone_and_locks_three_in_a_real_browser() {
    let server = TestServer::start().await;
    let api = server.admin_api();
    for (extension, name) in [("1001", "Anna Berg"), ("1002", "Ben Roth")] {
        api.create_user(NewUser::new(extension, name)).ok().await;
    }
    seed_account(&server, "erika", "admin").await;
    let base = format!("https://localhost:{}", server.running().admin_addr.port());
    let browser = page().await;
    browser.open(&format!("{base}/login")).await;
    browser.fill("username", "erika").await;
    browser.fill("password", PASSWORD).await;
    browser.click_button("Log in").await;

    both_languages(&browser, &format!("{base}/users"), "users").await;
    browser.click("a[href='/users/new']").await;
    both_languages(&browser, &format!("{base}/users/new"), "user-new").await;
    browser.fill("extension", "1003").await;
    browser.fill("first_name", "Cem").await;
    browser.fill("last_name", "Yilmaz").await;
    browser.fill("email", "cem@example.com").await;
    browser.select("user_language", "de").await;
    browser.click("input[name='generate_pin']").await;
    browser.fill("mac", "0015.6512.3456").await;
    browser.select("model", "T46S").await;
    browser.click_button("Create").await;
    let shown = browser.text().await;
    assert!(shown.contains("User created"), "{shown}");
    let pin = browser.text_of("td.pin").await;
    crate::logs::remember_secret(&pin);
    assert!(pin.len() >= 6, "{pin}");
    browser.axe("user created (PIN once)").await;
    browser.screenshot("console-user-created-pin").await;

    let data = [
        "001565123456 1 T46S",
        "2026-01-01T00:00:00Z",
        "Cem",
        "Cem Yilmaz",
        "Yilmaz",
        "cem@example.com",
    ];
    both_languages_with(&browser, &format!("{base}/users/1003"), "user", &data).await;
    assert!(browser.text().await.contains("001565123456"));
    assert_eq!(browser.text_of("td.model").await, "T46S");
    both_languages(&browser, &format!("{base}/users/1003/edit"), "user-edit").await;

    browser.open(&format!("{base}/users")).await;
    for extension in ["1001", "1002", "1003"] {
        browser.click(&format!("#select-{extension}")).await;
    }
    browser.click_button("Lock").await;
    assert_eq!(browser.text_of("#confirm-count").await, "3");
    browser.axe("confirm lock").await;
    browser.screenshot("console-users-confirm-en").await;
    browser.click_button("Yes, go ahead").await;
    assert!(browser.text().await.contains("Locked."));
    browser.axe("users locked").await;
    for extension in ["1001", "1002", "1003"] {
        assert_eq!(api.show_user(extension).ok().await["locked"], true);
    }
}
