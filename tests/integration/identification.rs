//! Identification against the real User-Agent strings collected in fixtures/user-agents.tsv.

use deskprov::identify::identify;
use http::StatusCode;
use serde_json::Value;

use crate::api::NewDevice;
use crate::helpers::*;
use crate::kv;

/// The kinds of source the file's header names.
const SOURCES: &[&str] = &["WZ", "FP", "Gigaset", "Snom", "GH", "variant"];

#[test]
fn every_collected_user_agent_is_identified() {
    let table = std::fs::read_to_string(fixtures().join("user-agents.tsv")).unwrap();
    let rows: Vec<&str> = table
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .collect();
    assert!(rows.len() >= 100, "only {} user agents", rows.len());
    for row in rows {
        let fields: Vec<&str> = row.splitn(6, '\t').collect();
        let [vendor, model, firmware, mac, source, user_agent] = fields[..] else {
            panic!("malformed row: {row:?}")
        };
        let kind = source.split_whitespace().next().unwrap_or_default();
        assert!(
            SOURCES.contains(&kind),
            "source of {user_agent}: {source:?}"
        );
        let expected = |s: &str| (s != "-").then(|| s.to_string());
        let id = identify(user_agent.as_bytes(), "");
        assert_eq!(id.vendor(), Some(vendor), "{user_agent}");
        assert_eq!(
            id.model().map(|m| m.to_string()),
            expected(model),
            "model of {user_agent}"
        );
        assert_eq!(
            id.firmware().map(str::to_string),
            expected(firmware),
            "firmware of {user_agent}"
        );
        assert_eq!(
            id.requester_mac().map(|m| m.to_hex()),
            expected(mac),
            "MAC of {user_agent}"
        );
    }
}

/// Recognition must survive any input (the fuzz target `identify` drives it with arbitrary
/// bytes): every cut of every collected User-Agent, at each character, is identified without a
/// panic, and any MAC it yields is one.
#[test]
fn every_cut_of_a_collected_user_agent_is_survived() {
    let table = std::fs::read_to_string(fixtures().join("user-agents.tsv")).unwrap();
    let user_agents = table
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| l.rsplit('\t').next());
    let mut cuts = 0;
    for user_agent in user_agents {
        for (at, _) in user_agent.char_indices() {
            for part in [&user_agent[..at], &user_agent[at..]] {
                let id = identify(part.as_bytes(), "");
                if let Some(mac) = id.requester_mac() {
                    assert_eq!(mac.to_hex().len(), 12, "{part:?}");
                }
                cuts += 1;
            }
        }
        let noisy = format!("\u{fffd}{user_agent}\0\u{fffd}");
        identify(noisy.as_bytes(), "");
    }
    assert!(cuts > 10_000, "{cuts}");
}

#[test]
fn file_names_identify_without_a_user_agent() {
    let cases = [
        ("001565aabbcc.cfg", "yealink"),
        ("0004f2aabbcc.cfg", "polycom"),
        ("0c383eaabbcc.cfg", "fanvil"),
        ("0004f2aabbcc-deskprov.cfg", "polycom"),
        ("8851-3PCC.xml", "cisco"),
        ("cisco-d0ec35aabbcc.xml", "cisco"),
        ("snomD785-000413AABBCC.htm", "snom"),
        ("cfg000b82aabbcc.xml", "grandstream"),
        ("7c2f80aabbcc.xml", "gigaset"),
        ("F0V00X300000.cfg", "fanvil"),
    ];
    for (name, vendor) in cases {
        assert_eq!(identify(b"", name).vendor(), Some(vendor), "{name}");
    }
    // {mac}.cfg of an unknown prefix: several vendors use the name, none can be chosen.
    assert_eq!(identify(b"", "123456aabbcc.cfg").vendor(), None);
}

#[test]
fn readme_lists_every_supported_model() {
    let readme =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
            .unwrap();
    let section = readme
        .split("## Supported phones")
        .nth(1)
        .unwrap()
        .split("\n## ")
        .next()
        .unwrap();
    for row in deskprov::models::all() {
        assert!(
            section.contains(row.model),
            "README does not list {} {}",
            row.vendor,
            row.model
        );
    }
}

/// The device in a list of devices or unregistered phones.
fn entry(list: &Value, mac: &str) -> Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|e| e["mac"] == mac)
        .unwrap_or_else(|| panic!("{mac} not in {list}"))
        .clone()
}

/// Issue "Phones work in the field", item 10: a model the table lacks is recorded as the phone
/// reports it and shown unsupported; the phone gets its vendor's generic desk template.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_model_is_recorded_as_reported_and_gets_the_generic_template() {
    let server = TestServer::start().await;
    server.seed_desk_phone().await;
    let api = server.admin_api();
    let mac = "001565009901";
    api.create_device(NewDevice::new(mac)).ok().await;
    api.assign(mac, 1, "1002").ok().await;

    let ua = "Yealink SIP-T99X 99.86.0.1 00:15:65:00:99:01";
    let config = server.phone_get(&format!("/{mac}.cfg"), ua).await;
    assert_eq!(config.status, StatusCode::OK);
    let keys = kv::parse(&config.text()).unwrap();
    let (user, _) = server.credentials(mac).await;
    assert_eq!(keys["static.auto_provision.server.username"], user);
    assert_eq!(keys["account.1.user_name"], "1002");
    assert_eq!(keys["account.1.sip_server.1.address"], "pbx.example.com");

    let device = api.show_device(mac).ok().await;
    assert_eq!(device["vendor"], "yealink");
    assert_eq!(device["model"], "T99X");
    assert_eq!(device["model_source"], "auto");
    assert_eq!(device["firmware"], "99.86.0.1");
    assert_eq!(device["supported"], false);
    assert_eq!(device["claimed"], true);
    let devices = api.list_devices().ok().await;
    assert_eq!(entry(&devices, mac)["supported"], false);
    assert_eq!(entry(&devices, T46S_MAC)["supported"], true);
}

