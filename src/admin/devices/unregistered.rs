//! /api/v1/unregistered: the MACs that asked for files without being registered; forgetting
//! one, or registering it with what its requests told (adoption).

use http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::views::answer;
use crate::admin::paging::mac_cursor;
use crate::admin::{ApiResult, paging};
use crate::app::App;
use crate::clock::rfc3339;
use crate::domain::{Label, Mac, ModelId};
use crate::ops::{Actor, devices};
use crate::respond;

/// What to register an unregistered device with (the body may be left out).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Adoption {
    #[schema(value_type = Option<Label>)]
    label: Option<String>,
}

/// A MAC that asked for files without being registered, and what its requests told.
#[derive(Serialize, ToSchema)]
pub struct UnregisteredView<'a> {
    mac: Mac,
    vendor: Option<&'a str>,
    model: Option<&'a ModelId>,
    /// Whether the model table has the model it reported: false for a model deskprov does not
    /// know or a vendor it does not provision; `null` while no model was reported.
    supported: Option<bool>,
    firmware: Option<&'a str>,
    first_seen: String,
    last_seen: String,
    last_address: Option<&'a str>,
    requests: u64,
}

/// Seen-unregistered MACs, in pages by MAC.
pub async fn list_unregistered(app: &App, query: &str) -> ApiResult {
    let (page, _) = paging::parse(query, &[])?;
    let (seen, more) = app
        .store
        .unregistered_page(mac_cursor(&page)?, page.limit)
        .await?;
    let views: Vec<_> = seen
        .iter()
        .map(|s| UnregisteredView {
            mac: s.mac,
            vendor: s.vendor.as_deref(),
            model: s.model.as_ref(),
            supported: crate::models::is_supported(s.vendor.as_deref(), s.model.as_ref()),
            firmware: s.firmware.as_deref(),
            first_seen: rfc3339(s.first_seen),
            last_seen: rfc3339(s.last_seen),
            last_address: s.last_address.as_deref(),
            requests: s.requests,
        })
        .collect();
    Ok(paging::answer(
        views,
        paging::next_of(&seen, more, |s| s.mac.to_string()),
    ))
}

/// Registers a seen-unregistered device with what it told us about itself.
pub async fn adopt(app: &App, by: &Actor, mac: Mac, adoption: Adoption) -> ApiResult {
    let label = adoption.label.as_deref().map(Label::parse).transpose()?;
    let record = devices::adopt(app, by, mac, label).await?;
    answer(app, StatusCode::CREATED, &record).await
}

pub async fn forget_unregistered(app: &App, by: &Actor, mac: Mac) -> ApiResult {
    devices::forget_unregistered(app, by, mac).await?;
    Ok(respond::json(
        StatusCode::OK,
        &crate::admin::schemas::Deleted { deleted: mac },
    ))
}
