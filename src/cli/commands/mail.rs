//! `deskprov mail ...`: a test mail to check the SMTP settings, and the outbox.

use http::Method as M;
use serde_json::json;

use super::{Answer, Request};
use crate::cli::api::query_string;
use crate::cli::args::MailCommand;
use crate::cli::output::Shape;

pub async fn run(api: &crate::cli::api::Api, command: MailCommand) -> Answer {
    let request = match command {
        MailCommand::Test { address } => Request::new(M::POST, "/api/v1/mail/test", Shape::Mail)
            .with(json!({ "address": address })),
        MailCommand::List { user } => {
            let query = query_string(&[("user", user)]);
            Request::get(format!("/api/v1/mail{query}"), Shape::Mail)
        }
    };
    request.send(api).await
}
