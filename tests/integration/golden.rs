//! Golden files for rendered configs (fixtures/golden/<vendor>/). Each rendered file is parsed
//! back with a real parser (the strict key = value parser, or quick-xml through `xmlflat`) and
//! its full key set and values compared with the golden file's, so an injected or lost key
//! fails; then the bytes are compared too. The device's random provisioning password stands as
//! a placeholder in the golden files.
//! `UPDATE_GOLDEN=1 cargo test golden` rewrites them after an intended change; review the diff.

use std::collections::BTreeMap;

use serde_json::json;

use crate::api::{NewDevice, NewUser};
use crate::helpers::*;
use crate::{kv, xmlflat};

const PASSWORD_PLACEHOLDER: &str = "PROVISIONING-PASSWORD";

/// The phones' own admin password in the seeded settings: a secret, so in device files only.
const ADMIN_PASSWORD: &str = "golden-admin-pw-1";

/// Legal but hostile display names: characters that break XML or look like syntax.
const NAMES: [(&str, &str); 2] = [
    ("1001", "Zoë O'Neil & <Co> \"Sales\""),
    ("1002", "a = b # {{not.a.template}} ]]>"),
];

/// (MAC, model, firmware file, firmware version): one desk phone and, where the vendor has one,
/// one DECT base per vendor, each model with a target firmware served by deskprov.
const DEVICES: &[(&str, &str, &str, &str)] = &[
    (T46S_MAC, "T46S", "66.86.0.15.rom", "66.86.0.15"),
    (W70B_MAC, "W70B", "146.85.0.20.rom", "146.85.0.20"),
    (
        "0004f2aabbcc",
        "VVX400",
        "3111-46157-002.sip.ld",
        "6.4.6.2442",
    ),
    (
        "d0ec35aabbcc",
        "CP-8851-3PCC",
        "sip88xx.12-0-1MPP-1.loads",
        "sip88xx.12-0-1MPP-1",
    ),
    (
        "000413aabbcc",
        "D785",
        "snomD785-10.1.159.12-r.bin",
        "10.1.159.12",
    ),
    ("000413aabbdd", "M900", "m900-530B1.bin", "530B1"),
    ("000b82aabbcc", "GXP2135", "gxp2135fw.bin", "1.0.11.79"),
    ("000b82aabbdd", "DP750", "dp750fw.bin", "1.0.19.6"),
    ("7c2f80aabbcc", "N870", "n870-2.53.3.bin", "2.53.3"),
    ("0c383eaabbcc", "X4U", "x4u-2.12.20.bin", "2.12.20"),
];

/// The site's private CA: every vendor's config installs it.
const SITE_CA: &str = include_str!("../../fixtures/tls/site-ca.crt");

