//! The database commands of the real binary: `deskprov migrate` makes the schema once, and
//! `deskprov migrate-store` moves a stopped sled site into PostgreSQL with everything in it.

use std::time::Duration;

use http::StatusCode;

use crate::api::{AdminApi, NewUser};
use crate::binary::client;
use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_creates_the_schema_once() {
    let url = crate::postgres::Postgres::shared().database().await;
    let migrate = || {
        let out = std::process::Command::new(binary())
            .args(["migrate", "--database-url", &url])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let first = migrate();
    assert!(
        first.contains("applied migrations 1, 2; the schema is at version 2"),
        "{first}"
    );
    assert!(migrate().contains("the schema is at version 2 already"));
    let none = std::process::Command::new(binary())
        .arg("migrate")
        .env_remove("DESKPROV_DATABASE_URL")
        .output()
        .unwrap();
    assert!(!none.status.success());
    assert!(String::from_utf8_lossy(&none.stderr).contains("no database configured"));
}

/// `deskprov migrate-store --from db --to url`, run to its end.
fn migrate_store(db: &std::path::Path, url: &str) -> std::process::Output {
    std::process::Command::new(binary())
        .args(["migrate-store", "--from", db.to_str().unwrap(), "--to", url])
        .output()
        .unwrap()
}

/// A sled site moved into PostgreSQL: the same users, devices, tokens and configs served, and a
/// second run refused without touching what the first one copied.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_store_moves_a_sled_site_into_postgres() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut server = BinaryServer::start(d, &[]);
    let admin = client(d, server.admin_addr);
    let token = admin_token_in(d);
    let api = AdminApi::new(&admin, &token);
    api.patch_settings(serde_json::json!({"sip_server": "pbx.example.com"}))
        .ok()
        .await;
    let alice = NewUser::new("1001", "Alice Example")
        .sip_password("alice-secret-0001")
        .pin("739164");
    api.create_user(alice).ok().await;
    api.create_device(crate::api::NewDevice::new(T46S_MAC).model("T46S"))
        .ok()
        .await;
    api.assign(T46S_MAC, 1, "1001").ok().await;
    let phone = client(d, server.phone_addr);
    let path = format!("/{T46S_MAC}.cfg");
    let claimed = phone.get(&path, &[("user-agent", T46S_UA)]).await.unwrap();
    assert_eq!(claimed.status, StatusCode::OK);
    let users_before = api.list_users().ok().await;
    let devices_before = api.list_devices().ok().await;
    let credentials = api.credentials(T46S_MAC).ok().await;
    let auth = basic(
        credentials["username"].as_str().unwrap(),
        credentials["password"].as_str().unwrap(),
    );
    crate::logs::remember_authorization(&auth);
    let headers = [("user-agent", T46S_UA), ("authorization", auth.as_str())];
    let config_before = phone.get(&path, &headers).await.unwrap();
    server.signal("TERM");
    server.wait(Duration::from_secs(20));

    let url = crate::postgres::Postgres::shared().database().await;
    let db = d.join("data/db");
    let migrate = || migrate_store(&db, &url);
    let first = migrate();
    let said = String::from_utf8_lossy(&first.stderr).into_owned();
    assert!(first.status.success(), "{said}");
    assert!(said.contains("each read back identical"), "{said}");
    let second = migrate();
    assert!(!second.status.success());
    assert!(String::from_utf8_lossy(&second.stderr).contains("holds records already"));

    let moved = BinaryServer::start(d, &["--database-url", &url]);
    let admin = client(d, moved.admin_addr);
    let api = AdminApi::new(&admin, &token);
    assert_eq!(api.list_users().ok().await, users_before);
    let devices_after = api.list_devices().ok().await;
    assert_eq!(devices_after, devices_before);
    let phone = client(d, moved.phone_addr);
    let config_after = phone.get(&path, &headers).await.unwrap();
    assert_eq!(
        config_after.status,
        StatusCode::OK,
        "the device's credentials moved too"
    );
    assert_eq!(
        config_after.body, config_before.body,
        "the same file from the moved site"
    );
}

/// What a sled site holds beyond users and devices moves too: a user's portal session, an
/// unused one-time link, the outbox with its ids and states (a mail queued later gets a larger
/// id), and the firmware directory, each file with its SHA-256.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_store_copies_portal_sessions_links_the_outbox_and_firmware() {
    use deskprov::model::{LinkPurpose, LinkRecord, MailState, PortalSession};
    use deskprov::store::backend::{PortalReads, PortalWrites};
    use deskprov::store::sled::SledBackend;
    use deskprov::store::{OutboxReads, OutboxWrites, Reads, Writes};
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("data/db");
    let session = PortalSession {
        id_sha256: "a".repeat(64),
        extension: deskprov::domain::Extension::parse("1001").unwrap(),
        csrf: deskprov::domain::Secret::generate(16),
        language: Some("de".into()),
        created_at: 1_000,
        last_seen_at: 1_060,
    };
    let link = LinkRecord {
        token_sha256: "b".repeat(64),
        extension: session.extension.clone(),
        purpose: LinkPurpose::Welcome,
        issued_at: 1_000,
        expires_at: 90_000,
    };
    let mut mail_ids = Vec::new();
    {
        let sled = SledBackend::open(&db).unwrap();
        sled.insert_user(&crate::storage::user("1001"))
            .await
            .unwrap();
        sled.put_portal_session(&session).await.unwrap();
        sled.put_link(&link).await.unwrap();
        for (state, at) in [(MailState::Sent, 10), (MailState::Queued, 20)] {
            mail_ids.push(
                sled.queue_mail(&crate::storage::mail(state, at))
                    .await
                    .unwrap(),
            );
        }
    }
    let firmware = dir.path().join("data/firmware");
    std::fs::create_dir_all(&firmware).unwrap();
    let content: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(firmware.join("T46S-66.86.0.160.rom"), &content).unwrap();

    let url = crate::postgres::Postgres::shared().database().await;
    let out = migrate_store(&db, &url);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("and 1 firmware files"), "{said}");

    let parsed = deskprov::store::postgres::DatabaseUrl::parse(&url, None, None).unwrap();
    let pg = deskprov::store::postgres::PgBackend::connect(&parsed)
        .await
        .unwrap();
    let moved = pg
        .portal_session(&session.id_sha256)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (moved.language, moved.last_seen_at),
        (Some("de".into()), 1_060)
    );
    assert_eq!(
        pg.link(&link.token_sha256)
            .await
            .unwrap()
            .unwrap()
            .expires_at,
        90_000
    );
    let (mails, more) = pg.mails_page(None, 10, None).await.unwrap();
    assert!(!more);
    let moved: Vec<(u64, MailState)> = mails.iter().rev().map(|m| (m.id, m.state)).collect();
    assert_eq!(
        moved,
        [
            (mail_ids[0], MailState::Sent),
            (mail_ids[1], MailState::Queued)
        ]
    );
    let next = pg
        .queue_mail(&crate::storage::mail(MailState::Queued, 30))
        .await
        .unwrap();
    assert!(next > mail_ids[1], "{next} after {mail_ids:?}");
    let files = pg.shared_files().await.unwrap();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].name, "T46S-66.86.0.160.rom");
    assert_eq!(files[0].bytes, content.len() as u64);
    let sha256 = ring::digest::digest(&ring::digest::SHA256, &content);
    assert_eq!(files[0].sha256, deskprov::backup::hex(sha256.as_ref()));
}
