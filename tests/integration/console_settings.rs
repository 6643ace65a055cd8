//! The console's settings pages over HTTPS: site settings, profiles, model settings and a
//! device's effective settings with where each value comes from; refused values named in the
//! page's language with nothing changed; secrets never shown; every field escaped.

use http::StatusCode;
use serde_json::json;

use crate::api::NewDevice;
use crate::console::{Browser, owner_with_own_password};
use crate::helpers::TestServer;

const MAC: &str = "80:5e:c0:12:34:56";

/// The settings table's row of `name`, from its `<tr>` to its `</tr>`.
fn row<'p>(page: &'p str, name: &str) -> &'p str {
    let at = page
        .find(&format!("<code>{name}</code>"))
        .unwrap_or_else(|| panic!("no row {name} in {page}"));
    let start = page[..at].rfind("<tr>").unwrap();
    &page[start..at + page[at..].find("</tr>").unwrap()]
}

async fn post_table(
    browser: &mut Browser<'_>,
    path: &str,
    fields: &[(&str, &str)],
) -> (StatusCode, String, String) {
    let csrf = browser.csrf(path).await;
    let mut all = vec![("csrf", csrf.as_str())];
    all.extend_from_slice(fields);
    let reply = browser.post(path, &all).await;
    let location = crate::console::location(&reply).to_string();
    (reply.status, location, reply.text())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn site_settings_are_changed_checked_and_never_show_a_secret() {
    let server = TestServer::start().await;
    let api = server.admin_api();
    let mut browser = owner_with_own_password(&server).await;

    let (status, location, _) = post_table(
        &mut browser,
        "/settings",
        &[
            ("s.sip_server", "pbx.example.com"),
            ("s.sip_port", "5070"),
            ("s.ldap_password", "Bind-Secret-42"),
        ],
    )
    .await;
    crate::logs::remember_secret("Bind-Secret-42");
    assert_eq!(
        (status, location.as_str()),
        (StatusCode::SEE_OTHER, "/settings?saved=1")
    );
    let stored = api.settings().ok().await;
    assert_eq!(stored["sip_server"], "pbx.example.com");
    assert_eq!(stored["sip_port"], 5070);
    assert_eq!(stored["ldap_password"], "[set]");
    let page = browser.get("/settings?saved=1").await.text();
    assert!(page.contains("Saved."));
    assert!(!page.contains("Bind-Secret-42"));
    assert!(row(&page, "ldap_password").contains("set (hidden)"));
    assert!(row(&page, "sip_port").contains("value=\"5070\""));

    // Two refused values: both named, with what they take; nothing of the form is applied.
    let (status, _, page) = post_table(
        &mut browser,
        "/settings",
        &[
            ("s.sip_server", "pbx2.example.com"),
            ("s.sip_port", "seventy"),
            ("s.resync_minutes", "0"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("SIP port: not a valid value; expected: a port number from 1 to 65535"));
    assert!(page.contains("minutes from 1 to 10080"), "{page}");
    assert!(
        row(&page, "sip_port").contains("value=\"seventy\""),
        "shown as typed"
    );
    assert_eq!(api.settings().ok().await, stored);

    browser.language = "de";
    let (status, _, page) = post_table(&mut browser, "/settings", &[("s.sip_port", "x")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("SIP-Port: ungültiger Wert; erwartet: eine Portnummer von 1 bis 65535"));
    browser.language = "en";

    // A secret left empty stays; ticking "remove" removes it; an emptied value is the default.
    let kept = [("s.sip_server", "pbx.example.com"), ("s.sip_port", "")];
    post_table(&mut browser, "/settings", &kept).await;
    let now = api.settings().ok().await;
    assert_eq!(
        (now["ldap_password"].clone(), now["sip_port"].clone()),
        (json!("[set]"), json!(5060))
    );
    let removed = [
        ("s.sip_server", "pbx.example.com"),
        ("clear.ldap_password", "on"),
    ];
    post_table(&mut browser, "/settings", &removed).await;
    assert_eq!(api.settings().ok().await["ldap_password"], json!(null));

    // Without the form's CSRF token nothing changes.
    let reply = browser
        .post("/settings", &[("s.sip_server", "evil.example.com")])
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(api.settings().ok().await["sip_server"], "pbx.example.com");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profiles_models_and_devices_show_where_each_value_comes_from() {
    let server = TestServer::start().await;
    let api = server.admin_api();
    api.patch_settings(json!({"sip_server": "pbx.example.com", "ntp_server": "ntp.example.com"}))
        .ok()
        .await;
    let mut browser = owner_with_own_password(&server).await;

    // A profile made in the console, with a description that must stay text.
    let csrf = browser.csrf("/profiles").await;
    let created = browser
        .post(
            "/profiles",
            &[
                ("csrf", &csrf),
                ("name", "branch"),
                ("description", "<b>Köln</b>"),
            ],
        )
        .await;
    assert_eq!(crate::console::location(&created), "/profiles/branch");
    let list = browser.get("/profiles").await.text();
    assert!(
        list.contains("&#60;b&#62;Köln&#60;/b&#62;") && !list.contains("<b>Köln"),
        "{list}"
    );
    let again = browser
        .post("/profiles", &[("csrf", &csrf), ("name", "branch")])
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(
        again
            .text()
            .contains("A profile of this name exists already.")
    );
    let bad = browser
        .post("/profiles", &[("csrf", &csrf), ("name", "no spaces")])
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(api.list_profiles().ok().await.as_array().unwrap().len(), 1);

    let (status, location, _) = post_table(
        &mut browser,
        "/profiles/branch",
        &[("s.ntp_server", "ntp.branch.example")],
    )
    .await;
    assert_eq!(
        (status, location.as_str()),
        (StatusCode::SEE_OTHER, "/profiles/branch?saved=1")
    );
    let profile = browser.get("/profiles/branch").await.text();
    assert!(row(&profile, "sip_server").contains("pbx.example.com"));
    assert!(row(&profile, "sip_server").contains("Site"));
    assert!(row(&profile, "utc_offset").contains("Set at the site only"));

    // The model's layer, then the device's own: each value names its level.
    let (status, ..) =
        post_table(&mut browser, "/models/T54W", &[("s.sip_transport", "tls")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        api.model_settings("T54W").ok().await["settings"]["sip_transport"],
        "tls"
    );
    api.create_device(NewDevice::new(MAC).model("T54W").profile("branch"))
        .ok()
        .await;
    let path = "/devices/805ec0123456/settings";
    post_table(&mut browser, path, &[("s.resync_minutes", "30")]).await;
    let device = browser.get(path).await.text();
    assert!(
        row(&device, "sip_server").contains("<td>Site</td>"),
        "{}",
        row(&device, "sip_server")
    );
    assert!(row(&device, "ntp_server").contains("ntp.branch.example"));
    assert!(row(&device, "ntp_server").contains("<td>Profile branch</td>"));
    assert!(row(&device, "sip_transport").contains("<td>Model T54W</td>"));
    assert!(row(&device, "resync_minutes").contains("<td>Device</td>"));
    let effective = api.device_settings(MAC).ok().await;
    assert_eq!(effective["effective"]["resync_minutes"]["value"], 30);

    // A profile in use cannot be deleted; the page says why and nothing goes.
    let csrf = browser.csrf("/profiles/branch").await;
    let refused = browser
        .post("/profiles/branch/delete", &[("csrf", &csrf)])
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert!(refused.text().contains("Devices still use this profile"));
    assert_eq!(api.list_profiles().ok().await.as_array().unwrap().len(), 1);
    assert_eq!(
        browser.get("/profiles/nowhere").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        browser.get("/models/NoSuchPhone").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        browser.get("/devices/00000000ffff/settings").await.status,
        StatusCode::NOT_FOUND
    );
}
