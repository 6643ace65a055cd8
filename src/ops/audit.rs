//! Security events recorded as they happen (a refusal, a ban, a claim), outside any admin
//! change; admin changes are recorded by their [`super::WriteTx`].

use super::write::single_writes;
use crate::app::App;
use crate::audit::{Event, Kind};
use crate::store::StoreError;

/// Logs the event and appends it to the trail. A failure to store it is logged, not raised:
/// the request it belongs to has already been decided. A repeatable event is recorded once
/// per window.
pub async fn record(app: &App, event: Event) {
    let now = app.clock.now();
    if let Some(key) = event.repeat_key()
        && !app.audit_repeats.first_in_window(key, now)
    {
        return;
    }
    event.log();
    if let Err(e) = single_writes(app).append_audit(event.to_record(now)).await {
        tracing::error!(error = %e, "storing an audit record failed");
    }
}

/// Keeps the trail within its configured size, dropping the oldest phone-side events before
/// any admin change; called by the housekeeping task.
pub async fn trim(app: &App) -> Result<usize, StoreError> {
    single_writes(app)
        .trim_audit(
            app.config.security.audit_max_records,
            Kind::AdminChange.as_str(),
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
