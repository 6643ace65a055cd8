//! Mail that brings users into the portal, through the run's shared SMTP server (aiosmtpd) and
//! its real Chromium: a welcome mail followed to a new password and PIN and on to a hot-desk
//! phone; welcome and reset mails from the API, the console and the CLI, all or none; links
//! dead after a newer one or a use; the "forgot password" page answering alike for unknown
//! names, in the same time, within its limits; a password spray across 200 users stopped.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use http::StatusCode;
use mail_parser::MessageParser;
use serde_json::{Value, json};

use crate::api::NewUser;
use crate::browser::page;
use crate::console::{Browser, hidden};
use crate::console_browser::both_languages_with;
use crate::helpers::TestServer;
use crate::mail::{mail_config, mails_until};
use crate::portal::portal_log_in;
use crate::smtp::Smtp;
use crate::timing::{Side, assert_alike_in_time};

const WAIT: Duration = Duration::from_secs(30);
const PASSWORD: &str = "greta's own portal password";

async fn mail_server() -> TestServer {
    let url = Smtp::shared().url();
    TestServer::start_with(move |c| c.mail = Some(mail_config(url, 50))).await
}

/// A received mail's parts, parsed by a real MIME parser.
struct Received {
    subject: String,
    text: String,
    html: String,
}

impl Received {
    fn parse(raw: &[u8]) -> Received {
        let message = MessageParser::default().parse(raw).expect("valid MIME");
        Received {
            subject: message.subject().unwrap_or_default().to_string(),
            text: message.body_text(0).expect("a text part").into_owned(),
            html: message.body_html(0).expect("an HTML part").into_owned(),
        }
    }

    /// The one-time link of the text part; its token is recorded for the log scan.
    fn link(&self) -> String {
        let link = self
            .text
            .lines()
            .map(str::trim)
            .find(|l| l.starts_with("https://") && l.contains("/me/link/"))
            .unwrap_or_else(|| panic!("no link in {}", self.text))
            .to_string();
        crate::logs::remember_secret(path_of(&link).rsplit('/').next().unwrap());
        assert!(
            self.html.contains(&format!("href=\"{link}\"")),
            "{}",
            self.html
        );
        link
    }
}

fn path_of(link: &str) -> &str {
    &link[link.find("/me/").expect("a portal link")..]
}

/// The mails to `local`@example.com, once `count` arrived.
async fn received(local: &str, count: usize) -> Vec<Received> {
    let raw = Smtp::shared().wait_for(local, count, WAIT).await;
    assert_eq!(raw.len(), count, "mails to {local}");
    raw.iter().map(|m| Received::parse(m)).collect()
}

fn user_with_mail(extension: &str, name: &str, local: &str) -> crate::api::Body {
    NewUser::new(extension, name)
        .email(&format!("{local}@example.com"))
        .into()
}

