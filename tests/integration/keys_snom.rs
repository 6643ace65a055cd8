//! Snom D7xx programmable keys as the phone gets them: `<fkey idx="N">keyword value</fkey>`,
//! the phone's keys from idx 0 and a D7 module's after them, parsed back with quick-xml
//! (`xmlflat`); a hot-desk phone's Login and PIN keys win their idx; a golden file.

use std::collections::BTreeMap;

use http::StatusCode;
use serde_json::{Value, json};

use crate::api::{NewDevice, NewUser};
use crate::helpers::*;
use crate::xmlflat;

const DESK: &str = "000413aabbcd";
const DESK_FILE: &str = "/snomD785-000413AABBCD.htm";

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

fn fkey(config: &BTreeMap<String, String>, idx: u16) -> Option<&str> {
    config
        .get(&format!("settings/functionKeys/fkey[idx={idx}]"))
        .map(String::as_str)
}

/// Every key type at a D785 position and one on its D7 module, each with the keyword FusionPBX
/// lists (`app/devices/resources/classes/snom.php`) and wazo-provd-plugins writes
/// (`plugins/wazo_snom/common_v10/common.py`: `speed`, `orbit`, `blf`), `keyevent F_DND` as
/// Tancredi writes it (`data/templates/snom.tmpl`); module keys follow the phone's 24
/// (Tancredi `data/scopes/snom-D785.ini`, `snom.tmpl`). Types without a confirmed keyword are
/// not written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snom_gets_every_key_type_in_its_own_keywords() {
    let server = office(NewDevice::new(DESK).model("D785")).await;
    let api = server.admin_api();
    api.assign(DESK, 1, "1001").ok().await;
    // (type, value, the fkey text, or None where Snom gets no key)
    let types: [(&str, Option<&str>, Option<&str>); 16] = [
        ("blf", Some("1002"), Some("blf 1002")),
        ("speed_dial", Some("+4930123456"), Some("speed +4930123456")),
        ("dtmf", Some("*21#"), Some("dtmf *21#")),
        ("park", Some("700"), Some("orbit 700")),
        ("park", None, None),
        ("pickup", Some("1002"), None),
        ("group_pickup", None, None),
        ("intercom", Some("1002"), Some("icom 1002")),
        ("transfer", Some("1003"), Some("transfer 1003")),
        ("voicemail", Some("*97"), Some("speed *97")),
        ("voicemail", None, None),
        ("dnd", None, Some("keyevent F_DND")),
        ("forward", Some("0301234"), Some("redirect 0301234")),
        ("conference", None, Some("conference")),
        (
            "url",
            Some("https://intranet.example.com/phone.xml"),
            Some("url https://intranet.example.com/phone.xml"),
        ),
        ("line", None, Some("line")),
    ];
    let mut keys: Vec<Value> = Vec::new();
    for (i, (kind, value, _)) in types.iter().enumerate() {
        let mut key = json!({"position": i + 2, "type": kind});
        if *kind == "line" {
            key = json!({"module": 1, "position": 3, "type": "line", "line": 2});
        }
        if let Some(value) = value {
            key["value"] = json!(value);
        }
        keys.push(key);
    }
    api.set_keys("devices", Some(DESK), Value::Array(keys))
        .ok()
        .await;
    let config = flat(&fetch_config(&server).await.0);
    assert_eq!(fkey(&config, 0), Some("line"), "line 1 keeps key 1");
    assert_eq!(
        config
            .get("settings/functionKeys/fkey[idx=0]@context")
            .map(String::as_str),
        Some("1")
    );
    for (i, (kind, value, text)) in types.iter().enumerate() {
        let idx = if *kind == "line" {
            24 + 2
        } else {
            i as u16 + 1
        };
        assert_eq!(fkey(&config, idx), *text, "{kind} {value:?} at idx {idx}");
    }
    assert_eq!(
        config
            .get("settings/functionKeys/fkey[idx=26]@context")
            .map(String::as_str),
        Some("2"),
        "a module key's line is its context"
    );
    // A colleague's key shows their name.
    assert_eq!(
        config
            .get("settings/functionKeys/fkey[idx=1]@label")
            .map(String::as_str),
        Some("Bob Example")
    );

    // Keys no layer sets any more are not written (the phone keeps its own).
    api.set_keys("devices", Some(DESK), json!([])).ok().await;
    let config = flat(&fetch_config(&server).await.0);
    assert!(
        !config.keys().any(|k| k.contains("functionKeys")),
        "no layer sets a key: none are written"
    );
}

