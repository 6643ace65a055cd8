//! /api/v1/status: the server's version and what needs an operator's attention.

use http::StatusCode;

use super::schemas::{CertificateView, StatusView};
use crate::app::App;
use crate::clock::rfc3339;
use crate::local_ca::{CertificateFacts, RENEW_BEFORE_DAYS};
use crate::respond::{self, HttpResponse};

pub fn show(app: &App) -> HttpResponse {
    let now = app.clock.now();
    let facts = app.certificates.facts();
    let status = StatusView {
        version: env!("CARGO_PKG_VERSION"),
        warnings: facts.iter().filter_map(|f| warning(f, now)).collect(),
        certificates: facts.iter().map(|f| view(f, now)).collect(),
    };
    respond::json(StatusCode::OK, &status)
}

/// A supplied certificate within 30 days of its end; a managed one is renewed before then.
fn warning(facts: &CertificateFacts, now: i64) -> Option<String> {
    if facts.origin.is_managed() || !facts.is_due(now) {
        return None;
    }
    let file = facts.path.display();
    Some(match facts.days_left(now) {
        days if days < 0 => format!("{file} expired on {}", rfc3339(facts.not_after)),
        days => format!(
            "{file} expires in {days} days ({}); replace it: deskprov renews only certificates its local CA issued",
            rfc3339(facts.not_after)
        ),
    })
}

fn view(facts: &CertificateFacts, now: i64) -> CertificateView {
    CertificateView {
        file: facts.path.display().to_string(),
        origin: facts.origin.as_str(),
        subject: facts.subject.clone(),
        not_after: rfc3339(facts.not_after),
        days_left: facts.days_left(now),
        renews_at: facts
            .origin
            .is_managed()
            .then(|| rfc3339(facts.not_after - RENEW_BEFORE_DAYS * 24 * 3600)),
    }
}
