//! Phones work in the field, key by key: what Snom, Yealink, Poly and Cisco phones need beyond their
//! accounts (transport, firmware, periodic resync, the site's CA, SIP NOTIFY), each rendered by
//! the running server, read back with the format's parser and checked against its source.

use std::collections::BTreeMap;

use http::StatusCode;
use serde_json::{Value, json};

use crate::api::{NewDevice, NewUser};
use crate::helpers::*;
use crate::{kv, xmlflat};

const SITE_CA: &str = include_str!("../../fixtures/tls/site-ca.crt");
const BASE: &str = "https://prov.example.com:8443/";

/// A server with the SIP server, users 1001 and 1002 and `settings` on top.
async fn site(settings: Value) -> TestServer {
    site_notifying(false, settings).await
}

/// The same, with deskprov sending SIP NOTIFY check-sync (`hotdesk.sip_notify`) or not.
async fn site_notifying(sip_notify: bool, settings: Value) -> TestServer {
    let server = TestServer::start_with(|c| {
        c.server.public_url = Some(BASE.into());
        c.hotdesk.sip_notify = sip_notify;
    })
    .await;
    let api = server.admin_api();
    api.patch_settings(json!({"sip_server": "pbx.example.com", "sip_port": 5061}))
        .ok()
        .await;
    api.patch_settings(settings).ok().await;
    for (ext, name) in [("1001", "Alice Example"), ("1002", "Bob Example")] {
        let user = NewUser::new(ext, name).sip_password(&format!("secret-of-{ext}-x"));
        api.create_user(user).ok().await;
    }
    server
}

/// Registers `mac` as `model` with user 1001 on line 1.
async fn add(server: &TestServer, mac: &str, model: &str) {
    let api = server.admin_api();
    api.create_device(NewDevice::new(mac).model(model))
        .ok()
        .await;
    api.assign(mac, 1, "1001").ok().await;
}

/// A file as the phone gets it, with its provisioning credentials.
async fn fetch(server: &TestServer, mac: &str, path: &str) -> String {
    let (user, password) = server.credentials(mac).await;
    let reply = server
        .phone_get_with(path, &[("authorization", &basic(&user, &password))])
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.text());
    reply.text()
}

async fn xml(server: &TestServer, mac: &str, path: &str) -> BTreeMap<String, String> {
    let text = fetch(server, mac, path).await;
    xmlflat::flatten(&text).unwrap_or_else(|e| panic!("{path}: {e}\n{text}"))
}

async fn key_value(server: &TestServer, mac: &str, path: &str) -> BTreeMap<String, String> {
    let text = fetch(server, mac, path).await;
    kv::parse(&text).unwrap_or_else(|e| panic!("{path}: {e}\n{text}"))
}

fn get<'a>(settings: &'a BTreeMap<String, String>, key: &str) -> &'a str {
    settings
        .get(key)
        .unwrap_or_else(|| panic!("no {key} in {settings:#?}"))
}

/// The resync interval a device gets: `minutes` plus its share of a tenth, in seconds.
fn within_jitter(seconds: &str, minutes: u32) -> bool {
    let seconds: u32 = seconds.parse().unwrap();
    (minutes * 60..=(minutes + minutes / 10) * 60).contains(&seconds)
}

mod snom {
    use super::*;

    const PS: &str = "settings/phone-settings";

