//! `deskprov tokens ...`: admin API tokens, shown once when created.

use http::Method as M;
use serde_json::json;

use serde_json::Value;

use super::{Answer, Request};
use crate::cli::Failure;
use crate::cli::api::{Api, encode};
use crate::cli::args::TokenCommand;
use crate::cli::output::{self, Shape};
use crate::config::Config;
use crate::domain::{Label, Role};

pub async fn run(api: &Api, command: TokenCommand) -> Answer {
    request(command).send(api).await
}

/// `tokens create --local NAME`: through the running server's control socket, or straight in
/// the data directory when no server has it open.
pub async fn create_locally(
    config: &Config,
    name: &str,
    role: &str,
    json_output: bool,
) -> Result<(), Failure> {
    if role != Role::Owner.as_str() {
        return Err(Failure::Message(format!(
            "--local makes owner tokens only (the way back in); create a {role} token through the API with an owner token"
        )));
    }
    let socket = crate::local::socket_path(&config.server.data_dir);
    let answer = match tokio::net::UnixStream::connect(&socket).await {
        Ok(stream) => through_socket(stream, name).await?,
        Err(_) => in_data_directory(config, name).await?,
    };
    let note = "Shown this once: keep it (the CLI reads DESKPROV_TOKEN or the token file).";
    if !json_output {
        eprintln!("{note}");
    }
    output::answer(json_output, Shape::Object, &answer)
}

async fn through_socket(stream: tokio::net::UnixStream, name: &str) -> Result<Value, Failure> {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let (read, mut write) = stream.into_split();
    let mut request = json!({ "create_token": name }).to_string();
    request.push('\n');
    let io = |e: std::io::Error| Failure::Message(format!("the control socket: {e}"));
    write.write_all(request.as_bytes()).await.map_err(io)?;
    let mut line = String::new();
    BufReader::new(read)
        .read_line(&mut line)
        .await
        .map_err(io)?;
    let answer: Value = serde_json::from_str(&line)
        .map_err(|e| Failure::Message(format!("the control socket answered {line:?}: {e}")))?;
    match answer.get("error").and_then(Value::as_str) {
        Some(error) => Err(Failure::Message(error.to_string())),
        None => Ok(answer),
    }
}

async fn in_data_directory(config: &Config, name: &str) -> Result<Value, Failure> {
    let name = Label::parse_field("name", name).map_err(|e| Failure::Message(e.to_string()))?;
    let store = crate::startup::open_store(config).await.map_err(|e| {
        Failure::Message(format!(
            "opening {}: {e} (is a server running without its control socket?)",
            config.db_dir().display()
        ))
    })?;
    let now = crate::clock::Clock::System.now();
    let created = crate::ops::tokens::create_offline(&store, &name, now)
        .await
        .map_err(|e| Failure::Message(e.to_string()))?;
    Ok(json!({
        "id": crate::ops::tokens::id_of(&created.record),
        "name": created.record.name,
        "token": created.token.expose(),
    }))
}

fn request(command: TokenCommand) -> Request {
    match command {
        TokenCommand::List => Request::get("/api/v1/tokens", Shape::Tokens),
        TokenCommand::Create {
            name,
            role,
            reads_secrets,
            expires,
            ..
        } => Request::new(M::POST, "/api/v1/tokens", Shape::Object).with(json!({
            "name": name,
            "role": role,
            "reads_secrets": reads_secrets,
            "expires_at": expires,
        })),
        TokenCommand::Blocks => Request::get("/api/v1/token-blocks", Shape::TokenBlocks),
        TokenCommand::Unblock { address } => Request::new(
            M::DELETE,
            format!("/api/v1/token-blocks/{}", encode(&address)),
            Shape::Object,
        ),
        TokenCommand::Revoke { token, force } => {
            let query = if force { "?force=true" } else { "" };
            let path = format!("/api/v1/tokens/{}{query}", encode(&token));
            Request::new(M::DELETE, path, Shape::Object)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_force_revokes_the_token_in_use() {
        let revoke = |force| {
            request(TokenCommand::Revoke {
                token: "initial".into(),
                force,
            })
        };
        assert_eq!(revoke(false).path, "/api/v1/tokens/initial");
        assert_eq!(revoke(true).path, "/api/v1/tokens/initial?force=true");
        assert_eq!(revoke(true).method, M::DELETE);
    }
}
