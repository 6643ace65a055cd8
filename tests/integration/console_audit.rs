//! The console's audit trail page over HTTPS: filters by kind, subject, actor and time, pages
//! of 50 through the trail, bad filters refused in the page's language, every field escaped;
//! and the API's `actor` and `until` filters it shares.

use http::StatusCode;
use serde_json::Value;

use crate::api::{AuditFilter, NewUser};
use crate::console::{Browser, owner_with_own_password};
use crate::helpers::TestServer;

/// The body rows of the page's audit table.
fn rows(page: &str) -> Vec<&str> {
    let Some(start) = page.find("<tbody>") else {
        return Vec::new();
    };
    let body = &page[start..page[start..].find("</tbody>").unwrap() + start];
    body.split("<tr>").skip(1).collect()
}

/// The path of the page's "older records" link, its `&amp;` undone.
fn next_link(page: &str) -> Option<String> {
    let end = page.find("\" rel=\"next\"")?;
    let start = page[..end].rfind("href=\"")? + "href=\"".len();
    Some(page[start..end].replace("&amp;", "&"))
}

async fn page_of(browser: &mut Browser<'_>, path: &str) -> String {
    let reply = browser.get(path).await;
    assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.text());
    reply.text()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_page_filters_and_pages_through_the_whole_trail() {
    let server = TestServer::start().await;
    let api = server.admin_api();
    for n in 0..54 {
        let name = if n == 0 {
            "<script>alert(1)</script>".to_string()
        } else {
            format!("User {n}")
        };
        api.create_user(NewUser::new(&format!("{}", 2000 + n), &name))
            .ok()
            .await;
    }
    let mut browser = owner_with_own_password(&server).await;
    let every: Vec<Value> = api
        .list_audit(AuditFilter::default())
        .ok()
        .await
        .as_array()
        .unwrap()
        .clone();
    assert!(every.len() > 56, "{}", every.len());

    // Newest first, 50 a page; the older link leads through every record once.
    let first = page_of(&mut browser, "/audit").await;
    assert_eq!(rows(&first).len(), 50);
    assert!(
        rows(&first)[0].contains("Password changed"),
        "{}",
        rows(&first)[0]
    );
    let mut seen = rows(&first).len();
    let mut next = next_link(&first);
    while let Some(path) = next {
        let page = page_of(&mut browser, &path).await;
        seen += rows(&page).len();
        next = next_link(&page);
    }
    assert_eq!(seen, every.len());

    // A name set through the API is shown escaped.
    let about_first = page_of(&mut browser, "/audit?subject=2000").await;
    assert_eq!(rows(&about_first).len(), 1, "{about_first}");
    assert!(!about_first.contains("<script>alert"), "{about_first}");
    assert!(
        about_first.contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
        "{about_first}"
    );

    // By kind and by actor: the console's own events are the account's.
    let logins = page_of(&mut browser, "/audit?kind=console_login").await;
    assert_eq!(rows(&logins).len(), 1, "{logins}");
    assert!(
        rows(&logins)[0].contains("admin (account, owner)"),
        "{logins}"
    );
    let by_admin = page_of(&mut browser, "/audit?actor=admin").await;
    let expected = every.iter().filter(|r| r["actor"] == "admin").count();
    assert_eq!(rows(&by_admin).len(), expected, "{by_admin}");
    assert!(expected >= 2, "a login and a password change");
    let login = every.iter().find(|r| r["kind"] == "console_login").unwrap();
    assert_eq!(login["actor_kind"], "account", "{login}");
    let token = every.iter().find(|r| r["kind"] == "admin_change").unwrap()["actor"]
        .as_str()
        .unwrap()
        .to_string();
    let changes = page_of(
        &mut browser,
        &format!("/audit?kind=admin_change&actor={token}"),
    )
    .await;
    assert_eq!(rows(&changes).len(), 50);
    assert!(
        rows(&changes)[0].contains(&format!("{token} (API token, owner)")),
        "{changes}"
    );
    assert!(next_link(&changes).unwrap().contains("kind=admin%5Fchange"));

    // Time: nothing before 1971; all of it from then on, in the form's own notation.
    let before = page_of(&mut browser, "/audit?until=1971-01-01T00%3A00").await;
    assert!(rows(&before).is_empty());
    assert!(before.contains("No records match these filters."));
    let since = page_of(
        &mut browser,
        "/audit?since=1971-01-01T00%3A00&kind=console_login",
    )
    .await;
    assert_eq!(rows(&since).len(), 1);
    assert!(
        since.contains("value=\"1971-01-01T00:00\""),
        "the filter is shown again"
    );

    // Bad filters: a clear error in the page's language, no rows.
    let unknown = browser.get("/audit?kind=nonsense").await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert!(unknown.text().contains("There is no such kind of record."));
    browser.language = "de";
    let german = browser.get("/audit?since=gestern").await;
    assert_eq!(german.status, StatusCode::BAD_REQUEST);
    assert!(
        german.text().contains("Die Zeitangabe ist ungültig"),
        "{}",
        german.text()
    );
    assert!(german.text().contains("Protokoll"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_filters_the_trail_by_actor_and_time() {
    let server = TestServer::start().await;
    let api = server.admin_api();
    api.create_user(NewUser::new("1001", "Anna")).ok().await;
    let changes = api.list_audit(AuditFilter::kind("admin_change")).ok().await;
    let actor = changes[0]["actor"].as_str().unwrap().to_string();
    assert_eq!(changes[0]["actor_kind"], "token", "{changes}");
    let mine = api
        .list_audit(AuditFilter::kind("admin_change").actor(&actor))
        .ok()
        .await;
    assert_eq!(mine.as_array().unwrap().len(), 1);
    let nobody = api
        .list_audit(AuditFilter::kind("admin_change").actor("someone else"))
        .ok()
        .await;
    assert!(nobody.as_array().unwrap().is_empty());
    let early = api
        .list_audit(AuditFilter::kind("admin_change").until("1971-01-01T00:00:00Z"))
        .ok()
        .await;
    assert!(early.as_array().unwrap().is_empty());
    let error = api
        .list_audit(AuditFilter::default().until("yesterday"))
        .fails(StatusCode::BAD_REQUEST)
        .await;
    assert!(error.to_string().contains("until"), "{error}");
}
