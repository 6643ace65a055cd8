//! The company phonebook: users (unless hidden or locked) and contacts, served in the vendor's
//! remote-directory format to the device alone, with ETag and 304, parsed back with quick-xml.

use http::StatusCode;
use quick_xml::Reader;
use quick_xml::events::Event;
use serde_json::{Value, json};

use crate::api::{NewDevice, NewUser};
use crate::helpers::*;

const DESK: &str = "001565000b01";
const OTHER_DESK: &str = "001565000b02";

/// Names that break XML, or are not Latin.
const USERS: &[(&str, &str)] = &[
    ("1001", "Zoë O'Neil & <Co> \"Sales\""),
    ("1002", "山田 太郎"),
    ("1003", "Ελένη Παπαδοπούλου"),
    ("1004", "Hidden Person"),
    ("1005", "Locked Person"),
];

async fn office() -> TestServer {
    let server = TestServer::start().await;
    let api = server.admin_api();
    for (extension, name) in USERS {
        api.create_user(NewUser::new(extension, name)).ok().await;
    }
    api.patch_user("1004", json!({"phonebook_hidden": true}))
        .ok()
        .await;
    api.lock_user("1005").ok().await;
    for mac in [DESK, OTHER_DESK] {
        api.create_device(NewDevice::new(mac).model("T46S"))
            .ok()
            .await;
    }
    server
}

/// `(name, numbers)` of each `DirectoryEntry`, read with quick-xml as a phone would.
fn yealink_entries(xml: &str) -> Vec<(String, Vec<String>)> {
    let mut reader = Reader::from_str(xml);
    let mut entries = Vec::new();
    let mut current: Option<(String, Vec<String>)> = None;
    let mut field = String::new();
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) => {
                field = String::from_utf8(e.name().as_ref().to_vec()).unwrap();
                if field == "DirectoryEntry" {
                    current = Some((String::new(), Vec::new()));
                }
                if let (Some((_, numbers)), "Telephone") = (current.as_mut(), field.as_str()) {
                    numbers.push(String::new());
                }
            }
            Event::Text(text) => {
                let text = text.decode().unwrap().into_owned();
                append(&mut current, &field, &text);
            }
            // quick-xml hands `&amp;` and the like over as references of their own.
            Event::GeneralRef(reference) => {
                let text = match reference.resolve_char_ref().unwrap() {
                    Some(c) => c.to_string(),
                    None => {
                        let name = reference.decode().unwrap();
                        quick_xml::escape::resolve_xml_entity(&name)
                            .unwrap_or_else(|| panic!("unknown entity {name}"))
                            .to_string()
                    }
                };
                append(&mut current, &field, &text);
            }
            Event::End(e) if e.name().as_ref() == b"DirectoryEntry" => {
                entries.push(current.take().unwrap());
            }
            Event::End(_) => field.clear(),
            Event::Eof => break,
            _ => {}
        }
    }
    entries
}

/// Adds text to the entry's name, or to its last number (a number starts with its element).
fn append(current: &mut Option<(String, Vec<String>)>, field: &str, text: &str) {
    let Some((name, numbers)) = current.as_mut() else {
        return;
    };
    match field {
        "Name" => name.push_str(text),
        "Telephone" => numbers.last_mut().expect("a number started").push_str(text),
        _ => {}
    }
}

