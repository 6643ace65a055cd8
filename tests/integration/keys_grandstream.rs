//! Grandstream programmable keys and LDAP directory as the phone gets them: VPK, MPK and
//! extension-board P-values in `cfg{mac}.xml`, fetched over HTTPS as the phone, parsed back
//! with quick-xml (`xmlflat`).
//!
//! Source of every P-value and mode asserted here: Grandstream's own config templates in
//! wazo-platform/wazo-provd-plugins, `plugins/wazo-grandstream/docs/config-template/`:
//! GXP = `gxp2130_40_60_70_35_config_1.0.11.16.txt`, GXP16 = `gxp16xx_config_1.0.7.3.txt`,
//! GRP = `grp261x_config_1.0.5.15.txt`.

use std::collections::BTreeMap;

use http::StatusCode;
use serde_json::{Value, json};

use crate::api::{NewDevice, NewUser};
use crate::helpers::*;
use crate::xmlflat;

const GXP2170: &str = "000b82aa2170";
const GXP2160: &str = "000b82aa2160";
const GXP1630: &str = "000b82aa1630";
const GXP1620: &str = "000b82aa1620";
const GXP2135: &str = "000b82aa2135";
const GRP2616: &str = "000b82aa2616";
const GRP2615: &str = "000b82aa2615";
const BIND_PASSWORD: &str = "gs-ldap-bind-Secret-7";

/// Users 1001 to 1003, and the desk phones, each with 1001 on line 1.
async fn office(devices: &[(&str, &str)]) -> TestServer {
    let server = TestServer::start().await;
    let api = server.admin_api();
    for (extension, name) in [
        ("1001", "Alice Example"),
        ("1002", "Bob Example"),
        ("1003", "Carol Example"),
    ] {
        let user = NewUser::new(extension, name).sip_password(&format!("secret-{extension}"));
        api.create_user(user).ok().await;
    }
    for (mac, model) in devices {
        api.create_device(NewDevice::new(mac).model(model))
            .ok()
            .await;
        api.assign(mac, 1, "1001").ok().await;
    }
    server
}

