//! The company phonebook in every vendor's remote-directory format: each config points at it
//! (keys asserted with their source), each document is fetched as the phone fetches it over
//! HTTPS with its own credentials, parsed back with quick-xml and compared with its golden
//! file; names that break XML or are not Latin round-trip; without the device's proof every
//! path gets the one refusal.

use http::StatusCode;
use quick_xml::Reader;
use quick_xml::events::Event;
use serde_json::json;

use crate::api::{NewDevice, NewUser};
use crate::helpers::*;

const PUBLIC_URL: &str = "https://prov.example.com:8443/";

/// (vendor, MAC, model, the device's config path)
const DEVICES: &[(&str, &str, &str, &str)] = &[
    ("yealink", "001565aabbcc", "T46S", "/001565aabbcc.cfg"),
    (
        "cisco",
        "d0ec35aabbcc",
        "CP-8851-3PCC",
        "/cisco-d0ec35aabbcc.xml",
    ),
    ("snom", "000413aabbcc", "D785", "/snomD785-000413AABBCC.htm"),
    (
        "grandstream",
        "000b82aabbcc",
        "GXP2135",
        "/cfg000b82aabbcc.xml",
    ),
    (
        "polycom",
        "0004f2aabbcc",
        "VVX400",
        "/0004f2aabbcc-deskprov.cfg",
    ),
    ("fanvil", "0c383eaabbcc", "X4U", "/0c383eaabbcc.cfg"),
    // The X4 reads the old VOIP_CONFIG_FILE format (docs/vendors/fanvil.md).
    ("fanvil", "0c383eaabbdd", "X4", "/0c383eaabbdd.cfg"),
    ("gigaset", "7c2f80aabbcc", "N870", "/7c2f80aabbcc.xml"),
];

const USERS: &[(&str, &str)] = &[
    ("1001", "Zoë O'Neil & <Co> \"Sales\""),
    ("1002", "山田 太郎"),
    ("1003", "Ελένη Παπαδοπούλου"),
];

/// Every (name, number) the phonebook holds, in the order a phone lists them.
const EXPECTED: &[(&str, &str)] = &[
    ("Anna Ärzte & <Söhne>", "01711234567"),
    ("Anna Ärzte & <Söhne>", "*21#"),
    ("Reception & Desk", "+49301234567"),
    ("Zoë O'Neil & <Co> \"Sales\"", "1001"),
    ("Ελένη Παπαδοπούλου", "1003"),
    ("山田 太郎", "1002"),
];

async fn office(refresh_minutes: Option<u32>) -> TestServer {
    // One test source refuses many paths on purpose: no ban may cut it short.
    let server = TestServer::start_with(|c| {
        c.server.public_url = Some(PUBLIC_URL.into());
        c.security.max_refused_macs = 1000;
        c.security.max_failed_credentials = 1000;
        c.security.device_max_failed_credentials = 1000;
    })
    .await;
    let api = server.admin_api();
    for (extension, name) in USERS {
        api.create_user(NewUser::new(extension, name)).ok().await;
    }
    api.create_contact(json!({"id": "reception", "display_name": "Reception & Desk", "office": "+49 (30) 123-4567"}))
        .ok()
        .await;
    api.create_contact(json!({"id": "anna", "first_name": "Anna", "last_name": "Ärzte & <Söhne>", "mobile": "0171 1234567", "other": "*21#"}))
        .ok()
        .await;
    for (_, mac, model, _) in DEVICES {
        api.create_device(NewDevice::new(mac).model(model))
            .ok()
            .await;
    }
    if let Some(minutes) = refresh_minutes {
        api.patch_settings(json!({"phonebook_refresh_minutes": minutes}))
            .ok()
            .await;
    }
    server
}

async fn authorization(server: &TestServer, mac: &str) -> String {
    let (user, password) = server.credentials(mac).await;
    let authorization = basic(&user, &password);
    crate::logs::remember_authorization(&authorization);
    authorization
}

async fn get(server: &TestServer, path: &str, authorization: &str) -> deskprov::client::Reply {
    server
        .phone_get_with(path, &[("authorization", authorization)])
        .await
}