/// The `idx` of every fkey whose text opens the hot-desk login screen.
fn login_keys(config: &BTreeMap<String, String>) -> Vec<String> {
    config
        .iter()
        .filter(|(path, text)| {
            path.starts_with("settings/functionKeys/fkey[idx=")
                && !path.contains('@')
                && text.starts_with("url https://")
                && text.ends_with("/login")
        })
        .map(|(path, _)| path.clone())
        .collect()
}

/// On a hot-desk D785 without keys the Login and PIN keys take idx 12 and 13 (after its 12
/// identities). Once a layer sets keys the login key is the key list's own (the resolver puts
/// it after the lines: key 2, idx 1), shown once (it used to appear at idx 12 as well); the
/// PIN key keeps idx 13, where a layer's key yields to it, and idx 12 is free for the layer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hot_desk_snom_shows_its_login_key_once_and_keeps_its_pin_key() {
    let server = office(NewDevice::new(DESK).model("D785").hotdesk()).await;
    let config = flat(&fetch_config(&server).await.0);
    assert_eq!(
        login_keys(&config),
        ["settings/functionKeys/fkey[idx=12]"],
        "no keys: the login key after the identities"
    );
    let api = server.admin_api();
    api.set_keys(
        "settings",
        None,
        json!([
            {"position": 12, "type": "blf", "value": "1002"},
            {"position": 13, "type": "speed_dial", "value": "2013"},
            {"position": 14, "type": "speed_dial", "value": "2014"},
            {"position": 15, "type": "speed_dial", "value": "2015"},
        ]),
    )
    .ok()
    .await;
    let config = flat(&fetch_config(&server).await.0);
    assert_eq!(
        login_keys(&config),
        ["settings/functionKeys/fkey[idx=1]"],
        "the login key once, where the key list puts it"
    );
    assert_eq!(
        config
            .get("settings/functionKeys/fkey[idx=1]@label")
            .map(String::as_str),
        Some("Login")
    );
    assert_eq!(
        config
            .get("settings/functionKeys/fkey[idx=13]@label")
            .map(String::as_str),
        Some("PIN")
    );
    assert_eq!(fkey(&config, 0), Some("line"), "the login line keeps key 1");
    assert_eq!(fkey(&config, 11), Some("blf 1002"));
    assert_eq!(
        fkey(&config, 12),
        Some("speed 2013"),
        "idx 12 is the layer's now"
    );
    assert_eq!(fkey(&config, 14), Some("speed 2015"));
    assert!(
        !config.values().any(|v| v == "speed 2014"),
        "the layer's key on the PIN's idx is not written"
    );
}

/// When the layers fill every key up to the PIN's idx, the login key lands there (key 14, idx
/// 13) and the PIN key moves to idx 12, the login key's old place; each idx appears once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hot_desk_snoms_pin_key_yields_its_idx_to_the_login_key() {
    let server = office(NewDevice::new(DESK).model("D785").hotdesk()).await;
    let keys: Vec<Value> = (2..=13)
        .map(|p| json!({"position": p, "type": "speed_dial", "value": format!("20{p:02}")}))
        .collect();
    server
        .admin_api()
        .set_keys("devices", Some(DESK), Value::Array(keys))
        .ok()
        .await;
    let text = fetch_config(&server).await.0;
    let config = flat(&text);
    assert_eq!(login_keys(&config), ["settings/functionKeys/fkey[idx=13]"]);
    assert_eq!(
        config
            .get("settings/functionKeys/fkey[idx=12]@label")
            .map(String::as_str),
        Some("PIN")
    );
    assert_eq!(fkey(&config, 11), Some("speed 2012"));
    assert!(
        !config.values().any(|v| v == "speed 2013"),
        "the key at the PIN's new idx yields to it"
    );
    assert_eq!(
        text.matches("<fkey idx=\"12\"").count() + text.matches("<fkey idx=\"13\"").count(),
        2,
        "each idx once"
    );
}

/// A D785 with two lines, ten keys of mixed types over the phone and its D7 module.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snom_with_ten_keys_and_a_module_matches_its_golden_file() {
    let server = office(NewDevice::new(DESK).model("D785").label("Reception")).await;
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
            {"position": 9, "type": "conference"},
            {"position": 10, "type": "intercom", "value": "1002"},
            {"module": 1, "position": 1, "type": "blf", "value": "1002"},
            {"module": 1, "position": 18, "type": "forward", "value": "0301234"},
        ]),
    )
    .ok()
    .await;
    let (text, password) = fetch_config(&server).await;
    crate::golden::check("snom/000413aabbcd-d785-keys.xml", &text, Some(&password));
}
