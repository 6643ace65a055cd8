//! Administration through the API: users with names, languages and free extensions, locking and
//! bulk changes, device filters and bulk registration, settings inherited default → profile →
//! model → device, template reloads, CSV import and export, and the OpenAPI document against
//! the real routes. Every refusal is checked to have changed nothing.

use std::collections::BTreeSet;

use http::StatusCode;
use serde_json::{Value, json};

use crate::api::{AdminApi, Call, DeviceFilter, NewUser};
use crate::helpers::*;
use crate::kv;

async fn start() -> TestServer {
    TestServer::start_with(|c| c.users.extension_ranges = vec!["2000-2002".into(), "30-31".into()])
        .await
}

/// The state an admin sees, to prove a refused request changed nothing.
async fn snapshot(api: &AdminApi<'_>) -> Value {
    let mut state = serde_json::Map::new();
    for (name, list) in [
        ("users", api.list_users()),
        ("devices", api.list_devices()),
        ("profiles", api.list_profiles()),
        ("settings", api.settings()),
    ] {
        state.insert(name.into(), list.ok().await);
    }
    Value::Object(state)
}

/// Sends `call`, which must be refused with `status` and change nothing; its error message.
async fn refused(api: &AdminApi<'_>, call: Call<'_>, status: StatusCode) -> String {
    let before = snapshot(api).await;
    let shown = call.to_string();
    let reply = call.await;
    assert_eq!(reply.status, status, "{shown}: {}", reply.text());
    assert_eq!(snapshot(api).await, before, "{shown} changed something");
    reply.json()["error"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_get_free_extensions_names_and_languages() {
    let server = start().await;
    let api = server.admin_api();
    let next = api.next_extension().ok().await;
    assert_eq!(next["extension"], "2000");
    api.create_user(NewUser::new("2001", "Taken")).ok().await;
    let zoe = NewUser::default()
        .first_name("Zoë")
        .last_name("Durand")
        .language("FR");
    let created = api.create_user(zoe).ok().await;
    assert_eq!(created["extension"], "2000");
    assert_eq!(created["display_name"], "Zoë Durand");
    assert_eq!(created["language"], "fr");
    assert_eq!(created["sip_user"], "2000");
    // The ranges are used in order, with the second one's two digits.
    for expected in ["2002", "30", "31"] {
        let user = api
            .create_user(NewUser::default().first_name("Next"))
            .ok()
            .await;
        assert_eq!(user["extension"], expected);
    }
    let error = refused(
        &api,
        api.create_user(json!({"first_name": "Nobody"})),
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
        let error = refused(&api, api.create_user(body.clone()), status).await;
        assert!(error.contains(says), "{body}: {error}");
    }

    let changed = api
        .patch_user(
            "2000",
            json!({"last_name": null, "language": "de", "first_name": "Zoe"}),
        )
        .ok()
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
    let api = server.admin_api();
    let carol = NewUser::new("1003", "Carol").sip_password("carol-secret-0003");
    api.create_user(carol).ok().await;
    api.assign(T46S_MAC, 2, "1002").ok().await;
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
    api.lock_user("1001").ok().await;
    let locked = config(&server).await;
    assert_eq!(locked["account.1.enable"], "0");
    assert!(!locked.values().any(|v| v == "alice-secret-0001"));
    api.unlock_user("1001").ok().await;
    assert_eq!(
        config(&server).await["account.1.password"],
        "alice-secret-0001"
    );

    // One unknown extension: nothing is locked.
    let error = refused(
        &api,
        api.bulk_users("lock", &["1001", "1002", "1999"]),
        StatusCode::NOT_FOUND,
    )
    .await;
    assert!(
        error.contains("1999") && error.contains("nothing was changed"),
        "{error}"
    );
    for (action, extensions) in [("explode", &["1001"][..]), ("lock", &[]), ("lock", &["x"])] {
        refused(
            &api,
            api.bulk_users(action, extensions),
            StatusCode::BAD_REQUEST,
        )
        .await;
    }

    api.bulk_users("lock", &["1001", "1002"]).ok().await;
    let users = api.list_users().ok().await;
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

    api.bulk_users("unlock", &["1001", "1002"]).ok().await;
    api.bulk_users("delete", &["1002", "1003"]).ok().await;
    let device = api.show_device(T46S_MAC).ok().await;
    assert_eq!(device["lines"], json!([{"line": 1, "user": "1001"}]));
    let reply = api.show_user("1003").await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn devices_register_in_bulk_and_list_by_filter() {
    let server = TestServer::start().await;
    server.seed_desk_phone().await;
    let api = server.admin_api();
    api.create_profile(json!({"name": "floor-2", "settings": {"language": "de"}}))
        .ok()
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
        let error = refused(&api, api.create_devices(bulk(devices.clone())), status).await;
        assert!(error.contains(says), "{devices}: {error}");
    }
    let registered = api
        .create_devices(bulk(json!([
            {"mac": "001565000001", "model": "T46S", "location": "Building A, floor 2", "profile": "floor-2", "hotdesk": true},
            {"mac": "0004f2000002", "model": "VVX400", "location": "Building B"},
        ])))
        .ok()
        .await;
    assert_eq!(registered.as_array().unwrap().len(), 2);
    assert_eq!(registered[0]["location"], "Building A, floor 2");
    assert_eq!(registered[0]["profile"], "floor-2");
    let error = refused(
        &api,
        api.create_device(json!({"mac": "00-15-65-00-00-01"})),
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
    wait_until_listed(&api, &["001565000003"]).await;
    api.adopt("001565000003").ok().await;

    server.clock.advance(40 * 86_400);
    // Only a request that proves to be the phone makes it seen.
    let (user, password) = server.credentials(T46S_MAC).await;
    let auth = basic(&user, &password);
    let own = server
        .phone_get_with(
            &format!("/{T46S_MAC}.cfg"),
            &[("user-agent", T46S_UA), ("authorization", &auth)],
        )
        .await;
    assert_eq!(own.status, StatusCode::OK);

    let macs = async |filter: DeviceFilter| -> BTreeSet<String> {
        let list = api.list_devices_where(filter).ok().await;
        list.as_array()
            .unwrap()
            .iter()
            .map(|d| d["mac"].as_str().unwrap().replace(':', ""))
            .collect()
    };
    let set = |macs: &[&str]| macs.iter().map(|m| m.to_string()).collect::<BTreeSet<_>>();
    let all = DeviceFilter::default;
    assert_eq!(macs(all()).await.len(), 4);
    assert_eq!(
        macs(all().unassigned(true)).await,
        set(&["001565000001", "0004f2000002", "001565000003"])
    );
    assert_eq!(macs(all().unassigned(false)).await, set(&[T46S_MAC]));
    assert_eq!(macs(all().hotdesk(true)).await, set(&["001565000001"]));
    assert_eq!(
        macs(all().auto_registered(true)).await,
        set(&["001565000003"])
    );
    assert_eq!(macs(all().model("t54w")).await, set(&["001565000003"]));
    assert_eq!(macs(all().profile("floor-2")).await, set(&["001565000001"]));
    assert_eq!(
        macs(all().location("building b")).await,
        set(&["0004f2000002"])
    );
    // Seen 40 days ago or never; the T46S asked just now.
    assert_eq!(
        macs(all().not_seen_days(30)).await,
        set(&["001565000001", "0004f2000002", "001565000003"])
    );
    assert_eq!(
        macs(all().unassigned(true).model("T46S")).await,
        set(&["001565000001"])
    );
    for bad in ["hotdesk=maybe", "not_seen_days=-1", "colour=red"] {
        let reply = api.list_devices().query(bad).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{bad}");
    }

    // Location and profile are edited and cleared like the label.
    let edited = api
        .patch_device("001565000001", json!({"location": null, "profile": null}))
        .ok()
        .await;
    assert_eq!(
        (edited["location"].clone(), edited["profile"].clone()),
        (Value::Null, Value::Null)
    );
    refused(
        &api,
        api.patch_device("001565000001", json!({"profile": "nope"})),
        StatusCode::BAD_REQUEST,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_are_inherited_and_shown_with_their_origin() {
    let server = TestServer::start().await;
    server.seed_desk_phone().await;
    let api = server.admin_api();
    api.patch_settings(json!({"ntp_server": "ntp.example.com", "time_zone": "Europe/London", "phone_admin_password": "site-admin-pw-1"}))
        .ok()
        .await;
    crate::logs::remember_secret("site-admin-pw-1");
    api.create_profile(json!({"name": "branch", "description": "Branch office", "settings": {"sip_server": "branch.example.com", "time_zone": "Europe/Berlin", "language": "de"}}))
        .ok()
        .await;
    api.patch_model_settings(
        "t46s",
        json!({"language": "fr", "firmware_url": "https://fw.example.com/t46s/", "firmware_file": "66.86.0.15.rom"}),
    )
    .ok()
    .await;
    api.patch_device(T46S_MAC, json!({"profile": "branch"}))
        .ok()
        .await;
    let own = api
        .patch_device_settings(T46S_MAC, json!({"outbound_proxy": "proxy.example.com:5070", "phone_admin_password": "device-admin-pw-2"}))
        .ok()
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
    let settings = api.settings().ok().await;
    assert_eq!(settings["phone_admin_password"], "[set]");

    // The phone gets exactly the effective values.
    let rendered = api.render(T46S_MAC).await;
    let text = rendered.text();
    assert!(
        text.contains("branch.example.com") && !text.contains("pbx.example.com"),
        "{text}"
    );
    assert!(text.contains("device-admin-pw-2") && !text.contains("site-admin-pw-1"));
    // Yealink names the firmware file in the model's directory (static.firmware.url).
    assert!(
        text.contains("proxy.example.com")
            && text.contains("https://fw.example.com/t46s/66.86.0.15.rom")
    );

    // Removing the device's own value falls back to the next layer.
    let back = api
        .patch_device_settings(T46S_MAC, json!({"phone_admin_password": null}))
        .ok()
        .await;
    assert_eq!(
        back["effective"]["phone_admin_password"]["from"],
        json!({"level": "default"})
    );
    let text = api.render(T46S_MAC).await.text();
    assert!(text.contains("site-admin-pw-1"));

    // Bad input changes nothing.
    for (call, says) in [
        (
            api.patch_device_settings(T46S_MAC, json!({"utc_offset": "+01:00"})),
            "site-wide",
        ),
        (
            api.patch_device_settings(T46S_MAC, json!({"time_zone": "Mars/Olympus"})),
            "time_zone",
        ),
        (
            api.patch_device_settings(T46S_MAC, json!({"sip_port": 0})),
            "sip_port",
        ),
        (
            api.patch_device_settings(T46S_MAC, json!({"colour": "red"})),
            "unknown setting",
        ),
        (
            api.patch_model_settings("T46S", json!({"firmware_url": "ftp://x/"})),
            "firmware_url",
        ),
        (
            api.patch_settings(json!({"outbound_proxy": "a b"})),
            "outbound_proxy",
        ),
        (
            api.create_profile(json!({"name": "branch"})),
            "already exists",
        ),
        (api.create_profile(json!({"name": "no spaces"})), "profile"),
        (
            api.patch_profile("branch", json!({"settings": {"language": "xx"}})),
            "language",
        ),
    ] {
        let before = api.device_settings(T46S_MAC).ok().await;
        let shown = call.to_string();
        let reply = call.await;
        assert!(reply.status.is_client_error(), "{shown}: {}", reply.status);
        assert!(
            reply.json()["error"].as_str().unwrap().contains(says),
            "{shown}: {}",
            reply.text()
        );
        assert_eq!(api.device_settings(T46S_MAC).ok().await, before);
    }
    let reply = api
        .patch_model_settings("T99", json!({"language": "de"}))
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);

    // A profile in use cannot be deleted; unused, it can.
    let error = refused(&api, api.delete_profile("branch"), StatusCode::CONFLICT).await;
    assert!(error.contains("1 devices use"), "{error}");
    api.patch_device(T46S_MAC, json!({"profile": null}))
        .ok()
        .await;
    api.delete_profile("branch").ok().await;

    let choices = api.setting_choices().ok().await;
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
    let api = server.admin_api();
    api.patch_settings(json!({"language": "de"})).ok().await;
    let language = async || {
        let text = api.render(T46S_MAC).await.text();
        kv::parse(&text).unwrap()["lang.gui"].clone()
    };
    assert_eq!(language().await, "German");
    api.patch_user("1001", json!({"language": "fr"})).ok().await;
    assert_eq!(language().await, "French");
    api.patch_user("1001", json!({"language": null})).ok().await;
    assert_eq!(language().await, "German");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn templates_reload_from_the_override_directory_without_a_restart() {
    let overrides = tempfile::tempdir().unwrap();
    let dir = overrides.path().to_path_buf();
    override_template(&dir, "first edition");
    let server = TestServer::start_with(|c| c.server.templates_dir = Some(dir.clone())).await;
    server.seed_desk_phone().await;
    let api = server.admin_api();
    let rendered = async || api.render(T46S_MAC).await.text();
    assert!(rendered().await.contains("first edition"));
    let list = api.list_templates().ok().await;
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
    let reloaded = api.reload_templates().ok().await;
    assert_eq!(reloaded["overrides"], 1);
    assert!(rendered().await.contains("second edition"));

    // A broken template is refused with its file and line; the templates in use stay.
    std::fs::write(
        dir.join("yealink/desk.cfg.hbs"),
        "#!version:1.0.0.1\n{{#if lines}}\n",
    )
    .unwrap();
    let reply = api.reload_templates().await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(
        reply.text().contains("yealink/desk.cfg.hbs"),
        "{}",
        reply.text()
    );
    assert!(rendered().await.contains("second edition"));
    std::fs::write(
        dir.join("yealink/desk.cfg.hbs"),
        "{{{provisioning.password}}}\n",
    )
    .unwrap();
    let reply = api.reload_templates().await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(rendered().await.contains("second edition"));
}

const USERS_CSV: &str = "extension,first_name,last_name,email,language,sip_password,pin,may_hotdesk\n\
    3001,Ada,Lovelace,ada@example.com,en,ada-secret-0000001,428613,true\n\
    3002,\"Grace, Rear Admiral\",Hopper,,de,,,false\n\
    3003,Alan,Turing,,,turing-secret-00003,,\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csv_imports_are_all_or_nothing_and_idempotent() {
    let server = TestServer::start().await;
    let api = server.admin_api();
    for secret in ["ada-secret-0000001", "turing-secret-00003", "428613"] {
        crate::logs::remember_secret(secret);
    }
    // A dry run checks and changes nothing.
    let checked = api.import_to_end("users", USERS_CSV, true).await;
    assert_eq!(checked["state"], "checked", "{checked}");
    assert_eq!(checked["created"], 3);
    assert_eq!(api.list_users().ok().await, json!([]));

    let done = api.import_to_end("users", USERS_CSV, false).await;
    assert_eq!(done["state"], "done", "{done}");
    assert_eq!(
        (done["created"].clone(), done["checked"].clone()),
        (json!(3), json!(3))
    );
    let grace = api.show_user("3002").ok().await;
    assert_eq!(grace["display_name"], "Grace, Rear Admiral Hopper");
    assert_eq!(grace["may_hotdesk"], false);
    assert_eq!(api.show_user("3001").ok().await["has_pin"], true);
    let sip = api.sip_password("3003").ok().await;
    assert_eq!(sip["sip_password"], "turing-secret-00003");

    // The same file again changes nothing, PIN and password included.
    let before = snapshot(&api).await;
    let again = api.import_to_end("users", USERS_CSV, false).await;
    assert_eq!(
        (
            again["unchanged"].clone(),
            again["created"].clone(),
            again["updated"].clone()
        ),
        (json!(3), json!(0), json!(0)),
        "{again}"
    );
    assert_eq!(snapshot(&api).await, before);

    // One bad row: a report of every bad row, and nothing changed.
    let bad = "extension,first_name,language,pin\n\
        3001,Ada Augusta,,\n\
        3004,New,,\n\
        30x5,Broken,,\n\
        3006,Klingon,tlh,\n\
        3004,Twice,,\n\
        3007,Weak,,1234\n";
    let failed = api.import_to_end("users", bad, false).await;
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
    assert_eq!(snapshot(&api).await, before);

    // A malformed file is refused at once.
    for (csv, says) in [
        ("extension,colour\n3001,red\n", "unknown column"),
        ("first_name\nAda\n", "\"extension\" is required"),
        ("extension,first_name\n3001,Ada,extra\n", "line 2"),
        ("extension,first_name\n", "no rows"),
    ] {
        let reply = api.import("users", csv, false).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{csv}");
        let error = reply.json()["error"].as_str().unwrap().to_string();
        assert!(error.contains(says), "{csv}: {error}");
    }
    assert_eq!(snapshot(&api).await, before);

    // An update through CSV: an empty cell keeps a value, "-" clears it.
    let update = api
        .import_to_end(
            "users",
            "extension,email,language,locked\n3001,,-,true\n",
            false,
        )
        .await;
    assert_eq!(update["updated"], 1, "{update}");
    let ada = api.show_user("3001").ok().await;
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
    let api = server.admin_api();
    api.create_profile(json!({"name": "hq"})).ok().await;
    // Cells a spreadsheet would run as formulas are exported defused and imported back intact.
    let formulas = NewUser::new("1003", "=HYPERLINK(\"http://evil\")").last_name("-minus");
    api.create_user(formulas).ok().await;
    let csv = "mac,model,label,location,profile,hotdesk,lines\n\
        00:04:f2:00:00:01,VVX400,Desk 1,\"Floor 1, east\",hq,false,1:1001 2:1002\n\
        001565000002,T46S,,,,true,2:1002\n\
        00-15-65-AA-BB-CC,,Reception,,,,\n";
    let done = api.import_to_end("devices", csv, false).await;
    assert_eq!(done["state"], "done", "{done}");
    assert_eq!(
        (done["created"].clone(), done["updated"].clone()),
        (json!(2), json!(1))
    );
    let vvx = api.show_device("0004f2000001").ok().await;
    assert_eq!(
        vvx["lines"],
        json!([{"line": 1, "user": "1001"}, {"line": 2, "user": "1002"}])
    );
    assert_eq!(vvx["location"], "Floor 1, east");
    let t46s = api.show_device(T46S_MAC).ok().await;
    assert_eq!(t46s["label"], "Reception");
    assert_eq!(
        t46s["lines"],
        json!([{"line": 1, "user": "1001"}]),
        "an empty lines cell keeps them"
    );

    // The phone claims its config; the export imports back with nothing to change, and leaves what
    // the phone wrote.
    let claimed = server
        .phone_get(
            "/0004f2000001-deskprov.cfg",
            "FileTransport PolycomVVX-VVX_400-UA/4.1.4.7430 Type/Application",
        )
        .await;
    assert_eq!(claimed.status, StatusCode::OK);
    let export = api.export("devices", false).await;
    assert_eq!(export.status, StatusCode::OK);
    assert!(export.text().starts_with(
        "mac,model,label,location,profile,hotdesk,certificate_required,expansion_modules,lines\n"
    ));
    let before = snapshot(&api).await;
    let again = api.import_to_end("devices", &export.text(), false).await;
    assert_eq!(again["unchanged"], 3, "{again}");
    let users = api.export("users", false).await.text();
    assert!(
        !users.contains("alice-secret-0001"),
        "no secrets without ?secrets=true"
    );
    assert!(
        users.contains("'=HYPERLINK") && users.contains("'-minus"),
        "{users}"
    );
    let with_secrets = api.export("users", true).await.text();
    assert!(with_secrets.contains("alice-secret-0001"));
    assert_eq!(
        api.import_to_end("users", &with_secrets, false).await["unchanged"],
        3
    );
    assert_eq!(snapshot(&api).await, before);
    let vvx = api.show_device("0004f2000001").ok().await;
    assert_eq!(vvx["claimed"], true);

    // Bad rows: nothing registered, each row explained.
    let bad = "mac,model,profile,lines\n\
        001565000009,T46S,,1:1001\n\
        001565000010,T99,,\n\
        001565000011,,nowhere,\n\
        001565000012,T46S,,99:1001\n\
        001565000013,T46S,,1:4040\n\
        not-a-mac,,,\n";
    let failed = api.import_to_end("devices", bad, false).await;
    assert_eq!(failed["state"], "failed");
    let rows: Vec<u64> = failed["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["row"].as_u64().unwrap())
        .collect();
    assert_eq!(rows, [3, 4, 5, 6, 7], "{failed}");
    assert_eq!(snapshot(&api).await, before);
    let reply = api.export("phones", false).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_jobs_are_listed_with_their_state_and_counts_after_a_restart() {
    let mut server = TestServer::start().await;
    for secret in ["ada-secret-0000001", "turing-secret-00003", "428613"] {
        crate::logs::remember_secret(secret);
    }
    let api = server.admin_api();
    let checked = api.import_to_end("users", USERS_CSV, true).await;
    let done = api.import_to_end("users", USERS_CSV, false).await;
    let failed = api
        .import_to_end("users", "extension,first_name\n30x1,Broken\n", false)
        .await;
    assert_eq!(
        [&checked["state"], &done["state"], &failed["state"]],
        ["checked", "done", "failed"]
    );

    server.restart_with(|_| {}).await;
    let api = server.admin_api();
    let listed = api.list_imports().ok().await;
    let summary: Vec<(String, String, Value, Value)> = listed
        .as_array()
        .unwrap_or_else(|| panic!("{listed}"))
        .iter()
        .map(|j| {
            (
                j["id"].as_str().unwrap().to_string(),
                j["state"].as_str().unwrap().to_string(),
                j["created"].clone(),
                j["rows"].clone(),
            )
        })
        .collect();
    let id = |job: &Value| job["id"].as_str().unwrap().to_string();
    assert_eq!(
        summary,
        [
            (id(&failed), "failed".into(), json!(0), json!(1)),
            (id(&done), "done".into(), json!(3), json!(3)),
            (id(&checked), "checked".into(), json!(3), json!(3)),
        ],
        "{listed}"
    );
    let shown = api.show_import(&id(&failed)).ok().await;
    assert_eq!(shown["errors"][0]["row"], 2, "{shown}");
    assert_eq!(shown["subject"], "users");
    // A new import after the restart does not reuse an id.
    let next = api.import_to_end("users", USERS_CSV, true).await;
    assert!(
        next["id"].as_str().unwrap().parse::<u64>().unwrap() > id(&failed).parse::<u64>().unwrap(),
        "{next}"
    );
}
