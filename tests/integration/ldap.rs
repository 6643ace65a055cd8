//! LDAP settings for phones that search the company directory themselves, and the PBX's feature
//! codes keys use: inherited like every setting, checked when set, rendered in each vendor's
//! own keys in device files only (the bind password is a secret), and absent while unset.

use std::collections::BTreeMap;

use http::StatusCode;
use serde_json::{Value, json};

use crate::api::{AuditFilter, NewDevice};
use crate::helpers::*;
use crate::{kv, xmlflat};

const SNOM: &str = "000413aabbcd";
const SNOM_FILE: &str = "/snomD785-000413AABBCD.htm";
const BIND_PASSWORD: &str = "ldap-bind-Secret-42";

/// The directory of the `branch` profile, which the T46S uses.
fn branch_directory() -> Value {
    json!({
        "ldap_server": "Directory.Example.com",
        "ldap_tls": "ldaps",
        "ldap_base": "ou=people,dc=example,dc=com",
        "ldap_user": "cn=phones,dc=example,dc=com",
        "ldap_password": BIND_PASSWORD,
        "ldap_name_filter": "(|(cn=%)(sn=%))",
        "ldap_name_attr": "cn  sn",
        "ldap_name_display": "%cn",
    })
}

async fn device_file(server: &TestServer, mac: &str, path: &str) -> String {
    let (user, password) = server.credentials(mac).await;
    let reply = server
        .phone_get_with(path, &[("authorization", &basic(&user, &password))])
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{path}");
    reply.text()
}

async fn yealink_config(server: &TestServer) -> BTreeMap<String, String> {
    let text = device_file(server, T46S_MAC, "/001565aabbcc.cfg").await;
    kv::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

async fn snom_config(server: &TestServer) -> BTreeMap<String, String> {
    let text = device_file(server, SNOM, SNOM_FILE).await;
    xmlflat::flatten(&text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn get<'m>(config: &'m BTreeMap<String, String>, key: &str) -> Option<&'m str> {
    config.get(key).map(String::as_str)
}

/// Yealink's `ldap.*` keys as Tancredi's `data/templates/yealink.tmpl` writes them: `tls_mode`
/// 2 for LDAPS, the port 636 it implies, `numb_attr` for the number attributes. Set on a
/// profile, the directory reaches the device file; the password is shown nowhere else.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_yealink_gets_the_profiles_directory_and_only_its_device_file_the_password() {
    let server = TestServer::start().await;
    server.seed_desk_phone().await;
    let api = server.admin_api();
    crate::logs::remember_secret(BIND_PASSWORD);
    let before = yealink_config(&server).await;
    assert!(
        !before.keys().any(|k| k.starts_with("ldap.")),
        "no directory while ldap_server is unset"
    );

    api.create_profile(json!({"name": "branch", "settings": branch_directory()}))
        .ok()
        .await;
    api.patch_device(T46S_MAC, json!({"profile": "branch"}))
        .ok()
        .await;
    let config = yealink_config(&server).await;
    // (key, value) from Tancredi yealink.tmpl's LDAP section.
    for (key, value) in [
        ("ldap.enable", "1"),
        ("ldap.host", "directory.example.com"),
        ("ldap.port", "636"),
        ("ldap.tls_mode", "2"),
        ("ldap.version", "3"),
        ("ldap.base", "ou=people,dc=example,dc=com"),
        ("ldap.user", "cn=phones,dc=example,dc=com"),
        ("ldap.password", BIND_PASSWORD),
        ("ldap.name_filter", "(|(cn=%)(sn=%))"),
        // Tancredi's defaults where the profile sets none.
        (
            "ldap.number_filter",
            "(|(telephoneNumber=%)(mobile=%)(homePhone=%))",
        ),
        ("ldap.name_attr", "cn sn"),
        ("ldap.numb_attr", "telephoneNumber mobile homePhone"),
        ("ldap.display_name", "%cn"),
        ("directory_setting.ldap.enable", "1"),
    ] {
        assert_eq!(get(&config, key), Some(value), "{key}");
    }

    // A device's own port and StartTLS override the profile's.
    api.patch_device_settings(T46S_MAC, json!({"ldap_port": 3389, "ldap_tls": "starttls"}))
        .ok()
        .await;
    let config = yealink_config(&server).await;
    assert_eq!(get(&config, "ldap.port"), Some("3389"));
    assert_eq!(get(&config, "ldap.tls_mode"), Some("1"));

    // The common file carries no secret, and no directory at all.
    let common = server.phone_get("/y000000000066.cfg", T46S_UA).await;
    assert_eq!(common.status, StatusCode::OK);
    assert!(!common.text().contains(BIND_PASSWORD) && !common.text().contains("ldap."));

    // API answers show the password as "[set]"; the audit trail too.
    let profile = api.show_profile("branch").ok().await;
    assert_eq!(profile["settings"]["ldap_password"], "[set]", "{profile}");
    let effective = api.device_settings(T46S_MAC).ok().await;
    assert_eq!(effective["effective"]["ldap_password"]["value"], "[set]");
    assert_eq!(
        effective["effective"]["ldap_password"]["from"],
        json!({"level": "profile", "name": "branch"})
    );
    let audit = api.list_audit(AuditFilter::kind("admin_change")).ok().await;
    assert!(audit.to_string().contains("ldap_password=[set]"), "{audit}");
    assert!(!audit.to_string().contains(BIND_PASSWORD));
    assert!(!profile.to_string().contains(BIND_PASSWORD));
}

