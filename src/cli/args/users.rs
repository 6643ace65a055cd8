//! `deskprov users ...`: the users' commands and the fields they share.

use clap::{Args, Subcommand};

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    List,
    /// Create a user; the extension is the next free one and the SIP password is generated
    /// when not given.
    Add {
        extension: Option<String>,
        #[command(flatten)]
        fields: UserFields,
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
        #[command(flatten)]
        fields: UserFields,
        /// Replace the SIP password by a new random one.
        #[arg(long)]
        regenerate_sip_password: bool,
        #[arg(long, value_name = "true|false")]
        may_hotdesk: Option<bool>,
        /// A locked user's phones lose the account at their next fetch, and logins are refused.
        #[arg(long, value_name = "true|false")]
        locked: Option<bool>,
        /// Leave the user out of the company phonebook (true), or list them again (false).
        #[arg(long, value_name = "true|false")]
        phonebook_hidden: Option<bool>,
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
    /// Delete users, free their lines and log them out. Several extensions: all or none, after
    /// a confirmation (--yes when standard input is not a terminal).
    Remove {
        #[arg(required = true)]
        extensions: Vec<String>,
        /// Delete several users without asking.
        #[arg(long, short = 'y')]
        yes: bool,
    },
    /// Mail users a welcome with a one-time link (valid an hour) to set their portal password
    /// and, if they have none, their PIN. No password or PIN is ever mailed. All or none.
    MailWelcome {
        #[arg(required = true)]
        extensions: Vec<String>,
    },
    /// Mail users a one-time link to set a new portal password; earlier links stop working.
    /// All or none.
    MailReset {
        #[arg(required = true)]
        extensions: Vec<String>,
    },
    /// Show the user's SIP password (to configure the PBX).
    SipPassword {
        extension: String,
    },
    /// Set the user's self-service portal password: read from the first line of standard
    /// input, or generated (--generate, shown this once); and/or require a change at the next
    /// portal login. Their portal sessions end.
    SetPassword {
        extension: String,
        /// A random password, shown this once.
        #[arg(long)]
        generate: bool,
        /// The user must choose their own at the next portal login (true), or need not (false).
        #[arg(long, value_name = "true|false", num_args = 0..=1, default_missing_value = "true")]
        require_change: Option<bool>,
        /// Leave the password as it is (only --require-change changes).
        #[arg(long, conflicts_with = "generate")]
        keep: bool,
    },
}

/// What `users add` and `users edit` both set.
#[derive(Args, Debug, Default)]
pub struct UserFields {
    /// The name phones show; a new user's defaults to first and last name.
    #[arg(long = "name")]
    pub display_name: Option<String>,
    #[arg(long)]
    pub first_name: Option<String>,
    #[arg(long)]
    pub last_name: Option<String>,
    /// The phone's language while the user is on its first line (de, fr, ...).
    #[arg(long)]
    pub language: Option<String>,
    #[arg(long)]
    pub sip_user: Option<String>,
    /// The SIP password; visible in the process list and shell history: prefer
    /// --sip-password-stdin.
    #[arg(long, conflicts_with = "sip_password_stdin")]
    pub sip_password: Option<String>,
    /// Read the SIP password from the first line of standard input.
    #[arg(long, conflicts_with = "pin_stdin")]
    pub sip_password_stdin: bool,
    #[arg(long)]
    pub email: Option<String>,
    #[command(flatten)]
    pub pin: PinArgs,
}

/// How a PIN is given. A PIN on the command line is visible in the process list and stays in
/// the shell's history: prefer --pin-stdin or --generate-pin.
#[derive(Args, Debug, Default)]
pub struct PinArgs {
    /// The hot-desk PIN (digits; the PIN policy applies).
    #[arg(long, conflicts_with_all = ["pin_stdin", "generate_pin"])]
    pub pin: Option<String>,
    /// Read the PIN from the first line of standard input.
    #[arg(long, conflicts_with = "generate_pin")]
    pub pin_stdin: bool,
    /// Generate a random PIN; it is shown once.
    #[arg(long)]
    pub generate_pin: bool,
    /// The user must choose a new PIN at the next login.
    #[arg(long)]
    pub pin_change_required: bool,
}
