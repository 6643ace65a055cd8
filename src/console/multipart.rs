//! `multipart/form-data` bodies, for the one console form that uploads a file (the CSV import).
//! The body was read whole within its limit; this splits it at the boundary the header names
//! and takes a few small text fields and at most one file. Anything else is no form.

use std::collections::HashMap;

use http::HeaderMap;
use http::header::CONTENT_TYPE;

/// Parts of one upload form: a handful of fields and the file.
const MAX_PARTS: usize = 8;
/// A text field's value (the CSRF token, a choice).
const MAX_FIELD_BYTES: usize = 1024;
/// A part's headers.
const MAX_HEADER_BYTES: usize = 1024;

#[derive(Debug, Default)]
pub struct Upload<'a> {
    fields: HashMap<String, String>,
    /// The file's field name and content, in the body.
    file: Option<(String, &'a [u8])>,
}

impl<'a> Upload<'a> {
    /// The field's value; empty when the form lacks it.
    pub fn get(&self, name: &str) -> &str {
        self.fields.get(name).map_or("", String::as_str)
    }

    /// The content of the file sent as `name`, if one was.
    pub fn file(&self, name: &str) -> Option<&'a [u8]> {
        self.file
            .as_ref()
            .filter(|(field, _)| field == name)
            .map(|(_, bytes)| *bytes)
    }
}

/// The boundary of a `multipart/form-data` request; `None` for any other content type.
pub fn boundary(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(CONTENT_TYPE)?.to_str().ok()?;
    let mut params = value.split(';');
    let kind = params.next()?.trim();
    if !kind.eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    let raw = params.find_map(|p| {
        let (name, value) = p.trim().split_once('=')?;
        name.eq_ignore_ascii_case("boundary").then_some(value)
    })?;
    let boundary = raw
        .strip_prefix('"')
        .and_then(|b| b.strip_suffix('"'))
        .unwrap_or(raw);
    // RFC 2046: 1 to 70 characters.
    (1..=70)
        .contains(&boundary.len())
        .then(|| boundary.to_string())
}

/// The form in `body`; `None` for a body that is not one (no closing boundary, too many parts,
/// a field twice, two files, a field too long or not UTF-8).
pub fn parse<'a>(body: &'a [u8], boundary: &str) -> Option<Upload<'a>> {
    let delimiter = format!("--{boundary}");
    let next = format!("\r\n--{boundary}");
    let mut rest = body.strip_prefix(delimiter.as_bytes())?;
    let mut upload = Upload::default();
    for _ in 0..=MAX_PARTS {
        if rest.starts_with(b"--") {
            return Some(upload);
        }
        rest = rest.strip_prefix(b"\r\n")?;
        let end = find(rest, next.as_bytes())?;
        let part = &rest[..end];
        rest = &rest[end + next.len()..];
        let head_end = find(&part[..part.len().min(MAX_HEADER_BYTES + 4)], b"\r\n\r\n")?;
        let head = std::str::from_utf8(&part[..head_end]).ok()?;
        let content = &part[head_end + 4..];
        let (name, filename) = disposition(head)?;
        if filename.is_some() {
            if upload.file.is_some() {
                return None;
            }
            upload.file = Some((name, content));
            continue;
        }
        if content.len() > MAX_FIELD_BYTES {
            return None;
        }
        let value = String::from_utf8(content.to_vec()).ok()?;
        if upload.fields.insert(name, value).is_some() {
            return None;
        }
    }
    None
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(haystack, needle)
}

/// The part's field name and, for a file, its file name, from `Content-Disposition`.
fn disposition(head: &str) -> Option<(String, Option<String>)> {
    let line = head.split("\r\n").find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.trim()
            .eq_ignore_ascii_case("content-disposition")
            .then_some(value)
    })?;
    let mut params = line.split(';');
    if !params.next()?.trim().eq_ignore_ascii_case("form-data") {
        return None;
    }
    let (mut name, mut filename) = (None, None);
    for param in params {
        let Some((key, value)) = param.trim().split_once('=') else {
            continue;
        };
        let value = value.trim().trim_matches('"').to_string();
        match key.trim().to_ascii_lowercase().as_str() {
            "name" => name = Some(value),
            "filename" => filename = Some(value),
            _ => {}
        }
    }
    Some((name.filter(|n| !n.is_empty())?, filename))
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOUNDARY: &str = "----WebKitFormBoundaryx7Qp";

    fn body(parts: &[(&str, Option<&str>, &str)]) -> Vec<u8> {
        let mut out = String::new();
        for (name, filename, content) in parts {
            out.push_str(&format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\""
            ));
            if let Some(file) = filename {
                out.push_str(&format!("; filename=\"{file}\"\r\nContent-Type: text/csv"));
            }
            out.push_str(&format!("\r\n\r\n{content}\r\n"));
        }
        out.push_str(&format!("--{BOUNDARY}--\r\n"));
        out.into_bytes()
    }

    #[test]
    fn fields_and_one_file_are_read_as_a_browser_sends_them() {
        let csv = "extension,display_name\r\n1001,Anna\r\n";
        let sent = body(&[
            ("csrf", None, "tok"),
            ("subject", None, "users"),
            ("file", Some("users.csv"), csv),
        ]);
        let upload = parse(&sent, BOUNDARY).unwrap();
        assert_eq!(upload.get("csrf"), "tok");
        assert_eq!(upload.get("subject"), "users");
        assert_eq!(upload.get("missing"), "");
        assert_eq!(upload.file("file"), Some(csv.as_bytes()));
        assert_eq!(upload.file("other"), None);
    }

    #[test]
    fn what_is_no_form_is_refused() {
        let twice = body(&[("a", None, "1"), ("a", None, "2")]);
        assert!(parse(&twice, BOUNDARY).is_none());
        let two_files = body(&[("f", Some("a"), "1"), ("g", Some("b"), "2")]);
        assert!(parse(&two_files, BOUNDARY).is_none());
        let long = "x".repeat(MAX_FIELD_BYTES + 1);
        assert!(parse(&body(&[("a", None, &long)]), BOUNDARY).is_none());
        let many: Vec<(String, Option<&str>, &str)> = (0..=MAX_PARTS)
            .map(|n| (format!("f{n}"), None, "1"))
            .collect();
        let many: Vec<(&str, Option<&str>, &str)> =
            many.iter().map(|(n, f, c)| (n.as_str(), *f, *c)).collect();
        assert!(parse(&body(&many), BOUNDARY).is_none());
        let mut cut = body(&[("a", None, "1")]);
        cut.truncate(cut.len() - 8);
        assert!(parse(&cut, BOUNDARY).is_none());
        assert!(parse(b"a=1&b=2", BOUNDARY).is_none());
    }

    #[test]
    fn the_boundary_comes_from_the_content_type() {
        let mut headers = HeaderMap::new();
        headers.insert(
            CONTENT_TYPE,
            format!("multipart/form-data; boundary={BOUNDARY}")
                .parse()
                .unwrap(),
        );
        assert_eq!(boundary(&headers).as_deref(), Some(BOUNDARY));
        headers.insert(
            CONTENT_TYPE,
            "multipart/form-data; boundary=\"a b\"".parse().unwrap(),
        );
        assert_eq!(boundary(&headers).as_deref(), Some("a b"));
        headers.insert(
            CONTENT_TYPE,
            "application/x-www-form-urlencoded".parse().unwrap(),
        );
        assert_eq!(boundary(&headers), None);
    }
}
