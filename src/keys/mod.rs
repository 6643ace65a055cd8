//! Programmable keys, vendor-neutral: what a key does (its type), what it acts on (its value),
//! what it shows (its label) and which account it uses (its line), at a position on the phone
//! or on an expansion module.
//!
//! Keys come in layers inherited like settings: site, profile, model, device, and the keys of
//! the user logged in at a hot desk (`effective.rs`). A layer sets, replaces or clears single
//! positions; each vendor renders the effective keys in its own keys and codes (`vendors/`).

pub mod effective;
pub mod load;

use serde::{Deserialize, Serialize};

use crate::domain::{InvalidInput, Label, parse_url};

/// Most keys one layer may hold: a phone with three full expansion modules has about 130.
pub const MAX_KEYS_PER_LAYER: usize = 256;
/// Highest position on a phone or a module.
pub const MAX_POSITION: u16 = 128;
/// Highest expansion module number.
pub const MAX_MODULE: u8 = 6;
/// Highest line (account) a key may use.
pub const MAX_LINE: u16 = 64;

/// What a key does. The names are the API's, the CLI's and CSV's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyType {
    /// The appearance of a line (account): calls on it, its state.
    Line,
    /// Busy lamp field: shows whether the extension in `value` is on the phone; pressing it
    /// calls it, or picks up its ringing call.
    Blf,
    /// Dials `value`.
    SpeedDial,
    /// Sends `value` as DTMF during a call.
    Dtmf,
    /// Parks the call (at the park slot in `value`, if given).
    Park,
    /// Picks up the call ringing at the extension in `value` (directed pickup).
    Pickup,
    /// Picks up a call ringing in the phone's pickup group.
    GroupPickup,
    /// Calls the extension in `value` on intercom (auto-answer).
    Intercom,
    /// Transfers the call (to `value`, if given: a blind transfer).
    Transfer,
    /// Calls the voicemail (`value`, if given, else the line's voicemail number).
    Voicemail,
    /// Do not disturb on and off.
    Dnd,
    /// Call forwarding (to `value`, if given).
    Forward,
    /// Conference.
    Conference,
    /// Opens the URL in `value` in the phone's XML browser.
    Url,
    /// The hot-desk login and logout screen of a hot-desk phone.
    Hotdesk,
    /// Clears the position: an inherited key there is not shown.
    None,
}

/// What `value` must be for a key type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ValueRule {
    /// No value.
    Absent,
    /// A number or extension: required, or optional.
    Number { required: bool },
    /// DTMF digits.
    Digits,
    /// An http(s) URL.
    Url,
}

impl KeyType {
    pub const ALL: &'static [KeyType] = &[
        KeyType::Line,
        KeyType::Blf,
        KeyType::SpeedDial,
        KeyType::Dtmf,
        KeyType::Park,
        KeyType::Pickup,
        KeyType::GroupPickup,
        KeyType::Intercom,
        KeyType::Transfer,
        KeyType::Voicemail,
        KeyType::Dnd,
        KeyType::Forward,
        KeyType::Conference,
        KeyType::Url,
        KeyType::Hotdesk,
        KeyType::None,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            KeyType::Line => "line",
            KeyType::Blf => "blf",
            KeyType::SpeedDial => "speed_dial",
            KeyType::Dtmf => "dtmf",
            KeyType::Park => "park",
            KeyType::Pickup => "pickup",
            KeyType::GroupPickup => "group_pickup",
            KeyType::Intercom => "intercom",
            KeyType::Transfer => "transfer",
            KeyType::Voicemail => "voicemail",
            KeyType::Dnd => "dnd",
            KeyType::Forward => "forward",
            KeyType::Conference => "conference",
            KeyType::Url => "url",
            KeyType::Hotdesk => "hotdesk",
            KeyType::None => "none",
        }
    }

    pub fn parse(name: &str) -> Option<KeyType> {
        KeyType::ALL.iter().copied().find(|t| t.as_str() == name)
    }

    fn value_rule(self) -> ValueRule {
        use ValueRule::*;
        match self {
            KeyType::Blf | KeyType::SpeedDial | KeyType::Pickup | KeyType::Intercom => {
                Number { required: true }
            }
            KeyType::Park | KeyType::Transfer | KeyType::Voicemail | KeyType::Forward => {
                Number { required: false }
            }
            KeyType::Dtmf => Digits,
            KeyType::Url => Url,
            KeyType::Line
            | KeyType::GroupPickup
            | KeyType::Dnd
            | KeyType::Conference
            | KeyType::Hotdesk
            | KeyType::None => Absent,
        }
    }

    /// Whether the key watches or calls an extension, so that its label may default to the
    /// name of the user with that extension.
    pub fn names_a_colleague(self) -> bool {
        matches!(
            self,
            KeyType::Blf | KeyType::SpeedDial | KeyType::Pickup | KeyType::Intercom
        )
    }
}

