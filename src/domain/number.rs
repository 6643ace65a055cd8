//! What a phone dials from a phonebook entry, and a contact's name in URLs and CSV files.

use std::fmt;

use super::InvalidInput;

/// A phone number as the phone dials it: an optional `+`, then digits, `*` and `#`. Spaces,
/// dashes, dots, slashes and brackets people write between groups are taken out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DialNumber(String);

impl DialNumber {
    pub fn parse_field(field: &'static str, value: &str) -> Result<DialNumber, InvalidInput> {
        let kept: String = value
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '.' | '/' | '(' | ')'))
            .collect();
        let digits = kept.strip_prefix('+').unwrap_or(&kept);
        let dialable = |c: char| c.is_ascii_digit() || c == '*' || c == '#';
        if digits.is_empty() || digits.len() > 32 || !digits.chars().all(dialable) {
            return Err(InvalidInput::new(
                field,
                "must be a phone number: an optional +, then 1 to 32 digits, * or # (spaces, dashes, dots, slashes and brackets are ignored)",
            ));
        }
        Ok(DialNumber(kept))
    }

    /// A number in a field named `number`.
    pub fn parse(value: &str) -> Result<DialNumber, InvalidInput> {
        DialNumber::parse_field("number", value)
    }
}

/// A contact's identifier: lower-case letters, digits, `-`, `_` and `.`, starting with a
/// letter or digit, at most 64.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ContactId(String);

impl ContactId {
    pub fn parse(value: &str) -> Result<ContactId, InvalidInput> {
        let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_.".contains(c);
        let starts_well = value
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
        if !starts_well || value.len() > 64 || !value.chars().all(allowed) {
            return Err(InvalidInput::new(
                "id",
                "must be 1 to 64 lower-case letters, digits, '-', '_' or '.', starting with a letter or digit",
            ));
        }
        Ok(ContactId(value.to_string()))
    }
}

super::text::string_newtype!(DialNumber);
super::text::string_newtype!(ContactId);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_lose_their_separators_and_keep_what_is_dialled() {
        let parse = |s: &str| DialNumber::parse_field("office", s).map(|n| n.to_string());
        assert_eq!(parse("+49 (30) 123-456/7").unwrap(), "+49301234567");
        assert_eq!(parse("*21#").unwrap(), "*21#");
        for bad in ["", "+", "call me", "12\n3", "1+2", &"9".repeat(33)] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn contact_ids_are_url_safe() {
        assert!(ContactId::parse("reception-berlin.2").is_ok());
        for bad in ["", "-x", "Reception", "a b", "a/b", &"a".repeat(65)] {
            assert!(ContactId::parse(bad).is_err(), "{bad:?}");
        }
    }
}
