//! Admin accounts of the console and their sessions.

use serde::{Deserialize, Serialize};

use crate::domain::{Role, Secret, Username};

/// Someone who logs in to the console.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountRecord {
    pub username: Username,
    /// argon2id PHC string of the password.
    pub password_hash: Secret,
    pub role: Role,
    /// An admin account may read secrets only when the owner allowed it (owners always may).
    #[serde(default)]
    pub reads_secrets: bool,
    /// Refused at login; its sessions ended.
    #[serde(default)]
    pub disabled: bool,
    /// Set for a password someone else chose (the first one, a reset): nothing but the
    /// password page until it is changed.
    #[serde(default)]
    pub password_change_required: bool,
    /// `de` or `en`, as the holder chose it; else the browser's `Accept-Language` decides.
    #[serde(default)]
    pub language: Option<String>,
    pub created_at: i64,
    pub password_changed_at: i64,
    /// The TOTP second factor's secret (base32, 20 bytes) once enrolled; a secret like the
    /// password hash: never logged, never in an API answer.
    #[serde(default)]
    pub totp_secret: Option<Secret>,
    /// A secret shown for enrolment and not yet confirmed with a code.
    #[serde(default)]
    pub totp_pending: Option<Secret>,
    /// The time step of the last code accepted: a code of it or an earlier one is a replay.
    #[serde(default)]
    pub totp_last_step: u64,
    /// The owner requires the second factor: without one the holder may only enrol.
    #[serde(default)]
    pub totp_required: bool,
}

impl AccountRecord {
    pub fn may_read_secrets(&self) -> bool {
        match self.role {
            Role::Owner => true,
            Role::Admin => self.reads_secrets,
            Role::Helpdesk | Role::Readonly | Role::Metrics => false,
        }
    }

    /// Required but not enrolled: the holder's session opens only the enrolment page.
    pub fn must_enrol_totp(&self) -> bool {
        self.totp_required && self.totp_secret.is_none()
    }
}

/// A logged-in browser, known by the SHA-256 of its cookie's value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsoleSession {
    pub id_sha256: String,
    pub username: Username,
    /// Every state-changing form of the session carries it.
    pub csrf: Secret,
    pub created_at: i64,
    /// Written at most once a minute.
    pub last_seen_at: i64,
}
