//! What a phone needs to search an LDAP directory itself: the TLS mode, search filters,
//! attribute lists, DNs, and the PBX's feature codes that keys dial.
//!
//! Filters use `%` where the phone puts what the user typed, as Yealink (`ldap.name_filter`)
//! and Snom (`ldap_search_filter`) both take it (Tancredi `data/scopes/defaults.ini`).

use serde::{Deserialize, Serialize};

use super::InvalidInput;
use super::text::check_text;

/// How a phone secures its LDAP connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LdapTls {
    /// Plain LDAP (port 389).
    #[default]
    None,
    /// LDAP upgraded with StartTLS (port 389).
    Starttls,
    /// LDAP over TLS (port 636).
    Ldaps,
}

impl LdapTls {
    pub fn parse(field: &'static str, value: &str) -> Result<LdapTls, InvalidInput> {
        match value.to_ascii_lowercase().as_str() {
            "none" => Ok(LdapTls::None),
            "starttls" => Ok(LdapTls::Starttls),
            "ldaps" => Ok(LdapTls::Ldaps),
            _ => Err(InvalidInput::new(field, "must be none, starttls or ldaps")),
        }
    }

    /// The port a directory listens on in this mode when none is given.
    pub fn default_port(self) -> u16 {
        match self {
            LdapTls::Ldaps => 636,
            LdapTls::None | LdapTls::Starttls => 389,
        }
    }
}

const MAX_FILTER_CHARS: usize = 512;

/// An RFC 4515 search filter such as `(|(cn=%)(sn=%))` that holds the `%` placeholder.
pub fn parse_ldap_filter(field: &'static str, filter: &str) -> Result<String, InvalidInput> {
    check_text(field, filter, MAX_FILTER_CHARS)?;
    let refuse = |why: String| {
        InvalidInput::new(
            field,
            format!("must be an LDAP search filter such as (|(cn=%)(sn=%)): {why}"),
        )
    };
    let rest = filter_item(filter.as_bytes(), 0).map_err(refuse)?;
    if !rest.is_empty() {
        return Err(refuse(format!(
            "{:?} follows the filter's closing ')'",
            String::from_utf8_lossy(rest)
        )));
    }
    if !filter.contains('%') {
        return Err(InvalidInput::new(
            field,
            "must hold % where the phone puts what is typed, as in (cn=%)",
        ));
    }
    Ok(filter.to_string())
}

/// One `(...)` item at the start of `text`; the text after it.
fn filter_item(text: &[u8], depth: usize) -> Result<&[u8], String> {
    if depth > 16 {
        return Err("more than 16 levels of nested filters".into());
    }
    let Some(inner) = text.strip_prefix(b"(") else {
        return Err("each filter item starts with '('".into());
    };
    match inner.first() {
        Some(b'&' | b'|') => {
            let mut rest = &inner[1..];
            let mut items = 0;
            while rest.first() == Some(&b'(') {
                rest = filter_item(rest, depth + 1)?;
                items += 1;
            }
            if items == 0 {
                return Err("'&' and '|' take one or more (...) items".into());
            }
            closing(rest)
        }
        Some(b'!') => closing(filter_item(&inner[1..], depth + 1)?),
        _ => {
            let end = inner
                .iter()
                .position(|b| matches!(b, b'(' | b')'))
                .filter(|at| inner[*at] == b')')
                .ok_or("an item (attribute=value) is not closed with ')'")?;
            comparison(&inner[..end])?;
            Ok(&inner[end + 1..])
        }
    }
}

fn closing(rest: &[u8]) -> Result<&[u8], String> {
    rest.strip_prefix(b")")
        .ok_or_else(|| "a '(&', '(|' or '(!' group is not closed with ')'".into())
}

/// `attribute=value`, `attribute~=value`, `attribute>=value` or `attribute<=value`.
fn comparison(item: &[u8]) -> Result<(), String> {
    let text = String::from_utf8_lossy(item);
    let (attribute, value) = text
        .split_once('=')
        .ok_or_else(|| format!("({text}) has no '='"))?;
    let attribute = attribute.trim_end_matches(['~', '>', '<']);
    if !is_attribute(attribute) {
        return Err(format!("({text}) does not start with an attribute name"));
    }
    if value.is_empty() {
        return Err(format!("({text}) has no value after '='"));
    }
    Ok(())
}

