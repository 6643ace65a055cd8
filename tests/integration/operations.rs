//! The operations layer seen from the admin API: each change recorded once under its canonical
//! subject, whichever front made it; and the refusals that keep an admin from losing data or
//! access by a typo.

use http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::TestServer;

async fn changes_of(server: &TestServer, subject: &str) -> Vec<Value> {
    server
        .ok(
            Method::GET,
            &format!("/api/v1/audit?kind=admin_change&subject={subject}"),
            None,
        )
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
    // Registered in one notation, changed in another, imported in a third: one subject.
    server
        .add_device(json!({"mac": "00:15:65:AA:BB:01", "model": "T46S"}))
        .await;
    server
        .ok(
            Method::PATCH,
            "/api/v1/devices/00-15-65-aa-bb-01",
            Some(json!({"label": "Reception"})),
        )
        .await;
    let csv = "mac,label\n001565AABB01,Front desk\n001565aabb02,Back office\n";
    let reply = server
        .api_raw(
            Method::POST,
            "/api/v1/import/devices",
            csv.as_bytes().to_vec(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.text());
    let id = reply.json()["id"].as_str().unwrap().to_string();
    let mut state = Value::Null;
    for _ in 0..200 {
        state = server
            .ok(Method::GET, &format!("/api/v1/imports/{id}"), None)
            .await;
        if state["state"] != "running" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
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
    let created = server
        .ok(
            Method::POST,
            "/api/v1/users",
            Some(json!({"display_name": "Auto Numbered"})),
        )
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
    let csv = b"extension,display_name\n4001,Dry Run\n".to_vec();
    for query in [
        "dry_run=1",
        "dry_run=yes",
        "dry_run=TRUE",
        "dryrun=true",
        "dry_run",
    ] {
        let reply = server
            .api_raw(
                Method::POST,
                &format!("/api/v1/import/users?{query}"),
                csv.clone(),
            )
            .await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{query}: {}",
            reply.text()
        );
    }
    let reply = server.api(Method::GET, "/api/v1/users/4001", None).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "nothing was imported");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_taken_line_is_replaced_only_when_asked() {
    let server = TestServer::start().await;
    server
        .add_device(json!({"mac": "001565aabb03", "model": "T46S"}))
        .await;
    for extension in ["5001", "5002"] {
        server
            .ok(
                Method::POST,
                "/api/v1/users",
                Some(json!({"extension": extension, "display_name": extension})),
            )
            .await;
    }
    server.assign("001565aabb03", 1, "5001").await;
    let path = "/api/v1/devices/001565aabb03/lines/1";
    let reply = server
        .api(Method::PUT, path, Some(json!({"user": "5002"})))
        .await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.text());
    assert!(reply.text().contains("has user 5001"), "{}", reply.text());
    let device = server
        .ok(Method::GET, "/api/v1/devices/001565aabb03", None)
        .await;
    assert_eq!(device["lines"][0]["user"], "5001");
    let device = server
        .ok(
            Method::PUT,
            path,
            Some(json!({"user": "5002", "replace": true})),
        )
        .await;
    assert_eq!(device["lines"][0]["user"], "5002");
    // The field that is wrong is the one named.
    let reply = server
        .api(Method::PUT, path, Some(json!({"user": "not-digits"})))
        .await;
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
    for name in ["ciA", "ci%41"] {
        server
            .ok(Method::POST, "/api/v1/tokens", Some(json!({"name": name})))
            .await;
    }
    // `ci%2541` is `ci%41` decoded once: that token goes, `ciA` stays.
    let revoked = server
        .ok(Method::DELETE, "/api/v1/tokens/ci%2541", None)
        .await;
    assert_eq!(revoked["name"], "ci%41");
    let names: Vec<Value> = server
        .ok(Method::GET, "/api/v1/tokens", None)
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].clone())
        .collect();
    assert_eq!(names, [json!("ciA"), json!("initial")]);

    // The token this request carries is not revoked by mistake.
    let reply = server
        .api(Method::DELETE, "/api/v1/tokens/initial", None)
        .await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.text());
    let reply = server
        .api(Method::DELETE, "/api/v1/tokens/initial?force=maybe", None)
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    let reply = server
        .api(Method::DELETE, "/api/v1/tokens/initial?force=true", None)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let reply = server.api(Method::GET, "/api/v1/tokens", None).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_profile_description_error_names_description() {
    let server = TestServer::start().await;
    let reply = server
        .api(
            Method::POST,
            "/api/v1/profiles",
            Some(json!({"name": "floor-3", "description": "two\nlines"})),
        )
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
    server
        .add_device(json!({"mac": "001565aabb04", "model": "T46S", "hotdesk": true}))
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

    let preview = server
        .api(Method::GET, "/api/v1/devices/001565aabb04/render", None)
        .await;
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
    let devices: Vec<Value> = (0..5)
        .map(|i| json!({"mac": format!("00156500000{}", 5 - i)}))
        .collect();
    server
        .ok(
            Method::POST,
            "/api/v1/devices/bulk",
            Some(json!({ "devices": devices })),
        )
        .await;
    for i in 0..5 {
        server
            .ok(
                Method::POST,
                "/api/v1/users",
                Some(json!({"extension": format!("60{i}"), "display_name": "Paged"})),
            )
            .await;
    }
    for (list, key, expected) in [
        (
            "devices",
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
            "users",
            "extension",
            vec!["600", "601", "602", "603", "604"],
        ),
    ] {
        let mut seen = Vec::new();
        let mut path = format!("/api/v1/{list}?limit=2");
        let mut pages = 0;
        loop {
            let reply = server.api(Method::GET, &path, None).await;
            assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.text());
            let page = reply.json();
            pages += 1;
            let items = page["items"].as_array().unwrap();
            assert!(items.len() <= 2, "{page}");
            seen.extend(items.iter().map(|i| i[key].as_str().unwrap().to_string()));
            match page.get("next").and_then(Value::as_str) {
                Some(next) => path = format!("/api/v1/{list}?limit=2&after={next}"),
                None => break,
            }
        }
        assert_eq!(seen, expected, "{list}");
        assert_eq!(pages, 3, "{list}: 2 + 2 + 1, and no next on the last");
    }
    for bad in [
        "/api/v1/users?limit=0",
        "/api/v1/users?limit=1001",
        "/api/v1/users?limit=ten",
        "/api/v1/users?after=",
        "/api/v1/users?page=2",
        "/api/v1/devices?after=nonsense",
        "/api/v1/devices?limit=1&limit=2",
        "/api/v1/tokens?secrets=true",
    ] {
        let reply = server.api(Method::GET, bad, None).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{bad}: {}",
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
    let wrong = || async {
        server
            .admin
            .get(
                "/api/v1/devices",
                &[("authorization", "Bearer wrong-token-0")],
            )
            .await
            .unwrap()
            .status
    };
    let mut last = StatusCode::OK;
    for _ in 0..20 {
        last = wrong().await;
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
    let blocks = server.ok(Method::GET, "/api/v1/token-blocks", None).await;
    assert_eq!(blocks[0]["source"], "127.0.0.1", "{blocks}");
    assert_eq!(blocks[0]["blocked"], true);
    let lifted = server
        .ok(Method::DELETE, "/api/v1/token-blocks/127.0.0.1", None)
        .await;
    assert_eq!(lifted["lifted"], "127.0.0.1");
    assert_eq!(wrong().await, StatusCode::UNAUTHORIZED, "counted afresh");
    assert_eq!(
        server
            .api(Method::DELETE, "/api/v1/token-blocks/192.0.2.1", None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_takes_only_a_real_boolean_for_secrets() {
    let server = TestServer::start().await;
    for query in ["secrets=1", "secrets=yes", "secret=true", "secrets"] {
        let reply = server
            .api(Method::GET, &format!("/api/v1/export/users?{query}"), None)
            .await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{query}: {}",
            reply.text()
        );
    }
    let reply = server
        .api(Method::GET, "/api/v1/export/users?secrets=false", None)
        .await;
    assert_eq!(reply.status, StatusCode::OK);
}