/// An unknown base on W-series firmware (family 130, the W90's) gets the DECT template of its
/// family, as the common file of that family already is a base's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_yealink_base_gets_the_template_of_its_firmware_family() {
    let server = TestServer::start().await;
    server.seed_desk_phone().await;
    let api = server.admin_api();
    let mac = "805e0c009902";
    api.create_device(NewDevice::new(mac)).ok().await;
    api.assign(mac, 1, "1002").ok().await;
    let ua = "Yealink W90B 130.85.0.20 80:5e:0c:00:99:02";
    let config = server.phone_get(&format!("/{mac}.cfg"), ua).await;
    assert_eq!(config.status, StatusCode::OK);
    let keys = kv::parse(&config.text()).unwrap();
    assert_eq!(keys["account.1.user_name"], "1002");
    assert_eq!(keys["handset.1.name"], "Bob Example", "the DECT template");
    let device = api.show_device(mac).ok().await;
    assert_eq!(
        (device["model"].clone(), device["supported"].clone()),
        ("W90B".into(), false.into())
    );
}

/// A phone of a vendor deskprov recognises but does not provision gets the one refusal, which
/// records nothing, and never takes its claim. Once the admin adopted it as what it reported,
/// also a later request without a User-Agent that names a file another vendor serves is
/// refused (an Htek asks for `cfg{mac}.xml`, as a Grandstream does).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_identify_only_phone_is_refused_and_its_claim_stays_open() {
    let server = TestServer::start().await;
    server.seed_desk_phone().await;
    let api = server.admin_api();
    let unknown = server
        .phone_get(
            "/001565777777.cfg",
            "Yealink SIP-T46S 66.86.0.15 00:15:65:77:77:77",
        )
        .await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);

    let aastra = "00085d20da5b";
    api.create_device(NewDevice::new(aastra)).ok().await;
    let ua = "Aastra55i MAC:00-08-5D-20-DA-5B V:2.6.0.1008-SIP";
    let refused = server.phone_get(&format!("/{aastra}.cfg"), ua).await;
    assert_eq!(refused.status, unknown.status);
    assert_eq!(refused.body, unknown.body);
    assert_eq!(refused.challenges(), unknown.challenges());
    let device = api.show_device(aastra).ok().await;
    assert_eq!(
        device["vendor"],
        Value::Null,
        "a refused request records nothing"
    );
    assert_eq!(device["model"], Value::Null);
    assert_eq!(device["claimed"], false);
    assert!(device["claim_open_until"].is_string(), "{device}");

    let htek = "001fc11c22a9";
    let file = format!("/cfg{htek}.xml");
    let with_ua = server
        .phone_get(&file, "Htek UC903 2.0.4.2 00:1f:c1:1c:22:a9")
        .await;
    assert_eq!(with_ua.status, StatusCode::UNAUTHORIZED);
    wait_until_listed(&api, &[htek]).await;
    api.adopt(htek).ok().await;
    let without_ua = server.phone_get(&file, "").await;
    assert_eq!(without_ua.status, StatusCode::UNAUTHORIZED);
    assert_eq!(without_ua.body, unknown.body);
    let device = api.show_device(htek).ok().await;
    assert_eq!(
        (device["vendor"].clone(), device["model"].clone()),
        ("htek".into(), "UC903".into())
    );
    assert_eq!(device["claimed"], false);
    assert!(device["claim_open_until"].is_string(), "{device}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_unregistered_list_says_whether_a_model_is_supported() {
    let server = TestServer::start().await;
    let knocks = [
        (
            "001565009903",
            "Yealink SIP-T99X 99.86.0.1 00:15:65:00:99:03",
        ),
        (
            "001565009904",
            "Yealink SIP-T46S 66.86.0.15 00:15:65:00:99:04",
        ),
        (
            "00085d19e401",
            "Aastra57i MAC:00-08-5D-19-E4-01 V:2.6.0.1008-SIP",
        ),
        ("001565009905", ""),
    ];
    for (mac, ua) in knocks {
        server.phone_get(&format!("/{mac}.cfg"), ua).await;
    }
    let macs = knocks.map(|(mac, _)| mac);
    wait_until_listed(&server.admin_api(), &macs).await;
    let seen = server.admin_api().list_unregistered().ok().await;
    let supported = |mac: &str| entry(&seen, mac)["supported"].clone();
    assert_eq!(supported("001565009903"), false);
    assert_eq!(entry(&seen, "001565009903")["model"], "T99X");
    assert_eq!(supported("001565009904"), true);
    assert_eq!(supported("00085d19e401"), false);
    assert_eq!(supported("001565009905"), Value::Null, "no model reported");
}
