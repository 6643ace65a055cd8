//! Registering a device (MAC in any notation; model optional, filled in at the first
//! provisioning) and editing one. A refused form comes back with what was typed and the reason,
//! and nothing is changed.

use askama::Template;
use http::StatusCode;

use super::detail::mac_of;
use super::list::{models, profiles};
use super::refusal;
use super::views::{DeviceFields, FormPage, SelectOption};
use crate::console::form::Form;
use crate::console::reply::{bad_request, html, see_other};
use crate::console::{PageResult, Request, assets};
use crate::domain::{InvalidInput, Label, Location, Mac, ModelId, ProfileName};
use crate::model::DeviceRecord;
use crate::ops::OpError;
use crate::ops::devices::{self, DeviceChange, NewDevice};

async fn form_page(
    request: &Request<'_>,
    status: StatusCode,
    editing: Option<String>,
    fields: DeviceFields,
    error: Option<&str>,
) -> PageResult {
    let visit = request.visit;
    let action = match &editing {
        Some(mac) => format!("/devices/{mac}/edit"),
        None => "/devices/new".to_string(),
    };
    let mut models = models();
    // A model the phone reported that the table lacks stays choosable, so saving keeps it.
    if !fields.model.is_empty() && !models.iter().any(|m| m.value == fields.model) {
        models.push(SelectOption {
            value: fields.model.clone(),
            label: fields.model.clone(),
        });
    }
    let page = FormPage {
        t: visit.texts,
        css: assets::CSS_PATH.as_str(),
        who: Some(visit.who()),
        csrf: visit.csrf(),
        editing,
        action,
        fields,
        error,
        models,
        profiles: profiles(request).await?,
    };
    Ok(html(status, page.render()))
}

pub async fn new_form(request: &Request<'_>) -> PageResult {
    let fields = DeviceFields {
        expansion_modules: "0".into(),
        ..DeviceFields::default()
    };
    form_page(request, StatusCode::OK, None, fields, None).await
}

fn fields_of(form: &Form) -> DeviceFields {
    DeviceFields {
        mac: form.get("mac").trim().to_string(),
        model: form.get("model").trim().to_string(),
        label: form.get("label").trim().to_string(),
        location: form.get("location").trim().to_string(),
        profile: form.get("profile").trim().to_string(),
        hotdesk: form.ticked("hotdesk"),
        certificate_required: form.ticked("certificate_required"),
        expansion_modules: form.get("expansion_modules").trim().to_string(),
    }
}

fn fields_from(device: &DeviceRecord) -> DeviceFields {
    let text = |v: Option<&str>| v.unwrap_or("").to_string();
    DeviceFields {
        mac: device.mac.to_string(),
        model: text(device.model.as_ref().map(|m| m.as_str())),
        label: text(device.label.as_ref().map(|l| l.as_str())),
        location: text(device.location.as_ref().map(|l| l.as_str())),
        profile: text(device.profile.as_ref().map(|p| p.as_str())),
        hotdesk: device.hotdesk,
        certificate_required: device.certificate_required,
        expansion_modules: device.expansion_modules.to_string(),
    }
}

/// An empty field is no value.
fn optional<T>(
    raw: &str,
    parse: impl Fn(&str) -> Result<T, InvalidInput>,
) -> Result<Option<T>, InvalidInput> {
    (!raw.is_empty()).then(|| parse(raw)).transpose()
}

fn modules(raw: &str) -> Result<u8, InvalidInput> {
    match raw {
        "" => Ok(0),
        _ => raw
            .parse()
            .map_err(|_| InvalidInput::new("expansion_modules", "must be a number")),
    }
}

/// The form as a device to register, or the first field refused.
fn new_device(fields: &DeviceFields) -> Result<NewDevice, OpError> {
    let mac = Mac::parse(&fields.mac).map_err(|_| OpError::invalid("mac: not a MAC address"))?;
    Ok(NewDevice {
        mac: Some(mac),
        model: optional(&fields.model, ModelId::parse)?,
        label: optional(&fields.label, Label::parse)?,
        location: optional(&fields.location, Location::parse)?,
        profile: optional(&fields.profile, ProfileName::parse)?,
        hotdesk: fields.hotdesk,
        certificate_required: fields.certificate_required,
        expansion_modules: modules(&fields.expansion_modules)?,
    })
}

