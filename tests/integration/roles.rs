//! Roles of admin tokens: every endpoint called with a token of every role, against this
//! file's own copy of README's role matrix; and what a role's token shows and leaves.

use http::StatusCode;
use serde_json::Value;

use crate::api::{AdminApi, AuditFilter, NewUser, one_call_per_endpoint};
use crate::helpers::TestServer;

/// Who may call each endpoint (README, "Roles"). `admin` reads secrets only with
/// `reads_secrets`, written `admin+secrets`. The export here is one with `secrets=true`.
const MATRIX: &[(&str, &str)] = &[
    ("getOpenApi", "owner admin helpdesk readonly"),
    ("getMetrics", "owner metrics"),
    ("getDeviceEvents", "owner admin helpdesk readonly"),
    ("listDevices", "owner admin helpdesk readonly"),
    ("createDevice", "owner admin"),
    ("createDevices", "owner admin"),
    ("deleteDevices", "owner admin"),
    ("resetDeviceClaims", "owner admin helpdesk"),
    ("logoutDevices", "owner admin helpdesk"),
    ("resyncDevices", "owner admin helpdesk"),
    ("rebootDevices", "owner admin"),
    ("getDevice", "owner admin helpdesk readonly"),
    ("updateDevice", "owner admin"),
    ("deleteDevice", "owner admin"),
    ("assignLine", "owner admin"),
    ("unassignLine", "owner admin"),
    ("resetDeviceClaim", "owner admin helpdesk"),
    ("rekeyDevice", "owner admin"),
    ("resyncDevice", "owner admin helpdesk"),
    ("rebootDevice", "owner admin"),
    ("replaceDevice", "owner admin"),
    ("getDeviceCredentials", "owner admin+secrets"),
    ("logoutDevice", "owner admin helpdesk"),
    ("renderDeviceFile", "owner admin+secrets"),
    ("getDeviceSettings", "owner admin helpdesk readonly"),
    ("updateDeviceSettings", "owner admin"),
    ("listUnregistered", "owner admin helpdesk readonly"),
    ("forgetUnregistered", "owner admin"),
    ("adoptUnregistered", "owner admin"),
    ("listUsers", "owner admin helpdesk readonly"),
    ("createUser", "owner admin"),
    ("getNextExtension", "owner admin helpdesk readonly"),
    ("bulkUsers", "owner admin"),
    ("mailUsersWelcome", "owner admin"),
    ("mailUsersReset", "owner admin helpdesk"),
    ("getUser", "owner admin helpdesk readonly"),
    ("updateUser", "owner admin"),
    ("deleteUser", "owner admin"),
    ("getUserSipPassword", "owner admin+secrets"),
    ("lockUser", "owner admin"),
    ("unlockUser", "owner admin helpdesk"),
    ("resetUserPin", "owner admin helpdesk"),
    ("setUserPortalPassword", "owner admin"),
    ("logoutUser", "owner admin helpdesk"),
    ("listContacts", "owner admin helpdesk readonly"),
    ("createContact", "owner admin"),
    ("getContact", "owner admin helpdesk readonly"),
    ("updateContact", "owner admin"),
    ("deleteContact", "owner admin"),
    ("getSettings", "owner admin helpdesk readonly"),
    ("updateSettings", "owner"),
    ("getDeviceKeys", "owner admin helpdesk readonly"),
    ("setDeviceKeys", "owner admin"),
    ("getProfileKeys", "owner admin helpdesk readonly"),
    ("setProfileKeys", "owner admin"),
    ("getModelKeys", "owner admin helpdesk readonly"),
    ("setModelKeys", "owner admin"),
    ("getUserKeys", "owner admin helpdesk readonly"),
    ("setUserKeys", "owner admin"),
    ("getSiteKeys", "owner admin helpdesk readonly"),
    ("setSiteKeys", "owner"),
    ("getSettingChoices", "owner admin helpdesk readonly"),
    ("listProfiles", "owner admin helpdesk readonly"),
    ("createProfile", "owner admin"),
    ("getProfile", "owner admin helpdesk readonly"),
    ("updateProfile", "owner admin"),
    ("deleteProfile", "owner admin"),
    ("listModels", "owner admin helpdesk readonly"),
    ("getModelSettings", "owner admin helpdesk readonly"),
    ("updateModelSettings", "owner admin"),
    ("listFirmware", "owner admin helpdesk readonly"),
    ("uploadFirmware", "owner"),
    ("deleteFirmware", "owner"),
    ("getStatus", "owner admin helpdesk readonly"),
    ("listTemplates", "owner admin helpdesk readonly"),
    ("reloadTemplates", "owner"),
    ("sendTestMail", "owner"),
    ("listMail", "owner admin helpdesk readonly"),
    ("exportCsv", "owner admin+secrets"),
    ("importCsv", "owner admin"),
    ("listImports", "owner admin helpdesk readonly"),
    ("getImport", "owner admin helpdesk readonly"),
    ("listTokens", "owner"),
    ("createToken", "owner"),
    ("revokeToken", "owner"),
    ("listAudit", "owner admin helpdesk readonly"),
    ("listBans", "owner admin helpdesk readonly"),
    ("liftBan", "owner"),
    ("liftBan64", "owner"),
    ("listTokenBlocks", "owner"),
    ("liftTokenBlock", "owner"),
    ("takeBackup", "owner"),
    ("setAccountTotpRequired", "owner"),
    ("resetAccountTotp", "owner"),
    ("listAccounts", "owner"),
    ("createAccount", "owner"),
    ("getAccount", "owner"),
    ("updateAccount", "owner"),
    ("deleteAccount", "owner"),
    ("resetAccountPassword", "owner"),
];

