//! The console's users pages over HTTPS (each page for each role: `console_roles.rs`): creating
//! a user with a desk phone in one change (and the phone's first fetch filling in its model), bulk actions behind
//! a confirmation, all or nothing, PINs shown once, the list's filters and pages, refusals in
//! the page's language that change nothing, CSRF, and names rendered escaped.

use deskprov::model::AccountRecord;
use http::StatusCode;

use crate::api::{AuditFilter, NewUser};
use crate::console::{Browser, hidden, location};
use crate::helpers::TestServer;

pub const PASSWORD: &str = "Fernmelde-Amt 1887!";

/// A console account of `role` with [`PASSWORD`], its password already its own.
pub async fn seed_account(server: &TestServer, username: &str, role: &str) {
    seed_account_with(server, username, role, role == "owner").await;
}

/// As [`seed_account`], reading secrets when `reads_secrets` (an admin the owner allowed).
pub async fn seed_account_with(
    server: &TestServer,
    username: &str,
    role: &str,
    reads_secrets: bool,
) {
    use argon2::password_hash::PasswordHasher;
    let hash = argon2::Argon2::default()
        .hash_password(PASSWORD.as_bytes())
        .unwrap()
        .to_string();
    let record: AccountRecord = serde_json::from_value(serde_json::json!({
        "username": username,
        "password_hash": hash,
        "role": role,
        "reads_secrets": reads_secrets,
        "disabled": false,
        "password_change_required": false,
        "language": null,
        "created_at": 0,
        "password_changed_at": 0,
    }))
    .unwrap();
    deskprov::ops::restore::put_accounts(&server.running().app.store, &[record])
        .await
        .unwrap();
    crate::logs::remember_secret(PASSWORD);
}

/// Logged in as a fresh account of `role`.
async fn logged_in<'a>(server: &TestServer, role: &str) -> Browser<'a> {
    let name = format!("{role}-walk");
    seed_account(server, &name, role).await;
    let mut browser = Browser::new(server);
    let reply = browser.log_in(&name, PASSWORD).await;
    assert_eq!(location(&reply), "/", "{role}: {}", reply.text());
    browser
}