/// Uses a one-time link as its page's form does; the answer.
async fn use_link(
    browser: &mut Browser<'_>,
    link: &str,
    fields: &[(&str, &str)],
) -> deskprov::client::Reply {
    let form = browser.get(path_of(link)).await.text();
    // A dead link's page has no form: the login page's token is as good for the POST.
    let form = match form.contains("name=\"csrf\"") {
        true => form,
        false => browser.get("/me/").await.text(),
    };
    let csrf = hidden(&form, "csrf");
    let mut all = vec![("csrf", csrf.as_str())];
    all.extend_from_slice(fields);
    browser.post(path_of(link), &all).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_welcome_mail_leads_through_chromium_to_the_portal_and_a_new_pin_at_the_phone() {
    use crate::hotdesk::{ALICE_SECRET, YEALINK, add_desk, login, site};
    const FIRST_PIN: &str = "582931";
    const NEW_PIN: &str = "693042";
    crate::logs::remember_secret(PASSWORD);
    let url = Smtp::shared().url();
    let server = site(move |c| c.mail = Some(mail_config(url, 50))).await;
    add_desk(&server, YEALINK).await;
    let api = server.admin_api();
    api.create_user(user_with_mail("2001", "Greta Weiss", "greta.welcome"))
        .ok()
        .await;
    let queued = api.mail_welcome(&["2001"]).ok().await;
    assert_eq!(queued["mails"][0]["kind"], "welcome", "{queued}");
    let [mail] = received("greta.welcome", 1).await.try_into().ok().unwrap();
    assert_eq!(mail.subject, "Your access to the phone self-service portal");
    let link = mail.link();
    let phone_port = server.running().phone_addr.port();
    assert!(
        link.starts_with(&format!("https://127.0.0.1:{phone_port}/me/link/")),
        "the link names the phone listener: {link}"
    );
    assert!(!mail.text.contains('{') && !mail.text.contains(ALICE_SECRET));

    let browser = page().await;
    browser.open(&link).await;
    browser.axe("portal one-time link (en)").await;
    browser.screenshot("portal-link-en").await;
    browser.fill("new_password", PASSWORD).await;
    browser.fill("pin", FIRST_PIN).await;
    browser.click_button("Save").await;
    assert!(browser.text().await.contains("Saved."));
    browser.axe("portal login after the link").await;
    browser.fill("login", "greta.welcome@example.com").await;
    browser.fill("password", PASSWORD).await;
    browser.click_button("Log in").await;
    assert!(
        browser
            .text()
            .await
            .contains("Overview: Greta Weiss (2001)"),
        "{}",
        browser.text().await
    );
    let home = format!("https://127.0.0.1:{phone_port}/me/");
    both_languages_with(&browser, &home, "portal-home", &["Greta Weiss (2001)"]).await;
    browser.screenshot("portal-home").await;

    browser.fill("password", PASSWORD).await;
    browser.fill("pin", NEW_PIN).await;
    browser.click_button("Save").await;
    assert!(browser.text().await.contains("Saved."));
    browser.click_button("Deutsch").await;
    assert!(browser.text().await.contains("Übersicht"), "switched");
    browser.open(&home).await;
    assert!(
        browser.text().await.contains("Übersicht"),
        "the choice is remembered over the browser's English"
    );
    assert_eq!(api.show_user("2001").ok().await["language"], "de");

    let old = login(&server, YEALINK, "2001", FIRST_PIN).await;
    assert!(
        old.starts_with("Wrong PIN"),
        "the link's PIN still works: {old}"
    );
    let new = login(&server, YEALINK, "2001", NEW_PIN).await;
    assert!(!new.starts_with("Wrong PIN"), "{new}");
    assert_eq!(
        api.show_user("2001").ok().await["logged_in_at"]["mac"],
        json!(YEALINK.mac)
    );
    browser.open(&link).await;
    assert!(
        browser.text().await.contains("already used"),
        "{}",
        browser.text().await
    );
    assert!(!browser.has("input[name='new_password']").await);
    browser.open(&home).await;
    browser.click_button("Abmelden").await;
    let portal = format!("https://127.0.0.1:{phone_port}/me");
    both_languages_with(&browser, &format!("{portal}/"), "portal-login", &[]).await;
    both_languages_with(&browser, &format!("{portal}/forgot"), "portal-forgot", &[]).await;

    // The admin sees the mail's state on the user's page and in the outbox, in both languages.
    use crate::console_users::{PASSWORD as ADMIN_PASSWORD, seed_account};
    seed_account(&server, "erika", "owner").await;
    let console = format!("https://localhost:{}", server.running().admin_addr.port());
    browser.open(&format!("{console}/login")).await;
    browser.fill("username", "erika").await;
    browser.fill("password", ADMIN_PASSWORD).await;
    browser.click_button("Log in").await;
    mails_until(&server, "greta.welcome", |m| m["state"] == "sent").await;
    let when = api.list_mail(Some("2001")).ok().await[0]["created_at"]
        .as_i64()
        .unwrap();
    let queued_at = deskprov::clock::rfc3339(when);
    let user_data = [
        "Greta Weiss",
        "greta.welcome@example.com",
        YEALINK.mac,
        queued_at.as_str(),
    ];
    both_languages_with(
        &browser,
        &format!("{console}/users/2001"),
        "user-mails",
        &user_data,
    )
    .await;
    assert_eq!(browser.text_of("#user-mails td.state").await, "sent");
    let outbox_data = ["1", "greta.welcome@example.com", "2001", queued_at.as_str()];
    both_languages_with(
        &browser,
        &format!("{console}/mail"),
        "mail-outbox",
        &outbox_data,
    )
    .await;
    browser.fill("address", "erika.test@example.com").await;
    browser.click_button("Send test mail").await;
    assert!(browser.text().await.contains("Test mail queued."));
    received("erika.test", 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn welcome_and_reset_mails_are_all_or_none_and_only_the_newest_link_works() {
    let server = mail_server().await;
    let api = server.admin_api();
    api.create_user(user_with_mail("2101", "Hanna Roth", "hanna.reset"))
        .ok()
        .await;
    api.create_user(user_with_mail("2102", "Ivo Lang", "ivo.reset"))
        .ok()
        .await;
    api.create_user(NewUser::new("2103", "Jan Ohnepost"))
        .ok()
        .await;
    api.create_user(user_with_mail("2104", "Kai Zu", "kai.locked"))
        .ok()
        .await;
    api.lock_user("2104").ok().await;

    let no_address = api
        .mail_welcome(&["2101", "2102", "2103"])
        .fails(StatusCode::BAD_REQUEST)
        .await;
    assert!(
        no_address.to_string().contains("no e-mail address: 2103"),
        "{no_address}"
    );
    api.mail_welcome(&["2101", "2199"])
        .fails(StatusCode::NOT_FOUND)
        .await;
    api.mail_reset(&["2101", "2104"])
        .fails(StatusCode::CONFLICT)
        .await;
    assert_eq!(api.list_mail(None).ok().await, json!([]), "nothing queued");

    let both = api.mail_welcome(&["2101", "2102"]).ok().await;
    assert_eq!(both["mails"].as_array().unwrap().len(), 2, "{both}");
    let [welcome] = received("hanna.reset", 1).await.try_into().ok().unwrap();
    let [ivo] = received("ivo.reset", 1).await.try_into().ok().unwrap();
    api.mail_reset(&["2101"]).ok().await;
    api.mail_reset(&["2101"]).ok().await;
    let mails = received("hanna.reset", 3).await;
    assert_eq!(
        mails[1].subject,
        "A new password for the self-service portal"
    );
    let (older, newest) = (mails[1].link(), mails[2].link());

    let mut browser = Browser::on_phone_listener(&server, [127, 0, 0, 1].into());
    for dead in [welcome.link(), older] {
        let refused = use_link(&mut browser, &dead, &[("new_password", PASSWORD)]).await;
        assert_eq!(
            refused.status,
            StatusCode::BAD_REQUEST,
            "an older link works"
        );
    }
    // A link sets its own user's password whatever the form claims.
    let ivo_link = ivo.link();
    let fields = [
        ("new_password", PASSWORD),
        ("pin", "472819"),
        ("extension", "2101"),
    ];
    let used = use_link(&mut browser, &ivo_link, &fields).await;
    assert_eq!(used.status, StatusCode::OK, "{}", used.text());
    assert_eq!(
        api.show_user("2102").ok().await["has_portal_password"],
        true
    );
    assert_eq!(
        api.show_user("2101").ok().await["has_portal_password"],
        false
    );
    let used = use_link(
        &mut browser,
        &newest,
        &[("new_password", PASSWORD), ("pin", "")],
    )
    .await;
    assert_eq!(used.status, StatusCode::OK, "{}", used.text());
    assert_eq!(
        api.show_user("2101").ok().await["has_portal_password"],
        true
    );
    let twice = use_link(
        &mut browser,
        &newest,
        &[("new_password", "yet another password")],
    )
    .await;
    assert_eq!(twice.status, StatusCode::BAD_REQUEST, "a link used twice");

    let states = mails_until(&server, "hanna.reset", |m| m["state"] == "sent").await;
    assert_eq!(states.len(), 3);
    let listed = api.list_mail(Some("2101")).ok().await;
    let kinds: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["reset", "reset", "welcome"], "newest first");
    assert!(
        !listed.to_string().contains("/me/link/"),
        "a token in the outbox"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_mails_one_user_or_several_and_shows_each_mails_state() {
    use crate::console_users::{PASSWORD as ADMIN_PASSWORD, seed_account};
    let server = mail_server().await;
    let api = server.admin_api();
    for (extension, name, local) in [
        ("2301", "Lea Weber", "lea.console"),
        ("2302", "Max Bauer", "max.console"),
        ("2303", "Nina Kurz", "nina.console"),
    ] {
        api.create_user(user_with_mail(extension, name, local))
            .ok()
            .await;
    }
    seed_account(&server, "mia", "admin").await;
    let mut browser = Browser::new(&server);
    browser.log_in("mia", ADMIN_PASSWORD).await;
    let csrf = browser.csrf("/users/2301").await;
    let sent = browser
        .post("/users/2301/mail-welcome", &[("csrf", &csrf)])
        .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.text());
    received("lea.console", 1).await;
    let ticked = [
        ("csrf", csrf.as_str()),
        ("selected", "2302"),
        ("selected", "2303"),
    ];
    let asked = browser.post("/users/bulk/mail-reset", &ticked).await;
    assert!(
        asked.text().contains("id=\"confirm-count\">2<"),
        "{}",
        asked.text()
    );
    let mut confirmed = ticked.to_vec();
    confirmed.push(("confirmed", "yes"));
    let done = browser.post("/users/bulk/mail-reset", &confirmed).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text());
    received("max.console", 1).await;
    received("nina.console", 1).await;
    mails_until(&server, "lea.console", |m| m["state"] == "sent").await;
    let detail = browser.get("/users/2301").await.text();
    assert!(detail.contains("id=\"user-mails\""), "{detail}");
    assert!(
        detail.contains("<td>Welcome</td><td class=\"state\">sent</td>"),
        "{detail}"
    );
    let outbox = browser.get("/mail").await.text();
    assert_eq!(
        outbox.matches("<tr>").count() + outbox.matches("<tr class").count(),
        4
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forgot_password_answers_alike_for_unknown_names_in_the_same_time_and_within_limits() {
    const PAIRS: usize = 16;
    let server = mail_server().await;
    let api = server.admin_api();
    let source = |n: usize| -> IpAddr { [127, 0, 1, n as u8 + 1].into() };
    let strip = |page: String| {
        let csrf = hidden(&page, "csrf");
        page.replace(&csrf, "")
    };
    let mut users = Vec::new();
    let mut answers = std::collections::BTreeSet::new();
    let what = "forgotten password, known / unknown address";
    assert_alike_in_time(what, 1.1, PAIRS, async |side, pair| {
        let extension = format!("{}", 2400 + pair);
        let name = if side == Side::A {
            let local = format!("forgot.{extension}");
            api.create_user(user_with_mail(&extension, "Olga Vogt", &local))
                .ok()
                .await;
            users.push(extension);
            format!("{local}@example.com")
        } else {
            format!("nobody.{pair}@example.com")
        };
        let mut browser = Browser::on_phone_listener(&server, source(pair));
        let csrf = hidden(&browser.get("/me/forgot").await.text(), "csrf");
        let started = Instant::now();
        let reply = browser
            .post("/me/forgot", &[("csrf", &csrf), ("login", &name)])
            .await;
        let took = started.elapsed().as_secs_f64();
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
        answers.insert(strip(reply.text()));
        took
    })
    .await;
    assert_eq!(answers.len(), 1, "the answers differ: {answers:?}");
    for extension in &users {
        let [mail] = received(&format!("forgot.{extension}"), 1)
            .await
            .try_into()
            .ok()
            .unwrap();
        mail.link();
    }

    // One user gets at most three such mails an hour, whoever asks.
    for n in 0..5 {
        let mut browser = Browser::on_phone_listener(&server, [127, 0, 3, n + 1].into());
        let csrf = hidden(&browser.get("/me/forgot").await.text(), "csrf");
        let fields = [("csrf", csrf.as_str()), ("login", "2400")];
        assert_eq!(
            browser.post("/me/forgot", &fields).await.status,
            StatusCode::OK
        );
    }
    let mails = api.list_mail(Some("2400")).ok().await;
    assert_eq!(mails.as_array().unwrap().len(), 3, "{mails}");

    // One source asks at most 20 times a quarter of an hour.
    let mut browser = Browser::on_phone_listener(&server, [127, 0, 2, 1].into());
    let mut statuses = Vec::new();
    for n in 0..21 {
        let csrf = hidden(&browser.get("/me/forgot").await.text(), "csrf");
        let name = format!("spray.{n}@example.com");
        let reply = browser
            .post("/me/forgot", &[("csrf", &csrf), ("login", &name)])
            .await;
        statuses.push(reply.status);
        if reply.status == StatusCode::TOO_MANY_REQUESTS {
            assert!(reply.headers.get("retry-after").is_some());
        }
    }
    assert!(
        statuses[..20].iter().all(|s| *s == StatusCode::OK),
        "{statuses:?}"
    );
    assert_eq!(statuses[20], StatusCode::TOO_MANY_REQUESTS);
    let forged = browser.post("/me/forgot", &[("login", "2401")]).await;
    assert_eq!(
        forged.status,
        StatusCode::FORBIDDEN,
        "a POST without the form's token"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_spray_across_200_users_from_one_source_is_stopped_within_the_limits() {
    let server = TestServer::start().await;
    let api = server.admin_api();
    let mut csv = String::from("extension,display_name\n");
    for n in 0..200 {
        csv.push_str(&format!("{},Sprayed User\n", 3000 + n));
    }
    let job = api.import_to_end("users", &csv, false).await;
    assert_eq!(job["state"], "done", "{job}");
    api.set_portal_password("3000", json!({"password": PASSWORD}))
        .ok()
        .await;
    let limit = server.running().app.config.hotdesk.device_max_failures as usize;
    let mut browser = Browser::on_phone_listener(&server, [127, 0, 3, 1].into());
    let mut refused = 0;
    let mut throttled = 0;
    for n in 0..200 {
        let login = format!("{}", 3000 + n);
        match portal_log_in(&mut browser, &login, "Summer2026!Summer")
            .await
            .status
        {
            StatusCode::UNAUTHORIZED => refused += 1,
            StatusCode::TOO_MANY_REQUESTS => throttled += 1,
            other => panic!("{login}: {other}"),
        }
    }
    assert!(
        refused <= limit,
        "{refused} passwords checked, the limit is {limit}"
    );
    assert_eq!(refused + throttled, 200);
    // The right password from the same source is refused too while it is throttled, and
    // another source's user is not affected; no phone login was locked.
    let right = portal_log_in(&mut browser, "3000", PASSWORD).await;
    assert_eq!(right.status, StatusCode::TOO_MANY_REQUESTS);
    let mut elsewhere = Browser::on_phone_listener(&server, [127, 0, 3, 2].into());
    let right = portal_log_in(&mut elsewhere, "3000", PASSWORD).await;
    assert_eq!(right.status, StatusCode::SEE_OTHER);
    let user: Value = api.show_user("3001").ok().await;
    assert_eq!(
        user["login_failures"],
        json!({"failures": 0, "locked_until": null, "lockouts": 0}),
        "the portal's guessing counts against the phone login: {user}"
    );
}

/// The CLI's portal commands against the binary server: `users set-password` (generated, or
/// typed on standard input and checked), `users mail-welcome` and `users mail-reset`, all or
/// none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_sets_portal_passwords_and_mails_welcome_and_reset_links() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let server = crate::mail::binary_server(d, Smtp::shared());
    let admin = server.admin_addr;
    let run = |args: &[&str]| crate::helpers::cli(d, admin, args);
    let ok = |args: &[&str]| {
        let (code, out, err) = run(args);
        assert_eq!(code, 0, "deskprov {args:?}: {out}{err}");
        out
    };
    ok(&[
        "users",
        "add",
        "2501",
        "--name",
        "Paul Rot",
        "--email",
        "paul.cli@example.com",
    ]);
    ok(&[
        "users",
        "add",
        "2502",
        "--name",
        "Pia Grau",
        "--email",
        "pia.cli@example.com",
    ]);

    let (code, out, err) = run(&["users", "set-password", "2501", "--generate"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(err.contains("shown this once"), "{err}");
    let generated = out
        .lines()
        .find_map(|l| l.strip_prefix("portal_password"))
        .unwrap_or_else(|| panic!("no generated password in {out}"))
        .trim()
        .to_string();
    crate::logs::remember_secret(&generated);
    assert!(generated.len() >= 12, "{generated}");
    let typed = |input: &str| {
        crate::helpers::cli_with_input(d, admin, &["users", "set-password", "2502"], input)
    };
    let (code, out, err) = typed("short\n");
    assert_ne!(code, 0, "a short password is refused: {out}");
    assert!(err.contains("12"), "{err}");
    crate::logs::remember_secret("pia-types-her-own-password");
    let (code, out, err) = typed("pia-types-her-own-password\n");
    assert_eq!(code, 0, "{out}{err}");
    assert!(!out.contains("pia-types-her-own-password"), "{out}");
    let shown = ok(&["--json", "users", "show", "2502"]);
    let shown: Value = serde_json::from_str(&shown).unwrap();
    assert_eq!(shown["has_portal_password"], true, "{shown}");

    let (code, out, err) = run(&["users", "mail-welcome", "2501", "2599"]);
    assert_ne!(code, 0, "{out}");
    assert!(err.contains("2599"), "{err}");
    let out = ok(&["users", "mail-welcome", "2501", "2502"]);
    assert_eq!(out.matches(" welcome ").count(), 2, "{out}");
    let out = ok(&["users", "mail-reset", "2501"]);
    assert!(out.contains(" reset ") && out.contains("queued"), "{out}");
    let paul = received("paul.cli", 2).await;
    let subjects: std::collections::BTreeSet<&str> =
        paul.iter().map(|m| m.subject.as_str()).collect();
    assert_eq!(subjects.len(), 2, "a welcome and a reset: {subjects:?}");
    received("pia.cli", 1).await[0].link();
}
