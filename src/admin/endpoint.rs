//! The endpoint table of the admin listener: each endpoint declared once, with its method and
//! path, its typed path parameters (decoded exactly once), the access it needs, how it is
//! audited, its body and answer (whose schemas the OpenAPI document is generated from), and its
//! name (the OpenAPI operation id, and the label metrics will count it under). The router
//! ([`Endpoint::parse`]), the dispatch (`admin::dispatch`, an exhaustive match), the body limit
//! and the OpenAPI document (`admin::openapi`) all come from it.

use http::Method;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::Schema;

use crate::domain::{Extension, Mac, ProfileName};
use crate::error::ApiError;

/// The endpoint's body limit: imports and bulk requests may be larger than any other body.
pub fn body_limit(app: &crate::app::App, def: &Def) -> usize {
    match def.body {
        Body::Csv | Body::BulkJson(_) => app.config.limits.max_import_bytes,
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

/// How a caller proves who it is. Room for the routes that take no admin token: `/metrics`
/// (its own token), `/healthz` (none), the console's pages (a session cookie).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// `Authorization: Bearer` with an admin token.
    AdminToken,
}

/// What a caller must be allowed to do. Every admin token may do everything today; the
/// console's roles map onto these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Look at anything but secrets.
    Read,
    /// Change devices, users, settings and templates.
    Change,
    /// Read a secret: provisioning credentials, SIP passwords, rendered configs, secret exports.
    Secrets,
    /// Create and revoke admin tokens, lift bans and blocks.
    Security,
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
    /// Under /api/v1; `{name}` stands for one path segment.
    pub path: &'static str,
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

macro_rules! endpoints {
    ($(
        $(#[doc = $doc:literal])*
        $variant:ident $({ $($param:ident: $ptype:ty),+ $(,)? })? = $method:ident $path:literal {
            name: $name:literal, tag: $tag:literal, summary: $summary:literal,
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
                name: $name,
                tag: $tag,
                summary: $summary,
                description: concat!("" $(, $doc, "\n")*),
                auth: Auth::AdminToken,
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
            fn build(index: usize, params: &[String]) -> Result<Endpoint, ApiError> {
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

use self::Answer::{Csv as CsvAnswer, Document, Json, List, Page, PhoneFile};
use self::Body::{BulkJson, Csv, Json as JsonBody, None as NoBody, OptionalJson};
use crate::admin::schemas as s;

endpoints! {
    OpenApi = GET "/openapi.json" {
        name: "getOpenApi", tag: "meta", summary: "This OpenAPI document",
        access: Read, audit: None, body: NoBody, answer: 200 Document,
        query: [], errors: [],
    }
    /// In pages by MAC; every filter given must hold.
    ListDevices = GET "/devices" {
        name: "listDevices", tag: "devices", summary: "List registered devices",
        access: Read, audit: None, body: NoBody, answer: 200 Page(schema::<s::DeviceView>),
        query: [
            flag("unassigned", "Only devices with no user on any line and nobody logged in (true), or only those with (false)."),
            flag("hotdesk", "Only hot-desk phones (true) or only the others (false)."),
            flag("auto_registered", "Only devices adopted from the unregistered list (true), or only the others."),
            count("not_seen_days", "Only devices not seen for at least this many days, or never."),
            text("model", "Only this model (any case)."),
            text("profile", "Only devices inheriting from this profile."),
            text("location", "Only devices whose location contains this text (any case)."),
        ],
        errors: [400],
    }
    /// Its model is optional: the phone fills it in at its first request.
    CreateDevice = POST "/devices" {
        name: "createDevice", tag: "devices", summary: "Register a device",
        access: Change, audit: Change, body: JsonBody(schema::<s::NewDevice>), answer: 201 Json(schema::<s::DeviceView>),
        query: [], errors: [400, 409, 413],
    }
    /// All of them, or none when one is refused (the error names its index).
    CreateDevices = POST "/devices/bulk" {
        name: "createDevices", tag: "devices", summary: "Register many devices",
        access: Change, audit: Change, body: BulkJson(schema::<s::NewDevices>), answer: 201 List(schema::<s::DeviceView>),
        query: [], errors: [400, 409, 413],
    }
    /// All of them, or none when one is unknown; logins at them end, their uploads go.
    DeleteDevices = POST "/devices/bulk-delete" {
        name: "deleteDevices", tag: "devices", summary: "Delete many devices",
        access: Change, audit: Change, body: BulkJson(schema::<s::MacList>), answer: 200 Json(schema::<s::DeletedDevices>),
        query: [], errors: [400, 404, 413],
    }
    ShowDevice { mac: Mac } = GET "/devices/{mac}" {
        name: "getDevice", tag: "devices", summary: "Show a device",
        access: Read, audit: None, body: NoBody, answer: 200 Json(schema::<s::DeviceView>),
        query: [], errors: [400, 404],
    }
    /// 409 when a line has a user beyond the model's line count, or hotdesk is turned on with
    /// a user on line 1.
    PatchDevice { mac: Mac } = PATCH "/devices/{mac}" {
        name: "updateDevice", tag: "devices", summary: "Change a device",
        access: Change, audit: Change, body: JsonBody(schema::<s::DevicePatch>), answer: 200 Json(schema::<s::DeviceView>),
        query: [], errors: [400, 404, 409, 413],
    }
    /// Ends the logins at the phone and removes its uploads.
    DeleteDevice { mac: Mac } = DELETE "/devices/{mac}" {
        name: "deleteDevice", tag: "devices", summary: "Delete a device",
        access: Change, audit: Change, body: NoBody, answer: 200 Json(schema::<s::Deleted>),
        query: [], errors: [400, 404],
    }
    /// A line that has another user is refused (409) unless `replace` is true.
    AssignLine { mac: Mac, line: String } = PUT "/devices/{mac}/lines/{line}" {
        name: "assignLine", tag: "devices", summary: "Assign a user to a line",
        access: Change, audit: Change, body: JsonBody(schema::<s::LineAssignment>), answer: 200 Json(schema::<s::DeviceView>),
        query: [], errors: [400, 404, 409, 413],
    }
    UnassignLine { mac: Mac, line: String } = DELETE "/devices/{mac}/lines/{line}" {
        name: "unassignLine", tag: "devices", summary: "Free a line",
        access: Change, audit: Change, body: NoBody, answer: 200 Json(schema::<s::DeviceView>),
        query: [], errors: [400, 404],
    }
    /// Opens a new claim window and replaces the provisioning password: for a phone that was
    /// factory-reset or replaced.
    ResetClaim { mac: Mac } = POST "/devices/{mac}/reset-claim" {
        name: "resetDeviceClaim", tag: "devices", summary: "Reopen the claim window",
        access: Change, audit: Change, body: NoBody, answer: 200 Json(schema::<s::DeviceView>),
        query: [], errors: [400, 404],
    }
    /// For configuring a phone by hand; with the admin password of its own web interface.
    Credentials { mac: Mac } = GET "/devices/{mac}/credentials" {
        name: "getDeviceCredentials", tag: "devices", summary: "Show the provisioning credentials",
        access: Secrets, audit: SecretRead, body: NoBody, answer: 200 Json(schema::<s::Credentials>),
        query: [], errors: [400, 404],
    }
    /// 409 when nobody is logged in there.
    LogoutDevice { mac: Mac } = POST "/devices/{mac}/logout" {
        name: "logoutDevice", tag: "devices", summary: "Log out hot-desk users at a phone",
        access: Change, audit: Change, body: NoBody, answer: 200 Json(schema::<s::DeviceView>),
        query: [count("line", "Only this line or DECT handset slot.")],
        errors: [400, 404, 409],
    }
    /// Exactly what the phone would get, without the side effects of a phone request.
    RenderDevice { mac: Mac } = GET "/devices/{mac}/render" {
        name: "renderDeviceFile", tag: "devices", summary: "Render a file as the phone would get it",
        access: Secrets, audit: SecretRead, body: NoBody, answer: 200 PhoneFile,
        query: [
            text("file", "The file name the phone would ask for; its own config by default."),
            text("host", "The host (and port) the phone reaches the server by, when server.public_url is not set."),
        ],
        errors: [400, 404, 409],
    }
    DeviceSettings { mac: Mac } = GET "/devices/{mac}/settings" {
        name: "getDeviceSettings", tag: "devices", summary: "Show a device's settings",
        access: Read, audit: None, body: NoBody, answer: 200 Json(schema::<s::DeviceSettings>),
        query: [], errors: [400, 404],
    }
    /// `null` removes a setting from the device's own layer.
    PatchDeviceSettings { mac: Mac } = PATCH "/devices/{mac}/settings" {
        name: "updateDeviceSettings", tag: "devices", summary: "Change a device's own settings",
        access: Change, audit: Change, body: JsonBody(schema::<s::SettingsPatch>), answer: 200 Json(schema::<s::DeviceSettings>),
        query: [], errors: [400, 404, 413],
    }
    /// In pages by MAC.
    ListUnregistered = GET "/unregistered" {
        name: "listUnregistered", tag: "devices", summary: "List unregistered devices that asked for a config",
        access: Read, audit: None, body: NoBody, answer: 200 Page(schema::<s::UnregisteredView>),
        query: [], errors: [400],
    }
    ForgetUnregistered { mac: Mac } = DELETE "/unregistered/{mac}" {
        name: "forgetUnregistered", tag: "devices", summary: "Forget an unregistered device",
        access: Change, audit: Change, body: NoBody, answer: 200 Json(schema::<s::Deleted>),
        query: [], errors: [400, 404],
    }
    /// With what its requests told about it (model, firmware, last seen).
    Adopt { mac: Mac } = POST "/unregistered/{mac}/adopt" {
        name: "adoptUnregistered", tag: "devices", summary: "Register an unregistered device",
        access: Change, audit: Change, body: OptionalJson(schema::<s::Adoption>), answer: 201 Json(schema::<s::DeviceView>),
        query: [], errors: [400, 404, 409, 413],
    }
    /// In pages by extension.
    ListUsers = GET "/users" {
        name: "listUsers", tag: "users", summary: "List users",
        access: Read, audit: None, body: NoBody, answer: 200 Page(schema::<s::UserView>),
        query: [], errors: [400],
    }
    /// Without an extension, the lowest free one of users.extension_ranges; the answer carries
    /// the SIP password, and a generated PIN once.
    CreateUser = POST "/users" {
        name: "createUser", tag: "users", summary: "Create a user",
        access: Change, audit: Change, body: JsonBody(schema::<s::NewUser>), answer: 201 Json(schema::<s::UserView>),
        query: [], errors: [400, 409, 413],
    }
    NextExtension = GET "/users/next-extension" {
        name: "getNextExtension", tag: "users", summary: "The lowest free extension",
        access: Read, audit: None, body: NoBody, answer: 200 Json(schema::<s::NextExtension>),
        query: [], errors: [409],
    }
    /// All of them, or none when one is unknown.
    BulkUsers = POST "/users/bulk" {
        name: "bulkUsers", tag: "users", summary: "Lock, unlock or delete many users",
        access: Change, audit: Change, body: BulkJson(schema::<s::BulkAction>), answer: 200 Json(schema::<s::BulkResult>),
        query: [], errors: [400, 404, 413],
    }
    ShowUser { extension: Extension } = GET "/users/{extension}" {
        name: "getUser", tag: "users", summary: "Show a user",
        access: Read, audit: None, body: NoBody, answer: 200 Json(schema::<s::UserView>),
        query: [], errors: [400, 404],
    }
    PatchUser { extension: Extension } = PATCH "/users/{extension}" {
        name: "updateUser", tag: "users", summary: "Change a user",
        access: Change, audit: Change, body: JsonBody(schema::<s::UserPatch>), answer: 200 Json(schema::<s::UserView>),
        query: [], errors: [400, 404, 413],
    }
    /// Frees every line they had and ends their login.
    DeleteUser { extension: Extension } = DELETE "/users/{extension}" {
        name: "deleteUser", tag: "users", summary: "Delete a user",
        access: Change, audit: Change, body: NoBody, answer: 200 Json(schema::<s::DeletedUser>),
        query: [], errors: [400, 404],
    }
    SipPassword { extension: Extension } = GET "/users/{extension}/sip-password" {
        name: "getUserSipPassword", tag: "users", summary: "Show a user's SIP password",
        access: Secrets, audit: SecretRead, body: NoBody, answer: 200 Json(schema::<s::SipPasswordView>),
        query: [], errors: [400, 404],
    }
    /// Their phones lose the account at the next fetch, logins are refused, a hot-desk login
    /// ends now.
    LockUser { extension: Extension } = POST "/users/{extension}/lock" {
        name: "lockUser", tag: "users", summary: "Lock a user",
        access: Change, audit: Change, body: NoBody, answer: 200 Json(schema::<s::UserView>),
        query: [], errors: [400, 404],
    }
    /// Also clears a lockout after wrong PINs.
    UnlockUser { extension: Extension } = POST "/users/{extension}/unlock" {
        name: "unlockUser", tag: "users", summary: "Unlock a user",
        access: Change, audit: Change, body: NoBody, answer: 200 Json(schema::<s::UserView>),
        query: [], errors: [400, 404],
    }
    /// 409 when they are not logged in anywhere.
    LogoutUser { extension: Extension } = POST "/users/{extension}/logout" {
        name: "logoutUser", tag: "users", summary: "Log a user out of their hot-desk phone",
        access: Change, audit: Change, body: NoBody, answer: 200 Json(schema::<s::UserView>),
        query: [], errors: [400, 404, 409],
    }
    ShowSettings = GET "/settings" {
        name: "getSettings", tag: "settings", summary: "Show the site-wide settings",
        access: Read, audit: None, body: NoBody, answer: 200 Json(schema::<s::SettingsView>),
        query: [], errors: [],
    }
    /// `null` resets a setting to its default.
    PatchSettings = PATCH "/settings" {
        name: "updateSettings", tag: "settings", summary: "Change the site-wide settings",
        access: Change, audit: Change, body: JsonBody(schema::<s::SettingsPatch>), answer: 200 Json(schema::<s::SettingsView>),
        query: [], errors: [400, 413],
    }
    SettingChoices = GET "/settings/choices" {
        name: "getSettingChoices", tag: "settings", summary: "What the settings accept",
        access: Read, audit: None, body: NoBody, answer: 200 Json(schema::<s::SettingChoices>),
        query: [], errors: [],
    }
    /// In pages by name.
    ListProfiles = GET "/profiles" {
        name: "listProfiles", tag: "profiles", summary: "List settings profiles",
        access: Read, audit: None, body: NoBody, answer: 200 Page(schema::<s::ProfileView>),
        query: [], errors: [400],
    }
    CreateProfile = POST "/profiles" {
        name: "createProfile", tag: "profiles", summary: "Create a settings profile",
        access: Change, audit: Change, body: JsonBody(schema::<s::NewProfile>), answer: 201 Json(schema::<s::ProfileView>),
        query: [], errors: [400, 409, 413],
    }
    ShowProfile { name: ProfileName } = GET "/profiles/{name}" {
        name: "getProfile", tag: "profiles", summary: "Show a settings profile",
        access: Read, audit: None, body: NoBody, answer: 200 Json(schema::<s::ProfileView>),
        query: [], errors: [400, 404],
    }
    PatchProfile { name: ProfileName } = PATCH "/profiles/{name}" {
        name: "updateProfile", tag: "profiles", summary: "Change a settings profile",
        access: Change, audit: Change, body: JsonBody(schema::<s::ProfilePatch>), answer: 200 Json(schema::<s::ProfileView>),
        query: [], errors: [400, 404, 413],
    }
    /// 409 while devices inherit from it.
    DeleteProfile { name: ProfileName } = DELETE "/profiles/{name}" {
        name: "deleteProfile", tag: "profiles", summary: "Delete a settings profile",
        access: Change, audit: Change, body: NoBody, answer: 200 Json(schema::<s::DeletedProfile>),
        query: [], errors: [400, 404, 409],
    }
    /// In pages by vendor and model.
    ListModels = GET "/models" {
        name: "listModels", tag: "models", summary: "List the supported models",
        access: Read, audit: None, body: NoBody, answer: 200 Page(schema::<s::ModelView>),
        query: [], errors: [400],
    }
    ModelSettings { model: String } = GET "/models/{model}/settings" {
        name: "getModelSettings", tag: "models", summary: "Show a model's settings",
        access: Read, audit: None, body: NoBody, answer: 200 Json(schema::<s::ModelSettings>),
        query: [], errors: [404],
    }
    PatchModelSettings { model: String } = PATCH "/models/{model}/settings" {
        name: "updateModelSettings", tag: "models", summary: "Change a model's settings",
        access: Change, audit: Change, body: JsonBody(schema::<s::SettingsPatch>), answer: 200 Json(schema::<s::ModelSettings>),
        query: [], errors: [400, 404, 413],
    }
    ListTemplates = GET "/templates" {
        name: "listTemplates", tag: "templates", summary: "List the templates in use",
        access: Read, audit: None, body: NoBody, answer: 200 List(schema::<s::TemplateView>),
        query: [], errors: [],
    }
    /// The previous set stays in use when the new one does not load (400).
    ReloadTemplates = POST "/templates/reload" {
        name: "reloadTemplates", tag: "templates", summary: "Reload the templates",
        access: Change, audit: Change, body: NoBody, answer: 200 Json(schema::<s::TemplatesReloaded>),
        query: [], errors: [400],
    }
    /// `users` or `devices`; with `secrets=true` the SIP passwords (users) are included.
    Export { subject: String } = GET "/export/{subject}" {
        name: "exportCsv", tag: "import-export", summary: "Export users or devices as CSV",
        access: Read, audit: SecretReadWithSecrets, body: NoBody, answer: 200 CsvAnswer,
        query: [flag("secrets", "Include the secrets (an audited secret read).")],
        errors: [400, 404],
    }
    /// Checks the file's shape at once (400), then checks and applies its rows in the
    /// background: all rows or none.
    Import { subject: String } = POST "/import/{subject}" {
        name: "importCsv", tag: "import-export", summary: "Import users or devices from CSV",
        access: Change, audit: Change, body: Csv, answer: 202 Json(schema::<s::ImportJob>),
        query: [flag("dry_run", "Check every row and change nothing.")],
        errors: [400, 404, 413],
    }
    /// Newest first, in pages.
    ListImports = GET "/imports" {
        name: "listImports", tag: "import-export", summary: "List recent imports",
        access: Read, audit: None, body: NoBody, answer: 200 Page(schema::<s::ImportJob>),
        query: [], errors: [400],
    }
    ShowImport { id: String } = GET "/imports/{id}" {
        name: "getImport", tag: "import-export", summary: "Show an import",
        access: Read, audit: None, body: NoBody, answer: 200 Json(schema::<s::ImportJob>),
        query: [], errors: [404],
    }
    /// In pages by name.
    ListTokens = GET "/tokens" {
        name: "listTokens", tag: "tokens", summary: "List admin tokens",
        access: Security, audit: None, body: NoBody, answer: 200 Page(schema::<s::TokenView>),
        query: [], errors: [400],
    }
    /// The answer is the only place the token is ever shown.
    CreateToken = POST "/tokens" {
        name: "createToken", tag: "tokens", summary: "Create an admin token",
        access: Security, audit: Change, body: JsonBody(schema::<s::NewToken>), answer: 201 Json(schema::<s::CreatedToken>),
        query: [], errors: [400, 409, 413],
    }
    /// By id or name. The last token cannot go; the one the request uses only with `force`.
    RevokeToken { token: String } = DELETE "/tokens/{token}" {
        name: "revokeToken", tag: "tokens", summary: "Revoke an admin token",
        access: Security, audit: Change, body: NoBody, answer: 200 Json(schema::<s::TokenView>),
        query: [flag("force", "Revoke the token this request uses.")],
        errors: [400, 404, 409],
    }
    /// Newest first, in pages.
    ListAudit = GET "/audit" {
        name: "listAudit", tag: "security", summary: "Query the audit trail",
        access: Read, audit: None, body: NoBody, answer: 200 Page(schema::<s::AuditView>),
        query: [
            text("kind", "Only records of this kind."),
            text("subject", "Only records about this subject: a MAC (any notation), an extension, a name."),
            text("source", "Only records from this address."),
            time("since", "Only records from this time on (RFC 3339)."),
        ],
        errors: [400],
    }
    /// In pages by source.
    ListBans = GET "/bans" {
        name: "listBans", tag: "security", summary: "List banned and counting sources",
        access: Read, audit: None, body: NoBody, answer: 200 Page(schema::<s::BanView>),
        query: [], errors: [400],
    }
    LiftBan { source: String } = DELETE "/bans/{source}" {
        name: "liftBan", tag: "security", summary: "Lift a source's ban",
        access: Security, audit: Change, body: NoBody, answer: 200 Json(schema::<s::Lifted>),
        query: [], errors: [400, 404],
    }
    /// An IPv6 /64 written with its slash unencoded.
    LiftBan64 { prefix: String } = DELETE "/bans/{prefix}/64" {
        name: "liftBan64", tag: "security", summary: "Lift an IPv6 /64's ban",
        access: Security, audit: Change, body: NoBody, answer: 200 Json(schema::<s::Lifted>),
        query: [], errors: [400, 404],
    }
    /// Addresses that sent too many wrong admin tokens, in pages by source.
    ListTokenBlocks = GET "/token-blocks" {
        name: "listTokenBlocks", tag: "security", summary: "List addresses blocked for wrong admin tokens",
        access: Read, audit: None, body: NoBody, answer: 200 Page(schema::<s::TokenBlockView>),
        query: [], errors: [400],
    }
    LiftTokenBlock { source: String } = DELETE "/token-blocks/{source}" {
        name: "liftTokenBlock", tag: "security", summary: "Lift an address's block for wrong admin tokens",
        access: Security, audit: Change, body: NoBody, answer: 200 Json(schema::<s::Lifted>),
        query: [], errors: [400, 404],
    }
}

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
            | E::Credentials { mac }
            | E::LogoutDevice { mac }
            | E::RenderDevice { mac }
            | E::DeviceSettings { mac }
            | E::PatchDeviceSettings { mac }
            | E::ForgetUnregistered { mac }
            | E::Adopt { mac } => Some(mac.to_string()),
            E::ShowUser { extension }
            | E::PatchUser { extension }
            | E::DeleteUser { extension }
            | E::SipPassword { extension }
            | E::LockUser { extension }
            | E::UnlockUser { extension }
            | E::LogoutUser { extension } => Some(extension.to_string()),
            E::ShowProfile { name } | E::PatchProfile { name } | E::DeleteProfile { name } => {
                Some(name.to_string())
            }
            E::Export { subject } | E::Import { subject } => Some(subject.clone()),
            _ => None,
        }
    }

    /// The endpoint `path` (under /api/v1) names for `method`, its parameters decoded once.
    /// HEAD is answered as GET. A path that exists for other methods only is a 405 with
    /// the methods it takes.
    pub fn parse(method: &Method, path: &str) -> Result<Endpoint, ApiError> {
        let method = if method == Method::HEAD {
            &Method::GET
        } else {
            method
        };
        let segments: Vec<&str> = path.split('/').skip(1).collect();
        let mut allowed: Vec<&'static str> = Vec::new();
        for (index, def) in DEFS.iter().enumerate() {
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
            Err(ApiError::NotFound(format!(
                "no such endpoint: /api/v1{path}"
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
mod tests {
    use super::*;

    #[test]
    fn each_rows_parameters_are_its_paths_placeholders_in_order() {
        for def in DEFS {
            let placeholders: Vec<&str> = def
                .path
                .split('/')
                .filter_map(|p| p.strip_prefix('{').and_then(|p| p.strip_suffix('}')))
                .collect();
            let declared: Vec<&str> = def.params.iter().map(|(name, _)| *name).collect();
            assert_eq!(placeholders, declared, "{} {}", def.method, def.path);
        }
    }

    #[test]
    fn names_are_unique_and_every_row_is_reachable() {
        for (i, def) in DEFS.iter().enumerate() {
            assert!(
                DEFS[..i].iter().all(|d| d.name != def.name),
                "{} twice",
                def.name
            );
            let path: String = def
                .path
                .split('/')
                .map(|p| match p {
                    "{mac}" => "001565aabbcc",
                    "{extension}" => "1001",
                    "{name}" => "floor-2",
                    p if p.starts_with('{') => "1",
                    p => p,
                })
                .collect::<Vec<_>>()
                .join("/");
            let endpoint = Endpoint::parse(&def.method, &path);
            assert!(
                endpoint.as_ref().is_ok_and(|e| std::ptr::eq(e.def(), def)),
                "{} {path} does not reach its own row",
                def.method
            );
        }
    }

    #[test]
    fn parameters_are_decoded_once_and_typed() {
        assert_eq!(
            Endpoint::parse(&Method::DELETE, "/tokens/ci%2541").unwrap(),
            Endpoint::RevokeToken {
                token: "ci%41".into()
            }
        );
        assert_eq!(
            Endpoint::parse(&Method::GET, "/devices/00%3A15%3A65%3Aaa%3Abb%3Acc").unwrap(),
            Endpoint::ShowDevice {
                mac: Mac::parse("001565aabbcc").unwrap()
            }
        );
        assert!(matches!(
            Endpoint::parse(&Method::GET, "/devices/nonsense"),
            Err(ApiError::BadRequest(_))
        ));
        assert!(matches!(
            Endpoint::parse(&Method::PUT, "/settings"),
            Err(ApiError::MethodNotAllowed(allowed)) if allowed == "GET, HEAD, PATCH"
        ));
        assert_eq!(
            Endpoint::parse(&Method::HEAD, "/settings").unwrap(),
            Endpoint::ShowSettings
        );
    }
}
