//! The phone side of hot-desking: `/hotdesk/{token}/{action}[/{extension}]` on the phones'
//! listener, where `action` is `login`, `logout`, `pin` (change PIN) or `menu`.
//!
//! The token in the path is the device's login token, which only its own config carries: it
//! tells which phone asks, never the source address or a MAC in the URL. It is compared in
//! constant time and replaced at every login and logout, so a replayed URL finds nothing.
//! Phones' browsers submit forms by GET, so PINs arrive in the query string; deskprov never
//! logs query strings, nor these paths.

use http::{Method, Request, StatusCode};
use percent_encoding::percent_decode_str;

use super::HotdeskError;
use super::screens::{self, EXTENSION, Field, NEW_PIN, NEW_PIN_AGAIN, OLD_PIN, PIN, Screen};
use crate::app::App;
use crate::audit::{Event, Kind};
use crate::domain::{Extension, Pin};
use crate::identify::identify;
use crate::model::DeviceRecord;
use crate::notify;
use crate::ops::guard::{self, Blocked, Failure};
use crate::ops::{Actor, sessions};
use crate::provision::Peer;
use crate::respond::HttpResponse;
use crate::store::StoreError;
use crate::vendors::{self, HotdeskDialect};

pub const PATH_PREFIX: &str = "/hotdesk/";

/// Whether a phone request is for the hot-desk screens: [`PATH_PREFIX`] anywhere in the path
/// (a `public_url` may put the server under a prefix). The searcher is built once: every phone
/// request asks.
pub fn owns(path: &str) -> bool {
    static FINDER: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new(PATH_PREFIX));
    FINDER.find(path.as_bytes()).is_some()
}
/// Longest query string read: a few short fields, plus what a DECT base appends.
const MAX_QUERY: usize = 1024;

/// One request, with what it resolved to.
struct Visit<'a> {
    app: &'a App,
    /// The phone, by its address.
    actor: Actor,
    device: DeviceRecord,
    dialect: HotdeskDialect,
    token: &'a str,
    slot: u16,
    base_url: String,
    params: Vec<(String, String)>,
    now: i64,
}

impl Visit<'_> {
    fn url(&self, action: &str) -> String {
        format!("{}hotdesk/{}/{action}", self.base_url, self.token)
    }

    fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, v)| n == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }

    /// The extension logged in at this slot, if any (and still in time).
    async fn logged_in(&self) -> Result<Option<Extension>, StoreError> {
        let settings = crate::settings::of_device(self.app.store.reads(), &self.device).await?;
        Ok(self
            .device
            .sessions
            .get(&self.slot)
            .filter(|s| sessions::is_live(s, &settings, self.now))
            .map(|s| s.extension.clone()))
    }

    /// The form for the fields not given yet, or `None` when all are there. A one-field
    /// browser gets the first missing field, carrying the earlier ones.
    fn ask(&self, title: &'static str, url: String, fields: &[Field]) -> Option<Screen> {
        let missing: Vec<Field> = fields
            .iter()
            .filter(|f| self.param(f.name).is_none())
            .copied()
            .collect();
        let first = *missing.first()?;
        if !self.dialect.screens.one_field_per_screen {
            return Some(Screen::Input {
                title,
                url,
                fields: fields.to_vec(),
                carried: Vec::new(),
            });
        }
        let carried = fields
            .iter()
            .take_while(|f| **f != first)
            .filter_map(|f| Some((f.name, self.param(f.name)?.to_string())))
            .collect();
        Some(Screen::Input {
            title,
            url,
            fields: vec![first],
            carried,
        })
    }
}

const FIXED_HANDSET: &str = "This handset has a fixed user and cannot be logged in to.";
const NOT_PERMITTED: &str =
    "This extension may not log in at hot-desk phones. Ask your administrator.";
const LOGIN_CHANGED: &str =
    "This phone's login changed meanwhile. Wait for it to update, then try again.";

fn message(title: &'static str, text: impl Into<String>) -> Screen {
    Screen::Message {
        title,
        text: text.into(),
        reload: false,
    }
}

