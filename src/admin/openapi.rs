//! The OpenAPI document, generated from the endpoint table and the request and answer types
//! (their utoipa schemas), so it cannot drift from what the server does. `docs/openapi.json`
//! is this document, kept in the repository for readers; a test holds the two together.

use std::sync::LazyLock;

use serde_json::{Map, Value, json};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::Schema;

use super::endpoint::{API_PREFIX, Answer, Auth, Body, DEFS, Def, Mount, QueryKind};
use super::paging::{DEFAULT_LIMIT, MAX_LIMIT};

static DOCUMENT: LazyLock<Value> = LazyLock::new(build);

/// The document, built once.
pub fn document() -> &'static Value {
    &DOCUMENT
}

type Components = Vec<(String, RefOr<Schema>)>;

/// The admin listener at its default address.
const SERVER_ROOT: &str = "https://127.0.0.1:8444";

fn to_json<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).expect("OpenAPI objects serialise")
}

fn build() -> Value {
    let mut components: Components = Vec::new();
    let mut paths = Map::new();
    for def in DEFS {
        let operation = operation(def, &mut components);
        let item = paths
            .entry(def.path.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if def.mount == Mount::Root {
            // Outside /api/v1: the path's own server is the listener's root.
            item["servers"] = json!([{"url": SERVER_ROOT}]);
        }
        item[def.method.as_str().to_ascii_lowercase()] = operation;
    }
    let mut schemas = Map::new();
    schemas.insert("Error".into(), json!({
        "type": "object",
        "properties": {"error": {"type": "string", "description": "What was wrong, for a person."}},
        "required": ["error"],
    }));
    for (name, schema) in components {
        schemas.entry(name).or_insert_with(|| to_json(&schema));
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "deskprov admin API",
            "version": "1",
            "description": "Manage the devices, users, settings and templates of the deskprov provisioning server. JSON over HTTPS under /api/v1 on its own listener; every request needs an admin token (Authorization: Bearer <token>). Every write is validated completely before anything is stored and is recorded in the audit trail. Errors are {\"error\": \"message\"}. Lists come in pages: ?limit= (default 100, at most 1000) and &after= the next of the page before; the answer is {\"items\": [...], \"next\": ...}, with next while more remain. JSON bodies are limited to limits.max_admin_body_bytes (64 KiB by default), CSV imports and bulk requests to limits.max_import_bytes (16 MiB); a body not received in time gets 408, a method a path does not take 405 with Allow. HEAD is answered wherever GET is.",
        },
        "servers": [{"url": format!("{SERVER_ROOT}{API_PREFIX}")}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": schemas,
        },
    })
}

fn operation(def: &Def, components: &mut Components) -> Value {
    let mut op = Map::new();
    op.insert("operationId".into(), json!(def.name));
    op.insert("summary".into(), json!(def.summary));
    let description = def.description.trim();
    if !description.is_empty() {
        op.insert("description".into(), json!(description.replace('\n', " ")));
    }
    op.insert("tags".into(), json!([def.tag]));
    if def.auth == Auth::TokenOrScrapeAddress {
        // The token may be left out (from a scrape address).
        op.insert("security".into(), json!([{"bearer": []}, {}]));
    }
    // What a caller must be allowed (every admin token may do everything until tokens and
    // accounts have roles).
    op.insert(
        "x-access".into(),
        json!(format!("{:?}", def.access).to_lowercase()),
    );
    let parameters = parameters(def);
    if !parameters.is_empty() {
        op.insert("parameters".into(), Value::Array(parameters));
    }
    if let Some(body) = request_body(def.body, components) {
        op.insert("requestBody".into(), body);
    }
    op.insert("responses".into(), responses(def, components));
    Value::Object(op)
}

