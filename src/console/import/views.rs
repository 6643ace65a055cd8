//! The templates of the import and export pages, the rows they show, and a row's error in the
//! page's words.

use askama::Template;

use super::ImportTexts;
use crate::console::pages::Who;
use crate::console::texts::Texts;
use crate::ops::csv_io::{ImportJob, Subject};

/// A kind of file the pages import and export (the keys subject is the API's only).
pub const KINDS: [Subject; 3] = [Subject::Users, Subject::Devices, Subject::Contacts];

pub fn kind_name(i: &ImportTexts, subject: &str) -> &'static str {
    match subject {
        "users" => i.kind_users,
        "devices" => i.kind_devices,
        "contacts" => i.kind_contacts,
        _ => "",
    }
}

pub fn state_name(i: &ImportTexts, state: &str) -> &'static str {
    match state {
        "running" => i.state_running,
        "done" => i.state_done,
        "checked" => i.state_checked,
        "failed" => i.state_failed,
        _ => i.state_interrupted,
    }
}

pub struct KindChoice {
    pub value: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

pub fn kind_choices(i: &ImportTexts, chosen: &str) -> Vec<KindChoice> {
    KINDS
        .iter()
        .map(|k| KindChoice {
            value: k.as_str(),
            label: kind_name(i, k.as_str()),
            selected: k.as_str() == chosen || (chosen.is_empty() && *k == Subject::Users),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "import/form.html")]
pub struct FormPage<'a> {
    pub t: &'a Texts,
    pub i: &'a ImportTexts,
    pub css: &'a str,
    pub who: Option<Who>,
    pub csrf: &'a str,
    pub kinds: Vec<KindChoice>,
    pub error: Option<&'a str>,
    /// What the server said of the file, when it names a line or column.
    pub detail: Option<String>,
}

/// One row's error as the page shows it.
pub struct ErrorRow {
    pub row: usize,
    pub column: String,
    pub message: String,
}

/// The error of a row in the page's words when its kind is known (the column it names, a
/// key repeated, a value taken); the server's words otherwise.
pub fn error_row(
    i: &ImportTexts,
    subject: &str,
    key_column: &str,
    row: usize,
    error: &str,
) -> ErrorRow {
    let columns = crate::ops::csv_io::subject(subject).map_or(&[][..], |s| s.columns());
    let known = |message: &'static str, column: &str| ErrorRow {
        row,
        column: column.to_string(),
        message: message.to_string(),
    };
    if error.ends_with("appears on an earlier row too") {
        return known(i.error_repeated, key_column);
    }
    // A MAC's refusal names no field: the MAC is the only one of its kind.
    if error.starts_with("invalid MAC address") && columns.contains(&"mac") {
        return known(i.error_value, "mac");
    }
    if error.contains("was changed while the import was being checked") {
        return known(i.error_changed, "");
    }
    match error.split_once(": ") {
        Some((column, detail)) if columns.contains(&column) => {
            let taken = detail.contains("already");
            known(if taken { i.error_taken } else { i.error_value }, column)
        }
        _ => ErrorRow {
            row,
            column: String::new(),
            message: error.to_string(),
        },
    }
}

#[derive(Template)]
#[template(path = "import/job.html")]
pub struct JobPage<'a> {
    pub t: &'a Texts,
    pub i: &'a ImportTexts,
    pub css: &'a str,
    pub js: &'a str,
    pub who: Option<Who>,
    pub csrf: &'a str,
    pub job: ImportJob,
    pub heading: &'a str,
    pub kind: &'a str,
    pub state: &'a str,
    pub running: bool,
    /// Whether the checked file is held for this visitor's import.
    pub importable: bool,
    pub errors: Vec<ErrorRow>,
}

pub struct JobRow {
    pub id: String,
    pub kind: &'static str,
    pub dry_run: &'static str,
    pub state: &'static str,
    pub rows: usize,
    pub started_at: String,
}

#[derive(Template)]
#[template(path = "import/jobs.html")]
pub struct JobsPage<'a> {
    pub t: &'a Texts,
    pub i: &'a ImportTexts,
    pub css: &'a str,
    pub who: Option<Who>,
    pub rows: Vec<JobRow>,
    pub next: Option<String>,
    pub first: bool,
}

#[derive(Template)]
#[template(path = "import/export.html")]
pub struct ExportPage<'a> {
    pub t: &'a Texts,
    pub i: &'a ImportTexts,
    pub css: &'a str,
    pub who: Option<Who>,
    pub may_import: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::import::texts::{DE, EN};

    #[test]
    fn a_rows_error_is_worded_by_its_kind_and_others_keep_the_servers_words() {
        let bad = error_row(&DE, "users", "extension", 3, "email: not an e-mail address");
        assert_eq!((bad.row, bad.column.as_str()), (3, "email"));
        assert_eq!(bad.message, DE.error_value);
        let twice = error_row(
            &EN,
            "devices",
            "mac",
            4,
            "0015651234ab appears on an earlier row too",
        );
        assert_eq!(
            (twice.column.as_str(), twice.message.as_str()),
            ("mac", EN.error_repeated)
        );
        let mac = error_row(
            &DE,
            "devices",
            "mac",
            2,
            "invalid MAC address: expected 12 hex digits",
        );
        assert_eq!(
            (mac.column.as_str(), mac.message.as_str()),
            ("mac", DE.error_value)
        );
        let taken = error_row(
            &EN,
            "users",
            "extension",
            2,
            "sip_user: anna is already used by 1001",
        );
        assert_eq!(taken.message, EN.error_taken);
        let other = error_row(&EN, "users", "extension", 0, "storage: disk full");
        assert_eq!(
            (other.column.as_str(), other.message.as_str()),
            ("", "storage: disk full")
        );
    }

    fn running_job() -> ImportJob {
        ImportJob {
            id: "7".into(),
            subject: "users".into(),
            dry_run: true,
            rows: 300,
            checked: 120,
            state: "running",
            started_at: "2026-01-01T00:00:00Z".into(),
            finished_at: None,
            created: None,
            updated: None,
            unchanged: None,
            errors: None,
            error_count: None,
            outcomes: None,
        }
    }

    #[test]
    fn a_running_jobs_page_refreshes_itself_without_script_and_loads_the_poller_with_it() {
        let page = JobPage {
            t: &crate::console::texts::EN,
            i: &EN,
            css: "/assets/console.css",
            js: "/assets/import-0123456789ab.js",
            who: None,
            csrf: "token",
            job: running_job(),
            heading: EN.dry_run_title,
            kind: EN.kind_users,
            state: EN.state_running,
            running: true,
            importable: false,
            errors: Vec::new(),
        };
        let html = page.render().unwrap();
        assert!(html.contains("<noscript><meta http-equiv=\"refresh\" content=\"2\"></noscript>"));
        assert!(html.contains("<script src=\"/assets/import-0123456789ab.js\" defer></script>"));
        assert!(html.contains("max=\"300\" value=\"120\" data-poll=\"/imports/7/progress\""));
        assert!(
            !html.contains("/imports/7/import"),
            "no import button while it runs"
        );
    }
}
