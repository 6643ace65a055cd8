//! One user: the detail page with lines, phones, hot-desk login, failed logins and lockout;
//! the SIP password (a secret page); the actions of the page (lock, unlock, reset PIN, log out),
//! and the page that shows new PINs once.

use askama::Template;
use http::StatusCode;

use super::list::{done_text, flag};
use super::views::{
    DetailPage, LoginRow, MailRow, PhoneRow, PinRow, PinsPage, SipPasswordPage, UserDetail,
};
use super::{UsersTexts, refusal};
use crate::admin::endpoint::Access;
use crate::clock::rfc3339;
use crate::console::reply::{html, see_other};
use crate::console::{PageResult, Request, account_permits, assets};
use crate::domain::{Extension, Pin};
use crate::model::{LinkPurpose, MailRecord, MailState, UserRecord};
use crate::ops::users::{self, PinChoice, UserChange};
use crate::ops::{OpError, guard, mail, portal_mail, user_list};

/// The extension of the page's path.
pub fn extension_of(request: &Request<'_>) -> Result<Extension, OpError> {
    let raw = request.params.first().map_or("", String::as_str);
    Extension::parse(raw).map_err(|_| OpError::not_found(format!("no user with extension {raw}")))
}

/// The user the page's path names, or the refusal to answer with.
async fn user_of(request: &Request<'_>) -> Result<UserRecord, OpError> {
    let extension = extension_of(request)?;
    users::existing(request.app.store.reads(), &extension).await
}

fn detail(
    u: &'static UsersTexts,
    user: &UserRecord,
    guard: &crate::model::GuardRecord,
    now: i64,
) -> UserDetail {
    let text = |v: Option<&str>| v.unwrap_or("").to_string();
    let lockout = guard.locked_until > now;
    UserDetail {
        extension: user.extension.to_string(),
        display_name: user.display_name.to_string(),
        first_name: text(user.first_name.as_ref().map(|n| n.as_str())),
        last_name: text(user.last_name.as_ref().map(|n| n.as_str())),
        email: text(user.email.as_ref().map(|e| e.as_str())),
        language: user
            .language
            .as_deref()
            .and_then(crate::locale::language)
            .map_or_else(|| u.no_language.to_string(), |l| l.native.to_string()),
        has_pin: flag(u, user.pin_hash.is_some()),
        pin_change_required: flag(u, user.pin_change_required),
        may_hotdesk: flag(u, user.may_hotdesk),
        phonebook_hidden: flag(u, user.phonebook_hidden),
        locked: user.locked,
        state: match (user.locked, lockout) {
            (true, _) => u.state_locked,
            (false, true) => u.state_lockout,
            (false, false) => u.state_active,
        },
        created_at: rfc3339(user.created_at),
        failures: guard.failures,
        lockouts: guard.lockouts,
        locked_until: lockout.then(|| rfc3339(guard.locked_until)),
    }
}

fn phone_rows(phones: &[crate::model::DeviceRecord], extension: &Extension) -> Vec<PhoneRow> {
    let mut rows = Vec::new();
    for device in phones {
        for (line, _) in device.lines.iter().filter(|(_, e)| *e == extension) {
            rows.push(PhoneRow {
                line: *line,
                mac: device.mac.to_string(),
                model: device
                    .model
                    .as_ref()
                    .map(|m| m.to_string())
                    .unwrap_or_default(),
                label: device
                    .label
                    .as_ref()
                    .map(|l| l.to_string())
                    .unwrap_or_default(),
            });
        }
    }
    rows
}

pub async fn show(request: &Request<'_>) -> PageResult {
    let (app, visit) = (request.app, request.visit);
    let u = visit.texts.users;
    let user = match user_of(request).await {
        Ok(user) => user,
        Err(e) => return refusal::answer(visit, e, None),
    };
    let guard = guard::extension_state(app, user.extension.as_str()).await?;
    let phones = user_list::phones_of(app, &user.extension).await?;
    let login = user_list::login_of(app, &user).await?.map(|l| LoginRow {
        mac: l.mac.to_string(),
        line: l.slot,
        since: rfc3339(l.since),
    });
    let done = crate::console::form::query_value(request.query, "done");
    let page = DetailPage {
        t: visit.texts,
        css: assets::CSS_PATH.as_str(),
        who: Some(visit.who()),
        csrf: visit.csrf(),
        user: detail(u, &user, &guard, app.clock.now()),
        phones: phone_rows(&phones, &user.extension),
        login,
        notice: done_text(u, done),
        may_change: account_permits(&visit.account, Access::Change),
        may_helpdesk: account_permits(&visit.account, Access::Helpdesk),
        may_read_secrets: account_permits(&visit.account, Access::Secrets),
        mails: mail_rows(request, &user.extension).await?,
        has_email: user.email.is_some(),
    };
    Ok(html(StatusCode::OK, page.render()))
}

/// Mails shown on a user's page at most.
const MAILS_SHOWN: usize = 20;

/// The user's latest mails with their states; `None` without `[mail]`.
async fn mail_rows(
    request: &Request<'_>,
    extension: &Extension,
) -> Result<Option<Vec<MailRow>>, OpError> {
    if request.app.config.mail.is_none() {
        return Ok(None);
    }
    let u = request.visit.texts.users;
    let (mails, _) = mail::list(request.app, Some(extension), None, MAILS_SHOWN).await?;
    let row = |m: &MailRecord| MailRow {
        kind: u.mail_kind(&m.kind),
        state: u.mail_state(m.state),
        failed: m.state == MailState::Failed,
        queued_at: rfc3339(m.created_at),
        attempts: m.attempts,
        answer: m.last_answer.clone().unwrap_or_default(),
    };
    Ok(Some(mails.iter().map(row).collect()))
}