async fn fetch(server: &TestServer, mac: &str) -> (String, BTreeMap<String, String>) {
    let (user, password) = server.credentials(mac).await;
    let reply = server
        .phone_get_with(
            &format!("/cfg{mac}.xml"),
            &[("authorization", &basic(&user, &password))],
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{mac}");
    let text = reply.text();
    let config = xmlflat::flatten(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    (text, config)
}

fn p(config: &BTreeMap<String, String>, key: u32) -> Option<&str> {
    config
        .get(&format!("gs_provision/config/P{key}"))
        .map(String::as_str)
}

/// A GXP2170 (12 fixed and 36 dynamic VPKs, one GXP2200EXT attached) with keys of every kind.
/// GXP "Virtual Multi-Purpose Keys": fixed VPK k ≤ 6 at P1363+2(k-1) mode, P1364+2(k-1)
/// account, P1465+2(k-1) description, P1466+2(k-1) value; VPK 7 on at P23800+4(k-7)…+3;
/// fixed modes "0 Default, 10 Speed Dial, 11 BLF, 15 DialDTMF, 16 Voicemail, 18 Transfer,
/// 19 CallPark, 20 Intercom, 22 Conference, 31 Forward, 32 DND"; dynamic "1 BLF, 22 DND";
/// GXP "EXT MPK 1" at P23000-P23003, "-1 -- 20" (no DND), "EXT 2" from P23200.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gxp2170_gets_every_key_type_in_its_vpk_and_extension_board_p_values() {
    let server = office(&[(GXP2170, "GXP2170")]).await;
    let api = server.admin_api();
    api.patch_device(GXP2170, json!({"expansion_modules": 1}))
        .ok()
        .await;
    let (_, before) = fetch(&server, GXP2170).await;
    assert_eq!(
        p(&before, 1363),
        None,
        "no keys written while no layer sets one"
    );
    let keys = json!([
        {"position": 2, "type": "blf", "value": "1002"},
        {"position": 3, "type": "speed_dial", "value": "+4930123456", "label": "Reception & Co"},
        {"position": 4, "type": "dnd"},
        {"position": 5, "type": "dtmf", "value": "*21#"},
        {"position": 6, "type": "voicemail", "label": "Mailbox"},
        {"position": 7, "type": "park", "value": "700"},
        {"position": 8, "type": "transfer"},
        {"position": 9, "type": "intercom", "value": "1002", "line": 2},
        {"position": 10, "type": "forward", "value": "0301234"},
        {"position": 11, "type": "conference"},
        {"position": 12, "type": "pickup", "value": "1002"},
        {"position": 13, "type": "blf", "value": "1003"},
        {"position": 14, "type": "dnd"},
        {"position": 15, "type": "url", "value": "https://intranet.example.com/phone.xml"},
        {"module": 1, "position": 1, "type": "blf", "value": "1002", "label": "Bob"},
        {"module": 1, "position": 2, "type": "dnd"},
    ]);
    api.set_keys("devices", Some(GXP2170), keys).ok().await;
    let (text, config) = fetch(&server, GXP2170).await;
    let get = |key: u32| p(&config, key);
    // (mode, account, description, value) P-values, then what each must hold.
    let expect: [([u32; 4], [Option<&str>; 4]); 17] = [
        // Line 1 keeps VPK 1: "0 - Default", account 0.
        (
            [1363, 1364, 1465, 1466],
            [Some("0"), Some("0"), Some(""), Some("")],
        ),
        (
            [1365, 1366, 1467, 1468],
            [Some("11"), Some("0"), Some("Bob Example"), Some("1002")],
        ),
        (
            [1367, 1368, 1469, 1470],
            [
                Some("10"),
                Some("0"),
                Some("Reception & Co"),
                Some("+4930123456"),
            ],
        ),
        (
            [1369, 1370, 1471, 1472],
            [Some("32"), Some("0"), Some(""), Some("")],
        ),
        (
            [1371, 1372, 1473, 1474],
            [Some("15"), Some("0"), Some(""), Some("*21#")],
        ),
        (
            [1373, 1374, 1475, 1476],
            [Some("16"), Some("0"), Some("Mailbox"), Some("")],
        ),
        // VPK 7-12 are fixed on the GXP2170 ("VPK 7--fixed VPK"), at P23800 on.
        (
            [23800, 23801, 23802, 23803],
            [Some("19"), Some("0"), Some(""), Some("700")],
        ),
        (
            [23804, 23805, 23806, 23807],
            [Some("18"), Some("0"), Some(""), Some("")],
        ),
        // Line 2 is "1 - Account 2".
        (
            [23808, 23809, 23810, 23811],
            [Some("20"), Some("1"), Some("Bob Example"), Some("1002")],
        ),
        (
            [23812, 23813, 23814, 23815],
            [Some("31"), Some("0"), Some(""), Some("0301234")],
        ),
        (
            [23816, 23817, 23818, 23819],
            [Some("22"), Some("0"), Some(""), Some("")],
        ),
        // Pickup has no mode: the slot is written None ("-1 - None").
        (
            [23820, 23821, 23822, 23823],
            [Some("-1"), Some("0"), Some(""), Some("")],
        ),
        // VPK 13 on are dynamic: "1 - BLF", "22 - DND".
        (
            [23824, 23825, 23826, 23827],
            [Some("1"), Some("0"), Some("Carol Example"), Some("1003")],
        ),
        (
            [23828, 23829, 23830, 23831],
            [Some("22"), Some("0"), Some(""), Some("")],
        ),
        // No mode opens a URL.
        (
            [23832, 23833, 23834, 23835],
            [Some("-1"), Some("0"), Some(""), Some("")],
        ),
        // EXT MPK 1 and 2 of the attached module; DND is not in its list.
        (
            [23000, 23001, 23002, 23003],
            [Some("1"), Some("0"), Some("Bob"), Some("1002")],
        ),
        (
            [23005, 23006, 23007, 23008],
            [Some("-1"), Some("0"), Some(""), Some("")],
        ),
    ];
    for (keys, values) in expect {
        for (key, value) in keys.iter().zip(values) {
            assert_eq!(get(*key), value, "P{key}\n{text}");
        }
    }
    assert!(text.contains("<P1469>Reception &amp; Co</P1469>"), "{text}");
    // Every other slot is written None, so the phone drops keys it had; a sequence without
    // gaps ("Skipping one will remove everything after that VPK").
    assert_eq!(get(23964), Some("-1"), "VPK 48");
    assert_eq!(get(23195), Some("-1"), "EXT MPK 40");
    assert_eq!(get(23200), None, "a second module is not attached");

    // Keys no layer sets any more are cleared on the phone, the line stays.
    api.set_keys("devices", Some(GXP2170), json!([])).ok().await;
    let (_, config) = fetch(&server, GXP2170).await;
    assert_eq!(p(&config, 1363), Some("0"));
    assert_eq!(p(&config, 1365), Some("-1"));
    assert_eq!(p(&config, 1468), Some(""));
    assert_eq!(p(&config, 23000), Some("-1"));
}

/// Physical MPKs after the VPKs: GXP "MPK 1- GXP2130/2160 only" P323/P301/P302/P303, MPK 8
/// P353-P356, MPK 9 P357, MPK 19 P1440. GXP16: line keys 1-3 at P1363…P1470 ("0 - Line,
/// 11 - BLF, 19 - Call Park"; BLF and park "for GXP1628/1630 only"), MPK 1-8 "GXP1628/1630
/// only" at the same P-values as the GXP's ("0 - Speed dial, 1 - Busy Lamp Field"), no None:
/// a slot without a key gets 0. The GRP2616's VPKs with GRP's mode list.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mpks_follow_the_vpks_on_gxp2160_and_gxp16xx_and_grp_has_its_own_modes() {
    let server = office(&[
        (GXP2160, "GXP2160"),
        (GXP1630, "GXP1630"),
        (GXP1620, "GXP1620"),
    ])
    .await;
    let api = server.admin_api();
    api.set_keys(
        "models",
        Some("GXP2160"),
        json!([
            {"position": 2, "type": "speed_dial", "value": "2002"},
            {"position": 25, "type": "blf", "value": "1002"},
            {"position": 32, "type": "park", "value": "701"},
            {"position": 33, "type": "dtmf", "value": "#9"},
            {"position": 43, "type": "intercom", "value": "1003"},
            {"position": 48, "type": "transfer", "value": "1003"},
        ]),
    )
    .ok()
    .await;
    let (text, config) = fetch(&server, GXP2160).await;
    for (key, value) in [
        (1365, "10"),
        (1468, "2002"),
        (323, "1"),
        (301, "0"),
        (302, "Bob Example"),
        (303, "1002"),
        (353, "9"),
        (356, "701"),
        (357, "5"),
        (360, "#9"),
        (1440, "10"),
        (1443, "1003"),
        (1460, "8"),
        (1463, "1003"),
        // Unused MPK 2.
        (324, "-1"),
    ] {
        assert_eq!(p(&config, key), Some(value), "P{key}\n{text}");
    }

    let gxp16_keys = json!([
        {"position": 2, "type": "blf", "value": "1002"},
        {"position": 3, "type": "park", "value": "702"},
        {"position": 4, "type": "blf", "value": "1003"},
        {"position": 11, "type": "voicemail"},
    ]);
    api.set_keys("devices", Some(GXP1630), gxp16_keys)
        .ok()
        .await;
    let (text, config) = fetch(&server, GXP1630).await;
    for (key, value) in [
        (1363, "0"),
        (1365, "11"),
        (1468, "1002"),
        (1367, "19"),
        (1470, "702"),
        (323, "1"),
        (303, "1003"),
        (353, "6"),
        // Unused MPK 2: the template's default, an empty speed dial.
        (324, "0"),
        (306, ""),
    ] {
        assert_eq!(p(&config, key), Some(value), "P{key}\n{text}");
    }
    assert_eq!(p(&config, 23800), None, "no VPK 7 on a GXP16xx");

    // The GXP1620 has two line keys and no BLF mode: the key is written as a plain line key.
    api.set_keys(
        "devices",
        Some(GXP1620),
        json!([{"position": 2, "type": "blf", "value": "1002"}]),
    )
    .ok()
    .await;
    let (text, config) = fetch(&server, GXP1620).await;
    assert_eq!(p(&config, 1365), Some("0"), "{text}");
    assert_eq!(p(&config, 1468), Some(""), "{text}");
    assert_eq!(p(&config, 323), None, "{text}");

    // GRP "For GRP2616": VPK 1-6 fixed, "Default (31)" the line there, the other modes the
    // dynamic list's on both ("BLF (1)", "DND (22)"); VPK 7 on at P23800.
    api.create_device(NewDevice::new(GRP2616).model("GRP2616"))
        .ok()
        .await;
    api.assign(GRP2616, 1, "1001").ok().await;
    api.set_keys(
        "devices",
        Some(GRP2616),
        json!([
            {"position": 2, "type": "blf", "value": "1002"},
            {"position": 7, "type": "dnd"},
            {"position": 24, "type": "forward", "value": "0301234"},
            {"position": 25, "type": "blf", "value": "1003"},
        ]),
    )
    .ok()
    .await;
    let (text, config) = fetch(&server, GRP2616).await;
    for (key, value) in [
        (1363, "31"),
        (1365, "1"),
        (1468, "1002"),
        (23800, "22"),
        (23868, "21"),
        (23871, "0301234"),
        (1367, "-1"),
        // "Physical Multi-Purpose Keys - GRP2614/GRP2616 only": MPK 1 after the 24 VPKs,
        // the dynamic list's codes, MPK 2 cleared.
        (323, "1"),
        (301, "0"),
        (303, "1003"),
        (324, "-1"),
    ] {
        assert_eq!(p(&config, key), Some(value), "P{key}\n{text}");
    }
    assert_eq!(p(&config, 23872), None, "no VPK 25 on a GRP2616");

    // "For GRP2615": VPK 1-5 fixed, 40 VPKs (the last at P23932), no MPKs.
    api.create_device(NewDevice::new(GRP2615).model("GRP2615"))
        .ok()
        .await;
    api.assign(GRP2615, 1, "1001").ok().await;
    api.set_keys(
        "devices",
        Some(GRP2615),
        json!([
            {"position": 5, "type": "blf", "value": "1002"},
            {"position": 40, "type": "speed_dial", "value": "0301234"},
        ]),
    )
    .ok()
    .await;
    let (text, config) = fetch(&server, GRP2615).await;
    for (key, value) in [
        (1371, "1"),
        (1474, "1002"),
        (23932, "0"),
        (23935, "0301234"),
    ] {
        assert_eq!(p(&config, key), Some(value), "P{key}\n{text}");
    }
    assert_eq!(p(&config, 323), None, "no MPK on a GRP2615\n{text}");
}

