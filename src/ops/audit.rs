//! Security events recorded as they happen (a refusal, a ban, a claim), outside any admin
//! change; admin changes are recorded by their [`super::WriteTx`].

use super::write::single_writes;
use crate::app::App;
use crate::audit::{Event, Kind, Suppressed};
use crate::store::StoreError;

/// Logs the event and appends it to the trail. A failure to store it is logged, not raised:
/// the request it belongs to has already been decided. A repeatable event is recorded once
/// per window.
pub async fn record(app: &App, event: Event) {
    let now = app.clock.now();
    app.metrics.audit_event(event.kind());
    if let Some((source, key)) = event.repeat_key() {
        let verdict = app.audit_repeats.check(&source, key, now);
        record_suppressions(app, verdict.summaries, now).await;
        if !verdict.record {
            return;
        }
    }
    store(app, &event, now).await;
}

/// Records that `by` read a secret of `subject` (`what`: the endpoint or page and its path), as
/// the API and the console record their secret reads.
pub async fn secret_read(app: &App, by: &super::Actor, what: &str, subject: impl ToString) {
    record(app, Event::of(Kind::SecretRead, by, what).subject(subject)).await;
}

/// Records the counts of events the repeat filter left out whose window has ended; called by
/// the housekeeping task, so a count is recorded even if its source falls silent.
pub async fn record_ended_suppressions(app: &App) {
    let now = app.clock.now();
    let ended = app.audit_repeats.take_ended(now);
    record_suppressions(app, ended, now).await;
}

async fn record_suppressions(app: &App, summaries: Vec<Suppressed>, now: i64) {
    for summary in summaries {
        let event = Event::by(
            Kind::EventsSuppressed,
            "deskprov",
            format!(
                "{} events suppressed since {}",
                summary.count,
                crate::clock::rfc3339(summary.since)
            ),
        )
        .actor_kind(crate::model::ActorKind::System)
        .subject(&summary.source);
        store(app, &event, now).await;
    }
}

async fn store(app: &App, event: &Event, now: i64) {
    event.log();
    if let Err(e) = single_writes(app).append_audit(event.to_record(now)).await {
        tracing::error!(error = %e, "storing an audit record failed");
    }
}

/// Keeps the trail within its configured size: the oldest floodable events go first, then
/// one-off security events, admin changes last (a flood must not push a claim or a ban out);
/// called by the housekeeping task.
pub async fn trim(app: &App) -> Result<usize, StoreError> {
    single_writes(app)
        .trim_audit(
            app.config.security.audit_max_records,
            &crate::audit::retention_rank,
        )
        .await
}

/// `what name=value ...` for the fields a change sets; the caller leaves secrets out or shows
/// them as `[set]`.
pub(in crate::ops) fn describe(what: &str, fields: &[(&str, Option<String>)]) -> String {
    let mut detail = what.to_string();
    for (name, value) in fields {
        if let Some(value) = value {
            detail.push_str(&format!(" {name}={value}"));
        }
    }
    detail
}
