//! Every vendor end to end over HTTPS: a registered MAC without a model fetches its common file
//! and its own config with the vendor's real User-Agent; the model is filled in from the
//! request, and the config parses and carries the assigned users' accounts.

use std::collections::BTreeMap;

use http::{Method, StatusCode};

use crate::api::NewDevice;
use crate::helpers::*;
use crate::{kv, xmlflat};

struct Phone {
    user_agent: &'static str,
    mac: &'static str,
    vendor: &'static str,
    model: &'static str,
    /// Files fetched before the device's own config, in the phone's order.
    before: &'static [&'static str],
    device_file: &'static str,
    dect: bool,
}

const PHONES: &[Phone] = &[
    Phone {
        user_agent: "Yealink SIP-T54W 96.86.0.100 00:15:65:aa:bb:01",
        mac: "001565aabb01",
        vendor: "yealink",
        model: "T54W",
        before: &["/001565aabb01.boot", "/y000000000096.cfg"],
        device_file: "/001565aabb01.cfg",
        dect: false,
    },
    Phone {
        user_agent: "Yealink W60B 77.85.0.20 80:5e:c0:aa:bb:02",
        mac: "805ec0aabb02",
        vendor: "yealink",
        model: "W60B",
        before: &["/y000000000077.cfg"],
        device_file: "/805ec0aabb02.cfg",
        dect: true,
    },
    Phone {
        user_agent: "FileTransport PolycomVVX-VVX_450-UA/6.4.6.2648 Type/Application",
        mac: "64167faabb03",
        vendor: "polycom",
        model: "VVX450",
        before: &["/64167faabb03.cfg", "/polycom-common.cfg"],
        device_file: "/64167faabb03-deskprov.cfg",
        dect: false,
    },
    Phone {
        user_agent: "Cisco-CP-8851-3PCC/11.3.7 (d0ec35aabb04)",
        mac: "d0ec35aabb04",
        vendor: "cisco",
        model: "CP-8851-3PCC",
        before: &["/8851-3PCC.xml"],
        device_file: "/cisco-d0ec35aabb04.xml",
        dect: false,
    },
    Phone {
        user_agent: "Mozilla/4.0 (compatible; snomD785-SIP 10.1.73.16 2010.12-00004-g9ba52f5 000413AABB05 SXM:0 UXM:0)",
        mac: "000413aabb05",
        vendor: "snom",
        model: "D785",
        before: &["/snomD785.htm"],
        device_file: "/snomD785-000413AABB05.htm",
        dect: false,
    },
    Phone {
        user_agent: "Mozilla/4.0 (compatible; Snom M900 05.20.0001 000413aabb06)",
        mac: "000413aabb06",
        vendor: "snom",
        model: "M900",
        before: &["/snomM900.htm"],
        device_file: "/snomM900-000413AABB06.htm",
        dect: true,
    },
    Phone {
        user_agent: "Grandstream Model HW GRP2614 SW 1.0.5.15 DevId c074adaabb07",
        mac: "c074adaabb07",
        vendor: "grandstream",
        model: "GRP2614",
        before: &["/cfgc074adaabb07", "/cfggrp2614.xml", "/cfg.xml"],
        device_file: "/cfgc074adaabb07.xml",
        dect: false,
    },
    Phone {
        // DP750 User-Agent not confirmed by a source; the GXP form is assumed.
        user_agent: "Grandstream Model HW DP750 SW 1.0.3.37 DevId 000b82aabb08",
        mac: "000b82aabb08",
        vendor: "grandstream",
        model: "DP750",
        before: &["/cfg.xml"],
        device_file: "/cfg000b82aabb08.xml",
        dect: true,
    },
    Phone {
        user_agent: "Gigaset N870 IP PRO/83.V2.43.0+build.5f0a106;7C2F80AABB09;Handset=250",
        mac: "7c2f80aabb09",
        vendor: "gigaset",
        model: "N870",
        before: &[],
        device_file: "/7C2F80AABB09.xml",
        dect: true,
    },
    Phone {
        user_agent: "Fanvil X4U 2.12.16.17 0c383eaabb10",
        mac: "0c383eaabb10",
        vendor: "fanvil",
        model: "X4U",
        before: &["/f0X4hw1.100.cfg"],
        device_file: "/0c383eaabb10.cfg",
        dect: false,
    },
];

