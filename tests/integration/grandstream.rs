//! Grandstream configs as the phones receive them: every account's P-values by family, the
//! periodic check, check-sync, firmware, languages and DP75x handset names, each read back
//! with the XML parser and compared with the source the value comes from.

use std::collections::BTreeMap;

use http::StatusCode;
use serde_json::json;

use crate::api::{NewDevice, NewUser};
use crate::helpers::*;
use crate::xmlflat;

/// Users 2001…2006, a TLS PBX on 5061 and an outbound proxy.
async fn server_with_six_users() -> TestServer {
    let server = TestServer::start().await;
    let api = server.admin_api();
    api.patch_settings(json!({
        "sip_server": "pbx.example.com",
        "sip_port": 5061,
        "sip_transport": "tls",
        "outbound_proxy": "proxy.example.com:5070",
    }))
    .ok()
    .await;
    for n in 1..=6 {
        let extension = format!("200{n}");
        let user = NewUser::new(&extension, &format!("User {n}"))
            .sip_password(&format!("secret-of-user-{n}"));
        api.create_user(user).ok().await;
    }
    server
}

/// Registers `mac` as `model` with users 2001… on its first `lines` lines.
async fn desk(server: &TestServer, mac: &str, model: &str, lines: u16) {
    let api = server.admin_api();
    api.create_device(NewDevice::new(mac).model(model))
        .ok()
        .await;
    for line in 1..=lines {
        api.assign(mac, line, &format!("200{line}")).ok().await;
    }
}

/// The device's own file as the phone fetches it (with its credentials), parsed.
async fn config(server: &TestServer, mac: &str) -> BTreeMap<String, String> {
    let (user, password) = server.credentials(mac).await;
    let auth = basic(&user, &password);
    let reply = server
        .phone_get_with(&format!("/cfg{mac}.xml"), &[("authorization", &auth)])
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{mac}");
    xmlflat::flatten(&reply.text()).unwrap_or_else(|e| panic!("{mac}: {e}\n{}", reply.text()))
}

fn p(settings: &BTreeMap<String, String>, key: &str) -> Option<String> {
    settings.get(&format!("gs_provision/config/{key}")).cloned()
}

