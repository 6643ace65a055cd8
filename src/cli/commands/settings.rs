//! `deskprov settings ...` and `deskprov models ...`: the site-wide settings, the model table
//! and the settings of each model.

use http::Method as M;

use super::{Answer, Request, settings_patch};
use crate::cli::api::{Api, encode};
use crate::cli::args::{ModelCommand, SettingsCommand};
use crate::cli::output::Shape;

pub async fn run(api: &Api, command: SettingsCommand) -> Answer {
    let request = match command {
        SettingsCommand::Show => Request::get("/api/v1/settings", Shape::Object),
        SettingsCommand::Set { pairs } => {
            Request::new(M::PATCH, "/api/v1/settings", Shape::Object).with(settings_patch(&pairs)?)
        }
        SettingsCommand::Choices => Request::get("/api/v1/settings/choices", Shape::Object),
    };
    request.send(api).await
}

pub async fn models(api: &Api, command: Option<ModelCommand>) -> Answer {
    let settings = |model: &str| format!("/api/v1/models/{}/settings", encode(model));
    let request = match command {
        None => Request::get("/api/v1/models", Shape::Models),
        Some(ModelCommand::Settings { model }) => Request::get(settings(&model), Shape::Object),
        Some(ModelCommand::Set { model, pairs }) => {
            Request::new(M::PATCH, settings(&model), Shape::Object).with(settings_patch(&pairs)?)
        }
    };
    request.send(api).await
}
