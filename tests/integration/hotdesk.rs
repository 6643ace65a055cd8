//! Hot-desking end to end: phones fetch their logged-out config, follow its Login key, fill in
//! the screens their XML browser shows, and fetch the config that now carries the user.

use std::collections::BTreeMap;
use std::time::Duration;

use deskprov::client::Reply;
use http::StatusCode;
use quick_xml::Reader;
use quick_xml::events::Event;
use serde_json::{Value, json};

use crate::api::{NewDevice, NewUser};
use crate::helpers::*;
use crate::{kv, xmlflat};

pub(crate) const ALICE_PIN: &str = "739164";
pub(crate) const BOB_PIN: &str = "580392";
pub(crate) const ALICE_SECRET: &str = "alice-secret-0001";
const BOB_SECRET: &str = "bob-secret-00002";
const LOBBY_SECRET: &str = "lobby-secret-0900";

/// A hot-desk phone as the tests drive it.
#[derive(Clone, Copy)]
pub(crate) struct Desk {
    pub(crate) user_agent: &'static str,
    pub(crate) mac: &'static str,
    pub(crate) model: &'static str,
    pub(crate) config: &'static str,
    /// Query parameters the phone adds to every browser request (the M900 base's handset index).
    pub(crate) always: &'static str,
}

pub(crate) const YEALINK: Desk = Desk {
    user_agent: "Yealink SIP-T54W 96.86.0.100 00:15:65:aa:bb:01",
    mac: "001565aabb01",
    model: "T54W",
    config: "/001565aabb01.cfg",
    always: "",
};
const POLY: Desk = Desk {
    user_agent: "FileTransport PolycomVVX-VVX_450-UA/6.4.6.2648 Type/Application",
    mac: "64167faabb03",
    model: "VVX450",
    config: "/64167faabb03-deskprov.cfg",
    always: "",
};
const CISCO: Desk = Desk {
    user_agent: "Cisco-CP-8851-3PCC/11.3.7 (d0ec35aabb04)",
    mac: "d0ec35aabb04",
    model: "CP-8851-3PCC",
    config: "/cisco-d0ec35aabb04.xml",
    always: "",
};
const SNOM: Desk = Desk {
    user_agent: "Mozilla/4.0 (compatible; snomD785-SIP 10.1.73.16 2010.12-00004-g9ba52f5 000413AABB05 SXM:0 UXM:0)",
    mac: "000413aabb05",
    model: "D785",
    config: "/snomD785-000413AABB05.htm",
    always: "",
};
const SNOM_M900_HANDSET_3: Desk = Desk {
    user_agent: "Mozilla/4.0 (compatible; Snom M900 05.20.0001 000413aabb06)",
    mac: "000413aabb06",
    model: "M900",
    config: "/snomM900-000413AABB06.htm",
    always: "IDX=3&IPEI=0328D3C9E1&MAC=000413aabb06",
};

/// Users 1001 (Alice) and 1002 (Bob) with PINs, a lobby extension 900, and the SIP server.
pub(crate) async fn site(adjust: impl FnOnce(&mut deskprov::config::Config)) -> TestServer {
    let server = TestServer::start_with(adjust).await;
    let api = server.admin_api();
    api.patch_settings(json!({"sip_server": "pbx.example.com"}))
        .ok()
        .await;
    for (ext, name, secret, pin) in [
        ("1001", "Alice Example", ALICE_SECRET, Some(ALICE_PIN)),
        ("1002", "Bob Example", BOB_SECRET, Some(BOB_PIN)),
        ("900", "Lobby", LOBBY_SECRET, None),
    ] {
        let mut user = NewUser::new(ext, name).sip_password(secret);
        if let Some(pin) = pin {
            user = user.pin(pin);
        }
        api.create_user(user).ok().await;
    }
    server
}

pub(crate) async fn add_desk(server: &TestServer, desk: Desk) {
    let device = NewDevice::new(desk.mac).model(desk.model).hotdesk();
    server.admin_api().create_device(device).ok().await;
}

