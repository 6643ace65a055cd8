//! The admin API: JSON over HTTPS under /api/v1, bearer-token auth, on its own listener.
//!
//! Every write is validated completely before anything is stored, runs under the admin write
//! lock, and is flushed to disk before the response acknowledges it. Every acknowledged write
//! is also recorded in the audit trail with the token's name, the address and the fields it
//! set (secrets only as "set").

mod csv_io;
mod devices;
mod profiles;
mod security;
mod templates;
mod token;
mod users;

use std::net::IpAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::request::Parts;
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Limited};
use serde::de::DeserializeOwned;

use crate::app::App;
use crate::audit::{self, Event, Kind};
use crate::error::ApiError;
use crate::respond::{self, HttpResponse};

pub use csv_io::Imports;
pub use token::{TokenError, ensure_admin_token};

type ApiResult = Result<HttpResponse, ApiError>;

pub async fn handle<B>(app: Arc<App>, request: Request<B>, address: IpAddr) -> HttpResponse
where
    B: hyper::body::Body<Data = Bytes> + Send,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().to_string();
    let result = match token::authenticate(&app, &parts.headers, address) {
        Ok(actor) => match read_body(&app, body, body_limit(&path, &app)).await {
            Ok(body) => {
                let caller = Caller {
                    actor: actor.clone(),
                    address,
                };
                let result = route(&app, &parts, &body, &caller).await;
                // An import records its change itself, when it is applied.
                if result.is_ok() && is_write(&parts.method) && !path.starts_with("/api/v1/import/")
                {
                    record_change(&app, &parts, &body, &actor, address).await;
                }
                if result.is_ok() && reveals_secret(&parts) {
                    audit::record(
                        &app,
                        Event::by(Kind::SecretRead, &actor, parts.uri.path())
                            .source(address)
                            .subject(parts.uri.path().trim_start_matches("/api/v1/")),
                    );
                }
                result
            }
            Err(e) => Err(e),
        },
        Err(e) => Err(e),
    };
    let response = result.unwrap_or_else(ApiError::into_response);
    tracing::info!(method = %parts.method, path, status = response.status().as_u16(), "admin request");
    response
}

/// Reads that hand out a secret: who read which is worth knowing.
fn reveals_secret(parts: &Parts) -> bool {
    let path = parts.uri.path().trim_end_matches('/');
    let query = parts.uri.query().unwrap_or("");
    parts.method == Method::GET
        && (path.ends_with("/credentials")
            || path.ends_with("/sip-password")
            || path.ends_with("/render")
            || (path.starts_with("/api/v1/export/")
                && query_value(query, "secrets").as_deref() == Some("true")))
}

fn is_write(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD)
}

/// Appends the acknowledged change to the audit trail and makes it durable with the change.
async fn record_change(app: &App, parts: &Parts, body: &[u8], actor: &str, address: IpAddr) {
    let path = parts.uri.path();
    let mut object: Vec<&str> = path
        .trim_start_matches("/api/v1/")
        .split('/')
        .take(2)
        .collect();
    // A create names its object in the body.
    let created = serde_json::from_slice::<serde_json::Value>(body).ok();
    let created_id = created.as_ref().and_then(|b| {
        ["extension", "mac", "name"]
            .iter()
            .find_map(|k| b.get(*k).and_then(|v| v.as_str()))
    });
    if let (1, Some(id)) = (object.len(), created_id) {
        object.push(id);
    }
    let summary = audit::summarize_change(body);
    let detail = format!("{} {path} {summary}", parts.method);
    audit::record(
        app,
        Event::by(Kind::AdminChange, actor, detail.trim_end())
            .source(address)
            .subject(object.join("/")),
    );
    if let Err(e) = app.store.flush().await {
        tracing::error!(error = %e, "flushing the audit trail failed");
    }
}

