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
    /// Show or change the settings every config uses.
    #[command(subcommand)]
    Settings(SettingsCommand),
    /// List the supported models.
    Models,
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
pub enum DeviceCommand {
    /// List registered devices.
    List,
    /// Register a device by MAC, in any common notation.
    Add {
        mac: String,
        #[arg(long)]
        model: Option<String>,
        #[arg(long)]
        label: Option<String>,
        /// Users log in at this phone with extension and PIN.
        #[arg(long)]
        hotdesk: bool,
        /// Serve it only to the phone's factory client certificate (needs certs/vendor-ca/).
        #[arg(long)]
        certificate_required: bool,
    },
    Show {
        mac: String,
    },
    /// Change model or label ("" clears), or whether it is a hot-desk phone.
    Edit {
        mac: String,
        #[arg(long)]
        model: Option<String>,
        #[arg(long)]
        label: Option<String>,
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
    /// Create a user; the SIP password is generated when not given.
    Add {
        extension: String,
        #[arg(long = "name")]
        display_name: String,
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
    Edit {
        extension: String,
        #[arg(long = "name")]
        display_name: Option<String>,
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
    /// Clear a lockout after wrong PINs.
    Unlock {
        extension: String,
    },
    /// Log the user out of the hot-desk phone they are at.
    Logout {
        extension: String,
    },
    /// Delete a user and free their lines.
    Remove {
        extension: String,
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
    /// KEY=VALUE pairs: sip_server, sip_port, sip_transport (udp|tcp|tls), ntp_server,
    /// lobby_extension, hotdesk_max_login_minutes, hotdesk_logout_time (HH:MM),
    /// utc_offset (+HH:MM); KEY= clears.
    Set {
        pairs: Vec<String>,
    },
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
        let auth = format!("Bearer {}", self.token);
        let mut headers = vec![("authorization", auth.as_str())];
        if body.is_some() {
            headers.push(("content-type", "application/json"));
        }
        let body = body.map(|b| serde_json::to_vec(&b).expect("JSON serialises"));
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
        Command::Models => (
            api.call(M::GET, "/api/v1/models", None).await?,
            Shape::Models,
        ),
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
        DeviceCommand::List => (
            api.call(M::GET, "/api/v1/devices", None).await?,
            Shape::Devices,
        ),
        DeviceCommand::Add {
            mac,
            model,
            label,
            hotdesk,
            certificate_required,
        } => {
            let mut body = Map::new();
            body.insert("mac".into(), Value::String(mac));
            put(&mut body, "model", model);
            put(&mut body, "label", label);
            if hotdesk {
                body.insert("hotdesk".into(), Value::Bool(true));
            }
            if certificate_required {
                body.insert("certificate_required".into(), Value::Bool(true));
            }
            (
                api.call(M::POST, "/api/v1/devices", Some(Value::Object(body)))
                    .await?,
                Shape::Object,
            )
        }
        DeviceCommand::Show { mac } => {
            (api.call(M::GET, &device(&mac), None).await?, Shape::Object)
        }
        DeviceCommand::Edit {
            mac,
            model,
            label,
            hotdesk,
            certificate_required,
        } => {
            let mut body = Map::new();
            put_clearable(&mut body, "model", model);
            put_clearable(&mut body, "label", label);
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

async fn user_command(api: &Api, command: UserCommand) -> Result<(Reply, Shape), String> {
    use Method as M;
    let user = |ext: &str| format!("/api/v1/users/{}", mac_path(ext));
    Ok(match command {
        UserCommand::List => (api.call(M::GET, "/api/v1/users", None).await?, Shape::Users),
        UserCommand::Add {
            extension,
            display_name,
            sip_user,
            sip_password,
            email,
            pin,
            no_hotdesk,
        } => {
            let mut body = Map::new();
            body.insert("extension".into(), Value::String(extension));
            body.insert("display_name".into(), Value::String(display_name));
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
        UserCommand::Remove { extension } => (
            api.call(M::DELETE, &user(&extension), None).await?,
            Shape::Object,
        ),
        UserCommand::Unlock { extension } => (
            api.call(M::POST, &format!("{}/unlock", user(&extension)), None)
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
}

fn print_shape(shape: Shape, value: &Value) {
    let columns: &[&str] = match shape {
        Shape::Object => return print_object(value),
        Shape::Devices => &[
            "mac",
            "vendor",
            "model",
            "label",
            "lines",
            "hotdesk",
            "last_seen",
            "claimed",
        ],
        Shape::Users => &[
            "extension",
            "display_name",
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