/// The phone's config, fetched with its provisioning credentials.
pub(crate) async fn config(server: &TestServer, desk: Desk) -> String {
    let (user, password) = server.credentials(desk.mac).await;
    let reply = server
        .phone_get_with(
            desk.config,
            &[
                ("user-agent", desk.user_agent),
                ("authorization", &basic(&user, &password)),
            ],
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let text = reply.text();
    if desk.config.ends_with(".cfg") && !desk.config.contains("deskprov") {
        kv::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    } else {
        xmlflat::flatten(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    }
    text
}

/// The hot-desk key in a config, read with the format's parser, as a path on our server.
pub(crate) fn hotdesk_key(desk: Desk, config: &str) -> String {
    let url = match desk.model {
        // Soft key 1 while no layer sets keys, else the key list's XML browser key (type 27).
        "T54W" => {
            let config = kv::parse(config).unwrap();
            match config.get("programablekey.1.value") {
                Some(url) => url.clone(),
                None => config
                    .iter()
                    .find(|(k, v)| {
                        k.starts_with("linekey.")
                            && k.ends_with(".value")
                            && v.contains("/hotdesk/")
                    })
                    .map(|(_, v)| v.clone())
                    .expect("a login key among the line keys"),
            }
        }
        "CP-8851-3PCC" => {
            let psk = xmlflat::flatten(config).unwrap()["flat-profile/PSK_1"].clone();
            let url = psk.split(';').find_map(|p| p.strip_prefix("url=")).unwrap();
            url.to_string()
        }
        "D785" => {
            // P1..P12 are the D785's twelve identities' line keys; Login is P13.
            let fkey =
                xmlflat::flatten(config).unwrap()["settings/functionKeys/fkey[idx=12]"].clone();
            fkey.strip_prefix("url ").unwrap().to_string()
        }
        "VVX450" => {
            xmlflat::flatten(config).unwrap()["polycomConfig/softkey@softkey.1.action"].clone()
        }
        "M900" => {
            let flat = xmlflat::flatten(config).unwrap();
            format!(
                "{}{}",
                flat["settings/phone-settings/phonebook_location"],
                flat["settings/phone-settings/phonebook_filename"]
            )
        }
        other => panic!("no key reader for {other}"),
    };
    path_of(&url)
}

fn path_of(url: &str) -> String {
    let at = url
        .find("/hotdesk/")
        .unwrap_or_else(|| panic!("not a hot-desk URL: {url}"));
    url[at..].to_string()
}

/// What a browser screen offers: a form, a message or menu links.
#[derive(Debug, Default)]
pub(crate) struct Page {
    form_url: Option<String>,
    params: Vec<String>,
    /// Snom's `InputToken`: the phone puts what is typed in its place in the form's URL.
    token: Option<String>,
    pub(crate) text: String,
    links: Vec<String>,
}

/// Reads any of the four dialects the way a phone's browser would; malformed XML fails.
pub(crate) fn page(body: &str) -> Page {
    let mut reader = Reader::from_str(body);
    let mut page = Page::default();
    // The text of the innermost open element, entities resolved.
    let mut text = String::new();
    let mut in_menu_item = false;
    loop {
        match reader
            .read_event()
            .unwrap_or_else(|e| panic!("{e}\n{body}"))
        {
            Event::Start(e) | Event::Empty(e) => {
                text.clear();
                let attr = |name: &str| {
                    e.attributes()
                        .flatten()
                        .find(|a| a.key.as_ref() == name.as_bytes())
                        .map(|a| a.unescape_value().unwrap().into_owned())
                };
                match e.name().as_ref() {
                    b"MenuItem" => in_menu_item = true,
                    b"form" => page.form_url = attr("action"),
                    b"input" if attr("type").as_deref() != Some("submit") => {
                        page.params.push(attr("name").unwrap())
                    }
                    b"a" => page.links.push(attr("href").unwrap()),
                    _ => {}
                }
            }
            Event::Text(t) => text.push_str(&t.xml10_content().unwrap()),
            Event::GeneralRef(r) => text.push_str(match &*r {
                b"amp" => "&",
                b"lt" => "<",
                b"gt" => ">",
                b"quot" => "\"",
                b"apos" => "'",
                other => panic!("unexpected entity {other:?}"),
            }),
            Event::End(e) => {
                let done = std::mem::take(&mut text);
                match e.name().as_ref() {
                    b"MenuItem" => in_menu_item = false,
                    b"URL" | b"URI" if in_menu_item => page.links.push(done),
                    b"URL" | b"Url" if done.contains("/hotdesk/") => page.form_url = Some(done),
                    b"Parameter" | b"QueryStringParam" => page.params.push(done),
                    b"InputToken" => page.token = Some(done),
                    b"Text" | b"p" => page.text.push_str(done.trim()),
                    _ => {}
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    page
}

/// A browser request: GET with the phone's User-Agent and the parameters it always adds.
pub(crate) async fn browse(server: &TestServer, desk: Desk, path: &str, query: &str) -> Reply {
    let query = [query, desk.always]
        .iter()
        .filter(|q| !q.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join("&");
    let target = match (query.is_empty(), path.contains('?')) {
        (true, _) => path.to_string(),
        (false, true) => format!("{path}&{query}"),
        (false, false) => format!("{path}?{query}"),
    };
    server.phone_get(&target, desk.user_agent).await
}

/// Opens `path`, and fills in every form it leads to from `values` until a message comes.
async fn fill_in(server: &TestServer, desk: Desk, path: &str, values: &[(&str, &str)]) -> String {
    let values: BTreeMap<&str, &str> = values.iter().copied().collect();
    let mut reply = browse(server, desk, path, "").await;
    for _ in 0..8 {
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
        let body = reply.text();
        let shown = page(&body);
        let Some(url) = shown.form_url else {
            return shown.text;
        };
        if let Some(token) = &shown.token {
            reply = browse(server, desk, &submitted(&url, token, &values), "").await;
            continue;
        }
        assert!(!shown.params.is_empty(), "a form without fields: {body}");
        // A one-field browser carries earlier answers in the parameter name ("ext=1001&pin").
        let query: Vec<String> = shown
            .params
            .iter()
            .map(|param| {
                let name = param.rsplit('&').next().unwrap();
                format!(
                    "{param}={}",
                    values
                        .get(name)
                        .unwrap_or_else(|| panic!("no value for {name}"))
                )
            })
            .collect();
        reply = browse(server, desk, &path_of(&url), &query.join("&")).await;
    }
    panic!("no result after eight screens");
}

/// What a Snom phone fetches when the form is done: its URL with the typed value in place of
/// the token (SD `docs/xml_minibrowser/main_tags/SnomIPPhoneInput.md`), as a path.
fn submitted(url: &str, token: &str, values: &BTreeMap<&str, &str>) -> String {
    let (path, query) = url
        .split_once('?')
        .expect("the form's URL carries its query");
    let asked = query
        .split('&')
        .find_map(|pair| pair.strip_suffix(&format!("={token}")))
        .unwrap_or_else(|| panic!("no field takes the token in {url}"));
    assert_eq!(url.matches(token).count(), 1, "{url}");
    let value = values
        .get(asked)
        .unwrap_or_else(|| panic!("no value for {asked}"));
    path_of(&format!("{path}?{}", query.replace(token, value)))
}

pub(crate) async fn login(server: &TestServer, desk: Desk, ext: &str, pin: &str) -> String {
    let key = hotdesk_key(desk, &config(server, desk).await);
    let key = if desk.model == "M900" {
        menu_link(server, desk, &key, "login").await
    } else {
        key
    };
    fill_in(server, desk, &key, &[("ext", ext), ("pin", pin)]).await
}

/// On DECT handsets the key opens a menu; follow the entry for `action`.
async fn menu_link(server: &TestServer, desk: Desk, menu: &str, action: &str) -> String {
    let shown = page(&browse(server, desk, menu, "").await.text());
    let link = shown
        .links
        .iter()
        .find(|l| l.ends_with(action))
        .unwrap_or_else(|| panic!("no {action} in {shown:?}"));
    path_of(link)
}

async fn logout(server: &TestServer, desk: Desk) -> String {
    let key = hotdesk_key(desk, &config(server, desk).await);
    let key = if desk.model == "M900" {
        menu_link(server, desk, &key, "logout").await
    } else {
        key
    };
    assert!(key.ends_with("/logout"), "{key}");
    page(&browse(server, desk, &key, "").await.text()).text
}

#[tokio::test]
async fn every_browser_logs_in_and_out() {
    let server = site(|_| {}).await;
    let api = server.admin_api();
    api.patch_settings(json!({"lobby_extension": "900"}))
        .ok()
        .await;
    for desk in [YEALINK, POLY, CISCO, SNOM, SNOM_M900_HANDSET_3] {
        let name = desk.model;
        add_desk(&server, desk).await;
        let logged_out = config(&server, desk).await;
        assert!(!logged_out.contains(ALICE_SECRET), "{name}: {logged_out}");
        let lobby = desk.model != "M900";
        assert_eq!(
            logged_out.contains(LOBBY_SECRET),
            lobby,
            "{name}: lobby account on a logged-out desk phone"
        );
        let first_key = hotdesk_key(desk, &logged_out);

        let welcome = login(&server, desk, "1001", ALICE_PIN).await;
        assert!(
            welcome.contains("Welcome, Alice Example"),
            "{name}: {welcome}"
        );

        let logged_in = config(&server, desk).await;
        assert!(logged_in.contains(ALICE_SECRET), "{name}: {logged_in}");
        assert!(!logged_in.contains(LOBBY_SECRET), "{name}");
        let device = api.show_device(desk.mac).ok().await;
        let slot = if desk.model == "M900" { 3 } else { 1 };
        assert_eq!(
            device["logged_in"],
            json!([{"line": slot, "user": "1001", "since": device["logged_in"][0]["since"]}]),
            "{name}"
        );
        let user = api.show_user("1001").ok().await;
        assert_eq!(user["logged_in_at"]["mac"], json!(desk.mac), "{name}");
        assert_eq!(user["logged_in_at"]["line"], json!(slot), "{name}");

        // The login rotated the token: the old key is dead.
        let replay = browse(&server, desk, &first_key, "").await;
        assert!(
            page(&replay.text()).text.contains("out of date"),
            "{name}: {}",
            replay.text()
        );
        let replayed_login = browse(&server, desk, &first_key, "ext=1002&pin=580392").await;
        assert!(
            page(&replayed_login.text()).text.contains("out of date"),
            "{name}"
        );
        let replayed_logout =
            browse(&server, desk, &first_key.replace("/login", "/logout"), "").await;
        assert!(
            page(&replayed_logout.text()).text.contains("out of date"),
            "{name}"
        );
        assert!(
            config(&server, desk).await.contains(ALICE_SECRET),
            "{name}: replays changed nothing"
        );

        let bye = logout(&server, desk).await;
        assert!(bye.contains("Logged out"), "{name}: {bye}");
        let after = config(&server, desk).await;
        assert!(!after.contains(ALICE_SECRET), "{name}: {after}");
        assert_eq!(after.contains(LOBBY_SECRET), lobby, "{name}");
        assert_eq!(
            api.show_user("1001").ok().await["logged_in_at"],
            Value::Null
        );
    }
}

#[tokio::test]
async fn the_m900_binds_the_handset_that_logs_in() {
    let server = site(|_| {}).await;
    add_desk(&server, SNOM_M900_HANDSET_3).await;
    let api = server.admin_api();
    api.assign(SNOM_M900_HANDSET_3.mac, 1, "900").ok().await;
    login(&server, SNOM_M900_HANDSET_3, "1002", BOB_PIN).await;
    let flat = xmlflat::flatten(&config(&server, SNOM_M900_HANDSET_3).await).unwrap();
    assert_eq!(flat["settings/phone-settings/user_pass[idx=3]"], BOB_SECRET);
    assert_eq!(
        flat["settings/phone-settings/user_pass[idx=1]"], LOBBY_SECRET,
        "the fixed handset keeps its user"
    );
    assert_eq!(flat["settings/phone-settings/user_active[idx=2]"], "off");

    // Handset 1 has a fixed user: it cannot log in.
    let handset_1 = Desk {
        always: "IDX=1",
        ..SNOM_M900_HANDSET_3
    };
    let key = hotdesk_key(handset_1, &config(&server, handset_1).await);
    let shown = page(&browse(&server, handset_1, &key, "").await.text());
    assert!(shown.text.contains("fixed user"), "{shown:?}");
}

#[tokio::test]
async fn wrong_pins_count_down_lock_and_the_admin_unlocks() {
    let server = site(|_| {}).await;
    add_desk(&server, YEALINK).await;
    let key = hotdesk_key(YEALINK, &config(&server, YEALINK).await);
    let try_pin = |ext: &'static str, pin: &'static str| {
        let key = key.clone();
        let server = &server;
        async move {
            page(
                &browse(server, YEALINK, &key, &format!("ext={ext}&pin={pin}"))
                    .await
                    .text(),
            )
            .text
        }
    };
    for left in [4, 3, 2] {
        assert_eq!(
            try_pin("1001", "111222").await,
            format!("Wrong PIN, {left} tries left.")
        );
        // An extension that does not exist answers the same.
        assert_eq!(
            try_pin("4711", "111222").await,
            format!("Wrong PIN, {left} tries left.")
        );
    }
    assert_eq!(try_pin("1001", "111222").await, "Wrong PIN, 1 try left.");
    assert_eq!(
        try_pin("1001", "111222").await,
        "Wrong PIN. Locked for 15 minutes."
    );
    // While locked, even the right PIN is refused, and the lockout does not grow.
    assert_eq!(try_pin("1001", ALICE_PIN).await, "Locked for 15 minutes.");
    let api = server.admin_api();
    let user = api.show_user("1001").ok().await;
    assert_eq!(user["login_failures"]["lockouts"], 1);
    assert!(user["login_failures"]["locked_until"].is_string());

    api.unlock_user("1001").ok().await;
    let welcome = try_pin("1001", ALICE_PIN).await;
    assert!(welcome.starts_with("Welcome"), "{welcome}");
    api.logout_device(YEALINK.mac).ok().await;

    // The lockout also ends by itself after 15 minutes.
    let key = hotdesk_key(YEALINK, &config(&server, YEALINK).await);
    for _ in 0..5 {
        browse(&server, YEALINK, &key, "ext=1002&pin=111222").await;
    }
    server.clock.advance(15 * 60);
    let text = page(
        &browse(&server, YEALINK, &key, &format!("ext=1002&pin={BOB_PIN}"))
            .await
            .text(),
    )
    .text;
    assert!(text.starts_with("Welcome, Bob"), "{text}");
}

#[tokio::test]
async fn a_pin_spray_from_one_phone_is_throttled_and_counters_survive_a_restart() {
    let mut server = site(|c| c.hotdesk.device_max_failures = 6).await;
    add_desk(&server, CISCO).await;
    let key = hotdesk_key(CISCO, &config(&server, CISCO).await);
    for ext in 2000..2005 {
        let text = page(
            &browse(&server, CISCO, &key, &format!("ext={ext}&pin=123456"))
                .await
                .text(),
        )
        .text;
        assert!(text.starts_with("Wrong PIN"), "{text}");
    }
    let text = page(
        &browse(&server, CISCO, &key, "ext=2005&pin=123456")
            .await
            .text(),
    )
    .text;
    assert_eq!(
        text,
        "Too many failed logins at this phone. Try again in 15 minutes."
    );
    let text = page(
        &browse(&server, CISCO, &key, &format!("ext=1001&pin={ALICE_PIN}"))
            .await
            .text(),
    )
    .text;
    assert!(
        text.starts_with("Too many failed logins"),
        "the right PIN waits too: {text}"
    );

    // Restarted on the same data, the phone is still throttled.
    let dir = server.dir.path().to_path_buf();
    server.stop().await;
    let restarted = deskprov::startup::start(
        {
            let mut c = test_config(&dir);
            c.hotdesk.device_max_failures = 6;
            c
        },
        server.clock.clone(),
    )
    .await
    .unwrap();
    let phone = deskprov::client::Client::new(
        restarted.phone_addr,
        "localhost",
        std::slice::from_ref(&server.ca),
    )
    .unwrap();
    let reply = phone
        .get(
            &format!("{key}?ext=1001&pin={ALICE_PIN}"),
            &[("user-agent", CISCO.user_agent)],
        )
        .await
        .unwrap();
    assert!(
        page(&reply.text())
            .text
            .starts_with("Too many failed logins"),
        "{}",
        reply.text()
    );
    restarted.stop().await;
}

#[tokio::test]
async fn pins_follow_the_policy_and_are_never_shown() {
    let server = site(|_| {}).await;
    let api = server.admin_api();
    for (pin, reason) in [
        ("1234", "at least 6"),
        ("123456", "run"),
        ("121212", "different"),
        ("987654", "run"),
        ("147258", "keypad"),
        ("310031", "extension"),
        ("12a456", "digits"),
    ] {
        let reply = api
            .create_user(json!({"extension": "3100", "display_name": "Carol", "pin": pin}))
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{pin}");
        assert!(
            reply.json()["error"].as_str().unwrap().contains(reason),
            "{pin}: {}",
            reply.text()
        );
    }
    assert_eq!(
        api.show_user("3100").await.status,
        StatusCode::NOT_FOUND,
        "nothing stored"
    );

    let created = api
        .create_user(NewUser::new("3100", "Carol").generate_pin())
        .ok()
        .await;
    let generated = created["pin"].as_str().unwrap().to_string();
    assert_eq!(generated.len(), 6);
    for call in [api.show_user("3100"), api.list_users()] {
        let shown = call.to_string();
        let text = call.await.text();
        assert!(
            !text.contains(&generated) && !text.contains("argon2"),
            "{shown}: {text}"
        );
        assert!(!text.contains("\"pin\""), "{shown}");
    }
    assert_eq!(api.show_user("3100").ok().await["has_pin"], true);

    add_desk(&server, YEALINK).await;
    let welcome = login(&server, YEALINK, "3100", &generated).await;
    assert!(welcome.starts_with("Welcome, Carol"), "{welcome}");

    // A PATCH with a refused PIN changes nothing.
    let reply = api
        .patch_user("3100", json!({"pin": "000000", "display_name": "Caroline"}))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(api.show_user("3100").ok().await["display_name"], "Carol");
}

#[tokio::test]
async fn a_forced_change_comes_first_and_users_change_their_pin_at_the_phone() {
    let server = site(|_| {}).await;
    let api = server.admin_api();
    api.patch_user("1001", json!({"pin_change_required": true}))
        .ok()
        .await;
    for desk in [SNOM, POLY] {
        add_desk(&server, desk).await;
    }
    // Snom asks one field per screen: extension, PIN, then old, new and new again.
    let key = hotdesk_key(SNOM, &config(&server, SNOM).await);
    let values = [
        ("ext", "1001"),
        ("pin", ALICE_PIN),
        ("old", ALICE_PIN),
        ("new", "902741"),
        ("again", "902741"),
    ];
    let text = fill_in(&server, SNOM, &key, &values).await;
    assert!(text.starts_with("Welcome, Alice"), "{text}");
    assert_eq!(
        api.show_user("1001").ok().await["pin_change_required"],
        false
    );
    assert!(config(&server, SNOM).await.contains(ALICE_SECRET));

    // Logged in, she changes it again; a mismatch and a trivial PIN change nothing.
    let pin_key = {
        let flat = xmlflat::flatten(&config(&server, SNOM).await).unwrap();
        path_of(
            flat["settings/functionKeys/fkey[idx=13]"]
                .strip_prefix("url ")
                .unwrap(),
        )
    };
    let differ = fill_in(
        &server,
        SNOM,
        &pin_key,
        &[("old", "902741"), ("new", "613852"), ("again", "613853")],
    )
    .await;
    assert_eq!(differ, "The new PINs differ. Nothing was changed.");
    let trivial = fill_in(
        &server,
        SNOM,
        &pin_key,
        &[("old", "902741"), ("new", "111111"), ("again", "111111")],
    )
    .await;
    assert!(trivial.starts_with("New PIN refused"), "{trivial}");
    let changed = fill_in(
        &server,
        SNOM,
        &pin_key,
        &[("old", "902741"), ("new", "613852"), ("again", "613852")],
    )
    .await;
    assert_eq!(changed, "PIN changed.");

    // The new PIN works at another phone (and moves her there); the old one does not.
    let wrong = login(&server, POLY, "1001", "902741").await;
    assert!(wrong.starts_with("Wrong PIN"), "{wrong}");
    let welcome = login(&server, POLY, "1001", "613852").await;
    assert!(welcome.starts_with("Welcome"), "{welcome}");
}

/// A login whose time is up takes its user's keys off the phone at the next fetch, as it takes
/// their line, before the sweeper (here not due for an hour) has logged it out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_login_brings_no_keys_before_the_sweeper_runs() {
    let server = site(|c| c.hotdesk.sweep_interval_secs = 3600).await;
    add_desk(&server, YEALINK).await;
    let api = server.admin_api();
    api.patch_settings(json!({"hotdesk_max_login_minutes": 60}))
        .ok()
        .await;
    give_alice_a_blf_on_bob(&api).await;
    let key_3 = |text: String| {
        let config = kv::parse(&text).unwrap();
        config.get("linekey.3.type").cloned().unwrap_or_default()
    };
    login(&server, YEALINK, "1001", ALICE_PIN).await;
    assert_eq!(key_3(config(&server, YEALINK).await), "16", "Alice's BLF");
    server.clock.advance(61 * 60);
    let after = config(&server, YEALINK).await;
    assert!(!after.contains(ALICE_SECRET), "her line is gone");
    assert_eq!(key_3(after), "", "and her BLF with it");
    let user = api.show_user("1001").ok().await;
    assert!(user["logged_in_at"].is_null(), "{user}");
}

/// Alice's own keys: a BLF on Bob at key 3.
async fn give_alice_a_blf_on_bob(api: &crate::api::AdminApi<'_>) {
    api.set_keys(
        "users",
        Some("1001"),
        json!([{"position": 3, "type": "blf", "value": "1002"}]),
    )
    .ok()
    .await;
}

#[tokio::test]
async fn logins_end_after_the_maximum_time_and_at_the_daily_logout() {
    let server = site(|c| c.hotdesk.sweep_interval_secs = 1).await;
    let api = server.admin_api();
    api.patch_settings(json!({"hotdesk_max_login_minutes": 60}))
        .ok()
        .await;
    add_desk(&server, YEALINK).await;
    login(&server, YEALINK, "1001", ALICE_PIN).await;
    assert!(config(&server, YEALINK).await.contains(ALICE_SECRET));
    server.clock.advance(61 * 60);
    // The next fetch already has no trace of her, whether or not the sweeper has run.
    assert!(!config(&server, YEALINK).await.contains(ALICE_SECRET));
    wait_until_logged_out(&server, "1001").await;

    // Daily logout at 18:00 site time (UTC+1), long before the maximum time.
    api.patch_settings(json!({"hotdesk_max_login_minutes": null, "hotdesk_logout_time": "18:00", "utc_offset": "+01:00"}))
        .ok()
        .await;
    let now = server.clock.now();
    let midnight = now - now.rem_euclid(86_400);
    server.clock.advance(midnight + 86_400 + 8 * 3600 - now); // 08:00 UTC the next day
    login(&server, YEALINK, "1002", BOB_PIN).await;
    server.clock.advance(8 * 3600 + 59 * 60); // 16:59 UTC = 17:59 site time
    assert!(config(&server, YEALINK).await.contains(BOB_SECRET));
    server.clock.advance(60);
    assert!(!config(&server, YEALINK).await.contains(BOB_SECRET));
    wait_until_logged_out(&server, "1002").await;
}

/// Until the sweeper ended the login: the user shows no login (which an expired one already
/// does) and the trail has the sweeper's logout, after which the phone's login URL is new.
async fn wait_until_logged_out(server: &TestServer, ext: &str) {
    let api = server.admin_api();
    for _ in 0..100 {
        let user = api.show_user(ext).ok().await;
        let logouts = api
            .list_audit(crate::api::AuditFilter::kind("hotdesk_logout"))
            .ok()
            .await;
        let swept = logouts.as_array().unwrap().iter().any(|r| {
            r["actor"] == "hot-desk expiry"
                && r["detail"]
                    .as_str()
                    .is_some_and(|d| d.starts_with(&format!("{ext}: ")))
        });
        if user["logged_in_at"].is_null() && swept {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{ext} was not logged out by the sweeper");
}

#[tokio::test]
async fn logging_in_elsewhere_moves_or_is_refused() {
    let server = site(|_| {}).await;
    for desk in [YEALINK, CISCO] {
        add_desk(&server, desk).await;
    }
    login(&server, YEALINK, "1001", ALICE_PIN).await;
    login(&server, CISCO, "1001", ALICE_PIN).await;
    assert!(
        !config(&server, YEALINK).await.contains(ALICE_SECRET),
        "the first phone lost her"
    );
    assert!(config(&server, CISCO).await.contains(ALICE_SECRET));

    let strict =
        site(|c| c.hotdesk.multiple_logins = deskprov::config::MultipleLogins::Refuse).await;
    for desk in [YEALINK, CISCO] {
        add_desk(&strict, desk).await;
    }
    login(&strict, YEALINK, "1001", ALICE_PIN).await;
    let refused = login(&strict, CISCO, "1001", ALICE_PIN).await;
    assert_eq!(
        refused,
        "You are logged in at another phone. Log out there first."
    );
    assert!(config(&strict, YEALINK).await.contains(ALICE_SECRET));
    assert!(!config(&strict, CISCO).await.contains(ALICE_SECRET));
}

#[tokio::test]
async fn admins_log_out_lock_and_delete() {
    let server = site(|_| {}).await;
    let api = server.admin_api();
    add_desk(&server, YEALINK).await;
    assert_eq!(
        api.logout_device(YEALINK.mac).await.status,
        StatusCode::CONFLICT,
        "nobody to log out"
    );
    login(&server, YEALINK, "1001", ALICE_PIN).await;
    let device = api.logout_device(YEALINK.mac).ok().await;
    assert_eq!(device["logged_in"], json!([]));
    assert!(!config(&server, YEALINK).await.contains(ALICE_SECRET));

    login(&server, YEALINK, "1001", ALICE_PIN).await;
    api.logout_user("1001").ok().await;
    assert!(!config(&server, YEALINK).await.contains(ALICE_SECRET));

    // A locked user is logged out and cannot log in.
    login(&server, YEALINK, "1001", ALICE_PIN).await;
    let locked = api.lock_user("1001").ok().await;
    assert_eq!(locked["locked"], true);
    assert!(!config(&server, YEALINK).await.contains(ALICE_SECRET));
    let refused = login(&server, YEALINK, "1001", ALICE_PIN).await;
    assert!(refused.contains("may not log in"), "{refused}");
    // Unlocked, the same PIN works again.
    api.unlock_user("1001").ok().await;
    login(&server, YEALINK, "1001", ALICE_PIN).await;
    assert!(config(&server, YEALINK).await.contains(ALICE_SECRET));
    api.patch_user("1001", json!({"locked": true})).ok().await;
    assert!(!config(&server, YEALINK).await.contains(ALICE_SECRET));

    // A deleted user leaves no session behind.
    login(&server, YEALINK, "1002", BOB_PIN).await;
    api.delete_user("1002").ok().await;
    let device = api.show_device(YEALINK.mac).ok().await;
    assert_eq!(device["logged_in"], json!([]));
    assert!(!config(&server, YEALINK).await.contains(BOB_SECRET));

    // Line 1 of a hot-desk desk phone is for logins; phones without a login browser are refused.
    let reply = api.assign(YEALINK.mac, 1, "900").await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    let reply = api
        .create_device(json!({"mac": "000b82aabb08", "model": "DP750", "hotdesk": true}))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text());
    assert!(reply.text().contains("no XML browser"));
}

#[tokio::test]
async fn a_hundred_simultaneous_logins_of_one_user_leave_one_binding() {
    let server = std::sync::Arc::new(site(|c| c.hotdesk.max_concurrent_hashes = 2).await);
    let mut keys = Vec::new();
    for i in 0..100u8 {
        let mac: &'static str = Box::leak(format!("001565ab{:04x}", i).into_boxed_str());
        let ua: &'static str =
            Box::leak(format!("Yealink SIP-T54W 96.86.0.100 {mac}").into_boxed_str());
        let cfg: &'static str = Box::leak(format!("/{mac}.cfg").into_boxed_str());
        let desk = Desk {
            user_agent: ua,
            mac,
            config: cfg,
            ..YEALINK
        };
        add_desk(&server, desk).await;
        keys.push((desk, hotdesk_key(desk, &config(&server, desk).await)));
    }
    let logins = keys.into_iter().map(|(desk, key)| {
        let server = server.clone();
        tokio::spawn(async move {
            browse(&server, desk, &key, &format!("ext=1001&pin={ALICE_PIN}"))
                .await
                .text()
        })
    });
    let mut welcomed = 0;
    for login in logins {
        if page(&login.await.unwrap()).text.starts_with("Welcome") {
            welcomed += 1;
        }
    }
    assert!(welcomed >= 1);
    let api = server.admin_api();
    let devices = api.list_devices().ok().await;
    let bound: Vec<&Value> = devices
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| !d["logged_in"].as_array().unwrap().is_empty())
        .collect();
    assert_eq!(bound.len(), 1, "exactly one phone has her");
    let user = api.show_user("1001").ok().await;
    assert_eq!(user["logged_in_at"]["mac"], bound[0]["mac"]);
}

#[tokio::test]
async fn a_login_racing_a_logout_leaves_a_consistent_state() {
    let server = std::sync::Arc::new(site(|_| {}).await);
    add_desk(&server, CISCO).await;
    for round in 0..10 {
        let key = hotdesk_key(CISCO, &config(&server, CISCO).await);
        let login = {
            let server = server.clone();
            tokio::spawn(async move {
                browse(&server, CISCO, &key, &format!("ext=1001&pin={ALICE_PIN}")).await
            })
        };
        let logout = {
            let server = server.clone();
            tokio::spawn(async move { server.admin_api().logout_device(CISCO.mac).await })
        };
        let _ = (login.await.unwrap(), logout.await.unwrap());
        let api = server.admin_api();
        let device = api.show_device(CISCO.mac).ok().await;
        let user = api.show_user("1001").ok().await;
        let on_device = !device["logged_in"].as_array().unwrap().is_empty();
        assert_eq!(
            on_device,
            !user["logged_in_at"].is_null(),
            "round {round}: {device} {user}"
        );
        assert_eq!(
            on_device,
            config(&server, CISCO).await.contains(ALICE_SECRET),
            "round {round}"
        );
        if on_device {
            api.logout_device(CISCO.mac).ok().await;
        }
    }
}

#[tokio::test]
async fn the_phone_is_told_to_reload_by_sip_notify() {
    let sip = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let port = sip.local_addr().unwrap().port();
    let server = site(|c| {
        c.hotdesk.sip_notify = true;
        c.hotdesk.sip_notify_port = port;
    })
    .await;
    add_desk(&server, YEALINK).await;
    let common = server
        .phone_get("/y000000000096.cfg", YEALINK.user_agent)
        .await
        .text();
    assert_eq!(
        kv::parse(&common).unwrap()["sip.trust_ctrl"],
        "0",
        "phones accept deskprov's NOTIFY"
    );
    login(&server, YEALINK, "1001", ALICE_PIN).await;
    let mut buffer = vec![0u8; 2048];
    let (n, _) = tokio::time::timeout(Duration::from_secs(5), sip.recv_from(&mut buffer))
        .await
        .expect("a NOTIFY arrives")
        .unwrap();
    let message = String::from_utf8_lossy(&buffer[..n]).into_owned();
    assert!(message.starts_with("NOTIFY sip:127.0.0.1:"), "{message}");
    assert!(
        message.contains("\r\nEvent: check-sync;reboot=false\r\n"),
        "{message}"
    );
    assert!(
        message.contains("\r\nCSeq: 1 NOTIFY\r\n")
            && message.ends_with("Content-Length: 0\r\n\r\n")
    );
}

#[tokio::test]
async fn concurrent_guesses_are_counted_before_they_are_checked() {
    let server = std::sync::Arc::new(site(|c| c.hotdesk.device_max_failures = 100).await);
    add_desk(&server, POLY).await;
    let key = hotdesk_key(POLY, &config(&server, POLY).await);
    // 30 guesses at once, the right PIN among them: only the first 5 are ever checked.
    let guesses = (0..30).map(|i| {
        let (server, key) = (server.clone(), key.clone());
        let pin = if i == 29 {
            ALICE_PIN.to_string()
        } else {
            format!("90{:04}", 1000 + i)
        };
        tokio::spawn(async move {
            page(
                &browse(&server, POLY, &key, &format!("ext=1001&pin={pin}"))
                    .await
                    .text(),
            )
            .text
        })
    });
    let mut checked = 0;
    for guess in guesses {
        let text = guess.await.unwrap();
        if text.starts_with("Wrong PIN") || text.starts_with("Welcome") {
            checked += 1;
        } else {
            assert_eq!(text, "Locked for 15 minutes.");
        }
    }
    assert!(checked <= 5, "{checked} guesses were checked");
    let user = server.admin_api().show_user("1001").ok().await;
    assert!(user["login_failures"]["locked_until"].is_string() || !user["logged_in_at"].is_null());
}

/// The `n`th of a row of Yealink hot-desk phones (001565aac0nn), for tests that need many.
pub(crate) fn yealink_desk(n: u8) -> Desk {
    let leak = |s: String| &*Box::leak(s.into_boxed_str());
    Desk {
        user_agent: leak(format!(
            "Yealink SIP-T54W 96.86.0.100 00:15:65:aa:c0:{n:02x}"
        )),
        mac: leak(format!("001565aac0{n:02x}")),
        model: "T54W",
        config: leak(format!("/001565aac0{n:02x}.cfg")),
        always: "",
    }
}

/// The answer to `ext` and `pin` typed at the phone whose Login key is `key`.
pub(crate) async fn try_login(
    server: &TestServer,
    desk: Desk,
    key: &str,
    ext: &str,
    pin: &str,
) -> String {
    page(
        &browse(server, desk, key, &format!("ext={ext}&pin={pin}"))
            .await
            .text(),
    )
    .text
}

/// The red team's attack (finding #20): at each phone, ten wrong PINs for extensions that do
/// not exist, until the phone is throttled.
async fn wrong_pins_at_phones(server: &TestServer, phones: std::ops::Range<u8>) {
    for n in phones {
        let desk = yealink_desk(n);
        add_desk(server, desk).await;
        let key = hotdesk_key(desk, &config(server, desk).await);
        for i in 0..10 {
            let text = try_login(server, desk, &key, &format!("5{n:02}{i}"), "864209").await;
            if i < 9 {
                assert!(text.starts_with("Wrong PIN"), "phone {n}, try {i}: {text}");
            }
        }
    }
}

#[tokio::test]
async fn ten_phones_of_wrong_pins_do_not_pause_logins_at_other_phones() {
    let _serial = FLOODS.lock().await;
    let server = site(|_| {}).await;
    wrong_pins_at_phones(&server, 1..11).await;
    // Each attacking phone is throttled by itself...
    let attacked = yealink_desk(1);
    let key = hotdesk_key(attacked, &config(&server, attacked).await);
    let text = try_login(&server, attacked, &key, "1002", BOB_PIN).await;
    assert!(text.starts_with("Too many failed logins"), "{text}");
    // ...and a phone nobody touched still logs in with the right PIN.
    let untouched = yealink_desk(99);
    add_desk(&server, untouched).await;
    let welcome = login(&server, untouched, "1001", ALICE_PIN).await;
    assert!(welcome.starts_with("Welcome, Alice"), "{welcome}");
}

#[tokio::test]
async fn a_phone_with_a_login_today_still_logs_in_while_logins_are_paused() {
    let _serial = FLOODS.lock().await;
    let server = site(|_| {}).await;
    let (yesterdays, regular) = (yealink_desk(97), yealink_desk(98));
    for (desk, wait) in [(yesterdays, 24 * 3600), (regular, 3600)] {
        add_desk(&server, desk).await;
        let welcome = login(&server, desk, "1001", ALICE_PIN).await;
        assert!(welcome.starts_with("Welcome, Alice"), "{welcome}");
        logout(&server, desk).await;
        server.clock.advance(wait);
    }

    // Twenty phones throttled at once: a spray the per-phone limits cannot contain.
    wrong_pins_at_phones(&server, 1..21).await;
    let untouched = yealink_desk(99);
    add_desk(&server, untouched).await;
    let paused = login(&server, untouched, "1002", BOB_PIN).await;
    assert!(paused.starts_with("Login is paused"), "{paused}");
    let paused = login(&server, yesterdays, "1002", BOB_PIN).await;
    assert!(
        paused.starts_with("Login is paused"),
        "a login 25 hours ago does not spare the phone: {paused}"
    );

    let welcome = login(&server, regular, "1002", BOB_PIN).await;
    assert!(
        welcome.starts_with("Welcome, Bob"),
        "the phone Alice used an hour ago: {welcome}"
    );
    let audit = server
        .admin_api()
        .list_audit(crate::api::AuditFilter::kind("login_lockout"))
        .ok()
        .await;
    assert!(
        audit.to_string().contains("hot-desk logins paused"),
        "{audit}"
    );
}

#[tokio::test]
async fn wrong_pins_lock_an_extension_at_that_phone_and_a_spray_across_phones_everywhere() {
    let server = site(|_| {}).await;
    let desks: Vec<Desk> = (1..=5).map(yealink_desk).collect();
    let mut keys = Vec::new();
    for desk in &desks {
        add_desk(&server, *desk).await;
        keys.push(hotdesk_key(*desk, &config(&server, *desk).await));
    }
    // A guesser at one phone locks Alice out at that phone only.
    for _ in 0..4 {
        try_login(&server, desks[0], &keys[0], "1001", "111222").await;
    }
    let text = try_login(&server, desks[0], &keys[0], "1001", "111222").await;
    assert_eq!(text, "Wrong PIN. Locked for 15 minutes.");
    let text = try_login(&server, desks[0], &keys[0], "1001", ALICE_PIN).await;
    assert_eq!(text, "Locked for 15 minutes.");
    let welcome = try_login(&server, desks[1], &keys[1], "1001", ALICE_PIN).await;
    assert!(
        welcome.starts_with("Welcome, Alice"),
        "Alice at another phone: {welcome}"
    );

    // Guessing Bob's PIN at three phones locks Bob out everywhere.
    for (desk, key) in desks.iter().zip(&keys).skip(2).take(3) {
        for _ in 0..5 {
            try_login(&server, *desk, key, "1002", "111222").await;
        }
    }
    let text = try_login(&server, desks[0], &keys[0], "1002", BOB_PIN).await;
    assert_eq!(text, "Locked for 15 minutes.", "Bob at a fourth phone");
    let user = server.admin_api().show_user("1002").ok().await;
    assert!(user["login_failures"]["locked_until"].is_string(), "{user}");
}

/// A user's own keys arrive with their login at any hot-desk phone and leave with their logout;
/// the phone's login key stays throughout (here at key 2, after the login line).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_users_own_keys_follow_them_to_a_hot_desk_phone_and_leave_with_them() {
    let server = site(|_| {}).await;
    add_desk(&server, YEALINK).await;
    let api = server.admin_api();
    api.set_keys("settings", None, json!([{"position": 4, "type": "dnd"}]))
        .ok()
        .await;
    give_alice_a_blf_on_bob(&api).await;
    let keys = |text: String| {
        let config = kv::parse(&text).unwrap();
        (2..=4)
            .map(|n| {
                let get = |field: &str| config.get(&format!("linekey.{n}.{field}")).cloned();
                format!(
                    "{n}:{}:{}",
                    get("type").unwrap_or_default(),
                    get("label").unwrap_or_default()
                )
            })
            .collect::<Vec<_>>()
    };
    let before = config(&server, YEALINK).await;
    let soft_keys = kv::parse(&before).unwrap();
    assert!(
        !soft_keys.contains_key("programablekey.1.type"),
        "the login key is the key list's own, not a second one on soft key 1"
    );
    assert_eq!(soft_keys["programablekey.2.label"], "PIN");
    assert_eq!(
        keys(before),
        ["2:27:Login", "3::", "4:5:%NULL%"],
        "before the login"
    );
    assert!(
        login(&server, YEALINK, "1001", ALICE_PIN)
            .await
            .contains("Alice")
    );
    assert_eq!(
        keys(config(&server, YEALINK).await),
        ["2:27:Logout", "3:16:Bob Example", "4:5:%NULL%"],
        "Alice's BLF on Bob arrived with her"
    );
    logout(&server, YEALINK).await;
    assert_eq!(
        keys(config(&server, YEALINK).await),
        ["2:27:Login", "3::", "4:5:%NULL%"],
        "and left with her"
    );
}
