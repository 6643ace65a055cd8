//! The `deskprov` command: `serve` runs the server; every other command is a client of the
//! admin API, reading the admin token from DESKPROV_TOKEN or `<data>/admin.token` and trusting
//! the server certificate in `<certs>/server.crt`.
//!
//! `args` holds the clap types, `api` the API client, `commands/` one module per command
//! group, `input` what is read from the user besides flags, `output` the tables and JSON, `man`
//! the man pages.

mod api;
mod args;
mod commands;
mod input;
mod man;
mod output;
mod serve;

use std::process::ExitCode;

use clap::Parser;

use crate::config::Config;
use api::Api;
use args::{AccountCommand, Cli, Command, TemplateCommand, TokenCommand};

/// Why a command did not finish.
#[derive(Debug)]
pub enum Failure {
    /// Told on standard error; the exit code is 1.
    Message(String),
    /// Whoever reads standard output stopped (`deskprov devices list | head -1`): there is no
    /// one left to tell anything, so the command ends quietly with exit code 0.
    OutputClosed,
}

impl From<String> for Failure {
    fn from(message: String) -> Failure {
        Failure::Message(message)
    }
}

impl From<std::io::Error> for Failure {
    fn from(error: std::io::Error) -> Failure {
        match error.kind() {
            std::io::ErrorKind::BrokenPipe => Failure::OutputClosed,
            _ => Failure::Message(format!("standard output: {error}")),
        }
    }
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Man { dir } = &cli.command {
        return exit_code(man::write_pages(dir));
    }
    let config = match load_config(&cli) {
        Ok(config) => config,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    match cli.command {
        Command::Serve { .. } => runtime.block_on(serve::serve(config)),
        Command::Templates(TemplateCommand::Check) => {
            exit_code(commands::templates::check(&config))
        }
        Command::Tokens(TokenCommand::Create {
            name,
            role,
            local: true,
            ..
        }) => exit_code(runtime.block_on(commands::tokens::create_locally(
            &config,
            &name,
            &role,
            cli.common.json,
        ))),
        Command::Accounts(AccountCommand::ResetPassword { name, local: true }) => {
            exit_code(runtime.block_on(commands::accounts::reset_password_locally(
                &config,
                &name,
                cli.common.json,
            )))
        }
        Command::Restore {
            file,
            passphrase_file,
        } => exit_code(runtime.block_on(commands::backup::restore(
            &config,
            &file,
            passphrase_file.as_deref(),
        ))),
        Command::Migrate => exit_code(runtime.block_on(commands::database::migrate(&config))),
        Command::MigrateStore { from, to } => {
            exit_code(runtime.block_on(commands::database::migrate_store(&config, &from, &to)))
        }
        command => runtime.block_on(run_client(config, cli.common.json, command)),
    }
}

fn load_config(cli: &Cli) -> Result<Config, String> {
    let mut config = match &cli.common.config {
        Some(path) => Config::from_file(path).map_err(|e| e.to_string())?,
        None => Config::default(),
    };
    let common = &cli.common;
    if let Some(dir) = &common.data_dir {
        config.server.data_dir = dir.clone();
    }
    if let Some(dir) = &common.certs_dir {
        config.server.certs_dir = dir.clone();
    }
    if let Some(address) = common.admin_listen {
        config.server.admin_listen = address;
    }
    if let Some(url) = &common.database_url {
        config.database.url = Some(url.clone());
    }
    if let Command::Serve {
        phone_listen: Some(address),
    } = &cli.command
    {
        config.server.phone_listen = *address;
    }
    config.validate().map_err(|e| e.to_string())?;
    Ok(config)
}

async fn run_client(config: Config, json_output: bool, command: Command) -> ExitCode {
    let result = match Api::connect(&config) {
        Ok(api) => commands::execute(&api, json_output, command).await,
        Err(e) => Err(Failure::Message(e)),
    };
    exit_code(result)
}

fn exit_code(result: Result<(), Failure>) -> ExitCode {
    match result {
        Ok(()) | Err(Failure::OutputClosed) => ExitCode::SUCCESS,
        Err(Failure::Message(message)) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}
