//! Text fields of users and devices.
//!
//! Every constructor refuses control characters (CR and LF above all), so no value can start a
//! new line in a `key = value` config, and bounds the length so no record can grow without limit.

use std::fmt;

use crate::domain::Secret;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct InvalidInput {
    pub field: &'static str,
    pub reason: String,
}

impl InvalidInput {
    pub fn new(field: &'static str, reason: impl Into<String>) -> Self {
        InvalidInput {
            field,
            reason: reason.into(),
        }
    }
}

/// Checks length (in characters) and refuses control characters and surrounding white space.
pub(super) fn check_text(
    field: &'static str,
    value: &str,
    max_chars: usize,
) -> Result<(), InvalidInput> {
    if value.is_empty() {
        return Err(InvalidInput::new(field, "must not be empty"));
    }
    if value.chars().count() > max_chars {
        return Err(InvalidInput::new(
            field,
            format!("at most {max_chars} characters"),
        ));
    }
    if value
        .chars()
        .any(|c| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}'))
    {
        return Err(InvalidInput::new(
            field,
            "control characters (newline, tab, NUL...) are not allowed",
        ));
    }
    if value.trim() != value {
        return Err(InvalidInput::new(
            field,
            "leading or trailing white space is not allowed",
        ));
    }
    Ok(())
}

macro_rules! string_newtype {
    ($name:ident) => {
        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }
        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                $name::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

pub(super) use string_newtype;

/// A user's extension: what they dial and what they type at a hot-desk phone, so digits only.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Extension(String);
string_newtype!(Extension);

impl Extension {
    pub fn parse(value: &str) -> Result<Extension, InvalidInput> {
        Extension::parse_field("extension", value)
    }

    /// An extension in a field of another name (the user on a line).
    pub fn parse_field(field: &'static str, value: &str) -> Result<Extension, InvalidInput> {
        if value.is_empty() || value.len() > 15 || !value.bytes().all(|b| b.is_ascii_digit()) {
            return Err(InvalidInput::new(field, "must be 1 to 15 digits"));
        }
        Ok(Extension(value.to_string()))
    }
}

/// The name a phone shows for a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);
string_newtype!(DisplayName);

impl DisplayName {
    pub fn parse(value: &str) -> Result<DisplayName, InvalidInput> {
        check_text("display_name", value, 64)?;
        Ok(DisplayName(value.to_string()))
    }
}

/// A free-text label an admin gives a device ("Reception", "Room 4.12").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label(String);
string_newtype!(Label);

impl Label {
    pub fn parse(value: &str) -> Result<Label, InvalidInput> {
        Label::parse_field("label", value)
    }

    /// A label in a field of another name (a profile's description, a token's name).
    pub fn parse_field(field: &'static str, value: &str) -> Result<Label, InvalidInput> {
        check_text(field, value, 64)?;
        Ok(Label(value.to_string()))
    }
}

/// Where a device stands ("Building A, floor 2"), for finding it and filtering by it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location(String);
string_newtype!(Location);

impl Location {
    pub fn parse(value: &str) -> Result<Location, InvalidInput> {
        check_text("location", value, 128)?;
        Ok(Location(value.to_string()))
    }
}

/// A user's first or last name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonName(String);
string_newtype!(PersonName);

impl PersonName {
    pub fn parse(value: &str) -> Result<PersonName, InvalidInput> {
        Self::parse_field("name", value)
    }

    pub fn parse_field(field: &'static str, value: &str) -> Result<PersonName, InvalidInput> {
        check_text(field, value, 64)?;
        Ok(PersonName(value.to_string()))
    }
}

/// A settings profile's name: it appears in URLs and CSV files, so letters, digits, `-`, `_`
/// and `.` only.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProfileName(String);
string_newtype!(ProfileName);

impl ProfileName {
    pub fn parse(value: &str) -> Result<ProfileName, InvalidInput> {
        let allowed = |b: u8| b.is_ascii_alphanumeric() || b"-_.".contains(&b);
        if value.is_empty()
            || value.len() > 64
            || !value.bytes().all(allowed)
            || value.starts_with('.')
        {
            return Err(InvalidInput::new(
                "profile",
                "must be 1 to 64 letters, digits, '-', '_' or '.'",
            ));
        }
        Ok(ProfileName(value.to_string()))
    }
}

/// A user's e-mail address: one `@`, a dotted domain, no spaces; checked for shape only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);
string_newtype!(Email);

impl Email {
    pub fn parse(value: &str) -> Result<Email, InvalidInput> {
        check_text("email", value, 254)?;
        let shape_ok = match value.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !domain.contains('@')
                    && !value.contains(char::is_whitespace)
                    && !value.contains(['<', '>', '"', '\\', ','])
            }
            None => false,
        };
        if !shape_ok {
            return Err(InvalidInput::new(
                "email",
                "must look like name@example.com",
            ));
        }
        Ok(Email(value.to_string()))
    }
}

