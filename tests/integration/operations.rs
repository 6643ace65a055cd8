//! The operations layer seen from the admin API: each change recorded once under its canonical
//! subject, whichever front made it; and the refusals that keep an admin from losing data or
//! access by a typo.

use http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::api::{AuditFilter, Body, NewDevice, NewUser};
use crate::helpers::{TestServer, wait_until_listed};

async fn changes_of(server: &TestServer, subject: &str) -> Vec<Value> {
    let changes = AuditFilter::kind("admin_change").subject(subject);
    server
        .admin_api()
        .list_audit(changes)
        .ok()
        .await
        .as_array()
        .unwrap()
        .clone()
}

fn details(changes: &[Value]) -> Vec<String> {
    changes
        .iter()
        .map(|c| c["detail"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_change_is_recorded_once_under_its_canonical_subject() {
    let server = TestServer::start().await;
    let api = server.admin_api();
    // Registered in one notation, changed in another, imported in a third: one subject.
    api.create_device(NewDevice::new("00:15:65:AA:BB:01").model("T46S"))
        .ok()
        .await;
    api.patch_device("00-15-65-aa-bb-01", json!({"label": "Reception"}))
        .ok()
        .await;
    let csv = "mac,label\n001565AABB01,Front desk\n001565aabb02,Back office\n";
    let state = api.import_to_end("devices", csv, false).await;
    assert_eq!(state["state"], "done", "{state}");

    let first = details(&changes_of(&server, "001565aabb01").await);
    assert_eq!(
        first,
        [
            "updated by import",
            "changed label=Reception",
            "registered model=T46S"
        ],
        "newest first, each change once"
    );
    let second = changes_of(&server, "001565aabb02").await;
    assert_eq!(details(&second), ["created by import"]);
    assert_eq!(second[0]["actor"], "initial");
    assert_eq!(second[0]["source"], "127.0.0.1");

    // Users by extension, whether the extension was given or chosen by deskprov.
    let created = api
        .create_user(NewUser::default().display_name("Auto Numbered"))
        .ok()
        .await;
    let extension = created["extension"].as_str().unwrap();
    assert_eq!(
        details(&changes_of(&server, extension).await),
        ["created display_name=Auto Numbered sip_user=".to_string()
            + extension
            + " sip_password=[set]"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_takes_only_a_real_boolean_for_dry_run() {
    let server = TestServer::start().await;
    let api = server.admin_api();
    let csv = "extension,display_name\n4001,Dry Run\n";
    for query in [
        "dry_run=1",
        "dry_run=yes",
        "dry_run=TRUE",
        "dryrun=true",
        "dry_run",
    ] {
        let reply = api.import("users", csv, false).query(query).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{query}: {}",
            reply.text()
        );
    }
    let reply = api.show_user("4001").await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "nothing was imported");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_taken_line_is_replaced_only_when_asked() {
    let server = TestServer::start().await;
    let api = server.admin_api();
    let mac = "001565aabb03";
    api.create_device(NewDevice::new(mac).model("T46S"))
        .ok()
        .await;
    for extension in ["5001", "5002"] {
        api.create_user(NewUser::new(extension, extension))
            .ok()
            .await;
    }
    api.assign(mac, 1, "5001").ok().await;
    let reply = api.assign(mac, 1, "5002").await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.text());
    assert!(reply.text().contains("has user 5001"), "{}", reply.text());
    let device = api.show_device(mac).ok().await;
    assert_eq!(device["lines"][0]["user"], "5001");
    let device = api.assign_replacing(mac, 1, "5002").ok().await;
    assert_eq!(device["lines"][0]["user"], "5002");
    // The field that is wrong is the one named.
    let reply = api.assign(mac, 1, "not-digits").await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(
        reply.json()["error"]
            .as_str()
            .unwrap()
            .starts_with("user: ")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_are_named_exactly_and_the_callers_own_needs_force() {
    let server = TestServer::start().await;
    let api = server.admin_api();
    for name in ["ciA", "ci%41"] {
        api.create_token(name).ok().await;
    }
    // `ci%2541` is `ci%41` decoded once: that token goes, `ciA` stays. (The path is written out:
    // this is a test of percent-decoding.)
    let revoked = api
        .request(Method::DELETE, "/api/v1/tokens/ci%2541", Body::None)
        .ok()
        .await;
    assert_eq!(revoked["name"], "ci%41");
    let names: Vec<Value> = api
        .list_tokens()
        .ok()
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].clone())
        .collect();
    assert_eq!(names, [json!("ciA"), json!("initial")]);

    // The token this request carries is not revoked by mistake.
    let reply = api.revoke_token("initial", false).await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.text());
    let reply = api
        .revoke_token("initial", false)
        .query("force=maybe")
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    let reply = api.revoke_token("initial", true).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let reply = api.list_tokens().await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_profile_description_error_names_description() {
    let server = TestServer::start().await;
    let reply = server
        .admin_api()
        .create_profile(json!({"name": "floor-3", "description": "two\nlines"}))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    let error = reply.json()["error"].as_str().unwrap().to_string();
    assert!(error.starts_with("description: "), "{error}");
}

/// The login URL's path in a hot-desk config.
fn login_path(config: &str) -> String {
    let at = config.find("/hotdesk/").expect("a login key in the config");
    let end = config[at..]
        .find(|c: char| c.is_whitespace() || c == '"' || c == '<')
        .unwrap_or(config.len() - at);
    config[at..at + end].to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rendering_writes_nothing_the_admin_preview_included() {
    let server = TestServer::start().await;
    let api = server.admin_api();
    api.create_device(NewDevice::new("001565aabb04").model("T46S").hotdesk())
        .ok()
        .await;
    let mac = deskprov::domain::Mac::parse("001565aabb04").unwrap();
    let stored = || async {
        server
            .running()
            .app
            .store
            .device(mac)
            .await
            .unwrap()
            .unwrap()
    };
    let registered = stored().await;
    assert!(registered.login_token.is_some(), "issued at registration");

    let preview = api.render("001565aabb04").await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.text());
    assert_eq!(stored().await, registered, "the preview changed the record");

    let phone = server
        .phone_get(
            "/001565aabb04.cfg",
            "Yealink SIP-T46S 66.86.0.15 00:15:65:aa:bb:04",
        )
        .await;
    assert_eq!(phone.status, StatusCode::OK);
    assert_eq!(login_path(&phone.text()), login_path(&preview.text()));
    assert_eq!(
        stored().await.login_token,
        registered.login_token,
        "the phone's fetch rendered with the token it had"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_list_pages_in_a_stable_order() {
    let server = TestServer::start().await;
    let api = server.admin_api();
    let devices: Vec<Value> = (0..5)
        .map(|i| json!({"mac": format!("00156500000{}", 5 - i)}))
        .collect();
    api.create_devices(json!({ "devices": devices })).ok().await;
    for i in 0..5 {
        api.create_user(NewUser::new(&format!("60{i}"), "Paged"))
            .ok()
            .await;
    }
    for (list, key, expected) in [
        (
            api.list_devices(),
            "mac",
            vec![
                "001565000001",
                "001565000002",
                "001565000003",
                "001565000004",
                "001565000005",
            ],
        ),
        (
            api.list_users(),
            "extension",
            vec!["600", "601", "602", "603", "604"],
        ),
    ] {
        let mut seen = Vec::new();
        let mut query = "limit=2".to_string();
        let mut pages = 0;
        loop {
            let page = list.clone().query(&query);
            let shown = page.to_string();
            let reply = page.await;
            assert_eq!(reply.status, StatusCode::OK, "{shown}: {}", reply.text());
            let page = reply.json();
            pages += 1;
            let items = page["items"].as_array().unwrap();
            assert!(items.len() <= 2, "{page}");
            seen.extend(items.iter().map(|i| i[key].as_str().unwrap().to_string()));
            match page.get("next").and_then(Value::as_str) {
                Some(next) => query = format!("limit=2&after={next}"),
                None => break,
            }
        }
        assert_eq!(seen, expected, "{list}");
        assert_eq!(pages, 3, "{list}: 2 + 2 + 1, and no next on the last");
    }
    for (list, query) in [
        (api.list_users(), "limit=0"),
        (api.list_users(), "limit=1001"),
        (api.list_users(), "limit=ten"),
        (api.list_users(), "after="),
        (api.list_users(), "page=2"),
        (api.list_devices(), "after=nonsense"),
        (api.list_devices(), "limit=1&limit=2"),
        (api.list_tokens(), "secrets=true"),
    ] {
        let bad = list.query(query);
        let shown = bad.to_string();
        let reply = bad.await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{shown}: {}",
            reply.text()
        );
    }
}

async fn admin_tls(server: &TestServer) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
    let config = deskprov::tls::client_config(std::slice::from_ref(&server.ca)).unwrap();
    let tcp = tokio::net::TcpStream::connect(server.running().admin_addr)
        .await
        .unwrap();
    tokio_rustls::TlsConnector::from(config)
        .connect("localhost".try_into().unwrap(), tcp)
        .await
        .unwrap()
}

/// What the server sends until it closes or goes quiet.
async fn read_answer(stream: &mut (impl tokio::io::AsyncRead + Unpin)) -> String {
    use tokio::io::AsyncReadExt;
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(Ok(n)) =
        tokio::time::timeout(std::time::Duration::from_secs(2), stream.read(&mut buf)).await
    {
        if n == 0 {
            break;
        }
        answer.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_too_large_by_its_headers_gets_413_instead_of_100_continue() {
    use tokio::io::AsyncWriteExt;
    let server = TestServer::start().await;
    let mut tls = admin_tls(&server).await;
    // Raw TLS: the request head is written by hand, so the body is never sent.
    let head = format!(
        "POST /api/v1/users HTTP/1.1\r\nHost: localhost\r\nAuthorization: {}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\nExpect: 100-continue\r\n\r\n",
        server.admin_auth()
    );
    tls.write_all(head.as_bytes()).await.unwrap();
    let answer = read_answer(&mut tls).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(!answer.contains("100 Continue"), "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn head_is_answered_wherever_get_is() {
    let server = TestServer::start().await;
    let auth = server.admin_auth();
    // Routing by method: HEAD on the paths as written.
    let reply = server
        .admin
        .send(
            Method::HEAD,
            "/api/v1/settings",
            &[("authorization", &auth)],
            None,
        )
        .await
        .unwrap();
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.body.is_empty());
    assert_eq!(reply.headers["content-type"], "application/json");
    let reply = server
        .admin
        .send(
            Method::HEAD,
            "/api/v1/tokens/initial",
            &[("authorization", &auth)],
            None,
        )
        .await
        .unwrap();
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(reply.headers["allow"], "DELETE");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_token_blocks_are_listed_and_lifted() {
    let server = TestServer::start().await;
    let api = server.admin_api();
    let guesser = api.clone().with_authorization("Bearer wrong-token-0");
    let wrong = || async { guesser.list_devices().await.status };
    let mut last = StatusCode::OK;
    for _ in 0..20 {
        last = wrong().await;
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
    let blocks = api.list_token_blocks().ok().await;
    assert_eq!(blocks[0]["source"], "127.0.0.1", "{blocks}");
    assert_eq!(blocks[0]["blocked"], true);
    let lifted = api.lift_token_block("127.0.0.1").ok().await;
    assert_eq!(lifted["lifted"], "127.0.0.1");
    assert_eq!(wrong().await, StatusCode::UNAUTHORIZED, "counted afresh");
    assert_eq!(
        api.lift_token_block("192.0.2.1").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_takes_only_a_real_boolean_for_secrets() {
    let server = TestServer::start().await;
    let api = server.admin_api();
    for query in ["secrets=1", "secrets=yes", "secret=true", "secrets"] {
        let reply = api.export("users", false).query(query).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{query}: {}",
            reply.text()
        );
    }
    let reply = api.export("users", false).query("secrets=false").await;
    assert_eq!(reply.status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_devices_are_deleted_all_or_none() {
    let server = TestServer::start().await;
    let api = server.admin_api();
    for mac in ["001565aabb20", "001565aabb21"] {
        api.create_device(json!({ "mac": mac })).ok().await;
    }
    let refused = api.delete_devices(&["001565aabb20", "001565aabb29"]).await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND, "{}", refused.text());
    assert!(refused.text().contains("001565aabb29"));
    assert_eq!(api.list_devices().ok().await.as_array().unwrap().len(), 2);
    let deleted = api
        .delete_devices(&["00:15:65:aa:bb:20", "001565AABB21"])
        .ok()
        .await;
    assert_eq!(deleted["deleted"], json!(["001565aabb20", "001565aabb21"]));
    assert_eq!(api.list_devices().ok().await, json!([]));
    let unknown_model = api
        .create_device(json!({ "mac": "001565aabb22", "model": "T46X" }))
        .await;
    assert_eq!(unknown_model.status, StatusCode::BAD_REQUEST);
    let error = unknown_model.json()["error"].as_str().unwrap().to_string();
    assert!(error.starts_with("model: unknown model T46X"), "{error}");
}

/// The endpoints no other test speaks to, each doing what it says.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_quiet_endpoints_do_what_they_say() {
    let server = TestServer::start().await;
    let api = server.admin_api();
    api.create_profile(json!({"name": "floor-4", "settings": {"language": "de"}}))
        .ok()
        .await;
    let profile = api.show_profile("floor-4").ok().await;
    assert_eq!(profile["settings"]["language"], "de");
    assert_eq!(profile["devices"], 0);
    assert_eq!(
        api.show_profile("floor-9").await.status,
        StatusCode::NOT_FOUND
    );

    api.patch_model_settings("T46S", json!({"ntp_server": "ntp.example.com"}))
        .ok()
        .await;
    let model = api.model_settings("t46s").ok().await;
    assert_eq!(model["model"], "T46S");
    assert_eq!(model["settings"]["ntp_server"], "ntp.example.com");

    let first = api
        .import_to_end("users", "extension,display_name\n4101,First\n", false)
        .await;
    let second = api
        .import_to_end("users", "extension,display_name\n4102,Second\n", true)
        .await;
    let imports = api.list_imports().ok().await;
    let ids: Vec<&Value> = imports
        .as_array()
        .unwrap()
        .iter()
        .map(|j| &j["id"])
        .collect();
    assert_eq!(ids, [&second["id"], &first["id"]], "newest first");

    let seen = server
        .phone_get(
            "/001565aabb30.cfg",
            "Yealink SIP-T46S 66.86.0.15 00:15:65:aa:bb:30",
        )
        .await;
    assert_eq!(seen.status, StatusCode::UNAUTHORIZED);
    wait_until_listed(&api, &["001565aabb30"]).await;
    assert_eq!(
        api.list_unregistered().ok().await.as_array().unwrap().len(),
        1
    );
    let forgotten = api.forget_unregistered("001565aabb30").ok().await;
    assert_eq!(forgotten["deleted"], "001565aabb30");
    assert_eq!(api.list_unregistered().ok().await, json!([]));

    api.create_device(json!({"mac": "001565aabb31"})).ok().await;
    let deleted = api.delete_device("00-15-65-AA-BB-31").ok().await;
    assert_eq!(deleted["deleted"], "001565aabb31");
    assert_eq!(
        api.show_device("001565aabb31").await.status,
        StatusCode::NOT_FOUND
    );

    let never = api.lift_ban_64("2001:db8:1:2::").await;
    assert_eq!(never.status, StatusCode::NOT_FOUND, "{}", never.text());
    assert!(
        never.text().contains("2001:db8:1:2::/64"),
        "{}",
        never.text()
    );
}
