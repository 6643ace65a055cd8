//! The audit trail: admin changes and security events, kept in the database so an admin can
//! ask "who changed this, and what happened to that phone" after the fact, and mirrored to the
//! log under the `deskprov::audit` target for syslog and fail2ban.
//!
//! Records never carry a secret: callers pass names, MACs, extensions and addresses, and the
//! admin change summary leaves out every secret field ([`summarize_change`]). Events a remote
//! party can trigger at will (refusals, wrong tokens) are recorded once per source and subject
//! every few minutes, so nobody can flood the trail and push older records out.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use serde::Serialize;

use crate::app::App;
use crate::model::AuditRecord;
use crate::store::StoreError;

/// The same refusal from the same source about the same subject is recorded once per window.
const REPEAT_WINDOW_SECS: i64 = 300;
/// Entries the repeat filter remembers before starting afresh; bounds its memory.
const REPEAT_MEMORY: usize = 10_000;
/// Longest admin change summary kept.
const MAX_DETAIL: usize = 1024;

/// How a kind of event is recorded and logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    /// Recorded every time; an info line in the log.
    Info,
    /// Something an admin may need to act on: recorded every time; a warning in the log.
    Warning,
    /// Anyone on the network can cause it as often as they like: recorded once per window
    /// (see [`RepeatFilter`]); a warning in the log. (Wrong PINs are not: the login guard
    /// bounds them.)
    Repeatable,
}

/// What a row says about its kind of event.
struct KindDef {
    /// The name in the trail, the log and audit queries.
    name: &'static str,
    class: Class,
}

/// Declares `Kind`, `Kind::ALL` and `KINDS` from the same rows, in the same order:
/// `KINDS[kind as usize]` is the row of `kind`.
macro_rules! kinds_table {
    ($( $kind:ident => $name:literal, $class:ident; )*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
        #[serde(rename_all = "snake_case")]
        pub enum Kind {
            $( $kind, )*
        }

        impl Kind {
            pub const ALL: &'static [Kind] = &[$( Kind::$kind, )*];
        }

        static KINDS: &[KindDef] = &[$( KindDef { name: $name, class: Class::$class }, )*];
    };
}

kinds_table! {
    AdminChange => "admin_change", Info;
    AdminAuthFailure => "admin_auth_failure", Repeatable;
    AdminBlocked => "admin_blocked", Warning;
    DeviceClaimed => "device_claimed", Info;
    ConfigRefused => "config_refused", Repeatable;
    ModelMismatch => "model_mismatch", Repeatable;
    CertificateMismatch => "certificate_mismatch", Repeatable;
    UntrustedCertificate => "untrusted_certificate", Repeatable;
    SourceBanned => "source_banned", Warning;
    UnknownLoginToken => "unknown_login_token", Repeatable;
    HotdeskLogin => "hotdesk_login", Info;
    HotdeskLogout => "hotdesk_logout", Info;
    LoginFailure => "login_failure", Warning;
    LoginRefused => "login_refused", Repeatable;
    LoginLockout => "login_lockout", Warning;
    PinChanged => "pin_changed", Info;
    SecretRead => "secret_read", Info;
}

impl Kind {
    fn def(self) -> &'static KindDef {
        &KINDS[self as usize]
    }

    pub fn as_str(self) -> &'static str {
        self.def().name
    }

    pub fn parse(text: &str) -> Option<Kind> {
        Kind::ALL.iter().copied().find(|k| k.as_str() == text)
    }

    fn repeatable(self) -> bool {
        self.def().class == Class::Repeatable
    }

    fn is_warning(self) -> bool {
        self.def().class != Class::Info
    }
}

/// One event about to be recorded.
pub struct Event {
    kind: Kind,
    actor: String,
    source: Option<IpAddr>,
    subject: Option<String>,
    detail: String,
}

impl Event {
    /// An event caused by a phone (or whoever speaks on the phones' listener).
    pub fn phone(kind: Kind, detail: impl Into<String>) -> Event {
        Event::by(kind, "phone", detail)
    }

    pub fn by(kind: Kind, actor: impl Into<String>, detail: impl Into<String>) -> Event {
        Event {
            kind,
            actor: actor.into(),
            source: None,
            subject: None,
            detail: detail.into(),
        }
    }

    pub fn source(mut self, address: IpAddr) -> Event {
        self.source = Some(address);
        self
    }

    pub fn subject(mut self, subject: impl ToString) -> Event {
        self.subject = Some(subject.to_string());
        self
    }
}

/// Remembers recent repeatable events so that each is recorded once per window.
#[derive(Default)]
pub struct RepeatFilter {
    seen: Mutex<HashMap<String, i64>>,
}

impl RepeatFilter {
    /// False for a repeat within the window, and for anything new while the memory is full of
    /// recent events: a flood is then not recorded beyond what is already there (and logged).
    pub(crate) fn first_in_window(&self, key: String, now: i64) -> bool {
        let mut seen = self.seen.lock().expect("repeat filter lock");
        if seen.len() >= REPEAT_MEMORY {
            seen.retain(|_, at| now - *at < REPEAT_WINDOW_SECS);
            if seen.len() >= REPEAT_MEMORY {
                return false;
            }
        }
        match seen.get(&key) {
            Some(at) if now - at < REPEAT_WINDOW_SECS => false,
            _ => {
                seen.insert(key, now);
                true
            }
        }
    }
}

