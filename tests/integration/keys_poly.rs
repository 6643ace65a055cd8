//! Programmable keys on Poly VVX phones through flexible line key assignment, fetched as the
//! phone and parsed back: `lineKey.reassignment.enabled`, `lineKey.x.category` and `.index` per
//! physical key (Poly's VVX Expansion Module addendum for UC Software 4.1.6, "Line Key
//! Parameters": a line key takes its registration, a BLF key index 0; the FreePBX
//! polycomphones module and GS5 write the same), the n-th BLF key's watched extension in
//! `attendant.resourceList.n` (GS5 and freepbx-quickprovisioner number the list over the BLF
//! keys), keys on the VVX 600's expansion modules numbered on from the phone's 16, and the
//! types without a Poly category left out.

use std::collections::BTreeMap;

use http::StatusCode;
use serde_json::json;

use crate::api::{NewDevice, NewUser};
use crate::helpers::*;
use crate::xmlflat;

const VVX450: &str = "64167faabb41";
const VVX600: &str = "64167faabb61";

async fn office() -> TestServer {
    let server = TestServer::start().await;
    let api = server.admin_api();
    api.patch_settings(json!({"sip_server": "pbx.example.com"}))
        .ok()
        .await;
    for (extension, name) in [
        ("1001", "Alice Example"),
        ("1002", "Bob Example"),
        ("1003", "Cem Yilmaz"),
    ] {
        let user = NewUser::new(extension, name).sip_password(&format!("sip-secret-{extension}"));
        api.create_user(user).ok().await;
    }
    for (mac, model) in [(VVX450, "VVX450"), (VVX600, "VVX600")] {
        api.create_device(NewDevice::new(mac).model(model))
            .ok()
            .await;
        api.assign(mac, 1, "1001").ok().await;
    }
    server
}

/// A file fetched as the phone `mac`, with its credentials.
async fn fetch(server: &TestServer, mac: &str, path: &str) -> deskprov::client::Reply {
    let (user, password) = server.credentials(mac).await;
    server
        .phone_get_with(path, &[("authorization", &basic(&user, &password))])
        .await
}

