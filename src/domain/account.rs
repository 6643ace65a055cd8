//! What an admin account is known by and logs in with.

use std::fmt;

use super::text::string_newtype;
use super::{InvalidInput, Secret};

/// An admin account's name: what its holder types at the login page and what the audit trail
/// shows. Lower-case letters, digits, `.`, `_`, `-` and `@`, so it is one token in every log.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Username(String);
string_newtype!(Username);

impl Username {
    pub const MAX_CHARS: usize = 64;

    pub fn parse(value: &str) -> Result<Username, InvalidInput> {
        let allowed = |c: char| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-' | '@')
        };
        if value.is_empty() || value.len() > Self::MAX_CHARS || !value.chars().all(allowed) {
            return Err(InvalidInput::new(
                "username",
                "must be 1 to 64 lower-case letters, digits, '.', '_', '-' or '@'",
            ));
        }
        Ok(Username(value.to_string()))
    }
}

/// A console password as its holder chose it: at least 12 characters and not the account's
/// name. The upper bound keeps hashing cheap to refuse, not to compute.
pub struct Password(Secret);

impl Password {
    pub const MIN_CHARS: usize = 12;
    pub const MAX_CHARS: usize = 128;

    pub fn parse(value: &str, username: &Username) -> Result<Password, PasswordProblem> {
        let chars = value.chars().count();
        if !(Self::MIN_CHARS..=Self::MAX_CHARS).contains(&chars) {
            return Err(PasswordProblem::Length);
        }
        if value.to_lowercase().contains(username.as_str()) {
            return Err(PasswordProblem::ContainsName);
        }
        if value.chars().any(char::is_control) {
            return Err(PasswordProblem::ControlCharacters);
        }
        Ok(Password(Secret::from_trusted(value.to_string())))
    }

    /// A random password for a new account, given to its holder once.
    pub fn generate() -> Password {
        Password(Secret::generate(20))
    }

    pub fn secret(&self) -> &Secret {
        &self.0
    }
}

/// Why a password is refused; the console says it in the holder's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PasswordProblem {
    #[error("password: must be 12 to 128 characters long")]
    Length,
    #[error("password: must not contain the account's name")]
    ContainsName,
    #[error("password: must not contain control characters")]
    ControlCharacters,
}

impl From<PasswordProblem> for InvalidInput {
    fn from(problem: PasswordProblem) -> InvalidInput {
        let text = problem.to_string();
        let reason = text.strip_prefix("password: ").unwrap_or(&text);
        InvalidInput::new("password", reason)
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_one_plain_token() {
        for good in ["admin", "anna.schmidt", "it-ops_2", "anna@example.com"] {
            assert!(Username::parse(good).is_ok(), "{good}");
        }
        for bad in ["", "Admin", "anna schmidt", "a\nb", "ä", &"a".repeat(65)] {
            assert!(Username::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_password_is_long_enough_and_not_the_name() {
        let admin = Username::parse("admin").unwrap();
        assert!(Password::parse("correct horse battery", &admin).is_ok());
        assert!(Password::parse("Grüße aus Köln!", &admin).is_ok());
        for (bad, problem) in [
            ("short-one", PasswordProblem::Length),
            ("my-Admin-password", PasswordProblem::ContainsName),
            ("tab\there-is-bad", PasswordProblem::ControlCharacters),
        ] {
            assert_eq!(Password::parse(bad, &admin).unwrap_err(), problem, "{bad}");
        }
        assert!(Password::parse(&"x".repeat(129), &admin).is_err());
        let generated = Password::generate();
        assert!(Password::parse(generated.secret().expose(), &admin).is_ok());
    }
}
