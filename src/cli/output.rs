//! What the CLI prints: the API's answers as tables or key-value lists, or as JSON with
//! `--json`; bytes as they came (CSV, configs). Everything goes through `to_stdout`, so a
//! reader that stops reading ends the command quietly instead of a panic.

use std::io::{self, Write};

use serde_json::Value;

use super::Failure;

/// How an answer is shown as a table.
#[derive(Clone, Copy)]
pub enum Shape {
    Object,
    Devices,
    Users,
    Unregistered,
    Models,
    Tokens,
    Accounts,
    Bans,
    TokenBlocks,
    Audit,
    Profiles,
    Templates,
    Imports,
    Mail,
    /// What phones answered a resync or reboot.
    Notified,
    Firmware,
    Certificates,
    /// Keys of one layer, or a device's effective keys with their origin.
    Keys,
    Contacts,
    /// A device's effective settings: one row per setting with its origin.
    Settings,
    /// A device's recent events on the node that answered.
    Events,
}

/// Runs `write` on standard output and flushes it. `println!` would panic when the reader
/// has gone (EPIPE); here that is `Failure::OutputClosed`.
pub fn to_stdout(write: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> Result<(), Failure> {
    let mut out = io::stdout().lock();
    write(&mut out)?;
    out.flush()?;
    Ok(())
}

/// An answer of the API, as JSON or as the table of its shape.
pub fn answer(json_output: bool, shape: Shape, value: &Value) -> Result<(), Failure> {
    to_stdout(|out| {
        if json_output {
            json(out, value)
        } else {
            table_of(out, shape, value)
        }
    })
}

pub fn json(out: &mut dyn Write, value: &Value) -> io::Result<()> {
    let text = serde_json::to_string_pretty(value).expect("JSON serialises");
    writeln!(out, "{text}")
}

pub fn bytes(bytes: &[u8]) -> Result<(), Failure> {
    to_stdout(|out| out.write_all(bytes))
}

pub fn table_of(out: &mut dyn Write, shape: Shape, value: &Value) -> io::Result<()> {
    let columns: &[&str] = match shape {
        Shape::Object => return object(out, value),
        Shape::Settings => return effective(out, value),
        Shape::Events => return events(out, value),
        Shape::Devices => &[
            "mac",
            "vendor",
            "model",
            "supported",
            "label",
            "location",
            "profile",
            "lines",
            "hotdesk",
            "last_seen",
            "claimed",
            "firmware",
            "firmware_outdated",
        ],
        Shape::Users => &[
            "extension",
            "display_name",
            "first_name",
            "last_name",
            "language",
            "sip_user",
            "has_pin",
            "may_hotdesk",
            "locked",
            "created_at",
        ],
        Shape::Unregistered => &[
            "mac",
            "vendor",
            "model",
            "supported",
            "firmware",
            "last_seen",
            "last_address",
        ],
        Shape::Models => &[
            "vendor", "model", "kind", "lines", "handsets", "family", "template",
        ],
        Shape::Tokens => &[
            "id",
            "name",
            "role",
            "reads_secrets",
            "created_at",
            "expires_at",
            "last_used_at",
        ],
        Shape::Bans => &[
            "source",
            "banned",
            "banned_until",
            "bans",
            "refused_macs_in_window",
        ],
        Shape::Accounts => &[
            "username",
            "role",
            "reads_secrets",
            "disabled",
            "password_change_required",
            "password_changed_at",
        ],
        Shape::TokenBlocks => &["source", "blocked", "blocked_until", "failures", "blocks"],
        Shape::Audit => &[
            "at",
            "kind",
            "actor",
            "actor_kind",
            "actor_role",
            "source",
            "subject",
            "detail",
        ],
        Shape::Profiles => &["name", "description", "devices", "settings"],
        Shape::Templates => &["name", "format", "origin"],
        Shape::Notified => &["mac", "action", "outcome"],
        Shape::Firmware => &["name", "bytes", "modified_at", "path", "sha256"],
        Shape::Contacts => &["id", "display_name", "office", "mobile", "other"],
        Shape::Keys => &[
            "module",
            "position",
            "type",
            "value",
            "label",
            "line",
            "origin",
            "beyond_capacity",
        ],
        Shape::Certificates => &[
            "file",
            "origin",
            "subject",
            "not_after",
            "days_left",
            "renews_at",
        ],
        Shape::Mail => &[
            "id",
            "recipient",
            "user",
            "kind",
            "state",
            "attempts",
            "last_answer",
        ],
        Shape::Imports => &[
            "id",
            "subject",
            "state",
            "dry_run",
            "rows",
            "checked",
            "created",
            "updated",
            "unchanged",
        ],
    };
    let row = |item: &Value| columns.iter().map(|c| cell(item.get(*c))).collect();
    // One object (a single phone's answer) is a table of one row.
    let rows: Vec<Vec<String>> = match value {
        Value::Array(items) => items.iter().map(row).collect(),
        Value::Object(_) => vec![row(value)],
        _ => Vec::new(),
    };
    table(out, columns, &rows)
}

/// SETTING  VALUE  FROM, from a device's settings answer.
fn effective(out: &mut dyn Write, value: &Value) -> io::Result<()> {
    let Some(effective) = value.get("effective").and_then(Value::as_object) else {
        return object(out, value);
    };
    let rows: Vec<Vec<String>> = effective
        .iter()
        .map(|(key, entry)| {
            let from = &entry["from"];
            let origin = match from.get("name").and_then(Value::as_str) {
                Some(name) => format!("{} {name}", from["level"].as_str().unwrap_or("")),
                None => from["level"].as_str().unwrap_or("").to_string(),
            };
            vec![key.clone(), cell(entry.get("value")), origin]
        })
        .collect();
    table(out, &["setting", "value", "from"], &rows)
}

/// A line saying whose events and since when, then AT  KIND  COUNT  DETAIL, newest first.
fn events(out: &mut dyn Write, value: &Value) -> io::Result<()> {
    let text = |key: &str| value[key].as_str().unwrap_or("").to_string();
    let registered = if value["registered"].as_bool() == Some(true) {
        "registered"
    } else {
        "not registered"
    };
    let items = value["events"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    let mac = text("mac");
    let since = text("since");
    if items.is_empty() {
        return writeln!(
            out,
            "{mac} ({registered}): no events on this node since {since}"
        );
    }
    writeln!(
        out,
        "{mac} ({registered}): events on this node since {since}, newest first"
    )?;
    let columns = ["at", "kind", "count", "detail"];
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|item| columns.iter().map(|c| cell(item.get(*c))).collect())
        .collect();
    table(out, &columns, &rows)
}

/// An import job's outcome: its rows with errors, or what it changed (or would have).
pub fn import(out: &mut dyn Write, job: &Value) -> io::Result<()> {
    let errors = job["errors"].as_array().cloned().unwrap_or_default();
    if !errors.is_empty() {
        let rows: Vec<Vec<String>> = errors
            .iter()
            .map(|e| vec![cell(e.get("row")), cell(e.get("key")), cell(e.get("error"))])
            .collect();
        return table(out, &["row", "key", "error"], &rows);
    }
    let counts = format!(
        "{} created, {} updated, {} unchanged",
        job["created"], job["updated"], job["unchanged"]
    );
    if job["state"] == "checked" {
        writeln!(out, "dry run, nothing was changed: {counts} if imported")
    } else {
        writeln!(out, "{counts}")
    }
}

/// One value as a table cell: `-` for nothing, lines as `1:1001,2:1002`.
fn cell(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => "-".into(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| match (i.get("line"), i.get("user")) {
                (Some(line), Some(user)) => format!("{line}:{}", user.as_str().unwrap_or("")),
                _ => i.to_string(),
            })
            .collect::<Vec<_>>()
            .join(","),
        // A key's origin: its layer, and the profile's, model's or user's name.
        Some(Value::Object(origin)) if origin.contains_key("layer") => {
            let layer = origin["layer"].as_str().unwrap_or("");
            match origin.get("name").and_then(Value::as_str) {
                Some(name) => format!("{layer} {name}"),
                None => layer.to_string(),
            }
        }
        Some(other) => other.to_string(),
    }
}

