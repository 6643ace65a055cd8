//! The role of an admin token (and, with the console, of an admin account): what its holder may
//! do is decided by the endpoint table's access column (`admin::roles`).

use serde::{Deserialize, Serialize};

use super::InvalidInput;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything: admin tokens, site settings, templates, firmware, bans.
    Owner,
    /// Users, devices, profiles, model settings, contacts, keys, import and export; secrets only
    /// when the owner allowed it for this token.
    Admin,
    /// Reads everything but secrets; unlocks, resets PINs and claims, logs out, resyncs.
    Helpdesk,
    /// Reads everything but secrets.
    Readonly,
    /// Only the metrics.
    Metrics,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Owner,
        Role::Admin,
        Role::Helpdesk,
        Role::Readonly,
        Role::Metrics,
    ];

    pub fn parse(text: &str) -> Result<Role, InvalidInput> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == text)
            .ok_or_else(|| {
                InvalidInput::new(
                    "role",
                    "must be owner, admin, helpdesk, readonly or metrics",
                )
            })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Helpdesk => "helpdesk",
            Role::Readonly => "readonly",
            Role::Metrics => "metrics",
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_parses_from_its_name_and_nothing_else_does() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Ok(role));
        }
        for wrong in ["", "Owner", "root", "owner "] {
            assert!(Role::parse(wrong).is_err(), "{wrong:?}");
        }
    }
}
