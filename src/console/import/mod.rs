//! The import and export pages: a CSV file uploaded (`multipart/form-data`, the one form that
//! is not urlencoded) is checked first in a dry run, whose page shows its progress and then
//! each row's error, or the counts and the button that imports the very file it checked; the
//! import's page shows its progress the same way. Without script a page that is still running
//! refreshes itself; with the embedded `import.js` it polls `/imports/{id}/progress` and moves
//! the bar. The jobs are `ops::csv_io`'s, as the API's are. Export offers each kind's CSV,
//! without secrets.

pub mod texts;
mod views;

use std::sync::Arc;

use askama::Template;
use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, StatusCode};

use super::form::Form;
use super::pages::{Page, PageDef};
use super::reply::{bad_request, html, message, refused, see_other};
use super::{PageResult, Request, assets, multipart, session};
use crate::admin::endpoint::Access;
use crate::body::BodyError;
use crate::ops::OpError;
use crate::ops::csv_io::{self, ImportJob, Subject};
use views::{ErrorRow, ExportPage, FormPage, JobPage, JobRow, JobsPage, KINDS};

pub use texts::ImportTexts;

/// Imports a page of the list shows.
const PAGE_SIZE: usize = 20;
/// Room beyond the file for the form's other fields and the multipart framing.
const FORM_OVERHEAD: usize = 16 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportPage {
    Form,
    Upload,
    Jobs,
    Job,
    Progress,
    Commit,
    Export,
    Download,
}

const fn def(
    page: ImportPage,
    method: Method,
    path: &'static str,
    name: &'static str,
    access: Access,
) -> PageDef {
    PageDef {
        page: Page::Import(page),
        method,
        path,
        name,
        access,
    }
}

pub static PAGES: &[PageDef] = &[
    def(
        ImportPage::Form,
        Method::GET,
        "/import",
        "page: import",
        Access::Change,
    ),
    def(
        ImportPage::Upload,
        Method::POST,
        "/import",
        "page: check an import",
        Access::Change,
    ),
    def(
        ImportPage::Jobs,
        Method::GET,
        "/imports",
        "page: imports",
        Access::Read,
    ),
    def(
        ImportPage::Job,
        Method::GET,
        "/imports/{id}",
        "page: import's progress",
        Access::Read,
    ),
    def(
        ImportPage::Progress,
        Method::GET,
        "/imports/{id}/progress",
        "page: import's progress as JSON",
        Access::Read,
    ),
    def(
        ImportPage::Commit,
        Method::POST,
        "/imports/{id}/import",
        "page: import a checked file",
        Access::Change,
    ),
    def(
        ImportPage::Export,
        Method::GET,
        "/export",
        "page: export",
        Access::Read,
    ),
    def(
        ImportPage::Download,
        Method::GET,
        "/export/{file}",
        "page: export file",
        Access::Read,
    ),
];

pub async fn show(request: &Request<'_>, page: ImportPage) -> PageResult {
    match page {
        ImportPage::Form => Ok(form_page(request, StatusCode::OK, "", None, None)),
        ImportPage::Jobs => jobs(request).await,
        ImportPage::Job => job(request).await,
        ImportPage::Progress => progress(request).await,
        ImportPage::Export => Ok(export_page(request)),
        ImportPage::Download => download(request).await,
        ImportPage::Upload | ImportPage::Commit => Ok(super::method_not_allowed("POST")),
    }
}

pub async fn submit(request: &Request<'_>, page: ImportPage, _form: &Form) -> PageResult {
    match page {
        ImportPage::Commit => commit(request).await,
        _ => Ok(super::method_not_allowed("GET, HEAD")),
    }
}

fn form_page(
    request: &Request<'_>,
    status: StatusCode,
    kind: &str,
    error: Option<&str>,
    detail: Option<String>,
) -> super::HttpResponse {
    let (t, visit) = (request.visit.texts, request.visit);
    let page = FormPage {
        t,
        i: t.import,
        css: assets::CSS_PATH.as_str(),
        who: Some(visit.who()),
        csrf: visit.csrf(),
        kinds: views::kind_choices(t.import, kind),
        error,
        detail,
    };
    html(status, page.render())
}

