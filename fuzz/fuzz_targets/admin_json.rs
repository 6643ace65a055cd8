//! Every admin API request body type, decoded from arbitrary bytes; see
//! `deskprov::fuzzing::admin_json`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| deskprov::fuzzing::admin_json(data));
