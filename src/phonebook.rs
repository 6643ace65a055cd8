//! The company phonebook: every user not hidden from it, with their extension, and the
//! contacts admins add, in one document per vendor format (the vendor's `phonebook` template).
//! Served at `phonebook/<mac>.xml` to the device itself only, like its own config: it holds the
//! whole company's names and numbers.

use serde::Serialize;

use crate::render::{RenderFailure, Rendered};
use crate::store::{Reads, StoreError};
use crate::templates::Templates;
use crate::vendors::Vendor;

/// Where a phone fetches its phonebook, below the provisioning base URL.
pub const URL_DIRECTORY: &str = "phonebook/";

/// Contacts read from the store a page at a time.
const PAGE: usize = 1000;

/// One entry as the templates see it: names, and numbers labelled office, mobile or other.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub name: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub numbers: Vec<Number>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Number {
    pub kind: &'static str,
    pub number: String,
}

#[derive(Serialize)]
struct PhonebookContext<'a> {
    /// The directory's title on the phone.
    title: &'a str,
    entries: &'a [Entry],
}

/// The MAC in a phonebook path (`…/phonebook/001565aabbcc.xml`), if it is one.
pub fn requested_mac(path: &str) -> Option<crate::domain::Mac> {
    let (directory, name) = path.rsplit_once('/')?;
    if !directory.ends_with("/phonebook") && directory != "phonebook" {
        return None;
    }
    crate::domain::Mac::parse(name.strip_suffix(".xml")?).ok()
}

/// Users not hidden and not locked, then the contacts: sorted by name, ignoring case.
pub async fn entries(store: &dyn Reads) -> Result<Vec<Entry>, StoreError> {
    let mut entries: Vec<Entry> = store
        .users()
        .await?
        .into_iter()
        .filter(|u| !u.phonebook_hidden && !u.locked)
        .map(|u| Entry {
            name: u.display_name.to_string(),
            first_name: u.first_name.map(|n| n.to_string()),
            last_name: u.last_name.map(|n| n.to_string()),
            numbers: vec![Number {
                kind: "office",
                number: u.extension.to_string(),
            }],
        })
        .collect();
    let mut after = None;
    loop {
        let (contacts, more) = store.contacts_page(after.as_ref(), PAGE).await?;
        after = contacts.last().map(|c| c.id.clone());
        entries.extend(contacts.iter().map(|c| {
            Entry {
                name: c.display_name.to_string(),
                first_name: c.first_name.as_ref().map(|n| n.to_string()),
                last_name: c.last_name.as_ref().map(|n| n.to_string()),
                numbers: c
                    .numbers()
                    .map(|(kind, number)| Number {
                        kind,
                        number: number.to_string(),
                    })
                    .collect(),
            }
        }));
        if !more {
            break;
        }
    }
    entries.sort_by_cached_key(|e| (e.name.to_lowercase(), e.name.clone()));
    Ok(entries)
}

/// The phonebook in `vendor`'s format; `None` when the vendor's phones get none from deskprov.
pub fn render(
    templates: &Templates,
    vendor: &dyn Vendor,
    entries: &[Entry],
) -> Option<Result<Rendered, RenderFailure>> {
    let template = vendor.phonebook_template()?;
    let context = PhonebookContext {
        title: "Company",
        entries,
    };
    Some(
        templates
            .render(template, &context)
            .map(|text| crate::render::rendered(text, crate::templates::Format::Xml.content_type()))
            .map_err(RenderFailure::from),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_phonebook_path_names_its_device() {
        let mac = |p: &str| requested_mac(p).map(|m| m.to_hex());
        assert_eq!(
            mac("/phonebook/001565aabbcc.xml").as_deref(),
            Some("001565aabbcc")
        );
        assert_eq!(
            mac("/prov/phonebook/001565AABBCC.xml").as_deref(),
            Some("001565aabbcc")
        );
        assert_eq!(mac("/001565aabbcc.xml"), None);
        assert_eq!(mac("/phonebook/001565aabbcc.cfg"), None);
        assert_eq!(mac("/phonebook/company.xml"), None);
    }
}
