//! HTTP Digest authentication (RFC 7616, MD5, qop=auth required: RFC 2069 answers carry no
//! nonce count, so a replay could not be told apart) for the phones' provisioning
//! credentials. Gigaset bases speak only Digest; other phones use Basic.
//!
//! Nonces are stateless: a timestamp and an HMAC of it under the store's nonce key (the same
//! for every node of a site, and across restarts), so a nonce cannot be forged and expires
//! after [`NONCE_LIFETIME_SECS`]. Responses are compared in constant time. Replays are caught
//! by the caller, which keeps each nonce's highest count in the store (ops::guard), not here.

use md5::{Digest, Md5};
use ring::hmac;
use subtle::ConstantTimeEq;

use crate::domain::Secret;

pub const REALM: &str = "deskprov";
pub const NONCE_LIFETIME_SECS: i64 = 300;

pub struct Nonces {
    key: hmac::Key,
}

impl Nonces {
    /// Nonces under a random key, for a process of its own.
    pub fn new() -> Nonces {
        let secret = Secret::generate(32);
        Nonces::with_key(secret.expose().as_bytes())
    }

    /// Nonces under `key`: every node with the same key accepts the others' nonces.
    pub fn with_key(key: &[u8]) -> Nonces {
        Nonces {
            key: hmac::Key::new(hmac::HMAC_SHA256, key),
        }
    }

    pub fn issue(&self, now: i64) -> String {
        let stamp = now.to_be_bytes();
        let tag = hmac::sign(&self.key, &stamp);
        hex(&stamp) + &hex(&tag.as_ref()[..16])
    }

    fn is_fresh(&self, nonce: &str, now: i64) -> bool {
        let Some(bytes) = unhex(nonce).filter(|b| b.len() == 24) else {
            return false;
        };
        let (stamp, tag) = bytes.split_at(8);
        let expected = hmac::sign(&self.key, stamp);
        let authentic: bool = expected.as_ref()[..16].ct_eq(tag).into();
        let issued = i64::from_be_bytes(stamp.try_into().expect("8 bytes"));
        authentic && issued <= now && now - issued <= NONCE_LIFETIME_SECS
    }

    /// The `WWW-Authenticate` value that challenges for Digest.
    pub fn challenge(&self, now: i64) -> String {
        format!(
            "Digest realm=\"{REALM}\", qop=\"auth\", algorithm=MD5, nonce=\"{}\"",
            self.issue(now)
        )
    }
}

impl Default for Nonces {
    fn default() -> Self {
        Nonces::new()
    }
}

/// A parsed `Authorization: Digest ...` header, checked for a fresh nonce of ours.
pub struct DigestResponse {
    pub username: String,
    nonce: String,
    uri: String,
    response: String,
    nonce_count: u32,
    cnonce: String,
    method: String,
}

impl std::fmt::Debug for DigestResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DigestResponse {{ username: {:?}, .. }}", self.username)
    }
}

impl DigestResponse {
    /// Parses the header; `None` unless it is well formed, for our realm, with MD5 and
    /// qop=auth, naming the requested URI, with a fresh nonce of ours. The scheme name is
    /// matched without regard to case (RFC 7235 §2.1).
    pub fn parse(
        header: &str,
        method: &str,
        request_uri: &str,
        nonces: &Nonces,
        now: i64,
    ) -> Option<DigestResponse> {
        let (scheme, rest) = header.trim_start().split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("Digest") {
            return None;
        }
        let fields = parse_fields(rest)?;
        let get = |name: &str| {
            fields
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        };
        if get("realm")? != REALM
            || get("algorithm").is_some_and(|a| !a.eq_ignore_ascii_case("MD5"))
        {
            return None;
        }
        let nonce = get("nonce")?;
        let uri = get("uri")?;
        if uri != request_uri || !nonces.is_fresh(&nonce, now) {
            return None;
        }
        if get("qop")? != "auth" {
            return None;
        }
        let nc = get("nc")?;
        let nonce_count = u32::from_str_radix(&nc, 16)
            .ok()
            .filter(|_| nc.len() == 8)?;
        Some(DigestResponse {
            username: get("username")?,
            nonce,
            uri,
            response: get("response")?,
            nonce_count,
            cnonce: get("cnonce")?,
            method: method.to_string(),
        })
    }

