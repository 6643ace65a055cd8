//! Turns records into the bytes a phone receives. The phone path and `deskprov render` both
//! come through here, so what the admin previews is exactly what the phone gets.
//!
//! Two steps: the inputs are read from the store ([`DeviceInputs::load`]), then the file is
//! rendered from them by pure functions ([`render_device`], [`render_common`]) that read and
//! write nothing, and so can be tested without a store.
//!
//! Output is deterministic (no timestamps, ordered lines), because Yealink phones compare an
//! MD5 of each file and re-apply, or reboot, when it changes.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use serde::Serialize;

use crate::app::App;
use crate::domain::{Extension, Mac, ModelId, Transport};
use crate::keys::KeyPosition;
use crate::locale::Language;
use crate::model::DeviceRecord;
use crate::models::{self, MAX_LINES_UNKNOWN_MODEL, ModelRow};
use crate::ops::sessions;
use crate::settings::Settings;
use crate::store::StoreError;
use crate::templates::{RenderError, Templates};
use crate::vendors::{NameHints, TemplateFacts, Vendor};

#[derive(Debug, Clone)]
pub struct Rendered {
    pub body: Bytes,
    /// A strong validator: a hash of the body, as the header value it is sent in.
    pub etag: http::HeaderValue,
    pub content_type: &'static str,
    /// The file changes at this time by itself (a hot-desk login ends): caches must drop it.
    pub valid_until: Option<i64>,
}

#[derive(Debug, thiserror::Error)]
pub enum RenderFailure {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Template(#[from] RenderError),
    /// A hot-desk device whose record has no login token yet (written before tokens were issued
    /// at registration): the phone path issues it before rendering; rendering never writes.
    #[error("{0} has no hot-desk login token yet; it is issued at the phone's next fetch")]
    NoLoginToken(crate::domain::Mac),
}

/// What a render needs besides the records: the templates in use, the server's settings that
/// reach configs, and the time.
pub struct Env<'a> {
    pub templates: &'a Templates,
    pub public_url: Option<&'a str>,
    pub sip_notify: bool,
    /// The UDP port deskprov sends NOTIFYs to: configs that fix the phone's SIP port use it.
    pub sip_notify_port: u16,
    pub now: i64,
    /// The local CA when it issued the server certificate: the site CA while none is set.
    pub local_ca: Option<Arc<str>>,
}

impl<'a> Env<'a> {
    pub fn of(app: &'a App, templates: &'a Templates) -> Env<'a> {
        Env {
            templates,
            public_url: app.config.server.public_url.as_deref(),
            sip_notify: app.config.hotdesk.sip_notify,
            sip_notify_port: app.config.hotdesk.sip_notify_port,
            now: app.clock.now(),
            local_ca: app.certificates.local_ca_pem(),
        }
    }
}

/// The settings a file is rendered from: `ca_certificate`, when the admin set none, is the local
/// CA that issued the server certificate, so phones learn to trust every certificate it issues.
pub fn with_site_ca<'s>(settings: &'s Settings, local_ca: Option<&str>) -> Cow<'s, Settings> {
    match local_ca {
        Some(pem) if settings.ca_certificate.is_none() => {
            let mut settings = settings.clone();
            settings.ca_certificate = Some(pem.to_string());
            Cow::Owned(settings)
        }
        _ => Cow::Borrowed(settings),
    }
}

/// What a device's file is made of besides its record: its settings, resolved through its
/// profile and model, and the users on its lines (live hot-desk logins and the lobby account
/// included; locked users left out).
pub struct DeviceInputs {
    pub settings: Settings,
    pub users: BTreeMap<u16, crate::model::UserRecord>,
    /// Its programmable keys: every layer resolved, fitted to its model.
    pub keys: crate::keys::effective::Resolved,
}

impl DeviceInputs {
    pub async fn load(
        app: &App,
        vendor: &dyn Vendor,
        device: &DeviceRecord,
    ) -> Result<DeviceInputs, StoreError> {
        DeviceInputs::load_from(&app.store, vendor, device, app.clock.now()).await
    }

