//! An operation's refusal in the page's language. The operations layer words its refusals in
//! English for the API; the console shows its own text for the field a refusal names (the part
//! before `": "`) and its kind, never the English message.

use super::UsersTexts;
use crate::console::PageResult;
use crate::console::reply::message;
use crate::console::visit::Visit;
use crate::ops::OpError;

/// The refusal as a page of its own; `conflict`, when given, words a conflict the action's
/// way. A failure of storage or hashing stays an error (500).
pub fn answer(visit: &Visit, error: OpError, conflict: Option<&'static str>) -> PageResult {
    let status = error.status();
    let shown = match (&error, conflict) {
        (OpError::Conflict(_), Some(words)) => Some(words),
        _ => text(visit.texts.users, &error),
    };
    match shown {
        Some(words) => Ok(message(visit.texts, Some(visit.who()), status, words)),
        None => Err(error),
    }
}

/// A mail action's refusal: no `[mail]`, a locked user, a user without an address, or what
/// [`answer`] says of any other.
pub fn mail_answer(visit: &Visit, error: OpError) -> PageResult {
    let u = visit.texts.users;
    let words = match &error {
        OpError::Conflict(m) if m == crate::mail::NOT_CONFIGURED => u.error_mail_not_configured,
        OpError::Conflict(_) => u.error_mail_locked,
        OpError::Invalid(m) if m.starts_with(crate::ops::portal_mail::NO_ADDRESS) => {
            u.error_no_email
        }
        _ => return answer(visit, error, None),
    };
    let status = error.status();
    Ok(message(visit.texts, Some(visit.who()), status, words))
}

/// The text for a refusal; `None` for a failure of storage or hashing, which is no refusal.
pub fn text(u: &'static UsersTexts, error: &OpError) -> Option<&'static str> {
    let (message, conflict) = match error {
        OpError::Invalid(m) => (m, false),
        OpError::Conflict(m) => (m, true),
        OpError::NotFound(_) => return Some(u.error_unknown_user),
        OpError::Store(_) | OpError::Internal(_) => return None,
    };
    let field = message.split_once(": ").map_or("", |(field, _)| field);
    Some(match (field, conflict) {
        ("extension", true) => u.error_extension_taken,
        ("extension" | "extensions", false) => u.error_extension,
        ("display_name", _) => u.error_display_name,
        ("first_name" | "last_name", _) => u.error_name,
        ("email", _) => u.error_email,
        ("language", _) => u.error_language,
        ("pin", _) => u.error_pin,
        ("mac", true) => u.error_mac_taken,
        ("mac", false) => u.error_mac,
        ("model", _) => u.error_model,
        (_, true) => u.error_conflict,
        (_, false) => u.error_invalid,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::users::texts::{DE, EN};

    #[test]
    fn refusals_name_their_field_in_the_pages_language() {
        let taken = OpError::conflict("mac: a device with MAC 001565aabbcc is already registered");
        assert_eq!(text(&DE, &taken), Some(DE.error_mac_taken));
        let weak = OpError::from(crate::domain::InvalidInput::new("pin", "at least 6 digits"));
        assert_eq!(text(&EN, &weak), Some(EN.error_pin));
        let gone = OpError::not_found("no user with extension 1001");
        assert_eq!(text(&DE, &gone), Some(DE.error_unknown_user));
        let other = OpError::conflict("1001 not logged in at any hot-desk phone");
        assert_eq!(text(&DE, &other), Some(DE.error_conflict));
        assert_eq!(text(&DE, &OpError::Internal("x".into())), None);
    }
}