/// (account, server P-value, transport P-values, user P-value) of one family.
type Account = (u16, &'static str, &'static [&'static str], &'static str);

/// GXP21xx (FP grandstream/gxp21xx/{$mac}.xml l.62-65, 484-490, 1676-1777; gxp2170 for
/// accounts 5/6 "GXP2160/2170 only").
const GXP21XX: &[Account] = &[
    (1, "P47", &["P130"], "P35"),
    (2, "P402", &["P448"], "P404"),
    (3, "P502", &["P548"], "P504"),
    (4, "P602", &["P648"], "P604"),
    (5, "P1702", &["P1748"], "P1704"),
    (6, "P1802", &["P1848"], "P1804"),
];

/// GRP26xx (FP grandstream/grp2616/{$mac}.xml; account 5's transport is P748 in FP grp26xx
/// and P1748 in FP grp2615/grp2616, so both are written).
const GRP26XX: &[Account] = &[
    (1, "P47", &["P130"], "P35"),
    (2, "P402", &["P448"], "P404"),
    (3, "P502", &["P548"], "P504"),
    (4, "P602", &["P648"], "P604"),
    (5, "P702", &["P748", "P1748"], "P704"),
    (6, "P1802", &["P1848"], "P1804"),
];

fn assert_accounts(model: &str, settings: &BTreeMap<String, String>, accounts: &[Account]) {
    for (account, server, transports, user) in accounts {
        assert_eq!(
            p(settings, server).as_deref(),
            Some("pbx.example.com:5061"),
            "{model} account {account} server {server}"
        );
        for transport in *transports {
            // "SIP Transport. 0 - UDP, 1 - TCP, 2 - TLS/TCP"
            assert_eq!(
                p(settings, transport).as_deref(),
                Some("2"),
                "{model} account {account} transport {transport}"
            );
        }
        assert_eq!(
            p(settings, user),
            Some(format!("200{account}")),
            "{model} account {account} user {user}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_account_gets_its_familys_transport_and_server_keys() {
    let server = server_with_six_users().await;
    desk(&server, "000b82000135", "GXP2135", 4).await;
    desk(&server, "000b82000170", "GXP2170", 6).await;
    desk(&server, "c074ad002616", "GRP2616", 6).await;

    let gxp2135 = config(&server, "000b82000135").await;
    assert_accounts("GXP2135", &gxp2135, &GXP21XX[..4]);
    assert_eq!(p(&gxp2135, "P1701"), None, "GXP2135 has 4 accounts");

    let gxp2170 = config(&server, "000b82000170").await;
    assert_accounts("GXP2170", &gxp2170, GXP21XX);
    // The old mapping wrote accounts 5/6 to P7xx/P8xx, which GXP21xx never reads.
    assert_eq!(p(&gxp2170, "P702"), None);
    assert_eq!(p(&gxp2170, "P802"), None);
    // Outbound proxy beside each server: P48, P403 … P1703, P1803 (FP gxp21xx l.407, 1693).
    assert_eq!(
        p(&gxp2170, "P1703").as_deref(),
        Some("proxy.example.com:5070")
    );
    assert_eq!(
        p(&gxp2170, "P1817").as_deref(),
        Some("User 6"),
        "label of account 6"
    );

    let grp2616 = config(&server, "c074ad002616").await;
    assert_accounts("GRP2616", &grp2616, GRP26XX);
    assert_eq!(p(&grp2616, "P1702"), None, "GRP26xx account 5 is at P70x");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_account_lets_a_notify_factory_reset_the_phone_and_notify_is_authenticated() {
    let server = server_with_six_users().await;
    desk(&server, "000b82000170", "GXP2170", 6).await;
    let settings = config(&server, "000b82000170").await;
    // "Allow SIP Reset: Allow a SIP message to reset the device to factory defaults" (FusionPBX
    // Grandstream device defaults, P26015): P26015 account 1, P26115 account 2 … P26515
    // account 6 (FP grandstream/gxp2170 and grp2616 {$mac}.xml). Off on every account: check-
    // sync does not need it, and a NOTIFY must never wipe a phone.
    for (account, key) in [
        (1, "P26015"),
        (2, "P26115"),
        (3, "P26215"),
        (4, "P26315"),
        (5, "P26415"),
        (6, "P26515"),
    ] {
        assert_eq!(p(&settings, key).as_deref(), Some("0"), "account {account}");
    }
    // "Disable SIP NOTIFY Authentication. 0 - No" (FP grp26xx): the phone challenges the
    // NOTIFY and deskprov answers with line 1's credentials.
    assert_eq!(p(&settings, "P4428").as_deref(), Some("0"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn periodic_check_and_firmware_follow_the_settings() {
    let server = server_with_six_users().await;
    let api = server.admin_api();
    desk(&server, "000b82000135", "GXP2135", 1).await;
    desk(&server, "000b820000dd", "DP750", 1).await;
    api.patch_settings(json!({"resync_minutes": 240}))
        .ok()
        .await;
    api.patch_model_settings(
        "GXP2135",
        json!({"firmware_file": "gxp2135fw.bin", "firmware_version": "1.0.11.79"}),
    )
    .ok()
    .await;
    for mac in ["000b82000135", "000b820000dd"] {
        let settings = config(&server, mac).await;
        // "Automatic Upgrade. 1 - Yes, check for upgrade based on minute(s) setting" and
        // "Check for new firmware every () minutes", 60-86400 (FP grp26xx; gxp21xx P194/P193).
        assert_eq!(p(&settings, "P194").as_deref(), Some("1"), "{mac}");
        let minutes: u32 = p(&settings, "P193").unwrap().parse().unwrap();
        assert!((240..=264).contains(&minutes), "{mac}: {minutes}");
    }
    let gxp = config(&server, "000b82000135").await;
    // "Firmware Upgrade Via. 2 - HTTPS" and "Firmware Server Path", a directory without its
    // scheme (FP grp26xx P6767/P192, gxp21xx "Maintenance/Upgrade and Provisioning").
    assert_eq!(p(&gxp, "P6767").as_deref(), Some("2"));
    let base = p(&gxp, "P192").unwrap();
    assert!(
        base.ends_with("/firmware/") && !base.contains("://"),
        "{base}"
    );
    // The DP750 has no target firmware: no upgrade path.
    assert_eq!(p(&config(&server, "000b820000dd").await, "P192"), None);

    api.patch_settings(json!({"resync_minutes": 15})).ok().await;
    let raised = config(&server, "000b82000135").await;
    assert_eq!(
        p(&raised, "P193").as_deref(),
        Some("60"),
        "below P193's range"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_language_gets_grandstreams_code_or_none() {
    let server = server_with_six_users().await;
    desk(&server, "000b82000135", "GXP2135", 1).await;
    // Grandstream's own codes (FP grp26xx "Display Language": cz - Czech, se - Svenska);
    // Danish, Norwegian and Finnish are not in its list, so P1362 is left unset.
    fn expected(code: &'static str) -> Option<&'static str> {
        match code {
            "cs" => Some("cz"),
            "sv" => Some("se"),
            "da" | "nb" | "fi" => None,
            other => Some(other),
        }
    }
    for language in deskprov::locale::LANGUAGES {
        server
            .admin_api()
            .patch_settings(json!({"language": language.code}))
            .ok()
            .await;
        let settings = config(&server, "000b82000135").await;
        assert_eq!(
            p(&settings, "P1362").as_deref(),
            expected(language.code),
            "{}",
            language.code
        );
        let common = xmlflat::flatten(&server.phone_get("/cfg.xml", "").await.text()).unwrap();
        assert_eq!(
            p(&common, "P1362").as_deref(),
            expected(language.code),
            "cfg.xml {}",
            language.code
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dp750_handsets_are_named_from_p27020() {
    let server = server_with_six_users().await;
    desk(&server, "000b820000dd", "DP750", 5).await;
    let settings = config(&server, "000b820000dd").await;
    // "HS1 Name" … "HS5 Name" are P27020 … P27024 (FP grandstream/dp750/{$mac}.xml
    // l.2211-2218).
    for handset in 1..=5u32 {
        assert_eq!(
            p(&settings, &format!("P{}", 27019 + handset)),
            Some(format!("User {handset}")),
            "handset {handset}"
        );
    }
    assert_eq!(p(&settings, "P27025"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_time_zone_is_the_posix_rule_and_dhcp_may_not_override_it() {
    let server = server_with_six_users().await;
    desk(&server, "000b82000135", "GXP2135", 1).await;
    server
        .admin_api()
        .patch_settings(json!({"time_zone": "Europe/Kyiv"}))
        .ok()
        .await;
    let settings = config(&server, "000b82000135").await;
    // "Self-Defined Time Zone: customize"; Grandstream's own list has this very rule for
    // "GMT+02:00 (Kyiv, Ukraine)": EET-2EEST,M3.5.0/3,M10.5.0/4 (FP grp26xx P64 list), so the
    // short POSIX form is one the phones take.
    assert_eq!(p(&settings, "P64").as_deref(), Some("customize"));
    assert_eq!(
        p(&settings, "P246").as_deref(),
        Some("EET-2EEST,M3.5.0/3,M10.5.0/4")
    );
    // "Allow DHCP Option 2 to Override Time Zone Setting" (FP grp26xx P143).
    assert_eq!(p(&settings, "P143").as_deref(), Some("0"));
}
