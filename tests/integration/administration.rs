//! Administration through the API: users with names, languages and free extensions, locking and
//! bulk changes, device filters and bulk registration, settings inherited default → profile →
//! model → device, template reloads, CSV import and export, and the OpenAPI document against
//! the real routes. Every refusal is checked to have changed nothing.

use std::collections::BTreeSet;
use std::time::Duration;

use http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;
use crate::kv;

async fn start() -> TestServer {
    TestServer::start_with(|c| c.users.extension_ranges = vec!["2000-2002".into(), "30-31".into()])
        .await
}

/// The state an admin sees, to prove a refused request changed nothing.
async fn snapshot(server: &TestServer) -> Value {
    let mut state = serde_json::Map::new();
    for path in [
        "/api/v1/users",
        "/api/v1/devices",
        "/api/v1/profiles",
        "/api/v1/settings",
    ] {
        state.insert(path.into(), server.ok(Method::GET, path, None).await);
    }
    Value::Object(state)
}

async fn refused(
    server: &TestServer,
    method: Method,
    path: &str,
    body: Value,
    status: StatusCode,
) -> String {
    let before = snapshot(server).await;
    let reply = server.api(method.clone(), path, Some(body)).await;
    assert_eq!(reply.status, status, "{method} {path}: {}", reply.text());
    assert_eq!(
        snapshot(server).await,
        before,
        "{method} {path} changed something"
    );
    reply.json()["error"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_get_free_extensions_names_and_languages() {
    let server = start().await;
    let next = server
        .ok(Method::GET, "/api/v1/users/next-extension", None)
        .await;
    assert_eq!(next["extension"], "2000");
    server
        .ok(
            Method::POST,
            "/api/v1/users",
            Some(json!({"extension": "2001", "display_name": "Taken"})),
        )
        .await;
    let created = server
        .ok(
            Method::POST,
            "/api/v1/users",
            Some(json!({"first_name": "Zoë", "last_name": "Durand", "language": "FR"})),
        )
        .await;
    assert_eq!(created["extension"], "2000");
    assert_eq!(created["display_name"], "Zoë Durand");
    assert_eq!(created["language"], "fr");
    assert_eq!(created["sip_user"], "2000");
    // The ranges are used in order, with the second one's two digits.
    for expected in ["2002", "30", "31"] {
        let user = server
            .ok(
                Method::POST,
                "/api/v1/users",
                Some(json!({"first_name": "Next"})),
            )
            .await;
        assert_eq!(user["extension"], expected);
    }
    let error = refused(
        &server,
        Method::POST,
        "/api/v1/users",
        json!({"first_name": "Nobody"}),
        StatusCode::CONFLICT,
    )
    .await;
    assert!(error.contains("every extension"), "{error}");

    // Bad input: a clear error, nothing stored.
    for (body, status, says) in [
        (
            json!({"extension": "2001", "display_name": "Twice"}),
            StatusCode::CONFLICT,
            "already exists",
        ),
        (
            json!({"extension": "4000"}),
            StatusCode::BAD_REQUEST,
            "display_name",
        ),
        (
            json!({"extension": "4000", "first_name": "A", "language": "klingon"}),
            StatusCode::BAD_REQUEST,
            "language",
        ),
        (
            json!({"extension": "4000", "first_name": "A\nB"}),
            StatusCode::BAD_REQUEST,
            "first_name",
        ),
        (
            json!({"extension": "40a0", "display_name": "X"}),
            StatusCode::BAD_REQUEST,
            "extension",
        ),
    ] {
        let error = refused(&server, Method::POST, "/api/v1/users", body.clone(), status).await;
        assert!(error.contains(says), "{body}: {error}");
    }

    let changed = server
        .ok(
            Method::PATCH,
            "/api/v1/users/2000",
            Some(json!({"last_name": null, "language": "de", "first_name": "Zoe"})),
        )
        .await;
    assert_eq!(changed["last_name"], Value::Null);
    assert_eq!(changed["first_name"], "Zoe");
    assert_eq!(changed["language"], "de");
    assert_eq!(
        changed["display_name"], "Zoë Durand",
        "the display name is not derived again"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn locking_and_bulk_changes_apply_to_all_or_none() {
    let server = TestServer::start().await;
    server.seed_desk_phone().await;
    server
        .ok(Method::POST, "/api/v1/users", Some(json!({"extension": "1003", "display_name": "Carol", "sip_password": "carol-secret-0003"})))
        .await;
    server.assign(T46S_MAC, 2, "1002").await;
    let config = async |server: &TestServer| {
        let (user, password) = server.credentials(T46S_MAC).await;
        let auth = basic(&user, &password);
        let reply = server
            .phone_get_with(
                &format!("/{T46S_MAC}.cfg"),
                &[("user-agent", T46S_UA), ("authorization", &auth)],
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK);
        kv::parse(&reply.text()).unwrap()
    };
    assert_eq!(
        config(&server).await["account.1.password"],
        "alice-secret-0001"
    );

    // A locked user's account leaves the phone at its next fetch.
    server
        .ok(Method::POST, "/api/v1/users/1001/lock", None)
        .await;
    let locked = config(&server).await;
    assert_eq!(locked["account.1.enable"], "0");
    assert!(!locked.values().any(|v| v == "alice-secret-0001"));
    server
        .ok(Method::POST, "/api/v1/users/1001/unlock", None)
        .await;
    assert_eq!(
        config(&server).await["account.1.password"],
        "alice-secret-0001"
    );

    // One unknown extension: nothing is locked.
    let error = refused(
        &server,
        Method::POST,
        "/api/v1/users/bulk",
        json!({"action": "lock", "extensions": ["1001", "1002", "1999"]}),
        StatusCode::NOT_FOUND,
    )
    .await;
    assert!(
        error.contains("1999") && error.contains("nothing was changed"),
        "{error}"
    );
    for body in [
        json!({"action": "explode", "extensions": ["1001"]}),
        json!({"action": "lock", "extensions": []}),
        json!({"action": "lock", "extensions": ["x"]}),
    ] {
        refused(
            &server,
            Method::POST,
            "/api/v1/users/bulk",
            body,
            StatusCode::BAD_REQUEST,
        )
        .await;
    }

    server
        .ok(
            Method::POST,
            "/api/v1/users/bulk",
            Some(json!({"action": "lock", "extensions": ["1001", "1002"]})),
        )
        .await;
    let users = server.ok(Method::GET, "/api/v1/users", None).await;
    let locked: Vec<&str> = users
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["locked"] == true)
        .map(|u| u["extension"].as_str().unwrap())
        .collect();
    assert_eq!(locked, ["1001", "1002"]);
    let both = config(&server).await;
    assert_eq!(
        (
            both["account.1.enable"].as_str(),
            both["account.2.enable"].as_str()
        ),
        ("0", "0")
    );

    server
        .ok(
            Method::POST,
            "/api/v1/users/bulk",
            Some(json!({"action": "unlock", "extensions": ["1001", "1002"]})),
        )
        .await;
    server
        .ok(
            Method::POST,
            "/api/v1/users/bulk",
            Some(json!({"action": "delete", "extensions": ["1002", "1003"]})),
        )
        .await;
    let device = server
        .ok(Method::GET, &format!("/api/v1/devices/{T46S_MAC}"), None)
        .await;
    assert_eq!(device["lines"], json!([{"line": 1, "user": "1001"}]));
    let reply = server.api(Method::GET, "/api/v1/users/1003", None).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn devices_register_in_bulk_and_list_by_filter() {
    let server = TestServer::start().await;
    server.seed_desk_phone().await;
    server
        .ok(
            Method::POST,
            "/api/v1/profiles",
            Some(json!({"name": "floor-2", "settings": {"language": "de"}})),
        )
        .await;
    let bulk = |devices: Value| json!({ "devices": devices });

    // One bad device in the batch: none is registered.
    for (devices, status, says) in [
        (
            json!([{"mac": "001565000001"}, {"mac": "00:15:65:aa:bb:cc"}]),
            StatusCode::CONFLICT,
            "devices[1]",
        ),
        (
            json!([{"mac": "001565000001"}, {"mac": "00-15-65-00-00-01"}]),
            StatusCode::BAD_REQUEST,
            "devices[1]: mac: 001565000001 is already in this list (devices[0])",
        ),
        (
            json!([{"mac": "001565000001", "profile": "floor-9"}]),
            StatusCode::BAD_REQUEST,
            "no settings profile",
        ),
        (
            json!([{"mac": "001565000001", "model": "T99"}]),
            StatusCode::BAD_REQUEST,
            "unknown model",
        ),
        (
            json!([{"mac": "nonsense"}]),
            StatusCode::BAD_REQUEST,
            "devices[0]",
        ),
    ] {
        let error = refused(
            &server,
            Method::POST,
            "/api/v1/devices/bulk",
            bulk(devices.clone()),
            status,
        )
        .await;
        assert!(error.contains(says), "{devices}: {error}");
    }
    let registered = server
        .ok(
            Method::POST,
            "/api/v1/devices/bulk",
            Some(bulk(json!([
                {"mac": "001565000001", "model": "T46S", "location": "Building A, floor 2", "profile": "floor-2", "hotdesk": true},
                {"mac": "0004f2000002", "model": "VVX400", "location": "Building B"},
            ]))),
        )
        .await;
    assert_eq!(registered.as_array().unwrap().len(), 2);
    assert_eq!(registered[0]["location"], "Building A, floor 2");
    assert_eq!(registered[0]["profile"], "floor-2");
    let error = refused(
        &server,
        Method::POST,
        "/api/v1/devices",
        json!({"mac": "00-15-65-00-00-01"}),
        StatusCode::CONFLICT,
    )
    .await;
    assert!(error.contains("already registered"), "{error}");

    // A phone that asked for its file unregistered, then adopted: "auto-registered".
    let reply = server
        .phone_get(
            "/001565000003.cfg",
            "Yealink SIP-T54W 96.86.0.100 00:15:65:00:00:03",
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    server
        .ok(
            Method::POST,
            "/api/v1/unregistered/001565000003/adopt",
            None,
        )
        .await;

    server.clock.advance(40 * 86_400);
    server.phone_get(&format!("/{T46S_MAC}.cfg"), T46S_UA).await;

    let macs = async |query: &str| -> BTreeSet<String> {
        let list = server
            .ok(Method::GET, &format!("/api/v1/devices{query}"), None)
            .await;
        list.as_array()
            .unwrap()
            .iter()
            .map(|d| d["mac"].as_str().unwrap().replace(':', ""))
            .collect()
    };
    let set = |macs: &[&str]| macs.iter().map(|m| m.to_string()).collect::<BTreeSet<_>>();
    assert_eq!(macs("").await.len(), 4);
    assert_eq!(
        macs("?unassigned=true").await,
        set(&["001565000001", "0004f2000002", "001565000003"])
    );
    assert_eq!(macs("?unassigned=false").await, set(&[T46S_MAC]));
    assert_eq!(macs("?hotdesk=true").await, set(&["001565000001"]));
    assert_eq!(macs("?auto_registered=true").await, set(&["001565000003"]));
    assert_eq!(macs("?model=t54w").await, set(&["001565000003"]));
    assert_eq!(macs("?profile=floor-2").await, set(&["001565000001"]));
    assert_eq!(macs("?location=building%20b").await, set(&["0004f2000002"]));
    // Seen 40 days ago or never; the T46S asked just now.
    assert_eq!(
        macs("?not_seen_days=30").await,
        set(&["001565000001", "0004f2000002", "001565000003"])
    );
    assert_eq!(
        macs("?unassigned=true&model=T46S").await,
        set(&["001565000001"])
    );
    for bad in ["?hotdesk=maybe", "?not_seen_days=-1", "?colour=red"] {
        let reply = server
            .api(Method::GET, &format!("/api/v1/devices{bad}"), None)
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{bad}");
    }

    // Location and profile are edited and cleared like the label.
    let edited = server
        .ok(
            Method::PATCH,
            "/api/v1/devices/001565000001",
            Some(json!({"location": null, "profile": null})),
        )
        .await;
    assert_eq!(
        (edited["location"].clone(), edited["profile"].clone()),
        (Value::Null, Value::Null)
    );
    refused(
        &server,
        Method::PATCH,
        "/api/v1/devices/001565000001",
        json!({"profile": "nope"}),
        StatusCode::BAD_REQUEST,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_are_inherited_and_shown_with_their_origin() {
    let server = TestServer::start().await;
    server.seed_desk_phone().await;
    server
        .ok(
            Method::PATCH,
            "/api/v1/settings",
            Some(json!({"ntp_server": "ntp.example.com", "time_zone": "Europe/London", "phone_admin_password": "site-admin-pw-1"})),
        )
        .await;
    crate::logs::remember_secret("site-admin-pw-1");
    server
        .ok(
            Method::POST,
            "/api/v1/profiles",
            Some(json!({"name": "branch", "description": "Branch office", "settings": {"sip_server": "branch.example.com", "time_zone": "Europe/Berlin", "language": "de"}})),
        )
        .await;
    server
        .ok(
            Method::PATCH,
            "/api/v1/models/t46s/settings",
            Some(json!({"language": "fr", "firmware_url": "https://fw.example.com/t46s/"})),
        )
        .await;
    server
        .ok(
            Method::PATCH,
            &format!("/api/v1/devices/{T46S_MAC}"),
            Some(json!({"profile": "branch"})),
        )
        .await;
    let own = server
        .ok(Method::PATCH, &format!("/api/v1/devices/{T46S_MAC}/settings"), Some(json!({"outbound_proxy": "proxy.example.com:5070", "phone_admin_password": "device-admin-pw-2"})))
        .await;
    crate::logs::remember_secret("device-admin-pw-2");
    let effective = &own["effective"];
    let from = |key: &str| effective[key]["from"].clone();
    assert_eq!(effective["sip_server"]["value"], "branch.example.com");
    assert_eq!(
        from("sip_server"),
        json!({"level": "profile", "name": "branch"})
    );
    assert_eq!(effective["ntp_server"]["value"], "ntp.example.com");
    assert_eq!(from("ntp_server"), json!({"level": "default"}));
    assert_eq!(effective["time_zone"]["value"], "Europe/Berlin");
    assert_eq!(effective["language"]["value"], "fr");
    assert_eq!(from("language"), json!({"level": "model", "name": "T46S"}));
    assert_eq!(from("outbound_proxy"), json!({"level": "device"}));
    assert_eq!(
        effective["phone_admin_password"]["value"], "[set]",
        "secrets are never shown"
    );
    assert_eq!(own["own"]["phone_admin_password"], "[set]");
    let settings = server.ok(Method::GET, "/api/v1/settings", None).await;
    assert_eq!(settings["phone_admin_password"], "[set]");

    // The phone gets exactly the effective values.
    let rendered = server
        .api(
            Method::GET,
            &format!("/api/v1/devices/{T46S_MAC}/render"),
            None,
        )
        .await;
    let text = rendered.text();
    assert!(
        text.contains("branch.example.com") && !text.contains("pbx.example.com"),
        "{text}"
    );
    assert!(text.contains("device-admin-pw-2") && !text.contains("site-admin-pw-1"));
    assert!(text.contains("proxy.example.com") && text.contains("https://fw.example.com/t46s/"));

    // Removing the device's own value falls back to the next layer.
    let back = server
        .ok(
            Method::PATCH,
            &format!("/api/v1/devices/{T46S_MAC}/settings"),
            Some(json!({"phone_admin_password": null})),
        )
        .await;
    assert_eq!(
        back["effective"]["phone_admin_password"]["from"],
        json!({"level": "default"})
    );
    let text = server
        .api(
            Method::GET,
            &format!("/api/v1/devices/{T46S_MAC}/render"),
            None,
        )
        .await
        .text();
    assert!(text.contains("site-admin-pw-1"));

    // Bad input changes nothing.
    let device_settings = format!("/api/v1/devices/{T46S_MAC}/settings");
    for (method, path, body, says) in [
        (
            Method::PATCH,
            device_settings.as_str(),
            json!({"utc_offset": "+01:00"}),
            "site-wide",
        ),
        (
            Method::PATCH,
            device_settings.as_str(),
            json!({"time_zone": "Mars/Olympus"}),
            "time_zone",
        ),
        (
            Method::PATCH,
            device_settings.as_str(),
            json!({"sip_port": 0}),
            "sip_port",
        ),
        (
            Method::PATCH,
            device_settings.as_str(),
            json!({"colour": "red"}),
            "unknown setting",
        ),
        (
            Method::PATCH,
            "/api/v1/models/T46S/settings",
            json!({"firmware_url": "ftp://x/"}),
            "firmware_url",
        ),
        (
            Method::PATCH,
            "/api/v1/settings",
            json!({"outbound_proxy": "a b"}),
            "outbound_proxy",
        ),
        (
            Method::POST,
            "/api/v1/profiles",
            json!({"name": "branch"}),
            "already exists",
        ),
        (
            Method::POST,
            "/api/v1/profiles",
            json!({"name": "no spaces"}),
            "profile",
        ),
        (
            Method::PATCH,
            "/api/v1/profiles/branch",
            json!({"settings": {"language": "xx"}}),
            "language",
        ),
    ] {
        let before = server.ok(Method::GET, &device_settings, None).await;
        let reply = server.api(method.clone(), path, Some(body.clone())).await;
        assert!(
            reply.status.is_client_error(),
            "{path} {body}: {}",
            reply.status
        );
        assert!(
            reply.json()["error"].as_str().unwrap().contains(says),
            "{body}: {}",
            reply.text()
        );
        assert_eq!(server.ok(Method::GET, &device_settings, None).await, before);
    }
    let reply = server
        .api(
            Method::PATCH,
            "/api/v1/models/T99/settings",
            Some(json!({"language": "de"})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);

    // A profile in use cannot be deleted; unused, it can.
    let error = refused(
        &server,
        Method::DELETE,
        "/api/v1/profiles/branch",
        Value::Null,
        StatusCode::CONFLICT,
    )
    .await;
    assert!(error.contains("1 devices use"), "{error}");
    server
        .ok(
            Method::PATCH,
            &format!("/api/v1/devices/{T46S_MAC}"),
            Some(json!({"profile": null})),
        )
        .await;
    server
        .ok(Method::DELETE, "/api/v1/profiles/branch", None)
        .await;

    let choices = server
        .ok(Method::GET, "/api/v1/settings/choices", None)
        .await;
    assert!(
        choices["time_zones"]
            .as_array()
            .unwrap()
            .iter()
            .any(|z| z["name"] == "Europe/Berlin")
    );
    assert!(
        choices["languages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["code"] == "de")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_lines_user_language_wins_over_the_settings() {
    let server = TestServer::start().await;
    server.seed_desk_phone().await;
    server
        .ok(
            Method::PATCH,
            "/api/v1/settings",
            Some(json!({"language": "de"})),
        )
        .await;
    let path = format!("/api/v1/devices/{T46S_MAC}/render");
    let language = async || {
        let text = server.api(Method::GET, &path, None).await.text();
        kv::parse(&text).unwrap()["lang.gui"].clone()
    };
    assert_eq!(language().await, "German");
    server
        .ok(
            Method::PATCH,
            "/api/v1/users/1001",
            Some(json!({"language": "fr"})),
        )
        .await;
    assert_eq!(language().await, "French");
    server
        .ok(
            Method::PATCH,
            "/api/v1/users/1001",
            Some(json!({"language": null})),
        )
        .await;
    assert_eq!(language().await, "German");
}

/// Overrides Yealink's desk template in `dir` with the shipped one plus a `## {marker}` line.
pub fn override_template(dir: &std::path::Path, marker: &str) {
    let shipped = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("phone-templates/yealink/desk.cfg.hbs"),
    )
    .unwrap();
    std::fs::create_dir_all(dir.join("yealink")).unwrap();
    std::fs::write(
        dir.join("yealink/desk.cfg.hbs"),
        format!("{shipped}## {marker}\n"),
    )
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn templates_reload_from_the_override_directory_without_a_restart() {
    let overrides = tempfile::tempdir().unwrap();
    let dir = overrides.path().to_path_buf();
    override_template(&dir, "first edition");
    let server = TestServer::start_with(|c| c.server.templates_dir = Some(dir.clone())).await;
    server.seed_desk_phone().await;
    let render = format!("/api/v1/devices/{T46S_MAC}/render");
    assert!(
        server
            .api(Method::GET, &render, None)
            .await
            .text()
            .contains("first edition")
    );
    let list = server.ok(Method::GET, "/api/v1/templates", None).await;
    let origin = |name: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == name)
            .unwrap()["origin"]
            .clone()
    };
    assert_eq!(origin("yealink/desk.cfg"), "override");
    assert_eq!(origin("snom/desk.xml"), "shipped");

    // A connection open across the reload keeps working.
    override_template(&dir, "second edition");
    let reloaded = server
        .ok(Method::POST, "/api/v1/templates/reload", None)
        .await;
    assert_eq!(reloaded["overrides"], 1);
    assert!(
        server
            .api(Method::GET, &render, None)
            .await
            .text()
            .contains("second edition")
    );

    // A broken template is refused with its file and line; the templates in use stay.
    std::fs::write(
        dir.join("yealink/desk.cfg.hbs"),
        "#!version:1.0.0.1\n{{#if lines}}\n",
    )
    .unwrap();
    let reply = server
        .api(Method::POST, "/api/v1/templates/reload", None)
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(
        reply.text().contains("yealink/desk.cfg.hbs"),
        "{}",
        reply.text()
    );
    assert!(
        server
            .api(Method::GET, &render, None)
            .await
            .text()
            .contains("second edition")
    );
    std::fs::write(
        dir.join("yealink/desk.cfg.hbs"),
        "{{{provisioning.password}}}\n",
    )
    .unwrap();
    let reply = server
        .api(Method::POST, "/api/v1/templates/reload", None)
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(
        server
            .api(Method::GET, &render, None)
            .await
            .text()
            .contains("second edition")
    );
}

/// Posts a CSV file and follows the import to its end.
async fn import(server: &TestServer, subject: &str, csv: &str, dry_run: bool) -> Value {
    let query = if dry_run { "?dry_run=true" } else { "" };
    let reply = server
        .api_raw(
            Method::POST,
            &format!("/api/v1/import/{subject}{query}"),
            csv.as_bytes().to_vec(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.text());
    let id = reply.json()["id"].as_str().unwrap().to_string();
    for _ in 0..600 {
        let job = server
            .ok(Method::GET, &format!("/api/v1/imports/{id}"), None)
            .await;
        if job["state"] != "running" {
            return job;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("import {id} did not finish");
}

const USERS_CSV: &str = "extension,first_name,last_name,email,language,sip_password,pin,may_hotdesk\n\
    3001,Ada,Lovelace,ada@example.com,en,ada-secret-0000001,428613,true\n\
    3002,\"Grace, Rear Admiral\",Hopper,,de,,,false\n\
    3003,Alan,Turing,,,turing-secret-00003,,\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csv_imports_are_all_or_nothing_and_idempotent() {
    let server = TestServer::start().await;
    for secret in ["ada-secret-0000001", "turing-secret-00003", "428613"] {
        crate::logs::remember_secret(secret);
    }
    // A dry run checks and changes nothing.
    let checked = import(&server, "users", USERS_CSV, true).await;
    assert_eq!(checked["state"], "checked", "{checked}");
    assert_eq!(checked["created"], 3);
    assert_eq!(
        server.ok(Method::GET, "/api/v1/users", None).await,
        json!([])
    );

    let done = import(&server, "users", USERS_CSV, false).await;
    assert_eq!(done["state"], "done", "{done}");
    assert_eq!(
        (done["created"].clone(), done["checked"].clone()),
        (json!(3), json!(3))
    );
    let grace = server.ok(Method::GET, "/api/v1/users/3002", None).await;
    assert_eq!(grace["display_name"], "Grace, Rear Admiral Hopper");
    assert_eq!(grace["may_hotdesk"], false);
    assert_eq!(
        server.ok(Method::GET, "/api/v1/users/3001", None).await["has_pin"],
        true
    );
    let sip = server
        .ok(Method::GET, "/api/v1/users/3003/sip-password", None)
        .await;
    assert_eq!(sip["sip_password"], "turing-secret-00003");

    // The same file again changes nothing, PIN and password included.
    let before = snapshot(&server).await;
    let again = import(&server, "users", USERS_CSV, false).await;
    assert_eq!(
        (
            again["unchanged"].clone(),
            again["created"].clone(),
            again["updated"].clone()
        ),
        (json!(3), json!(0), json!(0)),
        "{again}"
    );
    assert_eq!(snapshot(&server).await, before);

    // One bad row: a report of every bad row, and nothing changed.
    let bad = "extension,first_name,language,pin\n\
        3001,Ada Augusta,,\n\
        3004,New,,\n\
        30x5,Broken,,\n\
        3006,Klingon,tlh,\n\
        3004,Twice,,\n\
        3007,Weak,,1234\n";
    let failed = import(&server, "users", bad, false).await;
    assert_eq!(failed["state"], "failed");
    let errors: Vec<(u64, String)> = failed["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["row"].as_u64().unwrap(),
                e["error"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        errors.iter().map(|(row, _)| *row).collect::<Vec<_>>(),
        [4, 5, 6, 7],
        "{errors:?}"
    );
    assert!(errors[0].1.contains("extension") && errors[1].1.contains("language"));
    assert!(
        errors[2].1.contains("earlier row") && errors[3].1.contains("pin"),
        "{errors:?}"
    );
    assert_eq!(snapshot(&server).await, before);

    // A malformed file is refused at once.
    for (csv, says) in [
        ("extension,colour\n3001,red\n", "unknown column"),
        ("first_name\nAda\n", "\"extension\" is required"),
        ("extension,first_name\n3001,Ada,extra\n", "line 2"),
        ("extension,first_name\n", "no rows"),
    ] {
        let reply = server
            .api_raw(
                Method::POST,
                "/api/v1/import/users",
                csv.as_bytes().to_vec(),
            )
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{csv}");
        let error = reply.json()["error"].as_str().unwrap().to_string();
        assert!(error.contains(says), "{csv}: {error}");
    }
    assert_eq!(snapshot(&server).await, before);

    // An update through CSV: an empty cell keeps a value, "-" clears it.
    let update = import(
        &server,
        "users",
        "extension,email,language,locked\n3001,,-,true\n",
        false,
    )
    .await;
    assert_eq!(update["updated"], 1, "{update}");
    let ada = server.ok(Method::GET, "/api/v1/users/3001", None).await;
    assert_eq!(
        (
            ada["email"].clone(),
            ada["language"].clone(),
            ada["locked"].clone()
        ),
        (json!("ada@example.com"), Value::Null, json!(true))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn devices_round_trip_through_csv() {
    let server = TestServer::start().await;
    server.seed_desk_phone().await;
    server
        .ok(
            Method::POST,
            "/api/v1/profiles",
            Some(json!({"name": "hq"})),
        )
        .await;
    // Cells a spreadsheet would run as formulas are exported defused and imported back intact.
    server
        .ok(
            Method::POST,
            "/api/v1/users",
            Some(json!({"extension": "1003", "display_name": "=HYPERLINK(\"http://evil\")", "last_name": "-minus"})),
        )
        .await;
    let csv = "mac,model,label,location,profile,hotdesk,lines\n\
        00:04:f2:00:00:01,VVX400,Desk 1,\"Floor 1, east\",hq,false,1:1001 2:1002\n\
        001565000002,T46S,,,,true,2:1002\n\
        00-15-65-AA-BB-CC,,Reception,,,,\n";
    let done = import(&server, "devices", csv, false).await;
    assert_eq!(done["state"], "done", "{done}");
    assert_eq!(
        (done["created"].clone(), done["updated"].clone()),
        (json!(2), json!(1))
    );
    let vvx = server
        .ok(Method::GET, "/api/v1/devices/0004f2000001", None)
        .await;
    assert_eq!(
        vvx["lines"],
        json!([{"line": 1, "user": "1001"}, {"line": 2, "user": "1002"}])
    );
    assert_eq!(vvx["location"], "Floor 1, east");
    let t46s = server
        .ok(Method::GET, &format!("/api/v1/devices/{T46S_MAC}"), None)
        .await;
    assert_eq!(t46s["label"], "Reception");
    assert_eq!(
        t46s["lines"],
        json!([{"line": 1, "user": "1001"}]),
        "an empty lines cell keeps them"
    );

    // The phone claims its config; the export imports back with nothing to change, and leaves what
    // the phone wrote.
    let claimed = server.phone_get("/0004f2000001-deskprov.cfg", "").await;
    assert_eq!(claimed.status, StatusCode::OK);
    let export = server
        .api(Method::GET, "/api/v1/export/devices", None)
        .await;
    assert_eq!(export.status, StatusCode::OK);
    assert!(
        export
            .text()
            .starts_with("mac,model,label,location,profile,hotdesk,certificate_required,lines\n")
    );
    let before = snapshot(&server).await;
    let again = import(&server, "devices", &export.text(), false).await;
    assert_eq!(again["unchanged"], 3, "{again}");
    let users = server
        .api(Method::GET, "/api/v1/export/users", None)
        .await
        .text();
    assert!(
        !users.contains("alice-secret-0001"),
        "no secrets without ?secrets=true"
    );
    assert!(
        users.contains("'=HYPERLINK") && users.contains("'-minus"),
        "{users}"
    );
    let with_secrets = server
        .api(Method::GET, "/api/v1/export/users?secrets=true", None)
        .await
        .text();
    assert!(with_secrets.contains("alice-secret-0001"));
    assert_eq!(
        import(&server, "users", &with_secrets, false).await["unchanged"],
        3
    );
    assert_eq!(snapshot(&server).await, before);
    let vvx = server
        .ok(Method::GET, "/api/v1/devices/0004f2000001", None)
        .await;
    assert_eq!(vvx["claimed"], true);

    // Bad rows: nothing registered, each row explained.
    let bad = "mac,model,profile,lines\n\
        001565000009,T46S,,1:1001\n\
        001565000010,T99,,\n\
        001565000011,,nowhere,\n\
        001565000012,T46S,,99:1001\n\
        001565000013,T46S,,1:4040\n\
        not-a-mac,,,\n";
    let failed = import(&server, "devices", bad, false).await;
    assert_eq!(failed["state"], "failed");
    let rows: Vec<u64> = failed["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["row"].as_u64().unwrap())
        .collect();
    assert_eq!(rows, [3, 4, 5, 6, 7], "{failed}");
    assert_eq!(snapshot(&server).await, before);
    let reply = server.api(Method::GET, "/api/v1/export/phones", None).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
}
