//! `deskprov devices ...`: registered phones and DECT bases, their lines and settings, and the
//! seen-unregistered list.

use http::Method as M;
use serde_json::{Map, Value, json};

use super::{Answer, Request, put, put_bool, put_clearable, put_flag, settings_patch};
use crate::cli::api::{Api, encode, query_string};
use crate::cli::args::{DeviceChanges, DeviceCommand, DeviceFields, DeviceFilter};
use crate::cli::output::Shape;

pub async fn run(api: &Api, command: DeviceCommand) -> Answer {
    if let DeviceCommand::Remove { macs, yes } = &command
        && macs.len() > 1
    {
        crate::cli::input::confirm(&format!("delete {} devices", macs.len()), *yes)?;
    }
    if let DeviceCommand::Reboot { macs, yes } = &command
        && macs.len() > 1
    {
        crate::cli::input::confirm(&format!("reboot {} phones", macs.len()), *yes)?;
    }
    request(command)?.send(api).await
}

fn device(mac: &str) -> String {
    format!("/api/v1/devices/{}", encode(mac))
}

/// One phone's NOTIFY, or many in one call; the answer is a row per phone either way.
fn notify(macs: &[String], action: &str) -> Request {
    match macs {
        [mac] => Request::new(
            M::POST,
            format!("{}/{action}", device(mac)),
            Shape::Notified,
        ),
        _ => Request::new(
            M::POST,
            format!("/api/v1/devices/bulk-{action}"),
            Shape::Notified,
        )
        .with(json!({ "macs": macs })),
    }
}

fn request(command: DeviceCommand) -> Result<Request, String> {
    use Shape::Object;
    Ok(match command {
        DeviceCommand::List { filter } => Request::get(
            format!("/api/v1/devices{}", filter_query(filter)),
            Shape::Devices,
        ),
        DeviceCommand::Add { mac, fields } => {
            Request::new(M::POST, "/api/v1/devices", Object).with(new_device(&fields, &mac))
        }
        DeviceCommand::AddMany { macs, fields } => {
            let devices: Vec<Value> = macs.iter().map(|mac| new_device(&fields, mac)).collect();
            Request::new(M::POST, "/api/v1/devices/bulk", Shape::Devices)
                .with(json!({ "devices": devices }))
        }
        DeviceCommand::Settings { mac } => {
            Request::get(format!("{}/settings", device(&mac)), Shape::Settings)
        }
        DeviceCommand::Events { mac } => {
            Request::get(format!("{}/events", device(&mac)), Shape::Events)
        }
        DeviceCommand::Keys { mac } => {
            Request::get(format!("{}/keys?effective=true", device(&mac)), Shape::Keys)
        }
        DeviceCommand::Set { mac, pairs } => Request::new(
            M::PATCH,
            format!("{}/settings", device(&mac)),
            Shape::Settings,
        )
        .with(settings_patch(&pairs)?),
        DeviceCommand::Show { mac } => Request::get(device(&mac), Object),
        DeviceCommand::Edit { mac, changes } => {
            Request::new(M::PATCH, device(&mac), Object).with(device_changes(changes))
        }
        DeviceCommand::Remove { macs, .. } => match macs.as_slice() {
            [mac] => Request::new(M::DELETE, device(mac), Object),
            _ => Request::new(M::POST, "/api/v1/devices/bulk-delete", Object)
                .with(json!({ "macs": macs })),
        },
        DeviceCommand::Resync { macs } => notify(&macs, "resync"),
        DeviceCommand::Reboot { macs, .. } => notify(&macs, "reboot"),
        DeviceCommand::Replace { old, new, model } => {
            let mut body = Map::new();
            body.insert("new_mac".into(), Value::String(new));
            put(&mut body, "model", model);
            Request::new(M::POST, format!("{}/replace", device(&old)), Object)
                .with(Value::Object(body))
        }
        DeviceCommand::Logout { macs, line } => match (macs.as_slice(), line) {
            ([mac], line) => {
                let query = query_string(&[("line", line.map(|l| l.to_string()))]);
                Request::new(M::POST, format!("{}/logout{query}", device(mac)), Object)
            }
            (_, Some(_)) => return Err("--line takes one MAC, not several".to_string()),
            (_, None) => Request::new(M::POST, "/api/v1/devices/bulk-logout", Object)
                .with(json!({ "macs": macs })),
        },
        DeviceCommand::Assign {
            mac,
            line,
            user,
            replace,
        } => {
            let mut body = Map::new();
            body.insert("user".into(), Value::String(user));
            put_flag(&mut body, "replace", replace);
            Request::new(M::PUT, format!("{}/lines/{line}", device(&mac)), Object)
                .with(Value::Object(body))
        }
        DeviceCommand::Unassign { mac, line } => {
            Request::new(M::DELETE, format!("{}/lines/{line}", device(&mac)), Object)
        }
        DeviceCommand::ResetClaim { macs } => match macs.as_slice() {
            [mac] => Request::new(M::POST, format!("{}/reset-claim", device(mac)), Object),
            _ => Request::new(M::POST, "/api/v1/devices/bulk-reset-claim", Object)
                .with(json!({ "macs": macs })),
        },
        DeviceCommand::Rekey { mac } => {
            Request::new(M::POST, format!("{}/rekey", device(&mac)), Object)
        }
        DeviceCommand::Credentials { mac } => {
            Request::get(format!("{}/credentials", device(&mac)), Object)
        }
        DeviceCommand::Unregistered => Request::get("/api/v1/unregistered", Shape::Unregistered),
        DeviceCommand::Adopt { mac, label } => {
            let path = format!("/api/v1/unregistered/{}/adopt", encode(&mac));
            let request = Request::new(M::POST, path, Object);
            match label {
                Some(label) => request.with(json!({ "label": label })),
                None => request,
            }
        }
        DeviceCommand::Forget { mac } => Request::new(
            M::DELETE,
            format!("/api/v1/unregistered/{}", encode(&mac)),
            Object,
        ),
    })
}

