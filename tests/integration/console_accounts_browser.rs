//! The accounts and tokens pages in the run's real Chromium, walked as an owner does: create a
//! helpdesk account, reset its password, ask before deleting, create a token and revoke it;
//! then the new account logs in with the password it was shown and must change it, and an
//! admin sees no accounts link and is refused the page. axe-core on every page, a screenshot
//! of each, and the GET pages in both languages through the identical-text check.

use crate::browser::page;
use crate::console_browser::{both_languages, both_languages_with};
use crate::console_users::{PASSWORD, seed_account};
use crate::helpers::TestServer;

const HILDES_OWN: &str = "Blaue Tinte auf Papier 7";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_owner_manages_accounts_and_tokens_in_a_real_browser() {
    let server = TestServer::start().await;
    seed_account(&server, "boss", "owner").await;
    seed_account(&server, "erika", "admin").await;
    let base = format!("https://localhost:{}", server.running().admin_addr.port());
    let browser = page().await;
    let log_in = async |name: &str, password: &str| {
        browser.open(&format!("{base}/login")).await;
        browser.fill("username", name).await;
        browser.fill("password", password).await;
        browser.click_button("Log in").await;
    };
    log_in("boss", PASSWORD).await;

    let times = ["2026-01-01T00:00:00Z", "1970-01-01T00:00:00Z"];
    both_languages_with(&browser, &format!("{base}/accounts"), "accounts", &times).await;
    browser.click("a[href='/accounts/new']").await;
    both_languages(&browser, &format!("{base}/accounts/new"), "account-new").await;
    browser.fill("username", "hilde").await;
    browser.select("role", "helpdesk").await;
    browser.click_button("Create").await;
    assert!(browser.text().await.contains("Account created"));
    let first = browser.text_of("#secret-value").await;
    crate::logs::remember_secret(&first);
    browser.axe("account created (password once)").await;
    browser.screenshot("console-account-created-password").await;

    let account = format!("{base}/accounts/hilde");
    both_languages_with(&browser, &account, "account", &times).await;
    assert_eq!(browser.text_of("#account-role").await, "Helpdesk");
    browser.click_button("Reset password").await;
    assert!(browser.text().await.contains("Password reset"));
    let second = browser.text_of("#secret-value").await;
    crate::logs::remember_secret(&second);
    assert_ne!(first, second);
    browser.axe("password reset (once)").await;
    browser.open(&account).await;
    browser.click_button("Delete").await;
    assert!(browser.text().await.contains("Really delete this account?"));
    browser.axe("confirm account deletion").await;
    browser
        .screenshot("console-account-confirm-delete-en")
        .await;

    let tokens = format!("{base}/tokens");
    let token_data = ["initial", "never", "2026-01-01T00:00:00Z"];
    both_languages_with(&browser, &tokens, "tokens", &token_data).await;
    browser.fill("name", "monitoring").await;
    browser.select("role", "metrics").await;
    browser.click_button("Create").await;
    assert!(browser.text().await.contains("Token created"));
    let token = browser.text_of("#secret-value").await;
    crate::logs::remember_secret(&token);
    browser.axe("token created (once)").await;
    browser.open(&tokens).await;
    assert!(browser.text_of("#tokens").await.contains("monitoring"));
    browser
        .click("button[aria-label='Revoke: monitoring']")
        .await;
    assert!(browser.text().await.contains("Really revoke this token?"));
    browser.axe("confirm token revocation").await;
    browser.click_button("Yes, go ahead").await;
    assert!(browser.text().await.contains("Token revoked."));
    browser.click_button("Log out").await;

    // The new account logs in with the password shown and must change it first.
    log_in("hilde", &second).await;
    assert!(browser.url().await.ends_with("/password"));
    browser.fill("current_password", &second).await;
    browser.fill("new_password", HILDES_OWN).await;
    browser.fill("repeat_password", HILDES_OWN).await;
    crate::logs::remember_secret(HILDES_OWN);
    browser.click_button("Save").await;
    assert!(browser.text().await.contains("Password changed."));
    browser.click_button("Log out").await;

    // An admin sees no link to the accounts, and the page refuses them.
    log_in("erika", PASSWORD).await;
    assert!(!browser.has("a[href='/accounts']").await);
    assert!(!browser.has("a[href='/tokens']").await);
    browser.open(&format!("{base}/accounts")).await;
    assert!(browser.text().await.contains("Your role may not do this."));
    browser.axe("accounts refused to an admin").await;
}
