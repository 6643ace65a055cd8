//! The admin API as the tests speak it: one method per endpoint of the endpoint table
//! (`src/admin/endpoint.rs`), each building its path here, so that this is the one place the
//! tests spell out `/api/v1/...` for an endpoint.
//!
//! A method answers a [`Call`], which does nothing until it is sent: awaited, it is the
//! [`Reply`] (status, headers, body) whatever the status, for tests of refusals; `.ok()`
//! asserts success and answers the JSON, a list as every item of every page. Every JSON call
//! records the secrets it carries and answers (`crate::logs`), and an accepted body must be
//! valid by the OpenAPI schema of its endpoint (`crate::openapi::validates`).
//!
//! Path segments and query values are sent as given, but for the characters they cannot carry
//! as they are (`/`, `%`, `?`, `#`, space, ...), which are percent-encoded: a MAC reaches the
//! server in the notation the test wrote. Bodies are [`NewUser`] and [`NewDevice`] for what
//! tests create often, plain `json!` for everything else (a test that sends a malformed body on
//! purpose keeps writing it out), or [`Body::Raw`] bytes.
//!
//! `TestServer::admin_api()` is the API of an in-process server with its initial token;
//! [`AdminApi::new`] reaches any other listener (a restarted or binary server) with any token.
//! Tests about paths themselves (routing, percent-decoding, paths that are no endpoint) send
//! them as written with [`AdminApi::request`].

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::time::Duration;

use deskprov::client::{Client, ClientError, Reply};
use http::{Method, StatusCode};
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use serde::Serialize;
use serde_json::{Value, json};

/// What a path segment cannot carry as it is.
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// What a query value cannot carry as it is.
const QUERY_VALUE: &AsciiSet = &SEGMENT.add(b'&').add(b'=').add(b'+');

fn segment(text: &str) -> String {
    utf8_percent_encode(text, SEGMENT).to_string()
}

/// `?k=v&...` of the pairs given, in order; empty when there are none.
fn query_string(pairs: &[(&str, String)]) -> String {
    let encoded: Vec<String> = pairs
        .iter()
        .map(|(key, value)| format!("{key}={}", utf8_percent_encode(value, QUERY_VALUE)))
        .collect();
    if encoded.is_empty() {
        String::new()
    } else {
        format!("?{}", encoded.join("&"))
    }
}

/// The body of a request.
#[derive(Debug, Clone)]
pub enum Body {
    None,
    /// Sent as `application/json`.
    Json(Value),
    /// Sent exactly as given, without a content type, and not checked against the schema:
    /// CSV files, and bytes that are not JSON at all.
    Raw(Vec<u8>),
}

impl Body {
    pub fn raw(bytes: impl Into<Vec<u8>>) -> Body {
        Body::Raw(bytes.into())
    }
}

impl From<Value> for Body {
    fn from(value: Value) -> Body {
        Body::Json(value)
    }
}

fn to_json(value: &impl Serialize) -> Body {
    Body::Json(serde_json::to_value(value).expect("a request body serialises"))
}

/// A user to create (`POST /users`); the fields left out are left out of the body.
#[derive(Debug, Clone, Default, Serialize)]
pub struct NewUser {
    #[serde(skip_serializing_if = "Option::is_none")]
    extension: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    display_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    first_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    language: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sip_user: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sip_password: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pin: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    generate_pin: Option<bool>,
}

/// Builder methods that set these text fields: `.sip_password("...")`.
macro_rules! text_fields {
    ($($field:ident),+ $(,)?) => {
        $(
            pub fn $field(mut self, value: &str) -> Self {
                self.$field = Some(value.into());
                self
            }
        )+
    };
}

impl NewUser {
    /// A user with this extension and display name.
    pub fn new(extension: &str, display_name: &str) -> NewUser {
        NewUser::default()
            .extension(extension)
            .display_name(display_name)
    }

    text_fields!(
        extension,
        display_name,
        first_name,
        last_name,
        language,
        sip_user,
        sip_password,
        email,
        pin,
    );

    /// Asks the server for a random PIN, answered once.
    pub fn generate_pin(mut self) -> NewUser {
        self.generate_pin = Some(true);
        self
    }
}

impl From<NewUser> for Body {
    fn from(user: NewUser) -> Body {
        to_json(&user)
    }
}

/// A device to register (`POST /devices`, and the items of `POST /devices/bulk`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct NewDevice {
    mac: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    model: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    label: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    location: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    profile: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    hotdesk: Option<bool>,
}

