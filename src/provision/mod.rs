//! The phones' listener: a request for a file goes through the source ban (which a request
//! proving to be a device passes), identification, the access decision and rendering. What a
//! request tells about a device is recorded only once it proved to be that device; a MAC it
//! names without that costs the same whether registered or not (`ops::bans::note_named_mac`,
//! `ops::phone::offer_sighting`).
//!
//! Whoever has not proven to be a device gets one answer for every file that is not theirs
//! or does not exist: 401 with the same body and challenges. So a sweep learns nothing about
//! which MACs are registered, and each refused MAC counts towards the sweeper's ban (sources.rs).

use std::borrow::Cow;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, HeaderValue, USER_AGENT};
use http::{Method, Request, StatusCode};
use percent_encoding::percent_decode_str;
use tracing::{debug, error};

use crate::app::App;
use crate::client_cert::ClientCert;
use crate::domain::Mac;
use crate::hotdesk;
use crate::identify::{Identification, identify};
use crate::render::{self, CommonRequest, Rendered};
use crate::respond::{self, HttpResponse};
use crate::store::StoreError;
use crate::vendors::FileRequest;

mod proof;

use proof::{authorize, banned_unless_proven, missing};

/// Longest request path accepted; real phone file names are a few dozen bytes.
const MAX_PATH: usize = 256;

/// What the connection knows about the peer.
#[derive(Debug, Clone, Copy)]
pub struct Peer {
    pub address: IpAddr,
    pub client_cert: ClientCert,
    /// The address the connection arrived at: the base URL of an HTTP/1.0 request without
    /// `Host` (old phones send them).
    pub listener: SocketAddr,
}

pub async fn handle<B>(app: Arc<App>, request: Request<B>, peer: Peer) -> HttpResponse
where
    B: hyper::body::Body<Data = Bytes> + Send,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    // Load balancers check here; the answer tells nothing but up or down, and is not counted.
    let method = request.method();
    if let Some(response) = crate::health::answer(&app, method, request.uri().path()).await {
        return response;
    }
    let mut vendor = None;
    let response = route(&app, request, peer, &mut vendor).await;
    app.metrics.phone_request(vendor, response.status());
    response
}

/// `vendor`: set to the vendor the request was identified as, for the metrics.
async fn route<B>(
    app: &App,
    request: Request<B>,
    peer: Peer,
    vendor: &mut Option<&'static str>,
) -> HttpResponse
where
    B: hyper::body::Body<Data = Bytes> + Send,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let method = request.method().clone();
    // The users' portal: before the source bans, which it neither trips nor obeys.
    if crate::portal::owns(request.uri().path()) {
        let (parts, body) = request.into_parts();
        return Box::pin(crate::portal::handle(app, &parts, body, peer.address)).await;
    }
    // Names whose grace passed count before the ban is looked at.
    if let Err(e) = crate::ops::bans::settle_named_macs(app, peer.address, app.clock.now()).await {
        error!(error = %e, "counting unproven MACs failed");
    }
    match banned_unless_proven(app, &request, peer).await {
        Ok(Some(refusal)) => return refusal,
        Ok(None) => {}
        Err(e) => error!(error = %e, "reading source bans failed; request served"),
    }
    // Another node changed the site's templates or CA: this node's files would differ.
    if !app.store.site_files_match() {
        let mut r = respond::text(StatusCode::SERVICE_UNAVAILABLE, "temporarily unavailable\n");
        r.headers_mut()
            .insert("retry-after", HeaderValue::from_static("30"));
        return r;
    }
    if hotdesk::phone::owns(request.uri().path()) {
        let response = Box::pin(hotdesk::phone::handle(app, &request, peer)).await;
        // The path carries the login token: only its action is logged.
        debug!(%method, path = "/hotdesk/…", status = response.status().as_u16(), peer = %peer.address, "phone request");
        return response;
    }
    // A clone of the URI shares its bytes: the path outlives the request an upload consumes.
    let uri = request.uri().clone();
    let path = uri.path();
    if let Some(file) = crate::firmware::PublicFile::of_path(path) {
        let mut response = public_file(app, &request, &file).await;
        debug!(%method, path, status = response.status().as_u16(), peer = %peer.address, "phone request");
        if method == Method::HEAD {
            *response.body_mut() = Default::default();
        }
        return response;
    }
    let result = if method == Method::PUT {
        Box::pin(receive_upload(app, request, peer)).await
    } else {
        respond_to(app, &request, peer, vendor).await
    };
    let mut response = match result {
        Ok(response) => response,
        Err(e) => {
            error!(error = %e, path, "serving a phone request failed");
            // 503, never a 404 or partial body: phones keep their last config on 5xx.
            let mut r = respond::text(StatusCode::SERVICE_UNAVAILABLE, "temporarily unavailable\n");
            r.headers_mut()
                .insert("retry-after", HeaderValue::from_static("30"));
            r
        }
    };
    debug!(%method, path, status = response.status().as_u16(), peer = %peer.address, "phone request");
    if method == Method::HEAD {
        *response.body_mut() = Default::default();
    }
    response
}

