//! The phonebook's contacts: create, change, delete, each recorded in the audit trail. Users
//! are in the phonebook by themselves; contacts are everyone else a phone should find.

use super::{Actor, OpError, WriteTx};
use crate::app::App;
use crate::domain::{ContactId, DialNumber, DisplayName, PersonName};
use crate::model::ContactRecord;
use crate::store::Reads;

/// Most contacts a site keeps: phonebooks are rendered whole for every phone that asks.
pub const MAX_CONTACTS: usize = 10_000;

/// A new contact, or a change: `None` leaves a field, `Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct ContactFields {
    pub display_name: Option<DisplayName>,
    pub first_name: Option<Option<PersonName>>,
    pub last_name: Option<Option<PersonName>>,
    pub office: Option<Option<DialNumber>>,
    pub mobile: Option<Option<DialNumber>>,
    pub other: Option<Option<DialNumber>>,
}

pub async fn existing(store: &dyn Reads, id: &ContactId) -> Result<ContactRecord, OpError> {
    store
        .contact(id)
        .await?
        .ok_or_else(|| OpError::not_found(format!("no contact {id}")))
}

pub async fn create(
    app: &App,
    by: &Actor,
    id: ContactId,
    fields: &ContactFields,
) -> Result<ContactRecord, OpError> {
    let record = prepare_new(app, id, fields)?;
    let mut tx = WriteTx::begin(app, by).await;
    if tx.contact_count().await? >= MAX_CONTACTS {
        return Err(OpError::conflict(format!(
            "the phonebook holds its most contacts ({MAX_CONTACTS}); delete some first"
        )));
    }
    if !tx.insert_contact(&record).await? {
        return Err(OpError::conflict(format!(
            "a contact {} already exists",
            record.id
        )));
    }
    tx.changed(
        &record.id,
        format!("contact created: {}", record.display_name),
    );
    tx.commit().await?;
    Ok(record)
}

pub async fn change(
    app: &App,
    by: &Actor,
    id: &ContactId,
    fields: &ContactFields,
) -> Result<ContactRecord, OpError> {
    let mut tx = WriteTx::begin(app, by).await;
    let record = prepare_change(existing(tx.reads(), id).await?, fields)?;
    if !tx.replace_contact(&record).await? {
        return Err(OpError::not_found(format!("no contact {id}")));
    }
    tx.changed(id, "contact changed");
    tx.commit().await?;
    Ok(record)
}

pub async fn delete(app: &App, by: &Actor, id: &ContactId) -> Result<(), OpError> {
    let mut tx = WriteTx::begin(app, by).await;
    if !tx.remove_contact(id).await? {
        return Err(OpError::not_found(format!("no contact {id}")));
    }
    tx.changed(id, "contact deleted");
    tx.commit().await?;
    Ok(())
}

/// A new contact as `create` would store it, checked, not written (a CSV import's row).
pub fn prepare_new(
    app: &App,
    id: ContactId,
    fields: &ContactFields,
) -> Result<ContactRecord, OpError> {
    let mut record = ContactRecord {
        id,
        display_name: DisplayName::parse("-").expect("a valid name"),
        first_name: None,
        last_name: None,
        office: None,
        mobile: None,
        other: None,
        created_at: app.clock.now(),
    };
    apply(&mut record, fields);
    record.display_name = match &fields.display_name {
        Some(name) => name.clone(),
        None => name_of(&record)?,
    };
    check(&record)?;
    Ok(record)
}

/// The contact as `change` would store it, checked, not written.
pub fn prepare_change(
    mut record: ContactRecord,
    fields: &ContactFields,
) -> Result<ContactRecord, OpError> {
    apply(&mut record, fields);
    check(&record)?;
    Ok(record)
}

fn set<T: Clone>(slot: &mut Option<T>, given: &Option<Option<T>>) {
    if let Some(value) = given {
        slot.clone_from(value);
    }
}

fn apply(record: &mut ContactRecord, fields: &ContactFields) {
    if let Some(name) = &fields.display_name {
        record.display_name = name.clone();
    }
    set(&mut record.first_name, &fields.first_name);
    set(&mut record.last_name, &fields.last_name);
    set(&mut record.office, &fields.office);
    set(&mut record.mobile, &fields.mobile);
    set(&mut record.other, &fields.other);
}

/// First and last name, when no display name is given.
fn name_of(record: &ContactRecord) -> Result<DisplayName, OpError> {
    let parts: Vec<&str> = [&record.first_name, &record.last_name]
        .into_iter()
        .flatten()
        .map(|n| n.as_str())
        .collect();
    if parts.is_empty() {
        return Err(OpError::invalid(
            "display_name: give a display name, or a first or last name",
        ));
    }
    Ok(DisplayName::parse(&parts.join(" "))?)
}

fn check(record: &ContactRecord) -> Result<(), OpError> {
    if record.numbers().next().is_none() {
        return Err(OpError::invalid(
            "office, mobile, other: a contact needs at least one number",
        ));
    }
    Ok(())
}
