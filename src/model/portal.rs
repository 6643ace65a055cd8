//! The users' self-service portal: its sessions and its one-time links.

use serde::{Deserialize, Serialize};

use crate::domain::{Extension, Secret};

/// A browser logged in to the portal, known by the SHA-256 of its cookie's value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortalSession {
    pub id_sha256: String,
    pub extension: Extension,
    /// Every state-changing form of the session carries it.
    pub csrf: Secret,
    /// `de` or `en`, as chosen in the portal; else the user's or the browser's language.
    #[serde(default)]
    pub language: Option<String>,
    pub created_at: i64,
    /// Written at most once a minute.
    pub last_seen_at: i64,
}

/// What a one-time link is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkPurpose {
    /// A new user's first portal password (and PIN, if they have none): the welcome mail's.
    Welcome,
    /// A forgotten portal password.
    Reset,
}

impl LinkPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkPurpose::Welcome => "welcome",
            LinkPurpose::Reset => "reset",
        }
    }
}

/// A one-time link, stored under the SHA-256 of its token (the token itself only in the link).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkRecord {
    pub token_sha256: String,
    pub extension: Extension,
    pub purpose: LinkPurpose,
    pub issued_at: i64,
    pub expires_at: i64,
}