/// Every attribute of the device file, by its name alone (Poly reads attributes wherever they
/// stand); a name written twice fails.
async fn attributes(server: &TestServer, mac: &str) -> BTreeMap<String, String> {
    let reply = fetch(server, mac, &format!("/{mac}-deskprov.cfg")).await;
    assert_eq!(reply.status, StatusCode::OK);
    let text = reply.text();
    let flat = xmlflat::flatten(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let mut by_name = BTreeMap::new();
    for (key, value) in flat {
        let name = key.rsplit('@').next().unwrap().to_string();
        assert!(
            by_name.insert(name.clone(), value).is_none(),
            "{name} twice"
        );
    }
    by_name
}

fn get<'m>(config: &'m BTreeMap<String, String>, name: &str) -> Option<&'m str> {
    config.get(name).map(String::as_str)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vvx_gets_line_and_blf_keys_where_the_admin_put_them() {
    let server = office().await;
    let api = server.admin_api();
    let untouched = attributes(&server, VVX450).await;
    assert!(
        !untouched.keys().any(|k| k.starts_with("lineKey.")),
        "no layer sets keys: the phone keeps its own"
    );
    api.set_keys(
        "devices",
        Some(VVX450),
        json!([
            {"position": 3, "type": "blf", "value": "1003"},
            {"position": 5, "type": "blf", "value": "1002", "label": "Bob"},
            {"position": 6, "type": "dnd"},
            {"position": 7, "type": "dtmf", "value": "*21#"},
        ]),
    )
    .ok()
    .await;
    let config = attributes(&server, VVX450).await;
    for (name, value) in [
        ("lineKey.reassignment.enabled", "1"),
        ("lineKey.1.category", "Line"),
        ("lineKey.1.index", "1"),
        ("lineKey.3.category", "BLF"),
        ("lineKey.3.index", "0"),
        ("lineKey.5.category", "BLF"),
        ("lineKey.5.index", "0"),
        ("attendant.reg", "1"),
        ("attendant.resourceList.1.address", "1003@pbx.example.com"),
        ("attendant.resourceList.1.label", "Cem Yilmaz"),
        ("attendant.resourceList.1.type", "normal"),
        ("attendant.resourceList.2.address", "1002@pbx.example.com"),
        ("attendant.resourceList.2.label", "Bob"),
    ] {
        assert_eq!(get(&config, name), Some(value), "{name}");
    }
    for unwritten in [
        "lineKey.2.category",
        "lineKey.6.category",
        "lineKey.7.category",
    ] {
        assert_eq!(
            get(&config, unwritten),
            None,
            "{unwritten}: no Poly category"
        );
    }
    let refused = api
        .set_keys(
            "devices",
            Some(VVX450),
            json!([{"position": 13, "type": "dnd"}]),
        )
        .fails(StatusCode::BAD_REQUEST)
        .await;
    assert!(refused.to_string().contains("VVX450"), "{refused}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vvx600_numbers_its_module_keys_on_from_its_own_sixteen() {
    let server = office().await;
    let api = server.admin_api();
    api.patch_device(VVX600, json!({"expansion_modules": 2}))
        .ok()
        .await;
    api.set_keys(
        "devices",
        Some(VVX600),
        json!([
            {"position": 16, "type": "blf", "value": "1002"},
            {"module": 1, "position": 1, "type": "blf", "value": "1003"},
            {"module": 2, "position": 84, "type": "blf", "value": "1001"},
        ]),
    )
    .ok()
    .await;
    let config = attributes(&server, VVX600).await;
    for (name, value) in [
        ("lineKey.16.category", "BLF"),
        ("lineKey.17.category", "BLF"),
        ("lineKey.184.category", "BLF"),
        ("attendant.resourceList.1.address", "1002@pbx.example.com"),
        ("attendant.resourceList.2.address", "1003@pbx.example.com"),
        ("attendant.resourceList.3.address", "1001@pbx.example.com"),
    ] {
        assert_eq!(get(&config, name), Some(value), "{name}");
    }
    api.set_keys(
        "devices",
        Some(VVX600),
        json!([{"module": 3, "position": 1, "type": "blf", "value": "1002"}]),
    )
    .fails(StatusCode::BAD_REQUEST)
    .await;
}

/// A VVX 600 with ten keys of mixed types on the phone and its first module, byte for byte:
/// the line and BLF keys written, the others (no Poly category) left out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vvx600_with_ten_keys_matches_its_golden_file() {
    let server = office().await;
    let api = server.admin_api();
    api.patch_device(VVX600, json!({"expansion_modules": 1}))
        .ok()
        .await;
    let keys = json!([
        {"position": 2, "type": "blf", "value": "1002"},
        {"position": 3, "type": "speed_dial", "value": "+4930123456", "label": "Reception"},
        {"position": 4, "type": "dnd"},
        {"position": 5, "type": "blf", "value": "1003", "label": "Cem & Co"},
        {"position": 6, "type": "dtmf", "value": "*21#"},
        {"position": 8, "type": "park", "value": "700"},
        {"position": 10, "type": "line", "line": 1},
        {"module": 1, "position": 1, "type": "blf", "value": "1001"},
        {"module": 1, "position": 2, "type": "voicemail"},
        {"module": 1, "position": 84, "type": "blf", "value": "1002", "label": "Bob <2>"},
    ]);
    api.set_keys("devices", Some(VVX600), keys).ok().await;
    let reply = fetch(&server, VVX600, &format!("/{VVX600}-deskprov.cfg")).await;
    let (_, password) = server.credentials(VVX600).await;
    assert_eq!(reply.status, StatusCode::OK);
    let text = reply.text();
    xmlflat::flatten(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    crate::golden::check(
        &format!("polycom/{VVX600}-vvx600-keys.cfg"),
        &text,
        Some(&password),
    );
}

/// The entries of the device's local directory, `{mac}-directory.xml`, as the phone's parser
/// reads them; `None` when the server has none for it.
async fn directory(server: &TestServer, mac: &str) -> Option<Vec<Vec<(String, String)>>> {
    let reply = fetch(server, mac, &format!("/{mac}-directory.xml")).await;
    if reply.status == StatusCode::NOT_FOUND {
        return None;
    }
    assert_eq!(reply.status, StatusCode::OK);
    let (root, items) = crate::phonebook_vendors::records(&reply.text(), "item");
    assert_eq!(root, "directory");
    Some(items)
}

fn item(fields: &[(&str, &str)]) -> Vec<(String, String)> {
    fields
        .iter()
        .map(|(name, text)| (name.to_string(), text.to_string()))
        .collect()
}

/// A speed-dial key is `lineKey.x.category="SpeedDial"` with `.index` n for the n-th one, and
/// entry n of the local directory carries `<sd>n</sd>` and the number in `<ct>` (Poly's VVX
/// Expansion Module addendum for UC Software 4.1.6, "Line Key Parameters": `SpeedDial` among
/// the categories; the FreePBX polycomphones module numbers its favourites 1, 2, ... in
/// `lineKey.x.index` and writes `fn`, `ct` and `sd` per directory item). The speed dials stand
/// alone while the site serves no phonebook and before the company's names while it does;
/// without them the directory is the shared phonebook, or the one the phone stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vvx_speed_dial_calls_its_entry_of_the_local_directory() {
    let server = office().await;
    let api = server.admin_api();
    assert_eq!(directory(&server, VVX450).await, None);
    api.set_keys(
        "devices",
        Some(VVX450),
        json!([
            {"position": 4, "type": "speed_dial", "value": "0301234", "label": "Empfang & Co <1>"},
            {"position": 5, "type": "blf", "value": "1003"},
            {"position": 7, "type": "speed_dial", "value": "+4930555"},
            {"position": 9, "type": "speed_dial", "value": "1002"},
        ]),
    )
    .ok()
    .await;
    let config = attributes(&server, VVX450).await;
    for (name, value) in [
        ("lineKey.4.category", "SpeedDial"),
        ("lineKey.4.index", "1"),
        ("lineKey.5.category", "BLF"),
        ("lineKey.7.category", "SpeedDial"),
        ("lineKey.7.index", "2"),
        ("lineKey.9.category", "SpeedDial"),
        ("lineKey.9.index", "3"),
        ("attendant.resourceList.1.address", "1003@pbx.example.com"),
    ] {
        assert_eq!(get(&config, name), Some(value), "{name}");
    }
    let speed_dials = vec![
        item(&[("fn", "Empfang & Co <1>"), ("ct", "0301234"), ("sd", "1")]),
        item(&[("fn", "+4930555"), ("ct", "+4930555"), ("sd", "2")]),
        item(&[("fn", "Bob Example"), ("ct", "1002"), ("sd", "3")]),
    ];
    assert_eq!(directory(&server, VVX450).await, Some(speed_dials.clone()));

    api.patch_settings(json!({"phonebook_refresh_minutes": 60}))
        .ok()
        .await;
    let company = vec![
        item(&[("fn", "Alice Example"), ("ct", "1001")]),
        item(&[("fn", "Bob Example"), ("ct", "1002")]),
        item(&[("fn", "Cem Yilmaz"), ("ct", "1003")]),
    ];
    let merged: Vec<_> = speed_dials.iter().chain(&company).cloned().collect();
    assert_eq!(directory(&server, VVX450).await, Some(merged));
    assert_eq!(directory(&server, VVX600).await, Some(company.clone()));

    api.set_keys("devices", Some(VVX450), json!([])).ok().await;
    assert_eq!(directory(&server, VVX450).await, Some(company));
    api.patch_settings(json!({"phonebook_refresh_minutes": null}))
        .ok()
        .await;
    assert_eq!(directory(&server, VVX450).await, None);
}