/// `POST /import`: the upload, read here rather than by the console's urlencoded form reader,
/// within the API's import limit; its CSRF token is a field of the form like any other.
pub async fn upload<B>(request: &Request<'_>, headers: &HeaderMap, body: B) -> PageResult
where
    B: hyper::body::Body<Data = Bytes> + Send,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let (app, visit) = (request.app, request.visit);
    let (t, i) = (visit.texts, visit.texts.import);
    let Some(boundary) = multipart::boundary(headers) else {
        return Ok(bad_request(t, Some(visit.who())));
    };
    let max_file = app.config.limits.max_import_bytes;
    let timeout = app.config.limits.body_read_timeout();
    let bytes = match crate::body::read(headers, body, max_file + FORM_OVERHEAD, timeout).await {
        Ok(bytes) => bytes,
        Err(BodyError::TooLarge(_)) => return Ok(too_large(request)),
        Err(_) => return Ok(bad_request(t, Some(visit.who()))),
    };
    let Some(upload) = multipart::parse(&bytes, &boundary) else {
        return Ok(bad_request(t, Some(visit.who())));
    };
    if !session::csrf_matches(visit.csrf(), upload.get("csrf")) {
        return Ok(refused(t, Some(visit.who())));
    }
    let kind = upload.get("kind");
    let Some(subject) = KINDS.into_iter().find(|k| k.as_str() == kind) else {
        return Ok(form_page(
            request,
            StatusCode::BAD_REQUEST,
            "",
            Some(i.error_kind),
            None,
        ));
    };
    let file = upload.file("file").unwrap_or_default();
    if file.is_empty() {
        let error = Some(i.error_no_file);
        return Ok(form_page(
            request,
            StatusCode::BAD_REQUEST,
            kind,
            error,
            None,
        ));
    }
    if file.len() > max_file {
        return Ok(too_large(request));
    }
    match csv_io::check(app, &visit.actor, subject, Arc::from(file)).await {
        Ok(job) => Ok(see_other(&format!("/imports/{}", job.id))),
        Err(OpError::Invalid(detail)) => {
            let error = Some(i.error_file);
            Ok(form_page(
                request,
                StatusCode::BAD_REQUEST,
                kind,
                error,
                Some(detail),
            ))
        }
        Err(OpError::Conflict(_)) => {
            let error = Some(i.error_busy);
            Ok(form_page(request, StatusCode::CONFLICT, kind, error, None))
        }
        Err(e) => Err(e),
    }
}

fn too_large(request: &Request<'_>) -> super::HttpResponse {
    let error = Some(request.visit.texts.import.error_too_large);
    form_page(request, StatusCode::PAYLOAD_TOO_LARGE, "", error, None)
}

/// The job the path names, if it exists.
async fn named_job(request: &Request<'_>) -> Result<Option<ImportJob>, OpError> {
    let Some(id) = request.params.first().and_then(|p| p.parse::<u64>().ok()) else {
        return Ok(None);
    };
    csv_io::job(request.app, id).await
}

fn unknown_job(request: &Request<'_>) -> super::HttpResponse {
    let visit = request.visit;
    let text = visit.texts.import.error_unknown_job;
    message(visit.texts, Some(visit.who()), StatusCode::NOT_FOUND, text)
}

async fn job(request: &Request<'_>) -> PageResult {
    let Some(job) = named_job(request).await? else {
        return Ok(unknown_job(request));
    };
    let visit = request.visit;
    let (t, i) = (visit.texts, visit.texts.import);
    let key_column = csv_io::subject(&job.subject).map_or("", |s| s.columns()[0]);
    let errors: Vec<ErrorRow> = job
        .errors
        .iter()
        .flatten()
        .map(|e| views::error_row(i, &job.subject, key_column, e.row, &e.error))
        .collect();
    let page = JobPage {
        t,
        i,
        css: assets::CSS_PATH.as_str(),
        js: assets::JS_PATH.as_str(),
        who: Some(visit.who()),
        csrf: visit.csrf(),
        heading: if job.dry_run {
            i.dry_run_title
        } else {
            i.job_title
        },
        kind: views::kind_name(i, &job.subject),
        state: views::state_name(i, job.state),
        running: job.state == "running",
        importable: job
            .id
            .parse()
            .is_ok_and(|id| csv_io::importable(request.app, &visit.actor, id)),
        errors,
        job,
    };
    Ok(html(StatusCode::OK, page.render()))
}

