//! The render cache (src/render_cache.rs) never serves a file older than what it was made
//! from. Each kind of change is made after the phone's file was cached, and the phone's next
//! fetch must carry it. (A hot-desk login reaching its end without any write is covered by
//! hotdesk.rs, `logins_end_after_the_maximum_time_and_at_the_daily_logout`.)

use serde_json::json;

use crate::helpers::{T46S_MAC, T46S_UA, TestServer, basic, override_template};

const FILE: &str = "/001565aabbcc.cfg";

struct Phone<'a> {
    server: &'a TestServer,
    authorization: String,
}

impl Phone<'_> {
    async fn fetch(&self) -> String {
        let headers = [
            ("user-agent", T46S_UA),
            ("authorization", self.authorization.as_str()),
        ];
        let reply = self.server.phone_get_with(FILE, &headers).await;
        assert_eq!(reply.status, 200, "{}", reply.text());
        reply.text()
    }

    /// The phone's config, fetched twice so that the second one comes from the cache.
    async fn config(&self) -> String {
        let first = self.fetch().await;
        assert_eq!(self.fetch().await, first, "polling sees the same file");
        crate::kv::parse(&first).unwrap_or_else(|e| panic!("{e}\n{first}"));
        first
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_change_a_config_depends_on_reaches_the_next_fetch() {
    let overrides = tempfile::tempdir().unwrap();
    let dir = overrides.path().to_path_buf();
    let server = TestServer::start_with(|c| c.server.templates_dir = Some(dir.clone())).await;
    server.seed_desk_phone().await;
    let (user, password) = server.credentials(T46S_MAC).await;
    let phone = Phone {
        server: &server,
        authorization: basic(&user, &password),
    };
    let api = server.admin_api();

    let before = phone.config().await;
    assert!(before.contains("Alice Example"));
    let (cached, _) = server.running().app.render_cache.usage();
    assert!(cached >= 1, "the file is cached");

    // A minute later the phone's last-seen is written; the file stays the same.
    server.clock.advance(120);
    assert_eq!(phone.config().await, before);

    // The user on its line.
    api.patch_user("1001", json!({"display_name": "Alice Renamed"}))
        .ok()
        .await;
    assert!(phone.config().await.contains("Alice Renamed"));
    api.lock_user("1001").ok().await;
    assert!(!phone.config().await.contains("alice-secret-0001"));
    api.unlock_user("1001").ok().await;
    assert!(phone.config().await.contains("alice-secret-0001"));

    // The device itself: a second line.
    api.assign(T46S_MAC, 2, "1002").ok().await;
    assert!(phone.config().await.contains("bob-secret-00002"));

    // Site-wide settings.
    api.patch_settings(json!({"sip_server": "pbx2.example.com"}))
        .ok()
        .await;
    assert!(phone.config().await.contains("pbx2.example.com"));

    // A profile, changed after the device took it.
    api.create_profile(json!({"name": "branch", "settings": {"ntp_server": "ntp1.example.com"}}))
        .ok()
        .await;
    api.patch_device(T46S_MAC, json!({"profile": "branch"}))
        .ok()
        .await;
    assert!(phone.config().await.contains("ntp1.example.com"));
    api.patch_profile(
        "branch",
        json!({"settings": {"ntp_server": "ntp2.example.com"}}),
    )
    .ok()
    .await;
    assert!(phone.config().await.contains("ntp2.example.com"));

    // The model's settings.
    api.patch_model_settings("T46S", json!({"ntp_server": "ntp3.example.com"}))
        .ok()
        .await;
    assert!(phone.config().await.contains("ntp3.example.com"));

    // The templates, reloaded.
    override_template(&dir, "cache test edition");
    api.reload_templates().ok().await;
    assert!(phone.config().await.contains("cache test edition"));

    // Removing the user leaves the line vacant.
    api.delete_user("1002").ok().await;
    assert!(!phone.config().await.contains("bob-secret-00002"));
}

#[tokio::test]
async fn a_zero_budget_renders_every_request() {
    let server = TestServer::start_with(|c| c.limits.render_cache_bytes = 0).await;
    server.seed_desk_phone().await;
    let (user, password) = server.credentials(T46S_MAC).await;
    let phone = Phone {
        server: &server,
        authorization: basic(&user, &password),
    };
    assert!(phone.config().await.contains("Alice Example"));
    assert_eq!(server.running().app.render_cache.usage(), (0, 0));
}

/// Turning hot-desking on issues a login token and turning it off retires it: a file cached
/// with a retired token must never come back.
#[tokio::test]
async fn a_hot_desk_phone_gets_a_live_login_token_after_hot_desking_is_turned_off_and_on() {
    let server = TestServer::start().await;
    server.seed_desk_phone().await;
    let (user, password) = server.credentials(T46S_MAC).await;
    let phone = Phone {
        server: &server,
        authorization: basic(&user, &password),
    };
    let api = server.admin_api();
    let set_hotdesk = |on: bool| api.patch_device(T46S_MAC, json!({ "hotdesk": on })).ok();
    let login_url = |config: &str| {
        let at = config.find("/hotdesk/").expect("a login key in the config");
        let end = config[at..]
            .find(char::is_whitespace)
            .unwrap_or(config.len() - at);
        config[at..at + end].to_string()
    };
    api.unassign(T46S_MAC, 1).ok().await;
    // The phone fetches once, and nothing more before the admin turns hot-desking off
    // (retiring the token) and on again (issuing a new one).
    set_hotdesk(true).await;
    let first = login_url(&phone.fetch().await);
    set_hotdesk(false).await;
    set_hotdesk(true).await;
    let second = login_url(&phone.config().await);
    assert_ne!(first, second, "the retired token is not served again");
    let form = server.phone_get(&second, T46S_UA).await;
    assert_eq!(form.status, 200);
    assert!(form.text().contains("Extension"), "{}", form.text());
    let retired = server.phone_get(&first, T46S_UA).await;
    assert!(retired.text().contains("out of date"), "{}", retired.text());
}