/// Every operation of the admin API: method and path under /api/v1, `{name}` standing for one
/// path segment. Literal paths come before the patterns they would also match. The OpenAPI
/// document (`docs/openapi.json`) describes exactly these; a test holds the two together.
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/openapi.json"),
    ("GET", "/devices"),
    ("POST", "/devices"),
    ("POST", "/devices/bulk"),
    ("GET", "/devices/{mac}"),
    ("PATCH", "/devices/{mac}"),
    ("DELETE", "/devices/{mac}"),
    ("PUT", "/devices/{mac}/lines/{line}"),
    ("DELETE", "/devices/{mac}/lines/{line}"),
    ("POST", "/devices/{mac}/reset-claim"),
    ("GET", "/devices/{mac}/credentials"),
    ("POST", "/devices/{mac}/logout"),
    ("GET", "/devices/{mac}/render"),
    ("GET", "/devices/{mac}/settings"),
    ("PATCH", "/devices/{mac}/settings"),
    ("GET", "/unregistered"),
    ("DELETE", "/unregistered/{mac}"),
    ("POST", "/unregistered/{mac}/adopt"),
    ("GET", "/users"),
    ("POST", "/users"),
    ("GET", "/users/next-extension"),
    ("POST", "/users/bulk"),
    ("GET", "/users/{extension}"),
    ("PATCH", "/users/{extension}"),
    ("DELETE", "/users/{extension}"),
    ("GET", "/users/{extension}/sip-password"),
    ("POST", "/users/{extension}/lock"),
    ("POST", "/users/{extension}/unlock"),
    ("POST", "/users/{extension}/logout"),
    ("GET", "/settings"),
    ("PATCH", "/settings"),
    ("GET", "/settings/choices"),
    ("GET", "/profiles"),
    ("POST", "/profiles"),
    ("GET", "/profiles/{name}"),
    ("PATCH", "/profiles/{name}"),
    ("DELETE", "/profiles/{name}"),
    ("GET", "/models"),
    ("GET", "/models/{model}/settings"),
    ("PATCH", "/models/{model}/settings"),
    ("GET", "/templates"),
    ("POST", "/templates/reload"),
    ("GET", "/export/{subject}"),
    ("POST", "/import/{subject}"),
    ("GET", "/imports"),
    ("GET", "/imports/{id}"),
    ("GET", "/tokens"),
    ("POST", "/tokens"),
    ("DELETE", "/tokens/{token}"),
    ("GET", "/audit"),
    ("GET", "/bans"),
    ("DELETE", "/bans/{source}"),
    // An IPv6 /64 written with its slash unencoded.
    ("DELETE", "/bans/{prefix}/64"),
];

/// The route `path` names and the values of its `{name}` segments; 405 when the path exists
/// for other methods only.
fn resolve(method: &Method, path: &str) -> Result<(&'static str, Vec<String>), ApiError> {
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    let mut path_exists = false;
    for (route_method, pattern) in ROUTES {
        let parts: Vec<&str> = pattern.split('/').skip(1).collect();
        if parts.len() != segments.len() {
            continue;
        }
        let mut params = Vec::new();
        let matched = parts.iter().zip(&segments).all(|(part, segment)| {
            if part.starts_with('{') {
                params.push(decode_segment(segment));
                !segment.is_empty()
            } else {
                part == segment
            }
        });
        if !matched {
            continue;
        }
        path_exists = true;
        if method.as_str() == *route_method {
            return Ok((pattern, params));
        }
    }
    if path_exists {
        Err(ApiError::MethodNotAllowed)
    } else {
        Err(ApiError::NotFound(format!(
            "no such endpoint: /api/v1{path}"
        )))
    }
}