pub async fn handle<B>(app: &App, request: &Request<B>, peer: Peer) -> HttpResponse {
    // Only GET: these requests log in and out, which a HEAD must not.
    if request.method() != Method::GET {
        return crate::respond::method_not_allowed("GET");
    }
    let path = request.uri().path();
    let Some(at) = path.find(PATH_PREFIX) else {
        return crate::respond::text(StatusCode::NOT_FOUND, "not found\n");
    };
    let segments: Vec<&str> = path[at + PATH_PREFIX.len()..].split('/').collect();
    let (token, action, extension) = match segments.as_slice() {
        [token, action] => (*token, *action, None),
        [token, action, extension] => (*token, *action, Some(*extension)),
        _ => return crate::respond::text(StatusCode::NOT_FOUND, "not found\n"),
    };
    let query = request.uri().query().unwrap_or("");
    if query.len() > MAX_QUERY || token.len() > 64 {
        return crate::respond::text(StatusCode::BAD_REQUEST, "bad request\n");
    }
    let base_url = match crate::provision::base_url(app, request, peer) {
        Ok(url) => url,
        Err(status) => return crate::respond::text(status, "bad request\n"),
    };
    match visit(app, request, token, base_url, query, peer).await {
        Ok(Ok(visit)) => {
            let screen = act(&visit, action, extension).await;
            match screen {
                Ok(screen) => screens::respond(app, Some(visit.dialect), StatusCode::OK, screen),
                Err(e) => unavailable(e),
            }
        }
        Ok(Err(refusal)) => refusal,
        Err(e) => unavailable(e),
    }
}

fn unavailable(e: impl std::fmt::Display) -> HttpResponse {
    tracing::error!(error = %e, "hot-desk request failed");
    crate::respond::text(StatusCode::SERVICE_UNAVAILABLE, "temporarily unavailable\n")
}

/// Resolves the token to its device, or refuses with a screen in the phone's own dialect.
async fn visit<'a, B>(
    app: &'a App,
    request: &Request<B>,
    token: &'a str,
    base_url: String,
    query: &str,
    peer: Peer,
) -> Result<Result<Visit<'a>, HttpResponse>, StoreError> {
    let device = app
        .store
        .device_by_login_token(token)
        .await?
        .filter(|d| d.login_token.as_ref().is_some_and(|t| t.matches(token)));
    let Some(device) = device else {
        crate::ops::audit::record(
            app,
            Event::phone(
                Kind::UnknownLoginToken,
                "hot-desk request with an unknown or replaced login token",
            )
            .source(peer.address),
        )
        .await;
        let dialect = dialect_of_user_agent(request);
        let screen = message(
            "Login",
            "This key is out of date. Wait for the phone to update, then try again.",
        );
        // 200: phones' browsers show their own error for a 403, not this screen.
        return Ok(Err(screens::respond(app, dialect, StatusCode::OK, screen)));
    };
    let row = sessions::model_row(&device);
    let dialect = device
        .vendor
        .as_deref()
        .and_then(vendors::by_id)
        .and_then(|v| v.hotdesk(row));
    let Some(dialect) = dialect.filter(|_| device.hotdesk) else {
        let screen = message("Login", "This phone is not set up for hot-desking.");
        return Ok(Err(screens::respond(app, dialect, StatusCode::OK, screen)));
    };
    let params = parse_query(query);
    let slot = match dialect.handset_param {
        Some(name) => params
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| v.parse::<u16>().ok()),
        None => Some(1),
    };
    let Some(slot) = slot.filter(|s| sessions::hotdesk_slots(&device).contains(s)) else {
        let screen = message("Login", FIXED_HANDSET);
        return Ok(Err(screens::respond(
            app,
            Some(dialect),
            StatusCode::OK,
            screen,
        )));
    };
    Ok(Ok(Visit {
        app,
        actor: Actor::phone(peer.address),
        device,
        dialect,
        token,
        slot,
        base_url,
        params,
        now: app.clock.now(),
    }))
}

fn dialect_of_user_agent<B>(request: &Request<B>) -> Option<HotdeskDialect> {
    let user_agent = request
        .headers()
        .get(http::header::USER_AGENT)
        .map(|v| v.as_bytes())
        .unwrap_or_default();
    let identification = identify(user_agent, "");
    let vendor = vendors::by_id(identification.vendor()?)?;
    let row = identification
        .model()
        .and_then(|m| crate::models::find(vendor.id(), m.as_str()));
    vendor.hotdesk(row)
}

fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter_map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let decode = |s: &str| {
                percent_decode_str(s)
                    .decode_utf8()
                    .ok()
                    .map(|v| v.into_owned())
            };
            Some((decode(name)?, decode(value)?))
        })
        .take(16)
        .collect()
}

async fn act(
    visit: &Visit<'_>,
    action: &str,
    extension: Option<&str>,
) -> Result<Screen, HotdeskError> {
    match (action, extension) {
        ("menu", None) => menu(visit).await,
        ("login", None) => login(visit).await,
        ("logout", None) => logout(visit).await,
        ("pin", None) => match visit.logged_in().await? {
            Some(extension) => change_pin(visit, extension).await,
            None => Ok(message("Change PIN", "Log in first to change your PIN.")),
        },
        // The forced change after a login with a PIN the admin set.
        ("pin", Some(raw)) => match Extension::parse(raw) {
            Ok(extension) => change_pin(visit, extension).await,
            Err(_) => Ok(message("Change PIN", "Unknown request.")),
        },
        _ => Ok(message("Login", "Unknown request.")),
    }
}