    /// The same from a store alone (a task that outlives the request holds a clone of it).
    pub async fn load_from(
        store: &crate::store::Store,
        vendor: &dyn Vendor,
        device: &DeviceRecord,
        now: i64,
    ) -> Result<DeviceInputs, StoreError> {
        let settings = crate::settings::of_device(store.reads(), device).await?;
        let hotdesk = device.hotdesk && vendor.hotdesk(model_row(vendor, device)).is_some();
        let mut users = BTreeMap::new();
        for (line, extension) in line_users(device, &settings, hotdesk, now) {
            // A locked user's account leaves their phones at the next fetch.
            if let Some(user) = store.user(&extension).await?.filter(|u| !u.locked) {
                users.insert(line, user);
            }
        }
        let keys = crate::keys::load::of_device_with(store.reads(), device, &settings, now).await?;
        Ok(DeviceInputs {
            settings,
            users,
            keys,
        })
    }
}

fn model_row(vendor: &dyn Vendor, device: &DeviceRecord) -> Option<&'static ModelRow> {
    device
        .model
        .as_ref()
        .and_then(|m| models::find(vendor.id(), m.as_str()))
}

/// What is known about the phone asking for a common file.
pub struct CommonRequest<'a> {
    pub template: &'a str,
    pub hints: &'a NameHints,
    pub model: Option<&'a ModelId>,
    pub firmware: Option<&'a str>,
    /// The URL the phone reached this server by, ending in '/'.
    pub base_url: &'a str,
}

mod device_extras;

use device_extras::{
    FeatureCodes, HotdeskContext, KeyContext, LdapContext, LoginKeyContext, PhonebookContext,
    feature_codes, key_plan, ldap, phonebook,
};

#[derive(Serialize)]
struct SipContext<'a> {
    server: Option<&'a str>,
    port: u16,
    transport: Transport,
    outbound_proxy: Option<ProxyContext<'a>>,
}

#[derive(Serialize)]
struct ProxyContext<'a> {
    host: &'a str,
    port: u16,
}

/// Site settings beyond SIP that both common and device files carry.
#[derive(Serialize)]
struct SiteContext<'a> {
    ntp_server: Option<&'a str>,
    /// `name` (IANA), `posix` (TZ string with the DST rule), `offset` (`+01:00`),
    /// `offset_minutes`, `has_dst`.
    time_zone: Option<ZoneContext>,
    /// `code` (ISO 639-1), `english`, `native`.
    language: Option<&'static Language>,
    /// The `firmware_url` setting as given (a directory); templates use `firmware`.
    firmware_url: Option<&'a str>,
    /// The target firmware, where `firmware_file` is set: `url` (the file), `directory_url`
    /// (ending in '/'), `file`, `version`, `server_path` (the directory without its scheme)
    /// and `via` (1 http, 2 https). With only `firmware_url` set: `directory_url` alone.
    firmware: Option<FirmwareContext>,
    /// `minutes`, `seconds`: how often the phone fetches its config again (in device files
    /// with the device's share of jitter added); `spread_minutes`, `spread_seconds`: a tenth
    /// of it, for vendors that take a random delay instead.
    resync: ResyncContext,
    /// The site's private CA, where set: `url` (`{base_url}site-ca.pem`), `der_url`
    /// (`site-ca.der`), `pem` (the certificate, `\n` line ends) and `pem_single_line` (its
    /// base64 body alone).
    ca_certificate: Option<CaContext<'a>>,
}

#[derive(Serialize)]
struct FirmwareContext {
    url: Option<String>,
    directory_url: String,
    server_path: String,
    via: u8,
    file: Option<String>,
    version: Option<String>,
}

#[derive(Serialize)]
struct ResyncContext {
    minutes: u32,
    seconds: u32,
    spread_minutes: u32,
    spread_seconds: u32,
}

