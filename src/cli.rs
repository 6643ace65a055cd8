//! The `deskprov` command: `serve` runs the server; every other command is a client of the
//! admin API, reading the admin token from DESKPROV_TOKEN or `<data>/admin.token` and trusting
//! the server certificate in `<certs>/server.crt`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use http::Method;
use serde_json::{Map, Value, json};

use crate::client::{Client, Reply};
use crate::config::Config;

#[derive(Parser, Debug)]
#[command(
    name = "deskprov",
    version,
    about = "HTTPS provisioning server for SIP desk phones and DECT bases"
)]
pub struct Cli {
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args, Debug, Clone)]
pub struct CommonArgs {
    /// TOML configuration file; flags override it.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Data directory (database, admin token).
    #[arg(long = "data", global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Directory of server.crt and server.key.
    #[arg(long = "certs", global = true, value_name = "DIR")]
    pub certs_dir: Option<PathBuf>,
    /// Address of the admin listener.
    #[arg(long, global = true, value_name = "ADDR")]
    pub admin_listen: Option<SocketAddr>,
    /// Print the API's JSON instead of a table.
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the provisioning server.
    Serve {
        /// Address of the phones' listener.
        #[arg(long, value_name = "ADDR")]
        phone_listen: Option<SocketAddr>,
    },
    /// Register, list and change phones and DECT bases.
    #[command(subcommand)]
    Devices(DeviceCommand),
    /// Create, list and change users.
    #[command(subcommand)]
    Users(UserCommand),
    /// Show or change the site-wide settings every config inherits.
    #[command(subcommand)]
    Settings(SettingsCommand),
    /// Settings profiles: named sets of settings devices inherit from.
    #[command(subcommand)]
    Profiles(ProfileCommand),
    /// List the supported models, or show and change one model's settings.
    Models {
        #[command(subcommand)]
        command: Option<ModelCommand>,
    },
    /// List the phone templates in use, check them, or reload them into the running server.
    #[command(subcommand)]
    Templates(TemplateCommand),
    /// Write users or devices as CSV (the columns import reads).
    Export {
        #[arg(value_parser = ["users", "devices"])]
        subject: String,
        /// Include SIP passwords (recorded in the audit trail).
        #[arg(long)]
        secrets: bool,
        /// Write to FILE instead of standard output.
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Create and update users or devices from a CSV file: all rows or none, showing progress.
    /// An empty cell leaves a value as it is, `-` clears it; importing a file twice changes
    /// nothing the second time.
    Import {
        #[arg(value_parser = ["users", "devices"])]
        subject: String,
        file: PathBuf,
        /// Check every row and report, change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Recent imports and their reports.
    Imports {
        /// One import by id.
        id: Option<String>,
    },
    /// Print the admin API's OpenAPI document.
    Openapi,
    /// Create, list and revoke admin API tokens.
    #[command(subcommand)]
    Tokens(TokenCommand),
    /// Show the audit trail: admin changes and security events, newest first.
    Audit {
        /// Only this kind (admin_change, source_banned, login_failure, config_refused, ...).
        #[arg(long)]
        kind: Option<String>,
        /// Only about this MAC, extension or source.
        #[arg(long)]
        subject: Option<String>,
        /// Only from this address.
        #[arg(long)]
        source: Option<String>,
        /// Only since this RFC 3339 time (2026-11-22T08:00:00Z).
        #[arg(long)]
        since: Option<String>,
        /// At most this many records (1 to 1000; 100 by default).
        #[arg(long)]
        limit: Option<u32>,
    },
    /// Show and lift bans on sources that swept MACs.
    #[command(subcommand)]
    Bans(BanCommand),
    /// Print exactly what the phone with this MAC gets for its own config (or --file).
    Render {
        mac: String,
        /// Another file the phone fetches, such as its common file.
        #[arg(long)]
        file: Option<String>,
        /// The host[:port] the phone reaches the server by, when server.public_url is not set.
        #[arg(long)]
        host: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum ProfileCommand {
    List,
    Show {
        name: String,
    },
    /// Create a profile with KEY=VALUE settings (see `deskprov settings choices`).
    Add {
        name: String,
        #[arg(long)]
        description: Option<String>,
        pairs: Vec<String>,
    },
    /// Change a profile's settings (KEY= removes one from the profile) or description.
    Edit {
        name: String,
        /// "" clears.
        #[arg(long)]
        description: Option<String>,
        pairs: Vec<String>,
    },
    /// Delete a profile no device uses.
    Remove {
        name: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum ModelCommand {
    /// Show the settings every device of this model inherits.
    Settings { model: String },
    /// Set KEY=VALUE settings for every device of this model (KEY= removes one).
    Set { model: String, pairs: Vec<String> },
}

#[derive(Subcommand, Debug)]
pub enum TemplateCommand {
    /// The templates the running server uses, shipped or overridden.
    List,
    /// Load the shipped templates and the override directory (server.templates_dir) here,
    /// without a server, and report the first broken one.
    Check,
    /// Make the running server load its templates again (as SIGHUP does).
    Reload,
}

/// Filters of `devices list`; all given must hold.
#[derive(clap::Args, Debug, Default)]
pub struct DeviceFilter {
    /// Only devices without users on any line.
    #[arg(long)]
    unassigned: bool,
    /// Only hot-desk phones.
    #[arg(long)]
    hotdesk: bool,
    /// Only devices registered by adopting them from the unregistered list.
    #[arg(long)]
    auto_registered: bool,
    /// Only devices not seen for this many days (or never).
    #[arg(long, value_name = "DAYS")]
    not_seen_days: Option<u32>,
    #[arg(long)]
    model: Option<String>,
    #[arg(long)]
    profile: Option<String>,
    /// Location containing this text.
    #[arg(long)]
    location: Option<String>,
}

impl DeviceFilter {
    fn query(self) -> String {
        let flags = [
            ("unassigned", self.unassigned),
            ("hotdesk", self.hotdesk),
            ("auto_registered", self.auto_registered),
        ];
        let mut pairs: Vec<(&str, String)> = flags
            .into_iter()
            .filter(|(_, on)| *on)
            .map(|(k, _)| (k, "true".to_string()))
            .collect();
        let values = [
            ("not_seen_days", self.not_seen_days.map(|d| d.to_string())),
            ("model", self.model),
            ("profile", self.profile),
            ("location", self.location),
        ];
        pairs.extend(values.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))));
        query_string(&pairs)
    }
}

/// `?k=v&...` with values percent-encoded; empty when there are none.
fn query_string(pairs: &[(&str, String)]) -> String {
    if pairs.is_empty() {
        return String::new();
    }
    let encoded: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", mac_path(v)))
        .collect();
    format!("?{}", encoded.join("&"))
}

/// What a new device is given, for `add` and `add-many`.
#[derive(clap::Args, Debug, Default)]
pub struct DeviceFields {
    #[arg(long)]
    model: Option<String>,
    #[arg(long)]
    label: Option<String>,
    #[arg(long)]
    location: Option<String>,
    /// The settings profile it inherits from.
    #[arg(long)]
    profile: Option<String>,
    /// Users log in at this phone with extension and PIN.
    #[arg(long)]
    hotdesk: bool,
    /// Serve it only to the phone's factory client certificate (needs certs/vendor-ca/).
    #[arg(long)]
    certificate_required: bool,
}

impl DeviceFields {
    fn body(&self, mac: &str) -> Value {
        let mut body = Map::new();
        body.insert("mac".into(), Value::String(mac.to_string()));
        put(&mut body, "model", self.model.clone());
        put(&mut body, "label", self.label.clone());
        put(&mut body, "location", self.location.clone());
        put(&mut body, "profile", self.profile.clone());
        if self.hotdesk {
            body.insert("hotdesk".into(), Value::Bool(true));
        }
        if self.certificate_required {
            body.insert("certificate_required".into(), Value::Bool(true));
        }
        Value::Object(body)
    }
}

#[derive(Subcommand, Debug)]
pub enum DeviceCommand {
    /// List registered devices, optionally filtered.
    List {
        #[command(flatten)]
        filter: DeviceFilter,
    },
    /// Register a device by MAC, in any common notation.
    Add {
        mac: String,
        #[command(flatten)]
        fields: DeviceFields,
    },
    /// Register several devices with the same fields: all of them, or none if one is refused.
    AddMany {
        #[arg(required = true)]
        macs: Vec<String>,
        #[command(flatten)]
        fields: DeviceFields,
    },
    /// The effective settings, each with where it comes from (default, profile, model, device).
    Settings {
        mac: String,
    },
    /// Set KEY=VALUE settings of this device alone (KEY= removes one).
    Set {
        mac: String,
        pairs: Vec<String>,
    },
    Show {
        mac: String,
    },
    /// Change model, label, location or profile ("" clears), or whether it is a hot-desk phone.
    Edit {
        mac: String,
        #[arg(long)]
        model: Option<String>,
        #[arg(long)]
        label: Option<String>,
        #[arg(long)]
        location: Option<String>,
        #[arg(long)]
        profile: Option<String>,
        #[arg(long, value_name = "true|false")]
        hotdesk: Option<bool>,
        #[arg(long, value_name = "true|false")]
        certificate_required: Option<bool>,
    },
    /// Log out whoever is logged in at a hot-desk phone (--line: only that line or handset).
    Logout {
        mac: String,
        #[arg(long)]
        line: Option<u16>,
    },
    Remove {
        mac: String,
    },
    /// Put a user (by extension) on a line, or a DECT handset slot.
    Assign {
        mac: String,
        line: u16,
        user: String,
    },
    Unassign {
        mac: String,
        line: u16,
    },
    /// Open a new claim window and replace the device's provisioning password.
    ResetClaim {
        mac: String,
    },
    /// Show the provisioning credentials, to configure a phone by hand.
    Credentials {
        mac: String,
    },
    /// List MACs that asked for files but are not registered.
    Unregistered,
    /// Register a seen-unregistered device with what it reported.
    Adopt {
        mac: String,
        #[arg(long)]
        label: Option<String>,
    },
    /// Drop a MAC from the seen-unregistered list.
    Forget {
        mac: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum TokenCommand {
    /// List tokens by id and name (the tokens themselves are never stored).
    List,
    /// Create a token; it is shown once.
    Create { name: String },
    /// Revoke a token by id or name (the last token cannot be revoked).
    Revoke { token: String },
}

#[derive(Subcommand, Debug)]
pub enum BanCommand {
    /// Banned sources, and those counting refused MACs towards a ban.
    List,
    /// Lift the ban on an address (an IPv6 address lifts its /64).
    Lift { address: String },
}

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    List,
    /// Create a user; the extension is the next free one and the SIP password is generated
    /// when not given.
    Add {
        extension: Option<String>,
        /// The name phones show; defaults to first and last name.
        #[arg(long = "name")]
        display_name: Option<String>,
        #[arg(long)]
        first_name: Option<String>,
        #[arg(long)]
        last_name: Option<String>,
        /// The phone's language while the user is on its first line (de, fr, ...).
        #[arg(long)]
        language: Option<String>,
        #[arg(long)]
        sip_user: Option<String>,
        #[arg(long)]
        sip_password: Option<String>,
        #[arg(long)]
        email: Option<String>,
        #[command(flatten)]
        pin: PinArgs,
        /// The user may not log in at hot-desk phones.
        #[arg(long)]
        no_hotdesk: bool,
    },
    Show {
        extension: String,
    },
    /// Change a user; "" clears first name, last name, language or email.
    Edit {
        extension: String,
        #[arg(long = "name")]
        display_name: Option<String>,
        #[arg(long)]
        first_name: Option<String>,
        #[arg(long)]
        last_name: Option<String>,
        #[arg(long)]
        language: Option<String>,
        #[arg(long)]
        sip_user: Option<String>,
        #[arg(long)]
        sip_password: Option<String>,
        /// Replace the SIP password by a new random one.
        #[arg(long)]
        regenerate_sip_password: bool,
        /// "" clears.
        #[arg(long)]
        email: Option<String>,
        #[command(flatten)]
        pin: PinArgs,
        #[arg(long, value_name = "true|false")]
        may_hotdesk: Option<bool>,
        /// A locked user's phones lose the account at their next fetch, and logins are refused.
        #[arg(long, value_name = "true|false")]
        locked: Option<bool>,
    },
    /// Lock users: their phones lose the account at the next fetch and logins are refused.
    /// Several extensions: all or none.
    Lock {
        #[arg(required = true)]
        extensions: Vec<String>,
    },
    /// Unlock users, and clear a lockout after wrong PINs. Several extensions: all or none.
    Unlock {
        #[arg(required = true)]
        extensions: Vec<String>,
    },
    /// The lowest free extension of the configured ranges.
    NextExtension,
    /// Log the user out of the hot-desk phone they are at.
    Logout {
        extension: String,
    },
    /// Delete users, free their lines and log them out. Several extensions: all or none.
    Remove {
        #[arg(required = true)]
        extensions: Vec<String>,
    },
    /// Show the user's SIP password (to configure the PBX).
    SipPassword {
        extension: String,
    },
}

/// How a PIN is given. A PIN on the command line stays in the shell's history: prefer
/// --pin-stdin or --generate-pin.
#[derive(clap::Args, Debug, Default)]
pub struct PinArgs {
    /// The hot-desk PIN (digits; the PIN policy applies).
    #[arg(long, conflicts_with_all = ["pin_stdin", "generate_pin"])]
    pin: Option<String>,
    /// Read the PIN from the first line of standard input.
    #[arg(long, conflicts_with = "generate_pin")]
    pin_stdin: bool,
    /// Generate a random PIN; it is shown once.
    #[arg(long)]
    generate_pin: bool,
    /// The user must choose a new PIN at the next login.
    #[arg(long)]
    pin_change_required: bool,
}

impl PinArgs {
    fn add_to(self, body: &mut Map<String, Value>) -> Result<(), String> {
        let pin = match (self.pin, self.pin_stdin) {
            (Some(pin), _) => Some(pin),
            (None, true) => {
                let mut line = String::new();
                std::io::stdin()
                    .read_line(&mut line)
                    .map_err(|e| format!("reading the PIN from standard input: {e}"))?;
                Some(line.trim().to_string())
            }
            (None, false) => None,
        };
        put(body, "pin", pin);
        if self.generate_pin {
            body.insert("generate_pin".into(), Value::Bool(true));
        }
        if self.pin_change_required {
            body.insert("pin_change_required".into(), Value::Bool(true));
        }
        Ok(())
    }
}

#[derive(Subcommand, Debug)]
pub enum SettingsCommand {
    Show,
    /// KEY=VALUE pairs: sip_server, sip_port, sip_transport (udp|tcp|tls), outbound_proxy
    /// (host[:port]), ntp_server, time_zone (Europe/Berlin), language (de), phone_admin_password,
    /// firmware_url, lobby_extension, hotdesk_max_login_minutes, hotdesk_logout_time (HH:MM),
    /// utc_offset (+HH:MM); KEY= clears.
    Set {
        pairs: Vec<String>,
    },
    /// The setting names, time zones and languages the settings accept.
    Choices,
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match load_config(&cli) {
        Ok(config) => config,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    match cli.command {
        Command::Serve { .. } => runtime.block_on(serve(config)),
        Command::Templates(TemplateCommand::Check) => check_templates(&config),
        command => runtime.block_on(run_client(config, cli.common.json, command)),
    }
}

fn load_config(cli: &Cli) -> Result<Config, String> {
    let mut config = match &cli.common.config {
        Some(path) => Config::from_file(path).map_err(|e| e.to_string())?,
        None => Config::default(),
    };
    let common = &cli.common;
    if let Some(dir) = &common.data_dir {
        config.server.data_dir = dir.clone();
    }
    if let Some(dir) = &common.certs_dir {
        config.server.certs_dir = dir.clone();
    }
    if let Some(address) = common.admin_listen {
        config.server.admin_listen = address;
    }
    if let Command::Serve {
        phone_listen: Some(address),
    } = &cli.command
    {
        config.server.phone_listen = *address;
    }
    config.validate().map_err(|e| e.to_string())?;
    Ok(config)
}

/// Loads the templates as the server would, without one: syntax, escaping rules, and every
/// template the model table names.
fn check_templates(config: &Config) -> ExitCode {
    let dir = config.server.templates_dir.as_deref();
    match crate::templates::Templates::load(dir) {
        Ok(templates) => {
            let list = templates.list();
            let overrides = list
                .iter()
                .filter(|(_, _, origin)| *origin == crate::templates::Origin::Override)
                .count();
            println!(
                "{} templates are valid ({} shipped, {} from {})",
                list.len(),
                list.len() - overrides,
                overrides,
                dir.map_or("no override directory".into(), |d| d.display().to_string())
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(config: Config) -> ExitCode {
    crate::telemetry::init(&config.server.log);
    let running = match crate::startup::start(config, crate::clock::Clock::System).await {
        Ok(running) => running,
        Err(e) => {
            tracing::error!("cannot start: {e}");
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    crate::startup::shutdown_signal().await;
    running.stop().await;
    ExitCode::SUCCESS
}

/// The admin API seen from the CLI.
struct Api {
    client: Client,
    token: String,
}

impl Api {
    fn connect(config: &Config) -> Result<Api, String> {
        let token = match std::env::var("DESKPROV_TOKEN") {
            Ok(token) if !token.trim().is_empty() => token.trim().to_string(),
            _ => {
                let path = config.token_file();
                std::fs::read_to_string(&path)
                    .map_err(|e| {
                        format!(
                            "reading the admin token from {}: {e} (or set DESKPROV_TOKEN)",
                            path.display()
                        )
                    })?
                    .trim()
                    .to_string()
            }
        };
        let mut address = config.server.admin_listen;
        if address.ip().is_unspecified() {
            address.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
        }
        let cert = config.server.certs_dir.join(crate::tls::CERT_FILE);
        let client =
            Client::trusting_file(address, "localhost", &cert).map_err(|e| e.to_string())?;
        Ok(Api { client, token })
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Result<Reply, String> {
        if method == Method::GET {
            return self.get_every_page(path).await;
        }
        let body = body.map(|b| serde_json::to_vec(&b).expect("JSON serialises"));
        self.send(method, path, "application/json", body).await
    }

    /// A list answer (`{"items": [...], "next": ...}`) followed to its last page (unless the
    /// path sets a limit), its items joined into one array; any other answer as it is.
    async fn get_every_page(&self, path: &str) -> Result<Reply, String> {
        let mut reply = self
            .send(Method::GET, path, "application/json", None)
            .await?;
        let mut page = reply.json();
        let Some(mut items) = page.get("items").and_then(Value::as_array).cloned() else {
            return Ok(reply);
        };
        let separator = if path.contains('?') { '&' } else { '?' };
        // An explicit limit asks for that many, one page.
        let follow = !path.contains("limit=");
        while let Some(next) = page.get("next").and_then(Value::as_str).filter(|_| follow) {
            let more = format!(
                "{path}{separator}after={}",
                percent_encoding::utf8_percent_encode(next, percent_encoding::NON_ALPHANUMERIC)
            );
            page = self
                .send(Method::GET, &more, "application/json", None)
                .await?
                .json();
            items.extend(
                page.get("items")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default(),
            );
        }
        reply.body = serde_json::to_vec(&Value::Array(items))
            .expect("JSON serialises")
            .into();
        Ok(reply)
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        content_type: &str,
        body: Option<Vec<u8>>,
    ) -> Result<Reply, String> {
        let auth = format!("Bearer {}", self.token);
        let mut headers = vec![("authorization", auth.as_str())];
        if body.is_some() {
            headers.push(("content-type", content_type));
        }
        let reply = self
            .client
            .send(method, path, &headers, body)
            .await
            .map_err(|e| e.to_string())?;
        if reply.status.is_success() {
            Ok(reply)
        } else {
            let message = reply
                .json()
                .get("error")
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| reply.text());
            Err(format!("{} ({})", message, reply.status.as_u16()))
        }
    }
}

async fn run_client(config: Config, json_output: bool, command: Command) -> ExitCode {
    let result = match Api::connect(&config) {
        Ok(api) => execute(&api, json_output, command).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn mac_path(mac: &str) -> String {
    percent_encoding::utf8_percent_encode(mac, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// Puts `value` under `key` unless it is `None`; an empty string becomes `null` (clear).
fn put_clearable(body: &mut Map<String, Value>, key: &str, value: Option<String>) {
    if let Some(v) = value {
        body.insert(
            key.into(),
            if v.is_empty() {
                Value::Null
            } else {
                Value::String(v)
            },
        );
    }
}

fn put(body: &mut Map<String, Value>, key: &str, value: Option<String>) {
    if let Some(v) = value {
        body.insert(key.into(), Value::String(v));
    }
}

async fn execute(api: &Api, json_output: bool, command: Command) -> Result<(), String> {
    use Method as M;
    let (reply, shape) = match command {
        Command::Serve { .. } => unreachable!("serve is handled before"),
        Command::Models { command: None } => (
            api.call(M::GET, "/api/v1/models", None).await?,
            Shape::Models,
        ),
        Command::Models {
            command: Some(ModelCommand::Settings { model }),
        } => {
            let path = format!("/api/v1/models/{}/settings", mac_path(&model));
            (api.call(M::GET, &path, None).await?, Shape::Object)
        }
        Command::Models {
            command: Some(ModelCommand::Set { model, pairs }),
        } => {
            let path = format!("/api/v1/models/{}/settings", mac_path(&model));
            let body = settings_patch(&pairs)?;
            (api.call(M::PATCH, &path, Some(body)).await?, Shape::Object)
        }
        Command::Settings(SettingsCommand::Choices) => (
            api.call(M::GET, "/api/v1/settings/choices", None).await?,
            Shape::Object,
        ),
        Command::Profiles(command) => profile_command(api, command).await?,
        Command::Templates(TemplateCommand::List) => (
            api.call(M::GET, "/api/v1/templates", None).await?,
            Shape::Templates,
        ),
        Command::Templates(TemplateCommand::Reload) => (
            api.call(M::POST, "/api/v1/templates/reload", None).await?,
            Shape::Object,
        ),
        Command::Templates(TemplateCommand::Check) => unreachable!("checked without a server"),
        Command::Export {
            subject,
            secrets,
            output,
        } => {
            let query = if secrets { "?secrets=true" } else { "" };
            let reply = api
                .call(M::GET, &format!("/api/v1/export/{subject}{query}"), None)
                .await?;
            return write_output(output.as_deref(), &reply.body);
        }
        Command::Import {
            subject,
            file,
            dry_run,
        } => return import(api, json_output, &subject, &file, dry_run).await,
        Command::Imports { id } => match id {
            Some(id) => (
                api.call(M::GET, &format!("/api/v1/imports/{}", mac_path(&id)), None)
                    .await?,
                Shape::Object,
            ),
            None => (
                api.call(M::GET, "/api/v1/imports", None).await?,
                Shape::Imports,
            ),
        },
        Command::Openapi => {
            let reply = api.call(M::GET, "/api/v1/openapi.json", None).await?;
            return write_output(None, &reply.body);
        }
        Command::Render { mac, file, host } => {
            let query: Vec<String> = [("file", file), ("host", host)]
                .into_iter()
                .filter_map(|(key, value)| value.map(|v| format!("{key}={}", mac_path(&v))))
                .collect();
            let mut path = format!("/api/v1/devices/{}/render", mac_path(&mac));
            if !query.is_empty() {
                path.push_str(&format!("?{}", query.join("&")));
            }
            let reply = api.call(M::GET, &path, None).await?;
            use std::io::Write;
            std::io::stdout()
                .write_all(&reply.body)
                .map_err(|e| e.to_string())?;
            return Ok(());
        }
        Command::Settings(SettingsCommand::Show) => (
            api.call(M::GET, "/api/v1/settings", None).await?,
            Shape::Object,
        ),
        Command::Settings(SettingsCommand::Set { pairs }) => {
            let body = settings_patch(&pairs)?;
            (
                api.call(M::PATCH, "/api/v1/settings", Some(body)).await?,
                Shape::Object,
            )
        }
        Command::Devices(command) => device_command(api, command).await?,
        Command::Tokens(command) => token_command(api, command).await?,
        Command::Bans(BanCommand::List) => {
            (api.call(M::GET, "/api/v1/bans", None).await?, Shape::Bans)
        }
        Command::Bans(BanCommand::Lift { address }) => (
            api.call(
                M::DELETE,
                &format!("/api/v1/bans/{}", mac_path(&address)),
                None,
            )
            .await?,
            Shape::Object,
        ),
        Command::Audit {
            kind,
            subject,
            source,
            since,
            limit,
        } => {
            let query: Vec<String> = [
                ("kind", kind),
                ("subject", subject),
                ("source", source),
                ("since", since),
                ("limit", limit.map(|l| l.to_string())),
            ]
            .into_iter()
            .filter_map(|(key, value)| value.map(|v| format!("{key}={}", mac_path(&v))))
            .collect();
            let path = format!("/api/v1/audit?{}", query.join("&"));
            (api.call(M::GET, &path, None).await?, Shape::Audit)
        }
        Command::Users(command) => user_command(api, command).await?,
    };
    let value = reply.json();
    if json_output {
        println!(
            "{}",
            serde_json::to_string_pretty(&value).expect("JSON serialises")
        );
    } else {
        print_shape(shape, &value);
    }
    Ok(())
}

fn write_output(path: Option<&std::path::Path>, bytes: &[u8]) -> Result<(), String> {
    use std::io::Write;
    match path {
        // An export may hold SIP passwords: readable by its owner only.
        Some(path) => {
            use std::os::unix::fs::OpenOptionsExt;
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(path)
                .map_err(|e| format!("{}: {e}", path.display()))?;
            file.write_all(bytes)
                .map_err(|e| format!("{}: {e}", path.display()))
        }
        None => std::io::stdout()
            .write_all(bytes)
            .map_err(|e| e.to_string()),
    }
}

/// Sends the file, then follows the import to its end, showing progress on standard error.
async fn import(
    api: &Api,
    json_output: bool,
    subject: &str,
    file: &std::path::Path,
    dry_run: bool,
) -> Result<(), String> {
    let bytes = std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let query = if dry_run { "?dry_run=true" } else { "" };
    let path = format!("/api/v1/import/{subject}{query}");
    let started = api
        .send(Method::POST, &path, "text/csv", Some(bytes))
        .await?
        .json();
    let id = started["id"].as_str().unwrap_or_default().to_string();
    let status = format!("/api/v1/imports/{id}");
    let job = loop {
        let job = api.call(Method::GET, &status, None).await?.json();
        let (checked, rows) = (&job["checked"], &job["rows"]);
        if job["state"] != "running" {
            eprintln!("\r{}: {checked}/{rows} rows checked", file.display());
            break job;
        }
        eprint!("\r{}: {checked}/{rows} rows checked", file.display());
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    if json_output {
        println!(
            "{}",
            serde_json::to_string_pretty(&job).expect("JSON serialises")
        );
    } else {
        print_import(&job);
    }
    match job["state"].as_str() {
        Some("done") | Some("checked") => Ok(()),
        _ => Err(format!(
            "import failed; nothing was changed ({} rows with errors)",
            job["errors"].as_array().map_or(0, Vec::len)
        )),
    }
}

fn print_import(job: &Value) {
    let state = job["state"].as_str().unwrap_or("");
    let errors = job["errors"].as_array().cloned().unwrap_or_default();
    if !errors.is_empty() {
        let rows: Vec<Vec<String>> = errors
            .iter()
            .map(|e| vec![cell(e.get("row")), cell(e.get("key")), cell(e.get("error"))])
            .collect();
        print_table(&["row", "key", "error"], &rows);
        return;
    }
    let counts = format!(
        "{} created, {} updated, {} unchanged",
        job["created"], job["updated"], job["unchanged"]
    );
    if state == "checked" {
        println!("dry run, nothing was changed: {counts} if imported");
    } else {
        println!("{counts}");
    }
}

async fn profile_command(api: &Api, command: ProfileCommand) -> Result<(Reply, Shape), String> {
    use Method as M;
    let profile = |name: &str| format!("/api/v1/profiles/{}", mac_path(name));
    Ok(match command {
        ProfileCommand::List => (
            api.call(M::GET, "/api/v1/profiles", None).await?,
            Shape::Profiles,
        ),
        ProfileCommand::Show { name } => (
            api.call(M::GET, &profile(&name), None).await?,
            Shape::Object,
        ),
        ProfileCommand::Add {
            name,
            description,
            pairs,
        } => {
            let mut body = Map::new();
            body.insert("name".into(), Value::String(name));
            put(&mut body, "description", description);
            if !pairs.is_empty() {
                body.insert("settings".into(), settings_patch(&pairs)?);
            }
            (
                api.call(M::POST, "/api/v1/profiles", Some(Value::Object(body)))
                    .await?,
                Shape::Object,
            )
        }
        ProfileCommand::Edit {
            name,
            description,
            pairs,
        } => {
            let mut body = Map::new();
            put_clearable(&mut body, "description", description);
            if !pairs.is_empty() {
                body.insert("settings".into(), settings_patch(&pairs)?);
            }
            if body.is_empty() {
                return Err("give --description or KEY=VALUE settings".into());
            }
            (
                api.call(M::PATCH, &profile(&name), Some(Value::Object(body)))
                    .await?,
                Shape::Object,
            )
        }
        ProfileCommand::Remove { name } => (
            api.call(M::DELETE, &profile(&name), None).await?,
            Shape::Object,
        ),
    })
}

async fn token_command(api: &Api, command: TokenCommand) -> Result<(Reply, Shape), String> {
    use Method as M;
    Ok(match command {
        TokenCommand::List => (
            api.call(M::GET, "/api/v1/tokens", None).await?,
            Shape::Tokens,
        ),
        TokenCommand::Create { name } => (
            api.call(M::POST, "/api/v1/tokens", Some(json!({ "name": name })))
                .await?,
            Shape::Object,
        ),
        TokenCommand::Revoke { token } => (
            api.call(
                M::DELETE,
                &format!("/api/v1/tokens/{}", mac_path(&token)),
                None,
            )
            .await?,
            Shape::Object,
        ),
    })
}

async fn device_command(api: &Api, command: DeviceCommand) -> Result<(Reply, Shape), String> {
    use Method as M;
    let device = |mac: &str| format!("/api/v1/devices/{}", mac_path(mac));
    Ok(match command {
        DeviceCommand::List { filter } => {
            let path = format!("/api/v1/devices{}", filter.query());
            (api.call(M::GET, &path, None).await?, Shape::Devices)
        }
        DeviceCommand::Add { mac, fields } => (
            api.call(M::POST, "/api/v1/devices", Some(fields.body(&mac)))
                .await?,
            Shape::Object,
        ),
        DeviceCommand::AddMany { macs, fields } => {
            let devices: Vec<Value> = macs.iter().map(|mac| fields.body(mac)).collect();
            let body = json!({ "devices": devices });
            (
                api.call(M::POST, "/api/v1/devices/bulk", Some(body))
                    .await?,
                Shape::Devices,
            )
        }
        DeviceCommand::Settings { mac } => (
            api.call(M::GET, &format!("{}/settings", device(&mac)), None)
                .await?,
            Shape::Settings,
        ),
        DeviceCommand::Set { mac, pairs } => {
            let body = settings_patch(&pairs)?;
            (
                api.call(M::PATCH, &format!("{}/settings", device(&mac)), Some(body))
                    .await?,
                Shape::Settings,
            )
        }
        DeviceCommand::Show { mac } => {
            (api.call(M::GET, &device(&mac), None).await?, Shape::Object)
        }
        DeviceCommand::Edit {
            mac,
            model,
            label,
            location,
            profile,
            hotdesk,
            certificate_required,
        } => {
            let mut body = Map::new();
            put_clearable(&mut body, "model", model);
            put_clearable(&mut body, "label", label);
            put_clearable(&mut body, "location", location);
            put_clearable(&mut body, "profile", profile);
            if let Some(hotdesk) = hotdesk {
                body.insert("hotdesk".into(), Value::Bool(hotdesk));
            }
            if let Some(required) = certificate_required {
                body.insert("certificate_required".into(), Value::Bool(required));
            }
            (
                api.call(M::PATCH, &device(&mac), Some(Value::Object(body)))
                    .await?,
                Shape::Object,
            )
        }
        DeviceCommand::Remove { mac } => (
            api.call(M::DELETE, &device(&mac), None).await?,
            Shape::Object,
        ),
        DeviceCommand::Logout { mac, line } => {
            let query = line.map(|l| format!("?line={l}")).unwrap_or_default();
            let path = format!("{}/logout{query}", device(&mac));
            (api.call(M::POST, &path, None).await?, Shape::Object)
        }
        DeviceCommand::Assign { mac, line, user } => {
            let path = format!("{}/lines/{line}", device(&mac));
            (
                api.call(M::PUT, &path, Some(json!({ "user": user })))
                    .await?,
                Shape::Object,
            )
        }
        DeviceCommand::Unassign { mac, line } => (
            api.call(M::DELETE, &format!("{}/lines/{line}", device(&mac)), None)
                .await?,
            Shape::Object,
        ),
        DeviceCommand::ResetClaim { mac } => (
            api.call(M::POST, &format!("{}/reset-claim", device(&mac)), None)
                .await?,
            Shape::Object,
        ),
        DeviceCommand::Credentials { mac } => (
            api.call(M::GET, &format!("{}/credentials", device(&mac)), None)
                .await?,
            Shape::Object,
        ),
        DeviceCommand::Unregistered => (
            api.call(M::GET, "/api/v1/unregistered", None).await?,
            Shape::Unregistered,
        ),
        DeviceCommand::Adopt { mac, label } => {
            let body = label.map(|l| json!({ "label": l }));
            let path = format!("/api/v1/unregistered/{}/adopt", mac_path(&mac));
            (api.call(M::POST, &path, body).await?, Shape::Object)
        }
        DeviceCommand::Forget { mac } => (
            api.call(
                M::DELETE,
                &format!("/api/v1/unregistered/{}", mac_path(&mac)),
                None,
            )
            .await?,
            Shape::Object,
        ),
    })
}

/// One extension: its own request; several: one bulk request, all or none.
async fn many(
    api: &Api,
    action: &str,
    extensions: Vec<String>,
    single: impl Fn(&str) -> (Method, String),
) -> Result<(Reply, Shape), String> {
    if let [extension] = extensions.as_slice() {
        let (method, path) = single(extension);
        return Ok((api.call(method, &path, None).await?, Shape::Object));
    }
    let body = json!({ "action": action, "extensions": extensions });
    Ok((
        api.call(Method::POST, "/api/v1/users/bulk", Some(body))
            .await?,
        Shape::Object,
    ))
}

async fn user_command(api: &Api, command: UserCommand) -> Result<(Reply, Shape), String> {
    use Method as M;
    let user = |ext: &str| format!("/api/v1/users/{}", mac_path(ext));
    Ok(match command {
        UserCommand::List => (api.call(M::GET, "/api/v1/users", None).await?, Shape::Users),
        UserCommand::Add {
            extension,
            display_name,
            first_name,
            last_name,
            language,
            sip_user,
            sip_password,
            email,
            pin,
            no_hotdesk,
        } => {
            let mut body = Map::new();
            put(&mut body, "extension", extension);
            put(&mut body, "display_name", display_name);
            put(&mut body, "first_name", first_name);
            put(&mut body, "last_name", last_name);
            put(&mut body, "language", language);
            put(&mut body, "sip_user", sip_user);
            put(&mut body, "sip_password", sip_password);
            put(&mut body, "email", email);
            pin.add_to(&mut body)?;
            if no_hotdesk {
                body.insert("may_hotdesk".into(), Value::Bool(false));
            }
            (
                api.call(M::POST, "/api/v1/users", Some(Value::Object(body)))
                    .await?,
                Shape::Object,
            )
        }
        UserCommand::Show { extension } => (
            api.call(M::GET, &user(&extension), None).await?,
            Shape::Object,
        ),
        UserCommand::Edit {
            extension,
            display_name,
            first_name,
            last_name,
            language,
            sip_user,
            sip_password,
            regenerate_sip_password,
            email,
            pin,
            may_hotdesk,
            locked,
        } => {
            let mut body = Map::new();
            put(&mut body, "display_name", display_name);
            put_clearable(&mut body, "first_name", first_name);
            put_clearable(&mut body, "last_name", last_name);
            put_clearable(&mut body, "language", language);
            put(&mut body, "sip_user", sip_user);
            put(&mut body, "sip_password", sip_password);
            if regenerate_sip_password {
                body.insert("regenerate_sip_password".into(), Value::Bool(true));
            }
            put_clearable(&mut body, "email", email);
            pin.add_to(&mut body)?;
            if let Some(may) = may_hotdesk {
                body.insert("may_hotdesk".into(), Value::Bool(may));
            }
            if let Some(locked) = locked {
                body.insert("locked".into(), Value::Bool(locked));
            }
            (
                api.call(M::PATCH, &user(&extension), Some(Value::Object(body)))
                    .await?,
                Shape::Object,
            )
        }
        UserCommand::Remove { extensions } => {
            many(api, "delete", extensions, |ext| (M::DELETE, user(ext))).await?
        }
        UserCommand::Lock { extensions } => {
            many(api, "lock", extensions, |ext| {
                (M::POST, format!("{}/lock", user(ext)))
            })
            .await?
        }
        UserCommand::Unlock { extensions } => {
            many(api, "unlock", extensions, |ext| {
                (M::POST, format!("{}/unlock", user(ext)))
            })
            .await?
        }
        UserCommand::NextExtension => (
            api.call(M::GET, "/api/v1/users/next-extension", None)
                .await?,
            Shape::Object,
        ),
        UserCommand::Logout { extension } => (
            api.call(M::POST, &format!("{}/logout", user(&extension)), None)
                .await?,
            Shape::Object,
        ),
        UserCommand::SipPassword { extension } => (
            api.call(M::GET, &format!("{}/sip-password", user(&extension)), None)
                .await?,
            Shape::Object,
        ),
    })
}

fn settings_patch(pairs: &[String]) -> Result<Value, String> {
    let mut body = Map::new();
    for pair in pairs {
        let (key, value) = pair
            .split_once('=')
            .ok_or_else(|| format!("{pair:?}: expected KEY=VALUE"))?;
        let value = match (key, value) {
            (_, "") => Value::Null,
            ("sip_port", v) => Value::from(
                v.parse::<u16>()
                    .map_err(|_| format!("sip_port: {v:?} is not a port number"))?,
            ),
            ("hotdesk_max_login_minutes", v) => Value::from(v.parse::<u32>().map_err(|_| {
                format!("hotdesk_max_login_minutes: {v:?} is not a number of minutes")
            })?),
            (_, v) => Value::String(v.to_string()),
        };
        body.insert(key.to_string(), value);
    }
    if body.is_empty() {
        return Err("give at least one KEY=VALUE".into());
    }
    Ok(Value::Object(body))
}

#[derive(Clone, Copy)]
enum Shape {
    Object,
    Devices,
    Users,
    Unregistered,
    Models,
    Tokens,
    Bans,
    Audit,
    Profiles,
    Templates,
    Imports,
    /// A device's effective settings: one row per setting with its origin.
    Settings,
}

fn print_shape(shape: Shape, value: &Value) {
    let columns: &[&str] = match shape {
        Shape::Object => return print_object(value),
        Shape::Devices => &[
            "mac",
            "vendor",
            "model",
            "label",
            "location",
            "profile",
            "lines",
            "hotdesk",
            "last_seen",
            "claimed",
        ],
        Shape::Users => &[
            "extension",
            "display_name",
            "first_name",
            "last_name",
            "language",
            "sip_user",
            "has_pin",
            "may_hotdesk",
            "locked",
            "created_at",
        ],
        Shape::Unregistered => &[
            "mac",
            "vendor",
            "model",
            "firmware",
            "last_seen",
            "last_address",
        ],
        Shape::Models => &[
            "vendor", "model", "kind", "lines", "handsets", "family", "template",
        ],
        Shape::Tokens => &["id", "name", "created_at"],
        Shape::Bans => &[
            "source",
            "banned",
            "banned_until",
            "bans",
            "refused_macs_in_window",
        ],
        Shape::Audit => &["at", "kind", "actor", "source", "subject", "detail"],
        Shape::Profiles => &["name", "description", "devices", "settings"],
        Shape::Templates => &["name", "format", "origin"],
        Shape::Imports => &[
            "id",
            "subject",
            "state",
            "dry_run",
            "rows",
            "checked",
            "created",
            "updated",
            "unchanged",
        ],
        Shape::Settings => return print_effective(value),
    };
    let rows: Vec<Vec<String>> = value
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|item| columns.iter().map(|c| cell(item.get(*c))).collect())
                .collect()
        })
        .unwrap_or_default();
    print_table(columns, &rows);
}

/// SETTING  VALUE  FROM, from a device's settings answer.
fn print_effective(value: &Value) {
    let Some(effective) = value.get("effective").and_then(Value::as_object) else {
        return print_object(value);
    };
    let rows: Vec<Vec<String>> = effective
        .iter()
        .map(|(key, entry)| {
            let from = &entry["from"];
            let origin = match from.get("name").and_then(Value::as_str) {
                Some(name) => format!("{} {name}", from["level"].as_str().unwrap_or("")),
                None => from["level"].as_str().unwrap_or("").to_string(),
            };
            vec![key.clone(), cell(entry.get("value")), origin]
        })
        .collect();
    print_table(&["setting", "value", "from"], &rows);
}

fn cell(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => "-".into(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| match (i.get("line"), i.get("user")) {
                (Some(line), Some(user)) => format!("{line}:{}", user.as_str().unwrap_or("")),
                _ => i.to_string(),
            })
            .collect::<Vec<_>>()
            .join(","),
        Some(other) => other.to_string(),
    }
}

fn print_table(columns: &[&str], rows: &[Vec<String>]) {
    let widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .chain([c.len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: Vec<String>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        println!("{}", padded.join("  ").trim_end());
    };
    line(columns.iter().map(|c| c.to_uppercase()).collect());
    for row in rows {
        line(row.clone());
    }
}

fn print_object(value: &Value) {
    match value.as_object() {
        Some(map) => {
            let width = map.keys().map(String::len).max().unwrap_or(0);
            for (key, v) in map {
                println!("{key:<width$}  {}", cell(Some(v)));
            }
        }
        None => println!("{value}"),
    }
}