/// The text of the first element `name` in an XML config, read with quick-xml.
fn element_text(xml: &str, name: &str) -> Option<String> {
    let mut reader = Reader::from_str(xml);
    let mut inside = false;
    let mut text = String::new();
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) if e.name().as_ref() == name.as_bytes() => inside = true,
            Event::Text(t) if inside => text.push_str(&t.decode().unwrap()),
            Event::GeneralRef(r) if inside => text.push_str(&resolve(&r)),
            Event::End(e) if inside && e.name().as_ref() == name.as_bytes() => return Some(text),
            Event::Eof => return None,
            _ => {}
        }
    }
}

fn resolve(reference: &quick_xml::events::BytesRef<'_>) -> String {
    match reference.resolve_char_ref().unwrap() {
        Some(c) => c.to_string(),
        None => {
            let name = reference.decode().unwrap();
            quick_xml::escape::resolve_xml_entity(&name)
                .unwrap_or_else(|| panic!("unknown entity {name}"))
                .to_string()
        }
    }
}

/// The root element's name and each `record` element's leaf fields (name, decoded text), in
/// document order, as a phone's parser reads them.
pub(crate) fn records(xml: &str, record: &str) -> (String, Vec<Vec<(String, String)>>) {
    let mut reader = Reader::from_str(xml);
    let mut root = None;
    let mut all = Vec::new();
    let mut current: Option<Vec<(String, String)>> = None;
    let mut field: Option<String> = None;
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) => {
                let name = String::from_utf8(e.name().as_ref().to_vec()).unwrap();
                root.get_or_insert_with(|| name.clone());
                if name == record {
                    current = Some(Vec::new());
                } else if let Some(fields) = current.as_mut() {
                    fields.push((name.clone(), String::new()));
                    field = Some(name);
                }
            }
            Event::Text(t) if field.is_some() => {
                let fields = current.as_mut().unwrap();
                fields.last_mut().unwrap().1.push_str(&t.decode().unwrap());
            }
            Event::GeneralRef(r) if field.is_some() => {
                let fields = current.as_mut().unwrap();
                fields.last_mut().unwrap().1.push_str(&resolve(&r));
            }
            Event::End(e) if e.name().as_ref() == record.as_bytes() => {
                all.push(current.take().unwrap());
            }
            Event::End(_) => field = None,
            Event::Eof => break,
            _ => {}
        }
    }
    // Grouping elements (Grandstream's <Phone>) hold no text of their own.
    for fields in &mut all {
        fields.retain(|(_, text)| !text.trim().is_empty());
    }
    (root.expect("a root element"), all)
}

/// A vendor's document format: its root, the element of one entry, and how an entry's name
/// and numbers are read from its fields.
struct Format {
    root: &'static str,
    record: &'static str,
    name: fn(&[(String, String)]) -> String,
    numbers: &'static [&'static str],
}

fn field(fields: &[(String, String)], name: &str) -> String {
    fields
        .iter()
        .filter(|(n, _)| n == name)
        .map(|(_, t)| t.as_str())
        .collect()
}

fn joined(fields: &[(String, String)], first: &str, last: &str) -> String {
    let name = format!("{} {}", field(fields, first), field(fields, last));
    name.trim().to_string()
}

fn format_of(vendor: &str) -> Format {
    let named = |f: &[(String, String)]| field(f, "Name");
    match vendor {
        // FusionPBX `resources/templates/provision/yealink/t46s/directory.xml`.
        "yealink" => Format {
            root: "YealinkIPPhoneDirectory",
            record: "DirectoryEntry",
            name: named,
            numbers: &["Telephone"],
        },
        // Cisco MPP admin guide, "XML Services": CiscoIPPhoneDirectory.
        "cisco" => Format {
            root: "CiscoIPPhoneDirectory",
            record: "DirectoryEntry",
            name: named,
            numbers: &["Telephone"],
        },
        // service.snom.com "XML Minibrowser": SnomIPPhoneDirectory.
        "snom" => Format {
            root: "SnomIPPhoneDirectory",
            record: "DirectoryEntry",
            name: named,
            numbers: &["Telephone"],
        },
        // fspbx `Phonebook/Formatters/GrandstreamFormatter.php`: AddressBook.
        "grandstream" => Format {
            root: "AddressBook",
            record: "Contact",
            name: |f| joined(f, "FirstName", "LastName"),
            numbers: &["phonenumber"],
        },
        // Poly's local directory (phones.md §1.2; `000000000000-directory.xml` generators).
        "polycom" => Format {
            root: "directory",
            record: "item",
            name: |f| joined(f, "fn", "ln"),
            numbers: &["ct"],
        },
        // FanvilIPPhoneDirectory (3CX phonebook patchers; Fanvil XML phonebook spec).
        "fanvil" => Format {
            root: "FanvilIPPhoneDirectory",
            record: "DirectoryEntry",
            name: named,
            numbers: &["Telephone", "Mobile", "Other"],
        },
        other => panic!("{other} has no phonebook format"),
    }
}

