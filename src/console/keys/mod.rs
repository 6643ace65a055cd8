//! The key pages: one layer's keys (site, profile, model, device or a user's own) as a grid of
//! the positions its phones have, with a form that sets one key and a button per key that
//! removes it. A device's page shows beside its own keys what the phone gets and where each
//! key comes from. Each change goes through `ops::keys::set_position`, checked against the
//! model's capacity as the API's `PUT .../keys` is.

pub mod texts;

use std::collections::BTreeSet;

use askama::Template;
use http::{Method, StatusCode};

pub use texts::KeysTexts;

use super::form::{Form, query_value};
use super::pages::{Page, PageDef, Who};
use super::reply::{html, message, see_other};
use super::{PageResult, Request, account_permits, assets};
use crate::admin::endpoint::Access;
use crate::domain::{Extension, Mac, ProfileName};
use crate::keys::effective::{self, EffectiveKey, KeyCapacity, KeyOrigin};
use crate::keys::{Key, KeyInput, KeyLayer, KeyPosition, KeyType};
use crate::ops::OpError;
use crate::ops::keys::{self as key_ops, KeyOwner};

/// Whose keys a page shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layer {
    Site,
    Profile,
    Model,
    Device,
    User,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeysPage {
    Show(Layer),
    Set(Layer),
    Remove(Layer),
}

macro_rules! layer_pages {
    ($($layer:ident $path:literal $what:literal $change:ident),* $(,)?) => {
        pub static PAGES: &[PageDef] = &[
            $(
                PageDef {
                    page: Page::Keys(KeysPage::Show(Layer::$layer)),
                    method: Method::GET,
                    path: $path,
                    name: concat!("page: keys of ", $what),
                    access: Access::Read,
                },
                PageDef {
                    page: Page::Keys(KeysPage::Set(Layer::$layer)),
                    method: Method::POST,
                    path: $path,
                    name: concat!("page: set a key of ", $what),
                    access: Access::$change,
                },
                PageDef {
                    page: Page::Keys(KeysPage::Remove(Layer::$layer)),
                    method: Method::POST,
                    path: concat!($path, "/remove"),
                    name: concat!("page: remove a key of ", $what),
                    access: Access::$change,
                },
            )*
        ];
    };
}

layer_pages!(
    Site "/settings/keys" "the site" Site,
    Profile "/profiles/{name}/keys" "a profile" Change,
    Model "/models/{model}/keys" "a model" Change,
    Device "/devices/{mac}/keys" "a device" Change,
    User "/users/{ext}/keys" "a user" Change,
);

/// A key as a cell of the grid.
struct Cell {
    kind: &'static str,
    value: String,
    label: String,
    line: u16,
}

struct Row {
    /// `3`, or `2 · 5` for the fifth key of the second module.
    at: String,
    module: String,
    position: String,
    own: Option<Cell>,
    effective: Option<Cell>,
    origin: String,
}

/// The edit form's fields, as typed or as the key being edited has them.
#[derive(Default)]
struct Fields {
    module: String,
    position: String,
    kind: String,
    value: String,
    label: String,
    line: String,
}

struct TypeChoice {
    name: &'static str,
    text: &'static str,
    selected: bool,
}

#[derive(Template)]
#[template(path = "keys/layer.html")]
struct LayerPage<'a> {
    t: &'static super::texts::Texts,
    k: &'static KeysTexts,
    css: &'a str,
    who: Option<Who>,
    csrf: &'a str,
    heading: String,
    intro: &'static str,
    path: String,
    back: String,
    capacity: Option<(KeyCapacity, u8)>,
    /// What the capacity's expansion modules are, in words; `None` for a model without.
    modules: Option<String>,
    rows: Vec<Row>,
    beyond: Vec<Row>,
    show_effective: bool,
    may_change: bool,
    notice: Option<&'static str>,
    error: Option<&'static str>,
    fields: Fields,
    types: Vec<TypeChoice>,
}

