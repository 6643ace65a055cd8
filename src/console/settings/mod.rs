//! The settings pages: site settings, settings profiles, model settings and a device's
//! effective settings, each table showing what its level sets and what applies without it.
//! Site settings need the owner (`Access::Site`), profiles and models an admin (`Change`).

mod rows;
pub mod texts;

use askama::Template;
use http::{Method, StatusCode};
use serde_json::{Map, Value};

pub use texts::SettingsTexts;

use super::form::Form;
use super::pages::{Page, PageDef, Who};
use super::reply::{html, see_other};
use super::{PageResult, Request, account_permits, assets};
use crate::admin::endpoint::Access;
use crate::domain::{Label, Mac, ProfileName};
use crate::models::ModelRow;
use crate::ops::{OpError, profiles};
use crate::settings::{Effective, Layer, Settings, SettingsPatch};
use rows::{Level, Refused, Row};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettingsPage {
    Site,
    SaveSite,
    Profiles,
    CreateProfile,
    Profile,
    SaveProfile,
    DeleteProfile,
    Models,
    Model,
    SaveModel,
    Device,
    SaveDevice,
}

macro_rules! page {
    ($page:ident, $method:ident, $path:literal, $name:literal, $access:ident) => {
        PageDef {
            page: Page::Settings(SettingsPage::$page),
            method: Method::$method,
            path: $path,
            name: $name,
            access: Access::$access,
        }
    };
}

pub static PAGES: &[PageDef] = &[
    page!(Site, GET, "/settings", "page: site settings", Read),
    page!(
        SaveSite,
        POST,
        "/settings",
        "page: change site settings",
        Site
    ),
    page!(Profiles, GET, "/profiles", "page: profiles", Read),
    page!(
        CreateProfile,
        POST,
        "/profiles",
        "page: create a profile",
        Change
    ),
    page!(Profile, GET, "/profiles/{name}", "page: profile", Read),
    page!(
        SaveProfile,
        POST,
        "/profiles/{name}",
        "page: change a profile",
        Change
    ),
    page!(
        DeleteProfile,
        POST,
        "/profiles/{name}/delete",
        "page: delete a profile",
        Change
    ),
    page!(Models, GET, "/models", "page: model settings", Read),
    page!(
        Model,
        GET,
        "/models/{model}",
        "page: a model's settings",
        Read
    ),
    page!(
        SaveModel,
        POST,
        "/models/{model}",
        "page: change a model's settings",
        Change
    ),
    page!(
        Device,
        GET,
        "/devices/{mac}/settings",
        "page: device settings",
        Read
    ),
    page!(
        SaveDevice,
        POST,
        "/devices/{mac}/settings",
        "page: change device settings",
        Change
    ),
];

/// What a settings table page shows besides its rows.
#[derive(Template)]
#[template(path = "settings/level.html")]
struct LevelPage<'a> {
    t: &'a super::texts::Texts,
    s: &'a SettingsTexts,
    css: &'a str,
    who: Option<Who>,
    csrf: &'a str,
    heading: String,
    intro: &'a str,
    /// Where the form posts; `None` when the role may not change this level.
    action: Option<String>,
    delete: Option<String>,
    empty_means: &'a str,
    /// The heading of the column of what applies without a value at this level.
    below: &'a str,
    show_from: bool,
    rows: Vec<Row>,
    saved: bool,
    refused: Vec<Refused>,
    failure: Option<String>,
    back: (&'a str, &'a str),
    /// The level's key page.
    keys: String,
}

pub async fn show(request: &Request<'_>, page: SettingsPage) -> PageResult {
    let saved = super::form::query_value(request.query, "saved") == Some("1");
    match page {
        SettingsPage::Site => site(request, saved, None).await,
        SettingsPage::Profiles => profile_list(request, StatusCode::OK, None).await,
        SettingsPage::Profile => match profile_name(request) {
            Some(name) => profile(request, &name, saved, None).await,
            None => not_found(request),
        },
        SettingsPage::Models => model_list(request).await,
        SettingsPage::Model => match model_row(request) {
            Some(row) => model(request, row, saved, None).await,
            None => not_found(request),
        },
        SettingsPage::Device => match device_mac(request) {
            Some(mac) => device(request, mac, saved, None).await,
            None => not_found(request),
        },
        _ => Ok(super::method_not_allowed("GET, HEAD")),
    }
}

pub async fn submit(request: &Request<'_>, page: SettingsPage, form: &Form) -> PageResult {
    match page {
        SettingsPage::SaveSite => save_site(request, form).await,
        SettingsPage::CreateProfile => create_profile(request, form).await,
        SettingsPage::SaveProfile => match profile_name(request) {
            Some(name) => save_profile(request, &name, form).await,
            None => not_found(request),
        },
        SettingsPage::DeleteProfile => match profile_name(request) {
            Some(name) => delete_profile(request, &name).await,
            None => not_found(request),
        },
        SettingsPage::SaveModel => match model_row(request) {
            Some(row) => save_model(request, row, form).await,
            None => not_found(request),
        },
        SettingsPage::SaveDevice => match device_mac(request) {
            Some(mac) => save_device(request, mac, form).await,
            None => not_found(request),
        },
        _ => Ok(super::method_not_allowed("POST")),
    }
}

