//! CSV import and export of the phonebook's contacts and of key layers, through the admin API:
//! round trips into a fresh server, names CSV must quote, refused rows that name their row and
//! column and change nothing, dry runs, the phonebook's limit and a model's key capacity.

use serde_json::{Value, json};

use crate::api::{AdminApi, NewDevice, NewUser};
use crate::helpers::*;

const CONTACTS_HEADER: &str = "id,display_name,first_name,last_name,office,mobile,other\n";

/// Commas, quotes, non-Latin scripts and a cell a spreadsheet would run as a formula.
const CONTACTS_CSV: &str = "id,display_name,first_name,last_name,office,mobile,other\n\
    reception,\"Reception, Main Desk\",,,+49 30 1234-0,,\n\
    boss,\"The \"\"Boss\"\"\",Ann,O'Neil,100,,\n\
    tokyo,東京支社,,,+81 3 1234 5678,,\n\
    athens,,Νίκος,Παπαδόπουλος,,+30 210 1234567,\n\
    formula,=HYPERLINK(\"x\"),,,200,,*21#\n";

/// (row, error) of a failed import's errors.
fn row_errors(job: &Value) -> Vec<(u64, String)> {
    job["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors in {job}"))
        .iter()
        .map(|e| {
            (
                e["row"].as_u64().unwrap(),
                e["error"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

async fn export_text(api: &AdminApi<'_>, subject: &str) -> String {
    let reply = api.export(subject, false).await;
    assert_eq!(reply.status, http::StatusCode::OK, "{}", reply.text());
    reply.text()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contacts_round_trip_through_csv_and_bad_rows_change_nothing() {
    let server = TestServer::start().await;
    let api = server.admin_api();

    let checked = api.import_to_end("contacts", CONTACTS_CSV, true).await;
    assert_eq!(
        (checked["state"].clone(), checked["created"].clone()),
        (json!("checked"), json!(5)),
        "{checked}"
    );
    assert_eq!(api.list_contacts().ok().await, json!([]));

    let done = api.import_to_end("contacts", CONTACTS_CSV, false).await;
    assert_eq!(
        (done["state"].clone(), done["created"].clone()),
        (json!("done"), json!(5)),
        "{done}"
    );
    let boss = api.show_contact("boss").ok().await;
    assert_eq!(boss["display_name"], "The \"Boss\"");
    assert_eq!(boss["last_name"], "O'Neil");
    assert_eq!(
        api.show_contact("reception").ok().await["office"],
        "+493012340"
    );
    let athens = api.show_contact("athens").ok().await;
    assert_eq!(athens["display_name"], "Νίκος Παπαδόπουλος");
    assert_eq!(
        api.show_contact("formula").ok().await["display_name"],
        "=HYPERLINK(\"x\")"
    );

    let export = export_text(&api, "contacts").await;
    assert!(export.starts_with(CONTACTS_HEADER), "{export}");
    // Parsed back with a CSV reader: every name as it was given, the formula defused.
    let mut reader = csv::Reader::from_reader(export.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    let names: Vec<&str> = rows.iter().map(|r| &r[1]).collect();
    assert_eq!(
        names,
        [
            "Νίκος Παπαδόπουλος",
            "The \"Boss\"",
            "'=HYPERLINK(\"x\")",
            "Reception, Main Desk",
            "東京支社"
        ]
    );

    // The export imports back unchanged, and into a fresh server it gives the same export.
    let again = api.import_to_end("contacts", &export, false).await;
    assert_eq!(again["unchanged"], 5, "{again}");
    let fresh = TestServer::start().await;
    let fresh_api = fresh.admin_api();
    let imported = fresh_api.import_to_end("contacts", &export, false).await;
    assert_eq!(imported["created"], 5, "{imported}");
    assert_eq!(export_text(&fresh_api, "contacts").await, export);

    // A line break in a name, a number that is none, a repeated id: every bad row reported
    // with its line and column, and the good rows are not written either.
    let bad = "id,display_name,office\n\
        reception,Front Desk,\n\
        newcomer,New Person,300\n\
        broken,\"Two\nLines\",400\n\
        nonumber,No Number,call-me\n\
        newcomer,Again,500\n";
    let failed = api.import_to_end("contacts", bad, false).await;
    assert_eq!(failed["state"], "failed", "{failed}");
    let errors = row_errors(&failed);
    assert_eq!(
        errors.iter().map(|(row, _)| *row).collect::<Vec<_>>(),
        [4, 6, 7],
        "{errors:?}"
    );
    assert!(errors[0].1.starts_with("display_name:"), "{errors:?}");
    assert!(errors[1].1.starts_with("office:"), "{errors:?}");
    assert!(errors[2].1.contains("earlier row"), "{errors:?}");
    assert_eq!(export_text(&api, "contacts").await, export);

    // An update: an empty cell keeps a value, "-" clears it; a dry run writes nothing.
    let update = "id,display_name,office,other\nformula,Switchboard,,-\n";
    let dry = api.import_to_end("contacts", update, true).await;
    assert_eq!(dry["updated"], 1, "{dry}");
    assert_eq!(export_text(&api, "contacts").await, export);
    let done = api.import_to_end("contacts", update, false).await;
    assert_eq!(done["updated"], 1, "{done}");
    let formula = api.show_contact("formula").ok().await;
    assert_eq!(
        (
            formula["display_name"].clone(),
            formula["office"].clone(),
            formula["other"].clone()
        ),
        (json!("Switchboard"), json!("200"), Value::Null)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_contacts_import_beyond_the_phonebook_limit_is_refused_whole() {
    const MAX_CONTACTS: usize = 10_000; // ops::contacts::MAX_CONTACTS
    let server = TestServer::start().await;
    let api = server.admin_api();
    let mut full = String::from("id,display_name,office\n");
    for n in 0..MAX_CONTACTS - 1 {
        full.push_str(&format!("c{n},Contact {n},{}\n", 100_000 + n));
    }
    let done = api.import_to_end("contacts", &full, false).await;
    assert_eq!(done["created"], MAX_CONTACTS - 1, "{}", done["state"]);

    let two_more = "id,display_name,office\nc0,Renamed,1\nlast,Last One,2\nover,One Too Many,3\n";
    let failed = api.import_to_end("contacts", two_more, false).await;
    assert_eq!(failed["state"], "failed", "{failed}");
    let errors = row_errors(&failed);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].0, 4);
    assert!(errors[0].1.contains("at most 10000 contacts"), "{errors:?}");
    assert_eq!(
        api.show_contact("c0").ok().await["display_name"],
        "Contact 0"
    );
    api.show_contact("last")
        .fails(http::StatusCode::NOT_FOUND)
        .await;
}

const DESK: &str = "001565000a01";

/// Users, a profile and a desk phone, the owners of the key layers below.
async fn office(api: &AdminApi<'_>) {
    for (extension, name) in [("1001", "Alice Example"), ("1002", "Bob Example")] {
        api.create_user(NewUser::new(extension, name)).ok().await;
    }
    api.create_profile(json!({"name": "sales"})).ok().await;
    api.create_device(NewDevice::new(DESK).model("T46S"))
        .ok()
        .await;
    api.patch_device(DESK, json!({"expansion_modules": 1}))
        .ok()
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_layers_round_trip_through_csv_and_are_checked_like_put() {
    let server = TestServer::start().await;
    let api = server.admin_api();
    office(&api).await;
    api.set_keys("site", None, json!([{"position": 5, "type": "voicemail"}]))
        .ok()
        .await;
    api.set_keys(
        "profiles",
        Some("sales"),
        json!([{"position": 2, "type": "blf", "value": "1002", "label": "Bob, \"the\" builder"}]),
    )
    .ok()
    .await;
    api.set_keys(
        "models",
        Some("T46S"),
        json!([{"position": 3, "type": "park", "value": "701"}]),
    )
    .ok()
    .await;
    api.set_keys(
        "devices",
        Some(DESK),
        json!([
            {"position": 4, "type": "speed_dial", "value": "+4930123", "label": "東京支社", "line": 2},
            {"module": 1, "position": 1, "type": "url", "value": "https://intranet.example.com/a?b=1,2"},
        ]),
    )
    .ok()
    .await;
    api.set_keys(
        "users",
        Some("1001"),
        json!([{"position": 6, "type": "dnd"}]),
    )
    .ok()
    .await;

    let export = export_text(&api, "keys").await;
    let lines: Vec<&str> = export.lines().collect();
    assert_eq!(
        lines[0],
        "layer,owner,module,position,type,value,label,line"
    );
    assert_eq!(lines[1], "site,,,5,voicemail,,,1");
    assert_eq!(
        lines[2],
        "profile,sales,,2,blf,1002,\"Bob, \"\"the\"\" builder\",1"
    );
    assert_eq!(lines[3], "model,T46S,,3,park,701,,1");
    assert_eq!(
        lines[4..],
        [
            // A cell starting with + is defused for spreadsheets, and restored on import.
            "device,001565000a01,,4,speed_dial,'+4930123,東京支社,2",
            "device,001565000a01,1,1,url,\"https://intranet.example.com/a?b=1,2\",,1",
            "user,1001,,6,dnd,,,1",
        ]
    );

    // Importing the export changes nothing; into a fresh server it gives the same export.
    let again = api.import_to_end("keys", &export, false).await;
    assert_eq!(
        (again["state"].clone(), again["unchanged"].clone()),
        (json!("done"), json!(6)),
        "{again}"
    );
    let fresh = TestServer::start().await;
    let fresh_api = fresh.admin_api();
    office(&fresh_api).await;
    let imported = fresh_api.import_to_end("keys", &export, false).await;
    assert_eq!(imported["created"], 6, "{imported}");
    assert_eq!(export_text(&fresh_api, "keys").await, export);
    assert_eq!(
        fresh_api.keys("devices", Some(DESK)).ok().await,
        api.keys("devices", Some(DESK)).ok().await
    );

    // A file replaces the layers it names, whole, and leaves the others.
    let device = DESK;
    let replace = format!(
        "layer,owner,position,type,value\ndevice,{device},7,conference,\ndevice,{device},8,blf,1001\n"
    );
    let dry = api.import_to_end("keys", &replace, true).await;
    assert_eq!(dry["updated"], 2, "{dry}");
    assert_eq!(
        export_text(&api, "keys").await,
        export,
        "a dry run changes nothing"
    );
    let done = api.import_to_end("keys", &replace, false).await;
    assert_eq!(done["state"], "done", "{done}");
    let positions: Vec<Value> = api
        .keys("devices", Some(DESK))
        .ok()
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["position"].clone())
        .collect();
    assert_eq!(positions, [json!(7), json!(8)]);
    assert_eq!(
        api.keys("profiles", Some("sales")).ok().await[0]["value"],
        "1002"
    );
    let before = export_text(&api, "keys").await;

    // Refused rows name their row and column; the good layers in the file are not written.
    let bad = "layer,owner,position,type,value\n\
        profile,sales,9,dnd,\n\
        user,1002,1,beep,\n\
        device,001565ffffff,1,dnd,\n\
        user,1001,2,dnd,\n\
        user,1001,2,conference,\n\
        site,x,1,dnd,\n\
        user,1001,0,dnd,\n";
    let failed = api.import_to_end("keys", bad, false).await;
    assert_eq!(failed["state"], "failed", "{failed}");
    let errors = row_errors(&failed);
    assert_eq!(
        errors.iter().map(|(row, _)| *row).collect::<Vec<_>>(),
        [3, 4, 6, 7, 8],
        "{errors:?}"
    );
    assert!(errors[0].1.starts_with("type:"), "{errors:?}");
    assert!(
        errors[1].1.starts_with("device 001565ffffff: ") && errors[1].1.contains("no device"),
        "{errors:?}"
    );
    assert!(
        errors[2].1.starts_with("position:") && errors[2].1.contains("row 5"),
        "{errors:?}"
    );
    assert!(errors[3].1.starts_with("owner:"), "{errors:?}");
    assert!(errors[4].1.starts_with("position:"), "{errors:?}");
    assert_eq!(export_text(&api, "keys").await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_beyond_a_models_capacity_are_refused_naming_the_model() {
    let server = TestServer::start().await;
    let api = server.admin_api();
    office(&api).await;
    api.patch_device(DESK, json!({"expansion_modules": 0}))
        .ok()
        .await;
    // A T46S has 27 keys (as tests/integration/keys.rs checks through PUT).
    let mut csv = String::from("layer,owner,position,type,value\nuser,1001,1,dnd,\n");
    for position in 1..=28 {
        csv.push_str(&format!(
            "device,{DESK},{position},speed_dial,{}\n",
            2000 + position
        ));
    }
    let failed = api.import_to_end("keys", &csv, false).await;
    assert_eq!(failed["state"], "failed", "{failed}");
    let errors = row_errors(&failed);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].0, 3, "the layer's first row: {errors:?}");
    assert!(
        errors[0].1.contains("T46S")
            && errors[0].1.contains("27 keys")
            && errors[0].1.contains("key 28"),
        "{errors:?}"
    );
    assert_eq!(api.keys("devices", Some(DESK)).ok().await, json!([]));
    assert_eq!(api.keys("users", Some("1001")).ok().await, json!([]));

    // A model's own layer: every module the model takes, no more.
    let beyond: String = (1..=41)
        .map(|p| format!("model,t46s,6,{p},dnd\n"))
        .collect();
    let failed = api
        .import_to_end(
            "keys",
            &format!("layer,owner,module,position,type\n{beyond}"),
            false,
        )
        .await;
    let errors = row_errors(&failed);
    assert!(
        errors[0].1.contains("T46S") && errors[0].1.contains("module 6 key 41"),
        "{errors:?}"
    );
    assert_eq!(api.keys("models", Some("T46S")).ok().await, json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_token_imports_keys_but_not_the_sites() {
    let server = TestServer::start().await;
    let owner = server.admin_api();
    office(&owner).await;
    let created = owner
        .create_token_with("importer", "admin", false, None)
        .ok()
        .await;
    let admin = AdminApi::new(&server.admin, created["token"].as_str().unwrap());
    let csv = "layer,owner,position,type\nuser,1001,1,dnd\nsite,,2,dnd\n";
    let failed = admin.import_to_end("keys", csv, false).await;
    let errors = row_errors(&failed);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].0, 3);
    assert!(
        errors[0].1.contains("may not change the site's keys"),
        "{errors:?}"
    );
    assert_eq!(owner.keys("users", Some("1001")).ok().await, json!([]));
    // PUT /settings/keys needs the owner too: the same rule.
    let done = admin
        .import_to_end(
            "keys",
            "layer,owner,position,type\nuser,1001,1,dnd\n",
            false,
        )
        .await;
    assert_eq!(done["created"], 1, "{done}");
}
