//! Console accounts through the API and the CLI (owner only): a created account logs in with
//! the password shown once and must change it, a role change, a reset that ends the account's
//! sessions, a disabled account refused at login, the last enabled owner kept, other roles
//! refused; and the offline reset that lets an owner who lost the password back in.

use http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::api::{AdminApi, AuditFilter, Body, Call};
use crate::console::{Browser, location};
use crate::helpers::{TestServer, cli};

impl<'a> AdminApi<'a> {
    pub fn list_accounts(&self) -> Call<'a> {
        self.request(Method::GET, "/api/v1/accounts", Body::None)
    }

    pub fn create_account(&self, username: &str, role: &str) -> Call<'a> {
        let body = json!({ "username": username, "role": role });
        self.request(Method::POST, "/api/v1/accounts", body)
    }

    pub fn show_account(&self, username: &str) -> Call<'a> {
        self.request(
            Method::GET,
            &format!("/api/v1/accounts/{username}"),
            Body::None,
        )
    }

    pub fn patch_account(&self, username: &str, patch: Value) -> Call<'a> {
        self.request(
            Method::PATCH,
            &format!("/api/v1/accounts/{username}"),
            patch,
        )
    }

    pub fn delete_account(&self, username: &str) -> Call<'a> {
        self.request(
            Method::DELETE,
            &format!("/api/v1/accounts/{username}"),
            Body::None,
        )
    }

    pub fn reset_account_password(&self, username: &str) -> Call<'a> {
        self.request(
            Method::POST,
            &format!("/api/v1/accounts/{username}/reset-password"),
            Body::None,
        )
    }
}

/// The password in an answer that made one, remembered for the log scan.
fn password_of(answer: &Value) -> String {
    let password = answer["password"].as_str().unwrap().to_string();
    crate::logs::remember_secret(&password);
    assert!(password.chars().count() >= 12, "{password}");
    password
}