/// Where a key sits: on the phone (`module` is `None`) or on an expansion module, counted
/// from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct KeyPosition {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module: Option<u8>,
    pub position: u16,
}

impl KeyPosition {
    pub const fn on_phone(position: u16) -> KeyPosition {
        KeyPosition {
            module: None,
            position,
        }
    }

    fn check(self) -> Result<KeyPosition, InvalidInput> {
        if self.position == 0 || self.position > MAX_POSITION {
            return Err(InvalidInput::new(
                "position",
                format!("must be 1 to {MAX_POSITION}"),
            ));
        }
        if self
            .module
            .is_some_and(|module| module == 0 || module > MAX_MODULE)
        {
            return Err(InvalidInput::new(
                "module",
                format!("must be 1 to {MAX_MODULE}"),
            ));
        }
        Ok(self)
    }
}

impl std::fmt::Display for KeyPosition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.module {
            Some(module) => write!(f, "module {module} key {}", self.position),
            None => write!(f, "key {}", self.position),
        }
    }
}

/// One key of a layer, checked: its value fits its type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "KeyInput")]
pub struct Key {
    #[serde(flatten)]
    pub at: KeyPosition,
    #[serde(rename = "type")]
    pub kind: KeyType,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<Label>,
    /// The line (account) it uses; 1 unless given.
    pub line: u16,
}

/// A key as the API, the CLI and CSV give it, before it is checked.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyInput {
    #[serde(default)]
    pub module: Option<u8>,
    pub position: u16,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub value: Option<String>,
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default)]
    pub line: Option<u16>,
}

impl TryFrom<KeyInput> for Key {
    type Error = InvalidInput;

    fn try_from(input: KeyInput) -> Result<Key, InvalidInput> {
        let at = KeyPosition {
            module: input.module,
            position: input.position,
        }
        .check()?;
        let kind = KeyType::parse(&input.kind).ok_or_else(|| {
            let names: Vec<_> = KeyType::ALL.iter().map(|t| t.as_str()).collect();
            InvalidInput::new("type", format!("must be one of {}", names.join(", ")))
        })?;
        let value = check_value(kind, input.value.filter(|v| !v.is_empty()))?;
        let label = input
            .label
            .filter(|l| !l.is_empty())
            .map(|l| Label::parse_field("label", &l))
            .transpose()?;
        if kind == KeyType::None && label.is_some() {
            return Err(InvalidInput::new(
                "label",
                "a key of type none clears its position and shows nothing",
            ));
        }
        let line = input.line.unwrap_or(1);
        if line == 0 || line > MAX_LINE {
            return Err(InvalidInput::new(
                "line",
                format!("must be 1 to {MAX_LINE}"),
            ));
        }
        Ok(Key {
            at,
            kind,
            value,
            label,
            line,
        })
    }
}

fn check_value(kind: KeyType, value: Option<String>) -> Result<Option<String>, InvalidInput> {
    let field = "value";
    match (kind.value_rule(), value) {
        (ValueRule::Absent, None) => Ok(None),
        (ValueRule::Absent, Some(_)) => Err(InvalidInput::new(
            field,
            format!("a {} key takes no value", kind.as_str()),
        )),
        (ValueRule::Number { required: true }, None)
        | (ValueRule::Digits | ValueRule::Url, None) => Err(InvalidInput::new(
            field,
            format!("a {} key needs a value", kind.as_str()),
        )),
        (ValueRule::Number { .. }, None) => Ok(None),
        (ValueRule::Number { .. }, Some(v)) => dial_target(field, &v).map(Some),
        (ValueRule::Digits, Some(v)) => {
            let digit = |c: char| c.is_ascii_digit() || "*#ABCDabcd".contains(c);
            if v.len() > 32 || !v.chars().all(digit) {
                return Err(InvalidInput::new(
                    field,
                    "DTMF keys send 1 to 32 of 0-9, *, # and A-D",
                ));
            }
            Ok(Some(v))
        }
        (ValueRule::Url, Some(v)) => parse_url(field, &v).map(Some),
    }
}

/// A number, an extension, a feature code or a SIP URI's user part: what a phone dials.
fn dial_target(field: &'static str, value: &str) -> Result<String, InvalidInput> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "*#+@._-".contains(c);
    if value.len() > 64 || !value.chars().all(allowed) {
        return Err(InvalidInput::new(
            field,
            "must be a number, extension or SIP address: at most 64 of letters, digits, * # + @ . _ -",
        ));
    }
    Ok(value.to_string())
}