#[derive(Serialize)]
struct CaContext<'a> {
    url: String,
    der_url: String,
    pem: &'a str,
    pem_single_line: String,
}

#[derive(Serialize)]
struct ZoneContext {
    name: &'static str,
    posix: &'static str,
    offset: String,
    offset_minutes: i16,
    has_dst: bool,
}

#[derive(Serialize)]
struct CommonContext<'a> {
    family: Option<&'a str>,
    dect: bool,
    mac: Option<String>,
    mac_upper: Option<String>,
    model: Option<&'a str>,
    /// The file the request's name refers to (`NameHints::file`).
    file: Option<&'a str>,
    base_url: &'a str,
    provisioning_url: Option<&'a str>,
    sip: SipContext<'a>,
    #[serde(flatten)]
    site: SiteContext<'a>,
    /// deskprov sends SIP NOTIFY check-sync itself, so phones must accept it from us.
    sip_notify: bool,
    sip_notify_port: u16,
    vendor: serde_json::Value,
}

#[derive(Serialize)]
struct ProvisioningContext<'a> {
    url: Option<&'a str>,
    username: &'a str,
    password: &'a str,
    /// The base URL with the credentials in it (`https://user:password@host/`), for phones
    /// that take their provisioning credentials that way (Snom).
    url_with_credentials: String,
}

#[derive(Serialize)]
struct LineContext {
    /// Line number = account index; on a DECT base also the handset slot.
    index: u16,
    extension: String,
    display_name: String,
    auth_user: String,
    password: String,
    vendor: serde_json::Value,
}

#[derive(Serialize)]
struct VacantLine {
    index: u16,
    vendor: serde_json::Value,
}

#[derive(Serialize)]
struct DeviceContext<'a> {
    mac: String,
    mac_upper: String,
    model: Option<&'a str>,
    label: Option<&'a str>,
    dect: bool,
    base_url: &'a str,
    provisioning: ProvisioningContext<'a>,
    sip: SipContext<'a>,
    #[serde(flatten)]
    site: SiteContext<'a>,
    /// The phone's own admin password (web UI and menu); a secret, so device files only.
    phone_admin_password: Option<&'a str>,
    lines: Vec<LineContext>,
    /// Lines without a user: rendered as disabled and emptied, so an unassigned account
    /// leaves no credentials behind on the phone.
    vacant_lines: Vec<VacantLine>,
    /// Present on hot-desk phones whose vendor has a login screen.
    hotdesk: Option<HotdeskContext>,
    /// The programmable keys, on the phone and on its expansion modules, in position order.
    keys: Vec<KeyContext>,
    /// A hot-desk phone's login key where `keys` does not carry it: the vendor's soft key.
    login_key: Option<LoginKeyContext>,
    /// Key positions to write empty (vendors whose phones keep keys the config stops naming).
    cleared_keys: Vec<KeyPosition>,
    /// Where the phone fetches the company phonebook, when `phonebook_refresh_minutes` is set.
    phonebook: Option<PhonebookContext>,
    /// The directory the phone searches itself, when `ldap_server` is set; it holds the bind
    /// password, so device files only.
    ldap: Option<LdapContext<'a>>,
    /// The PBX's feature codes keys use, each where set.
    feature_codes: FeatureCodes<'a>,
    /// The UDP port deskprov sends NOTIFYs to: configs that fix the phone's SIP port use it.
    sip_notify_port: u16,
    vendor: serde_json::Value,
}

fn sip(settings: &Settings) -> SipContext<'_> {
    SipContext {
        server: settings.sip_server.as_deref(),
        port: settings.sip_port,
        transport: settings.sip_transport,
        outbound_proxy: settings
            .outbound_proxy()
            .map(|(host, port)| ProxyContext { host, port }),
    }
}

