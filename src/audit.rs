//! The audit trail: admin changes and security events, kept in the database so an admin can
//! ask "who changed this, and what happened to that phone" after the fact, and mirrored to the
//! log under the `deskprov::audit` target for syslog and fail2ban.
//!
//! Records never carry a secret: callers pass names, MACs, extensions and addresses, and the
//! admin change summary leaves out every secret field ([`summarize_change`]). Events a remote
//! party can trigger at will (refusals, wrong tokens) are recorded once per source and subject
//! every few minutes ([`RepeatFilter`]), and trimmed before one-off security records
//! ([`retention_rank`]), so nobody can silence the trail or push a claim or a ban out of it.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use serde::Serialize;

use crate::app::App;
use crate::domain::Role;
use crate::model::{ActorKind, AuditRecord};
use crate::store::StoreError;

/// The same refusal from the same source about the same subject is recorded once per window.
const REPEAT_WINDOW_SECS: i64 = 300;
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
    /// How many repeatable events the filter left out for one source: recorded every time (at
    /// most once per source and window); a warning in the log.
    Summary,
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
    ClaimContested => "claim_contested", Warning;
    ConfigRefused => "config_refused", Repeatable;
    ModelMismatch => "model_mismatch", Repeatable;
    ModelFilledIn => "model_filled_in", Info;
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
    ConsoleLogin => "console_login", Info;
    ConsoleLoginFailure => "console_login_failure", Repeatable;
    ConsoleThrottled => "console_throttled", Warning;
    ConsoleLogout => "console_logout", Info;
    PasswordChanged => "password_changed", Info;
    TotpEnrolled => "totp_enrolled", Info;
    TotpRemoved => "totp_removed", Info;
    TotpFailed => "totp_failed", Repeatable;
    BackupTaken => "backup_taken", Info;
    PortalLogin => "portal_login", Info;
    PortalLoginFailure => "portal_login_failure", Repeatable;
    PortalLockout => "portal_lockout", Warning;
    PortalLogout => "portal_logout", Info;
    MailQueued => "mail_queued", Info;
    MailSent => "mail_sent", Info;
    MailFailed => "mail_failed", Warning;
    EventsSuppressed => "events_suppressed", Summary;
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

    /// Something an admin may need to act on: the console's security events.
    pub fn is_warning(self) -> bool {
        self.def().class != Class::Info
    }

    /// Anyone can cause as many as they like: these records go first when the trail is trimmed.
    fn floodable(self) -> bool {
        matches!(self.def().class, Class::Repeatable | Class::Summary)
    }
}

/// A stored kind's retention rank for [`crate::store::Writes::trim_audit`]: floodable events
/// go first, then one-off security events, admin changes last. A kind this version does not
/// know (from a newer one) counts as one-off.
pub fn retention_rank(kind: &str) -> u8 {
    match Kind::parse(kind) {
        Some(kind) if kind.floodable() => 0,
        Some(Kind::AdminChange) => 2,
        _ => 1,
    }
}

/// One event about to be recorded.
pub struct Event {
    kind: Kind,
    actor: String,
    actor_kind: Option<ActorKind>,
    role: Option<Role>,
    source: Option<IpAddr>,
    subject: Option<String>,
    detail: String,
}

impl Event {
    /// An event caused by a phone (or whoever speaks on the phones' listener).
    pub fn phone(kind: Kind, detail: impl Into<String>) -> Event {
        Event::by(kind, "phone", detail).actor_kind(ActorKind::Phone)
    }

    /// An event caused by `actor`: its name, kind, role and source.
    pub fn of(kind: Kind, actor: &crate::ops::Actor, detail: impl Into<String>) -> Event {
        let mut event = Event::by(kind, actor.name(), detail).actor_kind(actor.kind());
        event.role = actor.role();
        event.source = actor.source();
        event
    }

    pub fn by(kind: Kind, actor: impl Into<String>, detail: impl Into<String>) -> Event {
        Event {
            kind,
            actor: actor.into(),
            actor_kind: None,
            role: None,
            source: None,
            subject: None,
            detail: detail.into(),
        }
    }

