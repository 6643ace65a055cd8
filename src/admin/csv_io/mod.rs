//! CSV export and import of users, devices, the phonebook's contacts and key layers
//! (/api/v1/export/..., /api/v1/import/...).
//!
//! An import is all or nothing: every row is checked first (PINs hashed, references resolved),
//! and only when no row has an error are the records written, in one atomic batch. It is
//! idempotent: a row that matches the stored record changes nothing, so importing a file twice,
//! or importing an export, reports every row unchanged. Hashing PINs takes a while for a large
//! file, so an import runs as a job whose progress `GET /api/v1/imports/{id}` reports.
//!
//! Cells: an empty cell leaves the stored value as it is; `-` clears an optional value.
//!
//! The handlers are here; the CSV codec in `codec.rs`, the job registry in `jobs.rs`, the
//! planning of rows and their commit through the operations layer in `plan.rs`, and the keys
//! subject (a row a key, a file replacing the layers it names) in `layers.rs`.

mod codec;
mod jobs;
mod layers;
mod plan;

use std::sync::Arc;

use http::StatusCode;

use super::ApiResult;
use crate::app::App;
use crate::error::ApiError;
use crate::model::ImportState;
use crate::ops::Actor;
use crate::ops::import;
use crate::respond;
use codec::{Subject, contact_cells, device_cells, user_cells, write};
use jobs::RowError;

pub use jobs::{ImportJob, Imports};

/// `GET /export/{users|devices|contacts|keys}`: every record as CSV, in the columns import reads. SIP
/// passwords only with `?secrets=true`; PINs never (only their hashes are stored).
pub async fn export(app: &App, subject: &str, query: &str) -> ApiResult {
    let subject = Subject::parse(subject)?;
    let (page, pairs) = super::paging::parse(query, &["secrets"])?;
    if page != super::paging::Page::default() {
        return Err(ApiError::BadRequest(
            "an export takes only secrets=true or secrets=false".into(),
        ));
    }
    let secrets = match pairs.first() {
        Some((_, value)) => {
            super::query_flag(&format!("secrets={value}"), "secrets")?.unwrap_or(false)
        }
        None => false,
    };
    let mut out = csv::Writer::from_writer(Vec::new());
    let columns: Vec<&str> = subject
        .columns()
        .iter()
        .copied()
        .filter(|c| *c != "pin" && (secrets || *c != "sip_password"))
        .collect();
    write(&mut out, &columns)?;
    for row in export_rows(app, subject).await? {
        write(
            &mut out,
            &columns
                .iter()
                .map(|c| row.get(c).map_or("", String::as_str))
                .collect::<Vec<_>>(),
        )?;
    }
    let bytes = out
        .into_inner()
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let mut response = respond::HttpResponse::new(bytes.into());
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    Ok(response)
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

pub async fn show_import(app: &App, id: &str) -> ApiResult {
    let not_found = || {
        ApiError::NotFound(format!(
            "no import {id} (the last {} are kept)",
            import::KEPT_RECORDS
        ))
    };
    let id = id.parse::<u64>().map_err(|_| not_found())?;
    let record = app.store.import_job(id).await?.ok_or_else(not_found)?;
    let live = app.imports.find(id);
    Ok(respond::json(
        StatusCode::OK,
        &jobs::view(&record, live.as_deref()),
    ))
}

/// Imports newest first, in pages (`after`: an import's id), as the store keeps them.
pub async fn list_imports(app: &App, query: &str) -> ApiResult {
    let (page, _) = super::paging::parse(query, &[])?;
    let before = super::paging::id_cursor(&page)?;
    let (records, more) = app.store.import_jobs(before, page.limit).await?;
    let next = records
        .last()
        .filter(|_| more)
        .map(|last| last.id.to_string());
    let views: Vec<ImportJob> = records
        .iter()
        .map(|r| jobs::view(r, app.imports.find(r.id).as_deref()))
        .collect();
    Ok(super::paging::answer(views, next))
}

/// `POST /import/{users|devices|contacts|keys}[?dry_run=true]`: checks the file's shape at once (400), then
/// checks and applies its rows in the background; 202 with the job to follow. The job's
/// record is durable before the 202: after a crash it shows as interrupted.
pub async fn start_import(
    app: &Arc<App>,
    subject: &str,
    query: &str,
    body: &[u8],
    by: &Actor,
) -> ApiResult {
    let subject = Subject::parse(subject)?;
    let dry_run = import_options(query)?;
    let rows = codec::parse_csv(subject, body)?;
    let job = app.imports.start(subject, dry_run, rows.len())?;
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
    Ok(respond::json(StatusCode::ACCEPTED, &view))
}

/// `?dry_run=true|false`, nothing else: a typo must not import for real.
fn import_options(query: &str) -> Result<bool, ApiError> {
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let key = pair.split_once('=').map_or(pair, |(k, _)| k);
        if key != "dry_run" {
            return Err(ApiError::BadRequest(format!(
                "unknown parameter {key:?}; an import takes only dry_run=true or dry_run=false"
            )));
        }
        if !pair.contains('=') {
            return Err(ApiError::BadRequest(
                "dry_run: must be true or false".into(),
            ));
        }
    }
    Ok(super::query_flag(query, "dry_run")?.unwrap_or(false))
}