impl Event {
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The key under which repeats of a repeatable event are recognised: by source key, so
    /// that rotating addresses within one IPv6 /64 gains nothing.
    pub(crate) fn repeat_key(&self) -> Option<String> {
        self.kind.repeatable().then(|| {
            format!(
                "{}|{}|{}",
                self.kind.as_str(),
                self.source
                    .map(crate::ops::bans::source_key)
                    .unwrap_or_default(),
                self.subject.as_deref().unwrap_or("")
            )
        })
    }

    pub(crate) fn to_record(&self, now: i64) -> AuditRecord {
        AuditRecord {
            id: 0,
            at: now,
            kind: self.kind.as_str().to_string(),
            actor: self.actor.clone(),
            source: self.source.map(|a| a.to_string()),
            subject: self.subject.clone(),
            detail: self.detail.clone(),
        }
    }

    /// The event's line under the `deskprov::audit` target, which syslog and fail2ban read.
    pub fn log(&self) {
        let kind = self.kind.as_str();
        let source = self.source.map(|a| a.to_string()).unwrap_or_default();
        let subject = self.subject.as_deref().unwrap_or("");
        if self.kind.is_warning() {
            tracing::warn!(target: "deskprov::audit", kind, actor = %self.actor, source, subject, "{}", self.detail);
        } else {
            tracing::info!(target: "deskprov::audit", kind, actor = %self.actor, source, subject, "{}", self.detail);
        }
    }
}

/// Which records an audit query wants.
#[derive(Debug, Default)]
pub struct Query {
    pub kind: Option<Kind>,
    pub subject: Option<String>,
    pub source: Option<String>,
    pub since: Option<i64>,
}

/// At most `limit` records older than the id `before` that the query wants, newest first; and
/// whether more remain.
pub async fn query(
    app: &App,
    query: &Query,
    before: Option<u64>,
    limit: usize,
) -> Result<(Vec<AuditRecord>, bool), StoreError> {
    app.store
        .audit(before, limit, &|r: &AuditRecord| {
            query.kind.is_none_or(|k| r.kind == k.as_str())
                && query
                    .subject
                    .as_deref()
                    .is_none_or(|s| r.subject.as_deref() == Some(s))
                && query
                    .source
                    .as_deref()
                    .is_none_or(|s| r.source.as_deref() == Some(s))
                && query.since.is_none_or(|t| r.at >= t)
        })
        .await
}

/// Field names whose values never enter the trail.
fn is_secret_field(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    ["password", "pin", "token", "secret", "key"]
        .iter()
        .any(|s| name.contains(s))
}

/// `value` with every secret field inside it, at any depth, shown as "[set]" (a profile's
/// `settings` object carries the phone admin password).
fn redacted(value: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|(name, v)| {
                    let shown = if is_secret_field(name) && !v.is_null() {
                        Value::String("[set]".into())
                    } else {
                        redacted(v)
                    };
                    (name.clone(), shown)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(redacted).collect()),
        other => other.clone(),
    }
}

/// A one-line summary of an admin request body: its fields with their values, secrets shown
/// only as set. Anything that is not a JSON object is summarised by its size.
pub fn summarize_change(body: &[u8]) -> String {
    if body.is_empty() {
        return String::new();
    }
    let Ok(serde_json::Value::Object(fields)) = serde_json::from_slice(body) else {
        return format!("({} bytes)", body.len());
    };
    let mut summary = fields
        .iter()
        .map(|(name, value)| {
            if is_secret_field(name) {
                format!("{name}=[set]")
            } else {
                format!("{name}={}", redacted(value))
            }
        })
        .collect::<Vec<_>>()
        .join(" ");
    if summary.len() > MAX_DETAIL {
        let mut cut = MAX_DETAIL;
        while !summary.is_char_boundary(cut) {
            cut -= 1;
        }
        summary.truncate(cut);
        summary.push('…');
    }
    summary
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_leave_secrets_out() {
        let body = br#"{"display_name":"Ann","sip_password":"hunter2hunter2","pin":"482913","generate_pin":true,"lines":{"1":"1001"}}"#;
        let summary = summarize_change(body);
        assert!(summary.contains("display_name=\"Ann\""), "{summary}");
        assert!(summary.contains("sip_password=[set]"));
        assert!(summary.contains("pin=[set]"));
        assert!(!summary.contains("hunter2"));
        let nested = br#"{"name":"hq","settings":{"phone_admin_password":"hunter3hunter3","language":"de"}}"#;
        let summary = summarize_change(nested);
        assert!(
            !summary.contains("hunter3") && summary.contains("[set]") && summary.contains("de"),
            "{summary}"
        );
        assert!(!summary.contains("482913"));
        assert_eq!(summarize_change(b"[1,2]"), "(5 bytes)");
        assert!(summarize_change(&[b'{'; 5000]).starts_with('('));
    }

    #[test]
    fn repeats_are_recorded_once_per_window() {
        let filter = RepeatFilter::default();
        assert!(filter.first_in_window("a".into(), 100));
        assert!(!filter.first_in_window("a".into(), 200));
        assert!(filter.first_in_window("b".into(), 200));
        assert!(filter.first_in_window("a".into(), 100 + REPEAT_WINDOW_SECS));
    }

    #[test]
    fn kinds_round_trip() {
        for (index, &kind) in Kind::ALL.iter().enumerate() {
            assert_eq!(kind as usize, index);
            assert_eq!(Kind::parse(kind.as_str()), Some(kind));
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
        }
        assert_eq!(Kind::parse("nonsense"), None);
    }
}