async fn route(app: &Arc<App>, parts: &Parts, body: &Bytes, caller: &Caller) -> ApiResult {
    let path = parts.uri.path().trim_end_matches('/');
    let Some(rest) = path.strip_prefix("/api/v1") else {
        return Err(ApiError::NotFound(format!("no such endpoint: {path}")));
    };
    let (pattern, params) = resolve(&parts.method, rest)?;
    let p: Vec<&str> = params.iter().map(String::as_str).collect();
    let query = parts.uri.query().unwrap_or("");
    let method = parts.method.as_str();
    match (method, pattern) {
        ("GET", "/openapi.json") => Ok(respond::raw_json(OPENAPI)),
        ("GET", "/devices") => devices::list(app, query),
        ("POST", "/devices") => devices::create(app, parse(body)?).await,
        ("POST", "/devices/bulk") => devices::create_many(app, parse(body)?).await,
        ("GET", "/devices/{mac}") => devices::show(app, p[0]),
        ("PATCH", "/devices/{mac}") => devices::patch(app, p[0], parse(body)?).await,
        ("DELETE", "/devices/{mac}") => devices::delete(app, p[0]).await,
        ("PUT", "/devices/{mac}/lines/{line}") => {
            devices::assign(app, p[0], p[1], parse(body)?).await
        }
        ("DELETE", "/devices/{mac}/lines/{line}") => devices::unassign(app, p[0], p[1]).await,
        ("POST", "/devices/{mac}/reset-claim") => devices::reset_claim(app, p[0]).await,
        ("GET", "/devices/{mac}/credentials") => devices::credentials(app, p[0]),
        ("POST", "/devices/{mac}/logout") => devices::logout(app, p[0], query).await,
        ("GET", "/devices/{mac}/render") => devices::render(app, p[0], query),
        ("GET", "/devices/{mac}/settings") => devices::settings(app, p[0]),
        ("PATCH", "/devices/{mac}/settings") => {
            devices::patch_settings(app, p[0], parse(body)?).await
        }
        ("GET", "/unregistered") => devices::list_unregistered(app),
        ("DELETE", "/unregistered/{mac}") => devices::forget_unregistered(app, p[0]).await,
        ("POST", "/unregistered/{mac}/adopt") => {
            devices::adopt(app, p[0], parse_or_default(body)?).await
        }
        ("GET", "/users") => users::list(app),
        ("POST", "/users") => users::create(app, parse(body)?).await,
        ("GET", "/users/next-extension") => users::next_extension(app),
        ("POST", "/users/bulk") => users::bulk(app, parse(body)?).await,
        ("GET", "/users/{extension}") => users::show(app, p[0]),
        ("PATCH", "/users/{extension}") => users::patch(app, p[0], parse(body)?).await,
        ("DELETE", "/users/{extension}") => users::delete(app, p[0]).await,
        ("GET", "/users/{extension}/sip-password") => users::sip_password(app, p[0]),
        ("POST", "/users/{extension}/lock") => users::lock(app, p[0]).await,
        ("POST", "/users/{extension}/unlock") => users::unlock(app, p[0]).await,
        ("POST", "/users/{extension}/logout") => users::logout(app, p[0]).await,
        ("GET", "/settings") => Ok(respond::json(
            StatusCode::OK,
            &app.store.settings()?.redacted(),
        )),
        ("PATCH", "/settings") => patch_settings(app, parse(body)?).await,
        ("GET", "/settings/choices") => profiles::choices(),
        ("GET", "/profiles") => profiles::list(app),
        ("POST", "/profiles") => profiles::create(app, parse(body)?).await,
        ("GET", "/profiles/{name}") => profiles::show(app, p[0]),
        ("PATCH", "/profiles/{name}") => profiles::patch(app, p[0], parse(body)?).await,
        ("DELETE", "/profiles/{name}") => profiles::delete(app, p[0]).await,
        ("GET", "/models") => Ok(respond::json(
            StatusCode::OK,
            &crate::models::all().collect::<Vec<_>>(),
        )),
        ("GET", "/models/{model}/settings") => profiles::model_settings(app, p[0]),
        ("PATCH", "/models/{model}/settings") => {
            profiles::patch_model_settings(app, p[0], parse(body)?).await
        }
        ("GET", "/templates") => templates::list(app),
        ("POST", "/templates/reload") => templates::reload(app),
        ("GET", "/export/{subject}") => csv_io::export(app, p[0], query),
        ("POST", "/import/{subject}") => {
            csv_io::start_import(app, p[0], query, body, &caller.actor, caller.address)
        }
        ("GET", "/imports") => csv_io::list_imports(app),
        ("GET", "/imports/{id}") => csv_io::show_import(app, p[0]),
        ("GET", "/tokens") => token::list(app),
        ("POST", "/tokens") => token::create(app, parse(body)?).await,
        ("DELETE", "/tokens/{token}") => token::revoke(app, p[0]).await,
        ("GET", "/audit") => security::audit(app, query),
        ("GET", "/bans") => security::bans(app),
        ("DELETE", "/bans/{source}") => security::lift_ban(app, p[0]).await,
        ("DELETE", "/bans/{prefix}/64") => security::lift_ban(app, &format!("{}/64", p[0])).await,
        _ => Err(ApiError::Internal(format!(
            "route {method} {pattern} has no handler"
        ))),
    }
}

