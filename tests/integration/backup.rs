//! Backup and restore: `deskprov backup` through the running server, `deskprov restore` into an
//! empty data directory; the restored site serves every phone the same bytes and holds the same
//! records in every sled tree; altered, truncated and wrongly decrypted files restore nothing;
//! a backup taken during 1,000 concurrent admin writes is one consistent revision.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use deskprov::client::Client;
use deskprov::startup;
use http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::api::{AuditFilter, NewDevice, NewUser};
use crate::helpers::{TestServer, basic, cli, test_config};

/// (User-Agent, MAC, the device's own files): phones of four vendors.
const PHONES: &[(&str, &str, &[&str])] = &[
    (
        "Yealink SIP-T54W 96.86.0.100 00:15:65:aa:bb:01",
        "001565aabb01",
        &["/001565aabb01.cfg", "/phonebook/001565aabb01.xml"],
    ),
    (
        "FileTransport PolycomVVX-VVX_450-UA/6.4.6.2648 Type/Application",
        "64167faabb03",
        &["/64167faabb03-deskprov.cfg", "/64167faabb03-app.log"],
    ),
    (
        "Cisco-CP-8851-3PCC/11.3.7 (d0ec35aabb04)",
        "d0ec35aabb04",
        &["/cisco-d0ec35aabb04.xml"],
    ),
    (
        "Mozilla/4.0 (compatible; snomD785-SIP 10.1.73.16 2010.12-00004-g9ba52f5 000413AABB05 SXM:0 UXM:0)",
        "000413aabb05",
        &["/snomD785-000413AABB05.htm"],
    ),
];

const PASSPHRASE: &str = "a-long-backup-passphrase";

/// A site with something of every kind of record.
/// Where phones reach the site, the same before and after a restore (a base URL taken from
/// the Host header would carry each server's port).
const PUBLIC_URL: &str = "https://prov.example.com/";

async fn site() -> TestServer {
    let server = TestServer::start_with(|c| c.server.public_url = Some(PUBLIC_URL.into())).await;
    let_the_cli_trust(&server);
    server.seed_desk_phone().await;
    let api = server.admin_api();
    api.create_user(NewUser::new("1003", "Carol Example").generate_pin())
        .ok()
        .await;
    api.create_profile(json!({"name": "branch", "settings": {"language": "de"}}))
        .ok()
        .await;
    api.patch_model_settings("T54W", json!({"language": "fr"}))
        .ok()
        .await;
    api.set_keys(
        "settings",
        None,
        json!([{"position": 2, "type": "blf", "value": "1002"}]),
    )
    .ok()
    .await;
    api.set_keys(
        "models",
        Some("T54W"),
        json!([{"position": 3, "type": "voicemail"}]),
    )
    .ok()
    .await;
    api.create_contact(json!({"id": "reception", "display_name": "Reception", "office": "100"}))
        .ok()
        .await;
    api.create_token_with("helper", "helpdesk", false, None)
        .ok()
        .await;
    for (index, (_, mac, _)) in PHONES.iter().enumerate() {
        api.create_device(NewDevice::new(mac).profile("branch"))
            .ok()
            .await;
        api.assign(mac, 1, ["1001", "1002", "1003", "1001"][index])
            .ok()
            .await;
    }
    api.create_device(NewDevice::new("001565aabb09").model("T46S").hotdesk())
        .ok()
        .await;
    let (user, password) = server.credentials("64167faabb03").await;
    let auth = basic(&user, &password);
    let headers = [("user-agent", PHONES[1].0), ("authorization", &auth)];
    let put = server
        .phone
        .send(
            Method::PUT,
            "/64167faabb03-app.log",
            &headers,
            Some(b"boot ok\n".to_vec()),
        )
        .await
        .unwrap();
    assert_eq!(put.status, StatusCode::NO_CONTENT);
    server
}

/// The CLI trusts the certificates in `certs/server.crt`: the test CA's with the server's own.
pub(crate) fn let_the_cli_trust(server: &TestServer) {
    use std::io::Write;
    let path = server.dir.path().join("certs/server.crt");
    let mut file = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    file.write_all(crate::helpers::test_ca().pem.as_bytes())
        .unwrap();
}

