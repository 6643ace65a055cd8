//! The console's cookies. The session cookie has a `__Host-` name of the console's own: cookies
//! ignore ports, so a cookie set on one listener reaches the other, and each listener honours
//! only its own name. The login form, which has no session yet, is protected by a second
//! cookie whose value its hidden field must repeat.

use http::HeaderMap;
use http::header::{COOKIE, HeaderValue};
use subtle::ConstantTimeEq;

use crate::domain::Secret;

pub const SESSION_COOKIE: &str = "__Host-deskprov-console";
pub const LOGIN_COOKIE: &str = "__Host-deskprov-console-login";
/// Longest cookie value read; ours are 43 characters.
const MAX_VALUE: usize = 128;

/// The value of cookie `name` in the request, if it has exactly one.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    let mut found = None;
    for header in headers.get_all(COOKIE) {
        let Ok(text) = header.to_str() else {
            continue;
        };
        for pair in text.split(';') {
            let Some((key, value)) = pair.trim().split_once('=') else {
                continue;
            };
            if key == name {
                if found.is_some() {
                    return None;
                }
                found = Some(value);
            }
        }
    }
    found.filter(|v| !v.is_empty() && v.len() <= MAX_VALUE)
}

/// `Set-Cookie` for `name`: `Secure; HttpOnly; SameSite=Strict; Path=/`, for the browser's
/// session (no `Max-Age`: the server ends sessions, and closing the browser ends it too).
pub fn set(name: &str, value: &Secret) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "{name}={}; Secure; HttpOnly; SameSite=Strict; Path=/",
        value.expose()
    ))
    .expect("generated cookie values are header-safe")
}

/// `Set-Cookie` that removes `name`.
pub fn clear(name: &str) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "{name}=; Secure; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"
    ))
    .expect("a static cookie is header-safe")
}

/// Whether a form's CSRF field matches the token it must carry.
pub fn csrf_matches(expected: &str, given: &str) -> bool {
    !expected.is_empty() && bool::from(expected.as_bytes().ct_eq(given.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(cookies: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for c in cookies {
            map.append(COOKIE, HeaderValue::from_str(c).unwrap());
        }
        map
    }

    #[test]
    fn only_one_cookie_of_the_name_counts() {
        let h = headers(&["a=1; __Host-deskprov-console=abc", "b=2"]);
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie(&h, LOGIN_COOKIE), None);
        let twice = headers(&["__Host-deskprov-console=abc; __Host-deskprov-console=def"]);
        assert_eq!(cookie(&twice, SESSION_COOKIE), None);
        let long = format!("{SESSION_COOKIE}={}", "x".repeat(129));
        assert_eq!(cookie(&headers(&[&long]), SESSION_COOKIE), None);
    }

    #[test]
    fn the_session_cookie_is_strict_and_secure() {
        let value = set(SESSION_COOKIE, &Secret::from_trusted("abc".into()));
        assert_eq!(
            value.to_str().unwrap(),
            "__Host-deskprov-console=abc; Secure; HttpOnly; SameSite=Strict; Path=/"
        );
        assert!(!csrf_matches("", ""));
        assert!(csrf_matches("t0k3n", "t0k3n"));
        assert!(!csrf_matches("t0k3n", "t0k3N"));
    }
}
