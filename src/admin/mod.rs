//! The admin API: JSON over HTTPS under /api/v1, bearer-token auth, on its own listener.
//!
//! A request is authenticated, matched against the endpoint table (`endpoint.rs`) into a typed
//! [`Endpoint`], its body read within the endpoint's limit, and dispatched to its handler, which
//! parses the body into the operation's typed input and calls the operations layer
//! (`crate::ops`). Operations validate completely before they write, write through the write
//! unit, and record each change in the audit trail; this module only maps their errors to HTTP.

mod accounts;
mod backup;
mod contacts;
mod csv_io;
mod devices;
pub mod endpoint;
mod firmware;
mod keys;
mod mail;
mod metrics;
pub mod openapi;
mod paging;
mod profiles;
pub mod roles;
pub mod schemas;
mod security;
mod status;
mod templates;
mod token;
mod totp;
mod users;

use std::net::IpAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::request::Parts;
use http::{Method, Request, StatusCode};
use serde::de::DeserializeOwned;

use crate::app::App;
use crate::audit;
use crate::error::ApiError;
use crate::model::LinkPurpose;
use crate::notify::Action;
use crate::ops::Actor;
use crate::ops::keys::KeyOwner;
use crate::respond::{self, HttpResponse};
use endpoint::{Audit, Auth, Endpoint};

type ApiResult = Result<HttpResponse, ApiError>;

pub async fn handle<B>(app: Arc<App>, request: Request<B>, address: IpAddr) -> HttpResponse
where
    B: hyper::body::Body<Data = Bytes> + Send,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    if let Some(response) =
        crate::health::answer(&app, request.method(), request.uri().path()).await
    {
        return response;
    }
    let (parts, body) = request.into_parts();
    if !endpoint::owns(parts.uri.path()) {
        let mut response = crate::console::handle(&app, &parts, body, address).await;
        if parts.method == Method::HEAD {
            *response.body_mut() = Default::default();
        }
        return response;
    }
    let result = answer(&app, &parts, body, address).await;
    let mut response = result.unwrap_or_else(ApiError::into_response);
    if parts.method == Method::HEAD {
        *response.body_mut() = Default::default();
    }
    let path = parts.uri.path();
    tracing::info!(method = %parts.method, path, status = response.status().as_u16(), "admin request");
    response
}

async fn answer<B>(app: &Arc<App>, parts: &Parts, body: B, address: IpAddr) -> ApiResult
where
    B: hyper::body::Body<Data = Bytes> + Send,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let path = parts.uri.path().trim_end_matches('/');
    let parsed = Endpoint::route(&parts.method, path);
    // Whoever has no token learns nothing, not even which paths exist.
    let auth = parsed.as_ref().map_or(Auth::AdminToken, |e| e.def().auth);
    let token = match auth {
        Auth::TokenOrScrapeAddress if metrics::scrape_address(app, address) => metrics::scraper(),
        Auth::AdminToken | Auth::TokenOrScrapeAddress => {
            token::authenticate(app, &parts.headers, address).await?
        }
    };
    let endpoint = parsed?;
    let def = endpoint.def();
    let query = parts.uri.query().unwrap_or("");
    let secret_read = reveals_secret(def.audit, query)?;
    roles::authorize(&token, def, secret_read)?;
    let actor = Actor::token(&token.name, token.role, address);
    if let Endpoint::UploadFirmware { file } = &endpoint {
        return firmware::upload(app, &actor, file, &parts.headers, body).await;
    }
    let limit = endpoint::body_limit(app, def);
    let timeout = app.config.limits.body_read_timeout();
    let body = crate::body::read(&parts.headers, body, limit, timeout).await?;
    let subject = endpoint.subject();
    let result = dispatch(app, endpoint, query, &body, &actor).await;
    if result.is_ok() && secret_read {
        let what = format!("{} {path}", def.name);
        let subject = subject.unwrap_or_else(|| def.name.to_string());
        crate::ops::audit::secret_read(app, &actor, &what, subject).await;
    }
    result
}

/// Whether the call handed out a secret: who read which is worth knowing.
fn reveals_secret(audit: Audit, query: &str) -> Result<bool, ApiError> {
    Ok(match audit {
        Audit::SecretRead => true,
        Audit::SecretReadWithSecrets => query_flag(query, "secrets")?.unwrap_or(false),
        Audit::None | Audit::Change => false,
    })
}