/// `language` is the phone's: the settings' or its first line's user's (`TemplateFacts`);
/// `mac` the device's, which spreads its resync.
fn site<'a>(
    settings: &'a Settings,
    language: Option<&'static Language>,
    base_url: &str,
    mac: Option<Mac>,
) -> SiteContext<'a> {
    SiteContext {
        ntp_server: settings.ntp_server.as_deref(),
        time_zone: settings.time_zone().map(|z| ZoneContext {
            name: z.name,
            posix: z.posix,
            offset: z.offset(),
            offset_minutes: z.offset_minutes,
            has_dst: z.has_dst(),
        }),
        language,
        firmware_url: settings.firmware_url.as_deref(),
        firmware: firmware(settings, base_url),
        resync: resync(settings.resync_minutes, mac),
        ca_certificate: settings.ca_certificate.as_deref().map(|pem| CaContext {
            url: format!("{base_url}{}", crate::firmware::CA_PEM_FILE),
            der_url: format!("{base_url}{}", crate::firmware::CA_DER_FILE),
            pem,
            pem_single_line: crate::firmware::pem_body(pem),
        }),
    }
}

fn firmware(settings: &Settings, base_url: &str) -> Option<FirmwareContext> {
    let directory_url = match (&settings.firmware_url, &settings.firmware_file) {
        (Some(url), _) if url.ends_with('/') => url.clone(),
        (Some(url), _) => format!("{url}/"),
        (None, Some(_)) => format!("{base_url}{}", crate::firmware::URL_DIRECTORY),
        (None, None) => return None,
    };
    let (via, server_path) = match directory_url.split_once("://") {
        Some((scheme, path)) if scheme.eq_ignore_ascii_case("http") => (1, path.to_string()),
        Some((_, path)) => (2, path.to_string()),
        None => (2, directory_url.clone()),
    };
    Some(FirmwareContext {
        url: settings
            .firmware_file
            .as_ref()
            .map(|file| format!("{directory_url}{file}")),
        directory_url,
        server_path,
        via,
        file: settings.firmware_file.clone(),
        version: settings.firmware_version.clone(),
    })
}

/// The resync interval, plus a share of a tenth of it fixed by the MAC: phones that poll on an
/// interval spread over it instead of all fetching at one instant.
fn resync(minutes: u32, mac: Option<Mac>) -> ResyncContext {
    let spread = minutes / 10;
    let share = match mac {
        Some(mac) if spread > 0 => {
            let hex = mac.to_hex();
            let seed = u32::from_str_radix(&hex[6..], 16).unwrap_or(0);
            seed % (spread + 1)
        }
        _ => 0,
    };
    let minutes = minutes + share;
    ResyncContext {
        minutes,
        seconds: minutes * 60,
        spread_minutes: spread,
        spread_seconds: spread * 60,
    }
}

/// A vendor's common file, shaped by what the request tells about the phone.
pub async fn common_file(
    app: &App,
    vendor: &dyn Vendor,
    request: &CommonRequest<'_>,
) -> Result<Rendered, RenderFailure> {
    let settings = common_settings(app, vendor, request.model).await?;
    let templates = app.templates.current();
    render_common(&Env::of(app, &templates), vendor, request, &settings)
}

/// The site-wide settings, with the model's own on top when the request tells the model: a
/// common file may name a model's firmware. No secret reaches a common file's context.
async fn common_settings(
    app: &App,
    vendor: &dyn Vendor,
    model: Option<&ModelId>,
) -> Result<Settings, StoreError> {
    let site = app.store.settings().await?;
    let Some(row) = model.and_then(|m| models::find(vendor.id(), m.as_str())) else {
        return Ok(site);
    };
    let layer = app.store.model_settings(row.model).await?;
    let origin = crate::settings::Origin::Model(row.model.to_string());
    Ok(crate::settings::Effective::resolve(&site, &[(origin, &layer)]).settings)
}

