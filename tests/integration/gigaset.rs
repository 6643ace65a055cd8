//! Gigaset configs as the bases receive them: the Nx70 `<provisioning>` file with NTP, admin
//! password, firmware and Gigaset's own time zones, and the N510's `<ProviderFrame>` file.

use std::collections::BTreeMap;

use http::StatusCode;
use serde_json::json;

use crate::api::{NewDevice, NewUser};
use crate::helpers::*;
use crate::{idxml, xmlflat};

async fn server_with_users() -> TestServer {
    let server = TestServer::start().await;
    let api = server.admin_api();
    api.patch_settings(json!({
        "sip_server": "pbx.example.com",
        "sip_port": 5061,
        "sip_transport": "tls",
        "ntp_server": "ntp.example.com",
        "phone_admin_password": "base-admin-pw",
        "time_zone": "Europe/Berlin",
    }))
    .ok()
    .await;
    for n in 1..=2 {
        let user = NewUser::new(&format!("300{n}"), &format!("Handset {n}"))
            .sip_password(&format!("secret-of-handset-{n}"));
        api.create_user(user).ok().await;
    }
    server
}

async fn base(server: &TestServer, mac: &str, model: &str) {
    let api = server.admin_api();
    api.create_device(NewDevice::new(mac).model(model))
        .ok()
        .await;
    api.assign(mac, 1, "3001").ok().await;
    api.assign(mac, 2, "3002").ok().await;
}

async fn fetch(server: &TestServer, mac: &str) -> String {
    let (user, password) = server.credentials(mac).await;
    let auth = basic(&user, &password);
    let reply = server
        .phone_get_with(&format!("/{mac}.xml"), &[("authorization", &auth)])
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{mac}");
    reply.text()
}

