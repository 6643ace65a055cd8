//! The holder's own second factor: the page that shows it, enrolment (a pending secret shown as
//! QR code and text, confirmed with the password and a code) and removal.

use askama::Template;
use base64::Engine;
use http::StatusCode;

use super::views::{EnrolPage, StatusPage};
use crate::console::reply::html;
use crate::console::visit::Visit;
use crate::console::{PageResult, Request, assets};
use crate::domain::Secret;
use crate::model::AccountRecord;
use crate::ops::totp::{self, TotpRefusal};
use crate::respond::HttpResponse;

/// The factor's state; while a set-up is pending, its QR code and confirmation form again.
pub async fn status(request: &Request<'_>) -> PageResult {
    let (visit, account) = (request.visit, &request.visit.account);
    Ok(match (&account.totp_secret, &account.totp_pending) {
        (None, Some(pending)) => enrol_page(visit, pending, StatusCode::OK, None),
        _ => status_page(visit, account, StatusCode::OK, None, None),
    })
}

fn status_page(
    visit: &Visit,
    account: &AccountRecord,
    status: StatusCode,
    notice: Option<&str>,
    message: Option<&str>,
) -> HttpResponse {
    let page = StatusPage {
        t: visit.texts,
        css: assets::CSS_PATH.as_str(),
        who: Some(visit.who()),
        csrf: visit.csrf(),
        enrolled: account.totp_secret.is_some(),
        required: account.totp_required,
        must_enrol: account.must_enrol_totp(),
        notice,
        message,
    };
    html(status, page.render())
}

pub async fn enrol(request: &Request<'_>) -> PageResult {
    let visit = request.visit;
    let username = &visit.account.username;
    Ok(
        match totp::start_enrolment(request.app, &visit.actor, username).await? {
            Ok(secret) => enrol_page(visit, &secret, StatusCode::OK, None),
            Err(refusal) => refused(visit, refusal),
        },
    )
}

/// The QR code of the secret's `otpauth://` URI, as a `data:` URI of an SVG image (the CSP
/// allows `img-src data:`; no script, no inline style).
fn qr_data_uri(uri: &str) -> Option<String> {
    let code = qrcode::QrCode::new(uri.as_bytes()).ok()?;
    let svg = code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(240, 240)
        .quiet_zone(true)
        .build();
    let encoded = base64::engine::general_purpose::STANDARD.encode(svg);
    Some(format!("data:image/svg+xml;base64,{encoded}"))
}

/// The secret in groups of four, easier to type.
fn grouped(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join(" ")
}

fn enrol_page(
    visit: &Visit,
    secret: &Secret,
    status: StatusCode,
    message: Option<&str>,
) -> HttpResponse {
    let qr = totp::otpauth_uri(secret, &visit.account.username)
        .and_then(|uri| qr_data_uri(&uri))
        .unwrap_or_default();
    let page = EnrolPage {
        t: visit.texts,
        css: assets::CSS_PATH.as_str(),
        who: Some(visit.who()),
        csrf: visit.csrf(),
        qr: &qr,
        secret: &grouped(secret.expose()),
        message,
    };
    html(status, page.render())
}

pub async fn confirm(request: &Request<'_>, form: &crate::console::form::Form) -> PageResult {
    let (app, visit) = (request.app, request.visit);
    let (password, code) = (form.get("password"), form.get("code"));
    let outcome =
        totp::confirm_enrolment(app, &visit.actor, &visit.session, password, code).await?;
    Ok(match outcome {
        Ok(()) => {
            let account = current(request).await?;
            let notice = Some(visit.texts.totp.enrolled);
            status_page(visit, &account, StatusCode::OK, notice, None)
        }
        Err(refusal @ (TotpRefusal::WrongPassword | TotpRefusal::WrongCode)) => {
            let account = current(request).await?;
            match &account.totp_pending {
                Some(pending) => {
                    let words = Some(words(visit, refusal));
                    enrol_page(visit, pending, StatusCode::BAD_REQUEST, words)
                }
                None => refused(visit, TotpRefusal::NothingPending),
            }
        }
        Err(refusal) => refused(visit, refusal),
    })
}

pub async fn remove(request: &Request<'_>, form: &crate::console::form::Form) -> PageResult {
    let (app, visit) = (request.app, request.visit);
    let (password, code) = (form.get("password"), form.get("code"));
    let outcome = totp::remove_own(app, &visit.actor, &visit.session, password, code).await?;
    let account = current(request).await?;
    Ok(match outcome {
        Ok(()) => {
            let notice = Some(visit.texts.totp.removed);
            status_page(visit, &account, StatusCode::OK, notice, None)
        }
        Err(refusal) => {
            let status = status_of(refusal);
            status_page(visit, &account, status, None, Some(words(visit, refusal)))
        }
    })
}

/// The account as it is after the change.
async fn current(request: &Request<'_>) -> Result<AccountRecord, crate::ops::OpError> {
    let username = &request.visit.account.username;
    Ok(request
        .app
        .store
        .account(username)
        .await?
        .unwrap_or_else(|| request.visit.account.clone()))
}

fn refused(visit: &Visit, refusal: TotpRefusal) -> HttpResponse {
    status_page(
        visit,
        &visit.account,
        status_of(refusal),
        None,
        Some(words(visit, refusal)),
    )
}

fn status_of(refusal: TotpRefusal) -> StatusCode {
    match refusal {
        TotpRefusal::WrongPassword | TotpRefusal::WrongCode => StatusCode::BAD_REQUEST,
        _ => StatusCode::CONFLICT,
    }
}

fn words(visit: &Visit, refusal: TotpRefusal) -> &'static str {
    let t = visit.texts.totp;
    match refusal {
        TotpRefusal::WrongPassword => t.wrong_password,
        TotpRefusal::WrongCode => t.wrong_code,
        TotpRefusal::NothingPending => t.nothing_pending,
        TotpRefusal::AlreadyEnrolled => t.already_enrolled,
        TotpRefusal::NotEnrolled => t.not_enrolled,
        TotpRefusal::Required => t.required_refusal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_qr_code_is_an_svg_image_and_the_secret_reads_in_groups() {
        let uri = qr_data_uri("otpauth://totp/deskprov:anna?secret=JBSWY3DPEHPK3PXP").unwrap();
        let svg = uri.strip_prefix("data:image/svg+xml;base64,").unwrap();
        let svg = base64::engine::general_purpose::STANDARD
            .decode(svg)
            .unwrap();
        let svg = String::from_utf8(svg).unwrap();
        assert!(svg.contains("<svg") && !svg.contains("style="), "{svg}");
        assert_eq!(grouped("JBSWY3DPEHPK3PXP"), "JBSW Y3DP EHPK 3PXP");
    }
}
