//! A phone's keys: its lines first, then every layer in order of inheritance (site, profile,
//! model, device, the logged-in user's own), each setting, replacing or clearing positions;
//! fitted to what the model has.
//!
//! Pure: the caller reads the layers and says how labels are found.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Key, KeyLayer, KeyPosition, KeyType};

/// Where an effective key comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "layer", content = "name", rename_all = "snake_case")]
pub enum KeyOrigin {
    /// The device's lines and a hot-desk phone's login key, where no layer put them.
    Default,
    Site,
    Profile(String),
    Model(String),
    Device,
    /// The keys of the user logged in at this phone.
    User(String),
}

/// How many keys a model has, a column of its model row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyCapacity {
    /// Programmable keys on the phone itself, over all its pages.
    pub line_keys: u16,
    /// Pages the line keys are spread over (1 when the phone has no pages).
    pub pages: u8,
    /// Soft keys below the display that the vendor lets the config program.
    pub soft_keys: u8,
    /// Expansion modules the phone takes, and keys on each.
    pub modules: u8,
    pub keys_per_module: u16,
}

impl KeyCapacity {
    /// A model whose keys deskprov does not program (DECT bases, models without key data).
    pub const NONE: KeyCapacity = KeyCapacity {
        line_keys: 0,
        pages: 1,
        soft_keys: 0,
        modules: 0,
        keys_per_module: 0,
    };

    pub const fn keys(line_keys: u16, pages: u8) -> KeyCapacity {
        KeyCapacity {
            line_keys,
            pages,
            soft_keys: 0,
            modules: 0,
            keys_per_module: 0,
        }
    }

    pub const fn modules(mut self, modules: u8, keys_per_module: u16) -> KeyCapacity {
        self.modules = modules;
        self.keys_per_module = keys_per_module;
        self
    }

    pub const fn soft_keys(mut self, soft_keys: u8) -> KeyCapacity {
        self.soft_keys = soft_keys;
        self
    }
}

/// Every key position a phone with `capacity` and `attached` expansion modules has: the
/// phone's own keys, then each attached module's.
pub fn positions(capacity: KeyCapacity, attached: u8) -> impl Iterator<Item = KeyPosition> {
    let phone = (1..=capacity.line_keys).map(KeyPosition::on_phone);
    let modules = (1..=attached.min(capacity.modules)).flat_map(move |module| {
        (1..=capacity.keys_per_module).map(move |position| KeyPosition {
            module: Some(module),
            position,
        })
    });
    phone.chain(modules)
}

/// One key as the phone gets it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EffectiveKey {
    #[serde(flatten)]
    pub key: Key,
    /// The label to show: the key's own, else the name of the colleague it watches or calls.
    #[serde(skip)]
    pub shown_label: Option<String>,
    pub origin: KeyOrigin,
}

/// What a phone is: its lines in use, whether it is a hot-desk phone, its model's keys and the
/// expansion modules attached to it.
#[derive(Debug, Clone, Copy)]
pub struct Phone<'a> {
    /// Line numbers with a user (or a hot-desk login) on them.
    pub lines: &'a [u16],
    pub hotdesk: bool,
    pub capacity: KeyCapacity,
    pub modules_attached: u8,
}

/// The keys that fit, in position order, and those that did not (shown to the admin, never
/// rendered).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Resolved {
    pub keys: Vec<EffectiveKey>,
    pub beyond_capacity: Vec<EffectiveKey>,
}

/// The phone's keys from its `layers` (in order of inheritance). `name_of` gives the display
/// name of the user with an extension, for labels.
pub fn resolve<'n>(
    phone: Phone<'_>,
    layers: &[(KeyOrigin, &KeyLayer)],
    name_of: impl Fn(&str) -> Option<&'n str>,
) -> Resolved {
    let mut at: BTreeMap<KeyPosition, EffectiveKey> = BTreeMap::new();
    for (origin, layer) in layers {
        for key in layer.keys() {
            at.insert(key.at, effective(key.clone(), origin.clone()));
        }
    }
    place_defaults(&mut at, phone);
    at.retain(|_, k| k.key.kind != KeyType::None);
    let mut resolved = fit(at, phone);
    for key in resolved
        .keys
        .iter_mut()
        .chain(resolved.beyond_capacity.iter_mut())
    {
        key.shown_label = shown_label(&key.key, &name_of);
    }
    resolved
}