async fn menu(visit: &Visit<'_>) -> Result<Screen, HotdeskError> {
    let items = match visit.logged_in().await? {
        Some(_) => vec![
            ("Log out", visit.url("logout")),
            ("Change PIN", visit.url("pin")),
        ],
        None => vec![("Log in", visit.url("login"))],
    };
    Ok(Screen::Menu {
        title: "Hot desk",
        items,
    })
}

async fn login(visit: &Visit<'_>) -> Result<Screen, HotdeskError> {
    if let Some(form) = visit.ask("Login", visit.url("login"), &[EXTENSION, PIN]) {
        return Ok(form);
    }
    let raw_extension = visit.param(EXTENSION.name).unwrap_or_default();
    let raw_pin = visit.param(PIN.name).unwrap_or_default();
    let (Ok(extension), Ok(pin)) = (Extension::parse(raw_extension), Pin::parse(raw_pin)) else {
        return Ok(message("Login", "Extension and PIN are digits only."));
    };
    if let Some(refusal) = check_pin(visit, &extension, &pin).await? {
        return Ok(refusal);
    }
    let Some(user) = visit.app.store.user(&extension).await? else {
        return Ok(message("Login", "Unknown request."));
    };
    if user.locked || !user.may_hotdesk {
        crate::ops::audit::record(
            visit.app,
            Event::phone(
                Kind::LoginFailure,
                format!("{extension}: refused, user locked or not allowed to hot-desk"),
            )
            .subject(visit.device.mac),
        )
        .await;
        return Ok(message("Login", NOT_PERMITTED));
    }
    if user.pin_change_required {
        let url = format!("{}/{extension}", visit.url("pin"));
        return Ok(Screen::Input {
            title: "Choose a new PIN",
            url,
            fields: if visit.dialect.screens.one_field_per_screen {
                vec![OLD_PIN]
            } else {
                vec![OLD_PIN, NEW_PIN, NEW_PIN_AGAIN]
            },
            carried: Vec::new(),
        });
    }
    bind(visit, &extension, "Logged in").await
}

/// Checks a PIN against the brute-force limits and the stored hash; `Some(screen)` refuses.
async fn check_pin(
    visit: &Visit<'_>,
    extension: &Extension,
    pin: &Pin,
) -> Result<Option<Screen>, HotdeskError> {
    let app = visit.app;
    let mac = visit.device.mac;
    let charge = match guard::charge(app, extension.as_str(), mac, visit.now).await? {
        Ok(charge) => charge,
        Err(blocked) => {
            crate::ops::audit::record(
                app,
                Event::phone(Kind::LoginRefused, "refused while logins are locked").subject(mac),
            )
            .await;
            return Ok(Some(blocked_screen(blocked, visit.now)));
        }
    };
    let user = app.store.user(extension).await?;
    let hash = user.as_ref().and_then(|u| u.pin_hash.as_ref());
    if app.pins.verify(pin, hash).await {
        guard::refund(app, extension.as_str(), mac, &charge).await?;
        return Ok(None);
    }
    // A PIN typed into the extension field must not end up in the trail: only extensions
    // that exist are named.
    let who = match &user {
        Some(_) => extension.as_str(),
        None => "unknown extension",
    };
    crate::ops::audit::record(
        app,
        Event::phone(Kind::LoginFailure, format!("{who}: wrong PIN")).subject(mac),
    )
    .await;
    guard::confirm_failure(app, who, mac, &charge).await;
    Ok(Some(match charge.if_wrong {
        Failure::TriesLeft(n) => message(
            "Login failed",
            format!(
                "Wrong PIN, {n} {} left.",
                if n == 1 { "try" } else { "tries" }
            ),
        ),
        Failure::ExtensionLocked { until } => message(
            "Login failed",
            format!("Wrong PIN. Locked for {}.", minutes_until(until, visit.now)),
        ),
        Failure::PhoneThrottled { until } => blocked_screen(Blocked::Phone { until }, visit.now),
    }))
}

fn blocked_screen(blocked: Blocked, now: i64) -> Screen {
    match blocked {
        Blocked::Extension { until } => message(
            "Login",
            format!("Locked for {}.", minutes_until(until, now)),
        ),
        Blocked::Phone { until } => message(
            "Login",
            format!(
                "Too many failed logins at this phone. Try again in {}.",
                minutes_until(until, now)
            ),
        ),
        Blocked::Everyone { until } => message(
            "Login",
            format!(
                "Login is paused. Try again in {}.",
                minutes_until(until, now)
            ),
        ),
    }
}

