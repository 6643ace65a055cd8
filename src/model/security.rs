//! Security records: login counters, admin tokens, request sources and the audit trail.

use serde::{Deserialize, Serialize};

use crate::domain::{Mac, Role};

/// Failed hot-desk logins counted for one extension, one device or all devices.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuardRecord {
    /// Failures since `window_start` (per device and global) or since the last success (user).
    pub failures: u32,
    pub window_start: i64,
    /// Logins are refused until then, without checking or counting.
    pub locked_until: i64,
    /// Lockouts since the last successful login: each doubles the next one.
    pub lockouts: u32,
}

/// An admin API token, known by its hash.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenRecord {
    pub name: String,
    /// SHA-256 of the token: the token itself is never stored.
    pub sha256: String,
    pub created_at: i64,
    /// Tokens made before roles existed were owner tokens, and stay so.
    #[serde(default = "owner")]
    pub role: Role,
    /// An admin token may read secrets only when the owner allowed it (owners always may).
    #[serde(default)]
    pub reads_secrets: bool,
    /// Refused from then on (a UNIX time), if set.
    #[serde(default)]
    pub expires_at: Option<i64>,
    /// When it last authorized a request, to the minute (not written more often).
    #[serde(default)]
    pub last_used_at: Option<i64>,
}

fn owner() -> Role {
    Role::Owner
}

impl TokenRecord {
    pub fn expired(&self, now: i64) -> bool {
        self.expires_at.is_some_and(|at| at <= now)
    }

    /// Whether its holder may read secrets.
    pub fn may_read_secrets(&self) -> bool {
        match self.role {
            Role::Owner => true,
            Role::Admin => self.reads_secrets,
            Role::Helpdesk | Role::Readonly | Role::Metrics => false,
        }
    }
}

/// What one request source (an IPv4 address or an IPv6 /64) did lately on the phones' listener.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceRecord {
    /// Distinct MACs whose files it was refused within the window, with when each was first asked:
    /// at most one more than the limit, so a sweep cannot grow the record.
    pub refused_macs: Vec<(Mac, i64)>,
    /// When it sent wrong provisioning credentials within the window: at most one more than
    /// the limit.
    #[serde(default)]
    pub failed_credentials: Vec<i64>,
    /// Every request from the source is refused until then.
    pub banned_until: i64,
    /// Bans so far: each doubles the next one.
    pub bans: u32,
    pub last_ban_at: i64,
}

/// What kind of actor an audit record names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ActorKind {
    /// A console account.
    Account,
    /// An admin API token.
    Token,
    /// Whoever speaks on the phones' listener.
    Phone,
    /// deskprov itself: start-up, the sweeper, a command on the server's machine.
    System,
    /// A user in the self-service portal, by extension.
    User,
}

impl ActorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ActorKind::Account => "account",
            ActorKind::Token => "token",
            ActorKind::Phone => "phone",
            ActorKind::System => "system",
            ActorKind::User => "user",
        }
    }
}

/// One entry of the audit trail: an admin change or a security event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    pub id: u64,
    pub at: i64,
    pub kind: String,
    /// Who acted: a console account's or an admin token's name, `phone`, or deskprov itself.
    pub actor: String,
    /// What the actor is, so that an account and a token of one name stay apart. Records
    /// written before it was kept have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor_kind: Option<ActorKind>,
    /// The role the actor acted in, when it was an admin token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor_role: Option<Role>,
    /// Where from: the peer address.
    pub source: Option<String>,
    /// What it concerns: a MAC, an extension, a source, a token.
    pub subject: Option<String>,
    /// What happened, with secrets left out.
    pub detail: String,
}

impl GuardRecord {
    /// Nothing left to remember: no lock in force and its window long over.
    pub fn is_quiet(&self, now: i64, keep_secs: i64) -> bool {
        self.locked_until <= now && self.window_start + keep_secs <= now
    }
}

impl SourceRecord {
    /// Nothing left to remember: not banned, no refusal in the window, and its bans, if any,
    /// older than `remember_bans_secs` (so waiting one out does not reset the doubling).
    pub fn is_quiet(&self, now: i64, window_secs: i64, remember_bans_secs: i64) -> bool {
        let counting = self
            .refused_macs
            .iter()
            .any(|(_, at)| at + window_secs > now)
            || self
                .failed_credentials
                .iter()
                .any(|at| at + window_secs > now);
        let bans_forgotten = self.bans == 0 || self.last_ban_at + remember_bans_secs <= now;
        self.banned_until <= now && !counting && bans_forgotten
    }
}
