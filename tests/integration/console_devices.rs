//! The console's devices pages over HTTPS: each page for each role; registering, editing,
//! assigning lines and deleting behind a confirmation, with refusals in the page's language
//! that change nothing; the list's search, filters and cursor pages; the credentials read
//! (audited) and the config preview with its secrets masked; the unregistered list with adopt
//! and forget; and what a phone or an admin typed rendered escaped.

use http::StatusCode;
use serde_json::json;

use crate::api::{AuditFilter, NewUser};
use crate::console::{Browser, hidden, location};
use crate::console_users::{PASSWORD, seed_account};
use crate::helpers::{T46S_MAC, TestServer, wait_until_listed};

const MAC: &str = "001565000001";

/// Logged in as a fresh account of `role`.
async fn logged_in<'a>(server: &TestServer, role: &str) -> Browser<'a> {
    let name = format!("{role}-devices");
    seed_account(server, &name, role).await;
    let mut browser = Browser::new(server);
    let reply = browser.log_in(&name, PASSWORD).await;
    assert_eq!(location(&reply), "/", "{role}: {}", reply.text());
    browser
}

/// The create form's fields.
fn new_device_form<'a>(csrf: &'a str, mac: &'a str, label: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("csrf", csrf),
        ("mac", mac),
        ("model", ""),
        ("label", label),
        ("location", "Haus B <i>2</i>"),
        ("profile", ""),
        ("expansion_modules", "0"),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_registers_edits_assigns_and_deletes_and_refusals_change_nothing() {
    let server = TestServer::start().await;
    let api = server.admin_api();
    api.create_user(NewUser::new("1001", "Alice")).ok().await;
    let mut browser = logged_in(&server, "admin").await;
    let csrf = browser.csrf("/devices/new").await;
    let label = "<script>alert(1)</script>";
    let created = browser
        .post(
            "/devices/new",
            &new_device_form(&csrf, "00-15-65-00-00-01", label),
        )
        .await;
    assert_eq!(location(&created), "/devices/001565000001?done=created");
    let device = api.show_device(MAC).ok().await;
    assert_eq!(device["label"], label);
    assert_eq!(device["model"], serde_json::Value::Null);
    let detail = browser
        .get("/devices/001565000001?done=created")
        .await
        .text();
    assert!(detail.contains("Device created."), "{detail}");
    assert!(detail.contains("Registered, never seen"), "{detail}");
    assert!(detail.contains("Claim open until"), "{detail}");
    for page in [detail, browser.get("/devices").await.text()] {
        assert!(
            !page.contains("<script>alert") && !page.contains("<i>2"),
            "{page}"
        );
        assert!(
            page.contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
            "{page}"
        );
    }

    // A bad MAC, a taken one, an unknown profile: refused in German, nothing registered.
    browser.language = "de";
    let cases = [
        ("00:15:65", StatusCode::BAD_REQUEST, "keine MAC-Adresse"),
        (MAC, StatusCode::CONFLICT, "schon registriert"),
    ];
    for (mac, status, words) in cases {
        let refused = browser
            .post("/devices/new", &new_device_form(&csrf, mac, "Neu"))
            .await;
        assert_eq!(refused.status, status, "{mac}");
        let text = refused.text();
        assert!(text.contains(words) && !text.contains("already"), "{text}");
        assert!(
            text.contains("value=\"Neu\""),
            "what was typed stays: {text}"
        );
    }
    let mut unknown_profile = new_device_form(&csrf, "001565000002", "Neu");
    unknown_profile[5] = ("profile", "nirgends");
    let refused = browser.post("/devices/new", &unknown_profile).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.text().contains("Dieses Profil gibt es nicht"));
    api.show_device("001565000002")
        .fails(StatusCode::NOT_FOUND)
        .await;
    browser.language = "en";

    // Edit: the model set, the label kept; a line assigned, refused twice, then freed.
    let edit = [
        ("csrf", csrf.as_str()),
        ("model", "T46S"),
        ("label", label),
        ("location", "Haus C"),
        ("profile", ""),
        ("expansion_modules", "0"),
    ];
    let saved = browser.post("/devices/001565000001/edit", &edit).await;
    assert_eq!(location(&saved), "/devices/001565000001?done=saved");
    let device = api.show_device(MAC).ok().await;
    assert_eq!(
        (device["model"].as_str(), device["location"].as_str()),
        (Some("T46S"), Some("Haus C"))
    );
    let assign = [("csrf", csrf.as_str()), ("line", "2"), ("user", "1001")];
    let assigned = browser.post("/devices/001565000001/lines", &assign).await;
    assert_eq!(location(&assigned), "/devices/001565000001?done=assigned");
    assert_eq!(
        api.show_device(MAC).ok().await["lines"],
        json!([{"line": 2, "user": "1001"}])
    );
    let bad = [("csrf", csrf.as_str()), ("line", "99"), ("user", "1001")];
    let refused = browser.post("/devices/001565000001/lines", &bad).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.text().contains("The device has no such line."));
    let nobody = [("csrf", csrf.as_str()), ("line", "3"), ("user", "4711")];
    let refused = browser.post("/devices/001565000001/lines", &nobody).await;
    assert!(
        refused
            .text()
            .contains("There is no user with this extension.")
    );
    let detail = browser.get("/devices/001565000001").await.text();
    assert!(
        detail.contains("/devices/001565000001/lines/2/unassign"),
        "{detail}"
    );
    let freed = browser
        .post("/devices/001565000001/lines/2/unassign", &[("csrf", &csrf)])
        .await;
    assert_eq!(location(&freed), "/devices/001565000001?done=unassigned");
    assert_eq!(api.show_device(MAC).ok().await["lines"], json!([]));
    let refused = browser
        .post("/devices/001565000001/logout", &[("csrf", &csrf)])
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert!(
        refused
            .text()
            .contains("Nobody is logged in at this device.")
    );

    // Delete behind a confirmation naming the count; an unknown MAC among them deletes none.
    let two = [
        ("csrf", csrf.as_str()),
        ("selected", MAC),
        ("selected", "001565000009"),
    ];
    let confirm = browser.post("/devices/bulk/delete", &two).await.text();
    assert!(
        confirm.contains("<strong id=\"confirm-count\">2</strong>"),
        "{confirm}"
    );
    let mut confirmed = two.to_vec();
    confirmed.push(("confirmed", "yes"));
    let refused = browser.post("/devices/bulk/delete", &confirmed).await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    api.show_device(MAC).ok().await;
    let one = [
        ("csrf", csrf.as_str()),
        ("selected", MAC),
        ("confirmed", "yes"),
    ];
    let deleted = browser.post("/devices/bulk/delete", &one).await;
    assert_eq!(location(&deleted), "/devices?done=deleted");
    api.show_device(MAC).fails(StatusCode::NOT_FOUND).await;
    let forged = browser
        .post(
            "/devices/new",
            &new_device_form("forged", "001565000003", "x"),
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    api.show_device("001565000003")
        .fails(StatusCode::NOT_FOUND)
        .await;
}