fn parse(phone: &Phone, body: &str) -> BTreeMap<String, String> {
    let parsed = if phone.vendor == "yealink" {
        kv::parse(body)
    } else {
        xmlflat::flatten(body)
    };
    parsed.unwrap_or_else(|e| panic!("{}: {e}\n{body}", phone.device_file))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_vendor_provisions_end_to_end() {
    let server = TestServer::start_with(|c| {
        c.server.public_url = Some("https://prov.example.com:8443/".into())
    })
    .await;
    server.seed_desk_phone().await;
    let api = server.admin_api();
    for phone in PHONES {
        api.create_device(NewDevice::new(phone.mac)).ok().await;
        api.assign(phone.mac, 1, "1001").ok().await;
        api.assign(phone.mac, 2, "1002").ok().await;
        let ua = [("user-agent", phone.user_agent)];
        for file in phone.before {
            let r = server.phone_get_with(file, &ua).await;
            let expected = if file.ends_with(".xml")
                || file.ends_with(".cfg")
                || file.ends_with(".htm")
                || file.ends_with(".boot")
            {
                StatusCode::OK
            } else {
                // Grandstream's legacy binary name: missing, so refused like any file that
                // is not the requester's.
                StatusCode::UNAUTHORIZED
            };
            assert_eq!(r.status, expected, "{} {file}", phone.model);
            assert!(
                !r.text().contains("alice-secret-0001"),
                "{file} carries a secret"
            );
            if r.status == StatusCode::OK && phone.vendor != "yealink" {
                xmlflat::flatten(&r.text()).unwrap_or_else(|e| panic!("{file}: {e}"));
            }
        }
        let own = server.phone_get_with(phone.device_file, &ua).await;
        assert_eq!(
            own.status,
            StatusCode::OK,
            "{} {}: {}",
            phone.model,
            phone.device_file,
            own.text()
        );
        let settings = parse(phone, &own.text());
        let values: Vec<&String> = settings.values().collect();
        assert!(
            values.iter().any(|v| v.as_str() == "alice-secret-0001"),
            "{}: no account 1\n{}",
            phone.model,
            own.text()
        );
        assert!(
            values.iter().any(|v| v.as_str() == "bob-secret-00002"),
            "{}: no account 2",
            phone.model
        );
        // Gigaset takes its provisioning credentials from the redirect URL, not from its config.
        if phone.vendor != "gigaset" {
            let (_, provisioning_password) = server.credentials(phone.mac).await;
            assert!(
                own.text().contains(&provisioning_password),
                "{}: provisioning credentials missing",
                phone.model
            );
        }

        let device = api.show_device(phone.mac).ok().await;
        assert_eq!(device["vendor"], phone.vendor, "{}", phone.user_agent);
        assert_eq!(device["model"], phone.model, "{}", phone.user_agent);
        assert_eq!(device["model_source"], "auto");
        assert!(device["line_count"].as_u64().unwrap() >= 2);
        let rendered = api.render(phone.mac).await;
        assert_eq!(
            rendered.body, own.body,
            "{}: render differs from what the phone got",
            phone.model
        );
        let kind = api.list_models().ok().await;
        let row = kind
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["vendor"] == phone.vendor && m["model"] == phone.model)
            .unwrap()
            .clone();
        assert_eq!(row["kind"] == "dect_base", phone.dect, "{}", phone.model);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dect_handsets_map_to_their_own_accounts() {
    let server = TestServer::start().await;
    server.seed_desk_phone().await;
    /// (MAC, model, file, expected settings, the base's User-Agent)
    type Case = (
        &'static str,
        &'static str,
        &'static str,
        &'static [(&'static str, &'static str)],
        &'static str,
    );
    let cases: [Case; 4] = [
        (
            "805ec0aabb02",
            "W60B",
            "/805ec0aabb02.cfg",
            &[
                ("handset.2.incoming_lines", "2"),
                ("handset.2.dial_out_default_line", "2"),
                ("account.2.user_name", "1002"),
            ],
            "Yealink W60B 77.81.0.35 80:5e:c0:aa:bb:02",
        ),
        (
            "000413aabb06",
            "M900",
            "/snomM900-000413AABB06.htm",
            &[
                ("settings/phone-settings/subscr_sip_hs_idx[idx=2]", "2"),
                ("settings/phone-settings/user_name[idx=2]", "1002"),
                (
                    "settings/phone-settings/subscr_sip_ua_data_server_id[idx=2]",
                    "1",
                ),
            ],
            "Mozilla/4.0 (compatible; Snom M900 05.20.0001 000413aabb06)",
        ),
        (
            "000b82aabb08",
            "DP750",
            "/cfg000b82aabb08.xml",
            &[
                ("gs_provision/config/P4061", "1002"),
                ("gs_provision/config/P27081", "2"),
                ("gs_provision/config/P4310", "2"),
            ],
            "Grandstream Model HW DP750 SW 1.0.19.6 DevId 000b82aabb08",
        ),
        (
            "7c2f80aabb09",
            "N870",
            "/7c2f80aabb09.xml",
            &[
                (
                    "provisioning/nvm/param[name=SipAccount.00002.UserName]@value",
                    "1002",
                ),
                (
                    "provisioning/nvm/oper[name=add_hs,value=00002]/param[name=hs.RegStatus]@value",
                    "ToReg",
                ),
            ],
            "Gigaset N870 IP PRO/83.V2.43.0+build.5f0a106;7C2F80AABB09",
        ),
    ];
    let api = server.admin_api();
    for (mac, model, file, expected, user_agent) in cases {
        api.create_device(NewDevice::new(mac).model(model))
            .ok()
            .await;
        api.assign(mac, 2, "1002").ok().await;
        let r = server.phone_get(file, user_agent).await;
        assert_eq!(r.status, StatusCode::OK, "{model}");
        let settings = if model == "W60B" {
            kv::parse(&r.text()).unwrap()
        } else {
            xmlflat::flatten(&r.text()).unwrap()
        };
        for (key, value) in expected {
            assert_eq!(
                settings.get(*key).map(String::as_str),
                Some(*value),
                "{model} {key}\n{}",
                r.text()
            );
        }
        // Handset 1 has no user: its account is emptied, never someone else's.
        assert!(!r.text().contains("alice-secret-0001"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poly_uploads_are_kept_per_device_and_bounded() {
    let server = TestServer::start_with(|c| {
        c.limits.max_upload_bytes = 1000;
        c.limits.max_uploads_per_device_bytes = 2500;
    })
    .await;
    server.seed_desk_phone().await;
    let mac = "0004f2aabbcc";
    let api = server.admin_api();
    api.create_device(NewDevice::new(mac).model("VVX400"))
        .ok()
        .await;
    let ua = "FileTransport PolycomVVX-VVX_400-UA/4.1.4.7430 Type/Application";
    let (user, password) = server.credentials(mac).await;
    let auth = basic(&user, &password);
    let put = |name: &'static str, body: Vec<u8>, auth: Option<String>| {
        let server = &server;
        async move {
            let mut headers = vec![("user-agent", ua)];
            let auth = auth.unwrap_or_default();
            if !auth.is_empty() {
                headers.push(("authorization", auth.as_str()));
            }
            server
                .phone
                .send(Method::PUT, &format!("/{mac}-{name}"), &headers, Some(body))
                .await
                .unwrap()
        }
    };

    // Before the claim, nobody may write the device's files.
    assert_eq!(
        put("app.log", b"x".to_vec(), None).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        put("app.log", b"boot ok\n".to_vec(), Some(auth.clone()))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let back = server
        .phone_get_with(&format!("/{mac}-app.log"), &[("authorization", &auth)])
        .await;
    assert_eq!(back.status, StatusCode::OK);
    assert_eq!(&back.body[..], b"boot ok\n");
    // Another device's credentials, or none, read nothing.
    api.create_device(NewDevice::new("0004f2000001").model("VVX400"))
        .ok()
        .await;
    let (other_user, other_password) = server.credentials("0004f2000001").await;
    let other = basic(&other_user, &other_password);
    assert_eq!(
        server
            .phone_get_with(&format!("/{mac}-app.log"), &[("authorization", &other)])
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    server.clock.advance(3601);
    assert_eq!(
        server
            .phone_get(&format!("/{mac}-app.log"), ua)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );

    // Too large for one file: refused, nothing stored.
    assert_eq!(
        put("phone.cfg", vec![b'a'; 1500], Some(auth.clone()))
            .await
            .status,
        StatusCode::PAYLOAD_TOO_LARGE
    );
    assert_eq!(
        server
            .phone_get_with(&format!("/{mac}-phone.cfg"), &[("authorization", &auth)])
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    // Over the per-device cap the oldest file goes.
    for name in ["boot.log", "phone.cfg", "web.cfg"] {
        server.clock.advance(1);
        assert_eq!(
            put(name, vec![b'z'; 900], Some(auth.clone())).await.status,
            StatusCode::NO_CONTENT
        );
    }
    assert_eq!(
        server
            .phone_get_with(&format!("/{mac}-app.log"), &[("authorization", &auth)])
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        server
            .phone_get_with(&format!("/{mac}-boot.log"), &[("authorization", &auth)])
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        server
            .phone_get_with(&format!("/{mac}-web.cfg"), &[("authorization", &auth)])
            .await
            .status,
        StatusCode::OK
    );

    // Only known upload names are accepted.
    let r = server
        .phone
        .send(
            Method::PUT,
            &format!("/{mac}-deskprov.cfg"),
            &[("authorization", auth.as_str())],
            Some(b"x".to_vec()),
        )
        .await
        .unwrap();
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
}

/// What a phone answers to a Digest challenge (RFC 7616, MD5, qop=auth).
fn digest_answer(challenge: &str, user: &str, password: &str, uri: &str) -> String {
    use deskprov::digest::md5_hex;
    let field = |name: &str| {
        let start = challenge.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
        challenge[start..].split('"').next().unwrap().to_string()
    };
    let (realm, nonce) = (field("realm"), field("nonce"));
    let ha1 = md5_hex(&format!("{user}:{realm}:{password}"));
    let ha2 = md5_hex(&format!("GET:{uri}"));
    let response = md5_hex(&format!("{ha1}:{nonce}:00000001:0a4f113b:auth:{ha2}"));
    format!(
        "Digest username=\"{user}\", realm=\"{realm}\", nonce=\"{nonce}\", uri=\"{uri}\", algorithm=MD5, qop=auth, nc=00000001, cnonce=\"0a4f113b\", response=\"{response}\""
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gigaset_fetches_with_digest_after_its_claim() {
    let server = TestServer::start().await;
    server.seed_desk_phone().await;
    let (mac, uri) = ("7c2f80aabb09", "/7c2f80aabb09.xml");
    let ua = "Gigaset N870 IP PRO/83.V2.43.0+build.5f0a106;7C2F80AABB09;Handset=250";
    let api = server.admin_api();
    api.create_device(NewDevice::new(mac)).ok().await;
    api.assign(mac, 1, "1001").ok().await;
    assert_eq!(
        server.phone_get(uri, ua).await.status,
        StatusCode::OK,
        "first fetch in the claim window"
    );
    server.clock.advance(3601);

    // From then on only Digest with the device's credentials (the admin put them in the redirect URL).
    let challenged = server.phone_get(uri, ua).await;
    assert_eq!(challenged.status, StatusCode::UNAUTHORIZED);
    let challenge = challenged.challenges()[0].to_string();
    let (user, password) = server.credentials(mac).await;
    let answer = digest_answer(&challenge, &user, &password, uri);
    let fetched = server
        .phone_get_with(uri, &[("user-agent", ua), ("authorization", &answer)])
        .await;
    assert_eq!(fetched.status, StatusCode::OK);
    assert!(fetched.text().contains("alice-secret-0001"));

    // A wrong password, another file, or a nonce past its lifetime: refused.
    let wrong = digest_answer(&challenge, &user, "not-the-password", uri);
    assert_eq!(
        server
            .phone_get_with(uri, &[("authorization", &wrong)])
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    api.create_device(NewDevice::new("7c2f80aabb0a")).ok().await;
    server.clock.advance(3601);
    let elsewhere = digest_answer(&challenge, &user, &password, "/7c2f80aabb0a.xml");
    assert_eq!(
        server
            .phone_get_with("/7c2f80aabb0a.xml", &[("authorization", &elsewhere)])
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        server
            .phone_get_with(uri, &[("authorization", &answer)])
            .await
            .status,
        StatusCode::UNAUTHORIZED,
        "stale nonce"
    );
}
