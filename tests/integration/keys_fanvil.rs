//! Programmable keys on Fanvil phones, fetched as the phone with its credentials and parsed
//! back: DSS keys in `<sysConf>` (`<dsskey>`: side keys, then pages) and in the old
//! `<VOIP_CONFIG_FILE>` format (`<Function_Key_Entry>`), each type's code and value as the
//! sources give them (src/vendors/fanvil.rs `dss_key`), the types without a confirmed
//! encoding left out. Fanvil's expansion modules have no confirmed per-key parameters, so no
//! Fanvil model takes one and no module key is written.

use http::StatusCode;
use serde_json::{Value, json};

use crate::api::{NewDevice, NewUser};
use crate::helpers::*;
use crate::{idxml, xmlflat};

const X4U: &str = "0c383eaabb01";
const X4: &str = "0c383eaabb02";

async fn office(mac: &str, model: &str) -> TestServer {
    let server = TestServer::start().await;
    let api = server.admin_api();
    api.patch_settings(json!({"sip_server": "pbx.example.com"}))
        .ok()
        .await;
    for (extension, name) in [("1001", "Alice Example"), ("1002", "Bob Example")] {
        let user = NewUser::new(extension, name).sip_password(&format!("sip-secret-{extension}"));
        api.create_user(user).ok().await;
    }
    api.create_device(NewDevice::new(mac).model(model))
        .ok()
        .await;
    api.assign(mac, 1, "1001").ok().await;
    server
}

/// A key's `Type` and `Value` as written.
type Written = (&'static str, &'static str);

/// Key types, values, and the `Type` and `Value` Fanvil gets (`None`: not written): TC
/// `data/templates/fanvil.macros` and WZ `plugins/wazo_fanvil/common/common.py`.
const TYPES: &[(&str, Option<&str>, Option<Written>)] = &[
    ("blf", Some("1002"), Some(("1", "1002@1/ba"))),
    (
        "speed_dial",
        Some("+4930123456"),
        Some(("1", "+4930123456@1/f")),
    ),
    ("dtmf", Some("*21#"), Some(("4", "*21#"))),
    ("dnd", None, Some(("3", "F_DND"))),
    ("transfer", None, Some(("3", "F_B_TRANSFER"))),
    ("voicemail", None, Some(("3", "F_MWI"))),
    (
        "url",
        Some("https://intranet.example.com/phone.xml"),
        Some(("7", "https://intranet.example.com/phone.xml")),
    ),
    ("park", Some("700"), None),
    ("pickup", Some("1002"), None),
    ("group_pickup", None, None),
    ("intercom", Some("1002"), None),
    ("forward", Some("0301234"), None),
    ("conference", None, None),
    ("transfer", Some("1003"), None),
];

/// Every type at positions 2.. in `TYPES` order.
async fn set_every_type(server: &TestServer, mac: &str) {
    let keys: Vec<Value> = TYPES
        .iter()
        .enumerate()
        .map(|(i, (kind, value, _))| {
            let mut key = json!({"position": i + 2, "type": kind});
            if let Some(value) = value {
                key["value"] = json!(value);
            }
            key
        })
        .collect();
    server
        .admin_api()
        .set_keys("devices", Some(mac), Value::Array(keys))
        .ok()
        .await;
}

