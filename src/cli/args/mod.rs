//! The command line: every command, flag and argument of `deskprov`, as clap types.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

mod users;

pub use users::{PinArgs, UserCommand, UserFields};

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
    /// A PostgreSQL database shared by several nodes (postgres://user@host:port/db), instead of
    /// sled in the data directory. Put the password in `[database] password_file`, not here.
    #[arg(long, global = true, value_name = "URL", env = "DESKPROV_DATABASE_URL")]
    pub database_url: Option<String>,
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
    /// Show, set or clear one layer of programmable keys (site, profile, model, device, user).
    #[command(subcommand)]
    Keys(KeyCommand),
    /// Settings profiles: named sets of settings devices inherit from.
    #[command(subcommand)]
    Profiles(ProfileCommand),
    /// The company phonebook's contacts besides the users (reception, branches, suppliers).
    #[command(subcommand)]
    Contacts(ContactCommand),
    /// List the supported models, or show and change one model's settings.
    Models {
        #[command(subcommand)]
        command: Option<ModelCommand>,
    },
    /// List the phone templates in use, check them, or reload them into the running server.
    #[command(subcommand)]
    Templates(TemplateCommand),
    /// Send a test mail to check the SMTP settings, or list the mail outbox.
    #[command(subcommand)]
    Mail(MailCommand),
    /// Write users, devices, contacts or keys as CSV (the columns import reads).
    Export {
        #[arg(value_parser = ["users", "devices", "contacts", "keys"])]
        subject: String,
        /// Include SIP passwords (recorded in the audit trail).
        #[arg(long)]
        secrets: bool,
        /// Write to FILE instead of standard output.
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Create and update users, devices or contacts, or replace key layers, from a CSV file:
    /// all rows or none, showing progress. An empty cell leaves a value as it is, `-` clears
    /// it; importing a file twice changes nothing the second time.
    Import {
        #[arg(value_parser = ["users", "devices", "contacts", "keys"])]
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
    /// The running server's version, warnings (a certificate that expires soon) and
    /// certificates.
    Status,
    /// Create, list and revoke admin API tokens.
    #[command(subcommand)]
    Tokens(TokenCommand),
    /// Require console accounts' TOTP second factor, or reset a lost one (owner only).
    #[command(subcommand)]
    Totp(TotpCommand),
    /// Console accounts (an owner token): create, change the role, disable, reset a
    /// password, delete; `reset-password --data DIR` while the server is stopped.
    #[command(subcommand)]
    Accounts(AccountCommand),
    /// Upload, list and remove the firmware files phones upgrade from.
    #[command(subcommand)]
    Firmware(FirmwareCommand),
    /// Show the audit trail: admin changes and security events, newest first.
    Audit(AuditFilter),
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
    /// Write a backup of the running site to FILE (an owner token): every record, taken as
    /// one consistent revision, gzip. FILE must not exist; it is created readable by its owner
    /// only, complete or not at all.
    Backup {
        file: PathBuf,
        /// Encrypt it with the passphrase on the first line of this file (at least 12
        /// characters); the passphrase is never taken on the command line.
        #[arg(long, value_name = "FILE")]
        passphrase_file: Option<PathBuf>,
    },
    /// Restore a backup into the empty data directory given by --data (no server running on
    /// it); refused when it holds a store. The whole file is checked before anything is
    /// written, and a failed restore leaves no store behind.
    Restore {
        file: PathBuf,
        /// The passphrase of an encrypted backup, on the first line of this file.
        #[arg(long, value_name = "FILE")]
        passphrase_file: Option<PathBuf>,
    },
    /// Create or upgrade the PostgreSQL schema of `--database-url` (or `[database] url`) and
    /// exit; `serve` does the same at every start.
    Migrate,
    /// Copy a stopped sled store into an empty PostgreSQL database: every record, then every
    /// record read back and compared (counts and a SHA-256 of each); a failed run leaves the
    /// database empty again.
    MigrateStore {
        /// The sled store: the data directory's `db` directory (no server running on it).
        #[arg(long, value_name = "DIR")]
        from: PathBuf,
        /// The PostgreSQL database (postgres://user@host:port/db); empty but for the schema.
        #[arg(long, value_name = "URL")]
        to: String,
    },
    /// Write the man pages (roff), one per command, into DIR; `make deb` packages them.
    #[command(hide = true)]
    Man { dir: PathBuf },
}

/// Filters of `audit`; all given must hold.
#[derive(Args, Debug)]
pub struct AuditFilter {
    /// Only this kind (admin_change, source_banned, login_failure, config_refused, ...).
    #[arg(long)]
    pub kind: Option<String>,
    /// Only about this MAC, extension or source.
    #[arg(long)]
    pub subject: Option<String>,
    /// Only from this address.
    #[arg(long)]
    pub source: Option<String>,
    /// Only of this actor (a token's or console account's name, phone, deskprov).
    #[arg(long)]
    pub actor: Option<String>,
    /// Only since this RFC 3339 time (2026-11-22T08:00:00Z).
    #[arg(long)]
    pub since: Option<String>,
    /// Only before this RFC 3339 time.
    #[arg(long)]
    pub until: Option<String>,
    /// At most this many records (1 to 1000; 100 by default).
    #[arg(long)]
    pub limit: Option<u32>,
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

/// A contact's fields; on `edit`, "" clears one.
#[derive(Args, Debug)]
pub struct ContactFields {
    /// Defaults to first and last name.
    #[arg(long)]
    pub display_name: Option<String>,
    #[arg(long)]
    pub first_name: Option<String>,
    #[arg(long)]
    pub last_name: Option<String>,
    /// Phone numbers: +, digits, * and #; spaces, dashes, dots, slashes and brackets are dropped.
    #[arg(long)]
    pub office: Option<String>,
    #[arg(long)]
    pub mobile: Option<String>,
    #[arg(long)]
    pub other: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum ContactCommand {
    List,
    Show {
        id: String,
    },
    /// Add a contact (ID: lower-case letters, digits, '-', '_', '.') with at least one number.
    Add {
        id: String,
        #[command(flatten)]
        fields: ContactFields,
    },
    /// Change a contact; "" clears a name or a number.
    Edit {
        id: String,
        #[command(flatten)]
        fields: ContactFields,
    },
    Remove {
        id: String,
    },
    /// Write every contact as CSV: id, display_name, first_name, last_name, office, mobile,
    /// other (the columns import reads).
    Export {
        /// Write to FILE instead of standard output.
        file: Option<PathBuf>,
    },
    /// Create and update contacts (by id) from a CSV file: all rows or none.
    Import {
        file: PathBuf,
        /// Check every row and report, change nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

/// One key layer: `site`, `profile NAME`, `model MODEL`, `device MAC` or `user EXTENSION`.
#[derive(Args, Debug)]
pub struct KeyLayerName {
    #[arg(value_parser = ["site", "profile", "model", "device", "user"])]
    pub layer: String,
    /// The profile's name, the model, the device's MAC or the user's extension.
    pub name: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum KeyCommand {
    /// The layer's keys.
    Show {
        #[command(flatten)]
        of: KeyLayerName,
    },
    /// Replace the layer's keys by those in FILE ("-": standard input): a JSON list of
    /// {"position", "type", "value", "label", "line"} ({"module": M} for a module's key).
    Set {
        #[command(flatten)]
        of: KeyLayerName,
        #[arg(long, value_name = "FILE")]
        file: PathBuf,
    },
    /// Remove the layer's keys.
    Clear {
        #[command(flatten)]
        of: KeyLayerName,
    },
    /// Write every layer's keys as CSV, a row a key: layer, owner, module, position, type,
    /// value, label, line.
    Export {
        /// Write to FILE instead of standard output.
        file: Option<PathBuf>,
    },
    /// Replace the layers a CSV file names by its keys: all layers or none. A layer is cleared
    /// with `keys clear`, not by a file.
    Import {
        file: PathBuf,
        /// Check every row and report, change nothing.
        #[arg(long)]
        dry_run: bool,
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
pub enum FirmwareCommand {
    /// The files of the firmware directory, served to phones at /firmware/NAME.
    List,
    /// Upload FILE (as NAME, by default its file name); a file of that name is replaced once
    /// the upload is complete. Point a model or profile at it with firmware_file=NAME.
    Upload {
        file: std::path::PathBuf,
        #[arg(long)]
        name: Option<String>,
    },
    Remove {
        name: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum MailCommand {
    /// Queue a test mail to ADDRESS (follow it with `mail list`).
    Test { address: String },
    /// The outbox, newest first: state, attempts and the server's last answer.
    List {
        /// Only mails about this user (extension).
        #[arg(long)]
        user: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
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
#[derive(Args, Debug, Default)]
pub struct DeviceFilter {
    /// Only devices without users on any line.
    #[arg(long)]
    pub unassigned: bool,
    /// Only hot-desk phones.
    #[arg(long)]
    pub hotdesk: bool,
    /// Only devices registered by adopting them from the unregistered list.
    #[arg(long)]
    pub auto_registered: bool,
    /// Only devices not seen for this many days (or never).
    #[arg(long, value_name = "DAYS")]
    pub not_seen_days: Option<u32>,
    #[arg(long)]
    pub model: Option<String>,
    #[arg(long)]
    pub profile: Option<String>,
    /// Location containing this text.
    #[arg(long)]
    pub location: Option<String>,
    /// Only devices that report another firmware than their firmware_version.
    #[arg(long)]
    pub firmware_outdated: bool,
    /// Only devices whose claim was contested: re-key them (`devices rekey`).
    #[arg(long)]
    pub claim_contested: bool,
    /// Only devices that never fetched a file.
    #[arg(long)]
    pub never_seen: bool,
    /// Only devices that reported another model than the one on record.
    #[arg(long)]
    pub model_mismatch: bool,
    /// MAC, label, location or model containing this text, or a line of this extension.
    #[arg(long, value_name = "TEXT")]
    pub search: Option<String>,
}

/// What a new device is given, for `add` and `add-many`.
#[derive(Args, Debug, Default)]
pub struct DeviceFields {
    #[arg(long)]
    pub model: Option<String>,
    #[arg(long)]
    pub label: Option<String>,
    #[arg(long)]
    pub location: Option<String>,
    /// The settings profile it inherits from.
    #[arg(long)]
    pub profile: Option<String>,
    /// Users log in at this phone with extension and PIN.
    #[arg(long)]
    pub hotdesk: bool,
    /// Serve it only to the phone's factory client certificate (needs certs/vendor-ca/).
    #[arg(long)]
    pub certificate_required: bool,
    /// Expansion modules attached (keys beyond the phone's own go there).
    #[arg(long, value_name = "N")]
    pub expansion_modules: Option<u8>,
}

/// What `devices edit` changes.
#[derive(Args, Debug)]
pub struct DeviceChanges {
    #[arg(long)]
    pub model: Option<String>,
    #[arg(long)]
    pub label: Option<String>,
    #[arg(long)]
    pub location: Option<String>,
    #[arg(long)]
    pub profile: Option<String>,
    #[arg(long, value_name = "true|false")]
    pub hotdesk: Option<bool>,
    #[arg(long, value_name = "true|false")]
    pub certificate_required: Option<bool>,
    /// Expansion modules attached (keys beyond the phone's own go there).
    #[arg(long, value_name = "N")]
    pub expansion_modules: Option<u8>,
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
    /// The keys the phone gets, each with where it comes from (its lines, site, profile,
    /// model, device, the user logged in), and those beyond what its model has.
    Keys {
        mac: String,
    },
    /// What happened to the device lately on the node that answers (files served, refusals
    /// and why, its claim, what it reported, NOTIFYs, logins), newest first; kept in memory,
    /// lost on restart. Works for MACs nobody registered too.
    Events {
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
        #[command(flatten)]
        changes: DeviceChanges,
    },
    /// Log out whoever is logged in at hot-desk phones (--line: only that line or handset of
    /// one phone). Several MACs: all known or none changed; one where nobody is logged in stays.
    Logout {
        #[arg(required = true)]
        macs: Vec<String>,
        #[arg(long)]
        line: Option<u16>,
    },
    /// Delete devices: all of them, or none when one is unknown.
    Remove {
        #[arg(required = true)]
        macs: Vec<String>,
        /// Delete several devices without asking.
        #[arg(long, short = 'y')]
        yes: bool,
    },
    /// Put a user (by extension) on a line, or a DECT handset slot.
    Assign {
        mac: String,
        line: u16,
        user: String,
        /// Replace the user the line has; without it a taken line is refused.
        #[arg(long)]
        replace: bool,
    },
    Unassign {
        mac: String,
        line: u16,
    },
    /// Tell phones to fetch their config now (SIP NOTIFY); prints what each phone answered.
    Resync {
        #[arg(required = true)]
        macs: Vec<String>,
    },
    /// Tell phones to reboot now (SIP NOTIFY).
    Reboot {
        #[arg(required = true)]
        macs: Vec<String>,
        /// Reboot several phones without asking.
        #[arg(long, short = 'y')]
        yes: bool,
    },
    /// Move everything set on a dead phone (lines, settings, profile, label, location,
    /// hot-desk, firmware target) to its replacement NEW, and revoke the old one's credentials.
    Replace {
        old: String,
        new: String,
        /// The new phone's model, when it is another than the old one's.
        #[arg(long)]
        model: Option<String>,
    },
    /// Open a new claim window and replace the provisioning password of each device: all of
    /// them, or none when one is unknown.
    ResetClaim {
        #[arg(required = true)]
        macs: Vec<String>,
    },
    /// For a claim someone else took (`claim_contested`): new provisioning credentials (and
    /// hot-desk login token), a new claim window for the real phone, the contest cleared.
    /// Phones are not told.
    Rekey {
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
    Create {
        name: String,
        /// What it may do: owner, admin, helpdesk, readonly or metrics (README's role matrix).
        #[arg(long, default_value = "owner")]
        role: String,
        /// Let an admin token read secrets (credentials, SIP passwords, rendered files).
        #[arg(long)]
        reads_secrets: bool,
        /// Refuse it from this time on (RFC 3339, e.g. 2027-06-30T18:00:00Z).
        #[arg(long)]
        expires: Option<String>,
        /// On the server's machine, without a token: through the server's control socket
        /// while it runs, in its data directory while it is stopped. Always an owner token.
        #[arg(long, conflicts_with_all = ["reads_secrets", "expires"])]
        local: bool,
    },
    /// Revoke a token by id or name (the last owner token cannot be revoked).
    Revoke {
        token: String,
        /// Revoke it even if it is the token this command uses: the CLI is locked out until
        /// DESKPROV_TOKEN or the token file holds another.
        #[arg(long)]
        force: bool,
    },
    /// Addresses blocked, or counting, for wrong admin tokens.
    Blocks,
    /// Lift an address's block for wrong admin tokens (an IPv6 /64 as 2001:db8:1:2::/64).
    Unblock { address: String },
}

#[derive(Subcommand, Debug)]
pub enum TotpCommand {
    /// Require the account to log in with a TOTP code (--off: stop requiring it); without
    /// one set up, its holder can only set one up.
    Require {
        username: String,
        #[arg(long)]
        off: bool,
    },
    /// Remove the account's second factor (its authenticator was lost).
    Reset { username: String },
}

#[derive(Subcommand, Debug)]
pub enum AccountCommand {
    /// List console accounts by name.
    List,
    /// Create an account; its generated password is shown once and must be changed at the
    /// first login.
    Create {
        name: String,
        /// owner, admin, helpdesk, readonly or metrics (README's role matrix).
        #[arg(long)]
        role: String,
        /// Let an admin account read secrets (credentials, SIP passwords, rendered files).
        #[arg(long)]
        reads_secrets: bool,
    },
    /// Change an account's role, its leave to read secrets, or disable (ending its sessions)
    /// or enable it. No change may leave the site without an enabled owner.
    Set {
        name: String,
        #[arg(long)]
        role: Option<String>,
        #[arg(long, value_name = "true|false")]
        reads_secrets: Option<bool>,
        #[arg(long, value_name = "true|false")]
        disabled: Option<bool>,
    },
    /// A new generated password, shown once, to be changed at the next login; the account's
    /// sessions end. With `--data DIR` while the server is stopped: the way back in for an
    /// owner who lost the password (the account is enabled again).
    ResetPassword {
        name: String,
        /// In the data directory (`--data DIR`) of a stopped server, without a token.
        #[arg(long)]
        local: bool,
    },
    /// Delete an account (not the last enabled owner).
    Delete { name: String },
}

#[derive(Subcommand, Debug)]
pub enum BanCommand {
    /// Banned sources, and those counting refused MACs towards a ban.
    List,
    /// Lift the ban on an address (an IPv6 address lifts its /64).
    Lift { address: String },
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
