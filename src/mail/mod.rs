//! Mail: the `[mail]` config, the texts, and (in `crate::ops::mail`) the outbox and its
//! sender. A mail is queued in the store with the action that causes it and sent later by a
//! background task, at least once, with the Message-ID fixed at queueing.

pub mod config;
pub mod message;

pub use config::MailConfig;

/// What every mail action answers when `[mail]` is absent.
pub const NOT_CONFIGURED: &str = "mail is not configured (no [mail] section in the config file)";
