//! The admin API: JSON over HTTPS under /api/v1, bearer-token auth, on its own listener.
//!
//! Every write is validated completely before anything is stored, runs under the admin write
//! lock, and is flushed to disk before the response acknowledges it. Every acknowledged write
//! is also recorded in the audit trail with the token's name, the address and the fields it
//! set (secrets only as "set").

mod csv_io;
mod devices;
mod paging;
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
use crate::domain::{Extension, Mac, ProfileName};
use crate::error::ApiError;
use crate::ops::Actor;
use crate::respond::{self, HttpResponse};

pub use csv_io::Imports;

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
                let actor = Actor::token(actor, address);
                let result = route(&app, &parts, &body, &actor).await;
                if result.is_ok() && reveals_secret(&parts) {
                    crate::ops::audit::record(
                        &app,
                        Event::by(Kind::SecretRead, actor.name(), parts.uri.path())
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

fn mac(raw: &str) -> Result<Mac, ApiError> {
    Ok(Mac::parse(raw)?)
}

fn extension(raw: &str) -> Result<Extension, ApiError> {
    Ok(Extension::parse(raw)?)
}

fn profile(raw: &str) -> Result<ProfileName, ApiError> {
    Ok(ProfileName::parse(raw)?)
}

async fn route(app: &Arc<App>, parts: &Parts, body: &Bytes, by: &Actor) -> ApiResult {
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
        ("POST", "/devices") => devices::create(app, by, parse(body)?).await,
        ("POST", "/devices/bulk") => devices::create_many(app, by, parse(body)?).await,
        ("GET", "/devices/{mac}") => devices::show(app, mac(p[0])?),
        ("PATCH", "/devices/{mac}") => devices::patch(app, by, mac(p[0])?, parse(body)?).await,
        ("DELETE", "/devices/{mac}") => devices::delete(app, by, mac(p[0])?).await,
        ("PUT", "/devices/{mac}/lines/{line}") => {
            devices::assign(app, by, mac(p[0])?, p[1], parse(body)?).await
        }
        ("DELETE", "/devices/{mac}/lines/{line}") => {
            devices::unassign(app, by, mac(p[0])?, p[1]).await
        }
        ("POST", "/devices/{mac}/reset-claim") => devices::reset_claim(app, by, mac(p[0])?).await,
        ("GET", "/devices/{mac}/credentials") => devices::credentials(app, mac(p[0])?),
        ("POST", "/devices/{mac}/logout") => {
            let line = query_value(query, "line");
            devices::logout(app, by, mac(p[0])?, line.as_deref()).await
        }
        ("GET", "/devices/{mac}/render") => devices::render(app, mac(p[0])?, query),
        ("GET", "/devices/{mac}/settings") => devices::settings(app, mac(p[0])?),
        ("PATCH", "/devices/{mac}/settings") => {
            devices::patch_settings(app, by, mac(p[0])?, parse(body)?).await
        }
        ("GET", "/unregistered") => devices::list_unregistered(app, query),
        ("DELETE", "/unregistered/{mac}") => {
            devices::forget_unregistered(app, by, mac(p[0])?).await
        }
        ("POST", "/unregistered/{mac}/adopt") => {
            devices::adopt(app, by, mac(p[0])?, parse_or_default(body)?).await
        }
        ("GET", "/users") => users::list(app, query),
        ("POST", "/users") => users::create(app, by, parse(body)?).await,
        ("GET", "/users/next-extension") => users::next_extension(app),
        ("POST", "/users/bulk") => users::bulk(app, by, parse(body)?).await,
        ("GET", "/users/{extension}") => users::show(app, &extension(p[0])?),
        ("PATCH", "/users/{extension}") => {
            users::patch(app, by, &extension(p[0])?, parse(body)?).await
        }
        ("DELETE", "/users/{extension}") => users::delete(app, by, &extension(p[0])?).await,
        ("GET", "/users/{extension}/sip-password") => users::sip_password(app, &extension(p[0])?),
        ("POST", "/users/{extension}/lock") => {
            users::set_lock(app, by, &extension(p[0])?, true).await
        }
        ("POST", "/users/{extension}/unlock") => {
            users::set_lock(app, by, &extension(p[0])?, false).await
        }
        ("POST", "/users/{extension}/logout") => users::logout(app, by, &extension(p[0])?).await,
        ("GET", "/settings") => Ok(respond::json(
            StatusCode::OK,
            &app.store.settings()?.redacted(),
        )),
        ("PATCH", "/settings") => {
            let patch: crate::settings::SettingsPatch = parse(body)?;
            let next = crate::ops::profiles::change_site_settings(app, by, &patch).await?;
            Ok(respond::json(StatusCode::OK, &next.redacted()))
        }
        ("GET", "/settings/choices") => profiles::choices(),
        ("GET", "/profiles") => profiles::list(app, query),
        ("POST", "/profiles") => profiles::create(app, by, parse(body)?).await,
        ("GET", "/profiles/{name}") => profiles::show(app, &profile(p[0])?),
        ("PATCH", "/profiles/{name}") => {
            profiles::patch(app, by, &profile(p[0])?, parse(body)?).await
        }
        ("DELETE", "/profiles/{name}") => profiles::delete(app, by, &profile(p[0])?).await,
        ("GET", "/models") => {
            let (page, _) = paging::parse(query, &[])?;
            let rows: Vec<_> = crate::models::all().collect();
            let (rows, next) =
                paging::of_list(rows, |r| format!("{}/{}", r.vendor, r.model), &page);
            Ok(paging::answer(rows, next))
        }
        ("GET", "/models/{model}/settings") => profiles::model_settings(app, p[0]),
        ("PATCH", "/models/{model}/settings") => {
            profiles::patch_model_settings(app, by, p[0], parse(body)?).await
        }
        ("GET", "/templates") => templates::list(app),
        ("POST", "/templates/reload") => templates::reload(app, by).await,
        ("GET", "/export/{subject}") => csv_io::export(app, p[0], query),
        ("POST", "/import/{subject}") => csv_io::start_import(app, p[0], query, body, by),
        ("GET", "/imports") => csv_io::list_imports(app, query),
        ("GET", "/imports/{id}") => csv_io::show_import(app, p[0]),
        ("GET", "/tokens") => token::list(app, query),
        ("POST", "/tokens") => token::create(app, by, parse(body)?).await,
        ("DELETE", "/tokens/{token}") => {
            let force = query_flag(query, "force")?.unwrap_or(false);
            token::revoke(app, by, p[0], force).await
        }
        ("GET", "/audit") => security::audit(app, query),
        ("GET", "/bans") => security::bans(app, query),
        ("DELETE", "/bans/{source}") => security::lift_ban(app, by, p[0]).await,
        ("DELETE", "/bans/{prefix}/64") => {
            security::lift_ban(app, by, &format!("{}/64", p[0])).await
        }
        _ => Err(ApiError::Internal(format!(
            "route {method} {pattern} has no handler"
        ))),
    }
}

/// A boolean query parameter: `true` or `false`, anything else is refused.
pub(crate) fn query_flag(query: &str, key: &str) -> Result<Option<bool>, ApiError> {
    match query_value(query, key).as_deref() {
        None => Ok(None),
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(other) => Err(ApiError::BadRequest(format!(
            "{key}: must be true or false, not {other:?}"
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