/// Firmware and the site CA: the same for every phone, secret to none.
async fn public_file<B>(
    app: &App,
    request: &Request<B>,
    file: &crate::firmware::PublicFile,
) -> HttpResponse {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        return method_not_allowed();
    }
    if let crate::firmware::PublicFile::Firmware(name) = file
        && let Err(e) = crate::ops::firmware::ensure_local(app, name).await
    {
        error!(error = %e, file = name, "fetching a firmware file from the shared database failed");
        return respond::text(StatusCode::SERVICE_UNAVAILABLE, "temporarily unavailable\n");
    }
    // Only the CA files come from the settings; firmware needs no read per (range) request.
    let settings = match file {
        crate::firmware::PublicFile::Firmware(_) => crate::settings::Settings::default(),
        _ => match app.store.settings().await {
            Ok(settings) => settings,
            Err(e) => {
                error!(error = %e, "reading settings failed");
                return respond::text(StatusCode::SERVICE_UNAVAILABLE, "temporarily unavailable\n");
            }
        },
    };
    let head_only = request.method() == Method::HEAD;
    let local_ca = app.certificates.local_ca_pem();
    crate::firmware::serve(
        file,
        &app.config.firmware_dir(),
        &render::with_site_ca(&settings, local_ca.as_deref()),
        head_only,
        request.headers(),
    )
    .await
}

async fn respond_to<B>(
    app: &App,
    request: &Request<B>,
    peer: Peer,
    vendor: &mut Option<&'static str>,
) -> Result<HttpResponse, StoreError> {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        return Ok(method_not_allowed());
    }
    let (identification, base_url) = match understand(app, request, peer) {
        Ok(understood) => understood,
        Err(status) => return Ok(respond::text(status, "bad request\n")),
    };
    *vendor = identification.vendor();
    let now = app.clock.now();
    let named = identification.requester_mac();
    if let Some(mac) = named {
        crate::ops::bans::note_named_mac(app, peer.address, mac, now).await?;
    }
    let answer = answer_file(app, request, &identification, &base_url, peer, now).await?;
    // Until here a registered MAC and an unknown one took the same way; a proven request's
    // facts were recorded by `authorize`, an unproven one's MAC goes to the unregistered list.
    match answer.device {
        Some(device) => note_served(app, device, request, answer.response.status(), now),
        None => {
            if let Some(mac) = named {
                crate::ops::phone::offer_sighting(app, mac, &identification, peer.address, now);
            }
        }
    }
    Ok(answer.response)
}

/// What the device that proved itself got, in its event log.
fn note_served<B>(app: &App, mac: Mac, request: &Request<B>, status: StatusCode, now: i64) {
    use crate::device_events::EventKind;
    let kind = match status.as_u16() {
        304 => EventKind::NotModified,
        404 => EventKind::NotFound,
        s if s >= 500 => EventKind::Failed,
        _ => EventKind::Served,
    };
    let file = request.uri().path().rsplit('/').next().unwrap_or_default();
    app.device_events.record(mac, now, kind, file);
}

/// The company phonebook in the device's vendor's format, for the device alone (its
/// credentials, its certificate, or its claim's grace), as its own config is.
async fn phonebook<B>(
    app: &App,
    request: &Request<B>,
    mac: Mac,
    identification: &Identification,
    peer: Peer,
    now: i64,
) -> Result<Answer, StoreError> {
    let device = match authorize(app, request, mac, identification, peer, now, false).await? {
        Ok(device) => device,
        Err(refusal) => return Ok(Answer::unproven(refusal)),
    };
    let response = match device_phonebook(app, request, &device.record, peer).await {
        Some(rendered) => serve(request, rendered, true)?,
        None => not_found(),
    };
    Ok(Answer {
        response,
        device: Some(mac),
    })
}

