//! The import and export pages in the run's real Chromium, walked as an admin does: choose a
//! CSV of a few hundred users in the file input, watch the dry run's progress bar, start the
//! import and watch its bar reach the end; axe-core and a screenshot on every page, the GET
//! pages in both languages through the identical-text check; and helpdesk refused.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::browser::{Page, page};
use crate::console_browser::{both_languages, both_languages_with};
use crate::console_users::{PASSWORD, seed_account};
use crate::helpers::TestServer;

const USERS: usize = 300;

/// What the progress bar showed, sample by sample, until the job's outcome appeared: (value,
/// max, whether the sample was taken in the document the first sample saw).
async fn watch_progress(browser: &Page) -> Vec<(u64, u64, bool)> {
    const SAMPLE: &str = "(() => { const bar = document.getElementById('progress'); \
        const same = window.__watched === true; window.__watched = true; \
        return bar ? [bar.value, bar.max, same, !!document.getElementById('outcome')] : null; })()";
    let started = Instant::now();
    let mut samples = Vec::new();
    while started.elapsed() < Duration::from_secs(60) {
        let answer = browser
            .cdp(
                "Runtime.evaluate",
                json!({"expression": SAMPLE, "returnByValue": true}),
            )
            .await;
        if let Some(sample) = answer["result"]["value"].as_array() {
            let number = |v: &Value| v.as_f64().unwrap_or(0.0) as u64;
            let first_document = samples.is_empty() || sample[2] == true;
            samples.push((number(&sample[0]), number(&sample[1]), first_document));
            if sample[3] == true {
                return samples;
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the job did not finish within a minute: {samples:?}");
}

/// The bar rose to its end: values never fall, the last is the file's rows, and it moved.
fn assert_rose(samples: &[(u64, u64, bool)], what: &str) {
    let values: Vec<u64> = samples.iter().map(|(v, _, _)| *v).collect();
    assert!(
        values.windows(2).all(|w| w[0] <= w[1]),
        "{what}: the bar fell: {values:?}"
    );
    assert_eq!(
        samples.last().map(|(v, max, _)| (*v, *max)),
        Some((USERS as u64, USERS as u64)),
        "{what}: {samples:?}"
    );
    assert!(
        values.iter().any(|v| *v < USERS as u64),
        "{what}: the bar never showed the job running: {values:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_imports_a_few_hundred_users_and_watches_the_progress_in_a_real_browser() {
    let server = TestServer::start().await;
    seed_account(&server, "jonas", "admin").await;
    seed_account(&server, "hilde", "helpdesk").await;
    let mut csv = String::from("extension,first_name,last_name,display_name,pin,may_hotdesk\n");
    for n in 0..USERS {
        let extension = 4000 + n;
        csv.push_str(&format!(
            // PINs are hashed as each row is checked, so the job takes a moment.
            "{extension},Vorname{n},Nachname{n},Person {n},938{n:03},true\n"
        ));
    }
    for n in 0..3 {
        crate::logs::remember_secret(&format!("938{n:03}"));
    }
    let file = server.dir.path().join("users.csv");
    std::fs::write(&file, csv).unwrap();

    let base = format!("https://localhost:{}", server.running().admin_addr.port());
    let browser = page().await;
    browser.open(&format!("{base}/login")).await;
    browser.fill("username", "jonas").await;
    browser.fill("password", PASSWORD).await;
    browser.click_button("Log in").await;

    both_languages(&browser, &format!("{base}/import"), "import").await;
    browser.choose_file("file", &file).await;
    browser.click_button("Check the file").await;
    let dry_run = browser.url().await;
    assert!(dry_run.ends_with("/imports/1"), "{dry_run}");
    let samples = watch_progress(&browser).await;
    assert_rose(&samples, "dry run");
    assert!(
        browser.text().await.contains("Every row is fine."),
        "{}",
        browser.text().await
    );
    assert!(browser.text_of("#counts").await.starts_with("New\n300"));
    let started = browser.text_of("dl.facts dd:nth-of-type(3)").await;
    both_languages_with(&browser, &dry_run, "import-dry-run", &[&started]).await;
    let api = server.admin_api();
    assert_eq!(
        api.show_user("4000").send().await.status,
        http::StatusCode::NOT_FOUND,
        "the dry run changed something"
    );

    browser.click_button("Import 300 rows now").await;
    let import = browser.url().await;
    assert!(import.ends_with("/imports/2"), "{import}");
    let samples = watch_progress(&browser).await;
    assert_rose(&samples, "import");
    assert!(
        samples
            .iter()
            .any(|(v, _, same)| *same && *v > samples[0].0),
        "the script moved the bar without reloading the page: {samples:?}"
    );
    assert!(browser.text().await.contains("The import is complete."));
    let started = browser.text_of("dl.facts dd:nth-of-type(3)").await;
    both_languages_with(&browser, &import, "import-done", &[&started]).await;
    let last = api.show_user(&(4000 + USERS - 1).to_string()).ok().await;
    assert_eq!(last["display_name"], format!("Person {}", USERS - 1));
    assert_eq!(last["may_hotdesk"], true);

    both_languages(&browser, &format!("{base}/imports"), "imports").await;
    both_languages(&browser, &format!("{base}/export"), "export").await;

    // Helpdesk finds the import refused, the export open.
    browser.click_button("Log out").await;
    browser.fill("username", "hilde").await;
    browser.fill("password", PASSWORD).await;
    browser.click_button("Log in").await;
    browser.open(&format!("{base}/import")).await;
    assert!(browser.text().await.contains("Your role may not do this."));
    browser.axe("import refused (helpdesk)").await;
    browser.screenshot("console-import-refused-helpdesk").await;
    browser.open(&format!("{base}/export")).await;
    assert!(browser.has("a[href='/export/users.csv']").await);
}
