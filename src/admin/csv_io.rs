//! CSV export and import of users and devices (/api/v1/export/..., /api/v1/import/...).
//!
//! An import is all or nothing: every row is checked first (PINs hashed, references resolved),
//! and only when no row has an error are the records written, in one atomic batch. It is
//! idempotent: a row that matches the stored record changes nothing, so importing a file twice,
//! or importing an export, reports every row unchanged. Hashing PINs takes a while for a large
//! file, so an import runs as a job whose progress `GET /api/v1/imports/{id}` reports.
//!
//! Cells: an empty cell leaves the stored value as it is; `-` clears an optional value.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use http::StatusCode;
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::ApiResult;
use super::devices::{DevicePatch, NewDevice};
use super::users::{NewUser, UserPatch};
use crate::app::App;
use crate::domain::{Extension, Mac, Pin};
use crate::error::ApiError;
use crate::model::{DeviceRecord, UserRecord};
use crate::ops::{Actor, OpError, devices, import, users};
use crate::respond;

/// The most rows one file may hold.
const MAX_ROWS: usize = 100_000;
/// Finished imports remembered for their report.
const KEPT_JOBS: usize = 20;
/// Imports checked at once; each holds its file and its plans in memory.
const MAX_RUNNING: usize = 2;
/// Clears an optional value.
const CLEAR: &str = "-";

const USER_COLUMNS: &[&str] = &[
    "extension",
    "first_name",
    "last_name",
    "display_name",
    "email",
    "language",
    "sip_user",
    "sip_password",
    "pin",
    "may_hotdesk",
    "locked",
];

const DEVICE_COLUMNS: &[&str] = &[
    "mac",
    "model",
    "label",
    "location",
    "profile",
    "hotdesk",
    "certificate_required",
    "lines",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Subject {
    Users,
    Devices,
}

impl Subject {
    fn parse(raw: &str) -> Result<Subject, ApiError> {
        match raw {
            "users" => Ok(Subject::Users),
            "devices" => Ok(Subject::Devices),
            _ => Err(ApiError::NotFound(format!(
                "import and export take users or devices, not {raw:?}"
            ))),
        }
    }

    fn columns(self) -> &'static [&'static str] {
        match self {
            Subject::Users => USER_COLUMNS,
            Subject::Devices => DEVICE_COLUMNS,
        }
    }

    fn key_column(self) -> &'static str {
        self.columns()[0]
    }
}

// ---- export ----

/// `GET /export/{users|devices}`: every record as CSV, in the columns import reads. SIP
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
    match subject {
        Subject::Users => {
            for user in app.store.users().await? {
                let row = user_cells(&user);
                write(
                    &mut out,
                    &columns.iter().map(|c| row[c].as_str()).collect::<Vec<_>>(),
                )?;
            }
        }
        Subject::Devices => {
            for device in app.store.devices().await? {
                let row = device_cells(&device);
                write(
                    &mut out,
                    &columns.iter().map(|c| row[c].as_str()).collect::<Vec<_>>(),
                )?;
            }
        }
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

fn write(out: &mut csv::Writer<Vec<u8>>, cells: &[&str]) -> Result<(), ApiError> {
    out.write_record(cells.iter().map(|c| defused(c).into_owned()))
        .map_err(|e| ApiError::Internal(e.to_string()))
}

/// Characters that make a spreadsheet read a cell as a formula (and `'`, which hides them).
const FORMULA_START: &[char] = &['=', '+', '-', '@', '\''];

/// A cell a spreadsheet shows as text: `=HYPERLINK(...)` in a display name must not run when an
/// admin opens the export. Import takes the quote off again (`restored`).
fn defused(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(FORMULA_START) {
        format!("'{cell}").into()
    } else {
        cell.into()
    }
}

fn restored(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(FORMULA_START) => rest,
        _ => cell,
    }
}

fn flag(value: bool) -> String {
    value.to_string()
}

fn user_cells(u: &UserRecord) -> BTreeMap<&'static str, String> {
    let text = |v: Option<&str>| v.unwrap_or_default().to_string();
    BTreeMap::from([
        ("extension", u.extension.to_string()),
        (
            "first_name",
            text(u.first_name.as_ref().map(|n| n.as_str())),
        ),
        ("last_name", text(u.last_name.as_ref().map(|n| n.as_str()))),
        ("display_name", u.display_name.to_string()),
        ("email", text(u.email.as_ref().map(|e| e.as_str()))),
        ("language", text(u.language.as_deref())),
        ("sip_user", u.sip_user.to_string()),
        ("sip_password", u.sip_password.expose().to_string()),
        ("may_hotdesk", flag(u.may_hotdesk)),
        ("locked", flag(u.locked)),
    ])
}

