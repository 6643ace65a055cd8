//! Fanvil configs as the phones receive them: the `<sysConf>` format, and the older
//! `<VOIP_CONFIG_FILE>` format for the X4 and for the X3S/X5S/X6 on older firmware, chosen by
//! the firmware the phone reported, for its own file and for its model's common file.

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
        "outbound_proxy": "proxy.example.com:5070",
        "ntp_server": "ntp.example.com",
        "phone_admin_password": "phone-admin-pw",
        "resync_minutes": 180,
        "language": "cs",
    }))
    .ok()
    .await;
    for n in 1..=2 {
        let user = NewUser::new(&format!("400{n}"), &format!("Desk {n}"))
            .sip_password(&format!("secret-of-desk-{n}"));
        api.create_user(user).ok().await;
    }
    server
}

async fn desk(server: &TestServer, mac: &str, model: &str) {
    let api = server.admin_api();
    api.create_device(NewDevice::new(mac).model(model))
        .ok()
        .await;
    api.assign(mac, 1, "4001").ok().await;
    api.patch_model_settings(
        model,
        json!({"firmware_file": "fanvil.z", "firmware_version": "2.14.0"}),
    )
    .ok()
    .await;
}

/// The device's own file as the phone with `user_agent` fetches it.
async fn fetch(server: &TestServer, mac: &str, user_agent: &str) -> String {
    let (user, password) = server.credentials(mac).await;
    let auth = basic(&user, &password);
    let reply = server
        .phone_get_with(
            &format!("/{mac}.cfg"),
            &[("authorization", &auth), ("user-agent", user_agent)],
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{mac}");
    reply.text()
}

fn old_format(text: &str) -> BTreeMap<String, String> {
    assert!(text.contains("<VOIP_CONFIG_FILE>"), "{text}");
    idxml::flatten(text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn sysconf(text: &str) -> BTreeMap<String, String> {
    assert!(text.contains("<sysConf>"), "{text}");
    xmlflat::flatten(text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn get<'a>(settings: &'a BTreeMap<String, String>, key: &str) -> Option<&'a str> {
    settings.get(key).map(String::as_str)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_x4_gets_the_old_format() {
    let server = server_with_users().await;
    desk(&server, "0c383e0000a4", "X4").await;
    let text = fetch(
        &server,
        "0c383e0000a4",
        "Fanvil X4 2.14.0.7386 0c383e0000a4",
    )
    .await;
    let settings = old_format(&text);
    // Keys and codes of FP fanvil/x4/{$mac}.cfg and WZ wazo_fanvil/common/templates/base.tpl.
    let line = |key: &str| {
        get(
            &settings,
            &format!(
                "VOIP_CONFIG_FILE/SIP_CONFIG_MODULE/SIP_Line_List/SIP_Line_List_Entry[SIP1]/{key}"
            ),
        )
        .map(str::to_string)
    };
    assert_eq!(line("Register_Addr").as_deref(), Some("pbx.example.com"));
    assert_eq!(line("Register_Port").as_deref(), Some("5061"));
    assert_eq!(line("Register_User").as_deref(), Some("4001"));
    assert_eq!(line("Register_Pswd").as_deref(), Some("secret-of-desk-1"));
    // TLS is 2 in this format (FP fanvil/x4 l.337-339).
    assert_eq!(line("Transport").as_deref(), Some("2"));
    assert_eq!(line("Proxy_Addr").as_deref(), Some("proxy.example.com"));
    assert_eq!(line("Proxy_User").as_deref(), Some("4001"));
    assert_eq!(line("Proxy_Pswd").as_deref(), Some("secret-of-desk-1"));
    assert_eq!(
        get(
            &settings,
            "VOIP_CONFIG_FILE/SIP_CONFIG_MODULE/SIP_Line_List/SIP_Line_List_Entry[SIP2]/Enable_Reg"
        ),
        Some("0")
    );
    let (user, password) = server.credentials("0c383e0000a4").await;
    let update = |key: &str| {
        get(
            &settings,
            &format!("VOIP_CONFIG_FILE/AUTOUPDATE_CONFIG_MODULE/{key}"),
        )
    };
    assert_eq!(update("Download_Username"), Some(user.as_str()));
    assert_eq!(update("Download_Password"), Some(password.as_str()));
    // Periodic provisioning in hours (TC fanvil-X5.tmpl "Flash Mode"/"Flash Interval").
    assert_eq!(update("Download_Mode"), Some("2"));
    assert_eq!(update("Download_Interval"), Some("3"));
    assert_eq!(update("Enable_Auto_Upgrade"), Some("1"));
    assert!(update("Upgrade_Server_1").unwrap().ends_with("/firmware/"));
    assert_eq!(
        get(
            &settings,
            "VOIP_CONFIG_FILE/GLOBAL_CONFIG_MODULE/SNTP_Server"
        ),
        Some("ntp.example.com")
    );
    assert_eq!(
        get(
            &settings,
            "VOIP_CONFIG_FILE/MMI_CONFIG_MODULE/MMI_Account/MMI_Account_Entry[Account1]/Password"
        ),
        Some("phone-admin-pw")
    );
    // Czech has no numeric code in WZ serie_x `_LOCALE`: left as the phone has it.
    assert_eq!(
        get(&settings, "VOIP_CONFIG_FILE/GLOBAL_CONFIG_MODULE/Language"),
        None
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_x5s_format_follows_the_firmware_it_reports() {
    let server = server_with_users().await;
    desk(&server, "0c383e0005a5", "X5S").await;
    // Before the phone has reported a firmware, the preview is the old format.
    let preview = server.admin_api().render("0c383e0005a5").await;
    old_format(std::str::from_utf8(&preview.body).unwrap());

    let old = fetch(
        &server,
        "0c383e0005a5",
        "Fanvil X5S 1.12.2.3144 0c383e0005a5",
    )
    .await;
    old_format(&old);
    let new = fetch(&server, "0c383e0005a5", "Fanvil X5S 2.4.12 0c383e0005a5").await;
    let settings = sysconf(&new);
    assert_eq!(
        get(&settings, "sysConf/sip/line[index=1]/Transport"),
        Some("3")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sysconf_gets_ntp_proxy_credentials_periodic_provisioning_and_firmware() {
    let server = server_with_users().await;
    desk(&server, "0c383e000a4c", "X4U").await;
    let settings = sysconf(
        &fetch(
            &server,
            "0c383e000a4c",
            "Fanvil X4U 2.12.16.17 0c383e000a4c",
        )
        .await,
    );
    // FP fanvil/x4u/{$mac}.cfg l.2308-2311, WZ base-new.tpl.
    assert_eq!(get(&settings, "sysConf/phone/date/EnableSNTP"), Some("1"));
    assert_eq!(
        get(&settings, "sysConf/phone/date/SNTPServer"),
        Some("ntp.example.com")
    );
    // FP x4u l.145-148, WZ base-new.tpl: the registration credentials for the proxy.
    assert_eq!(
        get(&settings, "sysConf/sip/line[index=1]/ProxyUser"),
        Some("4001")
    );
    assert_eq!(
        get(&settings, "sysConf/sip/line[index=1]/ProxyPswd"),
        Some("secret-of-desk-1")
    );
    assert_eq!(
        get(&settings, "sysConf/sip/line[index=1]/Transport"),
        Some("3")
    );
    // Periodic provisioning every 3 hours (TC fanvil-X5.tmpl, fanvil.macros).
    assert_eq!(get(&settings, "sysConf/ap/FlashMode"), Some("2"));
    assert_eq!(get(&settings, "sysConf/ap/FlashInterval"), Some("3"));
    assert_eq!(
        get(&settings, "sysConf/fwCheck/EnableAutoUpgrade"),
        Some("1")
    );
    assert!(
        get(&settings, "sysConf/fwCheck/UpgradeServer1")
            .unwrap()
            .ends_with("/firmware/")
    );
    // Czech is `cz` (WZ common.py `_NEW_SUPPORTED_LANGUAGES`).
    assert_eq!(
        get(&settings, "sysConf/phone/display/DefaultLanguage"),
        Some("cz")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_common_file_takes_the_format_of_the_phone_that_asks() {
    let server = server_with_users().await;
    let common = |path: &'static str, user_agent: &'static str| {
        let server = &server;
        async move {
            let reply = server.phone_get(path, user_agent).await;
            assert_eq!(reply.status, StatusCode::OK, "{path}");
            reply.text()
        }
    };
    // The X4's common file, by its name alone or by an X4's User-Agent: the old format.
    let x4 = old_format(&common("/f0X4hw1.100.cfg", "").await);
    assert_eq!(
        get(
            &x4,
            "VOIP_CONFIG_FILE/AUTOUPDATE_CONFIG_MODULE/Config_File_Name"
        ),
        Some("$mac.cfg")
    );
    assert_eq!(
        get(&x4, "VOIP_CONFIG_FILE/GLOBAL_CONFIG_MODULE/SNTP_Server"),
        Some("ntp.example.com")
    );
    old_format(&common("/f0X4hw1.100.cfg", "Fanvil X4 2.14.0.7386 0c383e0000a4").await);
    // An X5S on current firmware, and a model without the old format: <sysConf>.
    sysconf(&common("/F0V00X5S0000.cfg", "Fanvil X5S 2.4.12 0c383e0005a5").await);
    old_format(&common("/F0V00X5S0000.cfg", "Fanvil X5S 1.12.2.3144 0c383e0005a5").await);
    let x3 = sysconf(&common("/F0V00X300000.cfg", "").await);
    assert_eq!(get(&x3, "sysConf/ap/FlashFileName"), Some("$mac.cfg"));
}