async fn fetch(
    server: &TestServer,
    path: &str,
    authorization: Option<&str>,
) -> deskprov::client::Reply {
    let mut headers = vec![(
        "user-agent",
        "Yealink SIP-T46S 66.86.0.15 00:15:65:00:0b:01",
    )];
    if let Some(authorization) = authorization {
        headers.push(("authorization", authorization));
    }
    server.phone_get_with(path, &headers).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_phonebook_lists_users_and_contacts_for_the_device_alone() {
    let server = office().await;
    let api = server.admin_api();
    api.create_contact(json!({"id": "reception", "display_name": "Reception & Desk", "office": "+49 (30) 123-4567"}))
        .ok()
        .await;
    api.create_contact(json!({"id": "anna", "first_name": "Anna", "last_name": "Ärzte", "mobile": "0171 1234567", "other": "*21#"}))
        .ok()
        .await;
    api.patch_settings(json!({"phonebook_refresh_minutes": 60}))
        .ok()
        .await;
    let (user, password) = server.credentials(DESK).await;
    let auth = basic(&user, &password);
    crate::logs::remember_authorization(&auth);

    // The phone's config points at its own phonebook, with its own credentials.
    let config = fetch(&server, &format!("/{DESK}.cfg"), Some(&auth)).await;
    let config = crate::kv::parse(&config.text()).unwrap();
    let url = &config["remote_phonebook.data.1.url"];
    assert!(url.ends_with(&format!("/phonebook/{DESK}.xml")), "{url}");
    assert_eq!(config["remote_phonebook.data.1.username"], user);
    assert_eq!(config["features.remote_phonebook.enable"], "1");
    assert_eq!(config["features.remote_phonebook.flash_time"], "3600");

    let path = format!("/phonebook/{DESK}.xml");
    let reply = fetch(&server, &path, Some(&auth)).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.headers["content-type"], "application/xml");
    let entries = yealink_entries(&reply.text());
    let names: Vec<&str> = entries.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "Anna Ärzte",
            "Reception & Desk",
            "Zoë O'Neil & <Co> \"Sales\"",
            "Ελένη Παπαδοπούλου",
            "山田 太郎",
        ],
        "sorted by name, hidden and locked users left out"
    );
    assert_eq!(entries[0].1, ["01711234567", "*21#"]);
    assert_eq!(entries[1].1, ["+49301234567"]);
    assert_eq!(entries[2].1, ["1001"]);

    // Unchanged, it is not sent again; a change of a name changes it.
    let etag = reply.headers["etag"].to_str().unwrap().to_string();
    let again = server
        .phone_get_with(&path, &[("authorization", &auth), ("if-none-match", &etag)])
        .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    api.patch_user("1002", json!({"display_name": "Taro Yamada"}))
        .ok()
        .await;
    let changed = fetch(&server, &path, Some(&auth)).await;
    assert_ne!(changed.headers["etag"].to_str().unwrap(), etag);
    assert!(changed.text().contains("Taro Yamada"));

    // Without the device's own proof: the one refusal every refused file gets.
    let refused_unknown = fetch(&server, "/001565ffffff.cfg", None).await;
    for (what, reply) in [
        ("no credentials", fetch(&server, &path, None).await),
        ("another device's credentials", {
            let (user, password) = server.credentials(OTHER_DESK).await;
            fetch(&server, &path, Some(&basic(&user, &password))).await
        }),
        (
            "an unknown MAC",
            fetch(&server, "/phonebook/001565ffffff.xml", None).await,
        ),
    ] {
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{what}");
        assert_eq!(reply.body, refused_unknown.body, "{what}");
        assert_eq!(
            reply.headers.get("www-authenticate").is_some(),
            refused_unknown.headers.get("www-authenticate").is_some(),
            "{what}"
        );
        assert!(!reply.text().contains("Reception"), "{what}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contacts_are_checked_recorded_and_paged() {
    let server = office().await;
    let api = server.admin_api();
    for (contact, reason) in [
        (
            json!({"id": "x", "display_name": "No Number"}),
            "at least one number",
        ),
        (json!({"id": "x", "office": "1"}), "display_name"),
        (
            json!({"id": "x", "display_name": "Bad", "office": "call me"}),
            "phone number",
        ),
        (
            json!({"id": "Bad Id", "display_name": "Bad", "office": "1"}),
            "id",
        ),
        (
            json!({"id": "x", "display_name": "Bad", "office": "1", "fax": "2"}),
            "unknown field",
        ),
    ] {
        let refused = api
            .create_contact(contact.clone())
            .fails(StatusCode::BAD_REQUEST)
            .await;
        assert!(
            refused["error"].as_str().unwrap().contains(reason),
            "{contact}: {refused}"
        );
    }
    assert_eq!(
        api.list_contacts().ok().await,
        json!([]),
        "nothing was written"
    );
    for i in 0..3 {
        api.create_contact(json!({"id": format!("branch-{i}"), "display_name": format!("Branch {i}"), "office": format!("030 100{i}")}))
            .ok()
            .await;
    }
    api.create_contact(json!({"id": "branch-0", "display_name": "Twice", "office": "1"}))
        .fails(StatusCode::CONFLICT)
        .await;
    let first = api.list_contacts().query("limit=2").send().await.json();
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    assert_eq!(first["next"], "branch-1");
    let all = api.list_contacts().ok().await;
    assert_eq!(all.as_array().unwrap().len(), 3);
    let changed = api
        .patch_contact("branch-1", json!({"office": null, "mobile": "0171 555"}))
        .ok()
        .await;
    assert_eq!(
        (changed["office"].clone(), changed["mobile"].clone()),
        (Value::Null, json!("0171555"))
    );
    api.patch_contact("branch-1", json!({"mobile": null}))
        .fails(StatusCode::BAD_REQUEST)
        .await;
    api.delete_contact("branch-2").ok().await;
    api.show_contact("branch-2")
        .fails(StatusCode::NOT_FOUND)
        .await;
    let recorded = api
        .list_audit(crate::api::AuditFilter::kind("admin_change").subject("branch-1"))
        .ok()
        .await;
    assert!(recorded.as_array().unwrap().len() >= 2, "{recorded}");
}
