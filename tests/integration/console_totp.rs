//! The TOTP second factor over HTTPS as a browser posts its forms: enrolment (the secret read
//! off the page, codes computed with the TOTP crate at the server's clock), the login's second
//! step with its replay guard and brakes, the owner requiring the factor (enrolment forced)
//! and resetting a lost one, through the page and the API.

use std::net::IpAddr;

use http::StatusCode;

use crate::api::AuditFilter;
use crate::console::{Browser, LOGIN, SESSION, hidden, location};
use crate::console_users::{PASSWORD, seed_account};
use crate::helpers::TestServer;

/// The code an authenticator app shows for `secret` (base32) at `now`.
pub fn code(secret: &str, now: i64) -> String {
    let bytes = totp_rs::Secret::try_from_base32(secret).unwrap();
    let totp = totp_rs::Builder::new()
        .with_secret(bytes)
        .build_noncompliant();
    totp.generate(now as u64).to_string()
}

/// A code that is not the one for `now`, nor one step either side.
fn wrong_code(secret: &str, now: i64) -> String {
    let near: Vec<String> = [-30, 0, 30].iter().map(|d| code(secret, now + d)).collect();
    (0..)
        .map(|n| format!("{:06}", (123_456 + n * 7_919) % 1_000_000))
        .find(|c| !near.contains(c))
        .unwrap()
}

/// The secret shown for manual entry, without its grouping spaces.
pub fn secret_of(page: &str) -> String {
    let marker = "id=\"totp-secret\" class=\"secret\">";
    let start = page.find(marker).unwrap_or_else(|| panic!("{page}")) + marker.len();
    let secret: String = page[start..start + page[start..].find('<').unwrap()]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    crate::logs::remember_secret(&secret);
    secret
}

async fn account(server: &TestServer, name: &str) -> deskprov::model::AccountRecord {
    let name = deskprov::domain::Username::parse(name).unwrap();
    let store = &server.running().app.store;
    store.account(&name).await.unwrap().unwrap()
}

async fn failures(server: &TestServer, key: &str) -> u32 {
    server
        .running()
        .app
        .store
        .guard(key)
        .await
        .unwrap()
        .failures
}

