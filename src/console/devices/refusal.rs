//! An operation's refusal in the page's language. The operations layer words its refusals in
//! English for the API; the console shows its own text for the field a refusal names (the part
//! before `": "`) or the rule it states, and its kind, never the English message.

use super::DevicesTexts;
use crate::console::PageResult;
use crate::console::reply::message;
use crate::console::visit::Visit;
use crate::ops::OpError;

/// The refusal as a page of its own. A failure of storage stays an error (500).
pub fn answer(visit: &Visit, error: OpError) -> PageResult {
    match text(visit.texts.device_area, &error) {
        Some(words) => Ok(message(
            visit.texts,
            Some(visit.who()),
            error.status(),
            words,
        )),
        None => Err(error),
    }
}

/// The text for a refusal; `None` for a failure of storage, which is no refusal.
pub fn text(d: &'static DevicesTexts, error: &OpError) -> Option<&'static str> {
    let (message, conflict) = match error {
        OpError::Invalid(m) => (m.as_str(), false),
        OpError::Conflict(m) => (m.as_str(), true),
        OpError::NotFound(m) if m.contains("unregistered") => {
            return Some(d.error_unknown_unregistered);
        }
        OpError::NotFound(m) if m.starts_with("line ") => return Some(d.error_line_free),
        OpError::NotFound(_) => return Some(d.error_unknown_device),
        OpError::Store(_) | OpError::Internal(_) => return None,
    };
    let field = message.split_once(": ").map_or("", |(field, _)| field);
    Some(match (field, conflict) {
        ("mac", _) => d.error_mac,
        ("model", _) => d.error_model,
        ("label", _) => d.error_label,
        ("location", _) => d.error_location,
        ("profile", _) => d.error_profile,
        ("line", _) => d.error_line,
        ("user", _) => d.error_user,
        ("hotdesk", _) => d.error_hotdesk,
        ("certificate_required", _) => d.error_certificate,
        ("expansion_modules", _) => d.error_expansion,
        ("keys", _) => d.error_keys,
        (_, true) if message.contains("already registered") => d.error_mac_taken,
        (_, true) if message.contains("hot-desk") => d.error_hotdesk_line,
        (_, true) if message.starts_with("nobody is logged in") => d.error_nobody_logged_in,
        (_, true) if message.contains("unassign it first, or replace it") => d.error_line_taken,
        (_, true) => d.error_conflict,
        (_, false) if message.contains("MAC") => d.error_mac,
        (_, false) => d.error_invalid,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::devices::texts::{DE, EN};

    #[test]
    fn refusals_name_their_field_or_rule_in_the_pages_language() {
        let taken = OpError::conflict("a device with MAC 001565aabbcc is already registered");
        assert_eq!(text(&DE, &taken), Some(DE.error_mac_taken));
        let model = OpError::invalid("model: unknown model X1; GET /api/v1/models lists them");
        assert_eq!(text(&EN, &model), Some(EN.error_model));
        let gone = OpError::not_found("no device with MAC 001565aabbcc");
        assert_eq!(text(&DE, &gone), Some(DE.error_unknown_device));
        let nobody = OpError::conflict("nobody is logged in at 001565aabbcc");
        assert_eq!(text(&EN, &nobody), Some(EN.error_nobody_logged_in));
        let line = OpError::conflict(
            "line 2 of 001565aabbcc has user 1001; unassign it first, or replace it (\"replace\": true, --replace)",
        );
        assert_eq!(text(&DE, &line), Some(DE.error_line_taken));
        assert_eq!(text(&DE, &OpError::Internal("x".into())), None);
    }
}
