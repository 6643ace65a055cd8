//! The admin console over HTTPS as a browser speaks to it (forms, cookies, redirects): the
//! first owner account, logging in and out, sessions, CSRF, the headers of every answer, and
//! the line between the console's cookie and the API's tokens. The same flows in a real
//! browser are in `browser.rs`.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::os::unix::fs::PermissionsExt;

use deskprov::client::{Client, Reply};
use http::{Method, StatusCode};

use crate::helpers::TestServer;

pub(crate) const SESSION: &str = "__Host-deskprov-console";
pub(crate) const LOGIN: &str = "__Host-deskprov-console-login";

/// A browser's view of the console: its cookie jar, its language, its address.
pub(crate) struct Browser<'a> {
    client: Client,
    pub(crate) cookies: BTreeMap<String, String>,
    pub(crate) language: &'a str,
}

impl<'a> Browser<'a> {
    pub(crate) fn new(server: &TestServer) -> Browser<'a> {
        Browser::from(server, [127, 0, 0, 1].into())
    }

    pub(crate) fn from(server: &TestServer, source: IpAddr) -> Browser<'a> {
        Browser::at(server, server.running().admin_addr, source)
    }

    /// A browser on the phone listener, where the users' portal is.
    pub(crate) fn on_phone_listener(server: &TestServer, source: IpAddr) -> Browser<'a> {
        Browser::at(server, server.running().phone_addr, source)
    }

    fn at(server: &TestServer, address: std::net::SocketAddr, source: IpAddr) -> Browser<'a> {
        let client = Client::new(address, "localhost", std::slice::from_ref(&server.ca))
            .unwrap()
            .from_source(source);
        Browser {
            client,
            cookies: BTreeMap::new(),
            language: "en",
        }
    }

    pub(crate) fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub(crate) async fn send(&mut self, method: Method, path: &str, body: Option<String>) -> Reply {
        let cookie = self.cookie_header();
        let mut headers = vec![("accept-language", self.language)];
        if !cookie.is_empty() {
            headers.push(("cookie", cookie.as_str()));
        }
        if body.is_some() {
            headers.push(("content-type", "application/x-www-form-urlencoded"));
        }
        let reply = self
            .client
            .send(method, path, &headers, body.map(String::into_bytes))
            .await
            .unwrap();
        for set in reply.headers.get_all("set-cookie") {
            let set = set.to_str().unwrap();
            let (pair, _) = set.split_once(';').unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_string(), value.to_string());
            }
        }
        reply
    }

    pub(crate) async fn get(&mut self, path: &str) -> Reply {
        self.send(Method::GET, path, None).await
    }

    pub(crate) async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Reply {
        let body = fields
            .iter()
            .map(|(k, v)| format!("{k}={}", urlencode(v)))
            .collect::<Vec<_>>()
            .join("&");
        self.send(Method::POST, path, Some(body)).await
    }

    /// Opens the login page and logs in; the answer to the form.
    pub(crate) async fn log_in(&mut self, username: &str, password: &str) -> Reply {
        let form = self.get("/login").await;
        assert_eq!(form.status, StatusCode::OK, "{}", form.text());
        let csrf = hidden(&form.text(), "csrf");
        self.post(
            "/login",
            &[
                ("csrf", &csrf),
                ("username", username),
                ("password", password),
            ],
        )
        .await
    }

    /// The CSRF token of the page at `path` (logged in).
    pub(crate) async fn csrf(&mut self, path: &str) -> String {
        let page = self.get(path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.text());
        hidden(&page.text(), "csrf")
    }
}