/// More keys than a GXP2135 has (32 VPKs, no extension boards), or a module key on a GXP2170
/// without one attached, is refused naming the model; nothing changes, the phone's file
/// included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_beyond_a_grandstreams_capacity_are_refused_and_change_nothing() {
    let server = office(&[(GXP2135, "GXP2135"), (GXP2170, "GXP2170")]).await;
    let api = server.admin_api();
    let (before, _) = fetch(&server, GXP2135).await;
    let too_many: Vec<Value> = (1..=33)
        .map(|p| json!({"position": p, "type": "speed_dial", "value": format!("{}", 2000 + p)}))
        .collect();
    let refused = api
        .set_keys("devices", Some(GXP2135), Value::Array(too_many))
        .fails(StatusCode::BAD_REQUEST)
        .await;
    let error = refused["error"].as_str().unwrap();
    assert!(
        error.contains("GXP2135") && error.contains("32 keys"),
        "{error}"
    );
    let refused = api
        .set_keys(
            "devices",
            Some(GXP2170),
            json!([{"module": 1, "position": 1, "type": "blf", "value": "1002"}]),
        )
        .fails(StatusCode::BAD_REQUEST)
        .await;
    assert!(
        refused["error"].as_str().unwrap().contains("GXP2170"),
        "{refused}"
    );
    assert_eq!(api.keys("devices", Some(GXP2135)).ok().await, json!([]));
    assert_eq!(api.keys("devices", Some(GXP2170)).ok().await, json!([]));
    assert_eq!(
        fetch(&server, GXP2135).await.0,
        before,
        "the file is unchanged"
    );
}

