//! `deskprov users ...`: users, their SIP accounts and hot-desk PINs; lock, unlock and delete
//! one or many.

use http::Method as M;
use serde_json::{Map, Value, json};

use super::{Answer, Request, put, put_bool, put_clearable, put_flag};
use crate::cli::api::{Api, encode};
use crate::cli::args::{PinArgs, UserCommand, UserFields};
use crate::cli::input;
use crate::cli::output::Shape;

pub async fn run(api: &Api, command: UserCommand) -> Answer {
    if let UserCommand::Remove { extensions, yes } = &command
        && extensions.len() > 1
    {
        input::confirm(&format!("delete {} users", extensions.len()), *yes)?;
    }
    if let UserCommand::SetPassword { generate: true, .. } = &command {
        eprintln!("The portal password is shown this once.");
    }
    let mails = matches!(
        command,
        UserCommand::MailWelcome { .. } | UserCommand::MailReset { .. }
    );
    let (mut reply, shape) = request(command)?.send(api).await?;
    if mails {
        let queued = reply.json()["mails"].take();
        reply.body = serde_json::to_vec(&queued).expect("JSON serialises").into();
    }
    Ok((reply, shape))
}

fn user(extension: &str) -> String {
    format!("/api/v1/users/{}", encode(extension))
}

fn request(command: UserCommand) -> Result<Request, String> {
    use Shape::Object;
    Ok(match command {
        UserCommand::List => Request::get("/api/v1/users", Shape::Users),
        UserCommand::Add {
            extension,
            fields,
            no_hotdesk,
        } => Request::new(M::POST, "/api/v1/users", Object)
            .with(new_user(extension, fields, no_hotdesk)?),
        UserCommand::Show { extension } => Request::get(user(&extension), Object),
        UserCommand::Edit {
            extension,
            fields,
            regenerate_sip_password,
            may_hotdesk,
            locked,
            phonebook_hidden,
        } => {
            let mut body = fields_body(fields, Purpose::Change)?;
            put_flag(
                &mut body,
                "regenerate_sip_password",
                regenerate_sip_password,
            );
            put_bool(&mut body, "may_hotdesk", may_hotdesk);
            put_bool(&mut body, "locked", locked);
            put_bool(&mut body, "phonebook_hidden", phonebook_hidden);
            Request::new(M::PATCH, user(&extension), Object).with(Value::Object(body))
        }
        UserCommand::Remove { extensions, .. } => {
            many("delete", extensions, |ext| (M::DELETE, user(ext)))
        }
        UserCommand::Lock { extensions } => many("lock", extensions, |ext| {
            (M::POST, format!("{}/lock", user(ext)))
        }),
        UserCommand::Unlock { extensions } => many("unlock", extensions, |ext| {
            (M::POST, format!("{}/unlock", user(ext)))
        }),
        UserCommand::NextExtension => Request::get("/api/v1/users/next-extension", Object),
        UserCommand::Logout { extension } => {
            Request::new(M::POST, format!("{}/logout", user(&extension)), Object)
        }
        UserCommand::MailWelcome { extensions } => {
            Request::new(M::POST, "/api/v1/users/mail-welcome", Shape::Mail)
                .with(json!({ "extensions": extensions }))
        }
        UserCommand::MailReset { extensions } => {
            Request::new(M::POST, "/api/v1/users/mail-reset", Shape::Mail)
                .with(json!({ "extensions": extensions }))
        }
        UserCommand::SipPassword { extension } => {
            Request::get(format!("{}/sip-password", user(&extension)), Object)
        }
        UserCommand::SetPassword {
            extension,
            generate,
            require_change,
            keep,
        } => {
            let mut body = Map::new();
            if generate {
                body.insert("generate".into(), Value::Bool(true));
            } else if !keep {
                let given = input::secret_line("portal password")?;
                body.insert("password".into(), Value::String(given));
            }
            put_bool(&mut body, "require_change", require_change);
            let path = format!("{}/portal-password", user(&extension));
            Request::new(M::POST, path, Object).with(Value::Object(body))
        }
    })
}