fn device_cells(d: &DeviceRecord) -> BTreeMap<&'static str, String> {
    let text = |v: Option<&str>| v.unwrap_or_default().to_string();
    let lines: Vec<String> = d.lines.iter().map(|(n, e)| format!("{n}:{e}")).collect();
    BTreeMap::from([
        ("mac", d.mac.to_string()),
        ("model", text(d.model.as_ref().map(|m| m.as_str()))),
        ("label", text(d.label.as_ref().map(|l| l.as_str()))),
        ("location", text(d.location.as_ref().map(|l| l.as_str()))),
        ("profile", text(d.profile.as_ref().map(|p| p.as_str()))),
        ("hotdesk", flag(d.hotdesk)),
        ("certificate_required", flag(d.certificate_required)),
        ("lines", lines.join(" ")),
    ])
}

// ---- jobs ----

/// Imports running or finished lately.
#[derive(Default)]
pub struct Imports {
    jobs: Mutex<VecDeque<Arc<Job>>>,
    next_id: AtomicU64,
}

pub struct Job {
    id: u64,
    subject: Subject,
    dry_run: bool,
    total: usize,
    checked: AtomicUsize,
    report: Mutex<Option<Report>>,
}

/// How an import ended.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// `done`, `checked` (a dry run without errors) or `failed` (nothing was changed).
    state: &'static str,
    created: usize,
    updated: usize,
    unchanged: usize,
    errors: Vec<RowError>,
    rows: Vec<RowOutcome>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RowError {
    /// The line in the file: the header is line 1.
    row: usize,
    key: String,
    error: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RowOutcome {
    row: usize,
    key: String,
    /// created, updated or unchanged.
    outcome: &'static str,
}

/// An import: its progress while it runs, and its report when it is over.
#[derive(Serialize, ToSchema)]
pub struct ImportJob {
    id: String,
    /// users or devices.
    #[schema(value_type = String)]
    subject: Subject,
    dry_run: bool,
    /// Data rows in the file.
    rows: usize,
    /// Rows checked so far.
    checked: usize,
    /// running; then done, checked (a dry run without errors) or failed (nothing was changed).
    state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    created: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    updated: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    unchanged: Option<usize>,
    /// Every row's error, when any row has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<Vec<RowError>>,
    /// What each row did (or would do, in a dry run).
    #[serde(skip_serializing_if = "Option::is_none")]
    outcomes: Option<Vec<RowOutcome>>,
}

impl Job {
    fn is_running(&self) -> bool {
        self.report.lock().expect("job lock").is_none()
    }

    fn view(&self) -> ImportJob {
        let report = self.report.lock().expect("job lock").clone();
        let mut view = ImportJob {
            id: self.id.to_string(),
            subject: self.subject,
            dry_run: self.dry_run,
            rows: self.total,
            checked: self.checked.load(Ordering::Relaxed),
            state: "running",
            created: None,
            updated: None,
            unchanged: None,
            errors: None,
            outcomes: None,
        };
        if let Some(report) = report {
            view.state = report.state;
            view.created = Some(report.created);
            view.updated = Some(report.updated);
            view.unchanged = Some(report.unchanged);
            view.errors = Some(report.errors);
            view.outcomes = Some(report.rows);
        }
        view
    }
}

impl Imports {
    fn start(&self, subject: Subject, dry_run: bool, total: usize) -> Result<Arc<Job>, ApiError> {
        let mut jobs = self.jobs.lock().expect("imports lock");
        let running = jobs.iter().filter(|j| j.is_running()).count();
        if running >= MAX_RUNNING {
            return Err(ApiError::Conflict(format!(
                "{running} imports are running; wait for them (GET /api/v1/imports)"
            )));
        }
        let job = Arc::new(Job {
            id: self.next_id.fetch_add(1, Ordering::Relaxed) + 1,
            subject,
            dry_run,
            total,
            checked: AtomicUsize::new(0),
            report: Mutex::new(None),
        });
        jobs.push_back(job.clone());
        // The oldest finished ones go; a running import is never forgotten.
        while jobs.len() > KEPT_JOBS {
            let Some(oldest_done) = jobs.iter().position(|j| !j.is_running()) else {
                break;
            };
            jobs.remove(oldest_done);
        }
        Ok(job)
    }

    fn find(&self, id: &str) -> Option<Arc<Job>> {
        let jobs = self.jobs.lock().expect("imports lock");
        jobs.iter().find(|j| j.id.to_string() == id).cloned()
    }
}

pub fn show_import(app: &App, id: &str) -> ApiResult {
    let job = app.imports.find(id).ok_or_else(|| {
        ApiError::NotFound(format!("no import {id} (the last {KEPT_JOBS} are kept)"))
    })?;
    Ok(respond::json(StatusCode::OK, &job.view()))
}

/// Imports newest first, in pages (`after`: an import's id).
pub fn list_imports(app: &App, query: &str) -> ApiResult {
    let (page, _) = super::paging::parse(query, &[])?;
    let before = super::paging::id_cursor(&page)?;
    let jobs = app.imports.jobs.lock().expect("imports lock");
    let mut older = jobs
        .iter()
        .rev()
        .filter(|j| before.is_none_or(|b| j.id < b));
    let shown: Vec<&Arc<Job>> = older.by_ref().take(page.limit).collect();
    let next = older
        .next()
        .and(shown.last())
        .map(|last| last.id.to_string());
    Ok(super::paging::answer(
        shown.iter().map(|j| j.view()).collect::<Vec<ImportJob>>(),
        next,
    ))
}

// ---- import ----

/// One data row: its line in the file and its non-empty cells by column.
struct Row {
    line: usize,
    cells: BTreeMap<String, String>,
}

impl Row {
    fn key(&self, subject: Subject) -> String {
        cell(self, subject.key_column())
            .unwrap_or_default()
            .to_string()
    }
}

/// Reads the file's shape: a known header naming the key column, rows of its width.
fn parse_csv(subject: Subject, body: &[u8]) -> Result<Vec<Row>, ApiError> {
    let body = body.strip_prefix("\u{feff}".as_bytes()).unwrap_or(body);
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(body);
    let bad =
        |message: String| ApiError::BadRequest(format!("CSV: {message}; nothing was changed"));
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| bad(format!("line 1: {e}")))?
        .iter()
        .map(|h| h.to_ascii_lowercase())
        .collect();
    for (i, column) in header.iter().enumerate() {
        if !subject.columns().contains(&column.as_str()) {
            return Err(bad(format!(
                "line 1: unknown column {column:?}; the columns are {}",
                subject.columns().join(", ")
            )));
        }
        if header[..i].contains(column) {
            return Err(bad(format!("line 1: column {column:?} appears twice")));
        }
    }
    if !header.iter().any(|c| c == subject.key_column()) {
        return Err(bad(format!(
            "line 1: the column {:?} is required",
            subject.key_column()
        )));
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            bad(format!("line {line}: {e}"))
        })?;
        if rows.len() == MAX_ROWS {
            return Err(bad(format!("at most {MAX_ROWS} rows per file")));
        }
        let line = record.position().map_or(0, |p| p.line() as usize);
        let cells = header
            .iter()
            .zip(record.iter())
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| (k.clone(), v.to_string()))
            .collect();
        rows.push(Row { line, cells });
    }
    if rows.is_empty() {
        return Err(bad("the file has no rows".into()));
    }
    Ok(rows)
}