/// Every phone's own files as it gets them with its credentials.
async fn files(server: &TestServer, phone: &Client) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    for (user_agent, mac, paths) in PHONES {
        let (user, password) = server.credentials(mac).await;
        let auth = basic(&user, &password);
        crate::logs::remember_authorization(&auth);
        for path in *paths {
            let headers = [
                ("user-agent", *user_agent),
                ("authorization", auth.as_str()),
            ];
            let reply = phone.get(path, &headers).await.unwrap();
            assert_eq!(reply.status, StatusCode::OK, "{path}");
            files.push((path.to_string(), reply.body.to_vec()));
        }
    }
    files
}

fn data(dir: &Path) -> PathBuf {
    dir.join("data")
}

/// `deskprov restore FILE` into `dir`/data; (exit code, standard error).
fn restore(dir: &Path, file: &Path, extra: &[&str]) -> (i32, String) {
    let unused = "127.0.0.1:9".parse().unwrap();
    let mut args = vec!["restore", file.to_str().unwrap()];
    args.extend_from_slice(extra);
    let (code, _, err) = cli(dir, unused, &args);
    (code, err)
}

fn backup(server: &TestServer, file: &Path, extra: &[&str]) -> (i32, String) {
    let mut args = vec!["backup", file.to_str().unwrap()];
    args.extend_from_slice(extra);
    let (code, _, err) = cli(server.dir.path(), server.running().admin_addr, &args);
    (code, err)
}

/// Every sled tree's (key, value) pairs; a tree that is absent counts as empty. Audit records
/// of `skip_kind` are left out (the backup's own record, written after it was taken).
/// Each tree's (key, value) pairs by its name.
type Trees = BTreeMap<String, Vec<(Vec<u8>, Vec<u8>)>>;