/// A path parameter percent-decoded once (the CLI encodes every non-alphanumeric character).
fn decode_segment(segment: &str) -> String {
    percent_encoding::percent_decode_str(segment)
        .decode_utf8_lossy()
        .into_owned()
}

/// The OpenAPI document of this API, served as is.
pub const OPENAPI: &str = include_str!("../../docs/openapi.json");

/// Who called: the admin token's name and the peer address.
struct Caller {
    actor: String,
    address: IpAddr,
}

async fn patch_settings(app: &App, patch: crate::settings::SettingsPatch) -> ApiResult {
    let _guard = app.admin_writes.lock().await;
    let next = app.store.settings()?.patched(&patch)?;
    app.store.put_settings(&next)?;
    app.store.flush().await?;
    tracing::info!(target: "deskprov::audit", "settings changed");
    Ok(respond::json(StatusCode::OK, &next.redacted()))
}

/// CSV imports may be larger than any JSON body.
fn body_limit(path: &str, app: &App) -> usize {
    if path.starts_with("/api/v1/import/") {
        app.config.limits.max_import_bytes
    } else {
        app.config.limits.max_admin_body_bytes
    }
}

/// Reads a bounded body within the body timeout.
async fn read_body<B>(app: &App, body: B, limit: usize) -> Result<Bytes, ApiError>
where
    B: hyper::body::Body<Data = Bytes> + Send,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let collect = Limited::new(body, limit).collect();
    match tokio::time::timeout(app.config.limits.body_read_timeout(), collect).await {
        Err(_) => Err(ApiError::Timeout),
        Ok(Err(e))
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            Err(ApiError::TooLarge(limit))
        }
        Ok(Err(e)) => Err(ApiError::BadRequest(format!(
            "reading the request body: {e}"
        ))),
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
    }
}

/// Decodes `body` as every admin request type, and applies it as a settings patch: the admin
/// JSON decoding the fuzz target `admin_json` drives. Must never panic, whatever the bytes.
#[doc(hidden)]
pub fn decode_every_body(body: &[u8]) {
    let _ = parse::<devices::NewDevice>(body);
    let _ = parse::<devices::DevicePatch>(body);
    let _ = parse::<devices::LineAssignment>(body);
    let _ = parse_or_default::<devices::Adoption>(body);
    let _ = parse::<users::NewUser>(body);
    let _ = parse::<users::UserPatch>(body);
    let _ = parse::<users::BulkAction>(body);
    let _ = parse::<devices::NewDevices>(body);
    let _ = parse::<profiles::NewProfile>(body);
    let _ = parse::<profiles::ProfilePatch>(body);
    let _ = parse::<token::NewToken>(body);
    if let Ok(patch) = parse::<crate::settings::SettingsPatch>(body) {
        let _ = crate::settings::Settings::default().patched(&patch);
    }
    let _ = audit::summarize_change(body);
}

/// The percent-decoded value of `key` in a query string.
fn query_value(query: &str, key: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == key).then(|| {
            percent_encoding::percent_decode_str(v)
                .decode_utf8_lossy()
                .into_owned()
        })
    })
}

fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    if body.is_empty() {
        return Err(ApiError::BadRequest("a JSON body is required".into()));
    }
    serde_json::from_slice(body)
        .map_err(|e| ApiError::BadRequest(format!("invalid JSON body: {e}")))
}

fn parse_or_default<T: DeserializeOwned + Default>(body: &[u8]) -> Result<T, ApiError> {
    if body.is_empty() {
        Ok(T::default())
    } else {
        parse(body)
    }
}