/// Gigaset's central phonebook (Gigaset wiki, "Central phonebook", N610/N670/N870/N870E):
/// `<!DOCTYPE LocalDirectory>` and one `<entry>` per name, its fields as attributes
/// (`name` the first name, `surname`, `office1`, `mobile1`, `home1`, …), with no root
/// element around them. Each entry's attributes, decoded, in document order.
fn gigaset_entries(xml: &str) -> Vec<Vec<(String, String)>> {
    let mut reader = Reader::from_str(xml);
    let mut entries = Vec::new();
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::DocType(d) => assert_eq!(d.trim_ascii(), b"LocalDirectory"),
            Event::Empty(e) => {
                assert_eq!(e.name().as_ref(), b"entry");
                let attributes = e
                    .attributes()
                    .map(|a| {
                        let a = a.unwrap();
                        let name = String::from_utf8(a.key.as_ref().to_vec()).unwrap();
                        (name, a.unescape_value().unwrap().into_owned())
                    })
                    .collect();
                entries.push(attributes);
            }
            Event::Start(e) => panic!("an element holding others: {:?}", e.name()),
            Event::Eof => return entries,
            _ => {}
        }
    }
}

/// (name, number) of every number of every entry, in document order.
fn listed(vendor: &str, xml: &str) -> Vec<(String, String)> {
    if vendor == "gigaset" {
        let mut pairs = Vec::new();
        for fields in gigaset_entries(xml) {
            let name = joined(&fields, "name", "surname");
            for (field, text) in &fields {
                if ["office1", "mobile1", "home1"].contains(&field.as_str()) {
                    pairs.push((name.clone(), text.clone()));
                }
            }
        }
        return pairs;
    }
    let format = format_of(vendor);
    let (root, entries) = records(xml, format.record);
    assert_eq!(root, format.root, "{vendor}");
    let mut pairs = Vec::new();
    for fields in &entries {
        let name = (format.name)(fields);
        for (field, text) in fields {
            if format.numbers.contains(&field.as_str()) {
                pairs.push((name.clone(), text.clone()));
            }
        }
    }
    pairs
}