/// Snom's `ldap_*` settings as peers write them (SARK `aelintra/saltlife`
/// `sail-6/opt/sark/db/db_v4_device.sql`, snom.Common: `ldap_server`, `ldap_port`, `ldap_base`,
/// `ldap_username`, `ldap_password`, `ldap_search_filter`, `ldap_number_filter`,
/// `ldap_name_attributes`, `ldap_number_attributes`, `ldap_display_name`, and `ldap_over_tls`,
/// LDAPS only). StartTLS, which no Snom source gives, leaves the phone without a directory
/// rather than sending its bind password in the clear.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snom_gets_the_directory_over_ldaps_and_none_over_starttls() {
    let server = TestServer::start().await;
    let api = server.admin_api();
    crate::logs::remember_secret(BIND_PASSWORD);
    api.create_device(NewDevice::new(SNOM).model("D785"))
        .ok()
        .await;
    api.patch_model_settings("D785", branch_directory())
        .ok()
        .await;
    let config = snom_config(&server).await;
    let setting = |name: &str| get(&config, &format!("settings/phone-settings/{name}"));
    for (name, value) in [
        ("ldap_server", "directory.example.com"),
        ("ldap_port", "636"),
        ("ldap_over_tls", "on"),
        ("ldap_base", "ou=people,dc=example,dc=com"),
        ("ldap_username", "cn=phones,dc=example,dc=com"),
        ("ldap_password", BIND_PASSWORD),
        ("ldap_search_filter", "(|(cn=%)(sn=%))"),
        (
            "ldap_number_filter",
            "(|(telephoneNumber=%)(mobile=%)(homePhone=%))",
        ),
        ("ldap_name_attributes", "cn sn"),
        ("ldap_number_attributes", "telephoneNumber mobile homePhone"),
        ("ldap_display_name", "%cn"),
    ] {
        assert_eq!(setting(name), Some(value), "{name}");
    }

    api.patch_model_settings("D785", json!({"ldap_tls": "none"}))
        .ok()
        .await;
    let config = snom_config(&server).await;
    assert_eq!(
        get(&config, "settings/phone-settings/ldap_over_tls"),
        Some("off")
    );
    assert_eq!(
        get(&config, "settings/phone-settings/ldap_port"),
        Some("389")
    );

    api.patch_model_settings("D785", json!({"ldap_tls": "starttls"}))
        .ok()
        .await;
    let config = snom_config(&server).await;
    assert!(
        !config.keys().any(|k| k.contains("/ldap_")),
        "no Snom directory over StartTLS"
    );
}

/// A device of `model` whose file has no directory while `ldap_server` is unset (no element
/// or attribute naming `marker`), then the branch's directory set on it: its file's text.
async fn with_branch_directory(
    server: &TestServer,
    (mac, model, path): (&str, &str, &str),
    marker: &str,
) -> String {
    let api = server.admin_api();
    crate::logs::remember_secret(BIND_PASSWORD);
    api.create_device(NewDevice::new(mac).model(model))
        .ok()
        .await;
    let before = xmlflat::flatten(&device_file(server, mac, path).await).unwrap();
    assert!(
        !before.keys().any(|k| k.contains(marker)),
        "none while unset"
    );
    api.patch_device_settings(mac, branch_directory())
        .ok()
        .await;
    device_file(server, mac, path).await
}

