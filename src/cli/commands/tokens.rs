//! `deskprov tokens ...`: admin API tokens, shown once when created.

use http::Method as M;
use serde_json::json;

use super::{Answer, Request};
use crate::cli::api::{Api, encode};
use crate::cli::args::TokenCommand;
use crate::cli::output::Shape;

pub async fn run(api: &Api, command: TokenCommand) -> Answer {
    request(command).send(api).await
}

fn request(command: TokenCommand) -> Request {
    match command {
        TokenCommand::List => Request::get("/api/v1/tokens", Shape::Tokens),
        TokenCommand::Create { name } => {
            Request::new(M::POST, "/api/v1/tokens", Shape::Object).with(json!({ "name": name }))
        }
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
