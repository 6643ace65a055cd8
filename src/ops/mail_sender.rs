//! The outbox sender: a background task that sends due mails at most `rate_per_second` a
//! second, retries a connection failure or a 4xx answer with exponential backoff, gives a mail
//! up (failed, the last answer kept, audited) after `give_up_after_secs` or on a 5xx answer,
//! and marks it sent once the server accepted its DATA. A kill between acceptance and marking
//! sends it again, with the same Message-ID (at least once).

use std::sync::Arc;
use std::time::Duration;

use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use tokio::task::JoinHandle;

use super::write::single_writes;
use super::{Actor, links};
use crate::app::App;
use crate::audit::{Event, Kind};
use crate::mail::config::Security;
use crate::mail::{MailConfig, message};
use crate::model::{MailRecord, MailState};

type Transport = AsyncSmtpTransport<Tokio1Executor>;

/// How often the outbox is looked at when nothing was due.
const IDLE_POLL: Duration = Duration::from_millis(500);
/// The first retry's delay; each next one doubles, up to [`MAX_BACKOFF_SECS`].
const FIRST_BACKOFF_SECS: i64 = 1;
const MAX_BACKOFF_SECS: i64 = 600;

/// Starts the sender when `[mail]` is configured; `None` without it.
pub fn spawn_sender(app: Arc<App>) -> Option<JoinHandle<()>> {
    let config = app.config.mail.clone()?;
    let transport = match transport(&config) {
        Ok(t) => t,
        Err(e) => {
            tracing::error!(error = %e, "mail: the SMTP transport cannot be set up; no mail is sent");
            return None;
        }
    };
    Some(tokio::spawn(run(app, config, transport)))
}

fn transport(config: &MailConfig) -> Result<Transport, Box<dyn std::error::Error>> {
    let endpoint = config.endpoint()?;
    let builder = match endpoint.security {
        Security::ImplicitTls => Transport::relay(&endpoint.host)?,
        Security::StartTls => Transport::starttls_relay(&endpoint.host)?,
        Security::Plaintext => Transport::builder_dangerous(&endpoint.host),
    };
    let mut builder = builder
        .port(endpoint.port)
        .timeout(Some(Duration::from_secs(30)));
    if let (Some(user), Some(file)) = (&config.username, &config.password_file) {
        let password = std::fs::read_to_string(file)
            .map_err(|e| format!("mail.password_file {}: {e}", file.display()))?;
        builder = builder.credentials(Credentials::new(user.clone(), password.trim().into()));
    }
    Ok(builder.build())
}

async fn run(app: Arc<App>, config: MailConfig, transport: Transport) {
    let gap = Duration::from_secs_f64(1.0 / f64::from(config.rate_per_second));
    loop {
        // One node of a site sends (the housekeeping lease), or each mail would go twice.
        if !app.store.runs_housekeeping() {
            tokio::time::sleep(IDLE_POLL).await;
            continue;
        }
        let due = match app.store.mails_due(app.clock.now(), 100).await {
            Ok(due) => due,
            Err(e) => {
                tracing::error!(error = %e, "mail: reading the outbox failed");
                Vec::new()
            }
        };
        if due.is_empty() {
            tokio::time::sleep(IDLE_POLL).await;
            continue;
        }
        for mail in due {
            let started = tokio::time::Instant::now();
            let outcome = attempt(&app, &config, &transport, mail).await;
            if let Err(e) = outcome {
                tracing::error!(error = %e, "mail: recording an attempt failed");
            }
            tokio::time::sleep_until(started + gap).await;
        }
    }
}

/// The mail as this attempt sends it: with a one-time link issued now, when it carries one
/// (every earlier link of the user stops working). `Err` when the link cannot be issued (the
/// user is gone): the mail is given up.
async fn as_sent(app: &App, mail: &MailRecord) -> Result<MailRecord, String> {
    let (Some(purpose), Some(user)) = (mail.link, &mail.user) else {
        return Ok(mail.clone());
    };
    let actor = Actor::system("mail");
    let issued = links::issue(app, &actor, user, purpose)
        .await
        .map_err(|e| format!("no link issued: {e}"))?;
    let valid_until = crate::clock::rfc3339(issued.expires_at).replace('T', " ");
    let valid_until = valid_until.trim_end_matches('Z');
    Ok(message::with_link(
        mail,
        issued.url.expose(),
        &format!("{valid_until} (UTC)"),
    ))
}

/// What became of one attempt.
enum Outcome {
    Sent,
    Retry(String),
    GiveUp(String),
}

async fn attempt(
    app: &App,
    config: &MailConfig,
    transport: &Transport,
    mut mail: MailRecord,
) -> Result<(), crate::store::StoreError> {
    let outcome = match as_sent(app, &mail).await {
        Err(reason) => Outcome::GiveUp(reason),
        Ok(sent) => match message::build(&sent, config) {
            Err(e) => Outcome::GiveUp(format!("not a valid message: {e}")),
            Ok(built) => match transport.send(built).await {
                Ok(_) => Outcome::Sent,
                Err(e) if e.is_permanent() => Outcome::GiveUp(e.to_string()),
                Err(e) => Outcome::Retry(e.to_string()),
            },
        },
    };
    let now = app.clock.now();
    mail.attempts += 1;
    let kind = match outcome {
        Outcome::Sent => {
            mail.state = MailState::Sent;
            mail.sent_at = Some(now);
            Some((Kind::MailSent, format!("to {}", mail.recipient)))
        }
        Outcome::Retry(answer) if now - mail.created_at < config.give_up_after_secs as i64 => {
            let backoff = FIRST_BACKOFF_SECS << (mail.attempts - 1).min(10);
            mail.next_attempt_at = now + backoff.min(MAX_BACKOFF_SECS);
            tracing::warn!(mail = mail.id, attempts = mail.attempts, answer = %answer, "mail: sending failed; retried later");
            mail.last_answer = Some(answer);
            None
        }
        Outcome::Retry(answer) | Outcome::GiveUp(answer) => {
            mail.state = MailState::Failed;
            let detail = format!(
                "to {} after {} attempts: {answer}",
                mail.recipient, mail.attempts
            );
            mail.last_answer = Some(answer);
            Some((Kind::MailFailed, detail))
        }
    };
    let store = single_writes(app);
    store.replace_mail(&mail).await?;
    store.flush().await?;
    if let Some((kind, detail)) = kind {
        let event = Event::of(kind, &Actor::system("mail"), detail).subject(mail.id);
        super::audit::record(app, event).await;
    }
    Ok(())
}
