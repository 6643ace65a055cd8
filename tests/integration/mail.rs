//! Mail through a real SMTP server (aiosmtpd, tests/integration/smtp.rs): the test mail as
//! valid MIME, retries on 451 and on a server that is down or dies after accepting the data,
//! nothing lost over a restart, the bounded send rate, and the refusal without `[mail]`.

use std::time::Duration;

use deskprov::mail::MailConfig;
use http::StatusCode;
use mail_parser::{MessageParser, MimeHeaders};
use serde_json::{Value, json};

use crate::helpers::TestServer;
use crate::smtp::Smtp;

const WAIT: Duration = Duration::from_secs(30);

async fn server(smtp: &Smtp, rate: u32) -> TestServer {
    let url = smtp.url();
    TestServer::start_with(move |c| c.mail = Some(mail_config(url, rate))).await
}

pub(crate) fn mail_config(url: String, rate: u32) -> MailConfig {
    MailConfig {
        smtp_url: url,
        allow_plaintext_loopback: true,
        from: "Deskprov <prov@example.com>".into(),
        reply_to: Some("helpdesk@example.com".into()),
        rate_per_second: rate,
        ..MailConfig::default()
    }
}

/// The outbox's mails to `local`@example.com, waited for until `done` holds for all of them.
pub(crate) async fn mails_until(
    server: &TestServer,
    local: &str,
    done: impl Fn(&Value) -> bool,
) -> Vec<Value> {
    let recipient = format!("{local}@example.com");
    let end = tokio::time::Instant::now() + WAIT;
    loop {
        let all = server.admin_api().list_mail(None).ok().await;
        let mine: Vec<Value> = all
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["recipient"] == recipient.as_str())
            .cloned()
            .collect();
        if (!mine.is_empty() && mine.iter().all(&done)) || tokio::time::Instant::now() > end {
            return mine;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn message_id(raw: &[u8]) -> String {
    let message = MessageParser::default().parse(raw).expect("a mail parses");
    message.message_id().expect("a Message-ID").to_string()
}

#[tokio::test]
async fn a_test_mail_arrives_as_multipart_alternative_in_the_site_language() {
    let smtp = Smtp::shared();
    let server = server(smtp, 50).await;
    let api = server.admin_api();
    api.patch_settings(json!({"language": "de"})).ok().await;
    let queued = api.send_test_mail("first@example.com").ok().await;
    assert_eq!(queued["state"], "queued");
    assert_eq!(queued["language"], "de");
    let raw = smtp.wait_for("first", 1, WAIT).await;
    assert_eq!(raw.len(), 1, "the test mail arrives once");
    let message = MessageParser::default().parse(&raw[0]).expect("valid MIME");
    let kind = message.content_type().expect("a content type");
    assert_eq!(kind.ctype(), "multipart");
    assert_eq!(kind.subtype(), Some("alternative"));
    assert_eq!(
        (message.text_body_count(), message.html_body_count()),
        (1, 1)
    );
    let text = message.body_text(0).unwrap();
    let html = message.body_html(0).unwrap();
    assert!(
        text.contains("Testnachricht") && text.contains("first@example.com"),
        "{text}"
    );
    assert!(!text.contains("<p>"), "{text}");
    assert!(
        html.contains("<p>") && html.contains("Testnachricht"),
        "{html}"
    );
    assert_eq!(message.subject(), Some("deskprov: Testnachricht"));
    assert_eq!(
        message.header_raw("Content-Language").map(str::trim),
        Some("de")
    );
    let sent_id = message.message_id().unwrap();
    assert_eq!(
        format!("<{sent_id}>"),
        queued["message_id"].as_str().unwrap()
    );
    let listed = mails_until(&server, "first", |m| m["state"] == "sent").await;
    assert_eq!(listed[0]["state"], "sent");
    assert_eq!(listed[0]["attempts"], 1);
    let audit = api
        .list_audit(crate::api::AuditFilter::kind("mail_sent"))
        .ok()
        .await;
    assert_eq!(audit.as_array().unwrap().len(), 1, "{audit}");
}

#[tokio::test]
async fn without_mail_settings_every_mail_action_is_refused_clearly() {
    let server = TestServer::start().await;
    let api = server.admin_api();
    let refusal = api
        .send_test_mail("someone@example.com")
        .fails(StatusCode::CONFLICT)
        .await;
    assert!(
        refusal.to_string().contains("mail is not configured"),
        "{refusal}"
    );
    let listing = api.list_mail(None).fails(StatusCode::CONFLICT).await;
    assert!(
        listing.to_string().contains("mail is not configured"),
        "{listing}"
    );
    let audit = api
        .list_audit(crate::api::AuditFilter::kind("mail_queued"))
        .ok()
        .await;
    assert_eq!(
        audit.as_array().unwrap().len(),
        0,
        "nothing was queued: {audit}"
    );
}

#[tokio::test]
async fn a_bad_address_is_refused_and_queues_nothing() {
    let smtp = Smtp::shared();
    let server = server(smtp, 50).await;
    let api = server.admin_api();
    let refusal = api
        .send_test_mail("not an address")
        .fails(StatusCode::BAD_REQUEST)
        .await;
    assert!(
        refusal.to_string().contains("not a mail address"),
        "{refusal}"
    );
    assert_eq!(api.list_mail(None).ok().await, json!([]));
}

#[tokio::test]
async fn an_answer_451_is_retried_later() {
    let smtp = Smtp::shared();
    let server = server(smtp, 50).await;
    smtp.order("later", "451 4.3.0 try again later");
    server
        .admin_api()
        .send_test_mail("later@example.com")
        .ok()
        .await;
    let tried = mails_until(&server, "later", |m| m["attempts"].as_u64() >= Some(1)).await;
    assert_eq!(tried[0]["state"], "queued");
    let answer = tried[0]["last_answer"].as_str().unwrap_or_default();
    assert!(answer.contains("451"), "{answer}");
    assert!(smtp.mails("later").is_empty());
    smtp.clear_order("later");
    server.clock.advance(60);
    assert_eq!(smtp.wait_for("later", 1, WAIT).await.len(), 1);
    let sent = mails_until(&server, "later", |m| m["state"] == "sent").await;
    assert!(sent[0]["attempts"].as_u64().unwrap() >= 2, "{}", sent[0]);
}

#[tokio::test]
async fn mails_queued_while_the_server_is_down_all_arrive_when_it_is_back() {
    let mut smtp = Smtp::start();
    let server = server(&smtp, 50).await;
    smtp.down();
    for _ in 0..20 {
        server
            .admin_api()
            .send_test_mail("down@example.com")
            .ok()
            .await;
    }
    let tried = mails_until(&server, "down", |m| m["attempts"].as_u64() >= Some(1)).await;
    assert_eq!(tried.len(), 20);
    assert!(tried.iter().all(|m| m["state"] == "queued"), "{tried:?}");
    smtp.up();
    server.clock.advance(60);
    let arrived = smtp.wait_for("down", 20, WAIT).await;
    assert_eq!(arrived.len(), 20);
    let ids: std::collections::BTreeSet<String> = arrived.iter().map(|m| message_id(m)).collect();
    assert_eq!(
        ids.len(),
        20,
        "each mail once, each with its own Message-ID"
    );
}

#[tokio::test]
async fn a_server_that_dies_after_accepting_the_data_gets_the_same_message_id_again() {
    let mut smtp = Smtp::start();
    let server = server(&smtp, 50).await;
    smtp.order("die", "die");
    server
        .admin_api()
        .send_test_mail("die@example.com")
        .ok()
        .await;
    let end = tokio::time::Instant::now() + WAIT;
    while !smtp.exited() && tokio::time::Instant::now() < end {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(smtp.exited(), "the handler died after storing the data");
    smtp.up();
    server.clock.advance(60);
    let arrived = smtp.wait_for("die", 2, WAIT).await;
    assert_eq!(arrived.len(), 2, "sent again after the server died");
    assert_eq!(message_id(&arrived[0]), message_id(&arrived[1]));
}

#[tokio::test]
async fn mails_queued_before_a_restart_are_sent_after_it() {
    let mut smtp = Smtp::start();
    let mut server = server(&smtp, 50).await;
    smtp.down();
    for _ in 0..5 {
        server
            .admin_api()
            .send_test_mail("restart@example.com")
            .ok()
            .await;
    }
    let url = smtp.url();
    server
        .restart_with(move |c| c.mail = Some(mail_config(url, 50)))
        .await;
    smtp.up();
    server.clock.advance(60);
    assert_eq!(smtp.wait_for("restart", 5, WAIT).await.len(), 5);
}

#[tokio::test]
async fn a_bulk_welcome_to_500_users_is_sent_at_the_bounded_rate() {
    const RATE: usize = 25;
    let smtp = Smtp::shared();
    let server = server(smtp, RATE as u32).await;
    let api = server.admin_api();
    let mut csv = String::from("extension,display_name,email\n");
    let extensions: Vec<String> = (0..500).map(|n| (5000 + n).to_string()).collect();
    for extension in &extensions {
        csv.push_str(&format!("{extension},Burst User,burst@example.com\n"));
    }
    let job = api.import_to_end("users", &csv, false).await;
    assert_eq!(job["state"], "done", "{job}");
    // One bulk action queues them all.
    let all: Vec<&str> = extensions.iter().map(String::as_str).collect();
    let queued = api.mail_welcome(&all).ok().await;
    assert_eq!(queued["mails"].as_array().unwrap().len(), 500);
    let arrived = smtp.wait_for("burst", 500, Duration::from_secs(60)).await;
    assert_eq!(arrived.len(), 500);
    let times = smtp.times("burst");
    // In any one-second window at most RATE sends (one more for a window's two edges).
    let busiest = times
        .iter()
        .map(|start| {
            times
                .iter()
                .filter(|t| **t >= *start && **t < start + 1.0)
                .count()
        })
        .max()
        .unwrap();
    assert!(busiest <= RATE + 1, "{busiest} mails in one second");
    assert!(
        busiest >= RATE / 2,
        "the sender keeps up the rate: {busiest}"
    );
}

pub(crate) fn binary_server(dir: &std::path::Path, smtp: &Smtp) -> crate::helpers::BinaryServer {
    let config = dir.join("mail.toml");
    let text = format!(
        "[mail]\nsmtp_url = \"{}\"\nallow_plaintext_loopback = true\nfrom = \"prov@example.com\"\nrate_per_second = 50\n",
        smtp.url()
    );
    std::fs::write(&config, text).unwrap();
    crate::helpers::BinaryServer::start(dir, &["--config", config.to_str().unwrap()])
}

/// The CLI's test mail and list; mails queued when the server is killed (-9) are sent by the
/// next start.
#[tokio::test]
async fn the_cli_sends_a_test_mail_and_nothing_queued_is_lost_on_kill_9() {
    let mut smtp = Smtp::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut server = binary_server(d, &smtp);
    let cli = |admin, args: &[&str]| {
        let (code, out, err) = crate::helpers::cli(d, admin, args);
        assert_eq!(code, 0, "deskprov {args:?}: {out}{err}");
        out
    };
    let out = cli(server.admin_addr, &["mail", "test", "cli@example.com"]);
    assert!(
        out.contains("cli@example.com") && out.contains("queued"),
        "{out}"
    );
    assert_eq!(smtp.wait_for("cli", 1, WAIT).await.len(), 1);
    smtp.down();
    for _ in 0..5 {
        cli(server.admin_addr, &["mail", "test", "killed@example.com"]);
    }
    server.signal("KILL");
    server.wait(Duration::from_secs(10));
    let server = binary_server(d, &smtp);
    smtp.up();
    assert_eq!(smtp.wait_for("killed", 5, WAIT).await.len(), 5);
    let end = tokio::time::Instant::now() + WAIT;
    let mut out = String::new();
    while tokio::time::Instant::now() < end {
        out = cli(server.admin_addr, &["mail", "list"]);
        if out.matches(" sent ").count() == 6 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(out.contains("STATE"), "{out}");
    assert_eq!(out.matches(" sent ").count(), 6, "{out}");
}
