//! The OpenAPI document against the server, both ways: every body the server accepts in this
//! test run validates against its documented schema (checked in `api::Call::try_send`),
//! and bodies the schemas refuse are refused by the server too, changing nothing.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::api::{Body, NewDevice, NewUser};
use crate::helpers::TestServer;

static DOCUMENT: LazyLock<Value> = LazyLock::new(|| deskprov::admin::openapi::document().clone());

/// The request body schema of `method path`, as a standalone JSON Schema.
pub fn request_schema(method: &Method, path: &str) -> Option<Value> {
    let path = path.split('?').next().unwrap_or(path);
    let path = path.strip_prefix("/api/v1").unwrap_or(path);
    let endpoint = deskprov::admin::endpoint::Endpoint::parse(method, path).ok()?;
    let def = endpoint.def();
    let operation = &DOCUMENT["paths"][def.path][def.method.as_str().to_ascii_lowercase()];
    let schema = operation["requestBody"]["content"]["application/json"]["schema"].clone();
    if schema.is_null() {
        return None;
    }
    let mut standalone = schema;
    standalone["components"] = DOCUMENT["components"].clone();
    Some(standalone)
}

/// Whether `body` validates against the schema of `method path`; the errors if not.
pub fn validates(method: &Method, path: &str, body: &Value) -> Result<(), String> {
    let Some(schema) = request_schema(method, path) else {
        return Ok(());
    };
    let validator = jsonschema::validator_for(&schema)
        .unwrap_or_else(|e| panic!("the schema of {method} {path} does not compile: {e}"));
    let errors: Vec<String> = validator.iter_errors(body).map(|e| e.to_string()).collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("; "))
    }
}

#[test]
fn docs_openapi_json_is_the_generated_document() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/openapi.json");
    let generated = serde_json::to_string_pretty(&*DOCUMENT).unwrap() + "\n";
    if std::env::var_os("DESKPROV_WRITE_OPENAPI").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let on_disk = std::fs::read_to_string(&path).unwrap();
    assert!(
        on_disk == generated,
        "docs/openapi.json is not the document the server serves; run `make openapi`"
    );
}