/// Cisco MPP's corporate directory as Cisco's "Parameters for LDAP Directory" give it (Cisco
/// IP Conference Phone 7832 Multiplatform Phones Administration Guide 11.3(1), chapter
/// "Corporate and Personal Directory Setup"): `LDAP_Server` as an `ldap://` or `ldaps://` URL,
/// `LDAP_StartTLS_Enable`, `Simple` bind with the client DN, `$VALUE` in the filters, `a=` display
/// attributes with one dialable number (`t=p`). Only the device file holds the bind password.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cisco_gets_the_directory_in_its_ldap_parameters() {
    let server = TestServer::start().await;
    let api = server.admin_api();
    let (mac, path) = ("d0ec35aabbce", "/cisco-d0ec35aabbce.xml");
    let text = with_branch_directory(&server, (mac, "CP-8851-3PCC", path), "/LDAP_").await;
    let config = xmlflat::flatten(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let setting = |name: &str| get(&config, &format!("flat-profile/{name}"));
    for (name, value) in [
        ("LDAP_Dir_Enable", "Yes"),
        ("LDAP_Server", "ldaps://directory.example.com:636"),
        ("LDAP_StartTLS_Enable", "No"),
        ("LDAP_Auth_Method", "Simple"),
        ("LDAP_Search_Base", "ou=people,dc=example,dc=com"),
        ("LDAP_Client_DN", "cn=phones,dc=example,dc=com"),
        ("LDAP_Password", BIND_PASSWORD),
        ("LDAP_First_Name_Filter", "cn:(|(cn=$VALUE*)(sn=$VALUE*))"),
        ("LDAP_Last_Name_Filter", "cn:(|(cn=$VALUE*)(sn=$VALUE*))"),
        (
            "LDAP_Display_Attrs",
            "a=cn;a=sn;a=telephoneNumber,t=p;a=mobile;a=homePhone;",
        ),
    ] {
        assert_eq!(setting(name), Some(value), "{name}");
    }

    api.patch_device_settings(
        mac,
        json!({"ldap_tls": "starttls", "ldap_port": 3389, "ldap_user": null, "ldap_password": null}),
    )
    .ok()
    .await;
    let config = xmlflat::flatten(&device_file(&server, mac, path).await).unwrap();
    let setting = |name: &str| get(&config, &format!("flat-profile/{name}"));
    assert_eq!(
        setting("LDAP_Server"),
        Some("ldap://directory.example.com:3389")
    );
    assert_eq!(setting("LDAP_StartTLS_Enable"), Some("Yes"));
    assert_eq!(setting("LDAP_Auth_Method"), Some("None"));
    assert!(
        setting("LDAP_Password").is_none_or(str::is_empty),
        "no bind password left"
    );
}

/// A bad host, port, filter, DN or attribute list is refused with an error naming the setting,
/// and nothing of the patch is applied.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_ldap_settings_and_feature_codes_are_refused_and_change_nothing() {
    let server = TestServer::start().await;
    let api = server.admin_api();
    api.patch_settings(json!({"ldap_server": "ldap.example.com"}))
        .ok()
        .await;
    let before = api.settings().ok().await;
    for (patch, names) in [
        (json!({"ldap_server": "ldap example.com"}), "ldap_server"),
        (json!({"ldap_port": 0}), "ldap_port"),
        (json!({"ldap_port": 70000}), "ldap_port"),
        (json!({"ldap_port": "389"}), "ldap_port"),
        (json!({"ldap_tls": "tls"}), "ldap_tls"),
        (json!({"ldap_name_filter": "(cn=%"}), "ldap_name_filter"),
        (json!({"ldap_name_filter": "cn=%"}), "ldap_name_filter"),
        (json!({"ldap_number_filter": "(telephoneNumber=1)"}), "%"),
        (json!({"ldap_base": "example.com"}), "ldap_base"),
        (json!({"ldap_name_attr": "cn, sn"}), "ldap_name_attr"),
        (json!({"ldap_password": "line\nbreak"}), "ldap_password"),
        (json!({"pickup_direct_code": "**a"}), "pickup_direct_code"),
        (
            json!({"ntp_server": "ntp.example.com", "ldap_name_filter": "((cn=%))"}),
            "ldap_name_filter",
        ),
    ] {
        let error = api
            .patch_settings(patch.clone())
            .fails(StatusCode::BAD_REQUEST)
            .await;
        let message = error["error"].as_str().unwrap_or_default();
        assert!(message.contains(names), "{patch}: {error}");
        assert_eq!(api.settings().ok().await, before, "{patch} changed nothing");
    }
}

