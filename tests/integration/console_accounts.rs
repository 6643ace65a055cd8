//! The console's accounts and tokens pages over HTTPS (each page for each role:
//! `console_roles.rs`): an account created with its password shown once that must be changed at its first
//! login, a reset that ends the account's sessions, deletion behind a confirmation, the last
//! enabled owner kept; tokens created (shown once, with role and expiry) and revoked behind a
//! confirmation; refusals in the page's language that change nothing.

use http::StatusCode;
use serde_json::Value;

use crate::console::{Browser, hidden, location};
use crate::console_users::{PASSWORD, seed_account};
use crate::helpers::TestServer;

/// Logged in as a fresh account `name` of `role`.
async fn logged_in<'a>(server: &TestServer, name: &str, role: &str) -> Browser<'a> {
    seed_account(server, name, role).await;
    let mut browser = Browser::new(server);
    let reply = browser.log_in(name, PASSWORD).await;
    assert_eq!(location(&reply), "/", "{role}: {}", reply.text());
    browser
}

/// The text of the element with `id` in a page (its first line).
fn by_id(page: &str, id: &str) -> String {
    let marker = format!("id=\"{id}\"");
    let start = page
        .find(&marker)
        .unwrap_or_else(|| panic!("no #{id} in {page}"))
        + marker.len();
    let from = start + page[start..].find('>').unwrap() + 1;
    page[from..from + page[from..].find('<').unwrap()].to_string()
}