/// GXP and GRP "Phonebook/LDAP": P8037 "LDAP protocol. 0 - LDAP, 1 - LDAPS", P8020 server,
/// P8021 port, P8022 base, P8023 user name, P8024 password, P8025 number filter, P8026 name
/// filter, P8027 version (3), P8028 name attributes, P8029 number attributes, P8030 display
/// name; GXP16 has the protocol at P8370. No StartTLS: such a directory is not written. The
/// bind password is in the device file only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ldap_directory_lands_in_grandstreams_p_values_and_its_password_in_the_device_file_only()
 {
    let server = office(&[(GXP2135, "GXP2135"), (GXP1630, "GXP1630")]).await;
    let api = server.admin_api();
    crate::logs::remember_secret(BIND_PASSWORD);
    api.patch_settings(json!({
        "ldap_server": "Directory.Example.com",
        "ldap_tls": "ldaps",
        "ldap_base": "ou=people,dc=example,dc=com",
        "ldap_user": "cn=phones,dc=example,dc=com",
        "ldap_password": BIND_PASSWORD,
        "ldap_name_filter": "(|(cn=%)(sn=%))",
    }))
    .ok()
    .await;
    let (text, config) = fetch(&server, GXP2135).await;
    for (key, value) in [
        (8037, "1"),
        (8020, "directory.example.com"),
        (8021, "636"),
        (8022, "ou=people,dc=example,dc=com"),
        (8023, "cn=phones,dc=example,dc=com"),
        (8024, BIND_PASSWORD),
        (8025, "(|(telephoneNumber=%)(mobile=%)(homePhone=%))"),
        (8026, "(|(cn=%)(sn=%))"),
        (8027, "3"),
        (8028, "cn o"),
        (8029, "telephoneNumber mobile homePhone"),
        (8030, "%cn %o"),
    ] {
        assert_eq!(p(&config, key), Some(value), "P{key}\n{text}");
    }
    assert_eq!(p(&config, 8370), None);
    let (_, config) = fetch(&server, GXP1630).await;
    assert_eq!(p(&config, 8370), Some("1"));
    assert_eq!(p(&config, 8037), None);
    assert_eq!(p(&config, 8024), Some(BIND_PASSWORD));

    let common = server.phone_get("/cfg.xml", "").await;
    assert_eq!(common.status, StatusCode::OK);
    assert!(!common.text().contains(BIND_PASSWORD) && !common.text().contains("P8020"));

    api.patch_settings(json!({"ldap_tls": "none"})).ok().await;
    let (_, config) = fetch(&server, GXP2135).await;
    assert_eq!(p(&config, 8037), Some("0"));
    assert_eq!(p(&config, 8021), Some("389"));
    api.patch_settings(json!({"ldap_tls": "starttls"}))
        .ok()
        .await;
    let (text, _) = fetch(&server, GXP2135).await;
    assert!(
        !text.contains("P8020") && !text.contains(BIND_PASSWORD),
        "no directory over StartTLS\n{text}"
    );
}

