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

/// A speed-dial key of one device, as an entry of its local directory (Poly's `<sd>`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SpeedDial {
    /// 1-based, as the device's config names it.
    pub index: usize,
    pub label: String,
    pub number: String,
}

/// One number of one entry: the unit of directories that list a name per number (Cisco, Poly).
#[derive(Debug, Serialize)]
struct Row<'a> {
    name: &'a str,
    first_name: Option<&'a str>,
    last_name: Option<&'a str>,
    kind: &'static str,
    number: &'a str,
}

#[derive(Serialize)]
struct PhonebookContext<'a> {
    /// The directory's title on the phone.
    title: &'a str,
    /// Every entry: for formats that hold all of a name's numbers in one entry.
    entries: &'a [Entry],
    /// One row per number, only the page's where the vendor pages its directory.
    rows: Vec<Row<'a>>,
    /// The next page's URL, where there is one.
    next_url: Option<String>,
    /// The device's speed-dial keys, where its directory is its own (Poly).
    speed_dials: &'a [SpeedDial],
}

/// Which part of the phonebook a request asks for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PageRequest {
    /// 1-based; always 1 for vendors that take the directory whole.
    pub number: usize,
    /// The URL of the device's phonebook without a page, where the vendor pages (the next
    /// page's link is built from it).
    pub url: Option<String>,
}

/// Highest page number a request may name: far beyond any real phonebook
/// (`MAX_CONTACTS` and the users), so the number stays small.
const MAX_PAGE: usize = 100_000;

/// The page a query string asks for (`page=3`); none or an unreadable one is the first page.
pub fn requested_page(query: Option<&str>) -> Option<usize> {
    let Some(query) = query else {
        return Some(1);
    };
    match query.split('&').find_map(|pair| pair.strip_prefix("page=")) {
        None => Some(1),
        Some(n) => n.parse().ok().filter(|n| (1..=MAX_PAGE).contains(n)),
    }
}

/// The MAC in a phonebook path, if it is one: `…/phonebook/001565aabbcc.xml`, or
/// `…/phonebook/000b82aabbcc/phonebook.xml` for phones that are given a directory and fetch
/// `phonebook.xml` from it (Grandstream).
pub fn requested_mac(path: &str) -> Option<crate::domain::Mac> {
    let (directory, name) = path.rsplit_once('/')?;
    let in_phonebook = |d: &str| d.ends_with("/phonebook") || d == "phonebook";
    if name == "phonebook.xml" {
        let (parent, mac) = directory.rsplit_once('/')?;
        return in_phonebook(parent)
            .then(|| crate::domain::Mac::parse(mac).ok())
            .flatten();
    }
    if !in_phonebook(directory) {
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

/// The phonebook in `vendor`'s format; `None` when the vendor's phones get none from deskprov,
/// `Some(None)` for a page past the end.
pub fn render(
    templates: &Templates,
    vendor: &dyn Vendor,
    entries: &[Entry],
    page: &PageRequest,
    speed_dials: &[SpeedDial],
) -> Option<Option<Result<Rendered, RenderFailure>>> {
    let template = vendor.phonebook_template()?;
    let entries = within_limit(vendor, entries);
    let all_rows = entries.iter().flat_map(|e| {
        e.numbers.iter().map(move |n| Row {
            name: &e.name,
            first_name: e.first_name.as_deref(),
            last_name: e.last_name.as_deref(),
            kind: n.kind,
            number: &n.number,
        })
    });
    let (rows, next_url) = match vendor.phonebook_page_size() {
        None if page.number > 1 => return Some(None),
        None => (all_rows.collect(), None),
        Some(size) => {
            let skip = (page.number - 1) * size;
            let mut rest = all_rows.skip(skip).peekable();
            if page.number > 1 && rest.peek().is_none() {
                return Some(None);
            }
            let rows: Vec<Row> = rest.by_ref().take(size).collect();
            let next = rest.peek().is_some().then(|| {
                let url = page.url.as_deref().unwrap_or_default();
                format!("{url}?page={}", page.number + 1)
            });
            (rows, next)
        }
    };
    let context = PhonebookContext {
        title: TITLE,
        entries: if vendor.phonebook_page_size().is_some() {
            &[]
        } else {
            entries
        },
        rows,
        next_url,
        speed_dials,
    };
    Some(Some(
        templates
            .render(template, &context)
            .map(|text| crate::render::rendered(text, crate::templates::Format::Xml.content_type()))
            .map_err(RenderFailure::from),
    ))
}

/// The entries a document of `vendor` holds: all, or the first ones up to its limit (logged).
fn within_limit<'a>(vendor: &dyn Vendor, entries: &'a [Entry]) -> &'a [Entry] {
    match vendor.phonebook_max_entries() {
        Some(max) if entries.len() > max => {
            tracing::warn!(
                vendor = vendor.id(),
                entries = entries.len(),
                max,
                "the company phonebook has more entries than this vendor's phones take; the first by name are served"
            );
            &entries[..max]
        }
        _ => entries,
    }
}

/// The directory's name on the phone and in its config.
pub const TITLE: &str = "Company";

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
        assert_eq!(
            mac("/phonebook/000b82aabbcc/phonebook.xml").as_deref(),
            Some("000b82aabbcc")
        );
        assert_eq!(mac("/000b82aabbcc/phonebook.xml"), None);
        assert_eq!(mac("/phonebook/company/phonebook.xml"), None);
    }

    #[test]
    fn a_vendor_with_a_limit_gets_the_first_entries_by_name() {
        let entries: Vec<Entry> = (0..2001)
            .map(|i| Entry {
                name: format!("{i:04}"),
                first_name: None,
                last_name: None,
                numbers: Vec::new(),
            })
            .collect();
        let gigaset = crate::vendors::by_id("gigaset").unwrap();
        let kept = within_limit(gigaset, &entries);
        assert_eq!(kept.len(), 2000);
        assert_eq!(kept.last().unwrap().name, "1999");
        let yealink = crate::vendors::by_id("yealink").unwrap();
        assert_eq!(within_limit(yealink, &entries).len(), 2001);
    }

    #[test]
    fn a_page_is_named_by_its_number() {
        assert_eq!(requested_page(None), Some(1));
        assert_eq!(requested_page(Some("")), Some(1));
        assert_eq!(requested_page(Some("page=3")), Some(3));
        assert_eq!(requested_page(Some("x=1&page=2")), Some(2));
        assert_eq!(requested_page(Some("page=0")), None);
        assert_eq!(requested_page(Some("page=abc")), None);
        assert_eq!(requested_page(Some("page=100001")), None);
    }
}
