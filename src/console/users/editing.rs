//! Creating a user (the next free extension filled in; a typed or generated PIN; optionally a
//! desk phone with the user on line 1, in the same change) and editing one. A refused form
//! comes back with what was typed (never the PIN) and the reason, and nothing is changed.

use askama::Template;
use http::StatusCode;

use super::detail::{extension_of, pins_page};
use super::refusal;
use super::views::{FormPage, SelectOption, UserFields};
use crate::console::form::Form;
use crate::console::reply::{html, see_other};
use crate::console::{PageResult, Request, assets};
use crate::domain::{DisplayName, Email, Extension, InvalidInput, Mac, ModelId, PersonName, Pin};
use crate::model::UserRecord;
use crate::ops::devices::NewDevice;
use crate::ops::users::{self, NewUser, PinChoice, UserChange};
use crate::ops::{OpError, desk};

fn languages() -> Vec<SelectOption> {
    crate::locale::LANGUAGES
        .iter()
        .map(|l| SelectOption {
            value: l.code.to_string(),
            label: l.native.to_string(),
        })
        .collect()
}

fn models() -> Vec<SelectOption> {
    crate::models::all()
        .map(|row| SelectOption {
            value: row.model.to_string(),
            label: format!("{} ({})", row.model, row.vendor),
        })
        .collect()
}

fn form_page(
    request: &Request<'_>,
    status: StatusCode,
    editing: Option<String>,
    fields: UserFields,
    error: Option<&str>,
) -> PageResult {
    let visit = request.visit;
    let action = match &editing {
        Some(extension) => format!("/users/{extension}/edit"),
        None => "/users/new".to_string(),
    };
    let page = FormPage {
        t: visit.texts,
        css: assets::CSS_PATH.as_str(),
        who: Some(visit.who()),
        csrf: visit.csrf(),
        models: if editing.is_none() {
            models()
        } else {
            Vec::new()
        },
        editing,
        action,
        fields,
        error,
        languages: languages(),
    };
    Ok(html(status, page.render()))
}

pub async fn new_form(request: &Request<'_>) -> PageResult {
    let app = request.app;
    // With every extension taken, the field is left empty and creating says why.
    let next = users::next_free_extension(app, app.store.reads())
        .await
        .ok();
    let fields = UserFields {
        extension: next.map(|e| e.to_string()).unwrap_or_default(),
        may_hotdesk: true,
        ..UserFields::default()
    };
    form_page(request, StatusCode::OK, None, fields, None)
}

/// What the form says, as typed (the PIN left out: a refused form never shows it again).
fn fields_of(form: &Form) -> UserFields {
    UserFields {
        extension: form.get("extension").trim().to_string(),
        first_name: form.get("first_name").to_string(),
        last_name: form.get("last_name").to_string(),
        display_name: form.get("display_name").to_string(),
        email: form.get("email").trim().to_string(),
        language: form.get("user_language").to_string(),
        generate_pin: form.ticked("generate_pin"),
        pin_change_required: form.ticked("pin_change_required"),
        may_hotdesk: form.ticked("may_hotdesk"),
        phonebook_hidden: form.ticked("phonebook_hidden"),
        mac: form.get("mac").trim().to_string(),
        model: form.get("model").to_string(),
    }
}

/// An empty field is no value.
fn optional<T>(
    raw: &str,
    parse: impl Fn(&str) -> Result<T, InvalidInput>,
) -> Result<Option<T>, InvalidInput> {
    (!raw.is_empty()).then(|| parse(raw)).transpose()
}

fn language(raw: &str) -> Result<String, InvalidInput> {
    crate::locale::language(raw)
        .map(|l| l.code.to_string())
        .ok_or_else(|| InvalidInput::new("language", "unknown language"))
}

/// A refusal the console words itself: a PIN typed and one to generate.
const PIN_TWICE: &str = "pin twice";

fn pin_choice(form: &Form) -> Result<PinChoice, OpError> {
    match (form.get("pin"), form.ticked("generate_pin")) {
        ("", false) => Ok(PinChoice::Keep),
        ("", true) => Ok(PinChoice::Generate),
        (_, true) => Err(OpError::invalid(PIN_TWICE)),
        (typed, false) => Ok(PinChoice::Set(Pin::parse(typed)?)),
    }
}

fn new_user(form: &Form, f: &UserFields) -> Result<NewUser, OpError> {
    Ok(NewUser {
        extension: optional(&f.extension, Extension::parse)?,
        display_name: optional(&f.display_name, DisplayName::parse)?,
        first_name: optional(&f.first_name, |n| PersonName::parse_field("first_name", n))?,
        last_name: optional(&f.last_name, |n| PersonName::parse_field("last_name", n))?,
        language: optional(&f.language, language)?,
        email: optional(&f.email, Email::parse)?,
        pin: pin_choice(form)?,
        pin_change_required: f.pin_change_required,
        may_hotdesk: Some(f.may_hotdesk),
        phonebook_hidden: f.phonebook_hidden,
        ..NewUser::default()
    })
}

