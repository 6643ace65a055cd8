//! `deskprov firmware ...`: the files phones upgrade from.

use http::Method as M;

use super::{Answer, Request};
use crate::cli::api::{Api, encode};
use crate::cli::args::FirmwareCommand;
use crate::cli::output::Shape;

pub async fn run(api: &Api, command: FirmwareCommand) -> Answer {
    match command {
        FirmwareCommand::List => {
            Request::get("/api/v1/firmware", Shape::Firmware)
                .send(api)
                .await
        }
        FirmwareCommand::Upload { file, name } => {
            let name = match name {
                Some(name) => name,
                None => file
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .ok_or_else(|| format!("{}: not a file name", file.display()))?,
            };
            let content = std::fs::read(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            let path = format!("/api/v1/firmware/{}", encode(&name));
            let reply = api
                .send(M::PUT, &path, "application/octet-stream", Some(content))
                .await?;
            Ok((reply, Shape::Firmware))
        }
        FirmwareCommand::Remove { name } => {
            let path = format!("/api/v1/firmware/{}", encode(&name));
            Request::new(M::DELETE, path, Shape::Firmware)
                .send(api)
                .await
        }
    }
}