fn parameters(def: &Def) -> Vec<Value> {
    let mut parameters: Vec<Value> = def
        .params
        .iter()
        .map(|(name, schema)| {
            json!({"name": name, "in": "path", "required": true, "schema": to_json(&schema())})
        })
        .collect();
    let paged = matches!(def.answer, Answer::Page(_));
    let paging = [
        json!({"name": "limit", "in": "query", "description": format!("Items per page (default {DEFAULT_LIMIT})."),
               "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}}),
        json!({"name": "after", "in": "query", "description": "The next of the page before.",
               "schema": {"type": "string", "minLength": 1}}),
    ];
    if paged {
        parameters.extend(paging);
    }
    parameters.extend(def.query.iter().map(|q| {
        let schema = match q.kind {
            QueryKind::Flag => json!({"type": "string", "enum": ["true", "false"]}),
            QueryKind::Text => json!({"type": "string"}),
            QueryKind::Count => json!({"type": "integer", "minimum": 0}),
            QueryKind::Time => json!({"type": "string", "format": "date-time"}),
        };
        json!({"name": q.name, "in": "query", "description": q.description, "schema": schema})
    }));
    parameters
}

fn request_body(body: Body, components: &mut Components) -> Option<Value> {
    let json_body = |schema: RefOr<Schema>, required: bool| json!({"required": required, "content": {"application/json": {"schema": to_json(&schema)}}});
    match body {
        Body::None => None,
        Body::Json(schema) | Body::BulkJson(schema) => Some(json_body(schema(components), true)),
        Body::OptionalJson(schema) => Some(json_body(schema(components), false)),
        Body::Firmware => Some(json!({
            "required": true,
            "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
        })),
        Body::Csv => Some(json!({
            "required": true,
            "content": {"text/csv": {"schema": {"type": "string", "description": "A header row naming the columns (GET /export/{subject} writes them), then one row per record; - clears a cell's field."}}},
        })),
    }
}

fn responses(def: &Def, components: &mut Components) -> Value {
    let content = match def.answer {
        Answer::Json(schema) => {
            json!({"application/json": {"schema": to_json(&schema(components))}})
        }
        Answer::List(schema) => json!({"application/json": {"schema": {
            "type": "array", "items": to_json(&schema(components)),
        }}}),
        Answer::Page(schema) => json!({"application/json": {"schema": {
            "type": "object",
            "properties": {
                "items": {"type": "array", "items": to_json(&schema(components))},
                "next": {"type": "string", "description": "The after of the next page; only while more remain."},
            },
            "required": ["items"],
        }}}),
        Answer::Csv => json!({"text/csv": {"schema": {"type": "string"}}}),
        Answer::PhoneFile => json!({
            "text/plain": {"schema": {"type": "string"}},
            "application/xml": {"schema": {"type": "string"}},
        }),
        Answer::Backup => json!({
            "application/gzip": {"schema": {"type": "string", "format": "binary", "description": "A backup file: see README, Backup and restore."}},
        }),
        Answer::Document => json!({"application/json": {"schema": {"type": "object"}}}),
        Answer::Metrics => json!({
            "application/openmetrics-text": {"schema": {"type": "string"}},
        }),
    };
    let mut responses = Map::new();
    responses.insert(
        def.status.to_string(),
        json!({"description": def.summary, "content": content}),
    );
    let error = |description: &str| json!({"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
    for status in def.errors.iter().chain(&[401, 405, 408, 429]) {
        let description = match status {
            400 => "The request is not acceptable as given; nothing was changed.",
            401 => "Missing or invalid admin token.",
            404 => "No such thing.",
            405 => "The path does not take this method; Allow lists those it takes.",
            408 => "The body was not received in time.",
            409 => "The request conflicts with the state of things; nothing was changed.",
            413 => "The body is larger than the limit.",
            429 => {
                "Too many wrong admin tokens from this address; Retry-After says when to try again."
            }
            _ => "See the error.",
        };
        responses.insert(status.to_string(), error(description));
    }
    Value::Object(responses)
}
