//! `deskprov contacts ...`: the company phonebook's contacts besides the users.

use http::Method as M;
use serde_json::{Map, Value};

use super::{Answer, Request, put, put_clearable};
use crate::cli::api::{Api, encode};
use crate::cli::args::{ContactCommand, ContactFields};
use crate::cli::output::Shape;

pub async fn run(api: &Api, command: ContactCommand) -> Answer {
    let request = match command {
        ContactCommand::List => Request::get("/api/v1/contacts", Shape::Contacts),
        ContactCommand::Show { id } => Request::get(contact(&id), Shape::Object),
        ContactCommand::Add { id, fields } => {
            let mut body = Map::new();
            body.insert("id".into(), Value::String(id));
            for (key, value) in named(fields) {
                put(&mut body, key, value);
            }
            Request::new(M::POST, "/api/v1/contacts", Shape::Object).with(Value::Object(body))
        }
        ContactCommand::Edit { id, fields } => {
            let mut body = Map::new();
            for (key, value) in named(fields) {
                if key == "display_name" {
                    put(&mut body, key, value);
                } else {
                    put_clearable(&mut body, key, value);
                }
            }
            Request::new(M::PATCH, contact(&id), Shape::Object).with(Value::Object(body))
        }
        ContactCommand::Remove { id } => Request::new(M::DELETE, contact(&id), Shape::Object),
        ContactCommand::Export { .. } | ContactCommand::Import { .. } => {
            unreachable!("CSV is moved by commands::io")
        }
    };
    request.send(api).await
}

fn contact(id: &str) -> String {
    format!("/api/v1/contacts/{}", encode(id))
}

fn named(fields: ContactFields) -> [(&'static str, Option<String>); 6] {
    [
        ("display_name", fields.display_name),
        ("first_name", fields.first_name),
        ("last_name", fields.last_name),
        ("office", fields.office),
        ("mobile", fields.mobile),
        ("other", fields.other),
    ]
}