    pub fn nonce(&self) -> &str {
        &self.nonce
    }

    /// The `nc` the client sent: it must grow with every use of the nonce.
    pub fn nonce_count(&self) -> u32 {
        self.nonce_count
    }

    /// Whether the response was computed with this password.
    pub fn matches(&self, password: &str) -> bool {
        let ha1 = md5_hex(&format!("{}:{REALM}:{password}", self.username));
        let ha2 = md5_hex(&format!("{}:{}", self.method, self.uri));
        let expected = md5_hex(&format!(
            "{ha1}:{}:{:08x}:{}:auth:{ha2}",
            self.nonce, self.nonce_count, self.cnonce
        ));
        expected
            .as_bytes()
            .ct_eq(self.response.to_ascii_lowercase().as_bytes())
            .into()
    }
}

/// A Digest challenge another party sent us (a phone challenging our SIP NOTIFY).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub realm: String,
    nonce: String,
    opaque: Option<String>,
    /// The challenger offers qop=auth (RFC 7616); otherwise RFC 2069.
    qop_auth: bool,
}

impl Challenge {
    /// `Digest realm="…", nonce="…"[, qop="auth"][, opaque="…"]`, with MD5 or no algorithm.
    pub fn parse(header: &str) -> Option<Challenge> {
        let rest = header.trim();
        let (scheme, fields) = rest.split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("Digest") {
            return None;
        }
        let fields = parse_fields(fields)?;
        let get = |name: &str| {
            fields
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        };
        if get("algorithm").is_some_and(|a| !a.eq_ignore_ascii_case("MD5")) {
            return None;
        }
        // Echoed into our next request: nothing that could end a header or a quoted string.
        let plain = |v: &str| {
            v.len() <= 256
                && v.bytes().all(|b| b.is_ascii_graphic() || b == b' ')
                && !v.contains(['"', '\\'])
        };
        if !fields.iter().all(|(_, value)| plain(value)) {
            return None;
        }
        Some(Challenge {
            realm: get("realm")?,
            nonce: get("nonce")?,
            opaque: get("opaque"),
            qop_auth: get("qop").is_some_and(|q| q.split(',').any(|q| q.trim() == "auth")),
        })
    }

    /// The `Authorization` value answering this challenge for `method` on `uri`.
    pub fn answer(&self, method: &str, uri: &str, username: &str, password: &str) -> String {
        let ha1 = md5_hex(&format!("{username}:{}:{password}", self.realm));
        let ha2 = md5_hex(&format!("{method}:{uri}"));
        let mut value = format!(
            "Digest username=\"{username}\", realm=\"{}\", nonce=\"{}\", uri=\"{uri}\", algorithm=MD5",
            self.realm, self.nonce
        );
        if self.qop_auth {
            let cnonce = hex(Secret::generate(8).expose().as_bytes());
            let response = md5_hex(&format!(
                "{ha1}:{}:00000001:{cnonce}:auth:{ha2}",
                self.nonce
            ));
            value +=
                &format!(", qop=auth, nc=00000001, cnonce=\"{cnonce}\", response=\"{response}\"");
        } else {
            let response = md5_hex(&format!("{ha1}:{}:{ha2}", self.nonce));
            value += &format!(", response=\"{response}\"");
        }
        if let Some(opaque) = &self.opaque {
            value += &format!(", opaque=\"{opaque}\"");
        }
        value
    }
}

/// `k="v", k2=v2` → pairs; `None` on malformed input. Bounded by the header size limit.
fn parse_fields(text: &str) -> Option<Vec<(String, String)>> {
    let mut fields = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        let (key, after) = rest.split_once('=')?;
        let after = after.trim_start();
        let (value, remainder) = if let Some(quoted) = after.strip_prefix('"') {
            let end = quoted.find('"')?;
            (&quoted[..end], &quoted[end + 1..])
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (after[..end].trim(), &after[end..])
        };
        fields.push((key.trim().to_string(), value.to_string()));
        rest = remainder
            .trim_start()
            .strip_prefix(',')
            .unwrap_or(remainder)
            .trim_start();
    }
    Some(fields)
}