/// The page of the phonebook the request asks for, in the device's vendor's format, through
/// the render cache; `None` for a vendor without one or a page that does not exist.
async fn device_phonebook<B>(
    app: &App,
    request: &Request<B>,
    device: &crate::model::DeviceRecord,
    peer: Peer,
) -> Option<Result<Arc<Rendered>, render::RenderFailure>> {
    let vendor = device.vendor.as_deref().and_then(crate::vendors::by_id)?;
    let number = crate::phonebook::requested_page(request.uri().query())?;
    // Only paged formats link to a page, and they link by the device's own URL.
    let url = match vendor.phonebook_page_size() {
        Some(_) => Some(format!(
            "{}{}{}.xml",
            base_url(app, request, peer).ok()?,
            crate::phonebook::URL_DIRECTORY,
            device.mac.to_hex()
        )),
        None => None,
    };
    let page = crate::phonebook::PageRequest { number, url };
    app.render_cache.phonebook(app, vendor, page).await
}

/// The local directory the device stores as a file of its own (Poly's `{mac}-directory.xml`),
/// where deskprov writes it: the company phonebook while `phonebook_refresh_minutes` is set, and
/// the device's speed-dial keys. `None`: the file is the one the phone stored.
async fn device_directory<B>(
    app: &App,
    request: &Request<B>,
    device: &crate::store::DeviceSnapshot,
) -> Result<Option<Result<Arc<Rendered>, render::RenderFailure>>, StoreError> {
    let Some(vendor) = device
        .record
        .vendor
        .as_deref()
        .and_then(crate::vendors::by_id)
    else {
        return Ok(None);
    };
    let with_phonebook = app
        .store
        .settings()
        .await?
        .phonebook_refresh_minutes
        .is_some();
    let Some(number) = crate::phonebook::requested_page(request.uri().query()) else {
        return Ok(None);
    };
    let page = crate::phonebook::PageRequest { number, url: None };
    Ok(app
        .render_cache
        .device_directory(app, vendor, device, page, with_phonebook)
        .await)
}

/// A response, and the device the request proved to be, whose file it got.
struct Answer {
    response: HttpResponse,
    device: Option<Mac>,
}

impl Answer {
    fn unproven(response: HttpResponse) -> Answer {
        Answer {
            response,
            device: None,
        }
    }
}

async fn answer_file<B>(
    app: &App,
    request: &Request<B>,
    identification: &Identification,
    base_url: &str,
    peer: Peer,
    now: i64,
) -> Result<Answer, StoreError> {
    if let Some(mac) = crate::phonebook::requested_mac(request.uri().path()) {
        return phonebook(app, request, mac, identification, peer, now).await;
    }
    let Some((vendor, file)) = &identification.file else {
        return Ok(Answer::unproven(missing(app, request, peer, now).await?));
    };
    match file {
        FileRequest::Common { template, hints } => {
            let common = CommonRequest {
                template,
                hints,
                model: identification.model(),
                firmware: identification.firmware(),
                base_url,
            };
            let rendered = app.render_cache.common_file(app, *vendor, &common).await;
            serve(request, rendered, false).map(Answer::unproven)
        }
        FileRequest::Device { mac } => {
            let device = match authorize(
                app,
                request,
                *mac,
                identification,
                peer,
                now,
                // Only a GET that receives the file takes the claim: a HEAD (a link checker,
                // `curl -I`) must not burn a new device's claim.
                request.method() == Method::GET,
            )
            .await?
            {
                Ok(device) => device,
                Err(refusal) => return Ok(Answer::unproven(refusal)),
            };
            let device = crate::ops::phone::issue_missing_login_token(app, device).await?;
            let vendor = device
                .record
                .vendor
                .as_deref()
                .and_then(crate::vendors::by_id)
                .unwrap_or(*vendor);
            let cache = &app.render_cache;
            let rendered = match cache.cached_device_file(app, vendor, &device, base_url) {
                Some(hit) => Ok(hit),
                // On a hit the layers are as at the render, which made this check already.
                None => {
                    let device = crate::ops::phone::note_keys_reached(app, vendor, device).await?;
                    cache
                        .render_device_file(app, vendor, &device, base_url)
                        .await
                }
            };
            Ok(Answer {
                response: serve(request, rendered, true)?,
                device: Some(*mac),
            })
        }
        FileRequest::Stored { mac, name } => {
            let device =
                match authorize(app, request, *mac, identification, peer, now, false).await? {
                    Ok(device) => device,
                    Err(refusal) => return Ok(Answer::unproven(refusal)),
                };
            if vendor.phonebook_stored_name() == Some(name.as_str())
                && let Some(rendered) = device_directory(app, request, &device).await?
            {
                return Ok(Answer {
                    response: serve(request, rendered, true)?,
                    device: Some(*mac),
                });
            }
            let response = match app.store.upload(*mac, name).await? {
                Some(content) => {
                    let mut r = HttpResponse::new(Bytes::from(content).into());
                    r.headers_mut().insert(
                        CONTENT_TYPE,
                        HeaderValue::from_static("application/octet-stream"),
                    );
                    r.headers_mut()
                        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
                    r
                }
                None => not_found(),
            };
            Ok(Answer {
                response,
                device: Some(*mac),
            })
        }
    }
}

