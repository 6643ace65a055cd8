//! The import jobs: their records in the store (state, counts, the first row errors, times),
//! which outlive a restart, and in memory the jobs of this process with their progress and
//! each row's outcome.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use serde::Serialize;
use utoipa::ToSchema;

use super::codec::Subject;
use crate::clock::rfc3339;
use crate::domain::Role;
use crate::error::ApiError;
use crate::model::{ImportRecord, ImportRowError, ImportState};
use crate::ops::Actor;

/// Finished imports of this process remembered for each row's outcome.
const KEPT_JOBS: usize = 20;
/// Imports checked at once; each holds its file and its plans in memory.
const MAX_RUNNING: usize = 2;
/// Dry runs whose file is kept for the import that may follow (the newest ones).
const KEPT_FILES: usize = 2;

/// Imports of this process, running or finished lately.
#[derive(Default)]
pub struct Imports {
    jobs: Mutex<VecDeque<Arc<Job>>>,
    next_id: AtomicU64,
}

pub struct Job {
    pub(super) id: u64,
    pub(super) subject: Subject,
    pub(super) dry_run: bool,
    total: usize,
    pub(super) checked: AtomicUsize,
    pub(super) report: Mutex<Option<Report>>,
    /// A dry run's file, kept for the import of it that its starter may ask for.
    kept: Mutex<Option<KeptFile>>,
}

struct KeptFile {
    by: (String, Option<Role>),
    bytes: Arc<[u8]>,
}

