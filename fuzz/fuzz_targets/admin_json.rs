//! Every admin API request body type, decoded from arbitrary bytes, plus the settings patch
//! applied and the audit summary; see `deskprov::admin::decode_every_body`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    deskprov::admin::decode_every_body(data);
});