impl NewDevice {
    /// A device by its MAC in any notation; the phone reports its model at its first request.
    pub fn new(mac: &str) -> NewDevice {
        NewDevice {
            mac: mac.into(),
            ..NewDevice::default()
        }
    }

    text_fields!(model, label, location, profile);

    /// A hot-desk phone: users log in at it.
    pub fn hotdesk(mut self) -> NewDevice {
        self.hotdesk = Some(true);
        self
    }
}

impl From<NewDevice> for Body {
    fn from(device: NewDevice) -> Body {
        to_json(&device)
    }
}

/// The filters of `GET /devices`; every filter given must hold.
#[derive(Debug, Clone, Default)]
pub struct DeviceFilter {
    pairs: Vec<(&'static str, String)>,
}

impl DeviceFilter {
    fn with(mut self, key: &'static str, value: impl ToString) -> DeviceFilter {
        self.pairs.push((key, value.to_string()));
        self
    }

    pub fn unassigned(self, yes: bool) -> DeviceFilter {
        self.with("unassigned", yes)
    }

    pub fn hotdesk(self, yes: bool) -> DeviceFilter {
        self.with("hotdesk", yes)
    }

    pub fn auto_registered(self, yes: bool) -> DeviceFilter {
        self.with("auto_registered", yes)
    }

    pub fn not_seen_days(self, days: u32) -> DeviceFilter {
        self.with("not_seen_days", days)
    }

    pub fn model(self, model: &str) -> DeviceFilter {
        self.with("model", model)
    }

    pub fn profile(self, profile: &str) -> DeviceFilter {
        self.with("profile", profile)
    }

    pub fn location(self, location: &str) -> DeviceFilter {
        self.with("location", location)
    }

    pub fn firmware_outdated(self, yes: bool) -> DeviceFilter {
        self.with("firmware_outdated", yes)
    }

    pub fn claim_contested(self, yes: bool) -> DeviceFilter {
        self.with("claim_contested", yes)
    }
}

/// The filters of `GET /audit`.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pairs: Vec<(&'static str, String)>,
}

impl AuditFilter {
    /// Only records of this kind.
    pub fn kind(kind: &str) -> AuditFilter {
        AuditFilter {
            pairs: vec![("kind", kind.into())],
        }
    }

    /// Only records about this subject: a MAC, an extension, a name.
    pub fn subject(mut self, subject: &str) -> AuditFilter {
        self.pairs.push(("subject", subject.into()));
        self
    }

    /// Only records of this actor: a token's or account's name, `phone`, `deskprov`.
    pub fn actor(mut self, actor: &str) -> AuditFilter {
        self.pairs.push(("actor", actor.into()));
        self
    }

    /// Only records before this RFC 3339 time.
    pub fn until(mut self, time: &str) -> AuditFilter {
        self.pairs.push(("until", time.into()));
        self
    }
}

/// The admin API of one server, with one token (or another authorization).
#[derive(Clone)]
pub struct AdminApi<'a> {
    client: &'a Client,
    authorization: Option<String>,
}

impl<'a> AdminApi<'a> {
    /// The API at `client`'s listener, called with `token`.
    pub fn new(client: &'a Client, token: &str) -> AdminApi<'a> {
        AdminApi {
            client,
            authorization: Some(format!("Bearer {token}")),
        }
    }

    /// The same API called with this `Authorization` header instead.
    pub fn with_authorization(self, value: &str) -> AdminApi<'a> {
        AdminApi {
            authorization: Some(value.into()),
            ..self
        }
    }