    /// Audit §4: the M-series template wrote no transport, so nothing asked for TLS. The key is
    /// `srv_sip_transport idx="1"` with udp/tcp/tls, as public M-series provisioning scripts
    /// write it (no Snom page found for it: see docs/vendors/snom.md).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn m_series_bases_carry_the_sip_transport() {
        let server = site(json!({})).await;
        add(&server, "000413aa0001", "M900").await;
        add(&server, "000413aa0002", "M300").await;
        for (transport, expected) in [("tls", "tls"), ("tcp", "tcp"), ("udp", "udp")] {
            server
                .admin_api()
                .patch_settings(json!({"sip_transport": transport}))
                .ok()
                .await;
            for (mac, file) in [
                ("000413aa0001", "/snomM900-000413AA0001.htm"),
                ("000413aa0002", "/snomM300-000413AA0002.htm"),
            ] {
                let settings = xml(&server, mac, file).await;
                assert_eq!(
                    get(&settings, &format!("{PS}/srv_sip_transport[idx=1]")),
                    expected,
                    "{file} with {transport}"
                );
                assert_eq!(
                    get(&settings, &format!("{PS}/user_host[idx=1]")),
                    "pbx.example.com:5061"
                );
            }
        }
    }

    /// service.snom.com/x/u733DQ: `firmware_status` in the phone settings names the firmware
    /// settings file, whose `<firmware-settings><firmware>` is the image URL.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn firmware_status_names_a_file_that_names_the_image() {
        let server = site(json!({})).await;
        let image = "snomD785-10.1.159.12-r.bin";
        server
            .admin_api()
            .patch_model_settings(
                "D785",
                json!({"firmware_file": image, "firmware_version": "10.1.159.12"}),
            )
            .ok()
            .await;
        add(&server, "000413aa0003", "D785").await;
        let settings = xml(&server, "000413aa0003", "/snomD785-000413AA0003.htm").await;
        assert_eq!(
            get(&settings, &format!("{PS}/update_policy")),
            "auto_update"
        );
        let status = get(&settings, &format!("{PS}/firmware_status"));
        assert_eq!(status, format!("{BASE}snom-firmware-{image}.xml"));
        assert!(
            !settings
                .keys()
                .any(|k| k.starts_with("settings/firmware-settings")),
            "the image belongs in the firmware settings file, not in <settings>"
        );
        let path = &status[BASE.len() - 1..];
        let reply = server.phone_get(path, "").await;
        assert_eq!(reply.status, StatusCode::OK, "{path}");
        let firmware = xmlflat::flatten(&reply.text()).unwrap();
        assert_eq!(
            firmware.get("firmware-settings/firmware"),
            Some(&format!("{BASE}firmware/{image}"))
        );
        assert_eq!(
            firmware.len(),
            2,
            "the image and its permission flag: {firmware:?}"
        );
        // A name that is no firmware file is nobody's file.
        let refused = server.phone_get("/snom-firmware-..%2Fsecret.xml", "").await;
        assert_ne!(refused.status, StatusCode::OK);
    }

    /// The NOTIFY contract: Snom picks a random SIP port unless `network_id_port` fixes it
    /// (WZ common_dect snom-general.xml.tpl writes 5060), and `challenge_checksync` makes it
    /// demand the line's digest (service.snom.com/display/wiki/challenge_checksync). The
    /// resync interval is `settings_refresh_timer` in seconds (FP snom/D785 l.55).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn check_sync_reaches_a_fixed_port_challenged_and_resync_follows_the_setting() {
        let server = site(json!({"resync_minutes": 90})).await;
        add(&server, "000413aa0004", "D785").await;
        add(&server, "000413aa0005", "M700").await;
        for (mac, file) in [
            ("000413aa0004", "/snomD785-000413AA0004.htm"),
            ("000413aa0005", "/snomM700-000413AA0005.htm"),
        ] {
            let settings = xml(&server, mac, file).await;
            assert_eq!(get(&settings, &format!("{PS}/network_id_port")), "5060");
            assert_eq!(get(&settings, &format!("{PS}/challenge_checksync")), "on");
            let timer = get(&settings, &format!("{PS}/settings_refresh_timer"));
            assert!(within_jitter(timer, 90), "{file}: {timer}");
        }
    }

    /// FP snom/D785 l.97-101 gives identity N the line key `fkey idx = N-1`: the hot-desk keys
    /// come after the model's identities instead of replacing P1 and P2.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn hot_desk_keys_follow_the_identities_line_keys() {
        let server = site(json!({})).await;
        for (mac, model, file, identities) in [
            ("000413aa0006", "D785", "/snomD785-000413AA0006.htm", 12),
            ("000413aa0007", "D315", "/snomD315-000413AA0007.htm", 4),
        ] {
            let device = NewDevice::new(mac).model(model).hotdesk();
            server.admin_api().create_device(device).ok().await;
            let settings = xml(&server, mac, file).await;
            let key = |idx: u16| settings.get(&format!("settings/functionKeys/fkey[idx={idx}]"));
            for idx in 0..identities {
                assert_eq!(
                    key(idx).map(String::as_str),
                    Some("line"),
                    "{model} P{}",
                    idx + 1
                );
            }
            assert!(key(identities).unwrap().ends_with("/login"), "{model}");
            assert!(key(identities).unwrap().starts_with("url https://"));
            assert!(key(identities + 1).unwrap().ends_with("/pin"), "{model}");
            assert_eq!(key(identities + 2), None);
        }
    }

    /// SD docs/xml_minibrowser/main_tags/SnomIPPhoneInput.md documents `<Url>` with an
    /// `InputToken` that the typed value replaces; `QueryStringParam` is not documented. The
    /// first screen asks the extension, the second the PIN with the extension carried in front.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_login_form_is_a_url_with_an_input_token() {
        let server = site(json!({})).await;
        let mac = "000413aa0008";
        let device = NewDevice::new(mac).model("D785").hotdesk();
        server.admin_api().create_device(device).ok().await;
        let settings = xml(&server, mac, "/snomD785-000413AA0008.htm").await;
        let login = settings["settings/functionKeys/fkey[idx=12]"]
            .strip_prefix("url ")
            .unwrap()
            .to_string();
        let path = &login[BASE.len() - 1..];
        let first = xmlflat::flatten(&server.phone_get(path, "").await.text()).unwrap();
        assert_eq!(
            first["SnomIPPhoneInput/Url"],
            format!("{login}?ext=__VALUE__")
        );
        assert_eq!(first["SnomIPPhoneInput/InputItem/InputToken"], "__VALUE__");
        assert_eq!(first["SnomIPPhoneInput/InputItem/InputFlags"], "n");
        assert!(!first.keys().any(|k| k.contains("QueryStringParam")));
        // What the phone fetches once 1001 is typed.
        let second = server
            .phone_get(&format!("{path}?ext=1001"), "")
            .await
            .text();
        let second = xmlflat::flatten(&second).unwrap();
        assert_eq!(
            second["SnomIPPhoneInput/Url"],
            format!("{login}?ext=1001&pin=__VALUE__")
        );
        assert_eq!(second["SnomIPPhoneInput/InputItem/InputFlags"], "pn");
    }
}

