//! Phone identification from what an unauthenticated client controls: the request path and the
//! User-Agent header. Input: `<path>\n<user-agent bytes>`; the path must be UTF-8 (hyper only
//! hands over valid ones), the User-Agent may be any bytes, as on the wire.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (path, user_agent) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let Ok(path) = std::str::from_utf8(path) else {
        return;
    };
    if let Some(id) = deskprov::provision::identify_request(path, user_agent) {
        let _ = id.vendor();
        let _ = id.model().map(|m| m.as_str().len());
        let _ = id.firmware().map(str::len);
        if let Some(mac) = id.requester_mac() {
            assert_eq!(mac.to_hex().len(), 12);
        }
    }
});