/// The path of the device's phonebook as its config gives it, with the config keys that point
/// the phone at it asserted; `None` where deskprov writes no such key (the phone fetches a
/// file of its own name, or no source confirms the vendor's keys).
fn phonebook_path(vendor: &str, mac: &str, config: &str) -> Option<String> {
    let path_of = |url: &str| {
        let url = url.strip_prefix("url ").unwrap_or(url);
        let (_, rest) = url.split_once("://").expect("a URL");
        format!("/{}", rest.split_once('/').unwrap().1)
    };
    let own = format!("/phonebook/{mac}.xml");
    match vendor {
        "yealink" => {
            let keys = crate::kv::parse(config).unwrap();
            // Yealink admin guide / FusionPBX y0000000000XX.cfg: remote_phonebook.data.1.*.
            assert_eq!(keys["features.remote_phonebook.enable"], "1");
            assert_eq!(keys["features.remote_phonebook.flash_time"], "3600");
            Some(path_of(&keys["remote_phonebook.data.1.url"]))
        }
        "cisco" => {
            // Cisco MPP admin guide, "XML Services": XML_Directory_Service_Name/_URL, and
            // XML_User_Name/XML_Password "when an XML URL requires authentication".
            assert_eq!(
                element_text(config, "XML_Directory_Service_Name").as_deref(),
                Some("Company")
            );
            assert!(!element_text(config, "XML_User_Name").unwrap().is_empty());
            assert!(!element_text(config, "XML_Password").unwrap().is_empty());
            let url = element_text(config, "XML_Directory_Service_URL").unwrap();
            assert_eq!(url, format!("{PUBLIC_URL}phonebook/{mac}.xml"));
            Some(path_of(&url))
        }
        "snom" => {
            // GS5 and phones.md §3.3: `dkey_directory` = `url <URL>` opens the URL in the
            // minibrowser; the credentials in the URL as in `setting_server`.
            let key = element_text(config, "dkey_directory").unwrap();
            assert!(key.starts_with("url https://"), "{key}");
            assert!(key.contains('@'), "credentials in the URL: {key}");
            assert!(key.ends_with(&own), "{key}");
            Some(path_of(&key))
        }
        "grandstream" => {
            // FusionPBX gxp templates and Gemeinschaft: P330 download (3 = HTTPS), P331 server
            // path host/path without scheme, P332 interval in minutes (0-720).
            assert_eq!(element_text(config, "P330").as_deref(), Some("3"));
            assert_eq!(element_text(config, "P332").as_deref(), Some("60"));
            let path = element_text(config, "P331").unwrap();
            assert_eq!(path, format!("prov.example.com:8443/phonebook/{mac}"));
            // fspbx: "Grandstream requests <server>/phonebook.xml".
            let (_, rest) = path.split_once('/').unwrap();
            Some(format!("/{rest}/phonebook.xml"))
        }
        // The phone fetches `{mac}-directory.xml` from the provisioning root by itself.
        "polycom" => Some(format!("/{mac}-directory.xml")),
        "fanvil" => {
            let old_format = config.contains("<VOIP_CONFIG_FILE>");
            // The old format repeats its list entries without identifying attributes: its
            // two sections are read on their own.
            let keys = if old_format {
                let section = |name| crate::xmlflat::element(config, name).unwrap();
                let mut keys = crate::xmlflat::flatten(section("Xml_PhoneBook")).unwrap();
                keys.extend(crate::xmlflat::flatten(section("AUTOUPDATE_CONFIG_MODULE")).unwrap());
                keys
            } else {
                crate::xmlflat::flatten(config).unwrap()
            };
            let key = |name: &str| keys.get(name).map(String::as_str);
            let (url, user, password, interval) = if old_format {
                // FusionPBX `fanvil/x4/{$mac}.cfg`: <Xml_PhoneBook_Entry> ID/Name/Addr/Auth,
                // `user:password` as a text-format dump writes it; <update_PB_Interval>.
                let entry = "Xml_PhoneBook/Xml_PhoneBook_Entry";
                assert_eq!(key(&format!("{entry}/ID")), Some("XML-PBook1"));
                assert_eq!(key(&format!("{entry}/Name")), Some("Company"));
                let auth = key(&format!("{entry}/Auth")).unwrap();
                let (user, password) = auth.split_once(':').unwrap();
                (
                    key(&format!("{entry}/Addr")).unwrap(),
                    user,
                    password,
                    key("AUTOUPDATE_CONFIG_MODULE/update_PB_Interval"),
                )
            } else {
                // FusionPBX `fanvil/x4u/{$mac}.cfg` and WZ's sysConf templates:
                // <phone><xmlContact index> Name/Addr/UserName/PassWd; <ap><updatePBInterval>.
                let entry = "sysConf/phone/xmlContact[index=1]";
                assert_eq!(key(&format!("{entry}/Name")), Some("Company"));
                (
                    key(&format!("{entry}/Addr")).unwrap(),
                    key(&format!("{entry}/UserName")).unwrap(),
                    key(&format!("{entry}/PassWd")).unwrap(),
                    key("sysConf/ap/updatePBInterval"),
                )
            };
            assert_eq!(url, format!("{PUBLIC_URL}phonebook/{mac}.xml"));
            assert_eq!(interval, Some("60"));
            assert!(!user.is_empty() && !password.is_empty(), "{config}");
            Some(path_of(url))
        }
        "gigaset" => {
            // Gigaset wiki, "Central phonebook": Netdir.21.Activated, CentralBook.0.Name,
            // .ServerURL (the full URL), .DownloadTime (daily, HH:MM), .StartWithList.
            let param = |name: &str| gigaset_param(config, name);
            assert_eq!(param("Netdir.21.Activated").as_deref(), Some("1"));
            assert_eq!(param("CentralBook.0.Name").as_deref(), Some("Company"));
            assert_eq!(param("CentralBook.0.StartWithList").as_deref(), Some("1"));
            let time = param("CentralBook.0.DownloadTime").unwrap();
            let (hours, minutes) = time.split_once(':').unwrap();
            assert!((1..=4).contains(&hours.parse::<u8>().unwrap()), "{time}");
            assert!(
                minutes.len() == 2 && minutes.parse::<u8>().unwrap() < 60,
                "{time}"
            );
            let url = param("CentralBook.0.ServerURL").unwrap();
            assert_eq!(url, format!("{PUBLIC_URL}phonebook/{mac}.xml"));
            Some(path_of(&url))
        }
        _ => None,
    }
}