mod yealink {
    use super::*;

    /// WZ wazo_yealink/v87 base.tpl `{{server}}/firmware/{{fw_filename}}`, FP t46s l.268: the
    /// firmware **file**; FP t54w l.175-185: `static.auto_provision.repeat.enable/minutes`.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn device_files_name_the_firmware_file_and_resync_on_an_interval() {
        let server = site(json!({"resync_minutes": 30})).await;
        let firmware = json!({"firmware_file": "66.86.0.15.rom", "firmware_version": "66.86.0.15"});
        server
            .admin_api()
            .patch_model_settings("T46S", firmware)
            .ok()
            .await;
        add(&server, "001565aa0001", "T46S").await;
        add(&server, "805ec0aa0002", "W60B").await;
        let desk = key_value(&server, "001565aa0001", "/001565aa0001.cfg").await;
        assert_eq!(
            get(&desk, "static.firmware.url"),
            format!("{BASE}firmware/66.86.0.15.rom")
        );
        let base = key_value(&server, "805ec0aa0002", "/805ec0aa0002.cfg").await;
        assert!(
            !base.contains_key("static.firmware.url"),
            "no firmware set for the W60B"
        );
        for settings in [&desk, &base] {
            assert_eq!(get(settings, "static.auto_provision.repeat.enable"), "1");
            let minutes: u32 = get(settings, "static.auto_provision.repeat.minutes")
                .parse()
                .unwrap();
            assert!((30..=33).contains(&minutes), "{minutes}");
        }
    }

    /// The private CA (audit §1, FP t54w l.355-397): the phone downloads it from
    /// `static.trusted_certificates.url` and checks servers against its trusted list once
    /// `static.security.trust_certificates` is 1 (Yealink T48G admin guide p.229).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_common_file_installs_and_trusts_the_site_ca() {
        let server = site(json!({"ca_certificate": SITE_CA})).await;
        for family in ["/y000000000066.cfg", "/y000000000146.cfg"] {
            let text = server.phone_get(family, "").await.text();
            let common = kv::parse(&text).unwrap();
            assert_eq!(
                get(&common, "static.trusted_certificates.url"),
                format!("{BASE}site-ca.pem")
            );
            assert_eq!(get(&common, "static.security.trust_certificates"), "1");
        }
    }

    /// Check-sync (audit §1 `sip.trust_ctrl`): with deskprov's NOTIFY off the phone accepts SIP
    /// only from its servers (`sip.trust_ctrl = 1`, Yealink T5 admin guide p.494); with it on
    /// deskprov is not the registrar, so the phone demands the line's digest for a check-sync
    /// NOTIFY instead (`sip.request_validation.*`, named in FP t54w's V84 section; their
    /// meaning is Poly's `voIpProt.SIP.requestValidation`: a guess, see docs/vendors/yealink.md).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn check_sync_is_accepted_only_from_the_servers_or_with_the_lines_digest() {
        for (sip_notify, trust_ctrl) in [(false, "1"), (true, "0")] {
            let server = site_notifying(sip_notify, json!({})).await;
            let common =
                kv::parse(&server.phone_get("/y000000000066.cfg", "").await.text()).unwrap();
            assert_eq!(
                get(&common, "sip.trust_ctrl"),
                trust_ctrl,
                "sip_notify {sip_notify}"
            );
            assert_eq!(get(&common, "sip.notify_reboot_enable"), "0");
            assert_eq!(get(&common, "sip.request_validation.digest.list"), "NOTIFY");
            assert_eq!(get(&common, "sip.request_validation.event"), "check-sync");
        }
    }

    /// WZ wazo_yealink/v87/common.py `_NB_SIP_ACCOUNTS`: W80B 0, W80DM 30.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn w80_accounts_go_to_the_dect_manager() {
        let server = site(json!({})).await;
        let api = server.admin_api();
        api.create_device(NewDevice::new("805ec0aa0003").model("W80DM"))
            .ok()
            .await;
        api.create_device(NewDevice::new("805ec0aa0004").model("W80B"))
            .ok()
            .await;
        assert!(
            api.assign("805ec0aa0003", 30, "1001")
                .await
                .status
                .is_success()
        );
        assert!(
            !api.assign("805ec0aa0003", 31, "1002")
                .await
                .status
                .is_success()
        );
        assert!(
            !api.assign("805ec0aa0004", 1, "1002")
                .await
                .status
                .is_success()
        );
        let manager = key_value(&server, "805ec0aa0003", "/805ec0aa0003.cfg").await;
        assert_eq!(get(&manager, "account.30.user_name"), "1001");
        assert_eq!(get(&manager, "handset.30.incoming_lines"), "30");
        let base = key_value(&server, "805ec0aa0004", "/805ec0aa0004.cfg").await;
        assert!(!base.keys().any(|k| k.starts_with("account.")), "{base:#?}");
        assert!(base.contains_key("static.auto_provision.server.password"));
    }
}