/// Identification of the request and the URL it reached us by.
fn understand<B>(
    app: &App,
    request: &Request<B>,
    peer: Peer,
) -> Result<(Identification, String), StatusCode> {
    let file_name = requested_file(request.uri().path())?;
    let base_url = base_url(app, request, peer)?;
    let user_agent = request
        .headers()
        .get(USER_AGENT)
        .map(|v| v.as_bytes())
        .unwrap_or_default();
    Ok((identify(user_agent, &file_name), base_url))
}

/// The URL phones reach this server by: `public_url`, else the scheme and Host of the request.
pub fn base_url<B>(app: &App, request: &Request<B>, peer: Peer) -> Result<String, StatusCode> {
    match &app.config.server.public_url {
        Some(url) => Ok(url.clone()),
        None => base_url_from_host(request, peer.listener),
    }
}

/// A file the phone uploads (Poly logs and overrides): only into the device's own bounded
/// store, only from the device itself.
async fn receive_upload<B>(
    app: &App,
    request: Request<B>,
    peer: Peer,
) -> Result<HttpResponse, StoreError>
where
    B: hyper::body::Body<Data = Bytes> + Send,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let (identification, _) = match understand(app, &request, peer) {
        Ok(understood) => understood,
        Err(status) => return Ok(respond::text(status, "bad request\n")),
    };
    let Some((_, FileRequest::Stored { mac, name })) = &identification.file else {
        return Ok(method_not_allowed());
    };
    let now = app.clock.now();
    let named = identification.requester_mac();
    if let Some(named) = named {
        crate::ops::bans::note_named_mac(app, peer.address, named, now).await?;
    }
    if let Err(refusal) = authorize(app, &request, *mac, &identification, peer, now, false).await? {
        if let Some(named) = named {
            crate::ops::phone::offer_sighting(app, named, &identification, peer.address, now);
        }
        return Ok(refusal);
    }
    let limits = &app.config.limits;
    let (parts, body) = request.into_parts();
    let read = crate::body::read(
        &parts.headers,
        body,
        limits.max_upload_bytes,
        limits.body_read_timeout(),
    );
    let content = match read.await {
        Ok(content) => content,
        Err(crate::body::BodyError::TooLarge(_)) => {
            let mut r = respond::text(StatusCode::PAYLOAD_TOO_LARGE, "file too large\n");
            r.headers_mut()
                .insert(http::header::CONNECTION, HeaderValue::from_static("close"));
            return Ok(r);
        }
        Err(crate::body::BodyError::Timeout) => {
            return Ok(respond::text(
                StatusCode::REQUEST_TIMEOUT,
                "upload too slow\n",
            ));
        }
        Err(crate::body::BodyError::Broken(_)) => {
            return Ok(respond::text(StatusCode::BAD_REQUEST, "bad request\n"));
        }
    };
    crate::ops::phone::store_upload(app, *mac, name, &content, now).await?;
    debug!(%mac, name, bytes = content.len(), "phone upload stored");
    let mut r = HttpResponse::new(Default::default());
    *r.status_mut() = StatusCode::NO_CONTENT;
    Ok(r)
}

fn method_not_allowed() -> HttpResponse {
    respond::method_not_allowed("GET, HEAD")
}

/// The scheme and Host the phone used. A Host that is not a plain host[:port] is refused: it
/// would end up inside configs.
/// `https://` and the request's Host; for an HTTP/1.0 request without one (old phones), the
/// address it arrived at. HTTP/1.1 requires Host.
fn base_url_from_host<B>(request: &Request<B>, listener: SocketAddr) -> Result<String, StatusCode> {
    let host = request
        .headers()
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| request.uri().authority().map(|a| a.as_str()));
    let Some(host) = host else {
        return listener_base_url(request, listener);
    };
    valid_host(host)
        .then(|| ["https://", host, "/"].concat())
        .ok_or(StatusCode::BAD_REQUEST)
}

fn listener_base_url<B>(request: &Request<B>, listener: SocketAddr) -> Result<String, StatusCode> {
    match request.version() {
        http::Version::HTTP_10 => Ok(format!("https://{listener}/")),
        _ => Err(StatusCode::BAD_REQUEST),
    }
}