/// The value of the Nx70 `<param name=… value=…/>` called `name`, read with quick-xml.
fn gigaset_param(xml: &str, name: &str) -> Option<String> {
    let mut reader = Reader::from_str(xml);
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Empty(e) if e.name().as_ref() == b"param" => {
                let attribute = |key: &str| {
                    e.try_get_attribute(key)
                        .unwrap()
                        .map(|a| a.unescape_value().unwrap().into_owned())
                };
                if attribute("name").as_deref() == Some(name) {
                    return attribute("value");
                }
            }
            Event::Eof => return None,
            _ => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_vendor_gets_the_phonebook_in_its_own_format() {
    let server = office(Some(60)).await;
    for (vendor, mac, _, config_path) in DEVICES {
        let auth = authorization(&server, mac).await;
        let config = get(&server, config_path, &auth).await;
        assert_eq!(config.status, StatusCode::OK, "{config_path}");
        let path = phonebook_path(vendor, mac, &config.text()).expect("a phonebook path");
        let reply = get(&server, &path, &auth).await;
        assert_eq!(reply.status, StatusCode::OK, "{vendor} {path}");
        assert_eq!(reply.headers["content-type"], "application/xml", "{vendor}");
        assert_eq!(reply.headers["cache-control"], "no-store", "{vendor}");
        let expected: Vec<(String, String)> = EXPECTED
            .iter()
            .map(|(n, t)| (n.to_string(), t.to_string()))
            .collect();
        assert_eq!(listed(vendor, &reply.text()), expected, "{vendor}");
        let golden = format!("{vendor}/phonebook.xml");
        check_golden(vendor, &golden, &reply.text());
        // The same document under the common path, where that is not already the one asked for.
        let own = get(&server, &format!("/phonebook/{mac}.xml"), &auth).await;
        assert_eq!(own.text(), reply.text(), "{vendor}");
    }
}

/// Compares the document with its golden file: first the entries as a phone reads them, then
/// the bytes. `UPDATE_GOLDEN=1` writes the file first.
fn check_golden(vendor: &str, name: &str, actual: &str) {
    let path = fixtures().join("golden").join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).unwrap();
    }
    let expected =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if vendor == "gigaset" {
        assert_eq!(
            gigaset_entries(actual),
            gigaset_entries(&expected),
            "{name}: entries differ"
        );
    } else {
        let format = format_of(vendor);
        assert_eq!(
            records(actual, format.record),
            records(&expected, format.record),
            "{name}: entries differ"
        );
    }
    assert_eq!(actual, expected, "{name}: bytes differ");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_setting_no_config_points_at_a_phonebook() {
    let server = office(None).await;
    for (vendor, mac, _, config_path) in DEVICES {
        let auth = authorization(&server, mac).await;
        let config = get(&server, config_path, &auth).await.text();
        for key in [
            "remote_phonebook",
            "XML_Directory_Service",
            "dkey_directory",
            "<P330>",
            "/phonebook/",
            "CentralBook",
            "xmlContact",
            "Xml_PhoneBook",
            "PB_Interval",
            "updatePBInterval",
        ] {
            assert!(!config.contains(key), "{vendor}: {key}");
        }
    }
    // Poly's directory file is what the phone stored, as before: nothing yet.
    let mac = "0004f2aabbcc";
    let auth = authorization(&server, mac).await;
    let stored = get(&server, &format!("/{mac}-directory.xml"), &auth).await;
    assert_eq!(stored.status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_phonebook_path_is_refused_without_the_device_proof() {
    let server = office(Some(60)).await;
    let refused_unknown = server.phone_get("/001565ffffff.cfg", "").await;
    assert_eq!(refused_unknown.status, StatusCode::UNAUTHORIZED);
    let other = authorization(&server, "001565aabbcc").await;
    for (vendor, mac, ..) in DEVICES.iter().filter(|(v, ..)| *v != "yealink") {
        for path in [
            format!("/phonebook/{mac}.xml"),
            format!("/phonebook/{mac}/phonebook.xml"),
            format!("/phonebook/{mac}.xml?page=2"),
            format!("/{mac}-directory.xml"),
        ] {
            if path.ends_with("-directory.xml") && *vendor != "polycom" {
                continue;
            }
            for (what, reply) in [
                ("no credentials", server.phone_get(&path, "").await),
                ("another device's", get(&server, &path, &other).await),
            ] {
                assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{path}: {what}");
                assert_eq!(reply.body, refused_unknown.body, "{path}: {what}");
                assert_eq!(
                    reply.headers.get("www-authenticate").is_some(),
                    refused_unknown.headers.get("www-authenticate").is_some(),
                    "{path}: {what}"
                );
            }
        }
    }
}

/// A CiscoIPPhoneDirectory holds 32 entries; more are on further pages, each linking to the
/// next by the device's own URL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cisco_directory_comes_in_pages_of_32() {
    let server = office(Some(60)).await;
    let api = server.admin_api();
    for i in 0..30 {
        api.create_contact(json!({"id": format!("branch-{i:02}"), "display_name": format!("Branch {i:02}"), "office": format!("030 100{i:02}")}))
            .ok()
            .await;
    }
    // 36 numbers: 32 on page 1, 4 on page 2.
    let mac = "d0ec35aabbcc";
    let auth = authorization(&server, mac).await;
    let first = get(&server, &format!("/phonebook/{mac}.xml"), &auth).await;
    let first_text = first.text();
    assert_eq!(listed("cisco", &first_text).len(), 32);
    let (_, soft_keys) = records(&first_text, "SoftKeyItem");
    let next = soft_keys
        .iter()
        .find(|f| field(f, "Name") == "Next")
        .map(|f| field(f, "URL"))
        .expect("a Next soft key");
    assert_eq!(next, format!("{PUBLIC_URL}phonebook/{mac}.xml?page=2"));
    let second = get(&server, &format!("/phonebook/{mac}.xml?page=2"), &auth).await;
    assert_eq!(second.status, StatusCode::OK);
    let second_text = second.text();
    let rows = listed("cisco", &second_text);
    assert_eq!(rows.len(), 4);
    assert_eq!(rows.last().unwrap().0, "山田 太郎");
    let (_, soft_keys) = records(&second_text, "SoftKeyItem");
    assert!(soft_keys.iter().all(|f| field(f, "Name") != "Next"));
    for past in ["page=3", "page=0", "page=x"] {
        let reply = get(&server, &format!("/phonebook/{mac}.xml?{past}"), &auth).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{past}");
    }
    // Vendors that take the directory whole have no second page.
    let yealink = authorization(&server, "001565aabbcc").await;
    let reply = get(&server, "/phonebook/001565aabbcc.xml?page=2", &yealink).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
}

/// The cached document follows every change of what it lists: a contact added, a user renamed,
/// a user hidden.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cached_phonebook_follows_every_change() {
    let server = office(Some(60)).await;
    let api = server.admin_api();
    let mac = "000b82aabbcc";
    let auth = authorization(&server, mac).await;
    let path = format!("/phonebook/{mac}/phonebook.xml");
    let before = get(&server, &path, &auth).await;
    let again = get(&server, &path, &auth).await;
    assert_eq!(again.body, before.body);
    assert_eq!(again.headers["etag"], before.headers["etag"]);
    api.create_contact(json!({"id": "late", "display_name": "Late Comer", "office": "0301"}))
        .ok()
        .await;
    let added = listed("grandstream", &get(&server, &path, &auth).await.text());
    assert!(added.contains(&("Late Comer".into(), "0301".into())));
    api.patch_user("1002", json!({"display_name": "Taro Yamada"}))
        .ok()
        .await;
    api.patch_user("1003", json!({"phonebook_hidden": true}))
        .ok()
        .await;
    let names: Vec<String> = listed("grandstream", &get(&server, &path, &auth).await.text())
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert!(names.contains(&"Taro Yamada".to_string()));
    assert!(!names.contains(&"山田 太郎".to_string()));
    assert!(!names.contains(&"Ελένη Παπαδοπούλου".to_string()));
}
