//! `application/x-www-form-urlencoded` bodies of the console's forms.

use std::collections::HashMap;

/// Fields of one form; a form has a handful, so more than this is refused.
const MAX_FIELDS: usize = 64;

#[derive(Debug, Default)]
pub struct Form(HashMap<String, String>);

impl Form {
    /// The fields of `body`; `None` for a body that is not a form (a field twice, too many
    /// fields, bytes that are not UTF-8 once decoded).
    pub fn parse(body: &[u8]) -> Option<Form> {
        let mut fields = HashMap::new();
        for pair in body.split(|b| *b == b'&').filter(|p| !p.is_empty()) {
            if fields.len() == MAX_FIELDS {
                return None;
            }
            let (name, value) = match pair.iter().position(|b| *b == b'=') {
                Some(at) => (&pair[..at], &pair[at + 1..]),
                None => (pair, &b""[..]),
            };
            if fields.insert(decode(name)?, decode(value)?).is_some() {
                return None;
            }
        }
        Some(Form(fields))
    }

    pub fn get(&self, name: &str) -> &str {
        self.0.get(name).map_or("", String::as_str)
    }
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
}
