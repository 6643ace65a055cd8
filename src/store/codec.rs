//! How the persistent backends (sled and PostgreSQL) lay records out: JSON bytes under keys
//! made the same way, so that a record reads alike in both and a backup of one restores into
//! the other unchanged.

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{Result, StoreError};
use crate::domain::Mac;

/// A token's record is kept under the SHA-256 of the token, never under the token.
pub(super) fn token_key(token: &str) -> Vec<u8> {
    ring::digest::digest(&ring::digest::SHA256, token.as_bytes())
        .as_ref()
        .to_vec()
}

/// A phone's upload: its MAC's octets, then the file's name.
pub(super) fn upload_key(mac: Mac, name: &str) -> Vec<u8> {
    let mut key = mac.octets().to_vec();
    key.extend_from_slice(name.as_bytes());
    key
}

pub(super) fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("records serialise to JSON")
}

pub(super) fn decode<T: DeserializeOwned>(key: &[u8], bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|source| StoreError::Decode {
        key: String::from_utf8_lossy(key).into_owned(),
        source,
    })
}

/// Text that every record a list keeps holds, exactly, in one of its text fields. The codec
/// writes such text as it is, so a backend skips a stored record whose bytes lack it without
/// decoding it; the list's own test still decides about the rest. A skipped record is not
/// decoded, so a damaged one fails only the lists it may belong to.
#[derive(Debug, Clone)]
pub struct Needle<'a>(memchr::memmem::Finder<'a>);

impl<'a> Needle<'a> {
    /// `None` for text the codec would escape (a quote, a backslash, a character below
    /// U+0020) or that is empty: it need not appear as it is.
    pub fn new(text: &'a str) -> Option<Needle<'a>> {
        let written_as_is = |b: u8| b >= 0x20 && b != b'"' && b != b'\\';
        (!text.is_empty() && text.bytes().all(written_as_is))
            .then(|| Needle(memchr::memmem::Finder::new(text)))
    }

    /// Whether a stored record may be one a list keeps: always, without a needle.
    pub(super) fn may_be_in(needle: Option<&Needle>, stored: &[u8]) -> bool {
        needle.is_none_or(|n| n.0.find(stored).is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_needle_is_text_the_codec_writes_as_it_is() {
        assert!(Needle::new("").is_none());
        for escaped in ["say \"hi\"", "a\\b", "tab\there"] {
            assert!(Needle::new(escaped).is_none(), "{escaped:?}");
        }
        let record = encode(&serde_json::json!({"model": "T54W", "label": "Büro 3"}));
        let found = |text: &str| Needle::may_be_in(Needle::new(text).as_ref(), &record);
        assert!(found("T54W") && found("Büro"));
        assert!(!found("t54w") && !found("VVX450"));
        assert!(
            Needle::may_be_in(None, &record),
            "without a needle, every record may be"
        );
    }
}