/// Logs in with a password someone else chose: the password page comes first.
async fn logged_in_to_change<'a>(server: &TestServer, name: &str, password: &str) -> Browser<'a> {
    let mut browser = Browser::new(server);
    let reply = browser.log_in(name, password).await;
    assert_eq!(location(&reply), "/password", "{name}: {}", reply.text());
    browser
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owner_manages_accounts_and_no_change_leaves_the_site_without_an_owner() {
    let server = TestServer::start().await;
    let owner = server.admin_api();

    let created = owner.create_account("anna", "helpdesk").ok().await;
    assert_eq!(created["role"], "helpdesk");
    assert_eq!(created["password_change_required"], true);
    assert_eq!(created["reads_secrets"], false);
    let first = password_of(&created);
    let taken = owner
        .create_account("anna", "admin")
        .fails(StatusCode::CONFLICT)
        .await;
    assert!(taken["error"].as_str().unwrap().contains("anna"), "{taken}");
    owner
        .create_account("Anna Schmidt", "admin")
        .fails(StatusCode::BAD_REQUEST)
        .await;
    let secrets = owner
        .request(
            Method::POST,
            "/api/v1/accounts",
            json!({"username": "bob", "role": "helpdesk", "reads_secrets": true}),
        )
        .fails(StatusCode::BAD_REQUEST)
        .await;
    assert!(
        secrets["error"]
            .as_str()
            .unwrap()
            .contains("only for admin")
    );
    let listed = owner.list_accounts().ok().await;
    let names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["admin", "anna"]);
    assert!(listed.to_string().find("password\"").is_none(), "{listed}");

    // The shown password logs in, and must be changed first.
    let mut anna = logged_in_to_change(&server, "anna", &first).await;

    // A role change, and the leave to read secrets for an admin.
    let changed = owner
        .patch_account("anna", json!({"role": "admin", "reads_secrets": true}))
        .ok()
        .await;
    assert_eq!(
        (changed["role"].as_str(), changed["reads_secrets"].as_bool()),
        (Some("admin"), Some(true))
    );
    assert_eq!(owner.show_account("anna").ok().await["role"], "admin");

    // A reset ends the account's sessions; the old password no longer works, the new does.
    assert_eq!(anna.get("/password").await.status, StatusCode::OK);
    let reset = owner.reset_account_password("anna").ok().await;
    let second = password_of(&reset);
    assert_ne!(first, second);
    assert_eq!(location(&anna.get("/password").await), "/login");
    let old = Browser::new(&server).log_in("anna", &first).await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED);
    let mut anna = logged_in_to_change(&server, "anna", &second).await;

    // Disabled: its session ends and it cannot log in; enabled again, it can.
    owner
        .patch_account("anna", json!({"disabled": true}))
        .ok()
        .await;
    assert_eq!(location(&anna.get("/password").await), "/login");
    let refused = Browser::new(&server).log_in("anna", &second).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    owner
        .patch_account("anna", json!({"disabled": false}))
        .ok()
        .await;
    logged_in_to_change(&server, "anna", &second).await;

    // The last enabled owner stays; with a second owner, the first may go.
    for patch in [json!({"role": "admin"}), json!({"disabled": true})] {
        let error = owner
            .patch_account("admin", patch)
            .fails(StatusCode::CONFLICT)
            .await;
        assert!(
            error["error"]
                .as_str()
                .unwrap()
                .contains("no enabled owner"),
            "{error}"
        );
    }
    owner
        .delete_account("admin")
        .fails(StatusCode::CONFLICT)
        .await;
    owner
        .patch_account("anna", json!({"role": "owner"}))
        .ok()
        .await;
    owner
        .patch_account("admin", json!({"disabled": true}))
        .ok()
        .await;
    owner
        .patch_account("anna", json!({"disabled": true}))
        .fails(StatusCode::CONFLICT)
        .await;
    owner.delete_account("admin").ok().await;
    owner
        .show_account("admin")
        .fails(StatusCode::NOT_FOUND)
        .await;
    assert_eq!(owner.show_account("anna").ok().await["role"], "owner");

    // Every change names its actor and role.
    let trail = owner
        .list_audit(AuditFilter::kind("admin_change").subject("anna"))
        .ok()
        .await;
    let records = trail.as_array().unwrap();
    assert!(records.len() >= 4, "{trail}");
    assert!(
        records
            .iter()
            .all(|r| r["actor"] == "initial" && r["actor_role"] == "owner"),
        "{trail}"
    );
    let resets = owner
        .list_audit(AuditFilter::kind("password_changed").subject("anna"))
        .ok()
        .await;
    assert!(resets.to_string().contains("reset"), "{resets}");
    assert!(!trail.to_string().contains(&second) && !resets.to_string().contains(&second));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_owner_tokens_manage_accounts() {
    let server = TestServer::start().await;
    let owner = server.admin_api();
    for role in ["admin", "helpdesk", "readonly"] {
        let made = owner
            .create_token_with(&format!("t-{role}"), role, false, None)
            .ok()
            .await;
        let api = AdminApi::new(&server.admin, made["token"].as_str().unwrap());
        let error = api.list_accounts().fails(StatusCode::FORBIDDEN).await;
        assert!(error["error"].as_str().unwrap().contains(role), "{error}");
        api.create_account("mallory", "owner")
            .fails(StatusCode::FORBIDDEN)
            .await;
        api.reset_account_password("admin")
            .fails(StatusCode::FORBIDDEN)
            .await;
    }
    owner
        .show_account("mallory")
        .fails(StatusCode::NOT_FOUND)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_manages_accounts_and_resets_an_owner_password_offline() {
    let mut server = TestServer::start().await;
    crate::backup::let_the_cli_trust(&server);
    let (dir, admin) = (server.dir.path().to_path_buf(), server.running().admin_addr);
    let (code, out, err) = cli(
        &dir,
        admin,
        &["--json", "accounts", "create", "carl", "--role", "readonly"],
    );
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("shown this once"), "{err}");
    password_of(&serde_json::from_str(&out).unwrap());
    let (code, _, err) = cli(
        &dir,
        admin,
        &["accounts", "set", "carl", "--disabled", "true"],
    );
    assert_eq!(code, 0, "{err}");
    let (code, out, _) = cli(&dir, admin, &["accounts", "list"]);
    assert_eq!(code, 0);
    let carl = out.lines().find(|l| l.starts_with("carl")).unwrap();
    assert!(carl.contains("readonly") && carl.contains("true"), "{out}");
    let (code, _, err) = cli(&dir, admin, &["accounts", "delete", "admin"]);
    assert_eq!(code, 1);
    assert!(err.contains("no enabled owner"), "{err}");

    // While the server runs, the offline reset is refused and changes nothing.
    let (code, _, err) = cli(
        &dir,
        admin,
        &["accounts", "reset-password", "admin", "--local"],
    );
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("is the server running?"), "{err}");

    server.stop().await;
    let (code, out, err) = cli(
        &dir,
        admin,
        &["--json", "accounts", "reset-password", "admin", "--local"],
    );
    assert_eq!(code, 0, "{err}");
    let password = password_of(&serde_json::from_str(&out).unwrap());
    let (code, _, err) = cli(
        &dir,
        admin,
        &["accounts", "reset-password", "nobody", "--local"],
    );
    assert_eq!(code, 1);
    assert!(err.contains("no account named nobody"), "{err}");

    server.restart_with(|_| {}).await;
    logged_in_to_change(&server, "admin", &password).await;
    let trail = server
        .admin_api()
        .list_audit(AuditFilter::kind("password_changed").actor("local"))
        .ok()
        .await;
    assert_eq!(trail.as_array().unwrap().len(), 1, "{trail}");
}