/// The device's own config, with its users' SIP credentials.
pub async fn device_file(
    app: &App,
    vendor: &dyn Vendor,
    device: &DeviceRecord,
    base_url: &str,
) -> Result<Rendered, RenderFailure> {
    let inputs = DeviceInputs::load(app, vendor, device).await?;
    let templates = app.templates.current();
    render_device(&Env::of(app, &templates), vendor, device, &inputs, base_url)
}

/// A vendor's common file from the site-wide settings; reads and writes nothing.
pub fn render_common(
    env: &Env<'_>,
    vendor: &dyn Vendor,
    request: &CommonRequest<'_>,
    settings: &Settings,
) -> Result<Rendered, RenderFailure> {
    let settings = &*with_site_ca(settings, env.local_ca.as_deref());
    let row = request
        .model
        .and_then(|m| models::find(vendor.id(), m.as_str()));
    let family = request
        .hints
        .family
        .clone()
        .or_else(|| request.firmware.and_then(|f| vendor.family_of_firmware(f)))
        .or_else(|| row.and_then(|r| r.family).map(str::to_string));
    let dect = row.map(ModelRow::is_dect).unwrap_or(false)
        || family.as_deref().is_some_and(|f| vendor.family_is_dect(f));
    let mut facts = TemplateFacts::new(settings, family.as_deref(), row);
    facts.firmware = request.firmware;
    facts.mac = request.hints.mac;
    let context = CommonContext {
        family: family.as_deref(),
        dect,
        mac: request.hints.mac.map(Mac::to_hex),
        mac_upper: request.hints.mac.map(Mac::to_hex_upper),
        model: request.model.map(ModelId::as_str),
        file: request.hints.file.as_deref(),
        base_url: request.base_url,
        provisioning_url: env.public_url,
        sip: sip(settings),
        site: site(
            settings,
            facts.language,
            request.base_url,
            request.hints.mac,
        ),
        sip_notify: env.sip_notify,
        sip_notify_port: env.sip_notify_port,
        vendor: vendor.template_values(&facts),
    };
    let text = env.templates.render(request.template, &context)?;
    Ok(finish(text, vendor))
}

/// The device's own config from its record and inputs; reads and writes nothing.
pub fn render_device(
    env: &Env<'_>,
    vendor: &dyn Vendor,
    device: &DeviceRecord,
    inputs: &DeviceInputs,
    base_url: &str,
) -> Result<Rendered, RenderFailure> {
    let settings = &*with_site_ca(&inputs.settings, env.local_ca.as_deref());
    let row = model_row(vendor, device);
    let capacity = row.map(ModelRow::lines).unwrap_or(MAX_LINES_UNKNOWN_MODEL);
    let hotdesk = match vendor.hotdesk(row).filter(|_| device.hotdesk) {
        Some(_) => Some(hotdesk_context(device, settings, base_url, env.now)?),
        None => None,
    };
    let mut lines = Vec::new();
    let mut vacant_lines = Vec::new();
    for index in 1..=capacity {
        let values = vendor.line_values(index, row);
        match inputs.users.get(&index) {
            Some(user) => lines.push(LineContext {
                index,
                extension: user.extension.to_string(),
                display_name: user.display_name.to_string(),
                auth_user: user.sip_user.to_string(),
                password: user.sip_password.expose().to_string(),
                vendor: values,
            }),
            // No user, or one deleted or locked since: the line is vacant.
            None => vacant_lines.push(VacantLine {
                index,
                vendor: values,
            }),
        }
    }
    // The phone speaks the language of whoever is on its first line, if they chose one.
    let first_user_language = inputs
        .users
        .get(&1)
        .and_then(|u| u.language.as_deref())
        .and_then(crate::locale::language);
    let keys = key_plan(vendor, device, row, &inputs.keys, hotdesk.as_ref());
    let mut facts = TemplateFacts::new(settings, row.and_then(|r| r.family), row);
    facts.language = first_user_language.or(facts.language);
    facts.firmware = device.firmware.as_deref();
    facts.mac = Some(device.mac);
    facts.login_key_at = keys.login_key_at;
    facts.writes_keys = keys.written;
    let context = DeviceContext {
        mac: device.mac.to_hex(),
        mac_upper: device.mac.to_hex_upper(),
        model: device.model.as_ref().map(ModelId::as_str),
        label: device.label.as_ref().map(|l| l.as_str()),
        dect: row.is_some_and(ModelRow::is_dect),
        base_url,
        provisioning: ProvisioningContext {
            url: env.public_url,
            username: &device.provisioning_user,
            password: device.provisioning_password.expose(),
            url_with_credentials: with_credentials(
                base_url,
                &device.provisioning_user,
                device.provisioning_password.expose(),
            ),
        },
        sip: sip(settings),
        site: site(settings, facts.language, base_url, Some(device.mac)),
        phone_admin_password: settings.phone_admin_password.as_deref(),
        lines,
        vacant_lines,
        keys: keys.keys,
        login_key: keys.login_key,
        cleared_keys: keys.cleared,
        phonebook: phonebook(settings, base_url, device),
        ldap: ldap(settings),
        feature_codes: feature_codes(settings),
        hotdesk,
        sip_notify_port: env.sip_notify_port,
        vendor: vendor.template_values(&facts),
    };
    let template = vendor.device_template(row, device.firmware.as_deref());
    let text = env.templates.render(template, &context)?;
    let mut rendered = finish(text, vendor);
    rendered.valid_until = next_login_end(device, settings, env.now);
    Ok(rendered)
}

