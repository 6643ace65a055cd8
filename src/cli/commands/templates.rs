//! `deskprov templates ...`: the templates the running server uses and their reload, and the
//! check of a template directory without a server.

use http::Method as M;

use super::{Answer, Request};
use crate::cli::Failure;
use crate::cli::api::Api;
use crate::cli::args::TemplateCommand;
use crate::cli::output::{self, Shape};
use crate::config::Config;
use crate::templates::{Origin, Templates};

pub async fn run(api: &Api, command: TemplateCommand) -> Answer {
    let request = match command {
        TemplateCommand::List => Request::get("/api/v1/templates", Shape::Templates),
        TemplateCommand::Reload => Request::new(M::POST, "/api/v1/templates/reload", Shape::Object),
        TemplateCommand::Check => unreachable!("checked without a server"),
    };
    request.send(api).await
}

/// Loads the templates as the server would, without one: syntax, escaping rules, and every
/// template the model table names.
pub fn check(config: &Config) -> Result<(), Failure> {
    let dir = config.server.templates_dir.as_deref();
    let templates = Templates::load(dir).map_err(|e| e.to_string())?;
    let list = templates.list();
    let overrides = list
        .iter()
        .filter(|(_, _, origin)| *origin == Origin::Override)
        .count();
    let from = dir.map_or("no override directory".into(), |d| d.display().to_string());
    output::to_stdout(|out| {
        writeln!(
            out,
            "{} templates are valid ({} shipped, {overrides} from {from})",
            list.len(),
            list.len() - overrides,
        )
    })
}