/// `count` devices 0015650001xx, every third a T48S, the rest T46S.
async fn many_devices(server: &TestServer, count: u32) {
    let devices: Vec<serde_json::Value> = (0..count)
        .map(|n| {
            let model = if n % 3 == 0 { "T48S" } else { "T46S" };
            json!({"mac": format!("0015650001{n:02x}"), "model": model, "location": format!("Etage {}", n % 4)})
        })
        .collect();
    server
        .admin_api()
        .create_devices(json!({ "devices": devices }))
        .ok()
        .await;
}

fn macs_in(page: &str) -> Vec<String> {
    page.split("<td><a href=\"/devices/")
        .skip(1)
        .map(|rest| rest[..12].to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_list_searches_filters_and_pages_and_bulk_actions_reach_every_ticked_device() {
    let server = TestServer::start().await;
    many_devices(&server, 60).await;
    let mut browser = logged_in(&server, "helpdesk").await;
    let first = browser.get("/devices").await.text();
    let shown = macs_in(&first);
    assert_eq!(shown.len(), 50, "{first}");
    assert_eq!(shown[0], "001565000100");
    let next = "/devices?after=001565000131";
    assert!(
        first.contains(&format!("href=\"{next}\" rel=\"next\"")),
        "{first}"
    );
    let second = browser.get(next).await.text();
    assert_eq!(macs_in(&second).len(), 10);
    assert!(!second.contains("rel=\"next\"") && second.contains("href=\"/devices\""));

    let t48 = macs_in(&browser.get("/devices?model=T48S").await.text());
    assert_eq!(t48.len(), 20);
    let floor = browser
        .get("/devices?location=etage+3&model=T46S")
        .await
        .text();
    assert_eq!(macs_in(&floor).len(), 10, "{floor}");
    let found = macs_in(
        &browser
            .get("/devices?q=00%3A15%3A65%3A00%3A01%3A0a")
            .await
            .text(),
    );
    assert_eq!(found, ["00156500010a"]);
    let never = browser
        .get("/devices?never_seen=yes&unassigned=yes")
        .await
        .text();
    assert_eq!(macs_in(&never).len(), 50);
    let seen = browser.get("/devices?never_seen=no").await.text();
    assert!(seen.contains("No devices found."), "{seen}");
    let bad = browser.get("/devices?not_seen_days=soon").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);

    // The helpdesk resets three claims at once: three new provisioning passwords.
    let api = server.admin_api();
    let macs = ["001565000100", "001565000101", "001565000102"];
    let mut before = Vec::new();
    for mac in macs {
        before.push(server.credentials(mac).await.1);
    }
    let csrf = hidden(&first, "csrf");
    let mut three = vec![("csrf", csrf.as_str())];
    three.extend(macs.iter().map(|m| ("selected", *m)));
    let confirm = browser
        .post("/devices/bulk/reset-claim", &three)
        .await
        .text();
    assert!(
        confirm.contains("<strong id=\"confirm-count\">3</strong>"),
        "{confirm}"
    );
    three.push(("confirmed", "yes"));
    let done = browser.post("/devices/bulk/reset-claim", &three).await;
    assert_eq!(location(&done), "/devices?done=claim_reset");
    for (mac, old) in macs.iter().zip(before) {
        let new = server.credentials(mac).await.1;
        assert_ne!(new, old, "{mac}");
    }
    let refused = browser.post("/devices/bulk/logout", &three).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "nobody to log out");
    let audit = api.list_audit(AuditFilter::kind("admin_change")).ok().await;
    let resets = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["detail"].as_str().unwrap_or("").contains("claim reset"))
        .count();
    assert_eq!(resets, 3, "{audit}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_are_read_audited_and_the_preview_masks_every_secret() {
    let server = TestServer::start().await;
    server.seed_desk_phone().await;
    // The phone fetches its config, its User-Agent carrying markup.
    let ua = "Yealink SIP-T46S 66.86.0.15<b>x</b> 00:15:65:aa:bb:cc";
    let fetched = server.phone_get(&format!("/{T46S_MAC}.cfg"), ua).await;
    assert_eq!(fetched.status, StatusCode::OK);
    let api = server.admin_api();
    let (_, password) = server.credentials(T46S_MAC).await;

    let mut owner = logged_in(&server, "owner").await;
    let detail = owner.get(&format!("/devices/{T46S_MAC}")).await.text();
    assert!(detail.contains("Last seen"), "{detail}");
    assert!(
        detail.contains(&format!("/devices/{T46S_MAC}/settings")),
        "{detail}"
    );
    assert!(!detail.contains("<b>x"), "{detail}");
    let shown = api.show_device(T46S_MAC).ok().await;
    assert_eq!(
        shown["firmware"], "66.86.0.15<b>x</b>",
        "the phone's own words"
    );
    assert!(
        detail.contains("66.86.0.15&#60;b&#62;x&#60;/b&#62;"),
        "{detail}"
    );
    let list = owner.get("/devices").await.text();
    assert!(
        !list.contains("<b>x") && list.contains("&#60;b&#62;x"),
        "{list}"
    );
    let secret = owner.get(&format!("/devices/{T46S_MAC}/credentials")).await;
    assert_eq!(secret.status, StatusCode::OK);
    assert!(
        secret
            .text()
            .contains(&format!("<dd id=\"provisioning-password\">{password}</dd>"))
    );
    let reads = api
        .list_audit(AuditFilter::kind("secret_read").subject(T46S_MAC))
        .ok()
        .await;
    let by_page: Vec<_> = reads
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["actor"] == "owner-devices")
        .collect();
    assert_eq!(by_page.len(), 1, "{reads}");
    assert_eq!(by_page[0]["actor_role"], "owner");
    assert_eq!(by_page[0]["actor_kind"], "account");
    assert_eq!(
        by_page[0]["detail"],
        format!("page: device credentials /devices/{T46S_MAC}/credentials")
    );

    let preview = owner
        .get(&format!("/devices/{T46S_MAC}/preview"))
        .await
        .text();
    assert!(
        preview.contains("pbx.example.com"),
        "the config itself: {preview}"
    );
    assert!(preview.contains("********"), "{preview}");
    for secret in [password.as_str(), "alice-secret-0001"] {
        assert!(!preview.contains(secret), "{secret} in {preview}");
    }

    // Unregistered phones: one adopted with a label, one forgotten.
    let unknown = [
        ("001565000077", "00:15:65:00:00:77"),
        ("001565000078", "00:15:65:00:00:78"),
    ];
    for (mac, shown) in unknown {
        let ua = format!("Yealink SIP-T46S 66.86.0.15 {shown}");
        server.phone_get(&format!("/{mac}.cfg"), &ua).await;
    }
    wait_until_listed(&api, &["001565000077", "001565000078"]).await;
    let list = owner.get("/unregistered").await.text();
    assert!(
        list.contains("001565000077") && list.contains("001565000078"),
        "{list}"
    );
    let csrf = hidden(&list, "csrf");
    let adopt = [("csrf", csrf.as_str()), ("label", "Lager")];
    let adopted = owner.post("/unregistered/001565000077/adopt", &adopt).await;
    assert_eq!(location(&adopted), "/devices/001565000077?done=adopted");
    let device = api.show_device("001565000077").ok().await;
    assert_eq!(
        (device["adopted"].as_bool(), device["label"].as_str()),
        (Some(true), Some("Lager"))
    );
    let forgot = owner
        .post("/unregistered/001565000078/forget", &[("csrf", &csrf)])
        .await;
    assert_eq!(location(&forgot), "/unregistered?done=forgotten");
    let again = owner
        .post("/unregistered/001565000078/forget", &[("csrf", &csrf)])
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    assert!(again.text().contains("not in the unregistered list"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_helpdesk_finds_neither_secrets_nor_delete_and_their_urls_are_refused() {
    let server = TestServer::start().await;
    server.seed_desk_phone().await;
    let mut browser = logged_in(&server, "helpdesk").await;
    let list = browser.get("/devices").await.text();
    assert!(list.contains(">Reset claim</button>"), "{list}");
    assert!(
        !list.contains(">Delete</button>") && !list.contains("/devices/new"),
        "{list}"
    );
    let detail = browser.get(&format!("/devices/{T46S_MAC}")).await.text();
    assert!(
        !detail.contains(">Delete</button>") && !detail.contains("/credentials"),
        "{detail}"
    );
    assert!(
        !detail.contains("/edit") && !detail.contains("/unassign"),
        "{detail}"
    );
    let csrf = hidden(&detail, "csrf");
    let refused = browser
        .get(&format!("/devices/{T46S_MAC}/credentials"))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let delete = [
        ("csrf", csrf.as_str()),
        ("selected", T46S_MAC),
        ("confirmed", "yes"),
    ];
    let refused = browser.post("/devices/bulk/delete", &delete).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    server.admin_api().show_device(T46S_MAC).ok().await;
    let reset = browser
        .post(
            &format!("/devices/{T46S_MAC}/reset-claim"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(
        location(&reset),
        &format!("/devices/{T46S_MAC}?done=claim_reset")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hot_desk_login_shows_on_the_device_and_the_helpdesk_logs_it_out() {
    use crate::hotdesk::{ALICE_PIN, YEALINK, add_desk, login, site};
    let server = site(|_| {}).await;
    add_desk(&server, YEALINK).await;
    login(&server, YEALINK, "1001", ALICE_PIN).await;
    let mut browser = logged_in(&server, "helpdesk").await;
    let path = format!("/devices/{}", YEALINK.mac);
    let detail = browser.get(&path).await.text();
    let logins = detail.split("id=\"device-logins\"").nth(1).unwrap_or("");
    assert!(logins.contains("<td>1001</td>"), "{detail}");
    assert!(detail.contains(">Log out hot desk</button>"), "{detail}");
    let list = browser.get("/devices?hotdesk=yes").await.text();
    assert!(
        list.contains(YEALINK.mac) && list.contains("<td>1001</td>"),
        "{list}"
    );
    let csrf = hidden(&detail, "csrf");
    let out = browser
        .post(&format!("{path}/logout"), &[("csrf", &csrf)])
        .await;
    assert_eq!(location(&out), format!("{path}?done=logged_out"));
    let api = server.admin_api();
    assert_eq!(
        api.show_device(YEALINK.mac).ok().await["logged_in"],
        json!([])
    );
    assert!(
        browser
            .get(&path)
            .await
            .text()
            .contains("Nobody is logged in.")
    );

    // Again, through the list's bulk action.
    login(&server, YEALINK, "1001", ALICE_PIN).await;
    let bulk = [
        ("csrf", csrf.as_str()),
        ("selected", YEALINK.mac),
        ("confirmed", "yes"),
    ];
    let out = browser.post("/devices/bulk/logout", &bulk).await;
    assert_eq!(location(&out), "/devices?done=logged_out");
    assert_eq!(
        api.show_device(YEALINK.mac).ok().await["logged_in"],
        json!([])
    );
    let user = api.show_user("1001").ok().await;
    assert!(
        user.get("logged_in_at").is_none_or(|v| v.is_null()),
        "{user}"
    );
}
