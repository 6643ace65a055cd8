//! The `keys` subject: one row a key, naming its layer (site, profile, model, device, user)
//! and the layer's owner. An import replaces every layer the file names, whole, each checked
//! as `PUT .../keys` checks it; layers the file does not name are left as they are. A layer
//! cannot be cleared by a file (it would have no row): `PUT []` on the layer clears it.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::Ordering;

use super::codec::{Row, Subject, cell, number};
use super::jobs::{Job, Report, RowError, RowOutcome, failed, finished};
use crate::admin::endpoint::Access;
use crate::admin::roles::role_permits;
use crate::app::App;
use crate::domain::{Extension, Mac, ProfileName};
use crate::error::ApiError;
use crate::keys::{Key, KeyInput, KeyLayer, SharedKeys};
use crate::model::{ImportRecord, ImportState};
use crate::ops::keys::{self, KeyOwner};
use crate::ops::{Actor, import};

type Cells = BTreeMap<&'static str, String>;

/// Every layer's keys, a row each: the site's, then profiles', models', devices' and users'.
pub(super) async fn export_rows(app: &App) -> Result<Vec<Cells>, ApiError> {
    let mut rows = Vec::new();
    let site = app.store.shared_keys(&SharedKeys::Site).await?;
    push_layer(&mut rows, "site", "", &site);
    for profile in app.store.profiles().await? {
        push_layer(&mut rows, "profile", profile.name.as_str(), &profile.keys);
    }
    let mut models = HashSet::new();
    for row in crate::models::all() {
        // Two vendors may name a model alike: the layer is stored by the name.
        if models.insert(row.model) {
            let keys = app.store.shared_keys(&SharedKeys::Model(row.model)).await?;
            push_layer(&mut rows, "model", row.model, &keys);
        }
    }
    for device in app.store.devices().await? {
        push_layer(&mut rows, "device", &device.mac.to_string(), &device.keys);
    }
    for user in app.store.users().await? {
        push_layer(&mut rows, "user", user.extension.as_str(), &user.keys);
    }
    Ok(rows)
}

fn push_layer(rows: &mut Vec<Cells>, layer: &str, owner: &str, keys: &KeyLayer) {
    for key in keys.keys() {
        rows.push(BTreeMap::from([
            ("layer", layer.to_string()),
            ("owner", owner.to_string()),
            (
                "module",
                key.at.module.map(|m| m.to_string()).unwrap_or_default(),
            ),
            ("position", key.at.position.to_string()),
            ("type", key.kind.as_str().to_string()),
            ("value", key.value.clone().unwrap_or_default()),
            (
                "label",
                key.label
                    .as_ref()
                    .map(|l| l.to_string())
                    .unwrap_or_default(),
            ),
            ("line", key.line.to_string()),
        ]));
    }
}

/// The layers a file names, in the order it first names them.
struct Layer {
    /// `device 00:15:65:...`, as rows and errors name it.
    name: String,
    owner: KeyOwner,
    /// Indexes into the file's rows, with the key each gives.
    keys: Vec<(usize, Key)>,
}