fn desk_phone(f: &UserFields) -> Result<Option<NewDevice>, OpError> {
    if f.mac.is_empty() {
        return Ok(None);
    }
    let mac = Mac::parse(&f.mac).map_err(|_| InvalidInput::new("mac", "not a MAC address"))?;
    Ok(Some(NewDevice {
        mac: Some(mac),
        model: optional(&f.model, ModelId::parse)?,
        ..NewDevice::default()
    }))
}

fn refused_text(request: &Request<'_>, error: &OpError) -> Option<&'static str> {
    let u = request.visit.texts.users;
    match error {
        OpError::Invalid(m) if m == PIN_TWICE => Some(u.error_pin_twice),
        e => refusal::text(u, e),
    }
}

/// The form again with what was typed and why it was refused; a failure that is no refusal
/// stays an error.
fn refused_form(
    request: &Request<'_>,
    editing: Option<String>,
    fields: UserFields,
    error: OpError,
) -> PageResult {
    let Some(text) = refused_text(request, &error) else {
        return Err(error);
    };
    form_page(request, error.status(), editing, fields, Some(text))
}

pub async fn create(request: &Request<'_>, form: &Form) -> PageResult {
    let fields = fields_of(form);
    let parsed = new_user(form, &fields).and_then(|user| Ok((user, desk_phone(&fields)?)));
    let (user, phone) = match parsed {
        Ok(parsed) => parsed,
        Err(e) => return refused_form(request, None, fields, e),
    };
    let visit = request.visit;
    match desk::create(request.app, &visit.actor, &user, phone.as_ref()).await {
        Ok(created) => {
            let extension = created.user.record.extension;
            match created.user.generated_pin {
                Some(pin) => {
                    let heading = visit.texts.users.created_heading;
                    let back = Some(format!("/users/{extension}"));
                    pins_page(request, vec![(extension, pin)], heading, back).await
                }
                None => Ok(see_other(&format!("/users/{extension}?done=created"))),
            }
        }
        Err(e) => refused_form(request, None, fields, e),
    }
}

fn fields_of_user(user: &UserRecord) -> UserFields {
    let text = |v: Option<&str>| v.unwrap_or("").to_string();
    UserFields {
        extension: user.extension.to_string(),
        first_name: text(user.first_name.as_ref().map(|n| n.as_str())),
        last_name: text(user.last_name.as_ref().map(|n| n.as_str())),
        display_name: user.display_name.to_string(),
        email: text(user.email.as_ref().map(|e| e.as_str())),
        language: text(user.language.as_deref()),
        generate_pin: false,
        pin_change_required: user.pin_change_required,
        may_hotdesk: user.may_hotdesk,
        phonebook_hidden: user.phonebook_hidden,
        mac: String::new(),
        model: String::new(),
    }
}

pub async fn edit_form(request: &Request<'_>) -> PageResult {
    let found = match extension_of(request) {
        Ok(extension) => users::existing(request.app.store.reads(), &extension).await,
        Err(e) => Err(e),
    };
    match found {
        Ok(user) => {
            let editing = Some(user.extension.to_string());
            form_page(
                request,
                StatusCode::OK,
                editing,
                fields_of_user(&user),
                None,
            )
        }
        Err(e) => refusal::answer(request.visit, e, None),
    }
}

/// Every field of the form, set as given: an empty optional field clears it.
fn change_of(form: &Form, f: &UserFields) -> Result<UserChange, OpError> {
    Ok(UserChange {
        display_name: Some(DisplayName::parse(&f.display_name)?),
        first_name: Some(optional(&f.first_name, |n| {
            PersonName::parse_field("first_name", n)
        })?),
        last_name: Some(optional(&f.last_name, |n| {
            PersonName::parse_field("last_name", n)
        })?),
        language: Some(optional(&f.language, language)?),
        email: Some(optional(&f.email, Email::parse)?),
        pin: pin_choice(form)?,
        pin_change_required: Some(f.pin_change_required),
        may_hotdesk: Some(f.may_hotdesk),
        phonebook_hidden: Some(f.phonebook_hidden),
        ..UserChange::default()
    })
}

pub async fn edit(request: &Request<'_>, form: &Form) -> PageResult {
    let visit = request.visit;
    let extension = match extension_of(request) {
        Ok(extension) => extension,
        Err(e) => return refusal::answer(visit, e, None),
    };
    let editing = Some(extension.to_string());
    let fields = fields_of(form);
    let change = match change_of(form, &fields) {
        Ok(change) => change,
        Err(e) => return refused_form(request, editing, fields, e),
    };
    match users::change(request.app, &visit.actor, &extension, change).await {
        Ok(changed) => match changed.generated_pin {
            Some(pin) => {
                let back = Some(format!("/users/{extension}"));
                let heading = visit.texts.users.pins_heading;
                pins_page(request, vec![(extension, pin)], heading, back).await
            }
            None => Ok(see_other(&format!("/users/{extension}?done=saved"))),
        },
        Err(OpError::NotFound(m)) => refusal::answer(visit, OpError::NotFound(m), None),
        Err(e) => refused_form(request, editing, fields, e),
    }
}