/// An attribute description: letters, digits, '-' (and ';' options), starting with a letter;
/// or an OID.
fn is_attribute(name: &str) -> bool {
    let descr = name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-;".contains(&b));
    let oid = name.starts_with(|c: char| c.is_ascii_digit())
        && name.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    !name.is_empty() && name.len() <= 64 && (descr || oid)
}

/// Attribute names separated by spaces (`cn sn`), stored with single spaces.
pub fn parse_ldap_attributes(field: &'static str, list: &str) -> Result<String, InvalidInput> {
    let names: Vec<&str> = list.split_whitespace().collect();
    if names.is_empty() || names.len() > 16 || !names.iter().all(|n| is_attribute(n)) {
        return Err(InvalidInput::new(
            field,
            "must be 1 to 16 LDAP attribute names separated by spaces, such as: cn sn",
        ));
    }
    Ok(names.join(" "))
}

/// A distinguished name such as `ou=people,dc=example,dc=com`: `attribute=value` parts
/// separated by commas.
pub fn parse_dn(field: &'static str, dn: &str) -> Result<String, InvalidInput> {
    check_text(field, dn, 255)?;
    let well_formed = dn.split(',').all(|rdn| {
        rdn.split_once('=')
            .is_some_and(|(attribute, value)| is_attribute(attribute.trim()) && !value.is_empty())
    });
    if !well_formed {
        return Err(InvalidInput::new(
            field,
            "must be a distinguished name such as ou=people,dc=example,dc=com",
        ));
    }
    Ok(dn.to_string())
}

/// Free text a phone's LDAP settings take (a bind user, a display pattern, a password): no
/// control characters, no white space at either end.
pub fn parse_ldap_text(
    field: &'static str,
    text: &str,
    max_chars: usize,
) -> Result<String, InvalidInput> {
    check_text(field, text, max_chars)?;
    Ok(text.to_string())
}

/// A PBX feature code such as `**` or `*8`: 1 to 16 of the digits, `*` and `#`.
pub fn parse_feature_code(field: &'static str, code: &str) -> Result<String, InvalidInput> {
    let dialable = |b: u8| b.is_ascii_digit() || b == b'*' || b == b'#';
    if code.is_empty() || code.len() > 16 || !code.bytes().all(dialable) {
        return Err(InvalidInput::new(
            field,
            "must be a feature code of 1 to 16 digits, * and #, such as ** or *8",
        ));
    }
    Ok(code.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_must_be_well_formed_and_hold_the_placeholder() {
        for good in [
            "(cn=%)",
            "(|(cn=%)(o=%))",
            "(|(telephoneNumber=%)(mobile=%)(homePhone=%))",
            "(&(objectClass=person)(|(sn=%*)(givenName=%*)))",
            "(&(!(cn=x))(cn=%))",
        ] {
            assert_eq!(parse_ldap_filter("f", good).as_deref(), Ok(good), "{good}");
        }
        for bad in [
            "",
            "cn=%",
            "(cn=%",
            "(|(cn=%)(o=%)",
            "(cn=%))",
            "(|)",
            "(=%)",
            "(cn=)",
            "(cn=x)",
            "(cn=%)\n(sn=%)",
            "(cn=%)(sn=%)",
            "((cn=%))",
        ] {
            assert!(parse_ldap_filter("f", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn attributes_dns_and_codes() {
        assert_eq!(
            parse_ldap_attributes("a", " cn  sn ").as_deref(),
            Ok("cn sn")
        );
        assert!(parse_ldap_attributes("a", "cn, sn").is_err());
        assert!(parse_ldap_attributes("a", "").is_err());
        assert!(parse_dn("b", "ou=people,dc=example,dc=com").is_ok());
        assert!(parse_dn("b", "example.com").is_err());
        assert!(parse_dn("b", "dc=example,").is_err());
        assert_eq!(parse_feature_code("c", "*8").as_deref(), Ok("*8"));
        assert!(parse_feature_code("c", "8a").is_err());
        assert!(parse_feature_code("c", "").is_err());
        assert_eq!(LdapTls::parse("t", "LDAPS"), Ok(LdapTls::Ldaps));
        assert!(LdapTls::parse("t", "tls").is_err());
        assert_eq!(LdapTls::Ldaps.default_port(), 636);
    }
}