/// A key layer that no record carries: the site's, or a model's (by its model row's name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SharedKeys {
    Site,
    Model(&'static str),
}

impl SharedKeys {
    /// Its name in the store: `site`, or `model/<MODEL>`.
    pub fn storage_key(&self) -> String {
        match self {
            SharedKeys::Site => "site".to_string(),
            SharedKeys::Model(model) => format!("model/{model}"),
        }
    }

    /// The layer [`SharedKeys::storage_key`] names, if its model is in the model table.
    pub fn from_storage_key(key: &str) -> Option<SharedKeys> {
        match key.strip_prefix("model/") {
            None => (key == "site").then_some(SharedKeys::Site),
            Some(model) => {
                let row = crate::models::find_any(model).filter(|row| row.model == model)?;
                Some(SharedKeys::Model(row.model))
            }
        }
    }
}

/// The keys of one layer: at most one per position, in position order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<Key>", into = "Vec<Key>")]
pub struct KeyLayer(Vec<Key>);

impl KeyLayer {
    pub fn keys(&self) -> &[Key] {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn parse(keys: Vec<Key>) -> Result<KeyLayer, InvalidInput> {
        KeyLayer::try_from(keys)
    }
}

impl TryFrom<Vec<Key>> for KeyLayer {
    type Error = InvalidInput;

    fn try_from(mut keys: Vec<Key>) -> Result<KeyLayer, InvalidInput> {
        if keys.len() > MAX_KEYS_PER_LAYER {
            return Err(InvalidInput::new(
                "keys",
                format!("at most {MAX_KEYS_PER_LAYER} keys in one layer"),
            ));
        }
        keys.sort_by_key(|k| k.at);
        if let Some(pair) = keys.windows(2).find(|pair| pair[0].at == pair[1].at) {
            return Err(InvalidInput::new(
                "keys",
                format!("{} is given twice", pair[0].at),
            ));
        }
        Ok(KeyLayer(keys))
    }
}

impl From<KeyLayer> for Vec<Key> {
    fn from(layer: KeyLayer) -> Vec<Key> {
        layer.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn layer(value: serde_json::Value) -> Result<KeyLayer, String> {
        serde_json::from_value(value).map_err(|e| e.to_string())
    }

    #[test]
    fn keys_round_trip_through_json_with_line_one_by_default() {
        let parsed = layer(json!([
            {"position": 2, "type": "blf", "value": "1002"},
            {"position": 1, "type": "line"},
            {"module": 1, "position": 1, "type": "speed_dial", "value": "+4930123", "label": "Office", "line": 2},
        ]))
        .unwrap();
        assert_eq!(
            serde_json::to_value(&parsed).unwrap(),
            json!([
                {"position": 1, "type": "line", "line": 1},
                {"position": 2, "type": "blf", "value": "1002", "line": 1},
                {"module": 1, "position": 1, "type": "speed_dial", "value": "+4930123", "label": "Office", "line": 2},
            ])
        );
    }

    #[test]
    fn values_that_do_not_fit_their_type_are_refused_with_the_reason() {
        let refused = [
            (json!({"position": 1, "type": "blf"}), "needs a value"),
            (
                json!({"position": 1, "type": "dnd", "value": "1"}),
                "takes no value",
            ),
            (
                json!({"position": 1, "type": "dtmf", "value": "12x"}),
                "DTMF",
            ),
            (
                json!({"position": 1, "type": "url", "value": "ftp://x"}),
                "value",
            ),
            (
                json!({"position": 1, "type": "speed_dial", "value": "1 2"}),
                "number",
            ),
            (json!({"position": 0, "type": "line"}), "position"),
            (
                json!({"position": 1, "module": 7, "type": "line"}),
                "module",
            ),
            (json!({"position": 1, "type": "line", "line": 0}), "line"),
            (json!({"position": 1, "type": "beep"}), "must be one of"),
            (
                json!({"position": 1, "type": "none", "label": "x"}),
                "clears",
            ),
            (
                json!({"position": 1, "type": "line", "colour": "red"}),
                "unknown field",
            ),
            (
                json!({"position": 1, "type": "blf", "value": "1002", "label": "a\nb"}),
                "control",
            ),
        ];
        for (key, reason) in refused {
            let error = layer(json!([key])).unwrap_err();
            assert!(error.contains(reason), "{key}: {error}");
        }
        let twice = layer(json!([
            {"position": 3, "type": "dnd"},
            {"position": 3, "type": "conference"},
        ]))
        .unwrap_err();
        assert!(twice.contains("key 3 is given twice"), "{twice}");
    }
}