/// `GET /imports/{id}/progress`: what the page's script moves the bar by.
async fn progress(request: &Request<'_>) -> PageResult {
    let Some(job) = named_job(request).await? else {
        return Ok(unknown_job(request));
    };
    let body = serde_json::json!({
        "state": job.state,
        "rows": job.rows,
        "checked": job.checked,
        "running": job.state == "running",
    });
    let mut response = crate::respond::json(StatusCode::OK, &body);
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// `POST /imports/{id}/import`: imports the file the dry run checked.
async fn commit(request: &Request<'_>) -> PageResult {
    let visit = request.visit;
    let (t, i) = (visit.texts, visit.texts.import);
    let Some(id) = request.params.first().and_then(|p| p.parse::<u64>().ok()) else {
        return Ok(unknown_job(request));
    };
    match csv_io::import_checked(request.app, &visit.actor, id).await {
        Ok(job) => Ok(see_other(&format!("/imports/{}", job.id))),
        Err(OpError::Conflict(m)) => {
            let text = if m.contains("imports are running") {
                i.error_busy
            } else if m.contains("only a dry run") {
                i.error_not_checked
            } else {
                i.error_not_held
            };
            Ok(message(t, Some(visit.who()), StatusCode::CONFLICT, text))
        }
        Err(OpError::Invalid(detail)) => {
            let error = Some(i.error_file);
            Ok(form_page(
                request,
                StatusCode::BAD_REQUEST,
                "",
                error,
                Some(detail),
            ))
        }
        Err(e) => Err(e),
    }
}

async fn jobs(request: &Request<'_>) -> PageResult {
    let visit = request.visit;
    let (t, i) = (visit.texts, visit.texts.import);
    let after = crate::console::form::query_value(request.query, "after");
    let before = match after.map(str::parse::<u64>) {
        None => None,
        Some(Ok(id)) => Some(id),
        Some(Err(_)) => return Ok(bad_request(t, Some(visit.who()))),
    };
    let (jobs, more) = csv_io::jobs(request.app, before, PAGE_SIZE).await?;
    let next = jobs
        .last()
        .filter(|_| more)
        .map(|last| format!("/imports?after={}", last.id));
    let rows = jobs
        .into_iter()
        .map(|job| JobRow {
            kind: views::kind_name(i, &job.subject),
            dry_run: if job.dry_run { i.yes } else { i.no },
            state: views::state_name(i, job.state),
            rows: job.rows,
            started_at: job.started_at,
            id: job.id,
        })
        .collect();
    let page = JobsPage {
        t,
        i,
        css: assets::CSS_PATH.as_str(),
        who: Some(visit.who()),
        rows,
        next,
        first: before.is_none(),
    };
    Ok(html(StatusCode::OK, page.render()))
}

fn export_page(request: &Request<'_>) -> super::HttpResponse {
    let visit = request.visit;
    let t = visit.texts;
    let page = ExportPage {
        t,
        i: t.import,
        css: assets::CSS_PATH.as_str(),
        who: Some(visit.who()),
        may_import: super::account_permits(&visit.account, Access::Change),
    };
    html(StatusCode::OK, page.render())
}

/// `GET /export/{users,devices,contacts}.csv`: the API's export format, never with secrets.
async fn download(request: &Request<'_>) -> PageResult {
    let file = request.params.first().map_or("", String::as_str);
    let subject: Option<Subject> = file
        .strip_suffix(".csv")
        .and_then(|kind| KINDS.into_iter().find(|k| k.as_str() == kind));
    let Some(subject) = subject else {
        let visit = request.visit;
        let t = visit.texts;
        return Ok(message(
            t,
            Some(visit.who()),
            StatusCode::NOT_FOUND,
            t.not_found,
        ));
    };
    let bytes = csv_io::export(request.app, subject, false).await?;
    let mut response = crate::respond::HttpResponse::new(Bytes::from(bytes).into());
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    let disposition = format!("attachment; filename=\"{}.csv\"", subject.as_str());
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
