//! /api/v1/contacts: the company phonebook's contacts besides the users.

use http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{ApiResult, paging};
use crate::app::App;
use crate::clock::rfc3339;
use crate::domain::{ContactId, DialNumber, DisplayName, InvalidInput, PersonName};
use crate::error::ApiError;
use crate::model::ContactRecord;
use crate::ops::Actor;
use crate::ops::contacts::{self, ContactFields};
use crate::respond;
use crate::settings::double_option;

/// A new contact: a display name (or a first or last name) and at least one number.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewContact {
    /// 1 to 64 of a-z, 0-9, '-', '_', '.': how the API and CSV files name it.
    #[schema(pattern = "^[a-z0-9][a-z0-9._-]{0,63}$")]
    id: String,
    /// Defaults to first and last name.
    #[schema(value_type = Option<DisplayName>)]
    display_name: Option<String>,
    #[schema(value_type = Option<PersonName>)]
    first_name: Option<String>,
    #[schema(value_type = Option<PersonName>)]
    last_name: Option<String>,
    /// Phone numbers: an optional +, digits, * and #; spaces, dashes, dots, slashes and
    /// brackets are dropped.
    #[schema(max_length = 64)]
    office: Option<String>,
    #[schema(max_length = 64)]
    mobile: Option<String>,
    #[schema(max_length = 64)]
    other: Option<String>,
}

/// What to change; `null` clears a field.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactPatch {
    #[schema(value_type = Option<DisplayName>)]
    display_name: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<PersonName>)]
    first_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<PersonName>)]
    last_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(max_length = 64)]
    office: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(max_length = 64)]
    mobile: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(max_length = 64)]
    other: Option<Option<String>>,
}

#[derive(Serialize, ToSchema)]
pub struct ContactView<'a> {
    #[schema(value_type = String)]
    id: &'a ContactId,
    #[schema(value_type = String)]
    display_name: &'a DisplayName,
    #[schema(value_type = Option<String>)]
    first_name: Option<&'a PersonName>,
    #[schema(value_type = Option<String>)]
    last_name: Option<&'a PersonName>,
    #[schema(value_type = Option<String>)]
    office: Option<&'a DialNumber>,
    #[schema(value_type = Option<String>)]
    mobile: Option<&'a DialNumber>,
    #[schema(value_type = Option<String>)]
    other: Option<&'a DialNumber>,
    created_at: String,
}

fn view(c: &ContactRecord) -> ContactView<'_> {
    ContactView {
        id: &c.id,
        display_name: &c.display_name,
        first_name: c.first_name.as_ref(),
        last_name: c.last_name.as_ref(),
        office: c.office.as_ref(),
        mobile: c.mobile.as_ref(),
        other: c.other.as_ref(),
        created_at: rfc3339(c.created_at),
    }
}

fn number(field: &'static str, raw: &str) -> Result<DialNumber, InvalidInput> {
    DialNumber::parse_field(field, raw)
}

fn given<T>(
    raw: &Option<String>,
    parse: impl Fn(&str) -> Result<T, InvalidInput>,
) -> Result<Option<Option<T>>, InvalidInput> {
    raw.as_deref().map(|v| parse(v).map(Some)).transpose()
}

fn clearable<T>(
    raw: &Option<Option<String>>,
    parse: impl Fn(&str) -> Result<T, InvalidInput>,
) -> Result<Option<Option<T>>, InvalidInput> {
    Ok(match raw {
        Some(Some(value)) => Some(Some(parse(value)?)),
        Some(None) => Some(None),
        None => None,
    })
}

impl NewContact {
    pub(crate) fn typed(&self) -> Result<(ContactId, ContactFields), InvalidInput> {
        Ok((
            ContactId::parse(&self.id)?,
            ContactFields {
                display_name: self
                    .display_name
                    .as_deref()
                    .map(DisplayName::parse)
                    .transpose()?,
                first_name: given(&self.first_name, |n| {
                    PersonName::parse_field("first_name", n)
                })?,
                last_name: given(&self.last_name, |n| PersonName::parse_field("last_name", n))?,
                office: given(&self.office, |n| number("office", n))?,
                mobile: given(&self.mobile, |n| number("mobile", n))?,
                other: given(&self.other, |n| number("other", n))?,
            },
        ))
    }
}

impl ContactPatch {
    pub(crate) fn typed(&self) -> Result<ContactFields, InvalidInput> {
        Ok(ContactFields {
            display_name: self
                .display_name
                .as_deref()
                .map(DisplayName::parse)
                .transpose()?,
            first_name: clearable(&self.first_name, |n| {
                PersonName::parse_field("first_name", n)
            })?,
            last_name: clearable(&self.last_name, |n| PersonName::parse_field("last_name", n))?,
            office: clearable(&self.office, |n| number("office", n))?,
            mobile: clearable(&self.mobile, |n| number("mobile", n))?,
            other: clearable(&self.other, |n| number("other", n))?,
        })
    }
}

pub fn id(raw: &str) -> Result<ContactId, ApiError> {
    Ok(ContactId::parse(raw)?)
}

pub async fn list(app: &App, query: &str) -> ApiResult {
    let (page, _) = paging::parse(query, &[])?;
    let after = page.after.as_deref().map(ContactId::parse).transpose()?;
    let (contacts, more) = app.store.contacts_page(after.as_ref(), page.limit).await?;
    let next = paging::next_of(&contacts, more, |c| c.id.to_string());
    Ok(paging::answer(contacts.iter().map(view).collect(), next))
}

pub async fn show(app: &App, id: &ContactId) -> ApiResult {
    let contact = contacts::existing(app.store.reads(), id).await?;
    Ok(respond::json(StatusCode::OK, &view(&contact)))
}

pub async fn create(app: &App, by: &Actor, new: NewContact) -> ApiResult {
    let (id, fields) = new.typed()?;
    let contact = contacts::create(app, by, id, &fields).await?;
    Ok(respond::json(StatusCode::CREATED, &view(&contact)))
}

pub async fn patch(app: &App, by: &Actor, id: &ContactId, patch: ContactPatch) -> ApiResult {
    let contact = contacts::change(app, by, id, &patch.typed()?).await?;
    Ok(respond::json(StatusCode::OK, &view(&contact)))
}

pub async fn delete(app: &App, by: &Actor, id: &ContactId) -> ApiResult {
    contacts::delete(app, by, id).await?;
    let deleted = super::schemas::DeletedContact {
        deleted: id.to_string(),
    };
    Ok(respond::json(StatusCode::OK, &deleted))
}
