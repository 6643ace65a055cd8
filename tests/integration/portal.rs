//! The self-service portal's admin side and its one-time links: a user's portal password set
//! or generated through the API (never in the audit trail), the policy refusing weak ones, and
//! links issued by `ops::links::issue`: single use, dead after a newer one or a password
//! change, and never usable for another user.

use http::StatusCode;
use serde_json::{Value, json};

use crate::api::{AuditFilter, NewUser};
use crate::console::{Browser, hidden};
use crate::helpers::TestServer;
use crate::timing::{Side, assert_alike_in_time};
use deskprov::client::Reply;
use deskprov::model::LinkPurpose;
use deskprov::ops::{Actor, links};

const GOOD: &str = "a long portal password";

fn token_of(url: &deskprov::domain::Secret) -> String {
    url.expose().rsplit('/').next().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_set_portal_passwords_and_links_are_single_use() {
    let server = TestServer::start().await;
    let api = server.admin_api();
    api.create_user(NewUser::new("4711", "Anna Schmidt").last_name("Schmidt"))
        .ok()
        .await;
    api.create_user(NewUser::new("4712", "Bob Meier"))
        .ok()
        .await;

    // The policy: too short, or containing the extension or a name, changes nothing.
    for bad in ["short", "my-4711-password", "i-am-schmidt-really"] {
        api.set_portal_password("4711", json!({"password": bad}))
            .fails(StatusCode::BAD_REQUEST)
            .await;
    }
    let user = api.show_user("4711").ok().await;
    assert_eq!(user["has_portal_password"], false);

    let generated = api
        .set_portal_password("4711", json!({"generate": true, "require_change": true}))
        .ok()
        .await;
    let password = generated["portal_password"].as_str().unwrap().to_string();
    assert!(password.len() >= 12);
    assert_eq!(generated["has_portal_password"], true);
    assert_eq!(generated["password_change_required"], true);
    let shown_again = api.show_user("4711").ok().await;
    assert!(shown_again.get("portal_password").is_none());
    let trail = api
        .list_audit(AuditFilter::kind("admin_change").subject("4711"))
        .ok()
        .await;
    let text = trail.to_string();
    assert!(text.contains("portal password generated"), "{text}");
    assert!(!text.contains(&password), "the password is in the trail");

    // Links: issued, used once; a newer one kills the older; another user's is theirs only.
    let app = server.running().app.clone();
    let admin = Actor::system("test");
    let ext = deskprov::domain::Extension::parse("4711").unwrap();
    let bob = deskprov::domain::Extension::parse("4712").unwrap();
    let first = links::issue(&app, &admin, &ext, LinkPurpose::Reset)
        .await
        .unwrap();
    assert!(first.url.expose().contains("/me/link/"));
    let second = links::issue(&app, &admin, &ext, LinkPurpose::Welcome)
        .await
        .unwrap();
    let older = links::consume(&app, &admin, &token_of(&first.url), GOOD, "")
        .await
        .unwrap();
    assert_eq!(
        older,
        Err(links::LinkRefusal::Invalid),
        "an older link still works"
    );
    // Anna has no PIN: the welcome link asks for one and refuses a weak one.
    let weak = links::consume(&app, &admin, &token_of(&second.url), GOOD, "123456")
        .await
        .unwrap();
    assert!(matches!(weak, Err(links::LinkRefusal::Pin(_))), "{weak:?}");
    let used = links::consume(&app, &admin, &token_of(&second.url), GOOD, "739164")
        .await
        .unwrap();
    assert_eq!(used, Ok(ext.clone()));
    let again = links::consume(&app, &admin, &token_of(&second.url), GOOD, "739164")
        .await
        .unwrap();
    assert_eq!(
        again,
        Err(links::LinkRefusal::Invalid),
        "a link works twice"
    );
    let anna: Value = api.show_user("4711").ok().await;
    assert_eq!(anna["has_pin"], true);
    assert_eq!(anna["password_change_required"], false);

    let bobs = links::issue(&app, &admin, &bob, LinkPurpose::Welcome)
        .await
        .unwrap();
    // A token made up for Anna, and Bob's token with Anna's link gone: only Bob's own works.
    let forged = links::consume(&app, &admin, "not-a-token", GOOD, "739164")
        .await
        .unwrap();
    assert_eq!(forged, Err(links::LinkRefusal::Invalid));
    let bob_used = links::consume(
        &app,
        &admin,
        &token_of(&bobs.url),
        "another good password",
        "582931",
    )
    .await
    .unwrap();
    assert_eq!(
        bob_used,
        Ok(bob.clone()),
        "the link sets the password of its own user"
    );
    assert_eq!(
        api.show_user("4711").ok().await["has_portal_password"],
        true
    );

    // A password change by the admin invalidates a link issued before it.
    let before = links::issue(&app, &admin, &ext, LinkPurpose::Reset)
        .await
        .unwrap();
    api.set_portal_password("4711", json!({"password": "yet another password"}))
        .ok()
        .await;
    let stale = links::consume(&app, &admin, &token_of(&before.url), GOOD, "")
        .await
        .unwrap();
    assert_eq!(stale, Err(links::LinkRefusal::Invalid));

    // Expiry: an hour.
    let late = links::issue(&app, &admin, &ext, LinkPurpose::Reset)
        .await
        .unwrap();
    server.clock.advance(links::VALID_SECS);
    let expired = links::consume(&app, &admin, &token_of(&late.url), GOOD, "")
        .await
        .unwrap();
    assert_eq!(expired, Err(links::LinkRefusal::Invalid));
}

pub(crate) async fn portal_log_in(browser: &mut Browser<'_>, login: &str, password: &str) -> Reply {
    let form = browser.get("/me/").await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.text());
    let csrf = hidden(&form.text(), "csrf");
    let fields = [
        ("csrf", csrf.as_str()),
        ("login", login),
        ("password", password),
    ];
    browser.post("/me/login", &fields).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_log_in_by_extension_or_mail_change_their_pin_and_guessers_are_stopped() {
    let server = TestServer::start_with(|c| {
        c.portal.allow_networks = vec!["127.0.0.0/30".parse().unwrap()];
    })
    .await;
    let api = server.admin_api();
    let anna = json!({"extension": "4711", "display_name": "Anna", "email": "anna@example.com", "pin": "739164"});
    api.create_user(crate::api::Body::Json(anna)).ok().await;
    api.set_portal_password("4711", json!({"password": GOOD, "require_change": true}))
        .ok()
        .await;
    let local: std::net::IpAddr = [127, 0, 0, 1].into();

    // Outside allow_networks: 404 without detail.
    let mut outsider = Browser::on_phone_listener(&server, [127, 0, 0, 8].into());
    assert_eq!(outsider.get("/me/").await.status, StatusCode::NOT_FOUND);

    // By e-mail; the forced change comes first: no PIN form, no lines.
    let mut browser = Browser::on_phone_listener(&server, local);
    let login = portal_log_in(&mut browser, "ANNA@example.com", GOOD).await;
    assert_eq!(login.status, StatusCode::SEE_OTHER, "{}", login.text());
    assert!(browser.cookies.contains_key("__Host-deskprov-portal"));
    let home = browser.get("/me/").await.text();
    assert!(!home.contains("action=\"/me/pin\""), "{home}");
    let csrf = hidden(&home, "csrf");
    let pin_first = browser
        .post(
            "/me/pin",
            &[("csrf", &csrf), ("password", GOOD), ("pin", "582931")],
        )
        .await;
    assert_eq!(pin_first.status, StatusCode::FORBIDDEN);
    // Without the CSRF token: refused, nothing changes.
    let no_csrf = browser
        .post(
            "/me/password",
            &[
                ("current_password", GOOD),
                ("new_password", "my own new password"),
            ],
        )
        .await;
    assert_eq!(no_csrf.status, StatusCode::FORBIDDEN);
    let changed = browser
        .post(
            "/me/password",
            &[
                ("csrf", &csrf),
                ("current_password", GOOD),
                ("new_password", "my own new password"),
            ],
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text());
    assert_eq!(
        api.show_user("4711").ok().await["password_change_required"],
        false
    );

    // By extension, then the PIN: a weak one is refused, a good one saved.
    let mut again = Browser::on_phone_listener(&server, local);
    let login = portal_log_in(&mut again, "4711", "my own new password").await;
    assert_eq!(login.status, StatusCode::SEE_OTHER);
    let csrf = hidden(&again.get("/me/").await.text(), "csrf");
    let weak = again
        .post(
            "/me/pin",
            &[
                ("csrf", &csrf),
                ("password", "my own new password"),
                ("pin", "123456"),
            ],
        )
        .await;
    assert_eq!(weak.status, StatusCode::BAD_REQUEST);
    let wrong = again
        .post(
            "/me/pin",
            &[("csrf", &csrf), ("password", GOOD), ("pin", "582931")],
        )
        .await;
    assert_eq!(
        wrong.status,
        StatusCode::BAD_REQUEST,
        "the old password still works"
    );
    let saved = again
        .post(
            "/me/pin",
            &[
                ("csrf", &csrf),
                ("password", "my own new password"),
                ("pin", "582931"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.text());
    let trail = api
        .list_audit(AuditFilter::kind("pin_changed").subject("4711"))
        .ok()
        .await;
    assert_eq!(trail.as_array().unwrap().len(), 1, "{trail}");
    assert!(!trail.to_string().contains("582931"));

    // An unknown user gets the very answer a wrong password does.
    let mut guesser = Browser::on_phone_listener(&server, [127, 0, 0, 2].into());
    let unknown = portal_log_in(&mut guesser, "9999", "whatever password").await;
    let wrong = portal_log_in(&mut guesser, "4711", "whatever password").await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.status, unknown.status);
    let strip = |t: String| {
        t.split("value=\"")
            .map(|p| p.split_once('"').map_or(p, |(_, r)| r).to_string())
            .collect::<String>()
    };
    assert_eq!(strip(unknown.text()), strip(wrong.text()));

    // A spray from one source is stopped by the source's own limit; the phone login's
    // counters and Anna's portal login from elsewhere are untouched.
    let limit = server.running().app.config.hotdesk.device_max_failures as usize;
    let mut refused = 0;
    for n in 0..limit + 3 {
        let reply =
            portal_log_in(&mut guesser, &format!("{}", 5000 + n), "whatever password").await;
        if reply.status == StatusCode::TOO_MANY_REQUESTS {
            refused += 1;
        }
    }
    assert!(refused >= 3, "the spray went on: {refused} refused");
    let mut anna_elsewhere = Browser::on_phone_listener(&server, local);
    let ok = portal_log_in(&mut anna_elsewhere, "4711", "my own new password").await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    let user = api.show_user("4711").ok().await;
    assert_eq!(
        user["login_failures"]["failures"], 0,
        "the phone login's counters moved"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pin_changed_in_the_portal_logs_in_at_the_phone_and_the_portal_logs_out_there() {
    use crate::hotdesk::{ALICE_PIN, YEALINK, add_desk, login, site};
    let server = site(|_| {}).await;
    add_desk(&server, YEALINK).await;
    let api = server.admin_api();
    api.set_portal_password("1001", json!({"password": GOOD}))
        .ok()
        .await;
    let mut browser = Browser::on_phone_listener(&server, [127, 0, 0, 1].into());
    assert_eq!(
        portal_log_in(&mut browser, "1001", GOOD).await.status,
        StatusCode::SEE_OTHER
    );
    let csrf = hidden(&browser.get("/me/").await.text(), "csrf");
    let saved = browser
        .post(
            "/me/pin",
            &[("csrf", &csrf), ("password", GOOD), ("pin", "582931")],
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.text());

    let old = login(&server, YEALINK, "1001", ALICE_PIN).await;
    assert!(
        old.starts_with("Wrong PIN"),
        "the old PIN still works: {old}"
    );
    let new = login(&server, YEALINK, "1001", "582931").await;
    assert!(!new.starts_with("Wrong PIN"), "{new}");
    assert_eq!(
        api.show_user("1001").ok().await["logged_in_at"]["mac"],
        json!(YEALINK.mac)
    );

    let home = browser.get("/me/").await.text();
    assert!(home.contains("action=\"/me/hotdesk-logout\""), "{home}");
    let out = browser.post("/me/hotdesk-logout", &[("csrf", &csrf)]).await;
    assert_eq!(out.status, StatusCode::OK, "{}", out.text());
    assert!(api.show_user("1001").ok().await["logged_in_at"].is_null());
    let page = browser.get("/me/").await.text();
    assert!(
        !page.contains(crate::hotdesk::ALICE_SECRET),
        "a SIP password in the portal"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_page_is_consumed_only_by_its_forms_post_and_only_once() {
    let server = TestServer::start().await;
    let api = server.admin_api();
    api.create_user(NewUser::new("4800", "Carla")).ok().await;
    let app = server.running().app.clone();
    let ext = deskprov::domain::Extension::parse("4800").unwrap();
    let issued = links::issue(&app, &Actor::system("test"), &ext, LinkPurpose::Welcome)
        .await
        .unwrap();
    let path = format!("/me/link/{}", token_of(&issued.url));
    let mut browser = Browser::on_phone_listener(&server, [127, 0, 0, 1].into());
    // A mail scanner's GETs change nothing.
    for _ in 0..2 {
        let page = browser.get(&path).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(
            page.text().contains("name=\"pin\""),
            "no PIN field for a user without one"
        );
    }
    let form = browser.get(&path).await.text();
    let csrf = hidden(&form, "csrf");
    let forged = browser
        .post(&path, &[("new_password", GOOD), ("pin", "582931")])
        .await;
    assert_eq!(
        forged.status,
        StatusCode::FORBIDDEN,
        "a POST without the form's token"
    );
    let fields = [
        ("csrf", csrf.as_str()),
        ("new_password", GOOD),
        ("pin", "582931"),
    ];
    let used = browser.post(&path, &fields).await;
    assert_eq!(used.status, StatusCode::OK, "{}", used.text());
    let carla = api.show_user("4800").ok().await;
    assert_eq!(
        (
            carla["has_portal_password"].clone(),
            carla["has_pin"].clone()
        ),
        (json!(true), json!(true))
    );
    let after = browser.get(&path).await.text();
    assert!(
        !after.contains("name=\"new_password\""),
        "the used link still shows its form"
    );
    let csrf = hidden(&browser.get("/me/").await.text(), "csrf");
    let fields = [
        ("csrf", csrf.as_str()),
        ("new_password", "another one entirely"),
        ("pin", "582931"),
    ];
    let twice = browser.post(&path, &fields).await;
    assert_eq!(twice.status, StatusCode::BAD_REQUEST, "a link used twice");
    let login = portal_log_in(&mut browser, "4800", GOOD).await;
    assert_eq!(
        login.status,
        StatusCode::SEE_OTHER,
        "the second use changed the password"
    );
    // The stylesheet the pages name is served on the phone listener too.
    let sheet = form
        .split("href=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    assert_eq!(browser.get(&sheet).await.status, StatusCode::OK, "{sheet}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_users_take_as_long_as_wrong_passwords() {
    let server = TestServer::start_with(|c| {
        c.hotdesk.user_max_failures = 1000;
        c.hotdesk.device_max_failures = 1000;
    })
    .await;
    let api = server.admin_api();
    api.create_user(NewUser::new("4900", "Dora")).ok().await;
    api.set_portal_password("4900", json!({"password": GOOD}))
        .ok()
        .await;
    let mut browser = Browser::on_phone_listener(&server, [127, 0, 0, 1].into());
    let what = "portal login, known / unknown extension";
    assert_alike_in_time(what, 1.1, 30, async |side, _| {
        let login = if side == Side::A { "4900" } else { "4999" };
        let form = browser.get("/me/").await.text();
        let csrf = hidden(&form, "csrf");
        let fields = [
            ("csrf", csrf.as_str()),
            ("login", login),
            ("password", "not the password"),
        ];
        let started = std::time::Instant::now();
        let reply = browser.post("/me/login", &fields).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        started.elapsed().as_secs_f64()
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_generates_a_portal_password_in_the_console_and_the_user_must_change_it() {
    let server = TestServer::start().await;
    server
        .admin_api()
        .create_user(NewUser::new("4950", "Emil"))
        .ok()
        .await;
    crate::console_users::seed_account(&server, "admin-portal", "admin").await;
    let mut console = Browser::new(&server);
    console
        .log_in("admin-portal", crate::console_users::PASSWORD)
        .await;
    let detail = console.get("/users/4950").await.text();
    assert!(
        detail.contains("action=\"/users/4950/portal-password\""),
        "{detail}"
    );
    let csrf = hidden(&detail, "csrf");
    let refused = console.post("/users/4950/portal-password", &[]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "no CSRF token");
    let shown = console
        .post("/users/4950/portal-password", &[("csrf", &csrf)])
        .await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.text());
    let text = shown.text();
    let password = text
        .split("Password: ")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap();
    let password = password.trim().to_string();
    crate::logs::remember_secret(&password);
    let trail = server
        .admin_api()
        .list_audit(AuditFilter::kind("admin_change").subject("4950"))
        .ok()
        .await;
    assert!(
        !trail.to_string().contains(&password),
        "the password is in the trail"
    );
    let mut user = Browser::on_phone_listener(&server, [127, 0, 0, 1].into());
    let login = portal_log_in(&mut user, "4950", &password).await;
    assert_eq!(login.status, StatusCode::SEE_OTHER, "{}", login.text());
    // The console's cookie never opens the portal, nor the portal's the console.
    let home = user.get("/me/").await.text();
    assert!(home.contains("action=\"/me/password\"") && !home.contains("action=\"/me/pin\""));
    let mut crossed = Browser::on_phone_listener(&server, [127, 0, 0, 1].into());
    crossed.cookies = console.cookies.clone();
    assert!(
        crossed
            .get("/me/")
            .await
            .text()
            .contains("action=\"/me/login?")
    );
}
