//! A mail in the outbox: queued with the action that causes it, sent by the background sender,
//! kept with its outcome so that an admin can see what happened to it.

use serde::{Deserialize, Serialize};

use super::LinkPurpose;
use crate::domain::Extension;

/// One mail, rendered when queued (so a repeat sends the same message, with the same
/// Message-ID; only a one-time link is issued anew for each attempt).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailRecord {
    /// Assigned by the store when queued; grows with queueing order.
    pub id: u64,
    /// Fixed at queueing, so that a resend after a crash carries the same one.
    pub message_id: String,
    pub recipient: String,
    /// The user the mail is about, when it is about one.
    pub user: Option<Extension>,
    /// What caused it: `test`, `welcome`, `reset`, ...
    pub kind: String,
    /// ISO 639-1 code of the language it was rendered in.
    pub language: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// The one-time portal link the sender issues and fills in when it sends (`{link}`), so
    /// that its token is never stored; a repeat after a failed attempt carries a new one.
    #[serde(default)]
    pub link: Option<LinkPurpose>,
    pub state: MailState,
    pub attempts: u32,
    /// The server's (or the connection's) last answer, for a retried or failed mail.
    pub last_answer: Option<String>,
    /// Unix seconds: not sent before then.
    pub next_attempt_at: i64,
    pub created_at: i64,
    pub sent_at: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MailState {
    Queued,
    Sent,
    /// Given up: the give-up time passed, or the server refused it permanently (5xx).
    Failed,
}

impl MailState {
    pub fn as_str(self) -> &'static str {
        match self {
            MailState::Queued => "queued",
            MailState::Sent => "sent",
            MailState::Failed => "failed",
        }
    }
}