    pub fn actor_kind(mut self, kind: ActorKind) -> Event {
        self.actor_kind = Some(kind);
        self
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

/// Remembers recent repeatable events, per source, so that each is recorded once per window.
/// Both the sources and each source's events are bounded: a flood from many sources evicts
/// the stalest source (its events are recorded again, which the trail's retention absorbs);
/// a flood of distinct events from one source is counted, and the count recorded as one
/// summary, rather than silently dropped. Security kinds never come here.
pub struct RepeatFilter {
    max_sources: usize,
    max_keys: usize,
    sources: Mutex<HashMap<String, SourceMemory>>,
}

/// One source's recent repeatable events and what was left out beyond them.
#[derive(Default)]
struct SourceMemory {
    /// Event key → when it was last recorded.
    seen: HashMap<String, i64>,
    /// Events left out because `seen` was full, since `suppressed_since`.
    suppressed: u64,
    suppressed_since: i64,
    last_event: i64,
}

/// Events the filter left out for one source within one window.
#[derive(Debug, PartialEq, Eq)]
pub struct Suppressed {
    pub source: String,
    pub count: u64,
    pub since: i64,
}

/// What the filter decided about one event.
#[derive(Debug, PartialEq, Eq)]
pub struct Verdict {
    pub record: bool,
    /// Summaries now due (the window ended, or a source was forgotten): record them first.
    pub summaries: Vec<Suppressed>,
}

impl SourceMemory {
    fn forget_expired(&mut self, now: i64) {
        self.seen.retain(|_, at| now - *at < REPEAT_WINDOW_SECS);
    }

    /// The count of left-out events, if any, and starts counting afresh.
    fn take_suppressed(&mut self, source: &str) -> Option<Suppressed> {
        (self.suppressed > 0).then(|| Suppressed {
            source: source.to_string(),
            count: std::mem::take(&mut self.suppressed),
            since: self.suppressed_since,
        })
    }

    fn suppression_ended(&self, now: i64) -> bool {
        self.suppressed > 0 && now - self.suppressed_since >= REPEAT_WINDOW_SECS
    }

    fn is_quiet(&self, now: i64) -> bool {
        self.suppressed == 0 && now - self.last_event >= REPEAT_WINDOW_SECS
    }
}

impl RepeatFilter {
    pub fn new(max_sources: usize, max_keys: usize) -> RepeatFilter {
        RepeatFilter {
            max_sources: max_sources.max(1),
            max_keys: max_keys.max(1),
            sources: Mutex::new(HashMap::new()),
        }
    }

    /// Whether the event `key` from `source` is the first in its window and so recorded.
    pub(crate) fn check(&self, source: &str, key: String, now: i64) -> Verdict {
        let mut sources = self.sources.lock().expect("repeat filter lock");
        let mut summaries = Vec::new();
        if !sources.contains_key(source) && sources.len() >= self.max_sources {
            summaries.extend(self.make_room(&mut sources, now));
        }
        let memory = sources.entry(source.to_string()).or_default();
        memory.last_event = now;
        if memory.suppression_ended(now) {
            summaries.extend(memory.take_suppressed(source));
        }
        let record = match memory.seen.get(&key) {
            Some(at) if now - at < REPEAT_WINDOW_SECS => false,
            _ => {
                if memory.seen.len() >= self.max_keys {
                    memory.forget_expired(now);
                }
                if memory.seen.len() >= self.max_keys {
                    if memory.suppressed == 0 {
                        memory.suppressed_since = now;
                    }
                    memory.suppressed += 1;
                    false
                } else {
                    memory.seen.insert(key, now);
                    true
                }
            }
        };
        Verdict { record, summaries }
    }

    /// Forgets quiet sources, or else the stalest one; the counts they leave behind.
    fn make_room(&self, sources: &mut HashMap<String, SourceMemory>, now: i64) -> Vec<Suppressed> {
        sources.retain(|_, memory| !memory.is_quiet(now));
        if sources.len() < self.max_sources {
            return Vec::new();
        }
        let stalest = sources
            .iter()
            .min_by_key(|(_, memory)| memory.last_event)
            .map(|(source, _)| source.clone());
        stalest
            .and_then(|source| {
                let mut memory = sources.remove(&source)?;
                memory.take_suppressed(&source)
            })
            .into_iter()
            .collect()
    }

    /// The counts whose window has ended, taken; quiet sources forgotten.
    pub(crate) fn take_ended(&self, now: i64) -> Vec<Suppressed> {
        let mut sources = self.sources.lock().expect("repeat filter lock");
        let ended = sources
            .iter_mut()
            .filter(|(_, memory)| memory.suppression_ended(now))
            .filter_map(|(source, memory)| memory.take_suppressed(source))
            .collect();
        sources.retain(|_, memory| !memory.is_quiet(now));
        ended
    }
}

impl Event {
    pub fn kind(&self) -> Kind {
        self.kind
    }

    pub fn subject_text(&self) -> Option<&str> {
        self.subject.as_deref()
    }

    pub fn detail(&self) -> &str {
        &self.detail
    }

    /// For a repeatable event, its source key (so that rotating addresses within one IPv6
    /// /64 gains nothing) and the key under which its repeats from there are recognised.
    pub(crate) fn repeat_key(&self) -> Option<(String, String)> {
        self.kind.repeatable().then(|| {
            let source = self
                .source
                .map(crate::ops::bans::source_key)
                .unwrap_or_default();
            let key = format!(
                "{}|{}",
                self.kind.as_str(),
                self.subject.as_deref().unwrap_or("")
            );
            (source, key)
        })
    }

    pub(crate) fn to_record(&self, now: i64) -> AuditRecord {
        AuditRecord {
            id: 0,
            at: now,
            kind: self.kind.as_str().to_string(),
            actor: self.actor.clone(),
            actor_kind: self.actor_kind,
            actor_role: self.role,
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
        let role = self.role.map_or("", Role::as_str);
        if self.kind.is_warning() {
            tracing::warn!(target: "deskprov::audit", kind, actor = %self.actor, role, source, subject, "{}", self.detail);
        } else {
            tracing::info!(target: "deskprov::audit", kind, actor = %self.actor, role, source, subject, "{}", self.detail);
        }
    }
}

/// Which records an audit query wants.
#[derive(Debug, Default)]
pub struct Query {
    pub kind: Option<Kind>,
    pub subject: Option<String>,
    pub source: Option<String>,
    /// Who acted: a token's or account's name, `phone`, `deskprov`.
    pub actor: Option<String>,
    pub since: Option<i64>,
    /// Only records before this time.
    pub until: Option<i64>,
}

/// A subject as stored: a MAC in any notation as its 12 hex digits; anything else as given.
pub fn canonical_subject(raw: &str) -> String {
    crate::domain::Mac::parse(raw).map_or_else(|_| raw.to_string(), |mac| mac.to_string())
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
                && query.actor.as_deref().is_none_or(|a| r.actor == a)
                && query.since.is_none_or(|t| r.at >= t)
                && query.until.is_none_or(|t| r.at < t)
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

    fn recorded(filter: &RepeatFilter, source: &str, key: &str, now: i64) -> bool {
        filter.check(source, key.into(), now).record
    }

    #[test]
    fn repeats_are_recorded_once_per_window() {
        let filter = RepeatFilter::new(10, 10);
        assert!(recorded(&filter, "s", "a", 100));
        assert!(!recorded(&filter, "s", "a", 200));
        assert!(recorded(&filter, "s", "b", 200));
        assert!(recorded(&filter, "t", "a", 200));
        assert!(recorded(&filter, "s", "a", 100 + REPEAT_WINDOW_SECS));
    }

    #[test]
    fn a_source_beyond_its_keys_is_counted_and_summarised() {
        let filter = RepeatFilter::new(10, 2);
        assert!(recorded(&filter, "s", "a", 100));
        assert!(recorded(&filter, "s", "b", 100));
        assert!(!recorded(&filter, "s", "c", 110));
        assert!(!recorded(&filter, "s", "d", 120));
        assert!(recorded(&filter, "other", "c", 120));
        assert_eq!(filter.take_ended(120), vec![]);
        let later = filter.check("s", "e".into(), 110 + REPEAT_WINDOW_SECS);
        assert!(later.record);
        let summary = Suppressed {
            source: "s".into(),
            count: 2,
            since: 110,
        };
        assert_eq!(later.summaries, vec![summary]);
        assert!(recorded(&filter, "s", "f", 111 + REPEAT_WINDOW_SECS));
        assert!(!recorded(&filter, "s", "g", 111 + REPEAT_WINDOW_SECS));
        assert!(!recorded(&filter, "s", "h", 111 + REPEAT_WINDOW_SECS));
        let ended = filter.take_ended(111 + 2 * REPEAT_WINDOW_SECS);
        assert_eq!(ended.iter().map(|s| s.count).collect::<Vec<_>>(), vec![2]);
    }

    #[test]
    fn a_full_filter_forgets_the_stalest_source_and_keeps_recording_new_ones() {
        let filter = RepeatFilter::new(2, 1);
        assert!(recorded(&filter, "s1", "a", 100));
        assert!(!recorded(&filter, "s1", "b", 100));
        assert!(recorded(&filter, "s2", "a", 101));
        let newcomer = filter.check("s3", "a".into(), 102);
        assert!(newcomer.record);
        assert_eq!(newcomer.summaries.len(), 1, "s1's count is not lost");
        assert_eq!(filter.sources.lock().unwrap().len(), 2);
        assert!(!recorded(&filter, "s2", "a", 103));
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
