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