/// Enrols the logged-in browser's account; its secret.
async fn enrol(server: &TestServer, browser: &mut Browser<'_>) -> String {
    let csrf = browser.csrf("/totp").await;
    let page = browser.post("/totp/enrol", &[("csrf", &csrf)]).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    assert!(page.text().contains("src=\"data:image/svg+xml;base64,"));
    let secret = secret_of(&page.text());
    assert_eq!(secret.len(), 32, "20 bytes in base32");
    let now = server.clock.now();
    let confirm = [
        ("csrf", csrf.as_str()),
        ("password", PASSWORD),
        ("code", &code(&secret, now)),
    ];
    let done = browser.post("/totp/confirm", &confirm).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text());
    assert!(
        done.text().contains("Second factor set up."),
        "{}",
        done.text()
    );
    secret
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_enrolled_account_logs_in_with_a_fresh_code_only() {
    let server = TestServer::start().await;
    let api = server.admin_api();
    seed_account(&server, "tara", "admin").await;
    let mut browser = Browser::new(&server);
    assert_eq!(location(&browser.log_in("tara", PASSWORD).await), "/");
    let status = browser.get("/totp").await;
    assert!(status.text().contains("No second factor is set up"));

    // A wrong code and a wrong password leave the secret pending, and change nothing.
    let csrf = browser.csrf("/totp").await;
    let page = browser.post("/totp/enrol", &[("csrf", &csrf)]).await;
    let secret = secret_of(&page.text());
    let now = server.clock.now();
    let wrong = wrong_code(&secret, now);
    let fields = [
        ("csrf", csrf.as_str()),
        ("password", PASSWORD),
        ("code", &wrong),
    ];
    let refused = browser.post("/totp/confirm", &fields).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(
        refused.text().contains("The code is wrong"),
        "{}",
        refused.text()
    );
    assert_eq!(
        secret_of(&refused.text()),
        secret,
        "the same secret, still pending"
    );
    let right = code(&secret, now);
    let fields = [
        ("csrf", csrf.as_str()),
        ("password", "not it at all"),
        ("code", &right),
    ];
    let refused = browser.post("/totp/confirm", &fields).await;
    assert!(
        refused.text().contains("The password is wrong"),
        "{}",
        refused.text()
    );
    let before = account(&server, "tara").await;
    assert!(before.totp_secret.is_none() && before.totp_pending.is_some());
    let mut elsewhere = Browser::from(&server, [127, 0, 3, 3].into());
    assert_eq!(location(&elsewhere.log_in("tara", PASSWORD).await), "/");
    let fields = [
        ("csrf", csrf.as_str()),
        ("password", PASSWORD),
        ("code", &right),
    ];
    let done = browser.post("/totp/confirm", &fields).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text());
    assert!(done.text().contains("Logins ask for a code"));
    let ended = elsewhere.get("/").await;
    assert_eq!(
        location(&ended),
        "/login",
        "the set-up ends the other sessions"
    );
    let csrf = browser.csrf("/totp").await;
    browser.post("/logout", &[("csrf", &csrf)]).await;

    // The right password alone opens no session: the second step's form, under a new login
    // cookie value.
    let login_form = browser.get("/login").await;
    let first_login_cookie = browser.cookies[LOGIN].clone();
    let csrf = hidden(&login_form.text(), "csrf");
    let fields = [
        ("csrf", csrf.as_str()),
        ("username", "tara"),
        ("password", PASSWORD),
    ];
    let step = browser.post("/login", &fields).await;
    assert_eq!(step.status, StatusCode::OK, "{}", step.text());
    assert!(step.text().contains("action=\"/login/code\""));
    assert!(!browser.cookies.contains_key(SESSION));
    let pending_cookie = browser.cookies[LOGIN].clone();
    crate::logs::remember_secret(&pending_cookie);
    assert_ne!(pending_cookie, first_login_cookie);
    assert!(
        !step.text().contains(&pending_cookie),
        "the cookie is not in the page"
    );
    assert_eq!(location(&browser.get("/").await), "/login");
    let csrf = hidden(&step.text(), "csrf");

    // The confirmation's code again (its step is spent), a wrong one, a form without the
    // token: refused, no session.
    let again = browser
        .post("/login/code", &[("csrf", &csrf), ("code", &right)])
        .await;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED, "a replayed code");
    assert!(
        again
            .text()
            .contains("The code is wrong or was used already.")
    );
    let wrong = browser
        .post("/login/code", &[("csrf", &csrf), ("code", &wrong)])
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let forged = browser
        .post("/login/code", &[("csrf", "x"), ("code", &right)])
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(!browser.cookies.contains_key(SESSION));
    assert_eq!(failures(&server, "console:account:tara").await, 2);

    // Thirty seconds on, the app's next code logs in: a new session, the login cookie gone.
    server.clock.advance(30);
    let next = code(&secret, server.clock.now());
    let reply = browser
        .post("/login/code", &[("csrf", &csrf), ("code", &next)])
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.text());
    assert_eq!(location(&reply), "/");
    assert!(browser.cookies.contains_key(SESSION) && !browser.cookies.contains_key(LOGIN));
    assert_eq!(browser.get("/").await.status, StatusCode::OK);
    assert_eq!(failures(&server, "console:account:tara").await, 0);
    let gone = browser
        .post("/login/code", &[("csrf", &csrf), ("code", &next)])
        .await;
    assert_eq!(
        gone.status,
        StatusCode::UNAUTHORIZED,
        "the waiting login is spent"
    );

    // Removing it takes the password and a fresh code too.
    let csrf = browser.csrf("/totp").await;
    let fields = [
        ("csrf", csrf.as_str()),
        ("password", PASSWORD),
        ("code", &next),
    ];
    let replayed = browser.post("/totp/remove", &fields).await;
    assert_eq!(replayed.status, StatusCode::BAD_REQUEST);
    assert!(account(&server, "tara").await.totp_secret.is_some());
    server.clock.advance(30);
    let fresh = code(&secret, server.clock.now());
    let fields = [
        ("csrf", csrf.as_str()),
        ("password", PASSWORD),
        ("code", &fresh),
    ];
    let removed = browser.post("/totp/remove", &fields).await;
    assert_eq!(removed.status, StatusCode::OK, "{}", removed.text());
    assert!(removed.text().contains("Second factor removed."));
    assert!(account(&server, "tara").await.totp_secret.is_none());

    let audited = |kind: &'static str| api.list_audit(AuditFilter::kind(kind)).ok();
    let enrolled = audited("totp_enrolled").await;
    assert_eq!(enrolled[0]["subject"], "tara", "{enrolled}");
    assert_eq!(audited("totp_removed").await[0]["actor"], "tara");
    let failed = audited("totp_failed").await;
    let failed = failed.as_array().unwrap();
    // Two at the set-up, one removal, and the login's two: one record, as a repeat from the
    // same source is summed up later like wrong passwords are.
    assert_eq!(failed.len(), 4, "{failed:?}");
    assert_eq!(failed[1]["detail"], "wrong or reused TOTP code at login");
    let logins = audited("console_login").await;
    assert!(
        logins
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["detail"] == "logged in with password and TOTP code"),
        "{logins}"
    );
    for record in failed {
        assert!(!record.to_string().contains(&secret));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_codes_count_against_the_account_and_the_source() {
    let server = TestServer::start().await;
    seed_account(&server, "ugo", "readonly").await;
    let source: IpAddr = [127, 0, 7, 7].into();
    let mut browser = Browser::from(&server, source);
    assert_eq!(location(&browser.log_in("ugo", PASSWORD).await), "/");
    let secret = enrol(&server, &mut browser).await;
    browser.cookies.clear();
    let step = browser.log_in("ugo", PASSWORD).await;
    let csrf = hidden(&step.text(), "csrf");
    let wrong = wrong_code(&secret, server.clock.now());
    for try_ in 1..5 {
        let reply = browser
            .post("/login/code", &[("csrf", &csrf), ("code", &wrong)])
            .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "try {try_}");
        assert!(
            reply.text().contains("action=\"/login/code\""),
            "try {try_}"
        );
    }
    // The fifth wrong code ends the waiting login: the password is asked again.
    let reply = browser
        .post("/login/code", &[("csrf", &csrf), ("code", &wrong)])
        .await;
    assert!(
        reply.text().contains("The login has expired."),
        "{}",
        reply.text()
    );
    assert!(reply.text().contains("action=\"/login\""));
    let right = code(&secret, server.clock.now() + 30);
    server.clock.advance(30);
    let late = browser
        .post("/login/code", &[("csrf", &csrf), ("code", &right)])
        .await;
    assert_eq!(late.status, StatusCode::UNAUTHORIZED);
    assert!(!browser.cookies.contains_key(SESSION));
    assert_eq!(failures(&server, "console:account:ugo").await, 5);
    let source_key = format!("console:source:{source}");
    assert_eq!(failures(&server, &source_key).await, 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_required_factor_is_set_up_first_and_the_owner_resets_a_lost_one() {
    let server = TestServer::start().await;
    let api = server.admin_api();
    seed_account(&server, "olga", "owner").await;
    seed_account(&server, "hana", "helpdesk").await;
    let required = api.require_totp("hana", true).ok().await;
    assert_eq!(required["totp_required"], true);
    assert_eq!(required["totp_enrolled"], false);
    assert!(required.get("totp_secret").is_none());
    assert_eq!(
        api.require_totp("nobody", true).send().await.status,
        StatusCode::NOT_FOUND
    );

    // Her login leads to the set-up, and every other page there until it is done.
    let mut hana = Browser::new(&server);
    assert_eq!(location(&hana.log_in("hana", PASSWORD).await), "/totp");
    assert_eq!(location(&hana.get("/").await), "/totp");
    assert_eq!(location(&hana.get("/users").await), "/totp");
    let page = hana.get("/totp").await;
    assert!(page.text().contains("Please set up a second factor first."));
    enrol(&server, &mut hana).await;
    assert_eq!(hana.get("/").await.status, StatusCode::OK);

    // While it is required, she cannot remove it, nor require or reset anyone's.
    let csrf = hana.csrf("/totp").await;
    let fields = [
        ("csrf", csrf.as_str()),
        ("password", PASSWORD),
        ("code", "000000"),
    ];
    let refused = hana.post("/totp/remove", &fields).await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert!(refused.text().contains("only the owner can reset it"));
    let fields = [("csrf", csrf.as_str()), ("required", "false")];
    let forbidden = hana.post("/accounts/hana/require-totp", &fields).await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);
    let forbidden = hana
        .post("/accounts/hana/reset-totp", &[("csrf", &csrf)])
        .await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);
    assert!(account(&server, "hana").await.totp_required);

    // The owner stops requiring it on the page, and resets the lost authenticator by API.
    let mut olga = Browser::new(&server);
    assert_eq!(location(&olga.log_in("olga", PASSWORD).await), "/");
    let csrf = olga.csrf("/totp").await;
    let bad = [("csrf", csrf.as_str()), ("required", "maybe")];
    let refused = olga.post("/accounts/hana/require-totp", &bad).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    let fields = [("csrf", csrf.as_str()), ("required", "false")];
    let done = olga.post("/accounts/hana/require-totp", &fields).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text());
    assert!(
        done.text()
            .contains("no longer required for the account hana.")
    );
    let unknown = olga.post("/accounts/nobody/require-totp", &fields).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert!(!account(&server, "hana").await.totp_required);

    let reset = api.reset_totp("hana").ok().await;
    assert_eq!(reset["totp_enrolled"], false, "{reset}");
    let again = api.reset_totp("hana").send().await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    let page_reset = olga
        .post("/accounts/hana/reset-totp", &[("csrf", &csrf)])
        .await;
    assert_eq!(
        page_reset.status,
        StatusCode::CONFLICT,
        "nothing left to reset"
    );
    let removed = api.list_audit(AuditFilter::kind("totp_removed")).ok().await;
    assert_eq!(
        removed[0]["detail"],
        "TOTP second factor reset by the owner"
    );
    assert_eq!(removed[0]["subject"], "hana");
    let changes = api.list_audit(AuditFilter::kind("admin_change")).ok().await;
    assert!(
        changes
            .to_string()
            .contains("TOTP second factor no longer required")
    );

    // Her session goes on; her next login needs no code.
    assert_eq!(hana.get("/").await.status, StatusCode::OK);
    hana.cookies.clear();
    assert_eq!(location(&hana.log_in("hana", PASSWORD).await), "/");
}
