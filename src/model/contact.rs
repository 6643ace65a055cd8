//! A contact of the company phonebook who is not a user: a reception desk, a branch, a
//! supplier. Users are in the phonebook with their extension on their own.

use serde::{Deserialize, Serialize};

use crate::domain::{ContactId, DialNumber, DisplayName, PersonName};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContactRecord {
    pub id: ContactId,
    /// How phones list the contact.
    pub display_name: DisplayName,
    #[serde(default)]
    pub first_name: Option<PersonName>,
    #[serde(default)]
    pub last_name: Option<PersonName>,
    /// At least one of the three numbers is set.
    #[serde(default)]
    pub office: Option<DialNumber>,
    #[serde(default)]
    pub mobile: Option<DialNumber>,
    #[serde(default)]
    pub other: Option<DialNumber>,
    pub created_at: i64,
}

impl ContactRecord {
    /// Its numbers, labelled, in the order phones list them.
    pub fn numbers(&self) -> impl Iterator<Item = (&'static str, &DialNumber)> {
        [
            ("office", &self.office),
            ("mobile", &self.mobile),
            ("other", &self.other),
        ]
        .into_iter()
        .filter_map(|(kind, number)| number.as_ref().map(|n| (kind, n)))
    }
}