fn table(out: &mut dyn Write, columns: &[&str], rows: &[Vec<String>]) -> io::Result<()> {
    let widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .chain([c.len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut line = |cells: &[String]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        writeln!(out, "{}", padded.join("  ").trim_end())
    };
    let header: Vec<String> = columns.iter().map(|c| c.to_uppercase()).collect();
    line(&header)?;
    rows.iter().try_for_each(|row| line(row))
}

fn object(out: &mut dyn Write, value: &Value) -> io::Result<()> {
    match value.as_object() {
        Some(map) => {
            let width = map.keys().map(String::len).max().unwrap_or(0);
            for (key, v) in map {
                writeln!(out, "{key:<width$}  {}", cell(Some(v)))?;
            }
            Ok(())
        }
        None => writeln!(out, "{value}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn shown(shape: Shape, value: Value) -> String {
        let mut out = Vec::new();
        table_of(&mut out, shape, &value).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn a_list_is_a_table_with_lines_and_missing_values() {
        let text = shown(
            Shape::Templates,
            json!([{"name": "yealink/desk.cfg", "format": "cfg", "origin": null}]),
        );
        assert_eq!(
            text,
            "NAME              FORMAT  ORIGIN\nyealink/desk.cfg  cfg     -\n"
        );
        let devices = shown(
            Shape::Devices,
            json!([{"mac": "001565aabbcc", "lines": [{"line": 1, "user": "1001"}]}]),
        );
        assert!(devices.contains("001565aabbcc") && devices.contains("1:1001"));
    }

    #[test]
    fn devices_and_unregistered_phones_show_whether_their_model_is_supported() {
        let unregistered = shown(
            Shape::Unregistered,
            json!([
                {"mac": "001565000099", "vendor": "yealink", "model": "T99X", "supported": false},
                {"mac": "001565aabbcc", "vendor": "yealink", "model": "T46S", "supported": true},
                {"mac": "001565000001", "supported": null},
            ]),
        );
        let lines: Vec<&str> = unregistered.lines().collect();
        assert!(
            lines[0].starts_with("MAC           VENDOR   MODEL  SUPPORTED  FIRMWARE"),
            "{unregistered}"
        );
        assert!(
            lines[1].starts_with("001565000099  yealink  T99X   false"),
            "{unregistered}"
        );
        assert!(
            lines[2].starts_with("001565aabbcc  yealink  T46S   true"),
            "{unregistered}"
        );
        assert!(
            lines[3].starts_with("001565000001  -        -      -"),
            "{unregistered}"
        );
        let devices = shown(
            Shape::Devices,
            json!([{"mac": "001565000099", "model": "T99X", "supported": false}]),
        );
        assert!(
            devices.contains("SUPPORTED") && devices.contains("T99X   false"),
            "{devices}"
        );
    }

    #[test]
    fn an_object_is_aligned_keys_and_values() {
        let text = shown(Shape::Object, json!({"a": 1, "long_key": "x"}));
        assert_eq!(text, "a         1\nlong_key  x\n");
    }

    /// A writer whose reader has gone, as a closed pipe.
    struct Closed;

    impl Write for Closed {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_closed_pipe_is_an_error_that_ends_the_command_quietly() {
        let error = table_of(&mut Closed, Shape::Tokens, &json!([])).unwrap_err();
        assert!(matches!(Failure::from(error), Failure::OutputClosed));
        let other = io::Error::other("disk full");
        assert!(matches!(Failure::from(other), Failure::Message(_)));
    }
}
