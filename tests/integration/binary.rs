//! The real `deskprov` binary: first start, the CLI, signals, crash durability, logs.

use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use deskprov::client::Client;
use http::StatusCode;
use serde_json::Value;

use crate::helpers::*;
use crate::kv;

/// A client for one of the server's listeners, trusting the certificate it generated in `dir`.
pub(crate) fn client(dir: &std::path::Path, address: std::net::SocketAddr) -> Client {
    Client::trusting_file(address, "localhost", &dir.join("certs/server.crt")).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_start_cli_and_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let config = d.join("deskprov.toml");
    // The file sets listeners that flags override, and a setting flags do not touch.
    std::fs::write(
        &config,
        "[server]\nphone_listen = \"127.0.0.1:1\"\n[provisioning]\nclaim_window_secs = 600\n",
    )
    .unwrap();
    let mut server = BinaryServer::start(d, &["--config", config.to_str().unwrap()]);

    // Embedded defaults on an empty directory: a self-signed certificate and a private token.
    assert!(d.join("certs/server.crt").exists());
    assert_eq!(
        std::fs::metadata(d.join("certs/server.key"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
    assert_eq!(
        std::fs::metadata(d.join("data/admin.token"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
    let token = admin_token_in(d);
    assert!(server.log().contains("admin.token"));

    let admin = server.admin_addr;
    let run = |args: &[&str]| {
        let (code, out, err) = cli(d, admin, args);
        assert_eq!(code, 0, "deskprov {args:?} failed: {err}");
        out
    };
    run(&[
        "settings",
        "set",
        "sip_server=pbx.example.com",
        "sip_transport=tls",
    ]);
    let created = run(&["--json", "users", "add", "1001", "--name", "Alice Example"]);
    let sip_password = serde_json::from_str::<Value>(&created).unwrap()["sip_password"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(sip_password.len() >= 16);
    run(&[
        "devices",
        "add",
        "00-15-65-AA-BB-CC",
        "--label",
        "Reception",
    ]);
    run(&["devices", "assign", "00:15:65:aa:bb:cc", "1", "1001"]);
    let table = run(&["devices", "list"]);
    assert!(
        table.contains("001565aabbcc") && table.contains("Reception") && table.contains("1:1001"),
        "{table}"
    );
    let shown: Value =
        serde_json::from_str(&run(&["--json", "devices", "show", "001565aabbcc"])).unwrap();
    assert!(shown["claim_open_until"].is_string());

    // CLI errors are clear and exit non-zero.
    let (code, _, err) = cli(d, admin, &["devices", "add", "00:15:65:aa:bb"]);
    assert_ne!(code, 0);
    assert!(err.contains("invalid MAC address"), "{err}");
    let (code, _, err) = cli(d, admin, &["users", "add", "1001", "--name", "Dup"]);
    assert_ne!(code, 0);
    assert!(err.contains("already exists"), "{err}");

    // `deskprov render` prints exactly what the phone gets (after its first request filled in
    // the model, which the config names).
    let phone = client(d, server.phone_addr);
    let fetched = phone
        .get("/001565aabbcc.cfg", &[("user-agent", T46S_UA)])
        .await
        .unwrap();
    assert_eq!(fetched.status, StatusCode::OK);
    let rendered = run(&["render", "001565aabbcc"]);
    assert_eq!(rendered, fetched.text());
    let common = phone
        .get("/y000000000066.cfg", &[("user-agent", T46S_UA)])
        .await
        .unwrap();
    let host = format!("localhost:{}", server.phone_addr.port());
    let rendered_common = run(&[
        "render",
        "001565aabbcc",
        "--file",
        "y000000000066.cfg",
        "--host",
        &host,
    ]);
    assert_eq!(rendered_common, common.text());
    let keys = kv::parse(&fetched.text()).unwrap();
    assert_eq!(keys["account.1.password"], sip_password);
    let credentials: Value =
        serde_json::from_str(&run(&["--json", "devices", "credentials", "001565aabbcc"])).unwrap();
    let provisioning_password = credentials["password"].as_str().unwrap().to_string();

    // An unknown phone knocks and is adopted with one command.
    phone
        .get(
            "/y000000000096.cfg",
            &[(
                "user-agent",
                "Yealink SIP-T54W 96.86.0.100 00:15:65:12:34:56",
            )],
        )
        .await
        .unwrap();
    // One of a model the table lacks is listed as unsupported (docs/recognition.md).
    phone
        .get(
            "/y000000000099.cfg",
            &[("user-agent", "Yealink SIP-T99X 99.86.0.1 00:15:65:12:34:99")],
        )
        .await
        .unwrap();
    // The list is written off the request path: asked again (bounded) until both are there.
    let deadline = Instant::now() + Duration::from_secs(10);
    let unregistered = loop {
        let listed = run(&["devices", "unregistered"]);
        let both = listed.contains("001565123456") && listed.contains("001565123499");
        if both || Instant::now() > deadline {
            break listed;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let row = |mac: &str| {
        unregistered
            .lines()
            .find(|l| l.starts_with(mac))
            .unwrap_or_else(|| panic!("{mac} not in {unregistered}"))
            .split_whitespace()
            .take(4)
            .collect::<Vec<_>>()
    };
    assert!(unregistered.starts_with("MAC") && unregistered.contains("SUPPORTED"));
    assert_eq!(
        row("001565123456"),
        ["001565123456", "yealink", "T54W", "true"]
    );
    assert_eq!(
        row("001565123499"),
        ["001565123499", "yealink", "T99X", "false"]
    );
    run(&["devices", "adopt", "001565123456"]);
    assert!(run(&["devices", "show", "001565123456"]).contains("T54W"));

    // The token also comes from DESKPROV_TOKEN; a wrong one is refused.
    let out = std::process::Command::new(binary())
        .args([
            "--data",
            "/nonexistent",
            "--certs",
            d.join("certs").to_str().unwrap(),
            "--admin-listen",
            &admin.to_string(),
            "users",
            "list",
        ])
        .env("DESKPROV_TOKEN", &token)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = std::process::Command::new(binary())
        .args([
            "--data",
            d.join("data").to_str().unwrap(),
            "--certs",
            d.join("certs").to_str().unwrap(),
            "--admin-listen",
            &admin.to_string(),
            "users",
            "list",
        ])
        .env("DESKPROV_TOKEN", "wrong")
        .output()
        .unwrap();
    assert!(!out.status.success());

    // Hot-desking from the CLI: a user with a generated PIN logs in at a hot-desk phone.
    let bob: Value = serde_json::from_str(&run(&[
        "--json",
        "users",
        "add",
        "1002",
        "--name",
        "Bob Example",
        "--generate-pin",
    ]))
    .unwrap();
    let pin = bob["pin"].as_str().unwrap().to_string();
    run(&[
        "devices",
        "add",
        "00:15:65:aa:bb:dd",
        "--model",
        "T54W",
        "--hotdesk",
    ]);
    let hotdesk_ua = "Yealink SIP-T54W 96.86.0.100 00:15:65:aa:bb:dd";
    let logged_out = phone
        .get("/001565aabbdd.cfg", &[("user-agent", hotdesk_ua)])
        .await
        .unwrap()
        .text();
    let login_url = kv::parse(&logged_out).unwrap()["programablekey.1.value"].clone();
    let login_path = &login_url[login_url.find("/hotdesk/").unwrap()..];
    let login_token = login_path.split('/').nth(2).unwrap().to_string();
    let wrong = phone
        .get(
            &format!("{login_path}?ext=1002&pin=000111"),
            &[("user-agent", hotdesk_ua)],
        )
        .await
        .unwrap();
    assert!(wrong.text().contains("Wrong PIN"), "{}", wrong.text());
    let welcome = phone
        .get(
            &format!("{login_path}?ext=1002&pin={pin}"),
            &[("user-agent", hotdesk_ua)],
        )
        .await
        .unwrap();
    assert!(
        welcome.text().contains("Welcome, Bob Example"),
        "{}",
        welcome.text()
    );
    let shown: Value = serde_json::from_str(&run(&["--json", "users", "show", "1002"])).unwrap();
    assert_eq!(shown["logged_in_at"]["mac"], "001565aabbdd");
    run(&["users", "unlock", "1002"]);
    run(&["devices", "logout", "001565aabbdd"]);
    let (code, _, err) = cli(d, admin, &["devices", "logout", "001565aabbdd"]);
    assert_ne!(code, 0);
    assert!(err.contains("nobody is logged in"), "{err}");
    let (code, _, err) = cli(d, admin, &["users", "edit", "1002", "--pin", "123456"]);
    assert_ne!(code, 0);
    assert!(err.contains("pin:"), "{err}");

    // Graceful stop on SIGTERM.
    server.signal("TERM");
    assert_eq!(server.wait(Duration::from_secs(15)), Some(0));
    let log = server.log();
    assert!(log.contains("all connections closed"), "{log}");

    // No secret in any log line (and none in any log of the run: tests/scan-logs.sh).
    for secret in [
        &sip_password,
        &provisioning_password,
        &token,
        &pin,
        &login_token,
    ] {
        crate::logs::remember_secret(secret);
    }
    for (what, secret) in [
        ("SIP password", &sip_password),
        ("provisioning password", &provisioning_password),
        ("admin token", &token),
        ("hot-desk PIN", &pin),
        ("login token", &login_token),
    ] {
        let leaks: Vec<&str> = log
            .lines()
            .filter(|l| l.contains(secret.as_str()))
            .collect();
        assert!(
            leaks.is_empty(),
            "the {what} appears in {} log lines, e.g. (redacted): {}",
            leaks.len(),
            leaks[0].replace(secret.as_str(), "<SECRET>")
        );
    }
    assert!(
        !log.to_lowercase().contains("authorization: "),
        "an Authorization header appears in the log"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_manages_tokens_bans_and_the_audit_trail() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let server = BinaryServer::start(d, &[]);
    let admin = server.admin_addr;
    let run = |args: &[&str]| {
        let (code, out, err) = cli(d, admin, args);
        assert_eq!(code, 0, "deskprov {args:?} failed: {err}");
        out
    };

    // Tokens: created (shown once), listed without the secret, usable, revoked.
    let created: Value =
        serde_json::from_str(&run(&["--json", "tokens", "create", "nightly-sync"])).unwrap();
    let token = created["token"].as_str().unwrap().to_string();
    crate::logs::remember_secret(&token);
    let listed = run(&["tokens", "list"]);
    assert!(
        listed.contains("nightly-sync") && listed.contains("initial"),
        "{listed}"
    );
    assert!(!listed.contains(&token));
    let with_new_token = std::process::Command::new(binary())
        .args(["--data", &d.join("data").display().to_string()])
        .args(["--certs", &d.join("certs").display().to_string()])
        .args(["--admin-listen", &admin.to_string(), "devices", "list"])
        .env("DESKPROV_TOKEN", &token)
        .output()
        .unwrap();
    assert!(with_new_token.status.success());
    run(&["tokens", "revoke", "nightly-sync"]);
    assert!(!run(&["tokens", "list"]).contains("nightly-sync"));
    let (code, _, err) = cli(d, admin, &["tokens", "revoke", "initial"]);
    assert_ne!(code, 0);
    assert!(err.contains("last owner token"), "{err}");

    // A helpdesk token, with an expiry: listed with both; refused what its role may not do.
    let helpdesk: Value = serde_json::from_str(&run(&[
        "--json",
        "tokens",
        "create",
        "desk",
        "--role",
        "helpdesk",
        "--expires",
        "2099-01-01T00:00:00Z",
    ]))
    .unwrap();
    assert_eq!(helpdesk["role"], "helpdesk");
    let helpdesk_token = helpdesk["token"].as_str().unwrap().to_string();
    crate::logs::remember_secret(&helpdesk_token);
    let row = run(&["tokens", "list"])
        .lines()
        .find(|l| l.contains("desk") && !l.contains("nightly"))
        .unwrap()
        .to_string();
    assert!(
        row.contains("helpdesk") && row.contains("2099-01-01T00:00:00Z"),
        "{row}"
    );
    let as_helpdesk = std::process::Command::new(binary())
        .args(["--data", &d.join("data").display().to_string()])
        .args(["--certs", &d.join("certs").display().to_string()])
        .args(["--admin-listen", &admin.to_string(), "tokens", "list"])
        .env("DESKPROV_TOKEN", &helpdesk_token)
        .output()
        .unwrap();
    assert!(!as_helpdesk.status.success());
    let err = String::from_utf8_lossy(&as_helpdesk.stderr);
    assert!(
        err.contains("a token of role helpdesk may not list admin tokens"),
        "{err}"
    );
    let (code, _, err) = cli(
        d,
        admin,
        &["tokens", "create", "x", "--role", "readonly", "--local"],
    );
    assert_ne!(code, 0);
    assert!(err.contains("--local makes owner tokens only"), "{err}");

    // Certificate-required devices need a vendor CA first.
    let (code, _, err) = cli(
        d,
        admin,
        &["devices", "add", "d0ec35000a0a", "--certificate-required"],
    );
    assert_ne!(code, 0);
    assert!(err.contains("vendor-ca"), "{err}");

    // A sweep from this address shows up in bans and the audit trail; lifting clears it.
    let phone = client(d, server.phone_addr);
    for i in 0..11 {
        let _ = phone.get(&format!("/001565{i:06x}.cfg"), &[]).await;
    }
    let bans = run(&["bans", "list"]);
    assert!(
        bans.contains("127.0.0.1") && bans.contains("true"),
        "{bans}"
    );
    let audit: Value =
        serde_json::from_str(&run(&["--json", "audit", "--kind", "source_banned"])).unwrap();
    assert_eq!(audit[0]["source"], "127.0.0.1");
    let changes = run(&["audit", "--kind", "admin_change", "--limit", "5"]);
    assert!(changes.contains("nightly-sync"), "{changes}");
    assert!(changes.contains("token created"), "{changes}");
    run(&["bans", "lift", "127.0.0.1"]);
    assert!(!run(&["bans", "list"]).contains("127.0.0.1"));

    // Wrong admin tokens block an address; the CLI lists and lifts the block.
    let wrong = client(d, admin);
    for _ in 0..12 {
        let _ = wrong
            .get(
                "/api/v1/devices",
                &[("authorization", "Bearer not-a-token")],
            )
            .await;
    }
    let blocks: Value = serde_json::from_str(&run(&["--json", "tokens", "blocks"])).unwrap();
    assert_eq!(blocks[0]["source"], "127.0.0.1", "{blocks}");
    assert_eq!(blocks[0]["blocked"], true);
    run(&["tokens", "unblock", "127.0.0.1"]);
    assert_eq!(run(&["--json", "tokens", "blocks"]).trim(), "[]");
    let (code, _, err) = cli(d, admin, &["audit", "--kind", "nonsense"]);
    assert_ne!(code, 0);
    assert!(err.contains("unknown kind"), "{err}");
}

/// `log_format = "json"`: every line one JSON object with the documented fields.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_are_one_object_per_line_with_stable_fields() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let config = d.join("deskprov.toml");
    std::fs::write(&config, "[server]\nlog_format = \"json\"\n").unwrap();
    let server = BinaryServer::start(d, &["--config", config.to_str().unwrap()]);
    let phone = client(d, server.phone_addr);
    let reply = phone
        .get("/y000000000066.cfg", &[("user-agent", T46S_UA)])
        .await
        .unwrap();
    assert_eq!(reply.status, StatusCode::OK);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !server.log().contains("phone request") {
        assert!(
            Instant::now() < deadline,
            "no request logged:\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let log = server.log();
    let mut served = None;
    for line in log.lines() {
        let object: Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("not one JSON object ({e}): {line}"));
        let timestamp = object["timestamp"].as_str().unwrap();
        time::OffsetDateTime::parse(timestamp, &time::format_description::well_known::Rfc3339)
            .unwrap_or_else(|e| panic!("timestamp {timestamp}: {e}"));
        assert!(
            ["TRACE", "DEBUG", "INFO", "WARN", "ERROR"]
                .contains(&object["level"].as_str().unwrap()),
            "{line}"
        );
        assert!(
            object["target"].as_str().is_some_and(|t| !t.is_empty()),
            "{line}"
        );
        assert!(
            object.get("spans").is_none() && object.get("span").is_none(),
            "{line}"
        );
        assert!(object["fields"]["message"].is_string(), "{line}");
        if object["fields"]["message"] == "phone request" {
            served = Some(object);
        }
    }
    let served = served.expect("the request is logged");
    assert_eq!(served["fields"]["path"], "/y000000000066.cfg");
    assert_eq!(served["fields"]["status"], 200);
    assert_eq!(served["fields"]["peer"], "127.0.0.1");
    assert_eq!(served["target"], "deskprov::provision");
}

#[test]
fn broken_template_stops_start_up_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let overrides = d.join("templates/yealink");
    std::fs::create_dir_all(&overrides).unwrap();
    std::fs::write(
        overrides.join("desk.cfg.hbs"),
        "#!version:1.0.0.1\nx = 1\n{{#each lines}}\naccount = {{index}\n",
    )
    .unwrap();
    let config = d.join("deskprov.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\ntemplates_dir = \"{}\"\n",
            d.join("templates").display()
        ),
    )
    .unwrap();
    let output = std::process::Command::new(binary())
        .args([
            "serve",
            "--config",
            config.to_str().unwrap(),
            "--data",
            d.join("data").to_str().unwrap(),
            "--certs",
            d.join("certs").to_str().unwrap(),
        ])
        .args([
            "--phone-listen",
            "127.0.0.1:0",
            "--admin-listen",
            "127.0.0.1:0",
        ])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("desk.cfg.hbs"), "{stderr}");
    assert!(stderr.contains("line 4"), "{stderr}");
}

#[test]
fn bad_config_file_is_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("deskprov.toml");
    std::fs::write(&config, "[server]\nphone_lisen = \"0.0.0.0:8443\"\n").unwrap();
    let output = std::process::Command::new(binary())
        .args(["serve", "--config", config.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("phone_lisen"));
}

/// A lost or revoked last token is no dead end: on the server's machine, `tokens create
/// --local` makes a new one, with the server stopped (in its data directory) and running
/// (through its control socket).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_create_local_works_with_the_server_stopped_and_running() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let works = |admin: std::net::SocketAddr, token: &str| {
        let out = std::process::Command::new(binary())
            .args(["--data", &d.join("data").display().to_string()])
            .args(["--certs", &d.join("certs").display().to_string()])
            .args(["--admin-listen", &admin.to_string(), "devices", "list"])
            .env("DESKPROV_TOKEN", token)
            .output()
            .unwrap();
        out.status.success()
    };
    let created = |admin, name: &str| {
        let (code, out, err) = cli(d, admin, &["--json", "tokens", "create", "--local", name]);
        assert_eq!(code, 0, "tokens create --local {name}: {err}");
        let answer: Value = serde_json::from_str(&out).unwrap();
        let token = answer["token"].as_str().unwrap().to_string();
        crate::logs::remember_secret(&token);
        token
    };
    // A first start makes the data directory; then the server is stopped.
    let mut server = BinaryServer::start(d, &[]);
    let admin = server.admin_addr;
    server.signal("TERM");
    assert_eq!(server.wait(Duration::from_secs(10)), Some(0));
    let offline = created(admin, "rescue-offline");

    let server = BinaryServer::start(d, &[]);
    assert!(works(server.admin_addr, &offline), "made while stopped");
    let online = created(server.admin_addr, "rescue-online");
    assert!(works(server.admin_addr, &online), "made while running");
    let (code, _, err) = cli(
        d,
        server.admin_addr,
        &["tokens", "create", "--local", "rescue-online"],
    );
    assert_ne!(code, 0);
    assert!(err.contains("exists"), "{err}");
    let audit = server.log();
    assert!(!audit.contains(&online) && !audit.contains(&offline));
}

/// The Debian package's man pages (`deskprov man DIR`): one per command, each with a NAME line
/// whatis can read (described even where the command has no doc comment), the subcommands
/// they refer to among them, and none for the hidden `man` itself.
#[test]
fn man_writes_a_described_page_for_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(binary())
        .args(["man", dir.path().to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "deskprov man: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let page = |name: &str| {
        std::fs::read_to_string(dir.path().join(format!("{name}.1")))
            .unwrap_or_else(|e| panic!("{name}.1: {e}"))
    };
    let main = page("deskprov");
    assert!(main.contains(".TH deskprov 1"), "{main}");
    assert!(main.contains("deskprov\\-serve(1)"), "{main}");
    assert!(!main.contains("deskprov\\-man"), "{main}");
    assert!(page("deskprov-devices-add").contains("\\-\\-label"));
    let undocumented = page("deskprov-users-list");
    assert!(
        undocumented.contains("deskprov\\-users\\-list \\- deskprov users list"),
        "{undocumented}"
    );
    let pages: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(pages.len() > 50, "{} pages", pages.len());
    for entry in pages {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let name_line = text.lines().skip_while(|l| *l != ".SH NAME").nth(1);
        assert!(
            name_line.is_some_and(|l| l.contains(" \\- ")),
            "{}: NAME line {name_line:?}",
            path.display()
        );
    }
}
