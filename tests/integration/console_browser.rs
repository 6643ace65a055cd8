//! The console in the run's real Chromium: the first owner's way in, the dashboard, German and
//! English, logging out; axe-core on every page, a screenshot of each under target/screenshots/.

use std::collections::BTreeSet;

use crate::api::{NewDevice, NewUser};
use crate::browser::{Page, page};
use crate::helpers::TestServer;

const NEW_PASSWORD: &str = "Grüne Wiese 2026!";

/// Visible lines that may read the same in German and English: names, numbers, the product,
/// setting names as the API and CSV files spell them, and table rows made of nothing else (a
/// model's vendor, its name, a count).
fn same_in_both_languages_allowed(line: &str) -> bool {
    let names = ["deskprov", "admin", "owner"];
    let is_name = |cell: &str| {
        cell.chars()
            .all(|c| c.is_ascii_digit() || c.is_whitespace())
            || names.contains(&cell)
            || deskprov::models::all().any(|row| row.model == cell || row.vendor == cell)
            || deskprov::settings::Key::from_name(cell).is_ok()
            || deskprov::locale::LANGUAGES.iter().any(|l| l.native == cell)
    };
    line.split_whitespace().all(is_name)
        || deskprov::locale::LANGUAGES.iter().any(|l| l.native == line)
        || deskprov::models::all().any(|m| line == format!("{} ({})", m.model, m.vendor))
}

/// The built-in settings' values as the settings pages show them: data, not words.
fn default_setting_values() -> Vec<String> {
    let defaults = serde_json::to_value(deskprov::settings::Settings::default()).unwrap();
    defaults
        .as_object()
        .unwrap()
        .values()
        .filter(|v| !v.is_null())
        .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
        .collect()
}

fn lines(text: &str) -> BTreeSet<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// The page's text in English and in German (by the browser's languages, the account having
/// chosen none): no line may read the same in both outside names and numbers.
pub(crate) async fn both_languages(browser: &Page, url: &str, name: &str) {
    both_languages_with(browser, url, name, &[]).await;
}

/// [`both_languages`] for a page that shows records: `data` lists the lines that are the
/// records' own (names, addresses, times), the same in every language.
pub(crate) async fn both_languages_with(browser: &Page, url: &str, name: &str, data: &[&str]) {
    browser.set_accept_language("en").await;
    browser.open(url).await;
    browser.axe(&format!("{name} (en)")).await;
    browser.screenshot(&format!("console-{name}-en")).await;
    let english = lines(&browser.text().await);
    browser.set_accept_language("de-DE,de").await;
    browser.open(url).await;
    browser.axe(&format!("{name} (de)")).await;
    browser.screenshot(&format!("console-{name}-de")).await;
    let german = lines(&browser.text().await);
    let same: Vec<&String> = english
        .intersection(&german)
        .filter(|l| !same_in_both_languages_allowed(l) && !data.contains(&l.as_str()))
        .collect();
    assert!(
        same.is_empty(),
        "{name}: the same in German and English: {same:?}"
    );
    browser.set_accept_language("en").await;
    browser.open(url).await;
}

/// One profile's, device's and user's own pages, their secrets included (the owner reads
/// them), in both languages.
async fn detail_and_secret_pages(
    server: &TestServer,
    browser: &Page,
    base: &str,
    defaults: &[&str],
) {
    const SIP_PASSWORD: &str = "Sip-Secret-1001";
    crate::logs::remember_secret(SIP_PASSWORD);
    let api = server.admin_api();
    api.create_profile(serde_json::json!({"name": "floor-2"}))
        .ok()
        .await;
    let user = NewUser::new("1001", "Anna Berg").sip_password(SIP_PASSWORD);
    api.create_user(user).ok().await;
    api.create_device(NewDevice::new("001565000001").model("T46S"))
        .ok()
        .await;
    let (username, password) = server.credentials("001565000001").await;
    for (path, name) in [
        ("/profiles/floor-2", "profile"),
        ("/devices/001565000001/settings", "device-settings"),
    ] {
        both_languages_with(browser, &format!("{base}{path}"), name, defaults).await;
    }
    let credentials = format!("{base}/devices/001565000001/credentials");
    let shown = [username.as_str(), password.as_str()];
    both_languages_with(browser, &credentials, "device-credentials", &shown).await;
    let sip = format!("{base}/users/1001/sip-password");
    both_languages_with(browser, &sip, "user-sip-password", &[SIP_PASSWORD]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_owner_finds_the_way_in_in_a_real_browser() {
    let server = TestServer::start().await;
    let first = std::fs::read_to_string(server.dir.path().join("data/admin.password"))
        .unwrap()
        .trim()
        .to_string();
    let base = format!("https://localhost:{}", server.running().admin_addr.port());
    let browser = page().await;

    both_languages(&browser, &format!("{base}/login"), "login").await;
    browser.open(&format!("{base}/")).await;
    assert!(
        browser.url().await.ends_with("/login"),
        "{}",
        browser.url().await
    );
    browser.fill("username", "admin").await;
    browser.fill("password", "wrong password here").await;
    browser.click_button("Log in").await;
    assert!(
        browser
            .text()
            .await
            .contains("Wrong user name or password.")
    );
    browser.axe("login refused").await;

    browser.fill("username", "admin").await;
    browser.fill("password", &first).await;
    browser.click_button("Log in").await;
    assert!(
        browser.url().await.ends_with("/password"),
        "{}",
        browser.url().await
    );
    let session = browser
        .cookies()
        .await
        .into_iter()
        .find(|c| c.name() == "__Host-deskprov-console")
        .expect("the session cookie");
    assert_eq!(session.secure(), Some(true));
    assert_eq!(session.http_only(), Some(true));
    assert_eq!(session.path(), Some("/"));
    both_languages(&browser, &format!("{base}/password"), "password").await;

    browser.fill("current_password", &first).await;
    browser.fill("new_password", NEW_PASSWORD).await;
    browser.fill("repeat_password", NEW_PASSWORD).await;
    crate::logs::remember_secret(NEW_PASSWORD);
    browser.click_button("Save").await;
    assert!(browser.text().await.contains("Password changed."));
    browser.axe("password changed").await;

    both_languages(&browser, &format!("{base}/"), "dashboard").await;
    both_languages(&browser, &format!("{base}/audit"), "audit").await;
    let defaults = default_setting_values();
    let defaults: Vec<&str> = defaults.iter().map(String::as_str).collect();
    for (path, name) in [
        ("/settings", "site-settings"),
        ("/profiles", "profiles"),
        ("/models", "models"),
        ("/models/T54W", "model-settings"),
    ] {
        both_languages_with(&browser, &format!("{base}{path}"), name, &defaults).await;
    }
    browser
        .open(&format!("{base}/audit?kind=console_login"))
        .await;
    assert!(browser.text_of("#audit").await.contains("Console login"));
    browser.open(&format!("{base}/")).await;
    assert_eq!(browser.text_of("#users-total").await, "0");
    assert!(browser.text().await.contains("Logged in as admin"));
    detail_and_secret_pages(&server, &browser, &base, &defaults).await;

    // Switched to German in the console, it stays German.
    browser.click_button("Deutsch").await;
    assert!(browser.text().await.contains("Übersicht"));
    browser.open(&format!("{base}/")).await;
    assert!(browser.text().await.contains("Abmelden"));
    browser.click_button("Abmelden").await;
    assert!(
        browser.url().await.ends_with("/login"),
        "{}",
        browser.url().await
    );
    browser.open(&format!("{base}/")).await;
    assert!(browser.url().await.ends_with("/login"));
}