/// How an import ended.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// `Done`, `Checked` (a dry run without errors) or `Failed` (nothing was changed).
    pub(super) state: ImportState,
    pub(super) created: usize,
    pub(super) updated: usize,
    pub(super) unchanged: usize,
    pub(super) errors: Vec<RowError>,
    pub(super) rows: Vec<RowOutcome>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RowError {
    /// The line in the file: the header is line 1.
    pub row: usize,
    pub key: String,
    pub error: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RowOutcome {
    pub row: usize,
    pub key: String,
    /// created, updated or unchanged.
    pub outcome: &'static str,
}

/// An import: its progress while it runs, and its report when it is over.
#[derive(Serialize, ToSchema)]
pub struct ImportJob {
    pub id: String,
    /// users, devices, contacts or keys.
    pub subject: String,
    pub dry_run: bool,
    /// Data rows in the file.
    pub rows: usize,
    /// Rows checked so far.
    pub checked: usize,
    /// running; then done, checked (a dry run without errors), failed (nothing was changed) or
    /// interrupted (the server stopped while it ran; nothing was changed).
    pub state: &'static str,
    pub started_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unchanged: Option<usize>,
    /// The rows' errors, when any row has one: the first 100 are kept.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<RowError>>,
    /// How many rows had an error, kept or not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_count: Option<usize>,
    /// What each row did (or would do, in a dry run); only until the server restarts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcomes: Option<Vec<RowOutcome>>,
}

impl Job {
    fn is_running(&self) -> bool {
        self.report.lock().expect("job lock").is_none()
    }

    /// The record of this job as it starts.
    pub(super) fn record(&self, now: i64) -> ImportRecord {
        ImportRecord::running(
            self.id,
            self.subject.as_str(),
            self.dry_run,
            self.total,
            now,
        )
    }
}

/// The job's stored record, with what this process knows beyond it (`live`). A job this
/// process runs is shown running until its report is in, which comes after its final record.
pub(super) fn view(record: &ImportRecord, live: Option<&Job>) -> ImportJob {
    let running = record.state == ImportState::Running || live.is_some_and(|job| job.is_running());
    let checked = match (running, live) {
        (true, Some(job)) => job.checked.load(Ordering::Relaxed),
        (true, None) => 0,
        (false, _) if record.state == ImportState::Interrupted => 0,
        (false, _) => record.rows,
    };
    let outcomes = live.and_then(|job| {
        let report = job.report.lock().expect("job lock");
        report.as_ref().map(|r| r.rows.clone())
    });
    let finished = (!running).then_some(record);
    ImportJob {
        id: record.id.to_string(),
        subject: record.subject.clone(),
        dry_run: record.dry_run,
        rows: record.rows,
        checked,
        state: if running {
            ImportState::Running.as_str()
        } else {
            record.state.as_str()
        },
        started_at: rfc3339(record.started_at),
        finished_at: record.finished_at.map(rfc3339),
        created: finished.map(|r| r.created),
        updated: finished.map(|r| r.updated),
        unchanged: finished.map(|r| r.unchanged),
        errors: finished.map(|r| {
            r.errors
                .iter()
                .map(|e| RowError {
                    row: e.row,
                    key: e.key.clone(),
                    error: e.error.clone(),
                })
                .collect()
        }),
        error_count: finished.map(|r| r.error_count),
        outcomes,
    }
}

/// The record of a job that ended with `report`.
pub(super) fn finished(running: &ImportRecord, report: &Report, now: i64) -> ImportRecord {
    let mut record = ImportRecord {
        state: report.state,
        created: report.created,
        updated: report.updated,
        unchanged: report.unchanged,
        finished_at: Some(now),
        ..running.clone()
    };
    record.set_errors(report.errors.iter().map(|e| ImportRowError {
        row: e.row,
        key: e.key.clone(),
        error: e.error.clone(),
    }));
    record
}

impl Imports {
    /// New jobs get ids after `last` (the newest stored one), so ids are not reused.
    pub fn continue_after(&self, last: u64) {
        self.next_id.fetch_max(last, Ordering::Relaxed);
    }

    pub(super) fn start(
        &self,
        subject: Subject,
        dry_run: bool,
        total: usize,
    ) -> Result<Arc<Job>, ApiError> {
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
            kept: Mutex::new(None),
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

    /// Keeps the dry run `job`'s file for its starter `by`; the file of an older dry run goes.
    pub(super) fn keep(&self, job: &Job, by: &Actor, bytes: Arc<[u8]>) {
        let jobs = self.jobs.lock().expect("imports lock");
        *job.kept.lock().expect("job lock") = Some(KeptFile {
            by: (by.name().to_string(), by.role()),
            bytes,
        });
        let keeping = jobs
            .iter()
            .filter(|j| j.kept.lock().expect("job lock").is_some());
        let older: Vec<&Arc<Job>> = keeping.collect();
        for old in older.iter().take(older.len().saturating_sub(KEPT_FILES)) {
            *old.kept.lock().expect("job lock") = None;
        }
    }

    /// The file of the dry run `id`, when it was checked without errors and `by` started it;
    /// taken, so that it is imported once.
    pub(super) fn take_checked(
        &self,
        id: u64,
        by: &Actor,
    ) -> Result<(Subject, Arc<[u8]>), ApiError> {
        let gone = || {
            ApiError::Conflict(format!(
                "import {id}: its file is no longer held; upload it again"
            ))
        };
        let job = self.find(id).ok_or_else(gone)?;
        let state = job
            .report
            .lock()
            .expect("job lock")
            .as_ref()
            .map(|r| r.state);
        if state != Some(ImportState::Checked) {
            return Err(ApiError::Conflict(format!(
                "import {id}: only a dry run checked without errors can be imported"
            )));
        }
        let mut kept = job.kept.lock().expect("job lock");
        match kept.as_ref() {
            Some(file) if file.by == (by.name().to_string(), by.role()) => {}
            _ => return Err(gone()),
        }
        let file = kept.take().expect("checked above");
        Ok((job.subject, file.bytes))
    }

    /// Whether the dry run `id` still holds its file for `by`.
    pub(super) fn holds(&self, id: u64, by: &Actor) -> bool {
        self.find(id).is_some_and(|job| {
            let kept = job.kept.lock().expect("job lock");
            kept.as_ref()
                .is_some_and(|file| file.by == (by.name().to_string(), by.role()))
        })
    }

    pub(super) fn find(&self, id: u64) -> Option<Arc<Job>> {
        let jobs = self.jobs.lock().expect("imports lock");
        jobs.iter().find(|j| j.id == id).cloned()
    }
}

pub(super) fn failed(errors: Vec<RowError>) -> Report {
    Report {
        state: ImportState::Failed,
        created: 0,
        updated: 0,
        unchanged: 0,
        errors,
        rows: Vec::new(),
    }
}