/// A GXP2140 (4 fixed and 12 dynamic VPKs, one GXP2200EXT attached) with ten keys of mixed
/// types over the phone and its extension board, byte for byte.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gxp2140_with_ten_keys_and_a_module_matches_its_golden_file() {
    const GXP2140: &str = "000b82aa2140";
    let server = office(&[(GXP2140, "GXP2140")]).await;
    server
        .admin_api()
        .patch_device(GXP2140, json!({"expansion_modules": 1}))
        .ok()
        .await;
    let keys = json!([
        {"position": 2, "type": "blf", "value": "1002"},
        {"position": 3, "type": "speed_dial", "value": "+4930123456", "label": "Reception"},
        {"position": 4, "type": "dnd"},
        {"position": 5, "type": "dtmf", "value": "*21#", "label": "Code"},
        {"position": 6, "type": "voicemail", "label": "Mailbox"},
        {"position": 7, "type": "park", "value": "700"},
        {"position": 8, "type": "transfer", "label": "Transfer"},
        {"position": 16, "type": "intercom", "value": "1002"},
        {"module": 1, "position": 1, "type": "blf", "value": "1003", "label": "Carol & Co"},
        {"module": 1, "position": 40, "type": "speed_dial", "value": "1001"},
    ]);
    server
        .admin_api()
        .set_keys("devices", Some(GXP2140), keys)
        .ok()
        .await;
    let (text, _) = fetch(&server, GXP2140).await;
    let (_, password) = server.credentials(GXP2140).await;
    crate::golden::check(
        &format!("grandstream/{GXP2140}-gxp2140-keys.xml"),
        &text,
        Some(&password),
    );
}

/// Hot desking on Grandstream goes through the PBX's IVR, not deskprov: a GXP cannot be a
/// hot-desk phone, so no login key ever reaches one (`hotdesk` keys have no mode either).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gxp_is_no_hot_desk_phone_so_it_gets_no_login_key() {
    let server = TestServer::start().await;
    let refused = server
        .admin_api()
        .create_device(NewDevice::new("000b82aa2140").model("GXP2140").hotdesk())
        .fails(StatusCode::BAD_REQUEST)
        .await;
    assert!(
        refused["error"].as_str().unwrap().contains("GXP2140"),
        "{refused}"
    );
}
