//! Identification of a phone request: vendor, model, firmware and MAC, from the User-Agent
//! first, then the file name, then the MAC's vendor prefix as a hint.

use crate::domain::{Mac, ModelId};
use crate::vendors::{self, FileRequest, UaInfo, Vendor};

/// User-Agents longer than this are cut before parsing; no phone sends one near it.
pub const MAX_USER_AGENT: usize = 512;

#[derive(Debug)]
pub struct Identification {
    /// What the User-Agent said, if a vendor recognised it.
    pub user_agent: Option<UaInfo>,
    /// The vendor whose file was asked for, and which file; `None` if no vendor knows the name.
    pub file: Option<(&'static dyn Vendor, FileRequest)>,
}

impl Identification {
    pub fn vendor(&self) -> Option<&'static str> {
        self.user_agent
            .as_ref()
            .map(|ua| ua.vendor)
            .or(self.file.as_ref().map(|(v, _)| v.id()))
    }

    /// The model from the User-Agent, else from the file name.
    pub fn model(&self) -> Option<&ModelId> {
        let from_name = match &self.file {
            Some((_, FileRequest::Common { hints, .. })) => hints.model.as_ref(),
            _ => None,
        };
        self.user_agent
            .as_ref()
            .and_then(|ua| ua.model.as_ref())
            .or(from_name)
    }

    pub fn firmware(&self) -> Option<&str> {
        self.user_agent.as_ref()?.firmware.as_deref()
    }

    /// The MAC of the phone that asked: from its User-Agent, else from the file it asked for.
    pub fn requester_mac(&self) -> Option<Mac> {
        self.user_agent
            .as_ref()
            .and_then(|ua| ua.mac)
            .or(match &self.file {
                Some((_, FileRequest::Device { mac })) => Some(*mac),
                _ => None,
            })
    }
}

/// Identifies a request from its User-Agent (bytes as sent) and the last segment of its path.
pub fn identify(user_agent: &[u8], file_name: &str) -> Identification {
    let user_agent = decode_user_agent(user_agent);
    let ua = vendors::ALL
        .iter()
        .find_map(|vendor| vendor.parse_user_agent(&user_agent))
        .or_else(|| vendors::others::parse_user_agent(&user_agent));
    let file = match &ua {
        Some(info) => vendors::by_id(info.vendor)
            .and_then(|vendor| vendor.classify_file(file_name).map(|file| (vendor, file))),
        None => classify_without_user_agent(file_name),
    };
    Identification {
        user_agent: ua,
        file,
    }
}

/// Without a recognised User-Agent the file name decides; where several vendors use the same
/// name pattern (`{mac}.cfg`), the MAC's vendor prefix picks one.
fn classify_without_user_agent(file_name: &str) -> Option<(&'static dyn Vendor, FileRequest)> {
    let claims: Vec<(&'static dyn Vendor, FileRequest)> = vendors::ALL
        .iter()
        .filter_map(|vendor| vendor.classify_file(file_name).map(|file| (*vendor, file)))
        .collect();
    if claims.len() <= 1 {
        return claims.into_iter().next();
    }
    let by_prefix = claims
        .iter()
        .position(|(vendor, file)| file.mac().is_some_and(|mac| vendor.owns_mac_prefix(mac)));
    by_prefix.map(|i| claims.into_iter().nth(i).expect("index from position"))
}

/// Header bytes to text: invalid UTF-8 becomes U+FFFD, and the length is bounded.
fn decode_user_agent(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    let bounded = &bytes[..bytes.len().min(MAX_USER_AGENT)];
    // Checked a word at a time first: the lossy decoder goes a byte at a time.
    match std::str::from_utf8(bounded) {
        Ok(text) => std::borrow::Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(bounded),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_agent_then_path() {
        let id = identify(
            b"Yealink SIP-T46S 66.86.0.15 00:15:65:aa:bb:cc",
            "001565aabbcc.cfg",
        );
        assert_eq!(id.vendor(), Some("yealink"));
        assert_eq!(id.model().unwrap().as_str(), "T46S");
        assert_eq!(id.requester_mac().unwrap().to_hex(), "001565aabbcc");
    }

    #[test]
    fn path_alone_identifies_vendor_and_mac() {
        let id = identify(b"", "001565aabbcc.cfg");
        assert_eq!(id.vendor(), Some("yealink"));
        assert_eq!(id.model(), None);
        assert_eq!(id.requester_mac().unwrap().to_hex(), "001565aabbcc");
    }

    #[test]
    fn ua_mac_is_the_requester_even_when_path_names_another() {
        let id = identify(
            b"Yealink SIP-T46S 66.86.0.15 001565000001",
            "001565000002.cfg",
        );
        assert_eq!(id.requester_mac().unwrap().to_hex(), "001565000001");
        assert!(
            matches!(id.file, Some((_, FileRequest::Device { mac })) if mac.to_hex() == "001565000002")
        );
    }

    #[test]
    fn non_utf8_user_agent_is_survived() {
        let id = identify(
            b"Yealink SIP-T46S \xff\xfe 001565aabbcc",
            "y000000000066.cfg",
        );
        assert_eq!(id.vendor(), Some("yealink"));
        assert_eq!(id.requester_mac().unwrap().to_hex(), "001565aabbcc");
        let huge = vec![b'A'; 100_000];
        assert_eq!(identify(&huge, "x").vendor(), None);
    }

    #[test]
    fn unknown_files() {
        assert!(
            identify(b"Yealink SIP-T46S 66.86.0.15 001565aabbcc", "favicon.ico")
                .file
                .is_none()
        );
    }
}