fn effective(key: Key, origin: KeyOrigin) -> EffectiveKey {
    EffectiveKey {
        key,
        shown_label: None,
        origin,
    }
}

/// The `n`-th line in use takes phone key `n`, unless a layer placed that line elsewhere or set
/// that position (a layer's key wins, a `none` included). A hot-desk phone whose layers hold no
/// login key gets one after its lines, at the first position no layer gave another key: no
/// layer can take it away.
fn place_defaults(at: &mut BTreeMap<KeyPosition, EffectiveKey>, phone: Phone<'_>) {
    let placed = |at: &BTreeMap<KeyPosition, EffectiveKey>, kind: KeyType, line: Option<u16>| {
        at.values()
            .any(|k| k.key.kind == kind && line.is_none_or(|l| k.key.line == l))
    };
    for (index, &line) in (1..).zip(phone.lines) {
        let position = KeyPosition::on_phone(index);
        if placed(at, KeyType::Line, Some(line)) || at.contains_key(&position) {
            continue;
        }
        let key = default_key(position, KeyType::Line, line);
        at.insert(position, effective(key, KeyOrigin::Default));
    }
    if phone.hotdesk && !placed(at, KeyType::Hotdesk, None) {
        let first = u16::try_from(phone.lines.len()).unwrap_or(u16::MAX - 1) + 1;
        let position = (first..)
            .map(KeyPosition::on_phone)
            .find(|p| at.get(p).is_none_or(|k| k.key.kind == KeyType::None))
            .expect("a free position");
        let key = default_key(position, KeyType::Hotdesk, 1);
        at.insert(position, effective(key, KeyOrigin::Default));
    }
}

fn default_key(at: KeyPosition, kind: KeyType, line: u16) -> Key {
    Key {
        at,
        kind,
        value: None,
        label: None,
        line,
    }
}

/// Keys beyond the phone's own go to its expansion modules in order, when some are attached;
/// what fits nowhere is set apart. The hot-desk key always fits: it takes the last phone key.
fn fit(at: BTreeMap<KeyPosition, EffectiveKey>, phone: Phone<'_>) -> Resolved {
    let capacity = phone.capacity;
    let modules = phone.modules_attached.min(capacity.modules);
    let on_module = |p: &KeyPosition| {
        p.module
            .is_some_and(|m| m <= modules && p.position <= capacity.keys_per_module)
    };
    let fits = |p: &KeyPosition| match p.module {
        None => p.position <= capacity.line_keys,
        Some(_) => on_module(p),
    };
    let (mut keys, overflow): (Vec<_>, Vec<_>) = at.into_values().partition(|k| fits(&k.key.at));
    let mut taken: std::collections::BTreeSet<KeyPosition> =
        keys.iter().map(|k| k.key.at).collect();
    let mut free_module_keys = (1..=modules).flat_map(|m| {
        (1..=capacity.keys_per_module).map(move |p| KeyPosition {
            module: Some(m),
            position: p,
        })
    });
    let mut beyond_capacity = Vec::new();
    for mut key in overflow {
        let phone_key_beyond = key.key.at.module.is_none();
        let free = phone_key_beyond
            .then(|| free_module_keys.find(|p| !taken.contains(p)))
            .flatten();
        match free {
            Some(position) => {
                key.key.at = position;
                taken.insert(position);
                keys.push(key);
            }
            None if key.key.kind == KeyType::Hotdesk && capacity.line_keys > 0 => {
                let last = KeyPosition::on_phone(capacity.line_keys);
                if let Some(displaced) = keys.iter().position(|k| k.key.at == last) {
                    beyond_capacity.push(keys.remove(displaced));
                }
                key.key.at = last;
                keys.push(key);
            }
            None => beyond_capacity.push(key),
        }
    }
    keys.sort_by_key(|k| k.key.at);
    Resolved {
        keys,
        beyond_capacity,
    }
}

