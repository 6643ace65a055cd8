//! The administration commands of the real `deskprov` binary against a real server: every API
//! operation has a command, with --help, table or JSON output, and a clear error that changes
//! nothing for bad input.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::helpers::*;

/// Every command an admin runs; each must answer --help.
const COMMANDS: &[&[&str]] = &[
    &["devices", "list"],
    &["devices", "add"],
    &["devices", "add-many"],
    &["devices", "show"],
    &["devices", "edit"],
    &["devices", "settings"],
    &["devices", "events"],
    &["devices", "set"],
    &["devices", "logout"],
    &["devices", "remove"],
    &["devices", "assign"],
    &["devices", "unassign"],
    &["devices", "reset-claim"],
    &["devices", "rekey"],
    &["devices", "credentials"],
    &["devices", "unregistered"],
    &["devices", "adopt"],
    &["devices", "forget"],
    &["users", "list"],
    &["users", "add"],
    &["users", "show"],
    &["users", "edit"],
    &["users", "lock"],
    &["users", "unlock"],
    &["users", "next-extension"],
    &["users", "logout"],
    &["users", "remove"],
    &["users", "sip-password"],
    &["settings", "show"],
    &["settings", "set"],
    &["settings", "choices"],
    &["profiles", "list"],
    &["profiles", "show"],
    &["profiles", "add"],
    &["profiles", "edit"],
    &["profiles", "remove"],
    &["models"],
    &["models", "settings"],
    &["models", "set"],
    &["templates", "list"],
    &["templates", "check"],
    &["templates", "reload"],
    &["export"],
    &["import"],
    &["imports"],
    &["openapi"],
    &["contacts", "list"],
    &["contacts", "show"],
    &["contacts", "add"],
    &["contacts", "edit"],
    &["contacts", "remove"],
    &["keys", "show"],
    &["keys", "set"],
    &["keys", "clear"],
    &["keys", "import"],
    &["keys", "export"],
    &["contacts", "import"],
    &["contacts", "export"],
    &["devices", "keys"],
    &["status"],
    &["tokens", "list"],
    &["tokens", "create"],
    &["tokens", "revoke"],
    &["tokens", "blocks"],
    &["tokens", "unblock"],
    &["audit"],
    &["bans", "list"],
    &["bans", "lift"],
    &["render"],
];

#[test]
fn every_command_has_help() {
    for command in COMMANDS {
        let output = Command::new(binary())
            .args(*command)
            .arg("--help")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "{command:?} --help failed");
        assert!(
            text.contains("Usage: deskprov") && text.lines().count() > 3,
            "{command:?}: {text}"
        );
    }
}

fn write_config(dir: &Path, templates: &Path) -> std::path::PathBuf {
    let config = dir.join("deskprov.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\ntemplates_dir = \"{}\"\n\n[users]\nextension_ranges = [\"500-502\"]\n",
            templates.display()
        ),
    )
    .unwrap();
    config
}