pub async fn show(request: &Request<'_>, page: KeysPage) -> PageResult {
    let KeysPage::Show(layer) = page else {
        return Ok(super::method_not_allowed("GET, HEAD"));
    };
    let Some(owner) = owner_of(request, layer) else {
        return gone(request);
    };
    let k = request.visit.texts.keys;
    let notice = match query_value(request.query, "done") {
        Some("saved") => Some(k.saved),
        Some("removed") => Some(k.removed),
        _ => None,
    };
    let edited = editing(request.query);
    render(request, &owner, StatusCode::OK, notice, None, edited).await
}

pub async fn submit(request: &Request<'_>, page: KeysPage, form: &Form) -> PageResult {
    let (layer, remove) = match page {
        KeysPage::Set(layer) => (layer, false),
        KeysPage::Remove(layer) => (layer, true),
        KeysPage::Show(_) => return Ok(super::method_not_allowed("POST")),
    };
    let Some(owner) = owner_of(request, layer) else {
        return gone(request);
    };
    let k = request.visit.texts.keys;
    let typed = Fields {
        module: form.get("module").trim().to_string(),
        position: form.get("position").trim().to_string(),
        kind: form.get("type").to_string(),
        value: form.get("value").trim().to_string(),
        label: form.get("label").trim().to_string(),
        line: form.get("line").trim().to_string(),
    };
    let outcome = match change_of(&typed, remove) {
        Ok((at, key)) => {
            key_ops::set_position(request.app, &request.visit.actor, &owner, at, key).await
        }
        Err(e) => Err(e),
    };
    match outcome {
        Ok(_) => {
            let done = if remove { "removed" } else { "saved" };
            Ok(see_other(&format!("{}?done={done}", path_of(&owner))))
        }
        Err(OpError::NotFound(_)) => gone(request),
        Err(OpError::Invalid(why)) => {
            let error = Some(refusal(k, &why));
            let fields = Some(typed);
            render(
                request,
                &owner,
                StatusCode::BAD_REQUEST,
                None,
                error,
                fields,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

/// The position a form names, and the key to put there (`None`: remove it).
fn change_of(typed: &Fields, remove: bool) -> Result<(KeyPosition, Option<Key>), OpError> {
    let number = |field: &str, text: &str| -> Result<Option<u16>, OpError> {
        match text {
            "" => Ok(None),
            text => text
                .parse()
                .map(Some)
                .map_err(|_| OpError::invalid(format!("{field}: not a number"))),
        }
    };
    let position = number("position", &typed.position)?
        .ok_or_else(|| OpError::invalid("position: missing"))?;
    let module = number("module", &typed.module)?
        .map(|m| u8::try_from(m).map_err(|_| OpError::invalid("module: too large")))
        .transpose()?;
    let input = KeyInput {
        module,
        position,
        kind: if remove {
            KeyType::None.as_str().to_string()
        } else {
            typed.kind.clone()
        },
        value: Some(typed.value.clone()).filter(|_| !remove),
        label: Some(typed.label.clone()).filter(|_| !remove),
        line: number("line", &typed.line)?,
    };
    let key = Key::try_from(input).map_err(OpError::from)?;
    Ok((key.at, (!remove).then_some(key)))
}

/// The refusal in the page's words, by the field the operation names.
fn refusal(k: &'static KeysTexts, why: &str) -> &'static str {
    match why.split_once(": ").map_or("", |(field, _)| field) {
        "position" => k.error_position,
        "module" => k.error_module,
        "type" => k.error_type,
        "value" => k.error_value,
        "label" => k.error_label,
        "line" => k.error_line,
        _ => k.error_capacity,
    }
}

fn owner_of(request: &Request<'_>, layer: Layer) -> Option<KeyOwner> {
    let param = || request.params.first().map(String::as_str);
    Some(match layer {
        Layer::Site => KeyOwner::Site,
        Layer::Profile => KeyOwner::Profile(ProfileName::parse(param()?).ok()?),
        Layer::Model => KeyOwner::Model(crate::models::find_any(param()?)?),
        Layer::Device => KeyOwner::Device(Mac::parse(param()?).ok()?),
        Layer::User => KeyOwner::User(Extension::parse(param()?).ok()?),
    })
}

/// The owner's key page, and the page it belongs to.
fn path_of(owner: &KeyOwner) -> String {
    format!("{}/keys", page_of(owner))
}

fn page_of(owner: &KeyOwner) -> String {
    match owner {
        KeyOwner::Site => "/settings".to_string(),
        KeyOwner::Profile(name) => format!("/profiles/{name}"),
        KeyOwner::Model(row) => format!("/models/{}", row.model),
        KeyOwner::Device(mac) => format!("/devices/{mac}"),
        KeyOwner::User(extension) => format!("/users/{extension}"),
    }
}

/// The position `?module=M&position=N` asks to edit.
fn editing(query: &str) -> Option<Fields> {
    let position = query_value(query, "position")?.parse::<u16>().ok()?;
    let module = query_value(query, "module").and_then(|m| m.parse::<u8>().ok());
    Some(Fields {
        module: module.map(|m| m.to_string()).unwrap_or_default(),
        position: position.to_string(),
        ..Fields::default()
    })
}

fn gone(request: &Request<'_>) -> PageResult {
    let t = request.visit.texts;
    let who = Some(request.visit.who());
    Ok(message(t, who, StatusCode::NOT_FOUND, t.keys.error_gone))
}

fn cell(k: &'static KeysTexts, key: &Key, shown_label: Option<&str>) -> Cell {
    Cell {
        kind: k.type_name(key.kind),
        value: key.value.clone().unwrap_or_default(),
        label: shown_label
            .map(str::to_string)
            .or_else(|| key.label.as_ref().map(|l| l.to_string()))
            .unwrap_or_default(),
        line: key.line,
    }
}

fn origin_text(k: &'static KeysTexts, origin: &KeyOrigin) -> String {
    match origin {
        KeyOrigin::Default => k.origin_default.to_string(),
        KeyOrigin::Site => k.origin_site.to_string(),
        KeyOrigin::Profile(name) => format!("{} {name}", k.origin_profile),
        KeyOrigin::Model(model) => format!("{} {model}", k.origin_model),
        KeyOrigin::Device => k.origin_device.to_string(),
        KeyOrigin::User(extension) => format!("{} {extension}", k.origin_user),
    }
}

/// What the page shows of an owner: its heading, its layer, the capacity of its phones (with
/// the modules attached) and, for a device, what its phone gets.
struct Shown {
    heading: String,
    layer: KeyLayer,
    capacity: Option<(KeyCapacity, u8)>,
    effective: Option<effective::Resolved>,
}

async fn shown(request: &Request<'_>, owner: &KeyOwner) -> Result<Shown, OpError> {
    let (app, k) = (request.app, request.visit.texts.keys);
    let layer = key_ops::layer(app.store.reads(), owner).await?;
    let (heading, capacity, effective) = match owner {
        KeyOwner::Site => (k.of_site.to_string(), None, None),
        KeyOwner::Profile(name) => (format!("{} {name}", k.of_profile), None, None),
        KeyOwner::User(extension) => (format!("{} {extension}", k.of_user), None, None),
        KeyOwner::Model(row) => (
            format!("{} {} ({})", k.of_model, row.model, row.vendor),
            Some((row.keys, row.keys.modules)),
            None,
        ),
        KeyOwner::Device(mac) => {
            let device = crate::ops::devices::existing(app.store.reads(), *mac).await?;
            let capacity = crate::models::of_device(&device)
                .map(|row| (row.keys, device.expansion_modules.min(row.keys.modules)));
            let resolved =
                crate::keys::load::of_device(app.store.reads(), &device, app.clock.now()).await?;
            (format!("{} {mac}", k.of_device), capacity, Some(resolved))
        }
    };
    Ok(Shown {
        heading,
        layer,
        capacity,
        effective,
    })
}

async fn render(
    request: &Request<'_>,
    owner: &KeyOwner,
    status: StatusCode,
    notice: Option<&'static str>,
    error: Option<&'static str>,
    fields: Option<Fields>,
) -> PageResult {
    let visit = request.visit;
    let (t, k) = (visit.texts, visit.texts.keys);
    let shown = match shown(request, owner).await {
        Ok(shown) => shown,
        Err(OpError::NotFound(_)) => return gone(request),
        Err(e) => return Err(e),
    };
    let (rows, beyond) = grid(k, &shown);
    let mut fields = fields.unwrap_or_default();
    if fields.kind.is_empty() {
        prefill(&mut fields, &shown.layer);
    }
    let access = match owner {
        KeyOwner::Site => Access::Site,
        _ => Access::Change,
    };
    let page = LayerPage {
        t,
        k,
        css: assets::CSS_PATH.as_str(),
        who: Some(visit.who()),
        csrf: visit.csrf(),
        heading: shown.heading,
        intro: match owner {
            KeyOwner::User(_) => k.user_intro,
            _ => k.intro,
        },
        path: path_of(owner),
        back: page_of(owner),
        capacity: shown.capacity,
        modules: modules_text(k, owner, shown.capacity),
        rows,
        beyond,
        show_effective: shown.effective.is_some(),
        may_change: account_permits(&visit.account, access),
        notice,
        error,
        types: KeyType::ALL
            .iter()
            .map(|kind| TypeChoice {
                name: kind.as_str(),
                text: k.type_name(*kind),
                selected: kind.as_str() == fields.kind,
            })
            .collect(),
        fields,
    };
    Ok(html(status, page.render()))
}

fn modules_text(
    k: &'static KeysTexts,
    owner: &KeyOwner,
    capacity: Option<(KeyCapacity, u8)>,
) -> Option<String> {
    let (capacity, attached) = capacity.filter(|(c, _)| c.modules > 0)?;
    let words = match owner {
        KeyOwner::Device(_) => k.modules_attached,
        _ => k.modules_taken,
    };
    Some(
        words
            .replace("{attached}", &attached.to_string())
            .replace("{max}", &capacity.modules.to_string())
            .replace("{per}", &capacity.keys_per_module.to_string()),
    )
}

/// The form shows the layer's key at the position being edited.
fn prefill(fields: &mut Fields, layer: &KeyLayer) {
    let module = fields.module.parse::<u8>().ok();
    let Ok(position) = fields.position.parse::<u16>() else {
        fields.line = "1".to_string();
        return;
    };
    let at = KeyPosition { module, position };
    match layer.keys().iter().find(|key| key.at == at) {
        Some(key) => {
            fields.kind = key.kind.as_str().to_string();
            fields.value = key.value.clone().unwrap_or_default();
            fields.label = key
                .label
                .as_ref()
                .map(|l| l.to_string())
                .unwrap_or_default();
            fields.line = key.line.to_string();
        }
        None => fields.line = "1".to_string(),
    }
}

/// The rows: every position the phones have (when the capacity is known) or the layer's keys,
/// and the keys that do not fit.
fn grid(k: &'static KeysTexts, shown: &Shown) -> (Vec<Row>, Vec<Row>) {
    let own = |at: KeyPosition| shown.layer.keys().iter().find(|key| key.at == at);
    let effective_at = |at: KeyPosition| -> Option<&EffectiveKey> {
        shown
            .effective
            .as_ref()?
            .keys
            .iter()
            .find(|e| e.key.at == at)
    };
    let row = |at: KeyPosition| {
        let got = effective_at(at);
        Row {
            at: match at.module {
                Some(module) => format!("{module} · {}", at.position),
                None => at.position.to_string(),
            },
            module: at.module.map(|m| m.to_string()).unwrap_or_default(),
            position: at.position.to_string(),
            own: own(at).map(|key| cell(k, key, None)),
            effective: got.map(|e| cell(k, &e.key, e.shown_label.as_deref())),
            origin: got.map(|e| origin_text(k, &e.origin)).unwrap_or_default(),
        }
    };
    let layer_positions = || shown.layer.keys().iter().map(|key| key.at);
    let (positions, beyond): (Vec<KeyPosition>, Vec<KeyPosition>) = match shown.capacity {
        Some((capacity, attached)) => {
            // In position order: the phone's own keys, then each module's.
            let fits: BTreeSet<KeyPosition> = effective::positions(capacity, attached).collect();
            let beyond = layer_positions().filter(|at| !fits.contains(at)).collect();
            (fits.into_iter().collect(), beyond)
        }
        None => (layer_positions().collect(), Vec::new()),
    };
    let rows = |at: Vec<KeyPosition>| at.into_iter().map(row).collect();
    (rows(positions), rows(beyond))
}