    /// The same API called without any `Authorization` header.
    pub fn without_authorization(self) -> AdminApi<'a> {
        AdminApi {
            authorization: None,
            ..self
        }
    }

    fn call(&self, method: Method, path: impl fmt::Display, body: impl Into<Body>) -> Call<'a> {
        Call {
            api: self.clone(),
            method,
            path: format!("/api/v1{path}"),
            body: body.into(),
        }
    }

    fn get(&self, path: impl fmt::Display) -> Call<'a> {
        self.call(Method::GET, path, Body::None)
    }

    fn post(&self, path: impl fmt::Display) -> Call<'a> {
        self.call(Method::POST, path, Body::None)
    }

    fn delete(&self, path: impl fmt::Display) -> Call<'a> {
        self.call(Method::DELETE, path, Body::None)
    }

    /// A request to a path as it is written, for tests about paths themselves: routing,
    /// percent-encoding, paths that name no endpoint.
    pub fn request(&self, method: Method, path: &str, body: impl Into<Body>) -> Call<'a> {
        Call {
            api: self.clone(),
            method,
            path: path.into(),
            body: body.into(),
        }
    }

    pub fn openapi(&self) -> Call<'a> {
        self.get("/openapi.json")
    }

    /// At the listener's root, not under /api/v1.
    pub fn metrics(&self) -> Call<'a> {
        self.request(Method::GET, "/metrics", Body::None)
    }

    // ---- devices ----

    pub fn list_devices(&self) -> Call<'a> {
        self.get("/devices")
    }

    pub fn list_devices_where(&self, filter: DeviceFilter) -> Call<'a> {
        self.get(format!("/devices{}", query_string(&filter.pairs)))
    }

    pub fn create_device(&self, device: impl Into<Body>) -> Call<'a> {
        self.call(Method::POST, "/devices", device)
    }

    /// `{"devices": [...]}`: all of them or none.
    pub fn create_devices(&self, devices: impl Into<Body>) -> Call<'a> {
        self.call(Method::POST, "/devices/bulk", devices)
    }

    pub fn show_device(&self, mac: &str) -> Call<'a> {
        self.get(format!("/devices/{}", segment(mac)))
    }

    pub fn patch_device(&self, mac: &str, patch: impl Into<Body>) -> Call<'a> {
        self.call(Method::PATCH, format!("/devices/{}", segment(mac)), patch)
    }

    pub fn delete_device(&self, mac: &str) -> Call<'a> {
        self.delete(format!("/devices/{}", segment(mac)))
    }

    /// All of them, or none.
    pub fn delete_devices(&self, macs: &[&str]) -> Call<'a> {
        self.call(
            Method::POST,
            "/devices/bulk-delete",
            serde_json::json!({ "macs": macs }),
        )
    }

    fn line(mac: &str, line: u16) -> String {
        format!("/devices/{}/lines/{line}", segment(mac))
    }

    /// Puts the user `extension` on line `line`; refused when the line has another user.
    pub fn assign(&self, mac: &str, line: u16, extension: &str) -> Call<'a> {
        let body = json!({ "user": extension });
        self.call(Method::PUT, Self::line(mac, line), body)
    }

    /// Puts the user `extension` on line `line`, replacing whoever had it.
    pub fn assign_replacing(&self, mac: &str, line: u16, extension: &str) -> Call<'a> {
        let body = json!({ "user": extension, "replace": true });
        self.call(Method::PUT, Self::line(mac, line), body)
    }

    pub fn unassign(&self, mac: &str, line: u16) -> Call<'a> {
        self.delete(Self::line(mac, line))
    }

    pub fn reset_claim(&self, mac: &str) -> Call<'a> {
        self.post(format!("/devices/{}/reset-claim", segment(mac)))
    }

    /// New provisioning credentials and a reopened claim, for a claim someone else took.
    pub fn rekey(&self, mac: &str) -> Call<'a> {
        self.post(format!("/devices/{}/rekey", segment(mac)))
    }

    pub fn resync_device(&self, mac: &str) -> Call<'a> {
        self.post(format!("/devices/{}/resync", segment(mac)))
    }

    pub fn reboot_device(&self, mac: &str) -> Call<'a> {
        self.post(format!("/devices/{}/reboot", segment(mac)))
    }

    pub fn resync_devices(&self, macs: &[&str]) -> Call<'a> {
        self.call(
            Method::POST,
            "/devices/bulk-resync",
            json!({ "macs": macs }),
        )
    }

    pub fn reboot_devices(&self, macs: &[&str]) -> Call<'a> {
        self.call(
            Method::POST,
            "/devices/bulk-reboot",
            json!({ "macs": macs }),
        )
    }

    pub fn replace_device(&self, old: &str, new: &str) -> Call<'a> {
        let path = format!("/devices/{}/replace", segment(old));
        self.call(Method::POST, path, json!({ "new_mac": new }))
    }

    pub fn list_firmware(&self) -> Call<'a> {
        self.get("/firmware")
    }

    pub fn upload_firmware(&self, name: &str, content: &[u8]) -> Call<'a> {
        let path = format!("/firmware/{}", segment(name));
        self.call(Method::PUT, path, Body::raw(content))
    }

    pub fn delete_firmware(&self, name: &str) -> Call<'a> {
        self.delete(format!("/firmware/{}", segment(name)))
    }

    /// The provisioning credentials; see also `TestServer::credentials`.
    pub fn credentials(&self, mac: &str) -> Call<'a> {
        self.get(format!("/devices/{}/credentials", segment(mac)))
    }

    pub fn logout_device(&self, mac: &str) -> Call<'a> {
        self.post(format!("/devices/{}/logout", segment(mac)))
    }

    /// The device's own config as the phone would get it.
    pub fn render(&self, mac: &str) -> Call<'a> {
        self.get(format!("/devices/{}/render", segment(mac)))
    }

    /// Another file, as the phone `mac` would get it.
    pub fn render_file(&self, mac: &str, file: &str) -> Call<'a> {
        let query = query_string(&[("file", file.into())]);
        self.get(format!("/devices/{}/render{query}", segment(mac)))
    }

    pub fn device_events(&self, mac: &str) -> Call<'a> {
        self.get(format!("/devices/{}/events", segment(mac)))
    }

    pub fn device_settings(&self, mac: &str) -> Call<'a> {
        self.get(format!("/devices/{}/settings", segment(mac)))
    }

    pub fn patch_device_settings(&self, mac: &str, patch: impl Into<Body>) -> Call<'a> {
        self.call(
            Method::PATCH,
            format!("/devices/{}/settings", segment(mac)),
            patch,
        )
    }

    pub fn list_unregistered(&self) -> Call<'a> {
        self.get("/unregistered")
    }

    pub fn forget_unregistered(&self, mac: &str) -> Call<'a> {
        self.delete(format!("/unregistered/{}", segment(mac)))
    }

    /// Registers an unregistered device with what it reported, without a body.
    pub fn adopt(&self, mac: &str) -> Call<'a> {
        self.post(format!("/unregistered/{}/adopt", segment(mac)))
    }

    /// Registers an unregistered device with these fields (`{"label": ...}`).
    pub fn adopt_with(&self, mac: &str, adoption: impl Into<Body>) -> Call<'a> {
        let path = format!("/unregistered/{}/adopt", segment(mac));
        self.call(Method::POST, path, adoption)
    }

    // ---- users ----

    pub fn list_users(&self) -> Call<'a> {
        self.get("/users")
    }

    pub fn create_user(&self, user: impl Into<Body>) -> Call<'a> {
        self.call(Method::POST, "/users", user)
    }

    pub fn next_extension(&self) -> Call<'a> {
        self.get("/users/next-extension")
    }

    /// `lock`, `unlock` or `delete` these users, all of them or none.
    pub fn bulk_users(&self, action: &str, extensions: &[&str]) -> Call<'a> {
        let body = json!({ "action": action, "extensions": extensions });
        self.call(Method::POST, "/users/bulk", body)
    }

    pub fn show_user(&self, extension: &str) -> Call<'a> {
        self.get(format!("/users/{}", segment(extension)))
    }

    pub fn patch_user(&self, extension: &str, patch: impl Into<Body>) -> Call<'a> {
        self.call(
            Method::PATCH,
            format!("/users/{}", segment(extension)),
            patch,
        )
    }

    pub fn delete_user(&self, extension: &str) -> Call<'a> {
        self.delete(format!("/users/{}", segment(extension)))
    }

    pub fn sip_password(&self, extension: &str) -> Call<'a> {
        self.get(format!("/users/{}/sip-password", segment(extension)))
    }

    pub fn lock_user(&self, extension: &str) -> Call<'a> {
        self.post(format!("/users/{}/lock", segment(extension)))
    }

    pub fn unlock_user(&self, extension: &str) -> Call<'a> {
        self.post(format!("/users/{}/unlock", segment(extension)))
    }

    pub fn logout_user(&self, extension: &str) -> Call<'a> {
        self.post(format!("/users/{}/logout", segment(extension)))
    }

    pub fn reset_pin(&self, extension: &str) -> Call<'a> {
        self.post(format!("/users/{}/reset-pin", segment(extension)))
    }

    pub fn set_portal_password(&self, extension: &str, body: Value) -> Call<'a> {
        let path = format!("/users/{}/portal-password", segment(extension));
        self.call(Method::POST, &path, body)
    }

    // ---- settings, profiles, models, templates ----

    pub fn settings(&self) -> Call<'a> {
        self.get("/settings")
    }

    pub fn patch_settings(&self, patch: impl Into<Body>) -> Call<'a> {
        self.call(Method::PATCH, "/settings", patch)
    }

    pub fn setting_choices(&self) -> Call<'a> {
        self.get("/settings/choices")
    }

    pub fn list_profiles(&self) -> Call<'a> {
        self.get("/profiles")
    }

    /// `{"name": ..., "description"?: ..., "settings"?: {...}}`.
    pub fn create_profile(&self, profile: impl Into<Body>) -> Call<'a> {
        self.call(Method::POST, "/profiles", profile)
    }

    pub fn show_profile(&self, name: &str) -> Call<'a> {
        self.get(format!("/profiles/{}", segment(name)))
    }

    pub fn patch_profile(&self, name: &str, patch: impl Into<Body>) -> Call<'a> {
        self.call(Method::PATCH, format!("/profiles/{}", segment(name)), patch)
    }

    pub fn delete_profile(&self, name: &str) -> Call<'a> {
        self.delete(format!("/profiles/{}", segment(name)))
    }

    pub fn list_models(&self) -> Call<'a> {
        self.get("/models")
    }

    pub fn model_settings(&self, model: &str) -> Call<'a> {
        self.get(format!("/models/{}/settings", segment(model)))
    }

    pub fn patch_model_settings(&self, model: &str, patch: impl Into<Body>) -> Call<'a> {
        let path = format!("/models/{}/settings", segment(model));
        self.call(Method::PATCH, path, patch)
    }

    // ---- phonebook ----

    pub fn list_contacts(&self) -> Call<'a> {
        self.get("/contacts")
    }

    pub fn create_contact(&self, contact: serde_json::Value) -> Call<'a> {
        self.call(Method::POST, "/contacts", contact)
    }

    pub fn show_contact(&self, id: &str) -> Call<'a> {
        self.get(format!("/contacts/{}", segment(id)))
    }

    pub fn patch_contact(&self, id: &str, patch: serde_json::Value) -> Call<'a> {
        self.call(Method::PATCH, format!("/contacts/{}", segment(id)), patch)
    }

    pub fn delete_contact(&self, id: &str) -> Call<'a> {
        self.delete(format!("/contacts/{}", segment(id)))
    }

    // ---- keys ----

    /// One layer's keys: `site`, or `devices`, `profiles`, `models`, `users` and the name.
    fn keys_path(layer: &str, name: Option<&str>) -> String {
        match name {
            Some(name) => format!("/{layer}/{}/keys", segment(name)),
            None => "/settings/keys".to_string(),
        }
    }

    pub fn keys(&self, layer: &str, name: Option<&str>) -> Call<'a> {
        self.get(Self::keys_path(layer, name))
    }

    /// The keys a device's phone gets, with the layer each came from.
    pub fn effective_keys(&self, mac: &str) -> Call<'a> {
        self.get(format!(
            "{}?effective=true",
            Self::keys_path("devices", Some(mac))
        ))
    }

    pub fn set_keys(&self, layer: &str, name: Option<&str>, keys: serde_json::Value) -> Call<'a> {
        self.call(Method::PUT, Self::keys_path(layer, name), keys)
    }

    pub fn status(&self) -> Call<'a> {
        self.get("/status")
    }

    pub fn list_templates(&self) -> Call<'a> {
        self.get("/templates")
    }

    pub fn reload_templates(&self) -> Call<'a> {
        self.post("/templates/reload")
    }

    pub fn send_test_mail(&self, address: &str) -> Call<'a> {
        self.call(Method::POST, "/mail/test", json!({ "address": address }))
    }

    /// A welcome mail with a one-time link to each user, all or none.
    pub fn mail_welcome(&self, extensions: &[&str]) -> Call<'a> {
        self.call(
            Method::POST,
            "/users/mail-welcome",
            json!({ "extensions": extensions }),
        )
    }

    /// A reset mail with a one-time link to each user, all or none.
    pub fn mail_reset(&self, extensions: &[&str]) -> Call<'a> {
        self.call(
            Method::POST,
            "/users/mail-reset",
            json!({ "extensions": extensions }),
        )
    }

    /// The outbox, newest first; one user's mails when `user` is given.
    pub fn list_mail(&self, user: Option<&str>) -> Call<'a> {
        match user {
            Some(u) => self.get(format!("/mail?user={}", segment(u))),
            None => self.get("/mail"),
        }
    }

    // ---- CSV ----

    /// `users` or `devices` as CSV; with the SIP passwords when `secrets`.
    pub fn export(&self, subject: &str, secrets: bool) -> Call<'a> {
        let query = if secrets { "?secrets=true" } else { "" };
        self.get(format!("/export/{}{query}", segment(subject)))
    }

    /// Posts a CSV file of `users` or `devices`; answers the import's job.
    pub fn import(&self, subject: &str, csv: &str, dry_run: bool) -> Call<'a> {
        let query = if dry_run { "?dry_run=true" } else { "" };
        let path = format!("/import/{}{query}", segment(subject));
        self.call(Method::POST, path, Body::raw(csv))
    }

    /// Posts a CSV file and follows the import to its end; the finished job.
    pub async fn import_to_end(&self, subject: &str, csv: &str, dry_run: bool) -> Value {
        let reply = self.import(subject, csv, dry_run).await;
        assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.text());
        let id = reply.json()["id"].as_str().unwrap().to_string();
        for _ in 0..600 {
            let job = self.show_import(&id).ok().await;
            if job["state"] != "running" {
                return job;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("import {id} did not finish");
    }

    pub fn list_imports(&self) -> Call<'a> {
        self.get("/imports")
    }

    pub fn show_import(&self, id: &str) -> Call<'a> {
        self.get(format!("/imports/{}", segment(id)))
    }

    // ---- tokens and security ----

    pub fn list_tokens(&self) -> Call<'a> {
        self.get("/tokens")
    }

    pub fn create_token(&self, name: &str) -> Call<'a> {
        self.call(Method::POST, "/tokens", json!({ "name": name }))
    }

    /// A token of `role`; an admin token that `reads_secrets`, one that `expires_at`.
    pub fn create_token_with(
        &self,
        name: &str,
        role: &str,
        reads_secrets: bool,
        expires_at: Option<&str>,
    ) -> Call<'a> {
        let mut body = json!({ "name": name, "role": role });
        if reads_secrets {
            body["reads_secrets"] = json!(true);
        }
        if let Some(at) = expires_at {
            body["expires_at"] = json!(at);
        }
        self.call(Method::POST, "/tokens", body)
    }

    /// By id or name; `force` to revoke the token the call itself carries.
    pub fn revoke_token(&self, token: &str, force: bool) -> Call<'a> {
        let query = if force { "?force=true" } else { "" };
        self.delete(format!("/tokens/{}{query}", segment(token)))
    }

    pub fn list_audit(&self, filter: AuditFilter) -> Call<'a> {
        self.get(format!("/audit{}", query_string(&filter.pairs)))
    }

    pub fn list_bans(&self) -> Call<'a> {
        self.get("/bans")
    }

    pub fn lift_ban(&self, source: &str) -> Call<'a> {
        self.delete(format!("/bans/{}", segment(source)))
    }

    /// The ban of an IPv6 /64, its prefix written before an unencoded `/64`.
    pub fn lift_ban_64(&self, prefix: &str) -> Call<'a> {
        self.delete(format!("/bans/{}/64", segment(prefix)))
    }

    /// A backup file of the whole site (gzip).
    pub fn take_backup(&self) -> Call<'a> {
        self.get("/backup")
    }

    pub fn require_totp(&self, username: &str, required: bool) -> Call<'a> {
        let path = format!("/accounts/{}/totp-required", segment(username));
        self.call(Method::PUT, path, json!({ "required": required }))
    }

    pub fn reset_totp(&self, username: &str) -> Call<'a> {
        self.delete(format!("/accounts/{}/totp", segment(username)))
    }

    pub fn list_token_blocks(&self) -> Call<'a> {
        self.get("/token-blocks")
    }

    pub fn lift_token_block(&self, source: &str) -> Call<'a> {
        self.delete(format!("/token-blocks/{}", segment(source)))
    }
}

