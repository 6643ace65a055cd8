//! A user: the SIP account on the phones and the hot-desk PIN.

use serde::{Deserialize, Serialize};

use super::SessionRef;
use crate::domain::{DisplayName, Email, Extension, PersonName, Secret, SipUser};
use crate::keys::KeyLayer;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserRecord {
    pub extension: Extension,
    pub display_name: DisplayName,
    pub sip_user: SipUser,
    pub sip_password: Secret,
    pub created_at: i64,
    #[serde(default)]
    pub email: Option<Email>,
    /// argon2id PHC string of the hot-desk PIN; the PIN itself is never stored.
    #[serde(default)]
    pub pin_hash: Option<Secret>,
    /// The user must choose a new PIN at their next login.
    #[serde(default)]
    pub pin_change_required: bool,
    #[serde(default = "yes")]
    pub may_hotdesk: bool,
    /// Locked by an admin: no hot-desk login.
    #[serde(default)]
    pub locked: bool,
    #[serde(default)]
    pub hotdesk_at: Option<SessionRef>,
    #[serde(default)]
    pub first_name: Option<PersonName>,
    #[serde(default)]
    pub last_name: Option<PersonName>,
    /// ISO 639-1 code: the menu language of a phone while this user is on its first line.
    #[serde(default)]
    pub language: Option<String>,
    /// Keys that follow the user to any hot-desk phone while they are logged in there.
    #[serde(default, skip_serializing_if = "KeyLayer::is_empty")]
    pub keys: KeyLayer,
    /// Left out of the company phonebook.
    #[serde(default)]
    pub phonebook_hidden: bool,
    /// argon2id PHC string of the self-service portal's password; never stored in clear.
    #[serde(default)]
    pub portal_password_hash: Option<Secret>,
    /// The portal password was chosen by someone else: the portal opens nothing but the
    /// password page until the user sets their own.
    #[serde(default)]
    pub password_change_required: bool,
    /// The SHA-256 of the one one-time link still valid for the user; a newer link or a
    /// password change replaces or clears it.
    #[serde(default)]
    pub portal_link_sha256: Option<String>,
}

impl UserRecord {
    /// The fields rendered into configs and phonebooks; the rest (PIN, where they are logged
    /// in, e-mail) changes no file. Destructured so that a
    /// new field does not compile until someone decides.
    pub(crate) fn rendered_part(&self) -> impl PartialEq + use<> {
        let UserRecord {
            extension,
            display_name,
            sip_user,
            sip_password,
            created_at: _,
            email: _,
            pin_hash: _,
            pin_change_required: _,
            may_hotdesk: _,
            locked,
            hotdesk_at: _,
            first_name,
            last_name,
            language,
            keys,
            phonebook_hidden,
            portal_password_hash: _,
            password_change_required: _,
            portal_link_sha256: _,
        } = self;
        // Names are in the company phonebook and on colleagues' key labels too.
        (
            extension.clone(),
            display_name.clone(),
            sip_user.clone(),
            sip_password.clone(),
            *locked,
            language.clone(),
            (first_name.clone(), last_name.clone(), *phonebook_hidden),
            keys.clone(),
        )
    }
}

fn yes() -> bool {
    true
}
