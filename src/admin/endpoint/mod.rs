//! The endpoint table of the admin listener: each endpoint declared once, with its method and
//! path, its typed path parameters (decoded exactly once), the access it needs, how it is
//! audited, its body and answer (whose schemas the OpenAPI document is generated from), and its
//! name (the OpenAPI operation id, and the label metrics will count it under). The router
//! ([`Endpoint::parse`]), the dispatch (`admin::dispatch`, an exhaustive match), the body limit
//! and the OpenAPI document (`admin::openapi`) all come from it.

use http::Method;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::Schema;

use crate::domain::{Extension, Mac, ProfileName, Username};
use crate::error::ApiError;

/// The endpoint's body limit: imports and bulk requests may be larger than any other body.
pub fn body_limit(app: &crate::app::App, def: &Def) -> usize {
    match def.body {
        Body::Csv | Body::BulkJson(_) => app.config.limits.max_import_bytes,
        Body::Firmware => 0,
        Body::None | Body::Json(_) | Body::OptionalJson(_) => {
            app.config.limits.max_admin_body_bytes
        }
    }
}

/// Registers a schema (and those it refers to) and answers a reference to it.
pub type SchemaFn = fn(&mut Vec<(String, RefOr<Schema>)>) -> RefOr<Schema>;

/// The schema of `T` as a component, referred to by name.
pub fn schema<T: utoipa::ToSchema>(components: &mut Vec<(String, RefOr<Schema>)>) -> RefOr<Schema> {
    components.push((T::name().into_owned(), T::schema()));
    T::schemas(components);
    RefOr::Ref(utoipa::openapi::Ref::from_schema_name(T::name()))
}

/// How a caller proves who it is. Room for the routes that take no admin token: the
/// console's pages (a session cookie). `/healthz` and `/readyz` take none and are answered
/// before the table (health.rs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// `Authorization: Bearer` with an admin token.
    AdminToken,
    /// An admin token, or none from an address in `metrics.allow_networks` (Prometheus).
    TokenOrScrapeAddress,
}

/// Where an endpoint's path is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mount {
    /// Under /api/v1.
    Api,
    /// At the listener's root, where the tools that call it look (`/metrics`).
    Root,
}

/// The prefix of the [`Mount::Api`] endpoints' paths.
pub const API_PREFIX: &str = "/api/v1";

/// Whether a path on the admin listener is the API's (anything under `/api/`, and the
/// root-mounted rows); the rest is the console's.
pub fn owns(path: &str) -> bool {
    path.starts_with("/api/")
        || path == "/api"
        || DEFS
            .iter()
            .any(|def| def.mount == Mount::Root && def.path == path)
}

/// What a caller must be allowed to do; which roles may is decided in `admin::roles`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Look at anything but secrets.
    Read,
    /// The helpdesk's fixes: unlock, reset a PIN or a claim, log out a hot-desk session, resync.
    Helpdesk,
    /// Change devices, users, profiles, model settings, contacts and keys; import.
    Change,
    /// Change what the whole site shares: site settings and keys, templates, firmware.
    Site,
    /// Read a secret: provisioning credentials, SIP passwords, rendered configs, secret exports.
    Secrets,
    /// Admin tokens, console accounts, bans and blocks, backups.
    Security,
    /// One's own account in the console: password, language, logging out. Every role.
    Own,
    /// Read the metrics: owner tokens and `metrics` tokens (and scrape addresses, by `Auth`).
    Metrics,
}

/// How a call is recorded in the audit trail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audit {
    None,
    /// The operation records the change itself, under its canonical subject.
    Change,
    /// The read hands out a secret: who read which is recorded after it succeeded.
    SecretRead,
    /// A secret read only with `?secrets=true`.
    SecretReadWithSecrets,
}