/// The feature codes keys use: Yealink's `features.pickup.direct_pickup_code`,
/// `features.pickup.group_pickup_code`, `features.call_park.park_code` and
/// `features.call_park.park_retrieve_code` (Tancredi `data/templates/yealink.tmpl`), and the
/// directed pickup code after a Snom BLF key's target (`blf 203|**` in Tancredi's
/// `snom.tmpl` tests, `pickup_direct` `**`); a changed code reaches both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feature_codes_reach_yealink_settings_and_snom_blf_keys() {
    let server = TestServer::start().await;
    server.seed_desk_phone().await;
    let api = server.admin_api();
    api.create_device(NewDevice::new(SNOM).model("D785"))
        .ok()
        .await;
    api.assign(SNOM, 1, "1002").ok().await;
    api.set_keys(
        "devices",
        Some(SNOM),
        json!([{"position": 2, "type": "blf", "value": "1001"}]),
    )
    .ok()
    .await;
    let blf = async || {
        let config = snom_config(&server).await;
        get(&config, "settings/functionKeys/fkey[idx=1]").map(str::to_string)
    };
    assert_eq!(
        blf().await.as_deref(),
        Some("blf 1001"),
        "no code: as before"
    );
    let before = yealink_config(&server).await;
    assert!(!before.keys().any(|k| k.starts_with("features.pickup.")));

    api.patch_settings(json!({
        "pickup_direct_code": "**",
        "pickup_group_code": "*8",
        "park_code": "*85",
        "park_retrieve_code": "*86",
    }))
    .ok()
    .await;
    let config = yealink_config(&server).await;
    for (key, value) in [
        ("features.pickup.direct_pickup_code", "**"),
        ("features.pickup.group_pickup_code", "*8"),
        ("features.call_park.park_code", "*85"),
        ("features.call_park.park_retrieve_code", "*86"),
    ] {
        assert_eq!(get(&config, key), Some(value), "{key}");
    }
    assert_eq!(blf().await.as_deref(), Some("blf 1001|**"));

    // A profile's own code wins over the site's.
    api.create_profile(json!({"name": "east", "settings": {"pickup_direct_code": "*97"}}))
        .ok()
        .await;
    api.patch_device(SNOM, json!({"profile": "east"}))
        .ok()
        .await;
    api.patch_device(T46S_MAC, json!({"profile": "east"}))
        .ok()
        .await;
    assert_eq!(blf().await.as_deref(), Some("blf 1001|*97"));
    let config = yealink_config(&server).await;
    assert_eq!(
        get(&config, "features.pickup.direct_pickup_code"),
        Some("*97")
    );
}

/// Fanvil's `<sysConf>` `<phone><ldap index="1">` as FusionPBX
/// (`resources/templates/provision/fanvil/x4u/{$mac}.cfg`) and Tancredi
/// (`data/templates/fanvil-X5.tmpl`) name its fields; `UseSSL` 1 LDAPS and 2 StartTLS and
/// `Authenticate` 3 with a bind over TLS as Tancredi writes them. Without TLS no bind user or
/// password is written. The old XML format's `<LDAP_Config_Entry>` as FusionPBX
/// (`fanvil/x4/{$mac}.cfg`) names its fields, written only without TLS (no source gives its
/// TLS element) and never with a bind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fanvil_gets_the_directory_in_its_sysconf_and_no_bind_in_clear() {
    let server = TestServer::start().await;
    let api = server.admin_api();
    let (mac, path) = ("0c383e000a5c", "/0c383e000a5c.cfg");
    let text = with_branch_directory(&server, (mac, "X4U", path), "/ldap").await;
    let config = xmlflat::flatten(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let field = |name: &str| get(&config, &format!("sysConf/phone/ldap[index=1]/{name}"));
    for (name, value) in [
        ("Server", "directory.example.com"),
        ("port", "636"),
        ("Base", "ou=people,dc=example,dc=com"),
        ("UseSSL", "1"),
        ("Version", "3"),
        ("Authenticate", "3"),
        ("Username", "cn=phones,dc=example,dc=com"),
        ("Password", BIND_PASSWORD),
        ("TelAttr", "telephoneNumber"),
        ("MobileAttr", "mobile"),
        ("OtherAttr", "homePhone"),
        ("NameAttr", "cn sn"),
        ("SortAttr", "cn"),
        ("Displayname", "cn"),
        ("NameFilter", "(|(cn=%)(sn=%))"),
    ] {
        assert_eq!(field(name), Some(value), "{name}");
    }
    api.patch_device_settings(mac, json!({"ldap_tls": "starttls"}))
        .ok()
        .await;
    let config = xmlflat::flatten(&device_file(&server, mac, path).await).unwrap();
    let field = |name: &str| get(&config, &format!("sysConf/phone/ldap[index=1]/{name}"));
    assert_eq!(field("UseSSL"), Some("2"));
    api.patch_device_settings(mac, json!({"ldap_tls": "none"}))
        .ok()
        .await;
    let text = device_file(&server, mac, path).await;
    let config = xmlflat::flatten(&text).unwrap();
    let field = |name: &str| get(&config, &format!("sysConf/phone/ldap[index=1]/{name}"));
    assert_eq!(
        (field("UseSSL"), field("Authenticate")),
        (Some("0"), Some("0"))
    );
    assert!(
        field("Username").is_none() && !text.contains(BIND_PASSWORD),
        "a bind in clear"
    );

    let (old, old_path) = ("0c383e000a5d", "/0c383e000a5d.cfg");
    api.create_device(NewDevice::new(old).model("X4"))
        .ok()
        .await;
    api.patch_device_settings(old, branch_directory())
        .ok()
        .await;
    let text = device_file(&server, old, old_path).await;
    assert!(
        !text.contains("directory.example.com"),
        "the old format got a directory over TLS it cannot ask for"
    );
    api.patch_device_settings(old, json!({"ldap_tls": "none"}))
        .ok()
        .await;
    let text = device_file(&server, old, old_path).await;
    // The old format repeats its list entries without identifying attributes: the LDAP
    // section is read on its own.
    let section = xmlflat::element(&text, "LDAP_Config").unwrap_or_else(|| panic!("{text}"));
    let config = xmlflat::flatten(section).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let entry = "LDAP_Config/LDAP_Config_Entry";
    let field = |name: &str| get(&config, &format!("{entry}/{name}"));
    for (name, value) in [
        ("ID", "LDAP1"),
        ("Server", "directory.example.com"),
        ("port", "389"),
        ("Base", "ou=people,dc=example,dc=com"),
        ("Authenticate", "0"),
        ("Tel_Attr", "telephoneNumber"),
        ("Mobile_Attr", "mobile"),
        ("Other_Attr", "homePhone"),
        ("Displayname", "cn"),
        ("Filter_Name", "(|(cn=%)(sn=%))"),
    ] {
        assert_eq!(field(name), Some(value), "{name}\n{text}");
    }
    assert!(
        field("Username").is_none() && !text.contains(BIND_PASSWORD),
        "a bind in clear"
    );
}

