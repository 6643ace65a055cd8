//! Mail texts: per kind and language a subject, a plain text and an HTML part, embedded, each
//! overridable by a file of the same relative path under `server.templates_dir`
//! (`mail/en/test.txt`). Placeholders are `{name}`; values are HTML-escaped in the HTML part.
//!
//! No mail carries a password or a PIN: mail is stored and forwarded in clear in many places,
//! so a mail only ever points to where a secret is set (a one-time link), never the secret.

use std::path::Path;

use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};

use super::MailConfig;
use crate::model::MailRecord;

/// A mail's parts as rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Kinds that have texts.
pub const KINDS: &[&str] = &["test", "welcome", "reset"];

/// Placeholders the sender fills in when it sends (the one-time link is issued then, so it is
/// never stored); everything else is filled in when the mail is queued.
pub const LINK: &str = "link";
pub const VALID_UNTIL: &str = "valid_until";

macro_rules! texts {
    ($($language:literal / $kind:literal),* $(,)?) => {
        fn embedded(language: &str, kind: &str, part: &str) -> Option<&'static str> {
            Some(match (language, kind, part) {
                $(
                    ($language, $kind, "subject") => include_str!(concat!("templates/", $language, "/", $kind, ".subject")),
                    ($language, $kind, "txt") => include_str!(concat!("templates/", $language, "/", $kind, ".txt")),
                    ($language, $kind, "html") => include_str!(concat!("templates/", $language, "/", $kind, ".html")),
                )*
                _ => return None,
            })
        }
    };
}

texts!(
    "de" / "test",
    "en" / "test",
    "de" / "welcome",
    "en" / "welcome",
    "de" / "reset",
    "en" / "reset",
);

/// The language texts exist in: `wanted` when there are texts in it, else English.
pub fn language_of(wanted: Option<&str>) -> &'static str {
    match wanted {
        Some("de") => "de",
        _ => "en",
    }
}

fn part(overrides: Option<&Path>, language: &str, kind: &str, part: &str) -> Option<String> {
    let relative = format!("mail/{language}/{kind}.{part}");
    if let Some(text) = overrides.and_then(|dir| std::fs::read_to_string(dir.join(&relative)).ok())
    {
        return Some(text);
    }
    embedded(language, kind, part).map(str::to_string)
}

fn fill(template: &str, values: &[(&str, &str)], escape: bool) -> String {
    values
        .iter()
        .fold(template.to_string(), |text, (name, value)| {
            let value = if escape {
                html_escape(value)
            } else {
                value.to_string()
            };
            text.replace(&format!("{{{name}}}"), &value)
        })
}

fn html_escape(value: &str) -> String {
    value
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The mail of `kind` in `language` with `values` filled in; `None` for a kind without texts.
pub fn render(
    overrides: Option<&Path>,
    kind: &str,
    language: &str,
    values: &[(&str, &str)],
) -> Option<Rendered> {
    let get = |p| part(overrides, language, kind, p);
    Some(Rendered {
        subject: fill(get("subject")?.trim(), values, false),
        text: fill(&get("txt")?, values, false),
        html: fill(&get("html")?, values, true),
    })
}

/// The mail as sent: the one-time link issued for this attempt and its expiry filled in.
pub fn with_link(mail: &MailRecord, url: &str, valid_until: &str) -> MailRecord {
    let values = [(LINK, url), (VALID_UNTIL, valid_until)];
    MailRecord {
        text: fill(&mail.text, &values, false),
        html: fill(&mail.html, &values, true),
        ..mail.clone()
    }
}

/// A fresh Message-ID in the sender's domain.
pub fn message_id(from: &str) -> String {
    let domain = from
        .parse::<Mailbox>()
        .map(|m| m.email.domain().to_string())
        .unwrap_or_else(|_| "deskprov.invalid".into());
    let mut random = [0u8; 16];
    rand::fill(&mut random);
    let hex: String = random.iter().map(|b| format!("{b:02x}")).collect();
    format!("<{hex}@{domain}>")
}

/// The MIME message for a stored mail: multipart/alternative, text first, with the stored
/// Message-ID.
pub fn build(
    mail: &MailRecord,
    config: &MailConfig,
) -> Result<lettre::Message, Box<dyn std::error::Error + Send + Sync>> {
    let mut builder = lettre::Message::builder()
        .from(config.from.parse()?)
        .to(mail.recipient.parse()?)
        .subject(mail.subject.clone())
        .message_id(Some(mail.message_id.clone()));
    if let Some(reply_to) = &config.reply_to {
        builder = builder.reply_to(reply_to.parse()?);
    }
    let body = MultiPart::alternative()
        .singlepart(
            SinglePart::builder()
                .header(ContentType::TEXT_PLAIN)
                .body(mail.text.clone()),
        )
        .singlepart(
            SinglePart::builder()
                .header(ContentType::TEXT_HTML)
                .body(mail.html.clone()),
        );
    let mut message = builder.multipart(body)?;
    message.headers_mut().insert_raw(HeaderValue::new(
        HeaderName::new_from_ascii_str("Content-Language"),
        mail.language.clone(),
    ));
    Ok(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_exist_for_every_kind_in_both_languages_and_values_are_escaped_in_html() {
        for kind in KINDS {
            for language in ["de", "en"] {
                let hostile = "<a@b.example>";
                let values = [("recipient", hostile), ("name", hostile)];
                let r = render(None, kind, language, &values).unwrap();
                assert!(r.text.contains(hostile), "{kind} {language}");
                assert!(r.html.contains("&lt;a@b.example&gt;"), "{kind} {language}");
                assert!(!r.html.contains(hostile) && !r.html.contains("{name}"));
            }
        }
        for kind in ["welcome", "reset"] {
            let values = [
                ("name", "Ada"),
                ("extension", "1001"),
                ("portal", "https://p"),
            ];
            let queued = render(None, kind, "en", &values).unwrap();
            assert!(queued.text.contains("{link}"), "filled in only when sent");
            let mail = MailRecord {
                id: 1,
                message_id: "<x@example.com>".into(),
                recipient: "ada@example.com".into(),
                user: None,
                kind: kind.into(),
                language: "en".into(),
                subject: queued.subject,
                text: queued.text,
                html: queued.html,
                link: Some(crate::model::LinkPurpose::Welcome),
                state: crate::model::MailState::Queued,
                attempts: 0,
                last_answer: None,
                next_attempt_at: 0,
                created_at: 0,
                sent_at: None,
            };
            let sent = with_link(&mail, "https://p.example/me/link/T0K3N", "10:00 UTC");
            assert!(sent.text.contains("https://p.example/me/link/T0K3N"));
            assert!(
                sent.html
                    .contains("href=\"https://p.example/me/link/T0K3N\"")
            );
            assert!(!sent.text.contains('{') && !sent.html.contains("{valid_until}"));
        }
        assert_ne!(
            render(None, "test", "de", &[]).unwrap().subject,
            render(None, "test", "en", &[]).unwrap().subject
        );
        assert!(render(None, "nonsense", "en", &[]).is_none());
    }

    #[test]
    fn an_override_file_replaces_the_embedded_part() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("mail/en")).unwrap();
        std::fs::write(dir.path().join("mail/en/test.subject"), "Ours: {actor}\n").unwrap();
        let r = render(Some(dir.path()), "test", "en", &[("actor", "ops")]).unwrap();
        assert_eq!(r.subject, "Ours: ops");
        assert!(r.text.contains("test mail from deskprov"));
    }
}
