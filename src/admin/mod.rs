//! The admin API: JSON over HTTPS under /api/v1, bearer-token auth, on its own listener.
//!
//! Every write is validated completely before anything is stored, runs under the admin write
//! lock, and is flushed to disk before the response acknowledges it. Every acknowledged write
//! is also recorded in the audit trail with the token's name, the address and the fields it
//! set (secrets only as "set").

mod devices;
mod security;
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
        Ok(actor) => match read_body(&app, body).await {
            Ok(body) => {
                let result = route(&app, &parts, &body).await;
                if result.is_ok() && is_write(&parts.method) {
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
    parts.method == Method::GET
        && (path.ends_with("/credentials") || path.ends_with("/sip-password"))
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

async fn route(app: &App, parts: &Parts, body: &Bytes) -> ApiResult {
    let path = parts.uri.path().trim_end_matches('/');
    let Some(rest) = path.strip_prefix("/api/v1/") else {
        return Err(ApiError::NotFound(format!("no such endpoint: {path}")));
    };
    let segments: Vec<&str> = rest.split('/').collect();
    let query = parts.uri.query().unwrap_or("");
    let m = &parts.method;
    match segments.as_slice() {
        ["devices"] if m == Method::GET => devices::list(app),
        ["devices"] if m == Method::POST => devices::create(app, parse(body)?).await,
        ["devices", mac] if m == Method::GET => devices::show(app, mac),
        ["devices", mac] if m == Method::PATCH => devices::patch(app, mac, parse(body)?).await,
        ["devices", mac] if m == Method::DELETE => devices::delete(app, mac).await,
        ["devices", mac, "lines", n] if m == Method::PUT => {
            devices::assign(app, mac, n, parse(body)?).await
        }
        ["devices", mac, "lines", n] if m == Method::DELETE => devices::unassign(app, mac, n).await,
        ["devices", mac, "reset-claim"] if m == Method::POST => {
            devices::reset_claim(app, mac).await
        }
        ["devices", mac, "credentials"] if m == Method::GET => devices::credentials(app, mac),
        ["devices", mac, "logout"] if m == Method::POST => devices::logout(app, mac, query).await,
        ["devices", mac, "render"] if m == Method::GET => devices::render(app, mac, query),
        ["unregistered"] if m == Method::GET => devices::list_unregistered(app),
        ["unregistered", mac] if m == Method::DELETE => {
            devices::forget_unregistered(app, mac).await
        }
        ["unregistered", mac, "adopt"] if m == Method::POST => {
            devices::adopt(app, mac, parse_or_default(body)?).await
        }
        ["users"] if m == Method::GET => users::list(app),
        ["users"] if m == Method::POST => users::create(app, parse(body)?).await,
        ["users", ext] if m == Method::GET => users::show(app, ext),
        ["users", ext] if m == Method::PATCH => users::patch(app, ext, parse(body)?).await,
        ["users", ext] if m == Method::DELETE => users::delete(app, ext).await,
        ["users", ext, "sip-password"] if m == Method::GET => users::sip_password(app, ext),
        ["users", ext, "unlock"] if m == Method::POST => users::unlock(app, ext).await,
        ["users", ext, "logout"] if m == Method::POST => users::logout(app, ext).await,
        ["settings"] if m == Method::GET => {
            Ok(respond::json(StatusCode::OK, &app.store.settings()?))
        }
        ["settings"] if m == Method::PATCH => patch_settings(app, parse(body)?).await,
        ["models"] if m == Method::GET => Ok(respond::json(
            StatusCode::OK,
            &crate::models::all().collect::<Vec<_>>(),
        )),
        ["tokens"] if m == Method::GET => token::list(app),
        ["tokens"] if m == Method::POST => token::create(app, parse(body)?).await,
        ["tokens", which] if m == Method::DELETE => token::revoke(app, which).await,
        ["audit"] if m == Method::GET => security::audit(app, query),
        ["bans"] if m == Method::GET => security::bans(app),
        ["bans", source] if m == Method::DELETE => security::lift_ban(app, source).await,
        // An IPv6 /64 written with its slash unencoded.
        ["bans", prefix, "64"] if m == Method::DELETE => {
            security::lift_ban(app, &format!("{prefix}/64")).await
        }
        [
            "devices" | "users" | "settings" | "models" | "unregistered" | "tokens" | "audit"
            | "bans",
            ..,
        ] => Err(ApiError::MethodNotAllowed),
        _ => Err(ApiError::NotFound(format!("no such endpoint: {path}"))),
    }
}

async fn patch_settings(app: &App, patch: crate::settings::SettingsPatch) -> ApiResult {
    let _guard = app.admin_writes.lock().await;
    let next = patch.apply(&app.store.settings()?)?;
    app.store.put_settings(&next)?;
    app.store.flush().await?;
    tracing::info!(target: "deskprov::audit", "settings changed");
    Ok(respond::json(StatusCode::OK, &next))
}

/// Reads a bounded body within the body timeout.
async fn read_body<B>(app: &App, body: B) -> Result<Bytes, ApiError>
where
    B: hyper::body::Body<Data = Bytes> + Send,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let limit = app.config.limits.max_admin_body_bytes;
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
    let _ = parse::<token::NewToken>(body);
    if let Ok(patch) = parse::<crate::settings::SettingsPatch>(body) {
        let _ = patch.apply(&crate::settings::Settings::default());
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
