//! Parse-don't-validate types for everything an admin or a phone hands us.
//!
//! A value of one of these types is known to be well formed, so the rest of the code never
//! re-checks it; in particular no text that reaches a template can carry a control character,
//! which is what keeps a display name from injecting keys into a `key = value` config.

mod account;
mod host;
mod ldap;
mod mac;
mod number;
mod pin;
mod role;
mod secret;
mod text;
mod time_of_day;
mod transport;

pub use account::{Password, PasswordProblem, Username};
pub use host::{parse_host, parse_proxy, parse_url, split_host_port};
pub use ldap::{
    LdapTls, parse_dn, parse_feature_code, parse_ldap_attributes, parse_ldap_filter,
    parse_ldap_text,
};
pub use mac::{InvalidMac, Mac};
pub use number::{ContactId, DialNumber};
pub use pin::{MAX_PIN_DIGITS, MIN_PIN_DIGITS_ALLOWED, Pin, PinPolicy};
pub use role::Role;
pub use secret::Secret;
pub use text::{
    DisplayName, Email, Extension, InvalidInput, Label, Location, ModelId, PersonName, ProfileName,
    SipPassword, SipUser,
};
pub use time_of_day::{TimeOfDay, UtcOffset};
pub use transport::Transport;