async fn fetch(server: &TestServer, mac: &str) -> String {
    let (user, password) = server.credentials(mac).await;
    let reply = server
        .phone_get_with(
            &format!("/{mac}.cfg"),
            &[("authorization", &basic(&user, &password))],
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{mac}");
    reply.text()
}

/// X4U (WZ `serie_x/entry.py`: 3 side keys, then pages of 6; TC `fanvil-X4U.ini`: 33 keys):
/// positions 1-3 on `<dssSide index="1">`, 4-9 on `<internal index="1">`, 10-15 on page 2 …
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fanvil_in_sysconf_gets_each_key_type_on_its_side_keys_and_pages() {
    let server = office(X4U, "X4U").await;
    set_every_type(&server, X4U).await;
    let text = fetch(&server, X4U).await;
    let config = xmlflat::flatten(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let slot = |position: usize| match position {
        1..=3 => format!("sysConf/dsskey/dssSide[index=1]/Fkey[index={position}]"),
        _ => format!(
            "sysConf/dsskey/internal[index={}]/Fkey[index={}]",
            (position - 4) / 6 + 1,
            (position - 4) % 6 + 1
        ),
    };
    let get = |position: usize, field: &str| {
        config
            .get(&format!("{}/{field}", slot(position)))
            .map(String::as_str)
    };
    assert_eq!(get(1, "Type"), Some("2"), "line 1 keeps key 1\n{text}");
    assert_eq!(get(1, "Value"), Some("SIP1"));
    for (i, (kind, _, expected)) in TYPES.iter().enumerate() {
        let position = i + 2;
        let written = get(position, "Type").zip(get(position, "Value"));
        assert_eq!(written, *expected, "{kind} at key {position}\n{text}");
    }
    assert_eq!(get(2, "Title"), Some("Bob Example"), "a colleague's name");
    assert_eq!(get(3, "Title"), Some(""));
    assert_eq!(
        config
            .get("sysConf/dsskey/FuncKeyPageNum")
            .map(String::as_str),
        Some("5")
    );

    // No layer sets a key: no <dsskey> at all, the phone keeps its own.
    server
        .admin_api()
        .set_keys("devices", Some(X4U), json!([]))
        .ok()
        .await;
    let text = fetch(&server, X4U).await;
    assert!(!text.contains("dsskey"), "{text}");
}

/// X4, which reads only the old format: `Fkey<position>` (WZ `common/templates/base.tpl`
/// `Function_Key_Entry`; TC `fanvil-X4.ini`: 30 keys).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fanvil_in_the_old_format_gets_each_key_type_as_a_function_key() {
    let server = office(X4, "X4").await;
    set_every_type(&server, X4).await;
    let text = fetch(&server, X4).await;
    assert!(text.contains("<VOIP_CONFIG_FILE>"), "{text}");
    let config = idxml::flatten(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let get = |position: usize, field: &str| {
        config
            .get(&format!(
                "VOIP_CONFIG_FILE/PHONE_CONFIG_MODULE/Function_Key/Function_Key_Entry[Fkey{position}]/{field}"
            ))
            .map(String::as_str)
    };
    assert_eq!(get(1, "Type"), Some("2"), "{text}");
    assert_eq!(get(1, "Value"), Some("SIP1"));
    for (i, (kind, _, expected)) in TYPES.iter().enumerate() {
        let position = i + 2;
        let written = get(position, "Type").zip(get(position, "Value"));
        assert_eq!(written, *expected, "{kind} at key {position}\n{text}");
    }
    assert_eq!(get(2, "Title"), Some("Bob Example"));
    // Beyond the X4's 30 keys is refused.
    server
        .admin_api()
        .set_keys(
            "devices",
            Some(X4),
            json!([{"position": 31, "type": "dnd"}]),
        )
        .fails(StatusCode::BAD_REQUEST)
        .await;
}

/// An X4U with ten keys of mixed types over its side keys and two pages, byte for byte.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fanvil_desk_phone_with_ten_keys_matches_its_golden_file() {
    let server = office(X4U, "X4U").await;
    let keys = json!([
        {"position": 2, "type": "blf", "value": "1002"},
        {"position": 3, "type": "speed_dial", "value": "+4930123456", "label": "Reception"},
        {"position": 4, "type": "dnd"},
        {"position": 5, "type": "dtmf", "value": "*21#", "label": "Code"},
        {"position": 6, "type": "voicemail", "label": "Mailbox"},
        {"position": 7, "type": "url", "value": "https://intranet.example.com/phone.xml", "label": "Menu"},
        {"position": 8, "type": "transfer", "label": "Transfer"},
        {"position": 9, "type": "park", "value": "700"},
        {"position": 10, "type": "blf", "value": "1003", "label": "Carol & Co", "line": 1},
        {"position": 12, "type": "speed_dial", "value": "1001"},
    ]);
    server
        .admin_api()
        .set_keys("devices", Some(X4U), keys)
        .ok()
        .await;
    let text = fetch(&server, X4U).await;
    let (_, password) = server.credentials(X4U).await;
    crate::golden::check(
        &format!("fanvil/{X4U}-x4u-keys.cfg"),
        &text,
        Some(&password),
    );
}