#[test]
fn every_request_schema_compiles_and_refuses_unknown_fields() {
    for (path, operations) in DOCUMENT["paths"].as_object().unwrap() {
        for (method, operation) in operations.as_object().unwrap() {
            let Some(_) = operation["requestBody"]["content"].get("application/json") else {
                continue;
            };
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let concrete: String = path
                .split('/')
                .map(|p| match p {
                    "{mac}" => "001565aabbcc",
                    "{extension}" => "1001",
                    "{name}" => "floor",
                    p if p.starts_with('{') => "1",
                    p => p,
                })
                .collect::<Vec<_>>()
                .join("/");
            assert!(
                request_schema(&method, &concrete).is_some(),
                "{method} {path} has no schema"
            );
            let unknown = validates(&method, &concrete, &json!({"no_such_field": 1}));
            assert!(unknown.is_err(), "{method} {path} takes unknown fields");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_names_exactly_the_routes_and_every_route_answers() {
    let server = TestServer::start().await;
    let api = server.admin_api();
    let served = api.openapi().ok().await;
    assert_eq!(served, *DOCUMENT);
    let documented: BTreeSet<(String, String)> = served["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, operations)| {
            operations
                .as_object()
                .unwrap()
                .keys()
                .filter(|key| *key != "servers")
                .map(move |m| (m.to_uppercase(), path.clone()))
        })
        .collect();
    let table: BTreeSet<(String, String)> = deskprov::admin::endpoint::DEFS
        .iter()
        .map(|d| (d.method.to_string(), d.path.to_string()))
        .collect();
    assert_eq!(documented, table);
    // Every route of the table, its path made from the table itself.
    for def in deskprov::admin::endpoint::DEFS {
        let path: String = def
            .path
            .split('/')
            .map(|s| if s.starts_with('{') { "1" } else { s })
            .collect::<Vec<_>>()
            .join("/");
        let full = match def.mount {
            deskprov::admin::endpoint::Mount::Api => format!("/api/v1{path}"),
            deskprov::admin::endpoint::Mount::Root => path.clone(),
        };
        let reply = api.request(def.method.clone(), &full, json!({})).await;
        let text = reply.text();
        assert!(
            reply.status != StatusCode::METHOD_NOT_ALLOWED
                && reply.status != StatusCode::INTERNAL_SERVER_ERROR
                && !text.contains("no such endpoint"),
            "{} {path}: {} {text}",
            def.method,
            reply.status
        );
    }
    // Routing: a path by a method it does not take, and a path that is no route, as written.
    let reply = api.request(Method::PUT, "/api/v1/users", Body::None).await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(reply.headers["allow"], "GET, HEAD, POST");
    let reply = api
        .request(Method::GET, "/api/v1/gadgets", Body::None)
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_the_schemas_refuse_the_server_refuses() {
    let server = TestServer::start().await;
    let api = server.admin_api();
    api.create_device(NewDevice::new("001565aabb10").model("T46S"))
        .ok()
        .await;
    api.create_user(NewUser::new("7001", "Kept")).ok().await;
    let state = async || {
        (
            api.list_devices().ok().await,
            api.list_users().ok().await,
            api.list_profiles().ok().await,
        )
    };
    let before = state().await;
    let too_many: Vec<Value> = (0..10_001)
        .map(|i| json!({"mac": format!("0015650{i:05}")}))
        .collect();
    // Each body with the path its schema is documented under: these paths are the document's.
    let cases = [
        (
            Method::POST,
            "/api/v1/devices",
            json!({"mac": "00:15:65:zz:00:01"}),
        ),
        (
            Method::POST,
            "/api/v1/devices",
            json!({"mac": "0015650000"}),
        ),
        (Method::POST, "/api/v1/devices", json!({"model": "T46S"})),
        (
            Method::POST,
            "/api/v1/devices",
            json!({"mac": "001565aabb11", "hotdesk": "yes"}),
        ),
        (
            Method::POST,
            "/api/v1/devices",
            json!({"mac": "001565aabb11", "model": "T 46"}),
        ),
        (
            Method::POST,
            "/api/v1/devices",
            json!({"mac": "001565aabb11", "label": ""}),
        ),
        (
            Method::POST,
            "/api/v1/devices",
            json!({"mac": "001565aabb11", "profile": ".hidden"}),
        ),
        (Method::POST, "/api/v1/devices/bulk", json!({"devices": []})),
        (
            Method::POST,
            "/api/v1/devices/bulk",
            json!({"devices": too_many}),
        ),
        (
            Method::PATCH,
            "/api/v1/devices/001565aabb10",
            json!({"label": "x".repeat(65)}),
        ),
        (
            Method::PUT,
            "/api/v1/devices/001565aabb10/lines/1",
            json!({"user": "12a"}),
        ),
        (
            Method::PUT,
            "/api/v1/devices/001565aabb10/lines/1",
            json!({}),
        ),
        (
            Method::POST,
            "/api/v1/users",
            json!({"extension": "7002a", "display_name": "A"}),
        ),
        (
            Method::POST,
            "/api/v1/users",
            json!({"extension": "7002", "display_name": "A", "sip_user": "a b"}),
        ),
        (
            Method::POST,
            "/api/v1/users",
            json!({"extension": "7002", "display_name": "A", "sip_password": "short"}),
        ),
        (
            Method::POST,
            "/api/v1/users",
            json!({"extension": "7002", "display_name": "A", "pin": "12ab"}),
        ),
        (
            Method::POST,
            "/api/v1/users",
            json!({"extension": "7002", "display_name": "A", "email": "nobody"}),
        ),
        (
            Method::PATCH,
            "/api/v1/users/7001",
            json!({"display_name": "x".repeat(65)}),
        ),
        (
            Method::POST,
            "/api/v1/users/bulk",
            json!({"action": "explode", "extensions": ["7001"]}),
        ),
        (
            Method::POST,
            "/api/v1/users/bulk",
            json!({"action": "lock", "extensions": []}),
        ),
        (
            Method::POST,
            "/api/v1/users/bulk",
            json!({"action": "lock"}),
        ),
        (Method::POST, "/api/v1/profiles", json!({"name": "a b"})),
        (
            Method::POST,
            "/api/v1/profiles",
            json!({"name": "floor", "settings": {"no_such_setting": 1}}),
        ),
        (
            Method::PATCH,
            "/api/v1/settings",
            json!({"no_such_setting": 1}),
        ),
        (Method::POST, "/api/v1/tokens", json!({})),
        (Method::POST, "/api/v1/tokens", json!({"name": ""})),
    ];
    for (method, path, body) in cases {
        let shown = body.to_string().chars().take(120).collect::<String>();
        assert!(
            validates(&method, path, &body).is_err(),
            "the schema of {method} {path} takes {shown}"
        );
        let reply = api.request(method.clone(), path, body).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{method} {path} {shown}: {}",
            reply.text()
        );
    }
    assert_eq!(before, state().await, "a refused body changed something");
}