/// The tokens the walk uses: (what the matrix calls the role, role, reads_secrets).
const HOLDERS: &[(&str, &str, bool)] = &[
    ("owner", "owner", false),
    ("admin", "admin", false),
    ("admin+secrets", "admin", true),
    ("helpdesk", "helpdesk", false),
    ("readonly", "readonly", false),
    ("metrics", "metrics", false),
];

fn allowed(endpoint: &str, holder: &str) -> bool {
    let (_, who) = MATRIX
        .iter()
        .find(|(name, _)| *name == endpoint)
        .unwrap_or_else(|| panic!("{endpoint} is not in this test's matrix"));
    let mut who = who.split(' ');
    match holder {
        "admin+secrets" => {
            let all: Vec<&str> = who.collect();
            all.contains(&"admin") || all.contains(&"admin+secrets")
        }
        holder => who.any(|w| w == holder),
    }
}

async fn token(api: &AdminApi<'_>, name: &str, role: &str, reads_secrets: bool) -> String {
    let created = api
        .create_token_with(name, role, reads_secrets, None)
        .ok()
        .await;
    created["token"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_answers_each_role_as_the_matrix_says() {
    let server = TestServer::start().await;
    let owner = server.admin_api();
    let mut tokens = Vec::new();
    for (holder, role, reads_secrets) in HOLDERS {
        let name = format!("walk-{}", holder.replace('+', "-"));
        tokens.push((*holder, token(&owner, &name, role, *reads_secrets).await));
    }
    let names: Vec<&str> = deskprov::admin::endpoint::DEFS
        .iter()
        .map(|d| d.name)
        .collect();
    assert_eq!(
        MATRIX.len(),
        names.len(),
        "the matrix has a row per endpoint"
    );
    // The refused roles first: what they are refused must not have happened for the others.
    tokens.reverse();
    for (holder, secret) in &tokens {
        let api = AdminApi::new(&server.admin, secret);
        for call in one_call_per_endpoint(&api) {
            let path = call.path().split('?').next().unwrap().to_string();
            let endpoint = deskprov::admin::endpoint::Endpoint::route(call.method(), &path)
                .unwrap()
                .def()
                .name;
            let what = call.to_string();
            let reply = call.send().await;
            if allowed(endpoint, holder) {
                assert_ne!(
                    reply.status,
                    StatusCode::FORBIDDEN,
                    "{holder} may {what}: {}",
                    reply.text()
                );
                assert_ne!(reply.status, StatusCode::UNAUTHORIZED, "{holder}: {what}");
            } else {
                assert_eq!(
                    reply.status,
                    StatusCode::FORBIDDEN,
                    "{holder} may not {what}: {}",
                    reply.text()
                );
                let error = reply.json()["error"].as_str().unwrap().to_string();
                let role = holder.split('+').next().unwrap();
                assert!(error.contains(role), "{holder}, {what}: {error}");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_helpdesk_token_fixes_a_user_but_neither_deletes_nor_reads_secrets() {
    let server = TestServer::start().await;
    let owner = server.admin_api();
    owner
        .create_user(NewUser::new("1001", "Alice").pin("739164"))
        .ok()
        .await;
    owner.lock_user("1001").ok().await;
    let secret = token(&owner, "desk", "helpdesk", false).await;
    crate::logs::remember_secret(&secret);
    let helpdesk = AdminApi::new(&server.admin, &secret);

    let error = helpdesk
        .delete_user("1001")
        .fails(StatusCode::FORBIDDEN)
        .await;
    assert_eq!(
        error["error"],
        "a token of role helpdesk may not delete a user (deleteUser); it needs owner or admin"
    );
    owner.show_user("1001").ok().await;
    helpdesk
        .sip_password("1001")
        .fails(StatusCode::FORBIDDEN)
        .await;
    helpdesk
        .export("users", true)
        .fails(StatusCode::FORBIDDEN)
        .await;
    let plain = helpdesk.export("users", false).send().await;
    assert_eq!(plain.status, StatusCode::OK);
    assert!(!plain.text().contains("sip_password"), "{}", plain.text());

    let unlocked = helpdesk.unlock_user("1001").ok().await;
    assert_eq!(unlocked["locked"], false);
    let reset = helpdesk.reset_pin("1001").ok().await;
    let pin = reset["pin"].as_str().unwrap().to_string();
    crate::logs::remember_secret(&pin);
    assert!(
        pin.len() >= 4 && pin.chars().all(|c| c.is_ascii_digit()),
        "{pin}"
    );
    assert!(owner.show_user("1001").ok().await.get("pin").is_none());

    // Whose change it was, and in which role.
    let trail = owner
        .list_audit(AuditFilter::kind("admin_change").subject("1001"))
        .ok()
        .await;
    let by_desk: Vec<&Value> = trail
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["actor"] == "desk")
        .collect();
    assert_eq!(by_desk.len(), 2, "{trail}");
    assert!(
        by_desk.iter().all(|r| r["actor_role"] == "helpdesk"),
        "{trail}"
    );
    let by_owner = trail
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["actor"] == "initial")
        .unwrap();
    assert_eq!(by_owner["actor_role"], "owner");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_carry_role_expiry_and_last_use_and_an_owner_always_remains() {
    let server = TestServer::start().await;
    let owner = server.admin_api();
    // The manual clock starts at 2026-01-01T00:00:00Z.
    let created = owner
        .create_token_with("temp", "readonly", false, Some("2026-01-01T01:00:00Z"))
        .ok()
        .await;
    assert_eq!(created["role"], "readonly");
    assert_eq!(created["expires_at"], "2026-01-01T01:00:00Z");
    assert_eq!(created["last_used_at"], Value::Null);
    let secret = created["token"].as_str().unwrap().to_string();
    crate::logs::remember_secret(&secret);
    let temp = AdminApi::new(&server.admin, &secret);
    temp.list_users().ok().await;
    let listed = owner.list_tokens().ok().await;
    let row = |name: &str| {
        listed
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(row("temp")["last_used_at"], "2026-01-01T00:00:00Z");
    assert_eq!(row("initial")["role"], "owner");

    server.clock.advance(3600);
    temp.list_users().fails(StatusCode::UNAUTHORIZED).await;

    // Bad requests change nothing.
    for (role, reads_secrets, expires, error) in [
        (
            "root",
            false,
            None,
            "role: must be owner, admin, helpdesk, readonly or metrics",
        ),
        (
            "helpdesk",
            true,
            None,
            "reads_secrets: only for admin tokens (owner tokens always read secrets, helpdesk tokens never)",
        ),
        (
            "admin",
            false,
            Some("2025-12-31T00:00:00Z"),
            "expires_at: must be in the future",
        ),
        (
            "admin",
            false,
            Some("tomorrow"),
            "expires_at: \"tomorrow\" is not an RFC 3339 time like 2026-11-22T08:00:00Z",
        ),
    ] {
        let refused = owner
            .create_token_with("bad", role, reads_secrets, expires)
            .fails(StatusCode::BAD_REQUEST)
            .await;
        assert_eq!(refused["error"], error);
    }
    let names: Vec<Value> = owner
        .list_tokens()
        .ok()
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].clone())
        .collect();
    assert_eq!(names, vec!["initial", "temp"]);

    // The last owner token cannot go, whatever other tokens remain.
    let refused = owner
        .revoke_token("initial", true)
        .fails(StatusCode::CONFLICT)
        .await;
    assert_eq!(
        refused["error"],
        "this is the last owner token; create another owner token before revoking it"
    );
    let second = token(&owner, "second-owner", "owner", false).await;
    crate::logs::remember_secret(&second);
    owner.revoke_token("initial", true).ok().await;
    AdminApi::new(&server.admin, &second)
        .list_tokens()
        .ok()
        .await;
}