mod poly {
    use super::*;

    const DEVICE: &str = "/0004f2aa0001-deskprov.cfg";
    const MAC: &str = "0004f2aa0001";

    /// FP polycom/6.x l.251-255: `prov.polling.*`; relative mode polls every `period` seconds
    /// (Poly UCS 5.8.1 admin guide, provisional polling), here the device's jittered interval.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_phone_polls_on_the_resync_interval() {
        let server = site(json!({"resync_minutes": 240})).await;
        add(&server, MAC, "VVX400").await;
        let settings = xml(&server, MAC, DEVICE).await;
        let prov = |key: &str| {
            get(&settings, &format!("polycomConfig/prov@prov.polling.{key}")).to_string()
        };
        assert_eq!(prov("enabled"), "1");
        assert_eq!(prov("mode"), "rel");
        assert!(within_jitter(&prov("period"), 240), "{}", prov("period"));
    }

    /// FP polycom/6.x l.59 (`sec.TLS.customCaCert.N`) for SIP over TLS, selected through
    /// application profile 1 (`sec.TLS.profileSelection.SIP`); `device.sec.TLS.customCaCert1`
    /// for provisioning (public Poly provisioning code). The PEM keeps its line breaks as
    /// character references, so the parsed value is the certificate.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_site_ca_is_trusted_for_sip_and_provisioning() {
        let server = site(json!({"ca_certificate": SITE_CA})).await;
        add(&server, MAC, "VVX400").await;
        let common =
            xmlflat::flatten(&server.phone_get("/polycom-common.cfg", "").await.text()).unwrap();
        let pem_lines = |value: &str| value.lines().map(str::to_string).collect::<Vec<_>>();
        let expected = pem_lines(SITE_CA.trim());
        assert_eq!(
            pem_lines(get(&common, "polycomConfig/tls@sec.TLS.customCaCert.1")),
            expected
        );
        assert_eq!(
            get(&common, "polycomConfig/tls@sec.TLS.profileSelection.SIP"),
            "ApplicationProfile1"
        );
        assert_eq!(
            get(
                &common,
                "polycomConfig/tls@sec.TLS.profile.1.caCert.application1"
            ),
            "1"
        );
        let device = xml(&server, MAC, DEVICE).await;
        assert_eq!(
            get(
                &device,
                "polycomConfig/deviceTls@device.sec.TLS.customCaCert1.set"
            ),
            "1"
        );
        assert_eq!(
            pem_lines(get(
                &device,
                "polycomConfig/deviceTls@device.sec.TLS.customCaCert1"
            )),
            expected
        );
    }

    /// SoundPoint IP admin guide 1.4.x §4.6.2.1.3.3 Request Validation: `request` NOTIFY,
    /// `method` digest ("challenge requests with digest authentication using the local
    /// credentials for the associated registration"), `request.1.event` check-sync. deskprov
    /// answers the challenge with line 1's credentials. FP 6.x l.127 and WZ v6_4_6 common.cfg
    /// set `tcpIpApp.sntp.gmtOffset.overrideDHCP`.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn check_sync_is_challenged_and_the_offset_wins_over_dhcp() {
        let server = site(json!({"time_zone": "Europe/Berlin"})).await;
        let common =
            xmlflat::flatten(&server.phone_get("/polycom-common.cfg", "").await.text()).unwrap();
        let validation = |key: &str| {
            get(
                &common,
                &format!("polycomConfig/requestValidation@voIpProt.SIP.requestValidation.1.{key}"),
            )
            .to_string()
        };
        assert_eq!(validation("request"), "NOTIFY");
        assert_eq!(validation("method"), "digest");
        assert_eq!(validation("request.1.event"), "check-sync");
        assert_eq!(
            get(
                &common,
                "polycomConfig/time@tcpIpApp.sntp.gmtOffset.overrideDHCP"
            ),
            "1"
        );
        assert_eq!(
            get(&common, "polycomConfig/time@tcpIpApp.sntp.gmtOffset"),
            "3600"
        );
    }

    /// `APP_FILE_PATH` names the application image file (phones.md §1.2; WZ v6_4_6
    /// 000000000000.cfg): the firmware file where one is set site-wide, else `sip.ld` in the
    /// firmware directory, else `sip.ld` beside the configs.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_master_file_names_the_application_image() {
        let server = site(json!({})).await;
        let app_file_path = || async {
            let text = server.phone_get("/0004f2aa0001.cfg", "").await.text();
            xmlflat::flatten(&text).unwrap()["APPLICATION@APP_FILE_PATH"].clone()
        };
        assert_eq!(app_file_path().await, "sip.ld");
        let api = server.admin_api();
        api.patch_settings(json!({"firmware_url": "https://fw.example.com/poly/"}))
            .ok()
            .await;
        assert_eq!(app_file_path().await, "https://fw.example.com/poly/sip.ld");
        api.patch_settings(json!({"firmware_url": null, "firmware_file": "3111-46157-002.sip.ld"}))
            .ok()
            .await;
        assert_eq!(
            app_file_path().await,
            format!("{BASE}firmware/3111-46157-002.sip.ld")
        );
    }
}