fn shown_label<'n>(key: &Key, name_of: &impl Fn(&str) -> Option<&'n str>) -> Option<String> {
    if let Some(label) = &key.label {
        return Some(label.to_string());
    }
    key.kind
        .names_a_colleague()
        .then(|| key.value.as_deref().and_then(name_of))
        .flatten()
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn layer(value: serde_json::Value) -> KeyLayer {
        serde_json::from_value(value).unwrap()
    }

    const T46S: KeyCapacity = KeyCapacity::keys(10, 1).modules(3, 20);

    fn phone(lines: &'static [u16], hotdesk: bool, modules: u8) -> Phone<'static> {
        Phone {
            lines,
            hotdesk,
            capacity: T46S,
            modules_attached: modules,
        }
    }

    fn summary(resolved: &Resolved) -> Vec<String> {
        resolved
            .keys
            .iter()
            .map(|k| {
                format!(
                    "{} {} {} {:?}",
                    k.key.at,
                    k.key.kind.as_str(),
                    k.key.value.as_deref().unwrap_or("-"),
                    k.origin
                )
            })
            .collect()
    }

    #[test]
    fn lines_come_first_and_layers_set_replace_and_clear_positions_in_order() {
        let site = layer(json!([
            {"position": 3, "type": "blf", "value": "1002"},
            {"position": 4, "type": "speed_dial", "value": "100"},
            {"position": 5, "type": "dnd"},
        ]));
        let profile = layer(json!([{"position": 4, "type": "park"}]));
        let device = layer(json!([
            {"position": 5, "type": "none"},
            {"position": 6, "type": "line", "line": 2},
        ]));
        let layers = [
            (KeyOrigin::Site, &site),
            (KeyOrigin::Profile("office".into()), &profile),
            (KeyOrigin::Device, &device),
        ];
        let resolved = resolve(phone(&[1, 2], false, 0), &layers, |_| None);
        assert_eq!(
            summary(&resolved),
            [
                "key 1 line - Default",
                "key 3 blf 1002 Site",
                "key 4 park - Profile(\"office\")",
                "key 6 line - Device",
            ]
        );
    }

    #[test]
    fn a_hot_desk_phone_always_keeps_its_login_key() {
        let device = layer(json!([
            {"position": 2, "type": "none"},
            {"position": 3, "type": "dnd"},
        ]));
        let resolved = resolve(
            phone(&[1], true, 0),
            &[(KeyOrigin::Device, &device)],
            |_| None,
        );
        assert_eq!(
            summary(&resolved),
            [
                "key 1 line - Default",
                "key 2 hotdesk - Default",
                "key 3 dnd - Device"
            ]
        );
        let full: Vec<_> = (1..=10)
            .map(|p| json!({"position": p, "type": "dnd"}))
            .collect();
        let full = layer(serde_json::Value::Array(full));
        let resolved = resolve(phone(&[], true, 0), &[(KeyOrigin::Site, &full)], |_| None);
        assert_eq!(resolved.keys.len(), 10);
        assert_eq!(resolved.keys[9].key.kind, KeyType::Hotdesk);
        assert_eq!(resolved.beyond_capacity.len(), 1);
    }

    #[test]
    fn keys_beyond_the_phone_go_to_attached_modules_else_are_set_apart() {
        let many: Vec<_> = (1..=40)
            .map(|p| json!({"position": p, "type": "blf", "value": format!("{}", 1000 + p)}))
            .collect();
        let many = layer(serde_json::Value::Array(many));
        let layers = [(KeyOrigin::Device, &many)];
        let bare = resolve(phone(&[], false, 0), &layers, |_| None);
        assert_eq!(bare.keys.len(), 10);
        assert_eq!(bare.beyond_capacity.len(), 30);
        let with_module = resolve(phone(&[], false, 2), &layers, |_| None);
        assert_eq!(with_module.keys.len(), 40);
        assert!(with_module.beyond_capacity.is_empty());
        assert_eq!(
            with_module.keys[10].key.at,
            KeyPosition {
                module: Some(1),
                position: 1
            }
        );
        assert_eq!(with_module.keys[10].key.value.as_deref(), Some("1011"));
        assert_eq!(with_module.keys[39].key.at.module, Some(2));
    }

    #[test]
    fn a_colleagues_key_is_labelled_with_their_name_unless_it_has_a_label() {
        let keys = layer(json!([
            {"position": 1, "type": "blf", "value": "1002"},
            {"position": 2, "type": "speed_dial", "value": "1002", "label": "Boss"},
            {"position": 3, "type": "speed_dial", "value": "5555"},
            {"position": 4, "type": "park", "value": "1002"},
        ]));
        let names = |extension: &str| (extension == "1002").then_some("Bob Example");
        let resolved = resolve(phone(&[], false, 0), &[(KeyOrigin::Site, &keys)], names);
        let labels: Vec<_> = resolved
            .keys
            .iter()
            .map(|k| k.shown_label.as_deref())
            .collect();
        assert_eq!(labels, [Some("Bob Example"), Some("Boss"), None, None]);
    }
}
