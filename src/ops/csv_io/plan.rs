//! Import planning: each row checked into a plan exactly as the API would check it, then, when
//! no row has an error, every plan committed through the operations layer in one change.

use std::collections::HashSet;
use std::sync::atomic::Ordering;

use super::codec::{CLEAR, Row, Subject, as_json, cell, decode};
use super::jobs::{Job, Report, RowError, RowOutcome, failed, finished};
// A row is decoded as the API's body would be.
use crate::admin::schemas::{ContactPatch, DevicePatch, NewContact, NewDevice, NewUser, UserPatch};
use crate::app::App;
use crate::domain::{ContactId, Extension, Mac, Pin};
use crate::error::ApiError;
use crate::model::{ContactRecord, DeviceRecord, ImportRecord, ImportState, UserRecord};
use crate::ops::contacts::{self, MAX_CONTACTS};
use crate::ops::import::Planned;
use crate::ops::{Actor, OpError, devices, import, users};

/// What one row will do.
enum Plan<R> {
    Create(R),
    Update { before: Box<R>, after: R },
    Unchanged,
}

impl<R> Plan<R> {
    fn outcome(&self) -> &'static str {
        match self {
            Plan::Create(_) => "created",
            Plan::Update { .. } => "updated",
            Plan::Unchanged => "unchanged",
        }
    }
}

/// Checks every row, and commits them with the job's final record when none has an error;
/// `record` is the job's record as it started.
pub(super) async fn run(
    app: &App,
    by: &Actor,
    job: &Job,
    record: &ImportRecord,
    rows: Vec<Row>,
) -> Result<Report, ApiError> {
    let done = |report: &Report| finished(record, report, app.clock.now());
    let mut seen = HashSet::new();
    match job.subject {
        Subject::Users => {
            let mut checked = Checked::for_rows(&rows);
            for row in &rows {
                let plan = match repeated(job, &mut seen, row) {
                    Some(error) => Err(error),
                    None => plan_user(app, row).await.map_err(|e| e.to_string()),
                };
                checked.note(plan);
                job.checked.fetch_add(1, Ordering::Relaxed);
            }
            finish(job, rows, checked, async |w, report| {
                import::commit_users(app, by, w, &done(report)).await
            })
            .await
        }
        Subject::Contacts => {
            let mut room = Room::of_phonebook(app).await?;
            let mut checked = Checked::for_rows(&rows);
            for row in &rows {
                let plan = match repeated(job, &mut seen, row) {
                    Some(error) => Err(error),
                    None => plan_contact(app, row, &mut room)
                        .await
                        .map_err(|e| e.to_string()),
                };
                checked.note(plan);
                job.checked.fetch_add(1, Ordering::Relaxed);
            }
            finish(job, rows, checked, async |w, report| {
                import::commit_contacts(app, by, w, &done(report)).await
            })
            .await
        }
        Subject::Keys => super::layers::run(app, by, job, record, rows).await,
        Subject::Devices => {
            let mut checked = Checked::for_rows(&rows);
            for row in &rows {
                let plan = match repeated(job, &mut seen, row) {
                    Some(error) => Err(error),
                    None => plan_device(app, row).await.map_err(|e| e.to_string()),
                };
                checked.note(plan);
                job.checked.fetch_add(1, Ordering::Relaxed);
            }
            finish(job, rows, checked, async |w, report| {
                import::commit_devices(app, by, w, &done(report)).await
            })
            .await
        }
    }
}

/// A key seen on an earlier row is an error of the later one.
fn repeated(job: &Job, seen: &mut HashSet<String>, row: &Row) -> Option<String> {
    let key = row.key(job.subject);
    (!seen.insert(normalise_key(job.subject, &key)))
        .then(|| format!("{key} appears on an earlier row too"))
}

fn normalise_key(subject: Subject, key: &str) -> String {
    match subject {
        Subject::Devices => Mac::parse(key).map_or(key.to_string(), |m| m.to_string()),
        Subject::Users | Subject::Contacts | Subject::Keys => key.to_string(),
    }
}

/// The rows' plans as they are checked: each row's outcome or error, and the records to write
/// (kept only while no row has an error; each once, as the store will take them).
struct Checked<R> {
    outcomes: Vec<Result<&'static str, String>>,
    writes: Planned<R>,
    failed: bool,
}

impl<R> Checked<R> {
    fn for_rows(rows: &[Row]) -> Checked<R> {
        Checked {
            outcomes: Vec::with_capacity(rows.len()),
            // At most a record a row: reserved at once, a large import's records are not
            // copied as the list grows.
            writes: Planned {
                records: Vec::with_capacity(rows.len()),
                replaced: Vec::new(),
            },
            failed: false,
        }
    }

    fn note(&mut self, plan: Result<Plan<R>, String>) {
        let plan = match plan {
            Ok(plan) => plan,
            Err(error) => {
                self.outcomes.push(Err(error));
                self.failed = true;
                self.writes.records = Vec::new();
                self.writes.replaced = Vec::new();
                return;
            }
        };
        self.outcomes.push(Ok(plan.outcome()));
        if self.failed {
            return;
        }
        let (record, replaced) = match plan {
            Plan::Create(r) => (r, None),
            Plan::Update { before, after } => (after, Some(before)),
            Plan::Unchanged => return,
        };
        self.writes.records.push(record);
        self.writes.replaced.push(replaced);
    }
}