/// One request to the admin API, not sent yet. Awaited, it is sent and answers the [`Reply`].
#[derive(Clone)]
#[must_use = "a call is sent only when awaited, or by send() or ok()"]
pub struct Call<'a> {
    api: AdminApi<'a>,
    method: Method,
    path: String,
    body: Body,
}

/// `METHOD path` and the start of the body, for failure messages.
impl fmt::Display for Call<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.path)?;
        match &self.body {
            Body::None => Ok(()),
            Body::Json(value) => {
                let text = value.to_string();
                let start: String = text.chars().take(120).collect();
                let more = if start.len() < text.len() { "..." } else { "" };
                write!(f, " {start}{more}")
            }
            Body::Raw(bytes) => write!(f, " ({} bytes)", bytes.len()),
        }
    }
}

impl<'a> Call<'a> {
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The path with its query, `/api/v1` included.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Adds query parameters exactly as written (`limit=2`, `secrets=maybe`), for tests of
    /// what the server makes of them.
    pub fn query(mut self, query: &str) -> Call<'a> {
        let separator = if self.path.contains('?') { '&' } else { '?' };
        self.path = format!("{}{separator}{query}", self.path);
        self
    }

    /// Sends the call; an error only when no answer came (the connection failed).
    pub async fn try_send(self) -> Result<Reply, ClientError> {
        let Call {
            api,
            method,
            path,
            body,
        } = self;
        let mut headers = Vec::new();
        if let Some(authorization) = &api.authorization {
            headers.push(("authorization", authorization.as_str()));
        }
        if !matches!(body, Body::Raw(_)) {
            headers.push(("content-type", "application/json"));
        }
        let (bytes, json) = match body {
            Body::None => (None, None),
            Body::Raw(bytes) => (Some(bytes), None),
            Body::Json(value) => {
                crate::logs::remember_secrets_in(&value);
                (Some(serde_json::to_vec(&value).unwrap()), Some(value))
            }
        };
        let reply = api
            .client
            .send(method.clone(), &path, &headers, bytes)
            .await?;
        crate::logs::remember_secrets_in(&reply.json());
        if let Some(sent) = &json
            && reply.status.is_success()
            && let Err(errors) = crate::openapi::validates(&method, &path, sent)
        {
            panic!(
                "{method} {path} was accepted, but its body is not valid by the OpenAPI schema: {errors}\n{sent}"
            );
        }
        Ok(reply)
    }

    pub async fn send(self) -> Reply {
        let call = self.to_string();
        self.try_send()
            .await
            .unwrap_or_else(|e| panic!("{call}: {e}"))
    }

    /// Sends a call that must be refused with `status`; answers its JSON error.
    pub async fn fails(self, status: http::StatusCode) -> Value {
        let call = self.to_string();
        let reply = self.send().await;
        assert_eq!(reply.status, status, "{call}: {}", reply.text());
        reply.json()
    }

    /// Sends a call that must succeed; answers its JSON, and for a list every item of every
    /// page (the `next` of each page followed) as one array.
    pub async fn ok(self) -> Value {
        let (api, method, path) = (self.api.clone(), self.method.clone(), self.path.clone());
        let reply = self.send().await;
        assert!(
            reply.status.is_success(),
            "{method} {path}: {} {}",
            reply.status,
            reply.text()
        );
        let mut page = reply.json();
        let Some(mut items) = page.get("items").and_then(Value::as_array).cloned() else {
            return page;
        };
        let separator = if path.contains('?') { '&' } else { '?' };
        while let Some(next) = page.get("next").and_then(Value::as_str) {
            let more = format!("{path}{separator}after={next}");
            let reply = api.request(Method::GET, &more, Body::None).send().await;
            assert!(reply.status.is_success(), "GET {more}: {}", reply.text());
            page = reply.json();
            items.extend(page["items"].as_array().unwrap().iter().cloned());
        }
        Value::Array(items)
    }
}

