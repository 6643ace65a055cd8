//! The import jobs, kept in memory: those running and the last finished ones, each with its
//! progress and, once it is over, its report.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use serde::Serialize;
use utoipa::ToSchema;

use super::codec::Subject;
use crate::error::ApiError;

/// Finished imports remembered for their report.
pub(super) const KEPT_JOBS: usize = 20;
/// Imports checked at once; each holds its file and its plans in memory.
const MAX_RUNNING: usize = 2;

/// Imports running or finished lately.
#[derive(Default)]
pub struct Imports {
    pub(super) jobs: Mutex<VecDeque<Arc<Job>>>,
    next_id: AtomicU64,
}

pub struct Job {
    pub(super) id: u64,
    pub(super) subject: Subject,
    pub(super) dry_run: bool,
    total: usize,
    pub(super) checked: AtomicUsize,
    pub(super) report: Mutex<Option<Report>>,
}

/// How an import ended.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// `done`, `checked` (a dry run without errors) or `failed` (nothing was changed).
    pub(super) state: &'static str,
    pub(super) created: usize,
    pub(super) updated: usize,
    pub(super) unchanged: usize,
    pub(super) errors: Vec<RowError>,
    pub(super) rows: Vec<RowOutcome>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RowError {
    /// The line in the file: the header is line 1.
    pub(super) row: usize,
    pub(super) key: String,
    pub(super) error: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RowOutcome {
    pub(super) row: usize,
    pub(super) key: String,
    /// created, updated or unchanged.
    pub(super) outcome: &'static str,
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

    pub(super) fn view(&self) -> ImportJob {
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

    pub(super) fn find(&self, id: &str) -> Option<Arc<Job>> {
        let jobs = self.jobs.lock().expect("imports lock");
        jobs.iter().find(|j| j.id.to_string() == id).cloned()
    }
}

pub(super) fn failed(errors: Vec<RowError>) -> Report {
    Report {
        state: "failed",
        created: 0,
        updated: 0,
        unchanged: 0,
        errors,
        rows: Vec::new(),
    }
}
