//! CSV export and import of users, devices, the phonebook's contacts and key layers, for every
//! front (the API's /api/v1/export/... and /api/v1/import/..., the console's import and export
//! pages).
//!
//! An import is all or nothing: every row is checked first (PINs hashed, references resolved),
//! and only when no row has an error are the records written, in one atomic batch. It is
//! idempotent: a row that matches the stored record changes nothing, so importing a file twice,
//! or importing an export, reports every row unchanged. Hashing PINs takes a while for a large
//! file, so an import runs as a job whose progress [`job`] reports.
//!
//! Cells: an empty cell leaves the stored value as it is; `-` clears an optional value. A row
//! is turned into the JSON body the API would take and decoded by the API's request types, so
//! an imported row is checked exactly like an API request (which is why the planner uses
//! `admin::{users, devices, contacts}`'s bodies and speaks `ApiError` inside; what leaves this
//! module is an [`OpError`]).
//!
//! The CSV codec is in `codec.rs`, the job registry in `jobs.rs`, the planning of rows and
//! their commit through [`super::import`] in `plan.rs`, and the keys subject (a row a key, a
//! file replacing the layers it names) in `layers.rs`.

mod codec;
mod jobs;
mod layers;
mod plan;

use std::sync::Arc;

use super::{Actor, OpError, import};
use crate::app::App;
use crate::error::ApiError;
use crate::model::ImportState;
use codec::{contact_cells, device_cells, user_cells, write};
use jobs::RowError;

pub use codec::Subject;
pub use jobs::{ImportJob, Imports, RowOutcome};

/// The planner's error as an operation's: the same kind, the same words.
fn op(e: ApiError) -> OpError {
    match e {
        ApiError::NotFound(m) => OpError::NotFound(m),
        ApiError::Conflict(m) => OpError::Conflict(m),
        ApiError::Internal(m) => OpError::Internal(m),
        other => OpError::Invalid(other.to_string()),
    }
}

/// The subject a front names: users, devices, contacts or keys.
pub fn subject(raw: &str) -> Result<Subject, OpError> {
    Subject::parse(raw).map_err(op)
}

/// Every record of `subject` as CSV, in the columns import reads. SIP passwords only with
/// `secrets`; PINs never (only their hashes are stored).
pub async fn export(app: &App, subject: Subject, secrets: bool) -> Result<Vec<u8>, OpError> {
    let mut out = csv::Writer::from_writer(Vec::new());
    let columns: Vec<&str> = subject
        .columns()
        .iter()
        .copied()
        .filter(|c| *c != "pin" && (secrets || *c != "sip_password"))
        .collect();
    write(&mut out, &columns).map_err(op)?;
    for row in export_rows(app, subject).await.map_err(op)? {
        let cells: Vec<&str> = columns
            .iter()
            .map(|c| row.get(c).map_or("", String::as_str))
            .collect();
        write(&mut out, &cells).map_err(op)?;
    }
    out.into_inner()
        .map_err(|e| OpError::Internal(e.to_string()))
}

/// The subject's records as cells by column, in the order of the file.
async fn export_rows(
    app: &App,
    subject: Subject,
) -> Result<Vec<std::collections::BTreeMap<&'static str, String>>, ApiError> {
    Ok(match subject {
        Subject::Users => app.store.users().await?.iter().map(user_cells).collect(),
        Subject::Devices => app
            .store
            .devices()
            .await?
            .iter()
            .map(device_cells)
            .collect(),
        Subject::Contacts => {
            let mut rows = Vec::new();
            let mut after = None;
            loop {
                let (page, more) = app.store.contacts_page(after.as_ref(), 500).await?;
                rows.extend(page.iter().map(contact_cells));
                after = page.last().map(|c| c.id.clone());
                if !more {
                    break rows;
                }
            }
        }
        Subject::Keys => layers::export_rows(app).await?,
    })
}

/// The import `id` with its progress (live while this process runs it) or its report.
pub async fn job(app: &App, id: u64) -> Result<Option<ImportJob>, OpError> {
    let Some(record) = app.store.import_job(id).await? else {
        return Ok(None);
    };
    let live = app.imports.find(id);
    Ok(Some(jobs::view(&record, live.as_deref())))
}

/// Imports newest first, `limit` of them before the import `before`; whether more remain.
pub async fn jobs(
    app: &App,
    before: Option<u64>,
    limit: usize,
) -> Result<(Vec<ImportJob>, bool), OpError> {
    let (records, more) = app.store.import_jobs(before, limit).await?;
    let views = records
        .iter()
        .map(|r| jobs::view(r, app.imports.find(r.id).as_deref()))
        .collect();
    Ok((views, more))
}

/// Checks the file's shape at once (`Invalid`), then checks and applies its rows in the
/// background; the job to follow. The job's record is durable before this returns: after a
/// crash it shows as interrupted.
pub async fn start(
    app: &Arc<App>,
    by: &Actor,
    subject: Subject,
    dry_run: bool,
    body: &[u8],
) -> Result<ImportJob, OpError> {
    begin(app, by, subject, dry_run, body, None).await
}

/// A dry run of the file, which keeps it for [`import_checked`]: the console checks a file
/// first and imports the very file it checked.
pub async fn check(
    app: &Arc<App>,
    by: &Actor,
    subject: Subject,
    body: Arc<[u8]>,
) -> Result<ImportJob, OpError> {
    begin(app, by, subject, true, &body.clone(), Some(body)).await
}

/// Imports the file of the dry run `id`, which `by` started and which found no error.
pub async fn import_checked(app: &Arc<App>, by: &Actor, id: u64) -> Result<ImportJob, OpError> {
    let (subject, body) = app.imports.take_checked(id, by).map_err(op)?;
    begin(app, by, subject, false, &body, None).await
}

/// Whether [`import_checked`] of the dry run `id` could find its file for `by`.
pub fn importable(app: &App, by: &Actor, id: u64) -> bool {
    app.imports.holds(id, by)
}

async fn begin(
    app: &Arc<App>,
    by: &Actor,
    subject: Subject,
    dry_run: bool,
    body: &[u8],
    keep: Option<Arc<[u8]>>,
) -> Result<ImportJob, OpError> {
    let rows = codec::parse_csv(subject, body).map_err(op)?;
    let job = app
        .imports
        .start(subject, dry_run, rows.len())
        .map_err(op)?;
    if let Some(bytes) = keep {
        app.imports.keep(&job, by, bytes);
    }
    let record = job.record(app.clock.now());
    if let Err(e) = import::record_job(app, &record).await {
        *job.report.lock().expect("job lock") = Some(jobs::failed(Vec::new()));
        return Err(e.into());
    }
    let view = jobs::view(&record, Some(&job));
    let (app, actor) = (app.clone(), by.clone());
    tokio::spawn(async move {
        let report = match plan::run(&app, &actor, &job, &record, rows).await {
            Ok(report) => report,
            Err(e) => {
                let detail = e.to_string();
                tracing::error!(error = %detail, "import failed");
                jobs::failed(vec![RowError {
                    row: 0,
                    key: String::new(),
                    error: detail,
                }])
            }
        };
        // A done import's record was written with its rows.
        if report.state != ImportState::Done
            && let Err(e) =
                import::record_job(&app, &jobs::finished(&record, &report, app.clock.now())).await
        {
            tracing::error!(error = %e, "the import's record could not be stored");
        }
        *job.report.lock().expect("job lock") = Some(report);
    });
    Ok(view)
}
