//! A user: the SIP account on the phones and the hot-desk PIN.

use serde::{Deserialize, Serialize};

use super::SessionRef;
use crate::domain::{DisplayName, Email, Extension, PersonName, Secret, SipUser};

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
}

impl UserRecord {
    /// The fields rendered into the configs of the phones the user is on; the rest (PIN,
    /// where they are logged in, contact details) changes no config. Destructured so that a
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
            first_name: _,
            last_name: _,
            language,
        } = self;
        (
            extension.clone(),
            display_name.clone(),
            sip_user.clone(),
            sip_password.clone(),
            *locked,
            language.clone(),
        )
    }
}

fn yes() -> bool {
    true
}
