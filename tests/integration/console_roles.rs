//! Roles of console accounts: every page opened by an account of every role, against this
//! file's own copy of README's role matrix for pages. `tests/integration/roles.rs` does the
//! same for the API's endpoints with tokens.

use http::StatusCode;

use crate::api::{NewDevice, NewUser};
use crate::console::{Browser, location};
use crate::console_users::{PASSWORD, seed_account_with};
use crate::helpers::TestServer;

/// Who may open each page (README, "Roles"): method, path as the page table writes it, roles.
/// `admin+secrets` is an admin account the owner allowed to read secrets.
const MATRIX: &[(&str, &str, &str)] = &[
    ("GET", "/", "owner admin helpdesk readonly"),
    ("GET", "/password", "owner admin helpdesk readonly metrics"),
    ("POST", "/password", "owner admin helpdesk readonly metrics"),
    ("POST", "/language", "owner admin helpdesk readonly metrics"),
    ("POST", "/logout", "owner admin helpdesk readonly metrics"),
    ("GET", "/audit", "owner admin helpdesk readonly"),
    ("GET", "/settings/keys", "owner admin helpdesk readonly"),
    ("POST", "/settings/keys", "owner"),
    ("POST", "/settings/keys/remove", "owner"),
    (
        "GET",
        "/profiles/{name}/keys",
        "owner admin helpdesk readonly",
    ),
    ("POST", "/profiles/{name}/keys", "owner admin"),
    ("POST", "/profiles/{name}/keys/remove", "owner admin"),
    (
        "GET",
        "/models/{model}/keys",
        "owner admin helpdesk readonly",
    ),
    ("POST", "/models/{model}/keys", "owner admin"),
    ("POST", "/models/{model}/keys/remove", "owner admin"),
    (
        "GET",
        "/devices/{mac}/keys",
        "owner admin helpdesk readonly",
    ),
    ("POST", "/devices/{mac}/keys", "owner admin"),
    ("POST", "/devices/{mac}/keys/remove", "owner admin"),
    ("GET", "/users/{ext}/keys", "owner admin helpdesk readonly"),
    ("POST", "/users/{ext}/keys", "owner admin"),
    ("POST", "/users/{ext}/keys/remove", "owner admin"),
    ("GET", "/devices", "owner admin helpdesk readonly"),
    ("GET", "/devices/new", "owner admin"),
    ("POST", "/devices/new", "owner admin"),
    ("POST", "/devices/bulk/delete", "owner admin"),
    ("POST", "/devices/bulk/reset-claim", "owner admin helpdesk"),
    ("POST", "/devices/bulk/logout", "owner admin helpdesk"),
    ("GET", "/devices/{mac}", "owner admin helpdesk readonly"),
    ("GET", "/devices/{mac}/edit", "owner admin"),
    ("POST", "/devices/{mac}/edit", "owner admin"),
    ("POST", "/devices/{mac}/lines", "owner admin"),
    (
        "POST",
        "/devices/{mac}/lines/{line}/unassign",
        "owner admin",
    ),
    ("POST", "/devices/{mac}/reset-claim", "owner admin helpdesk"),
    ("POST", "/devices/{mac}/logout", "owner admin helpdesk"),
    ("GET", "/devices/{mac}/credentials", "owner admin+secrets"),
    (
        "GET",
        "/devices/{mac}/preview",
        "owner admin helpdesk readonly",
    ),
    ("GET", "/unregistered", "owner admin helpdesk readonly"),
    ("POST", "/unregistered/{mac}/adopt", "owner admin"),
    ("POST", "/unregistered/{mac}/forget", "owner admin"),
    ("GET", "/import", "owner admin"),
    ("POST", "/import", "owner admin"),
    ("GET", "/imports", "owner admin helpdesk readonly"),
    ("GET", "/imports/{id}", "owner admin helpdesk readonly"),
    (
        "GET",
        "/imports/{id}/progress",
        "owner admin helpdesk readonly",
    ),
    ("POST", "/imports/{id}/import", "owner admin"),
    ("GET", "/export", "owner admin helpdesk readonly"),
    ("GET", "/export/{file}", "owner admin helpdesk readonly"),
    ("GET", "/settings", "owner admin helpdesk readonly"),
    ("POST", "/settings", "owner"),
    ("GET", "/profiles", "owner admin helpdesk readonly"),
    ("POST", "/profiles", "owner admin"),
    ("GET", "/profiles/{name}", "owner admin helpdesk readonly"),
    ("POST", "/profiles/{name}", "owner admin"),
    ("POST", "/profiles/{name}/delete", "owner admin"),
    ("GET", "/models", "owner admin helpdesk readonly"),
    ("GET", "/models/{model}", "owner admin helpdesk readonly"),
    ("POST", "/models/{model}", "owner admin"),
    (
        "GET",
        "/devices/{mac}/settings",
        "owner admin helpdesk readonly",
    ),
    ("POST", "/devices/{mac}/settings", "owner admin"),
    ("GET", "/users", "owner admin helpdesk readonly"),
    ("GET", "/users/new", "owner admin"),
    ("POST", "/users/new", "owner admin"),
    ("POST", "/users/bulk/lock", "owner admin"),
    ("POST", "/users/bulk/unlock", "owner admin helpdesk"),
    ("POST", "/users/bulk/delete", "owner admin"),
    ("POST", "/users/bulk/reset-pin", "owner admin helpdesk"),
    ("POST", "/users/bulk/logout", "owner admin helpdesk"),
    ("POST", "/users/bulk/mail-welcome", "owner admin"),
    ("POST", "/users/bulk/mail-reset", "owner admin helpdesk"),
    ("GET", "/users/{ext}", "owner admin helpdesk readonly"),
    ("GET", "/users/{ext}/edit", "owner admin"),
    ("POST", "/users/{ext}/edit", "owner admin"),
    ("GET", "/users/{ext}/sip-password", "owner admin+secrets"),
    ("POST", "/users/{ext}/lock", "owner admin"),
    ("POST", "/users/{ext}/unlock", "owner admin helpdesk"),
    ("POST", "/users/{ext}/reset-pin", "owner admin helpdesk"),
    ("POST", "/users/{ext}/portal-password", "owner admin"),
    ("POST", "/users/{ext}/mail-welcome", "owner admin"),
    ("POST", "/users/{ext}/mail-reset", "owner admin helpdesk"),
    ("POST", "/users/{ext}/logout", "owner admin helpdesk"),
    ("GET", "/totp", "owner admin helpdesk readonly metrics"),
    (
        "POST",
        "/totp/enrol",
        "owner admin helpdesk readonly metrics",
    ),
    (
        "POST",
        "/totp/confirm",
        "owner admin helpdesk readonly metrics",
    ),
    (
        "POST",
        "/totp/remove",
        "owner admin helpdesk readonly metrics",
    ),
    ("POST", "/accounts/{username}/require-totp", "owner"),
    ("POST", "/accounts/{username}/reset-totp", "owner"),
    ("GET", "/accounts", "owner"),
    ("GET", "/accounts/new", "owner"),
    ("POST", "/accounts/new", "owner"),
    ("GET", "/accounts/{username}", "owner"),
    ("POST", "/accounts/{username}/edit", "owner"),
    ("POST", "/accounts/{username}/disable", "owner"),
    ("POST", "/accounts/{username}/enable", "owner"),
    ("POST", "/accounts/{username}/reset-password", "owner"),
    ("POST", "/accounts/{username}/delete", "owner"),
    ("GET", "/tokens", "owner"),
    ("POST", "/tokens/new", "owner"),
    ("POST", "/tokens/{id}/revoke", "owner"),
    ("GET", "/mail", "owner admin helpdesk readonly"),
    ("POST", "/mail/test", "owner"),
];