pub async fn create(request: &Request<'_>, form: &Form) -> PageResult {
    let visit = request.visit;
    let fields = fields_of(form);
    let result = match new_device(&fields) {
        Ok(new) => devices::register(request.app, &visit.actor, &new).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(device) => Ok(see_other(&format!("/devices/{}?done=created", device.mac))),
        Err(OpError::Store(e)) => Err(OpError::Store(e)),
        Err(e) => refused_form(request, None, fields, &e).await,
    }
}

async fn refused_form(
    request: &Request<'_>,
    editing: Option<String>,
    fields: DeviceFields,
    error: &OpError,
) -> PageResult {
    let status = error.status();
    let Some(words) = refusal::text(request.visit.texts.device_area, error) else {
        return Err(OpError::Internal("a refusal without words".into()));
    };
    form_page(request, status, editing, fields, Some(words)).await
}

pub async fn edit_form(request: &Request<'_>) -> PageResult {
    let visit = request.visit;
    let found = match mac_of(request) {
        Ok(mac) => devices::existing(request.app.store.reads(), mac).await,
        Err(e) => Err(e),
    };
    match found {
        Ok(device) => {
            let editing = Some(device.mac.to_string());
            form_page(request, StatusCode::OK, editing, fields_from(&device), None).await
        }
        Err(e) => refusal::answer(visit, e),
    }
}

/// What the form changes on `before`: only the fields that differ, so the audit trail names
/// what changed and a model the phone reported stays its own.
fn change_of(fields: &DeviceFields, before: &DeviceRecord) -> Result<DeviceChange, OpError> {
    let was = fields_from(before);
    let differs = |now: &str, then: &str| now != then;
    let mut change = DeviceChange::default();
    if differs(&fields.model, &was.model) {
        change.model = Some(optional(&fields.model, ModelId::parse)?);
    }
    if differs(&fields.label, &was.label) {
        change.label = Some(optional(&fields.label, Label::parse)?);
    }
    if differs(&fields.location, &was.location) {
        change.location = Some(optional(&fields.location, Location::parse)?);
    }
    if differs(&fields.profile, &was.profile) {
        change.profile = Some(optional(&fields.profile, ProfileName::parse)?);
    }
    if fields.hotdesk != was.hotdesk {
        change.hotdesk = Some(fields.hotdesk);
    }
    if fields.certificate_required != was.certificate_required {
        change.certificate_required = Some(fields.certificate_required);
    }
    let modules = modules(&fields.expansion_modules)?;
    if modules != before.expansion_modules {
        change.expansion_modules = Some(modules);
    }
    Ok(change)
}

pub async fn edit(request: &Request<'_>, form: &Form) -> PageResult {
    let (app, visit) = (request.app, request.visit);
    let before = match mac_of(request) {
        Ok(mac) => devices::existing(app.store.reads(), mac).await,
        Err(e) => Err(e),
    };
    let before = match before {
        Ok(before) => before,
        Err(e) => return refusal::answer(visit, e),
    };
    // Every field of the form is sent, empty or not; a missing one would read as cleared.
    if !form.has_all(&["model", "label", "location", "profile", "expansion_modules"]) {
        return Ok(bad_request(visit.texts, Some(visit.who())));
    }
    let mut fields = fields_of(form);
    fields.mac = before.mac.to_string();
    let result = match change_of(&fields, &before) {
        Ok(change) if change == DeviceChange::default() => Ok(before.clone()),
        Ok(change) => devices::change(app, &visit.actor, before.mac, &change).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(device) => Ok(see_other(&format!("/devices/{}?done=saved", device.mac))),
        Err(OpError::Store(e)) => Err(OpError::Store(e)),
        Err(e) => refused_form(request, Some(before.mac.to_string()), fields, &e).await,
    }
}