pub(crate) fn urlencode(value: &str) -> String {
    percent_encoding::utf8_percent_encode(value, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// The value of the hidden input `name` in a page.
pub(crate) fn hidden(page: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in {page}"))
        + marker.len();
    page[start..start + page[start..].find('"').unwrap()].to_string()
}

pub(crate) fn location(reply: &Reply) -> &str {
    reply.header("location").unwrap_or("")
}

pub(crate) fn first_password(server: &TestServer) -> String {
    let path = server.dir.path().join("data/admin.password");
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "the password file is the owner's only");
    std::fs::read_to_string(path).unwrap().trim().to_string()
}

pub(crate) const NEW_PASSWORD: &str = "Grüne Wiese 2026!";

/// Logs in as `admin` with the first password and sets `NEW_PASSWORD`.
pub(crate) async fn owner_with_own_password<'a>(server: &TestServer) -> Browser<'a> {
    let mut browser = Browser::new(server);
    let reply = browser.log_in("admin", &first_password(server)).await;
    assert_eq!(location(&reply), "/password");
    let csrf = browser.csrf("/password").await;
    let changed = browser
        .post(
            "/password",
            &[
                ("csrf", &csrf),
                ("current_password", &first_password(server)),
                ("new_password", NEW_PASSWORD),
                ("repeat_password", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text());
    crate::logs::remember_secret(NEW_PASSWORD);
    browser
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_owner_logs_in_changes_the_password_and_logs_out() {
    let server = TestServer::start().await;
    let first = first_password(&server);
    assert!(first.len() >= 12);
    let mut browser = Browser::new(&server);

    // Before logging in, every page leads to the login.
    let dashboard = browser.get("/").await;
    assert_eq!(dashboard.status, StatusCode::SEE_OTHER);
    assert_eq!(location(&dashboard), "/login");

    let wrong = browser.log_in("admin", "not the password").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(
        wrong.text().contains("Wrong user name or password."),
        "{}",
        wrong.text()
    );
    assert!(!browser.cookies.contains_key(SESSION));

    let reply = browser.log_in("admin", &first).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(
        location(&reply),
        "/password",
        "the first password must be changed"
    );
    let set: Vec<&str> = reply
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    let session = set.iter().find(|c| c.starts_with(SESSION)).unwrap();
    assert!(
        session.ends_with("; Secure; HttpOnly; SameSite=Strict; Path=/"),
        "{session}"
    );
    assert!(
        set.iter()
            .any(|c| c.starts_with(LOGIN) && c.contains("Max-Age=0"))
    );

    // Nothing but the password page until then.
    let dashboard = browser.get("/").await;
    assert_eq!(location(&dashboard), "/password");
    let csrf = browser.csrf("/password").await;
    for (new, repeat, status, message) in [
        (
            "Grüne Wiese 2026!",
            "Grüne Wiese 2027!",
            StatusCode::BAD_REQUEST,
            "The two new passwords differ.",
        ),
        (
            "kurz",
            "kurz",
            StatusCode::BAD_REQUEST,
            "The new password must be 12 to 128 characters long.",
        ),
        (
            "admin-admin-admin",
            "admin-admin-admin",
            StatusCode::BAD_REQUEST,
            "The new password must not contain the user name.",
        ),
        (
            first.as_str(),
            first.as_str(),
            StatusCode::BAD_REQUEST,
            "The new password must differ from the current one.",
        ),
    ] {
        let refused = browser
            .post(
                "/password",
                &[
                    ("csrf", &csrf),
                    ("current_password", &first),
                    ("new_password", new),
                    ("repeat_password", repeat),
                ],
            )
            .await;
        assert_eq!(refused.status, status, "{new}");
        assert!(
            refused.text().contains(message),
            "{new}: {}",
            refused.text()
        );
    }
    let wrong_current = browser
        .post(
            "/password",
            &[
                ("csrf", &csrf),
                ("current_password", "not the password"),
                ("new_password", NEW_PASSWORD),
                ("repeat_password", NEW_PASSWORD),
            ],
        )
        .await;
    assert!(
        wrong_current
            .text()
            .contains("The current password is wrong.")
    );
    let changed = browser
        .post(
            "/password",
            &[
                ("csrf", &csrf),
                ("current_password", &first),
                ("new_password", NEW_PASSWORD),
                ("repeat_password", NEW_PASSWORD),
            ],
        )
        .await;
    crate::logs::remember_secret(NEW_PASSWORD);
    assert_eq!(changed.status, StatusCode::OK);
    assert!(changed.text().contains("Password changed."));

    // The dashboard, with what the site holds.
    let api = server.admin_api();
    api.create_user(crate::api::NewUser::new("1001", "Alice").pin("739164"))
        .ok()
        .await;
    api.lock_user("1001").ok().await;
    let page = browser.get("/").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    let text = page.text();
    assert!(text.contains(r#"<dd id="users-total">1</dd>"#), "{text}");
    assert!(text.contains(r#"<dd id="users-locked">1</dd>"#), "{text}");
    assert!(text.contains(r#"<dd id="users-with-pin">1</dd>"#), "{text}");
    assert!(
        text.contains(r#"<dd id="devices-registered">0</dd>"#),
        "{text}"
    );
    assert!(text.contains("<strong>admin</strong>"), "{text}");

    // Logging out ends the session: the cookie, stolen or kept, opens nothing any more.
    let stolen = browser.cookies[SESSION].clone();
    let csrf = hidden(&text, "csrf");
    let out = browser.post("/logout", &[("csrf", &csrf)]).await;
    assert_eq!(location(&out), "/login");
    assert!(!browser.cookies.contains_key(SESSION));
    browser.cookies.insert(SESSION.into(), stolen);
    assert_eq!(location(&browser.get("/").await), "/login");

    // The trail: who logged in, failed, changed the password, logged out.
    for kind in [
        "console_logout",
        "password_changed",
        "console_login",
        "console_login_failure",
    ] {
        let records = api
            .list_audit(crate::api::AuditFilter::kind(kind).subject("admin"))
            .ok()
            .await;
        assert!(!records.as_array().unwrap().is_empty(), "no {kind} record");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn german_browsers_get_german_pages_and_the_choice_is_remembered() {
    let server = TestServer::start().await;
    let mut browser = owner_with_own_password(&server).await;
    browser.language = "de-DE,de;q=0.9,en;q=0.5";
    let page = browser.get("/").await.text();
    assert!(page.contains(r#"<html lang="de">"#), "{page}");
    assert!(
        page.contains("Übersicht") && page.contains("Abmelden"),
        "{page}"
    );

    // Switched to English, the account keeps English whatever the browser says.
    let csrf = hidden(&page, "csrf");
    let switched = browser
        .post("/language", &[("csrf", &csrf), ("language", "en")])
        .await;
    assert_eq!(switched.status, StatusCode::SEE_OTHER);
    let page = browser.get("/").await.text();
    assert!(
        page.contains(r#"<html lang="en">"#) && page.contains("Dashboard"),
        "{page}"
    );
    let bad = browser
        .post("/language", &[("csrf", &csrf), ("language", "fr")])
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);

    // Logged out, the login page follows the browser, or ?lang=.
    let mut stranger = Browser::new(&server);
    stranger.language = "de";
    assert!(stranger.get("/login").await.text().contains("Benutzername"));
    assert!(
        stranger
            .get("/login?lang=en")
            .await
            .text()
            .contains("User name")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_form_without_its_csrf_token_is_refused_and_changes_nothing() {
    let server = TestServer::start().await;
    let mut browser = owner_with_own_password(&server).await;
    // A form posted from another origin: no token, or another session's.
    for csrf in ["", "0123456789abcdef0123456789abcdef"] {
        let forged = browser
            .post(
                "/password",
                &[
                    ("csrf", csrf),
                    ("current_password", NEW_PASSWORD),
                    ("new_password", "Forged password 123"),
                    ("repeat_password", "Forged password 123"),
                ],
            )
            .await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN, "{csrf:?}");
        let out = browser.post("/logout", &[("csrf", csrf)]).await;
        assert_eq!(out.status, StatusCode::FORBIDDEN);
    }
    // Still logged in, and the password is what it was.
    assert_eq!(browser.get("/").await.status, StatusCode::OK);
    let mut again = Browser::new(&server);
    assert_eq!(location(&again.log_in("admin", NEW_PASSWORD).await), "/");

    // The login form too: without the login cookie's value, nothing is checked.
    let mut other = Browser::new(&server);
    other.get("/login").await;
    let forged = other
        .post(
            "/login",
            &[
                ("csrf", "forged"),
                ("username", "admin"),
                ("password", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(!other.cookies.contains_key(SESSION));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_session_id_changes_at_login_and_a_password_change_ends_other_sessions() {
    let server = TestServer::start().await;
    let mut first = owner_with_own_password(&server).await;
    // Fixation: a session id planted before the login is never the one after it.
    let mut planted = Browser::new(&server);
    planted
        .cookies
        .insert(SESSION.into(), "planted-by-an-attacker-0123456789".into());
    assert_eq!(location(&planted.log_in("admin", NEW_PASSWORD).await), "/");
    assert_ne!(
        planted.cookies[SESSION],
        "planted-by-an-attacker-0123456789"
    );
    assert_ne!(planted.cookies[SESSION], first.cookies[SESSION]);
    assert_eq!(first.get("/").await.status, StatusCode::OK);

    // A password change in one session ends the other.
    let csrf = planted.csrf("/password").await;
    let changed = planted
        .post(
            "/password",
            &[
                ("csrf", &csrf),
                ("current_password", NEW_PASSWORD),
                ("new_password", "Another long one 99"),
                ("repeat_password", "Another long one 99"),
            ],
        )
        .await;
    crate::logs::remember_secret("Another long one 99");
    assert_eq!(changed.status, StatusCode::OK);
    assert_eq!(location(&first.get("/").await), "/login");
    assert_eq!(planted.get("/").await.status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_end_after_30_idle_minutes_and_12_hours_at_most() {
    let server = TestServer::start().await;
    let mut browser = owner_with_own_password(&server).await;
    server.clock.advance(29 * 60);
    assert_eq!(browser.get("/").await.status, StatusCode::OK);
    server.clock.advance(30 * 60);
    assert_eq!(location(&browser.get("/").await), "/login");

    assert_eq!(location(&browser.log_in("admin", NEW_PASSWORD).await), "/");
    for _ in 0..(12 * 60 / 20 - 1) {
        server.clock.advance(20 * 60);
        assert_eq!(browser.get("/").await.status, StatusCode::OK);
    }
    server.clock.advance(20 * 60);
    assert_eq!(location(&browser.get("/").await), "/login");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_and_the_api_never_take_each_others_credentials() {
    let server = TestServer::start().await;
    let mut browser = owner_with_own_password(&server).await;
    let cookie = format!("{SESSION}={}", browser.cookies[SESSION]);
    let api = server
        .admin
        .get("/api/v1/devices", &[("cookie", &cookie)])
        .await
        .unwrap();
    assert_eq!(api.status, StatusCode::UNAUTHORIZED);
    let bearer = server.admin_auth();
    let page = server
        .admin
        .get("/", &[("authorization", &bearer)])
        .await
        .unwrap();
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(location(&page), "/login");
    // And the phones' listener knows nothing of the console's cookie.
    let phone = server.phone.get("/", &[("cookie", &cookie)]).await.unwrap();
    assert_ne!(phone.status, StatusCode::OK);
    assert_eq!(browser.get("/").await.status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_console_answer_carries_the_strict_headers() {
    let server = TestServer::start().await;
    let mut browser = owner_with_own_password(&server).await;
    let page = browser.get("/").await;
    let css = {
        let text = page.text();
        let start = text.find("/assets/console-").unwrap();
        text[start..start + text[start..].find('"').unwrap()].to_string()
    };
    let answers = [
        ("dashboard", page),
        ("login", Browser::new(&server).get("/login").await),
        ("missing", browser.get("/no-such-page").await),
        ("css", browser.get(&css).await),
    ];
    for (what, reply) in &answers {
        let csp = reply.header("content-security-policy").unwrap_or("");
        assert!(
            csp.contains("default-src 'self'")
                && csp.contains("frame-ancestors 'none'")
                && !csp.contains("unsafe-inline"),
            "{what}: {csp}"
        );
        assert_eq!(
            reply.header("referrer-policy"),
            Some("no-referrer"),
            "{what}"
        );
        assert_eq!(
            reply.header("x-content-type-options"),
            Some("nosniff"),
            "{what}"
        );
    }
    assert_eq!(answers[2].1.status, StatusCode::NOT_FOUND);
    assert!(answers[0].1.text().contains("<form") && !answers[0].1.text().contains("<script"));
    assert!(!answers[0].1.text().contains("style="));
    assert_eq!(
        answers[3].1.header("content-type"),
        Some("text/css; charset=utf-8")
    );
    assert_eq!(
        answers[3].1.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    assert_eq!(answers[0].1.header("cache-control"), Some("no-store"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guessing_slows_and_throttles_the_guesser_but_never_locks_the_owner_out() {
    let server = TestServer::start().await;
    let first = first_password(&server);
    let mut guesser = Browser::from(&server, [127, 0, 0, 66].into());
    for n in 0..10 {
        let reply = guesser.log_in("admin", &format!("guess number {n}")).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "guess {n}");
    }
    // The guesser's address is throttled, even with the right password...
    let throttled = guesser.log_in("admin", &first).await;
    assert_eq!(throttled.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(throttled.header("retry-after").is_some());
    assert!(!guesser.cookies.contains_key(SESSION));
    // ...and the owner, from elsewhere, logs in.
    let mut owner = Browser::from(&server, [127, 0, 0, 1].into());
    assert_eq!(location(&owner.log_in("admin", &first).await), "/password");
}
