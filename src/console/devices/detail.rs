//! One device: the detail page with status, lines and DECT handsets, hot-desk logins, recent
//! device events and actions; the provisioning credentials (a secret page, audited); the
//! config preview with secrets masked; and the page's actions (assign and unassign a line,
//! reset the claim, log out).

use askama::Template;
use http::StatusCode;

use super::list::{claim_window, done_text, flag, state};
use super::views::{
    CredentialsPage, DetailPage, DeviceDetail, EventRow, LineRow, LoginRow, PreviewPage,
};
use super::{DevicesTexts, refusal};
use crate::admin::endpoint::Access;
use crate::clock::rfc3339;
use crate::console::form::Form;
use crate::console::reply::{html, see_other};
use crate::console::{PageResult, Request, account_permits, assets};
use crate::domain::{Extension, Mac};
use crate::model::DeviceRecord;
use crate::ops::{OpError, device_list, devices, sessions};
use crate::settings::Settings;

/// Most device events the page shows.
const EVENTS_SHOWN: usize = 20;

/// The MAC of the page's path.
pub fn mac_of(request: &Request<'_>) -> Result<Mac, OpError> {
    let raw = request.params.first().map_or("", String::as_str);
    Mac::parse(raw).map_err(|_| OpError::not_found(format!("no device with MAC {raw}")))
}

fn detail(d: &'static DevicesTexts, device: &DeviceRecord, now: i64, window: i64) -> DeviceDetail {
    let text = |v: Option<&str>| v.unwrap_or("").to_string();
    let time = |v: Option<i64>| v.map(rfc3339).unwrap_or_default();
    let (state, state_detail) = state(d, device, now, window);
    DeviceDetail {
        mac: device.mac.to_string(),
        vendor: text(device.vendor.as_deref()),
        model: text(device.model.as_ref().map(|m| m.as_str())),
        firmware: text(device.firmware.as_deref()),
        label: text(device.label.as_ref().map(|l| l.as_str())),
        location: text(device.location.as_ref().map(|l| l.as_str())),
        profile: text(device.profile.as_ref().map(|p| p.as_str())),
        hotdesk: flag(d, device.hotdesk),
        state,
        state_detail,
        registered_at: rfc3339(device.registered_at),
        first_seen: time(device.first_seen),
        last_seen: time(device.last_seen),
        last_address: text(device.last_address.as_deref()),
        adopted: device.adopted,
        contested: device
            .claim_contested
            .as_ref()
            .map(|c| format!("{} {} {}", rfc3339(c.at), d.from_address, c.address)),
        mismatch: device.model_mismatch.as_ref().map(|m| {
            let from = m
                .address
                .as_ref()
                .map(|a| format!(" {} {a}", d.from_address))
                .unwrap_or_default();
            format!("{} ({}{from})", m.reported_model, rfc3339(m.at))
        }),
    }
}

/// Every line (or handset slot) of the model, with its user and login; `None` while the model
/// is not known.
fn line_rows(device: &DeviceRecord, logins: &[LoginRow]) -> Option<Vec<LineRow>> {
    devices::row(device)?;
    let rows = (1..=devices::capacity(device))
        .map(|line| LineRow {
            line,
            user: device
                .lines
                .get(&line)
                .map(|e| e.to_string())
                .unwrap_or_default(),
            login: logins
                .iter()
                .find(|l| l.line == line)
                .map(|l| l.user.clone())
                .unwrap_or_default(),
        })
        .collect();
    Some(rows)
}

fn logins(device: &DeviceRecord, settings: &Settings, now: i64) -> Vec<LoginRow> {
    device
        .sessions
        .iter()
        .filter(|(_, s)| sessions::is_live(s, settings, now))
        .map(|(line, s)| LoginRow {
            line: *line,
            user: s.extension.to_string(),
            since: rfc3339(s.since),
        })
        .collect()
}

fn events(request: &Request<'_>, mac: Mac) -> Vec<EventRow> {
    let d = request.visit.texts.device_area;
    let mut events = request.app.device_events.of(mac);
    events.reverse();
    events
        .into_iter()
        .take(EVENTS_SHOWN)
        .map(|e| EventRow {
            at: rfc3339(e.at),
            count: e.count,
            kind: d.event_kinds[e.kind as usize],
            detail: e.detail.into(),
        })
        .collect()
}

