//! Commands that move files: CSV export and import (with the import's progress), the
//! OpenAPI document, and `render`, which prints exactly what a phone gets.

use std::io::Write;
use std::path::Path;

use http::Method as M;

use super::{Answer, Request};
use crate::cli::Failure;
use crate::cli::api::{Api, encode, query_string};
use crate::cli::output::{self, Shape};

pub async fn export(
    api: &Api,
    subject: &str,
    secrets: bool,
    file: Option<&Path>,
) -> Result<(), Failure> {
    let query = if secrets { "?secrets=true" } else { "" };
    let path = format!("/api/v1/export/{subject}{query}");
    let reply = api.call(M::GET, &path, None).await?;
    match file {
        Some(file) => write_private(file, &reply.body),
        None => output::bytes(&reply.body),
    }
}

/// An export may hold SIP passwords: the file is readable by its owner only.
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    use std::os::unix::fs::OpenOptionsExt;
    let failed = |e: std::io::Error| Failure::Message(format!("{}: {e}", path.display()));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(failed)?;
    file.write_all(bytes).map_err(failed)
}

/// Sends the file, then follows the import to its end, showing progress on standard error.
pub async fn import(
    api: &Api,
    json_output: bool,
    subject: &str,
    file: &Path,
    dry_run: bool,
) -> Result<(), Failure> {
    let bytes = std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let query = if dry_run { "?dry_run=true" } else { "" };
    let path = format!("/api/v1/import/{subject}{query}");
    let started = api
        .send(M::POST, &path, "text/csv", Some(bytes))
        .await?
        .json();
    let id = started["id"].as_str().unwrap_or_default().to_string();
    let status = format!("/api/v1/imports/{id}");
    let job = loop {
        let job = api.call(M::GET, &status, None).await?.json();
        let (checked, rows) = (&job["checked"], &job["rows"]);
        if job["state"] != "running" {
            eprintln!("\r{}: {checked}/{rows} rows checked", file.display());
            break job;
        }
        eprint!("\r{}: {checked}/{rows} rows checked", file.display());
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    output::to_stdout(|out| {
        if json_output {
            output::json(out, &job)
        } else {
            output::import(out, &job)
        }
    })?;
    match job["state"].as_str() {
        Some("done") | Some("checked") => Ok(()),
        _ => Err(Failure::Message(format!(
            "import failed; nothing was changed ({} rows with errors)",
            job["errors"].as_array().map_or(0, Vec::len)
        ))),
    }
}

pub async fn imports(api: &Api, id: Option<String>) -> Answer {
    let request = match id {
        Some(id) => Request::get(format!("/api/v1/imports/{}", encode(&id)), Shape::Object),
        None => Request::get("/api/v1/imports", Shape::Imports),
    };
    request.send(api).await
}

pub async fn openapi(api: &Api) -> Result<(), Failure> {
    let reply = api.call(M::GET, "/api/v1/openapi.json", None).await?;
    output::bytes(&reply.body)
}

pub async fn render(
    api: &Api,
    mac: &str,
    file: Option<String>,
    host: Option<String>,
) -> Result<(), Failure> {
    let query = query_string(&[("file", file), ("host", host)]);
    let path = format!("/api/v1/devices/{}/render{query}", encode(mac));
    let reply = api.call(M::GET, &path, None).await?;
    output::bytes(&reply.body)
}
