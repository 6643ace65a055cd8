//! The record of a CSV import job, kept so that an admin can learn after a restart whether an
//! acknowledged import was applied.

use serde::{Deserialize, Serialize};

/// Row errors kept per job: the first ones, and how many there were in all.
pub const MAX_STORED_ROW_ERRORS: usize = 100;

/// One import: what it was asked to do and how it ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportRecord {
    pub id: u64,
    /// `users` or `devices`.
    pub subject: String,
    pub dry_run: bool,
    /// Data rows in the file.
    pub rows: usize,
    pub state: ImportState,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// The first [`MAX_STORED_ROW_ERRORS`] row errors.
    pub errors: Vec<ImportRowError>,
    /// All row errors, kept or not.
    pub error_count: usize,
    pub started_at: i64,
    pub finished_at: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportState {
    Running,
    /// Written: the record says so in the same transaction as the rows.
    Done,
    /// A dry run without errors.
    Checked,
    /// Nothing was changed.
    Failed,
    /// The server stopped while it ran; nothing was changed (the rows are written all at once).
    Interrupted,
}

impl ImportState {
    pub fn as_str(self) -> &'static str {
        match self {
            ImportState::Running => "running",
            ImportState::Done => "done",
            ImportState::Checked => "checked",
            ImportState::Failed => "failed",
            ImportState::Interrupted => "interrupted",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportRowError {
    /// The line in the file: the header is line 1; 0 for an error of the whole import.
    pub row: usize,
    pub key: String,
    pub error: String,
}

impl ImportRecord {
    /// A job just started.
    pub fn running(id: u64, subject: &str, dry_run: bool, rows: usize, now: i64) -> ImportRecord {
        ImportRecord {
            id,
            subject: subject.to_string(),
            dry_run,
            rows,
            state: ImportState::Running,
            created: 0,
            updated: 0,
            unchanged: 0,
            errors: Vec::new(),
            error_count: 0,
            started_at: now,
            finished_at: None,
        }
    }

    /// Keeps the first row errors of `errors`, and counts them all.
    pub fn set_errors(&mut self, errors: impl ExactSizeIterator<Item = ImportRowError>) {
        self.error_count = errors.len();
        self.errors = errors.take(MAX_STORED_ROW_ERRORS).collect();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_first_row_errors_are_kept_but_all_are_counted() {
        let mut record = ImportRecord::running(1, "users", false, 500, 0);
        let errors = (0..500).map(|row| ImportRowError {
            row,
            key: row.to_string(),
            error: "bad".into(),
        });
        record.set_errors(errors.collect::<Vec<_>>().into_iter());
        assert_eq!(record.error_count, 500);
        assert_eq!(record.errors.len(), MAX_STORED_ROW_ERRORS);
        assert_eq!(record.errors[0].row, 0);
    }
}