fn trees(db: &Path, skip_kind: &str) -> Trees {
    let db = sled::open(db).unwrap();
    let mut trees = BTreeMap::new();
    for name in db.tree_names() {
        let tree = db.open_tree(&name).unwrap();
        let pairs: Vec<_> = tree
            .iter()
            .map(|entry| entry.unwrap())
            .filter(|(_, value)| {
                let record: Value = serde_json::from_slice(value).unwrap_or_default();
                record["kind"] != skip_kind
            })
            .map(|(key, value)| (key.to_vec(), value.to_vec()))
            .collect();
        if !pairs.is_empty() {
            trees.insert(String::from_utf8_lossy(&name).into_owned(), pairs);
        }
    }
    trees
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restored_site_serves_every_phone_the_same_bytes_and_holds_every_record() {
    let mut server = site().await;
    let before = files(&server, &server.phone).await;
    let file = server.dir.path().join("site.backup");
    let (code, err) = backup(&server, &file, &[]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("6 devices"), "{err}");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let taken = server
        .admin_api()
        .list_audit(AuditFilter::kind("backup_taken"))
        .ok()
        .await;
    let detail = taken[0]["detail"].as_str().unwrap();
    assert!(
        detail.contains("device=6") && detail.contains("user=3"),
        "{detail}"
    );
    // A second backup never overwrites the first.
    let (code, err) = backup(&server, &file, &[]);
    assert_ne!(code, 0);
    assert!(err.contains("exists"), "{err}");
    server.stop().await;

    let restored = tempfile::tempdir().unwrap();
    let (code, err) = restore(restored.path(), &file, &[]);
    assert_eq!(code, 0, "{err}");
    let original = trees(&data(server.dir.path()).join("db"), "backup_taken");
    for filled in [
        "devices",
        "users",
        "profiles",
        "model_settings",
        "key_layers",
        "contacts",
        "tokens",
        "accounts",
        "uploads",
        "login_tokens",
        "audit",
        "meta",
    ] {
        assert!(original.contains_key(filled), "the site has no {filled}");
    }
    assert_eq!(
        trees(&data(restored.path()).join("db"), ""),
        trees(&data(server.dir.path()).join("db"), "backup_taken"),
        "a tree differs after the round trip"
    );

    let mut config = test_config(restored.path());
    config.server.certs_dir = server.dir.path().join("certs");
    config.server.public_url = Some(PUBLIC_URL.into());
    let running = startup::start(config, server.clock.clone()).await.unwrap();
    let phone = Client::new(
        running.phone_addr,
        "localhost",
        std::slice::from_ref(&server.ca),
    )
    .unwrap();
    let admin = Client::new(
        running.admin_addr,
        "localhost",
        std::slice::from_ref(&server.ca),
    )
    .unwrap();
    let mut restarted = TestServer {
        dir: tempfile::tempdir().unwrap(),
        running: Some(running),
        clock: server.clock.clone(),
        phone,
        admin,
        ca: server.ca.clone(),
        token: server.token.clone(),
    };
    let after = files(&restarted, &restarted.phone).await;
    for ((path, was), (_, is)) in before.iter().zip(&after) {
        assert!(
            was == is,
            "{path} differs after the restore:\n{}\n----\n{}",
            String::from_utf8_lossy(was),
            String::from_utf8_lossy(is)
        );
    }
    assert_eq!(before.len(), after.len());
    restarted.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn altered_truncated_or_wrongly_decrypted_backups_restore_nothing() {
    let server = site().await;
    let dir = server.dir.path();
    let plain = dir.join("plain.backup");
    assert_eq!(backup(&server, &plain, &[]).0, 0);
    let passphrase = dir.join("passphrase");
    std::fs::write(&passphrase, format!("{PASSPHRASE}\n")).unwrap();
    crate::logs::remember_secret(PASSPHRASE);
    let sealed = dir.join("sealed.backup");
    let with_passphrase = ["--passphrase-file", passphrase.to_str().unwrap()];
    let (code, err) = backup(&server, &sealed, &with_passphrase);
    assert_eq!(code, 0, "{err}");
    let short = dir.join("short");
    std::fs::write(&short, "too short\n").unwrap();
    let (code, err) = backup(
        &server,
        &dir.join("x"),
        &["--passphrase-file", short.to_str().unwrap()],
    );
    assert!(code != 0 && err.contains("at least 12"), "{err}");
    assert!(!dir.join("x").exists());

    let bytes = std::fs::read(&plain).unwrap();
    let mut altered = bytes.clone();
    altered[bytes.len() / 2] ^= 0x20;
    let wrong = dir.join("wrong");
    std::fs::write(&wrong, "another passphrase, wrong\n").unwrap();
    let cases: Vec<(&str, Vec<u8>, Vec<&str>, &str)> = vec![
        (
            "truncated",
            bytes[..bytes.len() / 2].to_vec(),
            vec![],
            "truncated",
        ),
        ("altered", altered, vec![], "nothing was restored"),
        (
            "wrong passphrase",
            std::fs::read(&sealed).unwrap(),
            vec!["--passphrase-file", wrong.to_str().unwrap()],
            "passphrase is wrong",
        ),
        (
            "no passphrase",
            std::fs::read(&sealed).unwrap(),
            vec![],
            "encrypted",
        ),
    ];
    for (case, content, args, message) in cases {
        let target = tempfile::tempdir().unwrap();
        let file = target.path().join("given.backup");
        std::fs::write(&file, content).unwrap();
        let (code, err) = restore(target.path(), &file, &args);
        assert_ne!(code, 0, "{case} restored");
        assert!(err.contains(message), "{case}: {err}");
        assert!(
            !data(target.path()).join("db").exists(),
            "{case} left a store"
        );
    }

    let target = tempfile::tempdir().unwrap();
    let (code, err) = restore(target.path(), &sealed, &with_passphrase);
    assert_eq!(code, 0, "{err}");
    let store = deskprov::store::Store::open(&data(target.path()).join("db")).unwrap();
    assert_eq!(store.devices().await.unwrap().len(), 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_refuses_a_store_that_is_not_empty_and_backup_needs_an_owner() {
    let server = site().await;
    let file = server.dir.path().join("site.backup");
    assert_eq!(backup(&server, &file, &[]).0, 0);
    // Into the running server's own data directory.
    let (code, err) = restore(server.dir.path(), &file, &[]);
    assert_ne!(code, 0);
    assert!(err.contains("holds a store already"), "{err}");
    let api = server.admin_api();
    assert_eq!(api.list_devices().ok().await.as_array().unwrap().len(), 6);

    let admin = api
        .create_token_with("second", "admin", true, None)
        .ok()
        .await;
    let token = admin["token"].as_str().unwrap();
    crate::logs::remember_secret(token);
    let refused = crate::api::AdminApi::new(&server.admin, token)
        .take_backup()
        .send()
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.text().contains("owner"), "{}", refused.text());
    let taken = api.list_audit(AuditFilter::kind("backup_taken")).ok().await;
    assert_eq!(taken.as_array().unwrap().len(), 1);
}

const WRITES: usize = 1000;

fn pair(index: usize) -> [String; 2] {
    [0, 1].map(|half| format!("0015651{:05x}", index * 2 + half))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_during_1000_concurrent_writes_is_one_revision() {
    let server = TestServer::start_with(|c| c.limits.max_admin_connections_per_source = 64).await;
    let_the_cli_trust(&server);
    let server = Arc::new(server);
    let acknowledged: Arc<Mutex<BTreeMap<usize, Instant>>> = Arc::default();
    let mut writers = tokio::task::JoinSet::new();
    let slots = Arc::new(tokio::sync::Semaphore::new(16));
    for index in 0..WRITES {
        let (server, acknowledged, slots) = (server.clone(), acknowledged.clone(), slots.clone());
        writers.spawn(async move {
            let _slot = slots.acquire().await.unwrap();
            let [a, b] = pair(index);
            let devices = json!({"devices": [{"mac": a}, {"mac": b}]});
            server.admin_api().create_devices(devices).ok().await;
            acknowledged.lock().unwrap().insert(index, Instant::now());
        });
    }
    while acknowledged.lock().unwrap().len() < WRITES / 4 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let file = server.dir.path().join("busy.backup");
    let sent = Instant::now();
    let taker = server.clone();
    let path = file.clone();
    let (code, err) = tokio::task::spawn_blocking(move || backup(&taker, &path, &[]))
        .await
        .unwrap();
    assert_eq!(code, 0, "{err}");
    while writers.join_next().await.is_some() {}

    let bytes = std::fs::read(&file).unwrap();
    let header = deskprov::backup::format::decode(&bytes).unwrap().header;
    let target = tempfile::tempdir().unwrap();
    let (code, err) = restore(target.path(), &file, &[]);
    assert_eq!(code, 0, "{err}");
    let store = deskprov::store::Store::open(&data(target.path()).join("db")).unwrap();
    let macs: BTreeSet<String> = store
        .devices()
        .await
        .unwrap()
        .iter()
        .map(|d| d.mac.to_hex())
        .collect();
    let (audit, _) = store.audit(None, 100_000, &|_| true).await.unwrap();
    let recorded: BTreeSet<String> = audit.iter().filter_map(|r| r.subject.clone()).collect();

    let acknowledged = acknowledged.lock().unwrap();
    let mut restored_pairs = 0;
    for index in 0..WRITES {
        let [a, b] = pair(index);
        let (has_a, has_b) = (macs.contains(&a), macs.contains(&b));
        assert_eq!(has_a, has_b, "pair {index} half-applied");
        assert_eq!(
            has_a,
            recorded.contains(&a),
            "pair {index}: record and audit differ"
        );
        if acknowledged[&index] < sent {
            assert!(
                has_a,
                "pair {index} acknowledged before the backup is missing"
            );
        }
        restored_pairs += usize::from(has_a);
    }
    assert_eq!(macs.len(), restored_pairs * 2, "devices besides the pairs");
    assert!(restored_pairs >= WRITES / 4);
    assert_eq!(header.counts["device"], restored_pairs * 2);
    assert_eq!(header.last_audit_id, audit.first().map(|r| r.id));
}