/// (path the phone asks for, golden file, MAC whose provisioning password to mask)
type GoldenFile = (&'static str, &'static str, Option<&'static str>);
const FILES: &[GoldenFile] = &[
    (
        "/001565aabbcc.cfg",
        "yealink/001565aabbcc-t46s.cfg",
        Some(T46S_MAC),
    ),
    (
        "/805e0c1d654e.cfg",
        "yealink/805e0c1d654e-w70b.cfg",
        Some(W70B_MAC),
    ),
    ("/y000000000066.cfg", "yealink/y000000000066.cfg", None),
    ("/y000000000146.cfg", "yealink/y000000000146.cfg", None),
    ("/001565aabbcc.boot", "yealink/001565aabbcc.boot", None),
    ("/0004f2aabbcc.cfg", "polycom/master.cfg", None),
    ("/polycom-common.cfg", "polycom/polycom-common.cfg", None),
    (
        "/0004f2aabbcc-deskprov.cfg",
        "polycom/0004f2aabbcc-vvx400.cfg",
        Some("0004f2aabbcc"),
    ),
    ("/8851-3PCC.xml", "cisco/8851-3PCC.xml", None),
    (
        "/cisco-d0ec35aabbcc.xml",
        "cisco/d0ec35aabbcc-8851.xml",
        Some("d0ec35aabbcc"),
    ),
    ("/snomD785.htm", "snom/snomD785.htm", None),
    (
        "/snomD785-000413AABBCC.htm",
        "snom/000413aabbcc-d785.xml",
        Some("000413aabbcc"),
    ),
    (
        "/snomM900-000413AABBDD.htm",
        "snom/000413aabbdd-m900.xml",
        Some("000413aabbdd"),
    ),
    ("/cfg.xml", "grandstream/cfg.xml", None),
    (
        "/cfg000b82aabbcc.xml",
        "grandstream/000b82aabbcc-gxp2135.xml",
        Some("000b82aabbcc"),
    ),
    (
        "/cfg000b82aabbdd.xml",
        "grandstream/000b82aabbdd-dp750.xml",
        Some("000b82aabbdd"),
    ),
    (
        "/7c2f80aabbcc.xml",
        "gigaset/7c2f80aabbcc-n870.xml",
        Some("7c2f80aabbcc"),
    ),
    ("/F0V00X300000.cfg", "fanvil/F0V00X300000.cfg", None),
    (
        "/0c383eaabbcc.cfg",
        "fanvil/0c383eaabbcc-x4u.cfg",
        Some("0c383eaabbcc"),
    ),
];

async fn seeded() -> TestServer {
    let server = TestServer::start_with(|c| {
        c.server.public_url = Some("https://prov.example.com:8443/".into())
    })
    .await;
    let api = server.admin_api();
    api.patch_settings(json!({
        "sip_server": "pbx.example.com",
        "sip_port": 5061,
        "sip_transport": "tls",
        "ntp_server": "ntp.example.com",
        "outbound_proxy": "proxy.example.com:5070",
        "time_zone": "Europe/Berlin",
        "language": "de",
        "phone_admin_password": ADMIN_PASSWORD,
        "ca_certificate": SITE_CA,
        "resync_minutes": 120,
    }))
    .ok()
    .await;
    for (i, (extension, name)) in NAMES.iter().enumerate() {
        let password = format!("golden-secret-000{i}");
        let user = NewUser::new(extension, name).sip_password(&password);
        api.create_user(user).ok().await;
    }
    for (mac, model, file, version) in DEVICES {
        let firmware = json!({"firmware_file": file, "firmware_version": version});
        api.patch_model_settings(model, firmware).ok().await;
        let device = NewDevice::new(mac).model(model).label("Reception");
        api.create_device(device).ok().await;
        api.assign(mac, 1, "1001").ok().await;
        api.assign(mac, 2, "1002").ok().await;
    }
    server
}

/// Each device's `Authorization`: the golden files are fetched as a provisioned phone fetches
/// them, with the credentials its first config handed it. (A claim needs the phone's own
/// User-Agent, whose firmware would change what some vendors render; claims are tested in
/// claims.rs and vendors.rs.)
async fn authorizations(server: &TestServer) -> BTreeMap<&'static str, String> {
    let mut by_mac = BTreeMap::new();
    for (mac, ..) in DEVICES {
        let (user, password) = server.credentials(mac).await;
        let authorization = basic(&user, &password);
        crate::logs::remember_authorization(&authorization);
        by_mac.insert(*mac, authorization);
    }
    by_mac
}

/// A golden file's path as the phone asks for it: a device file with the device's
/// credentials, the boot file with the T46S's User-Agent (it names the common file of the
/// family the phone's firmware says), other common files bare.
async fn fetch(
    server: &TestServer,
    authorizations: &BTreeMap<&'static str, String>,
    (path, _, mac): &GoldenFile,
) -> deskprov::client::Reply {
    match mac {
        Some(mac) => {
            let authorization = authorizations[mac].as_str();
            server
                .phone_get_with(path, &[("authorization", authorization)])
                .await
        }
        None if path.ends_with(".boot") => server.phone_get(path, T46S_UA).await,
        None => server.phone_get(path, "").await,
    }
}

