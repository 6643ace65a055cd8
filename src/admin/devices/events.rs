//! `GET /devices/{mac}/events`: this node's event log of a device (device_events.rs).

use http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;

use crate::admin::ApiResult;
use crate::app::App;
use crate::clock::rfc3339;
use crate::device_events::{DeviceEvent, EventKind};
use crate::domain::Mac;
use crate::respond;

/// A device's recent events on the node that answered.
#[derive(Serialize, ToSchema)]
pub struct DeviceEventLog {
    /// 12 hex digits.
    mac: String,
    /// Whether the MAC is a registered device; the log also holds MACs nobody registered.
    registered: bool,
    /// When this node started: events before it are not kept.
    since: String,
    /// Newest first; empty when the node has none for the MAC.
    events: Vec<DeviceEventView>,
}

#[derive(Serialize, ToSchema)]
pub struct DeviceEventView {
    /// When it last happened.
    at: String,
    /// When it first happened, when it happened several times in a row.
    #[serde(skip_serializing_if = "Option::is_none")]
    first_at: Option<String>,
    /// How many times in a row (a phone polling its config is one event counted up).
    count: u64,
    kind: EventKind,
    /// The file, the refusal's reason, the model or firmware reported, the phone's answer.
    detail: String,
}

fn view(event: DeviceEvent) -> DeviceEventView {
    DeviceEventView {
        at: rfc3339(event.at),
        first_at: (event.count > 1).then(|| rfc3339(event.first_at)),
        count: event.count,
        kind: event.kind,
        detail: event.detail.into(),
    }
}

pub async fn events(app: &App, mac: Mac) -> ApiResult {
    let registered = app.store.device(mac).await?.is_some();
    let mut events = app.device_events.of(mac);
    events.reverse();
    Ok(respond::json(
        StatusCode::OK,
        &DeviceEventLog {
            mac: mac.to_string(),
            registered,
            since: rfc3339(app.device_events.since()),
            events: events.into_iter().map(view).collect(),
        },
    ))
}
