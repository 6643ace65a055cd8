//! Cisco MPP programmable keys as the phone gets them: `Extension_N_` (the line, or `Disabled`),
//! `Short_Name_N_` and `Extended_Function_N_` on the phone, `Unit_X_Key_Y_` on a key expansion
//! module, parsed back with quick-xml (`xmlflat`); a golden file.

use std::collections::BTreeMap;

use http::StatusCode;
use serde_json::{Value, json};

use crate::api::{NewDevice, NewUser};
use crate::helpers::*;
use crate::xmlflat;

const DESK: &str = "d0ec35aabbcd";
const DESK_FILE: &str = "/cisco-d0ec35aabbcd.xml";

async fn office(device: NewDevice) -> TestServer {
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
    api.create_device(device).ok().await;
    api.patch_device(DESK, json!({"expansion_modules": 1}))
        .ok()
        .await;
    server
}

async fn fetch_config(server: &TestServer) -> (String, String) {
    let (user, password) = server.credentials(DESK).await;
    let reply = server
        .phone_get_with(DESK_FILE, &[("authorization", &basic(&user, &password))])
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    (reply.text(), password)
}

fn flat(text: &str) -> BTreeMap<String, String> {
    xmlflat::flatten(text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn get<'a>(config: &'a BTreeMap<String, String>, name: &str) -> Option<&'a str> {
    config
        .get(&format!("flat-profile/{name}"))
        .map(String::as_str)
}

/// Every key type on an 8851 and on its key expansion module, each with the `fnc=` text Cisco's
/// parameter reference and KEM/BLF pages give (`blf+sd+cp`, `prk`, `xml`, `blf+cp`) and
/// wazo-provd-plugins writes (`plugins/wazo_cisco_sip/v12_0_1/common.py`: `sd;ext=`,
/// `Extension_N_` Disabled, `Unit_X_Key_Y_`). Types no Cisco source gives are not written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cisco_gets_every_key_type_in_its_own_functions() {
    let server = office(NewDevice::new(DESK).model("CP-8851-3PCC")).await;
    let api = server.admin_api();
    api.assign(DESK, 1, "1001").ok().await;
    // (type, value, the fnc= text, or None where Cisco gets no key)
    let types: [(&str, Option<&str>, Option<&str>); 16] = [
        ("blf", Some("1002"), Some("fnc=blf+sd+cp;sub=1002@$PROXY")),
        (
            "speed_dial",
            Some("+4930123456"),
            Some("fnc=sd;ext=+4930123456@$PROXY"),
        ),
        ("park", Some("700"), Some("fnc=prk;sub=700@$PROXY")),
        ("park", None, Some("fnc=prk;sub=$USER@$PROXY")),
        ("pickup", Some("1002"), Some("fnc=blf+cp;sub=1002@$PROXY")),
        ("voicemail", Some("*97"), Some("fnc=sd;ext=*97@$PROXY")),
        (
            "url",
            Some("https://intranet.example.com/phone.xml"),
            Some("fnc=xml;url=https://intranet.example.com/phone.xml"),
        ),
        (
            "speed_dial",
            Some("2000@pbx.example.com"),
            Some("fnc=sd;ext=2000@pbx.example.com"),
        ),
        ("dtmf", Some("*21#"), None),
        // On the module:
        // A colleague's name is the module key's label.
        (
            "blf",
            Some("1001"),
            Some("fnc=blf+sd+cp;sub=1001@$PROXY;nme=Alice Example"),
        ),
        ("group_pickup", None, None),
        ("intercom", Some("1002"), None),
        ("transfer", Some("1003"), None),
        ("dnd", None, None),
        ("forward", Some("0301234"), None),
        ("conference", None, None),
    ];
    let on_module = |i: usize| i >= 9;
    let mut keys: Vec<Value> = Vec::new();
    for (i, (kind, value, _)) in types.iter().enumerate() {
        let mut key = match on_module(i) {
            false => json!({"position": i + 2, "type": kind}),
            true => json!({"module": 1, "position": i - 8, "type": kind}),
        };
        if let Some(value) = value {
            key["value"] = json!(value);
        }
        keys.push(key);
    }
    api.set_keys("devices", Some(DESK), Value::Array(keys))
        .ok()
        .await;
    let config = flat(&fetch_config(&server).await.0);
    assert_eq!(
        get(&config, "Extension_1_"),
        Some("1"),
        "line 1 keeps key 1"
    );
    assert_eq!(get(&config, "Short_Name_1_"), Some("$USER"));
    // A type Cisco gets no function for leaves its position explicitly empty (MPP has no
    // overwrite mode: an unwritten position would keep the phone's old key).
    for (i, (kind, value, function)) in types.iter().enumerate() {
        if on_module(i) {
            let element = format!("Unit_1_Key_{}_", i - 8);
            assert_eq!(
                get(&config, &element),
                Some(function.unwrap_or("")),
                "{kind} {value:?} at {element}"
            );
            continue;
        }
        let n = i + 2;
        let written = get(&config, &format!("Extended_Function_{n}_"));
        assert_eq!(
            written,
            Some(function.unwrap_or("")),
            "{kind} {value:?} at key {n}"
        );
        let extension = get(&config, &format!("Extension_{n}_"));
        assert_eq!(extension, Some("Disabled"), "{kind} at key {n}");
    }
    // A colleague's key shows their name.
    assert_eq!(get(&config, "Short_Name_2_"), Some("Bob Example"));
}

