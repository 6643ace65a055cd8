//! Strict MAC parsing and the MAC search in client certificate names; see
//! `deskprov::fuzzing::mac_parse`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| deskprov::fuzzing::mac_parse(data));