impl<'a> IntoFuture for Call<'a> {
    type Output = Reply;
    type IntoFuture = Pin<Box<dyn Future<Output = Reply> + Send + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}

/// The client against the endpoint table: every call it builds reaches a row, together they
/// reach every row, and every body it builds is valid by the schema of its endpoint.
#[test]
fn the_client_has_a_method_for_every_endpoint() {
    use deskprov::admin::endpoint::{DEFS, Endpoint};
    // Calls are only built here, never sent.
    let nowhere = Client::new(([127, 0, 0, 1], 9).into(), "localhost", &[]).unwrap();
    let api = AdminApi::new(&nowhere, "unused");
    let calls = one_call_per_endpoint(&api);
    let mut reached = std::collections::BTreeSet::new();
    for call in &calls {
        let path = call.path().split('?').next().unwrap();
        let endpoint = Endpoint::route(call.method(), path)
            .unwrap_or_else(|e| panic!("{call} reaches no endpoint: {e:?}"));
        reached.insert(endpoint.def().name);
        if let Body::Json(body) = &call.body
            && let Err(errors) = crate::openapi::validates(call.method(), call.path(), body)
        {
            panic!("{call} is not valid by its schema: {errors}");
        }
    }
    let table: std::collections::BTreeSet<&str> = DEFS.iter().map(|d| d.name).collect();
    assert_eq!(reached, table, "endpoints without a method");
}

