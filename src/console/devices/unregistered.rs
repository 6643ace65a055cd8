//! The devices seen but not registered, in pages by MAC: adopt one (register it with what its
//! requests told), or forget it.

use askama::Template;
use http::StatusCode;

use super::list::{PAGE_SIZE, done_text};
use super::refusal;
use super::views::{UnregisteredPage, UnregisteredRow};
use crate::admin::endpoint::Access;
use crate::clock::rfc3339;
use crate::console::form::Form;
use crate::console::reply::{bad_request, html, see_other};
use crate::console::{PageResult, Request, account_permits, assets};
use crate::domain::{Label, Mac};
use crate::ops::{OpError, device_list, devices};

pub async fn show(request: &Request<'_>) -> PageResult {
    let (app, visit) = (request.app, request.visit);
    let d = visit.texts.device_area;
    let mut after = None;
    let mut done = None;
    for pair in request.query.split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=').unwrap_or((pair, "")) {
            ("after", raw) => match Mac::parse(raw) {
                Ok(mac) => after = Some(mac),
                Err(_) => return Ok(bad_request(visit.texts, Some(visit.who()))),
            },
            ("done", value) => done = Some(value),
            ("lang", _) => {}
            _ => return Ok(bad_request(visit.texts, Some(visit.who()))),
        }
    }
    let (seen, more) = device_list::unregistered_page(app, after, PAGE_SIZE).await?;
    let text = |v: Option<&str>| v.unwrap_or("").to_string();
    let rows = seen
        .iter()
        .map(|s| UnregisteredRow {
            mac: s.mac.to_string(),
            vendor: text(s.vendor.as_deref()),
            model: text(s.model.as_ref().map(|m| m.as_str())),
            firmware: text(s.firmware.as_deref()),
            first_seen: rfc3339(s.first_seen),
            last_seen: rfc3339(s.last_seen),
            last_address: text(s.last_address.as_deref()),
            requests: s.requests,
        })
        .collect();
    let page = UnregisteredPage {
        t: visit.texts,
        css: assets::CSS_PATH.as_str(),
        who: Some(visit.who()),
        csrf: visit.csrf(),
        rows,
        next: more
            .then(|| seen.last())
            .flatten()
            .map(|last| format!("/unregistered?after={}", last.mac)),
        first: after.is_some().then(|| "/unregistered".to_string()),
        notice: done_text(d, done),
        may_change: account_permits(&visit.account, Access::Change),
    };
    Ok(html(StatusCode::OK, page.render()))
}

fn mac_of(request: &Request<'_>) -> Result<Mac, OpError> {
    let raw = request.params.first().map_or("", String::as_str);
    Mac::parse(raw)
        .map_err(|_| OpError::not_found(format!("{raw} is not in the unregistered list")))
}

pub async fn adopt(request: &Request<'_>, form: &Form) -> PageResult {
    let (app, visit) = (request.app, request.visit);
    let result = async {
        let mac = mac_of(request)?;
        let label = form.get("label").trim();
        let label = (!label.is_empty())
            .then(|| Label::parse(label))
            .transpose()?;
        devices::adopt(app, &visit.actor, mac, label).await
    }
    .await;
    match result {
        Ok(device) => Ok(see_other(&format!("/devices/{}?done=adopted", device.mac))),
        Err(e) => refusal::answer(visit, e),
    }
}

pub async fn forget(request: &Request<'_>) -> PageResult {
    let (app, visit) = (request.app, request.visit);
    let result = match mac_of(request) {
        Ok(mac) => devices::forget_unregistered(app, &visit.actor, mac).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Ok(see_other("/unregistered?done=forgotten")),
        Err(e) => refusal::answer(visit, e),
    }
}
