//! What each cargo-fuzz target checks (`fuzz/fuzz_targets/`), in one place, so that the
//! regression test replaying `fuzz/regressions/` checks exactly the same. Each function takes
//! arbitrary bytes and panics only on a defect.

use crate::domain::Mac;

/// Identification from what an unauthenticated client controls: `<path>\n<user-agent bytes>`;
/// the path must be UTF-8 (hyper only hands over valid ones), the User-Agent may be any bytes.
pub fn identify(data: &[u8]) {
    let (path, user_agent) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let Ok(path) = std::str::from_utf8(path) else {
        return;
    };
    if let Some(id) = crate::provision::identify_request(path, user_agent) {
        let _ = id.vendor();
        let _ = id.model().map(|m| m.as_str().len());
        let _ = id.firmware().map(str::len);
        if let Some(mac) = id.requester_mac() {
            assert_eq!(mac.to_hex().len(), 12);
        }
    }
}

/// Strict MAC parsing and the MAC search in certificate names: any MAC either finds survives the
/// round trip through its canonical forms.
pub fn mac_parse(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(mac) = Mac::parse(text) {
        assert_eq!(Mac::parse(&mac.to_hex()), Ok(mac), "round trip of {text:?}");
        assert_eq!(Mac::parse(&mac.to_hex_upper()), Ok(mac));
    }
    if let Some(mac) = crate::client_cert::single_mac_in(text) {
        assert_eq!(Mac::parse(&mac.to_hex()), Ok(mac));
    }
}

/// Every admin request body type decoded from the bytes, the settings patch applied, and the
/// audit summary.
pub fn admin_json(data: &[u8]) {
    crate::admin::decode_every_body(data);
}