pub fn valid_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 255
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.:[]_".contains(&b))
}

fn serve<B>(
    request: &Request<B>,
    rendered: Result<Arc<Rendered>, render::RenderFailure>,
    secret: bool,
) -> Result<HttpResponse, StoreError> {
    let rendered = match rendered {
        Ok(r) => r,
        Err(render::RenderFailure::Store(e)) => return Err(e),
        // Only if the token was retired between its check and the render: the phone asks again.
        Err(e @ render::RenderFailure::NoLoginToken(_)) => {
            error!(error = %e, "hot-desk file without a login token");
            return Ok(respond::text(
                StatusCode::SERVICE_UNAVAILABLE,
                "try again\n",
            ));
        }
        Err(render::RenderFailure::Template(e)) => {
            error!(error = %e, "template failed to render");
            return Ok(respond::text(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal error\n",
            ));
        }
    };
    let cache = HeaderValue::from_static(if secret { "no-store" } else { "no-cache" });
    let mut response = if respond::none_match(request.headers(), rendered.etag.as_bytes()) {
        let mut r = HttpResponse::new(Default::default());
        *r.status_mut() = StatusCode::NOT_MODIFIED;
        r
    } else {
        let mut r = HttpResponse::new(rendered.body.clone().into());
        r.headers_mut().insert(
            CONTENT_TYPE,
            HeaderValue::from_static(rendered.content_type),
        );
        r
    };
    response.headers_mut().insert(ETAG, rendered.etag.clone());
    response.headers_mut().insert(CACHE_CONTROL, cache);
    Ok(response)
}

fn not_found() -> HttpResponse {
    respond::text(StatusCode::NOT_FOUND, "not found\n")
}

/// What the server makes of a request path and User-Agent, as the fuzz target `identify`
/// drives it: the path decoding and refusals of [`requested_file`], then identification.
#[doc(hidden)]
pub fn identify_request(path: &str, user_agent: &[u8]) -> Option<Identification> {
    requested_file(path)
        .ok()
        .map(|file| identify(user_agent, &file))
}

/// The last path segment, percent-decoded once. Traversal and NUL are refused outright even
/// though paths never reach the file system: a request carrying them is an attack, not a phone.
fn requested_file(path: &str) -> Result<Cow<'_, str>, StatusCode> {
    if path.len() > MAX_PATH {
        return Err(StatusCode::NOT_FOUND);
    }
    let decoded = match memchr::memchr(b'%', path.as_bytes()) {
        None => Cow::Borrowed(path),
        Some(_) => percent_decode_str(path)
            .decode_utf8()
            .map_err(|_| StatusCode::BAD_REQUEST)?,
    };
    if escapes_its_directory(&decoded) {
        return Err(StatusCode::BAD_REQUEST);
    }
    // Borrowed from the path unless it had escapes: no copy for the names phones ask for.
    Ok(match decoded {
        Cow::Borrowed(path) => Cow::Borrowed(last_segment(path)),
        Cow::Owned(path) => Cow::Owned(last_segment(&path).to_string()),
    })
}

/// `..`, a backslash or a NUL anywhere: one pass over the bytes, on every phone request.
fn escapes_its_directory(path: &str) -> bool {
    let mut previous = 0;
    path.bytes().any(|b| {
        let escapes = b == b'\\' || b == 0 || (b == b'.' && previous == b'.');
        previous = b;
        escapes
    })
}

fn last_segment(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_decoded_once_and_traversal_refused() {
        assert_eq!(
            requested_file("/y000000000066.cfg").unwrap(),
            "y000000000066.cfg"
        );
        assert_eq!(
            requested_file("/prov/001565aabbcc.cfg").unwrap(),
            "001565aabbcc.cfg"
        );
        assert_eq!(
            requested_file("/%30%30%31565aabbcc.cfg").unwrap(),
            "001565aabbcc.cfg"
        );
        assert_eq!(requested_file("/a.b.c.cfg").unwrap(), "a.b.c.cfg");
        for bad in [
            "/../etc/passwd",
            "/%2e%2e/x",
            "/a%5cb",
            "/a%00.cfg",
            "/%ff",
            "/x..cfg",
        ] {
            assert_eq!(requested_file(bad), Err(StatusCode::BAD_REQUEST), "{bad}");
        }
        // Decoded once: a double-encoded dot-dot stays a harmless literal name.
        assert_eq!(requested_file("/%252e%252e%252fx").unwrap(), "%2e%2e%2fx");
    }
}
