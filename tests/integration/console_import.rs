//! The console's import and export pages over HTTPS: a CSV uploaded as `multipart/form-data`
//! the way a browser posts it, its dry run with each row's error in the page's language and
//! nothing changed, the import of the very file checked, the progress as JSON, the list of
//! jobs, the export without secrets; an upload without its CSRF token or beyond the limit
//! refused with nothing changed; and the roles that may not.

use std::time::Duration;

use deskprov::client::{Client, Reply};
use http::{Method, StatusCode};
use serde_json::Value;

use crate::api::NewUser;
use crate::console::{Browser, hidden, location};
use crate::console_users::{PASSWORD, seed_account};
use crate::helpers::TestServer;

const BOUNDARY: &str = "----WebKitFormBoundaryQm3aZ8x1";

/// The body a browser posts for the import form.
pub fn multipart(csrf: Option<&str>, kind: &str, file: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    let mut field = |name: &str, value: &str| {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    };
    if let Some(csrf) = csrf {
        field("csrf", csrf);
    }
    field("kind", kind);
    body.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"upload.csv\"\r\nContent-Type: text/csv\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

/// Posts the import form as `browser` (its cookies and language).
async fn upload(server: &TestServer, browser: &Browser<'_>, body: Vec<u8>) -> Reply {
    let client = Client::new(
        server.running().admin_addr,
        "localhost",
        std::slice::from_ref(&server.ca),
    )
    .unwrap();
    let cookie = browser.cookie_header();
    let content_type = format!("multipart/form-data; boundary={BOUNDARY}");
    let headers = [
        ("cookie", cookie.as_str()),
        ("accept-language", browser.language),
        ("content-type", content_type.as_str()),
    ];
    client
        .send(Method::POST, "/import", &headers, Some(body))
        .await
        .unwrap()
}

async fn logged_in<'a>(server: &TestServer, name: &str, role: &str) -> Browser<'a> {
    seed_account(server, name, role).await;
    let mut browser = Browser::new(server);
    let reply = browser.log_in(name, PASSWORD).await;
    assert_eq!(location(&reply), "/", "{role}: {}", reply.text());
    browser
}

/// The job's progress as the page's script reads it, once the job is over.
async fn finished(browser: &mut Browser<'_>, job: &str) -> Value {
    for _ in 0..300 {
        let reply = browser.get(&format!("{job}/progress")).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
        assert_eq!(reply.header("cache-control"), Some("no-store"));
        let progress: Value = serde_json::from_slice(&reply.body).unwrap();
        if progress["running"] == false {
            return progress;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{job} did not finish");
}

async fn imports_listed(server: &TestServer) -> usize {
    let list = server.admin_api().list_imports().ok().await;
    list.as_array().unwrap_or_else(|| panic!("{list}")).len()
}

const GOOD: &str = "extension,display_name,email\n2001,Anna Berg,anna@example.com\n2002,Bernd Kurz,\n2003,Carla Diaz,carla@example.com\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_csv_is_checked_first_and_then_the_checked_file_is_imported() {
    let server = TestServer::start().await;
    server
        .admin_api()
        .create_user(NewUser::new("1001", "Alice Example"))
        .ok()
        .await;
    let mut browser = logged_in(&server, "importer", "admin").await;
    let form = browser.get("/import").await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.text().contains("enctype=\"multipart/form-data\""));
    let csrf = hidden(&form.text(), "csrf");

    // A file with errors: a bad e-mail address, a key twice.
    let bad = "extension,display_name,email\n2001,Anna Berg,not-an-address\n2002,Bernd Kurz,\n2002,Bernd Again,\n";
    let reply = upload(
        &server,
        &browser,
        multipart(Some(&csrf), "users", bad.as_bytes()),
    )
    .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.text());
    let job = location(&reply).to_string();
    assert!(job.starts_with("/imports/"), "{job}");
    let progress = finished(&mut browser, &job).await;
    assert_eq!(progress["state"], "failed");
    assert_eq!(
        (progress["rows"].as_u64(), progress["checked"].as_u64()),
        (Some(3), Some(3))
    );
    let page = browser.get(&job).await.text();
    assert!(page.contains("<progress"), "{page}");
    assert!(
        page.contains(
            "<tr><td>2</td><td>email</td><td>The value in this column is not valid.</td></tr>"
        ),
        "{page}"
    );
    assert!(
        page.contains(
            "<tr><td>4</td><td>extension</td><td>Appears on an earlier row too.</td></tr>"
        ),
        "{page}"
    );
    browser.language = "de";
    let german = browser.get(&job).await.text();
    assert!(german.contains("<td>email</td><td>Der Wert in dieser Spalte ist ungültig.</td>"));
    assert!(german.contains("Es wurde nichts geändert."));
    browser.language = "en";
    let gone = server.admin_api().show_user("2001").send().await;
    assert_eq!(
        gone.status,
        StatusCode::NOT_FOUND,
        "a failed dry run changed something"
    );
    // A failed dry run cannot be imported.
    let refused = browser
        .post(&format!("{job}/import"), &[("csrf", &csrf)])
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert!(
        refused
            .text()
            .contains("Only a dry run that found no errors can be imported.")
    );

    // A good file: the dry run counts, changes nothing, and offers the import.
    let reply = upload(
        &server,
        &browser,
        multipart(Some(&csrf), "users", GOOD.as_bytes()),
    )
    .await;
    let dry_run = location(&reply).to_string();
    assert_eq!(finished(&mut browser, &dry_run).await["state"], "checked");
    let page = browser.get(&dry_run).await.text();
    assert!(page.contains("Import 3 rows now"), "{page}");
    assert!(page.contains("<dt>New</dt><dd>3</dd>"), "{page}");
    let still_gone = server.admin_api().show_user("2001").send().await;
    assert_eq!(
        still_gone.status,
        StatusCode::NOT_FOUND,
        "a dry run changed something"
    );

    // Another admin cannot import the file this one checked.
    let mut other = logged_in(&server, "colleague", "admin").await;
    let their_csrf = other.csrf("/import").await;
    let their_view = other.get(&dry_run).await.text();
    assert!(!their_view.contains("Import 3 rows now"), "{their_view}");
    let theirs = other
        .post(&format!("{dry_run}/import"), &[("csrf", &their_csrf)])
        .await;
    assert_eq!(theirs.status, StatusCode::CONFLICT, "{}", theirs.text());
    let reply = browser
        .post(&format!("{dry_run}/import"), &[("csrf", &csrf)])
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.text());
    let import = location(&reply).to_string();
    assert_ne!(import, dry_run);
    let progress = finished(&mut browser, &import).await;
    assert_eq!(progress["state"], "done");
    assert_eq!(progress["checked"], 3);
    assert!(
        browser
            .get(&import)
            .await
            .text()
            .contains("The import is complete.")
    );
    let anna = server.admin_api().show_user("2001").ok().await;
    assert_eq!(anna["display_name"], "Anna Berg");
    assert_eq!(anna["email"], "anna@example.com");
    // The checked file is imported once.
    let again = browser
        .post(&format!("{dry_run}/import"), &[("csrf", &csrf)])
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(again.text().contains("no longer held"), "{}", again.text());

    let list = browser.get("/imports").await.text();
    for path in [&job, &dry_run, &import] {
        assert!(list.contains(&format!("href=\"{path}\"")), "{path}: {list}");
    }

    // The export: the API's columns without secrets, as a download.
    let export = browser.get("/export/users.csv").await;
    assert_eq!(export.status, StatusCode::OK);
    assert_eq!(
        export.header("content-type"),
        Some("text/csv; charset=utf-8")
    );
    assert_eq!(
        export.header("content-disposition"),
        Some("attachment; filename=\"users.csv\"")
    );
    let csv = export.text();
    assert!(
        csv.starts_with("extension,first_name,last_name,display_name,email"),
        "{csv}"
    );
    assert!(
        !csv.contains("sip_password") && !csv.contains("pin"),
        "{csv}"
    );
    assert!(csv.contains("2003,,,Carla Diaz,carla@example.com"), "{csv}");
    assert_eq!(
        browser.get("/export/keys.csv").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_without_their_token_too_large_or_malformed_change_nothing_and_helpdesk_may_not() {
    let server = TestServer::start_with(|c| c.limits.max_import_bytes = 32 * 1024).await;
    let mut browser = logged_in(&server, "importer", "admin").await;
    let csrf = browser.csrf("/import").await;

    let missing = upload(&server, &browser, multipart(None, "users", GOOD.as_bytes())).await;
    assert_eq!(missing.status, StatusCode::FORBIDDEN);
    let wrong = upload(
        &server,
        &browser,
        multipart(Some("x"), "users", GOOD.as_bytes()),
    )
    .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);

    let mut big = String::from("extension,display_name\n");
    for n in 0..3000 {
        big.push_str(&format!("{},Person Number {n}\n", 3000 + n));
    }
    assert!(big.len() > 32 * 1024);
    let oversize = upload(
        &server,
        &browser,
        multipart(Some(&csrf), "users", big.as_bytes()),
    )
    .await;
    assert_eq!(oversize.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        oversize
            .text()
            .contains("The file is too large; nothing was changed.")
    );

    let unknown = "extension,nickname\n2001,Ann\n";
    let malformed = upload(
        &server,
        &browser,
        multipart(Some(&csrf), "users", unknown.as_bytes()),
    )
    .await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    let text = malformed.text();
    assert!(
        text.contains("The file does not fit; nothing was changed:"),
        "{text}"
    );
    assert!(
        text.contains("unknown column &#34;nickname&#34;")
            || text.contains("unknown column &quot;nickname&quot;"),
        "{text}"
    );
    let no_kind = upload(
        &server,
        &browser,
        multipart(Some(&csrf), "keys", GOOD.as_bytes()),
    )
    .await;
    assert_eq!(no_kind.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        imports_listed(&server).await,
        0,
        "a refused upload started a job"
    );

    // A devices file: the bad MAC named by its column, in the page's words.
    let devices = "mac,label\nnot-a-mac,Empfang\n001565aabb01,Lager\n";
    let reply = upload(
        &server,
        &browser,
        multipart(Some(&csrf), "devices", devices.as_bytes()),
    )
    .await;
    let job = location(&reply).to_string();
    assert_eq!(finished(&mut browser, &job).await["state"], "failed");
    let page = browser.get(&job).await.text();
    assert!(
        page.contains(
            "<tr><td>2</td><td>mac</td><td>The value in this column is not valid.</td></tr>"
        ),
        "{page}"
    );
    assert_eq!(
        server
            .admin_api()
            .show_device("001565aabb01")
            .send()
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        server.admin_api().show_user("2001").send().await.status,
        StatusCode::NOT_FOUND
    );

    // Helpdesk reads the export and the imports (as the API's listImports), imports nothing.
    let mut helpdesk = logged_in(&server, "helper", "helpdesk").await;
    let csrf = helpdesk.csrf("/export").await;
    assert_eq!(helpdesk.get("/import").await.status, StatusCode::FORBIDDEN);
    for path in ["/imports", "/imports/1", "/imports/1/progress"] {
        assert_eq!(helpdesk.get(path).await.status, StatusCode::OK, "{path}");
    }
    let job = helpdesk.get("/imports/1").await.text();
    assert!(
        !job.contains("/imports/1/import"),
        "no import button: {job}"
    );
    let refused = upload(
        &server,
        &helpdesk,
        multipart(Some(&csrf), "users", GOOD.as_bytes()),
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let commit = helpdesk.post("/imports/1/import", &[("csrf", &csrf)]).await;
    assert_eq!(commit.status, StatusCode::FORBIDDEN);
    assert_eq!(
        imports_listed(&server).await,
        1,
        "only the admin's devices dry run"
    );
    let export = helpdesk.get("/export").await.text();
    assert!(export.contains("href=\"/export/devices.csv\""));
    assert!(
        !export.contains("href=\"/import\""),
        "no way to the import: {export}"
    );
    assert_eq!(
        helpdesk.get("/export/devices.csv").await.status,
        StatusCode::OK
    );
}