/// Poly's corporate directory (`feature.corporateDirectory.enabled`, `dir.corp.*`) as the
/// peers that write it agree (freepbx-ldap README's `sip.cfg`, contacta's
/// `local-settings.xml.ftl`, the FreePBX polycomphones module): `ldap://` address, port,
/// `TCP` transport, `sub` scope, base DN, bind, and typed attributes. No source gives Poly's
/// LDAPS or StartTLS transport value, so a directory that asks for TLS is not written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poly_gets_the_corporate_directory_only_without_tls() {
    let server = TestServer::start().await;
    let api = server.admin_api();
    let (mac, path) = ("64167faabbef", "/64167faabbef-deskprov.cfg");
    let text = with_branch_directory(&server, (mac, "VVX450", path), "dir.corp").await;
    assert!(
        !text.contains("dir.corp"),
        "LDAPS written without a confirmed value"
    );
    api.patch_device_settings(mac, json!({"ldap_tls": "none", "ldap_port": 389}))
        .ok()
        .await;
    let text = device_file(&server, mac, path).await;
    let config = xmlflat::flatten(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let attribute = |name: &str| {
        let found: Vec<&str> = config
            .iter()
            .filter(|(k, _)| k.ends_with(&format!("@{name}")))
            .map(|(_, v)| v.as_str())
            .collect();
        assert!(found.len() <= 1, "{name} twice");
        found.first().copied()
    };
    for (name, value) in [
        ("feature.corporateDirectory.enabled", "1"),
        ("dir.corp.address", "ldap://directory.example.com"),
        ("dir.corp.port", "389"),
        ("dir.corp.transport", "TCP"),
        ("dir.corp.scope", "sub"),
        ("dir.corp.baseDN", "ou=people,dc=example,dc=com"),
        ("dir.corp.user", "cn=phones,dc=example,dc=com"),
        ("dir.corp.password", BIND_PASSWORD),
        ("dir.corp.attribute.1.name", "cn"),
        ("dir.corp.attribute.1.type", "last_name"),
        ("dir.corp.attribute.2.name", "sn"),
        ("dir.corp.attribute.2.type", "first_name"),
        ("dir.corp.attribute.3.name", "telephoneNumber"),
        ("dir.corp.attribute.3.type", "phone_number"),
        ("dir.corp.attribute.5.name", "homePhone"),
    ] {
        assert_eq!(attribute(name), Some(value), "{name}\n{text}");
    }
}
