//! Strict MAC parsing (admin API, file names, User-Agents) and the MAC search in client
//! certificate names. A parsed MAC must survive the round trip through its canonical form.
#![no_main]

use deskprov::domain::Mac;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(mac) = Mac::parse(text) {
        assert_eq!(Mac::parse(&mac.to_hex()), Ok(mac), "round trip of {text:?}");
        assert_eq!(Mac::parse(&mac.to_hex_upper()), Ok(mac));
    }
    if let Some(mac) = deskprov::client_cert::single_mac_in(text) {
        assert_eq!(Mac::parse(&mac.to_hex()), Ok(mac));
    }
});