#[derive(Clone, Copy)]
pub enum Body {
    None,
    Json(SchemaFn),
    /// A JSON body that may be left out (then it is `{}`).
    OptionalJson(SchemaFn),
    /// Many items at once: read up to the import size, so `maxItems` fits in the limit.
    BulkJson(SchemaFn),
    Csv,
    /// A firmware file, streamed to disk by its handler rather than read into memory.
    Firmware,
}

#[derive(Clone, Copy)]
pub enum Answer {
    Json(SchemaFn),
    /// A JSON array of these.
    List(SchemaFn),
    /// A page of a list: `{"items": [...], "next": ...}`.
    Page(SchemaFn),
    Csv,
    /// A phone's file as the phone gets it.
    PhoneFile,
    /// This API's OpenAPI document.
    Document,
    /// The metrics in the OpenMetrics text format.
    Metrics,
    /// A backup file (gzip).
    Backup,
}

/// A query parameter an endpoint takes, for its documentation.
#[derive(Debug, Clone, Copy)]
pub struct QueryParam {
    pub name: &'static str,
    pub kind: QueryKind,
    pub description: &'static str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryKind {
    Flag,
    Text,
    Count,
    Time,
}

pub const fn flag(name: &'static str, description: &'static str) -> QueryParam {
    QueryParam {
        name,
        kind: QueryKind::Flag,
        description,
    }
}

pub const fn text(name: &'static str, description: &'static str) -> QueryParam {
    QueryParam {
        name,
        kind: QueryKind::Text,
        description,
    }
}

pub const fn count(name: &'static str, description: &'static str) -> QueryParam {
    QueryParam {
        name,
        kind: QueryKind::Count,
        description,
    }
}

pub const fn time(name: &'static str, description: &'static str) -> QueryParam {
    QueryParam {
        name,
        kind: QueryKind::Time,
        description,
    }
}