fn minutes_until(until: i64, now: i64) -> String {
    let minutes = ((until - now).max(1) + 59) / 60;
    format!("{minutes} minute{}", if minutes == 1 { "" } else { "s" })
}

async fn bind(
    visit: &Visit<'_>,
    extension: &Extension,
    title: &'static str,
) -> Result<Screen, HotdeskError> {
    let app = visit.app;
    let outcome = sessions::log_in(
        app,
        &visit.actor,
        visit.device.mac,
        visit.slot,
        visit.token,
        extension,
        visit.now,
    )
    .await?;
    Ok(match outcome {
        sessions::LoginResult::LoggedIn { moved_from, .. } => {
            guard::note_login(app, visit.device.mac, visit.now).await?;
            if let Some(old) = &moved_from {
                notify::reload(app, old);
            }
            // As the phone is until it fetches: a challenge is answered with its line 1 then.
            notify::reload(app, &visit.device);
            let name = app
                .store
                .user(extension)
                .await?
                .map(|u| u.display_name.to_string())
                .unwrap_or_default();
            Screen::Message {
                title,
                text: format!(
                    "Welcome, {name}. This phone is now extension {extension}; it will update in a moment."
                ),
                reload: true,
            }
        }
        sessions::LoginResult::StaleToken => message("Login", LOGIN_CHANGED),
        sessions::LoginResult::LoggedInElsewhere => message(
            "Login",
            "You are logged in at another phone. Log out there first.",
        ),
        sessions::LoginResult::NotHotdesk => message("Login", FIXED_HANDSET),
        sessions::LoginResult::NotPermitted => message("Login", NOT_PERMITTED),
    })
}

async fn logout(visit: &Visit<'_>) -> Result<Screen, HotdeskError> {
    if visit.logged_in().await?.is_none() && !visit.device.sessions.contains_key(&visit.slot) {
        return Ok(message("Logout", "Nobody is logged in here."));
    }
    let outcome = sessions::log_out(
        visit.app,
        &visit.actor,
        visit.device.mac,
        Some(visit.slot),
        Some(visit.token),
        "logged out at the phone",
    )
    .await?;
    if outcome.is_none() {
        return Ok(message("Logout", LOGIN_CHANGED));
    }
    // As the phone is until it fetches: the user's account answers a challenge.
    notify::reload(visit.app, &visit.device);
    Ok(Screen::Message {
        title: "Logout",
        text: "Logged out. The phone will update in a moment.".into(),
        reload: true,
    })
}

async fn change_pin(visit: &Visit<'_>, extension: Extension) -> Result<Screen, HotdeskError> {
    let url = if visit.logged_in().await?.as_ref() == Some(&extension) {
        visit.url("pin")
    } else {
        format!("{}/{extension}", visit.url("pin"))
    };
    if let Some(form) = visit.ask("Change PIN", url, &[OLD_PIN, NEW_PIN, NEW_PIN_AGAIN]) {
        return Ok(form);
    }
    let read = |f: Field| Pin::parse(visit.param(f.name).unwrap_or_default());
    let (Ok(old), Ok(new), Ok(again)) = (read(OLD_PIN), read(NEW_PIN), read(NEW_PIN_AGAIN)) else {
        return Ok(message(
            "Change PIN",
            "PINs are digits only. Nothing was changed.",
        ));
    };
    if let Some(refusal) = check_pin(visit, &extension, &old).await? {
        return Ok(refusal);
    }
    if new != again {
        return Ok(message(
            "Change PIN",
            "The new PINs differ. Nothing was changed.",
        ));
    }
    if let Err(e) = visit
        .app
        .config
        .hotdesk
        .pin_policy()
        .check(&new, &extension)
    {
        return Ok(message(
            "Change PIN",
            format!("New PIN refused: {}. Nothing was changed.", e.reason),
        ));
    }
    let changed =
        crate::ops::sessions::set_pin(visit.app, &visit.actor, &extension, &new, false).await?;
    if !changed {
        return Ok(message("Change PIN", "Unknown request."));
    }
    crate::ops::audit::record(
        visit.app,
        Event::phone(
            Kind::PinChanged,
            format!("{extension}: PIN changed at the phone"),
        )
        .subject(visit.device.mac),
    )
    .await;
    if visit.logged_in().await?.as_ref() == Some(&extension) {
        return Ok(message("Change PIN", "PIN changed."));
    }
    let user = visit.app.store.user(&extension).await?;
    if user.is_some_and(|u| u.locked || !u.may_hotdesk) {
        return Ok(message("Change PIN", "PIN changed."));
    }
    bind(visit, &extension, "PIN changed").await
}