/// `POST /import/{users|devices}[?dry_run=true]`: checks the file's shape at once (400), then
/// checks and applies its rows in the background; 202 with the job to follow.
pub fn start_import(
    app: &Arc<App>,
    subject: &str,
    query: &str,
    body: &[u8],
    by: &Actor,
) -> ApiResult {
    let subject = Subject::parse(subject)?;
    let dry_run = import_options(query)?;
    let rows = parse_csv(subject, body)?;
    let job = app.imports.start(subject, dry_run, rows.len())?;
    let view = job.view();
    let (app, actor) = (app.clone(), by.clone());
    tokio::spawn(async move {
        let report = match run(&app, &actor, &job, rows).await {
            Ok(report) => report,
            Err(e) => {
                let detail = e.to_string();
                tracing::error!(error = %detail, "import failed");
                failed(vec![RowError {
                    row: 0,
                    key: String::new(),
                    error: detail,
                }])
            }
        };
        *job.report.lock().expect("job lock") = Some(report);
    });
    Ok(respond::json(StatusCode::ACCEPTED, &view))
}

fn failed(errors: Vec<RowError>) -> Report {
    Report {
        state: "failed",
        created: 0,
        updated: 0,
        unchanged: 0,
        errors,
        rows: Vec::new(),
    }
}

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