pub fn md5_hex(text: &str) -> String {
    hex(&Md5::digest(text.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_challenge_is_answered_only_when_it_is_plain_md5() {
        let challenge =
            Challenge::parse(r#"Digest realm="phone", nonce="abc", qop="auth,auth-int""#);
        let answer = challenge
            .unwrap()
            .answer("NOTIFY", "sip:10.0.0.5:5060", "1001", "pw");
        assert!(
            answer.contains(r#"username="1001", realm="phone", nonce="abc""#),
            "{answer}"
        );
        assert!(answer.contains("qop=auth, nc=00000001"), "{answer}");
        for refused in [
            r#"Digest realm="phone", nonce="abc", algorithm=SHA-256"#,
            r#"Basic realm="phone""#,
            "Digest realm=\"ph\r\none\", nonce=\"abc\"",
            r#"Digest nonce="abc""#,
        ] {
            assert_eq!(Challenge::parse(refused), None, "{refused}");
        }
    }

    /// What a phone computes for a challenge (RFC 7616 §3.4.1 with MD5).
    pub fn answer(user: &str, password: &str, method: &str, uri: &str, nonce: &str) -> String {
        let ha1 = md5_hex(&format!("{user}:{REALM}:{password}"));
        let ha2 = md5_hex(&format!("{method}:{uri}"));
        let response = md5_hex(&format!("{ha1}:{nonce}:00000001:abcdef:auth:{ha2}"));
        format!(
            "Digest username=\"{user}\", realm=\"{REALM}\", nonce=\"{nonce}\", uri=\"{uri}\", algorithm=MD5, qop=auth, nc=00000001, cnonce=\"abcdef\", response=\"{response}\""
        )
    }

    #[test]
    fn round_trip_and_refusals() {
        let nonces = Nonces::new();
        let nonce = nonces.issue(1000);
        let header = answer("7c2f80aabbcc", "s3cret", "GET", "/7c2f80aabbcc.xml", &nonce);
        let parsed =
            DigestResponse::parse(&header, "GET", "/7c2f80aabbcc.xml", &nonces, 1100).unwrap();
        assert_eq!(parsed.username, "7c2f80aabbcc");
        assert!(parsed.matches("s3cret"));
        assert!(!parsed.matches("wrong"));
        // Another file, a stale or forged nonce, another server's nonce: refused before any compare.
        assert!(DigestResponse::parse(&header, "GET", "/other.xml", &nonces, 1100).is_none());
        assert!(
            DigestResponse::parse(
                &header,
                "GET",
                "/7c2f80aabbcc.xml",
                &nonces,
                1000 + NONCE_LIFETIME_SECS + 1
            )
            .is_none()
        );
        assert!(
            DigestResponse::parse(&header, "GET", "/7c2f80aabbcc.xml", &Nonces::new(), 1100)
                .is_none()
        );
        let forged = header.replace(&nonce, &format!("{}{}", &nonce[..16], "0".repeat(32)));
        assert!(
            DigestResponse::parse(&forged, "GET", "/7c2f80aabbcc.xml", &nonces, 1100).is_none()
        );
        assert!(DigestResponse::parse("Digest garbage", "GET", "/", &nonces, 1100).is_none());
        // The scheme in any case; RFC 2069 (no qop, so no nonce count) refused.
        let lower = header.replacen("Digest", "digest", 1);
        assert!(DigestResponse::parse(&lower, "GET", "/7c2f80aabbcc.xml", &nonces, 1100).is_some());
        let rfc2069 = header.replace(", qop=auth, nc=00000001, cnonce=\"abcdef\"", "");
        assert!(
            DigestResponse::parse(&rfc2069, "GET", "/7c2f80aabbcc.xml", &nonces, 1100).is_none()
        );
    }

    #[test]
    fn rfc_2617_example_response() {
        // RFC 2617 §3.5: Mufasa / Circle Of Life, realm testrealm@host.com.
        let ha1 = md5_hex("Mufasa:testrealm@host.com:Circle Of Life");
        let ha2 = md5_hex("GET:/dir/index.html");
        let response = md5_hex(&format!(
            "{ha1}:dcd98b7102dd2f0e8b11d0f600bfb0c093:00000001:0a4f113b:auth:{ha2}"
        ));
        assert_eq!(response, "6629fae49393a05397450978507c4ef1");
    }
}
