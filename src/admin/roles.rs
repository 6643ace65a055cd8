//! Which role may call what: the endpoint table's access column (`endpoint::Access`) meets the
//! roles (`domain::Role`) here and nowhere else. README's role matrix is generated from
//! [`role_permits`] and the table by this module's tests, which check that README shows it.

use crate::domain::Role;
use crate::error::ApiError;
use crate::model::TokenRecord;

use super::endpoint::{Access, Def};

/// Whether `role` may call endpoints of `access`. An admin's secret reads also need the
/// owner's leave ([`TokenRecord::may_read_secrets`]).
pub fn role_permits(role: Role, access: Access) -> bool {
    use Access as A;
    if access == A::Own {
        return true;
    }
    match role {
        Role::Owner => true,
        Role::Admin => matches!(access, A::Read | A::Helpdesk | A::Change | A::Secrets),
        Role::Helpdesk => matches!(access, A::Read | A::Helpdesk),
        Role::Readonly => access == A::Read,
        Role::Metrics => access == A::Metrics,
    }
}

fn permits(token: &TokenRecord, access: Access) -> bool {
    role_permits(token.role, access) && (access != Access::Secrets || token.may_read_secrets())
}

/// Refuses the call unless the token's role may make it; `reveals_secret` when the call, as
/// asked, hands out a secret (`?secrets=true`), which needs secret access besides its own.
pub fn authorize(token: &TokenRecord, def: &Def, reveals_secret: bool) -> Result<(), ApiError> {
    if !permits(token, def.access) {
        return Err(forbidden(token, def));
    }
    if reveals_secret && !permits(token, Access::Secrets) {
        return Err(ApiError::Forbidden(format!(
            "a token of role {} may not read secrets here; ask without secrets=true",
            describe(token)
        )));
    }
    Ok(())
}

fn describe(token: &TokenRecord) -> String {
    match token.role {
        Role::Admin if !token.reads_secrets => "admin (without secrets)".into(),
        role => role.to_string(),
    }
}

fn forbidden(token: &TokenRecord, def: &Def) -> ApiError {
    ApiError::Forbidden(format!(
        "a token of role {} may not {} ({}); it needs {}",
        describe(token),
        def.summary.to_lowercase(),
        def.name,
        required_roles(def.access)
    ))
}

/// The roles that may call endpoints of `access`, for an error message.
fn required_roles(access: Access) -> String {
    let roles: Vec<&str> = Role::ALL
        .into_iter()
        .filter(|role| role_permits(*role, access))
        .map(Role::as_str)
        .collect();
    let roles = roles.join(" or ");
    if access == Access::Secrets {
        format!("{roles} (an admin token only when allowed to read secrets)")
    } else {
        roles
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admin::endpoint::DEFS;

    /// What each access class covers, for the matrix.
    fn covers(access: Access) -> &'static str {
        match access {
            Access::Read => "read anything but secrets (lists, devices, users, settings, audit)",
            Access::Helpdesk => {
                "unlock a user, reset a PIN or a claim, log out a hot-desk session, resync"
            }
            Access::Change => {
                "change devices, users, profiles, model settings, contacts and keys; import"
            }
            Access::Site => "site settings and keys, templates, firmware",
            Access::Secrets => {
                "read secrets: credentials, SIP passwords, rendered files, exports with secrets"
            }
            Access::Security => "admin tokens, console accounts, bans and blocks, backups",
            Access::Own => "one's own console account: password, language, logging out",
            Access::Metrics => "the Prometheus metrics (also from `metrics.allow_networks`)",
        }
    }

    const ACCESSES: [Access; 8] = [
        Access::Read,
        Access::Helpdesk,
        Access::Change,
        Access::Site,
        Access::Secrets,
        Access::Security,
        Access::Metrics,
        Access::Own,
    ];

    /// README's role matrix: one row per access class with its endpoints and console pages, one
    /// column per role.
    pub fn matrix() -> String {
        let mut out = String::from("| may | endpoints and pages |");
        for role in Role::ALL {
            out.push_str(&format!(" {role} |"));
        }
        out.push_str("\n|---|---|");
        out.push_str(&"---|".repeat(Role::ALL.len()));
        out.push('\n');
        for access in ACCESSES {
            let pages = crate::console::pages::all()
                .filter(|page| page.access == access)
                .map(|page| page.name);
            let endpoints: Vec<&str> = DEFS
                .iter()
                .filter(|def| def.access == access)
                .map(|def| def.name)
                .chain(pages)
                .collect();
            out.push_str(&format!(
                "| {} | `{}` |",
                covers(access),
                endpoints.join("`, `")
            ));
            for role in Role::ALL {
                let mark = match (role_permits(role, access), role, access) {
                    (true, Role::Admin, Access::Secrets) => "if allowed",
                    (true, ..) => "yes",
                    (false, ..) => "no",
                };
                out.push_str(&format!(" {mark} |"));
            }
            out.push('\n');
        }
        out
    }

    #[test]
    fn every_endpoint_is_in_one_row_of_the_matrix() {
        let matrix = matrix();
        for def in DEFS {
            assert_eq!(
                matrix.matches(&format!("`{}`", def.name)).count(),
                1,
                "{}",
                def.name
            );
        }
    }

    #[test]
    fn the_readme_shows_the_role_matrix() {
        let readme = include_str!("../../README.md");
        assert!(
            readme.contains(&matrix()),
            "README's role matrix differs from admin::roles::matrix():\n{}",
            matrix()
        );
    }
}