/// One extension: its own request; several: one bulk request, all or none.
fn many(action: &str, extensions: Vec<String>, single: impl Fn(&str) -> (M, String)) -> Request {
    if let [extension] = extensions.as_slice() {
        let (method, path) = single(extension);
        return Request::new(method, path, Shape::Object);
    }
    Request::new(M::POST, "/api/v1/users/bulk", Shape::Object)
        .with(json!({ "action": action, "extensions": extensions }))
}

fn new_user(
    extension: Option<String>,
    fields: UserFields,
    no_hotdesk: bool,
) -> Result<Value, String> {
    let mut body = fields_body(fields, Purpose::Create)?;
    put(&mut body, "extension", extension);
    if no_hotdesk {
        body.insert("may_hotdesk".into(), Value::Bool(false));
    }
    Ok(Value::Object(body))
}

/// What the fields are for: creating a user sends them as given; changing one clears a
/// name, language or email given as `""`.
#[derive(Clone, Copy, PartialEq)]
enum Purpose {
    Create,
    Change,
}

fn fields_body(fields: UserFields, purpose: Purpose) -> Result<Map<String, Value>, String> {
    let text = if purpose == Purpose::Change {
        put_clearable
    } else {
        put
    };
    let mut body = Map::new();
    put(&mut body, "display_name", fields.display_name);
    text(&mut body, "first_name", fields.first_name);
    text(&mut body, "last_name", fields.last_name);
    text(&mut body, "language", fields.language);
    put(&mut body, "sip_user", fields.sip_user);
    let sip_password = secret(
        fields.sip_password,
        fields.sip_password_stdin,
        ("--sip-password", "--sip-password-stdin"),
        "SIP password",
    )?;
    put(&mut body, "sip_password", sip_password);
    text(&mut body, "email", fields.email);
    add_pin(fields.pin, &mut body)?;
    Ok(body)
}

fn add_pin(pin: PinArgs, body: &mut Map<String, Value>) -> Result<(), String> {
    let given = secret(pin.pin, pin.pin_stdin, ("--pin", "--pin-stdin"), "PIN")?;
    put(body, "pin", given);
    put_flag(body, "generate_pin", pin.generate_pin);
    put_flag(body, "pin_change_required", pin.pin_change_required);
    Ok(())
}

/// A secret given on the command line (with a warning) or read from standard input.
fn secret(
    argv: Option<String>,
    stdin: bool,
    (flag, stdin_flag): (&str, &str),
    what: &str,
) -> Result<Option<String>, String> {
    match (argv, stdin) {
        (Some(value), _) => {
            input::warn_secret_in_argv(flag, stdin_flag);
            Ok(Some(value))
        }
        (None, true) => input::secret_line(what).map(Some),
        (None, false) => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn several_extensions_are_one_bulk_request() {
        let remove = |extensions: &[&str]| {
            request(UserCommand::Remove {
                extensions: extensions.iter().map(|e| e.to_string()).collect(),
                yes: true,
            })
            .unwrap()
        };
        let one = remove(&["1001"]);
        assert_eq!(
            (one.method, one.path.as_str()),
            (M::DELETE, "/api/v1/users/1001")
        );
        let two = remove(&["1001", "1002"]);
        assert_eq!(two.path, "/api/v1/users/bulk");
        assert_eq!(
            two.body,
            Some(json!({"action": "delete", "extensions": ["1001", "1002"]}))
        );
    }

    #[test]
    fn an_edit_clears_with_empty_text_and_an_add_sends_it_as_given() {
        let fields = || UserFields {
            first_name: Some(String::new()),
            display_name: Some("Ada".into()),
            ..UserFields::default()
        };
        let change = fields_body(fields(), Purpose::Change).unwrap();
        assert_eq!(
            Value::Object(change),
            json!({"first_name": null, "display_name": "Ada"})
        );
        let add = fields_body(fields(), Purpose::Create).unwrap();
        assert_eq!(
            Value::Object(add),
            json!({"first_name": "", "display_name": "Ada"})
        );
    }
}