async fn account(server: &TestServer, name: &str) -> Value {
    server
        .admin_api()
        .request(
            http::Method::GET,
            &format!("/api/v1/accounts/{name}"),
            crate::api::Body::None,
        )
        .await
        .json()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owner_creates_resets_and_deletes_accounts_and_keeps_an_owner() {
    let server = TestServer::start().await;
    let mut owner = logged_in(&server, "boss", "owner").await;
    let csrf = owner.csrf("/accounts/new").await;
    let c = csrf.as_str();
    let form =
        |name: &'static str, role: &'static str| [("csrf", c), ("username", name), ("role", role)];

    // Refusals in the page's words, nothing created; without the CSRF token, 403.
    let bad = owner
        .post("/accounts/new", &form("Hans Wurst", "helpdesk"))
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(
        bad.text().contains("The user name is not valid"),
        "{}",
        bad.text()
    );
    assert!(
        bad.text().contains("value=\"Hans Wurst\""),
        "what was typed stays"
    );
    let taken = owner.post("/accounts/new", &form("boss", "admin")).await;
    assert_eq!(taken.status, StatusCode::CONFLICT);
    assert!(
        taken
            .text()
            .contains("An account of this name exists already.")
    );
    let forged = owner
        .post("/accounts/new", &[("username", "eve"), ("role", "owner")])
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(
        account(&server, "eve").await["error"],
        "no account named eve"
    );

    // Created: the password once, to be changed at the first login.
    let created = owner
        .post("/accounts/new", &form("hilde", "helpdesk"))
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text());
    assert!(created.text().contains("shown this once"));
    let first = by_id(&created.text(), "secret-value");
    crate::logs::remember_secret(&first);
    let mut hilde = Browser::new(&server);
    assert_eq!(location(&hilde.log_in("hilde", &first).await), "/password");
    assert_eq!(location(&hilde.get("/users").await), "/password");
    let list = owner.get("/accounts").await.text();
    assert!(list.contains("id=\"account-hilde\""), "{list}");

    // A reset ends hilde's session; the new password is shown once.
    let reset = owner
        .post("/accounts/hilde/reset-password", &[("csrf", c)])
        .await;
    assert_eq!(reset.status, StatusCode::OK, "{}", reset.text());
    let second = by_id(&reset.text(), "secret-value");
    crate::logs::remember_secret(&second);
    assert_ne!(first, second);
    assert_eq!(location(&hilde.get("/password").await), "/login");

    // A role change; the leave to read secrets only for an admin.
    let edit = [("csrf", c), ("role", "admin"), ("reads_secrets", "yes")];
    let changed = owner.post("/accounts/hilde/edit", &edit).await;
    assert_eq!(location(&changed), "/accounts/hilde?done=changed");
    let hilde_now = account(&server, "hilde").await;
    assert_eq!(
        (
            hilde_now["role"].as_str(),
            hilde_now["reads_secrets"].as_bool()
        ),
        (Some("admin"), Some(true))
    );
    assert!(
        owner
            .get("/accounts/hilde?done=changed")
            .await
            .text()
            .contains("Saved.")
    );

    // The last enabled owner stays: boss may go only while admin (the first owner) is there.
    let delete = owner.post("/accounts/admin/delete", &[("csrf", c)]).await;
    assert_eq!(delete.status, StatusCode::OK);
    assert!(delete.text().contains("Really delete this account?"));
    assert_eq!(
        account(&server, "admin").await["role"],
        "owner",
        "asking deletes nothing"
    );
    let confirmed = [("csrf", c), ("confirmed", "yes")];
    let deleted = owner.post("/accounts/admin/delete", &confirmed).await;
    assert_eq!(location(&deleted), "/accounts?done=deleted");
    assert_eq!(
        account(&server, "admin").await["error"],
        "no account named admin"
    );
    owner.language = "de";
    let kept = owner.post("/accounts/boss/disable", &[("csrf", c)]).await;
    assert_eq!(kept.status, StatusCode::CONFLICT);
    assert!(
        kept.text()
            .contains("Dann bliebe kein aktives Eigentümer-Konto."),
        "{}",
        kept.text()
    );
    let demoted = [("csrf", c), ("role", "admin")];
    assert_eq!(
        owner.post("/accounts/boss/edit", &demoted).await.status,
        StatusCode::CONFLICT
    );
    let refused = owner.post("/accounts/boss/delete", &confirmed).await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    let boss = account(&server, "boss").await;
    assert_eq!(
        (boss["role"].as_str(), boss["disabled"].as_bool()),
        (Some("owner"), Some(false))
    );
    assert_eq!(owner.get("/accounts").await.status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owner_creates_a_token_shown_once_and_revokes_it_after_a_question() {
    let server = TestServer::start().await;
    let mut owner = logged_in(&server, "boss", "owner").await;
    let csrf = owner.csrf("/tokens").await;
    let c = csrf.as_str();
    let new = |name: &'static str, expires: &'static str| {
        [
            ("csrf", c),
            ("name", name),
            ("role", "readonly"),
            ("expires", expires),
        ]
    };
    let past = owner.post("/tokens/new", &new("ci", "2025-06-30")).await;
    assert_eq!(past.status, StatusCode::BAD_REQUEST);
    assert!(
        past.text()
            .contains("The expiry must be a date in the future.")
    );
    let junk = owner.post("/tokens/new", &new("ci", "soon")).await;
    assert_eq!(junk.status, StatusCode::BAD_REQUEST);
    let taken = owner.post("/tokens/new", &new("initial", "")).await;
    assert_eq!(taken.status, StatusCode::CONFLICT);
    assert_eq!(
        server
            .admin_api()
            .list_tokens()
            .ok()
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );

    let created = owner.post("/tokens/new", &new("ci", "2027-06-30")).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text());
    let token = by_id(&created.text(), "secret-value");
    crate::logs::remember_secret(&token);
    let ci = crate::api::AdminApi::new(&server.admin, &token);
    ci.list_devices().ok().await;
    ci.create_token("more").fails(StatusCode::FORBIDDEN).await;
    let list = owner.get("/tokens").await.text();
    assert!(list.contains("2027-06-30T00:00:00Z"), "{list}");
    assert!(list.contains("Read-only"), "{list}");
    assert!(!list.contains(&token), "the token is shown once only");

    let listed = server.admin_api().list_tokens().ok().await;
    let id = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "ci")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/tokens/{id}/revoke");
    let asked = owner.post(&path, &[("csrf", csrf.as_str())]).await;
    assert!(
        asked.text().contains("Really revoke this token?"),
        "{}",
        asked.text()
    );
    ci.list_devices().ok().await;
    let revoked = owner
        .post(&path, &[("csrf", csrf.as_str()), ("confirmed", "yes")])
        .await;
    assert_eq!(location(&revoked), "/tokens?done=revoked");
    ci.list_devices().fails(StatusCode::UNAUTHORIZED).await;

    // The last owner token stays.
    let initial = &server.admin_api().list_tokens().ok().await[0]["id"];
    let last = format!("/tokens/{}/revoke", initial.as_str().unwrap());
    let kept = owner
        .post(&last, &[("csrf", csrf.as_str()), ("confirmed", "yes")])
        .await;
    assert_eq!(kept.status, StatusCode::CONFLICT);
    assert!(kept.text().contains("This is the last owner token"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owner_requires_a_second_factor_from_the_account_page() {
    let server = TestServer::start().await;
    seed_account(&server, "target", "helpdesk").await;
    let mut owner = logged_in(&server, "boss", "owner").await;
    let page = owner.get("/accounts/target").await.text();
    assert_eq!(by_id(&page, "account-totp"), "off");
    assert!(
        page.contains("action=\"/accounts/target/require-totp\""),
        "{page}"
    );
    assert!(!page.contains("/reset-totp"), "nothing to reset yet");
    let csrf = hidden(&page, "csrf");
    let reply = owner
        .post(
            "/accounts/target/require-totp",
            &[("csrf", &csrf), ("required", "true")],
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let page = owner.get("/accounts/target").await.text();
    assert_eq!(by_id(&page, "account-totp"), "required, not set up yet");
    assert!(page.contains("Stop requiring a second factor"), "{page}");

    let mut target = Browser::new(&server);
    target.log_in("target", PASSWORD).await;
    let home = target.get("/").await;
    assert_eq!(location(&home), "/totp", "set up before anything else");
}