fn parse(name: &str, text: &str) -> Result<BTreeMap<String, String>, String> {
    if name.starts_with("yealink/") {
        kv::parse(text)
    } else {
        xmlflat::flatten(text)
    }
}

/// Compares `actual` (its provisioning password masked) with the golden file `name`: first the
/// parsed key set, then the bytes. `UPDATE_GOLDEN=1` writes the file first.
pub(crate) fn check(name: &str, actual: &str, provisioning_password: Option<&str>) {
    let path = fixtures().join("golden").join(name);
    let normalised = match provisioning_password {
        Some(p) => actual.replace(p, PASSWORD_PLACEHOLDER),
        None => actual.to_string(),
    };
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &normalised).unwrap();
    }
    let expected =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let expected_keys = parse(name, &expected).unwrap_or_else(|e| panic!("golden {name}: {e}"));
    let actual_keys = parse(name, &normalised).unwrap_or_else(|e| panic!("rendered {name}: {e}"));
    assert_eq!(
        actual_keys, expected_keys,
        "{name}: key set or values differ"
    );
    assert_eq!(normalised, expected, "{name}: bytes differ");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_vendor_matches_its_golden_files() {
    let server = seeded().await;
    let authorizations = authorizations(&server).await;
    for file @ (path, golden, mac) in FILES {
        let reply = fetch(&server, &authorizations, file).await;
        assert_eq!(reply.status, http::StatusCode::OK, "{path}");
        let password = match mac {
            Some(mac) => Some(server.credentials(mac).await.1),
            None => None,
        };
        check(golden, &reply.text(), password.as_deref());
    }
}

/// Common files (those without a MAC to mask) never carry the phone admin password; every
/// device file does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_phone_admin_password_is_in_device_files_only() {
    let server = seeded().await;
    let authorizations = authorizations(&server).await;
    for file @ (path, golden, mac) in FILES {
        let reply = fetch(&server, &authorizations, file).await;
        assert_eq!(reply.status, http::StatusCode::OK, "{path}");
        assert_eq!(
            reply.text().contains(ADMIN_PASSWORD),
            mac.is_some(),
            "{golden}: the admin password belongs in device files only"
        );
    }
}

