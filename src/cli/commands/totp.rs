//! `deskprov totp ...`: the owner's hold on console accounts' TOTP second factor.

use http::Method as M;
use serde_json::json;

use super::{Answer, Request};
use crate::cli::api::{Api, encode};
use crate::cli::args::TotpCommand;
use crate::cli::output::Shape;

pub async fn run(api: &Api, command: TotpCommand) -> Answer {
    request(command).send(api).await
}

fn request(command: TotpCommand) -> Request {
    match command {
        TotpCommand::Require { username, off } => Request::new(
            M::PUT,
            format!("/api/v1/accounts/{}/totp-required", encode(&username)),
            Shape::Object,
        )
        .with(json!({ "required": !off })),
        TotpCommand::Reset { username } => Request::new(
            M::DELETE,
            format!("/api/v1/accounts/{}/totp", encode(&username)),
            Shape::Object,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn require_and_reset_name_the_account() {
        let require = request(TotpCommand::Require {
            username: "anna".into(),
            off: true,
        });
        assert_eq!(require.path, "/api/v1/accounts/anna/totp-required");
        assert_eq!(require.method, M::PUT);
        assert_eq!(require.body, Some(json!({ "required": false })));
        let reset = request(TotpCommand::Reset {
            username: "anna".into(),
        });
        assert_eq!(reset.path, "/api/v1/accounts/anna/totp");
        assert_eq!(reset.method, M::DELETE);
    }
}
