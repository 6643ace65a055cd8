//! The settings table every settings page shows (one row per setting: its value at the page's
//! level and what the phone would get without it), and the patch a submitted table makes.

use serde_json::{Map, Value};

use super::texts::SettingsTexts;
use crate::console::form::Form;
use crate::settings::{Effective, Key, Origin, SettingsPatch, ValueKind};

/// One setting as a settings page shows it.
pub struct Row {
    pub name: &'static str,
    pub label: &'static str,
    /// The value set at this level, as the form's field shows it (never a secret's).
    pub here: String,
    pub secret: bool,
    pub secret_set: bool,
    pub long: bool,
    pub number: bool,
    /// What applies without a value here, and where it comes from.
    pub inherited: String,
    pub from: String,
    /// The page cannot set it (site-wide, seen from a profile, model or device).
    pub fixed: bool,
}

/// A value as a form field or a table cell shows it.
pub fn shown(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(text)) => text.clone(),
        Some(other) => other.to_string(),
    }
}

/// A long value (a PEM certificate) as a table cell shows it: its first 40 characters.
fn shortened(text: String) -> String {
    match text.char_indices().nth(40) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text,
    }
}

/// Where a value comes from, in words.
pub fn origin(s: &SettingsTexts, origin: &Origin) -> String {
    match origin {
        Origin::Default => s.from_site.to_string(),
        Origin::Profile(name) => format!("{} {name}", s.from_profile),
        Origin::Model(name) => format!("{} {name}", s.from_model),
        Origin::Device => s.from_device.to_string(),
    }
}

/// What a level's table needs: its own values and, per setting, what applies without them.
pub struct Level<'a> {
    pub here: &'a Map<String, Value>,
    pub below: &'a Map<String, Value>,
    /// Where each inherited value comes from; `None`: from the built-in default.
    pub below_from: Option<&'a Effective>,
    /// The site's own page: every setting may be set.
    pub site: bool,
}

pub fn rows(s: &SettingsTexts, level: &Level<'_>) -> Vec<Row> {
    Key::ALL
        .iter()
        .map(|key| {
            let secret = key.is_secret();
            let here = level.here.get(key.name()).filter(|v| !v.is_null());
            let below = level.below.get(key.name()).filter(|v| !v.is_null());
            let long = key.def().kind == ValueKind::Certificate;
            let inherited = match (secret, below) {
                (_, None) => s.not_set.to_string(),
                (true, Some(_)) => s.secret_set.to_string(),
                (false, value) if long => shortened(shown(value)),
                (false, value) => shown(value),
            };
            let from = match level.below_from {
                Some(effective) => origin(s, &effective.origins[key]),
                None => s.from_default.to_string(),
            };
            Row {
                name: key.name(),
                label: s.label(*key),
                here: if secret { String::new() } else { shown(here) },
                secret,
                secret_set: secret && here.is_some(),
                long,
                number: matches!(key.def().kind, ValueKind::Port | ValueKind::Minutes),
                inherited,
                from,
                fixed: !level.site && !key.inheritable(),
            }
        })
        .collect()
}

/// A refused value: the setting's name and what it takes, in the page's language.
#[derive(Debug)]
pub struct Refused {
    pub label: &'static str,
    pub expected: &'static str,
}

/// The patch the submitted table makes against the level's values: a changed field sets its
/// value, an emptied one removes it (on the site's page: restores the default), a secret
/// changes only when typed or removed. Every value is checked first; refused ones are named.
pub fn patch_of(
    s: &SettingsTexts,
    form: &Form,
    here: &Map<String, Value>,
    site: bool,
) -> Result<SettingsPatch, Vec<Refused>> {
    let mut patch = Map::new();
    let mut refused = Vec::new();
    for key in Key::ALL.iter().filter(|k| site || k.inheritable()) {
        let sent = form.value(&format!("s.{}", key.name()));
        // A row the form did not send stays as it is; only a sent empty field clears it.
        if sent.is_none() && !key.is_secret() {
            continue;
        }
        let given = sent.unwrap_or("").trim();
        let current = here.get(key.name()).filter(|v| !v.is_null());
        let change = if key.is_secret() {
            if form.ticked(&format!("clear.{}", key.name())) {
                current.map(|_| Value::Null)
            } else {
                (!given.is_empty()).then(|| Value::String(given.to_string()))
            }
        } else if given == shown(current) {
            None
        } else if given.is_empty() {
            Some(Value::Null)
        } else {
            Some(typed(key.def().kind, given))
        };
        let Some(value) = change else { continue };
        if !value.is_null() && key.normalize(&value).is_err() {
            refused.push(Refused {
                label: s.label(*key),
                expected: s.kind(key.def().kind),
            });
        }
        patch.insert(key.name().to_string(), value);
    }
    match refused.is_empty() {
        true => Ok(SettingsPatch(patch)),
        false => Err(refused),
    }
}

/// A number where the setting takes one, so the check sees what the API would.
fn typed(kind: ValueKind, given: &str) -> Value {
    match kind {
        ValueKind::Port | ValueKind::Minutes => given
            .parse::<u64>()
            .map_or_else(|_| Value::String(given.to_string()), Value::from),
        _ => Value::String(given.to_string()),
    }
}

/// A submitted table shown again after a refusal: the values as typed, secrets never.
pub fn keep_typed(rows: &mut [Row], form: &Form) {
    for row in rows.iter_mut().filter(|r| !r.secret && !r.fixed) {
        row.here = form.get(&format!("s.{}", row.name)).to_string();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(body: &str) -> Form {
        Form::parse(body.as_bytes()).unwrap()
    }

    #[test]
    fn a_table_patches_what_changed_and_names_what_it_refuses() {
        let s = &super::super::texts::EN;
        let mut here = Map::new();
        here.insert("sip_port".into(), Value::from(5060));
        here.insert("ntp_server".into(), Value::from("ntp.example.com"));
        here.insert("ldap_password".into(), Value::from("old"));
        let unchanged = "s.sip_port=5060&s.ntp_server=ntp.example.com&s.ldap_password=";
        assert!(
            patch_of(s, &form(unchanged), &here, true)
                .unwrap()
                .0
                .is_empty()
        );

        let changed = "s.sip_port=5070&s.ntp_server=&s.ldap_password=&clear.ldap_password=on";
        let patch = patch_of(s, &form(changed), &here, true).unwrap().0;
        assert_eq!(patch["sip_port"], Value::from(5070));
        assert_eq!(patch["ntp_server"], Value::Null);
        assert_eq!(patch["ldap_password"], Value::Null);
        assert_eq!(patch.len(), 3);

        let bad = "s.sip_port=seventy&s.ntp_server=ntp.example.com&s.sip_server=a%20b";
        let refused = patch_of(s, &form(bad), &here, true).unwrap_err();
        let labels: Vec<&str> = refused.iter().map(|r| r.label).collect();
        assert_eq!(labels, ["SIP server (registrar)", "SIP port"]);
        assert_eq!(refused[1].expected, "a port number from 1 to 65535");
    }

    #[test]
    fn a_level_below_the_site_cannot_set_site_wide_settings() {
        let s = &super::super::texts::EN;
        let patch = patch_of(s, &form("s.utc_offset=%2B02:00"), &Map::new(), false).unwrap();
        assert!(patch.0.is_empty());
        let patch = patch_of(s, &form("s.utc_offset=%2B02:00"), &Map::new(), true).unwrap();
        assert_eq!(patch.0["utc_offset"], Value::from("+02:00"));
    }
}
