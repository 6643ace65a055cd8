//! Programmable keys through the admin API: layers inherited site → profile → model → device
//! → the logged-in user, each position set, replaced or cleared; a model's capacity and its
//! expansion modules; clear refusals that change nothing.

use http::StatusCode;
use serde_json::{Value, json};

use crate::api::{NewDevice, NewUser};
use crate::helpers::*;

pub(crate) const DESK: &str = "001565000a01";

pub(crate) async fn office() -> TestServer {
    let server = TestServer::start().await;
    let api = server.admin_api();
    for (extension, name) in [("1001", "Alice Example"), ("1002", "Bob Example")] {
        api.create_user(NewUser::new(extension, name)).ok().await;
    }
    api.create_profile(json!({"name": "sales"})).ok().await;
    api.create_device(NewDevice::new(DESK).model("T46S"))
        .ok()
        .await;
    api.patch_device(DESK, json!({"profile": "sales"}))
        .ok()
        .await;
    api.assign(DESK, 1, "1001").ok().await;
    server
}

/// `position type value label origin` of each effective key, for one readable comparison.
fn summary(keys: &Value) -> Vec<String> {
    keys.as_array()
        .unwrap()
        .iter()
        .map(|k| {
            let at = match k.get("module") {
                Some(m) => format!("m{m}.{}", k["position"]),
                None => k["position"].to_string(),
            };
            let origin = &k["origin"];
            let from = match origin.get("name") {
                Some(name) => format!(
                    "{}:{}",
                    origin["layer"].as_str().unwrap(),
                    name.as_str().unwrap()
                ),
                None => origin["layer"].as_str().unwrap().to_string(),
            };
            let beyond = if k["beyond_capacity"] == true {
                " BEYOND"
            } else {
                ""
            };
            format!(
                "{at} {} {} {} {from}{beyond}",
                k["type"].as_str().unwrap(),
                k["value"].as_str().unwrap_or("-"),
                k["label"].as_str().unwrap_or("-"),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn layers_are_inherited_position_by_position_with_where_each_key_came_from() {
    let server = office().await;
    let api = server.admin_api();
    api.set_keys(
        "settings",
        None,
        json!([
            {"position": 2, "type": "blf", "value": "1002"},
            {"position": 3, "type": "speed_dial", "value": "+4930123456", "label": "Reception"},
            {"position": 4, "type": "dnd"},
        ]),
    )
    .ok()
    .await;
    api.set_keys(
        "profiles",
        Some("sales"),
        json!([{"position": 3, "type": "park", "value": "700"}]),
    )
    .ok()
    .await;
    api.set_keys(
        "models",
        Some("t46s"),
        json!([{"position": 5, "type": "voicemail"}]),
    )
    .ok()
    .await;
    let own = api
        .set_keys(
            "devices",
            Some(DESK),
            json!([{"position": 4, "type": "none"}, {"position": 6, "type": "url", "value": "https://intranet.example.com/menu.xml", "label": "Menu", "line": 1}]),
        )
        .ok()
        .await;
    assert_eq!(own[0], json!({"position": 4, "type": "none", "line": 1}));
    let keys = api.effective_keys(DESK).ok().await;
    assert_eq!(
        summary(&keys),
        [
            "1 line - - default",
            "2 blf 1002 Bob Example site",
            "3 park 700 - profile:sales",
            "5 voicemail - - model:T46S",
            "6 url https://intranet.example.com/menu.xml Menu device",
        ]
    );
    // The device's own layer is what was stored; `[]` clears it.
    assert_eq!(
        api.keys("devices", Some(DESK))
            .ok()
            .await
            .as_array()
            .unwrap()
            .len(),
        2
    );
    api.set_keys("devices", Some(DESK), json!([])).ok().await;
    assert_eq!(api.keys("devices", Some(DESK)).ok().await, json!([]));
    let keys = api.effective_keys(DESK).ok().await;
    assert!(summary(&keys).contains(&"4 dnd - - site".to_string()));
    // Every change is in the audit trail under its subject.
    let changes = api
        .list_audit(crate::api::AuditFilter::kind("admin_change").subject(DESK))
        .ok()
        .await;
    let details: Vec<&str> = changes
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["detail"].as_str())
        .collect();
    assert!(
        details.iter().any(|d| d.contains("keys set: 2 keys")),
        "{details:?}"
    );
    assert!(
        details.iter().any(|d| d.contains("keys cleared")),
        "{details:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_beyond_the_model_are_refused_until_a_module_takes_them() {
    let server = office().await;
    let api = server.admin_api();
    let forty: Vec<Value> = (1..=40)
        .map(|p| json!({"position": p, "type": "speed_dial", "value": format!("{}", 2000 + p)}))
        .collect();
    let refused = api
        .set_keys("devices", Some(DESK), Value::Array(forty.clone()))
        .fails(StatusCode::BAD_REQUEST)
        .await;
    let error = refused["error"].as_str().unwrap();
    assert!(
        error.contains("T46S")
            && error.contains("27 keys")
            && error.contains("no expansion module attached"),
        "{error}"
    );
    assert_eq!(
        api.keys("devices", Some(DESK)).ok().await,
        json!([]),
        "nothing changed"
    );

    // Attached, a module takes keys 28 to 40, in order.
    api.patch_device(DESK, json!({"expansion_modules": 1}))
        .ok()
        .await;
    api.set_keys("devices", Some(DESK), Value::Array(forty))
        .ok()
        .await;
    let keys = api.effective_keys(DESK).ok().await;
    let keys = keys.as_array().unwrap();
    assert_eq!(keys.len(), 40);
    assert!(keys.iter().all(|k| k["beyond_capacity"].is_null()));
    let on_module: Vec<_> = keys.iter().filter(|k| k["module"] == 1).collect();
    assert_eq!(on_module.len(), 13);
    assert_eq!(on_module[0]["position"], 1);
    assert_eq!(on_module[0]["value"], "2028");

    // Taking the module away, or a model with fewer keys, is refused while the keys need it.
    let refused = api
        .patch_device(DESK, json!({"expansion_modules": 0}))
        .fails(StatusCode::BAD_REQUEST)
        .await;
    assert!(
        refused["error"].as_str().unwrap().contains("keys"),
        "{refused}"
    );
    let refused = api
        .patch_device(DESK, json!({"model": "T41S"}))
        .fails(StatusCode::BAD_REQUEST)
        .await;
    assert!(
        refused["error"].as_str().unwrap().contains("T41S"),
        "{refused}"
    );
    let device = api.show_device(DESK).ok().await;
    assert_eq!(
        (device["model"].clone(), device["expansion_modules"].clone()),
        (json!("T46S"), json!(1))
    );
    let refused = api
        .patch_device(DESK, json!({"expansion_modules": 7}))
        .fails(StatusCode::BAD_REQUEST)
        .await;
    assert!(
        refused["error"].as_str().unwrap().contains("at most 6"),
        "{refused}"
    );

    // A model's own layer may use every module the model takes, no more.
    let beyond: Vec<Value> = (1..=41)
        .map(|p| json!({"module": 6, "position": p, "type": "dnd"}))
        .collect();
    let refused = api
        .set_keys("models", Some("T46S"), Value::Array(beyond))
        .fails(StatusCode::BAD_REQUEST)
        .await;
    assert!(
        refused["error"]
            .as_str()
            .unwrap()
            .contains("module 6 key 41"),
        "{refused}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_keys_are_refused_with_the_reason_and_change_nothing() {
    let server = office().await;
    let api = server.admin_api();
    let before = api.keys("settings", None).ok().await;
    for (keys, reason) in [
        (json!([{"position": 1, "type": "blf"}]), "needs a value"),
        (
            json!([{"position": 1, "type": "teleport"}]),
            "must be one of",
        ),
        (
            json!([{"position": 2, "type": "dnd"}, {"position": 2, "type": "dnd"}]),
            "given twice",
        ),
        (json!([{"position": 0, "type": "dnd"}]), "position"),
        (json!({"position": 1}), "invalid JSON body"),
    ] {
        let refused = api
            .set_keys("settings", None, keys.clone())
            .fails(StatusCode::BAD_REQUEST)
            .await;
        let error = refused["error"].as_str().unwrap();
        assert!(error.contains(reason), "{keys}: {error}");
    }
    assert_eq!(api.keys("settings", None).ok().await, before);
    api.keys("profiles", Some("nobody"))
        .fails(StatusCode::NOT_FOUND)
        .await;
    api.set_keys("models", Some("T99X"), json!([]))
        .fails(StatusCode::NOT_FOUND)
        .await;
}

/// Ten keys of mixed types on the phone and two on its expansion module, rendered into the
/// T46S's file and parsed back: each key type's Yealink code (FusionPBX
/// `app/devices/resources/classes/yealink.php` and Tancredi `data/templates/yealink.macros`
/// agree), `linekey.N` on the phone and `expansion_module.X.key.Y` on the module
/// (wazo-provd-plugins `plugins/wazo_yealink/v86/common.py`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_yealink_gets_every_key_type_in_its_own_codes() {
    let server = office().await;
    let api = server.admin_api();
    api.patch_device(DESK, json!({"expansion_modules": 1}))
        .ok()
        .await;
    let types = [
        ("blf", Some("1002"), 16),
        ("speed_dial", Some("+4930123456"), 13),
        ("dtmf", Some("*21#"), 11),
        ("park", Some("700"), 10),
        ("pickup", Some("1002"), 9),
        ("group_pickup", None, 23),
        ("intercom", Some("1002"), 14),
        ("transfer", Some("1003"), 3),
        ("voicemail", None, 12),
        ("dnd", None, 5),
        ("forward", Some("0301234"), 2),
        ("conference", None, 1),
        ("url", Some("https://intranet.example.com/phone.xml"), 27),
    ];
    let mut keys: Vec<Value> = Vec::new();
    for (i, (kind, value, _)) in types.iter().enumerate() {
        let at = if i < 11 {
            json!({"position": i + 2})
        } else {
            json!({"module": 1, "position": i - 10})
        };
        let mut key = at.as_object().unwrap().clone();
        key.insert("type".into(), json!(kind));
        if let Some(value) = value {
            key.insert("value".into(), json!(value));
        }
        keys.push(Value::Object(key));
    }
    api.set_keys("devices", Some(DESK), Value::Array(keys))
        .ok()
        .await;
    let (user, password) = server.credentials(DESK).await;
    let reply = server
        .phone_get_with(
            &format!("/{DESK}.cfg"),
            &[("authorization", &basic(&user, &password))],
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let config = crate::kv::parse(&reply.text()).unwrap();
    let key = |prefix: &str, field: &str| config.get(&format!("{prefix}.{field}")).cloned();
    assert_eq!(
        key("linekey.1", "type").as_deref(),
        Some("15"),
        "line 1 keeps key 1"
    );
    assert_eq!(key("linekey.1", "line").as_deref(), Some("1"));
    for (i, (kind, value, code)) in types.iter().enumerate() {
        let prefix = if i < 11 {
            format!("linekey.{}", i + 2)
        } else {
            format!("expansion_module.1.key.{}", i - 10)
        };
        assert_eq!(
            key(&prefix, "type"),
            Some(code.to_string()),
            "{kind} at {prefix}"
        );
        assert_eq!(
            key(&prefix, "value").as_deref(),
            Some(value.unwrap_or("%NULL%")),
            "{kind} at {prefix}"
        );
    }
    // A colleague's keys show their name; others show none.
    assert_eq!(key("linekey.2", "label").as_deref(), Some("Bob Example"));
    assert_eq!(key("linekey.3", "label").as_deref(), Some("%NULL%"));
    // Keys deskprov no longer sends revert to the phone's defaults (overwrite_mode).
    api.set_keys("devices", Some(DESK), json!([])).ok().await;
    let reply = server
        .phone_get_with(
            &format!("/{DESK}.cfg"),
            &[("authorization", &basic(&user, &password))],
        )
        .await;
    let config = crate::kv::parse(&reply.text()).unwrap();
    assert!(
        !config
            .keys()
            .any(|k| k.starts_with("linekey.") || k.starts_with("expansion_module.")),
        "no layer sets a key: none are written"
    );
}

/// A T54W with two lines and ten keys of mixed types over the phone and an EXP50, byte for byte.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_yealink_with_ten_keys_and_a_module_matches_its_golden_file() {
    const T54W: &str = "001565aabb54";
    // A fixed URL and SIP passwords: the golden file's bytes do not change from run to run.
    let server = TestServer::start_with(|c| {
        c.server.public_url = Some("https://prov.example.com:8443/".into())
    })
    .await;
    let api = server.admin_api();
    for (extension, name) in [("1001", "Alice Example"), ("1002", "Bob Example")] {
        let user = NewUser::new(extension, name).sip_password(&format!("secret-{extension}"));
        api.create_user(user).ok().await;
    }
    api.create_device(NewDevice::new(T54W).model("T54W"))
        .ok()
        .await;
    api.patch_device(T54W, json!({"expansion_modules": 1}))
        .ok()
        .await;
    api.assign(T54W, 1, "1001").ok().await;
    api.assign(T54W, 2, "1002").ok().await;
    api.set_keys(
        "devices",
        Some(T54W),
        json!([
            {"position": 3, "type": "blf", "value": "1002", "line": 1},
            {"position": 4, "type": "speed_dial", "value": "+4930123456", "label": "Reception"},
            {"position": 5, "type": "park", "value": "700", "line": 2},
            {"position": 6, "type": "dnd"},
            {"position": 7, "type": "pickup", "value": "1002"},
            {"position": 8, "type": "url", "value": "https://intranet.example.com/menu.xml?a=1&b=2", "label": "Menu"},
            {"position": 9, "type": "voicemail"},
            {"position": 27, "type": "intercom", "value": "1002", "label": "Bob <& Co>"},
            {"module": 1, "position": 1, "type": "blf", "value": "1001"},
            {"module": 1, "position": 60, "type": "dtmf", "value": "*21#", "label": "Last"},
        ]),
    )
    .ok()
    .await;
    let (user, password) = server.credentials(T54W).await;
    let reply = server
        .phone_get_with(
            &format!("/{T54W}.cfg"),
            &[("authorization", &basic(&user, &password))],
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    crate::golden::check(
        &format!("yealink/{T54W}-t54w-keys.cfg"),
        &reply.text(),
        Some(&password),
    );
}
