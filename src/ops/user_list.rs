//! Reading users as the console shows them: a filtered page in extension order, where a user
//! is logged in (confirmed by the phone's live session), and the phones they have lines on.

use crate::app::App;
use crate::domain::{Extension, Mac};
use crate::model::{DeviceRecord, UserRecord};
use crate::store::{Needle, StoreError};

/// Longest search text; a longer one is cut, not refused.
pub const MAX_SEARCH_CHARS: usize = 64;
/// Most phones a user's detail lists.
pub const MAX_PHONES: usize = 100;

/// Which users a list shows: `None` leaves a property open.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserFilter {
    /// Lower-case text found in the extension, a name or the e-mail address.
    search: String,
    pub locked: Option<bool>,
    pub has_pin: Option<bool>,
    /// By the user's pointer to a hot-desk phone (the detail page confirms it).
    pub logged_in: Option<bool>,
    pub may_hotdesk: Option<bool>,
}

impl UserFilter {
    pub fn with_search(mut self, text: &str) -> UserFilter {
        self.search = text
            .trim()
            .chars()
            .take(MAX_SEARCH_CHARS)
            .collect::<String>();
        self.search = self.search.to_lowercase();
        self
    }

    pub fn search(&self) -> &str {
        &self.search
    }

    pub fn keeps(&self, u: &UserRecord) -> bool {
        let wanted = |want: Option<bool>, has: bool| want.is_none_or(|w| w == has);
        wanted(self.locked, u.locked)
            && wanted(self.has_pin, u.pin_hash.is_some())
            && wanted(self.logged_in, u.hotdesk_at.is_some())
            && wanted(self.may_hotdesk, u.may_hotdesk)
            && (self.search.is_empty() || self.found_in(u))
    }

    fn found_in(&self, u: &UserRecord) -> bool {
        let texts = [
            Some(u.extension.as_str()),
            Some(u.display_name.as_str()),
            u.first_name.as_ref().map(|n| n.as_str()),
            u.last_name.as_ref().map(|n| n.as_str()),
            u.email.as_ref().map(|e| e.as_str()),
        ];
        texts
            .into_iter()
            .flatten()
            .any(|t| t.to_lowercase().contains(&self.search))
    }
}

/// The users after `after` that `filter` keeps, at most `limit`, read through the store's
/// cursor; and whether more remain.
pub async fn page(
    app: &App,
    filter: &UserFilter,
    after: Option<&Extension>,
    limit: usize,
) -> Result<(Vec<UserRecord>, bool), StoreError> {
    let keep = |u: &UserRecord| filter.keeps(u);
    app.store.users_page(after, limit, &keep).await
}

/// Where a user is logged in at a hot-desk phone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login {
    pub mac: Mac,
    pub slot: u16,
    pub since: i64,
}

/// The user's pointer, confirmed by the phone's session while it is in force.
pub async fn login_of(app: &App, user: &UserRecord) -> Result<Option<Login>, StoreError> {
    let Some(at) = user.hotdesk_at else {
        return Ok(None);
    };
    let Some(device) = app.store.device(at.mac).await? else {
        return Ok(None);
    };
    let settings = crate::settings::of_device(app.store.reads(), &device).await?;
    let now = app.clock.now();
    Ok(device
        .sessions
        .get(&at.slot)
        .filter(|s| s.extension == user.extension && super::sessions::is_live(s, &settings, now))
        .map(|s| Login {
            mac: at.mac,
            slot: at.slot,
            since: s.since,
        }))
}

/// The phones with a line of `extension`, in MAC order, at most [`MAX_PHONES`].
pub async fn phones_of(app: &App, extension: &Extension) -> Result<Vec<DeviceRecord>, StoreError> {
    let keep = |d: &DeviceRecord| d.lines.values().any(|e| e == extension);
    let needle = Needle::new(extension.as_str());
    let (devices, _) = app
        .store
        .devices_page(None, MAX_PHONES, needle, &keep)
        .await?;
    Ok(devices)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(extension: &str, name: &str) -> UserRecord {
        let json = serde_json::json!({
            "extension": extension,
            "display_name": name,
            "sip_user": extension,
            "sip_password": "secret-secret-1234",
            "created_at": 0,
            "may_hotdesk": true,
            "locked": false,
        });
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn a_filter_keeps_what_matches_every_property_given() {
        let mut anna = user("1001", "Anna Schmidt");
        anna.locked = true;
        let bob = user("1002", "Bob Meier");
        let all = UserFilter::default();
        assert!(all.keeps(&anna) && all.keeps(&bob));
        let schmidt = UserFilter::default().with_search("  SCHMIDT ");
        assert!(schmidt.keeps(&anna) && !schmidt.keeps(&bob));
        let by_extension = UserFilter::default().with_search("1002");
        assert!(!by_extension.keeps(&anna) && by_extension.keeps(&bob));
        let locked = UserFilter {
            locked: Some(true),
            ..UserFilter::default()
        };
        assert!(locked.keeps(&anna) && !locked.keeps(&bob));
        let with_pin = UserFilter {
            has_pin: Some(true),
            ..UserFilter::default()
        };
        assert!(!with_pin.keeps(&anna));
        let long = "x".repeat(500);
        assert_eq!(
            UserFilter::default().with_search(&long).search().len(),
            MAX_SEARCH_CHARS
        );
    }
}