/// A call of every client method, with every option, on one device and one user: each
/// endpoint of the table at least once.
pub fn one_call_per_endpoint<'a>(api: &AdminApi<'a>) -> Vec<Call<'a>> {
    let (mac, extension) = ("00:15:65:aa:bb:cc", "1001");
    let device = NewDevice::new(mac)
        .model("T46S")
        .label("Reception")
        .location("Floor 2")
        .profile("floor-2")
        .hotdesk();
    let user = NewUser::new(extension, "Alice")
        .first_name("Alice")
        .last_name("Example")
        .language("en")
        .sip_user("alice")
        .sip_password("alice-secret-0001")
        .pin("739164")
        .generate_pin();
    let filter = DeviceFilter::default()
        .unassigned(true)
        .hotdesk(false)
        .auto_registered(true)
        .not_seen_days(30)
        .model("T46S")
        .profile("floor-2")
        .location("Floor 2");
    vec![
        api.openapi(),
        api.metrics(),
        api.device_events(mac),
        api.list_devices(),
        api.list_devices_where(filter),
        api.create_device(device.clone()),
        api.create_devices(json!({ "devices": [device] })),
        api.show_device(mac),
        api.patch_device(mac, json!({"label": "Desk"})),
        api.delete_device(mac),
        api.delete_devices(&[mac]),
        api.reset_claims(&[mac]),
        api.logout_devices(&[mac]),
        api.assign(mac, 1, extension),
        api.assign_replacing(mac, 1, extension),
        api.unassign(mac, 1),
        api.reset_claim(mac),
        api.rekey(mac),
        api.credentials(mac),
        api.logout_device(mac),
        api.render(mac),
        api.render_file(mac, "y000000000066.cfg"),
        api.device_settings(mac),
        api.patch_device_settings(mac, json!({"language": "de"})),
        api.list_unregistered(),
        api.forget_unregistered(mac),
        api.adopt(mac),
        api.adopt_with(mac, json!({"label": "Lobby"})),
        api.list_users(),
        api.create_user(user),
        api.next_extension(),
        api.bulk_users("lock", &[extension]),
        api.show_user(extension),
        api.patch_user(extension, json!({"language": "de"})),
        api.delete_user(extension),
        api.sip_password(extension),
        api.lock_user(extension),
        api.unlock_user(extension),
        api.logout_user(extension),
        api.reset_pin(extension),
        api.set_portal_password(extension, serde_json::json!({"generate": true})),
        api.settings(),
        api.patch_settings(json!({"language": "de"})),
        api.setting_choices(),
        api.list_profiles(),
        api.create_profile(json!({"name": "floor-2"})),
        api.show_profile("floor-2"),
        api.patch_profile("floor-2", json!({"description": "Floor 2"})),
        api.delete_profile("floor-2"),
        api.list_models(),
        api.model_settings("T46S"),
        api.patch_model_settings("T46S", json!({"language": "de"})),
        api.status(),
        api.list_contacts(),
        api.create_contact(
            json!({"id": "reception", "display_name": "Reception", "office": "100"}),
        ),
        api.show_contact("reception"),
        api.patch_contact("reception", json!({"mobile": "0171 1"})),
        api.delete_contact("reception"),
        api.keys("settings", None),
        api.set_keys("settings", None, json!([])),
        api.keys("devices", Some(mac)),
        api.effective_keys(mac),
        api.set_keys(
            "devices",
            Some(mac),
            json!([{"position": 1, "type": "dnd"}]),
        ),
        api.keys("profiles", Some("floor-2")),
        api.set_keys("profiles", Some("floor-2"), json!([])),
        api.keys("models", Some("T46S")),
        api.set_keys("models", Some("T46S"), json!([])),
        api.keys("users", Some("1001")),
        api.set_keys("users", Some("1001"), json!([])),
        api.list_templates(),
        api.reload_templates(),
        api.send_test_mail("it@example.com"),
        api.list_mail(Some(extension)),
        api.mail_welcome(&[extension]),
        api.mail_reset(&[extension]),
        api.export("users", true),
        api.import("users", "extension,display_name\n1001,Alice\n", true),
        api.list_imports(),
        api.show_import("1"),
        api.list_tokens(),
        api.create_token("ci"),
        api.create_token_with("ci-2", "admin", true, Some("2099-01-01T00:00:00Z")),
        api.revoke_token("ci", true),
        api.list_audit(AuditFilter::kind("admin_change").subject(mac)),
        api.list_bans(),
        api.lift_ban("192.0.2.1"),
        api.lift_ban_64("2001:db8::"),
        api.list_token_blocks(),
        api.lift_token_block("192.0.2.1"),
        api.take_backup(),
        api.require_totp("nobody", true),
        api.reset_totp("nobody"),
        api.list_accounts(),
        api.create_account("walk", "helpdesk"),
        api.show_account("walk"),
        api.patch_account(
            "walk",
            json!({"role": "admin", "reads_secrets": true, "disabled": false}),
        ),
        api.reset_account_password("walk"),
        api.delete_account("walk"),
        api.resync_device(mac),
        api.reboot_device(mac),
        api.resync_devices(&[mac]),
        api.reboot_devices(&[mac]),
        api.replace_device(mac, "001565000002"),
        api.list_firmware(),
        api.upload_firmware("x.rom", b"x"),
        api.delete_firmware("x.rom"),
    ]
}