/// A path parameter's name and schema.
pub type ParamDef = (&'static str, fn() -> Schema);

/// One row of the table.
pub struct Def {
    pub method: Method,
    /// Under its mount; `{name}` stands for one path segment.
    pub path: &'static str,
    pub mount: Mount,
    /// The OpenAPI operation id; also the endpoint's name in logs and metrics.
    pub name: &'static str,
    pub tag: &'static str,
    pub summary: &'static str,
    pub description: &'static str,
    pub auth: Auth,
    pub access: Access,
    pub audit: Audit,
    pub body: Body,
    pub status: u16,
    pub answer: Answer,
    pub query: &'static [QueryParam],
    /// Error statuses it answers besides 401, 405, 408 and 429, which every endpoint may.
    pub errors: &'static [u16],
    /// The path parameters in order, with their schemas.
    pub params: &'static [ParamDef],
}

/// A path parameter: parsed from its one percent-decoded segment.
pub trait PathParam: Sized {
    fn parse(name: &'static str, segment: &str) -> Result<Self, ApiError>;
    fn schema() -> Schema;
}

fn string_schema(pattern: Option<&str>, description: &str) -> Schema {
    let mut builder = utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .description(Some(description));
    if let Some(pattern) = pattern {
        builder = builder.pattern(Some(pattern));
    }
    Schema::Object(builder.build())
}

impl PathParam for Mac {
    fn parse(_: &'static str, segment: &str) -> Result<Mac, ApiError> {
        Ok(Mac::parse(segment)?)
    }

    fn schema() -> Schema {
        string_schema(
            Some(crate::admin::schemas::MAC_PATTERN),
            "A MAC address: 12 hex digits, optionally in pairs separated by : or -, or in groups of four separated by dots.",
        )
    }
}

impl PathParam for Extension {
    fn parse(name: &'static str, segment: &str) -> Result<Extension, ApiError> {
        Ok(Extension::parse_field(name, segment)?)
    }

    fn schema() -> Schema {
        string_schema(Some("^[0-9]{1,15}$"), "An extension: 1 to 15 digits.")
    }
}

impl PathParam for ProfileName {
    fn parse(_: &'static str, segment: &str) -> Result<ProfileName, ApiError> {
        Ok(ProfileName::parse(segment)?)
    }

    fn schema() -> Schema {
        string_schema(
            Some(crate::admin::schemas::PROFILE_NAME_PATTERN),
            "A settings profile's name.",
        )
    }
}

impl PathParam for Username {
    fn parse(_: &'static str, segment: &str) -> Result<Username, ApiError> {
        Ok(Username::parse(segment)?)
    }

    fn schema() -> Schema {
        string_schema(
            Some("^[a-z0-9._@-]{1,64}$"),
            "A console account's name: 1 to 64 lower-case letters, digits, '.', '_', '-' or '@'.",
        )
    }
}

/// A path segment taken as text (a model, a line number, a token's id or name, a source);
/// its endpoint checks it.
impl PathParam for String {
    fn parse(_: &'static str, segment: &str) -> Result<String, ApiError> {
        Ok(segment.to_string())
    }

    fn schema() -> Schema {
        string_schema(None, "See the operation.")
    }
}

/// A row's optional field: the value given, else the default.
macro_rules! given_or {
    ($default:expr) => {
        $default
    };
    ($default:expr, $given:expr) => {
        $given
    };
}

macro_rules! endpoints {
    ($(
        $(#[doc = $doc:literal])*
        $variant:ident $({ $($param:ident: $ptype:ty),+ $(,)? })? = $method:ident $path:literal {
            name: $name:literal, tag: $tag:literal, summary: $summary:literal,
            $(auth: $auth:ident, mount: $mount:ident,)?
            access: $access:ident, audit: $audit:ident,
            body: $body:expr, answer: $status:literal $answer:expr,
            query: [$($query:expr),* $(,)?], errors: [$($error:literal),* $(,)?] $(,)?
        }
    )*) => {
        /// Every endpoint of the admin API, with its typed path parameters.
        #[derive(Debug, Clone, PartialEq)]
        pub enum Endpoint {
            $( $variant $({ $($param: $ptype),+ })?, )*
        }

        #[allow(clippy::enum_variant_names)]
        #[derive(Clone, Copy)]
        enum Index {
            $( $variant, )*
        }

        /// The table, in the order literal paths must be tried before the patterns they match.
        pub static DEFS: &[Def] = &[
            $( Def {
                method: Method::$method,
                path: $path,
                mount: given_or!(Mount::Api $(, Mount::$mount)?),
                name: $name,
                tag: $tag,
                summary: $summary,
                description: concat!("" $(, $doc, "\n")*),
                auth: given_or!(Auth::AdminToken $(, Auth::$auth)?),
                access: Access::$access,
                audit: Audit::$audit,
                body: $body,
                status: $status,
                answer: $answer,
                query: &[$($query),*],
                errors: &[$($error),*],
                params: &[$($((stringify!($param), <$ptype as PathParam>::schema)),+)?],
            }, )*
        ];

        impl Endpoint {
            pub fn def(&self) -> &'static Def {
                match self {
                    $( Endpoint::$variant { .. } => &DEFS[Index::$variant as usize], )*
                }
            }

            /// The endpoint of row `index` from its decoded path parameters.
            pub(super) fn build(index: usize, params: &[String]) -> Result<Endpoint, ApiError> {
                $(
                    if index == Index::$variant as usize {
                        #[allow(unused_mut, unused_variables)]
                        let mut segments = params.iter();
                        return Ok(Endpoint::$variant $({ $(
                            $param: <$ptype as PathParam>::parse(
                                stringify!($param),
                                segments.next().expect("a matched route has its parameters"),
                            )?,
                        )+ })?);
                    }
                )*
                unreachable!("row {index} is in the table")
            }
        }
    };
}

mod table;

pub use table::{DEFS, Endpoint};

impl Endpoint {
    /// What the call concerns, as the audit trail names it: a MAC as 12 hex digits, an
    /// extension, a profile name.
    pub fn subject(&self) -> Option<String> {
        use Endpoint as E;
        match self {
            E::ShowDevice { mac }
            | E::PatchDevice { mac }
            | E::DeleteDevice { mac }
            | E::AssignLine { mac, .. }
            | E::UnassignLine { mac, .. }
            | E::ResetClaim { mac }
            | E::RekeyDevice { mac }
            | E::Credentials { mac }
            | E::LogoutDevice { mac }
            | E::RenderDevice { mac }
            | E::DeviceSettings { mac }
            | E::PatchDeviceSettings { mac }
            | E::DeviceKeys { mac }
            | E::PutDeviceKeys { mac }
            | E::DeviceEvents { mac }
            | E::ForgetUnregistered { mac }
            | E::Adopt { mac } => Some(mac.to_string()),
            E::ShowUser { extension }
            | E::PatchUser { extension }
            | E::DeleteUser { extension }
            | E::SipPassword { extension }
            | E::LockUser { extension }
            | E::UnlockUser { extension }
            | E::LogoutUser { extension }
            | E::ResetUserPin { extension }
            | E::SetPortalPassword { extension }
            | E::UserKeys { extension }
            | E::PutUserKeys { extension } => Some(extension.to_string()),
            E::ShowProfile { name }
            | E::PatchProfile { name }
            | E::DeleteProfile { name }
            | E::ProfileKeys { name }
            | E::PutProfileKeys { name } => Some(name.to_string()),
            E::Export { subject } | E::Import { subject } => Some(subject.clone()),
            _ => None,
        }
    }

    /// The endpoint a request's whole `path` names for `method`: under /api/v1, or one of the
    /// few at the root.
    pub fn route(method: &Method, path: &str) -> Result<Endpoint, ApiError> {
        match path.strip_prefix(API_PREFIX) {
            Some(rest) => Endpoint::parse(method, rest),
            None => Endpoint::parse_in(Mount::Root, method, path),
        }
    }

    /// The endpoint `path` (under /api/v1) names for `method`, its parameters decoded once.
    /// HEAD is answered as GET. A path that exists for other methods only is a 405 with
    /// the methods it takes.
    pub fn parse(method: &Method, path: &str) -> Result<Endpoint, ApiError> {
        Endpoint::parse_in(Mount::Api, method, path)
    }

    fn parse_in(mount: Mount, method: &Method, path: &str) -> Result<Endpoint, ApiError> {
        let method = if method == Method::HEAD {
            &Method::GET
        } else {
            method
        };
        let segments: Vec<&str> = path.split('/').skip(1).collect();
        let mut allowed: Vec<&'static str> = Vec::new();
        for (index, def) in DEFS.iter().enumerate() {
            if def.mount != mount {
                continue;
            }
            let Some(params) = matches(def.path, &segments) else {
                continue;
            };
            if def.method == *method {
                return Endpoint::build(index, &params);
            }
            allowed.push(def.method.as_str());
            if def.method == Method::GET {
                allowed.push("HEAD");
            }
        }
        if allowed.is_empty() {
            let prefix = if mount == Mount::Api { API_PREFIX } else { "" };
            Err(ApiError::NotFound(format!(
                "no such endpoint: {prefix}{path}"
            )))
        } else {
            Err(ApiError::MethodNotAllowed(allowed.join(", ")))
        }
    }
}

/// The decoded `{name}` segments if `segments` are a path of `pattern`.
fn matches(pattern: &str, segments: &[&str]) -> Option<Vec<String>> {
    let parts: Vec<&str> = pattern.split('/').skip(1).collect();
    if parts.len() != segments.len() {
        return None;
    }
    let mut params = Vec::new();
    for (part, segment) in parts.iter().zip(segments) {
        if part.starts_with('{') {
            if segment.is_empty() {
                return None;
            }
            params.push(
                percent_encoding::percent_decode_str(segment)
                    .decode_utf8_lossy()
                    .into_owned(),
            );
        } else if part != segment {
            return None;
        }
    }
    Some(params)
}

#[cfg(test)]
mod tests;