/// Calls the endpoint's handler; the match is exhaustive, so no endpoint can lack one.
async fn dispatch(
    app: &Arc<App>,
    endpoint: Endpoint,
    query: &str,
    body: &Bytes,
    by: &Actor,
) -> ApiResult {
    use Endpoint as E;
    match endpoint {
        E::OpenApi => Ok(respond::json(StatusCode::OK, openapi::document())),
        E::Metrics => metrics::scrape(app).await,
        E::ListDevices => devices::list(app, query).await,
        E::CreateDevice => devices::create(app, by, parse(body)?).await,
        E::CreateDevices => devices::create_many(app, by, parse(body)?).await,
        E::DeleteDevices => devices::delete_many(app, by, parse(body)?).await,
        E::ResetDeviceClaims => devices::reset_claims(app, by, parse(body)?).await,
        E::LogoutDevices => devices::logout_many(app, by, parse(body)?).await,
        E::ShowDevice { mac } => devices::show(app, mac).await,
        E::PatchDevice { mac } => devices::patch(app, by, mac, parse(body)?).await,
        E::DeleteDevice { mac } => devices::delete(app, by, mac).await,
        E::AssignLine { mac, line } => devices::assign(app, by, mac, &line, parse(body)?).await,
        E::UnassignLine { mac, line } => devices::unassign(app, by, mac, &line).await,
        E::ResetClaim { mac } => devices::reset_claim(app, by, mac).await,
        E::RekeyDevice { mac } => devices::rekey(app, by, mac).await,
        E::ResyncDevice { mac } => devices::tell_one(app, by, mac, Action::Resync).await,
        E::RebootDevice { mac } => devices::tell_one(app, by, mac, Action::Reboot).await,
        E::ResyncDevices => devices::tell_many(app, by, parse(body)?, Action::Resync).await,
        E::RebootDevices => devices::tell_many(app, by, parse(body)?, Action::Reboot).await,
        E::ReplaceDevice { mac } => devices::replace(app, by, mac, parse(body)?).await,
        E::ListFirmware => firmware::list(app).await,
        E::DeleteFirmware { file } => firmware::remove(app, by, &file).await,
        // Streamed by `answer` before bodies are read.
        E::UploadFirmware { .. } => Err(ApiError::Internal("firmware upload not streamed".into())),
        E::Credentials { mac } => devices::credentials(app, mac).await,
        E::LogoutDevice { mac } => {
            let line = only(query, "line")?;
            devices::logout(app, by, mac, line.as_deref()).await
        }
        E::RenderDevice { mac } => devices::render(app, mac, query).await,
        E::DeviceSettings { mac } => devices::settings(app, mac).await,
        E::DeviceEvents { mac } => devices::events(app, mac).await,
        E::PatchDeviceSettings { mac } => devices::patch_settings(app, by, mac, parse(body)?).await,
        E::ListUnregistered => devices::list_unregistered(app, query).await,
        E::ForgetUnregistered { mac } => devices::forget_unregistered(app, by, mac).await,
        E::Adopt { mac } => devices::adopt(app, by, mac, parse_or_default(body)?).await,
        E::ListUsers => users::list(app, query).await,
        E::CreateUser => users::create(app, by, parse(body)?).await,
        E::NextExtension => users::next_extension(app).await,
        E::BulkUsers => users::bulk(app, by, parse(body)?).await,
        E::ShowUser { extension } => users::show(app, &extension).await,
        E::PatchUser { extension } => users::patch(app, by, &extension, parse(body)?).await,
        E::DeleteUser { extension } => users::delete(app, by, &extension).await,
        E::SipPassword { extension } => users::sip_password(app, &extension).await,
        E::LockUser { extension } => users::set_lock(app, by, &extension, true).await,
        E::UnlockUser { extension } => users::set_lock(app, by, &extension, false).await,
        E::ResetUserPin { extension } => users::reset_pin(app, by, &extension).await,
        E::LogoutUser { extension } => users::logout(app, by, &extension).await,
        E::SetPortalPassword { extension } => {
            users::set_portal_password(app, by, &extension, parse(body)?).await
        }
        E::ShowSettings => Ok(respond::json(
            StatusCode::OK,
            &app.store.settings().await?.redacted(),
        )),
        E::PatchSettings => {
            let patch: crate::settings::SettingsPatch = parse(body)?;
            let next = crate::ops::profiles::change_site_settings(app, by, &patch).await?;
            Ok(respond::json(StatusCode::OK, &next.redacted()))
        }
        E::SettingChoices => profiles::choices(),
        E::ListContacts => contacts::list(app, query).await,
        E::CreateContact => contacts::create(app, by, parse(body)?).await,
        E::ShowContact { id } => contacts::show(app, &contacts::id(&id)?).await,
        E::PatchContact { id } => contacts::patch(app, by, &contacts::id(&id)?, parse(body)?).await,
        E::DeleteContact { id } => contacts::delete(app, by, &contacts::id(&id)?).await,
        E::DeviceKeys { mac } => keys::show_device(app, mac, query).await,
        E::PutDeviceKeys { mac } => keys::set(app, by, KeyOwner::Device(mac), body).await,
        E::ProfileKeys { name } => keys::show(app, KeyOwner::Profile(name)).await,
        E::PutProfileKeys { name } => keys::set(app, by, KeyOwner::Profile(name), body).await,
        E::ModelKeys { model } => keys::show(app, keys::model(&model)?).await,
        E::PutModelKeys { model } => keys::set(app, by, keys::model(&model)?, body).await,
        E::UserKeys { extension } => keys::show(app, KeyOwner::User(extension)).await,
        E::PutUserKeys { extension } => keys::set(app, by, KeyOwner::User(extension), body).await,
        E::SiteKeys => keys::show(app, KeyOwner::Site).await,
        E::PutSiteKeys => keys::set(app, by, KeyOwner::Site, body).await,
        E::ListProfiles => profiles::list(app, query).await,
        E::CreateProfile => profiles::create(app, by, parse(body)?).await,
        E::ShowProfile { name } => profiles::show(app, &name).await,
        E::PatchProfile { name } => profiles::patch(app, by, &name, parse(body)?).await,
        E::DeleteProfile { name } => profiles::delete(app, by, &name).await,
        E::ListModels => profiles::models(query),
        E::ModelSettings { model } => profiles::model_settings(app, &model).await,
        E::PatchModelSettings { model } => {
            profiles::patch_model_settings(app, by, &model, parse(body)?).await
        }
        E::ShowStatus => Ok(status::show(app)),
        E::ListTemplates => templates::list(app),
        E::ReloadTemplates => templates::reload(app, by).await,
        E::Export { subject } => csv_io::export(app, &subject, query).await,
        E::Import { subject } => csv_io::start_import(app, &subject, query, body, by).await,
        E::ListImports => csv_io::list_imports(app, query).await,
        E::ShowImport { id } => csv_io::show_import(app, &id).await,
        E::SendTestMail => mail::test(app, by, parse(body)?).await,
        E::MailWelcome => mail::links(app, by, LinkPurpose::Welcome, parse(body)?).await,
        E::MailReset => mail::links(app, by, LinkPurpose::Reset, parse(body)?).await,
        E::ListMail => mail::list(app, query).await,
        E::ListTokens => token::list(app, query).await,
        E::CreateToken => token::create(app, by, parse(body)?).await,
        E::RevokeToken { token } => {
            let force = only(query, "force")?
                .map(|value| flag("force", &value))
                .transpose()?;
            token::revoke(app, by, &token, force.unwrap_or(false)).await
        }
        E::ListAccounts => accounts::list(app, query).await,
        E::CreateAccount => accounts::create(app, by, parse(body)?).await,
        E::ShowAccount { username } => accounts::show(app, &username).await,
        E::PatchAccount { username } => accounts::patch(app, by, &username, parse(body)?).await,
        E::DeleteAccount { username } => accounts::delete(app, by, &username).await,
        E::ResetAccountPassword { username } => accounts::reset_password(app, by, &username).await,
        E::ListAudit => security::audit(app, query).await,
        E::TakeBackup => backup::take(app, by).await,
        E::RequireTotp { username } => totp::require(app, by, &username, parse(body)?).await,
        E::ResetTotp { username } => totp::reset(app, by, &username).await,
        E::ListBans => security::bans(app, query).await,
        E::LiftBan { source } => security::lift_ban(app, by, &source).await,
        E::LiftBan64 { prefix } => security::lift_ban(app, by, &format!("{prefix}/64")).await,
        E::ListTokenBlocks => security::token_blocks(app, query).await,
        E::LiftTokenBlock { source } => security::lift_token_block(app, by, &source).await,
    }
}

/// The value of the one query parameter `key` an endpoint that is no list takes; any other
/// parameter is refused.
fn only(query: &str, key: &str) -> Result<Option<String>, ApiError> {
    let (page, pairs) = paging::parse(query, &[key])?;
    if page != paging::Page::default() {
        return Err(ApiError::BadRequest(format!(
            "this endpoint takes only {key}"
        )));
    }
    Ok(pairs.into_iter().next().map(|(_, value)| value))
}

fn flag(key: &str, value: &str) -> Result<bool, ApiError> {
    match value {
        "true" => Ok(true),
        "false" => Ok(false),
        other => Err(ApiError::BadRequest(format!(
            "{key}: must be true or false, not {other:?}"
        ))),
    }
}

/// A boolean query parameter: `true` or `false`, anything else is refused.
pub(crate) fn query_flag(query: &str, key: &str) -> Result<Option<bool>, ApiError> {
    query_value(query, key)
        .map(|value| flag(key, &value))
        .transpose()
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
    let _ = parse::<totp::TotpRequirement>(body);
    let _ = parse::<accounts::NewAccount>(body);
    let _ = parse::<accounts::AccountPatch>(body);
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