/// Cisco MPP keeps a key its config stops naming, so once keys reached a device every position
/// of its phone and attached module is written: a position a layer clears, and every position
/// when the layer is emptied, explicitly empty (`Extension_N_` Disabled, `Extended_Function_N_`
/// and `Unit_X_Key_Y_` blank: the parameter reference's values for a key without a line or a
/// function), the lines' own keys as the resolver places them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cisco_key_cleared_by_a_layer_is_written_empty() {
    let server = office(NewDevice::new(DESK).model("CP-8851-3PCC")).await;
    let api = server.admin_api();
    api.assign(DESK, 1, "1001").ok().await;
    let before = flat(&fetch_config(&server).await.0);
    assert!(
        !before
            .keys()
            .any(|k| k.contains("Extended_Function_") || k.contains("Unit_")),
        "keys never reached this device: its file is as it always was"
    );
    api.set_keys(
        "devices",
        Some(DESK),
        json!([
            {"position": 2, "type": "blf", "value": "1002"},
            {"position": 3, "type": "speed_dial", "value": "2003"},
            {"module": 1, "position": 1, "type": "speed_dial", "value": "2101"},
        ]),
    )
    .ok()
    .await;
    let set = flat(&fetch_config(&server).await.0);
    assert_eq!(
        get(&set, "Extended_Function_3_"),
        Some("fnc=sd;ext=2003@$PROXY")
    );
    let elements = |name: &str| {
        set.keys()
            .filter(|k| k.contains(name) && !k.contains('@'))
            .count()
    };
    let (extended, module) = (elements("Extended_Function_"), elements("Unit_1_Key_"));
    assert_eq!(
        (extended, module),
        (10, 32),
        "every position of the phone and its module"
    );
    assert_eq!(get(&set, "Unit_1_Key_2_"), Some(""));

    // Position 3 cleared: written empty.
    api.set_keys(
        "devices",
        Some(DESK),
        json!([
            {"position": 2, "type": "blf", "value": "1002"},
            {"module": 1, "position": 1, "type": "speed_dial", "value": "2101"},
        ]),
    )
    .ok()
    .await;
    let cleared = flat(&fetch_config(&server).await.0);
    assert_eq!(get(&cleared, "Extension_3_"), Some("Disabled"));
    assert_eq!(get(&cleared, "Short_Name_3_"), Some(""));
    assert_eq!(get(&cleared, "Extended_Function_3_"), Some(""));
    assert_eq!(
        get(&cleared, "Extended_Function_2_"),
        Some("fnc=blf+sd+cp;sub=1002@$PROXY")
    );

    // The layer emptied: every position is cleared, the line keeps key 1.
    api.set_keys("devices", Some(DESK), json!([])).ok().await;
    let emptied = flat(&fetch_config(&server).await.0);
    assert_eq!(get(&emptied, "Extension_1_"), Some("1"));
    assert_eq!(get(&emptied, "Extended_Function_1_"), Some(""));
    for n in 2..=10 {
        assert_eq!(
            get(&emptied, &format!("Extension_{n}_")),
            Some("Disabled"),
            "key {n}"
        );
        assert_eq!(
            get(&emptied, &format!("Extended_Function_{n}_")),
            Some(""),
            "key {n}"
        );
    }
    assert_eq!(get(&emptied, "Unit_1_Key_1_"), Some(""));
}