fn filter_query(filter: DeviceFilter) -> String {
    let flag = |on: bool| on.then(|| "true".to_string());
    query_string(&[
        ("unassigned", flag(filter.unassigned)),
        ("hotdesk", flag(filter.hotdesk)),
        ("auto_registered", flag(filter.auto_registered)),
        ("not_seen_days", filter.not_seen_days.map(|d| d.to_string())),
        ("model", filter.model),
        ("profile", filter.profile),
        ("location", filter.location),
        ("firmware_outdated", flag(filter.firmware_outdated)),
        ("claim_contested", flag(filter.claim_contested)),
        ("never_seen", flag(filter.never_seen)),
        ("model_mismatch", flag(filter.model_mismatch)),
        ("q", filter.search),
    ])
}

fn device_changes(changes: DeviceChanges) -> Value {
    let mut body = Map::new();
    put_clearable(&mut body, "model", changes.model);
    put_clearable(&mut body, "label", changes.label);
    put_clearable(&mut body, "location", changes.location);
    put_clearable(&mut body, "profile", changes.profile);
    put_bool(&mut body, "hotdesk", changes.hotdesk);
    put_bool(
        &mut body,
        "certificate_required",
        changes.certificate_required,
    );
    if let Some(modules) = changes.expansion_modules {
        body.insert("expansion_modules".into(), Value::from(modules));
    }
    Value::Object(body)
}

/// The body registering the device `mac` with `fields`.
fn new_device(fields: &DeviceFields, mac: &str) -> Value {
    let mut body = Map::new();
    body.insert("mac".into(), Value::String(mac.to_string()));
    put(&mut body, "model", fields.model.clone());
    put(&mut body, "label", fields.label.clone());
    put(&mut body, "location", fields.location.clone());
    put(&mut body, "profile", fields.profile.clone());
    put_flag(&mut body, "hotdesk", fields.hotdesk);
    put_flag(
        &mut body,
        "certificate_required",
        fields.certificate_required,
    );
    if let Some(modules) = fields.expansion_modules {
        body.insert("expansion_modules".into(), Value::from(modules));
    }
    Value::Object(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_become_the_query_in_a_fixed_order() {
        let filter = DeviceFilter {
            unassigned: true,
            location: Some("Floor 2".into()),
            not_seen_days: Some(30),
            ..DeviceFilter::default()
        };
        assert_eq!(
            filter_query(filter),
            "?unassigned=true&not_seen_days=30&location=Floor%202"
        );
        assert_eq!(filter_query(DeviceFilter::default()), "");
    }

    #[test]
    fn an_assignment_replaces_only_when_asked() {
        let assign = |replace| {
            request(DeviceCommand::Assign {
                mac: "00:15:65:aa:bb:cc".into(),
                line: 2,
                user: "1001".into(),
                replace,
            })
            .unwrap()
        };
        let plain = assign(false);
        assert_eq!(plain.method, M::PUT);
        assert_eq!(
            plain.path,
            "/api/v1/devices/00%3A15%3A65%3Aaa%3Abb%3Acc/lines/2"
        );
        assert_eq!(plain.body, Some(json!({"user": "1001"})));
        assert_eq!(
            assign(true).body,
            Some(json!({"user": "1001", "replace": true}))
        );
    }
}
