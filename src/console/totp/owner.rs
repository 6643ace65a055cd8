//! The owner's actions on another account's second factor: require it (or stop requiring it),
//! and reset it when its authenticator is lost. Each answers with a message page.

use http::StatusCode;

use crate::console::form::Form;
use crate::console::pages::MessagePage;
use crate::console::reply::{bad_request, html, message};
use crate::console::{PageResult, Request, assets};
use crate::domain::Username;
use crate::ops::{OpError, totp};

fn username_of(request: &Request<'_>) -> Option<Username> {
    Username::parse(request.params.first().map_or("", String::as_str)).ok()
}

pub async fn require(request: &Request<'_>, form: &Form) -> PageResult {
    let (app, visit) = (request.app, request.visit);
    let required = match form.get("required") {
        "true" => true,
        "false" => false,
        _ => return Ok(bad_request(visit.texts, Some(visit.who()))),
    };
    let Some(username) = username_of(request) else {
        return Ok(unknown(request));
    };
    let t = visit.texts.totp;
    let words = match required {
        true => t.required_on,
        false => t.required_off,
    };
    match totp::set_required(app, &visit.actor, &username, required).await {
        Ok(_) => Ok(done(request, words, &username)),
        Err(OpError::NotFound(_)) => Ok(unknown(request)),
        Err(e) => Err(e),
    }
}

pub async fn reset(request: &Request<'_>) -> PageResult {
    let (app, visit) = (request.app, request.visit);
    let Some(username) = username_of(request) else {
        return Ok(unknown(request));
    };
    match totp::reset(app, &visit.actor, &username).await {
        Ok(_) => Ok(done(request, visit.texts.totp.reset_done, &username)),
        Err(OpError::NotFound(_)) => Ok(unknown(request)),
        Err(OpError::Conflict(_)) => {
            let t = visit.texts;
            let who = Some(visit.who());
            Ok(message(t, who, StatusCode::CONFLICT, t.totp.no_factor))
        }
        Err(e) => Err(e),
    }
}

fn unknown(request: &Request<'_>) -> crate::respond::HttpResponse {
    let t = request.visit.texts;
    let who = Some(request.visit.who());
    message(t, who, StatusCode::NOT_FOUND, t.totp.unknown_account)
}

fn done(request: &Request<'_>, words: &str, username: &Username) -> crate::respond::HttpResponse {
    let t = request.visit.texts;
    let text = format!("{words} {username}.");
    let page = MessagePage {
        t,
        css: assets::CSS_PATH.as_str(),
        who: Some(request.visit.who()),
        heading: t.totp.done_heading,
        text: &text,
        link: "/",
        link_text: t.back_to_dashboard,
    };
    html(StatusCode::OK, askama::Template::render(&page))
}