/// The device's speed-dial keys as entries of its local directory (Poly's `{mac}-directory.xml`),
/// numbered as its config numbers them, and when they change by themselves (a hot-desk login
/// ends, taking the user's keys with it).
pub async fn speed_dials(
    app: &App,
    vendor: &dyn Vendor,
    device: &DeviceRecord,
) -> Result<(Vec<crate::phonebook::SpeedDial>, Option<i64>), StoreError> {
    let inputs = DeviceInputs::load(app, vendor, device).await?;
    let row = model_row(vendor, device);
    // The login key does not count among the speed dials: its screen is not needed here.
    let plan = key_plan(vendor, device, row, &inputs.keys, None);
    let now = app.clock.now();
    Ok((
        plan.speed_dials(),
        next_login_end(device, &inputs.settings, now),
    ))
}

/// The earliest end of a live hot-desk login on the device: its file changes then.
fn next_login_end(device: &DeviceRecord, settings: &Settings, now: i64) -> Option<i64> {
    device
        .sessions
        .values()
        .filter_map(|session| settings.hotdesk_login_ends(session.since))
        .filter(|end| *end > now)
        .min()
}

/// Who is on each line: the admin's assignments, then live hot-desk logins, then on a logged-out
/// hot-desk desk phone the site's lobby account on line 1. A login whose time is up is left out
/// here already, before the sweeper logs it out.
fn line_users(
    device: &DeviceRecord,
    settings: &Settings,
    hotdesk: bool,
    now: i64,
) -> BTreeMap<u16, Extension> {
    let mut users = device.lines.clone();
    if !hotdesk {
        return users;
    }
    for (slot, session) in &device.sessions {
        if sessions::is_live(session, settings, now) {
            users.insert(*slot, session.extension.clone());
        }
    }
    let is_desk = !sessions::model_row(device).is_some_and(ModelRow::is_dect);
    if is_desk && let Some(lobby) = &settings.lobby_extension {
        users.entry(1).or_insert_with(|| lobby.clone());
    }
    users
}