fn param(settings: &BTreeMap<String, String>, name: &str) -> Option<String> {
    settings
        .get(&format!("provisioning/nvm/param[name={name}]@value"))
        .cloned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nx70_gets_ntp_admin_password_firmware_and_drops_handsets_it_was_not_given() {
    let server = server_with_users().await;
    base(&server, "7c2f80000870", "N870").await;
    server
        .admin_api()
        .patch_model_settings(
            "N870",
            json!({"firmware_file": "n870-2.62.1.bin", "firmware_version": "2.62.1"}),
        )
        .ok()
        .await;
    let settings = xmlflat::flatten(&fetch(&server, "7c2f80000870").await).unwrap();
    // All from WZ wazo_gigaset/Nx70_83_v2_65_0/templates/base.tpl.
    assert_eq!(
        param(&settings, "DmGlobal.0.NtpServer").as_deref(),
        Some("ntp.example.com")
    );
    assert_eq!(
        param(&settings, "WebUIAccounts.1.Password").as_deref(),
        Some("base-admin-pw")
    );
    assert_eq!(
        settings
            .get("provisioning/firmware/file@version")
            .map(String::as_str),
        Some("2.62.1")
    );
    let url = &settings["provisioning/firmware/file@url"];
    assert!(url.ends_with("/firmware/n870-2.62.1.bin"), "{url}");
    assert!(url.starts_with("https://"), "{url}");
    assert_eq!(
        settings
            .get("provisioning/nvm/oper[name=DeleteNotProvisionedHS]")
            .map(String::as_str),
        Some("")
    );
    assert_eq!(
        param(&settings, "SipAccount.00002.UserName").as_deref(),
        Some("3002")
    );

    // Without a version the base cannot tell whether to upgrade: no firmware element.
    server
        .admin_api()
        .patch_model_settings("N870", json!({"firmware_version": null}))
        .ok()
        .await;
    let settings = xmlflat::flatten(&fetch(&server, "7c2f80000870").await).unwrap();
    assert!(!settings.contains_key("provisioning/firmware/file@url"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_zone_becomes_a_zone_gigaset_lists_or_is_left_with_a_reason() {
    let server = server_with_users().await;
    base(&server, "7c2f80000870", "N870").await;
    for zone in deskprov::locale::TIME_ZONES {
        server
            .admin_api()
            .patch_settings(json!({"time_zone": zone.name}))
            .ok()
            .await;
        let text = fetch(&server, "7c2f80000870").await;
        let settings = xmlflat::flatten(&text).unwrap();
        let written = param(&settings, "DmGlobal.0.TimeZone");
        // WZ Nx70 common.py `_VALID_TZ_GIGASET`: only these names are taken.
        match deskprov::vendors::gigaset::gigaset_time_zone(zone) {
            Ok(name) => assert_eq!(written.as_deref(), Some(name), "{}", zone.name),
            Err(why) => {
                assert_eq!(written, None, "{}", zone.name);
                let said = quick_xml::escape::escape(why.as_str());
                assert!(
                    text.contains(said.as_ref()),
                    "{}: the file says why",
                    zone.name
                );
            }
        }
    }
    let zone = |name: &str| {
        deskprov::vendors::gigaset::gigaset_time_zone(deskprov::locale::time_zone(name).unwrap())
    };
    assert_eq!(zone("Asia/Seoul"), Ok("Asia/Tokyo"));
    assert_eq!(zone("UTC"), Ok("Greenwich"));
    assert_eq!(zone("Europe/Kyiv"), Ok("Europe/Kiev"));
    assert!(zone("Asia/Kolkata").is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn n510_gets_the_provider_frame_format() {
    let server = server_with_users().await;
    server
        .admin_api()
        .patch_settings(json!({"outbound_proxy": "proxy.example.com:5070"}))
        .ok()
        .await;
    base(&server, "7c2f80000510", "N510").await;
    server
        .admin_api()
        .patch_model_settings("N510", json!({"firmware_file": "fw262.bin"}))
        .ok()
        .await;
    let text = fetch(&server, "7c2f80000510").await;
    assert!(
        xmlflat::flatten(&text).is_err(),
        "SYMB_ITEMs are told apart by ID"
    );
    let settings = idxml::flatten(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    // WZ wazo_gigaset/N510/templates/base.tpl: account 1's keys have no suffix, account N's
    // end in _N; strings are quoted, numbers hexadecimal.
    let item = |id: &str| {
        settings
            .get(&format!("ProviderFrame/Provider/SYMB_ITEM[{id}]@value"))
            .cloned()
    };
    assert_eq!(
        settings
            .get("ProviderFrame/Provider/MAC_ADDRESS@value")
            .map(String::as_str),
        Some("7C2F80000510")
    );
    assert_eq!(
        item("BS_IP_Data3.aucS_SIP_LOGIN_ID").as_deref(),
        Some("\"3001\"")
    );
    assert_eq!(
        item("BS_IP_Data1.aucS_SIP_PASSWORD").as_deref(),
        Some("\"secret-of-handset-1\"")
    );
    assert_eq!(
        item("BS_IP_Data1.aucS_SIP_PASSWORD_2").as_deref(),
        Some("\"secret-of-handset-2\"")
    );
    assert_eq!(
        item("BS_IP_Data1.aucS_SIP_SERVER_2").as_deref(),
        Some("\"pbx.example.com\"")
    );
    assert_eq!(
        item("BS_IP_Data1.uiI_SIP_SERVER_PORT").as_deref(),
        Some("0x13c5")
    );
    assert_eq!(
        item("BS_IP_Data1.uiI_OUTBOUND_PROXY_PORT_2").as_deref(),
        Some("0x13ce")
    );
    assert_eq!(
        item("BS_Accounts.astAccounts[1].uiSendMask").as_deref(),
        Some("0x2")
    );
    assert_eq!(
        item("BS_IP_Data1.ucB_SIP_ACCOUNT_IS_ACTIVE_2").as_deref(),
        Some("0x1")
    );
    assert_eq!(
        item("BS_IP_Data1.ucB_SIP_ACCOUNT_IS_ACTIVE_3").as_deref(),
        Some("0x0")
    );
    assert_eq!(
        item("BS_IP_Data1.aucS_SIP_PASSWORD_3").as_deref(),
        Some("\"\"")
    );
    assert_eq!(
        item("BS_IP_Data1.aucS_TIME_NTP_SERVER").as_deref(),
        Some("\"ntp.example.com\"")
    );
    // Europe/Berlin: UTC+1 is 0x1b (WZ wazo_gigaset/common/common.py `_TZ_GIGASET`).
    assert_eq!(
        item("BS_IP_Data1.uiI_TIME_TIMEZONE").as_deref(),
        Some("0x1b")
    );
    assert_eq!(
        item("BS_IP_Data1.ucB_TIME_USE_AUTOMATIC_DST").as_deref(),
        Some("0x1")
    );
    let firmware = item("BS_IP_Data1.aucS_USER_FIRMWARE_URL").unwrap();
    assert!(
        firmware.ends_with("/firmware/fw262.bin\"") && !firmware.contains("://"),
        "{firmware}"
    );
}

/// A zone Gigaset lists no equivalent for (WZ `_VALID_TZ_GIGASET`) is refused where only
/// Gigaset bases read it (a model's or a device's settings), with the reason; site-wide it
/// stays, as other vendors' phones take it.
#[tokio::test]
async fn a_zone_gigaset_cannot_take_is_refused_on_its_model_and_devices() {
    let server = server_with_users().await;
    base(&server, "7c2f80aa0870", "N870").await;
    let api = server.admin_api();
    let refused = api
        .patch_model_settings("N870", json!({"time_zone": "Asia/Kolkata"}))
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(
        refused.text().contains("Asia/Kolkata"),
        "{}",
        refused.text()
    );
    let refused = api
        .patch_device_settings("7c2f80aa0870", json!({"time_zone": "Asia/Kolkata"}))
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(api.model_settings("N870").ok().await["settings"], json!({}));
    api.patch_model_settings("N870", json!({"time_zone": "Europe/Berlin"}))
        .ok()
        .await;
    api.patch_settings(json!({"time_zone": "Asia/Kolkata"}))
        .ok()
        .await;
}