/// The account the owner's account pages act on.
const TARGET: &str = "walk-target";

/// The accounts that walk the pages, refused ones first: what a role was refused must not
/// have happened when a later role finds the page.
const WALKERS: &[(&str, &str)] = &[
    ("metrics", "metrics"),
    ("readonly", "readonly"),
    ("helpdesk", "helpdesk"),
    ("admin", "admin"),
    ("admin+secrets", "admin"),
    ("owner", "owner"),
];

/// The page's path with the walk's records put in for its `{...}` segments.
fn concrete(path: &str) -> String {
    path.replace("{name}", "floor-2")
        .replace("{model}", "T46S")
        .replace("{mac}", "001565000001")
        .replace("{ext}", "1001")
        .replace("{line}", "2")
        .replace("{username}", TARGET)
        .replace("{id}", "1")
        .replace("{file}", "users.csv")
}

/// The records every page of the walk names, made again before each role.
async fn seed(server: &TestServer) {
    let api = server.admin_api();
    for call in [
        api.create_user(NewUser::new("1001", "Alice Example")),
        api.create_profile(serde_json::json!({"name": "floor-2"})),
        api.create_device(NewDevice::new("001565000001").model("T46S")),
    ] {
        let status = call.send().await.status;
        assert!(
            status == StatusCode::CREATED || status == StatusCode::CONFLICT,
            "seeding: {status}"
        );
    }
    api.unlock_user("1001").ok().await;
}