async fn finish<R>(
    job: &Job,
    rows: Vec<Row>,
    checked: Checked<R>,
    commit: impl AsyncFnOnce(Planned<R>, &Report) -> Result<(), OpError>,
) -> Result<Report, ApiError> {
    let errors: Vec<RowError> = rows
        .iter()
        .zip(&checked.outcomes)
        .filter_map(|(row, outcome)| {
            outcome.as_ref().err().map(|error| RowError {
                row: row.line,
                key: row.key(job.subject),
                error: error.clone(),
            })
        })
        .collect();
    if !errors.is_empty() {
        return Ok(failed(errors));
    }
    let count = |name: &str| checked.outcomes.iter().filter(|o| **o == Ok(name)).count();
    let mut report = Report {
        state: if job.dry_run {
            ImportState::Checked
        } else {
            ImportState::Done
        },
        created: count("created"),
        updated: count("updated"),
        unchanged: count("unchanged"),
        errors: Vec::new(),
        rows: rows
            .iter()
            .zip(&checked.outcomes)
            .map(|(row, outcome)| RowOutcome {
                row: row.line,
                key: row.key(job.subject),
                outcome: outcome.clone().unwrap_or_default(),
            })
            .collect(),
    };
    if job.dry_run {
        return Ok(report);
    }
    // The rows are in the report now; a large file's cells need not wait for the commit.
    drop(rows);
    if let Err(e) = commit(checked.writes, &report).await {
        report = failed(vec![RowError {
            row: 0,
            key: String::new(),
            error: e.to_string(),
        }]);
    }
    Ok(report)
}

async fn plan_user(app: &App, row: &Row) -> Result<Plan<UserRecord>, ApiError> {
    const FLAGS: &[&str] = &["may_hotdesk", "locked", "phonebook_hidden"];
    let extension = Extension::parse(cell(row, "extension").unwrap_or_default())?;
    let Some(current) = app.store.user(&extension).await? else {
        let body = as_json(row, &[], FLAGS)?;
        let new: NewUser = decode(body.into_iter().filter(|(_, v)| !v.is_null()).collect())?;
        let prepared = users::prepare_new(app, &new.typed()?).await?;
        return Ok(Plan::Create(prepared.record));
    };
    // Secrets that match what is stored are no change: the PIN is checked against its hash.
    let mut skip = vec!["extension"];
    if let Some(pin) = cell(row, "pin")
        && let Ok(pin) = Pin::parse(pin)
        && app.pins.verify(&pin, current.pin_hash.as_ref()).await
    {
        skip.push("pin");
    }
    if cell(row, "sip_password") == Some(current.sip_password.expose()) {
        skip.push("sip_password");
    }
    let patch: UserPatch = decode(as_json(row, &skip, FLAGS)?)?;
    let change = users::prepare_change(app, &extension, patch.typed()?).await?;
    let mut after = current.clone();
    change.apply_to(&mut after);
    Ok(if after == current {
        Plan::Unchanged
    } else {
        Plan::Update {
            before: Box::new(current),
            after,
        }
    })
}

/// Contacts the phonebook may still take: rows creating more are refused.
struct Room {
    stored: usize,
    created: usize,
}

impl Room {
    async fn of_phonebook(app: &App) -> Result<Room, ApiError> {
        Ok(Room {
            stored: app.store.contact_count().await?,
            created: 0,
        })
    }

    fn take_one(&mut self) -> Result<(), ApiError> {
        if self.stored + self.created >= MAX_CONTACTS {
            return Err(ApiError::Conflict(format!(
                "id: the phonebook holds at most {MAX_CONTACTS} contacts ({} stored, {} created by earlier rows)",
                self.stored, self.created
            )));
        }
        self.created += 1;
        Ok(())
    }
}

async fn plan_contact(
    app: &App,
    row: &Row,
    room: &mut Room,
) -> Result<Plan<ContactRecord>, ApiError> {
    let id = ContactId::parse(cell(row, "id").unwrap_or_default())?;
    let Some(current) = app.store.contact(&id).await? else {
        let body = as_json(row, &[], &[])?;
        let new: NewContact = decode(body.into_iter().filter(|(_, v)| !v.is_null()).collect())?;
        let (id, fields) = new.typed()?;
        let record = contacts::prepare_new(app, id, &fields)?;
        room.take_one()?;
        return Ok(Plan::Create(record));
    };
    let patch: ContactPatch = decode(as_json(row, &["id"], &[])?)?;
    let after = contacts::prepare_change(current.clone(), &patch.typed()?)?;
    Ok(if after == current {
        Plan::Unchanged
    } else {
        Plan::Update {
            before: Box::new(current),
            after,
        }
    })
}

async fn plan_device(app: &App, row: &Row) -> Result<Plan<DeviceRecord>, ApiError> {
    const FLAGS: &[&str] = &["hotdesk", "certificate_required"];
    let mac = Mac::parse(cell(row, "mac").unwrap_or_default())?;
    let current = app.store.device(mac).await?;
    let mut after = match &current {
        Some(device) => device.clone(),
        None => {
            let body = as_json(row, &["lines"], FLAGS)?;
            let new: NewDevice = decode(body.into_iter().filter(|(_, v)| !v.is_null()).collect())?;
            devices::prepare_new(app, app.store.reads(), &new.typed()?).await?
        }
    };
    if current.is_some() {
        let body = as_json(row, &["mac", "lines"], FLAGS)?;
        let patch: DevicePatch = decode(body)?;
        devices::apply_change(app.store.reads(), &mut after, &patch.typed()?).await?;
    }
    if let Some(raw) = cell(row, "lines") {
        after.lines = devices::parse_lines(app.store.reads(), &after, raw, CLEAR).await?;
    }
    devices::check_device(app, &after)?;
    if !after.hotdesk && !after.sessions.is_empty() {
        return Err(ApiError::Conflict(
            "hotdesk: users are logged in at this phone; log them out first".into(),
        ));
    }
    Ok(match current {
        None => Plan::Create(after),
        Some(before) if before == after => Plan::Unchanged,
        Some(before) => Plan::Update {
            before: Box::new(before),
            after,
        },
    })
}