fn profile_name(request: &Request<'_>) -> Option<ProfileName> {
    ProfileName::parse(request.params.first()?).ok()
}

fn model_row(request: &Request<'_>) -> Option<&'static ModelRow> {
    crate::models::find_any(request.params.first()?)
}

fn device_mac(request: &Request<'_>) -> Option<Mac> {
    Mac::parse(request.params.first()?).ok()
}

fn not_found(request: &Request<'_>) -> PageResult {
    let t = request.visit.texts;
    Ok(super::reply::message(
        t,
        Some(request.visit.who()),
        StatusCode::NOT_FOUND,
        t.not_found,
    ))
}

/// The record an operation found; `None` when there is none, so the page answers 404.
fn found<T>(result: Result<T, OpError>) -> Result<Option<T>, OpError> {
    match result {
        Ok(found) => Ok(Some(found)),
        Err(OpError::NotFound(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Why a submitted table changed nothing: the refused values, or the operation's refusal.
enum Failure {
    Values(Vec<Refused>),
    Refused(String),
}

impl Failure {
    fn of(error: OpError) -> Result<Failure, OpError> {
        match error {
            OpError::Invalid(why) | OpError::Conflict(why) => Ok(Failure::Refused(why)),
            other => Err(other),
        }
    }
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

fn settings_map(settings: &Settings) -> Map<String, Value> {
    object(serde_json::to_value(settings).unwrap_or_default())
}

fn layer_map(layer: &Layer) -> Map<String, Value> {
    layer
        .iter()
        .map(|(key, value)| (key.name().to_string(), value.clone()))
        .collect()
}

/// Renders a settings table; `failure` shows the submitted values again with what was wrong.
fn level_page(mut page: LevelPage<'_>, failure: Option<(Failure, &Form)>) -> PageResult {
    let status = match failure {
        Some((failure, form)) => {
            rows::keep_typed(&mut page.rows, form);
            match failure {
                Failure::Values(refused) => page.refused = refused,
                Failure::Refused(why) => page.failure = Some(why),
            }
            StatusCode::BAD_REQUEST
        }
        None => StatusCode::OK,
    };
    Ok(html(status, page.render()))
}

fn base<'a>(request: &'a Request<'_>, heading: String, intro: &'a str) -> LevelPage<'a> {
    let t = request.visit.texts;
    LevelPage {
        t,
        s: t.settings,
        css: assets::CSS_PATH.as_str(),
        who: Some(request.visit.who()),
        csrf: request.visit.csrf(),
        heading,
        intro,
        action: None,
        delete: None,
        empty_means: t.settings.empty_inherits,
        below: t.settings.inherited,
        show_from: true,
        rows: Vec::new(),
        saved: false,
        refused: Vec::new(),
        failure: None,
        back: ("/", t.back_to_dashboard),
        keys: "/settings/keys".to_string(),
    }
}

fn may(request: &Request<'_>, access: Access) -> bool {
    account_permits(&request.visit.account, access)
}

async fn site(request: &Request<'_>, saved: bool, failure: Option<(Failure, &Form)>) -> PageResult {
    let s = request.visit.texts.settings;
    let site = profiles::site_settings(request.app).await?;
    let (here, below) = (settings_map(&site), settings_map(&Settings::default()));
    let level = Level {
        here: &here,
        below: &below,
        below_from: None,
        site: true,
    };
    let mut page = base(request, s.site_title.to_string(), s.site_intro);
    page.rows = rows::rows(s, &level);
    page.empty_means = s.empty_resets;
    page.below = s.default_value;
    page.show_from = false;
    page.saved = saved;
    page.action = may(request, Access::Site).then(|| "/settings".to_string());
    level_page(page, failure)
}

async fn save_site(request: &Request<'_>, form: &Form) -> PageResult {
    let s = request.visit.texts.settings;
    let current = settings_map(&profiles::site_settings(request.app).await?);
    let patch = match rows::patch_of(s, form, &current, true) {
        Ok(patch) => patch,
        Err(refused) => return site(request, false, Some((Failure::Values(refused), form))).await,
    };
    if !patch.0.is_empty() {
        let by = &request.visit.actor;
        if let Err(e) = profiles::change_site_settings(request.app, by, &patch).await {
            return site(request, false, Some((Failure::of(e)?, form))).await;
        }
    }
    Ok(see_other("/settings?saved=1"))
}

/// What a level below the site inherits: the site's settings.
async fn site_below(request: &Request<'_>) -> Result<(Map<String, Value>, Effective), OpError> {
    let site = profiles::site_settings(request.app).await?;
    let effective = Effective::resolve(&site, &[]);
    Ok((settings_map(&site), effective))
}

async fn profile(
    request: &Request<'_>,
    name: &ProfileName,
    saved: bool,
    failure: Option<(Failure, &Form)>,
) -> PageResult {
    let s = request.visit.texts.settings;
    let Some((record, using)) = found(profiles::with_use(request.app, name).await)? else {
        return not_found(request);
    };
    let (below, effective) = site_below(request).await?;
    let here = layer_map(&record.settings);
    let level = Level {
        here: &here,
        below: &below,
        below_from: Some(&effective),
        site: false,
    };
    let description = record.description.as_ref().map(|d| d.to_string());
    let heading = match description {
        Some(d) => format!("{} {} ({d})", s.from_profile, record.name),
        None => format!("{} {}", s.from_profile, record.name),
    };
    let mut page = base(request, heading, s.profiles_intro);
    page.keys = format!("/profiles/{}/keys", record.name);
    page.rows = rows::rows(s, &level);
    page.saved = saved;
    page.back = ("/profiles", s.profiles_title);
    if may(request, Access::Change) {
        page.action = Some(format!("/profiles/{}", record.name));
        page.delete = (using == 0).then(|| format!("/profiles/{}/delete", record.name));
    }
    level_page(page, failure)
}

async fn save_profile(request: &Request<'_>, name: &ProfileName, form: &Form) -> PageResult {
    let s = request.visit.texts.settings;
    let Some((record, _)) = found(profiles::with_use(request.app, name).await)? else {
        return not_found(request);
    };
    let patch = match rows::patch_of(s, form, &layer_map(&record.settings), false) {
        Ok(patch) => patch,
        Err(refused) => {
            let failure = Some((Failure::Values(refused), form));
            return profile(request, name, false, failure).await;
        }
    };
    if !patch.0.is_empty() {
        let by = &request.visit.actor;
        if let Err(e) = profiles::change(request.app, by, name, None, &patch).await {
            return profile(request, name, false, Some((Failure::of(e)?, form))).await;
        }
    }
    Ok(see_other(&format!("/profiles/{name}?saved=1")))
}

async fn delete_profile(request: &Request<'_>, name: &ProfileName) -> PageResult {
    let s = request.visit.texts.settings;
    match profiles::delete(request.app, &request.visit.actor, name).await {
        Ok(()) => Ok(see_other("/profiles")),
        Err(OpError::NotFound(_)) => not_found(request),
        Err(OpError::Conflict(_)) => {
            profile_list(request, StatusCode::CONFLICT, Some(s.profile_in_use)).await
        }
        Err(e) => Err(e),
    }
}

struct ProfileRow {
    name: String,
    description: String,
    settings: usize,
    devices: usize,
}

#[derive(Template)]
#[template(path = "settings/profiles.html")]
struct ProfilesPage<'a> {
    t: &'a super::texts::Texts,
    s: &'a SettingsTexts,
    css: &'a str,
    who: Option<Who>,
    csrf: &'a str,
    profiles: Vec<ProfileRow>,
    may_create: bool,
    message: Option<&'a str>,
}

async fn profile_list(
    request: &Request<'_>,
    status: StatusCode,
    message: Option<&str>,
) -> PageResult {
    let t = request.visit.texts;
    let profiles = profiles::list_with_use(request.app)
        .await?
        .into_iter()
        .map(|(p, devices)| ProfileRow {
            name: p.name.to_string(),
            description: p.description.map(|d| d.to_string()).unwrap_or_default(),
            settings: p.settings.len(),
            devices,
        })
        .collect();
    let page = ProfilesPage {
        t,
        s: t.settings,
        css: assets::CSS_PATH.as_str(),
        who: Some(request.visit.who()),
        csrf: request.visit.csrf(),
        profiles,
        may_create: may(request, Access::Change),
        message,
    };
    Ok(html(status, page.render()))
}

async fn create_profile(request: &Request<'_>, form: &Form) -> PageResult {
    let s = request.visit.texts.settings;
    let refused = |text| profile_list(request, StatusCode::BAD_REQUEST, Some(text));
    let Ok(name) = ProfileName::parse(form.get("name").trim()) else {
        return refused(s.profile_name_rules).await;
    };
    let description = match form.get("description").trim() {
        "" => None,
        text => match Label::parse(text) {
            Ok(label) => Some(label),
            Err(_) => return refused(request.visit.texts.bad_request).await,
        },
    };
    let by = &request.visit.actor;
    let created = profiles::create(
        request.app,
        by,
        name,
        description,
        &SettingsPatch::default(),
    )
    .await;
    match created {
        Ok(record) => Ok(see_other(&format!("/profiles/{}", record.name))),
        Err(OpError::Conflict(_)) => {
            profile_list(request, StatusCode::CONFLICT, Some(s.profile_exists)).await
        }
        Err(OpError::Invalid(_)) => refused(request.visit.texts.bad_request).await,
        Err(e) => Err(e),
    }
}

struct ModelListRow {
    vendor: &'static str,
    model: &'static str,
    settings: usize,
}

#[derive(Template)]
#[template(path = "settings/models.html")]
struct ModelsPage<'a> {
    t: &'a super::texts::Texts,
    s: &'a SettingsTexts,
    css: &'a str,
    who: Option<Who>,
    models: Vec<ModelListRow>,
}

async fn model_list(request: &Request<'_>) -> PageResult {
    let t = request.visit.texts;
    let layers = profiles::model_layers(request.app).await?;
    let count = |model: &str| {
        layers
            .iter()
            .find(|(name, _)| name == model)
            .map_or(0, |(_, layer)| layer.len())
    };
    let models = crate::models::all()
        .map(|row| ModelListRow {
            vendor: row.vendor,
            model: row.model,
            settings: count(row.model),
        })
        .collect();
    let page = ModelsPage {
        t,
        s: t.settings,
        css: assets::CSS_PATH.as_str(),
        who: Some(request.visit.who()),
        models,
    };
    Ok(html(StatusCode::OK, page.render()))
}

async fn model(
    request: &Request<'_>,
    row: &'static ModelRow,
    saved: bool,
    failure: Option<(Failure, &Form)>,
) -> PageResult {
    let s = request.visit.texts.settings;
    let (below, effective) = site_below(request).await?;
    let here = layer_map(&profiles::model_layer(request.app, row).await?);
    let level = Level {
        here: &here,
        below: &below,
        below_from: Some(&effective),
        site: false,
    };
    let heading = format!("{} {} ({})", s.from_model, row.model, row.vendor);
    let mut page = base(request, heading, s.models_intro);
    page.keys = format!("/models/{}/keys", row.model);
    page.rows = rows::rows(s, &level);
    page.saved = saved;
    page.back = ("/models", s.models_title);
    page.action = may(request, Access::Change).then(|| format!("/models/{}", row.model));
    level_page(page, failure)
}

async fn save_model(request: &Request<'_>, row: &'static ModelRow, form: &Form) -> PageResult {
    let s = request.visit.texts.settings;
    let here = layer_map(&profiles::model_layer(request.app, row).await?);
    let patch = match rows::patch_of(s, form, &here, false) {
        Ok(patch) => patch,
        Err(refused) => {
            return model(request, row, false, Some((Failure::Values(refused), form))).await;
        }
    };
    if !patch.0.is_empty() {
        let by = &request.visit.actor;
        if let Err(e) = profiles::change_model_settings(request.app, by, row, &patch).await {
            return model(request, row, false, Some((Failure::of(e)?, form))).await;
        }
    }
    Ok(see_other(&format!("/models/{}?saved=1", row.model)))
}

async fn device(
    request: &Request<'_>,
    mac: Mac,
    saved: bool,
    failure: Option<(Failure, &Form)>,
) -> PageResult {
    let s = request.visit.texts.settings;
    let Some((record, effective)) = found(profiles::device_settings(request.app, mac).await)?
    else {
        return not_found(request);
    };
    let here = layer_map(&record.settings);
    let below = settings_map(&effective.settings);
    let level = Level {
        here: &here,
        below: &below,
        below_from: Some(&effective),
        site: false,
    };
    let heading = format!("{} {mac}", s.device_title);
    let mut page = base(request, heading, s.device_intro);
    page.keys = format!("/devices/{mac}/keys");
    page.below = s.effective;
    page.rows = rows::rows(s, &level);
    page.saved = saved;
    page.action = may(request, Access::Change).then(|| format!("/devices/{mac}/settings"));
    level_page(page, failure)
}

async fn save_device(request: &Request<'_>, mac: Mac, form: &Form) -> PageResult {
    let s = request.visit.texts.settings;
    let Some((record, _)) = found(profiles::device_settings(request.app, mac).await)? else {
        return not_found(request);
    };
    let patch = match rows::patch_of(s, form, &layer_map(&record.settings), false) {
        Ok(patch) => patch,
        Err(refused) => {
            return device(request, mac, false, Some((Failure::Values(refused), form))).await;
        }
    };
    if !patch.0.is_empty() {
        let by = &request.visit.actor;
        let changed = crate::ops::devices::change_settings(request.app, by, mac, &patch).await;
        if let Err(e) = changed {
            return device(request, mac, false, Some((Failure::of(e)?, form))).await;
        }
    }
    Ok(see_other(&format!("/devices/{mac}/settings?saved=1")))
}