/// The create form's fields for user `extension` with the desk phone `mac`.
fn new_user_form<'a>(csrf: &'a str, extension: &'a str, mac: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("csrf", csrf),
        ("extension", extension),
        ("first_name", "Jana"),
        ("last_name", "Nowak"),
        ("display_name", ""),
        ("email", "jana.nowak@example.com"),
        ("user_language", "de"),
        ("generate_pin", "yes"),
        ("may_hotdesk", "yes"),
        ("mac", mac),
        ("model", ""),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_and_the_desk_phone_are_created_in_one_change_and_the_phone_names_its_model() {
    let server = TestServer::start().await;
    let api = server.admin_api();
    let mut browser = logged_in(&server, "admin").await;
    let form = browser.get("/users/new").await;
    assert!(
        form.text().contains("value=\"1000\""),
        "the next free extension is filled in: {}",
        form.text()
    );
    let csrf = hidden(&form.text(), "csrf");

    let created = browser
        .post(
            "/users/new",
            &new_user_form(&csrf, "2001", "00-15-65-12-34-56"),
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text());
    assert_eq!(created.header("cache-control"), Some("no-store"));
    let page = created.text();
    let pin = page
        .split("<td class=\"pin\">")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .unwrap()
        .to_string();
    crate::logs::remember_secret(&pin);
    assert!(
        pin.len() >= 6 && pin.bytes().all(|b| b.is_ascii_digit()),
        "{pin}"
    );
    let user = api.show_user("2001").ok().await;
    assert_eq!(user["display_name"], "Jana Nowak");
    assert_eq!(user["has_pin"], true);
    assert!(
        user.get("pin").is_none(),
        "the PIN was shown once, on the page"
    );
    let device = api.show_device("001565123456").ok().await;
    assert_eq!(device["lines"][0]["line"], 1, "{device}");
    assert_eq!(device["lines"][0]["user"], "2001", "{device}");
    assert_eq!(device["model"], serde_json::Value::Null);

    // The phone fetches its config over HTTPS; its model appears on the user's page.
    let config = server
        .phone_get(
            "/001565123456.cfg",
            "Yealink SIP-T46S 66.86.0.15 00:15:65:12:34:56",
        )
        .await;
    assert_eq!(config.status, StatusCode::OK, "{}", config.text());
    let detail = browser.get("/users/2001").await;
    assert!(
        detail.text().contains("<td class=\"model\">T46S</td>"),
        "{}",
        detail.text()
    );

    // A registered MAC, a bad MAC, a taken extension: a clear refusal, in German for a German
    // browser, and neither user nor device is created.
    browser.language = "de";
    let cases = [
        (
            "2002",
            "001565123456",
            StatusCode::CONFLICT,
            "schon angelegt",
        ),
        (
            "2002",
            "00:15:65:zz:00:01",
            StatusCode::BAD_REQUEST,
            "MAC-Adresse ist ungültig",
        ),
        (
            "2001",
            "001565000002",
            StatusCode::CONFLICT,
            "Nebenstelle ist schon vergeben",
        ),
    ];
    for (extension, mac, status, words) in cases {
        let refused = browser
            .post("/users/new", &new_user_form(&csrf, extension, mac))
            .await;
        assert_eq!(refused.status, status, "{extension} {mac}");
        let text = refused.text();
        assert!(text.contains(words), "{words}: {text}");
        assert!(
            !text.contains("already"),
            "no English on a German page: {text}"
        );
        assert!(
            text.contains("value=\"Nowak\""),
            "what was typed stays: {text}"
        );
    }
    api.show_user("2002").fails(StatusCode::NOT_FOUND).await;
    api.show_device("001565000002")
        .fails(StatusCode::NOT_FOUND)
        .await;
    let weak = [
        ("csrf", csrf.as_str()),
        ("display_name", "Weak"),
        ("pin", "1111111"),
    ];
    let refused = browser.post("/users/new", &weak).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(
        refused.text().contains("zu leicht zu erraten"),
        "{}",
        refused.text()
    );
    assert!(
        !refused.text().contains("1111111"),
        "a refused PIN is not shown again"
    );
    let users = api.list_users().ok().await;
    assert_eq!(users.as_array().unwrap().len(), 1, "{users}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_users_are_locked_after_a_confirmation_that_names_them_all_or_none() {
    let server = TestServer::start().await;
    let api = server.admin_api();
    for (extension, name) in [("1001", "Anna"), ("1002", "Ben"), ("1003", "Cem")] {
        api.create_user(NewUser::new(extension, name)).ok().await;
    }
    let mut browser = logged_in(&server, "admin").await;
    let csrf = browser.csrf("/users").await;
    let three = [
        ("csrf", csrf.as_str()),
        ("selected", "1001"),
        ("selected", "1002"),
        ("selected", "1003"),
    ];
    let confirm = browser.post("/users/bulk/lock", &three).await;
    assert_eq!(confirm.status, StatusCode::OK);
    let page = confirm.text();
    assert!(
        page.contains("<strong id=\"confirm-count\">3</strong>"),
        "{page}"
    );
    for extension in ["1001", "1002", "1003"] {
        assert!(page.contains(&format!("<li>{extension}</li>")), "{page}");
        assert!(page.contains(&format!("name=\"selected\" value=\"{extension}\"")));
        assert_eq!(
            api.show_user(extension).ok().await["locked"],
            false,
            "only asked"
        );
    }
    let mut confirmed = three.to_vec();
    confirmed.push(("confirmed", "yes"));
    let done = browser.post("/users/bulk/lock", &confirmed).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    assert_eq!(location(&done), "/users?done=locked");
    for extension in ["1001", "1002", "1003"] {
        assert_eq!(api.show_user(extension).ok().await["locked"], true);
    }
    let list = browser.get("/users?done=locked").await;
    assert!(list.text().contains("Locked."), "{}", list.text());

    // One unknown user: none is unlocked.
    let with_unknown = [
        ("csrf", csrf.as_str()),
        ("selected", "1001"),
        ("selected", "1999"),
        ("confirmed", "yes"),
    ];
    let refused = browser.post("/users/bulk/unlock", &with_unknown).await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    assert_eq!(api.show_user("1001").ok().await["locked"], true);
    // Nobody logged in: logging out all or none refuses.
    let nobody = [
        ("csrf", csrf.as_str()),
        ("selected", "1001"),
        ("confirmed", "yes"),
    ];
    let refused = browser.post("/users/bulk/logout", &nobody).await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert!(
        refused
            .text()
            .contains("Not every selected user is logged in")
    );
    let none = browser.post("/users/bulk/lock", &[("csrf", &csrf)]).await;
    assert_eq!(none.status, StatusCode::BAD_REQUEST);
    assert!(none.text().contains("select at least one user"));

    // New PINs for two, shown once on a printable page.
    let two = [
        ("csrf", csrf.as_str()),
        ("selected", "1002"),
        ("selected", "1003"),
        ("confirmed", "yes"),
    ];
    let pins = browser.post("/users/bulk/reset-pin", &two).await;
    assert_eq!(pins.status, StatusCode::OK, "{}", pins.text());
    assert_eq!(pins.header("cache-control"), Some("no-store"));
    let shown: Vec<String> = pins
        .text()
        .split("<td class=\"pin\">")
        .skip(1)
        .map(|rest| rest.split('<').next().unwrap().to_string())
        .collect();
    assert_eq!(shown.len(), 2, "{}", pins.text());
    shown
        .iter()
        .for_each(|pin| crate::logs::remember_secret(pin));
    assert_eq!(api.show_user("1002").ok().await["has_pin"], true);
    let css_path = pins
        .text()
        .split("href=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let css = browser.get(&css_path).await.text();
    assert!(css.contains("@media print"), "{css}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_helpdesk_finds_neither_secrets_nor_delete_and_their_urls_are_refused() {
    let server = TestServer::start().await;
    let api = server.admin_api();
    api.create_user(NewUser::new("1001", "Alice")).ok().await;
    api.lock_user("1001").ok().await;
    let mut browser = logged_in(&server, "helpdesk").await;
    let list = browser.get("/users").await.text();
    assert!(list.contains(">Unlock</button>") && list.contains(">Reset PIN</button>"));
    assert!(
        !list.contains(">Delete</button>") && !list.contains(">Lock</button>"),
        "{list}"
    );
    assert!(!list.contains("/users/new"), "{list}");
    let detail = browser.get("/users/1001").await.text();
    assert!(
        !detail.contains(">Delete</button>") && !detail.contains("sip-password"),
        "{detail}"
    );
    assert!(!detail.contains("/edit"), "{detail}");
    let csrf = hidden(&detail, "csrf");
    let refused = browser.get("/users/1001/sip-password").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let delete = [
        ("csrf", csrf.as_str()),
        ("selected", "1001"),
        ("confirmed", "yes"),
    ];
    let refused = browser.post("/users/bulk/delete", &delete).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    api.show_user("1001").ok().await;

    let unlocked = browser.post("/users/1001/unlock", &[("csrf", &csrf)]).await;
    assert_eq!(location(&unlocked), "/users/1001?done=unlocked");
    assert_eq!(api.show_user("1001").ok().await["locked"], false);

    // The owner sees the secret page; a form without its CSRF token changes nothing.
    let mut owner = logged_in(&server, "owner").await;
    let secret = owner.get("/users/1001/sip-password").await;
    assert_eq!(secret.status, StatusCode::OK);
    assert!(secret.text().contains("id=\"sip-password\""));
    let reads = api
        .list_audit(AuditFilter::kind("secret_read").subject("1001"))
        .ok()
        .await;
    let by_page = reads
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["actor"] == "owner-walk");
    assert_eq!(by_page.count(), 1, "the console records the read: {reads}");
    let forged = owner.post("/users/1001/lock", &[("csrf", "forged")]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(api.show_user("1001").ok().await["locked"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_list_searches_filters_and_pages_and_renders_names_escaped() {
    let server = TestServer::start().await;
    let api = server.admin_api();
    for n in 0..52 {
        let extension = format!("{}", 3000 + n);
        api.create_user(NewUser::new(&extension, &format!("Person {n}")))
            .ok()
            .await;
    }
    let script = "<script>alert(1)</script>";
    let img = "\"><img src=x onerror=alert(1)>";
    api.create_user(
        NewUser::new("1001", script)
            .first_name(img)
            .last_name("Meier"),
    )
    .ok()
    .await;
    api.lock_user("3007").ok().await;
    let mut browser = logged_in(&server, "readonly").await;

    let first = browser.get("/users").await.text();
    assert_eq!(first.matches("<tr>").count() - 1, 50, "a page of 50");
    assert!(!first.contains(script) && first.contains("&#60;script&#62;alert(1)&#60;/script&#62;"));
    assert!(
        !first.contains("name=\"selected\""),
        "readonly ticks nothing"
    );
    let next = first
        .split("href=\"")
        .find(|s| s.starts_with("/users?after="))
        .unwrap();
    let next = next.split('"').next().unwrap().replace("&amp;", "&");
    let second = browser.get(&next).await.text();
    assert_eq!(second.matches("<tr>").count() - 1, 3, "{second}");

    let found = browser.get("/users?q=meier").await.text();
    assert!(
        found.contains("/users/1001") && !found.contains("/users/3000"),
        "{found}"
    );
    let locked = browser.get("/users?locked=yes").await.text();
    assert!(locked.contains("/users/3007") && !locked.contains("/users/3008"));
    let without_pin = browser
        .get("/users?pin=no&hotdesk=yes&login=no")
        .await
        .text();
    assert_eq!(without_pin.matches("<tr>").count() - 1, 50);
    let searched = browser.get("/users?q=%3Cscript%3E").await.text();
    assert!(!searched.contains(script) && searched.contains("/users/1001"));
    let bad = browser.get("/users?locked=maybe").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);

    let detail = browser.get("/users/1001").await.text();
    assert!(
        !detail.contains(img) && !detail.contains(script),
        "{detail}"
    );
    assert!(
        detail.contains("&#34;&#62;&#60;img src=x onerror=alert(1)&#62;"),
        "{detail}"
    );
    let unknown = browser.get("/users/4711").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}
