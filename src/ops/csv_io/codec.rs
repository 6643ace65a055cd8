//! The CSV side of import and export: each subject's columns, formula cells defused on the way
//! out and restored on the way in, a file read into rows, and a row as the JSON body the API
//! would take.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::ApiError;
use crate::model::{ContactRecord, DeviceRecord, UserRecord};

/// The most rows one file may hold.
const MAX_ROWS: usize = 100_000;
/// Clears an optional value.
pub(super) const CLEAR: &str = "-";

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
    "phonebook_hidden",
];

const DEVICE_COLUMNS: &[&str] = &[
    "mac",
    "model",
    "label",
    "location",
    "profile",
    "hotdesk",
    "certificate_required",
    "expansion_modules",
    "lines",
];

const CONTACT_COLUMNS: &[&str] = &[
    "id",
    "display_name",
    "first_name",
    "last_name",
    "office",
    "mobile",
    "other",
];

/// One key a row: the layer and its owner, then the key as the API gives it.
pub(super) const KEY_COLUMNS: &[&str] = &[
    "layer", "owner", "module", "position", "type", "value", "label", "line",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Subject {
    Users,
    Devices,
    Contacts,
    Keys,
}

impl Subject {
    pub(super) fn parse(raw: &str) -> Result<Subject, ApiError> {
        match raw {
            "users" => Ok(Subject::Users),
            "devices" => Ok(Subject::Devices),
            "contacts" => Ok(Subject::Contacts),
            "keys" => Ok(Subject::Keys),
            _ => Err(ApiError::NotFound(format!(
                "import and export take users, devices, contacts or keys, not {raw:?}"
            ))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Subject::Users => "users",
            Subject::Devices => "devices",
            Subject::Contacts => "contacts",
            Subject::Keys => "keys",
        }
    }

    pub fn columns(self) -> &'static [&'static str] {
        match self {
            Subject::Users => USER_COLUMNS,
            Subject::Devices => DEVICE_COLUMNS,
            Subject::Contacts => CONTACT_COLUMNS,
            Subject::Keys => KEY_COLUMNS,
        }
    }

    fn key_column(self) -> &'static str {
        self.columns()[0]
    }
}

pub(super) fn write(out: &mut csv::Writer<Vec<u8>>, cells: &[&str]) -> Result<(), ApiError> {
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

pub(super) fn user_cells(u: &UserRecord) -> BTreeMap<&'static str, String> {
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
        ("phonebook_hidden", flag(u.phonebook_hidden)),
    ])
}

pub(super) fn device_cells(d: &DeviceRecord) -> BTreeMap<&'static str, String> {
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
        ("expansion_modules", d.expansion_modules.to_string()),
        ("lines", lines.join(" ")),
    ])
}

pub(super) fn contact_cells(c: &ContactRecord) -> BTreeMap<&'static str, String> {
    let text = |v: Option<&str>| v.unwrap_or_default().to_string();
    BTreeMap::from([
        ("id", c.id.to_string()),
        ("display_name", c.display_name.to_string()),
        (
            "first_name",
            text(c.first_name.as_ref().map(|n| n.as_str())),
        ),
        ("last_name", text(c.last_name.as_ref().map(|n| n.as_str()))),
        ("office", text(c.office.as_ref().map(|n| n.as_str()))),
        ("mobile", text(c.mobile.as_ref().map(|n| n.as_str()))),
        ("other", text(c.other.as_ref().map(|n| n.as_str()))),
    ])
}

/// One data row: its line in the file and its cells, under the file's header. A record keeps
/// its cells in one buffer: a file of 100,000 rows is held whole while it is checked.
pub(super) struct Row {
    pub(super) line: usize,
    header: Arc<[&'static str]>,
    record: csv::StringRecord,
}

impl Row {
    /// The non-empty cells by column, in the file's order.
    fn cells(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.header
            .iter()
            .copied()
            .zip(self.record.iter())
            .filter(|(_, raw)| !raw.is_empty())
    }
}

impl Row {
    /// What the row is about, in its report: a key's row names its layer.
    pub(super) fn key(&self, subject: Subject) -> String {
        let key = cell(self, subject.key_column()).unwrap_or_default();
        match (subject, cell(self, "owner")) {
            (Subject::Keys, Some(owner)) => format!("{key} {owner}"),
            _ => key.to_string(),
        }
    }
}

/// Reads the file's shape: a known header naming the key column, rows of its width.
pub(super) fn parse_csv(subject: Subject, body: &[u8]) -> Result<Vec<Row>, ApiError> {
    let body = body.strip_prefix("\u{feff}".as_bytes()).unwrap_or(body);
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(body);
    let bad =
        |message: String| ApiError::BadRequest(format!("CSV: {message}; nothing was changed"));
    let mut header: Vec<&'static str> = Vec::new();
    let names = reader.headers().map_err(|e| bad(format!("line 1: {e}")))?;
    for name in names.iter().map(|h| h.to_ascii_lowercase()) {
        let Some(column) = subject.columns().iter().find(|c| **c == name) else {
            return Err(bad(format!(
                "line 1: unknown column {name:?}; the columns are {}",
                subject.columns().join(", ")
            )));
        };
        if header.contains(column) {
            return Err(bad(format!("line 1: column {name:?} appears twice")));
        }
        header.push(column);
    }
    let header: Arc<[&'static str]> = header.into();
    if !header.contains(&subject.key_column()) {
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
        rows.push(Row {
            line,
            header: header.clone(),
            record,
        });
    }
    if rows.is_empty() {
        return Err(bad("the file has no rows".into()));
    }
    Ok(rows)
}

pub(super) fn cell<'a>(row: &'a Row, column: &str) -> Option<&'a str> {
    let index = row.header.iter().position(|c| *c == column)?;
    Some(row.record.get(index)?)
        .filter(|raw| !raw.is_empty())
        .map(restored)
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
pub(super) fn as_json(
    row: &Row,
    skip: &[&str],
    flags: &[&str],
) -> Result<Map<String, Value>, ApiError> {
    let mut body = Map::new();
    for (column, raw) in row.cells() {
        if skip.contains(&column) {
            continue;
        }
        let value = if flags.contains(&column) {
            Value::Bool(boolean(column, raw)?)
        } else if NUMBERS.contains(&column) {
            Value::Number(number(column, raw)?.into())
        } else if raw == CLEAR {
            Value::Null
        } else {
            Value::String(restored(raw).to_string())
        };
        body.insert(column.to_string(), value);
    }
    Ok(body)
}

/// Columns of whole numbers.
const NUMBERS: &[&str] = &["expansion_modules"];

pub(super) fn number(column: &str, raw: &str) -> Result<u64, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::BadRequest(format!("{column}: must be a whole number, not {raw:?}")))
}

pub(super) fn decode<T: serde::de::DeserializeOwned>(
    body: Map<String, Value>,
) -> Result<T, ApiError> {
    serde_json::from_value(Value::Object(body)).map_err(|e| ApiError::BadRequest(e.to_string()))
}