/// Checks every row and every layer, and replaces the layers when nothing has an error.
pub(super) async fn run(
    app: &App,
    by: &Actor,
    job: &Job,
    record: &ImportRecord,
    rows: Vec<Row>,
) -> Result<Report, ApiError> {
    let mut errors: Vec<(usize, String)> = Vec::new();
    let mut layers: Vec<Layer> = Vec::new();
    for (index, row) in rows.iter().enumerate() {
        match parse_row(row).and_then(|parsed| may_change(by, parsed)) {
            Ok((name, owner, key)) => match layers.iter_mut().find(|l| l.name == name) {
                Some(layer) => layer.keys.push((index, key)),
                None => layers.push(Layer {
                    name,
                    owner,
                    keys: vec![(index, key)],
                }),
            },
            Err(e) => errors.push((index, e.to_string())),
        }
        job.checked.fetch_add(1, Ordering::Relaxed);
    }
    let mut checked: Vec<(KeyLayer, &'static str)> = Vec::new();
    for layer in &layers {
        match check(app, &rows, layer).await {
            Ok(outcome) => checked.push(outcome),
            Err((index, error)) => errors.push((index, error)),
        }
    }
    if !errors.is_empty() {
        errors.sort_by_key(|(index, _)| *index);
        return Ok(failed(
            errors
                .into_iter()
                .map(|(index, error)| RowError {
                    row: rows[index].line,
                    key: rows[index].key(Subject::Keys),
                    error,
                })
                .collect(),
        ));
    }
    let mut outcomes: HashMap<usize, &'static str> = HashMap::new();
    for (layer, (_, outcome)) in layers.iter().zip(&checked) {
        for (index, _) in &layer.keys {
            outcomes.insert(*index, outcome);
        }
    }
    let count = |wanted: &str| outcomes.values().filter(|o| **o == wanted).count();
    let mut report = Report {
        state: if job.dry_run {
            ImportState::Checked
        } else {
            ImportState::Done
        },
        created: count("created"),
        updated: count("updated"),
        unchanged: count("unchanged"),
        errors: Vec::new(),
        rows: rows
            .iter()
            .enumerate()
            .map(|(index, row)| RowOutcome {
                row: row.line,
                key: row.key(Subject::Keys),
                outcome: outcomes[&index],
            })
            .collect(),
    };
    if job.dry_run {
        return Ok(report);
    }
    let writes: Vec<(KeyOwner, KeyLayer)> = layers
        .into_iter()
        .zip(checked)
        .filter(|(_, (_, outcome))| *outcome != "unchanged")
        .map(|(layer, (keys, _))| (layer.owner, keys))
        .collect();
    let done = finished(record, &report, app.clock.now());
    if let Err(e) = import::commit_key_layers(app, by, &writes, &done).await {
        report = failed(vec![RowError {
            row: 0,
            key: String::new(),
            error: e.to_string(),
        }]);
    }
    Ok(report)
}

/// The site's keys need the role `PUT /settings/keys` needs (an import needs less).
fn may_change(
    by: &Actor,
    parsed: (String, KeyOwner, Key),
) -> Result<(String, KeyOwner, Key), ApiError> {
    if let (KeyOwner::Site, Some(role)) = (&parsed.1, by.role())
        && !role_permits(role, Access::Site)
    {
        return Err(ApiError::Forbidden(format!(
            "layer: a token of role {role} may not change the site's keys; the owner may"
        )));
    }
    Ok(parsed)
}

/// The layer's name, its owner and the row's key.
fn parse_row(row: &Row) -> Result<(String, KeyOwner, Key), ApiError> {
    let layer = cell(row, "layer").unwrap_or_default();
    let owner = cell(row, "owner");
    let (name, owner) = match (layer, owner) {
        ("site", None) => ("site".to_string(), KeyOwner::Site),
        ("site", Some(_)) => {
            return Err(ApiError::BadRequest(
                "owner: the site's layer has no owner; leave it empty".into(),
            ));
        }
        (_, None) if ["profile", "model", "device", "user"].contains(&layer) => {
            return Err(ApiError::BadRequest(format!(
                "owner: a {layer} layer names its {}",
                owner_kind(layer)
            )));
        }
        ("profile", Some(raw)) => {
            let name = ProfileName::parse(raw)?;
            (format!("profile {name}"), KeyOwner::Profile(name))
        }
        ("model", Some(raw)) => {
            let row = crate::models::find_any(raw).ok_or_else(|| {
                ApiError::BadRequest(format!(
                    "owner: unknown model {raw:?}; GET /api/v1/models lists the supported ones"
                ))
            })?;
            (format!("model {}", row.model), KeyOwner::Model(row))
        }
        ("device", Some(raw)) => {
            let mac = Mac::parse(raw).map_err(|e| ApiError::BadRequest(format!("owner: {e}")))?;
            (format!("device {mac}"), KeyOwner::Device(mac))
        }
        ("user", Some(raw)) => {
            let extension = Extension::parse(raw)?;
            (format!("user {extension}"), KeyOwner::User(extension))
        }
        _ => {
            return Err(ApiError::BadRequest(format!(
                "layer: must be site, profile, model, device or user, not {layer:?}"
            )));
        }
    };
    Ok((name, owner, key_of(row)?))
}

fn owner_kind(layer: &str) -> &'static str {
    match layer {
        "profile" => "profile's name",
        "model" => "model",
        "device" => "device's MAC",
        _ => "user's extension",
    }
}

fn key_of(row: &Row) -> Result<Key, ApiError> {
    let whole = |column: &str| -> Result<Option<u64>, ApiError> {
        cell(row, column).map(|raw| number(column, raw)).transpose()
    };
    let small = |column: &'static str, value: Option<u64>| -> Result<Option<u16>, ApiError> {
        value
            .map(|v| {
                u16::try_from(v)
                    .map_err(|_| ApiError::BadRequest(format!("{column}: {v} is out of range")))
            })
            .transpose()
    };
    let module = small("module", whole("module")?)?
        .map(|m| {
            u8::try_from(m)
                .map_err(|_| ApiError::BadRequest(format!("module: {m} is out of range")))
        })
        .transpose()?;
    let position = small("position", whole("position")?)?
        .ok_or_else(|| ApiError::BadRequest("position: every key needs one".into()))?;
    let input = KeyInput {
        module,
        position,
        kind: cell(row, "type").unwrap_or_default().to_string(),
        value: cell(row, "value").map(str::to_string),
        label: cell(row, "label").map(str::to_string),
        line: small("line", whole("line")?)?,
    };
    Ok(Key::try_from(input)?)
}

/// The layer as it will be stored and what that does to it; or the row to blame and why.
async fn check(
    app: &App,
    rows: &[Row],
    layer: &Layer,
) -> Result<(KeyLayer, &'static str), (usize, String)> {
    let first = layer.keys[0].0;
    let mut seen = HashMap::new();
    for (index, key) in &layer.keys {
        if let Some(earlier) = seen.insert(key.at, *index) {
            return Err((
                *index,
                format!(
                    "position: {} of the {} layer is on row {} too",
                    key.at, layer.name, rows[earlier].line
                ),
            ));
        }
    }
    let keys: Vec<Key> = layer.keys.iter().map(|(_, key)| key.clone()).collect();
    let parsed = KeyLayer::parse(keys).map_err(|e| (first, format!("{}: {e}", layer.name)))?;
    let blame = |e: crate::ops::OpError| (first, format!("{}: {e}", layer.name));
    keys::check_layer(app.store.reads(), &layer.owner, &parsed)
        .await
        .map_err(blame)?;
    let stored = keys::layer(app.store.reads(), &layer.owner)
        .await
        .map_err(blame)?;
    let outcome = if stored == parsed {
        "unchanged"
    } else if stored.is_empty() {
        "created"
    } else {
        "updated"
    };
    Ok((parsed, outcome))
}