mod cisco {
    use super::*;

    const MAC: &str = "d0ec35aa0001";
    const DEVICE: &str = "/cisco-d0ec35aa0001.xml";

    fn profile(settings: &BTreeMap<String, String>, key: &str) -> String {
        get(settings, &format!("flat-profile/{key}")).to_string()
    }

    /// The NOTIFY contract: MPP authenticates a resync NOTIFY with the line's digest when
    /// `Auth_Resync-Reboot` is Yes (Cisco MPP admin guide, Extension → SIP Settings; FP 8851
    /// l.446), which deskprov answers with line 1's credentials; `Resync_From_SIP` enables
    /// `Event: resync` (6800 guide p.182). `Resync_Periodic`/`Resync_Random_Delay` in seconds
    /// (security.md §4.1; WZ v12_0_7 sets Resync_Periodic).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn resync_is_periodic_and_a_notify_is_authenticated() {
        let server = site(json!({"resync_minutes": 60})).await;
        add(&server, MAC, "CP-8851-3PCC").await;
        let settings = xml(&server, MAC, DEVICE).await;
        assert_eq!(profile(&settings, "Auth_Resync-Reboot_1_"), "Yes");
        assert_eq!(profile(&settings, "Resync_From_SIP"), "Yes");
        assert!(within_jitter(&profile(&settings, "Resync_Periodic"), 60));
        assert_eq!(profile(&settings, "Resync_Random_Delay"), "360");
    }

    /// `Upgrade_Rule` names the image (Cisco 8800 guide p.113, manualslib 1675453) and
    /// `Custom_CA_Rule` the CA to install (FP 8851 l.177), in the bootstrap too so the phone
    /// has it before it fetches its own file.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn upgrade_rule_names_the_image_and_the_site_ca_is_installed() {
        let server = site(json!({"ca_certificate": SITE_CA})).await;
        let image = json!({"firmware_file": "sip88xx.12-0-1MPP-1.loads", "firmware_version": "sip88xx.12-0-1MPP-1"});
        server
            .admin_api()
            .patch_model_settings("CP-8851-3PCC", image)
            .ok()
            .await;
        add(&server, MAC, "CP-8851-3PCC").await;
        let settings = xml(&server, MAC, DEVICE).await;
        assert_eq!(profile(&settings, "Upgrade_Enable"), "Yes");
        assert_eq!(
            profile(&settings, "Upgrade_Rule"),
            format!("{BASE}firmware/sip88xx.12-0-1MPP-1.loads")
        );
        assert_eq!(
            profile(&settings, "Custom_CA_Rule"),
            format!("{BASE}site-ca.pem")
        );
        let bootstrap =
            xmlflat::flatten(&server.phone_get("/8851-3PCC.xml", "").await.text()).unwrap();
        assert_eq!(
            profile(&bootstrap, "Custom_CA_Rule"),
            format!("{BASE}site-ca.pem")
        );
    }

    /// MPP phones show another language only with its dictionary: WZ wazo_cisco_sip/v12_0_7
    /// writes `Language_Selection` with a `Dictionary_Server_Script` naming per-series,
    /// per-firmware files (`de-DE_88xx-12.0.1.1000.xml`) that deskprov does not have, so no
    /// locale is written at all (docs/vendors/cisco.md).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn no_locale_is_written_without_its_dictionary() {
        let server = site(json!({"language": "de"})).await;
        add(&server, MAC, "CP-8851-3PCC").await;
        let settings = xml(&server, MAC, DEVICE).await;
        for key in ["Locale", "Language_Selection", "Dictionary_Server_Script"] {
            assert!(
                !settings.contains_key(&format!("flat-profile/{key}")),
                "{key}"
            );
        }
    }
}