async fn walker<'a>(server: &TestServer, holder: &str, role: &str) -> Browser<'a> {
    let name = format!("walk-{}", holder.replace('+', "-"));
    seed_account_with(server, &name, role, holder == "admin+secrets").await;
    let mut browser = Browser::new(server);
    let reply = browser.log_in(&name, PASSWORD).await;
    assert_eq!(location(&reply), "/", "{holder}: {}", reply.text());
    browser
}

/// Whether `holder` is one of `roles`; an admin allowed secrets may do what any admin may.
fn allowed(roles: &str, holder: &str) -> bool {
    roles
        .split(' ')
        .any(|r| r == holder || (holder == "admin+secrets" && r == "admin"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_answers_each_role_as_the_matrix_says() {
    let server = TestServer::start().await;
    seed_account_with(&server, TARGET, "readonly", false).await;
    let checked = server.admin_api().import(
        "users",
        "extension,first_name,last_name\n2999,Ina,Import\n",
        true,
    );
    assert_eq!(
        checked.send().await.status,
        StatusCode::ACCEPTED,
        "import job 1"
    );
    let table: Vec<(String, String)> = deskprov::console::pages::all()
        .map(|p| (p.method.to_string(), p.path.to_string()))
        .collect();
    let literal: Vec<(String, String)> = MATRIX
        .iter()
        .map(|(m, p, _)| (m.to_string(), p.to_string()))
        .collect();
    assert_eq!(table, literal, "a row per page, in the page table's order");
    // Logging out ends the walk of a role.
    let mut walk: Vec<_> = MATRIX.iter().filter(|(_, p, _)| *p != "/logout").collect();
    walk.extend(MATRIX.iter().filter(|(_, p, _)| *p == "/logout"));
    server
        .admin_api()
        .patch_settings(serde_json::json!({"ntp_server": "ntp.example.com"}))
        .ok()
        .await;
    for (holder, role) in WALKERS {
        seed(&server).await;
        let mut browser = walker(&server, holder, role).await;
        let home = browser.get("/password").await.text();
        let owner = *holder == "owner";
        assert_eq!(
            home.contains("href=\"/accounts\""),
            owner,
            "{holder}: the menu link"
        );
        let csrf = crate::console::hidden(&home, "csrf");
        for (method, path, roles) in &walk {
            let path = concrete(path);
            // Forms without their fields are refused as bad input by whoever may send them;
            // the bulk pages only ask (no `confirmed`).
            let reply = match *method {
                "GET" => browser.get(&path).await,
                _ => {
                    let fields = [("csrf", csrf.as_str()), ("selected", "1001")];
                    browser.post(&path, &fields).await
                }
            };
            let allowed = allowed(roles, holder);
            let status = reply.status;
            match (allowed, *method) {
                (false, _) => assert_eq!(status, StatusCode::FORBIDDEN, "{holder} {method} {path}"),
                (true, "GET") => assert_eq!(status, StatusCode::OK, "{holder} {method} {path}"),
                (true, _) => assert!(
                    status != StatusCode::FORBIDDEN && status.as_u16() < 500,
                    "{holder} {method} {path}: {status}"
                ),
            }
        }
        let device = server.admin_api().show_device("001565000001").ok().await;
        assert_eq!(
            device["model"], "T46S",
            "{holder}: the walk changes no device"
        );
        let user = server.admin_api().show_user("1001").ok().await;
        assert_eq!(user["display_name"], "Alice Example", "{holder}");
        let tokens = server.admin_api().list_tokens().ok().await;
        assert_eq!(
            tokens.as_array().unwrap().len(),
            1,
            "{holder}: no token made or revoked"
        );
        let target = server.admin_api().show_account(TARGET).ok().await;
        assert_eq!(target["disabled"], false, "{holder}: the walk ends enabled");
        assert_eq!(
            target["role"], "readonly",
            "{holder}: an empty form changes nothing"
        );
        let settings = server.admin_api().settings().ok().await;
        assert_eq!(
            settings["ntp_server"], "ntp.example.com",
            "{holder}: {settings}"
        );
        let after = browser.get("/").await;
        assert_eq!(
            location(&after),
            "/login",
            "{holder}: logged out at the end"
        );
    }
}