fn templates_check(config: &Path) -> (bool, String, String) {
    let output = Command::new(binary())
        .args(["--config", config.to_str().unwrap(), "templates", "check"])
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_administers_users_devices_profiles_templates_and_csv() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let templates = d.join("templates");
    std::fs::create_dir_all(templates.join("yealink")).unwrap();
    let shipped = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("phone-templates/yealink/desk.cfg.hbs"),
    )
    .unwrap();
    let desk = templates.join("yealink/desk.cfg.hbs");
    std::fs::write(&desk, format!("{shipped}## edition one\n")).unwrap();
    let config = write_config(d, &templates);
    let config_arg = config.to_str().unwrap().to_string();
    let server = BinaryServer::start(d, &["--config", &config_arg]);
    let admin = server.admin_addr;
    let run = |args: &[&str]| {
        let (code, out, err) = cli(d, admin, args);
        assert_eq!(code, 0, "deskprov {args:?} failed: {err}");
        out
    };
    let fails = |args: &[&str], says: &str| {
        let (code, _, err) = cli(d, admin, args);
        assert_ne!(code, 0, "deskprov {args:?} should fail");
        assert!(err.contains(says), "deskprov {args:?}: {err}");
    };
    let json = |args: &[&str]| -> Value {
        let mut with = vec!["--json"];
        with.extend_from_slice(args);
        serde_json::from_str(&run(&with)).unwrap()
    };

    // The server's own certificate, issued by its local CA, needs no attention.
    let status = run(&["status"]);
    assert!(!status.contains("warning"), "{status}");
    let certificates = json(&["status"])["certificates"].clone();
    assert_eq!(certificates[0]["origin"], "local_ca", "{status}");
    assert!(
        status.contains("server.crt") && status.contains("local_ca"),
        "{status}"
    );

    // Phonebook contacts and keys.
    run(&[
        "contacts",
        "add",
        "reception",
        "--display-name",
        "Reception",
        "--office",
        "+49 30 1234",
    ]);
    fails(
        &["contacts", "add", "bad", "--display-name", "Bad"],
        "at least one number",
    );
    run(&["contacts", "edit", "reception", "--mobile", "0171 5"]);
    let listed = run(&["contacts", "list"]);
    assert!(
        listed.contains("+49301234") && listed.contains("01715"),
        "{listed}"
    );
    run(&["contacts", "edit", "reception", "--mobile", ""]);
    assert_eq!(
        json(&["contacts", "show", "reception"])["mobile"],
        Value::Null
    );
    run(&["contacts", "remove", "reception"]);
    assert!(!run(&["contacts", "list"]).contains("reception"));
    let keys_file = d.join("keys.json");
    std::fs::write(
        &keys_file,
        r#"[{"position": 3, "type": "speed_dial", "value": "100", "label": "Desk"}]"#,
    )
    .unwrap();
    run(&["keys", "set", "site", "--file", keys_file.to_str().unwrap()]);
    assert!(run(&["keys", "show", "site"]).contains("speed_dial"));
    std::fs::write(&keys_file, r#"[{"position": 3, "type": "blf"}]"#).unwrap();
    fails(
        &["keys", "set", "site", "--file", keys_file.to_str().unwrap()],
        "needs a value",
    );
    fails(&["keys", "show", "profile"], "name the profile");
    run(&["keys", "clear", "site"]);
    assert_eq!(json(&["keys", "show", "site"]), serde_json::json!([]));

    // Contacts and keys as CSV: a dry run writes nothing, export and import, a refused row.
    let contacts_csv = d.join("contacts.csv");
    std::fs::write(
        &contacts_csv,
        "id,display_name,office\nbranch,\"Branch, Köln\",+49 221 1\ntokyo,東京支社,+81 3 1\n",
    )
    .unwrap();
    let path = contacts_csv.to_str().unwrap();
    let dry = run(&["contacts", "import", path, "--dry-run"]);
    assert!(
        dry.contains("2 created") && dry.contains("dry run"),
        "{dry}"
    );
    assert!(!run(&["contacts", "list"]).contains("branch"));
    let (code, out, err) = cli(d, admin, &["contacts", "import", path]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("2 created, 0 updated, 0 unchanged"), "{out}");
    let exported = d.join("contacts-export.csv");
    run(&["contacts", "export", exported.to_str().unwrap()]);
    let file = std::fs::read_to_string(&exported).unwrap();
    assert_eq!(
        file,
        "id,display_name,first_name,last_name,office,mobile,other\n\
         branch,\"Branch, Köln\",,,'+492211,,\n\
         tokyo,東京支社,,,'+8131,,\n"
    );
    assert_eq!(run(&["contacts", "export"]), file);
    std::fs::write(&contacts_csv, "id,mobile\nbranch,not-a-number\n").unwrap();
    let (code, out, _) = cli(d, admin, &["contacts", "import", path]);
    assert_ne!(code, 0);
    assert!(out.contains("ROW") && out.contains("mobile"), "{out}");
    let keys_csv = d.join("keys.csv");
    std::fs::write(
        &keys_csv,
        "layer,owner,position,type,value,label\nsite,,3,speed_dial,100,\"Desk, front\"\n",
    )
    .unwrap();
    let (code, out, err) = cli(d, admin, &["keys", "import", keys_csv.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("1 created"), "{out}");
    assert_eq!(
        run(&["keys", "export"]),
        "layer,owner,module,position,type,value,label,line\nsite,,,3,speed_dial,100,\"Desk, front\",1\n"
    );
    std::fs::write(
        &keys_csv,
        "layer,owner,position,type\nprofile,nobody,1,dnd\n",
    )
    .unwrap();
    let (code, out, _) = cli(d, admin, &["keys", "import", keys_csv.to_str().unwrap()]);
    assert_ne!(code, 0);
    assert!(out.contains("ROW") && out.contains("nobody"), "{out}");
    run(&["keys", "clear", "site"]);
    run(&["contacts", "remove", "branch"]);
    run(&["contacts", "remove", "tokyo"]);

    // Users: the next free extension of the configured range, names, language.
    assert!(run(&["users", "next-extension"]).contains("500"));
    let ada = json(&[
        "users",
        "add",
        "--first-name",
        "Ada",
        "--last-name",
        "Lovelace",
        "--language",
        "en",
    ]);
    crate::logs::remember_secret(ada["sip_password"].as_str().unwrap());
    assert_eq!(
        (ada["extension"].as_str(), ada["display_name"].as_str()),
        (Some("500"), Some("Ada Lovelace"))
    );
    let bob = json(&["users", "add", "501", "--name", "Bob"]);
    crate::logs::remember_secret(bob["sip_password"].as_str().unwrap());
    fails(
        &["users", "add", "501", "--name", "Again"],
        "already exists",
    );
    fails(
        &[
            "users",
            "add",
            "503",
            "--first-name",
            "X",
            "--language",
            "xx",
        ],
        "language",
    );
    let users = run(&["users", "list"]);
    assert!(
        users.contains("Ada Lovelace") && users.contains("FIRST_NAME"),
        "{users}"
    );
    run(&["users", "edit", "500", "--language", ""]);
    assert_eq!(json(&["users", "show", "500"])["language"], Value::Null);
    fails(&["users", "lock", "500", "599"], "599");
    assert_eq!(
        json(&["users", "show", "500"])["locked"],
        false,
        "nothing locked"
    );
    run(&["users", "lock", "500", "501"]);
    assert_eq!(json(&["users", "show", "501"])["locked"], true);
    run(&["users", "unlock", "500", "501"]);
    assert_eq!(json(&["users", "show", "501"])["locked"], false);

    // Profiles and model settings.
    run(&[
        "profiles",
        "add",
        "head-office",
        "--description",
        "Head office",
        "sip_server=hq.example.com",
        "time_zone=Europe/Berlin",
    ]);
    fails(&["profiles", "add", "head-office"], "already exists");
    fails(
        &["profiles", "add", "branch", "utc_offset=+01:00"],
        "site-wide",
    );
    assert!(run(&["profiles", "list"]).contains("Head office"));
    run(&["profiles", "edit", "head-office", "time_zone="]);
    assert_eq!(
        json(&["profiles", "show", "head-office"])["settings"],
        serde_json::json!({"sip_server": "hq.example.com"})
    );
    run(&["models", "set", "T46S", "language=de"]);
    assert_eq!(
        json(&["models", "settings", "t46s"])["settings"]["language"],
        "de"
    );
    fails(&["models", "set", "T99", "language=de"], "unknown model");
    run(&[
        "settings",
        "set",
        "ntp_server=ntp.example.com",
        "firmware_url=https://fw.example.com/",
    ]);
    assert!(run(&["settings", "choices"]).contains("Europe/Berlin"));
    fails(&["settings", "set", "time_zone=Mars/Olympus"], "time_zone");

    // Devices: many at once, filters, location and profile, effective settings.
    run(&[
        "devices",
        "add-many",
        "001565000001",
        "001565000002",
        "--model",
        "T46S",
        "--profile",
        "head-office",
        "--location",
        "Floor 2",
    ]);
    fails(
        &["devices", "add-many", "001565000003", "001565000001"],
        "already registered",
    );
    fails(
        &["devices", "add", "001565000004", "--profile", "nowhere"],
        "no settings profile",
    );
    assert!(
        json(&["devices", "list"]).as_array().unwrap().len() == 2,
        "nothing half-registered"
    );
    run(&["devices", "assign", "001565000001", "1", "500"]);
    let unassigned = json(&["devices", "list", "--unassigned"]);
    assert_eq!(unassigned.as_array().unwrap().len(), 1);
    assert_eq!(
        json(&[
            "devices",
            "list",
            "--profile",
            "head-office",
            "--location",
            "floor"
        ])
        .as_array()
        .unwrap()
        .len(),
        2
    );
    run(&[
        "devices",
        "set",
        "001565000001",
        "outbound_proxy=proxy.example.com:5070",
    ]);
    let effective = run(&["devices", "settings", "001565000001"]);
    for expected in [
        "profile head-office",
        "model T46S",
        "device",
        "default",
        "hq.example.com",
        "proxy.example.com:5070",
    ] {
        assert!(effective.contains(expected), "{expected}: {effective}");
    }
    run(&[
        "devices",
        "edit",
        "001565000002",
        "--location",
        "",
        "--profile",
        "",
    ]);
    assert_eq!(
        json(&["devices", "show", "001565000002"])["location"],
        Value::Null
    );
    fails(&["profiles", "remove", "head-office"], "devices use");

    // Templates: listed, checked offline, reloaded by command and by SIGHUP.
    assert!(run(&["templates", "list"]).contains("override"));
    let (ok, out, _) = templates_check(&config);
    assert!(ok && out.contains("1 from"), "{out}");
    let rendered = || run(&["render", "001565000001"]);
    assert!(rendered().contains("edition one"));
    std::fs::write(&desk, format!("{shipped}## edition two\n")).unwrap();
    run(&["templates", "reload"]);
    assert!(rendered().contains("edition two"));
    std::fs::write(&desk, format!("{shipped}## edition three\n")).unwrap();
    server.signal("HUP");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !rendered().contains("edition three") {
        assert!(
            std::time::Instant::now() < deadline,
            "SIGHUP did not reload"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    std::fs::write(&desk, "{{#each lines}}\n").unwrap();
    let (ok, _, err) = templates_check(&config);
    assert!(!ok && err.contains("desk.cfg.hbs"), "{err}");
    fails(&["templates", "reload"], "previous templates stay in use");
    assert!(rendered().contains("edition three"));

    // CSV: export, import back unchanged, a bad file changes nothing, progress on stderr.
    let users_csv = d.join("users.csv");
    run(&["export", "users", "--output", users_csv.to_str().unwrap()]);
    let exported = std::fs::read_to_string(&users_csv).unwrap();
    assert!(exported.starts_with("extension,first_name,last_name,display_name,email,language,sip_user,may_hotdesk,locked,phonebook_hidden\n"), "{exported}");
    let (code, out, err) = cli(d, admin, &["import", "users", users_csv.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("0 created, 0 updated, 2 unchanged"), "{out}");
    assert!(err.contains("2/2 rows checked"), "{err}");
    std::fs::write(
        &users_csv,
        format!("{exported}502,Carol,,,,,,,,\n5x3,Broken,,,,,,,,\n"),
    )
    .unwrap();
    let (code, out, _) = cli(d, admin, &["import", "users", users_csv.to_str().unwrap()]);
    assert_ne!(code, 0);
    assert!(
        out.contains("ROW") && out.contains("5x3") && out.contains("extension"),
        "{out}"
    );
    fails(&["users", "show", "502"], "no user");
    let (code, out, _) = cli(
        d,
        admin,
        &["import", "users", users_csv.to_str().unwrap(), "--dry-run"],
    );
    assert_ne!(code, 0, "{out}");
    let devices_csv = d.join("devices.csv");
    run(&[
        "export",
        "devices",
        "--output",
        devices_csv.to_str().unwrap(),
    ]);
    let (code, out, err) = cli(
        d,
        admin,
        &[
            "import",
            "devices",
            devices_csv.to_str().unwrap(),
            "--dry-run",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("2 unchanged") && out.contains("dry run"),
        "{out}"
    );
    assert!(run(&["imports"]).contains("checked"));

    // Removing several users at once frees their lines.
    fails(&["users", "remove", "500", "598", "--yes"], "598");
    run(&["users", "remove", "500", "501", "--yes"]);
    assert_eq!(
        json(&["devices", "show", "001565000001"])["lines"],
        serde_json::json!([])
    );

    let document: Value = serde_json::from_str(&run(&["openapi"])).unwrap();
    assert!(document["paths"]["/profiles/{name}"].is_object());
}