async fn run(app: &App, by: &Actor, job: &Job, rows: Vec<Row>) -> Result<Report, ApiError> {
    let mut seen = HashSet::new();
    match job.subject {
        Subject::Users => {
            let mut plans = Vec::with_capacity(rows.len());
            for row in &rows {
                let plan = match repeated(job, &mut seen, row) {
                    Some(error) => Err(error),
                    None => plan_user(app, row).await.map_err(|e| e.to_string()),
                };
                plans.push(plan);
                job.checked.fetch_add(1, Ordering::Relaxed);
            }
            finish(job, &rows, plans, async |w| {
                import::commit_users(app, by, w).await
            })
            .await
        }
        Subject::Devices => {
            let mut plans = Vec::with_capacity(rows.len());
            for row in &rows {
                let plan = match repeated(job, &mut seen, row) {
                    Some(error) => Err(error),
                    None => plan_device(app, row).await.map_err(|e| e.to_string()),
                };
                plans.push(plan);
                job.checked.fetch_add(1, Ordering::Relaxed);
            }
            finish(job, &rows, plans, async |w| {
                import::commit_devices(app, by, w).await
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
        Subject::Users => key.to_string(),
    }
}

async fn finish<R: Clone + PartialEq>(
    job: &Job,
    rows: &[Row],
    plans: Vec<Result<Plan<R>, String>>,
    commit: impl AsyncFnOnce(&[(R, Option<R>)]) -> Result<(), OpError>,
) -> Result<Report, ApiError> {
    let errors: Vec<RowError> = rows
        .iter()
        .zip(&plans)
        .filter_map(|(row, plan)| {
            plan.as_ref().err().map(|error| RowError {
                row: row.line,
                key: row.key(job.subject),
                error: error.clone(),
            })
        })
        .collect();
    if !errors.is_empty() {
        return Ok(failed(errors));
    }
    let plans: Vec<Plan<R>> = plans.into_iter().map(|p| p.expect("no errors")).collect();
    let count = |outcome: &str| plans.iter().filter(|p| p.outcome() == outcome).count();
    let mut report = Report {
        state: if job.dry_run { "checked" } else { "done" },
        created: count("created"),
        updated: count("updated"),
        unchanged: count("unchanged"),
        errors: Vec::new(),
        rows: rows
            .iter()
            .zip(&plans)
            .map(|(row, plan)| RowOutcome {
                row: row.line,
                key: row.key(job.subject),
                outcome: plan.outcome(),
            })
            .collect(),
    };
    if job.dry_run {
        return Ok(report);
    }
    // (new record, the record it replaces as planned)
    let writes: Vec<(R, Option<R>)> = plans
        .into_iter()
        .filter_map(|plan| match plan {
            Plan::Create(r) => Some((r, None)),
            Plan::Update { before, after } => Some((after, Some(*before))),
            Plan::Unchanged => None,
        })
        .collect();
    if let Err(e) = commit(&writes).await {
        report = failed(vec![RowError {
            row: 0,
            key: String::new(),
            error: e.to_string(),
        }]);
    }
    Ok(report)
}

// ---- users ----

fn cell<'a>(row: &'a Row, column: &str) -> Option<&'a str> {
    row.cells.get(column).map(|raw| restored(raw))
}

fn boolean(column: &str, raw: &str) -> Result<bool, ApiError> {
    match raw.to_ascii_lowercase().as_str() {
        "true" | "yes" | "1" => Ok(true),
        "false" | "no" | "0" => Ok(false),
        _ => Err(ApiError::BadRequest(format!(
            "{column}: must be true or false, not {raw:?}"
        ))),
    }
}

/// The row as the JSON body the API would take: text as strings (`-` as `null`), flags as
/// booleans; so an imported row is checked exactly like an API request.
fn as_json(row: &Row, skip: &[&str], flags: &[&str]) -> Result<Map<String, Value>, ApiError> {
    let mut body = Map::new();
    for (column, raw) in &row.cells {
        if skip.contains(&column.as_str()) {
            continue;
        }
        let value = if flags.contains(&column.as_str()) {
            Value::Bool(boolean(column, raw)?)
        } else if raw == CLEAR {
            Value::Null
        } else {
            Value::String(restored(raw).to_string())
        };
        body.insert(column.clone(), value);
    }
    Ok(body)
}

fn decode<T: serde::de::DeserializeOwned>(body: Map<String, Value>) -> Result<T, ApiError> {
    serde_json::from_value(Value::Object(body)).map_err(|e| ApiError::BadRequest(e.to_string()))
}

async fn plan_user(app: &App, row: &Row) -> Result<Plan<UserRecord>, ApiError> {
    const FLAGS: &[&str] = &["may_hotdesk", "locked"];
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

// ---- devices ----

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