/// Queues a welcome or reset mail for the user of the page.
pub async fn mail(request: &Request<'_>, purpose: LinkPurpose) -> PageResult {
    let visit = request.visit;
    let extension = match extension_of(request) {
        Ok(extension) => extension,
        Err(e) => return refusal::answer(visit, e, None),
    };
    let extensions = std::collections::BTreeSet::from([extension.clone()]);
    match portal_mail::send(request.app, &visit.actor, purpose, &extensions).await {
        Ok(_) => Ok(see_other(&format!("/users/{extension}?done=mailed"))),
        Err(e) => refusal::mail_answer(visit, e),
    }
}

pub async fn sip_password(request: &Request<'_>) -> PageResult {
    let visit = request.visit;
    let user = match user_of(request).await {
        Ok(user) => user,
        Err(e) => return refusal::answer(visit, e, None),
    };
    let what = format!(
        "page: user's SIP password /users/{}/sip-password",
        user.extension
    );
    crate::ops::audit::secret_read(request.app, &visit.actor, &what, &user.extension).await;
    let page = SipPasswordPage {
        t: visit.texts,
        css: assets::CSS_PATH.as_str(),
        who: Some(visit.who()),
        extension: user.extension.to_string(),
        display_name: user.display_name.to_string(),
        password: user.sip_password.expose(),
    };
    Ok(html(StatusCode::OK, page.render()))
}

/// Answers an action on one user: to the user's page with `done`, or the refusal.
fn after_action(
    request: &Request<'_>,
    result: Result<(), OpError>,
    done: &str,
    conflict: Option<&'static str>,
) -> PageResult {
    match (result, extension_of(request)) {
        (Ok(()), Ok(extension)) => Ok(see_other(&format!("/users/{extension}?done={done}"))),
        (Err(e), _) | (_, Err(e)) => refusal::answer(request.visit, e, conflict),
    }
}

pub async fn lock(request: &Request<'_>, locked: bool) -> PageResult {
    let result = match extension_of(request) {
        Ok(extension) => users::set_lock(request.app, &request.visit.actor, &extension, locked)
            .await
            .map(|_| ()),
        Err(e) => Err(e),
    };
    let done = if locked { "locked" } else { "unlocked" };
    after_action(request, result, done, None)
}

pub async fn log_out(request: &Request<'_>) -> PageResult {
    let result = match extension_of(request) {
        Ok(extension) => users::logout(request.app, &request.visit.actor, &extension)
            .await
            .map(|_| ()),
        Err(e) => Err(e),
    };
    let not_logged_in = Some(request.visit.texts.users.error_not_logged_in);
    after_action(request, result, "logged_out", not_logged_in)
}

pub async fn reset_pin(request: &Request<'_>) -> PageResult {
    let visit = request.visit;
    let extension = match extension_of(request) {
        Ok(extension) => extension,
        Err(e) => return refusal::answer(visit, e, None),
    };
    let change = UserChange {
        pin: PinChoice::Generate,
        ..UserChange::default()
    };
    match users::change(request.app, &visit.actor, &extension, change).await {
        Ok(changed) => {
            let pin = changed.generated_pin.expect("a generated PIN");
            let back = Some(format!("/users/{extension}"));
            pins_page(
                request,
                vec![(extension, pin)],
                visit.texts.users.pins_heading,
                back,
            )
            .await
        }
        Err(e) => refusal::answer(visit, e, None),
    }
}

/// New PINs, shown this once (the answer is `no-store`, and no PIN is in any URL), printable.
pub async fn pins_page(
    request: &Request<'_>,
    pins: Vec<(Extension, Pin)>,
    heading: &str,
    back: Option<String>,
) -> PageResult {
    let visit = request.visit;
    let u = visit.texts.users;
    let mut rows = Vec::with_capacity(pins.len());
    for (extension, pin) in pins {
        let name = request.app.store.user(&extension).await?;
        rows.push(PinRow {
            display_name: name.map(|n| n.display_name.to_string()).unwrap_or_default(),
            extension: extension.to_string(),
            pin: pin.expose().to_string(),
        });
    }
    let (back, back_text) = match back {
        Some(path) => (path, u.back_to_user),
        None => ("/users".to_string(), u.back_to_list),
    };
    let page = PinsPage {
        t: visit.texts,
        css: assets::CSS_PATH.as_str(),
        who: Some(visit.who()),
        heading,
        rows,
        back,
        back_text,
    };
    Ok(html(StatusCode::OK, page.render()))
}

/// A random portal password for the user, to be changed at their first portal login; shown
/// this once (the answer is `no-store`).
pub async fn portal_password(request: &Request<'_>) -> PageResult {
    use crate::ops::portal_password::{self, PasswordChoice};
    let visit = request.visit;
    let extension = match extension_of(request) {
        Ok(extension) => extension,
        Err(e) => return refusal::answer(visit, e, None),
    };
    let app = request.app;
    let choice = PasswordChoice::Generate;
    match portal_password::set(app, &visit.actor, &extension, choice, Some(true)).await {
        Ok(set) => {
            let u = visit.texts.users;
            let password = set.generated.expect("a generated password");
            let text = format!("{} {}", u.portal_password_shown_once, password.expose());
            let back = format!("/users/{extension}");
            let page = crate::console::pages::MessagePage {
                t: visit.texts,
                css: assets::CSS_PATH.as_str(),
                who: Some(visit.who()),
                heading: u.portal_password_heading,
                text: &text,
                link: &back,
                link_text: u.back_to_user,
            };
            Ok(html(StatusCode::OK, page.render()))
        }
        Err(e) => refusal::answer(visit, e, None),
    }
}