fn hotdesk_context(
    device: &DeviceRecord,
    settings: &Settings,
    base_url: &str,
    now: i64,
) -> Result<HotdeskContext, RenderFailure> {
    let token = device
        .login_token
        .as_ref()
        .ok_or(RenderFailure::NoLoginToken(device.mac))?;
    let url = |action: &str| format!("{base_url}hotdesk/{}/{action}", token.expose());
    let location = base_url.trim_end_matches('/').to_string();
    let logged_in = device
        .sessions
        .get(&1)
        .is_some_and(|s| sessions::is_live(s, settings, now));
    Ok(HotdeskContext {
        menu_location: location,
        menu_path: format!("/hotdesk/{}/menu", token.expose()),
        key_label: if logged_in { "Logout" } else { "Login" },
        key_url: url(if logged_in { "logout" } else { "login" }),
        pin_url: url("pin"),
        menu_url: url("menu"),
    })
}

/// `https://host/` → `https://user:password@host/`. Both are letters and digits (a MAC and a
/// generated secret), so nothing needs escaping.
fn with_credentials(base_url: &str, user: &str, password: &str) -> String {
    match base_url.split_once("://") {
        Some((scheme, rest)) => format!("{scheme}://{user}:{password}@{rest}"),
        None => base_url.to_string(),
    }
}

fn finish(text: String, vendor: &dyn Vendor) -> Rendered {
    rendered(text, vendor.format().content_type())
}

/// A rendered file with its strong validator: a hash of the body.
pub(crate) fn rendered(text: String, content_type: &'static str) -> Rendered {
    let digest = ring::digest::digest(&ring::digest::SHA256, text.as_bytes());
    let hex: String = digest.as_ref()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Rendered {
        // Exactly the body's bytes: a rendered String has up to twice its length reserved, and
        // the render cache keeps what the Bytes hold (its budget counts the length).
        body: Bytes::from(text.into_bytes().into_boxed_slice()),
        etag: http::HeaderValue::from_str(&format!("\"{hex}\"")).expect("hex is a valid header"),
        content_type,
        valid_until: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{DisplayName, Secret, SipUser};
    use crate::model::UserRecord;

    /// No store, no server: a file from a record and its inputs.
    #[test]
    fn a_device_file_renders_from_its_inputs_alone() {
        let templates = Templates::load(None).unwrap();
        let env = Env {
            templates: &templates,
            public_url: None,
            sip_notify: false,
            sip_notify_port: 5060,
            now: 1_000,
            local_ca: None,
        };
        let mac = Mac::parse("001565aabbcc").unwrap();
        let mut device = DeviceRecord::blank(mac, 0, Secret::from_trusted("p4ss-p4ss".into()));
        device.vendor = Some("yealink".into());
        device.model = Some(ModelId::parse("T46S").unwrap());
        let user = UserRecord {
            extension: Extension::parse("1001").unwrap(),
            display_name: DisplayName::parse("Alice Example").unwrap(),
            sip_user: SipUser::parse("1001").unwrap(),
            sip_password: Secret::from_trusted("alice-secret-01".into()),
            created_at: 0,
            email: None,
            pin_hash: None,
            pin_change_required: false,
            may_hotdesk: true,
            locked: false,
            hotdesk_at: None,
            first_name: None,
            last_name: None,
            language: None,
            keys: Default::default(),
            phonebook_hidden: false,
            portal_password_hash: None,
            password_change_required: false,
            portal_link_sha256: None,
        };
        let inputs = DeviceInputs {
            settings: Settings {
                sip_server: Some("pbx.example.com".into()),
                ..Settings::default()
            },
            users: BTreeMap::from([(1, user)]),
            keys: Default::default(),
        };
        let vendor = crate::vendors::by_id("yealink").unwrap();
        let rendered =
            render_device(&env, vendor, &device, &inputs, "https://prov.example.com/").unwrap();
        let text = String::from_utf8(rendered.body.to_vec()).unwrap();
        assert!(text.contains("account.1.user_name = 1001"), "{text}");
        assert!(text.contains("account.1.password = alice-secret-01"));
        assert!(text.contains("account.1.sip_server.1.address = pbx.example.com"));
        assert!(text.contains("account.2.enable = 0"), "line 2 is vacant");
        assert_eq!(rendered.valid_until, None);
    }
}