/// Every time zone and language renders into files that still parse: no template refers to a
/// vendor code missing for some zone or language.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_zone_and_language_renders() {
    let server = seeded().await;
    let authorizations = authorizations(&server).await;
    let languages = deskprov::locale::LANGUAGES.iter().cycle();
    for (zone, language) in deskprov::locale::TIME_ZONES.iter().zip(languages) {
        server
            .admin_api()
            .patch_settings(
                json!({"time_zone": zone.name, "language": language.code, "outbound_proxy": null}),
            )
            .ok()
            .await;
        for file @ (path, golden, _) in FILES {
            let reply = fetch(&server, &authorizations, file).await;
            assert_eq!(
                reply.status,
                http::StatusCode::OK,
                "{path} in {}",
                zone.name
            );
            parse(golden, &reply.text())
                .unwrap_or_else(|e| panic!("{golden} in {} ({}): {e}", zone.name, language.code));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_names_never_change_the_key_set() {
    let server = seeded().await;
    let api = server.admin_api();
    let authorizations = authorizations(&server).await;
    let device_files: Vec<&GoldenFile> = FILES.iter().filter(|(_, _, mac)| mac.is_some()).collect();
    let mut baselines = Vec::new();
    for file @ (_, golden, _) in &device_files {
        let text = fetch(&server, &authorizations, file).await.text();
        baselines.push(parse(golden, &text).unwrap());
    }
    for refused in [
        "x\ny = 1",
        "x\r\naccount.1.sip_server.1.address = evil",
        "nul\u{0}byte",
        "sep\u{2028}arator",
        "tab\tbed",
        &"y".repeat(10_000),
    ] {
        let r = api
            .patch_user("1001", json!({"display_name": refused}))
            .await;
        assert_eq!(r.status, http::StatusCode::BAD_REQUEST, "{refused:?}");
    }
    for name in [
        "<script>&amp;</script>",
        "\"'\"'",
        "= = =",
        "#!version:1.0.0.1",
        "%NULL%",
        "]]><x/>",
        "--><!--",
    ] {
        api.patch_user("1001", json!({"display_name": name}))
            .ok()
            .await;
        for (file @ (path, golden, _), baseline) in device_files.iter().zip(&baselines) {
            let text = fetch(&server, &authorizations, file).await.text();
            let keys = parse(golden, &text).unwrap_or_else(|e| panic!("{path} with {name:?}: {e}"));
            assert_eq!(
                keys.keys().collect::<Vec<_>>(),
                baseline.keys().collect::<Vec<_>>(),
                "{path} with {name:?}"
            );
            assert!(
                keys.values().any(|v| v == name),
                "{path}: the name is not rendered verbatim"
            );
        }
    }
}

/// Hot-desk phones: (MAC, model, the file the phone asks for, golden name, handset index).
const HOTDESK: &[(&str, &str, &str, &str, Option<&str>)] = &[
    (
        "001565aabbee",
        "T54W",
        "/001565aabbee.cfg",
        "yealink/001565aabbee-t54w-hotdesk",
        None,
    ),
    (
        "64167faabbee",
        "VVX450",
        "/64167faabbee-deskprov.cfg",
        "polycom/64167faabbee-vvx450-hotdesk",
        None,
    ),
    (
        "d0ec35aabbee",
        "CP-8851-3PCC",
        "/cisco-d0ec35aabbee.xml",
        "cisco/d0ec35aabbee-8851-hotdesk",
        None,
    ),
    (
        "000413aabbee",
        "D785",
        "/snomD785-000413AABBEE.htm",
        "snom/000413aabbee-d785-hotdesk",
        None,
    ),
    (
        "000413aabbef",
        "M900",
        "/snomM900-000413AABBEF.htm",
        "snom/000413aabbef-m900-hotdesk",
        Some("3"),
    ),
];

const TOKEN_PLACEHOLDER: &str = "LOGIN-TOKEN";

/// The login token in every hot-desk URL, masked: it is random.
fn mask_login_tokens(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("/hotdesk/") {
        let start = at + "/hotdesk/".len();
        out.push_str(&rest[..start]);
        out.push_str(TOKEN_PLACEHOLDER);
        rest = &rest[start + 32..];
    }
    out.push_str(rest);
    out
}

/// Logged out (with the lobby account) and logged in, each hot-desk config against its golden file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hotdesk_configs_match_their_golden_files() {
    let server = seeded().await;
    let api = server.admin_api();
    api.patch_user("1001", json!({"pin": "739164"})).ok().await;
    api.patch_settings(json!({"lobby_extension": "1002"}))
        .ok()
        .await;
    for (mac, model, path, golden, handset) in HOTDESK {
        let desk = NewDevice::new(mac).model(model).hotdesk();
        api.create_device(desk).ok().await;
        let (user, password) = server.credentials(mac).await;
        let auth = basic(&user, &password);
        let headers = [("authorization", auth.as_str())];
        let fetch = || server.phone_get_with(path, &headers);
        let name = |state: &str| {
            let ext = if golden.starts_with("yealink/") {
                "cfg"
            } else {
                "xml"
            };
            format!("{golden}-{state}.{ext}")
        };
        let logged_out = fetch().await.text();
        check(
            &name("out"),
            &mask_login_tokens(&logged_out),
            Some(&password),
        );
        let at = logged_out.find("/hotdesk/").unwrap();
        let token = &logged_out[at + 9..at + 41];
        let handset = handset.map(|i| format!("&IDX={i}")).unwrap_or_default();
        let login = format!("/hotdesk/{token}/login?ext=1001&pin=739164{handset}");
        let welcome = server.phone_get(&login, "").await.text();
        assert!(welcome.contains("Welcome"), "{golden}: {welcome}");
        check(
            &name("in"),
            &mask_login_tokens(&fetch().await.text()),
            Some(&password),
        );
    }
}