/// A line a layer moves: line 1's key goes to position 3 and a BLF takes position 1; each
/// `Extension_N_` is written once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cisco_line_moved_by_a_layer_is_written_once_where_the_layer_put_it() {
    let server = office(NewDevice::new(DESK).model("CP-8851-3PCC")).await;
    let api = server.admin_api();
    api.assign(DESK, 1, "1001").ok().await;
    api.set_keys(
        "settings",
        None,
        json!([
            {"position": 1, "type": "blf", "value": "1002"},
            {"position": 3, "type": "line", "line": 1, "label": "Me"},
        ]),
    )
    .ok()
    .await;
    let config = flat(&fetch_config(&server).await.0);
    assert_eq!(get(&config, "Extension_1_"), Some("Disabled"));
    assert_eq!(
        get(&config, "Extended_Function_1_"),
        Some("fnc=blf+sd+cp;sub=1002@$PROXY")
    );
    assert_eq!(get(&config, "Extension_3_"), Some("1"));
    assert_eq!(get(&config, "Short_Name_3_"), Some("Me"));
    assert_eq!(get(&config, "Extended_Function_3_"), Some(""));
}

/// A hot-desk 8851's login key is its soft key PSK1 (with PIN on PSK2) beside a layer's line
/// keys, and only there: the position the resolver gave the login key is written empty.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hot_desk_cisco_keeps_its_soft_keys_beside_the_keys() {
    let server = office(NewDevice::new(DESK).model("CP-8851-3PCC").hotdesk()).await;
    let api = server.admin_api();
    api.set_keys(
        "settings",
        None,
        json!([{"position": 2, "type": "blf", "value": "1002"}]),
    )
    .ok()
    .await;
    let config = flat(&fetch_config(&server).await.0);
    assert!(
        get(&config, "PSK_1").is_some_and(|v| v.starts_with("fnc=xml;url=https://")),
        "{:?}",
        get(&config, "PSK_1")
    );
    assert!(get(&config, "PSK_2").is_some_and(|v| v.ends_with(";nme=PIN")));
    assert_eq!(
        get(&config, "Extended_Function_2_"),
        Some("fnc=blf+sd+cp;sub=1002@$PROXY")
    );
    assert!(
        get(&config, "PSK_1").is_some_and(|v| v.contains("/login;") && v.ends_with(";nme=Login"))
    );
    // Line 1 keeps key 1 for the hot-desk login; the login key's position (3) is empty.
    assert_eq!(get(&config, "Extension_1_"), Some("1"));
    assert_eq!(get(&config, "Extended_Function_3_"), Some(""));
    assert_eq!(get(&config, "Extension_3_"), Some("Disabled"));
    assert_eq!(
        config.values().filter(|v| v.contains("/login")).count(),
        1,
        "the login key once"
    );
}

/// An 8851 with two lines, ten keys of mixed types over the phone and its key expansion module.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cisco_with_ten_keys_and_a_module_matches_its_golden_file() {
    let server = office(
        NewDevice::new(DESK)
            .model("CP-8851-3PCC")
            .label("Reception"),
    )
    .await;
    let api = server.admin_api();
    api.assign(DESK, 1, "1001").ok().await;
    api.assign(DESK, 2, "1002").ok().await;
    api.set_keys(
        "devices",
        Some(DESK),
        json!([
            {"position": 3, "type": "blf", "value": "1001", "label": "Alice <& Co>"},
            {"position": 4, "type": "speed_dial", "value": "+4930123456", "label": "Reception"},
            {"position": 5, "type": "park", "value": "700", "line": 2},
            {"position": 6, "type": "dnd"},
            {"position": 7, "type": "pickup", "value": "1002"},
            {"position": 8, "type": "url", "value": "https://intranet.example.com/menu.xml?a=1&b=2", "label": "Menu"},
            {"position": 9, "type": "voicemail", "value": "*97"},
            {"position": 10, "type": "intercom", "value": "1002"},
            {"module": 1, "position": 1, "type": "blf", "value": "1002"},
            {"module": 1, "position": 32, "type": "speed_dial", "value": "2032", "label": "Last"},
        ]),
    )
    .ok()
    .await;
    let (text, password) = fetch_config(&server).await;
    crate::golden::check("cisco/d0ec35aabbcd-8851-keys.xml", &text, Some(&password));
}
