//! An operation's refusal in the page's language: the operations layer words refusals in
//! English for the API; the pages show their own text for the field a refusal names (the part
//! before `": "`) and its kind.

use super::AccountsTexts;
use crate::ops::OpError;

/// What the refusal is about, for the words of a conflict or an unknown record.
#[derive(Clone, Copy)]
pub enum About {
    NewAccount,
    Account,
    NewToken,
    Token,
}

/// The text for a refusal; `None` for a failure of storage or hashing, which is no refusal.
pub fn text(a: &'static AccountsTexts, about: About, error: &OpError) -> Option<&'static str> {
    let message = match error {
        OpError::Invalid(m) => m,
        OpError::Conflict(_) => {
            return Some(match about {
                About::NewAccount => a.error_name_taken,
                About::Account => a.error_last_owner,
                About::NewToken => a.error_token_name_taken,
                About::Token => a.error_last_owner_token,
            });
        }
        OpError::NotFound(_) => {
            return Some(match about {
                About::Token | About::NewToken => a.error_unknown_token,
                About::Account | About::NewAccount => a.error_unknown_account,
            });
        }
        OpError::Store(_) | OpError::Internal(_) => return None,
    };
    let field = message.split_once(": ").map_or("", |(field, _)| field);
    Some(match field {
        "username" => a.error_username,
        "role" => a.error_role,
        "reads_secrets" => a.error_reads_secrets,
        "name" => a.error_token_name,
        "expires_at" => a.error_expiry,
        _ => a.error_invalid,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::account_pages::texts::{DE, EN};

    #[test]
    fn refusals_are_worded_by_what_they_are_about() {
        let last = OpError::conflict("this would leave no enabled owner account");
        assert_eq!(text(&DE, About::Account, &last), Some(DE.error_last_owner));
        assert_eq!(
            text(&EN, About::Token, &last),
            Some(EN.error_last_owner_token)
        );
        let name = OpError::from(crate::domain::InvalidInput::new("username", "bad"));
        assert_eq!(text(&EN, About::NewAccount, &name), Some(EN.error_username));
        let gone = OpError::not_found("no account named anna");
        assert_eq!(
            text(&DE, About::Account, &gone),
            Some(DE.error_unknown_account)
        );
        assert_eq!(
            text(&DE, About::Token, &OpError::Internal("x".into())),
            None
        );
    }
}
