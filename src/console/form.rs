//! `application/x-www-form-urlencoded` bodies of the console's forms.

use std::collections::HashMap;

/// Fields of one form; a form has a handful, so more than this is refused.
const MAX_FIELDS: usize = 64;

/// The one field a form may repeat: the rows ticked in a list (`<input type=checkbox
/// name=selected>`), at most a page of them.
pub const SELECTED: &str = "selected";
pub const MAX_SELECTED: usize = 1000;

#[derive(Debug, Default)]
pub struct Form {
    fields: HashMap<String, String>,
    selected: Vec<String>,
}

impl Form {
    /// The fields of `body`; `None` for a body that is not a form (a field other than
    /// [`SELECTED`] twice, too many fields, bytes that are not UTF-8 once decoded).
    pub fn parse(body: &[u8]) -> Option<Form> {
        let mut form = Form::default();
        for pair in body.split(|b| *b == b'&').filter(|p| !p.is_empty()) {
            let (name, value) = match pair.iter().position(|b| *b == b'=') {
                Some(at) => (&pair[..at], &pair[at + 1..]),
                None => (pair, &b""[..]),
            };
            let (name, value) = (decode(name)?, decode(value)?);
            if name == SELECTED {
                if form.selected.len() == MAX_SELECTED {
                    return None;
                }
                form.selected.push(value);
                continue;
            }
            if form.fields.len() == MAX_FIELDS || form.fields.insert(name, value).is_some() {
                return None;
            }
        }
        Some(form)
    }

    /// The field's value; empty when the form lacks it.
    pub fn get(&self, name: &str) -> &str {
        self.fields.get(name).map_or("", String::as_str)
    }

    /// The field's value, `None` when the form lacks it.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(String::as_str)
    }

    /// Whether the form sent every one of `names` (empty or not): a post that lacks a field
    /// its page always sends did not come from that page.
    pub fn has_all(&self, names: &[&str]) -> bool {
        names.iter().all(|name| self.fields.contains_key(*name))
    }

    /// Whether a checkbox named `name` was ticked.
    pub fn ticked(&self, name: &str) -> bool {
        self.fields.contains_key(name)
    }

    /// The values of the ticked rows, in the order sent.
    pub fn selected(&self) -> &[String] {
        &self.selected
    }
}

/// The raw value of `name` in a URL's query (`done=saved`), not decoded: the pages' own links
/// carry plain words and numbers there.
pub fn query_value<'q>(query: &'q str, name: &str) -> Option<&'q str> {
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
}

fn decode(raw: &[u8]) -> Option<String> {
    let spaced: Vec<u8> = raw
        .iter()
        .map(|b| if *b == b'+' { b' ' } else { *b })
        .collect();
    percent_encoding::percent_decode(&spaced)
        .decode_utf8()
        .ok()
        .map(|s| s.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_decoded_and_a_field_twice_is_refused() {
        let form =
            Form::parse(b"username=anna&password=K%C3%B6ln+ist+sch%C3%B6n%26gut&x=").unwrap();
        assert_eq!(form.get("username"), "anna");
        assert_eq!(form.get("password"), "Köln ist schön&gut");
        assert_eq!(form.get("x"), "");
        assert_eq!(form.get("missing"), "");
        assert!(Form::parse(b"a=1&a=2").is_none());
        assert!(Form::parse(b"a=%ff").is_none());
        let many: Vec<String> = (0..65).map(|n| format!("f{n}=1")).collect();
        assert!(Form::parse(many.join("&").as_bytes()).is_none());
    }

    #[test]
    fn ticked_rows_may_repeat_up_to_a_bound() {
        let form = Form::parse(b"selected=1001&lock=&selected=1002").unwrap();
        assert_eq!(form.selected(), ["1001", "1002"]);
        assert!(form.ticked("lock"));
        assert!(!form.ticked("delete"));
        let many: Vec<String> = (0..=MAX_SELECTED)
            .map(|n| format!("selected={n}"))
            .collect();
        assert!(Form::parse(many.join("&").as_bytes()).is_none());
    }
}