pub async fn show(request: &Request<'_>) -> PageResult {
    let (app, visit) = (request.app, request.visit);
    let d = visit.texts.device_area;
    let found = match mac_of(request) {
        Ok(mac) => device_list::with_settings(app, mac).await,
        Err(e) => Err(e),
    };
    let (device, settings) = match found {
        Ok(found) => found,
        Err(e) => return refusal::answer(visit, e),
    };
    let now = app.clock.now();
    let logins = logins(&device, &settings, now);
    let done = crate::console::form::query_value(request.query, "done");
    let page = DetailPage {
        t: visit.texts,
        css: assets::CSS_PATH.as_str(),
        who: Some(visit.who()),
        csrf: visit.csrf(),
        device: detail(d, &device, now, claim_window(request)),
        lines: line_rows(&device, &logins),
        logins,
        events: events(request, device.mac),
        notice: done_text(d, done),
        may_change: account_permits(&visit.account, Access::Change),
        may_helpdesk: account_permits(&visit.account, Access::Helpdesk),
        may_read_secrets: account_permits(&visit.account, Access::Secrets),
    };
    Ok(html(StatusCode::OK, page.render()))
}

pub async fn credentials(request: &Request<'_>) -> PageResult {
    let visit = request.visit;
    let read = match mac_of(request) {
        Ok(mac) => {
            let what = format!("page: device credentials /devices/{mac}/credentials");
            device_list::read_credentials(request.app, &visit.actor, mac, &what)
                .await
                .map(|c| (mac, c))
        }
        Err(e) => Err(e),
    };
    let (mac, credentials) = match read {
        Ok(read) => read,
        Err(e) => return refusal::answer(visit, e),
    };
    let page = CredentialsPage {
        t: visit.texts,
        css: assets::CSS_PATH.as_str(),
        who: Some(visit.who()),
        mac: mac.to_string(),
        username: &credentials.username,
        password: credentials.password.expose(),
        phone_admin_password: credentials.phone_admin_password.as_deref(),
    };
    Ok(html(StatusCode::OK, page.render()))
}

pub async fn preview(request: &Request<'_>) -> PageResult {
    let (app, visit) = (request.app, request.visit);
    let found = match mac_of(request) {
        Ok(mac) => devices::existing(app.store.reads(), mac).await,
        Err(e) => Err(e),
    };
    let device = match found {
        Ok(device) => device,
        Err(e) => return refusal::answer(visit, e),
    };
    let config = match device_list::preview(app, &device).await {
        Ok(config) => config,
        Err(e) => return refusal::answer(visit, e),
    };
    let page = PreviewPage {
        t: visit.texts,
        css: assets::CSS_PATH.as_str(),
        who: Some(visit.who()),
        mac: device.mac.to_string(),
        config,
    };
    Ok(html(StatusCode::OK, page.render()))
}

/// Answers an action on one device: to the device's page with `done`, or the refusal.
fn after_action(request: &Request<'_>, result: Result<(), OpError>, done: &str) -> PageResult {
    match (result, mac_of(request)) {
        (Ok(()), Ok(mac)) => Ok(see_other(&format!("/devices/{mac}?done={done}"))),
        (Err(e), _) | (_, Err(e)) => refusal::answer(request.visit, e),
    }
}

pub async fn assign(request: &Request<'_>, form: &Form) -> PageResult {
    let (app, by) = (request.app, &request.visit.actor);
    let result = async {
        let mac = mac_of(request)?;
        let user = Extension::parse_field("user", form.get("user").trim())?;
        let line = form.get("line").trim();
        devices::assign(app, by, mac, line, &user, form.ticked("replace")).await
    }
    .await;
    after_action(request, result.map(|_| ()), "assigned")
}

pub async fn unassign(request: &Request<'_>) -> PageResult {
    let (app, by) = (request.app, &request.visit.actor);
    let line = request.params.get(1).map_or("", String::as_str);
    let result = match mac_of(request) {
        Ok(mac) => devices::unassign(app, by, mac, line).await.map(|_| ()),
        Err(e) => Err(e),
    };
    after_action(request, result, "unassigned")
}

pub async fn reset_claim(request: &Request<'_>) -> PageResult {
    let (app, by) = (request.app, &request.visit.actor);
    let result = match mac_of(request) {
        Ok(mac) => devices::reset_claim(app, by, mac).await.map(|_| ()),
        Err(e) => Err(e),
    };
    after_action(request, result, "claim_reset")
}

pub async fn log_out(request: &Request<'_>) -> PageResult {
    let (app, by) = (request.app, &request.visit.actor);
    let result = match mac_of(request) {
        Ok(mac) => devices::logout(app, by, mac, None).await.map(|_| ()),
        Err(e) => Err(e),
    };
    after_action(request, result, "logged_out")
}