/// A SIP authentication user name: the unreserved characters of a SIP URI user part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SipUser(String);
string_newtype!(SipUser);

impl SipUser {
    pub fn parse(value: &str) -> Result<SipUser, InvalidInput> {
        let allowed = |b: u8| b.is_ascii_alphanumeric() || b"-_.!~*'()+".contains(&b);
        if value.is_empty() || value.len() > 64 || !value.bytes().all(allowed) {
            return Err(InvalidInput::new(
                "sip_user",
                "must be 1 to 64 letters, digits or - _ . ! ~ * ' ( ) +",
            ));
        }
        Ok(SipUser(value.to_string()))
    }
}

/// A SIP password given by an admin: printable ASCII without spaces, so it survives every
/// config format and every phone's parser unchanged.
pub struct SipPassword;

impl SipPassword {
    pub const GENERATED_LEN: usize = 20;

    pub fn parse(value: &str) -> Result<Secret, InvalidInput> {
        if !(8..=128).contains(&value.len()) {
            return Err(InvalidInput::new(
                "sip_password",
                "must be 8 to 128 characters",
            ));
        }
        if !value.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
            return Err(InvalidInput::new(
                "sip_password",
                "only printable ASCII without spaces is allowed",
            ));
        }
        Ok(Secret::from_trusted(value.to_string()))
    }

    pub fn generate() -> Secret {
        Secret::generate(Self::GENERATED_LEN)
    }
}

/// A phone model as vendors name it ("T46S", "W70B"), normalised to upper case without the
/// "SIP-" decorations some User-Agents carry.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ModelId(String);
string_newtype!(ModelId);

impl ModelId {
    pub fn parse(value: &str) -> Result<ModelId, InvalidInput> {
        let allowed = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'_';
        if value.is_empty() || value.len() > 32 || !value.bytes().all(allowed) {
            return Err(InvalidInput::new(
                "model",
                "must be 1 to 32 letters, digits, '-' or '_'",
            ));
        }
        Ok(ModelId(value.to_ascii_uppercase()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extension_is_digits_only() {
        assert!(Extension::parse("1001").is_ok());
        for bad in ["", "10a1", "1001\n", "1234567890123456", "+49", " 1001"] {
            assert!(Extension::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn names_refuse_injection_but_keep_unicode() {
        assert!(DisplayName::parse("Zoë O'Neil & Co <Sales>").is_ok());
        for bad in [
            "",
            "A\r\naccount.1.sip_server.1.address = evil",
            "B\nstatic.auto_provision.server.url=http://evil",
            "nul\0byte",
            "line\u{2028}separator",
            " padded",
            &"x".repeat(10_000),
        ] {
            assert!(DisplayName::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn sip_password_rules() {
        assert!(SipPassword::parse("s3cret-P@ss").is_ok());
        assert!(SipPassword::parse("short").is_err());
        assert!(SipPassword::parse("with space in it").is_err());
        assert!(SipPassword::parse("newline\ninside!").is_err());
        assert_eq!(SipPassword::generate().expose().len(), 20);
    }

    #[test]
    fn model_id_normalises_case() {
        assert_eq!(ModelId::parse("t46s").unwrap().as_str(), "T46S");
        assert!(ModelId::parse("T46S\n").is_err());
        assert!(ModelId::parse("").is_err());
    }
}
